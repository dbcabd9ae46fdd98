//! Normal maps bound into materials: `input_normal` (with `input_normal_dial`) on the Dwa
//! materials and UsdPreviewSurface's `normal`, and the ImageNormalMap they may name.

use super::SceneBuilder;
use crate::attrs::Attrs;
use crate::bsdf::Material;
use crate::graph::{ObjectId, Value};
use crate::normal_map::ImageNormal;
use crate::shading::{Map, MapId, Param, Shader};
use crate::texture::Gamma;
use glam::{Vec2, Vec3};

/// The NormalMap classes the built-in renderer evaluates as an `input_normal`.
pub(super) const NORMAL_MAPS: &[&str] = &["ImageNormalMap", "UsdPrimvarReader_normal"];

impl SceneBuilder<'_> {
    /// Material `m` of material object `id` with its normal map, when it has one the built-in
    /// renderer evaluates: `input_normal` (moonshine lib/material/dwabase/json/normal.json: a
    /// NormalMap object, and `input_normal_dial`, bindable, 1 by default) or, on a
    /// UsdPreviewSurface, `normal` bound to a map (a [-1, 1] tangent-space normal, moonray
    /// dso/material/UsdPreviewSurface/UsdPreviewSurface.cc). Any other normal map warns and the
    /// material keeps the surface's normal.
    pub(super) fn with_normal_map(&mut self, id: ObjectId, m: Material) -> Material {
        let g = self.g;
        let o = g.object(id);
        if o.class == "UsdPreviewSurface" {
            let Some(Value::Bind {
                target: Some(t), ..
            }) = o.attrs.get("normal")
            else {
                return m;
            };
            let Some(normal) = self.map(*t) else {
                return m;
            };
            return Material::Shaded(Box::new(Shader::NormalMapped {
                material: m,
                normal: Param::Map(normal),
                dial: Param::Const(Vec3::ONE),
                usd_tangent: true,
            }));
        }
        let Some(Value::Object(nid)) = o.attrs.get("input_normal") else {
            return m;
        };
        let n = g.object(*nid);
        let normal = if NORMAL_MAPS.contains(&n.class.as_str()) {
            self.map(*nid)
        } else {
            self.warnings.push(format!(
                "{}: {} `{}`: input_normal {} `{}` is not supported by the built-in renderer; the surface's normal is used",
                o.loc, o.class, o.name, n.class, n.name
            ));
            None
        };
        let Some(normal) = normal else {
            return m;
        };
        let dial = match o.attrs.get("input_normal_dial") {
            Some(Value::Bind {
                target: Some(t), ..
            }) => self.map(*t).map(Param::Map),
            _ => None,
        };
        let dial = dial.unwrap_or_else(|| {
            let mut a = Attrs::new(g, o, &mut self.warnings);
            Param::Const(Vec3::splat(a.f32("input_normal_dial", 1.0)))
        });
        Material::Shaded(Box::new(Shader::NormalMapped {
            material: m,
            normal: Param::Map(normal),
            dial,
            usd_tangent: false,
        }))
    }

    /// An ImageNormalMap (moonshine dso/normalmap/ImageNormalMap/ImageNormalMap.json and .cc):
    /// `tangent_space_normal_texture` decoded with gamma off, read through `rotation_angle`,
    /// `scale` and `offset` like an ImageMap, `wrap_around`, `normal_encoding`,
    /// `texture_coordinates`. A file that cannot be read warns and the material keeps its
    /// normal.
    pub(super) fn image_normal_map(&mut self, id: ObjectId) -> Option<MapId> {
        let g = self.g;
        let o = g.object(id);
        let key = match o.attrs.get("tangent_space_normal_texture") {
            Some(Value::String(p)) if !p.is_empty() => p.clone(),
            _ => {
                self.warnings.push(format!(
                    "{}: ImageNormalMap `{}` has no `tangent_space_normal_texture`; the material keeps its normal",
                    o.loc, o.name
                ));
                return None;
            }
        };
        let texture = match self.decoded_texture(&key, Gamma::Off) {
            Some(Ok(t)) => t,
            _ if self.reported_missing.contains(&key) => return None,
            r => {
                let why = match r {
                    Some(Err(e)) => format!(": {e}"),
                    _ => " was not found".into(),
                };
                self.warnings.push(format!(
                    "{}: the texture {key} of ImageNormalMap `{}`{why}; the material keeps its normal",
                    o.loc, o.name
                ));
                return None;
            }
        };
        let binds = self.binds(id);
        let mut a = Attrs::new(g, o, &mut self.warnings);
        a.warn_unknown(&[
            "tangent_space_normal_texture",
            "wrap_around",
            "normal_encoding",
            "texture_coordinates",
            "input_texture_coordinates",
            "offset",
            "scale",
            "rotation_angle",
            "rotation_center",
            // Only read for a missing UDIM tile, and UDIM normal maps are not read here.
            "use_default_value_when_missing",
            "default_value",
        ]);
        let v2 = |a: &Attrs, name: &str, d: Vec2| match a.obj.attrs.get(name) {
            Some(Value::Vec2(c)) => Vec2::new(c[0] as f32, c[1] as f32),
            _ => d,
        };
        let wrap_around = a.bool("wrap_around", true);
        let st = (a.int("texture_coordinates", 0) == 1).then(|| {
            binds
                .get("input_texture_coordinates")
                .cloned()
                .unwrap_or_else(|| Param::Const(a.vec3("input_texture_coordinates", Vec3::ZERO)))
        });
        if binds.contains_key("offset") || binds.contains_key("scale") {
            a.warnings.push(format!(
                "{}: ImageNormalMap `{}`: a map bound to offset or scale is not supported by the built-in renderer; their constants are used",
                o.loc, o.name
            ));
        }
        let w = crate::texture::Wrap::around(wrap_around);
        let image = crate::texture::ImageLookup {
            texture,
            wrap: (w, w),
            scale: v2(&a, "scale", Vec2::ONE),
            offset: v2(&a, "offset", Vec2::ZERO),
            rotation: a.f32("rotation_angle", 0.0).to_radians(),
            rotation_center: v2(&a, "rotation_center", Vec2::splat(0.5)),
            color_correct: None,
            channel: crate::texture::Channel::Rgb,
            udim: None,
        };
        let map = ImageNormal {
            image,
            st,
            recentre: a.int("normal_encoding", 0) == 0,
            wrap_around,
        };
        Some(self.push_map(id, Map::ImageNormal(Box::new(map))))
    }
}
