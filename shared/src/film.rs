//! Sample buffers: the partial buffer of one tile-pass and the merger's accumulator.
//!
//! A partial buffer follows MoonRay's resumable-output convention: RGBA stored normalised (the
//! per-pixel mean of the samples taken) plus a `weight` channel holding how many samples each
//! pixel took. Two buffers of the same pixels merge into their weighted mean, which is what
//! MoonRay's own merge computes; the accumulator keeps un-normalised sums in f64 so that the
//! order in which partials arrive does not change the result beyond rounding.

use crate::protocol::Rect;

/// The samples one task took for one tile: normalised RGBA and a per-pixel weight.
#[derive(Debug, Clone, PartialEq)]
pub struct TileBuffer {
    /// The pixels covered, in full-image coordinates.
    pub rect: Rect,
    /// Row-major over `rect`: the per-pixel mean of R, G, B, A.
    pub rgba: Vec<[f32; 4]>,
    /// Row-major over `rect`: samples taken per pixel.
    pub weight: Vec<f32>,
    /// For adaptive sampling: row-major over `rect`, the RGBA sum of the odd-numbered samples
    /// divided by the pixel's weight (so that it merges like `rgba`, times the weight).
    pub odd: Option<Vec<[f32; 4]>>,
}

impl TileBuffer {
    /// [`TileBuffer::from_sums`] with the odd-numbered samples' sums, for adaptive sampling.
    pub fn from_sums_with_odd(
        rect: Rect,
        sums: &[[f64; 4]],
        odd: &[[f64; 4]],
        weight: &[f32],
    ) -> TileBuffer {
        let mut t = TileBuffer::from_sums(rect, sums, weight);
        t.odd = Some(normalise(odd, weight));
        t
    }

    /// Builds a buffer from per-pixel sums and sample counts.
    pub fn from_sums(rect: Rect, sums: &[[f64; 4]], weight: &[f32]) -> TileBuffer {
        assert_eq!(sums.len(), rect.pixel_count());
        assert_eq!(weight.len(), rect.pixel_count());
        TileBuffer {
            rect,
            rgba: normalise(sums, weight),
            weight: weight.to_vec(),
            odd: None,
        }
    }
}

/// Sums over weights, pixel by pixel; 0 where no sample landed.
fn normalise(sums: &[[f64; 4]], weight: &[f32]) -> Vec<[f32; 4]> {
    sums.iter()
        .zip(weight)
        .map(|(s, &w)| {
            if w > 0.0 {
                let w = f64::from(w);
                s.map(|v| (v / w) as f32)
            } else {
                [0.0; 4]
            }
        })
        .collect()
}

/// A whole image being merged: per-pixel sums of RGBA and of weights.
#[derive(Debug, Clone, PartialEq)]
pub struct Accumulator {
    pub width: u32,
    pub height: u32,
    sum: Vec<[f64; 4]>,
    weight: Vec<f64>,
    /// The odd-numbered samples' RGBA sums, of partials that carry them (adaptive jobs):
    /// empty until the first such partial, so a uniform job's image costs no more memory.
    odd: Vec<[f64; 4]>,
}

#[derive(Debug, thiserror::Error)]
#[error("tile {rect:?} does not fit in a {width}x{height} image")]
pub struct OutOfBounds {
    pub rect: Rect,
    pub width: u32,
    pub height: u32,
}

impl Accumulator {
    pub fn new(width: u32, height: u32) -> Accumulator {
        let n = width as usize * height as usize;
        Accumulator {
            width,
            height,
            sum: vec![[0.0; 4]; n],
            weight: vec![0.0; n],
            odd: Vec::new(),
        }
    }

    /// Adds a partial buffer: each pixel's mean times its weight joins the sums.
    pub fn add(&mut self, tile: &TileBuffer) -> Result<(), OutOfBounds> {
        let r = tile.rect;
        if r.x1 > self.width || r.y1 > self.height || r.x0 > r.x1 || r.y0 > r.y1 {
            return Err(OutOfBounds {
                rect: r,
                width: self.width,
                height: self.height,
            });
        }
        if tile.odd.is_some() && self.odd.is_empty() {
            self.odd = vec![[0.0; 4]; self.sum.len()];
        }
        let tw = r.width() as usize;
        for ty in 0..r.height() as usize {
            let row = (r.y0 as usize + ty) * self.width as usize + r.x0 as usize;
            for tx in 0..tw {
                let src = ty * tw + tx;
                let w = f64::from(tile.weight[src]);
                let dst = row + tx;
                for c in 0..4 {
                    self.sum[dst][c] += f64::from(tile.rgba[src][c]) * w;
                }
                if let Some(odd) = &tile.odd {
                    for (total, v) in self.odd[dst].iter_mut().zip(odd[src]) {
                        *total += f64::from(v) * w;
                    }
                }
                self.weight[dst] += w;
            }
        }
        Ok(())
    }

    /// A pixel's RGBA sum, odd-numbered samples' RGBA sum and sample count.
    pub fn pixel(&self, x: u32, y: u32) -> ([f64; 4], [f64; 4], f64) {
        let i = y as usize * self.width as usize + x as usize;
        let odd = self.odd.get(i).copied().unwrap_or([0.0; 4]);
        (self.sum[i], odd, self.weight[i])
    }

    /// The normalised image: the weighted mean per pixel, 0 where no sample landed.
    pub fn image(&self) -> Image {
        let rgba = self
            .sum
            .iter()
            .zip(&self.weight)
            .map(|(s, &w)| {
                if w > 0.0 {
                    [
                        (s[0] / w) as f32,
                        (s[1] / w) as f32,
                        (s[2] / w) as f32,
                        (s[3] / w) as f32,
                    ]
                } else {
                    [0.0; 4]
                }
            })
            .collect();
        Image {
            width: self.width,
            height: self.height,
            rgba,
            weight: self.weight.iter().map(|&w| w as f32).collect(),
        }
    }
}

/// A full image in the resumable-output convention (normalised RGBA plus weight).
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<[f32; 4]>,
    pub weight: Vec<f32>,
}

impl Image {
    pub fn mean_rgb(&self) -> [f64; 3] {
        let mut m = [0.0; 3];
        for p in &self.rgba {
            for c in 0..3 {
                m[c] += f64::from(p[c]);
            }
        }
        let n = self.rgba.len().max(1) as f64;
        m.map(|v| v / n)
    }

    /// The largest relative difference of any RGBA channel of any pixel, against `other`;
    /// values near zero are compared against a floor of 1e-3 so that noise in black pixels
    /// does not dominate.
    pub fn max_relative_difference(&self, other: &Image) -> f64 {
        assert_eq!((self.width, self.height), (other.width, other.height));
        let mut worst = 0.0f64;
        for (a, b) in self.rgba.iter().zip(&other.rgba) {
            for c in 0..4 {
                let (a, b) = (f64::from(a[c]), f64::from(b[c]));
                let d = (a - b).abs() / a.abs().max(b.abs()).max(1e-3);
                worst = worst.max(d);
            }
        }
        worst
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rect() -> Rect {
        Rect {
            x0: 1,
            y0: 1,
            x1: 3,
            y1: 2,
        }
    }

    #[test]
    fn merging_partials_gives_the_weighted_mean() {
        // Pixel values 1.0 over 3 samples and 3.0 over 1 sample: the mean of all 4 is 1.5.
        let a = TileBuffer {
            rect: rect(),
            rgba: vec![[1.0; 4]; 2],
            weight: vec![3.0; 2],
            odd: None,
        };
        let b = TileBuffer {
            rect: rect(),
            rgba: vec![[3.0; 4]; 2],
            weight: vec![1.0; 2],
            odd: None,
        };
        let mut acc = Accumulator::new(4, 3);
        acc.add(&a).unwrap();
        acc.add(&b).unwrap();
        let img = acc.image();
        assert_eq!(img.rgba[4 + 1], [1.5; 4]);
        assert_eq!(img.weight[4 + 2], 4.0);
        assert_eq!(img.weight[0], 0.0);
        assert_eq!(img.rgba[0], [0.0; 4]);
    }

    #[test]
    fn from_sums_normalises() {
        let t = TileBuffer::from_sums(rect(), &[[2.0, 4.0, 6.0, 2.0], [0.0; 4]], &[2.0, 0.0]);
        assert_eq!(t.rgba, vec![[1.0, 2.0, 3.0, 1.0], [0.0; 4]]);
    }

    #[test]
    fn odd_sums_merge_by_weight() {
        let odd = [[1.0, 2.0, 3.0, 1.0], [0.0; 4]];
        let t = TileBuffer::from_sums_with_odd(
            rect(),
            &[[2.0, 4.0, 6.0, 2.0], [0.0; 4]],
            &odd,
            &[2.0, 0.0],
        );
        assert_eq!(
            t.odd.as_deref(),
            Some(&[[0.5, 1.0, 1.5, 0.5], [0.0; 4]][..])
        );
        let mut acc = Accumulator::new(4, 3);
        acc.add(&t).unwrap();
        acc.add(&t).unwrap();
        assert_eq!(
            acc.pixel(1, 1),
            ([4.0, 8.0, 12.0, 4.0], [2.0, 4.0, 6.0, 2.0], 4.0)
        );
    }

    #[test]
    fn tiles_outside_the_image_are_refused() {
        let mut acc = Accumulator::new(2, 2);
        let t = TileBuffer {
            rect: rect(),
            rgba: vec![[1.0; 4]; 2],
            weight: vec![1.0; 2],
            odd: None,
        };
        assert!(acc.add(&t).is_err());
    }
}
