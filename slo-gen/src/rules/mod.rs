//! Prometheus recording and alerting rules for one service.
//!
//! Raw series are read once per SLO, over four scrapes ([`sli`]). Running totals of those
//! aggregated rates make every longer window a difference of two totals ([`totals`]):
//! exact under changing traffic (a ratio of sums, not an average of ratios) and the same
//! few samples whatever the window's length. Every division is guarded so zero traffic
//! gives no series instead of NaN. [`alerts`] builds the burn-rate alerts; [`emit`] writes
//! the groups as YAML.

pub mod alerts;
pub mod breakdown;
pub mod emit;
pub mod exclusions;
pub mod senders;
pub mod sli;
pub mod split;
pub mod totals;

use crate::names::series::Count;
use crate::names::{self, series, GroupKind};
use slo_eval::plan::CHECKPOINT_EVERY;
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
    /// The split layout's allowance for remote write and the store's read delay
    /// ([`split::lookback`]).
    pub remote_write_delay: Duration,
    /// The split layout: local and global rule sets ([`split`]).
    pub split: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            grafana_url: "http://localhost:3000".into(),
            remote_write_delay: Duration::from_secs(60),
            split: false,
        }
    }
}

/// Every rule group of one service in the split layout: the local set, then the global.
pub fn service_split(svc: &Service, opts: &Options) -> split::Split {
    let mut out = split::Split {
        local: Vec::new(),
        global: Vec::new(),
    };
    for slo in &svc.slos {
        let plan = slo_eval::plan(slo);
        let groups = plan_groups(svc, slo, &plan, opts);
        let s = split::split(svc, slo, &plan, groups, opts);
        out.local.extend(s.local);
        out.global.extend(s.global);
    }
    out
}

pub(crate) fn record(
    record: impl Into<String>,
    expr: String,
    labels: &BTreeMap<String, String>,
) -> Rule {
    Rule::Record {
        record: record.into(),
        expr,
        labels: labels.clone(),
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
    plan_groups(svc, slo, &slo_eval::plan(slo), opts)
}

/// The groups of one SLO for a plan (the SLO's own, or one evaluated at another interval,
/// as the promtool suites do).
// Long: the rules of an SLO's groups in the order they are written to the file.
pub fn plan_groups(svc: &Service, slo: &Slo, plan: &slo_eval::Plan, opts: &Options) -> Vec<Group> {
    let plan = plan.clone();
    let sel = names::selector(&svc.name, &slo.name);
    let ids: BTreeMap<String, String> = [("service", &svc.name), ("slo", &slo.name)]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let budget = slo.objective.budget_decimal();

    // The error events of "good" and latency SLIs subtract the good ones from all events,
    // computed from the raw series in the same expression: vmalert reads a series recorded
    // in the same round only after its remote write, so reading the recorded events there
    // subtracts this round's good events from the last round's events (measured: 0.34%
    // phantom errors at steady traffic, `tests/e2e/tests/chain/engines.rs`).
    let base = sli::base_queries(slo, &plan);
    let (errors, events) = (base.errors.clone(), base.events.clone());
    let mut fast = vec![
        record(
            series::events(plan.base),
            exclusions::base(events, &slo.exclusions),
            &ids,
        ),
        record(
            series::error_events(plan.base),
            exclusions::base(errors, &slo.exclusions),
            &ids,
        ),
    ];
    if let Some(inputs) = base.inputs {
        fast.push(record(series::INPUTS, inputs, &ids));
    }
    // A period's start is taken before this evaluation adds to the totals.
    if let Some(calendar) = slo.calendar() {
        fast.extend(totals::calendar_starts(&plan, calendar, &sel, &ids));
    }
    fast.extend(totals::totals(&plan, &sel, &ids));
    for &w in &plan.windows {
        fast.extend(totals::window(&plan, w, &sel, &ids));
    }
    if let Some(calendar) = slo.calendar() {
        fast.extend(totals::calendar(&plan, calendar, &sel, &ids));
    }
    let constant = |name: &str, value: String| record(name, format!("vector({value})"), &ids);
    fast.push(constant(
        series::OBJECTIVE,
        slo.objective.ratio_decimal().to_string(),
    ));
    fast.push(constant(series::ERROR_BUDGET, budget.to_string()));
    fast.push(constant(series::PERIOD, plan.period.as_secs().to_string()));
    fast.push(record(
        series::CURRENT_BURN_RATE,
        format!("{}{sel} / {budget}", series::error_ratio(plan.current)),
        &ids,
    ));
    if let Some(ex) = exclusions::excluded(&slo.exclusions) {
        fast.push(record(series::EXCLUDED, format!("vector({ex})"), &ids));
    }
    fast.push(record(
        series::INFO,
        "vector(1)".into(),
        &info(svc, slo, &ids),
    ));
    // The budget of a calendar SLO is the period's to date; of a rolling one, the window's.
    fast.push(record(
        series::BUDGET_REMAINING,
        match slo.calendar() {
            Some(_) => format!("1 - {}{sel} / {budget}", series::ERROR_RATIO_CALENDAR),
            None => format!("1 - {}{sel} / {budget}", series::error_ratio(plan.period)),
        },
        &ids,
    ));
    fast.push(record(
        series::BUDGET_EXHAUSTION,
        exhaustion(&sel, plan.period),
        &ids,
    ));
    let resume = Count::BOTH
        .into_iter()
        .map(|c| totals::resume(&plan, c, &sel, &ids))
        .collect();
    let mut alerts: Vec<Rule> = plan
        .tiers
        .iter()
        .map(|t| alerts::alert(svc, slo, t, opts))
        .collect();
    if let Some(absent) = &plan.absent {
        alerts.push(alerts::absent(svc, slo, absent, opts));
    }

    let group = |kind, interval, rules| Group {
        name: names::group(&svc.name, &slo.name, kind),
        interval,
        rules,
    };
    let mut groups = vec![
        group(GroupKind::Fast, plan.interval, fast),
        group(GroupKind::Resume, CHECKPOINT_EVERY, resume),
    ];
    // Alerts last: where groups run in sequence (promtool, rulers that chain groups) they
    // read the windows recorded in the same round.
    if !alerts.is_empty() {
        groups.push(group(GroupKind::Alerts, plan.interval, alerts));
    }
    groups
}

/// Seconds until the budget left is spent at the current burn rate (burning at 1x spends
/// the whole budget in one period): `left × period / burn`, 0 once nothing is left, no
/// series while nothing burns and budget is left. A calendar SLO's is the same reading of
/// its period-to-date budget.
fn exhaustion(sel: &str, period: Duration) -> String {
    let left = format!("{}{sel}", series::BUDGET_REMAINING);
    format!(
        "clamp_min({left}, 0) * {} / ({}{sel} > 0)\nor\n({left} <= 0) * 0",
        period.as_secs(),
        series::CURRENT_BURN_RATE
    )
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
