//! UsdPreviewSurface's inputs beyond the metallic workflow, on a quad facing an orthographic
//! camera under a white environment: clearcoat, the specular workflow's specularColor, and
//! opacity, each against its value at normal incidence.

use crate::shading::{mean, scene};

/// A 2x2 quad at z = 0 filling a 16x16 orthographic view, seen head-on, with `material` as
/// `mtl`, under a white EnvLight (visible to the camera: 1 where the quad lets it through).
/// One bounce: a smooth reflection head-on goes straight back to the environment.
fn head_on(material: &str) -> (render::scene::Scene, Vec<String>) {
    head_on_with(material, "", "")
}

/// [`head_on`] with more SceneVariables (`vars`, each followed by a comma) and more mesh
/// attributes (`mesh`, each followed by a comma).
fn head_on_with(material: &str, vars: &str, mesh: &str) -> (render::scene::Scene, Vec<String>) {
    scene(&format!(
        r#"
SceneVariables {{ ["image_width"] = 16, ["image_height"] = 16, ["pixel_filter"] = 0, {vars}
                 ["pixel_filter_width"] = 1, ["max_depth"] = 1 }}
OrthographicCamera("cam") {{ ["node_xform"] = translate(0, 0, 5), ["film_width_aperture"] = 2 }}
local q = RdlMeshGeometry("q") {{
    ["vertex_list_0"] = {{ Vec3(-1, -1, 0), Vec3(1, -1, 0), Vec3(1, 1, 0), Vec3(-1, 1, 0) }},
    ["vertices_by_index"] = {{ 0, 1, 2, 3 }}, ["face_vertex_count"] = {{ 4 }}, {mesh}
    ["is_subd"] = false }}
local mtl = {material}
local env = EnvLight("env") {{ ["color"] = Rgb(1, 1, 1) }}
Layer("layer") {{ {{ q, "", mtl, LightSet("lights") {{ env }} }} }}
"#
    ))
}

fn all(s: &render::scene::Scene, spp: u32) -> [f64; 3] {
    mean(s, (0, 0, 16, 16), spp)
}

/// ((ior - 1) / (ior + 1))^2: a dielectric's reflectance at normal incidence.
fn f0(ior: f64) -> f64 {
    ((ior - 1.0) / (ior + 1.0)).powi(2)
}

#[test]
fn clearcoat_adds_its_dielectric_reflectance_at_normal_incidence() {
    // Black diffuse, smooth: the base's dielectric specular reflects f0(ior) head-on, and a
    // smooth clearcoat adds clearcoat * f0(ior) on top (MoonRay adds it without attenuating
    // the base). ior 2: f0 = 1/9. Two delta lobes sampled by weight: within 0.003 at 64
    // samples over 256 pixels.
    for clearcoat in [0.0, 0.5, 1.0] {
        let (s, warnings) = head_on(&format!(
            r#"UsdPreviewSurface("usd") {{ ["diffuseColor"] = Rgb(0, 0, 0), ["roughness"] = 0,
                 ["ior"] = 2, ["clearcoat"] = {clearcoat}, ["clearcoatRoughness"] = 0 }}"#
        ));
        assert!(warnings.is_empty(), "{warnings:?}");
        let got = all(&s, 64);
        let want = f0(2.0) * (1.0 + clearcoat);
        assert!(
            got.iter().all(|c| (c - want).abs() < 0.003),
            "clearcoat {clearcoat}: {got:?} vs {want}"
        );
    }
}

#[test]
fn the_specular_workflow_reflects_specular_color_head_on() {
    // useSpecularWorkflow: Schlick's Fresnel from specularColor at normal incidence, and no
    // dielectric specular of `ior` besides; black diffuse, smooth: the pixel is
    // specularColor, within 1e-3.
    let (s, warnings) = head_on(
        r#"UsdPreviewSurface("usd") { ["diffuseColor"] = Rgb(0, 0, 0), ["roughness"] = 0,
             ["useSpecularWorkflow"] = 1, ["specularColor"] = Rgb(0.5, 0.25, 0.1) }"#,
    );
    assert!(warnings.is_empty(), "{warnings:?}");
    let got = all(&s, 4);
    for (g, w) in got.iter().zip([0.5, 0.25, 0.1]) {
        assert!((g - w).abs() < 1e-3, "{got:?}");
    }
}

#[test]
fn opacity_lets_one_minus_opacity_through() {
    // MoonRay's UsdPreviewSurface: the dielectric specular transmits 1 - opacity (refracting
    // by `ior`; at ior 1 straight through, reflecting nothing). Black diffuse, smooth: the
    // environment (1) shows through as 1 - opacity; opacity 0 makes the quad invisible.
    for opacity in [0.0, 0.25, 1.0] {
        let (s, warnings) = head_on(&format!(
            r#"UsdPreviewSurface("usd") {{ ["diffuseColor"] = Rgb(0, 0, 0), ["roughness"] = 0,
                 ["ior"] = 1, ["opacity"] = {opacity} }}"#
        ));
        assert!(warnings.is_empty(), "{warnings:?}");
        let got = all(&s, 16);
        let want = 1.0 - opacity;
        assert!(
            got.iter().all(|c| (c - want).abs() < 0.003),
            "opacity {opacity}: {got:?} vs {want}"
        );
    }
}

#[test]
fn an_opacity_threshold_makes_the_surface_opaque_or_warns_of_a_cut_out() {
    // With opacityThreshold > 0 MoonRay shades with opacity 1 and makes presence 1 where
    // opacity >= threshold: opacity 0.3 over threshold 0.2 is opaque, the base's f0(1.5)
    // head-on (not 0.7 of the environment through it).
    let (s, warnings) = head_on(
        r#"UsdPreviewSurface("usd") { ["diffuseColor"] = Rgb(0, 0, 0), ["roughness"] = 0,
             ["opacity"] = 0.3, ["opacityThreshold"] = 0.2 }"#,
    );
    assert!(warnings.is_empty(), "{warnings:?}");
    let got = all(&s, 4);
    assert!((got[0] - f0(1.5)).abs() < 1e-3, "{got:?}");
    // Below the threshold it is cut out (presence 0): tested below.
}

/// The environment seen by camera rays that miss (or pass) the quad.
const SEEN: &str = r#"["lights_visible_in_camera"] = true,"#;

/// uvs (0, 0) at the quad's bottom left to (1, 1) at its top right.
const UVS: &str = r#"["uv_list"] = { Vec2(0, 0), Vec2(1, 0), Vec2(1, 1), Vec2(0, 1) },"#;

#[test]
fn below_the_threshold_the_surface_is_cut_out_and_invisible() {
    // moonray UsdPreviewSurface.cc `presence`: opacity 0.1 under threshold 0.2 is 0, and the
    // camera ray goes on through the quad to the white environment, visible in camera: every
    // pixel is 1, and nothing warns. At the threshold (0.2 >= 0.2) it is present and opaque
    // as above.
    let (s, warnings) = head_on_with(
        r#"UsdPreviewSurface("usd") { ["opacity"] = 0.1, ["opacityThreshold"] = 0.2 }"#,
        SEEN,
        "",
    );
    assert!(warnings.is_empty(), "{warnings:?}");
    let got = all(&s, 4);
    assert!(got.iter().all(|c| (c - 1.0).abs() < 1e-4), "{got:?}");
    let (s, _) = head_on(
        r#"UsdPreviewSurface("usd") { ["diffuseColor"] = Rgb(0, 0, 0), ["roughness"] = 0,
             ["opacity"] = 0.2, ["opacityThreshold"] = 0.2 }"#,
    );
    let got = all(&s, 4);
    assert!((got[0] - f0(1.5)).abs() < 1e-3, "{got:?}");
}

#[test]
fn a_checker_bound_to_opacity_cuts_out_half_the_quad() {
    // CheckerboardMap with 2x2 tiles of 0 and 1 on the quad's uvs (8x8 pixels each here, so no
    // pixel straddles two) bound to opacity, threshold 0.5: half the quad is cut out and shows the
    // environment (1), the other half is the smooth black base's f0(1.5) head-on.
    let (s, warnings) = head_on_with(
        r#"UsdPreviewSurface("usd") { ["diffuseColor"] = Rgb(0, 0, 0), ["roughness"] = 0,
             ["opacity"] = bind(CheckerboardMap("checker") { ["color_A"] = Rgb(0, 0, 0),
                 ["color_B"] = Rgb(1, 1, 1), ["num_u_tiles"] = 2, ["num_v_tiles"] = 2 }), ["opacityThreshold"] = 0.5 }"#,
        SEEN,
        UVS,
    );
    assert!(warnings.is_empty(), "{warnings:?}");
    let got = all(&s, 4);
    let want = 0.5 * 1.0 + 0.5 * f0(1.5);
    assert!(
        got.iter().all(|c| (c - want).abs() < 1e-3),
        "{got:?} vs {want}"
    );
    // Tile by tile: the top two quadrants are one of each.
    let q = [mean(&s, (0, 0, 8, 8), 4)[0], mean(&s, (8, 0, 16, 8), 4)[0]];
    let (lo, hi) = (q[0].min(q[1]), q[0].max(q[1]));
    assert!(
        (lo - f0(1.5)).abs() < 1e-3 && (hi - 1.0).abs() < 1e-4,
        "{q:?}"
    );
}

/// A grey plane at z = 0 under a distant light at 45 degrees, seen by an orthographic camera
/// 4 wide (16 pixels), with a UsdPreviewSurface strip `material` (1 wide in x, z = 1) above
/// it: the strip hides x in [-0.5, 0.5] from the camera and shades x in [0.5, 1.5] or
/// [-1.5, -0.5] from the light. No bounces.
fn plane_under_strip(material: &str) -> (render::scene::Scene, Vec<String>) {
    scene(&format!(
        r#"
SceneVariables {{ ["image_width"] = 16, ["image_height"] = 16, ["pixel_filter"] = 0,
                 ["pixel_filter_width"] = 1, ["max_depth"] = 0 }}
OrthographicCamera("cam") {{ ["node_xform"] = translate(0, 0, 5), ["film_width_aperture"] = 4 }}
local plane = RdlMeshGeometry("plane") {{
    ["vertex_list_0"] = {{ Vec3(-10, -10, 0), Vec3(10, -10, 0), Vec3(10, 10, 0), Vec3(-10, 10, 0) }},
    ["vertices_by_index"] = {{ 0, 1, 2, 3 }}, ["face_vertex_count"] = {{ 4 }}, ["is_subd"] = false }}
local q = RdlMeshGeometry("q") {{
    ["vertex_list_0"] = {{ Vec3(-0.5, -3, 1), Vec3(0.5, -3, 1), Vec3(0.5, 3, 1), Vec3(-0.5, 3, 1) }},
    ["vertices_by_index"] = {{ 0, 1, 2, 3 }}, ["face_vertex_count"] = {{ 4 }}, ["is_subd"] = false }}
local grey = DwaBaseMaterial("grey") {{ ["albedo"] = Rgb(0.5, 0.5, 0.5), ["specular"] = 0 }}
local mtl = {material}
local sun = DistantLight("sun") {{ ["intensity"] = 2, ["node_xform"] = rotate(45, 0, 1, 0) }}
local ls = LightSet("ls") {{ sun }}
Layer("layer") {{ {{ plane, "", grey, ls }}, {{ q, "", mtl, ls }} }}
"#
    ))
}

#[test]
fn a_cut_out_surface_casts_no_shadow() {
    // Two patches of the plane, x in [-1.25, -0.75] and [0.75, 1.25] (pixels 3-5 and 11-13),
    // clear of the strip as the camera sees it; the strip's shadow covers one of them when it
    // is present (opacity at the threshold), neither when it is cut out (opacity 0 under 0.5).
    // Lambert at 45 degrees: 0.5 * 2 * cos 45 / pi on a lit patch (within 1e-3: the sun's
    // default angular extent), 0 in the shadow.
    let lit = 0.5 * 2.0 * std::f64::consts::FRAC_1_SQRT_2 / std::f64::consts::PI;
    let patches = [(3, 2, 5, 14), (11, 2, 13, 14)];
    let usd = |opacity: f64| {
        let (s, warnings) = plane_under_strip(&format!(
            r#"UsdPreviewSurface("usd") {{ ["opacity"] = {opacity}, ["opacityThreshold"] = 0.5 }}"#
        ));
        assert!(warnings.is_empty(), "{warnings:?}");
        patches.map(|r| mean(&s, r, 4)[0])
    };
    let present = usd(0.5);
    let (lo, hi) = (present[0].min(present[1]), present[0].max(present[1]));
    assert!(
        lo == 0.0 && (hi - lit).abs() < 1e-3 * lit,
        "{present:?} vs {lit}"
    );
    for v in usd(0.0) {
        assert!((v - lit).abs() < 1e-3 * lit, "{v} vs {lit}");
    }
}

#[test]
fn rays_pass_cut_outs_without_spending_a_bounce() {
    // Along the camera's axis: a cut-out quad at z = 1, a smooth black quad of opacity 0.25
    // and ior 1 at z = 0 (MoonRay's 1 - opacity straight through, no reflection), another
    // cut-out at z = -1, then the white environment (not visible in camera). With max_depth 1
    // the one bounce is the transmission: 0.75 reaches the camera only if the camera ray and
    // the transmitted one both pass the cut-outs without spending a bounce (a hit there would
    // end the path: 0).
    let cut = r#"UsdPreviewSurface("cut") { ["opacity"] = 0, ["opacityThreshold"] = 0.5 }"#;
    let quad = |name: &str, z: f64| {
        format!(
            r#"local {name} = RdlMeshGeometry("{name}") {{
    ["vertex_list_0"] = {{ Vec3(-3, -3, {z}), Vec3(3, -3, {z}), Vec3(3, 3, {z}), Vec3(-3, 3, {z}) }},
    ["vertices_by_index"] = {{ 0, 1, 2, 3 }}, ["face_vertex_count"] = {{ 4 }}, ["is_subd"] = false }}"#
        )
    };
    let (s, warnings) = scene(&format!(
        r#"
SceneVariables {{ ["image_width"] = 16, ["image_height"] = 16, ["pixel_filter"] = 0,
                 ["pixel_filter_width"] = 1, ["max_depth"] = 1 }}
OrthographicCamera("cam") {{ ["node_xform"] = translate(0, 0, 5), ["film_width_aperture"] = 2 }}
{}
{}
{}
local cut = {cut}
local glass = UsdPreviewSurface("glass") {{ ["diffuseColor"] = Rgb(0, 0, 0), ["roughness"] = 0,
    ["ior"] = 1, ["opacity"] = 0.25 }}
local env = EnvLight("env") {{ ["color"] = Rgb(1, 1, 1) }}
local ls = LightSet("lights") {{ env }}
Layer("layer") {{ {{ front, "", cut, ls }}, {{ mid, "", glass, ls }}, {{ back, "", cut, ls }} }}
"#,
        quad("front", 1.0),
        quad("mid", 0.0),
        quad("back", -1.0)
    ));
    assert!(warnings.is_empty(), "{warnings:?}");
    let got = all(&s, 16);
    assert!(got.iter().all(|c| (c - 0.75).abs() < 0.003), "{got:?}");
}

#[test]
fn a_cut_out_inside_a_combining_material_warns_once_and_renders_opaque() {
    // Cut-outs are a hit's presence, which the built-in renderer keeps for a material id of
    // its own: inside a DwaMixMaterial (as both its inputs) the cut-out UsdPreviewSurface is opaque
    // (black diffuse, smooth: f0(1.5) head-on, not the environment), with one warning.
    let (s, warnings) = head_on_with(
        r#"DwaMixMaterial("mix") { ["material0"] = UsdPreviewSurface("cut") {
                 ["diffuseColor"] = Rgb(0, 0, 0), ["roughness"] = 0, ["opacity"] = 0,
                 ["opacityThreshold"] = 0.5 },
             ["material1"] = UsdPreviewSurface("cut"), ["mix"] = 0.5 }"#,
        SEEN,
        "",
    );
    let about: Vec<_> = warnings.iter().filter(|w| w.contains("cut-out")).collect();
    assert_eq!(about.len(), 1, "{warnings:?}");
    let got = all(&s, 16);
    assert!(got.iter().all(|c| (c - f0(1.5)).abs() < 0.003), "{got:?}");
}
