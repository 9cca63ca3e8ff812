//! Lowering of `version: v1` documents, the toolkit's own language (`slo-spec/SPEC.md`).

use super::alerting::{self, AlertingSpec, Dialect};
use super::build::{self, SloParts};
use super::common;
use super::exclusions;
use super::promql;
use super::reader::{self, fields, Cx, DurationBounds, Fields};
use super::sli::{self, Groups, RatioKeys};
use crate::diagnostic::Code;
use crate::model::*;
use crate::yaml::Node;
use std::time::Duration;

pub(crate) const TOP_FIELDS: &[&str] = &[
    "version",
    "service",
    "owner",
    "labels",
    "period",
    "scrape_interval",
    "exclusions",
    "alerting",
    "slos",
];
pub(crate) const SLO_FIELDS: &[&str] = &[
    "name",
    "description",
    "objective",
    "period",
    "scrape_interval",
    "group_by",
    "labels",
    "sli",
    "alerting",
    "sla",
    "exclusions",
    "deploy_gate",
    "expected_rate",
];
pub(crate) const SLI_FIELDS: &[&str] = &["ratio", "latency", "freshness", "raw"];
pub(crate) const RATIO_FIELDS: &[&str] = &["errors", "good", "total"];
pub(crate) const LATENCY_FIELDS: &[&str] = &["histogram", "selector", "threshold"];
pub(crate) const FRESHNESS_FIELDS: &[&str] = &["metric", "age", "selector", "max_age"];
pub(crate) const RAW_FIELDS: &[&str] = &["error_ratio"];
pub(crate) const ALERTING_FIELDS: &[&str] = &[
    "name",
    "labels",
    "annotations",
    "page",
    "ticket",
    "absent",
    "disabled",
    "min_events",
    "breakdown",
];
/// A file's `defaults.alerting`: every field of `alerting` but `name`.
pub(crate) const DEFAULT_ALERTING_FIELDS: &[&str] = ALERTING_FIELDS.split_at(1).1;
pub(crate) const TIER_FIELDS: &[&str] = &[
    "labels",
    "annotations",
    "disabled",
    "for",
    "windows",
    "confidence",
];

const ALERTING: Dialect = Dialect {
    fields: ALERTING_FIELDS,
    tiers: ["page", "ticket"],
    disabled: "disabled",
    tier_fields: TIER_FIELDS,
    lenient: false,
};

/// File defaults: everything an SLO's alerting has but its name.
const DEFAULT_ALERTING: Dialect = Dialect {
    fields: DEFAULT_ALERTING_FIELDS,
    ..ALERTING
};

const THRESHOLD_BOUNDS: DurationBounds = DurationBounds {
    min: Duration::from_millis(1),
    max: Duration::from_secs(3600),
    unit: "ms",
};

const MAX_AGE_BOUNDS: DurationBounds = DurationBounds {
    min: Duration::from_secs(1),
    max: common::PERIOD_BOUNDS.max,
    unit: "m",
};

pub(crate) fn lower(cx: &mut Cx, root: &Node) -> Option<Service> {
    let top = fields(cx, root, "the spec", TOP_FIELDS)?;
    common::declare(cx, &top, "service");
    let service = common::required_slug(cx, &top, "service", "the spec", "service");
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
        .map(|n| common::label_map(cx, n, "labels", false, &[]))
        .unwrap_or_default();
    let period = top
        .get("period")
        .and_then(|n| common::period(cx, n, "period"))
        .unwrap_or_else(common::default_period);
    let scrape = top
        .get("scrape_interval")
        .and_then(|n| common::scrape_interval(cx, n, "scrape_interval"))
        .unwrap_or_else(common::default_scrape_interval);
    // Faulty file exclusions were reported; the SLOs are then read without them.
    let file_exclusions = top
        .get("exclusions")
        .map(|n| exclusions::read(cx, n).0)
        .unwrap_or_default();
    let defaults = top
        .get("alerting")
        .and_then(|n| alerting::read(cx, n, "alerting", &DEFAULT_ALERTING))
        .unwrap_or_default();
    let service_name = service.as_ref().map(|(n, _)| n.as_str()).unwrap_or("");
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
                let Some(parts) = slo(cx, item, &period, &scrape, &file_exclusions) else {
                    continue;
                };
                if let Some(slo) = build::finish_slo(cx, parts, &defaults, service_name) {
                    build::add_slo(cx, &mut slos, slo);
                }
            }
        }
    }
    let owner = Some(owner?);
    build::finish_service(cx, Format::V1, service, owner, labels, slos)
}

fn slo(
    cx: &mut Cx,
    node: &Node,
    default_period: &Window,
    default_scrape: &Window,
    file_exclusions: &[crate::exclusion::Exclusion],
) -> Option<SloParts> {
    let f = fields(cx, node, "an SLO", SLO_FIELDS)?;
    // A faulty `group_by` is reported here; the queries are then checked against none.
    let group_by = common::group_by(cx, f.get("group_by"));
    let objective = common::required_objective(cx, &f);
    let sla = match f.get("sla") {
        Some(n) => super::sla::read(cx, n, objective.as_ref()).map(Some),
        None => Some(None),
    };
    let period = match f.get("period") {
        Some(n) => common::period(cx, n, "period"),
        None => Some(default_period.clone()),
    };
    let own = match f.get("exclusions") {
        Some(n) => exclusions::read(cx, n),
        None => (Vec::new(), true),
    };
    let exclusions = match &period {
        Some(p) => exclusions::merge(cx, file_exclusions, own, p),
        None => None,
    };
    let deploy_gate = match f.get("deploy_gate") {
        Some(n) => super::gate::read(cx, n).map(Some),
        None => Some(None),
    };
    let expected_rate = f.get("expected_rate").and_then(|n| {
        let (rate, text) = reader::number(cx, n, "expected_rate")?;
        if rate > 0.0 && rate.is_finite() {
            return Some((rate, text, n.span));
        }
        cx.report(
            n.span,
            Code::InvalidPolicy,
            format!("`expected_rate` must be a positive number of events per second, got {text}"),
            "e.g. `expected_rate: 0.003` for about 10 requests an hour",
        );
        None
    });
    Some(SloParts {
        name: common::required_slug(cx, &f, "name", "the SLO", "SLO name"),
        deploy_gate,
        expected_rate,
        description: f
            .require(cx, "description", "the SLO")
            .and_then(|n| reader::string(cx, n, "description")),
        objective,
        sla,
        period,
        exclusions,
        scrape_interval: match f.get("scrape_interval") {
            Some(n) => common::scrape_interval(cx, n, "scrape_interval"),
            None => Some(default_scrape.clone()),
        },
        labels: f
            .get("labels")
            .map(|n| common::label_map(cx, n, "labels", false, &[]))
            .unwrap_or_default(),
        sli: f.require(cx, "sli", "the SLO").and_then(|n| {
            // A faulty `group_by` was reported: the queries are checked against none.
            let groups = match &group_by {
                Some(g) => Groups::Declared(g),
                None => Groups::Faulty,
            };
            sli(cx, n, groups)
        }),
        group_by,
        alerting: match f.get("alerting") {
            Some(n) => alerting::read(cx, n, "alerting", &ALERTING),
            None => Some(AlertingSpec::default()),
        },
    })
}

fn sli(cx: &mut Cx, node: &Node, groups: Groups) -> Option<Sli> {
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
            "ratio" => {
                let f = fields(cx, value, "sli.ratio", RATIO_FIELDS)?;
                let keys = RatioKeys {
                    errors: "errors",
                    good: Some("good"),
                    total: "total",
                    what: "sli.ratio",
                };
                sli::ratio(cx, &f, &keys, groups).map(|(s, _)| s)
            }
            "latency" => latency(cx, value),
            "freshness" => freshness(cx, value),
            _ => sli::raw(cx, value, "error_ratio", RAW_FIELDS, "sli.raw", groups).map(|(s, _)| s),
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

/// A metric name field (a histogram base name or a gauge), with its node.
fn metric_field<'n>(
    cx: &mut Cx,
    f: &Fields<'n>,
    key: &str,
    what: &str,
) -> Option<(String, &'n Node)> {
    let node = f.require(cx, key, what)?;
    let name = reader::string(cx, node, &format!("{what}.{key}"))?;
    Some((name, node))
}

fn latency(cx: &mut Cx, node: &Node) -> Option<Sli> {
    let what = "sli.latency";
    let f = fields(cx, node, what, LATENCY_FIELDS)?;
    let histogram = metric_field(cx, &f, "histogram", what).and_then(|(name, node)| {
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
        promql::metric_name(cx, node, &name, "sli.latency.histogram").then_some(name)
    });
    let matchers = selector(
        cx,
        &f,
        histogram.as_deref(),
        "_bucket",
        "sli.latency.selector",
        &["le"],
    );
    let threshold = f
        .require(cx, "threshold", what)
        .and_then(|n| reader::duration(cx, n, "sli.latency.threshold", THRESHOLD_BOUNDS))?;
    Some(Sli::Latency(LatencySli {
        histogram: histogram?,
        matchers: matchers?,
        threshold: threshold.duration,
        threshold_text: threshold.text,
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
    let what = "sli.freshness";
    let f = fields(cx, node, what, FRESHNESS_FIELDS)?;
    let (key, gauge) = match (f.key("metric"), f.key("age")) {
        (Some(_), None) => ("metric", FreshnessGauge::LastSuccess),
        (None, Some(_)) => ("age", FreshnessGauge::Age),
        (Some(_), Some(age)) => {
            cx.report(
                age.span,
                Code::SliKind,
                "`sli.freshness` has both `metric` and `age`",
                "`metric` is a last-success unix time, `age` how old the data is in seconds; keep the one your gauge holds",
            );
            return None;
        }
        (None, None) => {
            cx.report(
                f.span,
                Code::MissingField,
                "`sli.freshness` needs `metric` or `age`",
                "add `metric:` (a gauge of the last success's unix time) or `age:` (a gauge of the data's age in seconds)",
            );
            return None;
        }
    };
    let metric = metric_field(cx, &f, key, what).and_then(|(name, node)| {
        promql::metric_name(cx, node, &name, &format!("sli.freshness.{key}")).then_some(name)
    });
    let matchers = selector(cx, &f, metric.as_deref(), "", "sli.freshness.selector", &[]);
    let max_age = f
        .require(cx, "max_age", what)
        .and_then(|n| reader::duration(cx, n, "sli.freshness.max_age", MAX_AGE_BOUNDS))?;
    Some(Sli::Freshness(FreshnessSli {
        gauge,
        metric: metric?,
        matchers: matchers?,
        max_age: max_age.duration,
        max_age_text: max_age.text,
    }))
}
