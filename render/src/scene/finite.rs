//! Every number a scene gives is finite: a NaN or an infinity in a transform, a light or a
//! material renders black or garbage silently, so it is an error naming the object, the
//! attribute and where the object was declared.

use super::SceneError;
use crate::graph::{Object, SceneGraph, Value};

/// The first attribute of the graph holding NaN or an infinity, as an error.
pub(super) fn check(g: &SceneGraph) -> Result<(), SceneError> {
    let vars = g
        .scene_variables
        .iter()
        .map(|(name, v)| ("SceneVariables", "", name, v, None));
    let objects = g.objects.iter().flat_map(|o| {
        o.attrs
            .iter()
            .map(move |(name, v)| (o.class.as_str(), o.name.as_str(), name, v, Some(o)))
    });
    for (class, object, attr, value, o) in vars.chain(objects) {
        if let Some(bad) = non_finite(value) {
            return Err(SceneError::Invalid {
                loc: o.map_or_else(|| super::files_of(g), |o: &Object| o.loc.to_string()),
                message: format!(
                    "{class} `{object}`: attribute `{attr}` holds {bad}; every number in a scene must be finite"
                ),
            });
        }
    }
    Ok(())
}

/// "NaN", "inf" or "-inf" when the value (or a value inside it) is one.
fn non_finite(v: &Value) -> Option<&'static str> {
    let word = |x: f64| {
        if x.is_nan() {
            Some("NaN")
        } else if x.is_infinite() {
            Some(if x > 0.0 { "inf" } else { "-inf" })
        } else {
            None
        }
    };
    let any = |xs: &[f64]| xs.iter().find_map(|&x| word(x));
    match v {
        Value::Float(x) => word(*x),
        Value::Rgb(c) | Value::Vec3(c) => any(c),
        Value::Rgba(c) | Value::Vec4(c) => any(c),
        Value::Vec2(c) => any(c),
        Value::Mat4(m) => any(m),
        Value::List(items) => items.iter().find_map(non_finite),
        Value::Bind { value, .. } => non_finite(value),
        Value::Undef | Value::Bool(_) | Value::Int(_) | Value::String(_) | Value::Object(_) => None,
    }
}
