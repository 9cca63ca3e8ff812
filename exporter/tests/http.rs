//! Black-box tests of the billing services through the real binary: idempotency,
//! durability across `kill -9`, tenant isolation, webhook signatures, bad input,
//! the exposition format, the cardinality guard, faults and shutdown.
//! Long: the exporter's HTTP behaviour through the real binary, one test per behaviour, sharing its helpers.

use crate::common::*;
use exporter::billing::api::sign;
use serde_json::{json, Value};

const INGEST: &str = "demo-ingest-token";

/// A usage batch, every event stamped now.
fn batch(events: &[(&str, &str, &str, Value)]) -> String {
    let now = jiff::Timestamp::now().to_string();
    let events: Vec<Value> = events
        .iter()
        .map(|(id, account, meter, q)| json!({"id": id, "account": account, "meter": meter, "quantity": q, "timestamp": now}))
        .collect();
    json!({ "events": events }).to_string()
}

fn usage(e: &Exporter, account: &str, token: &str) -> (u16, Value) {
    let (code, body) = get(
        &format!("{}/v1/accounts/{account}/usage", e.base),
        Some(token),
    );
    (code, serde_json::from_str(&body).unwrap_or(Value::Null))
}

fn item<'v>(v: &'v Value, meter: &str) -> &'v Value {
    v["meters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["meter"] == meter)
        .unwrap()
}

fn quantity(v: &Value, meter: &str) -> u64 {
    item(v, meter)["quantity"].as_u64().unwrap()
}

#[test]
fn ingestion_is_idempotent_on_event_id() {
    let dir = tempfile::tempdir().unwrap();
    let e = Exporter::start(dir.path(), &[]);
    let body = batch(&[
        ("e1", "acme", "egress_bytes", json!(100)),
        ("e2", "acme", "egress_bytes", json!(50)),
    ]);
    assert_eq!(
        ingest(&e, INGEST, &body),
        (200, r#"{"accepted":2,"duplicates":0}"#.into())
    );
    assert_eq!(
        ingest(&e, INGEST, &body),
        (200, r#"{"accepted":0,"duplicates":2}"#.into())
    );
    let within = batch(&[
        ("e3", "acme", "egress_bytes", json!(7)),
        ("e3", "acme", "egress_bytes", json!(7)),
    ]);
    assert_eq!(
        ingest(&e, INGEST, &within),
        (200, r#"{"accepted":1,"duplicates":1}"#.into())
    );
    wait_until("aggregation", || {
        let (_, u) = usage(&e, "acme", "acme-token");
        quantity(&u, "egress_bytes") == 157
    });
    let m = e.metrics();
    assert_eq!(
        sample(&m, r#"billing_usage_events_total{outcome="accepted"}"#),
        Some(3.0)
    );
    assert_eq!(
        sample(&m, r#"billing_usage_events_total{outcome="duplicate"}"#),
        Some(3.0)
    );
}

#[test]
fn bad_input_is_refused_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let e = Exporter::start(dir.path(), &[]);
    let ok = ("x", "acme", "egress_bytes", json!(1));
    let cases: Vec<(&str, String, u16)> = vec![
        ("malformed JSON", "{\"events\": [".into(), 400),
        ("no events", "{\"evts\": []}".into(), 400),
        ("missing id", json!({"events": [{"account": "acme", "meter": "egress_bytes", "quantity": 1, "timestamp": "2026-11-26T09:00:00Z"}]}).to_string(), 400),
        ("negative", batch(&[ok.clone(), ("n", "acme", "egress_bytes", json!(-1))]), 422),
        ("NaN as a string", batch(&[("n", "acme", "egress_bytes", json!("NaN"))]), 400),
        ("fraction", batch(&[("n", "acme", "egress_bytes", json!(2.5))]), 422),
        ("overflow", r#"{"events":[{"id":"n","account":"acme","meter":"egress_bytes","quantity":1e999,"timestamp":"2026-11-26T09:00:00Z"}]}"#.into(), 422),
        ("not a time", json!({"events": [{"id": "n", "account": "acme", "meter": "egress_bytes", "quantity": 1, "timestamp": "not a time"}]}).to_string(), 422),
        ("unix seconds", json!({"events": [{"id": "n", "account": "acme", "meter": "egress_bytes", "quantity": 1, "timestamp": 1_795_000_000}]}).to_string(), 400),
        ("unknown meter", batch(&[("n", "acme", "bogus", json!(1))]), 422),
        ("unknown account", batch(&[("n", "nobody", "egress_bytes", json!(1))]), 422),
    ];
    for (what, body, want) in cases {
        let (code, text) = ingest(&e, INGEST, &body);
        assert_eq!(code, want, "{what}: {text}");
        let err: Value =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("{what}: not JSON: {text}"));
        assert!(
            err["error"].as_str().is_some_and(|m| !m.is_empty()),
            "{what}: {text}"
        );
    }
    let body = batch(&[ok]);
    assert_eq!(ingest(&e, "wrong-token", &body).0, 401);
    assert_eq!(post(&format!("{}/v1/usage", e.base), &[], &body).0, 401);
    // None of the above stored anything: the same id is still new.
    assert_eq!(
        ingest(&e, INGEST, &body),
        (200, r#"{"accepted":1,"duplicates":0}"#.into())
    );
}

#[test]
fn acknowledged_events_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let e = Exporter::start(dir.path(), &[]);
    let mut total = 0;
    let mut ids = Vec::new();
    for i in 0..40u64 {
        let id = format!("k{i}");
        let q = i * 3 + 1;
        total += q;
        let (code, _) = ingest(
            &e,
            INGEST,
            &batch(&[(&id, "globex", "class_b_transactions", json!(q))]),
        );
        assert_eq!(code, 200);
        ids.push((id, q));
    }
    e.kill9();
    let e = Exporter::start(dir.path(), &[]);
    // Every acknowledged event is there: replaying all of them adds nothing.
    let events: Vec<(&str, &str, &str, Value)> = ids
        .iter()
        .map(|(id, q)| (id.as_str(), "globex", "class_b_transactions", json!(q)))
        .collect();
    assert_eq!(
        ingest(&e, INGEST, &batch(&events)),
        (200, r#"{"accepted":0,"duplicates":40}"#.into())
    );
    wait_until("aggregation after restart", || {
        let (_, u) = usage(&e, "globex", "globex-token");
        quantity(&u, "class_b_transactions") == total
    });
}

/// The same promise under concurrent load, where group commit acknowledges many batches
/// with one fsync: 8 clients post 100-event batches until the exporter is killed with
/// SIGKILL mid-burst. After a restart every acknowledged batch replays as all duplicates,
/// and once the batches in flight at the kill are replayed too, the usage total is the
/// sum of every event sent, each counted exactly once.
#[test]
// Long: one scenario read top to bottom; each step starts from the state the last left.
fn acknowledged_events_survive_kill_9_under_load() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    let dir = tempfile::tempdir().unwrap();
    let e = Exporter::start(dir.path(), &[]);
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let unacked = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..8)
        .map(|c| {
            let (base, stop) = (e.base.clone(), stop.clone());
            let (acked, unacked, acknowledged) =
                (acked.clone(), unacked.clone(), acknowledged.clone());
            std::thread::spawn(move || {
                for seq in 0..300u64 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let events: Vec<(String, u64)> = (0..100u64)
                        .map(|i| (format!("L{c}-{seq}-{i}"), (c + seq + i) % 5 + 1))
                        .collect();
                    let refs: Vec<(&str, &str, &str, Value)> = events
                        .iter()
                        .map(|(id, q)| (id.as_str(), "globex", "egress_bytes", json!(q)))
                        .collect();
                    let body = batch(&refs);
                    let (code, _) = post(
                        &format!("{base}/v1/usage"),
                        &[("Authorization", &format!("Bearer {INGEST}"))],
                        &body,
                    );
                    if code == 200 {
                        acked.lock().unwrap().push(body);
                        acknowledged.fetch_add(1, Ordering::Relaxed);
                    } else {
                        // In flight at the kill: maybe stored, maybe not.
                        unacked.lock().unwrap().push(body);
                        break;
                    }
                }
            })
        })
        .collect();
    // Every acknowledgement waits on an fsync: beside a loaded disk (a CI run took more
    // than 15 s) the batches come slowly, and the test is about the kill, not the pace.
    wait_until_within(
        "100 batches acknowledged under load",
        std::time::Duration::from_secs(90),
        || acknowledged.load(Ordering::Relaxed) >= 100,
    );
    e.kill9();
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let e = Exporter::start(dir.path(), &[]);
    let acked = acked.lock().unwrap().clone();
    let unacked = unacked.lock().unwrap().clone();
    assert!(acked.len() >= 100, "{} acknowledged", acked.len());
    for body in &acked {
        assert_eq!(
            ingest(&e, INGEST, body),
            (200, r#"{"accepted":0,"duplicates":100}"#.into()),
            "an acknowledged batch was lost"
        );
    }
    for body in &unacked {
        assert_eq!(ingest(&e, INGEST, body).0, 200);
    }
    let sent: u64 = acked
        .iter()
        .chain(&unacked)
        .flat_map(|b| {
            let v: Value = serde_json::from_str(b).unwrap();
            v["events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["quantity"].as_u64().unwrap())
                .collect::<Vec<_>>()
        })
        .sum();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let seen = quantity(&usage(&e, "globex", "globex-token").1, "egress_bytes");
        assert!(seen <= sent, "counted twice: {seen} > {sent}");
        if seen == sent {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "only {seen} of {sent} visible"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

#[test]
fn an_account_sees_only_its_own_usage() {
    let dir = tempfile::tempdir().unwrap();
    let e = Exporter::start(dir.path(), &[]);
    ingest(
        &e,
        INGEST,
        &batch(&[
            ("a1", "acme", "egress_bytes", json!(2_000_000_000_000u64)),
            ("g1", "globex", "egress_bytes", json!(5)),
        ]),
    );
    wait_until("aggregation", || {
        usage(&e, "acme", "acme-token").1["meters"]
            .as_array()
            .is_some_and(|m| m.iter().any(|x| x["quantity"] == 2_000_000_000_000u64))
    });
    let (code, own) = usage(&e, "acme", "acme-token");
    assert_eq!(code, 200);
    assert_eq!(own["account"], "acme");
    assert_eq!(own["currency"], "USD");
    let egress = own["meters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["meter"] == "egress_bytes")
        .unwrap();
    assert_eq!(egress["cost"], 18_000, "2 TB at $0.09/GB in integer cents");
    assert_eq!(
        usage(&e, "globex", "acme-token").0,
        404,
        "another tenant's account"
    );
    assert_eq!(usage(&e, "nosuch", "acme-token").0, 404);
    assert_eq!(
        get(&format!("{}/v1/accounts/acme/usage", e.base), None).0,
        401
    );
    assert_eq!(usage(&e, "acme", "forged").0, 401);
}

#[test]
fn webhooks_need_a_valid_signature_and_count_once() {
    let dir = tempfile::tempdir().unwrap();
    let e = Exporter::start(dir.path(), &[]);
    let url = format!("{}/v1/webhooks/payments/stripe", e.base);
    let body =
        json!({"id": "evt_1", "type": "payment.declined", "account": "acme", "amount": 1200})
            .to_string();
    let sig = sign("whsec_demo_stripe", body.as_bytes());
    assert_eq!(
        post(&url, &[("x-signature", &sig)], &body),
        (200, r#"{"status":"accepted"}"#.into())
    );
    assert_eq!(
        post(&url, &[("x-signature", &sig)], &body),
        (200, r#"{"status":"duplicate"}"#.into())
    );
    assert_eq!(post(&url, &[("x-signature", "sha256=00")], &body).0, 401);
    assert_eq!(post(&url, &[], &body).0, 401);
    let other = sign("whsec_demo_adyen", body.as_bytes());
    assert_eq!(
        post(&url, &[("x-signature", &other)], &body).0,
        401,
        "another provider's secret"
    );
    let tampered = body.replace("1200", "1");
    assert_eq!(post(&url, &[("x-signature", &sig)], &tampered).0, 401);
    let junk = "{not json";
    assert_eq!(
        post(
            &url,
            &[("x-signature", &sign("whsec_demo_stripe", junk.as_bytes()))],
            junk
        )
        .0,
        400
    );
    assert_eq!(
        post(
            &format!("{}/v1/webhooks/payments/nope", e.base),
            &[("x-signature", &sig)],
            &body
        )
        .0,
        404
    );
    let m = e.metrics();
    // The decline counted once, as a decline; bad signatures are 401s, not SLO errors.
    assert_eq!(
        sample(
            &m,
            r#"billing_payment_attempts_total{provider="stripe",outcome="declined"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &m,
            r#"billing_payment_attempts_total{provider="stripe",outcome="error"}"#
        ),
        Some(0.0)
    );
    let five_xx: f64 = m
        .lines()
        .filter(|l| {
            l.starts_with("billing_http_requests_total{api=\"payments-webhooks\"")
                && l.contains("code=\"5")
        })
        .filter_map(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        .sum();
    assert_eq!(five_xx, 0.0);
}

#[test]
fn exposition_is_openmetrics_with_exemplars() {
    let dir = tempfile::tempdir().unwrap();
    let e = Exporter::start(dir.path(), &[]);
    ingest(
        &e,
        INGEST,
        &batch(&[("x1", "acme", "egress_bytes", json!(1))]),
    );
    let (code, text) = get(&format!("{}/metrics", e.base), None);
    assert_eq!(code, 200);
    assert!(text.ends_with("# EOF\n"));
    let line = text
        .lines()
        .find(|l| l.starts_with(r#"billing_http_requests_total{api="usage-ingest",route="/v1/usage",method="POST",code="200"}"#))
        .expect("request counter");
    let (_, exemplar) = line.split_once(" # ").expect("exemplar");
    let id = exemplar
        .strip_prefix("{trace_id=\"")
        .and_then(|r| r.split('"').next())
        .unwrap();
    assert!(
        id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{line}"
    );
    assert!(text.contains("# TYPE billing_http_request_duration_seconds histogram"));
    assert!(
        text.contains(r#"le="0.3""#) && text.contains(r#"le="0.25""#),
        "spec thresholds are buckets"
    );
}

#[test]
fn unknown_paths_fold_into_other() {
    let dir = tempfile::tempdir().unwrap();
    let e = Exporter::start(dir.path(), &[]);
    for i in 0..50 {
        assert_eq!(get(&format!("{}/scan/{i}/admin.php", e.base), None).0, 404);
    }
    assert_eq!(get(&format!("{}/v1/usage", e.base), None).0, 405);
    let m = e.metrics();
    let routes: std::collections::BTreeSet<&str> = m
        .lines()
        .filter(|l| l.starts_with("billing_http_requests_total{"))
        .filter_map(|l| l.split("route=\"").nth(1)?.split('"').next())
        .collect();
    assert!(!routes.iter().any(|r| r.contains("scan")), "{routes:?}");
    assert!(routes.contains("other"));
    assert!(routes.len() <= 5, "{routes:?}");
}

#[test]
fn faults_change_at_run_time_through_the_loopback_admin() {
    let dir = tempfile::tempdir().unwrap();
    let e = Exporter::start(dir.path(), &["--fault", "ingest.error_rate=1"]);
    let body = batch(&[("f1", "acme", "egress_bytes", json!(1))]);
    assert_eq!(ingest(&e, INGEST, &body).0, 503);
    assert_eq!(
        delete(&format!("{}/faults/ingest.error_rate", e.admin)).0,
        200
    );
    assert_eq!(ingest(&e, INGEST, &body).0, 200);
    assert_eq!(
        put(&format!("{}/faults/payments.error_rate", e.admin), "1").0,
        200
    );
    let url = format!("{}/v1/webhooks/payments/stripe", e.base);
    let wh = json!({"id": "evt_f", "type": "payment.succeeded", "account": "acme", "amount": 1})
        .to_string();
    let sig = sign("whsec_demo_stripe", wh.as_bytes());
    assert_eq!(post(&url, &[("x-signature", &sig)], &wh).0, 503);
    assert_eq!(
        sample(
            &e.metrics(),
            r#"billing_payment_attempts_total{provider="stripe",outcome="error"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        put(&format!("{}/faults/payments.error_rate", e.admin), "0").0,
        200
    );
    // The failed delivery was not recorded, so the provider's retry is processed.
    assert_eq!(
        post(&url, &[("x-signature", &sig)], &wh),
        (200, r#"{"status":"accepted"}"#.into())
    );
    assert_eq!(
        put(&format!("{}/faults/payment.error_rate", e.admin), "1").0,
        400,
        "unknown fault"
    );
    assert_eq!(
        put(&format!("{}/faults/payments.error_rate", e.admin), "7").0,
        400,
        "out of range"
    );
}

#[test]
fn sigterm_stops_cleanly_and_admin_must_be_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let e = Exporter::start(dir.path(), &["--traffic", "20"]);
    // Stopped while its traffic runs: wait until the generator has been answered.
    let ingested = r#"billing_http_request_duration_seconds_count{api="usage-ingest",route="/v1/usage",method="POST"}"#;
    wait_until("the traffic generator's first requests", || {
        sample(&e.metrics(), ingested).is_some_and(|n| n > 0.0)
    });
    assert!(e.terminate().success());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_billing-exporter"))
        .args(["--admin-listen", "0.0.0.0:0", "--listen", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(dir.path())
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback"));
}

#[test]
fn check_metrics_passes_on_live_traffic() {
    let dir = tempfile::tempdir().unwrap();
    let e = Exporter::start(dir.path(), &["--traffic", "50"]);
    wait_until("traffic on every API", || {
        let m = e.metrics();
        ["usage-ingest", "usage-api", "payments-webhooks"]
            .iter()
            .all(|api| sample(&m, &format!("billing_http_request_duration_seconds_count{{api=\"{api}\",route=\"{}\",method=\"{}\"}}",
                match *api { "usage-ingest" => "/v1/usage", "usage-api" => "/v1/accounts/{account}/usage", _ => "/v1/webhooks/payments/{provider}" },
                if *api == "usage-api" { "GET" } else { "POST" })).is_some_and(|v| v > 0.0))
    });
    let slos = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../slos"));
    let cli = <slo_gen::Cli as clap::Parser>::parse_from([
        "slo-gen".into(),
        "check-metrics".into(),
        "--metrics-url".into(),
        format!("{}/metrics", e.base),
        slos.display().to_string(),
    ]);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = slo_gen::run(cli, &mut out, &mut err);
    let (out, err) = (
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.starts_with("30 of 30 selectors matched"), "{err}");
}

#[test]
fn accounts_file_replaces_the_demo_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("accounts.yaml");
    std::fs::write(
        &file,
        "ingest_token: s3cret-ingest\naccounts:\n  - {id: umbrella, token: umbrella-token, plan: {subscription: {fee_cents: 900}}}\n",
    )
    .unwrap();
    let data = dir.path().join("data");
    let e = Exporter::start(&data, &["--accounts", file.to_str().unwrap()]);
    let body = batch(&[("u1", "umbrella", "egress_bytes", json!(5))]);
    assert_eq!(
        ingest(&e, INGEST, &body).0,
        401,
        "the demo token no longer works"
    );
    assert_eq!(ingest(&e, "s3cret-ingest", &body).0, 200);
    assert_eq!(
        ingest(
            &e,
            "s3cret-ingest",
            &batch(&[("u2", "acme", "egress_bytes", json!(5))])
        )
        .0,
        422,
        "demo account gone"
    );
    wait_until("aggregation", || {
        usage(&e, "umbrella", "umbrella-token").1["total_cost"] == 900
    });
    drop(e);
    std::fs::write(
        &file,
        "ingest_token: x\naccounts: [{id: a, token: t, colour: red}]\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_billing-exporter"))
        .args([
            "--accounts",
            file.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
        ])
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("accounts.yaml"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn logs_carry_the_trace_id_of_the_exemplar() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("exporter.log");
    let e = Exporter::start_logged(
        &dir.path().join("data"),
        &["--fault", "payments.error_rate=1"],
        &log,
    );
    let wh = json!({"id": "evt_log", "type": "payment.succeeded", "account": "acme", "amount": 1})
        .to_string();
    let sig = sign("whsec_demo_stripe", wh.as_bytes());
    assert_eq!(
        post(
            &format!("{}/v1/webhooks/payments/stripe", e.base),
            &[("x-signature", &sig)],
            &wh
        )
        .0,
        503
    );
    let m = e.metrics();
    let line = m
        .lines()
        .find(|l| {
            l.starts_with("billing_http_requests_total{api=\"payments-webhooks\"")
                && l.contains("code=\"503\"")
        })
        .expect("503 counter");
    let exemplar = line
        .split("trace_id=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    wait_until("the log line", || {
        std::fs::read_to_string(&log).is_ok_and(|t| t.contains("payment webhook failed"))
    });
    let text = std::fs::read_to_string(&log).unwrap();
    let entry: Value = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["fields"]["message"] == "payment webhook failed (injected fault)")
        .expect("a JSON log line");
    assert_eq!(entry["span"]["trace_id"], exemplar.as_str(), "{entry}");
}

/// The inputs that broke the money once (issue 17): each is refused at ingest with a 422
/// naming the field, and every account's cost stays exact, to the cent, up to the
/// per-account bound; past it the batch is refused whole.
#[test]
// Long: one scenario read top to bottom; each step starts from the state the last left.
fn money_is_exact_and_never_wraps() {
    use exporter::billing::rating::{MAX_ACCOUNT_QUANTITY, MAX_EVENT_QUANTITY};
    let dir = tempfile::tempdir().unwrap();
    let e = Exporter::start(dir.path(), &[]);
    let now = jiff::Timestamp::now().to_string();
    let raw = |id: &str, account: &str, quantity: &str| {
        format!(
            r#"{{"events":[{{"id":"{id}","account":"{account}","meter":"egress_bytes","quantity":{quantity},"timestamp":"{now}"}}]}}"#
        )
    };
    for (id, q) in [
        ("big", "1e300"),
        ("max1", "1.7e308"),
        ("max2", "1.7e308"),
        ("negzero", "-0.0"),
        ("huge", "1e29"),
        ("past-event-bound", "1000000000000001"),
    ] {
        for account in ["acme", "initech"] {
            let (code, body) = ingest(&e, INGEST, &raw(&format!("{account}-{id}"), account, q));
            assert_eq!(code, 422, "{q}: {body}");
            let err: Value = serde_json::from_str(&body).unwrap();
            assert!(
                err["error"]
                    .as_str()
                    .unwrap()
                    .starts_with("`events[0].quantity`"),
                "{q}: {body}"
            );
        }
    }
    // Fill initech (hybrid: $100 with 1 TB egress included) to the per-account bound
    // with the largest events allowed, then one unit more.
    let per_batch = 1000u64;
    for b in 0..MAX_ACCOUNT_QUANTITY / MAX_EVENT_QUANTITY / per_batch {
        let events: Vec<(String, Value)> = (0..per_batch)
            .map(|i| (format!("fill-{b}-{i}"), json!(MAX_EVENT_QUANTITY)))
            .collect();
        let refs: Vec<(&str, &str, &str, Value)> = events
            .iter()
            .map(|(id, q)| (id.as_str(), "initech", "egress_bytes", q.clone()))
            .collect();
        assert_eq!(ingest(&e, INGEST, &batch(&refs)).0, 200);
    }
    let (code, body) = ingest(
        &e,
        INGEST,
        &batch(&[
            ("ok-other", "acme", "egress_bytes", json!(3)),
            ("one-more", "initech", "egress_bytes", json!(1)),
        ]),
    );
    assert_eq!(code, 422, "{body}");
    assert!(body.contains("`events[1].quantity`"), "{body}");
    // The refused batch stored nothing, its valid event neither.
    assert_eq!(
        ingest(
            &e,
            INGEST,
            &batch(&[("ok-other", "acme", "egress_bytes", json!(3))])
        ),
        (200, r#"{"accepted":1,"duplicates":0}"#.into())
    );
    wait_until("aggregation", || {
        quantity(&usage(&e, "initech", "initech-token").1, "egress_bytes") == MAX_ACCOUNT_QUANTITY
    });
    let (_, initech) = usage(&e, "initech", "initech-token");
    // (10^18 - 10^12) bytes at 9 cents per 10^9 bytes, plus the $100 fee.
    assert_eq!(item(&initech, "egress_bytes")["cost"], 8_999_991_000u64);
    assert_eq!(initech["total_cost"], 8_999_991_000u64 + 10_000);
    wait_until("acme's event", || {
        quantity(&usage(&e, "acme", "acme-token").1, "egress_bytes") == 3
    });
    let (_, acme) = usage(&e, "acme", "acme-token");
    assert_eq!(acme["total_cost"], 0, "3 bytes round to 0 cents");
    // The invoice job rates the bound without panicking and keeps running.
    wait_until("an invoice run", || {
        sample(&e.metrics(), r#"billing_invoices_total{outcome="ok"}"#).is_some_and(|n| n >= 3.0)
    });
    assert_eq!(
        sample(&e.metrics(), r#"billing_invoices_total{outcome="error"}"#),
        Some(0.0)
    );
}

/// Every error answer has a JSON body, the framework's too.
#[test]
// Long: a table of bad requests, one request and its expected answer each.
fn error_bodies_are_json_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let e = Exporter::start(dir.path(), &[]);
    let auth = format!("Bearer {INGEST}");
    // One byte over axum's 2 MiB body limit, on a connection of its own that the server
    // closes after answering; the whole body is sent, so no unread bytes can turn that
    // close into a reset racing the answer.
    let too_large = || {
        use std::io::{Read, Write};
        let n = (2 << 20) + 1;
        let mut tcp = std::net::TcpStream::connect(e.base.trim_start_matches("http://")).unwrap();
        tcp.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        write!(
            tcp,
            "POST /v1/usage HTTP/1.1\r\nhost: x\r\nconnection: close\r\nauthorization: {auth}\r\ncontent-type: application/json\r\ncontent-length: {n}\r\n\r\n{}",
            "x".repeat(n)
        )
        .unwrap();
        let mut answer = String::new();
        let _ = tcp.read_to_string(&mut answer);
        let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let content_type = head
            .lines()
            .find_map(|l| l.strip_prefix("content-type: "))
            .map(str::to_string);
        (status, content_type, body.to_string())
    };
    // No pooled connections: the server closes a connection whose request body it did
    // not read, and a reused one would race that close.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_idle_connections(0)
        .build()
        .into();
    let send = |req: ureq::RequestBuilder<ureq::typestate::WithBody>, body: &str| {
        let mut r = req.send(body).unwrap();
        (
            r.status().as_u16(),
            r.headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_string()),
            r.body_mut().read_to_string().unwrap(),
        )
    };
    let url = format!("{}/v1/usage", e.base);
    let long = format!("{}/v1/{}", e.base, "a".repeat(20_000));
    let cases = [
        (
            "404",
            send(agent.post(&format!("{}/nope", e.base)), "{}"),
            404,
        ),
        (
            "405",
            {
                let mut r = agent.get(&url).call().unwrap();
                (
                    r.status().as_u16(),
                    r.headers()
                        .get("content-type")
                        .map(|v| v.to_str().unwrap().to_string()),
                    r.body_mut().read_to_string().unwrap(),
                )
            },
            405,
        ),
        ("413", too_large(), 413),
        ("414", send(agent.post(&long), "{}"), 414),
        (
            "415",
            send(
                agent
                    .post(&url)
                    .header("authorization", &auth)
                    .header("content-type", "text/plain"),
                "{}",
            ),
            415,
        ),
        (
            "admin 400",
            send(agent.put(&format!("{}/faults/nope", e.admin)), "1"),
            400,
        ),
    ];
    for (what, (code, content_type, body), want) in cases {
        assert_eq!(code, want, "{what}: {body}");
        assert_eq!(content_type.as_deref(), Some("application/json"), "{what}");
        let v: Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("{what}: {body}"));
        assert!(
            v["error"].as_str().is_some_and(|m| !m.is_empty()),
            "{what}: {body}"
        );
    }
}

/// A handler that panics answers 500 with a JSON body, is counted like any answer, and
/// the service lives on.
#[test]
fn a_panicking_handler_answers_500_and_is_counted() {
    let dir = tempfile::tempdir().unwrap();
    let e = Exporter::start(dir.path(), &[]);
    let series = r#"billing_http_requests_total{api="usage-ingest",route="/v1/usage",method="POST",code="500"}"#;
    let before = sample(&e.metrics(), series).unwrap();
    assert_eq!(put(&format!("{}/faults/ingest.panic", e.admin), "1").0, 200);
    let body = batch(&[("p1", "acme", "egress_bytes", json!(1))]);
    for _ in 0..3 {
        let (code, text) = ingest(&e, INGEST, &body);
        assert_eq!(code, 500, "{text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["error"], "internal error; retry");
    }
    assert_eq!(sample(&e.metrics(), series), Some(before + 3.0));
    assert_eq!(delete(&format!("{}/faults/ingest.panic", e.admin)).0, 200);
    assert_eq!(
        ingest(&e, INGEST, &body),
        (200, r#"{"accepted":1,"duplicates":0}"#.into())
    );
}

/// Aggregation drains a burst in one run instead of a fixed 10,000 events per interval:
/// with runs 5 s apart, 30,000 events are visible well before a second run could start.
#[test]
fn aggregation_drains_a_burst_in_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let e = Exporter::start(dir.path(), &["--aggregation-interval", "5"]);
    let (_, before) = usage(&e, "acme", "acme-token");
    let base = quantity(&before, "egress_bytes");
    for b in 0..30 {
        let ids: Vec<String> = (0..1000).map(|i| format!("burst-{b}-{i}")).collect();
        let events: Vec<(&str, &str, &str, Value)> = ids
            .iter()
            .map(|id| (id.as_str(), "acme", "egress_bytes", json!(1)))
            .collect();
        assert_eq!(ingest(&e, INGEST, &batch(&events)).0, 200);
    }
    let posted = std::time::Instant::now();
    // The next run starts within 5 s; a second one would start 5 s after that.
    let deadline = posted + std::time::Duration::from_secs(8);
    loop {
        let (_, u) = usage(&e, "acme", "acme-token");
        if quantity(&u, "egress_bytes") == base + 30_000 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "only {} of 30000 events visible after {:?}",
            quantity(&u, "egress_bytes") - base,
            posted.elapsed()
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let m = e.metrics();
    assert_eq!(
        sample(
            &m,
            r#"billing_pipeline_lag_seconds{pipeline="usage-aggregation"}"#
        ),
        Some(0.0)
    );
    assert_eq!(sample(&m, "billing_usage_api_data_lag_seconds"), Some(0.0));
}

/// The lag customers see is read at scrape time: a stalled aggregation shows it growing.
#[test]
fn a_stalled_aggregation_shows_in_the_lag_at_every_scrape() {
    let dir = tempfile::tempdir().unwrap();
    let e = Exporter::start(dir.path(), &["--fault", "aggregation.stall=1"]);
    let body = batch(&[("stuck", "acme", "egress_bytes", json!(1))]);
    assert_eq!(ingest(&e, INGEST, &body).0, 200);
    std::thread::sleep(std::time::Duration::from_secs(2));
    let lag = |m: &str| sample(m, "billing_usage_api_data_lag_seconds").unwrap();
    let first = lag(&e.metrics());
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let second = lag(&e.metrics());
    assert!(
        first >= 1.5 && second >= first + 1.0,
        "{first} then {second}"
    );
    assert_eq!(
        delete(&format!("{}/faults/aggregation.stall", e.admin)).0,
        200
    );
    wait_until("the backlog to drain", || lag(&e.metrics()) == 0.0);
}

/// Run from the repository root, the exporter's default data directory is ignored by git.
#[test]
fn the_default_data_dir_is_ignored_by_git() {
    let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let out = std::process::Command::new("git")
        .args(["check-ignore", "billing-data/billing.redb"])
        .current_dir(root)
        .output()
        .expect("git");
    assert!(out.status.success(), "billing-data/ is not ignored");
}
