//! Known answers for the noise maps (NoiseMap_v2, NoiseWorleyMap_v2) bound into a material's
//! emission: values that follow from MoonRay's formulas whatever the random tables hold.

use super::shading::{mean, near, quad, scene};

/// The quad of `shading::quad` with `map` (a map named `noise`) bound to its emission.
fn noise_quad(map: &str) -> render::scene::Scene {
    let (s, warnings) = scene(&quad(
        "",
        &format!("{map}\nmtl = DwaEmissiveMaterial(\"mtl\") {{ [\"emission\"] = bind(noise) }}"),
    ));
    assert!(
        !warnings
            .iter()
            .any(|w| w.contains("evaluate") || w.contains("not supported")),
        "{warnings:?}"
    );
    s
}

#[test]
fn a_worley_map_without_jitter_shows_the_distance_to_the_nearest_cell_corner() {
    // In texture space with jitter 0 every feature point sits on its cell's integer corner, so
    // over the quad's uvs (0..1) F1 is the distance to the nearest corner of the unit square:
    // its mean is that of |p| over [0, 0.5]^2, 0.5 (sqrt 2 + ln(1 + sqrt 2)) / 3 = 0.38260.
    // MoonRay's distance_method 1 ("linear squared") is that distance; 0 ("linear") its
    // square, whose mean is 2 (0.5^2 / 3) = 1 / 6. Colours A black, B white: the value itself.
    let map = |method: i32| {
        format!(
            r#"noise = NoiseWorleyMap_v2("noise") {{ ["space"] = 6, ["jitter"] = 0,
                ["distance_method"] = {method} }}"#
        )
    };
    let s = noise_quad(&map(1));
    let m = mean(&s, (0, 0, 64, 64), 16);
    let want = 0.5 * (2f64.sqrt() + (1.0 + 2f64.sqrt()).ln()) / 3.0;
    assert!(near(m, [want; 3], 0.004), "{m:?} against {want}");
    // The centre is the farthest from every corner: sqrt(0.5), less half a pixel's slope.
    let c = mean(&s, (31, 31, 33, 33), 16);
    assert!(c[0] > 0.69 && c[0] <= 0.7072, "{c:?}");
    // A corner pixel: within a pixel's diagonal (1/64 sqrt 2) of the corner.
    let k = mean(&s, (0, 0, 1, 1), 16);
    assert!(k[0] < 0.023, "{k:?}");
    let s = noise_quad(&map(0));
    let m = mean(&s, (0, 0, 64, 64), 16);
    assert!(near(m, [1.0 / 6.0; 3], 0.003), "{m:?}");
}

#[test]
fn a_noise_map_s_value_goes_through_bias_gain_and_invert() {
    // max_level 0 sums no octave: the noise is 0, mapped to (0 + 1) / 2 = 0.5; Perlin's bias
    // of 0.5 is the bias itself (0.5^(log b / log 0.5) = b), and invert takes 1 minus it.
    // The colour is color_A + (color_B - color_A) * value.
    let map = |extra: &str| {
        format!(
            r#"noise = NoiseMap_v2("noise") {{ ["max_level"] = 0, ["bias"] = 0.75,
                ["color_A"] = Rgb(0.2, 0.4, 0), ["color_B"] = Rgb(1, 0.8, 0.4) {extra} }}"#
        )
    };
    let lerp = |t: f64| [0.2 + 0.8 * t, 0.4 + 0.4 * t, 0.4 * t];
    let m = mean(&noise_quad(&map("")), (0, 0, 64, 64), 1);
    assert!(near(m, lerp(0.75), 1e-5), "{m:?}");
    let m = mean(
        &noise_quad(&map(r#", ["invert"] = true"#)),
        (0, 0, 64, 64),
        1,
    );
    assert!(near(m, lerp(0.25), 1e-5), "{m:?}");
    // Gain 0.25 on 0.75: 1 - bias(2 - 2 * 0.75, 0.75) / 2 = 1 - 0.5^0.415 / 2 = 0.6252.
    let m = mean(&noise_quad(&map(r#", ["gain"] = 0.25"#)), (0, 0, 64, 64), 1);
    let g = 1.0 - 0.5f64.powf(0.75f64.ln() / 0.5f64.ln()) / 2.0;
    assert!(near(m, lerp(g), 1e-5), "{m:?} against {g}");
}

#[test]
fn perlin_noise_averages_one_half_and_varies() {
    // Perlin noise is zero-mean: over 40 lattice cells across the quad the map's value, mapped
    // to [0, 1], averages 0.5, while single pixels differ from it.
    let s = noise_quad(r#"noise = NoiseMap_v2("noise") { ["frequency_multiplier"] = 20 }"#);
    let m = mean(&s, (0, 0, 64, 64), 4);
    assert!((m[0] - 0.5).abs() < 0.03, "{m:?}");
    let spread = (0..8)
        .map(|i| mean(&s, (i * 8, 20, i * 8 + 1, 21), 4)[0])
        .fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    assert!(spread.1 - spread.0 > 0.1, "{spread:?}");
}

/// The quad moved by `dx` along x, seen by a camera moved with it, under `map`.
fn moved_quad(dx: f64, map: &str) -> render::scene::Scene {
    let text = format!(
        r#"
SceneVariables {{ ["image_width"] = 32, ["image_height"] = 32, ["pixel_filter"] = 0,
                 ["pixel_filter_width"] = 1 }}
OrthographicCamera("cam") {{ ["node_xform"] = translate({dx}, 0, 5), ["film_width_aperture"] = 2 }}
local q = RdlMeshGeometry("q") {{
    ["node_xform"] = translate({dx}, 0, 0),
    ["vertex_list_0"] = {{ Vec3(-1, -1, 0), Vec3(1, -1, 0), Vec3(1, 1, 0), Vec3(-1, 1, 0) }},
    ["vertices_by_index"] = {{ 0, 1, 2, 3 }}, ["face_vertex_count"] = {{ 4 }},
    ["is_subd"] = false,
}}
{map}
mtl = DwaEmissiveMaterial("mtl") {{ ["emission"] = bind(noise) }}
Layer("layer") {{ {{ q, "", mtl }} }}
"#
    );
    scene(&text).0
}

#[test]
fn object_space_noise_moves_with_its_geometry() {
    // NoiseMap_v2's default space is object: the pattern is fixed to the quad, so moving quad
    // and camera together leaves the picture as it was; in render space (0) it changes.
    for (space, same) in [(4, true), (0, false)] {
        let map = format!(
            r#"noise = NoiseMap_v2("noise") {{ ["space"] = {space}, ["frequency_multiplier"] = 3 }}"#
        );
        let (a, b) = (moved_quad(0.0, &map), moved_quad(5.37, &map));
        let diff: f64 = (0..4)
            .map(|i| {
                let r = (i * 8, i * 8, i * 8 + 4, i * 8 + 4);
                (mean(&a, r, 2)[0] - mean(&b, r, 2)[0]).abs()
            })
            .sum();
        assert_eq!(diff < 1e-4, same, "space {space}: {diff}");
    }
}
