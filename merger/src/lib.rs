//! The merger: consumes tile-pass results, adds each partial buffer to its job's image exactly
//! once, writes a snapshot after every completed pass and the final EXR when the job is done,
//! and keeps the job's status current for `producer` to read.
//!
//! Only the merger writes final images.

pub mod cli;

use anyhow::Context;
use shared::blob::Blobs;
use shared::exr_io::{self, ImageInfo};
use shared::film::Accumulator;
use shared::protocol::{self, keys, JobId, JobManifest, JobState, JobStatus, Message, TaskOutcome, TilePassResult, PROTOCOL_VERSION};
use shared::queue::{Delivery, Queue, Settle};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
pub struct Config {
    pub result_queue: String,
    /// The least time between two status writes of one job (pass ends and job ends are always
    /// written at once).
    pub status_interval: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config { result_queue: shared::queue::RESULT_QUEUE.into(), status_interval: Duration::from_millis(250) }
    }
}

#[derive(Clone)]
pub struct Adapters {
    pub queue: Arc<dyn Queue>,
    pub blobs: Blobs,
}

/// One job being merged. Owned by the merger loop alone.
struct Job {
    manifest: JobManifest,
    acc: Accumulator,
    /// (tile, pass) pairs already merged: a result delivered twice is counted once.
    merged: HashSet<(u32, u32)>,
    /// Tiles merged per pass.
    per_pass: Vec<u32>,
    status: JobStatus,
    first_result: Instant,
    samples: u64,
    last_status_write: Option<Instant>,
}

pub async fn run(config: &Config, adapters: Adapters, shutdown: CancellationToken) -> anyhow::Result<()> {
    let mut consumer = adapters
        .queue
        .consume(&config.result_queue, 16)
        .await
        .with_context(|| format!("consuming {}", config.result_queue))?;
    let mut jobs: HashMap<JobId, Job> = HashMap::new();
    tracing::info!(queue = %config.result_queue, "merger started");
    loop {
        let delivery = tokio::select! {
            _ = shutdown.cancelled() => break,
            d = consumer.next() => d?,
        };
        let Some(delivery) = delivery else { break };
        handle(config, &adapters, &mut jobs, delivery).await?;
    }
    Ok(())
}

async fn handle(config: &Config, adapters: &Adapters, jobs: &mut HashMap<JobId, Job>, delivery: Delivery) -> anyhow::Result<()> {
    let result = match protocol::decode(&delivery.payload) {
        Ok(Message::Result(r)) => r,
        Ok(_) => return Ok(delivery.settle(Settle::DeadLetter("expected a tile-pass result".into())).await?),
        Err(e) => return Ok(delivery.settle(Settle::DeadLetter(e.to_string())).await?),
    };
    match merge(config, adapters, jobs, &result).await {
        Ok(()) => delivery.settle(Settle::Ack).await?,
        Err(MergeError::Permanent(reason)) => {
            tracing::error!(job = %result.job, "result dropped: {reason}");
            delivery.settle(Settle::DeadLetter(reason)).await?
        }
        Err(MergeError::Transient(e)) => {
            tracing::warn!(job = %result.job, "merge failed, will retry: {e:#}");
            delivery.settle(Settle::Retry).await?
        }
    }
    Ok(())
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

async fn merge(config: &Config, adapters: &Adapters, jobs: &mut HashMap<JobId, Job>, r: &TilePassResult) -> Result<(), MergeError> {
    if !jobs.contains_key(&r.job) {
        let bytes = match adapters.blobs.get_opt(&keys::manifest(&r.job)).await.map_err(transient)? {
            Some(b) => b,
            None => return Err(MergeError::Permanent(format!("job {} has no manifest", r.job))),
        };
        let manifest = JobManifest::from_bytes(&bytes).map_err(|e| MergeError::Permanent(e.to_string()))?;
        jobs.insert(r.job.clone(), Job::new(manifest));
    }
    let job = jobs.get_mut(&r.job).expect("inserted above");
    if job.status.state != JobState::Rendering {
        return Ok(()); // finished, failed or cancelled: late results change nothing.
    }
    if r.tile as usize >= job.manifest.tiles.len() || r.pass as usize >= job.manifest.passes.len() {
        return Err(MergeError::Permanent(format!("result for tile {} pass {} is outside job {}", r.tile, r.pass, r.job)));
    }
    if job.merged.contains(&(r.tile, r.pass)) {
        return Ok(()); // a redelivered task's second result
    }
    match &r.outcome {
        TaskOutcome::Failed { reason } => {
            job.status.state = JobState::Failed;
            job.status.failures.push(format!("tile {} pass {} on {}: {reason}", r.tile, r.pass, r.worker));
            write_status(adapters, job).await?;
            return Ok(());
        }
        TaskOutcome::Rendered { partial_key } => {
            let bytes = adapters.blobs.get(partial_key).await.map_err(transient)?;
            let decoded = exr_io::decode(&bytes).map_err(|e| MergeError::Permanent(format!("partial {partial_key}: {e}")))?;
            if decoded.tile.rect != job.manifest.tiles[r.tile as usize] {
                return Err(MergeError::Permanent(format!("partial {partial_key} covers {:?}, not its tile", decoded.tile.rect)));
            }
            job.acc.add(&decoded.tile).map_err(|e| MergeError::Permanent(e.to_string()))?;
        }
    }
    job.merged.insert((r.tile, r.pass));
    job.per_pass[r.pass as usize] += 1;
    job.samples += r.samples_taken;
    job.status.tasks_done += 1;
    let passes_done = job.completed_passes();
    let pass_completed = passes_done > job.status.passes_done;
    job.status.passes_done = passes_done;
    let elapsed = job.first_result.elapsed().as_secs_f64().max(1e-3);
    job.status.samples_per_second = job.samples as f64 / elapsed;
    let remaining = job.status.tasks_total - job.status.tasks_done;
    job.status.eta_seconds = Some(elapsed * remaining as f64 / job.status.tasks_done as f64);
    if job.status.tasks_done == job.status.tasks_total {
        let bytes = job.encode(true)?;
        adapters.blobs.put(&keys::final_image(&r.job), bytes).await.map_err(transient)?;
        job.status.state = JobState::Done;
        job.status.eta_seconds = Some(0.0);
        write_status(adapters, job).await?;
        tracing::info!(job = %r.job, "job complete");
    } else if pass_completed {
        let bytes = job.encode(false)?;
        adapters.blobs.put(&keys::snapshot(&r.job), bytes).await.map_err(transient)?;
        job.status.snapshot_generation += 1;
        write_status(adapters, job).await?;
    } else if job.last_status_write.is_none_or(|t| t.elapsed() >= config.status_interval) {
        write_status(adapters, job).await?;
    }
    Ok(())
}

async fn write_status(adapters: &Adapters, job: &mut Job) -> Result<(), MergeError> {
    adapters.blobs.put(&keys::status(&job.manifest.job), job.status.to_bytes()).await.map_err(transient)?;
    job.last_status_write = Some(Instant::now());
    Ok(())
}

impl Job {
    fn new(manifest: JobManifest) -> Job {
        let status = JobStatus {
            version: PROTOCOL_VERSION,
            job: manifest.job.clone(),
            state: JobState::Rendering,
            tasks_done: 0,
            tasks_total: manifest.task_count() as u64,
            passes_done: 0,
            passes_total: manifest.passes.len() as u32,
            samples_per_second: 0.0,
            eta_seconds: None,
            snapshot_generation: 0,
            failures: vec![],
        };
        Job {
            acc: Accumulator::new(manifest.params.width, manifest.params.height),
            per_pass: vec![0; manifest.passes.len()],
            merged: HashSet::new(),
            status,
            first_result: Instant::now(),
            samples: 0,
            last_status_write: None,
            manifest,
        }
    }

    /// Passes complete from the first on: a snapshot shows a prefix of the passes (later
    /// passes may finish first on a farm; they are merged but not yet counted).
    fn completed_passes(&self) -> u32 {
        let tiles = self.manifest.tiles.len() as u32;
        self.per_pass.iter().take_while(|&&n| n == tiles).count() as u32
    }

    fn encode(&self, final_image: bool) -> Result<Vec<u8>, MergeError> {
        let m = &self.manifest;
        let files: Vec<&str> = m.params.scene.iter().map(|f| f.name.as_str()).collect();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let spp = if final_image { m.spp() } else { m.passes.get(self.status.passes_done.saturating_sub(1) as usize).map_or(0, |p| p.end) };
        let info = ImageInfo {
            attributes: vec![
                ("moonfarm:version".into(), env!("CARGO_PKG_VERSION").into()),
                ("moonfarm:job".into(), m.job.to_string()),
                ("moonfarm:scene_files".into(), files.join(", ")),
                ("moonfarm:samples_per_pixel".into(), spp.to_string()),
                ("moonfarm:frame".into(), m.frame.to_string()),
                ("moonfarm:render_seconds".into(), now.saturating_sub(m.submitted_unix).to_string()),
                ("moonfarm:complete".into(), final_image.to_string()),
            ],
        };
        exr_io::encode_image(&self.acc.image(), &info).map_err(|e| MergeError::Transient(e.into()))
    }
}
