//! Every real MoonRay scene renders; the example scene's EXR has the promised layout.

use super::*;

#[test]
fn every_shared_scene_renders_at_low_settings() {
    let dir = shared_scenes();
    let mut scenes: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (the shared scenes folder sits beside the checkout)",
                dir.display()
            )
        })
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rdla"))
        .collect();
    scenes.sort();
    assert!(
        scenes.len() >= 10,
        "expected the shared scenes, found {}",
        scenes.len()
    );
    let out = tempfile::tempdir().unwrap();
    for scene in scenes {
        let name = scene.file_stem().unwrap().to_string_lossy().into_owned();
        let exr = out.path().join(format!("{name}.exr"));
        let o = producer(
            &[
                "submit",
                scene.to_str().unwrap(),
                "--spp",
                "4",
                "--res",
                "4",
                "-o",
                exr.to_str().unwrap(),
            ],
            out.path(),
        );
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        let image = read_image(&exr);
        let mean = image.mean_rgb();
        assert!(
            mean.iter().sum::<f64>() > 1e-4,
            "{name} rendered black: {mean:?}"
        );
        assert!(
            image.weight.iter().all(|&w| w == 4.0),
            "{name}: every pixel takes 4 samples"
        );
        assert!(
            !out.path().join(format!("{name}.snapshot.exr")).exists(),
            "{name}: snapshot left behind"
        );
    }
}

#[test]
fn the_example_scene_writes_rgba_and_weight_at_its_resolution_with_header_attributes() {
    let out = tempfile::tempdir().unwrap();
    let scene = repo().join("scenes/cornell-box.rdla");
    let o = producer(
        &[
            "submit",
            scene.to_str().unwrap(),
            "--res",
            "4",
            "--spp",
            "8",
        ],
        out.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // No -o and no output_file in the scene: <stem>.exr in the working directory.
    let path = out.path().join("cornell-box.exr");
    let bytes = std::fs::read(&path).unwrap();
    let (image, info) = shared::exr_io::decode_image(&bytes).unwrap();
    assert_eq!((image.width, image.height), (64, 64));
    let attr = |k: &str| info.get(k).cloned();
    use shared::exr_io::Attr;
    assert_eq!(attr("moonfarm:samples_per_pixel"), Some(Attr::Int(8)));
    assert!(
        matches!(attr("moonfarm:scene_files"), Some(Attr::Text(f)) if f.ends_with("cornell-box.rdla"))
    );
    assert!(attr("moonfarm:render_seconds").is_some() && attr("moonfarm:version").is_some());
    // The walls are red on the left, green on the right.
    let px = |x: u32, y: u32| image.rgba[(y * image.width + x) as usize];
    let (l, r) = (px(3, 32), px(60, 32));
    assert!(
        l[0] > 2.0 * l[1] && r[1] > 2.0 * r[0],
        "left {l:?} right {r:?}"
    );
    // Inside the box the camera sees geometry (alpha 1); past the open front, nothing.
    assert_eq!(px(32, 32)[3], 1.0);
    assert_eq!(px(0, 0)[3], 0.0);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("cornell-box.exr"),
        "says where the output is"
    );
}

/// `submit --json` in the embedded mode: stdout is one JSON object describing the finished
/// render (what a script needs to find the file), the sentence goes to stderr.
#[test]
fn embedded_submit_json_prints_the_finished_render_as_one_object() {
    let dir = tempfile::tempdir().unwrap();
    let exr = dir.path().join("json.exr");
    let scene = repo().join("scenes/cornell-box.rdla");
    let o = producer(
        &[
            "submit",
            scene.to_str().unwrap(),
            "--spp",
            "4",
            "--res",
            "8",
            "--json",
            "-o",
            exr.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON object ({e}): {}",
            String::from_utf8_lossy(&o.stdout)
        )
    });
    assert_eq!(v["state"], "done", "{v}");
    assert_eq!(v["output"], exr.to_str().unwrap(), "{v}");
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(32), Some(32)),
        "{v}"
    );
    assert_eq!(
        (v["spp"].as_u64(), v["frames"].as_u64()),
        (Some(4), Some(1)),
        "{v}"
    );
    // 32x32 in 64-pixel tiles is one tile; 4 samples in the default 4 passes.
    assert_eq!(v["tasks"].as_u64(), Some(4), "{v}");
    assert!(v["job"].as_str().is_some_and(|j| j.len() == 36), "{v}");
    assert!(stderr(&o).contains("wrote "), "{}", stderr(&o));
    assert_eq!(read_image(&exr).width, 32);
}

/// A blob store named without a broker: the render is embedded, and stderr says the store is
/// not used (rather than the user finding nothing in it).
#[test]
fn a_blob_url_without_a_broker_renders_embedded_and_says_the_store_is_unused() {
    let dir = tempfile::tempdir().unwrap();
    let exr = dir.path().join("b.exr");
    let store = dir.path().join("store");
    let scene = repo().join("scenes/cornell-box.rdla");
    let url = format!("file://{}", store.display());
    let o = producer(
        &[
            "submit",
            scene.to_str().unwrap(),
            "--spp",
            "1",
            "--res",
            "16",
            "--blob",
            &url,
            "-o",
            exr.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("warning: --blob (MOONFARM_BLOB_URL)") && err.contains("embedded"),
        "{err}"
    );
    assert!(exr.exists());
    assert!(
        !store.exists(),
        "the embedded render wrote to the blob store"
    );
}
