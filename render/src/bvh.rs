//! A bounding volume hierarchy over the scene's primitives, built with the surface area
//! heuristic over binned centroids and flattened into an array for traversal.

use crate::geometry::{Aabb, Hit, Primitive, Ray};
use glam::{Vec3A, Vec4};

/// 32 bytes of bounds in SIMD lanes (glam's Vec3A), so that the slab test is a few vector
/// instructions, plus the links: 48 bytes, so a node never straddles more than one cache line
/// boundary.
#[derive(Debug, Clone)]
struct Node {
    min: Vec3A,
    max: Vec3A,
    /// Leaf: first primitive index; interior: index of the second child (the first child
    /// follows the node directly).
    offset: u32,
    /// Primitives in a leaf; 0 for an interior node.
    count: u32,
    /// Leaf: the first of its ceil(count / 4) triangle packets.
    packet: u32,
    /// Leaf: whether any of its primitives is not a triangle (tested one by one).
    has_others: bool,
    axis: u8,
}

/// Four triangles of a leaf in SIMD lanes (structure of arrays), intersected at once with
/// Moller-Trumbore; the arithmetic is the scalar test's, lane by lane, so both agree to the
/// bit. Lanes without a triangle have zero edges, which no ray hits.
#[derive(Debug, Clone)]
struct Tri4 {
    p0: [Vec4; 3],
    e1: [Vec4; 3],
    e2: [Vec4; 3],
}

impl Tri4 {
    fn new(prims: &[Primitive]) -> Tri4 {
        let mut t = Tri4 {
            p0: [Vec4::ZERO; 3],
            e1: [Vec4::ZERO; 3],
            e2: [Vec4::ZERO; 3],
        };
        for (lane, prim) in prims.iter().enumerate() {
            if let Primitive::Triangle { p0, e1, e2, .. } = prim {
                for k in 0..3 {
                    t.p0[k][lane] = p0[k];
                    t.e1[k][lane] = e1[k];
                    t.e2[k][lane] = e2[k];
                }
            }
        }
        t
    }

    /// Hit distances in (tmin, tmax) per lane, and the mask of lanes hit.
    #[inline]
    fn intersect(&self, o: [Vec4; 3], d: [Vec4; 3], tmin: f32, tmax: f32) -> (Vec4, u32) {
        let cross = |a: [Vec4; 3], b: [Vec4; 3]| {
            [
                a[1] * b[2] - a[2] * b[1],
                a[2] * b[0] - a[0] * b[2],
                a[0] * b[1] - a[1] * b[0],
            ]
        };
        let dot = |a: [Vec4; 3], b: [Vec4; 3]| a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
        let pvec = cross(d, self.e2);
        let det = dot(self.e1, pvec);
        let inv = Vec4::ONE / det;
        let tvec = [o[0] - self.p0[0], o[1] - self.p0[1], o[2] - self.p0[2]];
        let u = dot(tvec, pvec) * inv;
        let qvec = cross(tvec, self.e1);
        let v = dot(d, qvec) * inv;
        let t = dot(self.e2, qvec) * inv;
        let ok = det.abs().cmpge(Vec4::splat(1e-12))
            & u.cmpge(Vec4::ZERO)
            & u.cmple(Vec4::ONE)
            & v.cmpge(Vec4::ZERO)
            & (u + v).cmple(Vec4::ONE)
            & t.cmpgt(Vec4::splat(tmin))
            & t.cmplt(Vec4::splat(tmax));
        (t, ok.bitmask())
    }
}

#[derive(Debug, Default)]
pub struct Bvh {
    nodes: Vec<Node>,
    prims: Vec<Primitive>,
    packets: Vec<Tri4>,
}

const BINS: usize = 16;
const MAX_LEAF: usize = 4;

impl Bvh {
    pub fn build(mut prims: Vec<Primitive>) -> Bvh {
        if prims.is_empty() {
            return Bvh::default();
        }
        let mut info: Vec<(Aabb, glam::Vec3, usize)> = prims
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let b = p.bounds();
                (b, b.center(), i)
            })
            .collect();
        let mut nodes = Vec::with_capacity(2 * prims.len());
        build_rec(&mut info, &mut nodes);
        // Reorder primitives to the leaf order.
        let mut slots: Vec<Option<Primitive>> = prims.drain(..).map(Some).collect();
        let prims: Vec<Primitive> = info
            .iter()
            .map(|(_, _, i)| slots[*i].take().expect("each primitive once"))
            .collect();
        let mut packets = Vec::new();
        for n in nodes.iter_mut().filter(|n| n.count > 0) {
            let leaf = &prims[n.offset as usize..(n.offset + n.count) as usize];
            n.packet = packets.len() as u32;
            n.has_others = leaf
                .iter()
                .any(|p| !matches!(p, Primitive::Triangle { .. }));
            packets.extend(leaf.chunks(4).map(Tri4::new));
        }
        Bvh {
            nodes,
            prims,
            packets,
        }
    }

    pub fn len(&self) -> usize {
        self.prims.len()
    }

    pub fn is_empty(&self) -> bool {
        self.prims.is_empty()
    }

    pub fn bounds(&self) -> Aabb {
        self.nodes.first().map_or(Aabb::EMPTY, |n| Aabb {
            min: n.min.into(),
            max: n.max.into(),
        })
    }

    /// The nearest hit along the ray.
    pub fn intersect(&self, ray: &Ray) -> Option<Hit> {
        let mut best: Option<(f32, usize)> = None;
        self.traverse(ray, |t, i, tmax| {
            if t < *tmax {
                *tmax = t;
                best = Some((t, i));
            }
            false
        });
        best.map(|(t, i)| Hit {
            prim: i as u32,
            ..self.prims[i].hit(ray, t)
        })
    }

    /// A primitive by the index a [`Hit`] carries.
    pub fn prim(&self, i: u32) -> &Primitive {
        &self.prims[i as usize]
    }

    /// Whether anything blocks the ray before its tmax.
    pub fn occluded(&self, ray: &Ray) -> bool {
        let mut hit = false;
        self.traverse(ray, |_, _, _| {
            hit = true;
            true
        });
        hit
    }

    /// Whether a hit that `blocks` accepts stops the ray before its tmax: the any-hit query
    /// with a filter (cut-outs, shadow linking), which builds a [`Hit`] only for the hits it
    /// meets, in no particular order.
    pub fn occluded_by(&self, ray: &Ray, mut blocks: impl FnMut(&Hit) -> bool) -> bool {
        let mut hit = false;
        self.traverse(ray, |t, i, _| {
            let h = Hit {
                prim: i as u32,
                ..self.prims[i].hit(ray, t)
            };
            hit = blocks(&h);
            hit
        });
        hit
    }

    /// Visits primitive hits; `on_hit(t, prim, &mut tmax)` returns true to stop.
    #[inline]
    fn traverse(&self, ray: &Ray, mut on_hit: impl FnMut(f32, usize, &mut f32) -> bool) {
        if self.nodes.is_empty() {
            return;
        }
        let inv_d = Vec3A::from(ray.d).recip();
        let o = Vec3A::from(ray.o);
        let neg = [inv_d.x < 0.0, inv_d.y < 0.0, inv_d.z < 0.0];
        let o4 = [
            Vec4::splat(ray.o.x),
            Vec4::splat(ray.o.y),
            Vec4::splat(ray.o.z),
        ];
        let d4 = [
            Vec4::splat(ray.d.x),
            Vec4::splat(ray.d.y),
            Vec4::splat(ray.d.z),
        ];
        let mut tmax = ray.tmax;
        let mut stack = [0u32; 64];
        let mut sp = 0usize;
        let mut node = 0usize;
        loop {
            let n = &self.nodes[node];
            let t0 = (n.min - o) * inv_d;
            let t1 = (n.max - o) * inv_d;
            let near = t0.min(t1).max_element().max(ray.tmin);
            let far = t0.max(t1).min_element().min(tmax);
            if near <= far {
                if n.count > 0 {
                    let first = n.offset as usize;
                    for (k, packet) in self.packets[n.packet as usize..]
                        .iter()
                        .take((n.count as usize).div_ceil(4))
                        .enumerate()
                    {
                        let (t, mut mask) = packet.intersect(o4, d4, ray.tmin, tmax);
                        while mask != 0 {
                            let lane = mask.trailing_zeros() as usize;
                            mask &= mask - 1;
                            // A nearer hit in an earlier lane may have lowered tmax.
                            if t[lane] < tmax && on_hit(t[lane], first + 4 * k + lane, &mut tmax) {
                                return;
                            }
                        }
                    }
                    if n.has_others {
                        for i in first..first + n.count as usize {
                            if matches!(self.prims[i], Primitive::Triangle { .. }) {
                                continue;
                            }
                            if let Some(t) = self.prims[i].intersect_t(ray, tmax) {
                                if on_hit(t, i, &mut tmax) {
                                    return;
                                }
                            }
                        }
                    }
                } else {
                    // Visit the child nearer along the split axis first.
                    let (first, second) = if neg[n.axis as usize] {
                        (n.offset as usize, node + 1)
                    } else {
                        (node + 1, n.offset as usize)
                    };
                    stack[sp] = second as u32;
                    sp += 1;
                    node = first;
                    continue;
                }
            }
            if sp == 0 {
                return;
            }
            sp -= 1;
            node = stack[sp] as usize;
        }
    }
}

fn build_rec(items: &mut [(Aabb, glam::Vec3, usize)], nodes: &mut Vec<Node>) -> usize {
    build_at(items, nodes, 0)
}

fn build_at(items: &mut [(Aabb, glam::Vec3, usize)], nodes: &mut Vec<Node>, first: usize) -> usize {
    let bounds = items.iter().fold(Aabb::EMPTY, |b, it| b.union(&it.0));
    let me = nodes.len();
    nodes.push(Node {
        min: bounds.min.into(),
        max: bounds.max.into(),
        offset: first as u32,
        count: items.len() as u32,
        packet: 0,
        has_others: false,
        axis: 0,
    });
    if items.len() <= MAX_LEAF {
        return me;
    }
    let mut cb = Aabb::EMPTY;
    for it in items.iter() {
        cb.grow(it.1);
    }
    let extent = cb.max - cb.min;
    let axis = if extent.x >= extent.y && extent.x >= extent.z {
        0
    } else if extent.y >= extent.z {
        1
    } else {
        2
    };
    if extent[axis] <= 0.0 {
        return me; // all centroids coincide: no split separates them.
    }
    // Binned SAH: cost of splitting after each bin boundary.
    let bin_of = |c: glam::Vec3| {
        (((c[axis] - cb.min[axis]) / extent[axis] * BINS as f32) as usize).min(BINS - 1)
    };
    let mut bins = [(Aabb::EMPTY, 0usize); BINS];
    for it in items.iter() {
        let b = &mut bins[bin_of(it.1)];
        b.0 = b.0.union(&it.0);
        b.1 += 1;
    }
    let mut best = (f32::INFINITY, 0usize);
    for split in 1..BINS {
        let (mut lb, mut lc, mut rb, mut rc) = (Aabb::EMPTY, 0, Aabb::EMPTY, 0);
        for b in &bins[..split] {
            lb = lb.union(&b.0);
            lc += b.1;
        }
        for b in &bins[split..] {
            rb = rb.union(&b.0);
            rc += b.1;
        }
        if lc == 0 || rc == 0 {
            continue;
        }
        let cost = lb.area() * lc as f32 + rb.area() * rc as f32;
        if cost < best.0 {
            best = (cost, split);
        }
    }
    let leaf_cost = bounds.area() * items.len() as f32;
    let mid = if best.0.is_finite() && (best.0 < leaf_cost || items.len() > 16) {
        let mut m = 0;
        for i in 0..items.len() {
            if bin_of(items[i].1) < best.1 {
                items.swap(i, m);
                m += 1;
            }
        }
        m
    } else if items.len() > 16 {
        items.sort_by(|a, b| a.1[axis].total_cmp(&b.1[axis]));
        items.len() / 2
    } else {
        return me;
    };
    if mid == 0 || mid == items.len() {
        return me;
    }
    let (left, right) = items.split_at_mut(mid);
    build_at(left, nodes, first);
    let second = build_at(right, nodes, first + mid);
    nodes[me] = Node {
        min: bounds.min.into(),
        max: bounds.max.into(),
        offset: second as u32,
        count: 0,
        packet: 0,
        has_others: false,
        axis: axis as u8,
    };
    me
}

#[cfg(test)]
mod tests {
    use super::*;
    use glam::Vec3;

    #[test]
    fn bvh_finds_the_same_nearest_hit_as_brute_force() {
        let mut prims = Vec::new();
        let mut s = crate::sampler::Rng::new(1, 0, 0, 0, 0);
        for _ in 0..500 {
            let p0 = Vec3::new(s.uniform(), s.uniform(), s.uniform()) * 10.0 - 5.0;
            let e1 = Vec3::new(s.uniform(), s.uniform(), s.uniform()) - 0.5;
            let e2 = Vec3::new(s.uniform(), s.uniform(), s.uniform()) - 0.5;
            prims.push(Primitive::Triangle {
                p0,
                e1,
                e2,
                material: 0,
                corners: None,
            });
        }
        // Spheres share leaves with triangles: the packets skip them, the scalar loop tests them.
        for _ in 0..60 {
            let c = Vec3::new(s.uniform(), s.uniform(), s.uniform()) * 10.0 - 5.0;
            let xf = glam::Mat4::from_translation(c)
                * glam::Mat4::from_scale(Vec3::new(1.0, 0.5 + s.uniform(), 1.0));
            prims.push(Primitive::Sphere(Box::new(crate::geometry::Sphere::new(
                xf,
                0.2 + 0.3 * s.uniform(),
                0,
            ))));
        }
        let hits = agrees_with_brute_force(prims, &mut s, 2000);
        assert!(hits > 100);
    }

    /// Casts `rays` random rays through a BVH of `prims` and through every primitive in turn:
    /// the nearest hit and the occlusion answer agree. Returns how many rays hit something.
    fn agrees_with_brute_force(
        prims: Vec<Primitive>,
        s: &mut crate::sampler::Rng,
        rays: usize,
    ) -> usize {
        let brute = prims.clone();
        let bvh = Bvh::build(prims);
        let mut hits = 0;
        for _ in 0..rays {
            let o = Vec3::new(s.uniform(), s.uniform(), s.uniform()) * 12.0 - 6.0;
            let d = (Vec3::new(s.uniform(), s.uniform(), s.uniform()) - 0.5).normalize();
            let ray = Ray::new(o, d, 1e-4, f32::INFINITY);
            let expect = brute
                .iter()
                .filter_map(|p| p.intersect_t(&ray, f32::INFINITY))
                .fold(f32::INFINITY, f32::min);
            match bvh.intersect(&ray) {
                Some(h) => {
                    hits += 1;
                    assert!((h.t - expect).abs() < 1e-4, "{} {expect}", h.t);
                }
                None => assert!(expect.is_infinite(), "{expect}"),
            }
            assert_eq!(bvh.occluded(&ray), expect.is_finite());
        }
        hits
    }

    #[test]
    fn bvh_bounds_hold_every_curve_hit() {
        // Bent bezier spans of both shapes (bounds: control hull grown by the radius) among a
        // few triangles: the BVH finds what testing every primitive finds.
        use crate::curve::{Curve, CurveShape};
        let mut s = crate::sampler::Rng::new(2, 0, 0, 0, 0);
        let mut prims = Vec::new();
        for i in 0..300 {
            let start = Vec3::new(s.uniform(), s.uniform(), s.uniform()) * 10.0 - 5.0;
            let cp = [0.0, 1.0, 2.0, 3.0].map(|k| {
                let wiggle = Vec3::new(s.uniform(), s.uniform(), s.uniform()) - 0.5;
                (start + Vec3::splat(0.4 * k) + wiggle).extend(0.05 + 0.2 * s.uniform())
            });
            let shape = if i % 2 == 0 {
                CurveShape::Round
            } else {
                CurveShape::Flat
            };
            prims.push(Primitive::Curve(Box::new(Curve::new(
                cp,
                shape,
                i % 3 == 0,
                0,
                0.0,
                1.0,
                None,
            ))));
        }
        for _ in 0..50 {
            let p0 = Vec3::new(s.uniform(), s.uniform(), s.uniform()) * 10.0 - 5.0;
            prims.push(Primitive::Triangle {
                p0,
                e1: Vec3::new(s.uniform(), s.uniform(), s.uniform()) - 0.5,
                e2: Vec3::new(s.uniform(), s.uniform(), s.uniform()) - 0.5,
                material: 0,
                corners: None,
            });
        }
        let hits = agrees_with_brute_force(prims, &mut s, 3000);
        assert!(hits > 300, "{hits}");
    }
}
