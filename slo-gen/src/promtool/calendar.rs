//! The calendar test of a calendar SLO: period-to-date events, ratio and budget across
//! real month, week and quarter boundaries, and the time left in the period.

use super::file::{repeat, Check};
use super::file::{BaseScenario, Summary};
use crate::names::{self, series};
use slo_spec::{Calendar, Service, Slo};
use std::time::Duration;

/// A calendar SLO over its period boundaries from 1970-01-01 (promtool's time 0, a
/// Thursday): January's 31 days, February's 28 and March for a month; the Monday of
/// 1970-01-05 for a week; the 90 days of the first quarter for a quarter. Each period
/// has its own error share; at its last hour the period-to-date events and ratio are those
/// of the whole period, exactly; at the next period's first evaluation they start again;
/// the time left in the period is exact at the checked hours.
// Long: the calendar scenarios in the order promtool runs them, each beside its checks.
pub(super) fn file(
    svc: &Service,
    slo: &Slo,
    calendar: Calendar,
    summary: &mut Summary,
) -> (String, Duration, Vec<BaseScenario>) {
    const HOUR: u64 = 3600;
    // (hours, error events per second) per period; 12.5 events per second throughout.
    // Powers of two keep every sum exact.
    type Periods = Vec<(u64, f64)>;
    type Remaining = Vec<(u64, u64)>;
    let (periods, remaining): (Periods, Remaining) = match calendar {
        Calendar::Month => (
            vec![(744, 0.125), (672, 0.25), (48, 0.0625)],
            vec![(0, 31 * 24), (744, 28 * 24), (1415, 1), (1416, 31 * 24)],
        ),
        Calendar::Week => (
            vec![(96, 0.125), (168, 0.25), (48, 0.0625)],
            vec![(0, 96), (96, 168), (263, 1)],
        ),
        Calendar::Quarter => (
            vec![(2160, 0.125), (48, 0.25)],
            vec![
                (0, 90 * 24),
                (744, 59 * 24),
                (1416, 31 * 24),
                (2160, 91 * 24),
            ],
        ),
    };
    let events_rate = 12.5;
    let budget = slo.objective.budget_decimal().to_f64();
    let sel = names::selector(&svc.name, &slo.name);
    let at = |h: u64| Duration::from_secs(h * HOUR);
    let sum = |name: &str| format!("sum({name}{sel})");
    let mut checks = Vec::new();
    let mut start = 0;
    for (i, &(hours, bad)) in periods.iter().enumerate() {
        let last = start + hours - 1;
        // Each evaluation (the rules run hourly here) adds an hour of events.
        let seconds = hours * HOUR;
        let all_sum = (seconds as f64) * events_rate;
        let ratio = bad / events_rate;
        checks.push(Check {
            expr: sum(series::EVENTS_CALENDAR),
            at: at(last),
            value: Some(all_sum),
        });
        checks.push(Check {
            expr: sum(series::ERROR_RATIO_CALENDAR),
            at: at(last),
            value: Some(ratio),
        });
        checks.push(Check {
            expr: sum(series::BUDGET_REMAINING),
            at: at(last),
            value: Some(1.0 - ratio / budget),
        });
        if i > 0 {
            // The first evaluation of a period holds its first hour alone.
            checks.push(Check {
                expr: sum(series::EVENTS_CALENDAR),
                at: at(start),
                value: Some(events_rate * HOUR as f64),
            });
        }
        start += hours;
    }
    for (h, left_hours) in remaining {
        checks.push(Check {
            expr: sum(series::CALENDAR_REMAINING),
            at: at(h),
            value: Some((left_hours * HOUR) as f64),
        });
    }
    // `vxN` is N+1 samples.
    let errors: Vec<String> = periods
        .iter()
        .map(|&(hours, bad)| repeat(bad, hours - 1))
        .collect();
    let errors = errors.join(" ");
    let total: u64 = periods.iter().map(|p| p.0).sum();
    summary.scenarios += 1;
    summary.checks += checks.len();
    (
        "calendar.yaml".into(),
        Duration::from_secs(HOUR),
        vec![BaseScenario {
            name: format!(
                "{}: period-to-date sums reset at each period's start, exact",
                calendar.as_str()
            ),
            errors,
            events: repeat(events_rate, total - 1),
            inputs: Vec::new(),
            checks,
        }],
    )
}
