//! Known answers for what is evaluated per shading point: maps bound into materials,
//! primitive attributes at every rate, and the materials made of other materials.

use render::integrator::{render_tile, PixelRect};
use render::rdla::SceneSource;
use render::scene::{BuildOptions, Scene};
use std::sync::atomic::AtomicBool;

pub(crate) fn scene(text: &str) -> (Scene, Vec<String>) {
    let src = SceneSource {
        name: "test.rdla".into(),
        text: text.as_bytes().to_vec(),
    };
    render::prepare(&[src], &[], &BuildOptions::default()).expect("the test scene loads")
}

/// Mean RGB of a rectangle after `spp` samples per pixel.
pub(crate) fn mean(scene: &Scene, (x0, y0, x1, y1): (u32, u32, u32, u32), spp: u32) -> [f64; 3] {
    let rect = PixelRect { x0, y0, x1, y1 };
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

pub(crate) fn near(got: [f64; 3], want: [f64; 3], tol: f64) -> bool {
    (0..3).all(|c| (got[c] - want[c]).abs() <= tol)
}

/// A 2x2 quad at z = 0 filling an orthographic 64x64 view (x right, y up), uvs (0,0) at the
/// bottom left to (1,1) at the top right, with `attrs` added to the mesh and `material`.
pub(crate) fn quad(mesh_attrs: &str, rest: &str) -> String {
    format!(
        r#"
SceneVariables {{ ["image_width"] = 64, ["image_height"] = 64, ["pixel_filter"] = 0,
                 ["pixel_filter_width"] = 1 }}
OrthographicCamera("cam") {{ ["node_xform"] = translate(0, 0, 5), ["film_width_aperture"] = 2 }}
local q = RdlMeshGeometry("q") {{
    ["vertex_list_0"] = {{ Vec3(-1, -1, 0), Vec3(1, -1, 0), Vec3(1, 1, 0), Vec3(-1, 1, 0) }},
    ["vertices_by_index"] = {{ 0, 1, 2, 3 }}, ["face_vertex_count"] = {{ 4 }},
    ["is_subd"] = false,
    ["uv_list"] = {{ Vec2(0, 0), Vec2(1, 0), Vec2(1, 1), Vec2(0, 1) }},
    {mesh_attrs}
}}
{rest}
Layer("layer") {{ {{ q, "", mtl }} }}
"#
    )
}

#[test]
fn a_checkerboard_bound_to_emission_shows_its_tiles_on_the_uvs() {
    // CheckerboardMap: with 2 tiles along u and v, colour A where u and v are both below or
    // both above 0.5, B elsewhere (moonray's CheckerboardMap.ispc).
    let (s, warnings) = scene(&quad(
        "",
        r#"
local checker = CheckerboardMap("checker") { ["color_A"] = Rgb(0.2, 0.4, 0.6),
    ["color_B"] = Rgb(1, 0.5, 0), ["num_u_tiles"] = 2, ["num_v_tiles"] = 2 }
mtl = DwaEmissiveMaterial("mtl") { ["emission"] = bind(checker) }
"#,
    ));
    assert!(
        !warnings.iter().any(|w| w.contains("does not evaluate")),
        "{warnings:?}"
    );
    let (a, b) = ([0.2, 0.4, 0.6], [1.0, 0.5, 0.0]);
    // Image y runs down: the bottom left quadrant is uv (<0.5, <0.5).
    assert!(near(mean(&s, (4, 36, 28, 60), 4), a, 1e-5));
    assert!(near(mean(&s, (36, 4, 60, 28), 4), a, 1e-5));
    assert!(near(mean(&s, (36, 36, 60, 60), 4), b, 1e-5));
    assert!(near(mean(&s, (4, 4, 28, 28), 4), b, 1e-5));
    // The default 8 tiles: 4 checks across each axis, each 16 pixels wide.
    let (s, _) = scene(&quad(
        "",
        r#"
local checker = CheckerboardMap("checker") { }
mtl = DwaEmissiveMaterial("mtl") { ["emission"] = bind(checker) }
"#,
    ));
    // MoonRay's defaults: A black, B white. Bottom-left check is A, the one right of it B.
    // Checks are 8 pixels wide.
    assert!(near(mean(&s, (1, 57, 7, 63), 2), [0.0; 3], 1e-5));
    assert!(near(mean(&s, (9, 57, 15, 63), 2), [1.0; 3], 1e-5));
}

#[test]
fn a_box_s_faces_carry_moonray_s_uvs() {
    // BoxGeometry's +z face runs u along x and v along y from the min corner (moonray
    // geom/prim/Box.cc): seen face-on, a 2x2 checkerboard shows the quad's pattern.
    let (s, _) = scene(
        r#"
SceneVariables { ["image_width"] = 64, ["image_height"] = 64, ["pixel_filter"] = 0,
                 ["pixel_filter_width"] = 1 }
OrthographicCamera("cam") { ["node_xform"] = translate(0, 0, 5), ["film_width_aperture"] = 2 }
local box = BoxGeometry("box") { ["size"] = Vec3(2, 2, 2) }
local checker = CheckerboardMap("checker") { ["color_A"] = Rgb(1, 0, 0), ["color_B"] = Rgb(0, 0, 1),
    ["num_u_tiles"] = 2, ["num_v_tiles"] = 2 }
local mtl = DwaEmissiveMaterial("mtl") { ["emission"] = bind(checker) }
Layer("layer") { { box, "", mtl } }
"#,
    );
    assert!(near(mean(&s, (4, 36, 28, 60), 4), [1.0, 0.0, 0.0], 1e-5));
    assert!(near(mean(&s, (36, 36, 60, 60), 4), [0.0, 0.0, 1.0], 1e-5));
    assert!(near(mean(&s, (36, 4, 60, 28), 4), [1.0, 0.0, 0.0], 1e-5));
}

#[test]
fn a_sphere_s_uvs_follow_moonray_s_longitude_and_latitude() {
    // moonray geom/prim/Sphere.cc: v = 1 - theta / pi from the local +z pole, u the angle
    // around z. Seen down the z axis the whole visible half has v > 0.5, and a checkerboard
    // of 2 v tiles shows colour B where u < 0.5 (y > 0, the top of the image) and A below.
    let (s, _) = scene(
        r#"
SceneVariables { ["image_width"] = 64, ["image_height"] = 64, ["pixel_filter"] = 0,
                 ["pixel_filter_width"] = 1 }
OrthographicCamera("cam") { ["node_xform"] = translate(0, 0, 5), ["film_width_aperture"] = 2 }
local ball = SphereGeometry("ball") { ["radius"] = 1 }
local checker = CheckerboardMap("checker") { ["color_A"] = Rgb(1, 0, 0), ["color_B"] = Rgb(0, 0, 1),
    ["num_u_tiles"] = 2, ["num_v_tiles"] = 2 }
local mtl = DwaEmissiveMaterial("mtl") { ["emission"] = bind(checker) }
Layer("layer") { { ball, "", mtl } }
"#,
    );
    // Top half (y > 0): u in (0, 0.5), v > 0.5: B. Bottom half: u > 0.5, v > 0.5: A.
    assert!(near(mean(&s, (24, 8, 40, 24), 4), [0.0, 0.0, 1.0], 1e-5));
    assert!(near(mean(&s, (24, 40, 40, 56), 4), [1.0, 0.0, 0.0], 1e-5));
}

/// The quad with a UserData `Cd` of `values` (and `rate`), shown through an AttributeMap.
fn cd_quad(values: &str, rate: &str) -> Scene {
    let text = quad(
        r#"["primitive_attributes"] = { UserData("cd") { ["color_key"] = "Cd", ["color_values_0"] = VALUES, RATE } },"#
            .replace("VALUES", values)
            .replace("RATE", rate)
            .as_str(),
        r#"
local attr = AttributeMap("attr") { ["primitive_attribute_name"] = "Cd",
                                    ["default_value"] = Rgb(0.5, 0.25, 0.125) }
mtl = DwaEmissiveMaterial("mtl") { ["emission"] = bind(attr) }
"#,
    );
    let (s, warnings) = scene(&text);
    assert!(
        !warnings
            .iter()
            .any(|w| w.contains("fit no rate") || w.contains("evaluate")),
        "{warnings:?}"
    );
    s
}

#[test]
fn primitive_attributes_interpolate_at_every_rate() {
    // Constant: one value everywhere.
    let s = cd_quad("{ Rgb(0.3, 0.6, 0.9) }", "");
    assert!(near(mean(&s, (0, 0, 64, 64), 1), [0.3, 0.6, 0.9], 1e-5));
    // Vertex: bilinear over the fan's two triangles (0,1,2) and (0,2,3); the centre lies on
    // their shared edge 0-2, halfway: (c0 + c2) / 2. Near corner 1 (bottom right) the value
    // tends to c1. Tolerance: the interpolant changes by 1/64 per pixel.
    let s = cd_quad(
        "{ Rgb(1, 0, 0), Rgb(0, 1, 0), Rgb(0, 0, 1), Rgb(1, 1, 1) }",
        "",
    );
    assert!(near(mean(&s, (31, 31, 33, 33), 4), [0.5, 0.0, 0.5], 0.02));
    assert!(near(mean(&s, (62, 62, 64, 64), 4), [0.0, 1.0, 0.0], 0.05));
    // Face-varying: one value per face vertex (here the same layout as the vertices, in
    // face-vertex order), named so by `rate` = 6.
    let s = cd_quad(
        "{ Rgb(1, 0, 0), Rgb(0, 1, 0), Rgb(0, 0, 1), Rgb(1, 1, 1) }",
        r#"["rate"] = "face varying""#,
    );
    assert!(near(mean(&s, (31, 31, 33, 33), 4), [0.5, 0.0, 0.5], 0.02));
    assert!(near(mean(&s, (0, 0, 2, 2), 4), [1.0, 1.0, 1.0], 0.05));
    // Uniform: one value per face.
    let s = cd_quad("{ Rgb(0.1, 0.2, 0.3) }", r#"["rate"] = "uniform""#);
    assert!(near(mean(&s, (0, 0, 64, 64), 1), [0.1, 0.2, 0.3], 1e-5));
    // No values: the AttributeMap's default_value.
    let s = cd_quad("{ }", "");
    assert!(near(mean(&s, (0, 0, 64, 64), 1), [0.5, 0.25, 0.125], 1e-5));
}

#[test]
fn a_remap_map_maps_its_input_range_with_moonray_s_bias() {
    // RemapMap (moonshine RemapMap.ispc): (0.25 - 0) / 0.5 = 0.5 into [0, 1]; with the
    // midpoint bias at 0.25, Perlin's bias gives 0.5^(ln 0.25 / ln 0.5) = 0.25.
    let remap = |bias: f64| {
        scene(&quad(
            "",
            &format!(
                r#"
local r = RemapMap("r") {{ ["input"] = Rgb(0.25, 0.25, 0.25), ["input_max"] = 0.5,
                           ["midpoint_bias"] = {bias} }}
mtl = DwaEmissiveMaterial("mtl") {{ ["emission"] = bind(r) }}
"#
            ),
        ))
        .0
    };
    assert!(near(mean(&remap(0.5), (0, 0, 64, 64), 1), [0.5; 3], 1e-5));
    assert!(near(mean(&remap(0.25), (0, 0, 64, 64), 1), [0.25; 3], 1e-5));
}

#[test]
fn a_two_sided_material_shows_its_front_and_back() {
    let text = |order: &str| {
        format!(
            r#"
SceneVariables {{ ["image_width"] = 8, ["image_height"] = 8 }}
OrthographicCamera("cam") {{ ["node_xform"] = translate(0, 0, 5), ["film_width_aperture"] = 2 }}
local q = RdlMeshGeometry("q") {{
    ["vertex_list_0"] = {{ Vec3(-2, -2, 0), Vec3(2, -2, 0), Vec3(2, 2, 0), Vec3(-2, 2, 0) }},
    ["vertices_by_index"] = {{ {order} }}, ["face_vertex_count"] = {{ 4 }}, ["is_subd"] = false }}
local red = DwaBaseMaterial("red") {{ ["albedo"] = Rgb(1, 0, 0), ["specular"] = 0 }}
local blue = DwaBaseMaterial("blue") {{ ["albedo"] = Rgb(0, 0, 1), ["specular"] = 0 }}
local mtl = DwaTwoSidedMaterial("two") {{ ["front_material"] = red, ["back_material"] = blue }}
local env = EnvLight("env") {{ }}
Layer("layer") {{ {{ q, "", mtl, LightSet("lights") {{ env }} }} }}
"#
        )
    };
    // Lit by a white EnvLight over the whole hemisphere, each side shows its albedo.
    // Counter-clockwise seen from the camera: the camera sees the front.
    let (s, warnings) = scene(&text("0, 1, 2, 3"));
    assert!(
        !warnings.iter().any(|w| w.contains("not supported")),
        "{warnings:?}"
    );
    assert!(near(mean(&s, (0, 0, 8, 8), 64), [1.0, 0.0, 0.0], 0.01));
    let (s, _) = scene(&text("3, 2, 1, 0"));
    assert!(near(mean(&s, (0, 0, 8, 8), 64), [0.0, 0.0, 1.0], 0.01));
}

/// A sphere in a white furnace (a white EnvLight of radiance 1) with material `mtl`, built
/// from `materials`; returns the mean of the sphere's middle pixels.
fn furnace(materials: &str) -> (f64, Vec<String>) {
    let (s, warnings) = scene(&format!(
        r#"
SceneVariables {{ ["image_width"] = 32, ["image_height"] = 32, ["lights_visible_in_camera"] = true,
                 ["pixel_filter"] = 0, ["pixel_filter_width"] = 1 }}
Camera("cam") {{ ["node_xform"] = translate(0, 0, 5), ["focal"] = 30 }}
local ball = SphereGeometry("ball") {{ ["radius"] = 1 }}
{materials}
local env = EnvLight("env") {{ ["color"] = Rgb(1, 1, 1) }}
Layer("layer") {{ {{ ball, "", mtl, LightSet("lights") {{ env }} }} }}
"#
    ));
    let m = mean(&s, (12, 12, 20, 20), 256);
    ((m[0] + m[1] + m[2]) / 3.0, warnings)
}

#[test]
fn a_layered_material_in_a_white_furnace_returns_the_blend_of_its_layers_energy() {
    // DwaLayerMaterial blends material_B (mask 0) into material_A (mask 1): white and 0.5
    // diffuse at mask 0.5 reflect 0.75 of the furnace's light, at mask 0.25 0.625.
    for (mask, want) in [(0.5, 0.75), (0.25, 0.625), (1.0, 1.0)] {
        let (got, warnings) = furnace(&format!(
            r#"
local a = DwaBaseMaterial("a") {{ ["albedo"] = Rgb(1, 1, 1), ["specular"] = 0 }}
local b = DwaBaseMaterial("b") {{ ["albedo"] = Rgb(0.5, 0.5, 0.5), ["specular"] = 0 }}
mtl = DwaLayerMaterial("layer") {{ ["material_A"] = a, ["material_B"] = b, ["mask"] = {mask} }}
"#
        ));
        assert!(
            (got - want).abs() < 0.01 * want,
            "mask {mask}: {got} {warnings:?}"
        );
        assert!(
            !warnings.iter().any(|w| w.contains("not supported")),
            "{warnings:?}"
        );
    }
    // Materials whose parameters do not blend mix their BSDFs and emissions: half a white
    // diffuse (0.5 of the furnace) and half an emitter of 0.5 (0.25) make 0.75.
    let (got, _) = furnace(
        r#"
local a = DwaEmissiveMaterial("a") { ["emission"] = Rgb(0.5, 0.5, 0.5) }
local b = DwaBaseMaterial("b") { ["albedo"] = Rgb(1, 1, 1), ["specular"] = 0 }
mtl = DwaLayerMaterial("layer") { ["material_A"] = a, ["material_B"] = b, ["mask"] = 0.5 }
"#,
    );
    assert!((got - 0.75).abs() < 0.0075, "{got}");
}

#[test]
fn toon_fabric_velvet_and_skin_keep_their_known_furnace_energy_alone_and_layered() {
    // In a white furnace: a DwaToonMaterial whose ramp diffuse is a constant 1 reflects its
    // albedo (0.6); a white DwaVelvetMaterial_v2 keeps all the light (the diffuse under the
    // fuzz keeps what it does not reflect); a white DwaFabricMaterial that is all diffuse
    // scattering is a white Lambert; a white DwaSkinMaterial without specular under a smooth
    // moisture keeps all of it (the skin keeps 1 - F). Layered at mask 0.5, the mean of the
    // two. None of them warns "is not supported"; a skin with a scattering radius warns that
    // its subsurface is approximated, once.
    let toon = r#"local toon = DwaToonMaterial("toon") { ["albedo"] = Rgb(0.6, 0.6, 0.6),
        ["show_specular"] = false, ["diffuse_model"] = 1, ["positions"] = { 0.0 },
        ["colors"] = { Rgb(1, 1, 1) }, ["interpolations"] = { 0 } }"#;
    let velvet = r#"local velvet = DwaVelvetMaterial_v2("velvet") { ["albedo"] = Rgb(1, 1, 1) }"#;
    let fabric = r#"local fabric = DwaFabricMaterial("fabric") { ["albedo"] = Rgb(1, 1, 1),
        ["fabric_diffuse_scattering"] = 1.0 }"#;
    let skin = r#"local skin = DwaSkinMaterial("skin") { ["albedo"] = Rgb(1, 1, 1),
        ["specular"] = 0, ["show_moisture"] = true, ["moisture_roughness"] = 0,
        ["scattering_radius"] = 1.0 }"#;
    let all = [toon, velvet, fabric, skin].join("\n");
    for (mtl, want) in [
        ("mtl = toon", 0.6),
        ("mtl = velvet", 1.0),
        ("mtl = fabric", 1.0),
        ("mtl = skin", 1.0),
        (
            r#"mtl = DwaLayerMaterial("l") { ["material_A"] = toon, ["material_B"] = velvet, ["mask"] = 0.5 }"#,
            0.8,
        ),
        (
            r#"mtl = DwaLayerMaterial("l") { ["material_A"] = skin, ["material_B"] = toon, ["mask"] = 0.5 }"#,
            0.8,
        ),
    ] {
        let (got, warnings) = furnace(&format!("{all}\n{mtl}"));
        assert!(
            (got - want).abs() < 0.01 * want,
            "{mtl}: {got} {warnings:?}"
        );
        assert!(
            !warnings.iter().any(|w| w.contains("is not supported")),
            "{warnings:?}"
        );
        let approximated = warnings
            .iter()
            .filter(|w| w.contains("subsurface scattering"))
            .count();
        // Only the materials a Layer entry reaches are built.
        assert_eq!(
            approximated,
            usize::from(mtl.contains("skin")),
            "{warnings:?}"
        );
    }
}

#[test]
fn a_mix_material_blends_the_two_inputs_its_mix_lies_between() {
    // Three inputs, remap_mix_to_inputs: mix 0.25 is input 0.5, halfway between albedo 0.2
    // and 0.6: 0.4 in the furnace. Mix 1 is the last input.
    for (mix, want) in [(0.25, 0.4), (1.0, 1.0)] {
        let (got, warnings) = furnace(&format!(
            r#"
local m0 = DwaBaseMaterial("m0") {{ ["albedo"] = Rgb(0.2, 0.2, 0.2), ["specular"] = 0 }}
local m1 = DwaBaseMaterial("m1") {{ ["albedo"] = Rgb(0.6, 0.6, 0.6), ["specular"] = 0 }}
local m2 = DwaBaseMaterial("m2") {{ ["albedo"] = Rgb(1, 1, 1), ["specular"] = 0 }}
mtl = DwaMixMaterial("mix") {{ ["material0"] = m0, ["material1"] = m1, ["material2"] = m2,
                               ["mix"] = {mix} }}
"#
        ));
        assert!(
            (got - want).abs() < 0.01 * want,
            "mix {mix}: {got} {warnings:?}"
        );
    }
}

#[test]
fn usd_preview_surface_renders_its_emission_and_a_white_metal_keeps_the_furnace_s_energy() {
    // metallic 1, roughness 0, diffuseColor white: a perfect white mirror, 1 in the furnace.
    let (got, warnings) = furnace(
        r#"mtl = UsdPreviewSurface("usd") { ["diffuseColor"] = Rgb(1, 1, 1), ["metallic"] = 1,
                                                ["roughness"] = 0 }"#,
    );
    assert!((got - 1.0).abs() < 0.01, "{got} {warnings:?}");
    assert!(
        !warnings.iter().any(|w| w.contains("not supported")),
        "{warnings:?}"
    );
    // Black and unlit, it shows its emissiveColor.
    let (s, _) = scene(&quad(
        "",
        r#"mtl = UsdPreviewSurface("usd") { ["diffuseColor"] = Rgb(0, 0, 0),
                                            ["emissiveColor"] = Rgb(1, 0.5, 0.25) }"#,
    ));
    assert!(near(mean(&s, (0, 0, 64, 64), 1), [1.0, 0.5, 0.25], 1e-5));
}

#[test]
fn a_layer_map_composites_its_inputs_by_mode() {
    // LayerMap (moonshine LayerMap.ispc): a = input_A * mask, b = input_B, m = mask; with
    // A 0.5, B 0.25, m 0.5: over b(1-m) + a = 0.375, add 0.5, subtract 0, multiply
    // b(1-m) + ab = 0.1875, screen a + b - ab = 0.4375; off is B.
    for (mode, want) in [
        ("over", 0.375),
        ("add", 0.5),
        ("subtract", 0.0),
        ("multiply", 0.1875),
        ("screen", 0.4375),
        ("off", 0.25),
    ] {
        let (s, warnings) = scene(&quad(
            "",
            &format!(
                r#"
local l = LayerMap("l") {{ ["input_A"] = Rgb(0.5, 0.5, 0.5), ["input_B"] = Rgb(0.25, 0.25, 0.25),
                           ["mask"] = 0.5, ["mode"] = "{mode}" }}
mtl = DwaSolidDielectricMaterial("mtl") {{ ["emission"] = bind(l) }}
"#
            ),
        ));
        assert!(
            !warnings.iter().any(|w| w.contains("LayerMap")),
            "{warnings:?}"
        );
        assert!(
            near(mean(&s, (0, 0, 64, 64), 1), [want; 3], 1e-5),
            "{mode}: {:?}",
            mean(&s, (0, 0, 64, 64), 1)
        );
    }
}

#[test]
fn a_color_correct_map_applies_moonray_s_corrections_in_order() {
    // ColorCorrectMap (moonshine ColorCorrectMap.ispc, moonray ColorCorrect.isph), each with
    // the others at MoonRay's neutral defaults, on an input of (0.25, 0.5, 0.75):
    // gamma 2 is x^(1/2); saturation 0 is the Rec. 709 luminance 0.4648745; gain 2 and
    // offset -0.25 is 2x - 0.25, clamped to [0, 1]; mix 0.5 of gain 2 is 1.5x; hue shift 0.5
    // turns red into cyan.
    let y = 0.25 * 0.212671 + 0.5 * 0.715160 + 0.75 * 0.072169;
    for (attrs, input, want) in [
        (
            r#"["gamma"] = 2"#,
            "0.25, 0.5, 0.75",
            [0.5, 0.5f64.sqrt(), 0.75f64.sqrt()],
        ),
        (r#"["saturation"] = 0"#, "0.25, 0.5, 0.75", [y; 3]),
        (
            r#"["gain"] = 2, ["offset"] = -0.25"#,
            "0.25, 0.5, 0.75",
            [0.25, 0.75, 1.0],
        ),
        (
            r#"["gain"] = 2, ["mix"] = 0.5"#,
            "0.25, 0.5, 0.75",
            [0.375, 0.75, 1.0],
        ),
        (r#"["hue_shift"] = 0.5"#, "1, 0, 0", [0.0, 1.0, 1.0]),
        (
            r#"["gain"] = 2, ["on"] = false"#,
            "0.25, 0.5, 0.75",
            [0.25, 0.5, 0.75],
        ),
    ] {
        let (s, warnings) = scene(&quad(
            "",
            &format!(
                r#"
local cc = ColorCorrectMap("cc") {{ ["input"] = Rgb({input}), {attrs} }}
mtl = DwaEmissiveMaterial("mtl") {{ ["emission"] = bind(cc) }}
"#
            ),
        ));
        assert!(
            !warnings.iter().any(|w| w.contains("ColorCorrectMap")),
            "{warnings:?}"
        );
        let got = mean(&s, (0, 0, 64, 64), 1);
        assert!(near(got, want, 1e-5), "{attrs}: {got:?}");
    }
}

#[test]
fn a_ramp_map_interpolates_its_knots_along_u() {
    // RampMap in texture space, a u ramp (moonshine RampMap, moonray RampControl): linear
    // knots black at 0 and white at 1 give u itself; the pixel column 8 spans u 8/64..9/64.
    let ramp = |knots: &str| {
        scene(&quad(
            "",
            &format!(
                r#"
local r = RampMap("r") {{ ["space"] = "texture", ["ramp_type"] = "u", {knots} }}
mtl = DwaEmissiveMaterial("mtl") {{ ["emission"] = bind(r) }}
"#
            ),
        ))
    };
    let (s, warnings) = ramp(
        r#"["positions"] = { 0, 1 }, ["colors"] = { Rgb(0, 0, 0), Rgb(1, 1, 1) },
           ["interpolations"] = { 1, 1 }"#,
    );
    assert!(
        !warnings.iter().any(|w| w.contains("RampMap")),
        "{warnings:?}"
    );
    assert!(near(mean(&s, (8, 0, 9, 64), 4), [8.5 / 64.0; 3], 2e-3));
    assert!(near(mean(&s, (48, 0, 49, 64), 4), [48.5 / 64.0; 3], 2e-3));
    // "none" holds the left knot's colour; past the last knot its colour stays.
    let (s, _) = ramp(
        r#"["positions"] = { 0, 0.5 }, ["colors"] = { Rgb(1, 0, 0), Rgb(0, 0, 1) },
           ["interpolations"] = { 0, 0 }"#,
    );
    assert!(near(mean(&s, (0, 0, 31, 64), 1), [1.0, 0.0, 0.0], 1e-5));
    assert!(near(mean(&s, (33, 0, 64, 64), 1), [0.0, 0.0, 1.0], 1e-5));
    // Smooth: sin(u pi / 2), here at the column around u = 1/3.
    let (s, _) = ramp(
        r#"["positions"] = { 0, 1 }, ["colors"] = { Rgb(0, 0, 0), Rgb(1, 1, 1) },
           ["interpolations"] = { 4, 4 }"#,
    );
    let u: f64 = 21.5 / 64.0;
    let want = (u * std::f64::consts::FRAC_PI_2).sin();
    assert!(near(mean(&s, (21, 0, 22, 64), 4), [want; 3], 3e-3));
}

#[test]
fn a_material_that_contains_itself_warns_and_renders() {
    let (s, warnings) = scene(&quad(
        "",
        r#"
local white = DwaEmissiveMaterial("white") { ["emission"] = Rgb(1, 1, 1) }
mtl = DwaLayerMaterial("loop") { ["material_B"] = white, ["mask"] = 0 }
mtl.material_A = mtl
"#,
    ));
    assert!(
        warnings.iter().any(|w| w.contains("contains itself")),
        "{warnings:?}"
    );
    // Mask 0 shows material_B.
    assert!(near(mean(&s, (0, 0, 64, 64), 1), [1.0; 3], 1e-5));
}

#[test]
fn a_planar_projection_gives_the_projector_s_coordinates() {
    // ProjectPlanarMap: (x + 0.5, y + 0.5, 1) of the position in the projector's space. With
    // the projector moved to x = -1, the quad's x in -1..1 becomes u = x + 1.5 (mean 1.5) and
    // its y becomes v = y + 0.5 (mean 0.5); the mask channel is 1.
    let (s, warnings) = scene(&quad(
        "",
        r#"
local proj = BoxGeometry("proj") { ["node_xform"] = translate(-1, 0, 0) }
local planar = ProjectPlanarMap("planar") { ["projector"] = proj }
mtl = DwaEmissiveMaterial("mtl") { ["emission"] = bind(planar) }
"#,
    ));
    assert!(
        !warnings
            .iter()
            .any(|w| w.contains("evaluate") || w.contains("not supported")),
        "{warnings:?}"
    );
    let m = mean(&s, (0, 0, 64, 64), 4);
    assert!(near(m, [1.5, 0.5, 1.0], 2e-3), "{m:?}");
    // The left column, x = -1 + 1/64 on average: u = 0.5 + 1/64.
    let left = mean(&s, (0, 0, 1, 64), 4);
    assert!((left[0] - (0.5 + 1.0 / 64.0)).abs() < 2e-3, "{left:?}");
    // The same map as a checkerboard's coordinates (2 tiles: A where u mod 1 and v mod 1 are
    // on the same side of 0.5). Near the bottom, y -0.875..-0.625, v mod 1 is 0.625..0.875;
    // on the left, x -0.875..-0.625, u is 0.625..0.875 (A), on the right u mod 1 is
    // 0.125..0.375 (B).
    let (s, _) = scene(&quad(
        "",
        r#"
local proj = BoxGeometry("proj") { ["node_xform"] = translate(-1, 0, 0) }
local planar = ProjectPlanarMap("planar") { ["projector"] = proj }
local checker = CheckerboardMap("checker") { ["color_A"] = Rgb(1, 0, 0), ["color_B"] = Rgb(0, 0, 1),
    ["num_u_tiles"] = 2, ["num_v_tiles"] = 2, ["texture_coordinates"] = 1,
    ["input_texture_coordinates"] = bind(planar) }
mtl = DwaEmissiveMaterial("mtl") { ["emission"] = bind(checker) }
"#,
    ));
    assert!(near(mean(&s, (4, 52, 12, 60), 4), [1.0, 0.0, 0.0], 1e-5));
    assert!(near(mean(&s, (52, 52, 60, 60), 4), [0.0, 0.0, 1.0], 1e-5));
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

/// The quad emitting an ImageMap of `tex.png` (a 2x1 texture, red then green) with `attrs`.
fn image_quad(attrs: &str) -> (Scene, Vec<String>) {
    let text = quad(
        "",
        &format!(
            r#"
local tex = ImageMap("tex") {{ ["texture"] = "tex.png", {attrs} }}
mtl = DwaEmissiveMaterial("mtl") {{ ["emission"] = bind(tex) }}
"#
        ),
    );
    let src = SceneSource {
        name: "test.rdla".into(),
        text: text.into_bytes(),
    };
    let mut opts = BuildOptions::default();
    opts.assets.insert(
        "tex.png".into(),
        png(2, 1, &[[255, 0, 0], [0, 255, 0]]).into(),
    );
    render::prepare(&[src], &[], &opts).expect("the test scene loads")
}

#[test]
fn an_image_map_filters_bilinearly_and_applies_rotation_scale_and_offset() {
    // Texel centres at u = 1/4 (red) and 3/4 (green); bilinear filtering is linear between
    // them, so a window centred on u = 1/2 averages to the mean and one on 3/8 to 3/4 red.
    // Pixel x covers u in [x/64, (x+1)/64]; pixel y covers v from the top. The tolerance is
    // for 64 jittered samples over a slope of 2 per unit of u.
    let red = [1.0, 0.0, 0.0];
    let mix = |r: f64| [r, 1.0 - r, 0.0];
    let (s, warnings) = image_quad(r#"["gamma"] = 0"#);
    assert!(!warnings.iter().any(|w| w.contains("tex")), "{warnings:?}");
    assert!(near(mean(&s, (31, 10, 33, 12), 64), mix(0.5), 2e-3));
    assert!(near(mean(&s, (23, 50, 25, 52), 64), mix(0.75), 2e-3));
    // Past the texel centres clamping holds the edge colour; wrap_around (the default) blends
    // across the seam instead: at u = 0 the mean again.
    let (s, _) = image_quad(r#"["wrap_around"] = false"#);
    assert!(near(mean(&s, (0, 30, 2, 32), 64), red, 1e-4));
    let (s, _) = image_quad("");
    assert!(near(
        mean(&s, (0, 30, 1, 32), 64),
        mix(0.5 + 0.25 / 64.0 * 4.0),
        2e-3
    ));
    // rotation_angle 90 about (0.5, 0.5): (s, t) -> (t, 1 - s), so the texture's u follows the
    // quad's v: at v = 3/8 (image rows 39..41) 3/4 red, at v = 5/8 (rows 23..25) 1/4 red.
    let (s, _) = image_quad(r#"["rotation_angle"] = 90"#);
    assert!(near(mean(&s, (10, 39, 12, 41), 64), mix(0.75), 2e-3));
    assert!(near(mean(&s, (50, 23, 52, 25), 64), mix(0.25), 2e-3));
    // scale 2 then offset 0.25 along u: u = 1/16 reads 2/16 + 1/4 = 3/8, 3/4 red; u = 3/16
    // reads 5/8, 1/4 red.
    let (s, _) = image_quad(r#"["scale"] = Vec2(2, 1), ["offset"] = Vec2(0.25, 0)"#);
    assert!(near(mean(&s, (3, 30, 5, 32), 64), mix(0.75), 2e-3));
    assert!(near(mean(&s, (11, 30, 13, 32), 64), mix(0.25), 2e-3));
    // Colour correction when enabled: gain 0.5 with offset 0.1 on red's centre.
    let (s, _) = image_quad(
        r#"["gain_offset_enabled"] = true, ["gain"] = Rgb(0.5, 0.5, 0.5), ["offset_adjust"] = Rgb(0.1, 0.1, 0.1), ["wrap_around"] = false"#,
    );
    assert!(near(mean(&s, (0, 30, 2, 32), 64), [0.6, 0.1, 0.1], 1e-4));
}

#[test]
fn image_maps_of_one_file_share_one_decoded_texture() {
    // Two ImageMaps reading tex.png with the same gamma decode it once; gamma off (linear)
    // is a texture of its own.
    let text = quad(
        "",
        r#"
local a = ImageMap("a") { ["texture"] = "tex.png" }
local b = ImageMap("b") { ["texture"] = "tex.png", ["scale"] = Vec2(2, 2) }
local c = ImageMap("c") { ["texture"] = "tex.png", ["gamma"] = 0 }
local m = LayerMap("m") { ["input_A"] = bind(a), ["input_B"] = bind(b), ["mask"] = bind(c) }
mtl = DwaEmissiveMaterial("mtl") { ["emission"] = bind(m) }
"#,
    );
    let src = SceneSource {
        name: "test.rdla".into(),
        text: text.into_bytes(),
    };
    let mut opts = BuildOptions::default();
    opts.assets.insert(
        "tex.png".into(),
        png(2, 1, &[[255, 0, 0], [0, 255, 0]]).into(),
    );
    let (s, _) = render::prepare(&[src], &[], &opts).unwrap();
    let textures: Vec<_> = s
        .maps
        .maps
        .iter()
        .filter_map(|m| match m {
            render::shading::Map::Image { image, .. } => Some(image.texture.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(textures.len(), 3);
    let distinct = (0..3)
        .flat_map(|i| (0..i).map(move |j| (i, j)))
        .filter(|&(i, j)| std::sync::Arc::ptr_eq(&textures[i], &textures[j]))
        .count();
    assert_eq!(
        distinct, 1,
        "exactly one pair shares: the two gamma-auto maps"
    );
}

/// The quad emitting `UsdUVTexture("usd") { attrs }`, with `tex.png` (2x1, red then green).
fn usd_quad(attrs: &str) -> (Scene, Vec<String>) {
    let text = quad(
        "",
        &format!(
            r#"
local st = UsdPrimvarReader_float2("st") {{ ["varname"] = "st" }}
local tex = UsdUVTexture("usd") {{ {attrs} }}
mtl = DwaEmissiveMaterial("mtl") {{ ["emission"] = bind(tex) }}
"#
        ),
    );
    let src = SceneSource {
        name: "test.rdla".into(),
        text: text.into_bytes(),
    };
    let mut opts = BuildOptions::default();
    opts.assets.insert(
        "tex.png".into(),
        png(2, 1, &[[255, 0, 0], [0, 255, 0]]).into(),
    );
    render::prepare(&[src], &[], &opts).expect("the test scene loads")
}

#[test]
fn a_usd_uv_texture_reads_its_file_at_the_primvar_readers_st() {
    let mix = |r: f64| [r, 1.0 - r, 0.0];
    let (s, warnings) = usd_quad(r#"["file"] = "tex.png", ["st"] = bind(st), ["wrapS"] = "clamp""#);
    assert!(
        !warnings
            .iter()
            .any(|w| w.contains("usd") || w.contains("`st`")),
        "{warnings:?}"
    );
    // Bilinear between the texel centres u = 1/4 and 3/4, clamped past them.
    assert!(near(mean(&s, (31, 10, 33, 12), 64), mix(0.5), 2e-3));
    assert!(near(mean(&s, (23, 50, 25, 52), 64), mix(0.75), 2e-3));
    assert!(near(mean(&s, (62, 30, 64, 32), 64), mix(0.0), 1e-4));
    // Repeat (the default, useMetadata) blends across the seam at u = 1: the mean again.
    let (s, _) = usd_quad(r#"["file"] = "tex.png", ["st"] = bind(st)"#);
    assert!(near(
        mean(&s, (63, 30, 64, 32), 64),
        mix(0.5 - 1.0 / 64.0),
        2e-3
    ));
    // output = c * scale + bias, one channel in all three with output_mode g.
    let (s, _) = usd_quad(
        r#"["file"] = "tex.png", ["st"] = bind(st), ["wrapS"] = "clamp", ["output_mode"] = "g", ["scale"] = Rgb(0.5, 1, 2), ["bias"] = Rgb(0.1, 0, 0)"#,
    );
    assert!(near(mean(&s, (62, 30, 64, 32), 64), [0.6, 1.0, 2.0], 1e-4));
    // output_mode a of a file without alpha: 1, then scale and bias.
    let (s, _) = usd_quad(
        r#"["file"] = "tex.png", ["st"] = bind(st), ["output_mode"] = "a", ["bias"] = Rgb(-0.5, 0, 0)"#,
    );
    assert!(near(mean(&s, (0, 0, 64, 64), 4), [0.5, 1.0, 1.0], 1e-5));
    // st unbound is (1, 1) everywhere: with clamp, green's edge.
    let (s, _) = usd_quad(r#"["file"] = "tex.png", ["wrapS"] = "clamp""#);
    assert!(near(mean(&s, (0, 0, 64, 64), 4), [0.0, 1.0, 0.0], 1e-5));
    // A file that is not there: a warning, and the fallback colour.
    let (s, warnings) = usd_quad(r#"["file"] = "gone.png", ["fallback"] = Rgb(0.25, 0.5, 0.75)"#);
    assert!(
        warnings.iter().any(|w| w.contains("gone.png")),
        "{warnings:?}"
    );
    assert!(near(mean(&s, (0, 0, 64, 64), 4), [0.25, 0.5, 0.75], 1e-5));
}

#[test]
fn a_diffuse_quad_under_one_bright_env_row_shows_the_analytic_radiance() {
    // A 4x4 env map, black but its top row (radiance 4): the cap theta < pi/4 about the
    // light's up, which rotate(90, 1, 0, 0) turns from +Y to +Z, the quad's normal. The
    // irradiance is L * 2 pi * sin^2(pi/4) / 2 = L pi / 2, so a 0.5 albedo Lambertian quad
    // shows 0.5 * L / 2 = 1. Path tracing with MIS between the map's importance sampling and
    // the BSDF's.
    let mut exr = Vec::new();
    {
        let mut img = image::Rgb32FImage::new(4, 4);
        for x in 0..4 {
            img.put_pixel(x, 0, image::Rgb([4.0, 4.0, 4.0]));
        }
        image::DynamicImage::ImageRgb32F(img)
            .write_to(
                &mut std::io::Cursor::new(&mut exr),
                image::ImageFormat::OpenExr,
            )
            .unwrap();
    }
    let text = quad(
        "",
        r#"
mtl = DwaBaseMaterial("mtl") { ["albedo"] = Rgb(0.5, 0.5, 0.5), ["specular"] = 0 }
EnvLight("sky") { ["texture"] = "sky.exr", ["node_xform"] = rotate(90, 1, 0, 0) }
"#,
    );
    let src = SceneSource {
        name: "test.rdla".into(),
        text: text.into_bytes(),
    };
    let mut opts = BuildOptions::default();
    opts.assets.insert("sky.exr".into(), exr.into());
    let (s, warnings) = render::prepare(&[src], &[], &opts).unwrap();
    assert!(!warnings.iter().any(|w| w.contains("sky")), "{warnings:?}");
    let m = mean(&s, (16, 16, 48, 48), 32);
    assert!(near(m, [1.0; 3], 0.02), "{m:?}");
}

#[test]
fn an_image_maps_alpha_only_reads_the_alpha_channel() {
    // RGBA texels with alpha 51/255 = 0.2: alpha_only puts it in all three channels, no power.
    let img = image::RgbaImage::from_pixel(2, 2, image::Rgba([255, 0, 0, 51]));
    let mut bytes = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut bytes),
        image::ImageFormat::Png,
    )
    .unwrap();
    let text = quad(
        "",
        r#"
local tex = ImageMap("tex") { ["texture"] = "a.png", ["alpha_only"] = true }
mtl = DwaEmissiveMaterial("mtl") { ["emission"] = bind(tex) }
"#,
    );
    let src = SceneSource {
        name: "test.rdla".into(),
        text: text.into_bytes(),
    };
    let mut opts = BuildOptions::default();
    opts.assets.insert("a.png".into(), bytes.into());
    let (s, warnings) = render::prepare(&[src], &[], &opts).unwrap();
    assert!(
        !warnings.iter().any(|w| w.contains("alpha")),
        "{warnings:?}"
    );
    assert!(near(mean(&s, (0, 0, 64, 64), 4), [0.2; 3], 1e-5));
}

#[test]
fn udim_textures_read_the_tile_under_st() {
    // The quad's uvs run 0..2: tiles 1001 (red), 1002 (green) and 1012 (blue) are present,
    // 1011 is not. Image y runs down, so the top-left quadrant is u < 1, v > 1: tile 1011.
    let text = quad("", "")
        .replace(
            "Vec2(0, 0), Vec2(1, 0), Vec2(1, 1), Vec2(0, 1)",
            "Vec2(0, 0), Vec2(2, 0), Vec2(2, 2), Vec2(0, 2)",
        )
        .replace(
            r#"Layer("layer")"#,
            r#"local tex = ImageMap("tex") { ["texture"] = "t.<UDIM>.png", ATTRS }
local mtl = DwaEmissiveMaterial("mtl") { ["emission"] = bind(tex) }
Layer("layer")"#,
        );
    let render_with = |attrs: &str| {
        let src = SceneSource {
            name: "test.rdla".into(),
            text: text.replace("ATTRS", attrs).into_bytes(),
        };
        let mut opts = BuildOptions::default();
        for (tile, rgb) in [
            (1001, [255, 0, 0]),
            (1002, [0, 255, 0]),
            (1012, [0, 0, 255]),
        ] {
            opts.assets
                .insert(format!("t.{tile}.png"), png(1, 1, &[rgb]).into());
        }
        render::prepare(&[src], &[], &opts).unwrap()
    };
    let (s, warnings) = render_with("");
    assert!(!warnings.iter().any(|w| w.contains(".png")), "{warnings:?}");
    assert!(near(mean(&s, (4, 36, 28, 60), 4), [1.0, 0.0, 0.0], 1e-5));
    assert!(near(mean(&s, (36, 36, 60, 60), 4), [0.0, 1.0, 0.0], 1e-5));
    assert!(near(mean(&s, (36, 4, 60, 28), 4), [0.0, 0.0, 1.0], 1e-5));
    // The missing tile: SceneVariables' fatal_color (magenta), or the map's default_color.
    assert!(near(mean(&s, (4, 4, 28, 28), 4), [1.0, 0.0, 1.0], 1e-5));
    let (s, _) = render_with(
        r#"["use_default_color_when_missing"] = true, ["default_color"] = Rgb(0.25, 0.5, 0.75)"#,
    );
    assert!(near(mean(&s, (4, 4, 28, 28), 4), [0.25, 0.5, 0.75], 1e-5));
}
