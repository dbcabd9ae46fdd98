//! The worker: takes tile-pass tasks off the queue, renders them, stores each partial buffer in
//! the blob store and reports the result. Stateless apart from a cache of prepared scenes.
//!
//! The same `run` serves the embedded mode (in-memory queue, local blobs, several workers in
//! one process) and the farm (RabbitMQ, Azure Blob Storage, one worker per pod).

pub mod assets;
pub mod cli;
pub mod cpu;
mod policy;
mod waves;

use anyhow::Context;
use bytes::Bytes;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use render::integrator::PixelRect;
use render::rdla::SceneSource;
use render::scene::{BuildOptions, Scene};
use shared::blob::{BlobError, Blobs};
use shared::exr_io;
use shared::film::TileBuffer;
use shared::priority::{Priority, PriorityConsumer};
use shared::protocol::dispatch::{self, Admission, Dispatch};
use shared::protocol::tasklog::{Attempt, TaskLog};
use shared::protocol::{
    self, keys, JobId, Message, Record, RenderParams, SampleRange, TaskOutcome, TilePassResult,
    TilePassTask,
};
use shared::queue::{Delivery, Queue, QueueError, Settle};
use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// A worker's settings, validated.
#[derive(Debug, Clone)]
pub struct Config {
    /// The normal level's task queue; the other levels' and the jobs' parked queues are named
    /// from it (`shared::priority::Priority::queue`, `shared::parking::parked_queue`).
    pub task_queue: String,
    pub result_queue: String,
    /// Results of job J go to `shard::queue_of_job(result_queue, result_shards, J)`.
    pub result_shards: u32,
    /// Always 1: a worker takes one task at a time (`basic.get`), so that it never holds one
    /// back from another worker while rendering (kept for the deploy manifests' KEDA arithmetic).
    pub prefetch: u16,
    /// How often an idle worker looks at the three level queues again.
    pub poll: Duration,
    /// On shutdown the task in hand stops at its next sample-wave boundary, stores the samples
    /// it rendered and puts the rest of its range back as a task; a wave still running this
    /// long after the shutdown is abandoned (its samples lost) so that the worker leaves in
    /// time. Waves are sized to take a fraction of it.
    pub grace: Duration,
    /// Samples per pixel of each wave of a render, fixed; None sizes the waves from the
    /// render's speed so that one takes about `wave_seconds(grace)`.
    pub wave_samples: Option<u32>,
    /// Exit after this long without a task (one-shot pods); None waits forever.
    pub exit_when_idle: Option<Duration>,
    /// Names this worker in results and logs.
    pub name: String,
    /// Skip rendering and store empty partials: measures what the farm itself costs per task.
    pub dry_run: bool,
    /// Bytes the cache of referenced files (textures, ...) may hold on local disk.
    pub asset_cache_bytes: u64,
    /// Read referenced files from their paths as written instead of the blob store: embedded
    /// workers share the producer's working directory and disk.
    pub assets_in_place: bool,
    /// A partial of at most this many bytes (and at most half the message size limit) also
    /// travels in its result, so that the merger need not download it.
    pub inline_partial_bytes: u64,
    /// The blob store lives no longer than this process and nothing else reads it (the
    /// embedded farm's temporary folder): no task logs are written (`producer logs` never sees
    /// that store), and a partial that travels in its result is not also stored (no other
    /// merger will rebuild from it). Each was a file created per task, most of a small
    /// task's cost there.
    pub ephemeral_store: bool,
    /// What a task may ask for (image, samples, loader limits, sizes, render time): checked
    /// before anything of it is fetched or rendered, whoever wrote the message.
    pub limits: shared::limits::Limits,
}

/// Partials up to this size go in their result message by default: a 64-pixel tile's
/// (4096 pixels of 5 floats, about 80 KiB) does, a 128-pixel one's does not.
pub const DEFAULT_INLINE_PARTIAL_BYTES: u64 = 128 << 10;

impl Default for Config {
    fn default() -> Self {
        Config {
            task_queue: shared::queue::TASK_QUEUE.into(),
            result_queue: shared::queue::RESULT_QUEUE.into(),
            result_shards: 1,
            prefetch: 1,
            poll: Duration::from_millis(250),
            grace: Duration::from_secs(300),
            wave_samples: None,
            exit_when_idle: None,
            name: format!("worker-{}", std::process::id()),
            dry_run: false,
            asset_cache_bytes: assets::DEFAULT_CACHE_BYTES,
            assets_in_place: false,
            inline_partial_bytes: DEFAULT_INLINE_PARTIAL_BYTES,
            ephemeral_store: false,
            limits: shared::limits::Limits::default(),
        }
    }
}

/// The worker's connections; cheap to clone.
#[derive(Clone)]
pub struct Adapters {
    pub queue: Arc<dyn Queue>,
    pub blobs: Blobs,
}

/// What a worker process keeps between tasks; cheap to clone, shared by its worker loops.
#[derive(Default, Clone)]
pub struct WorkerState {
    pub cache: SceneCache,
    pub metrics: Metrics,
    /// Jobs known to be cancelled or failed, and when a running job was last checked.
    stopped: Arc<Mutex<StopChecks>>,
}

/// Per job: whether it is stopped, and when that was last checked.
type StopChecks = HashMap<JobId, (bool, Instant)>;

/// How long a job's "still running" answer is trusted before the stop marker is checked again.
const STOP_CHECK_INTERVAL: Duration = Duration::from_secs(5);

/// The worker's Prometheus metrics.
#[derive(Clone, Default)]
pub struct Metrics {
    pub tasks_done: Counter,
    pub tasks_failed: Counter,
    pub tasks_dropped: Counter,
    /// Tasks of paused jobs moved to their parked queue unrendered (resume queues them again).
    pub tasks_parked: Counter,
    /// Tasks moved to another level's queue because their job's priority changed.
    pub tasks_rerouted: Counter,
    /// Deliveries the broker had handed out before: a worker died or gave a task back.
    pub tasks_redelivered: Counter,
    /// Tasks being rendered and stored right now (0 or 1 per worker loop).
    pub tasks_in_progress: Gauge,
    pub render_seconds: Counter<f64, std::sync::atomic::AtomicU64>,
    pub samples: Counter,
    /// Pixel samples rendered, whether merged or not: the waves of every task attempt,
    /// finished, interrupted (stored as a piece) or abandoned mid-wave at the grace's end.
    pub samples_rendered: Counter,
    /// Task attempts stopped mid-task by a shutdown, their samples stored and the rest of
    /// their range put back on the queue as a new task.
    pub tasks_interrupted: Counter,
    /// Samples per second of the last task, for dashboards without rate().
    pub samples_per_second: Gauge<f64, std::sync::atomic::AtomicU64>,
    /// The tasks' CPU seconds by phase (`scene`, `render`, `encode`): the process's CPU
    /// beyond their sum is the service's own (queue, blob store, dispatch reads, runtime).
    pub cpu_seconds: Family<Vec<(&'static str, &'static str)>, Counter<f64, AtomicU64>>,
}

impl Metrics {
    fn record_cpu(&self, cpu: &cpu::TaskCpu) {
        for (phase, spent) in [
            ("scene", cpu.scene),
            ("render", cpu.render),
            ("encode", cpu.encode),
        ] {
            self.cpu_seconds
                .get_or_create(&vec![("phase", phase)])
                .inc_by(spent.as_secs_f64());
        }
    }

    /// A task rendered and stored in `seconds`, with `samples` camera samples.
    fn record_done(&self, seconds: f64, samples: u64) {
        self.tasks_done.inc();
        self.render_seconds.inc_by(seconds);
        self.samples.inc_by(samples);
        self.samples_per_second
            .set(samples as f64 / seconds.max(1e-6));
    }

    pub fn register(&self, r: &mut Registry) {
        r.register(
            "moonfarm_worker_tasks_done",
            "Tasks rendered and reported",
            self.tasks_done.clone(),
        );
        r.register(
            "moonfarm_worker_tasks_failed",
            "Task attempts that failed",
            self.tasks_failed.clone(),
        );
        r.register(
            "moonfarm_worker_tasks_dropped",
            "Tasks of cancelled or failed jobs dropped unrendered",
            self.tasks_dropped.clone(),
        );
        r.register(
            "moonfarm_worker_tasks_parked",
            "Tasks of paused jobs parked unrendered",
            self.tasks_parked.clone(),
        );
        r.register(
            "moonfarm_worker_tasks_rerouted",
            "Tasks moved to their job's new priority level",
            self.tasks_rerouted.clone(),
        );
        r.register(
            "moonfarm_worker_tasks_redelivered",
            "Tasks received that had been delivered before",
            self.tasks_redelivered.clone(),
        );
        r.register(
            "moonfarm_worker_tasks_in_progress",
            "Tasks being rendered and stored now",
            self.tasks_in_progress.clone(),
        );
        r.register(
            "moonfarm_worker_render_seconds",
            "Seconds spent rendering",
            self.render_seconds.clone(),
        );
        r.register(
            "moonfarm_worker_samples",
            "Camera samples rendered",
            self.samples.clone(),
        );
        r.register(
            "moonfarm_worker_samples_rendered",
            "Pixel samples rendered, whether merged or not (interrupted and abandoned waves included)",
            self.samples_rendered.clone(),
        );
        r.register(
            "moonfarm_worker_tasks_interrupted",
            "Tasks stopped mid-task by a shutdown: samples stored, the rest put back as a task",
            self.tasks_interrupted.clone(),
        );
        r.register(
            "moonfarm_worker_samples_per_second",
            "Samples per second of the last task",
            self.samples_per_second.clone(),
        );
        r.register(
            "moonfarm_worker_task_cpu_seconds",
            "CPU seconds of the tasks' work by phase: scene (load and prepare), render, encode",
            self.cpu_seconds.clone(),
        );
    }
}

impl WorkerState {
    /// Whether the job was cancelled or has failed (the merger then leaves a stop marker).
    async fn job_stopped(&self, blobs: &Blobs, job: &JobId) -> Result<bool, BlobError> {
        if let Some((stopped, at)) = self.stopped.lock().unwrap().get(job) {
            if *stopped || at.elapsed() < STOP_CHECK_INTERVAL {
                return Ok(*stopped);
            }
        }
        let stopped = blobs.exists(&keys::stopped(job)).await?;
        let mut map = self.stopped.lock().unwrap();
        if map.len() > 10_000 {
            map.clear(); // a long-lived worker forgets old jobs rather than growing forever
        }
        map.insert(job.clone(), (stopped, Instant::now()));
        Ok(stopped)
    }
}

/// Prepared scenes by what they were prepared from. Shared by every worker loop of a process,
/// so a scene is parsed once per process, not once per task. Holds the few most recently used
/// scenes only: a long-lived worker serves job after job and must not keep them all.
#[derive(Default, Clone)]
pub struct SceneCache {
    /// Most recently used last.
    scenes: Arc<Mutex<Vec<CachedScene>>>,
    /// The files scenes reference, by content hash, on local disk.
    pub assets: assets::AssetCache,
}

/// A prepared scene, the key it was prepared from, and the warnings preparing it gave (kept so
/// every task's log carries them, not only the task that loaded the scene).
type CachedScene = (String, Arc<Scene>, Warnings);

/// The scene loader's warnings, shared by every task of the scene.
type Warnings = Arc<[String]>;

/// Scenes kept per worker process.
const SCENE_CACHE_SIZE: usize = 4;

/// Why a task did not produce a result.
#[derive(Debug, thiserror::Error)]
enum TaskError {
    /// The scene itself is wrong: retrying on another worker will fail the same way.
    #[error("{0}")]
    Scene(String),
    /// Storage or queue trouble: worth retrying.
    #[error("{0:#}")]
    Transient(anyhow::Error),
}

impl From<BlobError> for TaskError {
    fn from(e: BlobError) -> Self {
        TaskError::Transient(e.into())
    }
}

/// Runs until `shutdown` fires (then finishes or returns the task in hand) or, with
/// `exit_when_idle`, until no task came for that long.
pub async fn run(
    config: &Config,
    adapters: Adapters,
    state: WorkerState,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let mut consumer = PriorityConsumer::new(
        adapters.queue.clone(),
        &config.task_queue,
        config.poll,
        shutdown.clone(),
    );
    tracing::info!(worker = %config.name, queue = %config.task_queue, "worker started");
    loop {
        let idle = async {
            match config.exit_when_idle {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending().await,
            }
        };
        let delivery = tokio::select! {
            biased;
            _ = shutdown.cancelled() => break,
            _ = idle => {
                tracing::info!(worker = %config.name, "idle: exiting");
                break;
            }
            d = consumer.next() => d.with_context(|| format!("taking tasks from {}", config.task_queue))?,
        };
        let Some((level, delivery)) = delivery else {
            break;
        };
        if handle(config, &adapters, &state, level, delivery, &shutdown).await? == Handled::Moved {
            consumer.sweep(level);
        }
    }
    // The counters as they stand at exit: a pod's last scrape may predate its last task.
    let m = &state.metrics;
    tracing::info!(
        worker = %config.name,
        tasks_done = m.tasks_done.get(),
        tasks_interrupted = m.tasks_interrupted.get(),
        samples_rendered = m.samples_rendered.get(),
        "worker stopped"
    );
    Ok(())
}

/// What became of a delivery: rendered or given back (`Kept`: the worker's take counted), or
/// moved on unrendered (parked, moved to another level, dropped, dead-lettered), which costs
/// nothing, so the worker goes on sweeping that level's queue before choosing again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Handled {
    Kept,
    Moved,
}

/// One delivery, start to finish: decode, check whether the job was stopped, then whether it is
/// paused or moved level (its dispatch record), render and store, report, settle. What a
/// failure means for the queue is `policy::error_policy`'s call.
async fn handle(
    config: &Config,
    adapters: &Adapters,
    state: &WorkerState,
    level: Priority,
    delivery: Delivery,
    shutdown: &CancellationToken,
) -> anyhow::Result<Handled> {
    let task = match decode_task(&config.limits, &delivery.payload) {
        Ok(task) => task,
        Err(reason) => {
            tracing::warn!("task message dead-lettered unread: {reason}");
            delivery.settle(Settle::DeadLetter(reason)).await?;
            return Ok(Handled::Moved);
        }
    };
    if let Err(e) = config.limits.task(&task) {
        // Never rendered: the job is told why (a worker's limits may be lower than the
        // producer's), and the message is parked in the dead-letter queue with the reason.
        let reason = format!("task refused: {e}");
        tracing::error!(job = %task.job, tile = task.tile, pass = task.pass, "{reason}");
        state.metrics.tasks_failed.inc();
        let failed = TaskOutcome::Failed {
            reason: reason.clone(),
        };
        let refused = TilePassResult {
            job: task.job.clone(),
            frame: task.frame,
            tile: task.tile,
            pass: task.pass,
            samples: task.samples,
            interrupted: false,
            outcome: failed,
            worker: config.name.clone(),
            render_seconds: 0.0,
            samples_taken: 0,
            cpu_seconds: 0.0,
            attempt: delivery.delivery_count.max(1),
        };
        let settle = match report_result(config, adapters, refused).await? {
            Settle::Ack => Settle::DeadLetter(reason),
            other => other,
        };
        let moved = settle != Settle::Retry;
        delivery.settle(settle).await?;
        return Ok(if moved { Handled::Moved } else { Handled::Kept });
    }
    match state.job_stopped(&adapters.blobs, &task.job).await {
        Ok(true) => {
            tracing::info!(job = %task.job, tile = task.tile, pass = task.pass, "job cancelled or failed: task dropped");
            state.metrics.tasks_dropped.inc();
            delivery.settle(Settle::Ack).await?;
            return Ok(Handled::Moved);
        }
        Ok(false) => {}
        Err(e) => tracing::warn!(job = %task.job, "cannot check whether the job was stopped: {e}"),
    }
    match admission(&adapters.blobs, &task.job, level).await {
        Ok(Admission::Render) => {}
        Ok(Admission::Park) => {
            return park(config, adapters, state, &task, delivery).await;
        }
        Ok(Admission::Reroute(to)) => {
            // Published at the job's level before the ack: nothing lost, at worst a copy.
            let queue = to.queue(&config.task_queue);
            match adapters
                .queue
                .publish(&queue, delivery.payload.clone())
                .await
            {
                Ok(()) => {
                    tracing::info!(job = %task.job, tile = task.tile, pass = task.pass, from = %level, to = %to, "job's priority changed: task moved");
                    state.metrics.tasks_rerouted.inc();
                    delivery.settle(Settle::Ack).await?;
                    return Ok(Handled::Moved);
                }
                Err(e) => {
                    tracing::warn!(job = %task.job, "cannot move the task to {queue}, it goes back: {e}");
                    delivery.settle(Settle::Retry).await?;
                    return Ok(Handled::Kept);
                }
            }
        }
        // Unknown whether the job is paused: not started now, tried again later.
        Err(e) => {
            tracing::warn!(job = %task.job, "cannot read the job's dispatch record, the task goes back to the queue: {e}");
            delivery.settle(Settle::Retry).await?;
            return Ok(Handled::Kept);
        }
    }
    let started = Instant::now();
    let started_at = std::time::SystemTime::now();
    let attempt = delivery.delivery_count;
    if attempt > 1 {
        state.metrics.tasks_redelivered.inc();
    }
    tracing::info!(job = %task.job, frame = task.frame, tile = task.tile, pass = task.pass, attempt, "task started");
    state.metrics.tasks_in_progress.inc();
    let mut cpu = cpu::TaskCpu::default();
    let outcome = render_and_store(config, adapters, &state.cache, &task, shutdown, &mut cpu).await;
    state.metrics.tasks_in_progress.dec();
    state.metrics.record_cpu(&cpu);
    let cpu = cpu.total();
    let report = |outcome, seconds, samples| TilePassResult {
        job: task.job.clone(),
        frame: task.frame,
        tile: task.tile,
        pass: task.pass,
        samples: task.samples,
        interrupted: false,
        outcome,
        worker: config.name.clone(),
        render_seconds: seconds,
        samples_taken: samples,
        cpu_seconds: cpu.as_secs_f64(),
        attempt: attempt.max(1),
    };
    let mut log = TaskLog {
        version: protocol::PROTOCOL_VERSION,
        job: task.job.clone(),
        frame: task.frame,
        tile: task.tile,
        pass: task.pass,
        worker: config.name.clone(),
        delivery: attempt,
        started_unix_ms: (shared::lifecycle::unix_seconds(started_at) * 1000.0) as u64,
        seconds: 0.0,
        outcome: Attempt::Retried,
        warnings: vec![],
        error: None,
    };
    let settle = match outcome {
        Ok(done) if done.covered != task.samples => {
            // Stopped mid-task: the samples rendered are a result of their own, the rest of
            // the range a new task, and only then is the delivery acked.
            log.warnings = done.warnings.to_vec();
            state.metrics.samples_rendered.inc_by(done.rendered);
            state.metrics.tasks_interrupted.inc();
            let seconds = started.elapsed().as_secs_f64();
            let queue = level.queue(&config.task_queue);
            // The piece's result: the samples it covers, marked interrupted.
            let piece = TilePassResult {
                samples: done.covered,
                interrupted: true,
                ..report(
                    done.outcome(task.piece_key(done.covered)),
                    seconds,
                    done.pixel_samples(&task),
                )
            };
            let settle = interrupted(config, adapters, &queue, &task, &done, piece).await?;
            if settle == Settle::Ack {
                log.outcome = Attempt::Interrupted;
            }
            settle
        }
        Ok(done) => {
            let (samples, warnings) = (done.pixel_samples(&task), done.warnings.clone());
            state.metrics.samples_rendered.inc_by(done.rendered);
            log.warnings = warnings.to_vec();
            let seconds = started.elapsed().as_secs_f64();
            state.metrics.record_done(seconds, samples);
            let rendered = done.outcome(task.partial_key());
            // Ack only once the result is confirmed: a crash in between redelivers the task,
            // which overwrites the same partial and the merger counts it once.
            let settle =
                report_result(config, adapters, report(rendered, seconds, samples)).await?;
            if settle == Settle::Ack {
                tracing::info!(job = %task.job, frame = task.frame, tile = task.tile, pass = task.pass, attempt, seconds, cpu_seconds = cpu.as_secs_f64(), "task done");
                log.outcome = Attempt::Rendered;
            }
            settle
        }
        Err(e) => {
            state.metrics.tasks_failed.inc();
            state.metrics.samples_rendered.inc_by(e.rendered);
            let e = e.error;
            log_failure(&task, &e);
            log.error = Some(e.to_string());
            match policy::error_policy(&e, delivery.last_attempt) {
                policy::Action::Retry => Settle::Retry,
                policy::Action::Fail(reason) => {
                    // Tell the merger, so the job is marked failed with the reason, then park
                    // the task in the dead-letter queue.
                    let failed = TaskOutcome::Failed {
                        reason: reason.clone(),
                    };
                    let result = report(failed, started.elapsed().as_secs_f64(), 0);
                    match report_result(config, adapters, result).await? {
                        Settle::Ack => {
                            log.outcome = Attempt::Failed;
                            Settle::DeadLetter(reason)
                        }
                        other => other,
                    }
                }
            }
        }
    };
    log.seconds = started.elapsed().as_secs_f64();
    if !config.ephemeral_store {
        write_log(&adapters.blobs, &log).await;
    }
    delivery.settle(settle).await?;
    Ok(Handled::Kept)
}

/// The job's dispatch record, read afresh for every task so that nothing of a job starts once
/// `producer pause` has returned. No record: as submitted, render.
async fn read_dispatch(blobs: &Blobs, job: &JobId) -> Result<Option<Dispatch>, TaskError> {
    let Some(bytes) = blobs.get_opt(&dispatch::keys::dispatch(job)).await? else {
        return Ok(None);
    };
    let record = Dispatch::from_bytes(&bytes).map_err(|e| TaskError::Transient(e.into()))?;
    Ok(Some(record))
}

/// What to do with a task of `job` taken from `level`'s queue.
async fn admission(blobs: &Blobs, job: &JobId, level: Priority) -> Result<Admission, TaskError> {
    Ok(read_dispatch(blobs, job)
        .await?
        .map_or(Admission::Render, |d| d.admit(level)))
}

/// Moves a paused job's task to the job's parked queue unrendered: published (confirmed), then
/// acked. Then the record is read again: a resume that ran meanwhile may have emptied the
/// parked queue before this task reached it, so if the job is no longer paused the parked
/// tasks go back to its level here (`shared::parking` says why this loses nothing).
async fn park(
    config: &Config,
    adapters: &Adapters,
    state: &WorkerState,
    task: &TilePassTask,
    delivery: Delivery,
) -> anyhow::Result<Handled> {
    let parked = shared::parking::parked_queue(&config.task_queue, &task.job);
    if let Err(e) = adapters
        .queue
        .publish(&parked, delivery.payload.clone())
        .await
    {
        tracing::warn!(job = %task.job, "cannot park the task in {parked}, it goes back: {e}");
        delivery.settle(Settle::Retry).await?;
        return Ok(Handled::Kept);
    }
    delivery.settle(Settle::Ack).await?;
    state.metrics.tasks_parked.inc();
    tracing::info!(job = %task.job, frame = task.frame, tile = task.tile, pass = task.pass, "job paused: task parked until it is resumed");
    match read_dispatch(&adapters.blobs, &task.job).await {
        Ok(Some(d)) if d.paused => {}
        Ok(record) => {
            let level = record.map_or(Priority::Normal, |d| d.priority);
            let to = level.queue(&config.task_queue);
            match shared::parking::move_all(adapters.queue.as_ref(), &parked, &to).await {
                Ok(moved) => {
                    tracing::info!(job = %task.job, moved, "job resumed while a task was parked: parked tasks queued again")
                }
                Err(e) => {
                    tracing::warn!(job = %task.job, "job resumed while a task was parked, and its parked tasks could not be queued again (`producer resume` does it): {e}")
                }
            }
        }
        Err(e) => {
            // The task is parked, durably; `producer resume` moves it (run it again if it ran
            // just now: resuming a job that is not paused moves what is parked too).
            tracing::warn!(job = %task.job, "cannot read the job's dispatch record after parking: {e}");
        }
    }
    Ok(Handled::Moved)
}

/// Stores the attempt's log beside the job: one small blob, whose failure is only logged (a
/// lost log line never costs the render).
async fn write_log(blobs: &Blobs, log: &TaskLog) {
    if let Err(e) = blobs.put(&log.key(), log.to_bytes()).await {
        tracing::warn!(job = %log.job, tile = log.tile, pass = log.pass, "the task's log was not stored: {e}");
    }
}

/// The task a delivery carries, or why it is not one (the delivery is then dead-lettered): an
/// oversized message is refused before it is decoded.
fn decode_task(limits: &shared::limits::Limits, payload: &[u8]) -> Result<TilePassTask, String> {
    limits
        .message_bytes(payload.len())
        .map_err(|e| e.to_string())?;
    match protocol::decode(payload) {
        Ok(Message::Task(task)) => Ok(task),
        Ok(other) => Err(format!("expected a task, got {}", kind(&other))),
        Err(e) => Err(e.to_string()),
    }
}

fn log_failure(task: &TilePassTask, error: &TaskError) {
    let (job, tile, pass) = (&task.job, task.tile, task.pass);
    match error {
        TaskError::Transient(e) => {
            tracing::warn!(%job, tile, pass, "task failed, will retry: {e:#}")
        }
        TaskError::Scene(reason) => tracing::error!(%job, tile, pass, "scene error: {reason}"),
    }
}

/// Publishes a result: `Ack` once the broker has it. A broker that refuses it (nacked even
/// after the adapter's retries) gives the task back to the queue to be done again, and the
/// worker goes on; only a closed queue (shutdown) ends the worker.
async fn report_result(
    config: &Config,
    adapters: &Adapters,
    result: TilePassResult,
) -> Result<Settle, QueueError> {
    let (job, tile, pass) = (result.job.clone(), result.tile, result.pass);
    let results = shared::shard::queue_of_job(&config.result_queue, config.result_shards, &job);
    match adapters
        .queue
        .publish(&results, protocol::encode(&Message::Result(result)))
        .await
    {
        Ok(()) => Ok(Settle::Ack),
        Err(e @ QueueError::Broker(_)) => {
            tracing::error!(%job, tile, pass, "the result was not published, the task goes back to the queue: {e}");
            Ok(Settle::Retry)
        }
        Err(e) => Err(e),
    }
}

fn kind(m: &Message) -> &'static str {
    match m {
        Message::Task(_) => "a task",
        Message::Result(_) => "a result",
        Message::Control(_) => "a control message",
    }
}

/// What an attempt rendered and stored.
struct Rendered {
    /// The samples the stored partial covers: the task's whole range, or its first samples
    /// when a shutdown stopped it at a wave boundary (empty, and nothing stored, when it
    /// stopped before its first wave ended).
    covered: SampleRange,
    /// Pixel samples rendered, an abandoned wave's included.
    rendered: u64,
    warnings: Warnings,
    /// The stored partial's bytes, when small enough to go in the result message as well.
    inline: Option<Bytes>,
}

impl Rendered {
    /// The result's outcome: the partial stored under `key`, and its bytes when inline.
    fn outcome(&self, key: String) -> TaskOutcome {
        TaskOutcome::Rendered {
            partial_key: key,
            partial: self.inline.clone(),
        }
    }
}

impl Rendered {
    /// Pixel samples in the stored partial.
    fn pixel_samples(&self, task: &TilePassTask) -> u64 {
        task.rect.pixel_count() as u64 * u64::from(self.covered.len())
    }
}

/// A failed attempt: why, and the pixel samples it had rendered before it failed.
struct Failed {
    error: TaskError,
    rendered: u64,
}

impl From<TaskError> for Failed {
    fn from(error: TaskError) -> Self {
        Failed { error, rendered: 0 }
    }
}

impl From<BlobError> for Failed {
    fn from(e: BlobError) -> Self {
        TaskError::from(e).into()
    }
}

/// Reports what a task stopped mid-task rendered and puts the rest back: the samples it
/// rendered (if any) as `piece`, the result for that part of its range, then the rest of the range as a
/// new task on `queue` (the level's it came from), each confirmed by the broker; `Ack` then settles the delivery.
///
/// The rest is a new message, so it starts at its first delivery: an interruption uses none
/// of the queue's delivery limit, on RabbitMQ 3.x (where a quorum queue counts every return
/// of a message towards `x-delivery-limit`) as on 4.x (which also counts them, with a default
/// limit of 20), and twenty interruptions in a row of one task cost no attempt. A worker
/// killed between the publishes and the ack gets its task redelivered whole: the merger keeps
/// each sample range of a tile-pass at most once and merges the pass from pieces that cover it
/// exactly, so the overlap costs render time, never a sample counted twice.
async fn interrupted(
    config: &Config,
    adapters: &Adapters,
    queue: &str,
    task: &TilePassTask,
    done: &Rendered,
    piece: TilePassResult,
) -> Result<Settle, QueueError> {
    let (job, tile, pass) = (&task.job, task.tile, task.pass);
    let attempt = piece.attempt;
    if !done.covered.is_empty() {
        match report_result(config, adapters, piece).await? {
            Settle::Ack => {}
            other => return Ok(other),
        }
    }
    let rest = task.rest(done.covered.end);
    let (from, to) = (rest.samples.start, rest.samples.end);
    match adapters
        .queue
        .publish(queue, protocol::encode(&Message::Task(rest)))
        .await
    {
        Ok(()) => {
            tracing::info!(%job, frame = task.frame, tile, pass, attempt, kept = done.covered.len(), from, to, "task interrupted: samples stored, the rest put back");
            Ok(Settle::Ack)
        }
        Err(e @ QueueError::Broker(_)) => {
            tracing::error!(%job, tile, pass, "the rest of the task was not published, the task goes back to the queue: {e}");
            Ok(Settle::Retry)
        }
        Err(e) => Err(e),
    }
}

/// Renders the task and stores its partial buffer (of the samples rendered, when a shutdown
/// stopped it part-way). Adds the CPU time the task's work took (scene preparation,
/// rendering, encoding) to `cpu`, also when it fails part-way.
async fn render_and_store(
    config: &Config,
    adapters: &Adapters,
    cache: &SceneCache,
    task: &TilePassTask,
    shutdown: &CancellationToken,
    cpu: &mut cpu::TaskCpu,
) -> Result<Rendered, Failed> {
    let (tile, mut done) = render_partial(config, adapters, cache, task, shutdown, cpu).await?;
    let Some(tile) = tile else {
        return Ok(done);
    };
    let fail = |error| Failed {
        error,
        rendered: done.rendered,
    };
    let (bytes, spent) =
        cpu::measured(|| exr_io::encode_tile((task.params.width, task.params.height), &tile));
    cpu.encode += spent;
    let bytes = Bytes::from(bytes.map_err(|e| fail(TaskError::Transient(e.into())))?);
    let inline_limit = config
        .inline_partial_bytes
        .min(config.limits.max_message_bytes / 2);
    let inline = bytes.len() as u64 <= inline_limit;
    // Stored also when inline, for a merger that rebuilds or a piece's successor; an
    // ephemeral store has neither.
    if !(inline && config.ephemeral_store) {
        adapters
            .blobs
            .put(&task.piece_key(done.covered), bytes.clone())
            .await
            .map_err(|e| fail(e.into()))?;
    }
    if inline {
        done.inline = Some(bytes);
    }
    Ok(done)
}

/// The task's partial buffer (None when a shutdown stopped it before its first wave ended)
/// and what it covers; with `dry_run`, an empty buffer of the right size and weight, so the
/// rest of the farm does all its usual work.
async fn render_partial(
    config: &Config,
    adapters: &Adapters,
    cache: &SceneCache,
    task: &TilePassTask,
    shutdown: &CancellationToken,
    cpu: &mut cpu::TaskCpu,
) -> Result<(Option<TileBuffer>, Rendered), Failed> {
    let grace = config.grace;
    if config.dry_run {
        let n = task.rect.pixel_count();
        let tile = TileBuffer {
            rect: task.rect,
            rgba: vec![[0.0; 4]; n],
            weight: vec![task.samples.len() as f32; n],
            odd: task.params.adaptive.map(|_| vec![[0.0; 4]; n]),
        };
        let done = Rendered {
            covered: task.samples,
            rendered: 0,
            warnings: Arc::from([]),
            inline: None,
        };
        return Ok((Some(tile), done));
    }
    let (scene, warnings) = cache
        .get(config, &adapters.blobs, &task.params, &mut cpu.scene)
        .await?;
    if (scene.width, scene.height) != (task.params.width, task.params.height) {
        return Err(TaskError::Scene(format!(
            "the scene builds a {}x{} image here, but the job expects {}x{}",
            scene.width, scene.height, task.params.width, task.params.height
        ))
        .into());
    }
    let r = task.rect;
    if r.x1 > scene.width
        || r.y1 > scene.height
        || r.x0 >= r.x1
        || r.y0 >= r.y1
        || task.samples.is_empty()
    {
        return Err(TaskError::Scene(format!(
            "task rectangle {r:?} or samples {:?} do not fit the image",
            task.samples
        ))
        .into());
    }
    // Rendering is CPU-bound: it runs on the render pool (rayon), never on the async
    // runtime, in waves of samples. A shutdown raises `stop`, and the render ends at the next
    // wave boundary with the waves it finished; `grace` later, `abort` stops the wave still
    // running (its samples lost). The same `abort` stops a render that runs past the render
    // time limit (`timed_out` says which of the two stopped it).
    let stop = Arc::new(AtomicBool::new(false));
    let abort = Arc::new(AtomicBool::new(false));
    let timed_out = Arc::new(AtomicBool::new(false));
    let max_seconds = config.limits.max_task_seconds;
    let watchdog = {
        let (stop, abort, timed_out) = (stop.clone(), abort.clone(), timed_out.clone());
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = async {
                    shutdown.cancelled().await;
                    stop.store(true, Ordering::Relaxed);
                    tokio::time::sleep(grace).await;
                } => {}
                _ = tokio::time::sleep(Duration::from_secs(max_seconds)) => {
                    timed_out.store(true, Ordering::Relaxed);
                }
            }
            abort.store(true, Ordering::Relaxed);
        })
    };
    let (frame, samples) = (task.frame, task.samples);
    let rect = PixelRect {
        x0: r.x0,
        y0: r.y0,
        x1: r.x1,
        y1: r.y1,
    };
    let waves = waves::Sizing::new(config.wave_samples, grace);
    // The whole wave loop runs on the render pool, so that each wave's rows are split there
    // rather than handed over from another thread wave after wave.
    let (sent, rendered) = tokio::sync::oneshot::channel();
    rayon::spawn(move || {
        let waves = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            waves::render(&scene, rect, samples, frame, waves, &stop, &abort)
        }));
        // The receiver is gone only when the task's future was dropped: nobody to tell.
        let _ = sent.send(waves);
    });
    let rendered = rendered.await;
    watchdog.abort();
    let waves = match rendered {
        Ok(Ok(waves)) => waves,
        Ok(Err(panic)) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned());
            return Err(TaskError::Scene(format!(
                "the renderer panicked: {}",
                what.unwrap_or_else(|| "unknown panic".into())
            ))
            .into());
        }
        Err(join) => return Err(TaskError::Transient(join.into()).into()),
    };
    cpu.render += waves.cpu;
    if waves.aborted && timed_out.load(Ordering::Relaxed) {
        return Err(Failed {
            error: TaskError::Scene(format!(
                "the task rendered for longer than the limit of {max_seconds} s (--max-task-seconds, MOONFARM_MAX_TASK_SECONDS); submit with a smaller --tile-size or more --passes"
            )),
            rendered: waves.rendered,
        });
    }
    let covered = SampleRange {
        start: samples.start,
        end: waves.end,
    };
    let tile = (!covered.is_empty()).then(|| {
        let weight = vec![covered.len() as f32; task.rect.pixel_count()];
        // An adaptive job's merger estimates each tile's error from the odd-numbered samples;
        // a uniform job's partial has no such channels.
        if task.params.adaptive.is_some() {
            TileBuffer::from_sums_with_odd(task.rect, &waves.sums, &waves.odd, &weight)
        } else {
            TileBuffer::from_sums(task.rect, &waves.sums, &weight)
        }
    });
    let done = Rendered {
        covered,
        rendered: waves.rendered,
        warnings,
        inline: None,
    };
    Ok((tile, done))
}

impl SceneCache {
    async fn get(
        &self,
        config: &Config,
        blobs: &Blobs,
        params: &RenderParams,
        cpu: &mut Duration,
    ) -> Result<(Arc<Scene>, Warnings), TaskError> {
        let key = cache_key(params);
        {
            let mut scenes = self.scenes.lock().unwrap();
            if let Some(i) = scenes.iter().position(|(k, _, _)| *k == key) {
                let entry = scenes.remove(i);
                let found = (entry.1.clone(), entry.2.clone());
                scenes.push(entry);
                return Ok(found);
            }
        }
        let mut sources = Vec::with_capacity(params.scene.len());
        let mut scene_bytes = 0u64;
        for f in &params.scene {
            let bytes = match blobs.get(&keys::scene(&f.sha256)).await {
                Ok(b) => b,
                Err(BlobError::NotFound { .. }) => {
                    return Err(TaskError::Scene(format!(
                        "scene file {} ({}) is missing from the blob store",
                        f.name, f.sha256
                    )))
                }
                Err(e) => return Err(e.into()),
            };
            scene_bytes += bytes.len() as u64;
            config
                .limits
                .scene_bytes(scene_bytes)
                .map_err(|e| TaskError::Scene(e.to_string()))?;
            sources.push(SceneSource {
                name: f.name.clone(),
                text: bytes.to_vec(),
            });
        }
        // The referenced files go to the scene builder under the names the scene wrote, so the
        // scene renders as if they were where it said, whatever this process's directory.
        let mut files = render::assets::Assets::new();
        for f in &params.assets {
            let bytes: Arc<[u8]> = if config.assets_in_place {
                tokio::fs::read(&f.name)
                    .await
                    .map_err(|e| TaskError::Scene(format!("referenced file {}: {e}", f.name)))?
                    .into()
            } else {
                self.assets
                    .fetch(blobs, f, config.asset_cache_bytes)
                    .await
                    .map_err(|e| match e {
                        assets::AssetError::Missing { .. } => TaskError::Scene(e.to_string()),
                        assets::AssetError::Transient(m) => {
                            TaskError::Transient(anyhow::anyhow!(m))
                        }
                    })?
            };
            files.insert(f.name.clone(), bytes);
        }
        let defaults = render::LuaLimits::default();
        let inputs = render::FrameInputs {
            env: params.env.clone(),
            // The limits the producer loaded the scene under, so a scene it accepted loads here.
            limits: params.lua.map_or(defaults, |l| render::LuaLimits {
                instructions: l.instructions,
                memory_bytes: usize::try_from(l.memory_bytes).unwrap_or(usize::MAX),
            }),
            frame: params.frame,
            rdla_set: params.rdla_set.clone(),
            ..render::FrameInputs::default()
        };
        let opts = BuildOptions {
            res: params.res,
            assets: files,
            ..BuildOptions::default()
        };
        // Timed on the thread that prepares it: the task that needed the scene pays for it.
        let (prepared, spent) = tokio::task::spawn_blocking(move || {
            cpu::measured(|| render::prepare_frame(&sources, &inputs, &opts))
        })
        .await
        .map_err(|e| TaskError::Transient(e.into()))?;
        *cpu += spent;
        let (scene, warnings) = prepared.map_err(|e| TaskError::Scene(e.to_string()))?;
        tracing::debug!(warnings = warnings.len(), "scene prepared");
        let scene = Arc::new(scene);
        let warnings: Warnings = warnings.into();
        let mut scenes = self.scenes.lock().unwrap();
        if !scenes.iter().any(|(k, _, _)| *k == key) {
            if scenes.len() >= SCENE_CACHE_SIZE {
                scenes.remove(0);
            }
            scenes.push((key, scene.clone(), warnings.clone()));
        }
        Ok((scene, warnings))
    }
}

fn cache_key(p: &RenderParams) -> String {
    let files: Vec<&str> = p.scene.iter().map(|f| f.sha256.as_str()).collect();
    // Assets by name and content: the same bytes under another name are another scene.
    let assets: Vec<String> = p
        .assets
        .iter()
        .map(|a| format!("{}={}", a.name, a.sha256))
        .collect();
    // The frame and the assignments change what the same files build.
    format!(
        "{}|{}|{:?}|{}|{:?}|{:?}",
        files.join(","),
        p.res,
        p.env,
        assets.join(","),
        p.frame,
        p.rdla_set
    )
}

#[cfg(test)]
mod tests;
