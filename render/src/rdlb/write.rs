//! Encoding a scene graph as RDLB, whole or as the binary half of a split scene.

use super::read::LAYER_ASSIGNMENTS;
use super::{Wire, SCENE_OBJECT_RECORD, SCENE_VARIABLES};
use std::collections::hash_map::Entry;
use std::collections::HashMap;

use crate::graph::{Object, ObjectId, SceneGraph, Value};

/// A split scene keeps vectors of more than this many elements in the binary file
/// (scene_rdl2's `SPLIT_VEC_SIZE`), everything else in the text one.
pub const SPLIT_VECTOR_SIZE: usize = 12;

/// A value the binary format cannot hold, named by object and attribute.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{class}(\"{name}\") `{attr}`: {message}")]
pub struct WriteError {
    pub class: String,
    pub name: String,
    pub attr: String,
    pub message: String,
}

/// Whether a split scene puts this attribute value in the binary file: a vector of more than
/// [`SPLIT_VECTOR_SIZE`] elements that RDLB can hold exactly.
pub fn is_large(value: &Value) -> bool {
    let value = match value {
        Value::Bind { value, .. } => value,
        other => other,
    };
    matches!(value, Value::List(items) if items.len() > SPLIT_VECTOR_SIZE) && wire_of(value).is_ok()
}

/// Whether a split scene puts this object's members in the binary file: only a Layer with
/// more than [`SPLIT_VECTOR_SIZE`] assignments does; the sets stay in the text file always
/// (scene_rdl2's `isSkippedInSplitMode`: small, and handy to edit).
pub fn large_members(graph: &SceneGraph, object: &Object) -> bool {
    object.class == "Layer"
        && layer_assignments(graph, object)
            .map(|rows| rows.len() > SPLIT_VECTOR_SIZE)
            .unwrap_or(false)
}

/// A Layer's rows as scene_rdl2 stores them: one (geometry, part, assignments) per distinct
/// geometry and part, the assignments in [`LAYER_ASSIGNMENTS`] order, `Undef` where a row
/// names none. A row's
/// assignments are told apart by the class of the object, as scene_rdl2's `layerCall` does.
pub fn layer_assignments(
    graph: &SceneGraph,
    layer: &Object,
) -> Result<Vec<(Value, String, [Value; 7])>, String> {
    let mut out: Vec<(Value, String, [Value; 7])> = Vec::new();
    let mut seen: HashMap<(ObjectId, String), usize> = HashMap::new();
    for (i, row) in layer.members.iter().enumerate() {
        let Value::List(items) = row else {
            return Err(format!("Layer row {} is not a table", i + 1));
        };
        let Some(geometry @ Value::Object(geometry_id)) = items.first() else {
            return Err(format!(
                "Layer row {} does not start with a geometry",
                i + 1
            ));
        };
        let parts: Vec<String> = match items.get(1) {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::List(ps)) => ps
                .iter()
                .map(|p| match p {
                    Value::String(s) => Ok(s.clone()),
                    _ => Err(format!("Layer row {}: part names are strings", i + 1)),
                })
                .collect::<Result<_, _>>()?,
            _ => {
                return Err(format!(
                    "Layer row {}: the second entry is a part name or a table of them",
                    i + 1
                ))
            }
        };
        let mut slots: [Value; 7] = std::array::from_fn(|_| Value::Undef);
        for item in items.iter().skip(2) {
            // scene_rdl2's layerCall skips what is not a set, material, displacement or
            // volume shader: undef() and the "" some scenes write as a placeholder.
            let Value::Object(id) = item else {
                continue;
            };
            let class = graph.object(*id).class.as_str();
            let slot = match class {
                "LightSet" => 1,
                "LightFilterSet" => 4,
                "ShadowSet" => 5,
                "ShadowReceiverSet" => 6,
                c if c.ends_with("Displacement") => 2,
                c if c.ends_with("Volume") || c.ends_with("VolumeShader") => 3,
                _ => 0,
            };
            slots[slot] = item.clone();
        }
        let geometry_id = *geometry_id;
        for part in parts {
            // `Layer::assign`: a (geometry, part) pair assigned again takes the new
            // assignments in its first place.
            match seen.entry((geometry_id, part)) {
                Entry::Occupied(at) => out[*at.get()].2 = slots.clone(),
                Entry::Vacant(v) => {
                    out.push((geometry.clone(), v.key().1.clone(), slots.clone()));
                    v.insert(out.len() - 1);
                }
            }
        }
    }
    Ok(out)
}

/// Encodes `graph` as RDLB. With `split`, only what a split scene keeps in binary: the
/// large vectors ([`is_large`]) and large Layers, objects without any left out.
pub fn encode(graph: &SceneGraph, split: bool) -> Result<Vec<u8>, WriteError> {
    let mut payload = Vec::new();
    let mut sizes = Vec::new();
    if !graph.scene_variables.is_empty() {
        let attrs: Vec<(&String, &Value)> = graph
            .scene_variables
            .iter()
            .filter(|(_, v)| !split || is_large(v))
            .collect();
        if !attrs.is_empty() {
            let (class, name) = SCENE_VARIABLES;
            let record = record(graph, class, name, &attrs, &[])?;
            sizes.push(record.len());
            payload.extend(record);
        }
    }
    for object in &graph.objects {
        let attrs: Vec<(&String, &Value)> = object
            .attrs
            .iter()
            .filter(|(_, v)| !split || is_large(v))
            .collect();
        let members = if split && !large_members(graph, object) {
            Vec::new()
        } else {
            member_vectors(graph, object)?
        };
        if split && attrs.is_empty() && members.is_empty() {
            continue;
        }
        let member_refs: Vec<(&str, Wire, Value)> = members
            .iter()
            .map(|(n, w, v)| (*n, *w, v.clone()))
            .collect();
        let record = record(graph, &object.class, &object.name, &attrs, &member_refs)?;
        sizes.push(record.len());
        payload.extend(record);
    }

    let mut manifest = Container::new();
    manifest.varint(sizes.len() as u64);
    for size in &sizes {
        manifest.varint(SCENE_OBJECT_RECORD);
        manifest.varint(*size as u64);
    }
    let manifest = manifest.finish();
    let mut out = Vec::with_capacity(16 + manifest.len() + payload.len());
    out.extend((manifest.len() as u64).to_be_bytes());
    out.extend((payload.len() as u64).to_be_bytes());
    out.extend(manifest);
    out.extend(payload);
    Ok(out)
}

/// A set's or Layer's members as the attribute vectors scene_rdl2 declares for them.
fn member_vectors(
    graph: &SceneGraph,
    object: &Object,
) -> Result<Vec<(&'static str, Wire, Value)>, WriteError> {
    let fail = |message: String| WriteError {
        class: object.class.clone(),
        name: object.name.clone(),
        attr: "(members)".to_string(),
        message,
    };
    if object.members.is_empty() {
        return Ok(Vec::new());
    }
    let objects = || {
        Value::List(
            object
                .members
                .iter()
                .filter(|m| matches!(m, Value::Object(_)))
                .cloned()
                .collect(),
        )
    };
    let columns = |n: usize| -> Result<Vec<Vec<Value>>, WriteError> {
        let mut columns = vec![Vec::new(); n];
        for (i, row) in object.members.iter().enumerate() {
            match row {
                Value::List(items) if items.len() == n => {
                    for (c, item) in columns.iter_mut().zip(items) {
                        c.push(item.clone());
                    }
                }
                _ => return Err(fail(format!("row {} is not a table of {n} entries", i + 1))),
            }
        }
        Ok(columns)
    };
    Ok(match object.class.as_str() {
        "GeometrySet" | "ShadowReceiverSet" => {
            vec![("geometries", Wire::SceneObjectIndexable, objects())]
        }
        "LightSet" | "ShadowSet" => vec![("lights", Wire::SceneObjectVector, objects())],
        "LightFilterSet" => vec![("lightfilters", Wire::SceneObjectVector, objects())],
        "TraceSet" => {
            let mut c = columns(2)?.into_iter();
            vec![
                (
                    "geometries",
                    Wire::SceneObjectIndexable,
                    Value::List(c.next().unwrap_or_default()),
                ),
                (
                    "parts",
                    Wire::StringVector,
                    Value::List(c.next().unwrap_or_default()),
                ),
            ]
        }
        "Metadata" => {
            let mut c = columns(3)?.into_iter();
            ["name", "type", "value"]
                .into_iter()
                .map(|n| {
                    (
                        n,
                        Wire::StringVector,
                        Value::List(c.next().unwrap_or_default()),
                    )
                })
                .collect()
        }
        "Layer" => {
            let rows = layer_assignments(graph, object).map_err(fail)?;
            let mut out = vec![
                (
                    "geometries",
                    Wire::SceneObjectIndexable,
                    Value::List(rows.iter().map(|r| r.0.clone()).collect()),
                ),
                (
                    "parts",
                    Wire::StringVector,
                    Value::List(rows.iter().map(|r| Value::String(r.1.clone())).collect()),
                ),
            ];
            for (slot, name) in LAYER_ASSIGNMENTS.iter().enumerate() {
                out.push((
                    name,
                    Wire::SceneObjectVector,
                    Value::List(rows.iter().map(|r| r.2[slot].clone()).collect()),
                ));
            }
            out
        }
        other => {
            return Err(fail(format!(
                "{} array entries, but {other} is not a set",
                object.members.len()
            )))
        }
    })
}

fn record(
    graph: &SceneGraph,
    class: &str,
    name: &str,
    attrs: &[(&String, &Value)],
    members: &[(&str, Wire, Value)],
) -> Result<Vec<u8>, WriteError> {
    let fail = |attr: &str, message: String| WriteError {
        class: class.to_string(),
        name: name.to_string(),
        attr: attr.to_string(),
        message,
    };
    let mut c = Container::new();
    c.string(class);
    c.string(name);
    let mut bindings = Vec::new();
    for (attr, value) in attrs {
        let value = match value {
            Value::Bind { target, value } => {
                bindings.push((attr.as_str(), *target));
                if matches!(**value, Value::Undef) {
                    continue;
                }
                &**value
            }
            other => other,
        };
        let wire = wire_of(value).map_err(|m| fail(attr, m))?;
        c.attribute(graph, attr, wire, value);
    }
    for (attr, wire, value) in members {
        c.attribute(graph, attr, *wire, value);
    }
    c.varint(0);
    for (attr, target) in bindings {
        c.bytes(&[1, 0]);
        c.string(attr);
        match target {
            Some(id) => {
                let o = graph.object(id);
                c.string(&o.class);
                c.string(&o.name);
            }
            None => {
                c.string("");
                c.string("");
            }
        }
    }
    c.bytes(&[0]);
    Ok(c.finish())
}

/// The wire type that holds `value` exactly (colours excepted: scene_rdl2's are single
/// precision). Lists take the type of their elements; numbers mixing ints and floats are a
/// double vector.
fn wire_of(value: &Value) -> Result<Wire, String> {
    Ok(match value {
        Value::Undef | Value::Object(_) => Wire::SceneObject,
        Value::Bool(_) => Wire::Bool,
        Value::Int(i) if i32::try_from(*i).is_ok() => Wire::Int,
        Value::Int(_) => Wire::Long,
        Value::Float(_) => Wire::Double,
        Value::String(_) => Wire::String,
        Value::Rgb(_) => Wire::Rgb,
        Value::Rgba(_) => Wire::Rgba,
        Value::Vec2(_) => Wire::Vec2d,
        Value::Vec3(_) => Wire::Vec3d,
        Value::Vec4(_) => Wire::Vec4d,
        Value::Mat4(_) => Wire::Mat4d,
        Value::Bind { .. } => return Err("bind() cannot be nested in another value".into()),
        Value::List(items) => {
            let mut wire: Option<Wire> = None;
            for item in items {
                let w = match wire_of(item)? {
                    Wire::Int => Wire::IntVector,
                    Wire::Long => Wire::LongVector,
                    Wire::Bool => Wire::BoolVector,
                    Wire::Double => Wire::DoubleVector,
                    Wire::String => Wire::StringVector,
                    Wire::Rgb => Wire::RgbVector,
                    Wire::Rgba => Wire::RgbaVector,
                    Wire::Vec2d => Wire::Vec2dVector,
                    Wire::Vec3d => Wire::Vec3dVector,
                    Wire::Vec4d => Wire::Vec4dVector,
                    Wire::Mat4d => Wire::Mat4dVector,
                    Wire::SceneObject => Wire::SceneObjectVector,
                    _ => return Err("a table nested in a table has no RDLB type".into()),
                };
                wire = Some(match (wire, w) {
                    (None, w) => w,
                    (Some(a), b) if a == b => a,
                    (
                        Some(Wire::IntVector | Wire::LongVector),
                        Wire::IntVector | Wire::LongVector,
                    ) => Wire::LongVector,
                    (
                        Some(Wire::IntVector | Wire::LongVector | Wire::DoubleVector),
                        Wire::IntVector | Wire::LongVector | Wire::DoubleVector,
                    ) => Wire::DoubleVector,
                    _ => return Err("a table mixing kinds of values has no RDLB type".into()),
                });
            }
            wire.unwrap_or(Wire::IntVector)
        }
    })
}

/// A value container being written: the 8-byte size is filled in by `finish`.
struct Container {
    bytes: Vec<u8>,
}

impl Container {
    fn new() -> Self {
        Container { bytes: vec![0; 8] }
    }

    fn finish(mut self) -> Vec<u8> {
        let len = self.bytes.len() as u64;
        self.bytes[..8].copy_from_slice(&len.to_le_bytes());
        self.bytes
    }

    fn bytes(&mut self, b: &[u8]) {
        self.bytes.extend_from_slice(b);
    }

    fn varint(&mut self, mut v: u64) {
        while v > 0x7f {
            self.bytes.push((v as u8 & 0x7f) | 0x80);
            v >>= 7;
        }
        self.bytes.push(v as u8);
    }

    fn zigzag(&mut self, v: i64) {
        self.varint(((v << 1) ^ (v >> 63)) as u64);
    }

    fn string(&mut self, s: &str) {
        self.varint(s.len() as u64);
        self.bytes(s.as_bytes());
    }

    fn floats(&mut self, xs: &[f64], wide: bool) {
        for x in xs {
            if wide {
                self.bytes(&x.to_le_bytes());
            } else {
                self.bytes(&(*x as f32).to_le_bytes());
            }
        }
    }

    /// One attribute: wire type, not transient, name, one time sample at step 0, value.
    fn attribute(&mut self, graph: &SceneGraph, name: &str, wire: Wire, value: &Value) {
        self.varint(wire as u64);
        self.bytes(&[0]);
        self.string(name);
        self.bytes(&[0, 0]);
        self.value(graph, wire, value);
    }

    fn value(&mut self, graph: &SceneGraph, wire: Wire, value: &Value) {
        use Wire as W;
        let element = match wire {
            W::BoolVector => W::Bool,
            W::IntVector => W::Int,
            W::LongVector => W::Long,
            W::DoubleVector => W::Double,
            W::StringVector => W::String,
            W::RgbVector => W::Rgb,
            W::RgbaVector => W::Rgba,
            W::Vec2dVector => W::Vec2d,
            W::Vec3dVector => W::Vec3d,
            W::Vec4dVector => W::Vec4d,
            W::Mat4dVector => W::Mat4d,
            W::SceneObjectVector | W::SceneObjectIndexable => W::SceneObject,
            scalar => return self.scalar(graph, scalar, value),
        };
        let items = match value {
            Value::List(items) => &items[..],
            _ => &[],
        };
        self.varint(items.len() as u64);
        for item in items {
            self.scalar(graph, element, item);
        }
    }

    fn scalar(&mut self, graph: &SceneGraph, wire: Wire, value: &Value) {
        match (wire, value) {
            (Wire::Bool, Value::Bool(b)) => self.bytes(&[*b as u8]),
            (Wire::Int | Wire::Long, Value::Int(i)) => self.zigzag(*i),
            (Wire::Double, Value::Float(f)) => self.bytes(&f.to_le_bytes()),
            (Wire::Double, Value::Int(i)) => self.bytes(&(*i as f64).to_le_bytes()),
            (Wire::String, Value::String(s)) => self.string(s),
            (Wire::Rgb, Value::Rgb(c)) => self.floats(c, false),
            (Wire::Rgba, Value::Rgba(c)) => self.floats(c, false),
            (Wire::Vec2d, Value::Vec2(c)) => self.floats(c, true),
            (Wire::Vec3d, Value::Vec3(c)) | (Wire::Vec3d, Value::Rgb(c)) => self.floats(c, true),
            (Wire::Vec4d, Value::Vec4(c)) => self.floats(c, true),
            (Wire::Mat4d, Value::Mat4(m)) => self.floats(m, true),
            (Wire::SceneObject, Value::Object(id)) => {
                let o = graph.object(*id);
                self.varint(o.class.len() as u64);
                self.varint(o.name.len() as u64);
                self.bytes(o.class.as_bytes());
                self.bytes(o.name.as_bytes());
            }
            // A null reference (undef()).
            (Wire::SceneObject, _) => self.bytes(&[0, 0]),
            (wire, value) => unreachable!("wire_of chose {wire:?} for {value:?}"),
        }
    }
}
