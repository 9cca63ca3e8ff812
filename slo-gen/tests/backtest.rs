//! `slo-gen backtest` as a user runs it: the real binary in a temp dir with a scrubbed
//! environment, replaying a synthetic week of `slos/` (the README's example), against a
//! baseline at a git revision, with incidents, and refusing what it cannot honour.

use assert_cmd::Command;
use serde_json::Value;
use std::path::Path;

const WEEK_END: i64 = 1_793_491_200_000; // 2026-11-01T00:00:00Z

fn copy_slos(dir: &Path) {
    let src = crate::support::root().join("slos");
    std::fs::create_dir_all(dir.join("slos")).unwrap();
    for f in std::fs::read_dir(src).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), dir.join("slos").join(f.file_name())).unwrap();
    }
}

fn synthetic_week(dir: &Path) {
    let loaded = slo_gen::load(&[dir.join("slos")]).unwrap();
    let h = slo_gen::backtest::synthetic::history(
        &loaded.checked.services,
        slo_eval::Timestamp(WEEK_END),
        7,
    );
    std::fs::write(dir.join("history.json"), h.to_json()).unwrap();
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(dir: &Path, args: &[&str]) -> Run {
    let out = Command::cargo_bin("slo-gen")
        .unwrap()
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .args(args)
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn git(dir: &Path, args: &[&str]) {
    let o = std::process::Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
// Long: one scenario read top to bottom; each step starts from the state the last left.
fn a_week_replays_offline_to_a_stable_json_report() {
    let dir = tempfile::tempdir().unwrap();
    copy_slos(dir.path());
    synthetic_week(dir.path());
    let r = run(
        dir.path(),
        &["backtest", "--history", "history.json", "--format", "json"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let again = run(
        dir.path(),
        &["backtest", "--history", "history.json", "--format", "json"],
    );
    assert_eq!(r.stdout, again.stdout, "same history, same bytes");
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(doc["from"], "2026-10-25T00:00:00Z");
    assert_eq!(doc["to"], "2026-11-01T00:00:00Z");
    let slos = doc["slos"].as_array().unwrap();
    // Every SLO, grouped ones once per group.
    let loaded = slo_gen::load(&[dir.path().join("slos")]).unwrap();
    let n: usize = loaded
        .checked
        .services
        .iter()
        .flat_map(|s| &s.slos)
        .map(|s| if s.group_by.is_empty() { 1 } else { 2 })
        .sum();
    assert_eq!(slos.len(), n);
    for s in slos {
        for key in [
            "service",
            "slo",
            "group",
            "alerts",
            "pages",
            "tickets",
            "attainment",
            "budget_remaining",
        ] {
            assert!(s.get(key).is_some(), "{key} missing in {s}");
        }
        for a in s["alerts"].as_array().unwrap() {
            for key in ["alert", "severity", "start", "end", "peak_burn_rate"] {
                assert!(a.get(key).is_some(), "{key} missing in {a}");
            }
            assert!(a["start"].as_str().unwrap().ends_with('Z'));
        }
    }
    // The synthetic week pages on its hour-long 30x spikes (days 0, 3, 6), and only the
    // burning group of a grouped SLO does.
    let provider = |p: &str| {
        slos.iter()
            .find(|s| s["slo"] == "payment-processing" && s["group"]["provider"] == p)
            .unwrap_or_else(|| panic!("no {p} group"))
    };
    let (stripe, adyen) = (provider("stripe"), provider("adyen"));
    assert!(stripe["pages"].as_u64().unwrap() >= 3, "{stripe}");
    assert_eq!(adyen["pages"], 0, "{adyen}");
    let first_page = &stripe["alerts"][0];
    assert_eq!(first_page["severity"], "page");
    assert!(first_page["peak_burn_rate"].as_f64().unwrap() > 14.4);
    // Text and Markdown say the same in their own way.
    let text = run(dir.path(), &["backtest", "--history", "history.json"]);
    assert!(
        text.stdout
            .contains("payments/payment-processing {provider=stripe}"),
        "{}",
        text.stdout
    );
    let md = run(
        dir.path(),
        &[
            "backtest",
            "--history",
            "history.json",
            "--format",
            "markdown",
        ],
    );
    assert!(
        md.stdout.starts_with("### SLO alert backtest"),
        "{}",
        md.stdout
    );
}

#[test]
fn a_stricter_objective_against_the_committed_specs_adds_pages() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    copy_slos(d);
    synthetic_week(d);
    git(d, &["init", "-q"]);
    git(d, &["add", "slos"]);
    git(d, &["commit", "-qm", "specs"]);
    // The README's example: ingest availability from 99.9 to 99.95.
    let path = d.join("slos/usage-ingest.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("objective: 99.9\n"));
    std::fs::write(
        &path,
        text.replacen("objective: 99.9\n", "objective: 99.95\n", 1),
    )
    .unwrap();

    let args = [
        "backtest",
        "--history",
        "history.json",
        "--baseline",
        "git:HEAD",
        "--format",
        "markdown",
    ];
    let r = run(d, &args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("Against `git:HEAD`: pages "),
        "{}",
        r.stdout
    );
    let row = r
        .stdout
        .lines()
        .find(|l| l.starts_with("| usage-ingest/ingest-availability | page |"))
        .unwrap_or_else(|| panic!("{}", r.stdout));
    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
    let (before, after): (u32, u32) = (cells[3].parse().unwrap(), cells[4].parse().unwrap());
    assert!(after > before, "{row}");
    // The 90-minute 10x burn of day 1 is under the page at 99.9 and over it at 99.95.
    assert_ne!(cells[5], "+0", "{row}");

    let mut strict = args.to_vec();
    strict.push("--fail-on-new-pages");
    let r = run(d, &strict);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("the change adds pages"), "{}", r.stderr);
    // Against itself, nothing changes and the gate passes.
    git(d, &["commit", "-qam", "stricter"]);
    let r = run(d, &strict);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("No alert changes."), "{}", r.stdout);
}

#[test]
fn incidents_get_detection_times_and_the_alerts_outside_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    copy_slos(d);
    synthetic_week(d);
    // Day 0's spike is 14:00-15:00; one incident there, one quiet one on day 2.
    std::fs::write(
        d.join("incidents.yaml"),
        "- {service: usage-ingest, slo: ingest-availability, start: '2026-10-25T14:00:00Z', end: '2026-10-25T15:00:00Z'}\n\
         - {service: usage-ingest, slo: ingest-availability, start: '2026-10-27T03:00:00Z', end: '2026-10-27T04:00:00Z'}\n",
    )
    .unwrap();
    let r = run(
        d,
        &[
            "backtest",
            "--history",
            "history.json",
            "--incidents",
            "incidents.yaml",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    let det = &doc["incidents"]["detections"];
    let page = det[0]["detection_seconds"]["page"].as_f64().unwrap();
    // 30x crosses 14.4x over the hour after 28.8 minutes.
    assert!((28.0 * 60.0..32.0 * 60.0).contains(&page), "{page}");
    assert!(det[1]["detection_seconds"]["page"].is_null(), "missed");
    let page_score = &doc["incidents"]["tiers"][0];
    assert_eq!(page_score["detected"], 1);
    assert_eq!(page_score["incidents"], 2);
    assert!(!doc["incidents"]["outside"].as_array().unwrap().is_empty());
}

#[test]
// Long: a table of refusals, one command and its message each.
fn what_it_cannot_honour_is_refused_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    copy_slos(d);
    synthetic_week(d);
    // A history fetched for other queries.
    let path = d.join("slos/usage-api.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("rate(", "irate(", 1)).unwrap();
    let r = run(d, &["backtest", "--history", "history.json"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stderr.contains("fetched for other queries"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.is_empty(), "no partial report");
    // A Prometheus that is not there: the query and the reason.
    let r = run(
        d,
        &[
            "backtest",
            "slos/payments.yaml",
            "--prometheus",
            "http://127.0.0.1:1",
            "--from",
            "-1h",
        ],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("cannot reach Prometheus at http://127.0.0.1:1 for `"),
        "{}",
        r.stderr
    );
    for (args, needle) in [
        (
            &["backtest", "--history", "missing.json"][..],
            "missing.json",
        ),
        (
            &["backtest", "--prometheus", "https://prom.example.com"],
            "not an http:// URL",
        ),
        (
            &[
                "backtest",
                "--prometheus",
                "http://127.0.0.1:1",
                "--from",
                "yesterday",
            ],
            "--from: `yesterday` is not a time",
        ),
        (
            &[
                "backtest",
                "--prometheus",
                "http://127.0.0.1:1",
                "--from",
                "now",
                "--to",
                "-1d",
            ],
            "is not before --to",
        ),
        (
            &[
                "backtest",
                "--history",
                "history.json",
                "--baseline",
                "git:nope",
            ],
            "--baseline git:nope",
        ),
        (&["backtest", "--history", "slos/payments.yaml"], "not JSON"),
        (
            &[
                "backtest",
                "--history",
                "history.json",
                "--evaluation-interval",
                "1ms",
            ],
            "not between 1s and 1d",
        ),
    ] {
        let r = run(d, args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(needle), "{args:?}: {}", r.stderr);
    }
    // --fail-on-new-pages means nothing without a baseline.
    let r = run(
        d,
        &[
            "backtest",
            "--history",
            "history.json",
            "--fail-on-new-pages",
        ],
    );
    assert_eq!(r.code, 2);
}
