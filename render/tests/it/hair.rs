//! Hair materials on curves: HairDiffuseMaterial and HairMaterial_v3 on a ray-facing ribbon
//! seen by an orthographic camera, in a white furnace (each pixel on the hair its BSDF's
//! albedo) and under a distant light (shading about the curve's tangent).

use render::integrator::{render_tile, PixelRect};
use render::rdla::SceneSource;
use render::scene::{BuildOptions, Scene};
use std::sync::atomic::AtomicBool;

const SIZE: u32 = 32;

fn scene(text: &str) -> (Scene, Vec<String>) {
    let src = SceneSource {
        name: "hair.rdla".into(),
        text: text.as_bytes().to_vec(),
    };
    render::prepare(&[src], &[], &BuildOptions::default()).expect("the test scene loads")
}

/// A straight hair along x at y = 0 (radius 1 in a 4 x 4 window: 16 pixels tall) of
/// `subtype`, with material `material`, in a uniform white environment.
fn furnace(subtype: &str, material: &str) -> String {
    format!(
        r#"
SceneVariables {{ ["image_width"] = {SIZE}, ["image_height"] = {SIZE}, ["pixel_filter"] = 0,
                 ["pixel_filter_width"] = 1, ["lights_visible_in_camera"] = false }}
OrthographicCamera("cam") {{ ["node_xform"] = translate(0, 0, 5), ["film_width_aperture"] = 4 }}
local c = RdlCurveGeometry("c") {{ ["curve_type"] = "linear", ["curves_subtype"] = "{subtype}",
    ["curves_vertex_count"] = {{ 2 }}, ["vertex_list_0"] = {{ Vec3(-3, 0, 0), Vec3(3, 0, 0) }},
    ["radius_list"] = {{ 1 }} }}
local m = {material}
local env = EnvLight("env") {{ ["color"] = Rgb(1, 1, 1) }}
Layer("layer") {{ {{ c, "", m, LightSet("lights") {{ env }} }} }}
"#
    )
}

/// The mean RGB over the two middle rows (wholly on the hair) of the middle sixteen columns,
/// and the corner pixel's red, after `spp` samples.
fn middle(scene: &Scene, spp: u32) -> ([f64; 3], f64) {
    let rect = PixelRect {
        x0: 0,
        y0: 0,
        x1: SIZE,
        y1: SIZE,
    };
    let t = render_tile(scene, rect, 0..spp, 0, &AtomicBool::new(false)).unwrap();
    let mut sum = [0.0; 3];
    let mut n = 0.0;
    for y in 15..17 {
        for x in 8..24 {
            let s = t.sums[(y * SIZE + x) as usize];
            for c in 0..3 {
                sum[c] += s[c] / f64::from(spp);
            }
            n += 1.0;
        }
    }
    (sum.map(|s| s / n), t.sums[0][0])
}

#[test]
fn hair_diffuse_in_a_white_furnace_shows_its_colour() {
    // MoonRay's HairDiffuseLobe scatters sin(theta_t) / pi^2 times its colour over the whole
    // sphere, which integrates to the colour (bsdf.rs tests it numerically): a hair of
    // colour (0.6, 0.4, 0.2) alone under a white environment shows that colour. A ribbon
    // sends both halves of the lobe to the environment. 32 pixels x 256 samples: within 0.01.
    let (s, warnings) = scene(&furnace(
        "ray_facing",
        r#"HairDiffuseMaterial("hair") { ["hair_color"] = Rgb(0.6, 0.4, 0.2) }"#,
    ));
    assert!(!warnings.iter().any(|w| w.contains("hair")), "{warnings:?}");
    let (mean, corner) = middle(&s, 256);
    for (got, want) in mean.iter().zip([0.6, 0.4, 0.2]) {
        assert!((got - want).abs() < 0.01, "{mean:?}");
    }
    assert_eq!(corner, 0.0);
}

#[test]
fn hair_diffuse_front_and_back_colours_share_the_sphere_by_azimuth() {
    // Independent colours, front 1 and back 0: the front share (1 + kappa) / 2, kappa the
    // cosine of the azimuth between wi and wo around the hair, averages 1/2 over the
    // sphere; grey diffuse (or a lobe ignoring the back colour) would show 1. Within 0.01.
    let (s, _) = scene(&furnace(
        "ray_facing",
        r#"HairDiffuseMaterial("hair") { ["use_independent_front_and_back_hair_color"] = true,
             ["front_hair_color"] = Rgb(1, 1, 1), ["back_hair_color"] = Rgb(0, 0, 0) }"#,
    ));
    let (mean, _) = middle(&s, 256);
    assert!((mean[0] - 0.5).abs() < 0.01, "{mean:?}");
}

#[test]
fn hair_diffuse_shades_by_the_angle_to_the_curves_tangent() {
    // One distant light of irradiance 2 and no bounces, the hair along the image's diagonal
    // (1, 1, 0): it shows colour * sin(light to tangent) * 2 / pi^2. Head-on and tilted 45
    // degrees about the hair the sine is 1; tilted 45 degrees towards the hair it is 0.7071
    // (a Lambertian surface facing the camera would show cos 45 for both tilts, and a frame
    // not along the tangent other sines). Within 1% (the light's half-degree cone).
    let s2 = 0.5f64.sqrt();
    for (tilt, sine) in [
        ("rotate(0, 1, 0, 0)", 1.0),
        ("rotate(45, 1, 1, 0)", 1.0),
        ("rotate(45, -1, 1, 0)", s2),
        ("rotate(-45, -1, 1, 0)", s2),
    ] {
        let text = furnace(
            "ray_facing",
            r#"HairDiffuseMaterial("hair") { ["hair_color"] = Rgb(0.5, 0.5, 0.5) }"#,
        )
        .replace(
            "Vec3(-3, 0, 0), Vec3(3, 0, 0)",
            "Vec3(-3, -3, 0), Vec3(3, 3, 0)",
        )
        .replace(
            r#"["pixel_filter_width"] = 1,"#,
            r#"["pixel_filter_width"] = 1, ["max_depth"] = 0,"#,
        )
        .replace(
            r#"EnvLight("env") { ["color"] = Rgb(1, 1, 1) }"#,
            &format!(r#"DistantLight("env") {{ ["intensity"] = 2, ["node_xform"] = {tilt} }}"#),
        );
        let (s, warnings) = scene(&text);
        assert!(warnings.is_empty(), "{warnings:?}");
        let (mean, _) = middle(&s, 16);
        let want = 0.5 * sine * 2.0 / (std::f64::consts::PI * std::f64::consts::PI);
        assert!(
            (mean[0] - want).abs() < 0.01 * want,
            "{tilt}: {mean:?} vs {want}"
        );
    }
}

#[test]
fn white_hair_material_in_a_white_furnace_keeps_nearly_all_its_energy() {
    // HairMaterial_v3's R, TT and TRT lobes, white (no absorption), multiple scattering off:
    // the lobes' sum F + (1 - F)^2 + (1 - F)^2 F is 0.9 to 1.061 wherever seen (bsdf.rs
    // integrates it; MoonRay's longitudinal function at the TT lobe's default variance is
    // up to 6% high), so the hair's middle is in that band, not grey diffuse's 0.5; a
    // dark brown hair (0.3, 0.15, 0.05) is redder than it is blue. 256 samples.
    let (s, warnings) = scene(&furnace(
        "ray_facing",
        r#"HairMaterial_v3("hair") { ["show_multiple_scattering"] = false }"#,
    ));
    assert!(!warnings.iter().any(|w| w.contains("hair")), "{warnings:?}");
    let (mean, corner) = middle(&s, 256);
    assert!((0.9..1.061).contains(&mean[0]), "{mean:?}");
    assert_eq!(corner, 0.0);
    let (s, warnings) = scene(&furnace(
        "ray_facing",
        r#"HairMaterial_v3("hair") { ["hair_color"] = Rgb(0.3, 0.15, 0.05) }"#,
    ));
    // Multiple scattering (TRRT, on by default) is rendered: no warning.
    assert!(!warnings.iter().any(|w| w.contains("hair")), "{warnings:?}");
    let (brown, _) = middle(&s, 256);
    assert!(
        brown[0] > brown[1] && brown[1] > brown[2] && brown[0] < mean[0],
        "{brown:?}"
    );
}

#[test]
fn multiple_scattering_adds_moonrays_small_series_to_white_hair() {
    // The same white hair with its TRRT lobe on (the default): the series (1 - F) F^2 adds
    // about 0.001-0.009 (F 0.034-0.1 over the sphere; hair.rs checks the lobe's formula
    // and integral), and the same samples are drawn (uniform over the sphere either
    // way), so the middle is brighter by more than nothing and less than 0.01, still in
    // the band of 0.9 to 1.061. No warning.
    let off = scene(&furnace(
        "ray_facing",
        r#"HairMaterial_v3("hair") { ["show_multiple_scattering"] = false }"#,
    ))
    .0;
    let (on, warnings) = scene(&furnace("ray_facing", r#"HairMaterial_v3("hair") {}"#));
    assert!(!warnings.iter().any(|w| w.contains("hair")), "{warnings:?}");
    let (a, _) = middle(&off, 256);
    let (b, _) = middle(&on, 256);
    for k in 0..3 {
        let d = b[k] - a[k];
        assert!(d > 1e-4 && d < 0.01, "channel {k}: {a:?} -> {b:?}");
    }
    assert!((0.9..1.061).contains(&b[0]), "{b:?}");
}

/// The mean RGB over the two middle rows of columns `x0..x1`, after `spp` samples.
fn columns(scene: &Scene, spp: u32, x0: u32, x1: u32) -> [f64; 3] {
    let rect = PixelRect {
        x0: 0,
        y0: 0,
        x1: SIZE,
        y1: SIZE,
    };
    let t = render_tile(scene, rect, 0..spp, 0, &AtomicBool::new(false)).unwrap();
    let mut sum = [0.0; 3];
    let mut n = 0.0;
    for y in 15..17 {
        for x in x0..x1 {
            let s = t.sums[(y * SIZE + x) as usize];
            for c in 0..3 {
                sum[c] += s[c] / f64::from(spp);
            }
            n += 1.0;
        }
    }
    sum.map(|s| s / n)
}

#[test]
fn a_checkerboard_bound_to_hair_diffuse_colour_shows_both_colours_in_a_white_furnace() {
    // The curve's s runs 0 to 1 along x from -3 to 3; a CheckerboardMap of 2 u tiles and 1 v
    // tile is colour A where s < 0.5 (x < 0, columns below 16) and B beyond (moonray's
    // CheckerboardMap.ispc: A where floor(s u / 2) and floor(t v / 2) have the same parity).
    // In the white furnace the hair diffuse shows its colour (within 0.01, as the constant
    // colour's test): A on the left, B on the right. No warning about the binding.
    let (s, warnings) = scene(&furnace(
        "ray_facing",
        r#"HairDiffuseMaterial("hair") { ["hair_color"] = bind(CheckerboardMap("checker") {
            ["color_A"] = Rgb(0.9, 0.5, 0.2), ["color_B"] = Rgb(0.2, 0.3, 0.7),
            ["num_u_tiles"] = 2, ["num_v_tiles"] = 1 }) }"#,
    ));
    assert!(!warnings.iter().any(|w| w.contains("hair")), "{warnings:?}");
    let left = columns(&s, 256, 8, 15);
    let right = columns(&s, 256, 17, 24);
    for (got, want) in [(left, [0.9, 0.5, 0.2]), (right, [0.2, 0.3, 0.7])] {
        for c in 0..3 {
            assert!((got[c] - want[c]).abs() < 0.01, "{got:?} vs {want:?}");
        }
    }
}

#[test]
fn hair_material_colours_bound_to_maps_are_evaluated_per_hit() {
    // A checkerboard whose two colours are both the constants renders the very same pixels
    // as the constants (the same samples); one whose right half is a dark brown hair_color
    // leaves the left as the white hair and makes the right redder than blue and darker.
    let constant = scene(&furnace(
        "ray_facing",
        r#"HairMaterial_v3("hair") { ["hair_color"] = Rgb(0.6, 0.4, 0.3),
            ["transmission_tint"] = Rgb(1, 0.8, 0.8) }"#,
    ))
    .0;
    let (bound, warnings) = scene(&furnace(
        "ray_facing",
        r#"HairMaterial_v3("hair") {
            ["hair_color"] = bind(CheckerboardMap("c1") { ["color_A"] = Rgb(0.6, 0.4, 0.3),
                ["color_B"] = Rgb(0.6, 0.4, 0.3) }),
            ["transmission_tint"] = bind(CheckerboardMap("c2") { ["color_A"] = Rgb(1, 0.8, 0.8),
                ["color_B"] = Rgb(1, 0.8, 0.8) }) }"#,
    ));
    assert!(!warnings.iter().any(|w| w.contains("hair")), "{warnings:?}");
    assert_eq!(columns(&constant, 16, 8, 24), columns(&bound, 16, 8, 24));
    let (s, warnings) = scene(&furnace(
        "ray_facing",
        r#"HairMaterial_v3("hair") { ["hair_color"] = bind(CheckerboardMap("checker") {
            ["color_A"] = Rgb(1, 1, 1), ["color_B"] = Rgb(0.3, 0.15, 0.05),
            ["num_u_tiles"] = 2, ["num_v_tiles"] = 1 }) }"#,
    ));
    assert!(!warnings.iter().any(|w| w.contains("hair")), "{warnings:?}");
    let left = columns(&s, 256, 8, 15);
    let right = columns(&s, 256, 17, 24);
    // White on the left: R + TT + TRT + TRRT in the band of the white-hair test.
    for c in 0..3 {
        assert!((0.9..1.061).contains(&left[c]), "{left:?}");
    }
    assert!(
        right[0] > right[1] && right[1] > right[2] && right[0] < left[0] - 0.1,
        "{right:?}"
    );
}

#[test]
fn the_multiple_scattering_lobe_takes_moonrays_roughness_for_the_sampling_path() {
    // With `use_optimized_sampling` (the default) MoonRay's HairOneSampleLobe builds the TRRT
    // lobe at roughness 1; without, at 4 x primary_specular_roughness (here 4 x 0.1 = 0.4);
    // with `show_multiple_scattering` off, none. The variance is HairUtil::longitudinalVar.
    use render::bsdf::Material;
    use render::hair::longitudinal_var;
    let trrt = |attrs: &str| {
        let (s, _) = scene(&furnace(
            "ray_facing",
            &format!(
                r#"HairMaterial_v3("hair") {{ ["primary_specular_roughness"] = 0.1, {attrs} }}"#
            ),
        ));
        match &s.materials[..] {
            [Material::Hair { hair, .. }] => hair.trrt,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(trrt(""), Some(longitudinal_var(1.0)));
    assert_eq!(
        trrt(r#"["use_optimized_sampling"] = false"#),
        Some(longitudinal_var(0.4))
    );
    assert_eq!(trrt(r#"["show_multiple_scattering"] = false"#), None);
}
