//! SLI queries every format writes the same way under its own field names: a ratio of two
//! window queries (bad or good events over all events) and a raw error-ratio query.
//! Long: the ratio, latency and raw readers share the group inference and query checks kept private here.

use super::promql;
use super::reader::{self, fields, Cx, Fields};
use crate::diagnostic::Code;
use crate::model::*;
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

/// Where an SLI's groups come from.
#[derive(Clone, Copy)]
pub(crate) enum Groups<'a> {
    /// The spec's `group_by` (v1): the queries must aggregate by exactly these labels.
    Declared(&'a [String]),
    /// The queries themselves (peer formats, which evaluate a query per series): labels
    /// every query keeps with `by (...)` become the SLO's groups.
    Inferred,
    /// The spec's `group_by` is faulty (already reported): the queries are checked against
    /// no groups, and nothing is said about folding them.
    Faulty,
}

/// How the rules fold a query that is not grouped into one series.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fold {
    /// Events are added up (`sum`).
    Sum,
    /// Error ratios keep the worst series (`max`).
    Max,
}

/// One checked query of an SLI, with where it was written.
pub(crate) struct Part<'a> {
    pub node: &'a Node,
    pub checked: &'a promql::Checked,
    pub label: String,
}

/// The SLO's group labels from its queries: checked against the declared ones, or
/// inferred from them. An ungrouped query that may return several series is folded into
/// one by the rules, and a warning says so: never a silent change of meaning.
pub(crate) fn groups_of(
    cx: &mut Cx,
    parts: &[Part],
    groups: Groups,
    fold: Fold,
) -> Option<Vec<String>> {
    let found = match groups {
        Groups::Declared(group_by) => {
            // A raw ratio may keep its groups through functions (`avg_over_time` of a
            // subquery): only event counts must be aggregated `by` them.
            if fold == Fold::Sum {
                let mut ok = true;
                for p in parts {
                    ok &= grouping(cx, p.node, p.checked, &p.label, group_by).is_some();
                }
                if !ok {
                    return None;
                }
            }
            group_by.to_vec()
        }
        Groups::Inferred => infer(cx, parts)?,
        Groups::Faulty => return Some(Vec::new()),
    };
    if found.is_empty() {
        for p in parts {
            folded(cx, p, fold, matches!(groups, Groups::Declared(_)));
        }
    }
    Some(found)
}

/// The labels every query keeps with `by (...)`, the same in all of them; a query
/// grouped differently from the others is an error at its position.
fn infer(cx: &mut Cx, parts: &[Part]) -> Option<Vec<String>> {
    let Some(first) = parts.iter().find(|p| p.checked.by.is_some()) else {
        return Some(Vec::new());
    };
    let want = first.checked.by.clone().unwrap_or_default();
    let show = |by: &Option<BTreeSet<String>>| match by {
        Some(b) => format!(
            "keeps `{}`",
            b.iter().cloned().collect::<Vec<_>>().join(", ")
        ),
        None => "is not aggregated `by` any label".to_string(),
    };
    let want_list: Vec<String> = want.iter().cloned().collect();
    let mut ok = true;
    for p in parts {
        if p.checked.by.as_ref() != Some(&want) {
            ok = false;
            cx.report(
                p.node.span,
                Code::GroupByMismatch,
                format!(
                    "`{}` {} but `{}` {}: an SLO per group needs every query aggregated by the same labels",
                    p.label,
                    show(&p.checked.by),
                    first.label,
                    show(&first.checked.by)
                ),
                format!("write `{}`", promql::grouped(&p.checked.query.template, &want_list)),
            );
        }
    }
    for name in &want_list {
        if crate::names::RESERVED_LABELS.contains(&name.as_str()) || name.starts_with("__") {
            ok = false;
            cx.report(
                first.node.span,
                Code::GroupByMismatch,
                format!(
                    "`{}` groups by `{name}`, a label the generated rules set themselves",
                    first.label
                ),
                "aggregate it away, or rename it in the query with `label_replace`",
            );
        }
    }
    ok.then_some(want_list)
}

/// W005 for a query the rules fold into one series when it may return several.
fn folded(cx: &mut Cx, p: &Part, fold: Fold, declared: bool) {
    if p.checked.single {
        return;
    }
    let (how, what) = match fold {
        Fold::Sum => ("sum", "add them up into one SLO"),
        Fold::Max => ("max", "keep the worst series at each evaluation"),
    };
    let (message, help) = match (&p.checked.by, declared) {
        (Some(by), true) => {
            let by = by.iter().cloned().collect::<Vec<_>>().join(", ");
            (
                format!("`{}` keeps `{by}` but the SLO has no `group_by`: the rules {what} (`{how}(...)`)", p.label),
                format!("add `group_by: [{by}]` for an SLO per group, or aggregate without `by` to say you mean one"),
            )
        }
        _ => (
            format!("`{}` may return several series: the rules {what} (`{how}(...)`)", p.label),
            format!("write the aggregation yourself (`{how}(...)`) to say you mean one SLO, or aggregate `by` the labels that should each get one"),
        ),
    };
    cx.report(p.node.span, Code::QueryWrapped, message, help);
}

/// A ratio SLI from the fields of `f`: exactly one numerator, a total, both window queries
/// over the same metric family, and its groups: for a grouped v1 SLO both aggregated `by`
/// exactly the `group_by` labels; for a peer's format, the labels both keep.
// Long: the fields of a ratio SLI checked in order, each diagnostic beside its check.
pub(crate) fn ratio(
    cx: &mut Cx,
    f: &Fields,
    keys: &RatioKeys,
    groups: Groups,
) -> Option<(Sli, Vec<String>)> {
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
        let label = format!("{what}.{key}");
        let checked = query(cx, node, &label)?;
        Some((
            key,
            is_errors,
            Query {
                node,
                label,
                checked,
            },
        ))
    });
    let total = f.require(cx, keys.total, what).and_then(|node| {
        let label = format!("{what}.{}", keys.total);
        let checked = query(cx, node, &label)?;
        Some(Query {
            node,
            label,
            checked,
        })
    });
    let ((num_key, is_errors, num), total) = (numerator?, total?);
    let group_by = groups_of(cx, &[num.part(), total.part()], groups, Fold::Sum)?;
    let (total_node, num, total) = (total.node, num.checked, total.checked);
    let families = |c: &promql::Checked| -> BTreeSet<String> {
        c.metrics
            .iter()
            .map(|m| crate::selectors::family(m).to_string())
            .collect()
    };
    let (num_families, total_families) = (families(&num), families(&total));
    if !num_families.is_empty()
        && !total_families.is_empty()
        && !related(&num_families, &total_families)
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
    Some((ratio_sli(num, is_errors, total), group_by))
}

/// The ratio SLI of two checked queries.
pub(crate) fn ratio_sli(num: promql::Checked, is_errors: bool, total: promql::Checked) -> Sli {
    let numerator = if is_errors {
        Numerator::Errors(num.query)
    } else {
        Numerator::Good(num.query)
    };
    Sli::Ratio(RatioSli {
        numerator,
        total: total.query,
    })
}

/// A query checked, with where it was written.
pub(crate) struct Query<'a> {
    pub node: &'a Node,
    pub label: String,
    pub checked: promql::Checked,
}

impl Query<'_> {
    fn part(&self) -> Part<'_> {
        Part {
            node: self.node,
            checked: &self.checked,
            label: self.label.clone(),
        }
    }
}

/// A peer's ratio of two checked queries: its groups inferred from them.
pub(crate) fn inferred_ratio(
    cx: &mut Cx,
    num: Query,
    is_errors: bool,
    total: Query,
) -> Option<(Sli, Vec<String>)> {
    let group_by = groups_of(cx, &[num.part(), total.part()], Groups::Inferred, Fold::Sum)?;
    Some((ratio_sli(num.checked, is_errors, total.checked), group_by))
}

/// A raw SLI: the mapping `node` (with fields `known`) holds the error-ratio query at `key`.
pub(crate) fn raw(
    cx: &mut Cx,
    node: &Node,
    key: &str,
    known: &[&str],
    what: &str,
    groups: Groups,
) -> Option<(Sli, Vec<String>)> {
    let f = fields(cx, node, what, known)?;
    let node = f.require(cx, key, what)?;
    let label = format!("{what}.{key}");
    let checked = query(cx, node, &label)?;
    raw_checked(cx, node, checked, label, groups)
}

/// A raw SLI from an error-ratio query already checked.
pub(crate) fn raw_checked(
    cx: &mut Cx,
    node: &Node,
    checked: promql::Checked,
    label: String,
    groups: Groups,
) -> Option<(Sli, Vec<String>)> {
    let part = Part {
        node,
        checked: &checked,
        label,
    };
    let group_by = groups_of(cx, &[part], groups, Fold::Max)?;
    Some((
        Sli::Raw(RawSli {
            error_ratio: checked.query,
        }),
        group_by,
    ))
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

/// Whether the two queries count events of one thing: a metric family in common, or
/// sibling counters of one subsystem (`x_errors_total` beside `x_total`, as Kubernetes'
/// `kubelet_runtime_operations_errors_total` is; `prometheus_notifications_errors_total`
/// beside `prometheus_notifications_sent_total`: two leading name parts in common). A
/// near miss (`http_request_total` for `http_requests_total`) is a typo, never a sibling.
fn related(a: &BTreeSet<String>, b: &BTreeSet<String>) -> bool {
    let sibling = |x: &str, y: &str| {
        if strsim::levenshtein(x, y) <= 2 {
            return false;
        }
        let prefix = |x: &str, y: &str| x.strip_prefix(y).is_some_and(|r| r.starts_with('_'));
        let common = x
            .split('_')
            .zip(y.split('_'))
            .take_while(|(p, q)| p == q)
            .count();
        prefix(x, y) || prefix(y, x) || common >= 2
    };
    a.iter().any(|x| b.iter().any(|y| x == y || sibling(x, y)))
}

fn list_names(names: &BTreeSet<String>) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A latency SLI from the two counter selectors peers write for one (Pyrra's `latency`,
/// OpenSLO's good/total): `<h>_bucket{..., le="<v>"}` over `<h>_count{...}` with the same
/// other matchers, and `<v>` printed as the rules print a threshold (`0.3`, not `0.30`,
/// so the rules select the bucket the user named). `None` for anything else: those stay
/// ratios of the queries as written.
pub(crate) fn latency_from_selectors(good: &str, total: &str) -> Option<LatencySli> {
    let (good_name, good_matchers) = promql::split_selector(good)?;
    let (total_name, total_matchers) = promql::split_selector(total)?;
    let histogram = good_name.strip_suffix("_bucket")?;
    if total_name != format!("{histogram}_count") {
        return None;
    }
    let mut le = None;
    let mut rest: Vec<&String> = Vec::new();
    for m in &good_matchers {
        match m.strip_prefix("le=\"").and_then(|v| v.strip_suffix('"')) {
            Some(v) if le.is_none() => le = Some(v.to_string()),
            _ if m.starts_with("le") => return None,
            _ => rest.push(m),
        }
    }
    let le = le?;
    let mut a: Vec<&String> = rest;
    let mut b: Vec<&String> = total_matchers.iter().collect();
    a.sort();
    b.sort();
    if a != b {
        return None;
    }
    let threshold = seconds(&le)?;
    let in_bounds = threshold >= std::time::Duration::from_millis(1)
        && threshold <= std::time::Duration::from_secs(3600);
    if !in_bounds || seconds_text(threshold) != le {
        return None;
    }
    Some(LatencySli {
        histogram: histogram.to_string(),
        matchers: total_matchers.join(","),
        threshold,
        threshold_text: crate::names::format_duration(threshold),
    })
}

/// Decimal seconds (`0.25`, `5`) as an exact duration; `None` for anything else.
fn seconds(text: &str) -> Option<std::time::Duration> {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(frac) || frac.len() > 9 {
        return None;
    }
    let secs: u64 = whole.parse().ok()?;
    let nanos: u32 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<9}").parse().ok()?
    };
    Some(std::time::Duration::new(secs, nanos))
}
