//! A payments fault burns the budget: the page alert reaches a real Alertmanager within
//! the time the policy maths predicts, resolves when the fault is removed, touches no
//! other SLO, carries the runbook and burn rate; every payments dashboard query has data.

use e2e::{alerts, wait, Engine, Stack, EVALUATION, GROUP_WAIT, SCRAPE};
use std::path::Path;
use std::time::{Duration, Instant};

const ERROR_RATE: f64 = 0.2;

#[test]
fn payments_fault_pages_through_alertmanager_and_resolves() {
    run(Engine::Prometheus);
}

/// The scenario on `engine`: the same generated rules, the same deadline.
// Long: one scenario read top to bottom; its steps share one stack and one clock.
pub fn run(engine: Engine) {
    let tag = engine.tag();
    let started = Instant::now();
    let slos = Path::new(env!("CARGO_MANIFEST_DIR")).join("slos");
    let stack = Stack::start_on(engine, &slos, 60.0, false).unwrap_or_else(|e| panic!("{e}"));
    let svc = stack
        .services
        .iter()
        .find(|s| s.name == "payments")
        .expect("payments spec");
    let webhooks = svc
        .slos
        .iter()
        .find(|s| s.name == "webhook-availability")
        .unwrap();

    // The deadline from the policy maths.
    let plan = slo_eval::plan(webhooks);
    let page = plan
        .tiers
        .iter()
        .find(|t| t.tier == slo_spec::Tier::Page)
        .unwrap();
    let burn = ERROR_RATE / webhooks.objective.budget_decimal().to_f64();
    let detection = plan.detection(page, burn).unwrap().as_secs_f64();
    let base = plan.base.as_secs_f64();
    // On VictoriaMetrics every level the page reads (the raw counters, then the recorded
    // rates, totals, windows and ratios) is seen a latency offset after it was written.
    let hops = match engine {
        Engine::Prometheus => 0.0,
        _ => 5.0,
    };
    let expected = (detection
        + base
        + SCRAPE
        + 2.0 * EVALUATION
        + GROUP_WAIT
        + 2.0
        + hops * e2e::VM_LATENCY_OFFSET)
        .ceil();
    println!(
        "{tag}: deadline {expected}s = detection {detection:.1}s at burn {burn:.0}x + base window {base}s + scrape {SCRAPE}s + 2 x evaluation {EVALUATION}s + group wait {GROUP_WAIT}s + 2s delivery + {hops} x the latency offset"
    );

    // Warm up: traffic scraped and recorded, nothing firing.
    let sel = r#"{service="payments",slo="webhook-availability"}"#;
    e2e::wait_recorded(
        &stack,
        "recorded webhook traffic",
        Duration::from_secs_f64(60.0 + hops * e2e::VM_LATENCY_OFFSET),
        &plan,
        sel,
    );
    // Quiet for five seconds of healthy traffic: the time is what is checked.
    std::thread::sleep(Duration::from_secs(5));
    assert!(
        stack
            .query(r#"ALERTS{service="payments",slo_tier!="absent"}"#)
            .unwrap()
            .is_empty(),
        "alerts before any fault"
    );
    // Burn-rate alerts only: with this stack's 5s `for`, a missing-data alert may flicker
    // while Prometheus waits for its first scrape (a 30-day SLO waits 5m).
    let burn_rate = |a: &serde_json::Value| a["labels"]["slo_tier"] != "absent";
    assert!(alerts(&stack.notifications.lock().unwrap())
        .iter()
        .all(|(_, a)| !burn_rate(a)));

    stack
        .fault("payments.error_rate", Some(&ERROR_RATE.to_string()))
        .unwrap();
    let injected = Instant::now();
    let (arrived, alert) = wait(
        "the page alert at the receiver",
        Duration::from_secs(240),
        &stack,
        || {
            alerts(&stack.notifications.lock().unwrap())
                .into_iter()
                .find(|(_, a)| a["status"] == "firing" && a["labels"]["severity"] == "page")
        },
    );
    let name = alert["labels"]["alertname"].as_str().unwrap().to_string();
    let n = arrived.duration_since(injected).as_secs_f64();
    println!(
        "{tag}: page alert {name} reached alertmanager after {n:.0}s (expected <= {expected}s)"
    );
    assert!(n <= expected, "{n}s > {expected}s");
    let summary = alert["annotations"]["summary"].as_str().unwrap_or("");
    assert!(
        summary.contains("x as fast as sustainable"),
        "summary without burn rate: {summary}"
    );
    assert!(summary.contains("of the budget left"), "{summary}");
    // How long: computed by the rules, rendered in the notification. vmalert's template
    // queries read VictoriaMetrics, where the recorded budget and burn trail by the latency
    // offset, so its first notification may not have them yet (SPEC.md says so).
    if engine == Engine::Prometheus {
        assert!(
            summary.contains("at the current burn rate")
                || summary.contains("the budget is exhausted"),
            "summary without the time to exhaustion: {summary}"
        );
    }
    // Who: the fault answers 503, so the webhooks' breakdown names that code with all
    // the errors.
    let (_, webhook) = wait(
        "the webhook page at the receiver",
        Duration::from_secs(120),
        &stack,
        || {
            alerts(&stack.notifications.lock().unwrap())
                .into_iter()
                .find(|(_, a)| {
                    a["status"] == "firing"
                        && a["labels"]["alertname"] == "PaymentsWebhookAvailability"
                })
        },
    );
    let breakdown = webhook["annotations"]["breakdown"].as_str().unwrap_or("");
    println!("{tag}: summary: {summary}\n{tag}: webhook breakdown: {breakdown}");
    assert!(
        breakdown.contains("Top code by share of errors")
            && breakdown.contains("- code=503: 100% of errors"),
        "{webhook}"
    );
    assert!(
        alert["annotations"]["runbook_url"]
            .as_str()
            .is_some_and(|u| u.starts_with("https://runbooks.")),
        "{alert}"
    );
    assert_eq!(alert["labels"]["service"], "payments");

    // Every query of the payments dashboard returns data from this Prometheus.
    let exprs = e2e::dashboard_queries(svc);
    let total = exprs.len();
    // Recorded series built on recorded series take a round trip each through vmalert's
    // remote write: give every query up to a minute (plus the latency offsets) to have data.
    let dashboard_started = Instant::now();
    let mut empty: Vec<String>;
    loop {
        empty = exprs
            .iter()
            .filter_map(|(title, expr)| match stack.query(expr) {
                Ok(r) if !r.is_empty() => None,
                other => Some(format!("{title}: {expr}: {other:?}")),
            })
            .collect();
        if empty.is_empty()
            || dashboard_started.elapsed()
                > Duration::from_secs_f64(60.0 + hops * e2e::VM_LATENCY_OFFSET)
        {
            break;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    let with_data = total - empty.len();
    println!(
        "{tag}: dashboard queries: {with_data}/{total} return data ({:.0}s after the page)",
        dashboard_started.elapsed().as_secs_f64()
    );
    assert_eq!(with_data, total, "{empty:#?}");

    stack.fault("payments.error_rate", None).unwrap();
    let removed = Instant::now();
    wait(
        "the resolved notification",
        Duration::from_secs_f64(150.0 + hops * e2e::VM_LATENCY_OFFSET),
        &stack,
        || {
            e2e::notified(
                &stack,
                removed,
                "resolved",
                &[("alertname", &name), ("severity", "page")],
            )
        },
    );
    println!(
        "{tag}: resolved after {:.0}s",
        removed.elapsed().as_secs_f64()
    );

    // The fault touched the webhooks and payment processing only.
    let touched = ["webhook-availability", "payment-processing"];
    for (_, a) in alerts(&stack.notifications.lock().unwrap())
        .into_iter()
        .filter(|(_, a)| burn_rate(a))
    {
        let slo = a["labels"]["slo"].as_str().unwrap_or("");
        assert!(
            touched.contains(&slo),
            "an alert fired for an SLO the fault did not touch: {a}"
        );
    }
    assert!(stack
        .query(r#"ALERTS{slo="webhook-latency",slo_tier!="absent"}"#)
        .unwrap()
        .is_empty());

    // `slo-gen report` over the run reads the page back from this Prometheus's ALERTS,
    // and the events from the exporter's counters.
    use clap::Parser;
    let slos = Path::new(env!("CARGO_MANIFEST_DIR")).join("slos");
    let from = jiff::Timestamp::now()
        .checked_sub(jiff::SignedDuration::from_secs(
            started.elapsed().as_secs() as i64 + 60,
        ))
        .unwrap()
        .to_string();
    let report = || -> serde_json::Value {
        let cli = slo_gen::Cli::try_parse_from([
            "slo-gen",
            "report",
            &slos.display().to_string(),
            "--prometheus",
            &stack.prometheus_url,
            "--from",
            &from,
            "--to",
            "now",
            "--format",
            "json",
        ])
        .unwrap();
        let (mut out, mut err) = (Vec::new(), Vec::new());
        assert_eq!(
            slo_gen::run(cli, &mut out, &mut err),
            0,
            "{}",
            String::from_utf8_lossy(&err)
        );
        serde_json::from_slice(&out).unwrap()
    };
    // Per provider; a label-less entry can hold the start-up flicker of the missing-data
    // alert (the stack's 5s `for` before the first scrape), with no events of its own.
    let processing_of = |report: &serde_json::Value| -> Vec<serde_json::Value> {
        report["slos"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["slo"] == "payment-processing" && s["group"]["provider"].is_string())
            .cloned()
            .collect()
    };
    let pages_of =
        |p: &[serde_json::Value]| -> u64 { p.iter().map(|s| s["pages"].as_u64().unwrap()).sum() };
    // vmalert's ALERTS reach VictoriaMetrics by remote write, and a query sees them only
    // past the latency offset: on busy cores that can trail the notification. Wait for it.
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    let (report, processing) = loop {
        let report = report();
        let processing = processing_of(&report);
        if pages_of(&processing) >= 1 || std::time::Instant::now() > deadline {
            break (report, processing);
        }
        std::thread::sleep(Duration::from_secs(5));
    };
    assert_eq!(processing.len(), 2, "{report}");
    let pages = pages_of(&processing);
    assert!(pages >= 1, "{processing:?}");
    assert!(
        processing
            .iter()
            .all(|s| s["events"].as_f64().unwrap_or(0.0) > 0.0),
        "{processing:?}"
    );
    println!(
        "{tag}: report over the run: payment-processing {pages} page(s), attainment {}",
        processing
            .iter()
            .map(|s| format!(
                "{}={:.4}",
                s["group"]["provider"],
                s["attainment"].as_f64().unwrap_or(f64::NAN)
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
}
