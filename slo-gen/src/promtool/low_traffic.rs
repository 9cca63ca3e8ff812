//! The low-traffic test of the default policy, from raw counters at the spec's scrape
//! interval: ten requests an hour, evenly spaced, after hours of them (counters well past
//! zero, as in production). One stray error pages nobody for the fast page's long window
//! (tickets look back days, more than a test fills); a full outage pages once enough failed requests have arrived for the test
//! ([`slo_spec::significance`]): `k` arrivals (two for a 99.9% SLO), a third of the base
//! window and two evaluations. Event SLIs whose fastest page looks back at
//! least 30 minutes (five requests at this rate) only.

use super::behaviour::{fastest_page_pair, fmt, on_grid, scraped, test_series, Behaviour};
use super::file::{Check, Scenario, Summary, TestFile};
use crate::rules::{self, Options};
use slo_eval::Plan;
use slo_spec::significance;
use slo_spec::{Service, Slo};
use std::time::Duration;

/// One request every six minutes.
const GAP: Duration = Duration::from_secs(360);
/// The counters' values before the scenario: a service that has run for a while.
const EVENTS_BEFORE: u64 = 100_000;
const ERRORS_BEFORE: u64 = 100;

// Long: two scenarios, each beside its checks, sharing the counters' notation.
pub(super) fn suite(
    svc: &Service,
    slo: &Slo,
    plan: &Plan,
    opts: &Options,
    summary: &mut Summary,
) -> Option<Behaviour> {
    let budget = slo.objective.budget_decimal().to_f64();
    let (pair, for_) = fastest_page_pair(plan, budget)?;
    let z2: f64 = plan
        .tiers
        .iter()
        .find(|t| t.tier == slo_spec::Tier::Page)?
        .z2
        .as_ref()?
        .parse()
        .ok()?;
    if pair.long < Duration::from_secs(1800) {
        return None;
    }
    let (s, step) = (plan.scrape, plan.interval);
    let (events, errors) = test_series(slo);
    let groups = rules::slo_groups(svc, &scraped(slo), opts);
    let page = super::file::alerts_count(&slo.alerting.name, &svc.name, &slo.name, Some("page"));
    // Clean traffic fills the long window first; arrivals fall on the scrape grid.
    let warm = on_grid(pair.long + plan.base, GAP);
    let span = warm + pair.long;
    let n = (span.as_secs() / s.as_secs().max(1)) as usize;
    let arrivals = |t: Duration| t.as_secs() / GAP.as_secs();
    let series = |errors_at: &dyn Fn(Duration) -> u64| -> (String, String) {
        let ev: Vec<u64> = (0..=n)
            .map(|k| EVENTS_BEFORE + arrivals(s * k as u32))
            .collect();
        let er: Vec<u64> = (0..=n)
            .map(|k| ERRORS_BEFORE + errors_at(s * k as u32))
            .collect();
        (runs(&ev), runs(&er))
    };

    // Failed requests the test needs in the long window at this traffic.
    let long_events = pair.long.as_secs_f64() / GAP.as_secs_f64();
    let h = budget * significance::null_burn(pair.burn_rate).to_f64();
    let k = (1..=20u32)
        .find(|k| significance::deviance(*k as f64, long_events * h) > z2)
        .unwrap_or(20);
    // Failed requests the long window's ratio needs to cross the threshold (many at a low
    // objective, where the page's burn asks for most requests to fail).
    let crossing = (long_events * pair.burn_rate.to_f64() * budget).floor() as u32 + 1;
    let needed = k.max(crossing);
    // An explicit `min_events` above the window's requests is a floor the author set: the
    // outage must stay silent then, and the test shows it.
    let floor = slo.alerting.min_events.filter(|n| *n as f64 > long_events);
    let mut scenarios = Vec::new();
    // One stray error, with the first request after the warm-up: silent where one failed
    // request is not improbable (k >= 2; at 99.99% the month's budget is 0.7 requests at
    // this rate, and one failure is reason enough to page).
    if k >= 2 {
        let (ev, er) = series(&|t| u64::from(t >= warm));
        let quiet: Vec<Check> = (1..=pair.long.as_secs() / 300)
            .map(|i| Check {
                expr: page.clone(),
                at: warm + Duration::from_secs(300 * i),
                value: None,
            })
            .collect();
        let stray = Scenario {
            name: format!(
                "one failed request among ten an hour pages nobody for {}",
                fmt(pair.long)
            ),
            series: vec![(events.clone(), ev), (errors.clone(), er)],
            checks: quiet,
        };
        scenarios.push(stray);
    }

    // A full outage starting just after a request: every later one fails.
    let start = warm + s;
    // The needed-th failed request is sampled at `warm + needed × GAP`; a third of the base
    // window later its rate has added enough, and two evaluations record and alert on it.
    let deadline = on_grid(warm + GAP * needed + plan.base / 3 + step * 2 + for_, step);
    let (ev, er) = series(&|t| {
        if t >= start {
            arrivals(t) - arrivals(warm)
        } else {
            0
        }
    });
    let name = match floor {
        None => format!(
            "a full outage at ten requests an hour pages within {} ({needed} failed requests six minutes apart)",
            fmt(deadline - start)
        ),
        Some(n) => format!(
            "a full outage at ten requests an hour stays silent: min_events {n} is more than the {long_events} requests of {}",
            fmt(pair.long)
        ),
    };
    let outage = Scenario {
        name,
        series: vec![(events, ev), (errors, er)],
        checks: vec![Check {
            expr: page.clone(),
            at: deadline,
            value: floor.is_none().then_some(1.0),
        }],
    };
    scenarios.push(outage);
    if floor.is_none() {
        summary
            .detections
            .push(("page".into(), "outage at 10/h".into(), deadline - start));
    }
    let file = TestFile {
        name: "low-traffic.yaml".into(),
        rules: "rules-low-traffic.yaml".into(),
        step,
        input_interval: s,
        groups: groups.iter().map(|g| g.name.clone()).collect(),
        scenarios,
    };
    summary.scenarios += file.scenarios.len();
    summary.checks += file.scenarios.iter().map(|s| s.checks.len()).sum::<usize>();
    Some(Behaviour {
        rules: vec![("rules-low-traffic.yaml".into(), groups)],
        files: vec![file],
    })
}

/// Counter values in promtool's notation, runs of one value as `vxN`.
fn runs(values: &[u64]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < values.len() {
        let mut j = i;
        while j + 1 < values.len() && values[j + 1] == values[i] {
            j += 1;
        }
        out.push(format!("{}x{}", values[i], j - i));
        i = j + 1;
    }
    out.join(" ")
}
