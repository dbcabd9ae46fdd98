//! Maps: the map objects bound into material attributes, built once each into the scene's
//! `shading::Maps`, and the reading of an attribute as a `shading::Param` (a constant or a map).

use super::SceneBuilder;
use crate::attrs::num;
use crate::attrs::Attrs;
use crate::graph::{ObjectId, Value};
use crate::shading::{Channels, Map, MapId, MapInput, Param, RampSource};
use crate::texture::{Gamma, Texture};
use glam::{Vec2, Vec3};
use std::collections::HashMap;

/// The map classes the built-in renderer evaluates.
pub(super) const MAPS: &[&str] = &[
    "CheckerboardMap",
    "AttributeMap",
    "RemapMap",
    "LayerMap",
    "ColorCorrectMap",
    "RampMap",
    "ImageMap",
    "ProjectPlanarMap",
    "UsdUVTexture",
    "UsdPrimvarReader_float2",
    "ImageNormalMap",
    "ProjectTriplanarMap",
    "UsdPrimvarReader_float",
    "UsdPrimvarReader_float3",
    "UsdPrimvarReader_int",
    "UsdPrimvarReader_point",
    "UsdPrimvarReader_vector",
    "UsdPrimvarReader_normal",
];

/// The attributes of one object that are bound to a map the built-in renderer evaluates.
pub(super) type Binds = HashMap<String, Param>;

impl SceneBuilder<'_> {
    /// Interns a primitive attribute name.
    pub(super) fn attribute_id(&mut self, name: &str) -> u32 {
        match self.attribute_names.iter().position(|n| n == name) {
            Some(i) => i as u32,
            None => {
                self.attribute_names.push(name.to_string());
                (self.attribute_names.len() - 1) as u32
            }
        }
    }

    /// The attributes of `id` bound (`bind(map)`) to a supported map, built on first use. A
    /// binding to an unsupported map is left out: reading the attribute then warns and uses
    /// the constant, as before maps were evaluated.
    pub(super) fn binds(&mut self, id: ObjectId) -> Binds {
        let g = self.g;
        let mut out = Binds::new();
        for (name, v) in &g.object(id).attrs {
            if let Value::Bind {
                target: Some(t), ..
            } = v
            {
                if let Some(m) = self.map(*t) {
                    out.insert(name.clone(), Param::Map(m));
                }
            }
        }
        out
    }

    /// Builds map object `id` once; None when its class is not evaluated here or it binds
    /// itself through a cycle.
    pub(super) fn map(&mut self, id: ObjectId) -> Option<MapId> {
        if let Some(m) = self.map_ids.get(&id) {
            return *m;
        }
        let g = self.g;
        let o = g.object(id);
        let noise = super::noise_maps::NOISE_MAPS.contains(&o.class.as_str());
        if !MAPS.contains(&o.class.as_str()) && !noise {
            return None;
        }
        self.map_ids.insert(id, None);
        if o.class == "ImageMap" {
            return self.image_map(id);
        }
        if o.class == "UsdUVTexture" {
            return self.usd_uv_texture(id);
        }
        if o.class == "ImageNormalMap" {
            return self.image_normal_map(id);
        }
        if o.class == "ProjectTriplanarMap" {
            return self.project_triplanar_map(id);
        }
        let binds = self.binds(id);
        if noise {
            let map = self.noise_map(id, &binds);
            return Some(self.push_map(id, map));
        }
        let mut a = Attrs::new(g, o, &mut self.warnings);
        let rgb = |a: &mut Attrs, name: &str| -> Param {
            binds.get(name).cloned().unwrap_or_else(|| {
                let d = default_rgb(a, name);
                Param::Const(a.rgb(name, d))
            })
        };
        let map = match o.class.as_str() {
            // Attribute names and defaults: moonray dso/map/CheckerboardMap/CheckerboardMap.json.
            "CheckerboardMap" => {
                let st = (a.int("texture_coordinates", 0) == 1)
                    .then(|| rgb(&mut a, "input_texture_coordinates"));
                Map::Checkerboard {
                    a: rgb(&mut a, "color_A"),
                    b: rgb(&mut a, "color_B"),
                    u_tiles: a.int("num_u_tiles", 8) as f32,
                    v_tiles: a.int("num_v_tiles", 8) as f32,
                    st,
                }
            }
            // moonray dso/map/AttributeMap/AttributeMap.json: map_type's enum.
            "AttributeMap" => {
                let kind = a.int("map_type", 0);
                let name = a.string("primitive_attribute_name");
                let default = rgb(&mut a, "default_value");
                let color = rgb(&mut a, "color");
                let input = match kind {
                    0 => MapInput::Primitive(None),
                    1 => MapInput::Position,
                    2 => MapInput::St,
                    3 => MapInput::ShadingNormal,
                    4 => MapInput::GeometricNormal,
                    9 => MapInput::Color,
                    other => {
                        a.warnings.push(format!(
                            "{}: AttributeMap `{}`: map_type {other} is not supported by the built-in renderer; using default_value",
                            o.loc, o.name
                        ));
                        MapInput::Primitive(None)
                    }
                };
                let input = match input {
                    MapInput::Primitive(_) => MapInput::Primitive(Some(
                        self.attribute_id(name.as_deref().unwrap_or("Cd")),
                    )),
                    other => other,
                };
                Map::Attribute {
                    input,
                    default,
                    color,
                }
            }
            // moonshine dso/map/RemapMap/RemapMap.json.
            "RemapMap" => {
                let per_channel = a.int("remap_method", 0) == 1;
                let input = rgb(&mut a, "input");
                let f = |a: &mut Attrs, name: &str, d: f32| -> Param {
                    binds
                        .get(name)
                        .cloned()
                        .unwrap_or_else(|| Param::Const(Vec3::splat(a.f32(name, d))))
                };
                if per_channel {
                    let clamp = a.bool("clamp_RGB", true).then(|| {
                        (
                            a.rgb("clamp_min_RGB", Vec3::ZERO),
                            a.rgb("clamp_max_RGB", Vec3::ONE),
                        )
                    });
                    Map::Remap {
                        input,
                        in_min: rgb(&mut a, "input_min_RGB"),
                        in_max: rgb(&mut a, "input_max_RGB"),
                        out_min: rgb(&mut a, "output_min_RGB"),
                        out_max: rgb(&mut a, "output_max_RGB"),
                        bias: rgb(&mut a, "midpoint_bias_RGB"),
                        clamp,
                    }
                } else {
                    let clamp = a.bool("clamp", true).then(|| {
                        (
                            Vec3::splat(a.f32("clamp_min", 0.0)),
                            Vec3::splat(a.f32("clamp_max", 1.0)),
                        )
                    });
                    Map::Remap {
                        input,
                        in_min: f(&mut a, "input_min", 0.0),
                        in_max: f(&mut a, "input_max", 1.0),
                        out_min: f(&mut a, "output_min", 0.0),
                        out_max: f(&mut a, "output_max", 1.0),
                        bias: f(&mut a, "midpoint_bias", 0.5),
                        clamp,
                    }
                }
            }
            // moonshine dso/map/ColorCorrectMap/ColorCorrectMap.json; defaults from the class
            // data (MoonRay's own).
            "ColorCorrectMap" => {
                let fl = |a: &mut Attrs, name: &str| -> Param {
                    binds.get(name).cloned().unwrap_or_else(|| {
                        let d = default_f32(a, name);
                        Param::Const(Vec3::splat(a.f32(name, d)))
                    })
                };
                let chans = |a: &mut Attrs, name: &str| -> Channels {
                    if a.bool(&format!("use_per_channel_{name}"), false) {
                        let mut v = Vec3::ZERO;
                        for (i, c) in ["r", "g", "b"].iter().enumerate() {
                            let n = format!("{name}_{c}");
                            let d = default_f32(a, &n);
                            v[i] = a.f32(&n, d);
                        }
                        Channels::Each(v)
                    } else {
                        Channels::All(fl(a, name))
                    }
                };
                let on = |a: &mut Attrs, name: &str| a.bool(name, true);
                let input = rgb(&mut a, "input");
                let mix = if a.bool("on", true) {
                    fl(&mut a, "mix")
                } else {
                    Param::Const(Vec3::ZERO)
                };
                let hue = on(&mut a, "hue_shift_enabled").then(|| fl(&mut a, "hue_shift"));
                let saturation =
                    on(&mut a, "saturation_enabled").then(|| chans(&mut a, "saturation"));
                let contrast = on(&mut a, "contrast_enabled").then(|| chans(&mut a, "contrast"));
                let gamma = on(&mut a, "gamma_enabled").then(|| chans(&mut a, "gamma"));
                let gain_offset = on(&mut a, "gain_offset_enabled").then(|| {
                    if a.bool("use_per_channel_gain_offset", false) {
                        let mut g = Vec3::ZERO;
                        let mut o = Vec3::ZERO;
                        for (i, c) in ["r", "g", "b"].iter().enumerate() {
                            let (gn, on) = (format!("gain_{c}"), format!("offset_{c}"));
                            let (gd, od) = (default_f32(&a, &gn), default_f32(&a, &on));
                            g[i] = a.f32(&gn, gd);
                            o[i] = a.f32(&on, od);
                        }
                        (Channels::Each(g), Channels::Each(o))
                    } else {
                        (
                            Channels::All(fl(&mut a, "gain")),
                            Channels::All(fl(&mut a, "offset")),
                        )
                    }
                });
                let tmi = on(&mut a, "TMI_enabled").then(|| rgb(&mut a, "TMI"));
                let clamp = a
                    .bool("clamp", true)
                    .then(|| (a.f32("clamp_min", 0.0), a.f32("clamp_max", 1.0)));
                Map::ColorCorrect {
                    input,
                    mix,
                    hue,
                    saturation,
                    contrast,
                    gamma,
                    gain_offset,
                    tmi,
                    clamp,
                }
            }
            // moonshine dso/map/RampMap/RampMap.json; the knots' defaults from the class data.
            "RampMap" => {
                let list_or_default = |a: &mut Attrs, name: &str| -> Vec<Value> {
                    let l = a.list(name);
                    if l.is_empty() {
                        match a.moonray_default(name) {
                            Some(Value::List(d)) => d,
                            _ => Vec::new(),
                        }
                    } else {
                        l.to_vec()
                    }
                };
                let positions = list_or_default(&mut a, "positions");
                let colors = list_or_default(&mut a, "colors");
                let modes = list_or_default(&mut a, "interpolations");
                let mut knots: Vec<(f32, Vec3, i64)> = positions
                    .iter()
                    .zip(&colors)
                    .enumerate()
                    .filter_map(|(i, (p, c))| {
                        let c = crate::attrs::vec3_of(c)?;
                        let m = modes.get(i).and_then(num).unwrap_or(1.0) as i64;
                        Some((num(p)? as f32, c, m))
                    })
                    .collect();
                knots.sort_by(|x, y| x.0.total_cmp(&y.0));
                let ramp_type = a.int("ramp_type", 0);
                let space = a.int("space", 0);
                let source = if a.int("texture_coordinates", 0) == 1 {
                    RampSource::Input(rgb(&mut a, "input_texture_coordinates"))
                } else {
                    match space {
                        6 => RampSource::St,
                        0 | 2 => RampSource::Position,
                        _ => {
                            a.warnings.push(format!(
                                "{}: RampMap `{}`: space {space} is rendered as render space",
                                o.loc, o.name
                            ));
                            RampSource::Position
                        }
                    }
                };
                if ramp_type == 7 || knots.iter().any(|k| k.2 >= 5) || a.int("color_space", 0) != 0
                {
                    a.warnings.push(format!(
                        "{}: RampMap `{}`: four-corner ramps, cubic interpolation and HSV/HSL blending are not supported by the built-in renderer; rendered as a v ramp, linear, RGB",
                        o.loc, o.name
                    ));
                }
                let input = binds
                    .get("input")
                    .cloned()
                    .unwrap_or_else(|| Param::Const(Vec3::splat(a.f32("input", 1.0))));
                let v2 = |a: &Attrs, name: &str, d: Vec2| match a.obj.attrs.get(name) {
                    Some(Value::Vec2(c)) => Vec2::new(c[0] as f32, c[1] as f32),
                    _ => d,
                };
                Map::Ramp {
                    knots,
                    ramp_type,
                    source,
                    input,
                    repeat: v2(&a, "uv_repeat", Vec2::ONE),
                    wave: v2(&a, "uv_wave", Vec2::ZERO),
                    clamp: a.int("wrap_type", 0) == 1,
                }
            }
            // moonshine dso/map/LayerMap/LayerMap.json.
            "LayerMap" => Map::Layer {
                a: rgb(&mut a, "input_A"),
                b: rgb(&mut a, "input_B"),
                mask: binds
                    .get("mask")
                    .cloned()
                    .unwrap_or_else(|| Param::Const(Vec3::splat(a.f32("mask", 1.0)))),
                mode: a.int("mode", 1),
            },
            // moonshine dso/map/ProjectPlanarMap/ProjectPlanarMap.json with lib/map/projection's
            // projection.json: the projector's node_xform (projection_mode 0), a
            // projection_matrix (1), or translate, rotate (degrees) and scale in TRS_order (2).
            "ProjectPlanarMap" => {
                let projector = projector(&mut a);
                let (back, outside) = (
                    a.bool("project_on_back_faces", true),
                    a.bool("black_outside_projection", false),
                );
                let mut p = crate::projection::ProjectPlanar::new(
                    projector.unwrap_or(glam::Mat4::IDENTITY),
                    back,
                    outside,
                );
                if projector.is_none() {
                    a.warnings.push(format!(
                        "{}: ProjectPlanarMap `{}` has no `projector`: it gives (0, 0, -1), as MoonRay's does",
                        o.loc, o.name
                    ));
                    p.valid = false;
                }
                Map::ProjectPlanar(Box::new(p))
            }
            // moonray dso/map/UsdPrimvarReader_float2 (with lib/map/primvar/json/primvar.json):
            // `varname` "st" is the hit's st, any other name a Vec2f primitive attribute,
            // `fallback` where the geometry has none.
            "UsdPrimvarReader_float2" => {
                let v = match a.obj.attrs.get("fallback") {
                    Some(Value::Vec2(c)) => Vec3::new(c[0] as f32, c[1] as f32, 0.0),
                    _ => Vec3::ZERO,
                };
                let default = binds.get("fallback").cloned().unwrap_or(Param::Const(v));
                let name = a.string("varname").unwrap_or_default();
                let input = if name == "st" {
                    MapInput::St
                } else {
                    MapInput::Primitive(Some(self.attribute_id(&name)))
                };
                Map::Attribute {
                    input,
                    default,
                    color: Param::Const(Vec3::ZERO),
                }
            }
            // moonray dso/map/UsdPrimvarReader_{float,float3,int,point,vector} and moonshine
            // dso/normalmap/UsdPrimvarReader_normal (`update` and `sample` in each .cc): the
            // primitive attribute `varname`, or `fallback` (bindable) where the geometry has
            // none; float and int give their value in all three channels. The special names
            // each class knows: float3 P, N, Ng, dpds; point P; vector dpds; normal N, Ng.
            class if class.starts_with("UsdPrimvarReader_") => {
                let kind = &class["UsdPrimvarReader_".len()..];
                let v = match a.obj.attrs.get("fallback") {
                    Some(Value::Vec3(c) | Value::Rgb(c)) => {
                        Vec3::new(c[0] as f32, c[1] as f32, c[2] as f32)
                    }
                    Some(Value::Float(f)) => Vec3::splat(*f as f32),
                    Some(Value::Int(i)) => Vec3::splat(*i as f32),
                    _ => Vec3::ZERO,
                };
                let default = binds.get("fallback").cloned().unwrap_or(Param::Const(v));
                let name = a.string("varname").unwrap_or_default();
                let special = match (kind, name.as_str()) {
                    ("float3" | "point", "P") => Some(MapInput::Position),
                    ("float3" | "normal", "N") => Some(MapInput::ShadingNormal),
                    ("float3" | "normal", "Ng") => Some(MapInput::GeometricNormal),
                    ("float3" | "vector", "dpds") => Some(MapInput::Dpds),
                    _ => None,
                };
                let unsupported = match kind {
                    "float3" | "point" | "vector" | "normal" => &[
                        "dpdt",
                        "dnds",
                        "dndt",
                        "surface_P",
                        "surface_N",
                        "velocity",
                        "acceleration",
                        "motion",
                    ][..],
                    "int" => &["id"][..],
                    _ => &[][..],
                };
                let input = match special {
                    Some(i) => i,
                    None if unsupported.contains(&name.as_str()) => {
                        a.warnings.push(format!(
                            "{}: {class} `{}`: varname `{name}` is not supported by the built-in renderer; the map gives its fallback",
                            o.loc, o.name
                        ));
                        MapInput::Primitive(None)
                    }
                    None => MapInput::Primitive(Some(self.attribute_id(&name))),
                };
                Map::Attribute {
                    input,
                    default,
                    color: Param::Const(Vec3::ZERO),
                }
            }
            _ => unreachable!("checked against MAPS"),
        };
        Some(self.push_map(id, map))
    }

    /// Adds the map built for object `id`.
    pub(super) fn push_map(&mut self, id: ObjectId, map: Map) -> MapId {
        let mid = self.maps.maps.len() as MapId;
        self.maps.maps.push(map);
        self.map_ids.insert(id, Some(mid));
        mid
    }
}

/// The file an ImageMap reads: its `texture`; of a UDIM pattern with no tile present, tile
/// 1001, whose absence is then reported.
fn texture_path(o: &crate::graph::Object) -> Option<String> {
    match o.attrs.get("texture") {
        Some(Value::String(path)) if path.contains(crate::assets::UDIM) => {
            Some(crate::assets::udim_path(path, 1001))
        }
        Some(Value::String(path)) if !path.is_empty() => Some(path.clone()),
        _ => None,
    }
}

/// The ImageMap attributes `image_map` reads (moonray `dso/map/Image/ImageMap.json`), and those
/// it may leave aside: `mip_bias` (there are no mip levels to bias) and the two that colour a
/// missing UDIM tile (only the first tile is read).
const IMAGE_MAP: &[&str] = &[
    "texture",
    "gamma",
    "wrap_around",
    "offset",
    "scale",
    "rotation_angle",
    "rotation_center",
    "texture_coordinates",
    "input_texture_coordinates",
    "alpha_only",
    "saturation_enabled",
    "saturation",
    "contrast_enabled",
    "contrast",
    "gamma_enabled",
    "gamma_adjust",
    "gain_offset_enabled",
    "gain",
    "offset_adjust",
    "TMI_control_enabled",
    "TMI",
    "mip_bias",
    "use_default_color_when_missing",
    "default_color",
];

/// What `decoded_texture` makes of a file: None when it is not among the assets, else the
/// texture or why it could not be decoded.
pub(super) type Decoded = Option<Result<std::sync::Arc<Texture>, String>>;

impl SceneBuilder<'_> {
    /// The texture at `key`, decoded once per scene build whichever maps read it with the same
    /// `gamma` (see `crate::assets` for where the bytes come from).
    pub(super) fn decoded_texture(&mut self, key: &str, gamma: Gamma) -> Decoded {
        if let Some(t) = self.textures.get(&(key.to_string(), gamma)) {
            return Some(Ok(t.clone()));
        }
        let bytes = self.assets.get(key)?;
        Some(Texture::decode(bytes, gamma).map(|t| {
            let t = std::sync::Arc::new(t);
            self.textures.insert((key.to_string(), gamma), t.clone());
            t
        }))
    }

    /// An ImageMap: its `texture` decoded once, read at the hit's uv (or its
    /// `input_texture_coordinates`) through the map's rotation, scale and offset, filtered
    /// bilinearly and colour-corrected. A missing or unreadable texture warns and leaves the
    /// binding out, so the bound attribute keeps its constant.
    fn image_map(&mut self, id: ObjectId) -> Option<MapId> {
        let g = self.g;
        let o = g.object(id);
        let key = texture_path(o);
        // gamma auto (2) and on (1) both apply the 2.2 power to 8-bit files.
        let gamma = match o.attrs.get("gamma") {
            Some(Value::Int(v)) => Gamma::from_attr(*v),
            _ => Gamma::Auto,
        };
        let udim = self.udim_tiles(o, "texture", gamma);
        // With tiles present but not 1001, the first present stands where 1001 would.
        let key = match (&udim, key) {
            (Some((_, first)), _) => Some(first.clone()),
            (None, key) => key,
        };
        let texture = match &key {
            Some(key) => match self.decoded_texture(key, gamma) {
                None => Err(format!(
                    "the texture {key} of ImageMap `{}` was not found",
                    o.name
                )),
                Some(r) => {
                    r.map_err(|e| format!("the texture {key} of ImageMap `{}`: {e}", o.name))
                }
            },
            None => Err(format!("ImageMap `{}` has no `texture`", o.name)),
        };
        let texture = match texture {
            Ok(t) => t,
            Err(_) if key.is_some_and(|k| self.reported_missing.contains(&k)) => return None,
            Err(why) => {
                self.warnings.push(format!(
                    "{}: {why}; the bound attribute keeps its value",
                    o.loc
                ));
                return None;
            }
        };
        let binds = self.binds(id);
        let mut a = Attrs::new(g, o, &mut self.warnings);
        a.warn_unknown(IMAGE_MAP);
        let v2 = |a: &Attrs, name: &str, d: Vec2| match a.obj.attrs.get(name) {
            Some(Value::Vec2(c)) => Vec2::new(c[0] as f32, c[1] as f32),
            _ => d,
        };
        let st = match a.int("texture_coordinates", 0) {
            0 => None,
            2 => Some(
                binds
                    .get("input_texture_coordinates")
                    .cloned()
                    .unwrap_or_else(|| {
                        Param::Const(a.vec3("input_texture_coordinates", Vec3::ZERO))
                    }),
            ),
            other => {
                a.warnings.push(format!(
                    "{}: ImageMap `{}`: texture_coordinates {other} (hair surface st) is not supported by the built-in renderer; the hit's uv is used",
                    o.loc, o.name
                ));
                None
            }
        };
        let on = |a: &mut Attrs, name: &str| a.bool(name, false);
        let mut cc = crate::texture::ColorCorrect::default();
        if on(&mut a, "saturation_enabled") {
            cc.saturation = a.rgb("saturation", Vec3::ONE);
        }
        if on(&mut a, "contrast_enabled") {
            cc.contrast = a.rgb("contrast", Vec3::ONE);
        }
        if on(&mut a, "gamma_enabled") {
            cc.gamma = a.rgb("gamma_adjust", Vec3::ONE);
        }
        if on(&mut a, "gain_offset_enabled") {
            cc.gain = a.rgb("gain", Vec3::ONE);
            cc.offset = a.rgb("offset_adjust", Vec3::ZERO);
        }
        if on(&mut a, "TMI_control_enabled") {
            cc.temperature = a.vec3("TMI", Vec3::ZERO);
        }
        let image = crate::texture::ImageLookup {
            texture,
            wrap: {
                let w = crate::texture::Wrap::around(a.bool("wrap_around", true));
                (w, w)
            },
            scale: v2(&a, "scale", Vec2::ONE),
            offset: v2(&a, "offset", Vec2::ZERO),
            rotation: a.f32("rotation_angle", 0.0).to_radians(),
            rotation_center: v2(&a, "rotation_center", Vec2::splat(0.5)),
            color_correct: (!cc.is_identity()).then_some(cc),
            channel: if a.bool("alpha_only", false) {
                crate::texture::Channel::Alpha
            } else {
                crate::texture::Channel::Rgb
            },
            udim: None,
        };
        let image = crate::texture::ImageLookup {
            udim: udim.map(|(tiles, _)| {
                let missing = if a.bool("use_default_color_when_missing", false) {
                    a.rgb("default_color", Vec3::new(0.0, 1.0, 0.0))
                } else {
                    fatal_color(g)
                };
                std::sync::Arc::new(crate::texture::Udim {
                    tiles,
                    missing,
                    out_of_range: fatal_color(g),
                })
            }),
            ..image
        };
        Some(self.push_map(id, Map::Image { image, st }))
    }

    /// A `<UDIM>` pattern's tiles among the assets (1001 to 1100: ten across, as MoonRay's
    /// UdimTexture), decoded, and the path of the first present; None for a plain file or a
    /// pattern with no tile present (then the first tile's absence is reported as for a file).
    fn udim_tiles(
        &mut self,
        o: &crate::graph::Object,
        attr: &str,
        gamma: Gamma,
    ) -> Option<(Vec<Option<std::sync::Arc<Texture>>>, String)> {
        let Some(Value::String(pattern)) = o.attrs.get(attr) else {
            return None;
        };
        if !pattern.contains(crate::assets::UDIM) {
            return None;
        }
        let mut tiles = Vec::with_capacity(100);
        let mut first = None;
        for tile in 1001..=1100 {
            let path = crate::assets::udim_path(pattern, tile);
            let decoded = match self.decoded_texture(&path, gamma) {
                Some(Ok(t)) => Some(t),
                Some(Err(e)) => {
                    self.warnings.push(format!(
                        "{}: the texture {path} of {} `{}`: {e}; the tile reads as missing",
                        o.loc, o.class, o.name
                    ));
                    None
                }
                None => None,
            };
            if decoded.is_some() && first.is_none() {
                first = Some(path);
            }
            tiles.push(decoded);
        }
        Some((tiles, first?))
    }
}

/// The scene's `fatal_color` (scene_rdl2 `SceneVariables.cc`, magenta by default).
pub(super) fn fatal_color(g: &crate::graph::SceneGraph) -> Vec3 {
    match g.scene_variables.get("fatal_color") {
        Some(Value::Rgb(c) | Value::Vec3(c)) => Vec3::new(c[0] as f32, c[1] as f32, c[2] as f32),
        _ => Vec3::new(1.0, 0.0, 1.0),
    }
}

impl SceneBuilder<'_> {
    /// A UsdUVTexture (moonray `dso/map/UsdUVTexture/UsdUVTexture.json` and `.cc`): `file`
    /// decoded once with `sourceColorSpace`'s rule, `wrapS`/`wrapT`, read bilinearly at `st`.
    /// A file that cannot be read warns and the map gives `fallback`, as MoonRay's does.
    fn usd_uv_texture(&mut self, id: ObjectId) -> Option<MapId> {
        let g = self.g;
        let o = g.object(id);
        let key = match o.attrs.get("file") {
            Some(Value::String(p)) if p.contains(crate::assets::UDIM) => {
                Some(crate::assets::udim_path(p, 1001))
            }
            Some(Value::String(p)) if !p.is_empty() => Some(p.clone()),
            _ => None,
        };
        // sourceColorSpace: raw 0, sRGB 1, auto 3 (the default).
        let gamma = match o.attrs.get("sourceColorSpace") {
            Some(Value::Int(0)) => Gamma::Off,
            Some(Value::Int(1)) => Gamma::On,
            _ => Gamma::Usd,
        };
        let udim = self.udim_tiles(o, "file", gamma);
        let key = match (&udim, key) {
            (Some((_, first)), _) => Some(first.clone()),
            (None, key) => key,
        };
        let texture = key.as_deref().map(|k| (k, self.decoded_texture(k, gamma)));
        let texture = match texture {
            Some((_, Some(Ok(t)))) => Some(t),
            Some((k, _)) if self.reported_missing.contains(k) => None,
            Some((k, r)) => {
                let why = match r {
                    Some(Err(e)) => format!(": {e}"),
                    _ => " was not found".into(),
                };
                self.warnings.push(format!(
                    "{}: the file {k} of UsdUVTexture `{}`{why}; the map gives its fallback",
                    o.loc, o.name
                ));
                None
            }
            None => None,
        };
        let binds = self.binds(id);
        let mut a = Attrs::new(g, o, &mut self.warnings);
        a.warn_unknown(&[
            "file",
            "st",
            "wrapS",
            "wrapT",
            "fallback",
            "scale",
            "bias",
            "sourceColorSpace",
            "output_mode",
        ]);
        let st = binds
            .get("st")
            .cloned()
            .unwrap_or_else(|| match a.obj.attrs.get("st") {
                Some(Value::Vec2(c)) => Param::Const(Vec3::new(c[0] as f32, c[1] as f32, 0.0)),
                _ => Param::Const(Vec3::new(1.0, 1.0, 0.0)),
            });
        // output_mode: rgb 0, r 1, g 2, b 3, a 4 (1 where the file has no alpha).
        let mode = a.int("output_mode", 0);
        let channel = (1..=3).contains(&mode).then(|| mode as usize - 1);
        let image = texture.map(|texture| crate::texture::ImageLookup {
            texture,
            wrap: (
                crate::texture::Wrap::from_usd(a.int("wrapS", 4)),
                crate::texture::Wrap::from_usd(a.int("wrapT", 4)),
            ),
            scale: Vec2::ONE,
            offset: Vec2::ZERO,
            rotation: 0.0,
            rotation_center: Vec2::splat(0.5),
            color_correct: None,
            channel: if mode == 4 {
                crate::texture::Channel::Alpha
            } else {
                crate::texture::Channel::Rgb
            },
            // A missing tile reads the fallback (UsdUVTexture.cc: "use default/fallback color").
            udim: udim.map(|(tiles, _)| {
                std::sync::Arc::new(crate::texture::Udim {
                    tiles,
                    missing: a.rgb("fallback", Vec3::ZERO),
                    out_of_range: fatal_color(g),
                })
            }),
        });
        let map = Map::UsdUvTexture {
            image,
            st,
            channel,
            scale: a.rgb("scale", Vec3::ONE),
            bias: a.rgb("bias", Vec3::ZERO),
            fallback: a.rgb("fallback", Vec3::ZERO),
        };
        Some(self.push_map(id, map))
    }
}

/// MoonRay's default of a colour attribute (from the class data), black when it has none.
pub(super) fn default_rgb(a: &Attrs, name: &str) -> Vec3 {
    match a.moonray_default(name) {
        Some(Value::Rgb(c) | Value::Vec3(c)) => Vec3::new(c[0] as f32, c[1] as f32, c[2] as f32),
        Some(Value::Float(f)) => Vec3::splat(f as f32),
        _ => Vec3::ZERO,
    }
}

/// MoonRay's default of a float attribute (from the class data), 0 when it has none.
pub(super) fn default_f32(a: &Attrs, name: &str) -> f32 {
    match a.moonray_default(name) {
        Some(Value::Float(f)) => f as f32,
        Some(Value::Int(i)) => i as f32,
        _ => 0.0,
    }
}

/// The projector of a projection map (moonshine lib/map/projection/json/projection.json): the
/// `projector`'s node_xform (projection_mode 0), a `projection_matrix` (1), or translate,
/// rotate (degrees) and scale in TRS_order (2); None when mode 0 names no projector.
pub(super) fn projector(a: &mut Attrs) -> Option<glam::Mat4> {
    let g = a.graph;
    match a.int("projection_mode", 0) {
        1 => Some(a.mat4("projection_matrix")),
        2 => {
            let t = a.vec3("translate", Vec3::ZERO);
            let r = a.vec3("rotate", Vec3::ZERO) * std::f32::consts::PI / 180.0;
            let s = a.vec3("scale", Vec3::ONE);
            let (to, ro) = (a.int("TRS_order", 0), a.int("rotation_order", 0));
            Some(crate::noise::ordered_compose(t, r, s, to, ro))
        }
        _ => a
            .object("projector")
            .map(|p| Attrs::new(g, g.object(p), &mut *a.warnings).mat4("node_xform")),
    }
}
