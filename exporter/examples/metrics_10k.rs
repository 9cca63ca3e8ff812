//! Ours in `scripts/bench metrics`: 10,000 counter series (2,500 accounts x 4 meters, the
//! same as the Go peer in bench/peers/client_golang) in a prometheus-client registry,
//! encoded per scrape at /metrics exactly as the exporter does it (OpenMetrics text into a
//! fresh `String`), served by axum on the given loopback address.
//!
//! `cargo run --release -p exporter --example metrics_10k -- 127.0.0.1:PORT`

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use std::sync::Arc;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Labels {
    account: String,
    meter: &'static str,
}

#[tokio::main]
async fn main() {
    let addr = std::env::args()
        .nth(1)
        .expect("usage: metrics_10k 127.0.0.1:PORT");
    let meters = [
        "storage_byte_hours",
        "egress_bytes",
        "class_b_transactions",
        "class_c_transactions",
    ];
    let mut registry = Registry::default();
    let events = Family::<Labels, Counter>::default();
    registry.register(
        "billing_account_events",
        "events per account and meter",
        events.clone(),
    );
    for i in 0..10_000u64 {
        events
            .get_or_create(&Labels {
                account: format!("account-{}", i / 4),
                meter: meters[(i % 4) as usize],
            })
            .inc_by(i);
    }
    let registry = Arc::new(registry);
    let app = axum::Router::new().route(
        "/metrics",
        get(move || {
            let registry = registry.clone();
            async move {
                let mut body = String::new();
                prometheus_client::encoding::text::encode(&mut body, &registry)
                    .expect("writing to a String cannot fail");
                (
                    [(
                        header::CONTENT_TYPE,
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    )],
                    body,
                )
                    .into_response()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .unwrap_or_else(|e| panic!("{addr}: {e}"));
    axum::serve(listener, app).await.expect("serve");
}
