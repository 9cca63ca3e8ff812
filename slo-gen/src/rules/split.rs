//! The split layout: one SLO evaluated across clusters. The local set, loaded in every
//! cluster's Prometheus, reads the raw series and records only the SLI's base series under
//! the `slo_cluster:` level (remote write adds the cluster's external labels); the global
//! set, loaded in the ruler where every cluster's recordings meet, merges them into the
//! usual `slo:` base series and holds everything else, unchanged: every window, budget,
//! calendar sum and alert, plus a missing-data alert per cluster.
//!
//! A derivation of the single layout's groups, not a second generator: the rules after the
//! base series are the same bytes in both layouts.

use super::{Group, Options, Rule};
use crate::names::{self, series};
use slo_eval::Plan;
use slo_spec::names::format_duration;
use slo_spec::{Service, Slo};
use std::time::Duration;

/// The label remote write adds to tell clusters apart (each Prometheus's external label).
pub const CLUSTER_LABEL: &str = "cluster";

/// How far back the merge reads a cluster's last recording: the local evaluation
/// interval, plus what remote write and the store's read delay may add (VictoriaMetrics
/// hides its last 30 s by default). A cluster silent longer than this drops out of the sum.
pub fn lookback(plan: &Plan, delay: Duration) -> Duration {
    2 * plan.interval + delay
}

/// The name a base series has in the local set.
pub fn cluster_series(name: &str) -> String {
    match name.strip_prefix("slo:") {
        Some(rest) => format!("slo_cluster:{rest}"),
        None => name.to_string(),
    }
}

/// One SLO's rules in the split layout.
#[derive(Clone, Debug)]
pub struct Split {
    pub local: Vec<Group>,
    pub global: Vec<Group>,
}

/// Splits the single layout's `groups` of `slo` (as [`super::plan_groups`] makes them).
pub fn split(svc: &Service, slo: &Slo, plan: &Plan, groups: Vec<Group>, opts: &Options) -> Split {
    let delay = opts.remote_write_delay;
    let base: Vec<String> = vec![
        series::events(plan.base),
        series::error_events(plan.base),
        series::INPUTS.to_string(),
    ];
    let sel = names::selector(&svc.name, &slo.name);
    let mut by: Vec<&str> = vec!["service", "slo"];
    by.extend(slo.group_by.iter().map(String::as_str));
    let by = by.join(", ");
    let lookback = format_duration(lookback(plan, delay));
    let alerts_group = names::group(&svc.name, &slo.name, super::GroupKind::Alerts);
    let mut local_rules = Vec::new();
    let mut global = Vec::new();
    for mut g in groups {
        for rule in &mut g.rules {
            let Rule::Record { record, .. } = &*rule else {
                continue;
            };
            if !base.contains(record) {
                continue;
            }
            let local = cluster_series(record);
            let mut kept = rule.clone();
            if let Rule::Record { record, .. } = &mut kept {
                record.clone_from(&local);
            }
            local_rules.push(kept);
            if let Rule::Record { expr, .. } = rule {
                *expr = format!("sum by ({by}) (\n  last_over_time({local}{sel}[{lookback}])\n)");
            }
        }
        if g.name == alerts_group {
            name_clusters(&mut g, slo, plan, &sel);
            break_down(&mut g, slo, plan, &sel);
            if let Some(absent) = &plan.absent {
                // The input count is absent while the raw series are (an exporter down);
                // the base rates are recorded as 0 then.
                let watched = if has_record(&local_rules, &cluster_series(series::INPUTS)) {
                    series::INPUTS.to_string()
                } else {
                    series::events(plan.base)
                };
                let watched = format!("{}{sel}", cluster_series(&watched));
                g.rules
                    .push(cluster_absent(svc, slo, &watched, absent, &lookback, opts));
            }
        }
        global.push(g);
    }
    if let Some(rule) = local_breakdown(slo, plan, &local_rules) {
        local_rules.push(rule);
    }
    let local = vec![Group {
        name: format!(
            "{}-local",
            names::group(&svc.name, &slo.name, super::GroupKind::Fast)
        ),
        interval: plan.interval,
        rules: local_rules,
    }];
    Split { local, global }
}

/// The name of the local recording of the SLI's errors by breakdown label.
pub fn breakdown_series(plan: &Plan) -> String {
    format!(
        "slo_cluster:sli_breakdown_error_events:rate{}",
        format_duration(plan.base)
    )
}

/// The local recording a global `breakdown` annotation reads: the SLI's errors at the
/// base window by the group and breakdown labels (labelled as the other base series).
fn local_breakdown(slo: &Slo, plan: &Plan, local: &[Rule]) -> Option<Rule> {
    let expr = super::breakdown::errors(slo, plan.base)?;
    let labels = local.iter().find_map(|r| match r {
        Rule::Record { labels, .. } => Some(labels),
        Rule::Alert { .. } => None,
    })?;
    Some(super::record(breakdown_series(plan), expr, labels))
}

/// Rewrites the burn alerts' `breakdown` annotation to read the clusters' breakdown
/// recordings (summed across clusters, averaged over the tier's window) instead of raw
/// series, which the global store does not hold.
fn break_down(g: &mut Group, slo: &Slo, plan: &Plan, sel: &str) {
    let mut by = slo.group_by.clone();
    by.extend(slo.alerting.breakdown.iter().cloned());
    let by = by.join(", ");
    for rule in &mut g.rules {
        let Rule::Alert {
            labels,
            annotations,
            ..
        } = rule
        else {
            continue;
        };
        let tier = labels.get(names::TIER_LABEL).map(String::as_str);
        let Some(t) = plan.tiers.iter().find(|t| Some(t.tier.as_str()) == tier) else {
            continue;
        };
        let Some(window) = super::breakdown::window(slo, t) else {
            continue;
        };
        let errors = format!(
            "sum by ({by}) (avg_over_time({}{sel}[{}]))",
            breakdown_series(plan),
            format_duration(window)
        );
        let query = super::breakdown::shares(slo, &errors);
        annotations.insert(
            "breakdown".into(),
            super::breakdown::annotation_of(slo, &query, window),
        );
    }
}

fn has_record(rules: &[Rule], name: &str) -> bool {
    rules
        .iter()
        .any(|r| matches!(r, Rule::Record { record, .. } if record == name))
}

/// The clusters by share of the SLO's errors per second at the base window (per group for
/// a grouped SLO), largest first: what the global burn alerts' `clusters` annotation lists.
pub fn clusters_query(slo: &Slo, plan: &Plan, sel: &str) -> String {
    let errors = format!("{}{sel}", cluster_series(&series::error_events(plan.base)));
    let groups = slo.group_by.join(", ");
    let (by, with_cluster) = if groups.is_empty() {
        (String::new(), CLUSTER_LABEL.to_string())
    } else {
        (
            format!(" by ({groups})"),
            format!("{CLUSTER_LABEL}, {groups}"),
        )
    };
    format!(
        "sort_desc(topk{by} (3, (sum by ({with_cluster}) ({errors}) > 0) / on({groups}) group_left() sum{by} ({errors})))"
    )
}

/// Adds the `clusters` annotation to the burn-rate alerts of an alerts group: the page
/// says which cluster is burning, from the recordings the global set already reads.
fn name_clusters(g: &mut Group, slo: &Slo, plan: &Plan, sel: &str) {
    let query = clusters_query(slo, plan, sel);
    let text = super::breakdown::template(
        &query,
        &format!("{CLUSTER_LABEL}={{{{ label \"{CLUSTER_LABEL}\" . }}}}"),
        CLUSTER_LABEL,
        &slo.group_by,
        plan.base,
    );
    for rule in &mut g.rules {
        if let Rule::Alert {
            labels,
            annotations,
            ..
        } = rule
        {
            if labels.get(names::TIER_LABEL).map(String::as_str) != Some(names::ABSENT_TIER) {
                annotations.insert("clusters".into(), text.clone());
            }
        }
    }
}

/// Fires for each cluster that sent the `watched` series (a selector of a local
/// recording) within the last hour and has sent none for the lookback: the global SLO
/// keeps counting the others, this says which one it no longer sees.
fn cluster_absent(
    svc: &Service,
    slo: &Slo,
    watched: &str,
    absent: &slo_eval::AbsentPlan,
    lookback: &str,
    opts: &Options,
) -> Rule {
    let for_ = absent.for_;
    let by = format!("{CLUSTER_LABEL}, service, slo");
    let expr = format!(
        "max by ({by}) (max_over_time({watched}[1h]))\nunless\nmax by ({by}) (last_over_time({watched}[{lookback}]))"
    );
    let Rule::Alert {
        labels,
        mut annotations,
        ..
    } = super::alerts::absent(svc, slo, absent, opts)
    else {
        unreachable!("absent() makes an alert")
    };
    annotations.insert(
        "summary".into(),
        format!(
            "{}/{}: cluster {{{{ $labels.{CLUSTER_LABEL} }}}} has sent no events for {}; the SLO counts only the clusters still sending",
            svc.name,
            slo.name,
            format_duration(for_)
        ),
    );
    Rule::Alert {
        alert: format!("{}ClusterAbsent", slo.alerting.name),
        expr,
        for_: Some(for_),
        labels,
        annotations,
    }
}
