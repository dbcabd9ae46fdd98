//! The embedded farm: the whole pipeline in this process. Tasks go on an in-memory queue,
//! `--workers` worker loops render them into a local-directory blob store, one merger merges
//! them, and the final EXR is written atomically to the output path. The task, partial-buffer
//! and merge code is the farm's own; only the adapters differ.

use crate::cli::SubmitArgs;
use crate::job::{snapshot_path, PreparedJob};
use crate::progress::Progress;
use anyhow::Context;
use shared::blob::Blobs;
use shared::exr_io::write_atomic;
use shared::protocol::{self, keys, JobState, JobStatus, Message};
use shared::queue::{MemoryQueue, Queue};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Publishes a prepared job: scene files content-addressed, the manifest, then every task.
pub async fn publish(job: &PreparedJob, queue: &dyn Queue, blobs: &Blobs, task_queue: &str) -> anyhow::Result<()> {
    for (file, bytes) in &job.files {
        let key = keys::scene(&file.sha256);
        if !blobs.exists(&key).await? {
            blobs.put(&key, bytes.clone()).await?;
        }
    }
    blobs.put(&keys::manifest(&job.manifest.job), job.manifest.to_bytes()).await?;
    for task in job.manifest.tasks() {
        queue.publish(task_queue, protocol::encode(&Message::Task(task))).await?;
    }
    Ok(())
}

pub async fn render(job: PreparedJob, args: &SubmitArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let store = tempfile::Builder::new().prefix("moonfarm-embedded-").tempdir().context("creating the embedded blob store")?;
    let blobs = Blobs::local(store.path())?;
    let queue = Arc::new(MemoryQueue::new());
    let worker_config = worker::Config::default();
    let merger_config = merger::Config::default();
    publish(&job, queue.as_ref(), &blobs, &worker_config.task_queue).await?;

    let shutdown = CancellationToken::new();
    let mut services = JoinSet::new();
    let cache = worker::SceneCache::default();
    for i in 0..args.workers {
        let config = worker::Config { name: format!("embedded-{i}"), ..worker_config.clone() };
        let adapters = worker::Adapters { queue: queue.clone(), blobs: blobs.clone() };
        let (cache, shutdown) = (cache.clone(), shutdown.clone());
        services.spawn(async move { worker::run(&config, adapters, cache, shutdown).await.context("worker") });
    }
    {
        let adapters = merger::Adapters { queue: queue.clone(), blobs: blobs.clone() };
        let shutdown = shutdown.clone();
        services.spawn(async move { merger::run(&merger_config, adapters, shutdown).await.context("merger") });
    }

    let outcome = follow(&job, args, &blobs, &mut services).await;
    shutdown.cancel();
    while services.join_next().await.is_some() {}
    let status = outcome?;
    let m = &job.manifest;
    println!(
        "wrote {} ({}x{}, {} spp, {} tasks) in {:.1}s",
        job.out.display(),
        m.params.width,
        m.params.height,
        m.spp(),
        status.tasks_total,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Follows the job's status until it ends, keeping the snapshot beside the output current,
/// then writes the final image. Ctrl-C or a service failure ends it early with an error and
/// no output file.
async fn follow(job: &PreparedJob, args: &SubmitArgs, blobs: &Blobs, services: &mut JoinSet<anyhow::Result<()>>) -> anyhow::Result<JobStatus> {
    let id = &job.manifest.job;
    let snapshot = snapshot_path(&job.out);
    let mut progress = Progress::new(job.manifest.task_count() as u64);
    let mut generation = 0;
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let result = loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = tokio::signal::ctrl_c() => break Err(anyhow::anyhow!("interrupted: no output written")),
            Some(done) = services.join_next() => {
                // Services only stop on shutdown; one that stops now has failed.
                break Err(match done {
                    Ok(Err(e)) => e,
                    Ok(Ok(())) => anyhow::anyhow!("a render service stopped unexpectedly"),
                    Err(join) => anyhow::anyhow!("a render service crashed: {join}"),
                });
            }
        }
        let Some(bytes) = blobs.get_opt(&keys::status(id)).await? else { continue };
        let status = JobStatus::from_bytes(&bytes)?;
        progress.update(&status);
        if args.snapshots && status.snapshot_generation > generation && status.state == JobState::Rendering {
            generation = status.snapshot_generation;
            let bytes = blobs.get(&keys::snapshot(id)).await?;
            write_atomic(&snapshot, &bytes)?;
        }
        match status.state {
            JobState::Rendering => {}
            JobState::Done => break Ok(status),
            JobState::Failed => break Err(anyhow::anyhow!("render failed: {}", status.failures.join("; "))),
            JobState::Cancelled => break Err(anyhow::anyhow!("render cancelled")),
        }
    };
    progress.finish();
    let _ = std::fs::remove_file(&snapshot);
    let status = result?;
    let bytes = blobs.get(&keys::final_image(id)).await?;
    write_atomic(&job.out, &bytes)?;
    Ok(status)
}
