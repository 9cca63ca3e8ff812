//! One workload, two engines: the same exporter scraped by Prometheus and by
//! VictoriaMetrics, the same generated rules evaluated by Prometheus and by vmalert. After
//! 65 seconds of a payments fault, every recorded error ratio is compared between the
//! two at the same instant; the largest relative difference per window is printed, and
//! must stay small enough that no alert threshold decision differs.

use e2e::{wait, Stack};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

fn ratios(url: &str) -> BTreeMap<String, f64> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let body = agent
        .post(&format!("{url}/api/v1/query"))
        .send_form([(
            "query",
            r#"{__name__=~"slo:sli_error:ratio_rate.+",service="payments"}"#,
        )])
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    v["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| {
            let m = s["metric"].as_object()?;
            let key = format!(
                "{} {} {}",
                m.get("__name__")?.as_str()?,
                m.get("slo")?.as_str()?,
                m.get("provider").and_then(|p| p.as_str()).unwrap_or("")
            );
            Some((key, s["value"][1].as_str()?.parse().ok()?))
        })
        .collect()
}

#[test]
fn prometheus_and_victoriametrics_record_the_same_error_ratios() {
    let slos = Path::new(env!("CARGO_MANIFEST_DIR")).join("slos");
    // 200 requests per second: enough events per provider that one event more or less in a
    // window is a small share of it.
    let mut stack = Stack::start(&slos, 200.0, false).unwrap_or_else(|e| panic!("{e}"));
    let vm = stack
        .add_victoriametrics()
        .unwrap_or_else(|e| panic!("{e}"));
    stack.fault("payments.error_rate", Some("0.05")).unwrap();
    wait(
        "65 s of the fault on both engines",
        Duration::from_secs(240),
        &stack,
        || {
            std::thread::sleep(Duration::from_secs(65));
            Some(())
        },
    );
    let (p, v) = (ratios(&stack.prometheus_url), ratios(&vm));
    let mut worst: BTreeMap<String, (f64, String)> = BTreeMap::new();
    let mut compared = 0;
    for (key, a) in &p {
        let Some(b) = v.get(key) else { continue };
        compared += 1;
        let rel = if a.abs().max(b.abs()) > 0.0 {
            (a - b).abs() / a.abs().max(b.abs())
        } else {
            0.0
        };
        let window = key
            .split_whitespace()
            .next()
            .unwrap()
            .trim_start_matches("slo:sli_error:ratio_rate")
            .to_string();
        let e = worst.entry(window).or_insert((0.0, String::new()));
        if rel >= e.0 {
            *e = (
                rel,
                format!("{key}: prometheus {a:.5}, victoriametrics {b:.5}"),
            );
        }
    }
    assert!(
        compared >= 20,
        "only {compared} series on both engines: {p:?} / {v:?}"
    );
    for (window, (rel, at)) in &worst {
        println!(
            "e2e[engines]: window {window}: largest relative difference {:.2}% ({at})",
            rel * 100.0
        );
    }
    let largest = worst.values().map(|w| w.0).fold(0.0, f64::max);
    println!(
        "e2e[engines]: {compared} recorded ratios compared; largest relative difference {:.2}%",
        largest * 100.0
    );
    // Held to account: the longest window both engines cover whole (VictoriaMetrics starts
    // a few seconds after Prometheus; longer windows compare different spans of this run).
    // Shorter windows hold a handful of errors per provider, and the engines evaluate at
    // different instants: one event more or less moves them by 10-20%, so they are only
    // printed. The phantom errors this test found were 100% off in every window.
    let (rel, at) = &worst["1m"];
    assert!(*rel < 0.15, "window 1m: {at}");
}
