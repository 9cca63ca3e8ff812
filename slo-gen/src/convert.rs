//! `convert`: the loaded model written back as specs, in this toolkit's v1 language (the
//! migration path from Sloth, Pyrra or OpenSLO: convert once, then edit) or as OpenSLO v1
//! documents (for tools that read OpenSLO). The v1 text reads back into the same model,
//! so it compiles to the same rules; what OpenSLO cannot say is named in the notes.
//! Long: both directions of one mapping side by side, so a field written by one and not the other shows.

use crate::rules::emit::{map, scalar};
use slo_spec::names::format_duration;
use slo_spec::{
    Alerting, FreshnessGauge, Numerator, Service, Sli, Slo, Tier, TierPolicy, WindowQuery,
};
use std::collections::BTreeMap;
use std::fmt::Write;

/// What `convert` writes: files by name, and what the reader should know (fields dropped,
/// values invented).
#[derive(Debug, Default)]
pub struct Converted {
    pub files: Vec<(String, String)>,
    pub notes: Vec<String>,
}

/// Written where the source names no owner: v1 requires one.
pub const NO_OWNER: &str = "unowned";

/// The v1 file name of each service: its source file's name when that file holds only
/// this service (so the rules' header names the same file), else `<service>.yaml`.
fn file_names(services: &[Service]) -> Vec<String> {
    let mut per_file: BTreeMap<&str, usize> = BTreeMap::new();
    for s in services {
        *per_file.entry(s.file.as_str()).or_default() += 1;
    }
    let mut taken: BTreeMap<String, usize> = BTreeMap::new();
    let wanted: Vec<String> = services
        .iter()
        .map(|s| {
            let base = std::path::Path::new(&s.file)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let own_file = per_file[s.file.as_str()] == 1 && !s.format.one_slo_per_document();
            if own_file && !base.is_empty() {
                base
            } else {
                format!("{}.yaml", s.name)
            }
        })
        .collect();
    for w in &wanted {
        *taken.entry(w.clone()).or_default() += 1;
    }
    wanted
        .into_iter()
        .zip(services)
        .map(|(w, s)| {
            if taken[&w] > 1 {
                format!("{}.yaml", s.name)
            } else {
                w
            }
        })
        .collect()
}

/// The services as v1 spec files.
pub fn to_v1(services: &[Service]) -> Converted {
    let mut out = Converted::default();
    let mut alert_names: BTreeMap<String, String> = BTreeMap::new();
    for (svc, name) in services.iter().zip(file_names(services)) {
        let mut t = String::new();
        let _ = writeln!(
            t,
            "# Converted by `slo-gen convert` from {} ({}): this file is now the spec; edit it.",
            svc.file,
            svc.format.describe()
        );
        t.push_str("version: v1\n");
        let _ = writeln!(t, "service: {}", scalar(&svc.name));
        let owner = match &svc.owner {
            Some(o) => o.clone(),
            None => {
                out.notes.push(format!(
                    "{name}: service `{}` names no owner; wrote `owner: {NO_OWNER}` (its alerts gain `owner=\"{NO_OWNER}\"`): set the owning team",
                    svc.name
                ));
                NO_OWNER.to_string()
            }
        };
        let _ = writeln!(t, "owner: {}", scalar(&owner));
        map(&mut t, 0, "labels", &svc.labels);
        t.push_str("slos:\n");
        for slo in &svc.slos {
            // Sloth lets SLOs share an alert name (told apart by its labels); v1 does not.
            let mut alert = slo.alerting.name.clone();
            let alerts_on = !slo.alerting.disabled;
            if alerts_on && alert_names.contains_key(&alert) {
                let own = slo_spec::names::default_alert_name(&svc.name, &slo.name);
                out.notes.push(format!(
                    "{name}: alert name `{alert}` of `{}/{}` is also {}'s (Sloth allows that; v1 does not): renamed `{own}`",
                    svc.name, slo.name, alert_names[&alert]
                ));
                alert = own;
            }
            if alerts_on {
                alert_names.insert(alert.clone(), format!("`{}/{}`", svc.name, slo.name));
            }
            v1_slo(&mut t, svc, slo, &alert);
        }
        out.files.push((name, t));
    }
    out
}

/// `selector: {<matchers>}` when the SLI has any.
fn selector(t: &mut String, matchers: &str) {
    if !matchers.is_empty() {
        let _ = writeln!(
            t,
            "        selector: {}",
            scalar(&format!("{{{matchers}}}"))
        );
    }
}

fn v1_slo(t: &mut String, svc: &Service, slo: &Slo, alert: &str) {
    let _ = writeln!(t, "  - name: {}", scalar(&slo.name));
    let _ = writeln!(t, "    description: {}", scalar(&slo.description));
    let _ = writeln!(t, "    objective: {}", slo.objective.text);
    let _ = writeln!(t, "    period: {}", scalar(&slo.period.text));
    if slo.scrape_interval.text != slo_spec::model::DEFAULT_SCRAPE_INTERVAL_TEXT {
        let _ = writeln!(
            t,
            "    scrape_interval: {}",
            scalar(&slo.scrape_interval.text)
        );
    }
    if !slo.group_by.is_empty() {
        let _ = writeln!(t, "    group_by: [{}]", slo.group_by.join(", "));
    }
    map(t, 4, "labels", &slo.labels);
    t.push_str("    sli:\n");
    match &slo.sli {
        Sli::Ratio(r) => {
            t.push_str("      ratio:\n");
            let (key, q) = match &r.numerator {
                Numerator::Errors(q) => ("errors", q),
                Numerator::Good(q) => ("good", q),
            };
            let _ = writeln!(t, "        {key}: {}", scalar(&q.template));
            let _ = writeln!(t, "        total: {}", scalar(&r.total.template));
        }
        Sli::Latency(l) => {
            t.push_str("      latency:\n");
            let _ = writeln!(t, "        histogram: {}", scalar(&l.histogram));
            selector(t, &l.matchers);
            let _ = writeln!(t, "        threshold: {}", scalar(&l.threshold_text));
        }
        Sli::Freshness(f) => {
            t.push_str("      freshness:\n");
            let key = match f.gauge {
                FreshnessGauge::LastSuccess => "metric",
                FreshnessGauge::Age => "age",
            };
            let _ = writeln!(t, "        {key}: {}", scalar(&f.metric));
            selector(t, &f.matchers);
            let _ = writeln!(t, "        max_age: {}", scalar(&f.max_age_text));
        }
        Sli::Raw(r) => {
            t.push_str("      raw:\n");
            let _ = writeln!(
                t,
                "        error_ratio: {}",
                scalar(&r.error_ratio.template)
            );
        }
    }
    v1_alerting(t, svc, slo, alert);
    if let Some(sla) = &slo.sla {
        t.push_str("    sla:\n");
        let _ = writeln!(t, "      objective: {}", sla.objective_text);
        t.push_str("      credits:\n");
        for c in &sla.credits {
            let _ = writeln!(
                t,
                "        - {{below: {}, credit_percent: {}}}",
                c.below_text, c.credit_text
            );
        }
    }
    v1_exclusions(t, &slo.exclusions);
    if let Some(g) = &slo.deploy_gate {
        let _ = writeln!(t, "    deploy_gate: {{min_budget: {}}}", g.text);
    }
}

/// The SLO's exclusions, the file's included (they were merged into each SLO).
fn v1_exclusions(t: &mut String, exclusions: &[slo_spec::Exclusion]) {
    if exclusions.is_empty() {
        return;
    }
    t.push_str("    exclusions:\n");
    for e in exclusions {
        let _ = writeln!(t, "      - reason: {}", scalar(&e.reason));
        match &e.when {
            slo_spec::When::Weekly { day, from, to } => {
                let clock = slo_spec::exclusion::clock_text;
                let _ = writeln!(
                    t,
                    "        weekly: {{day: {}, from: \"{}\", to: \"{}\"}}",
                    day.as_str(),
                    clock(*from),
                    clock(*to)
                );
            }
            slo_spec::When::Once {
                from_text, to_text, ..
            } => {
                let _ = writeln!(t, "        from: {}", scalar(from_text));
                let _ = writeln!(t, "        to: {}", scalar(to_text));
            }
        }
    }
}

/// The parts of the SLO's alerting that differ from what v1 resolves by default, each
/// with its v1 text (`alert` is the name to write): what `--to v1` writes and what
/// `--to openslo` names as dropped.
fn alerting_parts(svc: &Service, slo: &Slo, alert: &str) -> Vec<(&'static str, String)> {
    let a: &Alerting = &slo.alerting;
    let mut parts = Vec::new();
    let mut part = |key: &'static str, text: String| {
        if !text.is_empty() {
            parts.push((key, text));
        }
    };
    if alert != slo_spec::names::default_alert_name(&svc.name, &slo.name) {
        part("name", format!("      name: {}\n", scalar(alert)));
    }
    if a.disabled {
        part("disabled", "      disabled: true\n".into());
    }
    if let Some(n) = a.min_events {
        part("min_events", format!("      min_events: {n}\n"));
    }
    if !a.breakdown.is_empty() {
        part(
            "breakdown",
            format!("      breakdown: [{}]\n", a.breakdown.join(", ")),
        );
    }
    let mut text = String::new();
    map(&mut text, 6, "labels", &a.labels);
    part("labels", text);
    let mut text = String::new();
    map(&mut text, 6, "annotations", &a.annotations);
    part("annotations", text);
    for (tier, policy) in Tier::BURN_RATE.into_iter().zip([&a.page, &a.ticket]) {
        let mut tb = String::new();
        tier_body(&mut tb, policy, tier, slo);
        if !tb.is_empty() {
            part(tier.as_str(), format!("      {}:\n{tb}", tier.as_str()));
        }
    }
    let ab = &a.absent;
    let mut abs = String::new();
    if ab.disabled {
        abs.push_str("        disabled: true\n");
    }
    if let Some(f) = &ab.for_ {
        let _ = writeln!(abs, "        for: {}", scalar(&f.text));
    }
    if ab.severity != "ticket" {
        let _ = writeln!(abs, "        severity: {}", scalar(&ab.severity));
    }
    map(&mut abs, 8, "labels", &ab.labels);
    map(&mut abs, 8, "annotations", &ab.annotations);
    if !abs.is_empty() {
        part("absent", format!("      absent:\n{abs}"));
    }
    parts
}

fn v1_alerting(t: &mut String, svc: &Service, slo: &Slo, alert: &str) {
    let parts = alerting_parts(svc, slo, alert);
    if !parts.is_empty() {
        t.push_str("    alerting:\n");
        for (_, text) in parts {
            t.push_str(&text);
        }
    }
}

fn tier_body(t: &mut String, p: &TierPolicy, tier: Tier, slo: &Slo) {
    if p.disabled {
        t.push_str("        disabled: true\n");
    }
    map(t, 8, "labels", &p.labels);
    map(t, 8, "annotations", &p.annotations);
    if let Some(f) = &p.for_ {
        let _ = writeln!(t, "        for: {}", scalar(&f.text));
    }
    let default =
        slo_spec::policy::default_pairs(tier, slo.period.duration, slo.scrape_interval.duration);
    if p.windows != default {
        t.push_str("        windows:\n");
        for w in &p.windows {
            let _ = writeln!(
                t,
                "          - {{long: {}, short: {}, burn_rate: {}}}",
                format_duration(w.long),
                format_duration(w.short),
                w.burn_rate
            );
        }
    }
}

/// The services as OpenSLO v1 documents, one file per service.
pub fn to_openslo(services: &[Service]) -> Converted {
    let mut out = Converted::default();
    for svc in services {
        let mut t = String::new();
        let _ = writeln!(
            t,
            "# Converted by `slo-gen convert --to openslo` from {} ({}).",
            svc.file,
            svc.format.describe()
        );
        let mut first = true;
        for slo in &svc.slos {
            let Some(doc) = openslo_slo(svc, slo, &mut out.notes) else {
                continue;
            };
            if !first {
                t.push_str("---\n");
            }
            first = false;
            t.push_str(&doc);
        }
        if !first {
            out.files.push((format!("{}.yaml", svc.name), t));
        }
    }
    out
}

/// A counter query in OpenSLO's own form (`counter: true`, the selector alone) when the
/// template is exactly `sum(rate(<selector>[{{window}}]))`; else the template itself.
fn openslo_query(q: &WindowQuery) -> String {
    let t = q.template.trim();
    if let Some(inner) = t
        .strip_prefix("sum(rate(")
        .and_then(|r| r.strip_suffix("[{{window}}]))"))
    {
        if q.selectors.len() == 1 && !inner.contains(['(', '[']) {
            return inner.to_string();
        }
    }
    t.to_string()
}

fn source(t: &mut String, indent: usize, key: &str, query: &str) {
    let pad = " ".repeat(indent);
    let _ = writeln!(t, "{pad}{key}:");
    let _ = writeln!(t, "{pad}  metricSource:");
    let _ = writeln!(t, "{pad}    type: Prometheus");
    let _ = writeln!(t, "{pad}    spec:");
    let _ = writeln!(t, "{pad}      query: {}", scalar(query));
}

// Long: one OpenSLO document written top to bottom in its field order.
fn openslo_slo(svc: &Service, slo: &Slo, notes: &mut Vec<String>) -> Option<String> {
    let id = format!("{}/{}", svc.name, slo.name);
    let mut dropped: Vec<&str> = Vec::new();
    let mut sli = String::new();
    match &slo.sli {
        Sli::Ratio(r) => {
            sli.push_str("        counter: true\n");
            let (key, q) = match &r.numerator {
                Numerator::Errors(q) => ("bad", q),
                Numerator::Good(q) => ("good", q),
            };
            source(&mut sli, 8, key, &openslo_query(q));
            source(&mut sli, 8, "total", &openslo_query(&r.total));
        }
        Sli::Latency(l) => {
            let comma = if l.matchers.is_empty() { "" } else { "," };
            let good = format!(
                "{}_bucket{{{}{comma}le=\"{}\"}}",
                l.histogram,
                l.matchers,
                l.le()
            );
            let total = format!("{}_count{{{}}}", l.histogram, l.matchers);
            sli.push_str("        counter: true\n");
            if slo.group_by.is_empty() {
                source(&mut sli, 8, "good", &good);
                source(&mut sli, 8, "total", &total);
            } else {
                let by = slo.group_by.join(", ");
                let q = |s: &str| format!("sum by ({by}) (rate({s}[{{{{window}}}}]))");
                source(&mut sli, 8, "good", &q(&good));
                source(&mut sli, 8, "total", &q(&total));
                dropped.push("the latency kind of a grouped SLO (written as a ratio of its bucket and count)");
            }
        }
        Sli::Raw(r) => {
            sli.push_str("        rawType: failure\n");
            source(&mut sli, 8, "raw", &r.error_ratio.template);
        }
        Sli::Freshness(_) => {
            notes.push(format!(
                "{id}: left out: OpenSLO has no freshness SLI (an age against `max_age`)"
            ));
            return None;
        }
    }
    let changed_alerting: Vec<&str> = alerting_parts(svc, slo, &slo.alerting.name)
        .into_iter()
        .map(|(key, _)| key)
        .collect();
    let alerting_note;
    if !changed_alerting.is_empty() {
        alerting_note = format!(
            "`alerting` ({}: OpenSLO has no multi-window burn-rate policy)",
            changed_alerting.join(", ")
        );
        dropped.push(&alerting_note);
    }
    if slo.sla.is_some() {
        dropped.push("`sla`");
    }
    if !slo.exclusions.is_empty() {
        dropped.push("`exclusions` (OpenSLO has no budget adjustments yet)");
    }
    if slo.deploy_gate.is_some() {
        dropped.push("`deploy_gate`");
    }
    if !slo.labels.is_empty() {
        dropped.push("the SLO's own `labels`");
    }
    if slo.scrape_interval.text != slo_spec::model::DEFAULT_SCRAPE_INTERVAL_TEXT {
        dropped.push("`scrape_interval`");
    }
    if !dropped.is_empty() {
        notes.push(format!("{id}: dropped {}", dropped.join(", ")));
    }
    let mut t = String::new();
    t.push_str("apiVersion: openslo/v1\nkind: SLO\nmetadata:\n");
    let _ = writeln!(t, "  name: {}", scalar(&slo.name));
    let mut meta_labels = svc.labels.clone();
    if let Some(o) = &svc.owner {
        meta_labels.insert("owner".into(), o.clone());
    }
    map(&mut t, 2, "labels", &meta_labels);
    t.push_str("spec:\n");
    let _ = writeln!(t, "  description: {}", scalar(&slo.description));
    let _ = writeln!(t, "  service: {}", scalar(&svc.name));
    t.push_str("  indicator:\n    metadata:\n");
    let _ = writeln!(t, "      name: {}", scalar(&slo.name));
    t.push_str("    spec:\n      ratioMetric:\n");
    t.push_str(&sli);
    t.push_str("  timeWindow:\n");
    match slo.calendar() {
        Some(c) => {
            let duration = match c {
                slo_spec::Calendar::Week => "1w",
                slo_spec::Calendar::Month => "1M",
                slo_spec::Calendar::Quarter => "1Q",
            };
            let _ = writeln!(t, "    - duration: {duration}");
            t.push_str("      isRolling: false\n");
            t.push_str("      calendar: {startTime: '2024-01-01 00:00:00', timeZone: UTC}\n");
        }
        None => {
            let _ = writeln!(t, "    - duration: {}", scalar(&slo.period.text));
            t.push_str("      isRolling: true\n");
        }
    }
    t.push_str("  budgetingMethod: Occurrences\n  objectives:\n");
    let _ = writeln!(t, "    - target: {}", ratio_text(&slo.objective.text));
    Some(t)
}

/// A percentage (`99.9`) as OpenSLO's ratio (`0.999`), exactly.
fn ratio_text(percent: &str) -> String {
    slo_spec::decimal::Decimal::parse(percent)
        .and_then(|d| d.shift(2))
        .map(|d| d.to_string())
        .unwrap_or_else(|| percent.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn percentages_become_exact_ratios() {
        for (p, r) in [
            ("99.9", "0.999"),
            ("99", "0.99"),
            ("5", "0.05"),
            ("99.95", "0.9995"),
            ("99.0", "0.99"),
            ("0.5", "0.005"),
        ] {
            assert_eq!(super::ratio_text(p), r, "{p}");
        }
    }
}
