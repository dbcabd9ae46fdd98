//! Adaptive sampling (MoonRay's `sampling_mode` 2) in the embedded mode: tiles that see only
//! the empty outside of the Cornell box converge at the minimum samples, tiles on the box go
//! on, the `weight` channel shows it, and neither the decisions nor the image depend on how
//! many workers rendered.

use super::*;

/// The example Cornell box seen from further back (the black, transparent outside fills the
/// image's corners), with adaptive sampling from 16 up to 256 samples.
const ADAPTIVE: &str = r#"
SceneVariables {
    ["sampling_mode"] = 2,
    ["min_adaptive_samples"] = 16,
    ["max_adaptive_samples"] = 256,
}
Camera("/cornell/camera") { ["node_xform"] = translate(0, 1, 9) }
"#;

fn render(dir: &Path, name: &str, extra: &[&str]) -> shared::film::Image {
    let scene = repo().join("scenes/cornell-box.rdla");
    let adaptive = dir.join("adaptive.rdla");
    std::fs::write(&adaptive, ADAPTIVE).unwrap();
    let out = dir.join(name);
    let mut args = vec![
        "submit",
        scene.to_str().unwrap(),
        adaptive.to_str().unwrap(),
        "--res",
        "8",
        "--tile-size",
        "8",
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = producer(&args, dir);
    assert!(o.status.success(), "{}", stderr(&o));
    read_image(&out)
}

#[test]
fn flat_tiles_stop_at_the_minimum_and_noisy_ones_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let one = render(dir.path(), "one.exr", &["--workers", "1"]);
    let (w, h) = (one.width as usize, one.height as usize);
    assert_eq!((w, h), (32, 32));
    let weight = |x: usize, y: usize| one.weight[y * w + x];
    // A corner sees nothing: every sample is black and transparent, converged at once.
    assert_eq!(weight(0, 0), 16.0);
    assert_eq!(one.rgba[0], [0.0; 4]);
    // The box's interior is noisy: its tiles took more than the minimum.
    assert!(weight(w / 2, h / 2) > 16.0, "the centre stopped early");
    // Every pixel took the samples of whole passes: 16, 32, 64, 128 or 256.
    assert!(
        one.weight
            .iter()
            .all(|&s| [16.0, 32.0, 64.0, 128.0, 256.0].contains(&s)),
        "{:?}",
        one.weight
    );
    // Fewer samples in all than a uniform render at the maximum.
    let taken: f64 = one.weight.iter().map(|&s| f64::from(s)).sum();
    assert!(taken < 0.75 * (w * h) as f64 * 256.0, "{taken}");

    let three = render(dir.path(), "three.exr", &["--workers", "3"]);
    assert_eq!(one.weight, three.weight, "same decisions with more workers");
    let d = one.max_relative_difference(&three);
    assert!(d <= 1e-5, "1 worker vs 3: {d}");
}

#[test]
fn adaptive_error_turns_it_on_for_a_uniform_scene() {
    let dir = tempfile::tempdir().unwrap();
    let scene = repo().join("scenes/cornell-box.rdla");
    let out = dir.path().join("out.exr");
    let o = producer(
        &[
            "submit",
            scene.to_str().unwrap(),
            "--res",
            "8",
            "--tile-size",
            "16",
            "--spp",
            "64",
            "--adaptive-error",
            "1000000",
            "-o",
            out.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // A target no tile misses: every tile stops after the minimum, 16 samples.
    let image = read_image(&out);
    assert!(
        image.weight.iter().all(|&s| s == 16.0),
        "{:?}",
        &image.weight[..4]
    );

    let bad = producer(
        &["submit", scene.to_str().unwrap(), "--adaptive-error=-1"],
        dir.path(),
    );
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    assert!(
        stderr(&bad).contains("not an error target"),
        "{}",
        stderr(&bad)
    );
}
