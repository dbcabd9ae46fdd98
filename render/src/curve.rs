//! Curves (MoonRay's RdlCurveGeometry): one span of a linear, bezier or b-spline curve held as
//! a cubic bezier in world space with a radius per control point, intersected by recursive
//! subdivision in ray space as a ray-facing ribbon or a round tube.
//!
//! MoonRay hands its spans to Embree (moonray `lib/rendering/rt/EmbreeAccelerator.cc`
//! `createCurvesInBVH`: `RTC_GEOMETRY_TYPE_{FLAT,ROUND}_{LINEAR,BEZIER,BSPLINE}_CURVE`), whose
//! control vertices are (x, y, z, radius): the radius is interpolated with the same basis as
//! the position. A b-spline span is turned into the bezier span of the same curve here
//! ([`bspline_to_bezier`]), and a linear segment into a bezier with its inner control points
//! at the thirds, which is the same straight line with the same (linear) radius and parameter.
//!
//! The intersection (in the manner of Nakamaru and Ohno, "Ray tracing for curves primitive",
//! 2002): the span is moved to ray space (the ray's origin at 0, its direction +z), where a
//! point of the curve is within the ray's reach when its distance from the z axis is below
//! its radius. The span is halved (de Casteljau) a fixed number of times chosen from how far
//! it bends ([`Curve::new`]: until a chord is within [`TOLERANCE`] of the radius of the
//! curve), pruning halves whose control hull, grown by their largest radius, misses the axis;
//! each remaining piece is a straight chord with a linear radius, tested exactly: a ribbon
//! piece is the band within its radius of the chord, facing the ray, between the lines square
//! to the curve at the piece's ends; a tube piece is the cone about the chord between the
//! planes square to the curve at its ends. Neighbouring pieces share those lines and planes,
//! so they join without cracks and (tubes) without inner walls, and a ray that starts inside a
//! tube (refracted) finds where it leaves. Everything is a function of the span and the ray
//! alone; a sample stays a pure function of its inputs.

use crate::geometry::{Aabb, MaterialId, Ray};
use glam::{Vec2, Vec3, Vec3Swizzles, Vec4, Vec4Swizzles};

/// How close a chord must stay to the curve it stands for, as a fraction of the curve's
/// smallest control radius: the silhouette is where the analytic curve's is to within this
/// (2% of the radius), the depth too.
pub const TOLERANCE: f32 = 0.02;

/// How far neighbouring pieces of a span overlap across the line (ribbon) or plane (tube)
/// they share, as a fraction of the radius: enough that rounding leaves no pinholes.
const SEAM: f32 = 1e-3;

/// How far past its radius a piece is looked for (`Curve::new`, `leaf`).
const MARGIN: f32 = 1.1;

/// The most halvings of a span (1024 pieces for a very bent, very thin one).
const MAX_DEPTH: u32 = 10;

/// How a curve is drawn: MoonRay's `curves_subtype` (scene_rdl2
/// `lib/scene/rdl2/CommonAttributes.h` `DEFINE_COMMON_CURVES_ATTRIBUTES`: ray_facing 0, the
/// default, round 1, normal_oriented 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CurveShape {
    /// A flat ribbon 2 * radius wide that turns to face every ray (`ray_facing`).
    Flat,
    /// A tube: a circle of the radius swept along the curve (`round`).
    Round,
    /// A ribbon 2 * radius wide in the plane that holds the curve's tangent and is square to
    /// its given normal (`normal_oriented`; Embree's normal-oriented curves, which moonray
    /// `lib/rendering/rt/EmbreeAccelerator.cc` builds from the curves' `normal` primitive
    /// attribute): it spans tangent and normal x tangent, and `Curve::normals` is its normal.
    Oriented,
}

/// One span of a curve.
#[derive(Debug, Clone)]
pub struct Curve {
    /// Bezier control points in world space, the radius in `w`.
    pub cp: [Vec4; 4],
    pub shape: CurveShape,
    /// A linear segment ends in half spheres (flat: half discs), so that the segments of a
    /// polyline join without a gap at their bends (Embree's round linear curves are cones
    /// joined by spheres); where two join, the two caps overlap. A cubic span ends square to
    /// its tangent, as it meets the next span along the same tangent (so the ends of a cubic
    /// curve are open).
    pub capped: bool,
    /// A capped segment's neighbours in its polyline: the vertex before its first and the
    /// one after its last (radius in `w`), None at the polyline's ends. Where two round
    /// segments join, each leaves the other's cone and the joint's sphere to the other, so
    /// the joint has no inner walls (which a ray leaving the tube would meet).
    pub joints: [Option<Vec4>; 2],
    /// The halvings that bring every chord within the tolerance (see [`Curve::new`]).
    pub depth: u32,
    pub material: MaterialId,
    /// MoonRay's default st along the curve: s = s0 + u * ds for the span's parameter u
    /// (moonray `lib/rendering/geom/prim/CubicSpline.cc` and `LineSegments.cc`
    /// `postIntersect`: span j of n covers s in [j / n, (j + 1) / n]).
    pub s0: f32,
    pub ds: f32,
    /// The curve's own uvs at the span's two ends (from `uv_list`), interpolated along u;
    /// None takes the default st.
    pub uv: Option<[Vec2; 2]>,
    /// Primitive attributes at the span's two ends, interpolated linearly along u, kept in
    /// the corner layout of `geometry::Corners::attrs` as [start, end, end] so that
    /// barycentrics (u, 0) interpolate them.
    pub attrs: Vec<(u32, [Vec3; 3])>,
    /// An oriented ribbon's normals at the span's two ends (world space), interpolated
    /// linearly along u; unused by the other shapes.
    pub normals: [Vec3; 2],
    pub bounds: Aabb,
}

/// Where a ray meets a curve: the distance, the span's parameter u and v, the signed offset
/// across the curve from its centre line over the radius (-1 to 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CurveHit {
    pub t: f32,
    pub u: f32,
    pub v: f32,
}

/// The bezier control points of one uniform cubic b-spline span: the same curve with the
/// weights of moonray's `lib/rendering/geom/prim/BSpline.h` `evalWeights`, which at the span's
/// start are (1, 4, 1, 0) / 6.
pub fn bspline_to_bezier(p: [Vec4; 4]) -> [Vec4; 4] {
    [
        (p[0] + 4.0 * p[1] + p[2]) / 6.0,
        (2.0 * p[1] + p[2]) / 3.0,
        (p[1] + 2.0 * p[2]) / 3.0,
        (p[1] + 4.0 * p[2] + p[3]) / 6.0,
    ]
}

/// The straight segment from `a` to `b` as a bezier span.
pub fn linear_to_bezier(a: Vec4, b: Vec4) -> [Vec4; 4] {
    [a, a.lerp(b, 1.0 / 3.0), a.lerp(b, 2.0 / 3.0), b]
}

/// A point of a bezier span (position and radius) at u.
pub fn eval(cp: &[Vec4; 4], u: f32) -> Vec4 {
    let s = 1.0 - u;
    cp[0] * (s * s * s)
        + cp[1] * (3.0 * s * s * u)
        + cp[2] * (3.0 * s * u * u)
        + cp[3] * (u * u * u)
}

/// The derivative of a bezier span's position at u.
pub fn tangent(cp: &[Vec4; 4], u: f32) -> Vec3 {
    let s = 1.0 - u;
    let d = (cp[1] - cp[0]) * (3.0 * s * s)
        + (cp[2] - cp[1]) * (6.0 * s * u)
        + (cp[3] - cp[2]) * (3.0 * u * u);
    let t = d.xyz();
    if t.length_squared() > 0.0 {
        t
    } else {
        // Coincident control points at an end: the chord's direction.
        (cp[3] - cp[0]).xyz()
    }
}

/// The two halves of a bezier span (de Casteljau at u = 1/2).
fn split(p: &[Vec4; 4]) -> ([Vec4; 4], [Vec4; 4]) {
    let a = (p[0] + p[1]) * 0.5;
    let b = (p[1] + p[2]) * 0.5;
    let c = (p[2] + p[3]) * 0.5;
    let d = (a + b) * 0.5;
    let e = (b + c) * 0.5;
    let m = (d + e) * 0.5;
    ([p[0], a, d, m], [m, e, c, p[3]])
}

/// The mutable state of one intersection: the nearest hit so far.
struct Search {
    /// The neighbours (`Curve::joints`) in ray space.
    joints: [Option<Vec4>; 2],
    /// `Curve::normals` in ray space.
    normals: [Vec3; 2],
    tmin: f32,
    tmax: f32,
    best: Option<CurveHit>,
}

impl Curve {
    pub fn new(
        cp: [Vec4; 4],
        shape: CurveShape,
        capped: bool,
        material: MaterialId,
        s0: f32,
        ds: f32,
        uv: Option<[Vec2; 2]>,
    ) -> Curve {
        let rmax = cp.iter().fold(0.0f32, |m, p| m.max(p.w));
        let rmin = cp.iter().fold(f32::INFINITY, |m, p| m.min(p.w));
        // The control hull grown by the largest radius holds the span (a bezier is within
        // its control points' hull, its radius too), and the margin what a tube's piece
        // reaches past its chord at a bend (see `leaf`).
        let mut bounds = Aabb::EMPTY;
        for p in &cp {
            bounds.grow(p.xyz() - Vec3::splat(MARGIN * rmax));
            bounds.grow(p.xyz() + Vec3::splat(MARGIN * rmax));
        }
        // A cubic bezier is within 3/4 of its largest second difference of the chord between
        // its ends (the degree-n bound n (n - 1) / 8 max |P[i] - 2 P[i+1] + P[i+2]|), and each
        // halving divides the second differences by 4: k halvings bring the chords within
        // 3/4 L / 4^k. The radius is held to the same bound (w of the second difference).
        let l = (cp[0] - 2.0 * cp[1] + cp[2])
            .length()
            .max((cp[1] - 2.0 * cp[2] + cp[3]).length());
        let eps = (TOLERANCE * rmin).max(1e-7 * (bounds.max - bounds.min).max_element());
        let mut depth = 0;
        let mut err = 0.75 * l;
        while err > eps && depth < MAX_DEPTH {
            err *= 0.25;
            depth += 1;
        }
        Curve {
            cp,
            shape,
            capped,
            joints: [None, None],
            depth,
            material,
            s0,
            ds,
            uv,
            attrs: Vec::new(),
            normals: [Vec3::ZERO; 2],
            bounds,
        }
    }

    /// The nearest hit in (ray.tmin, tmax). Hits nearer than 1.5 radii to a flat ribbon are
    /// left out: a ribbon turns to face each ray, so a ray leaving it would meet it again
    /// (MoonRay sets 1.5 times the curve's radius as the next ray's epsilon after a curve hit,
    /// moonray `lib/rendering/geom/prim/CubicSpline.cc` `setEpsilonHint`).
    pub fn intersect(&self, ray: &Ray, tmax: f32) -> Option<CurveHit> {
        let (dx, dy) = basis(ray.d);
        let to_ray = |p: Vec4| {
            let q = p.xyz() - ray.o;
            Vec4::new(q.dot(dx), q.dot(dy), q.dot(ray.d), p.w)
        };
        let cp = self.cp.map(to_ray);
        let mut s = Search {
            joints: self.joints.map(|j| j.map(to_ray)),
            normals: self
                .normals
                .map(|n| Vec3::new(n.dot(dx), n.dot(dy), n.dot(ray.d))),
            tmin: ray.tmin,
            tmax,
            best: None,
        };
        self.descend(&cp, 0.0, 1.0, self.depth, &mut s);
        s.best
    }

    fn descend(&self, cp: &[Vec4; 4], u0: f32, u1: f32, depth: u32, s: &mut Search) {
        // The control hull, grown by the largest radius, holds the piece (and its tube).
        let (mut lo, mut hi) = (Vec4::splat(f32::INFINITY), Vec4::splat(f32::NEG_INFINITY));
        for p in cp {
            lo = lo.min(*p);
            hi = hi.max(*p);
        }
        let r = MARGIN * hi.w;
        if lo.x - r > 0.0
            || hi.x + r < 0.0
            || lo.y - r > 0.0
            || hi.y + r < 0.0
            || hi.z + r <= s.tmin
            || lo.z - r >= s.tmax
        {
            return;
        }
        if depth == 0 {
            self.leaf(cp, u0, u1, s);
            return;
        }
        let (a, b) = split(cp);
        let um = 0.5 * (u0 + u1);
        self.descend(&a, u0, um, depth - 1, s);
        self.descend(&b, um, u1, depth - 1, s);
    }

    /// One piece taken as its chord, in ray space.
    fn leaf(&self, cp: &[Vec4; 4], u0: f32, u1: f32, s: &mut Search) {
        let (a, b) = (cp[0], cp[3]);
        let ab = (b - a).xy();
        let len2 = ab.length_squared();
        let w = if len2 > 0.0 {
            ((-a.xy()).dot(ab) / len2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let p = a.lerp(b, w);
        let r = p.w;
        let d2 = p.xy().length_squared();
        // A tube's piece reaches a little past its chord's ends at a bend, where the planes
        // that bound it are not square to the chord.
        if r.is_nan() || r <= 0.0 || d2 > MARGIN * MARGIN * r * r {
            return;
        }
        // Signed offset across: which side of the centre line the axis passes.
        let side = if len2 > 0.0 {
            ab.perp_dot(-p.xy()) / len2.sqrt()
        } else {
            d2.sqrt()
        };
        let v = (side / r).clamp(-1.0, 1.0);
        let (t, w, v) = match self.shape {
            CurveShape::Flat => {
                if !self.capped {
                    // The piece holds the points between the lines square to the curve at
                    // its two ends: neighbouring pieces share those lines, so each point
                    // belongs to one.
                    // They overlap by SEAM, so that rounding leaves no pinholes between them.
                    let t0 = tangent(cp, 0.0).xy().normalize_or_zero();
                    let t1 = tangent(cp, 1.0).xy().normalize_or_zero();
                    if (-a.xy()).dot(t0) < -SEAM * r || (-b.xy()).dot(t1) > SEAM * r {
                        return;
                    }
                }
                if d2 > r * r || p.z < 1.5 * r {
                    return;
                }
                (p.z, w, v)
            }
            CurveShape::Round => match self.tube(cp, r, s.tmin, &s.joints) {
                Some((t, w)) => (t, w, v),
                None => return,
            },
            CurveShape::Oriented => match oriented(cp, 0.5 * (u0 + u1), &s.normals) {
                Some(twv) => twv,
                None => return,
            },
        };
        if t <= s.tmin || t >= s.tmax {
            return;
        }
        s.tmax = t;
        s.best = Some(CurveHit {
            t,
            u: u0 + (u1 - u0) * w,
            v,
        });
    }

    /// The nearest crossing past `tmin` of the ray (from 0 along +z) with the wall of a
    /// piece of tube: the cone about the chord (its radius linear from one end's to the
    /// other's), between the planes square to the curve at the piece's two ends. Neighbouring
    /// pieces share those planes, so the pieces fill the tube without a crack or an inner
    /// wall, and a ray that starts inside (refracted) meets the wall where it leaves. A capped
    /// segment adds the spheres at its ends, beyond those planes and its neighbours' (see
    /// `Curve::joints`). Returns the distance and the chord parameter of the hit.
    fn tube(
        &self,
        cp: &[Vec4; 4],
        r: f32,
        tmin: f32,
        joints: &[Option<Vec4>; 2],
    ) -> Option<(f32, f32)> {
        let (a, b) = (cp[0].xyz(), cp[3].xyz());
        let axis = b - a;
        let len = axis.length();
        if len <= 1e-7 * a.length().max(1.0) {
            return None;
        }
        let e = axis / len;
        let t0 = tangent(cp, 0.0).normalize_or_zero();
        let t1 = tangent(cp, 1.0).normalize_or_zero();
        let seam = SEAM * r;
        let at = |t: f32| Vec3::new(0.0, 0.0, t);
        let mut best: Option<(f32, f32)> = None;
        let mut offer = |t: f32, w: f32| {
            if t > tmin && best.is_none_or(|(bt, _)| t < bt) {
                best = Some((t, w));
            }
        };
        // The cone about the chord whose radius runs from a's to b's: the offset from the
        // axis, mp + t zp, is as long as ra + k h(t), h(t) = h0 + t e.z the distance along it.
        let (ra, k) = (cp[0].w, (cp[3].w - cp[0].w) / len);
        let zp = Vec3::Z - e * e.z;
        let m = -a;
        let h0 = m.dot(e);
        let mp = m - e * h0;
        let r0 = ra + k * h0;
        let qa = zp.length_squared() - k * k * e.z * e.z;
        let qb = mp.dot(zp) - k * e.z * r0;
        let qc = mp.length_squared() - r0 * r0;
        let disc = qb * qb - qa * qc;
        if qa.abs() > 1e-12 && disc >= 0.0 {
            let q = disc.sqrt();
            for t in [(-qb - q) / qa, (-qb + q) / qa] {
                let x = at(t);
                let h = h0 + t * e.z;
                let inside_neighbour = (joints[0].is_some_and(|p| inside(x, p, cp[0], seam)))
                    || joints[1].is_some_and(|q| inside(x, cp[3], q, seam));
                if ra + k * h > 0.0
                    && (x - a).dot(t0) >= -seam
                    && (x - b).dot(t1) <= seam
                    && !inside_neighbour
                {
                    offer(t, (h / len).clamp(0.0, 1.0));
                }
            }
        }
        if self.capped {
            for (c, rc, w, beyond) in [(a, cp[0].w, 0.0, -1.0f32), (b, cp[3].w, 1.0, 1.0)] {
                // |t z - c| = rc.
                let disc = c.z * c.z - (c.length_squared() - rc * rc);
                if disc < 0.0 {
                    continue;
                }
                let q = disc.sqrt();
                let tan = if w == 0.0 { t0 } else { t1 };
                // The neighbour's direction away from the joint, beyond whose plane the
                // joint's sphere also lies.
                let away = if w == 0.0 {
                    joints[0].map(|p| (p.xyz() - c).normalize_or_zero())
                } else {
                    joints[1].map(|q| (q.xyz() - c).normalize_or_zero())
                };
                for t in [c.z - q, c.z + q] {
                    let off = at(t) - c;
                    if off.dot(tan) * beyond > -seam && away.is_none_or(|d| off.dot(d) < seam) {
                        offer(t, w);
                    }
                }
            }
        }
        best
    }

    /// The geometric normal at a hit: a ribbon faces the ray (the reversed ray direction
    /// square to the curve's tangent, as moonray's `CubicSpline::postIntersect` builds it from
    /// dPds and the flipped ray direction); a tube's normal points from its centre line to
    /// the hit, square to the tangent.
    pub fn normal(&self, ray: &Ray, hit: &CurveHit) -> Vec3 {
        let t = tangent(&self.cp, hit.u).normalize_or_zero();
        let facing = {
            let w = -ray.d;
            let n = (w - t * w.dot(t)).normalize_or_zero();
            if n == Vec3::ZERO {
                w
            } else {
                n
            }
        };
        match self.shape {
            CurveShape::Flat => facing,
            CurveShape::Oriented => {
                // The given normal, square to the tangent, on the ray's side.
                let [n0, n1] = self.normals;
                let n = n0.lerp(n1, hit.u);
                let n = (n - t * n.dot(t)).normalize_or_zero();
                match n.dot(-ray.d) {
                    _ if n == Vec3::ZERO => facing,
                    c if c < 0.0 => -n,
                    _ => n,
                }
            }
            CurveShape::Round => {
                let c = eval(&self.cp, hit.u).xyz();
                let off = ray.at(hit.t) - c;
                let n = (off - t * off.dot(t)).normalize_or_zero();
                if n == Vec3::ZERO {
                    facing
                } else {
                    n
                }
            }
        }
    }

    /// Texture coordinates (MoonRay's st) at a span's u and v: the curve's `uv_list` values
    /// interpolated along it, else s along the whole curve and t = (v + 1) / 2 across it
    /// (moonray `CubicSpline.cc`: "ray.v is in (-1,1) so we need to remap to (0,1)").
    pub fn uv(&self, u: f32, v: f32) -> Vec2 {
        match self.uv {
            Some([a, b]) => a.lerp(b, u),
            None => Vec2::new(self.s0 + u * self.ds, v * 0.5 + 0.5),
        }
    }
}

/// Where the ray (from 0 along +z, in ray space) meets the piece `cp` of an oriented ribbon,
/// taken as its chord: the plane through the chord square to the normal (`normals`
/// interpolated at the piece's middle `um`, made square to the chord), between the lines
/// square to the curve at the piece's ends (shared with its neighbours), within the radius
/// of the chord's centre line. Returns the distance, the chord parameter and the signed
/// offset across over the radius. Seen edge-on (the ray in the plane) it is missed.
fn oriented(cp: &[Vec4; 4], um: f32, normals: &[Vec3; 2]) -> Option<(f32, f32, f32)> {
    let (a, b) = (cp[0].xyz(), cp[3].xyz());
    let axis = b - a;
    let len = axis.length();
    if len <= 1e-7 * a.length().max(1.0) {
        return None;
    }
    let e = axis / len;
    let n = normals[0].lerp(normals[1], um);
    let n = (n - e * n.dot(e)).try_normalize()?;
    if n.z.abs() < 1e-6 {
        return None;
    }
    // n . (t z - a) = 0.
    let t = n.dot(a) / n.z;
    let x = Vec3::new(0.0, 0.0, t);
    let h = (x - a).dot(e);
    let w = (h / len).clamp(0.0, 1.0);
    let r = cp[0].w + (cp[3].w - cp[0].w) * w;
    let seam = SEAM * r;
    let t0 = tangent(cp, 0.0).normalize_or_zero();
    let t1 = tangent(cp, 1.0).normalize_or_zero();
    if r.is_nan() || r <= 0.0 || (x - a).dot(t0) < -seam || (x - b).dot(t1) > seam {
        return None;
    }
    let across = (x - a - e * h).dot(n.cross(e));
    if across.abs() > r {
        return None;
    }
    Some((t, w, across / r))
}

/// Whether `x` is inside the cone about the segment p-q (radii in `w`) between the planes
/// square to it at its ends, deeper than `seam`.
fn inside(x: Vec3, p: Vec4, q: Vec4, seam: f32) -> bool {
    let axis = (q - p).xyz();
    let len2 = axis.length_squared();
    if len2 <= 0.0 {
        return false;
    }
    let h = (x - p.xyz()).dot(axis) / len2;
    if !(0.0..=1.0).contains(&h) {
        return false;
    }
    let c = p.lerp(q, h);
    (x - c.xyz()).length() < c.w - seam
}

/// Two unit vectors square to the unit vector `d` and to each other (Duff et al., "Building
/// an orthonormal basis, revisited").
fn basis(d: Vec3) -> (Vec3, Vec3) {
    let sign = 1.0f32.copysign(d.z);
    let a = -1.0 / (sign + d.z);
    let b = d.x * d.y * a;
    (
        Vec3::new(1.0 + sign * d.x * d.x * a, sign * b, -sign * d.x),
        Vec3::new(b, sign + d.y * d.y * a, -d.y),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ray(o: Vec3, d: Vec3) -> Ray {
        Ray::new(o, d.normalize(), 0.0, f32::INFINITY)
    }

    fn straight(shape: CurveShape, capped: bool, r0: f32, r1: f32) -> Curve {
        // Along x from -1 to 1 at z = 0, radius r0 to r1.
        let cp = linear_to_bezier(Vec4::new(-1.0, 0.0, 0.0, r0), Vec4::new(1.0, 0.0, 0.0, r1));
        Curve::new(cp, shape, capped, 0, 0.0, 1.0, None)
    }

    #[test]
    fn a_straight_curve_is_hit_within_its_radius_and_missed_outside() {
        for shape in [CurveShape::Flat, CurveShape::Round] {
            let c = straight(shape, true, 0.1, 0.1);
            let inside = ray(Vec3::new(0.3, 0.099, 5.0), Vec3::NEG_Z);
            let h = c.intersect(&inside, f32::INFINITY).expect("hit inside");
            assert!((h.u - 0.65).abs() < 1e-5, "{h:?}");
            assert!((h.v.abs() - 0.99).abs() < 1e-4, "{h:?}");
            let expect = match shape {
                CurveShape::Flat | CurveShape::Oriented => 5.0,
                // The tube's surface: 5 - sqrt(r^2 - y^2).
                CurveShape::Round => 5.0 - (0.01f32 - 0.099 * 0.099).sqrt(),
            };
            // 1e-4: near the silhouette the depth is a square root of a small difference.
            assert!((h.t - expect).abs() < 1e-4, "{shape:?} {h:?} {expect}");
            let outside = ray(Vec3::new(0.3, 0.101, 5.0), Vec3::NEG_Z);
            assert!(c.intersect(&outside, f32::INFINITY).is_none());
        }
    }

    #[test]
    fn a_tube_has_a_radial_normal_and_a_ribbon_faces_the_ray() {
        let round = straight(CurveShape::Round, true, 0.1, 0.1);
        // From above at 45 degrees, aimed at the centre line at x = 0.
        let r = ray(Vec3::new(0.0, 5.0, 5.0), Vec3::new(0.0, -1.0, -1.0));
        let h = round.intersect(&r, f32::INFINITY).unwrap();
        let n = round.normal(&r, &h);
        assert!(
            (n - Vec3::new(0.0, 1.0, 1.0).normalize()).length() < 1e-3,
            "{n}"
        );
        assert!((h.t - (50f32.sqrt() - 0.1)).abs() < 1e-4, "{h:?}");
        let flat = straight(CurveShape::Flat, true, 0.1, 0.1);
        let h = flat.intersect(&r, f32::INFINITY).unwrap();
        assert!((h.t - 50f32.sqrt()).abs() < 1e-4, "{h:?}");
        let n = flat.normal(&r, &h);
        assert!(
            (n - Vec3::new(0.0, 1.0, 1.0).normalize()).length() < 1e-5,
            "{n}"
        );
        // A ray oblique to the tube enters where the cylinder is, not the nearest sphere.
        let oblique = ray(Vec3::new(-5.0, 0.05, 5.0), Vec3::new(1.0, 0.0, -1.0));
        let h = round.intersect(&oblique, f32::INFINITY).unwrap();
        let depth = (0.01f32 - 0.0025).sqrt() * 2f32.sqrt();
        assert!((h.t - (50f32.sqrt() - depth)).abs() < 1e-4, "{h:?}");
    }

    /// A straight bezier span along x (from -1 to 1 at z = 0, radius 0.1) oriented by the
    /// normal `n` at both ends.
    fn oriented(n: Vec3) -> Curve {
        let mut c = straight(CurveShape::Oriented, false, 0.1, 0.1);
        c.normals = [n; 2];
        c
    }

    #[test]
    fn an_oriented_ribbon_face_on_covers_twice_its_radius_and_has_the_given_normal() {
        // Normal +z, seen along -z: the ribbon lies in z = 0, |y| <= 0.1, hit at t = 5 with
        // v = y / r, its normal the given one (facing the ray; from below, flipped).
        let c = oriented(Vec3::Z);
        for (y, hit) in [(0.0, true), (0.099, true), (-0.099, true), (0.101, false)] {
            let r = ray(Vec3::new(0.3, y, 5.0), Vec3::NEG_Z);
            let h = c.intersect(&r, f32::INFINITY);
            assert_eq!(h.is_some(), hit, "y {y}: {h:?}");
            if let Some(h) = h {
                assert!(
                    (h.t - 5.0).abs() < 1e-5 && (h.u - 0.65).abs() < 1e-5,
                    "{h:?}"
                );
                assert!((h.v - y / 0.1).abs() < 1e-4, "{h:?}");
                assert!((c.normal(&r, &h) - Vec3::Z).length() < 1e-6);
            }
        }
        let below = ray(Vec3::new(0.3, 0.05, -5.0), Vec3::Z);
        let h = c.intersect(&below, f32::INFINITY).expect("hit from below");
        assert!((c.normal(&below, &h) + Vec3::Z).length() < 1e-6);
        // An oblique ray still meets the plane z = 0 where |y| <= 0.1: from (0, 0.3, 5)
        // towards (0, 0.09, 0) hits, towards (0, 0.11, 0) misses.
        for (y, hit) in [(0.09f32, true), (0.11, false)] {
            let o = Vec3::new(0.0, 0.3, 5.0);
            let r = ray(o, Vec3::new(0.0, y, 0.0) - o);
            assert_eq!(c.intersect(&r, f32::INFINITY).is_some(), hit, "y {y}");
        }
    }

    #[test]
    fn an_oriented_ribbon_seen_edge_on_vanishes() {
        // Normal +y: the ribbon lies in y = 0, |z| <= 0.1; a ray along -z in that plane sees
        // only its edge and misses it, while one along -y sees it face-on.
        let c = oriented(Vec3::Y);
        for y in [0.0, 0.05, -0.05] {
            let r = ray(Vec3::new(0.3, y, 5.0), Vec3::NEG_Z);
            assert!(c.intersect(&r, f32::INFINITY).is_none(), "y {y}");
        }
        let r = ray(Vec3::new(0.3, 5.0, 0.05), Vec3::NEG_Y);
        let h = c.intersect(&r, f32::INFINITY).expect("face-on along -y");
        assert!((h.t - 5.0).abs() < 1e-5 && (c.normal(&r, &h) - Vec3::Y).length() < 1e-6);
    }

    #[test]
    fn a_tapered_curve_is_as_wide_as_its_interpolated_radius() {
        let c = straight(CurveShape::Flat, false, 0.2, 0.05);
        for x in [-0.9f32, -0.5, 0.0, 0.5, 0.9] {
            let r = 0.2 + (0.05 - 0.2) * (x + 1.0) / 2.0;
            let hit = |y: f32| c.intersect(&ray(Vec3::new(x, y, 5.0), Vec3::NEG_Z), f32::INFINITY);
            assert!(hit(r * 0.999).is_some(), "x {x}");
            assert!(hit(-r * 0.999).is_some(), "x {x}");
            assert!(hit(r * 1.001 + 1e-4).is_none(), "x {x}");
        }
        // Not capped: nothing past its ends; capped: a half disc of the end's radius.
        let past = ray(Vec3::new(-1.05, 0.0, 5.0), Vec3::NEG_Z);
        assert!(c.intersect(&past, f32::INFINITY).is_none());
        let capped = straight(CurveShape::Flat, true, 0.2, 0.05);
        assert!(capped.intersect(&past, f32::INFINITY).is_some());
        let beyond = ray(Vec3::new(-1.21, 0.0, 5.0), Vec3::NEG_Z);
        assert!(capped.intersect(&beyond, f32::INFINITY).is_none());
    }

    #[test]
    fn a_bezier_arc_is_hit_where_the_analytic_curve_is() {
        // A bezier quarter circle of radius 1 about the origin in the xy plane (the usual
        // k = 0.5523 handles; the bezier is within 2.7e-4 of the circle), tube radius 0.05.
        let k = 0.552_284_8;
        let cp = [
            Vec4::new(1.0, 0.0, 0.0, 0.05),
            Vec4::new(1.0, k, 0.0, 0.05),
            Vec4::new(k, 1.0, 0.0, 0.05),
            Vec4::new(0.0, 1.0, 0.0, 0.05),
        ];
        let c = Curve::new(cp, CurveShape::Flat, false, 0, 0.0, 1.0, None);
        assert!(c.depth > 0);
        for i in 1..20 {
            let a = std::f32::consts::FRAC_PI_2 * i as f32 / 20.0;
            let dir = Vec3::new(a.cos(), a.sin(), 0.0);
            let at = |rad: f32| {
                let p = dir * rad;
                c.intersect(&ray(Vec3::new(p.x, p.y, 5.0), Vec3::NEG_Z), f32::INFINITY)
            };
            // Inside and outside the band 1 +- 0.05, within the tolerance and the bezier's
            // own departure from the circle.
            let slack = TOLERANCE * 0.05 + 3e-4;
            assert!(at(1.05 - slack).is_some(), "{i}");
            assert!(at(0.95 + slack).is_some(), "{i}");
            assert!(at(1.05 + slack).is_none(), "{i}");
            assert!(at(0.95 - slack).is_none(), "{i}");
        }
    }

    #[test]
    fn a_bspline_span_becomes_the_bezier_of_the_same_curve() {
        let p = [
            Vec4::new(0.0, 0.0, 0.0, 1.0),
            Vec4::new(1.0, 2.0, 0.0, 2.0),
            Vec4::new(3.0, 2.0, 1.0, 3.0),
            Vec4::new(4.0, 0.0, 0.0, 4.0),
        ];
        let bz = bspline_to_bezier(p);
        for i in 0..=10 {
            let t = i as f32 / 10.0;
            // moonray BSpline.h evalWeights.
            let s = 1.0 - t;
            let w = [
                s * s * s / 6.0,
                0.5 * s * (s * t + 1.0) + 1.0 / 6.0,
                0.5 * t * (s * t + 1.0) + 1.0 / 6.0,
                t * t * t / 6.0,
            ];
            let want = p[0] * w[0] + p[1] * w[1] + p[2] * w[2] + p[3] * w[3];
            assert!((eval(&bz, t) - want).length() < 1e-5, "{t}");
        }
    }

    #[test]
    fn a_bent_tube_has_the_tori_normals_and_rays_leaving_it_escape() {
        // The bezier quarter circle (within 2.7e-4 of the circle of radius 1) as a tube of
        // radius 0.05: a torus. Seen from +z, the hit at radial offset delta from the centre
        // line is at depth sqrt(r^2 - delta^2) above the plane, with the torus's normal;
        // both within 2% (of a unit normal, of r). Rays leaving its outer half outwards
        // never meet it again.
        let k = 0.552_284_8;
        let cp = [
            Vec4::new(1.0, 0.0, 0.0, 0.05),
            Vec4::new(1.0, k, 0.0, 0.05),
            Vec4::new(k, 1.0, 0.0, 0.05),
            Vec4::new(0.0, 1.0, 0.0, 0.05),
        ];
        let c = Curve::new(cp, CurveShape::Round, false, 0, 0.0, 1.0, None);
        let mut rng = crate::sampler::Rng::new(7, 0, 0, 0, 0);
        for i in 1..200 {
            let a = std::f32::consts::FRAC_PI_2 * i as f32 / 200.0;
            let dir = Vec3::new(a.cos(), a.sin(), 0.0);
            for j in -9..=9 {
                let delta = 0.05 * j as f32 / 10.0;
                let p = dir * (1.0 + delta);
                let r = ray(Vec3::new(p.x, p.y, 5.0), Vec3::NEG_Z);
                let h = c.intersect(&r, f32::INFINITY).expect("no pinholes");
                let n = c.normal(&r, &h);
                let height = (0.0025f32 - delta * delta).sqrt();
                let want = (dir * delta + Vec3::Z * height) / 0.05;
                assert!((n - want).length() < 0.02, "{i} {j}: {n} {want}");
                assert!((h.t - (5.0 - height)).abs() < 0.02 * 0.05, "{i} {j}: {h:?}");
                if j <= 0 {
                    continue;
                }
                let o = r.at(h.t) + n * 1e-4;
                let (bx, by) = basis(n);
                for _ in 0..16 {
                    let (u1, u2) = (rng.uniform(), rng.uniform());
                    let (s, phi) = ((1.0 - u1 * u1).sqrt(), std::f32::consts::TAU * u2);
                    let d = bx * (s * phi.cos()) + by * (s * phi.sin()) + n * u1;
                    if d.dot(dir) < 0.0 {
                        continue;
                    }
                    let out = Ray::new(o, d.normalize(), 0.0, f32::INFINITY);
                    assert!(c.intersect(&out, f32::INFINITY).is_none(), "{i} {j} {d}");
                }
            }
        }
    }

    #[test]
    fn round_segments_join_without_cracks_or_inner_walls() {
        // Two round segments of radius 0.1 bent 90 degrees at the origin: (-1, 0, 0) to 0 to
        // (0, 1, 0), each knowing the other as its neighbour.
        let (p, j, q) = (
            Vec4::new(-1.0, 0.0, 0.0, 0.1),
            Vec4::new(0.0, 0.0, 0.0, 0.1),
            Vec4::new(0.0, 1.0, 0.0, 0.1),
        );
        let mut first = Curve::new(
            linear_to_bezier(p, j),
            CurveShape::Round,
            true,
            0,
            0.0,
            0.5,
            None,
        );
        first.joints = [None, Some(q)];
        let mut second = Curve::new(
            linear_to_bezier(j, q),
            CurveShape::Round,
            true,
            0,
            0.5,
            0.5,
            None,
        );
        second.joints = [Some(p), None];
        let nearest = |r: &Ray| {
            [&first, &second]
                .iter()
                .filter_map(|c| c.intersect(r, f32::INFINITY))
                .map(|h| h.t)
                .fold(f32::INFINITY, f32::min)
        };
        let dist = |x: Vec3, a: Vec4, b: Vec4| {
            let ab = (b - a).xyz();
            let h = ((x - a.xyz()).dot(ab) / ab.length_squared()).clamp(0.0, 1.0);
            (x - a.xyz() - ab * h).length()
        };
        let to_axes = |x: Vec3| dist(x, p, j).min(dist(x, j, q));
        // From above, the silhouette is the union of the two capsules, to the pixel.
        for i in -30..=30 {
            for k in -30..=30 {
                let (x, y) = (0.01 * i as f32, 0.01 * k as f32);
                let r = ray(Vec3::new(x, y, 5.0), Vec3::NEG_Z);
                let d = to_axes(Vec3::new(x, y, 0.0));
                if (d - 0.1).abs() > 1e-3 {
                    assert_eq!(nearest(&r).is_finite(), d < 0.1, "{x} {y}");
                }
            }
        }
        // From the joint outwards in every direction: the first wall met is the outer one,
        // 0.1 from the nearer centre line.
        let mut rng = crate::sampler::Rng::new(3, 0, 0, 0, 0);
        for _ in 0..2000 {
            let d = Vec3::new(rng.uniform(), rng.uniform(), rng.uniform()) * 2.0 - 1.0;
            if d.length() < 0.1 {
                continue;
            }
            let r = ray(Vec3::new(0.0, 0.0, 0.0), d);
            let t = nearest(&r);
            assert!(t.is_finite(), "{d}");
            let x = r.at(t);
            assert!((to_axes(x) - 0.1).abs() < 1e-3, "{d}: {t} {}", to_axes(x));
        }
    }

    #[test]
    fn a_hit_carries_moonrays_st_along_and_across_the_curve() {
        // The second of two spans (s from 0.5 to 1) along x from -1 to 1, radius 0.1, through
        // the primitive as the BVH gives it: s = 0.5 + u / 2, t = (v + 1) / 2.
        let cp = linear_to_bezier(
            Vec4::new(-1.0, 0.0, 0.0, 0.1),
            Vec4::new(1.0, 0.0, 0.0, 0.1),
        );
        let prim = crate::geometry::Primitive::Curve(Box::new(Curve::new(
            cp,
            CurveShape::Round,
            true,
            0,
            0.5,
            0.5,
            None,
        )));
        let st = |x: f32, y: f32| {
            let r = ray(Vec3::new(x, y, 5.0), Vec3::NEG_Z);
            let t = prim.intersect_t(&r, f32::INFINITY).unwrap();
            prim.uv(&prim.hit(&r, t))
        };
        let (a, b) = (st(0.0, 0.05), st(0.0, -0.05));
        assert!(
            (a.x - 0.75).abs() < 1e-5 && (b.x - 0.75).abs() < 1e-5,
            "{a} {b}"
        );
        assert!(
            (a.y - 0.5).abs() > 0.249 && (a.y - 0.5).abs() < 0.251,
            "{a}"
        );
        assert!((a.y + b.y - 1.0).abs() < 1e-5, "{a} {b}");
        assert!((st(0.5, 0.0).x - 0.875).abs() < 1e-5);
        // With the curve's own uvs at the span's ends, their interpolation along it.
        let own = Curve::new(
            cp,
            CurveShape::Flat,
            true,
            0,
            0.0,
            1.0,
            Some([Vec2::new(0.2, 0.4), Vec2::new(0.6, 0.8)]),
        );
        assert!((own.uv(0.25, 0.3) - Vec2::new(0.3, 0.5)).length() < 1e-6);
    }
}
