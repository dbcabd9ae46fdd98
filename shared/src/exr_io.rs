//! OpenEXR encoding of partial buffers and images, and atomic file output.
//!
//! Every EXR Moonfarm writes has float32 channels `R G B A weight` (MoonRay's resumable-output
//! layout). A partial buffer's data window is its tile inside the full display window, so a
//! partial opens in any EXR viewer at the right place.

use crate::film::{Image, TileBuffer};
use crate::protocol::Rect;
use exr::prelude::*;
use std::io::{Cursor, Write};

// The exr prelude exports its own one-parameter `Result`; this module means the standard one.
type Result<T, E> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum ExrError {
    #[error("EXR encoding failed: {0}")]
    Encode(String),
    #[error("not a Moonfarm EXR: {0}")]
    Decode(String),
    #[error("cannot write {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Header attributes of a final image or snapshot.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImageInfo {
    /// Name/value attributes, e.g. `moonfarm:scene_files`, each of its own EXR type.
    pub attributes: Vec<(String, Attr)>,
}

impl ImageInfo {
    pub fn get(&self, name: &str) -> Option<&Attr> {
        self.attributes
            .iter()
            .find_map(|(k, v)| (k == name).then_some(v))
    }
}

/// A header attribute's value, as the EXR types it: `string`, `int`, `float` or `double`.
#[derive(Debug, Clone, PartialEq)]
pub enum Attr {
    Text(String),
    Int(i32),
    Float(f32),
    Double(f64),
}

impl From<&str> for Attr {
    fn from(v: &str) -> Attr {
        Attr::Text(v.to_string())
    }
}
impl From<String> for Attr {
    fn from(v: String) -> Attr {
        Attr::Text(v)
    }
}
impl From<i32> for Attr {
    fn from(v: i32) -> Attr {
        Attr::Int(v)
    }
}
impl From<f64> for Attr {
    fn from(v: f64) -> Attr {
        Attr::Double(v)
    }
}

impl Attr {
    fn to_exr(&self) -> AttributeValue {
        match self {
            Attr::Text(t) => AttributeValue::Text(Text::from(t.as_str())),
            Attr::Int(i) => AttributeValue::I32(*i),
            Attr::Float(f) => AttributeValue::F32(*f),
            Attr::Double(d) => AttributeValue::F64(*d),
        }
    }

    fn from_exr(v: &AttributeValue) -> Option<Attr> {
        Some(match v {
            AttributeValue::Text(t) => Attr::Text(t.to_string()),
            AttributeValue::I32(i) => Attr::Int(*i),
            AttributeValue::F32(f) => Attr::Float(*f),
            AttributeValue::F64(d) => Attr::Double(*d),
            _ => return None,
        })
    }
}

const CHANNELS: [&str; 5] = ["R", "G", "B", "A", "weight"];

/// An adaptive job's partials also carry the odd-numbered samples' sums over the weight.
const ODD_CHANNELS: [&str; 4] = ["odd.R", "odd.G", "odd.B", "odd.A"];

fn encode(
    full: (u32, u32),
    rect: Rect,
    (rgba, odd): (&[[f32; 4]], Option<&[[f32; 4]]>),
    weight: &[f32],
    info: &ImageInfo,
    compression: Compression,
) -> Result<Vec<u8>, ExrError> {
    let plane = |v: &[[f32; 4]], c: usize| FlatSamples::F32(v.iter().map(|p| p[c]).collect());
    let mut list: smallvec::SmallVec<[AnyChannel<FlatSamples>; 4]> = smallvec::smallvec![
        AnyChannel::new("R", plane(rgba, 0)),
        AnyChannel::new("G", plane(rgba, 1)),
        AnyChannel::new("B", plane(rgba, 2)),
        AnyChannel::new("A", plane(rgba, 3)),
        AnyChannel::new("weight", FlatSamples::F32(weight.to_vec())),
    ];
    if let Some(odd) = odd {
        for (c, name) in ODD_CHANNELS.iter().enumerate() {
            list.push(AnyChannel::new(*name, plane(odd, c)));
        }
    }
    let channels = AnyChannels::sort(list);
    let attrs = LayerAttributes {
        layer_position: Vec2(rect.x0 as i32, rect.y0 as i32),
        ..LayerAttributes::default()
    };
    let encoding = Encoding {
        compression,
        ..Encoding::default()
    };
    let layer = Layer::new(
        (rect.width() as usize, rect.height() as usize),
        attrs,
        encoding,
        channels,
    );
    let mut image = exr::image::Image::from_layer(layer);
    image.attributes.display_window =
        IntegerBounds::new((0, 0), (full.0 as usize, full.1 as usize));
    for (k, v) in &info.attributes {
        image
            .attributes
            .other
            .insert(Text::from(k.as_str()), v.to_exr());
    }
    let mut out = Cursor::new(Vec::new());
    image
        .write()
        .to_buffered(&mut out)
        .map_err(|e| ExrError::Encode(e.to_string()))?;
    Ok(out.into_inner())
}

pub use exr::compression::Compression;

/// How partial buffers are stored: uncompressed. Partials are short-lived (the merger deletes
/// them when the job ends) and noisy sample sums compress poorly: on a 64x64, 16-sample partial
/// of the example scene ZIP16 saves 40% of the bytes for 50x the encode time (1.7% of the
/// tile's render CPU) and about 5x the merger's decode time. `cargo run --release -p worker --example
/// partial_codec` measures it. Final images and snapshots, which people keep, use ZIP16.
pub const PARTIAL_COMPRESSION: Compression = Compression::Uncompressed;

/// Encodes one tile-pass partial buffer inside a `full`-sized display window.
pub fn encode_tile(full: (u32, u32), tile: &TileBuffer) -> Result<Vec<u8>, ExrError> {
    encode_tile_with(full, tile, PARTIAL_COMPRESSION)
}

/// As `encode_tile`, with a chosen compression (for comparing them).
pub fn encode_tile_with(
    full: (u32, u32),
    tile: &TileBuffer,
    compression: Compression,
) -> Result<Vec<u8>, ExrError> {
    encode(
        full,
        tile.rect,
        (&tile.rgba, tile.odd.as_deref()),
        &tile.weight,
        &ImageInfo::default(),
        compression,
    )
}

/// Encodes a full image (snapshot or final) with its header attributes.
pub fn encode_image(image: &Image, info: &ImageInfo) -> Result<Vec<u8>, ExrError> {
    let rect = Rect {
        x0: 0,
        y0: 0,
        x1: image.width,
        y1: image.height,
    };
    encode(
        (image.width, image.height),
        rect,
        (&image.rgba, None),
        &image.weight,
        info,
        Compression::ZIP16,
    )
}

/// A decoded Moonfarm EXR: its data window, pixels and text attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub display: (u32, u32),
    pub tile: TileBuffer,
    pub info: ImageInfo,
}

/// The largest tile side a file may declare (Moonfarm writes 64; OpenEXR writers use up to
/// a few hundred).
const MAX_TILE_SIDE: usize = 1 << 16;

/// Refuses, from the headers alone, a file whose pixels could not be in its bytes: the exr
/// reader allocates what a header's data window asks for before it reads any pixel, so 531
/// bytes claiming a huge window would abort the process (found by `scripts/fuzz partial`).
/// Each sample takes at least 2 bytes (half floats); deflate expands at most 1032:1, RLE 64:1;
/// Moonfarm writes only uncompressed and ZIP files, so other compressions are refused. The
/// pixel limit is not applied here: the caller holds the configured one. Tiles larger than
/// `MAX_TILE_SIDE` a side are refused too.
fn check_headers(bytes: &[u8]) -> Result<(), ExrError> {
    let bad = |m: String| ExrError::Decode(m);
    let meta = exr::meta::MetaData::read_from_buffered(Cursor::new(bytes), false)
        .map_err(|e| bad(e.to_string()))?;
    for header in meta.headers.iter() {
        // A tiled header's tile size is not bounded by its data window, and the reader
        // multiplies it by the bytes per pixel before reading a pixel (an overflow, found by
        // `scripts/fuzz partial`). Moonfarm writes tiles of 64x64.
        if let exr::meta::BlockDescription::Tiles(tiles) = header.blocks {
            let (w, h) = (tiles.tile_size.0, tiles.tile_size.1);
            let bytes = w
                .checked_mul(h)
                .and_then(|a| a.checked_mul(header.channels.bytes_per_pixel));
            if w > MAX_TILE_SIDE || h > MAX_TILE_SIDE || bytes.is_none() {
                return Err(bad(format!(
                    "tiles of {w}x{h} pixels: at most {MAX_TILE_SIDE} a side (the file is corrupt)"
                )));
            }
        }
        let expands: u64 = match header.compression {
            Compression::Uncompressed => 1,
            Compression::RLE => 64,
            Compression::ZIP1 | Compression::ZIP16 => 1100,
            other => {
                return Err(bad(format!(
                    "compression {other:?} is not one Moonfarm writes (uncompressed, RLE or ZIP)"
                )))
            }
        };
        let window = header.layer_size;
        let samples = (window.area() as u64).saturating_mul(header.channels.list.len() as u64);
        let room = (bytes.len() as u64).saturating_mul(expands) / 2;
        if samples > room {
            return Err(bad(format!(
                "the header asks for a {}x{} data window of {} channels, more than a file of {} \
                 bytes can hold: the file is corrupt or truncated",
                window.0,
                window.1,
                header.channels.list.len(),
                bytes.len()
            )));
        }
    }
    Ok(())
}

pub fn decode(bytes: &[u8]) -> Result<Decoded, ExrError> {
    let bad = |m: String| ExrError::Decode(m);
    check_headers(bytes)?;
    let image = read()
        .no_deep_data()
        .largest_resolution_level()
        .all_channels()
        .first_valid_layer()
        .all_attributes()
        .from_buffered(Cursor::new(bytes))
        .map_err(|e| bad(e.to_string()))?;
    let layer = &image.layer_data;
    let size = layer.size;
    let pos = layer.attributes.layer_position;
    if pos.0 < 0 || pos.1 < 0 {
        return Err(bad(format!("negative data window origin {pos:?}")));
    }
    let n = size.area();
    let find = |name: &str| -> Result<Vec<f32>, ExrError> {
        let ch = layer
            .channel_data
            .list
            .iter()
            .find(|c| c.name.to_string() == name)
            .ok_or_else(|| bad(format!("channel `{name}` is missing")))?;
        let v: Vec<f32> = ch.sample_data.values_as_f32().collect();
        if v.len() != n {
            return Err(bad(format!(
                "channel `{name}` has {} samples, expected {n}",
                v.len()
            )));
        }
        Ok(v)
    };
    let mut planes: Vec<Vec<f32>> = CHANNELS.iter().map(|c| find(c)).collect::<Result<_, _>>()?;
    // The weight plane is kept as read; the colour planes are interleaved once.
    let weight = planes.pop().expect("five channels");
    // An adaptive job's partial also has the odd-numbered samples' planes.
    let has_odd = layer
        .channel_data
        .list
        .iter()
        .any(|c| c.name.to_string() == ODD_CHANNELS[0]);
    let odd = if has_odd {
        let p: Vec<Vec<f32>> = ODD_CHANNELS
            .iter()
            .map(|c| find(c))
            .collect::<Result<_, _>>()?;
        Some(
            (0..n)
                .map(|i| [p[0][i], p[1][i], p[2][i], p[3][i]])
                .collect(),
        )
    } else {
        None
    };
    let rgba = (0..n)
        .map(|i| [planes[0][i], planes[1][i], planes[2][i], planes[3][i]])
        .collect();
    let rect = Rect {
        x0: pos.0 as u32,
        y0: pos.1 as u32,
        x1: pos.0 as u32 + size.0 as u32,
        y1: pos.1 as u32 + size.1 as u32,
    };
    let dw = image.attributes.display_window;
    let display = (dw.size.0 as u32, dw.size.1 as u32);
    // A single-part file has one header: the reader may file custom attributes under the
    // image or the layer, so both are read.
    let mut attributes: Vec<(String, Attr)> = image
        .attributes
        .other
        .iter()
        .chain(layer.attributes.other.iter())
        .filter_map(|(k, v)| Some((k.to_string(), Attr::from_exr(v)?)))
        .collect();
    attributes.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Decoded {
        display,
        tile: TileBuffer {
            rect,
            rgba,
            weight,
            odd,
        },
        info: ImageInfo { attributes },
    })
}

/// Decodes a full image (snapshot or final).
pub fn decode_image(bytes: &[u8]) -> Result<(Image, ImageInfo), ExrError> {
    let d = decode(bytes)?;
    let r = d.tile.rect;
    if (r.x0, r.y0) != (0, 0) || (r.x1, r.y1) != d.display {
        return Err(ExrError::Decode(format!(
            "data window {r:?} does not cover the display window {:?}",
            d.display
        )));
    }
    let image = Image {
        width: r.x1,
        height: r.y1,
        rgba: d.tile.rgba,
        weight: d.tile.weight,
    };
    Ok((image, d.info))
}

/// Writes a file so that it is either complete or absent: the bytes go to a temporary file in
/// the same folder, are flushed to disk, and the file is renamed into place.
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> Result<(), ExrError> {
    let io = |source| ExrError::Io {
        path: path.display().to_string(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".moonfarm-").suffix(".partial");
    // 0666 less the umask, as any file the user's programs create: the rename keeps the
    // temporary file's mode, which tempfile would otherwise make 0600.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(&dir).map_err(io)?;
    tmp.write_all(bytes).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_round_trip_with_their_position() {
        let rect = Rect {
            x0: 16,
            y0: 8,
            x1: 19,
            y1: 10,
        };
        let tile = TileBuffer {
            rect,
            rgba: (0..6).map(|i| [i as f32, 0.5, -1.0, 1.0]).collect(),
            weight: vec![4.0; 6],
            odd: None,
        };
        let d = decode(&encode_tile((32, 16), &tile).unwrap()).unwrap();
        assert_eq!(d.display, (32, 16));
        assert_eq!(d.tile, tile);
        let adaptive = TileBuffer {
            odd: Some((0..6).map(|i| [0.5, i as f32, 0.0, 0.25]).collect()),
            ..tile
        };
        let d = decode(&encode_tile((32, 16), &adaptive).unwrap()).unwrap();
        assert_eq!(d.tile, adaptive);
    }

    #[test]
    fn images_keep_their_attributes() {
        let image = Image {
            width: 2,
            height: 1,
            rgba: vec![[0.25; 4], [1.0; 4]],
            weight: vec![1.0, 2.0],
        };
        let info = ImageInfo {
            attributes: vec![
                ("moonfarm:frame".into(), Attr::Int(-3)),
                ("moonfarm:render_seconds".into(), Attr::Double(1.25)),
                ("moonfarm:scene_files".into(), "a.rdla".into()),
                ("moonfarm:spp".into(), Attr::Int(64)),
            ],
        };
        let (back, back_info) = decode_image(&encode_image(&image, &info).unwrap()).unwrap();
        assert_eq!(back, image);
        assert_eq!(back_info, info);
    }

    /// The seed corpus of the `partial` fuzz target (fuzz/seeds/partial): a partial as a worker
    /// uploads it, the same compressed, and a final image with typed attributes.
    #[test]
    fn fuzz_seeds_are_this_versions_files() {
        let tile = TileBuffer {
            rect: Rect {
                x0: 2,
                y0: 1,
                x1: 6,
                y1: 4,
            },
            rgba: (0..12).map(|i| [i as f32 * 0.25, 0.5, 2.0, 1.0]).collect(),
            weight: vec![4.0; 12],
            odd: None,
        };
        let image = Image {
            width: 3,
            height: 2,
            rgba: vec![[0.25, 0.5, 1.0, 1.0]; 6],
            weight: vec![16.0; 6],
        };
        let info = ImageInfo {
            attributes: vec![
                ("moonfarm:frame".into(), Attr::Int(7)),
                ("moonfarm:render_seconds".into(), Attr::Double(1.5)),
                ("moonfarm:scene_files".into(), "a.rdla".into()),
            ],
        };
        crate::check_fuzz_seeds(
            "partial",
            &[
                ("tile", encode_tile((8, 8), &tile).unwrap()),
                (
                    "tile-zip16",
                    encode_tile_with((8, 8), &tile, Compression::ZIP16).unwrap(),
                ),
                ("image", encode_image(&image, &info).unwrap()),
            ],
            |a, b| matches!((decode(a), decode(b)), (Ok(a), Ok(b)) if a == b),
        );
    }

    /// Every input the fuzzers ever crashed on (fuzz/regressions/partial) decodes to an error.
    #[test]
    fn fuzz_regressions_are_errors() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions/partial");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            assert!(decode(&bytes).is_err());
            assert!(decode_image(&bytes).is_err());
            seen += 1;
        }
        assert!(seen > 0, "no regression inputs in {}", dir.display());
    }

    #[test]
    fn garbage_is_a_decode_error() {
        assert!(matches!(decode(b"not an exr"), Err(ExrError::Decode(_))));
    }

    #[test]
    fn atomic_write_replaces_whole_files_and_leaves_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.exr");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
