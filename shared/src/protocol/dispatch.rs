//! How a job's tasks are dispatched after submission: its priority now and whether it is
//! paused. One small record per job, written by `producer pause`, `resume` and `priority`, and
//! read afresh by a worker before each task of the job it takes.
//!
//! No record means as submitted: the manifest's priority, not paused. The merger reads it only
//! to publish an adaptive job's next passes (on the job's level, or parked while it is paused);
//! the producer shows `paused` and the priority from it.

use super::{JobId, Record, PROTOCOL_VERSION};
use crate::priority::Priority;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dispatch {
    pub version: u16,
    pub job: JobId,
    /// The level whose queue the job's tasks belong on.
    pub priority: Priority,
    /// Workers park the job's tasks (move them to its parked queue unrendered) while set.
    pub paused: bool,
    /// The job's parked queue, once it has been paused: the merger deletes it when the job
    /// ends (it would keep only tasks that will never render). Only a name that
    /// [`Dispatch::parked_queue`] accepts is ever deleted.
    #[serde(default)]
    pub parked: Option<String>,
}

/// What a worker does with a task it took, given the job's record and the level it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Render,
    /// The job is paused: move the task to the job's parked queue (`shared::parking`).
    Park,
    /// The job's level changed since the task was queued: move it to that level's queue.
    Reroute(Priority),
}

impl Dispatch {
    pub fn new(job: &JobId, priority: Priority) -> Dispatch {
        Dispatch {
            version: PROTOCOL_VERSION,
            job: job.clone(),
            priority,
            paused: false,
            parked: None,
        }
    }

    /// The parked queue to delete once the job has ended: the recorded name, if it is a
    /// parked queue of this very job (a record is a blob anyone with write access could
    /// forge, and it must not name another queue for the merger to delete).
    pub fn parked_queue(&self) -> Option<&str> {
        let name = self.parked.as_deref()?;
        let suffix = format!("{}{}", crate::parking::PARKED_INFIX, self.job);
        let base = name.strip_suffix(&suffix)?;
        (!base.is_empty() && name.len() <= 255).then_some(name)
    }

    /// The decision for a task of this job taken from level `from`'s queue. Pausing wins: a
    /// paused job's tasks are parked wherever they were, and resume queues them at the level
    /// the record has then.
    pub fn admit(&self, from: Priority) -> Admission {
        if self.paused {
            Admission::Park
        } else if from != self.priority {
            Admission::Reroute(self.priority)
        } else {
            Admission::Render
        }
    }
}

impl Record for Dispatch {
    const WHAT: &'static str = "dispatch record";
}

pub mod keys {
    use crate::protocol::JobId;

    pub fn dispatch(job: &JobId) -> String {
        format!("jobs/{job}/dispatch.msgpack")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Priority as P;

    /// Every (paused, job's level, level the task came from) case of what a worker does.
    #[test]
    fn admission_as_a_table() {
        #[rustfmt::skip]
        let table = [
            // paused, job's level, task's level, decision
            (false, P::Normal, P::Normal, Admission::Render),
            (false, P::Batch, P::Batch, Admission::Render),
            (false, P::Interactive, P::Batch, Admission::Reroute(P::Interactive)),
            (false, P::Batch, P::Interactive, Admission::Reroute(P::Batch)),
            (true, P::Normal, P::Normal, Admission::Park),
            (true, P::Interactive, P::Batch, Admission::Park),
        ];
        for (paused, level, from, want) in table {
            let mut d = Dispatch::new(&JobId::new(), level);
            d.paused = paused;
            assert_eq!(d.admit(from), want, "paused {paused}, {level} from {from}");
            assert_eq!(Dispatch::from_bytes(&d.to_bytes()).unwrap(), d);
        }
    }

    /// The merger deletes only the parked queue of the record's own job.
    #[test]
    fn only_the_jobs_own_parked_queue_is_ever_deleted() {
        let job = JobId::new();
        let mut d = Dispatch::new(&job, P::Normal);
        assert_eq!(d.parked_queue(), None);
        let own = crate::parking::parked_queue("moonfarm.tasks", &job);
        d.parked = Some(own.clone());
        assert_eq!(d.parked_queue(), Some(own.as_str()));
        let other = crate::parking::parked_queue("moonfarm.tasks", &JobId::new());
        let longer = format!("{own}0");
        for forged in [&other, "moonfarm.tasks", "moonfarm.results", &longer] {
            d.parked = Some(forged.to_string());
            assert_eq!(d.parked_queue(), None, "{forged}");
        }
        d.parked = Some(format!(".parked.{job}"));
        assert_eq!(d.parked_queue(), None, "no task queue name");
    }
}
