//! Per-task logs: what one attempt at one task said (the scene's warnings, the error that
//! failed it), which worker ran it, when and for how long. The worker writes one small record
//! per attempt under the job's `logs/` folder, keyed by frame, tile, pass and start, so
//! `producer logs --frame N` lists only that frame's folder.

use super::{JobId, Record};
use serde::{Deserialize, Serialize};

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Attempt {
    /// The partial is stored and the result reported.
    Rendered,
    /// A transient error or a shutdown: the task goes back to the queue.
    Retried,
    /// The task cannot succeed: the job is failed.
    Failed,
    /// Stopped mid-task (a shutdown): the samples rendered are stored and reported, the rest
    /// of the range went back to the queue as a new task.
    Interrupted,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskLog {
    pub version: u16,
    pub job: JobId,
    pub frame: i32,
    pub tile: u32,
    pub pass: u32,
    pub worker: String,
    /// The delivery this was (1 = first).
    pub delivery: u32,
    pub started_unix_ms: u64,
    pub seconds: f64,
    pub outcome: Attempt,
    /// The scene's warnings as the worker's loader gave them.
    pub warnings: Vec<String>,
    /// The error of a retried or failed attempt.
    pub error: Option<String>,
}

impl TaskLog {
    pub fn key(&self) -> String {
        keys::task_log(
            &self.job,
            self.frame,
            self.tile,
            self.pass,
            self.started_unix_ms,
            &self.worker,
        )
    }
}

impl Record for TaskLog {
    const WHAT: &'static str = "task log";
}

pub mod keys {
    use crate::protocol::JobId;

    pub fn logs(job: &JobId) -> String {
        format!("jobs/{job}/logs")
    }
    pub fn frame_logs(job: &JobId, frame: i32) -> String {
        format!("jobs/{job}/logs/f{frame}")
    }
    /// One attempt's log. The worker's name is reduced to `[A-Za-z0-9_.-]` so that it cannot
    /// add folders to the key.
    pub fn task_log(
        job: &JobId,
        frame: i32,
        tile: u32,
        pass: u32,
        started_unix_ms: u64,
        worker: &str,
    ) -> String {
        let worker: String = worker
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        format!(
            "{}/t{tile:05}-p{pass:03}-{started_unix_ms}-{worker}.msgpack",
            frame_logs(job, frame)
        )
    }
    /// The tile a log key names (`.../t00003-p001-...`), for `--tile` without reading the record.
    pub fn tile_of(key: &str) -> Option<u32> {
        let name = key.rsplit('/').next()?;
        name.strip_prefix('t')?.get(..5)?.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::PROTOCOL_VERSION;

    #[test]
    fn logs_round_trip_and_their_keys_name_the_tile() {
        let log = TaskLog {
            version: PROTOCOL_VERSION,
            job: JobId("j1".into()),
            frame: 3,
            tile: 7,
            pass: 1,
            worker: "pod/a b".into(),
            delivery: 2,
            started_unix_ms: 99,
            seconds: 0.5,
            outcome: Attempt::Failed,
            warnings: vec!["scene.rdla:3: unknown attribute".into()],
            error: Some("boom".into()),
        };
        assert_eq!(TaskLog::from_bytes(&log.to_bytes()).unwrap(), log);
        assert_eq!(log.key(), "jobs/j1/logs/f3/t00007-p001-99-pod_a_b.msgpack");
        assert_eq!(keys::tile_of(&log.key()), Some(7));
        assert_eq!(keys::tile_of("jobs/j1/logs/f3/x.msgpack"), None);
    }
}
