//! The report as Markdown (for a person or a wiki; charts as SVG files beside it), JSON
//! (stable, for invoicing jobs: the `credits` list is what they read) and HTML (one
//! self-contained file with inline charts).

use super::replayed::Replayed;
use super::{svg, Report, SloReport};
use crate::backtest::history::rfc3339;
use crate::text::span as span_text;
use maud::{html, Markup, DOCTYPE};
use serde_json::{json, Value};
use slo_spec::credits::SlaCredit;
use slo_spec::Tier;
use std::collections::BTreeMap;
use std::fmt::Write;

fn pct(x: Option<f64>) -> String {
    crate::text::percent(x, 3, "no data")
}

fn count(x: Option<f64>) -> String {
    x.map(|x| format!("{}", x.round() as i64))
        .unwrap_or_else(|| "no data".into())
}

fn verdict(r: &SloReport) -> &'static str {
    match r.met() {
        Some(true) => "met",
        Some(false) => "missed",
        None => "no data",
    }
}

fn credit_text(r: &SloReport) -> String {
    match &r.credit {
        None => "–".into(),
        Some(c) => match (&c.tier_below, &c.credit_percent) {
            (Some(b), Some(p)) => format!("{p}% (below {b}%)"),
            _ => format!("none (SLA {}% met)", c.sla_objective),
        },
    }
}

/// Excluded time by reason: `2h 0m (weekly maintenance); ...`, or `–`.
fn excluded_text(r: &SloReport) -> String {
    if r.excluded.is_empty() {
        return "–".into();
    }
    r.excluded
        .iter()
        .map(|(reason, ms)| format!("{} ({reason})", span_text(*ms)))
        .collect::<Vec<_>>()
        .join("; ")
}

fn longest(r: &SloReport) -> String {
    r.longest_incident()
        .map(|(s, e)| format!("{} from {}", span_text(e - s), rfc3339(s)))
        .unwrap_or_else(|| "–".into())
}

/// One line per service: how many SLOs met, missed, had no data, and credits owed.
fn summaries(report: &Report) -> Vec<String> {
    let mut by: BTreeMap<&str, Vec<&SloReport>> = BTreeMap::new();
    for s in &report.slos {
        by.entry(&s.service).or_default().push(s);
    }
    by.into_iter()
        .map(|(svc, list)| {
            let n = |v: Option<bool>| list.iter().filter(|r| r.met() == v).count();
            let credits = list
                .iter()
                .filter(|r| {
                    r.credit
                        .as_ref()
                        .is_some_and(|c| c.credit_percent.is_some())
                })
                .count();
            format!(
                "{svc}: {} SLOs, {} met, {} missed, {} no data; {credits} SLA credits owed",
                list.len(),
                n(Some(true)),
                n(Some(false)),
                n(None)
            )
        })
        .collect()
}

/// `svgs`: file names of charts written beside the Markdown, by SLO index.
pub fn markdown(report: &Report, svgs: Option<&[String]>) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# SLO report {}\n", report.range.label);
    let _ = writeln!(
        o,
        "{} → {} ({}).\n",
        rfc3339(report.range.from),
        rfc3339(report.range.to),
        span_text(report.range.to - report.range.from)
    );
    for line in summaries(report) {
        let _ = writeln!(o, "- {line}");
    }
    let _ = writeln!(
        o,
        "\n| SLO | objective | attainment | verdict | budget spent | events | bad | coverage | excluded | pages | tickets | firing | longest incident | SLA credit |\n|---|---:|---:|---|---:|---:|---:|---:|---|---:|---:|---:|---|---|"
    );
    for r in &report.slos {
        let _ = writeln!(
            o,
            "| {} | {}% | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.name().replace('|', "\\|"),
            r.objective,
            pct(r.attainment()),
            verdict(r),
            pct(r.budget_spent()),
            count(r.events),
            count(r.bad),
            pct(r.coverage),
            excluded_text(r).replace('|', "\\|"),
            r.count(Tier::Page),
            r.count(Tier::Ticket),
            span_text(r.firing(Tier::Page) + r.firing(Tier::Ticket)),
            longest(r),
            credit_text(r)
        );
    }
    replayed_markdown(&mut o, report);
    if let Some(files) = svgs {
        o.push('\n');
        for (r, f) in report.slos.iter().zip(files) {
            let _ = writeln!(
                o,
                "## {}\n\n![budget and alerts of {}]({f})\n",
                r.name(),
                r.name()
            );
        }
    }
    o
}

/// The SLOs replayed with and without the low-traffic test, when any were.
fn replayed(report: &Report) -> Vec<(String, Replayed)> {
    report
        .slos
        .iter()
        .filter_map(|r| Some((r.name(), r.replayed?)))
        .collect()
}

fn replayed_markdown(o: &mut String, report: &Report) {
    let rows = replayed(report);
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        o,
        "\nThe rules replayed over the range, with the low-traffic test and without it:\n\n| SLO | pages | tickets | pages without the test | tickets without the test |\n|---|---:|---:|---:|---:|"
    );
    for (name, r) in rows {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} |",
            name.replace('|', "\\|"),
            r.pages,
            r.tickets,
            r.pages_without_test,
            r.tickets_without_test
        );
    }
}

pub fn json(report: &Report) -> String {
    let slos: Vec<Value> = report
        .slos
        .iter()
        .map(|r| {
            json!({
                "service": r.service,
                "slo": r.slo,
                "group": r.group,
                "objective": r.objective,
                "unit": r.unit,
                "events": r.events,
                "bad": r.bad,
                "attainment": r.attainment(),
                "met": r.met(),
                "budget_spent": r.budget_spent(),
                "coverage": r.coverage,
                "excluded_seconds": r.excluded.iter().map(|(reason, ms)| json!({"reason": reason, "seconds": *ms as f64 / 1000.0})).collect::<Vec<_>>(),
                "pages": r.count(Tier::Page),
                "tickets": r.count(Tier::Ticket),
                "firing_seconds": {
                    "page": r.firing(Tier::Page) as f64 / 1000.0,
                    "ticket": r.firing(Tier::Ticket) as f64 / 1000.0,
                    "absent": r.firing(Tier::Absent) as f64 / 1000.0,
                },
                "longest_incident": r.longest_incident().map(|(s, e)| json!({"start": rfc3339(s), "end": rfc3339(e)})),
                "replayed": r.replayed.map(|p| json!({
                    "pages": p.pages,
                    "tickets": p.tickets,
                    "without_low_traffic_test": {"pages": p.pages_without_test, "tickets": p.tickets_without_test},
                })),
                "alerts": r.firings.iter().map(|f| json!({"tier": f.tier.as_str(), "start": rfc3339(f.start), "end": f.end.map(rfc3339)})).collect::<Vec<_>>(),
                "sla": r.credit.as_ref().map(|c| json!({
                    "objective": c.sla_objective,
                    "met": c.credit_percent.is_none(),
                    "tier_below": c.tier_below,
                    "credit_percent": c.credit_percent,
                })),
            })
        })
        .collect();
    // What an invoicing job reads: one entry per SLO and group owed a credit.
    let credits: Vec<SlaCredit> = report
        .slos
        .iter()
        .filter_map(|r| {
            let c = r.credit.as_ref()?;
            Some(SlaCredit {
                service: r.service.clone(),
                slo: r.slo.clone(),
                group: r.group.clone(),
                from: rfc3339(report.range.from),
                to: rfc3339(report.range.to),
                attainment_percent: format!("{:.6}", r.attainment()? * 100.0),
                sla_objective: c.sla_objective.clone(),
                tier_below: c.tier_below.clone()?,
                credit_percent: c.credit_percent.clone()?,
            })
        })
        .collect();
    let doc = json!({
        "range": {"label": report.range.label, "from": rfc3339(report.range.from), "to": rfc3339(report.range.to)},
        "slos": slos,
        "credits": credits,
    });
    let mut t = serde_json::to_string_pretty(&doc).expect("JSON values serialise");
    t.push('\n');
    t
}

pub fn html(report: &Report) -> String {
    let (from, to) = (report.range.from, report.range.to);
    let page: Markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "SLO report " (report.range.label) }
                style { (maud::PreEscaped("body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}.missed{color:#b00;font-weight:bold}.met{color:#070}.nodata{color:#777}section{margin-top:1.5em}")) }
            }
            body {
                h1 { "SLO report " (report.range.label) }
                p { (rfc3339(from)) " → " (rfc3339(to)) " (" (span_text(to - from)) ")" }
                ul { @for line in summaries(report) { li { (line) } } }
                table {
                    tr { th { "SLO" } th { "objective" } th { "attainment" } th { "verdict" } th { "budget spent" } th { "events" } th { "bad" } th { "coverage" } th { "excluded" } th { "pages" } th { "tickets" } th { "firing" } th { "longest incident" } th { "SLA credit" } }
                    @for r in &report.slos {
                        tr {
                            td { (r.name()) }
                            td { (r.objective) "%" }
                            td { (pct(r.attainment())) }
                            td class=(match r.met() { Some(true) => "met", Some(false) => "missed", None => "nodata" }) { (verdict(r)) }
                            td { (pct(r.budget_spent())) }
                            td { (count(r.events)) }
                            td { (count(r.bad)) }
                            td { (pct(r.coverage)) }
                            td { (excluded_text(r)) }
                            td { (r.count(Tier::Page)) }
                            td { (r.count(Tier::Ticket)) }
                            td { (span_text(r.firing(Tier::Page) + r.firing(Tier::Ticket))) }
                            td { (longest(r)) }
                            td { (credit_text(r)) }
                        }
                    }
                }
                @let rows = replayed(report);
                @if !rows.is_empty() {
                    p { "The rules replayed over the range, with the low-traffic test and without it:" }
                    table {
                        tr { th { "SLO" } th { "pages" } th { "tickets" } th { "pages without the test" } th { "tickets without the test" } }
                        @for (name, r) in &rows {
                            tr { td { (name) } td { (r.pages) } td { (r.tickets) } td { (r.pages_without_test) } td { (r.tickets_without_test) } }
                        }
                    }
                }
                @for r in &report.slos {
                    section {
                        h2 { (r.name()) }
                        (svg::chart(r, from, to))
                    }
                }
            }
        }
    };
    page.into_string()
}
