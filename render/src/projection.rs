//! Projection maps at a shading point: `ProjectPlanarMap` as moonshine's
//! dso/map/ProjectPlanarMap computes it, the hit's position in the projector's space moved by
//! (0.5, 0.5) to make texture coordinates, its third channel MoonRay's validity mask; and
//! `ProjectTriplanarMap`, six textures projected along the projector's axes and blended by the
//! normal.

use glam::{Mat3, Mat4, Vec2, Vec3};

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

/// One of a triplanar map's six textures (moonshine lib/map/projection/TriplanarTexture.cc).
#[derive(Debug, Clone, PartialEq)]
pub enum TriplanarFace {
    /// `*_active` off: black.
    Inactive,
    /// Active, but its texture could not be read: the scene's fatal colour.
    Invalid(Vec3),
    /// The texture, read through `xform` (`TriplanarTexture.cc` `compute2DXform`).
    Texture {
        image: crate::texture::ImageLookup,
        xform: Mat3,
    },
}

impl TriplanarFace {
    /// The 2D transform of a face's texture, as `compute2DXform` composes it (applied first to
    /// last): to the rotation centre, rotate by -rotation (radians; `swap_st` adds 90, as
    /// MoonRay adds it to the radians), back, scale by 1 / scale (negated by `invert_s`,
    /// `invert_t`), translate by the offset with its s negated.
    pub fn xform(
        scale: Vec2,
        offset: Vec2,
        rotation_deg: f32,
        center: Vec2,
        invert: (bool, bool),
        swap_st: bool,
    ) -> Mat3 {
        let sign = |b: bool| if b { -1.0 } else { 1.0 };
        let sc = Vec2::new(
            sign(invert.0) / scale.x.max(1e-6),
            sign(invert.1) / scale.y.max(1e-6),
        );
        let rot = -rotation_deg.to_radians() + if swap_st { 90.0 } else { 0.0 };
        let offset = Vec2::new(-offset.x, offset.y);
        Mat3::from_translation(offset)
            * Mat3::from_scale(sc)
            * Mat3::from_translation(center)
            * Mat3::from_angle(rot)
            * Mat3::from_translation(-center)
    }
}

/// moonshine dso/map/ProjectTriplanarMap/v1 (ProjectTriplanarMap.ispc with
/// lib/map/projection/ispc/TriplanarTexture.ispc): the position and normal in the projector's
/// space; weights |n_i|^p / sum |n_j|^p, p from `transition_width`
/// (`calculateTransitionWidthPower`); along each axis the face the normal points to, its
/// position swizzled onto the face, transformed and moved by (0.5, 0.5).
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectTriplanar {
    /// None when the map has no projector: MoonRay then gives the fatal colour.
    pub to_projector: Option<(Mat4, Mat3)>,
    pub fatal: Vec3,
    pub power: f32,
    /// By cube face: +x, +y, +z, -x, -y, -z (`fillTriplanarTextureIndices` already applied).
    pub faces: [std::sync::Arc<TriplanarFace>; 6],
}

impl ProjectTriplanar {
    /// `calculateTransitionWidthPower`: (1 - saturate(w))^5, lifted to 0.025 + 0.975 x, times
    /// 100.
    pub fn power(transition_width: f32) -> f32 {
        let t = 1.0 - transition_width.clamp(0.0, 1.0);
        (0.025 + t.powi(5) * 0.975) * 100.0
    }

    /// The blend weights of the three axes for a normal `n` (any length).
    pub fn weights(n: Vec3, power: f32) -> Vec3 {
        let w = n.abs();
        let w = Vec3::new(w.x.powf(power), w.y.powf(power), w.z.powf(power));
        let sum = w.x + w.y + w.z;
        if sum > 0.0 {
            w / sum
        } else {
            Vec3::ZERO
        }
    }

    /// `swizzleTriplanarFace`: the projector-space position as seen on cube face `face`.
    fn swizzle(p: Vec3, face: usize) -> Vec2 {
        match face {
            0 => Vec2::new(-p.z, -p.y),
            1 => Vec2::new(p.x, p.z),
            2 => Vec2::new(p.x, -p.y),
            3 => Vec2::new(p.z, -p.y),
            4 => Vec2::new(p.x, -p.z),
            _ => Vec2::new(-p.x, -p.y),
        }
    }

    pub fn eval(&self, p: Vec3, n: Vec3) -> Vec3 {
        let Some((to_projector, normal_to_projector)) = &self.to_projector else {
            return self.fatal;
        };
        let (p, n) = (to_projector.transform_point3(p), *normal_to_projector * n);
        let w = Self::weights(n, self.power);
        let mut out = Vec3::ZERO;
        for axis in 0..3 {
            if w[axis] == 0.0 {
                continue;
            }
            let face = if n[axis] > 0.0 { axis } else { axis + 3 };
            let c = match &*self.faces[face] {
                TriplanarFace::Inactive => Vec3::ZERO,
                TriplanarFace::Invalid(c) => *c,
                TriplanarFace::Texture { image, xform } => {
                    let st = xform.transform_point2(Self::swizzle(p, face)) + Vec2::splat(0.5);
                    // The face's st has t = 0 at the top (OIIO's convention, which the
                    // swizzle's negated y accounts for); the lookup puts t = 0 at the bottom.
                    image.eval(Vec2::new(st.x, 1.0 - st.y))
                }
            };
            out += c * w[axis];
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_triplanar_face_reads_its_swizzled_position_with_t_down_from_the_top() {
        // A 2x2 texture, rows from the top: red, green / blue, white. On the +Z face st is
        // (x, -y) + 0.5 with t = 0 at the top (TriplanarTexture.ispc), so (-0.25, 0.25) is the
        // top-left texel's centre and (0.25, -0.25) the bottom-right's.
        let png = crate::texture::png(2, 2, &[[255, 0, 0], [0, 255, 0], [0, 0, 255], [255; 3]]);
        let texture = crate::texture::Texture::decode(&png, crate::texture::Gamma::Off).unwrap();
        let face = std::sync::Arc::new(TriplanarFace::Texture {
            image: crate::texture::ImageLookup {
                texture: std::sync::Arc::new(texture),
                wrap: (crate::texture::Wrap::Repeat, crate::texture::Wrap::Repeat),
                scale: Vec2::ONE,
                offset: Vec2::ZERO,
                rotation: 0.0,
                rotation_center: Vec2::ZERO,
                color_correct: None,
                channel: crate::texture::Channel::Rgb,
                udim: None,
            },
            xform: TriplanarFace::xform(
                Vec2::ONE,
                Vec2::ZERO,
                0.0,
                Vec2::ZERO,
                (false, false),
                false,
            ),
        });
        let map = ProjectTriplanar {
            to_projector: Some((Mat4::IDENTITY, Mat3::IDENTITY)),
            fatal: Vec3::new(1.0, 0.0, 1.0),
            power: ProjectTriplanar::power(0.5),
            faces: std::array::from_fn(|_| face.clone()),
        };
        let at = |x: f32, y: f32| map.eval(Vec3::new(x, y, 0.0), Vec3::Z);
        assert!((at(-0.25, 0.25) - Vec3::X).length() < 1e-5);
        assert!((at(0.25, 0.25) - Vec3::Y).length() < 1e-5);
        assert!((at(-0.25, -0.25) - Vec3::Z).length() < 1e-5);
        assert!((at(0.25, -0.25) - Vec3::ONE).length() < 1e-5);
        // Scale 2 halves the coordinates (1 / scale): (-0.5, 0.5) lands on (-0.25, 0.25).
        let mut scaled = map.clone();
        if let TriplanarFace::Texture { image, .. } = &*face {
            let f = std::sync::Arc::new(TriplanarFace::Texture {
                image: image.clone(),
                xform: TriplanarFace::xform(
                    Vec2::splat(2.0),
                    Vec2::ZERO,
                    0.0,
                    Vec2::ZERO,
                    (false, false),
                    false,
                ),
            });
            scaled.faces = std::array::from_fn(|_| f.clone());
        }
        assert!((scaled.eval(Vec3::new(-0.5, 0.5, 0.0), Vec3::Z) - Vec3::X).length() < 1e-5);
        // No projector: the fatal colour.
        let none = ProjectTriplanar {
            to_projector: None,
            ..map
        };
        assert_eq!(none.eval(Vec3::ZERO, Vec3::Z), Vec3::new(1.0, 0.0, 1.0));
    }

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
