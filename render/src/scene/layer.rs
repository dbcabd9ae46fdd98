//! The Layer: which geometry is rendered with which material, and which lights its light
//! sets name.

use super::known::{GEOMETRY, LIGHTS};
use super::{files_of, SceneBuilder};
use crate::attrs::object_of;
use crate::graph::{ObjectId, Value};
use glam::Mat4;
use std::collections::HashMap;

impl SceneBuilder<'_> {
    /// Walks the Layer: adds every assigned geometry with its material and returns the lights
    /// of the light sets it names (every light of the scene when it names none).
    pub(super) fn geometry_and_light_sets(&mut self, layer: Option<ObjectId>) -> Vec<ObjectId> {
        let g = self.g;
        let mut assignments: Vec<(ObjectId, Option<ObjectId>)> = Vec::new();
        let mut light_sets = Vec::new();
        match layer {
            Some(l) => {
                for row in &g.object(l).members {
                    let Value::List(items) = row else { continue };
                    let mut geom = None;
                    let mut mat = None;
                    for item in items {
                        if let Value::Object(id) = item {
                            let class = g.object(*id).class.as_str();
                            if class == "LightSet" {
                                light_sets.push(*id);
                            } else if geom.is_none()
                                && (GEOMETRY.contains(&class) || class.ends_with("Geometry"))
                            {
                                geom = Some(*id);
                            } else if mat.is_none()
                                && (class.ends_with("Material")
                                    || crate::classes::is_a(class, "Material"))
                            {
                                mat = Some(*id);
                            }
                        }
                    }
                    if let Some(geom) = geom {
                        assignments.push((geom, mat));
                    }
                }
            }
            None => {
                for (id, o) in g.objects.iter().enumerate() {
                    if GEOMETRY.contains(&o.class.as_str()) {
                        assignments.push((id, None));
                    }
                }
                // Without geometry there is nothing to render grey: "no renderable geometry"
                // says what matters.
                if !assignments.is_empty() {
                    self.warnings.push(format!(
                        "{}: the scene has no Layer: rendering every geometry with a grey material",
                        files_of(g)
                    ));
                }
            }
        }
        // Geometry referenced by an instancer renders only through its instances.
        let mut referenced = std::collections::HashSet::new();
        for (geom, _) in &assignments {
            let o = g.object(*geom);
            if o.class == "RdlInstancerGeometry" {
                if let Some(Value::List(refs)) = o.attrs.get("references") {
                    referenced.extend(refs.iter().filter_map(object_of));
                }
            }
        }
        let own_material: HashMap<ObjectId, Option<ObjectId>> =
            assignments.iter().map(|(g, m)| (*g, *m)).collect();
        let mut done = std::collections::HashSet::new();
        for (geom, mat) in assignments {
            if referenced.contains(&geom) || !done.insert(geom) {
                continue;
            }
            let start = self.prims.len();
            self.geometry(geom, mat, Mat4::IDENTITY, &own_material);
            if self.bake_geometry == Some(geom) {
                self.prims_of_bake = start..self.prims.len();
            }
        }
        let mut lights = Vec::new();
        if light_sets.is_empty() {
            lights.extend(
                g.objects
                    .iter()
                    .enumerate()
                    .filter(|(_, o)| LIGHTS.contains(&o.class.as_str()))
                    .map(|(i, _)| i),
            );
        } else {
            for ls in light_sets {
                for m in &g.object(ls).members {
                    if let Value::Object(id) = m {
                        if !lights.contains(id) {
                            lights.push(*id);
                        }
                    }
                }
            }
        }
        lights
    }
}
