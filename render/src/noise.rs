//! Procedural noise as MoonRay's shaders compute it: Perlin lattice noise (3D and 4D, summed
//! over octaves) for `NoiseMap`/`NoiseMap_v2`, the tables it shares with Worley noise
//! (`crate::worley`), and the position transform and remapping both noise maps apply.
//!
//! The formulas are moonshine's lib/common/noise (Noise.cc, Perlin.cc, Worley.cc) and the maps'
//! .ispc files: a permutation table of 2048 entries indexed as perm(x + perm(y + perm(z))), unit
//! gradients drawn uniformly in the ball, the s-curve 3t^2 - 2t^3, a fractional last octave, a
//! Poisson (lambda 3, 1..9) count of feature points per Worley cell. The random numbers that
//! fill the tables come from a seeded PCG32 here where MoonRay draws them from scene_rdl2's
//! `Random`: the noise has MoonRay's statistics and every formula, but not its exact cells.

use glam::{Mat4, Vec3, Vec4};

/// moonshine's NOISE_MAP_TABLE_SIZE and NOISE_WORLEY_MAP_TABLE_SIZE.
pub(crate) const TABLE: usize = 2048;

/// PCG32 (O'Neill's pcg32_random_r), seeded per table: deterministic for a given `seed`.
pub(crate) struct Pcg(u64);

impl Pcg {
    pub(crate) fn new(seed: i64) -> Pcg {
        let mut p = Pcg(0);
        p.next();
        p.0 = p.0.wrapping_add(seed as u64 ^ 0x853c_49e6_748f_ea9b);
        p.next();
        p
    }

    pub(crate) fn next(&mut self) -> u32 {
        let old = self.0;
        self.0 = old
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let xorshifted = (((old >> 18) ^ old) >> 27) as u32;
        xorshifted.rotate_right((old >> 59) as u32)
    }

    /// A float in [0, 1).
    pub(crate) fn float(&mut self) -> f32 {
        (self.next() >> 8) as f32 / (1u32 << 24) as f32
    }
}

/// Noise.cc's permutation table: 0..TABLE shuffled.
pub(crate) fn permutation(rng: &mut Pcg) -> Vec<u16> {
    let mut p: Vec<u16> = (0..TABLE as u16).collect();
    for i in (1..TABLE).rev() {
        let j = (rng.next() as usize) % (i + 1);
        p.swap(i, j);
    }
    p
}

pub(crate) fn perm(table: &[u16], i: i32) -> i32 {
    table[(i & (TABLE as i32 - 1)) as usize] as i32
}

/// Perlin.cc's s-curve.
fn scurve(t: f32) -> f32 {
    t * t * (3.0 - 2.0 * t)
}

/// One seeded Perlin lattice (Perlin.cc): a permutation and one unit gradient per entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Perlin {
    perm: Vec<u16>,
    grads: Vec<Vec4>,
}

impl Perlin {
    /// Gradients in 3D (w = 0) or, for `use_4D_noise`, in 4D.
    pub fn new(seed: i64, four_d: bool) -> Perlin {
        let mut rng = Pcg::new(seed);
        let perm = permutation(&mut rng);
        let mut grads = Vec::with_capacity(TABLE);
        for _ in 0..TABLE {
            let v = loop {
                let mut r = || rng.float() * 2.0 - 1.0;
                let v = Vec4::new(r(), r(), r(), if four_d { r() } else { 0.0 });
                let l2 = v.length_squared();
                if l2 <= 1.0 && l2 > 1e-12 {
                    break v;
                }
            };
            grads.push(v.normalize());
        }
        Perlin { perm, grads }
    }

    fn lattice(&self, i: [i32; 4], f: Vec4) -> f32 {
        let p = &self.perm;
        let k = perm(p, i[0] + perm(p, i[1] + perm(p, i[2] + perm(p, i[3]))));
        self.grads[k as usize].dot(f)
    }

    /// One octave: in [-1, 1], zero at every lattice point. A 3D position has w = 0 and
    /// indexes as Noise.cc's index3D (perm(z) with nothing beneath it) does.
    pub fn noise(&self, pos: Vec4, four_d: bool) -> f32 {
        let fl = pos.floor();
        let i0 = [fl.x as i32, fl.y as i32, fl.z as i32, fl.w as i32];
        let f0 = pos - fl;
        let w = Vec4::new(scurve(f0.x), scurve(f0.y), scurve(f0.z), scurve(f0.w));
        let corners = if four_d { 16 } else { 8 };
        // The corners' values, then interpolated x first, as Perlin.cc's lerps.
        let mut v = [0f32; 16];
        for (c, slot) in v.iter_mut().enumerate().take(corners) {
            let b = [c & 1, (c >> 1) & 1, (c >> 2) & 1, (c >> 3) & 1];
            let mut i = [0; 4];
            let mut f = [0f32; 4];
            for a in 0..4 {
                i[a] = i0[a] + b[a] as i32;
                f[a] = f0[a] - b[a] as f32;
            }
            *slot = if four_d {
                self.lattice(i, Vec4::from(f))
            } else {
                let pp = &self.perm;
                let k = perm(pp, i[0] + perm(pp, i[1] + perm(pp, i[2])));
                self.grads[k as usize]
                    .truncate()
                    .dot(Vec3::new(f[0], f[1], f[2]))
            };
        }
        let mut n = corners;
        for (axis, wa) in [w.x, w.y, w.z, w.w].into_iter().enumerate() {
            if axis == 3 && !four_d {
                break;
            }
            n /= 2;
            for c in 0..n {
                v[c] = v[2 * c] + (v[2 * c + 1] - v[2 * c]) * wa;
            }
        }
        v[0]
    }

    /// Perlin.cc's perlinFractal: ceil(max_level) octaves, each `persistence` times the last's
    /// amplitude at `lacunarity` times its frequency; the last octave weighted by the fraction
    /// of it that max_level asks for.
    pub fn fractal(
        &self,
        pos: Vec4,
        four_d: bool,
        max_level: f32,
        persistence: f32,
        lacunarity: f32,
    ) -> f32 {
        let levels = max_level.ceil().max(0.0) as i32;
        let (mut p, mut scale, mut sum) = (pos, 1.0f32, 0.0f32);
        for i in 0..levels {
            if i + 1 == levels {
                scale *= 1.0 - (levels as f32 - max_level);
            }
            sum += self.noise(p, four_d) * scale;
            scale *= persistence;
            p *= lacunarity;
        }
        sum
    }
}

/// Noise.cc's orderedCompose for points as row vectors (p * M): the rotation axes applied in
/// `rotation_order` (xyz 0, xzy 1, yxz 2, yzx 3, zxy 4, zyx 5), then scale, rotation and
/// translation applied in `transformation_order` (srt 0, str 1, rst 2, rts 3, tsr 4, trs 5).
/// `rotation` is in radians.
pub fn ordered_compose(
    t: Vec3,
    r: Vec3,
    s: Vec3,
    transformation_order: i64,
    rotation_order: i64,
) -> Mat4 {
    let rx = Mat4::from_rotation_x(r.x);
    let ry = Mat4::from_rotation_y(r.y);
    let rz = Mat4::from_rotation_z(r.z);
    // Column-vector matrices: the first applied is the rightmost.
    let rot = match rotation_order {
        1 => ry * rz * rx,
        2 => rz * rx * ry,
        3 => rx * rz * ry,
        4 => ry * rx * rz,
        5 => rx * ry * rz,
        _ => rz * ry * rx,
    };
    let (tm, sm) = (Mat4::from_translation(t), Mat4::from_scale(s));
    match transformation_order {
        0 => tm * rot * sm,
        1 => rot * tm * sm,
        2 => tm * sm * rot,
        3 => sm * tm * rot,
        5 => sm * rot * tm,
        _ => rot * sm * tm,
    }
}

/// scene_rdl2's Perlin bias (MathUtil.h): value^(log bias / log 0.5), unchanged outside (0, 1).
pub fn bias(v: f32, b: f32) -> f32 {
    if b == 0.5 || v <= 0.0 || v >= 1.0 {
        v
    } else if b <= 0.0 {
        0.0
    } else {
        v.powf(b.ln() / 0.5f32.ln())
    }
}

/// scene_rdl2's Perlin gain (MathUtil.h): bias of each half, mirrored.
pub fn gain(v: f32, g: f32) -> f32 {
    if g == 0.5 {
        v
    } else if v < 0.5 {
        bias(2.0 * v, 1.0 - g) * 0.5
    } else {
        1.0 - bias(2.0 - 2.0 * v, 1.0 - g) * 0.5
    }
}

/// moonshine's INTERPOLATION_smoothStep.
pub fn smooth_step(x: f32, e0: f32, e1: f32) -> f32 {
    let t = ((x - e0) / (e1 - e0).max(1e-6)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perlin_is_zero_on_the_lattice_and_bounded_between() {
        let n = Perlin::new(0, false);
        for p in [
            Vec3::ZERO,
            Vec3::new(3.0, -2.0, 7.0),
            Vec3::new(-11.0, 5.0, 1.0),
        ] {
            assert_eq!(n.noise(p.extend(0.0), false), 0.0);
        }
        let mut seen = (f32::MAX, f32::MIN);
        for i in 0..4000 {
            let p = Vec4::new(
                i as f32 * 0.137,
                i as f32 * 0.071 + 0.3,
                i as f32 * 0.029,
                0.0,
            );
            let v = n.noise(p, false);
            assert!(v.abs() <= 1.0, "{v}");
            seen = (seen.0.min(v), seen.1.max(v));
        }
        assert!(seen.0 < -0.3 && seen.1 > 0.3, "{seen:?}");
    }

    #[test]
    fn one_cell_is_the_gradients_interpolated_by_the_s_curve() {
        // Halfway along x from a lattice point, on the y = z = 0 edge: the two corner
        // gradients' x components times +-0.5, weighted by scurve(0.5) = 0.5.
        let n = Perlin::new(4, false);
        let g = |i: i32| {
            let p = &n.perm;
            n.grads[perm(p, i + perm(p, perm(p, 0))) as usize]
        };
        let want = 0.5 * (g(0).x * 0.5) + 0.5 * (g(1).x * -0.5);
        assert!((n.noise(Vec4::new(0.5, 0.0, 0.0, 0.0), false) - want).abs() < 1e-6);
    }

    #[test]
    fn fractal_weights_the_last_octave_by_its_fraction() {
        let n = Perlin::new(7, false);
        let p = Vec4::new(0.3, 0.6, 0.2, 0.0);
        let one = n.noise(p, false);
        let two = n.noise(p * 2.0, false);
        // max_level 1.5: the first octave in full, then half of the second at persistence 0.5.
        let want = one + 0.5 * 0.5 * two;
        assert!((n.fractal(p, false, 1.5, 0.5, 2.0) - want).abs() < 1e-6);
        assert_eq!(n.fractal(p, false, 0.0, 0.5, 2.0), 0.0);
    }

    #[test]
    fn bias_gain_and_smoothstep_follow_scene_rdl2() {
        assert!((bias(0.25, 0.75) - 0.25f32.powf(0.75f32.ln() / 0.5f32.ln())).abs() < 1e-6);
        assert_eq!(bias(0.3, 0.5), 0.3);
        assert!((gain(0.25, 0.25) - bias(0.5, 0.75) * 0.5).abs() < 1e-6);
        assert_eq!(smooth_step(0.5, 0.0, 1.0), 0.5);
        assert_eq!(smooth_step(0.05, 0.1, 0.9), 0.0);
    }

    #[test]
    fn transformation_order_tsr_translates_first() {
        let m = ordered_compose(
            Vec3::new(1.0, 0.0, 0.0),
            Vec3::new(0.0, 0.0, std::f32::consts::FRAC_PI_2),
            Vec3::splat(2.0),
            4,
            0,
        );
        // (0,0,0) + (1,0,0) = (1,0,0), scaled (2,0,0), rotated a quarter about z: (0,2,0).
        let p = m.transform_point3(Vec3::ZERO);
        assert!((p - Vec3::new(0.0, 2.0, 0.0)).length() < 1e-5, "{p}");
        let srt = ordered_compose(Vec3::new(1.0, 0.0, 0.0), Vec3::ZERO, Vec3::splat(2.0), 0, 0);
        assert!((srt.transform_point3(Vec3::ONE) - Vec3::new(3.0, 2.0, 2.0)).length() < 1e-5);
    }
}
