//! The renderable scene, built from the RDLA object graph with MoonRay's defaults and
//! semantics: which camera, which geometry with which material (the Layer), which lights.
//!
//! What the built-in renderer does not support still loads: each such object gets one warning
//! and is skipped (geometry, lights, maps) or, where a geometry uses it, replaced by a grey
//! diffuse stand-in (materials).
//!
//! Module map: `settings` reads SceneVariables, `cameras` the camera, `layer` walks the Layer, `shapes` and `mesh`
//! make primitives, `materials` and `lights` the rest, `known` holds the class and attribute
//! allow-lists that decide what is warned about.

mod cameras;
mod curves;
mod finite;
mod known;
mod layer;
mod lights;
mod maps;
mod materials;
mod mesh;
mod noise_maps;
mod normals;
mod settings;
mod shapes;
mod triplanar;

pub use crate::filter::PixelFilter;
pub use settings::{AdaptiveSampling, Settings};

use crate::bsdf::Material;
use crate::bvh::Bvh;
use crate::camera::Camera;
use crate::geometry::{MaterialId, Primitive};
use crate::graph::{ObjectId, SceneGraph, Value};
use crate::light::Light;
use known::{GEOMETRY, LIGHTS, MATERIALS, STRUCTURAL};
use std::collections::HashMap;

#[derive(Debug)]
pub struct Scene {
    pub width: u32,
    pub height: u32,
    pub camera: Camera,
    pub bvh: Bvh,
    pub materials: Vec<Material>,
    /// The maps bound into materials, evaluated per shading point.
    pub maps: crate::shading::Maps,
    /// Primitive attribute names, interned: `Corners::attrs` and `AttributeMap` refer to them
    /// by index.
    pub attribute_names: Vec<String>,
    /// Every light some Layer entry links (what the camera may see).
    pub lights: Vec<Light>,
    /// The distinct light sets of the Layer's entries, as indices into `lights`.
    pub light_sets: Vec<Vec<u32>>,
    /// For each material id, the light set (index into `light_sets`) of the Layer entry that
    /// assigned it: a material used by entries with different light sets has one id per set,
    /// so that a hit finds its lights through the material id it already carries.
    pub material_light_set: Vec<u32>,
    /// The distinct shadow sets of the Layer's entries (the lights their geometry casts no
    /// shadow from), as indices into `lights`; set 0 is empty. Like light sets, reached through
    /// `material_shadow_set`.
    pub shadow_sets: Vec<Vec<u32>>,
    pub material_shadow_set: Vec<u32>,
    /// For each material id, its cut-out when it can have one (UsdPreviewSurface with an
    /// `opacityThreshold`): where it cuts out, rays go on as if the surface were not there.
    pub material_cutout: Vec<Option<Cutout>>,
    /// Whether some entry of `material_cutout` is set: without, shadow rays take the plain
    /// any-hit query.
    pub has_cutouts: bool,
    pub settings: Settings,
    pub output_file: Option<String>,
    pub frame: i32,
}

/// Where a material is absent: MoonRay's presence 0, which UsdPreviewSurface gives where
/// `opacity < opacityThreshold` (moonray dso/material/UsdPreviewSurface/UsdPreviewSurface.cc,
/// `presence`: `opacity >= opacityThreshold ? 1 : 0`).
#[derive(Debug, Clone, PartialEq)]
pub struct Cutout {
    /// The opacity, a constant below the threshold (absent everywhere) or a map.
    pub opacity: crate::shading::Param,
    pub threshold: f32,
}

impl Scene {
    /// Whether some Layer entry's geometry casts no shadow from some light.
    pub fn has_shadow_sets(&self) -> bool {
        self.shadow_sets.iter().any(|s| !s.is_empty())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SceneError {
    #[error("{files}: the scene has no camera; add `PerspectiveCamera(\"cam\") {{ ... }}` (or `Camera`) and point SceneVariables' `camera` at it")]
    NoCamera { files: String },
    #[error("{loc}: {message}")]
    Invalid { loc: String, message: String },
}

/// Options from the command line that change the scene.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildOptions {
    /// Resolution divisor, as MoonRay's `-res`; multiplies the scene's own `res`.
    pub res: f64,
    /// The files the scene references, by the path as written (see `assets`); a file not
    /// here renders as MoonRay renders a missing one would not: with a warning, as before.
    pub assets: crate::assets::Assets,
    /// Referenced files the caller could not read and has already warned about (the
    /// producer's `--allow-missing`): a map that needs one renders without it and says nothing
    /// more, so that a missing file is one warning, not two.
    pub reported_missing: std::collections::HashSet<String>,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            res: 1.0,
            assets: Default::default(),
            reported_missing: Default::default(),
        }
    }
}

/// What `build` accumulates while it reads the graph; each concept module (`settings`,
/// `layer`, `shapes`, `mesh`, `materials`, `lights`) adds its own methods. Lives for one
/// `build` call, which moves the primitives, materials and warnings into the `Scene`.
struct SceneBuilder<'g> {
    /// The loaded graph, borrowed for the whole build.
    g: &'g SceneGraph,
    /// The referenced files' bytes, borrowed from the options.
    assets: &'g crate::assets::Assets,
    reported_missing: &'g std::collections::HashSet<String>,
    /// The loader's warnings first, then one per thing the built-in renderer cannot render.
    warnings: Vec<String>,
    prims: Vec<Primitive>,
    materials: Vec<Material>,
    maps: crate::shading::Maps,
    /// Each map object is built once (None while it is being built: a cycle).
    map_ids: HashMap<ObjectId, Option<crate::shading::MapId>>,
    /// Each texture file decoded once per colour rule, by path.
    textures: HashMap<(String, crate::texture::Gamma), std::sync::Arc<crate::texture::Texture>>,
    attribute_names: Vec<String>,
    /// The materials being built, innermost last (a combining material builds its inputs).
    materials_building: Vec<ObjectId>,
    /// Each material object is built once per light set, however many geometries use it
    /// (`None`: grey).
    material_ids: HashMap<(Option<ObjectId>, u32, u32), MaterialId>,
    /// The light set and shadow set of each material id (see `Scene::material_light_set`).
    material_light_set: Vec<u32>,
    material_shadow_set: Vec<u32>,
    /// The cut-out of each material id (see `Scene::material_cutout`), and the one the
    /// material being built last left (taken by `material`).
    material_cutout: Vec<Option<Cutout>>,
    built_cutout: Option<Cutout>,
    shadow_sets: Vec<Vec<ObjectId>>,
    current_shadow_set: u32,
    /// The light sets of the Layer's entries as light objects, and the one of the entry
    /// whose geometry is being added now (`layer`).
    light_sets: Vec<Vec<ObjectId>>,
    current_light_set: u32,
    /// The first error a concept module found (a mesh indexing vertices it does not have):
    /// the modules go on returning what they built, and `build` returns this instead.
    error: Option<SceneError>,
    /// How many instancers deep `shapes::geometry` is now.
    instance_depth: usize,
    /// The geometry a BakeCamera bakes: its meshes keep their uvs whatever their material,
    /// and `prims_of_bake` is the range of `prims` it made.
    bake_geometry: Option<ObjectId>,
    prims_of_bake: std::ops::Range<usize>,
}

/// Builds the scene; returns it with the warnings (loader warnings first).
pub fn build(g: &SceneGraph, opts: &BuildOptions) -> Result<(Scene, Vec<String>), SceneError> {
    finite::check(g)?;
    let mut b = SceneBuilder {
        g,
        assets: &opts.assets,
        reported_missing: &opts.reported_missing,
        warnings: g.warnings.clone(),
        prims: Vec::new(),
        materials: Vec::new(),
        maps: crate::shading::Maps::default(),
        map_ids: HashMap::new(),
        textures: HashMap::new(),
        attribute_names: Vec::new(),
        materials_building: Vec::new(),
        material_ids: HashMap::new(),
        material_light_set: Vec::new(),
        material_shadow_set: Vec::new(),
        material_cutout: Vec::new(),
        built_cutout: None,
        shadow_sets: Vec::new(),
        current_shadow_set: 0,
        light_sets: Vec::new(),
        current_light_set: 0,
        error: None,
        instance_depth: 0,
        bake_geometry: None,
        prims_of_bake: 0..0,
    };
    let vars = b.scene_variables();
    let files = files_of(g);

    // One warning for every object of a class the built-in renderer does not handle. Not for
    // materials: one it does not handle is not skipped but rendered grey, and says so where a
    // geometry uses it (`materials`), once.
    for o in &g.objects {
        let c = o.class.as_str();
        if !(GEOMETRY.contains(&c)
            || MATERIALS.contains(&c)
            || crate::classes::is_a(c, "Material")
            || LIGHTS.contains(&c)
            || STRUCTURAL.contains(&c)
            || maps::MAPS.contains(&c)
            || noise_maps::NOISE_MAPS.contains(&c)
            || crate::classes::is_a(c, "Camera"))
        {
            b.warnings.push(format!(
                "{}: {} `{}` is not supported by the built-in renderer; skipped",
                o.loc, o.class, o.name
            ));
        }
    }

    let camera_id = match g.scene_variables.get("camera") {
        Some(Value::Object(id)) => Some(*id),
        // As MoonRay does without a `camera`: the first camera of any class.
        _ => g
            .objects
            .iter()
            .position(|o| crate::classes::is_a(&o.class, "Camera")),
    };
    let Some(camera_id) = camera_id else {
        return Err(SceneError::NoCamera { files });
    };
    let res = (vars.res * opts.res).max(1e-6);
    let width = ((f64::from(vars.width) / res).round() as u32).max(1);
    let height = ((f64::from(vars.height) / res).round() as u32).max(1);
    if g.object(camera_id).class == "BakeCamera" {
        b.bake_geometry = match g.object(camera_id).attrs.get("geometry") {
            Some(Value::Object(id)) => Some(*id),
            _ => None,
        };
    }

    let layer = match g.scene_variables.get("layer") {
        Some(Value::Object(id)) => Some(*id),
        _ => g.objects.iter().position(|o| o.class == "Layer"),
    };
    let light_ids = b.geometry_and_light_sets(layer);
    let mut lights: Vec<Light> = Vec::new();
    let mut light_index: HashMap<ObjectId, u32> = HashMap::new();
    for id in light_ids {
        if let Some(l) = b.light(id, vars.lights_visible_in_camera, vars.scene_scale) {
            light_index.insert(id, lights.len() as u32);
            lights.push(l);
        }
    }
    let as_indices = |sets: &[Vec<ObjectId>]| -> Vec<Vec<u32>> {
        sets.iter()
            .map(|set| {
                set.iter()
                    .filter_map(|id| light_index.get(id).copied())
                    .collect()
            })
            .collect()
    };
    let light_sets = as_indices(&b.light_sets);
    let mut shadow_sets = as_indices(&b.shadow_sets);
    if shadow_sets.is_empty() {
        shadow_sets.push(Vec::new());
    }
    // After the geometry: a BakeCamera's rays start on its geometry.
    let camera = b.camera(camera_id, width, height);
    if let Some(e) = b.error.take() {
        return Err(e);
    }
    if b.prims.is_empty() {
        b.warnings
            .push(format!("{files}: the scene has no renderable geometry"));
    }
    if lights.is_empty() {
        b.warnings.push(format!("{files}: the scene has no lights: the image will be black except for emissive materials"));
    }
    let scene = Scene {
        width,
        height,
        camera,
        bvh: Bvh::build(std::mem::take(&mut b.prims)),
        materials: std::mem::take(&mut b.materials),
        maps: std::mem::take(&mut b.maps),
        attribute_names: std::mem::take(&mut b.attribute_names),
        lights,
        light_sets,
        material_light_set: std::mem::take(&mut b.material_light_set),
        shadow_sets,
        material_shadow_set: std::mem::take(&mut b.material_shadow_set),
        has_cutouts: b.material_cutout.iter().any(Option::is_some),
        material_cutout: std::mem::take(&mut b.material_cutout),
        settings: vars.settings,
        output_file: vars.output_file,
        frame: vars.frame,
    };
    Ok((scene, b.warnings))
}

fn files_of(g: &SceneGraph) -> String {
    let mut files: Vec<&str> = g.objects.iter().map(|o| o.loc.file.as_str()).collect();
    files.dedup();
    if files.is_empty() {
        "scene".into()
    } else {
        files.join(", ")
    }
}

impl SceneBuilder<'_> {
    /// Records an error in object `o`; the first one recorded is what `build` returns.
    fn fail(&mut self, o: &crate::graph::Object, message: String) {
        self.error.get_or_insert(SceneError::Invalid {
            loc: o.loc.to_string(),
            message,
        });
    }
}
