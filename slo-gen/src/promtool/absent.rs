//! The missing-data alert's tests.

use super::file::{checkpoints, repeat, steps, Check};
use super::file::{BaseScenario, Summary};
use crate::names;
use slo_eval::AbsentPlan;
use slo_spec::{Service, Slo};
use std::time::Duration;

/// The missing-data alert: present inputs (even at zero traffic) keep it silent; inputs
/// that vanish fire it after `for` and not before; inputs that return resolve it. A
/// grouped SLO loses one group while the other stays: only the lost one fires.
// Long: the absent scenarios in the order promtool runs them, each beside its checks.
pub(super) fn file(
    svc: &Service,
    slo: &Slo,
    absent: &AbsentPlan,
    summary: &mut Summary,
) -> (String, Duration, Vec<BaseScenario>) {
    let step = Duration::from_secs((absent.for_.as_secs() / 6).max(1));
    let at = |n: u64| Duration::from_secs(n * step.as_secs());
    let alert = names::absent_alert(&slo.alerting.name);
    let count = format!(
        "count(ALERTS{{alertname=\"{alert}\",alertstate=\"firing\",service=\"{}\",slo=\"{}\",{}=\"{}\"}})",
        svc.name,
        slo.name,
        names::TIER_LABEL,
        names::ABSENT_TIER
    );
    let fr = steps(absent.for_, step);
    // Present for `warm` steps, then a staleness marker, then nothing for `gone` steps,
    // then present again.
    let warm = fr + 4;
    let gone = fr + 6;
    let vanish = warm + 1;
    let n = vanish + gone + fr + 4;
    let vanishing = format!("1x{warm} stale _x{gone} 1x{}", n - vanish - gone);
    let present = repeat(1.0, n);
    let groups: Vec<String> = if slo.group_by.is_empty() {
        vec![String::new()]
    } else {
        ["a", "b"]
            .iter()
            .map(|v| {
                slo.group_by
                    .iter()
                    .map(|g| format!(",{g}=\"{v}\""))
                    .collect::<String>()
            })
            .collect()
    };
    let lost = groups.last().cloned().unwrap_or_default();
    let mut inputs: Vec<(String, String)> = groups
        .iter()
        .map(|g| {
            (
                g.clone(),
                if *g == lost {
                    vanishing.clone()
                } else {
                    present.clone()
                },
            )
        })
        .collect();
    let mut checks = vec![
        Check {
            expr: count.clone(),
            at: at(vanish - 1),
            value: None,
        },
        Check {
            expr: count.clone(),
            at: at(vanish + fr - 2),
            value: None,
        },
        Check {
            expr: count.clone(),
            at: at(vanish + fr + 2),
            value: Some(1.0),
        },
        Check {
            expr: count.clone(),
            at: at(vanish + gone + fr.min(3) + 1),
            value: None,
        },
    ];
    if !slo.group_by.is_empty() {
        // Only the lost group fires, and names it.
        let sel = lost.trim_start_matches(',');
        checks.push(Check {
            expr: format!("count(ALERTS{{alertname=\"{alert}\",alertstate=\"firing\",{sel}}})"),
            at: at(vanish + fr + 2),
            value: Some(1.0),
        });
    }
    let vanish_name = if slo.group_by.is_empty() {
        "absent: inputs vanish, fire after `for`, resolve on return".to_string()
    } else {
        "absent: one group's inputs vanish, only it fires, resolves on return".to_string()
    };
    let scenarios = vec![
        BaseScenario {
            name: "absent: inputs present at zero traffic stay silent".into(),
            errors: repeat(0.0, n),
            events: repeat(0.0, n),
            inputs: groups
                .iter()
                .map(|g| (g.clone(), present.clone()))
                .collect(),
            checks: checkpoints(n)
                .map(|k| Check {
                    expr: count.clone(),
                    at: at(k),
                    value: None,
                })
                .collect(),
        },
        BaseScenario {
            name: vanish_name,
            errors: repeat(0.0, n),
            events: repeat(1.0, n),
            inputs: std::mem::take(&mut inputs),
            checks,
        },
    ];
    summary.scenarios += scenarios.len();
    summary.checks += scenarios.iter().map(|s| s.checks.len()).sum::<usize>();
    summary
        .detections
        .push((names::ABSENT_TIER.into(), "no data".into(), absent.for_));
    ("absent.yaml".into(), step, scenarios)
}
