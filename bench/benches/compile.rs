//! Compilation at scale: generated spec sets of 100, 1,000 and 10,000 SLOs (20 per
//! service; ratio, latency, freshness and raw SLIs, every fourth ratio SLO grouped),
//! validated (`slo_spec::check`: parse, lower, every PromQL query parsed) and compiled into
//! rules and dashboards (`slo_gen::outputs::outputs`, everything `generate` writes, in
//! memory). Criterion's per-size times give the growth exponent.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use slo_gen::outputs::{outputs, Dirs};
use slo_gen::rules::emit::RulesFormat;
use std::hint::black_box;
use std::path::Path;

fn compile(c: &mut Criterion) {
    let mut g = c.benchmark_group("compile");
    g.sample_size(10);
    for n in [100, 1_000, 10_000] {
        let src = e2e::specs::generated(n);
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
