//! `producer pause`, `resume` and `priority`: how a farm job's tasks are dispatched after it was
//! submitted, recorded in the job's `Dispatch` record, which workers read before each task.
//!
//! Pausing writes the record and nothing else: from then on a worker that takes a task of the
//! job parks it (moves it unrendered to the job's parked queue, `shared::parking`), and tasks
//! already being rendered finish and are merged. Resuming writes the record, then moves every
//! parked task back onto the queue of the job's level. A new priority is recorded, and a worker
//! that meets a task of the job on another level's queue moves it to the new level's; parked
//! tasks go to the new level when the job is resumed. No task is ever dropped or rendered for
//! nothing: each is either rendered once, or waits in exactly one queue.

use crate::cli::{JobArgs, PriorityArgs, RemoteArgs};
use crate::remote::{blobs, resolve, status_of, waiting_until};
use shared::blob::Blobs;
use shared::lifecycle::{self, Event, JobState as Life};
use shared::priority::Priority;
use shared::protocol::dispatch::{keys as dispatch_keys, Dispatch};
use shared::protocol::index::{keys as index_keys, JobIndex};
use shared::protocol::{keys, JobId, JobManifest, JobState, JobStatus, Record};

/// The job's dispatch record: the stored one, or the manifest's as submitted.
pub(crate) async fn read(blobs: &Blobs, m: &JobManifest) -> anyhow::Result<Dispatch> {
    Ok(
        match blobs.get_opt(&dispatch_keys::dispatch(&m.job)).await? {
            Some(bytes) => Dispatch::from_bytes(&bytes)?,
            None => Dispatch::new(&m.job, m.priority),
        },
    )
}

/// Where a job stands in its life, from the merger's status, the dispatch record, whether a
/// stop marker exists (a cancel the merger has not recorded yet) and whether it still waits
/// for its start time.
pub(crate) fn life(s: &JobStatus, d: &Dispatch, stopped: bool, waiting: bool) -> Life {
    match s.state {
        JobState::Done => Life::Done,
        JobState::Failed => Life::Failed,
        JobState::Cancelled => Life::Cancelled,
        JobState::Rendering if stopped => Life::Cancelled,
        JobState::Rendering if d.paused => Life::Paused,
        JobState::Rendering if waiting => Life::Scheduled,
        JobState::Rendering if s.tasks_done == 0 => Life::Queued,
        JobState::Rendering => Life::Running,
    }
}

/// A job as these commands see it.
struct Loaded {
    job: JobId,
    dispatch: Dispatch,
    life: Life,
}

/// A job that has not ended, or the error that says why `what` cannot be done to it.
async fn load_open(blobs: &Blobs, text: &str, what: &str) -> anyhow::Result<Loaded> {
    let loaded = load(blobs, text).await?;
    if loaded.life.is_terminal() {
        anyhow::bail!("job {} is {}: {what}", loaded.job, loaded.life);
    }
    Ok(loaded)
}

async fn load(blobs: &Blobs, text: &str) -> anyhow::Result<Loaded> {
    let job = resolve(blobs, text).await?;
    let (s, m) = status_of(blobs, &job).await?;
    let dispatch = read(blobs, &m).await?;
    let stopped = blobs.exists(&keys::stopped(&job)).await?;
    let waiting = waiting_until(blobs, &s).await?.is_some();
    let life = life(&s, &dispatch, stopped, waiting);
    Ok(Loaded {
        job,
        dispatch,
        life,
    })
}

/// Stores the record, and the job's index entry with its new state and priority (the merger
/// keeps a paused entry paused as results of tasks in flight come in).
async fn store(blobs: &Blobs, d: &Dispatch, life: Life) -> anyhow::Result<()> {
    blobs
        .put(&dispatch_keys::dispatch(&d.job), d.to_bytes())
        .await?;
    let key = index_keys::index(&d.job);
    if let Some(bytes) = blobs.get_opt(&key).await? {
        let mut e = JobIndex::from_bytes(&bytes)?;
        e.state = life;
        e.priority = Some(d.priority.to_string());
        blobs.put(&key, e.to_bytes()).await?;
    }
    Ok(())
}

fn refused(job: &JobId, e: lifecycle::Refused) -> anyhow::Error {
    anyhow::anyhow!("job {job}: {e}")
}

pub async fn pause(args: &JobArgs) -> anyhow::Result<()> {
    let blobs = blobs(&args.remote)?;
    let Loaded {
        job,
        mut dispatch,
        life,
    } = load(&blobs, &args.job).await?;
    let already = life == Life::Paused;
    if !already {
        let to = lifecycle::transition(life, Event::Pause).map_err(|e| refused(&job, e))?;
        dispatch.paused = true;
        dispatch.parked = Some(shared::parking::parked_queue(&args.remote.task_queue, &job));
        store(&blobs, &dispatch, to).await?;
    }
    report(args.json, &job, "paused", already, None);
    Ok(())
}

/// Moves the job's parked tasks onto its level's queue; returns how many.
async fn unpark(remote: &RemoteArgs, d: &Dispatch) -> anyhow::Result<u64> {
    let (queue, _, connection) = shared::process::connect(&remote.conn, "producer").await?;
    let parked = shared::parking::parked_queue(&remote.task_queue, &d.job);
    let to = d.priority.queue(&remote.task_queue);
    // The parked queue stays, empty, until the job ends and the merger deletes it: deleting
    // it here could lose a task a worker parks this instant (quorum queues have no
    // delete-if-empty), which that worker moves back itself once it sees the job resumed.
    let moved = shared::parking::move_all(&queue, &parked, &to).await;
    connection.cancel();
    queue.close().await;
    Ok(moved?)
}

pub async fn resume(args: &JobArgs) -> anyhow::Result<()> {
    let blobs = blobs(&args.remote)?;
    let Loaded {
        job,
        mut dispatch,
        life,
    } = load_open(&blobs, &args.job, "there is nothing to resume").await?;
    // A job that is not paused is resumed all the same as far as its parked queue goes: a
    // worker that could not queue parked tasks again says to run this.
    let already = life != Life::Paused;
    if !already {
        let mut to = lifecycle::transition(life, Event::Resume).map_err(|e| refused(&job, e))?;
        let (s, _) = status_of(&blobs, &job).await?;
        if waiting_until(&blobs, &s).await?.is_some() {
            to = Life::Scheduled;
        } else if s.tasks_done > 0 {
            to = lifecycle::transition(to, Event::Progress).map_err(|e| refused(&job, e))?;
        }
        dispatch.paused = false;
        // The record first: a worker parking a task from now on sees the job resumed and
        // queues what is parked itself.
        store(&blobs, &dispatch, to).await?;
    }
    let moved = unpark(&args.remote, &dispatch).await?;
    report(args.json, &job, "resumed", already, Some(moved));
    Ok(())
}

pub async fn priority(args: &PriorityArgs) -> anyhow::Result<()> {
    let level = match Priority::parse(&args.level) {
        Ok(level) => level,
        Err(e) => crate::usage!("{e}"),
    };
    let blobs = blobs(&args.remote)?;
    let Loaded {
        job,
        mut dispatch,
        life,
    } = load_open(&blobs, &args.job, "its priority cannot change").await?;
    let already = dispatch.priority == level;
    if !already {
        dispatch.priority = level;
        store(&blobs, &dispatch, life).await?;
    }
    report(args.json, &job, level.as_str(), already, None);
    Ok(())
}

/// One line for people, or one JSON object: the job, what it is now, whether it already was,
/// and how many parked tasks were queued again.
fn report(json: bool, job: &JobId, now: &str, already: bool, moved: Option<u64>) {
    if json {
        let mut v = serde_json::json!({"job": job, "now": now, "already": already});
        if let Some(n) = moved {
            v["tasks_queued"] = serde_json::json!(n);
        }
        println!("{v}");
    } else if already && now == "resumed" {
        eprintln!(
            "job {job} was not paused; {} parked tasks queued again",
            moved.unwrap_or(0)
        );
    } else if already {
        eprintln!("job {job} was already {now}");
    } else if let Some(n) = moved {
        eprintln!("job {job} is {now}: {n} parked tasks queued again");
    } else {
        eprintln!("job {job} is {now}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn life_states_from_status_record_stop_marker_and_schedule() {
        let job = JobId::new();
        let mut s = JobStatus {
            version: shared::protocol::PROTOCOL_VERSION,
            job: job.clone(),
            state: JobState::Rendering,
            tasks_done: 0,
            tasks_total: 4,
            passes_done: 0,
            passes_total: 1,
            samples_per_second: 0.0,
            eta_seconds: None,
            progress: 0.0,
            snapshot_generation: 0,
            failures: vec![],
            frames: vec![],
            tasks: Default::default(),
            cost: None,
        };
        let mut d = Dispatch::new(&job, Priority::Batch);
        assert_eq!(life(&s, &d, false, false), Life::Queued);
        assert_eq!(life(&s, &d, false, true), Life::Scheduled);
        s.tasks_done = 1;
        assert_eq!(life(&s, &d, false, false), Life::Running);
        d.paused = true;
        assert_eq!(life(&s, &d, false, false), Life::Paused);
        assert_eq!(life(&s, &d, true, false), Life::Cancelled);
        s.state = JobState::Done;
        assert_eq!(life(&s, &d, false, false), Life::Done);
    }
}
