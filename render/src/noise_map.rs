//! The noise maps at a shading point: `NoiseMap`/`NoiseMap_v2` (Perlin) and
//! `NoiseWorleyMap_v2`/`_v3` (Worley), each the steps of its moonshine .ispc `sample` in order:
//! the position in the map's space, times the frequency, through the map's own transform,
//! then the noise, remapped and coloured.

use crate::noise::{bias, gain, smooth_step, Perlin};
use crate::shading::{Maps, Param, ShadePoint};
use crate::worley::Worley;
use glam::{Mat4, Vec2, Vec3};

/// Where a noise map reads its position (`space`: render 0, world 2, object 4, texture 6,
/// input texture coordinates 7).
#[derive(Debug, Clone, PartialEq)]
pub enum NoiseSpace {
    /// Render (= world) space: the hit's position.
    Render,
    /// The geometry's object space: the primitive attribute `id` (object-space corners,
    /// see `scene::OBJECT_P`) or a sphere's own transform.
    Object(u32),
    /// (s, t, 0).
    Texture,
    /// `input_texture_coordinates`.
    Input(Param),
}

impl NoiseSpace {
    fn position(&self, maps: &Maps, sp: &ShadePoint) -> Vec3 {
        match self {
            NoiseSpace::Render => sp.p,
            NoiseSpace::Object(id) => sp
                .attr(*id)
                .or_else(|| sp.to_object.map(|m| m.transform_point3(sp.p)))
                .unwrap_or(sp.p),
            NoiseSpace::Texture => sp.uv.extend(0.0),
            NoiseSpace::Input(p) => p.eval(maps, sp),
        }
    }
}

/// What both noise maps share: the position, its frequency and transform, and the remapping
/// of the noise value (bias, gain, invert, smoothstep) before colouring.
#[derive(Debug, Clone, PartialEq)]
pub struct NoiseCommon {
    pub space: NoiseSpace,
    /// `frequency_multiplier` (NoiseMap) or `frequency` (Worley).
    pub frequency: f32,
    /// Noise.cc's orderedCompose of translation, rotation (degrees in the scene) and scale.
    pub xform: Mat4,
    pub bias: f32,
    pub gain: f32,
    pub invert: bool,
    pub smoothstep: Option<Vec2>,
    pub color_a: Param,
    pub color_b: Param,
}

impl NoiseCommon {
    fn position(&self, maps: &Maps, sp: &ShadePoint) -> Vec3 {
        self.xform
            .transform_point3(self.space.position(maps, sp) * self.frequency)
    }
}

/// moonshine dso/map/NoiseMap/v2/NoiseMap_v2.ispc with classic Perlin noise.
#[derive(Debug, Clone, PartialEq)]
pub struct NoiseMap {
    pub common: NoiseCommon,
    /// The R lattice (`seed`), which the distortion also reads (MoonRay builds its
    /// distortion lattice from the same seed); G (seed + 2) and B (seed + 3) when `color`.
    pub noise: Perlin,
    pub color_noise: Option<Box<[Perlin; 2]>>,
    pub distortion: f32,
    /// `time`, when `use_4D_noise` is on.
    pub four_d: Option<f32>,
    pub max_level: f32,
    pub persistence: f32,
    pub lacunarity: f32,
    pub amplitude: f32,
}

impl NoiseMap {
    pub fn eval(&self, maps: &Maps, sp: &ShadePoint) -> Vec3 {
        let c = &self.common;
        let mut pos = c.position(maps, sp);
        let four_d = self.four_d.is_some();
        let at = |p: Vec3| p.extend(self.four_d.unwrap_or(0.0));
        if self.distortion != 0.0 {
            let d = self.noise.noise(pos.extend(0.0), false);
            pos += Vec3::splat(d * self.distortion);
        }
        let one = |n: &Perlin| {
            let v = n.fractal(
                at(pos),
                four_d,
                self.max_level,
                self.persistence,
                self.lacunarity,
            );
            // [-1, 1] to [0, 1], bias and gain, invert, smoothstep, amplitude: the .ispc's order.
            let mut v = gain(bias((v + 1.0) * 0.5, c.bias), c.gain);
            if c.invert {
                v = 1.0 - v;
            }
            if let Some(s) = c.smoothstep {
                v = smooth_step(v, s.x, s.y);
            }
            v * self.amplitude
        };
        let r = one(&self.noise);
        match &self.color_noise {
            Some(gb) => Vec3::new(r, one(&gb[0]), one(&gb[1])),
            None => c.color_a.eval(maps, sp).lerp(c.color_b.eval(maps, sp), r),
        }
    }
}

/// What a Worley map outputs (`output_mode`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WorleyOutput {
    /// 0: F1..F4 weighted and summed.
    Distance([f32; 4]),
    /// 1: the weighted unit directions to the points, as a colour.
    Gradient([f32; 4]),
    /// 2: the colour of the `cell_id`th point's cell.
    CellId(usize),
    /// 3: F2 - F1 through smoothstep(0, 0.05).
    CellEdges,
    /// 4: a dot of `point_size` at the `cell_id`th point.
    Points { cell: usize, size: f32 },
}

/// moonshine dso/map/NoiseWorleyMap/v2/NoiseWorleyMap_v2.ispc (v3 has the same attributes).
#[derive(Debug, Clone, PartialEq)]
pub struct WorleyMap {
    pub common: NoiseCommon,
    pub noise: Worley,
    pub output: WorleyOutput,
    /// Clamped to [0, 1] as the .ispc clamps it.
    pub jitter: f32,
    pub max_level: f32,
    pub distance_method: i64,
    pub minkowski: f32,
    pub remap: Vec2,
}

impl WorleyMap {
    pub fn eval(&self, maps: &Maps, sp: &ShadePoint) -> Vec3 {
        let c = &self.common;
        let pos = c.position(maps, sp);
        let pts = self.noise.fractal(
            pos,
            self.jitter,
            self.max_level,
            self.distance_method,
            self.minkowski,
        );
        // The .ispc's adjust(): remap, bias and gain, smoothstep, colour, then invert.
        let adjust = |d: f32| {
            let den = self.remap.y - self.remap.x;
            let d = (d - self.remap.x) / if den != 0.0 { den } else { 1e-6 };
            let mut d = gain(bias(d, c.bias), c.gain);
            if let Some(s) = c.smoothstep {
                d = smooth_step(d, s.x, s.y);
            }
            let v = c.color_a.eval(maps, sp) * (1.0 - d) + c.color_b.eval(maps, sp) * d;
            if c.invert {
                Vec3::ONE - v
            } else {
                v
            }
        };
        match self.output {
            WorleyOutput::Distance(f) => adjust((0..4).map(|i| f[i] * pts[i].dist).sum()),
            WorleyOutput::Gradient(f) => (0..4).map(|i| pts[i].gradient * f[i]).sum(),
            WorleyOutput::CellId(i) => self.noise.cell_color(pts[i].id),
            WorleyOutput::CellEdges => adjust(smooth_step(pts[1].dist - pts[0].dist, 0.0, 0.05)),
            WorleyOutput::Points { cell, size } => {
                let ps = (0.1 * size).max(1e-6);
                Vec3::splat(1.0 - smooth_step(pts[cell].dist, ps - 1e-6, ps))
            }
        }
    }
}
