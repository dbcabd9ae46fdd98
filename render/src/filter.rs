//! The pixel filter: where inside its pixel (and a little beyond) a camera sample lands.

/// MoonRay's pixel filters, importance-sampled: each sample lands at an offset drawn from the
/// filter, with weight one, so no sample crosses into another tile's accumulation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PixelFilter {
    Box(f32),
    CubicBSpline(f32),
    QuadraticBSpline(f32),
}

impl PixelFilter {
    /// An offset from the pixel centre for one axis, from uniform numbers.
    pub fn offset(&self, u: [f32; 4]) -> f32 {
        match *self {
            PixelFilter::Box(w) => (u[0] - 0.5) * w,
            // A cubic B-spline of support 4 is the sum of four unit boxes; scaled to width w.
            PixelFilter::CubicBSpline(w) => (u[0] + u[1] + u[2] + u[3] - 2.0) * (w / 4.0),
            PixelFilter::QuadraticBSpline(w) => (u[0] + u[1] + u[2] - 1.5) * (w / 3.0),
        }
    }
}
