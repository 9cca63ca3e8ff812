//! Promtool unit tests for the generated alerts (the suite of one SLO): for each tier an input burning just
//! above its threshold fires within the detection time the policy maths predicts (and not
//! long before), just below it never fires, a steady burn of 0.5 never alerts, and zero
//! traffic gives no ratio and no alert.
//!
//! The tests feed the two recorded base series of an SLO directly (the rule file under test
//! is the SLO's generated groups without the two rules that read raw metrics), so they
//! exercise every window, guard, threshold and alert exactly as generated, for any SLI.

use crate::names::{self, series};
use crate::rules::emit::{self, scalar};
use crate::rules::{self, Group, Options, Rule};
use slo_eval::{AbsentPlan, Plan, TierPlan};
use slo_spec::decimal::Decimal;
use slo_spec::names::format_duration;
use slo_spec::{Calendar, Service, Slo};
use std::fmt::Write;
use std::time::Duration;

/// One scenario: base series values and the checks made on them.
struct Scenario {
    name: String,
    errors: String,
    events: String,
    /// Values of the SLI's input-series count, per group label set (`""` for one
    /// aggregate); empty: present throughout.
    inputs: Vec<(String, String)>,
    checks: Vec<Check>,
}

struct Check {
    expr: String,
    at: Duration,
    /// `None` expects no series at all.
    value: Option<f64>,
}

/// What a generated suite covers, for the report.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    pub scenarios: usize,
    pub checks: usize,
    /// (tier, burn rate multiple, expected detection) per "fires" scenario.
    pub detections: Vec<(String, String, Duration)>,
    /// Tiers that cannot fire because budget × burn rate exceeds 100% errors.
    pub unreachable: Vec<String>,
}

/// The rule file and test file of one SLO.
pub struct Suite {
    pub rules: String,
    /// Test files by name; each has its own evaluation interval.
    pub tests: Vec<(String, String)>,
    pub summary: Summary,
}

fn steps(d: Duration, step: Duration) -> u64 {
    d.as_secs().div_ceil(step.as_secs().max(1))
}

/// `v` repeated over `n` steps after the first sample, in promtool's expanding notation.
fn repeat(v: f64, n: u64) -> String {
    format!("{}x{n}", num(v))
}

fn num(v: f64) -> String {
    let s = format!("{v:?}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

fn alerts_count(alert: &str, svc: &str, slo: &str, tier: Option<&str>) -> String {
    let tier = tier
        .map(|t| format!(",{}=\"{t}\"", names::TIER_LABEL))
        .unwrap_or_default();
    format!(
        "count({}{{alertname=\"{alert}\",alertstate=\"firing\",service=\"{svc}\",slo=\"{slo}\"{tier}}})",
        series::ALERTS
    )
}

/// One promtool test file: rules are evaluated every `step`.
struct TestFile {
    name: String,
    step: Duration,
    scenarios: Vec<Scenario>,
}

pub fn suite(svc: &Service, slo: &Slo, opts: &Options) -> Suite {
    let plan = slo_eval::plan(slo);
    let groups: Vec<Group> = rules::slo_groups(svc, slo, opts)
        .into_iter()
        .map(|mut g| {
            // The rules that read raw series are replaced by input series.
            g.rules.retain(|r| {
                !matches!(r, Rule::Record { record, .. }
                    if *record == series::error_events(plan.base)
                        || *record == series::events(plan.base)
                        || record == series::INPUTS)
            });
            g
        })
        .collect();
    let mut rules_text = String::new();
    emit::groups(&mut rules_text, 0, &groups);

    let (files, summary) = test_files(svc, slo, &plan);
    let sel = names::selector(&svc.name, &slo.name);
    let mut tests = Vec::new();
    for f in &files {
        let mut t = String::new();
        t.push_str("rule_files:\n  - rules.yaml\n");
        let _ = writeln!(t, "evaluation_interval: {}", format_duration(f.step));
        // Records first, then the windows built from them, then the alerts reading both.
        t.push_str("group_eval_order:\n");
        for g in &groups {
            let _ = writeln!(t, "  - {}", scalar(&g.name));
        }
        t.push_str("tests:\n");
        for s in &f.scenarios {
            let _ = writeln!(t, "  - name: {}", scalar(&s.name));
            let _ = writeln!(t, "    interval: {}", format_duration(f.step));
            t.push_str("    input_series:\n");
            let _ = writeln!(
                t,
                "      - series: {}",
                scalar(&format!("{}{sel}", series::error_events(plan.base)))
            );
            let _ = writeln!(t, "        values: {}", scalar(&s.errors));
            let _ = writeln!(
                t,
                "      - series: {}",
                scalar(&format!("{}{sel}", series::events(plan.base)))
            );
            let _ = writeln!(t, "        values: {}", scalar(&s.events));
            if plan.absent.is_some() {
                let last = s.checks.iter().map(|c| c.at).max().unwrap_or_default();
                let present = vec![(String::new(), repeat(1.0, steps(last, f.step) + 1))];
                let inputs = if s.inputs.is_empty() {
                    &present
                } else {
                    &s.inputs
                };
                for (group, values) in inputs {
                    let inner = sel.trim_end_matches('}');
                    let _ = writeln!(
                        t,
                        "      - series: {}",
                        scalar(&format!("{}{inner}{group}}}", series::INPUTS))
                    );
                    let _ = writeln!(t, "        values: {}", scalar(values));
                }
            }
            t.push_str("    promql_expr_test:\n");
            for c in &s.checks {
                let _ = writeln!(t, "      - expr: {}", scalar(&c.expr));
                let _ = writeln!(t, "        eval_time: {}", format_duration(c.at));
                match c.value {
                    Some(v) => {
                        let _ = writeln!(t, "        exp_samples:\n          - labels: \"{{}}\"\n            value: {}", num(v));
                    }
                    None => t.push_str("        exp_samples: []\n"),
                }
            }
        }
        tests.push((f.name.clone(), t));
    }
    Suite {
        rules: rules_text,
        tests,
        summary,
    }
}

/// Scenarios checked against one tier (or, with `tier: None`, against the recording
/// rules alone), evaluated every `step`.
fn test_files(svc: &Service, slo: &Slo, plan: &Plan) -> (Vec<TestFile>, Summary) {
    let budget = slo.objective.budget_decimal().to_f64();
    let alert = &slo.alerting.name;
    let (sname, oname) = (&svc.name, &slo.name);
    let sel = names::selector(sname, oname);
    let min_long = plan
        .tiers
        .iter()
        .flat_map(|t| &t.pairs)
        .map(|p| p.long)
        .min();
    // Enough traffic that `min_events` never blocks the scenarios that must fire.
    let rate = match (slo.alerting.min_events, min_long) {
        (Some(n), Some(l)) => (10.0 * n as f64 / l.as_secs_f64()).ceil().max(10.0),
        _ => 10.0,
    };
    let mut summary = Summary::default();
    let mut files = Vec::new();
    let tiers: Vec<Option<&TierPlan>> = if plan.tiers.is_empty() {
        vec![None]
    } else {
        plan.tiers.iter().map(Some).collect()
    };
    for (i, tier) in tiers.into_iter().enumerate() {
        let (tname, pairs) = match tier {
            Some(t) => (t.tier.as_str(), t.pairs.as_slice()),
            None => ("recording", &[][..]),
        };
        // Half the tier's shortest window: every window holds at least two samples.
        let shortest = pairs.iter().map(|p| p.short).min().unwrap_or(plan.base);
        let step = Duration::from_secs((shortest.as_secs() / 2).max(1));
        let tier_longest = pairs
            .iter()
            .map(|p| p.long)
            .max()
            .unwrap_or(plan.period / 10);
        let count = match tier {
            Some(_) => alerts_count(alert, sname, oname, Some(tname)),
            None => alerts_count(alert, sname, oname, None),
        };
        let at = |n: u64| Duration::from_secs(n * step.as_secs());
        // No alert of this tier at eight evenly spaced times over `n` steps.
        let silent = |n: u64| -> Vec<Check> {
            checkpoints(n)
                .map(|k| Check {
                    expr: count.clone(),
                    at: at(k),
                    value: None,
                })
                .collect()
        };
        let mut scenarios = Vec::new();
        if let Some(tier) = tier {
            for pair in pairs {
                let burn_text = pair
                    .burn_rate
                    .checked_mul(Decimal::parse("1.1").expect("a decimal"))
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| num(pair.burn_rate.to_f64() * 1.1));
                let burn = pair.burn_rate.to_f64() * 1.1;
                if burn * budget > 1.0 {
                    summary
                        .unreachable
                        .push(format!("{tname} at {}x", pair.burn_rate));
                    continue;
                }
                let Some(expected) = plan.detection(tier, burn) else {
                    continue;
                };
                // Clean history as long as the tier's longest window, so no window is
                // short of history when the burn starts.
                let warm = steps(tier_longest, step);
                let due = steps(expected, step);
                let total = warm + due + 2;
                let mut checks = vec![Check {
                    expr: count.clone(),
                    at: at(total),
                    value: Some(1.0),
                }];
                if due >= 4 {
                    checks.push(Check {
                        expr: count.clone(),
                        at: at(warm + due - 2),
                        value: None,
                    });
                }
                summary
                    .detections
                    .push((tname.into(), format!("{burn_text}x"), expected));
                scenarios.push(Scenario {
                    name: format!(
                        "{tname} fires within {} at {burn_text}x burn (1.1 x {})",
                        format_duration(round_secs(expected)),
                        pair.burn_rate
                    ),
                    errors: format!(
                        "{} {}",
                        repeat(0.0, warm),
                        repeat(rate * budget * burn, total - warm - 1)
                    ),
                    events: repeat(rate, total),
                    inputs: Vec::new(),
                    checks,
                });
            }
            // Just below the tier's lowest threshold: never fires.
            let lowest = pairs
                .iter()
                .map(|p| p.burn_rate.to_f64())
                .fold(f64::INFINITY, f64::min);
            let n = steps(tier_longest * 3 / 2, step);
            scenarios.push(Scenario {
                name: format!("{tname} stays silent at 0.9 x {} burn", num(lowest)),
                errors: repeat(rate * budget * lowest * 0.9, n),
                events: repeat(rate, n),
                inputs: Vec::new(),
                checks: silent(n),
            });
            if let Some(min) = slo.alerting.min_events {
                // Burning far above every threshold on too few events: the guard holds.
                let low_rate = (min as f64 / 4.0) / tier_longest.as_secs_f64();
                let highest = pairs
                    .iter()
                    .map(|p| p.burn_rate.to_f64())
                    .fold(0.0, f64::max);
                let burn = (1.0 / budget).min(highest * 2.0);
                scenarios.push(Scenario {
                    name: format!("{tname} stays silent below min_events {min}"),
                    errors: repeat(low_rate * budget * burn, n),
                    events: repeat(low_rate, n),
                    inputs: Vec::new(),
                    checks: silent(n),
                });
            }
        }
        let n = steps(tier_longest * 6 / 5, step);
        let mut steady: Vec<Check> = silent(n);
        if i == 0 {
            for name in [series::BUDGET_REMAINING, series::CURRENT_BURN_RATE] {
                steady.push(Check {
                    expr: format!("round(sum({name}{sel}) * 1000)"),
                    at: at(n),
                    value: Some(500.0),
                });
            }
        }
        scenarios.push(Scenario {
            name: format!("{tname}: a steady 0.5 burn never alerts"),
            errors: repeat(rate * budget * 0.5, n),
            events: repeat(rate, n),
            inputs: Vec::new(),
            checks: steady,
        });
        let mut zero: Vec<Check> = silent(n);
        let windows: Vec<Duration> = match tier {
            Some(_) => pairs.iter().flat_map(|p| [p.long, p.short]).collect(),
            None => plan.windows.clone(),
        };
        for w in windows {
            zero.push(Check {
                expr: format!("{}{sel}", series::error_ratio(w)),
                at: at(n),
                value: None,
            });
        }
        scenarios.push(Scenario {
            name: format!("{tname}: zero traffic gives no ratio and no alert"),
            errors: repeat(0.0, n),
            events: repeat(0.0, n),
            inputs: Vec::new(),
            checks: zero,
        });
        summary.scenarios += scenarios.len();
        summary.checks += scenarios.iter().map(|s| s.checks.len()).sum::<usize>();
        files.push(TestFile {
            name: format!("{tname}.yaml"),
            step,
            scenarios,
        });
    }
    if let Some(absent) = &plan.absent {
        files.push(absent_file(svc, slo, absent, &mut summary));
    }
    if let Some(calendar) = slo.calendar() {
        files.push(calendar_file(
            svc,
            slo,
            calendar,
            plan.interval,
            &mut summary,
        ));
    }
    (files, summary)
}

/// A calendar SLO over its period boundaries from 1970-01-01 (promtool's time 0, a
/// Thursday): January's 31 days, February's 28 and March for a month; the Monday of
/// 1970-01-05 for a week; the 90 days of the first quarter for a quarter. Each period
/// has its own error share; at its last hour the period-to-date events and ratio are those
/// of the whole period, exactly; at the next period's first evaluation they start again;
/// the time left in the period is exact at the checked hours.
fn calendar_file(
    svc: &Service,
    slo: &Slo,
    calendar: Calendar,
    interval: Duration,
    summary: &mut Summary,
) -> TestFile {
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
        // Each evaluation adds an hour of events; the very first adds the rules' own
        // interval (no evaluation before it says how long it covers).
        let seconds = if i == 0 {
            (hours - 1) * HOUR + interval.as_secs()
        } else {
            hours * HOUR
        };
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
    TestFile {
        name: "calendar.yaml".into(),
        step: Duration::from_secs(HOUR),
        scenarios: vec![Scenario {
            name: format!(
                "{}: period-to-date sums reset at each period's start, exact",
                calendar.as_str()
            ),
            errors,
            events: repeat(events_rate, total - 1),
            inputs: Vec::new(),
            checks,
        }],
    }
}

/// The missing-data alert: present inputs (even at zero traffic) keep it silent; inputs
/// that vanish fire it after `for` and not before; inputs that return resolve it. A
/// grouped SLO loses one group while the other stays: only the lost one fires.
fn absent_file(svc: &Service, slo: &Slo, absent: &AbsentPlan, summary: &mut Summary) -> TestFile {
    let step = Duration::from_secs((absent.for_.as_secs() / 6).max(1));
    let at = |n: u64| Duration::from_secs(n * step.as_secs());
    let alert = names::absent_alert(&slo.alerting.name);
    let count = format!(
        "count(ALERTS{{alertname=\"{alert}\",alertstate=\"firing\",service=\"{}\",slo=\"{}\",{}=\"{}\"}})",
        svc.name,
        slo.name,
        names::TIER_LABEL,
        names::ABSENT_TIER
    );
    let fr = steps(absent.for_, step);
    // Present for `warm` steps, then a staleness marker, then nothing for `gone` steps,
    // then present again.
    let warm = fr + 4;
    let gone = fr + 6;
    let vanish = warm + 1;
    let n = vanish + gone + fr + 4;
    let vanishing = format!("1x{warm} stale _x{gone} 1x{}", n - vanish - gone);
    let present = repeat(1.0, n);
    let groups: Vec<String> = if slo.group_by.is_empty() {
        vec![String::new()]
    } else {
        ["a", "b"]
            .iter()
            .map(|v| {
                slo.group_by
                    .iter()
                    .map(|g| format!(",{g}=\"{v}\""))
                    .collect::<String>()
            })
            .collect()
    };
    let lost = groups.last().cloned().unwrap_or_default();
    let mut inputs: Vec<(String, String)> = groups
        .iter()
        .map(|g| {
            (
                g.clone(),
                if *g == lost {
                    vanishing.clone()
                } else {
                    present.clone()
                },
            )
        })
        .collect();
    let mut checks = vec![
        Check {
            expr: count.clone(),
            at: at(vanish - 1),
            value: None,
        },
        Check {
            expr: count.clone(),
            at: at(vanish + fr - 2),
            value: None,
        },
        Check {
            expr: count.clone(),
            at: at(vanish + fr + 2),
            value: Some(1.0),
        },
        Check {
            expr: count.clone(),
            at: at(vanish + gone + fr.min(3) + 1),
            value: None,
        },
    ];
    if !slo.group_by.is_empty() {
        // Only the lost group fires, and names it.
        let sel = lost.trim_start_matches(',');
        checks.push(Check {
            expr: format!("count(ALERTS{{alertname=\"{alert}\",alertstate=\"firing\",{sel}}})"),
            at: at(vanish + fr + 2),
            value: Some(1.0),
        });
    }
    let vanish_name = if slo.group_by.is_empty() {
        "absent: inputs vanish, fire after `for`, resolve on return".to_string()
    } else {
        "absent: one group's inputs vanish, only it fires, resolves on return".to_string()
    };
    let scenarios = vec![
        Scenario {
            name: "absent: inputs present at zero traffic stay silent".into(),
            errors: repeat(0.0, n),
            events: repeat(0.0, n),
            inputs: groups
                .iter()
                .map(|g| (g.clone(), present.clone()))
                .collect(),
            checks: checkpoints(n)
                .map(|k| Check {
                    expr: count.clone(),
                    at: at(k),
                    value: None,
                })
                .collect(),
        },
        Scenario {
            name: vanish_name,
            errors: repeat(0.0, n),
            events: repeat(1.0, n),
            inputs: std::mem::take(&mut inputs),
            checks,
        },
    ];
    summary.scenarios += scenarios.len();
    summary.checks += scenarios.iter().map(|s| s.checks.len()).sum::<usize>();
    summary
        .detections
        .push((names::ABSENT_TIER.into(), "no data".into(), absent.for_));
    TestFile {
        name: "absent.yaml".into(),
        step,
        scenarios,
    }
}

pub fn round_secs(d: Duration) -> Duration {
    Duration::from_secs(d.as_secs_f64().round() as u64)
}

/// Eight evenly spaced step numbers up to `n`.
fn checkpoints(n: u64) -> impl Iterator<Item = u64> {
    (1..=8u64).map(move |i| (n * i / 8).max(1))
}
