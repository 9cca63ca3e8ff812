//! A usage burst meets a slowed aggregation: freshness as customers see it (the age of
//! the oldest event not yet aggregated) pages through a real Alertmanager within the
//! computed deadline, and resolves once aggregation is fast again.

use e2e::{wait, Stack, EVALUATION, GROUP_WAIT, SCRAPE};
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

/// Each aggregation transaction waits this long under the fault.
const SLOWDOWN: &str = "20s";

fn firing_page(stack: &Stack, since: Instant, status: &str) -> Option<(Instant, Value)> {
    let page = [("slo", "aggregation-freshness"), ("severity", "page")];
    e2e::notified(stack, since, status, &page)
}

#[test]
// Long: one scenario read top to bottom; its steps share one stack and one clock.
fn a_burst_against_slowed_aggregation_pages_and_resolves() {
    let slos = Path::new(env!("CARGO_MANIFEST_DIR")).join("slos");
    let stack = Stack::start(&slos, 60.0, false).unwrap_or_else(|e| panic!("{e}"));
    let slo = stack
        .services
        .iter()
        .flat_map(|s| &s.slos)
        .find(|s| s.name == "aggregation-freshness")
        .expect("the e2e freshness SLO");
    let slo_spec::Sli::Freshness(f) = &slo.sli else {
        panic!("a freshness SLI")
    };
    // Stale from max_age (+ one aggregation interval) on; then every slice is bad, a burn
    // of 1/budget, and the fastest page pair fires after its share of the long window.
    let plan = slo_eval::plan(slo);
    let page = plan
        .tiers
        .iter()
        .find(|t| t.tier == slo_spec::Tier::Page)
        .unwrap();
    let burn = 1.0 / slo.objective.budget_decimal().to_f64();
    let detection = plan.detection(page, burn).unwrap().as_secs_f64();
    let stale = f.max_age.as_secs_f64() + 1.0;
    let expected = (stale + detection + SCRAPE + 2.0 * EVALUATION + GROUP_WAIT + 2.0).ceil();
    println!(
        "e2e: freshness deadline {expected}s = stale after {stale}s + detection {detection:.1}s at burn {burn:.0}x + scrape {SCRAPE}s + 2 x evaluation {EVALUATION}s + group wait {GROUP_WAIT}s + 2s delivery"
    );

    let sel = r#"{service="usage-aggregation",slo="aggregation-freshness"}"#;
    e2e::wait_recorded(
        &stack,
        "recorded freshness slices",
        Duration::from_secs(60),
        &plan,
        sel,
    );
    // Quiet for five seconds of healthy traffic: the time is what is checked.
    std::thread::sleep(Duration::from_secs(5));
    assert!(
        stack
            .query(r#"ALERTS{service="usage-aggregation",slo_tier!="absent"}"#)
            .unwrap()
            .is_empty(),
        "a freshness alert before any fault"
    );

    stack.fault("aggregation.latency", Some(SLOWDOWN)).unwrap();
    let injected = Instant::now();
    // The burst: 10,000 events on top of the generator's traffic.
    let agent: ureq::Agent = ureq::Agent::config_builder().build().into();
    let now = jiff::Timestamp::now().to_string();
    for b in 0..20 {
        let events: Vec<Value> = (0..500)
            .map(|i| json!({"id": format!("burst-{b}-{i}"), "account": "acme", "meter": "egress_bytes", "quantity": 1, "timestamp": now}))
            .collect();
        agent
            .post(&format!("{}/v1/usage", stack.exporter_url))
            .header("authorization", "Bearer demo-ingest-token")
            .header("content-type", "application/json")
            .send(json!({ "events": events }).to_string())
            .unwrap();
    }
    let (arrived, alert) = wait(
        "the freshness page at the receiver",
        Duration::from_secs(120),
        &stack,
        || firing_page(&stack, injected, "firing"),
    );
    let n = arrived.duration_since(injected).as_secs_f64();
    println!(
        "e2e: freshness page {} reached alertmanager {n:.0}s after the burst met aggregation slowed by {SLOWDOWN} per transaction (expected <= {expected}s)",
        alert["labels"]["alertname"].as_str().unwrap_or("")
    );
    assert!(n <= expected, "{n}s > {expected}s");
    let lag = stack
        .query(r#"billing_pipeline_lag_seconds{pipeline="usage-aggregation"}"#)
        .unwrap();
    println!(
        "e2e: the lag customers see at the page: {}s",
        lag.first()
            .map(|s| s["value"][1].as_str().unwrap_or("?").to_string())
            .unwrap_or_default()
    );

    stack.fault("aggregation.latency", None).unwrap();
    let removed = Instant::now();
    wait(
        "the freshness page to resolve",
        Duration::from_secs(150),
        &stack,
        || firing_page(&stack, removed, "resolved"),
    );
    println!(
        "e2e: freshness page resolved {:.0}s after aggregation was fast again",
        removed.elapsed().as_secs_f64()
    );
}
