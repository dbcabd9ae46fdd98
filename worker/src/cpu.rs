//! CPU time, as a task reports it: the thread CPU clock of whatever thread does the task's
//! CPU work (scene preparation on a blocking thread, tile rows on rayon's threads).
//!
//! Why threads and not the process: the embedded mode runs several worker loops and the merger
//! in one process, and a farm worker may prefetch, so a process-wide CPU delta around a task
//! would count other tasks' work. Each row of a tile is timed on the thread that renders it
//! (nothing else runs on that thread between the two reads), and the sum is the task's.

use std::time::Duration;

/// The calling thread's CPU time (user + system) since it started.
pub fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_THREAD_CPUTIME_ID exists on every Linux
    // and macOS this builds for. On failure (it does not fail there) the time reads as zero.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Runs `f` and returns its result with the CPU time the calling thread spent in it.
pub fn measured<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = thread_cpu();
    let out = f();
    (out, thread_cpu().saturating_sub(start))
}

/// A task's CPU time by what it was spent on: what the task reports is their sum, and the
/// worker's metrics count each, so a farm's CPU beyond the render can be told apart from it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TaskCpu {
    /// Loading and preparing the scene (once per job and frame on a worker; cached after).
    pub scene: Duration,
    /// Rendering the task's samples.
    pub render: Duration,
    /// Encoding the partial buffer as EXR.
    pub encode: Duration,
}

impl TaskCpu {
    pub fn total(&self) -> Duration {
        self.scene + self.render + self.encode
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kernel's own count of this thread's time on a CPU, in nanoseconds.
    fn schedstat_ns() -> u64 {
        let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
        s.split_whitespace().next().unwrap().parse().unwrap()
    }

    #[test]
    fn the_thread_clock_agrees_with_the_kernel_and_ignores_sleep() {
        let before = schedstat_ns();
        let (_, busy) = measured(|| {
            // Busy until 100 ms of CPU, however loaded the machine is.
            let mut x = 0u64;
            let start = thread_cpu();
            while thread_cpu() - start < Duration::from_millis(100) {
                for _ in 0..1000 {
                    x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
                }
            }
            x
        });
        let kernel = Duration::from_nanos(schedstat_ns() - before);
        let ratio = busy.as_secs_f64() / kernel.as_secs_f64();
        assert!((0.9..=1.1).contains(&ratio), "{busy:?} vs {kernel:?}");
        let (_, idle) = measured(|| std::thread::sleep(Duration::from_millis(50)));
        assert!(idle < Duration::from_millis(10), "{idle:?}");
    }
}
