//! Budget exclusions: time taken out of an SLO's budget (planned maintenance, an incident
//! credited elsewhere), counted neither good nor bad. A weekly window (UTC) or a one-off
//! interval; every consumer (the rules, the offline evaluator, the report) asks the same
//! two questions of it: is an evaluation at `t` excluded, and which intervals of a range
//! are.
//!
//! An evaluation adds what happened since the previous one, so an evaluation at `t` is
//! excluded when `from < t <= to`: the additions skipped are those covering `(from, to]`.

use crate::diagnostic::Span;
use std::time::Duration;

/// Seconds in a week.
pub const WEEK_S: i64 = 604_800;
/// 1970-01-05T00:00:00Z, the first Monday of the Unix epoch: weeks are counted from it.
pub const FIRST_MONDAY_S: i64 = 345_600;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exclusion {
    /// Why the time does not count: shown in reports beside the minutes it took.
    pub reason: String,
    pub span: Span,
    pub when: When,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum When {
    /// Every week on `day`, from `from` to `to` minutes after midnight UTC (`to` may be
    /// 1440, the end of the day).
    Weekly { day: Weekday, from: u32, to: u32 },
    /// Once, between two instants (Unix seconds), with the text as written.
    Once {
        from: i64,
        to: i64,
        from_text: String,
        to_text: String,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Weekday {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl Weekday {
    pub const ALL: [Weekday; 7] = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Weekday::Monday => "monday",
            Weekday::Tuesday => "tuesday",
            Weekday::Wednesday => "wednesday",
            Weekday::Thursday => "thursday",
            Weekday::Friday => "friday",
            Weekday::Saturday => "saturday",
            Weekday::Sunday => "sunday",
        }
    }

    pub fn parse(text: &str) -> Option<Weekday> {
        Weekday::ALL.into_iter().find(|d| d.as_str() == text)
    }

    /// Days after Monday.
    pub fn index(self) -> i64 {
        self as i64
    }
}

/// `HH:MM` of a count of minutes after midnight.
pub fn clock_text(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

impl When {
    /// How long one occurrence lasts.
    pub fn length(&self) -> Duration {
        let secs = match *self {
            When::Weekly { from, to, .. } => i64::from(to - from) * 60,
            When::Once { from, to, .. } => to - from,
        };
        Duration::from_secs(secs.max(0) as u64)
    }

    /// For a weekly window: the seconds `A` that make `(t + A) mod WEEK_S` the time since
    /// the occurrence of the week started (non-negative for any `t >= 0`).
    pub fn weekly_shift(&self) -> Option<i64> {
        match *self {
            When::Weekly { day, from, .. } => {
                let start = FIRST_MONDAY_S + day.index() * 86_400 + i64::from(from) * 60;
                Some((-start).rem_euclid(WEEK_S))
            }
            When::Once { .. } => None,
        }
    }

    /// Whether an evaluation at `t_ms` (Unix milliseconds) is excluded: `from < t <= to`.
    pub fn covers(&self, t_ms: i64) -> bool {
        match *self {
            When::Once { from, to, .. } => from * 1000 < t_ms && t_ms <= to * 1000,
            When::Weekly { from, to, .. } => {
                let shift = self.weekly_shift().unwrap_or(0) * 1000;
                let since = (t_ms + shift).rem_euclid(WEEK_S * 1000);
                since > 0 && since <= i64::from(to - from) * 60_000
            }
        }
    }

    /// The occurrences `[start, end)` (Unix seconds) that overlap `[from, to)`, clipped to it.
    pub fn intervals(&self, from: i64, to: i64) -> Vec<(i64, i64)> {
        let clip = |a: i64, b: i64| (a.max(from) < b.min(to)).then_some((a.max(from), b.min(to)));
        match *self {
            When::Once { from: a, to: b, .. } => clip(a, b).into_iter().collect(),
            When::Weekly { .. } => {
                let shift = self.weekly_shift().unwrap_or(0);
                let len = self.length().as_secs() as i64;
                // The occurrence starting at or before `from`, then one a week.
                let mut start = from - (from + shift).rem_euclid(WEEK_S);
                let mut out = Vec::new();
                while start < to {
                    out.extend(clip(start, start + len));
                    start += WEEK_S;
                }
                out
            }
        }
    }
}

impl Exclusion {
    pub fn covers(&self, t_ms: i64) -> bool {
        self.when.covers(t_ms)
    }
}

/// Whether any of `exclusions` excludes an evaluation at `t_ms`.
pub fn excluded(exclusions: &[Exclusion], t_ms: i64) -> bool {
    exclusions.iter().any(|e| e.covers(t_ms))
}

/// Every occurrence of `exclusions` within `[from, to)` (Unix seconds), clipped to it,
/// by start.
pub fn occurrences(exclusions: &[Exclusion], from: i64, to: i64) -> Vec<(i64, i64, &Exclusion)> {
    let mut out: Vec<(i64, i64, &Exclusion)> = exclusions
        .iter()
        .flat_map(|e| {
            e.when
                .intervals(from, to)
                .into_iter()
                .map(move |(a, b)| (a, b, e))
        })
        .collect();
    out.sort_by_key(|&(a, b, _)| (a, b));
    out
}

/// The parts of `[from, to)` (Unix seconds) outside every exclusion, in order.
pub fn included(exclusions: &[Exclusion], from: i64, to: i64) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    let mut at = from;
    for (a, b, _) in occurrences(exclusions, from, to) {
        if a > at {
            out.push((at, a));
        }
        at = at.max(b);
    }
    if at < to {
        out.push((at, to));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weekly(day: Weekday, from: u32, to: u32) -> When {
        When::Weekly { day, from, to }
    }

    #[test]
    fn a_weekly_window_covers_its_hours_every_week_from_the_epoch_on() {
        // Sunday 02:00-04:00 UTC. 1970-01-04 was a Sunday.
        let w = weekly(Weekday::Sunday, 120, 240);
        let sunday = 3 * 86_400;
        let at = |s: i64| w.covers(s * 1000);
        assert!(
            !at(sunday + 7200),
            "the start itself adds what came before it"
        );
        assert!(at(sunday + 7201));
        assert!(at(sunday + 14_400), "the end adds the last of the window");
        assert!(!at(sunday + 14_401));
        assert!(
            at(sunday + 7200 + 52 * WEEK_S + 60),
            "a year of Sundays later"
        );
        assert!(!at(sunday + 86_400 + 7300), "Monday");
        // 2026-10-11 was a Sunday.
        let oct11 = 1_791_676_800;
        assert!(at(oct11 + 3 * 3600));
        assert_eq!(
            w.intervals(oct11 - 86_400, oct11 + 8 * 86_400),
            vec![
                (oct11 + 7200, oct11 + 14_400),
                (oct11 + WEEK_S + 7200, oct11 + WEEK_S + 14_400)
            ]
        );
        assert_eq!(
            w.intervals(oct11 + 10_000, oct11 + 10_100),
            vec![(oct11 + 10_000, oct11 + 10_100)],
            "clipped to the range"
        );
    }

    #[test]
    fn the_end_of_the_week_wraps_to_monday() {
        let w = weekly(Weekday::Sunday, 22 * 60, 1440);
        let monday = FIRST_MONDAY_S + WEEK_S;
        assert!(w.covers(monday * 1000), "Monday 00:00 ends Sunday's window");
        assert!(!w.covers(monday * 1000 + 1));
        assert!(w.covers((monday - 60) * 1000));
    }

    #[test]
    fn included_parts_leave_out_every_exclusion() {
        let once = |a, b| Exclusion {
            reason: "r".into(),
            span: Span::default(),
            when: When::Once {
                from: a,
                to: b,
                from_text: String::new(),
                to_text: String::new(),
            },
        };
        let ex = [once(10, 20), once(30, 40), once(35, 50)];
        assert_eq!(included(&ex, 0, 100), vec![(0, 10), (20, 30), (50, 100)]);
        assert_eq!(included(&ex, 15, 32), vec![(20, 30)]);
        assert_eq!(included(&[], 0, 5), vec![(0, 5)]);
        assert!(excluded(&ex, 11_000) && !excluded(&ex, 10_000) && excluded(&ex, 20_000));
    }
}
