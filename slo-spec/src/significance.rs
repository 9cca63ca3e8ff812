//! The low-traffic test every burn-rate pair of an event SLI adds to its thresholds: the
//! errors in the long window must be improbable for a service within its objective.
//!
//! Null hypothesis: errors arrive at the pair's *null rate*, the sustainable one (burn 1,
//! `budget` of the events), or half the pair's threshold when that is 2 or less (so a 1x
//! pair can still fire). The statistic is the Poisson likelihood-ratio (deviance)
//! `G = 2 (e ln(e / μ) − (e − μ))` with `e` the long window's errors and `μ` its events
//! times the null rate; the pair may fire when `G > z²`, `z` the one-sided normal quantile
//! of the tier's confidence. The ratio conditions already require `e > μ`, so this is the
//! one-sided test. Testing against the threshold itself instead would delay a 20x burn at
//! 1 request/s by about a quarter (z / √(expected errors at the threshold)); against the
//! sustainable rate, traffic high enough to count it changes nothing, while one stray error
//! among a few requests (G ≈ 7 for 1 in 10 at a 0.1% budget) stays under z² ≈ 9.5 (99.9%).

use crate::decimal::Decimal;

/// A confidence in percent, as written (`99.9`).
#[derive(Clone, Debug, PartialEq)]
pub struct Confidence {
    pub value: Decimal,
    pub text: String,
}

impl Default for Confidence {
    /// 99.9%: a window of a healthy service looks like a burn once in a thousand.
    fn default() -> Self {
        Confidence {
            value: Decimal::parse("99.9").expect("a decimal"),
            text: "99.9".into(),
        }
    }
}

/// The burn rate of the null hypothesis for a pair of threshold `burn`: 1, or half the
/// threshold when that is 2 or less.
pub fn null_burn(burn: Decimal) -> Decimal {
    let two = Decimal::from_int(2);
    if burn.compare(two) == Some(std::cmp::Ordering::Greater) {
        Decimal::ONE
    } else {
        burn.checked_mul(Decimal::parse("0.5").expect("a decimal"))
            .unwrap_or(Decimal::ONE)
    }
}

/// `z²` for a one-sided test at `confidence`, as the text both the rules and the
/// evaluator read (four decimals), so both compare with the same number.
pub fn z2_text(confidence: &Confidence) -> String {
    let z = normal_quantile(confidence.value.to_f64() / 100.0);
    format!("{:.4}", z * z)
}

/// The deviance `G` of `errors` against `mean` expected errors; NaN when there are none.
pub fn deviance(errors: f64, mean: f64) -> f64 {
    2.0 * (errors * (errors / mean).ln() - (errors - mean))
}

/// Events the long window must hold for errors at exactly `burn` times the budget to pass
/// the test (`G = z²`): below it the pair cannot fire however bad the ratio.
pub fn events_to_pass(budget: f64, burn: f64, null_burn: f64, z2: f64) -> f64 {
    let per_event = 2.0 * budget * (burn * (burn / null_burn).ln() - burn + null_burn);
    z2 / per_event
}

/// The standard normal quantile (Acklam's rational approximation, relative error under
/// 1.2e-9): enough for four decimals of `z²`.
pub fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    let low = 0.02425;
    if p < low {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - low {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_match_the_tables() {
        for (p, z) in [
            (0.5, 0.0),
            (0.95, 1.644_853_6),
            (0.99, 2.326_347_9),
            (0.999, 3.090_232_3),
            (0.01, -2.326_347_9),
        ] {
            assert!(
                (normal_quantile(p) - z).abs() < 1e-6,
                "{p}: {}",
                normal_quantile(p)
            );
        }
        let c = |t: &str| Confidence {
            value: Decimal::parse(t).unwrap(),
            text: t.into(),
        };
        assert_eq!(z2_text(&c("99.9")), "9.5495");
        assert_eq!(z2_text(&c("95")), "2.7055");
    }

    #[test]
    fn one_stray_error_among_few_events_is_not_significant_and_two_are() {
        let z2 = 9.5495;
        // 10 requests an hour, a 0.1% budget.
        assert!(deviance(1.0, 10.0 * 0.001) < z2);
        assert!(deviance(2.0, 10.0 * 0.001) > z2);
        // The same burn over many events is.
        assert!(deviance(52.0, 3600.0 * 0.001) > z2);
        assert!(deviance(0.0, 1.0).is_nan() || deviance(0.0, 1.0) < z2);
        assert_eq!(null_burn(Decimal::parse("14.4").unwrap()), Decimal::ONE);
        assert_eq!(
            null_burn(Decimal::parse("1").unwrap()),
            Decimal::parse("0.5").unwrap()
        );
        // Events for 14.4x to pass at 99.9% with a 0.1% budget: about 190.
        let n = events_to_pass(0.001, 14.4, 1.0, z2);
        assert!((n - 190.9).abs() < 1.0, "{n}");
    }
}
