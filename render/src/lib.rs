//! RDLA scene loading and Moonfarm's built-in CPU path tracer.
//!
//! `rdla` runs the scene files in a sandboxed Lua and yields a `graph::SceneGraph`; `scene`
//! gives it MoonRay's meaning; `integrator::render_tile` renders a rectangle of pixels over a
//! range of sample indices. This crate does no I/O beyond what it is handed and knows nothing
//! of queues, blobs or files on disk.

pub mod attrs;
pub mod bsdf;
pub mod bvh;
pub mod camera;
pub mod geometry;
pub mod graph;
pub mod integrator;
pub mod light;
pub mod sampler;
pub mod scene;
