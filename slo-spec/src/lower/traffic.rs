//! `expected_rate`: the traffic an SLO usually sees, checked against what its tiers need to
//! fire at their thresholds: the low-traffic test's events ([`crate::significance`]) and
//! `min_events`. W008 when no pair of any tier gets there: such an SLO pages on outages
//! only, and its author should know before a quiet night proves it.

use super::reader::Cx;
use crate::diagnostic::{Code, Span};
use crate::model::{Alerting, Objective, Sli, Tier};
use crate::names::format_duration;
use crate::significance;

pub(crate) fn check(
    cx: &mut Cx,
    (rate, text, span): &(f64, String, Span),
    objective: &Objective,
    alerting: &Alerting,
    sli: &Sli,
) {
    if alerting.disabled || !sli.counts_events() {
        return;
    }
    let budget = objective.budget_decimal().to_f64();
    // (events held, events needed, long window, threshold) of every live pair.
    let pairs: Vec<(f64, f64, String, String)> = Tier::BURN_RATE
        .into_iter()
        .filter_map(|t| alerting.tier(t))
        .filter(|p| !p.disabled)
        .flat_map(|policy| {
            let z2: f64 = significance::z2_text(&policy.confidence)
                .parse()
                .unwrap_or(0.0);
            policy.windows.iter().map(move |w| {
                let test = significance::events_to_pass(
                    budget,
                    w.burn_rate.to_f64(),
                    significance::null_burn(w.burn_rate).to_f64(),
                    z2,
                );
                let need = test.max(alerting.min_events.unwrap_or(0) as f64);
                let held = rate * w.long.as_secs_f64();
                (held, need, format_duration(w.long), w.burn_rate.to_string())
            })
        })
        .collect();
    if pairs.is_empty() || pairs.iter().any(|(held, need, _, _)| held >= need) {
        return;
    }
    let (held, need, long, burn) = &pairs[0];
    cx.report(
        *span,
        Code::LowTraffic,
        format!(
            "at {text} events/s no tier can fire at its threshold: the fastest pair's {long} window holds {held:.1} events, and errors at {burn}x need {need:.0} to stand out from a healthy service"
        ),
        "only bursts far above the thresholds (an outage) will page; a longer period, a lower objective or a lower `confidence` lets the tiers fire",
    );
}
