//! Building ProjectTriplanarMap (moonshine dso/map/ProjectTriplanarMap/v1 with
//! lib/map/projection/json/projection_triplanar.json and projection.json) from its attributes.

use super::maps::projector;
use super::SceneBuilder;
use crate::attrs::Attrs;
use crate::graph::{ObjectId, Value};
use crate::projection::{ProjectTriplanar, TriplanarFace};
use crate::shading::{Map, MapId};
use crate::texture::Gamma;
use glam::{Mat3, Vec2, Vec3};
use std::sync::Arc;

/// The texture names' prefixes, in MoonRay's texture order.
const FACES: [&str; 6] = [
    "positive_x",
    "positive_y",
    "positive_z",
    "negative_x",
    "negative_y",
    "negative_z",
];

impl SceneBuilder<'_> {
    /// A ProjectTriplanarMap. `number_of_textures` one uses positive_x's texture on every face,
    /// three the positive axes' on both faces of their axis, six each face its own
    /// (`fillTriplanarTextureIndices`). An active texture that cannot be read warns and its
    /// face gives the scene's fatal colour, as MoonRay's invalid texture does.
    pub(super) fn project_triplanar_map(&mut self, id: ObjectId) -> Option<MapId> {
        let g = self.g;
        let o = g.object(id);
        let (gamma, count) = {
            let mut a = Attrs::new(g, o, &mut self.warnings);
            let gamma = match a.int("gamma", 2) {
                0 => Gamma::Off,
                1 => Gamma::On,
                _ => Gamma::Auto,
            };
            (gamma, a.int("number_of_textures", 3))
        };
        let used: &[usize] = match count {
            1 => &[0],
            6 => &[0, 1, 2, 3, 4, 5],
            _ => &[0, 1, 2],
        };
        let fatal = super::maps::fatal_color(g);
        let mut textures: Vec<Option<Arc<TriplanarFace>>> = vec![None; 6];
        for &i in used {
            let face = self.triplanar_face(o, FACES[i], gamma, fatal);
            textures[i] = Some(Arc::new(face));
        }
        let index = |face: usize| match count {
            1 => 0,
            6 => face,
            _ => face % 3,
        };
        let faces: [Arc<TriplanarFace>; 6] = std::array::from_fn(|f| {
            textures[index(f)]
                .clone()
                .unwrap_or_else(|| Arc::new(TriplanarFace::Inactive))
        });
        let mut a = Attrs::new(g, o, &mut self.warnings);
        if ["randomize_rotation", "randomize_flip", "randomize_offset"]
            .iter()
            .any(|n| a.bool(n, false))
            || a.bool("use_reference_space", false)
        {
            a.warnings.push(format!(
                "{}: ProjectTriplanarMap `{}`: randomize_* and use_reference_space are not supported by the built-in renderer; ignored",
                o.loc, o.name
            ));
        }
        let projector = projector(&mut a);
        if projector.is_none() {
            a.warnings.push(format!(
                "{}: ProjectTriplanarMap `{}` has no `projector`: it gives the fatal colour, as MoonRay's does",
                o.loc, o.name
            ));
        }
        let map = ProjectTriplanar {
            to_projector: projector.map(|m| (m.inverse(), Mat3::from_mat4(m).transpose())),
            fatal,
            power: ProjectTriplanar::power(a.f32("transition_width", 0.5)),
            faces,
        };
        Some(self.push_map(id, Map::ProjectTriplanar(Box::new(map))))
    }

    /// One texture of a triplanar map, from the attributes named `{prefix}_...`.
    fn triplanar_face(
        &mut self,
        o: &crate::graph::Object,
        prefix: &str,
        gamma: Gamma,
        fatal: Vec3,
    ) -> TriplanarFace {
        let g = self.g;
        let n = |s: &str| format!("{prefix}_{s}");
        let (active, path) = {
            let mut a = Attrs::new(g, o, &mut self.warnings);
            (a.bool(&n("active"), true), a.string(&n("texture")))
        };
        if !active {
            return TriplanarFace::Inactive;
        }
        let path = path.unwrap_or_default();
        let texture = match self.decoded_texture(&path, gamma) {
            Some(Ok(t)) => t,
            _ if self.reported_missing.contains(&path) => return TriplanarFace::Invalid(fatal),
            r => {
                let why = match r {
                    Some(Err(e)) => format!("{path}: {e}"),
                    None if path.is_empty() => "none is given".into(),
                    _ => format!("{path} was not found"),
                };
                self.warnings.push(format!(
                    "{}: ProjectTriplanarMap `{}`: the {prefix} texture cannot be read ({why}); its face gives the fatal colour",
                    o.loc, o.name
                ));
                return TriplanarFace::Invalid(fatal);
            }
        };
        let mut a = Attrs::new(g, o, &mut self.warnings);
        let v2 = |a: &Attrs, name: &str, d: Vec2| match a.obj.attrs.get(name) {
            Some(Value::Vec2(c)) => Vec2::new(c[0] as f32, c[1] as f32),
            _ => d,
        };
        let xform = TriplanarFace::xform(
            v2(&a, &n("scale"), Vec2::ONE),
            v2(&a, &n("offset"), Vec2::ZERO),
            a.f32(&n("rotation"), 0.0),
            v2(&a, &n("rotation_center"), Vec2::ZERO),
            (a.bool(&n("invert_s"), false), a.bool(&n("invert_t"), false)),
            a.bool(&n("swap_st"), false),
        );
        let w = crate::texture::Wrap::around(a.bool(&n("wrap_around"), true));
        TriplanarFace::Texture {
            image: crate::texture::ImageLookup {
                texture,
                wrap: (w, w),
                scale: Vec2::ONE,
                offset: Vec2::ZERO,
                rotation: 0.0,
                rotation_center: Vec2::ZERO,
                color_correct: None,
                channel: crate::texture::Channel::Rgb,
                udim: None,
            },
            xform,
        }
    }
}
