//! Adaptive sampling as MoonRay does it (SceneVariables `sampling_mode` 2): a tile's passes go
//! on until its error estimate is under the target, from `min_adaptive_samples` up to
//! `max_adaptive_samples`. The estimate is MoonRay's (moonray
//! `lib/rendering/rndr/adaptive/AdaptiveRegionTree.h`, `estimatePixelErrorInternal` and
//! `calculateAreaError`): per pixel, the luminance of the difference between the mean of the
//! even-numbered and of the odd-numbered samples over the square root of the mean's luminance,
//! plus the alpha difference; summed over a region and scaled by the region's area. A tile
//! stops when every region of MoonRay's region tree over it (`AdaptiveRegionTree.cc`,
//! [`tile_converged`]) is under the target; the merger decides per tile from the sums partials
//! carry.

use crate::protocol::{Rect, SampleRange};
use serde::{Deserialize, Serialize};

/// MoonRay's SceneVariables defaults (scene_rdl2 `SceneVariables.cc`): `min_adaptive_samples`
/// 16, `max_adaptive_samples` 4096, `target_adaptive_error` 10 (divided by 10000 where used).
pub const MIN_ADAPTIVE_SAMPLES: u32 = 16;
pub const MAX_ADAPTIVE_SAMPLES: u32 = 4096;
pub const TARGET_ADAPTIVE_ERROR: f32 = 10.0;

/// MoonRay's `calculateAreaError` compares every region with a fixed image area rather than
/// the real one (so that sub-region renders stop alike): a 1967 x 815 viewport over four.
const MOONRAY_IMAGE_AREA: f64 = 815.0 * 1967.0 / 4.0;

/// A job's adaptive settings, recorded in its manifest.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Adaptive {
    pub min_samples: u32,
    pub max_samples: u32,
    /// As the scene gives it (`target_adaptive_error`, 10 by default): compared divided by
    /// 10000, as MoonRay does.
    pub target_error: f32,
}

impl Default for Adaptive {
    fn default() -> Self {
        Adaptive {
            min_samples: MIN_ADAPTIVE_SAMPLES,
            max_samples: MAX_ADAPTIVE_SAMPLES,
            target_error: TARGET_ADAPTIVE_ERROR,
        }
    }
}

impl Adaptive {
    /// The passes of an adaptive job: `min_samples` first, then each pass as many samples as
    /// all before it (16, 16, 32, 64, ...), the last one ending at `max_samples`. Doubling keeps
    /// the decisions few (one per pass per tile) while a tile stops at most 2x past its need.
    pub fn passes(&self) -> Vec<SampleRange> {
        let max = self.max_samples.max(1);
        let mut end = self.min_samples.clamp(1, max);
        let mut out = vec![SampleRange { start: 0, end }];
        while end < max {
            let next = end.saturating_mul(2).min(max);
            out.push(SampleRange {
                start: end,
                end: next,
            });
            end = next;
        }
        out
    }

    /// The target as the error is compared with it.
    pub fn threshold(&self) -> f64 {
        f64::from(self.target_error) / 10000.0
    }
}

/// One pixel's error from its sums over all samples and over the odd-numbered ones (RGBA) and
/// its sample count: MoonRay's `estimatePixelErrorInternal`. Infinite with fewer than two
/// samples; a NaN sum counts as converged, as there.
pub fn pixel_error(sum: [f64; 4], odd: [f64; 4], n: f64) -> f64 {
    let n_odd = (n * 0.5).floor();
    let n_even = n - n_odd;
    if n_odd <= 0.0 || n_even <= 0.0 {
        return f64::INFINITY;
    }
    if sum.iter().chain(&odd).any(|v| v.is_nan()) {
        return 0.0;
    }
    // (even / n_even) - (odd / n_odd), with even = sum - odd.
    let diff: [f64; 4] =
        std::array::from_fn(|c| ((sum[c] * n_odd - odd[c] * n) / (n_odd * n_even)).abs());
    let luma = |v: [f64; 3]| 0.299 * v[0] + 0.587 * v[1] + 0.114 * v[2];
    let lum_diff = luma([diff[0], diff[1], diff[2]]);
    let lum_avg = luma([sum[0] / n, sum[1] / n, sum[2] / n]);
    let alpha = diff[3];
    if lum_avg <= 0.0 {
        return alpha;
    }
    lum_diff / lum_avg.sqrt() + alpha
}

/// A region's error from its pixels' summed error: MoonRay's `calculateAreaError`.
pub fn area_error(summed: f64, rect: Rect) -> f64 {
    area_error_of(summed, rect.pixel_count() as f64)
}

fn area_error_of(summed: f64, area: f64) -> f64 {
    if area == 0.0 {
        return 0.0;
    }
    summed / (area * MOONRAY_IMAGE_AREA).sqrt()
}

/// The constants of MoonRay's region tree (moonray `lib/rendering/rndr/adaptive/
/// AdaptiveRegionTree.cc`): a region is complete only when shorter than `sMaxNodeSize` (16
/// pixels) on its longer side; one whose error is under `sSplitThreshold` (256, from Dammertz
/// et al.) times the target splits in two, if longer than twice `sMinNodeSize` (1.272, the
/// square root of the golden ratio).
const MAX_NODE_SIZE: usize = 16;
const SPLIT_THRESHOLD: f64 = 256.0;
/// MoonRay splits in real space, at least 1.272 pixels from either end; whole pixels here.
const MIN_SIDE: usize = 2;

/// Whether a tile has converged by MoonRay's region tree (`AdaptiveRegionTree::updateImpl`),
/// given its pixels' errors ([`pixel_error`]) row by row, `width` to a row: the tile as the
/// root region is complete when its area error is under `threshold` and it is shorter than
/// 16 pixels; otherwise, when its error is under 256 times the threshold, it splits across its
/// longer side where the running sum of its error reaches half (`findMidpointSplitLocation`)
/// and is complete when both halves are. MoonRay stops sampling each complete region; a tile
/// stops when all of its regions are complete, so that no region larger than 16 pixels across
/// is ever compared with the target, as in MoonRay.
pub fn tile_converged(errors: &[f64], width: usize, threshold: f64) -> bool {
    let height = errors.len().checked_div(width).unwrap_or(0);
    debug_assert_eq!(width * height, errors.len());
    region_complete(errors, width, (0, 0, width, height), threshold)
}

/// One node of the tree: `(x0, y0, x1, y1)`, half-open, in the tile's pixels.
fn region_complete(
    errors: &[f64],
    width: usize,
    (x0, y0, x1, y1): (usize, usize, usize, usize),
    threshold: f64,
) -> bool {
    let (w, h) = (x1 - x0, y1 - y0);
    if w == 0 || h == 0 {
        return true;
    }
    // MoonRay splits a wider-than-tall node across x, any other across y.
    let across_x = w > h;
    let length = w.max(h);
    let mut marginal = vec![0.0f64; length];
    for y in y0..y1 {
        for x in x0..x1 {
            marginal[if across_x { x - x0 } else { y - y0 }] += errors[y * width + x];
        }
    }
    let total: f64 = marginal.iter().sum();
    let error = area_error_of(total, (w * h) as f64);
    if error < threshold && length < MAX_NODE_SIZE {
        return true;
    }
    // A NaN error (none is made: `pixel_error` counts a NaN sum as converged) would not split.
    let splits = error < threshold * SPLIT_THRESHOLD && length >= 2 * MIN_SIDE;
    if !splits {
        return false;
    }
    let at = midpoint_split(&marginal).clamp(MIN_SIDE, length - MIN_SIDE);
    let (a, b) = if across_x {
        ((x0, y0, x0 + at, y1), (x0 + at, y0, x1, y1))
    } else {
        ((x0, y0, x1, y0 + at), (x0, y0 + at, x1, y1))
    };
    region_complete(errors, width, a, threshold) && region_complete(errors, width, b, threshold)
}

/// Where the running sum of `marginal` reaches half its total, in whole pixels from the start
/// (the middle when there is no error at all).
fn midpoint_split(marginal: &[f64]) -> usize {
    let total: f64 = marginal.iter().sum();
    if total <= 0.0 {
        return marginal.len() / 2;
    }
    let half = total * 0.5;
    let mut before = 0.0;
    for (i, &m) in marginal.iter().enumerate() {
        if before + m > half {
            // Within pixel i: the fraction of it that brings the sum to half.
            return i + ((half - before) / m).round() as usize;
        }
        before += m;
    }
    marginal.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tile of `w` x `h` pixels, every one of error `e`.
    fn even(w: usize, h: usize, e: f64) -> Vec<f64> {
        vec![e; w * h]
    }

    #[test]
    fn even_noise_converges_once_the_smallest_regions_are_under_the_target() {
        let t = Adaptive::default().threshold();
        // Even error e: a region of n pixels has area error n e / sqrt(n A), so the smaller
        // the region the smaller its error. A 64x64 tile splits (its error under 256 x the
        // target) down to 2x2 regions, whose error is 2 e / sqrt(A).
        let e = 0.9 * t * MOONRAY_IMAGE_AREA.sqrt() / 2.0;
        let tile = area_error_of(e * 4096.0, 4096.0);
        assert!(tile > 20.0 * t && tile < SPLIT_THRESHOLD * t, "{tile}");
        assert!(tile_converged(&even(64, 64, e), 64, t));
        // A fifth more and the 2x2 regions are over the target, and cannot split further.
        assert!(!tile_converged(&even(64, 64, e * 1.2), 64, t));
        // A tile under the target as a whole but 16 pixels or more across is split, not
        // taken as done: here its parts are under the target too.
        assert!(tile_converged(&even(16, 16, 0.0), 16, t));
    }

    #[test]
    fn a_hot_spot_keeps_its_tile_going_though_the_tile_on_average_is_under_the_target() {
        let t = Adaptive::default().threshold();
        let mut errors = even(64, 64, 0.0);
        // A 4x4 spot whose 16 pixels, summed over the whole tile, are under the target; its
        // 2x2 regions (2 x spot / sqrt(A)) are far over it.
        let spot = t * (4096.0 * MOONRAY_IMAGE_AREA).sqrt() / 16.0 * 0.9;
        assert!(area_error_of(spot * 4.0, 4.0) > 5.0 * t);
        for y in 30..34 {
            for x in 40..44 {
                errors[y * 64 + x] = spot;
            }
        }
        assert!(area_error_of(spot * 16.0, 4096.0) < t);
        assert!(!tile_converged(&errors, 64, t));
        // The same tile without the spot is done.
        assert!(tile_converged(&even(64, 64, 0.0), 64, t));
    }

    #[test]
    fn far_over_the_target_or_too_small_to_split_the_region_is_not_done() {
        let t = Adaptive::default().threshold();
        // Over 256 x the target as a whole: not split, not done.
        let huge = t * 300.0 * (4096.0 * MOONRAY_IMAGE_AREA).sqrt() / 4096.0;
        assert!(!tile_converged(&even(64, 64, huge), 64, t));
        // A 3x3 tile under the target is done (shorter than 16); over it, it cannot split.
        let small = t * (9.0 * MOONRAY_IMAGE_AREA).sqrt() / 9.0;
        assert!(tile_converged(&even(3, 3, small * 0.9), 3, t));
        assert!(!tile_converged(&even(3, 3, small * 1.1), 3, t));
        // A pixel with too few samples (infinite error) keeps the tile going.
        let mut one = even(8, 8, 0.0);
        one[9] = f64::INFINITY;
        assert!(!tile_converged(&one, 8, t));
    }

    #[test]
    fn the_split_falls_where_the_error_reaches_half() {
        assert_eq!(midpoint_split(&[0.0; 8]), 4);
        assert_eq!(midpoint_split(&[1.0; 8]), 4);
        assert_eq!(midpoint_split(&[4.0, 0.0, 0.0, 0.0]), 1);
        assert_eq!(midpoint_split(&[0.0, 0.0, 1.0, 1.0, 1.0, 1.0]), 4);
    }

    #[test]
    fn passes_double_from_min_to_max() {
        let p = Adaptive::default().passes();
        let ends: Vec<u32> = p.iter().map(|r| r.end).collect();
        assert_eq!(ends, [16, 32, 64, 128, 256, 512, 1024, 2048, 4096]);
        assert!(p.windows(2).all(|w| w[0].end == w[1].start));
        let odd = Adaptive {
            min_samples: 3,
            max_samples: 10,
            target_error: 1.0,
        };
        let ends: Vec<u32> = odd.passes().iter().map(|r| r.end).collect();
        assert_eq!(ends, [3, 6, 10]);
    }

    #[test]
    fn agreeing_halves_have_no_error_and_disagreeing_ones_do() {
        // Four samples of 1.0: even and odd means agree.
        let flat = pixel_error([4.0, 4.0, 4.0, 4.0], [2.0, 2.0, 2.0, 2.0], 4.0);
        assert_eq!(flat, 0.0);
        // Samples 0, 2 are 2.0 and 1, 3 are 0.0: means 2 and 0, average luminance 1.
        let noisy = pixel_error([4.0, 4.0, 4.0, 4.0], [0.0, 0.0, 0.0, 2.0], 4.0);
        assert!((noisy - 2.0).abs() < 1e-9, "{noisy}");
        assert!(pixel_error([1.0; 4], [0.0; 4], 1.0).is_infinite());
        // Black: only the alpha difference counts.
        assert_eq!(
            pixel_error([0.0, 0.0, 0.0, 2.0], [0.0, 0.0, 0.0, 0.0], 2.0),
            2.0
        );
    }

    #[test]
    fn area_error_scales_with_moonrays_fixed_image_area() {
        let r = Rect {
            x0: 0,
            y0: 0,
            x1: 16,
            y1: 16,
        };
        let e = area_error(256.0, r);
        assert!((e - 256.0 / (256.0 * MOONRAY_IMAGE_AREA).sqrt()).abs() < 1e-12);
    }
}
