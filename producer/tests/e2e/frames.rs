//! Frame sequences on the farm: one job of six frames gives six images, each the embedded
//! render of that frame; one worker renders frame-major; per-frame scene files; bad frame lists
//! are refused before anything is published.

use super::*;

/// The Cornell box with its short box moved along x by the frame number (read as MoonRay
/// scenes read it, `rawget(_G, "frame")`), so every frame is another picture.
fn moving_scene() -> String {
    let text = std::fs::read_to_string(cornell()).unwrap();
    let from = "translate(0.35, 0.3, 0.35)";
    assert!(text.contains(from), "the Cornell box scene changed");
    text.replace(
        from,
        "translate(-0.5 + 0.15 * (rawget(_G, \"frame\") or 0), 0.3, 0.35)",
    )
}

/// 16x16 pixels in 4 tiles, 16 samples in 2 passes: 8 small tasks per frame.
const SETTINGS: [&str; 8] = [
    "--res",
    "16",
    "--spp",
    "16",
    "--tile-size",
    "8",
    "--passes",
    "2",
];
const TASKS_PER_FRAME: u64 = 8;

/// The embedded render of one frame of `scene`, the reference for the farm's image of it.
fn embedded_frame(dir: &Path, scene: &str, frame: i32) -> Image {
    let out = dir.join(format!("embedded-{frame}.exr"));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_producer"));
    cmd.arg("submit")
        .arg(scene)
        .args(SETTINGS)
        .args(["--frames", &frame.to_string(), "-o"])
        .arg(&out)
        .current_dir(dir);
    for (k, _) in std::env::vars() {
        if k.starts_with("MOONFARM_") {
            cmd.env_remove(k);
        }
    }
    let o = cmd.output().unwrap();
    assert!(
        o.status.success(),
        "embedded frame {frame}: {}",
        text(&o.stderr)
    );
    read_image(&out)
}

/// (message, frame) of each task event in a worker's JSON log, in the order it logged them.
fn task_events(log: &str) -> Vec<(String, i64)> {
    log.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| {
            let f = &v["fields"];
            let msg = f["message"].as_str()?;
            (msg == "task started" || msg == "task done")
                .then(|| (msg.to_string(), f["frame"].as_i64().unwrap_or(i64::MIN)))
        })
        .collect()
}

/// Submits `scene` for frames 1-6 with one worker, waits, and checks every frame against its
/// embedded render and the worker's order of work.
fn six_frames_on_one_worker(name: &str, scene: &str) {
    let mut farm = Farm::new(name);
    let merger = farm.merger();
    let worker = farm.worker_with(&[("MOONFARM_LOG_FORMAT", "json".into())]);
    let mut args = vec![
        "submit",
        scene,
        "--frames",
        "1-6",
        "-o",
        "beauty.####.exr",
        "--wait",
    ];
    args.extend(SETTINGS);
    let o = farm.producer(&args);
    assert!(
        o.status.success(),
        "submit --wait: {}\n{}",
        text(&o.stderr),
        logs(&[&merger, &worker])
    );
    let images: Vec<Image> = (1..=6)
        .map(|f| read_image(&farm.path().join(format!("beauty.{f:04}.exr"))))
        .collect();
    for (i, image) in images.iter().enumerate() {
        let frame = i as i32 + 1;
        let reference = embedded_frame(farm.path(), scene, frame);
        assert_same_image(image, &reference, 16);
    }
    // The content moves: the first and last frames differ well beyond noise.
    assert!(
        images[0].max_relative_difference(&images[5]) > 0.05,
        "frames 1 and 6 are the same picture: the frame did not reach the scene"
    );

    // One worker takes one task at a time, in queue order: every task of frames 1 and 2 is
    // done before the first task of frame 5 or 6 starts.
    let events = task_events(&std::fs::read_to_string(&worker.log).unwrap());
    let done_of = |f: i64| {
        events
            .iter()
            .filter(|(m, fr)| m == "task done" && *fr == f)
            .count() as u64
    };
    for f in 1..=6 {
        assert_eq!(done_of(f), TASKS_PER_FRAME, "frame {f} in {events:?}");
    }
    let last_early = events
        .iter()
        .rposition(|(m, f)| m == "task done" && (*f == 1 || *f == 2))
        .unwrap();
    let first_late = events
        .iter()
        .position(|(m, f)| m == "task started" && (*f == 5 || *f == 6))
        .unwrap();
    assert!(
        last_early < first_late,
        "a task of frame 5 or 6 started (event {first_late}) before frames 1-2 were done (event {last_early}): {events:?}"
    );

    // The job's status lists every frame done, with its image name.
    let s = farm.status(&job_of(&o));
    assert_eq!(s["state"], "done", "{s}");
    let frames = s["frames"].as_array().expect("frames");
    assert_eq!(frames.len(), 6, "{s}");
    for (i, f) in frames.iter().enumerate() {
        assert_eq!(f["frame"], i as i64 + 1, "{s}");
        assert_eq!(f["state"], "done", "{s}");
        assert_eq!(f["output"], format!("beauty.{:04}.exr", i + 1), "{s}");
    }
    assert_eq!(s["tasks"]["done"], 6 * TASKS_PER_FRAME, "{s}");
    assert_eq!(s["tasks"]["total"], 6 * TASKS_PER_FRAME, "{s}");
    // The report beside the images says the same.
    let report: Value = serde_json::from_slice(
        &std::fs::read(farm.path().join(format!("{}.json", job_of(&o)))).unwrap(),
    )
    .unwrap();
    assert_eq!(report["state"], "done", "{report}");
    assert_eq!(report["frames"], s["frames"], "{report}");
    farm.cleanup();
}

/// The job id `submit` prints on stdout.
fn job_of(o: &Output) -> String {
    text(&o.stdout).trim().to_string()
}

#[test]
fn a_six_frame_job_gives_each_frames_embedded_image_early_frames_first() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let scene = dir.path().join("moving.rdla");
    std::fs::write(&scene, moving_scene()).unwrap();
    six_frames_on_one_worker("frames", scene.to_str().unwrap());
}

#[test]
fn per_frame_scene_files_render_as_a_sequence() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    // As a DCC export writes them: one file per frame, the frame a literal in each.
    for f in 1..=6 {
        let text = moving_scene().replace("(rawget(_G, \"frame\") or 0)", &f.to_string());
        std::fs::write(dir.path().join(format!("shot.{f:04}.rdla")), text).unwrap();
    }
    let pattern = dir.path().join("shot.####.rdla");
    six_frames_on_one_worker("frame-files", pattern.to_str().unwrap());
}

/// Each bad frame request: one line, exit 2, and nothing published (no task, no job).
#[test]
fn bad_frame_requests_publish_nothing() {
    let _serial = serial();
    let farm = Farm::new("bad-frames");
    let dir = farm.path();
    std::fs::write(dir.join("moving.rdla"), moving_scene()).unwrap();
    for f in [1, 2] {
        std::fs::write(dir.join(format!("shot.{f:04}.rdla")), moving_scene()).unwrap();
    }
    let cases: [(&[&str], i32, &str); 6] = [
        (&["moving.rdla", "--frames", "5-1"], 2, "runs backwards"),
        (
            &["moving.rdla", "--frames", "1-10x0"],
            2,
            "step must be at least 1",
        ),
        (
            &["moving.rdla", "--frames", "1-10000000"],
            2,
            "more than 100000 frames",
        ),
        (
            &["moving.rdla", "--frames", "1-3", "-o", "flat.exr"],
            2,
            "need a frame pattern",
        ),
        (&["shot.####.rdla"], 2, "--frames"),
        (&["shot.####.rdla", "--frames", "1-3"], 1, "frame 3"),
    ];
    for (args, code, says) in cases {
        let mut all = vec!["submit"];
        all.extend(args);
        all.extend(SETTINGS);
        let o = farm.producer(&all);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        // The farm's processes log at info (MOONFARM_LOG); the error itself is one line.
        let said: Vec<&str> = err.lines().filter(|l| !l.contains(" INFO ")).collect();
        assert_eq!(said.len(), 1, "{args:?}: one line, got {err}");
    }
    assert_eq!(farm.depth(&farm.task_queue), 0, "a task was published");
    let list = farm.producer(&["list", "--json"]);
    let list: Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(list, serde_json::json!([]), "a job was stored");
    farm.cleanup();
}
