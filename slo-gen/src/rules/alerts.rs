//! The alerting rules of one SLO: one alert per tier whose expression ORs the tier's
//! window pairs (both windows above the threshold, and `min_events` in the long window),
//! and the missing-data alert, with labels and annotations resolved from the spec. A
//! grouped SLO's alerts fire per group and name it.

use crate::names::{self, series};
use crate::rules::{Options, Rule};
use slo_eval::{AbsentPlan, TierPlan};
use slo_spec::decimal::Decimal;
use slo_spec::names::format_duration;
use slo_spec::significance;
use slo_spec::{Labels, Service, Slo, Tier, TierPolicy};
use std::collections::BTreeMap;
use std::time::Duration;

/// The labels every alert of an SLO carries, then `extra` (a tier's labels), then the
/// identity labels, which nothing overrides.
fn labels(svc: &Service, slo: &Slo, extra: &Labels, severity: &str, tier: &str) -> Labels {
    let mut labels = svc.labels.clone();
    labels.extend(slo.labels.clone());
    labels.extend(slo.alerting.labels.clone());
    labels.extend(extra.clone());
    labels.insert("service".into(), svc.name.clone());
    labels.insert("slo".into(), slo.name.clone());
    if let Some(owner) = &svc.owner {
        labels.insert("owner".into(), owner.clone());
    }
    labels.insert("severity".into(), severity.to_string());
    labels.insert(names::TIER_LABEL.into(), tier.to_string());
    labels
}

/// Description, dashboard link, the SLO's annotations, then `extra` (a tier's); the
/// summary is written by the caller.
fn annotations(svc: &Service, slo: &Slo, extra: &Labels, opts: &Options) -> Labels {
    let mut annotations = BTreeMap::new();
    if !slo.description.is_empty() {
        annotations.insert("description".into(), slo.description.clone());
    }
    annotations.insert("dashboard_url".into(), dashboard_url(svc, opts));
    annotations.extend(slo.alerting.annotations.clone());
    annotations.extend(extra.clone());
    annotations
}

/// The `severity` label of a tier's alert: the tier's own label, else the tier's name; the
/// missing-data alert's from its policy.
pub fn severity(slo: &Slo, tier: Tier) -> String {
    match slo.alerting.tier(tier) {
        None => slo.alerting.absent.severity.clone(),
        Some(policy) => policy
            .labels
            .get("severity")
            .cloned()
            .unwrap_or_else(|| tier.as_str().to_string()),
    }
}

/// The name of a tier's alert.
pub fn name(slo: &Slo, tier: Tier) -> String {
    match tier {
        Tier::Absent => names::absent_alert(&slo.alerting.name),
        _ => slo.alerting.name.clone(),
    }
}

/// The alert of one tier.
pub fn alert(svc: &Service, slo: &Slo, t: &TierPlan, opts: &Options) -> Rule {
    // A plan's tiers are burn-rate tiers, which always have a policy.
    let none = TierPolicy::default();
    let tier = slo.alerting.tier(t.tier).unwrap_or(&none);
    let severity = severity(slo, t.tier);
    let labels = labels(svc, slo, &tier.labels, &severity, t.tier.as_str());
    let mut annotations = annotations(svc, slo, &tier.annotations, opts);
    // The spec's summary leads; the burn rate and budget left always follow.
    let headline = annotations.get("summary").cloned();
    annotations.insert("summary".into(), summary(svc, slo, headline.as_ref(), t));
    if let Some(b) = super::breakdown::annotation(slo, t) {
        annotations.insert("breakdown".into(), b);
    }
    Rule::Alert {
        alert: slo.alerting.name.clone(),
        expr: super::exclusions::alert(
            expr(t, slo, &names::selector(&svc.name, &slo.name)),
            &slo.exclusions,
        ),
        for_: t.for_,
        labels,
        annotations,
    }
}

/// The missing-data alert: the SLI's raw series have been absent for `for`. A grouped SLO
/// also fires per group whose series were there within the lookback and are gone now.
pub fn absent(svc: &Service, slo: &Slo, plan: &AbsentPlan, opts: &Options) -> Rule {
    let policy = &slo.alerting.absent;
    let labels = labels(
        svc,
        slo,
        &policy.labels,
        &severity(slo, Tier::Absent),
        names::ABSENT_TIER,
    );
    let mut annotations = annotations(svc, slo, &policy.annotations, opts);
    let lead = match annotations.get("summary") {
        Some(h) => format!("{h}: {}", slo_ref(svc, slo)),
        None => slo_ref(svc, slo),
    };
    annotations.insert(
        "summary".into(),
        format!(
            "{lead} has no data: the series its SLI reads have been absent for {}, so its error budget and burn-rate alerts are blind",
            format_duration(plan.for_)
        ),
    );
    let inputs = format!(
        "{}{}",
        series::INPUTS,
        names::selector(&svc.name, &slo.name)
    );
    let expr = if slo.group_by.is_empty() {
        format!("absent({inputs})")
    } else {
        format!(
            "(\n  last_over_time({inputs}[{}])\n  unless\n  {inputs}\n)\nor\nabsent({inputs})",
            format_duration(plan.lookback)
        )
    };
    Rule::Alert {
        alert: name(slo, Tier::Absent),
        expr: super::exclusions::alert(expr, &slo.exclusions),
        for_: Some(plan.for_),
        labels,
        annotations,
    }
}

fn dashboard_url(svc: &Service, opts: &Options) -> String {
    format!(
        "{}/d/{}",
        opts.grafana_url.trim_end_matches('/'),
        names::dashboard_uid(&svc.name)
    )
}

fn expr(t: &TierPlan, slo: &Slo, sel: &str) -> String {
    let budget = slo.objective.budget_decimal();
    let guard = |long: Duration| match slo.alerting.min_events {
        Some(n) => format!(
            "\n  and\n  {}{sel} >= {n}",
            series::increase(series::Count::Events, long)
        ),
        None => String::new(),
    };
    t.pairs
        .iter()
        .map(|p| {
            let burn = p.burn_rate;
            format!(
                "(\n  {long}{sel} / {budget} > {burn}\n  and\n  {short}{sel} / {budget} > {burn}{guard}{test}\n)",
                long = series::error_ratio(p.long),
                short = series::error_ratio(p.short),
                guard = guard(p.long),
                test = significant(t, p, budget, sel),
            )
        })
        .collect::<Vec<_>>()
        .join("\nor\n")
}

/// The low-traffic test of a pair ([`slo_spec::significance`]): the long window's errors
/// `E` against its events `N` at the null rate `h`, `2 (E ln(E / Nh) − (E − Nh)) > z²`.
fn significant(t: &TierPlan, p: &slo_spec::WindowPair, budget: Decimal, sel: &str) -> String {
    let Some(z2) = &t.z2 else {
        return String::new();
    };
    let h = budget
        .checked_mul(significance::null_burn(p.burn_rate))
        .unwrap_or(budget);
    let e = format!("{}{sel}", series::increase(series::Count::Errors, p.long));
    let n = format!("{}{sel}", series::increase(series::Count::Events, p.long));
    format!("\n  and\n  2 * ({e} * ln({e} / ({n} * {h})) - ({e} - {n} * {h})) > {z2}")
}

/// `service/slo`, and the alert's group for a grouped SLO (`for provider={{ $labels.provider }}`).
fn slo_ref(svc: &Service, slo: &Slo) -> String {
    let mut out = format!("{}/{}", svc.name, slo.name);
    if !slo.group_by.is_empty() {
        let groups: Vec<String> = slo
            .group_by
            .iter()
            .map(|g| format!("{g}={{{{ $labels.{g} }}}}"))
            .collect();
        out.push_str(&format!(" for {}", groups.join(",")));
    }
    out
}

fn summary(svc: &Service, slo: &Slo, headline: Option<&String>, t: &TierPlan) -> String {
    let query = |metric| names::template_query(metric, &svc.name, &slo.name, &slo.group_by);
    let windows: Vec<String> = t
        .pairs
        .iter()
        .map(|p| format!("{}x over {}", p.burn_rate, format_duration(p.long)))
        .collect();
    let lead = match headline {
        Some(h) => format!("{h}: {}", slo_ref(svc, slo)),
        None => slo_ref(svc, slo),
    };
    format!(
        "{lead} is burning its error budget {{{{ printf \"%.1f\" $value }}}}x as fast as sustainable \
         ({} threshold: {}); {{{{ with query {} }}}}{{{{ . | first | value | humanizePercentage }}}}{{{{ else }}}}unknown{{{{ end }}}} of the budget left\
         {{{{ with query {} }}}}{{{{ if le (. | first | value) 0.0 }}}}: the budget is exhausted\
         {{{{ else }}}}, gone in {{{{ . | first | value | humanizeDuration }}}} at the current burn rate{{{{ end }}}}{{{{ end }}}}",
        t.tier.as_str(),
        windows.join(" or "),
        query(series::BUDGET_REMAINING),
        query(series::BUDGET_EXHAUSTION),
    )
}
