//! The perspective camera: MoonRay's PerspectiveCamera looks down its local -Z, with the
//! horizontal field of view 2 * atan(film_width_aperture / (2 * focal)).

use crate::geometry::Ray;
use glam::{Mat4, Vec3};

#[derive(Debug, Clone)]
pub struct Camera {
    pub to_world: Mat4,
    /// tan of half the horizontal and vertical field of view.
    pub tan_half: (f32, f32),
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
            tan_half: (th, th / aspect),
            near,
            far,
        }
    }

    /// The ray through a point on the image plane, in pixel units with y down.
    pub fn ray(&self, x: f32, y: f32, width: u32, height: u32) -> Ray {
        let sx = (2.0 * x / width as f32 - 1.0) * self.tan_half.0;
        let sy = (1.0 - 2.0 * y / height as f32) * self.tan_half.1;
        let local = Vec3::new(sx, sy, -1.0);
        let origin = self.to_world.transform_point3(Vec3::ZERO);
        let d = self.to_world.transform_vector3(local);
        let len = d.length();
        // The near and far planes are distances along the view axis; along this ray they sit
        // `len` times further (for a camera transform without scale, len >= 1).
        Ray::new(origin, d / len, self.near * len, self.far * len)
    }
}
