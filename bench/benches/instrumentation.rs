//! Ours (prometheus-client, via the catalogue) beside the `prometheus` crate doing the same
//! work in the same run: instrumenting one request (a counter and a histogram with labels)
//! and encoding an exposition of 10,000 series. Ratios go in the README.

use criterion::{criterion_group, criterion_main, Criterion};
use exporter::billing::catalogue::Metrics;
use exporter::instrument::trace::TraceLabel;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use std::hint::black_box;

fn instrument(c: &mut Criterion) {
    let ours = Metrics::new().initialise(&["stripe"]);
    let r = ours.http.route(Some("/v1/usage"), "POST");
    // Trace ids as a tracer makes them (random), so the histogram's exemplars come at
    // their real rate: 1 in `EXEMPLAR_RATIO`.
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let traces: Vec<TraceLabel> = (0..1024)
        .map(|_| {
            let mut id = [0u8; 16];
            for chunk in id.chunks_mut(8) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                chunk.copy_from_slice(&seed.to_be_bytes());
            }
            TraceLabel::from_bytes(id)
        })
        .collect();
    let mut next = traces.iter().cycle();

    let registry = prometheus::Registry::new();
    let requests = prometheus::IntCounterVec::new(
        prometheus::Opts::new("billing_http_requests_total", "requests"),
        &["api", "route", "method", "code"],
    )
    .unwrap();
    let buckets = exporter::instrument::buckets::request_buckets();
    let duration = prometheus::HistogramVec::new(
        prometheus::HistogramOpts::new("billing_http_request_duration_seconds", "latency")
            .buckets(buckets),
        &["api", "route", "method"],
    )
    .unwrap();
    registry.register(Box::new(requests.clone())).unwrap();
    registry.register(Box::new(duration.clone())).unwrap();

    let mut g = c.benchmark_group("instrument_one_request");
    g.bench_function("ours_with_exemplar", |b| {
        b.iter(|| {
            ours.http.observe(
                black_box(r),
                black_box(200),
                black_box(0.012),
                next.next().copied(),
            )
        })
    });
    g.bench_function("ours_without_exemplar", |b| {
        b.iter(|| {
            ours.http
                .observe(black_box(r), black_box(200), black_box(0.012), None)
        })
    });
    g.bench_function("prometheus_crate", |b| {
        b.iter(|| {
            requests
                .with_label_values(&[r.info.api, r.info.template, r.info.method, "200"])
                .inc();
            duration
                .with_label_values(&[r.info.api, r.info.template, r.info.method])
                .observe(black_box(0.012));
        })
    });
    g.finish();
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Labels {
    account: String,
    meter: &'static str,
}

fn encode(c: &mut Criterion) {
    const N: usize = 10_000;
    let meters = [
        "storage_byte_hours",
        "egress_bytes",
        "class_b_transactions",
        "class_c_transactions",
    ];
    let mut ours = prometheus_client::registry::Registry::default();
    let family = Family::<Labels, Counter>::default();
    ours.register(
        "billing_account_events",
        "events per account and meter",
        family.clone(),
    );
    let theirs = prometheus::Registry::new();
    let vec = prometheus::IntCounterVec::new(
        prometheus::Opts::new(
            "billing_account_events_total",
            "events per account and meter",
        ),
        &["account", "meter"],
    )
    .unwrap();
    theirs.register(Box::new(vec.clone())).unwrap();
    for i in 0..N {
        let account = format!("account-{}", i / meters.len());
        let meter = meters[i % meters.len()];
        family
            .get_or_create(&Labels {
                account: account.clone(),
                meter,
            })
            .inc_by(i as u64);
        vec.with_label_values(&[account.as_str(), meter])
            .inc_by(i as u64);
    }
    let mut g = c.benchmark_group("encode_10000_series");
    g.bench_function("ours_openmetrics_text", |b| {
        b.iter(|| {
            let mut out = String::with_capacity(1 << 20);
            prometheus_client::encoding::text::encode(&mut out, &ours).unwrap();
            black_box(out.len())
        })
    });
    g.bench_function("prometheus_crate_text", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(1 << 20);
            prometheus::Encoder::encode(
                &prometheus::TextEncoder::new(),
                &theirs.gather(),
                &mut out,
            )
            .unwrap();
            black_box(out.len())
        })
    });
    g.finish();
}

criterion_group!(benches, instrument, encode);
criterion_main!(benches);
