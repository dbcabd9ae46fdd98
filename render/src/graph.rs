//! The scene as RDLA declared it: objects with typed attribute values, before any meaning is
//! given to them.
//!
//! The Lua loader (`rdla`) produces a [`SceneGraph`]; the scene builder (`scene`) reads it and
//! applies MoonRay's defaults and semantics. Keeping the two apart means the Lua interpreter
//! never leaks past the loader and the builder can be tested without Lua.

use std::collections::BTreeMap;
use std::fmt;

/// Index of an object in [`SceneGraph::objects`].
pub type ObjectId = usize;

/// Where a value or object was declared: a scene file and a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileLoc {
    pub file: String,
    pub line: u32,
}

impl fmt::Display for FileLoc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}", self.file, self.line)
        } else {
            write!(f, "{}", self.file)
        }
    }
}

/// An attribute value, as the RDLA helpers build it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `undef()`, or an explicit nil.
    Undef,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    Rgb([f64; 3]),
    Rgba([f64; 4]),
    Vec2([f64; 2]),
    Vec3([f64; 3]),
    Vec4([f64; 4]),
    /// Sixteen numbers exactly as RDLA writes them: row-major, row vectors, translation in
    /// elements 12..15 (0-based). `translate`, `rotate`, `scale` and `*` produce this form too.
    Mat4([f64; 16]),
    /// A reference to another scene object.
    Object(ObjectId),
    /// A Lua sequence: `{ a, b, c }`.
    List(Vec<Value>),
    /// `bind(target[, value])`: the attribute is driven by a map object; `value` is the
    /// fallback constant, `Undef` when none was given.
    Bind {
        target: Option<ObjectId>,
        value: Box<Value>,
    },
}

/// One scene object: `Class("name") { ... }`.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    /// The scene class, canonical (`Camera` resolves to `PerspectiveCamera`).
    pub class: String,
    pub name: String,
    /// Attributes by canonical name (legacy spaced names already mapped: `"node xform"` is
    /// stored as `node_xform`). Later assignments replace earlier ones.
    pub attrs: BTreeMap<String, Value>,
    /// The array part of the table for set-like classes (`GeometrySet`, `LightSet`, `Layer`,
    /// ...): objects for sets, `Value::List` rows for a `Layer`. Appended to on re-open.
    pub members: Vec<Value>,
    /// Where the object was first declared.
    pub loc: FileLoc,
}

/// Everything the RDLA files declared, in declaration order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SceneGraph {
    pub objects: Vec<Object>,
    /// `SceneVariables { ... }` merged over all files, later files overriding earlier ones.
    pub scene_variables: BTreeMap<String, Value>,
    /// Loader warnings, each already prefixed with its location ("scene.rdla:12: ...").
    pub warnings: Vec<String>,
}

impl SceneGraph {
    pub fn object(&self, id: ObjectId) -> &Object {
        &self.objects[id]
    }

    pub fn find(&self, class: &str, name: &str) -> Option<ObjectId> {
        self.objects
            .iter()
            .position(|o| o.class == class && o.name == name)
    }
}
