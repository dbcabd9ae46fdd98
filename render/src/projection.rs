//! Projection maps at a shading point: `ProjectPlanarMap` as moonshine's
//! dso/map/ProjectPlanarMap computes it, the hit's position in the projector's space moved by
//! (0.5, 0.5) to make texture coordinates, its third channel MoonRay's validity mask.

use glam::{Mat3, Mat4, Vec3};

/// moonshine dso/map/ProjectPlanarMap/ProjectPlanarMap.ispc: (x + 0.5, y + 0.5, mask) of the
/// position in the projector's space; the mask is 1, or -1 (with uv 0) on a face turned away
/// from the projector when `project_on_back_faces` is off, and -1 outside the unit square when
/// `black_outside_projection` is on.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectPlanar {
    /// False when the map has no projector: MoonRay then gives (0, 0, -1).
    pub valid: bool,
    /// World (render) space to the projector's space: the inverse of its transform.
    pub to_projector: Mat4,
    /// World normals to the projector's space (the transpose of the projector's linear part).
    pub normal_to_projector: Mat3,
    pub back_faces: bool,
    pub black_outside: bool,
}

impl ProjectPlanar {
    pub fn new(projector: Mat4, back_faces: bool, black_outside: bool) -> ProjectPlanar {
        ProjectPlanar {
            valid: true,
            to_projector: projector.inverse(),
            normal_to_projector: Mat3::from_mat4(projector).transpose(),
            back_faces,
            black_outside,
        }
    }

    pub fn eval(&self, p: Vec3, n: Vec3) -> Vec3 {
        if !self.valid || (!self.back_faces && (self.normal_to_projector * n).z < 0.0) {
            return Vec3::new(0.0, 0.0, -1.0);
        }
        let q = self.to_projector.transform_point3(p);
        let (u, v) = (q.x + 0.5, q.y + 0.5);
        let outside = !(0.0..=1.0).contains(&u) || !(0.0..=1.0).contains(&v);
        let mask = if self.black_outside && outside {
            -1.0
        } else {
            1.0
        };
        Vec3::new(u, v, mask)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_projector_s_unit_square_is_the_uv_square() {
        // A projector scaled by 2 and moved to (1, 0, 0): its unit square spans x 0..2, y -1..1.
        let m = Mat4::from_translation(Vec3::X) * Mat4::from_scale(Vec3::splat(2.0));
        let p = ProjectPlanar::new(m, true, true);
        let z = Vec3::Z;
        assert!((p.eval(Vec3::new(0.0, -1.0, 0.0), z) - Vec3::new(0.0, 0.0, 1.0)).length() < 1e-6);
        assert!((p.eval(Vec3::new(2.0, 1.0, 0.0), z) - Vec3::new(1.0, 1.0, 1.0)).length() < 1e-6);
        assert!((p.eval(Vec3::new(1.5, 0.0, 3.0), z) - Vec3::new(0.75, 0.5, 1.0)).length() < 1e-6);
        // Outside the square: the mask is -1 with black_outside_projection, 1 without.
        assert_eq!(p.eval(Vec3::new(3.0, 0.0, 0.0), z).z, -1.0);
        let q = ProjectPlanar::new(m, true, false);
        assert_eq!(q.eval(Vec3::new(3.0, 0.0, 0.0), z).z, 1.0);
        // A face turned away from the projector, back faces off: (0, 0, -1).
        let r = ProjectPlanar::new(m, false, false);
        assert_eq!(
            r.eval(Vec3::new(1.0, 0.0, 0.0), -z),
            Vec3::new(0.0, 0.0, -1.0)
        );
        assert_eq!(r.eval(Vec3::new(1.0, 0.0, 0.0), z).z, 1.0);
        let none = ProjectPlanar { valid: false, ..q };
        assert_eq!(none.eval(Vec3::ONE, z), Vec3::new(0.0, 0.0, -1.0));
    }
}
