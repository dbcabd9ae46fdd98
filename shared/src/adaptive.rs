//! Adaptive sampling as MoonRay does it (SceneVariables `sampling_mode` 2): a tile's passes go
//! on until its error estimate is under the target, from `min_adaptive_samples` up to
//! `max_adaptive_samples`. The estimate is MoonRay's (moonray
//! `lib/rendering/rndr/adaptive/AdaptiveRegionTree.h`, `estimatePixelErrorInternal` and
//! `calculateAreaError`): per pixel, the luminance of the difference between the mean of the
//! even-numbered and of the odd-numbered samples over the square root of the mean's luminance,
//! plus the alpha difference; summed over a region and scaled by the region's area. Moonfarm's
//! regions are its tiles, so the merger decides per tile from the sums partials carry.

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
    let area = rect.pixel_count() as f64;
    if area == 0.0 {
        return 0.0;
    }
    summed / (area * MOONRAY_IMAGE_AREA).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

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
