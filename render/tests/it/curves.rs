//! Curves (RdlCurveGeometry) seen by an orthographic camera: silhouette widths, tapers, a
//! straight bezier against a linear curve, a b-spline's known shape, and a white furnace.
//!
//! Every scene has a 64 x 64 image of a 4 x 4 window (x and y from -2 to 2), so a pixel is
//! 1/16 wide; a glowing curve (DwaEmissiveMaterial, emission 1) makes each pixel's value its
//! covered fraction, and a column's sum is the curve's height in that column, in pixels.

use render::integrator::{render_tile, PixelRect};
use render::rdla::SceneSource;
use render::scene::{BuildOptions, Scene};
use std::sync::atomic::AtomicBool;

const SIZE: u32 = 64;
/// Scene units per pixel.
const PIXEL: f64 = 4.0 / SIZE as f64;

fn scene(text: &str) -> (Scene, Vec<String>) {
    let src = SceneSource {
        name: "curves.rdla".into(),
        text: text.as_bytes().to_vec(),
    };
    render::prepare(&[src], &[], &BuildOptions::default()).expect("the test scene loads")
}

/// A glowing curve object (its class body given) under the orthographic camera.
fn glowing(curve: &str) -> String {
    format!(
        r#"
SceneVariables {{ ["image_width"] = {SIZE}, ["image_height"] = {SIZE}, ["pixel_filter"] = 0,
                 ["pixel_filter_width"] = 1 }}
OrthographicCamera("cam") {{ ["node_xform"] = translate(0, 0, 5), ["film_width_aperture"] = 4 }}
local c = RdlCurveGeometry("c") {{ {curve} }}
local glow = DwaEmissiveMaterial("glow") {{ ["emission"] = Rgb(1, 1, 1) }}
Layer("layer") {{ {{ c, "", glow }} }}
"#
    )
}

/// The red channel of every pixel, rows from the top, after `spp` samples.
fn image(scene: &Scene, spp: u32) -> Vec<f64> {
    let rect = PixelRect {
        x0: 0,
        y0: 0,
        x1: SIZE,
        y1: SIZE,
    };
    let t = render_tile(scene, rect, 0..spp, 0, &AtomicBool::new(false)).unwrap();
    t.sums.iter().map(|s| s[0] / f64::from(spp)).collect()
}

/// The covered height of column `x`, in pixels.
fn column(img: &[f64], x: u32) -> f64 {
    (0..SIZE).map(|y| img[(y * SIZE + x) as usize]).sum()
}

/// The world x of a column's centre, and the world y of a row's centre (row 0 at the top).
fn x_of(col: u32) -> f64 {
    -2.0 + (f64::from(col) + 0.5) * PIXEL
}
fn y_of(row: u32) -> f64 {
    2.0 - (f64::from(row) + 0.5) * PIXEL
}

fn curve(kind: &str, subtype: &str, counts: &str, verts: &str, radii: &str) -> String {
    format!(
        r#"["curve_type"] = "{kind}", ["curves_subtype"] = "{subtype}",
           ["curves_vertex_count"] = {{ {counts} }}, ["vertex_list_0"] = {{ {verts} }},
           ["radius_list"] = {{ {radii} }}"#
    )
}

#[test]
fn a_straight_curve_covers_twice_its_radius_in_every_column() {
    // Along x through the whole window at y = 0.3, radius 0.1: 3.2 pixels tall. Tolerance
    // 0.05 pixel for the mean over 48 columns (64 stratified samples on two partly covered
    // pixels per column; the intersection itself is exact for a straight curve).
    for subtype in ["ray_facing", "round"] {
        let (s, warnings) = scene(&glowing(&curve(
            "linear",
            subtype,
            "2",
            "Vec3(-3, 0.3, 0), Vec3(3, 0.3, 0)",
            "0.1",
        )));
        assert!(
            !warnings.iter().any(|w| w.contains("RdlCurveGeometry")),
            "{warnings:?}"
        );
        let img = image(&s, 64);
        let mean: f64 = (8..56).map(|x| column(&img, x)).sum::<f64>() / 48.0;
        let want = 2.0 * 0.1 / PIXEL;
        assert!(
            (mean - want).abs() < 0.05,
            "{subtype}: {mean} pixels, not {want}"
        );
        // Nothing beyond 0.1 of the centre line: rows whose centres are 0.2 away are dark.
        for x in 8..56 {
            for y in 0..SIZE {
                if (y_of(y) - 0.3).abs() > 0.1 + PIXEL {
                    assert_eq!(img[(y * SIZE + x) as usize], 0.0, "{subtype} {x} {y}");
                }
            }
        }
    }
}

#[test]
fn a_bezier_on_a_straight_line_has_the_linear_curves_silhouette() {
    // The same segment from (-3, 0.3) to (3, 0.3), its inner control points unevenly along it
    // (so its parameter is not the linear one's), with the linear curve's radius at every
    // control point. Within the curve's ends, every pixel matches to 0.02 (a silhouette off
    // by the 2% subdivision tolerance of the radius, 0.002, is 1/30 pixel).
    let linear = curve(
        "linear",
        "ray_facing",
        "2",
        "Vec3(-3, 0.3, 0), Vec3(3, 0.3, 0)",
        "0.1",
    );
    let bezier = curve(
        "bezier",
        "ray_facing",
        "4",
        "Vec3(-3, 0.3, 0), Vec3(-2.5, 0.3, 0), Vec3(1, 0.3, 0), Vec3(3, 0.3, 0)",
        "0.1",
    );
    let a = image(&scene(&glowing(&linear)).0, 16);
    let b = image(&scene(&glowing(&bezier)).0, 16);
    let covered: f64 = b.iter().sum();
    assert!(covered > 150.0, "the bezier covers {covered} pixels");
    for (i, (p, q)) in a.iter().zip(&b).enumerate() {
        assert!((p - q).abs() <= 0.02, "pixel {i}: linear {p}, bezier {q}");
    }
}

#[test]
fn a_tapered_curve_narrows_linearly() {
    // Radius 0.15 at x = -2 to 0.05 at x = 2 (per vertex): r(x) = 0.1 - 0.025 x. Each band of
    // eight columns covers 2 r at its centre, within 0.08 pixel (a band's mean of a linear
    // width is the width at its centre; the noise is as in the straight test).
    for subtype in ["ray_facing", "round"] {
        let (s, _) = scene(&glowing(&curve(
            "linear",
            subtype,
            "2",
            "Vec3(-2, 0, 0), Vec3(2, 0, 0)",
            "0.15, 0.05",
        )));
        let img = image(&s, 64);
        for band in 0..8 {
            let cols = band * 8..band * 8 + 8;
            let mean: f64 = cols.clone().map(|x| column(&img, x)).sum::<f64>() / 8.0;
            let xc: f64 = cols.map(x_of).sum::<f64>() / 8.0;
            let want = 2.0 * (0.1 - 0.025 * xc) / PIXEL;
            assert!(
                (mean - want).abs() < 0.08,
                "{subtype} band {band}: {mean} pixels, not {want}"
            );
        }
    }
}

#[test]
fn a_bspline_lies_where_the_analytic_curve_is() {
    // Control points (i h, a (i h)^2) for i = -4..4, h = 0.5, a = 0.5: a uniform cubic
    // b-spline reproduces quadratics, so the curve is y = a (x^2 + h^2 / 3) exactly (the sum
    // of i^2 B_i(x) is x^2 + 1/3), for x from -1.5 to 1.5. Each column's covered centroid is
    // on it within 0.01 (a sixth of a pixel): the control points themselves are 0.042 below.
    let verts: Vec<String> = (-4..=4)
        .map(|i| {
            let x = 0.5 * f64::from(i);
            format!("Vec3({x}, {}, 0)", 0.5 * x * x)
        })
        .collect();
    let (s, _) = scene(&glowing(&curve(
        "bspline",
        "ray_facing",
        "9",
        &verts.join(", "),
        "0.05",
    )));
    let img = image(&s, 64);
    let mut checked = 0;
    for x in 0..SIZE {
        let xc = x_of(x);
        if xc.abs() > 1.4 {
            continue;
        }
        let (mut sum, mut moment) = (0.0, 0.0);
        for y in 0..SIZE {
            let v = img[(y * SIZE + x) as usize];
            sum += v;
            moment += v * y_of(y);
        }
        let want = 0.5 * (xc * xc + 0.25 / 3.0);
        assert!(sum > 1.0, "column {x} covers {sum}");
        let at = moment / sum;
        assert!((at - want).abs() < 0.01, "column {x}: y {at}, not {want}");
        checked += 1;
    }
    assert!(checked > 40);
}

#[test]
fn a_round_curve_in_a_white_furnace_shows_its_albedo() {
    // A tube of radius 0.25 (8 pixels tall) in a uniform white environment, albedo 0.8: every
    // ray leaving a convex surface escapes to the environment, so a fully covered pixel is
    // 0.8 (within 0.01, as the sphere's furnace test); the background is not shown (0).
    // Self-shadowing by the tube would darken it.
    let text = format!(
        r#"
SceneVariables {{ ["image_width"] = {SIZE}, ["image_height"] = {SIZE}, ["pixel_filter"] = 0,
                 ["pixel_filter_width"] = 1, ["lights_visible_in_camera"] = false }}
OrthographicCamera("cam") {{ ["node_xform"] = translate(0, 0, 5), ["film_width_aperture"] = 4 }}
local c = RdlCurveGeometry("c") {{ {} }}
local grey = DwaBaseMaterial("grey") {{ ["albedo"] = Rgb(0.8, 0.8, 0.8), ["specular"] = 0 }}
local env = EnvLight("env") {{ ["color"] = Rgb(1, 1, 1) }}
Layer("layer") {{ {{ c, "", grey, LightSet("lights") {{ env }} }} }}
"#,
        curve(
            "bezier",
            "round",
            "4",
            "Vec3(-3, 0, 0), Vec3(-1, 0.5, 0.5), Vec3(1, -0.5, -0.5), Vec3(3, 0, 0)",
            "0.25"
        )
    );
    let (s, _) = scene(&text);
    let img = image(&s, 64);
    // The rows within 0.15 of the curve's centre line (which crosses the middle row at the
    // middle column) in the middle sixteen columns.
    let (mut sum, mut n) = (0.0, 0);
    for x in 24..40 {
        for y in 30..34 {
            sum += img[(y * SIZE + x) as usize];
            n += 1;
        }
    }
    let mean = sum / f64::from(n);
    assert!((mean - 0.8).abs() < 0.01, "{mean}");
    assert_eq!(img[0], 0.0);
}

#[test]
fn curves_moonray_refuses_warn_once_and_render_nothing() {
    // A bezier curve needs 3 k + 1 vertices (moonray geom/Curves.cc checkPrimitiveData).
    let (s, warnings) = scene(&glowing(&curve(
        "bezier",
        "ray_facing",
        "3",
        "Vec3(-3, 0, 0), Vec3(0, 0, 0), Vec3(3, 0, 0)",
        "0.5",
    )));
    let about: Vec<&String> = warnings.iter().filter(|w| w.contains("`c`")).collect();
    assert_eq!(about.len(), 1, "{warnings:?}");
    assert!(about[0].contains("3 vertices"), "{about:?}");
    assert!(image(&s, 1).iter().all(|v| *v == 0.0));
}

#[test]
fn normal_oriented_curves_warn_once_and_render_ray_facing() {
    // Instanced twice (at y = 0.5 and y = -0.5): two ribbons of radius 0.1, one warning.
    let text = format!(
        r#"
SceneVariables {{ ["image_width"] = {SIZE}, ["image_height"] = {SIZE}, ["pixel_filter"] = 0,
                 ["pixel_filter_width"] = 1 }}
OrthographicCamera("cam") {{ ["node_xform"] = translate(0, 0, 5), ["film_width_aperture"] = 4 }}
local c = RdlCurveGeometry("c") {{ {} }}
local i = RdlInstancerGeometry("i") {{ ["references"] = {{ c }},
    ["positions"] = {{ Vec3(0, 0.5, 0), Vec3(0, -0.5, 0) }} }}
local glow = DwaEmissiveMaterial("glow") {{ ["emission"] = Rgb(1, 1, 1) }}
Layer("layer") {{ {{ i, "", glow }} }}
"#,
        curve(
            "bezier",
            "normal_oriented",
            "4",
            "Vec3(-3, 0, 0), Vec3(-1, 0, 0), Vec3(1, 0, 0), Vec3(3, 0, 0)",
            "0.1"
        )
    );
    let (s, warnings) = scene(&text);
    let about: Vec<&String> = warnings
        .iter()
        .filter(|w| w.contains("normal_oriented"))
        .collect();
    assert_eq!(about.len(), 1, "{warnings:?}");
    let img = image(&s, 64);
    let mean: f64 = (8..56).map(|x| column(&img, x)).sum::<f64>() / 48.0;
    let want = 2.0 * 2.0 * 0.1 / PIXEL;
    assert!((mean - want).abs() < 0.1, "{mean} pixels, not {want}");
}

#[test]
fn a_normal_oriented_ribbon_lies_square_to_its_normal() {
    // A straight bezier along x at y = 0.3, radius 0.1, with a constant `normal` UserData
    // tilted by theta from the camera's axis about x: the ribbon, in the plane of x and
    // normal x tangent, is 2 r cos(theta) tall on screen: 3.2 pixels face-on (theta 0), 1.6 at
    // 60 degrees, nothing edge-on (90). Tolerance as for the ray-facing curve.
    for (theta, want) in [(0.0f64, 3.2), (60.0, 1.6), (90.0, 0.0)] {
        let (sin, cos) = theta.to_radians().sin_cos();
        let attrs = format!(
            r#"["primitive_attributes"] = {{ UserData("n") {{ ["vec3f_key"] = "normal",
                   ["vec3f_values_0"] = {{ Vec3(0, {sin}, {cos}) }} }} }}"#
        );
        let (s, warnings) = scene(&glowing(&format!(
            "{}, {attrs}",
            curve(
                "bezier",
                "normal_oriented",
                "4",
                "Vec3(-3, 0.3, 0), Vec3(-1, 0.3, 0), Vec3(1, 0.3, 0), Vec3(3, 0.3, 0)",
                "0.1",
            )
        )));
        assert!(
            !warnings.iter().any(|w| w.contains("RdlCurveGeometry")),
            "{warnings:?}"
        );
        let img = image(&s, 64);
        let mean: f64 = (8..56).map(|x| column(&img, x)).sum::<f64>() / 48.0;
        assert!(
            (mean - want).abs() < 0.05,
            "theta {theta}: {mean} pixels, not {want}"
        );
    }
}
