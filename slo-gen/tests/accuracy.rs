//! The generated long-window error ratio is a ratio of sums: on diurnal traffic with a
//! tenfold day/night swing and errors concentrated at night, it matches the exact ratio
//! (computed here from the raw counters) within 1%, while an average of 5m ratios (what
//! Sloth records for its period window) is far off. Both evaluated by the real promtool.

use std::f64::consts::PI;

const SPEC: &str = r#"version: v1
service: checkout
owner: team-checkout
slos:
  - name: availability
    description: Checkout requests succeed.
    objective: 99
    sli:
      ratio:
        errors: sum(rate(http_requests_total{code="500"}[{{window}}]))
        total: sum(rate(http_requests_total[{{window}}]))
    alerting:
      annotations: {runbook_url: https://runbooks.example.com/checkout}
"#;

const MINUTES: usize = 2 * 24 * 60;

/// Requests per second at minute `m`: 10 at night, 100 at midday.
fn traffic(m: usize) -> f64 {
    55.0 - 45.0 * (2.0 * PI * m as f64 / (24.0 * 60.0)).cos()
}

/// Errors are 3% of traffic at night, 0.1% by day.
fn error_fraction(m: usize) -> f64 {
    if traffic(m) < 40.0 {
        0.03
    } else {
        0.001
    }
}

/// Cumulative counters, one sample per minute (minute 0 is 0).
fn counters() -> (Vec<f64>, Vec<f64>) {
    let (mut ok, mut err) = (vec![0.0], vec![0.0]);
    for m in 0..MINUTES {
        let total = traffic(m) * 60.0;
        let errors = total * error_fraction(m);
        ok.push(ok[m] + total - errors);
        err.push(err[m] + errors);
    }
    (ok, err)
}

fn values(v: &[f64]) -> String {
    v.iter()
        .map(|x| format!("{x:.3}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs promtool on `checks` (expr, expected) at the end of the series; returns its output.
fn promtool(dir: &std::path::Path, rules: &str, checks: &[(String, f64)]) -> (bool, String) {
    let (ok, err) = counters();
    let mut t = String::from("rule_files: [rules.yaml]\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n");
    t += &format!(
        "      - series: 'http_requests_total{{code=\"200\"}}'\n        values: '{}'\n",
        values(&ok)
    );
    t += &format!(
        "      - series: 'http_requests_total{{code=\"500\"}}'\n        values: '{}'\n",
        values(&err)
    );
    t += "    promql_expr_test:\n";
    for (expr, value) in checks {
        t += &format!(
            "      - expr: '{expr}'\n        eval_time: {}m\n        exp_samples:\n          - labels: '{{}}'\n            value: {value}\n",
            MINUTES
        );
    }
    std::fs::write(dir.join("rules.yaml"), rules).unwrap();
    std::fs::write(dir.join("tests.yaml"), t).unwrap();
    crate::support::promtool(dir, &["test", "rules", "tests.yaml"])
}

/// The values promtool reports for failed checks, in order.
fn got_values(output: &str) -> Vec<f64> {
    output
        .lines()
        .filter_map(|l| l.trim().strip_prefix("got: "))
        .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
        .collect()
}

#[test]
#[ignore = "slow: promtool over a month of diurnal traffic (scripts/test runs it)"]
fn long_window_ratio_is_exact_under_diurnal_traffic() {
    let dir = tempfile::tempdir().unwrap();
    let sources = [slo_spec::Source {
        path: "checkout.yaml".into(),
        text: SPEC.into(),
    }];
    let checked = slo_spec::check(&sources);
    assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
    let groups = slo_gen::rules::service_groups(&checked.services[0], &Default::default());
    let mut rules = String::new();
    slo_gen::rules::emit::groups(&mut rules, 0, &groups);

    let (ok, err) = counters();
    let day = 24 * 60;
    let (e, o) = (
        err[MINUTES] - err[MINUTES - day],
        ok[MINUTES] - ok[MINUTES - day],
    );
    let exact = e / (e + o);

    let sel = r#"{service="checkout",slo="availability"}"#;
    let generated = format!("sum(slo:sli_error:ratio_rate1d{sel})");
    let average = format!("sum(avg_over_time(slo:sli_error:ratio_rate5m{sel}[1d]))");
    // Read both figures (promtool prints the values of checks that do not hold): one
    // promtool run over the two days, the bounds asserted on what it computed.
    let (_, probe) = promtool(dir.path(), &rules, &[(generated, -1.0), (average, -1.0)]);
    let got = got_values(&probe);
    assert_eq!(got.len(), 2, "{probe}");
    let (gen, avg) = (got[0], got[1]);
    println!("accuracy: exact 1d error ratio            {exact:.6}");
    println!(
        "accuracy: generated (ratio of sums)       {gen:.6}  ({:+.2}%)",
        (gen / exact - 1.0) * 100.0
    );
    println!(
        "accuracy: average of 5m ratios (Sloth)    {avg:.6}  ({:+.2}%)",
        (avg / exact - 1.0) * 100.0
    );
    assert!(
        (gen / exact - 1.0).abs() < 0.01,
        "generated {gen} vs exact {exact}"
    );
    assert!(
        (avg / exact - 1.0).abs() > 0.5,
        "average of ratios {avg} should be far off {exact}"
    );
}
