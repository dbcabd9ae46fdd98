//! MoonRay's scene classes and their attributes (names, types, defaults, aliases, enum values),
//! from `render/data/classes.json`, which `scripts/moonray_classes.py` writes from MoonRay's
//! own sources (scene_rdl2, moonray, moonshine, moonshine_usd) and which names the repository,
//! commit and file of every class and inherited attribute.
//!
//! The loader asks it which globals are constructors and which attribute names are real; the
//! scene builder can ask it for MoonRay's default of any attribute ([`default`]).

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::graph::Value;

const DATA: &str = include_str!("../data/classes.json");

/// How a class comes to exist in MoonRay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Built into scene_rdl2 (SceneVariables, Layer, the sets, Metadata, RenderOutput, ...).
    BuiltIn,
    /// A plug-in (DSO) of moonray, moonshine or moonshine_usd, or one they once shipped.
    Dso,
    /// Listed by MoonRay's documentation, source not public: its attributes are not known.
    Documented,
    /// An abstract base (Node, Geometry, Light, Material, Map...): not a constructor.
    Base,
}

/// One attribute as MoonRay declares it.
#[derive(Debug, Clone)]
pub struct Attribute {
    pub name: String,
    /// scene_rdl2's type name: `Bool Int Long Float Double String Rgb Rgba Vec2f Vec3f Vec4f
    /// Mat4d SceneObject*`, or a `...Vector` of one of them.
    pub ty: String,
    /// MoonRay's default as a graph value; `None` when the source gives it as an expression
    /// this data does not evaluate (see `default_cpp` in the data file).
    pub default: Option<Value>,
    /// Other names MoonRay accepts for it (legacy spaced names and renamed attributes).
    pub aliases: Vec<String>,
    /// Labels of an enumerable Int attribute and their values.
    pub enum_values: Vec<(String, i64)>,
    /// scene_rdl2's attribute flags other than `FLAGS_NONE` (`FLAGS_BINDABLE`,
    /// `FLAGS_BLURRABLE`, `FLAGS_ENUMERABLE`, `FLAGS_FILENAME`, ...).
    pub flags: Vec<String>,
    /// repository@commit:file it was declared in.
    pub from: String,
}

impl Attribute {
    /// Whether the value names a file (a texture, a USD stage, a VDB...), as MoonRay flags it.
    pub fn is_filename(&self) -> bool {
        self.flags.iter().any(|f| f == "FLAGS_FILENAME")
    }
}

/// One scene class with the attributes it declares itself; [`Class::attribute`] also finds
/// the inherited ones.
#[derive(Debug, Clone)]
pub struct Class {
    pub name: String,
    pub base: Option<String>,
    pub kind: Kind,
    /// repository@commit:file the class was read from.
    pub source: String,
    /// `None` for [`Kind::Documented`] classes.
    own: Option<Vec<Attribute>>,
    /// Every name and alias of every attribute, own and inherited, to its canonical name.
    names: HashMap<String, String>,
}

impl Class {
    /// Whether the attribute names of this class (and its bases) are known.
    pub fn attributes_known(&self) -> bool {
        let mut c = Some(self);
        while let Some(class) = c {
            if class.own.is_none() {
                return false;
            }
            c = class.base.as_deref().and_then(class_info);
        }
        true
    }

    /// Every attribute, the class's own first, then its bases' (nearest first).
    pub fn attributes(&self) -> impl Iterator<Item = &Attribute> {
        let mut chain = Vec::new();
        let mut c = Some(self);
        while let Some(class) = c {
            chain.push(class);
            c = class.base.as_deref().and_then(class_info);
        }
        chain.into_iter().flat_map(|c| c.own.iter().flatten())
    }

    /// The attribute named `name` or having it as an alias, own or inherited.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        let canonical = self.canonical(name)?;
        self.attributes().find(|a| a.name == canonical)
    }

    /// The canonical name of the attribute `name` names (itself or an alias), if any.
    pub fn canonical(&self, name: &str) -> Option<&str> {
        self.names.get(name).map(String::as_str)
    }
}

#[derive(Deserialize)]
struct File {
    classes: Vec<RawClass>,
}

#[derive(Deserialize)]
struct RawClass {
    name: String,
    base: Option<String>,
    kind: String,
    source: String,
    attributes: Option<Vec<RawAttribute>>,
}

#[derive(Deserialize)]
struct RawAttribute {
    name: String,
    #[serde(rename = "type")]
    ty: String,
    #[serde(default)]
    default: serde_json::Value,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default, rename = "enum")]
    enum_values: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    flags: Vec<String>,
    from: Option<String>,
}

fn table() -> &'static HashMap<String, Class> {
    static TABLE: OnceLock<HashMap<String, Class>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let file: File =
            serde_json::from_str(DATA).expect("render/data/classes.json is valid (tested)");
        file.classes
            .into_iter()
            .map(|c| {
                let kind = match c.kind.as_str() {
                    "builtin" => Kind::BuiltIn,
                    "base" => Kind::Base,
                    "documented" => Kind::Documented,
                    _ => Kind::Dso,
                };
                let own = c.attributes.map(|attrs| {
                    attrs
                        .into_iter()
                        .map(|a| Attribute {
                            default: json_value(&a.ty, &a.default),
                            enum_values: a
                                .enum_values
                                .iter()
                                .filter_map(|(k, v)| Some((k.clone(), v.as_i64()?)))
                                .collect(),
                            from: a.from.unwrap_or_else(|| c.source.clone()),
                            flags: a.flags,
                            name: a.name,
                            ty: a.ty,
                            aliases: a.aliases,
                        })
                        .collect()
                });
                let class = Class {
                    name: c.name.clone(),
                    base: c.base,
                    kind,
                    source: c.source,
                    own,
                    names: HashMap::new(),
                };
                (c.name, class)
            })
            .collect::<HashMap<String, Class>>()
    });
    index(&TABLE)
}

/// Fills each class's name index from its chain of bases, once.
fn index(table: &'static OnceLock<HashMap<String, Class>>) -> &'static HashMap<String, Class> {
    static INDEXED: OnceLock<HashMap<String, Class>> = OnceLock::new();
    INDEXED.get_or_init(|| {
        let raw = table.get().expect("initialised above");
        let mut out = raw.clone();
        for (name, class) in out.iter_mut() {
            let mut chain = Vec::new();
            let mut c = raw.get(name);
            while let Some(k) = c {
                chain.push(k);
                c = k.base.as_deref().and_then(|b| raw.get(b));
            }
            // Nearest declaration wins; names before aliases.
            for k in chain.iter().rev() {
                for a in k.own.iter().flatten() {
                    for alias in &a.aliases {
                        class.names.insert(alias.clone(), a.name.clone());
                    }
                }
            }
            for k in chain.iter().rev() {
                for a in k.own.iter().flatten() {
                    class.names.insert(a.name.clone(), a.name.clone());
                }
            }
        }
        out
    })
}

/// The graph value of a default as the data file writes it, for an attribute of type `ty`.
fn json_value(ty: &str, v: &serde_json::Value) -> Option<Value> {
    use serde_json::Value as J;
    let nums = |v: &J| -> Option<Vec<f64>> { v.as_array()?.iter().map(J::as_f64).collect() };
    if let Some(elem) = ty.strip_suffix("Vector") {
        let elem = if elem == "SceneObject" {
            "SceneObject*"
        } else {
            elem
        };
        return v
            .as_array()?
            .iter()
            .map(|x| json_value(elem, x))
            .collect::<Option<Vec<_>>>()
            .map(Value::List);
    }
    if ty == "SceneObjectIndexable" {
        return Some(Value::List(Vec::new()));
    }
    Some(match ty {
        "Bool" => Value::Bool(v.as_bool()?),
        "Int" | "Long" => Value::Int(v.as_i64().or_else(|| v.as_f64().map(|f| f as i64))?),
        "Float" | "Double" => Value::Float(v.as_f64()?),
        "String" => Value::String(v.as_str()?.to_string()),
        "SceneObject*" => Value::Undef,
        "Rgb" | "Vec3f" | "Vec3d" => Value::Vec3(nums(v)?.try_into().ok()?).into_rgb(ty),
        "Rgba" => Value::Rgba(nums(v)?.try_into().ok()?),
        "Vec2f" | "Vec2d" => Value::Vec2(nums(v)?.try_into().ok()?),
        "Vec4f" | "Vec4d" => Value::Vec4(nums(v)?.try_into().ok()?),
        "Mat4f" | "Mat4d" => Value::Mat4(nums(v)?.try_into().ok()?),
        _ => return None,
    })
}

impl Value {
    fn into_rgb(self, ty: &str) -> Value {
        match (self, ty) {
            (Value::Vec3(c), "Rgb") => Value::Rgb(c),
            (v, _) => v,
        }
    }
}

/// Any class of the data, bases included.
pub fn class_info(name: &str) -> Option<&'static Class> {
    table().get(name)
}

/// The class a global names when a scene calls it as a constructor: `Camera` is
/// `PerspectiveCamera` (scene_rdl2's `constructors.lua` alias); abstract bases are not
/// constructors.
pub fn constructible(name: &str) -> Option<&'static Class> {
    let name = if name == "Camera" {
        "PerspectiveCamera"
    } else {
        name
    };
    class_info(name).filter(|c| c.kind != Kind::Base)
}

/// Whether `class` is `base` or derives from it (`is_a("OrthographicCamera", "Camera")`).
pub fn is_a(class: &str, base: &str) -> bool {
    let mut c = class_info(class);
    while let Some(k) = c {
        if k.name == base {
            return true;
        }
        c = k.base.as_deref().and_then(class_info);
    }
    false
}

/// MoonRay's default for `class`'s attribute `attr` (own or inherited, by name or alias).
pub fn default(class: &str, attr: &str) -> Option<Value> {
    class_info(class)?.attribute(attr)?.default.clone()
}

/// Every class a scene may construct by name, sorted (`SceneVariables` is a global object,
/// not a constructor).
pub fn constructible_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = table()
        .values()
        .filter(|c| c.kind != Kind::Base && c.name != "SceneVariables")
        .map(|c| c.name.as_str())
        .collect();
    names.sort_unstable();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_parses_and_every_base_exists() {
        assert!(table().len() > 150, "{} classes", table().len());
        for c in table().values() {
            if let Some(b) = &c.base {
                assert!(class_info(b).is_some(), "{}: base {b} missing", c.name);
            }
            assert!(!c.source.is_empty());
        }
    }

    #[test]
    fn classes_from_every_source_are_known() {
        for name in [
            "SceneVariables",
            "Layer",
            "GeometrySet",
            "Metadata",
            "RenderOutput",
            "PerspectiveCamera",
            "OrthographicCamera",
            "RdlMeshGeometry",
            "UsdGeometry",
            "DwaBaseMaterial",
            "HairDiffuseMaterial",
            "NoiseWorleyMap_v2",
            "NoiseWorleyMap_v3",
            "UsdPreviewSurface",
            "UsdUVTexture",
            "UsdPrimvarReader_float2",
            "ImageDisplayFilter",
            "RgbToFloatDisplayFilter",
            "CookieLightFilter_v2",
            "NormalDisplacement",
            "VdbVolume",
        ] {
            assert!(constructible(name).is_some(), "{name}");
        }
        assert_eq!(constructible("Camera").unwrap().name, "PerspectiveCamera");
        assert!(
            constructible("Geometry").is_none(),
            "a base is not a constructor"
        );
        assert!(constructible("Vec5").is_none());
        assert!(is_a("OrthographicCamera", "Camera") && is_a("BakeCamera", "Node"));
        assert!(!is_a("DwaBaseMaterial", "Camera"));
    }

    #[test]
    fn attributes_inherit_and_carry_moonray_defaults() {
        // Own (PerspectiveCamera), from Camera, and from Node.
        assert_eq!(
            default("PerspectiveCamera", "focal"),
            Some(Value::Float(30.0))
        );
        assert_eq!(
            default("PerspectiveCamera", "far"),
            Some(Value::Float(10000.0))
        );
        let Some(Value::Mat4(m)) = default("PerspectiveCamera", "node_xform") else {
            panic!("node_xform")
        };
        assert_eq!(m[0] + m[5] + m[10] + m[15], 4.0);
        assert_eq!(
            default("SceneVariables", "image_width"),
            Some(Value::Int(1920))
        );
        assert_eq!(
            default("DwaBaseMaterial", "albedo"),
            Some(Value::Rgb([1.0, 1.0, 1.0]))
        );
        assert_eq!(default("SpotLight", "lens_radius"), Some(Value::Float(1.0)));
        // Values MoonRay's sources state, as the scene builder's own defaults do.
        for (class, attr, value) in [
            ("SceneVariables", "pixel_samples", Value::Int(8)),
            ("SceneVariables", "max_mirror_depth", Value::Int(3)),
            ("SceneVariables", "scene_scale", Value::Float(0.01)),
            (
                "SceneVariables",
                "sample_clamping_value",
                Value::Float(10.0),
            ),
            ("SpotLight", "outer_cone_angle", Value::Float(60.0)),
            ("DistantLight", "angular_extent", Value::Float(0.53)),
            ("SphereGeometry", "radius", Value::Float(1.0)),
            ("BoxGeometry", "size", Value::Vec3([1.0; 3])),
            ("RectLight", "visible_in_camera", Value::Int(2)),
            ("RdlMeshGeometry", "is_subd", Value::Bool(true)),
            (
                "DwaSolidDielectricMaterial",
                "refractive_index",
                Value::Float(1.5),
            ),
            ("DwaMetalMaterial", "metallic_color", Value::Rgb([1.0; 3])),
            (
                "OrthographicCamera",
                "film_width_aperture",
                Value::Float(24.0),
            ),
        ] {
            assert_eq!(default(class, attr), Some(value), "{class}.{attr}");
        }
        // An alias finds its attribute: RdlMeshGeometry's "subd resolution" is mesh_resolution.
        let mesh = class_info("RdlMeshGeometry").unwrap();
        assert_eq!(
            mesh.attribute("subd resolution").unwrap().name,
            "mesh_resolution"
        );
        assert_eq!(mesh.attribute("node xform").unwrap().name, "node_xform");
        let side = mesh.attribute("side_type").unwrap();
        assert!(side
            .enum_values
            .iter()
            .any(|(k, v)| k == "force single-sided" && *v == 1));
        assert!(side.from.starts_with("scene_rdl2@"), "{}", side.from);
        assert!(mesh.attributes_known());
        let texture = class_info("ImageMap")
            .unwrap()
            .attribute("texture")
            .unwrap();
        assert!(texture.is_filename() && !side.is_filename());
        assert!(class_info("RectLight")
            .unwrap()
            .attribute("texture")
            .unwrap()
            .is_filename());
        // Documented classes: LayerMap_v2's attributes are not known, NoiseWorleyMap_v3's are
        // transcribed from its documentation page.
        assert!(!constructible("LayerMap_v2").unwrap().attributes_known());
        let v3 = constructible("NoiseWorleyMap_v3").unwrap();
        assert!(v3.attributes_known() && v3.source.contains("openmoonray-docs"));
        assert_eq!(
            default("NoiseWorleyMap_v3", "transformation_order"),
            Some(Value::Int(4))
        );
    }
}
