//! Compilation at scale: generated spec sets of 100, 1,000 and 10,000 SLOs (20 per
//! service; ratio, latency, freshness and raw SLIs, every fourth ratio SLO grouped),
//! validated (`slo_spec::check`: parse, lower, every PromQL query parsed) and compiled into
//! rules and dashboards (`slo_gen::outputs::outputs`, everything `generate` writes, in
//! memory). Criterion's per-size times give the growth exponent.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use slo_gen::outputs::{outputs, Dirs};
use slo_gen::rules::emit::RulesFormat;
use std::fmt::Write as _;
use std::hint::black_box;
use std::path::Path;

fn slo(o: usize, s: usize) -> String {
    let head =
        format!("  - name: slo-{o:02}\n    description: Generated SLO {o} of service {s}.\n");
    let sli = match o % 4 {
        0 if o.is_multiple_of(8) => format!("    objective: 99.9\n    group_by: [region]\n    sli:\n      ratio:\n        errors: sum by (region) (rate(http_requests_total{{svc=\"{s}\",ep=\"{o}\",code=~\"5..\"}}[{{{{window}}}}]))\n        total: sum by (region) (rate(http_requests_total{{svc=\"{s}\",ep=\"{o}\"}}[{{{{window}}}}]))\n"),
        0 => format!("    objective: 99.9\n    sli:\n      ratio:\n        errors: sum(rate(http_requests_total{{svc=\"{s}\",ep=\"{o}\",code=~\"5..\"}}[{{{{window}}}}]))\n        total: sum(rate(http_requests_total{{svc=\"{s}\",ep=\"{o}\"}}[{{{{window}}}}]))\n"),
        1 => format!("    objective: 99\n    sli:\n      latency:\n        histogram: http_request_duration_seconds\n        selector: '{{svc=\"{s}\",ep=\"{o}\"}}'\n        threshold: 500ms\n"),
        2 => format!("    objective: 99\n    sli:\n      freshness:\n        metric: job_last_success_timestamp_seconds\n        selector: '{{svc=\"{s}\",job=\"{o}\"}}'\n        max_age: 10m\n"),
        _ => format!("    objective: 99.5\n    sli:\n      raw:\n        error_ratio: sum(rate(errors_total{{svc=\"{s}\",ep=\"{o}\"}}[{{{{window}}}}])) / sum(rate(requests_total{{svc=\"{s}\",ep=\"{o}\"}}[{{{{window}}}}]))\n"),
    };
    format!("{head}{sli}    alerting:\n      annotations: {{runbook_url: https://runbooks.example.com/{s}/{o}}}\n")
}

fn sources(n: usize) -> Vec<slo_spec::Source> {
    (0..n.div_ceil(20))
        .map(|s| {
            let mut text = format!(
                "version: v1\nservice: svc-{s:04}\nowner: team-{}\nslos:\n",
                s % 13
            );
            for o in 0..20.min(n - s * 20) {
                let _ = write!(text, "{}", slo(o, s));
            }
            slo_spec::Source {
                path: format!("svc-{s:04}.yaml"),
                text,
            }
        })
        .collect()
}

fn compile(c: &mut Criterion) {
    let mut g = c.benchmark_group("compile");
    g.sample_size(10);
    for n in [100, 1_000, 10_000] {
        let src = sources(n);
        let checked = slo_spec::check(&src);
        assert!(!checked.has_errors(), "{:?}", checked.diagnostics.first());
        assert_eq!(
            checked.services.iter().map(|s| s.slos.len()).sum::<usize>(),
            n
        );
        let dirs = Dirs {
            rules: Path::new("rules"),
            dashboards: Path::new("dashboards"),
            alertmanager: Path::new("alertmanager"),
        };
        g.bench_with_input(BenchmarkId::new("validate", n), &src, |b, src| {
            b.iter(|| slo_spec::check(black_box(src)))
        });
        g.bench_with_input(
            BenchmarkId::new("generate", n),
            &checked.services,
            |b, services| {
                b.iter(|| {
                    outputs(
                        black_box(services),
                        dirs,
                        RulesFormat::Prometheus,
                        &Default::default(),
                    )
                })
            },
        );
        g.bench_with_input(
            BenchmarkId::new("validate_and_generate", n),
            &src,
            |b, src| {
                b.iter(|| {
                    let c = slo_spec::check(black_box(src));
                    outputs(
                        &c.services,
                        dirs,
                        RulesFormat::Prometheus,
                        &Default::default(),
                    )
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, compile);
criterion_main!(benches);
