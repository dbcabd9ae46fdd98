//! What a job costs and when it will end: core-seconds and task counts per frame and per job,
//! the price of the core-seconds, and an ETA from the throughput measured so far.
//!
//! Pure arithmetic over what results report; the merger keeps the tallies, status and the
//! job report carry them.

use serde::{Deserialize, Serialize};

/// Task counts and CPU time of a frame or a job.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Tally {
    /// Tasks whose partial is merged.
    pub done: u64,
    pub total: u64,
    /// Tasks that failed for good (the job fails with them).
    pub failed: u64,
    /// Merged or failed tasks that needed more than one delivery: a worker died or gave them
    /// back, or a transient error retried them.
    pub retried: u64,
    /// CPU time the merged tasks' renders used, summed over every core that worked on them.
    pub core_seconds: f64,
    /// Pixel samples the results reported rendered (pixels times samples per pixel), those of
    /// pieces of interrupted tasks included.
    #[serde(default)]
    pub samples_rendered: u64,
    /// Task attempts stopped mid-task (a shutdown) that stored their samples and put the rest
    /// back as a task: neither failed nor retried.
    #[serde(default)]
    pub interrupted: u64,
}

impl Tally {
    pub fn new(total: u64) -> Tally {
        Tally {
            total,
            ..Tally::default()
        }
    }

    /// A task's partial was merged after `deliveries` deliveries (1 = first time), having used
    /// `core_seconds` of CPU in its last attempt.
    pub fn merged(&mut self, core_seconds: f64, deliveries: u32) {
        self.done += 1;
        self.core_seconds += core_seconds.max(0.0);
        if deliveries > 1 {
            self.retried += 1;
        }
    }

    /// A result's partial was received (merged at once, or waiting for the rest of its task's
    /// range): its CPU time and samples, and whether its attempt was interrupted. The task is
    /// counted done by `merged` once its whole range is in.
    pub fn piece(&mut self, core_seconds: f64, samples: u64, interrupted: bool) {
        self.core_seconds += core_seconds.max(0.0);
        self.samples_rendered += samples;
        self.interrupted += u64::from(interrupted);
    }

    /// A task failed for good after `deliveries` deliveries.
    pub fn failed(&mut self, core_seconds: f64, deliveries: u32) {
        self.failed += 1;
        self.core_seconds += core_seconds.max(0.0);
        if deliveries > 1 {
            self.retried += 1;
        }
    }

    pub fn is_complete(&self) -> bool {
        self.done >= self.total
    }

    /// The tallies of several frames as one.
    pub fn sum<'a>(tallies: impl IntoIterator<Item = &'a Tally>) -> Tally {
        tallies.into_iter().fold(Tally::default(), |a, b| Tally {
            done: a.done + b.done,
            total: a.total + b.total,
            failed: a.failed + b.failed,
            retried: a.retried + b.retried,
            core_seconds: a.core_seconds + b.core_seconds,
            samples_rendered: a.samples_rendered + b.samples_rendered,
            interrupted: a.interrupted + b.interrupted,
        })
    }
}

/// The price of `core_seconds` at `price_per_core_hour` (in whatever currency the price is).
pub fn cost(core_seconds: f64, price_per_core_hour: f64) -> f64 {
    core_seconds / 3600.0 * price_per_core_hour
}

/// Seconds until `total` units of work are done, from `done` units done in `elapsed_seconds`
/// of wall time: the rate measured so far, applied to what remains. None before anything is
/// measured; 0 once done. Units are samples (pixels x samples per pixel), so that a small
/// first pass does not make the rest look fast.
pub fn eta_seconds(done: u64, total: u64, elapsed_seconds: f64) -> Option<f64> {
    if done >= total {
        return Some(0.0);
    }
    if done == 0 || elapsed_seconds.is_nan() || elapsed_seconds <= 0.0 {
        return None;
    }
    let rate = done as f64 / elapsed_seconds;
    Some((total - done) as f64 / rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_is_core_hours_times_price() {
        assert_eq!(cost(7200.0, 0.05), 0.1);
        assert_eq!(cost(0.0, 3.0), 0.0);
        assert!((cost(90.0, 0.04) - 0.001).abs() < 1e-15);
    }

    #[test]
    fn eta_applies_the_measured_rate_to_what_remains() {
        assert_eq!(eta_seconds(0, 100, 5.0), None);
        assert_eq!(eta_seconds(25, 100, 0.0), None);
        assert_eq!(eta_seconds(25, 100, 10.0), Some(30.0));
        assert_eq!(eta_seconds(100, 100, 10.0), Some(0.0));
        assert_eq!(eta_seconds(0, 0, 0.0), Some(0.0));
    }

    #[test]
    fn tallies_count_retries_once_per_task_and_sum_over_frames() {
        let mut a = Tally::new(3);
        a.merged(1.5, 1);
        a.merged(2.0, 3);
        assert!(!a.is_complete());
        a.merged(0.5, 2);
        assert!(a.is_complete());
        let mut b = Tally::new(2);
        b.failed(0.25, 1);
        // A task rendered in two pieces: the interrupted one, then the rest; done once.
        b.piece(1.0, 40, true);
        b.piece(0.5, 60, false);
        b.merged(0.0, 1);
        let all = Tally::sum([&a, &b]);
        assert_eq!(
            all,
            Tally {
                done: 4,
                total: 5,
                failed: 1,
                retried: 2,
                core_seconds: 5.75,
                samples_rendered: 100,
                interrupted: 1,
            }
        );
    }
}
