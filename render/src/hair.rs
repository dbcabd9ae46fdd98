//! MoonRay's HairMaterial lobes: the R, TT and TRT terms of its energy-conserving hair model
//! (d'Eon et al. 2011's longitudinal function, Chiang et al. 2016's absorption from colour
//! and trimmed-logistic transmission), evaluated about the hair's tangent.
//!
//! Formulas and constants from moonray `lib/rendering/shading/bsdf/hair/` (`BsdfHair.cc`,
//! `BsdfHairLobes.cc`, `HairState.cc`, `HairUtil.h`); parameter derivation from moonshine
//! `lib/material/dwabase/DwaBase.cc` (`resolveHairParams`).

use crate::fresnel::fresnel_dielectric;
use glam::Vec3;
use std::f32::consts::PI;

/// One lobe's longitudinal shape: its variance and its shift (radians).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Longitudinal {
    pub variance: f32,
    pub shift: f32,
}

/// A HairMaterial's resolved parameters (each lobe off when its tint is black).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hair {
    pub ior: f32,
    /// Absorption coefficients from `hair_color`.
    pub sigma_a: Vec3,
    pub r: Longitudinal,
    pub tt: Longitudinal,
    pub trt: Longitudinal,
    pub r_tint: Vec3,
    pub tt_tint: Vec3,
    pub trt_tint: Vec3,
    /// The TT lobe's trimmed-logistic scale (`azimuthalVar`).
    pub tt_azimuthal: f32,
    /// Fresnel type "dielectric cylinder" (at cos theta_d cos gamma_o), else "simple
    /// longitudinal" (at cos theta_d).
    pub cylinder: bool,
}

/// moonray HairUtil::longitudinalVar: roughness to the longitudinal variance.
pub fn longitudinal_var(r: f32) -> f32 {
    let v = 0.726 * r + 0.812 * r * r + 3.7 * r.powi(20);
    v * v
}

/// moonray HairUtil::azimuthalVar: roughness to the logistic scale (at least 0.05).
pub fn azimuthal_var(r: f32) -> f32 {
    (0.626_657_07 * (0.265 * r + 1.194 * r * r + 5.372 * r.powi(22))).max(0.05)
}

/// moonray HairUtil::computeAbsorptionCoefficients (Chiang et al. 2016, section 4.2):
/// sigma_a = (ln(colour) / d(azimuthal roughness))^2.
pub fn absorption_from_color(color: Vec3, azimuthal_roughness: f32) -> Vec3 {
    let b = azimuthal_roughness;
    let d = 5.969 - 0.215 * b + 2.532 * b * b - 10.73 * b.powi(3)
        + 5.574 * b.powi(4)
        + 0.245 * b.powi(5);
    color
        .max(Vec3::splat(1e-6))
        .to_array()
        .map(|c| (c.ln() / d).powi(2))
        .into()
}

/// moonray HairUtil::besselIO: the series of I0 to ten terms.
fn bessel_i0(x: f32) -> f32 {
    let (mut sum, mut x2i, mut fact, mut four) = (0.0f32, 1.0f32, 1.0f32, 1.0f32);
    for i in 0..10 {
        if i > 1 {
            fact *= i as f32;
        }
        sum += x2i / four / fact / fact;
        x2i *= x * x;
        four *= 4.0;
    }
    sum
}

fn log_bessel_i0(x: f32) -> f32 {
    if x > 12.0 {
        let inv = 1.0 / x;
        x + 0.5 * (-(2.0 * PI).ln() + (inv + 0.125 * inv).ln())
    } else {
        bessel_i0(x).ln()
    }
}

/// moonray HairUtil::deonLongitudinalM: d'Eon et al.'s longitudinal function, normalised so
/// that its integral over theta_i with cos(theta_i) is one.
pub fn deon_m(v: f32, sin_i: f32, cos_i: f32, sin_o: f32, cos_o: f32) -> f32 {
    if v < 1e-6 {
        return 0.0;
    }
    let inv = 1.0 / v;
    let b = sin_i * sin_o * inv;
    let x = cos_i * cos_o * inv;
    if v <= 0.1 {
        // MoonRay writes ln 2 as 0.6931.
        (log_bessel_i0(x) - b - inv + std::f32::consts::LN_2 + (0.5 * inv).ln()).exp()
    } else {
        0.5 * inv * (-b).exp() * bessel_i0(x) / inv.sinh()
    }
}

fn logistic(x: f32, s: f32) -> f32 {
    let r = -x.abs() / s;
    r.exp() / (s * (1.0 + r.exp()).powi(2))
}

fn logistic_cdf(x: f32, s: f32) -> f32 {
    1.0 / (1.0 + (-x / s).exp())
}

/// moonray HairUtil::trimmedLogisticFunction on (-pi, pi).
pub fn trimmed_logistic(x: f32, s: f32) -> f32 {
    logistic(x, s) / (logistic_cdf(PI, s) - logistic_cdf(-PI, s))
}

/// `a` wrapped into (-pi, pi].
fn range_angle(mut a: f32) -> f32 {
    while a > PI {
        a -= 2.0 * PI;
    }
    while a <= -PI {
        a += 2.0 * PI;
    }
    a
}

impl Hair {
    /// f * |cos| of the R, TT and TRT lobes summed, for unit tangent `t` and `h` the offset
    /// across the hair (-1 to 1; MoonRay's 2 st.t - 1).
    pub fn eval(&self, t: Vec3, h: f32, wo: Vec3, wi: Vec3) -> Vec3 {
        let (cos_ti, cos_to) = (t.dot(wi).clamp(-1.0, 1.0), t.dot(wo).clamp(-1.0, 1.0));
        // HairUtil::clampTest: nothing along the hair itself.
        if cos_ti.abs() >= 1.0 - 1e-6 {
            return Vec3::ZERO;
        }
        // theta is the angle from the normal plane: sin theta = cos to the tangent.
        let (sin_i, sin_o) = (cos_ti, cos_to);
        let cos_i = (1.0 - sin_i * sin_i).max(0.0).sqrt();
        let cos_o = (1.0 - sin_o * sin_o).max(0.0).sqrt();
        // phi_d: the azimuth between the projections of wi and wo (HairState, with the
        // normal along wo's projection and phi_o = 0).
        let (pi_, po) = (wi - t * cos_ti, wo - t * cos_to);
        let cos_phi = match (pi_.try_normalize(), po.try_normalize()) {
            (Some(a), Some(b)) => a.dot(b).clamp(-1.0, 1.0),
            _ => 1.0,
        };
        let phi_d = range_angle(-cos_phi.acos());
        let theta_d = ((sin_o.asin() - sin_i.asin()) * 0.5).abs();
        let cos_d = theta_d.cos();
        // Fresnel type "dielectric cylinder" (the default): at cos(theta_d) cos(gamma_o);
        // "simple longitudinal": at cos(theta_d).
        let h = h.clamp(-1.0, 1.0);
        let cos_gamma_o = if self.cylinder {
            (1.0 - h * h).max(0.0).sqrt()
        } else {
            1.0
        };
        let f = fresnel_dielectric(cos_d * cos_gamma_o, self.ior);
        // HairState::calculateAbsorptionTerm: one pass through the fibre.
        let eta_p = (self.ior * self.ior - sin_o * sin_o).max(0.0).sqrt() / cos_o.max(1e-6);
        let sin_gamma_t = h / eta_p;
        let cos_gamma_t = (1.0 - sin_gamma_t * sin_gamma_t).max(0.0).sqrt();
        let sin_theta_t = sin_o / self.ior;
        let cos_theta_t = (1.0 - sin_theta_t * sin_theta_t).max(0.0).sqrt();
        let a = if cos_theta_t > 0.0 {
            (-self.sigma_a * (2.0 * cos_gamma_t / cos_theta_t)).exp()
        } else {
            Vec3::ONE
        };
        let m = |l: &Longitudinal| {
            let (s, c) = l.shift.sin_cos();
            let sin_cone = sin_i * c + cos_i * s;
            let cos_cone = (cos_i * c - sin_i * s).abs();
            deon_m(l.variance, sin_cone, cos_cone, sin_o, cos_o)
        };
        // HairBsdfLobe::evalNTerm: the normalised cos(phi_d / 2) / 4 (R and TRT).
        let n_cos = (0.25 * (phi_d * 0.5).cos()).max(0.0);
        let mut out = Vec3::ZERO;
        if self.r_tint != Vec3::ZERO {
            out += self.r_tint * (f * m(&self.r) * n_cos);
        }
        if self.tt_tint != Vec3::ZERO {
            let n = trimmed_logistic(range_angle(phi_d - PI), self.tt_azimuthal);
            out += self.tt_tint * a * ((1.0 - f) * (1.0 - f) * m(&self.tt) * n);
        }
        if self.trt_tint != Vec3::ZERO {
            out += self.trt_tint * a * a * ((1.0 - f) * (1.0 - f) * f * m(&self.trt) * n_cos);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// d'Eon's M integrated over theta_i in (-pi/2, pi/2) with cos(theta_i) (midpoint rule,
    /// 20000 steps).
    fn m_integral(v: f32, theta_o: f32) -> f64 {
        let (so, co) = theta_o.sin_cos();
        let n = 20_000;
        let mut sum = 0.0f64;
        for k in 0..n {
            let th = -PI / 2.0 + (k as f32 + 0.5) * PI / n as f32;
            let (si, ci) = th.sin_cos();
            sum += f64::from(deon_m(v, si, ci, so, co) * ci) * f64::from(PI / n as f32);
        }
        sum
    }

    #[test]
    fn the_longitudinal_function_integrates_as_moonrays_formula_says() {
        // Above variance 0.1 (MoonRay's exact branch) M integrates to 1 within 0.5% at any
        // outgoing angle.
        for v in [longitudinal_var(0.5), 0.3, 1.0] {
            for theta_o in [0.0f32, 0.4, -1.0] {
                let sum = m_integral(v, theta_o);
                assert!((sum - 1.0).abs() < 5e-3, "v {v} theta_o {theta_o}: {sum}");
            }
        }
        // At or below 0.1 MoonRay's asymptotic log I0(x) = x + (-ln 2 pi + ln(1/x + 1/(8x)))
        // / 2 puts the 1/(8x) inside the logarithm: where cos theta_i cos theta_o / v > 12 the
        // lobe is sqrt(9/8) = 1.0607 times the true I0's, less 1/(8x). Kept as MoonRay has
        // it: the integral is 1 to 1.061 (1.056 for a hair seen side-on at roughness 0.2).
        for v in [longitudinal_var(0.2), longitudinal_var(0.25), 0.05] {
            for theta_o in [0.0f32, 0.4, -1.0] {
                let sum = m_integral(v, theta_o);
                assert!(
                    (0.995..1.061).contains(&sum),
                    "v {v} theta_o {theta_o}: {sum}"
                );
            }
        }
        let side_on = m_integral(longitudinal_var(0.2), 0.0);
        assert!((side_on - 1.056).abs() < 2e-3, "{side_on}");
    }

    #[test]
    fn the_longitudinal_function_peaks_at_the_mirror_angle() {
        // M depends on theta_i through sin theta_i sin theta_o and cos theta_i cos theta_o:
        // largest where theta_i = -theta_o (the specular cone).
        let v = longitudinal_var(0.3);
        let theta_o = 0.5f32;
        let (so, co) = theta_o.sin_cos();
        let at = |th: f32| deon_m(v, th.sin(), th.cos(), so, co);
        assert!(at(-theta_o) > at(-theta_o + 0.1) && at(-theta_o) > at(-theta_o - 0.1));
    }

    #[test]
    fn the_azimuthal_terms_integrate_to_one() {
        // cos(phi / 2) / 4 and the trimmed logistic, over (-pi, pi): 1 within 1e-3.
        let n = 20_000;
        for s in [azimuthal_var(0.2), azimuthal_var(1.0 - 1e-6)] {
            let (mut a, mut b) = (0.0f64, 0.0f64);
            for k in 0..n {
                let phi = -PI + (k as f32 + 0.5) * 2.0 * PI / n as f32;
                let d = f64::from(2.0 * PI / n as f32);
                a += f64::from(0.25 * (phi * 0.5).cos()) * d;
                b += f64::from(trimmed_logistic(phi, s)) * d;
            }
            assert!((a - 1.0).abs() < 1e-3 && (b - 1.0).abs() < 1e-3, "{a} {b}");
        }
    }

    #[test]
    fn absorption_from_white_is_none_and_darker_colours_absorb_more() {
        // ln(1) = 0: white hair absorbs nothing; colour 0.5 at azimuthal roughness 1 is
        // (ln 0.5 / 3.375)^2 (d = 5.969 - 0.215 + 2.532 - 10.73 + 5.574 + 0.245 = 3.375).
        let s = absorption_from_color(Vec3::new(1.0, 0.5, 0.1), 1.0);
        assert_eq!(s.x, 0.0);
        let want = (0.5f32.ln() / 3.375).powi(2);
        assert!((s.y - want).abs() < 1e-5, "{s}");
        assert!(s.z > s.y);
    }
}
