//! Materials and their scattering functions, evaluated in a local frame where the shading
//! normal is +Z.
//!
//! A material becomes a [`Bsdf`] at a hit: a weighted mix of lobes (Lambertian diffuse,
//! microfacet reflection with dielectric or conductor Fresnel, smooth and rough dielectric
//! reflection and refraction, layered as MoonRay's DwaBase layers them) that can be evaluated
//! for next-event estimation and sampled for the next bounce, with the probability densities
//! multiple importance sampling needs. The distributions are in `microfacet`, the Fresnel
//! terms in `fresnel`.

use crate::fresnel::Fresnel;
pub use crate::fresnel::{artist_friendly_ior, fresnel_conductor, fresnel_dielectric};
pub use crate::microfacet::Microfacet;
use crate::microfacet::{beckmann_d, beckmann_g1};
use glam::{Vec2, Vec3};
use std::f32::consts::PI;

/// Below this GGX alpha a lobe is treated as a perfect mirror.
const SMOOTH_ALPHA: f32 = 1e-3;

#[derive(Debug, Clone, PartialEq)]
pub enum Material {
    /// DwaBaseMaterial's diffuse + dielectric specular + metal mix.
    Base {
        albedo: Vec3,
        /// Weight of the specular lobes, dielectric and metallic (MoonRay: 0 or 1).
        specular: f32,
        roughness: f32,
        metallic: f32,
        /// The metal's reflectivity at normal incidence and at grazing angles
        /// (`metallic_color`, `metallic_edge_color`), for the artist-friendly Fresnel.
        metal_color: Vec3,
        edge_color: Vec3,
        ior: f32,
        /// The specular lobes' microfacet distribution (`specular_model`).
        specular_model: Microfacet,
        /// The share of what the metal leaves that the dielectric refracts rather than the
        /// diffuse lobe takes (`transmission`), tinted by `transmission_color`.
        transmission: f32,
        transmission_color: Vec3,
        /// `thin_geometry`: transmission passes straight through, unbent.
        thin: bool,
        emission: Vec3,
    },
    /// A conductor: GGX with MoonRay's artist-friendly conductor Fresnel from the colour at
    /// normal incidence and at the edge, weighted by `specular` (DwaMetalMaterial's
    /// `specular`, in [0, 1]; 0 when `show_specular` is off).
    Metal {
        color: Vec3,
        edge_color: Vec3,
        roughness: f32,
        specular: f32,
        specular_model: Microfacet,
        emission: Vec3,
    },
    /// Glass-like: Fresnel-weighted reflection and refraction (thin: no bending).
    Dielectric {
        tint: Vec3,
        ior: f32,
        roughness: f32,
        thin: bool,
        /// Weight of the reflection (`specular`); the refraction's is one.
        specular: f32,
        /// The reflection's distribution; MoonRay's refraction is always Beckmann.
        specular_model: Microfacet,
        emission: Vec3,
    },
    /// Pure emitter that also reflects nothing.
    Emissive { radiance: Vec3 },
    /// MoonRay's HairDiffuseMaterial: a Kajiya-Kay diffuse around the hair's tangent, from
    /// `front` (reflection) to `back` (transmission) colour as the two directions turn apart.
    HairDiffuse {
        front: Vec3,
        back: Vec3,
        emission: Vec3,
    },
    /// MoonRay's HairMaterial: its R, TT and TRT lobes about the hair's tangent.
    Hair {
        hair: crate::hair::Hair,
        emission: Vec3,
    },
    /// `base` with a GGX reflection added on top, not attenuating it (MoonRay's
    /// BSDFBUILDER_ADDITIVE): UsdPreviewSurface's clearcoat (dielectric Fresnel of `ior`) and
    /// its specular workflow's specular (Schlick from `f0`, the specularColor).
    /// With `under`, the coat is MoonRay's DwaBase outer specular (DwaSkin's moisture, a
    /// clearcoat without thickness or bending): `base` lies under it, attenuated by one minus
    /// its weight times its rough Fresnel at wo (moonray lib/rendering/shading/
    /// LobeAttenuator.h, ClearcoatAttenuator with OneMinusRoughFresnel).
    Coated {
        base: Box<Material>,
        weight: f32,
        roughness: f32,
        ior: f32,
        f0: Option<Vec3>,
        dist: Microfacet,
        under: bool,
    },
    /// MoonRay's DwaToonMaterial: DwaBase (`base`, a `Base`) with its diffuse lobe replaced by
    /// a toon diffuse (moonshine lib/material/dwabase/DwaBaseLayerable.cc: the ToonBRDF ramp,
    /// or the FlatDiffuseBRDF where DwaBase has its Oren-Nayar), under the same attenuation.
    /// With `specular` (`specular_model` Toon), MoonRay's ToonSpecularBsdfLobe takes the
    /// dielectric specular's place (its weight `specular` (1 - `specular`)) and the lobes
    /// under it keep one minus its Fresnel.
    Toon {
        base: Box<Material>,
        diffuse: Box<ToonDiffuse>,
        specular: Option<Box<ToonSpecular>>,
    },
    /// MoonRay's DwaFabricMaterial: the warp and weft threads' DwaFabric lobes, weights
    /// `specular` times `coverage` and times one minus it, over a Lambert diffuse that keeps
    /// what the threads' weights leave (moonshine lib/material/dwabase/DwaBaseLayerable.cc).
    Fabric {
        albedo: Vec3,
        /// One minus `fabric_diffuse_scattering` (0 with `show_specular` off).
        specular: f32,
        /// `warp_thread_coverage`.
        coverage: f32,
        warp: Thread,
        weft: Thread,
        emission: Vec3,
    },
    /// MoonRay's DwaVelvetMaterial_v2: a velvet (fuzz) lobe of weight `fuzz` over a Lambert
    /// diffuse attenuated by one minus the fuzz's albedo (MoonRay's VelvetAttenuator).
    Velvet {
        albedo: Vec3,
        fuzz: f32,
        fuzz_color: Vec3,
        /// The lobe's roughness (0.05 + `fuzz_coverage`, clamped to [0, 1]).
        roughness: f32,
        /// `use_absorbing_fuzz_fibers`: the fuzz takes its full albedo from the diffuse, not
        /// its albedo times its colour's largest component.
        absorbing: bool,
        emission: Vec3,
    },
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

/// One thread family of a DwaFabricMaterial: its highlight's colour and roughness, and its
/// direction in the shading frame (unit, elevation applied).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thread {
    pub color: Vec3,
    pub roughness: f32,
    pub dir: Vec3,
}

impl Thread {
    /// MoonRay's thread direction (moonray lib/rendering/shading/bsdf/fabric/BsdfFabric.cc,
    /// calculateThreadDirection): `dir` in the frame (tangent, bitangent, normal), rotated by
    /// `elevation_deg` in the tangent-normal plane.
    pub fn direction(dir: Vec3, elevation_deg: f32) -> Vec3 {
        let (s, c) = elevation_deg.to_radians().sin_cos();
        Vec3::new(dir.x * c - dir.z * s, dir.y, dir.x * s + dir.z * c)
            .try_normalize()
            .unwrap_or(Vec3::X)
    }
}

/// MoonRay's DwaFabric normalisation for exponents 1 to 31, 1 / (4 pi integral of
/// (1 - sin x)^N (1 - 2 sin^2 x) over [0, pi/4]) (moonray
/// lib/rendering/shading/bsdf/fabric/BsdfDwaFabric.cc, precomputedDwaFabricNormalizationFactor).
const FABRIC_NORMALIZATION: [f32; 31] = [
    0.41788, 0.52691, 0.64072, 0.76163, 0.88620, 1.00729, 1.13352, 1.26158, 1.39352, 1.52527,
    1.64034, 1.78520, 1.91616, 2.01158, 2.18194, 2.27028, 2.41961, 2.54223, 2.69755, 2.81754,
    2.98730, 3.07603, 3.22963, 3.28170, 3.48190, 3.61855, 3.75108, 3.83304, 3.96912, 4.09358,
    4.27677,
];

/// MoonRay's velvet normalisation integrals for roughness 0.05 to 1 in steps of 0.05 (moonray
/// lib/rendering/shading/ispc/bsdf/fabric/BsdfFabricVelvet.ispc,
/// BsdfFabricVelvet_precomputedNormalizationTable); the lobe divides by them.
const VELVET_NORMALIZATION: [f32; 20] = [
    0.20789, 0.43665, 0.62931, 0.78663, 0.91573, 1.02585, 1.10919, 1.18676, 1.25177, 1.30365,
    1.35732, 1.39961, 1.43324, 1.48466, 1.50755, 1.53596, 1.56253, 1.58541, 1.60406, 1.62693,
];

/// A DwaFabric lobe's exponent and normalisation for a roughness: MoonRay clamps it to
/// [0.05, 1] and maps it to an integer exponent ceil(1 + 29 (1 - r)^2).
fn fabric_exponent(roughness: f32) -> (f32, f32) {
    let g = 1.0 - roughness.clamp(0.05, 1.0);
    let n = (1.0 + 29.0 * g * g).ceil();
    (n, FABRIC_NORMALIZATION[((n - 1.0) as usize).min(30)])
}

/// A velvet lobe's exponent (1 / r) and normalisation (the table's reciprocal at index
/// floor(20 r - 1)), r clamped to [0.05, 1] (moonray BsdfFabricVelvet.cc).
fn velvet_exponent(roughness: f32) -> (f32, f32) {
    let r = roughness.clamp(0.05, 1.0);
    let i = ((r * 20.0).floor() - 1.0).clamp(0.0, 19.0) as usize;
    (1.0 / r, 1.0 / VELVET_NORMALIZATION[i])
}

/// The velvet lobe's f |cos| for a white colour, wo and wi in the upper hemisphere: the
/// normalisation times sin(N, H)^exponent times cos wi twice (MoonRay's extra cosine softens
/// the terminator, MOONSHINE-921).
fn velvet(exponent: f32, norm: f32, wo: Vec3, wi: Vec3) -> f32 {
    if wo.z <= 1e-6 || wi.z <= 1e-6 {
        return 0.0;
    }
    let Some(h) = (wo + wi).try_normalize() else {
        return 0.0;
    };
    let c = h.z.clamp(-0.99, 0.99);
    norm * (1.0 - c * c).sqrt().powf(exponent) * wi.z * wi.z
}

/// The velvet lobe's albedo (white) seen from cos theta_o = `cos_o`, for MoonRay's
/// VelvetAttenuator: MoonRay reads it from a table it ships (VelvetAlbedo); here the table is
/// this lobe's own: the integral of sin(N, h)^(1 / r) cos^2 wi over the hemisphere (midpoint
/// rule, 64 x 128 directions per entry), computed once at 33 cosines and 39 roughnesses
/// (0.05 to 1 in steps of 0.025), interpolated bilinearly and times the normalisation.
fn velvet_albedo(cos_o: f32, roughness: f32) -> f32 {
    use std::sync::OnceLock;
    const COS_STEPS: usize = 33;
    const R_STEPS: usize = 39;
    let r_at = |i: usize| 0.05 + 0.025 * i as f32;
    static TABLE: OnceLock<Vec<f32>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = Vec::with_capacity(R_STEPS * COS_STEPS);
        for ri in 0..R_STEPS {
            let e = 1.0 / r_at(ri);
            for ci in 0..COS_STEPS {
                let co = (ci as f32 / (COS_STEPS - 1) as f32).max(1e-3);
                let wo = Vec3::new((1.0 - co * co).sqrt(), 0.0, co);
                let (nt, np) = (64, 128);
                let mut sum = 0.0f64;
                for i in 0..nt {
                    let z = (i as f32 + 0.5) / nt as f32;
                    let r = (1.0 - z * z).sqrt();
                    for j in 0..np {
                        let phi = (j as f32 + 0.5) * 2.0 * PI / np as f32;
                        let wi = Vec3::new(r * phi.cos(), r * phi.sin(), z);
                        sum += f64::from(velvet(e, 1.0, wo, wi));
                    }
                }
                t.push((sum * f64::from(2.0 * PI) / f64::from(nt * np)) as f32);
            }
        }
        t
    });
    let r = roughness.clamp(0.05, 1.0);
    let lerp_index = |x: f32, n: usize| {
        let i = (x.floor().max(0.0) as usize).min(n - 2);
        (i, (x - i as f32).clamp(0.0, 1.0))
    };
    let (ri, rf) = lerp_index((r - 0.05) / 0.025, R_STEPS);
    let (ci, cf) = lerp_index(cos_o.clamp(0.0, 1.0) * (COS_STEPS - 1) as f32, COS_STEPS);
    let at = |ri: usize, ci: usize| table[ri * COS_STEPS + ci];
    let row = |ri: usize| at(ri, ci) + (at(ri, ci + 1) - at(ri, ci)) * cf;
    let integral = row(ri) + (row(ri + 1) - row(ri)) * rf;
    integral * velvet_exponent(r).1
}

/// At most this many points on a toon ramp (moonshine's DWABASE_MAX_TOOND_RAMP_POINTS).
pub const MAX_RAMP_POINTS: usize = 10;

/// A toon ramp: positions, colours and moonray's RampControl interpolation mode of the span
/// after each point (see `shading::ramp_1d`), sorted by position.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ramp {
    len: usize,
    knots: [(f32, Vec3, i64); MAX_RAMP_POINTS],
}

impl Ramp {
    /// The first [`MAX_RAMP_POINTS`] of `knots`, sorted by position.
    pub fn new(knots: &[(f32, Vec3, i64)]) -> Ramp {
        let mut r = Ramp {
            len: knots.len().min(MAX_RAMP_POINTS),
            knots: [(0.0, Vec3::ZERO, 0); MAX_RAMP_POINTS],
        };
        r.knots[..r.len].copy_from_slice(&knots[..r.len]);
        r.knots[..r.len].sort_by(|a, b| a.0.total_cmp(&b.0));
        r
    }

    pub fn eval(&self, x: f32) -> Vec3 {
        crate::shading::ramp_1d(&self.knots[..self.len], x)
    }
}

/// DwaToonMaterial's Toon specular (moonray lib/rendering/shading/bsdf/npr/BsdfToon.cc,
/// ToonSpecularBsdfLobe, as BsdfBuilder.cc adds it): a highlight read from a float ramp (here
/// its values in all three channels) by the angle between wo and wi's mirror, lit by lights
/// only (MoonRay samples it only with `toon_specular_enable_indirect_reflections`).
#[derive(Debug, Clone, PartialEq)]
pub struct ToonSpecular {
    pub intensity: f32,
    pub fresnel_blend: f32,
    pub tint: Vec3,
    pub ramp: Ramp,
    pub input_scale: f32,
    /// The roughness of the attenuation of what lies under it
    /// (`toon_specular_indirect_reflections_roughness`).
    pub under_roughness: f32,
    /// MoonRay's energy normalisation, 2 pi over the ramp's area on the hemisphere (its value
    /// at x times the band of theta = x pi / 2, in 64 bands), and the ramp's mean over those
    /// bands, which scales its Fresnel.
    norm: f32,
    mean: f32,
}

impl ToonSpecular {
    pub fn new(
        intensity: f32,
        fresnel_blend: f32,
        tint: Vec3,
        ramp: Ramp,
        input_scale: f32,
        under_roughness: f32,
    ) -> ToonSpecular {
        let n = 64;
        let dx = 1.0 / n as f32;
        let (mut area, mut sum) = (0.0, 0.0);
        for i in 0..n {
            let r = ramp.eval((i as f32 * dx + 0.5 * dx) / input_scale).x;
            sum += r;
            let (t0, t1) = (
                i as f32 * dx * std::f32::consts::FRAC_PI_2,
                (i + 1) as f32 * dx * std::f32::consts::FRAC_PI_2,
            );
            area += 2.0 * PI * (t0.cos() - t1.cos()) * r;
        }
        ToonSpecular {
            intensity,
            fresnel_blend,
            tint,
            ramp,
            input_scale,
            under_roughness,
            norm: if area != 0.0 { 2.0 * PI / area } else { 1.0 },
            mean: sum / n as f32,
        }
    }
}

/// DwaToonMaterial's diffuse (`diffuse_model`). Always boxed in a `Material`, so the ramp's
/// size is paid once per toon material, not per variant.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum ToonDiffuse {
    /// `ramp` (1): the ramp's colour at (1 - cos wi) / `input_scale` times the albedo;
    /// `extend` (`extend_ramp`) lights what is below the horizon with the ramp's value at 1.
    Ramp {
        ramp: Ramp,
        input_scale: f32,
        extend: bool,
    },
    /// `oren-nayar` (0): MoonRay's FlatDiffuseBsdfLobe, Oren-Nayar of `roughness` about a
    /// normal bent towards the light by `flatness`, its falloff reshaped by
    /// `terminator_shift` and the bending faded near the terminator by `falloff`.
    Flat {
        roughness: f32,
        terminator_shift: f32,
        flatness: f32,
        falloff: f32,
    },
}

impl Material {
    pub fn grey() -> Material {
        Material::Base {
            albedo: Vec3::splat(0.5),
            specular: 0.0,
            roughness: 0.5,
            metallic: 0.0,
            metal_color: Vec3::ONE,
            edge_color: Vec3::ONE,
            ior: 1.5,
            specular_model: Microfacet::Ggx,
            transmission: 0.0,
            transmission_color: Vec3::ONE,
            thin: false,
            emission: Vec3::ZERO,
        }
    }

    pub fn emission(&self) -> Vec3 {
        match self {
            Material::Base { emission, .. }
            | Material::Metal { emission, .. }
            | Material::Dielectric { emission, .. }
            | Material::HairDiffuse { emission, .. }
            | Material::Fabric { emission, .. }
            | Material::Velvet { emission, .. }
            | Material::Hair { emission, .. } => *emission,
            Material::Emissive { radiance } => *radiance,
            Material::Mix { a, b, t } => a.emission().lerp(b.emission(), *t),
            Material::Coated { base, .. } | Material::Toon { base, .. } => base.emission(),
            // Resolved before use; unresolved it emits nothing.
            Material::Shaded(_) => Vec3::ZERO,
        }
    }

    /// Whether the material scatters around a hair's tangent, so that its BSDF needs one
    /// ([`Bsdf::set_tangent`]).
    pub fn is_hair(&self) -> bool {
        match self {
            Material::HairDiffuse { .. } | Material::Hair { .. } => true,
            Material::Mix { a, b, .. } => a.is_hair() || b.is_hair(),
            Material::Coated { base, .. } | Material::Toon { base, .. } => base.is_hair(),
            _ => false,
        }
    }

    /// Whether the material refracts, so that shading needs the true outward normal.
    pub fn transmits(&self) -> bool {
        match self {
            Material::Dielectric { .. } => true,
            // A thin one is the same seen from either side: it shades the side seen.
            Material::Base {
                transmission, thin, ..
            } => *transmission > 0.0 && !thin,
            Material::Mix { a, b, .. } => a.transmits() || b.transmits(),
            Material::Coated { base, .. } | Material::Toon { base, .. } => base.transmits(),
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
enum Lobe {
    Lambert(Vec3),
    Ggx {
        alpha: f32,
        dist: Microfacet,
        fresnel: Fresnel,
        scale: f32,
    },
    Glass {
        tint: Vec3,
        eta: f32,
        thin: bool,
        /// Scales of the reflection and of the refraction.
        reflect: f32,
        refract: f32,
    },
    /// A rough dielectric's reflection, from either side: GGX with the dielectric Fresnel of
    /// the side `wo` is on (a thin surface is entered from both sides).
    DielectricGgx {
        alpha: f32,
        dist: Microfacet,
        eta: f32,
        thin: bool,
        scale: f32,
    },
    /// A rough dielectric's refraction (Walter et al. 2007) with MoonRay's Beckmann
    /// distribution, weighted by one minus the Fresnel of the reflection it pairs with.
    RoughRefract {
        alpha: f32,
        eta: f32,
        tint: Vec3,
        scale: f32,
    },
    /// Light passing straight through a thin rough dielectric (MoonRay's mirror
    /// transmission for thin geometry): a delta lobe, one minus Fresnel at `wo`.
    Pass(Vec3),
    /// MoonRay's HairDiffuseLobe around the unit tangent `t` (local frame), over the whole
    /// sphere of directions.
    HairDiffuse {
        front: Vec3,
        back: Vec3,
        t: Vec3,
    },
    /// MoonRay's ToonBsdfLobe: f |cos| is the ramp's colour at (1 - cos wi) / `input_scale`
    /// times `albedo`, clamped to [0, 1], over 2 pi, times `scale`; `ramp` indexes the Bsdf's
    /// ramps.
    ToonRamp {
        albedo: Vec3,
        scale: f32,
        ramp: u8,
        input_scale: f32,
        extend: bool,
    },
    /// MoonRay's ToonSpecularBsdfLobe for lights only (never sampled, density 0): f |cos| is
    /// `color` times the ramp at (1 - cos(wo, mirror of wi))^0.56 / `input_scale`.
    ToonSpec {
        color: Vec3,
        ramp: u8,
        input_scale: f32,
    },
    /// MoonRay's FlatDiffuseBsdfLobe: Oren-Nayar (Fujii's form, `a` and `b`) about a normal
    /// bent towards wi.
    FlatDiffuse {
        albedo: Vec3,
        a: f32,
        b: f32,
        terminator_shift: f32,
        flatness: f32,
        falloff: f32,
    },
    /// MoonRay's DwaFabricBsdfLobe: f |cos| = `norm` (1 - |sin theta_h|)^`exponent` cos wi
    /// times `color`, theta_h the half vector's angle from the plane square to the unit
    /// `thread`.
    Fabric {
        color: Vec3,
        exponent: f32,
        norm: f32,
        thread: Vec3,
    },
    /// MoonRay's FabricVelvetBsdfLobe (see `velvet`), times `color`.
    Velvet {
        color: Vec3,
        exponent: f32,
        norm: f32,
    },
    /// MoonRay's hair lobes about the unit tangent `t`, `h` across the hair (-1 to 1).
    Hair {
        hair: crate::hair::Hair,
        scale: f32,
        t: Vec3,
        h: f32,
    },
}

/// A dielectric interface to add to a [`Bsdf`]: `reflect` and `refract` scale its two halves.
struct Dielectric {
    tint: Vec3,
    ior: f32,
    roughness: f32,
    thin: bool,
    reflect: f32,
    refract: f32,
    dist: Microfacet,
    cos_o: f32,
}

/// At most this many lobes: four per material (diffuse, dielectric reflection and refraction,
/// metal) and two coats, a mix of two materials taking both.
const MAX_LOBES: usize = 12;

/// The scattering function at one shading point, in its local frame.
pub struct Bsdf {
    /// Not a fixed array: `Lobe` is large (a hair lobe carries its material), and a Bsdf is
    /// made at every hit, so only the lobes pushed are ever written.
    lobes: arrayvec::ArrayVec<(Lobe, f32), MAX_LOBES>,
    /// The toon ramps the `ToonRamp` lobes read: kept beside them so that every lobe does not
    /// grow by a ramp's size, and on the heap (empty, so not allocated, without toon lobes):
    /// inline they doubled the size of every hit's Bsdf and cost 10% on the Cornell box.
    ramps: Vec<Ramp>,
}

/// At most this many toon ramps in one Bsdf (a mix of toon materials).
const MAX_RAMPS: usize = 4;

fn luminance(c: Vec3) -> f32 {
    0.2126 * c.x + 0.7152 * c.y + 0.0722 * c.z
}

impl Bsdf {
    /// `cos_o` is the cosine between the outgoing direction and the shading normal (> 0 for
    /// reflective materials, whose normal the caller turns towards the viewer).
    pub fn new(material: &Material, cos_o: f32) -> Bsdf {
        let mut b = Bsdf::empty();
        b.set(material, cos_o);
        b
    }

    /// A Bsdf of no lobes, to [`set`](Self::set) at each hit: the integrator keeps one per
    /// path and rebuilds it in place, since moving its 1.4 KB of lobe slots out of `new` at
    /// every hit cost a memcpy of them all.
    pub fn empty() -> Bsdf {
        Bsdf {
            lobes: arrayvec::ArrayVec::new(),
            ramps: Vec::new(),
        }
    }

    /// Makes this the Bsdf of `material` at a hit whose `cos_o` is as for [`new`](Self::new).
    pub fn set(&mut self, material: &Material, cos_o: f32) {
        self.lobes.clear();
        self.ramps.clear();
        self.add(material, cos_o, 1.0);
        let total: f32 = self.lobes.iter().map(|l| l.1).sum();
        if total > 0.0 {
            for l in &mut self.lobes {
                l.1 /= total;
            }
        }
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
                metal_color,
                edge_color,
                ior,
                specular_model,
                transmission,
                transmission_color,
                thin,
                ..
            } => {
                // MoonRay weights the metallic lobe by specular * metallic (moonshine
                // lib/material/dwabase/DwaBaseLayerable.cc, `metallicWeight`), and what it
                // leaves goes to the dielectric specular, the transmission (its share
                // `transmission`) and the diffuse under the specular.
                let m = (metallic.clamp(0.0, 1.0) * specular.clamp(0.0, 1.0)).clamp(0.0, 1.0);
                let t = transmission.clamp(0.0, 1.0);
                // The diffuse lies under the specular, attenuated by one minus its Fresnel at
                // wo, moved towards its value at normal incidence the rougher the specular:
                // MoonRay's OneMinusRoughFresnel (moonray lib/rendering/shading/bsdf/Fresnel.h;
                // SimpleAttenuator in LobeAttenuator.h), interpolator 1 - (1 - roughness^2)^3.
                let spec_f = if specular > 0.0 {
                    rough_fresnel(cos_o, ior, roughness) * specular
                } else {
                    0.0
                };
                let diffuse = albedo * (1.0 - m) * (1.0 - t) * (1.0 - spec_f);
                b.push(Lobe::Lambert(diffuse * w), luminance(diffuse) * w);
                if t > 0.0 && m < 1.0 {
                    // MoonRay's coupled MicrofacetIsotropicBSDF (BsdfBuilder.cc): the
                    // dielectric reflection and its refraction, weights specular and
                    // transmission, both under what the metal leaves.
                    b.dielectric(Dielectric {
                        tint: transmission_color,
                        ior,
                        roughness,
                        thin,
                        reflect: specular.max(0.0) * (1.0 - m) * w,
                        refract: t * (1.0 - m) * w,
                        dist: specular_model,
                        cos_o,
                    });
                } else if specular > 0.0 && m < 1.0 {
                    let alpha = roughness * roughness;
                    b.push(
                        Lobe::Ggx {
                            alpha,
                            dist: specular_model,
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
                            dist: specular_model,
                            fresnel: Fresnel::artist_friendly(metal_color, edge_color),
                            scale: m * w,
                        },
                        m * w,
                    );
                }
            }
            Material::Metal {
                color,
                edge_color,
                roughness,
                specular,
                specular_model,
                ..
            } => {
                // DwaMetal is DwaBase with metallic 1: its lobe's weight is specular *
                // metallic (moonshine lib/material/dwabase/DwaBaseLayerable.cc,
                // `metallicWeight`), nothing when it is zero.
                let m = specular.clamp(0.0, 1.0);
                if m > 0.0 {
                    b.push(
                        Lobe::Ggx {
                            alpha: roughness * roughness,
                            dist: specular_model,
                            fresnel: Fresnel::artist_friendly(color, edge_color),
                            scale: m * w,
                        },
                        m * w,
                    );
                }
            }
            Material::Dielectric {
                tint,
                ior,
                roughness,
                thin,
                specular,
                specular_model,
                ..
            } => b.dielectric(Dielectric {
                tint,
                ior,
                roughness,
                thin,
                reflect: specular.max(0.0) * w,
                refract: w,
                dist: specular_model,
                cos_o,
            }),
            Material::HairDiffuse { front, back, .. } => {
                // The tangent is set by `set_tangent`; until then, any direction square to
                // the normal.
                b.push(
                    Lobe::HairDiffuse {
                        front: front * w,
                        back: back * w,
                        t: Vec3::X,
                    },
                    luminance(front + back).max(0.05) * 0.5 * w,
                );
            }
            Material::Coated {
                ref base,
                weight,
                roughness,
                ior,
                f0,
                dist,
                under,
            } => {
                let fresnel = match f0 {
                    Some(f0) => Fresnel::Schlick(f0),
                    None => Fresnel::Dielectric(ior),
                };
                let weight = weight.clamp(0.0, 1.0);
                // MoonRay squares roughness into the GGX alpha (as for every microfacet lobe).
                let r = roughness.clamp(0.0, 1.0);
                let f_o = luminance(fresnel.eval(cos_o.abs()));
                let keep = if under {
                    1.0 - weight * rough_fresnel(cos_o.abs(), ior, r)
                } else {
                    1.0
                };
                b.add(base, cos_o, w * keep);
                b.push(
                    Lobe::Ggx {
                        alpha: r * r,
                        dist,
                        fresnel,
                        scale: weight * w,
                    },
                    f_o.max(0.05) * weight * w,
                );
            }
            Material::Fabric {
                albedo,
                specular,
                coverage,
                warp,
                weft,
                ..
            } => {
                // The thread lobes are MoonRay's BSDFBUILDER_PHYSICAL components: the lobes
                // after them keep one minus the weights of those added (a black thread adds
                // none).
                let fs = specular.clamp(0.0, 1.0);
                let c = coverage.clamp(0.0, 1.0);
                let mut taken = 0.0;
                for (thread, share) in [(warp, c), (weft, 1.0 - c)] {
                    let weight = share * fs;
                    if weight <= 0.0 || thread.color == Vec3::ZERO {
                        continue;
                    }
                    taken += weight;
                    let (exponent, norm) = fabric_exponent(thread.roughness);
                    let color = thread.color * (weight * w);
                    b.push(
                        Lobe::Fabric {
                            color,
                            exponent,
                            norm,
                            thread: thread.dir,
                        },
                        luminance(color).max(0.05 * weight * w),
                    );
                }
                let diffuse = albedo * ((1.0 - taken) * w);
                b.push(Lobe::Lambert(diffuse), luminance(diffuse));
            }
            Material::Velvet {
                albedo,
                fuzz,
                fuzz_color,
                roughness,
                absorbing,
                ..
            } => {
                // MoonRay's VelvetAttenuator (moonray lib/rendering/shading/LobeAttenuator.h):
                // what lies under the fuzz keeps one minus its weight times its albedo at wo,
                // the weight times the colour's largest component unless the fibres absorb.
                let fuzz = fuzz.clamp(0.0, 1.0);
                let (exponent, norm) = velvet_exponent(roughness);
                let color = fuzz_color * (fuzz * w);
                if fuzz > 0.0 {
                    b.push(
                        Lobe::Velvet {
                            color,
                            exponent,
                            norm,
                        },
                        luminance(color).max(0.05 * fuzz * w),
                    );
                }
                let cover = if absorbing {
                    fuzz
                } else {
                    fuzz * fuzz_color.max_element()
                };
                let keep = (1.0 - cover * velvet_albedo(cos_o, roughness)).max(0.0);
                let diffuse = albedo * (keep * w);
                b.push(Lobe::Lambert(diffuse), luminance(diffuse));
            }
            Material::Toon {
                ref base,
                ref diffuse,
                ref specular,
            } => {
                let start = b.lobes.len();
                b.add(base, cos_o, w);
                if let (
                    Some(ts),
                    &Material::Base {
                        specular: s,
                        roughness,
                        ior,
                        metallic,
                        transmission,
                        ..
                    },
                ) = (specular, &**base)
                {
                    b.toon_specular(
                        ts,
                        start,
                        cos_o,
                        w,
                        s,
                        roughness,
                        ior,
                        metallic,
                        transmission,
                    );
                }
                // The base's diffuse is a Lambert lobe of its albedo times a scalar
                // attenuation (what the specular, metal and transmission leave, and `w`): the
                // toon lobe takes its place with the same attenuation.
                let raw = match **base {
                    Material::Base { albedo, .. } => albedo,
                    _ => Vec3::ONE,
                };
                let ramp = match **diffuse {
                    ToonDiffuse::Ramp { ramp, .. } if b.ramps.len() < MAX_RAMPS => {
                        b.ramps.push(ramp);
                        Some((b.ramps.len() - 1) as u8)
                    }
                    _ => None,
                };
                for (lobe, _) in &mut b.lobes[start..] {
                    let Lobe::Lambert(albedo) = *lobe else {
                        continue;
                    };
                    *lobe = match (&**diffuse, ramp) {
                        (
                            ToonDiffuse::Ramp {
                                input_scale,
                                extend,
                                ..
                            },
                            Some(ramp),
                        ) => Lobe::ToonRamp {
                            albedo: raw,
                            scale: if luminance(raw) > 0.0 {
                                luminance(albedo) / luminance(raw)
                            } else {
                                0.0
                            },
                            ramp,
                            input_scale: *input_scale,
                            extend: *extend,
                        },
                        (
                            &ToonDiffuse::Flat {
                                roughness,
                                terminator_shift,
                                flatness,
                                falloff,
                            },
                            _,
                        ) => {
                            // MoonRay's OrenNayarBsdfLobe: s is the square of the roughness
                            // as an angle of up to 90 degrees, in radians.
                            let s =
                                (roughness.clamp(0.0, 1.0) * std::f32::consts::FRAC_PI_2).powi(2);
                            Lobe::FlatDiffuse {
                                albedo,
                                a: 1.0 - 0.5 * s / (s + 0.33),
                                b: 0.45 * s / (s + 0.09),
                                terminator_shift,
                                flatness,
                                falloff,
                            }
                        }
                        // No room for another ramp: the Lambert lobe stays.
                        _ => continue,
                    };
                }
            }
            Material::Hair { hair, .. } => b.push(
                Lobe::Hair {
                    hair,
                    scale: w,
                    t: Vec3::X,
                    h: 0.0,
                },
                w,
            ),
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

    /// DwaToon's Toon specular over the lobes of its base from `start` on (moonshine
    /// lib/material/dwabase/DwaBaseLayerable.cc; moonray BsdfBuilder.cc): under the metal (what
    /// it leaves), weight `s` (DwaBase's specular); the dielectric specular beside it keeps
    /// `s` (1 - `s`) of its weight, and the diffuse under both keeps one minus that one's rough
    /// Fresnel and one minus the toon's (ior 1.5, `under_roughness`, weight `s` times the
    /// ramp's mean). With `transmission`, the coupled dielectric is left as it is.
    #[allow(clippy::too_many_arguments)]
    fn toon_specular(
        &mut self,
        ts: &ToonSpecular,
        start: usize,
        cos_o: f32,
        w: f32,
        s: f32,
        roughness: f32,
        ior: f32,
        metallic: f32,
        transmission: f32,
    ) {
        let s = s.clamp(0.0, 1.0);
        let m = (metallic.clamp(0.0, 1.0) * s).clamp(0.0, 1.0);
        if s <= 0.0 || m >= 1.0 || cos_o <= 0.0 {
            return;
        }
        let f_r = rough_fresnel(cos_o, ior, roughness);
        let f_toon = s * ts.mean * rough_fresnel(cos_o, 1.5, ts.under_roughness);
        let diffuse_keep = (1.0 - s * (1.0 - s) * f_r) / (1.0 - s * f_r).max(1e-6) * (1.0 - f_toon);
        for (lobe, p) in &mut self.lobes[start..] {
            match lobe {
                Lobe::Ggx {
                    fresnel: Fresnel::Dielectric(_),
                    scale,
                    ..
                } if transmission <= 0.0 => {
                    *scale *= 1.0 - s;
                    *p *= 1.0 - s;
                }
                Lobe::Lambert(a) => {
                    *a *= diffuse_keep;
                    *p *= diffuse_keep;
                }
                _ => {}
            }
        }
        if self.ramps.len() >= MAX_RAMPS {
            return;
        }
        self.ramps.push(ts.ramp);
        // f = ramp intensity' tint / pi lerp(scale, norm scale F, blend), intensity' the
        // intensity times its weight `s`, scale what the metal leaves (and `w`), F the
        // Fresnel of ior 1.5 at wo weighted by s times the ramp's mean.
        let scale = (1.0 - m) * w;
        let fresnel = s * ts.mean * fresnel_dielectric(cos_o, 1.5);
        let f = scale + (ts.norm * scale * fresnel - scale) * ts.fresnel_blend;
        let color = ts.tint * (ts.intensity * s * f / PI);
        if color != Vec3::ZERO && !self.lobes.is_full() {
            // Sampling weight 0: never chosen (see `sample`), only lights reach it.
            self.lobes.push((
                Lobe::ToonSpec {
                    color,
                    ramp: (self.ramps.len() - 1) as u8,
                    input_scale: ts.input_scale,
                },
                0.0,
            ));
        }
    }

    /// A dielectric interface's reflection and refraction lobes, smooth or rough.
    fn dielectric(&mut self, d: Dielectric) {
        let Dielectric {
            tint,
            ior,
            roughness,
            thin,
            reflect,
            refract,
            dist,
            cos_o,
        } = d;
        // MoonRay squares roughness into the microfacet alpha (moonray
        // lib/rendering/shading/bsdf/cook_torrance/BsdfTransmissionCookTorrance.cc,
        // "roughness squaring to linearize roughness response").
        let alpha = roughness * roughness;
        if alpha < SMOOTH_ALPHA {
            self.push(
                Lobe::Glass {
                    tint,
                    eta: ior,
                    thin,
                    reflect,
                    refract,
                },
                reflect.max(refract),
            );
            return;
        }
        // MoonRay's MicrofacetIsotropicBSDF (moonray lib/rendering/shading/BsdfBuilder.cc):
        // GGX reflection with the dielectric Fresnel, and a TransmissionCookTorranceBsdfLobe
        // (Beckmann) with one minus that Fresnel; thin geometry transmits straight through.
        let f = if thin {
            fresnel_dielectric(cos_o.abs(), ior)
        } else {
            fresnel_dielectric(cos_o, ior)
        };
        self.push(
            Lobe::DielectricGgx {
                alpha,
                dist,
                eta: ior,
                thin,
                scale: reflect,
            },
            f.max(0.05) * reflect,
        );
        // Never zero: beyond the critical angle at the normal, tilted microfacets still
        // refract.
        let t_prob = (1.0 - f).max(0.05) * luminance(tint).max(0.05) * refract;
        if thin {
            self.push(Lobe::Pass(tint * ((1.0 - f) * refract)), t_prob);
        } else {
            self.push(
                Lobe::RoughRefract {
                    alpha,
                    eta: ior,
                    tint,
                    scale: refract,
                },
                t_prob,
            );
        }
    }

    fn push(&mut self, lobe: Lobe, weight: f32) {
        if weight > 0.0 && !weight.is_nan() && !self.lobes.is_full() {
            self.lobes.push((lobe, weight));
        }
    }

    /// Points the hair lobes along the unit tangent `t`, in the local frame (a curve's
    /// direction at the hit: MoonRay's hair lobes take the hair direction from dPds), `h`
    /// across the hair from -1 to 1 (MoonRay's 2 t - 1 of the curve's st).
    pub fn set_tangent(&mut self, t: Vec3, h: f32) {
        for (lobe, _) in &mut self.lobes {
            match lobe {
                Lobe::HairDiffuse { t: lt, .. } => *lt = t,
                Lobe::Hair { t: lt, h: lh, .. } => {
                    *lt = t;
                    *lh = h;
                }
                _ => {}
            }
        }
    }

    /// Whether light sampling can help: some lobe is not a delta.
    pub fn has_smooth_lobes(&self) -> bool {
        self.lobes.iter().any(|(l, _)| match l {
            Lobe::Lambert(_) => true,
            Lobe::Ggx { alpha, .. } => *alpha >= SMOOTH_ALPHA,
            Lobe::DielectricGgx { .. }
            | Lobe::RoughRefract { .. }
            | Lobe::HairDiffuse { .. }
            | Lobe::ToonRamp { .. }
            | Lobe::FlatDiffuse { .. }
            | Lobe::Fabric { .. }
            | Lobe::Velvet { .. }
            | Lobe::ToonSpec { .. }
            | Lobe::Hair { .. } => true,
            Lobe::Glass { .. } | Lobe::Pass(_) => false,
        })
    }

    pub fn is_black(&self) -> bool {
        self.lobes.is_empty()
    }

    /// f(wo, wi) * |cos wi| and the combined sampling density of wi.
    pub fn eval(&self, wo: Vec3, wi: Vec3) -> (Vec3, f32) {
        let mut f = Vec3::ZERO;
        let mut pdf = 0.0;
        for (lobe, prob) in &self.lobes {
            let (lf, lp) = eval_lobe(lobe, &self.ramps, wo, wi);
            f += lf;
            pdf += prob * lp;
        }
        (f, pdf)
    }

    pub fn sample(&self, wo: Vec3, u_lobe: f32, u: Vec2) -> Option<BsdfSample> {
        if self.lobes.is_empty() {
            return None;
        }
        let mut pick = self.lobes.len() - 1;
        let mut acc = 0.0;
        for (i, (_, p)) in self.lobes.iter().enumerate() {
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
                reflect,
                refract: refract_w,
            } => {
                // A delta lobe: choose reflection or refraction by their Fresnel-weighted
                // scales (by Fresnel alone when the two are equal).
                let f = if thin {
                    fresnel_dielectric(wo.z.abs(), eta)
                } else {
                    fresnel_dielectric(wo.z, eta)
                };
                let (r, t) = (f * reflect, (1.0 - f) * refract_w);
                if r + t <= 0.0 {
                    return None;
                }
                let p_reflect = r / (r + t);
                if u.x < p_reflect {
                    let wi = Vec3::new(-wo.x, -wo.y, wo.z);
                    return Some(BsdfSample {
                        wi,
                        weight: Vec3::splat(r / (p_reflect * prob)),
                        pdf: 0.0,
                        delta: true,
                        kind: LobeKind::Mirror,
                    });
                }
                let wi = if thin { -wo } else { refract(wo, eta)? };
                Some(BsdfSample {
                    wi,
                    weight: tint * (t / ((1.0 - p_reflect) * prob)),
                    pdf: 0.0,
                    delta: true,
                    kind: LobeKind::Mirror,
                })
            }
            // Never sampled (MoonRay's sample() without indirect reflections draws nothing).
            Lobe::ToonSpec { .. } => None,
            Lobe::Pass(t) => Some(BsdfSample {
                wi: -wo,
                weight: t / prob,
                pdf: 0.0,
                delta: true,
                kind: LobeKind::Mirror,
            }),
            Lobe::Ggx {
                alpha,
                fresnel,
                scale,
                ..
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
                    // The fabric lobes too: MoonRay samples velvet so; its DwaFabric sampling
                    // states a density that is not that of the directions it draws, so
                    // fabric is drawn from the cosine hemisphere here, whose density is exact.
                    Lobe::Lambert(_)
                    | Lobe::ToonRamp { .. }
                    | Lobe::FlatDiffuse { .. }
                    | Lobe::Fabric { .. }
                    | Lobe::Velvet { .. } => {
                        let wi = cosine_hemisphere(u);
                        if wi.z <= 0.0 || wo.z <= 0.0 {
                            return None;
                        }
                        (wi, LobeKind::Diffuse)
                    }
                    Lobe::Ggx { alpha, dist, .. } => {
                        if wo.z <= 0.0 {
                            return None;
                        }
                        let h = dist.sample(alpha, u);
                        let wi = 2.0 * wo.dot(h) * h - wo;
                        if wi.z <= 0.0 {
                            return None;
                        }
                        (wi, LobeKind::Glossy)
                    }
                    Lobe::DielectricGgx { alpha, dist, .. } => {
                        // In the frame turned towards wo, then back.
                        let s = wo.z.signum();
                        let wo_up = Vec3::new(wo.x, wo.y, wo.z.abs());
                        let h = dist.sample(alpha, u);
                        let wi = 2.0 * wo_up.dot(h) * h - wo_up;
                        if wi.z <= 0.0 {
                            return None;
                        }
                        (Vec3::new(wi.x, wi.y, wi.z * s), LobeKind::Glossy)
                    }
                    Lobe::RoughRefract { alpha, eta, .. } => {
                        let (s, eta) = if wo.z >= 0.0 {
                            (1.0, eta)
                        } else {
                            (-1.0, 1.0 / eta)
                        };
                        let wo_up = Vec3::new(wo.x, wo.y, wo.z.abs());
                        let m = Microfacet::Beckmann.sample(alpha, u);
                        let wi = refract_about(wo_up, m, eta)?;
                        if wi.z >= 0.0 {
                            return None;
                        }
                        (Vec3::new(wi.x, wi.y, wi.z * s), LobeKind::Glossy)
                    }
                    Lobe::HairDiffuse { t, .. } => (sample_hair_diffuse(t, u), LobeKind::Diffuse),
                    // MoonRay's PBR_HAIR_USE_UNIFORM_SAMPLING: the whole sphere, uniformly.
                    Lobe::Hair { t, .. } => (sample_hair_diffuse(t, u), LobeKind::Glossy),
                    Lobe::Glass { .. } | Lobe::Pass(_) | Lobe::ToonSpec { .. } => unreachable!(),
                };
                if wi.z == 0.0 {
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

/// One lobe's f |cos| and density. The Lambert lobe, most of what most scenes shade, is
/// evaluated here; every other lobe out of line (`eval_other_lobe`), which keeps this call
/// small where `Bsdf::eval` inlines it (the toon, fabric and velvet lobes had made the
/// Cornell box's render 5% slower through it).
#[inline]
fn eval_lobe(lobe: &Lobe, ramps: &[Ramp], wo: Vec3, wi: Vec3) -> (Vec3, f32) {
    if let Lobe::Lambert(albedo) = *lobe {
        if wo.z <= 0.0 || wi.z <= 0.0 {
            return (Vec3::ZERO, 0.0);
        }
        return (albedo * (wi.z / PI), wi.z / PI);
    }
    eval_other_lobe(lobe, ramps, wo, wi)
}

#[inline(never)]
fn eval_other_lobe(lobe: &Lobe, ramps: &[Ramp], wo: Vec3, wi: Vec3) -> (Vec3, f32) {
    match *lobe {
        Lobe::ToonRamp {
            albedo,
            scale,
            ramp,
            input_scale,
            extend,
        } => {
            // MoonRay's ToonBsdfLobe (moonray lib/rendering/shading/bsdf/npr/BsdfToon.cc):
            // with `extend_ramp`, a wi below the horizon is lit as if the normal were turned
            // square to it (MoonRay nudges it by sEpsilon towards wi): cos 0, the ramp's value
            // at 1 / input_scale. BSDF sampling never draws those directions, so their density
            // is 0 here (MoonRay states its cos / pi, about 1e-9 / pi).
            if wo.z <= 0.0 || (wi.z <= 0.0 && !extend) {
                return (Vec3::ZERO, 0.0);
            }
            let cos_i = wi.z.max(0.0);
            let Some(r) = ramps.get(ramp as usize) else {
                return (Vec3::ZERO, 0.0);
            };
            let c = (r.eval((1.0 - cos_i) / input_scale) * albedo).clamp(Vec3::ZERO, Vec3::ONE);
            return (c * (scale / (2.0 * PI)), cos_i / PI);
        }
        Lobe::DielectricGgx {
            alpha,
            dist,
            eta,
            thin,
            scale,
        } => {
            if wo.z * wi.z <= 0.0 {
                return (Vec3::ZERO, 0.0);
            }
            // Seen from the side of wo: leaving a solid, the relative index inverts.
            let eta = if thin || wo.z > 0.0 { eta } else { 1.0 / eta };
            let (wo, wi) = (up(wo), up(wi));
            let h = (wo + wi).normalize();
            let d = dist.d(h.z, alpha);
            let g = dist.g1(wo.z, alpha) * dist.g1(wi.z, alpha);
            let f = fresnel_dielectric(wo.dot(h), eta) * scale;
            let value = f * d * g / (4.0 * wo.z);
            let pdf = d * h.z / (4.0 * wo.dot(h));
            return (Vec3::splat(value), pdf);
        }
        Lobe::RoughRefract {
            alpha,
            eta,
            tint,
            scale,
        } => return eval_rough_refract(alpha, eta, tint * scale, wo, wi),
        Lobe::HairDiffuse { front, back, t } => return eval_hair_diffuse(front, back, t, wo, wi),
        Lobe::Hair { hair, scale, t, h } => {
            return (hair.eval(t, h, wo, wi) * scale, 1.0 / (4.0 * PI));
        }
        _ => {}
    }
    if wo.z <= 0.0 || wi.z <= 0.0 {
        return (Vec3::ZERO, 0.0);
    }
    match *lobe {
        Lobe::Lambert(albedo) => (albedo * (wi.z / PI), wi.z / PI),
        Lobe::FlatDiffuse {
            albedo,
            a,
            b,
            terminator_shift,
            flatness,
            falloff,
        } => (
            albedo * flat_diffuse(a, b, terminator_shift, flatness, falloff, wo, wi),
            wi.z / PI,
        ),
        Lobe::Fabric {
            color,
            exponent,
            norm,
            thread,
        } => (color * fabric(exponent, norm, thread, wo, wi), wi.z / PI),
        Lobe::Velvet {
            color,
            exponent,
            norm,
        } => (color * velvet(exponent, norm, wo, wi), wi.z / PI),
        Lobe::ToonSpec {
            color,
            ramp,
            input_scale,
        } => {
            // cos(wo, mirror of wi), through MoonRay's acos approximation (1 - c)^0.56.
            let c = wo.dot(Vec3::new(-wi.x, -wi.y, wi.z)).clamp(0.0, 1.0);
            let x = (1.0 - c).powf(0.56);
            match ramps.get(ramp as usize) {
                Some(r) if x > 0.0 => (color * r.eval(x / input_scale).x, 0.0),
                _ => (Vec3::ZERO, 0.0),
            }
        }
        Lobe::Ggx {
            alpha,
            dist,
            fresnel,
            scale,
        } => {
            if alpha < SMOOTH_ALPHA {
                return (Vec3::ZERO, 0.0);
            }
            let h = (wo + wi).normalize();
            let d = dist.d(h.z, alpha);
            let g = dist.g1(wo.z, alpha) * dist.g1(wi.z, alpha);
            let f = fresnel.eval(wo.dot(h)) * scale;
            let value = f * (d * g / (4.0 * wo.z));
            let pdf = d * h.z / (4.0 * wo.dot(h));
            (value, pdf)
        }
        Lobe::Glass { .. }
        | Lobe::Pass(_)
        | Lobe::DielectricGgx { .. }
        | Lobe::RoughRefract { .. }
        | Lobe::HairDiffuse { .. }
        | Lobe::ToonRamp { .. }
        | Lobe::Hair { .. } => (Vec3::ZERO, 0.0),
    }
}

/// MoonRay's FlatDiffuseBsdfLobe (moonray lib/rendering/shading/bsdf/npr/BsdfFlatDiffuse.h)
/// for a white albedo: f |cos| for wo and wi in the upper hemisphere. The normal is bent
/// towards wi by `flatness` (faded out within an angle of the terminator that `falloff`
/// narrows), the angle to wi is stretched by 1 + `terminator_shift`, then Fujii's Oren-Nayar
/// with `a` and `b`, times MoonRay's ad-hoc normalisation lerp(1, 0.75, bias(flatness, 0.75)).
/// The density is the cosine hemisphere's (MoonRay states the reshaped cosine over pi for the
/// same cosine-distributed directions, which is not their density).
fn flat_diffuse(
    a: f32,
    b: f32,
    terminator_shift: f32,
    flatness: f32,
    falloff: f32,
    wo: Vec3,
    wi: Vec3,
) -> f32 {
    use std::f32::consts::FRAC_PI_2;
    let shift = terminator_shift + 1.0;
    let theta = (shift * wi.z.clamp(-1.0, 1.0).acos()).min(FRAC_PI_2);
    let k = 1.0 - falloff;
    let sharp = 1.0 + k * k * k * k * 100.0;
    let c = FRAC_PI_2 / sharp;
    let fade = if theta > FRAC_PI_2 - c {
        ((theta + c - FRAC_PI_2) * sharp).cos()
    } else {
        1.0
    };
    let Some(n) = Vec3::Z.lerp(wi, flatness * fade).try_normalize() else {
        return 0.0;
    };
    let nl = (n.dot(wi).clamp(-1.0, 1.0).acos() * shift)
        .min(FRAC_PI_2)
        .cos()
        .max(0.0);
    let nv = n.dot(wo).max(0.0);
    let s = wi.dot(wo) - nl * nv;
    // scene_rdl2's sEpsilon.
    let t = if s > 0.0 { nl.max(nv) + 1e-6 } else { 1.0 };
    let norm = 1.0 + (0.75 - 1.0) * bias(flatness, 0.75);
    nl * (a + b * s / t) * norm / PI
}

/// MoonRay's rough Fresnel of a dielectric specular (what OneMinusRoughFresnel takes away, moonray
/// lib/rendering/shading/bsdf/Fresnel.h): the Fresnel at wo moved towards its value at normal
/// incidence by 1 - (1 - roughness^2)^3.
fn rough_fresnel(cos_o: f32, ior: f32, roughness: f32) -> f32 {
    let a = 1.0 - roughness * roughness;
    let lerp = (1.0 - a * a * a).clamp(0.0, 1.0);
    let (f_o, f_0) = (fresnel_dielectric(cos_o, ior), fresnel_dielectric(1.0, ior));
    f_o + (f_0 - f_o) * lerp
}

/// MoonRay's DwaFabricBsdfLobe (moonray lib/rendering/shading/bsdf/fabric/BsdfDwaFabric.cc) for
/// a white colour: f |cos| for wo and wi above the surface.
fn fabric(exponent: f32, norm: f32, thread: Vec3, wo: Vec3, wi: Vec3) -> f32 {
    if wo.z <= 1e-6 || wi.z <= 1e-6 {
        return 0.0;
    }
    let Some(h) = (wo + wi).try_normalize() else {
        return 0.0;
    };
    if h.dot(wo) < 1e-6 {
        return 0.0;
    }
    // The half vector's angle from the plane square to the thread: its sine is h . thread.
    let base = 1.0 - h.dot(thread).clamp(-0.99, 0.99).abs();
    if base < 1e-6 {
        return 0.0;
    }
    norm * base.powf(exponent) * wi.z
}

/// Perlin's bias, as MoonRay's shading library defines it: x^(ln b / ln 0.5), x itself at 0, 1
/// and beyond.
fn bias(x: f32, b: f32) -> f32 {
    if b == 0.5 || x <= 0.0 || x >= 1.0 {
        x
    } else if b <= 0.0 {
        0.0
    } else {
        x.powf(b.ln() / 0.5f32.ln())
    }
}

/// MoonRay's HairDiffuseLobe (moonray lib/rendering/shading/bsdf/hair/BsdfHairDiffuse.cc,
/// with the cosine term and its default maximum diffuse angle of pi/2): f * |cos| is the
/// colour times sin(angle between wi and the tangent) / pi^2, which integrates to exactly the
/// colour over the sphere; the colour goes from `front` to `back` by (1 + kappa) / 2, kappa
/// the cosine between t x wi and t x wo. The density is the uniform sphere's (see
/// `sample_hair_diffuse`).
fn eval_hair_diffuse(front: Vec3, back: Vec3, t: Vec3, wo: Vec3, wi: Vec3) -> (Vec3, f32) {
    let color = if front == back {
        front
    } else {
        let (ci, co) = (t.cross(wi), t.cross(wo));
        let kappa = ci.dot(co) / (ci.length() * co.length()).max(1e-6);
        let front_share = (1.0 + kappa) * 0.5;
        front * front_share + back * (1.0 - front_share)
    };
    let cos_ti = t.dot(wi);
    let sin_ti = (1.0 - cos_ti * cos_ti).abs().sqrt();
    (color * (sin_ti / (PI * PI)), 1.0 / (4.0 * PI))
}

/// MoonRay's HairDiffuseLobe sampling: the cosine to the tangent uniform in (-1, 1) and the
/// azimuth around it uniform. That is the uniform sphere, so the density is 1 / (4 pi):
/// MoonRay's default branch states cos / pi^2 of the angle from the normal plane for the same
/// directions, which is not their density (its PBR_HAIR_DIFFUSE_USE_UNIFORM_SAMPLING branch
/// draws the same sphere with 1 / (4 pi), as here).
fn sample_hair_diffuse(t: Vec3, u: Vec2) -> Vec3 {
    let along = 2.0 * u.x - 1.0;
    let across = (1.0 - along * along).max(0.0).sqrt();
    let (sin_phi, cos_phi) = (2.0 * PI * u.y).sin_cos();
    let f = Frame::new(t);
    (along * t + across * (sin_phi * f.t + cos_phi * f.b)).normalize()
}

/// `v` mirrored into the upper hemisphere.
fn up(v: Vec3) -> Vec3 {
    Vec3::new(v.x, v.y, v.z.abs())
}

/// Walter et al.'s rough refraction as MoonRay's TransmissionCookTorranceBsdfLobe evaluates it
/// (moonray lib/rendering/shading/bsdf/cook_torrance/BsdfTransmissionCookTorrance.cc, without
/// its energy compensation): Beckmann D, the rational Smith G1 of Walter's eq. 27, one minus
/// the Fresnel at the microfacet, and no 1/eta^2 radiance scaling. `eta` is inside /
/// outside; f * |cos wi| and the density of sampling wi through a Beckmann microfacet.
fn eval_rough_refract(alpha: f32, eta: f32, tint: Vec3, wo: Vec3, wi: Vec3) -> (Vec3, f32) {
    if wo.z * wi.z >= 0.0 {
        return (Vec3::ZERO, 0.0);
    }
    // Seen from the side of wo, eta = (index on wi's side) / (index on wo's side).
    let eta = if wo.z > 0.0 { eta } else { 1.0 / eta };
    let (wo, wi) = (up(wo), Vec3::new(wi.x, wi.y, -wi.z.abs()));
    let Some(m) = (-(wo + eta * wi)).try_normalize() else {
        return (Vec3::ZERO, 0.0);
    };
    let m = if m.z < 0.0 { -m } else { m };
    let (cos_mo, cos_mi) = (wo.dot(m), wi.dot(m));
    if m.z <= 1e-6 || cos_mo <= 1e-6 || cos_mi >= -1e-6 {
        return (Vec3::ZERO, 0.0);
    }
    let d = beckmann_d(m.z, alpha);
    let g = beckmann_g1(wo.z, alpha) * beckmann_g1(-wi.z, alpha);
    let denom = cos_mo + eta * cos_mi;
    let jac = eta * eta * -cos_mi / (denom * denom);
    let f = 1.0 - fresnel_dielectric(cos_mo, eta);
    let value = tint * (f * cos_mo * jac * d * g / wo.z);
    (value, d * m.z * jac)
}

/// `wo` (upper hemisphere) refracted through a microfacet `m`; `eta` is the index on the far
/// side over the near one. None on total internal reflection or a back-facing microfacet.
fn refract_about(wo: Vec3, m: Vec3, eta: f32) -> Option<Vec3> {
    let cos_i = wo.dot(m);
    if cos_i <= 0.0 {
        return None;
    }
    let sin2_t = (1.0 - cos_i * cos_i).max(0.0) / (eta * eta);
    if sin2_t >= 1.0 {
        return None;
    }
    let cos_t = (1.0 - sin2_t).sqrt();
    Some(-wo / eta + (cos_i / eta - cos_t) * m)
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
            metal_color: Vec3::ONE,
            edge_color: Vec3::ONE,
            ior: 1.5,
            specular_model: Microfacet::Ggx,
            transmission: 0.0,
            transmission_color: Vec3::ONE,
            thin: false,
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
                edge_color: Vec3::ONE,
                roughness: 0.0,
                specular: 1.0,
                specular_model: Microfacet::Ggx,
                emission: Vec3::ZERO,
            },
            wo,
        );
        // MoonRay clamps the colours to 0.999 before making them n and k: 99.9% and up.
        assert!((smooth - Vec3::ONE).abs().max_element() < 1e-3, "{smooth}");
        let rough = albedo(
            &Material::Metal {
                color: Vec3::ONE,
                edge_color: Vec3::ONE,
                roughness: 0.3,
                specular: 1.0,
                specular_model: Microfacet::Ggx,
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
            metal_color: Vec3::new(0.9, 0.6, 0.3),
            edge_color: Vec3::new(1.0, 0.8, 0.5),
            ior: 1.5,
            specular_model: Microfacet::Ggx,
            transmission: 0.0,
            transmission_color: Vec3::ONE,
            thin: false,
            emission: Vec3::ZERO,
        };
        let wo = Vec3::new(0.2, 0.1, 0.97).normalize();
        samples_agree_with_eval(&m, wo, 9);
    }

    /// 1000 samples of `m` seen from `wo` (seeded by `seed`): each sample's pdf and weight are
    /// what `eval` gives for its direction.
    fn samples_agree_with_eval(m: &Material, wo: Vec3, seed: u64) {
        let bsdf = Bsdf::new(m, wo.z);
        let mut s = Rng::new(seed, 0, 0, 0, 0);
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
                specular: 1.0,
                specular_model: Microfacet::Ggx,
                emission: Vec3::ZERO,
            },
            wo,
        );
        assert!((a - Vec3::ONE).abs().max_element() < 1e-4, "{a}");
        assert!((fresnel_dielectric(1.0, 1.5) - 0.04).abs() < 1e-4);
    }

    fn rough_glass(roughness: f32, thin: bool) -> Material {
        Material::Dielectric {
            tint: Vec3::ONE,
            ior: 1.5,
            roughness,
            thin,
            specular: 1.0,
            specular_model: Microfacet::Ggx,
            emission: Vec3::ZERO,
        }
    }

    /// The integral of f * |cos| over the whole sphere by the midpoint rule on an n x n grid in
    /// (cos theta, phi), split into the reflected (same side as wo) and transmitted halves.
    fn integral(m: &Material, wo: Vec3, n: usize) -> (f64, f64) {
        let bsdf = Bsdf::new(m, wo.z);
        let (mut refl, mut trans) = (0.0f64, 0.0f64);
        let cell = (2.0 / n as f64) * (2.0 * std::f64::consts::PI / n as f64);
        for i in 0..n {
            let z = -1.0 + (i as f64 + 0.5) * 2.0 / n as f64;
            let r = (1.0 - z * z).sqrt();
            for j in 0..n {
                let phi = (j as f64 + 0.5) * 2.0 * std::f64::consts::PI / n as f64;
                let wi = Vec3::new((r * phi.cos()) as f32, (r * phi.sin()) as f32, z as f32);
                let v = f64::from(bsdf.eval(wo, wi).0.x) * cell;
                if (z > 0.0) == (wo.z > 0.0) {
                    refl += v;
                } else {
                    trans += v;
                }
            }
        }
        (refl, trans)
    }

    #[test]
    fn rough_glass_integrates_to_nearly_one_from_either_side() {
        // A white furnace of the BSDF alone: with no absorption, light arriving from outside
        // is reflected and refracted with a sum of one but for single scattering's loss
        // (microfacet shadowing without the bounces MoonRay's energy compensation adds back),
        // about 0.2% at roughness 0.3 (alpha 0.09), never a gain. From inside, MoonRay's
        // pairing of a GGX reflection with a Beckmann refraction shows: GGX's longer tail
        // meets total internal reflection on microfacets where Beckmann has almost none, so
        // the Fresnel weights of the two do not complement each other and the sum strays from
        // one by up to 7% near and beyond the critical angle (41.8 degrees): 0.936 at
        // 53 degrees, 1.036 at 37. The sampling estimator's mean equals the integral always.
        for wo in [
            Vec3::new(0.5, 0.0, 0.866),
            Vec3::new(0.1, 0.2, 0.97).normalize(),
            Vec3::new(0.9, 0.0, 0.436),
            Vec3::new(0.3, 0.0, -0.954).normalize(),
            Vec3::new(0.6, 0.0, -0.8),
            // Beyond the critical angle: all but the tilted microfacets' share reflected.
            Vec3::new(0.8, 0.0, -0.6),
        ] {
            let m = rough_glass(0.3, false);
            let (refl, trans) = integral(&m, wo, 2400);
            let total = refl + trans;
            if wo.z > 0.0 {
                assert!(total > 0.99 && total < 1.002, "{wo}: {refl} + {trans}");
            } else {
                assert!((total - 1.0).abs() < 0.07, "{wo}: {refl} + {trans}");
            }
            let est = albedo(&m, wo).x as f64;
            assert!(
                (est - total).abs() < 0.01,
                "{wo}: estimator {est} vs integral {total}"
            );
            if wo.z == -0.6 {
                assert!(trans < 0.02, "total internal reflection refracts {trans}");
            }
        }
    }

    #[test]
    fn nearly_smooth_rough_glass_splits_like_the_smooth_one() {
        // At roughness 0.1 (alpha 0.01) the reflected share is the smooth interface's Fresnel
        // reflectance and the rest is refracted.
        for wo in [
            Vec3::new(0.5, 0.0, 0.866),
            Vec3::new(0.3, 0.0, -0.954).normalize(),
        ] {
            let (refl, trans) = integral(&rough_glass(0.1, false), wo, 4000);
            let f = f64::from(fresnel_dielectric(wo.z, 1.5));
            assert!(
                (refl - f).abs() < 0.01,
                "{wo}: reflected {refl} vs Fresnel {f}"
            );
            assert!(
                (trans - (1.0 - f)).abs() < 0.02,
                "{wo}: refracted {trans} vs {}",
                1.0 - f
            );
        }
        // Roughness 0 is the smooth delta lobe: no density anywhere, all energy sampled.
        let smooth = Bsdf::new(&rough_glass(0.0, false), 0.866);
        assert!(!smooth.has_smooth_lobes());
    }

    #[test]
    fn rough_glass_samples_agree_with_eval() {
        for (thin, wo) in [
            (false, Vec3::new(0.2, 0.1, 0.97).normalize()),
            (false, Vec3::new(0.4, -0.1, -0.9).normalize()),
            (true, Vec3::new(0.4, -0.1, -0.9).normalize()),
        ] {
            let bsdf = Bsdf::new(&rough_glass(0.5, thin), wo.z);
            let mut s = Rng::new(5, 0, 0, 0, 0);
            let (mut smooth, mut through) = (0, 0);
            for _ in 0..2000 {
                let Some(bs) = bsdf.sample(wo, s.uniform(), s.uniform2()) else {
                    continue;
                };
                if bs.delta {
                    // Only a thin surface's straight passage is a delta.
                    assert!(thin && (bs.wi + wo).length() < 1e-6);
                    through += 1;
                    continue;
                }
                smooth += 1;
                let (f, pdf) = bsdf.eval(wo, bs.wi);
                assert!(
                    (pdf - bs.pdf).abs() <= 1e-3 * pdf.max(1.0),
                    "{pdf} vs {}",
                    bs.pdf
                );
                assert!(((f / pdf) - bs.weight).abs().max_element() < 1e-3);
            }
            assert!(smooth > 50 && (through > 100) == thin, "{smooth} {through}");
        }
    }

    #[test]
    fn the_artist_friendly_fresnel_gives_the_colour_head_on_and_gulbrandsens_n_and_k() {
        // Hand-computed from Gulbrandsen's mapping: r = 0.5, g = 0.5 gives
        // n = 0.5 (1 - 0.5)/(1 + 0.5) + 0.5 (1 + sqrt 0.5)/(1 - sqrt 0.5) = 3.080880 and
        // k = sqrt((0.5 * 4.080880^2 - 2.080880^2) / 0.5) = 2.827270; an edge tint of 0 puts n at
        // its maximum (1 + sqrt r)/(1 - sqrt r), 37.973666 for r = 0.9, and k at 0.
        let (n, k) = artist_friendly_ior(Vec3::new(0.5, 0.9, 0.95), Vec3::new(0.5, 0.0, 0.6));
        assert!(
            (n.x - 3.08088).abs() < 1e-4 && (k.x - 2.82727).abs() < 1e-4,
            "{n} {k}"
        );
        assert!(
            (n.y - 37.973666).abs() < 2e-3 && k.y.abs() < 2e-2,
            "{n} {k}"
        );
        // Gulbrandsen's inverse: r = ((n-1)^2 + k^2)/((n+1)^2 + k^2) and
        // g = (n_max - n)/(n_max - n_min) give the colours back.
        let (r, g) = (0.95f32, 0.6f32);
        let (n_min, n_max) = ((1.0 - r) / (1.0 + r), (1.0 + r.sqrt()) / (1.0 - r.sqrt()));
        let back_r = ((n.z - 1.0).powi(2) + k.z * k.z) / ((n.z + 1.0).powi(2) + k.z * k.z);
        assert!((back_r - r).abs() < 1e-4, "{back_r}");
        assert!(((n_max - n.z) / (n_max - n_min) - g).abs() < 1e-4);
        // At normal incidence the Fresnel is the colour, at grazing incidence one.
        for (color, edge) in [
            (Vec3::new(0.95, 0.64, 0.54), Vec3::new(1.0, 0.95, 0.78)),
            (Vec3::new(0.2, 0.5, 0.8), Vec3::ZERO),
        ] {
            let f = Fresnel::artist_friendly(color, edge);
            assert!(
                (f.eval(1.0) - color).abs().max_element() < 1e-4,
                "{}",
                f.eval(1.0)
            );
            assert!((f.eval(0.0) - Vec3::ONE).abs().max_element() < 1e-4);
        }
        // A material's metal uses it: a smooth DwaMetal reflects its colour head on.
        let color = Vec3::new(0.9, 0.6, 0.3);
        let m = Material::Metal {
            color,
            edge_color: Vec3::new(1.0, 0.9, 0.8),
            roughness: 0.0,
            specular: 1.0,
            specular_model: Microfacet::Ggx,
            emission: Vec3::ZERO,
        };
        let bs = Bsdf::new(&m, 1.0)
            .sample(Vec3::Z, 0.5, Vec2::splat(0.5))
            .unwrap();
        assert!(
            (bs.weight - color).abs().max_element() < 1e-4,
            "{}",
            bs.weight
        );
    }

    #[test]
    fn a_metal_s_specular_weight_scales_its_reflection() {
        // DwaMetal's lobe is weighted by specular (moonshine DwaBaseLayerable.cc,
        // metallicWeight = specular * metallic, metallic 1): a smooth metal seen head on
        // reflects its colour (Fresnel's value at normal incidence, see above), so
        // specular 0.5 reflects half its colour and specular 0 nothing at all (within 1e-4).
        let color = Vec3::new(0.9, 0.6, 0.3);
        let metal_r = |roughness: f32, specular: f32| Material::Metal {
            color,
            edge_color: Vec3::new(1.0, 0.9, 0.8),
            roughness,
            specular,
            specular_model: Microfacet::Ggx,
            emission: Vec3::ZERO,
        };
        let head_on = |m: &Material| {
            Bsdf::new(m, 1.0)
                .sample(Vec3::Z, 0.5, Vec2::splat(0.5))
                .map_or(Vec3::ZERO, |bs| bs.weight)
        };
        let metal = |s: f32| metal_r(0.0, s);
        let half = head_on(&metal(0.5));
        assert!((half - 0.5 * color).abs().max_element() < 1e-4, "{half}");
        assert!(Bsdf::new(&metal(0.0), 1.0).is_black());
        // Rough, over the hemisphere: half the full weight's albedo too.
        let rough = |s: f32| metal_r(0.4, s);
        let wo = Vec3::new(0.3, 0.0, 0.954).normalize();
        let (full, half) = (albedo(&rough(1.0), wo), albedo(&rough(0.5), wo));
        assert!(
            (half - 0.5 * full).abs().max_element() < 1e-4,
            "{half} vs {full}"
        );
    }

    fn base_with_transmission(albedo: Vec3, transmission: f32, roughness: f32) -> Material {
        Material::Base {
            albedo,
            specular: 1.0,
            roughness,
            metallic: 0.0,
            metal_color: Vec3::ONE,
            edge_color: Vec3::ONE,
            ior: 1.5,
            specular_model: Microfacet::Ggx,
            transmission,
            transmission_color: Vec3::ONE,
            thin: false,
            emission: Vec3::ZERO,
        }
    }

    #[test]
    fn dwabase_transmission_shares_what_the_specular_leaves_with_the_diffuse() {
        // MoonRay's layering: reflection F, refraction t (1 - F), diffuse (1 - t)(1 - F) albedo.
        // A white albedo conserves energy whatever t; transmission 1 is the glass itself.
        let wo = Vec3::new(0.3, 0.0, 0.954).normalize();
        let f = fresnel_dielectric(wo.z, 1.5);
        let smooth_glass = albedo(&base_with_transmission(Vec3::ONE, 1.0, 0.0), wo);
        assert!(
            (smooth_glass - Vec3::ONE).abs().max_element() < 1e-4,
            "{smooth_glass}"
        );
        let half = albedo(&base_with_transmission(Vec3::ONE, 0.5, 0.0), wo);
        assert!((half - Vec3::ONE).abs().max_element() < 5e-3, "{half}");
        // A black albedo leaves the specular and half of the refraction: F + 0.5 (1 - F).
        let dark = albedo(&base_with_transmission(Vec3::ZERO, 0.5, 0.0), wo).x;
        let want = f + 0.5 * (1.0 - f);
        assert!((dark - want).abs() < 5e-3, "{dark} vs {want}");
        // Rough: the single-scattering loss only (see the rough glass furnace).
        let m = base_with_transmission(Vec3::ONE, 0.5, 0.3);
        let (refl, trans) = integral(&m, wo, 2400);
        assert!(
            refl + trans > 0.99 && refl + trans < 1.002,
            "{refl} + {trans}"
        );
        assert!(
            (trans - 0.5 * (1.0 - f as f64)).abs() < 0.01,
            "refracted {trans}"
        );
        samples_agree_with_eval(&m, wo, 7);
    }

    #[test]
    fn the_diffuse_lies_under_one_minus_moonrays_rough_fresnel() {
        // At 60 degrees from the normal, ior 1.5: F(0.5) = 0.5 (0.42015^2 + 0.04251^2) = 0.08917
        // and F(1) = 0.04. Roughness 0.5 interpolates by 1 - (1 - 0.25)^3 = 0.578125 towards
        // F(1): 0.06074, so the diffuse keeps 0.93926 of the albedo; roughness 0 keeps
        // 1 - 0.08917.
        for (roughness, keep) in [(0.5, 0.93926), (0.0, 1.0 - 0.08917)] {
            let m = base_with_transmission(Vec3::splat(0.8), 0.0, roughness);
            let bsdf = Bsdf::new(&m, 0.5);
            let Lobe::Lambert(a) = bsdf.lobes[0].0 else {
                panic!("the first lobe is the diffuse");
            };
            assert!(
                (a.x - 0.8 * keep).abs() < 1e-4,
                "{roughness}: {a} vs {}",
                0.8 * keep
            );
        }
    }

    #[test]
    fn beckmann_is_a_normalised_distribution_and_its_metal_conserves_energy() {
        // Both distributions integrate D(m) cos(m) to one over the hemisphere.
        for dist in [Microfacet::Beckmann, Microfacet::Ggx] {
            let n = 2000;
            let mut sum = 0.0f64;
            for i in 0..n {
                let z = (i as f64 + 0.5) / n as f64;
                sum +=
                    f64::from(dist.d(z as f32, 0.2)) * z * (2.0 * std::f64::consts::PI / n as f64);
            }
            // GGX's long tail converges slowly near the horizon.
            assert!((sum - 1.0).abs() < 2e-3, "{dist:?}: {sum}");
        }
        // A white Beckmann metal (roughness 0.5, alpha 0.25) reflects all but single
        // scattering's loss, never more, with samples that agree with eval; its lobe is
        // narrower than GGX's, so it reflects less far from the mirror direction.
        let metal = |specular_model| Material::Metal {
            color: Vec3::ONE,
            edge_color: Vec3::ONE,
            roughness: 0.5,
            specular: 1.0,
            specular_model,
            emission: Vec3::ZERO,
        };
        let wo = Vec3::new(0.5, 0.0, 0.866);
        let m = metal(Microfacet::Beckmann);
        let (refl, trans) = integral(&m, wo, 2400);
        assert!(refl > 0.95 && refl < 1.0 && trans == 0.0, "{refl}");
        let est = f64::from(albedo(&m, wo).x);
        assert!(
            (est - refl).abs() < 0.01,
            "estimator {est} vs integral {refl}"
        );
        samples_agree_with_eval(&m, wo, 11);
        let bsdf = Bsdf::new(&m, wo.z);
        let far = Vec3::new(0.0, 0.8, 0.6);
        let ggx = Bsdf::new(&metal(Microfacet::Ggx), wo.z).eval(wo, far).0.x;
        let beckmann = bsdf.eval(wo, far).0.x;
        assert!(beckmann < 0.5 * ggx, "{beckmann} vs {ggx}");
    }

    fn hair_diffuse(front: Vec3, back: Vec3, t: Vec3, wo: Vec3) -> Bsdf {
        let m = Material::HairDiffuse {
            front,
            back,
            emission: Vec3::ZERO,
        };
        let mut b = Bsdf::new(&m, wo.z);
        b.set_tangent(t, 0.0);
        b
    }

    /// The integrals of f * |cos| (red) and of the density over the sphere, by the midpoint
    /// rule on an n x n grid in (cos theta, phi).
    fn sphere_integral(bsdf: &Bsdf, wo: Vec3, n: usize) -> (f64, f64) {
        let (mut f_sum, mut pdf_sum) = (0.0f64, 0.0f64);
        let cell = (2.0 / n as f64) * (2.0 * std::f64::consts::PI / n as f64);
        for i in 0..n {
            let z = -1.0 + (i as f64 + 0.5) * 2.0 / n as f64;
            let r = (1.0 - z * z).sqrt();
            for j in 0..n {
                let phi = (j as f64 + 0.5) * 2.0 * std::f64::consts::PI / n as f64;
                let wi = Vec3::new((r * phi.cos()) as f32, (r * phi.sin()) as f32, z as f32);
                let (f, pdf) = bsdf.eval(wo, wi);
                f_sum += f64::from(f.x) * cell;
                pdf_sum += f64::from(pdf) * cell;
            }
        }
        (f_sum, pdf_sum)
    }

    #[test]
    fn hair_diffuse_scatters_its_colour_over_the_whole_sphere() {
        // MoonRay's HairDiffuseLobe: the integral of sin(theta_t) / pi^2 over the sphere is
        // (2 pi) (pi / 2) / pi^2 = 1, so the lobe scatters exactly its colour, half of it
        // through the hair, whatever wo; its density integrates to one. Midpoint rule on a
        // 400 x 400 grid: within 0.002.
        let t = Vec3::new(0.6, 0.0, 0.8);
        for wo in [Vec3::Z, Vec3::new(0.3, -0.5, 0.81).normalize()] {
            let b = hair_diffuse(Vec3::splat(0.6), Vec3::splat(0.6), t, wo);
            let (f, pdf) = sphere_integral(&b, wo, 400);
            assert!((f - 0.6).abs() < 0.002, "{f}");
            assert!((pdf - 1.0).abs() < 0.002, "{pdf}");
        }
        // Front colour 1, back 0, wo square to the hair: the front share (1 + kappa) / 2
        // averages 1/2 around the hair (kappa is the cosine of the azimuth between wi and wo).
        let wo = Vec3::new(0.0, 1.0, 0.0);
        let b = hair_diffuse(Vec3::ONE, Vec3::ZERO, Vec3::Z, wo);
        let (f, _) = sphere_integral(&b, wo, 400);
        assert!((f - 0.5).abs() < 0.002, "{f}");
        // Straight back along wo is all front colour, straight through all back colour.
        let back_on = b.eval(wo, wo).0.x;
        let through = b.eval(wo, -wo).0.x;
        assert!((back_on - 1.0 / (PI * PI)).abs() < 1e-5 && through.abs() < 1e-5);
    }

    #[test]
    fn hair_diffuse_samples_agree_with_eval_and_pdf() {
        let t = Vec3::new(0.0, 0.6, 0.8);
        let wo = Vec3::new(0.2, 0.1, 0.97).normalize();
        let b = hair_diffuse(Vec3::new(0.9, 0.5, 0.2), Vec3::new(0.3, 0.4, 0.5), t, wo);
        let mut s = Rng::new(5, 0, 0, 0, 0);
        let (mut n_through, n) = (0, 20_000);
        let mut inv_pdf = 0.0f64;
        let mut sum = Vec3::ZERO;
        for _ in 0..n {
            let bs = b
                .sample(wo, s.uniform(), s.uniform2())
                .expect("always samples");
            let (f, pdf) = b.eval(wo, bs.wi);
            assert!((pdf - bs.pdf).abs() <= 1e-4 * pdf.max(1.0));
            assert!(((f / pdf) - bs.weight).abs().max_element() < 1e-3);
            if bs.wi.z < 0.0 {
                n_through += 1;
            }
            inv_pdf += 1.0 / f64::from(pdf);
            sum += bs.weight;
        }
        // The stated density is the samples' own: the mean of 1 / pdf over them is the
        // sphere's area, 4 pi (an exact identity for the true density; MoonRay's stated
        // sin / pi^2 for these directions gives pi^3 / 4 instead). Both hemispheres are
        // sampled, and the mean weight is the lobe's albedo, the mean of the two colours here
        // (3 sigma of the estimate < 0.01).
        let area = inv_pdf / f64::from(n);
        assert!((area - 4.0 * std::f64::consts::PI).abs() < 1e-3, "{area}");
        assert!(n_through > n / 4, "{n_through}");
        let mean = sum / n as f32;
        let want = (Vec3::new(0.9, 0.5, 0.2) + Vec3::new(0.3, 0.4, 0.5)) * 0.5;
        assert!((mean - want).abs().max_element() < 0.02, "{mean} vs {want}");
    }

    /// MoonRay's default HairMaterial (moonshine lib/material/dwabase/json/hair.json) in
    /// `color`, as the scene builder derives it.
    fn default_hair(color: Vec3) -> Material {
        use crate::hair::*;
        let l = |r: f32, deg: f32| Longitudinal {
            variance: longitudinal_var(r),
            shift: deg.to_radians(),
        };
        Material::Hair {
            hair: Hair {
                ior: 1.45,
                sigma_a: absorption_from_color(color, 1.0 - 1e-6),
                r: l(0.5, -3.0),
                tt: l(0.25, -1.5),
                trt: l(1.0, -4.5),
                r_tint: Vec3::ONE,
                tt_tint: Vec3::ONE,
                trt_tint: Vec3::ONE,
                tt_azimuthal: azimuthal_var(1.0 - 1e-6),
                cylinder: true,
                trrt: Some(longitudinal_var(1.0)),
            },
            emission: Vec3::ZERO,
        }
    }

    #[test]
    fn white_hair_keeps_nearly_all_the_furnace_s_energy() {
        // R + TT + TRT + TRRT of a white (non-absorbing) hair: F + (1 - F)^2 + (1 - F)^2 F +
        // (1 - F) F^2 with each lobe's M and N normalised, about 0.95-1 for F around
        // 0.035-0.1 (ior 1.45; the multiple-scattering series adds only 0.001-0.009); the
        // shifted, theta_d-dependent Fresnel moves it a little, and MoonRay's M at the TT
        // lobe's variance (0.054, roughness 0.25) integrates to up to 1.061 (hair.rs tests
        // it), so the sum may pass 1 by as much. Over the sphere by the midpoint rule
        // (400 x 400): in [0.9, 1.061] for several wo and offsets h; a dark hair keeps much
        // less (TT and TRT absorbed: colour 0.2 is sigma_a 0.23, one pass through the middle
        // about 0.64, near the edge, h = -0.9, less absorbed).
        let t = Vec3::new(0.0, 0.6, 0.8);
        for wo in [Vec3::Z, Vec3::new(0.5, -0.2, 0.84).normalize(), Vec3::X] {
            for h in [0.0, 0.5, -0.9] {
                let mut b = Bsdf::new(&default_hair(Vec3::ONE), wo.z);
                b.set_tangent(t, h);
                let (e, pdf) = sphere_integral(&b, wo, 400);
                assert!((0.9..=1.061).contains(&e), "wo {wo} h {h}: {e}");
                assert!((pdf - 1.0).abs() < 1e-3);
                let mut dark = Bsdf::new(&default_hair(Vec3::splat(0.2)), wo.z);
                dark.set_tangent(t, h);
                let (d, _) = sphere_integral(&dark, wo, 400);
                assert!(d < 0.8 * e, "dark {d} vs white {e}");
            }
        }
    }

    #[test]
    fn hair_samples_agree_with_eval_and_pdf() {
        let t = Vec3::new(0.6, 0.0, 0.8);
        let wo = Vec3::new(0.2, 0.1, 0.97).normalize();
        let mut b = Bsdf::new(&default_hair(Vec3::new(0.8, 0.5, 0.3)), wo.z);
        b.set_tangent(t, 0.3);
        let mut s = Rng::new(7, 0, 0, 0, 0);
        let n = 20_000;
        let mut inv_pdf = 0.0f64;
        for _ in 0..n {
            let bs = b
                .sample(wo, s.uniform(), s.uniform2())
                .expect("always samples");
            let (f, pdf) = b.eval(wo, bs.wi);
            assert!((pdf - bs.pdf).abs() <= 1e-4 * pdf.max(1.0));
            assert!(((f / pdf) - bs.weight).abs().max_element() < 1e-3);
            inv_pdf += 1.0 / f64::from(pdf);
        }
        // The density is the samples' own (mean of 1 / pdf = the sphere's area).
        let area = inv_pdf / f64::from(n);
        assert!((area - 4.0 * std::f64::consts::PI).abs() < 1e-3, "{area}");
    }

    /// A DwaToonMaterial of `albedo` with no specular and the toon diffuse `diffuse`.
    fn toon(albedo: Vec3, diffuse: ToonDiffuse) -> Material {
        let mut base = base_with_transmission(albedo, 0.0, 0.5);
        if let Material::Base { specular, .. } = &mut base {
            *specular = 0.0;
        }
        Material::Toon {
            base: Box::new(base),
            diffuse: Box::new(diffuse),
            specular: None,
        }
    }

    fn ramp(knots: &[(f32, f32, i64)], input_scale: f32, extend: bool) -> ToonDiffuse {
        let knots: Vec<_> = knots
            .iter()
            .map(|&(p, v, m)| (p, Vec3::splat(v), m))
            .collect();
        ToonDiffuse::Ramp {
            ramp: Ramp::new(&knots),
            input_scale,
            extend,
        }
    }

    #[test]
    fn a_toon_ramp_reflects_its_albedo_times_the_ramp_s_mean() {
        // MoonRay's ToonBsdfLobe: f |cos| = ramp((1 - cos) / scale) albedo / (2 pi), so over
        // the hemisphere (d omega = 2 pi d cos) the albedo times the mean of the ramp over
        // x = 1 - cos in [0, 1]. Constant 1: the albedo itself. Linear from 1 at 0 to 0 at
        // 0.5: 1/4. A step (mode 0) of 1 until 0.6, 0.2 after: 0.6 + 0.4 * 0.2 = 0.68. The
        // linear ramp read at input scale 0.5 (x = 2 (1 - cos)): 1/8. Midpoint rule on a
        // 2400 x 2400 sphere grid: within 2e-3.
        let wo = Vec3::new(0.3, 0.0, 0.954).normalize();
        let a = 0.8f32;
        for (diffuse, mean) in [
            (ramp(&[(0.0, 1.0, 1), (1.0, 1.0, 1)], 1.0, false), 1.0),
            (ramp(&[(0.0, 1.0, 1), (0.5, 0.0, 1)], 1.0, false), 0.25),
            (ramp(&[(0.0, 1.0, 0), (0.6, 0.2, 0)], 1.0, false), 0.68),
            (ramp(&[(0.0, 1.0, 1), (0.5, 0.0, 1)], 0.5, false), 0.125),
        ] {
            let m = toon(Vec3::splat(a), diffuse);
            let (refl, trans) = integral(&m, wo, 2400);
            let want = f64::from(a * mean);
            assert!(
                (refl - want).abs() < 2e-3 && trans == 0.0,
                "{refl} vs {want}"
            );
            samples_agree_with_eval(&m, wo, 13);
            let est = f64::from(albedo(&m, wo).x);
            assert!((est - refl).abs() < 0.01, "estimator {est} vs {refl}");
        }
        // At cos 0.8 the linear ramp is 1 - 2 (0.2) = 0.6: f |cos| = 0.6 * 0.8 / (2 pi).
        let m = toon(
            Vec3::splat(a),
            ramp(&[(0.0, 1.0, 1), (0.5, 0.0, 1)], 1.0, false),
        );
        let wi = Vec3::new(0.6, 0.0, 0.8);
        let (f, pdf) = Bsdf::new(&m, wo.z).eval(wo, wi);
        assert!((f.x - 0.48 / (2.0 * PI)).abs() < 1e-5, "{f}");
        assert!((pdf - 0.8 / PI).abs() < 1e-5);
        // Below the horizon nothing, unless the ramp is extended: then the ramp's value at 1
        // (0.2 for the step), with no density (BSDF sampling never goes there).
        let below = Vec3::new(0.6, 0.0, -0.8);
        assert_eq!(Bsdf::new(&m, wo.z).eval(wo, below).0, Vec3::ZERO);
        let ext = toon(Vec3::ONE, ramp(&[(0.0, 1.0, 0), (0.6, 0.2, 0)], 1.0, true));
        let (f, pdf) = Bsdf::new(&ext, wo.z).eval(wo, below);
        assert!(
            (f.x - 0.2 / (2.0 * PI)).abs() < 1e-5 && pdf == 0.0,
            "{f} {pdf}"
        );
    }

    #[test]
    fn a_toon_ramp_lies_under_the_specular_like_dwabase_s_diffuse() {
        // With the dielectric specular on, the toon lobe keeps the albedo times what the
        // specular leaves (the Lambert lobe's attenuation, see above: 0.93926 at 60 degrees,
        // roughness 0.5): head on through a constant-1 ramp, f |cos| = 0.8 * 0.93926 / (2 pi).
        let mut base = base_with_transmission(Vec3::splat(0.8), 0.0, 0.5);
        if let Material::Base { specular, .. } = &mut base {
            *specular = 1.0;
        }
        let m = Material::Toon {
            base: Box::new(base),
            diffuse: Box::new(ramp(&[(0.0, 1.0, 0)], 1.0, false)),
            specular: None,
        };
        let bsdf = Bsdf::new(&m, 0.5);
        let Lobe::ToonRamp { albedo, scale, .. } = bsdf.lobes[0].0 else {
            panic!("the first lobe is the toon diffuse");
        };
        assert!(
            (albedo.x * scale - 0.8 * 0.93926).abs() < 1e-4,
            "{albedo} {scale}"
        );
        let wo = Vec3::new(0.866, 0.0, 0.5);
        samples_agree_with_eval(&m, wo, 17);
    }

    /// A white DwaToon (ramp diffuse, constant 1) with a Toon specular of `knots` (float
    /// values), `blend` its Fresnel blend, DwaBase's specular 1.
    fn toon_spec(knots: &[(f32, f32, i64)], blend: f32) -> Material {
        let base = base_with_transmission(Vec3::splat(0.5), 0.0, 0.5);
        let knots: Vec<_> = knots
            .iter()
            .map(|&(p, v, m)| (p, Vec3::splat(v), m))
            .collect();
        Material::Toon {
            base: Box::new(base),
            diffuse: Box::new(ramp(&[(0.0, 1.0, 0)], 1.0, false)),
            specular: Some(Box::new(ToonSpecular::new(
                1.0,
                blend,
                Vec3::ONE,
                Ramp::new(&knots),
                1.0,
                0.5,
            ))),
        }
    }

    fn toon_spec_lobe(b: &Bsdf) -> Vec3 {
        b.lobes
            .iter()
            .find_map(|(l, _)| match l {
                Lobe::ToonSpec { color, .. } => Some(*color),
                _ => None,
            })
            .expect("a toon specular lobe")
    }

    #[test]
    fn the_toon_specular_reads_its_ramp_by_the_angle_to_the_mirror_direction() {
        // MoonRay's ToonSpecularBsdfLobe: f |cos| = ramp((1 - cos(wo, mirror wi))^0.56)
        // intensity tint / pi lerp(1, norm F(cos_o) s mean, blend). A constant ramp of 1 has
        // mean 1 and norm 2 pi / (2 pi (1 - cos 90)) = 1: with blend 0 the lobe is 1 / pi
        // wherever wi is; with blend 1, F(0.8) / pi (ior 1.5).
        let wo = Vec3::new(0.6, 0.0, 0.8);
        let flat = toon_spec(&[(0.0, 1.0, 0), (1.0, 1.0, 0)], 0.0);
        let b = Bsdf::new(&flat, wo.z);
        assert!((toon_spec_lobe(&b).x - 1.0 / PI).abs() < 1e-5);
        let fresnel = toon_spec(&[(0.0, 1.0, 0), (1.0, 1.0, 0)], 1.0);
        let b = Bsdf::new(&fresnel, wo.z);
        let want = fresnel_dielectric(0.8, 1.5) / PI;
        assert!(
            (toon_spec_lobe(&b).x - want).abs() < 1e-5,
            "{}",
            toon_spec_lobe(&b)
        );
        // A step, 1 below x = 0.5 and 0 above: 32 of the 64 bands, theta up to 45 degrees, so
        // norm = 1 / (1 - cos 45) = 3.414214 and mean 0.5. Head on, blend 1: the colour is
        // 3.414214 * 0.5 * F(1) / pi = 0.068284 / pi; wi at 30 degrees from the mirror
        // direction (x = (1 - cos 30)^0.56 = 0.3245) gets it, at 60 (x = 0.678) nothing.
        let step = toon_spec(&[(0.0, 1.0, 0), (0.5, 0.0, 0)], 1.0);
        let b = Bsdf::new(&step, 1.0);
        let want = 3.414_214 * 0.5 * 0.04 / PI;
        assert!(
            (toon_spec_lobe(&b).x - want).abs() < 1e-5,
            "{}",
            toon_spec_lobe(&b)
        );
        let at = |deg: f32| {
            let (s, c) = deg.to_radians().sin_cos();
            let wi = Vec3::new(s, 0.0, c);
            let spec_only = b
                .lobes
                .iter()
                .find(|(l, _)| matches!(l, Lobe::ToonSpec { .. }));
            eval_lobe(&spec_only.unwrap().0, &b.ramps, Vec3::Z, wi)
        };
        assert!((at(30.0).0.x - want).abs() < 1e-5 && at(30.0).1 == 0.0);
        assert_eq!(at(60.0).0, Vec3::ZERO);
        // Under it, DwaBase's dielectric specular (weight s (1 - s) = 0) gives nothing and the
        // diffuse keeps one minus the toon's Fresnel, s mean F_rough(cos_o; 1.5, 0.5):
        // 0.5 (1 - 0.5 F_rough) of albedo 0.5 head on.
        let diffuse = b
            .lobes
            .iter()
            .find_map(|(l, _)| match l {
                Lobe::ToonRamp { albedo, scale, .. } => Some(albedo.x * scale),
                _ => None,
            })
            .unwrap();
        let want = 0.5 * (1.0 - 0.5 * rough_fresnel(1.0, 1.5, 0.5));
        assert!((diffuse - want).abs() < 1e-5, "{diffuse} vs {want}");
        let glossy: f32 = b
            .lobes
            .iter()
            .map(|(l, _)| match l {
                Lobe::Ggx { scale, .. } => *scale,
                _ => 0.0,
            })
            .sum();
        assert_eq!(glossy, 0.0);
        // Never sampled; what is sampled agrees with eval (which includes it).
        let mut s = Rng::new(70, 0, 0, 0, 0);
        let b = Bsdf::new(&fresnel, wo.z);
        for _ in 0..1000 {
            if let Some(bs) = b.sample(wo, s.uniform(), s.uniform2()) {
                assert_eq!(bs.kind, LobeKind::Diffuse);
            }
        }
        samples_agree_with_eval(&step, wo, 71);
    }

    fn flat(roughness: f32, terminator_shift: f32, flatness: f32, falloff: f32) -> Material {
        toon(
            Vec3::splat(0.8),
            ToonDiffuse::Flat {
                roughness,
                terminator_shift,
                flatness,
                falloff,
            },
        )
    }

    #[test]
    fn the_flat_diffuse_bends_the_normal_towards_the_light() {
        // MoonRay's FlatDiffuseBsdfLobe. Flatness 0, no shift, no roughness: Lambert, the
        // albedo in a furnace (midpoint rule, 2400 x 2400: within 2e-3).
        let wo = Vec3::new(0.3, 0.0, 0.954).normalize();
        let lambert = flat(0.0, 0.0, 0.0, 0.0);
        let (refl, _) = integral(&lambert, wo, 2400);
        assert!((refl - 0.8).abs() < 2e-3, "{refl}");
        let value = |m: &Material, wi: Vec3| Bsdf::new(m, wo.z).eval(wo, wi).0.x;
        // Flatness 1: the normal is wi itself (MoonRay's lerp(N, wi, flatness)), so every lit
        // direction gets the full cosine, times the normalisation lerp(1, 0.75, bias(1, 0.75))
        // = 0.75: 0.8 * 0.75 / pi head on and at 60 degrees alike. Flatness 0.5: the normal
        // halfway to wi, the cosine of half the angle, normalisation 1 - 0.25 bias(0.5, 0.75)
        // = 1 - 0.25 * 0.75 (bias(0.5, b) = b): at 60 degrees 0.8 * 0.8125 * cos 30 / pi.
        let full = flat(0.0, 0.0, 1.0, 0.0);
        let wi60 = Vec3::new(0.866_025_4, 0.0, 0.5);
        assert!((value(&full, Vec3::Z) - 0.6 / PI).abs() < 1e-5);
        assert!((value(&full, wi60) - 0.6 / PI).abs() < 1e-5);
        let half = flat(0.0, 0.0, 0.5, 0.0);
        let want = 0.8 * 0.8125 * 0.866_025_4 / PI;
        assert!(
            (value(&half, wi60) - want).abs() < 1e-4,
            "{}",
            value(&half, wi60)
        );
        // Terminator shift 0.5 stretches the angle by 1.5: at 30 degrees the cosine of 45.
        let shifted = flat(0.0, 0.5, 0.0, 0.0);
        let wi30 = Vec3::new(0.5, 0.0, 0.866_025_4);
        let want = 0.8 * std::f32::consts::FRAC_1_SQRT_2 / PI;
        assert!((value(&shifted, wi30) - want).abs() < 1e-4);
        // ... and lights nothing beyond 60 degrees.
        assert!(value(&shifted, Vec3::new(0.9, 0.0, 0.436).normalize()) < 1e-6);
        // Flatness 1 reflects more than the albedo (MoonRay's ad-hoc normalisation does not
        // conserve energy): a constant 0.75 / pi over the hemisphere is 1.5 times it, less
        // the thin band at the terminator where the falloff unbends the normal (falloff 0:
        // the last pi / 202 radians, cos below 0.0156, so at most 1.5 * 0.0156 less).
        let (refl, _) = integral(&full, wo, 2400);
        assert!(refl > 0.8 * 1.476 && refl < 0.8 * 1.5, "{refl}");
        for (i, m) in [full, shifted, flat(0.6, -0.3, 0.5, 0.4)]
            .iter()
            .enumerate()
        {
            samples_agree_with_eval(m, wo, 20 + i as u64);
        }
    }

    #[test]
    fn toon_materials_mix_like_any_other() {
        // DwaLayerMaterial of a toon and a DwaBase that cannot blend parameters: a linear mix
        // of the two BSDFs, so the furnace gives the mean of their albedos.
        let wo = Vec3::new(0.3, 0.0, 0.954).normalize();
        let t = toon(
            Vec3::splat(0.8),
            ramp(&[(0.0, 1.0, 1), (0.5, 0.0, 1)], 1.0, false),
        );
        let m = Material::Mix {
            a: Box::new(t),
            b: Box::new(base_with_transmission(Vec3::splat(0.6), 0.0, 0.5)),
            t: 0.5,
        };
        let (refl, _) = integral(&m, wo, 1200);
        let (base_refl, _) = integral(
            &base_with_transmission(Vec3::splat(0.6), 0.0, 0.5),
            wo,
            1200,
        );
        let want = 0.5 * (0.2 + base_refl);
        assert!((refl - want).abs() < 3e-3, "{refl} vs {want}");
        samples_agree_with_eval(&m, wo, 31);
    }

    fn fabric_m(albedo: f32, specular: f32, coverage: f32, roughness: f32) -> Material {
        let dir = Thread::direction(Vec3::new(1.0, 1.0, 0.0).normalize(), 0.0);
        Material::Fabric {
            albedo: Vec3::splat(albedo),
            specular,
            coverage,
            warp: Thread {
                color: Vec3::ONE,
                roughness,
                dir,
            },
            weft: Thread {
                color: Vec3::ONE,
                roughness,
                dir: Vec3::new(-dir.y, dir.x, dir.z),
            },
            emission: Vec3::ZERO,
        }
    }

    #[test]
    fn a_fabric_thread_s_highlight_is_moonrays() {
        // MoonRay's DwaFabric lobe, roughness 1: exponent ceil(1 + 0) = 1, normalisation
        // 0.41788. Thread (1, 1, 0) / sqrt 2, wo = +Z, wi at 45 degrees in x: h =
        // (sin 22.5, 0, cos 22.5), sin theta_h = h . thread = 0.382683 / sqrt 2 = 0.270598, so
        // f |cos| = 0.41788 (1 - 0.270598) cos 45 = 0.215532. Head on (h = +Z square to the
        // thread) 0.41788. Roughness 0.5: exponent ceil(1 + 29 / 4) = 9, normalisation
        // 1.39352: 1.39352 * 0.729402^9 * cos 45 = 0.057584.
        let wi = Vec3::new(1.0, 0.0, 1.0).normalize();
        let value = |m: &Material, wi: Vec3| Bsdf::new(m, 1.0).eval(Vec3::Z, wi).0.x;
        let rough = fabric_m(0.0, 1.0, 1.0, 1.0);
        assert!(
            (value(&rough, wi) - 0.215532).abs() < 1e-5,
            "{}",
            value(&rough, wi)
        );
        assert!((value(&rough, Vec3::Z) - 0.41788).abs() < 1e-5);
        let half = fabric_m(0.0, 1.0, 1.0, 0.5);
        assert!(
            (value(&half, wi) - 0.057584).abs() < 1e-5,
            "{}",
            value(&half, wi)
        );
        // The weft thread is the warp turned 90 degrees: at coverage 0 the same wi meets it at
        // (-0.270598 for h . weft), the same value by symmetry.
        let weft = fabric_m(0.0, 1.0, 0.0, 1.0);
        assert!((value(&weft, wi) - 0.215532).abs() < 1e-5);
        let wo = Vec3::new(0.3, -0.2, 0.93).normalize();
        for (i, m) in [rough, half, fabric_m(0.6, 0.5, 0.75, 0.3)]
            .iter()
            .enumerate()
        {
            samples_agree_with_eval(m, wo, 40 + i as u64);
        }
    }

    #[test]
    fn fabric_diffuse_scattering_shares_the_energy_with_the_diffuse() {
        // fabric_diffuse_scattering 0.5 (specular 0.5): half the threads' highlight and half
        // the Lambert diffuse. The white thread lobe alone keeps less than the furnace's
        // energy (MoonRay normalises it for a thread square to the view); the mix is exactly
        // the mean of the two. Midpoint rule, 1200 x 1200.
        let wo = Vec3::new(0.3, 0.0, 0.954).normalize();
        let (threads, _) = integral(&fabric_m(0.0, 1.0, 0.75, 0.75), wo, 1200);
        assert!(threads > 0.2 && threads < 1.0, "{threads}");
        let (mixed, _) = integral(&fabric_m(0.8, 0.5, 0.75, 0.75), wo, 1200);
        let want = 0.5 * threads + 0.5 * 0.8;
        assert!((mixed - want).abs() < 2e-3, "{mixed} vs {want}");
        let est = f64::from(albedo(&fabric_m(0.8, 0.5, 0.75, 0.75), wo).x);
        assert!((est - mixed).abs() < 0.01, "estimator {est} vs {mixed}");
    }

    fn velvet_m(albedo: f32, fuzz: f32, color: f32, roughness: f32, absorbing: bool) -> Material {
        Material::Velvet {
            albedo: Vec3::splat(albedo),
            fuzz,
            fuzz_color: Vec3::splat(color),
            roughness,
            absorbing,
            emission: Vec3::ZERO,
        }
    }

    #[test]
    fn velvet_is_moonrays_fuzz_over_an_attenuated_diffuse() {
        // MoonRay's velvet lobe at roughness 1: exponent 1, normalisation 1 / 1.62693. wo = +Z,
        // wi at 45 degrees: sin(N, h) = sin 22.5 = 0.382683, so f |cos| = 0.382683 / 1.62693
        // cos^2 45 = 0.117607.
        let wi = Vec3::new(1.0, 0.0, 1.0).normalize();
        let fuzz_only = velvet_m(0.0, 1.0, 1.0, 1.0, true);
        let v = Bsdf::new(&fuzz_only, 1.0).eval(Vec3::Z, wi).0.x;
        assert!((v - 0.117607).abs() < 1e-5, "{v}");
        // White fuzz over a white diffuse: the diffuse keeps exactly what the fuzz does not
        // reflect, so the furnace gives 1 (within the albedo table's interpolation, 5e-3)
        // from any wo and roughness. A dark (0.3) non-absorbing fuzz takes only 0.3 of its
        // albedo from the diffuse: 0.3 A + (1 - 0.3 A) = 1 again; an absorbing one takes all
        // of it: 1 - 0.7 A.
        for wo in [
            Vec3::Z,
            Vec3::new(0.6, 0.0, 0.8),
            Vec3::new(0.95, 0.0, 0.312).normalize(),
        ] {
            for r in [0.3, 0.75, 1.0] {
                let (white, _) = integral(&velvet_m(1.0, 1.0, 1.0, r, false), wo, 1200);
                assert!((white - 1.0).abs() < 5e-3, "{wo} {r}: {white}");
                let (dark, _) = integral(&velvet_m(1.0, 1.0, 0.3, r, false), wo, 1200);
                assert!((dark - 1.0).abs() < 5e-3, "{wo} {r}: {dark}");
                let (fuzz, _) = integral(&velvet_m(0.0, 1.0, 1.0, r, true), wo, 1200);
                let (absorbing, _) = integral(&velvet_m(1.0, 1.0, 0.3, r, true), wo, 1200);
                assert!(
                    (absorbing - (1.0 - 0.7 * fuzz)).abs() < 5e-3,
                    "{wo} {r}: {absorbing} vs {}",
                    1.0 - 0.7 * fuzz
                );
            }
        }
        let wo = Vec3::new(0.3, -0.2, 0.93).normalize();
        samples_agree_with_eval(&velvet_m(0.5, 0.8, 0.7, 0.3, false), wo, 50);
    }

    #[test]
    fn skin_moisture_lies_over_the_skin_and_takes_its_fresnel_from_it() {
        // DwaSkin's moisture (DwaBase's outer specular, ClearcoatAttenuator): a smooth coat of
        // ior 1.5 reflects F(cos_o) and leaves 1 - F to the skin under it, so over a white
        // Lambert skin the furnace gives exactly 1, over albedo 0.5 F + 0.5 (1 - F); the
        // additive coat (UsdPreviewSurface's clearcoat) gives F + 0.5 instead. Estimator
        // over 200000 samples: within 5e-3.
        let wo = Vec3::new(0.6, 0.0, 0.8);
        let f = fresnel_dielectric(0.8, 1.5);
        let skin = |albedo: f32, under: bool| {
            let mut base = base_with_transmission(Vec3::splat(albedo), 0.0, 0.5);
            if let Material::Base { specular, .. } = &mut base {
                *specular = 0.0;
            }
            Material::Coated {
                base: Box::new(base),
                weight: 1.0,
                roughness: 0.0,
                ior: 1.5,
                f0: None,
                dist: Microfacet::Ggx,
                under,
            }
        };
        for (albedo_v, under, want) in [
            (1.0, true, 1.0),
            (0.5, true, f + 0.5 * (1.0 - f)),
            (0.5, false, f + 0.5),
        ] {
            let a = albedo(&skin(albedo_v, under), wo).x;
            assert!((a - want).abs() < 5e-3, "{albedo_v} {under}: {a} vs {want}");
        }
        // Rough (Beckmann, roughness 0.25) moisture: the skin keeps one minus the rough
        // Fresnel, 1 - lerp(F(0.8), F(1), 1 - (1 - 0.0625)^3) of it.
        let mut m = skin(0.5, true);
        if let Material::Coated {
            roughness, dist, ..
        } = &mut m
        {
            *roughness = 0.25;
            *dist = Microfacet::Beckmann;
        }
        let bsdf = Bsdf::new(&m, wo.z);
        let Lobe::Lambert(kept) = bsdf.lobes[0].0 else {
            panic!("the skin's diffuse comes first");
        };
        let t = 1.0 - (1.0f32 - 0.0625).powi(3);
        let rough_f = f + (fresnel_dielectric(1.0, 1.5) - f) * t;
        assert!((kept.x - 0.5 * (1.0 - rough_f)).abs() < 1e-5, "{kept}");
        samples_agree_with_eval(&m, wo, 60);
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
