//! Known-answer renders: scenes whose correct image is known in advance, rendered through the
//! loader, the scene builder and the integrator, compared within stated tolerances.

mod adaptive;
mod attributes;
mod cameras;
mod curves;
mod hair;
mod known_answers;
mod noise;
mod normal_maps;
mod primvars;
mod rats;
mod shading;
mod triplanar;
mod usd_preview;
