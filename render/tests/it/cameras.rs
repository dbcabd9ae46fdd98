//! Known answers for MoonRay's non-projective cameras: which direction a pixel looks in
//! (SphericalCamera, DomeMaster3DCamera) and which surface point it sees (BakeCamera).

use super::shading::{mean, near, scene};
use glam::Vec3;

fn close(a: Vec3, b: Vec3, tol: f32) -> bool {
    (a - b).length() <= tol
}

#[test]
fn a_spherical_camera_maps_pixels_to_latitude_and_longitude() {
    // MoonRay's default ranges are its legacy sphere: the image centre looks down -X and
    // longitude 0 (-Z) sits three quarters across. Each pixel of a 72x36 map spans 5 degrees.
    let (s, warnings) = scene(
        r#"
SceneVariables { ["image_width"] = 72, ["image_height"] = 36, ["pixel_filter"] = 0,
                 ["pixel_filter_width"] = 1 }
SphericalCamera("cam") { }
local a = SphereGeometry("a") { ["node_xform"] = translate(-10, 0, 0), ["radius"] = 3 }
local b = SphereGeometry("b") { ["node_xform"] = translate(0, 0, -10), ["radius"] = 3 }
local ma = DwaEmissiveMaterial("ma") { ["emission"] = Rgb(1, 0, 0) }
local mb = DwaEmissiveMaterial("mb") { ["emission"] = Rgb(0, 0, 1) }
Layer("layer") { { a, "", ma }, { b, "", mb } }
"#,
    );
    assert!(
        !warnings.iter().any(|w| w.contains("SphericalCamera")),
        "{warnings:?}"
    );
    let c = &s.camera;
    let d = |x: f32, y: f32| c.ray(x, y, 72, 36).unwrap().d;
    assert!(
        close(d(36.0, 18.0), Vec3::NEG_X, 1e-5),
        "{:?}",
        d(36.0, 18.0)
    );
    assert!(
        close(d(54.0, 18.0), Vec3::NEG_Z, 1e-5),
        "{:?}",
        d(54.0, 18.0)
    );
    // The top edge is latitude 90 (straight up), the bottom one -90.
    assert!(close(d(10.0, 0.0), Vec3::Y, 1e-5));
    assert!(close(d(10.0, 36.0), Vec3::NEG_Y, 1e-5));
    // Pixel (45, 9) (y down): longitude 45 * 5 - 270 = -45 degrees, latitude 45 degrees.
    let h = std::f32::consts::FRAC_1_SQRT_2;
    assert!(close(d(45.0, 9.0), Vec3::new(-0.5, h, -0.5), 1e-5));
    // The two spheres are seen where their directions say (each 17.5 degrees in radius).
    assert!(near(mean(&s, (35, 17, 37, 19), 4), [1.0, 0.0, 0.0], 1e-6));
    assert!(near(mean(&s, (53, 17, 55, 19), 4), [0.0, 0.0, 1.0], 1e-6));
    assert!(near(mean(&s, (0, 0, 4, 4), 4), [0.0; 3], 1e-6));
}

#[test]
fn a_spherical_camera_zooms_and_turns_inside_out_as_moonray_s() {
    // Latitudes -45..45 and longitudes -90..90 (not the legacy sphere: the centre looks down
    // -Z); focal 60 halves both ranges about their middles.
    let (s, _) = scene(
        r#"
SceneVariables { ["image_width"] = 40, ["image_height"] = 20 }
SphericalCamera("cam") { ["min_latitude"] = -45, ["max_latitude"] = 45, ["min_longitude"] = -90,
    ["max_longitude"] = 90, ["focal"] = 60, ["inside_out"] = true, ["offset_radius"] = 100,
    ["node_xform"] = translate(1, 2, 3) }
"#,
    );
    let r = s.camera.ray(0.0, 10.0, 40, 20).unwrap();
    // The left edge is longitude -45: the ray starts 100 out that way and looks back.
    let out = Vec3::new(
        -std::f32::consts::FRAC_1_SQRT_2,
        0.0,
        -std::f32::consts::FRAC_1_SQRT_2,
    );
    assert!(close(r.d, -out, 1e-5), "{:?}", r.d);
    assert!(
        close(r.o, Vec3::new(1.0, 2.0, 3.0) + out * 100.0, 1e-3),
        "{:?}",
        r.o
    );
    // The top edge is latitude 22.5.
    let top = s.camera.ray(20.0, 0.0, 40, 20).unwrap();
    let t = 22.5f32.to_radians();
    assert!(
        close(top.d, -Vec3::new(0.0, t.sin(), -t.cos()), 1e-5),
        "{:?}",
        top.d
    );
}

#[test]
fn a_dome_master_camera_spans_its_fields_of_view() {
    let (s, warnings) = scene(
        r#"
SceneVariables { ["image_width"] = 64, ["image_height"] = 32 }
DomeMaster3DCamera("cam") { ["FOV_horizontal_angle"] = 180, ["FOV_vertical_angle"] = 90 }
"#,
    );
    assert!(
        !warnings.iter().any(|w| w.contains("DomeMaster3DCamera")),
        "{warnings:?}"
    );
    let d = |x: f32, y: f32| s.camera.ray(x, y, 64, 32).unwrap().d;
    assert!(close(d(32.0, 16.0), Vec3::NEG_Z, 1e-6));
    // The right edge is phi = 90 degrees: +X; the top edge theta = 45 degrees up.
    assert!(close(d(64.0, 16.0), Vec3::X, 1e-6), "{:?}", d(64.0, 16.0));
    let h = std::f32::consts::FRAC_1_SQRT_2;
    assert!(close(d(32.0, 0.0), Vec3::new(0.0, h, -h), 1e-6));

    // Zenith mode measures theta from the camera's -Z: the top edge (theta = 0) looks down
    // -Z, the image's centre (theta = 90 degrees) along -Y; flip_ray_x mirrors x.
    let (s, _) = scene(
        r#"
SceneVariables { ["image_width"] = 64, ["image_height"] = 64 }
DomeMaster3DCamera("cam") { ["FOV_horizontal_angle"] = 180, ["FOV_vertical_angle"] = 180,
    ["zenith_mode"] = true, ["flip_ray_x"] = true }
"#,
    );
    let d = |x: f32, y: f32| s.camera.ray(x, y, 64, 64).unwrap().d;
    assert!(
        close(d(32.0, 32.0), Vec3::NEG_Y, 1e-6),
        "{:?}",
        d(32.0, 32.0)
    );
    // The right edge's middle: phi = 90, theta = 90, (1, 0, 0) flipped to -X.
    assert!(close(d(32.0, 0.0), Vec3::NEG_Z, 1e-6), "{:?}", d(32.0, 0.0));
    assert!(
        close(d(64.0, 32.0), Vec3::NEG_X, 1e-6),
        "{:?}",
        d(64.0, 32.0)
    );
}

#[test]
fn a_dome_master_stereo_eye_converges_on_the_centre_ray() {
    // The right eye sits 3.25 along +X and aims at the centre ray's point 360 away.
    let (s, _) = scene(
        r#"
SceneVariables { ["image_width"] = 64, ["image_height"] = 32 }
DomeMaster3DCamera("cam") { ["stereo_view"] = "right view" }
"#,
    );
    let r = s.camera.ray(32.0, 16.0, 64, 32).unwrap();
    assert!(close(r.o, Vec3::new(3.25, 0.0, 0.0), 1e-6), "{:?}", r.o);
    assert!(
        close(r.d, Vec3::new(-3.25, 0.0, -360.0).normalize(), 1e-6),
        "{:?}",
        r.d
    );
}

/// A triangle covering the lower-left half of uv space, on the plane z = 0 (x and y from -1
/// to 1), emitting `(0.25, 0.5, 0.75)`, baked by a 32x32 BakeCamera with `camera_attrs`.
fn baked(camera_attrs: &str) -> (render::scene::Scene, Vec<String>) {
    scene(&format!(
        r#"
SceneVariables {{ ["image_width"] = 32, ["image_height"] = 32, ["pixel_filter"] = 0,
                 ["pixel_filter_width"] = 1 }}
local t = RdlMeshGeometry("t") {{
    ["vertex_list_0"] = {{ Vec3(-1, -1, 0), Vec3(1, -1, 0), Vec3(-1, 1, 0) }},
    ["vertices_by_index"] = {{ 0, 1, 2 }}, ["face_vertex_count"] = {{ 3 }},
    ["is_subd"] = false,
    ["uv_list"] = {{ Vec2(0, 0), Vec2(1, 0), Vec2(0, 1) }},
}}
BakeCamera("cam") {{ ["geometry"] = t, {camera_attrs} }}
local mtl = DwaEmissiveMaterial("mtl") {{ ["emission"] = Rgb(0.25, 0.5, 0.75) }}
Layer("layer") {{ {{ t, "", mtl }} }}
"#
    ))
}

#[test]
fn a_bake_camera_sees_its_geometry_at_each_pixel_s_uv() {
    let (s, warnings) = baked("");
    assert!(
        !warnings.iter().any(|w| w.contains("BakeCamera")),
        "{warnings:?}"
    );
    // Pixel (8, 24) with y down is MoonRay's (8.5, 7.5) at its centre: uv (8.5, 7.5) / 32,
    // the point (2u - 1, 2v - 1, 0). The default mode 3 starts the ray bias (0.003, times
    // max(|P|, 1)) above it along the normal (+Z here) and sends it down, near bias / 2.
    let r = s.camera.ray(8.5, 24.5, 32, 32).unwrap();
    let p = Vec3::new(2.0 * 8.5 / 32.0 - 1.0, 2.0 * 7.5 / 32.0 - 1.0, 0.0);
    assert!(close(r.o, p + Vec3::Z * 0.003, 1e-5), "{:?}", r.o);
    assert!(close(r.d, Vec3::NEG_Z, 1e-6));
    assert!((r.tmin - 0.0015).abs() < 1e-7, "{}", r.tmin);
    // No ray where no triangle covers the uv (above the diagonal u + v = 1).
    assert!(s.camera.ray(28.5, 2.5, 32, 32).is_none());
    // The image is the surface's emission below the diagonal and empty above it.
    assert!(near(mean(&s, (2, 18, 12, 30), 2), [0.25, 0.5, 0.75], 1e-6));
    assert!(near(mean(&s, (20, 2, 30, 12), 2), [0.0; 3], 1e-6));

    // Mode 1 goes out along the normal from bias above the point, near the camera's near;
    // an absolute bias of 0.5.
    let (s, _) =
        baked(r#"["mode"] = 1, ["bias"] = 0.5, ["use_relative_bias"] = false, ["near"] = 0.1"#);
    let r = s.camera.ray(8.5, 24.5, 32, 32).unwrap();
    assert!(close(r.o, p + Vec3::Z * 0.5, 1e-5), "{:?}", r.o);
    assert!(close(r.d, Vec3::Z, 1e-6));
    assert!((r.tmin - 0.1).abs() < 1e-7);
    // Mode 0 comes from the camera (at (0, 0, 4)) through the point.
    let (s, _) = baked(r#"["mode"] = 0, ["node_xform"] = translate(0, 0, 4)"#);
    let r = s.camera.ray(8.5, 24.5, 32, 32).unwrap();
    let d = (p - Vec3::new(0.0, 0.0, 4.0)).normalize();
    assert!(close(r.d, d, 1e-5), "{:?}", r.d);
    assert!(close(r.o, p - d * 0.003, 1e-5), "{:?}", r.o);
}

#[test]
fn a_fisheye_camera_maps_the_radius_to_the_angle_by_its_mapping() {
    let fisheye = |attrs: &str| {
        scene(&format!(
            r#"
SceneVariables {{ ["image_width"] = 64, ["image_height"] = 32 }}
FisheyeCamera("cam") {{ {attrs} }}
"#
        ))
        .0
    };
    // Equidistant, circular: the diameter is the smaller side, 32; 16 pixels out is R = 1,
    // theta = 90 degrees. 8 pixels up is 45 degrees up from -Z.
    let s = fisheye(r#"["mapping"] = "equidistant""#);
    let d = |x: f32, y: f32| s.camera.ray(x, y, 64, 32).map(|r| r.d);
    assert!(close(d(32.0, 16.0).unwrap(), Vec3::NEG_Z, 1e-6));
    assert!(
        close(d(48.0, 16.0).unwrap(), Vec3::X, 1e-6),
        "{:?}",
        d(48.0, 16.0)
    );
    let h = std::f32::consts::FRAC_1_SQRT_2;
    assert!(close(d(32.0, 8.0).unwrap(), Vec3::new(0.0, h, -h), 1e-6));
    // Beyond half the 180 degree field of view: no ray.
    assert!(d(50.0, 16.0).is_none());
    // Stereographic: R = 1 is also 90 degrees, R = 0.5 gives sin = 0.8, cos = 0.6.
    let s = fisheye("");
    let r = s.camera.ray(40.0, 16.0, 64, 32).unwrap();
    assert!(close(r.d, Vec3::new(0.8, 0.0, -0.6), 1e-6), "{:?}", r.d);
    // Orthographic with a cropped format (diameter 64) and zoom 2: R = 16 * 2 / 64 / 2 = 0.25.
    let s = fisheye(r#"["mapping"] = 3, ["format"] = 1, ["zoom"] = 2"#);
    let r = s.camera.ray(48.0, 16.0, 64, 32).unwrap();
    assert!(
        close(r.d, Vec3::new(0.25, 0.0, -(1.0f32 - 0.0625).sqrt()), 1e-6),
        "{:?}",
        r.d
    );
}
