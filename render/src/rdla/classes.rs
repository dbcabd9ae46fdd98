//! What the RDLA loader asks of MoonRay's class list (`crate::classes`): which globals are
//! constructors, which classes are sets (their table's array part lists members rather than
//! attributes), and what an attribute name given in a scene stands for.
//!
//! Every class of MoonRay and its shader libraries is a constructor, whether or not the
//! built-in renderer can draw it: a real scene never fails with "undefined global". Whether a
//! class is *supported* is the scene builder's business (it warns per unsupported object).

use crate::classes::{class_info, constructible};
use crate::graph::Value;

/// Classes whose table array part holds members (`Object::members`) rather than being an error.
/// `Layer` rows are tables (`{geometry, part, material, lightset, ...}`); the others list
/// objects.
pub(crate) const SET_CLASSES: &[&str] = &[
    "GeometrySet",
    "LightSet",
    "LightFilterSet",
    "ShadowSet",
    "ShadowReceiverSet",
    "TraceSet",
    "Layer",
    "Metadata",
];

/// Resolves a global to the class it constructs (`Camera` is `PerspectiveCamera`, as in
/// scene_rdl2's `constructors.lua`); `None` when the name is not a MoonRay scene class.
pub(crate) fn canonical_class(name: &str) -> Option<&'static str> {
    constructible(name).map(|c| c.name.as_str())
}

/// Whether the class's table array part lists members.
pub(crate) fn is_set_class(class: &str) -> bool {
    SET_CLASSES.contains(&class)
}

/// The canonical name of attribute `name` on `class`, and whether MoonRay's class has it.
/// MoonRay's own aliases map to their attribute (`"node xform"` is `node_xform`,
/// `subd_resolution` is `mesh_resolution`); any other spaced name becomes its underscored
/// form, as MoonRay's legacy spaced names are aliases of the underscored ones. On a class whose
/// attributes are not known here every name counts as known.
pub(crate) fn canonical_attr(class: &str, name: &str) -> (String, bool) {
    let underscored = name.replace(' ', "_");
    let Some(info) = class_info(class).filter(|c| c.attributes_known()) else {
        return (underscored, true);
    };
    match info
        .canonical(name)
        .or_else(|| info.canonical(&underscored))
    {
        Some(canonical) => (canonical.to_string(), true),
        None => (underscored, false),
    }
}

/// An enumerable attribute given by label (`["space"] = "object"`) takes the label's value, as
/// scene_rdl2's `AsciiReader` converts it; a label the attribute does not have is an error
/// message (MoonRay warns and leaves the attribute unset). Other values pass unchanged.
pub(crate) fn resolve_enum(class: &str, name: &str, value: Value) -> Result<Value, String> {
    let Some(attr) = class_info(class).and_then(|c| c.attribute(name)) else {
        return Ok(value);
    };
    if attr.enum_values.is_empty() {
        return Ok(value);
    }
    match value {
        Value::String(label) => match attr.enum_values.iter().find(|(l, _)| *l == label) {
            Some((_, v)) => Ok(Value::Int(*v)),
            None => {
                let labels: Vec<String> = attr
                    .enum_values
                    .iter()
                    .map(|(l, _)| format!("\"{l}\""))
                    .collect();
                Err(format!(
                    "invalid enumeration value \"{label}\" for {class} attribute `{name}` (one of {}); attribute left unset",
                    labels.join(", ")
                ))
            }
        },
        Value::Bind { target, value } => Ok(Value::Bind {
            target,
            value: Box::new(resolve_enum(class, name, *value)?),
        }),
        other => Ok(other),
    }
}
