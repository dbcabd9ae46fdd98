//! Renders scene files with the built-in renderer to sRGB PNG previews for a person to look
//! at (scripts/preview-scenes runs it over ../shared/scenes). Not part of the farm: the render
//! crate itself does no I/O; this example reads the scenes and writes the PNGs.

use render::integrator::{render_tile, PixelRect};
use render::rdla::SceneSource;
use render::scene::BuildOptions;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

fn main() {
    let mut spp = 4u32;
    let mut res = 1.0f64;
    let mut out = PathBuf::from("target/preview");
    let mut scenes = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |flag: &str| {
            args.next().unwrap_or_else(|| {
                eprintln!("preview: {flag} needs a value");
                std::process::exit(2)
            })
        };
        match a.as_str() {
            "--spp" => spp = value("--spp").parse().unwrap_or(4),
            "--res" => res = value("--res").parse().unwrap_or(1.0),
            "--out" => out = PathBuf::from(value("--out")),
            _ => scenes.push(PathBuf::from(a)),
        }
    }
    if scenes.is_empty() {
        eprintln!("usage: preview [--spp N] [--res DIVISOR] [--out DIR] SCENE.rdla...");
        std::process::exit(2);
    }
    if let Err(e) = std::fs::create_dir_all(&out) {
        eprintln!("preview: cannot create {}: {e}", out.display());
        std::process::exit(1);
    }
    let env: Vec<(String, String)> = ["RATS_ASSETS_DIR"]
        .iter()
        .map(|k| (k.to_string(), std::env::var(k).unwrap_or_default()))
        .collect();
    let mut failed = false;
    for path in &scenes {
        match preview(path, &env, spp, res, &out) {
            Ok((png, warnings)) => {
                println!("{} -> {}", path.display(), png.display());
                for w in warnings {
                    println!("  warning: {w}");
                }
            }
            Err(e) => {
                eprintln!("{}: {e}", path.display());
                failed = true;
            }
        }
    }
    if failed {
        std::process::exit(1);
    }
}

fn preview(
    path: &Path,
    env: &[(String, String)],
    spp: u32,
    res: f64,
    out: &Path,
) -> Result<(PathBuf, Vec<String>), String> {
    let text = std::fs::read(path).map_err(|e| e.to_string())?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let src = SceneSource {
        name: name.to_string(),
        text,
    };
    let (scene, warnings) =
        render::prepare(&[src], env, &BuildOptions { res }).map_err(|e| e.to_string())?;
    let rect = PixelRect {
        x0: 0,
        y0: 0,
        x1: scene.width,
        y1: scene.height,
    };
    let tile = render_tile(&scene, rect, 0..spp, scene.frame, &AtomicBool::new(false))
        .map_err(|e| e.to_string())?;
    let mut rgb = Vec::with_capacity(tile.sums.len() * 3);
    for (s, w) in tile.sums.iter().zip(&tile.weight) {
        for c in &s[..3] {
            rgb.push(srgb8(*c / f64::from(w.max(1.0))));
        }
    }
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    let png = out.join(format!("{stem}.png"));
    std::fs::write(&png, encode_png(scene.width, scene.height, &rgb)).map_err(|e| e.to_string())?;
    Ok((png, warnings))
}

/// Linear radiance to an 8-bit sRGB value (the sRGB transfer function, clipped at 1).
fn srgb8(x: f64) -> u8 {
    let x = x.clamp(0.0, 1.0);
    let v = if x <= 0.003_130_8 {
        12.92 * x
    } else {
        1.055 * x.powf(1.0 / 2.4) - 0.055
    };
    (v * 255.0 + 0.5) as u8
}

/// An 8-bit RGB PNG with stored (uncompressed) deflate blocks: the PNG and zlib formats need
/// nothing more, and a preview needs no compression.
fn encode_png(width: u32, height: u32, rgb: &[u8]) -> Vec<u8> {
    let mut raw = Vec::with_capacity(rgb.len() + height as usize);
    for row in rgb.chunks(width as usize * 3) {
        raw.push(0); // filter type: none
        raw.extend_from_slice(row);
    }
    let mut z = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65535).collect();
    for (i, b) in blocks.iter().enumerate() {
        z.push(u8::from(i + 1 == blocks.len()));
        let n = b.len() as u16;
        z.extend_from_slice(&n.to_le_bytes());
        z.extend_from_slice(&(!n).to_le_bytes());
        z.extend_from_slice(b);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &x in &raw {
        a = (a + u32::from(x)) % 65521;
        b = (b + a) % 65521;
    }
    z.extend_from_slice(&((b << 16) | a).to_be_bytes());
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [(b"IHDR", &ihdr), (b"IDAT", &z), (b"IEND", &Vec::new())] {
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = png.len();
        png.extend_from_slice(kind);
        png.extend_from_slice(data);
        let crc = crc32(&png[start..]);
        png.extend_from_slice(&crc.to_be_bytes());
    }
    png
}

fn crc32(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &x in data {
        c ^= u32::from(x);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    !c
}
