//! Polygon meshes (RdlMeshGeometry) as triangles with MoonRay's smooth normals, and the
//! triangle every faceted shape is made of.

use super::known::{known, GEOMETRY_COMMON};
use super::SceneBuilder;
use crate::attrs::{num, vec3_of, Attrs};
use crate::geometry::{MaterialId, Primitive};
use crate::graph::ObjectId;
use glam::{Mat4, Vec3};

impl SceneBuilder<'_> {
    pub(super) fn tri(&mut self, p0: Vec3, p1: Vec3, p2: Vec3, material: MaterialId) {
        self.tri_with_normals(p0, p1, p2, material, None);
    }

    fn tri_with_normals(
        &mut self,
        p0: Vec3,
        p1: Vec3,
        p2: Vec3,
        material: MaterialId,
        normals: Option<[Vec3; 3]>,
    ) {
        let (e1, e2) = (p1 - p0, p2 - p0);
        if e1.cross(e2).length_squared() > 0.0 {
            self.prims.push(Primitive::Triangle {
                p0,
                e1,
                e2,
                material,
                normals: normals.map(Box::new),
            });
        }
    }

    pub(super) fn mesh(&mut self, id: ObjectId, mat: Option<ObjectId>, xf: Mat4) {
        let g = self.g;
        let o = g.object(id);
        let mut a = Attrs::new(g, o, &mut self.warnings);
        let mut verts: Vec<Vec3> = Vec::new();
        for name in ["vertex_list_0", "vertex_list"] {
            let list = a.list(name);
            if list.is_empty() {
                continue;
            }
            verts = if list.iter().all(|v| vec3_of(v).is_some()) {
                list.iter().filter_map(vec3_of).collect()
            } else {
                let f: Vec<f32> = list
                    .iter()
                    .filter_map(|v| num(v).map(|x| x as f32))
                    .collect();
                f.chunks_exact(3)
                    .map(|c| Vec3::new(c[0], c[1], c[2]))
                    .collect()
            };
            break;
        }
        let indices: Vec<usize> = a.indices("vertices_by_index");
        let mut counts: Vec<usize> = a.indices("face_vertex_count");
        let is_subd = a.bool("is_subd", true);
        let smooth_normal = a.bool("smooth_normal", true);
        a.warn_unknown(&known(
            GEOMETRY_COMMON,
            &[
                "vertex_list_0",
                "vertex_list_1",
                "vertex_list",
                "vertices_by_index",
                "face_vertex_count",
                "is_subd",
                "subd_scheme",
                "subd_boundary",
                "subd_fvar_linear",
                "subd_crease_indices",
                "subd_crease_sharpnesses",
                "subd_corner_indices",
                "subd_corner_sharpnesses",
                "subd_resolution",
                "part_list",
                "part_face_count_list",
                "part_face_indices",
                "normal_list",
                "uv_list",
                "smooth_normal",
                "orientation",
                "velocity_list",
                "tessellation_rate",
                "normal_list_1",
                "uv_list_0",
            ],
        ));
        if is_subd {
            self.warnings.push(format!("{}: RdlMeshGeometry `{}` is a subdivision surface: the built-in renderer renders its control mesh", o.loc, o.name));
        }
        if counts.is_empty() {
            // MoonRay needs face_vertex_count; real files that omit it are triangle lists.
            counts = vec![3; indices.len() / 3];
        }
        let mid = self.material(mat);
        let world: Vec<Vec3> = verts.iter().map(|v| xf.transform_point3(*v)).collect();
        // The triangles of a fan triangulation: exact for the convex polygons meshes are made of.
        let mut tris: Vec<[usize; 3]> = Vec::with_capacity(indices.len());
        let mut at = 0;
        let mut bad = 0usize;
        for &n in &counts {
            if at + n > indices.len() {
                bad += 1;
                break;
            }
            let face = &indices[at..at + n];
            at += n;
            if face.iter().any(|&i| i >= world.len()) || n < 3 {
                bad += 1;
                continue;
            }
            for k in 1..n - 1 {
                tris.push([face[0], face[k], face[k + 1]]);
            }
        }
        // MoonRay's smooth_normal: without given normals, shade with vertex normals made from
        // the faces around each vertex, each weighted by its angle at the vertex (so that how
        // a polygon is cut into triangles does not matter).
        let vertex_normals = smooth_normal.then(|| {
            let mut vn = vec![Vec3::ZERO; world.len()];
            for t in &tris {
                let p = [world[t[0]], world[t[1]], world[t[2]]];
                let face_n = (p[1] - p[0]).cross(p[2] - p[0]).normalize_or_zero();
                for k in 0..3 {
                    let d0 = (p[(k + 1) % 3] - p[k]).normalize_or_zero();
                    let d1 = (p[(k + 2) % 3] - p[k]).normalize_or_zero();
                    vn[t[k]] += face_n * d0.dot(d1).clamp(-1.0, 1.0).acos();
                }
            }
            vn.iter()
                .map(|n| n.normalize_or_zero())
                .collect::<Vec<Vec3>>()
        });
        for t in tris {
            let normals = vertex_normals.as_ref().and_then(|vn| {
                let ns = [vn[t[0]], vn[t[1]], vn[t[2]]];
                let face_n = (world[t[1]] - world[t[0]])
                    .cross(world[t[2]] - world[t[0]])
                    .normalize_or_zero();
                // A flat neighbourhood needs no interpolation: keep the triangle small and fast.
                (ns.iter().any(|n| n.dot(face_n) < 1.0 - 1e-6)).then_some(ns)
            });
            self.tri_with_normals(world[t[0]], world[t[1]], world[t[2]], mid, normals);
        }
        if bad > 0 {
            self.warnings.push(format!(
                "{}: RdlMeshGeometry `{}`: {bad} faces index vertices that do not exist; skipped",
                o.loc, o.name
            ));
        }
    }
}
