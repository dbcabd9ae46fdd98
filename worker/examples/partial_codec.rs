//! What the partial buffers' EXR compression costs: renders one real tile-pass of a scene, then
//! encodes and decodes it with each candidate compression many times, and prints each one's
//! encode and decode CPU time and its size as ratios to ZIP16, the baseline measured in the
//! same run. The worker encodes every partial once; the merger decodes it once.
//!
//! cargo run --release -p worker --example partial_codec [SCENE.rdla] [SAMPLES] [TILE]

use render::integrator::{render_tile, PixelRect};
use render::rdla::SceneSource;
use render::scene::BuildOptions;
use shared::exr_io::{self, Compression};
use shared::film::TileBuffer;
use shared::protocol::Rect;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args
        .first()
        .map(String::as_str)
        .unwrap_or("scenes/cornell-box.rdla");
    let samples: u32 = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(16);
    let size: u32 = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(64);
    let text = std::fs::read(path).map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
    let (scene, _warnings) = render::prepare(
        &[SceneSource {
            name: path.into(),
            text,
        }],
        &[],
        &BuildOptions::default(),
    )?;
    let (x0, y0) = (
        (scene.width / 2).saturating_sub(size / 2),
        (scene.height / 2).saturating_sub(size / 2),
    );
    let rect = PixelRect {
        x0,
        y0,
        x1: (x0 + size).min(scene.width),
        y1: (y0 + size).min(scene.height),
    };
    // On one thread, so that its time is CPU time to set the codecs' against.
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    let started = Instant::now();
    let sums = one
        .install(|| render_tile(&scene, rect, 0..samples, 1, &AtomicBool::new(false)))
        .map_err(|_| anyhow::anyhow!("cancelled"))?;
    let render = started.elapsed().as_secs_f64();
    let tile = TileBuffer::from_sums(
        Rect {
            x0: rect.x0,
            y0: rect.y0,
            x1: rect.x1,
            y1: rect.y1,
        },
        &sums.sums,
        &sums.weight,
    );
    let full = (scene.width, scene.height);

    let candidates = [
        ("ZIP16", Compression::ZIP16),
        ("ZIP1", Compression::ZIP1),
        ("PIZ", Compression::PIZ),
        ("RLE", Compression::RLE),
        ("none", Compression::Uncompressed),
    ];
    let rounds = 200;
    println!(
        "{path}: one {}x{} tile of {samples} samples, rendered in {:.1} ms on one thread; each codec {rounds} times",
        rect.x1 - rect.x0,
        rect.y1 - rect.y0,
        render * 1e3
    );
    println!(
        "{:<6} {:>9} {:>11} {:>11} | ratio to ZIP16: {:>6} {:>7} {:>7} | encode / render",
        "codec", "bytes", "encode us", "decode us", "bytes", "encode", "decode"
    );
    let mut baseline = None;
    for (name, c) in candidates {
        let bytes = exr_io::encode_tile_with(full, &tile, c)?;
        let start = Instant::now();
        for _ in 0..rounds {
            std::hint::black_box(exr_io::encode_tile_with(full, &tile, c)?);
        }
        let enc = start.elapsed().as_secs_f64() / rounds as f64;
        let start = Instant::now();
        for _ in 0..rounds {
            let d = std::hint::black_box(exr_io::decode(&bytes)?);
            assert_eq!(d.tile, tile, "{name} must round-trip exactly");
        }
        let dec = start.elapsed().as_secs_f64() / rounds as f64;
        let (b0, e0, d0) = *baseline.get_or_insert((bytes.len() as f64, enc, dec));
        println!(
            "{name:<6} {:>9} {:>11.1} {:>11.1} | {:>21.3} {:>7.3} {:>7.3} | {:>14.4}",
            bytes.len(),
            enc * 1e6,
            dec * 1e6,
            bytes.len() as f64 / b0,
            enc / e0,
            dec / d0,
            enc / render
        );
    }
    Ok(())
}
