//! `slo-gen backtest` agrees with Prometheus itself. Raw counters for six scenarios (slow
//! burn, fast spike, flapping around the page threshold, a traffic gap, a counter reset,
//! a grouped SLO with one bad group) over four days are backfilled into a real Prometheus
//! (`promtool tsdb create-blocks-from openmetrics`); `backtest` fetches from it and
//! replays the last half day. The same raw series and the rules generated from the same specs
//! then go to `promtool test rules`, which asserts at every evaluation of that day the
//! firing alerts backtest reported, except within one evaluation interval of a change.
//!
//! promtool evaluates every rule group at its one `evaluation_interval`, so backtest runs
//! with `--evaluation-interval` at the same 1m; the groups' own intervals (the default)
//! are covered by slo-eval's tests.

use e2e::{run_slo_gen, tool, Backfilled};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

/// Raw series every minute for a day; the report covers the second half (the first is
/// the warm-up of the longest alert window, 12h).
const MINUTES: i64 = 1440;
const WARM: i64 = 720;
/// Requests per minute per scenario (per region for the grouped one).
const PER_MINUTE: f64 = 600.0;
const EVAL_S: i64 = 60;

/// The error share of a scenario at minute `m`; `None` where it has no samples.
fn error_share(scenario: &str, region: &str, m: i64) -> Option<f64> {
    let d = m - WARM;
    Some(match scenario {
        "slow" if d >= 60 => 0.005,
        "spike" if (120..140).contains(&d) => 0.1,
        "flap" if (180..420).contains(&d) && ((d - 180) / 10) % 2 == 0 => 0.03,
        "gap" if (450..510).contains(&d) => return None,
        "reset" if (540..560).contains(&d) => 0.1,
        "grouped" if region == "a" && (600..660).contains(&d) => 0.05,
        _ => 0.0,
    })
}

/// Every raw series: labels and the counter value per minute (`None`: no sample).
fn raw_series() -> Vec<(String, Vec<Option<f64>>)> {
    let mut out = Vec::new();
    let cases = [
        ("slow", ""),
        ("spike", ""),
        ("flap", ""),
        ("gap", ""),
        ("reset", ""),
        ("grouped", "a"),
        ("grouped", "b"),
    ];
    for (scenario, region) in cases {
        for code in ["200", "500"] {
            let mut total = 0.0;
            let mut values = Vec::new();
            for m in 0..MINUTES {
                if scenario == "reset" && m == WARM + 540 {
                    total = 0.0;
                }
                match error_share(scenario, region, m) {
                    None => values.push(None),
                    Some(share) => {
                        let errors = (PER_MINUTE * share).round();
                        total += if code == "500" {
                            errors
                        } else {
                            PER_MINUTE - errors
                        };
                        values.push(Some(total));
                    }
                }
            }
            let region = if region.is_empty() {
                String::new()
            } else {
                format!(",region=\"{region}\"")
            };
            out.push((
                format!("bt_requests_total{{code=\"{code}\",scenario=\"{scenario}\"{region}}}"),
                values,
            ));
        }
    }
    out
}

/// Firing intervals per SLO from backtest's JSON: `(slo, label set, start, end)`, times
/// in seconds since the report's start.
type Interval = (String, String, i64, Option<i64>);

fn intervals(report: &Value, t0: i64) -> Vec<Interval> {
    let secs = |v: &Value| {
        v.as_str()
            .map(|s| s.parse::<jiff::Timestamp>().unwrap().as_second() - t0)
    };
    let mut out = Vec::new();
    for s in report["slos"].as_array().unwrap() {
        for a in s["alerts"].as_array().unwrap() {
            let mut labels = BTreeMap::new();
            labels.insert("alertname", a["alert"].as_str().unwrap().to_string());
            labels.insert("slo_tier", a["tier"].as_str().unwrap().to_string());
            for (k, v) in s["group"].as_object().unwrap() {
                if k == "region" {
                    labels.insert("region", v.as_str().unwrap().to_string());
                }
            }
            let text: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
            out.push((
                s["slo"].as_str().unwrap().to_string(),
                format!("{{{}}}", text.join(", ")),
                secs(&a["start"]).unwrap(),
                secs(&a["end"]),
            ));
        }
    }
    out
}

#[test]
// Long: one scenario read top to bottom; its steps share one stack and one clock.
fn backtest_agrees_with_prometheus_evaluating_the_same_rules() {
    let promtool = tool(&["promtool"], "prometheus").unwrap_or_else(|e| panic!("{e}"));
    let specs = Path::new(env!("CARGO_MANIFEST_DIR")).join("backtest");
    let dir = tempfile::tempdir().unwrap();
    let dir = if std::env::var_os("KEEP_BACKTEST").is_some() {
        tempfile::TempDir::with_prefix_in("bt-keep-", "/tmp")
            .map(|d| {
                let p = d.keep();
                tempfile::TempDir::new_in(p).unwrap()
            })
            .unwrap_or(dir)
    } else {
        dir
    };
    let d = dir.path();
    // A day ending at least a day ago, on a day boundary (a multiple of every step).
    let now = jiff::Timestamp::now().as_second();
    let t0 = (now / 86_400 - 3) * 86_400;

    // Backfill.
    let series = raw_series();
    let mut om = String::from("# TYPE bt_requests counter\n");
    for (labels, values) in &series {
        for (m, v) in values.iter().enumerate() {
            if let Some(v) = v {
                let _ = writeln!(om, "{labels} {v} {}", t0 + m as i64 * 60);
            }
        }
    }
    om.push_str("# EOF\n");
    let prom = Backfilled::from_openmetrics(d, &om).unwrap_or_else(|e| panic!("{e}"));

    // Backtest against it, saving the history.
    let from = jiff::Timestamp::from_second(t0 + WARM * 60)
        .unwrap()
        .to_string();
    let to = jiff::Timestamp::from_second(t0 + MINUTES * 60 - 60)
        .unwrap()
        .to_string();
    let history = d.join("history.json");
    let spec_arg = specs.display().to_string();
    let history_arg = history.display().to_string();
    // `slo-gen backtest` fetching from the backfilled Prometheus at `interval`, saving the
    // history it fetched to `save`.
    let fetched = |interval: &str, save: &str| {
        run_slo_gen(&[
            "backtest",
            &spec_arg,
            "--prometheus",
            &prom.url,
            "--from",
            &from,
            "--to",
            &to,
            "--evaluation-interval",
            interval,
            "--format",
            "json",
            "--save-history",
            save,
        ])
    };
    let (code, report, err) = fetched("1m", &history_arg);
    assert_eq!(code, 0, "{err}");
    // Offline from the saved history: the same report.
    let (code, offline, err) = run_slo_gen(&[
        "backtest",
        &spec_arg,
        "--history",
        &history_arg,
        "--evaluation-interval",
        "1m",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        offline, report,
        "a saved history replays to the same report"
    );
    // Fetching at 5s needs more points than Prometheus gives per query: chunks, reported
    // on stderr, joined without a gap or a duplicate at their seams.
    let fine = d.join("history-5s.json");
    let (code, _, err) = fetched("5s", &fine.display().to_string());
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("bt/slow events: 11000/"), "{err}");
    let h: Value = serde_json::from_str(&std::fs::read_to_string(&fine).unwrap()).unwrap();
    let slow = h["slos"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["slo"] == "slow")
        .unwrap();
    let values = slow["series"]["events"][0]["values"].as_array().unwrap();
    // From `from` less the 12h warm-up to `to`, every 5s.
    let expected = ((MINUTES - 1) * 60 - (WARM * 60 - 12 * 3600)) / 5 + 1;
    assert_eq!(values.len() as i64, expected);
    assert!(values.iter().all(|v| v.is_number()), "no gap at a seam");

    let report: Value = serde_json::from_str(&report).unwrap();
    let got = intervals(&report, t0);

    // Each scenario shows what it is for (so agreement is not agreement on silence).
    let has = |slo: &str, needle: &str| got.iter().any(|i| i.0 == slo && i.1.contains(needle));
    let count = |slo: &str, needle: &str| {
        got.iter()
            .filter(|i| i.0 == slo && i.1.contains(needle))
            .count()
    };
    let (page, ticket) = ("slo_tier=\"page\"", "slo_tier=\"ticket\"");
    assert!(has("slow", ticket) && !has("slow", page), "{got:?}");
    assert!(has("spike", page) && !has("spike", ticket), "{got:?}");
    assert!(
        count("flap", page) >= 2,
        "flapping fires more than once: {got:?}"
    );
    assert!(
        has("gap", "slo_tier=\"absent\"") && !has("gap", page),
        "{got:?}"
    );
    assert!(has("reset", page), "{got:?}");
    assert!(
        has("grouped", "region=\"a\"") && !has("grouped", "region=\"b\""),
        "{got:?}"
    );

    // promtool: the rules from the same specs, the same raw series from time 0 = t0.
    let rules = d.join("rules");
    let (code, _, err) = run_slo_gen(&[
        "generate",
        &spec_arg,
        "--rules-dir",
        &rules.display().to_string(),
        "--dashboards-dir",
        &d.join("dashboards").display().to_string(),
        "--alertmanager-dir",
        &d.join("am").display().to_string(),
    ]);
    assert_eq!(code, 0, "{err}");
    let mut test = format!(
        "rule_files:\n  - {}/bt.yaml\nevaluation_interval: {EVAL_S}s\ntests:\n  - interval: 1m\n    input_series:\n",
        rules.display()
    );
    for (labels, values) in &series {
        let vals: Vec<String> = values
            .iter()
            .map(|v| v.map(|v| v.to_string()).unwrap_or_else(|| "_".into()))
            .collect();
        let _ = writeln!(
            test,
            "      - series: '{labels}'\n        values: '{}'",
            vals.join(" ")
        );
    }
    test.push_str("    promql_expr_test:\n");
    let slos = ["slow", "spike", "flap", "gap", "reset", "grouped"];
    let (first, last) = (WARM * 60, MINUTES * 60 - 60);
    let mut lines = Vec::new();
    for slo in slos {
        let mine: Vec<&Interval> = got.iter().filter(|i| i.0 == slo).collect();
        let changes: Vec<i64> = mine
            .iter()
            .flat_map(|i| std::iter::once(i.2).chain(i.3))
            .collect();
        let (mut asserted, mut skipped) = (0, 0);
        let mut t = first;
        while t <= last {
            if changes.iter().any(|c| (t - c).abs() <= EVAL_S) {
                skipped += 1;
                t += EVAL_S;
                continue;
            }
            asserted += 1;
            let firing: BTreeSet<&String> = mine
                .iter()
                .filter(|i| i.2 <= t && i.3.is_none_or(|e| t < e))
                .map(|i| &i.1)
                .collect();
            let _ = writeln!(
                test,
                "      - expr: count by (alertname, slo_tier, region) (ALERTS{{alertstate=\"firing\",service=\"bt\",slo=\"{slo}\"}})\n        eval_time: {t}s"
            );
            if firing.is_empty() {
                test.push_str("        exp_samples: []\n");
            } else {
                test.push_str("        exp_samples:\n");
                for labels in firing {
                    let _ = writeln!(test, "          - labels: '{labels}'\n            value: 1");
                }
            }
            t += EVAL_S;
        }
        let kinds: BTreeMap<&str, usize> = mine.iter().fold(BTreeMap::new(), |mut m, i| {
            let tier = ["page", "ticket", "absent"]
                .into_iter()
                .find(|k| i.1.contains(&format!("slo_tier=\"{k}\"")))
                .unwrap_or("?");
            *m.entry(tier).or_default() += 1;
            m
        });
        lines.push(format!(
            "e2e: backtest agreement {slo}: firings {kinds:?}; promtool agrees at {asserted} of {} evaluations ({skipped} within {EVAL_S}s of a change)",
            asserted + skipped
        ));
    }
    std::fs::write(d.join("agreement_test.yaml"), &test).unwrap();
    let o = Command::new(&promtool)
        .args(["test", "rules"])
        .arg(d.join("agreement_test.yaml"))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.success(),
        "promtool disagrees with backtest:\n{}",
        out.chars().take(6000).collect::<String>()
    );
    for l in lines {
        println!("{l}");
    }
}
