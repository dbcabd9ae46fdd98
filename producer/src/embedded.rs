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

/// The embedded store's folder name under the temp directory: `moonfarm-embedded-PID-XXXXXX`,
/// so that the next run can tell a killed run's folder (its process gone) from a live one's.
const STORE_PREFIX: &str = "moonfarm-embedded-";

pub async fn render(job: PreparedJob, args: &SubmitArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    // From here on SIGINT, SIGTERM and SIGHUP stop the render cleanly: no output, no snapshot,
    // no store left behind. SIGKILL cannot be caught: the next run sweeps what it leaves.
    let mut signals = follow::Signals::new()?;
    sweep_stale_stores(&std::env::temp_dir());
    let store = tempfile::Builder::new()
        .prefix(&format!("{STORE_PREFIX}{}-", std::process::id()))
        .tempdir()
        .context("creating the embedded blob store")?;
    let blobs = Blobs::local(store.path())?;
    let queue = Arc::new(MemoryQueue::new());
    // Embedded workers run in this process, in this working directory: they read the
    // referenced files in place rather than from the blob store.
    let worker_config = worker::Config {
        assets_in_place: true,
        // The store is this run's temporary folder: no task logs, no second copy of a
        // partial that travels in its result.
        ephemeral_store: true,
        limits: args.limits,
        ..worker::Config::default()
    };
    // The whole store is a temporary folder, deleted below: no partial to clean up one by one.
    let merger_config = merger::Config {
        keep_partials: true,
        // Adaptive jobs' next passes go where the embedded workers take tasks.
        task_queue: worker_config.task_queue.clone(),
        limits: args.limits,
        // Nothing is scheduled here: `--not-before` needs a farm.
        schedule_interval: None,
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
        manifest: &job.manifest,
        out: &job.out,
        snapshot: (args.snapshots && !job.manifest.is_sequence()).then(|| snapshot_path(&job.out)),
        every: Duration::from_millis(100),
        signals: &mut signals,
    };
    let outcome = follow::follow(follow, &blobs, Some(&mut services)).await;
    shutdown.cancel();
    while services.join_next().await.is_some() {}
    let status = outcome?;
    let m = &job.manifest;
    let what = if m.is_sequence() {
        format!("{} frames {}", m.frame_count(), job.out.display())
    } else {
        job.out.display().to_string()
    };
    let seconds = started.elapsed().as_secs_f64();
    let line = format!(
        "wrote {what} ({}x{}, {} spp, {} tasks) in {seconds:.1}s",
        m.params.width,
        m.params.height,
        m.spp(),
        status.tasks_total,
    );
    if args.json {
        // stdout is the script's: one JSON object; the sentence goes to stderr.
        let v = serde_json::json!({"job": m.job, "state": "done", "output": job.out.display().to_string(),
            "frames": m.frame_count(), "width": m.params.width, "height": m.params.height, "spp": m.spp(),
            "tasks": status.tasks_total, "seconds": seconds});
        println!("{v}");
        eprintln!("{line}");
    } else {
        println!("{line}");
    }
    Ok(())
}

/// Deletes the embedded stores of runs that were killed (SIGKILL, a crash, a power cut):
/// folders named `moonfarm-embedded-PID-*` whose process no longer exists. A live run's store,
/// and any folder not named so, is left alone.
pub fn sweep_stale_stores(temp: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(temp) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(STORE_PREFIX))
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == std::process::id() || process_exists(pid) {
            continue;
        }
        let path = entry.path();
        match std::fs::remove_dir_all(&path) {
            Ok(()) => tracing::info!(
                "removed {}, left by a killed render (process {pid})",
                path.display()
            ),
            Err(e) => tracing::warn!("removing {}, left by a killed render: {e}", path.display()),
        }
    }
}

/// Whether a process of this id exists (Linux: its /proc entry).
fn process_exists(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}
