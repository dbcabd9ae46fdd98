//! Adaptive sampling on the farm: the merger publishes each tile's next pass only while the
//! tile has not converged, and separate worker and merger processes stop every tile after the
//! same pass as the embedded mode, so the two images (and their `weight` channels) agree.

use super::*;

/// The example Cornell box seen from further back: the black, transparent outside converges
/// at the minimum, the box goes on.
const FAR: &str = r#"Camera("/cornell/camera") { ["node_xform"] = translate(0, 1, 9) }"#;

/// 16x16 pixels in tiles of 4, up to 128 samples, adaptive at a target of 5 (tiles stop at
/// 16, 64 and 128 samples).
fn args(far: &Path) -> Vec<String> {
    [
        cornell().display().to_string(),
        far.display().to_string(),
        "--res".into(),
        "16".into(),
        "--tile-size".into(),
        "4".into(),
        "--spp".into(),
        "128".into(),
        "--adaptive-error".into(),
        "5".into(),
    ]
    .into()
}

#[test]
fn the_farm_stops_every_tile_where_the_embedded_mode_does() {
    let _serial = serial();
    let mut farm = Farm::new("adaptive");
    let far = farm.path().join("far.rdla");
    std::fs::write(&far, FAR).unwrap();
    let args = args(&far);

    // Embedded, in one process.
    let out = farm.path().join("embedded.exr");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_producer"));
    cmd.arg("submit").args(&args).arg("-o").arg(&out);
    for (k, _) in std::env::vars() {
        if k.starts_with("MOONFARM_") {
            cmd.env_remove(k);
        }
    }
    let o = cmd.current_dir(farm.path()).output().unwrap();
    assert!(o.status.success(), "embedded: {}", text(&o.stderr));
    let reference = read_image(&out);

    // The farm: the producer publishes the first pass only, the merger the rest.
    let mut submit: Vec<&str> = vec!["submit"];
    submit.extend(args.iter().map(String::as_str));
    submit.push("--json");
    let o = farm.producer(&submit);
    assert!(o.status.success(), "submit: {}", text(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let job = v["job"].as_str().unwrap().to_string();
    let tiles = 16;
    assert_eq!(farm.depth(&farm.task_queue), tiles, "the first pass only");
    let merger = farm.merger();
    let workers: Vec<Proc> = (0..2).map(|_| farm.worker()).collect();
    let procs: Vec<&Proc> = workers.iter().chain([&merger]).collect();
    let s = farm.wait_state(&job, &procs, |_| {});
    assert_eq!(s["state"], "done", "{s}\n{}", logs(&procs));
    assert_eq!(s["tasks_done"], s["tasks_total"], "{s}");
    let image = farm.fetch(&job);

    assert_eq!(image.weight, reference.weight, "the same decisions");
    let (lo, hi) = image
        .weight
        .iter()
        .fold((f32::MAX, 0.0f32), |(lo, hi), &w| (lo.min(w), hi.max(w)));
    assert_eq!(lo, 16.0, "the empty corners converge at the minimum");
    assert!(hi > lo, "some tile went on");
    // Every task merged was needed: fewer than all passes of all tiles.
    let merged = merger.metric("moonfarm_merger_tiles_merged_total");
    assert_eq!(Some(merged as u64), s["tasks_done"].as_u64());
    assert!(merged < v["tasks"].as_f64().unwrap(), "{merged} of {v}");
    assert!(reference.mean_rgb()[0] > 0.001, "the reference is black");
    let d = image.max_relative_difference(&reference);
    assert!(
        d <= 1e-5,
        "farm image differs from the embedded render by {d}"
    );
    farm.cleanup();
}
