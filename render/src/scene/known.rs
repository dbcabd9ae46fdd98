//! The known attributes: which classes the built-in renderer handles, and which attribute
//! names each class may set without a warning (MoonRay's own names, also those the built-in
//! renderer ignores), so that a misspelt attribute is reported and a real one is not.

pub(super) const GEOMETRY: &[&str] = &[
    "SphereGeometry",
    "BoxGeometry",
    "RdlMeshGeometry",
    "RdlInstancerGeometry",
    "RdlPointGeometry",
    "RdlCurveGeometry",
];
pub(super) const MATERIALS: &[&str] = &[
    "DwaBaseMaterial",
    "DwaEmissiveMaterial",
    "DwaMetalMaterial",
    "DwaSolidDielectricMaterial",
    "DwaRefractiveMaterial",
    "DwaLayerMaterial",
    "DwaMixMaterial",
    "DwaTwoSidedMaterial",
    "UsdPreviewSurface",
    "HairDiffuseMaterial",
    "HairMaterial_v3",
    "HairMaterial",
];
pub(super) const LIGHTS: &[&str] = &[
    "EnvLight",
    "RectLight",
    "SphereLight",
    "DiskLight",
    "DistantLight",
    "SpotLight",
];
/// Classes that organise the scene and need no rendering support of their own.
pub(super) const STRUCTURAL: &[&str] = &[
    "SceneVariables",
    "GeometrySet",
    "LightSet",
    // Read through the Layer's entries.
    "ShadowSet",
    "Layer",
    "Metadata",
    "PerspectiveCamera",
    // Read through a geometry's `primitive_attributes`.
    "UserData",
];

/// Attributes common to every geometry (MoonRay's Geometry and Node interfaces).
pub(super) const GEOMETRY_COMMON: &[&str] = &[
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
pub(super) const MATERIAL_COMMON: &[&str] = &[
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
pub(super) const LIGHT_COMMON: &[&str] = &[
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
    "texture_repititions",
    "texture_offset",
    "clear_radius",
    "clear_radius_falloff_distance",
    "clear_radius_interpolation_type",
    "min_shadow_distance",
    "shadow_lights",
];

/// A light's `texture` and the attributes that transform and colour-correct it (scene_rdl2
/// `lib/scene/rdl2/Light.cc`), read where the light's texture is (`lights::light_texture`).
pub(super) const LIGHT_TEXTURE: &[&str] = &[
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
    "texture_reps_u",
    "texture_reps_v",
    "texture_mirror_u",
    "texture_mirror_v",
    "texture_border_color",
];

/// Attributes of MoonRay's PerspectiveCamera.
pub(super) const CAMERA: &[&str] = &[
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
];

/// SphericalCamera's own attributes (moonray `dso/camera/SphericalCamera/attributes.cc`).
pub(super) const SPHERICAL_CAMERA: &[&str] = &[
    "min_latitude",
    "max_latitude",
    "latitude_zoom_offset",
    "min_longitude",
    "max_longitude",
    "longitude_zoom_offset",
    "inside_out",
    "offset_radius",
];

/// DomeMaster3DCamera's own attributes (moonray `dso/camera/DomeMaster3DCamera/attributes.cc`);
/// `interocular_distance_map_file_name` warns where it is read, `head_tilt_map` is unused by
/// MoonRay itself.
pub(super) const DOME_MASTER_CAMERA: &[&str] = &[
    "FOV_vertical_angle",
    "FOV_horizontal_angle",
    "flip_ray_x",
    "flip_ray_y",
    "zenith_mode",
    "interocular_distance_map_file_name",
    "head_tilt_map",
];

/// FisheyeCamera's own attributes (moonray `dso/camera/FisheyeCamera/attributes.cc`).
pub(super) const FISHEYE_CAMERA: &[&str] = &["mapping", "format", "zoom", "fov"];

/// BakeCamera's own attributes (moonray `dso/camera/BakeCamera/attributes.cc`); `normal_map`
/// and `uv_attribute` warn where they are read.
pub(super) const BAKE_CAMERA: &[&str] = &[
    "geometry",
    "udim",
    "uv_attribute",
    "mode",
    "bias",
    "use_relative_bias",
    "map_factor",
    "normal_map",
    "normal_map_space",
];

/// A class's allow-list: the attributes of its interface plus its own.
pub(super) fn known<'s>(common: &[&'s str], own: &[&'s str]) -> Vec<&'s str> {
    common.iter().chain(own).copied().collect()
}
