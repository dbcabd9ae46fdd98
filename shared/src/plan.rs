//! How a job is planned: the image cut into tiles, the samples into progressive passes, and
//! the manifest into its tile-pass tasks. The producer plans every job, farm or embedded; the
//! plan sits in `shared` rather than in the producer because tests of the merger plan their
//! jobs the same way. It is not wire format: `protocol` only records the plan's result.

use crate::protocol::{FramePlan, JobManifest, Rect, SampleRange, TilePassTask};

/// Splits an image into tiles, row by row, each at most `tile_size` square.
pub fn tiles(width: u32, height: u32, tile_size: u32) -> Vec<Rect> {
    let ts = tile_size.max(1);
    let mut out = Vec::new();
    let mut y = 0;
    while y < height {
        let mut x = 0;
        while x < width {
            out.push(Rect {
                x0: x,
                y0: y,
                x1: (x + ts).min(width),
                y1: (y + ts).min(height),
            });
            x += ts;
        }
        y += ts;
    }
    out
}

/// Splits `spp` samples into at most `passes` progressive passes: a small first pass (about a
/// sixteenth, at least one sample) for a fast first look, then the rest in equal parts.
pub fn passes(spp: u32, passes: u32) -> Vec<SampleRange> {
    let spp = spp.max(1);
    let n = passes.clamp(1, spp);
    if n == 1 {
        return vec![SampleRange { start: 0, end: spp }];
    }
    let first = (spp / 16).max(1).min(spp - (n - 1));
    let mut out = vec![SampleRange {
        start: 0,
        end: first,
    }];
    let rest = spp - first;
    let k = n - 1;
    let mut start = first;
    for i in 0..k {
        let len = rest / k + u32::from(i < rest % k);
        out.push(SampleRange {
            start,
            end: start + len,
        });
        start += len;
    }
    out
}

/// Every task of the job, frame-major (every task of a frame before the next frame's, so early
/// frames finish first and the merger holds few frames at once), each frame pass-major.
pub fn tasks(m: &JobManifest) -> Vec<TilePassTask> {
    let mut tasks = Vec::with_capacity(m.task_count());
    for frame in m.frame_plans().iter() {
        tasks.extend(frame_tasks(m, frame));
    }
    tasks
}

/// One frame's tasks, pass-major: all tiles of the first pass come first, so the first (small)
/// pass completes early and gives a fast first look.
pub fn frame_tasks(m: &JobManifest, frame: &FramePlan) -> Vec<TilePassTask> {
    let mut tasks = Vec::with_capacity(m.tasks_per_frame());
    for (p, samples) in m.passes.iter().enumerate() {
        for (t, rect) in m.tiles.iter().enumerate() {
            tasks.push(TilePassTask {
                job: m.job.clone(),
                frame: frame.frame,
                tile: t as u32,
                rect: *rect,
                pass: p as u32,
                samples: *samples,
                params: frame.params.clone(),
            });
        }
    }
    tasks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_cover_the_image_once() {
        let t = tiles(50, 33, 16);
        assert_eq!(t.len(), 4 * 3);
        let covered: usize = t.iter().map(Rect::pixel_count).sum();
        assert_eq!(covered, 50 * 33);
        assert_eq!(
            t.last().unwrap(),
            &Rect {
                x0: 48,
                y0: 32,
                x1: 50,
                y1: 33
            }
        );
    }

    #[test]
    fn passes_are_contiguous_and_start_small() {
        for (spp, n) in [(64, 4), (1, 4), (4, 4), (100, 7), (16, 1)] {
            let p = passes(spp, n);
            assert_eq!(p[0].start, 0);
            assert_eq!(p.last().unwrap().end, spp);
            assert!(p
                .windows(2)
                .all(|w| w[0].end == w[1].start && !w[1].is_empty()));
            assert!(p.len() as u32 <= n);
        }
        assert_eq!(passes(64, 4)[0], SampleRange { start: 0, end: 4 });
    }
}
