//! The job index: one small record per job under one folder, so that `producer list` reads
//! every job with one listing and one small read each, never listing the blobs inside jobs.
//!
//! The producer writes a job's entry at submit (before its tasks are published, so nothing
//! can overtake it); the merger rewrites it when the job's tasks are released, when its first
//! result is merged and when it ends. Fields other branches fill (priority, frames, cost) are
//! optional with serde defaults, so older entries still read.

use super::{JobId, Record, PROTOCOL_VERSION};
use crate::lifecycle::JobState;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobIndex {
    pub version: u16,
    pub job: JobId,
    pub state: JobState,
    /// The output name the job was submitted with.
    pub output: String,
    pub submitted_unix_ms: u64,
    /// The scheduled start (`--not-before`), if any.
    #[serde(default)]
    pub not_before_unix_ms: Option<u64>,
    /// When the first result was merged.
    #[serde(default)]
    pub started_unix_ms: Option<u64>,
    /// When the job ended (done, failed or cancelled).
    #[serde(default)]
    pub finished_unix_ms: Option<u64>,
    #[serde(default)]
    pub tasks_done: u64,
    #[serde(default)]
    pub tasks_total: u64,
    #[serde(default)]
    pub frames_done: u32,
    #[serde(default)]
    pub frames_total: u32,
    /// `interactive`, `normal` or `batch`, once jobs have priorities.
    #[serde(default)]
    pub priority: Option<String>,
    /// CPU time rendered, once results report it.
    #[serde(default)]
    pub core_seconds: Option<f64>,
    /// Estimated cost of `core_seconds`, once a price is known.
    #[serde(default)]
    pub cost: Option<f64>,
}

impl JobIndex {
    pub fn new(job: &JobId, output: &str, submitted_unix_ms: u64, tasks_total: u64) -> JobIndex {
        JobIndex {
            version: PROTOCOL_VERSION,
            job: job.clone(),
            state: JobState::Queued,
            output: output.to_string(),
            submitted_unix_ms,
            not_before_unix_ms: None,
            started_unix_ms: None,
            finished_unix_ms: None,
            tasks_done: 0,
            tasks_total,
            frames_done: 0,
            frames_total: 1,
            priority: None,
            core_seconds: None,
            cost: None,
        }
    }
}

impl Record for JobIndex {
    const WHAT: &'static str = "job index entry";
}

pub mod keys {
    use crate::protocol::JobId;

    /// The folder of every job's index entry.
    pub const INDEX: &str = "index";

    pub fn index(job: &JobId) -> String {
        format!("{INDEX}/{job}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_older_ones_read_with_defaults() {
        let mut e = JobIndex::new(&JobId("j1".into()), "out.exr", 1_000, 16);
        e.state = JobState::Scheduled;
        e.not_before_unix_ms = Some(2_000);
        assert_eq!(JobIndex::from_bytes(&e.to_bytes()).unwrap(), e);
        // An entry written before the optional fields existed.
        #[derive(Serialize)]
        struct Old {
            version: u16,
            job: JobId,
            state: JobState,
            output: String,
            submitted_unix_ms: u64,
        }
        let old = Old {
            version: PROTOCOL_VERSION,
            job: JobId("j2".into()),
            state: JobState::Done,
            output: "a.exr".into(),
            submitted_unix_ms: 5,
        };
        let read = JobIndex::from_bytes(&rmp_serde::to_vec_named(&old).unwrap()).unwrap();
        assert_eq!(
            (read.state, read.priority, read.cost),
            (JobState::Done, None, None)
        );
    }
}
