//! The wire protocol: every message and record that crosses a process boundary or goes into
//! a job's blobs, and the blob key layout. How a job is cut into tasks is `plan`'s.
//!
//! Only this module defines what goes on the wire. Messages are MessagePack (rmp-serde, named
//! fields so that fields can be added) inside an [`Envelope`] carrying [`PROTOCOL_VERSION`];
//! a consumer that meets another version or undecodable bytes gets a [`DecodeError`] and
//! dead-letters the message instead of guessing.

pub use crate::accounting::Tally;
/// A frame's state: the job state enum of `lifecycle` (a frame is never scheduled or paused).
pub use crate::lifecycle::JobState as FrameState;
use serde::{Deserialize, Serialize};
use std::fmt;

pub mod dispatch;
pub mod index;
pub mod schedule;
pub mod tasklog;

/// Bumped whenever a change to these types would be misread by an older peer. Version 2: jobs
/// hold frame sequences (a version-1 merger would merge every frame into one image), scenes are
/// loaded for their frame with `rdla_set`, checkpoints list (frame, tile, pass). Version 3: a
/// result covers a sample range of its tile-pass, not always the whole pass (an interrupted
/// worker reports what it rendered and puts the rest back as a task; a version-2 merger would
/// count such a piece as the whole pass), partial keys name their sample range, and checkpoints
/// list the merged and the waiting ranges.
pub const PROTOCOL_VERSION: u16 = 3;

/// A job's identity: a UUID, also the blob prefix under which the job keeps its files.
///
/// Every `JobId` went through [`JobId::parse`] (the field is private, and deserialising parses
/// too), so an id read from a command line, a message or a blob listing can never make a blob
/// key leave `jobs/<id>/`: the one place job ids are checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct JobId(String);

/// The longest job id accepted: a UUID is 36 characters; a little room for other schemes.
pub const MAX_JOB_ID_LEN: usize = 64;

/// Why a text is not a job id, in words that say what a job id is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("job id {shown}: {why}; a job id is 1 to {MAX_JOB_ID_LEN} letters, digits and dashes, as `producer submit` printed it")]
pub struct BadJobId {
    /// The text, escaped and cut to 80 characters, so that a control character or a
    /// 10,000-character argument cannot garble the one-line error.
    pub shown: String,
    pub why: &'static str,
}

impl JobId {
    pub fn new() -> JobId {
        JobId(uuid::Uuid::new_v4().to_string())
    }

    /// A job id (or a prefix of one) from text: ASCII letters, digits and `-` only, 1 to
    /// [`MAX_JOB_ID_LEN`] long. Rejects `..`, slashes, NUL and every control character by
    /// construction, since none is in the allowed set.
    pub fn parse(text: &str) -> Result<JobId, BadJobId> {
        let bad = |why| BadJobId {
            shown: shown(text),
            why,
        };
        if text.is_empty() {
            return Err(bad("empty"));
        }
        if text.len() > MAX_JOB_ID_LEN {
            return Err(bad("too long"));
        }
        if !text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(bad("holds a character other than a letter, digit or dash"));
        }
        Ok(JobId(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Untrusted text for a one-line message: escaped (`\0`, `\n`, ...) and cut to 80 characters.
pub fn shown(text: &str) -> String {
    let cut: String = text.chars().take(80).collect();
    let mut s = format!("{:?}", cut);
    if cut.len() < text.len() {
        s.push_str(&format!(" (cut, {} bytes in all)", text.len()));
    }
    s
}

impl TryFrom<String> for JobId {
    type Error = BadJobId;
    fn try_from(s: String) -> Result<JobId, BadJobId> {
        JobId::parse(&s)
    }
}

impl From<JobId> for String {
    fn from(id: JobId) -> String {
        id.0
    }
}

impl Default for JobId {
    fn default() -> Self {
        JobId::new()
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A rectangle of pixels, half-open: `x0 <= x < x1`, `y0 <= y < y1`, y down from the top row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Rect {
    pub x0: u32,
    pub y0: u32,
    pub x1: u32,
    pub y1: u32,
}

impl Rect {
    pub fn width(&self) -> u32 {
        self.x1 - self.x0
    }
    pub fn height(&self) -> u32 {
        self.y1 - self.y0
    }
    pub fn pixel_count(&self) -> usize {
        self.width() as usize * self.height() as usize
    }
}

/// A half-open range of sample indices within a pixel: `start <= i < end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SampleRange {
    pub start: u32,
    pub end: u32,
}

impl SampleRange {
    pub fn len(&self) -> u32 {
        self.end - self.start
    }
    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }
}

/// One scene file of a job, stored content-addressed in the blob store.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SceneFile {
    /// The name shown in messages (the path as the user gave it).
    pub name: String,
    /// Hex SHA-256 of the file's bytes; the blob key is derived from it.
    pub sha256: String,
}

/// One file the scene references (a texture, a geometry file...), stored content-addressed
/// under [`keys::asset`]. A UDIM pattern has one entry per tile present, named with the tile.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AssetFile {
    /// The path exactly as the scene wrote it: the worker hands the bytes to the scene under
    /// this name, so the scene text is never rewritten.
    pub name: String,
    /// Hex SHA-256 of the file's bytes; the blob key is derived from it.
    pub sha256: String,
    pub size: u64,
}

/// What a worker needs to turn scene files into the exact image the job asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RenderParams {
    pub scene: Vec<SceneFile>,
    /// Resolution divisor, as MoonRay's `-res`; 1.0 renders the scene's own size.
    pub res: f64,
    /// Final image size after `res`, so a worker can check it built the same scene.
    pub width: u32,
    pub height: u32,
    /// Environment variables the scene may read through `os.getenv`, with their values as the
    /// submitting user had them; workers never expose their own environment.
    pub env: Vec<(String, String)>,
    /// Every file the scene references that was found at submit, each once. Absent in records
    /// of older producers, which shipped none.
    #[serde(default)]
    pub assets: Vec<AssetFile>,
    /// The scene loader's limits the job was submitted with (`--lua-instructions`,
    /// `--lua-memory`); absent in a job of an older producer, which means the defaults.
    #[serde(default)]
    pub lua: Option<LuaLimits>,
    /// The frame the scene is loaded for, in a sequence: the Lua global `frame`, and
    /// `SceneVariables.frame` unless the scene sets it. None loads the scene as it is.
    #[serde(default)]
    pub frame: Option<i32>,
    /// `--rdla-set NAME=VALUE`, in order: `NAME = VALUE` runs before any scene file, as
    /// `moonray -rdla_set NAME VALUE`.
    #[serde(default)]
    pub rdla_set: Vec<(String, String)>,
    /// Adaptive sampling (the scene's `sampling_mode` 2, or `--adaptive-error`): each tile's
    /// passes go on only until its error is under the target, and partials carry the
    /// odd-numbered samples' sums. None (and absent in older records): uniform sampling, whose
    /// partials have no such channels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adaptive: Option<crate::adaptive::Adaptive>,
}

/// One frame of a sequence: its own scene files (`shot.####.rdla`) and loading, its own image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FramePlan {
    pub frame: i32,
    pub params: RenderParams,
    /// The image's file name as the user asked for it, pattern expanded (`beauty.0007.exr`).
    pub output_name: String,
}

/// The scene loader's limits, as `producer submit` was given them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LuaLimits {
    pub instructions: u64,
    pub memory_bytes: u64,
}

/// The unit of work: a rectangle of pixels times a range of sample indices of one frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TilePassTask {
    pub job: JobId,
    pub frame: i32,
    /// Index into the job manifest's `tiles`.
    pub tile: u32,
    pub rect: Rect,
    /// Index into the job manifest's `passes`.
    pub pass: u32,
    pub samples: SampleRange,
    pub params: RenderParams,
}

impl TilePassTask {
    /// The blob key of this task's partial buffer. Derived only from (job, frame, tile, pass,
    /// samples) so that a redelivered task overwrites the same blob instead of adding a second
    /// one.
    pub fn partial_key(&self) -> String {
        self.piece_key(self.samples)
    }

    /// The blob key of the partial of `samples`, a part of this task's range that a worker
    /// rendered before it was stopped.
    pub fn piece_key(&self, samples: SampleRange) -> String {
        keys::partial(&self.job, self.frame, self.tile, self.pass, samples)
    }

    /// What is left of the task from sample `from` on: the task an interrupted worker puts
    /// back on the queue for another worker to finish (a new message, so it starts at the
    /// first delivery and uses none of the queue's delivery limit).
    pub fn rest(&self, from: u32) -> TilePassTask {
        TilePassTask {
            samples: SampleRange {
                start: from.clamp(self.samples.start, self.samples.end),
                end: self.samples.end,
            },
            ..self.clone()
        }
    }
}

/// What a worker reports after a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TilePassResult {
    pub job: JobId,
    pub frame: i32,
    pub tile: u32,
    pub pass: u32,
    /// The sample range the result covers: the task's whole range, or, from a worker stopped
    /// mid-task, the samples it rendered before it stopped (its task's first samples; the rest
    /// went back to the queue as a task of their own). The merger merges a tile-pass once the
    /// ranges it holds cover the pass, each range at most once.
    pub samples: SampleRange,
    /// The worker was stopped before the task's end: `samples` is a part of its range.
    #[serde(default)]
    pub interrupted: bool,
    pub outcome: TaskOutcome,
    /// Which worker did it (host name or process id), for logs and status.
    pub worker: String,
    pub render_seconds: f64,
    /// Samples taken (pixels times samples per pixel) for samples-per-second figures.
    pub samples_taken: u64,
    /// CPU time the task used in this attempt (scene preparation, render, encoding), summed
    /// over the threads that did it: the job's core-seconds.
    #[serde(default)]
    pub cpu_seconds: f64,
    /// Which delivery of the task this was (1 = the first): more means it was retried.
    #[serde(default = "first_attempt")]
    pub attempt: u32,
}

fn first_attempt() -> u32 {
    1
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TaskOutcome {
    /// The partial buffer is stored under this blob key, and travels in the message too when
    /// it is small (`partial`): the merger then merges it without downloading it. The stored
    /// blob is what a restarted merger rebuilds from and what a piece waiting for the rest of
    /// its pass is read back from. A result without `partial` (a large tile, or a worker of
    /// an earlier build) is read from the store; a reader that does not know the field
    /// ignores it.
    Rendered {
        partial_key: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        partial: Option<bytes::Bytes>,
    },
    /// The task cannot succeed (for example the scene fails to load): the job is failed.
    Failed { reason: String },
}

impl TaskOutcome {
    /// A partial stored under `partial_key` only (the merger downloads it).
    pub fn rendered(partial_key: impl Into<String>) -> TaskOutcome {
        TaskOutcome::Rendered {
            partial_key: partial_key.into(),
            partial: None,
        }
    }
}

/// Control messages for a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum JobControl {
    Cancel { job: JobId },
}

/// Everything a message can be.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Message {
    Task(TilePassTask),
    Result(TilePassResult),
    Control(JobControl),
}

/// A message on the wire: the message with the protocol version beside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Envelope {
    version: u16,
    message: Message,
}

impl Record for Envelope {
    const WHAT: &'static str = "message";
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error(
        "protocol version {found} is not supported (this build speaks version {PROTOCOL_VERSION})"
    )]
    Version { found: u16 },
    #[error("undecodable {what} ({len} bytes): {reason}")]
    Garbage {
        what: &'static str,
        len: usize,
        reason: String,
    },
}

/// The one codec of every record that crosses a process boundary (the message envelope, the
/// manifest, the status, the checkpoint, the stop marker): MessagePack with named fields, the
/// record's `version` field at the top level, and that version checked before the rest is read.
pub trait Record: Serialize + serde::de::DeserializeOwned {
    /// What the record is, for error messages.
    const WHAT: &'static str;

    fn to_bytes(&self) -> Vec<u8> {
        rmp_serde::to_vec_named(self).expect("protocol records always serialise")
    }

    fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        // Read the version alone first, so that a newer peer's record is reported as a version
        // problem rather than as garbage.
        #[derive(Deserialize)]
        struct VersionOnly {
            version: u16,
        }
        let garbage = |e: rmp_serde::decode::Error| DecodeError::Garbage {
            what: Self::WHAT,
            len: bytes.len(),
            reason: e.to_string(),
        };
        let v: VersionOnly = rmp_serde::from_slice(bytes).map_err(garbage)?;
        if v.version != PROTOCOL_VERSION {
            return Err(DecodeError::Version { found: v.version });
        }
        rmp_serde::from_slice(bytes).map_err(garbage)
    }
}

pub fn encode(message: &Message) -> Vec<u8> {
    Envelope {
        version: PROTOCOL_VERSION,
        message: message.clone(),
    }
    .to_bytes()
}

pub fn decode(bytes: &[u8]) -> Result<Message, DecodeError> {
    Envelope::from_bytes(bytes).map(|e| e.message)
}

/// A job as submitted: written once by the producer, read by workers and the merger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobManifest {
    pub version: u16,
    pub job: JobId,
    pub frame: i32,
    pub params: RenderParams,
    pub tiles: Vec<Rect>,
    pub passes: Vec<SampleRange>,
    /// The file name the user asked for, recorded for `producer fetch` and the EXR header.
    pub output_name: String,
    pub submitted_unix: u64,
    /// How the job was split and when, precisely, recorded in the image's header; zero in a
    /// job of an older producer.
    #[serde(default)]
    pub settings: JobSettings,
    /// The frames of a sequence (`--frames`), in the order their tasks are published. Empty
    /// for a single-frame job, which is `frame`, `params` and `output_name` above; a sequence
    /// repeats its first frame there.
    #[serde(default)]
    pub frames: Vec<FramePlan>,
    /// `--price-per-core-hour`, for the job's cost; None when none was given.
    #[serde(default)]
    pub price_per_core_hour: Option<f64>,
    /// `--priority` at submit; normal in a job of an older producer. Later changes are in the
    /// job's `dispatch::Dispatch` record.
    #[serde(default)]
    pub priority: crate::priority::Priority,
}

/// The submit settings a manifest records beyond what its tiles and passes show.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JobSettings {
    /// `--tile-size`: the tiles' edge in pixels.
    pub tile_size: u32,
    /// `--passes`.
    pub passes: u32,
    /// The submission time in milliseconds since the Unix epoch (`submitted_unix` is seconds).
    pub submitted_unix_ms: u64,
}

impl JobManifest {
    pub fn spp(&self) -> u32 {
        self.passes.last().map_or(0, |p| p.end)
    }
    /// Tasks of the whole job, every frame.
    pub fn task_count(&self) -> usize {
        self.tasks_per_frame() * self.frame_count()
    }
    pub fn tasks_per_frame(&self) -> usize {
        self.tiles.len() * self.passes.len()
    }
    pub fn frame_count(&self) -> usize {
        self.frames.len().max(1)
    }
    /// Whether the job is a sequence (`--frames`), whose images are one per frame.
    pub fn is_sequence(&self) -> bool {
        !self.frames.is_empty()
    }
    /// Every frame of the job, in publishing order; a single-frame job's one.
    pub fn frame_plans(&self) -> std::borrow::Cow<'_, [FramePlan]> {
        if self.frames.is_empty() {
            std::borrow::Cow::Owned(vec![FramePlan {
                frame: self.frame,
                params: self.params.clone(),
                output_name: self.output_name.clone(),
            }])
        } else {
            std::borrow::Cow::Borrowed(&self.frames)
        }
    }
    /// The blob key of a frame's final image: a sequence keeps one per frame.
    pub fn image_key(&self, frame: i32) -> String {
        if self.is_sequence() {
            keys::frame_image(&self.job, frame)
        } else {
            keys::final_image(&self.job)
        }
    }
}

impl Record for JobManifest {
    const WHAT: &'static str = "job manifest";
}

/// Where a job stands, as the merger last recorded it. `producer` reads it to show progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobStatus {
    pub version: u16,
    pub job: JobId,
    pub state: JobState,
    pub tasks_done: u64,
    pub tasks_total: u64,
    pub passes_done: u32,
    pub passes_total: u32,
    /// Samples (pixels times samples per pixel) merged per second of wall time since the first
    /// result's render began.
    pub samples_per_second: f64,
    /// Seconds left at that throughput; None until it is known.
    pub eta_seconds: Option<f64>,
    /// The fraction of the job's samples merged, 0 to 1: tasks differ in size (a small first
    /// pass, edge tiles), so this, not tasks done over tasks, is how far the job is.
    #[serde(default)]
    pub progress: f64,
    /// Incremented each time a new snapshot is written.
    pub snapshot_generation: u32,
    pub failures: Vec<String>,
    /// Each frame, in publishing order: its state, image and tally.
    #[serde(default)]
    pub frames: Vec<FrameStatus>,
    /// The whole job's tally: tasks done, failed and retried, core-seconds.
    #[serde(default)]
    pub tasks: Tally,
    /// `tasks.core_seconds` at the job's `price_per_core_hour`; None without a price.
    #[serde(default)]
    pub cost: Option<f64>,
}

/// Where one frame of a job stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameStatus {
    pub frame: i32,
    /// Queued, running, done, failed or cancelled.
    pub state: FrameState,
    /// Its image's file name (`FramePlan::output_name`).
    pub output: String,
    pub tasks: Tally,
}

impl Record for JobStatus {
    const WHAT: &'static str = "job status";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Rendering,
    Done,
    Failed,
    Cancelled,
}

impl JobStatus {
    /// The status of a job no result has reached yet.
    pub fn queued(m: &JobManifest) -> JobStatus {
        JobStatus {
            version: PROTOCOL_VERSION,
            job: m.job.clone(),
            state: JobState::Rendering,
            tasks_done: 0,
            tasks_total: m.task_count() as u64,
            passes_done: 0,
            passes_total: m.passes.len() as u32,
            samples_per_second: 0.0,
            eta_seconds: None,
            progress: 0.0,
            snapshot_generation: 0,
            failures: vec![],
            frames: m
                .frame_plans()
                .iter()
                .map(|f| FrameStatus {
                    frame: f.frame,
                    state: FrameState::Queued,
                    output: f.output_name.clone(),
                    tasks: Tally::new(m.tasks_per_frame() as u64),
                })
                .collect(),
            tasks: Tally::new(m.task_count() as u64),
            cost: m.price_per_core_hour.map(|_| 0.0),
        }
    }
}

/// The merger's durable record of a job: which (tile, pass) partials are in the image. The
/// partials themselves stay in the blob store, so a restarted merger rebuilds the image from
/// them; the merger acknowledges a result only after a checkpoint that includes it is stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub version: u16,
    pub job: JobId,
    /// (frame, tile, pass, first sample, end sample) of each partial in the image, frames still
    /// in progress only: a tile-pass is merged once the ranges it received cover its pass, so
    /// one tile-pass is one entry, or several when workers stopped mid-task rendered it in
    /// pieces. A complete frame's image is stored and its entries are dropped, so the
    /// checkpoint, like the merger, holds only frames in progress.
    pub merged: Vec<(i32, u32, u32, u32, u32)>,
    /// The same for partials received but not yet merged: pieces of a tile-pass whose ranges
    /// do not cover its pass yet. Their partials stay in the blob store until they do.
    #[serde(default)]
    pub waiting: Vec<(i32, u32, u32, u32, u32)>,
    /// Adaptive jobs: (frame, tile, pass) of each tile of a frame in progress that converged,
    /// with the last pass it took. The decision is stored rather than taken again from the
    /// rebuilt sums, so a restarted merger never changes its mind.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub converged: Vec<(i32, u32, u32)>,
    /// Each frame's state and tally (core-seconds and retries are not in the partials).
    #[serde(default)]
    pub frames: Vec<FrameStatus>,
    pub state: JobState,
    pub failures: Vec<String>,
    pub snapshot_generation: u32,
}

impl Record for Checkpoint {
    const WHAT: &'static str = "checkpoint";
}

/// The body of a job's `stopped` blob, present once the job was cancelled or has failed:
/// workers check only that it exists before rendering a task; the body says why, and it is
/// written (by the merger and by `producer cancel`) and read only through [`Record`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StopMarker {
    pub version: u16,
    pub job: JobId,
    /// `Cancelled` or `Failed`.
    pub state: JobState,
}

impl StopMarker {
    pub fn new(job: &JobId, state: JobState) -> StopMarker {
        StopMarker {
            version: PROTOCOL_VERSION,
            job: job.clone(),
            state,
        }
    }
}

impl Record for StopMarker {
    const WHAT: &'static str = "stop marker";
}

/// Blob keys, in one place so that producer, worker and merger agree on them.
pub mod keys {
    use super::JobId;

    pub fn scene(sha256: &str) -> String {
        format!("scenes/{sha256}")
    }
    /// A file a scene references, by content, shared by every job that uses it.
    pub fn asset(sha256: &str) -> String {
        format!("assets/{sha256}")
    }
    pub fn manifest(job: &JobId) -> String {
        format!("jobs/{job}/manifest.msgpack")
    }
    /// A partial buffer: the samples `samples` of one tile-pass.
    pub fn partial(
        job: &JobId,
        frame: i32,
        tile: u32,
        pass: u32,
        samples: super::SampleRange,
    ) -> String {
        let (s, e) = (samples.start, samples.end);
        format!("jobs/{job}/partials/f{frame}/t{tile:05}-p{pass:03}-s{s}-{e}.exr")
    }
    /// Every partial of a job: the merger deletes the folder once the job has ended.
    pub fn partials(job: &JobId) -> String {
        format!("jobs/{job}/partials")
    }
    /// Whether `key` names a blob inside `job`'s partials folder: the only blobs a result of
    /// that job may point the merger at. A result naming another job's partial, a scene, or a
    /// path that climbs out with `..` is refused before anything is downloaded.
    pub fn is_partial_of(job: &JobId, key: &str) -> bool {
        key.strip_prefix(&partials(job))
            .and_then(|rest| rest.strip_prefix('/'))
            .is_some_and(|rest| {
                rest.split('/')
                    .all(|s| !s.is_empty() && s != "." && s != "..")
            })
    }
    pub fn snapshot(job: &JobId) -> String {
        format!("jobs/{job}/snapshot.exr")
    }
    pub fn final_image(job: &JobId) -> String {
        format!("jobs/{job}/final.exr")
    }
    /// A frame's final image in a sequence.
    pub fn frame_image(job: &JobId, frame: i32) -> String {
        format!("jobs/{job}/frames/f{frame}.exr")
    }
    pub fn status(job: &JobId) -> String {
        format!("jobs/{job}/status.msgpack")
    }
    pub fn checkpoint(job: &JobId) -> String {
        format!("jobs/{job}/checkpoint.msgpack")
    }
    /// Present when the job was cancelled or failed: workers drop its remaining tasks.
    pub fn stopped(job: &JobId) -> String {
        format!("jobs/{job}/stopped")
    }
    /// The folder that holds every job, for listing.
    pub const JOBS: &str = "jobs";
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task() -> TilePassTask {
        TilePassTask {
            job: JobId::parse("j1").unwrap(),
            frame: 1,
            tile: 3,
            rect: Rect {
                x0: 0,
                y0: 16,
                x1: 16,
                y1: 32,
            },
            pass: 2,
            samples: SampleRange { start: 4, end: 20 },
            params: RenderParams {
                scene: vec![SceneFile {
                    name: "a.rdla".into(),
                    sha256: "ab".into(),
                }],
                res: 2.0,
                width: 64,
                height: 48,
                env: vec![],
                assets: vec![],
                lua: None,
                frame: None,
                rdla_set: vec![],
                adaptive: None,
            },
        }
    }

    #[test]
    fn messages_round_trip() {
        let m = Message::Task(task());
        assert_eq!(decode(&encode(&m)).unwrap(), m);
    }

    /// The seed corpus of the `wire` fuzz target (fuzz/seeds/wire): one message of each kind
    /// in this protocol version, so the fuzzer starts from what real queues carry.
    #[test]
    fn fuzz_seeds_are_this_versions_messages() {
        let job = JobId::parse("j1").unwrap();
        let result = |outcome| TilePassResult {
            job: job.clone(),
            frame: 1,
            tile: 3,
            pass: 2,
            samples: SampleRange { start: 4, end: 9 },
            interrupted: true,
            outcome,
            worker: "w-1".into(),
            render_seconds: 0.5,
            samples_taken: 4096,
            cpu_seconds: 0.9,
            attempt: 2,
        };
        let mut framed = task();
        framed.params.frame = Some(7);
        framed.params.rdla_set = vec![("shot".into(), "\"a\"".into())];
        framed.params.env = vec![("SHOW".into(), "x".into())];
        let seeds = [
            ("task", Message::Task(task())),
            ("task-frame", Message::Task(framed)),
            (
                "result-rendered",
                Message::Result(result(TaskOutcome::rendered(
                    "jobs/j1/partials/f1-t3-p2.exr",
                ))),
            ),
            (
                "result-failed",
                Message::Result(result(TaskOutcome::Failed {
                    reason: "a.rdla:3: no camera".into(),
                })),
            ),
            ("cancel", Message::Control(JobControl::Cancel { job })),
        ];
        let seeds: Vec<(&str, Vec<u8>)> = seeds
            .iter()
            .map(|(name, message)| {
                assert_eq!(decode(&encode(message)).ok().as_ref(), Some(message));
                (*name, encode(message))
            })
            .collect();
        crate::check_fuzz_seeds(
            "wire",
            &seeds,
            |a, b| matches!((decode(a), decode(b)), (Ok(a), Ok(b)) if a == b),
        );
    }

    #[test]
    fn garbage_and_other_versions_are_told_apart() {
        assert!(matches!(
            decode(b"\x00garbage"),
            Err(DecodeError::Garbage { .. })
        ));
        let other = Envelope {
            version: 99,
            message: Message::Task(task()),
        };
        let bytes = rmp_serde::to_vec_named(&other).unwrap();
        assert!(matches!(
            decode(&bytes),
            Err(DecodeError::Version { found: 99 })
        ));
    }

    /// A status or checkpoint written by another protocol version is refused, as a manifest
    /// is, instead of being read as if it were this version's.
    #[test]
    fn statuses_and_checkpoints_of_other_versions_are_refused() {
        let m = JobManifest {
            version: 99,
            job: JobId::parse("j1").unwrap(),
            frame: 1,
            params: task().params,
            tiles: vec![task().rect],
            passes: vec![task().samples],
            output_name: "out.exr".into(),
            submitted_unix: 0,
            settings: JobSettings::default(),
            frames: vec![],
            price_per_core_hour: None,
            priority: Default::default(),
        };
        assert!(matches!(
            JobManifest::from_bytes(&m.to_bytes()),
            Err(DecodeError::Version { found: 99 })
        ));
        let mut status = JobStatus::queued(&m);
        status.version = 99;
        assert!(matches!(
            JobStatus::from_bytes(&status.to_bytes()),
            Err(DecodeError::Version { found: 99 })
        ));
        let checkpoint = Checkpoint {
            version: 99,
            job: m.job.clone(),
            merged: vec![(1, 0, 0, 0, 4)],
            waiting: vec![],
            converged: vec![],
            frames: vec![],
            state: JobState::Rendering,
            failures: vec![],
            snapshot_generation: 0,
        };
        assert!(matches!(
            Checkpoint::from_bytes(&checkpoint.to_bytes()),
            Err(DecodeError::Version { found: 99 })
        ));
    }

    /// Job ids are checked wherever they come from: text, and messages and records read back.
    #[test]
    fn job_ids_that_could_leave_their_folder_are_refused() {
        let long = "a".repeat(10_000);
        for bad in [
            "",
            "../x",
            "a/b",
            "a\0b",
            "a\nb",
            "j\u{7f}",
            ".",
            "..",
            long.as_str(),
        ] {
            let e = JobId::parse(bad).unwrap_err().to_string();
            assert!(e.contains("a job id is 1 to 64 letters"), "{bad:?}: {e}");
            assert!(e.len() < 300 && !e.contains('\n'), "{e}");
        }
        assert_eq!(JobId::parse("4f1c-9a").unwrap().as_str(), "4f1c-9a");
        // A message whose job id is a path is undecodable, not a blob prefix.
        let mut t = task();
        t.job = JobId::parse("j1").unwrap();
        let mut bytes = encode(&Message::Task(t));
        let at = bytes.windows(2).position(|w| w == b"j1").unwrap();
        bytes[at..at + 2].copy_from_slice(b"/.");
        let e = decode(&bytes).unwrap_err().to_string();
        assert!(e.contains("job id \"/.\""), "{e}");
    }

    #[test]
    fn stop_markers_round_trip() {
        let marker = StopMarker::new(&JobId::parse("j1").unwrap(), JobState::Cancelled);
        assert_eq!(StopMarker::from_bytes(&marker.to_bytes()).unwrap(), marker);
        assert!(matches!(
            StopMarker::from_bytes(b"Cancelled"),
            Err(DecodeError::Garbage { .. })
        ));
    }

    #[test]
    fn a_partial_belongs_to_its_own_job_only() {
        let j1 = JobId::parse("j1").unwrap();
        let j2 = JobId::parse("j2").unwrap();
        let own = task().partial_key();
        assert!(keys::is_partial_of(&j1, &own));
        for bad in [
            keys::partial(&j2, 1, 3, 2, SampleRange { start: 0, end: 4 }),
            keys::manifest(&j1),
            keys::scene("ab"),
            "jobs/j1/partials".to_string(),
            "jobs/j1/partials/".to_string(),
            "jobs/j1/partials/../manifest.msgpack".to_string(),
            "jobs/j1/partials/f1//x.exr".to_string(),
            "jobs/j10/partials/f1/t00003-p002.exr".to_string(),
        ] {
            assert!(
                !keys::is_partial_of(&j1, &bad),
                "{bad} accepted as j1's partial"
            );
        }
    }

    #[test]
    fn partial_keys_depend_only_on_job_frame_tile_pass_samples() {
        let a = task();
        let mut b = task();
        b.params.res = 1.0;
        assert_eq!(a.partial_key(), b.partial_key());
        b.samples = SampleRange { start: 0, end: 1 };
        assert_ne!(a.partial_key(), b.partial_key());
        b = task();
        b.pass = 3;
        assert_ne!(a.partial_key(), b.partial_key());
        // A piece of the task and the rest put back name different blobs.
        let rest = a.rest(9);
        assert_eq!(rest.samples, SampleRange { start: 9, end: 20 });
        let piece = a.piece_key(SampleRange { start: 4, end: 9 });
        assert!(piece.ends_with("t00003-p002-s4-9.exr"), "{piece}");
        assert_ne!(piece, rest.partial_key());
        assert_eq!(a.rest(99).samples, SampleRange { start: 20, end: 20 });
    }
}
