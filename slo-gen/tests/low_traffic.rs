//! The default policy at low traffic, on simulated months (requests at random, replayed
//! through the offline evaluator, which is held to promtool elsewhere): with the
//! low-traffic test and without it (the rule before it), side by side.
//!
//! - 10 requests an hour, each failing with probability 0.1% (a 99.9% SLO burning at 1x):
//!   page episodes per month over twelve months;
//! - the same service in a full outage: minutes until the page;
//! - 1 request a minute, errors at 14.4x the budget for the fast pair's long window:
//!   whether and when it pages, at 99.9% and 99%.

use slo_eval::{evaluate, Plan, Schedule, Timestamp};
use slo_gen::backtest::arrivals::{history, Traffic};
use slo_spec::Tier;

const MIN: i64 = 60_000;
const MONTH: i64 = 30 * 1440 * MIN;
/// 2027-01-01T00:00:00Z, a minute boundary.
const START: Timestamp = Timestamp(1_798_761_600_000);

fn slo(objective: &str) -> slo_spec::Slo {
    let text = format!(
        "version: v1\nservice: s\nowner: o\nslos:\n  - name: a\n    description: d\n    objective: {objective}\n    sli:\n      ratio:\n        errors: sum(rate(r_total{{code=\"5\"}}[{{{{window}}}}]))\n        total: sum(rate(r_total[{{{{window}}}}]))\n"
    );
    let checked = slo_spec::check(&[slo_spec::Source {
        path: "s.yaml".into(),
        text,
    }]);
    assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
    checked.services[0].slos[0].clone()
}

/// The plan as it was before the low-traffic test.
fn without_test(plan: &Plan) -> Plan {
    let mut old = plan.clone();
    for t in &mut old.tiers {
        t.z2 = None;
    }
    old
}

/// The start of each page episode over `[from, to]`: firings less than an hour apart are
/// one episode (one person woken).
fn pages(
    s: &slo_spec::Slo,
    plan: &Plan,
    traffic: &Traffic,
    from: Timestamp,
    to: Timestamp,
) -> Vec<Timestamp> {
    let warm = slo_eval::warmup(plan).as_millis() as i64;
    let g = history(plan, traffic, from - warm - 10 * MIN, to);
    let sched = Schedule::of(plan, from, to);
    let mut starts = Vec::new();
    let mut last_end: Option<Timestamp> = None;
    for f in evaluate(s, plan, &[g], &sched)
        .iter()
        .flat_map(|o| &o.firings)
        .filter(|f| f.tier == Tier::Page)
    {
        if last_end.is_none_or(|e| f.start - e >= 60 * MIN) {
            starts.push(f.start);
        }
        last_end = Some(f.end.unwrap_or(to));
    }
    starts
}

#[test]
#[ignore = "slow: twelve simulated months through the evaluator (scripts/test runs it)"]
fn ten_requests_an_hour_at_the_budget_rate_page_at_most_once_a_month() {
    let s = slo("99.9");
    let plan = slo_eval::plan(&s);
    let mut new_total = 0;
    let mut old_total = 0;
    for month in 0..12 {
        let from = START + month * MONTH;
        let traffic = Traffic {
            per_hour: 10.0,
            error_share: 0.001,
            outages: vec![],
            seed: 1000 + month as u64,
            even: false,
        };
        let new = pages(&s, &plan, &traffic, from, from + MONTH).len();
        let old = pages(&s, &without_test(&plan), &traffic, from, from + MONTH).len();
        println!("low-traffic: month {month}: {new} page episodes with the test, {old} without");
        assert!(new <= 1, "month {month}: {new} page episodes");
        new_total += new;
        old_total += old;
    }
    println!("low-traffic: 12 months at 10 requests/h, 0.1% errors: {new_total} page episodes with the test, {old_total} without");
    assert!(old_total > new_total, "the test must matter here");
}

#[test]
#[ignore = "slow: a simulated month with twelve outages through the evaluator"]
fn a_full_outage_at_ten_requests_an_hour_pages_within_fifteen_minutes() {
    let s = slo("99.9");
    let plan = slo_eval::plan(&s);
    let from = START;
    // Twelve one-hour outages, each at another minute of the hour, two days apart.
    let outages: Vec<(Timestamp, Timestamp)> = (0..12)
        .map(|i| {
            let a = from + (2 * i + 1) * 1440 * MIN + (i * 7 % 60) * MIN;
            (a, a + 60 * MIN)
        })
        .collect();
    let mut worst = Vec::new();
    for even in [true, false] {
        let traffic = Traffic {
            per_hour: 10.0,
            error_share: 0.0,
            outages: outages.clone(),
            seed: 7,
            even,
        };
        let arrivals = if even { "every 6 minutes" } else { "at random" };
        for (name, p) in [
            ("with the test", plan.clone()),
            ("without", without_test(&plan)),
        ] {
            let starts = pages(&s, &p, &traffic, from, from + 26 * 1440 * MIN);
            let mut delays: Vec<i64> = outages
                .iter()
                .map(|(a, _)| {
                    let first = starts
                        .iter()
                        .find(|t| **t >= *a)
                        .expect("every outage pages");
                    (*first - *a) / MIN
                })
                .collect();
            delays.sort();
            println!(
                "low-traffic: full outage at 10 requests/h {arrivals}, {name}: paged after {delays:?} minutes (median {}, worst {})",
                delays[delays.len() / 2],
                delays[delays.len() - 1]
            );
            // Random arrivals can leave fewer than two requests in fifteen minutes (29%
            // of the time at 10/h): one failed request is all a stray error is too.
            if even {
                worst.push((name, delays[delays.len() - 1]));
            }
        }
    }
    assert!(worst.iter().all(|(_, w)| *w <= 15), "{worst:?}");
}

#[test]
#[ignore = "slow: 200 simulated hours at 14.4x through the evaluator"]
fn one_request_a_minute_at_the_fast_threshold() {
    for objective in ["99.9", "99"] {
        let s = slo(objective);
        let plan = slo_eval::plan(&s);
        let budget = s.objective.budget_decimal().to_f64();
        let long = plan.tiers[0].pairs[0].long.as_millis() as i64;
        for (name, p) in [
            ("with the test", plan.clone()),
            ("without", without_test(&plan)),
        ] {
            let (mut paged, mut delays) = (0, Vec::new());
            let trials = 100;
            for trial in 0..trials {
                let from = START + trial * 2 * 1440 * MIN;
                let burst = (from + 720 * MIN, from + 720 * MIN + long);
                // Errors at 14.4x the budget inside the burst: each request fails with
                // that probability there, none outside.
                let hot = Traffic {
                    per_hour: 60.0,
                    error_share: 14.4 * budget,
                    outages: vec![],
                    seed: 5000 + trial as u64,
                    even: false,
                };
                let warm = slo_eval::warmup(&p).as_millis() as i64;
                let g = slo_gen::backtest::arrivals::history_with(
                    &p,
                    &hot,
                    from - warm,
                    burst.1 + long,
                    |t| burst.0 < t && t <= burst.1,
                );
                let sched = Schedule::of(&p, burst.0, burst.1 + long);
                let first = evaluate(&s, &p, &[g], &sched)
                    .iter()
                    .flat_map(|o| &o.firings)
                    .filter(|f| f.tier == Tier::Page && f.start >= burst.0)
                    .map(|f| f.start)
                    .min();
                if let Some(t) = first {
                    paged += 1;
                    delays.push((t - burst.0) / MIN);
                }
            }
            delays.sort();
            let median = delays.get(delays.len() / 2).copied();
            println!(
                "low-traffic: 1 request/min, 14.4x for {} at {objective}%, {name}: paged in {paged} of {trials} trials, median {median:?} minutes after the burn began",
                slo_spec::names::format_duration(plan.tiers[0].pairs[0].long),
            );
        }
    }
}

#[test]
#[ignore = "slow: simulated burns at 1 request/s through the evaluator"]
fn at_one_request_a_second_detection_stays_within_ten_percent() {
    let s = slo("99.9");
    let plan = slo_eval::plan(&s);
    for (what, share) in [("20x burn", 0.02), ("full outage", 1.0)] {
        let mut sums = [0i64; 2];
        for trial in 0..10 {
            let from = START + trial * 2 * 1440 * MIN;
            let burst = (from + 720 * MIN, from + 720 * MIN + 6 * 60 * MIN);
            let traffic = Traffic {
                per_hour: 3600.0,
                error_share: share,
                outages: vec![],
                seed: 9000 + trial as u64,
                even: false,
            };
            let warm = slo_eval::warmup(&plan).as_millis() as i64;
            for (i, p) in [plan.clone(), without_test(&plan)].iter().enumerate() {
                let g = slo_gen::backtest::arrivals::history_with(
                    p,
                    &traffic,
                    from - warm,
                    burst.1,
                    |t| burst.0 < t && t <= burst.1,
                );
                let sched = Schedule::of(p, burst.0, burst.1);
                let first = evaluate(&s, p, &[g], &sched)
                    .iter()
                    .flat_map(|o| &o.firings)
                    .filter(|f| f.tier == Tier::Page && f.start >= burst.0)
                    .map(|f| f.start)
                    .min()
                    .expect("pages");
                sums[i] += (first - burst.0) / 1000;
            }
        }
        let ratio = sums[0] as f64 / sums[1] as f64;
        println!(
            "low-traffic: 1 request/s, {what}: mean detection {}s with the test, {}s without ({ratio:.3}x)",
            sums[0] / 10,
            sums[1] / 10
        );
        assert!(ratio <= 1.1, "{what}: {ratio}");
    }
}

#[test]
#[ignore = "slow: a simulated month replayed by backtest"]
fn backtest_shows_what_the_rules_before_the_test_would_have_raised() {
    use slo_gen::backtest::{self, history::Entry, history::History, Evaluation};
    use slo_gen::promapi::Series;
    let checked = slo_spec::check(&[slo_spec::Source {
        path: "s.yaml".into(),
        text: "version: v1\nservice: s\nowner: o\nslos:\n  - name: a\n    description: d\n    objective: 99.9\n    sli:\n      ratio:\n        errors: sum(rate(r_total{code=\"5\"}[{{window}}]))\n        total: sum(rate(r_total[{{window}}]))\n".into(),
    }]);
    let targets = backtest::targets(&checked.services);
    let (from, to) = (START, START + MONTH);
    let need = targets[0].need(from, to, Evaluation::Groups);
    let traffic = Traffic {
        per_hour: 10.0,
        error_share: 0.001,
        outages: vec![],
        seed: 1000,
        even: false,
    };
    let g = history(&targets[0].plan, &traffic, need.start, to);
    let series = |s: &slo_eval::Samples| {
        vec![Series {
            labels: Default::default(),
            samples: s.points().collect(),
        }]
    };
    let h = History {
        prometheus: "simulated".into(),
        from,
        to,
        entries: vec![Entry {
            service: need.service.clone(),
            slo: need.slo.clone(),
            queries: need.queries.clone(),
            step: need.step,
            start: need.start,
            end: to,
            events: series(&g.events),
            errors: series(&g.errors),
            inputs: series(&g.inputs),
        }],
    };
    let run = backtest::replay(&targets, &h, Evaluation::Groups).unwrap();
    let s = &run.slos[0];
    let (old_pages, _) = s.without_low_traffic_test.expect("an event SLI");
    println!(
        "low-traffic: backtest of a simulated month: {} pages, {old_pages} without the test",
        s.count(Tier::Page)
    );
    assert!(old_pages > s.count(Tier::Page));
    let report = backtest::render::Report {
        run: &run,
        baseline: None,
        scores: None,
    };
    let (text, md) = (
        backtest::render::text(&report),
        backtest::render::markdown(&report),
    );
    let pages = s.count(Tier::Page);
    for line in [
        format!("without the low-traffic test: {old_pages} pages ({pages} with it)"),
        format!("; {old_pages} without the low-traffic test"),
    ] {
        assert!(text.contains(&line), "{line:?} not in\n{text}");
    }
    let cell = format!("| {pages} ({old_pages} without the test) |");
    assert!(md.contains(&cell), "{cell:?} not in\n{md}");
}
