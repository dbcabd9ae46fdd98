//! Normal mapping as MoonRay's materials apply it: a map's value, read in the tangent frame
//! around the shading normal (or already in render space), blended with the shading normal by
//! the material's `input_normal_dial`.
//!
//! Formula from moonray lib/rendering/shading/EvalAttribute.cc (`evalNormalImpl`), frame from
//! scene_rdl2 lib/common/math/ReferenceFrame.h (`ReferenceFrame(N, T)`). Wiring it into the
//! materials' `input_normal` binding (moonshine lib/material/dwabase/json/normal.json) is not
//! done yet; this module is the evaluation that binding will call.

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
