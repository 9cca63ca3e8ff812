//! `slo-gen report --month 2026-10` against a real Prometheus holding known counts: the
//! counters of two accounts from 2026-09-30 to 2026-11-01 12:00 (the days around October
//! burn at 50%, so a range that leaks past the month shows), one page in `ALERTS`, and
//! an SLO with no series at all. Attainment must be within 0.01% of the exact value over
//! October's 31 days, the SLA credit owed to the burning account only, "no data" never
//! 100%, and every format written. Then the same month with account a's outage excluded
//! after the fact: exactly the raw counters less those inside the interval. The rules
//! replayed over the month count the same pages with and without the low-traffic test.

use e2e::{run_slo_gen, Backfilled};
use serde_json::Value;
use std::fmt::Write as _;
use std::path::Path;

const PER_MINUTE: u64 = 1000;
/// Counter samples every five minutes (the requests of the minutes between are summed).
const SCRAPE: i64 = 300;
/// Minutes of October with 500 errors per minute for account a.
const OUTAGE: std::ops::Range<i64> = (9 * 1440 + 600)..(9 * 1440 + 780);

fn ts(text: &str) -> i64 {
    text.parse::<jiff::Timestamp>().unwrap().as_second()
}

#[test]
// Long: one scenario read top to bottom; its steps share one stack and one clock.
fn a_month_report_is_exact_and_credits_only_the_account_that_missed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let specs = Path::new(env!("CARGO_MANIFEST_DIR")).join("report");
    let (start, oct, nov) = (
        ts("2026-09-30T00:00:00Z"),
        ts("2026-10-01T00:00:00Z"),
        ts("2026-11-01T00:00:00Z"),
    );
    let end = nov + 12 * 3600;

    // Counters per account and code, every minute; the value at minute m includes m's
    // requests, so October's are the increase from Oct 1 00:00 to Nov 1 00:00.
    let mut om = String::from("# TYPE rq counter\n");
    let (mut exact_bad, mut exact_all) = (0u64, 0u64);
    for account in ["a", "b"] {
        for code in ["200", "500"] {
            let mut total = 0u64;
            let mut t = start;
            while t <= end {
                let m = (t - oct) / 60;
                let errors = if t <= oct || t > nov {
                    PER_MINUTE / 2
                } else if account == "a" && OUTAGE.contains(&(m - 1)) {
                    500
                } else {
                    0
                };
                if t > start {
                    total += if code == "500" {
                        errors
                    } else {
                        PER_MINUTE - errors
                    };
                    if account == "a" && t > oct && t <= nov {
                        exact_all += if code == "500" { 0 } else { PER_MINUTE };
                        exact_bad += if code == "500" { errors } else { 0 };
                    }
                }
                if (t - start) % SCRAPE == 0 {
                    let _ = writeln!(
                        om,
                        "rq_total{{account=\"{account}\",code=\"{code}\"}} {total} {t}"
                    );
                }
                t += 60;
            }
        }
    }
    // One page of account a on October 10, 10:00-11:00, as Prometheus records it.
    let _ = writeln!(om, "# TYPE ALERTS gauge");
    let page = ts("2026-10-10T10:00:00Z");
    for i in 0..60 {
        let _ = writeln!(
            om,
            "ALERTS{{account=\"a\",alertname=\"UsageApiAvailability\",alertstate=\"firing\",service=\"usage-api\",severity=\"page\",slo=\"availability\",slo_tier=\"page\"}} 1 {}",
            page + i * 60
        );
    }
    om.push_str("# EOF\n");
    let prom = Backfilled::from_openmetrics(d, &om).unwrap_or_else(|e| panic!("{e}"));
    let spec = specs.display().to_string();
    // `slo-gen report` of October from `prometheus`, with `more` arguments.
    let report = |prometheus: &str, more: &[&str]| {
        let mut args = vec![
            "report",
            &spec,
            "--prometheus",
            prometheus,
            "--month",
            "2026-10",
        ];
        args.extend_from_slice(more);
        run_slo_gen(&args)
    };

    let (code, out, err) = report(&prom.url, &["--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["range"]["from"], "2026-10-01T00:00:00Z");
    assert_eq!(doc["range"]["to"], "2026-11-01T00:00:00Z");
    let slo = |name: &str, account: Option<&str>| -> Value {
        doc["slos"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["slo"] == name && account.is_none_or(|a| s["group"]["account"] == a))
            .unwrap_or_else(|| panic!("{name} {account:?} in {out}"))
            .clone()
    };
    let a = slo("availability", Some("a"));
    assert_eq!(exact_all, 31 * 1440 * PER_MINUTE);
    let events = a["events"].as_f64().unwrap();
    assert!(
        (events - exact_all as f64).abs() / (exact_all as f64) < 1e-4,
        "{events} vs {exact_all}"
    );
    let bad = a["bad"].as_f64().unwrap();
    assert!(
        (bad - exact_bad as f64).abs() / (exact_bad as f64) < 1e-4,
        "{bad} vs {exact_bad}"
    );
    let exact = 1.0 - exact_bad as f64 / exact_all as f64;
    let attainment = a["attainment"].as_f64().unwrap();
    assert!((attainment - exact).abs() < 1e-4, "{attainment} vs {exact}");
    println!("e2e: report: account a attainment {attainment:.6} (exact {exact:.6}), events {events:.0} (exact {exact_all})");
    assert_eq!(a["met"], false);
    assert_eq!(a["sla"]["credit_percent"], "10");
    assert_eq!(a["pages"], 1);
    assert_eq!(a["firing_seconds"]["page"], 3600.0);
    let b = slo("availability", Some("b"));
    assert_eq!(b["met"], true);
    assert_eq!(b["attainment"], 1.0);
    assert_eq!(b["sla"]["met"], true);
    assert_eq!(a["coverage"], 1.0, "a sample every scrape interval");
    assert_eq!(a["excluded_seconds"], serde_json::json!([]));
    let ghost = slo("ghost", None);
    assert!(
        ghost["attainment"].is_null() && ghost["met"].is_null(),
        "{ghost}"
    );
    // The rules replayed over October: both accounts page as the month opens (the windows
    // still hold September 30's 50% errors), a once more for its outage; at 1000 requests
    // a minute the low-traffic test changes nothing; without series the ghost raises none.
    let (ra, rb) = (&a["replayed"], &b["replayed"]);
    assert_eq!(
        ra["pages"].as_u64().unwrap(),
        rb["pages"].as_u64().unwrap() + 1,
        "{ra} {rb}"
    );
    for r in [ra, rb] {
        assert_eq!(r["without_low_traffic_test"]["pages"], r["pages"], "{r}");
        assert_eq!(
            r["without_low_traffic_test"]["tickets"], r["tickets"],
            "{r}"
        );
    }
    assert_eq!(ghost["replayed"]["pages"], 0, "{ghost}");
    println!(
        "e2e: report: October replayed: account a {} pages, {} without the low-traffic test",
        ra["pages"], ra["without_low_traffic_test"]["pages"]
    );
    // The invoicing list: account a only, exact decimals as text.
    let credits = doc["credits"].as_array().unwrap();
    assert_eq!(credits.len(), 1, "{credits:?}");
    assert_eq!(credits[0]["group"]["account"], "a");
    assert_eq!(credits[0]["credit_percent"], "10");
    assert_eq!(credits[0]["tier_below"], "99.9");

    // Markdown with charts beside it; HTML self-contained.
    let md = d.join("out/october.md");
    std::fs::create_dir_all(md.parent().unwrap()).unwrap();
    let (code, _, err) = report(&prom.url, &["--output", &md.display().to_string()]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&md).unwrap();
    assert!(
        text.contains("| usage-api/availability {account=a} | 99.9% | 99.798% | missed |"),
        "{text}"
    );
    assert!(
        text.contains("| usage-api/ghost | 99% | no data | no data |"),
        "{text}"
    );
    assert!(
        text.contains("usage-api: 3 SLOs, 1 met, 1 missed, 1 no data; 1 SLA credits owed"),
        "{text}"
    );
    assert!(
        text.contains(
            "| SLO | pages | tickets | pages without the test | tickets without the test |"
        ) && text.contains("| usage-api/availability {account=b} | 1 | 1 | 1 | 1 |"),
        "{text}"
    );
    let svg = std::fs::read_to_string(
        md.parent()
            .unwrap()
            .join("october-01-usage-api-availability.svg"),
    )
    .unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("polyline"), "{svg}");
    let (code, html, err) = report(&prom.url, &["--format", "html"]);
    assert_eq!(code, 0, "{err}");
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("pages without the test"), "{html}");
    assert_eq!(html.matches("<svg").count(), 3);
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http"),
        "no external assets"
    );
    std::fs::write(d.join("october.html"), &html).unwrap();
    if let Some(keep) = std::env::var_os("REPORT_KEEP") {
        std::fs::copy(d.join("october.html"), &keep).unwrap();
        std::fs::copy(&md, format!("{}.md", keep.to_string_lossy())).unwrap();
    }

    // The outage excluded after the month closed (as a one-off, with its reason): the
    // month is read as if the counters had not moved from 10:00 to 13:00 on October 10.
    let excluded_dir = d.join("excluded");
    std::fs::create_dir_all(&excluded_dir).unwrap();
    let text = std::fs::read_to_string(specs.join("slos.yaml")).unwrap();
    let marker = "    sla:\n";
    assert!(text.contains(marker));
    let text = text.replacen(
        marker,
        "    exclusions:\n      - reason: INC-2041, credited under the provider contract\n        from: 2026-10-10T10:00:00Z\n        to: 2026-10-10T13:00:00Z\n    sla:\n",
        1,
    );
    std::fs::write(excluded_dir.join("slos.yaml"), text).unwrap();
    let excluded_spec = excluded_dir.display().to_string();
    let (code, out, err) = run_slo_gen(&[
        "report",
        &excluded_spec,
        "--prometheus",
        &prom.url,
        "--month",
        "2026-10",
        "--format",
        "json",
        "--no-replay",
    ]);
    assert_eq!(code, 0, "{err}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    let a = doc["slos"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["slo"] == "availability" && s["group"]["account"] == "a")
        .unwrap()
        .clone();
    let inside = 180 * PER_MINUTE;
    assert_eq!(
        a["events"].as_f64().unwrap().round() as u64,
        exact_all - inside,
        "{a}"
    );
    assert_eq!(a["bad"].as_f64().unwrap().round() as u64, 0, "{a}");
    assert!(a["replayed"].is_null(), "--no-replay: {a}");
    assert_eq!(a["met"], true);
    assert_eq!(a["sla"]["met"], true);
    assert_eq!(
        a["excluded_seconds"],
        serde_json::json!([{"reason": "INC-2041, credited under the provider contract", "seconds": 10800.0}])
    );
    assert_eq!(doc["credits"].as_array().unwrap().len(), 0, "{out}");
    println!(
        "e2e: report: the outage excluded after the fact: account a {} events (the raw counters less the {inside} inside), 0 bad, met",
        a["events"]
    );

    // Statements per account, with the charges known: the counts agree with the raw
    // counters exactly, the credit is the invoice's, and a second run writes the same bytes.
    let charges = d.join("charges.json");
    std::fs::write(&charges, r#"{"a": 1234567, "b": 1000}"#).unwrap();
    let statements_dir = |name: &str| d.join(name);
    let write_statements = |dir: &Path| {
        run_slo_gen(&[
            "report",
            &spec,
            "--prometheus",
            &prom.url,
            "--month",
            "2026-10",
            "--statements",
            &dir.display().to_string(),
            "--charges",
            &charges.display().to_string(),
        ])
    };
    let (first, second) = (statements_dir("st1"), statements_dir("st2"));
    for dir in [&first, &second] {
        let (code, _, err) = write_statements(dir);
        assert_eq!(code, 0, "{err}");
        assert!(err.contains("statements: wrote 2 accounts"), "{err}");
    }
    let read = |dir: &Path, file: &str| std::fs::read(dir.join("2026-10").join(file)).unwrap();
    for file in ["a.json", "a.html", "b.json", "b.html", "statements.csv"] {
        assert_eq!(
            read(&first, file),
            read(&second, file),
            "{file} differs between runs"
        );
    }
    let st: Value = serde_json::from_slice(&read(&first, "a.json")).unwrap();
    let line = &st["slos"][0];
    assert_eq!(line["events"], exact_all, "{st}");
    assert_eq!(line["bad"], exact_bad, "{st}");
    assert_eq!(line["tier_below"], "99.9");
    assert_eq!(line["credit_percent"], "10");
    assert_eq!(
        line["credit_cents"], 123_457,
        "10% of 12345.67, rounded half up"
    );
    assert_eq!(st["credit_cents"], 123_457);
    assert_eq!(line["coverage_percent"], "100.000");
    assert_eq!(st["inputs_sha256"].as_str().unwrap().len(), 64);
    let b: Value = serde_json::from_slice(&read(&first, "b.json")).unwrap();
    assert_eq!(b["slos"][0]["sla_met"], true);
    assert_eq!(b["credit_cents"], 0);
    assert_ne!(b["inputs_sha256"], st["inputs_sha256"]);
    let csv = String::from_utf8(read(&first, "statements.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(csv.starts_with("account,period,service,slo,"), "{csv}");
    println!("e2e: report: statements for 2 accounts, byte-identical across runs; a owed 1234.57 of 12345.67");

    // A Prometheus that is not there: exit 2 naming the query; nothing written.
    let out_file = d.join("never.json");
    let out_path = out_file.display().to_string();
    let (code, out, err) = report(
        "http://127.0.0.1:1",
        &["--format", "json", "--output", &out_path],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("cannot reach Prometheus at http://127.0.0.1:1 for `"),
        "{err}"
    );
    assert!(out.is_empty() && !out_file.exists());
}
