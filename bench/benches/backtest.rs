//! `backtest` replaying 30 days of every SLO in `slos/` from a saved (synthetic) history,
//! beside promtool evaluating the same rules over the same 30 days of the same base
//! series, timed once in the same run (it takes minutes; criterion would repeat it).
//!
//! promtool takes minutes per simulated day, so the peer runs over the warm-up of the
//! longest window plus `BENCH_BACKTEST_PEER_DAYS` (default 1) reported days, and backtest
//! is timed over the same history.
//!
//! Both sides start from base series: backtest fetches them from Prometheus, so promtool
//! gets them as input series and the rules that read raw series are left out, as the
//! generated `slo-gen test` suites do. promtool evaluates every group at one 30s interval.
//! `BENCH_BACKTEST_DAYS` (default 30) shortens both; `BENCH_BACKTEST_PROMTOOL=0` skips
//! the peer.

use criterion::{criterion_group, criterion_main, Criterion};
use slo_gen::backtest::history::History;
use slo_gen::backtest::{replay, synthetic, targets, Evaluation};
use slo_gen::names::series;
use slo_gen::rules::{self, emit, Rule};
use std::fmt::Write as _;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn days() -> i64 {
    std::env::var("BENCH_BACKTEST_DAYS")
        .ok()
        .and_then(|d| d.parse().ok())
        .unwrap_or(30)
}

fn specs() -> Vec<slo_spec::Service> {
    let slos = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../slos");
    let loaded = slo_gen::load(&[slos]).expect("slos/ loads");
    assert!(!loaded.checked.has_errors());
    loaded.checked.services
}

fn backtest(c: &mut Criterion) {
    let services = specs();
    let to = slo_eval::Timestamp(1_793_491_200_000); // 2026-11-01T00:00:00Z
    let history = synthetic::history(&services, to, days());
    let text = history.to_json();
    let t = targets(&services);
    let slos = t.len();
    let mut g = c.benchmark_group(format!("backtest_{}d_{slos}_slos", days()));
    g.sample_size(10);
    g.bench_function("replay", |b| {
        b.iter(|| replay(black_box(&t), black_box(&history), Evaluation::Groups).unwrap())
    });
    g.bench_function("load_history_and_replay", |b| {
        b.iter(|| {
            let h = History::from_json(black_box(&text)).unwrap();
            replay(&t, &h, Evaluation::Groups).unwrap()
        })
    });
    g.finish();

    if std::env::var("BENCH_BACKTEST_PROMTOOL").as_deref() == Ok("0") {
        return;
    }
    let peer_days = std::env::var("BENCH_BACKTEST_PEER_DAYS")
        .ok()
        .and_then(|d| d.parse().ok())
        .filter(|d| *d > 0)
        .unwrap_or(1);
    let history = synthetic::history(&services, to, peer_days);
    let text = history.to_json();
    let span = (history.to - history.entries[0].start) as f64 / 86_400_000.0;
    let start = Instant::now();
    let r = replay(&t, &history, Evaluation::Groups).unwrap();
    let ours = start.elapsed();
    let start = Instant::now();
    let h = History::from_json(&text).unwrap();
    let r2 = replay(&t, &h, Evaluation::Groups).unwrap();
    let ours_loaded = start.elapsed();
    assert_eq!(r, r2);
    match promtool(&services, peer_days) {
        Ok(theirs) => println!(
            "backtest over {span:.1}d x {slos} SLOs: replay {:.3}s (with loading the history {:.3}s); promtool test rules over the same {span:.1}d: {:.1}s; ratio {:.0}x ({:.0}x with loading)",
            ours.as_secs_f64(),
            ours_loaded.as_secs_f64(),
            theirs.as_secs_f64(),
            theirs.as_secs_f64() / ours.as_secs_f64(),
            theirs.as_secs_f64() / ours_loaded.as_secs_f64(),
        ),
        Err(e) => panic!("the promtool peer did not run: {e}"),
    }
}

/// Times `promtool test rules` evaluating every SLO's rules (without the raw-reading ones)
/// over `days` of base series at 30s.
fn promtool(services: &[slo_spec::Service], days: i64) -> Result<Duration, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let step = 30_000;
    let to = slo_eval::Timestamp(1_793_491_200_000);
    let history = synthetic::history(services, to, days);
    let mut groups = Vec::new();
    let mut inputs = String::new();
    for t in targets(services) {
        let plan = &t.plan;
        for mut g in rules::slo_groups(t.service, t.slo, &Default::default()) {
            g.rules.retain(|r| {
                !matches!(r, Rule::Record { record, .. }
                    if *record == series::error_events(plan.base)
                        || *record == series::events(plan.base)
                        || record == series::INPUTS)
            });
            groups.push(g);
        }
        let entry = history
            .find(&t.queries, slo_eval::millis(plan.interval))
            .expect("the synthetic history has every SLO");
        for (name, list) in [
            (series::events(plan.base), &entry.events),
            (series::error_events(plan.base), &entry.errors),
            (series::INPUTS.to_string(), &entry.inputs),
        ] {
            for s in list.iter() {
                let mut labels = vec![
                    format!("service=\"{}\"", t.service.name),
                    format!("slo=\"{}\"", t.slo.name),
                ];
                labels.extend(s.labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")));
                // Resampled at 30s from the history's own step.
                let first = s.samples.first().map(|p| p.0).unwrap_or(to);
                let mut values = String::new();
                let mut i = 0;
                let mut at = first;
                while at <= to {
                    while i + 1 < s.samples.len() && s.samples[i + 1].0 <= at {
                        i += 1;
                    }
                    let _ = write!(values, "{} ", s.samples[i].1);
                    at += step;
                }
                let _ = writeln!(
                    inputs,
                    "      - series: '{name}{{{}}}'\n        values: '{}'",
                    labels.join(","),
                    values.trim_end()
                );
            }
        }
    }
    let mut rules_text = String::new();
    emit::groups(&mut rules_text, 0, &groups);
    std::fs::write(dir.path().join("rules.yaml"), rules_text).map_err(|e| e.to_string())?;
    let total = (to - history.entries[0].start) / 1000;
    let test = format!(
        "rule_files:\n  - rules.yaml\nevaluation_interval: 30s\ntests:\n  - interval: 30s\n    input_series:\n{inputs}    promql_expr_test:\n      - expr: vector(1)\n        eval_time: {total}s\n        exp_samples:\n          - labels: '{{}}'\n            value: 1\n"
    );
    std::fs::write(dir.path().join("test.yaml"), test).map_err(|e| e.to_string())?;
    let start = Instant::now();
    let o = std::process::Command::new("promtool")
        .args(["test", "rules", "test.yaml"])
        .current_dir(dir.path())
        .output()
        .map_err(|e| format!("promtool: {e} (apt-get install -y prometheus)"))?;
    let took = start.elapsed();
    if !o.status.success() {
        return Err(format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ));
    }
    Ok(took)
}

criterion_group!(benches, backtest);
criterion_main!(benches);
