//! Import of Sloth `prometheus/v1` documents, so teams can switch without rewriting specs.
//! Field names follow Sloth; the result is the same model v1 produces.

use crate::diagnostic::{Code, Span};
use crate::model::*;
use crate::names;
use crate::reader::{self, fields, Cx};
use crate::v1::{self, AlertingDialect, AlertingSpec};
use crate::yaml::Node;

pub const TOP_FIELDS: &[&str] = &["version", "service", "labels", "slos"];
pub const SLO_FIELDS: &[&str] = &[
    "name",
    "objective",
    "description",
    "labels",
    "sli",
    "alerting",
];
pub const SLI_FIELDS: &[&str] = &["events", "raw", "plugin"];
pub const EVENTS_FIELDS: &[&str] = &["error_query", "total_query"];
pub const RAW_FIELDS: &[&str] = &["error_ratio_query"];
pub const ALERTING_FIELDS: &[&str] = &[
    "name",
    "labels",
    "annotations",
    "page_alert",
    "ticket_alert",
    "disable",
];
pub const TIER_FIELDS: &[&str] = &["labels", "annotations", "disable"];

const DIALECT: AlertingDialect = AlertingDialect {
    fields: ALERTING_FIELDS,
    page: "page_alert",
    ticket: "ticket_alert",
    disabled: "disable",
    tier_fields: TIER_FIELDS,
    lenient: true,
};

pub(crate) fn lower(cx: &mut Cx, root: &Node) -> Option<Service> {
    let top = fields(cx, root, "the Sloth spec", TOP_FIELDS)?;
    let service_node = top.require(cx, "service", "the Sloth spec");
    let service = service_node.and_then(|n| reader::string(cx, n, "service"));
    if let (Some(name), Some(node)) = (&service, service_node) {
        names::slug(cx, name, node.span, "service");
    }
    let mut labels = top
        .get("labels")
        .map(|n| {
            let entries = reader::string_map(cx, n, "labels", true);
            names::labels(cx, entries, "labels", &["owner"])
        })
        .unwrap_or_default();
    // Sloth has no owner field; its examples carry the team as an `owner` label.
    let owner = labels.remove("owner");
    let mut slos = Vec::new();
    if let Some(list) = top.require(cx, "slos", "the Sloth spec") {
        if let Some(items) = reader::list(cx, list, "slos") {
            for item in items {
                let Some(slo) = lower_slo(cx, item, service.as_deref().unwrap_or("")) else {
                    continue;
                };
                v1::add_slo(cx, &mut slos, slo);
            }
        }
    }
    Some(Service {
        file: cx.file.to_string(),
        format: Format::SlothV1,
        name: service?,
        span: service_node.map(|n| n.span).unwrap_or(Span::START),
        owner,
        labels,
        slos,
    })
}

fn lower_slo(cx: &mut Cx, node: &Node, service: &str) -> Option<Slo> {
    let f = fields(cx, node, "a Sloth SLO", SLO_FIELDS)?;
    let name_node = f.require(cx, "name", "the SLO");
    let name = name_node.and_then(|n| reader::string(cx, n, "name"));
    let name_ok = match (&name, name_node) {
        (Some(name), Some(n)) => names::slug(cx, name, n.span, "SLO name"),
        _ => false,
    };
    let objective = f
        .require(cx, "objective", "the SLO")
        .and_then(|n| v1::objective(cx, n));
    let description = match f.get("description") {
        Some(n) => reader::string(cx, n, "description"),
        None => Some(String::new()),
    };
    let labels = f
        .get("labels")
        .map(|n| {
            let entries = reader::string_map(cx, n, "labels", true);
            names::labels(cx, entries, "labels", &[])
        })
        .unwrap_or_default();
    let sli = f.require(cx, "sli", "the SLO").and_then(|n| sli(cx, n));
    let own = match f.get("alerting") {
        Some(n) => v1::alerting_in(cx, n, "alerting", &DIALECT),
        None => Some(AlertingSpec::default()),
    };
    let name = name.filter(|_| name_ok)?;
    let alerting = v1::merge_alerting(&AlertingSpec::default(), &own?, service, &name);
    Some(Slo {
        span: name_node.map(|n| n.span).unwrap_or(f.span),
        name,
        description: description?,
        objective: objective?,
        period: v1::default_period(),
        labels,
        sli: sli?,
        alerting,
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
            v1::ratio_from(cx, &ef, "error_query", None, "total_query", "sli.events")
        }
        (None, Some(raw)) => v1::raw(cx, raw, "error_ratio_query", RAW_FIELDS, "sli.raw"),
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
