//! Materials: MoonRay's Dwa materials mapped onto the built-in BSDFs, one per material object,
//! and the grey diffuse stand-in for geometry without one (or with an unsupported one).

use super::known::{known, MATERIAL_COMMON};
use super::SceneBuilder;
use crate::attrs::Attrs;
use crate::bsdf::Material;
use crate::geometry::MaterialId;
use crate::graph::ObjectId;
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
                let albedo = a.rgb("albedo", Vec3::ONE);
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

fn a_default_metal() -> Vec3 {
    Vec3::new(0.9, 0.9, 0.9)
}
