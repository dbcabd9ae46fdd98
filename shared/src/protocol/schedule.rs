//! Records of what happens to a job around its render: when its tasks may be published
//! (`--not-before`) and whom to tell when it ends (`--notify`).
//!
//! A scheduled job's tasks are not published by the producer: it stores the manifest and a
//! [`Schedule`] under [`keys::SCHEDULES`], one small record per waiting job, so the merger (the
//! farm component that always runs) lists one short folder on each tick, publishes the tasks of
//! the jobs whose time has come, and deletes their records. The schedule lives in the blob
//! store, not in the merger's memory, so it survives the merger's restart.

use super::{JobId, Record, PROTOCOL_VERSION};
use serde::{Deserialize, Serialize};

/// A job waiting for its start time. Written by the producer, deleted by the merger once the
/// job's tasks are published (or the job was cancelled before its time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    pub version: u16,
    pub job: JobId,
    /// No task of the job is published before this time (milliseconds since the Unix epoch).
    pub not_before_unix_ms: u64,
    /// The queue the producer would have published the tasks to.
    pub task_queue: String,
}

impl Schedule {
    pub fn new(job: &JobId, not_before_unix_ms: u64, task_queue: &str) -> Schedule {
        Schedule {
            version: PROTOCOL_VERSION,
            job: job.clone(),
            not_before_unix_ms,
            task_queue: task_queue.to_string(),
        }
    }
}

impl Record for Schedule {
    const WHAT: &'static str = "schedule";
}

/// Where to POST the job's end (done, failed or cancelled), as `--notify` gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notify {
    pub version: u16,
    pub job: JobId,
    pub url: String,
}

impl Notify {
    pub fn new(job: &JobId, url: &str) -> Notify {
        Notify {
            version: PROTOCOL_VERSION,
            job: job.clone(),
            url: url.to_string(),
        }
    }
}

impl Record for Notify {
    const WHAT: &'static str = "notify record";
}

pub mod keys {
    use crate::protocol::JobId;

    /// The folder of every job waiting for its start time, one record each.
    pub const SCHEDULES: &str = "schedules";

    pub fn schedule(job: &JobId) -> String {
        format!("{SCHEDULES}/{job}")
    }
    pub fn notify(job: &JobId) -> String {
        format!("jobs/{job}/notify.msgpack")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_and_notify_records_round_trip() {
        let job = JobId("j1".into());
        let s = Schedule::new(&job, 1_796_179_500_000, "moonfarm.tasks");
        assert_eq!(Schedule::from_bytes(&s.to_bytes()).unwrap(), s);
        let n = Notify::new(&job, "http://127.0.0.1:9/hook");
        assert_eq!(Notify::from_bytes(&n.to_bytes()).unwrap(), n);
        assert_eq!(keys::schedule(&job), "schedules/j1");
    }
}
