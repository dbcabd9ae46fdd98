//! The worker's error policy: what a failed task attempt means for the queue, as a pure
//! function of the error and whether this delivery is the queue's last attempt.

use crate::TaskError;

/// What to do with a task whose attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    /// Give the task back to the queue for another attempt (here or on another worker).
    Retry,
    /// Out of retries for a task that cannot succeed: report the failure to the merger (the
    /// job is marked failed with the reason), then dead-letter the task with it.
    Fail(String),
}

/// Storage or queue trouble is retried on every attempt (the queue's delivery limit bounds
/// it); a scene error is retried until the last attempt, then fails the job. A shutdown is no
/// error: the worker stores what it rendered and puts the rest back as a new task.
pub(crate) fn error_policy(error: &TaskError, last_attempt: bool) -> Action {
    match error {
        TaskError::Transient(_) => Action::Retry,
        TaskError::Scene(reason) if last_attempt => Action::Fail(reason.clone()),
        TaskError::Scene(_) => Action::Retry,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_by_error_and_attempt() {
        let scene = || TaskError::Scene("scene file a.rdla is missing".into());
        let transient = || TaskError::Transient(anyhow::anyhow!("blob store unreachable"));
        let table: [(TaskError, bool, Action); 4] = [
            (scene(), false, Action::Retry),
            (
                scene(),
                true,
                Action::Fail("scene file a.rdla is missing".into()),
            ),
            (transient(), false, Action::Retry),
            (transient(), true, Action::Retry),
        ];
        for (error, last_attempt, expected) in table {
            let got = error_policy(&error, last_attempt);
            assert_eq!(
                got, expected,
                "{error:?} with last_attempt = {last_attempt}"
            );
        }
    }
}
