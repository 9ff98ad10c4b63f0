//! The two quantiles the registry needs: Student's t (for the CI of a mean)
//! and the standard normal 97.5 % point (for Wilson and Greenwood intervals).
//!
//! The t quantile is found by bisection on the t tail probability, computed
//! from the regularised incomplete beta function
//! (`P(T > t) = ½ · I_{ν/(ν+t²)}(ν/2, ½)` for `t ≥ 0`), evaluated with a
//! modified-Lentz continued fraction. Tests compare it with `scipy.stats.t.ppf`.

/// Φ⁻¹(0.975): the two-sided 95 % standard-normal quantile.
pub const Z_975: f64 = 1.959_963_984_540_054;

/// ln Γ(x) for x > 0 (Lanczos approximation, g = 7, 9 terms; ~1e-15 relative).
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1−x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).abs().ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        #[allow(clippy::cast_precision_loss)]
        let k = i as f64;
        a += c / (x + k);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Continued fraction for the incomplete beta (valid for x < (a+1)/(a+b+2)).
fn beta_cf(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    const EPS: f64 = 1e-16;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=10_000u32 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        // Even step.
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        h *= d * c;
        // Odd step.
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < EPS {
            break;
        }
    }
    h
}

/// Regularised incomplete beta function I_x(a, b), for a, b > 0 and x in [0, 1].
#[must_use]
pub fn beta_reg(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    let front = ln_front.exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_cf(a, b, x) / a
    } else {
        1.0 - front * beta_cf(b, a, 1.0 - x) / b
    }
}

/// Upper tail P(T > t) of Student's t with `df` degrees of freedom, for t ≥ 0.
fn t_upper_tail(t: f64, df: f64) -> f64 {
    let x = df / (df + t * t);
    0.5 * beta_reg(df / 2.0, 0.5, x)
}

/// Cumulative distribution function of Student's t with `df` > 0 degrees of freedom.
#[must_use]
pub fn t_cdf(t: f64, df: f64) -> f64 {
    if t.is_nan() || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if t >= 0.0 {
        1.0 - t_upper_tail(t, df)
    } else {
        t_upper_tail(-t, df)
    }
}

/// Quantile (inverse CDF) of Student's t with `df` > 0 degrees of freedom.
///
/// `None` when `p` is not strictly between 0 and 1 or `df` is not a positive
/// finite number.
#[must_use]
pub fn t_quantile(p: f64, df: f64) -> Option<f64> {
    if !(p > 0.0 && p < 1.0 && df.is_finite() && df > 0.0) {
        return None;
    }
    if (p - 0.5).abs() < f64::EPSILON {
        return Some(0.0);
    }
    // Solve P(T > t) = tail for t ≥ 0, then give it the sign of p − ½.
    let tail = if p > 0.5 { 1.0 - p } else { p };
    let mut lo = 0.0_f64;
    let mut hi = 1.0_f64;
    let mut guard = 0;
    while t_upper_tail(hi, df) > tail {
        lo = hi;
        hi *= 2.0;
        guard += 1;
        if guard > 1100 || !hi.is_finite() {
            return None;
        }
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if t_upper_tail(mid, df) > tail {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let t = 0.5 * (lo + hi);
    Some(if p > 0.5 { t } else { -t })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_scipy() {
        // scipy.stats.t.ppf(0.975, df)
        let cases = [
            (1.0, 12.706_204_736_174_694),
            (2.0, 4.302_652_729_749_462),
            (3.0, 3.182_446_305_283_707_8),
            (5.0, 2.570_581_835_636_314_6),
            (10.0, 2.228_138_851_986_274),
            (30.0, 2.042_272_456_301_237_8),
            (100.0, 1.983_971_518_523_551_8),
            (1000.0, 1.962_339_080_826_408_3),
        ];
        for (df, want) in cases {
            let got = t_quantile(0.975, df).unwrap();
            assert!((got - want).abs() < 1e-9, "df {df}: {got} vs {want}");
        }
        let low = t_quantile(0.025, 7.0).unwrap();
        let high = t_quantile(0.975, 7.0).unwrap();
        assert!((low + high).abs() < 1e-12);
        assert!((t_quantile(0.975, 1e7).unwrap() - Z_975).abs() < 1e-5);
    }

    #[test]
    fn t_cdf_is_inverse_of_quantile() {
        for df in [1.0, 2.5, 9.0, 57.0, 4000.0] {
            for p in [0.001, 0.05, 0.3, 0.5, 0.8, 0.975, 0.9999] {
                let t = t_quantile(p, df).unwrap();
                assert!((t_cdf(t, df) - p).abs() < 1e-12, "df {df} p {p}");
            }
        }
    }

    #[test]
    fn bad_arguments_give_none() {
        assert!(t_quantile(0.0, 3.0).is_none());
        assert!(t_quantile(1.0, 3.0).is_none());
        assert!(t_quantile(f64::NAN, 3.0).is_none());
        assert!(t_quantile(0.9, 0.0).is_none());
        assert!(t_quantile(0.9, f64::INFINITY).is_none());
    }
}
