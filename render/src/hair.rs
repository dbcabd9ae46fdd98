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
    /// The multiple-scattering (TRRT and after) lobe's longitudinal variance, unshifted;
    /// `None` when `show_multiple_scattering` is off. Its tint is always white (moonshine
    /// lib/material/dwabase/DwaBaseLayerable.h passes sWhite).
    pub trrt: Option<f32>,
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
        if let Some(v) = self.trrt {
            // HairTRRTLobe (moonray BsdfHairLobes.cc, after d'Eon et al. 2011 section 3.4):
            // the geometric series of the TRRT and later events, (1 - F)^2 F^2 A^3 /
            // (1 - F A) with 1 - F A clamped to [1e-6, 1] (scene_rdl2's sEpsilon), an
            // unshifted M and the isotropic azimuthal term 1 / (2 pi).
            let m = deon_m(v, sin_i, cos_i, sin_o, cos_o);
            let series = a * a * a * ((1.0 - f) * (1.0 - f) * f * f)
                / (Vec3::ONE - a * f).clamp(Vec3::splat(1e-6), Vec3::ONE);
            out += series * (m / (2.0 * PI));
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

    /// Only the multiple-scattering lobe of a hair of ior 1.45 and absorption `sigma_a`.
    fn trrt_only(sigma_a: Vec3, variance: f32) -> Hair {
        let l = Longitudinal {
            variance: 0.1,
            shift: 0.0,
        };
        Hair {
            ior: 1.45,
            sigma_a,
            r: l,
            tt: l,
            trt: l,
            r_tint: Vec3::ZERO,
            tt_tint: Vec3::ZERO,
            trt_tint: Vec3::ZERO,
            tt_azimuthal: azimuthal_var(1.0 - 1e-6),
            cylinder: true,
            trrt: Some(variance),
        }
    }

    #[test]
    fn the_multiple_scattering_lobe_is_moonrays_geometric_series() {
        // Seen and lit side-on through the hair's middle (theta_o = theta_i = 0, phi_d = 0,
        // h = 0): F is the normal-incidence (0.45 / 2.45)^2 = 0.033736, one pass absorbs
        // exp(-2 sigma_a), and d'Eon's M at the default TRRT variance (roughness 1, as
        // HairOneSampleLobe builds it: v = (0.726 + 0.812 + 3.7)^2 = 27.437) is
        // (1 / 2v) I0(1 / v) / sinh(1 / v), about (1 + x^2 / 12) / 2 = 0.500055: so the lobe is
        // A^3 (1 - F)^2 F^2 / (1 - F A) x M / (2 pi), within 1e-4 relative.
        let v = longitudinal_var(1.0);
        assert!((v - 27.437).abs() < 0.01, "{v}");
        let sigma = Vec3::new(0.0, 0.2, 0.8);
        let hair = trrt_only(sigma, v);
        let got = hair.eval(Vec3::Z, 0.0, Vec3::X, Vec3::X);
        let f = (0.45f64 / 2.45).powi(2);
        let x = 1.0 / f64::from(v);
        // I0(x) = 1 + x^2 / 4 + x^4 / 64 + ... (x = 0.036).
        let i0 = 1.0 + x * x / 4.0 + x.powi(4) / 64.0;
        let m = 0.5 * x * i0 / x.sinh();
        assert!((m - 0.500055).abs() < 1e-6, "{m}");
        for (k, s) in sigma.to_array().into_iter().enumerate() {
            let a = (-2.0 * f64::from(s)).exp();
            let want = a.powi(3) * (1.0 - f).powi(2) * f * f / (1.0 - f * a) * m
                / (2.0 * std::f64::consts::PI);
            let g = f64::from(got[k]);
            assert!((g - want).abs() < 1e-4 * want, "channel {k}: {g} vs {want}");
        }
        // Off: nothing.
        let off = Hair { trrt: None, ..hair };
        assert_eq!(off.eval(Vec3::Z, 0.0, Vec3::X, Vec3::X), Vec3::ZERO);
    }

    #[test]
    fn the_multiple_scattering_terms_integrate_as_moonrays_formulas_say() {
        // Its M (unshifted, at the default variance) integrates to 1 over theta_i with
        // cos theta_i, within 5e-3 (MoonRay's exact branch, v > 0.1), at any theta_o; its
        // azimuthal term is the constant 1 / (2 pi): the lobe of a white hair summed over
        // the sphere is then F^2 (1 - F) weighted by M, between the series at F's least
        // and most over theta_d (F from 0.0337 head-on up to grazing): here, seen side-on,
        // theta_d <= pi / 4 and F(cos pi / 4) = 0.0433, so the sum is 0.00109 to 0.00179
        // (midpoint rule, 400 x 400 over the sphere).
        let v = longitudinal_var(1.0);
        let n = 20_000;
        for theta_o in [0.0f32, 0.4, -1.0] {
            let (so, co) = theta_o.sin_cos();
            let mut sum = 0.0f64;
            for k in 0..n {
                let th = -PI / 2.0 + (k as f32 + 0.5) * PI / n as f32;
                let (si, ci) = th.sin_cos();
                sum += f64::from(deon_m(v, si, ci, so, co) * ci) * f64::from(PI / n as f32);
            }
            assert!((sum - 1.0).abs() < 5e-3, "theta_o {theta_o}: {sum}");
        }
        let hair = Hair {
            cylinder: false,
            ..trrt_only(Vec3::ZERO, v)
        };
        let (t, wo) = (Vec3::Z, Vec3::X);
        let steps = 400;
        let mut e = 0.0f64;
        for i in 0..steps {
            let cos_t = 1.0 - 2.0 * (i as f32 + 0.5) / steps as f32;
            let sin_t = (1.0 - cos_t * cos_t).sqrt();
            for j in 0..steps {
                let phi = 2.0 * PI * (j as f32 + 0.5) / steps as f32;
                let wi = Vec3::new(sin_t * phi.cos(), sin_t * phi.sin(), cos_t);
                e += f64::from(hair.eval(t, 0.0, wo, wi).x);
            }
        }
        e *= 4.0 * std::f64::consts::PI / f64::from(steps * steps);
        let series = |f: f64| f * f * (1.0 - f);
        let f_max = f64::from(fresnel_dielectric(std::f32::consts::FRAC_PI_4.cos(), 1.45));
        assert!((f_max - 0.0433).abs() < 5e-4, "{f_max}");
        assert!(
            (series(0.033736) - 1e-5..=series(f_max) + 1e-5).contains(&e),
            "{e}"
        );
    }
}
