//! Adaptive sampling's inputs from the renderer: SceneVariables' `sampling_mode` 2 and its
//! settings with MoonRay's defaults, and the odd-numbered samples' sums beside the totals.

use render::integrator::{render_tile, sample_pixel, PixelRect};
use render::rdla::SceneSource;
use render::scene::{AdaptiveSampling, BuildOptions, Scene};
use std::sync::atomic::AtomicBool;

fn scene(text: &str) -> Scene {
    let src = SceneSource {
        name: "test.rdla".into(),
        text: text.as_bytes().to_vec(),
    };
    render::prepare(&[src], &[], &BuildOptions::default())
        .expect("the test scene loads")
        .0
}

const BALL: &str = r#"
Camera("cam") { ["node_xform"] = translate(0, 0, 5) }
local s = SphereGeometry("ball") { ["radius"] = 1 }
local m = DwaEmissiveMaterial("/m") { ["emission"] = Rgb(0.5, 0.25, 1) }
GeometrySet("/g") { s }
Layer("/l") { { s, "", m, LightSet("/ls") {} } }
"#;

#[test]
fn sampling_mode_2_is_adaptive_with_moonrays_defaults() {
    let uniform = scene(&format!(
        "SceneVariables {{ [\"image_width\"] = 8 }}\n{BALL}"
    ));
    assert_eq!(uniform.settings.adaptive, None);
    let default = scene(&format!(
        "SceneVariables {{ [\"sampling_mode\"] = 2 }}\n{BALL}"
    ));
    assert_eq!(
        default.settings.adaptive,
        Some(AdaptiveSampling {
            min_samples: 16,
            max_samples: 4096,
            target_error: 10.0
        })
    );
    let set = scene(&format!(
        "SceneVariables {{ [\"sampling_mode\"] = 2, [\"min_adaptive_samples\"] = 32, \
         [\"max_adaptive_samples\"] = 8, [\"target_adaptive_error\"] = 2.5 }}\n{BALL}"
    ));
    // A maximum under the minimum is raised to it.
    assert_eq!(
        set.settings.adaptive,
        Some(AdaptiveSampling {
            min_samples: 32,
            max_samples: 32,
            target_error: 2.5
        })
    );
}

#[test]
fn odd_sums_are_the_odd_numbered_samples_whatever_the_range() {
    let s = scene(&format!(
        "SceneVariables {{ [\"image_width\"] = 16, [\"image_height\"] = 16 }}\n{BALL}"
    ));
    let rect = PixelRect {
        x0: 6,
        y0: 6,
        x1: 9,
        y1: 8,
    };
    let no = AtomicBool::new(false);
    let whole = render_tile(&s, rect, 0..7, 0, &no).unwrap();
    // Sample by sample: the totals and the odd ones (1, 3, 5).
    for (i, (sum, odd)) in whole.sums.iter().zip(&whole.odd).enumerate() {
        let (x, y) = (rect.x0 + i as u32 % 3, rect.y0 + i as u32 / 3);
        let mut expect = [0.0f64; 4];
        let mut expect_odd = [0.0f64; 4];
        for k in 0..7 {
            let (l, a) = sample_pixel(&s, x, y, k, 0);
            let v = [f64::from(l.x), f64::from(l.y), f64::from(l.z), f64::from(a)];
            for c in 0..4 {
                expect[c] += v[c];
                if k % 2 == 1 {
                    expect_odd[c] += v[c];
                }
            }
        }
        assert_eq!(*sum, expect, "pixel {i}");
        assert_eq!(*odd, expect_odd, "pixel {i}");
    }
    // A range starting at an odd sample counts its own odd samples: 3..7 holds 3 and 5.
    let (a, b) = (
        render_tile(&s, rect, 0..3, 0, &no).unwrap(),
        render_tile(&s, rect, 3..7, 0, &no).unwrap(),
    );
    for i in 0..whole.odd.len() {
        for c in 0..4 {
            let split = a.odd[i][c] + b.odd[i][c];
            assert!((split - whole.odd[i][c]).abs() <= 1e-9, "pixel {i}");
        }
    }
    assert!(whole.odd.iter().any(|o| o[0] > 0.0), "the ball is seen");
}
