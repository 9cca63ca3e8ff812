//! The alert behaviour at the spec's own scrape interval, from raw counters scraped every
//! `scrape_interval` and rules evaluated at their own interval, with a clean history as
//! long as the fastest page's long window behind them:
//!
//! - a full outage pages within what that page pair is designed for (its long window x
//!   its threshold x the budget) plus five scrapes and a minute, and the page stays
//!   firing, without a gap, while the outage lasts;
//! - a 20x burn pages within that long window plus five scrapes;
//! - errors at half the budget never raise a page or a ticket.
//!
//! The rules under test are the SLO's own, with its SLI swapped for two test counters
//! (`slo_test_events_total`, `slo_test_errors_total`): everything after the raw read
//! (rates over four scrapes, totals, windows, alerts) is exactly what `generate` writes.
//! The burns (`outage.yaml`) run against the page tier cut down to that fastest pair, so
//! a slower pair with less history behind it cannot fire for it: the alert with all its
//! pairs fires no later. Half the budget (`steady.yaml`) runs against every pair.

use super::file::Summary;
use super::file::{steps, Check, Scenario, TestFile};
use crate::names;
use crate::rules::{self, Options};
use slo_eval::Plan;
use slo_spec::{Numerator, RatioSli, Service, Sli, Slo, Tier, WindowPair, WindowQuery};
use std::time::Duration;

const EVENTS: &str = "slo_test_events_total";
const ERRORS: &str = "slo_test_errors_total";

/// The rule files and the test files.
pub(super) struct Behaviour {
    /// Rule files by name, as groups ([`super::reads`] prunes them to what is tested).
    pub rules: Vec<(String, Vec<rules::Group>)>,
    pub files: Vec<TestFile>,
}

/// The SLO with its SLI reading the test counters, outside any exclusion (they are
/// tested on their own, [`super::exclusions`]).
pub(super) fn scraped(slo: &Slo) -> Slo {
    let query = |name: &str| {
        let by = if slo.group_by.is_empty() {
            String::new()
        } else {
            format!(" by ({})", slo.group_by.join(", "))
        };
        WindowQuery {
            template: format!("sum{by}(rate({name}[{}]))", WindowQuery::PLACEHOLDER),
            plain_sum: slo.group_by.is_empty(),
            selectors: vec![format!("{name}{{}}")],
        }
    };
    Slo {
        sli: Sli::Ratio(RatioSli {
            numerator: Numerator::Errors(query(ERRORS)),
            total: query(EVENTS),
        }),
        exclusions: Vec::new(),
        ..slo.clone()
    }
}

/// The fastest page pair a full outage can trip (100% errors above its threshold), with
/// the page's `for`.
pub(super) fn fastest_page_pair(plan: &Plan, budget: f64) -> Option<(WindowPair, Duration)> {
    let p = plan.tiers.iter().find(|t| t.tier == Tier::Page)?;
    let mut pairs = p.pairs.clone();
    pairs.sort_by_key(|p| p.long);
    pairs
        .into_iter()
        .find(|pr| pr.burn_rate.to_f64() * budget < 1.0)
        .map(|pr| (pr, p.for_.unwrap_or_default()))
}

/// The test counters of group `a` of every group label: `(events, errors)`.
pub(super) fn test_series(slo: &Slo) -> (String, String) {
    let labels: String = slo
        .group_by
        .iter()
        .map(|g| format!("{g}=\"a\""))
        .collect::<Vec<_>>()
        .join(",");
    (
        format!("{EVENTS}{{{labels}}}"),
        format!("{ERRORS}{{{labels}}}"),
    )
}

/// Events per scrape: ten a second, or enough that neither `min_events` nor the
/// low-traffic test blocks a burn that must page ([`slo_eval::Plan::firing_rate`]).
pub(super) fn per_scrape(slo: &Slo, plan: &slo_eval::Plan, scrape: Duration) -> f64 {
    plan.firing_rate(slo) * scrape.as_secs_f64()
}

/// How long after its start a full outage pages at the latest: what the pair is designed
/// for (its long window x its threshold x the budget), five scrapes, a minute and `for`.
pub(super) fn outage_deadline(
    pair: &WindowPair,
    for_: Duration,
    budget: f64,
    scrape: Duration,
) -> Duration {
    let designed =
        Duration::from_secs_f64(pair.long.as_secs_f64() * pair.burn_rate.to_f64() * budget);
    designed + scrape * 5 + Duration::from_secs(60) + for_
}

/// The first evaluation at or after `t`.
pub(super) fn on_grid(t: Duration, step: Duration) -> Duration {
    step * steps(t, step) as u32
}

// Long: the behaviour scenarios of one SLO in the order the suite lists them, each beside its checks.
pub(super) fn suite(
    svc: &Service,
    slo: &Slo,
    plan: &Plan,
    opts: &Options,
    summary: &mut Summary,
) -> Option<Behaviour> {
    if plan.tiers.is_empty() {
        return None;
    }
    let test_slo = scraped(slo);
    let groups = rules::slo_groups(svc, &test_slo, opts);
    let order: Vec<String> = groups.iter().map(|g| g.name.clone()).collect();
    let mut out = Behaviour {
        rules: vec![("rules-scraped.yaml".into(), groups)],
        files: Vec::new(),
    };

    let budget = slo.objective.budget_decimal().to_f64();
    let (s, step) = (plan.scrape, plan.interval);
    let (events, errors) = test_series(slo);
    let alert = |tiers: &str, state: bool| {
        let state = if state { ",alertstate=\"firing\"" } else { "" };
        format!(
            "ALERTS{{alertname=\"{}\",service=\"{}\",slo=\"{}\",{}=~\"{tiers}\"{state}}}",
            slo.alerting.name,
            svc.name,
            slo.name,
            names::TIER_LABEL
        )
    };
    let min_long = plan
        .tiers
        .iter()
        .flat_map(|t| &t.pairs)
        .map(|p| p.long)
        .min()?;
    let per_scrape = per_scrape(slo, plan, s);
    // `n` scrapes of `inc` each after the first sample.
    let counter = |inc: f64, n: u64| format!("0+{}x{n}", super::file::num(inc));
    let mut scenarios = Vec::new();

    let pair = fastest_page_pair(plan, budget);
    if let Some((pair, for_)) = &pair {
        let mut fastest = test_slo.clone();
        fastest.alerting.page.windows = vec![pair.clone()];
        let groups = rules::slo_groups(svc, &fastest, opts);
        out.rules.push(("rules-outage.yaml".into(), groups));
        let threshold = pair.burn_rate.to_f64();
        let warm = steps(pair.long, s);
        let t0 = s * warm as u32;
        let burn = |name: String, share: f64, deadline: Duration, hold: Duration| {
            let fired = on_grid(t0 + deadline, step);
            let end = fired + hold;
            let n = steps(end, s) + 1;
            let bad = share * per_scrape;
            let mut checks = vec![
                Check {
                    expr: format!("count({})", alert("page", true)),
                    at: on_grid(t0, step),
                    value: None,
                },
                Check {
                    expr: format!("count({})", alert("page", true)),
                    at: fired,
                    value: Some(1.0),
                },
            ];
            if !hold.is_zero() {
                // One sample per evaluation since it fired: no gap.
                checks.push(Check {
                    expr: format!(
                        "sum(count_over_time({}[{}]))",
                        alert("page", true),
                        slo_spec::names::format_duration(hold)
                    ),
                    at: end,
                    value: Some((hold.as_secs() / step.as_secs().max(1) + 1) as f64),
                });
            }
            Scenario {
                name,
                series: vec![
                    (events.clone(), counter(per_scrape, n)),
                    (
                        errors.clone(),
                        format!("0x{warm} {bad}+{bad}x{}", n - warm - 1),
                    ),
                ],
                checks,
            }
        };
        let deadline = outage_deadline(pair, *for_, budget, s);
        // Held for the long window (an hour at most) after it fired: the windows reach
        // their steady state well within it.
        let hold = on_grid(
            pair.long.min(Duration::from_secs(3600)).max(step * 10),
            step,
        );
        scenarios.push(burn(
            format!(
                "a full outage pages within {} ({} x {} x {} + 5 scrapes + 1m) and stays firing",
                fmt(deadline),
                fmt(pair.long),
                pair.burn_rate,
                slo.objective.budget_decimal()
            ),
            1.0,
            deadline,
            hold,
        ));
        summary
            .detections
            .push(("page".into(), "outage".into(), deadline));
        if threshold < 20.0 && 20.0 * budget < 1.0 {
            let deadline = pair.long + s * 5 + *for_;
            scenarios.push(burn(
                format!(
                    "a 20x burn pages within {} (the long window + 5 scrapes)",
                    fmt(deadline)
                ),
                20.0 * budget,
                deadline,
                Duration::ZERO,
            ));
            summary
                .detections
                .push(("page".into(), "20x".into(), deadline));
        }
        out.files.push(TestFile {
            name: "outage.yaml".into(),
            rules: "rules-outage.yaml".into(),
            step,
            input_interval: s,
            groups: order.clone(),
            scenarios: std::mem::take(&mut scenarios),
        });
    }

    // Half the budget, from the start, over the fastest long window and then some: steady
    // errors give every window the same ratio, so what could go wrong goes wrong early.
    let span = on_grid(min_long + plan.base * 2, step);
    let n = steps(span, s);
    let half = 0.5 * budget * per_scrape;
    let mut checks: Vec<Check> = super::file::checkpoints(steps(span, step))
        .map(|k| Check {
            expr: format!("count({})", alert("page|ticket", false)),
            at: step * k as u32,
            value: None,
        })
        .collect();
    checks.push(Check {
        expr: format!(
            "sum(count_over_time({}[{}]))",
            alert("page|ticket", false),
            slo_spec::names::format_duration(span)
        ),
        at: span,
        value: None,
    });
    scenarios.push(Scenario {
        name: format!(
            "errors at half the budget raise no page or ticket in {}",
            fmt(span)
        ),
        series: vec![(events, counter(per_scrape, n)), (errors, counter(half, n))],
        checks,
    });

    out.files.push(TestFile {
        name: "steady.yaml".into(),
        rules: "rules-scraped.yaml".into(),
        step,
        input_interval: s,
        groups: order,
        scenarios,
    });
    for f in &out.files {
        summary.scenarios += f.scenarios.len();
        summary.checks += f.scenarios.iter().map(|s| s.checks.len()).sum::<usize>();
    }
    Some(out)
}

pub(super) fn fmt(d: Duration) -> String {
    slo_spec::names::format_duration(super::file::round_secs(d))
}
