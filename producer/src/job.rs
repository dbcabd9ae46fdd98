//! A job before it is submitted: the scene files read and checked, the image split into
//! tiles and passes, the output path decided. Everything that can be wrong with the input is
//! found here, before any task exists or any file is written.

use crate::cli::SubmitArgs;
use render::scene::BuildOptions;
use shared::blob::{sha256_hex, Blobs};
use shared::plan;
use shared::protocol::{
    self, keys, AssetFile, JobId, JobManifest, Message, Record, RenderParams, SceneFile,
    PROTOCOL_VERSION,
};
use shared::queue::Queue;
use std::path::{Path, PathBuf};

pub struct PreparedJob {
    pub manifest: JobManifest,
    /// Each scene file with its bytes, in order.
    pub files: Vec<(SceneFile, Vec<u8>)>,
    /// Each referenced file with its bytes, once by the name the scene wrote.
    pub assets: Vec<(AssetFile, std::sync::Arc<[u8]>)>,
    pub out: PathBuf,
    pub warnings: Vec<String>,
}

/// What a publish stored, for the submit summary.
#[derive(Debug, Default, Clone, Copy)]
pub struct Published {
    /// Referenced files stored now; the others were in the blob store already.
    pub assets_uploaded: u64,
    pub asset_bytes_uploaded: u64,
}

impl PreparedJob {
    /// Publishes the job, the same way embedded and on a farm: scene files content-addressed
    /// (each stored once, whoever submits it), with `upload_assets` the referenced files
    /// likewise (embedded workers read them in place instead), the manifest, then every task.
    pub async fn publish(
        &self,
        queue: &dyn Queue,
        blobs: &Blobs,
        task_queue: &str,
        upload_assets: bool,
    ) -> anyhow::Result<Published> {
        for (file, bytes) in &self.files {
            let key = keys::scene(&file.sha256);
            if !blobs.exists(&key).await? {
                blobs.put(&key, bytes.clone()).await?;
            }
        }
        let mut published = Published::default();
        for (file, bytes) in self.assets.iter().filter(|_| upload_assets) {
            let key = keys::asset(&file.sha256);
            if !blobs.exists(&key).await? {
                blobs.put(&key, bytes.to_vec()).await?;
                published.assets_uploaded += 1;
                published.asset_bytes_uploaded += file.size;
            }
        }
        blobs
            .put(
                &keys::manifest(&self.manifest.job),
                self.manifest.to_bytes(),
            )
            .await?;
        for task in plan::tasks(&self.manifest) {
            queue
                .publish(task_queue, protocol::encode(&Message::Task(task)))
                .await?;
        }
        Ok(published)
    }
}

pub fn prepare(args: &SubmitArgs) -> anyhow::Result<PreparedJob> {
    let mut files = Vec::new();
    let mut sources = Vec::new();
    for source in crate::convert::read_sources(&args.scenes)? {
        files.push((
            SceneFile {
                name: source.name.clone(),
                sha256: sha256_hex(&source.text),
            },
            source.text.clone(),
        ));
        sources.push(source);
    }
    let env: Vec<(String, String)> = args
        .allow_env
        .iter()
        .filter_map(|name| std::env::var(name).ok().map(|v| (name.clone(), v)))
        .collect();
    // What `render::prepare` does, with the referenced files read in between: the graph says
    // which files, the scene is built with their bytes.
    let load = render::rdla::LoadOptions {
        env: env.clone(),
        ..render::rdla::LoadOptions::default()
    };
    let graph = render::rdla::load(&sources, &load).map_err(render::PrepareError::from)?;
    let found = crate::assets::gather(&graph, args.allow_missing)?;
    let opts = BuildOptions {
        res: args.res,
        assets: found.assets(),
    };
    let (scene, mut warnings) =
        render::scene::build(&graph, &opts).map_err(render::PrepareError::from)?;
    warnings.extend(found.warnings);
    let spp = args.spp.unwrap_or(scene.settings.spp);
    let out = match &args.out {
        Some(o) => o.clone(),
        None => match &scene.output_file {
            Some(f) => PathBuf::from(f),
            None => default_output(&args.scenes[0]),
        },
    };
    check_output_folder(&out)?;
    let manifest = JobManifest {
        version: PROTOCOL_VERSION,
        job: JobId::new(),
        frame: args.frame.unwrap_or(scene.frame),
        params: RenderParams {
            scene: files.iter().map(|(f, _)| f.clone()).collect(),
            res: args.res,
            width: scene.width,
            height: scene.height,
            env,
            assets: found.files.iter().map(|(f, _)| f.clone()).collect(),
        },
        tiles: plan::tiles(scene.width, scene.height, args.tile_size),
        passes: plan::passes(spp, args.passes),
        output_name: out.display().to_string(),
        submitted_unix: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    };
    Ok(PreparedJob {
        manifest,
        files,
        assets: found.files,
        out,
        warnings,
    })
}

fn default_output(scene: &Path) -> PathBuf {
    let stem = scene
        .file_stem()
        .map_or_else(|| "render".into(), |s| s.to_string_lossy().into_owned());
    PathBuf::from(format!("{stem}.exr"))
}

fn check_output_folder(out: &Path) -> anyhow::Result<()> {
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        anyhow::bail!(
            "output {}: folder {} does not exist; create it or choose another -o",
            out.display(),
            dir.display()
        );
    }
    if out.is_dir() {
        anyhow::bail!(
            "output {} is a folder; give a file name such as {}/render.exr",
            out.display(),
            out.display()
        );
    }
    Ok(())
}

/// The snapshot file kept beside the output while a render runs: `out.exr` -> `out.snapshot.exr`.
pub fn snapshot_path(out: &Path) -> PathBuf {
    let stem = out
        .file_stem()
        .map_or_else(|| "render".into(), |s| s.to_string_lossy().into_owned());
    out.with_file_name(format!("{stem}.snapshot.exr"))
}
