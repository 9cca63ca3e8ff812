//! Data vanishes: the exporter stops, its series go stale, and every SLO's missing-data
//! alert reaches a real Alertmanager within the computed deadline; the exporter comes back
//! and the alert resolves.

use e2e::{wait, Engine, Stack, EVALUATION, GROUP_WAIT, SCRAPE};
use std::path::Path;
use std::time::{Duration, Instant};

#[test]
fn a_stopped_exporter_raises_the_absent_alert_and_its_return_resolves_it() {
    run(Engine::Prometheus);
}

/// The scenario on `engine`.
// Long: one scenario read top to bottom; its steps share one stack and one clock.
pub fn run(engine: Engine) {
    let tag = engine.tag();
    let slos = Path::new(env!("CARGO_MANIFEST_DIR")).join("slos");
    let mut stack = Stack::start_on(engine, &slos, 20.0, false).unwrap_or_else(|e| panic!("{e}"));
    let slo = stack
        .services
        .iter()
        .flat_map(|s| &s.slos)
        .find(|s| s.name == "webhook-availability")
        .expect("the payments webhook SLO")
        .clone();
    let plan = slo_eval::plan(&slo)
        .absent
        .expect("absent alerts are on by default");
    let name = slo_gen::names::absent_alert(&slo.alerting.name);
    let for_ = plan.for_.as_secs_f64();
    // The next scrape fails and marks the series stale; the next evaluation records no
    // inputs; the alert is pending from the one after, and fires `for` later.
    // On VictoriaMetrics the stale raw series and the recorded inputs are each seen a
    // latency offset late.
    let hops = match engine {
        Engine::Prometheus => 0.0,
        _ => 2.0,
    };
    let late = hops * e2e::VM_LATENCY_OFFSET;
    let expected = (SCRAPE + 2.0 * EVALUATION + for_ + GROUP_WAIT + 2.0 + late).ceil();
    println!(
        "{tag}: absent deadline {expected}s = scrape {SCRAPE}s + 2 x evaluation {EVALUATION}s + for {for_}s + group wait {GROUP_WAIT}s + 2s delivery + {hops} x the latency offset"
    );
    let sel = r#"{service="payments",slo="webhook-availability"}"#;
    let warm_up = Duration::from_secs_f64(60.0 + late);
    wait("recorded inputs", warm_up, &stack, || {
        let r = stack.query(&format!("slo:sli_inputs:count{sel}")).ok()?;
        (!r.is_empty()).then_some(())
    });
    // On a slow machine the first scrape can come after `for`, so the alert may have fired
    // at start-up: wait until Prometheus holds it neither pending nor firing, and count only
    // notifications sent after the stop.
    wait(
        "no absent alert before the stop",
        Duration::from_secs(60),
        &stack,
        || {
            let r = stack
                .query(&format!("ALERTS{{alertname=\"{name}\"}}"))
                .ok()?;
            r.is_empty().then_some(())
        },
    );

    stack.stop_exporter();
    let stopped = Instant::now();
    let (arrived, alert) = wait(
        "the absent alert at the receiver",
        Duration::from_secs_f64(90.0 + late),
        &stack,
        || e2e::notified(&stack, stopped, "firing", &[("alertname", &name)]),
    );
    let n = arrived.duration_since(stopped).as_secs_f64();
    println!(
        "{tag}: absent alert {name} reached alertmanager after {n:.0}s (expected <= {expected}s)"
    );
    assert!(n <= expected, "{n}s > {expected}s");
    assert!(
        n >= for_,
        "fired {n}s after the data went, before `for` ({for_}s)"
    );
    assert_eq!(alert["labels"]["slo_tier"], "absent");
    assert_eq!(alert["labels"]["severity"], "ticket");
    assert!(
        alert["annotations"]["summary"]
            .as_str()
            .is_some_and(|s| s.contains("has no data")),
        "{alert}"
    );

    stack.restart_exporter().unwrap();
    let restarted = Instant::now();
    wait(
        "the absent alert to resolve",
        Duration::from_secs(90),
        &stack,
        || e2e::notified(&stack, restarted, "resolved", &[("alertname", &name)]),
    );
    println!(
        "{tag}: absent alert resolved {:.0}s after the exporter came back",
        restarted.elapsed().as_secs_f64()
    );
}
