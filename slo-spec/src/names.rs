//! Rules for names Prometheus and this toolkit accept: services, SLOs, labels, alerts,
//! metrics, and durations.

use crate::diagnostic::{Code, Span};
use crate::model::Labels;
use crate::reader::Cx;
use crate::yaml::Key;
use std::time::Duration;

/// Labels the generated rules set themselves; a spec may not set them.
pub const RESERVED_LABELS: &[&str] = &[
    "service",
    "slo",
    "owner",
    "severity",
    "slo_tier",
    "alertname",
    "sli_window",
];

/// `[a-z0-9-]+`, at most 63 characters: service and SLO names end up in rule group names,
/// label values, dashboard uids and file names.
pub(crate) fn slug(cx: &mut Cx, name: &str, span: Span, what: &str) -> bool {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if !ok {
        cx.report(
            span,
            Code::InvalidName,
            format!("{what} `{name}` is not a valid name"),
            format!(
                "use lowercase letters, digits and inner dashes, at most 63 characters, e.g. `{}`",
                suggest_slug(name)
            ),
        );
    }
    ok
}

fn suggest_slug(name: &str) -> String {
    let s: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let s = s.trim_matches('-').to_string();
    if s.is_empty() {
        "my-name".into()
    } else {
        s.chars().take(63).collect()
    }
}

pub fn is_label_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

pub fn is_metric_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_' || b == b':')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
}

/// Checks label names and values and collects them. `allow` lists reserved names this
/// map may override (page/ticket labels may set `severity`).
pub(crate) fn labels(
    cx: &mut Cx,
    entries: Vec<(Key, String, Span)>,
    what: &str,
    allow: &[&str],
) -> Labels {
    let mut out = Labels::new();
    for (key, value, value_span) in entries {
        let mut ok = true;
        if !is_label_name(&key.name) || key.name.starts_with("__") {
            ok = false;
            cx.report(
                key.span,
                Code::InvalidLabelName,
                format!("`{}` is not a valid Prometheus label name", key.name),
                "label names match [a-zA-Z_][a-zA-Z0-9_]* and must not start with `__`",
            );
        } else if RESERVED_LABELS.contains(&key.name.as_str())
            && !allow.contains(&key.name.as_str())
        {
            ok = false;
            cx.report(
                key.span,
                Code::InvalidLabelName,
                format!(
                    "label `{}` in {what} is set by the generated rules",
                    key.name
                ),
                format!(
                    "rename it; reserved label names are: {}",
                    RESERVED_LABELS.join(", ")
                ),
            );
        }
        if value.is_empty() {
            ok = false;
            cx.report(
                value_span,
                Code::InvalidLabelValue,
                format!("label `{}` has an empty value", key.name),
                "Prometheus drops labels with empty values; give a value or remove the label",
            );
        } else if value.contains("{{") || value.contains("}}") {
            ok = false;
            cx.report(
                value_span,
                Code::InvalidLabelValue,
                format!("label `{}` contains template braces", key.name),
                "label values are fixed; put templated text in annotations",
            );
        }
        if ok {
            out.insert(key.name, value);
        }
    }
    out
}

/// Annotations: names must be label names; values are free text (and may be templates).
pub(crate) fn annotations(cx: &mut Cx, entries: Vec<(Key, String, Span)>) -> Labels {
    let mut out = Labels::new();
    for (key, value, _) in entries {
        if is_label_name(&key.name) {
            out.insert(key.name, value);
        } else {
            cx.report(
                key.span,
                Code::InvalidLabelName,
                format!("`{}` is not a valid annotation name", key.name),
                "annotation names match [a-zA-Z_][a-zA-Z0-9_]*",
            );
        }
    }
    out
}

/// Parses a Prometheus duration (`30d`, `4w`, `1h30m`, `300ms`). Bare numbers are refused:
/// Prometheus would read them as seconds, which is never what a spec author means.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let shape_ok = !t.is_empty()
        && t.bytes()
            .all(|b| b.is_ascii_digit() || b"smhdwy".contains(&b))
        && t.bytes().next().is_some_and(|b| b.is_ascii_digit())
        && !t.bytes().last().is_some_and(|b| b.is_ascii_digit());
    if !shape_ok || t.len() > 32 {
        return Err(format!("`{text}` is not a duration"));
    }
    promql_parser::util::parse_duration(t).map_err(|e| format!("`{text}` is not a duration: {e}"))
}

/// A duration field within bounds; reports and returns `None` otherwise.
pub(crate) fn duration(
    cx: &mut Cx,
    text: &str,
    span: Span,
    what: &str,
    min: Duration,
    max: Duration,
) -> Option<Duration> {
    match parse_duration(text) {
        Ok(d) if d >= min && d <= max => Some(d),
        Ok(_) => {
            cx.report(
                span,
                Code::BadDuration,
                format!(
                    "`{what}` must be between {} and {}, got `{text}`",
                    promql_parser::util::display_duration(&min),
                    promql_parser::util::display_duration(&max)
                ),
                "",
            );
            None
        }
        Err(msg) => {
            cx.report(
                span,
                Code::BadDuration,
                format!("invalid `{what}`: {msg}"),
                "write a number with a unit: ms, s, m, h, d, w (e.g. `30d`, `300ms`, `15m`)",
            );
            None
        }
    }
}

/// The alert name used when a spec gives none: `payments` + `webhook-availability` ->
/// `PaymentsWebhookAvailability`.
pub fn default_alert_name(service: &str, slo: &str) -> String {
    let mut out = String::new();
    for part in service.split('-').chain(slo.split('-')) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'S');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let cases = [
            ("30d", Some(30 * 86400)),
            ("4w", Some(28 * 86400)),
            ("1h30m", Some(5400)),
            ("12h", Some(43200)),
            ("0d", None),
            ("30", None),
            ("-1d", None),
            ("1.5h", None),
            ("inf", None),
            ("d", None),
            ("5x", None),
            ("", None),
            ("99999999999999999999d", None),
        ];
        for (text, want) in cases {
            assert_eq!(
                parse_duration(text).ok().map(|d| d.as_secs()),
                want,
                "{text}"
            );
        }
        assert_eq!(parse_duration("300ms").unwrap().as_millis(), 300);
    }

    #[test]
    fn alert_names() {
        assert_eq!(
            default_alert_name("payments", "webhook-availability"),
            "PaymentsWebhookAvailability"
        );
        assert_eq!(
            default_alert_name("tax-sync", "erp-freshness"),
            "TaxSyncErpFreshness"
        );
        assert_eq!(default_alert_name("3ds", "a"), "S3dsA");
    }

    #[test]
    fn label_and_metric_names() {
        for (name, label, metric) in [
            ("tier", true, true),
            ("_x1", true, true),
            ("a:b", false, true),
            ("1a", false, false),
            ("a-b", false, false),
            ("", false, false),
        ] {
            assert_eq!(is_label_name(name), label, "{name}");
            assert_eq!(is_metric_name(name), metric, "{name}");
        }
    }
}
