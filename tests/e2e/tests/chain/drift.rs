//! `slo-gen drift` and `slo-gen gate` against the stack's real rule engine. A clean
//! deployment has no drift; each seeded drift (a group removed, a threshold changed, an
//! orphan group added, a generated rule made to fail) is found and named with its file,
//! group and rule, on Prometheus and on vmalert. The gate passes a healthy SLO, blocks it
//! by its spec's `deploy_gate` once a fault burns the budget, and is undecided (exit 2)
//! for an SLO whose rules are gone.

use e2e::{run_slo_gen, wait, Engine, Stack};
use std::path::Path;
use std::time::Duration;

#[test]
fn drift_and_gate_on_prometheus() {
    run(Engine::Prometheus);
}

#[test]
fn drift_on_vmalert() {
    run(Engine::VictoriaMetrics);
}

/// A generated rule that fails at every evaluation: two series on the right match one on
/// the left `on()`.
const FAILING: &str =
    r#"vector(1) + on() group_left() (vector(1) or label_replace(vector(1), "a", "b", "", ""))"#;

// Long: one scenario read top to bottom; its steps share one stack and one clock.
fn run(engine: Engine) {
    let tag = engine.tag();
    let slos = Path::new(env!("CARGO_MANIFEST_DIR")).join("slos");
    let specs = slos.display().to_string();
    let stack = Stack::start_on(engine, &slos, 60.0, false).unwrap_or_else(|e| panic!("{e}"));
    let server = match engine {
        Engine::Prometheus => "--prometheus",
        _ => "--vmalert",
    };
    let drift = |format: &str| {
        run_slo_gen(&[
            "drift",
            &specs,
            server,
            &stack.rules_url,
            "--format",
            format,
        ])
    };

    // A clean deployment: no drift once every group has run.
    let clean = wait("no drift", Duration::from_secs(60), &stack, || {
        let (code, out, _) = drift("text");
        (code == 0).then_some(out)
    });
    println!("{tag}: {}", clean.trim());

    if engine == Engine::Prometheus {
        gate(&stack, &specs);
    }

    // Seed four drifts in the files the engine reads, and reload it.
    let file = stack.rules_dir().join("payments.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    let text = without_group(&text, "slo-payments-webhook-latency");
    let text = text.replacen("/ 0.0005 > 14.4", "/ 0.0005 > 20", 1);
    let info = "      - record: slo:info\n        expr: \"vector(1)\"\n";
    let at = text
        .find("  - name: slo-payments-payment-processing\n")
        .unwrap();
    let i = at + text[at..].find(info).unwrap();
    let text = format!(
        "{}      - record: slo:info\n        expr: {}\n{}",
        &text[..i],
        serde_json::to_string(FAILING).unwrap(),
        &text[i + info.len()..]
    );
    let orphan = "  - name: slo-payments-refunds\n    interval: 1s\n    rules:\n      - record: slo:objective:ratio\n        expr: vector(0.999)\n";
    let text = text.replacen("groups:\n", &format!("groups:\n{orphan}"), 1);
    std::fs::write(&file, text).unwrap();
    stack.reload_rules().unwrap();

    let expected = [
        ("missing-group", "slo-payments-webhook-latency", ""),
        (
            "changed",
            "slo-payments-webhook-availability-alerts",
            r#"PaymentsWebhookAvailability{slo_tier="page"}"#,
        ),
        ("orphan", "slo-payments-refunds", ""),
        ("failing", "slo-payments-payment-processing", "slo:info"),
    ];
    let findings = wait(
        "every seeded drift",
        Duration::from_secs(60),
        &stack,
        || {
            let (code, out, _) = drift("json");
            let doc: serde_json::Value = serde_json::from_str(&out).ok()?;
            let found = doc["drift"].as_array()?.clone();
            let all = expected.iter().all(|(kind, group, rule)| {
                found
                    .iter()
                    .any(|f| f["kind"] == *kind && f["group"] == *group && f["rule"] == *rule)
            });
            (code == 1 && all).then_some(found)
        },
    );
    for f in &findings {
        println!(
            "{tag}: drift: {} {} {} {}",
            f["file"], f["group"], f["rule"], f["kind"]
        );
        // The generated file names what the specs own; an orphan, the server's own path.
        let file = f["file"].as_str().unwrap();
        match f["kind"].as_str() {
            Some("orphan") => assert!(file.ends_with("/rules/payments.yaml"), "{f}"),
            _ => assert_eq!(file, "rules/payments.yaml", "{f}"),
        }
    }
    // Nothing else: the changed slo:info expression, and nothing from other files.
    assert_eq!(findings.len(), expected.len() + 1, "{findings:#?}");
    let (code, text, _) = drift("text");
    assert_eq!(code, 1);
    assert!(
        text.contains("rules/payments.yaml: slo-payments-webhook-latency: group slo-payments-webhook-latency is not loaded"),
        "{text}"
    );
    let (_, github, _) = drift("github");
    assert!(
        github.contains(
            "::error file=rules/payments.yaml,title=rule drift%3A slo-payments-webhook-latency::group"
        ),
        "{github}"
    );

    if engine == Engine::Prometheus {
        // The removed group recorded nothing more: its budget is gone, and the gate says
        // it cannot decide.
        let (code, out, _) = wait("an undecided gate", Duration::from_secs(30), &stack, || {
            let r = gate_run(&stack, &specs, &["--slo", "webhook-latency"]);
            (r.0 == 2).then_some(r)
        });
        assert_eq!(code, 2);
        assert!(out.contains("NO DATA payments/webhook-latency"), "{out}");
    }
}

/// `slo-gen gate` on the stack's Prometheus for the e2e specs with `extra` arguments.
fn gate_run(stack: &Stack, specs: &str, extra: &[&str]) -> (u8, String, String) {
    let mut args = vec!["gate", specs, "--prometheus", &stack.prometheus_url];
    args.extend_from_slice(extra);
    run_slo_gen(&args)
}

/// Healthy: the webhooks pass their 50% gate. A fault burns the budget: blocked, by the
/// spec's gate, named.
fn gate(stack: &Stack, specs: &str) {
    let webhooks = ["--service", "payments", "--slo", "webhook-availability"];
    let (_, out, _) = wait("a passing gate", Duration::from_secs(60), stack, || {
        let r = gate_run(stack, specs, &webhooks);
        (r.0 == 0).then_some(r)
    });
    assert!(out.starts_with("pass    payments/webhook-availability: 100.0% of the error budget left; its deploy_gate requires 50%"), "{out}");
    stack.fault("payments.error_rate", Some("0.5")).unwrap();
    let (code, out, _) = wait("a blocking gate", Duration::from_secs(120), stack, || {
        let r = gate_run(stack, specs, &webhooks);
        (r.0 == 1).then_some(r)
    });
    stack.fault("payments.error_rate", None).unwrap();
    println!("e2e: gate: {}", out.trim());
    assert_eq!(code, 1);
    assert!(
        out.starts_with("BLOCK   payments/webhook-availability: "),
        "{out}"
    );
    assert!(
        out.contains("blocked: 1 SLO verdicts, 1 blocking, 0 without data"),
        "{out}"
    );
    let (code, json, _) = gate_run(
        stack,
        specs,
        &[&webhooks[..], &["--format", "json"]].concat(),
    );
    assert_eq!(code, 1);
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(doc["decision"], "blocked");
    assert_eq!(doc["slos"][0]["gate"], "spec");
    assert_eq!(doc["slos"][0]["min_budget"], "50");
}

/// `text` without the rule group `name` (from its `- name:` line to the next group's).
fn without_group(text: &str, name: &str) -> String {
    let start = text.find(&format!("  - name: {name}\n")).unwrap();
    let end = text[start + 1..]
        .find("\n  - name: ")
        .map(|i| start + 1 + i + 1)
        .unwrap_or(text.len());
    format!("{}{}", &text[..start], &text[end..])
}
