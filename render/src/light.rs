//! Lights: MoonRay's area, environment and distant lights, sampled for next-event estimation
//! and intersected by BSDF-sampled rays, each with its solid-angle density for MIS.
//!
//! Area lights are one-sided and emit along their local -Z, as in MoonRay. Radiance is
//! `color * intensity * 2^exposure`, divided by `area * scene_scale^2 * pi` when the light is
//! `normalized` (the builder applies that rule and hands over final radiance).

use crate::envmap::EnvMap;
use crate::geometry::Ray;
use glam::{Mat3, Vec2, Vec3};
use std::f32::consts::PI;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// A parallelogram `center + s * half_u + t * half_v`, s and t in [-1, 1], emitting on the
    /// side of `normal`.
    Rect {
        center: Vec3,
        half_u: Vec3,
        half_v: Vec3,
        normal: Vec3,
    },
    /// A disk in the plane spanned by `u` and `v` (unit), emitting on the side of `normal`.
    /// `cone` (cos of the inner and outer half-angles) makes it a spot light.
    Disk {
        center: Vec3,
        u: Vec3,
        v: Vec3,
        normal: Vec3,
        radius: f32,
        cone: Option<(f32, f32)>,
    },
    Sphere {
        center: Vec3,
        radius: f32,
    },
    /// Light from a cone of directions around `dir` (pointing towards the light).
    Distant {
        dir: Vec3,
        cos_half: f32,
    },
    /// Light from every direction: constant, or a lat-long texture in the light's frame
    /// (`crate::envmap`, importance-sampled); `upper_only` keeps the hemisphere about the
    /// frame's z (MoonRay's `sample_upper_hemisphere_only`).
    Env {
        /// Columns: the light's local axes in render space (`envmap::env_frame`).
        frame: Mat3,
        upper_only: bool,
        map: Option<Arc<EnvMap>>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Light {
    pub shape: Shape,
    pub radiance: Vec3,
    pub visible_in_camera: bool,
    /// A rect, disk or sphere light's `texture`, scaling the radiance where it is met
    /// (`AreaTexture::uv`); rect and disk lights sample points by it. An EnvLight's texture
    /// lives in its shape, with the distribution that samples it.
    pub texture: Option<Arc<AreaTexture>>,
}

/// An area light's texture and the light's node axes (columns, unit length), for the uv of a
/// point on the light as MoonRay's lights compute it.
#[derive(Debug, Clone, PartialEq)]
pub struct AreaTexture {
    pub texture: crate::envmap::LightTexture,
    pub axes: Mat3,
    /// For a rect or disk light, the texture's luminance over its uv square, which `sample`
    /// draws points from (MoonRay's PLANAR and CIRCULAR `Distribution2D` mappings); a sphere
    /// light is sampled by its cone of directions alone.
    pub dist: Option<crate::envmap::Distribution2D>,
}

impl AreaTexture {
    /// `axes` as for `uv`; `sampled` builds the distribution a rect or disk light samples by.
    pub fn new(texture: crate::envmap::LightTexture, axes: Mat3, sampled: bool) -> AreaTexture {
        let dist = sampled.then(|| texture.distribution());
        AreaTexture {
            texture,
            axes,
            dist,
        }
    }

    /// The ratio of the density `sample` gives the point at `uv` on light `shape` to the
    /// uniform density over its area: the distribution's density over the uv square, which
    /// for a disk covers 4/pi times its area.
    fn density_ratio(&self, shape: &Shape, uv: Vec2) -> f32 {
        match (&self.dist, shape) {
            (Some(d), Shape::Rect { .. }) => d.pdf(uv),
            (Some(d), Shape::Disk { .. }) => d.pdf(uv) * PI / 4.0,
            _ => 1.0,
        }
    }

    /// The uv of point `q` on light `shape`: RectLight and DiskLight map their local x from +half
    /// width (u = 0) to -half width (u = 1) and local y the same, where local is the node turned
    /// 180 degrees about x (`sRotateX180`; `LocalParamLight::updateParamAndTransforms`), so u
    /// runs against the node's x and v along its y. SphereLight (`SphereLight.cc` `local2uv`)
    /// takes the outward normal n in that local frame: v = acos(n.y) / pi, u = atan2(-n.z,
    /// -n.x) / 2 pi + 1/2.
    pub fn uv(&self, shape: &Shape, q: Vec3) -> Vec2 {
        match shape {
            Shape::Rect {
                center,
                half_u,
                half_v,
                ..
            } => {
                let d = q - *center;
                let s = d.dot(*half_u) / half_u.length_squared();
                let t = d.dot(*half_v) / half_v.length_squared();
                Vec2::new(0.5 - 0.5 * s, 0.5 + 0.5 * t)
            }
            Shape::Disk {
                center,
                u,
                v,
                radius,
                ..
            } => {
                let d = q - *center;
                Vec2::new(
                    0.5 - 0.5 * d.dot(*u) / radius,
                    0.5 + 0.5 * d.dot(*v) / radius,
                )
            }
            Shape::Sphere { center, .. } => {
                let n = self.axes.transpose() * (q - *center).normalize_or(Vec3::Y);
                // Local (sRotateX180): (x, -y, -z) of the node's.
                let (lx, ly, lz) = (n.x, -n.y, -n.z);
                if ly.abs() >= 1.0 {
                    return Vec2::new(0.0, if ly > 0.0 { 0.0 } else { 1.0 });
                }
                let phi = (-lz).atan2(-lx);
                Vec2::new(phi / (2.0 * PI) + 0.5, ly.clamp(-1.0, 1.0).acos() / PI)
            }
            _ => Vec2::ZERO,
        }
    }
}

pub struct LightSample {
    pub wi: Vec3,
    pub dist: f32,
    /// Radiance arriving along -wi.
    pub radiance: Vec3,
    /// Solid-angle density.
    pub pdf: f32,
}

fn uniform_cone(u: Vec2, cos_max: f32) -> Vec3 {
    let cos = 1.0 - u.x * (1.0 - cos_max);
    let sin = (1.0 - cos * cos).max(0.0).sqrt();
    let phi = 2.0 * PI * u.y;
    Vec3::new(sin * phi.cos(), sin * phi.sin(), cos)
}

fn basis(n: Vec3) -> (Vec3, Vec3) {
    let f = crate::bsdf::Frame::new(n);
    (f.t, f.b)
}

impl Light {
    pub fn area(&self) -> f32 {
        match &self.shape {
            Shape::Rect { half_u, half_v, .. } => 4.0 * half_u.cross(*half_v).length(),
            Shape::Disk { radius, .. } => PI * radius * radius,
            Shape::Sphere { radius, .. } => 4.0 * PI * radius * radius,
            Shape::Distant { .. } | Shape::Env { .. } => 0.0,
        }
    }

    pub fn is_infinite(&self) -> bool {
        matches!(self.shape, Shape::Distant { .. } | Shape::Env { .. })
    }

    /// The light's radiance at point `q` on it: scaled by its texture, if any.
    fn radiance_at(&self, q: Vec3) -> Vec3 {
        match &self.texture {
            Some(t) => self.radiance * t.texture.eval(t.uv(&self.shape, q)),
            None => self.radiance,
        }
    }

    /// Emitted radiance leaving the light at `q` on its `normal` side towards direction `-wi`.
    fn emitted(&self, wi: Vec3, q: Vec3) -> Vec3 {
        match &self.shape {
            Shape::Rect { normal, .. } => {
                if normal.dot(-wi) > 0.0 {
                    self.radiance_at(q)
                } else {
                    Vec3::ZERO
                }
            }
            Shape::Disk { normal, cone, .. } => {
                let c = normal.dot(-wi);
                if c <= 0.0 {
                    return Vec3::ZERO;
                }
                match cone {
                    None => self.radiance_at(q),
                    Some((inner, outer)) => {
                        let t = ((c - outer) / (inner - outer).max(1e-6)).clamp(0.0, 1.0);
                        self.radiance_at(q) * (t * t * (3.0 - 2.0 * t))
                    }
                }
            }
            _ => self.radiance_at(q),
        }
    }

    pub fn sample(&self, p: Vec3, u: Vec2) -> Option<LightSample> {
        match &self.shape {
            Shape::Rect {
                center,
                half_u,
                half_v,
                normal,
            } => {
                if let Some((uv, pdf)) = self.texture_sample(u) {
                    // uv (0.5 - s / 2, 0.5 + t / 2), see `AreaTexture::uv`.
                    let q = *center + *half_u * (1.0 - 2.0 * uv.x) + *half_v * (2.0 * uv.y - 1.0);
                    let mut ls = self.area_sample(p, q, *normal)?;
                    ls.pdf *= pdf;
                    return Some(ls);
                }
                let q = *center + *half_u * (2.0 * u.x - 1.0) + *half_v * (2.0 * u.y - 1.0);
                self.area_sample(p, q, *normal)
            }
            Shape::Disk {
                center,
                u: du,
                v: dv,
                normal,
                radius,
                ..
            } => {
                if let Some((uv, pdf)) = self.texture_sample(u) {
                    let (a, b) = (1.0 - 2.0 * uv.x, 2.0 * uv.y - 1.0);
                    if a * a + b * b > 1.0 {
                        return None; // off the disk: the square's corners hold no light
                    }
                    let q = *center + *du * (a * radius) + *dv * (b * radius);
                    let mut ls = self.area_sample(p, q, *normal)?;
                    ls.pdf *= pdf * PI / 4.0;
                    return Some(ls);
                }
                let r = radius * u.x.sqrt();
                let phi = 2.0 * PI * u.y;
                let q = *center + *du * (r * phi.cos()) + *dv * (r * phi.sin());
                self.area_sample(p, q, *normal)
            }
            Shape::Sphere { center, radius } => {
                let to = *center - p;
                let d2 = to.length_squared();
                if d2 <= radius * radius {
                    return None;
                }
                let cos_max = (1.0 - radius * radius / d2).max(0.0).sqrt();
                let axis = to / d2.sqrt();
                let (t, b) = basis(axis);
                let l = uniform_cone(u, cos_max);
                let wi = t * l.x + b * l.y + axis * l.z;
                let dist = sphere_hit(p, wi, *center, *radius).unwrap_or(d2.sqrt() - radius);
                Some(LightSample {
                    wi,
                    dist,
                    radiance: self.radiance_at(p + wi * dist),
                    pdf: 1.0 / (2.0 * PI * (1.0 - cos_max)),
                })
            }
            Shape::Distant { dir, cos_half } => {
                let (t, b) = basis(*dir);
                let l = uniform_cone(u, *cos_half);
                let wi = t * l.x + b * l.y + *dir * l.z;
                Some(LightSample {
                    wi,
                    dist: f32::INFINITY,
                    radiance: self.radiance,
                    pdf: 1.0 / (2.0 * PI * (1.0 - cos_half)),
                })
            }
            Shape::Env {
                map: Some(map),
                frame,
                upper_only,
            } => {
                let (local, uv, pdf) = map.sample(u)?;
                if *upper_only && local.z < 0.0 {
                    return None;
                }
                Some(LightSample {
                    wi: *frame * local,
                    dist: f32::INFINITY,
                    radiance: self.radiance * map.texture.eval(uv),
                    pdf,
                })
            }
            Shape::Env {
                map: None,
                frame,
                upper_only: true,
            } => {
                // Uniform over the upper hemisphere about the frame's z.
                let l = uniform_cone(u, 0.0);
                Some(LightSample {
                    wi: *frame * l,
                    dist: f32::INFINITY,
                    radiance: self.radiance,
                    pdf: 1.0 / (2.0 * PI),
                })
            }
            Shape::Env { map: None, .. } => {
                let z = 1.0 - 2.0 * u.x;
                let r = (1.0 - z * z).max(0.0).sqrt();
                let phi = 2.0 * PI * u.y;
                let wi = Vec3::new(r * phi.cos(), r * phi.sin(), z);
                Some(LightSample {
                    wi,
                    dist: f32::INFINITY,
                    radiance: self.radiance,
                    pdf: 1.0 / (4.0 * PI),
                })
            }
        }
    }

    /// A uv drawn from a rect or disk light's texture distribution, with its density.
    fn texture_sample(&self, u: Vec2) -> Option<(Vec2, f32)> {
        self.texture.as_ref()?.dist.as_ref()?.sample(u)
    }

    fn area_sample(&self, p: Vec3, q: Vec3, normal: Vec3) -> Option<LightSample> {
        let to = q - p;
        let d2 = to.length_squared();
        let dist = d2.sqrt();
        let wi = to / dist;
        let cos_l = normal.dot(-wi);
        if cos_l <= 0.0 || d2 == 0.0 {
            return None;
        }
        let radiance = self.emitted(wi, q);
        Some(LightSample {
            wi,
            dist,
            radiance,
            pdf: d2 / (cos_l * self.area()),
        })
    }

    /// Where a ray meets this light (finite lights only): distance, radiance, and the density
    /// with which `sample` would have chosen that direction from the ray's origin.
    pub fn intersect(&self, ray: &Ray, tmax: f32) -> Option<(f32, Vec3, f32)> {
        let (t, cos_l) = match &self.shape {
            Shape::Rect {
                center,
                half_u,
                half_v,
                normal,
            } => {
                let t = plane_hit(ray, *center, *normal)?;
                let q = ray.at(t) - *center;
                let (s, r) = (
                    q.dot(*half_u) / half_u.length_squared(),
                    q.dot(*half_v) / half_v.length_squared(),
                );
                if s.abs() > 1.0 || r.abs() > 1.0 {
                    return None;
                }
                (t, normal.dot(-ray.d))
            }
            Shape::Disk {
                center,
                normal,
                radius,
                ..
            } => {
                let t = plane_hit(ray, *center, *normal)?;
                if (ray.at(t) - *center).length_squared() > radius * radius {
                    return None;
                }
                (t, normal.dot(-ray.d))
            }
            Shape::Sphere { center, radius } => {
                let t = sphere_hit(ray.o, ray.d, *center, *radius)?;
                let to = *center - ray.o;
                let d2 = to.length_squared();
                let cos_max = (1.0 - radius * radius / d2).max(0.0).sqrt();
                if t <= ray.tmin || t >= tmax {
                    return None;
                }
                return Some((
                    t,
                    self.radiance_at(ray.at(t)),
                    1.0 / (2.0 * PI * (1.0 - cos_max)),
                ));
            }
            Shape::Distant { .. } | Shape::Env { .. } => return None,
        };
        if t <= ray.tmin || t >= tmax {
            return None;
        }
        let radiance = self.emitted(ray.d, ray.at(t));
        if cos_l <= 0.0 || radiance == Vec3::ZERO {
            return None;
        }
        let ratio = match &self.texture {
            Some(tex) => tex.density_ratio(&self.shape, tex.uv(&self.shape, ray.at(t))),
            None => 1.0,
        };
        Some((t, radiance, ratio * t * t / (cos_l * self.area())))
    }

    /// Radiance and density for a ray that escaped the scene (infinite lights only).
    pub fn escaped(&self, d: Vec3) -> Option<(Vec3, f32)> {
        match &self.shape {
            Shape::Env {
                frame,
                upper_only,
                map,
            } => {
                let local = frame.transpose() * d;
                if *upper_only && local.z < 0.0 {
                    return None;
                }
                match map {
                    Some(map) => {
                        let uv = crate::envmap::local_to_uv(local);
                        Some((self.radiance * map.texture.eval(uv), map.pdf(uv, local)))
                    }
                    None if *upper_only => Some((self.radiance, 1.0 / (2.0 * PI))),
                    None => Some((self.radiance, 1.0 / (4.0 * PI))),
                }
            }
            Shape::Distant { dir, cos_half } => (d.dot(*dir) >= *cos_half)
                .then(|| (self.radiance, 1.0 / (2.0 * PI * (1.0 - cos_half)))),
            _ => None,
        }
    }
}

fn plane_hit(ray: &Ray, center: Vec3, normal: Vec3) -> Option<f32> {
    let denom = ray.d.dot(normal);
    if denom.abs() < 1e-9 {
        return None;
    }
    Some((center - ray.o).dot(normal) / denom)
}

fn sphere_hit(o: Vec3, d: Vec3, c: Vec3, r: f32) -> Option<f32> {
    let oc = o - c;
    let b = oc.dot(d);
    let disc = b * b - (oc.length_squared() - r * r);
    if disc < 0.0 {
        return None;
    }
    let sq = disc.sqrt();
    let t0 = -b - sq;
    if t0 > 1e-6 {
        return Some(t0);
    }
    let t1 = -b + sq;
    (t1 > 1e-6).then_some(t1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Irradiance at the origin (normal +Z) from a light, by its own sampling.
    fn irradiance(light: &Light) -> f32 {
        let mut s = crate::sampler::Rng::new(5, 0, 0, 0, 0);
        let n = 200_000;
        let mut e = 0.0;
        for _ in 0..n {
            if let Some(ls) = light.sample(Vec3::ZERO, s.uniform2()) {
                if ls.pdf > 0.0 {
                    e += ls.radiance.x * ls.wi.z.max(0.0) / ls.pdf;
                }
            }
        }
        e / n as f32
    }

    fn constant_env(upper_only: bool) -> Shape {
        Shape::Env {
            frame: Mat3::IDENTITY,
            upper_only,
            map: None,
        }
    }

    /// An EnvLight textured with `texels` (w x h, row 0 at the top), frame = render space.
    fn textured_env(w: u32, h: u32, texels: Vec<Vec3>, bilinear: bool) -> Light {
        let texture = crate::envmap::LightTexture {
            texture: Arc::new(crate::texture::Texture {
                width: w,
                height: h,
                texels,
                alpha: None,
            }),
            transform: None,
            border: Vec3::ONE,
            bilinear,
        };
        Light {
            shape: Shape::Env {
                frame: Mat3::IDENTITY,
                upper_only: false,
                map: Some(Arc::new(EnvMap::new(texture, false))),
            },
            radiance: Vec3::ONE,
            visible_in_camera: false,
            texture: None,
        }
    }

    /// Irradiance at the origin (normal +Z) by cosine-weighted directions and `escaped`: the
    /// BSDF side of MIS.
    fn irradiance_by_escape(light: &Light) -> f32 {
        let mut s = crate::sampler::Rng::new(9, 0, 0, 0, 0);
        let n = 200_000;
        let mut e = 0.0;
        for _ in 0..n {
            let u = s.uniform2();
            let r = u.x.sqrt();
            let phi = 2.0 * PI * u.y;
            let d = Vec3::new(r * phi.cos(), r * phi.sin(), (1.0 - u.x).max(0.0).sqrt());
            if let Some((l, _)) = light.escaped(d) {
                e += l.x * PI; // L cos / (cos / pi)
            }
        }
        e / n as f32
    }

    #[test]
    fn a_constant_texture_lights_like_a_constant_environment() {
        // A uniform 0.7 map: E = pi * 0.7 by light sampling and by escaped rays, and the
        // density the light reports equals 1 / (4 pi) only on average, not per texel row.
        let light = textured_env(16, 8, vec![Vec3::splat(0.7); 128], false);
        let want = PI * 0.7;
        let by_light = irradiance(&light);
        assert!((by_light - want).abs() < 0.01 * want, "{by_light}");
        let by_escape = irradiance_by_escape(&light);
        assert!((by_escape - want).abs() < 0.01 * want, "{by_escape}");
        let bilinear = textured_env(16, 8, vec![Vec3::splat(0.7); 128], true);
        assert!((irradiance(&bilinear) - want).abs() < 0.01 * want);
    }

    #[test]
    fn one_bright_texel_gives_the_analytic_irradiance() {
        // An 8 x 4 map, black but for texel (2, 0): top row, third column. With the frame at
        // render space that texel covers theta in [0, pi/4] (v in [0.75, 1]) and a quarter
        // pi of phi, so E = L * (pi / 4) * sin^2(pi / 4) / 2 = L pi / 16; L = 16 gives pi.
        let mut texels = vec![Vec3::ZERO; 32];
        texels[2] = Vec3::splat(16.0);
        let light = textured_env(8, 4, texels, false);
        let e = irradiance(&light);
        assert!((e - PI).abs() < 0.01 * PI, "{e}");
        // Importance sampling puts (nearly) every sample in that texel: every one lands there.
        let mut s = crate::sampler::Rng::new(1, 0, 0, 0, 0);
        for _ in 0..1000 {
            let ls = light.sample(Vec3::ZERO, s.uniform2()).unwrap();
            assert!(
                ls.wi.z > std::f32::consts::FRAC_1_SQRT_2 - 1e-4,
                "{}",
                ls.wi
            );
            assert_eq!(ls.radiance, Vec3::splat(16.0));
        }
        let by_escape = irradiance_by_escape(&light);
        assert!((by_escape - PI).abs() < 0.05 * PI, "{by_escape}");
    }

    #[test]
    fn the_upper_hemisphere_only_lights_from_above() {
        // A constant environment kept to the upper hemisphere: a plane facing up gets pi L,
        // one facing down nothing; the density is 1 / (2 pi).
        let light = Light {
            shape: constant_env(true),
            radiance: Vec3::ONE,
            visible_in_camera: false,
            texture: None,
        };
        let e = irradiance(&light);
        assert!((e - PI).abs() < 0.02 * PI, "{e}");
        assert_eq!(light.escaped(Vec3::NEG_Z), None);
        assert_eq!(light.escaped(Vec3::Z), Some((Vec3::ONE, 1.0 / (2.0 * PI))));
        let mut s = crate::sampler::Rng::new(2, 0, 0, 0, 0);
        for _ in 0..100 {
            assert!(light.sample(Vec3::ZERO, s.uniform2()).unwrap().wi.z >= 0.0);
        }
    }

    #[test]
    fn a_constant_environment_gives_pi_times_radiance() {
        let e = irradiance(&Light {
            shape: constant_env(false),
            radiance: Vec3::ONE,
            visible_in_camera: false,
            texture: None,
        });
        assert!((e - PI).abs() < 0.02 * PI, "{e}");
    }

    #[test]
    fn a_small_rect_light_follows_the_inverse_square_law() {
        // 0.1 x 0.1 at height 2, facing down: E ~ L * A / d^2.
        let light = Light {
            shape: Shape::Rect {
                center: Vec3::new(0.0, 0.0, 2.0),
                half_u: Vec3::X * 0.05,
                half_v: Vec3::Y * 0.05,
                normal: Vec3::NEG_Z,
            },
            radiance: Vec3::splat(100.0),
            visible_in_camera: false,
            texture: None,
        };
        let e = irradiance(&light);
        assert!((e - 100.0 * 0.01 / 4.0).abs() < 0.01 * 0.25, "{e}");
        // The back side emits nothing.
        let back = Light {
            shape: Shape::Rect {
                center: Vec3::new(0.0, 0.0, 2.0),
                half_u: Vec3::X * 0.05,
                half_v: Vec3::Y * 0.05,
                normal: Vec3::Z,
            },
            ..light.clone()
        };
        assert_eq!(irradiance(&back), 0.0);
        // Intersection density agrees with sampling density.
        let ray = Ray::new(
            Vec3::ZERO,
            Vec3::new(0.01, 0.0, 1.0).normalize(),
            0.0,
            f32::INFINITY,
        );
        let (t, l, pdf) = light.intersect(&ray, f32::INFINITY).unwrap();
        assert!((t - 2.0).abs() < 0.01 && l.x == 100.0 && (pdf - 4.0 / 0.01).abs() < 1.0);
    }

    #[test]
    fn an_area_lights_texture_scales_the_light_it_sends() {
        // Half of a small rect or disk light (u < 1/2: the node's +x side) white, half black:
        // straight below its centre the irradiance halves, by light sampling as by the
        // intersections a BSDF ray finds.
        let half = |shape: Shape, sampled: bool| Light {
            shape,
            radiance: Vec3::splat(100.0),
            visible_in_camera: false,
            texture: Some(Arc::new(AreaTexture::new(
                crate::envmap::LightTexture {
                    texture: Arc::new(crate::texture::Texture {
                        width: 2,
                        height: 1,
                        texels: vec![Vec3::ONE, Vec3::ZERO],
                        alpha: None,
                    }),
                    transform: None,
                    border: Vec3::ONE,
                    bilinear: false,
                },
                Mat3::IDENTITY,
                sampled,
            ))),
        };
        for sampled in [false, true] {
            let rect = half(
                Shape::Rect {
                    center: Vec3::new(0.0, 0.0, 2.0),
                    half_u: Vec3::X * 0.05,
                    half_v: Vec3::Y * 0.05,
                    normal: Vec3::NEG_Z,
                },
                sampled,
            );
            let e = irradiance(&rect);
            assert!((e - 0.125).abs() < 0.01 * 0.125, "{sampled}: {e}");
            let disk = half(
                Shape::Disk {
                    center: Vec3::new(0.0, 0.0, 2.0),
                    u: Vec3::X,
                    v: Vec3::Y,
                    normal: Vec3::NEG_Z,
                    radius: 0.05,
                    cone: None,
                },
                sampled,
            );
            let e = irradiance(&disk);
            let want = 100.0 * PI * 0.0025 / 4.0 / 2.0;
            assert!((e - want).abs() < 0.01 * want, "{sampled}: {e}");
            // The +x side is the white one, and a ray meeting the light reports the density
            // with which sampling picks that direction.
            let toward =
                |x: f32| Ray::new(Vec3::ZERO, Vec3::new(x, 0.0, 2.0).normalize(), 0.0, 9.0);
            assert_eq!(
                rect.intersect(&toward(0.02), 9.0).unwrap().1,
                Vec3::splat(100.0)
            );
            assert!(
                rect.intersect(&toward(-0.02), 9.0).is_none(),
                "black emits nothing"
            );
            let mut rng = crate::sampler::Rng::new(4, 0, 0, 0, 0);
            for light in [&rect, &disk] {
                for _ in 0..200 {
                    let Some(ls) = light.sample(Vec3::ZERO, rng.uniform2()) else {
                        continue;
                    };
                    let ray = Ray::new(Vec3::ZERO, ls.wi, 0.0, 9.0);
                    if let Some((_, _, pdf)) = light.intersect(&ray, 9.0) {
                        assert!((pdf - ls.pdf).abs() < 1e-3 * ls.pdf, "{pdf} vs {}", ls.pdf);
                    }
                    // Importance sampling never picks the black half (but for its epsilon).
                    assert!(!sampled || ls.wi.x > 0.0, "{}", ls.wi);
                }
            }
        }
    }

    #[test]
    fn sphere_lights_give_the_analytic_irradiance() {
        // A sphere of radiance L subtending sin^2(a) = r^2/d^2, straight overhead: E = pi L r^2/d^2.
        let light = Light {
            shape: Shape::Sphere {
                center: Vec3::new(0.0, 0.0, 4.0),
                radius: 1.0,
            },
            radiance: Vec3::ONE,
            visible_in_camera: false,
            texture: None,
        };
        let e = irradiance(&light);
        assert!((e - PI / 16.0).abs() < 0.01 * PI / 16.0, "{e}");
    }
}
