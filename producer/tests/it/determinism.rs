//! The image does not depend on how the work was cut: passes, tiles and workers.

use super::*;

fn render(dir: &Path, name: &str, extra: &[&str]) -> shared::film::Image {
    let scene = repo().join("scenes/cornell-box.rdla");
    let out = dir.join(name);
    let mut args = vec![
        "submit",
        scene.to_str().unwrap(),
        "--res",
        "8",
        "--spp",
        "16",
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = producer(&args, dir);
    assert!(o.status.success(), "{}", stderr(&o));
    read_image(&out)
}

#[test]
fn passes_tiles_and_workers_do_not_change_the_image() {
    let dir = tempfile::tempdir().unwrap();
    let one = render(
        dir.path(),
        "one.exr",
        &["--passes", "1", "--workers", "1", "--tile-size", "64"],
    );
    let passes = render(
        dir.path(),
        "passes.exr",
        &["--passes", "4", "--workers", "1", "--tile-size", "64"],
    );
    let workers = render(
        dir.path(),
        "workers.exr",
        &["--passes", "3", "--workers", "4", "--tile-size", "8"],
    );
    assert!(one.mean_rgb()[0] > 0.01, "not black");
    let d_passes = one.max_relative_difference(&passes);
    let d_workers = one.max_relative_difference(&workers);
    assert!(d_passes <= 1e-5, "passes [0,k)+[k,n) vs [0,n): {d_passes}");
    assert!(d_workers <= 1e-5, "1 worker vs 4 workers: {d_workers}");
    assert!(one.weight.iter().all(|&w| w == 16.0));
}
