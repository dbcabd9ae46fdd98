//! Scheduled starts: the merger publishes the tasks of jobs submitted with `--not-before`
//! once their time has come.
//!
//! The merger is the farm component that always runs (one replica, never scaled to zero), so
//! it holds the schedule; the schedule itself is in the blob store (`schedules/`, one record a
//! waiting job), so a restarted merger picks it up where the last one left it. Each tick lists
//! that one folder, publishes every due job's tasks (`shared::plan::tasks` of its manifest),
//! marks the job queued in the index, and only then deletes its record: a merger killed in
//! between publishes the job's tasks again on its next tick, which costs renders but never
//! correctness (a task rewrites its own partial, and the merger counts each (tile, pass) once).
//! Publishing runs beside the result loop, never in it, so a large job's release does not
//! hold up merging.

use crate::index;
use shared::blob::Blobs;
use shared::lifecycle::{Clock, JobState};
use shared::plan;
use shared::protocol::schedule::{keys as schedule_keys, Schedule};
use shared::protocol::{self, keys, JobId, JobManifest, Message, Record};
use shared::queue::Queue;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Ticks every `every` until `stop` fires. A failed tick is logged and tried again on the next:
/// the blob store or the broker being away for a while delays releases, it does not lose them.
pub async fn run(
    blobs: Blobs,
    queue: std::sync::Arc<dyn Queue>,
    clock: std::sync::Arc<dyn Clock>,
    every: Duration,
    stop: CancellationToken,
) {
    loop {
        if let Err(e) = tick(&blobs, queue.as_ref(), clock.as_ref()).await {
            tracing::warn!("releasing scheduled jobs failed, will try again: {e:#}");
        }
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = tokio::time::sleep(every) => {}
        }
    }
}

/// One look at the schedule: releases every job whose start time is at or before the clock's
/// now. Returns the jobs released.
pub async fn tick(
    blobs: &Blobs,
    queue: &dyn Queue,
    clock: &dyn Clock,
) -> anyhow::Result<Vec<JobId>> {
    let now_ms = unix_ms(clock);
    let mut released = Vec::new();
    for key in blobs.list_keys(schedule_keys::SCHEDULES).await? {
        let Some(bytes) = blobs.get_opt(&key).await? else {
            continue; // released or withdrawn meanwhile
        };
        let schedule = match Schedule::from_bytes(&bytes) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(%key, "unreadable schedule left alone: {e}");
                continue;
            }
        };
        if schedule.not_before_unix_ms > now_ms {
            continue;
        }
        if release(blobs, queue, &schedule).await? {
            released.push(schedule.job.clone());
        }
        blobs.delete(&key).await?;
    }
    Ok(released)
}

/// Publishes the job's tasks, unless it was cancelled while it waited. True when published.
async fn release(blobs: &Blobs, queue: &dyn Queue, s: &Schedule) -> anyhow::Result<bool> {
    let job = &s.job;
    if blobs.exists(&keys::stopped(job)).await? {
        tracing::info!(%job, "scheduled job was cancelled before its start: nothing published");
        return Ok(false);
    }
    let Some(bytes) = blobs.get_opt(&keys::manifest(job)).await? else {
        tracing::warn!(%job, "scheduled job has no manifest (deleted?): nothing published");
        return Ok(false);
    };
    let manifest = match JobManifest::from_bytes(&bytes) {
        Ok(m) => m,
        Err(e) => {
            tracing::error!(%job, "scheduled job's manifest is unreadable, nothing published: {e}");
            return Ok(false);
        }
    };
    let tasks = plan::tasks(&manifest);
    let n = tasks.len();
    for task in tasks {
        queue
            .publish(&s.task_queue, protocol::encode(&Message::Task(task)))
            .await?;
    }
    index::update(blobs, job, |e| {
        if e.state == JobState::Scheduled {
            e.state = JobState::Queued;
        }
    })
    .await?;
    tracing::info!(%job, tasks = n, queue = %s.task_queue, "scheduled job released");
    Ok(true)
}

pub fn unix_ms(clock: &dyn Clock) -> u64 {
    (shared::lifecycle::unix_seconds(clock.now()) * 1000.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::lifecycle::ManualClock;
    use shared::protocol::index::{keys as index_keys, JobIndex};
    use shared::queue::MemoryQueue;

    async fn scheduled_job(blobs: &Blobs, at_ms: u64) -> JobManifest {
        let m = crate::tests::manifest();
        blobs
            .put(&keys::manifest(&m.job), m.to_bytes())
            .await
            .unwrap();
        let mut e = JobIndex::new(&m.job, &m.output_name, 0, m.task_count() as u64);
        e.state = JobState::Scheduled;
        blobs
            .put(&index_keys::index(&m.job), e.to_bytes())
            .await
            .unwrap();
        let s = Schedule::new(&m.job, at_ms, "sched-test.tasks");
        blobs
            .put(&schedule_keys::schedule(&m.job), s.to_bytes())
            .await
            .unwrap();
        m
    }

    #[tokio::test]
    async fn nothing_is_published_before_the_time_and_everything_at_it() {
        let (q, blobs) = (MemoryQueue::new(), Blobs::memory());
        let clock = ManualClock::at_unix(1_000);
        let m = scheduled_job(&blobs, 1_060_000).await;
        for _ in 0..3 {
            assert!(tick(&blobs, &q, &clock).await.unwrap().is_empty());
            assert_eq!(q.depth("sched-test.tasks").await.unwrap(), 0);
            clock.advance(Duration::from_secs(19));
        }
        clock.advance(Duration::from_secs(3)); // 1_060 s
        assert_eq!(tick(&blobs, &q, &clock).await.unwrap(), vec![m.job.clone()]);
        assert_eq!(
            q.depth("sched-test.tasks").await.unwrap(),
            m.task_count() as u64
        );
        let e =
            JobIndex::from_bytes(&blobs.get(&index_keys::index(&m.job)).await.unwrap()).unwrap();
        assert_eq!(e.state, JobState::Queued);
        // Released once: the record is gone, so later ticks publish nothing more.
        assert!(!blobs
            .exists(&schedule_keys::schedule(&m.job))
            .await
            .unwrap());
        assert!(tick(&blobs, &q, &clock).await.unwrap().is_empty());
        assert_eq!(
            q.depth("sched-test.tasks").await.unwrap(),
            m.task_count() as u64
        );
    }

    #[tokio::test]
    async fn a_job_cancelled_while_it_waits_is_never_published() {
        let (q, blobs) = (MemoryQueue::new(), Blobs::memory());
        let clock = ManualClock::at_unix(1_000);
        let m = scheduled_job(&blobs, 1_000_500).await;
        let marker =
            shared::protocol::StopMarker::new(&m.job, shared::protocol::JobState::Cancelled);
        blobs
            .put(&keys::stopped(&m.job), marker.to_bytes())
            .await
            .unwrap();
        clock.advance(Duration::from_secs(1));
        assert!(tick(&blobs, &q, &clock).await.unwrap().is_empty());
        assert_eq!(q.depth("sched-test.tasks").await.unwrap(), 0);
        assert!(!blobs
            .exists(&schedule_keys::schedule(&m.job))
            .await
            .unwrap());
    }
}
