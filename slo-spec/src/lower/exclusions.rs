//! `exclusions:` of a v1 file and of its SLOs: weekly windows (UTC) and one-off intervals,
//! each with a reason. Checked where they are written: a window that ends before it
//! starts, an unknown day, a time that is not one, a window longer than the SLO's period,
//! and two exclusions that overlap (the file's and the SLO's together) are errors.

use super::reader::{self, fields, Cx};
use crate::diagnostic::Code;
use crate::exclusion::{clock_text, Exclusion, Weekday, When};
use crate::model::Window;
use crate::names::format_duration;
use crate::yaml::Node;

/// Exclusions one SLO may hold (the file's and its own): each is a term of the rules'
/// base expressions and checked against every other.
pub const MAX_EXCLUSIONS: usize = 200;

pub(crate) const EXCLUSION_FIELDS: &[&str] = &["reason", "weekly", "from", "to"];
pub(crate) const WEEKLY_FIELDS: &[&str] = &["day", "from", "to"];

const HELP_ONE_KIND: &str =
    "write either `weekly: {day: sunday, from: \"02:00\", to: \"04:00\"}` or `from:` and `to:` as RFC 3339 times (`2026-10-10T10:00:00Z`)";

/// The list under `exclusions:`, every fault reported: the items that were read, and
/// whether all of them were.
pub(crate) fn read(cx: &mut Cx, node: &Node) -> (Vec<Exclusion>, bool) {
    let Some(items) = reader::list(cx, node, "exclusions") else {
        return (Vec::new(), false);
    };
    let read: Vec<Option<Exclusion>> = items.iter().map(|n| item(cx, n)).collect();
    let ok = read.iter().all(Option::is_some);
    (read.into_iter().flatten().collect(), ok)
}

fn item(cx: &mut Cx, node: &Node) -> Option<Exclusion> {
    let f = fields(cx, node, "an exclusion", EXCLUSION_FIELDS)?;
    let reason = f
        .require(cx, "reason", "the exclusion")
        .and_then(|n| reader::string(cx, n, "reason"))
        .and_then(|r| {
            if r.trim().is_empty() {
                cx.report(
                    f.span,
                    Code::InvalidExclusion,
                    "the exclusion's `reason` is empty",
                    "say why this time does not count (a ticket, a contract clause): reports show it beside the minutes",
                );
                return None;
            }
            Some(r)
        });
    let when = match (f.get("weekly"), f.get("from"), f.get("to")) {
        (Some(w), None, None) => weekly(cx, w),
        (None, Some(a), Some(b)) => once(cx, a, b),
        (None, None, None) => {
            cx.report(
                f.span,
                Code::InvalidExclusion,
                "the exclusion says no time",
                HELP_ONE_KIND,
            );
            None
        }
        (Some(_), _, _) | (None, Some(_), None) | (None, None, Some(_)) => {
            cx.report(
                f.span,
                Code::InvalidExclusion,
                "an exclusion is either `weekly` or a `from`..`to` interval",
                HELP_ONE_KIND,
            );
            None
        }
    };
    Some(Exclusion {
        reason: reason?,
        span: f.span,
        when: when?,
    })
}

fn weekly(cx: &mut Cx, node: &Node) -> Option<When> {
    let f = fields(cx, node, "weekly", WEEKLY_FIELDS)?;
    let day = f.require(cx, "day", "weekly").and_then(|n| {
        let text = reader::string(cx, n, "day")?;
        let day = Weekday::parse(&text.to_lowercase());
        if day.is_none() {
            let names: Vec<&str> = Weekday::ALL.iter().map(|d| d.as_str()).collect();
            let help = match reader::did_you_mean(&text, &names) {
                Some(d) => format!("did you mean `{d}`?"),
                None => format!("write one of {}", names.join(", ")),
            };
            cx.report(
                n.span,
                Code::InvalidExclusion,
                format!("`{text}` is not a day of the week"),
                help,
            );
        }
        day
    });
    let from = f
        .require(cx, "from", "weekly")
        .and_then(|n| clock(cx, n, "from"));
    let to = f
        .require(cx, "to", "weekly")
        .and_then(|n| clock(cx, n, "to"));
    let (day, from, to) = (day?, from?, to?);
    if to <= from {
        cx.report(
            f.span,
            Code::InvalidExclusion,
            format!(
                "the weekly window ends at {} before it starts at {}",
                clock_text(to),
                clock_text(from)
            ),
            "write `to` after `from` on the same day; a window across midnight is two exclusions (the second on the next day from \"00:00\"), and \"24:00\" ends a day",
        );
        return None;
    }
    Some(When::Weekly { day, from, to })
}

/// `HH:MM` (UTC), `24:00` for the end of the day: minutes after midnight.
fn clock(cx: &mut Cx, node: &Node, what: &str) -> Option<u32> {
    let text = reader::lenient_string(cx, node, what)?;
    let parsed = text.split_once(':').and_then(|(hh, mm)| {
        let (h, m): (u32, u32) = (hh.parse().ok()?, mm.parse().ok()?);
        (hh.len() == 2 && mm.len() == 2 && (h < 24 && m < 60 || h == 24 && m == 0))
            .then_some(h * 60 + m)
    });
    if parsed.is_none() {
        cx.report(
            node.span,
            Code::InvalidExclusion,
            format!("`{what}` `{text}` is not a time of day"),
            "write HH:MM in UTC, quoted: \"02:00\" (\"24:00\" ends the day)",
        );
    }
    parsed
}

fn once(cx: &mut Cx, from: &Node, to: &Node) -> Option<When> {
    let a = instant(cx, from, "from");
    let b = instant(cx, to, "to");
    let ((from_s, from_text), (to_s, to_text)) = (a?, b?);
    if to_s <= from_s {
        cx.report(
            to.span,
            Code::InvalidExclusion,
            format!("the exclusion ends at {to_text}, not after it starts at {from_text}"),
            "write `to` after `from`",
        );
        return None;
    }
    Some(When::Once {
        from: from_s,
        to: to_s,
        from_text,
        to_text,
    })
}

/// An RFC 3339 instant with its offset (`2026-10-10T10:00:00Z`): Unix seconds and the text.
fn instant(cx: &mut Cx, node: &Node, what: &str) -> Option<(i64, String)> {
    let text = reader::string(cx, node, what)?;
    match text.parse::<jiff::Timestamp>() {
        Ok(t) if t.subsec_nanosecond() == 0 && t.as_second() >= 0 => Some((t.as_second(), text)),
        Ok(_) => {
            cx.report(
                node.span,
                Code::InvalidExclusion,
                format!("`{what}` `{text}` is before 1970 or not on a whole second"),
                "write a time such as 2026-10-10T10:00:00Z",
            );
            None
        }
        Err(e) => {
            cx.report(
                node.span,
                Code::InvalidExclusion,
                format!("`{what}` `{text}` is not an RFC 3339 time: {e}"),
                "write the date, the time and the offset: 2026-10-10T10:00:00Z",
            );
            None
        }
    }
}

/// The file's exclusions and the SLO's own, checked together against the SLO's period:
/// none longer than it, no two overlapping (reported at the later one). `read_ok`: the
/// SLO's list was read whole (its faults are reported; the rest is still checked).
pub(crate) fn merge(
    cx: &mut Cx,
    file: &[Exclusion],
    (own, read_ok): (Vec<Exclusion>, bool),
    period: &Window,
) -> Option<Vec<Exclusion>> {
    let all: Vec<Exclusion> = file.iter().cloned().chain(own).collect();
    if all.len() > MAX_EXCLUSIONS {
        cx.report(
            all[MAX_EXCLUSIONS].span,
            Code::InvalidExclusion,
            format!(
                "the SLO has {} exclusions, more than {MAX_EXCLUSIONS}",
                all.len()
            ),
            "remove one-off exclusions of periods no report reads any more; each one is a term of every base rule",
        );
        return None;
    }
    let mut ok = read_ok;
    for (i, e) in all.iter().enumerate() {
        if e.when.length() > period.duration {
            cx.report(
                e.span,
                Code::InvalidExclusion,
                format!(
                    "the exclusion lasts {}, longer than the SLO's period `{}`",
                    format_duration(e.when.length()),
                    period.text
                ),
                "an exclusion longer than the period leaves nothing to measure: shorten it, or leave the period out of the report",
            );
            ok = false;
        }
        if let Some(first) = all[..i].iter().find(|f| overlap(f, e)) {
            cx.report(
                e.span,
                Code::OverlappingExclusions,
                format!(
                    "this exclusion overlaps the one at line {} (`{}`)",
                    first.span.line, first.reason
                ),
                "excluded time is counted once: merge them into one exclusion or move one so they do not meet",
            );
            ok = false;
        }
    }
    ok.then_some(all)
}

fn overlap(a: &Exclusion, b: &Exclusion) -> bool {
    match (&a.when, &b.when) {
        (
            When::Weekly { day, from, to },
            When::Weekly {
                day: d2,
                from: f2,
                to: t2,
            },
        ) => day == d2 && from < t2 && f2 < to,
        (When::Once { from, to, .. }, other) | (other, When::Once { from, to, .. }) => {
            !other.intervals(*from, *to).is_empty()
        }
    }
}
