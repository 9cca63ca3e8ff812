//! `alerting.breakdown`: the labels whose top values by errors a burn alert's notification
//! lists. Read with the alerting (file defaults or the SLO's), checked against the SLO's
//! SLI and groups when the SLO is built.

use super::common;
use super::reader::Cx;
use crate::diagnostic::{Code, Span};
use crate::model::Sli;
use crate::yaml::Node;

/// At most this many labels break an alert down: each one multiplies the series the
/// notification's query returns before its top three are kept.
pub(crate) const MAX_BREAKDOWN: usize = 3;

pub(crate) fn read(cx: &mut Cx, node: &Node, what: &str) -> Option<(Vec<String>, Span)> {
    let labels = common::label_list(
        cx,
        node,
        what,
        "list the labels on-call should see the top values of, e.g. `[account]`, or remove the field",
    )?;
    if labels.len() > MAX_BREAKDOWN {
        cx.report(
            node.span,
            Code::InvalidBreakdown,
            format!(
                "`{what}` lists {} labels; at most {MAX_BREAKDOWN} break an alert down",
                labels.len()
            ),
            "keep the labels that name who or what is affected (an account, a route)",
        );
        return None;
    }
    Some((labels, node.span))
}

/// A breakdown ranks events by error: an SLI of events (ratio, latency), by labels that
/// are not already the SLO's groups (each group's alert is already about one value).
pub(crate) fn check(
    cx: &mut Cx,
    labels: &[String],
    span: Span,
    group_by: &[String],
    sli: &Sli,
) -> Option<()> {
    if matches!(sli, Sli::Freshness(_) | Sli::Raw(_)) {
        cx.report(
            span,
            Code::InvalidBreakdown,
            format!("a {} SLI has no error events to break down", sli.kind()),
            "`breakdown` needs a ratio or latency SLI; remove it, or split the SLO with `group_by`",
        );
        return None;
    }
    if let Some(l) = labels.iter().find(|l| group_by.contains(l)) {
        cx.report(
            span,
            Code::InvalidBreakdown,
            format!("`{l}` is in `group_by`: each of its values already has its own alert"),
            "remove it from `breakdown`",
        );
        return None;
    }
    Some(())
}
