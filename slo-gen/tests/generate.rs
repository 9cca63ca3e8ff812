//! `slo-gen generate` and `slo-gen test` through the real binary and the real promtool.

use std::path::Path;

const SPEC: &str = r#"version: v1
service: checkout
owner: team-checkout
labels: {tier: "1"}
slos:
  - name: availability
    description: Checkout requests succeed.
    objective: 99.9
    sli:
      ratio:
        errors: sum(rate(http_requests_total{code=~"5.."}[{{window}}]))
        total: sum(rate(http_requests_total[{{window}}]))
    alerting:
      annotations: {runbook_url: https://runbooks.example.com/checkout}
  - name: latency
    description: Checkout answers within 300ms.
    objective: 99
    sli:
      latency: {histogram: http_request_duration_seconds, selector: '{route="/checkout"}', threshold: 300ms}
    alerting:
      min_events: 50
      annotations: {runbook_url: https://runbooks.example.com/checkout}
      page: {for: 2m}
  - name: freshness
    description: Orders are exported within 15 minutes.
    objective: 99.5
    period: 7d
    sli:
      freshness: {metric: export_last_success_timestamp_seconds, max_age: 15m}
    alerting:
      annotations: {runbook_url: https://runbooks.example.com/checkout}
      ticket: {disabled: true}
  - name: raw
    description: Raw ratio.
    objective: 95
    sli:
      raw: {error_ratio: '1 - avg_over_time(up{job="checkout"}[{{window}}])'}
    alerting: {disabled: true}
"#;

use crate::support::slo_gen;

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = slo_gen(dir).args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("slos")).unwrap();
    std::fs::write(dir.path().join("slos/checkout.yaml"), SPEC).unwrap();
    dir
}

fn promtool_check(path: &Path) -> String {
    let dir = path.parent().expect("a rule file is in a directory");
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .expect("a UTF-8 file name");
    let (ok, text) = crate::support::promtool(dir, &["check", "rules", name]);
    assert!(ok, "{text}");
    text
}

#[test]
fn generates_deterministic_files_that_promtool_accepts() {
    let dir = setup();
    let d = dir.path();
    let (code, stdout, _) = run(d, &["generate"]);
    assert_eq!(code, 0);
    assert_eq!(
        stdout,
        "alertmanager/inhibit_rules.yaml: written\ndashboards/checkout.json: written\ndashboards/provisioning.yaml: written\ndashboards/slo-overview.json: written\nrules/checkout.yaml: written\n"
    );
    let first = std::fs::read(d.join("rules/checkout.yaml")).unwrap();
    let text = promtool_check(&d.join("rules/checkout.yaml"));
    assert!(text.contains("SUCCESS"), "{text}");

    // Same specs, same bytes; an unchanged file is not rewritten.
    let (code, stdout, stderr) = run(d, &["generate"]);
    assert_eq!((code, stdout.as_str()), (0, ""));
    assert!(stderr.contains("5 files generated, 0 changed"), "{stderr}");
    assert_eq!(std::fs::read(d.join("rules/checkout.yaml")).unwrap(), first);
    let leftovers: Vec<_> = std::fs::read_dir(d.join("rules"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "temp files left behind: {leftovers:?}");

    let rules = String::from_utf8(first).unwrap();
    // Numbers as written, never float noise.
    assert!(
        rules.contains("vector(0.999)") && rules.contains("/ 0.001 > 14.4"),
        "{rules}"
    );
    assert!(
        !rules.contains("0.000999") && !rules.contains("0.9990000"),
        "float noise"
    );
    // Alerts per SLO: both tiers and the missing-data alert; page only (ticket disabled);
    // none (alerting disabled).
    let doc: serde_json::Value = serde_saphyr::from_str(&rules).unwrap();
    let tiers = |group: &str| -> Vec<String> {
        doc["groups"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|g| g["name"] == group)
            .flat_map(|g| g["rules"].as_array().unwrap().iter())
            .map(|r| r["labels"]["slo_tier"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        tiers("slo-checkout-availability-alerts"),
        ["page", "ticket", "absent"]
    );
    assert_eq!(tiers("slo-checkout-freshness-alerts"), ["page", "absent"]);
    assert!(tiers("slo-checkout-raw-alerts").is_empty());
    // Raw series are read only at the base window.
    assert!(
        !rules.contains("http_requests_total[30m]") && !rules.contains("http_requests_total[1h]")
    );
}

#[test]
fn check_names_every_missing_stale_and_orphaned_file() {
    let dir = setup();
    let d = dir.path();
    std::fs::write(d.join("slos/cart.yaml"), SPEC.replace("checkout", "cart")).unwrap();
    assert_eq!(run(d, &["generate", "--check"]).0, 1);
    assert_eq!(run(d, &["generate"]).0, 0);
    let (code, stdout, _) = run(d, &["generate", "--check"]);
    assert_eq!((code, stdout.as_str()), (0, ""));

    std::fs::write(
        d.join("rules/cart.yaml"),
        "# Generated by slo-gen\nedited: by hand\n",
    )
    .unwrap();
    std::fs::remove_file(d.join("rules/checkout.yaml")).unwrap();
    std::fs::write(
        d.join("rules/gone.yaml"),
        "# Generated by slo-gen from gone.yaml.\ngroups: []\n",
    )
    .unwrap();
    std::fs::write(d.join("rules/mine.yaml"), "groups: []\n").unwrap();
    let before = std::fs::read_to_string(d.join("rules/cart.yaml")).unwrap();
    let (code, stdout, _) = run(d, &["generate", "--check"]);
    assert_eq!(code, 1);
    assert_eq!(
        stdout,
        "rules/cart.yaml: stale\nrules/checkout.yaml: missing\nrules/gone.yaml: no longer generated by any spec\n"
    );
    // A dashboard of a removed service is ours too (recognised by its tag).
    std::fs::write(
        d.join("dashboards/old.json"),
        r#"{"tags": ["slo-gen"], "title": "old"}"#,
    )
    .unwrap();
    std::fs::write(
        d.join("dashboards/team.json"),
        r#"{"tags": ["team"], "title": "kept"}"#,
    )
    .unwrap();
    let (_, stdout, _) = run(d, &["generate", "--check"]);
    assert!(
        stdout.contains("dashboards/old.json: no longer generated by any spec"),
        "{stdout}"
    );
    assert!(!stdout.contains("team.json"), "{stdout}");
    // --check writes nothing.
    assert_eq!(
        std::fs::read_to_string(d.join("rules/cart.yaml")).unwrap(),
        before
    );
    assert!(!d.join("rules/checkout.yaml").exists());

    assert_eq!(run(d, &["generate"]).0, 0);
    assert_eq!(run(d, &["generate", "--check"]).0, 0);
    assert!(
        !d.join("rules/gone.yaml").exists(),
        "orphaned generated file removed"
    );
    assert!(
        d.join("rules/mine.yaml").exists(),
        "files we did not generate are left alone"
    );
}

/// Output goes only where the command line points: `--output`, or beside a named
/// directory; never into the current directory when the user named others.
#[test]
fn output_goes_only_where_the_command_line_points() {
    let dir = setup();
    let d = dir.path();
    std::fs::create_dir_all(d.join("elsewhere/alertmanager")).unwrap();
    let mine = "# this repository's own inhibit rules\n";
    std::fs::write(d.join("elsewhere/alertmanager/inhibit_rules.yaml"), mine).unwrap();
    let spec = d.join("slos");
    let spec = spec.to_str().unwrap();
    let (code, stdout, stderr) = run(
        &d.join("elsewhere"),
        &[
            "generate",
            spec,
            "--rules-dir",
            "../other/rules",
            "--dashboards-dir",
            "../other/dashboards",
        ],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(
        std::fs::read_to_string(d.join("elsewhere/alertmanager/inhibit_rules.yaml")).unwrap(),
        mine,
        "a file the command line did not imply was overwritten"
    );
    assert!(d.join("other/alertmanager/inhibit_rules.yaml").is_file());
    assert!(d.join("other/rules/checkout.yaml").is_file());
    assert!(
        stdout.contains("../other/alertmanager/inhibit_rules.yaml: written"),
        "{stdout}"
    );

    let (code, stdout, stderr) = run(d, &["generate", "--output", "out"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    for sub in [
        "rules/checkout.yaml",
        "dashboards/checkout.json",
        "alertmanager/inhibit_rules.yaml",
    ] {
        let (ours, repo) = (d.join("out").join(sub), d.join("other").join(sub));
        assert_eq!(
            std::fs::read(&ours).unwrap(),
            std::fs::read(&repo).unwrap(),
            "{sub}: --output and the named directories give the same bytes"
        );
    }
    assert!(!d.join("rules").exists() && !d.join("alertmanager").exists());
    let (code, _, stderr) = run(d, &["generate", "--output", "out", "--check"]);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn nothing_is_written_when_a_spec_is_invalid() {
    let dir = setup();
    let d = dir.path();
    std::fs::write(
        d.join("slos/bad.yaml"),
        SPEC.replace("checkout", "cart").replace("99.9", "100"),
    )
    .unwrap();
    let (code, stdout, stderr) = run(d, &["generate"]);
    assert_eq!(code, 1);
    assert_eq!(stdout, "");
    assert!(
        stderr.contains("error[E007]") && stderr.contains("nothing was written"),
        "{stderr}"
    );
    assert!(!d.join("rules").exists());
}

#[test]
fn prometheus_operator_format() {
    let dir = setup();
    let d = dir.path();
    assert_eq!(
        run(
            d,
            &[
                "generate",
                "--format",
                "prometheus-operator",
                "--rules-dir",
                "k8s"
            ]
        )
        .0,
        0
    );
    let text = std::fs::read_to_string(d.join("k8s/checkout.yaml")).unwrap();
    let doc: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
    assert_eq!(doc["apiVersion"], "monitoring.coreos.com/v1");
    assert_eq!(doc["kind"], "PrometheusRule");
    assert_eq!(doc["metadata"]["name"], "slo-checkout");
    // The groups inside are a valid plain rule file.
    let plain = serde_json::json!({ "groups": doc["spec"]["groups"] });
    std::fs::write(d.join("plain.yaml"), serde_json::to_string(&plain).unwrap()).unwrap();
    promtool_check(&d.join("plain.yaml"));
    assert_eq!(run(d, &["generate"]).0, 0);
    let plain_generated: serde_json::Value =
        serde_saphyr::from_str(&std::fs::read_to_string(d.join("rules/checkout.yaml")).unwrap())
            .unwrap();
    assert_eq!(plain_generated["groups"], doc["spec"]["groups"]);
}

#[test]
#[ignore = "slow: every promtool suite of a spec, twice (scripts/test runs it)"]
fn test_command_passes_and_catches_a_broken_threshold() {
    let dir = setup();
    let d = dir.path();
    let (code, stdout, stderr) = run(d, &["test", "--keep", "suites"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    for slo in ["availability", "latency", "freshness", "raw"] {
        assert!(
            stdout.contains(&format!("ok     checkout/{slo}:")),
            "{stdout}"
        );
    }
    assert!(stdout.contains("detects page 15.84x in 56m33s"), "{stdout}");

    // Break the page threshold in every rule file under test: promtool must now fail,
    // on the thresholds' tests and on the tests from scraped counters alike.
    let suite = d.join("suites/checkout/availability");
    for entry in std::fs::read_dir(&suite).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("rules")
        {
            let text = std::fs::read_to_string(&path).unwrap();
            std::fs::write(&path, text.replace("> 14.4", "> 144")).unwrap();
        }
    }
    for file in ["page.yaml", "outage.yaml"] {
        let (ok, _) = crate::support::promtool(&suite, &["test", "rules", file]);
        assert!(!ok, "a broken threshold must fail {file}");
    }

    let (code, _, stderr) = run(d, &["test", "--promtool", "/nonexistent/promtool"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("promtool not found"), "{stderr}");
}

#[test]
fn repository_rules_are_current() {
    let root = crate::support::root();
    let (code, stdout, stderr) = run(root, &["generate", "--check"]);
    assert_eq!(
        code, 0,
        "run `slo-gen generate` and commit:\n{stdout}{stderr}"
    );
}

/// The inhibit rules pass the real Alertmanager's config check once merged into a
/// configuration as the README says.
#[test]
fn inhibit_rules_pass_amtool() {
    let dir = setup();
    let d = dir.path();
    assert_eq!(run(d, &["generate"]).0, 0);
    let inhibit = std::fs::read_to_string(d.join("alertmanager/inhibit_rules.yaml")).unwrap();
    assert!(inhibit.contains("equal: [service, slo]"), "{inhibit}");
    let config = format!("route:\n  receiver: team\nreceivers:\n  - name: team\n{inhibit}");
    std::fs::write(d.join("alertmanager.yml"), config).unwrap();
    let out = std::process::Command::new("amtool")
        .args(["check-config", "alertmanager.yml"])
        .current_dir(d)
        .output()
        .expect(
            "amtool must be installed (scripts/test installs Debian's prometheus-alertmanager)",
        );
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains(" - 1 inhibit rules"), "{text}");
}
