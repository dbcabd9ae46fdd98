//! Worley cellular noise as moonshine's lib/common/noise/Worley.cc computes it for
//! `NoiseWorleyMap_v2`/`_v3`: the four nearest feature points of a Poisson (lambda 3, 1..9)
//! number per unit cell, summed over octaves. Its tables are `crate::noise`'s (see there for
//! where their random numbers come from).

use crate::noise::{perm, permutation, Pcg, TABLE};
use glam::Vec3;

/// Worley.cc's distance methods (`distance_method`): 0 "linear" is the squared distance and 1
/// "linear squared" its square root, as MoonRay names them.
fn distance(method: i64, d: Vec3, minkowski: f32) -> f32 {
    let a = d.abs();
    match method {
        1 => d.length(),
        2 => a.x + a.y + a.z,
        3 => a.max_element(),
        4 => d.x * d.x + d.x * d.y + d.x * d.z + d.y * d.z + d.y * d.y + d.z * d.z,
        5 => {
            (a.x.powf(minkowski) + a.y.powf(minkowski) + a.z.powf(minkowski)).powf(1.0 / minkowski)
        }
        _ => d.length_squared(),
    }
}

/// One of the four nearest feature points: distance, unit direction to it, cell id.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Feature {
    pub dist: f32,
    pub gradient: Vec3,
    pub id: i32,
}

/// One seeded Worley point set (Worley.cc): a permutation, a random point per entry, and the
/// Poisson bins that decide how many points a cell holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Worley {
    perm: Vec<u16>,
    points: Vec<Vec3>,
    /// Upper ends of the cumulative Poisson probabilities of 1..=9 points (lambda 3).
    bins: [f32; 9],
}

impl Worley {
    pub fn new(seed: i64) -> Worley {
        let mut rng = Pcg::new(seed);
        let perm = permutation(&mut rng);
        let points = (0..TABLE)
            .map(|_| Vec3::new(rng.float(), rng.float(), rng.float()))
            .collect();
        // initPointProbabilities: P(m) = lambda^m e^-lambda / m!, the last bin open-ended.
        let mut bins = [0f32; 9];
        let (mut acc, mut fact) = (0f32, 1f32);
        for m in 1..=9 {
            fact *= m as f32;
            acc += 3f32.powi(m) * (-3f32).exp() / fact;
            bins[m as usize - 1] = acc;
        }
        bins[8] = f32::MAX;
        Worley { perm, points, bins }
    }

    /// getPointCount: the bin the cell's random value falls in (values below the first bin's
    /// start count one point, as MoonRay's search lands there).
    fn point_count(&self, hash: i32) -> usize {
        let r = self.points[perm(&self.perm, hash + 5) as usize].x;
        1 + self.bins.iter().position(|&hi| r < hi).unwrap_or(8)
    }

    /// checkCell: the cell's points at (cell + point * jitter), kept if among the four nearest.
    fn check(&self, cell: [i32; 3], pos: Vec3, jitter: f32, best: &mut [Feature; 4]) {
        let p = &self.perm;
        let mut hash = perm(p, cell[0] + perm(p, cell[1] + perm(p, cell[2])));
        for _ in 0..self.point_count(hash) {
            let q = Vec3::new(cell[0] as f32, cell[1] as f32, cell[2] as f32)
                + self.points[hash as usize] * jitter;
            let d = (pos - q).length_squared();
            if d < best[3].dist {
                let at = best.iter().position(|b| d < b.dist).unwrap_or(3);
                best.copy_within(at..3, at + 1);
                best[at] = Feature {
                    dist: d,
                    gradient: q - pos,
                    id: hash,
                };
            }
            hash = (hash + 1) & (TABLE as i32 - 1);
        }
    }

    /// worley3D: the centre cell, then each neighbour (faces, edges, corners) whose nearest
    /// face is closer than the fourth point so far.
    fn nearest(&self, pos: Vec3, jitter: f32) -> [Feature; 4] {
        let none = Feature {
            dist: f32::MAX,
            gradient: Vec3::ZERO,
            id: 0,
        };
        let mut best = [none; 4];
        let c = pos.floor();
        let ci = [c.x as i32, c.y as i32, c.z as i32];
        let f = pos - c;
        let near = f * f;
        let far = (Vec3::ONE - f) * (Vec3::ONE - f);
        self.check(ci, pos, jitter, &mut best);
        // Faces first, then edges, then corners, as worley3D orders them.
        for wanted in 1..=3 {
            for dz in -1i32..=1 {
                for dy in -1i32..=1 {
                    for dx in -1i32..=1 {
                        let d = [dx, dy, dz];
                        if d.iter().filter(|v| **v != 0).count() != wanted {
                            continue;
                        }
                        let close = (0..3).all(|a| match d[a] {
                            -1 => near[a] < best[3].dist,
                            1 => far[a] < best[3].dist,
                            _ => true,
                        });
                        if close {
                            self.check(
                                [ci[0] + dx, ci[1] + dy, ci[2] + dz],
                                pos,
                                jitter,
                                &mut best,
                            );
                        }
                    }
                }
            }
        }
        best
    }

    /// searchPointsFractal: floor(max_level) octaves of halving amplitude and doubling
    /// frequency, distances and unit gradients summed; a fractional last octave adds its
    /// share and the average distances (Worley.cc's measured constants) for the rest. Ids
    /// come from the first octave.
    pub fn fractal(
        &self,
        pos: Vec3,
        jitter: f32,
        max_level: f32,
        method: i64,
        minkowski: f32,
    ) -> [Feature; 4] {
        const AVERAGES: [f32; 4] = [0.368_871_15, 0.491_101_74, 0.571_517_66, 0.634_713_6];
        let mut out = [Feature {
            dist: 0.0,
            gradient: Vec3::ZERO,
            id: 0,
        }; 4];
        let levels = max_level.floor().max(0.0) as i32;
        let (mut p, mut amp) = (pos, 1.0f32);
        let level = |p: Vec3, amp: f32, first: bool, out: &mut [Feature; 4]| {
            let pts = self.nearest(p, jitter);
            for (o, q) in out.iter_mut().zip(pts) {
                let dist = if method == 0 {
                    q.dist
                } else {
                    distance(method, -q.gradient, minkowski)
                };
                o.dist += dist * amp;
                o.gradient += q.gradient.normalize_or_zero() * amp;
                if first {
                    o.id = q.id;
                }
            }
        };
        for l in 0..levels {
            level(p, amp, l == 0, &mut out);
            amp /= 2.0;
            p *= 2.0;
        }
        let last = max_level - levels as f32;
        if last.abs() > 1e-6 {
            level(p, amp, levels == 0, &mut out);
            for (o, a) in out.iter_mut().zip(AVERAGES) {
                o.dist += a * amp * (1.0 - last);
            }
        }
        out
    }

    /// getCellColor: the point table's entry for the cell, as a colour.
    pub fn cell_color(&self, id: i32) -> Vec3 {
        self.points[perm(&self.perm, id) as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worley_finds_the_nearest_points_by_brute_force() {
        let w = Worley::new(3);
        for i in 0..50 {
            let p = Vec3::new(
                i as f32 * 0.37 - 4.0,
                i as f32 * 0.13,
                2.0 - i as f32 * 0.21,
            );
            let got = w.nearest(p, 1.0);
            // Every point of the 5x5x5 block around the cell, by brute force.
            let mut all = Vec::new();
            let c = p.floor();
            for dz in -2..=2 {
                for dy in -2..=2 {
                    for dx in -2..=2 {
                        let cell = [c.x as i32 + dx, c.y as i32 + dy, c.z as i32 + dz];
                        let pp = &w.perm;
                        let mut h = perm(pp, cell[0] + perm(pp, cell[1] + perm(pp, cell[2])));
                        for _ in 0..w.point_count(h) {
                            let q = Vec3::new(cell[0] as f32, cell[1] as f32, cell[2] as f32)
                                + w.points[h as usize];
                            all.push((p - q).length_squared());
                            h = (h + 1) & (TABLE as i32 - 1);
                        }
                    }
                }
            }
            all.sort_by(f32::total_cmp);
            for k in 0..4 {
                assert!(
                    (got[k].dist - all[k]).abs() < 1e-5,
                    "{p} {k}: {} {}",
                    got[k].dist,
                    all[k]
                );
            }
        }
    }

    #[test]
    fn worley_without_jitter_sits_on_the_cell_corners() {
        // jitter 0: every cell's points are at its integer corner, so F1 at (0.25, 0, 0) is the
        // squared distance 0.0625 (method 0) and 0.25 with method 1 (MoonRay's names).
        let w = Worley::new(0);
        let p = Vec3::new(0.25, 0.0, 0.0);
        assert!((w.fractal(p, 0.0, 1.0, 0, 3.0)[0].dist - 0.0625).abs() < 1e-6);
        assert!((w.fractal(p, 0.0, 1.0, 1, 3.0)[0].dist - 0.25).abs() < 1e-6);
        // Manhattan and Chebyshev agree along an axis. F2 is the same corner again when the
        // cell holds more than one point (all sit on its corner), else the next, 0.75 away.
        assert!((w.fractal(p, 0.0, 1.0, 2, 3.0)[0].dist - 0.25).abs() < 1e-6);
        let pp = &w.perm;
        let here = w.point_count(perm(pp, perm(pp, perm(pp, 0))));
        let f2 = if here > 1 { 0.25 } else { 0.75 };
        assert!((w.fractal(p, 0.0, 1.0, 3, 3.0)[1].dist - f2).abs() < 1e-6);
    }

    #[test]
    fn poisson_bins_are_lambda_three() {
        let w = Worley::new(0);
        // P(1) = 3 e^-3, P(1) + P(2) = 7.5 e^-3.
        assert!((w.bins[0] - 3.0 * (-3f32).exp()).abs() < 1e-6);
        assert!((w.bins[1] - 7.5 * (-3f32).exp()).abs() < 1e-6);
    }
}
