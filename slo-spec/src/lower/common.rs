//! What every format's lowering shares: names, labels, objectives and periods as read from
//! the spanned tree. Formats share helpers through this module, [`super::alerting`] and
//! [`super::build`], never through each other.

use super::reader::{self, Cx, DurationBounds, Fields};
use crate::diagnostic::{Code, Span};
use crate::model::*;
use crate::names::{self, RESERVED_LABELS};
use crate::yaml::{Key, Node};
use std::time::Duration;

/// Periods shorter than an hour cannot hold the policy's windows; longer than a leap year
/// is not an SLO any team reviews.
pub(crate) const PERIOD_BOUNDS: DurationBounds = DurationBounds {
    min: Duration::from_secs(3600),
    max: Duration::from_secs(366 * 86400),
    unit: "d",
};

/// A scrape interval: Prometheus accepts anything, but below a second nothing scrapes, and
/// above ten minutes a series goes stale between scrapes (the 5m lookback).
pub(crate) const SCRAPE_BOUNDS: DurationBounds = DurationBounds {
    min: Duration::from_secs(1),
    max: Duration::from_secs(600),
    unit: "s",
};

pub(crate) fn default_scrape_interval() -> Window {
    Window {
        duration: Duration::from_secs(60),
        text: DEFAULT_SCRAPE_INTERVAL_TEXT.into(),
    }
}

/// `scrape_interval` (file level or per SLO).
pub(crate) fn scrape_interval(cx: &mut Cx, node: &Node, what: &str) -> Option<Window> {
    reader::duration(cx, node, what, SCRAPE_BOUNDS)
}

pub(crate) fn default_period() -> Window {
    Window {
        duration: Duration::from_secs(30 * 86400),
        text: DEFAULT_PERIOD_TEXT.into(),
    }
}

/// A rolling period (`28d`) or a calendar one (`calendar-month`).
pub(crate) fn period(cx: &mut Cx, node: &Node, what: &str) -> Option<Window> {
    if let crate::yaml::Value::Str(text) = &node.value {
        if let Some(c) = crate::model::Calendar::parse(text) {
            return Some(Window {
                duration: c.nominal(),
                text: text.clone(),
            });
        }
        if text.starts_with("calendar")
            || ["month", "week", "quarter", "monthly", "weekly", "quarterly"]
                .contains(&text.to_ascii_lowercase().as_str())
        {
            let guess = ["week", "month", "quarter"]
                .into_iter()
                .find(|k| text.to_ascii_lowercase().contains(k))
                .unwrap_or("month");
            cx.report(
                node.span,
                Code::BadDuration,
                format!("`{what}` `{text}` is not a period"),
                format!("write `calendar-{guess}` for a period aligned to the calendar (UTC), or a rolling duration such as `30d`"),
            );
            return None;
        }
    }
    reader::duration(cx, node, what, PERIOD_BOUNDS)
}

/// An optional `description` field of `f` (`what` names it in messages); empty when absent,
/// as the peer formats allow.
pub(crate) fn optional_description(cx: &mut Cx, f: &Fields, what: &str) -> Option<String> {
    match f.get("description") {
        Some(n) => reader::string(cx, n, what),
        None => Some(String::new()),
    }
}

/// E021: a peer's feature with no equivalent here, at its position.
pub(crate) fn unsupported(cx: &mut Cx, span: Span, what: &str, help: &str) {
    cx.report(
        span,
        Code::Unsupported,
        format!("{what} is not supported"),
        help,
    );
}

/// [`unsupported`], for a part nothing can be built without: reports it and gives `None`.
pub(crate) fn refused<T>(cx: &mut Cx, span: Span, what: &str, help: &str) -> Option<T> {
    unsupported(cx, span, what, help);
    None
}

/// A service or SLO name: a string that is a slug.
pub(crate) fn slug(cx: &mut Cx, node: &Node, what: &str) -> Option<(String, Span)> {
    let name = reader::string(cx, node, what)?;
    if names::is_slug(&name) {
        return Some((name, node.span));
    }
    cx.report(
        node.span,
        Code::InvalidName,
        format!("{what} `{name}` is not a valid name"),
        format!(
            "use lowercase letters, digits and inner dashes, at most 63 characters, e.g. `{}`",
            names::suggest_slug(&name)
        ),
    );
    None
}

/// Notes a service the file declares (for the summary), whatever else is wrong with it.
pub(crate) fn declare(cx: &mut Cx, f: &Fields, key: &str) {
    if let Some(name) = f.get(key).and_then(|n| match &n.value {
        crate::yaml::Value::Str(s) => Some(s.clone()),
        _ => None,
    }) {
        cx.declared.insert(name);
    }
}

/// The required slug field `key` of the mapping `f` (`in_what` names the mapping).
pub(crate) fn required_slug(
    cx: &mut Cx,
    f: &Fields,
    key: &str,
    in_what: &str,
    what: &str,
) -> Option<(String, Span)> {
    f.require(cx, key, in_what).and_then(|n| slug(cx, n, what))
}

/// The SLO's required `objective` field.
pub(crate) fn required_objective(cx: &mut Cx, f: &Fields) -> Option<Objective> {
    f.require(cx, "objective", "the SLO")
        .and_then(|n| objective(cx, n))
}

/// An objective in percent (`99.9`), kept with the text written.
pub(crate) fn objective(cx: &mut Cx, node: &Node) -> Option<Objective> {
    let (percent, text) = reader::number(cx, node, "objective")?;
    let help = "the objective is a percentage of good events: write 99.9 for 99.9%";
    percent_objective(cx, percent, text, node.span, Scale::Percent, help)
}

/// How a format wrote the objective it hands to [`percent_objective`].
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scale {
    /// The user wrote a percentage (`99.9`).
    Percent,
    /// The user wrote a ratio (`0.999`), converted to a percentage by the format.
    Ratio,
}

/// Objectives below this are allowed but unusual enough to say so (W004).
const USUAL_OBJECTIVE: f64 = 90.0;

/// Checks a percentage. A percentage written at or below 1 is almost always a ratio
/// meant as one (`0.999` for 99.9%): it would give a budget of over 99% and alerts that
/// never fire, so it is refused with the percentage meant.
pub(crate) fn percent_objective(
    cx: &mut Cx,
    percent: f64,
    text: String,
    span: Span,
    scale: Scale,
    help: &str,
) -> Option<Objective> {
    let unit = if scale == Scale::Ratio { "%" } else { "" };
    if !(percent > 0.0 && percent < 100.0) {
        cx.report(
            span,
            Code::ObjectiveOutOfRange,
            format!(
                "objective must be between 0{unit} and 100{unit} (exclusive), got {text}{unit}"
            ),
            help,
        );
        return None;
    }
    if scale == Scale::Percent && percent <= 1.0 {
        let meant = crate::decimal::Decimal::parse(&text)
            .and_then(|d| d.checked_mul(crate::decimal::Decimal::from_int(100)))
            .filter(|d| d.to_f64() < 100.0);
        let help = match meant {
            Some(m) => format!("objectives are percentages: write `{m}` for {m}%"),
            None => "objectives are percentages of good events: write e.g. `99.9` for 99.9%".into(),
        };
        cx.report(
            span,
            Code::ObjectiveOutOfRange,
            format!("objective {text} means {text}% of events good, so alerts would never fire"),
            help,
        );
        return None;
    }
    if percent < USUAL_OBJECTIVE {
        cx.report(
            span,
            Code::UnusualObjective,
            format!(
                "objective {text}% is unusually low: it lets {}% of events fail",
                crate::decimal::Decimal::from_int(100)
                    .checked_sub(
                        crate::decimal::Decimal::parse(&text)
                            .unwrap_or(crate::decimal::Decimal::ONE)
                    )
                    .map(|d| d.to_string())
                    .unwrap_or_default()
            ),
            "most SLOs are between 90% and 99.99%; keep it if you mean it",
        );
    }
    Some(Objective {
        percent,
        text,
        span,
    })
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
        if !names::is_label_name(&key.name) || key.name.starts_with("__") {
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

/// A labels mapping read from `node`: `lenient` takes numbers and booleans as their text
/// (Sloth's and OpenSLO's Go loaders do).
pub(crate) fn label_map(
    cx: &mut Cx,
    node: &Node,
    what: &str,
    lenient: bool,
    allow: &[&str],
) -> Labels {
    let entries = reader::string_map(cx, node, what, lenient);
    labels(cx, entries, what, allow)
}

/// Annotations: names must be label names; values are free text (and may be templates).
pub(crate) fn annotations(cx: &mut Cx, node: &Node, what: &str, lenient: bool) -> Labels {
    let mut out = Labels::new();
    for (key, value, _) in reader::string_map(cx, node, what, lenient) {
        if names::is_label_name(&key.name) {
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

/// `group_by`: distinct label names the generated rules may use, none of them reserved.
pub(crate) fn group_by(cx: &mut Cx, node: Option<&Node>) -> Option<Vec<String>> {
    match node {
        None => Some(Vec::new()),
        Some(node) => label_list(
            cx,
            node,
            "group_by",
            "list the label names to split the SLO by, e.g. `[provider]`, or remove the field",
        ),
    }
}

/// A non-empty list of distinct label names the generated rules may use (`group_by`,
/// `alerting.breakdown`), none of them reserved; `empty` is the help for an empty list.
pub(crate) fn label_list(cx: &mut Cx, node: &Node, what: &str, empty: &str) -> Option<Vec<String>> {
    let items = reader::list(cx, node, what)?;
    if items.is_empty() {
        cx.report(
            node.span,
            Code::MissingField,
            format!("`{what}` is empty"),
            empty,
        );
        return None;
    }
    let mut out: Vec<String> = Vec::new();
    let mut ok = true;
    for item in items {
        let Some(name) = reader::string(cx, item, what) else {
            ok = false;
            continue;
        };
        let problem = if !names::is_label_name(&name) || name.starts_with("__") {
            Some((
                format!("`{name}` is not a valid Prometheus label name"),
                "label names match [a-zA-Z_][a-zA-Z0-9_]* and must not start with `__`".to_string(),
            ))
        } else if RESERVED_LABELS.contains(&name.as_str()) {
            Some((
                format!("`{name}` is set by the generated rules and cannot be used in `{what}`"),
                format!("reserved label names are: {}", RESERVED_LABELS.join(", ")),
            ))
        } else if out.contains(&name) {
            Some((
                format!("`{name}` is listed twice in `{what}`"),
                "list it once".into(),
            ))
        } else {
            None
        };
        match problem {
            Some((message, help)) => {
                cx.report(item.span, Code::InvalidLabelName, message, help);
                ok = false;
            }
            None => out.push(name),
        }
    }
    ok.then_some(out)
}
