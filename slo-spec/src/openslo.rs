//! Import of OpenSLO v1 `kind: SLO` documents with an inline ratio indicator on a
//! Prometheus metric source, into the same model. Several SLO documents of one service in
//! one file become one service. What has no equivalent here is refused with a position
//! (E021), never silently dropped.

use crate::decimal::Decimal;
use crate::diagnostic::{Code, Span};
use crate::model::*;
use crate::names;
use crate::promql;
use crate::reader::{self, fields, Cx, Fields};
use crate::v1::{self, AlertingSpec};
use crate::yaml::{Node, Value};

pub const TOP_FIELDS: &[&str] = &["apiVersion", "kind", "metadata", "spec"];
pub const METADATA_FIELDS: &[&str] = &["name", "displayName", "labels", "annotations"];
pub const SPEC_FIELDS: &[&str] = &[
    "description",
    "service",
    "indicator",
    "indicatorRef",
    "timeWindow",
    "budgetingMethod",
    "objectives",
    "alertPolicies",
];
const INDICATOR_FIELDS: &[&str] = &["metadata", "spec"];
const INDICATOR_SPEC_FIELDS: &[&str] = &["ratioMetric", "thresholdMetric"];
const RATIO_FIELDS: &[&str] = &["counter", "good", "bad", "total", "rawType", "raw"];
const METRIC_FIELDS: &[&str] = &["metricSource"];
const SOURCE_FIELDS: &[&str] = &["type", "metricSourceRef", "spec"];
const WINDOW_FIELDS: &[&str] = &["duration", "isRolling", "calendar"];
const OBJECTIVE_FIELDS: &[&str] = &[
    "displayName",
    "op",
    "value",
    "target",
    "targetPercent",
    "timeSliceTarget",
    "timeSliceWindow",
    "indicator",
    "indicatorRef",
    "compositeWeight",
];

fn unsupported(cx: &mut Cx, span: Span, what: &str, help: &str) {
    cx.report(
        span,
        Code::Unsupported,
        format!("{what} is not supported"),
        help,
    );
}

pub(crate) fn lower(cx: &mut Cx, root: &Node) -> Option<Service> {
    let top = fields(cx, root, "the OpenSLO document", TOP_FIELDS)?;
    let kind_node = top.require(cx, "kind", "the OpenSLO document")?;
    let kind = reader::string(cx, kind_node, "kind")?;
    if kind != "SLO" {
        unsupported(
            cx,
            kind_node.span,
            &format!("OpenSLO kind `{kind}`"),
            "import `kind: SLO` documents with an inline `indicator`",
        );
        return None;
    }
    let meta = top
        .require(cx, "metadata", "the OpenSLO document")
        .and_then(|n| fields(cx, n, "metadata", METADATA_FIELDS));
    let name_node = meta
        .as_ref()
        .and_then(|m| m.require(cx, "name", "metadata"));
    let name = name_node.and_then(|n| reader::string(cx, n, "metadata.name"));
    let name_ok = match (&name, name_node) {
        (Some(n), Some(node)) => names::slug(cx, n, node.span, "SLO name"),
        _ => false,
    };
    let mut labels = meta
        .as_ref()
        .and_then(|m| m.get("labels"))
        .map(|n| {
            let entries = reader::string_map(cx, n, "metadata.labels", true);
            names::labels(cx, entries, "metadata.labels", &["owner"])
        })
        .unwrap_or_default();
    let owner = labels.remove("owner");
    let spec = top
        .require(cx, "spec", "the OpenSLO document")
        .and_then(|n| fields(cx, n, "spec", SPEC_FIELDS))?;
    let service_node = spec.require(cx, "service", "spec");
    let service = service_node.and_then(|n| reader::string(cx, n, "spec.service"));
    if let (Some(s), Some(n)) = (&service, service_node) {
        names::slug(cx, s, n.span, "service");
    }
    let description = match spec.get("description") {
        Some(n) => reader::string(cx, n, "spec.description"),
        None => Some(String::new()),
    };
    if let Some(k) = spec.key("indicatorRef") {
        unsupported(
            cx,
            k.span,
            "`indicatorRef`",
            "inline the SLI as `spec.indicator`",
        );
    }
    if let Some(k) = spec.key("alertPolicies") {
        unsupported(
            cx,
            k.span,
            "OpenSLO `alertPolicies`",
            "remove them: alerts follow the multi-window burn-rate policy of this toolkit",
        );
    }
    if let Some(n) = spec.get("budgetingMethod") {
        if reader::string(cx, n, "spec.budgetingMethod").is_some_and(|m| m != "Occurrences") {
            unsupported(
                cx,
                n.span,
                "a budgeting method other than `Occurrences`",
                "use `budgetingMethod: Occurrences`",
            );
        }
    }
    let period = period(cx, &spec);
    let objective = objective(cx, &spec);
    let sli = spec
        .require(cx, "indicator", "spec")
        .and_then(|n| indicator(cx, n));
    let (service, name) = (service?, name.filter(|_| name_ok)?);
    let alerting = v1::merge_alerting(
        &AlertingSpec::default(),
        &AlertingSpec::default(),
        &service,
        &name,
    );
    let slo = Slo {
        span: name_node.map(|n| n.span).unwrap_or(Span::START),
        name,
        description: description?,
        objective: objective?,
        period: period?,
        labels: Labels::new(),
        sli: sli?,
        alerting,
    };
    Some(Service {
        file: cx.file.to_string(),
        format: Format::OpenSloV1,
        name: service,
        span: service_node.map(|n| n.span).unwrap_or(Span::START),
        owner,
        labels,
        slos: vec![slo],
    })
}

fn period(cx: &mut Cx, spec: &Fields) -> Option<Period> {
    let Some(node) = spec.get("timeWindow") else {
        return Some(v1::default_period());
    };
    let items = reader::list(cx, node, "spec.timeWindow")?;
    let [item] = items else {
        cx.report(
            node.span,
            Code::WrongType,
            "`spec.timeWindow` must hold exactly one window",
            "",
        );
        return None;
    };
    let f = fields(cx, item, "spec.timeWindow", WINDOW_FIELDS)?;
    if f.key("calendar").is_some()
        || f.get("isRolling")
            .is_some_and(|n| n.value == Value::Bool(false))
    {
        unsupported(
            cx,
            item.span,
            "a calendar time window",
            "use a rolling window: `{duration: 28d, isRolling: true}`",
        );
        return None;
    }
    let n = f.require(cx, "duration", "spec.timeWindow")?;
    let text = reader::string(cx, n, "spec.timeWindow.duration")?;
    let duration = names::duration(
        cx,
        &text,
        n.span,
        "duration",
        v1::MIN_PERIOD,
        v1::MAX_PERIOD,
    )?;
    Some(Period { duration, text })
}

fn objective(cx: &mut Cx, spec: &Fields) -> Option<Objective> {
    let node = spec.require(cx, "objectives", "spec")?;
    let items = reader::list(cx, node, "spec.objectives")?;
    let [item] = items else {
        unsupported(
            cx,
            node.span,
            "more or fewer than one objective",
            "give exactly one objective per SLO document",
        );
        return None;
    };
    let f = fields(cx, item, "an objective", OBJECTIVE_FIELDS)?;
    let (percent_text, span) = if let Some(n) = f.get("targetPercent") {
        (reader::number(cx, n, "targetPercent")?.1, n.span)
    } else {
        let n = f.require(cx, "target", "the objective")?;
        let (_, text) = reader::number(cx, n, "target")?;
        let percent = Decimal::parse(&text).and_then(|d| d.checked_mul(Decimal::from_int(100)));
        (percent.map(|d| d.to_string()).unwrap_or(text), n.span)
    };
    let percent = percent_text.parse::<f64>().unwrap_or(f64::NAN);
    if !(percent > 0.0 && percent < 100.0) {
        cx.report(
            span,
            Code::ObjectiveOutOfRange,
            format!("objective must be between 0% and 100% (exclusive), got {percent_text}%"),
            "OpenSLO `target` is a ratio (0.999); `targetPercent` a percentage (99.9)",
        );
        return None;
    }
    Some(Objective {
        percent,
        text: percent_text,
        span,
    })
}

fn indicator(cx: &mut Cx, node: &Node) -> Option<Sli> {
    let f = fields(cx, node, "spec.indicator", INDICATOR_FIELDS)?;
    let spec = f
        .require(cx, "spec", "spec.indicator")
        .and_then(|n| fields(cx, n, "spec.indicator.spec", INDICATOR_SPEC_FIELDS))?;
    if let Some(k) = spec.key("thresholdMetric") {
        unsupported(
            cx,
            k.span,
            "`thresholdMetric`",
            "express it as a `ratioMetric`, or write a v1 spec with a latency SLI",
        );
        return None;
    }
    let ratio = spec
        .require(cx, "ratioMetric", "spec.indicator.spec")
        .and_then(|n| fields(cx, n, "ratioMetric", RATIO_FIELDS))?;
    if let Some(k) = ratio.key("raw") {
        unsupported(
            cx,
            k.span,
            "a raw ratio metric",
            "give `good` or `bad` and `total`",
        );
        return None;
    }
    let counter = match ratio.get("counter") {
        Some(n) => reader::boolean(cx, n, "ratioMetric.counter")?,
        None => true,
    };
    let (num_key, is_errors) = match (ratio.get("good"), ratio.get("bad")) {
        (Some(_), None) => ("good", false),
        (None, Some(_)) => ("bad", true),
        _ => {
            cx.report(
                ratio.span,
                Code::SliKind,
                "`ratioMetric` needs exactly one of `good` and `bad`",
                "",
            );
            return None;
        }
    };
    let num = query(
        cx,
        ratio.get(num_key)?,
        &format!("ratioMetric.{num_key}"),
        counter,
    );
    let total = ratio
        .require(cx, "total", "ratioMetric")
        .and_then(|n| query(cx, n, "ratioMetric.total", counter));
    let (num, total) = (num?, total?);
    let numerator = if is_errors {
        Numerator::Errors(num)
    } else {
        Numerator::Good(num)
    };
    Some(Sli::Ratio(RatioSli { numerator, total }))
}

/// A Prometheus metric source's query, as a window query: kept when it already has the
/// `{{window}}` placeholder; a plain counter selector becomes `sum(rate(<selector>[{{window}}]))`.
fn query(cx: &mut Cx, node: &Node, what: &str, counter: bool) -> Option<WindowQuery> {
    let f = fields(cx, node, what, METRIC_FIELDS)?;
    let source = f
        .require(cx, "metricSource", what)
        .and_then(|n| fields(cx, n, "metricSource", SOURCE_FIELDS))?;
    let kind = source
        .require(cx, "type", "metricSource")
        .and_then(|n| reader::string(cx, n, "metricSource.type"))?;
    if kind != "Prometheus" {
        let span = source.get("type").map(|n| n.span).unwrap_or(source.span);
        unsupported(
            cx,
            span,
            &format!("metric source type `{kind}`"),
            "use a `Prometheus` metric source",
        );
        return None;
    }
    let spec = source.require(cx, "spec", "metricSource")?;
    let Value::Map(entries) = &spec.value else {
        cx.wrong_type(spec, "metricSource.spec", "a mapping", "");
        return None;
    };
    let Some((_, qnode)) = entries.iter().find(|(k, _)| k.name == "query") else {
        cx.report(
            spec.span,
            Code::MissingField,
            "missing required field `query` in metricSource.spec",
            "",
        );
        return None;
    };
    let text = reader::string(cx, qnode, &format!("{what}.query"))?;
    let label = format!("{what}.query");
    let template = if text.contains("{{") {
        text
    } else {
        let plain = promql_parser::parser::parse(text.trim())
            .is_ok_and(|e| matches!(e, promql_parser::parser::Expr::VectorSelector(_)));
        if !(plain && counter) {
            cx.report(
                qnode.span,
                Code::MissingWindow,
                format!("`{label}` has no `{{{{window}}}}` placeholder and is not a plain counter selector"),
                "give a counter selector such as `http_requests_total{code=~\"5..\"}`, or a query using `[{{window}}]`",
            );
            return None;
        }
        format!("sum(rate({}[{{{{window}}}}]))", text.trim())
    };
    // The same checks as every window query, pointing at the original scalar.
    let checked = promql::window_query(cx, qnode, &template, &label);
    checked.map(|c| c.query)
}
