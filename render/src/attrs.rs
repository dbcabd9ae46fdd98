//! Typed reads of object attributes with MoonRay's defaults, collecting a warning for every
//! value of the wrong type instead of failing the render.

use crate::graph::{Object, ObjectId, SceneGraph, Value};
use glam::{Mat4, Vec3};

/// Reads attributes of one object, remembering which names were asked for so that the rest
/// can be reported as unknown.
pub struct Attrs<'a> {
    pub graph: &'a SceneGraph,
    pub obj: &'a Object,
    pub warnings: &'a mut Vec<String>,
}

/// The constant a value stands for: a `bind(map, value)` falls back to its value (maps are not
/// evaluated by the built-in renderer), `blur` was already resolved by the loader.
fn constant(v: &Value) -> &Value {
    match v {
        Value::Bind { value, .. } => constant(value),
        other => other,
    }
}

impl<'a> Attrs<'a> {
    pub fn new(graph: &'a SceneGraph, obj: &'a Object, warnings: &'a mut Vec<String>) -> Attrs<'a> {
        Attrs {
            graph,
            obj,
            warnings,
        }
    }

    fn get(&mut self, name: &str) -> Option<&'a Value> {
        let v = self.obj.attrs.get(name)?;
        if let Value::Bind {
            target: Some(t),
            value,
        } = v
        {
            if matches!(**value, Value::Undef) {
                // An AttributeMap whose primitive attribute is absent yields its default_value,
                // which is what MoonRay shows for geometry without that attribute.
                let map = self.graph.object(*t);
                if map.class == "AttributeMap" {
                    if let Some(d) = map.attrs.get("default_value") {
                        let d = constant(d);
                        if !matches!(d, Value::Undef) {
                            return Some(d);
                        }
                    }
                }
                self.warnings.push(format!(
                    "{}: {} `{}`: attribute `{name}` is bound to {} `{}`, which the built-in renderer does not evaluate; using the default",
                    self.obj.loc, self.obj.class, self.obj.name, self.graph.object(*t).class, self.graph.object(*t).name
                ));
            }
        }
        match constant(v) {
            Value::Undef => None,
            c => Some(c),
        }
    }

    fn wrong(&mut self, name: &str, want: &str, got: &Value) {
        self.warnings.push(format!(
            "{}: {} `{}`: attribute `{name}` should be {want}, got {got:?}; using the default",
            self.obj.loc, self.obj.class, self.obj.name
        ));
    }

    pub fn f32(&mut self, name: &str, default: f32) -> f32 {
        match self.get(name) {
            None => default,
            Some(Value::Float(f)) => *f as f32,
            Some(Value::Int(i)) => *i as f32,
            Some(v) => {
                self.wrong(name, "a number", v);
                default
            }
        }
    }

    pub fn int(&mut self, name: &str, default: i64) -> i64 {
        match self.get(name) {
            None => default,
            Some(Value::Int(i)) => *i,
            Some(Value::Float(f)) if f.fract() == 0.0 => *f as i64,
            Some(Value::Bool(b)) => i64::from(*b),
            Some(v) => {
                self.wrong(name, "an integer", v);
                default
            }
        }
    }

    pub fn bool(&mut self, name: &str, default: bool) -> bool {
        match self.get(name) {
            None => default,
            Some(Value::Bool(b)) => *b,
            Some(Value::Int(i)) => *i != 0,
            Some(v) => {
                self.wrong(name, "a boolean", v);
                default
            }
        }
    }

    pub fn string(&mut self, name: &str) -> Option<String> {
        match self.get(name) {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(v) => {
                self.wrong(name, "a string", v);
                None
            }
        }
    }

    pub fn rgb(&mut self, name: &str, default: Vec3) -> Vec3 {
        match self.get(name) {
            None => default,
            Some(Value::Rgb(c) | Value::Vec3(c)) => {
                Vec3::new(c[0] as f32, c[1] as f32, c[2] as f32)
            }
            Some(Value::Rgba(c)) => Vec3::new(c[0] as f32, c[1] as f32, c[2] as f32),
            Some(Value::Float(f)) => Vec3::splat(*f as f32),
            Some(v) => {
                self.wrong(name, "a colour", v);
                default
            }
        }
    }

    pub fn vec3(&mut self, name: &str, default: Vec3) -> Vec3 {
        self.rgb(name, default)
    }

    pub fn mat4(&mut self, name: &str) -> Mat4 {
        match self.get(name) {
            None => Mat4::IDENTITY,
            Some(Value::Mat4(m)) => mat4_from_rdla(m),
            Some(v) => {
                self.wrong(name, "a Mat4", v);
                Mat4::IDENTITY
            }
        }
    }

    pub fn object(&mut self, name: &str) -> Option<ObjectId> {
        match self.obj.attrs.get(name) {
            Some(Value::Object(id)) => Some(*id),
            Some(Value::Undef) | None => None,
            Some(v) => {
                self.wrong(name, "an object", v);
                None
            }
        }
    }

    /// A list attribute, empty when absent.
    pub fn list(&mut self, name: &str) -> &'a [Value] {
        match self.get(name) {
            Some(Value::List(l)) => l,
            None => &[],
            Some(v) => {
                self.wrong(name, "a list", v);
                &[]
            }
        }
    }

    /// A list of indices or counts: its numbers as `usize` (others are left out).
    pub fn indices(&mut self, name: &str) -> Vec<usize> {
        self.list(name)
            .iter()
            .filter_map(|v| num(v).map(|n| n as usize))
            .collect()
    }

    /// MoonRay's default for the object's attribute `name` (see `crate::classes`), for code
    /// that should fall back to what MoonRay would use rather than a hand-written value.
    pub fn moonray_default(&self, name: &str) -> Option<Value> {
        crate::classes::default(&self.obj.class, name)
    }

    /// Warns once for every attribute set on the object that is not in `known` (what the
    /// built-in renderer reads or knows it can leave aside). An attribute MoonRay's class has
    /// is "not supported"; one it lacks was already reported by the loader; on a class whose
    /// attributes are not known here it is "unknown".
    pub fn warn_unknown(&mut self, known: &[&str]) {
        let class = crate::classes::class_info(&self.obj.class).filter(|c| c.attributes_known());
        for name in self.obj.attrs.keys() {
            if known.contains(&name.as_str()) {
                continue;
            }
            let what = match class {
                Some(c) if c.canonical(name).is_none() => continue,
                Some(_) => "is not supported by the built-in renderer; ignored",
                None => "is unknown; ignored",
            };
            self.warnings.push(format!(
                "{}: {} `{}`: attribute `{name}` {what}",
                self.obj.loc, self.obj.class, self.obj.name
            ));
        }
    }
}

/// RDLA matrices are row-major with row vectors (`p' = p * M`, translation in elements
/// 12..15); read column-major, the same sixteen numbers are the column-vector matrix glam uses.
pub fn mat4_from_rdla(m: &[f64; 16]) -> Mat4 {
    let f: [f32; 16] = std::array::from_fn(|i| m[i] as f32);
    Mat4::from_cols_array(&f)
}

pub fn num(v: &Value) -> Option<f64> {
    match constant(v) {
        Value::Float(f) => Some(*f),
        Value::Int(i) => Some(*i as f64),
        _ => None,
    }
}

/// The object a value refers to, if it is a reference (taken as written, not through a
/// binding).
pub fn object_of(v: &Value) -> Option<ObjectId> {
    match v {
        Value::Object(id) => Some(*id),
        _ => None,
    }
}

pub fn vec3_of(v: &Value) -> Option<Vec3> {
    match constant(v) {
        Value::Vec3(c) | Value::Rgb(c) => Some(Vec3::new(c[0] as f32, c[1] as f32, c[2] as f32)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moonray_defaults_come_from_the_class_data() {
        let g = SceneGraph::default();
        let obj = Object {
            class: "SpotLight".into(),
            name: "s".into(),
            attrs: Default::default(),
            members: Vec::new(),
            loc: Default::default(),
        };
        let mut warnings = Vec::new();
        let a = Attrs::new(&g, &obj, &mut warnings);
        assert_eq!(
            a.moonray_default("inner_cone_angle"),
            Some(Value::Float(30.0))
        );
        assert_eq!(a.moonray_default("intensity"), Some(Value::Float(1.0)));
        assert_eq!(a.moonray_default("no_such_attribute"), None);
    }

    #[test]
    fn rdla_matrices_translate_in_the_last_row() {
        let mut m = [0.0; 16];
        m[0] = 1.0;
        m[5] = 1.0;
        m[10] = 1.0;
        m[15] = 1.0;
        m[12] = 1.0;
        m[13] = 2.0;
        m[14] = 3.0;
        let g = mat4_from_rdla(&m);
        assert_eq!(g.transform_point3(Vec3::ZERO), Vec3::new(1.0, 2.0, 3.0));
    }
}
