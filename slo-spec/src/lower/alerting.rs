//! Alerting as the formats write it (v1 and Sloth spell the same things differently),
//! checked against the period, and resolved into the model: the SLO's settings over the
//! file's defaults over the default policy of [`crate::policy`].

use super::common;
use super::reader::{self, fields, Cx, DurationBounds};
use crate::diagnostic::{Code, Span};
use crate::model::*;
use crate::names::{self, format_duration};
use crate::policy;
use crate::yaml::{Node, Value};
use std::time::Duration;

/// Alerting as written, before defaults are merged.
#[derive(Default)]
pub(crate) struct AlertingSpec {
    pub name: Option<(String, Span)>,
    pub disabled: Option<bool>,
    pub min_events: Option<u64>,
    /// `breakdown` and where it was written.
    pub breakdown: Option<(Vec<String>, Span)>,
    pub labels: Labels,
    pub annotations: Labels,
    pub page: TierSpec,
    pub ticket: TierSpec,
    pub absent: AbsentSpec,
}

/// `alerting.absent` as written.
#[derive(Default)]
pub(crate) struct AbsentSpec {
    pub disabled: Option<bool>,
    pub for_: Option<Window>,
    pub severity: Option<String>,
    pub labels: Labels,
    pub annotations: Labels,
}

/// Fields of `alerting.absent`.
pub(crate) const ABSENT_FIELDS: &[&str] = &["for", "severity", "labels", "annotations", "disabled"];

impl AlertingSpec {
    /// A burn-rate tier's settings; `None` for the missing-data alert (`absent`).
    fn tier(&self, tier: Tier) -> Option<&TierSpec> {
        match tier {
            Tier::Page => Some(&self.page),
            Tier::Ticket => Some(&self.ticket),
            Tier::Absent => None,
        }
    }

    fn tier_mut(&mut self, tier: Tier) -> Option<&mut TierSpec> {
        match tier {
            Tier::Page => Some(&mut self.page),
            Tier::Ticket => Some(&mut self.ticket),
            Tier::Absent => None,
        }
    }
}

#[derive(Default)]
pub(crate) struct TierSpec {
    pub disabled: Option<bool>,
    pub labels: Labels,
    pub annotations: Labels,
    pub for_: Option<Window>,
    /// The pairs with where their long and short windows were written, and the list.
    pub windows: Option<(Vec<super::windows::WrittenPair>, Span)>,
    pub confidence: Option<crate::Confidence>,
}

/// Field names of one alerting dialect.
pub(crate) struct Dialect {
    pub fields: &'static [&'static str],
    /// The key of each burn-rate tier, in [`Tier::BURN_RATE`] order.
    pub tiers: [&'static str; 2],
    pub disabled: &'static str,
    pub tier_fields: &'static [&'static str],
    /// Takes numbers and booleans as label text (Sloth's Go loader does).
    pub lenient: bool,
}

/// `for` of a tier: up to a day.
const FOR_BOUNDS: DurationBounds = DurationBounds {
    min: Duration::from_secs(1),
    max: Duration::from_secs(86400),
    unit: "m",
};

/// Reads an `alerting` mapping in dialect `d`; `null` means "all defaults".
pub(crate) fn read(cx: &mut Cx, node: &Node, what: &str, d: &Dialect) -> Option<AlertingSpec> {
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
        spec.labels = common::label_map(cx, n, &format!("{what}.labels"), d.lenient, &[]);
    }
    if let Some(n) = f.get("annotations") {
        spec.annotations = common::annotations(cx, n, &format!("{what}.annotations"), d.lenient);
    }
    if let Some(n) = f
        .get("breakdown")
        .filter(|_| d.fields.contains(&"breakdown"))
    {
        spec.breakdown = super::breakdown::read(cx, n, &format!("{what}.breakdown"));
    }
    if let Some(n) = f
        .get("absent")
        .filter(|n| n.value != Value::Null && d.fields.contains(&"absent"))
    {
        if let Some(a) = read_absent(cx, n, &format!("{what}.absent"), d) {
            spec.absent = a;
        }
    }
    for (tier, key) in Tier::BURN_RATE.into_iter().zip(d.tiers) {
        let Some(n) = f.get(key).filter(|n| n.value != Value::Null) else {
            continue;
        };
        let what = format!("{what}.{key}");
        if let (Some(t), Some(slot)) = (read_tier(cx, n, &what, d), spec.tier_mut(tier)) {
            *slot = t;
        }
    }
    Some(spec)
}

fn read_absent(cx: &mut Cx, node: &Node, what: &str, d: &Dialect) -> Option<AbsentSpec> {
    let f = fields(cx, node, what, ABSENT_FIELDS)?;
    let mut absent = AbsentSpec {
        disabled: f
            .get("disabled")
            .and_then(|n| reader::boolean(cx, n, &format!("{what}.disabled"))),
        ..AbsentSpec::default()
    };
    if let Some(n) = f.get("for") {
        absent.for_ = reader::duration(cx, n, &format!("{what}.for"), FOR_BOUNDS);
    }
    if let Some(n) = f.get("severity") {
        let label = format!("{what}.severity");
        absent.severity = reader::string(cx, n, &label).and_then(|s| {
            let entries = vec![(
                crate::yaml::Key {
                    name: "severity".into(),
                    span: n.span,
                },
                s,
                n.span,
            )];
            common::labels(cx, entries, &label, &["severity"]).remove("severity")
        });
    }
    if let Some(n) = f.get("labels") {
        let label = format!("{what}.labels");
        absent.labels = common::label_map(cx, n, &label, d.lenient, &[]);
    }
    if let Some(n) = f.get("annotations") {
        absent.annotations = common::annotations(cx, n, &format!("{what}.annotations"), d.lenient);
    }
    Some(absent)
}

fn read_tier(cx: &mut Cx, node: &Node, what: &str, d: &Dialect) -> Option<TierSpec> {
    let f = fields(cx, node, what, d.tier_fields)?;
    let mut tier = TierSpec {
        disabled: f
            .get(d.disabled)
            .and_then(|n| reader::boolean(cx, n, &format!("{what}.{}", d.disabled))),
        ..TierSpec::default()
    };
    if let Some(n) = f.get("labels") {
        let label = format!("{what}.labels");
        tier.labels = common::label_map(cx, n, &label, d.lenient, &["severity"]);
    }
    if let Some(n) = f.get("annotations") {
        tier.annotations = common::annotations(cx, n, &format!("{what}.annotations"), d.lenient);
    }
    if let Some(n) = f.get("for") {
        tier.for_ = reader::duration(cx, n, &format!("{what}.for"), FOR_BOUNDS);
    }
    if let Some(n) = f.get("windows") {
        tier.windows =
            super::windows::window_pairs(cx, n, &format!("{what}.windows")).map(|w| (w, n.span));
    }
    if let Some(n) = f.get("confidence") {
        tier.confidence = super::confidence::read(cx, n, &format!("{what}.confidence"));
    }
    Some(tier)
}

/// Windows must fit the period, and a tier must be able to fire before the whole budget
/// is gone. A window below the floor of the scrape interval is raised (W007 says so).
pub(crate) fn check_windows(
    cx: &mut Cx,
    alerting: &AlertingSpec,
    defaults: &AlertingSpec,
    period: &Window,
    scrape: &Window,
) {
    let floor = policy::floor(scrape.duration);
    for tier in Tier::BURN_RATE {
        let (Some(own), Some(def)) = (alerting.tier(tier), defaults.tier(tier)) else {
            continue;
        };
        let Some((pairs, span)) = own.windows.as_ref().or(def.windows.as_ref()) else {
            continue;
        };
        for written in pairs {
            let pair = &written.pair;
            let low = [(pair.short, written.short), (pair.long, written.long)]
                .into_iter()
                .find(|(w, _)| *w < floor);
            if let Some((low, at)) = low {
                cx.report(
                    at,
                    Code::WindowBelowFloor,
                    format!(
                        "window {} is shorter than {} (four scrapes at the {} scrape_interval): raised to {}",
                        format_duration(low),
                        format_duration(floor),
                        scrape.text,
                        format_duration(floor)
                    ),
                    format!(
                        "`rate` over fewer than four scrapes sees one sample or none; write windows of at least {}, or set `scrape_interval` to how often Prometheus really scrapes these series",
                        format_duration(floor)
                    ),
                );
            }
            let pair = raised(pair, floor);
            let consumed =
                pair.burn_rate.to_f64() * pair.long.as_secs_f64() / period.duration.as_secs_f64();
            if pair.long > period.duration {
                cx.report(
                    *span,
                    Code::InvalidPolicy,
                    format!(
                        "long window {} is longer than the period {}",
                        format_duration(pair.long),
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
                        format_duration(pair.long),
                        consumed * 100.0,
                        period.text
                    ),
                    "lower the burn rate or shorten the long window",
                );
            }
        }
    }
}

/// A written window pair with both windows at least `floor`.
fn raised(pair: &WindowPair, floor: Duration) -> WindowPair {
    WindowPair {
        long: pair.long.max(floor),
        short: pair.short.max(floor),
        burn_rate: pair.burn_rate,
    }
}

/// The model's alerting of one SLO: its values win over the file's defaults, key by key
/// for labels and annotations; tiers without windows get the default policy for `period`.
pub(crate) fn resolve(
    defaults: &AlertingSpec,
    own: &AlertingSpec,
    service: &str,
    slo: &str,
    period: &Window,
    scrape: &Window,
) -> Alerting {
    let floor = policy::floor(scrape.duration);
    fn merged(a: &Labels, b: &Labels) -> Labels {
        let mut out = a.clone();
        out.extend(b.iter().map(|(k, v)| (k.clone(), v.clone())));
        out
    }
    let tier = |tier: Tier, d: &TierSpec, o: &TierSpec| TierPolicy {
        disabled: o.disabled.or(d.disabled).unwrap_or(false),
        labels: merged(&d.labels, &o.labels),
        annotations: merged(&d.annotations, &o.annotations),
        for_: o.for_.clone().or_else(|| d.for_.clone()),
        windows: o
            .windows
            .as_ref()
            .or(d.windows.as_ref())
            .map(|(w, _)| w.iter().map(|p| raised(&p.pair, floor)).collect())
            .unwrap_or_else(|| policy::default_pairs(tier, period.duration, scrape.duration)),
        confidence: o
            .confidence
            .clone()
            .or_else(|| d.confidence.clone())
            .unwrap_or_default(),
    };
    Alerting {
        name: own
            .name
            .as_ref()
            .map(|(n, _)| n.clone())
            .unwrap_or_else(|| names::default_alert_name(service, slo)),
        disabled: own.disabled.or(defaults.disabled).unwrap_or(false),
        min_events: own.min_events.or(defaults.min_events),
        breakdown: own
            .breakdown
            .as_ref()
            .or(defaults.breakdown.as_ref())
            .map(|(b, _)| b.clone())
            .unwrap_or_default(),
        labels: merged(&defaults.labels, &own.labels),
        annotations: merged(&defaults.annotations, &own.annotations),
        page: tier(Tier::Page, &defaults.page, &own.page),
        ticket: tier(Tier::Ticket, &defaults.ticket, &own.ticket),
        absent: AbsentPolicy {
            disabled: own
                .absent
                .disabled
                .or(defaults.absent.disabled)
                .unwrap_or(false),
            for_: own
                .absent
                .for_
                .clone()
                .or_else(|| defaults.absent.for_.clone()),
            severity: own
                .absent
                .severity
                .clone()
                .or_else(|| defaults.absent.severity.clone())
                .unwrap_or_else(|| "ticket".into()),
            labels: merged(&defaults.absent.labels, &own.absent.labels),
            annotations: merged(&defaults.absent.annotations, &own.absent.annotations),
        },
    }
}
