//! The producer against a farm: submit a job, follow it, and the job commands (status, fetch,
//! cancel, list) that read what the merger records in the blob store.

use crate::cli::{FetchArgs, JobArgs, RemoteArgs, SubmitArgs};
use crate::follow::{self, Follow};
use crate::job::PreparedJob;
use anyhow::Context;
use shared::blob::Blobs;
use shared::exr_io::write_atomic;
use shared::protocol::index::{keys as index_keys, JobIndex};
use shared::protocol::schedule::{keys as schedule_keys, Notify, Schedule};
use shared::protocol::{
    self, keys, JobControl, JobId, JobManifest, JobState, JobStatus, Message, Record, StopMarker,
};
use shared::queue::Queue;
use std::time::Duration;

/// The farm's blob store, for the commands that read it (status, fetch, cancel, list, delete,
/// prune): they never create one, so a mistyped `file://` folder is an error, not "no jobs".
pub(crate) fn blobs(remote: &RemoteArgs) -> anyhow::Result<Blobs> {
    let Some(url) = remote.conn.blob.as_deref() else {
        crate::usage!(
            "no blob store configured: set MOONFARM_BLOB_URL (or --blob), e.g. az://renders"
        );
    };
    if let Err(e) = remote.conn.check() {
        crate::usage!("{e:#}");
    }
    if let Some(dir) = url.strip_prefix("file://") {
        if !std::path::Path::new(dir).is_dir() {
            anyhow::bail!("MOONFARM_BLOB_URL {url}: folder {dir} does not exist, so there is no store there; check the URL (reading commands never create a store)");
        }
    }
    Ok(Blobs::from_url(url)?)
}

/// The job an id names, taken as git takes a commit id: the whole id, or a prefix of at least
/// 4 characters that only one job's id starts with.
pub(crate) async fn resolve(blobs: &Blobs, text: &str) -> anyhow::Result<JobId> {
    let exact = match JobId::parse(text) {
        Ok(id) => id,
        Err(e) => crate::usage!("{e}"),
    };
    if blobs.exists(&keys::manifest(&exact)).await? {
        return Ok(exact);
    }
    if text.len() < 4 {
        crate::usage!(
            "job {text}: no such job in {}; a job id prefix needs at least 4 characters",
            blobs.describe()
        );
    }
    let matches: Vec<String> = blobs
        .list_folders(keys::JOBS)
        .await?
        .into_iter()
        .filter(|id| id.starts_with(text))
        .collect();
    // A folder under jobs/ that is not a job id (written by hand) is not a job.
    let matches: Vec<JobId> = matches
        .iter()
        .filter_map(|id| JobId::parse(id).ok())
        .collect();
    match matches.as_slice() {
        [] => anyhow::bail!(
            "no job {text} in {} (`producer list` shows the jobs)",
            blobs.describe()
        ),
        [one] => Ok(one.clone()),
        many => crate::usage!(
            "job id prefix {text} is ambiguous: it starts {} jobs ({}); give more of the id",
            many.len(),
            many.iter()
                .map(JobId::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Submits the job. With `not_before` still ahead, its tasks are not published: the merger
/// publishes them at that time from the schedule record stored here, so the producer may exit.
pub async fn submit(
    job: PreparedJob,
    args: &SubmitArgs,
    not_before: Option<u64>,
) -> anyhow::Result<()> {
    let (queue, blobs, connection) =
        shared::process::connect(&args.remote.conn, "producer").await?;
    let now_ms = crate::when::now().timestamp().as_millisecond() as u64;
    let scheduled = not_before.filter(|&t| t > now_ms);
    let mut published = publish(&job, args, scheduled, &queue, &blobs).await;
    if let Err(e) = published {
        let results = args.remote.result_queue_of(&job.manifest.job);
        published = Err(withdraw(&job, &queue, &blobs, &results, e).await);
    }
    connection.cancel();
    queue.close().await;
    let published = published?;
    let m = &job.manifest;
    if args.json {
        let v = serde_json::json!({"job": m.job, "tasks": m.task_count(), "width": m.params.width, "height": m.params.height, "spp": m.spp(), "output": job.out.display().to_string(),
            "assets": m.params.assets.len(), "assets_uploaded": published.assets_uploaded, "asset_bytes_uploaded": published.asset_bytes_uploaded,
            "state": if scheduled.is_some() { "scheduled" } else { "queued" }, "not_before_unix": scheduled.map(|ms| ms / 1000)});
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
        if let Some(ms) = scheduled {
            eprintln!(
                "scheduled: no task is published before {} UTC; the farm's merger publishes them then, so this producer need not stay{}",
                utc(ms / 1000),
                if args.wait { " (--wait: waiting)" } else { "" }
            );
        }
        if !m.params.assets.is_empty() {
            eprintln!(
                "{} referenced files, {} uploaded ({} bytes), the rest already stored",
                m.params.assets.len(),
                published.assets_uploaded,
                published.asset_bytes_uploaded
            );
        }
    }
    if args.wait {
        let mut signals = follow::Signals::new()?;
        let f = Follow {
            manifest: m,
            out: &job.out,
            snapshot: None,
            every: Duration::from_millis(500),
            signals: &mut signals,
        };
        let waited = std::time::Instant::now();
        let status = follow::follow(f, &blobs, None).await?;
        if args.json {
            // A second line for scripts: the job's end (a failed job is an error instead).
            let v = serde_json::json!({"job": m.job, "state": "done", "output": job.out.display().to_string(),
                "tasks": status.tasks_total, "waited_seconds": waited.elapsed().as_secs_f64()});
            println!("{v}");
        }
        eprintln!("wrote {} ({} tasks)", job.out.display(), status.tasks_total);
    }
    Ok(())
}

/// Stores the job and its records, then publishes its tasks unless it is scheduled. The index
/// entry and the notify record are stored before any task, so the merger finds them however
/// fast the job ends; the schedule record goes last, so the merger never releases a job whose
/// records are not all stored.
async fn publish(
    job: &PreparedJob,
    args: &SubmitArgs,
    scheduled: Option<u64>,
    queue: &dyn Queue,
    blobs: &Blobs,
) -> anyhow::Result<crate::job::Published> {
    let m = &job.manifest;
    let published = job.store(blobs, true).await?;
    let mut entry = JobIndex::new(
        &m.job,
        &m.output_name,
        m.settings.submitted_unix_ms.max(m.submitted_unix * 1000),
        m.task_count() as u64,
    );
    entry.priority = Some(m.priority.to_string());
    if let Some(ms) = scheduled {
        entry.state = shared::lifecycle::JobState::Scheduled;
        entry.not_before_unix_ms = Some(ms);
    }
    blobs
        .put(&index_keys::index(&m.job), entry.to_bytes())
        .await?;
    if let Some(url) = &args.notify {
        blobs
            .put(
                &schedule_keys::notify(&m.job),
                Notify::new(&m.job, url).to_bytes(),
            )
            .await?;
    }
    match scheduled {
        Some(ms) => {
            // The merger publishes to the queue named here: the job's level's.
            let s = Schedule::new(&m.job, ms, &m.priority.queue(&args.remote.task_queue));
            blobs
                .put(&schedule_keys::schedule(&m.job), s.to_bytes())
                .await?;
        }
        None => job.publish_tasks(queue, &args.remote.task_queue).await?,
    }
    Ok(published)
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
    let marker = StopMarker::new(id, JobState::Cancelled);
    blobs.put(&keys::stopped(id), marker.to_bytes()).await?;
    queue
        .publish(
            result_queue,
            protocol::encode(&Message::Control(JobControl::Cancel { job: id.clone() })),
        )
        .await?;
    Ok(())
}

/// The job's status; a job that no result has reached yet shows as queued from its manifest.
pub(crate) async fn status_of(
    blobs: &Blobs,
    job: &JobId,
) -> anyhow::Result<(JobStatus, JobManifest)> {
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

pub(crate) fn state_word(s: JobState) -> &'static str {
    match s {
        JobState::Rendering => "rendering",
        JobState::Done => "done",
        JobState::Failed => "failed",
        JobState::Cancelled => "cancelled",
    }
}

/// The start time of a job still waiting for it (ms since the Unix epoch), from its schedule
/// record: present until the merger publishes the job's tasks.
pub(crate) async fn waiting_until(blobs: &Blobs, s: &JobStatus) -> anyhow::Result<Option<u64>> {
    if s.state != JobState::Rendering || s.tasks_done > 0 {
        return Ok(None);
    }
    Ok(
        match blobs.get_opt(&schedule_keys::schedule(&s.job)).await? {
            Some(b) => Some(Schedule::from_bytes(&b)?.not_before_unix_ms),
            None => None,
        },
    )
}

pub async fn status(args: &JobArgs) -> anyhow::Result<()> {
    let blobs = blobs(&args.remote)?;
    let (s, m) = status_of(&blobs, &resolve(&blobs, &args.job).await?).await?;
    let waiting = waiting_until(&blobs, &s).await?;
    // Pause and priority after submission are the dispatch record's; the merger knows neither.
    let d = crate::dispatch::read(&blobs, &m).await?;
    let paused = d.paused && s.state == JobState::Rendering;
    if args.json {
        let mut v = crate::report::json(&s, &m);
        if let Some(ms) = waiting {
            v["state"] = serde_json::json!("scheduled");
            v["not_before_unix"] = serde_json::json!(ms / 1000);
        }
        if paused {
            v["state"] = serde_json::json!("paused");
        }
        v["paused"] = serde_json::json!(paused);
        v["priority"] = serde_json::json!(d.priority);
        println!("{v}");
        return Ok(());
    }
    println!("job      {}", s.job);
    match waiting {
        Some(ms) if paused => println!("state    paused (scheduled for {} UTC)", utc(ms / 1000)),
        Some(ms) => println!("state    scheduled (starts {} UTC)", utc(ms / 1000)),
        None if paused => println!("state    paused (`producer resume` continues it)"),
        None => println!("state    {}", state_word(s.state)),
    }
    println!("priority {}", d.priority);
    if m.is_sequence() {
        let done = s
            .frames
            .iter()
            .filter(|f| f.state == shared::protocol::FrameState::Done)
            .count();
        println!("frames   {done}/{} done", s.frames.len());
    }
    println!(
        "tasks    {}/{} ({} retried, {} failed)",
        s.tasks_done, s.tasks_total, s.tasks.retried, s.tasks.failed
    );
    println!("passes   {}/{}", s.passes_done, s.passes_total);
    println!("progress {:.0}% of the samples", s.progress * 100.0);
    println!("speed    {:.2} Msamples/s", s.samples_per_second / 1e6);
    if let Some(eta) = s.eta_seconds.filter(|_| s.state == JobState::Rendering) {
        println!("eta      {eta:.0} s");
    }
    match s.cost {
        Some(cost) => println!(
            "cpu      {:.1} core-seconds, cost {cost:.4} at {} per core-hour",
            s.tasks.core_seconds,
            m.price_per_core_hour.unwrap_or(0.0)
        ),
        None => println!("cpu      {:.1} core-seconds", s.tasks.core_seconds),
    }
    println!("output   {}", m.output_name);
    for f in &s.failures {
        println!("failure  {f}");
    }
    Ok(())
}

pub async fn fetch(args: &FetchArgs) -> anyhow::Result<()> {
    let blobs = blobs(&args.remote)?;
    let job = resolve(&blobs, &args.job).await?;
    let (s, m) = status_of(&blobs, &job).await?;
    // By default the name the job was submitted with, as `submit --wait` would have written.
    let out = match &args.out {
        Some(out) => out.clone(),
        None => {
            // A name read back from the store: checked before it becomes a path here.
            shared::names::output_name("the job's output name", &m.output_name)
                .map_err(|e| anyhow::anyhow!("job {job}: {e}; give the file to write with -o"))?;
            std::path::PathBuf::from(&m.output_name)
        }
    };
    let format = crate::job::OutputFormat::of(&out)?;
    crate::job::check_output_folder(&out)?;
    let key = if args.snapshot {
        keys::snapshot(&job)
    } else if m.is_sequence() && s.state == JobState::Done {
        m.image_key(m.frame)
    } else {
        match s.state {
            JobState::Done => {}
            JobState::Cancelled => anyhow::bail!(
                "job {job} was cancelled ({}/{} tasks done): it has no final image; --snapshot fetches the last snapshot",
                s.tasks_done,
                s.tasks_total
            ),
            JobState::Failed => anyhow::bail!(
                "job {job} failed ({}): it has no final image; --snapshot fetches the last snapshot",
                s.failures.join("; ")
            ),
            JobState::Rendering => anyhow::bail!(
                "job {job} is still rendering ({}/{} tasks): no final image yet; --snapshot fetches the image so far",
                s.tasks_done,
                s.tasks_total
            ),
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
    let file = format.encode(&bytes)?;
    if m.is_sequence() && !args.snapshot {
        // Every frame, each to the pattern expanded for it; then the report beside them.
        crate::frames::check_output(&out, m.frame_count())?;
        for f in m.frames.iter() {
            let bytes = blobs.get(&m.image_key(f.frame)).await?;
            write_atomic(
                &crate::frames::expand(&out, f.frame),
                &format.encode(&bytes)?,
            )?;
        }
        crate::report::write(&out, &s, &m)?;
    } else {
        write_atomic(&out, &file)?;
    }
    if args.json {
        println!(
            "{}",
            serde_json::json!({"job": job, "out": out.display().to_string(), "bytes": file.len()})
        );
    } else {
        eprintln!("wrote {}", out.display());
    }
    Ok(())
}

/// Cancels a rendering job. Cancelling a job already cancelled (or being cancelled) succeeds
/// and says so; a job that is done or failed cannot be cancelled.
pub async fn cancel(args: &JobArgs) -> anyhow::Result<()> {
    let blobs = blobs(&args.remote)?;
    let job = resolve(&blobs, &args.job).await?;
    let (s, _) = status_of(&blobs, &job).await?;
    let already = match s.state {
        JobState::Cancelled => true,
        JobState::Rendering => blobs.exists(&keys::stopped(&job)).await?,
        JobState::Done | JobState::Failed => {
            anyhow::bail!(
                "job {job} is already {}: there is nothing to cancel",
                state_word(s.state)
            )
        }
    };
    if !already {
        let (queue, _, connection) =
            shared::process::connect(&args.remote.conn, "producer").await?;
        let results = args.remote.result_queue_of(&job);
        let sent = stop_job(&queue, &blobs, &results, &job).await;
        if sent.is_ok() {
            // A paused job's parked tasks will never render now.
            let parked = shared::parking::parked_queue(&args.remote.task_queue, &job);
            if let Err(e) = queue.delete_queue(&parked).await {
                tracing::warn!("the cancelled job's parked queue {parked} stays: {e}");
            }
        }
        connection.cancel();
        queue.close().await;
        sent?;
    }
    if args.json {
        println!(
            "{}",
            serde_json::json!({"job": job, "cancelled": true, "already": already})
        );
    } else if already {
        eprintln!("job {job} was already cancelled");
    } else {
        eprintln!("cancelled job {job}");
    }
    Ok(())
}

/// A Unix time as `YYYY-MM-DD HH:MM` UTC (days to civil date: the proleptic Gregorian
/// calendar's 400-year cycle of 146097 days, eras starting on 1 March).
pub(crate) fn utc(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60
    )
}

/// Deletes an ended job's blobs: manifest, status, images, checkpoint, any partials left.
/// Scene files are content-addressed and shared between jobs: the store's lifecycle rules
/// expire them.
async fn delete_job(blobs: &Blobs, job: &JobId) -> anyhow::Result<u64> {
    let n = blobs
        .delete_folder(&format!("{}/{job}", keys::JOBS))
        .await?;
    blobs.delete(&index_keys::index(job)).await?;
    blobs.delete(&schedule_keys::schedule(job)).await?;
    Ok(n)
}

pub async fn delete(args: &JobArgs) -> anyhow::Result<()> {
    let blobs = blobs(&args.remote)?;
    let job = resolve(&blobs, &args.job).await?;
    let (s, m) = status_of(&blobs, &job).await?;
    if s.state == JobState::Rendering {
        anyhow::bail!("job {job} is still rendering: cancel it first (`producer cancel {job}`), then delete it");
    }
    let blobs_deleted = delete_job(&blobs, &job).await?;
    if args.json {
        println!(
            "{}",
            serde_json::json!({"deleted": [{"job": job, "state": state_word(s.state), "output": m.output_name, "blobs": blobs_deleted}]})
        );
    } else {
        println!(
            "deleted job {job} ({}, {}, {blobs_deleted} blobs)",
            state_word(s.state),
            m.output_name
        );
    }
    Ok(())
}

pub async fn prune(args: &crate::cli::PruneArgs) -> anyhow::Result<()> {
    let blobs = blobs(&args.remote)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let cutoff = now.saturating_sub(args.older_than);
    let mut deleted = Vec::new();
    for id in blobs.list_folders(keys::JOBS).await? {
        let row = match JobId::parse(&id) {
            Ok(job) => status_of(&blobs, &job).await,
            Err(e) => Err(e.into()),
        };
        let (s, m) = match row {
            Ok(row) => row,
            Err(e) => {
                tracing::warn!("job {id}: {e:#}; left alone");
                continue;
            }
        };
        if s.state == JobState::Rendering || m.submitted_unix > cutoff {
            continue;
        }
        let n = delete_job(&blobs, &s.job).await?;
        if !args.json {
            println!(
                "deleted job {} ({}, submitted {}, {})",
                s.job,
                state_word(s.state),
                utc(m.submitted_unix),
                m.output_name
            );
        }
        deleted.push(serde_json::json!({"job": s.job, "state": state_word(s.state), "output": m.output_name, "submitted_unix": m.submitted_unix, "blobs": n}));
    }
    if args.json {
        println!("{}", serde_json::json!({ "deleted": deleted }));
    } else if deleted.is_empty() {
        eprintln!("no ended job is older than that");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::queue::MemoryQueue;

    /// A cancel leaves the protocol's stop marker, the one the merger writes for a failed job.
    #[tokio::test]
    async fn cancelling_writes_the_protocols_stop_marker() {
        let (queue, blobs, id) = (MemoryQueue::new(), Blobs::memory(), JobId::new());
        stop_job(&queue, &blobs, "cancel-test.results", &id)
            .await
            .unwrap();
        let body = blobs.get(&keys::stopped(&id)).await.unwrap();
        assert_eq!(
            StopMarker::from_bytes(&body).unwrap(),
            StopMarker::new(&id, JobState::Cancelled)
        );
        assert_eq!(queue.depth("cancel-test.results").await.unwrap(), 1);
    }

    #[test]
    fn unix_times_read_as_utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00");
        assert_eq!(utc(1_796_179_500), "2026-12-02 02:45");
    }
}
