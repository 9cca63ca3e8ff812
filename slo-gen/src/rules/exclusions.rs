//! Exclusions in PromQL: the rules know the wall clock (`time()`, UTC). Inside an
//! exclusion the base series record zero events and zero bad events, so every total,
//! window, budget and calendar sum skips it alike and stays a continuous series; the
//! alerts return nothing, so nothing pages during it. The indicator follows
//! [`slo_spec::exclusion`]: an evaluation at `t` is excluded when `from < t <= to`.

use slo_spec::exclusion::{Exclusion, When, WEEK_S};

/// `1` while one of `exclusions` holds, else `0`: a scalar expression (they never overlap).
pub fn excluded(exclusions: &[Exclusion]) -> Option<String> {
    let parts: Vec<String> = exclusions.iter().map(|e| indicator(&e.when)).collect();
    (!parts.is_empty()).then(|| parts.join(" + "))
}

fn indicator(when: &When) -> String {
    match when {
        When::Once { from, to, .. } => format!("(time() > bool {from}) * (time() <= bool {to})"),
        When::Weekly { .. } => {
            let shift = when.weekly_shift().unwrap_or(0);
            let len = when.length().as_secs();
            let since = format!("((time() + {shift}) % {WEEK_S})");
            format!("({since} > bool 0) * ({since} <= bool {len})")
        }
    }
}

/// A base expression that records zero inside the exclusions.
pub fn base(expr: String, exclusions: &[Exclusion]) -> String {
    match excluded(exclusions) {
        Some(ex) => format!("(\n  {expr}\n)\n* (1 - ({ex}))"),
        None => expr,
    }
}

/// An alert expression that returns nothing inside the exclusions.
pub fn alert(expr: String, exclusions: &[Exclusion]) -> String {
    match excluded(exclusions) {
        Some(ex) => format!("(\n{expr}\n)\nunless on()\n(vector({ex}) > 0)"),
        None => expr,
    }
}
