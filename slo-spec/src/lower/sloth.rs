//! Import of Sloth `prometheus/v1` documents, so teams can switch without rewriting specs.
//! Field names follow Sloth; the result is the same model v1 produces.

use super::alerting::{self, AlertingSpec, Dialect};
use super::common::{self, SloParts};
use super::reader::{self, fields, Cx};
use super::sli::{self, RatioKeys};
use crate::diagnostic::Code;
use crate::model::*;
use crate::yaml::Node;

pub(crate) const TOP_FIELDS: &[&str] = &["version", "service", "labels", "slos"];
pub(crate) const SLO_FIELDS: &[&str] = &[
    "name",
    "objective",
    "description",
    "labels",
    "sli",
    "alerting",
];
pub(crate) const SLI_FIELDS: &[&str] = &["events", "raw", "plugin"];
pub(crate) const EVENTS_FIELDS: &[&str] = &["error_query", "total_query"];
pub(crate) const RAW_FIELDS: &[&str] = &["error_ratio_query"];
pub(crate) const ALERTING_FIELDS: &[&str] = &[
    "name",
    "labels",
    "annotations",
    "page_alert",
    "ticket_alert",
    "disable",
];
pub(crate) const TIER_FIELDS: &[&str] = &["labels", "annotations", "disable"];

const ALERTING: Dialect = Dialect {
    fields: ALERTING_FIELDS,
    tiers: ["page_alert", "ticket_alert"],
    disabled: "disable",
    tier_fields: TIER_FIELDS,
    lenient: true,
};

pub(crate) fn lower(cx: &mut Cx, root: &Node) -> Option<Service> {
    let top = fields(cx, root, "the Sloth spec", TOP_FIELDS)?;
    common::declare(cx, &top, "service");
    let service = common::required_slug(cx, &top, "service", "the Sloth spec", "service");
    let mut labels = top
        .get("labels")
        .map(|n| common::label_map(cx, n, "labels", true, &["owner"]))
        .unwrap_or_default();
    // Sloth has no owner field; its examples carry the team as an `owner` label.
    let owner = labels.remove("owner");
    let service_name = service.as_ref().map(|(n, _)| n.as_str()).unwrap_or("");
    let mut slos = Vec::new();
    if let Some(list) = top.require(cx, "slos", "the Sloth spec") {
        if let Some(items) = reader::list(cx, list, "slos") {
            for item in items {
                let Some(parts) = slo(cx, item) else {
                    continue;
                };
                let defaults = AlertingSpec::default();
                if let Some(slo) = common::finish_slo(cx, parts, &defaults, service_name) {
                    common::add_slo(cx, &mut slos, slo);
                }
            }
        }
    }
    common::finish_service(cx, Format::SlothV1, service, owner, labels, slos)
}

fn slo(cx: &mut Cx, node: &Node) -> Option<SloParts> {
    let f = fields(cx, node, "a Sloth SLO", SLO_FIELDS)?;
    Some(SloParts {
        name: common::required_slug(cx, &f, "name", "the SLO", "SLO name"),
        objective: common::required_objective(cx, &f),
        description: match f.get("description") {
            Some(n) => reader::string(cx, n, "description"),
            None => Some(String::new()),
        },
        labels: f
            .get("labels")
            .map(|n| common::label_map(cx, n, "labels", true, &[]))
            .unwrap_or_default(),
        group_by: Some(Vec::new()),
        sli: f.require(cx, "sli", "the SLO").and_then(|n| sli(cx, n)),
        sla: Some(None),
        alerting: match f.get("alerting") {
            Some(n) => alerting::read(cx, n, "alerting", &ALERTING),
            None => Some(AlertingSpec::default()),
        },
        // Sloth SLOs are 30-day SLOs.
        period: Some(common::default_period()),
    })
}

fn sli(cx: &mut Cx, node: &Node) -> Option<Sli> {
    let f = fields(cx, node, "sli", SLI_FIELDS)?;
    if let Some(key) = f.key("plugin") {
        cx.report(
            key.span,
            Code::Unsupported,
            "Sloth SLI plugins are not supported",
            "write the plugin's query as `raw.error_ratio_query`, or convert the file to v1",
        );
        return None;
    }
    match (f.get("events"), f.get("raw")) {
        (Some(events), None) => {
            let ef = fields(cx, events, "sli.events", EVENTS_FIELDS)?;
            let keys = RatioKeys {
                errors: "error_query",
                good: None,
                total: "total_query",
                what: "sli.events",
            };
            sli::ratio(cx, &ef, &keys, &[])
        }
        (None, Some(raw)) => sli::raw(cx, raw, "error_ratio_query", RAW_FIELDS, "sli.raw"),
        (Some(_), Some(_)) => {
            let span = f.key("raw").map(|k| k.span).unwrap_or(f.span);
            cx.report(
                span,
                Code::SliKind,
                "`sli` declares both `events` and `raw`",
                "keep one",
            );
            None
        }
        (None, None) => {
            cx.report(
                f.span,
                Code::SliKind,
                "`sli` declares no SLI kind",
                "use `events` or `raw`",
            );
            None
        }
    }
}
