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
use shared::adaptive::{area_error, pixel_error, tile_converged, Adaptive};
use shared::film::Accumulator;
use shared::protocol::{Rect, TilePassTask};

/// The errors of a tile's pixels as the accumulator holds them (MoonRay's
/// `estimatePixelErrorInternal`), row by row.
pub fn pixel_errors(acc: &Accumulator, rect: Rect) -> Vec<f64> {
    let mut errors = Vec::with_capacity(rect.pixel_count());
    for y in rect.y0..rect.y1 {
        for x in rect.x0..rect.x1 {
            let (sum, odd, n) = acc.pixel(x, y);
            errors.push(pixel_error(sum, odd, n));
        }
    }
    errors
}

/// The error of a tile as a whole: its pixel errors summed, scaled by its area
/// (`calculateAreaError`). What the log shows; the decision is the region tree's.
pub fn tile_error(errors: &[f64], rect: Rect) -> f64 {
    area_error(errors.iter().sum(), rect)
}

/// Whether a tile whose pixels took `samples` each, with these pixel errors (`width` to a
/// row), is done: the minimum samples taken and every region of MoonRay's region tree over it
/// complete (`shared::adaptive::tile_converged`).
pub fn converged(a: &Adaptive, samples: u32, errors: &[f64], width: usize) -> bool {
    samples >= a.min_samples && tile_converged(errors, width, a.threshold())
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
        let errors = pixel_errors(&open.acc, rect);
        let width = (rect.x1 - rect.x0) as usize;
        if !converged(&a, samples, &errors, width) {
            let at = self.index[&frame];
            let plans = self.manifest.frame_plans();
            return Some(shared::plan::task(
                &self.manifest,
                &plans[at.min(plans.len() - 1)],
                tile,
                pass + 1,
            ));
        }
        let error = tile_error(&errors, rect);
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
