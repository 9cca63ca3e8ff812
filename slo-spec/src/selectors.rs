//! The vector selectors of a parsed query: one walker, shared by validation (which metrics
//! a ratio compares), `check-metrics` (what a service must expose) and the tests that prove
//! dashboards read only recorded series.

use promql_parser::parser::Expr;
use promql_parser::util::{walk_expr, ExprVisitor};

/// One vector selector of a query: the metric name (from the name or an `__name__="…"`
/// matcher; empty when neither) and the other label matchers.
#[derive(Clone, Debug)]
pub struct Selector {
    pub name: String,
    pub matchers: Vec<promql_parser::label::Matcher>,
    /// The range, for selectors inside a range (`x[5m]`).
    pub range: Option<std::time::Duration>,
}

struct Selectors(Vec<Selector>);

impl ExprVisitor for Selectors {
    type Error = ();
    fn pre_visit(&mut self, expr: &Expr) -> Result<bool, ()> {
        let (vs, range) = match expr {
            Expr::VectorSelector(vs) => (vs, None),
            Expr::MatrixSelector(ms) => (&ms.vs, Some(ms.range)),
            _ => return Ok(true),
        };
        let mut name = vs.name.clone().unwrap_or_default();
        let mut matchers = Vec::new();
        for m in &vs.matchers.matchers {
            if m.name == "__name__" && matches!(m.op, promql_parser::label::MatchOp::Equal) {
                name = m.value.clone();
            } else {
                matchers.push(m.clone());
            }
        }
        self.0.push(Selector {
            name,
            matchers,
            range,
        });
        Ok(true)
    }
}

/// Every vector selector of a parsed expression, in order (those inside ranges too).
pub fn selectors(expr: &Expr) -> Vec<Selector> {
    let mut s = Selectors(Vec::new());
    let _ = walk_expr(&mut s, expr);
    s.0
}

/// The family a series name belongs to: `x_bucket`, `x_count`, `x_sum` and `x_total` all
/// belong to `x`, so a histogram's good (`_bucket`) and total (`_count`) are one family.
pub fn family(name: &str) -> &str {
    for suffix in ["_bucket", "_count", "_sum", "_total", "_created"] {
        if let Some(base) = name.strip_suffix(suffix) {
            return base;
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families() {
        assert_eq!(
            family("billing_request_duration_seconds_bucket"),
            "billing_request_duration_seconds"
        );
        assert_eq!(family("billing_requests_total"), "billing_requests");
        assert_eq!(family("up"), "up");
    }
}
