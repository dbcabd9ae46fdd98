//! Fresnel reflectance: dielectric, conductor (complex index), and MoonRay's artist-friendly
//! conductor from two colours.

use glam::Vec3;

/// A lobe's Fresnel reflectance.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Fresnel {
    Dielectric(f32),
    /// A conductor's complex index of refraction, n + ik per channel.
    Conductor {
        eta: Vec3,
        k: Vec3,
    },
    /// Schlick's approximation from the reflectance at normal incidence, 100% at grazing
    /// (the UsdPreviewSurface specification's specular workflow: "specularColor ... the color
    /// at 0 incidence. Edge color is assumed to be 100% reflective").
    Schlick(Vec3),
}

impl Fresnel {
    pub(crate) fn eval(&self, cos: f32) -> Vec3 {
        match *self {
            Fresnel::Dielectric(eta) => Vec3::splat(fresnel_dielectric(cos, eta)),
            Fresnel::Conductor { eta, k } => fresnel_conductor(cos, eta, k),
            Fresnel::Schlick(f0) => {
                let m = (1.0 - cos.clamp(0.0, 1.0)).powi(5);
                f0 + (Vec3::ONE - f0) * m
            }
        }
    }

    /// MoonRay's artist-friendly metal: reflectivity and edge tint as n and k.
    pub(crate) fn artist_friendly(color: Vec3, edge_color: Vec3) -> Fresnel {
        let (eta, k) = artist_friendly_ior(color, edge_color);
        Fresnel::Conductor { eta, k }
    }
}

/// Gulbrandsen's "Artist Friendly Metallic Fresnel" (JCGT 2014) as MoonRay computes it
/// (moonray lib/rendering/shading/Ior.h, `ShaderComplexIor::createComplexIorFromColor`): both
/// colours clamped to [0, 0.999], then n = g (1 - r)/(1 + r) + (1 - g)(1 + sqrt r)/(1 - sqrt r)
/// and k = sqrt(max(0, r (n + 1)^2 - (n - 1)^2) / (1 - r)), for reflectivity r and edge tint g.
pub fn artist_friendly_ior(color: Vec3, edge_color: Vec3) -> (Vec3, Vec3) {
    let r = color.clamp(Vec3::ZERO, Vec3::splat(0.999));
    let g = edge_color.clamp(Vec3::ZERO, Vec3::splat(0.999));
    let n_min = (Vec3::ONE - r) / (Vec3::ONE + r);
    let sr = r.powf(0.5);
    let n_max = (Vec3::ONE + sr) / (Vec3::ONE - sr);
    let n = g * n_min + (Vec3::ONE - g) * n_max;
    let a = n + Vec3::ONE;
    let b = n - Vec3::ONE;
    let k = ((r * a * a - b * b).max(Vec3::ZERO) / (Vec3::ONE - r)).powf(0.5);
    (n, k)
}

/// A conductor's unpolarised Fresnel reflectance at `cos` from its complex index n + ik, as
/// MoonRay's `ConductorFresnel::eval` writes it (moonray lib/rendering/shading/bsdf/Fresnel.h):
/// the common approximation that takes the outside medium's index as 1.
pub fn fresnel_conductor(cos: f32, eta: Vec3, k: Vec3) -> Vec3 {
    let c2 = cos * cos;
    let factor = eta * eta + k * k;
    let tmp = factor * c2;
    let two_eta_c = 2.0 * eta * cos;
    let parallel = (tmp - two_eta_c + Vec3::ONE) / (tmp + two_eta_c + Vec3::ONE);
    let perp = (factor - two_eta_c + Vec3::splat(c2)) / (factor + two_eta_c + Vec3::splat(c2));
    0.5 * (parallel + perp)
}

/// Unpolarised Fresnel reflectance for light arriving at `cos_i` from the side where the
/// relative index of refraction is `eta` (inside / outside).
pub fn fresnel_dielectric(cos_i: f32, eta: f32) -> f32 {
    let (cos_i, eta) = if cos_i < 0.0 {
        (-cos_i, 1.0 / eta)
    } else {
        (cos_i, eta)
    };
    let sin2_t = (1.0 - cos_i * cos_i).max(0.0) / (eta * eta);
    if sin2_t >= 1.0 {
        return 1.0;
    }
    let cos_t = (1.0 - sin2_t).sqrt();
    let rs = (cos_i - eta * cos_t) / (cos_i + eta * cos_t);
    let rp = (eta * cos_i - cos_t) / (eta * cos_i + cos_t);
    0.5 * (rs * rs + rp * rp)
}
