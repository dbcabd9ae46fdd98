//! The renderable scene, built from the RDLA object graph with MoonRay's defaults and
//! semantics: which camera, which geometry with which material (the Layer), which lights.
//!
//! What the built-in renderer does not support still loads: each such object gets one warning
//! and is skipped (geometry, lights, maps) or replaced by a grey diffuse stand-in (materials).

use crate::attrs::{mat4_from_rdla, num, vec3_of, Attrs};
use crate::bsdf::Material;
use crate::bvh::Bvh;
use crate::camera::Camera;
use crate::geometry::{MaterialId, Primitive, Sphere};
use crate::graph::{ObjectId, SceneGraph, Value};
use crate::light::{Light, Shape};
use glam::{Mat4, Quat, Vec3};
use std::collections::HashMap;

/// MoonRay's pixel filters, importance-sampled: each sample lands at an offset drawn from the
/// filter, with weight one, so no sample crosses into another tile's accumulation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PixelFilter {
    Box(f32),
    CubicBSpline(f32),
    QuadraticBSpline(f32),
}

impl PixelFilter {
    /// An offset from the pixel centre for one axis, from uniform numbers.
    pub fn offset(&self, u: [f32; 4]) -> f32 {
        match *self {
            PixelFilter::Box(w) => (u[0] - 0.5) * w,
            // A cubic B-spline of support 4 is the sum of four unit boxes; scaled to width w.
            PixelFilter::CubicBSpline(w) => (u[0] + u[1] + u[2] + u[3] - 2.0) * (w / 4.0),
            PixelFilter::QuadraticBSpline(w) => (u[0] + u[1] + u[2] - 1.5) * (w / 3.0),
        }
    }
}

/// Integrator settings from SceneVariables, MoonRay's defaults where unset.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Samples per pixel: `pixel_samples` squared.
    pub spp: u32,
    pub max_depth: u32,
    pub max_diffuse_depth: u32,
    pub max_glossy_depth: u32,
    pub max_mirror_depth: u32,
    /// 0 disables clamping.
    pub sample_clamping_value: f32,
    pub sample_clamping_depth: u32,
    pub filter: PixelFilter,
    pub seed: u64,
}

#[derive(Debug)]
pub struct Scene {
    pub width: u32,
    pub height: u32,
    pub camera: Camera,
    pub bvh: Bvh,
    pub materials: Vec<Material>,
    pub lights: Vec<Light>,
    pub settings: Settings,
    pub output_file: Option<String>,
    pub frame: i32,
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
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions { res: 1.0 }
    }
}

const GEOMETRY: &[&str] = &[
    "SphereGeometry",
    "BoxGeometry",
    "RdlMeshGeometry",
    "RdlInstancerGeometry",
    "RdlPointGeometry",
    "RdlCurveGeometry",
];
/// Spheres placed along a curve's control polygon, at most this many per curve object.
const MAX_CURVE_SPHERES: usize = 200_000;
const MATERIALS: &[&str] = &[
    "DwaBaseMaterial",
    "DwaEmissiveMaterial",
    "DwaMetalMaterial",
    "DwaSolidDielectricMaterial",
    "DwaRefractiveMaterial",
];
const LIGHTS: &[&str] = &[
    "EnvLight",
    "RectLight",
    "SphereLight",
    "DiskLight",
    "DistantLight",
    "SpotLight",
];
/// Classes that organise the scene and need no rendering support of their own.
const STRUCTURAL: &[&str] = &[
    "SceneVariables",
    "GeometrySet",
    "LightSet",
    "Layer",
    "Metadata",
    "PerspectiveCamera",
];

/// Attributes common to every geometry (MoonRay's Geometry and Node interfaces).
const GEOMETRY_COMMON: &[&str] = &[
    "node_xform",
    "label",
    "visible_in_camera",
    "visible_shadow",
    "visible_diffuse_reflection",
    "visible_diffuse_transmission",
    "visible_glossy_reflection",
    "visible_glossy_transmission",
    "visible_mirror_reflection",
    "visible_mirror_transmission",
    "visible_volume",
    "side_type",
    "reverse_normals",
    "ray_epsilon",
    "shadow_ray_epsilon",
    "shadow_receiver_label",
    "shadow_exclusion_mappings",
    "contains_camera",
    "static",
    "use_local_motion_blur",
    "use_rotation_motion_blur",
    "motion_blur_type",
    "primitive_attributes",
    "mesh_resolution",
    "adaptive_error",
    "casts_caustics",
    "explicit_shading",
];
const MATERIAL_COMMON: &[&str] = &[
    "label",
    "show_diffuse",
    "show_specular",
    "show_clearcoat",
    "show_fuzz",
    "show_glitter",
    "show_iridescence",
    "show_emission",
    "show_transmission",
    "show_sss",
    "show_subsurface",
    "show_hair",
    "clearcoat",
    "clearcoat_roughness",
    "clearcoat_refractive_index",
    "clearcoat_thickness",
    "clearcoat_attenuation_color",
    "clearcoat_bump",
    "fuzz",
    "fuzz_roughness",
    "fuzz_albedo",
    "specular_model",
    "diffuse_model",
    "diffuse_roughness",
    "anisotropy",
    "shading_tangent",
    "normal",
    "normal_dial",
    "input_normal",
    "input_normal_dial",
    "casts_caustics",
    "transmission",
    "transmission_color",
    "thin_geometry",
    "extra_aovs",
    "priority",
    "scatter_tag",
    "presence",
    "recolor",
    "metallic_color",
    "metallic_edge_color",
    "refractive_index",
    "iridescence",
    "glitter",
    "sss_model",
    "scattering_radius",
    "scattering_color",
    "emission",
    "evaluate_normals",
];
const LIGHT_COMMON: &[&str] = &[
    "node_xform",
    "on",
    "color",
    "intensity",
    "exposure",
    "normalized",
    "apply_scene_scale",
    "visible_in_camera",
    "label",
    "max_shadow_distance",
    "light_filters",
    "presence",
    "ray_termination",
    "mb",
    "texture",
    "texture_filter",
    "saturation",
    "contrast",
    "gamma",
    "gain",
    "offset",
    "temperature",
    "texture_rotation",
    "texture_translation",
    "texture_coverage",
    "texture_repititions",
    "texture_offset",
    "texture_reps_u",
    "texture_reps_v",
    "clear_radius",
    "clear_radius_falloff_distance",
    "clear_radius_interpolation_type",
    "min_shadow_distance",
    "shadow_lights",
];

fn known<'s>(common: &[&'s str], own: &[&'s str]) -> Vec<&'s str> {
    common.iter().chain(own).copied().collect()
}

struct SceneBuilder<'g> {
    g: &'g SceneGraph,
    warnings: Vec<String>,
    prims: Vec<Primitive>,
    materials: Vec<Material>,
    material_ids: HashMap<Option<ObjectId>, MaterialId>,
}

/// Builds the scene; returns it with the warnings (loader warnings first).
pub fn build(g: &SceneGraph, opts: &BuildOptions) -> Result<(Scene, Vec<String>), SceneError> {
    let mut b = SceneBuilder {
        g,
        warnings: g.warnings.clone(),
        prims: Vec::new(),
        materials: Vec::new(),
        material_ids: HashMap::new(),
    };
    let vars = b.scene_variables();
    let files = files_of(g);

    // One warning for every object of a class the built-in renderer does not handle.
    for o in &g.objects {
        let c = o.class.as_str();
        if !(GEOMETRY.contains(&c)
            || MATERIALS.contains(&c)
            || LIGHTS.contains(&c)
            || STRUCTURAL.contains(&c))
        {
            b.warnings.push(format!(
                "{}: {} `{}` is not supported by the built-in renderer; skipped",
                o.loc, o.class, o.name
            ));
        }
    }

    let camera_id = match g.scene_variables.get("camera") {
        Some(Value::Object(id)) => Some(*id),
        _ => g
            .objects
            .iter()
            .position(|o| o.class == "PerspectiveCamera"),
    };
    let Some(camera_id) = camera_id else {
        return Err(SceneError::NoCamera { files });
    };
    let res = (vars.res * opts.res).max(1e-6);
    let width = ((f64::from(vars.width) / res).round() as u32).max(1);
    let height = ((f64::from(vars.height) / res).round() as u32).max(1);
    let camera = b.camera(camera_id, width as f32 / height as f32);

    let layer = match g.scene_variables.get("layer") {
        Some(Value::Object(id)) => Some(*id),
        _ => g.objects.iter().position(|o| o.class == "Layer"),
    };
    let light_ids = b.geometry_and_light_sets(layer);
    let lights: Vec<Light> = light_ids
        .into_iter()
        .filter_map(|id| b.light(id, vars.lights_visible_in_camera, vars.scene_scale))
        .collect();
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
        lights,
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

struct Vars {
    width: u32,
    height: u32,
    res: f64,
    lights_visible_in_camera: bool,
    scene_scale: f32,
    output_file: Option<String>,
    frame: i32,
    settings: Settings,
}

impl<'g> SceneBuilder<'g> {
    fn scene_variables(&mut self) -> Vars {
        let obj = crate::graph::Object {
            class: "SceneVariables".into(),
            name: String::new(),
            attrs: self.g.scene_variables.clone(),
            members: vec![],
            loc: crate::graph::FileLoc {
                file: files_of(self.g),
                line: 0,
            },
        };
        let mut a = Attrs::new(self.g, &obj, &mut self.warnings);
        let pixel_samples = a.int("pixel_samples", 8).clamp(1, 1 << 12) as u32;
        let filter_width = a.f32("pixel_filter_width", 3.0);
        let filter = match a.get_filter() {
            0 => PixelFilter::Box(filter_width),
            2 => PixelFilter::QuadraticBSpline(filter_width),
            _ => PixelFilter::CubicBSpline(filter_width),
        };
        Vars {
            width: a.int("image_width", 1920).clamp(1, 1 << 16) as u32,
            height: a.int("image_height", 1080).clamp(1, 1 << 16) as u32,
            res: f64::from(a.f32("res", 1.0)),
            lights_visible_in_camera: a.bool("lights_visible_in_camera", false),
            scene_scale: a.f32("scene_scale", 0.01),
            output_file: a.string("output_file"),
            frame: a.f32("frame", 0.0) as i32,
            settings: Settings {
                spp: pixel_samples * pixel_samples,
                max_depth: a.int("max_depth", 5).max(0) as u32,
                max_diffuse_depth: a.int("max_diffuse_depth", 2).max(0) as u32,
                max_glossy_depth: a.int("max_glossy_depth", 2).max(0) as u32,
                max_mirror_depth: a.int("max_mirror_depth", 3).max(0) as u32,
                sample_clamping_value: a.f32("sample_clamping_value", 10.0),
                sample_clamping_depth: a.int("sample_clamping_depth", 1).max(0) as u32,
                filter,
                seed: 0x6d6f_6f6e_6661_726d,
            },
        }
    }

    fn camera(&mut self, id: ObjectId, aspect: f32) -> Camera {
        let o = self.g.object(id);
        let mut a = Attrs::new(self.g, o, &mut self.warnings);
        if o.class != "PerspectiveCamera" {
            a.warnings.push(format!(
                "{}: {} `{}` is rendered as a perspective camera",
                o.loc, o.class, o.name
            ));
        }
        let to_world = a.mat4("node_xform");
        let focal = a.f32("focal", 30.0);
        let fwa = a.f32("film_width_aperture", 24.0);
        let near = a.f32("near", 1.0);
        let far = a.f32("far", 10000.0);
        a.warn_unknown(&known(
            &[
                "node_xform",
                "focal",
                "film_width_aperture",
                "near",
                "far",
                "horizontal_film_offset",
                "vertical_film_offset",
                "pixel_aspect_ratio",
                "mb_shutter_open",
                "mb_shutter_close",
                "mb_shutter_bias",
                "label",
                "medium_material",
                "medium_geometry",
                "stereo_view",
                "stereo_interocular_distance",
                "stereo_convergence_distance",
                "bake_camera",
            ],
            &[],
        ));
        Camera::new(
            to_world,
            focal.max(1e-3),
            fwa.max(1e-3),
            aspect,
            near.max(0.0),
            far,
        )
    }

    /// Walks the Layer: adds every assigned geometry with its material and returns the lights
    /// of the light sets it names (every light of the scene when it names none).
    fn geometry_and_light_sets(&mut self, layer: Option<ObjectId>) -> Vec<ObjectId> {
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
                            } else if class.ends_with("Material") && mat.is_none() {
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
                self.warnings.push(format!(
                    "{}: the scene has no Layer: rendering every geometry with a grey material",
                    files_of(g)
                ));
                for (id, o) in g.objects.iter().enumerate() {
                    if GEOMETRY.contains(&o.class.as_str()) {
                        assignments.push((id, None));
                    }
                }
            }
        }
        // Geometry referenced by an instancer renders only through its instances.
        let mut referenced = std::collections::HashSet::new();
        for (geom, _) in &assignments {
            let o = g.object(*geom);
            if o.class == "RdlInstancerGeometry" {
                if let Some(Value::List(refs)) = o.attrs.get("references") {
                    referenced.extend(refs.iter().filter_map(|r| {
                        if let Value::Object(id) = r {
                            Some(*id)
                        } else {
                            None
                        }
                    }));
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
            self.geometry(geom, mat, Mat4::IDENTITY, &own_material);
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

    fn material(&mut self, id: Option<ObjectId>) -> MaterialId {
        if let Some(&m) = self.material_ids.get(&id) {
            return m;
        }
        let m = match id {
            None => Material::grey(),
            Some(id) => self.build_material(id),
        };
        let mid = self.materials.len() as MaterialId;
        self.materials.push(m);
        self.material_ids.insert(id, mid);
        mid
    }

    fn build_material(&mut self, id: ObjectId) -> Material {
        let o = self.g.object(id);
        let mut a = Attrs::new(self.g, o, &mut self.warnings);
        let emission = if a.bool("show_emission", true) {
            a.rgb("emission", Vec3::ZERO)
        } else {
            Vec3::ZERO
        };
        let m = match o.class.as_str() {
            "DwaBaseMaterial" => {
                let show_diffuse = a.bool("show_diffuse", true);
                let show_specular = a.bool("show_specular", true);
                let albedo = a.rgb("albedo", Vec3::ONE);
                Material::Base {
                    albedo: if show_diffuse { albedo } else { Vec3::ZERO },
                    specular: if show_specular {
                        a.f32("specular", 1.0)
                    } else {
                        0.0
                    },
                    roughness: a.f32("roughness", 0.5).clamp(0.0, 1.0),
                    metallic: a.f32("metallic", 0.0),
                    ior: a.f32("refractive_index", 1.5).max(1.0001),
                    emission,
                }
            }
            "DwaMetalMaterial" => Material::Metal {
                color: a.rgb("color", a_default_metal()),
                roughness: a.f32("roughness", 0.5).clamp(0.0, 1.0),
                emission,
            },
            "DwaSolidDielectricMaterial" | "DwaRefractiveMaterial" => Material::Dielectric {
                tint: a.rgb("transmission_color", Vec3::ONE),
                ior: a.f32("refractive_index", 1.5).max(1.0001),
                roughness: a.f32("roughness", 0.0),
                thin: a.bool("thin_geometry", false),
                emission,
            },
            "DwaEmissiveMaterial" => Material::Emissive {
                radiance: a.rgb("emission", Vec3::ONE)
                    * a.f32("intensity", 1.0)
                    * 2f32.powf(a.f32("exposure", 0.0)),
            },
            other => {
                a.warnings.push(format!(
                    "{}: material {other} `{}` is not supported: rendered as grey diffuse",
                    o.loc, o.name
                ));
                return Material::grey();
            }
        };
        a.warn_unknown(&known(
            MATERIAL_COMMON,
            &[
                "albedo",
                "specular",
                "roughness",
                "metallic",
                "color",
                "intensity",
                "exposure",
                "transmission_color",
                "thin_geometry",
                "refractive_index",
                "extinction_coefficient",
                "edge_color",
                "emission",
                "albedo_color",
                "show_diffuse",
                "show_specular",
                "show_emission",
            ],
        ));
        m
    }

    /// Adds the primitives of one geometry object under `parent` (an instance transform).
    fn geometry(
        &mut self,
        id: ObjectId,
        mat: Option<ObjectId>,
        parent: Mat4,
        own: &HashMap<ObjectId, Option<ObjectId>>,
    ) {
        let g = self.g;
        let o = g.object(id);
        let mut a = Attrs::new(g, o, &mut self.warnings);
        let xf = parent * a.mat4("node_xform");
        match o.class.as_str() {
            "SphereGeometry" => {
                let radius = a.f32("radius", 1.0);
                a.warn_unknown(&known(
                    GEOMETRY_COMMON,
                    &["radius", "zmin", "zmax", "phi_max"],
                ));
                let mid = self.material(mat);
                self.prims
                    .push(Primitive::Sphere(Box::new(Sphere::new(xf, radius, mid))));
            }
            "BoxGeometry" => {
                let size = a.vec3("size", Vec3::ONE);
                a.warn_unknown(&known(
                    GEOMETRY_COMMON,
                    &["size", "length", "width", "height"],
                ));
                let h = size * 0.5;
                let c = |x: f32, y: f32, z: f32| {
                    xf.transform_point3(Vec3::new(x * h.x, y * h.y, z * h.z))
                };
                let v = [
                    c(-1., -1., -1.),
                    c(1., -1., -1.),
                    c(1., 1., -1.),
                    c(-1., 1., -1.),
                    c(-1., -1., 1.),
                    c(1., -1., 1.),
                    c(1., 1., 1.),
                    c(-1., 1., 1.),
                ];
                let faces = [
                    [0, 3, 2, 1],
                    [4, 5, 6, 7],
                    [0, 1, 5, 4],
                    [2, 3, 7, 6],
                    [1, 2, 6, 5],
                    [0, 4, 7, 3],
                ];
                let mid = self.material(mat);
                for f in faces {
                    self.tri(v[f[0]], v[f[1]], v[f[2]], mid);
                    self.tri(v[f[0]], v[f[2]], v[f[3]], mid);
                }
            }
            "RdlMeshGeometry" => self.mesh(id, mat, xf),
            "RdlPointGeometry" | "RdlCurveGeometry" => self.points_or_curves(id, mat, xf),
            "RdlInstancerGeometry" => {
                let refs: Vec<ObjectId> = a
                    .list("references")
                    .iter()
                    .filter_map(|v| {
                        if let Value::Object(i) = v {
                            Some(*i)
                        } else {
                            None
                        }
                    })
                    .collect();
                let indices: Vec<usize> = a
                    .list("ref_indices")
                    .iter()
                    .filter_map(|v| num(v).map(|n| n as usize))
                    .collect();
                let xforms: Vec<Mat4> = a
                    .list("xform_list")
                    .iter()
                    .filter_map(|v| {
                        if let Value::Mat4(m) = v {
                            Some(mat4_from_rdla(m))
                        } else {
                            None
                        }
                    })
                    .collect();
                let positions: Vec<Vec3> = a.list("positions").iter().filter_map(vec3_of).collect();
                let scales: Vec<Vec3> = a.list("scales").iter().filter_map(vec3_of).collect();
                let orientations: Vec<Quat> = a
                    .list("orientations")
                    .iter()
                    .filter_map(|v| match v {
                        Value::Vec4(q) => Some(
                            Quat::from_xyzw(q[0] as f32, q[1] as f32, q[2] as f32, q[3] as f32)
                                .normalize(),
                        ),
                        _ => None,
                    })
                    .collect();
                a.warn_unknown(&known(
                    GEOMETRY_COMMON,
                    &[
                        "references",
                        "ref_indices",
                        "xform_list",
                        "positions",
                        "scales",
                        "orientations",
                        "velocities",
                        "method",
                        "use_reference_xforms",
                        "use_reference_attributes",
                        "disable_indices",
                        "instance_level",
                    ],
                ));
                let count = if !xforms.is_empty() {
                    xforms.len()
                } else {
                    positions.len()
                };
                if refs.is_empty() || count == 0 {
                    self.warnings.push(format!(
                        "{}: RdlInstancerGeometry `{}` has no references or no instances; skipped",
                        o.loc, o.name
                    ));
                    return;
                }
                for i in 0..count {
                    let r = refs[indices.get(i).copied().unwrap_or(0).min(refs.len() - 1)];
                    let inst = if !xforms.is_empty() {
                        xforms[i]
                    } else {
                        Mat4::from_scale_rotation_translation(
                            scales.get(i).copied().unwrap_or(Vec3::ONE),
                            orientations.get(i).copied().unwrap_or(Quat::IDENTITY),
                            positions[i],
                        )
                    };
                    // An instance takes the instancer's material, else its reference's own.
                    let m = mat.or_else(|| own.get(&r).copied().flatten());
                    self.geometry(r, m, xf * inst, own);
                }
            }
            other => {
                // Already warned once as an unsupported class.
                tracing::debug!("skipping {other} `{}`", o.name);
            }
        }
    }

    /// Points are spheres, as in MoonRay. Curves are approximated by overlapping spheres along
    /// their control polygon (round tubes that ignore the spline's smoothing), so that a scene
    /// made of curves still shows its shapes; one warning says so.
    fn points_or_curves(&mut self, id: ObjectId, mat: Option<ObjectId>, xf: Mat4) {
        let g = self.g;
        let o = g.object(id);
        let mut a = Attrs::new(g, o, &mut self.warnings);
        let list = if a.list("vertex_list_0").is_empty() {
            a.list("vertex_list")
        } else {
            a.list("vertex_list_0")
        };
        let verts: Vec<Vec3> = list.iter().filter_map(vec3_of).collect();
        let radii: Vec<f32> = a
            .list("radius_list")
            .iter()
            .filter_map(|v| num(v).map(|r| r as f32))
            .collect();
        let counts: Vec<usize> = a
            .list("curves_vertex_count")
            .iter()
            .filter_map(|v| num(v).map(|n| n as usize))
            .collect();
        let radius = |i: usize| {
            radii
                .get(i)
                .or(radii.first())
                .copied()
                .unwrap_or(0.1)
                .max(1e-6)
        };
        let mid = self.material(mat);
        let curves = o.class == "RdlCurveGeometry";
        if curves {
            self.warnings.push(format!(
                "{}: RdlCurveGeometry `{}` is approximated by spheres along its control points",
                o.loc, o.name
            ));
        }
        let mut spheres = Vec::new();
        if !curves {
            for (i, v) in verts.iter().enumerate() {
                spheres.push((*v, radius(i)));
            }
        } else {
            let counts = if counts.is_empty() {
                vec![verts.len()]
            } else {
                counts
            };
            let mut at = 0;
            for n in counts {
                let Some(cv) = verts.get(at..at + n) else {
                    break;
                };
                for k in 0..n.saturating_sub(1) {
                    let (p, q) = (cv[k], cv[k + 1]);
                    let (rp, rq) = (radius(at + k), radius(at + k + 1));
                    let steps =
                        (((q - p).length() / (0.5 * rp.min(rq))).ceil() as usize).clamp(1, 4096);
                    for s in 0..steps {
                        let t = s as f32 / steps as f32;
                        spheres.push((p.lerp(q, t), rp + (rq - rp) * t));
                    }
                }
                if let Some(last) = cv.last() {
                    spheres.push((*last, radius(at + n - 1)));
                }
                at += n;
            }
        }
        if spheres.len() > MAX_CURVE_SPHERES {
            self.warnings.push(format!(
                "{}: {} `{}` needs {} spheres; only the first {MAX_CURVE_SPHERES} are rendered",
                o.loc,
                o.class,
                o.name,
                spheres.len()
            ));
            spheres.truncate(MAX_CURVE_SPHERES);
        }
        for (c, r) in spheres {
            self.prims.push(Primitive::Sphere(Box::new(Sphere::new(
                xf * Mat4::from_translation(c),
                r,
                mid,
            ))));
        }
    }

    fn tri(&mut self, p0: Vec3, p1: Vec3, p2: Vec3, material: MaterialId) {
        self.tri_with_normals(p0, p1, p2, material, None);
    }

    fn tri_with_normals(
        &mut self,
        p0: Vec3,
        p1: Vec3,
        p2: Vec3,
        material: MaterialId,
        normals: Option<[Vec3; 3]>,
    ) {
        let (e1, e2) = (p1 - p0, p2 - p0);
        if e1.cross(e2).length_squared() > 0.0 {
            self.prims.push(Primitive::Triangle {
                p0,
                e1,
                e2,
                material,
                normals: normals.map(Box::new),
            });
        }
    }

    fn mesh(&mut self, id: ObjectId, mat: Option<ObjectId>, xf: Mat4) {
        let g = self.g;
        let o = g.object(id);
        let mut a = Attrs::new(g, o, &mut self.warnings);
        let mut verts: Vec<Vec3> = Vec::new();
        for name in ["vertex_list_0", "vertex_list"] {
            let list = a.list(name);
            if list.is_empty() {
                continue;
            }
            verts = if list.iter().all(|v| vec3_of(v).is_some()) {
                list.iter().filter_map(vec3_of).collect()
            } else {
                let f: Vec<f32> = list
                    .iter()
                    .filter_map(|v| num(v).map(|x| x as f32))
                    .collect();
                f.chunks_exact(3)
                    .map(|c| Vec3::new(c[0], c[1], c[2]))
                    .collect()
            };
            break;
        }
        let indices: Vec<usize> = a
            .list("vertices_by_index")
            .iter()
            .filter_map(|v| num(v).map(|n| n as usize))
            .collect();
        let mut counts: Vec<usize> = a
            .list("face_vertex_count")
            .iter()
            .filter_map(|v| num(v).map(|n| n as usize))
            .collect();
        let is_subd = a.bool("is_subd", true);
        let smooth_normal = a.bool("smooth_normal", true);
        a.warn_unknown(&known(
            GEOMETRY_COMMON,
            &[
                "vertex_list_0",
                "vertex_list_1",
                "vertex_list",
                "vertices_by_index",
                "face_vertex_count",
                "is_subd",
                "subd_scheme",
                "subd_boundary",
                "subd_fvar_linear",
                "subd_crease_indices",
                "subd_crease_sharpnesses",
                "subd_corner_indices",
                "subd_corner_sharpnesses",
                "subd_resolution",
                "part_list",
                "part_face_count_list",
                "part_face_indices",
                "normal_list",
                "uv_list",
                "smooth_normal",
                "orientation",
                "velocity_list",
                "tessellation_rate",
                "normal_list_1",
                "uv_list_0",
            ],
        ));
        if is_subd {
            self.warnings.push(format!("{}: RdlMeshGeometry `{}` is a subdivision surface: the built-in renderer renders its control mesh", o.loc, o.name));
        }
        if counts.is_empty() {
            // MoonRay needs face_vertex_count; real files that omit it are triangle lists.
            counts = vec![3; indices.len() / 3];
        }
        let mid = self.material(mat);
        let world: Vec<Vec3> = verts.iter().map(|v| xf.transform_point3(*v)).collect();
        // The triangles of a fan triangulation: exact for the convex polygons meshes are made of.
        let mut tris: Vec<[usize; 3]> = Vec::with_capacity(indices.len());
        let mut at = 0;
        let mut bad = 0usize;
        for &n in &counts {
            if at + n > indices.len() {
                bad += 1;
                break;
            }
            let face = &indices[at..at + n];
            at += n;
            if face.iter().any(|&i| i >= world.len()) || n < 3 {
                bad += 1;
                continue;
            }
            for k in 1..n - 1 {
                tris.push([face[0], face[k], face[k + 1]]);
            }
        }
        // MoonRay's smooth_normal: without given normals, shade with vertex normals made from
        // the faces around each vertex, each weighted by its angle at the vertex (so that how
        // a polygon is cut into triangles does not matter).
        let vertex_normals = smooth_normal.then(|| {
            let mut vn = vec![Vec3::ZERO; world.len()];
            for t in &tris {
                let p = [world[t[0]], world[t[1]], world[t[2]]];
                let face_n = (p[1] - p[0]).cross(p[2] - p[0]).normalize_or_zero();
                for k in 0..3 {
                    let d0 = (p[(k + 1) % 3] - p[k]).normalize_or_zero();
                    let d1 = (p[(k + 2) % 3] - p[k]).normalize_or_zero();
                    vn[t[k]] += face_n * d0.dot(d1).clamp(-1.0, 1.0).acos();
                }
            }
            vn.iter()
                .map(|n| n.normalize_or_zero())
                .collect::<Vec<Vec3>>()
        });
        for t in tris {
            let normals = vertex_normals.as_ref().and_then(|vn| {
                let ns = [vn[t[0]], vn[t[1]], vn[t[2]]];
                let face_n = (world[t[1]] - world[t[0]])
                    .cross(world[t[2]] - world[t[0]])
                    .normalize_or_zero();
                // A flat neighbourhood needs no interpolation: keep the triangle small and fast.
                (ns.iter().any(|n| n.dot(face_n) < 1.0 - 1e-6)).then_some(ns)
            });
            self.tri_with_normals(world[t[0]], world[t[1]], world[t[2]], mid, normals);
        }
        if bad > 0 {
            self.warnings.push(format!(
                "{}: RdlMeshGeometry `{}`: {bad} faces index vertices that do not exist; skipped",
                o.loc, o.name
            ));
        }
    }

    fn light(&mut self, id: ObjectId, visible_default: bool, scene_scale: f32) -> Option<Light> {
        let o = self.g.object(id);
        let mut a = Attrs::new(self.g, o, &mut self.warnings);
        if !LIGHTS.contains(&o.class.as_str()) {
            return None; // warned about as an unsupported class
        }
        if !a.bool("on", true) {
            return None;
        }
        let xf = a.mat4("node_xform");
        let mut radiance =
            a.rgb("color", Vec3::ONE) * a.f32("intensity", 1.0) * 2f32.powf(a.f32("exposure", 0.0));
        let normalized = a.bool("normalized", true);
        let apply_scene_scale = a.bool("apply_scene_scale", true);
        let visible = match a.obj.attrs.get("visible_in_camera") {
            Some(Value::String(s)) if s == "force on" => true,
            Some(Value::String(s)) if s == "force off" => false,
            Some(Value::Int(1)) => true,
            Some(Value::Int(0)) => false,
            _ => visible_default,
        };
        let normal = xf.transform_vector3(Vec3::NEG_Z).normalize_or(Vec3::NEG_Z);
        let shape = match o.class.as_str() {
            "RectLight" => {
                let w = a.f32("width", 1.0);
                let h = a.f32("height", 1.0);
                a.warn_unknown(&known(
                    LIGHT_COMMON,
                    &["width", "height", "spread", "sidedness"],
                ));
                Shape::Rect {
                    center: xf.transform_point3(Vec3::ZERO),
                    half_u: xf.transform_vector3(Vec3::X * w * 0.5),
                    half_v: xf.transform_vector3(Vec3::Y * h * 0.5),
                    normal,
                }
            }
            "DiskLight" | "SpotLight" => {
                let spot = o.class == "SpotLight";
                let r = if spot {
                    a.f32("lens_radius", 1.0)
                } else {
                    a.f32("radius", 1.0)
                };
                let cone = spot.then(|| {
                    let outer = a.f32("outer_cone_angle", 60.0).to_radians() * 0.5;
                    let inner = a.f32("inner_cone_angle", 30.0).to_radians() * 0.5;
                    (inner.cos(), outer.cos())
                });
                a.warn_unknown(&known(
                    LIGHT_COMMON,
                    &[
                        "radius",
                        "lens_radius",
                        "outer_cone_angle",
                        "inner_cone_angle",
                        "angle_falloff_type",
                        "aspect_ratio",
                        "focal_plane_distance",
                        "black_level",
                        "sidedness",
                        "spread",
                        "bottom_blur",
                        "right_blur",
                        "top_blur",
                        "left_blur",
                    ],
                ));
                let u = xf.transform_vector3(Vec3::X);
                let scale = u.length();
                Shape::Disk {
                    center: xf.transform_point3(Vec3::ZERO),
                    u: u / scale,
                    v: xf.transform_vector3(Vec3::Y).normalize(),
                    normal,
                    radius: r * scale,
                    cone,
                }
            }
            "SphereLight" => {
                let r = a.f32("radius", 1.0);
                a.warn_unknown(&known(LIGHT_COMMON, &["radius", "sidedness"]));
                Shape::Sphere {
                    center: xf.transform_point3(Vec3::ZERO),
                    radius: r * xf.transform_vector3(Vec3::X).length(),
                }
            }
            "DistantLight" => {
                let extent = a.f32("angular_extent", 0.53).max(1e-3).to_radians();
                a.warn_unknown(&known(LIGHT_COMMON, &["angular_extent"]));
                let cos_half = (extent * 0.5).cos();
                // Irradiance at normal incidence equals colour * intensity, whatever the extent.
                let solid = 2.0 * std::f32::consts::PI * (1.0 - cos_half);
                radiance /= solid;
                Shape::Distant {
                    dir: -normal,
                    cos_half,
                }
            }
            _ => {
                a.warn_unknown(&known(LIGHT_COMMON, &["sample_upper_hemisphere_only"]));
                Shape::Env
            }
        };
        let mut light = Light {
            shape,
            radiance,
            visible_in_camera: visible,
        };
        let area = light.area();
        if normalized && area > 0.0 {
            let s2 = if apply_scene_scale {
                scene_scale * scene_scale
            } else {
                1.0
            };
            light.radiance /= area * s2 * std::f32::consts::PI;
        }
        Some(light)
    }
}

fn a_default_metal() -> Vec3 {
    Vec3::new(0.9, 0.9, 0.9)
}

impl<'a> Attrs<'a> {
    /// `pixel_filter` as MoonRay's enum: 0 box, 1 cubic B-spline, 2 quadratic B-spline.
    fn get_filter(&mut self) -> i64 {
        match self.obj.attrs.get("pixel_filter") {
            Some(Value::String(s)) if s.contains("box") => 0,
            Some(Value::String(s)) if s.contains("quadratic") => 2,
            Some(Value::String(_)) => 1,
            _ => self.int("pixel_filter", 1),
        }
    }
}
