//! Building the noise maps (`NoiseMap`, `NoiseMap_v2`, `NoiseWorleyMap_v2`, `_v3`) from their
//! attributes: names and defaults are MoonRay's (moonshine dso/map/NoiseMap/v2/NoiseMap_v2.json,
//! dso/map/NoiseWorleyMap/v2/NoiseWorleyMap_v2.json; NoiseMap and NoiseWorleyMap_v3 from the
//! OpenMoonRay documentation), read through the class data so that each class's own default
//! (NoiseMap's `space` is render, NoiseMap_v2's object) applies.

use super::maps::{default_f32, default_rgb, Binds};
use super::SceneBuilder;
use crate::attrs::Attrs;
use crate::graph::{ObjectId, Value};
use crate::noise::{ordered_compose, Perlin};
use crate::noise_map::{NoiseCommon, NoiseMap, NoiseSpace, WorleyMap, WorleyOutput};
use crate::shading::{Map, Param};
use crate::worley::Worley;
use glam::Vec2;

/// The name under which meshes and boxes carry their object-space vertex positions as a
/// primitive attribute, once a map reads object space: no user attribute is named so.
pub(crate) const OBJECT_P: &str = "\u{1}object-space P";

pub(super) const NOISE_MAPS: &[&str] = &[
    "NoiseMap",
    "NoiseMap_v2",
    "NoiseWorleyMap_v2",
    "NoiseWorleyMap_v3",
];

impl SceneBuilder<'_> {
    /// The map of a noise class (see [`NOISE_MAPS`]); `binds` are its attributes bound to maps.
    pub(super) fn noise_map(&mut self, id: ObjectId, binds: &Binds) -> Map {
        let g = self.g;
        let o = g.object(id);
        let space = {
            let mut a = Attrs::new(g, o, &mut self.warnings);
            let d = default_f32(&a, "space") as i64;
            a.int("space", d)
        };
        let space = match space {
            0 | 2 => NoiseSpace::Render,
            4 => NoiseSpace::Object(self.attribute_id(OBJECT_P)),
            6 => NoiseSpace::Texture,
            7 => NoiseSpace::Input(self.noise_rgb(id, binds, "input_texture_coordinates")),
            other => {
                self.warnings.push(format!(
                    "{}: {} `{}`: space {other} (camera, screen, reference or hair) is rendered as render space by the built-in renderer",
                    o.loc, o.class, o.name
                ));
                NoiseSpace::Render
            }
        };
        let color_a = self.noise_rgb(id, binds, "color_A");
        let color_b = self.noise_rgb(id, binds, "color_B");
        let mut a = Attrs::new(g, o, &mut self.warnings);
        let f = |a: &mut Attrs, name: &str| {
            let d = default_f32(a, name);
            a.f32(name, d)
        };
        let v3 = |a: &mut Attrs, name: &str| {
            let d = default_rgb(a, name);
            a.vec3(name, d)
        };
        let i = |a: &mut Attrs, name: &str| {
            let d = default_f32(a, name) as i64;
            a.int(name, d)
        };
        let b = |a: &mut Attrs, name: &str| {
            let d = matches!(a.moonray_default(name), Some(Value::Bool(true)));
            a.bool(name, d)
        };
        let vec2 = |a: &Attrs, name: &str, d: Vec2| match a.obj.attrs.get(name) {
            Some(Value::Vec2(c)) => Vec2::new(c[0] as f32, c[1] as f32),
            _ => d,
        };
        let worley = o.class.starts_with("NoiseWorleyMap");
        let xform = ordered_compose(
            v3(&mut a, "translation"),
            v3(&mut a, "rotation") * std::f32::consts::PI / 180.0,
            v3(&mut a, "scale"),
            i(&mut a, "transformation_order"),
            i(&mut a, "rotation_order"),
        );
        let common = NoiseCommon {
            space,
            frequency: f(
                &mut a,
                if worley {
                    "frequency"
                } else {
                    "frequency_multiplier"
                },
            ),
            xform,
            bias: f(&mut a, "bias"),
            gain: f(&mut a, "gain"),
            invert: b(&mut a, "invert"),
            smoothstep: b(&mut a, "use_smoothstep")
                .then(|| vec2(&a, "smoothstep", Vec2::new(0.0, 1.0))),
            color_a,
            color_b,
        };
        let seed = i(&mut a, "seed");
        if worley {
            let cell = i(&mut a, "cell_id").clamp(0, 3) as usize;
            let fs = ["F1", "F2", "F3", "F4"].map(|n| f(&mut a, n));
            let output = match i(&mut a, "output_mode") {
                1 => WorleyOutput::Gradient(fs),
                2 => WorleyOutput::CellId(cell),
                3 => WorleyOutput::CellEdges,
                4 => WorleyOutput::Points {
                    cell,
                    size: f(&mut a, "point_size"),
                },
                _ => WorleyOutput::Distance(fs),
            };
            return Map::Worley(Box::new(WorleyMap {
                common,
                noise: Worley::new(seed),
                output,
                jitter: f(&mut a, "jitter").clamp(0.0, 1.0),
                max_level: f(&mut a, "max_level"),
                distance_method: i(&mut a, "distance_method"),
                minkowski: f(&mut a, "minkowski_number"),
                remap: vec2(&a, "remap", Vec2::new(0.0, 1.0)),
            }));
        }
        if i(&mut a, "noise_type") != 0 || i(&mut a, "distortion_noise_type") != 0 {
            a.warnings.push(format!(
                "{}: {} `{}`: simplex noise is rendered as classic Perlin noise by the built-in renderer",
                o.loc, o.class, o.name
            ));
        }
        let four_d = b(&mut a, "use_4D_noise");
        let time = f(&mut a, "time");
        let color = b(&mut a, "color");
        // NoiseMap_v2.cc: G and B use seed + 2 and seed + 3 (scene_rdl2's Random gives seeds 0
        // and 1 the same numbers, so + 1 is skipped).
        let color_noise =
            color.then(|| Box::new([Perlin::new(seed + 2, four_d), Perlin::new(seed + 3, four_d)]));
        Map::Noise(Box::new(NoiseMap {
            common,
            noise: Perlin::new(seed, four_d),
            color_noise,
            distortion: f(&mut a, "distortion"),
            four_d: four_d.then_some(time),
            max_level: f(&mut a, "max_level"),
            persistence: f(&mut a, "persistence"),
            lacunarity: f(&mut a, "lacunarity"),
            amplitude: f(&mut a, "amplitude"),
        }))
    }

    /// A colour attribute of a noise map: its binding, else its value or MoonRay's default.
    fn noise_rgb(&mut self, id: ObjectId, binds: &Binds, name: &str) -> Param {
        if let Some(p) = binds.get(name) {
            return p.clone();
        }
        let mut a = Attrs::new(self.g, self.g.object(id), &mut self.warnings);
        let d = default_rgb(&a, name);
        Param::Const(a.rgb(name, d))
    }

    /// Whether some map reads object space: then meshes and boxes carry [`OBJECT_P`].
    pub(super) fn object_p(&self) -> Option<u32> {
        self.attribute_names
            .iter()
            .position(|n| n == OBJECT_P)
            .map(|i| i as u32)
    }
}
