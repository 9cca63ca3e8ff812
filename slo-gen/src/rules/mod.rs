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
use slo_spec::{Calendar, Service, Slo};
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

    // The error events of "good" and latency SLIs subtract the good ones from all events,
    // computed from the raw series in the same expression: vmalert reads a series recorded
    // in the same round only after its remote write, so reading the recorded events there
    // subtracts this round's good events from the last round's events (measured: 0.34%
    // phantom errors at steady traffic, `tests/e2e/tests/chain/engines.rs`).
    let base = sli::base_queries(slo, &plan);
    let (errors, events) = (base.errors.clone(), base.events.clone());
    let mut fast = vec![
        record(series::events(plan.base), events, &ids),
        record(series::error_events(plan.base), errors, &ids),
    ];
    if let Some(inputs) = base.inputs {
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
    if let Some(calendar) = slo.calendar() {
        fast.extend(calendar_rules(&plan, calendar, &sel, &ids));
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
    // The budget of a calendar SLO is the period's to date; of a rolling one, the window's.
    let budget_rule = record(
        series::BUDGET_REMAINING.into(),
        match slo.calendar() {
            Some(_) => format!("1 - {}{sel} / {budget}", series::ERROR_RATIO_CALENDAR),
            None => format!("1 - {}{sel} / {budget}", series::error_ratio(plan.period)),
        },
        &ids,
    );
    if slo.calendar().is_some() {
        fast.push(budget_rule);
    } else {
        slow.push(budget_rule);
    }
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

/// The calendar period's id at evaluation time (UTC): months and quarters counted from
/// year 0, ISO weeks from Monday 1970-01-05.
pub fn calendar_id(calendar: Calendar) -> &'static str {
    match calendar {
        Calendar::Month => "year() * 12 + month() - 1",
        Calendar::Quarter => "year() * 4 + floor((month() - 1) / 3)",
        Calendar::Week => "floor((vector(time()) - 345600) / 604800)",
    }
}

/// Seconds from evaluation time to the period's end (UTC). `time() % 86400` is the time
/// into the day; `days_in_month(t)` of a later timestamp gives the next months' lengths.
fn calendar_remaining(calendar: Calendar) -> String {
    let next_month =
        "(time() - (day_of_month() - 1) * 86400 - time() % 86400 + days_in_month() * 86400)";
    match calendar {
        Calendar::Week => "(7 - (day_of_week() + 6) % 7) * 86400 - time() % 86400".into(),
        Calendar::Month => "(days_in_month() - day_of_month() + 1) * 86400 - time() % 86400".into(),
        // To the next month, then the quarter's months after it (two after its first
        // month, one after its second).
        Calendar::Quarter => format!(
            "{next_month} - time()\n+ (month() % 3 != bool 0) * days_in_month({next_month}) * 86400\n+ (month() % 3 == bool 1) * days_in_month({next_month} + days_in_month({next_month}) * 86400) * 86400"
        ),
    }
}

/// The period-to-date sums of a calendar SLO: each evaluation adds the base samples to the
/// previous sums while the period is the same, and starts again at the period's first
/// evaluation. The previous values are read over the last hour, so a restart of Prometheus
/// within an hour keeps the period's sums. Rules in a group run in order: the id is
/// recorded after the sums, so the sums read the previous evaluation's id.
fn calendar_rules(
    plan: &Plan,
    calendar: Calendar,
    sel: &str,
    ids: &BTreeMap<String, String>,
) -> Vec<Rule> {
    let id = calendar_id(calendar);
    let sum = |name: &str, base: String| {
        record(
            name.into(),
            format!(
                "{base}{sel}\n+\n(\n  last_over_time({name}{sel}[1h])\n  and on()\n  (last_over_time({period}{sel}[1h]) == on() ({id}))\n)\nor\n{base}{sel}",
                period = series::CALENDAR_PERIOD
            ),
            ids,
        )
    };
    vec![
        sum(series::EVENTS_CALENDAR, series::events(plan.base)),
        sum(
            series::ERROR_EVENTS_CALENDAR,
            series::error_events(plan.base),
        ),
        record(series::CALENDAR_PERIOD.into(), id.to_string(), ids),
        record(
            series::ERROR_RATIO_CALENDAR.into(),
            format!(
                "{}{sel}\n/\n({}{sel} > 0)",
                series::ERROR_EVENTS_CALENDAR,
                series::EVENTS_CALENDAR
            ),
            ids,
        ),
        record(
            series::CALENDAR_REMAINING.into(),
            calendar_remaining(calendar),
            ids,
        ),
    ]
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
