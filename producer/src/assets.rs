//! The files a scene references, read at submit: every `FLAGS_FILENAME` attribute value that
//! `render::assets` finds in the loaded scene graph, UDIM patterns expanded to the tiles on
//! disk, each file read once and hashed for its content-addressed blob.
//!
//! Paths resolve as MoonRay resolves them: scene_rdl2 stores a file-name attribute as the
//! string written (it has no search path for them: `lib/scene/rdl2` only searches for DSOs),
//! and moonray hands that string unchanged to OpenImageIO (`TextureSampler.cc` sets no
//! `searchpath`) or, for UDIMs, to `glob` (`UdimTexture.cc`). So a relative path is relative
//! to the working directory of the process that renders, which for a farm job is the
//! submitting user's: the producer reads relative paths against its own working directory, and
//! workers, wherever they run, get the bytes under the name as written.

use render::assets::{udim_path, udim_tiles, Assets, FileRef};
use render::graph::SceneGraph;
use shared::blob::sha256_hex;
use shared::protocol::AssetFile;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// The referenced files found, each once by the name the scene wrote.
#[derive(Default)]
pub struct Found {
    pub files: Vec<(AssetFile, Arc<[u8]>)>,
    /// Missing files that `--allow-missing` turned into warnings.
    pub warnings: Vec<String>,
    /// The names of those files (of a UDIM pattern with no tile, its first tile's, the name
    /// the scene builder looks for), so that the scene builder does not warn about them again.
    pub missing: std::collections::HashSet<String>,
}

impl Found {
    /// The bytes by name, as the scene builder takes them.
    pub fn assets(&self) -> Assets {
        self.files
            .iter()
            .map(|(f, b)| (f.name.clone(), b.clone()))
            .collect()
    }
}

/// Reads every file the scene references. A missing one is an error naming object, attribute
/// and path, unless `allow_missing`, which makes it a warning (the render goes on without it).
pub fn gather(g: &SceneGraph, allow_missing: bool) -> anyhow::Result<Found> {
    let mut found = Found::default();
    let mut seen: BTreeMap<String, ()> = BTreeMap::new();
    for r in render::assets::references(g) {
        let names = match expand(&r) {
            Ok(names) => names,
            Err(why) => {
                let msg = format!("{}: {why}", r.describe());
                if allow_missing {
                    found.warnings.push(format!("{msg}; rendering without it"));
                    found.missing.insert(if r.is_udim() {
                        render::assets::udim_path(&r.path, 1001)
                    } else {
                        r.path.clone()
                    });
                    continue;
                }
                anyhow::bail!(
                    "{msg}; put the file there (relative paths are read from the working directory, as MoonRay does) or pass --allow-missing"
                );
            }
        };
        for name in names {
            if seen.insert(name.clone(), ()).is_some() {
                continue;
            }
            match std::fs::read(&name) {
                Ok(bytes) => {
                    let file = AssetFile {
                        sha256: sha256_hex(&bytes),
                        size: bytes.len() as u64,
                        name,
                    };
                    found.files.push((file, bytes.into()));
                }
                Err(e) => {
                    let msg = format!("{}: cannot read {name}: {e}", r.describe());
                    if allow_missing {
                        found.warnings.push(format!("{msg}; rendering without it"));
                        found.missing.insert(name);
                        continue;
                    }
                    anyhow::bail!("{msg}; put the file there (relative paths are read from the working directory, as MoonRay does) or pass --allow-missing");
                }
            }
        }
    }
    Ok(found)
}

/// The file names a reference stands for: itself, or each UDIM tile present.
fn expand(r: &FileRef) -> Result<Vec<String>, String> {
    if !r.is_udim() {
        return Ok(vec![r.path.clone()]);
    }
    let dir = match Path::new(&r.path).parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => ".".into(),
    };
    let entries = std::fs::read_dir(&dir).map_err(|e| {
        format!(
            "UDIM texture {}: cannot list {}: {e}",
            r.path,
            dir.display()
        )
    })?;
    let names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    let tiles = udim_tiles(&r.path, names.iter().map(String::as_str));
    if tiles.is_empty() {
        return Err(format!(
            "UDIM texture {} has no tiles (1001, 1002, ...)",
            r.path
        ));
    }
    Ok(tiles.into_iter().map(|t| udim_path(&r.path, t)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use render::rdla::{load, LoadOptions, SceneSource};

    fn graph(text: &str) -> SceneGraph {
        let src = SceneSource {
            name: "s.rdla".into(),
            text: text.as_bytes().to_vec(),
        };
        load(&[src], &LoadOptions::default()).unwrap()
    }

    #[test]
    fn reads_each_file_once_and_expands_udims_to_the_tiles_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        std::fs::write(dir.path().join("a.png"), b"A").unwrap();
        for t in ["1001", "1002", "1004"] {
            std::fs::write(dir.path().join(format!("u.{t}.exr")), t).unwrap();
        }
        let g = graph(&format!(
            r#"ImageMap("one") {{ ["texture"] = "{d}/a.png" }}
ImageMap("two") {{ ["texture"] = "{d}/a.png" }}
ImageMap("udim") {{ ["texture"] = "{d}/u.<UDIM>.exr" }}"#
        ));
        let found = gather(&g, false).unwrap();
        let names: Vec<String> = found.files.iter().map(|(f, _)| f.name.clone()).collect();
        assert_eq!(
            names,
            [
                format!("{d}/a.png"),
                format!("{d}/u.1001.exr"),
                format!("{d}/u.1002.exr"),
                format!("{d}/u.1004.exr")
            ]
        );
        assert_eq!(found.files[0].0.sha256, sha256_hex(b"A"));
        assert_eq!(found.files[3].0.size, 4);
        assert_eq!(&*found.assets()[&format!("{d}/u.1002.exr")], b"1002");
    }

    #[test]
    fn a_missing_file_names_object_attribute_and_path_unless_allowed() {
        let g = graph(r#"ImageMap("tex") { ["texture"] = "nowhere/col.png" }"#);
        let e = gather(&g, false).err().unwrap().to_string();
        assert!(
            e.starts_with(
                "s.rdla:1: ImageMap `tex` attribute `texture`: cannot read nowhere/col.png"
            ) && e.contains("--allow-missing"),
            "{e}"
        );
        let found = gather(&g, true).unwrap();
        assert!(found.files.is_empty());
        assert_eq!(found.warnings.len(), 1);
        let g = graph(r#"ImageMap("tex") { ["texture"] = "nowhere/col.<UDIM>.png" }"#);
        assert!(gather(&g, false).is_err());
    }
}
