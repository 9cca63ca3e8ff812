//! The alerting rules of one SLO: one alert per tier whose expression ORs the tier's
//! window pairs (both windows above the threshold, and `min_events` in the long window),
//! with labels and annotations resolved from the spec.

use crate::names::{self, series};
use crate::rules::{Options, Rule};
use slo_eval::{Plan, TierPlan};
use slo_spec::names::format_duration;
use slo_spec::{Service, Slo};
use std::collections::BTreeMap;
use std::time::Duration;

/// The alert of one tier.
pub fn alert(svc: &Service, slo: &Slo, plan: &Plan, t: &TierPlan, opts: &Options) -> Rule {
    let tier = slo.alerting.tier(t.tier);
    let mut labels = svc.labels.clone();
    labels.extend(slo.labels.clone());
    labels.extend(slo.alerting.labels.clone());
    labels.extend(tier.labels.clone());
    labels.insert("service".into(), svc.name.clone());
    labels.insert("slo".into(), slo.name.clone());
    if let Some(owner) = &svc.owner {
        labels.insert("owner".into(), owner.clone());
    }
    let severity = tier
        .labels
        .get("severity")
        .cloned()
        .unwrap_or_else(|| t.tier.as_str().to_string());
    labels.insert("severity".into(), severity);
    labels.insert(names::TIER_LABEL.into(), t.tier.as_str().into());
    let mut annotations = BTreeMap::new();
    if !slo.description.is_empty() {
        annotations.insert("description".into(), slo.description.clone());
    }
    annotations.insert("dashboard_url".into(), dashboard_url(svc, opts));
    annotations.extend(slo.alerting.annotations.clone());
    annotations.extend(tier.annotations.clone());
    // The spec's summary leads; the burn rate and budget left always follow.
    let headline = annotations.get("summary").cloned();
    annotations.insert("summary".into(), summary(svc, slo, headline.as_ref(), t));
    Rule::Alert {
        alert: slo.alerting.name.clone(),
        expr: expr(plan, t, slo, &names::selector(&svc.name, &slo.name)),
        for_: t.for_,
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

fn expr(plan: &Plan, t: &TierPlan, slo: &Slo, sel: &str) -> String {
    let budget = slo.objective.budget_decimal();
    let guard = |long: Duration| match slo.alerting.min_events {
        Some(n) => format!(
            "\n  and\n  avg_over_time({}{sel}[{}]) * {} >= {n}",
            series::events(plan.base),
            format_duration(long),
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
                long = series::error_ratio(p.long),
                short = series::error_ratio(p.short),
                guard = guard(p.long)
            )
        })
        .collect::<Vec<_>>()
        .join("\nor\n")
}

fn summary(svc: &Service, slo: &Slo, headline: Option<&String>, t: &TierPlan) -> String {
    let slo_ref = format!("{}/{}", svc.name, slo.name);
    let budget_query = format!(
        "{}{}",
        series::BUDGET_REMAINING,
        names::template_selector(&svc.name, &slo.name)
    );
    let windows: Vec<String> = t
        .pairs
        .iter()
        .map(|p| format!("{}x over {}", p.burn_rate, format_duration(p.long)))
        .collect();
    let lead = match headline {
        Some(h) => format!("{h}: {slo_ref}"),
        None => slo_ref,
    };
    format!(
        "{lead} is burning its error budget {{{{ printf \"%.1f\" $value }}}}x as fast as sustainable \
         ({} threshold: {}); {{{{ with query \"{budget_query}\" }}}}{{{{ . | first | value | humanizePercentage }}}}{{{{ else }}}}unknown{{{{ end }}}} of the budget left",
        t.tier.as_str(),
        windows.join(" or "),
    )
}
