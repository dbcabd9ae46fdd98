//! A job before it is submitted: the scene files read and checked, the image split into
//! tiles and passes, the output path decided. Everything that can be wrong with the input is
//! found here, before any task exists or any file is written.

use crate::cli::SubmitArgs;
use render::scene::BuildOptions;
use shared::blob::{sha256_hex, Blobs};
use shared::plan;
use shared::protocol::{
    self, keys, AssetFile, FramePlan, JobId, JobManifest, Message, Record, RenderParams, SceneFile,
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
    /// The output; a sequence's has its frame pattern (`beauty.####.exr`).
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

    /// Publishes every task of the job, frame by frame, so that a long sequence's tasks are
    /// never all in memory at once, onto the queue of the job's level (`shared::priority`).
    pub async fn publish_tasks(&self, queue: &dyn Queue, task_queue: &str) -> anyhow::Result<()> {
        let task_queue = &self.manifest.priority.queue(task_queue);
        for frame in self.manifest.frame_plans().iter() {
            for task in plan::frame_tasks(&self.manifest, frame) {
                queue
                    .publish(task_queue, protocol::encode(&Message::Task(task)))
                    .await?;
            }
        }
        Ok(())
    }
}

/// One frame's scene as read at submit: its files, the graph they load to, what it references.
struct LoadedFrame {
    frame: Option<i32>,
    files: Vec<(SceneFile, Vec<u8>)>,
    graph: render::graph::SceneGraph,
    found: crate::assets::Found,
}

pub fn prepare(args: &SubmitArgs) -> anyhow::Result<PreparedJob> {
    let limits = &args.limits;
    // The scene files' size, before they are read (of a sequence, the first frame's).
    let mut scene_bytes = 0u64;
    for path in &args.scenes {
        if let Ok(meta) = std::fs::metadata(path) {
            scene_bytes += meta.len();
        }
    }
    limits
        .scene_bytes(scene_bytes)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.scenes[0].display()))?;
    let frames = crate::frames::plan(args)?;
    let rdla_set = crate::frames::rdla_set(&args.rdla_set)?;
    let env: Vec<(String, String)> = args
        .allow_env
        .iter()
        .filter_map(|name| std::env::var(name).ok().map(|v| (name.clone(), v)))
        .collect();
    let lua = render::LuaLimits {
        instructions: args.lua_instructions,
        memory_bytes: usize::try_from(args.lua_memory << 20).unwrap_or(usize::MAX),
    };
    let lua_wire = shared::protocol::LuaLimits {
        instructions: lua.instructions,
        memory_bytes: lua.memory_bytes as u64,
    };
    limits.lua(&lua_wire)?;
    // Every frame is read and loaded here, so a missing frame file or a scene error of any
    // frame is found before anything is published; only the first frame's scene is built
    // (its size, samples and output file are the job's).
    let mut loaded = Vec::with_capacity(frames.len());
    for &frame in &frames {
        let paths: Vec<PathBuf> = match frame {
            Some(f) => args
                .scenes
                .iter()
                .map(|p| crate::frames::expand(p, f))
                .collect(),
            None => args.scenes.clone(),
        };
        let in_frame = |e: anyhow::Error| match frame {
            Some(f) if args.frames.is_some() => e.context(format!("frame {f}")),
            _ => e,
        };
        let sources = crate::convert::read_sources(&paths).map_err(in_frame)?;
        let files = sources
            .iter()
            .map(|s| {
                let file = SceneFile {
                    name: s.name.clone(),
                    sha256: sha256_hex(&s.text),
                };
                (file, s.text.clone())
            })
            .collect();
        let inputs = render::FrameInputs {
            env: env.clone(),
            limits: lua,
            // The scene's `print` once, not once per frame.
            echo_print: loaded.is_empty(),
            frame,
            rdla_set: rdla_set.clone(),
        };
        // What `render::prepare_frame` does, with the referenced files read in between: the
        // graph says which files, the scene is built with their bytes.
        let graph =
            render::load_frame(&sources, &inputs).map_err(|e| in_frame(anyhow::Error::from(e)))?;
        let found = crate::assets::gather(&graph, args.allow_missing).map_err(in_frame)?;
        loaded.push(LoadedFrame {
            frame,
            files,
            graph,
            found,
        });
    }
    let first = &loaded[0];
    let opts = BuildOptions {
        res: args.res,
        assets: first.found.assets(),
        reported_missing: first.found.missing.clone(),
    };
    let (scene, mut warnings) =
        render::scene::build(&first.graph, &opts).map_err(render::PrepareError::from)?;
    // Adaptive sampling: the scene's (sampling_mode 2) or `--adaptive-error`'s, MoonRay's
    // defaults where the scene gives none; `--spp` is then the most samples a pixel takes.
    let adaptive = match (scene.settings.adaptive, args.adaptive_error) {
        (None, None) => None,
        (a, e) => {
            let mut adaptive = a.map_or_else(shared::adaptive::Adaptive::default, |a| {
                shared::adaptive::Adaptive {
                    min_samples: a.min_samples,
                    max_samples: a.max_samples,
                    target_error: a.target_error,
                }
            });
            if let Some(e) = e {
                adaptive.target_error = e;
            }
            if let Some(max) = args.spp {
                adaptive.max_samples = max;
                adaptive.min_samples = adaptive.min_samples.min(max);
            }
            Some(adaptive)
        }
    };
    let spp = match adaptive {
        Some(a) => a.max_samples,
        None => args.spp.unwrap_or(scene.settings.spp),
    };
    // Before any buffer of the image's size exists (the merger holds 32 bytes per pixel).
    let scene_name = args.scenes[0].display();
    limits
        .pixels(scene.width, scene.height)
        .map_err(|e| anyhow::anyhow!("{scene_name}: {e}"))?;
    limits
        .spp(spp)
        .map_err(|e| anyhow::anyhow!("{scene_name}: {e}"))?;
    let sequence = args.frames.is_some();
    let out = match &args.out {
        Some(o) => o.clone(),
        None if sequence => match scene.output_file.as_deref().map(Path::new) {
            Some(f) if crate::frames::has_pattern(f) => f.to_path_buf(),
            _ => crate::frames::default_sequence_output(&args.scenes[0]),
        },
        None => match &scene.output_file {
            Some(f) => PathBuf::from(f),
            None => default_output(&args.scenes[0]),
        },
    };
    crate::frames::check_output(&out, frames.len())?;
    OutputFormat::of(&out)?;
    check_output_folder(&out)?;
    let params = |f: &LoadedFrame| RenderParams {
        scene: f.files.iter().map(|(file, _)| file.clone()).collect(),
        res: args.res,
        width: scene.width,
        height: scene.height,
        env: env.clone(),
        assets: f.found.files.iter().map(|(a, _)| a.clone()).collect(),
        lua: Some(lua_wire),
        frame: f.frame,
        rdla_set: rdla_set.clone(),
        adaptive,
    };
    let plans: Vec<FramePlan> = if sequence {
        loaded
            .iter()
            .map(|f| {
                let n = f.frame.expect("a sequence's frames have numbers");
                FramePlan {
                    frame: n,
                    params: params(f),
                    output_name: crate::frames::expand(&out, n).display().to_string(),
                }
            })
            .collect()
    } else {
        vec![]
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let manifest = JobManifest {
        version: PROTOCOL_VERSION,
        job: JobId::new(),
        frame: first.frame.or(args.frame).unwrap_or(scene.frame),
        params: params(first),
        tiles: plan::tiles(scene.width, scene.height, args.tile_size),
        // An adaptive job's passes double from the minimum (`Adaptive::passes`); --passes is
        // a uniform job's.
        passes: adaptive.map_or_else(|| plan::passes(spp, args.passes), |a| a.passes()),
        output_name: out.display().to_string(),
        submitted_unix: now.as_secs(),
        settings: shared::protocol::JobSettings {
            tile_size: args.tile_size,
            passes: args.passes,
            submitted_unix_ms: now.as_millis() as u64,
        },
        frames: plans,
        price_per_core_hour: args.price_per_core_hour,
        priority: crate::cli::priority(args)?,
    };
    // What the worker and the merger will check again, so that a job they would refuse is
    // refused here instead, before anything is published.
    limits
        .manifest(&manifest)
        .map_err(|e| anyhow::anyhow!("{scene_name}: {e}"))?;
    if let Some(task) = plan::tasks(&manifest).into_iter().next() {
        let bytes = protocol::encode(&Message::Task(task)).len();
        limits
            .message_bytes(bytes)
            .map_err(|e| anyhow::anyhow!("{scene_name}: a task message: {e}"))?;
    }
    // Each scene file and referenced file once, however many frames share it.
    let mut files: Vec<(SceneFile, Vec<u8>)> = Vec::new();
    let mut assets: Vec<(AssetFile, std::sync::Arc<[u8]>)> = Vec::new();
    for f in loaded {
        for w in f.found.warnings {
            if !warnings.contains(&w) {
                warnings.push(w);
            }
        }
        for file in f.files {
            if !files.iter().any(|(g, _)| g.sha256 == file.0.sha256) {
                files.push(file);
            }
        }
        for a in f.found.files {
            if !assets.iter().any(|(b, _)| *b == a.0) {
                assets.push(a);
            }
        }
    }
    Ok(PreparedJob {
        manifest,
        files,
        assets,
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
