//! Lights: MoonRay's rect, disk, spot, sphere, distant and environment lights with their
//! intensity, exposure and normalisation (`normalized`, `apply_scene_scale`).

use super::known::{known, LIGHTS, LIGHT_COMMON};
use super::SceneBuilder;
use crate::attrs::Attrs;
use crate::graph::{ObjectId, Value};
use crate::light::{Light, Shape};
use glam::Vec3;

impl SceneBuilder<'_> {
    pub(super) fn light(
        &mut self,
        id: ObjectId,
        visible_default: bool,
        scene_scale: f32,
    ) -> Option<Light> {
        let o = self.g.object(id);
        let mut a = Attrs::new(self.g, o, &mut self.warnings);
        if !LIGHTS.contains(&o.class.as_str()) {
            return None; // warned about as an unsupported class
        }
        if !a.bool("on", true) {
            return None;
        }
        let xf = a.mat4("node_xform");
        let mut radiance =
            a.rgb("color", Vec3::ONE) * a.f32("intensity", 1.0) * 2f32.powf(a.f32("exposure", 0.0));
        let normalized = a.bool("normalized", true);
        let apply_scene_scale = a.bool("apply_scene_scale", true);
        let visible = match a.obj.attrs.get("visible_in_camera") {
            Some(Value::String(s)) if s == "force on" => true,
            Some(Value::String(s)) if s == "force off" => false,
            Some(Value::Int(1)) => true,
            Some(Value::Int(0)) => false,
            _ => visible_default,
        };
        let normal = xf.transform_vector3(Vec3::NEG_Z).normalize_or(Vec3::NEG_Z);
        let shape = match o.class.as_str() {
            "RectLight" => {
                let w = a.f32("width", 1.0);
                let h = a.f32("height", 1.0);
                a.warn_unknown(&known(
                    LIGHT_COMMON,
                    &["width", "height", "spread", "sidedness"],
                ));
                Shape::Rect {
                    center: xf.transform_point3(Vec3::ZERO),
                    half_u: xf.transform_vector3(Vec3::X * w * 0.5),
                    half_v: xf.transform_vector3(Vec3::Y * h * 0.5),
                    normal,
                }
            }
            "DiskLight" | "SpotLight" => {
                let spot = o.class == "SpotLight";
                let r = if spot {
                    a.f32("lens_radius", 1.0)
                } else {
                    a.f32("radius", 1.0)
                };
                let cone = spot.then(|| {
                    let outer = a.f32("outer_cone_angle", 60.0).to_radians() * 0.5;
                    let inner = a.f32("inner_cone_angle", 30.0).to_radians() * 0.5;
                    (inner.cos(), outer.cos())
                });
                a.warn_unknown(&known(
                    LIGHT_COMMON,
                    &[
                        "radius",
                        "lens_radius",
                        "outer_cone_angle",
                        "inner_cone_angle",
                        "angle_falloff_type",
                        "aspect_ratio",
                        "focal_plane_distance",
                        "black_level",
                        "sidedness",
                        "spread",
                        "bottom_blur",
                        "right_blur",
                        "top_blur",
                        "left_blur",
                    ],
                ));
                let u = xf.transform_vector3(Vec3::X);
                let scale = u.length();
                Shape::Disk {
                    center: xf.transform_point3(Vec3::ZERO),
                    u: u / scale,
                    v: xf.transform_vector3(Vec3::Y).normalize(),
                    normal,
                    radius: r * scale,
                    cone,
                }
            }
            "SphereLight" => {
                let r = a.f32("radius", 1.0);
                a.warn_unknown(&known(LIGHT_COMMON, &["radius", "sidedness"]));
                Shape::Sphere {
                    center: xf.transform_point3(Vec3::ZERO),
                    radius: r * xf.transform_vector3(Vec3::X).length(),
                }
            }
            "DistantLight" => {
                let extent = a.f32("angular_extent", 0.53).max(1e-3).to_radians();
                a.warn_unknown(&known(LIGHT_COMMON, &["angular_extent"]));
                let cos_half = (extent * 0.5).cos();
                // Irradiance at normal incidence equals colour * intensity, whatever the extent.
                let solid = 2.0 * std::f32::consts::PI * (1.0 - cos_half);
                radiance /= solid;
                Shape::Distant {
                    dir: -normal,
                    cos_half,
                }
            }
            _ => {
                a.warn_unknown(&known(LIGHT_COMMON, &["sample_upper_hemisphere_only"]));
                Shape::Env
            }
        };
        let mut light = Light {
            shape,
            radiance,
            visible_in_camera: visible,
        };
        let area = light.area();
        if normalized && area > 0.0 {
            let s2 = if apply_scene_scale {
                scene_scale * scene_scale
            } else {
                1.0
            };
            light.radiance /= area * s2 * std::f32::consts::PI;
        }
        Some(light)
    }
}
