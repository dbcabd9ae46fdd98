//! A task's render in waves of samples, so that a shutdown keeps what was rendered: between two
//! waves the render may stop with the sums of the waves it finished, which are a partial of
//! the task's first samples. Runs on the render pool (rayon), each wave split into rows there.
//!
//! A sample is a pure function of (scene, pixel, sample index, frame), so the waves' sums
//! added up are the sums of the whole range, up to float rounding, however the waves are cut.

use crate::cpu;
use render::integrator::{render_tile_into, PixelRect};
use render::scene::Scene;
use shared::protocol::SampleRange;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How many samples per pixel each wave takes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sizing {
    /// Every wave this many samples (tests, benchmarks); None sizes them from the speed.
    fixed: Option<u32>,
    /// The wall time a wave aims at: what a shutdown waits for at most, beyond the store.
    target: Duration,
}

impl Sizing {
    /// Waves of `fixed` samples, or else waves that take about a quarter of the grace (at most
    /// a second, at least 10 ms): the wave in hand at a shutdown then ends well within it.
    pub(crate) fn new(fixed: Option<u32>, grace: Duration) -> Sizing {
        Sizing {
            fixed,
            target: (grace / 4).clamp(Duration::from_millis(10), Duration::from_secs(1)),
        }
    }

    fn first(&self) -> u32 {
        self.fixed.unwrap_or(1).max(1)
    }

    /// The next wave's samples after one of `last` samples took `took`: aimed at `target`,
    /// growing at most twofold a wave (a first wave of one sample measures little).
    fn next(&self, last: u32, took: Duration) -> u32 {
        if let Some(n) = self.fixed {
            return n.max(1);
        }
        let per_sample = took.as_secs_f64() / f64::from(last.max(1));
        let want = if per_sample > 0.0 {
            (self.target.as_secs_f64() / per_sample).min(f64::from(u32::MAX)) as u32
        } else {
            u32::MAX
        };
        want.clamp(1, last.saturating_mul(2).max(1))
    }
}

/// What the waves rendered.
pub(crate) struct Waves {
    /// Per pixel, the sums of the samples `start..end` of the task's range.
    pub sums: Vec<[f64; 4]>,
    /// Per pixel, the sums of the odd-numbered ones among them (by sample index, so a piece
    /// counts its own odd samples whatever sample it starts at): adaptive sampling's estimate.
    pub odd: Vec<[f64; 4]>,
    /// The end of the samples in `sums`: the range's end unless stopped or aborted.
    pub end: u32,
    /// Pixel samples rendered, those of an aborted wave included.
    pub rendered: u64,
    /// CPU time of the finished waves' rows (an aborted wave's is not measured).
    pub cpu: Duration,
    /// `abort` stopped a wave part-way (its samples are not in `sums`).
    pub aborted: bool,
}

/// Renders `samples` of `rect` wave by wave until the range is done, `stop` is raised (checked
/// between waves) or `abort` is (checked between rows, the wave in hand then lost).
pub(crate) fn render(
    scene: &Scene,
    rect: PixelRect,
    samples: SampleRange,
    frame: i32,
    sizing: Sizing,
    stop: &AtomicBool,
    abort: &AtomicBool,
) -> Waves {
    let pixels = (rect.x1 - rect.x0) as u64 * (rect.y1 - rect.y0) as u64;
    let mut out = Waves {
        sums: vec![[0.0; 4]; pixels as usize],
        odd: vec![[0.0; 4]; pixels as usize],
        end: samples.start,
        rendered: 0,
        cpu: Duration::ZERO,
        aborted: false,
    };
    // One wave's sums, reused wave after wave.
    let mut sums = vec![[0.0; 4]; pixels as usize];
    let mut odd = vec![[0.0; 4]; pixels as usize];
    let mut wave = sizing.first();
    while out.end < samples.end && !stop.load(Ordering::Relaxed) {
        let (from, to) = (out.end, out.end.saturating_add(wave).min(samples.end));
        out.rendered += pixels * u64::from(to - from);
        let began = Instant::now();
        let took = render_tile_into(
            scene,
            rect,
            from..to,
            frame,
            abort,
            cpu::thread_cpu,
            &mut sums,
            &mut odd,
        );
        match took {
            Ok((_rays, spent)) => {
                for (total, s) in out.sums.iter_mut().zip(&sums) {
                    for c in 0..4 {
                        total[c] += s[c];
                    }
                }
                for (total, s) in out.odd.iter_mut().zip(&odd) {
                    for c in 0..4 {
                        total[c] += s[c];
                    }
                }
                out.cpu += spent;
                out.end = to;
                wave = sizing.next(to - from, began.elapsed());
            }
            Err(_cancelled) => {
                out.aborted = true;
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waves_grow_towards_their_target_and_no_faster_than_twofold() {
        let s = Sizing::new(None, Duration::from_secs(2));
        assert_eq!(s.target, Duration::from_millis(500));
        assert_eq!(s.first(), 1);
        // 1 ms a sample: 500 wanted, doubling from 1.
        assert_eq!(s.next(1, Duration::from_millis(1)), 2);
        assert_eq!(s.next(300, Duration::from_millis(300)), 500);
        // Slower than the target: smaller waves, never none.
        assert_eq!(s.next(8, Duration::from_secs(4)), 1);
        assert_eq!(s.next(1, Duration::ZERO), 2);
        let fixed = Sizing::new(Some(4), Duration::from_secs(300));
        assert_eq!((fixed.first(), fixed.next(4, Duration::ZERO)), (4, 4));
        assert_eq!(
            Sizing::new(None, Duration::from_secs(300)).target,
            Duration::from_secs(1)
        );
    }
}
