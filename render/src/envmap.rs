//! Light textures: MoonRay's lat-long mapping of an EnvLight's texture onto the sphere, the
//! texture transform and colour correction every light's `texture` shares, and the 2D
//! piecewise-constant distribution that importance-samples a map by luminance times sin(theta).
//!
//! Facts from moonray `lib/rendering/pbr/light/EnvLight.cc` (`uv2local`, `local2uv`,
//! `sLocalOrientation`, `eval`'s pdf), `lib/rendering/pbr/core/Distribution.cc`
//! (`ImageDistribution`: the flipped pixel buffer, the texture transform, border colour and
//! mirroring, luminance weights, `Distribution2D::tabulateCdf`'s sin(theta) and hemispherical
//! weighting), `lib/rendering/pbr/core/ImageColorCorrect.ispc` with
//! `lib/rendering/shading/ispc/ColorCorrect.isph` (the colour-correction order and formulas),
//! and scene_rdl2 `lib/scene/rdl2/Light.cc` (the attributes and their defaults).

pub use crate::texture::ColorCorrect;
use crate::texture::Texture;
use glam::{Mat3, Vec2, Vec3};
use std::f32::consts::PI;
use std::sync::Arc;

/// Rec. 709 luminance as MoonRay weighs texels (moonray `lib/rendering/shading/ColorCorrect.h`).
pub fn luminance(c: Vec3) -> f32 {
    c.dot(Vec3::new(0.212671, 0.715160, 0.072169))
}

/// The smallest weight a texel or row gets, as MoonRay's `sEpsilon` floor: a black texel can
/// still be sampled, so the density is never zero where radiance could be found.
const MIN_WEIGHT: f32 = 1e-6;

/// A piecewise-constant density over the unit square on a `w` x `h` grid of cells: a row is
/// chosen by the sum of its weights (the marginal), then a cell within the row (the
/// conditional). Row `j` covers `v` in [j/h, (j+1)/h], column `i` covers `u` in [i/w, (i+1)/w].
#[derive(Debug, Clone, PartialEq)]
pub struct Distribution2D {
    w: usize,
    h: usize,
    weights: Vec<f32>,
    /// Per row, running sums of that row's weights (`w` entries a row), summed in f64 and
    /// kept in f32: 8 bytes a texel with the weights, for maps of tens of millions of texels.
    row_cdf: Vec<f32>,
    /// Running sums of the row totals (`h` entries).
    marginal_cdf: Vec<f64>,
    total: f64,
}

impl Distribution2D {
    /// From non-negative weights, row-major, row 0 first.
    pub fn new(w: usize, h: usize, weights: Vec<f32>) -> Distribution2D {
        assert_eq!(weights.len(), w * h);
        let mut row_cdf = Vec::with_capacity(w * h);
        let mut marginal_cdf = Vec::with_capacity(h);
        let mut total = 0.0f64;
        for row in weights.chunks(w) {
            let mut s = 0.0f64;
            for &x in row {
                s += f64::from(x.max(0.0));
                row_cdf.push(s as f32);
            }
            total += s;
            marginal_cdf.push(total);
        }
        Distribution2D {
            w,
            h,
            weights,
            row_cdf,
            marginal_cdf,
            total,
        }
    }

    /// A point of the unit square drawn with this density from two uniform numbers, and its
    /// density there; None when every weight is zero.
    pub fn sample(&self, r: Vec2) -> Option<(Vec2, f32)> {
        if self.total <= 0.0 {
            return None;
        }
        let (j, fv) = pick(&self.marginal_cdf, f64::from(r.y) * self.total);
        let row = &self.row_cdf[j * self.w..(j + 1) * self.w];
        let (i, fu) = pick(row, f64::from(r.x) * f64::from(row[self.w - 1]));
        let uv = Vec2::new(
            ((i as f32 + fu) / self.w as f32).min(1.0 - f32::EPSILON),
            ((j as f32 + fv) / self.h as f32).min(1.0 - f32::EPSILON),
        );
        Some((uv, self.pdf_cell(i, j)))
    }

    /// The density at `uv` (with respect to area in the unit square).
    pub fn pdf(&self, uv: Vec2) -> f32 {
        if self.total <= 0.0 || !(0.0..=1.0).contains(&uv.x) || !(0.0..=1.0).contains(&uv.y) {
            return 0.0;
        }
        let i = ((uv.x * self.w as f32) as usize).min(self.w - 1);
        let j = ((uv.y * self.h as f32) as usize).min(self.h - 1);
        self.pdf_cell(i, j)
    }

    fn pdf_cell(&self, i: usize, j: usize) -> f32 {
        (f64::from(self.weights[j * self.w + i]) / self.total * (self.w * self.h) as f64) as f32
    }
}

/// The first entry of running sums `cdf` above `x`, and how far `x` lies into it (0..1).
fn pick<T: Copy + Into<f64>>(cdf: &[T], x: f64) -> (usize, f32) {
    let k = cdf.partition_point(|&c| c.into() <= x).min(cdf.len() - 1);
    let prev = if k == 0 { 0.0 } else { cdf[k - 1].into() };
    let width = cdf[k].into() - prev;
    let f = if width > 0.0 {
        ((x - prev) / width).clamp(0.0, 1.0)
    } else {
        0.5
    };
    (k, f as f32)
}

/// The direction, in the light's z-up local space, of lat-long coordinates `uv` (EnvLight.cc
/// `uv2local`): phi = (1 - u) 2 pi, theta = (1 - v) pi, so v = 1 (the image's top row) is
/// local +z and u runs the other way round from phi, as seen from inside the sphere.
pub fn uv_to_local(uv: Vec2) -> Vec3 {
    let phi = (1.0 - uv.x) * 2.0 * PI;
    let theta = (1.0 - uv.y) * PI;
    let (st, ct) = theta.sin_cos();
    let (sp, cp) = phi.sin_cos();
    Vec3::new(st * cp, st * sp, ct)
}

/// The inverse of `uv_to_local` for a unit vector (EnvLight.cc `local2uv`). MoonRay sets u to
/// 0 within 0.0005 of the poles so that its `sample` and `intersect` agree there; here both
/// keep the true u, which keeps a sample's density and the density of its direction equal.
pub fn local_to_uv(d: Vec3) -> Vec2 {
    let theta = d.z.clamp(-1.0, 1.0).acos();
    let v = 1.0 - theta / PI;
    let u = (d.y.atan2(d.x) / (2.0 * PI)).rem_euclid(1.0);
    Vec2::new((1.0 - u).rem_euclid(1.0), v)
}

/// An EnvLight's local frame in render space: MoonRay's `sLocalOrientation` (local x to -Z,
/// local y to -X, local z, the upper hemisphere, to +Y) followed by the light's `node_xform`,
/// orthonormalised. The columns are the local axes.
pub fn env_frame(node_xform: glam::Mat4) -> Mat3 {
    let m = glam::Mat3::from_mat4(node_xform);
    let x = m * Vec3::NEG_Z;
    let y = m * Vec3::NEG_X;
    // Gram-Schmidt from z, the axis that decides the upper hemisphere.
    let z = (m * Vec3::Y).normalize_or(Vec3::Y);
    let x = (x - z * x.dot(z)).normalize_or_zero();
    let x = if x == Vec3::ZERO {
        crate::bsdf::Frame::new(z).t
    } else {
        x
    };
    let y = if y.dot(z.cross(x)) < 0.0 {
        -z.cross(x)
    } else {
        z.cross(x)
    };
    Mat3::from_cols(x, y, z)
}

/// `ImageDistribution`'s texture transform (scene_rdl2 `Light.cc`: `texture_rotation` degrees
/// clockwise, `texture_translation`, `texture_coverage`, `texture_reps_u`/`_v`,
/// `texture_mirror_u`/`_v`): `(u, v, 1)` times the row-vector matrix
/// translate(-translation) * scale(reps / coverage) * rotate(angle).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TextureTransform {
    /// Rows of the 3x3 matrix, row vectors on the left.
    pub m: [[f32; 3]; 3],
    pub reps: Vec2,
    pub mirror: (bool, bool),
}

impl TextureTransform {
    pub fn new(
        rotation_deg: f32,
        translation: Vec2,
        coverage: Vec2,
        reps: Vec2,
        mirror: (bool, bool),
    ) -> Option<TextureTransform> {
        if rotation_deg == 0.0
            && translation == Vec2::ZERO
            && coverage == Vec2::ONE
            && reps == Vec2::ONE
        {
            return None;
        }
        let (tx, ty) = (-translation.x, -translation.y);
        let (sx, sy) = (reps.x / coverage.x, reps.y / coverage.y);
        let (s, c) = rotation_deg.to_radians().sin_cos();
        let m = [
            [c * sx, s * sx, 0.0],
            [-s * sy, c * sy, 0.0],
            [c * sx * tx - s * sy * ty, s * sx * tx + c * sy * ty, 1.0],
        ];
        Some(TextureTransform { m, reps, mirror })
    }

    /// The texture's own coordinates (0..1) at light coordinates `uv`, None outside the
    /// texture (where the border colour shows).
    pub fn apply(&self, uv: Vec2) -> Option<Vec2> {
        let m = &self.m;
        let u = uv.x * m[0][0] + uv.y * m[1][0] + m[2][0];
        let v = uv.x * m[0][1] + uv.y * m[1][1] + m[2][1];
        if !(0.0..=self.reps.x).contains(&u) || !(0.0..=self.reps.y).contains(&v) {
            return None;
        }
        let (fu, fv) = (u.floor(), v.floor());
        let (mut u, mut v) = (u - fu, v - fv);
        if self.mirror.0 && (fu as i64) & 1 == 1 {
            u = 1.0 - u;
        }
        if self.mirror.1 && (fv as i64) & 1 == 1 {
            v = 1.0 - v;
        }
        Some(Vec2::new(u, v))
    }
}

/// A light's `texture`, decoded and colour-corrected, with its transform, border colour and
/// filter (`texture_filter`: nearest 0, bilinear 1; the mip-mapped modes use the top level).
#[derive(Debug, Clone, PartialEq)]
pub struct LightTexture {
    pub texture: Arc<Texture>,
    pub transform: Option<TextureTransform>,
    pub border: Vec3,
    pub bilinear: bool,
}

impl LightTexture {
    /// The texture's colour at light coordinates `uv`, v up from the image's bottom row (the
    /// pixel buffer MoonRay flips on load); outside the texture, the border colour.
    pub fn eval(&self, uv: Vec2) -> Vec3 {
        let uv = match &self.transform {
            Some(t) => match t.apply(uv) {
                Some(uv) => uv,
                None => return self.border,
            },
            None if !(0.0..=1.0).contains(&uv.x) || !(0.0..=1.0).contains(&uv.y) => {
                return self.border
            }
            None => uv,
        };
        if self.bilinear {
            self.texture.bilinear(uv.x, uv.y, false)
        } else {
            self.texture.sample(uv.x, uv.y, false)
        }
    }

    /// The distribution of the texture's luminance over the light's uv square, for a light
    /// that samples points on itself by it (no sin(theta): MoonRay's PLANAR mapping).
    pub fn distribution(&self) -> Distribution2D {
        let (w, h, weights) = self.weights();
        Distribution2D::new(w, h, weights)
    }

    /// The sampling weights of a `w` x `h` grid over the light's uv square: the luminance at
    /// each cell's centre, as `ImageDistribution` weighs it (floored at a small epsilon). Where
    /// MoonRay takes several lookups a cell for a transformed texture, and samples a bilinear
    /// texture by a piecewise-linear density, this takes one and stays piecewise-constant:
    /// the light reports the density it samples by, so MIS stays unbiased either way.
    fn weights(&self) -> (usize, usize, Vec<f32>) {
        let (w, h) = (self.texture.width as usize, self.texture.height as usize);
        let mut weights = Vec::with_capacity(w * h);
        for j in 0..h {
            for i in 0..w {
                let uv = Vec2::new((i as f32 + 0.5) / w as f32, (j as f32 + 0.5) / h as f32);
                weights.push(luminance(self.eval(uv)).max(MIN_WEIGHT));
            }
        }
        (w, h, weights)
    }
}

/// An EnvLight's texture and the distribution that samples it.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvMap {
    pub texture: LightTexture,
    dist: Distribution2D,
}

impl EnvMap {
    /// Weights are luminance times sin(theta) at each row's centre (`Distribution2D`'s
    /// SPHERICAL mapping); with `upper_only` the rows wholly below the horizon get none (MoonRay's
    /// HEMISPHERICAL mapping gives them epsilon; here the light never returns them either).
    pub fn new(texture: LightTexture, upper_only: bool) -> EnvMap {
        let (w, h, mut weights) = texture.weights();
        for j in 0..h {
            let v = (j as f32 + 0.5) / h as f32;
            let sin = ((1.0 - v) * PI).sin().max(MIN_WEIGHT);
            let k = if upper_only && v < 0.5 { 0.0 } else { sin };
            for x in &mut weights[j * w..(j + 1) * w] {
                *x *= k;
            }
        }
        EnvMap {
            texture,
            dist: Distribution2D::new(w, h, weights),
        }
    }

    /// A local direction drawn from the map with two uniform numbers, its uv, and its density
    /// per solid angle: the uv density over 2 pi^2 sin(theta) (EnvLight.cc `eval`).
    pub fn sample(&self, r: Vec2) -> Option<(Vec3, Vec2, f32)> {
        let (uv, pdf) = self.dist.sample(r)?;
        let sin = ((1.0 - uv.y) * PI).sin();
        if sin <= 0.0 {
            return None;
        }
        Some((uv_to_local(uv), uv, pdf / (2.0 * PI * PI * sin)))
    }

    /// The density per solid angle with which `sample` picks local direction `d` at uv.
    pub fn pdf(&self, uv: Vec2, d: Vec3) -> f32 {
        let sin = (1.0 - d.z * d.z).max(0.0).sqrt();
        if sin <= 1e-7 {
            return 0.0;
        }
        self.dist.pdf(uv) / (2.0 * PI * PI * sin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texture(w: u32, h: u32, f: impl Fn(u32, u32) -> Vec3) -> Arc<Texture> {
        let texels = (0..h)
            .flat_map(|y| (0..w).map(move |x| (x, y)))
            .map(|(x, y)| f(x, y))
            .collect();
        Arc::new(Texture {
            width: w,
            height: h,
            texels,
            alpha: None,
        })
    }

    fn plain(t: Arc<Texture>) -> LightTexture {
        LightTexture {
            texture: t,
            transform: None,
            border: Vec3::ONE,
            bilinear: false,
        }
    }

    #[test]
    fn lat_long_mapping_round_trips_and_follows_moonray_for_named_directions() {
        // With MoonRay's sLocalOrientation and no node_xform: the image's top is +Y, its
        // left edge (u = 0) looks down -Z, u = 0.25 at +X, u = 0.5 at +Z, u = 0.75 at -X.
        let f = env_frame(glam::Mat4::IDENTITY);
        let world = |u: f32, v: f32| f * uv_to_local(Vec2::new(u, v));
        let close = |a: Vec3, b: Vec3| (a - b).length() < 1e-5;
        assert!(close(world(0.3, 1.0), Vec3::Y), "{}", world(0.3, 1.0));
        assert!(close(world(0.3, 0.0), Vec3::NEG_Y));
        assert!(close(world(0.0, 0.5), Vec3::NEG_Z), "{}", world(0.0, 0.5));
        assert!(close(world(0.25, 0.5), Vec3::X), "{}", world(0.25, 0.5));
        assert!(close(world(0.5, 0.5), Vec3::Z));
        assert!(close(world(0.75, 0.5), Vec3::NEG_X));
        for (u, v) in [
            (0.1, 0.2),
            (0.6, 0.9),
            (0.99, 0.51),
            (0.25, 0.5),
            (0.001, 0.3),
        ] {
            let uv = local_to_uv(uv_to_local(Vec2::new(u, v)));
            assert!(
                (uv - Vec2::new(u, v)).abs().max_element() < 1e-4,
                "{u} {v}: {uv}"
            );
        }
        // A node_xform turning the light 90 degrees about Y turns the map with it.
        let r = env_frame(glam::Mat4::from_rotation_y(std::f32::consts::FRAC_PI_2));
        assert!(close(r * uv_to_local(Vec2::new(0.5, 0.5)), Vec3::X));
        assert!(close(r * uv_to_local(Vec2::new(0.2, 1.0)), Vec3::Y));
    }

    #[test]
    fn the_pdf_integrates_to_one_over_the_sphere_and_matches_sampling() {
        // An uneven 8 x 4 map: one bright texel and a gradient.
        let t = texture(8, 4, |x, y| {
            if (x, y) == (5, 1) {
                Vec3::splat(50.0)
            } else {
                Vec3::splat(0.1 + 0.05 * x as f32)
            }
        });
        for upper_only in [false, true] {
            let map = EnvMap::new(plain(t.clone()), upper_only);
            // Midpoint rule over theta and phi: integral of pdf d(omega).
            let (nt, np) = (400, 800);
            let mut total = 0.0f64;
            for a in 0..nt {
                let theta = (a as f32 + 0.5) / nt as f32 * PI;
                for b in 0..np {
                    let phi = (b as f32 + 0.5) / np as f32 * 2.0 * PI;
                    let d = Vec3::new(
                        theta.sin() * phi.cos(),
                        theta.sin() * phi.sin(),
                        theta.cos(),
                    );
                    let domega = theta.sin() * (PI / nt as f32) * (2.0 * PI / np as f32);
                    total += f64::from(map.pdf(local_to_uv(d), d) * domega);
                }
            }
            assert!(
                (total - 1.0).abs() < 0.01,
                "upper_only {upper_only}: {total}"
            );
            // Every sample's reported density is the density pdf() gives its direction.
            let mut rng = crate::sampler::Rng::new(3, 0, 0, 0, 0);
            for _ in 0..1000 {
                let (d, uv, p) = map.sample(rng.uniform2()).unwrap();
                let q = map.pdf(local_to_uv(d), d);
                assert!((p - q).abs() <= 1e-3 * p.max(1.0), "{uv}: {p} vs {q}");
                assert!(!upper_only || d.z >= -1e-6, "{d}");
            }
        }
    }

    #[test]
    fn colour_correction_follows_moonrays_formulas() {
        let c = Vec3::new(0.5, 0.25, 0.1);
        assert_eq!(ColorCorrect::default().apply(c), c);
        let g = ColorCorrect {
            gamma: Vec3::splat(2.0),
            ..Default::default()
        };
        assert!((g.apply(c) - Vec3::new(0.5f32.sqrt(), 0.5, 0.1f32.sqrt())).length() < 1e-6);
        let go = ColorCorrect {
            gain: Vec3::splat(2.0),
            offset: Vec3::new(0.1, 0.0, -1.0),
            ..Default::default()
        };
        assert!((go.apply(c) - Vec3::new(1.1, 0.5, 0.0)).length() < 1e-6);
        // Saturation 0 is the luminance; contrast 2 about 0.18: 0.18 (x / 0.18)^2.
        let s = ColorCorrect {
            saturation: Vec3::ZERO,
            ..Default::default()
        }
        .apply(c);
        assert!(
            (go.apply_unclamped(c).z + 0.8).abs() < 1e-6,
            "an ImageMap does not clamp"
        );
        assert!((s - Vec3::splat(luminance(c))).length() < 1e-6);
        let k = ColorCorrect {
            contrast: Vec3::splat(2.0),
            ..Default::default()
        }
        .apply(Vec3::splat(0.36));
        assert!((k.x - 0.72).abs() < 1e-5);
        // TMI intensity 1 doubles; temperature 1 takes a half from red and adds a half to blue.
        let t = ColorCorrect {
            temperature: Vec3::new(1.0, 0.0, 1.0),
            ..Default::default()
        }
        .apply(Vec3::ONE);
        assert!((t - Vec3::new(1.5, 2.0, 2.5)).length() < 1e-6, "{t}");
    }

    #[test]
    fn the_texture_transform_rotates_translates_repeats_and_mirrors() {
        // 90 degrees clockwise: (u, v) -> (u c - v s, u s + v c) with c = 0, s = 1.
        let r =
            TextureTransform::new(90.0, Vec2::ZERO, Vec2::ONE, Vec2::ONE, (false, false)).unwrap();
        assert_eq!(
            r.apply(Vec2::new(0.0, 0.5)),
            None,
            "(-0.5, 0) is off the texture"
        );
        let m = r.m;
        let (u, v) = (0.3f32, 0.0f32);
        assert!((u * m[0][0] + v * m[1][0]).abs() < 1e-6 && (u * m[0][1] - 0.3).abs() < 1e-6);
        let t = TextureTransform::new(
            0.0,
            Vec2::new(0.25, 0.0),
            Vec2::ONE,
            Vec2::ONE,
            (false, false),
        )
        .unwrap();
        let a = t.apply(Vec2::new(0.5, 0.5)).unwrap();
        assert!((a - Vec2::new(0.25, 0.5)).length() < 1e-6);
        assert_eq!(t.apply(Vec2::new(0.1, 0.5)), None);
        let rep = TextureTransform::new(
            0.0,
            Vec2::ZERO,
            Vec2::ONE,
            Vec2::new(2.0, 1.0),
            (true, false),
        )
        .unwrap();
        let a = rep.apply(Vec2::new(0.6, 0.5)).unwrap();
        assert!(
            (a - Vec2::new(0.8, 0.5)).length() < 1e-5,
            "mirrored second copy: {a}"
        );
        assert!(
            TextureTransform::new(0.0, Vec2::ZERO, Vec2::ONE, Vec2::ONE, (true, true)).is_none()
        );
        // Outside the texture a light shows its border colour.
        let lt = LightTexture {
            texture: texture(2, 2, |_, _| Vec3::ZERO),
            transform: Some(t),
            border: Vec3::new(0.0, 1.0, 0.0),
            bilinear: false,
        };
        assert_eq!(lt.eval(Vec2::new(0.1, 0.5)), Vec3::Y);
        assert_eq!(lt.eval(Vec2::new(0.5, 0.5)), Vec3::ZERO);
    }
}
