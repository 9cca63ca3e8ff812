//! Running totals and the windows read from them: what makes every window cost the same
//! few samples whatever its length, and what carries the counts over gaps.
//!
//! Each evaluation adds the base rate times the time since the previous one to a total
//! (`slo:sli_events:total`). Reading the previous total and time through probes a
//! lookback apart finds them across a gap of up to an hour (a restart); after a longer
//! gap the resume group says where to continue (a five-minute or daily checkpoint). A
//! total starts from zero only where none was kept for longer than any window (a sparse
//! marker says so at the cost of a sample or two). Adding time-since-last rather than the interval keeps
//! the totals whole on an engine that reads its own writes late (vmalert on
//! VictoriaMetrics's default `-search.latencyOffset=30s`): each addition covers what the
//! previous one it saw did not.
//!
//! A window is the total now less the total at the window's start: the one at or just
//! before it, or within a gap the five-minute checkpoint before it, or, where the totals
//! resumed inside the window, the resume point when that is lower (a total written just
//! before a gap and not carried over).

use super::{record, Rule};
use crate::names::series::{self, Count};
use slo_eval::plan::{CHECKPOINT_EVERY, CHECKPOINT_LOOKBACK, DAY, REACH};
use slo_eval::Plan;
use slo_spec::names::format_duration;
use slo_spec::Calendar;
use std::collections::BTreeMap;
use std::time::Duration;

type Labels = BTreeMap<String, String>;

/// Tells the two kinds of resume point apart, so two rules never record the same series:
/// `start` where the totals start from zero (the fast group), `checkpoint` where they
/// continue after a long gap (the resume group). Readers drop it.
const RESUME_LABEL: &str = "slo_resume";

/// The latest sample of `name` within the last hour: how far a total reaches back over a
/// gap (a restart, an upgrade) and carries on exactly. A range, not a plain selector, so a
/// staleness marker (written when a group's series vanish for a while) is skipped.
fn latest(name: &str, sel: &str) -> String {
    format!("last_over_time({name}{sel}[{}])", format_duration(REACH))
}

/// The time since the last evaluation, the totals, the marker of where they started, the
/// time, and the checkpoints, in the order the rules must run. A total that is not a
/// number (a NaN from a query) is not recorded, so the next evaluation carries on from the
/// last good one.
pub fn totals(plan: &Plan, sel: &str, ids: &Labels) -> Vec<Rule> {
    let interval = plan.interval.as_secs();
    let mut rules = vec![
        record(
            series::TOTALS_INTERVAL,
            // The last evaluation seen within the lookback (5m): across a longer gap the
            // first addition covers one interval, as the base rate then sees little.
            format!(
                "time() - min({}{sel} or vector(time() - {interval}))",
                series::TOTALS_TIME,
            ),
            ids,
        ),
        record(series::TOTALS_TIME, "vector(time())".into(), ids),
    ];
    rules.extend(Count::BOTH.into_iter().map(|c| {
        let total = series::total(c);
        record(
            total,
            format!(
                "(\n  (\n    {}\n    or {}\n  )\n  +\n  {}{sel} * scalar(max({}{sel} or vector({interval})))\n)\n>= 0",
                latest(total, sel),
                previous(plan, c, sel),
                series::rate(c, plan.base),
                series::TOTALS_INTERVAL,
            ),
            ids,
        )
    }));
    let (seen, total) = (series::TOTALS_SEEN, series::total(Count::Events));
    // Where the totals just started from zero (nothing seen for long), a resume point of
    // 0 at this evaluation: windows reaching back before it count from it. The resume
    // group writes the other resume points; the two never meet (see `previous`).
    let mut start = ids.clone();
    start.insert(RESUME_LABEL.into(), "start".into());
    for c in Count::BOTH {
        rules.push(record(
            series::resume(c),
            format!(
                "0 * {}{sel} unless last_over_time({seen}{sel}[{}])",
                series::rate(c, plan.base),
                format_duration(plan.daily_lookback * 2),
            ),
            &start,
        ));
    }
    rules.push(record(
        seen,
        format!(
            "(0 * {total}{sel} unless last_over_time({seen}{sel}[{}]))\nor\n(0 * {total}{sel} + 1 unless last_over_time({seen}{sel}[{}]))",
            format_duration(plan.daily_lookback * 2),
            format_duration(plan.daily_lookback),
        ),
        ids,
    ));
    for every in [CHECKPOINT_EVERY, DAY] {
        for c in Count::BOTH {
            rules.push(record(
                series::checkpoint(c, every),
                format!(
                    "{}{sel} and on() (vector(time()) % {} < {interval})",
                    series::total(c),
                    every.as_secs()
                ),
                ids,
            ));
        }
    }
    rules
}

/// Where a total not found within its reach continues: where the resume group says (after
/// a longer gap: it needs a checkpoint within the daily lookback, so the totals were kept
/// then and `slo:sli_totals:seen` lies within twice that: never where the next branch
/// applies), or zero where no total was kept for longer than any window.
fn previous(plan: &Plan, c: Count, sel: &str) -> String {
    format!(
        "max without ({RESUME_LABEL}) (last_over_time({}{sel}[{}]))\n    or (0 * {}{sel} unless last_over_time({}{sel}[{}]))",
        series::resume(c),
        format_duration(REACH),
        series::rate(c, plan.base),
        series::TOTALS_SEEN,
        format_duration(plan.daily_lookback * 2),
    )
}

/// The resume group's rule for one total: where it continues when no total is found
/// within the probes' reach (an hour: read here over a range, which costs what it costs
/// only every five minutes): the latest checkpoint, for the groups that have a base rate
/// now. Windows start from the lowest resume point inside them.
pub fn resume(plan: &Plan, c: Count, sel: &str, ids: &Labels) -> Rule {
    let rate = format!("{}{sel}", series::rate(c, plan.base));
    let mut labels = ids.clone();
    labels.insert(RESUME_LABEL.into(), "checkpoint".into());
    record(
        series::resume(c),
        format!(
            "(\n  (\n    last_over_time({}{sel}[{}])\n    or last_over_time({}{sel}[{}])\n  )\n  and {rate}\n)\nunless\nlast_over_time({}{sel}[{}])",
            series::checkpoint(c, CHECKPOINT_EVERY),
            format_duration(CHECKPOINT_LOOKBACK),
            series::checkpoint(c, DAY),
            format_duration(plan.daily_lookback),
            series::total(c),
            format_duration(REACH),
        ),
        &labels,
    )
}

/// The total at the start of `window`: the last one within five minutes before it (a
/// range, so a staleness marker is skipped), or in a gap the five-minute checkpoint up to
/// an hour before it; the lowest resume point inside
/// the window when that is lower (zero where the totals started inside it).
///
/// Built with `concat`, sized once, not `format!`: the windows are most of a rule file, and
/// their expressions were a sixth of `generate`'s instructions at 10,000 SLOs.
fn total_before(c: Count, window: Duration, sel: &str) -> String {
    let w = format_duration(window);
    [
        "min without (",
        RESUME_LABEL,
        ") (\n    last_over_time(",
        series::total(c),
        sel,
        "[",
        &format_duration(CHECKPOINT_EVERY),
        "] offset ",
        &w,
        ")\n    or last_over_time(",
        &series::checkpoint(c, CHECKPOINT_EVERY),
        sel,
        "[",
        &format_duration(REACH),
        "] offset ",
        &w,
        ")\n    or min_over_time(",
        series::resume(c),
        sel,
        "[",
        &w,
        "])\n  )",
    ]
    .concat()
}

/// The rules of one window: events and bad events over it, and their ratio. The base
/// window's events are its rates times its length; longer ones come from the totals.
pub fn window(plan: &Plan, w: Duration, sel: &str, ids: &Labels) -> Vec<Rule> {
    let mut rules: Vec<Rule> = Count::BOTH
        .into_iter()
        .map(|c| {
            let expr = if w == plan.base {
                format!("{}{sel} * {}", series::rate(c, plan.base), w.as_secs())
            } else {
                [series::total(c), sel, "\n-\n", &total_before(c, w, sel)].concat()
            };
            record(series::increase(c, w), expr, ids)
        })
        .collect();
    let (e, t) = if w == plan.base {
        (
            series::rate(Count::Errors, w),
            series::rate(Count::Events, w),
        )
    } else {
        (
            series::increase(Count::Errors, w),
            series::increase(Count::Events, w),
        )
    };
    rules.push(record(
        series::error_ratio(w),
        format!("{e}{sel}\n/\n({t}{sel} > 0)"),
        ids,
    ));
    rules
}

/// The calendar period's id at evaluation time (UTC): months and quarters counted from
/// year 0, ISO weeks from Monday 1970-01-05.
pub fn calendar_id(calendar: Calendar) -> &'static str {
    match calendar {
        Calendar::Month => "year() * 12 + month() - 1",
        Calendar::Quarter => "year() * 4 + floor((month() - 1) / 3)",
        Calendar::Week => "floor((vector(time()) - 345600) / 604800)",
    }
}

/// Seconds from evaluation time to the period's end (UTC). `time() % 86400` is the time
/// into the day; `days_in_month(t)` of a later timestamp gives the next months' lengths.
fn calendar_remaining(calendar: Calendar) -> String {
    let next_month =
        "(time() - (day_of_month() - 1) * 86400 - time() % 86400 + days_in_month() * 86400)";
    match calendar {
        Calendar::Week => "(7 - (day_of_week() + 6) % 7) * 86400 - time() % 86400".into(),
        Calendar::Month => "(days_in_month() - day_of_month() + 1) * 86400 - time() % 86400".into(),
        // To the next month, then the quarter's months after it (two after its first
        // month, one after its second).
        Calendar::Quarter => format!(
            "{next_month} - time()\n+ (month() % 3 != bool 0) * days_in_month({next_month}) * 86400\n+ (month() % 3 == bool 1) * days_in_month({next_month} + days_in_month({next_month}) * 86400) * 86400"
        ),
    }
}

/// The rules that mark where a calendar period starts, run before the totals: at the
/// first evaluation of a period (none recorded for it yet) each total as it stood before
/// this evaluation, and the period's id. Written once per period, so reading them back
/// over a whole period costs a sample or two, and a gap of any length keeps them.
pub fn calendar_starts(plan: &Plan, calendar: Calendar, sel: &str, ids: &Labels) -> Vec<Rule> {
    let id = calendar_id(calendar);
    let lookback = format_duration(plan.daily_lookback);
    let started = format!(
        "last_over_time({}{sel}[{lookback}]) == scalar({id})",
        series::CALENDAR_START_PERIOD
    );
    let mut rules: Vec<Rule> = Count::BOTH
        .into_iter()
        .map(|c| {
            record(
                series::calendar_start(c),
                format!(
                    "(\n  {}\n  or {}\n)\nunless\n{started}",
                    latest(series::total(c), sel),
                    previous(plan, c, sel),
                ),
                ids,
            )
        })
        .collect();
    rules.push(record(
        series::CALENDAR_START_PERIOD,
        format!(
            "0 * {}{sel} + scalar({id})\nunless\n{started}",
            series::calendar_start(Count::Events)
        ),
        ids,
    ));
    rules
}

/// The period-to-date events (the totals less the period's start), the ratio, the id
/// and the time left; run after the totals.
pub fn calendar(plan: &Plan, calendar: Calendar, sel: &str, ids: &Labels) -> Vec<Rule> {
    let id = calendar_id(calendar);
    let lookback = format_duration(plan.daily_lookback);
    let mut rules: Vec<Rule> = Count::BOTH
        .into_iter()
        .map(|c| {
            let name = match c {
                Count::Events => series::EVENTS_CALENDAR,
                Count::Errors => series::ERROR_EVENTS_CALENDAR,
            };
            record(
                name,
                format!(
                    "clamp_min({total}{sel} - last_over_time({start}{sel}[{lookback}]), 0)\nand\nlast_over_time({period}{sel}[{lookback}]) == scalar({id})",
                    total = series::total(c),
                    start = series::calendar_start(c),
                    period = series::CALENDAR_START_PERIOD,
                ),
                ids,
            )
        })
        .collect();
    rules.push(record(series::CALENDAR_PERIOD, id.to_string(), ids));
    rules.push(record(
        series::ERROR_RATIO_CALENDAR,
        format!(
            "{}{sel}\n/\n({}{sel} > 0)",
            series::ERROR_EVENTS_CALENDAR,
            series::EVENTS_CALENDAR
        ),
        ids,
    ));
    rules.push(record(
        series::CALENDAR_REMAINING,
        calendar_remaining(calendar),
        ids,
    ));
    rules
}
