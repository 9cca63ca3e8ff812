//! Import of Sloth's specs, so teams can switch without rewriting them: the
//! `prometheus/v1` file and its Kubernetes CRD (`sloth.slok.dev/v1`
//! `PrometheusServiceLevel`), whose `spec` is the same body with camelCase names. Field
//! names follow Sloth; the result is the same model v1 produces.

use super::alerting::{self, AlertingSpec, Dialect};
use super::build::{self, SloParts};
use super::common;
use super::reader::{self, fields, Cx};
use super::sli::{self, Groups, RatioKeys};
use crate::diagnostic::Code;
use crate::model::*;
use crate::yaml::Node;

/// The field names of one of Sloth's two spellings.
struct Names {
    format: Format,
    top: &'static [&'static str],
    slo: &'static [&'static str],
    events: &'static [&'static str],
    raw: &'static [&'static str],
    slo_plugins: &'static str,
    error_query: &'static str,
    total_query: &'static str,
    error_ratio_query: &'static str,
    alerting: Dialect,
}

pub(crate) const SLI_FIELDS: &[&str] = &["events", "raw", "plugin"];
pub(crate) const TIER_FIELDS: &[&str] = &["labels", "annotations", "disable"];

/// Fields of an SLO, in both spellings.
const SLO_FIELDS: &[&str] = &[
    "name",
    "objective",
    "description",
    "labels",
    "sli",
    "alerting",
    "plugins",
];

const FILE: Names = Names {
    format: Format::SlothV1,
    top: &["version", "service", "labels", "slos", "slo_plugins"],
    slo: SLO_FIELDS,
    events: &["error_query", "total_query"],
    raw: &["error_ratio_query"],
    slo_plugins: "slo_plugins",
    error_query: "error_query",
    total_query: "total_query",
    error_ratio_query: "error_ratio_query",
    alerting: Dialect {
        fields: &[
            "name",
            "labels",
            "annotations",
            "page_alert",
            "ticket_alert",
            "disable",
        ],
        tiers: ["page_alert", "ticket_alert"],
        disabled: "disable",
        tier_fields: TIER_FIELDS,
        lenient: true,
    },
};

const CRD: Names = Names {
    format: Format::SlothK8s,
    top: &["service", "labels", "slos", "sloPlugins"],
    slo: SLO_FIELDS,
    events: &["errorQuery", "totalQuery"],
    raw: &["errorRatioQuery"],
    slo_plugins: "sloPlugins",
    error_query: "errorQuery",
    total_query: "totalQuery",
    error_ratio_query: "errorRatioQuery",
    alerting: Dialect {
        fields: &[
            "name",
            "labels",
            "annotations",
            "pageAlert",
            "ticketAlert",
            "disable",
        ],
        tiers: ["pageAlert", "ticketAlert"],
        disabled: "disable",
        tier_fields: TIER_FIELDS,
        lenient: true,
    },
};

/// The fields of the CRD around its `spec` (`status` is written by the controller).
const CRD_TOP_FIELDS: &[&str] = &["apiVersion", "kind", "metadata", "spec", "status"];

/// A `version: prometheus/v1` document.
pub(crate) fn lower(cx: &mut Cx, root: &Node) -> Option<Service> {
    body(cx, root, &FILE)
}

/// A `PrometheusServiceLevel` document: its `spec` is the body.
pub(crate) fn lower_crd(cx: &mut Cx, root: &Node) -> Option<Service> {
    let top = fields(cx, root, "the PrometheusServiceLevel", CRD_TOP_FIELDS)?;
    let spec = top.require(cx, "spec", "the PrometheusServiceLevel")?;
    body(cx, spec, &CRD)
}

fn plugins_unsupported(cx: &mut Cx, f: &reader::Fields, key: &str) {
    if let Some(k) = f.key(key) {
        cx.report(
            k.span,
            Code::Unsupported,
            format!("Sloth SLO plugins (`{key}`) are not supported"),
            "remove them and write what they changed into the spec itself (alert windows, labels, `min_events`): run `slo-gen convert --to v1` and edit the result",
        );
    }
}

fn body(cx: &mut Cx, root: &Node, names: &Names) -> Option<Service> {
    let top = fields(cx, root, "the Sloth spec", names.top)?;
    plugins_unsupported(cx, &top, names.slo_plugins);
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
                let Some(parts) = slo(cx, item, names) else {
                    continue;
                };
                let defaults = AlertingSpec::default();
                if let Some(slo) = build::finish_slo(cx, parts, &defaults, service_name) {
                    build::add_slo(cx, &mut slos, slo);
                }
            }
        }
    }
    build::finish_service(cx, names.format, service, owner, labels, slos)
}

fn slo(cx: &mut Cx, node: &Node, names: &Names) -> Option<SloParts> {
    let f = fields(cx, node, "a Sloth SLO", names.slo)?;
    plugins_unsupported(cx, &f, "plugins");
    let sli = f
        .require(cx, "sli", "the SLO")
        .and_then(|n| sli(cx, n, names));
    let (sli, group_by) = sli.unzip();
    Some(SloParts {
        name: common::required_slug(cx, &f, "name", "the SLO", "SLO name"),
        objective: common::required_objective(cx, &f),
        description: common::optional_description(cx, &f, "description"),
        labels: f
            .get("labels")
            .map(|n| common::label_map(cx, n, "labels", true, &[]))
            .unwrap_or_default(),
        group_by,
        sli,
        sla: Some(None),
        exclusions: Some(Vec::new()),
        deploy_gate: Some(None),
        expected_rate: None,
        alerting: match f.get("alerting") {
            Some(n) => alerting::read(cx, n, "alerting", &names.alerting),
            None => Some(AlertingSpec::default()),
        },
        // Sloth SLOs are 30-day SLOs.
        period: Some(common::default_period()),
        // Sloth has no scrape interval: Prometheus's default.
        scrape_interval: Some(common::default_scrape_interval()),
    })
}

/// The SLI and the labels its queries group by: Sloth evaluates its queries per series,
/// so `sum by (route) (...)` is an SLO per route here too.
fn sli(cx: &mut Cx, node: &Node, names: &Names) -> Option<(Sli, Vec<String>)> {
    let f = fields(cx, node, "sli", SLI_FIELDS)?;
    if let Some(key) = f.key("plugin") {
        cx.report(
            key.span,
            Code::Unsupported,
            "Sloth SLI plugins are not supported",
            format!(
                "write the query the plugin builds as `raw.{}` (an error ratio over `{{{{.window}}}}`), or as `events`",
                names.error_ratio_query
            ),
        );
        return None;
    }
    match (f.get("events"), f.get("raw")) {
        (Some(events), None) => {
            let ef = fields(cx, events, "sli.events", names.events)?;
            let keys = RatioKeys {
                errors: names.error_query,
                good: None,
                total: names.total_query,
                what: "sli.events",
            };
            sli::ratio(cx, &ef, &keys, Groups::Inferred)
        }
        (None, Some(raw)) => sli::raw(
            cx,
            raw,
            names.error_ratio_query,
            names.raw,
            "sli.raw",
            Groups::Inferred,
        ),
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
