//! Import of OpenSLO as tools write it: `openslo/v1` `SLO` documents (an inline indicator
//! or an `indicatorRef` to a `kind: SLI` document of any file given), their `Service` and
//! `DataSource` documents as context, and `openslo/v1alpha` `SLO` documents (the version
//! Sloth reads). Several SLO documents of one service become one service. Queries are
//! Prometheus queries. What has no equivalent here is refused with a position (E021),
//! never silently dropped.
//! Long: OpenSLO v1 and v1alpha with their context documents, self-contained so no other format sees them.

use super::alerting::AlertingSpec;
use super::build::{self, SloParts};
use super::common::{self, Scale};
use super::promql;
use super::reader::{self, fields, Cx, Fields};
use super::sli::{self, Groups};
use super::{Catalog, CatalogSli, ContextDoc};
use crate::decimal::Decimal;
use crate::diagnostic::{Code, Span};
use crate::model::*;
use crate::yaml::{Node, Value};
use std::collections::BTreeSet;

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
const SLI_SPEC_FIELDS: &[&str] = &["description", "ratioMetric", "thresholdMetric"];
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
const SERVICE_SPEC_FIELDS: &[&str] = &["description"];
const SOURCE_SPEC_FIELDS: &[&str] = &["description", "type", "connectionDetails"];
const ALPHA_SPEC_FIELDS: &[&str] = &[
    "description",
    "service",
    "indicator",
    "timeWindows",
    "budgetingMethod",
    "objectives",
];
const ALPHA_WINDOW_FIELDS: &[&str] = &["count", "unit", "isRolling", "calendar"];
const ALPHA_OBJECTIVE_FIELDS: &[&str] = &[
    "displayName",
    "op",
    "value",
    "target",
    "timeSliceTarget",
    "ratioMetrics",
];
const ALPHA_RATIO_FIELDS: &[&str] = &["good", "bad", "total", "incremental"];
const ALPHA_QUERY_FIELDS: &[&str] = &["source", "queryType", "query"];

fn version(alpha: bool) -> &'static str {
    if alpha {
        "v1alpha"
    } else {
        "v1"
    }
}

/// OpenSLO labels: a value is a string or, as OpenSLO v1 allows, a list of strings,
/// joined with `,` into one Prometheus label value.
fn labels(cx: &mut Cx, node: &Node, what: &str, allow: &[&str]) -> Labels {
    let Value::Map(entries) = &node.value else {
        cx.wrong_type(node, what, "a mapping of names to strings", "");
        return Labels::new();
    };
    let mut out = Vec::new();
    for (key, value) in entries {
        let label = format!("{what}.{}", key.name);
        let text = match &value.value {
            Value::Seq(items) => {
                let parts: Option<Vec<String>> = items
                    .iter()
                    .map(|i| reader::lenient_string(cx, i, &label))
                    .collect();
                parts.map(|p| p.join(","))
            }
            _ => reader::lenient_string(cx, value, &label),
        };
        if let Some(text) = text {
            out.push((key.clone(), text, value.span));
        }
    }
    common::labels(cx, out, what, allow)
}

/// `metadata` of any OpenSLO document: its name (a slug when `slug`) and labels.
fn metadata(
    cx: &mut Cx,
    top: &Fields,
    slug: Option<&str>,
) -> Option<(Option<(String, Span)>, Labels)> {
    let meta = top
        .require(cx, "metadata", "the OpenSLO document")
        .and_then(|n| fields(cx, n, "metadata", METADATA_FIELDS))?;
    let name = if let Some(what) = slug {
        common::required_slug(cx, &meta, "name", "metadata", what)
    } else {
        meta.require(cx, "name", "metadata")
            .and_then(|n| reader::string(cx, n, "metadata.name").map(|s| (s, n.span)))
    };
    let labels = meta
        .get("labels")
        .map(|n| labels(cx, n, "metadata.labels", &["owner"]))
        .unwrap_or_default();
    Some((name, labels))
}

/// A `Service` or `DataSource` document, into the catalog.
pub(crate) fn context_doc(
    cx: &mut Cx,
    root: &Node,
    alpha: bool,
    kind: &str,
    catalog: &mut Catalog,
) {
    let what = format!("OpenSLO {} {kind}", version(alpha));
    cx.doc = Some(what.clone());
    let Some(top) = fields(cx, root, "the OpenSLO document", TOP_FIELDS) else {
        return;
    };
    let Some((name, mut labels)) =
        metadata(cx, &top, (kind == "Service").then_some("service name"))
    else {
        return;
    };
    let known = if kind == "Service" {
        SERVICE_SPEC_FIELDS
    } else {
        SOURCE_SPEC_FIELDS
    };
    let source_kind = if kind == "DataSource" {
        // A DataSource is read for its `type`, which it must have.
        top.require(cx, "spec", "the OpenSLO document")
            .and_then(|n| fields(cx, n, "spec", known))
            .and_then(|spec| spec.require(cx, "type", "spec"))
            .and_then(|n| reader::string(cx, n, "spec.type"))
    } else {
        top.get("spec").and_then(|n| fields(cx, n, "spec", known));
        Some(String::new())
    };
    let (Some((name, span)), Some(source_kind)) = (name, source_kind) else {
        return;
    };
    let map = if kind == "Service" {
        &mut catalog.services
    } else {
        &mut catalog.sources
    };
    if let Some(first) = map.get(&name) {
        let help = format!(
            "first declared at {}:{}:{}; each is declared once",
            first.file, first.span.line, first.span.column
        );
        cx.report(
            span,
            Code::DuplicateService,
            format!("{kind} `{name}` is declared twice"),
            help,
        );
        return;
    }
    let owner = labels.remove("owner");
    map.insert(
        name,
        ContextDoc {
            file: cx.file.to_string(),
            span,
            what,
            owner,
            labels,
            kind: source_kind,
        },
    );
}

/// A `kind: SLI` document, lowered once into the catalog.
pub(crate) fn sli_doc(cx: &mut Cx, root: &Node, catalog: &mut Catalog) {
    cx.doc = Some("OpenSLO v1 SLI".into());
    let Some(top) = fields(cx, root, "the OpenSLO document", TOP_FIELDS) else {
        return;
    };
    let Some((Some((name, span)), _)) = metadata(cx, &top, None) else {
        return;
    };
    let mut used = BTreeSet::new();
    let sli = top
        .require(cx, "spec", "the OpenSLO document")
        .and_then(|n| sli_spec(cx, n, "spec", catalog, &mut used));
    catalog.used.extend(used);
    if catalog.slis.contains_key(&name) {
        cx.report(
            span,
            Code::DuplicateSlo,
            format!("SLI `{name}` is declared twice"),
            "give each SLI document its own `metadata.name`",
        );
        return;
    }
    catalog.slis.insert(name, CatalogSli { sli });
}

/// What every OpenSLO `SLO` document starts with.
struct Head<'n> {
    name: Option<(String, Span)>,
    labels: Labels,
    spec: Fields<'n>,
    service: Option<(String, Span)>,
    description: Option<String>,
}

fn head<'n>(cx: &mut Cx, root: &'n Node, spec_fields: &[&str]) -> Option<Head<'n>> {
    let top = fields(cx, root, "the OpenSLO document", TOP_FIELDS)?;
    let (name, labels) = metadata(cx, &top, Some("SLO name"))?;
    let spec = top
        .require(cx, "spec", "the OpenSLO document")
        .and_then(|n| fields(cx, n, "spec", spec_fields))?;
    common::declare(cx, &spec, "service");
    let service = common::required_slug(cx, &spec, "service", "spec", "service");
    let description = common::optional_description(cx, &spec, "spec.description");
    Some(Head {
        name,
        labels,
        spec,
        service,
        description,
    })
}

/// An OpenSLO `SLO` document, `openslo/v1` or `openslo/v1alpha` as `format` says.
pub(crate) fn lower(
    cx: &mut Cx,
    root: &Node,
    catalog: &Catalog,
    used: &mut BTreeSet<String>,
    format: Format,
) -> Option<Service> {
    if format == Format::OpenSloV1Alpha {
        let head = head(cx, root, ALPHA_SPEC_FIELDS)?;
        return lower_alpha(cx, head, catalog, used);
    }
    let Head {
        name,
        labels: slo_labels,
        spec,
        service,
        description,
    } = head(cx, root, SPEC_FIELDS)?;
    if let Some(k) = spec.key("alertPolicies") {
        common::unsupported(
            cx,
            k.span,
            "OpenSLO `alertPolicies`",
            "remove them: alerts follow the multi-window burn-rate policy of this toolkit",
        );
    }
    budgeting(cx, &spec);
    let sli = match (spec.get("indicator"), spec.get("indicatorRef")) {
        (Some(n), None) => indicator(cx, n, catalog, used),
        (None, Some(n)) => indicator_ref(cx, n, catalog),
        (Some(_), Some(_)) => {
            let span = spec
                .key("indicatorRef")
                .map(|k| k.span)
                .unwrap_or(spec.span);
            cx.report(
                span,
                Code::SliKind,
                "`spec` has both `indicator` and `indicatorRef`",
                "keep one",
            );
            None
        }
        (None, None) => {
            cx.report(
                spec.span,
                Code::MissingField,
                "missing required field `indicator` in spec",
                "add `indicator:` (an inline SLI) or `indicatorRef:` (the name of a `kind: SLI` document)",
            );
            None
        }
    };
    let (sli, group_by) = sli.unzip();
    let parts = SloParts {
        name,
        description,
        period: period(cx, &spec),
        // OpenSLO says nothing of scraping: Prometheus's default.
        scrape_interval: Some(common::default_scrape_interval()),
        objective: objective(cx, &spec),
        labels: Labels::new(),
        group_by,
        sli,
        sla: Some(None),
        exclusions: Some(Vec::new()),
        deploy_gate: Some(None),
        expected_rate: None,
        alerting: Some(AlertingSpec::default()),
    };
    finish(
        cx,
        parts,
        service,
        slo_labels,
        catalog,
        used,
        Format::OpenSloV1,
    )
}

/// The service of SLO documents: its `Service` document's owner and labels (when one is
/// given), under the SLO's own labels.
fn finish(
    cx: &mut Cx,
    parts: SloParts,
    service: Option<(String, Span)>,
    slo_labels: Labels,
    catalog: &Catalog,
    used: &mut BTreeSet<String>,
    format: Format,
) -> Option<Service> {
    let service_name = service.as_ref().map(|(n, _)| n.clone()).unwrap_or_default();
    let context = catalog.services.get(&service_name);
    if context.is_some() {
        used.insert(format!("Service/{service_name}"));
    }
    let mut labels = context.map(|c| c.labels.clone()).unwrap_or_default();
    let mut owner = context.and_then(|c| c.owner.clone());
    let mut slo_labels = slo_labels;
    if let Some(o) = slo_labels.remove("owner") {
        owner = Some(o);
    }
    labels.extend(slo_labels);
    let slo = build::finish_slo(cx, parts, &AlertingSpec::default(), &service_name)?;
    build::finish_service(cx, format, service, owner, labels, vec![slo])
}

fn budgeting(cx: &mut Cx, spec: &Fields) {
    if let Some(n) = spec.get("budgetingMethod") {
        if reader::string(cx, n, "spec.budgetingMethod").is_some_and(|m| m != "Occurrences") {
            common::unsupported(
                cx,
                n.span,
                "a budgeting method other than `Occurrences`",
                "use `budgetingMethod: Occurrences`: the budget counts events, as the rules do",
            );
        }
    }
}

fn indicator_ref(cx: &mut Cx, node: &Node, catalog: &Catalog) -> Option<(Sli, Vec<String>)> {
    let name = reader::string(cx, node, "spec.indicatorRef")?;
    match catalog.slis.get(&name) {
        Some(CatalogSli { sli: Some(sli) }) => Some(sli.clone()),
        Some(CatalogSli { sli: None }) => {
            cx.report(
                node.span,
                Code::SliKind,
                format!("SLI `{name}` has errors"),
                "fix the errors reported at its `kind: SLI` document",
            );
            None
        }
        None => {
            cx.report(
                node.span,
                Code::MissingField,
                format!("no `kind: SLI` document named `{name}` in the files given"),
                "validate the file that declares it together with this one (e.g. the whole directory), or inline the SLI as `spec.indicator`",
            );
            None
        }
    }
}

/// The one window of `spec.<key>` (a list in both versions), its fields checked; `None`
/// inside when there is none (the default period).
fn one_window<'n>(
    cx: &mut Cx,
    spec: &Fields<'n>,
    key: &str,
    known: &[&str],
) -> Option<Option<Fields<'n>>> {
    let Some(node) = spec.get(key) else {
        return Some(None);
    };
    let what = format!("spec.{key}");
    let items = reader::list(cx, node, &what)?;
    let [item] = items else {
        cx.report(
            node.span,
            Code::WrongType,
            format!("`{what}` must hold exactly one window"),
            "",
        );
        return None;
    };
    fields(cx, item, &what, known).map(Some)
}

fn period(cx: &mut Cx, spec: &Fields) -> Option<Window> {
    let Some(f) = one_window(cx, spec, "timeWindow", WINDOW_FIELDS)? else {
        return Some(common::default_period());
    };
    let n = f.require(cx, "duration", "spec.timeWindow")?;
    if f.key("calendar").is_some()
        || f.get("isRolling")
            .is_some_and(|n| n.value == Value::Bool(false))
    {
        let text = reader::string(cx, n, "spec.timeWindow.duration")?;
        return calendar_period(cx, &f, n, &text);
    }
    common::period(cx, n, "spec.timeWindow.duration")
}

/// A calendar-aligned window: `1w`, `1M` or `1Q` (`3M`) in UTC, as our calendar periods.
fn calendar_period(cx: &mut Cx, f: &Fields, duration: &Node, text: &str) -> Option<Window> {
    let calendar = match text {
        "1w" | "7d" | "1Week" => Calendar::Week,
        "1M" | "1Month" => Calendar::Month,
        "1Q" | "3M" | "1Quarter" => Calendar::Quarter,
        _ => {
            return common::refused(
                cx,
                duration.span,
                &format!("a calendar window of `{text}`"),
                "calendar windows are `1w`, `1M` or `1Q` (a week, month or quarter in UTC)",
            );
        }
    };
    if let Some(c) = f.get("calendar") {
        let cal = fields(cx, c, "calendar", &["startTime", "timeZone"])?;
        if let Some(tz) = cal.get("timeZone") {
            let zone = reader::string(cx, tz, "calendar.timeZone")?;
            if !["UTC", "Etc/UTC", "GMT"].contains(&zone.as_str()) {
                return common::refused(
                    cx,
                    tz.span,
                    &format!("a calendar in time zone `{zone}`"),
                    "calendar periods are in UTC, as Prometheus's time functions are: use `timeZone: UTC`",
                );
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
        return common::refused(
            cx,
            node.span,
            "more or fewer than one objective",
            "give exactly one objective per SLO document",
        );
    };
    let f = fields(cx, item, "an objective", OBJECTIVE_FIELDS)?;
    for key in [
        "indicator",
        "indicatorRef",
        "timeSliceTarget",
        "timeSliceWindow",
    ] {
        if let Some(k) = f.key(key) {
            return common::refused(
                cx,
                k.span,
                &format!("`{key}` in an objective"),
                "give the SLI in `spec.indicator` and count events (`budgetingMethod: Occurrences`)",
            );
        }
    }
    if let Some(n) = f.get("targetPercent") {
        let (percent, text) = reader::number(cx, n, "targetPercent")?;
        let help = "OpenSLO `targetPercent` is a percentage (99.9)";
        return common::percent_objective(cx, percent, text, n.span, Scale::Percent, help);
    }
    let n = f.require(cx, "target", "the objective")?;
    ratio_target(cx, n)
}

/// An objective written as a ratio (`0.999`), kept as the exact percentage.
fn ratio_target(cx: &mut Cx, n: &Node) -> Option<Objective> {
    let (_, text) = reader::number(cx, n, "target")?;
    let percent = Decimal::parse(&text).and_then(|d| d.checked_mul(Decimal::from_int(100)));
    let percent_text = percent.map(|d| d.to_string()).unwrap_or(text);
    let percent = percent_text.parse::<f64>().unwrap_or(f64::NAN);
    let help = "OpenSLO `target` is a ratio (0.999); `targetPercent` a percentage (99.9)";
    common::percent_objective(cx, percent, percent_text, n.span, Scale::Ratio, help)
}

fn indicator(
    cx: &mut Cx,
    node: &Node,
    catalog: &Catalog,
    used: &mut BTreeSet<String>,
) -> Option<(Sli, Vec<String>)> {
    let f = fields(cx, node, "spec.indicator", INDICATOR_FIELDS)?;
    let spec = f.require(cx, "spec", "spec.indicator")?;
    sli_spec(cx, spec, "spec.indicator.spec", catalog, used)
}

/// An SLI's `spec` (inline or a `kind: SLI` document): a ratio of Prometheus metric
/// sources, or a raw ratio; its groups are the labels its queries keep.
fn sli_spec(
    cx: &mut Cx,
    node: &Node,
    what: &str,
    catalog: &Catalog,
    used: &mut BTreeSet<String>,
) -> Option<(Sli, Vec<String>)> {
    let spec = fields(cx, node, what, SLI_SPEC_FIELDS)?;
    if let Some(k) = spec.key("thresholdMetric") {
        return common::refused(
            cx,
            k.span,
            "`thresholdMetric`",
            "express it as a `ratioMetric`, or write a v1 spec with a latency SLI",
        );
    }
    let ratio_node = spec.require(cx, "ratioMetric", what)?;
    let ratio = fields(cx, ratio_node, "ratioMetric", RATIO_FIELDS)?;
    let counter = match ratio.get("counter") {
        Some(n) => reader::boolean(cx, n, "ratioMetric.counter")?,
        None => true,
    };
    if let Some(raw) = ratio.get("raw") {
        return raw_ratio(cx, &ratio, raw, catalog, used);
    }
    let (num_key, is_errors) = match (ratio.get("good"), ratio.get("bad")) {
        (Some(_), None) => ("good", false),
        (None, Some(_)) => ("bad", true),
        _ => {
            cx.report(
                ratio.span,
                Code::SliKind,
                "`ratioMetric` needs exactly one of `good` and `bad`, or `raw`",
                "",
            );
            return None;
        }
    };
    let num_node = ratio.get(num_key)?;
    let num = query(
        cx,
        num_node,
        &format!("ratioMetric.{num_key}"),
        counter,
        catalog,
        used,
    );
    let total = ratio
        .require(cx, "total", "ratioMetric")
        .and_then(|n| query(cx, n, "ratioMetric.total", counter, catalog, used).map(|q| (q, n)));
    let ((num, num_text, num_q), ((total, total_text, total_q), _)) = (num?, total?);
    // A bucket over its count, as counters: the latency SLI it is.
    if !is_errors {
        if let (Some(g), Some(t)) = (&num_text, &total_text) {
            if let Some(l) = sli::latency_from_selectors(g, t) {
                return Some((Sli::Latency(l), Vec::new()));
            }
        }
    }
    sli::inferred_ratio(
        cx,
        sli::Query {
            node: num_q,
            label: format!("ratioMetric.{num_key}"),
            checked: num,
        },
        is_errors,
        sli::Query {
            node: total_q,
            label: "ratioMetric.total".into(),
            checked: total,
        },
    )
}

/// `rawType` + `raw`: a query that already is a ratio over `{{window}}`.
fn raw_ratio(
    cx: &mut Cx,
    ratio: &Fields,
    raw: &Node,
    catalog: &Catalog,
    used: &mut BTreeSet<String>,
) -> Option<(Sli, Vec<String>)> {
    let kind = ratio
        .require(cx, "rawType", "ratioMetric")
        .and_then(|n| reader::string(cx, n, "ratioMetric.rawType").map(|t| (t, n.span)))?;
    let failure = match kind.0.as_str() {
        "failure" => true,
        "success" => false,
        other => {
            cx.report(
                kind.1,
                Code::WrongType,
                format!("`ratioMetric.rawType` must be `failure` or `success`, found `{other}`"),
                "",
            );
            return None;
        }
    };
    let (checked, _, qnode) = query(cx, raw, "ratioMetric.raw", false, catalog, used)?;
    let checked = if failure {
        checked
    } else {
        let text = format!("1 - ({})", checked.query.template);
        promql::window_query(cx, qnode, &text, "ratioMetric.raw")?
    };
    sli::raw_checked(
        cx,
        qnode,
        checked,
        "ratioMetric.raw".into(),
        Groups::Inferred,
    )
}

/// A Prometheus metric source's query, as a window query: kept when it has the
/// `{{window}}` placeholder; a counter (`sel`, or `sum [by (...)] (sel)`) becomes the sum
/// of its rate over the window. Returns the checked query, the counter's plain selector
/// text when it was one, and the query's node.
fn query<'n>(
    cx: &mut Cx,
    node: &'n Node,
    what: &str,
    counter: bool,
    catalog: &Catalog,
    used: &mut BTreeSet<String>,
) -> Option<(promql::Checked, Option<String>, &'n Node)> {
    let f = fields(cx, node, what, METRIC_FIELDS)?;
    let source = f
        .require(cx, "metricSource", what)
        .and_then(|n| fields(cx, n, "metricSource", SOURCE_FIELDS))?;
    let by_ref = match source.get("metricSourceRef") {
        Some(n) => {
            let name = reader::string(cx, n, "metricSource.metricSourceRef")?;
            used.insert(format!("DataSource/{name}"));
            catalog.sources.get(&name).map(|d| (d.kind.clone(), n.span))
        }
        None => None,
    };
    let kind = match (source.get("type"), by_ref) {
        (Some(n), _) => (reader::string(cx, n, "metricSource.type")?, n.span),
        (None, Some(k)) => k,
        (None, None) => {
            let help = if source.key("metricSourceRef").is_some() {
                "the DataSource it names is not among the files given: add `type: Prometheus`, or validate its file together with this one"
            } else {
                "add `type: Prometheus`"
            };
            cx.report(
                source.span,
                Code::MissingField,
                "missing required field `type` in metricSource",
                help,
            );
            return None;
        }
    };
    if kind.0 != "Prometheus" {
        return common::refused(
            cx,
            kind.1,
            &format!("metric source type `{}`", kind.0),
            "use a `Prometheus` metric source",
        );
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
    let label = format!("{what}.query");
    let text = reader::string(cx, qnode, &label)?;
    let (checked, plain) = window_or_counter(cx, qnode, &text, &label, counter)?;
    Some((checked, plain, qnode))
}

/// A query with `{{window}}`, or a counter read as its rate over the window.
fn window_or_counter(
    cx: &mut Cx,
    qnode: &Node,
    text: &str,
    label: &str,
    counter: bool,
) -> Option<(promql::Checked, Option<String>)> {
    if text.contains("{{") {
        return promql::window_query(cx, qnode, text, label).map(|c| (c, None));
    }
    let rewritten = if counter {
        promql::counter_query(cx, qnode, text, label)?
    } else {
        None
    };
    let Some(template) = rewritten else {
        cx.report(
            qnode.span,
            Code::MissingWindow,
            format!("`{label}` has no `{{{{window}}}}` placeholder and is not a counter"),
            "give a counter selector such as `http_requests_total{code=~\"5..\"}` (or `sum(...)` of one), or a query using `[{{window}}]`",
        );
        return None;
    };
    let plain = promql::split_selector(text).map(|_| text.trim().to_string());
    // The same checks as every window query, pointing at the original scalar.
    promql::window_query(cx, qnode, &template, label).map(|c| (c, plain))
}

/// An `openslo/v1alpha` `SLO` document: one SLO per objective, named `<name>-<index>` as
/// Sloth names them, so migrated rules keep Sloth's SLO names.
fn lower_alpha(
    cx: &mut Cx,
    head: Head,
    catalog: &Catalog,
    used: &mut BTreeSet<String>,
) -> Option<Service> {
    let spec = head.spec;
    if let Some(k) = spec.key("indicator") {
        return common::refused(
            cx,
            k.span,
            "an SLO-wide `indicator` (`thresholdMetric`)",
            "give each objective `ratioMetrics` with `good` (or `bad`) and `total`",
        );
    }
    budgeting(cx, &spec);
    let period = alpha_period(cx, &spec);
    let items = spec
        .require(cx, "objectives", "spec")
        .and_then(|n| reader::list(cx, n, "spec.objectives"))?;
    let mut out: Option<Service> = None;
    for (i, item) in items.iter().enumerate() {
        let parts = alpha_objective(cx, item).map(|(objective, sli, group_by)| SloParts {
            name: head.name.as_ref().map(|(n, s)| (format!("{n}-{i}"), *s)),
            description: head.description.clone(),
            period: period.clone(),
            scrape_interval: Some(common::default_scrape_interval()),
            objective: Some(objective),
            labels: Labels::new(),
            group_by: Some(group_by),
            sli: Some(sli),
            sla: Some(None),
            exclusions: Some(Vec::new()),
            deploy_gate: Some(None),
            expected_rate: None,
            alerting: Some(AlertingSpec::default()),
        });
        let Some(parts) = parts else { continue };
        let svc = finish(
            cx,
            parts,
            head.service.clone(),
            head.labels.clone(),
            catalog,
            used,
            Format::OpenSloV1Alpha,
        );
        match (&mut out, svc) {
            (Some(o), Some(s)) => o.slos.extend(s.slos),
            (None, s) => out = s,
            _ => {}
        }
    }
    out
}

fn alpha_period(cx: &mut Cx, spec: &Fields) -> Option<Window> {
    let Some(f) = one_window(cx, spec, "timeWindows", ALPHA_WINDOW_FIELDS)? else {
        return Some(common::default_period());
    };
    let count = f.require(cx, "count", "spec.timeWindows")?;
    let count_text = match count.value {
        Value::Int(c) if c > 0 => c.to_string(),
        _ => {
            cx.wrong_type(
                count,
                "spec.timeWindows.count",
                "a positive whole number",
                "",
            );
            return None;
        }
    };
    let unit_node = f.require(cx, "unit", "spec.timeWindows")?;
    let unit = reader::string(cx, unit_node, "spec.timeWindows.unit")?;
    let rolling = f
        .get("isRolling")
        .is_none_or(|n| n.value != Value::Bool(false));
    if !rolling || f.key("calendar").is_some() {
        let text = format!("{count_text}{unit}");
        return calendar_period(cx, &f, unit_node, &text);
    }
    let suffix = match unit.to_ascii_lowercase().as_str() {
        "hour" => "h",
        "day" => "d",
        "week" => "w",
        _ => {
            return common::refused(
                cx,
                unit_node.span,
                &format!("a rolling window in `{unit}`"),
                "give rolling windows in `Hour`, `Day` or `Week`",
            );
        }
    };
    let text = format!("{count_text}{suffix}");
    match crate::names::parse_duration(&text) {
        Ok(d) if d >= common::PERIOD_BOUNDS.min && d <= common::PERIOD_BOUNDS.max => {
            Some(Window { duration: d, text })
        }
        _ => {
            cx.report(
                count.span,
                Code::BadDuration,
                format!("a window of {count_text} {unit} is outside 1h to 366d"),
                "",
            );
            None
        }
    }
}

fn alpha_objective(cx: &mut Cx, node: &Node) -> Option<(Objective, Sli, Vec<String>)> {
    let f = fields(cx, node, "an objective", ALPHA_OBJECTIVE_FIELDS)?;
    if let Some(k) = f.key("timeSliceTarget") {
        return common::refused(
            cx,
            k.span,
            "`timeSliceTarget`",
            "count events (`budgetingMethod: Occurrences`)",
        );
    }
    let objective = f
        .require(cx, "target", "the objective")
        .and_then(|n| ratio_target(cx, n));
    let ratio = f
        .require(cx, "ratioMetrics", "the objective")
        .and_then(|n| fields(cx, n, "ratioMetrics", ALPHA_RATIO_FIELDS))?;
    let counter = match ratio.get("incremental") {
        Some(n) => reader::boolean(cx, n, "ratioMetrics.incremental")?,
        None => true,
    };
    let (num_key, is_errors) = match (ratio.get("good"), ratio.get("bad")) {
        (Some(_), None) => ("good", false),
        (None, Some(_)) => ("bad", true),
        _ => {
            cx.report(
                ratio.span,
                Code::SliKind,
                "`ratioMetrics` needs exactly one of `good` and `bad`",
                "",
            );
            return None;
        }
    };
    let num = alpha_query(
        cx,
        ratio.get(num_key)?,
        &format!("ratioMetrics.{num_key}"),
        counter,
    );
    let total = ratio
        .require(cx, "total", "ratioMetrics")
        .and_then(|n| alpha_query(cx, n, "ratioMetrics.total", counter));
    let ((num, num_node), (total, total_node)) = (num?, total?);
    let (sli, group_by) = sli::inferred_ratio(
        cx,
        sli::Query {
            node: num_node,
            label: format!("ratioMetrics.{num_key}.query"),
            checked: num,
        },
        is_errors,
        sli::Query {
            node: total_node,
            label: "ratioMetrics.total.query".into(),
            checked: total,
        },
    )?;
    Some((objective?, sli, group_by))
}

fn alpha_query<'n>(
    cx: &mut Cx,
    node: &'n Node,
    what: &str,
    counter: bool,
) -> Option<(promql::Checked, &'n Node)> {
    let f = fields(cx, node, what, ALPHA_QUERY_FIELDS)?;
    for (key, want) in [
        ("source", ["prometheus", "sloth"]),
        ("queryType", ["promql", "promql"]),
    ] {
        let n = f.require(cx, key, what)?;
        let v = reader::string(cx, n, &format!("{what}.{key}"))?;
        if !want.contains(&v.as_str()) {
            return common::refused(
                cx,
                n.span,
                &format!("`{key}: {v}`"),
                &format!("use `{key}: {}`", want[0]),
            );
        }
    }
    let qnode = f.require(cx, "query", what)?;
    let label = format!("{what}.query");
    let text = reader::string(cx, qnode, &label)?;
    let (checked, _) = window_or_counter(cx, qnode, &text, &label, counter)?;
    Some((checked, qnode))
}
