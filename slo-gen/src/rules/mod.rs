//! Prometheus recording and alerting rules for one service.
//!
//! Raw series are read once per SLO, at the base window ([`sli`]). Every longer window is
//! a ratio of sums over those recorded, already aggregated series (exact under changing
//! traffic, unlike an average of ratios), and every division is guarded so zero traffic
//! gives no series instead of NaN. [`alerts`] builds the burn-rate alerts; [`emit`] writes
//! the groups as YAML.

pub mod alerts;
pub mod emit;
pub mod sli;

use crate::names::{self, series, GroupKind};
use slo_eval::Plan;
use slo_spec::names::format_duration;
use slo_spec::{Service, Slo};
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq)]
pub enum Rule {
    Record {
        record: String,
        expr: String,
        labels: BTreeMap<String, String>,
    },
    Alert {
        alert: String,
        expr: String,
        for_: Option<Duration>,
        labels: BTreeMap<String, String>,
        annotations: BTreeMap<String, String>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    pub name: String,
    pub interval: Duration,
    pub rules: Vec<Rule>,
}

/// Options that are not part of the specs.
#[derive(Clone, Debug)]
pub struct Options {
    /// Grafana base URL for `dashboard_url` annotations.
    pub grafana_url: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            grafana_url: "http://localhost:3000".into(),
        }
    }
}

fn record(record: String, expr: String, labels: &BTreeMap<String, String>) -> Rule {
    Rule::Record {
        record,
        expr,
        labels: labels.clone(),
    }
}

/// The error ratio over `window`: the base series' ratio at the base window, a ratio of
/// their sums over longer ones; no series when the window saw no events.
fn ratio_expr(plan: &Plan, window: Duration, sel: &str) -> String {
    let (e, t) = (series::error_events(plan.base), series::events(plan.base));
    if window == plan.base {
        format!("{e}{sel}\n/\n({t}{sel} > 0)")
    } else {
        let w = format_duration(window);
        format!("sum_over_time({e}{sel}[{w}])\n/\n(sum_over_time({t}{sel}[{w}]) > 0)")
    }
}

/// Every rule group of one service, in spec order.
pub fn service_groups(svc: &Service, opts: &Options) -> Vec<Group> {
    let mut groups = Vec::new();
    for slo in &svc.slos {
        groups.extend(slo_groups(svc, slo, opts));
    }
    groups
}

/// The groups of one SLO: base series and short windows (fast), long windows and the
/// budget (long), and the alerts, which run after both.
pub fn slo_groups(svc: &Service, slo: &Slo, opts: &Options) -> Vec<Group> {
    let plan = slo_eval::plan(slo);
    let sel = names::selector(&svc.name, &slo.name);
    let ids: BTreeMap<String, String> = [("service", &svc.name), ("slo", &slo.name)]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let budget = slo.objective.budget_decimal();

    let (errors, events) = sli::base_exprs(
        &slo.sli,
        plan.base,
        &format!("{}{sel}", series::events(plan.base)),
        &slo.group_by,
    );
    // Events first: the error events of "good" and latency SLIs subtract from them.
    let mut fast = vec![
        record(series::events(plan.base), events, &ids),
        record(series::error_events(plan.base), errors, &ids),
    ];
    if plan.absent.is_some() {
        let inputs = sli::inputs_expr(&slo.sli, plan.base, &slo.group_by);
        fast.push(record(series::INPUTS.into(), inputs, &ids));
    }
    let mut slow = Vec::new();
    for &w in &plan.windows {
        let rule = record(series::error_ratio(w), ratio_expr(&plan, w, &sel), &ids);
        if w <= plan.fast_limit {
            fast.push(rule);
        } else {
            slow.push(rule);
        }
    }
    let constant =
        |name: &str, value: String| record(name.into(), format!("vector({value})"), &ids);
    fast.push(constant(
        series::OBJECTIVE,
        slo.objective.ratio_decimal().to_string(),
    ));
    fast.push(constant(series::ERROR_BUDGET, budget.to_string()));
    fast.push(constant(series::PERIOD, plan.period.as_secs().to_string()));
    fast.push(record(
        series::CURRENT_BURN_RATE.into(),
        format!("{}{sel} / {budget}", series::error_ratio(plan.current)),
        &ids,
    ));
    fast.push(record(
        series::INFO.into(),
        "vector(1)".into(),
        &info(svc, slo, &ids),
    ));
    slow.push(record(
        series::BUDGET_REMAINING.into(),
        format!("1 - {}{sel} / {budget}", series::error_ratio(plan.period)),
        &ids,
    ));
    let mut alerts: Vec<Rule> = plan
        .tiers
        .iter()
        .map(|t| alerts::alert(svc, slo, &plan, t, opts))
        .collect();
    if let Some(absent) = &plan.absent {
        alerts.push(alerts::absent(svc, slo, absent, opts));
    }

    let group = |kind, interval, rules| Group {
        name: names::group(&svc.name, &slo.name, kind),
        interval,
        rules,
    };
    let mut groups = vec![group(GroupKind::Fast, plan.fast_interval, fast)];
    if !slow.is_empty() {
        groups.push(group(GroupKind::Long, plan.slow_interval, slow));
    }
    // Alerts last: where groups run in sequence (promtool, rulers that chain groups) they
    // read the windows recorded in the same round.
    if !alerts.is_empty() {
        groups.push(group(GroupKind::Alerts, plan.fast_interval, alerts));
    }
    groups
}

/// The labels of `slo:info`: what the SLO is, for tables and links.
fn info(svc: &Service, slo: &Slo, ids: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut info = ids.clone();
    if let Some(owner) = &svc.owner {
        info.insert("owner".into(), owner.clone());
    }
    info.insert("objective".into(), slo.objective.text.clone());
    info.insert("period".into(), slo.period.text.clone());
    info.insert("sli".into(), slo.sli.kind().into());
    info.insert("alertname".into(), slo.alerting.name.clone());
    info.insert("dashboard_uid".into(), names::dashboard_uid(&svc.name));
    if !slo.group_by.is_empty() {
        info.insert("group_by".into(), slo.group_by.join(","));
    }
    info
}
