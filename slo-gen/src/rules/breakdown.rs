//! `alerting.breakdown`: who is burning the budget. A burn alert's `breakdown` annotation
//! queries the SLI's error events per second over the tier's shortest window, split by the
//! breakdown labels, and lists the top three with their share of the errors (per group for
//! a grouped SLO: the alert shows its own group's).
//!
//! The query runs only while an alert fires (annotations are expanded then), so it reads
//! raw series at no cost the rest of the time. The SLI's own queries are re-aggregated by
//! the breakdown labels through promql-parser: every aggregation at the top of the query
//! (through binary operators, parentheses and function calls) keeps them, and vector
//! matching `on` them.

use super::sli;
use promql_parser::label::Labels;
use promql_parser::parser::{self, Expr, LabelModifier};
use slo_eval::TierPlan;
use slo_spec::names::format_duration;
use slo_spec::{Numerator, RatioSli, Sli, Slo, WindowQuery};
use std::time::Duration;

/// How many values the annotation lists.
pub const TOP: usize = 3;

/// The `breakdown` annotation of a burn alert; `None` without `alerting.breakdown`.
pub fn annotation(slo: &Slo, t: &TierPlan) -> Option<String> {
    let window = window(slo, t)?;
    Some(annotation_of(slo, &query(slo, window)?, window))
}

/// The window a tier's breakdown covers: its shortest; `None` without `alerting.breakdown`.
pub fn window(slo: &Slo, t: &TierPlan) -> Option<Duration> {
    if slo.alerting.breakdown.is_empty() {
        return None;
    }
    t.pairs.iter().map(|p| p.short).min()
}

/// The annotation listing the rows of `query` (as [`shares`] makes it) over `window`.
pub fn annotation_of(slo: &Slo, query: &str, window: Duration) -> String {
    let rows = slo
        .alerting
        .breakdown
        .iter()
        .map(|l| format!("{l}={{{{ label \"{l}\" . }}}}"))
        .collect::<Vec<_>>()
        .join(", ");
    template(
        query,
        &rows,
        &slo.alerting.breakdown.join(", "),
        &slo.group_by,
        window,
    )
}

/// The annotation listing `query`'s rows (each `rows: share of errors`), a grouped alert
/// only its own group's. Shared with the split layout's `clusters` annotation.
pub(crate) fn template(
    query: &str,
    rows: &str,
    what: &str,
    group_by: &[String],
    window: Duration,
) -> String {
    let row = format!("\n- {rows}: {{{{ value . | humanizePercentage }}}} of errors");
    let row = match group_by {
        [] => row,
        [g] => format!("{{{{ if eq (label \"{g}\" .) $labels.{g} }}}}{row}{{{{ end }}}}"),
        gs => format!(
            "{{{{ if and {} }}}}{row}{{{{ end }}}}",
            gs.iter()
                .map(|g| format!("(eq (label \"{g}\" .) $labels.{g})"))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    };
    format!(
        "{{{{ with query {} }}}}Top {what} by share of errors over the last {}:{{{{ range . }}}}{row}{{{{ end }}}}{{{{ else }}}}No errors over the last {}.{{{{ end }}}}",
        go_string(query),
        format_duration(window),
        format_duration(window),
    )
}

/// The top values by error events per second over `window` (per group), as each one's
/// share of the group's errors, largest first.
pub fn query(slo: &Slo, window: Duration) -> Option<String> {
    Some(shares(slo, &errors(slo, window)?))
}

/// The SLI's error events per second over `window` by the group and breakdown labels, a
/// value with no errors kept at 0; `None` without `alerting.breakdown` or error events.
pub fn errors(slo: &Slo, window: Duration) -> Option<String> {
    if slo.alerting.breakdown.is_empty() {
        return None;
    }
    let mut labels = slo.group_by.clone();
    labels.extend(slo.alerting.breakdown.iter().cloned());
    let sli = regrouped(&slo.sli, window, &labels)?;
    let (_, events) = sli::base_exprs(&sli, window, "", &labels);
    let (errors, _) = sli::base_exprs(&sli, window, &format!("({events})"), &labels);
    Some(errors)
}

/// The top rows of `errors` (per group) as shares of the group's errors, largest first.
pub fn shares(slo: &Slo, errors: &str) -> String {
    let groups = slo.group_by.join(", ");
    let by = if groups.is_empty() {
        String::new()
    } else {
        format!(" by ({groups})")
    };
    format!(
        "sort_desc(topk{by} ({TOP}, (({errors}) > 0) / on({groups}) group_left() sum{by} ({errors})))"
    )
}

/// The SLI with its queries aggregated by `labels` (a latency SLI is already written per
/// label set by `sli::base_exprs`); `None` for SLIs without error events.
fn regrouped(s: &Sli, window: Duration, labels: &[String]) -> Option<Sli> {
    let w = format_duration(window);
    let q = |q: &WindowQuery| -> Option<WindowQuery> {
        Some(WindowQuery {
            template: aggregated_by(&q.render(&w), labels)?,
            plain_sum: false,
            selectors: q.selectors.clone(),
        })
    };
    match s {
        Sli::Ratio(r) => Some(Sli::Ratio(RatioSli {
            numerator: match &r.numerator {
                Numerator::Errors(e) => Numerator::Errors(q(e)?),
                Numerator::Good(g) => Numerator::Good(q(g)?),
            },
            total: q(&r.total)?,
        })),
        Sli::Latency(_) => Some(s.clone()),
        Sli::Freshness(_) | Sli::Raw(_) => None,
    }
}

/// `query` with every top-level aggregation keeping `labels`; a query without one is
/// summed by them. `None` if it does not parse (validation parsed it: not expected).
pub fn aggregated_by(query: &str, labels: &[String]) -> Option<String> {
    let mut expr = parser::parse(query).ok()?;
    if !keep(&mut expr, labels) {
        return Some(format!("sum by ({}) ({expr})", labels.join(", ")));
    }
    Some(expr.to_string())
}

/// Adds `labels` to the aggregations at the top of `e`; whether there was one.
fn keep(e: &mut Expr, labels: &[String]) -> bool {
    match e {
        Expr::Aggregate(a) => {
            a.modifier = Some(match a.modifier.take() {
                None => LabelModifier::Include(Labels {
                    labels: labels.to_vec(),
                }),
                Some(LabelModifier::Include(ls)) => LabelModifier::Include(with(ls, labels)),
                Some(LabelModifier::Exclude(ls)) => LabelModifier::Exclude(without(ls, labels)),
            });
            true
        }
        Expr::Binary(b) => {
            if let Some(m) = b.modifier.as_mut() {
                m.matching = match m.matching.take() {
                    Some(LabelModifier::Include(ls)) => {
                        Some(LabelModifier::Include(with(ls, labels)))
                    }
                    Some(LabelModifier::Exclude(ls)) => {
                        Some(LabelModifier::Exclude(without(ls, labels)))
                    }
                    None => None,
                };
            }
            let l = keep(&mut b.lhs, labels);
            let r = keep(&mut b.rhs, labels);
            l || r
        }
        Expr::Paren(p) => keep(&mut p.expr, labels),
        // Every argument is rewritten, so no short-circuit.
        Expr::Call(c) => c
            .args
            .args
            .iter_mut()
            .map(|a| keep(a, labels))
            .fold(false, |found, k| found | k),
        _ => false,
    }
}

fn with(mut ls: Labels, labels: &[String]) -> Labels {
    for l in labels {
        if !ls.labels.contains(l) {
            ls.labels.push(l.clone());
        }
    }
    ls
}

fn without(mut ls: Labels, labels: &[String]) -> Labels {
    ls.labels.retain(|l| !labels.contains(l));
    ls
}

/// `s` as a Go template string: raw unless it holds a backquote.
fn go_string(s: &str) -> String {
    if s.contains('`') {
        serde_json::to_string(s).expect("strings always serialise")
    } else {
        format!("`{s}`")
    }
}

#[cfg(test)]
mod tests {
    use super::aggregated_by;

    fn check(query: &str, labels: &[&str], expected: &str) {
        let labels: Vec<String> = labels.iter().map(|s| s.to_string()).collect();
        assert_eq!(aggregated_by(query, &labels).unwrap(), expected, "{query}");
    }

    #[test]
    fn aggregations_keep_the_breakdown_labels() {
        check(
            r#"sum(rate(x_total{code=~"5.."}[5m]))"#,
            &["account"],
            r#"sum by (account) (rate(x_total{code=~"5.."}[5m]))"#,
        );
        check(
            "sum by (provider) (rate(x_total[5m]))",
            &["provider", "account"],
            "sum by (provider, account) (rate(x_total[5m]))",
        );
        check(
            "sum without (instance, account) (rate(x_total[5m]))",
            &["account"],
            "sum without (instance) (rate(x_total[5m]))",
        );
        check(
            "sum(rate(a_total[5m])) + sum(rate(b_total[5m]))",
            &["route"],
            "sum by (route) (rate(a_total[5m])) + sum by (route) (rate(b_total[5m]))",
        );
        check(
            "rate(a_total[5m])",
            &["route"],
            "sum by (route) (rate(a_total[5m]))",
        );
        check(
            "clamp_min(sum(rate(a_total[5m])) - on() sum(rate(b_total[5m])), 0)",
            &["route"],
            "clamp_min(sum by (route) (rate(a_total[5m])) - on (route) sum by (route) (rate(b_total[5m])), 0)",
        );
    }
}
