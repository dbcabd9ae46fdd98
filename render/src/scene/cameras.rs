//! The scene's camera: which MoonRay camera class, with its attributes and defaults, as a
//! `camera::Camera`. Built after the geometry, since a BakeCamera's rays start on its mesh.

use super::known::{
    known, BAKE_CAMERA, CAMERA, DOME_MASTER_CAMERA, FISHEYE_CAMERA, SPHERICAL_CAMERA,
};
use super::SceneBuilder;
use crate::attrs::Attrs;
use crate::camera::Camera;
use crate::graph::ObjectId;

impl SceneBuilder<'_> {
    pub(super) fn camera(&mut self, id: ObjectId, width: u32, height: u32) -> Camera {
        let aspect = width as f32 / height as f32;
        let o = self.g.object(id);
        let mut a = Attrs::new(self.g, o, &mut self.warnings);
        let to_world = a.mat4("node_xform");
        let near = a.f32("near", 1.0);
        let far = a.f32("far", 10000.0);
        match o.class.as_str() {
            "OrthographicCamera" => {
                let film_offset = (
                    a.f32("horizontal_film_offset", 0.0),
                    a.f32("vertical_film_offset", 0.0),
                );
                let c = Camera::orthographic(
                    to_world,
                    a.f32("film_width_aperture", 24.0),
                    aspect,
                    film_offset,
                    a.f32("pixel_aspect_ratio", 1.0),
                    near,
                    far,
                );
                a.warn_unknown(CAMERA);
                return c;
            }
            "SphericalCamera" => {
                let latitude = (
                    a.f32("min_latitude", -90.0),
                    a.f32("max_latitude", 90.0),
                    a.f32("latitude_zoom_offset", 0.0),
                );
                let longitude = (
                    a.f32("min_longitude", -180.0),
                    a.f32("max_longitude", 180.0),
                    a.f32("longitude_zoom_offset", 0.0),
                );
                let focal = a.f32("focal", 30.0);
                let inside_out = a
                    .bool("inside_out", false)
                    .then(|| a.f32("offset_radius", 0.0));
                a.warn_unknown(&known(CAMERA, SPHERICAL_CAMERA));
                return Camera::spherical(
                    to_world, latitude, longitude, focal, inside_out, width, height, near, far,
                );
            }
            "DomeMaster3DCamera" => {
                let view = a.int("stereo_view", 0);
                let interocular = a.f32("stereo_interocular_distance", 6.5);
                let eye_offset = match view {
                    1 => -0.5 * interocular,
                    2 => 0.5 * interocular,
                    _ => 0.0,
                };
                if a.string("interocular_distance_map_file_name")
                    .is_some_and(|f| !f.is_empty())
                {
                    a.warnings.push(format!(
                        "{}: DomeMaster3DCamera `{}`: interocular_distance_map_file_name is not supported by the built-in renderer; using the constant distance",
                        o.loc, o.name
                    ));
                }
                let dm = crate::camera::DomeMaster {
                    fov_horizontal: a.f32("FOV_horizontal_angle", 60.0).to_radians(),
                    fov_vertical: a.f32("FOV_vertical_angle", 30.0).to_radians(),
                    zenith_mode: a.bool("zenith_mode", false),
                    flip_x: a.bool("flip_ray_x", false),
                    flip_y: a.bool("flip_ray_y", false),
                    eye_offset,
                    parallax_distance: a.f32("stereo_convergence_distance", 360.0),
                };
                a.warn_unknown(&known(CAMERA, DOME_MASTER_CAMERA));
                return Camera {
                    to_world,
                    projection: crate::camera::Projection::DomeMaster(dm),
                    near,
                    far,
                };
            }
            "FisheyeCamera" => {
                let mapping = a.int("mapping", 0);
                let format = a.int("format", 0);
                let zoom = a.f32("zoom", 1.0);
                let fov = a.f32("fov", 180.0);
                a.warn_unknown(&known(CAMERA, FISHEYE_CAMERA));
                let (w, h) = (width as f32, height as f32);
                let diameter = match format {
                    1 => w.max(h),
                    2 => (w * w + h * h).sqrt(),
                    _ => w.min(h),
                };
                return Camera {
                    to_world,
                    projection: crate::camera::Projection::Fisheye {
                        mapping,
                        radial_scale: 2.0 / diameter / zoom,
                        half_fov: 0.5 * fov.to_radians(),
                    },
                    near,
                    far,
                };
            }
            "BakeCamera" => {
                let map_factor = a.f32("map_factor", 1.0);
                let udim = a.int("udim", 1001);
                let mode = a.int("mode", 3);
                let bias = a.f32("bias", 0.003);
                let relative = a.bool("use_relative_bias", true);
                if a.string("normal_map").is_some_and(|f| !f.is_empty()) {
                    a.warnings.push(format!(
                        "{}: BakeCamera `{}`: normal_map is not supported by the built-in renderer; using the geometry's normals",
                        o.loc, o.name
                    ));
                }
                if a.string("uv_attribute").is_some_and(|f| !f.is_empty()) {
                    a.warnings.push(format!(
                        "{}: BakeCamera `{}`: uv_attribute is not supported by the built-in renderer; using the mesh's uv_list",
                        o.loc, o.name
                    ));
                }
                a.warn_unknown(&known(CAMERA, BAKE_CAMERA));
                let mw = (width as f32 * map_factor).floor().max(0.0) as usize;
                let mh = (height as f32 * map_factor).floor().max(0.0) as usize;
                let mut map = crate::camera::BakeMap::new(mw, mh, mode, bias, relative);
                if self.bake_geometry.is_none() || self.prims_of_bake.is_empty() {
                    self.warnings.push(format!(
                        "{}: BakeCamera `{}`: its geometry is not a mesh in the Layer; nothing to bake",
                        o.loc, o.name
                    ));
                }
                let min_s = ((udim - 1001) % 10) as f32;
                let min_t = ((udim - 1001) / 10) as f32;
                let in_tile = |st: glam::Vec2| {
                    (st.x >= min_s && st.x <= min_s + 1.0 && st.y >= min_t && st.y <= min_t + 1.0)
                        .then(|| {
                            (st - glam::Vec2::new(min_s, min_t))
                                .clamp(glam::Vec2::ZERO, glam::Vec2::ONE)
                        })
                };
                for prim in &self.prims[self.prims_of_bake.clone()] {
                    let crate::geometry::Primitive::Triangle {
                        p0,
                        e1,
                        e2,
                        corners: Some(c),
                        ..
                    } = prim
                    else {
                        continue;
                    };
                    let Some(uv) = c.uv else { continue };
                    let (Some(a0), Some(a1), Some(a2)) =
                        (in_tile(uv[0]), in_tile(uv[1]), in_tile(uv[2]))
                    else {
                        continue;
                    };
                    let n = c.normals.unwrap_or([e1.cross(*e2).normalize_or_zero(); 3]);
                    map.rasterize([a0, a1, a2], [*p0, *p0 + *e1, *p0 + *e2], n);
                }
                return Camera {
                    to_world,
                    projection: crate::camera::Projection::Bake(Box::new(map)),
                    near,
                    far,
                };
            }
            "PerspectiveCamera" => {}
            _ => {
                a.warnings.push(format!(
                    "{}: {} `{}` is rendered as a perspective camera",
                    o.loc, o.class, o.name
                ));
            }
        }
        let focal = a.f32("focal", 30.0);
        let fwa = a.f32("film_width_aperture", 24.0);
        a.warn_unknown(CAMERA);
        Camera::new(
            to_world,
            focal.max(1e-3),
            fwa.max(1e-3),
            aspect,
            near.max(0.0),
            far,
        )
    }
}
