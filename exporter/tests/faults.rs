//! Faults survived: a store that cannot commit (the `store.enospc` fault fails commits the
//! way a full disk does, and leaves redb refusing every later write until it is reopened)
//! and SIGTERM under load, through the real binary.

use crate::common::{delete, get, ingest, post, put, wait_until, Exporter};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const INGEST: &str = "demo-ingest-token";

/// A usage batch of `n` events of one unit each, ids `{prefix}-{i}`.
fn batch(prefix: &str, n: usize) -> String {
    let now = jiff::Timestamp::now().to_string();
    let events: Vec<Value> = (0..n)
        .map(|i| json!({"id": format!("{prefix}-{i}"), "account": "globex", "meter": "egress_bytes", "quantity": 1, "timestamp": now}))
        .collect();
    json!({ "events": events }).to_string()
}

fn egress(e: &Exporter) -> u64 {
    let (code, body) = get(
        &format!("{}/v1/accounts/globex/usage", e.base),
        Some("globex-token"),
    );
    assert_eq!(code, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    v["meters"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|i| i["meter"] == "egress_bytes")
        .map_or(0, |i| i["quantity"].as_u64().unwrap())
}

/// The status and `Retry-After` of an ingest.
fn ingest_answer(e: &Exporter, body: &str) -> (u16, Option<String>) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let r = agent
        .post(&format!("{}/v1/usage", e.base))
        .header("Authorization", &format!("Bearer {INGEST}"))
        .header("content-type", "application/json")
        .send(body)
        .unwrap();
    let retry = r
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    (r.status().as_u16(), retry)
}

#[test]
fn a_store_that_cannot_commit_is_reported_refused_and_recovers_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let e = Exporter::start(dir.path(), &[]);
    let readyz = || get(&format!("{}/readyz", e.base), None);
    assert_eq!(ingest(&e, INGEST, &batch("before", 100)).0, 200);
    assert_eq!(readyz().0, 200);

    assert_eq!(
        put(&format!("{}/faults/store.enospc", e.admin), "on").0,
        200
    );
    // The first commit fails on the "full disk" and nothing of it is acknowledged.
    assert_eq!(
        ingest_answer(&e, &batch("during", 100)),
        (503, Some("1".into()))
    );
    let (code, why) = readyz();
    assert_eq!(code, 503, "{why}");
    assert!(why.contains("No space left on device"), "{why}");
    // Known down: refused at once, with Retry-After, without a write.
    let t = Instant::now();
    assert_eq!(
        ingest_answer(&e, &batch("during", 100)),
        (503, Some("1".into()))
    );
    assert!(t.elapsed() < Duration::from_secs(1));

    let cleared = Instant::now();
    assert_eq!(
        put(&format!("{}/faults/store.enospc", e.admin), "off").0,
        200
    );
    wait_until("ready again once the store can commit", || {
        readyz().0 == 200
    });
    let recovered = cleared.elapsed();
    println!(
        "faults: the store committed again {recovered:?} after space returned, without a restart"
    );
    assert!(recovered < Duration::from_secs(5), "{recovered:?}");
    // The refused batch is accepted on retry, the acknowledged one is not counted twice.
    assert_eq!(
        ingest(&e, INGEST, &batch("during", 100)),
        (200, r#"{"accepted":100,"duplicates":0}"#.into())
    );
    assert_eq!(
        ingest(&e, INGEST, &batch("before", 100)),
        (200, r#"{"accepted":0,"duplicates":100}"#.into())
    );
    wait_until("aggregation of both batches", || egress(&e) == 200);
}

/// Readiness says when aggregation fails, and why, and is 200 again after a run succeeds.
#[test]
fn failing_aggregation_makes_readyz_503_until_a_run_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let e = Exporter::start(dir.path(), &[]);
    let readyz = || get(&format!("{}/readyz", e.base), None);
    assert_eq!(readyz().0, 200);
    let fault = format!("{}/faults/aggregation.error_rate", e.admin);
    assert_eq!(put(&fault, "1").0, 200);
    wait_until("/readyz 503 while aggregation fails", || readyz().0 == 503);
    let (_, why) = readyz();
    assert!(why.contains("usage aggregation is failing"), "{why}");
    assert_eq!(delete(&fault).0, 200);
    wait_until("/readyz 200 once a run succeeds", || readyz().0 == 200);
}

#[test]
fn sigterm_under_load_keeps_exactly_the_acknowledged_batches() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    let dir = tempfile::tempdir().unwrap();
    let e = Exporter::start(dir.path(), &["--shutdown-timeout", "5s"]);
    let answers = Arc::new(Mutex::new(Vec::<(String, bool)>::new()));
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..8)
        .map(|c| {
            let (base, answers, acknowledged) =
                (e.base.clone(), answers.clone(), acknowledged.clone());
            std::thread::spawn(move || {
                // Bounded: at most 2,000 batches per client.
                for seq in 0..2000 {
                    let prefix = format!("T{c}-{seq}");
                    let (code, _) = post(
                        &format!("{base}/v1/usage"),
                        &[("Authorization", &format!("Bearer {INGEST}"))],
                        &batch(&prefix, 50),
                    );
                    answers.lock().unwrap().push((prefix, code == 200));
                    if code != 200 {
                        break;
                    }
                    acknowledged.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    wait_until("200 batches acknowledged under load", || {
        acknowledged.load(Ordering::Relaxed) >= 200
    });
    let status = e.terminate();
    for c in clients {
        c.join().unwrap();
    }
    assert!(status.success(), "exit {status:?} after SIGTERM");
    let answers = answers.lock().unwrap().clone();
    let acked = answers.iter().filter(|(_, ok)| *ok).count();
    let e = Exporter::start(dir.path(), &[]);
    for (prefix, ok) in &answers {
        let replay = ingest(&e, INGEST, &batch(prefix, 50));
        let want = if *ok {
            r#"{"accepted":0,"duplicates":50}"#
        } else {
            r#"{"accepted":50,"duplicates":0}"#
        };
        assert_eq!(
            replay,
            (200, want.into()),
            "batch {prefix} (acknowledged: {ok})"
        );
    }
    println!(
        "faults: SIGTERM under load: {acked} batches acknowledged, all stored; {} refused or cut off, none stored",
        answers.len() - acked
    );
}

/// The same on a real full disk: a 6 MiB tmpfs (root only; skipped, and said so, where the
/// machine does not allow mounting one). A filler file takes part of it; 1,000-event batches
/// are posted until a commit fails; then the filler is deleted.
#[test]
fn a_real_full_disk_recovers_when_space_returns() {
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("disk");
    std::fs::create_dir(&mnt).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=6m", "tmpfs"])
        .arg(&mnt)
        .output()
        .is_ok_and(|o| o.status.success());
    if !mounted {
        println!("faults: skipped the tmpfs run: mounting a tmpfs needs root here");
        return;
    }
    struct Unmount<'a>(&'a std::path::Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(self.0).status();
        }
    }
    let _unmount = Unmount(&mnt);
    let filler = mnt.join("filler");
    std::fs::write(&filler, vec![1u8; 2 << 20]).unwrap();
    let e = Exporter::start(&mnt.join("data"), &["--cache-size", "1"]);
    let readyz = || get(&format!("{}/readyz", e.base), None);
    let mut acked = Vec::new();
    let mut full = None;
    // Bounded: at most 200 batches (the disk holds far fewer).
    for i in 0..200 {
        let prefix = format!("D{i}");
        match ingest(&e, INGEST, &batch(&prefix, 1000)) {
            (200, _) => acked.push(prefix),
            (code, body) => {
                full = Some((prefix, code, body));
                break;
            }
        }
    }
    let (refused, code, body) = full.expect("the 6 MiB disk never filled");
    assert_eq!(code, 503, "{body}");
    let (ready, why) = readyz();
    assert_eq!(ready, 503, "ready on a full disk: {why}");
    println!(
        "faults: tmpfs full after {} acknowledged batches of 1,000; /readyz: {why}",
        acked.len()
    );
    std::fs::remove_file(&filler).unwrap();
    let freed = Instant::now();
    wait_until("ready again once space returned", || readyz().0 == 200);
    println!(
        "faults: tmpfs: committing again {:?} after space returned, without a restart",
        freed.elapsed()
    );
    assert_eq!(
        ingest(&e, INGEST, &batch(&refused, 1000)),
        (200, r#"{"accepted":1000,"duplicates":0}"#.into())
    );
    for prefix in &acked {
        assert_eq!(
            ingest(&e, INGEST, &batch(prefix, 1000)),
            (200, r#"{"accepted":0,"duplicates":1000}"#.into()),
            "acknowledged batch {prefix} lost"
        );
    }
    let want = 1000 * (acked.len() as u64 + 1);
    wait_until("every stored event aggregated once", || egress(&e) == want);
}
