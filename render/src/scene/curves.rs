//! Curves (RdlCurveGeometry) turned into world-space spans: MoonRay's vertex counts, curve
//! types and radius rates, each span a bezier (`crate::curve`).
//!
//! What comes from where (moonray at the commit `render/data/classes.json` names):
//! - `dso/geometry/RdlCurve/RdlCurveGeometry.cc` and `attributes.cc`: `curve_type` linear
//!   0, bezier 1 (the default), bspline 2, an unknown one warns and is bezier;
//!   `curves_subtype` (and `tessellation_rate`, default 4, from scene_rdl2
//!   `lib/scene/rdl2/CommonAttributes.h`) ray_facing 0 (the default), round 1,
//!   normal_oriented 2 (oriented by the `normal` primitive attribute; see `Api.cc` below),
//!   an unknown one warns and is ray facing; the
//!   radius rates of `radius_list` (below) and 0.5 when it is empty; `uv_list` as MoonRay's
//!   `uv` primitive attribute, its rate picked from its length.
//! - `lib/rendering/geom/Curves.cc` `checkPrimitiveData`: a linear curve has at least 2
//!   vertices, a bezier 3 k + 1 (k >= 1), a b-spline at least 4, the counts add up to the
//!   vertices, and a cubic curve's `tessellation_rate` is above 0; otherwise MoonRay reports an
//!   error and renders nothing of the object, which here is one warning.
//! - `lib/rendering/geom/prim/BezierSpanChains.cc`, `BSpline.cc`, `LineSegments.cc`: span j
//!   of a bezier curve is vertices 3 j .. 3 j + 3, of a b-spline j .. j + 3 (n - 3 spans), of a
//!   linear curve j, j + 1.
//! - `lib/rendering/geom/Api.cc` `createCurves`: normal_oriented curves need a `normal`
//!   primitive attribute at rate constant, uniform, varying or vertex (without, MoonRay
//!   refuses them; here they warn and are ray facing), and linear ones warn and are ray facing.
//! - `lib/rendering/geom/Primitive.h` (`transformVertexBuffer` for Vec3fa): the radius is
//!   scaled by the mean length of the transform's three axes.
//!
//! Embree's flat curves split a span into `tessellation_rate` straight pieces; here every
//! span is intersected to `crate::curve::TOLERANCE` instead, so the rate is only checked.

use super::SceneBuilder;
use crate::attrs::{num, vec3_of, Attrs};
use crate::curve::{bspline_to_bezier, linear_to_bezier, Curve, CurveShape};
use crate::geometry::Primitive;
use crate::graph::{ObjectId, Value};
use glam::{Mat3, Mat4, Vec2, Vec4};

/// MoonRay's `curve_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Basis {
    Linear,
    Bezier,
    Bspline,
}

/// What a per-curve list's length means (scene_rdl2's attribute rates, as moonray
/// `lib/rendering/geom/PrimitiveUserData.cc` `pickRate` guesses them from the length).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rate {
    Constant,
    Part,
    Uniform,
    Vertex,
    Varying,
}

/// The counts a rate is told from: parts, curves, varying values (span ends) and vertices.
struct Counts {
    parts: usize,
    curves: usize,
    varying: usize,
    vertices: usize,
}

/// `pickRate`: an exact length in the order constant, part, uniform, vertex, varying (face
/// varying is 0 for curves); a longer list is read as the largest rate it covers, vertex
/// first; empty is none.
fn pick_rate(n: usize, c: &Counts) -> Option<Rate> {
    Some(match n {
        0 => return None,
        1 => Rate::Constant,
        n if n == c.parts => Rate::Part,
        n if n == c.curves => Rate::Uniform,
        n if n == c.vertices => Rate::Vertex,
        n if n == c.varying => Rate::Varying,
        n if c.vertices > 1 && n > c.vertices => Rate::Vertex,
        n if c.varying > 1 && n > c.varying => Rate::Varying,
        n if c.curves > 1 && n > c.curves => Rate::Uniform,
        n if c.parts > 1 && n > c.parts => Rate::Part,
        _ => Rate::Constant,
    })
}

/// One radius per vertex, as `RdlCurveProcedural::generate` spreads `radius_list`. Varying
/// radii (one per span end) become the control values of a linear radius along each bezier
/// span (ends, then the thirds between), and for a b-spline are the inner vertices' values
/// with the first and last extrapolated (2 r0 - r1). MoonRay's bezier loop runs one span
/// past each curve's last (writing 3 extra radii, which shifts the next curves'); this
/// follows its evident intent, one set per span.
fn vertex_radii(
    rv: &[f32],
    rate: Option<Rate>,
    basis: Basis,
    counts: &[usize],
    part_indices: &[usize],
) -> Vec<f32> {
    let vertices: usize = counts.iter().sum();
    let at = |i: usize| rv.get(i).copied().unwrap_or(0.5);
    let mut out = Vec::with_capacity(vertices);
    match rate {
        None => out.resize(vertices, 0.5),
        Some(Rate::Constant) => out.resize(vertices, at(0)),
        Some(Rate::Uniform) => {
            for (c, &n) in counts.iter().enumerate() {
                out.extend(std::iter::repeat_n(at(c), n));
            }
        }
        Some(Rate::Part) => {
            for (c, &n) in counts.iter().enumerate() {
                let r = part_indices.get(c).map_or(0.5, |&p| at(p));
                out.extend(std::iter::repeat_n(r, n));
            }
        }
        Some(Rate::Vertex) => out.extend((0..vertices).map(at)),
        Some(Rate::Varying) => {
            let mut i = 0;
            for &n in counts {
                match basis {
                    Basis::Linear => {
                        out.extend((i..i + n).map(at));
                        i += n;
                    }
                    Basis::Bezier => {
                        out.push(at(i));
                        for _ in 0..(n - 1) / 3 {
                            let (a, b) = (at(i), at(i + 1));
                            out.extend([(2.0 * a + b) / 3.0, (a + 2.0 * b) / 3.0, b]);
                            i += 1;
                        }
                        i += 1;
                    }
                    Basis::Bspline => {
                        out.push(2.0 * at(i) - at(i + 1));
                        out.extend((i..i + n - 2).map(at));
                        i += n - 2;
                        out.push(2.0 * at(i - 1) - at(i - 2));
                    }
                }
            }
        }
    }
    out
}

/// Why MoonRay would refuse these counts (`Curves::checkPrimitiveData`), if it would.
fn check(
    basis: Basis,
    counts: &[usize],
    vertices: usize,
    tessellation_rate: i64,
) -> Option<String> {
    for &n in counts {
        match basis {
            Basis::Linear if n < 2 => {
                return Some(format!(
                    "a linear curve of {n} vertices (at least 2 are needed)"
                ))
            }
            Basis::Bezier if n < 4 || (n - 1) % 3 != 0 => {
                return Some(format!(
                    "a bezier curve of {n} vertices (3 k + 1, at least 4, are needed)"
                ))
            }
            Basis::Bspline if n < 4 => {
                return Some(format!(
                    "a bspline curve of {n} vertices (at least 4 are needed)"
                ))
            }
            _ => {}
        }
    }
    let total: usize = counts.iter().sum();
    if total != vertices {
        return Some(format!(
            "`curves_vertex_count` adds up to {total} vertices, `vertex_list_0` has {vertices}"
        ));
    }
    if basis != Basis::Linear && tessellation_rate <= 0 {
        return Some(format!(
            "`tessellation_rate` is {tessellation_rate} (it must be above 0)"
        ));
    }
    None
}

impl SceneBuilder<'_> {
    pub(super) fn warn_once(&mut self, warning: String) {
        if !self.warnings.contains(&warning) {
            self.warnings.push(warning);
        }
    }

    /// Adds the spans of an RdlCurveGeometry under the transform `xf`.
    pub(super) fn curves(&mut self, id: ObjectId, mat: Option<ObjectId>, xf: Mat4) {
        let g = self.g;
        let o = g.object(id);
        let mut warnings = Vec::new();
        let mut a = Attrs::new(g, o, &mut warnings);
        let list = if a.list("vertex_list_0").is_empty() {
            a.list("vertex_list")
        } else {
            a.list("vertex_list_0")
        };
        let verts: Vec<glam::Vec3> = list.iter().filter_map(vec3_of).collect();
        let rv: Vec<f32> = a
            .list("radius_list")
            .iter()
            .filter_map(|v| num(v).map(|r| r as f32))
            .collect();
        let counts = a.indices("curves_vertex_count");
        let part_indices = a.indices("part_indices");
        let parts = a.list("part_list").len();
        let uv_list: Vec<Vec2> = a
            .list("uv_list")
            .iter()
            .filter_map(|v| match v {
                Value::Vec2(c) => Some(Vec2::new(c[0] as f32, c[1] as f32)),
                _ => None,
            })
            .collect();
        let curve_type = a.int("curve_type", 1);
        let subtype = a.int("curves_subtype", 0);
        let tessellation_rate = a.int("tessellation_rate", 4);
        let screen_space = a.bool("use_screen_space_radius", false);
        let user_data: Vec<ObjectId> = a
            .list("primitive_attributes")
            .iter()
            .filter_map(crate::attrs::object_of)
            .collect();
        let here = format!("{}: RdlCurveGeometry `{}`", o.loc, o.name);
        let basis = match curve_type {
            0 => Basis::Linear,
            1 => Basis::Bezier,
            2 => Basis::Bspline,
            other => {
                warnings.push(format!(
                    "{here}: unknown curve_type {other}; rendered as bezier, as MoonRay does"
                ));
                Basis::Bezier
            }
        };
        let mut shape = match subtype {
            0 => CurveShape::Flat,
            1 => CurveShape::Round,
            // moonray lib/rendering/geom/Api.cc `createCurves`: linear normal-oriented
            // curves warn and are ray facing.
            2 if basis == Basis::Linear => {
                warnings.push(format!(
                    "{here}: linear normal_oriented curves are rendered ray facing, as MoonRay does (Embree has no linear normal-oriented curves)"
                ));
                CurveShape::Flat
            }
            2 => CurveShape::Oriented,
            other => {
                warnings.push(format!(
                    "{here}: unknown curves_subtype {other}; rendered ray facing, as MoonRay does"
                ));
                CurveShape::Flat
            }
        };
        if screen_space {
            warnings.push(format!(
                "{here}: use_screen_space_radius is not supported by the built-in renderer; the radii are in object space"
            ));
        }
        // Once per object, though an instancer may add it many times.
        for w in warnings {
            self.warn_once(w);
        }
        if verts.is_empty() && counts.is_empty() {
            return;
        }
        if let Some(why) = check(basis, &counts, verts.len(), tessellation_rate) {
            self.warn_once(format!(
                "{here}: {why}; MoonRay refuses such curves, so nothing of it is rendered"
            ));
            return;
        }
        let spans_of = |n: usize| match basis {
            Basis::Linear => n - 1,
            Basis::Bezier => (n - 1) / 3,
            Basis::Bspline => n - 3,
        };
        let rates = Counts {
            parts,
            curves: counts.len(),
            varying: counts.iter().map(|&n| spans_of(n) + 1).sum(),
            vertices: verts.len(),
        };
        let radii = vertex_radii(
            &rv,
            pick_rate(rv.len(), &rates),
            basis,
            &counts,
            &part_indices,
        );
        let uv_rate = pick_rate(uv_list.len(), &rates);
        if matches!(uv_rate, Some(Rate::Part))
            || (uv_rate == Some(Rate::Vertex) && basis != Basis::Linear)
        {
            self.warn_once(format!(
                "{here}: `uv_list` per {} is not supported by the built-in renderer; the curves take MoonRay's default st",
                if uv_rate == Some(Rate::Part) { "part" } else { "vertex of a cubic curve" }
            ));
        }
        let m = Mat3::from_mat4(xf);
        let radius_scale = (m.x_axis.length() + m.y_axis.length() + m.z_axis.length()) / 3.0;
        let cv: Vec<Vec4> = verts
            .iter()
            .zip(&radii)
            .map(|(p, r)| xf.transform_point3(*p).extend(r * radius_scale))
            .collect();
        let mid = self.material(mat);
        let reads = self.material_reads_hits(mid);
        let mut attrs = if reads || shape == CurveShape::Oriented {
            self.curve_attributes(&user_data, &rates, &here, &o.name)
        } else {
            Vec::new()
        };
        // A normal-oriented ribbon's normals: the `normal` primitive attribute (moonray
        // lib/rendering/geom/Api.cc `createCurves`: required, at rate constant, uniform,
        // varying or vertex; MoonRay refuses the curves without one), transformed as normals.
        let normals = if shape == CurveShape::Oriented {
            let found = attrs.iter().position(|(id, rate, _)| {
                self.attribute_names[*id as usize] == "normal" && *rate != Rate::Part
            });
            if found.is_none() {
                self.warn_once(format!(
                    "{here}: normal_oriented curves need a `normal` primitive attribute (constant, per curve, per span end or per vertex), which MoonRay refuses them without; rendered ray facing"
                ));
                shape = CurveShape::Flat;
            }
            found.map(|i| attrs[i].clone())
        } else {
            None
        };
        if !reads {
            attrs.clear();
        }
        let normal_xf = m.inverse().transpose();
        let (mut first, mut varying) = (0, 0);
        for (c, &n) in counts.iter().enumerate() {
            let spans = spans_of(n);
            for j in 0..spans {
                let cp = match basis {
                    Basis::Linear => linear_to_bezier(cv[first + j], cv[first + j + 1]),
                    Basis::Bezier => {
                        let k = first + 3 * j;
                        [cv[k], cv[k + 1], cv[k + 2], cv[k + 3]]
                    }
                    Basis::Bspline => {
                        let k = first + j;
                        bspline_to_bezier([cv[k], cv[k + 1], cv[k + 2], cv[k + 3]])
                    }
                };
                let uv = match uv_rate {
                    Some(Rate::Constant) => Some([uv_list[0]; 2]),
                    Some(Rate::Uniform) => Some([uv_list[c]; 2]),
                    Some(Rate::Varying) => Some([uv_list[varying + j], uv_list[varying + j + 1]]),
                    Some(Rate::Vertex) if basis == Basis::Linear => {
                        Some([uv_list[first + j], uv_list[first + j + 1]])
                    }
                    _ => None,
                };
                let ds = 1.0 / spans as f32;
                let linear = basis == Basis::Linear;
                let mut span = Curve::new(cp, shape, linear, mid, j as f32 * ds, ds, uv);
                // An attribute's values at the span's two ends.
                let ends_of = |rate: &Rate, v: &[glam::Vec3]| -> Option<[glam::Vec3; 2]> {
                    Some(match rate {
                        Rate::Constant => [v[0]; 2],
                        Rate::Uniform => [v[c]; 2],
                        Rate::Part => {
                            let part = part_indices.get(c).copied().unwrap_or(0);
                            [*v.get(part)?; 2]
                        }
                        Rate::Varying => [v[varying + j], v[varying + j + 1]],
                        Rate::Vertex => match basis {
                            Basis::Linear => [v[first + j], v[first + j + 1]],
                            Basis::Bezier => [v[first + 3 * j], v[first + 3 * j + 3]],
                            // A uniform cubic b-spline's ends: (v0 + 4 v1 + v2) / 6 and
                            // (v1 + 4 v2 + v3) / 6 of its four vertices.
                            Basis::Bspline => {
                                let k = first + j;
                                [
                                    (v[k] + 4.0 * v[k + 1] + v[k + 2]) / 6.0,
                                    (v[k + 1] + 4.0 * v[k + 2] + v[k + 3]) / 6.0,
                                ]
                            }
                        },
                    })
                };
                span.attrs = attrs
                    .iter()
                    .filter_map(|(id, rate, v)| {
                        let ends = ends_of(rate, v)?;
                        Some((*id, [ends[0], ends[1], ends[1]]))
                    })
                    .collect();
                if let Some((_, rate, v)) = &normals {
                    if let Some(ends) = ends_of(rate, v) {
                        span.normals = ends.map(|n| normal_xf * n);
                    }
                }
                if linear {
                    span.joints = [
                        (j > 0).then(|| cv[first + j - 1]),
                        (j + 2 < n).then(|| cv[first + j + 2]),
                    ];
                }
                self.prims.push(Primitive::Curve(Box::new(span)));
            }
            first += n;
            varying += spans + 1;
        }
    }
}

impl SceneBuilder<'_> {
    /// The primitive attributes of a curves object's UserData, each with its rate: given by
    /// `rate` (scene_rdl2 UserData: constant 1, part 2, uniform 3 = per curve, vertex 4 = per
    /// control vertex, varying 5 = per span end; face varying 6 is varying, as curves have
    /// no faces) or, for auto (0), picked from the count as `pickRate` does. A count short
    /// of its rate warns and the attribute is left out.
    fn curve_attributes(
        &mut self,
        ids: &[ObjectId],
        c: &Counts,
        here: &str,
        owner: &str,
    ) -> Vec<(u32, Rate, Vec<glam::Vec3>)> {
        let mut out = Vec::new();
        for u in self.user_data_values(ids, "RdlCurveGeometry", owner) {
            let n = u.v.len();
            let rate = match u.rate {
                1 => Some(Rate::Constant),
                2 => Some(Rate::Part),
                3 => Some(Rate::Uniform),
                4 => Some(Rate::Vertex),
                5 | 6 => Some(Rate::Varying),
                _ => pick_rate(n, c),
            };
            let need = match rate {
                Some(Rate::Constant) => 1,
                Some(Rate::Part) => c.parts.max(1),
                Some(Rate::Uniform) => c.curves,
                Some(Rate::Vertex) => c.vertices,
                Some(Rate::Varying) => c.varying,
                None => usize::MAX,
            };
            match rate {
                Some(r) if n >= need => {
                    let id = self.attribute_id(&u.name);
                    out.push((id, r, u.v));
                }
                _ => self.warn_once(format!(
                    "{here}: UserData `{}`: {} has {n} values, which fit no rate of these curves (1, {} curves, {} vertices or {} span ends); ignored",
                    u.object.name, u.values, c.curves, c.vertices, c.varying
                )),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn radius_rates_follow_moonray() {
        let counts = [4, 4];
        let c = Counts {
            parts: 0,
            curves: 2,
            varying: 4,
            vertices: 8,
        };
        assert_eq!(pick_rate(0, &c), None);
        assert_eq!(pick_rate(1, &c), Some(Rate::Constant));
        assert_eq!(pick_rate(2, &c), Some(Rate::Uniform));
        assert_eq!(pick_rate(4, &c), Some(Rate::Varying));
        assert_eq!(pick_rate(8, &c), Some(Rate::Vertex));
        assert_eq!(pick_rate(9, &c), Some(Rate::Vertex));
        assert_eq!(pick_rate(3, &c), Some(Rate::Uniform));
        let r = vertex_radii(&[], None, Basis::Bezier, &counts, &[]);
        assert_eq!(r, vec![0.5; 8]);
        let r = vertex_radii(
            &[1.0, 2.0],
            Some(Rate::Uniform),
            Basis::Bezier,
            &counts,
            &[],
        );
        assert_eq!(r, vec![1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0]);
        // Bezier, varying: a linear radius along each span.
        let r = vertex_radii(
            &[0.3, 0.6, 0.9, 1.2],
            Some(Rate::Varying),
            Basis::Bezier,
            &counts,
            &[],
        );
        let want = [0.3, 0.4, 0.5, 0.6, 0.9, 1.0, 1.1, 1.2];
        for (a, b) in r.iter().zip(want) {
            assert!((a - b).abs() < 1e-6, "{r:?}");
        }
        // B-spline, varying: the ends extrapolated.
        let r = vertex_radii(
            &[0.3, 0.6, 0.9, 1.2],
            Some(Rate::Varying),
            Basis::Bspline,
            &counts,
            &[],
        );
        let want = [0.0, 0.3, 0.6, 0.9, 0.6, 0.9, 1.2, 1.5];
        for (a, b) in r.iter().zip(want) {
            assert!((a - b).abs() < 1e-6, "{r:?}");
        }
    }

    #[test]
    fn counts_moonray_refuses_are_told() {
        assert!(check(Basis::Bezier, &[7], 7, 4).is_none());
        assert!(check(Basis::Bezier, &[6], 6, 4).is_some());
        assert!(check(Basis::Bspline, &[3], 3, 4).is_some());
        assert!(check(Basis::Linear, &[2, 2], 5, 4).is_some());
        assert!(check(Basis::Bspline, &[5], 5, 0).is_some());
        assert!(check(Basis::Linear, &[5], 5, 0).is_none());
    }
}
