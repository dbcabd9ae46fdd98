//! Microfacet normal distributions (GGX and Beckmann): their densities, Smith shadowing and
//! sampling, as MoonRay's cook_torrance lobes write them.

use glam::{Vec2, Vec3};
use std::f32::consts::PI;

/// A specular lobe's microfacet normal distribution, MoonRay's `specular_model` (moonshine
/// lib/material/dwabase/json/specular.json: Beckmann 0, GGX 1, the default), both with the
/// separable Smith shadowing of moonray's cook_torrance/BsdfCookTorrance.cc (Beckmann's as
/// Walter et al.'s rational fit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Microfacet {
    Beckmann,
    #[default]
    Ggx,
}

impl Microfacet {
    /// MoonRay's `specular_model` value: 0 is Beckmann, anything else GGX.
    pub fn from_model(model: i64) -> Microfacet {
        if model == 0 {
            Microfacet::Beckmann
        } else {
            Microfacet::Ggx
        }
    }

    pub(crate) fn d(self, cos_h: f32, alpha: f32) -> f32 {
        match self {
            Microfacet::Ggx => ggx_d(cos_h, alpha),
            Microfacet::Beckmann => beckmann_d(cos_h, alpha),
        }
    }

    pub(crate) fn g1(self, cos: f32, alpha: f32) -> f32 {
        match self {
            Microfacet::Ggx => smith_g1(cos, alpha),
            Microfacet::Beckmann => beckmann_g1(cos, alpha),
        }
    }

    /// A microfacet normal with density D(m) cos(m).
    pub(crate) fn sample(self, alpha: f32, u: Vec2) -> Vec3 {
        match self {
            Microfacet::Ggx => sample_ggx_normal(alpha, u),
            Microfacet::Beckmann => sample_beckmann_normal(alpha, u),
        }
    }
}

pub(crate) fn beckmann_d(cos_h: f32, alpha: f32) -> f32 {
    let c2 = cos_h * cos_h;
    let a2 = alpha * alpha;
    ((c2 - 1.0) / (c2 * a2)).exp() / (PI * a2 * c2 * c2)
}

/// The rational approximation of Beckmann's Smith G1 (Walter et al. 2007, eq. 27), as MoonRay
/// uses it.
pub(crate) fn beckmann_g1(cos: f32, alpha: f32) -> f32 {
    let sin = (1.0 - cos * cos).max(0.0).sqrt();
    if sin <= 0.0 {
        return 1.0;
    }
    let a = cos / (alpha * sin);
    if a < 1.6 {
        (3.535 * a + 2.181 * a * a) / (1.0 + 2.276 * a + 2.577 * a * a)
    } else {
        1.0
    }
}

/// A microfacet normal with density D(m) cos(m) for Beckmann (Walter et al., eq. 28, 29).
fn sample_beckmann_normal(alpha: f32, u: Vec2) -> Vec3 {
    let tan2 = -alpha * alpha * (1.0 - u.x).max(1e-12).ln();
    let cos = 1.0 / (1.0 + tan2).sqrt();
    let sin = (1.0 - cos * cos).max(0.0).sqrt();
    let phi = 2.0 * PI * u.y;
    Vec3::new(sin * phi.cos(), sin * phi.sin(), cos)
}

fn ggx_d(cos_h: f32, alpha: f32) -> f32 {
    let a2 = alpha * alpha;
    let c2 = cos_h * cos_h;
    let denom = c2 * (a2 - 1.0) + 1.0;
    a2 / (PI * denom * denom)
}

fn smith_g1(cos: f32, alpha: f32) -> f32 {
    let a2 = alpha * alpha;
    2.0 * cos / (cos + (a2 + (1.0 - a2) * cos * cos).sqrt())
}

fn sample_ggx_normal(alpha: f32, u: Vec2) -> Vec3 {
    let a2 = alpha * alpha;
    let cos2 = (1.0 - u.x) / (1.0 + (a2 - 1.0) * u.x);
    let cos = cos2.sqrt();
    let sin = (1.0 - cos2).max(0.0).sqrt();
    let phi = 2.0 * PI * u.y;
    Vec3::new(sin * phi.cos(), sin * phi.sin(), cos)
}
