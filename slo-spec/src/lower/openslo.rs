//! Import of OpenSLO v1 `kind: SLO` documents with an inline ratio indicator on a
//! Prometheus metric source, into the same model. Several SLO documents of one service in
//! one file become one service. What has no equivalent here is refused with a position
//! (E021), never silently dropped.

use super::alerting::AlertingSpec;
use super::common::{self, Scale, SloParts};
use super::reader::{self, fields, Cx, Fields};
use crate::decimal::Decimal;
use crate::diagnostic::{Code, Span};
use crate::model::*;
use crate::promql;
use crate::yaml::{Node, Value};

const TOP_FIELDS: &[&str] = &["apiVersion", "kind", "metadata", "spec"];
const METADATA_FIELDS: &[&str] = &["name", "displayName", "labels", "annotations"];
const SPEC_FIELDS: &[&str] = &[
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
    let name = meta
        .as_ref()
        .and_then(|m| common::required_slug(cx, m, "name", "metadata", "SLO name"));
    let mut labels = meta
        .as_ref()
        .and_then(|m| m.get("labels"))
        .map(|n| common::label_map(cx, n, "metadata.labels", true, &["owner"]))
        .unwrap_or_default();
    let owner = labels.remove("owner");
    let spec = top
        .require(cx, "spec", "the OpenSLO document")
        .and_then(|n| fields(cx, n, "spec", SPEC_FIELDS))?;
    common::declare(cx, &spec, "service");
    let service = common::required_slug(cx, &spec, "service", "spec", "service");
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
    let parts = SloParts {
        name,
        description,
        period: period(cx, &spec),
        objective: objective(cx, &spec),
        labels: Labels::new(),
        group_by: Some(Vec::new()),
        sli: spec
            .require(cx, "indicator", "spec")
            .and_then(|n| indicator(cx, n)),
        sla: Some(None),
        alerting: Some(AlertingSpec::default()),
    };
    let service_name = service.as_ref().map(|(n, _)| n.as_str()).unwrap_or("");
    let slo = common::finish_slo(cx, parts, &AlertingSpec::default(), service_name)?;
    common::finish_service(cx, Format::OpenSloV1, service, owner, labels, vec![slo])
}

fn period(cx: &mut Cx, spec: &Fields) -> Option<Window> {
    let Some(node) = spec.get("timeWindow") else {
        return Some(common::default_period());
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
    let n = f.require(cx, "duration", "spec.timeWindow")?;
    if f.key("calendar").is_some()
        || f.get("isRolling")
            .is_some_and(|n| n.value == Value::Bool(false))
    {
        return calendar_period(cx, &f, n);
    }
    common::period(cx, n, "spec.timeWindow.duration")
}

/// A calendar-aligned window: `1w`, `1M` or `1Q` (`3M`) in UTC, as our calendar periods.
fn calendar_period(cx: &mut Cx, f: &Fields, duration: &crate::yaml::Node) -> Option<Window> {
    let text = reader::string(cx, duration, "spec.timeWindow.duration")?;
    let calendar = match text.as_str() {
        "1w" | "7d" => Calendar::Week,
        "1M" => Calendar::Month,
        "1Q" | "3M" => Calendar::Quarter,
        _ => {
            unsupported(
                cx,
                duration.span,
                &format!("a calendar window of `{text}`"),
                "calendar windows are `1w`, `1M` or `1Q` (a week, month or quarter in UTC)",
            );
            return None;
        }
    };
    if let Some(c) = f.get("calendar") {
        let cal = fields(
            cx,
            c,
            "spec.timeWindow.calendar",
            &["startTime", "timeZone"],
        )?;
        if let Some(tz) = cal.get("timeZone") {
            let zone = reader::string(cx, tz, "spec.timeWindow.calendar.timeZone")?;
            if !["UTC", "Etc/UTC", "GMT"].contains(&zone.as_str()) {
                unsupported(
                    cx,
                    tz.span,
                    &format!("a calendar in time zone `{zone}`"),
                    "calendar periods are in UTC, as Prometheus's time functions are: use `timeZone: UTC`",
                );
                return None;
            }
        }
    }
    Some(Window {
        duration: calendar.nominal(),
        text: calendar.as_str().to_string(),
    })
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
    let (percent_text, span, scale) = if let Some(n) = f.get("targetPercent") {
        (
            reader::number(cx, n, "targetPercent")?.1,
            n.span,
            Scale::Percent,
        )
    } else {
        let n = f.require(cx, "target", "the objective")?;
        let (_, text) = reader::number(cx, n, "target")?;
        let percent = Decimal::parse(&text).and_then(|d| d.checked_mul(Decimal::from_int(100)));
        let text = percent.map(|d| d.to_string()).unwrap_or(text);
        (text, n.span, Scale::Ratio)
    };
    let percent = percent_text.parse::<f64>().unwrap_or(f64::NAN);
    let help = "OpenSLO `target` is a ratio (0.999); `targetPercent` a percentage (99.9)";
    common::percent_objective(cx, percent, percent_text, span, scale, help)
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
        // Bounded like every query before the parser sees it.
        let plain = promql::is_plain_selector(cx, qnode, text.trim(), &label)?;
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
