//! Adaptive sampling's decisions (MoonRay's `sampling_mode` 2, `shared::adaptive`): after the
//! merger adds a tile's pass of an adaptive job, the tile either has converged (its error
//! estimate under the target, with at least the minimum samples) and its remaining passes
//! leave the job, or its next pass is due and is published.
//!
//! The merger decides, not the workers: only the merger holds a tile's sums over all its
//! passes, which the estimate needs, and it publishes a tile's pass p+1 only once pass p is
//! merged. So a converged tile's later tasks are never published: nothing renders, queues or
//! checks them, and the task queues' length (what KEDA scales the workers on) is only work that
//! is still needed. Workers dropping tasks instead would need the merged image to decide, and
//! a farm would still queue (and scale for) every pass of every tile.
//!
//! Because pass p+1 follows the merge of pass p, the decision after pass p sees exactly that
//! tile's passes 0..=p, in that order, whatever order other tiles arrive in: the farm and the
//! embedded mode stop every tile after the same pass and give the same image. A decision is
//! stored in the checkpoint (`Checkpoint::converged`), so a restarted merger keeps it.

use super::{Job, OpenFrame};
use shared::adaptive::{area_error, pixel_error, Adaptive};
use shared::film::Accumulator;
use shared::protocol::{Rect, TilePassTask};

/// The error of a tile as the accumulator holds it: MoonRay's pixel errors summed over the
/// tile, scaled by its area (`calculateAreaError`).
pub fn tile_error(acc: &Accumulator, rect: Rect) -> f64 {
    let mut summed = 0.0;
    for y in rect.y0..rect.y1 {
        for x in rect.x0..rect.x1 {
            let (sum, odd, n) = acc.pixel(x, y);
            summed += pixel_error(sum, odd, n);
        }
    }
    area_error(summed, rect)
}

/// Whether a tile whose pixels took `samples` each and whose error is `error` is done.
pub fn converged(a: &Adaptive, samples: u32, error: f64) -> bool {
    samples >= a.min_samples && error < a.threshold()
}

impl OpenFrame {
    /// Tasks of the frame that converged tiles will never need: each converged tile's passes
    /// after the one it stopped at.
    pub(super) fn skipped(&self, passes: usize) -> usize {
        self.converged
            .values()
            .map(|&p| passes.saturating_sub(p as usize + 1))
            .sum()
    }

    /// Converged tiles that stopped before pass `pass`: they count as complete in it.
    pub(super) fn stopped_before(&self, pass: usize) -> u32 {
        self.converged
            .values()
            .filter(|&&p| (p as usize) < pass)
            .count() as u32
    }

    /// Whether `tile` converged before `pass` (a result for such a pass is none of the job's).
    pub(super) fn converged_before(&self, tile: u32, pass: u32) -> bool {
        self.converged.get(&tile).is_some_and(|&p| p < pass)
    }
}

impl Job {
    /// After (frame, tile, pass) of an adaptive job is merged from live results: the tile's
    /// next task when it goes on, else None (it converged, and its remaining passes leave the
    /// job's totals, or that was its last pass). None for a uniform job.
    pub(super) fn decide(&mut self, frame: i32, tile: u32, pass: u32) -> Option<TilePassTask> {
        let a = self.manifest.params.adaptive?;
        let passes = self.manifest.passes.len();
        let last = passes as u32 - 1;
        if pass >= last {
            return None;
        }
        let open = self.open.get_mut(&frame)?;
        let rect = self.manifest.tiles[tile as usize];
        let samples = self.manifest.passes[pass as usize].end;
        let error = tile_error(&open.acc, rect);
        if !converged(&a, samples, error) {
            let at = self.index[&frame];
            let plans = self.manifest.frame_plans();
            return Some(shared::plan::task(
                &self.manifest,
                &plans[at.min(plans.len() - 1)],
                tile,
                pass + 1,
            ));
        }
        tracing::debug!(job = %self.manifest.job, frame, tile, samples, error, "tile converged");
        open.converged.insert(tile, pass);
        let skipped = u64::from(last - pass);
        let at = self.index[&frame];
        self.status.frames[at].tasks.total -= skipped;
        self.status.tasks.total -= skipped;
        self.status.tasks_total -= skipped;
        self.work.total -= rect.pixel_count() as f64 * f64::from(self.manifest.spp() - samples);
        self.status.progress = self.work.fraction();
        None
    }

    /// After a job is rebuilt from its checkpoint: the tiles that had converged, as stored
    /// (their tallies are in the checkpoint's; only the work left is taken off again).
    pub(super) fn restore_converged(&mut self, frame: i32, tile: u32, pass: u32) {
        let rect = self.manifest.tiles[tile as usize];
        let samples = self.manifest.passes[pass as usize].end;
        let m = &self.manifest;
        let open = self.open.entry(frame).or_insert_with(|| OpenFrame::new(m));
        if open.converged.insert(tile, pass).is_none() {
            self.work.total -= rect.pixel_count() as f64 * f64::from(m.spp() - samples);
        }
    }
}
