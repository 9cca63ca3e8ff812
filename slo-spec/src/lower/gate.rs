//! `deploy_gate:` of an SLO: how much of the error budget must be left for a deploy to
//! ship (`slo-gen gate`). An exact percentage, 0 (only an exhausted budget blocks) up to,
//! not including, 100.

use super::reader::{self, Cx};
use super::sla::decimal;
use crate::decimal::Decimal;
use crate::diagnostic::Code;
use crate::model::DeployGate;
use crate::yaml::Node;
use std::cmp::Ordering;

pub(crate) const DEPLOY_GATE_FIELDS: &[&str] = &["min_budget"];

pub(crate) fn read(cx: &mut Cx, node: &Node) -> Option<DeployGate> {
    let f = reader::fields(cx, node, "deploy_gate", DEPLOY_GATE_FIELDS)?;
    let n = f.require(cx, "min_budget", "deploy_gate")?;
    let (min_budget, text, span) =
        decimal(cx, n, "deploy_gate.min_budget", Code::InvalidDeployGate)?;
    let at_least_zero = min_budget.compare(Decimal::from_int(0)) != Some(Ordering::Less);
    let under_100 = min_budget.compare(Decimal::from_int(100)) == Some(Ordering::Less);
    if !(at_least_zero && under_100) {
        cx.report(
            span,
            Code::InvalidDeployGate,
            format!("`deploy_gate.min_budget` must be at least 0 and under 100, got {text}"),
            "the percentage of the error budget that must be left to deploy, e.g. `min_budget: 25`",
        );
        return None;
    }
    Some(DeployGate { min_budget, text })
}
