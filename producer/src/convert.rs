//! `producer convert IN... OUT`: reads RDLA and RDLB files in order into one scene graph and
//! writes it as RDLA, RDLB or, for an OUT without an extension, the split pair OUT.rdla +
//! OUT.rdlb, as MoonRay's `rdl2_convert` does.

use crate::cli::ConvertArgs;
use anyhow::Context;
use render::rdla::{LoadOptions, SceneSource};
use std::path::{Path, PathBuf};

pub fn run(args: &ConvertArgs) -> anyhow::Result<()> {
    let (out, inputs) = args
        .paths
        .split_last()
        .context("give the input files and then the output file")?;
    let sources = read_sources(inputs)?;
    let env: Vec<(String, String)> = args
        .allow_env
        .iter()
        .filter_map(|name| std::env::var(name).ok().map(|v| (name.clone(), v)))
        .collect();
    let graph = render::rdla::load(
        &sources,
        &LoadOptions {
            env,
            ..LoadOptions::default()
        },
    )?;
    for w in &graph.warnings {
        eprintln!("warning: {w}");
    }
    let ext = out.extension().map(|e| e.to_string_lossy().to_lowercase());
    let binary = |split| {
        render::rdlb::encode(&graph, split)
            .with_context(|| format!("{}: cannot write as RDLB", out.display()))
    };
    let files: Vec<(PathBuf, Vec<u8>)> = match ext.as_deref() {
        Some("rdla") => vec![(out.clone(), render::rdla::write(&graph, false).into_bytes())],
        Some("rdlb") => vec![(out.clone(), binary(false)?)],
        None => vec![
            (
                with_ext(out, "rdla"),
                render::rdla::write(&graph, true).into_bytes(),
            ),
            (with_ext(out, "rdlb"), binary(true)?),
        ],
        Some(other) => crate::usage!(
            "{}: unknown extension .{other}; write .rdla, .rdlb, or no extension for a split pair (OUT.rdla + OUT.rdlb)",
            out.display()
        ),
    };
    write_all(&files)?;
    let names: Vec<String> = files.iter().map(|(p, _)| p.display().to_string()).collect();
    println!("wrote {}", names.join(" and "));
    Ok(())
}

/// Reads scene files in order, saying which format each holds (decided by content).
pub fn read_sources(paths: &[PathBuf]) -> anyhow::Result<Vec<SceneSource>> {
    paths
        .iter()
        .map(|path| {
            let text = std::fs::read(path)
                .with_context(|| format!("cannot read scene file {}", path.display()))?;
            let name = path.display().to_string();
            tracing::info!("{name}: read as {}", format_name(&text));
            Ok(SceneSource { name, text })
        })
        .collect()
}

/// "RDLB" or "RDLA", as the loader will read these bytes.
pub fn format_name(bytes: &[u8]) -> &'static str {
    if render::rdlb::is_rdlb(bytes) {
        "RDLB"
    } else {
        "RDLA"
    }
}

fn with_ext(out: &Path, ext: &str) -> PathBuf {
    let mut name = out.as_os_str().to_owned();
    name.push(".");
    name.push(ext);
    PathBuf::from(name)
}

/// Writes every file to a temporary name first and renames them only once all are written,
/// so a failure leaves no half-written output.
fn write_all(files: &[(PathBuf, Vec<u8>)]) -> anyhow::Result<()> {
    let mut temps = Vec::new();
    for (path, bytes) in files {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let mut tmp = tempfile::NamedTempFile::new_in(dir)
            .with_context(|| format!("cannot write {}", path.display()))?;
        std::io::Write::write_all(&mut tmp, bytes)
            .with_context(|| format!("cannot write {}", path.display()))?;
        // A temporary file is private to its owner; a scene file is not.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            tmp.as_file()
                .set_permissions(std::fs::Permissions::from_mode(0o644))
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        temps.push((tmp, path));
    }
    for (tmp, path) in temps {
        tmp.persist(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}
