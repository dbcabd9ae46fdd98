//! `producer list`: every job from the job index, newest first. One listing of the index
//! folder and one small read per job, several at a time: nothing inside the jobs' folders is
//! listed or read, so thousands of jobs list quickly.

use crate::cli::ListArgs;
use crate::remote::{blobs, utc};
use futures::{StreamExt, TryStreamExt};
use shared::blob::Blobs;
use shared::protocol::index::{keys, JobIndex};
use shared::protocol::Record;

/// Index entries read at once.
const READS_AT_ONCE: usize = 32;

/// Every job's index entry, newest first. An unreadable entry is skipped with a warning; one
/// deleted between the listing and its read is skipped silently.
pub async fn entries(blobs: &Blobs) -> anyhow::Result<Vec<JobIndex>> {
    let listed = blobs.list_keys(keys::INDEX).await?;
    let read: Vec<Option<JobIndex>> = futures::stream::iter(listed)
        .map(|key| async move {
            let Some(bytes) = blobs.get_opt(&key).await? else {
                return Ok::<_, anyhow::Error>(None);
            };
            match JobIndex::from_bytes(&bytes) {
                Ok(e) => Ok(Some(e)),
                Err(e) => {
                    tracing::warn!("{key}: {e}; not listed");
                    Ok(None)
                }
            }
        })
        .buffer_unordered(READS_AT_ONCE)
        .try_collect()
        .await?;
    let mut entries: Vec<JobIndex> = read.into_iter().flatten().collect();
    entries.sort_by(|a, b| {
        b.submitted_unix_ms
            .cmp(&a.submitted_unix_ms)
            .then_with(|| a.job.cmp(&b.job))
    });
    Ok(entries)
}

fn json(e: &JobIndex) -> serde_json::Value {
    let secs = |ms: Option<u64>| ms.map(|ms| ms / 1000);
    serde_json::json!({
        "job": e.job,
        "state": e.state,
        "output": e.output,
        "frames_done": e.frames_done,
        "frames_total": e.frames_total,
        "tasks_done": e.tasks_done,
        "tasks_total": e.tasks_total,
        "priority": e.priority,
        "submitted_unix": e.submitted_unix_ms / 1000,
        "not_before_unix": secs(e.not_before_unix_ms),
        "started_unix": secs(e.started_unix_ms),
        "finished_unix": secs(e.finished_unix_ms),
        "core_seconds": e.core_seconds,
        "cost": e.cost,
    })
}

pub async fn list(args: &ListArgs) -> anyhow::Result<()> {
    let blobs = blobs(&args.remote)?;
    let mut rows = entries(&blobs).await?;
    if let Some(state) = args.state {
        rows.retain(|e| e.state == state);
    }
    if args.json {
        let v: Vec<_> = rows.iter().map(json).collect();
        println!("{}", serde_json::Value::Array(v));
        return Ok(());
    }
    println!(
        "{:<36}  {:<9}  {:>7}  {:<8}  {:<16}  {:<16}  {:<16}  {:>8}  OUTPUT",
        "JOB",
        "STATE",
        "FRAMES",
        "PRIORITY",
        "SUBMITTED (UTC)",
        "STARTED (UTC)",
        "FINISHED (UTC)",
        "COST"
    );
    let time = |ms: Option<u64>| ms.map_or("-".to_string(), |ms| utc(ms / 1000));
    for e in rows {
        // A job still waiting shows when it will start.
        let started = match (e.started_unix_ms, e.not_before_unix_ms) {
            (None, Some(at)) if e.state == shared::lifecycle::JobState::Scheduled => {
                format!("at {}", utc(at / 1000))
            }
            (started, _) => time(started),
        };
        println!(
            "{:<36}  {:<9}  {:>7}  {:<8}  {:<16}  {:<16}  {:<16}  {:>8}  {}",
            e.job,
            e.state,
            format!("{}/{}", e.frames_done, e.frames_total),
            e.priority.as_deref().unwrap_or("normal"),
            utc(e.submitted_unix_ms / 1000),
            started,
            time(e.finished_unix_ms),
            e.cost.map_or("-".to_string(), |c| format!("{c:.4}")),
            e.output
        );
    }
    Ok(())
}
