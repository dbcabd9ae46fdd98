//! Materials: MoonRay's Dwa materials mapped onto the built-in BSDFs, one per material object,
//! and the grey diffuse stand-in for geometry without one (or with an unsupported one).

use super::known::{known, MATERIAL_COMMON};
use super::SceneBuilder;
use crate::assets::Assets;
use crate::attrs::Attrs;
use crate::bsdf::Material;
use crate::geometry::MaterialId;
use crate::graph::{ObjectId, SceneGraph, Value};
use crate::texture::{Gamma, Texture};
use glam::Vec3;

impl SceneBuilder<'_> {
    pub(super) fn material(&mut self, id: Option<ObjectId>) -> MaterialId {
        if let Some(&m) = self.material_ids.get(&id) {
            return m;
        }
        let m = match id {
            None => Material::grey(),
            Some(id) => self.build_material(id),
        };
        let mid = self.materials.len() as MaterialId;
        self.materials.push(m);
        self.material_ids.insert(id, mid);
        mid
    }

    fn build_material(&mut self, id: ObjectId) -> Material {
        let o = self.g.object(id);
        let mut a = Attrs::new(self.g, o, &mut self.warnings);
        // DwaEmissiveMaterial reads its `emission` below (default white): reading it here too
        // would warn twice about a bound map.
        let emission = if o.class != "DwaEmissiveMaterial" && a.bool("show_emission", true) {
            a.rgb("emission", Vec3::ZERO)
        } else {
            Vec3::ZERO
        };
        let m = match o.class.as_str() {
            "DwaBaseMaterial" => {
                let show_diffuse = a.bool("show_diffuse", true);
                let show_specular = a.bool("show_specular", true);
                let albedo = match image_map_colour(self.g, self.assets, o.attrs.get("albedo")) {
                    Some(Ok(c)) => c,
                    Some(Err(why)) => {
                        a.warnings.push(format!(
                            "{}: {} `{}`: attribute `albedo`: {why}; using the default",
                            o.loc, o.class, o.name
                        ));
                        Vec3::ONE
                    }
                    None => a.rgb("albedo", Vec3::ONE),
                };
                Material::Base {
                    albedo: if show_diffuse { albedo } else { Vec3::ZERO },
                    specular: if show_specular {
                        a.f32("specular", 1.0)
                    } else {
                        0.0
                    },
                    roughness: a.f32("roughness", 0.5).clamp(0.0, 1.0),
                    metallic: a.f32("metallic", 0.0),
                    ior: a.f32("refractive_index", 1.5).max(1.0001),
                    emission,
                }
            }
            "DwaMetalMaterial" => Material::Metal {
                color: a.rgb("color", a_default_metal()),
                roughness: a.f32("roughness", 0.5).clamp(0.0, 1.0),
                emission,
            },
            "DwaSolidDielectricMaterial" | "DwaRefractiveMaterial" => Material::Dielectric {
                tint: a.rgb("transmission_color", Vec3::ONE),
                ior: a.f32("refractive_index", 1.5).max(1.0001),
                roughness: a.f32("roughness", 0.0),
                thin: a.bool("thin_geometry", false),
                emission,
            },
            "DwaEmissiveMaterial" => Material::Emissive {
                radiance: a.rgb("emission", Vec3::ONE)
                    * a.f32("intensity", 1.0)
                    * 2f32.powf(a.f32("exposure", 0.0)),
            },
            other => {
                a.warnings.push(format!(
                    "{}: material {other} `{}` is not supported: rendered as grey diffuse",
                    o.loc, o.name
                ));
                return Material::grey();
            }
        };
        a.warn_unknown(&known(
            MATERIAL_COMMON,
            &[
                "albedo",
                "specular",
                "roughness",
                "metallic",
                "color",
                "intensity",
                "exposure",
                "transmission_color",
                "thin_geometry",
                "refractive_index",
                "extinction_coefficient",
                "edge_color",
                "emission",
                "albedo_color",
                "show_diffuse",
                "show_specular",
                "show_emission",
            ],
        ));
        m
    }
}

/// The colour of an attribute bound to an ImageMap whose texture the scene was given: the
/// bind's value (white without one) times the texture's mean linear colour. MoonRay multiplies
/// a bound attribute's value by the map's sample (moonray `lib/rendering/shading/EvalAttribute.h`,
/// `evalColor`); the built-in renderer has no texture coordinates on its primitives, so it takes
/// the texture's mean rather than the texel under each hit. `None` when the attribute is not
/// bound to an ImageMap; an error (for a warning) when its texture is absent or undecodable.
fn image_map_colour(
    g: &SceneGraph,
    assets: &Assets,
    value: Option<&Value>,
) -> Option<Result<Vec3, String>> {
    let Some(Value::Bind {
        target: Some(map),
        value,
    }) = value
    else {
        return None;
    };
    let m = g.object(*map);
    if m.class != "ImageMap" {
        return None;
    }
    let base = match **value {
        Value::Rgb(c) => Vec3::new(c[0] as f32, c[1] as f32, c[2] as f32),
        _ => Vec3::ONE,
    };
    let Some(Value::String(path)) = m.attrs.get("texture") else {
        return Some(Err(format!("ImageMap `{}` has no `texture`", m.name)));
    };
    // A UDIM pattern: the first tile stands for the whole texture.
    let key = if path.contains(crate::assets::UDIM) {
        crate::assets::udim_path(path, 1001)
    } else {
        path.clone()
    };
    let Some(bytes) = assets.get(&key) else {
        return Some(Err(format!(
            "the texture {key} of ImageMap `{}` was not found",
            m.name
        )));
    };
    let gamma = match m.attrs.get("gamma") {
        Some(Value::Int(v)) => Gamma::from_attr(*v),
        _ => Gamma::Auto,
    };
    Some(
        Texture::decode(bytes, gamma)
            .map(|t| base * t.mean())
            .map_err(|e| format!("the texture {key} of ImageMap `{}`: {e}", m.name)),
    )
}

fn a_default_metal() -> Vec3 {
    Vec3::new(0.9, 0.9, 0.9)
}
