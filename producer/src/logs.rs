//! `producer logs JOB [--frame N] [--tile T] [--follow]`: the job's per-task logs, as the
//! workers stored them under the job's `logs/` folder, oldest first.

use crate::cli::LogsArgs;
use crate::remote::{blobs, resolve};
use futures::{StreamExt, TryStreamExt};
use shared::blob::Blobs;
use shared::protocol::tasklog::{keys, Attempt, TaskLog};
use shared::protocol::{keys as job_keys, JobId, JobState, JobStatus, Record};
use std::collections::HashSet;
use std::time::Duration;

/// How often `--follow` looks for new logs.
const FOLLOW_EVERY: Duration = Duration::from_secs(1);

/// The logs under the folder `--frame` selects that `seen` does not hold yet, oldest first.
async fn new_logs(
    blobs: &Blobs,
    job: &JobId,
    args: &LogsArgs,
    seen: &mut HashSet<String>,
) -> anyhow::Result<Vec<TaskLog>> {
    let folder = match args.frame {
        Some(f) => keys::frame_logs(job, f),
        None => keys::logs(job),
    };
    let fresh: Vec<String> = blobs
        .list_keys(&folder)
        .await?
        .into_iter()
        .filter(|k| args.tile.is_none_or(|t| keys::tile_of(k) == Some(t)))
        .filter(|k| seen.insert(k.clone()))
        .collect();
    let mut logs: Vec<TaskLog> = futures::stream::iter(fresh)
        .map(|key| async move {
            let bytes = blobs.get(&key).await?;
            TaskLog::from_bytes(&bytes).map_err(|e| anyhow::anyhow!("{key}: {e}"))
        })
        .buffer_unordered(16)
        .try_collect()
        .await?;
    logs.sort_by_key(|l| (l.started_unix_ms, l.frame, l.tile, l.pass));
    Ok(logs)
}

/// One attempt as a line, its warnings and error as indented lines beneath.
fn text(l: &TaskLog) -> String {
    let outcome = match l.outcome {
        Attempt::Rendered => "rendered",
        Attempt::Retried => "retried",
        Attempt::Failed => "failed",
        Attempt::Interrupted => "interrupted",
    };
    let mut out = format!(
        "{}.{:03} UTC  frame {} tile {} pass {}  {outcome} on {} (delivery {}) in {:.2} s",
        crate::remote::utc(l.started_unix_ms / 1000),
        l.started_unix_ms % 1000,
        l.frame,
        l.tile,
        l.pass,
        l.worker,
        l.delivery,
        l.seconds
    );
    for w in &l.warnings {
        out.push_str(&format!("\n  warning: {w}"));
    }
    if let Some(e) = &l.error {
        out.push_str(&format!("\n  error: {e}"));
    }
    out
}

fn print(logs: &[TaskLog], json: bool) {
    for l in logs {
        if json {
            println!("{}", serde_json::to_string(l).expect("logs serialise"));
        } else {
            println!("{}", text(l));
        }
    }
}

async fn ended(blobs: &Blobs, job: &JobId) -> anyhow::Result<bool> {
    Ok(match blobs.get_opt(&job_keys::status(job)).await? {
        Some(b) => JobStatus::from_bytes(&b)?.state != JobState::Rendering,
        None => false,
    })
}

pub async fn logs(args: &LogsArgs) -> anyhow::Result<()> {
    let blobs = blobs(&args.remote)?;
    let job = resolve(&blobs, &args.job).await?;
    let mut seen = HashSet::new();
    let first = new_logs(&blobs, &job, args, &mut seen).await?;
    print(&first, args.json);
    if !args.follow {
        if first.is_empty() && !args.json {
            eprintln!("no task of job {job} has logged yet");
        }
        return Ok(());
    }
    loop {
        // Read the state before the logs, so the last logs of an ending job are printed.
        let done = ended(&blobs, &job).await?;
        print(&new_logs(&blobs, &job, args, &mut seen).await?, args.json);
        if done {
            return Ok(());
        }
        tokio::time::sleep(FOLLOW_EVERY).await;
    }
}
