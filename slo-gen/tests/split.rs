//! The split layout in promtool: the global set, fed only the clusters' `slo_cluster:`
//! recordings (what remote write delivers, the `cluster` label on each), merges them into
//! the SLO's base series, pages once for a fault in one cluster, and for a cluster that
//! stops sending raises that cluster's missing-data alert and nothing else, counting the
//! clusters that remain. `generate --layout split` writes both sets and `--check` covers them.

use crate::support::{promtool, run};
use slo_gen::rules::split::{cluster_series, lookback};
use slo_gen::rules::{emit, Options};
use slo_spec::names::format_duration;

const SPEC: &str = r#"version: v1
service: payments
owner: billing-payments
scrape_interval: SCRAPE
slos:
  - name: webhooks
    description: Provider webhooks are accepted.
    objective: 99.9
    period: 30d
    sli:
      ratio:
        errors: sum(rate(http_requests_total{code=~"5.."}[{{window}}]))
        total: sum(rate(http_requests_total[{{window}}]))
    alerting:
      breakdown: [code]
      annotations: {runbook_url: https://runbooks.example.com/webhooks}
"#;

struct Setup {
    dir: tempfile::TempDir,
    slo: slo_spec::Slo,
    plan: slo_eval::Plan,
    /// `{service="payments",slo="webhooks"}` without the braces.
    ids: &'static str,
}

/// The spec scraped every `scrape` (`15s`, `1m`).
fn setup(scrape: &str) -> Setup {
    let checked = slo_spec::check(&[slo_spec::Source {
        path: "payments.yaml".into(),
        text: SPEC.replace("SCRAPE", scrape),
    }]);
    assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
    let svc = &checked.services[0];
    let plan = slo_eval::plan(&svc.slos[0]);
    let split = slo_gen::rules::service_split(svc, &Options::default());
    let dir = tempfile::tempdir().unwrap();
    let mut rules = String::new();
    emit::groups(&mut rules, 0, &split.global);
    std::fs::write(dir.path().join("global.yaml"), rules).unwrap();
    // The global set reads no raw series, not even in the breakdown annotation: only
    // recordings the local set makes.
    let mut local = String::new();
    emit::groups(&mut local, 0, &split.local);
    assert!(!local.contains("record: slo:"), "{local}");
    assert!(local.contains("record: slo_cluster:sli_breakdown_error_events:rate"));
    let global = std::fs::read_to_string(dir.path().join("global.yaml")).unwrap();
    assert!(!global.contains("http_requests_total"), "{global}");
    Setup {
        dir,
        slo: svc.slos[0].clone(),
        plan,
        ids: r#"service="payments",slo="webhooks""#,
    }
}

/// A promtool test of the global set: `series` are (name, cluster, values).
fn suite(
    s: &Setup,
    series: &[(String, &str, String)],
    checks: &[(String, String, &str)],
) -> (bool, String) {
    let step = format_duration(s.plan.interval);
    let mut t = format!("rule_files: [global.yaml]\nevaluation_interval: {step}\ntests:\n  - interval: {step}\n    input_series:\n");
    for (name, cluster, values) in series {
        t += &format!(
            "      - series: '{name}{{cluster=\"{cluster}\",{}}}'\n        values: '{values}'\n",
            s.ids
        );
    }
    t += "    promql_expr_test:\n";
    for (expr, at, value) in checks {
        t += &format!("      - expr: '{expr}'\n        eval_time: {at}\n        exp_samples:\n");
        if !value.is_empty() {
            // `{labels} value`, or a bare value for a label-less sample.
            let (labels, value) = value.split_once(' ').unwrap_or(("{}", value));
            t += &format!("          - labels: '{labels}'\n            value: {value}\n");
        }
    }
    std::fs::write(s.dir.path().join("test.yaml"), t).unwrap();
    promtool(s.dir.path(), &["test", "rules", "test.yaml"])
}

impl Setup {
    /// The local set's recordings the global set reads: events, errors, inputs.
    fn recorded(&self) -> (String, String, String) {
        use slo_gen::names::series;
        (
            cluster_series(&series::events(self.plan.base)),
            cluster_series(&series::error_events(self.plan.base)),
            cluster_series(series::INPUTS),
        )
    }
}

/// Samples per evaluation step over `minutes`.
fn steps(s: &Setup, minutes: u64) -> u64 {
    minutes * 60 / s.plan.interval.as_secs()
}

#[test]
#[ignore = "slow: promtool over two hours of two clusters (scripts/test runs it)"]
fn a_silent_cluster_raises_its_own_alert_and_the_others_keep_counting() {
    for scrape in ["15s", "1m"] {
        silent_cluster(scrape);
    }
}

fn silent_cluster(scrape: &str) {
    let s = setup(scrape);
    let (events, errors, inputs) = s.recorded();
    let total = steps(&s, 120);
    let stop = steps(&s, 60);
    // Cluster a sends all along, cluster b stops at minute 60.
    let series = vec![
        (events.clone(), "a", format!("10x{total}")),
        (errors.clone(), "a", format!("0x{total}")),
        (inputs.clone(), "a", format!("1x{total}")),
        (events.clone(), "b", format!("5x{stop}")),
        (errors.clone(), "b", format!("0x{stop}")),
        (inputs.clone(), "b", format!("1x{stop}")),
    ];
    let merged = format!(
        "slo:sli_events:rate{}{{{}}}",
        format_duration(s.plan.base),
        s.ids
    );
    let late = lookback(&s.plan, Options::default().remote_write_delay);
    let for_ = s.plan.absent.as_ref().unwrap().for_;
    let fires = 3600 + late.as_secs() + for_.as_secs() + 2 * s.plan.interval.as_secs();
    let cluster_alert = r#"count(ALERTS{alertname="PaymentsWebhooksClusterAbsent",alertstate="firing",cluster="b"})"#;
    let other_alerts =
        r#"count(ALERTS{alertstate="firing",alertname!="PaymentsWebhooksClusterAbsent"})"#;
    let checks = vec![
        (format!("sum({merged})"), "30m".to_string(), "15"),
        (
            format!("sum({merged})"),
            format!("{}s", 3600 + late.as_secs() + s.plan.interval.as_secs()),
            "10",
        ),
        (cluster_alert.to_string(), "59m".to_string(), ""),
        (cluster_alert.to_string(), format!("{fires}s"), "1"),
        (other_alerts.to_string(), format!("{fires}s"), ""),
        (other_alerts.to_string(), "119m".to_string(), ""),
    ];
    let (ok, out) = suite(&s, &series, &checks);
    assert!(ok, "at a {scrape} scrape: {out}");
    println!(
        "split at a {scrape} scrape: cluster b silent at 60m; merged events 15/s -> 10/s after {}, its alert by {}",
        format_duration(late),
        format_duration(std::time::Duration::from_secs(fires - 3600))
    );
}

#[test]
#[ignore = "slow: promtool over two hours of two clusters (scripts/test runs it)"]
fn a_fault_in_one_cluster_pages_once_globally() {
    for scrape in ["15s", "1m"] {
        one_cluster_fault(scrape);
    }
}

fn one_cluster_fault(scrape: &str) {
    let s = setup(scrape);
    let (events, errors, inputs) = s.recorded();
    let total = steps(&s, 120);
    let healthy = steps(&s, 30);
    // 20x the budget over both clusters' events, all of it in cluster a.
    let bad = 0.02 * 15.0;
    let series = vec![
        (events.clone(), "a", format!("10x{total}")),
        (
            errors.clone(),
            "a",
            format!("0x{healthy} {bad}x{}", total - healthy),
        ),
        (inputs.clone(), "a", format!("1x{total}")),
        (events.clone(), "b", format!("5x{total}")),
        (errors.clone(), "b", format!("0x{total}")),
        (inputs.clone(), "b", format!("1x{total}")),
    ];
    let page = r#"count(ALERTS{alertstate="firing",severity="page"})"#;
    // The page's `clusters` annotation lists what this query returns: cluster a, with
    // every error.
    let sel = format!("{{{}}}", s.ids);
    let named = slo_gen::rules::split::clusters_query(&s.slo, &s.plan, &sel);
    let checks = vec![
        (named, "100m".to_string(), r#"{cluster="a"} 1"#),
        (page.to_string(), "29m".to_string(), ""),
        (page.to_string(), "100m".to_string(), "1"),
        (
            r#"count(ALERTS{alertstate="firing",slo_tier="absent"})"#.to_string(),
            "100m".to_string(),
            "",
        ),
    ];
    let (ok, out) = suite(&s, &series, &checks);
    assert!(ok, "at a {scrape} scrape: {out}");
}

#[test]
fn generate_writes_both_sets_and_check_covers_them() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("slos")).unwrap();
    std::fs::write(
        dir.path().join("slos/payments.yaml"),
        SPEC.replace("SCRAPE", "30s"),
    )
    .unwrap();
    let (code, _, err) = run(dir.path(), &["generate", "slos", "--layout", "split"]);
    assert_eq!(code, 0, "{err}");
    for set in ["local", "global"] {
        let path = dir.path().join(format!("rules/{set}/payments.yaml"));
        assert!(path.is_file(), "{}", path.display());
        let (ok, out) = promtool(dir.path(), &["check", "rules", &path.to_string_lossy()]);
        assert!(ok, "{out}");
    }
    assert!(!dir.path().join("rules/payments.yaml").exists());
    let (code, _, err) = run(
        dir.path(),
        &["generate", "slos", "--layout", "split", "--check"],
    );
    assert_eq!(code, 0, "{err}");
    // A hand edit of the global set is drift.
    let global = dir.path().join("rules/global/payments.yaml");
    let text = std::fs::read_to_string(&global).unwrap();
    std::fs::write(&global, text.replace("last_over_time", "max_over_time")).unwrap();
    let (code, out, _) = run(
        dir.path(),
        &["generate", "slos", "--layout", "split", "--check"],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("rules/global/payments.yaml: stale"), "{out}");
    // Back to the single layout: the split sets are orphans, removed.
    let (code, out, err) = run(dir.path(), &["generate", "slos"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("rules/local/payments.yaml: no longer generated"),
        "{out}"
    );
    assert!(!global.exists());
}
