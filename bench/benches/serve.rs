//! `slo-gen serve`'s list page for 1,000 SLOs (50 services × 20, generated), over a real
//! Prometheus holding their recorded series and some firing alerts, beside the same four
//! Prometheus queries alone in the same run: the page's own cost is the difference.

use criterion::{criterion_group, criterion_main, Criterion};
use slo_gen::promapi::Client;
use slo_gen::serve::{data, pages, App};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::hint::black_box;

const SERVICES: usize = 50;
const PER_SERVICE: usize = 20;

fn specs() -> (Vec<slo_spec::Service>, BTreeMap<String, String>) {
    let mut sources = Vec::new();
    for s in 0..SERVICES {
        let mut text = format!(
            "version: v1\nservice: svc-{s:02}\nowner: team-{}\nslos:\n",
            s % 7
        );
        for o in 0..PER_SERVICE {
            let _ = write!(
                text,
                "  - name: slo-{o:02}\n    description: Requests of endpoint {o} succeed.\n    objective: 99.9\n    sli:\n      ratio:\n        errors: sum(rate(http_requests_total{{svc=\"{s}\",ep=\"{o}\",code=~\"5..\"}}[{{{{window}}}}]))\n        total: sum(rate(http_requests_total{{svc=\"{s}\",ep=\"{o}\"}}[{{{{window}}}}]))\n    alerting:\n      annotations: {{runbook_url: https://runbooks.example.com/{s}/{o}}}\n"
            );
        }
        sources.push(slo_spec::Source {
            path: format!("svc-{s:02}.yaml"),
            text,
        });
    }
    let checked = slo_spec::check(&sources);
    assert!(!checked.has_errors(), "{:?}", checked.diagnostics.first());
    let texts = sources.into_iter().map(|s| (s.path, s.text)).collect();
    (checked.services, texts)
}

fn serve(c: &mut Criterion) {
    let (services, texts) = specs();
    assert_eq!(services.iter().map(|s| s.slos.len()).sum::<usize>(), 1000);
    // Recorded series of every SLO, a minute old, and a page on every 50th.
    let dir = tempfile::tempdir().unwrap();
    let t = jiff::Timestamp::now().as_second() - 60;
    let mut om = String::new();
    for (name, f) in [
        ("slo:error_budget_remaining:ratio", 0.9_f64),
        ("slo:current_burn_rate:ratio", 0.5),
        ("slo:sli_error:ratio_rate30d", 0.0001),
    ] {
        let _ = writeln!(om, "# TYPE {} gauge", name.replace(':', "_"));
        for (i, svc) in services.iter().enumerate() {
            for (j, slo) in svc.slos.iter().enumerate() {
                let v = f * (1.0 + ((i * 31 + j * 7) % 10) as f64 / 10.0);
                let _ = writeln!(
                    om,
                    "{name}{{service=\"{}\",slo=\"{}\"}} {v} {t}",
                    svc.name, slo.name
                );
            }
        }
    }
    let _ = writeln!(om, "# TYPE ALERTS gauge");
    for (i, svc) in services.iter().enumerate() {
        for (j, slo) in svc.slos.iter().enumerate() {
            if (i * PER_SERVICE + j).is_multiple_of(50) {
                let _ = writeln!(om, "ALERTS{{alertname=\"X\",alertstate=\"firing\",service=\"{}\",slo=\"{}\",slo_tier=\"page\"}} 1 {t}", svc.name, slo.name);
            }
        }
    }
    om.push_str("# EOF\n");
    std::fs::write(dir.path().join("recorded.om"), om).unwrap();
    let tsdb = dir.path().join("tsdb");
    let o = std::process::Command::new("promtool")
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(dir.path().join("recorded.om"))
        .arg(&tsdb)
        .output()
        .expect("promtool (apt-get install -y prometheus)");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let prom = e2e::Backfilled::start(dir.path(), &tsdb).unwrap();
    let app = App {
        services,
        texts,
        client: Client::new(&prom.url).unwrap(),
        grafana_url: "http://localhost:3000".into(),
        prefix: String::new(),
        source: Default::default(),
    };
    let rows = data::overview(&app).unwrap();
    assert_eq!(rows.len(), 1000);
    assert_eq!(rows.iter().filter(|r| r.state == "page").count(), 20);
    let q = BTreeMap::new();
    let mut g = c.benchmark_group("serve_list_1000_slos");
    g.sample_size(20);
    g.bench_function("page_with_queries", |b| {
        b.iter(|| pages::list(&app, data::overview(black_box(&app)), &q))
    });
    g.bench_function("the_four_queries_alone", |b| {
        let now = slo_gen::backtest::history::now();
        b.iter(|| {
            for e in [
                "slo:error_budget_remaining:ratio",
                "slo:current_burn_rate:ratio",
                "{__name__=~\"slo:sli_error:ratio_rate.+|slo:sli_error:ratio_calendar\"}",
                "ALERTS{alertstate=\"firing\",slo_tier!=\"\"}",
            ] {
                black_box(app.client.query(e, now).unwrap());
            }
        })
    });
    g.bench_function("render_only", |b| {
        b.iter(|| pages::list(&app, Ok(black_box(rows.clone())), &q))
    });
    g.finish();
}

criterion_group!(benches, serve);
criterion_main!(benches);
