//! Unit tests for RDLB: bytes laid out by hand as scene_rdl2 writes them, round trips of the
//! real MoonRay scenes through RDLB, the split pair and RDLA text, and malformed files.

use std::path::PathBuf;

use super::{decode, encode, is_rdlb, layer_assignments, RdlbError};
use crate::graph::{SceneGraph, Value};
use crate::rdla::{load, write, LoadError, LoadOptions, SceneSource};

fn src(name: &str, bytes: Vec<u8>) -> SceneSource {
    SceneSource {
        name: name.to_string(),
        text: bytes,
    }
}

fn load_all(sources: Vec<SceneSource>) -> Result<SceneGraph, LoadError> {
    load(&sources, &LoadOptions::default())
}

/// What the RATS scenes read through `os.getenv`: an assets folder that does not exist.
fn rats_env() -> LoadOptions {
    LoadOptions {
        env: vec![("RATS_ASSETS_DIR".into(), "/nonexistent/rats-assets/".into())],
        ..LoadOptions::default()
    }
}

/// What MoonRay's scene context holds for a graph, so that two graphs can be compared value
/// for value: colours at single precision (scene_rdl2 has no other), Layer rows as its
/// parallel vectors hold them (one row per part, assignments in a fixed order), tables mixing
/// ints and floats as float vectors, a binding to
/// nothing (`bind(undef(), v)`) as the plain value it is there, and neither declaration
/// places nor warnings.
fn canonical(g: &SceneGraph) -> SceneGraph {
    fn round(v: &Value) -> Value {
        let f = |c: &[f64]| c.iter().map(|x| *x as f32 as f64).collect::<Vec<_>>();
        match v {
            Value::Rgb(c) => Value::Rgb(f(c).try_into().unwrap()),
            Value::Rgba(c) => Value::Rgba(f(c).try_into().unwrap()),
            // A table mixing ints and floats is a float vector in MoonRay (no declared
            // vector type holds both), and RDLB stores it as one.
            Value::List(items)
                if items.iter().any(|i| matches!(i, Value::Float(_)))
                    && items
                        .iter()
                        .all(|i| matches!(i, Value::Int(_) | Value::Float(_))) =>
            {
                Value::List(
                    items
                        .iter()
                        .map(|i| match i {
                            Value::Int(n) => Value::Float(*n as f64),
                            other => other.clone(),
                        })
                        .collect(),
                )
            }
            Value::List(items) => Value::List(items.iter().map(round).collect()),
            Value::Bind {
                target: None,
                value,
            } => round(value),
            Value::Bind { target, value } => Value::Bind {
                target: *target,
                value: Box::new(round(value)),
            },
            other => other.clone(),
        }
    }
    let mut out = g.clone();
    out.warnings.clear();
    for v in out.scene_variables.values_mut() {
        *v = round(v);
    }
    for (id, o) in out.objects.iter_mut().enumerate() {
        o.loc = Default::default();
        for v in o.attrs.values_mut() {
            *v = round(v);
        }
        if o.class == "Layer" {
            o.members = layer_assignments(g, &g.objects[id])
                .unwrap_or_else(|e| panic!("{}: {e}: {:?}", o.loc, o.members))
                .into_iter()
                .map(|(geom, part, slots)| {
                    let mut row = vec![geom, Value::String(part)];
                    row.extend(slots.into_iter().filter(|s| !matches!(s, Value::Undef)));
                    Value::List(row)
                })
                .collect();
        }
    }
    out
}

/// The first difference between two graphs, readable (a whole graph in a message is not).
fn same(got: &SceneGraph, want: &SceneGraph, what: &str) {
    assert_eq!(
        got.objects.len(),
        want.objects.len(),
        "{what}: object count"
    );
    for (a, b) in got.objects.iter().zip(&want.objects) {
        assert_eq!(
            (&a.class, &a.name),
            (&b.class, &b.name),
            "{what}: object order"
        );
        for (k, v) in &b.attrs {
            assert_eq!(
                a.attrs.get(k),
                Some(v),
                "{what}: {}(\"{}\") `{k}`",
                b.class,
                b.name
            );
        }
        assert_eq!(
            a.attrs.len(),
            b.attrs.len(),
            "{what}: {} attributes",
            b.name
        );
        assert_eq!(a.members, b.members, "{what}: {} members", b.name);
    }
    assert_eq!(
        got.scene_variables, want.scene_variables,
        "{what}: SceneVariables"
    );
    assert_eq!(got, want, "{what}");
}

fn scenes() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/scenes");
    let mut out = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rdla"))
        .collect();
    paths.sort();
    for p in paths {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        out.push((name, std::fs::read(&p).unwrap()));
    }
    let example = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenes/cornell-box.rdla");
    out.push(("cornell-box.rdla".into(), std::fs::read(example).unwrap()));
    out
}

/// Reads `sources` as RDLA and checks that the scene's RDLB, its split pair and RDLA text
/// written from its graph all read back to the same graph. False when it does not load.
fn round_trips(name: &str, sources: Vec<SceneSource>) -> bool {
    let original = match load(&sources, &rats_env()) {
        Ok(g) => g,
        Err(e) => {
            // Classes the loader does not know yet are another item of the issue.
            println!("skipping {name}: {e}");
            return false;
        }
    };
    let want = canonical(&original);

    let binary = encode(&original, false).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(is_rdlb(&binary));
    let from_binary = load_all(vec![src("s.rdlb", binary)]).unwrap();
    same(
        &canonical(&from_binary),
        &want,
        &format!("{name} through RDLB"),
    );

    let text = write(&original, false);
    let from_text = load_all(vec![src("s.rdla", text.clone().into_bytes())])
        .unwrap_or_else(|e| panic!("{name}: {e}\n{text}"));
    let mut exact = original.clone();
    let mut back = from_text.clone();
    for g in [&mut exact, &mut back] {
        g.warnings.clear();
        g.objects
            .iter_mut()
            .for_each(|o| o.loc = Default::default());
    }
    same(&back, &exact, &format!("{name} through RDLA text"));

    let split_text = write(&original, true);
    let split_binary = encode(&original, true).unwrap();
    let from_split = load_all(vec![
        src("s.rdla", split_text.into_bytes()),
        src("s.rdlb", split_binary),
    ])
    .unwrap();
    same(
        &canonical(&from_split),
        &want,
        &format!("{name} through the split pair"),
    );
    true
}

/// (a) of the issue: every real scene read back from its RDLB, from its split pair and from
/// RDLA text written from its graph equals the graph read from its RDLA.
#[test]
fn every_scene_round_trips_through_rdlb_split_pair_and_text() {
    let scenes = scenes();
    let total = scenes.len();
    let checked = scenes
        .into_iter()
        .filter(|(name, text)| round_trips(name, vec![src(name, text.clone())]))
        .count();
    assert_eq!(checked, total, "every scene of ../shared/scenes loads");
}

/// The same for every test of MoonRay's regression suite (the half in ../shared/rats), its
/// files read in the order its `tests.json` gives, assets absent.
#[test]
fn rats_tests_round_trip_too() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/rats");
    let json = std::fs::read_to_string(dir.join("tests.json")).unwrap();
    // Each test's "inputs" is a list of plain relative paths: no JSON parser needed for it.
    let tests: Vec<Vec<String>> = json
        .split("\"inputs\"")
        .skip(1)
        .map(|rest| {
            let list = &rest[rest.find('[').unwrap() + 1..rest.find(']').unwrap()];
            list.split('"')
                .skip(1)
                .step_by(2)
                .map(str::to_string)
                .collect()
        })
        .collect();
    let checked = tests
        .iter()
        .filter(|inputs| {
            let sources = inputs
                .iter()
                .map(|f| src(f, std::fs::read(dir.join(f)).unwrap()))
                .collect();
            round_trips(&inputs.join(" "), sources)
        })
        .count();
    println!("{checked} of {} RATS tests round-tripped", tests.len());
    assert!(tests.len() > 100);
    assert_eq!(checked, tests.len(), "every RATS test loads");
}

const MESH: &str = r#"
SceneVariables { ["image_width"] = 64, ["camera"] = PerspectiveCamera("cam") }
PerspectiveCamera("cam") { ["node_xform"] = translate(0, 0, 5) }
RdlMeshGeometry("mesh") {
    ["vertex_list"] = { Vec3(0, 0, 0), Vec3(1, 0, 0), Vec3(1, 1, 0), Vec3(0, 1, 0),
        Vec3(2, 0, 0), Vec3(2, 1, 0), Vec3(3, 0, 0), Vec3(3, 1, 0), Vec3(4, 0, 0),
        Vec3(4, 1, 0), Vec3(5, 0, 0), Vec3(5, 1, 0), Vec3(6, 0, 0), Vec3(0.1, 0.2, 0.3) },
    ["face_vertex_count"] = { 4 },
    ["vertices_by_index"] = { 0, 1, 2, 3 },
    ["part_list"] = { "a" },
}
DwaBaseMaterial("mat") { ["diffuse_color"] = Rgb(0.25, 0.5, 1) }
Layer("layer") { { RdlMeshGeometry("mesh"), "", DwaBaseMaterial("mat") } }
"#;

#[test]
fn a_split_pair_puts_only_vectors_of_more_than_12_elements_in_binary() {
    let g = load_all(vec![src("m.rdla", MESH.as_bytes().to_vec())]).unwrap();
    let text = write(&g, true);
    assert!(!text.contains("vertex_list"), "{text}");
    assert!(
        text.contains("[\"vertices_by_index\"] = {0, 1, 2, 3}"),
        "{text}"
    );
    let (records, _) = decode(&encode(&g, true).unwrap(), usize::MAX).unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].name, "mesh");
    let names: Vec<_> = records[0].attrs.iter().map(|(n, _)| n.as_str()).collect();
    // `vertex_list` is MoonRay's alias of `vertex_list_0`.
    assert_eq!(names, ["vertex_list_0"]);
}

#[test]
fn rdla_after_rdlb_reopens_its_objects_and_later_files_override() {
    let g = load_all(vec![src("m.rdla", MESH.as_bytes().to_vec())]).unwrap();
    let binary = encode(&g, false).unwrap();
    let edit = br#"RdlMeshGeometry("mesh") { ["part_list"] = { "b" } }
SceneVariables { ["image_width"] = 32 }"#;
    let out = load_all(vec![
        src("m.rdlb", binary.clone()),
        src("e.rdla", edit.to_vec()),
    ])
    .unwrap();
    assert_eq!(out.objects.len(), g.objects.len());
    let mesh = &out.objects[out.find("RdlMeshGeometry", "mesh").unwrap()];
    assert_eq!(
        mesh.attrs["part_list"],
        Value::List(vec![Value::String("b".into())])
    );
    assert_eq!(
        mesh.attrs["vertex_list_0"],
        g.objects[mesh_id(&g)].attrs["vertex_list_0"]
    );
    assert_eq!(out.scene_variables["image_width"], Value::Int(32));
    // And the other way round: the binary file, read last, wins.
    let out = load_all(vec![src("e.rdla", edit.to_vec()), src("m.rdlb", binary)]).unwrap();
    assert_eq!(out.scene_variables["image_width"], Value::Int(64));
}

#[test]
fn a_layer_row_from_rdlb_replaces_the_assignment_of_its_geometry_and_part() {
    let g = load_all(vec![src("m.rdla", MESH.as_bytes().to_vec())]).unwrap();
    let binary = encode(&g, false).unwrap();
    let before = br#"DwaBaseMaterial("other") {}
Layer("layer") { { RdlMeshGeometry("mesh"), "", DwaBaseMaterial("other") },
                 { RdlMeshGeometry("mesh"), "b", DwaBaseMaterial("other") } }"#;
    let out = load_all(vec![src("a.rdla", before.to_vec()), src("m.rdlb", binary)]).unwrap();
    let layer = &out.objects[out.find("Layer", "layer").unwrap()];
    let (mesh, mat, other) = (
        out.find("RdlMeshGeometry", "mesh").unwrap(),
        out.find("DwaBaseMaterial", "mat").unwrap(),
        out.find("DwaBaseMaterial", "other").unwrap(),
    );
    let row = |part: &str, m| {
        Value::List(vec![
            Value::Object(mesh),
            Value::String(part.into()),
            Value::Object(m),
        ])
    };
    assert_eq!(layer.members, vec![row("", mat), row("b", other)]);
}

fn mesh_id(g: &SceneGraph) -> usize {
    g.find("RdlMeshGeometry", "mesh").unwrap()
}

/// Bytes laid out by hand from scene_rdl2's writer, with the types a MoonRay-written file
/// has and Moonfarm's writer never uses: single-precision floats and vectors, a blurred
/// (two-sample) matrix, empty bindings for every attribute, a bound attribute, a Layer as
/// parallel vectors.
#[test]
fn reads_a_file_laid_out_as_scene_rdl2_writes_it() {
    struct C(Vec<u8>);
    impl C {
        fn new() -> Self {
            C(vec![0; 8])
        }
        fn v(&mut self, mut x: u64) -> &mut Self {
            while x > 0x7f {
                self.0.push((x as u8 & 0x7f) | 0x80);
                x >>= 7;
            }
            self.0.push(x as u8);
            self
        }
        fn s(&mut self, s: &str) -> &mut Self {
            self.v(s.len() as u64);
            self.0.extend(s.as_bytes());
            self
        }
        fn b(&mut self, b: &[u8]) -> &mut Self {
            self.0.extend(b);
            self
        }
        fn f(&mut self, xs: &[f32]) -> &mut Self {
            xs.iter().for_each(|x| self.0.extend(x.to_le_bytes()));
            self
        }
        /// Attribute header: wire type, not transient, name, timeMax.
        fn attr(&mut self, wire: u64, name: &str, time_max: u8) -> &mut Self {
            self.v(wire).b(&[0]).s(name).b(&[time_max])
        }
        fn obj(&mut self, class: &str, name: &str) -> &mut Self {
            self.v(class.len() as u64).v(name.len() as u64);
            self.0.extend(class.as_bytes());
            self.0.extend(name.as_bytes());
            self
        }
        fn done(mut self) -> Vec<u8> {
            let n = self.0.len() as u64;
            self.0[..8].copy_from_slice(&n.to_le_bytes());
            self.0
        }
    }
    let mut records = Vec::new();

    let mut mesh = C::new();
    mesh.s("RdlMeshGeometry").s("mesh");
    // VEC3F_VECTOR (22), one sample.
    mesh.attr(22, "vertex_list", 0)
        .b(&[0])
        .v(2)
        .f(&[1.0, 2.0, 3.0, 0.5, -1.0, 0.25]);
    // INT_VECTOR (4): zigzag varints 0, -1, 300.
    mesh.attr(4, "vertices_by_index", 0)
        .b(&[0])
        .v(3)
        .v(0)
        .v(1)
        .v(600);
    // MAT4F (29), blurred: timeMax 1, two samples; the first is kept.
    let ident: Vec<f32> = (0..16)
        .map(|i| if i % 5 == 0 { 1.0 } else { 0.0 })
        .collect();
    let mut moved = ident.clone();
    moved[12] = 7.0;
    mesh.attr(29, "node_xform", 1)
        .b(&[0])
        .f(&ident)
        .b(&[1])
        .f(&moved);
    // FLOAT (7), LONG (5), BOOL (1), STRING (11), SCENE_OBJECT (33) null.
    mesh.attr(7, "mesh_resolution", 0).b(&[0]).f(&[0.1]);
    mesh.attr(5, "big", 0).b(&[0]).v(((1u64 << 40) << 1) | 1);
    mesh.attr(1, "is_subd", 0).b(&[0]).b(&[1]);
    mesh.attr(11, "label", 0).b(&[0]).s("héllo");
    mesh.attr(33, "material", 0).b(&[0]).obj("", "");
    mesh.v(0);
    // Bindings: one empty (unbound), one bound to a map.
    mesh.b(&[1, 0]).s("label").s("").s("");
    mesh.b(&[1, 0]).s("mesh_resolution").s("ImageMap").s("tex");
    mesh.b(&[0]);
    records.push(mesh.done());

    let mut layer = C::new();
    layer.s("Layer").s("layer");
    layer
        .attr(35, "geometries", 0)
        .b(&[0])
        .v(1)
        .obj("RdlMeshGeometry", "mesh");
    layer.attr(12, "parts", 0).b(&[0]).v(1).s("");
    layer
        .attr(34, "surface_shaders", 0)
        .b(&[0])
        .v(1)
        .obj("DwaBaseMaterial", "mat");
    layer.attr(34, "lightsets", 0).b(&[0]).v(1).obj("", "");
    layer.v(0).b(&[0]);
    records.push(layer.done());

    let mut vars = C::new();
    vars.s("SceneVariables").s("__SceneVariables__");
    vars.attr(3, "image_width", 0).b(&[0]).v(256);
    vars.attr(13, "background", 0).b(&[0]).f(&[0.5, 0.25, 1.0]);
    vars.v(0).b(&[0]);
    records.push(vars.done());

    let mut manifest = C::new();
    manifest.v(records.len() as u64);
    for r in &records {
        manifest.v(2).v(r.len() as u64);
    }
    let manifest = manifest.done();
    let payload: Vec<u8> = records.concat();
    let mut file = Vec::new();
    file.extend((manifest.len() as u64).to_be_bytes());
    file.extend((payload.len() as u64).to_be_bytes());
    file.extend(&manifest);
    file.extend(&payload);

    let g = load_all(vec![src("moonray.rdlb", file)]).unwrap();
    let mesh = &g.objects[mesh_id(&g)];
    assert_eq!(
        mesh.attrs["vertex_list_0"],
        Value::List(vec![
            Value::Vec3([1.0, 2.0, 3.0]),
            Value::Vec3([0.5, -1.0, 0.25])
        ])
    );
    assert_eq!(
        mesh.attrs["vertices_by_index"],
        Value::List(vec![Value::Int(0), Value::Int(-1), Value::Int(300)])
    );
    let Value::Mat4(m) = mesh.attrs["node_xform"] else {
        panic!("{:?}", mesh.attrs["node_xform"])
    };
    assert_eq!(m[12], 0.0, "the first time sample is kept");
    let tex = g.find("ImageMap", "tex").unwrap();
    assert_eq!(
        mesh.attrs["mesh_resolution"],
        Value::Bind {
            target: Some(tex),
            value: Box::new(Value::Float(0.1f32 as f64))
        }
    );
    assert_eq!(mesh.attrs["big"], Value::Int(-(1 << 40) - 1));
    assert_eq!(mesh.attrs["is_subd"], Value::Bool(true));
    assert_eq!(mesh.attrs["label"], Value::String("héllo".into()));
    assert_eq!(mesh.attrs["material"], Value::Undef);
    let layer = &g.objects[g.find("Layer", "layer").unwrap()];
    let mat = g.find("DwaBaseMaterial", "mat").unwrap();
    assert_eq!(
        layer.members,
        vec![Value::List(vec![
            Value::Object(mesh_id(&g)),
            Value::String(String::new()),
            Value::Object(mat)
        ])]
    );
    assert_eq!(g.scene_variables["image_width"], Value::Int(128));
    assert_eq!(
        g.scene_variables["background"],
        Value::Rgb([0.5, 0.25, 1.0])
    );
}

fn valid_file() -> Vec<u8> {
    let g = load_all(vec![src("m.rdla", MESH.as_bytes().to_vec())]).unwrap();
    encode(&g, false).unwrap()
}

fn binary_error(bytes: Vec<u8>) -> RdlbError {
    match load(&[src("bad.rdlb", bytes)], &LoadOptions::default()) {
        Err(LoadError::Binary { error, file }) => {
            assert_eq!(file, "bad.rdlb");
            error
        }
        other => panic!("expected an RDLB error, got {other:?}"),
    }
}

/// (c): every prefix of a valid file is an error at an offset inside it, never a panic.
#[test]
fn every_truncation_is_an_error_with_its_offset() {
    let file = valid_file();
    for len in 1..file.len() {
        let e = binary_error(file[..len].to_vec());
        assert!(e.offset <= len, "prefix {len}: {e}");
        assert!(!e.to_string().contains('\n'));
    }
}

/// (c): flipping each byte of a valid file either still decodes or is an error; never a
/// panic, a hang or a huge allocation.
#[test]
fn corrupting_any_byte_never_panics() {
    let file = valid_file();
    for i in 0..file.len() {
        for x in [0x00u8, 0x01, 0x7f, 0x80, 0xff] {
            let mut bad = file.clone();
            bad[i] = x;
            let _ = load(&[src("bad.rdlb", bad)], &LoadOptions::default());
        }
    }
}

/// (c), fuzzed: thousands of seeded random mutations of a valid file (bytes replaced,
/// inserted, removed, runs duplicated, the tail cut) decode or fail cleanly, quickly.
#[test]
fn random_mutations_never_panic_or_hang() {
    let file = valid_file();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n.max(1) as u64) as usize
    };
    let start = std::time::Instant::now();
    for _ in 0..3000 {
        let mut bad = file.clone();
        for _ in 0..1 + next(4) {
            let at = next(bad.len());
            match next(5) {
                0 => bad[at] = next(256) as u8,
                1 => bad.insert(at, next(256) as u8),
                2 => {
                    bad.remove(at);
                }
                3 => {
                    let end = (at + next(32)).min(bad.len());
                    let run = bad[at..end].to_vec();
                    bad.splice(at..at, run);
                }
                _ => bad.truncate(at.max(1)),
            }
            if bad.is_empty() {
                bad.push(0);
            }
        }
        let _ = load(&[src("fuzz.rdlb", bad)], &LoadOptions::default());
    }
    assert!(start.elapsed() < std::time::Duration::from_secs(60));
}

fn frame(manifest: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend((manifest.len() as u64).to_be_bytes());
    f.extend((payload.len() as u64).to_be_bytes());
    f.extend(manifest);
    f.extend(payload);
    f
}

fn container(body: &[u8]) -> Vec<u8> {
    let mut c = ((body.len() + 8) as u64).to_le_bytes().to_vec();
    c.extend(body);
    c
}

/// One record whose body is `body`, in a well-formed frame.
fn one_record(body: &[u8]) -> Vec<u8> {
    let record = container(body);
    let mut m = vec![1, 2];
    let mut size = record.len() as u64;
    while size > 0x7f {
        m.push((size as u8 & 0x7f) | 0x80);
        size >>= 7;
    }
    m.push(size as u8);
    frame(&container(&m), &record)
}

#[test]
fn lying_sizes_unknown_types_and_absurd_counts_are_located() {
    // The header claims a manifest far longer than the file.
    let mut f = valid_file();
    f[..8].copy_from_slice(&u64::MAX.to_be_bytes());
    let e = binary_error(f);
    assert_eq!(e.offset, 0);
    assert!(e.message.contains("manifest"), "{e}");

    // The manifest's own size disagrees with the frame.
    let e = binary_error(frame(&[20, 0, 0, 0, 0, 0, 0, 0, 0], &[]));
    assert_eq!(e.offset, 16, "{e}");
    assert!(e.message.contains("says it is 20 bytes"), "{e}");

    // An unknown record type, and the retired one.
    let e = binary_error(frame(&container(&[1, 7, 0]), &[]));
    assert_eq!(e.offset, 25, "{e}");
    assert!(e.message.contains("unknown record type 7"), "{e}");
    let e = binary_error(frame(&container(&[1, 1, 0]), &[]));
    assert!(e.message.contains("record type 1"), "{e}");

    // A record size past the end of the payload.
    let e = binary_error(frame(&container(&[1, 2, 100]), &[0; 10]));
    assert!(e.message.contains("runs past the end"), "{e}");

    // A record count in the billions with no bytes behind it.
    let e = binary_error(frame(&container(&[0xff, 0xff, 0xff, 0xff, 0x0f]), &[]));
    assert!(e.message.contains("count"), "{e}");

    // An unknown attribute type inside a record.
    let mut body = vec![1, b'A', 1, b'a'];
    body.push(36);
    let e = binary_error(one_record(&body));
    assert!(e.message.contains("unknown attribute type 36"), "{e}");
    assert_eq!(e.offset, 16 + 11 + 8 + 4, "{e}");

    // A vector count of 2^60 elements: refused before anything is allocated.
    let mut body = vec![1, b'A', 1, b'a', 22, 0, 1, b'v', 0, 0];
    body.extend([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10]);
    let e = binary_error(one_record(&body));
    assert!(e.message.contains("count 1152921504606846976"), "{e}");

    // A string length past the end.
    let e = binary_error(one_record(&[0x7f, b'A']));
    assert!(e.message.contains("truncated"), "{e}");

    // A varint that never ends.
    let e = binary_error(one_record(&[0xff; 12]));
    assert!(e.message.contains("variable-length"), "{e}");

    // Attributes by index only mean something to the process that wrote them.
    let e = binary_error(one_record(&[1, b'A', 1, b'a', 3, 1, 2]));
    assert!(e.message.contains("transient"), "{e}");

    // A class name that is not an identifier (it would be code in RDLA written back).
    let e = binary_error(one_record(&[
        9, b'o', b's', b'.', b'e', b'x', b'i', b't', b'(', b')', 1, b'a',
    ]));
    assert!(
        e.message
            .contains("\"os.exit()\" is not a scene class name"),
        "{e}"
    );
    assert_eq!(e.offset, 16 + 11 + 8, "{e}");

    // Bytes after the payload.
    let mut f = valid_file();
    f.push(0);
    assert!(binary_error(f).message.contains("after the payload"));
}

/// (c): a file of one-byte booleans that would take gigabytes as values is refused at the
/// memory limit, not allocated.
#[test]
fn memory_stays_bounded_by_the_loader_limit() {
    let n = 1_000_000usize;
    let mut body = vec![1, b'A', 1, b'a', 2, 0, 1, b'v', 0, 0];
    let mut x = n as u64;
    while x > 0x7f {
        body.push((x as u8 & 0x7f) | 0x80);
        x >>= 7;
    }
    body.push(x as u8);
    body.extend(std::iter::repeat_n(1u8, n));
    body.extend([0, 0]);
    let file = one_record(&body);
    let opts = LoadOptions {
        memory_limit_bytes: 64 * 1024 * 1024,
        ..LoadOptions::default()
    };
    match load(&[src("big.rdlb", file.clone())], &opts) {
        Err(LoadError::Binary { error, .. }) => {
            assert!(error.message.contains("memory"), "{error}")
        }
        other => panic!("{other:?}"),
    }
    // Within a limit that fits it, the same file loads.
    let g = load(&[src("big.rdlb", file)], &LoadOptions::default()).unwrap();
    assert!(matches!(&g.objects[0].attrs["v"], Value::List(v) if v.len() == n));
}

/// The RDLB half of the `scene` fuzz target's seed corpus (fuzz/seeds/scene; the RDLA half is
/// the scene files themselves, which `scripts/fuzz` adds at run time): the example scene and a
/// real MoonRay scene, whole and split, as this version writes them. Each committed seed must
/// decode to the records this version writes; `MOONFARM_WRITE_FUZZ_SEEDS=1 cargo test -p
/// render --lib fuzz_seeds` rewrites them.
#[test]
fn fuzz_seeds_are_this_versions_rdlb() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = root.join("fuzz/seeds/scene");
    let write = std::env::var_os("MOONFARM_WRITE_FUZZ_SEEDS").is_some();
    for (name, scene) in [
        ("cornell-box", root.join("scenes/cornell-box.rdla")),
        (
            "openmoonray-box",
            root.join("../shared/scenes/openmoonray-box.rdla"),
        ),
    ] {
        let text = std::fs::read(&scene).unwrap();
        let graph = load_all(vec![src(&scene.display().to_string(), text)]).unwrap();
        for split in [false, true] {
            let bytes = encode(&graph, split).unwrap();
            let path = dir.join(format!("{name}{}.rdlb", if split { "-split" } else { "" }));
            if write {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, &bytes).unwrap();
            }
            let committed = std::fs::read(&path).unwrap_or_default();
            let records = |b: &[u8]| decode(b, usize::MAX).map(|(r, _)| r).ok();
            assert!(
                records(&committed).is_some() && records(&committed) == records(&bytes),
                "{} is not what this version writes: rewrite the seeds with \
                 `MOONFARM_WRITE_FUZZ_SEEDS=1 cargo test -p render --lib fuzz_seeds`",
                path.display()
            );
        }
    }
}
