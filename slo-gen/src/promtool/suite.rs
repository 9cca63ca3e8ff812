//! Promtool unit tests for the generated alerts (the suite of one SLO): for each tier an
//! input burning just above its threshold fires within the detection time the policy
//! maths predicts (and not long before), just below it never fires, a steady burn of 0.5
//! never alerts, and zero traffic gives no ratio and no alert; the missing-data alert
//! ([`super::absent`]), calendar periods ([`super::calendar`]), and the alert behaviour at
//! the spec's own scrape interval from raw counters ([`super::behaviour`]).
//!
//! The threshold tests feed the two recorded base series of an SLO directly (their rule
//! file is the SLO's generated groups without the rules that read raw metrics), so they
//! exercise every total, window, guard, threshold and alert exactly as generated, for any
//! SLI.

use super::file::{
    alerts_count, checkpoints, num, repeat, round_secs, steps, BaseScenario, Check, Scenario,
    Summary, TestFile,
};
use super::{absent, behaviour, calendar, exclusions, low_traffic, reads};
use crate::names::{self, series};
use crate::rules::emit;
use crate::rules::{self, Group, Options, Rule};
use slo_eval::{Plan, TierPlan};
use slo_spec::decimal::Decimal;
use slo_spec::names::format_duration;
use slo_spec::{Service, Slo};
use std::time::Duration;

/// The rule files and test files of one SLO.
pub struct Suite {
    /// Rule files by name.
    pub rules: Vec<(String, String)>,
    /// Test files by name.
    pub tests: Vec<(String, String)>,
    /// What each test file costs promtool, in the order of `tests`: evaluations times the
    /// rules evaluated ([`super::run`] starts the costliest first).
    pub work: Vec<u64>,
    pub summary: Summary,
}

/// The base-series rule file evaluated every `step`: the SLO's groups as they would be
/// generated to run at that interval, without the rules that read raw series.
fn base_rules(step: Duration) -> String {
    format!("rules-{}.yaml", format_duration(step))
}

pub fn suite(svc: &Service, slo: &Slo, opts: &Options) -> Suite {
    let plan = slo_eval::plan(slo);
    let order: Vec<String> = rules::slo_groups(svc, slo, opts)
        .iter()
        .map(|g| g.name.clone())
        .collect();
    let (mut files, mut summary) = test_files(svc, slo, &plan, &order);
    let mut steps: Vec<Duration> = files.iter().map(|f| f.step).collect();
    steps.sort();
    steps.dedup();
    let mut rules: Vec<(String, Vec<Group>)> = steps
        .into_iter()
        .map(|step| {
            let at_step = Plan {
                interval: step,
                ..plan.clone()
            };
            let groups: Vec<Group> = rules::plan_groups(svc, slo, &at_step, opts)
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
            (base_rules(step), groups)
        })
        .collect();
    let scraped = [behaviour::suite, exclusions::suite, low_traffic::suite];
    for b in scraped
        .iter()
        .filter_map(|suite| suite(svc, slo, &plan, opts, &mut summary))
    {
        rules.extend(b.rules);
        files.extend(b.files);
    }
    let mut work = vec![0; files.len()];
    let rules = rules
        .into_iter()
        .map(|(name, groups)| {
            let users = files.iter().filter(|f| f.rules == name);
            let reads = users.flat_map(|f| &f.scenarios).flat_map(|s| &s.checks);
            let groups = reads::needed(groups, reads.map(|c| c.expr.as_str()));
            let size: usize = groups.iter().map(|g| g.rules.len()).sum();
            let users = files
                .iter_mut()
                .zip(&mut work)
                .filter(|(f, _)| f.rules == name);
            for (f, work) in users {
                f.groups
                    .retain(|g| groups.iter().any(|kept| kept.name == *g));
                *work = f.evaluations() * size as u64;
            }
            let mut text = String::new();
            emit::groups(&mut text, 0, &groups);
            (name, text)
        })
        .collect();
    Suite {
        rules,
        tests: files.iter().map(|f| (f.name.clone(), f.write())).collect(),
        work,
        summary,
    }
}

/// A test file of base-series scenarios, evaluated and fed every `step`.
fn base_file(
    name: String,
    step: Duration,
    scenarios: Vec<BaseScenario>,
    plan: &Plan,
    sel: &str,
    groups: &[String],
) -> TestFile {
    let scenarios = scenarios
        .into_iter()
        .map(|s| {
            let mut series = vec![
                (
                    format!("{}{sel}", series::error_events(plan.base)),
                    s.errors,
                ),
                (format!("{}{sel}", series::events(plan.base)), s.events),
            ];
            if plan.absent.is_some() {
                let last = s.checks.iter().map(|c| c.at).max().unwrap_or_default();
                let inputs = if s.inputs.is_empty() {
                    vec![(String::new(), repeat(1.0, steps(last, step) + 1))]
                } else {
                    s.inputs
                };
                let inner = sel.trim_end_matches('}');
                for (group, values) in inputs {
                    series.push((format!("{}{inner}{group}}}", series::INPUTS), values));
                }
            }
            Scenario {
                name: s.name,
                series,
                checks: s.checks,
            }
        })
        .collect();
    TestFile {
        name,
        rules: base_rules(step),
        step,
        input_interval: step,
        groups: groups.to_vec(),
        scenarios,
    }
}

/// What the scenarios of one tier share: the alert count they check, the step, the
/// traffic and the tier's longest window.
struct TierCx<'a> {
    name: &'a str,
    count: String,
    step: Duration,
    rate: f64,
    budget: f64,
    longest: Duration,
}

impl TierCx<'_> {
    fn at(&self, n: u64) -> Duration {
        Duration::from_secs(n * self.step.as_secs())
    }

    /// No alert of this tier at eight evenly spaced times over `n` steps.
    fn silent(&self, n: u64) -> Vec<Check> {
        checkpoints(n)
            .map(|k| Check {
                expr: self.count.clone(),
                at: self.at(k),
                value: None,
            })
            .collect()
    }
}

/// Scenarios checked against one tier (or, with `tier: None`, against the recording
/// rules alone), evaluated every `step`.
fn test_files(
    svc: &Service,
    slo: &Slo,
    plan: &Plan,
    groups: &[String],
) -> (Vec<TestFile>, Summary) {
    let alert = &slo.alerting.name;
    let (sname, oname) = (&svc.name, &slo.name);
    let sel = names::selector(sname, oname);
    // Enough traffic that neither `min_events` nor the low-traffic test blocks the
    // scenarios that must fire.
    let rate = plan.firing_rate(slo);
    let mut summary = Summary::default();
    let mut files = Vec::new();
    let tiers: Vec<Option<&TierPlan>> = if plan.tiers.is_empty() {
        vec![None]
    } else {
        plan.tiers.iter().map(Some).collect()
    };
    for (i, tier) in tiers.into_iter().enumerate() {
        let (name, pairs) = match tier {
            Some(t) => (t.tier.as_str(), t.pairs.as_slice()),
            None => ("recording", &[][..]),
        };
        // Half the tier's shortest window, so every window holds at least two samples,
        // and no more than the totals' probes reach.
        let shortest = pairs.iter().map(|p| p.short).min().unwrap_or(plan.base);
        let cx = TierCx {
            name,
            count: alerts_count(alert, sname, oname, tier.map(|_| name)),
            step: Duration::from_secs((shortest.as_secs() / 2).clamp(1, 3600)),
            rate,
            budget: slo.objective.budget_decimal().to_f64(),
            longest: pairs
                .iter()
                .map(|p| p.long)
                .max()
                .unwrap_or(plan.period / 10),
        };
        let mut scenarios = match tier {
            Some(tier) => firing(&cx, slo, plan, tier, &mut summary),
            None => Vec::new(),
        };
        let windows: Vec<Duration> = match tier {
            Some(_) => pairs.iter().flat_map(|p| [p.long, p.short]).collect(),
            None => plan.windows.clone(),
        };
        scenarios.extend(quiet(&cx, &sel, &windows, i == 0));
        summary.scenarios += scenarios.len();
        summary.checks += scenarios.iter().map(|s| s.checks.len()).sum::<usize>();
        files.push(base_file(
            format!("{name}.yaml"),
            cx.step,
            scenarios,
            plan,
            &sel,
            groups,
        ));
    }
    if let Some(absent) = &plan.absent {
        let (name, step, scenarios) = absent::file(svc, slo, absent, &mut summary);
        files.push(base_file(name, step, scenarios, plan, &sel, groups));
    }
    if let Some(calendar) = slo.calendar() {
        let (name, step, scenarios) = calendar::file(svc, slo, calendar, &mut summary);
        files.push(base_file(name, step, scenarios, plan, &sel, groups));
    }
    (files, summary)
}

/// A burn just above each of the tier's thresholds fires within the detection time (and
/// not long before); just below the lowest never fires; too few events never fire.
fn firing(
    cx: &TierCx,
    slo: &Slo,
    plan: &Plan,
    tier: &TierPlan,
    summary: &mut Summary,
) -> Vec<BaseScenario> {
    let (tname, pairs, budget, rate) = (cx.name, tier.pairs.as_slice(), cx.budget, cx.rate);
    let mut scenarios: Vec<BaseScenario> = pairs
        .iter()
        .filter_map(|pair| fires(cx, plan, tier, pair, summary))
        .collect();
    let lowest = pairs
        .iter()
        .map(|p| p.burn_rate.to_f64())
        .fold(f64::INFINITY, f64::min);
    let n = steps(cx.longest * 3 / 2, cx.step);
    scenarios.push(BaseScenario {
        name: format!("{tname} stays silent at 0.9 x {} burn", num(lowest)),
        errors: repeat(rate * budget * lowest * 0.9, n),
        events: repeat(rate, n),
        inputs: Vec::new(),
        checks: cx.silent(n),
    });
    if let Some(min) = slo.alerting.min_events {
        // Burning far above every threshold on too few events: the guard holds.
        let low_rate = (min as f64 / 4.0) / cx.longest.as_secs_f64();
        let highest = pairs
            .iter()
            .map(|p| p.burn_rate.to_f64())
            .fold(0.0, f64::max);
        let burn = (1.0 / budget).min(highest * 2.0);
        scenarios.push(BaseScenario {
            name: format!("{tname} stays silent below min_events {min}"),
            errors: repeat(low_rate * budget * burn, n),
            events: repeat(low_rate, n),
            inputs: Vec::new(),
            checks: cx.silent(n),
        });
    }
    scenarios
}

/// A burn of 1.1 x the pair's threshold fires within the detection time (and not long
/// before); none where the burn would exceed 100% errors.
fn fires(
    cx: &TierCx,
    plan: &Plan,
    tier: &TierPlan,
    pair: &slo_spec::WindowPair,
    summary: &mut Summary,
) -> Option<BaseScenario> {
    let (tname, budget, rate) = (cx.name, cx.budget, cx.rate);
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
        return None;
    }
    let expected = plan.detection(tier, burn)?;
    // Clean history as long as the tier's longest window, so no window is short of
    // history when the burn starts.
    let warm = steps(cx.longest, cx.step);
    let due = steps(expected, cx.step);
    let total = warm + due + 2;
    let mut checks = vec![Check {
        expr: cx.count.clone(),
        at: cx.at(total),
        value: Some(1.0),
    }];
    if due >= 4 {
        checks.push(Check {
            expr: cx.count.clone(),
            at: cx.at(warm + due - 2),
            value: None,
        });
    }
    summary
        .detections
        .push((tname.into(), format!("{burn_text}x"), expected));
    Some(BaseScenario {
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
    })
}

/// A steady 0.5 burn never alerts (the first file also checks the budget and burn-rate
/// series at exactly half); zero traffic gives no ratio in `windows` and no alert.
fn quiet(cx: &TierCx, sel: &str, windows: &[Duration], first: bool) -> Vec<BaseScenario> {
    let (tname, budget, rate) = (cx.name, cx.budget, cx.rate);
    let n = steps(cx.longest * 6 / 5, cx.step);
    let mut steady: Vec<Check> = cx.silent(n);
    if first {
        for name in [series::BUDGET_REMAINING, series::CURRENT_BURN_RATE] {
            steady.push(Check {
                expr: format!("round(sum({name}{sel}) * 1000)"),
                at: cx.at(n),
                value: Some(500.0),
            });
        }
    }
    let mut zero: Vec<Check> = cx.silent(n);
    for w in windows {
        zero.push(Check {
            expr: format!("{}{sel}", series::error_ratio(*w)),
            at: cx.at(n),
            value: None,
        });
    }
    vec![
        BaseScenario {
            name: format!("{tname}: a steady 0.5 burn never alerts"),
            errors: repeat(rate * budget * 0.5, n),
            events: repeat(rate, n),
            inputs: Vec::new(),
            checks: steady,
        },
        BaseScenario {
            name: format!("{tname}: zero traffic gives no ratio and no alert"),
            errors: repeat(0.0, n),
            events: repeat(0.0, n),
            inputs: Vec::new(),
            checks: zero,
        },
    ]
}
