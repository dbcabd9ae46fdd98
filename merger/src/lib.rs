//! The merger: consumes tile-pass results, adds each partial buffer to its job's image exactly
//! once, writes a snapshot after every completed pass and the final EXR when the job is done,
//! and keeps the job's status current for `producer` to read.
//!
//! Durability: results are taken in batches (what arrives within a short window, up to a size); a batch is acknowledged only after each
//! touched job's checkpoint (the set of merged (tile, pass) pairs) is stored. The partial
//! buffers stay in the blob store, so a merger killed at any point restarts, rebuilds each
//! job's image from the checkpointed partials, and receives again whatever it had not
//! acknowledged: nothing is lost and nothing is counted twice. Only the merger writes final
//! images.

mod adaptive;
pub mod cli;
mod index;
pub mod notify;
pub mod schedule;

use anyhow::Context;
use bytes::Bytes;
use futures::StreamExt;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use shared::blob::Blobs;
use shared::exr_io::{self, Attr, ImageInfo};
use shared::film::{Accumulator, TileBuffer};
use shared::protocol::dispatch::{keys as dispatch_keys, Dispatch};
use shared::protocol::{
    self, keys, Checkpoint, FramePlan, FrameState, JobControl, JobId, JobManifest, JobState,
    JobStatus, Message, Record, SampleRange, StopMarker, TaskOutcome, TilePassResult,
    PROTOCOL_VERSION,
};
use shared::queue::{Delivery, Queue, Settle};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
pub struct Config {
    pub result_queue: String,
    /// The farm's task queue (the normal level's name, `shared::priority`): where adaptive
    /// jobs' next passes go, on their job's level.
    pub task_queue: String,
    /// The least time between two status writes of one job (pass ends and job ends are always
    /// written at once).
    pub status_interval: Duration,
    /// Results merged before one checkpoint and one round of acks, at most.
    pub batch: usize,
    /// How long a batch waits for more results after its first: results that trickle in share
    /// one checkpoint write instead of writing one each. Adds at most this to a result's ack.
    pub batch_window: Duration,
    /// Keep the partial buffers of ended jobs instead of deleting them.
    pub keep_partials: bool,
    /// A single-frame job's snapshot follows its first complete pass, then a later pass only
    /// once this long has passed since the last snapshot (zero: every pass).
    pub snapshot_interval: Duration,
    /// What a message, a manifest and a partial may be: checked before each is used, since
    /// anyone who can publish or write blobs may have made them.
    pub limits: shared::limits::Limits,
    /// How often the schedule of `--not-before` jobs is looked at: a job starts at most this
    /// long after its time. None runs no schedule (the embedded mode has none).
    pub schedule_interval: Option<Duration>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            result_queue: shared::queue::RESULT_QUEUE.into(),
            task_queue: shared::queue::TASK_QUEUE.into(),
            status_interval: Duration::from_millis(250),
            batch: 32,
            batch_window: Duration::from_millis(200),
            keep_partials: false,
            snapshot_interval: Duration::from_secs(10),
            limits: shared::limits::Limits::default(),
            schedule_interval: Some(Duration::from_secs(1)),
        }
    }
}

#[derive(Clone)]
pub struct Adapters {
    pub queue: Arc<dyn Queue>,
    pub blobs: Blobs,
}

/// The merger's Prometheus metrics.
#[derive(Clone, Default)]
pub struct Metrics {
    pub tiles_merged: Counter,
    pub bytes_merged: Counter,
    /// Seconds spent downloading, decoding and adding partials, as a float counter.
    pub merge_seconds: Counter<f64, std::sync::atomic::AtomicU64>,
    pub results_dead_lettered: Counter,
    pub jobs_active: Gauge,
    pub partials_deleted: Counter,
}

impl Metrics {
    pub fn register(&self, r: &mut Registry) {
        r.register(
            "moonfarm_merger_tiles_merged",
            "Partial buffers merged",
            self.tiles_merged.clone(),
        );
        r.register(
            "moonfarm_merger_bytes_merged",
            "Bytes of partial buffers merged",
            self.bytes_merged.clone(),
        );
        r.register(
            "moonfarm_merger_merge_seconds",
            "Seconds spent downloading, decoding and adding partials",
            self.merge_seconds.clone(),
        );
        r.register(
            "moonfarm_merger_results_dead_lettered",
            "Result messages dead-lettered",
            self.results_dead_lettered.clone(),
        );
        r.register(
            "moonfarm_merger_jobs_active",
            "Jobs being merged",
            self.jobs_active.clone(),
        );
        r.register(
            "moonfarm_merger_partials_deleted",
            "Partial buffers of ended jobs deleted",
            self.partials_deleted.clone(),
        );
    }
}

/// One job being merged. Owned by the merger loop alone.
///
/// Memory: only frames in progress (at least one partial merged, not yet complete) hold an
/// image; a complete frame's image is written and dropped at the next persist. Tasks are
/// published frame-major, so with W workers taking P tasks each, the frames in progress are
/// those the W x P tasks in flight belong to (at most W x P / tasks per frame + 2), plus any
/// frame waiting on a retried task.
struct Job {
    manifest: JobManifest,
    /// The frames in progress, by frame number.
    open: BTreeMap<i32, OpenFrame>,
    /// Frame number to its index in `status.frames` (and the manifest's frame plans).
    index: HashMap<i32, usize>,
    status: JobStatus,
    /// Throughput, in samples (pixels times samples per pixel): every (tile, pass) weighs its
    /// pixels times its pass's samples, so a small first pass counts for little.
    work: Work,
    last_status_write: Option<Instant>,
    /// When this merger last wrote the job's snapshot, and whether a pass completed since
    /// that the interval held back (written at a later persist once the interval has passed).
    last_snapshot: Option<Instant>,
    snapshot_due: bool,
    /// A merge since the last status write, which the interval held back: written once the
    /// interval has passed even if no further result comes (a paused job, a long last task).
    status_stale: bool,
    /// When this merger first merged a live result of the job (ms since the Unix epoch), and
    /// whether the index says it started: written once, with the first result.
    started_unix_ms: Option<u64>,
    index_started: bool,
    /// Something changed since the last checkpoint.
    dirty: bool,
    /// Adaptive jobs: the next passes decided since the last checkpoint, published just
    /// before it is stored (see `publish_next`).
    next: Vec<shared::protocol::TilePassTask>,
}

/// A frame in progress: its image so far and what is in it.
struct OpenFrame {
    acc: Accumulator,
    /// Tile-passes in `acc`, each with the sample ranges its partials covered (one range, or
    /// the pieces of workers stopped mid-task): a result delivered twice is counted once.
    merged: BTreeMap<(u32, u32), Vec<SampleRange>>,
    /// Pieces received of tile-passes not yet in `acc`: their ranges do not cover the pass
    /// yet. Their partials stay in the blob store, read once the pieces cover the pass.
    waiting: BTreeMap<(u32, u32), Vec<SampleRange>>,
    /// Tiles merged per pass.
    per_pass: Vec<u32>,
    /// Adaptive jobs: tiles that converged, by the last pass they took (`adaptive`).
    converged: BTreeMap<u32, u32>,
}

impl OpenFrame {
    fn new(m: &JobManifest) -> OpenFrame {
        OpenFrame {
            acc: Accumulator::new(m.params.width, m.params.height),
            merged: BTreeMap::new(),
            waiting: BTreeMap::new(),
            per_pass: vec![0; m.passes.len()],
            converged: BTreeMap::new(),
        }
    }

    /// Every tile-pass is merged, or belongs to a tile that converged before it.
    fn is_complete(&self, m: &JobManifest) -> bool {
        self.merged.len() + self.skipped(m.passes.len()) == m.tasks_per_frame()
    }

    /// Passes complete from the first on: a snapshot shows a prefix of the passes (later
    /// passes may finish first on a farm; they are merged but not yet counted). A tile that
    /// converged before a pass counts as complete in it.
    fn completed_passes(&self, tiles: usize) -> u32 {
        (0..self.per_pass.len())
            .take_while(|&p| (self.per_pass[p] + self.stopped_before(p)) as usize == tiles)
            .count() as u32
    }
}

/// Ranges among `pieces` that cover `pass` exactly, end to end, each sample once: the pieces a
/// tile-pass is merged from. Pieces overlap when a task was redelivered after its worker put
/// part of it back (killed between publishing the rest and acking), and the two lineages split
/// the range at different samples; each lineage alone covers the pass, so a cover exists once
/// either is complete. None while there is a gap.
fn cover(pass: SampleRange, pieces: &[SampleRange]) -> Option<Vec<SampleRange>> {
    // Depth-first from the pass's start, longest piece first: few pieces, a short search.
    let mut sorted: Vec<SampleRange> = pieces.iter().copied().filter(|p| !p.is_empty()).collect();
    sorted.sort_by_key(|p| (p.start, std::cmp::Reverse(p.end)));
    sorted.dedup();
    fn from(at: u32, end: u32, pieces: &[SampleRange], path: &mut Vec<SampleRange>) -> bool {
        if at == end {
            return true;
        }
        for p in pieces.iter().filter(|p| p.start == at && p.end <= end) {
            path.push(*p);
            if from(p.end, end, pieces, path) {
                return true;
            }
            path.pop();
        }
        false
    }
    let mut path = Vec::new();
    from(pass.start, pass.end, &sorted, &mut path).then_some(path)
}

/// A job's throughput and time left, from samples merged (not tasks: passes and edge tiles
/// differ in size). The clock starts when the first live result's render began (its arrival
/// less its render time), so neither a job's queueing before it nor the first result's
/// arrival at an instant makes the rate absurd; work restored from a checkpoint is done but
/// was not rendered in this merger's time, so it is left out of the rate.
#[derive(Debug, Clone)]
struct Work {
    total: f64,
    done: f64,
    /// When the clock started and how much work was done before it.
    start: Option<(Instant, f64)>,
    /// The last live result's arrival.
    last: Option<Instant>,
    /// (arrival, work done) at each live result, the recent half of the job's time: the rate
    /// over that half follows a farm whose workers come and go, or a machine whose load
    /// changes, where the rate since the start would lag.
    recent: std::collections::VecDeque<(Instant, f64)>,
}

impl Work {
    fn new(m: &JobManifest) -> Work {
        Work {
            total: frame_samples(m) * m.frame_count() as f64,
            done: 0.0,
            start: None,
            last: None,
            recent: std::collections::VecDeque::new(),
        }
    }

    fn add(&mut self, samples: f64, rendered_in: Option<f64>, now: Instant) {
        if let Some(seconds) = rendered_in {
            if self.start.is_none() {
                let began = now
                    .checked_sub(Duration::from_secs_f64(seconds.clamp(0.0, 86_400.0)))
                    .unwrap_or(now);
                self.start = Some((began, self.done));
            }
            self.last = Some(now);
        }
        self.done += samples;
        if let (Some(_), Some((began, _))) = (rendered_in, self.start) {
            self.recent.push_back((now, self.done));
            let half = now.duration_since(began) / 2;
            while self.recent.len() > 2 && self.recent[1].0 + half <= now {
                self.recent.pop_front();
            }
        }
    }

    fn fraction(&self) -> f64 {
        if self.total > 0.0 {
            (self.done / self.total).min(1.0)
        } else {
            1.0
        }
    }

    /// Samples per second of wall time since the clock started, once it has run 1 ms.
    fn rate(&self) -> Option<f64> {
        let (began, before) = self.start?;
        let seconds = self.last?.duration_since(began).as_secs_f64();
        (seconds >= 1e-3).then(|| (self.done - before) / seconds)
    }

    /// The rate over the recent half of the job's time, once it spans a few results; else
    /// the rate since the start.
    fn recent_rate(&self) -> Option<f64> {
        match (self.recent.front(), self.recent.back()) {
            (Some(&(t0, w0)), Some(&(t1, w1))) if self.recent.len() >= 4 => {
                let seconds = t1.duration_since(t0).as_secs_f64();
                (seconds >= 1e-3).then(|| (w1 - w0) / seconds)
            }
            _ => self.rate(),
        }
    }

    fn eta(&self) -> Option<f64> {
        let rate = self.recent_rate().filter(|r| *r > 0.0)?;
        Some((self.total - self.done).max(0.0) / rate)
    }
}

/// Samples (pixels times samples per pixel) of one frame.
fn frame_samples(m: &JobManifest) -> f64 {
    let pixels: f64 = m.tiles.iter().map(|t| t.pixel_count() as f64).sum();
    pixels * f64::from(m.spp())
}

/// A job the merger has finished with: only its end state is kept, to ack late results.
enum Entry {
    Active(Box<Job>),
    Ended(JobState),
}

pub async fn run(
    config: &Config,
    adapters: Adapters,
    metrics: Metrics,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let mut consumer = adapters
        .queue
        .consume(&config.result_queue, (config.batch as u16).max(1))
        .await
        .with_context(|| format!("consuming {}", config.result_queue))?;
    let mut jobs: HashMap<JobId, Entry> = HashMap::new();
    let mut subscriptions = consumer.resubscriptions();
    // The schedule runs beside the result loop and stops with it, whichever way it ends.
    let schedule_stop = shutdown.child_token();
    let _stop_schedule = schedule_stop.clone().drop_guard();
    if let Some(every) = config.schedule_interval {
        tokio::spawn(schedule::run(
            adapters.blobs.clone(),
            adapters.queue.clone(),
            Arc::new(shared::lifecycle::SystemClock),
            every,
            schedule_stop,
        ));
    }
    tracing::info!(queue = %config.result_queue, "merger started");
    loop {
        let stale = jobs
            .values()
            .any(|e| matches!(e, Entry::Active(j) if j.status_stale));
        let first = tokio::select! {
            _ = shutdown.cancelled() => break,
            d = consumer.next() => d?,
            _ = tokio::time::sleep(config.status_interval), if stale => {
                write_stale_statuses(&adapters.blobs, &mut jobs).await;
                continue;
            }
        };
        let Some(first) = first else { break };
        // Take what else comes within the batch window, up to a batch.
        let mut batch = vec![first];
        let window_ends = tokio::time::Instant::now() + config.batch_window;
        while batch.len() < config.batch {
            match tokio::time::timeout_at(window_ends, consumer.next()).await {
                Ok(Ok(Some(d))) => batch.push(d),
                Ok(Ok(None)) | Err(_) => break,
                Ok(Err(e)) => return Err(e.into()),
            }
        }
        if consumer.resubscriptions() != subscriptions {
            // Subscribed again after losing the channel: on a single-active-consumer result
            // queue a standby may have merged meanwhile, so every job is read again from
            // its checkpoint rather than trusted from memory.
            subscriptions = consumer.resubscriptions();
            tracing::info!(
                jobs = jobs.len(),
                "subscribed again; jobs reload from their checkpoints"
            );
            jobs.clear();
        }
        handle_batch(config, &adapters, &metrics, &mut jobs, batch).await?;
        metrics.jobs_active.set(
            jobs.values()
                .filter(|e| matches!(e, Entry::Active(_)))
                .count() as i64,
        );
    }
    Ok(())
}

/// Writes the status of every job whose last merge the status interval held back, when no
/// result has come for that long. A failed write is logged and tried again next time.
async fn write_stale_statuses(blobs: &Blobs, jobs: &mut HashMap<JobId, Entry>) {
    for (id, entry) in jobs.iter_mut() {
        let Entry::Active(job) = entry else { continue };
        if !job.status_stale {
            continue;
        }
        if let Err(e) = write_status(blobs, id, job).await {
            tracing::warn!(job = %id, "writing the job's status failed, will retry: {e}");
        }
    }
}

/// Stores the job's status and notes when; it is no longer stale.
async fn write_status(
    blobs: &Blobs,
    id: &JobId,
    job: &mut Job,
) -> Result<(), shared::blob::BlobError> {
    blobs.put(&keys::status(id), job.status.to_bytes()).await?;
    job.last_status_write = Some(Instant::now());
    job.status_stale = false;
    Ok(())
}

/// What to do with one delivery once the batch's checkpoints are stored.
enum Pending {
    /// Ack after the checkpoint of this job (if any) is durable.
    Ack(Option<JobId>),
    Settle(Settle),
}

/// Partials downloaded and decoded ahead of merging, by blob key, with their size in bytes.
type Prefetched = HashMap<String, Result<(TileBuffer, usize), MergeError>>;

/// Decodes the batch's partials, downloading (several at a time) those that did not come in
/// their message: merging is then a matter of additions, and the batch's wall time is not the
/// sum of its blob round trips. All of the batch's decoding is one piece of work off the
/// runtime, so that a batch of small partials costs one hand-over to the blocking pool, not
/// one per partial.
async fn prefetch(
    adapters: &Adapters,
    limits: &shared::limits::Limits,
    messages: &[Result<Message, protocol::DecodeError>],
) -> Prefetched {
    let mut inline = Vec::new();
    let mut keys = Vec::new();
    for m in messages {
        // Another job's blob is never fetched, nor its inline partial decoded: `merge`
        // refuses the result.
        if let Ok(Message::Result(TilePassResult {
            job,
            outcome:
                TaskOutcome::Rendered {
                    partial_key,
                    partial,
                },
            ..
        })) = m
        {
            if !keys::is_partial_of(job, partial_key) {
                continue;
            }
            match partial {
                Some(bytes) => inline.push((partial_key.clone(), Ok(bytes.clone()))),
                None => keys.push(partial_key.clone()),
            }
        }
    }
    let downloaded: Vec<(String, Result<Bytes, MergeError>)> = futures::stream::iter(keys)
        .map(|key| async move {
            let bytes = adapters.blobs.get(&key).await.map_err(transient);
            (key, bytes)
        })
        .buffer_unordered(8)
        .collect()
        .await;
    let fetched: Vec<_> = inline.into_iter().chain(downloaded).collect();
    if fetched.is_empty() {
        return Prefetched::new();
    }
    let limits = *limits;
    let keys: Vec<String> = fetched.iter().map(|(k, _)| k.clone()).collect();
    match off_runtime(move || {
        fetched
            .into_iter()
            .map(|(key, bytes)| {
                // A decoder that panics on hostile bytes refuses that partial (dead-lettered
                // with its result), not the batch: retried, it would panic again forever.
                let decoded = bytes.and_then(|bytes| {
                    std::panic::catch_unwind(|| decode_checked(&limits, &key, &bytes))
                        .unwrap_or_else(|_| {
                            Err(MergeError::Permanent(format!(
                                "partial {key}: the EXR decoder panicked on it"
                            )))
                        })
                });
                (key, decoded)
            })
            .collect::<Prefetched>()
    })
    .await
    {
        Ok(decoded) => decoded,
        // The blocking pool is gone (the runtime is shutting down): every partial of the
        // batch is retried.
        Err(e) => {
            let e = anyhow::Error::from(e);
            keys.into_iter()
                .map(|k| (k, Err(MergeError::Transient(anyhow::anyhow!("{e:#}")))))
                .collect()
        }
    }
}

/// A partial's bytes, checked against the partial size limit and decoded (CPU work: called
/// off the runtime), with their size.
fn decode_checked(
    limits: &shared::limits::Limits,
    key: &str,
    bytes: &[u8],
) -> Result<(TileBuffer, usize), MergeError> {
    limits
        .partial(bytes.len() as u64)
        .map_err(|e| MergeError::Permanent(format!("partial {key}: {e}")))?;
    let decoded =
        exr_io::decode(bytes).map_err(|e| MergeError::Permanent(format!("partial {key}: {e}")))?;
    Ok((decoded.tile, bytes.len()))
}

async fn handle_batch(
    config: &Config,
    adapters: &Adapters,
    metrics: &Metrics,
    jobs: &mut HashMap<JobId, Entry>,
    batch: Vec<Delivery>,
) -> anyhow::Result<()> {
    let messages: Vec<_> = batch
        .iter()
        .map(|d| decode_limited(&config.limits, &d.payload))
        .collect();
    let started = Instant::now();
    let mut prefetched = prefetch(adapters, &config.limits, &messages).await;
    metrics
        .merge_seconds
        .inc_by(started.elapsed().as_secs_f64());
    let mut pending = Vec::with_capacity(batch.len());
    for message in messages {
        let p = match message.map_err(undecodable) {
            Ok(Message::Result(r)) => {
                match merge(config, adapters, metrics, jobs, &r, &mut prefetched).await {
                    Ok(()) => Pending::Ack(Some(r.job.clone())),
                    Err(e) => {
                        log_failure(&r.job, &e);
                        Pending::Settle(error_policy(&e))
                    }
                }
            }
            Ok(Message::Control(JobControl::Cancel { job })) => {
                match cancel(&config.limits, adapters, metrics, jobs, &job).await {
                    Ok(()) => Pending::Ack(Some(job)),
                    Err(e) => {
                        // A cancel is retried whatever went wrong: it must not be lost.
                        tracing::warn!(%job, "cancel failed, will retry: {e:#}");
                        Pending::Settle(Settle::Retry)
                    }
                }
            }
            Ok(Message::Task(_)) => Pending::Settle(error_policy(&MergeError::Permanent(
                "a task on the result queue".into(),
            ))),
            Err(e) => Pending::Settle(error_policy(&e)),
        };
        if matches!(p, Pending::Settle(Settle::DeadLetter(_))) {
            metrics.results_dead_lettered.inc();
        }
        pending.push(p);
    }
    // Images, status and checkpoints of every touched job, then the acks. A job whose writes
    // fail is forgotten and its results returned: the next delivery rebuilds it from the last
    // durable checkpoint, so memory never runs ahead of what is stored.
    let touched: HashSet<JobId> = pending
        .iter()
        .filter_map(|p| {
            if let Pending::Ack(Some(j)) = p {
                Some(j.clone())
            } else {
                None
            }
        })
        .collect();
    let mut failed_jobs = HashSet::new();
    for id in touched {
        match persist(config, adapters, jobs, &id).await {
            Ok(true) => {
                delete_parked(adapters, &id);
                if !config.keep_partials {
                    delete_partials(adapters, metrics, &id);
                }
            }
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(job = %id, "storing the job's progress failed, will retry: {e:#}");
                jobs.remove(&id);
                failed_jobs.insert(id);
            }
        }
    }
    for (delivery, p) in batch.into_iter().zip(pending) {
        let how = match p {
            Pending::Ack(Some(job)) if failed_jobs.contains(&job) => Settle::Retry,
            Pending::Ack(_) => Settle::Ack,
            Pending::Settle(how) => how,
        };
        delivery.settle(how).await?;
    }
    Ok(())
}

/// A delivery's message, an oversized one refused unread.
fn decode_limited(
    limits: &shared::limits::Limits,
    payload: &[u8],
) -> Result<Message, protocol::DecodeError> {
    if let Err(e) = limits.message_bytes(payload.len()) {
        return Err(protocol::DecodeError::Garbage {
            what: "message",
            len: payload.len(),
            reason: e.to_string(),
        });
    }
    protocol::decode(payload)
}

/// Decodes a partial on the blocking pool: EXR decoding is CPU work, which never runs on the
/// async runtime (it would stall every other delivery, blob request and the health endpoint).
async fn decode_partial(
    key: &str,
    bytes: impl AsRef<[u8]> + Send + 'static,
) -> Result<TileBuffer, MergeError> {
    let decoded = off_runtime(move || exr_io::decode(bytes.as_ref()))
        .await
        .map_err(transient)?;
    decoded
        .map(|d| d.tile)
        .map_err(|e| MergeError::Permanent(format!("partial {key}: {e}")))
}

/// Runs CPU work (EXR decoding and encoding, the image's normalisation) on the blocking pool.
async fn off_runtime<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, tokio::task::JoinError> {
    tokio::task::spawn_blocking(move || {
        let out = work();
        #[cfg(test)]
        tests::off_runtime::work_done();
        out
    })
    .await
}

#[derive(Debug, thiserror::Error)]
enum MergeError {
    #[error("{0}")]
    Permanent(String),
    #[error("{0:#}")]
    Transient(anyhow::Error),
}

fn transient<E: Into<anyhow::Error>>(e: E) -> MergeError {
    MergeError::Transient(e.into())
}

/// A delivery that is not a message of this protocol version: it will never decode.
fn undecodable(e: protocol::DecodeError) -> MergeError {
    MergeError::Permanent(e.to_string())
}

/// The merger's error policy: what a result it could not merge means for the queue. Permanent
/// errors (undecodable messages, results of jobs without a manifest or outside their job,
/// partials that do not decode or fit) are dead-lettered with the reason; transient ones (blob
/// store or queue trouble, a missing partial included) go back to the queue.
fn error_policy(error: &MergeError) -> Settle {
    match error {
        MergeError::Permanent(reason) => Settle::DeadLetter(reason.clone()),
        MergeError::Transient(_) => Settle::Retry,
    }
}

fn log_failure(job: &JobId, error: &MergeError) {
    match error {
        MergeError::Permanent(reason) => tracing::error!(%job, "result dropped: {reason}"),
        MergeError::Transient(e) => tracing::warn!(%job, "merge failed, will retry: {e:#}"),
    }
}

/// The job's entry, loading the manifest and rebuilding from the checkpoint on first sight.
async fn entry<'j>(
    limits: &shared::limits::Limits,
    adapters: &Adapters,
    metrics: &Metrics,
    jobs: &'j mut HashMap<JobId, Entry>,
    id: &JobId,
) -> Result<&'j mut Entry, MergeError> {
    if !jobs.contains_key(id) {
        let loaded = load_job(limits, adapters, metrics, id).await?;
        jobs.insert(id.clone(), loaded);
    }
    Ok(jobs.get_mut(id).expect("inserted above"))
}

async fn load_job(
    limits: &shared::limits::Limits,
    adapters: &Adapters,
    metrics: &Metrics,
    id: &JobId,
) -> Result<Entry, MergeError> {
    let Some(bytes) = adapters
        .blobs
        .get_opt(&keys::manifest(id))
        .await
        .map_err(transient)?
    else {
        return Err(MergeError::Permanent(format!("job {id} has no manifest")));
    };
    let manifest =
        JobManifest::from_bytes(&bytes).map_err(|e| MergeError::Permanent(e.to_string()))?;
    // The image is allocated from the manifest: a manifest past the limits is refused first.
    limits
        .manifest(&manifest)
        .map_err(|e| MergeError::Permanent(format!("manifest of job {id}: {e}")))?;
    let mut job = Job::new(manifest);
    if let Some(bytes) = adapters
        .blobs
        .get_opt(&keys::checkpoint(id))
        .await
        .map_err(transient)?
    {
        let cp = Checkpoint::from_bytes(&bytes)
            .map_err(|e| MergeError::Permanent(format!("checkpoint of job {id}: {e}")))?;
        if cp.state != JobState::Rendering {
            return Ok(Entry::Ended(cp.state));
        }
        tracing::info!(job = %id, partials = cp.merged.len(), "resuming from checkpoint");
        // The frames' states and tallies as checkpointed: done frames are not rebuilt.
        if cp.frames.len() == job.status.frames.len() {
            job.status.frames = cp.frames;
        }
        job.status.tasks = protocol::Tally::sum(job.status.frames.iter().map(|f| &f.tasks));
        let per_frame = frame_samples(&job.manifest);
        let done_frames = job
            .status
            .frames
            .iter()
            .filter(|f| f.state == FrameState::Done)
            .count();
        job.work
            .add(per_frame * done_frames as f64, None, Instant::now());
        // Rebuild the frames in progress from the partials the checkpoint lists, several
        // downloads at once; a tile-pass merged in pieces is added back with all of them.
        let job_id = &job.manifest.job;
        let mut partials = futures::stream::iter(cp.merged.iter().copied())
            .map(|(frame, tile, pass, start, end)| async move {
                let samples = SampleRange { start, end };
                let key = keys::partial(job_id, frame, tile, pass, samples);
                let bytes = adapters.blobs.get(&key).await.map_err(transient)?;
                let buffer = decode_partial(&key, bytes).await?;
                Ok::<_, MergeError>(((frame, tile, pass), (samples, buffer)))
            })
            .buffer_unordered(8);
        let mut tiles: BTreeMap<(i32, u32, u32), Vec<(SampleRange, TileBuffer)>> = BTreeMap::new();
        while let Some(p) = partials.next().await {
            let (at, piece) = p?;
            tiles.entry(at).or_default().push(piece);
        }
        drop(partials);
        for ((frame, tile, pass), pieces) in tiles {
            job.check_pass(tile, pass)?;
            job.add(frame, tile, pass, &pieces, None)?;
            metrics.tiles_merged.inc();
        }
        for (frame, tile, pass, start, end) in cp.waiting {
            job.check_pass(tile, pass)?;
            job.wait(frame, tile, pass, SampleRange { start, end });
        }
        // The decisions as taken, not taken again: the next passes of the tiles that went on
        // were published before this checkpoint was stored.
        for (frame, tile, pass) in cp.converged {
            job.check_pass(tile, pass)?;
            if !job.index.contains_key(&frame) {
                return Err(MergeError::Permanent(format!(
                    "checkpoint of job {id} names frame {frame}, which the job does not have"
                )));
            }
            job.restore_converged(frame, tile, pass);
        }
        if job.manifest.params.adaptive.is_some() {
            // The checkpointed tallies count converged tiles' tasks out already.
            job.status.tasks_total = job.status.tasks.total;
        }
        job.status.tasks_done = job.status.tasks.done;
        job.status.failures = cp.failures;
        job.status.snapshot_generation = cp.snapshot_generation;
        job.status.passes_done = job.completed_passes();
        job.index_started = job.status.tasks_done > 0;
        // A frame complete but not yet written (cannot happen: its image is stored before
        // the checkpoint that drops it) would be written at the next persist.
        let m = &job.manifest;
        job.dirty = job.open.values().any(|f| f.is_complete(m));
    }
    Ok(Entry::Active(Box::new(job)))
}

async fn merge(
    config: &Config,
    adapters: &Adapters,
    metrics: &Metrics,
    jobs: &mut HashMap<JobId, Entry>,
    r: &TilePassResult,
    prefetched: &mut Prefetched,
) -> Result<(), MergeError> {
    let job = match entry(&config.limits, adapters, metrics, jobs, &r.job).await? {
        Entry::Active(job) => job,
        Entry::Ended(state) => {
            // Finished, failed or cancelled: late results change nothing, and their partials,
            // stored after the job's were deleted, go too.
            tracing::debug!(job = %r.job, ?state, "result for an ended job");
            if let (TaskOutcome::Rendered { partial_key, .. }, false) =
                (&r.outcome, config.keep_partials)
            {
                // Only the key a task of this job writes: a result naming another blob
                // deletes nothing.
                if *partial_key == keys::partial(&r.job, r.frame, r.tile, r.pass, r.samples) {
                    adapters
                        .blobs
                        .delete(partial_key)
                        .await
                        .map_err(transient)?;
                    metrics.partials_deleted.inc();
                }
            }
            return Ok(());
        }
    };
    let Some(&at) = job.index.get(&r.frame) else {
        return Err(MergeError::Permanent(format!(
            "result for frame {}, which job {} does not have",
            r.frame, r.job
        )));
    };
    if r.tile as usize >= job.manifest.tiles.len() || r.pass as usize >= job.manifest.passes.len() {
        return Err(MergeError::Permanent(format!(
            "result for tile {} pass {} is outside job {}",
            r.tile, r.pass, r.job
        )));
    }
    let frame_done = job.status.frames[at].state == FrameState::Done;
    let merged_before = job
        .open
        .get(&r.frame)
        .is_some_and(|f| f.merged.contains_key(&(r.tile, r.pass)));
    if frame_done || merged_before {
        return Ok(()); // a redelivered task's second result
    }
    if job
        .open
        .get(&r.frame)
        .is_some_and(|f| f.converged_before(r.tile, r.pass))
    {
        // A pass of a tile that converged before it: never published, so a stray copy.
        tracing::debug!(job = %r.job, frame = r.frame, tile = r.tile, pass = r.pass, "result for a converged tile's later pass ignored");
        return Ok(());
    }
    match &r.outcome {
        TaskOutcome::Failed { reason } => {
            job.status.state = JobState::Failed;
            let what = if job.manifest.is_sequence() {
                format!("frame {} tile {} pass {}", r.frame, r.tile, r.pass)
            } else {
                format!("tile {} pass {}", r.tile, r.pass)
            };
            job.status
                .failures
                .push(format!("{what} on {}: {reason}", r.worker));
            job.status.frames[at].state = FrameState::Failed;
            job.status.frames[at].tasks.failed(r.cpu_seconds, r.attempt);
            job.status.tasks.failed(r.cpu_seconds, r.attempt);
            job.update_cost();
            job.dirty = true;
        }
        TaskOutcome::Rendered { partial_key, .. } if !keys::is_partial_of(&r.job, partial_key) => {
            return Err(MergeError::Permanent(format!(
                "result of job {} for tile {} pass {} names blob {partial_key:?}, which is not \
                 one of that job's partials (under {}/)",
                r.job,
                r.tile,
                r.pass,
                keys::partials(&r.job)
            )));
        }
        TaskOutcome::Rendered { partial_key, .. } => {
            let started = Instant::now();
            let pass = job.manifest.passes[r.pass as usize];
            if r.samples.is_empty() || r.samples.start < pass.start || r.samples.end > pass.end {
                return Err(MergeError::Permanent(format!(
                    "result for tile {} pass {} covers samples {}..{}, not a part of its pass's {}..{}",
                    r.tile, r.pass, r.samples.start, r.samples.end, pass.start, pass.end
                )));
            }
            if *partial_key != keys::partial(&r.job, r.frame, r.tile, r.pass, r.samples) {
                return Err(MergeError::Permanent(format!(
                    "result for tile {} pass {} names partial {partial_key}, not its own",
                    r.tile, r.pass
                )));
            }
            let waiting = job
                .open
                .get(&r.frame)
                .and_then(|f| f.waiting.get(&(r.tile, r.pass)));
            if waiting.is_some_and(|w| w.contains(&r.samples)) {
                return Ok(()); // a piece delivered twice
            }
            let mut pieces = waiting.cloned().unwrap_or_default();
            pieces.push(r.samples);
            let Some(ranges) = cover(pass, &pieces) else {
                // A piece of an interrupted task: kept (its partial in the blob store, its
                // range in the checkpoint) until the rest of the pass is in. Its partial was
                // prefetched, so one that does not decode is refused now, not at the end.
                if let Some(Err(_)) = prefetched.get(partial_key) {
                    if let Some(Err(e)) = prefetched.remove(partial_key) {
                        return Err(e);
                    }
                }
                job.wait(r.frame, r.tile, r.pass, r.samples);
                job.status.frames[at]
                    .tasks
                    .piece(r.cpu_seconds, r.samples_taken, r.interrupted);
                job.status
                    .tasks
                    .piece(r.cpu_seconds, r.samples_taken, r.interrupted);
                job.update_cost();
                return Ok(());
            };
            // The pass is covered: its pieces (or its one partial) go into the image together,
            // each read from the batch's prefetch or else from the blob store.
            let mut buffers = Vec::with_capacity(ranges.len());
            let mut bytes = 0;
            for range in ranges {
                let key = keys::partial(&r.job, r.frame, r.tile, r.pass, range);
                let (tile, len) = match prefetched.remove(&key) {
                    Some(fetched) => fetched?,
                    // A piece received earlier, or a second result for the same key in one
                    // batch (its partial was taken by the first): fetch it again.
                    None => {
                        let bytes = adapters.blobs.get(&key).await.map_err(transient)?;
                        let len = bytes.len();
                        (decode_partial(&key, bytes).await?, len)
                    }
                };
                bytes += len;
                buffers.push((range, tile));
            }
            job.add(r.frame, r.tile, r.pass, &buffers, Some(r.render_seconds))?;
            // Adaptive: the tile goes on (its next pass is published before the checkpoint
            // that holds this one) or has converged.
            if let Some(next) = job.decide(r.frame, r.tile, r.pass) {
                job.next.push(next);
            }
            for tally in [&mut job.status.frames[at].tasks, &mut job.status.tasks] {
                tally.piece(r.cpu_seconds, r.samples_taken, r.interrupted);
                tally.merged(0.0, r.attempt);
            }
            job.status.tasks_done = job.status.tasks.done;
            job.update_cost();
            metrics.tiles_merged.inc();
            metrics.bytes_merged.inc_by(bytes as u64);
            metrics
                .merge_seconds
                .inc_by(started.elapsed().as_secs_f64());
        }
    }
    Ok(())
}

async fn cancel(
    limits: &shared::limits::Limits,
    adapters: &Adapters,
    metrics: &Metrics,
    jobs: &mut HashMap<JobId, Entry>,
    id: &JobId,
) -> Result<(), MergeError> {
    if let Entry::Active(job) = entry(limits, adapters, metrics, jobs, id).await? {
        job.status.state = JobState::Cancelled;
        for f in &mut job.status.frames {
            if !f.state.is_terminal() {
                f.state = FrameState::Cancelled;
            }
        }
        job.dirty = true;
    }
    Ok(())
}

/// Deletes an ended job's partial buffers, in the background. Its final image (or end state),
/// status and checkpoint are stored by then, so nothing reads them again: a restarted merger
/// sees the job ended and rebuilds nothing. What a failure leaves behind is logged; a late
/// result for the job deletes its own partial (see `merge`).
fn delete_partials(adapters: &Adapters, metrics: &Metrics, id: &JobId) {
    let (blobs, metrics, id) = (adapters.blobs.clone(), metrics.clone(), id.clone());
    tokio::spawn(async move {
        match blobs.delete_folder(&keys::partials(&id)).await {
            Ok(n) => {
                metrics.partials_deleted.inc_by(n);
                tracing::info!(job = %id, partials = n, "partials deleted");
            }
            Err(e) => {
                tracing::warn!(job = %id, "deleting the job's partials failed; they stay in the store: {e}")
            }
        }
    });
}

/// Deletes an ended job's parked queue, if it was ever paused (`shared::parking`): whatever
/// is still in it would never render. In the background, like the partials; a failure is
/// logged and leaves an idle queue behind, nothing else.
fn delete_parked(adapters: &Adapters, id: &JobId) {
    let (blobs, queue, id) = (adapters.blobs.clone(), adapters.queue.clone(), id.clone());
    tokio::spawn(async move {
        let record = match blobs.get_opt(&dispatch_keys::dispatch(&id)).await {
            Ok(Some(bytes)) => Dispatch::from_bytes(&bytes),
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(job = %id, "cannot read the ended job's dispatch record; its parked queue, if any, stays: {e}");
                return;
            }
        };
        let Some(name) = record.as_ref().ok().and_then(|d| d.parked_queue()) else {
            return;
        };
        match queue.delete(name).await {
            Ok(()) => tracing::info!(job = %id, queue = name, "parked queue deleted"),
            Err(e) => {
                tracing::warn!(job = %id, queue = name, "deleting the parked queue failed: {e}")
            }
        }
    });
}

/// Stores what changed in a job: snapshot or final image, status, stop marker, checkpoint.
/// True when the job ended with this write.
async fn persist(
    config: &Config,
    adapters: &Adapters,
    jobs: &mut HashMap<JobId, Entry>,
    id: &JobId,
) -> anyhow::Result<bool> {
    let Some(Entry::Active(job)) = jobs.get_mut(id) else {
        return Ok(false);
    };
    if !job.dirty {
        return Ok(false);
    }
    let b = &adapters.blobs;
    let passes_done = job.completed_passes();
    let pass_completed = passes_done > job.status.passes_done;
    job.status.passes_done = passes_done;
    let rendering = job.status.state == JobState::Rendering;
    // Each complete frame's image is written now, before the checkpoint that drops the frame:
    // early frames are there as soon as they are complete, and their memory is freed.
    let complete: Vec<i32> = job
        .open
        .iter()
        .filter(|(_, f)| f.is_complete(&job.manifest))
        .map(|(n, _)| *n)
        .collect();
    let mut frame_completed = false;
    for n in complete.into_iter().filter(|_| rendering) {
        frame_completed = true;
        let image = job.encode(n, true).await?;
        b.put(&job.manifest.image_key(n), image).await?;
        job.open.remove(&n);
        let at = job.index[&n];
        job.status.frames[at].state = FrameState::Done;
        tracing::info!(job = %id, frame = n, "frame complete");
    }
    let frames_done = job
        .status
        .frames
        .iter()
        .filter(|f| f.state == FrameState::Done)
        .count();
    if rendering && frames_done == job.status.frames.len() {
        job.status.state = JobState::Done;
        job.status.eta_seconds = Some(0.0);
        job.status.passes_done = job.status.passes_total;
        tracing::info!(job = %id, "job complete");
    } else if rendering && (pass_completed || job.snapshot_due) && !job.manifest.is_sequence() {
        // A snapshot of a single-frame job (a sequence's frames are its progress): the first
        // pass's at once, later ones at most every `snapshot_interval`.
        let n = job.manifest.frame;
        let wait_over = job
            .last_snapshot
            .is_none_or(|t| t.elapsed() >= config.snapshot_interval);
        if job.open.contains_key(&n) && (job.status.snapshot_generation == 0 || wait_over) {
            b.put(&keys::snapshot(id), job.encode(n, false).await?)
                .await?;
            job.status.snapshot_generation += 1;
            job.last_snapshot = Some(Instant::now());
            job.snapshot_due = false;
        } else {
            job.snapshot_due = true;
        }
    }
    let ended = job.status.state != JobState::Rendering;
    if matches!(job.status.state, JobState::Failed | JobState::Cancelled) {
        // Tells workers to drop the job's remaining tasks instead of rendering them.
        b.put(
            &keys::stopped(id),
            StopMarker::new(id, job.status.state).to_bytes(),
        )
        .await?;
    }
    // The index before the status: whoever sees the status's end finds the index ended too.
    let now_ms = schedule::unix_ms(&shared::lifecycle::SystemClock);
    // What `producer list` shows of the job: frames done of total, tasks, core-seconds, cost.
    let frames_done = job
        .status
        .frames
        .iter()
        .filter(|f| f.state == FrameState::Done)
        .count() as u32;
    let frames_total = job.status.frames.len() as u32;
    let (done, total) = (job.status.tasks_done, job.status.tasks_total);
    let (core_seconds, cost) = (job.status.tasks.core_seconds, job.status.cost);
    let tallies = move |e: &mut shared::protocol::index::JobIndex| {
        (e.tasks_done, e.tasks_total) = (done, total);
        (e.frames_done, e.frames_total) = (frames_done, frames_total);
        e.core_seconds = Some(core_seconds);
        e.cost = cost;
    };
    let first = rendered_first(job);
    if !ended && (first || frame_completed) {
        index::update(b, id, |e| {
            // Through the one transition function: a paused job's entry stays paused while
            // the results of its tasks in flight come in.
            if let Ok(state) =
                shared::lifecycle::transition(e.state, shared::lifecycle::Event::Progress)
            {
                e.state = state;
            }
            e.started_unix_ms.get_or_insert(now_ms);
            tallies(e);
        })
        .await?;
        if first {
            job.index_started = true;
            job.started_unix_ms = Some(now_ms);
        }
    }
    if ended {
        let state = lifecycle_state(job.status.state);
        index::update(b, id, |e| {
            e.state = state;
            // A job whose first result also ended it (one task) started when that came in.
            if first {
                e.started_unix_ms.get_or_insert(now_ms);
            }
            e.finished_unix_ms = Some(now_ms);
            tallies(e);
        })
        .await?;
        if first {
            job.index_started = true;
            job.started_unix_ms = Some(now_ms);
        }
    }
    if ended
        || pass_completed
        || job
            .last_status_write
            .is_none_or(|t| t.elapsed() >= config.status_interval)
    {
        write_status(b, id, job).await?;
    } else {
        job.status_stale = true;
    }
    // Before the checkpoint that holds the passes they follow: a merger that dies in between
    // publishes them again after its restart (the results come back unacknowledged), and a
    // duplicate task is merged once; a next pass is never lost.
    let next = std::mem::take(&mut job.next);
    if job.status.state == JobState::Rendering && !next.is_empty() {
        publish_next(config, adapters, &job.manifest, next).await?;
    }
    let checkpoint = Checkpoint {
        version: PROTOCOL_VERSION,
        job: id.clone(),
        merged: ranges(&job.open, |f| &f.merged),
        waiting: ranges(&job.open, |f| &f.waiting),
        converged: job
            .open
            .iter()
            .flat_map(|(n, f)| f.converged.iter().map(move |(t, p)| (*n, *t, *p)))
            .collect(),
        frames: job.status.frames.clone(),
        state: job.status.state,
        failures: job.status.failures.clone(),
        snapshot_generation: job.status.snapshot_generation,
    };
    b.put(&keys::checkpoint(id), checkpoint.to_bytes()).await?;
    job.dirty = false;
    if ended {
        notify::spawn(b.clone(), ending(job, now_ms));
        let state = job.status.state;
        jobs.insert(id.clone(), Entry::Ended(state));
    }
    Ok(ended)
}

/// Publishes an adaptive job's next passes where the job's tasks go now: on the queue of the
/// level its dispatch record gives (the manifest's when there is none), or, while it is
/// paused, on its parked queue, from which `producer resume` queues them. The record is read
/// again after parking, as a worker does (`shared::parking`): if a resume ran meanwhile, the
/// parked tasks are moved back here, so whichever of the two moves last finds them.
async fn publish_next(
    config: &Config,
    adapters: &Adapters,
    m: &JobManifest,
    next: Vec<shared::protocol::TilePassTask>,
) -> anyhow::Result<()> {
    let record = read_dispatch(&adapters.blobs, &m.job).await?;
    let level = |d: &Option<Dispatch>| d.as_ref().map_or(m.priority, |d| d.priority);
    let paused = record.as_ref().is_some_and(|d| d.paused);
    let queue = if paused {
        shared::parking::parked_queue(&config.task_queue, &m.job)
    } else {
        level(&record).queue(&config.task_queue)
    };
    let n = next.len();
    for task in next {
        adapters
            .queue
            .publish(&queue, protocol::encode(&Message::Task(task)))
            .await?;
    }
    tracing::debug!(job = %m.job, tasks = n, %queue, "next passes published");
    if paused {
        let now = read_dispatch(&adapters.blobs, &m.job).await?;
        if !now.as_ref().is_some_and(|d| d.paused) {
            let to = level(&now).queue(&config.task_queue);
            let moved = shared::parking::move_all(adapters.queue.as_ref(), &queue, &to).await?;
            tracing::info!(job = %m.job, moved, "job resumed while next passes were parked: queued again");
        }
    }
    Ok(())
}

/// The job's dispatch record (priority now, paused), None when it has none.
async fn read_dispatch(blobs: &Blobs, job: &JobId) -> anyhow::Result<Option<Dispatch>> {
    match blobs.get_opt(&dispatch_keys::dispatch(job)).await? {
        Some(bytes) => Ok(Some(
            Dispatch::from_bytes(&bytes).with_context(|| format!("dispatch record of {job}"))?,
        )),
        None => Ok(None),
    }
}

/// Every (frame, tile, pass, start, end) of one of the open frames' range maps, for the
/// checkpoint.
fn ranges(
    open: &BTreeMap<i32, OpenFrame>,
    which: impl Fn(&OpenFrame) -> &BTreeMap<(u32, u32), Vec<SampleRange>>,
) -> Vec<(i32, u32, u32, u32, u32)> {
    let mut out = Vec::new();
    for (n, f) in open {
        for ((t, p), rs) in which(f) {
            out.extend(rs.iter().map(|r| (*n, *t, *p, r.start, r.end)));
        }
    }
    out
}

/// The job's first live result is in and the index does not say so yet.
fn rendered_first(job: &Job) -> bool {
    !job.index_started && job.status.tasks_done > 0
}

/// The index's name for where the merger's status says a job stands.
fn lifecycle_state(s: JobState) -> shared::lifecycle::JobState {
    use shared::lifecycle::JobState as L;
    match s {
        JobState::Rendering => L::Running,
        JobState::Done => L::Done,
        JobState::Failed => L::Failed,
        JobState::Cancelled => L::Cancelled,
    }
}

/// What the job's notification says about its end.
fn ending(job: &Job, finished_unix_ms: u64) -> notify::Ending {
    let m = &job.manifest;
    let submitted = match m.settings.submitted_unix_ms {
        0 => m.submitted_unix as f64,
        ms => ms as f64 / 1000.0,
    };
    let state = job.status.state;
    notify::Ending {
        job: m.job.clone(),
        state: lifecycle_state(state).to_string(),
        outputs: if state == JobState::Done {
            vec![notify::Output {
                name: m.output_name.clone(),
                key: keys::final_image(&m.job),
            }]
        } else {
            vec![]
        },
        submitted_unix: submitted,
        started_unix: job.started_unix_ms.map(|ms| ms as f64 / 1000.0),
        finished_unix: finished_unix_ms as f64 / 1000.0,
        tasks_done: job.status.tasks_done,
        tasks_total: job.status.tasks_total,
        failures: job.status.failures.clone(),
        core_seconds: None,
    }
}

impl Job {
    fn new(manifest: JobManifest) -> Job {
        let status = JobStatus::queued(&manifest);
        let index = status
            .frames
            .iter()
            .enumerate()
            .map(|(i, f)| (f.frame, i))
            .collect();
        Job {
            open: BTreeMap::new(),
            index,
            status,
            work: Work::new(&manifest),
            last_status_write: None,
            last_snapshot: None,
            snapshot_due: false,
            status_stale: false,
            started_unix_ms: None,
            index_started: false,
            dirty: false,
            next: Vec::new(),
            manifest,
        }
    }

    /// A tile and pass of the manifest, or why not (a checkpoint or message outside its job).
    fn check_pass(&self, tile: u32, pass: u32) -> Result<(), MergeError> {
        if tile as usize >= self.manifest.tiles.len() || pass as usize >= self.manifest.passes.len()
        {
            return Err(MergeError::Permanent(format!(
                "tile {tile} pass {pass} is outside job {}",
                self.manifest.job
            )));
        }
        Ok(())
    }

    /// Merges one tile-pass of `frame` from the partials that cover its samples (one, or the
    /// pieces of interrupted tasks), opening the frame on its first. `rendered_in` is the
    /// worker's render time of a live result; None for partials restored from a checkpoint,
    /// which count as done but not as throughput. The tallies are the caller's.
    fn add(
        &mut self,
        frame: i32,
        tile: u32,
        pass: u32,
        pieces: &[(SampleRange, TileBuffer)],
        rendered_in: Option<f64>,
    ) -> Result<(), MergeError> {
        // Every piece is checked before any is added, so a bad one leaves the image as it was.
        let rect = self.manifest.tiles[tile as usize];
        if let Some((_, bad)) = pieces.iter().find(|(_, b)| b.rect != rect) {
            return Err(MergeError::Permanent(format!(
                "partial for tile {tile} covers {:?}, not its tile",
                bad.rect
            )));
        }
        let m = &self.manifest;
        let open = self.open.entry(frame).or_insert_with(|| OpenFrame::new(m));
        for (_, buffer) in pieces {
            open.acc
                .add(buffer)
                .map_err(|e| MergeError::Permanent(e.to_string()))?;
        }
        open.waiting.remove(&(tile, pass));
        open.merged
            .insert((tile, pass), pieces.iter().map(|(r, _)| *r).collect());
        open.per_pass[pass as usize] += 1;
        self.frame_running(frame);
        let samples = self.manifest.tiles[tile as usize].pixel_count() as f64
            * f64::from(self.manifest.passes[pass as usize].len());
        self.work.add(samples, rendered_in, Instant::now());
        self.status.progress = self.work.fraction();
        self.status.samples_per_second = self.work.rate().unwrap_or(0.0);
        self.status.eta_seconds = self.work.eta();
        self.dirty = true;
        Ok(())
    }

    /// Keeps a piece of a tile-pass of `frame` until the pieces cover its pass.
    fn wait(&mut self, frame: i32, tile: u32, pass: u32, samples: SampleRange) {
        let m = &self.manifest;
        let open = self.open.entry(frame).or_insert_with(|| OpenFrame::new(m));
        let pieces = open.waiting.entry((tile, pass)).or_default();
        if !pieces.contains(&samples) {
            pieces.push(samples);
        }
        self.frame_running(frame);
        self.dirty = true;
    }

    fn frame_running(&mut self, frame: i32) {
        if let Some(&at) = self.index.get(&frame) {
            let f = &mut self.status.frames[at];
            if f.state == FrameState::Queued {
                f.state = FrameState::Running;
            }
        }
    }

    fn update_cost(&mut self) {
        self.status.cost = self
            .manifest
            .price_per_core_hour
            .map(|price| shared::accounting::cost(self.status.tasks.core_seconds, price));
    }

    /// Passes complete in the earliest frame not done (every pass once all are done).
    fn completed_passes(&self) -> u32 {
        let first_open = self
            .status
            .frames
            .iter()
            .find(|f| f.state != FrameState::Done);
        match first_open {
            None => self.manifest.passes.len() as u32,
            Some(f) => self
                .open
                .get(&f.frame)
                .map_or(0, |o| o.completed_passes(self.manifest.tiles.len())),
        }
    }

    /// The image as a ZIP16 EXR, normalised and compressed on the blocking pool (CPU work, kept
    /// off the async runtime like every decode).
    async fn encode(&mut self, frame: i32, final_image: bool) -> anyhow::Result<Vec<u8>> {
        let completed_passes = self
            .open
            .get(&frame)
            .map_or(0, |f| f.completed_passes(self.manifest.tiles.len()));
        let m = &self.manifest;
        let at = self.index[&frame];
        let plan: std::borrow::Cow<'_, FramePlan> = match m.frames.get(at) {
            Some(p) => std::borrow::Cow::Borrowed(p),
            None => std::borrow::Cow::Owned(m.frame_plans()[0].clone()),
        };
        let files: Vec<&str> = plan.params.scene.iter().map(|f| f.name.as_str()).collect();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let spp = if final_image {
            m.spp()
        } else {
            m.passes
                .get(completed_passes.saturating_sub(1) as usize)
                .map_or(0, |p| p.end)
        };
        // From submission to now, to the millisecond (a manifest of an older producer has only
        // whole seconds).
        let submitted = match m.settings.submitted_unix_ms {
            0 => m.submitted_unix as f64,
            ms => ms as f64 / 1000.0,
        };
        let int = |v: u32| Attr::Int(i32::try_from(v).unwrap_or(i32::MAX));
        let mut attributes: Vec<(String, Attr)> = vec![
            ("moonfarm:version".into(), env!("CARGO_PKG_VERSION").into()),
            ("moonfarm:job".into(), m.job.to_string().into()),
            ("moonfarm:scene_files".into(), files.join(", ").into()),
            ("moonfarm:samples_per_pixel".into(), int(spp)),
            ("moonfarm:frame".into(), Attr::Int(frame)),
            (
                "moonfarm:render_seconds".into(),
                Attr::Double((now.as_secs_f64() - submitted).max(0.0)),
            ),
            (
                "moonfarm:complete".into(),
                Attr::Int(i32::from(final_image)),
            ),
            ("moonfarm:res".into(), Attr::Double(m.params.res)),
            ("moonfarm:tiles".into(), int(m.tiles.len() as u32)),
            ("moonfarm:passes".into(), int(m.passes.len() as u32)),
        ];
        if m.settings.tile_size > 0 {
            attributes.push(("moonfarm:tile_size".into(), int(m.settings.tile_size)));
        }
        let info = ImageInfo { attributes };
        // The accumulator goes to the blocking pool and back rather than being copied: the
        // normalisation is as much per-pixel work as the compression. Should the work panic, the
        // job is forgotten on the error and rebuilt from its checkpoint.
        drop(plan);
        let open = self
            .open
            .get_mut(&frame)
            .expect("only frames in progress are encoded");
        let acc = std::mem::replace(&mut open.acc, Accumulator::new(0, 0));
        let (acc, encoded) = off_runtime(move || {
            let encoded = exr_io::encode_image(&acc.image(), &info);
            (acc, encoded)
        })
        .await?;
        open.acc = acc;
        Ok(encoded?)
    }
}

#[cfg(test)]
mod tests;
