//! The embedded farm: the whole pipeline in this process. Tasks go on an in-memory queue,
//! `--workers` worker loops render them into a local-directory blob store, one merger merges
//! them, and the final EXR is written atomically to the output path. The task, partial-buffer
//! and merge code is the farm's own; only the adapters differ.

use crate::cli::SubmitArgs;
use crate::follow::{self, Follow};
use crate::job::{snapshot_path, PreparedJob};
use anyhow::Context;
use shared::blob::Blobs;
use shared::queue::MemoryQueue;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub async fn render(job: PreparedJob, args: &SubmitArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let store = tempfile::Builder::new()
        .prefix("moonfarm-embedded-")
        .tempdir()
        .context("creating the embedded blob store")?;
    let blobs = Blobs::local(store.path())?;
    let queue = Arc::new(MemoryQueue::new());
    // Embedded workers run in this process, in this working directory: they read the
    // referenced files in place rather than from the blob store.
    let worker_config = worker::Config {
        assets_in_place: true,
        ..worker::Config::default()
    };
    // The whole store is a temporary folder, deleted below: no partial to clean up one by one.
    let merger_config = merger::Config {
        keep_partials: true,
        ..merger::Config::default()
    };
    job.publish(queue.as_ref(), &blobs, &worker_config.task_queue, false)
        .await?;

    let shutdown = CancellationToken::new();
    let mut services = JoinSet::new();
    let state = worker::WorkerState::default();
    for i in 0..args.workers {
        let config = worker::Config {
            name: format!("embedded-{i}"),
            ..worker_config.clone()
        };
        let adapters = worker::Adapters {
            queue: queue.clone(),
            blobs: blobs.clone(),
        };
        let (state, shutdown) = (state.clone(), shutdown.clone());
        services.spawn(async move {
            worker::run(&config, adapters, state, shutdown)
                .await
                .context("worker")
        });
    }
    {
        let adapters = merger::Adapters {
            queue: queue.clone(),
            blobs: blobs.clone(),
        };
        let shutdown = shutdown.clone();
        services.spawn(async move {
            merger::run(
                &merger_config,
                adapters,
                merger::Metrics::default(),
                shutdown,
            )
            .await
            .context("merger")
        });
    }

    let follow = Follow {
        job: &job.manifest.job,
        tasks: job.manifest.task_count() as u64,
        out: &job.out,
        snapshot: args.snapshots.then(|| snapshot_path(&job.out)),
        every: Duration::from_millis(100),
    };
    let outcome = follow::follow(follow, &blobs, Some(&mut services)).await;
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
