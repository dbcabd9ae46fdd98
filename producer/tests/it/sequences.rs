//! Frame sequences, `--rdla-set` and output permissions through the binary, embedded.

use super::*;
use std::os::unix::fs::PermissionsExt;

/// A scene whose sphere's colour comes from the global `frame` (red grows with it) and whose
/// grey level from `level`, a global only `--rdla-set` gives (nil otherwise: 0.5).
const SCENE: &str = r#"
SceneVariables { ["image_width"] = 8, ["image_height"] = 8, ["pixel_samples"] = 2 }
Camera("/cam") { ["node_xform"] = translate(0, 0, 4) }
local f = rawget(_G, "frame") or 0
local level = rawget(_G, "level") or 0.5
local s = SphereGeometry("/s") { ["radius"] = 1.5 }
local m = DwaEmissiveMaterial("/m") { ["emission"] = Rgb(0.1 * f, level, level) }
GeometrySet("/g") { s }
Layer("/l") { { s, "", m, LightSet("/ls") {} } }
"#;

fn run_in(dir: &Path, shell: &str) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(shell)
        .current_dir(dir)
        .env("PRODUCER", env!("CARGO_BIN_EXE_producer"))
        .env_remove("MOONFARM_AMQP_URL")
        .output()
        .unwrap()
}

#[test]
fn a_sequence_writes_one_image_per_frame_and_a_report() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("glow.rdla"), SCENE).unwrap();
    let o = producer(&["submit", "glow.rdla", "--frames", "1-5x2"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let red: Vec<f64> = [1, 3, 5]
        .iter()
        .map(|f| read_image(&dir.path().join(format!("glow.{f:04}.exr"))).mean_rgb()[0])
        .collect();
    assert!(!dir.path().join("glow.0002.exr").exists(), "a step of 2");
    // The frame reached the scene: the sphere's red is 0.1 per frame.
    assert!(red[0] > 0.0, "{red:?}");
    for (r, f) in red.iter().zip([1.0f64, 3.0, 5.0]) {
        let ratio = r / red[0];
        assert!(
            (ratio - f).abs() < 0.05 * f,
            "frame {f}: red {r}, {ratio} x frame 1's"
        );
    }
    let reports: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    assert_eq!(reports.len(), 1, "{reports:?}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&reports[0]).unwrap()).unwrap();
    assert_eq!(report["state"], "done", "{report}");
    let frames: Vec<i64> = report["frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["frame"].as_i64().unwrap())
        .collect();
    assert_eq!(frames, [1, 3, 5], "{report}");
    assert!(report["core_seconds"].as_f64().unwrap() > 0.0, "{report}");
}

#[test]
fn rdla_set_runs_before_the_scene() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("glow.rdla"), SCENE).unwrap();
    let o = producer(
        &[
            "submit",
            "glow.rdla",
            "--rdla-set",
            "level=0.25",
            "-o",
            "a.exr",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = producer(&["submit", "glow.rdla", "-o", "b.exr"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    // Green is `level`: 0.25 set, 0.5 by default.
    let set = read_image(&dir.path().join("a.exr")).mean_rgb()[1];
    let unset = read_image(&dir.path().join("b.exr")).mean_rgb()[1];
    assert!(
        unset > 0.0 && (set / unset - 0.5).abs() < 0.01,
        "green {set} vs {unset}"
    );
    let o = producer(&["submit", "glow.rdla", "--rdla-set", "level"], dir.path());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("expected NAME=VALUE"), "{}", stderr(&o));
}

/// The image's mode is what the umask makes of 0666, not tempfile's 0600.
#[test]
fn output_files_follow_the_umask() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("glow.rdla"), SCENE).unwrap();
    for (umask, mode) in [("022", 0o644), ("027", 0o640), ("077", 0o600)] {
        let out = format!("u{umask}.exr");
        let o = run_in(
            dir.path(),
            &format!("umask {umask} && exec \"$PRODUCER\" submit glow.rdla -o {out}"),
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let got = std::fs::metadata(dir.path().join(&out))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(got, mode, "umask {umask}: mode {got:o}");
    }
}
