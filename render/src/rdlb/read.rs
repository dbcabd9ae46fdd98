//! Decoding RDLB bytes into records, and applying records to a scene graph the way
//! scene_rdl2's `BinaryReader` applies them to a scene context.

use std::collections::HashMap;

use super::cursor::Cursor;
use super::{RdlbError, Wire, SCENE_OBJECT_RECORD, SCENE_VARIABLES};
use crate::graph::{FileLoc, Object, ObjectId, SceneGraph, Value};

/// One scene object record as the file holds it. Object references inside `attrs` are
/// `Value::Object(i)` with `i` an index into `refs` (class, name) until [`apply`] resolves
/// them against a graph; a null reference is `Value::Undef`.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Byte offset of the record in the file, for messages.
    pub offset: usize,
    pub class: String,
    pub name: String,
    /// Attributes in file order, by name as written; blurred ones keep their first sample.
    pub attrs: Vec<(String, Value)>,
    /// Bound attributes and the index in `refs` of the map each is bound to.
    pub bindings: Vec<(String, usize)>,
    pub refs: Vec<(String, String)>,
}

/// Decodes a whole RDLB file. `memory_limit` bounds the bytes the decoded values may occupy
/// (a vector of one-byte booleans becomes far larger in memory than on disk).
/// Returns the records and the bytes their values take.
pub fn decode(bytes: &[u8], memory_limit: usize) -> Result<(Vec<Record>, usize), RdlbError> {
    let mut file = Cursor::new(bytes, 0);
    let manifest_len = file.u64_be("the manifest length")?;
    let payload_len = file.u64_be("the payload length")?;
    let manifest_len = fit(&file, 0, manifest_len, "the manifest")?;
    let mut manifest = file.sub(manifest_len, "the manifest")?;
    let payload_len = fit(&file, 8, payload_len, "the payload")?;
    let mut payload = file.sub(payload_len, "the payload")?;
    if file.remaining() > 0 {
        return Err(file.error(format!(
            "{} bytes after the payload (the lengths in the header are wrong)",
            file.remaining()
        )));
    }

    container_header(&mut manifest, "the manifest")?;
    // Each manifest entry takes at least two bytes.
    let count = manifest.count(2, "the manifest's record count")?;
    let mut entries = Vec::with_capacity(count);
    for _ in 0..count {
        let at = manifest.offset();
        let kind = manifest.varint(32, "a record type")?;
        let size_at = manifest.offset();
        let size = manifest.size("a record size")?;
        entries.push((at, kind, size_at, size));
    }
    if manifest.remaining() > 0 {
        return Err(manifest.error("the manifest has bytes after its last entry"));
    }

    let mut budget = Budget { left: memory_limit };
    let mut records = Vec::with_capacity(count);
    for (at, kind, size_at, size) in entries {
        match kind {
            SCENE_OBJECT_RECORD => {}
            1 => {
                return Err(manifest.error_at(
                    at,
                    "record type 1 (SCENE_OBJECT) is an old layout scene_rdl2 no longer reads; re-export the scene",
                ))
            }
            other => {
                return Err(manifest.error_at(at, format!("unknown record type {other}")))
            }
        }
        if size > payload.remaining() {
            return Err(manifest.error_at(
                size_at,
                format!(
                    "record size {size} runs past the end of the payload ({} bytes remain)",
                    payload.remaining()
                ),
            ));
        }
        let mut record = payload.sub(size, "a record")?;
        records.push(read_record(&mut record, &mut budget)?);
    }
    Ok((records, memory_limit - budget.left))
}

/// A length from the header (the field at `field`), checked against the bytes that remain.
fn fit(file: &Cursor, field: usize, len: u64, what: &str) -> Result<usize, RdlbError> {
    match usize::try_from(len) {
        Ok(n) if n <= file.remaining() => Ok(n),
        _ => Err(file.error_at(
            field,
            format!(
                "{what} is said to be {len} bytes long, only {} remain at byte {}",
                file.remaining(),
                file.offset()
            ),
        )),
    }
}

/// The 8-byte little-endian size that opens every value container; it counts itself and must
/// equal the container's length, as `ValueContainerDeq` checks.
fn container_header(c: &mut Cursor, what: &str) -> Result<(), RdlbError> {
    let len = c.remaining() as u64;
    let at = c.offset();
    let saved = c.u64_le(&format!("the size of {what}"))?;
    if saved != len {
        return Err(c.error_at(
            at,
            format!("{what} says it is {saved} bytes long but is {len}"),
        ));
    }
    Ok(())
}

/// Memory accounting for decoded values.
struct Budget {
    left: usize,
}

impl Budget {
    fn charge(&mut self, c: &Cursor, bytes: usize) -> Result<(), RdlbError> {
        match self.left.checked_sub(bytes) {
            Some(left) => {
                self.left = left;
                Ok(())
            }
            None => Err(c.error(
                "the scene needs more memory than the loader's limit; simplify it or raise the limit",
            )),
        }
    }

    fn charge_values(&mut self, c: &Cursor, n: usize) -> Result<(), RdlbError> {
        self.charge(c, n.saturating_mul(std::mem::size_of::<Value>()))
    }
}

fn read_record(c: &mut Cursor, budget: &mut Budget) -> Result<Record, RdlbError> {
    let offset = c.offset();
    container_header(c, "the record")?;
    let at = c.offset();
    let class = c.string("the class name")?;
    check_class(c, at, &class)?;
    let name = c.string("the object name")?;
    budget.charge(c, class.len() + name.len() + std::mem::size_of::<Object>())?;
    let mut record = Record {
        offset,
        class,
        name,
        attrs: Vec::new(),
        bindings: Vec::new(),
        refs: Vec::new(),
    };
    let mut refs: HashMap<(String, String), usize> = HashMap::new();
    loop {
        let at = c.offset();
        let code = c.varint(32, "an attribute type")?;
        if code == 0 {
            break;
        }
        let Some(wire) = Wire::from_code(code) else {
            return Err(c.error_at(at, format!("unknown attribute type {code}")));
        };
        let attr = attr_name(c, "an attribute")?;
        let time_max = c.u8("the attribute's time sample count")?;
        let mut first = None;
        for _ in 0..=time_max {
            let _timestep = c.u8("a time step")?;
            let value = read_value(c, wire, budget, &mut record.refs, &mut refs)?;
            first.get_or_insert(value);
        }
        budget.charge(c, attr.len())?;
        record
            .attrs
            .push((attr, first.expect("at least one sample")));
    }
    while c.bool("a binding marker")? {
        let attr = attr_name(c, "a binding")?;
        let at = c.offset();
        let class = c.string("a binding's target class")?;
        if !class.is_empty() {
            check_class(c, at, &class)?;
        }
        let name = c.string("a binding's target object")?;
        if !class.is_empty() && !name.is_empty() {
            budget.charge(c, attr.len() + class.len() + name.len())?;
            let i = reference(&mut record.refs, &mut refs, class, name);
            record.bindings.push((attr, i));
        }
    }
    if c.remaining() > 0 {
        return Err(c.error(format!(
            "{} bytes after the end of {} \"{}\"",
            c.remaining(),
            record.class,
            record.name
        )));
    }
    Ok(record)
}

/// The transient flag and the attribute's name. Files scene_rdl2 writes always name their
/// attributes; an index only means something against the writer's own class table.
fn attr_name(c: &mut Cursor, what: &str) -> Result<String, RdlbError> {
    let at = c.offset();
    if c.bool("the transient-encoding flag")? {
        let index = c.zigzag(32, "an attribute index")?;
        return Err(c.error_at(
            at,
            format!("{what} is given by index {index} (transient encoding), which only the process that wrote it can resolve; write the file with attribute names"),
        ));
    }
    c.string("an attribute name")
}

/// A class name is a Lua identifier in MoonRay (it is the constructor's global name), and a
/// graph written back as RDLA prints it as code: anything else is refused here.
fn check_class(c: &Cursor, at: usize, class: &str) -> Result<(), RdlbError> {
    const KEYWORDS: [&str; 22] = [
        "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if",
        "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
    ];
    let mut chars = class.chars();
    let identifier = chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
        && !KEYWORDS.contains(&class);
    if identifier {
        Ok(())
    } else {
        let shown: String = class
            .chars()
            .take(40)
            .collect::<String>()
            .escape_debug()
            .to_string();
        Err(c.error_at(at, format!("\"{shown}\" is not a scene class name")))
    }
}

fn reference(
    list: &mut Vec<(String, String)>,
    index: &mut HashMap<(String, String), usize>,
    class: String,
    name: String,
) -> usize {
    *index.entry((class, name)).or_insert_with_key(|key| {
        list.push(key.clone());
        list.len() - 1
    })
}

fn object(
    c: &mut Cursor,
    budget: &mut Budget,
    list: &mut Vec<(String, String)>,
    index: &mut HashMap<(String, String), usize>,
) -> Result<Value, RdlbError> {
    let class_len = c.size("an object reference's class length")?;
    let name_len = c.size("an object reference's name length")?;
    let at = c.offset();
    let class = c.take(class_len, "an object reference's class")?;
    let name = c.take(name_len, "an object reference's name")?;
    let (Ok(class), Ok(name)) = (std::str::from_utf8(class), std::str::from_utf8(name)) else {
        return Err(c.error_at(at, "an object reference is not valid UTF-8"));
    };
    if class.is_empty() || name.is_empty() {
        return Ok(Value::Undef);
    }
    check_class(c, at, class)?;
    if !index.contains_key(&(class.to_string(), name.to_string())) {
        budget.charge(c, class.len() + name.len())?;
    }
    Ok(Value::Object(reference(
        list,
        index,
        class.to_string(),
        name.to_string(),
    )))
}

fn read_value(
    c: &mut Cursor,
    wire: Wire,
    budget: &mut Budget,
    refs: &mut Vec<(String, String)>,
    index: &mut HashMap<(String, String), usize>,
) -> Result<Value, RdlbError> {
    use Wire as W;
    // Scalars first; a vector is its element read `count` times, the count checked against
    // the bytes that remain (at the element's smallest encoded size) before allocating.
    let (element, min_bytes) = match wire {
        W::BoolVector => (W::Bool, 1),
        W::IntVector => (W::Int, 1),
        W::LongVector => (W::Long, 1),
        W::FloatVector => (W::Float, 4),
        W::DoubleVector => (W::Double, 8),
        W::StringVector => (W::String, 1),
        W::RgbVector => (W::Rgb, 12),
        W::RgbaVector => (W::Rgba, 16),
        W::Vec2fVector => (W::Vec2f, 8),
        W::Vec2dVector => (W::Vec2d, 16),
        W::Vec3fVector => (W::Vec3f, 12),
        W::Vec3dVector => (W::Vec3d, 24),
        W::Vec4fVector => (W::Vec4f, 16),
        W::Vec4dVector => (W::Vec4d, 32),
        W::Mat4fVector => (W::Mat4f, 64),
        W::Mat4dVector => (W::Mat4d, 128),
        W::SceneObjectVector | W::SceneObjectIndexable => (W::SceneObject, 2),
        scalar => {
            budget.charge_values(c, 1)?;
            return scalar_value(c, scalar, budget, refs, index);
        }
    };
    let n = c.count(min_bytes, "a vector's element count")?;
    budget.charge_values(c, n + 1)?;
    let mut items = Vec::with_capacity(n);
    for _ in 0..n {
        items.push(scalar_value(c, element, budget, refs, index)?);
    }
    Ok(Value::List(items))
}

fn scalar_value(
    c: &mut Cursor,
    wire: Wire,
    budget: &mut Budget,
    refs: &mut Vec<(String, String)>,
    index: &mut HashMap<(String, String), usize>,
) -> Result<Value, RdlbError> {
    use Wire as W;
    Ok(match wire {
        W::Bool => Value::Bool(c.bool("a bool")?),
        W::Int => Value::Int(c.zigzag(32, "an int")?),
        W::Long => Value::Int(c.zigzag(64, "a long")?),
        W::Float => Value::Float(c.f32("a float")?),
        W::Double => Value::Float(c.f64("a double")?),
        W::String => {
            let s = c.string("a string")?;
            budget.charge(c, s.len())?;
            Value::String(s)
        }
        W::Rgb => Value::Rgb(c.floats(false, "an Rgb")?),
        W::Rgba => Value::Rgba(c.floats(false, "an Rgba")?),
        W::Vec2f => Value::Vec2(c.floats(false, "a Vec2f")?),
        W::Vec2d => Value::Vec2(c.floats(true, "a Vec2d")?),
        W::Vec3f => Value::Vec3(c.floats(false, "a Vec3f")?),
        W::Vec3d => Value::Vec3(c.floats(true, "a Vec3d")?),
        W::Vec4f => Value::Vec4(c.floats(false, "a Vec4f")?),
        W::Vec4d => Value::Vec4(c.floats(true, "a Vec4d")?),
        W::Mat4f => Value::Mat4(c.floats(false, "a Mat4f")?),
        W::Mat4d => Value::Mat4(c.floats(true, "a Mat4d")?),
        W::SceneObject => object(c, budget, refs, index)?,
        vector => unreachable!("{vector:?} is read by read_value"),
    })
}

/// Where decoded records go: a graph plus a way to find-or-create an object by class and
/// name, so that RDLB records and RDLA scripts build one graph together.
pub trait Target {
    fn graph(&mut self) -> &mut SceneGraph;
    /// The object `class("name")`, created (at `loc`) when it does not exist yet.
    fn open(&mut self, class: &str, name: &str, loc: &FileLoc) -> ObjectId;
}

/// Applies decoded records in order, as scene_rdl2 does: attributes replace earlier values,
/// set vectors replace a set's members, a Layer assignment replaces the one of the same
/// (geometry, part) or is appended, bindings turn a value
/// into `bind(target, value)`. Every record's object is created first, in file order, so the
/// graph's object order follows the file's.
pub fn apply(records: Vec<Record>, file: &str, target: &mut dyn Target) -> Result<(), RdlbError> {
    let loc = FileLoc {
        file: file.to_string(),
        line: 0,
    };
    let ids: Vec<Option<ObjectId>> = records
        .iter()
        .map(|r| (r.class != SCENE_VARIABLES.0).then(|| target.open(&r.class, &r.name, &loc)))
        .collect();
    let mut unknown: std::collections::HashSet<(String, String)> = Default::default();
    for (record, id) in records.into_iter().zip(ids) {
        let refs: Vec<ObjectId> = record
            .refs
            .iter()
            .map(|(class, name)| target.open(class, name, &loc))
            .collect();
        let resolve = |v: Value| resolve(v, &refs);
        let offset = record.offset;
        let err = |message: String| RdlbError { offset, message };
        let class = match id {
            Some(id) => target.graph().objects[id].class.clone(),
            None => SCENE_VARIABLES.0.to_string(),
        };
        let mut attrs: Vec<(String, Value)> = Vec::with_capacity(record.attrs.len());
        for (given, v) in record.attrs {
            let (name, known) = crate::rdla::canonical_attr(&class, &given);
            // Recorded all the same, as the RDLA loader records it; warned about once per
            // class and attribute in this file.
            if !known && unknown.insert((class.clone(), name.clone())) {
                let message = format!(
                    "{file}: byte {}: {class} `{}`: unknown attribute `{given}` (MoonRay's {class} has no attribute of that name)",
                    record.offset, record.name
                );
                target.graph().warnings.push(message);
            }
            attrs.push((name, resolve(v)));
        }
        // By name, so that a record of many attributes and bindings stays linear.
        let mut position: HashMap<String, usize> = attrs
            .iter()
            .enumerate()
            .map(|(i, (n, _))| (n.clone(), i))
            .collect();
        for (name, i) in record.bindings {
            let (name, _) = crate::rdla::canonical_attr(&class, &name);
            let bound = Some(refs[i]);
            match position.get(&name).map(|&at| &mut attrs[at]) {
                Some((_, v)) => {
                    let value = std::mem::replace(v, Value::Undef);
                    *v = Value::Bind {
                        target: bound,
                        value: Box::new(value),
                    };
                }
                None => {
                    position.insert(name.clone(), attrs.len());
                    attrs.push((
                        name,
                        Value::Bind {
                            target: bound,
                            value: Box::new(Value::Undef),
                        },
                    ))
                }
            }
        }
        let graph = target.graph();
        let Some(id) = id else {
            graph.scene_variables.extend(attrs);
            continue;
        };
        let class = graph.objects[id].class.clone();
        let object = &mut graph.objects[id];
        match class.as_str() {
            "GeometrySet" | "ShadowReceiverSet" => {
                take_set(&mut attrs, "geometries", &mut object.members)
            }
            "LightSet" | "ShadowSet" => take_set(&mut attrs, "lights", &mut object.members),
            "LightFilterSet" => take_set(&mut attrs, "lightfilters", &mut object.members),
            "TraceSet" => {
                if let Some(rows) = take_rows(&mut attrs, &["geometries", "parts"]).map_err(err)? {
                    object.members = rows;
                }
            }
            "Metadata" => {
                if let Some(rows) =
                    take_rows(&mut attrs, &["name", "type", "value"]).map_err(err)?
                {
                    object.members = rows;
                }
            }
            "Layer" => merge_layer_rows(&mut object.members, layer_rows(&mut attrs).map_err(err)?),
            _ => {}
        }
        object.attrs.extend(attrs);
    }
    Ok(())
}

fn resolve(value: Value, refs: &[ObjectId]) -> Value {
    match value {
        Value::Object(i) => Value::Object(refs[i]),
        Value::List(items) => Value::List(items.into_iter().map(|v| resolve(v, refs)).collect()),
        other => other,
    }
}

fn take(attrs: &mut Vec<(String, Value)>, name: &str) -> Option<Value> {
    let i = attrs.iter().position(|(n, _)| n == name)?;
    Some(attrs.remove(i).1)
}

/// A set's member vector replaces its members (null entries dropped, each object once).
fn take_set(attrs: &mut Vec<(String, Value)>, name: &str, members: &mut Vec<Value>) {
    if let Some(Value::List(items)) = take(attrs, name) {
        members.clear();
        for item in items {
            if matches!(item, Value::Object(_)) && !members.contains(&item) {
                members.push(item);
            }
        }
    }
}

/// Parallel vectors (`TraceSet`: geometries and parts; `Metadata`: name, type, value) as
/// rows `{a, b, ...}`, the form RDLA writes them in.
fn take_rows(
    attrs: &mut Vec<(String, Value)>,
    names: &[&str],
) -> Result<Option<Vec<Value>>, String> {
    let columns: Vec<Option<Value>> = names.iter().map(|n| take(attrs, n)).collect();
    if columns.iter().all(Option::is_none) {
        return Ok(None);
    }
    let columns: Vec<Vec<Value>> = columns
        .into_iter()
        .map(|c| match c {
            Some(Value::List(items)) => items,
            _ => Vec::new(),
        })
        .collect();
    let n = columns[0].len();
    if columns.iter().any(|c| c.len() != n) {
        return Err(format!(
            "the vectors {} have different lengths",
            names.join(", ")
        ));
    }
    let mut columns: Vec<_> = columns.into_iter().map(|c| c.into_iter()).collect();
    Ok(Some(
        (0..n)
            .map(|_| Value::List(columns.iter_mut().filter_map(|c| c.next()).collect()))
            .collect(),
    ))
}

/// Adds Layer rows as `Layer::assign` does: a (geometry, part) pair the Layer already
/// assigns gets the new assignments, any other is appended.
fn merge_layer_rows(members: &mut Vec<Value>, rows: Vec<Value>) {
    fn key(v: &Value) -> Option<(ObjectId, String)> {
        match v {
            Value::List(items) => match (items.first(), items.get(1)) {
                (Some(Value::Object(g)), Some(Value::String(p))) => Some((*g, p.clone())),
                _ => None,
            },
            _ => None,
        }
    }
    let mut at: HashMap<(ObjectId, String), usize> = HashMap::new();
    for (i, m) in members.iter().enumerate() {
        if let Some(k) = key(m) {
            at.entry(k).or_insert(i);
        }
    }
    for row in rows {
        match key(&row).and_then(|k| at.get(&k).copied()) {
            Some(i) => members[i] = row,
            None => {
                if let Some(k) = key(&row) {
                    at.insert(k, members.len());
                }
                members.push(row);
            }
        }
    }
}

/// The Layer's attribute vectors, in the order each row lists its assignments.
pub(crate) const LAYER_ASSIGNMENTS: [&str; 7] = [
    "surface_shaders",
    "lightsets",
    "displacements",
    "volume_shaders",
    "lightfiltersets",
    "shadowsets",
    "shadowreceiversets",
];

/// A Layer's parallel vectors as rows `{geometry, part, assignment...}` (null assignments
/// left out), the canonical form of an RDLA Layer row.
fn layer_rows(attrs: &mut Vec<(String, Value)>) -> Result<Vec<Value>, String> {
    let list = |v: Option<Value>| match v {
        Some(Value::List(items)) => items,
        _ => Vec::new(),
    };
    let geometries = list(take(attrs, "geometries"));
    let parts = list(take(attrs, "parts"));
    let assignments: Vec<(&str, Vec<Value>)> = LAYER_ASSIGNMENTS
        .iter()
        .map(|name| (*name, list(take(attrs, name))))
        .collect();
    let n = geometries.len();
    if parts.len() != n {
        return Err(format!(
            "the Layer has {n} geometries but {} parts",
            parts.len()
        ));
    }
    for (name, column) in &assignments {
        if !column.is_empty() && column.len() != n {
            return Err(format!(
                "the Layer has {n} geometries but {} {name}",
                column.len()
            ));
        }
    }
    let mut rows = Vec::with_capacity(n);
    for (i, (geometry, part)) in geometries.into_iter().zip(parts).enumerate() {
        if !matches!(geometry, Value::Object(_)) {
            return Err(format!("Layer assignment {} has no geometry", i + 1));
        }
        let mut row = vec![geometry, part];
        for (_, column) in &assignments {
            if let Some(v @ Value::Object(_)) = column.get(i) {
                row.push(v.clone());
            }
        }
        rows.push(Value::List(row));
    }
    Ok(rows)
}
