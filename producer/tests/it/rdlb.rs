//! RDLB and split scenes through the real `producer` binary: `convert` makes them, `submit`
//! renders them like their RDLA originals, malformed binary files are one located error.

use super::*;

/// A 25-vertex grid with uvs added to the Cornell box (every vector longer than 12).
pub fn grid_scene() -> PathBuf {
    repo().join("producer/tests/it/fixtures/cornell-grid.rdla")
}

/// Writes the grid's texture (`grid-checker.png`, 4x4 texels of gold and blue, or one colour)
/// into `dir`, where the scene's relative path finds it.
pub fn write_grid_texture(dir: &Path, checker: bool) {
    let img = image::RgbImage::from_fn(4, 4, |x, y| {
        if checker && (x + y) % 2 == 1 {
            image::Rgb([40, 60, 230])
        } else {
            image::Rgb([230, 150, 50])
        }
    });
    img.save(dir.join("grid-checker.png")).unwrap();
}

fn submit(dir: &Path, scenes: &[&Path], out: &str) -> (Output, Option<shared::film::Image>) {
    let out = dir.join(out);
    let mut args = vec!["submit"];
    args.extend(scenes.iter().map(|p| p.to_str().unwrap()));
    args.extend(["--res", "8", "--spp", "8", "-o", out.to_str().unwrap()]);
    let o = producer(&args, dir);
    let image = o.status.success().then(|| read_image(&out));
    (o, image)
}

/// (b) and (d) of the issue: `producer convert` makes a split pair; `submit s.rdla s.rdlb`
/// renders it, with no Lua syntax error, identically to the RDLA original; so does the
/// whole scene as one binary file named `.rdl`.
#[test]
fn a_split_scene_made_by_convert_renders_like_its_rdla_original() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cornell = repo().join("scenes/cornell-box.rdla");
    let grid = grid_scene();
    write_grid_texture(d, true);
    let split = d.join("s");
    let o = producer(
        &[
            "convert",
            cornell.to_str().unwrap(),
            grid.to_str().unwrap(),
            split.to_str().unwrap(),
        ],
        d,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let (text, binary) = (d.join("s.rdla"), d.join("s.rdlb"));
    let text_src = std::fs::read_to_string(&text).unwrap();
    let binary_bytes = std::fs::read(&binary).unwrap();
    // The grid's vectors went to the binary file, the walls' four vertices stayed in text.
    assert!(!text_src.contains("uv_list") && !text_src.contains("vertices_by_index\"] = {0, 5"));
    assert!(text_src.contains("[\"vertex_list_0\"] = {Vec3(-1.0, 0.0, 1.0)"));
    let find = |needle: &[u8]| binary_bytes.windows(needle.len()).any(|w| w == needle);
    assert!(find(b"uv_list") && find(b"/cornell/grid") && !find(b"/cornell/floor"));

    let (o, original) = submit(d, &[&cornell, &grid], "original.exr");
    let original = original.unwrap_or_else(|| panic!("{}", stderr(&o)));
    let (o, from_split) = submit(d, &[&text, &binary], "split.exr");
    assert!(!stderr(&o).contains("syntax error"), "{}", stderr(&o));
    let from_split = from_split.unwrap_or_else(|| panic!("{}", stderr(&o)));
    assert!(original.mean_rgb()[0] > 0.01, "not black");
    assert_eq!(original.max_relative_difference(&from_split), 0.0);

    // Without the binary half the grid has no geometry: the images differ, so the comparison
    // above did see the grid.
    let (_, text_only) = submit(d, &[&text], "text-only.exr");
    if let Some(text_only) = text_only {
        assert!(original.max_relative_difference(&text_only) > 0.0);
    }

    let whole = d.join("scene.rdl");
    let o = producer(
        &[
            "convert",
            text.to_str().unwrap(),
            binary.to_str().unwrap(),
            d.join("whole.rdlb").to_str().unwrap(),
        ],
        d,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::rename(d.join("whole.rdlb"), &whole).unwrap();
    let (o, from_rdl) = submit(d, &[&whole], "rdl.exr");
    let from_rdl = from_rdl.unwrap_or_else(|| panic!("{}", stderr(&o)));
    assert_eq!(original.max_relative_difference(&from_rdl), 0.0);

    // The texture is in the picture: another texture gives another image.
    write_grid_texture(d, false);
    let (o, plain) = submit(d, &[&text, &binary], "plain.exr");
    let plain = plain.unwrap_or_else(|| panic!("{}", stderr(&o)));
    assert!(original.max_relative_difference(&plain) > 1e-3);
    write_grid_texture(d, true);

    // And back from binary to one RDLA file.
    let back = d.join("back.rdla");
    let o = producer(
        &["convert", whole.to_str().unwrap(), back.to_str().unwrap()],
        d,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let (o, from_back) = submit(d, &[&back], "back.exr");
    let from_back = from_back.unwrap_or_else(|| panic!("{}", stderr(&o)));
    assert_eq!(original.max_relative_difference(&from_back), 0.0);
}

#[test]
fn convert_refuses_an_unknown_extension_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cornell = repo().join("scenes/cornell-box.rdla");
    let o = producer(
        &["convert", cornell.to_str().unwrap(), "out.rdl"],
        dir.path(),
    );
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("unknown extension .rdl") && err.trim().lines().count() == 1,
        "{err}"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

fn varint(mut x: u64, out: &mut Vec<u8>) {
    while x > 0x7f {
        out.push((x as u8 & 0x7f) | 0x80);
        x >>= 7;
    }
    out.push(x as u8);
}

fn container(body: &[u8]) -> Vec<u8> {
    let mut c = ((body.len() + 8) as u64).to_le_bytes().to_vec();
    c.extend(body);
    c
}

fn frame(manifest: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut f = (manifest.len() as u64).to_be_bytes().to_vec();
    f.extend((payload.len() as u64).to_be_bytes());
    f.extend(manifest);
    f.extend(payload);
    f
}

/// A file of one record with this body.
fn one_record(body: &[u8]) -> Vec<u8> {
    let record = container(body);
    let mut m = vec![1, 2];
    varint(record.len() as u64, &mut m);
    frame(&container(&m), &record)
}

/// A record `A("a")` holding one bool vector of `n` elements, which as graph values would
/// take `n` times the size of a value.
fn bool_bomb(n: usize) -> Vec<u8> {
    let mut body = vec![1, b'A', 1, b'a', 2, 0, 1, b'v', 0, 0];
    varint(n as u64, &mut body);
    body.extend(std::iter::repeat_n(1u8, n));
    body.extend([0, 0]);
    one_record(&body)
}

/// (c): a corpus of malformed RDLB files through the real binary: each refused with one line
/// naming the file and a byte offset, a non-zero exit and no output, in bounded memory.
#[test]
fn malformed_rdlb_files_are_one_located_error_each() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cornell = repo().join("scenes/cornell-box.rdla");
    let o = producer(&["convert", cornell.to_str().unwrap(), "good.rdlb"], d);
    assert!(o.status.success(), "{}", stderr(&o));
    let good = std::fs::read(d.join("good.rdlb")).unwrap();
    let mut lying_payload = good.clone();
    lying_payload[8..16].copy_from_slice(&(1u64 << 40).to_be_bytes());
    let mut lying_manifest = good.clone();
    lying_manifest[..8].copy_from_slice(&u64::MAX.to_be_bytes());
    let corpus: Vec<(&str, Vec<u8>, &str)> = vec![
        ("truncated-header", good[..11].to_vec(), "byte 8: truncated"),
        (
            "truncated-half",
            good[..good.len() / 2].to_vec(),
            "is said to be",
        ),
        (
            "truncated-last-byte",
            good[..good.len() - 1].to_vec(),
            "is said to be",
        ),
        (
            "payload-size-lies",
            lying_payload,
            "byte 8: the payload is said to be 1099511627776 bytes",
        ),
        (
            "manifest-size-lies",
            lying_manifest,
            "byte 0: the manifest is said to be",
        ),
        (
            "record-size-lies",
            {
                let m = container(&[1, 2, 100]);
                frame(&m, &[0; 20])
            },
            "byte 26: record size 100 runs past the end",
        ),
        (
            "unknown-record-type",
            frame(&container(&[1, 9, 0]), &[]),
            "byte 25: unknown record type 9",
        ),
        (
            "unknown-attribute-type",
            one_record(&[1, b'A', 1, b'a', 40]),
            "byte 39: unknown attribute type 40",
        ),
        (
            "count-past-the-end",
            one_record(&[1, b'A', 1, b'a', 22, 0, 1, b'v', 0, 0, 100, 1, 2, 3]),
            "byte 45: a vector's element count: count 100 needs at least 1200 bytes",
        ),
        (
            "absurd-count",
            {
                let mut body = vec![1, b'A', 1, b'a', 22, 0, 1, b'v', 0, 0];
                varint(1 << 61, &mut body);
                one_record(&body)
            },
            "count 2305843009213693952",
        ),
        (
            "absurd-string",
            one_record(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]),
            "byte 35: truncated: the class name is said to be 9223372036854775807 bytes",
        ),
        (
            "bool-bomb",
            bool_bomb(10_000_000),
            "more memory than the loader's limit",
        ),
    ];
    for (name, bytes, expected) in corpus {
        let file = d.join(format!("{name}.rdlb"));
        std::fs::write(&file, bytes).unwrap();
        let out = d.join(format!("{name}.exr"));
        // Python reports the child's peak resident memory (getrusage of its one child).
        let o = Command::new("python3")
            .args([
                "-c",
                "import resource, subprocess, sys\n\
                 r = subprocess.run(sys.argv[1:])\n\
                 print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n\
                 sys.exit(r.returncode)",
                env!("CARGO_BIN_EXE_producer"),
                "submit",
                file.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
            ])
            .current_dir(d)
            .env_remove("MOONFARM_AMQP_URL")
            .output()
            .unwrap();
        let err = stderr(&o);
        let lines: Vec<&str> = err.trim().lines().collect();
        assert!(!o.status.success(), "{name}: exit 0");
        assert_eq!(lines.len(), 2, "{name}: one error line expected:\n{err}");
        let line = lines[0];
        assert!(
            line.starts_with(&format!("error: {}: byte ", file.display())),
            "{name}: {line}"
        );
        assert!(
            line.contains(expected),
            "{name}: expected {expected:?} in {line}"
        );
        assert!(!out.exists(), "{name}: an output was written");
        let peak_kib: u64 = lines[1].parse().unwrap();
        assert!(peak_kib < 256 * 1024, "{name}: peak memory {peak_kib} KiB");
    }
}
