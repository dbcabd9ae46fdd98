//! The hostile corpus: every file in `tests/it/hostile/` is a scene (read after `base.rdla`, a
//! valid lit sphere) that a careless or curious user might submit. One table says what each
//! must cost: the exit code, the words of the one error line, and no output file. Arguments
//! that attack the command line instead (job ids, flags) are rows of the second table.

use super::*;
use std::path::Path;

/// (case file, extra arguments, exit code, words the error line must hold); "base" is the
/// base scene alone, with hostile arguments.
const SCENES: &[(&str, &[&str], i32, &[&str])] = &[
    (
        "os_execute",
        &[],
        1,
        &["os_execute.rdla:1:", "nil value (field 'execute')"],
    ),
    (
        "io_open",
        &[],
        1,
        &["io_open.rdla:1:", "undefined global `io`"],
    ),
    (
        "require",
        &[],
        1,
        &["require.rdla:1:", "undefined global `require`"],
    ),
    (
        "dofile",
        &[],
        1,
        &["dofile.rdla:1:", "undefined global `dofile`"],
    ),
    (
        "binary_chunk",
        &[],
        1,
        &["binary_chunk.rdla:2:", "attempt to call a nil value"],
    ),
    (
        "string_rep",
        &[],
        1,
        &["string_rep.rdla:", "more than 536870912 bytes of memory"],
    ),
    (
        "endless_loop",
        &[],
        1,
        &["endless_loop.rdla:1:", "instructions"],
    ),
    (
        "deep_recursion",
        &[],
        1,
        &["deep_recursion.rdla:1:", "stack overflow"],
    ),
    (
        "debug_metatable",
        &[],
        1,
        &["debug_metatable.rdla:1:", "undefined global `debug`"],
    ),
    (
        "string_metatable",
        &[],
        1,
        &["string_metatable.rdla:3:", "nil value (field 'execute')"],
    ),
    (
        "collectgarbage",
        &[],
        1,
        &[
            "collectgarbage.rdla:1:",
            "collectgarbage(\"stop\") is not available",
        ],
    ),
    (
        "getenv_secret",
        &[],
        1,
        &["getenv_secret.rdla:3:", "getenv gave nil"],
    ),
    (
        "pixels_1e9",
        &[],
        1,
        &[
            "1000000000x1000000000",
            "over the limit of 67108864",
            "--max-pixels",
        ],
    ),
    (
        "pixels_100k",
        &["--max-pixels", "1000000"],
        1,
        &[
            "100000x1000",
            "over the limit of 1000000",
            "--max-pixels or MOONFARM_MAX_PIXELS",
        ],
    ),
    (
        "spp_absurd",
        &[],
        1,
        &["samples per pixel is 16777216", "--max-spp"],
    ),
    (
        "spp_zero",
        &[],
        1,
        &["SceneVariables `pixel_samples` is 0; it must be at least 1"],
    ),
    (
        "base",
        &["--spp", "1000000"],
        1,
        &["samples per pixel is 1000000"],
    ),
    ("base", &["--spp", "0"], 2, &["--spp"]),
    ("base", &["--spp", "-5"], 2, &["unexpected argument '-5'"]),
    ("base", &["--res", "0"], 2, &["--res 0"]),
    ("base", &["--res", "NaN"], 2, &["--res NaN"]),
    ("base", &["--res", "0.001"], 2, &["--res 0.001"]),
    // An object's errors name where it was first declared (base.rdla), the case re-opens it.
    (
        "camera_nan",
        &[],
        1,
        &[
            "base.rdla:4:",
            "PerspectiveCamera `cam`: attribute `node_xform` holds NaN",
        ],
    ),
    (
        "geometry_inf",
        &[],
        1,
        &[
            "base.rdla:5:",
            "SphereGeometry `ball`: attribute `node_xform` holds inf",
        ],
    ),
    (
        "light_nan",
        &[],
        1,
        &[
            "base.rdla:7:",
            "EnvLight `env`: attribute `color` holds NaN",
        ],
    ),
    (
        "material_inf",
        &[],
        1,
        &[
            "base.rdla:6:",
            "DwaBaseMaterial `m`: attribute `albedo` holds -inf",
        ],
    ),
    (
        "mesh_index_past_vertices",
        &[],
        1,
        &[
            "mesh_index_past_vertices.rdla:1:",
            "RdlMeshGeometry `tri`: face 0 uses vertex 7",
            "has 3 vertices",
        ],
    ),
    (
        "mesh_face_counts_disagree",
        &[],
        1,
        &[
            "mesh_face_counts_disagree.rdla:1:",
            "RdlMeshGeometry `quad`: face_vertex_count adds up to 6",
            "vertices_by_index has 4",
        ],
    ),
    (
        "missing_texture",
        &[],
        1,
        &["ImageMap `tex` attribute `texture`: cannot read no/such/texture.png"],
    ),
    (
        "nested_instancers",
        &[],
        1,
        &[
            "nested_instancers.rdla:5:",
            "RdlInstancerGeometry `b`: the scene expands to more than 20000000 primitives",
        ],
    ),
    (
        "instancer_cycle",
        &[],
        1,
        &["instancer_cycle.rdla:2:", "nest more than 32 deep"],
    ),
    (
        "resolution_negative",
        &[],
        1,
        &["SceneVariables `image_width` is -16; it must be at least 1"],
    ),
];

/// Runs `producer` in a fresh folder holding the corpus, with `env` added; returns (exit
/// code, stderr) and asserts that nothing was written there.
fn run(args: &[&str], env: &[(&str, String)]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/hostile");
    for entry in std::fs::read_dir(&corpus).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    // An empty blob store, for the farm commands.
    std::fs::create_dir(dir.path().join("blobs")).unwrap();
    let before = std::fs::read_dir(dir.path()).unwrap().count();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_producer"))
        .args(args)
        .current_dir(dir.path())
        .env_remove("MOONFARM_AMQP_URL")
        .env_remove("MOONFARM_BLOB_URL")
        .envs(
            env.iter()
                .map(|(k, v)| (k, v.replace("{dir}", &dir.path().display().to_string()))),
        )
        .output()
        .unwrap();
    let after: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(after.len(), before, "{args:?} wrote files: {after:?}");
    (o.status.code().unwrap_or(-1), stderr(&o))
}

#[test]
fn every_hostile_scene_costs_one_clear_error_and_no_output() {
    let mut failures = Vec::new();
    for (case, extra, code, words) in SCENES {
        let file = format!("{case}.rdla");
        let mut args = vec!["submit", "base.rdla", file.as_str(), "-o", "out.exr"];
        if *case == "base" {
            args.remove(2);
        }
        args.extend_from_slice(extra);
        // Embedded, with a credential in the environment that no scene may read or print.
        let (got, err) = run(
            &args,
            &[("AZURE_STORAGE_ACCOUNT_KEY", "hostile-secret".into())],
        );
        let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
        let line = errors.first().copied().unwrap_or("");
        let ok = got == *code
            && errors.len() == 1
            && words.iter().all(|w| line.contains(w))
            && !err.contains("hostile-secret")
            && !err.contains("panicked");
        if !ok {
            failures.push(format!("{case}: exit {got} (want {code}), stderr:\n{err}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n---\n"));
}

/// Job ids that could name a blob prefix outside their job, and passwords on the command line.
const ARGUMENTS: &[(&[&str], i32, &[&str])] = &[
    (
        &["status", "../jobs"],
        2,
        &["job id \"../jobs\"", "letters, digits and dashes"],
    ),
    (&["fetch", "a/b/c"], 2, &["job id \"a/b/c\""]),
    (&["status", "abcd\ndef"], 2, &["job id \"abcd\\ndef\""]),
    (
        &["delete", "\u{1b}[31mred"],
        2,
        &["job id \"\\u{1b}[31mred\""],
    ),
    (
        &["status", LONG_ID],
        2,
        &["too long", "(cut, 10000 bytes in all)"],
    ),
    (
        &[
            "status",
            "abcd",
            "--amqp",
            "amqp://u:hunter22@127.0.0.1/%2f",
        ],
        2,
        &[
            "password on the command line",
            "MOONFARM_AMQP_URL_FILE",
            "u:***@",
        ],
    ),
];

const LONG_ID: &str = include_str!("hostile/long_id.txt");

#[test]
fn hostile_arguments_are_refused_as_usage_errors() {
    let mut failures = Vec::new();
    for (args, code, words) in ARGUMENTS {
        // A NUL cannot be in a process argument (the unit test of `JobId::parse` has it).
        let blobs = ("MOONFARM_BLOB_URL", "file://{dir}/blobs".to_string());
        let (got, err) = run(args, &[blobs]);
        let ok = got == *code
            && words.iter().all(|w| err.contains(w))
            && !err.contains("hunter22")
            && !err.contains("hostile-secret");
        if !ok {
            failures.push(format!(
                "{args:?}: exit {got} (want {code}), stderr:\n{err}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n---\n"));
}
