//! Materials: MoonRay's Dwa materials (and UsdPreviewSurface) mapped onto the built-in BSDFs,
//! one per material object, and the grey diffuse stand-in for geometry without one (or with an
//! unsupported one). A material with an attribute bound to a map, or one that combines other
//! materials, becomes a `shading::Shader`, resolved at each hit.

use super::known::{known, MATERIAL_COMMON};
use super::maps::Binds;
use super::SceneBuilder;
use crate::attrs::Attrs;
use crate::bsdf::{Material, Microfacet};
use crate::geometry::MaterialId;
use crate::graph::ObjectId;
use crate::shading::{Param, Shader};
use glam::Vec3;

/// Reads bindable attributes: the bound map's [`Param`], or the constant.
struct Bindable<'b> {
    binds: &'b Binds,
}

impl Bindable<'_> {
    fn rgb(&self, a: &mut Attrs, name: &str, default: Vec3) -> Param {
        match self.binds.get(name) {
            Some(p) => p.clone(),
            None => Param::Const(a.rgb(name, default)),
        }
    }
    fn f32(&self, a: &mut Attrs, name: &str, default: f32) -> Param {
        match self.binds.get(name) {
            Some(p) => p.clone(),
            None => Param::Const(Vec3::splat(a.f32(name, default))),
        }
    }
}

/// The constant a param stands for, when it is one.
fn c3(p: &Param) -> Option<Vec3> {
    match p {
        Param::Const(c) => Some(*c),
        Param::Map(_) => None,
    }
}

impl SceneBuilder<'_> {
    /// The material id of material object `id` under the light and shadow sets of the Layer
    /// entry being added: built once, and given one more id (a copy) for each further pair.
    pub(super) fn material(&mut self, id: Option<ObjectId>) -> MaterialId {
        let key = (id, self.current_light_set, self.current_shadow_set);
        if let Some(&m) = self.material_ids.get(&key) {
            return m;
        }
        let mid = self.materials.len() as MaterialId;
        self.material_light_set.push(key.1);
        self.material_shadow_set.push(key.2);
        self.material_cutout.push(None);
        if let Some(&built) = self
            .material_ids
            .iter()
            .find(|((i, _, _), _)| *i == id)
            .map(|(_, m)| m)
        {
            let m = self.materials[built as usize].clone();
            self.materials.push(m);
            self.material_cutout[mid as usize] = self.material_cutout[built as usize].clone();
            self.material_ids.insert(key, mid);
            return mid;
        }
        // The slot is taken (grey) before the material is built, so that a material that
        // contains itself (a DwaLayerMaterial as its own layer) ends in grey, not in a loop.
        self.materials.push(Material::grey());
        self.material_ids.insert(key, mid);
        if let Some(id) = id {
            self.materials_building.push(id);
            self.built_cutout = None;
            let m = self.build_material(id);
            self.materials_building.pop();
            self.materials[mid as usize] = m;
            self.material_cutout[mid as usize] = self.built_cutout.take();
        }
        mid
    }

    /// Whether material `mid` reads the hit (uv, primitive attributes): it is resolved per
    /// shading point, or its cut-out reads a map.
    pub(super) fn material_reads_hits(&self, mid: MaterialId) -> bool {
        matches!(self.materials[mid as usize], Material::Shaded(_))
            || matches!(
                &self.material_cutout[mid as usize],
                Some(c) if !c.opacity.is_const()
            )
    }

    fn build_material(&mut self, id: ObjectId) -> Material {
        if let Some(m) = self.combining_material(id) {
            return m;
        }
        let binds = self.binds(id);
        let bx = Bindable { binds: &binds };
        let o = self.g.object(id);
        let mut a = Attrs::new(self.g, o, &mut self.warnings);
        // DwaEmissiveMaterial reads its `emission` below (default white): reading it here too
        // would warn twice about a bound map.
        let emission = if o.class != "DwaEmissiveMaterial" && a.bool("show_emission", true) {
            bx.rgb(&mut a, "emission", Vec3::ZERO)
        } else {
            Param::Const(Vec3::ZERO)
        };
        let m = match o.class.as_str() {
            // DwaSolidDielectricMaterial is DwaBase without metallic or transmission: diffuse
            // under a dielectric specular (moonshine dso/material/DwaSolidDielectric).
            "DwaBaseMaterial"
            | "DwaSolidDielectricMaterial"
            | "DwaToonMaterial"
            | "DwaSkinMaterial" => {
                let show_diffuse = a.bool("show_diffuse", true);
                let show_specular = a.bool("show_specular", true);
                let albedo = bx.rgb(&mut a, "albedo", Vec3::ONE);
                let specular = bx.f32(&mut a, "specular", 1.0);
                // DwaSkin is DwaBase without metallic or transmission too (moonshine
                // dso/material/DwaSkin/DwaSkinMaterial.cc sets no keys for them).
                let solid = matches!(
                    o.class.as_str(),
                    "DwaSolidDielectricMaterial" | "DwaSkinMaterial"
                );
                // Names and defaults from moonshine lib/material/dwabase/json/metallic.json
                // and transmission.json.
                let zero = Param::Const(Vec3::ZERO);
                let (metallic, metal_color, edge_color, transmission) = if solid {
                    (zero.clone(), zero.clone(), zero.clone(), zero)
                } else {
                    let show_transmission = a.bool("show_transmission", true);
                    let transmission = bx.f32(&mut a, "transmission", 0.0);
                    (
                        bx.f32(&mut a, "metallic", 0.0),
                        bx.rgb(&mut a, "metallic_color", Vec3::ONE),
                        bx.rgb(&mut a, "metallic_edge_color", Vec3::ONE),
                        if show_transmission {
                            transmission
                        } else {
                            zero
                        },
                    )
                };
                let transmission_color = if solid {
                    Param::Const(Vec3::ONE)
                } else {
                    bx.rgb(&mut a, "transmission_color", Vec3::ONE)
                };
                let m = base(BaseParams {
                    albedo: if show_diffuse {
                        albedo
                    } else {
                        Param::Const(Vec3::ZERO)
                    },
                    specular: if show_specular {
                        specular
                    } else {
                        Param::Const(Vec3::ZERO)
                    },
                    roughness: bx.f32(&mut a, "roughness", 0.5),
                    metallic,
                    metal_color,
                    edge_color,
                    ior: a.f32("refractive_index", 1.5).max(1.0001),
                    // Names and values from moonshine lib/material/dwabase/json/specular.json.
                    specular_model: Microfacet::from_model(a.int("specular_model", 1)),
                    transmission,
                    transmission_color,
                    thin: a.bool("thin_geometry", false),
                    emission,
                });
                match o.class.as_str() {
                    "DwaToonMaterial" => toon(&mut a, &binds, m),
                    "DwaSkinMaterial" => {
                        let m = skin(&mut a, &binds, m);
                        if a.f32("scattering_radius", 0.0) > 0.0 {
                            // Once per scene, not per material: MoonRay's normalized diffusion
                            // reflects `albedo` in all (its profile only spreads it), so the
                            // zero-radius limit is this Lambert lobe.
                            let w = "DwaSkinMaterial: subsurface scattering (`scattering_radius` above 0) is approximated by the built-in renderer as a Lambertian diffuse of `albedo` (the same total reflectance, without the light's spread under the surface or `scattering_color`'s tint of it)".to_string();
                            if !a.warnings.contains(&w) {
                                a.warnings.push(w);
                            }
                        }
                        m
                    }
                    _ => m,
                }
            }
            "UsdPreviewSurface" => {
                // Inputs and defaults from the published UsdPreviewSurface spec (as in the
                // class data); how each maps is moonray
                // dso/material/UsdPreviewSurface/UsdPreviewSurface.cc: the metallic workflow
                // onto DwaBase's diffuse + dielectric specular + metal.
                let spec_workflow = a.int("useSpecularWorkflow", 0) == 1;
                let diffuse = bx.rgb(&mut a, "diffuseColor", Vec3::splat(0.18));
                let metallic = if spec_workflow {
                    Param::Const(Vec3::ZERO)
                } else {
                    bx.f32(&mut a, "metallic", 0.0)
                };
                let roughness = bx.f32(&mut a, "roughness", 0.5);
                let ior = a.f32("ior", 1.5).max(1.0001);
                let emissive = bx.rgb(&mut a, "emissiveColor", Vec3::ZERO);
                let unsupported = |a: &mut Attrs, what: &str| {
                    a.warnings
                        .push(format!("{}: UsdPreviewSurface `{}`: {what}", o.loc, o.name))
                };
                // Opacity (moonray dso/material/UsdPreviewSurface/UsdPreviewSurface.cc): with
                // an `opacityThreshold` above 0 the surface is opaque where it is present, and
                // its presence is 1 where opacity >= opacityThreshold, else 0 (a cut-out, which
                // rays pass as if it were not there); with none, the dielectric specular
                // transmits 1 - opacity, refracting by `ior`, white.
                let threshold = a.f32("opacityThreshold", 0.0).clamp(0.0, 1.0);
                let transmission = if threshold > 0.0 {
                    let opacity = bx.f32(&mut a, "opacity", 1.0);
                    self.built_cutout = match opacity {
                        Param::Const(c) if c.x >= threshold => None,
                        opacity => Some(super::Cutout { opacity, threshold }),
                    };
                    0.0
                } else {
                    let opacity = a.f32("opacity", 1.0).clamp(0.0, 1.0);
                    if binds.contains_key("opacity") {
                        unsupported(
                            &mut a,
                            "a map bound to `opacity` is not supported by the built-in renderer; rendered with its constant",
                        );
                    }
                    1.0 - opacity
                };
                if binds.contains_key("displacement") || a.f32("displacement", 0.0) != 0.0 {
                    unsupported(
                        &mut a,
                        "`displacement` is not supported (MoonRay's UsdPreviewSurface ignores it too)",
                    );
                }
                // MoonRay's UsdPreviewSurface makes its metal the artist-friendly conductor
                // with diffuseColor as both colours. Its specular workflow adds no specular
                // at all ("We can't support this until we implement Schlick fresnel"); here it
                // is the spec's: diffuse plus a GGX specular whose Fresnel is Schlick's from
                // specularColor at normal incidence to white at grazing.
                let mut m = base(BaseParams {
                    albedo: diffuse.clone(),
                    specular: Param::Const(Vec3::splat(if spec_workflow { 0.0 } else { 1.0 })),
                    roughness: roughness.clone(),
                    metallic,
                    metal_color: diffuse.clone(),
                    edge_color: diffuse,
                    ior,
                    specular_model: Microfacet::Ggx,
                    transmission: Param::Const(Vec3::splat(transmission)),
                    transmission_color: Param::Const(Vec3::ONE),
                    thin: false,
                    emission: emissive,
                });
                let mut coats = Vec::new();
                if spec_workflow {
                    for name in ["specularColor", "roughness"] {
                        if binds.contains_key(name) {
                            unsupported(
                                &mut a,
                                &format!("a map bound to `{name}` of the specular workflow's specular is not supported by the built-in renderer; its constant is used"),
                            );
                        }
                    }
                    let f0 = a
                        .rgb("specularColor", Vec3::ZERO)
                        .clamp(Vec3::ZERO, Vec3::ONE);
                    let r = c3(&roughness).map_or(0.5, |r| r.x);
                    coats.push((1.0, r, Some(f0)));
                }
                // Clearcoat: MoonRay adds a dielectric GGX reflection of `ior`, roughness
                // clearcoatRoughness, weight clearcoat, on top without attenuating the rest.
                for name in ["clearcoat", "clearcoatRoughness"] {
                    if binds.contains_key(name) {
                        unsupported(
                            &mut a,
                            &format!("a map bound to `{name}` is not supported by the built-in renderer; its constant is used"),
                        );
                    }
                }
                let clearcoat = a.f32("clearcoat", 0.0);
                if clearcoat != 0.0 {
                    coats.push((clearcoat, a.f32("clearcoatRoughness", 0.01), None));
                }
                for (weight, roughness, f0) in coats {
                    m = coat(m, weight, roughness, ior, f0, Microfacet::Ggx, false);
                }
                m
            }
            "HairDiffuseMaterial" => {
                // Names and defaults from moonshine lib/material/dwabase/json/hair_diffuse.json;
                // the colours are clamped to [0, 1] and the back colour is the front one
                // unless independent (moonshine lib/material/dwabase/DwaBase.cc,
                // resolveHairParams). Bound colours are evaluated per hit (`Shader::HairDiffuse`).
                let front = bx.rgb(&mut a, "hair_color", Vec3::ONE);
                let (front, back) = if a.bool("use_independent_front_and_back_hair_color", false) {
                    (
                        bx.rgb(&mut a, "front_hair_color", Vec3::ONE),
                        bx.rgb(&mut a, "back_hair_color", Vec3::ONE),
                    )
                } else {
                    (front.clone(), front)
                };
                if a.int("bssrdf", 0) != 0 && a.f32("scattering_radius", 0.0) > 0.0 {
                    a.warnings.push(format!(
                        "{}: HairDiffuseMaterial `{}`: hair subsurface scattering is not supported by the built-in renderer",
                        o.loc, o.name
                    ));
                }
                match (c3(&front), c3(&back), c3(&emission)) {
                    (Some(front), Some(back), Some(emission)) => Material::HairDiffuse {
                        front: front.clamp(Vec3::ZERO, Vec3::ONE),
                        back: back.clamp(Vec3::ZERO, Vec3::ONE),
                        emission,
                    },
                    _ => Material::Shaded(Box::new(Shader::HairDiffuse {
                        front,
                        back,
                        emission,
                    })),
                }
            }
            "HairMaterial_v3" | "HairMaterial" => {
                // Names and defaults from moonshine lib/material/dwabase/json/hair.json; the
                // derivation (roughness to variance, TT at half and TRT at twice the R
                // roughness unless independent, offsets in degrees clamped to +-10,
                // absorption from hair_color at the TT azimuthal roughness) from moonshine
                // lib/material/dwabase/DwaBase.cc (resolveHairParams) and moonray
                // lib/rendering/shading/BsdfBuilder.cc (roughness at least 0.01).
                use crate::hair::{absorption_from_color, azimuthal_var, longitudinal_var};
                let rough = |r: f32| r.clamp(0.01, 1.0);
                let shift = |deg: f32| deg.clamp(-10.0, 10.0).to_radians();
                let color = bx.rgb(&mut a, "hair_color", Vec3::ONE);
                let ior = a.f32("refractive_index", 1.45).max(1.0001);
                let fresnel_type = a.int("fresnel_type", 1);
                let r_rough = a.f32("primary_specular_roughness", 0.5);
                let tt_rough = if a.bool("use_independent_transmission_roughness", false) {
                    a.f32("independent_transmission_roughness", 0.1)
                } else {
                    0.5 * r_rough
                };
                let trt_rough = if a.bool("use_independent_secondary_specular_roughness", false) {
                    a.f32("independent_secondary_specular_roughness", 0.4)
                } else {
                    2.0 * r_rough
                };
                let azim = a
                    .f32("transmission_azimuthal_roughness", 1.0)
                    .clamp(0.01, 1.0 - 1e-6);
                let tint = |a: &mut Attrs, show: &str, name: &str| {
                    if a.bool(show, true) {
                        bx.rgb(a, name, Vec3::ONE)
                    } else {
                        Param::Const(Vec3::ZERO)
                    }
                };
                let r_tint = tint(&mut a, "show_primary_specular", "primary_specular_tint");
                let tt_tint = tint(&mut a, "show_transmission", "transmission_tint");
                let trt_tint = tint(&mut a, "show_secondary_specular", "secondary_specular_tint");
                // The multiple-scattering lobe's roughness: with `use_optimized_sampling`
                // (the default) MoonRay's HairOneSampleLobe builds it at 1 (moonray
                // lib/rendering/shading/bsdf/hair/BsdfHairOneSampler.h); without, it is four
                // times the R roughness (moonshine lib/material/dwabase/DwaBase.cc,
                // resolveHairParams) clamped to [0.01, 1 - 1e-6] (moonray BsdfBuilder.cc,
                // clampHairRoughness).
                let trrt_rough = if a.bool("use_optimized_sampling", true) {
                    1.0
                } else {
                    (4.0 * r_rough).clamp(0.01, 1.0 - 1e-6)
                };
                let hair = crate::hair::Hair {
                    ior,
                    sigma_a: absorption_from_color(
                        c3(&color).unwrap_or(Vec3::ONE).clamp(Vec3::ZERO, Vec3::ONE),
                        azim,
                    ),
                    r: crate::hair::Longitudinal {
                        variance: longitudinal_var(rough(r_rough)),
                        shift: shift(a.f32("primary_specular_offset", -3.0)),
                    },
                    tt: crate::hair::Longitudinal {
                        variance: longitudinal_var(rough(tt_rough)),
                        shift: shift(a.f32("transmission_offset", -1.5)),
                    },
                    trt: crate::hair::Longitudinal {
                        variance: longitudinal_var(rough(trt_rough)),
                        shift: shift(a.f32("secondary_specular_offset", -4.5)),
                    },
                    r_tint: c3(&r_tint).unwrap_or(Vec3::ONE),
                    tt_tint: c3(&tt_tint).unwrap_or(Vec3::ONE),
                    trt_tint: c3(&trt_tint).unwrap_or(Vec3::ONE),
                    tt_azimuthal: azimuthal_var(azim),
                    cylinder: fresnel_type != 0,
                    trrt: a
                        .bool("show_multiple_scattering", true)
                        .then(|| longitudinal_var(trrt_rough)),
                };
                let mut left_out = Vec::new();
                if a.bool("show_hair_glint", false) {
                    left_out.push("glints");
                }
                if fresnel_type == 2 {
                    left_out.push("layered-cuticle Fresnel (rendered as dielectric cylinder)");
                }
                if a.f32("direct_transmission_saturation", 1.0) != 1.0 {
                    left_out.push("direct_transmission_saturation");
                }
                // The colours and emission are evaluated per hit; maps bound to the rest
                // (roughnesses, offsets, glints) are not.
                let per_hit = [
                    "hair_color",
                    "primary_specular_tint",
                    "transmission_tint",
                    "secondary_specular_tint",
                    "emission",
                ];
                if binds.keys().any(|k| !per_hit.contains(&k.as_str())) {
                    left_out.push(
                        "maps bound to attributes other than its colours and tints (their constants are used)",
                    );
                }
                warn_left_out(&mut a, &left_out);
                match (
                    c3(&color),
                    c3(&r_tint),
                    c3(&tt_tint),
                    c3(&trt_tint),
                    c3(&emission),
                ) {
                    (Some(_), Some(_), Some(_), Some(_), Some(emission)) => {
                        Material::Hair { hair, emission }
                    }
                    _ => Material::Shaded(Box::new(Shader::Hair {
                        hair,
                        color,
                        azimuthal_roughness: azim,
                        r_tint,
                        tt_tint,
                        trt_tint,
                        emission,
                    })),
                }
            }
            "DwaMetalMaterial" => {
                // Names and defaults from moonshine lib/material/dwabase/json/metallic.json
                // and roughness.json (DwaMetal has no `color`).
                let color = bx.rgb(&mut a, "metallic_color", Vec3::ONE);
                let edge_color = bx.rgb(&mut a, "metallic_edge_color", Vec3::ONE);
                let roughness = bx.f32(&mut a, "roughness", 0.5);
                // The metal lobe's weight: `specular` (specular.json, default 1, saturated)
                // when `show_specular` is on, else 0 (moonshine lib/material/dwabase/DwaBase.cc,
                // resolveSpecularParams; DwaBaseLayerable.cc, metallicWeight).
                let specular = if a.bool("show_specular", true) {
                    bx.f32(&mut a, "specular", 1.0)
                } else {
                    Param::Const(Vec3::ZERO)
                };
                let specular_model = Microfacet::from_model(a.int("specular_model", 1));
                match (
                    c3(&color),
                    c3(&edge_color),
                    c3(&roughness),
                    c3(&specular),
                    c3(&emission),
                ) {
                    (Some(color), Some(edge_color), Some(r), Some(s), Some(emission)) => {
                        Material::Metal {
                            color,
                            edge_color,
                            roughness: r.x.clamp(0.0, 1.0),
                            specular: s.x.clamp(0.0, 1.0),
                            specular_model,
                            emission,
                        }
                    }
                    _ => Material::Shaded(Box::new(Shader::Metal {
                        color,
                        edge_color,
                        roughness,
                        specular,
                        specular_model,
                        emission,
                    })),
                }
            }
            "DwaRefractiveMaterial" => {
                // Defaults from moonshine lib/material/dwabase/json/roughness.json (0.5) and
                // transmission.json; MoonRay's rough dielectric lobes in bsdf.rs.
                let m = Material::Dielectric {
                    tint: a.rgb("transmission_color", Vec3::ONE),
                    ior: a.f32("refractive_index", 1.5).max(1.0001),
                    roughness: a.f32("roughness", 0.5).clamp(0.0, 1.0),
                    specular: if a.bool("show_specular", true) {
                        a.f32("specular", 1.0)
                    } else {
                        0.0
                    },
                    thin: a.bool("thin_geometry", false),
                    specular_model: Microfacet::from_model(a.int("specular_model", 1)),
                    emission: c3(&emission).unwrap_or(Vec3::ZERO),
                };
                if emission.is_const() {
                    m
                } else {
                    Material::Shaded(Box::new(Shader::Emitting {
                        material: m,
                        emission,
                    }))
                }
            }
            "DwaFabricMaterial" | "DwaVelvetMaterial_v2" => {
                let fabric = o.class == "DwaFabricMaterial";
                let albedo = if a.bool("show_diffuse", true) {
                    let d = match a.moonray_default("albedo") {
                        Some(v) => crate::attrs::vec3_of(&v).unwrap_or(Vec3::ONE),
                        None => Vec3::ONE,
                    };
                    a.rgb("albedo", d)
                } else {
                    Vec3::ZERO
                };
                let mut left_out = Vec::new();
                let per_hit = ["emission"];
                if binds.keys().any(|k| !per_hit.contains(&k.as_str())) {
                    left_out.push(
                        "maps bound to attributes other than `emission` (their constants are used)",
                    );
                }
                let m = if fabric {
                    // Names and defaults from moonshine lib/material/dwabase/json/
                    // fabric_velvet_common.json and fabric.json; resolved as moonshine
                    // lib/material/dwabase/DwaBase.cc (resolveFabricParams) does: colours
                    // clamped to [0, 1], roughnesses saturated, the elevation clamped to 89
                    // degrees, the weft the warp turned 90 degrees about the normal, without
                    // elevation, and with the warp's colour and roughness unless independent.
                    let specular = if a.bool("show_specular", true) {
                        1.0 - a.f32("fabric_diffuse_scattering", 0.2).clamp(0.0, 1.0)
                    } else {
                        0.0
                    };
                    let warp_color = a.rgb("warp_color", Vec3::ONE).clamp(Vec3::ZERO, Vec3::ONE);
                    let warp_roughness = a.f32("warp_roughness", 0.75).clamp(0.0, 1.0);
                    let (weft_color, weft_roughness) =
                        if a.bool("use_independent_weft_attributes", false) {
                            (
                                a.rgb("weft_color", Vec3::ONE).clamp(Vec3::ZERO, Vec3::ONE),
                                a.f32("weft_roughness", 0.75).clamp(0.0, 1.0),
                            )
                        } else {
                            (warp_color, warp_roughness)
                        };
                    let dir = a
                        .vec3("warp_thread_direction", Vec3::new(1.0, 1.0, 0.0))
                        .try_normalize()
                        .unwrap_or(Vec3::X);
                    let elevation = a.f32("warp_thread_elevation", 0.0).clamp(-89.0, 89.0);
                    left_out.push(
                        "thread directions are relative to the shading frame's own tangent, not dPds or render-space x",
                    );
                    if a.f32("fuzz", 0.0) > 0.0 && a.bool("show_fuzz", true) {
                        left_out.push("fuzz");
                    }
                    Material::Fabric {
                        albedo,
                        specular,
                        coverage: a.f32("warp_thread_coverage", 0.75).clamp(0.0, 1.0),
                        warp: crate::bsdf::Thread {
                            color: warp_color,
                            roughness: warp_roughness,
                            dir: crate::bsdf::Thread::direction(dir, elevation),
                        },
                        weft: crate::bsdf::Thread {
                            color: weft_color,
                            roughness: weft_roughness,
                            dir: Vec3::new(-dir.y, dir.x, dir.z),
                        },
                        emission: c3(&emission).unwrap_or(Vec3::ZERO),
                    }
                } else {
                    // Names and defaults from moonshine dso/material/DwaVelvet/v2/
                    // DwaVelvetMaterial_v2.json; the fuzz's roughness is 0.05 + fuzz_coverage
                    // clamped to [0, 1], and no fuzz at coverage 0 (moonshine
                    // lib/material/dwabase/DwaBaseLayerable.cc).
                    let coverage = a.f32("fuzz_coverage", 0.25);
                    let fuzz = if a.bool("show_fuzz", true) && coverage != 0.0 {
                        a.f32("fuzz", 1.0).clamp(0.0, 1.0)
                    } else {
                        0.0
                    };
                    Material::Velvet {
                        albedo,
                        fuzz,
                        fuzz_color: a.rgb("fuzz_albedo", Vec3::ONE).clamp(Vec3::ZERO, Vec3::ONE),
                        roughness: (0.05 + coverage).clamp(0.0, 1.0),
                        absorbing: a.bool("use_absorbing_fuzz_fibers", false),
                        emission: c3(&emission).unwrap_or(Vec3::ZERO),
                    }
                };
                if a.f32("diffuse_roughness", 0.0) > 0.01 {
                    left_out.push("diffuse_roughness (Oren-Nayar; rendered Lambertian)");
                }
                if a.f32("diffuse_transmission", 0.0) > 0.0 {
                    left_out.push("diffuse_transmission");
                }
                warn_left_out(&mut a, &left_out);
                if emission.is_const() {
                    m
                } else {
                    Material::Shaded(Box::new(Shader::Emitting {
                        material: m,
                        emission,
                    }))
                }
            }
            "DwaEmissiveMaterial" => {
                let e = bx.rgb(&mut a, "emission", Vec3::ONE);
                let scale = a.f32("intensity", 1.0) * 2f32.powf(a.f32("exposure", 0.0));
                match c3(&e) {
                    Some(e) => Material::Emissive {
                        radiance: e * scale,
                    },
                    None => Material::Shaded(Box::new(Shader::Emissive { emission: e, scale })),
                }
            }
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
                "transmission",
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
                "metallic_color",
                "metallic_edge_color",
                "emission",
                "albedo_color",
                "show_diffuse",
                "show_specular",
                "show_emission",
                "diffuseColor",
                "emissiveColor",
                "useSpecularWorkflow",
                "specularColor",
                "opacity",
                "opacityThreshold",
                "ior",
                "clearcoat",
                "clearcoatRoughness",
                "normal",
                "displacement",
                "occlusion",
                // DwaToonMaterial (moonshine lib/material/dwabase/json/toon_diffuse.json).
                "diffuse_model",
                "diffuse_roughness",
                "terminator_shift",
                "diffuse_flatness",
                "diffuse_flatness_falloff",
                "extend_ramp",
                "ramp_input_scale",
                "positions",
                "colors",
                "interpolations",
                "ramp_color_multiplier0",
                "ramp_color_multiplier1",
                "ramp_color_multiplier2",
                "ramp_color_multiplier3",
                "ramp_color_multiplier4",
                "ramp_color_multiplier5",
                "ramp_color_multiplier6",
                "ramp_color_multiplier7",
                "ramp_color_multiplier8",
                "ramp_color_multiplier9",
                "ramp_position_offset0",
                "ramp_position_offset1",
                "ramp_position_offset2",
                "ramp_position_offset3",
                "ramp_position_offset4",
                "ramp_position_offset5",
                "ramp_position_offset6",
                "ramp_position_offset7",
                "ramp_position_offset8",
                "ramp_position_offset9",
                "specular_model",
                // The built-in renderer never culls a light by the hemisphere of the surface
                // (a BSDF that is zero below it gives it nothing): always as if on.
                "prevent_light_culling",
                // DwaToonMaterial's Toon specular (its json).
                "toon_specular_intensity",
                "toon_specular_fresnel_blend",
                "toon_specular_tint",
                "toon_specular_ramp_input_scale",
                "toon_specular_positions",
                "toon_specular_values",
                "toon_specular_interpolations",
                "toon_specular_stretch_u",
                "toon_specular_stretch_v",
                "toon_specular_enable_input_normal",
                "toon_specular_enable_indirect_reflections",
                "toon_specular_indirect_reflections_roughness",
                "toon_specular_mult0",
                "toon_specular_mult1",
                "toon_specular_mult2",
                "toon_specular_mult3",
                "toon_specular_mult4",
                "toon_specular_mult5",
                "toon_specular_mult6",
                "toon_specular_mult7",
                "toon_specular_mult8",
                "toon_specular_mult9",
                "toon_specular_offset0",
                "toon_specular_offset1",
                "toon_specular_offset2",
                "toon_specular_offset3",
                "toon_specular_offset4",
                "toon_specular_offset5",
                "toon_specular_offset6",
                "toon_specular_offset7",
                "toon_specular_offset8",
                "toon_specular_offset9",
                // DwaFabricMaterial and DwaVelvetMaterial_v2 (moonshine
                // lib/material/dwabase/json/fabric_velvet_common.json, fabric.json;
                // dso/material/DwaVelvet/v2/DwaVelvetMaterial_v2.json).
                "fabric_diffuse_scattering",
                "warp_color",
                "warp_roughness",
                "use_independent_weft_attributes",
                "weft_color",
                "weft_roughness",
                "use_UVs_for_thread_direction",
                "warp_thread_direction",
                "warp_thread_coverage",
                "warp_thread_elevation",
                "show_fuzz",
                "fuzz",
                "fuzz_coverage",
                "fuzz_albedo",
                "use_absorbing_fuzz_fibers",
                "diffuse_transmission",
                // DwaSkinMaterial (moonshine dso/material/DwaSkin/DwaSkinMaterial.json; the
                // subsurface ones are approximated, see above).
                "show_moisture",
                "moisture_mask",
                "moisture_roughness",
                "moisture_refractive_index",
                "moisture_model",
                "scattering_radius",
                "scattering_color",
                // HairDiffuseMaterial (moonshine lib/material/dwabase/json/hair_diffuse.json).
                "hair_color",
                "use_independent_front_and_back_hair_color",
                "front_hair_color",
                "back_hair_color",
                "subsurface_blend",
                "bssrdf",
                "scattering_color",
                "scattering_radius",
                "sss_trace_set",
                "enable_sss_input_normal",
                "input_normal",
                "input_normal_dial",
                // HairMaterial (moonshine lib/material/dwabase/json/hair.json).
                "fresnel_type",
                "cuticle_layer_thickness",
                "show_primary_specular",
                "primary_specular_offset",
                "primary_specular_roughness",
                "primary_specular_tint",
                "show_secondary_specular",
                "secondary_specular_offset",
                "use_independent_secondary_specular_roughness",
                "independent_secondary_specular_roughness",
                "secondary_specular_tint",
                "show_hair_glint",
                "glint_roughness",
                "glint_eccentricity",
                "glint_min_twists",
                "glint_max_twists",
                "glint_saturation",
                "show_transmission",
                "transmission_offset",
                "use_independent_transmission_roughness",
                "independent_transmission_roughness",
                "transmission_azimuthal_roughness",
                "transmission_tint",
                "direct_transmission_saturation",
                "use_optimized_sampling",
                "show_multiple_scattering",
            ],
        ));
        self.with_normal_map(id, m)
    }

    /// The materials made of other materials (DwaLayerMaterial, DwaMixMaterial,
    /// DwaTwoSidedMaterial); None for any other class.
    fn combining_material(&mut self, id: ObjectId) -> Option<Material> {
        let g = self.g;
        let o = g.object(id);
        let class = o.class.as_str();
        if !matches!(
            class,
            "DwaLayerMaterial" | "DwaMixMaterial" | "DwaTwoSidedMaterial"
        ) {
            return None;
        }
        let binds = self.binds(id);
        let bx = Bindable { binds: &binds };
        let mut a = Attrs::new(g, o, &mut self.warnings);
        // Attribute names and defaults from moonshine's json of each class.
        let shader = match class {
            "DwaLayerMaterial" => {
                let (ma, mb) = (a.object("material_A"), a.object("material_B"));
                let mask = bx.f32(&mut a, "mask", 1.0);
                Shader::Layer {
                    a: self.sub_material(ma),
                    b: self.sub_material(mb),
                    mask,
                }
            }
            "DwaMixMaterial" => {
                let mix = bx.f32(&mut a, "mix", 0.0);
                let remap = a.bool("remap_mix_to_inputs", true);
                // material0..material63; inputs start at 0 with no gaps.
                let ids: Vec<Option<ObjectId>> =
                    (0..64).map(|i| a.object(&format!("material{i}"))).collect();
                let n = ids.iter().rposition(Option::is_some).map_or(0, |i| i + 1);
                let inputs = ids[..n].iter().map(|m| self.sub_material(*m)).collect();
                Shader::Mix { inputs, mix, remap }
            }
            _ => {
                let (f, b) = (a.object("front_material"), a.object("back_material"));
                // A missing side falls back to the other one.
                let (f, b) = (f.or(b), b.or(f));
                Shader::TwoSided {
                    front: self.sub_material(f),
                    back: self.sub_material(b),
                }
            }
        };
        Some(Material::Shaded(Box::new(shader)))
    }

    /// A material input of a combining material, built like any other (grey when absent).
    fn sub_material(&mut self, id: Option<ObjectId>) -> Material {
        if let Some(i) = id.filter(|i| self.materials_building.contains(i)) {
            let o = self.g.object(i);
            self.warnings.push(format!(
                "{}: {} `{}` contains itself; the inner use renders grey",
                o.loc, o.class, o.name
            ));
        }
        let m = self.material(id);
        if let (Some(i), Some(_)) = (id, &self.material_cutout[m as usize]) {
            let o = self.g.object(i);
            self.warn_once(format!(
                "{}: {} `{}`: a cut-out (`opacity` below `opacityThreshold`) inside a combining material is not supported by the built-in renderer; rendered opaque",
                o.loc, o.class, o.name
            ));
        }
        self.materials[m as usize].clone()
    }
}

/// `base` under (or, not `under`, beside) a dielectric or Schlick coat: `Material::Coated`,
/// or its per-hit `Shader::Coated` when the base is resolved per hit.
fn coat(
    base: Material,
    weight: f32,
    roughness: f32,
    ior: f32,
    f0: Option<Vec3>,
    dist: Microfacet,
    under: bool,
) -> Material {
    match base {
        Material::Shaded(s) => Material::Shaded(Box::new(Shader::Coated {
            base: Material::Shaded(s),
            weight,
            roughness,
            ior,
            f0,
            dist,
            under,
        })),
        m => Material::Coated {
            base: Box::new(m),
            weight,
            roughness,
            ior,
            f0,
            dist,
            under,
        },
    }
}

/// DwaSkinMaterial's moisture over `base` (its DwaBase part): DwaBase's outer specular, keys
/// and defaults from moonshine dso/material/DwaSkin/DwaSkinMaterial.cc and .json (weight
/// `moisture_mask` when `show_moisture`, `moisture_roughness`, `moisture_refractive_index`,
/// `moisture_model`).
fn skin(a: &mut Attrs, binds: &Binds, base: Material) -> Material {
    if !a.bool("show_moisture", false) {
        return base;
    }
    let weight = a.f32("moisture_mask", 1.0).clamp(0.0, 1.0);
    if ["moisture_mask", "moisture_roughness"]
        .iter()
        .any(|k| binds.contains_key(*k))
    {
        a.warnings.push(format!(
            "{}: DwaSkinMaterial `{}`: maps bound to the moisture are not supported by the built-in renderer; their constants are used",
            a.obj.loc, a.obj.name
        ));
    }
    if weight <= 0.0 {
        return base;
    }
    coat(
        base,
        weight,
        a.f32("moisture_roughness", 0.25).clamp(0.0, 1.0),
        a.f32("moisture_refractive_index", 1.5).max(1.0001),
        None,
        Microfacet::from_model(a.int("moisture_model", 1)),
        true,
    )
}

/// One warning naming what of the object's material the built-in renderer leaves out, if
/// anything.
fn warn_left_out(a: &mut Attrs, left_out: &[&str]) {
    if !left_out.is_empty() {
        a.warnings.push(format!(
            "{}: {} `{}`: not supported by the built-in renderer: {}",
            a.obj.loc,
            a.obj.class,
            a.obj.name,
            left_out.join(", ")
        ));
    }
}

/// DwaToonMaterial: `base` (its DwaBase part) with the toon diffuse. Names and defaults from
/// moonshine lib/material/dwabase/json/toon_diffuse.json; how they are resolved (the ramp's
/// positions plus their offsets, its colours times their multipliers, the Oren-Nayar model's
/// controls clamped) from moonshine lib/material/dwabase/DwaBase.cc, resolveToonDiffuseParams.
fn toon(a: &mut Attrs, binds: &Binds, base: Material) -> Material {
    let mut left_out = Vec::new();
    let diffuse = if a.int("diffuse_model", 0) == 1 {
        let knots = ramp_knots(
            a,
            ["positions", "colors", "interpolations"],
            |i| {
                (
                    format!("ramp_position_offset{i}"),
                    format!("ramp_color_multiplier{i}"),
                )
            },
            &mut left_out,
        );
        crate::bsdf::ToonDiffuse::Ramp {
            ramp: crate::bsdf::Ramp::new(&knots),
            input_scale: a.f32("ramp_input_scale", 1.0),
            extend: a.bool("extend_ramp", false),
        }
    } else {
        crate::bsdf::ToonDiffuse::Flat {
            roughness: a.f32("diffuse_roughness", 0.0).clamp(0.0, 1.0),
            terminator_shift: a.f32("terminator_shift", 0.05).clamp(-1.0, 1.0),
            flatness: a.f32("diffuse_flatness", 0.0).clamp(0.0, 1.0),
            falloff: a.f32("diffuse_flatness_falloff", 0.0).clamp(0.0, 1.0),
        }
    };
    let toon_attr = |k: &str| {
        k.starts_with("ramp_")
            || [
                "terminator_shift",
                "diffuse_flatness",
                "diffuse_flatness_falloff",
                "diffuse_roughness",
            ]
            .contains(&k)
    };
    if binds.keys().any(|k| toon_attr(k)) {
        left_out.push("maps bound to the toon diffuse's controls (their constants are used)");
    }
    // The Toon specular: names and defaults from moonshine
    // dso/material/npr/DwaToonMaterial/DwaToonMaterial.json, resolved as moonshine
    // lib/material/dwabase/DwaBase.cc (resolveToonSpecParams) does: the ramp's positions plus
    // their offsets, its values times their multipliers, the tint clamped to [0, 1].
    let specular = if a.bool("show_specular", true) && a.int("specular_model", 1) == 2 {
        let knots = ramp_knots(
            a,
            [
                "toon_specular_positions",
                "toon_specular_values",
                "toon_specular_interpolations",
            ],
            |i| {
                (
                    format!("toon_specular_offset{i}"),
                    format!("toon_specular_mult{i}"),
                )
            },
            &mut left_out,
        );
        if a.f32("toon_specular_stretch_u", 0.0) != 0.0
            || a.f32("toon_specular_stretch_v", 0.0) != 0.0
        {
            left_out.push("toon specular stretch");
        }
        if a.bool("toon_specular_enable_input_normal", false) {
            left_out.push("toon specular input normal");
        }
        if a.bool("toon_specular_enable_indirect_reflections", false) {
            left_out.push("toon specular indirect reflections");
        }
        if a.f32("transmission", 0.0) > 0.0 {
            left_out.push("toon specular transmission (rendered as DwaBase's)");
        }
        if binds.keys().any(|k| k.starts_with("toon_specular")) {
            left_out.push("maps bound to the toon specular (their constants are used)");
        }
        Some(crate::bsdf::ToonSpecular::new(
            a.f32("toon_specular_intensity", 1.0),
            a.f32("toon_specular_fresnel_blend", 1.0),
            a.rgb("toon_specular_tint", Vec3::ONE)
                .clamp(Vec3::ZERO, Vec3::ONE),
            crate::bsdf::Ramp::new(&knots),
            a.f32("toon_specular_ramp_input_scale", 1.0),
            a.f32("toon_specular_indirect_reflections_roughness", 0.5)
                .clamp(0.0, 1.0),
        ))
    } else {
        None
    };
    left_out.dedup();
    warn_left_out(a, &left_out);
    match base {
        Material::Shaded(s) => Material::Shaded(Box::new(Shader::Toon {
            base: Material::Shaded(s),
            diffuse: Box::new(diffuse),
            specular: specular.map(Box::new),
        })),
        base => Material::Toon {
            base: Box::new(base),
            diffuse: Box::new(diffuse),
            specular: specular.map(Box::new),
        },
    }
}

/// A DwaToon ramp's knots from its `[positions, values, interpolations]` list attributes
/// (MoonRay's defaults when absent), each position plus its offset and each value (a colour,
/// or a float as grey) times its multiplier, as `names(i)` names them; at most MoonRay's ten.
fn ramp_knots(
    a: &mut Attrs,
    lists: [&str; 3],
    names: impl Fn(usize) -> (String, String),
    left_out: &mut Vec<&'static str>,
) -> Vec<(f32, Vec3, i64)> {
    let list_or_default = |a: &mut Attrs, name: &str| -> Vec<crate::graph::Value> {
        let l = a.list(name);
        if l.is_empty() {
            match a.moonray_default(name) {
                Some(crate::graph::Value::List(d)) => d,
                _ => Vec::new(),
            }
        } else {
            l.to_vec()
        }
    };
    let positions = list_or_default(a, lists[0]);
    let values = list_or_default(a, lists[1]);
    let modes = list_or_default(a, lists[2]);
    let mut knots = Vec::new();
    for (i, (p, v)) in positions.iter().zip(&values).enumerate() {
        let value = crate::attrs::vec3_of(v)
            .or_else(|| crate::attrs::num(v).map(|x| Vec3::splat(x as f32)));
        let (Some(p), Some(v)) = (crate::attrs::num(p), value) else {
            continue;
        };
        if i >= crate::bsdf::MAX_RAMP_POINTS {
            left_out.push("ramp points beyond the tenth (MoonRay keeps ten)");
            break;
        }
        let (offset, mult) = names(i);
        let offset = a.f32(&offset, 0.0);
        let mult = match a.obj.attrs.get(&mult) {
            Some(crate::graph::Value::Float(_) | crate::graph::Value::Int(_)) => {
                Vec3::splat(a.f32(&mult, 1.0))
            }
            _ => a.rgb(&mult, Vec3::ONE),
        };
        let mode = modes.get(i).and_then(crate::attrs::num).unwrap_or(0.0) as i64;
        if mode >= 5 {
            left_out.push("cubic ramp interpolation (rendered linear)");
        }
        knots.push((p as f32 + offset, v * mult, mode));
    }
    knots
}

/// The attributes of a DwaBase-like material, each bound or constant.
struct BaseParams {
    albedo: Param,
    specular: Param,
    roughness: Param,
    metallic: Param,
    metal_color: Param,
    edge_color: Param,
    ior: f32,
    specular_model: Microfacet,
    transmission: Param,
    transmission_color: Param,
    thin: bool,
    emission: Param,
}

/// A DwaBase-like material: constant when nothing is bound.
fn base(p: BaseParams) -> Material {
    match (
        c3(&p.albedo),
        c3(&p.specular),
        c3(&p.roughness),
        c3(&p.metallic),
        c3(&p.metal_color),
        c3(&p.edge_color),
        c3(&p.emission),
        c3(&p.transmission),
        c3(&p.transmission_color),
    ) {
        (
            Some(albedo),
            Some(s),
            Some(r),
            Some(m),
            Some(mc),
            Some(ec),
            Some(emission),
            Some(t),
            Some(tc),
        ) => Material::Base {
            albedo,
            specular: s.x,
            roughness: r.x.clamp(0.0, 1.0),
            metallic: m.x,
            metal_color: mc,
            edge_color: ec,
            ior: p.ior,
            specular_model: p.specular_model,
            transmission: t.x.clamp(0.0, 1.0),
            transmission_color: tc,
            thin: p.thin,
            emission,
        },
        _ => Material::Shaded(Box::new(Shader::Base {
            albedo: p.albedo,
            specular: p.specular,
            roughness: p.roughness,
            metallic: p.metallic,
            metal_color: p.metal_color,
            edge_color: p.edge_color,
            ior: p.ior,
            specular_model: p.specular_model,
            transmission: p.transmission,
            transmission_color: p.transmission_color,
            thin: p.thin,
            emission: p.emission,
        })),
    }
}
