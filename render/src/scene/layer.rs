//! The Layer: which geometry is rendered with which material, lit by which lights: each
//! entry's own light set, as MoonRay links them (moonray lib/rendering/pbr/core/Scene.cc,
//! `updateLightList`: one light list per Layer assignment, none for an entry without a light
//! set; the scene's lights are those of every entry's set).

use super::known::{GEOMETRY, LIGHTS};
use super::{files_of, SceneBuilder};
use crate::attrs::object_of;
use crate::graph::{ObjectId, Value};
use glam::Mat4;
use std::collections::HashMap;

/// A Layer entry as read here: geometry, material, light set, shadow set.
type Entry = (
    ObjectId,
    Option<ObjectId>,
    Option<ObjectId>,
    Option<ObjectId>,
);

/// The objects a set (LightSet, ShadowSet) lists, each once.
fn members(g: &crate::graph::SceneGraph, set: ObjectId) -> Vec<ObjectId> {
    let mut out: Vec<ObjectId> = Vec::new();
    for m in &g.object(set).members {
        if let Value::Object(id) = m {
            if !out.contains(id) {
                out.push(*id);
            }
        }
    }
    out
}

impl SceneBuilder<'_> {
    /// Walks the Layer: adds every assigned geometry with its material under its entry's light
    /// set (`light_sets`) and returns the lights of all the sets. When no entry names a light
    /// set (or there is no Layer), every entry is lit by every light of the scene: where MoonRay
    /// would render black, the built-in renderer keeps a light-set-less scene lit.
    pub(super) fn geometry_and_light_sets(&mut self, layer: Option<ObjectId>) -> Vec<ObjectId> {
        let g = self.g;
        let mut assignments: Vec<Entry> = Vec::new();
        match layer {
            Some(l) => {
                for row in &g.object(l).members {
                    let Value::List(items) = row else { continue };
                    let mut geom = None;
                    let mut mat = None;
                    let mut set = None;
                    let mut shadows = None;
                    for item in items {
                        if let Value::Object(id) = item {
                            let class = g.object(*id).class.as_str();
                            if class == "LightSet" {
                                set = set.or(Some(*id));
                            } else if class == "ShadowSet" {
                                shadows = shadows.or(Some(*id));
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
                        assignments.push((geom, mat, set, shadows));
                    }
                }
            }
            None => {
                for (id, o) in g.objects.iter().enumerate() {
                    if GEOMETRY.contains(&o.class.as_str()) {
                        assignments.push((id, None, None, None));
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
        for (geom, ..) in &assignments {
            let o = g.object(*geom);
            if o.class == "RdlInstancerGeometry" {
                if let Some(Value::List(refs)) = o.attrs.get("references") {
                    referenced.extend(refs.iter().filter_map(object_of));
                }
            }
        }
        let own_material: HashMap<ObjectId, Option<ObjectId>> =
            assignments.iter().map(|(g, m, ..)| (*g, *m)).collect();
        // The light sets as lists of lights, each set once; set 0 is every light when no entry
        // names a set, and no light otherwise (an entry without one).
        let linked = assignments.iter().any(|a| a.2.is_some());
        self.light_sets = vec![if linked {
            Vec::new()
        } else {
            g.objects
                .iter()
                .enumerate()
                .filter(|(_, o)| LIGHTS.contains(&o.class.as_str()))
                .map(|(i, _)| i)
                .collect()
        }];
        // Shadow set 0 is the empty one: geometry that shadows every light.
        self.shadow_sets = vec![Vec::new()];
        let mut set_index: HashMap<ObjectId, u32> = HashMap::new();
        let mut shadow_index: HashMap<ObjectId, u32> = HashMap::new();
        let mut done = std::collections::HashSet::new();
        for (geom, mat, set, shadows) in assignments {
            if referenced.contains(&geom) || !done.insert(geom) {
                continue;
            }
            self.current_light_set = match set {
                None => 0,
                Some(ls) => *set_index.entry(ls).or_insert_with(|| {
                    self.light_sets.push(members(g, ls));
                    (self.light_sets.len() - 1) as u32
                }),
            };
            // MoonRay's shadow linking (moonray lib/rendering/geom/prim/ShadowLinking.h,
            // `canCastShadow`; PathIntegratorUtil.cc): the entry's geometry casts no shadow
            // from the lights of its ShadowSet.
            self.current_shadow_set = match shadows {
                None => 0,
                Some(ss) => *shadow_index.entry(ss).or_insert_with(|| {
                    self.shadow_sets.push(members(g, ss));
                    (self.shadow_sets.len() - 1) as u32
                }),
            };
            let start = self.prims.len();
            self.geometry(geom, mat, Mat4::IDENTITY, &own_material);
            if self.bake_geometry == Some(geom) {
                self.prims_of_bake = start..self.prims.len();
            }
        }
        // Materials built outside a Layer entry (none today) would be lit by set 0.
        self.current_light_set = 0;
        self.current_shadow_set = 0;
        let mut lights = Vec::new();
        for set in &self.light_sets {
            for id in set {
                if !lights.contains(id) {
                    lights.push(*id);
                }
            }
        }
        lights
    }
}
