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

/// Every task of the job published at its start (see [`frame_tasks`]), frame-major (every task
/// of a frame before the next frame's, so early frames finish first and the merger holds few
/// frames at once), each frame pass-major.
pub fn tasks(m: &JobManifest) -> Vec<TilePassTask> {
    let mut tasks = Vec::with_capacity(m.task_count());
    for frame in m.frame_plans().iter() {
        tasks.extend(frame_tasks(m, frame));
    }
    tasks
}

/// One frame's tasks as published at submit (or at a scheduled start), pass-major: all tiles of
/// the first pass come first, so the first (small) pass completes early and gives a fast first
/// look. An adaptive job's are its first pass only: the merger publishes each tile's next pass
/// once it has merged the one before and found the tile not yet converged, so the
/// passes a converged tile no longer needs never exist.
pub fn frame_tasks(m: &JobManifest, frame: &FramePlan) -> Vec<TilePassTask> {
    let passes = if m.params.adaptive.is_some() {
        &m.passes[..m.passes.len().min(1)]
    } else {
        &m.passes[..]
    };
    let mut tasks = Vec::with_capacity(m.tiles.len() * passes.len());
    for p in 0..passes.len() as u32 {
        for t in 0..m.tiles.len() as u32 {
            tasks.push(task(m, frame, t, p));
        }
    }
    tasks
}

/// The task of `tile`, `pass` of a frame of the job.
pub fn task(m: &JobManifest, frame: &FramePlan, tile: u32, pass: u32) -> TilePassTask {
    TilePassTask {
        job: m.job.clone(),
        frame: frame.frame,
        tile,
        rect: m.tiles[tile as usize],
        pass,
        samples: m.passes[pass as usize],
        params: frame.params.clone(),
    }
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

    #[test]
    fn an_adaptive_job_starts_with_its_first_pass_only() {
        use crate::protocol::{JobId, JobManifest, JobSettings, RenderParams};
        let mut m = JobManifest {
            version: crate::protocol::PROTOCOL_VERSION,
            job: JobId::new(),
            frame: 1,
            params: RenderParams {
                scene: vec![],
                res: 1.0,
                width: 32,
                height: 16,
                env: vec![],
                assets: vec![],
                lua: None,
                frame: None,
                rdla_set: vec![],
                adaptive: None,
            },
            tiles: tiles(32, 16, 16),
            passes: passes(64, 4),
            output_name: "out.exr".into(),
            submitted_unix: 0,
            settings: JobSettings::default(),
            frames: vec![],
            price_per_core_hour: None,
            priority: Default::default(),
        };
        assert_eq!(tasks(&m).len(), 2 * 4);
        let a = crate::adaptive::Adaptive {
            min_samples: 16,
            max_samples: 64,
            target_error: 10.0,
        };
        m.params.adaptive = Some(a);
        m.passes = a.passes();
        let first = tasks(&m);
        assert_eq!(first.len(), 2);
        assert!(first.iter().all(|t| t.pass == 0 && t.samples.end == 16));
        // A later pass, as the merger publishes it, is the uniform plan's task of that pass.
        let later = task(&m, &m.frame_plans()[0], 1, 2);
        assert_eq!((later.tile, later.pass, later.rect), (1, 2, m.tiles[1]));
        assert_eq!(later.samples, SampleRange { start: 32, end: 64 });
    }
}
