//! Lights: MoonRay's rect, disk, spot, sphere, distant and environment lights with their
//! intensity, exposure and normalisation (`normalized`, `apply_scene_scale`), and an
//! EnvLight's, RectLight's, DiskLight's and SphereLight's `texture` with its transform, colour
//! correction and filter (`crate::envmap`).

use super::known::{known, LIGHTS, LIGHT_COMMON, LIGHT_TEXTURE};
use super::SceneBuilder;
use crate::attrs::Attrs;
use crate::envmap::{ColorCorrect, EnvMap, LightTexture, TextureTransform};
use crate::graph::{ObjectId, Value};
use crate::light::{AreaTexture, Light, Shape};
use crate::texture::Gamma;
use glam::{Vec2, Vec3};
use std::sync::Arc;

impl SceneBuilder<'_> {
    pub(super) fn light(
        &mut self,
        id: ObjectId,
        visible_default: bool,
        scene_scale: f32,
    ) -> Option<Light> {
        let o = self.g.object(id);
        // The texture, decoded before the attributes are read (the decode shares the scene's
        // texture cache, which `a` would otherwise hold borrowed), for the lights that read one.
        let decoded = match o.attrs.get("texture") {
            Some(Value::String(p))
                if !p.is_empty()
                    && ["EnvLight", "RectLight", "DiskLight", "SphereLight"]
                        .contains(&o.class.as_str()) =>
            {
                Some((p.clone(), self.decoded_texture(p, Gamma::Off)))
            }
            _ => None,
        };
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
        // A rect, disk or sphere light's texture (not a spot light's: its uvs come from the
        // focal plane, which is not done here, so its `texture` warns as unsupported).
        let mut texture = None;
        let shape = match o.class.as_str() {
            "RectLight" => {
                let w = a.f32("width", 1.0);
                let h = a.f32("height", 1.0);
                a.warn_unknown(&known(
                    &[LIGHT_COMMON, LIGHT_TEXTURE].concat(),
                    &["width", "height", "spread", "sidedness"],
                ));
                texture = light_texture(&mut a, decoded.clone(), self.reported_missing);
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
                let own_texture: &[&str] = if spot { &[] } else { LIGHT_TEXTURE };
                a.warn_unknown(&known(
                    &[LIGHT_COMMON, own_texture].concat(),
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
                if !spot {
                    texture = light_texture(&mut a, decoded.clone(), self.reported_missing);
                }
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
                a.warn_unknown(&known(
                    &[LIGHT_COMMON, LIGHT_TEXTURE].concat(),
                    &["radius", "sidedness"],
                ));
                texture = light_texture(&mut a, decoded.clone(), self.reported_missing);
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
                a.warn_unknown(&known(
                    &[LIGHT_COMMON, LIGHT_TEXTURE].concat(),
                    &["sample_upper_hemisphere_only"],
                ));
                let upper_only = a.bool("sample_upper_hemisphere_only", false);
                let map = light_texture(&mut a, decoded.clone(), self.reported_missing)
                    .map(|t| Arc::new(EnvMap::new(t, upper_only)));
                Shape::Env {
                    frame: crate::envmap::env_frame(xf),
                    upper_only,
                    map,
                }
            }
        };
        let axes = glam::Mat3::from_cols(
            xf.transform_vector3(Vec3::X).normalize_or(Vec3::X),
            xf.transform_vector3(Vec3::Y).normalize_or(Vec3::Y),
            xf.transform_vector3(Vec3::Z).normalize_or(Vec3::Z),
        );
        // Rect and disk lights draw their points by the texture's luminance.
        let sampled = matches!(shape, Shape::Rect { .. } | Shape::Disk { .. });
        let mut light = Light {
            shape,
            radiance,
            visible_in_camera: visible,
            texture: texture.map(|texture| Arc::new(AreaTexture::new(texture, axes, sampled))),
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

/// A Vec2 attribute, `default` when absent or of another type.
fn vec2(a: &Attrs, name: &str, default: Vec2) -> Vec2 {
    match a.obj.attrs.get(name) {
        Some(Value::Vec2(c)) => Vec2::new(c[0] as f32, c[1] as f32),
        _ => default,
    }
}

/// A light's `texture` (scene_rdl2 `lib/scene/rdl2/Light.cc` for the attributes and defaults;
/// moonray `lib/rendering/pbr/core/Distribution.cc` `ImageDistribution` for their use): the
/// file as MoonRay's OpenImageIO reads it, 8-bit values scaled to 0..1 with no power applied
/// (`gamma` here is the colour correction's), colour-corrected, transformed, with the border
/// colour outside it. `decoded` is the file's path and what `decoded_texture` made of it
/// (None: not among the assets). None when there is no texture; a file that is missing or
/// unreadable warns (unless already reported missing) and the light renders without it.
fn light_texture(
    a: &mut Attrs,
    decoded: Option<(String, super::maps::Decoded)>,
    reported_missing: &std::collections::HashSet<String>,
) -> Option<LightTexture> {
    let (path, decoded) = decoded?;
    let (class, name, loc) = (&a.obj.class, &a.obj.name, &a.obj.loc);
    let decoded = match decoded {
        None => Err(format!(
            "the texture {path} of {class} `{name}` was not found"
        )),
        Some(r) => r.map_err(|e| format!("the texture {path} of {class} `{name}`: {e}")),
    };
    let mut texture = match decoded {
        Ok(t) => t,
        Err(_) if reported_missing.contains(&path) => return None,
        Err(why) => {
            a.warnings
                .push(format!("{loc}: {why}; the light renders without it"));
            return None;
        }
    };
    let cc = ColorCorrect {
        saturation: a.rgb("saturation", Vec3::ONE),
        contrast: a.rgb("contrast", Vec3::ONE),
        gamma: a.rgb("gamma", Vec3::ONE),
        gain: a.rgb("gain", Vec3::ONE),
        offset: a.rgb("offset", Vec3::ZERO),
        temperature: a.vec3("temperature", Vec3::ZERO),
    };
    if !cc.is_identity() {
        // Corrected texels are this light's own; the decoded file stays shared.
        for t in &mut Arc::make_mut(&mut texture).texels {
            *t = cc.apply(*t);
        }
    }
    let transform = TextureTransform::new(
        a.f32("texture_rotation", 0.0),
        vec2(a, "texture_translation", Vec2::ZERO),
        vec2(a, "texture_coverage", Vec2::ONE),
        Vec2::new(a.f32("texture_reps_u", 1.0), a.f32("texture_reps_v", 1.0)),
        (
            a.bool("texture_mirror_u", false),
            a.bool("texture_mirror_v", false),
        ),
    );
    // texture_filter: nearest 0, bilinear 1, and the same two with mip levels (2, 3).
    let filter = a.int("texture_filter", 0);
    if filter >= 2 {
        a.warnings.push(format!(
            "{}: {} `{}`: texture_filter {filter} reads mip levels, which the built-in renderer does not; the top level is read",
            a.obj.loc, a.obj.class, a.obj.name
        ));
    }
    Some(LightTexture {
        texture,
        transform,
        border: a.rgb("texture_border_color", Vec3::ONE),
        bilinear: filter == 1 || filter == 3,
    })
}
