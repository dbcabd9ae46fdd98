//! The farm's limits: how big an image, a job, a message or a partial may be, and how long a
//! task may render. One table of defaults (README, "Limits"), each a flag and a variable of
//! every binary. The producer checks them at submit, and the worker and the merger check them
//! again on what they read, since a message can be written by anyone who can publish.

use crate::names;

/// Every limit, flattened into each binary's command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Args)]
pub struct Limits {
    /// Most pixels in one image (width x height, after --res).
    #[arg(long, env = "MOONFARM_MAX_PIXELS", default_value_t = DEFAULTS.max_pixels, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_pixels: u64,
    /// Most samples per pixel.
    #[arg(long, env = "MOONFARM_MAX_SPP", default_value_t = DEFAULTS.max_spp, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_spp: u32,
    /// Most tile-pass tasks in one job.
    #[arg(long, env = "MOONFARM_MAX_TASKS", default_value_t = DEFAULTS.max_tasks, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_tasks: u64,
    /// Most bytes of scene files (all of a job's together).
    #[arg(long, env = "MOONFARM_MAX_SCENE_BYTES", default_value_t = DEFAULTS.max_scene_bytes, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_scene_bytes: u64,
    /// Most Lua instructions a job may ask its scene to be loaded with (--lua-instructions).
    #[arg(long, env = "MOONFARM_MAX_LUA_INSTRUCTIONS", default_value_t = DEFAULTS.max_lua_instructions, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_lua_instructions: u64,
    /// Most Lua memory, in MiB, a job may ask its scene to be loaded with (--lua-memory).
    #[arg(long, env = "MOONFARM_MAX_LUA_MEMORY", value_name = "MIB", default_value_t = DEFAULTS.max_lua_memory_mib, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_lua_memory_mib: u64,
    /// Most bytes of one queue message.
    #[arg(long, env = "MOONFARM_MAX_MESSAGE_BYTES", default_value_t = DEFAULTS.max_message_bytes, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_message_bytes: u64,
    /// Most bytes of one task's partial buffer.
    #[arg(long, env = "MOONFARM_MAX_PARTIAL_BYTES", default_value_t = DEFAULTS.max_partial_bytes, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_partial_bytes: u64,
    /// Most seconds one task may render; a task past it fails (the scene is too heavy for its
    /// tiles: submit with smaller --tile-size or more --passes).
    #[arg(long, env = "MOONFARM_MAX_TASK_SECONDS", default_value_t = DEFAULTS.max_task_seconds, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_task_seconds: u64,
}

/// The defaults: large enough for any real frame (an 8K frame is 33 Mpx; MoonRay's own
/// production scenes stay below 16k spp), small enough that one job cannot exhaust a worker
/// or the merger (the merger holds 32 bytes per pixel: 64 Mpx is 2 GiB).
pub const DEFAULTS: Limits = Limits {
    max_pixels: 1 << 26,
    max_spp: 1 << 16,
    max_tasks: 1_000_000,
    max_scene_bytes: 1 << 30,
    max_lua_instructions: 100_000_000_000,
    max_lua_memory_mib: 16 << 10,
    max_message_bytes: 16 << 20,
    max_partial_bytes: 1 << 30,
    max_task_seconds: 6 * 3600,
};

impl Default for Limits {
    fn default() -> Self {
        DEFAULTS
    }
}

/// What exceeds which limit, in one line naming the flag that raises it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} is {value}, over the limit of {limit} (raise it with --{flag} or MOONFARM_{env})")]
pub struct OverLimit {
    pub what: String,
    pub value: u64,
    pub limit: u64,
    pub flag: &'static str,
    pub env: &'static str,
}

/// A job or task that is inconsistent in itself (a tile outside the image), or over a limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    #[error(transparent)]
    Over(#[from] OverLimit),
    #[error(transparent)]
    Name(#[from] names::BadName),
    #[error("{0}")]
    Malformed(String),
}

fn at_most(what: &str, value: u64, limit: u64, flag: &'static str) -> Result<(), OverLimit> {
    if value <= limit {
        return Ok(());
    }
    Err(OverLimit {
        what: what.to_string(),
        value,
        limit,
        flag,
        env: match flag {
            "max-pixels" => "MAX_PIXELS",
            "max-spp" => "MAX_SPP",
            "max-tasks" => "MAX_TASKS",
            "max-scene-bytes" => "MAX_SCENE_BYTES",
            "max-lua-instructions" => "MAX_LUA_INSTRUCTIONS",
            "max-lua-memory" => "MAX_LUA_MEMORY",
            "max-message-bytes" => "MAX_MESSAGE_BYTES",
            "max-partial-bytes" => "MAX_PARTIAL_BYTES",
            _ => "MAX_TASK_SECONDS",
        },
    })
}

/// Bytes of a partial buffer of `pixels` pixels: RGBA and weight as f32 (`exr_io`), with room
/// for the EXR header.
pub fn partial_bytes(pixels: u64) -> u64 {
    pixels.saturating_mul(5 * 4).saturating_add(64 << 10)
}

impl Limits {
    /// `key = value` lines for `--check-config`.
    pub fn describe(&self) -> String {
        [
            format!("max_pixels = {}", self.max_pixels),
            format!("max_spp = {}", self.max_spp),
            format!("max_tasks = {}", self.max_tasks),
            format!("max_scene_bytes = {}", self.max_scene_bytes),
            format!("max_lua_instructions = {}", self.max_lua_instructions),
            format!("max_lua_memory_mib = {}", self.max_lua_memory_mib),
            format!("max_message_bytes = {}", self.max_message_bytes),
            format!("max_partial_bytes = {}", self.max_partial_bytes),
            format!("max_task_seconds = {}", self.max_task_seconds),
        ]
        .join("\n")
    }

    pub fn pixels(&self, width: u32, height: u32) -> Result<(), OverLimit> {
        let px = u64::from(width) * u64::from(height);
        at_most(
            &format!("the pixel count of the image {width}x{height}"),
            px,
            self.max_pixels,
            "max-pixels",
        )
    }

    pub fn spp(&self, spp: u32) -> Result<(), OverLimit> {
        at_most(
            "samples per pixel",
            spp.into(),
            self.max_spp.into(),
            "max-spp",
        )
    }

    pub fn tasks(&self, tasks: u64) -> Result<(), OverLimit> {
        at_most("tasks in the job", tasks, self.max_tasks, "max-tasks")
    }

    pub fn scene_bytes(&self, bytes: u64) -> Result<(), OverLimit> {
        at_most(
            "the scene files' size in bytes",
            bytes,
            self.max_scene_bytes,
            "max-scene-bytes",
        )
    }

    pub fn message_bytes(&self, bytes: usize) -> Result<(), OverLimit> {
        at_most(
            "the message's size in bytes",
            bytes as u64,
            self.max_message_bytes,
            "max-message-bytes",
        )
    }

    pub fn partial(&self, bytes: u64) -> Result<(), OverLimit> {
        at_most(
            "the partial buffer's size in bytes",
            bytes,
            self.max_partial_bytes,
            "max-partial-bytes",
        )
    }

    /// The loader limits a job asks for.
    pub fn lua(&self, lua: &crate::protocol::LuaLimits) -> Result<(), OverLimit> {
        at_most(
            "the job's Lua instruction limit",
            lua.instructions,
            self.max_lua_instructions,
            "max-lua-instructions",
        )?;
        at_most(
            "the job's Lua memory limit in MiB",
            lua.memory_bytes >> 20,
            self.max_lua_memory_mib,
            "max-lua-memory",
        )
    }
}

impl Limits {
    /// A manifest (written by a producer, read back by the merger): its image, samples, tasks
    /// and loader limits within the limits, and every tile and pass inside the image.
    pub fn manifest(&self, m: &crate::protocol::JobManifest) -> Result<(), LimitError> {
        self.params(&m.params)?;
        // The user's own `-o` may climb (`../renders/x.exr`); `producer fetch` checks the
        // name it reads back with `names::output_name` before writing there.
        names::text_name("output", &m.output_name)?;
        for f in &m.frames {
            self.params(&f.params)?;
            names::text_name("frame output", &f.output_name)?;
        }
        self.spp(m.spp())?;
        self.tasks(m.task_count() as u64)?;
        for r in &m.tiles {
            rect_inside(r, m.params.width, m.params.height)?;
            self.partial(partial_bytes(r.pixel_count() as u64))?;
        }
        let mut next = 0;
        for p in &m.passes {
            if p.start != next || p.is_empty() {
                return Err(LimitError::Malformed(format!(
                    "pass {}..{} does not follow the pass before it (ending at {next})",
                    p.start, p.end
                )));
            }
            next = p.end;
        }
        Ok(())
    }

    /// A task message (anyone who can publish may have written it): the same checks on its
    /// image, rectangle and samples as its manifest had at submit.
    pub fn task(&self, t: &crate::protocol::TilePassTask) -> Result<(), LimitError> {
        self.params(&t.params)?;
        rect_inside(&t.rect, t.params.width, t.params.height)?;
        self.partial(partial_bytes(t.rect.pixel_count() as u64))?;
        if t.samples.is_empty() {
            return Err(LimitError::Malformed(format!(
                "samples {}..{} is empty",
                t.samples.start, t.samples.end
            )));
        }
        self.spp(t.samples.end)?;
        Ok(())
    }

    fn params(&self, p: &crate::protocol::RenderParams) -> Result<(), LimitError> {
        self.pixels(p.width, p.height)?;
        // Names that become blob keys and lookup keys (`crate::names`), before any is used.
        for f in &p.scene {
            names::text_name("scene file", &f.name)?;
            names::content_hash("scene file", &f.sha256)?;
        }
        for a in &p.assets {
            names::text_name("referenced file", &a.name)?;
            names::content_hash("referenced file", &a.sha256)?;
        }
        if let Some(lua) = &p.lua {
            self.lua(lua)?;
        }
        if !(p.res.is_finite() && p.res > 0.0) {
            return Err(LimitError::Malformed(format!(
                "resolution divisor {} is not a positive number",
                p.res
            )));
        }
        Ok(())
    }
}

fn rect_inside(r: &crate::protocol::Rect, width: u32, height: u32) -> Result<(), LimitError> {
    if r.x0 >= r.x1 || r.y0 >= r.y1 || r.x1 > width || r.y1 > height {
        return Err(LimitError::Malformed(format!(
            "tile ({}, {})..({}, {}) is empty or outside the {width}x{height} image",
            r.x0, r.y0, r.x1, r.y1
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{JobId, LuaLimits, Rect, RenderParams, SampleRange, TilePassTask};

    fn task(width: u32, height: u32, rect: Rect, samples: SampleRange) -> TilePassTask {
        TilePassTask {
            job: JobId::new(),
            frame: 0,
            tile: 0,
            rect,
            pass: 0,
            samples,
            params: RenderParams {
                scene: vec![],
                res: 1.0,
                width,
                height,
                env: vec![],
                assets: vec![],
                lua: Some(LuaLimits {
                    instructions: 1000,
                    memory_bytes: 1 << 20,
                }),
                frame: None,
                rdla_set: vec![],
                adaptive: None,
            },
        }
    }

    /// A hand-made task naming files by anything but their content hash, or with a control
    /// character in a name, is refused before a worker fetches a blob for it.
    #[test]
    fn tasks_whose_file_names_could_become_other_keys_are_refused() {
        let rect = Rect {
            x0: 0,
            y0: 0,
            x1: 8,
            y1: 8,
        };
        let ok = task(8, 8, rect, SampleRange { start: 0, end: 1 });
        let hash = "0f".repeat(32);
        let mut t = ok.clone();
        t.params.scene = vec![crate::protocol::SceneFile {
            name: "shot.rdla".into(),
            sha256: "../jobs/j1/manifest.msgpack".into(),
        }];
        let e = Limits::default().task(&t).unwrap_err().to_string();
        assert!(
            e.starts_with("scene file \"../jobs") && e.contains("SHA-256"),
            "{e}"
        );
        let mut t = ok.clone();
        t.params.assets = vec![crate::protocol::AssetFile {
            name: "tex\0.png".into(),
            sha256: hash.clone(),
            size: 1,
        }];
        let e = Limits::default().task(&t).unwrap_err().to_string();
        assert!(e.contains("control character"), "{e}");
        t.params.assets[0].name = "tex/brick.png".into();
        assert_eq!(Limits::default().task(&t), Ok(()));
    }

    #[test]
    fn tasks_past_a_limit_or_outside_their_image_are_refused_with_the_flag_to_raise() {
        let l = Limits::default();
        let r = |x1, y1| Rect {
            x0: 0,
            y0: 0,
            x1,
            y1,
        };
        let s = |start, end| SampleRange { start, end };
        assert_eq!(l.task(&task(64, 64, r(64, 64), s(0, 16))), Ok(()));
        let cases = [
            (
                task(1 << 16, 1 << 16, r(64, 64), s(0, 16)),
                "the pixel count of the image 65536x65536 is 4294967296, over the limit of 67108864 (raise it with --max-pixels or MOONFARM_MAX_PIXELS)",
            ),
            (
                task(64, 64, r(64, 64), s(0, 1 << 20)),
                "samples per pixel is 1048576, over the limit of 65536",
            ),
            (task(64, 64, r(65, 64), s(0, 1)), "outside the 64x64 image"),
            (task(64, 64, r(0, 64), s(0, 1)), "is empty or outside"),
            (task(64, 64, r(64, 64), s(5, 5)), "samples 5..5 is empty"),
        ];
        for (t, words) in cases {
            let e = l.task(&t).unwrap_err().to_string();
            assert!(e.contains(words), "{e}");
        }
        let mut greedy = task(64, 64, r(64, 64), s(0, 1));
        greedy.params.lua = Some(LuaLimits {
            instructions: u64::MAX,
            memory_bytes: 1,
        });
        assert!(l
            .task(&greedy)
            .unwrap_err()
            .to_string()
            .contains("--max-lua-instructions"));
        let tight = Limits {
            max_partial_bytes: 1000,
            ..Limits::default()
        };
        assert!(tight
            .task(&task(64, 64, r(64, 64), s(0, 1)))
            .unwrap_err()
            .to_string()
            .contains("MOONFARM_MAX_PARTIAL_BYTES"));
    }
}
