//! SceneVariables: the image size and resolution, the integrator's settings and the pixel
//! filter, with MoonRay's defaults where the scene leaves them unset.

use super::{files_of, SceneBuilder};
use crate::attrs::Attrs;
use crate::filter::PixelFilter;
use crate::graph::Value;

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
    /// `sampling_mode` 2 (adaptive): its three settings; None renders every pixel uniformly.
    pub adaptive: Option<AdaptiveSampling>,
}

/// SceneVariables' adaptive sampling settings, MoonRay's defaults where unset (16, 4096, 10).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdaptiveSampling {
    pub min_samples: u32,
    pub max_samples: u32,
    /// `target_adaptive_error` as written (MoonRay divides it by 10000 where it compares).
    pub target_error: f32,
}

/// What SceneVariables says beyond the integrator's settings.
pub(super) struct Vars {
    pub(super) width: u32,
    pub(super) height: u32,
    pub(super) res: f64,
    pub(super) lights_visible_in_camera: bool,
    pub(super) scene_scale: f32,
    pub(super) output_file: Option<String>,
    pub(super) frame: i32,
    pub(super) settings: Settings,
}

impl SceneBuilder<'_> {
    pub(super) fn scene_variables(&mut self) -> Vars {
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
        // MoonRay's `sampling_mode` enum: 0 uniform, 2 adaptive (1 is unused there).
        let adaptive = (a.int("sampling_mode", 0) == 2).then(|| {
            let min_samples = a.int("min_adaptive_samples", 16).clamp(1, 1 << 20) as u32;
            AdaptiveSampling {
                min_samples,
                max_samples: (a.int("max_adaptive_samples", 4096).clamp(1, 1 << 20) as u32)
                    .max(min_samples),
                target_error: a.f32("target_adaptive_error", 10.0).max(0.0),
            }
        });
        let (width, height) = (a.int("image_width", 1920), a.int("image_height", 1080));
        let samples = a.int("pixel_samples", 8);
        let mut bad = None;
        for (what, v) in [
            ("image_width", width),
            ("image_height", height),
            ("pixel_samples", samples),
        ] {
            if !(1..=i64::from(u32::MAX)).contains(&v) {
                bad.get_or_insert(super::SceneError::Invalid {
                    loc: files_of(self.g),
                    message: format!("SceneVariables `{what}` is {v}; it must be at least 1"),
                });
            }
        }
        // Kept as given (within u32): the farm's pixel limit, not a silent clamp, decides
        // whether the size is too large.
        let dim = |v: i64| v.clamp(1, i64::from(u32::MAX)) as u32;
        let vars = Vars {
            width: dim(width),
            height: dim(height),
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
                adaptive,
            },
        };
        if let Some(e) = bad {
            self.error.get_or_insert(e);
        }
        vars
    }
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
