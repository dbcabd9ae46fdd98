//! Shapes: spheres, boxes, instancers and points turned into primitives in world space
//! (meshes are in `mesh`, curves in `curves`).

use super::known::{known, GEOMETRY_COMMON};
use super::SceneBuilder;
use crate::attrs::{mat4_from_rdla, num, object_of, vec3_of, Attrs};
use crate::geometry::{Primitive, Sphere};
use crate::graph::{ObjectId, Value};
use glam::{Mat4, Quat, Vec3};
use std::collections::HashMap;

/// The most spheres one point object may have.
const MAX_POINT_SPHERES: usize = 200_000;

/// The most primitives a scene may expand to. Instancers multiply (three nested levels of
/// 10^4 instances are 10^12 spheres): past this the scene is refused instead of filling the
/// memory (a primitive and its share of the BVH take about 100 bytes: 20 million are 2 GB).
pub const MAX_PRIMITIVES: usize = 20_000_000;

/// The deepest instancers may nest: deeper is a cycle, which would never end.
const MAX_INSTANCE_DEPTH: usize = 32;

impl SceneBuilder<'_> {
    /// Adds the primitives of one geometry object under `parent` (an instance transform).
    pub(super) fn geometry(
        &mut self,
        id: ObjectId,
        mat: Option<ObjectId>,
        parent: Mat4,
        own: &HashMap<ObjectId, Option<ObjectId>>,
    ) {
        let g = self.g;
        let o = g.object(id);
        let mut a = Attrs::new(g, o, &mut self.warnings);
        let xf = parent * a.mat4("node_xform");
        match o.class.as_str() {
            "SphereGeometry" => {
                let radius = a.f32("radius", 1.0);
                a.warn_unknown(&known(
                    GEOMETRY_COMMON,
                    &["radius", "zmin", "zmax", "phi_max"],
                ));
                let mid = self.material(mat);
                self.prims
                    .push(Primitive::Sphere(Box::new(Sphere::new(xf, radius, mid))));
            }
            "BoxGeometry" => {
                let size = a.vec3("size", Vec3::ONE);
                a.warn_unknown(&known(
                    GEOMETRY_COMMON,
                    &["size", "length", "width", "height"],
                ));
                let h = size * 0.5;
                let c = |x: f32, y: f32, z: f32| {
                    xf.transform_point3(Vec3::new(x * h.x, y * h.y, z * h.z))
                };
                let v = [
                    c(-1., -1., -1.),
                    c(1., -1., -1.),
                    c(1., 1., -1.),
                    c(-1., 1., -1.),
                    c(-1., -1., 1.),
                    c(1., -1., 1.),
                    c(1., 1., 1.),
                    c(-1., 1., 1.),
                ];
                // Each face with the two local axes its uv runs along, as moonray's
                // geom/prim/Box.cc: x faces (y, z), y faces (x, z), z faces (x, y), each from
                // the box's min corner (0) to its max corner (1).
                let faces = [
                    ([0, 3, 2, 1], (0, 1)),
                    ([4, 5, 6, 7], (0, 1)),
                    ([0, 1, 5, 4], (0, 2)),
                    ([2, 3, 7, 6], (0, 2)),
                    ([1, 2, 6, 5], (1, 2)),
                    ([0, 4, 7, 3], (1, 2)),
                ];
                let local = |i: usize| {
                    Vec3::new(
                        if i & 1 == (i >> 1) & 1 { 0.0 } else { 1.0 },
                        if i & 2 == 0 { 0.0 } else { 1.0 },
                        if i & 4 == 0 { 0.0 } else { 1.0 },
                    )
                };
                let mid = self.material(mat);
                let with_uv = self.material_reads_hits(mid);
                let object_p = self.object_p();
                let inv = xf.inverse();
                for (f, (ua, va)) in faces {
                    let uv = |i: usize| {
                        let l = local(i);
                        glam::Vec2::new(l[ua], l[va])
                    };
                    for (a, b, c) in [(f[0], f[1], f[2]), (f[0], f[2], f[3])] {
                        let corners = with_uv.then(|| crate::geometry::Corners {
                            uv: Some([uv(a), uv(b), uv(c)]),
                            attrs: object_p
                                .map(|id| (id, [a, b, c].map(|i| inv.transform_point3(v[i]))))
                                .into_iter()
                                .collect(),
                            ..Default::default()
                        });
                        self.tri_with_corners(v[a], v[b], v[c], mid, corners);
                    }
                }
            }
            "RdlMeshGeometry" => self.mesh(id, mat, xf),
            "RdlPointGeometry" => self.points(id, mat, xf),
            "RdlCurveGeometry" => self.curves(id, mat, xf),
            "RdlInstancerGeometry" => {
                let refs: Vec<ObjectId> =
                    a.list("references").iter().filter_map(object_of).collect();
                let indices: Vec<usize> = a.indices("ref_indices");
                let xforms: Vec<Mat4> = a
                    .list("xform_list")
                    .iter()
                    .filter_map(|v| {
                        if let Value::Mat4(m) = v {
                            Some(mat4_from_rdla(m))
                        } else {
                            None
                        }
                    })
                    .collect();
                let positions: Vec<Vec3> = a.list("positions").iter().filter_map(vec3_of).collect();
                let scales: Vec<Vec3> = a.list("scales").iter().filter_map(vec3_of).collect();
                let orientations: Vec<Quat> = a
                    .list("orientations")
                    .iter()
                    .filter_map(|v| match v {
                        Value::Vec4(q) => Some(
                            Quat::from_xyzw(q[0] as f32, q[1] as f32, q[2] as f32, q[3] as f32)
                                .normalize(),
                        ),
                        _ => None,
                    })
                    .collect();
                a.warn_unknown(&known(
                    GEOMETRY_COMMON,
                    &[
                        "references",
                        "ref_indices",
                        "xform_list",
                        "positions",
                        "scales",
                        "orientations",
                        "velocities",
                        "method",
                        "use_reference_xforms",
                        "use_reference_attributes",
                        "disable_indices",
                        "instance_level",
                    ],
                ));
                let count = if !xforms.is_empty() {
                    xforms.len()
                } else {
                    positions.len()
                };
                if refs.is_empty() || count == 0 {
                    self.warnings.push(format!(
                        "{}: RdlInstancerGeometry `{}` has no references or no instances; skipped",
                        o.loc, o.name
                    ));
                    return;
                }
                if self.instance_depth >= MAX_INSTANCE_DEPTH {
                    let message = format!(
                        "RdlInstancerGeometry `{}`: instancers nest more than {MAX_INSTANCE_DEPTH} deep (one that references itself?)",
                        o.name
                    );
                    self.fail(o, message);
                    return;
                }
                self.instance_depth += 1;
                for i in 0..count {
                    if self.error.is_some() {
                        return;
                    }
                    if self.prims.len() > MAX_PRIMITIVES {
                        let message = format!(
                            "RdlInstancerGeometry `{}`: the scene expands to more than {MAX_PRIMITIVES} primitives (nested instancers multiply their counts); instance fewer, or nest less",
                            o.name
                        );
                        self.fail(o, message);
                        return;
                    }
                    let r = refs[indices.get(i).copied().unwrap_or(0).min(refs.len() - 1)];
                    let inst = if !xforms.is_empty() {
                        xforms[i]
                    } else {
                        Mat4::from_scale_rotation_translation(
                            scales.get(i).copied().unwrap_or(Vec3::ONE),
                            orientations.get(i).copied().unwrap_or(Quat::IDENTITY),
                            positions[i],
                        )
                    };
                    // An instance takes the instancer's material, else its reference's own.
                    let m = mat.or_else(|| own.get(&r).copied().flatten());
                    self.geometry(r, m, xf * inst, own);
                }
                self.instance_depth -= 1;
            }
            other => {
                // Already warned once as an unsupported class.
                tracing::debug!("skipping {other} `{}`", o.name);
            }
        }
    }

    /// Points are spheres, as in MoonRay.
    fn points(&mut self, id: ObjectId, mat: Option<ObjectId>, xf: Mat4) {
        let g = self.g;
        let o = g.object(id);
        let mut a = Attrs::new(g, o, &mut self.warnings);
        let list = if a.list("vertex_list_0").is_empty() {
            a.list("vertex_list")
        } else {
            a.list("vertex_list_0")
        };
        let verts: Vec<Vec3> = list.iter().filter_map(vec3_of).collect();
        let radii: Vec<f32> = a
            .list("radius_list")
            .iter()
            .filter_map(|v| num(v).map(|r| r as f32))
            .collect();
        let radius = |i: usize| {
            radii
                .get(i)
                .or(radii.first())
                .copied()
                .unwrap_or(0.1)
                .max(1e-6)
        };
        let user_data: Vec<ObjectId> = a
            .list("primitive_attributes")
            .iter()
            .filter_map(object_of)
            .collect();
        let mid = self.material(mat);
        // Primitive attributes (scene_rdl2 UserData rates): constant (one value, or rate 1)
        // or one per point (vertex, varying, uniform: a point is its own face and span).
        let mut attrs: Vec<(u32, Option<Vec<Vec3>>, Vec3)> = Vec::new();
        if self.material_reads_hits(mid) {
            for u in self.user_data_values(&user_data, &o.class, &o.name) {
                let n = u.v.len();
                let per_point = match u.rate {
                    1 => false,
                    0 if n == 1 => false,
                    _ if n >= verts.len() => true,
                    _ => {
                        self.warnings.push(format!(
                            "{}: UserData `{}`: {} has {n} values, which fit no rate of {} `{}` (1 or {} points); ignored",
                            u.object.loc, u.object.name, u.values, o.class, o.name, verts.len()
                        ));
                        continue;
                    }
                };
                let id = self.attribute_id(&u.name);
                attrs.push((id, per_point.then(|| u.v.clone()), u.v[0]));
            }
        }
        let mut spheres: Vec<(Vec3, f32)> = verts
            .iter()
            .enumerate()
            .map(|(i, v)| (*v, radius(i)))
            .collect();
        if spheres.len() > MAX_POINT_SPHERES {
            self.warnings.push(format!(
                "{}: {} `{}` needs {} spheres; only the first {MAX_POINT_SPHERES} are rendered",
                o.loc,
                o.class,
                o.name,
                spheres.len()
            ));
            spheres.truncate(MAX_POINT_SPHERES);
        }
        for (i, (c, r)) in spheres.into_iter().enumerate() {
            let mut sphere = Sphere::new(xf * Mat4::from_translation(c), r, mid);
            sphere.attrs = attrs
                .iter()
                .map(|(id, each, first)| {
                    let v = each.as_ref().map_or(*first, |v| v[i]);
                    (*id, [v; 3])
                })
                .collect();
            self.prims.push(Primitive::Sphere(Box::new(sphere)));
        }
    }
}
