//! Known answers for ProjectTriplanarMap (moonshine dso/map/ProjectTriplanarMap/v1 and
//! lib/map/projection/TriplanarTexture.cc): which face's texture a surface shows, and the
//! blend weights |n_i|^p / sum |n_j|^p between them.

use crate::shading::{mean, quad};

/// A uniform 8-bit PNG of one colour.
fn uniform_png(rgb: [u8; 3]) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(4, 4, image::Rgb(rgb));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// The +Z-facing quad emitting a triplanar map whose x, y and z textures are red, green and
/// blue, the projector rotated by `rotate` (degrees, TRS mode) and `extra` attributes added.
/// Returns the mean colour and the warnings.
fn triplanar(rotate: &str, extra: &str) -> ([f64; 3], Vec<String>) {
    let text = quad(
        "",
        &format!(
            r#"
local tri = ProjectTriplanarMap("tri") {{
    ["projection_mode"] = 2, ["rotate"] = Vec3({rotate}), ["gamma"] = 0,
    ["positive_x_texture"] = "x.png", ["positive_y_texture"] = "y.png",
    ["positive_z_texture"] = "z.png", {extra} }}
mtl = DwaEmissiveMaterial("mtl") {{ ["emission"] = bind(tri) }}
"#
        ),
    );
    let src = render::rdla::SceneSource {
        name: "test.rdla".into(),
        text: text.into_bytes(),
    };
    let mut opts = render::scene::BuildOptions::default();
    for (name, c) in [
        ("x.png", [255, 0, 0]),
        ("y.png", [0, 255, 0]),
        ("z.png", [0, 0, 255]),
        ("nx.png", [255, 255, 0]),
    ] {
        opts.assets.insert(name.into(), uniform_png(c).into());
    }
    let (s, warnings) = render::prepare(&[src], &[], &opts).expect("the test scene loads");
    (mean(&s, (0, 0, 64, 64), 1), warnings)
}

fn close(got: [f64; 3], want: [f64; 3]) {
    assert!(
        (0..3).all(|c| (got[c] - want[c]).abs() < 1e-4),
        "{got:?} is not {want:?}"
    );
}

/// MoonRay's transition-width power at the default width 0.5:
/// (0.025 + 0.5^5 * 0.975) * 100.
const POWER: f64 = (0.025 + 0.03125 * 0.975) * 100.0;

#[test]
fn a_face_along_an_axis_shows_that_axis_texture() {
    // Unrotated, the quad faces the projector's +Z: the z texture alone.
    let (c, warnings) = triplanar("0, 0, 0", "");
    assert!(
        !warnings.iter().any(|w| w.contains("Triplanar")),
        "{warnings:?}"
    );
    close(c, [0.0, 0.0, 1.0]);
    // The projector turned 90 degrees about y: the normal lies along its x axis (the sign is
    // the rotation's, and with three textures both x faces read the x texture).
    close(triplanar("0, 90, 0", "").0, [1.0, 0.0, 0.0]);
    // About x: along its y axis.
    close(triplanar("90, 0, 0", "").0, [0.0, 1.0, 0.0]);
}

#[test]
fn between_axes_the_textures_blend_by_powers_of_the_normal() {
    // 45 degrees between z and x: equal weights.
    close(triplanar("0, 45, 0", "").0, [0.5, 0.0, 0.5]);
    // 30 degrees: |sin 30|^p and |cos 30|^p over their sum.
    let (s, c) = (0.5f64.powf(POWER), (0.75f64.sqrt()).powf(POWER));
    close(triplanar("0, 30, 0", "").0, [s / (s + c), 0.0, c / (s + c)]);
    // A transition width of 1 gives the least power, 2.5: a softer blend.
    let (s, c) = (0.5f64.powf(2.5), (0.75f64.sqrt()).powf(2.5));
    close(
        triplanar("0, 30, 0", r#"["transition_width"] = 1"#).0,
        [s / (s + c), 0.0, c / (s + c)],
    );
}

#[test]
fn six_textures_tell_the_faces_of_an_axis_apart_and_inactive_ones_are_black() {
    // With six textures, +x and -x read their own: exactly one of the two rotations by +-90
    // degrees about y turns the quad to -x (yellow), the other to +x (red).
    let six = r#"["number_of_textures"] = 6, ["negative_x_texture"] = "nx.png",
        ["negative_y_texture"] = "y.png", ["negative_z_texture"] = "z.png""#;
    let (a, warnings) = triplanar("0, 90, 0", six);
    assert!(
        !warnings.iter().any(|w| w.contains("Triplanar")),
        "{warnings:?}"
    );
    let b = triplanar("0, -90, 0", six).0;
    let near = |x: [f64; 3], y: [f64; 3]| (0..3).all(|c| (x[c] - y[c]).abs() < 1e-4);
    let (red, yellow) = ([1.0, 0.0, 0.0], [1.0, 1.0, 0.0]);
    assert!(
        (near(a, red) && near(b, yellow)) || (near(a, yellow) && near(b, red)),
        "{a:?} {b:?}"
    );
    // An inactive face gives black.
    close(
        triplanar("0, 0, 0", r#"["positive_z_active"] = false"#).0,
        [0.0, 0.0, 0.0],
    );
}
