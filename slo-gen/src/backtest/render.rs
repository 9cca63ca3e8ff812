//! A backtest as text (terminals), JSON (stable, for programs) or Markdown (a
//! pull-request comment). Times are RFC 3339 UTC; an alert still firing at `to` has
//! `end: null`.

use super::compare::{Change, Scores, TierDiff};
use super::history::rfc3339;
use super::{Alert, Backtest, SloResult};
use crate::text::span;
use serde_json::{json, Value};
use slo_spec::Tier;
use std::fmt::Write;

/// Everything one run reports.
pub struct Report<'a> {
    pub run: &'a Backtest,
    /// The baseline's name (`git:main`, a directory), its replay and the diff.
    pub baseline: Option<(String, &'a Backtest, Vec<TierDiff>)>,
    pub scores: Option<Scores>,
}

fn pct(x: Option<f64>) -> String {
    crate::text::percent(x, 3, "no events")
}

fn end(a: &Alert) -> String {
    a.firing
        .end
        .map(rfc3339)
        .unwrap_or_else(|| "still firing".into())
}

fn peak(a: &Alert) -> String {
    a.firing
        .peak_burn_rate
        .map(|p| format!(", peak {p:.1}x"))
        .unwrap_or_default()
}

pub fn text(r: &Report) -> String {
    let b = r.run;
    let mut o = String::new();
    let _ = writeln!(o, "backtest {} → {}", rfc3339(b.from), rfc3339(b.to));
    for s in &b.slos {
        slo_text(&mut o, s, b);
    }
    let pages: usize = b.slos.iter().map(|s| s.count(Tier::Page)).sum();
    let tickets: usize = b.slos.iter().map(|s| s.count(Tier::Ticket)).sum();
    let _ = writeln!(
        o,
        "\n{} SLOs: {pages} pages, {tickets} tickets",
        b.slos.len()
    );
    if let Some(line) = before_test(b) {
        let _ = writeln!(o, "{line}");
    }
    if let Some((name, _, diffs)) = &r.baseline {
        let _ = writeln!(o, "\nchange against {name}:");
        if diffs.is_empty() {
            let _ = writeln!(o, "  no alert changes");
        }
        for d in diffs {
            let _ = writeln!(
                o,
                "  {} {}: {} → {} ({:+}), firing {} → {}",
                d.slo,
                d.tier.as_str(),
                d.before,
                d.after,
                d.after as i64 - d.before as i64,
                span(d.firing_before),
                span(d.firing_after)
            );
            for c in &d.changes {
                let _ = writeln!(o, "    {}", change(c));
            }
        }
    }
    if let Some(s) = &r.scores {
        incidents_text(&mut o, s);
    }
    o
}

/// One SLO's lines: its attainment, then each tier's firings.
fn slo_text(o: &mut String, s: &SloResult, b: &Backtest) {
    let _ = writeln!(
        o,
        "\n{}  objective {}%  attainment {}  budget left {}",
        s.name(),
        s.objective,
        pct(s.attainment),
        pct(s.budget_remaining)
    );
    for tier in Tier::ALL {
        let n = s.count(tier);
        if n == 0 && tier == Tier::Absent {
            continue;
        }
        let _ = write!(
            o,
            "  {:<7} {n} firing{}, {} firing",
            tier.as_str(),
            if n == 1 { "" } else { "s" },
            span(s.firing(tier, b.from, b.to))
        );
        if let Some(n) = without_test(s, tier) {
            let _ = write!(o, "; {n} without the low-traffic test");
        }
        if tier == Tier::Page {
            if let Some(c) = s.budget_consumed_at_first_page {
                let _ = write!(o, "; first page with {} of the budget spent", pct(Some(c)));
            }
        }
        o.push('\n');
        for a in s.alerts.iter().filter(|a| a.firing.tier == tier) {
            let _ = writeln!(
                o,
                "    {} → {}  {} ({}){}",
                rfc3339(a.firing.start),
                end(a),
                a.alert,
                a.severity,
                peak(a)
            );
        }
    }
}

/// What the rules before the low-traffic test raise at `tier`, when it differs.
fn without_test(s: &SloResult, tier: Tier) -> Option<usize> {
    let (p, t) = s.without_low_traffic_test?;
    let n = match tier {
        Tier::Page => p,
        Tier::Ticket => t,
        _ => return None,
    };
    (n != s.count(tier)).then_some(n)
}

fn change(c: &Change) -> String {
    match c {
        Change::Added(a) => format!("+ {} → {}", rfc3339(a.firing.start), end(a)),
        Change::Removed(a) => format!("- {} → {}", rfc3339(a.firing.start), end(a)),
        Change::Moved { before, after } => format!(
            "~ {} → {} now {} → {}",
            rfc3339(before.firing.start),
            end(before),
            rfc3339(after.firing.start),
            end(after)
        ),
    }
}

fn incidents_text(o: &mut String, s: &Scores) {
    let _ = writeln!(o, "\nincidents:");
    for d in &s.detections {
        let i = &d.incident;
        let tiers: Vec<String> = d
            .tiers
            .iter()
            .map(|(t, f)| match f {
                Some(ms) => format!("{} after {}", t.as_str(), span(*ms)),
                None => format!("{} missed", t.as_str()),
            })
            .collect();
        let _ = writeln!(
            o,
            "  {}/{} {} → {}: {}",
            i.service,
            i.slo,
            rfc3339(i.start),
            rfc3339(i.end),
            tiers.join(", ")
        );
    }
    for t in &s.tiers {
        let _ = writeln!(
            o,
            "  {}: precision {}/{} firings in an incident, recall {}/{} incidents detected",
            t.tier.as_str(),
            t.in_incidents,
            t.firings,
            t.detected,
            t.incidents
        );
    }
    let _ = writeln!(o, "  {} firings outside any incident", s.outside.len());
    for (slo, a) in &s.outside {
        let _ = writeln!(
            o,
            "    {slo} {} {} → {}",
            a.firing.tier.as_str(),
            rfc3339(a.firing.start),
            end(a)
        );
    }
}

fn alert_json(a: &Alert) -> Value {
    json!({
        "alert": a.alert,
        "severity": a.severity,
        "tier": a.firing.tier.as_str(),
        "start": rfc3339(a.firing.start),
        "end": a.firing.end.map(rfc3339),
        "peak_burn_rate": a.firing.peak_burn_rate,
    })
}

fn slos_json(b: &Backtest) -> Vec<Value> {
    b.slos
        .iter()
        .map(|s: &SloResult| {
            json!({
                "service": s.service,
                "slo": s.slo,
                "objective": s.objective,
                "group": s.group,
                "alerts": s.alerts.iter().map(alert_json).collect::<Vec<_>>(),
                "pages": s.count(Tier::Page),
                "tickets": s.count(Tier::Ticket),
                "absent": s.count(Tier::Absent),
                "firing_seconds": {
                    "page": s.firing(Tier::Page, b.from, b.to) as f64 / 1000.0,
                    "ticket": s.firing(Tier::Ticket, b.from, b.to) as f64 / 1000.0,
                    "absent": s.firing(Tier::Absent, b.from, b.to) as f64 / 1000.0,
                },
                "budget_consumed_at_first_page": s.budget_consumed_at_first_page,
                "attainment": s.attainment,
                "attainment_since": s.attainment_since.map(rfc3339),
                "budget_remaining": s.budget_remaining,
                "without_low_traffic_test": s.without_low_traffic_test.map(|(p, t)| json!({"pages": p, "tickets": t})),
            })
        })
        .collect()
}

pub fn json(r: &Report) -> String {
    let b = r.run;
    let mut doc = json!({
        "from": rfc3339(b.from),
        "to": rfc3339(b.to),
        "slos": slos_json(b),
    });
    if let Some((name, base, diffs)) = &r.baseline {
        doc["baseline"] = json!({
            "name": name,
            "slos": slos_json(base),
            "diff": diffs.iter().map(|d| json!({
                "slo": d.slo,
                "tier": d.tier.as_str(),
                "before": d.before,
                "after": d.after,
                "firing_seconds_before": d.firing_before as f64 / 1000.0,
                "firing_seconds_after": d.firing_after as f64 / 1000.0,
                "added": d.changes.iter().filter_map(|c| match c { Change::Added(a) => Some(alert_json(a)), _ => None }).collect::<Vec<_>>(),
                "removed": d.changes.iter().filter_map(|c| match c { Change::Removed(a) => Some(alert_json(a)), _ => None }).collect::<Vec<_>>(),
                "moved": d.changes.iter().filter_map(|c| match c { Change::Moved { before, after } => Some(json!({"before": alert_json(before), "after": alert_json(after)})), _ => None }).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        });
    }
    if let Some(s) = &r.scores {
        doc["incidents"] = json!({
            "detections": s.detections.iter().map(|d| json!({
                "service": d.incident.service,
                "slo": d.incident.slo,
                "start": rfc3339(d.incident.start),
                "end": rfc3339(d.incident.end),
                "detection_seconds": d.tiers.iter().map(|(t, f)| (t.as_str().to_string(), json!(f.map(|ms| ms as f64 / 1000.0)))).collect::<serde_json::Map<_, _>>(),
            })).collect::<Vec<_>>(),
            "outside": s.outside.iter().map(|(slo, a)| json!({"slo": slo, "alert": alert_json(a)})).collect::<Vec<_>>(),
            "tiers": s.tiers.iter().map(|t| json!({
                "tier": t.tier.as_str(),
                "firings": t.firings,
                "in_incidents": t.in_incidents,
                "incidents": t.incidents,
                "detected": t.detected,
            })).collect::<Vec<_>>(),
        });
    }
    let mut text = serde_json::to_string_pretty(&doc).expect("JSON values serialise");
    text.push('\n');
    text
}

pub fn markdown(r: &Report) -> String {
    let b = r.run;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "### SLO alert backtest, {} → {}\n",
        rfc3339(b.from),
        rfc3339(b.to)
    );
    if let Some((name, base, diffs)) = &r.baseline {
        let total = |b: &Backtest, t| b.slos.iter().map(|s| s.count(t)).sum::<usize>();
        let _ = writeln!(
            o,
            "Against `{name}`: pages {} → {}, tickets {} → {}.\n",
            total(base, Tier::Page),
            total(b, Tier::Page),
            total(base, Tier::Ticket),
            total(b, Tier::Ticket)
        );
        if diffs.is_empty() {
            let _ = writeln!(o, "No alert changes.\n");
        } else {
            let _ = writeln!(
                o,
                "| SLO | tier | before | after | added | removed | moved | firing before | firing after |\n|---|---|---:|---:|---:|---:|---:|---:|---:|"
            );
            for d in diffs {
                let n = |f: fn(&Change) -> bool| d.changes.iter().filter(|c| f(c)).count();
                let _ = writeln!(
                    o,
                    "| {} | {} | {} | {} | +{} | −{} | {} | {} | {} |",
                    d.slo.replace('|', "\\|"),
                    d.tier.as_str(),
                    d.before,
                    d.after,
                    n(|c| matches!(c, Change::Added(_))),
                    n(|c| matches!(c, Change::Removed(_))),
                    n(|c| matches!(c, Change::Moved { .. })),
                    span(d.firing_before),
                    span(d.firing_after)
                );
            }
            o.push('\n');
        }
    }
    let _ = writeln!(
        o,
        "| SLO | objective | attainment | budget left | pages | tickets | absent | page firing |\n|---|---:|---:|---:|---:|---:|---:|---:|"
    );
    for s in &b.slos {
        let _ = writeln!(
            o,
            "| {} | {}% | {} | {} | {} | {} | {} | {} |",
            s.name().replace('|', "\\|"),
            s.objective,
            pct(s.attainment),
            pct(s.budget_remaining),
            with_before(s, Tier::Page),
            with_before(s, Tier::Ticket),
            s.count(Tier::Absent),
            span(s.firing(Tier::Page, b.from, b.to))
        );
    }
    if let Some(line) = before_test(b) {
        let _ = writeln!(o, "\n{line}");
    }
    if let Some(s) = &r.scores {
        let mut t = String::new();
        incidents_text(&mut t, s);
        let _ = writeln!(o, "\n```text{t}```");
    }
    o
}

/// A tier's count in a Markdown cell, with the count before the low-traffic test when it differs.
fn with_before(s: &SloResult, tier: Tier) -> String {
    match without_test(s, tier) {
        Some(n) => format!("{} ({n} without the test)", s.count(tier)),
        None => s.count(tier).to_string(),
    }
}

/// What the rules before the low-traffic test raise on the same history, when it differs:
/// `without the low-traffic test: 93 pages (6 with it), 12 tickets (12)`.
fn before_test(b: &Backtest) -> Option<String> {
    let (mut pages, mut tickets) = (0, 0);
    for s in &b.slos {
        let (p, t) = s
            .without_low_traffic_test
            .unwrap_or((s.count(Tier::Page), s.count(Tier::Ticket)));
        pages += p;
        tickets += t;
    }
    let now: (usize, usize) = (
        b.slos.iter().map(|s| s.count(Tier::Page)).sum(),
        b.slos.iter().map(|s| s.count(Tier::Ticket)).sum(),
    );
    ((pages, tickets) != now).then(|| {
        format!(
            "without the low-traffic test: {pages} pages ({} with it), {tickets} tickets ({})",
            now.0, now.1
        )
    })
}
