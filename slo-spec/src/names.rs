//! Rules for names Prometheus and this toolkit accept (services, SLOs, labels, alerts,
//! metrics) and duration text. Pure predicates; the loader reports what they refuse.

use std::cell::RefCell;
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

/// `[a-z0-9-]+`, at most 63 characters, no dash at either end: service and SLO names end
/// up in rule group names, label values, dashboard uids and file names.
pub fn is_slug(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// A slug close to `name`, for the help line of an invalid one.
pub fn suggest_slug(name: &str) -> String {
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

/// Prometheus duration text: `5m`, `1h`, `4w`, `4m40s`, as rules and promtool print it.
/// Remembered per thread: the rules of 10,000 SLOs print about two million durations, of a
/// few dozen values (a short list searched in order beats hashing them).
pub fn format_duration(d: Duration) -> String {
    /// Enough for every window, lookback and `for` of a large spec set; past it, printed.
    const REMEMBERED: usize = 64;
    thread_local! {
        static PRINTED: RefCell<Vec<(Duration, String)>> = const { RefCell::new(Vec::new()) };
    }
    PRINTED.with_borrow_mut(|printed| {
        if let Some((_, text)) = printed.iter().find(|(seen, _)| *seen == d) {
            return text.clone();
        }
        let text = promql_parser::util::display_duration(&d);
        if printed.len() < REMEMBERED {
            printed.push((d, text.clone()));
        }
        text
    })
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
