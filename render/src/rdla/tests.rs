//! Unit tests for the RDLA loader: the real MoonRay scenes, helper semantics, overrides,
//! located error messages, the sandbox and the limits.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::{load, LoadError, LoadOptions, SceneSource};
use crate::graph::{SceneGraph, Value};

fn source(name: &str, text: &str) -> SceneSource {
    SceneSource {
        name: name.to_string(),
        text: text.as_bytes().to_vec(),
    }
}

fn load_one(name: &str, text: &str) -> Result<SceneGraph, LoadError> {
    load(&[source(name, text)], &LoadOptions::default())
}

fn scenes_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/scenes")
}

fn load_scene_file(file: &str) -> Option<SceneGraph> {
    let path = scenes_dir().join(file);
    if !path.exists() {
        println!("skipping: {} is absent", path.display());
        return None;
    }
    let text = std::fs::read(&path).unwrap();
    Some(
        load(
            &[SceneSource {
                name: file.to_string(),
                text,
            }],
            &LoadOptions::default(),
        )
        .unwrap(),
    )
}

fn obj<'g>(g: &'g SceneGraph, class: &str, name: &str) -> &'g crate::graph::Object {
    g.object(
        g.find(class, name)
            .unwrap_or_else(|| panic!("no {class}(\"{name}\")")),
    )
}

fn assert_close(actual: &[f64], expected: &[f64]) {
    assert_eq!(actual.len(), expected.len());
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!(
            (a - e).abs() < 1e-12,
            "element {i}: {a} != {e}\nactual {actual:?}"
        );
    }
}

#[test]
fn every_real_scene_loads() {
    let dir = scenes_dir();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        println!("skipping: {} is absent", dir.display());
        return;
    };
    let mut count = 0;
    for entry in entries {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rdla") {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read(&path).unwrap();
        let graph = load(
            &[SceneSource {
                name: name.clone(),
                text,
            }],
            &LoadOptions::default(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(!graph.objects.is_empty(), "{name} declared no objects");
        assert!(
            graph.objects.iter().any(|o| o.class == "Layer"),
            "{name} has no Layer"
        );
        // MoonRay itself warns about attributes its classes do not have (one real scene sets
        // `subd_resolution` on a BoxGeometry); nothing else may be warned about.
        assert!(
            graph
                .warnings
                .iter()
                .all(|w| w.contains(": unknown attribute `") || w.contains("--allow-env")),
            "{name}: unexpected warnings {:?}",
            graph.warnings
        );
        count += 1;
    }
    assert!(count >= 14, "expected the 14 real scenes, found {count}");
}

#[test]
fn sphere_scene_values() {
    let Some(g) = load_scene_file("openmoonray-sphere.rdla") else {
        return;
    };
    assert_eq!(g.scene_variables.get("image_width"), Some(&Value::Int(512)));
    assert_eq!(
        g.scene_variables.get("image_height"),
        Some(&Value::Int(512))
    );
    assert!(!g.scene_variables.contains_key("image width"));

    // `Camera` is `PerspectiveCamera`; "node xform" is stored as node_xform.
    let camera = obj(&g, "PerspectiveCamera", "camera");
    let Some(Value::Mat4(m)) = camera.attrs.get("node_xform") else {
        panic!("{:?}", camera.attrs)
    };
    assert_close(
        m,
        &[
            0.99652, -0.0442804, -0.0706272, 0.0, 0.00547228, 0.880173, -0.474621, 0.0, 0.0831806,
            0.472583, 0.877352, 0.0, 0.158858, 2.00373, 3.23255, 1.0,
        ],
    );
    assert_eq!(camera.loc.to_string(), "openmoonray-sphere.rdla:6");

    let sphere = g.find("SphereGeometry", "sphere").unwrap();
    assert_eq!(g.object(sphere).attrs.get("radius"), Some(&Value::Int(1)));
    assert_eq!(
        g.object(sphere).loc.to_string(),
        "openmoonray-sphere.rdla:10"
    );
    assert_eq!(
        obj(&g, "GeometrySet", "geometryset").members,
        vec![Value::Object(sphere)]
    );
    let mat = g.find("DwaBaseMaterial", "mat").unwrap();
    assert_eq!(
        g.object(mat).attrs.get("albedo"),
        Some(&Value::Rgb([1.0, 1.0, 0.0]))
    );
    let env = g.find("EnvLight", "env").unwrap();
    let light_set = g.find("LightSet", "lightSet").unwrap();
    assert_eq!(g.object(light_set).members, vec![Value::Object(env)]);

    let layer = obj(&g, "Layer", "layer");
    let mut row = vec![
        Value::Object(sphere),
        Value::String(String::new()),
        Value::Object(mat),
        Value::Object(light_set),
    ];
    row.extend([Value::Undef, Value::Undef, Value::Undef, Value::Undef]);
    assert_eq!(layer.members, vec![Value::List(row)]);
}

#[test]
fn generated_layers_and_bind() {
    // `GeometrySet(name)(table)` and `Layer(name)(table)` built in a loop.
    let Some(g) = load_scene_file("rats-map-layer.rdla") else {
        return;
    };
    assert_eq!(
        obj(&g, "GeometrySet", "/Scene/geometryset").members.len(),
        15
    );
    let layer = obj(&g, "Layer", "/Scene/layer");
    assert_eq!(layer.members.len(), 15);
    let map = g.find("LayerMap", "layerMap-3").unwrap();
    // The label "multiply" is LayerMap's enumeration value 4.
    assert_eq!(g.object(map).attrs.get("mode"), Some(&Value::Int(4)));
    let mtl = obj(&g, "DwaSolidDielectricMaterial", "mtl-3");
    assert_eq!(
        mtl.attrs.get("emission"),
        Some(&Value::Bind {
            target: Some(map),
            value: Box::new(Value::Rgb([1.0, 1.0, 1.0]))
        })
    );
    let Some(Value::Mat4(m)) = obj(&g, "SphereGeometry", "/Scene/geometry/sphere7")
        .attrs
        .get("node_xform")
    else {
        panic!()
    };
    // k = 7: x = fmod(7, 5) = 2, y = floor(7 / 5) = 1 -> translate(0, 0, -8).
    assert_close(&m[12..], &[0.0, 0.0, -8.0, 1.0]);
}

#[test]
fn translate_then_rotate() {
    let g = load_one("m.rdla", "Foo = PerspectiveCamera('c') { ['node_xform'] = translate(1, 2, 3) * rotate(90, 0, 1, 0) }").unwrap();
    let Some(Value::Mat4(m)) = g.objects[0].attrs.get("node_xform") else {
        panic!()
    };
    // Row vectors: the translation is applied first, then the 90° turn about +y, which sends
    // x to -z and z to x; so (1, 2, 3) ends at (3, 2, -1).
    assert_close(
        m,
        &[
            0.0, 0.0, -1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 3.0, 2.0, -1.0, 1.0,
        ],
    );
}

#[test]
fn blur_keeps_the_first_value_and_vectors_do_arithmetic() {
    let text = r#"
        local v = Vec3(1, 2, 3) + Vec3(1, 1, 1) * 2
        RdlMeshGeometry("m") {
            ["node_xform"] = blur(translate(1, 0, 0), translate(2, 0, 0)),
            ["v"] = v, ["x"] = v.x, ["c"] = -Rgb(1, 0, 0),
            ["vertex_list"] = { Vec3(0, 0, 0), Vec3(1, 0, 0) },
        }
    "#;
    let g = load_one("v.rdla", text).unwrap();
    let a = &g.objects[0].attrs;
    assert_eq!(a["v"], Value::Vec3([3.0, 4.0, 5.0]));
    assert_eq!(a["x"], Value::Float(3.0));
    assert_eq!(a["c"], Value::Rgb([-1.0, -0.0, -0.0]));
    let Value::Mat4(m) = &a["node_xform"] else {
        panic!()
    };
    assert_eq!(m[12], 1.0);
    // `vertex_list` is MoonRay's alias of `vertex_list_0`.
    assert_eq!(
        a["vertex_list_0"],
        Value::List(vec![Value::Vec3([0.0; 3]), Value::Vec3([1.0, 0.0, 0.0])])
    );
}

#[test]
fn later_sources_override_earlier_ones() {
    let first = source(
        "base.rdla",
        "SceneVariables { ['image width'] = 640, ['pixel_samples'] = 2 }\n\
         s = SphereGeometry('ball') { ['radius'] = 1, ['zmin'] = -1 }\n\
         LightSet('lights') { EnvLight('env') }\n",
    );
    let second = source(
        "shot.rdla",
        "SceneVariables { ['image_width'] = 1920 }\n\
         SphereGeometry('ball') { ['radius'] = 2 }\n\
         s['zmax'] = 0.5\n\
         LightSet('lights') { RectLight('key'), EnvLight('env') }\n",
    );
    let g = load(&[first, second], &LoadOptions::default()).unwrap();
    assert_eq!(g.scene_variables["image_width"], Value::Int(1920));
    assert_eq!(g.scene_variables["pixel_samples"], Value::Int(2));
    let balls: Vec<_> = g.objects.iter().filter(|o| o.name == "ball").collect();
    assert_eq!(balls.len(), 1);
    assert_eq!(balls[0].attrs["radius"], Value::Int(2));
    assert_eq!(balls[0].attrs["zmin"], Value::Int(-1));
    assert_eq!(balls[0].attrs["zmax"], Value::Float(0.5));
    assert_eq!(balls[0].loc.to_string(), "base.rdla:2");
    // Set members are appended on re-open, each object once.
    let env = g.find("EnvLight", "env").unwrap();
    let key = g.find("RectLight", "key").unwrap();
    assert_eq!(
        obj(&g, "LightSet", "lights").members,
        vec![Value::Object(env), Value::Object(key)]
    );
}

#[test]
fn scene_variables_can_be_indexed() {
    let g = load_one("sv.rdla", "SceneVariables['image_width'] = 100\nSceneVariables { ['image_height'] = SceneVariables['image_width'] * 2 }\n").unwrap();
    assert_eq!(g.scene_variables["image_height"], Value::Int(200));
}

#[test]
fn undefined_global_is_located() {
    let e = load_one("scene.rdla", "a = 1\n\nSceneVariables {}\nx = Vec5(1, 2)\n").unwrap_err();
    assert_eq!(e.to_string().lines().count(), 1);
    assert!(
        e.to_string()
            .starts_with("scene.rdla:4: undefined global `Vec5`"),
        "{e}"
    );
    assert!(matches!(e, LoadError::Script { ref loc, .. } if loc.line == 4));
}

#[test]
fn a_global_assigned_nil_is_declared() {
    let g = load_one(
        "env.rdla",
        "dir = os.getenv('RATS_ASSETS_DIR')\nif dir == nil then SphereGeometry('s') end\n",
    )
    .unwrap();
    assert_eq!(g.objects.len(), 1);
}

#[test]
fn syntax_error_is_located() {
    let e = load_one(
        "broken.rdla",
        "SceneVariables {\n  ['image_width'] = 5\n  ['image_height'] = 6\n}\n",
    )
    .unwrap_err();
    assert!(
        matches!(e, LoadError::Syntax { ref loc, .. } if loc.line == 3),
        "{e:?}"
    );
    assert!(
        e.to_string().starts_with("broken.rdla:3: syntax error: "),
        "{e}"
    );
}

#[test]
fn runtime_errors_are_located_in_the_right_file() {
    let ok = source(
        "first.rdla",
        "function boom() local t = nil\n return t.x end\n",
    );
    let bad = source("second.rdla", "\n\nboom()\n");
    let e = load(&[ok, bad], &LoadOptions::default()).unwrap_err();
    // The failing statement is in first.rdla, line 2.
    assert!(
        e.to_string().starts_with("first.rdla:2: attempt to index"),
        "{e}"
    );

    let e = load_one("args.rdla", "\nRgb(1, 'x', 3)\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "args.rdla:2: bad argument #2 to 'Rgb' (number expected, got string)"
    );

    let e = load_one("err.rdla", "\n\nerror('custom failure')\n").unwrap_err();
    assert_eq!(e.to_string(), "err.rdla:3: custom failure");

    let e = load_one("ctor.rdla", "SphereGeometry(42)\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "ctor.rdla:1: bad argument #1 to 'SphereGeometry' (string expected, got integer)"
    );
}

#[test]
fn long_file_names_survive_lua_truncation() {
    let name = format!("/very/long/path/{}/scene.rdla", "d".repeat(80));
    let e = load_one(&name, "local t = nil\nlocal y = t.x\n").unwrap_err();
    assert!(
        matches!(e, LoadError::Script { ref loc, .. } if loc.file == name && loc.line == 2),
        "{e:?}"
    );
}

#[test]
fn getenv_sees_only_allowed_variables() {
    let opts = LoadOptions {
        env: vec![("PATH".into(), "/bin".into())],
        ..LoadOptions::default()
    };
    let text = "assert(os.getenv('PATH') == '/bin', 'PATH allowed')\nassert(os.getenv('HOME') == nil and os.getenv('USER') == nil, 'others hidden')\nassert(type(os.time()) == 'number' and type(os.clock()) == 'number')\n";
    load(&[source("env.rdla", text)], &opts).unwrap();
    let e = load_one(
        "env.rdla",
        "assert(os.getenv('PATH') == nil, 'PATH is visible')\n",
    );
    assert!(e.is_ok(), "{e:?}");
    let e = load_one("env.rdla", "os.execute('true')\n").unwrap_err();
    assert!(
        e.to_string().contains("os.execute") || e.to_string().contains("field 'execute'"),
        "{e}"
    );
}

#[test]
fn dangerous_functions_are_absent() {
    for global in ["io", "require", "dofile", "loadfile", "debug", "package"] {
        let e = load_one("s.rdla", &format!("local x = {global}\n")).unwrap_err();
        assert_eq!(
            e.to_string().split(" (").next().unwrap(),
            format!("s.rdla:1: undefined global `{global}`")
        );
    }
    load_one("s.rdla", "assert(string.dump == nil and ('').dump == nil)").unwrap();
    // `load` still takes text, but never bytecode, whatever mode is asked for.
    load_one("s.rdla", "assert(load('return 1')() == 1)\nlocal f, err = load('\\27Lua\\84\\0', 'x', 'b')\nassert(f == nil and err:find('binary'), err)\n").unwrap();
    let e = load_one("s.rdla", "collectgarbage('stop')\n").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("s.rdla:1: collectgarbage(\"stop\") is not available"),
        "{e}"
    );
    let e = load_one("s.rdla", "setmetatable(_G, nil)\n").unwrap_err();
    assert!(e.to_string().contains("protected metatable"), "{e}");
}

#[test]
fn binary_chunks_are_rejected() {
    let src = SceneSource {
        name: "compiled.rdla".into(),
        text: b"\x1bLuaT\x00\x19\x93\r\n\x1a\n".to_vec(),
    };
    let e = load(&[src], &LoadOptions::default()).unwrap_err();
    assert!(matches!(e, LoadError::BinaryChunk { .. }));
    assert!(e
        .to_string()
        .starts_with("compiled.rdla: precompiled Lua bytecode is not accepted"));
}

fn limited() -> LoadOptions {
    LoadOptions {
        memory_limit_bytes: 32 * 1024 * 1024,
        instruction_limit: 5_000_000,
        ..LoadOptions::default()
    }
}

/// Loads `text` on its own thread so that a scene escaping the limits fails the test after
/// a deadline instead of hanging it.
fn assert_quick_limit(text: &str, check: impl Fn(&LoadError) -> bool) {
    let started = Instant::now();
    let (tx, rx) = std::sync::mpsc::channel();
    let src = source("loop.rdla", text);
    std::thread::spawn(move || tx.send(load(&[src], &limited())));
    let result = rx
        .recv_timeout(Duration::from_secs(10))
        .unwrap_or_else(|_| panic!("{text}: still running after 10 s"));
    let e = result.unwrap_err();
    assert!(check(&e), "{text}: {e:?}");
    assert_eq!(e.to_string().lines().count(), 1);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn instruction_limit_stops_endless_loops() {
    let is_limit = |e: &LoadError| matches!(e, LoadError::InstructionLimit { loc, .. } if loc.file == "loop.rdla" && loc.line >= 1);
    assert_quick_limit("SceneVariables {}\nwhile true do end\n", is_limit);
    let e = load(&[source("loop.rdla", "\nwhile true do end\n")], &limited()).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("loop.rdla:2: the scene ran more than 5000000 Lua instructions"),
        "{e}"
    );
    // Catching the limit error does not help a scene escape it.
    assert_quick_limit(
        "while true do pcall(function() while true do end end) end\n",
        is_limit,
    );
    assert_quick_limit(
        "while true do coroutine.resume(coroutine.create(function() while true do end end)) end\n",
        is_limit,
    );
    assert_quick_limit(
        "local f = coroutine.wrap(function() while true do end end)\nf()\n",
        is_limit,
    );
}

#[test]
fn memory_limit_stops_huge_allocations() {
    let is_limit =
        |e: &LoadError| matches!(e, LoadError::MemoryLimit { loc, .. } if loc.file == "loop.rdla");
    assert_quick_limit("local t = {}\nfor i = 1, 1e9 do t[i] = i end\n", is_limit);
    assert_quick_limit("local s = string.rep('x', 1 << 30)\n", is_limit);
    // Rows copied into the graph count too, although they live outside Lua's heap.
    assert_quick_limit(
        "for i = 1, 1e8 do Layer('l') { {i, i, i, i, i, i, i, i} } end\n",
        is_limit,
    );
    let e = load(
        &[source(
            "loop.rdla",
            "local t = {}\nfor i = 1, 1e9 do t[i] = i end\n",
        )],
        &limited(),
    )
    .unwrap_err();
    assert!(e.to_string().starts_with("loop.rdla"), "{e}");
    assert!(
        e.to_string().contains("more than 33554432 bytes of memory"),
        "{e}"
    );
}

#[test]
fn warnings_carry_locations() {
    let text = "SphereGeometry('thing')\n\nBoxGeometry('thing') { [1.5] = 2 }\nEnvLight('e') { Rgb(1, 1, 1) }\n";
    let g = load_one("w.rdla", text).unwrap();
    assert_eq!(g.objects.len(), 3);
    assert!(
        g.warnings[0].starts_with("w.rdla:3: `thing` was declared as SphereGeometry at w.rdla:1"),
        "{:?}",
        g.warnings
    );
    assert!(
        g.warnings
            .iter()
            .any(|w| w.starts_with("w.rdla:3: ignoring attribute key number 1.5")),
        "{:?}",
        g.warnings
    );
    assert!(
        g.warnings
            .iter()
            .any(|w| w.starts_with("w.rdla:4: ignoring 1 array entries: EnvLight is not a set")),
        "{:?}",
        g.warnings
    );
}

#[test]
fn canonical_spelling_wins_over_legacy_alias() {
    let g = load_one("a.rdla", "SphereGeometry('s') { ['node xform'] = scale(2, 2, 2), ['node_xform'] = scale(3, 3, 3) }\n").unwrap();
    let Value::Mat4(m) = g.objects[0].attrs["node_xform"] else {
        panic!()
    };
    assert_eq!(m[0], 3.0);
    assert_eq!(g.objects[0].attrs.len(), 1);
    assert_eq!(g.warnings.len(), 1);
}

fn with_frame(frame: Option<i32>, rdla_set: &[(&str, &str)]) -> LoadOptions {
    LoadOptions {
        frame,
        rdla_set: rdla_set
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        ..LoadOptions::default()
    }
}

#[test]
fn the_frame_reaches_the_scene_as_a_global_and_scene_variable() {
    let text = "SceneVariables { image_width = 10 * rawget(_G, 'frame') }\n";
    let g = load(&[source("f.rdla", text)], &with_frame(Some(7), &[])).unwrap();
    assert_eq!(g.scene_variables["image_width"], Value::Int(70));
    assert_eq!(g.scene_variables["frame"], Value::Int(7));
    // Without a frame the global is absent: rawget gives nil, and arithmetic on it fails.
    assert!(load_one("f.rdla", text).is_err());
}

#[test]
fn a_scene_that_sets_its_own_frame_keeps_it() {
    let text = "SceneVariables { frame = 3 }\n";
    let g = load(&[source("f.rdla", text)], &with_frame(Some(7), &[])).unwrap();
    assert_eq!(g.scene_variables["frame"], Value::Int(3));
}

#[test]
fn rdla_set_runs_before_every_scene_file_and_after_the_frame() {
    let text = "SceneVariables { image_width = size, image_height = frame }\n";
    let opts = with_frame(Some(2), &[("size", "16 * 2"), ("frame", "frame + 1")]);
    let g = load(&[source("f.rdla", text)], &opts).unwrap();
    assert_eq!(g.scene_variables["image_width"], Value::Int(32));
    assert_eq!(g.scene_variables["image_height"], Value::Int(3));
}

#[test]
fn a_bad_rdla_set_is_an_error_naming_it() {
    let e = load(&[source("f.rdla", "")], &with_frame(None, &[("x", "1 +")])).unwrap_err();
    assert!(e.to_string().starts_with("rdla_set x:"), "{e}");
    let e = load(&[source("f.rdla", "")], &with_frame(None, &[("end", "1")])).unwrap_err();
    assert!(e.to_string().contains("not a Lua variable name"), "{e}");
}

#[test]
fn helpers_take_arguments_as_moonray_does() {
    // translate/rotate/scale are Lua functions in scene_rdl2: extra arguments are dropped.
    let g = load_one(
        "h.rdla",
        r#"
        PerspectiveCamera("c") { ["node_xform"] = translate(1, 2, 3, 1) * scale(2, 2, 2, 9) * rotate(0, 0, 1, 0, "x") }
        ImageMap("i") { ["udim_values"] = udim({ [1002] = "b.tx", [1001] = "a.tx" }) }
        "#,
    )
    .unwrap();
    let Value::Mat4(m) = &obj(&g, "PerspectiveCamera", "c").attrs["node_xform"] else {
        panic!()
    };
    assert_close(&m[12..15], &[2.0, 4.0, 6.0]);
    assert_eq!(
        obj(&g, "ImageMap", "i").attrs["udim_values"],
        Value::List(vec![Value::Int(1001), Value::Int(1002)])
    );
    // udim returns the file names as its second result, in the same order.
    let g = load_one(
        "u.rdla",
        "local v, f = udim({ [1002] = 'b.tx', [1001] = 'a.tx' })\nImageMap('i') { ['udim_files'] = f }",
    )
    .unwrap();
    assert_eq!(
        obj(&g, "ImageMap", "i").attrs["udim_files"],
        Value::List(vec![
            Value::String("a.tx".into()),
            Value::String("b.tx".into())
        ])
    );
    for (call, message) in [
        (
            "translate(1, 2)",
            "wrong number of arguments to 'translate' (expected 3)",
        ),
        (
            "rotate(1, 2, nil, 3)",
            "wrong number of arguments to 'rotate' (expected 4)",
        ),
        (
            "scale(1, 'a', 2)",
            "bad argument #2 to 'scale' (number expected, got string)",
        ),
        (
            "Rgb(1, 2)",
            "wrong number of arguments to 'Rgb' (3 expected, got 2)",
        ),
        (
            "Vec3(1, 2, 3, 4)",
            "wrong number of arguments to 'Vec3' (3 expected, got 4)",
        ),
        (
            "blur(1)",
            "wrong number of arguments to 'blur' (2 expected, got 1)",
        ),
        (
            "blur(1, 'a')",
            "both arguments must be of the same type (#1 is number, #2 is string)",
        ),
        (
            "bind()",
            "wrong number of arguments to 'bind' (1 or 2 expected, got 0)",
        ),
    ] {
        let err = load_one("e.rdla", &format!("local x = {call}")).unwrap_err();
        assert_eq!(err.to_string(), format!("e.rdla:1: {message}"), "{call}");
    }
    // An integer and a float are both Lua numbers.
    load_one("b.rdla", "local x = blur(1, 2.5)").unwrap();
    // Rgb takes numeric strings as luaL_checknumber does.
    let g = load_one(
        "s.rdla",
        "DwaBaseMaterial('m') { ['albedo'] = Rgb('0.5', 1, 1) }",
    )
    .unwrap();
    assert_eq!(
        obj(&g, "DwaBaseMaterial", "m").attrs["albedo"],
        Value::Rgb([0.5, 1.0, 1.0])
    );
}

#[test]
fn unknown_attributes_of_real_classes_warn_once_and_aliases_resolve() {
    let g = load_one(
        "a.rdla",
        r#"
        RdlMeshGeometry("m") { ["node xform"] = translate(1, 0, 0), ["subd resolution"] = 4, ["bogus"] = 1 }
        RdlMeshGeometry("n") { ["bogus"] = 2 }
        RdlMeshGeometry("m")["also bogus"] = 3
        SceneVariables { ["image width"] = 64, ["nonsense"] = true }
        LayerMap_v2("w") { ["anything"] = 1 }
        "#,
    )
    .unwrap();
    let m = obj(&g, "RdlMeshGeometry", "m");
    assert!(m.attrs.contains_key("node_xform"));
    assert_eq!(m.attrs["mesh_resolution"], Value::Int(4));
    assert_eq!(g.scene_variables["image_width"], Value::Int(64));
    let unknown: Vec<&String> = g
        .warnings
        .iter()
        .filter(|w| w.contains("unknown attribute"))
        .collect();
    assert_eq!(unknown.len(), 3, "{:?}", g.warnings);
    assert!(
        unknown[0].starts_with("a.rdla:2: RdlMeshGeometry `m`: unknown attribute `bogus` ignored")
    );
    assert!(unknown
        .iter()
        .any(|w| w.starts_with("a.rdla:4: RdlMeshGeometry `m`: unknown attribute `also bogus`")));
    assert!(unknown
        .iter()
        .any(|w| w.starts_with("a.rdla:5: SceneVariables: unknown attribute `nonsense`")));
    assert_eq!(g.warnings.len(), 3, "{:?}", g.warnings);
}

#[test]
fn every_moonray_class_is_a_constructor() {
    let names = crate::classes::constructible_names();
    assert!(names.len() > 150, "{}", names.len());
    let text: String = names.iter().map(|n| format!("{n}(\"o_{n}\")\n")).collect();
    let g = load_one("all.rdla", &text).unwrap();
    assert_eq!(g.objects.len(), names.len());
    assert!(g.warnings.is_empty(), "{:?}", g.warnings);
}

#[test]
fn enum_labels_become_their_values_as_in_moonray() {
    let g = load_one(
        "e.rdla",
        r#"
        SceneVariables { ["pixel_filter"] = "box" }
        RectLight("l") { ["visible_in_camera"] = "force on" }
        RdlMeshGeometry("m") { ["side_type"] = bind(undef(), "force single-sided") }
        RdlMeshGeometry("m")["side_type"] = "no such side"
        NoiseWorleyMap_v2("w") { ["space"] = "object", ["output_mode"] = 3 }
        "#,
    )
    .unwrap();
    assert_eq!(g.scene_variables["pixel_filter"], Value::Int(0));
    assert_eq!(
        obj(&g, "RectLight", "l").attrs["visible_in_camera"],
        Value::Int(1)
    );
    assert_eq!(
        obj(&g, "RdlMeshGeometry", "m").attrs["side_type"],
        Value::Bind {
            target: None,
            value: Box::new(Value::Int(1))
        }
    );
    let w = obj(&g, "NoiseWorleyMap_v2", "w");
    assert_eq!(w.attrs["space"], Value::Int(4));
    assert_eq!(w.attrs["output_mode"], Value::Int(3));
    assert_eq!(g.warnings.len(), 1, "{:?}", g.warnings);
    assert!(
        g.warnings[0].starts_with("e.rdla:5: invalid enumeration value \"no such side\" for RdlMeshGeometry attribute `side_type`"),
        "{}",
        g.warnings[0]
    );
}
