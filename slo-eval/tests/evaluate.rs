//! The evaluator on synthetic base series: when tiers fire and resolve, `for`, `min_events`,
//! gaps, missing data per group, windows read from running totals, and attainment. Each case
//! states a history as rates per evaluation and the firings expected, in minutes.

use slo_eval::{evaluate, plan, GroupHistory, Millis, Samples, Schedule, Timestamp};
use slo_spec::Slo;
use slo_spec::Tier;
use std::collections::BTreeMap;

const MIN: Millis = 60_000;

fn slo(extra: &str) -> Slo {
    let text = format!(
        "version: v1\nservice: s\nowner: o\nslos:\n  - name: a\n    description: d\n    objective: 99.9\n    sli:\n      ratio:\n        errors: sum(rate(x_total{{code=\"500\"}}[{{{{window}}}}]))\n        total: sum(rate(x_total[{{{{window}}}}]))\n{extra}"
    );
    let checked = slo_spec::check(&[slo_spec::Source {
        path: "t.yaml".into(),
        text,
    }]);
    assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
    checked.services[0].slos[0].clone()
}

/// A base series sampled every `step` from 0 to `end` with the value `f(t)` (`None`: no sample).
fn series(step: Millis, end: Millis, f: impl Fn(Millis) -> Option<f64>) -> Samples {
    Samples::new(
        (0..=end / step)
            .map(|k| k * step)
            .filter_map(|t| f(t).map(|v| (Timestamp(t), v)))
            .collect(),
    )
}

/// 100 events per second, of which `bad(t)` is the error share; inputs present while
/// `present(t)`.
fn history(
    step: Millis,
    end: Millis,
    bad: impl Fn(Millis) -> f64,
    present: impl Fn(Millis) -> bool + Copy,
) -> GroupHistory {
    GroupHistory {
        labels: BTreeMap::new(),
        events: series(step, end, |t| Some(if present(t) { 100.0 } else { 0.0 })),
        errors: series(step, end, |t| {
            Some(if present(t) { 100.0 * bad(t) } else { 0.0 })
        }),
        inputs: series(step, end, |t| present(t).then_some(3.0)),
    }
}

/// Firings as `(tier, start minute, end minute)`, with times relative to 0.
fn check(
    slo: &Slo,
    h: &[GroupHistory],
    from: Millis,
    to: Millis,
    expected: &[(&str, f64, Option<f64>)],
) {
    let plan = plan(slo);
    let sched = Schedule::of(&plan, Timestamp(from), Timestamp(to));
    let out = evaluate(slo, &plan, h, &sched);
    let got: Vec<(&str, f64, Option<f64>)> = out
        .iter()
        .flat_map(|o| &o.firings)
        .map(|f| {
            (
                f.tier.as_str(),
                f.start.0 as f64 / MIN as f64,
                f.end.map(|e| e.0 as f64 / MIN as f64),
            )
        })
        .collect();
    assert_eq!(got, expected);
}

const PAGE_ONLY: &str = "    alerting:\n      page:\n        windows: [{long: 1h, short: 5m, burn_rate: 14.4}]\n      ticket: {disabled: true}\n";

#[test]
fn a_fast_spike_pages_when_the_hour_crosses_and_resolves_with_the_short_window() {
    // 2% errors = 20x from minute 60 to 120. The hour (the 120 samples at 30s after its
    // start) crosses 14.4x with 87 bad samples: at 103. The short window (5m, 10 samples)
    // falls under it with 7 bad ones: at 121. 30d at a 1m scrape: the rules run every 30s.
    let s = slo(PAGE_ONLY);
    let h = history(
        30_000,
        300 * MIN,
        |t| {
            if (60 * MIN..120 * MIN).contains(&t) {
                0.02
            } else {
                0.0
            }
        },
        |_| true,
    );
    check(&s, &[h], 0, 300 * MIN, &[("page", 103.0, Some(121.0))]);
}

#[test]
fn a_day_window_crosses_at_its_share_on_every_schedule() {
    // 3.5x from minute 1440, ticket 3x over 1d and 2h: the day (2880 samples) crosses
    // with 2469 bad ones, at 2674, on the rules' own schedule and on promtool's.
    let s = slo("    alerting:\n      page: {disabled: true}\n      ticket:\n        windows: [{long: 1d, short: 2h, burn_rate: 3}]\n");
    let h = history(
        30_000,
        3000 * MIN,
        |t| if t >= 1440 * MIN { 0.0035 } else { 0.0 },
        |_| true,
    );
    check(
        &s,
        std::slice::from_ref(&h),
        0,
        3000 * MIN,
        &[("ticket", 2674.0, None)],
    );
    let p = plan(&s);
    let out = evaluate(
        &s,
        &p,
        &[h],
        &Schedule::uniform(
            &p,
            Timestamp(0),
            Timestamp(3000 * MIN),
            std::time::Duration::from_secs(30),
        ),
    );
    assert_eq!(out[0].firings[0].start, Timestamp(2674 * MIN));
}

#[test]
fn for_holds_a_tier_back_and_a_shorter_flap_never_fires() {
    // 100% errors (1000x) from 60 to 62 and from 120 to 150; page `for: 10m`. The first
    // burst is active from 60.5 (two bad samples in the hour) until the short window
    // (5m) is clean of it, 66: 5.5 minutes, never fires. The second is active from 120
    // (the hour still holds the first burst), fires at 130 and resolves at 154.5.
    let s = slo(&PAGE_ONLY.replace("page:\n", "page:\n        for: 10m\n"));
    let bad = |t: Millis| {
        if (60 * MIN..62 * MIN).contains(&t) || (120 * MIN..150 * MIN).contains(&t) {
            1.0
        } else {
            0.0
        }
    };
    let h = history(30_000, 200 * MIN, bad, |_| true);
    let p = plan(&s);
    let out = evaluate(
        &s,
        &p,
        &[h],
        &Schedule::of(&p, Timestamp(0), Timestamp(200 * MIN)),
    );
    let f = &out[0].firings;
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(
        (f[0].start, f[0].end),
        (Timestamp(130 * MIN), Some(Timestamp(154 * MIN + 30_000)))
    );
    // The peak: the hour from 149.5 on holds 60 bad samples of 120.
    let peak = f[0].peak_burn_rate.unwrap();
    assert!((peak - 1000.0 * 60.0 / 120.0).abs() < 1e-9, "{peak}");
}

#[test]
fn min_events_keeps_a_quiet_service_from_paging() {
    // 100/s is 360,000 events an hour and 8.64 million a day: a guard of a million blocks
    // the page, not the ticket.
    let s = slo("    alerting:\n      min_events: 1000000\n      page:\n        windows: [{long: 1h, short: 5m, burn_rate: 14.4}]\n      ticket:\n        windows: [{long: 1d, short: 2h, burn_rate: 3}]\n");
    let h = history(
        30_000,
        300 * MIN,
        |t| if t >= 60 * MIN { 0.05 } else { 0.0 },
        |_| true,
    );
    let p = plan(&s);
    let out = evaluate(
        &s,
        &p,
        &[h],
        &Schedule::of(&p, Timestamp(0), Timestamp(300 * MIN)),
    );
    let tiers: Vec<Tier> = out[0].firings.iter().map(|f| f.tier).collect();
    assert_eq!(tiers, vec![Tier::Ticket]);
    // Without the guard the page fires too.
    let s = Slo {
        alerting: slo_spec::Alerting {
            min_events: None,
            ..s.alerting.clone()
        },
        ..s
    };
    let out = evaluate(
        &s,
        &p,
        &[history(
            30_000,
            300 * MIN,
            |t| if t >= 60 * MIN { 0.05 } else { 0.0 },
            |_| true,
        )],
        &Schedule::of(&p, Timestamp(0), Timestamp(300 * MIN)),
    );
    assert!(out[0].firings.iter().any(|f| f.tier == Tier::Page));
}

#[test]
fn missing_data_raises_the_absent_alert_after_for_and_never_a_page() {
    // Inputs gone from minute 100 to 130: events read 0 (the `or vector(0)` of one
    // aggregate), no ratio, no page; absent fires after `for` (5m for 30d).
    let s = slo("");
    let h = history(
        30_000,
        200 * MIN,
        |_| 0.0,
        |t| !(100 * MIN..130 * MIN).contains(&t),
    );
    let plan = plan(&s);
    let out = evaluate(
        &s,
        &plan,
        &[h],
        &Schedule::of(&plan, Timestamp(0), Timestamp(200 * MIN)),
    );
    let absent: Vec<_> = out[0]
        .firings
        .iter()
        .filter(|f| f.tier == Tier::Absent)
        .map(|f| (f.start.0 / MIN, f.end.map(|e| e.0 / MIN)))
        .collect();
    assert_eq!(absent, vec![(105, Some(130))]);
}

#[test]
fn a_vanished_group_fires_by_name_and_no_group_at_all_fires_once() {
    // Validation wants the queries aggregated by the group; the evaluator reads only
    // `group_by`, so set it on a valid SLO.
    let s = Slo {
        group_by: vec!["region".into()],
        ..slo("")
    };
    let group = |name: &str, present: fn(Millis) -> bool| GroupHistory {
        labels: [("region".to_string(), name.to_string())].into(),
        ..history(30_000, 200 * MIN, |_| 0.0, present)
    };
    // Grouped base series have no sample where the group has no series.
    let strip = |mut g: GroupHistory, present: fn(Millis) -> bool| {
        g.events = Samples::new(g.events.points().filter(|p| present(p.0 .0)).collect());
        g.errors = Samples::new(g.errors.points().filter(|p| present(p.0 .0)).collect());
        g
    };
    let a: fn(Millis) -> bool = |t| t < 100 * MIN;
    let b: fn(Millis) -> bool = |t| t < 150 * MIN;
    let h = [strip(group("a", a), a), strip(group("b", b), b)];
    let plan = plan(&s);
    let out = evaluate(
        &s,
        &plan,
        &h,
        &Schedule::of(&plan, Timestamp(0), Timestamp(200 * MIN)),
    );
    let got: Vec<(String, Millis, Option<Millis>)> = out
        .iter()
        .flat_map(|o| {
            o.firings.iter().map(move |f| {
                (
                    o.labels.get("region").cloned().unwrap_or_default(),
                    f.start.0 / MIN,
                    f.end.map(|e| e.0 / MIN),
                )
            })
        })
        .collect();
    // `a` is missed 5m after it went, until it falls out of the 1h5m lookback; `b` too;
    // with neither left, the label-less absent fires 5m after `b` went.
    assert_eq!(
        got,
        vec![
            ("a".into(), 105, Some(165)),
            ("b".into(), 155, None),
            ("".into(), 155, None),
        ]
    );
}

#[test]
fn attainment_and_budget_are_event_weighted_over_the_period() {
    // Half the time 1000/s with 0.1% errors, half the time 10/s with 10%: an average of
    // ratios would say 5.05%; the ratio of sums says (1 + 1) / 1010 = 0.198%.
    let s = slo("");
    let step = 30_000;
    let end = 600 * MIN;
    let busy = |t: Millis| t < 300 * MIN;
    let h = GroupHistory {
        labels: BTreeMap::new(),
        events: series(step, end, |t| Some(if busy(t) { 1000.0 } else { 10.0 })),
        errors: series(step, end, |_| Some(1.0)),
        inputs: series(step, end, |_| Some(1.0)),
    };
    let plan = plan(&s);
    let out = evaluate(
        &s,
        &plan,
        &[h],
        &Schedule::of(&plan, Timestamp(0), Timestamp(end)),
    );
    let n_busy = (0..=end / step).filter(|k| busy(k * step)).count() as f64;
    let n_quiet = (end / step + 1) as f64 - n_busy;
    let ratio = (n_busy + n_quiet) / (1000.0 * n_busy + 10.0 * n_quiet);
    let a = out[0].attainment.unwrap();
    assert!((a - (1.0 - ratio)).abs() < 1e-12, "{a}");
    let left = out[0].budget_remaining.unwrap();
    assert!((left - (1.0 - ratio / 0.001)).abs() < 1e-9, "{left}");
    assert_eq!(out[0].attainment_since, Some(Timestamp(0)));
}

#[test]
fn firings_that_ended_before_from_are_not_reported_but_state_is_warmed_up() {
    let s = slo(PAGE_ONLY);
    let bad = |t: Millis| {
        if (60 * MIN..120 * MIN).contains(&t) {
            0.02
        } else {
            0.0
        }
    };
    let h = history(30_000, 300 * MIN, bad, |_| true);
    // From inside the firing: it is reported with its true start.
    check(
        &s,
        std::slice::from_ref(&h),
        110 * MIN,
        300 * MIN,
        &[("page", 103.0, Some(121.0))],
    );
    // From after it: nothing.
    check(&s, &[h], 130 * MIN, 300 * MIN, &[]);
}

#[test]
fn excluded_time_pages_nobody_and_counts_neither_good_nor_bad() {
    // The spike of the first test (20x from minute 60 to 120, paging 103..121).
    let spike = |t: Millis| {
        if (60 * MIN..120 * MIN).contains(&t) {
            0.02
        } else {
            0.0
        }
    };
    let h = history(30_000, 300 * MIN, spike, |_| true);
    let with = |from: &str, to: &str| {
        slo(&format!("    exclusions:\n      - reason: r\n        from: 1970-01-01T{from}:00Z\n        to: 1970-01-01T{to}:00Z\n{PAGE_ONLY}"))
    };
    // All of it excluded: nothing fires and the period saw no bad event.
    let s = with("00:59", "02:00");
    check(&s, std::slice::from_ref(&h), 0, 300 * MIN, &[]);
    let p = plan(&s);
    let sched = Schedule::of(&p, Timestamp(0), Timestamp(300 * MIN));
    let out = evaluate(&s, &p, std::slice::from_ref(&h), &sched);
    assert_eq!(out[0].attainment, Some(1.0));
    // After it: as without.
    check(
        &with("02:30", "03:00"),
        std::slice::from_ref(&h),
        0,
        300 * MIN,
        &[("page", 103.0, Some(121.0))],
    );
    // From 01:50 the page resolves at the first evaluation after the start (110.5) and
    // stays quiet through the end (02:10), the windows then holding what came before.
    check(
        &with("01:50", "02:10"),
        std::slice::from_ref(&h),
        0,
        300 * MIN,
        &[("page", 103.0, Some(110.5))],
    );
}
