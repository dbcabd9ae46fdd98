//! Bad input: one line naming file and line, a non-zero exit, and no output file.

use super::*;

/// Runs a submit of `text` saved as `bad.rdla` and returns stderr's error line; asserts the
/// failure contract on the way.
fn refused(text: Option<&str>) -> String {
    let dir = tempfile::tempdir().unwrap();
    let scene = dir.path().join("bad.rdla");
    if let Some(t) = text {
        std::fs::write(&scene, t).unwrap();
    }
    let o = producer(&["submit", "bad.rdla", "-o", "out.exr"], dir.path());
    assert!(!o.status.success(), "a bad scene must fail");
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(lines.len(), 1, "exactly one error line: {err}");
    assert_eq!(
        err.lines().filter(|l| !l.starts_with("warning:")).count(),
        1,
        "nothing else but warnings: {err}"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    let expected = usize::from(text.is_some());
    assert_eq!(
        left.len(),
        expected,
        "no output file may be written: {left:?}"
    );
    lines[0].to_string()
}

#[test]
fn a_syntax_error_names_file_and_line() {
    let e = refused(Some(
        "SceneVariables {\n  [\"image_width\"] = 10,\n  oops oops\n}\n",
    ));
    assert!(
        e.contains("bad.rdla:3:") && e.contains("syntax error"),
        "{e}"
    );
}

#[test]
fn an_undefined_global_names_file_line_and_name() {
    let e = refused(Some("SceneVariables {}\n\nlocal v = Vec5(1, 2, 3, 4, 5)\n"));
    assert!(e.contains("bad.rdla:3:") && e.contains("Vec5"), "{e}");
}

#[test]
fn a_missing_camera_is_refused() {
    let e = refused(Some("local s = SphereGeometry(\"s\") {}\nLayer(\"l\") { { s, \"\", DwaBaseMaterial(\"m\") {}, LightSet(\"ls\") { EnvLight(\"e\") {} } } }\n"));
    assert!(e.contains("bad.rdla") && e.contains("no camera"), "{e}");
}

#[test]
fn an_unreadable_file_is_refused() {
    let e = refused(None);
    assert!(
        e.contains("cannot read scene file bad.rdla") && e.contains("No such file"),
        "{e}"
    );
}

#[test]
fn a_runaway_scene_stops_with_a_clear_error() {
    let e = refused(Some("local n = 0\nwhile true do n = n + 1 end\n"));
    assert!(
        e.contains("bad.rdla:2:") && e.contains("instructions"),
        "{e}"
    );
}

#[test]
fn nonsense_settings_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let scene = repo().join("scenes/cornell-box.rdla");
    for args in [
        vec!["--res", "0"],
        vec!["--spp", "0"],
        vec!["-o", "no/such/folder/x.exr"],
    ] {
        let mut all = vec!["submit", scene.to_str().unwrap()];
        all.extend(args.iter().copied());
        let o = producer(&all, dir.path());
        assert!(!o.status.success(), "{args:?} must be refused");
        assert!(!stderr(&o).is_empty());
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// A small furnace scene whose DwaBaseMaterial albedo is bound to an ImageMap of `texture`.
pub fn textured_scene(texture: &str) -> String {
    format!(
        r#"SceneVariables {{ ["image_width"] = 16, ["image_height"] = 16, ["pixel_samples"] = 2 }}
Camera("cam") {{ ["node_xform"] = translate(0, 0, 5), ["focal"] = 30 }}
local ball = SphereGeometry("ball") {{ ["radius"] = 1 }}
local tex = ImageMap("tex") {{ ["texture"] = "{texture}" }}
local m = DwaBaseMaterial("m") {{ ["albedo"] = bind(tex), ["specular"] = 0 }}
local env = EnvLight("env") {{ ["color"] = Rgb(1, 1, 1) }}
Layer("layer") {{ {{ ball, "", m, LightSet("lights") {{ env }} }} }}
"#
    )
}

#[test]
fn a_missing_texture_names_object_attribute_and_path_unless_allowed() {
    let e = refused(Some(&textured_scene("tex/nowhere.png")));
    assert!(
        e.starts_with(
            "error: bad.rdla:4: ImageMap `tex` attribute `texture`: cannot read tex/nowhere.png"
        ) && e.contains("--allow-missing"),
        "{e}"
    );
    // --allow-missing: a warning, and the render goes on without it.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.rdla"), textured_scene("tex/nowhere.png")).unwrap();
    let o = producer(
        &["submit", "s.rdla", "-o", "out.exr", "--allow-missing"],
        dir.path(),
    );
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains(
            "warning: s.rdla:4: ImageMap `tex` attribute `texture`: cannot read tex/nowhere.png"
        ),
        "{err}"
    );
    assert!(dir.path().join("out.exr").is_file());
}
