//! The only rules that read raw series: each SLI kind as bad and all events per second at
//! the base window (for freshness and raw SLIs: bad time slices and time slices).

use slo_spec::names::format_duration;
use slo_spec::{FreshnessGauge, Numerator, Sli};
use std::time::Duration;

/// The base expressions `(errors, events)`. `events` names the events series recorded just
/// before in the same group, so "total - good" reads the raw total once.
pub fn base_exprs(sli: &Sli, base: Duration, events: &str) -> (String, String) {
    let b = format_duration(base);
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
            let max_age = slo_spec::model::seconds_text(f.max_age);
            let age = match f.gauge {
                FreshnessGauge::LastSuccess => format!("time() - max({sel})"),
                FreshnessGauge::Age => format!("max({sel})"),
            };
            (
                format!("({age} > bool {max_age}) or vector(0)"),
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
