//! Known answers for the UsdPrimvarReader maps (moonray dso/map/UsdPrimvarReader_*, moonshine
//! dso/normalmap/UsdPrimvarReader_normal): a primitive attribute named by `varname`, the
//! special names each class knows, and `fallback` where the geometry has none.

use crate::shading::{mean, near, quad, scene};

/// The quad (see `shading::quad`) with a float `f`, an int `i` and a colour `Cd` attribute,
/// emitting `reader` (a map expression) through a DwaEmissiveMaterial.
fn emitting(reader: &str) -> ([f64; 3], Vec<String>) {
    let text = quad(
        r#"["primitive_attributes"] = {
            UserData("f") { ["float_key"] = "f", ["float_values_0"] = { 0.25 } },
            UserData("i") { ["int_key"] = "i", ["int_values"] = { 3 } },
            UserData("cd") { ["color_key"] = "Cd", ["color_values_0"] = { Rgb(0.1, 0.2, 0.3) } } },"#,
        &format!(r#"mtl = DwaEmissiveMaterial("mtl") {{ ["emission"] = bind({reader}) }}"#),
    );
    let (s, warnings) = scene(&text);
    (mean(&s, (0, 0, 64, 64), 1), warnings)
}

#[test]
fn each_primvar_reader_reads_its_attribute_or_its_fallback() {
    let cases: &[(&str, [f64; 3])] = &[
        (
            r#"UsdPrimvarReader_float("r") { ["varname"] = "f" }"#,
            [0.25; 3],
        ),
        (
            r#"UsdPrimvarReader_float("r") { ["varname"] = "nope", ["fallback"] = 0.5 }"#,
            [0.5; 3],
        ),
        (
            r#"UsdPrimvarReader_int("r") { ["varname"] = "i" }"#,
            [3.0; 3],
        ),
        (
            r#"UsdPrimvarReader_int("r") { ["varname"] = "nope", ["fallback"] = 2 }"#,
            [2.0; 3],
        ),
        (
            r#"UsdPrimvarReader_float3("r") { ["varname"] = "Cd" }"#,
            [0.1, 0.2, 0.3],
        ),
        (
            r#"UsdPrimvarReader_float3("r") { ["varname"] = "nope", ["fallback"] = Vec3(0.7, 0.8, 0.9) }"#,
            [0.7, 0.8, 0.9],
        ),
        // The quad faces +Z: N and Ng are (0, 0, 1); its dPds (uvs along x) is (2, 0, 0).
        (
            r#"UsdPrimvarReader_float3("r") { ["varname"] = "N" }"#,
            [0.0, 0.0, 1.0],
        ),
        (
            r#"UsdPrimvarReader_float3("r") { ["varname"] = "Ng" }"#,
            [0.0, 0.0, 1.0],
        ),
        (
            r#"UsdPrimvarReader_vector("r") { ["varname"] = "dpds" }"#,
            [2.0, 0.0, 0.0],
        ),
        (
            r#"UsdPrimvarReader_vector("r") { ["varname"] = "nope", ["fallback"] = Vec3(0, 1, 0) }"#,
            [0.0, 1.0, 0.0],
        ),
        (
            r#"UsdPrimvarReader_point("r") { ["varname"] = "nope", ["fallback"] = Vec3(0, 0, 0.5) }"#,
            [0.0, 0.0, 0.5],
        ),
        (
            r#"UsdPrimvarReader_normal("r") { ["varname"] = "N" }"#,
            [0.0, 0.0, 1.0],
        ),
    ];
    for (reader, want) in cases {
        let (got, warnings) = emitting(reader);
        assert!(
            !warnings.iter().any(|w| w.contains("UsdPrimvarReader")),
            "{reader}: {warnings:?}"
        );
        assert!(near(got, *want, 1e-5), "{reader}: {got:?} vs {want:?}");
    }
}

#[test]
fn a_point_reader_of_p_gives_the_position() {
    // P over the quad's 2 x 2 square at z = 0 averages to the centre; the left half of the
    // image to x = -0.5.
    let text = quad(
        "",
        r#"mtl = DwaEmissiveMaterial("mtl") { ["emission"] = bind(UsdPrimvarReader_point("r") { ["varname"] = "P" }) }"#,
    );
    let (s, _) = scene(&text);
    let left = mean(&s, (0, 0, 32, 64), 1);
    assert!(near(left, [-0.5, 0.0, 0.0], 1e-3), "{left:?}");
}

#[test]
fn an_unsupported_special_name_warns_and_gives_the_fallback() {
    let (got, warnings) = emitting(
        r#"UsdPrimvarReader_float3("r") { ["varname"] = "velocity", ["fallback"] = Vec3(0.3, 0.3, 0.3) }"#,
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("varname `velocity` is not supported")),
        "{warnings:?}"
    );
    assert!(near(got, [0.3; 3], 1e-5), "{got:?}");
}
