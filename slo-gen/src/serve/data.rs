//! What the pages show, read from Prometheus: the overview of every SLO in four queries
//! (budget left, current burn rate, the period's error ratio, firing alerts), and one
//! SLO's history over its period.

use super::App;
use crate::names::{self, series};
use crate::promapi::{ApiError, Series};
use slo_eval::{millis, Timestamp};
use slo_spec::names::format_duration;
use slo_spec::Tier;
use slo_spec::{Service, Slo};
use std::collections::BTreeMap;
use std::time::Duration;

type Group = BTreeMap<String, String>;

/// One SLO (one group of it) on the list page.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub service: String,
    pub slo: String,
    pub owner: String,
    pub objective: String,
    pub period: String,
    pub group: Group,
    pub attainment: Option<f64>,
    pub budget_remaining: Option<f64>,
    pub burn_rate: Option<f64>,
    /// `page`, `ticket`, `absent` or `none`: the worst alert firing.
    pub state: &'static str,
    pub runbook: Option<String>,
    pub dashboard: String,
    pub description: String,
}

impl Row {
    /// `service/slo` and the group when there is one.
    pub fn name(&self) -> String {
        crate::names::slo_display(&self.service, &self.slo, &self.group)
    }
}

fn ident(s: &Series) -> Option<(String, String)> {
    Some((
        s.labels.get("service")?.clone(),
        s.labels.get("slo")?.clone(),
    ))
}

fn group_of(s: &Series, slo: &Slo) -> Group {
    s.group(&slo.group_by)
}

fn value(s: &Series) -> Option<f64> {
    s.samples.first().map(|p| p.1).filter(|v| v.is_finite())
}

/// The name of the series holding an SLO's error ratio over its period.
pub fn period_ratio(slo: &Slo) -> String {
    match slo.calendar() {
        Some(_) => series::ERROR_RATIO_CALENDAR.to_string(),
        None => series::error_ratio(slo_eval::plan(slo).period),
    }
}

/// Every SLO and group, worst budget first, in four queries.
// Long: four queries and the one index joining them; split, the join would be spread out.
pub fn overview(app: &App) -> Result<Vec<Row>, ApiError> {
    let now = crate::backtest::history::now();
    let q = |e: &str| app.client.query(e, now);
    let budget = q(series::BUDGET_REMAINING)?;
    let burn = q(series::CURRENT_BURN_RATE)?;
    let ratios = q(&series::every_error_ratio())?;
    let alerts = q(&format!(
        "{}{{alertstate=\"firing\",{}!=\"\"}}",
        series::ALERTS,
        names::TIER_LABEL
    ))?;
    // Each result indexed once by (service, slo): the page stays linear in the SLOs.
    fn index(list: &[Series]) -> BTreeMap<(String, String), Vec<&Series>> {
        let mut m: BTreeMap<(String, String), Vec<&Series>> = BTreeMap::new();
        for s in list {
            if let Some(k) = ident(s) {
                m.entry(k).or_default().push(s);
            }
        }
        m
    }
    let (budget, burn, ratios, alerts) =
        (index(&budget), index(&burn), index(&ratios), index(&alerts));
    let mut rows = Vec::new();
    for svc in &app.services {
        for slo in &svc.slos {
            let me = (svc.name.clone(), slo.name.clone());
            let mine = |m: &BTreeMap<(String, String), Vec<&Series>>| -> Vec<Series> {
                m.get(&me)
                    .map(|v| v.iter().map(|s| (*s).clone()).collect())
                    .unwrap_or_default()
            };
            let (b, r) = (mine(&budget), mine(&burn));
            let ratio_name = period_ratio(slo);
            let ra: Vec<Series> = mine(&ratios)
                .into_iter()
                .filter(|s| s.labels.get("__name__") == Some(&ratio_name))
                .collect();
            let al = mine(&alerts);
            let mut groups: Vec<Group> = b
                .iter()
                .chain(&r)
                .chain(&ra)
                .map(|s| group_of(s, slo))
                .collect();
            groups.sort();
            groups.dedup();
            if groups.is_empty() {
                groups.push(Group::new());
            }
            for g in groups {
                let pick =
                    |list: &[Series]| list.iter().find(|s| group_of(s, slo) == g).and_then(value);
                // A label-less alert of a grouped SLO (nothing at all reports) is every group's.
                let state = al
                    .iter()
                    .filter(|a| {
                        let ag = group_of(a, slo);
                        ag == g || ag.is_empty()
                    })
                    .filter_map(|a| Tier::from_label(a.labels.get(names::TIER_LABEL)?))
                    .max_by_key(|t| t.severity())
                    .map_or("none", Tier::as_str);
                rows.push(Row {
                    service: svc.name.clone(),
                    slo: slo.name.clone(),
                    owner: svc.owner.clone().unwrap_or_default(),
                    objective: slo.objective.text.clone(),
                    period: slo.period.text.clone(),
                    group: g.clone(),
                    attainment: pick(&ra).map(|r| 1.0 - r),
                    budget_remaining: pick(&b),
                    burn_rate: pick(&r),
                    state,
                    runbook: slo.alerting.annotations.get("runbook_url").cloned(),
                    dashboard: format!(
                        "{}/d/{}",
                        app.grafana_url.trim_end_matches('/'),
                        names::dashboard_uid(&svc.name)
                    ),
                    description: slo.description.clone(),
                });
            }
        }
    }
    rows.sort_by(|a, b| {
        let key = |r: &Row| r.budget_remaining.unwrap_or(f64::INFINITY);
        key(a)
            .total_cmp(&key(b))
            .then_with(|| a.name().cmp(&b.name()))
    });
    Ok(rows)
}

pub fn rows_json(rows: &[Row]) -> serde_json::Value {
    serde_json::Value::Array(
        rows.iter()
            .map(|r| {
                serde_json::json!({
                    "service": r.service,
                    "slo": r.slo,
                    "group": r.group,
                    "owner": r.owner,
                    "objective": r.objective,
                    "period": r.period,
                    "attainment": r.attainment,
                    "budget_remaining": r.budget_remaining,
                    "burn_rate": r.burn_rate,
                    "state": r.state,
                    "runbook_url": r.runbook,
                    "dashboard_url": r.dashboard,
                })
            })
            .collect(),
    )
}

/// A line on a chart: its legend and its points, per group.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    pub legend: String,
    pub points: Vec<(Timestamp, f64)>,
}

/// One SLO over its period (the current calendar period for calendar SLOs).
#[derive(Clone, Debug, PartialEq)]
pub struct Detail {
    pub from: Timestamp,
    pub to: Timestamp,
    pub budget: Vec<Line>,
    pub error_ratio: Vec<Line>,
    /// Per alert window: the burn rate lines and the thresholds drawn on it.
    pub burn: Vec<(String, Vec<f64>, Vec<Line>)>,
    /// (tier, group, start, end) from `ALERTS`.
    pub alerts: Vec<(String, String, Timestamp, Timestamp)>,
}

fn lines(list: Vec<Series>, slo: &Slo, legend: &str) -> Vec<Line> {
    list.into_iter()
        .map(|s| {
            let g = group_of(&s, slo);
            let name = if g.is_empty() {
                legend.to_string()
            } else {
                let v: Vec<String> = g.values().cloned().collect();
                format!("{legend} {}", v.join(","))
            };
            Line {
                legend: name,
                points: s.samples.into_iter().filter(|p| p.1.is_finite()).collect(),
            }
        })
        .collect()
}

/// The calendar period's start at `now` (UTC), for calendar SLOs.
fn calendar_start(slo: &Slo, now: Timestamp) -> Option<Timestamp> {
    use jiff::ToSpan;
    let c = slo.calendar()?;
    let z = jiff::Timestamp::from_millisecond(now.0)
        .ok()?
        .to_zoned(jiff::tz::TimeZone::UTC);
    let d = z.date();
    let start = match c {
        slo_spec::Calendar::Month => d.first_of_month(),
        slo_spec::Calendar::Quarter => {
            let m = ((d.month() - 1) / 3) * 3 + 1;
            jiff::civil::date(d.year(), m, 1)
        }
        slo_spec::Calendar::Week => {
            let back = d.weekday().to_monday_zero_offset() as i64;
            d.checked_sub(back.days()).ok()?
        }
    };
    Some(Timestamp(
        start
            .to_zoned(jiff::tz::TimeZone::UTC)
            .ok()?
            .timestamp()
            .as_millisecond(),
    ))
}

/// `span`: the last this long instead of the whole period (a zoom; never longer).
pub fn detail(
    app: &App,
    svc: &Service,
    slo: &Slo,
    span: Option<Duration>,
) -> Result<Detail, ApiError> {
    let plan = slo_eval::plan(slo);
    let now = crate::backtest::history::now();
    let period_start = calendar_start(slo, now).unwrap_or(now - millis(plan.period));
    let from = match span {
        Some(s) => (now - millis(s)).max(period_start),
        None => period_start,
    };
    let step = ((now - from) / 240).max(millis(plan.interval)).max(1000);
    let sel = names::selector(&svc.name, &slo.name);
    let budget = slo.objective.budget_decimal().to_f64();
    let range = |q: &str| app.client.query_range(q, from, now, step, &mut |_, _| {});
    let b = lines(
        range(&format!("{}{sel}", series::BUDGET_REMAINING))?,
        slo,
        "budget left",
    );
    let e = lines(
        range(&format!("{}{sel}", series::error_ratio(plan.current)))?,
        slo,
        "error ratio",
    );
    let mut burn = Vec::new();
    let mut windows: Vec<(Duration, Vec<f64>)> = Vec::new();
    for t in &plan.tiers {
        for p in &t.pairs {
            for w in [p.long, p.short] {
                match windows.iter_mut().find(|(x, _)| *x == w) {
                    Some((_, th)) => th.push(p.burn_rate.to_f64()),
                    None => windows.push((w, vec![p.burn_rate.to_f64()])),
                }
            }
        }
    }
    windows.sort_by_key(|w| w.0);
    for (w, mut thresholds) in windows {
        thresholds.sort_by(f64::total_cmp);
        thresholds.dedup();
        let q = format!("{}{sel} / {budget}", series::error_ratio(w));
        burn.push((
            format_duration(w),
            thresholds,
            lines(range(&q)?, slo, "burn rate"),
        ));
    }
    let alerts_q = crate::report::firing_query(&sel, (step / 1000).max(1));
    let mut alerts = Vec::new();
    for s in range(&alerts_q)? {
        let tier = s.labels.get(names::TIER_LABEL).cloned().unwrap_or_default();
        let g: Vec<String> = group_of(&s, slo)
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        for (a, b) in crate::report::firing_runs(&s.samples, step, now) {
            alerts.push((tier.clone(), g.join(","), a, b));
        }
    }
    alerts.sort_by_key(|a| std::cmp::Reverse(a.2));
    Ok(Detail {
        from,
        to: now,
        budget: b,
        error_ratio: e,
        burn,
        alerts,
    })
}
