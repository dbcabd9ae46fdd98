//! Known answers for normal mapping (moonray lib/rendering/shading/EvalAttribute.cc
//! `evalNormalImpl`): each expected normal is worked out by hand in the test.

use glam::Vec3;
use render::normal_map::{mapped_normal, NormalSpace};

const TOL: f32 = 1e-5;

fn close(a: Vec3, b: Vec3) {
    assert!((a - b).length() < TOL, "{a} is not {b}");
}

/// A tangent-space direction d encoded as MoonRay's [0, 1] texels: (d + 1) / 2.
fn encode(d: Vec3) -> Vec3 {
    (d + Vec3::ONE) * 0.5
}

#[test]
fn the_flat_texel_leaves_the_normal_unchanged() {
    let n = Vec3::new(0.3, -0.4, 0.5).normalize();
    let out = mapped_normal(
        n,
        Vec3::new(1.0, 2.0, 0.0),
        Vec3::new(0.5, 0.5, 1.0),
        1.0,
        NormalSpace::Tangent,
    );
    close(out, n);
}

#[test]
fn tangent_x_follows_dpds_and_z_follows_the_normal() {
    // n = +Z, dPds = +X: frame y = Z x X = +Y, x = Y x Z = +X. A texel tilted 45 degrees
    // toward the tangent is (1/sqrt2, 0, 1/sqrt2) in render space.
    let h = std::f32::consts::FRAC_1_SQRT_2;
    let v = encode(Vec3::new(h, 0.0, h));
    close(
        mapped_normal(Vec3::Z, Vec3::X, v, 1.0, NormalSpace::Tangent),
        Vec3::new(h, 0.0, h),
    );
    // A dPds not perpendicular to n gives the same frame (only its part across n counts).
    close(
        mapped_normal(
            Vec3::Z,
            Vec3::new(3.0, 0.0, 3.0),
            v,
            1.0,
            NormalSpace::Tangent,
        ),
        Vec3::new(h, 0.0, h),
    );
    // n = +Y, dPds = +Z: y = Y x Z = +X, x = X x Y = +Z; the texel's x axis lands on +Z and its
    // y axis on +X.
    close(
        mapped_normal(
            Vec3::Y,
            Vec3::Z,
            Vec3::new(1.0, 0.5, 0.5),
            1.0,
            NormalSpace::Tangent,
        ),
        Vec3::Z,
    );
    close(
        mapped_normal(
            Vec3::Y,
            Vec3::Z,
            Vec3::new(0.5, 1.0, 0.5),
            1.0,
            NormalSpace::Tangent,
        ),
        Vec3::X,
    );
}

#[test]
fn the_dial_blends_linearly_then_normalises() {
    // Render-space value +X on n = +Z: dial 0.5 gives normalize(Z + (X - Z) / 2) = (1, 0, 1)/sqrt2.
    let h = std::f32::consts::FRAC_1_SQRT_2;
    close(
        mapped_normal(Vec3::Z, Vec3::X, Vec3::X, 0.5, NormalSpace::Render),
        Vec3::new(h, 0.0, h),
    );
    // dial 0.25: normalize(0.25, 0, 0.75).
    close(
        mapped_normal(Vec3::Z, Vec3::X, Vec3::X, 0.25, NormalSpace::Render),
        Vec3::new(0.25, 0.0, 0.75).normalize(),
    );
    // The dial is saturated: 0 (and below) keeps n, above 1 acts as 1.
    close(
        mapped_normal(Vec3::Z, Vec3::X, Vec3::X, 0.0, NormalSpace::Render),
        Vec3::Z,
    );
    close(
        mapped_normal(Vec3::Z, Vec3::X, Vec3::X, -2.0, NormalSpace::Render),
        Vec3::Z,
    );
    close(
        mapped_normal(Vec3::Z, Vec3::X, Vec3::X, 3.0, NormalSpace::Render),
        Vec3::X,
    );
    // A render-space value is normalised.
    close(
        mapped_normal(
            Vec3::Z,
            Vec3::X,
            Vec3::new(0.0, 5.0, 0.0),
            1.0,
            NormalSpace::Render,
        ),
        Vec3::Y,
    );
}

#[test]
fn invalid_values_keep_the_shading_normal() {
    let n = Vec3::Z;
    // Below the tangent plane (re-centred z < 0), zero, NaN and infinite values.
    for v in [
        Vec3::new(0.5, 0.5, 0.2),
        Vec3::ZERO,
        Vec3::new(f32::NAN, 0.5, 1.0),
        Vec3::new(0.5, f32::INFINITY, 1.0),
    ] {
        close(mapped_normal(n, Vec3::X, v, 1.0, NormalSpace::Tangent), n);
    }
}
