//! MoonRay's cameras: the projective ones (perspective, orthographic), which look down their
//! local -Z, and the ones that map the image onto directions or a surface (spherical, dome
//! master, bake).
//!
//! PerspectiveCamera: the horizontal field of view is 2 * atan(film_width_aperture /
//! (2 * focal)). OrthographicCamera (moonray's `lib/rendering/pbr/camera/OrthographicCamera.cc`
//! and the projection matrix of `dso/camera/OrthographicCamera`): parallel rays along -Z from
//! the near plane, through a window `film_width_aperture` wide in camera units (scene units,
//! not millimetres), shifted by the film offsets, its height that width times the image
//! aspect, divided by `pixel_aspect_ratio`; a ray runs from the near plane to the far one.
//!
//! The others take MoonRay's pixel coordinates, x right and y *up* from the image's bottom
//! edge (what `ray` converts to), over the image's size (the aperture window):
//! - SphericalCamera (`pbr/camera/SphericalCamera.cc`): latitude theta = theta_scale * y +
//!   theta_offset and longitude phi = phi_scale * x + phi_offset, the direction (cos theta sin
//!   phi, sin theta, -cos theta cos phi) from the camera's origin. With zoom = 30 / focal,
//!   theta_scale = zoom (max - min latitude) / height and theta_offset = lerp(mid, min, zoom)
//!   where mid = (min + max) / 2 + latitude_zoom_offset; likewise for longitude over the width.
//!   The default ranges (latitude -90..90 and longitude -180..180 exactly) are MoonRay's
//!   legacy sphere and become longitudes -270..90. `inside_out` starts each ray at origin +
//!   offset_radius * dir and sends it along -dir.
//! - DomeMaster3DCamera (`pbr/camera/DomeMaster3DCamera.cc`): x and y mapped to [-1, 1],
//!   phi = x * FOV_horizontal_angle / 2, theta = y * FOV_vertical_angle / 2 (pi / 2 minus that
//!   in zenith mode); the direction (sin phi cos theta, sin theta, -cos phi cos theta), or
//!   (sin phi sin theta, -cos phi sin theta, -cos theta) in zenith mode. A stereo eye sits
//!   -/+ half the interocular distance along x, rotated by phi about the up axis; its ray
//!   aims at the centre ray's point at the convergence distance. `flip_ray_x` negates x of
//!   origin and direction, `flip_ray_y` their y (z in zenith mode).
//! - FisheyeCamera (`pbr/camera/FisheyeCamera.cc`): R = the pixel's distance from the image
//!   centre times 2 / (diameter * zoom), the diameter the image's smaller side (`format`
//!   circular), its larger (cropped) or its diagonal; the angle theta off -Z from R by the
//!   `mapping` (stereographic sin = 2R / (1 + R^2), cos = (1 - R^2) / (1 + R^2); equidistant
//!   theta = R pi / 2; equisolid angle sin = R sqrt(2 - R^2), cos = 1 - R^2; orthographic
//!   sin = R, none beyond R = 1), turned about Z towards the pixel; no ray beyond fov / 2.
//! - BakeCamera (`pbr/camera/BakeCamera.cc`, with `Mesh::bakePosMap`): a pixel is a point of
//!   the `geometry`'s uv space, (x / width, y / height); its position (and normal) comes from
//!   a map of the mesh rasterised in uv at width x height times `map_factor` (grid point (i, j)
//!   at uv (i / (w - 1), j / (h - 1)), later triangles over earlier ones), bilinearly
//!   interpolated where the four neighbours are covered and the nearest covered one otherwise.
//!   `mode` says which way the ray goes: 0 along the line from the camera through the point,
//!   1 along the normal, 2 along the mirror of the direction to the camera, 3 (the default)
//!   along -normal; modes 0 and 3 start bias before the point, 1 and 2 bias after it; `bias` (scaled by the largest
//!   of |P|'s components and 1 with `use_relative_bias`) sets the origin off the point, and in
//!   modes 0 and 3 a positive bias moves the near distance to bias / 2. A pixel whose point is
//!   not covered casts no ray.

use crate::geometry::Ray;
use glam::{Mat4, Vec2, Vec3};
use std::f32::consts::{FRAC_PI_2, PI};

#[derive(Debug, Clone, PartialEq)]
pub enum Projection {
    /// tan of half the horizontal and vertical field of view.
    Perspective {
        tan_half: (f32, f32),
    },
    /// Half the window's width and height and its centre, in camera space.
    Orthographic {
        half: (f32, f32),
        center: (f32, f32),
    },
    /// Latitude and longitude as linear functions of y and x: (scale, offset) each;
    /// `inside_out` holds the offset radius.
    Spherical {
        theta: (f32, f32),
        phi: (f32, f32),
        inside_out: Option<f32>,
    },
    DomeMaster(DomeMaster),
    Bake(Box<BakeMap>),
    /// FisheyeCamera: `mapping` 0 stereographic, 1 equidistant, 2 equisolid angle, 3
    /// orthographic; the radius per pixel from the centre; half the field of view (radians).
    Fisheye {
        mapping: i64,
        radial_scale: f32,
        half_fov: f32,
    },
}

/// DomeMaster3DCamera's settings, angles in radians.
#[derive(Debug, Clone, PartialEq)]
pub struct DomeMaster {
    pub fov_horizontal: f32,
    pub fov_vertical: f32,
    pub zenith_mode: bool,
    pub flip_x: bool,
    pub flip_y: bool,
    /// The eye's offset along x: 0 for the centre view, -/+ half the interocular distance
    /// for the left and right views.
    pub eye_offset: f32,
    /// stereo_convergence_distance: a stereo eye aims at the centre ray's point this far.
    pub parallax_distance: f32,
}

/// BakeCamera: its geometry's positions and normals rasterised in uv space, and how rays
/// leave them.
#[derive(Debug, Clone, PartialEq)]
pub struct BakeMap {
    /// The map's size: the image's times map_factor.
    pub width: usize,
    pub height: usize,
    /// Per grid point, row-major from v = 0: the position, None where no triangle covers it.
    pub pos: Vec<Option<Vec3>>,
    /// Per grid point: the interpolated normal (modes other than 0).
    pub nrm: Vec<Vec3>,
    /// 0 from camera to surface, 1 along the normal, 2 along the reflection vector, 3 above
    /// the surface along the reversed normal.
    pub mode: i64,
    pub bias: f32,
    pub relative_bias: bool,
}

impl BakeMap {
    /// An empty map of `width` x `height` grid points (each at least 2).
    pub fn new(width: usize, height: usize, mode: i64, bias: f32, relative_bias: bool) -> Self {
        let (width, height) = (width.max(2), height.max(2));
        BakeMap {
            width,
            height,
            pos: vec![None; width * height],
            nrm: vec![Vec3::ZERO; width * height],
            mode,
            bias,
            relative_bias,
        }
    }

    /// Rasterises one triangle given its uvs (already in the udim's [0, 1] square),
    /// positions and normals: every grid point inside it (by three half-plane tests, on
    /// either winding) takes the barycentric interpolation, as MoonRay's `Mesh.cc` does.
    pub fn rasterize(&mut self, st: [Vec2; 3], p: [Vec3; 3], n: [Vec3; 3]) {
        let (w, h) = (self.width, self.height);
        let lo = st[0].min(st[1]).min(st[2]);
        let hi = st[0].max(st[1]).max(st[2]);
        let (wm, hm) = ((w - 1) as f32, (h - 1) as f32);
        let x0 = (lo.x * wm).floor().max(0.0) as usize;
        let y0 = (lo.y * hm).floor().max(0.0) as usize;
        let x1 = ((hi.x * wm).ceil().max(0.0) as usize).min(w - 1);
        let y1 = ((hi.y * hm).ceil().max(0.0) as usize).min(h - 1);
        let [a, b, c] = st;
        let side = |e0: Vec2, e1: Vec2, q: Vec2| {
            Vec2::new(e0.y - e1.y, e1.x - e0.x).dot(q - (e0 + e1) * 0.5) < 0.0
        };
        let area = ((c.x - b.x) * (a.y - b.y) - (a.x - b.x) * (c.y - b.y)).abs();
        if area <= 0.0 {
            return;
        }
        for y in y0..=y1 {
            for x in x0..=x1 {
                let q = Vec2::new(x as f32 / wm, y as f32 / hm);
                let (s_ab, s_bc, s_ca) = (side(a, b, q), side(b, c, q), side(c, a, q));
                if !(s_ab == s_bc && s_bc == s_ca) {
                    continue;
                }
                let wa = (((q.x - b.x) * (c.y - b.y) - (c.x - b.x) * (q.y - b.y)).abs() / area)
                    .clamp(0.0, 1.0);
                let wb = (((c.x - q.x) * (a.y - q.y) - (a.x - q.x) * (c.y - q.y)).abs() / area)
                    .clamp(0.0, 1.0);
                let wc = (1.0 - wa - wb).clamp(0.0, 1.0);
                let i = y * w + x;
                self.pos[i] = Some(p[0] * wa + p[1] * wb + p[2] * wc);
                self.nrm[i] = n[0] * wa + n[1] * wb + n[2] * wc;
            }
        }
    }

    /// The position and normal at a uv: MoonRay's `interpolatePosMap` (bilinear where both
    /// sides have data, the nearer side's value where one has, nothing otherwise).
    pub fn lookup(&self, uv: Vec2) -> Option<(Vec3, Vec3)> {
        let (w, h) = (self.width, self.height);
        let xf = uv.x.clamp(0.0, 1.0) * (w - 1) as f32;
        let yf = uv.y.clamp(0.0, 1.0) * (h - 1) as f32;
        let (lx, ly) = (xf.floor() as usize, yf.floor() as usize);
        let (ux, uy) = (xf.ceil() as usize, yf.ceil() as usize);
        let (fx, fy) = (xf - lx as f32, yf - ly as f32);
        let at = |x: usize, y: usize| self.pos[y * w + x].map(|p| (p, self.nrm[y * w + x]));
        // One pair of corners along v, then the pair of sides along u.
        let pair = |lo: Option<(Vec3, Vec3)>, hi: Option<(Vec3, Vec3)>, f: f32| match (lo, hi) {
            (Some(a), Some(b)) => Some((a.0.lerp(b.0, f), a.1.lerp(b.1, f))),
            (Some(a), None) => (f < 0.5).then_some(a),
            (None, Some(b)) => (f >= 0.5).then_some(b),
            (None, None) => None,
        };
        let left = pair(at(lx, ly), at(lx, uy), fy);
        let right = pair(at(ux, ly), at(ux, uy), fy);
        pair(left, right, fx).map(|(p, n)| (p, n.normalize_or_zero()))
    }
}

#[derive(Debug, Clone)]
pub struct Camera {
    pub to_world: Mat4,
    pub projection: Projection,
    pub near: f32,
    pub far: f32,
}

impl Camera {
    pub fn new(
        to_world: Mat4,
        focal: f32,
        film_width_aperture: f32,
        aspect: f32,
        near: f32,
        far: f32,
    ) -> Camera {
        let th = film_width_aperture / (2.0 * focal);
        Camera {
            to_world,
            projection: Projection::Perspective {
                tan_half: (th, th / aspect),
            },
            near,
            far,
        }
    }

    /// MoonRay's OrthographicCamera. `aspect` is the image's width over its height; the
    /// arguments are clamped as MoonRay clamps them (film width and near at least 0.01, a
    /// pixel aspect ratio of 0 taken as 1).
    #[allow(clippy::too_many_arguments)]
    pub fn orthographic(
        to_world: Mat4,
        film_width_aperture: f32,
        aspect: f32,
        film_offset: (f32, f32),
        pixel_aspect_ratio: f32,
        near: f32,
        far: f32,
    ) -> Camera {
        let half_w = film_width_aperture.max(0.01) * 0.5;
        let par = if pixel_aspect_ratio == 0.0 {
            1.0
        } else {
            pixel_aspect_ratio
        };
        let near = near.max(0.01);
        Camera {
            to_world,
            projection: Projection::Orthographic {
                half: (half_w, half_w / aspect / par),
                center: (film_offset.0, film_offset.1 / par),
            },
            near,
            far: far.max(0.01),
        }
    }

    /// MoonRay's SphericalCamera. Angles in degrees, as its attributes; `width` and `height`
    /// are the image's.
    #[allow(clippy::too_many_arguments)]
    pub fn spherical(
        to_world: Mat4,
        latitude: (f32, f32, f32),
        longitude: (f32, f32, f32),
        focal: f32,
        inside_out: Option<f32>,
        width: u32,
        height: u32,
        near: f32,
        far: f32,
    ) -> Camera {
        let zoom = 30.0 / focal;
        let rad = PI / 180.0;
        let (t_min, t_max) = (latitude.0 * rad, latitude.1 * rad);
        let t_mid = 0.5 * (t_min + t_max) + latitude.2 * rad;
        let legacy = latitude.0 == -90.0
            && latitude.1 == 90.0
            && longitude.0 == -180.0
            && longitude.1 == 180.0;
        let (p_min, p_max) = if legacy {
            (-3.0 * FRAC_PI_2, FRAC_PI_2)
        } else {
            (longitude.0 * rad, longitude.1 * rad)
        };
        let p_mid = 0.5 * (p_min + p_max) + longitude.2 * rad;
        let lerp = |a: f32, b: f32, t: f32| (1.0 - t) * a + t * b;
        Camera {
            to_world,
            projection: Projection::Spherical {
                theta: (
                    zoom * (t_max - t_min) / height as f32,
                    lerp(t_mid, t_min, zoom),
                ),
                phi: (
                    zoom * (p_max - p_min) / width as f32,
                    lerp(p_mid, p_min, zoom),
                ),
                inside_out,
            },
            near,
            far,
        }
    }

    /// The ray through a point on the image plane, in pixel units with y down; None where the
    /// camera casts no ray (a BakeCamera's pixel outside its geometry's uvs).
    pub fn ray(&self, x: f32, y: f32, width: u32, height: u32) -> Option<Ray> {
        // MoonRay's pixel coordinates: y up from the bottom edge.
        let ym = height as f32 - y;
        // The point in [-1, 1] across the image, y up.
        let sx = 2.0 * x / width as f32 - 1.0;
        let sy = 1.0 - 2.0 * y / height as f32;
        match self.projection {
            Projection::Perspective { tan_half } => {
                let local = Vec3::new(sx * tan_half.0, sy * tan_half.1, -1.0);
                let origin = self.to_world.transform_point3(Vec3::ZERO);
                let d = self.to_world.transform_vector3(local);
                let len = d.length();
                // The near and far planes are distances along the view axis; along this ray
                // they sit `len` times further (for a camera transform without scale, len >= 1).
                Some(Ray::new(origin, d / len, self.near * len, self.far * len))
            }
            Projection::Orthographic { half, center } => {
                let local = Vec3::new(center.0 + sx * half.0, center.1 + sy * half.1, -self.near);
                let origin = self.to_world.transform_point3(local);
                let d = self.to_world.transform_vector3(Vec3::NEG_Z);
                let len = d.length();
                Some(Ray::new(
                    origin,
                    d / len,
                    0.0,
                    (self.far - self.near).max(0.0) * len,
                ))
            }
            Projection::Spherical {
                theta,
                phi,
                inside_out,
            } => {
                let t = theta.0 * ym + theta.1;
                let p = phi.0 * x + phi.1;
                let local = Vec3::new(t.cos() * p.sin(), t.sin(), -t.cos() * p.cos());
                let origin = self.to_world.transform_point3(Vec3::ZERO);
                let d = self.to_world.transform_vector3(local).normalize_or_zero();
                Some(match inside_out {
                    Some(r) => Ray::new(origin + d * r, -d, self.near, self.far),
                    None => Ray::new(origin, d, self.near, self.far),
                })
            }
            Projection::Fisheye {
                mapping,
                radial_scale,
                half_fov,
            } => {
                let (fx, fy) = (x - 0.5 * width as f32, ym - 0.5 * height as f32);
                let dist = (fx * fx + fy * fy).sqrt();
                let r = dist * radial_scale;
                let (sin_t, cos_t) = match mapping {
                    0 => {
                        let q = 1.0 / (1.0 + r * r);
                        (2.0 * r * q, (1.0 - r * r) * q)
                    }
                    1 => (FRAC_PI_2 * r).sin_cos(),
                    2 => (r * (2.0 - r * r).sqrt(), 1.0 - r * r),
                    _ if r * r > 1.0 => return None,
                    _ => (r, (1.0 - r * r).sqrt()),
                };
                // NaN (equisolid angle beyond R = sqrt 2) is outside too.
                let theta = sin_t.atan2(cos_t);
                if theta.is_nan() || theta > half_fov {
                    return None;
                }
                let (cos_p, sin_p) = if dist > 0.0 {
                    (fx / dist, fy / dist)
                } else {
                    (1.0, 0.0)
                };
                let local = Vec3::new(sin_t * cos_p, sin_t * sin_p, -cos_t);
                let origin = self.to_world.transform_point3(Vec3::ZERO);
                let d = self.to_world.transform_vector3(local).normalize_or_zero();
                Some(Ray::new(origin, d, self.near, self.far))
            }
            Projection::DomeMaster(ref dm) => {
                let (o, d) = dm.local_ray(x, ym, width as f32, height as f32);
                let origin = self.to_world.transform_point3(o);
                let d = self.to_world.transform_vector3(d).normalize_or_zero();
                Some(Ray::new(origin, d, self.near, self.far))
            }
            Projection::Bake(ref map) => {
                let uv = Vec2::new(x / width as f32, ym / height as f32);
                let (p, n) = map.lookup(uv)?;
                let mut bias = map.bias;
                if map.relative_bias {
                    bias *= p.abs().max_element().max(1.0);
                }
                let cam = self.to_world.transform_point3(Vec3::ZERO);
                let (o, d) = match map.mode {
                    0 => {
                        let d = (p - cam).normalize_or_zero();
                        (p - d * bias, d)
                    }
                    1 => {
                        let d = n.normalize_or_zero();
                        (p + d * bias, d)
                    }
                    2 => {
                        let wo = (cam - p).normalize_or_zero();
                        let d = n * (2.0 * n.dot(wo)) - wo;
                        (p + d * bias, d)
                    }
                    _ => {
                        let d = -n.normalize_or_zero();
                        (p - d * bias, d)
                    }
                };
                let near = if (map.mode == 0 || map.mode == 3) && bias > 0.0 {
                    bias / 2.0
                } else {
                    self.near
                };
                Some(Ray::new(o, d, near, self.far))
            }
        }
    }
}

impl DomeMaster {
    /// The camera-space origin and direction at MoonRay pixel (x, y) of a w x h image.
    fn local_ray(&self, x: f32, y: f32, w: f32, h: f32) -> (Vec3, Vec3) {
        let (sin_phi, cos_phi, sin_theta, cos_theta) = self.angles(x, y, w, h);
        let mut eye = Vec3::new(self.eye_offset, 0.0, 0.0);
        if self.eye_offset != 0.0 {
            // The eyes turn with the view about the up axis.
            eye = if self.zenith_mode {
                Vec3::new(
                    eye.x * cos_phi - eye.y * sin_phi,
                    eye.y * cos_phi + eye.x * sin_phi,
                    eye.z,
                )
            } else {
                Vec3::new(
                    eye.x * cos_phi - eye.z * sin_phi,
                    eye.y,
                    eye.z * cos_phi + eye.x * sin_phi,
                )
            };
        }
        let eye = self.flip(eye);
        let mut d = if self.zenith_mode {
            Vec3::new(sin_phi * sin_theta, -cos_phi * sin_theta, -cos_theta)
        } else {
            Vec3::new(sin_phi * cos_theta, sin_theta, -cos_phi * cos_theta)
        };
        if self.eye_offset != 0.0 && self.parallax_distance > 0.0 {
            d *= self.parallax_distance;
        }
        let d = (self.flip(d) - eye).normalize_or_zero();
        (eye, d)
    }

    fn angles(&self, x: f32, y: f32, w: f32, h: f32) -> (f32, f32, f32, f32) {
        let x = 2.0 * x / w - 1.0;
        let y = 2.0 * y / h - 1.0;
        let phi = x * (self.fov_horizontal / 2.0);
        let theta = if self.zenith_mode {
            FRAC_PI_2 - y * (self.fov_vertical / 2.0)
        } else {
            y * (self.fov_vertical / 2.0)
        };
        (phi.sin(), phi.cos(), theta.sin(), theta.cos())
    }

    fn flip(&self, mut v: Vec3) -> Vec3 {
        if self.flip_x {
            v.x = -v.x;
        }
        if self.flip_y {
            if self.zenith_mode {
                v.z = -v.z;
            } else {
                v.y = -v.y;
            }
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orthographic_rays_are_parallel_and_span_the_film_width() {
        // 24 units wide, a 2:1 image, camera at z = 10 looking down -Z.
        let c = Camera::orthographic(
            Mat4::from_translation(Vec3::new(0.0, 0.0, 10.0)),
            24.0,
            2.0,
            (0.0, 0.0),
            1.0,
            1.0,
            100.0,
        );
        let left = c.ray(0.0, 50.0, 200, 100).unwrap();
        let right = c.ray(200.0, 50.0, 200, 100).unwrap();
        let top = c.ray(100.0, 0.0, 200, 100).unwrap();
        assert!(
            (left.o - Vec3::new(-12.0, 0.0, 9.0)).length() < 1e-5,
            "{:?}",
            left.o
        );
        assert!((right.o - Vec3::new(12.0, 0.0, 9.0)).length() < 1e-5);
        // Half the width over the aspect: 6 units up at the top edge.
        assert!(
            (top.o - Vec3::new(0.0, 6.0, 9.0)).length() < 1e-5,
            "{:?}",
            top.o
        );
        assert_eq!(left.d, Vec3::NEG_Z);
        assert_eq!(right.d, left.d);
        // Offsets shift the window; the pixel aspect ratio divides its height.
        let c = Camera::orthographic(Mat4::IDENTITY, 24.0, 2.0, (3.0, 2.0), 2.0, 1.0, 100.0);
        let mid = c.ray(100.0, 0.0, 200, 100).unwrap();
        assert!(
            (mid.o - Vec3::new(3.0, 1.0 + 3.0, -1.0)).length() < 1e-5,
            "{:?}",
            mid.o
        );
    }
}
