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
        let published = self.store(blobs, upload_assets).await?;
        self.publish_tasks(queue, task_queue).await?;
        Ok(published)
    }

    /// Stores what the job's tasks read (scene files, referenced files, the manifest) and
    /// publishes nothing: a scheduled job's tasks are published later, by the merger.
    pub async fn store(&self, blobs: &Blobs, upload_assets: bool) -> anyhow::Result<Published> {
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
        Ok(published)
    }

    /// Publishes every task of the job.
    pub async fn publish_tasks(&self, queue: &dyn Queue, task_queue: &str) -> anyhow::Result<()> {
        for task in plan::tasks(&self.manifest) {
            queue
                .publish(task_queue, protocol::encode(&Message::Task(task)))
                .await?;
        }
        Ok(())
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
    let limits = render::LuaLimits {
        instructions: args.lua_instructions,
        memory_bytes: usize::try_from(args.lua_memory << 20).unwrap_or(usize::MAX),
    };
    let inputs = render::FrameInputs {
        env: env.clone(),
        limits,
        echo_print: true,
        ..render::FrameInputs::default()
    };
    // What `render::prepare_frame` does, with the referenced files read in between: the graph
    // says which files, the scene is built with their bytes.
    let graph = render::load_frame(&sources, &inputs)?;
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
    OutputFormat::of(&out)?;
    check_output_folder(&out)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
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
            lua: Some(shared::protocol::LuaLimits {
                instructions: limits.instructions,
                memory_bytes: limits.memory_bytes as u64,
            }),
        },
        tiles: plan::tiles(scene.width, scene.height, args.tile_size),
        passes: plan::passes(spp, args.passes),
        output_name: out.display().to_string(),
        submitted_unix: now.as_secs(),
        settings: shared::protocol::JobSettings {
            tile_size: args.tile_size,
            passes: args.passes,
            submitted_unix_ms: now.as_millis() as u64,
        },
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

/// What an output file is, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// The full float image with its weight channel, as the farm stores it.
    Exr,
    /// An 8-bit sRGB preview.
    Png,
}

impl OutputFormat {
    /// `.exr` or `.png` (any case); any other extension is a usage error, before rendering.
    pub fn of(out: &Path) -> anyhow::Result<OutputFormat> {
        let ext = out
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        match ext.as_deref() {
            Some("exr") => Ok(OutputFormat::Exr),
            Some("png") => Ok(OutputFormat::Png),
            _ => crate::usage!(
                "output {}: the extension chooses the format, .exr (the full image) or .png (an 8-bit sRGB preview)",
                out.display()
            ),
        }
    }

    /// The file to write for a Moonfarm EXR: itself, or a PNG preview of it.
    pub fn encode(self, exr: &[u8]) -> anyhow::Result<Vec<u8>> {
        match self {
            OutputFormat::Exr => Ok(exr.to_vec()),
            OutputFormat::Png => png_preview(exr),
        }
    }
}

/// An 8-bit sRGB PNG of a Moonfarm EXR: linear RGB clamped to [0, 1], the sRGB transfer
/// curve (IEC 61966-2-1), alpha as is.
fn png_preview(exr: &[u8]) -> anyhow::Result<Vec<u8>> {
    let (img, _) = shared::exr_io::decode_image(exr)?;
    let srgb = |v: f32| -> u8 {
        let v = if v.is_finite() {
            v.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let e = if v <= 0.003_130_8 {
            12.92 * v
        } else {
            1.055 * v.powf(1.0 / 2.4) - 0.055
        };
        (e * 255.0 + 0.5) as u8
    };
    let mut rgba = Vec::with_capacity(img.rgba.len() * 4);
    for p in &img.rgba {
        rgba.extend([srgb(p[0]), srgb(p[1]), srgb(p[2])]);
        let a = if p[3].is_finite() {
            p[3].clamp(0.0, 1.0)
        } else {
            1.0
        };
        rgba.push((a * 255.0 + 0.5) as u8);
    }
    let buffer = image::RgbaImage::from_raw(img.width, img.height, rgba)
        .expect("the buffer holds width x height pixels");
    let mut out = std::io::Cursor::new(Vec::new());
    buffer.write_to(&mut out, image::ImageFormat::Png)?;
    Ok(out.into_inner())
}

/// Refuses an output whose folder is missing or that is a folder, naming the user's path.
pub fn check_output_folder(out: &Path) -> anyhow::Result<()> {
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

/// The snapshot file kept beside the output while a render runs: `out.exr` -> `out.snapshot.exr`
/// (an EXR whatever the output's format: it is the image so far, for an EXR viewer).
pub fn snapshot_path(out: &Path) -> PathBuf {
    let stem = out
        .file_stem()
        .map_or_else(|| "render".into(), |s| s.to_string_lossy().into_owned());
    out.with_file_name(format!("{stem}.snapshot.exr"))
}
