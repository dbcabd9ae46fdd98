//! MoonRay's own regression scenes (../shared/rats, run as its tests.json gives them) and the
//! real scenes of ../shared/scenes, each through the real loader, scene builder and renderer
//! at tiny settings: every one must load (no "undefined global", no error) and render.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use render::integrator::{render_tile, PixelRect};
use render::rdla::SceneSource;
use render::scene::BuildOptions;

fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared")
}

/// Loads `inputs` in order (as `moonray -in a -in b` does) with `RATS_ASSETS_DIR` pointing at
/// a folder that does not exist, renders 1 sample per pixel at a resolution divisor of 8, and
/// returns why it failed, if it did.
fn load_and_render(root: &Path, inputs: &[String]) -> Result<(), String> {
    let mut sources = Vec::new();
    for input in inputs {
        let text = std::fs::read(root.join(input)).map_err(|e| format!("{input}: {e}"))?;
        sources.push(SceneSource {
            name: input.clone(),
            text,
        });
    }
    let env = [(
        "RATS_ASSETS_DIR".to_string(),
        "/nonexistent/rats-assets/".to_string(),
    )];
    let (scene, _warnings) = render::prepare(
        &sources,
        &env,
        &BuildOptions {
            res: 8.0,
            ..BuildOptions::default()
        },
    )
    .map_err(|e| e.to_string())?;
    let rect = PixelRect {
        x0: 0,
        y0: 0,
        x1: scene.width,
        y1: scene.height,
    };
    let tile = render_tile(&scene, rect, 0..1, scene.frame, &AtomicBool::new(false))
        .map_err(|e| e.to_string())?;
    let expected = (scene.width * scene.height) as usize;
    if tile.sums.len() != expected {
        return Err(format!("rendered {} pixels of {expected}", tile.sums.len()));
    }
    if let Some(bad) = tile.sums.iter().find(|s| s.iter().any(|c| !c.is_finite())) {
        return Err(format!("a pixel is not finite: {bad:?}"));
    }
    Ok(())
}

#[test]
fn every_rats_test_and_every_real_scene_loads_and_renders() {
    let start = Instant::now();
    let rats = shared().join("rats");
    let Ok(list) = std::fs::read_to_string(rats.join("tests.json")) else {
        println!("skipping: {} is absent", rats.display());
        return;
    };
    let tests: Vec<serde_json::Value> = serde_json::from_str(&list).expect("tests.json parses");
    let mut failures = Vec::new();
    for t in &tests {
        let name = t["test"].as_str().expect("each test has a name");
        let inputs: Vec<String> = t["inputs"]
            .as_array()
            .expect("each test has inputs")
            .iter()
            .map(|i| i.as_str().expect("inputs are paths").to_string())
            .collect();
        if let Err(e) = load_and_render(&rats, &inputs) {
            failures.push(format!("{name}: {e}"));
        }
    }
    let rats_failed = failures.len();
    println!(
        "RATS: {} of {} load and render",
        tests.len() - rats_failed,
        tests.len()
    );

    let scenes = shared().join("scenes");
    let mut files: Vec<String> = std::fs::read_dir(&scenes)
        .expect("../shared/scenes is beside ../shared/rats")
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".rdla"))
        .collect();
    files.sort();
    for f in &files {
        if let Err(e) = load_and_render(&scenes, std::slice::from_ref(f)) {
            failures.push(format!("scenes/{f}: {e}"));
        }
    }
    println!(
        "scenes: {} of {} load and render",
        files.len() - (failures.len() - rats_failed),
        files.len()
    );
    println!("in {:.1} s", start.elapsed().as_secs_f64());
    assert!(tests.len() >= 161, "tests.json lists {} tests", tests.len());
    assert!(files.len() >= 14, "{} scenes", files.len());
    assert!(
        failures.is_empty(),
        "{} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn an_object_of_every_moonray_class_loads_with_at_most_one_warning() {
    let names = render::classes::constructible_names();
    let mut text =
        String::from("SceneVariables { [\"image_width\"] = 8, [\"image_height\"] = 8 }\n");
    for n in &names {
        text.push_str(&format!("{n}(\"o_{n}\")\n"));
    }
    let src = SceneSource {
        name: "all.rdla".into(),
        text: text.into_bytes(),
    };
    let (scene, warnings) =
        render::prepare(&[src], &[], &BuildOptions::default()).expect("every class loads");
    for n in &names {
        let about: Vec<&String> = warnings
            .iter()
            .filter(|w| w.contains(&format!("`o_{n}`")))
            .collect();
        assert!(about.len() <= 1, "{n}: {about:?}");
    }
    let rect = PixelRect {
        x0: 0,
        y0: 0,
        x1: scene.width,
        y1: scene.height,
    };
    render_tile(&scene, rect, 0..1, 0, &AtomicBool::new(false)).expect("renders");
}

#[test]
fn a_bound_emission_warns_once() {
    let src = SceneSource {
        name: "e.rdla".into(),
        text: br#"
Camera("cam") {}
local map = ProjectTriplanarMap_v2("triplanar") {}
local glow = DwaEmissiveMaterial("glow") { ["emission"] = bind(map) }
local checker = CheckerboardMap("checker") {}
local glow2 = DwaEmissiveMaterial("glow2") { ["emission"] = bind(checker) }
Layer("layer") { { SphereGeometry("ball") {}, "", glow }, { SphereGeometry("ball2") {}, "", glow2 } }
"#
        .to_vec(),
    };
    let (_, warnings) = render::prepare(&[src], &[], &BuildOptions::default()).unwrap();
    let bound: Vec<&String> = warnings
        .iter()
        .filter(|w| w.contains("`emission` is bound to ProjectTriplanarMap_v2"))
        .collect();
    assert_eq!(bound.len(), 1, "{warnings:?}");
    // A map the built-in renderer evaluates is not warned about.
    assert!(
        !warnings.iter().any(|w| w.contains("CheckerboardMap")),
        "{warnings:?}"
    );
}
