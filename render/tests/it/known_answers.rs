//! The white furnace, a light seen directly, one analytic bounce, and the pass-split identity.

use render::integrator::{render_tile, PixelRect};
use render::rdla::SceneSource;
use render::scene::{BuildOptions, Scene};
use std::sync::atomic::AtomicBool;

fn scene(text: &str) -> Scene {
    let src = SceneSource {
        name: "test.rdla".into(),
        text: text.as_bytes().to_vec(),
    };
    render::prepare(&[src], &[], &BuildOptions::default())
        .expect("the test scene loads")
        .0
}

/// Mean RGB of a rectangle after `spp` samples per pixel.
fn mean(scene: &Scene, rect: PixelRect, spp: u32) -> [f64; 3] {
    let t = render_tile(scene, rect, 0..spp, 0, &AtomicBool::new(false)).unwrap();
    let n = t.sums.len() as f64 * f64::from(spp);
    let mut m = [0.0; 3];
    for s in &t.sums {
        for c in 0..3 {
            m[c] += s[c] / n;
        }
    }
    m
}

const FURNACE: &str = r#"
SceneVariables { ["image_width"] = 32, ["image_height"] = 32, ["lights_visible_in_camera"] = true,
                 ["pixel_filter"] = 0, ["pixel_filter_width"] = 1 }
Camera("cam") { ["node_xform"] = translate(0, 0, 5), ["focal"] = 30 }
local ball = SphereGeometry("ball") { ["radius"] = 1 }
local grey = DwaBaseMaterial("grey") { ["albedo"] = Rgb(0.8, 0.8, 0.8), ["specular"] = 0 }
local env = EnvLight("env") { ["color"] = Rgb(1, 1, 1) }
Layer("layer") { { ball, "", grey, LightSet("lights") { env } } }
"#;

#[test]
fn white_furnace_gives_the_albedo_on_the_object_and_one_on_the_background() {
    let s = scene(FURNACE);
    // The sphere (radius 1 at distance 5, 43.6 degree view) covers the middle of the image.
    let object = mean(
        &s,
        PixelRect {
            x0: 12,
            y0: 12,
            x1: 20,
            y1: 20,
        },
        256,
    );
    let background = mean(
        &s,
        PixelRect {
            x0: 0,
            y0: 0,
            x1: 4,
            y1: 4,
        },
        256,
    );
    for c in 0..3 {
        assert!((object[c] - 0.8).abs() < 0.008, "object {object:?}");
        assert!(
            (background[c] - 1.0).abs() < 0.01,
            "background {background:?}"
        );
    }
}

#[test]
fn a_light_seen_directly_shows_its_radiance() {
    // An unnormalised 4x4 RectLight facing the camera fills the middle of the view.
    let s = scene(
        r#"
SceneVariables { ["image_width"] = 16, ["image_height"] = 16, ["lights_visible_in_camera"] = true }
Camera("cam") { ["node_xform"] = translate(0, 0, 3) }
RectLight("l") { ["width"] = 4, ["height"] = 4, ["color"] = Rgb(0.5, 1, 2), ["intensity"] = 3, ["exposure"] = 1, ["normalized"] = false,
                 ["node_xform"] = rotate(180, 0, 1, 0) }
"#,
    );
    let m = mean(
        &s,
        PixelRect {
            x0: 6,
            y0: 6,
            x1: 10,
            y1: 10,
        },
        4,
    );
    // color * intensity * 2^exposure.
    let expect = [3.0, 6.0, 12.0];
    for c in 0..3 {
        assert!((m[c] - expect[c]).abs() < 1e-4 * expect[c], "{m:?}");
    }
}

#[test]
fn a_diffuse_plane_under_a_distant_light_follows_lambert() {
    // A white-ish plane facing the camera, lit head-on by a distant light of irradiance E:
    // radiance = albedo * E / pi, exactly, whatever the sample count (no indirect light).
    let s = scene(
        r#"
SceneVariables { ["image_width"] = 8, ["image_height"] = 8, ["max_depth"] = 0 }
Camera("cam") { ["node_xform"] = translate(0, 0, 2) }
local plane = RdlMeshGeometry("plane") {
    ["vertex_list_0"] = { Vec3(-10, -10, 0), Vec3(10, -10, 0), Vec3(10, 10, 0), Vec3(-10, 10, 0) },
    ["vertices_by_index"] = { 0, 1, 2, 3 }, ["face_vertex_count"] = { 4 }, ["is_subd"] = false }
local mat = DwaBaseMaterial("m") { ["albedo"] = Rgb(0.5, 0.5, 0.5), ["specular"] = 0 }
local sun = DistantLight("sun") { ["intensity"] = 2 }
Layer("layer") { { plane, "", mat, LightSet("ls") { sun } } }
"#,
    );
    let m = mean(
        &s,
        PixelRect {
            x0: 0,
            y0: 0,
            x1: 8,
            y1: 8,
        },
        64,
    );
    let expect = 0.5 * 2.0 / std::f64::consts::PI;
    for c in m {
        assert!((c - expect).abs() < 0.01 * expect, "{m:?} vs {expect}");
    }
}

#[test]
fn rays_go_on_behind_the_lights_they_meet() {
    // A diffuse plane (albedo 0.5) under a white EnvLight, with a dark 4x4 RectLight 1 above
    // it, facing it, between the plane and the sky and between the camera and the plane. In
    // MoonRay lights occlude nothing: the camera (which does not see lights by default) sees
    // the plane, and a BSDF ray that meets the rectangle counts it and goes on to the sky, so
    // the plane shows albedo * the sky's radiance, 0.5 (the rectangle's radiance, 2e-4, adds
    // at most 1e-4).
    // Were the rectangle to end the rays, the centre would be black to the camera and, to the
    // BSDF half of the light sampling, short of the sky it hides (about a third of it).
    let s = scene(
        r#"
SceneVariables { ["image_width"] = 8, ["image_height"] = 8, ["max_depth"] = 0 }
OrthographicCamera("cam") { ["node_xform"] = translate(0, 0, 5), ["film_width_aperture"] = 1 }
local plane = RdlMeshGeometry("plane") {
    ["vertex_list_0"] = { Vec3(-100, -100, 0), Vec3(100, -100, 0), Vec3(100, 100, 0), Vec3(-100, 100, 0) },
    ["vertices_by_index"] = { 0, 1, 2, 3 }, ["face_vertex_count"] = { 4 }, ["is_subd"] = false }
local mat = DwaBaseMaterial("m") { ["albedo"] = Rgb(0.5, 0.5, 0.5), ["specular"] = 0 }
local sky = EnvLight("sky") { ["color"] = Rgb(1, 1, 1) }
local rect = RectLight("rect") { ["width"] = 4, ["height"] = 4, ["intensity"] = 0.000001,
                                 ["node_xform"] = translate(0, 0, 1) }
Layer("layer") { { plane, "", mat, LightSet("ls") { sky, rect } } }
"#,
    );
    let m = mean(
        &s,
        PixelRect {
            x0: 0,
            y0: 0,
            x1: 8,
            y1: 8,
        },
        256,
    );
    for c in m {
        assert!((c - 0.5).abs() < 0.005, "{m:?} vs 0.5");
    }
}

#[test]
fn a_camera_ray_sees_a_visible_light_and_the_surface_behind_it() {
    // The Lambert plane above (albedo 0.5, a distant light of intensity 2 head-on), seen by an
    // orthographic camera through a one-sided 4x4 RectLight of radiance 0.25 that faces the
    // camera (so it lights nothing the camera sees) and hangs between the plane and the sun.
    // MoonRay sums the visible lights a camera ray passes and goes on to the surface, and
    // lights block no shadow ray: every pixel is 0.5 * 2 / pi + 0.25 exactly (no indirect
    // light). A camera ray stopped by the light would give 0.25; a shadow ray stopped by it,
    // 0.25 too.
    let s = scene(
        r#"
SceneVariables { ["image_width"] = 8, ["image_height"] = 8, ["max_depth"] = 0,
                 ["lights_visible_in_camera"] = true }
OrthographicCamera("cam") { ["node_xform"] = translate(0, 0, 5), ["film_width_aperture"] = 1 }
local plane = RdlMeshGeometry("plane") {
    ["vertex_list_0"] = { Vec3(-10, -10, 0), Vec3(10, -10, 0), Vec3(10, 10, 0), Vec3(-10, 10, 0) },
    ["vertices_by_index"] = { 0, 1, 2, 3 }, ["face_vertex_count"] = { 4 }, ["is_subd"] = false }
local mat = DwaBaseMaterial("m") { ["albedo"] = Rgb(0.5, 0.5, 0.5), ["specular"] = 0 }
local sun = DistantLight("sun") { ["intensity"] = 2 }
local rect = RectLight("rect") { ["width"] = 4, ["height"] = 4, ["intensity"] = 0.25, ["normalized"] = false,
                                 ["node_xform"] = rotate(180, 0, 1, 0) * translate(0, 0, 1) }
Layer("layer") { { plane, "", mat, LightSet("ls") { sun, rect } } }
"#,
    );
    let m = mean(
        &s,
        PixelRect {
            x0: 0,
            y0: 0,
            x1: 8,
            y1: 8,
        },
        64,
    );
    let expect = 0.5 * 2.0 / std::f64::consts::PI + 0.25;
    for c in m {
        assert!((c - expect).abs() < 0.01 * expect, "{m:?} vs {expect}");
    }
}

#[test]
fn a_rough_glass_sphere_in_a_white_furnace_nearly_vanishes() {
    // A clear DwaRefractiveMaterial (roughness 0.3) ball under a white EnvLight, with depth
    // budgets that end no path early: nothing is absorbed, so the ball shows the sky's 1 but
    // for single scattering's microfacet loss, a few percent over the bounces a path takes
    // through the ball. Were the rough lobes to gain energy, or to lose their refraction,
    // the ball would stand out (rough reflection alone gives about 0.1).
    let s = scene(
        r#"
SceneVariables { ["image_width"] = 32, ["image_height"] = 32, ["pixel_filter"] = 0, ["pixel_filter_width"] = 1,
                 ["max_depth"] = 40, ["max_glossy_depth"] = 40, ["max_mirror_depth"] = 40 }
Camera("cam") { ["node_xform"] = translate(0, 0, 5), ["focal"] = 30 }
local ball = SphereGeometry("ball") { ["radius"] = 1 }
local glass = DwaRefractiveMaterial("glass") { ["roughness"] = 0.3 }
local env = EnvLight("env") { ["color"] = Rgb(1, 1, 1) }
Layer("layer") { { ball, "", glass, LightSet("lights") { env } } }
"#,
    );
    let object = mean(
        &s,
        PixelRect {
            x0: 12,
            y0: 12,
            x1: 20,
            y1: 20,
        },
        256,
    );
    for c in object {
        assert!(c > 0.97 && c < 1.01, "{object:?}");
    }
}

#[test]
fn a_fully_transmissive_dwabase_ball_in_a_white_furnace_vanishes_whatever_its_albedo() {
    // DwaBaseMaterial with transmission 1 gives the diffuse nothing (MoonRay's layering): a
    // smooth red one is clear glass, invisible in a white furnace. Were its transmission
    // ignored, it would be red.
    let s = scene(
        r#"
SceneVariables { ["image_width"] = 32, ["image_height"] = 32, ["pixel_filter"] = 0, ["pixel_filter_width"] = 1,
                 ["max_depth"] = 40, ["max_glossy_depth"] = 40, ["max_mirror_depth"] = 40 }
Camera("cam") { ["node_xform"] = translate(0, 0, 5), ["focal"] = 30 }
local ball = SphereGeometry("ball") { ["radius"] = 1 }
local red = DwaBaseMaterial("red") { ["albedo"] = Rgb(1, 0, 0), ["transmission"] = 1, ["roughness"] = 0 }
local env = EnvLight("env") { ["color"] = Rgb(1, 1, 1) }
Layer("layer") { { ball, "", red, LightSet("lights") { env } } }
"#,
    );
    let object = mean(
        &s,
        PixelRect {
            x0: 12,
            y0: 12,
            x1: 20,
            y1: 20,
        },
        64,
    );
    for c in object {
        assert!((c - 1.0).abs() < 0.01, "{object:?}");
    }
}

#[test]
fn a_smooth_metal_shows_its_colour_head_on() {
    // A smooth DwaMetalMaterial plane facing an orthographic camera, a white EnvLight behind
    // the camera: the mirror sends each camera ray straight back to the sky, so the pixels are
    // the artist-friendly Fresnel at normal incidence, which is `metallic_color` exactly,
    // whatever `metallic_edge_color` is.
    let s = scene(
        r#"
SceneVariables { ["image_width"] = 8, ["image_height"] = 8 }
OrthographicCamera("cam") { ["node_xform"] = translate(0, 0, 5), ["film_width_aperture"] = 1 }
local plane = RdlMeshGeometry("plane") {
    ["vertex_list_0"] = { Vec3(-10, -10, 0), Vec3(10, -10, 0), Vec3(10, 10, 0), Vec3(-10, 10, 0) },
    ["vertices_by_index"] = { 0, 1, 2, 3 }, ["face_vertex_count"] = { 4 }, ["is_subd"] = false }
local gold = DwaMetalMaterial("gold") { ["metallic_color"] = Rgb(0.95, 0.64, 0.54),
                                        ["metallic_edge_color"] = Rgb(1, 0.95, 0.78), ["roughness"] = 0 }
local env = EnvLight("env") { ["color"] = Rgb(1, 1, 1) }
Layer("layer") { { plane, "", gold, LightSet("ls") { env } } }
"#,
    );
    let m = mean(
        &s,
        PixelRect {
            x0: 0,
            y0: 0,
            x1: 8,
            y1: 8,
        },
        4,
    );
    let expect = [0.95, 0.64, 0.54];
    for c in 0..3 {
        assert!((m[c] - expect[c]).abs() < 1e-3, "{m:?} vs {expect:?}");
    }
}

#[test]
fn a_smooth_metal_s_specular_weight_scales_its_head_on_colour() {
    // The smooth metal above with `specular` 0.5 (moonshine DwaBaseLayerable.cc weights the
    // metal lobe by specular * metallic): half its colour head on, within 1e-3; with
    // `show_specular` off, no lobe and black. `specular` bound to a constant-colour
    // CheckerboardMap of 0.5 is the same half, evaluated per hit.
    let render = |attrs: &str| {
        let s = scene(&format!(
            r#"
SceneVariables {{ ["image_width"] = 8, ["image_height"] = 8 }}
OrthographicCamera("cam") {{ ["node_xform"] = translate(0, 0, 5), ["film_width_aperture"] = 1 }}
local plane = RdlMeshGeometry("plane") {{
    ["vertex_list_0"] = {{ Vec3(-10, -10, 0), Vec3(10, -10, 0), Vec3(10, 10, 0), Vec3(-10, 10, 0) }},
    ["vertices_by_index"] = {{ 0, 1, 2, 3 }}, ["face_vertex_count"] = {{ 4 }}, ["is_subd"] = false }}
local gold = DwaMetalMaterial("gold") {{ ["metallic_color"] = Rgb(0.95, 0.64, 0.54),
    ["metallic_edge_color"] = Rgb(1, 0.95, 0.78), ["roughness"] = 0, {attrs} }}
local env = EnvLight("env") {{ ["color"] = Rgb(1, 1, 1) }}
Layer("layer") {{ {{ plane, "", gold, LightSet("ls") {{ env }} }} }}
"#
        ));
        mean(
            &s,
            PixelRect {
                x0: 0,
                y0: 0,
                x1: 8,
                y1: 8,
            },
            4,
        )
    };
    let half = [0.475, 0.32, 0.27];
    let bound = r#"["specular"] = bind(CheckerboardMap("c") { ["color_A"] = Rgb(0.5, 0.5, 0.5),
        ["color_B"] = Rgb(0.5, 0.5, 0.5) })"#;
    for m in [render(r#"["specular"] = 0.5"#), render(bound)] {
        for c in 0..3 {
            assert!((m[c] - half[c]).abs() < 1e-3, "{m:?} vs {half:?}");
        }
    }
    let off = render(r#"["show_specular"] = false"#);
    assert!(off.iter().all(|&c| c == 0.0), "{off:?}");
}

/// Two grey balls sharing one material under a red and a green distant light, each Layer
/// entry linking the light sets given (Lua expressions), and a third entry, a ball below
/// them with no light set.
fn two_balls(left: &str, right: &str) -> Scene {
    scene(&format!(
        r#"
SceneVariables {{ ["image_width"] = 24, ["image_height"] = 24, ["max_depth"] = 0 }}
OrthographicCamera("cam") {{ ["node_xform"] = translate(0, 0, 5), ["film_width_aperture"] = 6 }}
local a = SphereGeometry("a") {{ ["radius"] = 1, ["node_xform"] = translate(-1.5, 1.5, 0) }}
local b = SphereGeometry("b") {{ ["radius"] = 1, ["node_xform"] = translate(1.5, 1.5, 0) }}
local c = SphereGeometry("c") {{ ["radius"] = 1, ["node_xform"] = translate(0, -1.5, 0) }}
local grey = DwaBaseMaterial("grey") {{ ["albedo"] = Rgb(0.5, 0.5, 0.5), ["specular"] = 0 }}
local red = DistantLight("red") {{ ["color"] = Rgb(1, 0, 0), ["intensity"] = 2 }}
local green = DistantLight("green") {{ ["color"] = Rgb(0, 1, 0), ["intensity"] = 2 }}
local reds = LightSet("reds") {{ red }}
local greens = LightSet("greens") {{ green }}
local both = LightSet("both") {{ red, green }}
Layer("layer") {{ {{ a, "", grey, {left} }}, {{ b, "", grey, {right} }}, {{ c, "", grey }} }}
"#
    ))
}

#[test]
fn each_layer_entry_is_lit_by_its_own_light_set() {
    // Pixel rectangles at the middle of the left ball, the right ball and the ball below.
    let left = PixelRect {
        x0: 4,
        y0: 4,
        x1: 8,
        y1: 8,
    };
    let right = PixelRect {
        x0: 16,
        y0: 4,
        x1: 20,
        y1: 8,
    };
    let below = PixelRect {
        x0: 10,
        y0: 16,
        x1: 14,
        y1: 20,
    };
    let linked = two_balls("reds", "greens");
    let (l, r, c) = (
        mean(&linked, left, 16),
        mean(&linked, right, 16),
        mean(&linked, below, 16),
    );
    // Lambert under a head-on light of irradiance 2 is 0.5 * 2 / pi at the middle of a ball,
    // a little less around it (cos theta over the rectangle): between 0.28 and 0.32.
    assert!(l[0] > 0.28 && l[0] < 0.32 && l[1] == 0.0, "left {l:?}");
    assert!(r[1] > 0.28 && r[1] < 0.32 && r[0] == 0.0, "right {r:?}");
    // MoonRay gives an entry without a light set no light.
    assert_eq!(c, [0.0; 3], "below {c:?}");
    // Each ball as it is when its own light lights everything.
    let all_red = two_balls("reds", "reds");
    let all_green = two_balls("greens", "greens");
    let (l1, r1) = (mean(&all_red, left, 16), mean(&all_green, right, 16));
    for ch in 0..3 {
        assert!((l[ch] - l1[ch]).abs() < 1e-6, "{l:?} vs {l1:?}");
        assert!((r[ch] - r1[ch]).abs() < 1e-6, "{r:?} vs {r1:?}");
    }
    // Linked to both, a ball shows both (light sampling picks one of the two per sample).
    let both = mean(&two_balls("both", "both"), left, 64);
    assert!((both[0] - l[0]).abs() < 0.02 * l[0] && (both[1] - l[0]).abs() < 0.02 * l[0]);
}

/// A grey plane under a distant light at 45 degrees, with a ball above it whose shadow falls
/// beside it, the ball's Layer entry ending in `ball_entry_tail` (its light set, and maybe a
/// shadow set).
fn shadowed_plane(ball_entry_tail: &str) -> Scene {
    scene(&format!(
        r#"
SceneVariables {{ ["image_width"] = 32, ["image_height"] = 32, ["max_depth"] = 0 }}
OrthographicCamera("cam") {{ ["node_xform"] = translate(0, 0, 5), ["film_width_aperture"] = 8 }}
local plane = RdlMeshGeometry("plane") {{
    ["vertex_list_0"] = {{ Vec3(-10, -10, 0), Vec3(10, -10, 0), Vec3(10, 10, 0), Vec3(-10, 10, 0) }},
    ["vertices_by_index"] = {{ 0, 1, 2, 3 }}, ["face_vertex_count"] = {{ 4 }}, ["is_subd"] = false }}
local ball = SphereGeometry("ball") {{ ["radius"] = 1, ["node_xform"] = translate(0, 0, 2) }}
local grey = DwaBaseMaterial("grey") {{ ["albedo"] = Rgb(0.5, 0.5, 0.5), ["specular"] = 0 }}
local sun = DistantLight("sun") {{ ["intensity"] = 2, ["node_xform"] = rotate(45, 0, 1, 0) }}
local ls = LightSet("ls") {{ sun }}
local unshadowed = ShadowSet("unshadowed") {{ sun }}
Layer("layer") {{ {{ plane, "", grey, ls }}, {{ ball, "", grey, {ball_entry_tail} }} }}
"#
    ))
}

#[test]
fn geometry_casts_no_shadow_from_the_lights_of_its_shadow_set() {
    // Two patches of the plane either side of the ball, clear of it as the camera sees it; the
    // ball's shadow (2 along the light from the ball's centre) covers one of them. Lambert at
    // 45 degrees: 0.5 * 2 * cos 45 / pi = 0.2251 on the lit patch, 0 in the shadow; with the
    // sun in the ball's ShadowSet (MoonRay's shadow linking) both patches are lit.
    let patches = [
        PixelRect {
            x0: 6,
            y0: 14,
            x1: 8,
            y1: 18,
        },
        PixelRect {
            x0: 24,
            y0: 14,
            x1: 26,
            y1: 18,
        },
    ];
    let lit = 0.5 * 2.0 * std::f64::consts::FRAC_1_SQRT_2 / std::f64::consts::PI;
    let plain = shadowed_plane("ls");
    let m: Vec<f64> = patches.iter().map(|r| mean(&plain, *r, 16)[0]).collect();
    let (lo, hi) = (m[0].min(m[1]), m[0].max(m[1]));
    assert!(lo == 0.0 && (hi - lit).abs() < 1e-3 * lit, "{m:?} vs {lit}");
    let linked = shadowed_plane("ls, unshadowed");
    for r in patches {
        let v = mean(&linked, r, 16)[0];
        assert!((v - lit).abs() < 1e-3 * lit, "{v} vs {lit}");
    }
}

#[test]
fn a_bounce_sees_a_light_through_geometry_in_whose_shadow_set_it_is() {
    // The plane (albedo 0.5) under a white EnvLight with a ball hovering over it: beside the
    // ball the plane is darker (the ball hides part of the sky). With the sky in the ball's
    // ShadowSet the plane is 0.5 everywhere, as without the ball: the light samples pass the
    // ball, and so must the BSDF samples that carry most of an EnvLight's MIS weight.
    let plane = |tail: &str| {
        scene(&format!(
            r#"
SceneVariables {{ ["image_width"] = 32, ["image_height"] = 32, ["max_depth"] = 0 }}
OrthographicCamera("cam") {{ ["node_xform"] = translate(0, 0, 5), ["film_width_aperture"] = 8 }}
local plane = RdlMeshGeometry("plane") {{
    ["vertex_list_0"] = {{ Vec3(-100, -100, 0), Vec3(100, -100, 0), Vec3(100, 100, 0), Vec3(-100, 100, 0) }},
    ["vertices_by_index"] = {{ 0, 1, 2, 3 }}, ["face_vertex_count"] = {{ 4 }}, ["is_subd"] = false }}
local ball = SphereGeometry("ball") {{ ["radius"] = 1, ["node_xform"] = translate(0, 0, 1.5) }}
local grey = DwaBaseMaterial("grey") {{ ["albedo"] = Rgb(0.5, 0.5, 0.5), ["specular"] = 0 }}
local sky = EnvLight("sky") {{ ["color"] = Rgb(1, 1, 1) }}
local ls = LightSet("ls") {{ sky }}
local unshadowed = ShadowSet("unshadowed") {{ sky }}
Layer("layer") {{ {{ plane, "", grey, ls }}, {{ ball, "", grey, {tail} }} }}
"#
        ))
    };
    // Just beside the ball as the camera sees it (x from 1.25 to 1.75).
    let patch = PixelRect {
        x0: 21,
        y0: 14,
        x1: 23,
        y1: 18,
    };
    let dark = mean(&plane("ls"), patch, 1024)[0];
    assert!(dark < 0.45, "{dark}");
    let clear = mean(&plane("ls, unshadowed"), patch, 1024)[0];
    assert!((clear - 0.5).abs() < 0.005, "{clear} vs 0.5");
}

#[test]
fn sample_ranges_add_up_to_the_whole() {
    let s = scene(FURNACE);
    let rect = PixelRect {
        x0: 8,
        y0: 8,
        x1: 24,
        y1: 24,
    };
    let stop = AtomicBool::new(false);
    let whole = render_tile(&s, rect, 0..24, 0, &stop).unwrap();
    let a = render_tile(&s, rect, 0..5, 0, &stop).unwrap();
    let b = render_tile(&s, rect, 5..24, 0, &stop).unwrap();
    for i in 0..whole.sums.len() {
        for c in 0..4 {
            let sum = a.sums[i][c] + b.sums[i][c];
            assert!((sum - whole.sums[i][c]).abs() <= 1e-9 * whole.sums[i][c].abs().max(1.0));
        }
        assert_eq!(a.weight[i] + b.weight[i], whole.weight[i]);
    }
    // A different frame is a different image: the seed really depends on it.
    let other = render_tile(&s, rect, 0..24, 1, &stop).unwrap();
    assert_ne!(other.sums, whole.sums);
}

#[test]
fn cancelling_stops_a_render() {
    let s = scene(FURNACE);
    let r = render_tile(
        &s,
        PixelRect {
            x0: 0,
            y0: 0,
            x1: 32,
            y1: 32,
        },
        0..64,
        0,
        &AtomicBool::new(true),
    );
    assert!(r.is_err());
}

/// A tent: two panels tilted 45 degrees about a ridge along Y at x = 0, facing the camera,
/// lit head-on by a distant light, direct light only.
fn tent(smooth: &str) -> String {
    format!(
        r#"
SceneVariables {{ ["image_width"] = 16, ["image_height"] = 16, ["max_depth"] = 0, ["pixel_filter"] = 0, ["pixel_filter_width"] = 1 }}
Camera("cam") {{ ["node_xform"] = translate(0, 0, 5) }}
local tent = RdlMeshGeometry("tent") {{
    ["vertex_list_0"] = {{ Vec3(-2, -1, 0), Vec3(-2, 1, 0), Vec3(0, -1, 2), Vec3(0, 1, 2), Vec3(2, -1, 0), Vec3(2, 1, 0) }},
    ["vertices_by_index"] = {{ 0, 2, 3, 1,  2, 4, 5, 3 }}, ["face_vertex_count"] = {{ 4, 4 }}, ["is_subd"] = false {smooth} }}
local mat = DwaBaseMaterial("m") {{ ["albedo"] = Rgb(0.5, 0.5, 0.5), ["specular"] = 0 }}
local sun = DistantLight("sun") {{ ["intensity"] = 2 }}
Layer("layer") {{ {{ tent, "", mat, LightSet("ls") {{ sun }} }} }}
"#
    )
}

#[test]
fn meshes_without_normals_shade_smoothly_unless_told_not_to() {
    // MoonRay's smooth_normal defaults to true: on the ridge the vertex normal is the average
    // of the two panels' (straight at the light), so the two middle columns see nearly the
    // full albedo * E / pi. With smooth_normal false every point shades with its panel's
    // normal: cos 45 of that.
    let ridge = PixelRect {
        x0: 7,
        y0: 6,
        x1: 9,
        y1: 10,
    };
    let full = 0.5 * 2.0 / std::f64::consts::PI;
    let smooth = mean(&scene(&tent("")), ridge, 16);
    let flat = mean(&scene(&tent(r#", ["smooth_normal"] = false"#)), ridge, 16);
    for c in 0..3 {
        assert!(
            (smooth[c] - full).abs() < 0.01 * full,
            "smooth {smooth:?} vs {full}"
        );
        assert!(
            (flat[c] - full * std::f64::consts::FRAC_1_SQRT_2).abs() < 0.01 * full,
            "flat {flat:?}"
        );
    }
}

#[test]
fn scene_variables_default_to_moonray_s() {
    let s = scene(
        r#"
Camera("cam") { ["node_xform"] = translate(0, 0, 5) }
SphereGeometry("ball") { ["radius"] = 1 }
"#,
    );
    let st = &s.settings;
    assert_eq!((s.width, s.height), (1920, 1080));
    assert_eq!(
        st.spp, 64,
        "pixel_samples 8 is the square root of the sample count"
    );
    assert_eq!(
        (
            st.max_depth,
            st.max_diffuse_depth,
            st.max_glossy_depth,
            st.max_mirror_depth
        ),
        (5, 2, 2, 3)
    );
    assert_eq!(
        (st.sample_clamping_value, st.sample_clamping_depth),
        (10.0, 1)
    );
    assert_eq!(st.filter, render::scene::PixelFilter::CubicBSpline(3.0));
}

#[test]
fn lights_are_hidden_from_the_camera_and_normalized_by_default() {
    // A 4x4 RectLight facing the camera. By default it is not seen directly (black), and when
    // shown its radiance is color * intensity / (area * scene_scale^2 * pi), scene_scale 0.01.
    let text = |extra: &str| {
        format!(
            r#"
SceneVariables {{ ["image_width"] = 16, ["image_height"] = 16 {extra} }}
Camera("cam") {{ ["node_xform"] = translate(0, 0, 3) }}
RectLight("l") {{ ["width"] = 4, ["height"] = 4, ["color"] = Rgb(1, 2, 3), ["node_xform"] = rotate(180, 0, 1, 0) }}
"#
        )
    };
    let rect = PixelRect {
        x0: 6,
        y0: 6,
        x1: 10,
        y1: 10,
    };
    assert_eq!(mean(&scene(&text("")), rect, 4), [0.0; 3]);
    let shown = mean(
        &scene(&text(r#", ["lights_visible_in_camera"] = true"#)),
        rect,
        4,
    );
    let unit = 1.0 / (16.0 * 0.01 * 0.01 * std::f64::consts::PI);
    for c in 0..3 {
        let expect = unit * (c + 1) as f64;
        assert!(
            (shown[c] - expect).abs() < 1e-4 * expect,
            "{shown:?} vs {expect}"
        );
    }
}

/// The camera inside a closed box whose walls face inwards, diffuse with albedo 0.5 and
/// emitting 100, and no lights: every path gains exactly albedo per bounce, so the image is
/// exactly 100 * (1 + 0.5 + 0.25 + ...) cut where the depth budgets and clamping say.
fn glowing_box(vars: &str) -> String {
    format!(
        r#"
SceneVariables {{ ["image_width"] = 8, ["image_height"] = 8 {vars} }}
Camera("cam") {{ ["node_xform"] = translate(0, 1, 0), ["near"] = 0.01 }}
local function wall(name, a, b, c, d)
    return RdlMeshGeometry(name) {{ ["vertex_list_0"] = {{ a, b, c, d }}, ["vertices_by_index"] = {{ 0, 1, 2, 3 }},
                                   ["face_vertex_count"] = {{ 4 }}, ["is_subd"] = false }}
end
local m = DwaBaseMaterial("m") {{ ["albedo"] = Rgb(0.5, 0.5, 0.5), ["specular"] = 0, ["emission"] = Rgb(100, 100, 100) }}
Layer("layer") {{
    {{ wall("floor", Vec3(-1, 0, 1), Vec3(1, 0, 1), Vec3(1, 0, -1), Vec3(-1, 0, -1)), "", m }},
    {{ wall("ceiling", Vec3(-1, 2, -1), Vec3(1, 2, -1), Vec3(1, 2, 1), Vec3(-1, 2, 1)), "", m }},
    {{ wall("back", Vec3(-1, 0, -1), Vec3(1, 0, -1), Vec3(1, 2, -1), Vec3(-1, 2, -1)), "", m }},
    {{ wall("front", Vec3(1, 0, 1), Vec3(-1, 0, 1), Vec3(-1, 2, 1), Vec3(1, 2, 1)), "", m }},
    {{ wall("left", Vec3(-1, 0, 1), Vec3(-1, 0, -1), Vec3(-1, 2, -1), Vec3(-1, 2, 1)), "", m }},
    {{ wall("right", Vec3(1, 0, -1), Vec3(1, 0, 1), Vec3(1, 2, 1), Vec3(1, 2, -1)), "", m }},
}}
"#
    )
}

#[test]
fn depth_budgets_and_clamping_cut_paths_where_moonray_does() {
    let all = PixelRect {
        x0: 0,
        y0: 0,
        x1: 8,
        y1: 8,
    };
    let check = |vars: &str, expect: f64| {
        let m = mean(&scene(&glowing_box(vars)), all, 4);
        for c in m {
            assert!(
                (c - expect).abs() < 1e-4 * expect,
                "{vars}: {m:?} vs {expect}"
            );
        }
    };
    // The terms are what the camera ray sees, then what each bounce's ray sees. A vertex within
    // the budget still traces the ray it samples, for the light it finds (its direct
    // lighting), so max_diffuse_depth 2 adds three bounces' terms: 100 + 50 + 25 + 12.5.
    // MoonRay clamps contributions from depth 1 on (sample_clamping_depth) to 10 by default:
    // 100 + 50 + 10 + 10.
    check("", 170.0);
    check(r#", ["sample_clamping_value"] = 0"#, 187.5);
    check(
        r#", ["sample_clamping_value"] = 0, ["max_diffuse_depth"] = 0"#,
        150.0,
    );
    // max_depth N bounds every path to N + 2 segments (Mitsuba's max_depth N + 2), whatever
    // the per-lobe budgets: 100 + 50 + 25 for max_depth 1.
    check(
        r#", ["sample_clamping_value"] = 0, ["max_diffuse_depth"] = 100, ["max_depth"] = 1"#,
        175.0,
    );
    // max_depth 0 is direct lighting only. (Deeper budgets than three bounces would bring in
    // Russian roulette and with it noise, so they are not checked to the last digit here.)
    check(
        r#", ["sample_clamping_value"] = 0, ["max_diffuse_depth"] = 100, ["max_depth"] = 0"#,
        150.0,
    );
}

#[test]
fn pixel_filters_spread_samples_over_their_width_like_moonray_s() {
    // MoonRay scales a filter's natural footprint (4 pixels for the cubic B-spline, 3 for the
    // quadratic, 1 for the box) to pixel_filter_width: the support is the width, and the
    // variance of an offset is width^2 / 48, / 36 and / 12.
    use render::scene::PixelFilter;
    let mut rng = render::sampler::Rng::new(11, 0, 0, 0, 0);
    for (filter, width, var) in [
        (PixelFilter::CubicBSpline(3.0), 3.0f64, 9.0 / 48.0),
        (PixelFilter::QuadraticBSpline(2.0), 2.0, 4.0 / 36.0),
        (PixelFilter::Box(1.0), 1.0, 1.0 / 12.0),
    ] {
        let n = 100_000;
        let mut sum2 = 0.0f64;
        for _ in 0..n {
            let d = f64::from(filter.offset([
                rng.uniform(),
                rng.uniform(),
                rng.uniform(),
                rng.uniform(),
            ]));
            assert!(d.abs() <= width / 2.0, "{filter:?}: {d}");
            sum2 += d * d;
        }
        let v = sum2 / f64::from(n);
        assert!(
            (v - var).abs() < 0.02 * var,
            "{filter:?}: variance {v} vs {var}"
        );
    }
}

#[test]
fn materials_and_meshes_default_to_moonray_s() {
    // DwaBaseMaterial has a specular lobe unless told otherwise; RdlMeshGeometry is a
    // subdivision surface (rendered as its control mesh, with a warning).
    let src = SceneSource { name: "test.rdla".into(), text: br#"
Camera("cam") { ["node_xform"] = translate(0, 0, 5) }
local tri = RdlMeshGeometry("tri") { ["vertex_list_0"] = { Vec3(0, 0, 0), Vec3(1, 0, 0), Vec3(0, 1, 0) },
                                     ["vertices_by_index"] = { 0, 1, 2 }, ["face_vertex_count"] = { 3 } }
local m = DwaBaseMaterial("m") { }
Layer("layer") { { tri, "", m } }
"#.to_vec() };
    let (s, warnings) = render::prepare(&[src], &[], &BuildOptions::default()).unwrap();
    match &s.materials[..] {
        [render::bsdf::Material::Base { specular, .. }] => assert_eq!(*specular, 1.0),
        other => panic!("{other:?}"),
    }
    assert!(
        warnings.iter().any(|w| w.contains("subdivision surface")),
        "{warnings:?}"
    );
}

/// A glowing unit sphere seen by an OrthographicCamera whose window is 4 units wide, from
/// `distance` away.
fn ortho_sphere(distance: f64, film_width: f64) -> String {
    format!(
        r#"
SceneVariables {{ ["image_width"] = 64, ["image_height"] = 64, ["pixel_filter"] = 0,
                 ["pixel_filter_width"] = 1 }}
OrthographicCamera("cam") {{ ["node_xform"] = translate(0, 0, {distance}),
                             ["film_width_aperture"] = {film_width}, ["far"] = 1000 }}
local ball = SphereGeometry("ball") {{ ["radius"] = 1 }}
local glow = DwaEmissiveMaterial("glow") {{ ["emission"] = Rgb(1, 1, 1) }}
Layer("layer") {{ {{ ball, "", glow }} }}
"#
    )
}

#[test]
fn an_orthographic_camera_shows_the_same_size_at_any_distance() {
    let rect = PixelRect {
        x0: 0,
        y0: 0,
        x1: 64,
        y1: 64,
    };
    // A disc of radius 1 in a 4 x 4 window covers pi / 16 of the image, near or far.
    for distance in [3.0, 50.0] {
        let m = mean(&scene(&ortho_sphere(distance, 4.0)), rect, 16);
        let expected = std::f64::consts::PI / 16.0;
        assert!((m[0] - expected).abs() < 0.01, "at {distance}: {m:?}");
    }
    // Twice the film width, a quarter of the coverage.
    let m = mean(&scene(&ortho_sphere(10.0, 8.0)), rect, 16);
    assert!((m[0] - std::f64::consts::PI / 64.0).abs() < 0.005, "{m:?}");
}

/// A uniform 8-bit PNG of one colour.
fn uniform_png(rgb: [u8; 3]) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(4, 4, image::Rgb(rgb));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

#[test]
fn a_texture_bound_to_albedo_gives_its_linear_colour_in_a_white_furnace() {
    let text = FURNACE.replace(
        r#"["albedo"] = Rgb(0.8, 0.8, 0.8)"#,
        r#"["albedo"] = bind(ImageMap("tex") { ["texture"] = "tex/col.png" })"#,
    );
    let src = SceneSource {
        name: "test.rdla".into(),
        text: text.into_bytes(),
    };
    // 8-bit texels get MoonRay's 2.2 power (gamma auto): 200/255 -> 0.586, 100/255 -> 0.128.
    let mut opts = BuildOptions::default();
    opts.assets
        .insert("tex/col.png".into(), uniform_png([200, 100, 255]).into());
    let (s, warnings) = render::prepare(std::slice::from_ref(&src), &[], &opts).unwrap();
    assert!(!warnings.iter().any(|w| w.contains("tex")), "{warnings:?}");
    let object = mean(
        &s,
        PixelRect {
            x0: 12,
            y0: 12,
            x1: 20,
            y1: 20,
        },
        256,
    );
    let want = [200.0, 100.0, 255.0].map(|v: f64| (v / 255.0).powf(2.2));
    for c in 0..3 {
        assert!(
            (object[c] - want[c]).abs() < 0.01,
            "object {object:?}, want {want:?}"
        );
    }
    // Without the file the render goes on with the default albedo, and says why.
    let (_, warnings) = render::prepare(&[src], &[], &BuildOptions::default()).unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("texture tex/col.png of ImageMap `tex` was not found")),
        "{warnings:?}"
    );
}

/// An 8-bit PNG, row-major from the top-left texel.
fn png(width: u32, height: u32, rgb: &[[u8; 3]]) -> Vec<u8> {
    let mut img = image::RgbImage::new(width, height);
    for (i, p) in img.pixels_mut().enumerate() {
        *p = image::Rgb(rgb[i]);
    }
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// Prepares `text` with the given files as its assets.
fn scene_with(text: &str, files: &[(&str, Vec<u8>)]) -> (Scene, Vec<String>) {
    let src = SceneSource {
        name: "test.rdla".into(),
        text: text.as_bytes().to_vec(),
    };
    let mut opts = BuildOptions::default();
    for (name, bytes) in files {
        opts.assets.insert((*name).into(), bytes.clone().into());
    }
    render::prepare(&[src], &[], &opts).expect("the test scene loads")
}

#[test]
fn a_constant_env_texture_is_a_white_furnace_of_its_colour() {
    // A uniform 204/255 texture: MoonRay reads light textures as OpenImageIO's floats, with no
    // 2.2 power, so the environment's radiance is 0.8; the 0.8-albedo sphere shows 0.64.
    let text = FURNACE.replace(
        r#"EnvLight("env") { ["color"] = Rgb(1, 1, 1) }"#,
        r#"EnvLight("env") { ["color"] = Rgb(1, 1, 1), ["texture"] = "sky.png" }"#,
    );
    let (s, warnings) = scene_with(&text, &[("sky.png", uniform_png([204, 204, 204]))]);
    assert!(!warnings.iter().any(|w| w.contains("env")), "{warnings:?}");
    let rect = |x0, y0| PixelRect {
        x0,
        y0,
        x1: x0 + 4,
        y1: y0 + 4,
    };
    let object = mean(&s, rect(14, 14), 256);
    let background = mean(&s, rect(0, 0), 64);
    for c in 0..3 {
        assert!((object[c] - 0.64).abs() < 0.008, "object {object:?}");
        assert!(
            (background[c] - 0.8).abs() < 1e-4,
            "background {background:?}"
        );
    }
}

#[test]
fn an_env_texture_sits_where_moonrays_lat_long_mapping_puts_it() {
    // A 2x2 map: top row red, green; bottom row blue, white. MoonRay puts u = 0.25 (the middle
    // of the left column) at render +X and the image's top up (+Y); the light turned 90
    // degrees about Y brings +X to -Z, where the camera looks: above the horizon red, below
    // blue. Turned -90 degrees, -X (u = 0.75) comes there: green above, white below.
    let map = png(
        2,
        2,
        &[[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]],
    );
    let rect = |y0| PixelRect {
        x0: 14,
        y0,
        x1: 18,
        y1: y0 + 4,
    };
    for (angle, above, below) in [
        (90, [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]),
        (-90, [0.0, 1.0, 0.0], [1.0, 1.0, 1.0]),
    ] {
        let text = format!(
            r#"
SceneVariables {{ ["image_width"] = 32, ["image_height"] = 32, ["lights_visible_in_camera"] = true }}
Camera("cam") {{ }}
EnvLight("env") {{ ["texture"] = "map.png", ["node_xform"] = rotate({angle}, 0, 1, 0) }}
"#
        );
        let (s, _) = scene_with(&text, &[("map.png", map.clone())]);
        let (up, down) = (mean(&s, rect(4), 4), mean(&s, rect(24), 4));
        for c in 0..3 {
            assert!((up[c] - above[c]).abs() < 1e-4, "{angle}: above {up:?}");
            assert!((down[c] - below[c]).abs() < 1e-4, "{angle}: below {down:?}");
        }
    }
}

#[test]
fn rect_and_sphere_light_textures_sit_where_moonray_maps_them() {
    // A 2x2 map: top row red, green; bottom row blue, white, read linear.
    let map = png(
        2,
        2,
        &[[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]],
    );
    let px = |x0, y0| PixelRect {
        x0,
        y0,
        x1: x0 + 2,
        y1: y0 + 2,
    };
    let close = |got: [f64; 3], want: [f64; 3]| (0..3).all(|c| (got[c] - want[c]).abs() < 1e-4);
    let (red, green, blue, white) = (
        [1.0, 0.0, 0.0],
        [0.0, 1.0, 0.0],
        [0.0, 0.0, 1.0],
        [1.0, 1.0, 1.0],
    );
    // A RectLight turned to face the camera: u = 0 at the node's +x, which the turn brings to
    // the camera's left, and v = 1 (the top row) at the node's +y: the image seen unmirrored.
    let (s, warnings) = scene_with(
        r#"
SceneVariables { ["image_width"] = 32, ["image_height"] = 32, ["lights_visible_in_camera"] = true }
Camera("cam") { ["node_xform"] = translate(0, 0, 3) }
RectLight("l") { ["width"] = 4, ["height"] = 4, ["normalized"] = false, ["texture"] = "map.png",
                 ["node_xform"] = rotate(180, 0, 1, 0) }
"#,
        &[("map.png", map.clone())],
    );
    assert!(
        !warnings.iter().any(|w| w.contains("texture")),
        "{warnings:?}"
    );
    assert!(close(mean(&s, px(12, 12), 4), red));
    assert!(close(mean(&s, px(18, 12), 4), green));
    assert!(close(mean(&s, px(12, 18), 4), blue));
    assert!(close(mean(&s, px(18, 18), 4), white));
    // A SphereLight: v = 1 at its top, and the point facing +z (local -z) at u = 3/4, the
    // right column.
    let (s, warnings) = scene_with(
        r#"
SceneVariables { ["image_width"] = 32, ["image_height"] = 32, ["lights_visible_in_camera"] = true }
Camera("cam") { ["node_xform"] = translate(0, 0, 5) }
SphereLight("l") { ["radius"] = 1, ["normalized"] = false, ["texture"] = "map.png" }
"#,
        &[("map.png", map)],
    );
    assert!(
        !warnings.iter().any(|w| w.contains("texture")),
        "{warnings:?}"
    );
    assert!(
        close(mean(&s, px(15, 12), 4), green),
        "{:?}",
        mean(&s, px(15, 12), 4)
    );
    assert!(close(mean(&s, px(15, 18), 4), white));
}

#[test]
fn a_light_and_an_image_map_reading_one_file_share_its_decode() {
    // The EnvLight reads sky.png linear, as the ImageMap with gamma off does: one decode. A
    // second light with a gain corrects a copy of its own and leaves the shared one alone.
    let text = FURNACE
        .replace(
            r#"["albedo"] = Rgb(0.8, 0.8, 0.8)"#,
            r#"["albedo"] = bind(ImageMap("tex") { ["texture"] = "sky.png", ["gamma"] = 0 })"#,
        )
        .replace(
            r#"local env = EnvLight("env") { ["color"] = Rgb(1, 1, 1) }"#,
            r#"local env = EnvLight("env") { ["texture"] = "sky.png" }
local env2 = EnvLight("env2") { ["texture"] = "sky.png", ["gain"] = Rgb(2, 2, 2) }"#,
        )
        .replace(
            "LightSet(\"lights\") { env }",
            "LightSet(\"lights\") { env, env2 }",
        );
    let (s, _) = scene_with(&text, &[("sky.png", uniform_png([51, 51, 51]))]);
    let map_texture = s
        .maps
        .maps
        .iter()
        .find_map(|m| match m {
            render::shading::Map::Image { image, .. } => Some(image.texture.clone()),
            _ => None,
        })
        .expect("the ImageMap is built");
    let env_textures: Vec<_> = s
        .lights
        .iter()
        .map(|l| match &l.shape {
            render::light::Shape::Env { map: Some(m), .. } => m.texture.texture.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(env_textures.len(), 2);
    assert!(std::sync::Arc::ptr_eq(&map_texture, &env_textures[0]));
    assert!(!std::sync::Arc::ptr_eq(&map_texture, &env_textures[1]));
    assert!((map_texture.texels[0].x - 0.2).abs() < 1e-6);
    assert!((env_textures[1].texels[0].x - 0.4).abs() < 1e-6);
}
