//! Polygon meshes (RdlMeshGeometry) as triangles with MoonRay's smooth normals, uvs from
//! `uv_list` and primitive attributes from `primitive_attributes` (UserData), and the triangle
//! (with its corner values) every faceted shape is made of.

use super::known::{known, GEOMETRY_COMMON};
use super::SceneBuilder;
use crate::attrs::{num, object_of, vec3_of, Attrs};
use crate::geometry::{Corners, MaterialId, Primitive};
use crate::graph::{ObjectId, Value};
use glam::{Mat4, Vec2, Vec3};

/// How many values a mesh attribute has per what (scene_rdl2 UserData `rate`'s enum: auto 0,
/// constant 1, part 2, uniform 3, vertex 4, varying 5, face varying 6).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Rate {
    Constant,
    Uniform,
    Vertex,
    FaceVarying,
}

/// The three corners of one triangle of a mesh: vertex indices, face-vertex indices and face.
struct TriIndex {
    v: [usize; 3],
    fv: [usize; 3],
    face: usize,
}

impl TriIndex {
    fn pick<T: Copy>(&self, rate: Rate, values: &[T]) -> [T; 3] {
        match rate {
            Rate::Constant => [values[0]; 3],
            Rate::Uniform => [values[self.face]; 3],
            Rate::Vertex => self.v.map(|i| values[i]),
            Rate::FaceVarying => self.fv.map(|i| values[i]),
        }
    }
}

/// The rate of `n` values on a mesh: as given, or (auto) from the count.
fn rate_of(rate: i64, n: usize, faces: usize, verts: usize, corners: usize) -> Option<Rate> {
    let r = match rate {
        1 => Rate::Constant,
        3 => Rate::Uniform,
        4 | 5 => Rate::Vertex,
        6 => Rate::FaceVarying,
        0 if n == 1 => Rate::Constant,
        0 if n == faces => Rate::Uniform,
        0 if n == verts => Rate::Vertex,
        0 if n == corners => Rate::FaceVarying,
        _ => return None,
    };
    let need = match r {
        Rate::Constant => 1,
        Rate::Uniform => faces,
        Rate::Vertex => verts,
        Rate::FaceVarying => corners,
    };
    (n >= need).then_some(r)
}

fn vec2_of(v: &Value) -> Option<Vec2> {
    match v {
        Value::Vec2(c) => Some(Vec2::new(c[0] as f32, c[1] as f32)),
        _ => None,
    }
}

impl SceneBuilder<'_> {
    pub(super) fn tri_with_corners(
        &mut self,
        p0: Vec3,
        p1: Vec3,
        p2: Vec3,
        material: MaterialId,
        corners: Option<Corners>,
    ) {
        let (e1, e2) = (p1 - p0, p2 - p0);
        if e1.cross(e2).length_squared() > 0.0 {
            self.prims.push(Primitive::Triangle {
                p0,
                e1,
                e2,
                material,
                corners: corners.map(Box::new),
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
        let uv_list: Vec<Vec2> = a.list("uv_list").iter().filter_map(vec2_of).collect();
        let user_data: Vec<ObjectId> = a
            .list("primitive_attributes")
            .iter()
            .filter_map(object_of)
            .collect();
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
        let mut tris: Vec<TriIndex> = Vec::with_capacity(indices.len());
        let mut at = 0;
        for (fi, &n) in counts.iter().enumerate() {
            if at + n > indices.len() {
                let need: usize = counts.iter().sum();
                self.fail(o, format!(
                    "RdlMeshGeometry `{}`: face_vertex_count adds up to {need} face vertices but vertices_by_index has {}; the two lists must agree",
                    o.name, indices.len()
                ));
                return;
            }
            let face = &indices[at..at + n];
            let first = at;
            at += n;
            if n < 3 {
                self.fail(o, format!(
                    "RdlMeshGeometry `{}`: face {fi} has {n} vertices (face_vertex_count); a face needs at least 3",
                    o.name
                ));
                return;
            }
            if let Some(&i) = face.iter().find(|&&i| i >= world.len()) {
                self.fail(o, format!(
                    "RdlMeshGeometry `{}`: face {fi} uses vertex {i} (vertices_by_index) but vertex_list_0 has {} vertices",
                    o.name, world.len()
                ));
                return;
            }
            for k in 1..n - 1 {
                tris.push(TriIndex {
                    v: [face[0], face[k], face[k + 1]],
                    fv: [first, first + k, first + k + 1],
                    face: fi,
                });
            }
        }
        if at != indices.len() {
            self.fail(o, format!(
                "RdlMeshGeometry `{}`: face_vertex_count adds up to {at} face vertices but vertices_by_index has {}; the two lists must agree",
                o.name, indices.len()
            ));
            return;
        }
        // MoonRay's smooth_normal: without given normals, shade with vertex normals made from
        // the faces around each vertex, each weighted by its angle at the vertex (so that how
        // a polygon is cut into triangles does not matter).
        let vertex_normals = smooth_normal.then(|| {
            let mut vn = vec![Vec3::ZERO; world.len()];
            for t in &tris {
                let t = t.v;
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
        let (faces, corners) = (counts.len(), at);
        let uv_rate = if uv_list.is_empty() {
            None
        } else {
            let r = rate_of(0, uv_list.len(), faces, world.len(), corners);
            if r.is_none() {
                self.warnings.push(format!(
                    "{}: RdlMeshGeometry `{}`: uv_list has {} uvs, not one per vertex ({}) or per face vertex ({corners}); ignored",
                    o.loc, o.name, uv_list.len(), world.len()
                ));
            }
            r
        };
        let mut attrs = self.user_data(&user_data, faces, world.len(), corners, &o.name);
        if let Some(id) = self.object_p() {
            attrs.push((id, Rate::Vertex, verts.clone()));
        }
        // Uvs and attributes cost memory and time at every hit: keep them only for a
        // material that reads them (and the uvs of the mesh a BakeCamera bakes).
        let (uv_rate, attrs) = if self.material_reads_hits(mid) {
            (uv_rate, attrs)
        } else if self.bake_geometry == Some(id) {
            (uv_rate, Vec::new())
        } else {
            (None, Vec::new())
        };
        for ti in tris {
            let t = ti.v;
            let normals = vertex_normals.as_ref().and_then(|vn| {
                let ns = [vn[t[0]], vn[t[1]], vn[t[2]]];
                let face_n = (world[t[1]] - world[t[0]])
                    .cross(world[t[2]] - world[t[0]])
                    .normalize_or_zero();
                // A flat neighbourhood needs no interpolation: keep the triangle small and fast.
                (ns.iter().any(|n| n.dot(face_n) < 1.0 - 1e-6)).then_some(ns)
            });
            let c = Corners {
                normals,
                uv: uv_rate.map(|r| ti.pick(r, &uv_list)),
                attrs: attrs
                    .iter()
                    .map(|(id, rate, values)| (*id, ti.pick(*rate, values)))
                    .collect(),
            };
            let c = (c != Corners::default()).then_some(c);
            self.tri_with_corners(world[t[0]], world[t[1]], world[t[2]], mid, c);
        }
    }

    /// The primitive attributes of a mesh's UserData objects: colour, float, int, Vec2f and
    /// Vec3f values (frame 0) as colours, each with its rate. Values whose count fits no rate
    /// warn.
    fn user_data(
        &mut self,
        ids: &[ObjectId],
        faces: usize,
        verts: usize,
        corners: usize,
        mesh: &str,
    ) -> Vec<(u32, Rate, Vec<Vec3>)> {
        let mut out = Vec::new();
        for u in self.user_data_values(ids, "RdlMeshGeometry", mesh) {
            let (o, name, values, v) = (u.object, u.name, u.values, u.v);
            match rate_of(u.rate, v.len(), faces, verts, corners) {
                Some(r) => {
                    let id = self.attribute_id(&name);
                    out.push((id, r, v));
                }
                None => self.warnings.push(format!(
                    "{}: UserData `{}`: {values} has {} values, which fit no rate of RdlMeshGeometry `{mesh}` (1, {faces} faces, {verts} vertices or {corners} face vertices); ignored",
                    o.loc, o.name, v.len()
                )),
            }
        }
        out
    }
}

/// One key's values of a UserData object (see `SceneBuilder::user_data_values`).
pub(super) struct UserValues<'g> {
    pub object: &'g crate::graph::Object,
    pub name: String,
    /// scene_rdl2 UserData's `rate` enum (auto 0, constant 1, part 2, uniform 3, vertex 4,
    /// varying 5, face varying 6).
    pub rate: i64,
    /// The name of the values' attribute, for messages.
    pub values: &'static str,
    pub v: Vec<Vec3>,
}

impl<'g> SceneBuilder<'g> {
    /// The values of UserData objects `ids` held by geometry `owner` of class `class`: for
    /// each key set with values (frame 0), the object, the key, the `rate` (scene_rdl2
    /// UserData's enum), the values' attribute name and the values as colours (a float or
    /// int in all three, a Vec2f with z = 0). Objects that are not UserData warn.
    pub(super) fn user_data_values(
        &mut self,
        ids: &[ObjectId],
        class: &str,
        owner: &str,
    ) -> Vec<UserValues<'g>> {
        let g = self.g;
        let mut out = Vec::new();
        for &id in ids {
            let o = g.object(id);
            if o.class != "UserData" {
                self.warnings.push(format!(
                    "{}: {class} `{owner}`: primitive_attributes holds {} `{}`, not UserData; ignored",
                    o.loc, o.class, o.name
                ));
                continue;
            }
            let mut a = Attrs::new(g, o, &mut self.warnings);
            let rate = a.int("rate", 0);
            for (key, values) in [
                ("color_key", "color_values_0"),
                ("float_key", "float_values_0"),
                ("int_key", "int_values"),
                ("vec3f_key", "vec3f_values_0"),
                ("vec2f_key", "vec2f_values_0"),
            ] {
                let Some(name) = a.string(key).filter(|k| !k.is_empty()) else {
                    continue;
                };
                let v: Vec<Vec3> = a
                    .list(values)
                    .iter()
                    .filter_map(|v| {
                        vec3_of(v)
                            .or_else(|| num(v).map(|x| Vec3::splat(x as f32)))
                            .or_else(|| vec2_of(v).map(|x| x.extend(0.0)))
                    })
                    .collect();
                // No values: geometry without the attribute (AttributeMap's default).
                if !v.is_empty() {
                    out.push(UserValues {
                        object: o,
                        name,
                        rate,
                        values,
                        v,
                    });
                }
            }
        }
        out
    }
}
