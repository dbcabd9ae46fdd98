//! The MoonRay scene class names the RDLA loader accepts as constructors, and which of them
//! are sets (their table's array part lists members rather than attributes).
//!
//! The list is deliberately generous: a real scene must never fail with "undefined global"
//! because it names a class this renderer cannot draw. Whether a class is *supported* is the
//! scene builder's business (it warns per unsupported object); the loader only records it.
//! Names come from MoonRay's own DSOs (`moonray/dso/*`), the shader library that ships with
//! OpenMoonRay (`Dwa*` materials, maps, normal maps, display filters) and `scene_rdl2`'s
//! built-in classes.

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

/// Every scene class name the loader turns into a constructor on first use.
pub(crate) const SCENE_CLASSES: &[&str] = &[
    // Sets and other classes built into scene_rdl2.
    "GeometrySet", "LightSet", "LightFilterSet", "ShadowSet", "ShadowReceiverSet", "TraceSet",
    "Layer", "Metadata", "UserData", "RenderOutput", "Joint",
    // Cameras.
    "PerspectiveCamera", "OrthographicCamera", "SphericalCamera", "FisheyeCamera", "BakeCamera",
    "DomeMaster3DCamera", "PresenZCamera",
    // Geometries.
    "RdlMeshGeometry", "RdlCurveGeometry", "RdlPointGeometry", "RdlInstancerGeometry",
    "VdbGeometry", "BoxGeometry", "SphereGeometry", "PlaneGeometry", "DiskGeometry",
    "CubeGeometry", "AbcGeometry", "UsdGeometry", "AmorphousGeometry", "PolygonMeshGeometry",
    "SubdivisionMeshGeometry", "CurveGeometry", "PointGeometry", "InstancerGeometry",
    "WireGeometry", "TextGeometry", "OpenVdbGeometry", "RdlSphereGeometry",
    // Lights.
    "CylinderLight", "DiskLight", "DistantLight", "EnvLight", "MeshLight", "PortalLight",
    "RectLight", "SphereLight", "SpotLight",
    // Light filters.
    "BarnDoorLightFilter", "ColorRampLightFilter", "CombineLightFilter", "CookieLightFilter",
    "CookieLightFilter_v2", "DecayLightFilter", "IntensityLightFilter", "RodLightFilter",
    "VdbLightFilter",
    // Materials.
    "BaseMaterial", "RaySwitchMaterial", "SwitchMaterial", "UsdPreviewSurface",
    "DwaBaseMaterial", "DwaSolidDielectricMaterial", "DwaRefractiveMaterial", "DwaMetalMaterial",
    "DwaTwoSidedMaterial", "DwaLayerMaterial", "DwaMixMaterial", "DwaEmissiveMaterial",
    "DwaFabricMaterial", "DwaSkinMaterial", "DwaVelvetMaterial", "DwaVelvetMaterial_v2",
    "DwaHairMaterial", "DwaToonMaterial", "DwaGlitterMaterial", "DwaColorCorrectMaterial",
    "DwaSwitchMaterial", "DwaEyeMaterial", "DwaThinFilmMaterial", "DwaBaseLayerable",
    "DwaBaseHairLayerable", "DwaFurMaterial", "DwaStochasticFlakesMaterial",
    "HairMaterial", "HairMaterial_v2", "HairLayerMaterial", "HairToonMaterial",
    "ToonMaterial", "ToonHairMaterial", "GlitterFlakeMaterial", "EyeCausticMaterial",
    "DebugMaterial", "ConstantMaterial", "MetalMaterial", "LambertMaterial", "ImageMaterial",
    "UsdMaterial",
    // Maps.
    "AttributeMap", "CheckerboardMap", "DebugMap", "ExtraAovMap", "ImageMap", "ListMap",
    "OpenVdbMap", "OpenVdbMap_v2", "UsdPrimvarReader_float", "UsdPrimvarReader_float2",
    "UsdPrimvarReader_float3", "UsdPrimvarReader_int", "UsdPrimvarReader_point",
    "UsdPrimvarReader_vector", "UsdTransform2d", "UsdUVTexture",
    "LayerMap", "BlendMap", "ClampMap", "ColorCorrectMap", "ColorCorrectContrastMap",
    "ColorCorrectGammaMap", "ColorCorrectHsvMap", "ColorCorrectNukeMap",
    "ColorCorrectSaturationMap", "ColorCorrectTmiMap", "ConstantColorMap", "ConstantMap",
    "ConstantScalarMap", "ConstantVectorMap", "DirectionalMap", "DistortMap", "DotProductMap",
    "FloatToRgbMap", "GradientMap", "HairColorPresetsMap", "HsvToRgbMap", "RgbToHsvMap",
    "RgbToFloatMap", "RgbToLabMap", "LabToRgbMap", "MultiChannelToFloatMap", "NoiseMap",
    "NoiseWorleyMap", "OcclusionMap", "OpMap", "ProjectCameraMap", "ProjectCylindricalMap",
    "ProjectPlanarMap", "ProjectSphericalMap", "ProjectTriplanarMap", "ProjectTriplanarUdimMap",
    "RampMap", "RandomMap", "RemapMap", "SnowMap", "SwitchColorMap", "SwitchFloatMap",
    "ToonRampMap", "TransformSpaceMap", "UVTransformMap", "VectorMap", "WireframeMap",
    "CurvatureMap", "HairRampMap", "GlitterFlakeMap", "SpaceConversionMap",
    // Normal maps.
    "NormalMap", "BlendNormalMap", "CombineNormalMap", "ProjectPlanarNormalMap",
    "ProjectTriplanarNormalMap", "RandomNormalMap", "RoundCornersNormalMap",
    "TransformNormalMap", "ToonNormalMap", "ImageNormalMap", "NoiseNormalMap",
    // Displacements.
    "CombineDisplacement", "NormalDisplacement", "VectorDisplacement", "ImageDisplacement",
    // Volumes.
    "BaseVolume", "CutoutVolume", "VdbVolume", "AmorphousVolume", "NoiseVolume",
    // Display filters.
    "ImageDisplayFilter", "BlendDisplayFilter", "ClampDisplayFilter",
    "ColorCorrectDisplayFilter", "ConvolutionDisplayFilter", "DiscretizeDisplayFilter",
    "DofDisplayFilter", "HalftoneDisplayFilter", "OpDisplayFilter", "OverDisplayFilter",
    "RampDisplayFilter", "RemapDisplayFilter", "ShadowDisplayFilter",
    "TangentSpaceDisplayFilter", "ToonDisplayFilter", "SwitchDisplayFilter",
    "PencilDisplayFilter", "VignetteDisplayFilter",
];

/// Resolves an alias to its canonical class (`Camera` is `PerspectiveCamera`, as in
/// scene_rdl2's `constructors.lua`); `None` when the name is not a known scene class.
pub(crate) fn canonical_class(name: &str) -> Option<&'static str> {
    if name == "Camera" {
        return Some("PerspectiveCamera");
    }
    SCENE_CLASSES.iter().copied().find(|c| *c == name)
}

/// Whether the class's table array part lists members.
pub(crate) fn is_set_class(class: &str) -> bool {
    SET_CLASSES.contains(&class)
}

/// The canonical attribute name. MoonRay keeps legacy spaced names ("node xform",
/// "image width") as aliases of the underscored ones, so spaces become underscores.
pub(crate) fn canonical_attr(name: &str) -> String {
    name.replace(' ', "_")
}
