//! MoonRay's projective cameras. Both look down their local -Z.
//!
//! PerspectiveCamera: the horizontal field of view is 2 * atan(film_width_aperture /
//! (2 * focal)). OrthographicCamera (moonray's `lib/rendering/pbr/camera/OrthographicCamera.cc`
//! and the projection matrix of `dso/camera/OrthographicCamera`): parallel rays along -Z from
//! the near plane, through a window `film_width_aperture` wide in camera units (scene units,
//! not millimetres), shifted by the film offsets, its height that width times the image
//! aspect, divided by `pixel_aspect_ratio`; a ray runs from the near plane to the far one.

use crate::geometry::Ray;
use glam::{Mat4, Vec3};

#[derive(Debug, Clone, PartialEq)]
pub enum Projection {
    /// tan of half the horizontal and vertical field of view.
    Perspective { tan_half: (f32, f32) },
    /// Half the window's width and height and its centre, in camera space.
    Orthographic {
        half: (f32, f32),
        center: (f32, f32),
    },
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

    /// The ray through a point on the image plane, in pixel units with y down.
    pub fn ray(&self, x: f32, y: f32, width: u32, height: u32) -> Ray {
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
                Ray::new(origin, d / len, self.near * len, self.far * len)
            }
            Projection::Orthographic { half, center } => {
                let local = Vec3::new(center.0 + sx * half.0, center.1 + sy * half.1, -self.near);
                let origin = self.to_world.transform_point3(local);
                let d = self.to_world.transform_vector3(Vec3::NEG_Z);
                let len = d.length();
                Ray::new(origin, d / len, 0.0, (self.far - self.near).max(0.0) * len)
            }
        }
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
        let left = c.ray(0.0, 50.0, 200, 100);
        let right = c.ray(200.0, 50.0, 200, 100);
        let top = c.ray(100.0, 0.0, 200, 100);
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
        let mid = c.ray(100.0, 0.0, 200, 100);
        assert!(
            (mid.o - Vec3::new(3.0, 1.0 + 3.0, -1.0)).length() < 1e-5,
            "{:?}",
            mid.o
        );
    }
}
