//! Many clusters, one SLO, end to end: two clusters, each a billing exporter and a
//! Prometheus (external label `cluster`) with the split layout's local set
//! remote-writing its recordings to VictoriaMetrics, where vmalert evaluates the global
//! set. The global error ratios agree within 1% with a single Prometheus scraping both
//! exporters; a fault in cluster a pages once, globally, naming cluster a (and the
//! failing code, from recordings, not raw series); `serve` and `check-metrics` work
//! against the global store; stopping cluster b's Prometheus raises its missing-data
//! alerts and nothing else, and the global SLO then counts cluster a alone.

use e2e::clusters::{by_labels, now, report_counts, scalar, Clusters, LATENCY_OFFSET};
use e2e::{alerts, query_at, wait};
use serde_json::Value;
use slo_gen::names::series;
use slo_gen::rules::sli::Source;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

const SEL: &str = r#"{service="payments",slo="webhook-availability"}"#;
const PAGE: &str = "PaymentsWebhookAvailability";
/// Cluster a's outage: every payments request there fails (many errors make the
/// comparison with one Prometheus a fine one).
const ERROR_RATE: &str = "1";

/// An alert's identity across Alertmanager's notifications and vmalert's API.
fn identity(labels: &Value) -> BTreeMap<String, String> {
    [
        "alertname",
        "service",
        "slo",
        "severity",
        "slo_tier",
        "cluster",
        "provider",
    ]
    .iter()
    .filter_map(|k| Some((k.to_string(), labels[*k].as_str()?.to_string())))
    .collect()
}

#[test]
// Long: one scenario read top to bottom; its phases share one stack and one clock.
fn one_slo_across_two_clusters_through_a_global_ruler() {
    let started = Instant::now();
    let slos = Path::new(env!("CARGO_MANIFEST_DIR")).join("slos");
    let mut c = Clusters::start(&slos, 60.0).unwrap_or_else(|e| panic!("{e}"));
    let webhooks = c
        .services
        .iter()
        .flat_map(|s| &s.slos)
        .find(|s| s.name == "webhook-availability")
        .unwrap()
        .clone();
    let plan = slo_eval::plan(&webhooks);
    let (events, errors) = (series::events(plan.base), series::error_events(plan.base));
    let offset = LATENCY_OFFSET.as_secs_f64();

    // Both clusters' recordings arrive and the global set merges them.
    wait(
        "both clusters in the global store",
        Duration::from_secs(120),
        &c,
        || {
            let n = scalar(
                &c.vm_url,
                &format!(
                    "count(slo_cluster:{}{SEL} > 0)",
                    events.trim_start_matches("slo:")
                ),
                None,
            )?;
            (n == 2.0).then_some(())
        },
    );
    wait(
        "twenty seconds of the global set's merged series",
        Duration::from_secs(90),
        &c,
        // Before the fault, so the ratios compared below start before it in both systems.
        || {
            let n = scalar(
                &c.vm_url,
                &format!("count_over_time({events}{SEL}[25s])"),
                None,
            )?;
            (n >= 20.0).then_some(())
        },
    );
    assert!(
        query_at(&c.vm_url, r#"{__name__=~"billing_.*"}"#, None)
            .unwrap()
            .is_empty(),
        "the global store holds no raw series"
    );

    // A fault in cluster a pages once, globally, naming cluster a.
    let fault_on = now();
    let fault_at = Instant::now();
    c.cluster("a")
        .fault("payments.error_rate", Some(ERROR_RATE))
        .unwrap();
    let (at, page) = wait("the page", Duration::from_secs(180), &c, || {
        e2e::notified_in(
            &c.notifications,
            fault_at,
            "firing",
            &[("alertname", PAGE), ("severity", "page")],
        )
    });
    println!(
        "e2e[clusters]: fault in cluster a paged globally after {:.0}s",
        (at - fault_at).as_secs_f64()
    );
    assert!(
        page["labels"]["cluster"].is_null(),
        "one global page: {page}"
    );
    let named = page["annotations"]["clusters"].as_str().unwrap_or_default();
    assert!(
        named.contains("cluster=a") && !named.contains("cluster=b"),
        "the page names cluster a only: {named}"
    );
    let breakdown = page["annotations"]["breakdown"]
        .as_str()
        .unwrap_or_default();
    assert!(breakdown.contains("code=503"), "{breakdown}");
    println!(
        "e2e[clusters]: clusters annotation: {}",
        named.replace('\n', " ")
    );

    // serve reads the global store: budgets, burn rates and the page, once VictoriaMetrics
    // shows the last level of recordings (each level a latency offset after the one before).
    let serve = e2e::start_serve_from(&slos, &c.vm_url, Source::Recorded).unwrap();
    let agent = e2e::http(Duration::from_secs(60));
    let row = wait(
        "serve showing the page",
        Duration::from_secs(120),
        &c,
        || {
            let mut r = agent.get(&format!("{serve}api/v1/slos")).call().ok()?;
            let rows: Value = serde_json::from_str(&r.body_mut().read_to_string().ok()?).ok()?;
            rows.as_array()?
                .iter()
                .find(|r| {
                    r["slo"] == "webhook-availability"
                        && r["state"] == "page"
                        && r["budget_remaining"].is_number()
                        && r["burn_rate"].is_number()
                })
                .cloned()
        },
    );
    println!(
        "e2e[clusters]: serve on the global store: webhook-availability burn rate {:.0}, budget left {:.2}",
        row["burn_rate"].as_f64().unwrap_or_default(),
        row["budget_remaining"].as_f64().unwrap_or_default()
    );

    // Its report page reads the recorded base series (`serve --layout split`).
    let mut r = agent.get(&format!("{serve}report")).call().unwrap();
    let page = r.body_mut().read_to_string().unwrap();
    assert_eq!(r.status(), 200, "{page}");
    assert!(page.contains("webhook-availability"), "{page}");

    // check-metrics asks the global store which clusters send each SLO's recordings.
    let slos_arg = slos.to_string_lossy();
    let (code, out, err) = e2e::run_slo_gen(&["check-metrics", &slos_arg, "--global", &c.vm_url]);
    assert_eq!(code, 0, "{out}{err}");
    let total = c.services.iter().map(|s| s.slos.len()).sum::<usize>();
    assert!(
        err.contains(&format!("{total} of {total} SLOs arrive whole"))
            && err.contains("(clusters: a, b)"),
        "{err}"
    );
    println!(
        "e2e[clusters]: check-metrics --global: {}",
        err.lines().last().unwrap_or_default()
    );

    // Every query of every dashboard has data from the global store.
    let queries: Vec<(String, String)> =
        c.services.iter().flat_map(e2e::dashboard_queries).collect();
    let deadline = Instant::now() + Duration::from_secs(120);
    let empty = loop {
        let empty: Vec<&(String, String)> = queries
            .iter()
            .filter(|(_, q)| query_at(&c.vm_url, q, None).map_or(true, |r| r.is_empty()))
            .collect();
        if empty.is_empty() || Instant::now() > deadline {
            break empty;
        }
        std::thread::sleep(Duration::from_secs(1));
    };
    assert!(
        empty.is_empty(),
        "no data from the global store: {empty:#?}"
    );
    println!(
        "e2e[clusters]: dashboards on the global store: {} of {} queries return data",
        queries.len(),
        queries.len()
    );

    // The global error ratios against one Prometheus's over a minute of the fault, from
    // ten seconds after it began (past the base window's ramp). The global store sees
    // each instant a lag later: its latency offset, plus the age of the clusters' last
    // recording (under an evaluation interval).
    let lag = offset + 1.0;
    let from = fault_on + 10.0;
    let to = wait(
        "a minute of the fault",
        Duration::from_secs(120),
        &c,
        || {
            let to = now() - lag - offset - 2.0;
            (to - from >= 60.0).then_some(to)
        },
    );
    let range = (to - from).floor();
    let ratio = format!("sum_over_time({errors}[{range}s]) / sum_over_time({events}[{range}s])");
    let global = by_labels(&c.vm_url, &ratio, to + lag);
    let reference = by_labels(&c.reference_url, &ratio, to);
    assert_eq!(
        global.keys().collect::<Vec<_>>(),
        reference.keys().collect::<Vec<_>>(),
        "the same SLOs and groups"
    );
    for (k, r) in &reference {
        let g = global[k];
        let diff = (g - r).abs() / r.max(f64::MIN_POSITIVE);
        println!("e2e[clusters]: error ratio over {range}s {k}: global {g:.6}, one Prometheus {r:.6} ({:.3}%)", diff * 100.0);
        assert!(
            (g - r).abs() <= 0.01 * r || (g - r).abs() < 1e-6,
            "{k}: global {g} vs reference {r}"
        );
    }
    let key = Value::Object(
        [("service", "payments"), ("slo", "webhook-availability")]
            .iter()
            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
            .collect(),
    )
    .to_string();
    assert!(
        reference.get(&key).is_some_and(|r| *r > 0.4),
        "the compared ratio holds the fault's errors: {reference:?}"
    );

    // `report --layout split` counts from the global store's recordings what `report`
    // counts exactly from one Prometheus's raw counters, over the same instants (the
    // global store's a lag later).
    // The fault ends first, so no range edge cuts through its errors.
    c.cluster("a").fault("payments.error_rate", None).unwrap();
    let faulted = format!(r#"sum({errors}{{slo=~"webhook-availability|payment-processing"}})"#);
    let settled = wait(
        "the fault's end in both",
        Duration::from_secs(120),
        &c,
        || {
            let at = now() - lag - offset - 2.0;
            let g = scalar(&c.vm_url, &faulted, Some(at + lag))?;
            let r = scalar(&c.reference_url, &faulted, Some(at))?;
            (g == 0.0 && r == 0.0).then_some(at)
        },
    );
    let (from, to) = ((fault_on - 10.0).floor(), settled.floor());
    let global = report_counts(
        &slos,
        &c.vm_url,
        from + lag.ceil(),
        to + lag.ceil(),
        "split",
    );
    // The reference's own recordings of the same base series, and its raw counters.
    let recorded = report_counts(&slos, &c.reference_url, from, to, "split");
    let exact = report_counts(&slos, &c.reference_url, from, to, "single");
    assert_eq!(
        global.keys().collect::<Vec<_>>(),
        exact.keys().collect::<Vec<_>>()
    );
    for (k, &(events, bad)) in &recorded {
        let (e, b) = global[k];
        let (exact_events, exact_bad) = exact[k];
        // A time-slice SLI's slices are per cluster in the global store (each cluster's
        // pipeline judged on its own), one per step for one Prometheus reading both.
        let clusters = if k.contains("aggregation-freshness") {
            2.0
        } else {
            1.0
        };
        println!(
            "e2e[clusters]: report {k}: events {e:.0} vs {:.0}, bad {b:.0} vs {bad:.0} (global store vs one Prometheus's recordings); raw counters {exact_events:.0}, {exact_bad:.0}",
            events * clusters
        );
        assert!(
            (e - events * clusters).abs() <= 0.01 * events * clusters,
            "{k}: events {e} vs {events}"
        );
        assert!(
            (b - bad).abs() <= 0.01 * bad.max(100.0),
            "{k}: bad {b} vs {bad}"
        );
        // Recorded rates, sampled at each evaluation, against exact counts over the range.
        assert!(
            (e - exact_events * clusters).abs() <= 0.03 * exact_events * clusters,
            "{k}"
        );
        assert!((b - exact_bad).abs() <= 0.03 * exact_bad.max(100.0), "{k}");
    }

    let cost = c.read_per_round();
    println!(
        "e2e[clusters]: samples read per round for the SLIs' base series ({} SLOs, 2 clusters): raw-series rules at the ruler {}, the global set's merges {}; every window from raw series at the ruler (Sloth/Pyrra-style, at steady state, computed from the measured base reads) {:.0}",
        c.services.iter().map(|s| s.slos.len()).sum::<usize>(),
        cost.raw,
        cost.merged,
        cost.raw_windows
    );

    // Cluster b stops: its missing-data alerts fire, nothing else, and the global SLO
    // counts cluster a alone.
    let before: BTreeSet<_> = c
        .active_alerts()
        .unwrap()
        .iter()
        .map(|a| {
            let mut id = identity(&a["labels"]);
            id.entry("alertname".into())
                .or_insert_with(|| a["name"].as_str().unwrap_or_default().to_string());
            id
        })
        .collect();
    let both = scalar(&c.vm_url, &format!("{events}{SEL}"), None).unwrap();
    let stopped = Instant::now();
    c.stop_prometheus("b");
    let expected: BTreeSet<(String, String)> = c
        .services
        .iter()
        .flat_map(|s| &s.slos)
        .filter(|s| slo_eval::plan(s).absent.is_some())
        .map(|s| (format!("{}ClusterAbsent", s.alerting.name), s.name.clone()))
        .collect();
    wait(
        "cluster b's missing-data alerts",
        Duration::from_secs(180),
        &c,
        || {
            let got: BTreeSet<(String, String)> = alerts(&c.notifications.lock().unwrap())
                .iter()
                .filter(|(t, a)| {
                    *t > stopped && a["status"] == "firing" && a["labels"]["cluster"] == "b"
                })
                .map(|(_, a)| {
                    (
                        a["labels"]["alertname"]
                            .as_str()
                            .unwrap_or_default()
                            .to_string(),
                        a["labels"]["slo"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect();
            (got == expected).then_some(())
        },
    );
    let absent_after = stopped.elapsed().as_secs_f64();
    // Past the lookback the merged events are cluster a's alone.
    let alone = wait(
        "the global SLO counting cluster a alone",
        Duration::from_secs(60),
        &c,
        || {
            let g = scalar(&c.vm_url, &format!("{events}{SEL}"), None)?;
            let a = scalar(
            &c.vm_url,
            &format!("slo_cluster:{}{{service=\"payments\",slo=\"webhook-availability\",cluster=\"a\"}}", events.trim_start_matches("slo:")),
            None,
        )?;
            ((g - a).abs() <= 0.1 * a).then_some((g, a))
        },
    );
    println!(
        "e2e[clusters]: cluster b stopped: its {} missing-data alerts by {absent_after:.0}s; merged webhook events {both:.1}/s -> {:.1}/s (cluster a {:.1}/s)",
        expected.len(),
        alone.0,
        alone.1
    );
    assert!(alone.0 < 0.75 * both, "the silent cluster is not counted");
    let raised: Vec<Value> = alerts(&c.notifications.lock().unwrap())
        .into_iter()
        .filter(|(t, a)| *t > stopped && a["status"] == "firing")
        .map(|(_, a)| a)
        .filter(|a| {
            let id = identity(&a["labels"]);
            let b_absent = a["labels"]["cluster"] == "b" && a["labels"]["slo_tier"] == "absent";
            !(before.contains(&id) || b_absent)
        })
        .collect();
    assert!(
        raised.is_empty(),
        "alerts raised besides cluster b's: {raised:?}"
    );

    let pages: BTreeSet<_> = alerts(&c.notifications.lock().unwrap())
        .iter()
        .filter(|(_, a)| {
            a["status"] == "firing"
                && a["labels"]["alertname"] == PAGE
                && a["labels"]["severity"] == "page"
        })
        .map(|(_, a)| identity(&a["labels"]))
        .collect();
    assert_eq!(pages.len(), 1, "one page for the fault: {pages:?}");
    println!(
        "e2e[clusters]: passed in {:.0}s",
        started.elapsed().as_secs_f64()
    );
}
