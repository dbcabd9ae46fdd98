//! Known answers for primitive attributes on curves and points (UserData in
//! `primitive_attributes`, rates as scene_rdl2 names them) read through an AttributeMap, as on
//! meshes: each curve's or point's own `Cd`, in a white furnace (a diffuse albedo shows as
//! itself on a surface that sees only the sky) and as emission (exactly).

use crate::shading::{mean, near, scene};

/// An orthographic 64 x 64 view of the 4 x 4 window x, y in [-2, 2] (a pixel is 1/16), the
/// geometry `geom` named `g`, with material `mtl` (which may bind `attr`, the AttributeMap of
/// `Cd`, default grey), lit by a white EnvLight alone.
fn view(geom: &str, mtl: &str) -> (render::scene::Scene, Vec<String>) {
    scene(&format!(
        r#"
SceneVariables {{ ["image_width"] = 64, ["image_height"] = 64, ["pixel_filter"] = 0,
                 ["pixel_filter_width"] = 1, ["max_depth"] = 1 }}
OrthographicCamera("cam") {{ ["node_xform"] = translate(0, 0, 5), ["film_width_aperture"] = 4 }}
local g = {geom}
local attr = AttributeMap("attr") {{ ["primitive_attribute_name"] = "Cd",
                                    ["default_value"] = Rgb(0.5, 0.5, 0.5) }}
local mtl = {mtl}
local env = EnvLight("env") {{ ["color"] = Rgb(1, 1, 1) }}
Layer("layer") {{ {{ g, "", mtl, LightSet("lights") {{ env }} }} }}
"#
    ))
}

/// Two straight ray-facing curves along x at y = 1 and y = -1, radius 0.25, with the UserData
/// `cd` (its body given).
fn two_curves(cd: &str) -> String {
    format!(
        r#"RdlCurveGeometry("g") {{ ["curve_type"] = "linear", ["curves_vertex_count"] = {{ 2, 2 }},
    ["vertex_list_0"] = {{ Vec3(-3, 1, 0), Vec3(3, 1, 0), Vec3(-3, -1, 0), Vec3(3, -1, 0) }},
    ["radius_list"] = {{ 0.25 }},
    ["primitive_attributes"] = {{ UserData("cd") {{ ["color_key"] = "Cd", {cd} }} }} }}"#
    )
}

/// Rows 14..18 lie within the upper curve (y from 1.06 to 0.81), rows 46..50 within the lower.
const UPPER: (u32, u32, u32, u32) = (8, 14, 56, 18);
const LOWER: (u32, u32, u32, u32) = (8, 46, 56, 50);

#[test]
fn each_curve_shows_its_own_colour_through_an_attribute_map() {
    let red = [0.8, 0.2, 0.1];
    let green = [0.1, 0.7, 0.2];
    let cd =
        r#"["color_values_0"] = { Rgb(0.8, 0.2, 0.1), Rgb(0.1, 0.7, 0.2) }, ["rate"] = "uniform""#;
    // Emission: the values themselves.
    let (s, warnings) = view(
        &two_curves(cd),
        r#"DwaEmissiveMaterial("mtl") { ["emission"] = bind(attr) }"#,
    );
    assert!(
        !warnings
            .iter()
            .any(|w| w.contains("UserData") || w.contains("primitive")),
        "{warnings:?}"
    );
    assert!(
        near(mean(&s, UPPER, 1), red, 1e-5),
        "{:?}",
        mean(&s, UPPER, 1)
    );
    assert!(
        near(mean(&s, LOWER, 1), green, 1e-5),
        "{:?}",
        mean(&s, LOWER, 1)
    );
    // A diffuse albedo in the white furnace: the flat curves face the camera and see only
    // the sky (the other curve is edge-on), so each shows its albedo; tolerance for the
    // light-sampling noise of 16 samples over 192 pixels.
    let (s, _) = view(
        &two_curves(cd),
        r#"DwaBaseMaterial("mtl") { ["albedo"] = bind(attr), ["specular"] = 0 }"#,
    );
    assert!(
        near(mean(&s, UPPER, 16), red, 0.02),
        "{:?}",
        mean(&s, UPPER, 16)
    );
    assert!(
        near(mean(&s, LOWER, 16), green, 0.02),
        "{:?}",
        mean(&s, LOWER, 16)
    );
}

#[test]
fn curve_attributes_follow_every_rate() {
    let emit = r#"DwaEmissiveMaterial("mtl") { ["emission"] = bind(attr) }"#;
    // Constant: one value on both curves.
    let (s, _) = view(
        &two_curves(r#"["color_values_0"] = { Rgb(0.3, 0.6, 0.9) }"#),
        emit,
    );
    assert!(near(mean(&s, UPPER, 1), [0.3, 0.6, 0.9], 1e-5));
    assert!(near(mean(&s, LOWER, 1), [0.3, 0.6, 0.9], 1e-5));
    // Vertex (4 values, auto): along the upper curve from 0 at x = -3 to 1 at x = 3. The
    // span's u is linear in x there: at the column of x = 0 (columns 31, 32) 0.5.
    let (s, _) = view(
        &two_curves(
            r#"["color_values_0"] = { Rgb(0, 0, 0), Rgb(1, 1, 1), Rgb(0, 0, 0), Rgb(0, 0, 0) }"#,
        ),
        emit,
    );
    let mid = mean(&s, (31, 14, 33, 18), 1);
    assert!(near(mid, [0.5; 3], 0.01), "{mid:?}");
    // Varying (span ends: two per linear curve) reads the same way.
    let (s, _) = view(
        &two_curves(
            r#"["color_values_0"] = { Rgb(0, 0, 0), Rgb(1, 1, 1), Rgb(0, 0, 0), Rgb(0, 0, 0) }, ["rate"] = "varying""#,
        ),
        emit,
    );
    let mid = mean(&s, (31, 14, 33, 18), 1);
    assert!(near(mid, [0.5; 3], 0.01), "{mid:?}");
    // A count that fits no rate warns; the map gives its default.
    let (s, warnings) = view(
        &two_curves(
            r#"["color_values_0"] = { Rgb(1, 0, 0), Rgb(1, 0, 0), Rgb(1, 0, 0) }, ["rate"] = "vertex""#,
        ),
        emit,
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("fit no rate of these curves")),
        "{warnings:?}"
    );
    assert!(near(mean(&s, UPPER, 1), [0.5; 3], 1e-5));
}

#[test]
fn each_point_shows_its_own_colour_through_an_attribute_map() {
    // Two points of radius 0.5 at x = -1 and x = 1; the 4 x 4 pixels at each centre.
    let points = |cd: &str| {
        format!(
            r#"RdlPointGeometry("g") {{ ["vertex_list_0"] = {{ Vec3(-1, 0, 0), Vec3(1, 0, 0) }},
    ["radius_list"] = {{ 0.5 }},
    ["primitive_attributes"] = {{ UserData("cd") {{ ["color_key"] = "Cd", {cd} }} }} }}"#
        )
    };
    let (left, right) = ((14, 30, 18, 34), (46, 30, 50, 34));
    let cd = r#"["color_values_0"] = { Rgb(0.8, 0.2, 0.1), Rgb(0.1, 0.7, 0.2) }"#;
    let (s, warnings) = view(
        &points(cd),
        r#"DwaEmissiveMaterial("mtl") { ["emission"] = bind(attr) }"#,
    );
    assert!(
        !warnings.iter().any(|w| w.contains("UserData")),
        "{warnings:?}"
    );
    assert!(near(mean(&s, left, 1), [0.8, 0.2, 0.1], 1e-5));
    assert!(near(mean(&s, right, 1), [0.1, 0.7, 0.2], 1e-5));
    // Diffuse in the white furnace: a convex ball sees only the sky, so it shows its albedo.
    let (s, _) = view(
        &points(cd),
        r#"DwaBaseMaterial("mtl") { ["albedo"] = bind(attr), ["specular"] = 0 }"#,
    );
    assert!(
        near(mean(&s, left, 64), [0.8, 0.2, 0.1], 0.03),
        "{:?}",
        mean(&s, left, 64)
    );
    assert!(
        near(mean(&s, right, 64), [0.1, 0.7, 0.2], 0.03),
        "{:?}",
        mean(&s, right, 64)
    );
    // Constant: both.
    let (s, _) = view(
        &points(r#"["color_values_0"] = { Rgb(0.3, 0.6, 0.9) }"#),
        r#"DwaEmissiveMaterial("mtl") { ["emission"] = bind(attr) }"#,
    );
    assert!(near(mean(&s, left, 1), [0.3, 0.6, 0.9], 1e-5));
    assert!(near(mean(&s, right, 1), [0.3, 0.6, 0.9], 1e-5));
}
