//! The only rules that read raw series: each SLI kind as bad and all events per second at
//! the base window (for freshness and raw SLIs: bad time slices and time slices), and the
//! number of raw series the SLI reads (what the missing-data alert watches). A grouped SLO
//! keeps its group labels on every one of them.

use slo_spec::names::format_duration;
use slo_spec::{FreshnessGauge, Numerator, Sli, WindowQuery};
use std::time::Duration;

/// ` by (a, b)` for an aggregation, empty when the SLO is not grouped.
fn by(group_by: &[String]) -> String {
    if group_by.is_empty() {
        String::new()
    } else {
        format!(" by ({})", group_by.join(", "))
    }
}

/// `on(a, b)`: vector matching on the group labels (`on()` for one aggregate).
fn on(group_by: &[String]) -> String {
    format!("on({})", group_by.join(", "))
}

/// The base expressions `(errors, events)`. `events` is what the errors of "good" and
/// latency SLIs subtract the good events from: the rules pass the events expression
/// itself (see `base_queries`), never the recorded series, which vmalert would read a
/// round late.
///
/// One aggregate falls back to `vector(0)` so zero traffic records 0 events. A grouped SLO
/// cannot (a label-less 0 matches no group): a group with no series has no events, and a
/// group with traffic but no bad events gets 0 from its own events series.
// Long: one match over the SLI kinds, each arm the PromQL of that kind.
pub fn base_exprs(
    sli: &Sli,
    base: Duration,
    events: &str,
    group_by: &[String],
) -> (String, String) {
    let b = format_duration(base);
    let grouped = !group_by.is_empty();
    // `q`, and 0 where it has no series but the group has events (or `vector(0)`).
    let or_zero = |q: String| {
        if grouped {
            format!("{q} or {} (0 * {events})", on(group_by))
        } else {
            format!("{q} or vector(0)")
        }
    };
    let total_or_zero = |q: String| {
        if grouped {
            q
        } else {
            format!("{q} or vector(0)")
        }
    };
    match sli {
        Sli::Ratio(r) => {
            let total = total_or_zero(summed(&r.total, &b, grouped));
            let errors = match &r.numerator {
                Numerator::Errors(q) => or_zero(summed(q, &b, grouped)),
                Numerator::Good(q) => format!(
                    "clamp_min({events} - {} ({}), 0)",
                    on(group_by),
                    or_zero(summed(q, &b, grouped))
                ),
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
            let g = by(group_by);
            let total = total_or_zero(format!(
                "sum{g}(rate({}_count{}[{b}]))",
                l.histogram,
                sel("")
            ));
            let good = or_zero(format!(
                "sum{g}(rate({}_bucket{}[{b}]))",
                l.histogram,
                sel(&format!("le=\"{}\"", l.le()))
            ));
            (
                format!("clamp_min({events} - {} ({good}), 0)", on(group_by)),
                total,
            )
        }
        Sli::Freshness(f) => {
            let sel = format!("{}{{{}}}", f.metric, f.matchers);
            let g = by(group_by);
            let max_age = slo_spec::model::seconds_text(f.max_age);
            let age = match f.gauge {
                FreshnessGauge::LastSuccess => format!("time() - max{g}({sel})"),
                FreshnessGauge::Age => format!("max{g}({sel})"),
            };
            if grouped {
                (
                    format!("({age} > bool {max_age})"),
                    format!("count{g}(max{g}({sel}))"),
                )
            } else {
                (
                    format!("({age} > bool {max_age}) or vector(0)"),
                    format!("count(max({sel})) or vector(0)"),
                )
            }
        }
        Sli::Raw(r) => {
            // NaN ratios (0/0 inside the user's query) are dropped, not summed.
            let ratio = format!("max{}({}) >= 0", by(group_by), r.error_ratio.render(&b));
            let count = if grouped {
                format!("count{}({ratio})", by(group_by))
            } else {
                format!("count({ratio})")
            };
            (format!("clamp_max({ratio}, 1)"), count)
        }
    }
}

/// The base series of an SLO as standalone queries of raw series, exactly what its rules
/// record (`events` inlined where the errors read the recorded events): what `backtest`
/// fetches. `inputs` is `None` when the missing-data alert is off.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct BaseQueries {
    pub events: String,
    pub errors: String,
    pub inputs: Option<String>,
}

pub fn base_queries(slo: &slo_spec::Slo, plan: &slo_eval::Plan) -> BaseQueries {
    let (errors, events) = raw_queries(slo, plan.base);
    BaseQueries {
        events,
        errors,
        inputs: plan
            .absent
            .as_ref()
            .map(|_| inputs_expr(&slo.sli, &slo.group_by)),
    }
}

/// Where a command reads an SLO's base series.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Source {
    /// The SLI's own queries over raw series: a Prometheus that scrapes them.
    #[default]
    Raw,
    /// The base series the rules recorded: the split layout's global store holds only
    /// these (merged across clusters), no raw series.
    Recorded,
}

/// The base series of an SLO of `service` as read from `source`.
pub fn source_queries(
    source: Source,
    service: &str,
    slo: &slo_spec::Slo,
    plan: &slo_eval::Plan,
) -> BaseQueries {
    match source {
        Source::Raw => base_queries(slo, plan),
        Source::Recorded => {
            let sel = crate::names::selector(service, &slo.name);
            let named = |name: &str| format!("{name}{sel}");
            BaseQueries {
                events: named(&crate::names::series::events(plan.base)),
                errors: named(&crate::names::series::error_events(plan.base)),
                inputs: plan
                    .absent
                    .as_ref()
                    .map(|_| named(crate::names::series::INPUTS)),
            }
        }
    }
}

/// `(errors, events)` of the SLI over `window` as standalone queries of raw series (the
/// events inlined where the errors subtract the good events).
pub fn raw_queries(slo: &slo_spec::Slo, window: Duration) -> (String, String) {
    let (_, events) = base_exprs(&slo.sli, window, "", &slo.group_by);
    let (errors, _) = base_exprs(&slo.sli, window, &format!("({events})"), &slo.group_by);
    (errors, events)
}

/// The number of raw series the SLI reads (per group): the total's series for a ratio,
/// the histogram's `_count`, the freshness gauge, every series of a raw query. Nothing at
/// all when they are gone, which is what the missing-data alert watches.
pub fn inputs_expr(sli: &Sli, group_by: &[String]) -> String {
    let g = by(group_by);
    input_selectors(sli)
        .iter()
        .map(|s| format!("count{g}({s})"))
        .collect::<Vec<_>>()
        .join(" + ")
}

/// The raw series the SLI reads, as selectors (`name{matchers}`).
pub fn input_selectors(sli: &Sli) -> Vec<String> {
    match sli {
        Sli::Ratio(r) => r.total.selectors.clone(),
        Sli::Raw(r) => r.error_ratio.selectors.clone(),
        Sli::Latency(l) => vec![format!("{}_count{{{}}}", l.histogram, l.matchers)],
        Sli::Freshness(f) => vec![format!("{}{{{}}}", f.metric, f.matchers)],
    }
}

/// The query aggregated into one series: `sum(...)` unless it already is a plain `sum`.
/// A grouped SLO's query is used as written: validation made it aggregate by the groups.
fn summed(query: &WindowQuery, window: &str, grouped: bool) -> String {
    let rendered = query.render(window);
    let q = rendered.trim();
    if grouped || query.plain_sum {
        q.to_string()
    } else {
        format!("sum({q})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_the_totals_series() {
        let checked = slo_spec::check(&[slo_spec::Source {
            path: "t.yaml".into(),
            text: r#"version: v1
service: s
owner: o
slos:
  - name: a
    description: d
    objective: 99
    group_by: [provider]
    sli:
      ratio:
        errors: sum by (provider) (rate(x_total{code=~"5.."}[{{window}}]))
        total: sum by (provider) (rate(x_total{job="a"}[{{window}}]) + rate(y_total[{{window}}]))
    alerting: {disabled: true}
"#
            .into(),
        }]);
        assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
        let slo = &checked.services[0].slos[0];
        assert_eq!(
            inputs_expr(&slo.sli, &slo.group_by),
            r#"count by (provider)(x_total{job="a"}) + count by (provider)(y_total{})"#
        );
    }
}
