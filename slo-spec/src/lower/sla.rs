//! `sla:` of an SLO: the promised attainment and the credit tiers. Checked so an invoicing
//! job can trust it: tiers strictly descending, none above the SLA's objective, the SLA
//! not above the SLO's own objective, credits in (0, 100] and never smaller for a worse
//! period. Numbers stay exact decimals.

use super::reader::{self, Cx, Fields};
use crate::decimal::Decimal;
use crate::diagnostic::{Code, Span};
use crate::model::{CreditTier, Objective, Sla};
use crate::yaml::Node;
use std::cmp::Ordering;

pub(crate) const SLA_FIELDS: &[&str] = &["objective", "credits"];
pub(crate) const CREDIT_FIELDS: &[&str] = &["below", "credit_percent"];

/// A number as an exact decimal with its text; `what` names the field in messages, `code`
/// is reported when it is not one.
pub(crate) fn decimal(
    cx: &mut Cx,
    node: &Node,
    what: &str,
    code: Code,
) -> Option<(Decimal, String, Span)> {
    let (_, text) = reader::number(cx, node, what)?;
    match Decimal::parse(&text) {
        Some(d) => Some((d, text, node.span)),
        None => {
            cx.report(
                node.span,
                code,
                format!("`{what}` `{text}` is not a decimal number"),
                "write a plain decimal such as 99.9",
            );
            None
        }
    }
}

fn in_percent_range(d: Decimal, inclusive_100: bool) -> bool {
    let above_zero = d.compare(Decimal::from_int(0)) == Some(Ordering::Greater);
    let under_100 = match d.compare(Decimal::from_int(100)) {
        Some(Ordering::Less) => true,
        Some(Ordering::Equal) => inclusive_100,
        _ => false,
    };
    above_zero && under_100
}

// Long: the fields of `sla:` read and checked in the order the spec documents them.
pub(crate) fn read(cx: &mut Cx, node: &Node, slo_objective: Option<&Objective>) -> Option<Sla> {
    let f: Fields = reader::fields(cx, node, "sla", SLA_FIELDS)?;
    let objective = f
        .require(cx, "objective", "sla")
        .and_then(|n| decimal(cx, n, "sla.objective", Code::InvalidSla));
    let credits_node = f.require(cx, "credits", "sla")?;
    let items = reader::list(cx, credits_node, "sla.credits")?;
    let (objective, objective_text, objective_span) = objective?;
    let mut ok = true;
    if !in_percent_range(objective, false) {
        cx.report(
            objective_span,
            Code::InvalidSla,
            format!("`sla.objective` must be between 0 and 100 (exclusive), got {objective_text}"),
            "the SLA objective is a percentage, e.g. 99.5",
        );
        ok = false;
    }
    if let Some(own) = slo_objective.and_then(|o| Decimal::parse(&o.text)) {
        if objective.compare(own) == Some(Ordering::Greater) {
            cx.report(
                objective_span,
                Code::InvalidSla,
                format!(
                    "`sla.objective` {objective_text} is above the SLO's own objective {}",
                    own
                ),
                "promise customers at most what the SLO holds the team to: lower the SLA or raise the SLO's objective",
            );
            ok = false;
        }
    }
    if items.is_empty() {
        cx.report(
            credits_node.span,
            Code::InvalidSla,
            "`sla.credits` lists no tier",
            "add e.g. `- {below: 99.9, credit_percent: 10}`",
        );
        return None;
    }
    let mut credits: Vec<CreditTier> = Vec::new();
    let mut previous: Option<(Decimal, Decimal)> = None;
    for (i, item) in items.iter().enumerate() {
        let what = format!("sla.credits[{i}]");
        let Some(t) = reader::fields(cx, item, &what, CREDIT_FIELDS) else {
            ok = false;
            continue;
        };
        let below = t
            .require(cx, "below", &what)
            .and_then(|n| decimal(cx, n, &format!("{what}.below"), Code::InvalidSla));
        let credit = t
            .require(cx, "credit_percent", &what)
            .and_then(|n| decimal(cx, n, &format!("{what}.credit_percent"), Code::InvalidSla));
        let (Some((below, below_text, below_span)), Some((credit, credit_text, credit_span))) =
            (below, credit)
        else {
            ok = false;
            continue;
        };
        if !in_percent_range(below, true) || below.compare(objective) == Some(Ordering::Greater) {
            cx.report(
                below_span,
                Code::InvalidSla,
                format!("`{what}.below` {below_text} is above the SLA objective {objective_text}"),
                "a credit applies below the promised attainment: use a value at or under the SLA's objective",
            );
            ok = false;
        }
        if !in_percent_range(credit, true) {
            cx.report(
                credit_span,
                Code::InvalidSla,
                format!(
                    "`{what}.credit_percent` must be above 0 and at most 100, got {credit_text}"
                ),
                "the credit is a percentage of the period's charge, e.g. 10",
            );
            ok = false;
        }
        if let Some((prev_below, prev_credit)) = previous {
            if below.compare(prev_below) != Some(Ordering::Less) {
                cx.report(
                    below_span,
                    Code::InvalidSla,
                    format!("`{what}.below` {below_text} is not below the tier before it ({prev_below})"),
                    "list the tiers from the highest `below` to the lowest",
                );
                ok = false;
            } else if credit.compare(prev_credit) == Some(Ordering::Less) {
                cx.report(
                    credit_span,
                    Code::InvalidSla,
                    format!("`{what}.credit_percent` {credit_text} is less than the tier above it ({prev_credit})"),
                    "a worse period never earns a smaller credit: make it at least the previous tier's",
                );
                ok = false;
            }
        }
        previous = Some((below, credit));
        credits.push(CreditTier {
            below,
            below_text,
            credit_percent: credit,
            credit_text,
        });
    }
    ok.then_some(Sla {
        objective,
        objective_text,
        credits,
    })
}
