//! SLI queries every format writes the same way under its own field names: a ratio of two
//! window queries (bad or good events over all events) and a raw error-ratio query.

use super::reader::{self, fields, Cx, Fields};
use crate::diagnostic::Code;
use crate::model::*;
use crate::promql;
use crate::yaml::Node;
use std::collections::BTreeSet;

/// The field names of a ratio SLI in one format: `errors_key` (or `good_key`) over
/// `total_key`, inside `what`.
pub(crate) struct RatioKeys<'a> {
    pub errors: &'a str,
    pub good: Option<&'a str>,
    pub total: &'a str,
    pub what: &'a str,
}

/// A ratio SLI from the fields of `f`: exactly one numerator, a total, both window queries
/// over the same metric family, and, for a grouped SLO, both aggregated `by` exactly the
/// `group_by` labels.
pub(crate) fn ratio(cx: &mut Cx, f: &Fields, keys: &RatioKeys, group_by: &[String]) -> Option<Sli> {
    let what = keys.what;
    let errors = f.get(keys.errors);
    let good = keys.good.and_then(|k| f.get(k).map(|n| (k, n)));
    let numerator = match (errors, good) {
        (Some(_), Some((gk, g))) => {
            let key = f.key(gk).map(|k| k.span).unwrap_or(g.span);
            cx.report(
                key,
                Code::SliKind,
                format!("`{what}` has both `{}` and `{gk}`", keys.errors),
                "count either the bad events or the good ones, not both",
            );
            None
        }
        (Some(e), None) => Some((keys.errors, e, true)),
        (None, Some((gk, g))) => Some((gk, g, false)),
        (None, None) => {
            let names = match keys.good {
                Some(gk) => format!("`{}` or `{gk}`", keys.errors),
                None => format!("`{}`", keys.errors),
            };
            cx.report(
                f.span,
                Code::MissingField,
                format!("`{what}` needs {names}"),
                format!("add `{}:` with a query counting failed events", keys.errors),
            );
            None
        }
    };
    let numerator = numerator.and_then(|(key, node, is_errors)| {
        let checked = query(cx, node, &format!("{what}.{key}"))?;
        grouping(cx, node, &checked, &format!("{what}.{key}"), group_by)?;
        Some((key, checked, is_errors))
    });
    let total = f.require(cx, keys.total, what).and_then(|node| {
        let label = format!("{what}.{}", keys.total);
        let checked = query(cx, node, &label)?;
        grouping(cx, node, &checked, &label, group_by)?;
        Some((checked, node))
    });
    let ((num_key, num, is_errors), (total, total_node)) = (numerator?, total?);
    let families = |c: &promql::Checked| -> BTreeSet<String> {
        c.metrics
            .iter()
            .map(|m| crate::selectors::family(m).to_string())
            .collect()
    };
    let (num_families, total_families) = (families(&num), families(&total));
    if !num_families.is_empty()
        && !total_families.is_empty()
        && num_families.is_disjoint(&total_families)
    {
        cx.report(
            total_node.span,
            Code::MetricMismatch,
            format!(
                "`{num_key}` reads {} but `{}` reads {}",
                list_names(&num.metrics),
                keys.total,
                list_names(&total.metrics)
            ),
            "a ratio compares events of one metric family; select the same metric in both queries",
        );
        return None;
    }
    let numerator = if is_errors {
        Numerator::Errors(num.query)
    } else {
        Numerator::Good(num.query)
    };
    Some(Sli::Ratio(RatioSli {
        numerator,
        total: total.query,
    }))
}

/// A raw SLI: the mapping `node` (with fields `known`) holds the error-ratio query at `key`.
pub(crate) fn raw(cx: &mut Cx, node: &Node, key: &str, known: &[&str], what: &str) -> Option<Sli> {
    let f = fields(cx, node, what, known)?;
    let node = f.require(cx, key, what)?;
    let checked = query(cx, node, &format!("{what}.{key}"))?;
    Some(Sli::Raw(RawSli {
        error_ratio: checked.query,
    }))
}

/// A grouped SLO's ratio query must keep exactly the group labels, so every recorded
/// series carries them: its outermost aggregation is `by (<group_by>)`.
fn grouping(
    cx: &mut Cx,
    node: &Node,
    checked: &promql::Checked,
    what: &str,
    group_by: &[String],
) -> Option<()> {
    if group_by.is_empty() {
        return Some(());
    }
    let want: BTreeSet<String> = group_by.iter().cloned().collect();
    if checked.by.as_ref() == Some(&want) {
        return Some(());
    }
    let found = match &checked.by {
        Some(by) => format!(
            "keeps `{}`",
            by.iter().cloned().collect::<Vec<_>>().join(", ")
        ),
        None => "is not aggregated `by` them".to_string(),
    };
    let corrected = promql::grouped(&checked.query.template, group_by);
    cx.report(
        node.span,
        Code::GroupByMismatch,
        format!(
            "`{what}` must aggregate by exactly the `group_by` labels ({}), but {found}",
            group_by.join(", ")
        ),
        format!("write `{corrected}`"),
    );
    None
}

fn query(cx: &mut Cx, node: &Node, label: &str) -> Option<promql::Checked> {
    let text = reader::string(cx, node, label)?;
    promql::window_query(cx, node, &text, label)
}

fn list_names(names: &BTreeSet<String>) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
