//! Windows of running totals against the raw counters, through the real promtool: a day of
//! traffic swinging tenfold (errors heavier at the trough, so a wrong weighting shows),
//! scraped every minute, and Prometheus down twice: ten minutes (no scrapes, no rule
//! evaluations) and two hours. The generated rules are wrapped so they record nothing
//! during the gaps, which is harsher than a restart (promtool then writes staleness
//! markers that a restart does not).
//!
//! Across the short gap the period's error ratio stays within 0.5% of the raw counters';
//! across the long one the totals resume from their checkpoint and the month to date keeps
//! what came before; no window is ever negative or more than the raw counters hold, and a
//! steady error ratio under every threshold never alerts.

use std::fmt::Write;
use std::time::Duration;

const SPEC: &str = r#"version: v1
service: totals
owner: o
slos:
  - name: rolling
    description: d
    objective: 99.9
    period: 1d
    sli:
      ratio:
        errors: sum(rate(x_total{code="500"}[{{window}}]))
        total: sum(rate(x_total[{{window}}]))
    alerting:
      annotations: {runbook_url: https://r.example.com}
  - name: monthly
    description: d
    objective: 99.9
    period: calendar-month
    sli:
      ratio:
        errors: sum(rate(x_total{code="500"}[{{window}}]))
        total: sum(rate(x_total[{{window}}]))
    alerting:
      annotations: {runbook_url: https://r.example.com}
"#;

const SCRAPE: u64 = 60;
const HOUR: u64 = 3600;
const END: u64 = 24 * HOUR + 12 * HOUR;
/// Prometheus down: `[from, to)` in seconds.
const GAPS: [(u64, u64); 2] = [
    (24 * HOUR + HOUR, 24 * HOUR + HOUR + 600),
    (24 * HOUR + 4 * HOUR, 24 * HOUR + 6 * HOUR),
];

fn down(t: u64) -> bool {
    GAPS.iter().any(|&(a, b)| (a..b).contains(&t))
}

/// Requests per second: 10 at the daily peak, 1 at the trough.
fn traffic(t: u64) -> f64 {
    let phase = (t % 86400) as f64 / 86400.0 * std::f64::consts::TAU;
    5.5 + 4.5 * phase.sin()
}

/// The share of bad requests: 0.05% at the peak, 0.075% at the trough (under every
/// threshold: a 0.75x burn at most).
fn bad_share(t: u64) -> f64 {
    0.0005 * (1.0 + 0.5 * (10.0 - traffic(t)) / 9.0)
}

/// The counters' values every scrape (`_` while Prometheus is down).
fn counters() -> (String, String) {
    let (mut all, mut bad) = (0.0, 0.0);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for k in 0..=END / SCRAPE {
        let t = k * SCRAPE;
        if t > 0 {
            let n = traffic(t) * SCRAPE as f64;
            all += n * (1.0 - bad_share(t));
            bad += n * bad_share(t);
        }
        if down(t) {
            a.push("_".to_string());
            b.push("_".to_string());
        } else {
            a.push(format!("{all}"));
            b.push(format!("{bad}"));
        }
    }
    (a.join(" "), b.join(" "))
}

/// Every rule records nothing while Prometheus is down.
fn with_gaps(rules: &str) -> String {
    let up: Vec<String> = GAPS
        .iter()
        .enumerate()
        .map(|(i, &(_, b))| {
            let after = format!("vector(time()) >= {b}");
            match GAPS.get(i + 1) {
                Some(&(next, _)) => format!("({after} and vector(time()) < {next})"),
                None => after,
            }
        })
        .collect();
    let cond = format!("vector(time()) < {} or {}", GAPS[0].0, up.join(" or "));
    let mut out = String::new();
    let mut lines = rules.lines().peekable();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        if let Some(expr) = trimmed.strip_prefix("expr: ") {
            let mut body = Vec::new();
            if expr == "|-" {
                while let Some(next) = lines.peek() {
                    if next.starts_with(&format!("{indent}  ")) {
                        body.push(next.trim_start().to_string());
                        lines.next();
                    } else {
                        break;
                    }
                }
            } else {
                body.push(serde_json::from_str::<String>(expr).unwrap_or(expr.to_string()));
            }
            let _ = writeln!(out, "{indent}expr: |-");
            let _ = writeln!(out, "{indent}  (");
            for b in &body {
                let _ = writeln!(out, "{indent}    {b}");
            }
            let _ = writeln!(out, "{indent}  )\n{indent}  and on() ({cond})");
        } else {
            let _ = writeln!(out, "{line}");
        }
    }
    out
}

fn check(t: &mut String, expr: &str, at: u64, value: Option<f64>) {
    let _ = writeln!(t, "      - expr: '{expr}'\n        eval_time: {at}s");
    match value {
        Some(v) => {
            let _ = writeln!(
                t,
                "        exp_samples:\n          - labels: '{{}}'\n            value: {v}"
            );
        }
        None => t.push_str("        exp_samples: []\n"),
    }
}

#[test]
#[ignore = "slow: promtool over days of raw counters with gaps (scripts/test runs it)"]
// Long: one scenario read top to bottom; each step starts from the state the last left.
fn windows_match_the_raw_counters_across_gaps_without_negative_or_doubled_sums() {
    let checked = slo_spec::check(&[slo_spec::Source {
        path: "totals.yaml".into(),
        text: SPEC.into(),
    }]);
    assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
    let svc = &checked.services[0];
    let groups = slo_gen::rules::service_groups(svc, &Default::default());
    let mut rules = String::new();
    slo_gen::rules::emit::groups(&mut rules, 0, &groups);
    let rules = with_gaps(&rules);

    let (all, bad) = counters();
    let mut t =
        String::from("rule_files: [rules.yaml]\nevaluation_interval: 30s\ngroup_eval_order:\n");
    for g in &groups {
        let _ = writeln!(t, "  - {}", g.name);
    }
    let _ = write!(
        t,
        "tests:\n  - interval: {SCRAPE}s\n    input_series:\n      - series: 'x_total{{code=\"200\"}}'\n        values: '{all}'\n      - series: 'x_total{{code=\"500\"}}'\n        values: '{bad}'\n    promql_expr_test:\n"
    );
    let roll = r#"{service="totals",slo="rolling"}"#;
    let month = r#"{service="totals",slo="monthly"}"#;
    // The raw counters' error ratio over the day, and since the month began (at 0).
    let raw_day = r#"(sum(increase(x_total{code="500"}[1d])) / sum(increase(x_total[1d])))"#;
    let within =
        |a: &str, b: &str, tol: f64| format!("sum(abs({a} / scalar({b}) - 1) < bool {tol})");
    let (short_end, long_end) = (GAPS[0].1, GAPS[1].1);
    // Before the gaps, and from just after the short one: the day's ratio within 0.5%.
    for at in [24 * HOUR, short_end + 300, short_end + HOUR, GAPS[1].0 - 30] {
        let expr = within(&format!("slo:sli_error:ratio_rate1d{roll}"), raw_day, 0.005);
        check(&mut t, &expr, at, Some(1.0));
    }
    // After the long gap: the totals resumed (within the resume group's five minutes), and
    // the day's ratio is that of the counters over what was seen (two of its hours never
    // were, at their peak).
    let seen = |code: &str| {
        let c = if code.is_empty() {
            String::new()
        } else {
            format!("{{code=\"{code}\"}}")
        };
        let unseen: Vec<String> = GAPS
            .iter()
            .map(|(a, b)| {
                format!(
                    "(sum(x_total{c} @ {}) - sum(x_total{c} @ {}))",
                    b + SCRAPE,
                    a - SCRAPE
                )
            })
            .collect();
        format!("(sum(increase(x_total{c}[1d])) - {})", unseen.join(" - "))
    };
    let raw_day_seen = format!("({} / {})", seen("500"), seen(""));
    for at in [long_end + 600, long_end + 3 * HOUR, END] {
        let expr = within(
            &format!("slo:sli_error:ratio_rate1d{roll}"),
            &raw_day_seen,
            0.005,
        );
        check(&mut t, &expr, at, Some(1.0));
        // The month to date keeps what came before the gap, and holds no more than the
        // counters.
        let total = format!("sum(slo:sli_events:calendar_sum{month})");
        let kept = format!(
            "{total} > bool 0.99 * sum(x_total @ {}) * ({total} < bool 1.01 * sum(x_total))",
            GAPS[1].0 - SCRAPE
        );
        check(&mut t, &kept, at, Some(1.0));
    }
    // No window is negative or holds more than the raw counters (ever, for every window).
    for slo in &svc.slos {
        let sel = format!("{{service=\"totals\",slo=\"{}\"}}", slo.name);
        for w in slo_eval::plan(slo).windows {
            let w = slo_spec::names::format_duration(w);
            for c in slo_gen::names::series::Count::BOTH {
                let name = slo_gen::names::series::increase(
                    c,
                    promql_parser::util::parse_duration(&w).unwrap(),
                );
                let never_negative = format!("sum(min_over_time({name}{sel}[{END}s]) >= bool 0)");
                check(&mut t, &never_negative, END, Some(1.0));
            }
            let name = slo_gen::names::series::increase(
                slo_gen::names::series::Count::Events,
                promql_parser::util::parse_duration(&w).unwrap(),
            );
            // Against the counters' own difference over the window (from the last sample
            // before it), past the first day: the base rate lags by two minutes, a few
            // percent of a short window where traffic swings fastest. Doubled is 2.
            let never_more = format!(
                "sum(max_over_time(({name}{sel} / scalar(sum(x_total) - (sum(last_over_time(x_total[1h] offset {w})) or vector(0)) + 1))[12h:1m]) < bool 1.05)"
            );
            check(&mut t, &never_more, END, Some(1.0));
        }
    }
    // A steady error ratio under every threshold: no page, no ticket, at any time.
    check(
        &mut t,
        &format!("count_over_time(ALERTS{{service=\"totals\",slo_tier=~\"page|ticket\"}}[{END}s])"),
        END,
        None,
    );

    let dir = tempfile::tempdir().unwrap();
    if let Ok(keep) = std::env::var("TOTALS_KEEP") {
        std::fs::create_dir_all(&keep).unwrap();
        std::fs::write(format!("{keep}/rules.yaml"), &rules).unwrap();
        std::fs::write(format!("{keep}/test.yaml"), &t).unwrap();
    }
    std::fs::write(dir.path().join("rules.yaml"), &rules).unwrap();
    std::fs::write(dir.path().join("test.yaml"), &t).unwrap();
    let started = std::time::Instant::now();
    let (ok, text) = crate::support::promtool(dir.path(), &["test", "rules", "test.yaml"]);
    println!(
        "totals: {} of raw counters, gaps of 10m and 2h, checked in {:.0?}",
        slo_spec::names::format_duration(Duration::from_secs(END)),
        started.elapsed()
    );
    assert!(ok, "{text}");
}
