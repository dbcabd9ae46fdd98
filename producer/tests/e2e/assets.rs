//! Referenced files on the farm: a texture beside the scene reaches workers that run in
//! another directory with no shared disk, is listed once in the manifest, and is uploaded once.

use super::*;
use shared::protocol::{keys, JobId, JobManifest, Record};

/// A furnace scene (256x256, rendered at --res 16) whose sphere's albedo is an 8-bit texture in
/// `tex/` beside it, named relative to the scene's folder.
const SCENE: &str = r#"SceneVariables { ["image_width"] = 256, ["image_height"] = 256 }
Camera("cam") { ["node_xform"] = translate(0, 0, 5), ["focal"] = 30 }
local ball = SphereGeometry("ball") { ["radius"] = 1.5 }
local tex = ImageMap("tex") { ["texture"] = "tex/col.png" }
local m = DwaBaseMaterial("m") { ["albedo"] = bind(tex), ["specular"] = 0 }
local env = EnvLight("env") { ["color"] = Rgb(1, 1, 1) }
Layer("layer") { { ball, "", m, LightSet("lights") { env } } }
"#;

fn png(rgb: [u8; 3]) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(8, 8, image::Rgb(rgb));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// `producer submit --json` run in `cwd`: its JSON summary.
fn submit_in(farm: &Farm, cwd: &Path, render: &Render) -> Value {
    let mut args = vec!["submit".to_string()];
    args.extend(render.args());
    args.push("--json".into());
    let o = farm
        .command(Path::new(env!("CARGO_BIN_EXE_producer")))
        .current_dir(cwd)
        .args(&args)
        .output()
        .expect("the producer binary runs");
    assert!(o.status.success(), "submit failed: {}", text(&o.stderr));
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("submit --json printed no JSON ({e}): {}", text(&o.stdout)))
}

/// A worker started in `dir` (and with its temp dir there, so its asset cache is its own).
fn worker_in(farm: &mut Farm, dir: &Path) -> Proc {
    farm.next_id += 1;
    let name = format!("worker-{}", farm.next_id);
    let log = farm.path().join(format!("{name}.log"));
    let mut cmd = farm.command(&binary("worker"));
    let port = free_port();
    cmd.current_dir(dir)
        .env("TMPDIR", dir)
        .env("MOONFARM_THREADS", "1")
        .env("MOONFARM_HTTP_PORT", port.to_string());
    let mut p = Proc {
        inner: testkit::process::Proc::spawn(name, cmd, log),
        port,
    };
    p.wait_ready();
    p
}

#[test]
fn a_texture_beside_the_scene_renders_on_workers_elsewhere_and_uploads_once() {
    let _serial = serial();
    let mut farm = Farm::new("assets");
    let scene_dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(scene_dir.path().join("tex")).unwrap();
    // A colour no default gives: texels (200, 100, 255), linear (0.586, 0.128, 1.0).
    let texture = png([200, 100, 255]);
    std::fs::write(scene_dir.path().join("tex/col.png"), &texture).unwrap();
    std::fs::write(scene_dir.path().join("scene.rdla"), SCENE).unwrap();
    let render = Render {
        scene: scene_dir.path().join("scene.rdla"),
        spp: 64,
        passes: 2,
        ..Render::tiny()
    };
    // Embedded, in the scene's folder: the texture is read in place.
    let reference = embedded(&render, scene_dir.path());

    let first = submit_in(&farm, scene_dir.path(), &render);
    assert_eq!(first["assets"], 1, "{first}");
    assert_eq!(first["assets_uploaded"], 1, "{first}");
    assert_eq!(
        first["asset_bytes_uploaded"].as_u64(),
        Some(texture.len() as u64),
        "{first}"
    );
    let job = first["job"].as_str().unwrap().to_string();
    let manifest = rt().block_on(async {
        farm.blobs()
            .get(&keys::manifest(&JobId::parse(&job).unwrap()))
            .await
            .unwrap()
    });
    let manifest = JobManifest::from_bytes(&manifest).unwrap();
    let sha = shared::blob::sha256_hex(&texture);
    assert_eq!(
        manifest.params.assets.len(),
        1,
        "{:?}",
        manifest.params.assets
    );
    let a = &manifest.params.assets[0];
    assert_eq!(
        (a.name.as_str(), a.sha256.as_str(), a.size),
        ("tex/col.png", sha.as_str(), texture.len() as u64)
    );

    // Workers in empty folders of their own: no scene, no texture, no shared disk.
    let worker_dirs: Vec<tempfile::TempDir> =
        (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let merger = farm.merger();
    let workers: Vec<Proc> = worker_dirs
        .iter()
        .map(|d| worker_in(&mut farm, d.path()))
        .collect();
    let procs: Vec<&Proc> = workers.iter().chain([&merger]).collect();
    let image = farm.wait_done_and_fetch(&job, &render, &procs);
    assert_same_image(&image, &reference, render.spp);
    // The sphere shows the texture's linear colour (white furnace: radiance = albedo).
    let (w, c) = (image.width as usize, image.width as usize / 2);
    let centre: Vec<f32> = (0..3)
        .map(|ch| {
            let mut s = 0.0;
            for y in c - 2..c + 2 {
                for x in c - 2..c + 2 {
                    s += image.rgba[y * w + x][ch];
                }
            }
            s / 16.0
        })
        .collect();
    let want = [200.0f32, 100.0, 255.0].map(|v| (v / 255.0).powf(2.2));
    for ch in 0..3 {
        assert!(
            (centre[ch] - want[ch]).abs() < 0.05,
            "centre {centre:?}, want {want:?}\n{}",
            logs(&procs)
        );
    }

    // A second job with the same texture uploads no asset bytes, and renders the same.
    let second = submit_in(&farm, scene_dir.path(), &render);
    assert_eq!(second["assets"], 1, "{second}");
    assert_eq!(second["assets_uploaded"], 0, "{second}");
    assert_eq!(second["asset_bytes_uploaded"], 0, "{second}");
    let job2 = second["job"].as_str().unwrap().to_string();
    let image2 = farm.wait_done_and_fetch(&job2, &render, &procs);
    assert_same_image(&image2, &reference, render.spp);
    farm.cleanup();
}
