//! Rays and the primitives the renderer intersects: world-space triangles, transformed
//! spheres (an ellipsoid when the transform scales unevenly) and curve spans (`curve`).

use crate::curve::{Curve, CurveHit};
use glam::{Mat3, Mat4, Vec2, Vec3};

#[derive(Debug, Clone, Copy)]
pub struct Ray {
    pub o: Vec3,
    /// Unit length.
    pub d: Vec3,
    pub tmin: f32,
    pub tmax: f32,
}

impl Ray {
    pub fn new(o: Vec3, d: Vec3, tmin: f32, tmax: f32) -> Ray {
        Ray { o, d, tmin, tmax }
    }
    pub fn at(&self, t: f32) -> Vec3 {
        self.o + self.d * t
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Aabb {
    pub min: Vec3,
    pub max: Vec3,
}

impl Aabb {
    pub const EMPTY: Aabb = Aabb {
        min: Vec3::splat(f32::INFINITY),
        max: Vec3::splat(f32::NEG_INFINITY),
    };

    pub fn grow(&mut self, p: Vec3) {
        self.min = self.min.min(p);
        self.max = self.max.max(p);
    }
    pub fn union(&self, o: &Aabb) -> Aabb {
        Aabb {
            min: self.min.min(o.min),
            max: self.max.max(o.max),
        }
    }
    pub fn center(&self) -> Vec3 {
        (self.min + self.max) * 0.5
    }
    pub fn area(&self) -> f32 {
        let d = (self.max - self.min).max(Vec3::ZERO);
        2.0 * (d.x * d.y + d.y * d.z + d.z * d.x)
    }
    /// Slab test; returns the entry distance when the box is hit within (tmin, tmax).
    #[inline]
    pub fn hit(&self, o: Vec3, inv_d: Vec3, tmin: f32, tmax: f32) -> Option<f32> {
        let t0 = (self.min - o) * inv_d;
        let t1 = (self.max - o) * inv_d;
        let near = t0.min(t1).max_element().max(tmin);
        let far = t0.max(t1).min_element().min(tmax);
        (near <= far).then_some(near)
    }
}

/// What a primitive is made of: an index into the scene's materials.
pub type MaterialId = u32;

#[derive(Debug, Clone)]
pub enum Primitive {
    /// `corners` holds what is interpolated over the triangle (see [`Corners`]); None shades
    /// with the face normal, uv = the barycentrics and no primitive attributes.
    Triangle {
        p0: Vec3,
        e1: Vec3,
        e2: Vec3,
        material: MaterialId,
        corners: Option<Box<Corners>>,
    },
    Sphere(Box<Sphere>),
    /// One span of a curve, in world space.
    Curve(Box<Curve>),
}

/// Values at a triangle's corners (p0, p0 + e1, p0 + e2), interpolated at a hit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Corners {
    /// Vertex normals: the shading normal is their interpolation, as MoonRay's `smooth_normal`.
    pub normals: Option<[Vec3; 3]>,
    /// Texture coordinates (MoonRay's `st`), from the mesh's `uv_list` or the shape's own.
    pub uv: Option<[Vec2; 3]>,
    /// Primitive attributes by interned name (`Scene::attribute_names`), every rate (constant,
    /// uniform, vertex, varying, face-varying) already spread to the three corners.
    pub attrs: Vec<(u32, [Vec3; 3])>,
}

impl Corners {
    /// The interpolation of three corner values at barycentrics `b` (weights of corners 1, 2).
    pub fn lerp3<T>(v: &[T; 3], b: Vec2) -> T
    where
        T: Copy + std::ops::Mul<f32, Output = T> + std::ops::Add<Output = T>,
    {
        v[0] * (1.0 - b.x - b.y) + v[1] * b.x + v[2] * b.y
    }
}

#[derive(Debug, Clone)]
pub struct Sphere {
    pub radius: f32,
    pub to_object: Mat4,
    /// Transforms object-space normals to world space: the inverse transpose.
    pub normal_to_world: Mat3,
    pub bounds: Aabb,
    pub material: MaterialId,
    /// World-space centre and radius when the transform is a similarity (rotation, uniform
    /// scale, translation): the common case, intersected without transforming the ray.
    pub world: Option<(Vec3, f32)>,
    /// Primitive attributes (a point's), one value each, in the corner layout of
    /// [`Corners::attrs`] (all three corners the same).
    pub attrs: Vec<(u32, [Vec3; 3])>,
}

impl Sphere {
    pub fn new(to_world: Mat4, radius: f32, material: MaterialId) -> Sphere {
        let mut bounds = Aabb::EMPTY;
        for i in 0..8 {
            let c = Vec3::new(
                if i & 1 == 0 { -radius } else { radius },
                if i & 2 == 0 { -radius } else { radius },
                if i & 4 == 0 { -radius } else { radius },
            );
            bounds.grow(to_world.transform_point3(c));
        }
        let to_object = to_world.inverse();
        let m = Mat3::from_mat4(to_world);
        let (lx, ly, lz) = (m.x_axis.length(), m.y_axis.length(), m.z_axis.length());
        let tol = 1e-5 * lx.max(ly).max(lz);
        let similarity = (lx - ly).abs() <= tol
            && (lx - lz).abs() <= tol
            && m.x_axis.dot(m.y_axis).abs() <= tol * lx
            && m.x_axis.dot(m.z_axis).abs() <= tol * lx
            && m.y_axis.dot(m.z_axis).abs() <= tol * lx;
        let world = similarity.then(|| (to_world.transform_point3(Vec3::ZERO), radius * lx));
        Sphere {
            radius,
            to_object,
            normal_to_world: Mat3::from_mat4(to_object).transpose(),
            bounds,
            material,
            world,
            attrs: Vec::new(),
        }
    }

    /// Texture coordinates of an object-space point, as moonray's geom/prim/Sphere.cc: u the
    /// angle around the local z axis over 2 pi (from +x, towards +y), v = 1 - theta / pi with
    /// theta measured from +z (0 at the -z pole, 1 at the +z pole).
    pub fn uv(&self, po: Vec3) -> Vec2 {
        let d = po.normalize_or_zero();
        let u = (d.y.atan2(d.x) / (2.0 * std::f32::consts::PI)).rem_euclid(1.0);
        let theta = d.z.clamp(-1.0, 1.0).acos();
        Vec2::new(u, 1.0 - theta / std::f32::consts::PI)
    }
}

/// A ray-surface intersection.
#[derive(Debug, Clone, Copy)]
pub struct Hit {
    pub t: f32,
    pub p: Vec3,
    /// Geometric normal, unit length, not yet turned towards the ray.
    pub n: Vec3,
    /// Shading normal, unit length, on the same side as `n`.
    pub ns: Vec3,
    pub material: MaterialId,
    /// Barycentrics on a triangle (weights of its corners 1 and 2); zero on a sphere; on a
    /// curve its span's parameter u and the offset v across it (-1 to 1).
    pub bary: Vec2,
    /// Index of the primitive in the BVH (`Bvh::prim`), for its primitive attributes.
    pub prim: u32,
}

impl Primitive {
    pub fn bounds(&self) -> Aabb {
        match self {
            Primitive::Triangle { p0, e1, e2, .. } => {
                let mut b = Aabb::EMPTY;
                b.grow(*p0);
                b.grow(*p0 + *e1);
                b.grow(*p0 + *e2);
                b
            }
            Primitive::Sphere(s) => s.bounds,
            Primitive::Curve(c) => c.bounds,
        }
    }

    /// The nearest intersection distance within (ray.tmin, tmax), without shading data.
    #[inline]
    pub fn intersect_t(&self, ray: &Ray, tmax: f32) -> Option<f32> {
        match self {
            Primitive::Triangle { p0, e1, e2, .. } => {
                // Moller-Trumbore.
                let pvec = ray.d.cross(*e2);
                let det = e1.dot(pvec);
                if det.abs() < 1e-12 {
                    return None;
                }
                let inv = 1.0 / det;
                let tvec = ray.o - *p0;
                let u = tvec.dot(pvec) * inv;
                if !(0.0..=1.0).contains(&u) {
                    return None;
                }
                let qvec = tvec.cross(*e1);
                let v = ray.d.dot(qvec) * inv;
                if v < 0.0 || u + v > 1.0 {
                    return None;
                }
                let t = e2.dot(qvec) * inv;
                (t > ray.tmin && t < tmax).then_some(t)
            }
            Primitive::Sphere(s) if s.world.is_some() => {
                let (c, r) = s.world.unwrap_or_default();
                // Ray Tracing Gems 7: the discriminant from the distance of the centre to the
                // line, which loses no precision for far-away spheres. `ray.d` is unit length.
                let f = ray.o - c;
                let b = -f.dot(ray.d);
                let l = f + ray.d * b;
                let disc = r * r - l.length_squared();
                if disc < 0.0 {
                    return None;
                }
                let q = b + disc.sqrt().copysign(b);
                let c2 = f.length_squared() - r * r;
                nearest_root(c2 / q, q, ray.tmin, tmax)
            }
            Primitive::Sphere(s) => {
                let o = s.to_object.transform_point3(ray.o);
                let d = s.to_object.transform_vector3(ray.d);
                let a = d.length_squared();
                let b = o.dot(d);
                let c = o.length_squared() - s.radius * s.radius;
                let disc = b * b - a * c;
                if disc < 0.0 {
                    return None;
                }
                let sq = disc.sqrt();
                // The numerically stable pair of roots.
                let q = -(b + sq.copysign(b));
                nearest_root(q / a, c / q, ray.tmin, tmax)
            }
            Primitive::Curve(c) => c.intersect(ray, tmax).map(|h| h.t),
        }
    }

    /// Texture coordinates (MoonRay's `st`) at a hit on this primitive: a triangle's
    /// interpolated uvs (its barycentrics without), a sphere's longitude and latitude. Only
    /// shading that reads them asks, so the common hit does not pay for them.
    pub fn uv(&self, hit: &Hit) -> Vec2 {
        match self {
            Primitive::Triangle { corners, .. } => corners
                .as_ref()
                .and_then(|c| c.uv.as_ref())
                .map_or(hit.bary, |uv| Corners::lerp3(uv, hit.bary)),
            Primitive::Sphere(s) => s.uv(s.to_object.transform_point3(hit.p)),
            Primitive::Curve(c) => c.uv(hit.bary.x, hit.bary.y),
        }
    }

    /// The surface's dPds at a hit (the tangent MoonRay's normal maps build their frame on):
    /// on a triangle the derivative of position along s, from its corners' uvs (the
    /// barycentric uvs, so e1, without them); on a sphere d/du of moonray's `Sphere.cc`
    /// parameterisation (2 pi (-y, x, 0) in object space); on a curve its tangent. Zero where
    /// it is undefined (degenerate uvs, a sphere's poles).
    pub fn dpds(&self, hit: &Hit) -> Vec3 {
        match self {
            Primitive::Triangle {
                e1, e2, corners, ..
            } => {
                let Some(uv) = corners.as_ref().and_then(|c| c.uv.as_ref()) else {
                    return *e1;
                };
                let (d1, d2) = (uv[1] - uv[0], uv[2] - uv[0]);
                let det = d1.x * d2.y - d1.y * d2.x;
                if det.abs() < 1e-20 {
                    return Vec3::ZERO;
                }
                (*e1 * d2.y - *e2 * d1.y) / det
            }
            Primitive::Sphere(s) => {
                let po = s.to_object.transform_point3(hit.p);
                let d = 2.0 * std::f32::consts::PI * Vec3::new(-po.y, po.x, 0.0);
                Mat3::from_mat4(s.to_object).inverse() * d
            }
            Primitive::Curve(c) => crate::curve::tangent(&c.cp, hit.bary.x),
        }
    }

    /// Shading data for a hit found by `intersect_t`.
    pub fn hit(&self, ray: &Ray, t: f32) -> Hit {
        let p = ray.at(t);
        match self {
            Primitive::Triangle {
                p0,
                e1,
                e2,
                material,
                corners,
            } => {
                let n = e1.cross(*e2).normalize_or_zero();
                // Barycentrics of the hit, as Moller-Trumbore computes them.
                let pvec = ray.d.cross(*e2);
                let inv = 1.0 / e1.dot(pvec);
                let tvec = ray.o - *p0;
                let bary = Vec2::new(tvec.dot(pvec) * inv, ray.d.dot(tvec.cross(*e1)) * inv);
                let vn = corners.as_ref().and_then(|c| c.normals.as_ref());
                let ns = match vn {
                    None => n,
                    Some(vn) => {
                        let s = Corners::lerp3(vn, bary).normalize_or_zero();
                        if s == Vec3::ZERO {
                            n
                        } else if s.dot(n) < 0.0 {
                            -s
                        } else {
                            s
                        }
                    }
                };
                Hit {
                    t,
                    p,
                    n,
                    ns,
                    material: *material,
                    bary,
                    prim: 0,
                }
            }
            Primitive::Sphere(s) if s.world.is_some() => {
                let (c, _) = s.world.unwrap_or_default();
                let n = (p - c).normalize_or_zero();
                Hit {
                    t,
                    p,
                    n,
                    ns: n,
                    material: s.material,
                    bary: Vec2::ZERO,
                    prim: 0,
                }
            }
            Primitive::Sphere(s) => {
                let po = s.to_object.transform_point3(p);
                let n = (s.normal_to_world * po).normalize_or_zero();
                Hit {
                    t,
                    p,
                    n,
                    ns: n,
                    material: s.material,
                    bary: Vec2::ZERO,
                    prim: 0,
                }
            }
            Primitive::Curve(c) => {
                // The search is a pure function of the ray: run again, it finds the same
                // nearest hit, now with its u and v.
                let h = c
                    .intersect(ray, f32::INFINITY)
                    .filter(|h| h.t <= t)
                    .unwrap_or(CurveHit { t, u: 0.5, v: 0.0 });
                let n = c.normal(ray, &h);
                Hit {
                    t,
                    p,
                    n,
                    ns: n,
                    material: c.material,
                    bary: Vec2::new(h.u, h.v),
                    prim: 0,
                }
            }
        }
    }
}

/// The nearer of a quadric's two roots that lies in (tmin, tmax).
#[inline]
fn nearest_root(a: f32, b: f32, tmin: f32, tmax: f32) -> Option<f32> {
    let (t0, t1) = if a <= b { (a, b) } else { (b, a) };
    if t0 > tmin && t0 < tmax {
        Some(t0)
    } else if t1 > tmin && t1 < tmax {
        Some(t1)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rays_hit_triangles_and_spheres_where_expected() {
        let tri = Primitive::Triangle {
            p0: Vec3::new(-1.0, -1.0, -5.0),
            e1: Vec3::new(2.0, 0.0, 0.0),
            e2: Vec3::new(0.0, 2.0, 0.0),
            material: 0,
            corners: None,
        };
        let ray = Ray::new(Vec3::ZERO, Vec3::NEG_Z, 0.0, f32::INFINITY);
        assert!((tri.intersect_t(&ray, f32::INFINITY).unwrap() - 5.0).abs() < 1e-5);
        let sphere = Primitive::Sphere(Box::new(Sphere::new(
            Mat4::from_translation(Vec3::new(0.0, 0.0, -10.0))
                * Mat4::from_scale(Vec3::new(1.0, 1.0, 2.0)),
            1.0,
            0,
        )));
        let t = sphere.intersect_t(&ray, f32::INFINITY).unwrap();
        assert!((t - 8.0).abs() < 1e-4, "{t}");
        let hit = sphere.hit(&ray, t);
        assert!((hit.n - Vec3::Z).length() < 1e-4);
        let miss = Ray::new(Vec3::new(3.0, 0.0, 0.0), Vec3::NEG_Z, 0.0, f32::INFINITY);
        assert!(sphere.intersect_t(&miss, f32::INFINITY).is_none());
        // A rotated, uniformly scaled sphere takes the world-space path: radius 2 at z = -10.
        let xf = Mat4::from_translation(Vec3::new(0.0, 0.0, -10.0))
            * Mat4::from_rotation_y(0.7)
            * Mat4::from_scale(Vec3::splat(2.0));
        let round = Sphere::new(xf, 1.0, 0);
        assert!(round.world.is_some());
        let round = Primitive::Sphere(Box::new(round));
        let t = round.intersect_t(&ray, f32::INFINITY).unwrap();
        assert!((t - 8.0).abs() < 1e-4, "{t}");
        assert!((round.hit(&ray, t).n - Vec3::Z).length() < 1e-4);
        // From inside, the far side.
        let inside = Ray::new(Vec3::new(0.0, 0.0, -10.0), Vec3::NEG_Z, 0.0, f32::INFINITY);
        assert!((round.intersect_t(&inside, f32::INFINITY).unwrap() - 2.0).abs() < 1e-4);
        let grazing = Ray::new(Vec3::new(2.5, 0.0, 0.0), Vec3::NEG_Z, 0.0, f32::INFINITY);
        assert!(round.intersect_t(&grazing, f32::INFINITY).is_none());
    }
}
