//! Import of Pyrra's `pyrra.dev/v1alpha1` `ServiceLevelObjective`: one SLO per document,
//! the Kubernetes namespace as the service (`default` without one, as Kubernetes reads
//! it). `ratio`, `latency` and `bool_gauge` indicators map onto ratio and latency SLIs,
//! `grouping` onto grouped SLOs; what has no equivalent is refused at its position.

use super::alerting::AlertingSpec;
use super::build::{self, SloParts};
use super::common::{self, Scale};
use super::promql;
use super::reader::{self, fields, Cx, Fields};
use super::sli;
use crate::diagnostic::{Code, Span};
use crate::model::*;
use crate::names;
use crate::yaml::{Key, Node, Value};

const TOP_FIELDS: &[&str] = &["apiVersion", "kind", "metadata", "spec", "status"];
const SPEC_FIELDS: &[&str] = &[
    "description",
    "target",
    "window",
    "indicator",
    "alerting",
    "partial_response_strategy",
    "performanceOverAccuracy",
    "ruleOutput",
];
const INDICATOR_FIELDS: &[&str] = &["ratio", "latency", "latencyNative", "bool_gauge"];
const RATIO_FIELDS: &[&str] = &["errors", "total", "grouping"];
const LATENCY_FIELDS: &[&str] = &["success", "total", "grouping"];
const BOOL_GAUGE_FIELDS: &[&str] = &["metric", "grouping"];
const QUERY_FIELDS: &[&str] = &["metric"];
const ALERTING_FIELDS: &[&str] = &[
    "disabled",
    "burnrates",
    "absent",
    "name",
    "absentName",
    "severities",
];
const SEVERITY_FIELDS: &[&str] = &[
    "absent",
    "fastBurn",
    "mediumBurn",
    "slowBurn",
    "longTermBurn",
];
/// Labels and annotations under this prefix are Pyrra's own: it copies them onto the
/// generated rules and alerts. Other metadata labels select the Kubernetes object.
const PREFIX: &str = "pyrra.dev/";

pub(crate) fn lower(cx: &mut Cx, root: &Node) -> Option<Service> {
    let top = fields(cx, root, "the ServiceLevelObjective", TOP_FIELDS)?;
    let meta_node = top.require(cx, "metadata", "the ServiceLevelObjective")?;
    let Value::Map(meta) = &meta_node.value else {
        cx.wrong_type(meta_node, "metadata", "a mapping", "");
        return None;
    };
    // Kubernetes metadata: what the API server adds (uid, resourceVersion, ...) is not
    // the SLO's and is passed over, so its keys are not checked.
    let meta = Fields {
        span: meta_node.span,
        entries: meta,
    };
    let name = common::required_slug(cx, &meta, "name", "metadata", "SLO name");
    let service = match meta.get("namespace") {
        Some(n) => common::slug(cx, n, "namespace (the service)"),
        None => Some(("default".to_string(), meta_node.span)),
    };
    if let Some((s, _)) = &service {
        cx.declared.insert(s.clone());
    }
    let labels = meta
        .get("labels")
        .map(|n| prefixed(cx, n, "metadata.labels"))
        .unwrap_or_default();
    let labels = common::labels(cx, labels, "metadata.labels", &[]);
    let annotations = meta
        .get("annotations")
        .map(|n| prefixed(cx, n, "metadata.annotations"))
        .unwrap_or_default();
    let spec = top
        .require(cx, "spec", "the ServiceLevelObjective")
        .and_then(|n| fields(cx, n, "spec", SPEC_FIELDS))?;
    for key in ["partial_response_strategy", "ruleOutput"] {
        if let Some(k) = spec.key(key) {
            common::unsupported(
                cx,
                k.span,
                &format!("`{key}`"),
                "remove it: it configures how Pyrra writes its own rules",
            );
        }
    }
    let indicator = spec
        .require(cx, "indicator", "spec")
        .and_then(|n| indicator(cx, n));
    let (sli, group_by) = indicator.unzip();
    let mut alerting = match spec.get("alerting") {
        Some(n) => alerting(cx, n),
        None => Some(AlertingSpec::default()),
    };
    if let Some(a) = &mut alerting {
        for (key, value, _) in annotations {
            a.annotations.insert(key.name, value);
        }
    }
    let parts = SloParts {
        name,
        description: common::optional_description(cx, &spec, "spec.description"),
        objective: spec
            .require(cx, "target", "spec")
            .and_then(|n| target(cx, n)),
        period: spec
            .require(cx, "window", "spec")
            .and_then(|n| common::period(cx, n, "spec.window")),
        // Pyrra has no scrape interval: Prometheus's default.
        scrape_interval: Some(common::default_scrape_interval()),
        labels,
        group_by,
        sli,
        sla: Some(None),
        exclusions: Some(Vec::new()),
        deploy_gate: Some(None),
        expected_rate: None,
        alerting,
    };
    let service_name = service.as_ref().map(|(n, _)| n.clone()).unwrap_or_default();
    let slo = build::finish_slo(cx, parts, &AlertingSpec::default(), &service_name)?;
    build::finish_service(cx, Format::Pyrra, service, None, Labels::new(), vec![slo])
}

/// `pyrra.dev/<name>` entries of a metadata map, with the prefix taken off.
fn prefixed(cx: &mut Cx, node: &Node, what: &str) -> Vec<(Key, String, Span)> {
    reader::string_map(cx, node, what, true)
        .into_iter()
        .filter_map(|(key, value, span)| {
            let name = key.name.strip_prefix(PREFIX)?.to_string();
            Some((Key { name, ..key }, value, span))
        })
        .collect()
}

/// Pyrra's target: a percentage, usually written as a string (`'99.5'`).
fn target(cx: &mut Cx, node: &Node) -> Option<Objective> {
    let text = match &node.value {
        Value::Str(s) if s.trim().parse::<f64>().is_ok() => s.trim().to_string(),
        Value::Int(_) | Value::Float(_) => cx.text(node.span).to_string(),
        _ => {
            cx.wrong_type(node, "spec.target", "a percentage such as '99.5'", "");
            return None;
        }
    };
    let percent = text.parse::<f64>().unwrap_or(f64::NAN);
    let help = "Pyrra's target is a percentage: write '99.9' for 99.9%";
    common::percent_objective(cx, percent, text, node.span, Scale::Percent, help)
}

fn indicator(cx: &mut Cx, node: &Node) -> Option<(Sli, Vec<String>)> {
    let f = fields(cx, node, "spec.indicator", INDICATOR_FIELDS)?;
    let present: Vec<&Key> = INDICATOR_FIELDS.iter().filter_map(|k| f.key(k)).collect();
    match present.as_slice() {
        [] => {
            cx.report(
                f.span,
                Code::SliKind,
                "`spec.indicator` declares no indicator",
                "use one of: ratio, latency, bool_gauge",
            );
            None
        }
        [key] => {
            let value = f.get(&key.name)?;
            match key.name.as_str() {
                "ratio" => ratio(cx, value),
                "latency" => latency(cx, value),
                "bool_gauge" => bool_gauge(cx, value),
                _ => {
                    common::unsupported(
                        cx,
                        key.span,
                        "`latencyNative` (a native histogram)",
                        "this toolkit reads classic histograms: use `latency` with the `_bucket{le=\"...\"}` and `_count` series",
                    );
                    None
                }
            }
        }
        [first, rest @ ..] => {
            for key in rest {
                cx.report(
                    key.span,
                    Code::SliKind,
                    format!(
                        "`spec.indicator` declares both `{}` and `{}`",
                        first.name, key.name
                    ),
                    "an SLO has exactly one indicator; split it into two SLOs",
                );
            }
            None
        }
    }
}

/// `grouping`: the SLO's group labels (an empty list is none).
fn grouping(cx: &mut Cx, f: &Fields) -> Option<Vec<String>> {
    match f.get("grouping") {
        Some(Node {
            value: Value::Seq(items),
            ..
        }) if items.is_empty() => Some(Vec::new()),
        Some(Node {
            value: Value::Null, ..
        }) => Some(Vec::new()),
        other => common::group_by(cx, other),
    }
}

/// A `{metric: <selector>}` mapping at `key`: the selector, checked to be one.
fn query_field(cx: &mut Cx, f: &Fields, key: &str, what: &str) -> Option<String> {
    let node = f.require(cx, key, what)?;
    let q = fields(cx, node, &format!("{what}.{key}"), QUERY_FIELDS)?;
    selector(cx, &q, &format!("{what}.{key}"))
}

/// The `metric` field of `f`: a plain selector (Pyrra adds the rate and the sum).
fn selector(cx: &mut Cx, f: &Fields, what: &str) -> Option<String> {
    let metric = f.require(cx, "metric", what)?;
    let label = format!("{what}.metric");
    let text = reader::string(cx, metric, &label)?.trim().to_string();
    if !promql::is_plain_selector(cx, metric, &text, &label)? {
        cx.report(
            metric.span,
            Code::InvalidPromql,
            format!("`{label}` is not a metric selector"),
            "Pyrra reads a selector such as `http_requests_total{job=\"api\",code=~\"5..\"}`; the rate and the sum are added to it",
        );
        return None;
    }
    Some(text)
}

/// A ratio SLI of two selectors read with `function` over the window, summed `by` the
/// groups: `sum by (<groups>) (<function>(<selector>[{{window}}]))`.
fn ratio_of(
    cx: &mut Cx,
    node: &Node,
    function: [&str; 2],
    num: (&str, &str, bool),
    total: (&str, &str),
    group_by: Vec<String>,
) -> Option<(Sli, Vec<String>)> {
    let by = if group_by.is_empty() {
        String::new()
    } else {
        format!(" by ({})", group_by.join(", "))
    };
    let mut query = |function: &str, selector: &str, label: &str| {
        let text = format!("sum{by}({function}({selector}[{{{{window}}}}]))");
        promql::window_query(cx, node, &text, label)
    };
    let (num_label, num_sel, is_errors) = num;
    let n = query(function[0], num_sel, num_label);
    let t = query(function[1], total.1, total.0);
    Some((sli::ratio_sli(n?, is_errors, t?), group_by))
}

fn ratio(cx: &mut Cx, node: &Node) -> Option<(Sli, Vec<String>)> {
    let what = "spec.indicator.ratio";
    let f = fields(cx, node, what, RATIO_FIELDS)?;
    let group_by = grouping(cx, &f);
    let errors = query_field(cx, &f, "errors", what);
    let total = query_field(cx, &f, "total", what);
    let (group_by, errors, total) = (group_by?, errors?, total?);
    let labels = (format!("{what}.errors"), format!("{what}.total"));
    ratio_of(
        cx,
        node,
        ["rate", "rate"],
        (&labels.0, &errors, true),
        (&labels.1, &total),
        group_by,
    )
}

fn latency(cx: &mut Cx, node: &Node) -> Option<(Sli, Vec<String>)> {
    let what = "spec.indicator.latency";
    let f = fields(cx, node, what, LATENCY_FIELDS)?;
    let group_by = grouping(cx, &f);
    let success = query_field(cx, &f, "success", what);
    let total = query_field(cx, &f, "total", what);
    let (group_by, success, total) = (group_by?, success?, total?);
    if let Some(l) = sli::latency_from_selectors(&success, &total) {
        return Some((Sli::Latency(l), group_by));
    }
    // Not a bucket over its count (or a bound written unlike the rules print it):
    // the ratio of the two counters, exactly as written.
    let labels = (format!("{what}.success"), format!("{what}.total"));
    ratio_of(
        cx,
        node,
        ["rate", "rate"],
        (&labels.0, &success, false),
        (&labels.1, &total),
        group_by,
    )
}

/// A gauge of 0 and 1 (`probe_success`): the good samples over all samples, as Pyrra
/// counts them.
fn bool_gauge(cx: &mut Cx, node: &Node) -> Option<(Sli, Vec<String>)> {
    let what = "spec.indicator.bool_gauge";
    let f = fields(cx, node, what, BOOL_GAUGE_FIELDS)?;
    let group_by = grouping(cx, &f)?;
    let metric = selector(cx, &f, what)?;
    let label = format!("{what}.metric");
    let metric_node = f.get("metric")?;
    ratio_of(
        cx,
        metric_node,
        ["sum_over_time", "count_over_time"],
        (&label, &metric, false),
        (&label, &metric),
        group_by,
    )
}

fn alerting(cx: &mut Cx, node: &Node) -> Option<AlertingSpec> {
    let what = "spec.alerting";
    let f = fields(cx, node, what, ALERTING_FIELDS)?;
    let mut spec = AlertingSpec::default();
    let flag = |cx: &mut Cx, key: &str| {
        f.get(key)
            .and_then(|n| reader::boolean(cx, n, &format!("{what}.{key}")))
    };
    if flag(cx, "disabled") == Some(true) {
        spec.disabled = Some(true);
    }
    if flag(cx, "burnrates") == Some(false) {
        spec.page.disabled = Some(true);
        spec.ticket.disabled = Some(true);
    }
    if flag(cx, "absent") == Some(false) {
        spec.absent.disabled = Some(true);
    }
    if let Some(n) = f.get("name") {
        let name = reader::string(cx, n, &format!("{what}.name"))?;
        if !names::is_metric_name(&name) {
            cx.report(
                n.span,
                Code::InvalidName,
                format!("`{name}` is not a valid alert name"),
                "alert names match [a-zA-Z_:][a-zA-Z0-9_:]*",
            );
            return None;
        }
        spec.name = Some((name, n.span));
    }
    if let Some(k) = f.key("absentName") {
        return common::refused(
            cx,
            k.span,
            "a name of its own for the missing-data alert (`absentName`)",
            "remove it: the missing-data alert is named after `name` with `Absent` appended",
        );
    }
    if let Some(n) = f.get("severities") {
        let s = fields(cx, n, &format!("{what}.severities"), SEVERITY_FIELDS)?;
        let read = |cx: &mut Cx, key: &str| {
            s.get(key).and_then(|n| {
                reader::string(cx, n, &format!("{what}.severities.{key}")).map(|v| (v, n.span))
            })
        };
        let tiers = [("fastBurn", "mediumBurn"), ("slowBurn", "longTermBurn")];
        for (i, (a, b)) in tiers.into_iter().enumerate() {
            let (x, y) = (read(cx, a), read(cx, b));
            let value = match (x, y) {
                (Some((x, _)), Some((y, span))) if x != y => {
                    return common::refused(
                        cx,
                        span,
                        &format!("a `{b}` severity other than `{a}`'s"),
                        "here the two window pairs of a tier are one alert: give them one severity",
                    );
                }
                (Some((v, _)), _) | (None, Some((v, _))) => v,
                (None, None) => continue,
            };
            let tier = if i == 0 {
                &mut spec.page
            } else {
                &mut spec.ticket
            };
            tier.labels.insert("severity".into(), value);
        }
        if let Some((v, _)) = read(cx, "absent") {
            spec.absent.severity = Some(v);
        }
    }
    Some(spec)
}
