//! The files a scene references (textures, geometry files, ...): found from the attributes
//! MoonRay flags `FLAGS_FILENAME` in its class list, with MoonRay's `<UDIM>` tile rule.
//!
//! Pure: the producer lists and reads the files, this module only says which names to look for.
//! The bytes come back to the scene builder as [`Assets`], keyed by the path as the scene wrote
//! it (for a UDIM pattern: the pattern with each tile number substituted), so that the scene
//! text is never rewritten and a worker renders "as if the files were where the scene said".

use crate::graph::{FileLoc, SceneGraph, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// File contents by the path as the scene wrote it.
pub type Assets = HashMap<String, Arc<[u8]>>;

/// MoonRay's UDIM marker (moonray `dso/map/Image/ImageMap.cc`, `lib/rendering/shading/UdimTexture.cc`).
pub const UDIM: &str = "<UDIM>";

/// One file-name attribute of one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRef {
    pub class: String,
    pub object: String,
    pub attribute: String,
    /// The value as written in the scene.
    pub path: String,
    pub loc: FileLoc,
}

impl FileRef {
    /// `scene.rdla:12: ImageMap `tex` attribute `texture``, for messages.
    pub fn describe(&self) -> String {
        format!(
            "{}: {} `{}` attribute `{}`",
            self.loc, self.class, self.object, self.attribute
        )
    }

    /// Whether the path is a UDIM pattern (one file per tile present).
    pub fn is_udim(&self) -> bool {
        self.path.contains(UDIM)
    }
}

/// Every non-empty value of a `FLAGS_FILENAME` attribute of every object, in declaration
/// order (objects, then attribute names). Values bound to maps use their constant.
pub fn references(g: &SceneGraph) -> Vec<FileRef> {
    let mut out = Vec::new();
    for o in &g.objects {
        let Some(class) = crate::classes::class_info(&o.class) else {
            continue;
        };
        for (name, value) in &o.attrs {
            let Some(attr) = class.attribute(name) else {
                continue;
            };
            if !attr.is_filename() {
                continue;
            }
            let mut v = value;
            while let Value::Bind { value, .. } = v {
                v = value;
            }
            if let Value::String(path) = v {
                if !path.is_empty() {
                    out.push(FileRef {
                        class: o.class.clone(),
                        object: o.name.clone(),
                        attribute: attr.name.clone(),
                        path: path.clone(),
                        loc: o.loc.clone(),
                    });
                }
            }
        }
    }
    out
}

/// The pattern with a tile number in place of its first `<UDIM>`.
pub fn udim_path(pattern: &str, tile: u32) -> String {
    pattern.replacen(UDIM, &tile.to_string(), 1)
}

/// The UDIM tiles present for `pattern`, given the names of the files in its folder (names
/// only, not paths). MoonRay's rule (moonray `lib/rendering/shading/UdimTexture.cc`,
/// `getUdimFilenames` and `calculateNumTextures`): glob everything that starts like the
/// pattern up to `<UDIM>`, read the four characters where `<UDIM>` stood as the tile number,
/// take tiles 1001 up to the largest one found, and open each as the pattern with its number
/// substituted. So a tile is present when that exact file exists; tiles are ascending.
pub fn udim_tiles<'a>(pattern: &str, names: impl IntoIterator<Item = &'a str>) -> Vec<u32> {
    let file_pattern = pattern.rsplit('/').next().unwrap_or(pattern);
    let Some(pos) = file_pattern.find(UDIM) else {
        return Vec::new();
    };
    let (prefix, suffix) = (&file_pattern[..pos], &file_pattern[pos + UDIM.len()..]);
    let mut tiles: Vec<u32> = names
        .into_iter()
        .filter_map(|n| {
            let rest = n.strip_prefix(prefix)?;
            let digits = rest.get(..4)?;
            if !digits.bytes().all(|b| b.is_ascii_digit()) || &rest[4..] != suffix {
                return None;
            }
            let tile: u32 = digits.parse().ok()?;
            (tile > 1000).then_some(tile)
        })
        .collect();
    tiles.sort_unstable();
    tiles.dedup();
    tiles
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rdla::{load, LoadOptions, SceneSource};

    #[test]
    fn finds_every_filename_attribute_and_only_those() {
        let text = br#"
local tex = ImageMap("tex") { ["texture"] = "tex/albedo.png", ["gamma"] = 2 }
ImageMap("empty") { ["texture"] = "" }
EnvLight("sky") { ["texture"] = "/abs/sky.exr" }
DwaBaseMaterial("m") { ["albedo"] = bind(tex) }
UsdGeometry("usd") { ["stage"] = "geo/<UDIM>.usd" }
"#;
        let g = load(
            &[SceneSource {
                name: "s.rdla".into(),
                text: text.to_vec(),
            }],
            &LoadOptions::default(),
        )
        .unwrap();
        let refs = references(&g);
        let got: Vec<_> = refs
            .iter()
            .map(|r| {
                (
                    r.class.as_str(),
                    r.object.as_str(),
                    r.attribute.as_str(),
                    r.path.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("ImageMap", "tex", "texture", "tex/albedo.png"),
                ("EnvLight", "sky", "texture", "/abs/sky.exr"),
                ("UsdGeometry", "usd", "stage", "geo/<UDIM>.usd"),
            ]
        );
        assert_eq!(
            refs[0].describe(),
            "s.rdla:2: ImageMap `tex` attribute `texture`"
        );
        assert!(refs[2].is_udim() && !refs[0].is_udim());
    }

    #[test]
    fn udim_tiles_follow_moonrays_glob_rule() {
        let names = [
            "col.1001.png",
            "col.1003.png",
            "col.1002.exr", // other suffix: not this pattern's file
            "col.100x.png", // not a number
            "col.0999.png", // below the first tile
            "col.1010.png.bak",
            "other.1002.png",
            "col.1012.png",
        ];
        assert_eq!(udim_tiles("tex/col.<UDIM>.png", names), [1001, 1003, 1012]);
        assert_eq!(udim_path("tex/col.<UDIM>.png", 1003), "tex/col.1003.png");
        assert!(udim_tiles("tex/col.png", names).is_empty());
    }
}
