//! Writing a [`SceneGraph`] back as RDLA text that the loader reads into the same graph:
//! numbers printed so they parse to the same value (floats in their shortest exact form,
//! ints as ints), objects declared in graph order, sets and Layers with their rows.

use std::fmt::Write;

use crate::graph::{ObjectId, SceneGraph, Value};
use crate::rdlb::{is_large, large_members};

/// Writes `graph` as RDLA. With `split`, leaves out what a split scene keeps in its binary
/// half (vectors of more than 12 elements, large Layers; see `rdlb::is_large`).
pub fn write(graph: &SceneGraph, split: bool) -> String {
    let mut out = String::new();
    // Declaring every object first, in graph order, keeps that order when a block refers to
    // an object declared further down (the reference would otherwise create it early).
    let forward = graph.objects.iter().enumerate().any(|(id, o)| {
        let mut refs = Vec::new();
        o.attrs
            .values()
            .chain(&o.members)
            .for_each(|v| collect_refs(v, &mut refs));
        refs.iter().any(|r| *r > id)
    }) || graph.scene_variables.values().any(|v| {
        let mut refs = Vec::new();
        collect_refs(v, &mut refs);
        !refs.is_empty()
    });
    if forward {
        for o in &graph.objects {
            let _ = writeln!(out, "{}({})", o.class, quote(&o.name));
        }
        out.push('\n');
    }
    let keep = |v: &Value| !split || !is_large(v);
    if !graph.scene_variables.is_empty() {
        out.push_str("SceneVariables {\n");
        for (name, value) in graph.scene_variables.iter().filter(|(_, v)| keep(v)) {
            attr_line(&mut out, graph, name, value);
        }
        out.push_str("}\n\n");
    }
    for o in &graph.objects {
        let _ = writeln!(out, "{}({}) {{", o.class, quote(&o.name));
        for (name, value) in o.attrs.iter().filter(|(_, v)| keep(v)) {
            attr_line(&mut out, graph, name, value);
        }
        if !(split && large_members(graph, o)) {
            for m in &o.members {
                out.push_str("    ");
                value(&mut out, graph, m);
                out.push_str(",\n");
            }
        }
        out.push_str("}\n\n");
    }
    out
}

fn collect_refs(v: &Value, out: &mut Vec<ObjectId>) {
    match v {
        Value::Object(id) => out.push(*id),
        Value::List(items) => items.iter().for_each(|i| collect_refs(i, out)),
        Value::Bind { target, value } => {
            out.extend(target);
            collect_refs(value, out);
        }
        _ => {}
    }
}

fn attr_line(out: &mut String, graph: &SceneGraph, name: &str, v: &Value) {
    let _ = write!(out, "    [{}] = ", quote(name));
    value(out, graph, v);
    out.push_str(",\n");
}

/// A Lua string literal that reads back as `s`, byte for byte.
fn quote(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(q, "\\{:03}", c as u32);
            }
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

/// A Lua number that reads back as exactly `x` and stays a float.
fn float(out: &mut String, x: f64) {
    if x.is_nan() {
        out.push_str("(0/0)");
    } else if x.is_infinite() {
        out.push_str(if x > 0.0 { "math.huge" } else { "-math.huge" });
    } else {
        // `{:?}` is the shortest form that parses back to the same f64, and always has a
        // '.' or an exponent ("1.0", "1e-7"), so Lua reads a float, never an integer.
        let _ = write!(out, "{x:?}");
    }
}

fn floats(out: &mut String, name: &str, xs: &[f64]) {
    out.push_str(name);
    out.push('(');
    for (i, x) in xs.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        float(out, *x);
    }
    out.push(')');
}

fn value(out: &mut String, graph: &SceneGraph, v: &Value) {
    match v {
        Value::Undef => out.push_str("undef()"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) if *i == i64::MIN => out.push_str("math.mininteger"),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) => float(out, *f),
        Value::String(s) => out.push_str(&quote(s)),
        Value::Rgb(c) => floats(out, "Rgb", c),
        Value::Rgba(c) => floats(out, "Rgba", c),
        Value::Vec2(c) => floats(out, "Vec2", c),
        Value::Vec3(c) => floats(out, "Vec3", c),
        Value::Vec4(c) => floats(out, "Vec4", c),
        Value::Mat4(m) => floats(out, "Mat4", m),
        Value::Object(id) => {
            let o = graph.object(*id);
            let _ = write!(out, "{}({})", o.class, quote(&o.name));
        }
        Value::List(items) => {
            out.push('{');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                value(out, graph, item);
            }
            out.push('}');
        }
        Value::Bind { target, value: v } => {
            out.push_str("bind(");
            match target {
                Some(id) => value(out, graph, &Value::Object(*id)),
                None => out.push_str("undef()"),
            }
            if !matches!(**v, Value::Undef) {
                out.push_str(", ");
                value(out, graph, v);
            }
            out.push(')');
        }
    }
}
