//! A usage burst against a slowed aggregation, through the real promtool: the committed
//! `slos/usage-aggregation.yaml` (freshness as customers see it: the age of the oldest
//! event not yet aggregated) pages, while the SLO it replaced (the job's last success)
//! stays green because the job keeps succeeding while it falls behind.

/// The SLO as it was before: freshness of the job's last success.
const LAST_SUCCESS_SPEC: &str = r#"version: v1
service: usage-aggregation-before
owner: billing-metering
slos:
  - name: aggregation-freshness
    description: d
    objective: 99
    sli:
      freshness:
        metric: billing_pipeline_last_success_timestamp_seconds
        selector: '{pipeline="usage-aggregation"}'
        max_age: 15m
    alerting:
      annotations: {runbook_url: https://runbooks.example.com/x}
"#;

fn rules(path: &str, text: &str) -> String {
    let checked = slo_spec::check(&[slo_spec::Source {
        path: path.into(),
        text: text.into(),
    }]);
    assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
    let svc = &checked.services[0];
    let mut out = String::new();
    slo_gen::rules::emit::groups(
        &mut out,
        0,
        &slo_gen::rules::service_groups(svc, &Default::default()),
    );
    out
}

/// Group order for promtool: every SLO's groups, fast before long before alerts.
fn eval_order(rules: &str) -> String {
    rules
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- name: "))
        .map(|n| format!("  - {n}\n"))
        .collect()
}

#[test]
fn a_burst_against_slowed_aggregation_pages_on_customer_freshness() {
    let root = crate::support::root();
    let spec = std::fs::read_to_string(root.join("slos/usage-aggregation.yaml")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let now_rules = rules("usage-aggregation.yaml", &spec);
    let old_rules = rules("old.yaml", LAST_SUCCESS_SPEC);
    std::fs::write(dir.path().join("now.yaml"), &now_rules).unwrap();
    std::fs::write(dir.path().join("old.yaml"), &old_rules).unwrap();

    // 30s steps. 2h quiet (lag 1s); then a burst meets an aggregation slowed to a crawl:
    // the backlog's oldest event ages 30s per step for 30 minutes (to 1800s), then the
    // backlog drains over 10 minutes. The job reports success every step throughout.
    let quiet = 240;
    let lag = format!("1x{} 30+30x59 1770-177x10 0x60", quiet - 1);
    let last_success = "0+30x400";
    let alert = |tier: &str| {
        format!("count(ALERTS{{alertname=\"UsageAggregationAggregationFreshness\",alertstate=\"firing\",slo_tier=\"{tier}\"}})")
    };
    let burst = quiet * 30; // seconds
    let checks = [
        // Four minutes in, the oldest event is 240s old: under 5m, nothing burns.
        (alert("page"), burst + 4 * 60, None),
        // The page needs 14.4x the budget over 1h and 5m: 8.6 stale minutes.
        (alert("page"), burst + 12 * 60, None),
        (alert("page"), burst + 16 * 60, Some(1)),
        (alert("page"), burst + 30 * 60, Some(1)),
    ];
    let mut t = String::from(
        "rule_files: [now.yaml, old.yaml]\nevaluation_interval: 30s\ngroup_eval_order:\n",
    );
    t += &eval_order(&now_rules);
    t += &eval_order(&old_rules);
    t += "tests:\n  - interval: 30s\n    input_series:\n";
    t += &format!("      - series: 'billing_pipeline_lag_seconds{{pipeline=\"usage-aggregation\"}}'\n        values: '{lag}'\n");
    t += &format!("      - series: 'billing_pipeline_last_success_timestamp_seconds{{pipeline=\"usage-aggregation\"}}'\n        values: '{last_success}'\n");
    t += "    promql_expr_test:\n";
    for (expr, at, want) in &checks {
        t += &format!("      - expr: '{expr}'\n        eval_time: {at}s\n");
        match want {
            Some(v) => {
                t += &format!(
                    "        exp_samples:\n          - labels: '{{}}'\n            value: {v}\n"
                )
            }
            None => t += "        exp_samples: []\n",
        }
    }
    // The old SLO never saw it: the job succeeded every 30s, so every slice was fresh.
    let before = r#"{service="usage-aggregation-before",slo="aggregation-freshness"}"#;
    for at in [burst + 16 * 60, burst + 30 * 60, burst + 40 * 60] {
        t += &format!("      - expr: 'count(ALERTS{{alertstate=\"firing\",service=\"usage-aggregation-before\"}})'\n        eval_time: {at}s\n        exp_samples: []\n");
        t += &format!("      - expr: 'slo:sli_error:ratio_rate1h{before}'\n        eval_time: {at}s\n        exp_samples:\n          - labels: 'slo:sli_error:ratio_rate1h{before}'\n            value: 0\n");
    }
    std::fs::write(dir.path().join("tests.yaml"), &t).unwrap();
    let (ok, text) = crate::support::promtool(dir.path(), &["test", "rules", "tests.yaml"]);
    assert!(ok, "{text}\n--- tests ---\n{t}");
}
