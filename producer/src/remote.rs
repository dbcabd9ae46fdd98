//! The producer against a farm: submit a job, follow it, and the job commands (status, fetch,
//! cancel, list) that read what the merger records in the blob store.

use crate::cli::{FetchArgs, JobArgs, ListArgs, RemoteArgs, SubmitArgs};
use crate::follow::{self, Follow};
use crate::job::PreparedJob;
use anyhow::Context;
use shared::blob::Blobs;
use shared::exr_io::write_atomic;
use shared::protocol::{self, keys, JobControl, JobId, JobManifest, JobState, JobStatus, Message};
use shared::queue::Queue;
use std::time::Duration;

fn blobs(remote: &RemoteArgs) -> anyhow::Result<Blobs> {
    let url = remote.conn.blob.as_deref().context(
        "no blob store configured: set MOONFARM_BLOB_URL (or --blob), e.g. az://renders",
    )?;
    shared::config::check_blob_url(url)?;
    Ok(Blobs::from_url(url)?)
}

pub async fn submit(job: PreparedJob, args: &SubmitArgs) -> anyhow::Result<()> {
    let (queue, blobs, connection) =
        shared::process::connect(&args.remote.conn, "producer").await?;
    let mut published = job.publish(&queue, &blobs, &args.remote.task_queue).await;
    if let Err(e) = published {
        published = Err(withdraw(&job, &queue, &blobs, &args.remote.result_queue, e).await);
    }
    connection.cancel();
    queue.close().await;
    published?;
    let m = &job.manifest;
    if args.json {
        let v = serde_json::json!({"job": m.job, "tasks": m.task_count(), "width": m.params.width, "height": m.params.height, "spp": m.spp(), "output": job.out.display().to_string()});
        println!("{v}");
    } else {
        println!("{}", m.job);
        eprintln!(
            "submitted job {} ({} tasks, {}x{}, {} spp); follow it with `producer status {}`",
            m.job,
            m.task_count(),
            m.params.width,
            m.params.height,
            m.spp(),
            m.job
        );
    }
    if args.wait {
        let f = Follow {
            job: &m.job,
            tasks: m.task_count() as u64,
            out: &job.out,
            snapshot: None,
            every: Duration::from_millis(500),
        };
        let status = follow::follow(f, &blobs, None).await?;
        eprintln!("wrote {} ({} tasks)", job.out.display(), status.tasks_total);
    }
    Ok(())
}

/// A submit that failed part-way (some tasks published, the rest not) must not leave a job
/// that can never finish: once its manifest is stored, the job is cancelled the way `producer
/// cancel` does it, so workers drop the tasks already published and the merger records it.
/// Returns the error to report, saying what became of the job.
async fn withdraw(
    job: &PreparedJob,
    queue: &dyn Queue,
    blobs: &Blobs,
    result_queue: &str,
    e: anyhow::Error,
) -> anyhow::Error {
    let id = &job.manifest.job;
    match blobs.exists(&keys::manifest(id)).await {
        Ok(false) => return e.context("nothing was submitted"),
        Ok(true) => {}
        Err(check) => return e.context(format!("job {id} may be left half-submitted (checking for it failed: {check}); cancel it with `producer cancel {id}`")),
    }
    match stop_job(queue, blobs, result_queue, id).await {
        Ok(()) => e.context(format!("submitting job {id} failed part-way; it was cancelled, so the tasks already published are dropped: submit again")),
        Err(why) => e.context(format!("submitting job {id} failed part-way, and cancelling it failed too ({why:#}): run `producer cancel {id}`")),
    }
}

/// Cancels a job: the stop marker makes workers drop its tasks at once; the control message
/// makes the merger record the job as cancelled.
async fn stop_job(
    queue: &dyn Queue,
    blobs: &Blobs,
    result_queue: &str,
    id: &JobId,
) -> anyhow::Result<()> {
    blobs.put(&keys::stopped(id), b"Cancelled".to_vec()).await?;
    queue
        .publish(
            result_queue,
            protocol::encode(&Message::Control(JobControl::Cancel { job: id.clone() })),
        )
        .await?;
    Ok(())
}

/// The job's status; a job that no result has reached yet shows as queued from its manifest.
async fn status_of(blobs: &Blobs, job: &JobId) -> anyhow::Result<(JobStatus, JobManifest)> {
    let manifest = blobs
        .get_opt(&keys::manifest(job))
        .await?
        .with_context(|| format!("no job {job} in {}", blobs.describe()))?;
    let manifest = JobManifest::from_bytes(&manifest)?;
    let status = match blobs.get_opt(&keys::status(job)).await? {
        Some(b) => JobStatus::from_bytes(&b)?,
        None => JobStatus::queued(&manifest),
    };
    Ok((status, manifest))
}

fn status_json(s: &JobStatus, m: &JobManifest) -> serde_json::Value {
    let mut v = serde_json::to_value(s).expect("statuses serialise");
    v["output"] = serde_json::json!(m.output_name);
    v["submitted_unix"] = serde_json::json!(m.submitted_unix);
    v["spp"] = serde_json::json!(m.spp());
    v
}

fn state_word(s: JobState) -> &'static str {
    match s {
        JobState::Rendering => "rendering",
        JobState::Done => "done",
        JobState::Failed => "failed",
        JobState::Cancelled => "cancelled",
    }
}

pub async fn status(args: &JobArgs) -> anyhow::Result<()> {
    let blobs = blobs(&args.remote)?;
    let (s, m) = status_of(&blobs, &JobId(args.job.clone())).await?;
    if args.json {
        println!("{}", status_json(&s, &m));
        return Ok(());
    }
    println!("job      {}", s.job);
    println!("state    {}", state_word(s.state));
    println!("tasks    {}/{}", s.tasks_done, s.tasks_total);
    println!("passes   {}/{}", s.passes_done, s.passes_total);
    println!("speed    {:.2} Msamples/s", s.samples_per_second / 1e6);
    if let Some(eta) = s.eta_seconds.filter(|_| s.state == JobState::Rendering) {
        println!("eta      {eta:.0} s");
    }
    println!("output   {}", m.output_name);
    for f in &s.failures {
        println!("failure  {f}");
    }
    Ok(())
}

pub async fn fetch(args: &FetchArgs) -> anyhow::Result<()> {
    let blobs = blobs(&args.remote)?;
    let job = JobId(args.job.clone());
    let (s, _) = status_of(&blobs, &job).await?;
    let key = if args.snapshot {
        keys::snapshot(&job)
    } else {
        if s.state != JobState::Done {
            anyhow::bail!(
                "job {job} is {} ({}/{} tasks): no final image yet; --snapshot fetches the image so far",
                state_word(s.state),
                s.tasks_done,
                s.tasks_total
            );
        }
        keys::final_image(&job)
    };
    let bytes = blobs.get_opt(&key).await?.with_context(|| {
        format!(
            "job {job} has no {} yet",
            if args.snapshot {
                "snapshot"
            } else {
                "final image"
            }
        )
    })?;
    write_atomic(&args.out, &bytes)?;
    if args.json {
        println!(
            "{}",
            serde_json::json!({"job": job, "out": args.out.display().to_string(), "bytes": bytes.len()})
        );
    } else {
        eprintln!("wrote {}", args.out.display());
    }
    Ok(())
}

pub async fn cancel(args: &JobArgs) -> anyhow::Result<()> {
    let blobs = blobs(&args.remote)?;
    let job = JobId(args.job.clone());
    let (s, _) = status_of(&blobs, &job).await?;
    if s.state != JobState::Rendering {
        anyhow::bail!("job {job} is already {}", state_word(s.state));
    }
    let (queue, _, connection) = shared::process::connect(&args.remote.conn, "producer").await?;
    let sent = stop_job(&queue, &blobs, &args.remote.result_queue, &job).await;
    connection.cancel();
    queue.close().await;
    sent?;
    if args.json {
        println!("{}", serde_json::json!({"job": job, "cancelled": true}));
    } else {
        eprintln!("cancelled job {job}");
    }
    Ok(())
}

pub async fn list(args: &ListArgs) -> anyhow::Result<()> {
    let blobs = blobs(&args.remote)?;
    let mut rows = Vec::new();
    for id in blobs.list_folders(keys::JOBS).await? {
        match status_of(&blobs, &JobId(id.clone())).await {
            Ok(row) => rows.push(row),
            Err(e) => tracing::warn!("job {id}: {e:#}"),
        }
    }
    rows.sort_by_key(|(_, m)| m.submitted_unix);
    if args.json {
        let v: Vec<_> = rows.iter().map(|(s, m)| status_json(s, m)).collect();
        println!("{}", serde_json::Value::Array(v));
        return Ok(());
    }
    println!(
        "{:<36}  {:<9}  {:>11}  {:>6}  OUTPUT",
        "JOB", "STATE", "TASKS", "PASSES"
    );
    for (s, m) in rows {
        println!(
            "{:<36}  {:<9}  {:>11}  {:>6}  {}",
            s.job,
            state_word(s.state),
            format!("{}/{}", s.tasks_done, s.tasks_total),
            format!("{}/{}", s.passes_done, s.passes_total),
            m.output_name
        );
    }
    Ok(())
}
