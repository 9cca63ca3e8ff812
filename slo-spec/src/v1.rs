//! Lowering of `version: v1` documents into the model.

use crate::diagnostic::{Code, Span};
use crate::model::*;
use crate::names::{self, default_alert_name};
use crate::promql;
use crate::reader::{self, fields, Cx, Fields};
use crate::yaml::{Node, Value};
use std::time::Duration;

pub const TOP_FIELDS: &[&str] = &[
    "version", "service", "owner", "labels", "period", "alerting", "slos",
];
pub const SLO_FIELDS: &[&str] = &[
    "name",
    "description",
    "objective",
    "period",
    "sli",
    "alerting",
];
pub const SLI_FIELDS: &[&str] = &["ratio", "latency", "freshness", "raw"];
pub const RATIO_FIELDS: &[&str] = &["errors", "good", "total"];
pub const LATENCY_FIELDS: &[&str] = &["histogram", "selector", "threshold"];
pub const FRESHNESS_FIELDS: &[&str] = &["metric", "selector", "max_age"];
pub const RAW_FIELDS: &[&str] = &["error_ratio"];
pub const ALERTING_FIELDS: &[&str] = &[
    "name",
    "labels",
    "annotations",
    "page",
    "ticket",
    "disabled",
    "min_events",
];
pub const DEFAULT_ALERTING_FIELDS: &[&str] = &[
    "labels",
    "annotations",
    "page",
    "ticket",
    "disabled",
    "min_events",
];
pub const TIER_FIELDS: &[&str] = &["labels", "annotations", "disabled", "for", "windows"];
pub const WINDOW_FIELDS: &[&str] = &["long", "short", "burn_rate"];

pub(crate) const MIN_PERIOD: Duration = Duration::from_secs(3600);
pub(crate) const MAX_PERIOD: Duration = Duration::from_secs(366 * 86400);

pub(crate) fn lower(cx: &mut Cx, root: &Node) -> Option<Service> {
    let top = fields(cx, root, "the spec", TOP_FIELDS)?;
    let service_node = top.require(cx, "service", "the spec");
    let service = service_node.and_then(|n| reader::string(cx, n, "service"));
    if let (Some(name), Some(node)) = (&service, service_node) {
        names::slug(cx, name, node.span, "service");
    }
    let owner = top.require(cx, "owner", "the spec").and_then(|n| {
        let owner = reader::string(cx, n, "owner")?;
        if owner.is_empty() {
            cx.report(
                n.span,
                Code::InvalidLabelValue,
                "`owner` is empty",
                "name the team that owns the service",
            );
            return None;
        }
        Some(owner)
    });
    let labels = top
        .get("labels")
        .map(|n| {
            let entries = reader::string_map(cx, n, "labels", false);
            names::labels(cx, entries, "labels", &[])
        })
        .unwrap_or_default();
    let period = top
        .get("period")
        .and_then(|n| period(cx, n))
        .unwrap_or_else(default_period);
    let defaults = top
        .get("alerting")
        .and_then(|n| alerting(cx, n, "alerting", DEFAULT_ALERTING_FIELDS))
        .unwrap_or_default();

    let mut slos = Vec::new();
    if let Some(list_node) = top.require(cx, "slos", "the spec") {
        if let Some(items) = reader::list(cx, list_node, "slos") {
            if items.is_empty() {
                cx.report(
                    list_node.span,
                    Code::MissingField,
                    "`slos` is empty",
                    "declare at least one SLO",
                );
            }
            for item in items {
                let Some(slo) = lower_slo(
                    cx,
                    item,
                    service.as_deref().unwrap_or(""),
                    &period,
                    &defaults,
                ) else {
                    continue;
                };
                add_slo(cx, &mut slos, slo);
            }
        }
    }
    Some(Service {
        file: cx.file.to_string(),
        format: Format::V1,
        name: service?,
        span: service_node.map(|n| n.span).unwrap_or(Span::START),
        owner: Some(owner?),
        labels,
        slos,
    })
}

/// Adds `slo` unless the file already declares an SLO of that name (E010 at the second).
pub(crate) fn add_slo(cx: &mut Cx, slos: &mut Vec<Slo>, slo: Slo) {
    if let Some(first) = slos.iter().find(|s| s.name == slo.name) {
        cx.report(
            slo.span,
            Code::DuplicateSlo,
            format!("SLO `{}` is declared twice in this file", slo.name),
            format!(
                "first declared at line {}; rename one of them",
                first.span.line
            ),
        );
        return;
    }
    slos.push(slo);
}

pub(crate) fn default_period() -> Period {
    Period {
        duration: Duration::from_secs(30 * 86400),
        text: DEFAULT_PERIOD_TEXT.into(),
    }
}

pub(crate) fn period(cx: &mut Cx, node: &Node) -> Option<Period> {
    if matches!(node.value, Value::Int(_) | Value::Float(_)) {
        let help = format!("durations need a unit, e.g. `{}d`", cx.text(node.span));
        cx.wrong_type(node, "period", "a duration string", &help);
        return None;
    }
    let text = reader::string(cx, node, "period")?;
    let duration = names::duration(cx, &text, node.span, "period", MIN_PERIOD, MAX_PERIOD)?;
    Some(Period { duration, text })
}

pub(crate) fn objective(cx: &mut Cx, node: &Node) -> Option<Objective> {
    let (percent, text) = reader::number(cx, node, "objective")?;
    if !(percent > 0.0 && percent < 100.0) {
        cx.report(
            node.span,
            Code::ObjectiveOutOfRange,
            format!("objective must be between 0 and 100 (exclusive), got {text}"),
            "the objective is a percentage of good events: write 99.9 for 99.9%",
        );
        return None;
    }
    Some(Objective {
        percent,
        text,
        span: node.span,
    })
}

fn lower_slo(
    cx: &mut Cx,
    node: &Node,
    service: &str,
    default_period: &Period,
    defaults: &AlertingSpec,
) -> Option<Slo> {
    let f = fields(cx, node, "an SLO", SLO_FIELDS)?;
    let name_node = f.require(cx, "name", "the SLO");
    let name = name_node.and_then(|n| reader::string(cx, n, "name"));
    let name_ok = match (&name, name_node) {
        (Some(name), Some(n)) => names::slug(cx, name, n.span, "SLO name"),
        _ => false,
    };
    let description = f
        .require(cx, "description", "the SLO")
        .and_then(|n| reader::string(cx, n, "description"));
    let objective = f
        .require(cx, "objective", "the SLO")
        .and_then(|n| objective(cx, n));
    let period = match f.get("period") {
        Some(n) => period(cx, n),
        None => Some(default_period.clone()),
    };
    let sli = f.require(cx, "sli", "the SLO").and_then(|n| sli(cx, n));
    let own = match f.get("alerting") {
        Some(n) => alerting(cx, n, "alerting", ALERTING_FIELDS),
        None => Some(AlertingSpec::default()),
    };
    let name = name.filter(|_| name_ok)?;
    let own = own?;
    if let Some(period) = &period {
        check_windows(cx, &own, defaults, period);
    }
    let alerting = merge_alerting(defaults, &own, service, &name);
    Some(Slo {
        span: name_node.map(|n| n.span).unwrap_or(f.span),
        name,
        description: description?,
        objective: objective?,
        period: period?,
        labels: Labels::new(),
        sli: sli?,
        alerting,
    })
}

fn sli(cx: &mut Cx, node: &Node) -> Option<Sli> {
    let f = fields(cx, node, "sli", SLI_FIELDS)?;
    let present: Vec<_> = f
        .entries
        .iter()
        .filter(|(k, _)| SLI_FIELDS.contains(&k.name.as_str()))
        .collect();
    match present.as_slice() {
        [] => {
            cx.report(
                f.span,
                Code::SliKind,
                "`sli` declares no SLI kind",
                "use exactly one of: ratio, latency, freshness, raw",
            );
            None
        }
        [(key, value)] => match key.name.as_str() {
            "ratio" => ratio(cx, value),
            "latency" => latency(cx, value),
            "freshness" => freshness(cx, value),
            _ => raw(cx, value, "error_ratio", RAW_FIELDS, "sli.raw"),
        },
        [(first, _), rest @ ..] => {
            for (key, _) in rest {
                cx.report(
                    key.span,
                    Code::SliKind,
                    format!("`sli` declares both `{}` and `{}`", first.name, key.name),
                    "an SLO has exactly one SLI kind; split it into two SLOs",
                );
            }
            None
        }
    }
}

fn string_field(cx: &mut Cx, f: &Fields, key: &str, what: &str) -> Option<(String, Node)> {
    let node = f.require(cx, key, what)?;
    let text = reader::string(cx, node, &format!("{what}.{key}"))?;
    Some((text, node.clone()))
}

/// A duration field; a bare number gets a hint to add the unit.
fn duration_field(cx: &mut Cx, f: &Fields, key: &str, what: &str) -> Option<(String, Node)> {
    let node = f.require(cx, key, what)?;
    if matches!(node.value, Value::Int(_) | Value::Float(_)) {
        let help = format!(
            "durations need a unit, e.g. `{}ms` or `{}s`",
            cx.text(node.span),
            cx.text(node.span)
        );
        cx.wrong_type(node, &format!("{what}.{key}"), "a duration string", &help);
        return None;
    }
    string_field(cx, f, key, what)
}

pub(crate) fn ratio_from(
    cx: &mut Cx,
    f: &Fields,
    errors_key: &str,
    good_key: Option<&str>,
    total_key: &str,
    what: &str,
) -> Option<Sli> {
    let errors = f.get(errors_key);
    let good = good_key.and_then(|k| f.get(k));
    let numerator_node = match (errors, good, good_key) {
        (Some(_), Some(g), Some(gk)) => {
            let key = f.key(gk).map(|k| k.span).unwrap_or(g.span);
            cx.report(
                key,
                Code::SliKind,
                format!("`{what}` has both `{errors_key}` and `{gk}`"),
                "count either the bad events or the good ones, not both",
            );
            None
        }
        (Some(e), _, _) => Some((e, true)),
        (None, Some(g), _) => Some((g, false)),
        (None, None, gk) => {
            let names = match gk {
                Some(gk) => format!("`{errors_key}` or `{gk}`"),
                None => format!("`{errors_key}`"),
            };
            cx.report(
                f.span,
                Code::MissingField,
                format!("`{what}` needs {names}"),
                format!("add `{errors_key}:` with a query counting failed events"),
            );
            None
        }
    };
    let numerator = numerator_node.and_then(|(node, is_errors)| {
        let key = if is_errors {
            errors_key
        } else {
            good_key.unwrap_or_default()
        };
        let label = format!("{what}.{key}");
        let text = reader::string(cx, node, &label)?;
        let checked = promql::window_query(cx, node, &text, &label)?;
        Some((checked, is_errors, node))
    });
    let total_label = format!("{what}.{total_key}");
    let total = f.require(cx, total_key, what).and_then(|node| {
        let text = reader::string(cx, node, &total_label)?;
        let checked = promql::window_query(cx, node, &text, &total_label)?;
        Some((checked, node))
    });
    let ((num, is_errors, _), (total, total_node)) = (numerator?, total?);
    let num_families: std::collections::BTreeSet<_> =
        num.metrics.iter().map(|m| promql::family(m)).collect();
    let total_families: std::collections::BTreeSet<_> =
        total.metrics.iter().map(|m| promql::family(m)).collect();
    if !num_families.is_empty()
        && !total_families.is_empty()
        && num_families.is_disjoint(&total_families)
    {
        let num_key = if is_errors {
            errors_key
        } else {
            good_key.unwrap_or_default()
        };
        cx.report(
            total_node.span,
            Code::MetricMismatch,
            format!(
                "`{num_key}` reads {} but `{total_key}` reads {}",
                list_names(&num.metrics),
                list_names(&total.metrics)
            ),
            "a ratio compares events of one metric family; select the same metric in both queries",
        );
        return None;
    }
    let numerator = if is_errors {
        Numerator::Errors(num.query)
    } else {
        Numerator::Good(num.query)
    };
    Some(Sli::Ratio(RatioSli {
        numerator,
        total: total.query,
    }))
}

fn list_names(names: &std::collections::BTreeSet<String>) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn ratio(cx: &mut Cx, node: &Node) -> Option<Sli> {
    let f = fields(cx, node, "sli.ratio", RATIO_FIELDS)?;
    ratio_from(cx, &f, "errors", Some("good"), "total", "sli.ratio")
}

pub(crate) fn raw(cx: &mut Cx, node: &Node, key: &str, known: &[&str], what: &str) -> Option<Sli> {
    let f = fields(cx, node, what, known)?;
    let node = f.require(cx, key, what)?;
    let label = format!("{what}.{key}");
    let text = reader::string(cx, node, &label)?;
    let checked = promql::window_query(cx, node, &text, &label)?;
    Some(Sli::Raw(RawSli {
        error_ratio: checked.query,
    }))
}

fn latency(cx: &mut Cx, node: &Node) -> Option<Sli> {
    let f = fields(cx, node, "sli.latency", LATENCY_FIELDS)?;
    let histogram = string_field(cx, &f, "histogram", "sli.latency").and_then(|(name, node)| {
        if let Some(base) = ["_bucket", "_count", "_sum"]
            .iter()
            .find_map(|s| name.strip_suffix(s))
        {
            cx.report(
                node.span,
                Code::InvalidName,
                format!(
                    "`sli.latency.histogram` is the base name, not the `{}` series",
                    &name[base.len()..]
                ),
                format!("write `{base}`"),
            );
            return None;
        }
        promql::metric_name(cx, &node, &name, "sli.latency.histogram").then_some(name)
    });
    let matchers = selector(
        cx,
        &f,
        histogram.as_deref(),
        "_bucket",
        "sli.latency.selector",
        &["le"],
    );
    let threshold = duration_field(cx, &f, "threshold", "sli.latency").and_then(|(text, node)| {
        let d = names::duration(
            cx,
            &text,
            node.span,
            "threshold",
            Duration::from_millis(1),
            Duration::from_secs(3600),
        )?;
        Some((d, text))
    });
    let (threshold, threshold_text) = threshold?;
    Some(Sli::Latency(LatencySli {
        histogram: histogram?,
        matchers: matchers?,
        threshold,
        threshold_text,
    }))
}

fn selector(
    cx: &mut Cx,
    f: &Fields,
    metric: Option<&str>,
    suffix: &str,
    what: &str,
    forbidden: &[&str],
) -> Option<String> {
    match f.get("selector") {
        None => Some(String::new()),
        Some(node) => {
            let text = reader::string(cx, node, what)?;
            let metric = format!("{}{suffix}", metric.unwrap_or("metric"));
            promql::selector(cx, node, &text, &metric, what, forbidden)
        }
    }
}

fn freshness(cx: &mut Cx, node: &Node) -> Option<Sli> {
    let f = fields(cx, node, "sli.freshness", FRESHNESS_FIELDS)?;
    let metric = string_field(cx, &f, "metric", "sli.freshness").and_then(|(name, node)| {
        promql::metric_name(cx, &node, &name, "sli.freshness.metric").then_some(name)
    });
    let matchers = selector(cx, &f, metric.as_deref(), "", "sli.freshness.selector", &[]);
    let max_age = duration_field(cx, &f, "max_age", "sli.freshness").and_then(|(text, node)| {
        let d = names::duration(
            cx,
            &text,
            node.span,
            "max_age",
            Duration::from_secs(1),
            MAX_PERIOD,
        )?;
        Some((d, text))
    });
    let (max_age, max_age_text) = max_age?;
    Some(Sli::Freshness(FreshnessSli {
        metric: metric?,
        matchers: matchers?,
        max_age,
        max_age_text,
    }))
}

/// Alerting as written, before defaults are merged.
#[derive(Default)]
pub(crate) struct AlertingSpec {
    pub name: Option<(String, Span)>,
    pub disabled: Option<bool>,
    pub min_events: Option<u64>,
    pub labels: Labels,
    pub annotations: Labels,
    pub page: TierSpec,
    pub ticket: TierSpec,
}

#[derive(Default)]
pub(crate) struct TierSpec {
    pub disabled: Option<bool>,
    pub labels: Labels,
    pub annotations: Labels,
    pub for_: Option<Window>,
    pub windows: Option<(Vec<WindowPair>, Span)>,
}

/// Field names of one alerting dialect: v1 and Sloth spell the same things differently.
pub(crate) struct AlertingDialect {
    pub fields: &'static [&'static str],
    pub page: &'static str,
    pub ticket: &'static str,
    pub disabled: &'static str,
    pub tier_fields: &'static [&'static str],
    pub lenient: bool,
}

pub(crate) const V1_ALERTING: AlertingDialect = AlertingDialect {
    fields: ALERTING_FIELDS,
    page: "page",
    ticket: "ticket",
    disabled: "disabled",
    tier_fields: TIER_FIELDS,
    lenient: false,
};

fn alerting(
    cx: &mut Cx,
    node: &Node,
    what: &str,
    known: &'static [&'static str],
) -> Option<AlertingSpec> {
    let dialect = AlertingDialect {
        fields: known,
        ..V1_ALERTING
    };
    alerting_in(cx, node, what, &dialect)
}

pub(crate) fn alerting_in(
    cx: &mut Cx,
    node: &Node,
    what: &str,
    d: &AlertingDialect,
) -> Option<AlertingSpec> {
    if node.value == Value::Null {
        return Some(AlertingSpec::default());
    }
    let f = fields(cx, node, what, d.fields)?;
    let mut spec = AlertingSpec::default();
    if let Some(n) = f.get("name") {
        if let Some(name) = reader::string(cx, n, &format!("{what}.name")) {
            if names::is_metric_name(&name) {
                spec.name = Some((name, n.span));
            } else {
                cx.report(
                    n.span,
                    Code::InvalidName,
                    format!("`{name}` is not a valid alert name"),
                    "alert names match [a-zA-Z_:][a-zA-Z0-9_:]*, e.g. `PaymentsWebhookAvailability`",
                );
            }
        }
    }
    spec.disabled = f
        .get(d.disabled)
        .and_then(|n| reader::boolean(cx, n, &format!("{what}.{}", d.disabled)));
    if let Some(n) = f
        .get("min_events")
        .filter(|_| d.fields.contains(&"min_events"))
    {
        match n.value {
            Value::Int(i) if i > 0 => spec.min_events = Some(i as u64),
            _ => cx.report(
                n.span,
                Code::InvalidPolicy,
                format!("`{what}.min_events` must be a positive whole number"),
                "e.g. `min_events: 100`: a tier cannot fire on fewer events in its long window",
            ),
        }
    }
    if let Some(n) = f.get("labels") {
        let label = format!("{what}.labels");
        let entries = reader::string_map(cx, n, &label, d.lenient);
        spec.labels = names::labels(cx, entries, &label, &[]);
    }
    if let Some(n) = f.get("annotations") {
        let entries = reader::string_map(cx, n, &format!("{what}.annotations"), d.lenient);
        spec.annotations = names::annotations(cx, entries);
    }
    for (key, tier) in [(d.page, &mut spec.page), (d.ticket, &mut spec.ticket)] {
        let Some(n) = f.get(key) else { continue };
        if n.value == Value::Null {
            continue;
        }
        let tier_what = format!("{what}.{key}");
        let Some(tf) = fields(cx, n, &tier_what, d.tier_fields) else {
            continue;
        };
        tier.disabled = tf
            .get(d.disabled)
            .and_then(|n| reader::boolean(cx, n, &format!("{tier_what}.{}", d.disabled)));
        if let Some(n) = tf.get("labels") {
            let label = format!("{tier_what}.labels");
            let entries = reader::string_map(cx, n, &label, d.lenient);
            tier.labels = names::labels(cx, entries, &label, &["severity"]);
        }
        if let Some(n) = tf.get("annotations") {
            let entries = reader::string_map(cx, n, &format!("{tier_what}.annotations"), d.lenient);
            tier.annotations = names::annotations(cx, entries);
        }
        if let Some(n) = tf.get("for") {
            tier.for_ = window_text(
                cx,
                n,
                &format!("{tier_what}.for"),
                Duration::from_secs(1),
                Duration::from_secs(86400),
            );
        }
        if let Some(n) = tf.get("windows") {
            tier.windows =
                window_pairs(cx, n, &format!("{tier_what}.windows")).map(|w| (w, n.span));
        }
    }
    Some(spec)
}

fn window_text(
    cx: &mut Cx,
    node: &Node,
    what: &str,
    min: Duration,
    max: Duration,
) -> Option<Window> {
    if matches!(node.value, Value::Int(_) | Value::Float(_)) {
        let help = format!("durations need a unit, e.g. `{}m`", cx.text(node.span));
        cx.wrong_type(node, what, "a duration string", &help);
        return None;
    }
    let text = reader::string(cx, node, what)?;
    let duration = names::duration(cx, &text, node.span, what, min, max)?;
    Some(Window { duration, text })
}

fn window_pairs(cx: &mut Cx, node: &Node, what: &str) -> Option<Vec<WindowPair>> {
    let items = reader::list(cx, node, what)?;
    if items.is_empty() {
        cx.report(
            node.span,
            Code::InvalidPolicy,
            format!("`{what}` is empty"),
            "give at least one `{long, short, burn_rate}`, or set `disabled: true`",
        );
        return None;
    }
    let mut out = Vec::new();
    let mut ok = true;
    for item in items {
        let Some(f) = fields(cx, item, what, WINDOW_FIELDS) else {
            ok = false;
            continue;
        };
        let mut window = |key: &str| {
            let node = f.require(cx, key, what)?;
            window_text(
                cx,
                node,
                &format!("{what}.{key}"),
                Duration::from_secs(1),
                MAX_PERIOD,
            )
        };
        let (long, short) = (window("long"), window("short"));
        let burn = f.require(cx, "burn_rate", what).and_then(|n| {
            let (_, text) = reader::number(cx, n, &format!("{what}.burn_rate"))?;
            match crate::decimal::Decimal::parse(&text).filter(|d| d.is_positive()) {
                Some(d) => Some(d),
                None => {
                    cx.report(
                        n.span,
                        Code::InvalidPolicy,
                        format!("burn rate must be a positive number, got {text}"),
                        "a burn rate of 1 spends the budget exactly over the period; pages use 6 to 14.4",
                    );
                    None
                }
            }
        });
        match (long, short, burn) {
            (Some(long), Some(short), Some(burn_rate)) => {
                if short.duration >= long.duration {
                    cx.report(
                        f.span,
                        Code::InvalidPolicy,
                        format!("short window `{}` is not shorter than long window `{}`", short.text, long.text),
                        "the short window (about 1/12 of the long one) makes the alert reset quickly",
                    );
                    ok = false;
                } else {
                    out.push(WindowPair {
                        long: long.duration,
                        short: short.duration,
                        burn_rate,
                    });
                }
            }
            _ => ok = false,
        }
    }
    ok.then_some(out)
}

/// Windows must fit the period, and a tier must be able to fire before the whole budget
/// is gone.
fn check_windows(cx: &mut Cx, alerting: &AlertingSpec, defaults: &AlertingSpec, period: &Period) {
    for (own, def) in [
        (&alerting.page, &defaults.page),
        (&alerting.ticket, &defaults.ticket),
    ] {
        let Some((pairs, span)) = own.windows.as_ref().or(def.windows.as_ref()) else {
            continue;
        };
        for pair in pairs {
            let consumed =
                pair.burn_rate.to_f64() * pair.long.as_secs_f64() / period.duration.as_secs_f64();
            if pair.long > period.duration {
                cx.report(
                    *span,
                    Code::InvalidPolicy,
                    format!(
                        "long window {} is longer than the period {}",
                        promql_parser::util::display_duration(&pair.long),
                        period.text
                    ),
                    "windows are parts of the period; shorten the window",
                );
            } else if consumed > 1.0 {
                cx.report(
                    *span,
                    Code::InvalidPolicy,
                    format!(
                        "burn rate {} over {} spends {:.0}% of the {} budget before it can fire",
                        pair.burn_rate,
                        promql_parser::util::display_duration(&pair.long),
                        consumed * 100.0,
                        period.text
                    ),
                    "lower the burn rate or shorten the long window",
                );
            }
        }
    }
}

/// SLO values win over file defaults, key by key for labels and annotations.
pub(crate) fn merge_alerting(
    defaults: &AlertingSpec,
    own: &AlertingSpec,
    service: &str,
    slo: &str,
) -> Alerting {
    fn merged(a: &Labels, b: &Labels) -> Labels {
        let mut out = a.clone();
        out.extend(b.iter().map(|(k, v)| (k.clone(), v.clone())));
        out
    }
    let tier = |d: &TierSpec, o: &TierSpec| Tier {
        disabled: o.disabled.or(d.disabled).unwrap_or(false),
        labels: merged(&d.labels, &o.labels),
        annotations: merged(&d.annotations, &o.annotations),
        for_: o.for_.clone().or_else(|| d.for_.clone()),
        windows: o
            .windows
            .as_ref()
            .or(d.windows.as_ref())
            .map(|(w, _)| w.clone()),
    };
    Alerting {
        name: own
            .name
            .as_ref()
            .map(|(n, _)| n.clone())
            .unwrap_or_else(|| default_alert_name(service, slo)),
        disabled: own.disabled.or(defaults.disabled).unwrap_or(false),
        min_events: own.min_events.or(defaults.min_events),
        labels: merged(&defaults.labels, &own.labels),
        annotations: merged(&defaults.annotations, &own.annotations),
        page: tier(&defaults.page, &own.page),
        ticket: tier(&defaults.ticket, &own.ticket),
    }
}
