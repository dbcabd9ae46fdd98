//! Known answers for normal mapping (moonray lib/rendering/shading/EvalAttribute.cc
//! `evalNormalImpl`): each expected normal is worked out by hand in the test.

use glam::Vec3;
use render::normal_map::{mapped_normal, NormalSpace};

const TOL: f32 = 1e-5;

fn close(a: Vec3, b: Vec3) {
    assert!((a - b).length() < TOL, "{a} is not {b}");
}

/// A tangent-space direction d encoded as MoonRay's [0, 1] texels: (d + 1) / 2.
fn encode(d: Vec3) -> Vec3 {
    (d + Vec3::ONE) * 0.5
}

#[test]
fn the_flat_texel_leaves_the_normal_unchanged() {
    let n = Vec3::new(0.3, -0.4, 0.5).normalize();
    let out = mapped_normal(
        n,
        Vec3::new(1.0, 2.0, 0.0),
        Vec3::new(0.5, 0.5, 1.0),
        1.0,
        NormalSpace::Tangent,
    );
    close(out, n);
}

#[test]
fn tangent_x_follows_dpds_and_z_follows_the_normal() {
    // n = +Z, dPds = +X: frame y = Z x X = +Y, x = Y x Z = +X. A texel tilted 45 degrees
    // toward the tangent is (1/sqrt2, 0, 1/sqrt2) in render space.
    let h = std::f32::consts::FRAC_1_SQRT_2;
    let v = encode(Vec3::new(h, 0.0, h));
    close(
        mapped_normal(Vec3::Z, Vec3::X, v, 1.0, NormalSpace::Tangent),
        Vec3::new(h, 0.0, h),
    );
    // A dPds not perpendicular to n gives the same frame (only its part across n counts).
    close(
        mapped_normal(
            Vec3::Z,
            Vec3::new(3.0, 0.0, 3.0),
            v,
            1.0,
            NormalSpace::Tangent,
        ),
        Vec3::new(h, 0.0, h),
    );
    // n = +Y, dPds = +Z: y = Y x Z = +X, x = X x Y = +Z; the texel's x axis lands on +Z and its
    // y axis on +X.
    close(
        mapped_normal(
            Vec3::Y,
            Vec3::Z,
            Vec3::new(1.0, 0.5, 0.5),
            1.0,
            NormalSpace::Tangent,
        ),
        Vec3::Z,
    );
    close(
        mapped_normal(
            Vec3::Y,
            Vec3::Z,
            Vec3::new(0.5, 1.0, 0.5),
            1.0,
            NormalSpace::Tangent,
        ),
        Vec3::X,
    );
}

#[test]
fn the_dial_blends_linearly_then_normalises() {
    // Render-space value +X on n = +Z: dial 0.5 gives normalize(Z + (X - Z) / 2) = (1, 0, 1)/sqrt2.
    let h = std::f32::consts::FRAC_1_SQRT_2;
    close(
        mapped_normal(Vec3::Z, Vec3::X, Vec3::X, 0.5, NormalSpace::Render),
        Vec3::new(h, 0.0, h),
    );
    // dial 0.25: normalize(0.25, 0, 0.75).
    close(
        mapped_normal(Vec3::Z, Vec3::X, Vec3::X, 0.25, NormalSpace::Render),
        Vec3::new(0.25, 0.0, 0.75).normalize(),
    );
    // The dial is saturated: 0 (and below) keeps n, above 1 acts as 1.
    close(
        mapped_normal(Vec3::Z, Vec3::X, Vec3::X, 0.0, NormalSpace::Render),
        Vec3::Z,
    );
    close(
        mapped_normal(Vec3::Z, Vec3::X, Vec3::X, -2.0, NormalSpace::Render),
        Vec3::Z,
    );
    close(
        mapped_normal(Vec3::Z, Vec3::X, Vec3::X, 3.0, NormalSpace::Render),
        Vec3::X,
    );
    // A render-space value is normalised.
    close(
        mapped_normal(
            Vec3::Z,
            Vec3::X,
            Vec3::new(0.0, 5.0, 0.0),
            1.0,
            NormalSpace::Render,
        ),
        Vec3::Y,
    );
}

#[test]
fn invalid_values_keep_the_shading_normal() {
    let n = Vec3::Z;
    // Below the tangent plane (re-centred z < 0), zero, NaN and infinite values.
    for v in [
        Vec3::new(0.5, 0.5, 0.2),
        Vec3::ZERO,
        Vec3::new(f32::NAN, 0.5, 1.0),
        Vec3::new(0.5, f32::INFINITY, 1.0),
    ] {
        close(mapped_normal(n, Vec3::X, v, 1.0, NormalSpace::Tangent), n);
    }
}

/// A uniform 8-bit PNG of one colour.
fn uniform_png(rgb: [u8; 3]) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(4, 4, image::Rgb(rgb));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A 20 x 20 quad at z = 0 with uvs along x and y (so dPds = +X), albedo 0.5, no specular,
/// lit head-on by a distant light of irradiance 2 and nothing else, with `material_tail`
/// added to its DwaBaseMaterial and the texture `n.png` of colour `texel`. Returns the mean
/// radiance of the whole image and the warnings.
fn lit_quad(material_tail: &str, texel: [u8; 3]) -> (f64, Vec<String>) {
    lit(
        &format!(
            r#"DwaBaseMaterial("m") {{ ["albedo"] = Rgb(0.5, 0.5, 0.5), ["specular"] = 0 {material_tail} }}"#
        ),
        texel,
    )
}

/// `lit_quad` with the whole material given.
fn lit(material: &str, texel: [u8; 3]) -> (f64, Vec<String>) {
    let text = format!(
        r#"
SceneVariables {{ ["image_width"] = 8, ["image_height"] = 8, ["max_depth"] = 0 }}
Camera("cam") {{ ["node_xform"] = translate(0, 0, 2) }}
local plane = RdlMeshGeometry("plane") {{
    ["vertex_list_0"] = {{ Vec3(-10, -10, 0), Vec3(10, -10, 0), Vec3(10, 10, 0), Vec3(-10, 10, 0) }},
    ["vertices_by_index"] = {{ 0, 1, 2, 3 }}, ["face_vertex_count"] = {{ 4 }}, ["is_subd"] = false,
    ["uv_list"] = {{ Vec2(0, 0), Vec2(1, 0), Vec2(1, 1), Vec2(0, 1) }} }}
local nm = ImageNormalMap("nm") {{ ["tangent_space_normal_texture"] = "n.png" }}
local mat = {material}
local sun = DistantLight("sun") {{ ["intensity"] = 2 }}
Layer("layer") {{ {{ plane, "", mat, LightSet("ls") {{ sun }} }} }}
"#
    );
    let src = render::rdla::SceneSource {
        name: "test.rdla".into(),
        text: text.into_bytes(),
    };
    let mut opts = render::scene::BuildOptions::default();
    opts.assets
        .insert("n.png".into(), uniform_png(texel).into());
    let (s, warnings) = render::prepare(&[src], &[], &opts).expect("the test scene loads");
    let rect = render::integrator::PixelRect {
        x0: 0,
        y0: 0,
        x1: 8,
        y1: 8,
    };
    let t = render::integrator::render_tile(
        &s,
        rect,
        0..16,
        0,
        &std::sync::atomic::AtomicBool::new(false),
    )
    .unwrap();
    let n = t.sums.len() as f64 * 16.0;
    let m = t.sums.iter().map(|s| s[0] / n).sum::<f64>();
    (m, warnings)
}

/// Lambert's answer for the quad: albedo * E / pi * cos, E = 2, albedo = 0.5.
fn lambert(cos: f64) -> f64 {
    0.5 * 2.0 / std::f64::consts::PI * cos
}

/// The render-space z of the normal an 8-bit tangent-space texel decodes to (its z: the quad
/// faces +Z, so this is the cosine to the light).
fn decoded_cos(texel: [u8; 3]) -> f64 {
    let v = texel.map(|c| 2.0 * f64::from(c) / 255.0 - 1.0);
    v[2] / (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt()
}

#[test]
fn a_flat_normal_map_leaves_a_lambert_quad_unchanged() {
    let (plain, _) = lit_quad("", [128, 128, 255]);
    let (mapped, warnings) = lit_quad(r#", ["input_normal"] = nm"#, [128, 128, 255]);
    assert!(warnings.is_empty(), "{warnings:?}");
    // 128/255 re-centres to 1/255, a tilt whose cosine differs from 1 by 1.5e-5.
    assert!(
        (plain - lambert(1.0)).abs() < 1e-3 * lambert(1.0),
        "{plain}"
    );
    assert!((mapped - plain).abs() < 1e-4 * plain, "{mapped} vs {plain}");
}

#[test]
fn a_tilted_normal_map_scales_lambert_by_the_cosine_of_its_tilt() {
    // (sin 60, 0, cos 60) encoded as (d + 1) / 2 * 255: (237.9, 127.5, 191.25), rounded.
    let texel = [238, 128, 191];
    let (mapped, warnings) = lit_quad(r#", ["input_normal"] = nm"#, texel);
    assert!(warnings.is_empty(), "{warnings:?}");
    let want = lambert(decoded_cos(texel));
    assert!((mapped - want).abs() < 1e-3 * want, "{mapped} vs {want}");
    // The rounding leaves it within 1% of cos 60 itself.
    assert!(
        (mapped - lambert(0.5)).abs() < 0.01 * lambert(0.5),
        "{mapped}"
    );
    // Tilting along -x (mirror texel) gives the same cosine: the light is head-on.
    let (mirrored, _) = lit_quad(r#", ["input_normal"] = nm"#, [17, 128, 191]);
    assert!(
        (mirrored - want).abs() < 1e-2 * want,
        "{mirrored} vs {want}"
    );
}

#[test]
fn the_normal_dial_blends_towards_the_surface_normal() {
    let texel = [238, 128, 191];
    // Dial 0: the unmapped normal, Lambert's head-on answer.
    let (off, _) = lit_quad(
        r#", ["input_normal"] = nm, ["input_normal_dial"] = 0"#,
        texel,
    );
    assert!((off - lambert(1.0)).abs() < 1e-3 * lambert(1.0), "{off}");
    // Dial 0.5: normalize(n + (m - n) / 2), m the decoded normal.
    let v = texel.map(|c| 2.0 * f64::from(c) / 255.0 - 1.0);
    let len = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
    let m = v.map(|c| c / len);
    let b = [m[0] * 0.5, m[1] * 0.5, 0.5 + m[2] * 0.5];
    let cos = b[2] / (b[0] * b[0] + b[1] * b[1] + b[2] * b[2]).sqrt();
    let (half, _) = lit_quad(
        r#", ["input_normal"] = nm, ["input_normal_dial"] = 0.5"#,
        texel,
    );
    assert!(
        (half - lambert(cos)).abs() < 1e-3 * lambert(cos),
        "{half} vs {}",
        lambert(cos)
    );
}

#[test]
fn an_unsupported_normal_map_warns_and_keeps_the_surface_normal() {
    let (plain, warnings) = lit_quad(
        r#", ["input_normal"] = RandomNormalMap("rn") { }"#,
        [238, 128, 191],
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("input_normal RandomNormalMap `rn` is not supported")),
        "{warnings:?}"
    );
    assert!(
        (plain - lambert(1.0)).abs() < 1e-3 * lambert(1.0),
        "{plain}"
    );
}

#[test]
fn a_primvar_normal_reader_gives_a_render_space_normal() {
    // UsdPrimvarReader_normal's fallback (no such attribute) is a render-space normal:
    // (sin 60, 0, cos 60) gives Lambert times cos 60.
    let (n, warnings) = lit_quad(
        r#", ["input_normal"] = UsdPrimvarReader_normal("pn") { ["varname"] = "nope",
            ["fallback"] = Vec3(0.8660254, 0, 0.5) }"#,
        [128, 128, 255],
    );
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!((n - lambert(0.5)).abs() < 1e-3 * lambert(0.5), "{n}");
}

#[test]
fn usd_preview_surface_reads_its_normal_in_tangent_space() {
    // `normal` bound to a UsdUVTexture read raw with scale 2 and bias -1: the texel
    // (238, 128, 191) becomes the tangent-space normal 2 v - 1, normalised (no dial). An ior
    // of 1 leaves no specular (MoonRay's Fresnel at ior 1.0001 is 2.5e-9), so the quad is
    // Lambert with diffuseColor 0.5.
    let usd = |normal: &str| {
        format!(
            r#"UsdPreviewSurface("m") {{ ["diffuseColor"] = Rgb(0.5, 0.5, 0.5), ["ior"] = 1 {normal} }}"#
        )
    };
    let (flat, _) = lit(&usd(""), [128, 128, 255]);
    assert!((flat - lambert(1.0)).abs() < 1e-3 * lambert(1.0), "{flat}");
    let texel = [238, 128, 191];
    let (tilted, warnings) = lit(
        &usd(
            r#", ["normal"] = bind(UsdUVTexture("t") { ["file"] = "n.png", ["sourceColorSpace"] = 0,
                ["scale"] = Rgb(2, 2, 2), ["bias"] = Rgb(-1, -1, -1) })"#,
        ),
        texel,
    );
    assert!(
        !warnings.iter().any(|w| w.contains("normal")),
        "{warnings:?}"
    );
    let want = lambert(decoded_cos(texel));
    assert!((tilted - want).abs() < 1e-3 * want, "{tilted} vs {want}");
}

#[test]
fn the_tangent_frame_follows_dpds_under_an_oblique_light() {
    // The light turned 30 degrees about y. A normal map tilting the flat quad's normal 45
    // degrees along +s (dPds = +X) must shade as a quad whose geometry is tilted 45 degrees
    // towards +X, whichever way the light leans; tilting along -s differs.
    let h = std::f64::consts::FRAC_1_SQRT_2;
    let enc = |x: f64| ((x + 1.0) / 2.0 * 255.0).round() as u8;
    // `sx`: the sign of the texel's tangent-space x.
    let render = |verts: &str, material_tail: &str, sx: f64| {
        let text = format!(
            r#"
SceneVariables {{ ["image_width"] = 8, ["image_height"] = 8, ["max_depth"] = 0 }}
Camera("cam") {{ ["node_xform"] = translate(0, 0, 2) }}
local plane = RdlMeshGeometry("plane") {{
    ["vertex_list_0"] = {{ {verts} }},
    ["vertices_by_index"] = {{ 0, 1, 2, 3 }}, ["face_vertex_count"] = {{ 4 }}, ["is_subd"] = false,
    ["uv_list"] = {{ Vec2(0, 0), Vec2(1, 0), Vec2(1, 1), Vec2(0, 1) }} }}
local nm = ImageNormalMap("nm") {{ ["tangent_space_normal_texture"] = "n.png" }}
local mat = DwaBaseMaterial("m") {{ ["albedo"] = Rgb(0.5, 0.5, 0.5), ["specular"] = 0 {material_tail} }}
local sun = DistantLight("sun") {{ ["intensity"] = 2, ["node_xform"] = rotate(30, 0, 1, 0) }}
Layer("layer") {{ {{ plane, "", mat, LightSet("ls") {{ sun }} }} }}
"#
        );
        let src = render::rdla::SceneSource {
            name: "test.rdla".into(),
            text: text.into_bytes(),
        };
        let mut opts = render::scene::BuildOptions::default();
        let png = uniform_png([enc(sx * h), 128, enc(h)]);
        opts.assets.insert("n.png".into(), png.into());
        let (s, _) = render::prepare(&[src], &[], &opts).expect("the test scene loads");
        let rect = render::integrator::PixelRect {
            x0: 0,
            y0: 0,
            x1: 8,
            y1: 8,
        };
        let t = render::integrator::render_tile(
            &s,
            rect,
            0..16,
            0,
            &std::sync::atomic::AtomicBool::new(false),
        )
        .unwrap();
        t.sums.iter().map(|s| s[0]).sum::<f64>() / (t.sums.len() as f64 * 16.0)
    };
    let flat = "Vec3(-10, -10, 0), Vec3(10, -10, 0), Vec3(10, 10, 0), Vec3(-10, 10, 0)";
    // z = -x: normal (1, 0, 1) / sqrt 2.
    let tilted = "Vec3(-10, -10, 10), Vec3(10, -10, -10), Vec3(10, 10, -10), Vec3(-10, 10, 10)";
    let geometric = render(tilted, "", 1.0);
    let plus = render(flat, r#", ["input_normal"] = nm"#, 1.0);
    let minus = render(flat, r#", ["input_normal"] = nm"#, -1.0);
    // The geometric tilt gives cos 15 or cos 75 (the light's lean decides which).
    let (c15, c75) = (
        lambert(15f64.to_radians().cos()),
        lambert(75f64.to_radians().cos()),
    );
    assert!(
        (geometric - c15).abs() < 0.01 * c15 || (geometric - c75).abs() < 0.01 * c75,
        "{geometric}"
    );
    assert!(
        (plus - geometric).abs() < 0.01 * geometric,
        "{plus} vs {geometric}"
    );
    assert!(
        (minus - geometric).abs() > 0.2 * geometric,
        "{minus} vs {geometric}"
    );
}
