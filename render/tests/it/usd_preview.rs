//! UsdPreviewSurface's inputs beyond the metallic workflow, on a quad facing an orthographic
//! camera under a white environment: clearcoat, the specular workflow's specularColor, and
//! opacity, each against its value at normal incidence.

use crate::shading::{mean, scene};

/// A 2x2 quad at z = 0 filling a 16x16 orthographic view, seen head-on, with `material` as
/// `mtl`, under a white EnvLight (visible to the camera: 1 where the quad lets it through).
/// One bounce: a smooth reflection head-on goes straight back to the environment.
fn head_on(material: &str) -> (render::scene::Scene, Vec<String>) {
    scene(&format!(
        r#"
SceneVariables {{ ["image_width"] = 16, ["image_height"] = 16, ["pixel_filter"] = 0,
                 ["pixel_filter_width"] = 1, ["max_depth"] = 1 }}
OrthographicCamera("cam") {{ ["node_xform"] = translate(0, 0, 5), ["film_width_aperture"] = 2 }}
local q = RdlMeshGeometry("q") {{
    ["vertex_list_0"] = {{ Vec3(-1, -1, 0), Vec3(1, -1, 0), Vec3(1, 1, 0), Vec3(-1, 1, 0) }},
    ["vertices_by_index"] = {{ 0, 1, 2, 3 }}, ["face_vertex_count"] = {{ 4 }},
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
    // Below the threshold it would be cut out (presence 0), which is not supported: one
    // warning, rendered opaque.
    let (_, warnings) =
        head_on(r#"UsdPreviewSurface("usd") { ["opacity"] = 0.1, ["opacityThreshold"] = 0.2 }"#);
    let about: Vec<_> = warnings.iter().filter(|w| w.contains("cut-out")).collect();
    assert_eq!(about.len(), 1, "{warnings:?}");
}
