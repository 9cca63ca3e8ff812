//! Prometheus recording and alerting rules for one service.
//!
//! Raw series are read once per SLO, at the base window (`slo:sli_error_events:rate<b>` and
//! `slo:sli_events:rate<b>`). Every longer window is a ratio of sums over those recorded,
//! already aggregated series (exact under changing traffic, unlike an average of ratios),
//! and every division is guarded so zero traffic gives no series instead of NaN.

use crate::policy::{self, Plan, Severity, TierPlan};
use slo_spec::{Numerator, Service, Sli, Slo};
use std::collections::BTreeMap;
use std::time::Duration;

/// Labels every recorded series of an SLO carries; they identify the SLO.
pub fn selector(service: &str, slo: &str) -> String {
    format!("{{service=\"{service}\",slo=\"{slo}\"}}")
}

/// Recorded series names, in one place so dashboards and tests use the same ones.
pub mod names {
    use super::*;

    pub fn error_events(base: Duration) -> String {
        format!("slo:sli_error_events:rate{}", policy::text(base))
    }
    pub fn events(base: Duration) -> String {
        format!("slo:sli_events:rate{}", policy::text(base))
    }
    pub fn error_ratio(window: Duration) -> String {
        format!("slo:sli_error:ratio_rate{}", policy::text(window))
    }
    pub const OBJECTIVE: &str = "slo:objective:ratio";
    pub const ERROR_BUDGET: &str = "slo:error_budget:ratio";
    pub const PERIOD: &str = "slo:period:seconds";
    pub const BUDGET_REMAINING: &str = "slo:error_budget_remaining:ratio";
    pub const CURRENT_BURN_RATE: &str = "slo:current_burn_rate:ratio";
    pub const INFO: &str = "slo:info";
}

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

/// The dashboard uid of a service: stable and at most 40 characters (Grafana's limit);
/// long names keep a prefix and a hash of the whole name, so they stay distinct.
pub fn dashboard_uid(service: &str) -> String {
    let uid = format!("slo-{service}");
    if uid.len() <= 40 {
        return uid;
    }
    // FNV-1a: tiny, stable across platforms and releases.
    let hash = service.bytes().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100000001b3)
    });
    format!("{}-{:08x}", &uid[..31], hash as u32)
}

fn record(record: String, expr: String, labels: &BTreeMap<String, String>) -> Rule {
    Rule::Record {
        record,
        expr,
        labels: labels.clone(),
    }
}

/// The base expressions: error events and all events per second at the base window
/// (for freshness and raw SLIs: bad slices and slices). `events` names the events series
/// recorded just before in the same group, so "total - good" reads the raw total once.
pub fn base_exprs(sli: &Sli, base: Duration, events: &str) -> (String, String) {
    let b = policy::text(base);
    match sli {
        Sli::Ratio(r) => {
            let total = format!("{} or vector(0)", summed(&r.total.render(&b)));
            let errors = match &r.numerator {
                Numerator::Errors(q) => format!("{} or vector(0)", summed(&q.render(&b))),
                Numerator::Good(q) => {
                    format!(
                        "clamp_min({events} - on() ({} or vector(0)), 0)",
                        summed(&q.render(&b))
                    )
                }
            };
            (errors, total)
        }
        Sli::Latency(l) => {
            let sel = |extra: &str| {
                let mut m = l.matchers.clone();
                if !extra.is_empty() {
                    if !m.is_empty() {
                        m.push(',');
                    }
                    m.push_str(extra);
                }
                format!("{{{m}}}")
            };
            let total = format!(
                "sum(rate({}_count{}[{b}])) or vector(0)",
                l.histogram,
                sel("")
            );
            let good = format!(
                "sum(rate({}_bucket{}[{b}])) or vector(0)",
                l.histogram,
                sel(&format!("le=\"{}\"", l.le()))
            );
            (format!("clamp_min({events} - on() ({good}), 0)"), total)
        }
        Sli::Freshness(f) => {
            let sel = format!("{}{{{}}}", f.metric, f.matchers);
            let age = slo_spec::model::seconds_text(f.max_age);
            (
                format!("(time() - max({sel}) > bool {age}) or vector(0)"),
                format!("count(max({sel})) or vector(0)"),
            )
        }
        Sli::Raw(r) => {
            // NaN ratios (0/0 inside the user's query) are dropped, not summed.
            let ratio = format!("max({}) >= 0", r.error_ratio.render(&b));
            (format!("clamp_max({ratio}, 1)"), format!("count({ratio})"))
        }
    }
}

/// The query aggregated into one series: `sum(...)` unless it already is a plain `sum`.
fn summed(query: &str) -> String {
    use promql_parser::parser::{token, Expr};
    let q = query.trim();
    match promql_parser::parser::parse(q) {
        Ok(Expr::Aggregate(a)) if a.op.id() == token::T_SUM && a.modifier.is_none() => {
            q.to_string()
        }
        _ => format!("sum({q})"),
    }
}

fn ratio_expr(plan: &Plan, window: Duration, sel: &str) -> String {
    let (e, t) = (names::error_events(plan.base), names::events(plan.base));
    if window == plan.base {
        format!("{e}{sel}\n/\n({t}{sel} > 0)")
    } else {
        let w = policy::text(window);
        format!("sum_over_time({e}{sel}[{w}])\n/\n(sum_over_time({t}{sel}[{w}]) > 0)")
    }
}

fn severity_label(t: &TierPlan, slo: &Slo) -> String {
    let tier = match t.severity {
        Severity::Page => &slo.alerting.page,
        Severity::Ticket => &slo.alerting.ticket,
    };
    tier.labels
        .get("severity")
        .cloned()
        .unwrap_or_else(|| t.severity.as_str().to_string())
}

fn alert_expr(plan: &Plan, t: &TierPlan, slo: &Slo, sel: &str) -> String {
    let budget = slo.objective.budget_decimal();
    let guard = |long: Duration| match slo.alerting.min_events {
        Some(n) => format!(
            "\n  and\n  avg_over_time({}{sel}[{}]) * {} >= {n}",
            names::events(plan.base),
            policy::text(long),
            long.as_secs()
        ),
        None => String::new(),
    };
    t.pairs
        .iter()
        .map(|p| {
            let burn = p.burn_rate;
            format!(
                "(\n  {long}{sel} / {budget} > {burn}\n  and\n  {short}{sel} / {budget} > {burn}{guard}\n)",
                long = names::error_ratio(p.long),
                short = names::error_ratio(p.short),
                guard = guard(p.long)
            )
        })
        .collect::<Vec<_>>()
        .join("\nor\n")
}

fn summary(slo_ref: &str, headline: Option<&String>, t: &TierPlan, budget_query: &str) -> String {
    let windows: Vec<String> = t
        .pairs
        .iter()
        .map(|p| format!("{}x over {}", p.burn_rate, policy::text(p.long)))
        .collect();
    let lead = match headline {
        Some(h) => format!("{h}: {slo_ref}"),
        None => slo_ref.to_string(),
    };
    format!(
        "{lead} is burning its error budget {{{{ printf \"%.1f\" $value }}}}x as fast as sustainable \
         ({} threshold: {}); {{{{ with query \"{budget_query}\" }}}}{{{{ . | first | value | humanizePercentage }}}}{{{{ else }}}}unknown{{{{ end }}}} of the budget left",
        t.severity.as_str(),
        windows.join(" or "),
    )
}

/// Every rule group of one service, in spec order.
pub fn service_groups(svc: &Service, opts: &Options) -> Vec<Group> {
    let mut groups = Vec::new();
    for slo in &svc.slos {
        groups.extend(slo_groups(svc, slo, opts));
    }
    groups
}

pub fn slo_groups(svc: &Service, slo: &Slo, opts: &Options) -> Vec<Group> {
    let plan = policy::plan(slo);
    let sel = selector(&svc.name, &slo.name);
    let ids: BTreeMap<String, String> = [("service", &svc.name), ("slo", &slo.name)]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let budget = slo.objective.budget_decimal();

    let (errors, events) = base_exprs(
        &slo.sli,
        plan.base,
        &format!("{}{sel}", names::events(plan.base)),
    );
    // Events first: the error events of "good" and latency SLIs subtract from them.
    let mut fast = vec![
        record(names::events(plan.base), events, &ids),
        record(names::error_events(plan.base), errors, &ids),
    ];
    let mut slow = Vec::new();
    for &w in &plan.windows {
        let rule = record(names::error_ratio(w), ratio_expr(&plan, w, &sel), &ids);
        if w <= plan.fast_limit {
            fast.push(rule);
        } else {
            slow.push(rule);
        }
    }
    fast.push(record(
        names::OBJECTIVE.into(),
        format!("vector({})", slo.objective.ratio_decimal()),
        &ids,
    ));
    fast.push(record(
        names::ERROR_BUDGET.into(),
        format!("vector({budget})"),
        &ids,
    ));
    fast.push(record(
        names::PERIOD.into(),
        format!("vector({})", plan.period.as_secs()),
        &ids,
    ));
    fast.push(record(
        names::CURRENT_BURN_RATE.into(),
        format!("{}{sel} / {budget}", names::error_ratio(plan.current)),
        &ids,
    ));
    let mut info = ids.clone();
    if let Some(owner) = &svc.owner {
        info.insert("owner".into(), owner.clone());
    }
    info.insert("objective".into(), slo.objective.text.clone());
    info.insert("period".into(), slo.period.text.clone());
    info.insert("sli".into(), slo.sli.kind().into());
    info.insert("alertname".into(), slo.alerting.name.clone());
    info.insert("dashboard_uid".into(), dashboard_uid(&svc.name));
    fast.push(record(names::INFO.into(), "vector(1)".into(), &info));
    slow.push(record(
        names::BUDGET_REMAINING.into(),
        format!("1 - {}{sel} / {budget}", names::error_ratio(plan.period)),
        &ids,
    ));

    let mut alerts = Vec::new();
    let slo_ref = format!("{}/{}", svc.name, slo.name);
    let budget_query = format!(
        "{}{{service='{}',slo='{}'}}",
        names::BUDGET_REMAINING,
        svc.name,
        slo.name
    );
    let dashboard_url = format!(
        "{}/d/{}",
        opts.grafana_url.trim_end_matches('/'),
        dashboard_uid(&svc.name)
    );
    for t in &plan.tiers {
        let tier = match t.severity {
            Severity::Page => &slo.alerting.page,
            Severity::Ticket => &slo.alerting.ticket,
        };
        let mut labels = svc.labels.clone();
        labels.extend(slo.labels.clone());
        labels.extend(slo.alerting.labels.clone());
        labels.extend(tier.labels.clone());
        labels.extend(ids.clone());
        if let Some(owner) = &svc.owner {
            labels.insert("owner".into(), owner.clone());
        }
        labels.insert("severity".into(), severity_label(t, slo));
        labels.insert("slo_tier".into(), t.severity.as_str().into());
        let mut annotations = BTreeMap::new();
        if !slo.description.is_empty() {
            annotations.insert("description".into(), slo.description.clone());
        }
        annotations.insert("dashboard_url".into(), dashboard_url.clone());
        annotations.extend(slo.alerting.annotations.clone());
        annotations.extend(tier.annotations.clone());
        // The spec's summary leads; the burn rate and budget left always follow.
        let headline = annotations.get("summary").cloned();
        annotations.insert(
            "summary".into(),
            summary(&slo_ref, headline.as_ref(), t, &budget_query),
        );
        alerts.push(Rule::Alert {
            alert: slo.alerting.name.clone(),
            expr: alert_expr(&plan, t, slo, &sel),
            for_: t.for_,
            labels,
            annotations,
        });
    }

    let mut groups = vec![Group {
        name: format!("slo-{}-{}", svc.name, slo.name),
        interval: plan.fast_interval,
        rules: fast,
    }];
    if !slow.is_empty() {
        groups.push(Group {
            name: format!("slo-{}-{}-long", svc.name, slo.name),
            interval: plan.slow_interval,
            rules: slow,
        });
    }
    // Alerts last: where groups run in sequence (promtool, rulers that chain groups) they
    // read the windows recorded in the same round.
    if !alerts.is_empty() {
        groups.push(Group {
            name: format!("slo-{}-{}-alerts", svc.name, slo.name),
            interval: plan.fast_interval,
            rules: alerts,
        });
    }
    groups
}
