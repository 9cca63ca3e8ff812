//! Every SLI kind compiles to rules that read the raw series correctly: steady synthetic
//! inputs give the error ratio they were built with, evaluated by the real promtool.

const SPEC: &str = r#"version: v1
service: shop
owner: team-shop
slos:
  - name: errors
    description: d
    objective: 99
    sli:
      ratio:
        errors: sum(rate(requests_total{code="500"}[{{window}}]))
        total: sum(rate(requests_total[{{window}}]))
    alerting: {page: {disabled: true}, ticket: {disabled: true}}
  - name: good
    description: d
    objective: 99
    sli:
      ratio:
        good: sum(rate(requests_total{code="200"}[{{window}}]))
        total: sum(rate(requests_total[{{window}}]))
    alerting: {page: {disabled: true}, ticket: {disabled: true}}
  - name: latency
    description: d
    objective: 99
    sli:
      latency: {histogram: request_duration_seconds, selector: '{route="/a"}', threshold: 300ms}
    alerting: {page: {disabled: true}, ticket: {disabled: true}}
  - name: freshness
    description: d
    objective: 99
    sli:
      freshness: {metric: export_last_success_timestamp_seconds, selector: '{job="export"}', max_age: 15m}
    alerting: {page: {disabled: true}, ticket: {disabled: true}}
  - name: age
    description: d
    objective: 99
    sli:
      freshness: {age: export_lag_seconds, selector: '{job="export"}', max_age: 5m}
    alerting: {page: {disabled: true}, ticket: {disabled: true}}
  - name: raw
    description: d
    objective: 99
    sli:
      raw: {error_ratio: 'sum(rate(requests_total{code="500"}[{{window}}])) / sum(rate(requests_total[{{window}}]))'}
    alerting: {page: {disabled: true}, ticket: {disabled: true}}
"#;

/// (series, promtool values) over two hours at 1m: 100 req/s with 2% errors; latency
/// 5% over 300ms; the export succeeded last at minute 0 only, so it is stale (older than
/// 15m) from minute 16 on; the export's lag is 60s, except 600s (over 5m) in the last
/// 15 minutes.
const INPUTS: &[(&str, &str)] = &[
    ("requests_total{code=\"200\"}", "0+5880x120"),
    ("requests_total{code=\"500\"}", "0+120x120"),
    (
        "request_duration_seconds_bucket{route=\"/a\",le=\"0.3\"}",
        "0+5700x120",
    ),
    (
        "request_duration_seconds_bucket{route=\"/a\",le=\"+Inf\"}",
        "0+6000x120",
    ),
    ("request_duration_seconds_count{route=\"/a\"}", "0+6000x120"),
    (
        "export_last_success_timestamp_seconds{job=\"export\"}",
        "0x120",
    ),
    ("export_lag_seconds{job=\"export\"}", "60x105 600x15"),
];

#[test]
fn each_sli_kind_yields_its_error_ratio() {
    let (_, rules) = crate::support::compiled("shop.yaml", SPEC);

    // (slo, window, expected error ratio at 2h)
    let expected = [
        ("errors", "5m", 0.02),
        ("errors", "1h", 0.02),
        ("good", "5m", 0.02),
        ("good", "1h", 0.02),
        ("latency", "5m", 0.05),
        ("latency", "1h", 0.05),
        // Stale from minute 16: every slice of the last hour is bad.
        ("freshness", "1h", 1.0),
        // Lag over 5m from minute 106: 15 of the 60 one-minute slices in (1h, 2h].
        ("age", "1h", 15.0 / 60.0),
        ("raw", "1h", 0.02),
    ];
    // How many raw series each SLI reads: what the missing-data alert watches.
    let inputs = [
        ("errors", 2),
        ("good", 2),
        ("latency", 1),
        ("freshness", 1),
        ("age", 1),
        ("raw", 3),
    ];
    let mut t = String::from("rule_files: [rules.yaml]\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n");
    for (series, values) in INPUTS {
        t += &format!("      - series: '{series}'\n        values: '{values}'\n");
    }
    t += "    promql_expr_test:\n";
    for (slo, window, value) in expected {
        t += &format!(
            "      - expr: 'round(sum(slo:sli_error:ratio_rate{window}{{service=\"shop\",slo=\"{slo}\"}}) * 10000)'\n        eval_time: 2h\n        exp_samples:\n          - labels: '{{}}'\n            value: {}\n",
            (value * 10000.0_f64).round()
        );
    }
    for (slo, n) in inputs {
        t += &format!(
            "      - expr: 'sum(slo:sli_inputs:count{{service=\"shop\",slo=\"{slo}\"}})'\n        eval_time: 2h\n        exp_samples:\n          - labels: '{{}}'\n            value: {n}\n"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.yaml"), &rules).unwrap();
    std::fs::write(dir.path().join("tests.yaml"), &t).unwrap();
    let (ok, text) = crate::support::promtool(dir.path(), &["test", "rules", "tests.yaml"]);
    assert!(ok, "{text}\n--- rules ---\n{rules}");
}
