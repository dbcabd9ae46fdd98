//! Normal mapping as MoonRay's materials apply it: a map's value, read in the tangent frame
//! around the shading normal (or already in render space), blended with the shading normal by
//! the material's `input_normal_dial`.
//!
//! Formula from moonray lib/rendering/shading/EvalAttribute.cc (`evalNormalImpl`), frame from
//! scene_rdl2 lib/common/math/ReferenceFrame.h (`ReferenceFrame(N, T)`). The materials'
//! `input_normal` (moonshine lib/material/dwabase/json/normal.json) and UsdPreviewSurface's
//! `normal` become a `shading::Shader::NormalMapped`, whose normal [`shading_normal`] gives
//! the integrator; the normal maps themselves ([`ImageNormal`]) are `shading::Map`s whose value
//! is a render-space normal, as MoonRay's `sampleNormal` returns.

use crate::bsdf::Material;
use crate::shading::{Maps, Param, ShadePoint, Shader};
use glam::Vec3;

/// Where a normal map's value lives (the `normalMapSpace` argument of `evalNormalImpl`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NormalSpace {
    /// 0: tangent space, encoded in [0, 1] (re-centred with 2v - 1), z along the normal.
    Tangent,
    /// Any other value: a render-space normal, used as it is.
    Render,
}

/// The right-handed tangent frame MoonRay builds from the shading normal `n` and `dPds`:
/// z = n, y = normalize(n x t), x = y x z (scene_rdl2 ReferenceFrame.h).
pub fn tangent_frame(n: Vec3, dpds: Vec3) -> (Vec3, Vec3, Vec3) {
    let t = dpds.normalize_or_zero();
    let y = n.cross(t).normalize_or_zero();
    let x = y.cross(n);
    (x, y, n)
}

/// The shading normal after normal mapping, as `evalNormalImpl` computes it:
/// - a value that is NaN, infinite or zero leaves `n` unchanged (MoonRay logs it);
/// - in tangent space the value is re-centred (2v - 1), rejected (n unchanged) when its z is
///   negative, and taken from the tangent frame around `n` and `dpds` to render space;
/// - the result is normalised, and when `dial` is not 1 it becomes
///   normalize(n + (mapped - n) * saturate(dial)).
///
/// `n` must be unit length.
pub fn mapped_normal(n: Vec3, dpds: Vec3, value: Vec3, dial: f32, space: NormalSpace) -> Vec3 {
    if !value.is_finite() || value == Vec3::ZERO {
        return n;
    }
    let mut r = value;
    if space == NormalSpace::Tangent {
        r = 2.0 * r - Vec3::ONE;
        if r.z < 0.0 {
            return n;
        }
        let (x, y, z) = tangent_frame(n, dpds);
        r = x * r.x + y * r.y + z * r.z;
    }
    let mut r = r.normalize_or_zero();
    if r == Vec3::ZERO {
        return n;
    }
    if dial != 1.0 {
        r = (n + (r - n) * dial.clamp(0.0, 1.0)).normalize_or_zero();
        if r == Vec3::ZERO {
            return n;
        }
    }
    r
}

/// moonshine dso/normalmap/ImageNormalMap (ImageNormalMap.cc `sampleNormal`): the texture
/// (read with gamma off) at st or `input_texture_coordinates`, re-centred from [0, 1] when
/// `normal_encoding` is 0, and taken from the tangent frame around the shading normal and
/// dPds to render space, unnormalised. An invalid texel (NaN, infinite, zero) gives the shading
/// normal, as does st outside [0, 1] when `wrap_around` is off; an input coordinate with a
/// negative w gives zero (the material then keeps its normal).
#[derive(Debug, Clone, PartialEq)]
pub struct ImageNormal {
    pub image: crate::texture::ImageLookup,
    pub st: Option<Param>,
    /// `normal_encoding` [0, 1] (0): texels are 2v - 1 re-centred; [-1, 1] (1): used as read.
    pub recentre: bool,
    pub wrap_around: bool,
}

impl ImageNormal {
    pub fn eval(&self, maps: &Maps, sp: &ShadePoint) -> Vec3 {
        let st = match &self.st {
            Some(p) => {
                let uvw = p.eval(maps, sp);
                if uvw.z < 0.0 {
                    return Vec3::ZERO;
                }
                uvw.truncate()
            }
            None => sp.uv,
        };
        let inside = (0.0..=1.0).contains(&st.x) && (0.0..=1.0).contains(&st.y);
        if !self.wrap_around && !inside {
            return sp.n;
        }
        let mut v = self.image.eval(st);
        if !v.is_finite() || v == Vec3::ZERO {
            return sp.n;
        }
        if self.recentre {
            v = 2.0 * v - Vec3::ONE;
        }
        let (x, y, z) = tangent_frame(sp.n, sp.dpds);
        x * v.x + y * v.y + z * v.z
    }
}

/// The shading normal of material `m` at `sp`: `sp.n` unless a `NormalMapped` shader (or one
/// inside a two-sided, layered or mixed material) moves it. A layer or mix lerps its two
/// materials' normals by its weight and normalises, as moonshine lib/material/dwabase/
/// Blending.cc does (`safeNormalize(lerp(...))`).
pub fn shading_normal(m: &Material, maps: &Maps, sp: &ShadePoint) -> Vec3 {
    let Material::Shaded(s) = m else {
        return sp.n;
    };
    let blend = |n0: Vec3, n1: Vec3, t: f32| {
        let r = n0.lerp(n1, t).normalize_or_zero();
        if r == Vec3::ZERO {
            sp.n
        } else {
            r
        }
    };
    match &**s {
        Shader::NormalMapped {
            material,
            normal,
            dial,
            usd_tangent,
        } => {
            let inner = shading_normal(material, maps, sp);
            let v = normal.eval(maps, sp);
            if *usd_tangent {
                // moonray dso/material/UsdPreviewSurface/UsdPreviewSurface.cc: the value is a
                // [-1, 1] tangent-space normal, normalised, with no dial; a surface without
                // dPds keeps its normal.
                if sp.dpds.length() == 0.0 {
                    return inner;
                }
                let (x, y, z) = tangent_frame(inner, sp.dpds);
                let r = (x * v.x + y * v.y + z * v.z).normalize_or_zero();
                return if r == Vec3::ZERO { inner } else { r };
            }
            let dial = dial.eval_f32(maps, sp);
            mapped_normal(inner, sp.dpds, v, dial, NormalSpace::Render)
        }
        Shader::TwoSided { front, back } => {
            shading_normal(if sp.front { front } else { back }, maps, sp)
        }
        Shader::Layer { a, b, mask } => {
            let t = mask.eval_f32(maps, sp).clamp(0.0, 1.0);
            blend(shading_normal(b, maps, sp), shading_normal(a, maps, sp), t)
        }
        Shader::Mix { inputs, mix, remap } => {
            let pick = crate::shading::mix_pick(inputs.len(), mix.eval_f32(maps, sp), *remap);
            let Some((i, j, t)) = pick else {
                return sp.n;
            };
            let n0 = shading_normal(&inputs[i], maps, sp);
            if i == j {
                return n0;
            }
            blend(n0, shading_normal(&inputs[j], maps, sp), t)
        }
        Shader::Emitting { material, .. } => shading_normal(material, maps, sp),
        // A clear coat lies on its base's (mapped) normal.
        Shader::Coated { base, .. } | Shader::Toon { base, .. } => shading_normal(base, maps, sp),
        _ => sp.n,
    }
}
