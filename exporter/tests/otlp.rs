//! OTLP export against a receiver of our own on 127.0.0.1: with
//! OTEL_EXPORTER_OTLP_ENDPOINT set, spans of served requests arrive with the service name;
//! without it nothing is exported and requests do not wait.

use crate::common::*;
use axum::body::Bytes;
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Default)]
struct Received {
    requests: usize,
    spans: Vec<(String, String)>,
}

/// Starts an OTLP/HTTP receiver; returns its base URL and what it received.
fn receiver() -> (String, Arc<Mutex<Received>>, std::thread::JoinHandle<()>) {
    let received = Arc::new(Mutex::new(Received::default()));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let r = received.clone();
    let handle = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let traces = {
                let r = r.clone();
                move |body: Bytes| {
                    let r = r.clone();
                    async move {
                        let req = ExportTraceServiceRequest::decode(body).expect("OTLP protobuf");
                        let mut got = r.lock().unwrap();
                        got.requests += 1;
                        for rs in req.resource_spans {
                            let service = rs
                                .resource
                                .iter()
                                .flat_map(|res| &res.attributes)
                                .find(|kv| kv.key == "service.name")
                                .and_then(|kv| kv.value.as_ref())
                                .map(|v| format!("{:?}", v.value))
                                .unwrap_or_default();
                            for ss in rs.scope_spans {
                                for span in ss.spans {
                                    got.spans.push((service.clone(), span.name));
                                }
                            }
                        }
                        ""
                    }
                }
            };
            let metrics = {
                let r = r.clone();
                move |_: Bytes| {
                    let r = r.clone();
                    async move {
                        r.lock().unwrap().requests += 1;
                        ""
                    }
                }
            };
            let app = axum::Router::new()
                .route("/v1/traces", post(traces))
                .route("/v1/metrics", post(metrics));
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let _ = tokio::time::timeout(Duration::from_secs(60), axum::serve(listener, app)).await;
        });
    });
    (url, received, handle)
}

#[test]
fn spans_of_served_requests_reach_the_otlp_endpoint() {
    let (url, received, _h) = receiver();
    let dir = tempfile::tempdir().unwrap();
    let e = Exporter::start_with_env(
        dir.path(),
        &[],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &url),
            ("OTEL_BSP_SCHEDULE_DELAY", "200"),
        ],
    );
    for _ in 0..5 {
        assert_eq!(usage(&e), 200);
    }
    wait_until("spans at the receiver", || {
        received
            .lock()
            .unwrap()
            .spans
            .iter()
            .any(|(_, name)| name == "GET /v1/accounts/{account}/usage")
    });
    let got = received.lock().unwrap();
    let (service, _) = got
        .spans
        .iter()
        .find(|(_, n)| n == "GET /v1/accounts/{account}/usage")
        .unwrap();
    assert!(service.contains("billing-exporter"), "{service}");
}

#[test]
fn without_an_endpoint_nothing_is_exported_and_nothing_blocks() {
    let (_url, received, _h) = receiver();
    let dir = tempfile::tempdir().unwrap();
    let e = Exporter::start(dir.path(), &[]);
    let start = Instant::now();
    for _ in 0..20 {
        assert_eq!(usage(&e), 200);
    }
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "requests waited: {:?}",
        start.elapsed()
    );
    assert!(e.terminate().success());
    // Nothing arrives in the half second after shutdown either: the time is what is checked.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(received.lock().unwrap().requests, 0);
}

/// `GET /v1/accounts/acme/usage` as acme: the status.
fn usage(e: &Exporter) -> u16 {
    get(
        &format!("{}/v1/accounts/acme/usage", e.base),
        Some("acme-token"),
    )
    .0
}
