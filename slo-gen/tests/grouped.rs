//! Per-label SLOs (`group_by`) through the real promtool, fed raw series: one group burns
//! and pages, a healthy one does not, a group with zero traffic has no ratio (and no
//! label-less stand-in), `min_events` holds per group; latency and freshness SLIs get
//! their grouping from the generator.

const SPEC: &str = r#"version: v1
service: shop
owner: team-shop
slos:
  - name: checkout
    description: d
    objective: 99.9
    group_by: [region]
    sli:
      ratio:
        errors: sum by (region) (rate(requests_total{code="500"}[{{window}}]))
        total: sum by (region) (rate(requests_total[{{window}}]))
    alerting:
      min_events: 1000
      annotations: {runbook_url: https://runbooks.example.com/checkout}
  - name: latency
    description: d
    objective: 99
    group_by: [region]
    sli:
      latency: {histogram: request_duration_seconds, threshold: 300ms}
    alerting: {disabled: true}
  - name: export
    description: d
    objective: 99
    group_by: [region]
    sli:
      freshness: {metric: export_last_success_timestamp_seconds, max_age: 15m}
    alerting: {disabled: true}
"#;

/// Two hours at 1m. Region `a`: 100 req/s, 5% errors (a burn of 50x on a 0.1% budget).
/// `b`: 100 req/s, no errors. `c`: series exist, no traffic. `d`: 0.01 req/s, all errors,
/// under `min_events` (1000 events) in every tier's long window (216 in 6h). Latency: `a` 10% slow, `b` none.
/// Export: `a` last succeeded at minute 0, `b` keeps succeeding.
const INPUTS: &[(&str, &str)] = &[
    (r#"requests_total{region="a",code="200"}"#, "0+5700x120"),
    (r#"requests_total{region="a",code="500"}"#, "0+300x120"),
    (r#"requests_total{region="b",code="200"}"#, "0+6000x120"),
    (r#"requests_total{region="b",code="500"}"#, "0x120"),
    (r#"requests_total{region="c",code="200"}"#, "0x120"),
    (r#"requests_total{region="d",code="500"}"#, "0+0.6x120"),
    (
        r#"request_duration_seconds_bucket{region="a",le="0.3"}"#,
        "0+5400x120",
    ),
    (
        r#"request_duration_seconds_count{region="a"}"#,
        "0+6000x120",
    ),
    (
        r#"request_duration_seconds_bucket{region="b",le="0.3"}"#,
        "0+6000x120",
    ),
    (
        r#"request_duration_seconds_count{region="b"}"#,
        "0+6000x120",
    ),
    (
        r#"export_last_success_timestamp_seconds{region="a"}"#,
        "0x120",
    ),
    (
        r#"export_last_success_timestamp_seconds{region="b"}"#,
        "0+60x120",
    ),
];

#[test]
// Long: one scenario read top to bottom; each step starts from the state the last left.
fn one_group_burns_and_pages_alone() {
    let (groups, rules) = crate::support::compiled("shop.yaml", SPEC);
    assert!(
        rules.contains("shop/checkout for region={{ $labels.region }}"),
        "the alert names its group"
    );
    // The budget left is queried for the alert's own group, its value quoted by printf.
    assert!(rules.contains(r#"slo=\"checkout\",region=%q}` $labels.region)"#));

    let ratio = |slo: &str, region: &str, w: &str| {
        format!("slo:sli_error:ratio_rate{w}{{service=\"shop\",slo=\"{slo}\",region=\"{region}\"}}")
    };
    let page = |region: &str| {
        format!("count(ALERTS{{alertname=\"ShopCheckout\",alertstate=\"firing\",slo_tier=\"page\",region=\"{region}\"}})")
    };
    // (expr, expected value at 2h; None: no series)
    let checks: Vec<(String, Option<f64>)> = vec![
        (
            format!("round(sum({}) * 1000)", ratio("checkout", "a", "1h")),
            Some(50.0),
        ),
        (ratio("checkout", "b", "1h"), Some(0.0)),
        (ratio("checkout", "c", "1h"), None),
        (page("a"), Some(1.0)),
        (page("b"), None),
        (page("c"), None),
        (page("d"), None),
        // No series without a group: a label-less stand-in would match no group.
        (
            r#"slo:sli_events:rate5m{service="shop",slo="checkout",region=""}"#.into(),
            None,
        ),
        (
            format!("round(sum({}) * 1000)", ratio("latency", "a", "1h")),
            Some(100.0),
        ),
        (ratio("latency", "b", "1h"), Some(0.0)),
        // `a` is stale from minute 16: the last hour is all bad; `b` all good.
        (ratio("export", "a", "1h"), Some(1.0)),
        (ratio("export", "b", "1h"), Some(0.0)),
        (
            r#"count(slo:sli_inputs:count{service="shop",slo="checkout"})"#.into(),
            Some(4.0),
        ),
    ];
    let mut t =
        String::from("rule_files: [rules.yaml]\nevaluation_interval: 1m\ngroup_eval_order:\n");
    for g in &groups {
        t += &format!("  - {}\n", g.name);
    }
    t += "tests:\n  - interval: 1m\n    input_series:\n";
    for (series, values) in INPUTS {
        t += &format!("      - series: '{series}'\n        values: '{values}'\n");
    }
    t += "    promql_expr_test:\n";
    for (expr, want) in &checks {
        t += &format!("      - expr: '{expr}'\n        eval_time: 2h\n");
        match want {
            Some(v) => {
                let labels = if expr.starts_with("slo:") {
                    expr.replace('"', "\\\"")
                } else {
                    "{}".into()
                };
                t += &format!("        exp_samples:\n          - labels: \"{labels}\"\n            value: {v}\n");
            }
            None => t += "        exp_samples: []\n",
        }
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.yaml"), &rules).unwrap();
    std::fs::write(dir.path().join("tests.yaml"), &t).unwrap();
    let (ok, text) = crate::support::promtool(dir.path(), &["test", "rules", "tests.yaml"]);
    assert!(ok, "{text}\n--- tests ---\n{t}");
}
