//! Materials and their scattering functions, evaluated in a local frame where the shading
//! normal is +Z.
//!
//! A material becomes a [`Bsdf`] at a hit: a weighted mix of lobes (Lambertian diffuse, GGX
//! microfacet reflection with dielectric or conductor Fresnel, smooth dielectric transmission)
//! that can be evaluated for next-event estimation and sampled for the next bounce, with the
//! probability densities multiple importance sampling needs.

use glam::{Vec2, Vec3};
use std::f32::consts::PI;

/// Below this GGX alpha a lobe is treated as a perfect mirror.
const SMOOTH_ALPHA: f32 = 1e-3;

#[derive(Debug, Clone, PartialEq)]
pub enum Material {
    /// DwaBaseMaterial's diffuse + dielectric specular + metal mix.
    Base {
        albedo: Vec3,
        /// Weight of the dielectric specular lobe (MoonRay: 0 or 1).
        specular: f32,
        roughness: f32,
        metallic: f32,
        ior: f32,
        emission: Vec3,
    },
    /// A conductor: GGX with Schlick's Fresnel from the colour at normal incidence.
    Metal {
        color: Vec3,
        roughness: f32,
        emission: Vec3,
    },
    /// Glass-like: Fresnel-weighted reflection and refraction (thin: no bending).
    Dielectric {
        tint: Vec3,
        ior: f32,
        roughness: f32,
        thin: bool,
        emission: Vec3,
    },
    /// Pure emitter that also reflects nothing.
    Emissive { radiance: Vec3 },
    /// A linear mix of two BSDFs and emissions, `(1 - t) * a + t * b`: how the layering
    /// materials combine two materials whose parameters cannot be blended here.
    Mix {
        a: Box<Material>,
        b: Box<Material>,
        t: f32,
    },
    /// Attributes bound to maps, or a material chosen per shading point: resolved into one of
    /// the others at each hit (`shading::resolve`) before it scatters or emits.
    Shaded(Box<crate::shading::Shader>),
}

impl Material {
    pub fn grey() -> Material {
        Material::Base {
            albedo: Vec3::splat(0.5),
            specular: 0.0,
            roughness: 0.5,
            metallic: 0.0,
            ior: 1.5,
            emission: Vec3::ZERO,
        }
    }

    pub fn emission(&self) -> Vec3 {
        match self {
            Material::Base { emission, .. }
            | Material::Metal { emission, .. }
            | Material::Dielectric { emission, .. } => *emission,
            Material::Emissive { radiance } => *radiance,
            Material::Mix { a, b, t } => a.emission().lerp(b.emission(), *t),
            // Resolved before use; unresolved it emits nothing.
            Material::Shaded(_) => Vec3::ZERO,
        }
    }

    /// Whether the material refracts, so that shading needs the true outward normal.
    pub fn transmits(&self) -> bool {
        match self {
            Material::Dielectric { .. } => true,
            Material::Mix { a, b, .. } => a.transmits() || b.transmits(),
            _ => false,
        }
    }
}

/// Which depth budget a bounce spends (MoonRay's per-lobe depth limits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LobeKind {
    Diffuse,
    Glossy,
    Mirror,
}

#[derive(Debug, Clone, Copy)]
pub struct BsdfSample {
    pub wi: Vec3,
    /// f * |cos| / pdf: the throughput factor.
    pub weight: Vec3,
    /// Solid-angle density; meaningless for delta lobes.
    pub pdf: f32,
    pub delta: bool,
    pub kind: LobeKind,
}

#[derive(Debug, Clone, Copy)]
enum Fresnel {
    Dielectric(f32),
    Schlick(Vec3),
}

impl Fresnel {
    fn eval(&self, cos: f32) -> Vec3 {
        match *self {
            Fresnel::Dielectric(eta) => Vec3::splat(fresnel_dielectric(cos, eta)),
            Fresnel::Schlick(f0) => f0 + (Vec3::ONE - f0) * (1.0 - cos).clamp(0.0, 1.0).powi(5),
        }
    }
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

#[derive(Debug, Clone, Copy)]
enum Lobe {
    Lambert(Vec3),
    Ggx {
        alpha: f32,
        fresnel: Fresnel,
        scale: f32,
    },
    Glass {
        tint: Vec3,
        eta: f32,
        thin: bool,
        scale: f32,
    },
}

/// At most this many lobes: three per material, a mix of two materials taking both.
const MAX_LOBES: usize = 6;

/// The scattering function at one shading point, in its local frame.
pub struct Bsdf {
    lobes: [(Lobe, f32); MAX_LOBES],
    count: usize,
}

fn luminance(c: Vec3) -> f32 {
    0.2126 * c.x + 0.7152 * c.y + 0.0722 * c.z
}

impl Bsdf {
    /// `cos_o` is the cosine between the outgoing direction and the shading normal (> 0 for
    /// reflective materials, whose normal the caller turns towards the viewer).
    pub fn new(material: &Material, cos_o: f32) -> Bsdf {
        let mut b = Bsdf {
            lobes: [(Lobe::Lambert(Vec3::ZERO), 0.0); MAX_LOBES],
            count: 0,
        };
        b.add(material, cos_o, 1.0);
        let total: f32 = b.lobes[..b.count].iter().map(|l| l.1).sum();
        if total > 0.0 {
            for l in &mut b.lobes[..b.count] {
                l.1 /= total;
            }
        }
        b
    }

    /// Adds the lobes of `material`, their values and sampling weights scaled by `w`.
    fn add(&mut self, material: &Material, cos_o: f32, w: f32) {
        let b = self;
        match *material {
            Material::Base {
                albedo,
                specular,
                roughness,
                metallic,
                ior,
                ..
            } => {
                let m = metallic.clamp(0.0, 1.0);
                let spec_f = if specular > 0.0 {
                    fresnel_dielectric(cos_o, ior) * specular
                } else {
                    0.0
                };
                let diffuse = albedo * (1.0 - m) * (1.0 - spec_f);
                b.push(Lobe::Lambert(diffuse * w), luminance(diffuse) * w);
                if specular > 0.0 && m < 1.0 {
                    let alpha = roughness * roughness;
                    b.push(
                        Lobe::Ggx {
                            alpha,
                            fresnel: Fresnel::Dielectric(ior),
                            scale: specular * (1.0 - m) * w,
                        },
                        spec_f.max(0.05) * (1.0 - m) * w,
                    );
                }
                if m > 0.0 {
                    b.push(
                        Lobe::Ggx {
                            alpha: roughness * roughness,
                            fresnel: Fresnel::Schlick(albedo),
                            scale: m * w,
                        },
                        m * w,
                    );
                }
            }
            Material::Metal {
                color, roughness, ..
            } => {
                b.push(
                    Lobe::Ggx {
                        alpha: roughness * roughness,
                        fresnel: Fresnel::Schlick(color),
                        scale: w,
                    },
                    w,
                );
            }
            Material::Dielectric {
                tint, ior, thin, ..
            } => {
                b.push(
                    Lobe::Glass {
                        tint,
                        eta: ior,
                        thin,
                        scale: w,
                    },
                    w,
                );
            }
            Material::Emissive { .. } | Material::Shaded(_) => {}
            Material::Mix {
                ref a,
                b: ref b2,
                t,
            } => {
                b.add(a, cos_o, w * (1.0 - t));
                b.add(b2, cos_o, w * t);
            }
        }
    }

    fn push(&mut self, lobe: Lobe, weight: f32) {
        if weight > 0.0 && !weight.is_nan() && self.count < MAX_LOBES {
            self.lobes[self.count] = (lobe, weight);
            self.count += 1;
        }
    }

    /// Whether light sampling can help: some lobe is not a delta.
    pub fn has_smooth_lobes(&self) -> bool {
        self.lobes[..self.count].iter().any(|(l, _)| match l {
            Lobe::Lambert(_) => true,
            Lobe::Ggx { alpha, .. } => *alpha >= SMOOTH_ALPHA,
            Lobe::Glass { .. } => false,
        })
    }

    pub fn is_black(&self) -> bool {
        self.count == 0
    }

    /// f(wo, wi) * |cos wi| and the combined sampling density of wi.
    pub fn eval(&self, wo: Vec3, wi: Vec3) -> (Vec3, f32) {
        let mut f = Vec3::ZERO;
        let mut pdf = 0.0;
        for (lobe, prob) in &self.lobes[..self.count] {
            let (lf, lp) = eval_lobe(lobe, wo, wi);
            f += lf;
            pdf += prob * lp;
        }
        (f, pdf)
    }

    pub fn sample(&self, wo: Vec3, u_lobe: f32, u: Vec2) -> Option<BsdfSample> {
        if self.count == 0 {
            return None;
        }
        let mut pick = self.count - 1;
        let mut acc = 0.0;
        for (i, (_, p)) in self.lobes[..self.count].iter().enumerate() {
            acc += p;
            if u_lobe < acc {
                pick = i;
                break;
            }
        }
        let (lobe, prob) = self.lobes[pick];
        match lobe {
            Lobe::Glass {
                tint,
                eta,
                thin,
                scale,
            } => {
                // A delta lobe: choose reflection or refraction by Fresnel.
                let f = if thin {
                    fresnel_dielectric(wo.z.abs(), eta)
                } else {
                    fresnel_dielectric(wo.z, eta)
                };
                if u.x < f {
                    let wi = Vec3::new(-wo.x, -wo.y, wo.z);
                    return Some(BsdfSample {
                        wi,
                        weight: Vec3::splat(scale / prob),
                        pdf: 0.0,
                        delta: true,
                        kind: LobeKind::Mirror,
                    });
                }
                let wi = if thin { -wo } else { refract(wo, eta)? };
                Some(BsdfSample {
                    wi,
                    weight: tint * (scale / prob),
                    pdf: 0.0,
                    delta: true,
                    kind: LobeKind::Mirror,
                })
            }
            Lobe::Ggx {
                alpha,
                fresnel,
                scale,
            } if alpha < SMOOTH_ALPHA => {
                if wo.z <= 0.0 {
                    return None;
                }
                let wi = Vec3::new(-wo.x, -wo.y, wo.z);
                let w = fresnel.eval(wo.z) * scale / prob;
                Some(BsdfSample {
                    wi,
                    weight: w,
                    pdf: 0.0,
                    delta: true,
                    kind: LobeKind::Mirror,
                })
            }
            _ => {
                let (wi, kind) = match lobe {
                    Lobe::Lambert(_) => (cosine_hemisphere(u), LobeKind::Diffuse),
                    Lobe::Ggx { alpha, .. } => {
                        if wo.z <= 0.0 {
                            return None;
                        }
                        let h = sample_ggx_normal(alpha, u);
                        let wi = 2.0 * wo.dot(h) * h - wo;
                        (wi, LobeKind::Glossy)
                    }
                    Lobe::Glass { .. } => unreachable!(),
                };
                if wi.z <= 0.0 {
                    return None;
                }
                // The density of the whole mixture, so that MIS and the estimator agree.
                let (f, pdf) = self.eval(wo, wi);
                if pdf <= 0.0 {
                    return None;
                }
                Some(BsdfSample {
                    wi,
                    weight: f / pdf,
                    pdf,
                    delta: false,
                    kind,
                })
            }
        }
    }
}

fn eval_lobe(lobe: &Lobe, wo: Vec3, wi: Vec3) -> (Vec3, f32) {
    if wo.z <= 0.0 || wi.z <= 0.0 {
        return (Vec3::ZERO, 0.0);
    }
    match *lobe {
        Lobe::Lambert(albedo) => (albedo * (wi.z / PI), wi.z / PI),
        Lobe::Ggx {
            alpha,
            fresnel,
            scale,
        } => {
            if alpha < SMOOTH_ALPHA {
                return (Vec3::ZERO, 0.0);
            }
            let h = (wo + wi).normalize();
            let d = ggx_d(h.z, alpha);
            let g = smith_g1(wo.z, alpha) * smith_g1(wi.z, alpha);
            let f = fresnel.eval(wo.dot(h)) * scale;
            let value = f * (d * g / (4.0 * wo.z));
            let pdf = d * h.z / (4.0 * wo.dot(h));
            (value, pdf)
        }
        Lobe::Glass { .. } => (Vec3::ZERO, 0.0),
    }
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

pub fn cosine_hemisphere(u: Vec2) -> Vec3 {
    let r = u.x.sqrt();
    let phi = 2.0 * PI * u.y;
    Vec3::new(r * phi.cos(), r * phi.sin(), (1.0 - u.x).max(0.0).sqrt())
}

/// Refraction through a smooth interface whose normal is +Z; `eta` is inside / outside and
/// `wo.z < 0` means the ray leaves the inside. None on total internal reflection (the caller
/// then has already chosen reflection with probability 1).
fn refract(wo: Vec3, eta: f32) -> Option<Vec3> {
    let (n, eta) = if wo.z > 0.0 {
        (Vec3::Z, eta)
    } else {
        (Vec3::NEG_Z, 1.0 / eta)
    };
    let cos_i = wo.dot(n);
    let sin2_t = (1.0 - cos_i * cos_i).max(0.0) / (eta * eta);
    if sin2_t >= 1.0 {
        return None;
    }
    let cos_t = (1.0 - sin2_t).sqrt();
    Some(-wo / eta + (cos_i / eta - cos_t) * n)
}

/// An orthonormal frame around a unit normal.
#[derive(Debug, Clone, Copy)]
pub struct Frame {
    pub t: Vec3,
    pub b: Vec3,
    pub n: Vec3,
}

impl Frame {
    pub fn new(n: Vec3) -> Frame {
        // Duff et al.'s branchless basis.
        let sign = 1.0f32.copysign(n.z);
        let a = -1.0 / (sign + n.z);
        let b = n.x * n.y * a;
        Frame {
            t: Vec3::new(1.0 + sign * n.x * n.x * a, sign * b, -sign * n.x),
            b: Vec3::new(b, sign + n.y * n.y * a, -n.y),
            n,
        }
    }
    pub fn to_local(&self, v: Vec3) -> Vec3 {
        Vec3::new(v.dot(self.t), v.dot(self.b), v.dot(self.n))
    }
    pub fn to_world(&self, v: Vec3) -> Vec3 {
        self.t * v.x + self.b * v.y + self.n * v.z
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampler::Rng;

    /// The albedo of a BSDF by Monte Carlo over its own sampling: sum of weights / n.
    fn albedo(m: &Material, wo: Vec3) -> Vec3 {
        let bsdf = Bsdf::new(m, wo.z);
        let mut s = Rng::new(3, 0, 0, 0, 0);
        let n = 200_000;
        let mut sum = Vec3::ZERO;
        for _ in 0..n {
            if let Some(bs) = bsdf.sample(wo, s.uniform(), s.uniform2()) {
                sum += bs.weight;
            }
        }
        sum / n as f32
    }

    #[test]
    fn lambert_reflects_its_albedo() {
        let m = Material::Base {
            albedo: Vec3::splat(0.8),
            specular: 0.0,
            roughness: 0.5,
            metallic: 0.0,
            ior: 1.5,
            emission: Vec3::ZERO,
        };
        let a = albedo(&m, Vec3::new(0.3, 0.0, 0.954).normalize());
        assert!((a - Vec3::splat(0.8)).abs().max_element() < 0.005, "{a}");
    }

    #[test]
    fn a_white_smooth_metal_reflects_everything_and_rough_metal_nearly() {
        let wo = Vec3::new(0.5, 0.0, 0.866).normalize();
        let smooth = albedo(
            &Material::Metal {
                color: Vec3::ONE,
                roughness: 0.0,
                emission: Vec3::ZERO,
            },
            wo,
        );
        assert!((smooth - Vec3::ONE).abs().max_element() < 1e-4, "{smooth}");
        let rough = albedo(
            &Material::Metal {
                color: Vec3::ONE,
                roughness: 0.3,
                emission: Vec3::ZERO,
            },
            wo,
        );
        // Single-scattering GGX loses a little energy at moderate roughness, never gains.
        assert!(rough.x > 0.9 && rough.x <= 1.0, "{rough}");
    }

    #[test]
    fn sampled_weights_match_eval_over_pdf() {
        let m = Material::Base {
            albedo: Vec3::new(0.5, 0.4, 0.3),
            specular: 1.0,
            roughness: 0.4,
            metallic: 0.3,
            ior: 1.5,
            emission: Vec3::ZERO,
        };
        let wo = Vec3::new(0.2, 0.1, 0.97).normalize();
        let bsdf = Bsdf::new(&m, wo.z);
        let mut s = Rng::new(9, 0, 0, 0, 0);
        for _ in 0..1000 {
            if let Some(bs) = bsdf.sample(wo, s.uniform(), s.uniform2()) {
                let (f, pdf) = bsdf.eval(wo, bs.wi);
                assert!((pdf - bs.pdf).abs() <= 1e-3 * pdf.max(1.0));
                assert!(((f / pdf) - bs.weight).abs().max_element() < 1e-3);
            }
        }
    }

    #[test]
    fn glass_conserves_energy() {
        let wo = Vec3::new(0.3, 0.0, 0.954).normalize();
        let a = albedo(
            &Material::Dielectric {
                tint: Vec3::ONE,
                ior: 1.5,
                roughness: 0.0,
                thin: false,
                emission: Vec3::ZERO,
            },
            wo,
        );
        assert!((a - Vec3::ONE).abs().max_element() < 1e-4, "{a}");
        assert!((fresnel_dielectric(1.0, 1.5) - 0.04).abs() < 1e-4);
    }

    #[test]
    fn frames_are_orthonormal() {
        for n in [Vec3::Z, Vec3::NEG_Z, Vec3::new(0.3, -0.5, 0.1).normalize()] {
            let f = Frame::new(n);
            assert!(
                f.t.dot(f.b).abs() < 1e-5
                    && f.t.dot(n).abs() < 1e-5
                    && (f.t.length() - 1.0).abs() < 1e-5
            );
            let v = Vec3::new(0.1, 0.7, -0.2);
            assert!((f.to_world(f.to_local(v)) - v).length() < 1e-5);
        }
    }
}
