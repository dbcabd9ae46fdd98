//! A split scene (RDLA + RDLB, made by `producer convert`) renders on the farm exactly as its
//! all-RDLA original renders embedded: the workers read the binary half and the grid's texture
//! from the blob store.

use super::*;

#[test]
fn a_split_scene_renders_on_the_farm_like_its_rdla_original_embedded() {
    let _serial = serial();
    let mut farm = Farm::new("rdlb");
    let render = Render::tiny();
    let cornell = cornell();
    let grid = repo().join("producer/tests/it/fixtures/cornell-grid.rdla");
    let settings: Vec<String> = render.args()[1..].to_vec();
    // The grid's texture, beside the producer only: the workers get it from the blob store.
    image::RgbImage::from_fn(4, 4, |x, y| {
        image::Rgb(if (x + y) % 2 == 1 {
            [40, 60, 230]
        } else {
            [230, 150, 50]
        })
    })
    .save(farm.path().join("grid-checker.png"))
    .unwrap();

    let reference = farm.path().join("reference.exr");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_producer"));
    cmd.arg("submit")
        .args([&cornell, &grid])
        .args(&settings)
        .arg("-o")
        .arg(&reference)
        .current_dir(farm.path());
    for (k, _) in std::env::vars() {
        if k.starts_with("MOONFARM_") {
            cmd.env_remove(k);
        }
    }
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "embedded: {}", text(&o.stderr));
    let reference = read_image(&reference);

    let split = farm.path().join("split");
    let o = farm.producer(&[
        "convert",
        cornell.to_str().unwrap(),
        grid.to_str().unwrap(),
        split.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "convert: {}", text(&o.stderr));
    let (rdla, rdlb) = (
        farm.path().join("split.rdla"),
        farm.path().join("split.rdlb"),
    );
    let mut args = vec![
        "submit".to_string(),
        rdla.display().to_string(),
        rdlb.display().to_string(),
    ];
    args.extend(settings);
    args.push("--json".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = farm.producer(&args);
    assert!(o.status.success(), "submit: {}", text(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let job = v["job"].as_str().expect("a job id").to_string();

    let merger = farm.merger();
    let workers: Vec<Proc> = (0..2).map(|_| farm.worker()).collect();
    let procs: Vec<&Proc> = workers.iter().chain([&merger]).collect();
    let image = farm.wait_done_and_fetch(&job, &render, &procs);
    assert_same_image(&image, &reference, render.spp);
    farm.cleanup();
}
