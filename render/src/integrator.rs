//! The path tracer: next-event estimation with multiple importance sampling, MoonRay's depth
//! budgets and sample clamping, and the tile renderer that runs it over a rectangle of pixels
//! and a range of sample indices.

use crate::bsdf::{Bsdf, Frame, LobeKind, Material};
use crate::geometry::{Hit, Primitive, Ray};
use crate::sampler::Sampler;
use crate::scene::Scene;
use crate::shading::{resolve, Param, ShadePoint};
use glam::Vec3;
use rayon::prelude::*;
use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// A half-open rectangle of pixels, y down (the render crate's own; the wire protocol has its
/// own twin so that this crate knows nothing of messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PixelRect {
    pub x0: u32,
    pub y0: u32,
    pub x1: u32,
    pub y1: u32,
}

/// Un-normalised sums of the samples of a tile: RGBA sums and samples taken per pixel.
#[derive(Debug, Clone, PartialEq)]
pub struct TileSums {
    pub rect: PixelRect,
    pub sums: Vec<[f64; 4]>,
    pub weight: Vec<f32>,
    /// RGBA sums of the odd-numbered samples alone (sample index odd), for adaptive
    /// sampling's error estimate (see `shared::adaptive`).
    pub odd: Vec<[f64; 4]>,
    /// Rays traced (camera, bounce and shadow rays), for rays-per-second figures.
    pub rays: u64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("render cancelled")]
pub struct Cancelled;

/// Renders samples `samples` of every pixel in `rect`. Each sample is a pure function of
/// (scene, pixel, sample index, frame), so any partition of the sample range sums to the same
/// result up to float rounding. Parallel over rows; `cancel` is checked between rows.
pub fn render_tile(
    scene: &Scene,
    rect: PixelRect,
    samples: std::ops::Range<u32>,
    frame: i32,
    cancel: &AtomicBool,
) -> Result<TileSums, Cancelled> {
    render_tile_measured(scene, rect, samples, frame, cancel, || Duration::ZERO).map(|(t, _)| t)
}

/// [`render_tile`], also returning the CPU time the rows took, summed over the threads that
/// rendered them. `thread_cpu` reads the calling thread's CPU clock (the caller chooses how, so
/// that this crate stays free of system calls); it is read at the start and end of each row,
/// and nothing else runs on a thread between the two, so each row's time is its own.
pub fn render_tile_measured(
    scene: &Scene,
    rect: PixelRect,
    samples: std::ops::Range<u32>,
    frame: i32,
    cancel: &AtomicBool,
    thread_cpu: fn() -> Duration,
) -> Result<(TileSums, Duration), Cancelled> {
    let w = (rect.x1 - rect.x0) as usize;
    let h = (rect.y1 - rect.y0) as usize;
    let mut sums = vec![[0.0f64; 4]; w * h];
    let mut odd = vec![[0.0f64; 4]; w * h];
    let (rays, cpu) = render_tile_into(
        scene,
        rect,
        samples.clone(),
        frame,
        cancel,
        thread_cpu,
        &mut sums,
        &mut odd,
    )?;
    let weight = vec![samples.len() as f32; w * h];
    Ok((
        TileSums {
            rect,
            sums,
            weight,
            odd,
            rays,
        },
        cpu,
    ))
}

/// [`render_tile_measured`] into the caller's buffers (one entry per pixel of `rect`, row by
/// row), overwritten with the sums of all samples and of the odd-numbered ones, so that a
/// caller rendering a tile in several calls (the worker's sample waves) allocates once:
/// the rays traced and the rows' CPU time. On `Cancelled` the buffers hold some rows only.
#[allow(clippy::too_many_arguments)]
pub fn render_tile_into(
    scene: &Scene,
    rect: PixelRect,
    samples: std::ops::Range<u32>,
    frame: i32,
    cancel: &AtomicBool,
    thread_cpu: fn() -> Duration,
    sums: &mut [[f64; 4]],
    odd: &mut [[f64; 4]],
) -> Result<(u64, Duration), Cancelled> {
    let cpu_nanos = AtomicU64::new(0);
    let w = (rect.x1 - rect.x0) as usize;
    let h = (rect.y1 - rect.y0) as usize;
    assert!(
        sums.len() == w * h && odd.len() == w * h,
        "buffers of {} and {} pixels for a tile of {w}x{h}",
        sums.len(),
        odd.len()
    );
    sums.fill([0.0; 4]);
    odd.fill([0.0; 4]);
    let rays = AtomicU64::new(0);
    if w > 0 {
        sums.par_chunks_mut(w)
            .zip(odd.par_chunks_mut(w))
            .enumerate()
            .try_for_each(|(row, (out, odd_out))| {
                if cancel.load(Ordering::Relaxed) {
                    return Err(Cancelled);
                }
                let cpu_start = thread_cpu();
                let y = rect.y0 + row as u32;
                let mut row_rays = 0u64;
                for (col, (px, px_odd)) in out.iter_mut().zip(odd_out.iter_mut()).enumerate() {
                    let x = rect.x0 + col as u32;
                    for s in samples.clone() {
                        let (l, a) = sample_pixel_counted(scene, x, y, s, frame, &mut row_rays);
                        let v = [f64::from(l.x), f64::from(l.y), f64::from(l.z), f64::from(a)];
                        for (p, v) in px.iter_mut().zip(v) {
                            *p += v;
                        }
                        if s % 2 == 1 {
                            for (p, v) in px_odd.iter_mut().zip(v) {
                                *p += v;
                            }
                        }
                    }
                }
                rays.fetch_add(row_rays, Ordering::Relaxed);
                let spent = thread_cpu().saturating_sub(cpu_start);
                cpu_nanos.fetch_add(spent.as_nanos() as u64, Ordering::Relaxed);
                Ok(())
            })?;
    }
    let rays = rays.into_inner();
    tracing::debug!(
        rays,
        "rendered tile {}x{} at {},{}, samples {:?}",
        w,
        h,
        rect.x0,
        rect.y0,
        samples
    );
    Ok((rays, Duration::from_nanos(cpu_nanos.into_inner())))
}

/// Radiance and alpha of one camera sample.
pub fn sample_pixel(scene: &Scene, x: u32, y: u32, s: u32, frame: i32) -> (Vec3, f32) {
    sample_pixel_counted(scene, x, y, s, frame, &mut 0)
}

/// `sample_pixel`, adding the rays it traced to `rays`.
fn sample_pixel_counted(
    scene: &Scene,
    x: u32,
    y: u32,
    s: u32,
    frame: i32,
    rays: &mut u64,
) -> (Vec3, f32) {
    let mut sampler = Sampler::new(scene.settings.seed, x, y, s, frame);
    let f = scene.settings.filter;
    // The first 2D point places the sample in the pixel (all a box filter needs), so that the
    // sample positions are stratified jointly in x and y.
    let u = [
        sampler.uniform2(),
        sampler.uniform2(),
        sampler.uniform2(),
        sampler.uniform2(),
    ];
    let dx = f.offset([u[0].x, u[1].x, u[2].x, u[3].x]);
    let dy = f.offset([u[0].y, u[1].y, u[2].y, u[3].y]);
    let Some(ray) = scene.camera.ray(
        x as f32 + 0.5 + dx,
        y as f32 + 0.5 + dy,
        scene.width,
        scene.height,
    ) else {
        // A camera that casts no ray here (a BakeCamera off its geometry's uvs): empty.
        return (Vec3::ZERO, 0.0);
    };
    let (l, a) = radiance(scene, ray, &mut sampler, rays);
    // A NaN or infinite sample would poison the merged pixel forever: drop it.
    if l.is_finite() {
        (l, a)
    } else {
        (Vec3::ZERO, a)
    }
}

fn power_heuristic(a: f32, b: f32) -> f32 {
    let (a2, b2) = (a * a, b * b);
    if a2 + b2 > 0.0 {
        a2 / (a2 + b2)
    } else {
        0.0
    }
}

/// Offsets a ray origin off the surface along the geometric normal, on the side of `dir`.
fn spawn(p: Vec3, ng: Vec3, dir: Vec3) -> Vec3 {
    let eps = 1e-4 * p.abs().max_element().max(1.0);
    if ng.dot(dir) >= 0.0 {
        p + ng * eps
    } else {
        p - ng * eps
    }
}

/// The shading point of a hit, for the maps of its material.
fn shade_point<'s>(scene: &'s Scene, hit: &Hit, front: bool) -> ShadePoint<'s> {
    let prim = scene.bvh.prim(hit.prim);
    let attrs = match prim {
        Primitive::Triangle {
            corners: Some(c), ..
        } => &c.attrs[..],
        Primitive::Sphere(s) => &s.attrs[..],
        Primitive::Curve(c) => &c.attrs[..],
        _ => &[],
    };
    ShadePoint {
        p: hit.p,
        n: hit.ns,
        ng: hit.n,
        uv: prim.uv(hit),
        front,
        attrs,
        // A curve's attributes are kept as corners [start, end, end]: (u, 0).
        bary: match prim {
            Primitive::Curve(_) => glam::Vec2::new(hit.bary.x, 0.0),
            _ => hit.bary,
        },
        dpds: prim.dpds(hit),
        to_object: match prim {
            Primitive::Sphere(s) => Some(&s.to_object),
            _ => None,
        },
    }
}

/// Whether a hit of a ray along `d` falls where its material is cut out (MoonRay's presence
/// 0; see `scene::Cutout`). Free for materials that cannot be cut out.
fn cut_out(scene: &Scene, d: Vec3, hit: &Hit) -> bool {
    let Some(Some(c)) = scene.material_cutout.get(hit.material as usize) else {
        return false;
    };
    let opacity = match &c.opacity {
        Param::Const(v) => v.x,
        p => p.eval_f32(&scene.maps, &shade_point(scene, hit, hit.n.dot(-d) > 0.0)),
    };
    opacity < c.threshold
}

/// The step past a hit at distance `t` that a ray going on takes (as `spawn` offsets).
fn past(t: f32) -> f32 {
    t + 1e-4 * t.max(1.0)
}

/// The nearest hit along the ray that is not cut out, adding the rays traced to `rays`: past
/// a cut-out the ray goes on from the hit, as if the surface were not there, using no bounce.
fn intersect(scene: &Scene, ray: &Ray, rays: &mut u64) -> Option<Hit> {
    let mut hit = scene.bvh.intersect(ray);
    *rays += 1;
    let mut on = *ray;
    while let Some(h) = hit.filter(|h| cut_out(scene, ray.d, h)) {
        on.tmin = past(h.t);
        if on.tmin >= on.tmax {
            return None;
        }
        hit = scene.bvh.intersect(&on);
        *rays += 1;
    }
    hit
}

/// Whether geometry hides light `light` along a shadow ray, adding the rays traced to `rays`.
/// Geometry whose Layer entry has the light in its ShadowSet casts no shadow from it (MoonRay's
/// shadow linking): the ray goes on past such a hit.
fn occluded(scene: &Scene, mut ray: Ray, light: u32, rays: &mut u64) -> bool {
    *rays += 1;
    if !scene.has_shadow_sets() {
        if scene.has_cutouts {
            return scene.bvh.occluded_by(&ray, |h| !cut_out(scene, ray.d, h));
        }
        return scene.bvh.occluded(&ray);
    }
    loop {
        let Some(hit) = scene.bvh.intersect(&ray) else {
            return false;
        };
        let casts = scene
            .material_shadow_set
            .get(hit.material as usize)
            .and_then(|&s| scene.shadow_sets.get(s as usize))
            .is_none_or(|s| !s.contains(&light));
        if casts && !cut_out(scene, ray.d, &hit) {
            return true;
        }
        // Past the hit, by a step that grows with the distance (as `spawn` offsets).
        ray.tmin = past(hit.t);
        if ray.tmin >= ray.tmax {
            return false;
        }
        *rays += 1;
    }
}

fn radiance(scene: &Scene, mut ray: Ray, sampler: &mut Sampler, rays: &mut u64) -> (Vec3, f32) {
    let st = &scene.settings;
    let lights = &scene.lights;
    // The lights of the vertex the current ray left (its Layer entry's light set, as indices
    // into `lights`): all a BSDF ray can meet there, as in MoonRay, where a bounce intersects
    // only the active light set. None for a camera ray, which sees the visible lights of all.
    let mut from_set: Option<&[u32]> = None;
    let mut l = Vec3::ZERO;
    let mut alpha = 0.0;
    let mut beta = Vec3::ONE;
    // The density with which the current ray was sampled, for MIS against light sampling;
    // `prev_delta` when it came from a delta lobe (or the camera), where MIS does not apply.
    let mut prev_pdf = 0.0f32;
    let mut prev_delta = true;
    let mut terminal = false;
    let (mut n_diffuse, mut n_glossy, mut n_mirror) = (0u32, 0u32, 0u32);
    // Rebuilt in place at each vertex (see `Bsdf::empty`).
    let mut bsdf = Bsdf::empty();
    let clamp = |c: Vec3, depth: u32| -> Vec3 {
        let m = c.max_element();
        if st.sample_clamping_value > 0.0
            && depth >= st.sample_clamping_depth
            && m > st.sample_clamping_value
        {
            c * (st.sample_clamping_value / m)
        } else {
            c
        }
    };

    for depth in 0u32.. {
        let hit = intersect(scene, &ray, rays);
        let t_surface = hit.map_or(ray.tmax, |h| h.t);
        // The vertex depth the contribution of this ray belongs to: the vertex it left.
        let from = depth.saturating_sub(1);
        // A light this ray meets: seen directly from the camera, or weighted by MIS against
        // the light sample taken at the vertex the ray left.
        let mut meet = |light: &crate::light::Light, rad: Vec3, pdf: f32| {
            if depth == 0 {
                if light.visible_in_camera {
                    l += rad;
                    alpha = 1.0;
                }
            } else {
                let w = if prev_delta {
                    1.0
                } else {
                    let pick = from_set.map_or(0.0, |s| 1.0 / s.len() as f32);
                    power_heuristic(prev_pdf, pdf * pick)
                };
                l += clamp(beta * rad * w, from);
            }
        };
        // Lights are not in the BVH: test the few finite ones directly. As in MoonRay, they
        // occlude nothing: a ray counts every light it passes before the surface and goes on
        // behind them. A camera ray counts only the lights visible in camera, summed (MoonRay
        // moonray lib/rendering/pbr/integrator/PathIntegrator.cc, computeRadianceRecurse:
        // `intersectVisibleLight` up to the geometry, one of the `numHits` lights picked and
        // weighted by `numHits`, whose mean is this sum), and then goes on to the surface.
        let met = |i: usize| match from_set {
            None => lights[i].visible_in_camera,
            Some(s) => s.contains(&(i as u32)),
        };
        for (i, light) in lights.iter().enumerate() {
            if !met(i) || light.is_infinite() {
                continue;
            }
            if let Some((_, rad, pdf)) = light.intersect(&ray, t_surface) {
                meet(light, rad, pdf);
            }
        }
        // Shadow linking applies to the BSDF's half of the light sampling too: a bounce sees
        // the lights of its set beyond the surface it meets when nothing between casts a
        // shadow from them.
        if let (Some(set), Some(_), true) = (from_set, hit, scene.has_shadow_sets()) {
            for &i in set {
                let light = &lights[i as usize];
                let beyond = if light.is_infinite() {
                    light
                        .escaped(ray.d)
                        .map(|(rad, pdf)| (f32::INFINITY, rad, pdf))
                } else {
                    light
                        .intersect(&ray, f32::INFINITY)
                        .filter(|h| h.0 >= t_surface)
                };
                if let Some((t, rad, pdf)) = beyond {
                    let tmax = if t.is_finite() { t * (1.0 - 1e-4) } else { t };
                    if !occluded(scene, Ray::new(ray.o, ray.d, ray.tmin, tmax), i, rays) {
                        meet(light, rad, pdf);
                    }
                }
            }
        }
        let Some(hit) = hit else {
            for (i, light) in lights.iter().enumerate() {
                if !light.is_infinite() || (depth > 0 && !met(i)) {
                    continue;
                }
                if let Some((rad, pdf)) = light.escaped(ray.d) {
                    meet(light, rad, pdf);
                }
            }
            break;
        };
        if depth == 0 {
            alpha = 1.0;
        }
        let wo_world = -ray.d;
        let front = hit.n.dot(wo_world) > 0.0;
        let material = &scene.materials[hit.material as usize];
        // Only a material that depends on the shading point needs one.
        let mut ns = hit.ns;
        let material = if let Material::Shaded(_) = material {
            let sp = shade_point(scene, &hit, front);
            ns = crate::normal_map::shading_normal(material, &scene.maps, &sp);
            resolve(material, &scene.maps, &sp)
        } else {
            Cow::Borrowed(material)
        };
        let material = &*material;
        let emission = material.emission();
        if emission != Vec3::ZERO && front {
            l += clamp(beta * emission, from);
        }
        if terminal || depth > st.max_depth {
            break;
        }
        // Reflective materials shade the side the ray came from; dielectrics need the true
        // outward normal to tell entering from leaving.
        let n = match material {
            m if m.transmits() => ns,
            _ if front => ns,
            _ => -ns,
        };
        let frame = Frame::new(n);
        let wo = frame.to_local(wo_world);
        bsdf.set(material, wo.z);
        if material.is_hair() {
            // A curve's hair lies along its tangent; elsewhere, along the frame's first axis.
            if let crate::geometry::Primitive::Curve(c) = scene.bvh.prim(hit.prim) {
                let t = crate::curve::tangent(&c.cp, hit.bary.x);
                if let Some(t) = frame.to_local(t).try_normalize() {
                    bsdf.set_tangent(t, hit.bary.y);
                }
            }
        }
        if bsdf.is_black() {
            break;
        }

        // Next-event estimation: one light, chosen uniformly.
        // This hit's lights: its Layer entry's light set, found through its material id.
        let set: &[u32] = scene
            .material_light_set
            .get(hit.material as usize)
            .and_then(|&s| scene.light_sets.get(s as usize))
            .map_or(&[], |s| &s[..]);
        let light_pick = if set.is_empty() {
            0.0
        } else {
            1.0 / set.len() as f32
        };
        if bsdf.has_smooth_lobes() && !set.is_empty() {
            let pick = ((sampler.uniform() * set.len() as f32) as usize).min(set.len() - 1);
            let u = sampler.uniform2();
            if let Some(ls) = lights[set[pick] as usize].sample(hit.p, u) {
                if ls.pdf > 0.0 && ls.radiance != Vec3::ZERO {
                    let wi = frame.to_local(ls.wi);
                    let (f, bsdf_pdf) = bsdf.eval(wo, wi);
                    if f != Vec3::ZERO {
                        let o = spawn(hit.p, hit.n, ls.wi);
                        let tmax = if ls.dist.is_finite() {
                            ls.dist * (1.0 - 1e-4) - 1e-4
                        } else {
                            f32::INFINITY
                        };
                        let shadow = Ray::new(o, ls.wi, 0.0, tmax);
                        if !occluded(scene, shadow, set[pick], rays) {
                            let light_pdf = ls.pdf * light_pick;
                            let w = power_heuristic(light_pdf, bsdf_pdf);
                            l += clamp(beta * f * ls.radiance * (w / light_pdf), depth);
                        }
                    }
                }
            }
        } else {
            // Keep the stream aligned whether or not a light was sampled.
            sampler.uniform();
            sampler.uniform2();
        }

        let (u_lobe, u) = (sampler.uniform(), sampler.uniform2());
        let Some(bs) = bsdf.sample(wo, u_lobe, u) else {
            break;
        };
        let (count, limit) = match bs.kind {
            LobeKind::Diffuse => (&mut n_diffuse, st.max_diffuse_depth),
            LobeKind::Glossy => (&mut n_glossy, st.max_glossy_depth),
            LobeKind::Mirror => (&mut n_mirror, st.max_mirror_depth),
        };
        *count += 1;
        // Past a budget the sampled ray still looks for lights (completing MIS for this
        // vertex's light sample) but starts no further vertex.
        if *count > limit || depth + 1 > st.max_depth {
            terminal = true;
        }
        beta *= bs.weight;
        if beta == Vec3::ZERO {
            break;
        }
        if depth >= 3 && !terminal {
            let q = beta.max_element().min(0.95);
            if sampler.uniform() >= q {
                break;
            }
            beta /= q;
        }
        let wi_world = frame.to_world(bs.wi);
        ray = Ray::new(spawn(hit.p, hit.n, wi_world), wi_world, 0.0, f32::INFINITY);
        prev_pdf = bs.pdf;
        prev_delta = bs.delta;
        from_set = Some(set);
    }
    (l, alpha)
}
