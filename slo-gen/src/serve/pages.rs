//! The pages, as maud templates: every spec-supplied string (names, descriptions, labels,
//! URLs) goes through maud's escaping; URLs are only ever put in `href`. One stylesheet,
//! inline; a two-line script reloads the list every 30 seconds (the page works without it).

use super::data::{Detail, Line, Row};
use super::App;
use crate::backtest::history::rfc3339;
use crate::promapi::ApiError;
use crate::rules::{self, emit};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use slo_eval::Timestamp;
use slo_spec::{Service, Slo};
use std::collections::BTreeMap;

const STYLE: &str = "body{font-family:sans-serif;margin:1.5em;color:#222}a{color:#0b5cad}table{border-collapse:collapse;font-size:13px}td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:middle}.bar{width:120px;height:10px;background:#eee;display:inline-block;position:relative}.bar span{position:absolute;left:0;top:0;bottom:0;background:#2ca02c}.bar.low span{background:#ff7f0e}.bar.out span{background:#d62728}.state{font-weight:bold;padding:1px 6px;border-radius:3px}.page{background:#d62728;color:#fff}.ticket{background:#ff7f0e;color:#fff}.absent{background:#7f7f7f;color:#fff}.none{color:#2ca02c}.error{background:#fdecea;border:1px solid #d62728;padding:8px;margin:8px 0}pre{background:#f6f6f6;padding:8px;overflow:auto;font-size:12px}form{margin:8px 0}";

fn layout(app: &App, title: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                nav { a href=(app.link("/")) { "SLOs" } " · " a href=(app.link("/report")) { "this month's report" } " · " a href=(app.link("/api/v1/slos")) { "JSON" } }
                (body)
            }
        }
    }
    .into_string()
}

fn pct(x: Option<f64>, decimals: usize) -> String {
    crate::text::percent(x, decimals, "no data")
}

fn budget_bar(left: Option<f64>) -> Markup {
    let (class, width) = match left {
        None => ("bar", 0.0),
        Some(l) if l <= 0.0 => ("bar out", 100.0),
        Some(l) if l < 0.25 => ("bar low", l * 100.0),
        Some(l) => ("bar", l.min(1.0) * 100.0),
    };
    html! { span class=(class) { span style=(format!("width:{width:.0}%")) {} } " " (pct(left, 1)) }
}

fn failure(e: &ApiError) -> Markup {
    html! { div class="error" role="alert" { strong { "Prometheus is not answering: " } (e.to_string()) } }
}

pub fn list(app: &App, rows: Result<Vec<Row>, ApiError>, q: &BTreeMap<String, String>) -> String {
    let want = |k: &str, v: &str| q.get(k).is_none_or(|x| x.is_empty() || x == v);
    let services: Vec<&String> = app.services.iter().map(|s| &s.name).collect();
    let owners: std::collections::BTreeSet<String> = app
        .services
        .iter()
        .filter_map(|s| s.owner.clone())
        .collect();
    let body = html! {
        h1 { "Service level objectives" }
        form method="get" action=(app.link("/")) {
            "service " select name="service" { option value="" { "all" } @for s in &services { option value=(s) selected[q.get("service") == Some(*s)] { (s) } } }
            " owner " select name="owner" { option value="" { "all" } @for o in &owners { option value=(o) selected[q.get("owner") == Some(o)] { (o) } } }
            " state " select name="state" { option value="" { "all" } @for s in ["page", "ticket", "absent", "none"] { option value=(s) selected[q.get("state").map(String::as_str) == Some(s)] { (s) } } }
            " " button type="submit" { "filter" }
        }
        @match &rows {
            Err(e) => (failure(e)),
            Ok(rows) => {
                table {
                    tr { th { "SLO" } th { "owner" } th { "objective" } th { "period" } th { "attainment" } th { "budget left" } th { "burn rate" } th { "alerts" } th { "links" } }
                    @for r in rows.iter().filter(|r| want("service", &r.service) && want("owner", &r.owner) && want("state", r.state)) {
                        tr data-state=(r.state) {
                            td { a href=(app.link(&format!("/slo/{}/{}", r.service, r.slo))) title=(r.description) { (r.name()) } }
                            td { (r.owner) }
                            td { (r.objective) "%" }
                            td { (r.period) }
                            td { (pct(r.attainment, 3)) }
                            td { (budget_bar(r.budget_remaining)) }
                            td { (r.burn_rate.map(|b| format!("{b:.2}x")).unwrap_or_else(|| "–".into())) }
                            td { span class=(format!("state {}", r.state)) { (r.state) } }
                            td {
                                @if let Some(u) = &r.runbook { a href=(u) { "runbook" } " · " }
                                a href=(r.dashboard) { "dashboard" }
                            }
                        }
                    }
                }
                p { (rows.len()) " SLOs and groups, worst budget first; refreshed every 30s." }
            }
        }
        script { (PreEscaped("setTimeout(function(){location.reload()},30000);")) }
    };
    layout(app, "SLOs", body)
}

/// Excluded time within `[from, to]`: `(start, end, reason)`, in order.
pub fn excluded(slo: &Slo, from: Timestamp, to: Timestamp) -> Vec<(Timestamp, Timestamp, &str)> {
    let (from, to) = (from.0.div_euclid(1000), to.0.div_euclid(1000) + 1);
    slo_spec::exclusion::occurrences(&slo.exclusions, from, to)
        .into_iter()
        .map(|(a, b, e)| (Timestamp(a * 1000), Timestamp(b * 1000), e.reason.as_str()))
        .collect()
}

/// A line chart of one or more lines over `[from, to]`, with horizontal threshold lines
/// and the excluded time shaded.
pub fn chart(
    lines: &[Line],
    thresholds: &[f64],
    (from, to): (Timestamp, Timestamp),
    excluded: &[(Timestamp, Timestamp, &str)],
    percent: bool,
) -> Markup {
    const W: f64 = 760.0;
    const H: f64 = 180.0;
    const L: f64 = 56.0;
    const T: f64 = 10.0;
    const PH: f64 = 140.0;
    let values = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .chain(thresholds.iter().copied());
    let (mut lo, mut hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    lo = lo.min(0.0);
    if hi <= lo {
        hi = lo + 1.0;
    }
    let span = (to - from).max(1) as f64;
    let x = |t: Timestamp| L + (t - from) as f64 / span * (W - L - 10.0);
    let y = |v: f64| T + (1.0 - (v - lo) / (hi - lo)) * PH;
    let fmt = |v: f64| {
        if percent {
            format!("{:.1}%", v * 100.0)
        } else {
            format!("{v:.2}")
        }
    };
    let colours = [
        "#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf",
    ];
    html! {
        svg xmlns="http://www.w3.org/2000/svg" width=(W) height=(H) viewBox=(format!("0 0 {W} {H}")) font-family="sans-serif" font-size="10" role="img" {
            rect x=(L) y=(T) width=(W - L - 10.0) height=(PH) fill="#fafafa" stroke="#ddd" {}
            @for (a, b, reason) in excluded {
                rect class="excluded" x=(format!("{:.1}", x((*a).max(from)))) y=(T) width=(format!("{:.1}", (x((*b).min(to)) - x((*a).max(from))).max(1.0))) height=(PH) fill="#bbb" fill-opacity="0.4" { title { "excluded: " (reason) } }
            }
            text x=(L - 4.0) y=(y(hi) + 4.0) text-anchor="end" { (fmt(hi)) }
            text x=(L - 4.0) y=(y(lo) + 4.0) text-anchor="end" { (fmt(lo)) }
            @for th in thresholds {
                line x1=(L) x2=(W - 10.0) y1=(format!("{:.1}", y(*th))) y2=(format!("{:.1}", y(*th))) stroke="#d62728" stroke-dasharray="4 3" {}
                text x=(W - 12.0) y=(y(*th) - 2.0) text-anchor="end" fill="#d62728" { (fmt(*th)) }
            }
            @for (i, l) in lines.iter().enumerate() {
                @if l.points.len() > 1 {
                    polyline fill="none" stroke=(colours[i % colours.len()]) stroke-width="1.5" points=(l.points.iter().map(|&(t, v)| format!("{:.1},{:.1}", x(t), y(v))).collect::<Vec<_>>().join(" ")) { title { (l.legend) } }
                }
            }
            @if lines.iter().all(|l| l.points.len() < 2) {
                text x=(W / 2.0) y=(T + PH / 2.0) text-anchor="middle" fill="#777" { "no data" }
            }
            text x=(L) y=(H - 8.0) { (rfc3339(from)) }
            text x=(W - 10.0) y=(H - 8.0) text-anchor="end" { (rfc3339(to)) }
        }
    }
}

pub fn slo(app: &App, svc: &Service, slo: &Slo, detail: Result<Detail, ApiError>) -> String {
    let spec = app.texts.get(&svc.file).cloned().unwrap_or_default();
    let mut rules_text = String::new();
    let opts = rules::Options {
        grafana_url: app.grafana_url.clone(),
        ..Default::default()
    };
    emit::groups(&mut rules_text, 0, &rules::slo_groups(svc, slo, &opts));
    let title = format!("{}/{}", svc.name, slo.name);
    let body = html! {
        h1 { (title) }
        p { (slo.description) }
        p {
            "objective " strong { (slo.objective.text) "%" } " over " (slo.period.text)
            @if let Some(o) = &svc.owner { " · owner " (o) }
            @if let Some(u) = slo.alerting.annotations.get("runbook_url") { " · " a href=(u) { "runbook" } }
            " · " a href=(format!("{}/d/{}", app.grafana_url.trim_end_matches('/'), crate::names::dashboard_uid(&svc.name))) { "dashboard" }
        }
        @match &detail {
            Err(e) => (failure(e)),
            Ok(d) => {
                @if slo.calendar().is_some() { p { "The current calendar period (UTC), from " (rfc3339(d.from)) "." } }
                @let ex = excluded(slo, d.from, d.to);
                @let range = (d.from, d.to);
                h2 { "Error budget left" }
                (chart(&d.budget, &[0.0], range, &ex, true))
                h2 { "Error ratio against the budget" }
                (chart(&d.error_ratio, &[slo.objective.budget_decimal().to_f64()], range, &ex, true))
                h2 { "Burn rate per alert window" }
                @for (w, th, lines) in &d.burn {
                    h3 { (w) }
                    (chart(lines, th, range, &ex, false))
                }
                @if !ex.is_empty() {
                    h2 { "Excluded time (shaded grey: counted neither good nor bad)" }
                    table {
                        tr { th { "from" } th { "to" } th { "reason" } }
                        @for (a, b, reason) in &ex {
                            tr class="excluded" { td { (rfc3339(*a)) } td { (rfc3339(*b)) } td { (reason) } }
                        }
                    }
                }
                h2 { "Alerts" }
                @if d.alerts.is_empty() { p { "None fired over the period." } }
                @else {
                    table {
                        tr { th { "tier" } th { "group" } th { "from" } th { "to" } }
                        @for (tier, group, a, b) in &d.alerts {
                            tr { td { span class=(format!("state {tier}")) { (tier) } } td { (group) } td { (rfc3339(*a)) } td { (rfc3339(*b)) } }
                        }
                    }
                }
            }
        }
        h2 { "The spec, as written (" (svc.file) ")" }
        pre { (spec) }
        h2 { "The rules generated from it" }
        pre { (rules_text) }
    };
    layout(app, &title, body)
}

pub fn not_found(app: &App, message: &str) -> String {
    layout(
        app,
        "not found",
        html! { h1 { "Not found" } p { (message) } p { a href=(app.link("/")) { "All SLOs" } } },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excluded_time_is_shaded_and_named_where_it_falls() {
        let c = slo_spec::check(&[slo_spec::Source {
            path: "s.yaml".into(),
            text: "version: v1\nservice: s\nowner: o\nslos:\n  - name: a\n    description: d\n    objective: 99.9\n    sli:\n      ratio:\n        errors: sum(rate(x_total{code=\"500\"}[{{window}}]))\n        total: sum(rate(x_total[{{window}}]))\n    exclusions:\n      - reason: weekly maintenance\n        weekly: {day: sunday, from: \"02:00\", to: \"04:00\"}\n".into(),
        }]);
        let slo = &c.services[0].slos[0];
        // 2026-10-11 was a Sunday; a week from the Saturday before holds one window.
        let sat = Timestamp(1_791_590_400_000);
        let ex = excluded(slo, sat, sat + 7 * 86_400_000);
        let sunday_2am = Timestamp(1_791_684_000_000);
        assert_eq!(
            ex,
            vec![(sunday_2am, sunday_2am + 7_200_000, "weekly maintenance")]
        );
        let svg = chart(&[], &[], (sat, sat + 7 * 86_400_000), &ex, true).into_string();
        assert_eq!(svg.matches("class=\"excluded\"").count(), 1, "{svg}");
        assert!(svg.contains("excluded: weekly maintenance"));
        assert!(excluded(slo, sat, sat + 3_600_000).is_empty());
    }
}
