//! A job's life: the one state enum, the one function that moves it, and the clock it is timed by.
//!
//! Every allowed and refused move is in [`transition`] (tested as a table below), so the merger,
//! the producer and whatever later schedules or pauses jobs agree on what can follow what. Frames
//! of a sequence use the same enum (a frame is never `scheduled` or `paused` on its own).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Where a job (or one frame of it) stands. Serialised lowercase, as `producer status --json`
/// and `producer list --state` spell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Submitted with a start time still ahead: none of its tasks is published yet.
    Scheduled,
    /// Its tasks are published (or ready to be) and no result has come in yet.
    Queued,
    /// At least one result is in and not every frame is complete.
    Running,
    /// Dispatch is stopped: tasks in flight finish, nothing new starts until it is resumed.
    Paused,
    /// Every frame's final image is stored.
    Done,
    /// A task could not succeed; the job's remaining tasks are dropped.
    Failed,
    /// Stopped by the user.
    Cancelled,
}

impl JobState {
    pub const ALL: [JobState; 7] = [
        JobState::Scheduled,
        JobState::Queued,
        JobState::Running,
        JobState::Paused,
        JobState::Done,
        JobState::Failed,
        JobState::Cancelled,
    ];

    /// Done, failed and cancelled are final: nothing moves a job out of them.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            JobState::Done | JobState::Failed | JobState::Cancelled
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Scheduled => "scheduled",
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Paused => "paused",
            JobState::Done => "done",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    /// Parses the lowercase name, for `--state`.
    pub fn parse(s: &str) -> Option<JobState> {
        JobState::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What can happen to a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Its start time has come and its tasks are published.
    Release,
    /// A result of it has been merged.
    Progress,
    /// The user paused it.
    Pause,
    /// The user resumed it.
    Resume,
    /// Every frame is complete.
    Complete,
    /// A task failed for good.
    Fail,
    /// The user cancelled it.
    Cancel,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a {from} job cannot {}", event_verb(*.event))]
pub struct Refused {
    pub from: JobState,
    pub event: Event,
}

fn event_verb(e: Event) -> &'static str {
    match e {
        Event::Release => "be released",
        Event::Progress => "take results",
        Event::Pause => "be paused",
        Event::Resume => "be resumed",
        Event::Complete => "complete",
        Event::Fail => "fail",
        Event::Cancel => "be cancelled",
    }
}

/// The one place that decides which state follows `from` on `event`.
///
/// Decisions: results may still arrive while a job is paused (tasks in flight finish), and keep
/// it paused; a paused job whose last task lands completes; resuming goes back to `queued`
/// (or `running` when results are already in, told by the caller with `Progress` afterwards).
/// A job can fail or be cancelled from any live state; terminal states refuse everything, so
/// a late result or a second cancel changes nothing.
pub fn transition(from: JobState, event: Event) -> Result<JobState, Refused> {
    use Event as E;
    use JobState as S;
    let to = match (from, event) {
        (S::Scheduled, E::Release) => S::Queued,
        (S::Queued | S::Running, E::Progress) => S::Running,
        (S::Paused, E::Progress) => S::Paused,
        (S::Scheduled | S::Queued | S::Running, E::Pause) => S::Paused,
        (S::Paused, E::Resume) => S::Queued,
        (S::Queued | S::Running | S::Paused, E::Complete) => S::Done,
        (S::Scheduled | S::Queued | S::Running | S::Paused, E::Fail) => S::Failed,
        (S::Scheduled | S::Queued | S::Running | S::Paused, E::Cancel) => S::Cancelled,
        _ => return Err(Refused { from, event }),
    };
    Ok(to)
}

/// Where times come from, so that schedules, ETAs and reports can be tested without waiting.
pub trait Clock: Send + Sync {
    fn now(&self) -> SystemTime;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that moves only when told to; clones share the same time.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<SystemTime>>);

impl ManualClock {
    pub fn at_unix(seconds: u64) -> ManualClock {
        ManualClock(Arc::new(Mutex::new(
            UNIX_EPOCH + Duration::from_secs(seconds),
        )))
    }
    pub fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }
}

/// Seconds since the Unix epoch, as status and reports record times (0 before 1970).
pub fn unix_seconds(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use Event as E;
    use JobState as S;

    /// Every (state, event) pair: the state it leads to, or None when refused.
    #[test]
    fn transitions_as_a_table() {
        #[rustfmt::skip]
        let table: [(S, [Option<S>; 7]); 7] = [
            //             Release        Progress          Pause             Resume          Complete        Fail             Cancel
            (S::Scheduled, [Some(S::Queued), None,           Some(S::Paused),  None,           None,           Some(S::Failed), Some(S::Cancelled)]),
            (S::Queued,    [None,           Some(S::Running), Some(S::Paused),  None,           Some(S::Done),  Some(S::Failed), Some(S::Cancelled)]),
            (S::Running,   [None,           Some(S::Running), Some(S::Paused),  None,           Some(S::Done),  Some(S::Failed), Some(S::Cancelled)]),
            (S::Paused,    [None,           Some(S::Paused),  None,             Some(S::Queued), Some(S::Done), Some(S::Failed), Some(S::Cancelled)]),
            (S::Done,      [None,           None,             None,             None,           None,           None,            None]),
            (S::Failed,    [None,           None,             None,             None,           None,           None,            None]),
            (S::Cancelled, [None,           None,             None,             None,           None,           None,            None]),
        ];
        let events = [
            E::Release,
            E::Progress,
            E::Pause,
            E::Resume,
            E::Complete,
            E::Fail,
            E::Cancel,
        ];
        for (from, row) in table {
            for (event, want) in events.iter().zip(row) {
                let got = transition(from, *event).ok();
                assert_eq!(got, want, "{from} on {event:?}");
            }
        }
        // Every state appears once, so the table is complete.
        let mut seen: Vec<S> = table.iter().map(|r| r.0).collect();
        seen.dedup();
        assert_eq!(seen.len(), JobState::ALL.len());
    }

    #[test]
    fn terminal_states_are_exactly_the_ones_that_refuse_everything() {
        let events = [
            E::Release,
            E::Progress,
            E::Pause,
            E::Resume,
            E::Complete,
            E::Fail,
            E::Cancel,
        ];
        for s in JobState::ALL {
            let refuses_all = events.iter().all(|e| transition(s, *e).is_err());
            assert_eq!(refuses_all, s.is_terminal(), "{s}");
        }
    }

    #[test]
    fn refusals_say_what_and_from_where() {
        let e = transition(S::Done, E::Pause).unwrap_err();
        assert_eq!(e.to_string(), "a done job cannot be paused");
    }

    #[test]
    fn names_round_trip_through_parse_and_serde() {
        for s in JobState::ALL {
            assert_eq!(JobState::parse(s.as_str()), Some(s));
            let bytes = rmp_serde::to_vec_named(&s).unwrap();
            assert_eq!(rmp_serde::from_slice::<JobState>(&bytes).unwrap(), s);
        }
        assert_eq!(JobState::parse("rendering"), None);
    }

    #[test]
    fn the_manual_clock_moves_only_when_told_and_clones_share_it() {
        let c = ManualClock::at_unix(1_000);
        let other = c.clone();
        assert_eq!(unix_seconds(c.now()), 1_000.0);
        other.advance(Duration::from_millis(1_500));
        assert_eq!(unix_seconds(c.now()), 1_001.5);
    }
}
