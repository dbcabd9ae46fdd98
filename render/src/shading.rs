//! Shading-time evaluation: maps bound to material attributes (`bind(map)`), evaluated at each
//! shading point with the hit's uv, position, normals and primitive attributes, and the
//! materials that are only known per hit (bound attributes, layering, two-sided).
//!
//! A map is a [`Map`] variant in the scene's [`Maps`]; a bindable attribute is a [`Param`],
//! either a constant or a map. A new map (an image, a noise) is one more variant and one more
//! arm in [`Maps::eval`]. Everything here is pure: the same hit gives the same value.

use crate::bsdf::Material;
use glam::{Mat4, Vec2, Vec3};
use std::borrow::Cow;

/// Index of a map in [`Maps`].
pub type MapId = u32;

/// What maps may read at a shading point.
#[derive(Debug, Clone, Copy)]
pub struct ShadePoint<'a> {
    /// World-space position.
    pub p: Vec3,
    /// Shading normal and geometric normal, unit length, facing outwards.
    pub n: Vec3,
    pub ng: Vec3,
    /// Texture coordinates (MoonRay's `st`).
    pub uv: Vec2,
    /// Whether the ray arrived on the side the normal faces (MoonRay's `isEntering`).
    pub front: bool,
    /// The primitive's attributes (corner values) and where in the triangle the hit lies.
    pub attrs: &'a [(u32, [Vec3; 3])],
    pub bary: Vec2,
    /// The surface's dPds (`geometry::Primitive::dpds`), for normal maps' tangent frames.
    pub dpds: Vec3,
    /// A sphere's world-to-object transform (a triangle carries its object-space position as
    /// a primitive attribute instead, see `scene::OBJECT_P`).
    pub to_object: Option<&'a Mat4>,
}

impl ShadePoint<'_> {
    /// A point with no primitive attributes, uv (0, 0), facing +Z: for tests and constants.
    pub fn at(p: Vec3, n: Vec3, uv: Vec2) -> ShadePoint<'static> {
        ShadePoint {
            p,
            n,
            ng: n,
            uv,
            front: true,
            attrs: &[],
            bary: Vec2::ZERO,
            dpds: Vec3::ZERO,
            to_object: None,
        }
    }

    /// The interpolated value of primitive attribute `id`, if the primitive has it.
    pub fn attr(&self, id: u32) -> Option<Vec3> {
        self.attrs
            .iter()
            .find(|(k, _)| *k == id)
            .map(|(_, v)| crate::geometry::Corners::lerp3(v, self.bary))
    }
}

/// A bindable attribute's value: a constant, or a map evaluated per shading point.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Const(Vec3),
    Map(MapId),
}

impl Param {
    pub fn eval(&self, maps: &Maps, sp: &ShadePoint) -> Vec3 {
        match self {
            Param::Const(c) => *c,
            Param::Map(id) => maps.eval(*id, sp),
        }
    }

    /// A float attribute bound to a map reads the map's first (red) channel.
    pub fn eval_f32(&self, maps: &Maps, sp: &ShadePoint) -> f32 {
        self.eval(maps, sp).x
    }

    pub fn is_const(&self) -> bool {
        matches!(self, Param::Const(_))
    }
}

/// What an `AttributeMap` reads (its `map_type`, moonray dso/map/AttributeMap/AttributeMap.json).
#[derive(Debug, Clone, PartialEq)]
pub enum MapInput {
    /// `primitive attribute` (0): by interned name; None when no geometry has it.
    Primitive(Option<u32>),
    /// `position` (1), `texture st` (2), `shading normal` (3), `geometric normal` (4).
    Position,
    St,
    ShadingNormal,
    GeometricNormal,
    /// `map color` (9): the map's `color` attribute.
    Color,
    /// The surface's dPds (a UsdPrimvarReader's `dpds`).
    Dpds,
}

/// The maps the built-in renderer evaluates. Attribute names and formulas are MoonRay's; where
/// each came from is noted at the variant.
#[derive(Debug, Clone, PartialEq)]
pub enum Map {
    /// moonray dso/map/Image/ImageMap: the texture read at the hit's uv, or at
    /// `input_texture_coordinates` (`st`); transform, filter and colour rules in
    /// `crate::texture`.
    Image {
        image: crate::texture::ImageLookup,
        st: Option<Param>,
    },
    /// moonray dso/map/UsdUVTexture: `file` read at `st` (bindable, (1, 1) by default; a
    /// `UsdPrimvarReader_float2` gives the hit's st), `output_mode` rgb (None) or one channel
    /// (0..2) in all three (alpha is the lookup's channel), then `scale * c + bias`; `fallback`
    /// alone when the file could not be read.
    UsdUvTexture {
        image: Option<crate::texture::ImageLookup>,
        st: Param,
        channel: Option<usize>,
        scale: Vec3,
        bias: Vec3,
        fallback: Vec3,
    },
    /// moonray dso/map/CheckerboardMap: tile (s * num_u_tiles / 2, t * num_v_tiles / 2) mod 1;
    /// colour A where both halves agree, B where they differ.
    Checkerboard {
        a: Param,
        b: Param,
        u_tiles: f32,
        v_tiles: f32,
        /// `texture_coordinates` = 1 reads `input_texture_coordinates` instead of st.
        st: Option<Param>,
    },
    /// moonray dso/map/AttributeMap: the input, or `default_value` when a primitive attribute
    /// is absent.
    Attribute {
        input: MapInput,
        default: Param,
        color: Param,
    },
    /// moonshine dso/map/RemapMap (uniform method 0, per-channel method 1): linear remap of
    /// [in_min, in_max] to [out_min, out_max] with Perlin's bias, then an optional clamp.
    Remap {
        input: Param,
        in_min: Param,
        in_max: Param,
        out_min: Param,
        out_max: Param,
        bias: Param,
        clamp: Option<(Vec3, Vec3)>,
    },
    /// moonshine dso/map/ColorCorrectMap with moonray's shading/ispc/ColorCorrect.isph, in
    /// that order: hue shift (HSV), saturation (about Rec. 709 luminance), contrast, gamma
    /// (x^(1/gamma) on positives), gain and offset, TMI; then mixed with the input by `mix`
    /// and clamped. A stage that is off is None.
    ColorCorrect {
        input: Param,
        mix: Param,
        hue: Option<Param>,
        saturation: Option<Channels>,
        contrast: Option<Channels>,
        gamma: Option<Channels>,
        gain_offset: Option<(Channels, Channels)>,
        tmi: Option<Param>,
        clamp: Option<(f32, f32)>,
    },
    /// moonshine dso/map/RampMap with moonray's shading RampControl: a position (st, P, or
    /// input_texture_coordinates) repeated, waved and wrapped, turned into a ramp parameter
    /// by `ramp_type`, and the knots interpolated by the left knot's mode.
    Ramp {
        /// Knots sorted by position: (position, colour, interpolation mode).
        knots: Vec<(f32, Vec3, i64)>,
        ramp_type: i64,
        source: RampSource,
        input: Param,
        repeat: Vec2,
        wave: Vec2,
        clamp: bool,
    },
    /// moonshine dso/map/LayerMap: input_A composited over input_B by `mode` (its enum: off 0,
    /// over 1, add 2, subtract 3, multiply 4, screen 5, overlay 6, overlay contrast 7, darken 8,
    /// lighten 9, color dodge 10, color burn 11, hard light 12, soft light 13, difference 14,
    /// exclusion 15), A weighted by the saturated `mask` first.
    Layer {
        a: Param,
        b: Param,
        mask: Param,
        mode: i64,
    },
    /// NoiseMap and NoiseMap_v2 (see `crate::noise_map`).
    Noise(Box<crate::noise_map::NoiseMap>),
    /// NoiseWorleyMap_v2 and _v3 (see `crate::noise_map`).
    Worley(Box<crate::noise_map::WorleyMap>),
    /// ProjectPlanarMap (see `crate::projection`).
    ProjectPlanar(Box<crate::projection::ProjectPlanar>),
    /// ProjectTriplanarMap (see `crate::projection`).
    ProjectTriplanar(Box<crate::projection::ProjectTriplanar>),
    /// ImageNormalMap: a render-space normal (see `crate::normal_map`).
    ImageNormal(Box<crate::normal_map::ImageNormal>),
}

/// Where a RampMap reads its position.
#[derive(Debug, Clone, PartialEq)]
pub enum RampSource {
    /// `space` texture (6): st.
    St,
    /// `space` render or world (0, 2): the position.
    Position,
    /// `texture_coordinates` = 1: `input_texture_coordinates`.
    Input(Param),
}

/// A correction amount: one (bindable) float for all channels, or one constant per channel.
#[derive(Debug, Clone, PartialEq)]
pub enum Channels {
    All(Param),
    Each(Vec3),
}

impl Channels {
    fn eval(&self, maps: &Maps, sp: &ShadePoint) -> Vec3 {
        match self {
            Channels::All(p) => Vec3::splat(p.eval_f32(maps, sp)),
            Channels::Each(v) => *v,
        }
    }
}

/// Every map of the scene, by [`MapId`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Maps {
    pub maps: Vec<Map>,
}

impl Maps {
    pub fn eval(&self, id: MapId, sp: &ShadePoint) -> Vec3 {
        match &self.maps[id as usize] {
            Map::Image { image, st } => {
                let st = match st {
                    Some(p) => p.eval(self, sp).truncate(),
                    None => sp.uv,
                };
                image.eval(st)
            }
            Map::UsdUvTexture {
                image,
                st,
                channel,
                scale,
                bias,
                fallback,
            } => match image {
                None => *fallback,
                Some(image) => {
                    let c = image.eval(st.eval(self, sp).truncate());
                    let c = channel.map_or(c, |i| Vec3::splat(c[i]));
                    c * *scale + *bias
                }
            },
            Map::Checkerboard {
                a,
                b,
                u_tiles,
                v_tiles,
                st,
            } => {
                let st = match st {
                    Some(p) => p.eval(self, sp).truncate(),
                    None => sp.uv,
                };
                let s = (st.x * u_tiles / 2.0).rem_euclid(1.0);
                let t = (st.y * v_tiles / 2.0).rem_euclid(1.0);
                if (s < 0.5) == (t < 0.5) {
                    a.eval(self, sp)
                } else {
                    b.eval(self, sp)
                }
            }
            Map::Attribute {
                input,
                default,
                color,
            } => match input {
                MapInput::Primitive(id) => match id.and_then(|id| sp.attr(id)) {
                    Some(v) => v,
                    None => default.eval(self, sp),
                },
                MapInput::Position => sp.p,
                MapInput::St => sp.uv.extend(0.0),
                MapInput::ShadingNormal => sp.n,
                MapInput::GeometricNormal => sp.ng,
                MapInput::Color => color.eval(self, sp),
                MapInput::Dpds => sp.dpds,
            },
            Map::Remap {
                input,
                in_min,
                in_max,
                out_min,
                out_max,
                bias,
                clamp,
            } => {
                let x = input.eval(self, sp);
                let (i0, i1) = (in_min.eval(self, sp), in_max.eval(self, sp));
                let (o0, o1) = (out_min.eval(self, sp), out_max.eval(self, sp));
                let b = bias.eval(self, sp);
                let mut r = Vec3::ZERO;
                for k in 0..3 {
                    let (ir, or) = (i1[k] - i0[k], o1[k] - o0[k]);
                    r[k] = if or == 0.0 {
                        o0[k]
                    } else {
                        let t = if ir == 0.0 { 0.5 } else { (x[k] - i0[k]) / ir };
                        perlin_bias(t, b[k]) * or + o0[k]
                    };
                }
                match clamp {
                    Some((lo, hi)) => r.clamp(*lo, hi.max(*lo)),
                    None => r,
                }
            }
            Map::ColorCorrect {
                input,
                mix,
                hue,
                saturation,
                contrast,
                gamma,
                gain_offset,
                tmi,
                clamp,
            } => {
                let x = input.eval(self, sp);
                let mix = mix.eval_f32(self, sp);
                if mix == 0.0 {
                    return x;
                }
                let mut c = x;
                if let Some(h) = hue {
                    let mut hsv = rgb_to_hsv(c);
                    hsv.x = (hsv.x + h.eval_f32(self, sp)) % 1.0;
                    c = hsv_to_rgb(hsv);
                }
                if let Some(s) = saturation {
                    let y = c.dot(Vec3::new(0.212671, 0.715160, 0.072169));
                    c = Vec3::splat(y) + (c - Vec3::splat(y)) * s.eval(self, sp);
                }
                if let Some(k) = contrast {
                    let k = k.eval(self, sp);
                    for i in 0..3 {
                        c[i] = apply_contrast(k[i], c[i]);
                    }
                }
                if let Some(g) = gamma {
                    let inv = Vec3::ONE / g.eval(self, sp).max(Vec3::splat(1e-9));
                    for i in 0..3 {
                        if c[i] > 0.0 {
                            c[i] = c[i].powf(inv[i]);
                        }
                    }
                }
                if let Some((gain, offset)) = gain_offset {
                    c = c * gain.eval(self, sp) + offset.eval(self, sp);
                }
                if let Some(t) = tmi {
                    let t = t.eval(self, sp);
                    let e = 2f32.powf(t.z);
                    let r = (6.0 * e + 2.0 * t.y - 3.0 * t.x) / 6.0;
                    let g = (3.0 * e - 2.0 * t.y) / 3.0;
                    c *= Vec3::new(r, g, r + t.x);
                }
                if mix != 1.0 {
                    c = x + (c - x) * mix;
                }
                match clamp {
                    Some((lo, hi)) => c.clamp(Vec3::splat(*lo), Vec3::splat(hi.max(*lo))),
                    None => c,
                }
            }
            Map::Ramp {
                knots,
                ramp_type,
                source,
                input,
                repeat,
                wave,
                clamp,
            } => {
                let mut uv = match source {
                    RampSource::St => sp.uv,
                    RampSource::Position => sp.p.truncate(),
                    RampSource::Input(p) => p.eval(self, sp).truncate(),
                } * *repeat;
                if wave.x > 0.0 {
                    uv.x += (2.0 * std::f32::consts::PI * uv.y).sin() * wave.x;
                }
                if wave.y > 0.0 {
                    uv.y += (2.0 * std::f32::consts::PI * uv.x).sin() * wave.y;
                }
                uv = if *clamp {
                    uv.clamp(Vec2::ZERO, Vec2::ONE)
                } else {
                    Vec2::new(
                        if (0.0..=1.0).contains(&uv.x) {
                            uv.x
                        } else {
                            uv.x - uv.x.floor()
                        },
                        if (0.0..=1.0).contains(&uv.y) {
                            uv.y
                        } else {
                            uv.y - uv.y.floor()
                        },
                    )
                };
                let at = |t: f32| ramp_1d(knots, t);
                let (cu, cv) = (uv.x - 0.5, uv.y - 0.5);
                match ramp_type {
                    1 => at(uv.x),
                    2 => at(0.5 * (uv.x + uv.y)),
                    3 => at(0.5 * (1.0 + cu.atan2(cv) / std::f32::consts::PI)),
                    4 => {
                        let d = cu * cu + cv * cv;
                        at(if d > 1e-6 { (2.0 * d).sqrt() } else { 0.0 })
                    }
                    5 => at(2.0 * cu.abs().max(cv.abs())),
                    6 => at(2.0 * cv.abs()) * at(2.0 * cu.abs()),
                    8 => at(input.eval_f32(self, sp)),
                    _ => at(uv.y),
                }
            }
            Map::Noise(n) => n.eval(self, sp),
            Map::Worley(w) => w.eval(self, sp),
            Map::ProjectPlanar(p) => p.eval(sp.p, sp.n),
            Map::ImageNormal(m) => m.eval(self, sp),
            Map::ProjectTriplanar(p) => p.eval(sp.p, sp.n),
            Map::Layer { a, b, mask, mode } => {
                let m = mask.eval_f32(self, sp).clamp(0.0, 1.0);
                if *mode == 0 || m == 0.0 {
                    return b.eval(self, sp);
                }
                if *mode == 1 && m == 1.0 {
                    return a.eval(self, sp);
                }
                let a = a.eval(self, sp) * m;
                let b = b.eval(self, sp);
                Vec3::new(
                    composite(*mode, a.x, b.x, m),
                    composite(*mode, a.y, b.y, m),
                    composite(*mode, a.z, b.z, m),
                )
            }
        }
    }
}

/// RampControl's 1D evaluation: the first knot's colour before it, the last's after, and in
/// between the left knot's mode: none 0 (hold), linear 1, exponential up 2 (t^2), exponential
/// down 3 (1 - (1 - t)^2), smooth 4 (sin(t pi / 2)); the cubic modes (5, 6) are linear here.
pub(crate) fn ramp_1d(knots: &[(f32, Vec3, i64)], t: f32) -> Vec3 {
    let Some(first) = knots.first() else {
        return Vec3::ZERO;
    };
    if t < first.0 {
        return first.1;
    }
    let Some(i) = knots.iter().rposition(|k| k.0 <= t) else {
        return first.1;
    };
    let Some(right) = knots.get(i + 1) else {
        return knots[i].1;
    };
    let left = knots[i];
    let span = right.0 - left.0;
    if span <= 0.0 {
        return left.1;
    }
    let t = (t - left.0) / span;
    let w = match left.2 {
        0 => 0.0,
        2 => t * t,
        3 => 1.0 - (1.0 - t) * (1.0 - t),
        4 => (t * std::f32::consts::FRAC_PI_2).sin(),
        _ => t,
    };
    left.1.lerp(right.1, w)
}

/// ColorCorrect.isph's contrast: negative pulls towards 0.5, positive pushes away by
/// 1 / (1 - k), both clamped to [-1, 1] (1 itself as 0.999).
fn apply_contrast(k: f32, x: f32) -> f32 {
    if k == 0.0 {
        return x;
    }
    let k = k.clamp(-1.0, 1.0);
    if k < 0.0 {
        x + (0.5 - x) * -k
    } else {
        (x - 0.5) / (1.0 - k.min(0.999)) + 0.5
    }
}

/// RGB to hue (0..1), saturation, value.
fn rgb_to_hsv(c: Vec3) -> Vec3 {
    let max = c.max_element();
    let min = c.min_element();
    let d = max - min;
    let h = if d <= 0.0 {
        0.0
    } else if max == c.x {
        ((c.y - c.z) / d).rem_euclid(6.0) / 6.0
    } else if max == c.y {
        ((c.z - c.x) / d + 2.0) / 6.0
    } else {
        ((c.x - c.y) / d + 4.0) / 6.0
    };
    let s = if max > 0.0 { d / max } else { 0.0 };
    Vec3::new(h, s, max)
}

fn hsv_to_rgb(hsv: Vec3) -> Vec3 {
    let (h, s, v) = (hsv.x.rem_euclid(1.0) * 6.0, hsv.y, hsv.z);
    let c = v * s;
    let x = c * (1.0 - ((h % 2.0) - 1.0).abs());
    let m = v - c;
    let rgb = match h as u32 {
        0 => Vec3::new(c, x, 0.0),
        1 => Vec3::new(x, c, 0.0),
        2 => Vec3::new(0.0, c, x),
        3 => Vec3::new(0.0, x, c),
        4 => Vec3::new(x, 0.0, c),
        _ => Vec3::new(c, 0.0, x),
    };
    rgb + Vec3::splat(m)
}

/// One channel of LayerMap's compositing of `a` (already times the mask `m`) over `b`: the
/// formulas of moonshine's LayerMap.ispc, mode by mode.
fn composite(mode: i64, a: f32, b: f32, m: f32) -> f32 {
    let rest = b * (1.0 - m);
    match mode {
        1 => rest + a,
        2 => b + a,
        3 => b - a,
        4 => rest + a * b,
        5 => a + b - a * b,
        6 => b * (b * m + 2.0 * a * (1.0 - b)) + rest,
        7 | 12 => {
            // Overlay contrast tests b against one half, hard light 2a against the mask.
            let low = if mode == 7 { b < 0.5 } else { 2.0 * a < m };
            if low {
                2.0 * a * b + rest
            } else {
                m - 2.0 * (1.0 - b) * (m - a) + rest
            }
        }
        8 => a.min(b * m) + rest,
        9 => a.max(b * m) + rest,
        10 => {
            if a + b * m >= m {
                m + rest
            } else {
                let t = 1.0 - a / m;
                (if t != 0.0 { b * m / t } else { t }) + rest
            }
        }
        11 => {
            if a + b * m <= m {
                rest
            } else {
                (if a != 0.0 {
                    m * (a + b * m - m) / a
                } else {
                    0.0
                }) + rest
            }
        }
        13 => {
            if 2.0 * a < m {
                2.0 * b * a + b * b * (m - 2.0 * a) + rest
            } else {
                let t = (b * m).max(0.0);
                t.sqrt() * (2.0 * a - m) + 2.0 * t * (m - a) + rest
            }
        }
        14 => a + b - 2.0 * a.min(b * m),
        15 => (a + b * m - 2.0 * a * b) + rest,
        _ => 0.0,
    }
}

/// Perlin's bias: t^(log b / log 0.5); 0.5 leaves t unchanged (as RemapMap skips it).
fn perlin_bias(t: f32, b: f32) -> f32 {
    if (b - 0.5).abs() < 1e-6 || t <= 0.0 {
        return t;
    }
    t.powf(b.clamp(1e-6, 1.0 - 1e-6).ln() / 0.5f32.ln())
}

/// A material known only per shading point.
#[derive(Debug, Clone, PartialEq)]
pub enum Shader {
    /// DwaBaseMaterial (or UsdPreviewSurface, mapped onto it) with bindable attributes.
    Base {
        albedo: Param,
        specular: Param,
        roughness: Param,
        metallic: Param,
        metal_color: Param,
        edge_color: Param,
        ior: f32,
        specular_model: crate::bsdf::Microfacet,
        transmission: Param,
        transmission_color: Param,
        thin: bool,
        emission: Param,
    },
    /// DwaMetalMaterial with bindable colours and weight.
    Metal {
        color: Param,
        edge_color: Param,
        roughness: Param,
        specular: Param,
        specular_model: crate::bsdf::Microfacet,
        emission: Param,
    },
    /// DwaEmissiveMaterial: emission colour times the constant intensity and exposure.
    Emissive { emission: Param, scale: f32 },
    /// DwaLayerMaterial (moonshine dso/material/DwaLayer, lib/material/dwabase/Blending.cc):
    /// mask 0 is material_B, 1 is material_A, in between the two blended.
    Layer {
        a: Material,
        b: Material,
        mask: Param,
    },
    /// DwaMixMaterial (moonshine dso/material/DwaMix): `mix` picks among the inputs, a
    /// fractional value blends the two it lies between (linear interpolation).
    Mix {
        inputs: Vec<Material>,
        mix: Param,
        /// `remap_mix_to_inputs`: mix in [0, 1] spans all the inputs.
        remap: bool,
    },
    /// DwaTwoSidedMaterial: front_material where the ray enters, back_material elsewhere.
    TwoSided { front: Material, back: Material },
    /// A material whose only bound attribute is its emission (a dielectric's, say).
    Emitting { material: Material, emission: Param },
    /// A material with a normal map (`input_normal` with `input_normal_dial`, or
    /// UsdPreviewSurface's tangent-space `normal` when `usd_tangent`): shaded as `material`,
    /// about the normal `crate::normal_map::shading_normal` gives.
    NormalMapped {
        material: Material,
        normal: Param,
        dial: Param,
        usd_tangent: bool,
    },
    /// HairDiffuseMaterial with a bound `hair_color` (or front/back colour): each colour
    /// clamped to [0, 1] per hit (moonshine lib/material/dwabase/DwaBase.cc,
    /// resolveHairParams).
    HairDiffuse {
        front: Param,
        back: Param,
        emission: Param,
    },
    /// HairMaterial with a bound `hair_color` or lobe tint: the colour, clamped to [0, 1], gives
    /// the absorption per hit (moonray HairUtil::computeAbsorptionCoefficients at the TT
    /// azimuthal roughness, as moonray BsdfBuilder.cc does for each lobe); a tint of a lobe
    /// that is off is the constant black. The rest of `hair` is constant.
    Hair {
        hair: crate::hair::Hair,
        color: Param,
        azimuthal_roughness: f32,
        r_tint: Param,
        tt_tint: Param,
        trt_tint: Param,
        emission: Param,
    },
    /// A `Material::Toon` whose base is resolved per hit (its toon diffuse is constant).
    Toon {
        base: Material,
        diffuse: Box<crate::bsdf::ToonDiffuse>,
        specular: Option<Box<crate::bsdf::ToonSpecular>>,
    },
    /// A `Material::Coated` whose base is resolved per hit (its coat is constant).
    Coated {
        base: Material,
        weight: f32,
        roughness: f32,
        ior: f32,
        f0: Option<Vec3>,
        dist: crate::bsdf::Microfacet,
        under: bool,
    },
}

/// DwaMixMaterial's choice among `n` inputs for a `mix` value (in [0, n - 1], or [0, 1] when
/// `remap`): the two inputs it lies between and how far it is from the first to the second.
/// None when there are no inputs.
pub fn mix_pick(n: usize, mix: f32, remap: bool) -> Option<(usize, usize, f32)> {
    if n == 0 {
        return None;
    }
    let last = (n - 1) as f32;
    let x = if remap { mix * last } else { mix }.clamp(0.0, last);
    let i = (x.floor() as usize).min(n - 1);
    let j = (i + 1).min(n - 1);
    Some((i, j, x - i as f32))
}

/// The material at a shading point: `m` itself unless it is `Shaded`.
pub fn resolve<'m>(m: &'m Material, maps: &Maps, sp: &ShadePoint) -> Cow<'m, Material> {
    let Material::Shaded(s) = m else {
        return Cow::Borrowed(m);
    };
    let clamp01 = |p: &Param| p.eval_f32(maps, sp).clamp(0.0, 1.0);
    Cow::Owned(match &**s {
        Shader::Base {
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
            emission,
        } => Material::Base {
            albedo: albedo.eval(maps, sp),
            specular: specular.eval_f32(maps, sp),
            roughness: clamp01(roughness),
            metallic: metallic.eval_f32(maps, sp),
            metal_color: metal_color.eval(maps, sp),
            edge_color: edge_color.eval(maps, sp),
            ior: *ior,
            specular_model: *specular_model,
            transmission: clamp01(transmission),
            transmission_color: transmission_color.eval(maps, sp),
            thin: *thin,
            emission: emission.eval(maps, sp),
        },
        Shader::Metal {
            color,
            edge_color,
            roughness,
            specular,
            specular_model,
            emission,
        } => Material::Metal {
            color: color.eval(maps, sp),
            edge_color: edge_color.eval(maps, sp),
            roughness: clamp01(roughness),
            specular: clamp01(specular),
            specular_model: *specular_model,
            emission: emission.eval(maps, sp),
        },
        Shader::HairDiffuse {
            front,
            back,
            emission,
        } => Material::HairDiffuse {
            front: front.eval(maps, sp).clamp(Vec3::ZERO, Vec3::ONE),
            back: back.eval(maps, sp).clamp(Vec3::ZERO, Vec3::ONE),
            emission: emission.eval(maps, sp),
        },
        Shader::Hair {
            hair,
            color,
            azimuthal_roughness,
            r_tint,
            tt_tint,
            trt_tint,
            emission,
        } => {
            let c = color.eval(maps, sp).clamp(Vec3::ZERO, Vec3::ONE);
            Material::Hair {
                hair: crate::hair::Hair {
                    sigma_a: crate::hair::absorption_from_color(c, *azimuthal_roughness),
                    r_tint: r_tint.eval(maps, sp),
                    tt_tint: tt_tint.eval(maps, sp),
                    trt_tint: trt_tint.eval(maps, sp),
                    ..*hair
                },
                emission: emission.eval(maps, sp),
            }
        }
        Shader::Emissive { emission, scale } => Material::Emissive {
            radiance: emission.eval(maps, sp) * *scale,
        },
        Shader::Layer { a, b, mask } => {
            let t = clamp01(mask);
            blend(&resolve(b, maps, sp), &resolve(a, maps, sp), t)
        }
        Shader::Mix { inputs, mix, remap } => {
            let Some((i, j, t)) = mix_pick(inputs.len(), mix.eval_f32(maps, sp), *remap) else {
                return Cow::Owned(Material::grey());
            };
            let a = resolve(&inputs[i], maps, sp);
            if i == j {
                return Cow::Owned(a.into_owned());
            }
            blend(&a, &resolve(&inputs[j], maps, sp), t)
        }
        Shader::TwoSided { front, back } => {
            let m = if sp.front { front } else { back };
            resolve(m, maps, sp).into_owned()
        }
        Shader::NormalMapped { material, .. } => resolve(material, maps, sp).into_owned(),
        Shader::Coated {
            base,
            weight,
            roughness,
            ior,
            f0,
            dist,
            under,
        } => Material::Coated {
            base: Box::new(resolve(base, maps, sp).into_owned()),
            weight: *weight,
            roughness: *roughness,
            ior: *ior,
            f0: *f0,
            dist: *dist,
            under: *under,
        },
        Shader::Toon {
            base,
            diffuse,
            specular,
        } => Material::Toon {
            base: Box::new(resolve(base, maps, sp).into_owned()),
            diffuse: diffuse.clone(),
            specular: specular.clone(),
        },
        Shader::Emitting { material, emission } => {
            let mut m = resolve(material, maps, sp).into_owned();
            let e = emission.eval(maps, sp);
            match &mut m {
                Material::Base { emission, .. }
                | Material::Metal { emission, .. }
                | Material::Fabric { emission, .. }
                | Material::Velvet { emission, .. }
                | Material::Dielectric { emission, .. } => *emission = e,
                _ => {}
            }
            m
        }
    })
}

/// `m0` at t = 0, `m1` at t = 1: parameters blended linearly where both are Dwa base-like (as
/// MoonRay's Blending.cc lerps each parameter), the two BSDFs mixed linearly otherwise.
pub fn blend(m0: &Material, m1: &Material, t: f32) -> Material {
    if t <= 0.0 {
        return m0.clone();
    }
    if t >= 1.0 {
        return m1.clone();
    }
    match (as_base(m0), as_base(m1)) {
        (
            Some(Material::Base {
                albedo: a0,
                specular: s0,
                roughness: r0,
                metallic: m0,
                metal_color: c0,
                edge_color: e0,
                ior: i0,
                specular_model: sm0,
                transmission: t0,
                transmission_color: tc0,
                thin: th0,
                emission: em0,
            }),
            Some(Material::Base {
                albedo: a1,
                specular: s1,
                roughness: r1,
                metallic: m1,
                metal_color: c1,
                edge_color: e1,
                ior: i1,
                specular_model: sm1,
                transmission: t1,
                transmission_color: tc1,
                thin: th1,
                emission: em1,
            }),
        ) => {
            let l = |x: f32, y: f32| x + (y - x) * t;
            Material::Base {
                albedo: a0.lerp(a1, t),
                specular: l(s0, s1),
                roughness: l(r0, r1),
                metallic: l(m0, m1),
                metal_color: c0.lerp(c1, t),
                edge_color: e0.lerp(e1, t),
                ior: l(i0, i1),
                specular_model: if t < 0.5 { sm0 } else { sm1 },
                transmission: l(t0, t1),
                transmission_color: tc0.lerp(tc1, t),
                // Not a number to blend: the nearer material's.
                thin: if t < 0.5 { th0 } else { th1 },
                emission: em0.lerp(em1, t),
            }
        }
        _ => Material::Mix {
            a: Box::new(m0.clone()),
            b: Box::new(m1.clone()),
            t,
        },
    }
}

/// A material as DwaBaseMaterial parameters, when it is one: a metal is DwaBase with
/// metallic 1 and its colours (its colour standing in for the albedo metallic 1 hides).
fn as_base(m: &Material) -> Option<Material> {
    match *m {
        Material::Base { .. } => Some(m.clone()),
        // With a weight below one its hidden albedo would show: blended as BSDFs instead.
        Material::Metal { specular, .. } if specular != 1.0 => None,
        Material::Metal {
            color,
            edge_color,
            roughness,
            specular_model,
            emission,
            ..
        } => Some(Material::Base {
            albedo: color,
            specular: 1.0,
            roughness,
            metallic: 1.0,
            metal_color: color,
            edge_color,
            ior: 1.5,
            specular_model,
            transmission: 0.0,
            transmission_color: Vec3::ONE,
            thin: false,
            emission,
        }),
        _ => None,
    }
}
