//! Every metric family the billing services emit, declared once. Names start with
//! `billing_` and are exactly the ones `slos/` queries (a test checks it with
//! `slo-gen check-metrics`). Label values are `&'static str` from closed sets, so
//! recording never allocates and cardinality is bounded.

use crate::buckets;
use crate::trace::TraceLabel;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::exemplar::{CounterWithExemplar, HistogramWithExemplars};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};
use std::sync::atomic::AtomicU64;
use std::sync::OnceLock;

/// A known route: the API it belongs to, its method and its template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    /// Position in [`ROUTES`] (`ROUTES.len()` for [`OTHER`]), for per-route caches.
    pub id: usize,
    pub api: &'static str,
    pub method: &'static str,
    pub template: &'static str,
}

/// The routes the billing services serve. Anything else is recorded as `other`, so a
/// scanner hitting random paths cannot blow up the series count.
pub const ROUTES: &[Route] = &[
    Route {
        id: 0,
        api: "usage-ingest",
        method: "POST",
        template: "/v1/usage",
    },
    Route {
        id: 1,
        api: "payments-webhooks",
        method: "POST",
        template: "/v1/webhooks/payments/{provider}",
    },
    Route {
        id: 2,
        api: "usage-api",
        method: "GET",
        template: "/v1/accounts/{account}/usage",
    },
    Route {
        id: 3,
        api: "ops",
        method: "GET",
        template: "/healthz",
    },
    Route {
        id: 4,
        api: "ops",
        method: "GET",
        template: "/readyz",
    },
    Route {
        id: 5,
        api: "ops",
        method: "GET",
        template: "/metrics",
    },
];

/// Systems the sync jobs push to.
pub const SYNC_TARGETS: &[&str] = &["tax", "erp", "crm", "warehouse"];

pub const OTHER: Route = Route {
    id: 6,
    api: "other",
    method: "other",
    template: "other",
};

/// The route for a matched path template and method; unknown ones fold into `other`.
pub fn route(template: Option<&str>, method: &str) -> Route {
    template
        .and_then(|t| {
            ROUTES
                .iter()
                .find(|r| r.template == t && r.method == method)
        })
        .copied()
        .unwrap_or(OTHER)
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub api: &'static str,
    pub route: &'static str,
    pub method: &'static str,
    pub code: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub api: &'static str,
    pub route: &'static str,
    pub method: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PipelineLabels {
    pub pipeline: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PipelineOutcomeLabels {
    pub pipeline: &'static str,
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TargetLabels {
    pub target: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TargetOutcomeLabels {
    pub target: &'static str,
    pub outcome: &'static str,
}

pub type Histogram = HistogramWithExemplars<TraceLabel>;
type HistogramCtor = fn() -> Histogram;
pub type FloatGauge = Gauge<f64, AtomicU64>;

fn request_histogram() -> Histogram {
    static BUCKETS: OnceLock<Vec<f64>> = OnceLock::new();
    HistogramWithExemplars::new(
        BUCKETS
            .get_or_init(buckets::request_buckets)
            .iter()
            .copied(),
    )
}

/// Every family, registered once.
pub struct Metrics {
    pub registry: Registry,
    pub http_requests: Family<RequestLabels, CounterWithExemplar<TraceLabel>>,
    pub http_duration: Family<RouteLabels, Histogram, HistogramCtor>,
    pub usage_events: Family<OutcomeLabels, Counter>,
    pub pipeline_events: Family<PipelineOutcomeLabels, Counter>,
    pub pipeline_last_success: Family<PipelineLabels, FloatGauge>,
    pub pipeline_lag: Family<PipelineLabels, FloatGauge>,
    pub rating_line_items: Family<OutcomeLabels, Counter>,
    pub invoices: Family<OutcomeLabels, Counter>,
    pub payment_attempts: Family<OutcomeLabels, Counter>,
    pub sync_operations: Family<TargetOutcomeLabels, Counter>,
    pub sync_last_success: Family<TargetLabels, FloatGauge>,
    pub usage_api_data_lag: FloatGauge,
    /// The latency histogram of each route (by `Route::id`), so recording a request does
    /// one family lookup (the counter's, whose label set includes the status) instead of two.
    route_histograms: Vec<Histogram>,
    /// Request counter exported over OTLP, set only when an endpoint is configured.
    pub otel_requests: Option<opentelemetry::metrics::Counter<u64>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("billing");
        let http_requests = Family::<RequestLabels, CounterWithExemplar<TraceLabel>>::default();
        // prometheus-client adds `_total` to counters itself.
        registry.register(
            "http_requests",
            "HTTP requests served, by API, route template, method and status code",
            http_requests.clone(),
        );
        let http_duration = Family::<RouteLabels, Histogram, HistogramCtor>::new_with_constructor(
            request_histogram,
        );
        registry.register_with_unit(
            "http_request_duration",
            "HTTP request latency; buckets include every latency threshold of slos/",
            Unit::Seconds,
            http_duration.clone(),
        );
        let usage_events = Family::default();
        registry.register(
            "usage_events",
            "Usage events received: accepted, duplicate (idempotent replay), rejected (invalid), store_error",
            Clone::clone(&usage_events),
        );
        let pipeline_events = Family::default();
        registry.register(
            "pipeline_events",
            "Events processed by background pipelines, by outcome (ok, error)",
            Clone::clone(&pipeline_events),
        );
        let pipeline_last_success = Family::default();
        registry.register_with_unit(
            "pipeline_last_success_timestamp",
            "Unix time of the last successful pipeline run",
            Unit::Seconds,
            Clone::clone(&pipeline_last_success),
        );
        let pipeline_lag = Family::default();
        registry.register_with_unit(
            "pipeline_lag",
            "Age of the oldest unprocessed input of a pipeline",
            Unit::Seconds,
            Clone::clone(&pipeline_lag),
        );
        let rating_line_items = Family::default();
        registry.register(
            "rating_line_items",
            "Line items rated, by outcome",
            Clone::clone(&rating_line_items),
        );
        let invoices = Family::default();
        registry.register(
            "invoices",
            "Invoices issued by invoice runs, by outcome",
            Clone::clone(&invoices),
        );
        let payment_attempts = Family::default();
        registry.register(
            "payment_attempts",
            "Payment attempts: succeeded, declined (the card's answer, not our error), error (ours)",
            Clone::clone(&payment_attempts),
        );
        let sync_operations = Family::default();
        registry.register(
            "sync_operations",
            "Sync operations to tax, ERP, CRM and warehouse targets, by outcome",
            Clone::clone(&sync_operations),
        );
        let sync_last_success = Family::default();
        registry.register_with_unit(
            "sync_last_success_timestamp",
            "Unix time of the last successful sync per target",
            Unit::Seconds,
            Clone::clone(&sync_last_success),
        );
        let usage_api_data_lag = FloatGauge::default();
        registry.register_with_unit(
            "usage_api_data_lag",
            "Age of the usage and cost figures the customer API serves",
            Unit::Seconds,
            usage_api_data_lag.clone(),
        );
        let route_histograms = ROUTES
            .iter()
            .chain(std::iter::once(&OTHER))
            .map(|r| {
                http_duration.get_or_create_owned(&RouteLabels {
                    api: r.api,
                    route: r.template,
                    method: r.method,
                })
            })
            .collect();
        Metrics {
            registry,
            http_requests,
            http_duration,
            usage_events,
            pipeline_events,
            pipeline_last_success,
            pipeline_lag,
            rating_line_items,
            invoices,
            payment_attempts,
            sync_operations,
            sync_last_success,
            route_histograms,
            usage_api_data_lag,
            otel_requests: None,
        }
    }

    /// Creates every series of the closed label sets at zero, so `rate()` over an error
    /// series is 0 rather than absent before the first error, and a contract check
    /// (`slo-gen check-metrics`) sees every series the specs read from the first scrape.
    pub fn initialise(self) -> Self {
        for r in ROUTES.iter().filter(|r| r.api != "ops") {
            for code in [200, 500] {
                let _ = self.http_requests.get_or_create(&RequestLabels {
                    api: r.api,
                    route: r.template,
                    method: r.method,
                    code,
                });
            }
            let _ = self.http_duration.get_or_create(&RouteLabels {
                api: r.api,
                route: r.template,
                method: r.method,
            });
        }
        for outcome in ["accepted", "duplicate", "rejected", "store_error"] {
            let _ = self.usage_events.get_or_create(&OutcomeLabels { outcome });
        }
        for outcome in ["ok", "error"] {
            let _ = self.pipeline_events.get_or_create(&PipelineOutcomeLabels {
                pipeline: "usage-aggregation",
                outcome,
            });
            let _ = self
                .rating_line_items
                .get_or_create(&OutcomeLabels { outcome });
            let _ = self.invoices.get_or_create(&OutcomeLabels { outcome });
            for target in SYNC_TARGETS {
                let _ = self
                    .sync_operations
                    .get_or_create(&TargetOutcomeLabels { target, outcome });
            }
        }
        for outcome in ["succeeded", "declined", "error"] {
            let _ = self
                .payment_attempts
                .get_or_create(&OutcomeLabels { outcome });
        }
        self
    }

    /// Also counts requests through the global OpenTelemetry meter (OTLP metrics).
    pub fn with_otel(mut self) -> Self {
        let meter = opentelemetry::global::meter("billing-exporter");
        self.otel_requests = Some(meter.u64_counter("billing.http.requests").build());
        self
    }

    /// OpenMetrics text, with exemplars.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }

    /// Records one served request: a counter and a histogram observation, each carrying
    /// the trace id as exemplar. A few atomic operations and two uncontended locks; no
    /// allocation once the label set has been seen.
    pub fn observe_request(
        &self,
        route: Route,
        code: u16,
        seconds: f64,
        trace: Option<TraceLabel>,
    ) {
        let labels = RequestLabels {
            api: route.api,
            route: route.template,
            method: route.method,
            code,
        };
        self.http_requests
            .get_or_create(&labels)
            .inc_by(1, trace.clone(), None);
        match self.route_histograms.get(route.id) {
            Some(h) => h.observe(seconds, trace, None),
            None => self
                .http_duration
                .get_or_create(&RouteLabels {
                    api: route.api,
                    route: route.template,
                    method: route.method,
                })
                .observe(seconds, trace, None),
        }
        if let Some(c) = &self.otel_requests {
            use opentelemetry::KeyValue;
            c.add(
                1,
                &[
                    KeyValue::new("api", route.api),
                    KeyValue::new("http.route", route.template),
                    KeyValue::new("http.response.status_code", code as i64),
                ],
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_routes_fold_into_other() {
        assert_eq!(route(Some("/v1/usage"), "POST").api, "usage-ingest");
        assert_eq!(route(Some("/v1/usage"), "DELETE"), OTHER);
        assert_eq!(route(Some("/wp-admin.php"), "GET"), OTHER);
        assert_eq!(route(None, "GET"), OTHER);
    }

    #[test]
    fn exposition_has_exemplars_units_and_buckets() {
        let m = Metrics::new();
        let trace = TraceLabel::from_bytes([0xab; 16]);
        m.observe_request(route(Some("/v1/usage"), "POST"), 202, 0.12, Some(trace));
        let text = m.encode();
        let line = text
            .lines()
            .find(|l| l.starts_with("billing_http_requests_total{"))
            .expect("counter line");
        assert_eq!(
            line,
            "billing_http_requests_total{api=\"usage-ingest\",route=\"/v1/usage\",method=\"POST\",code=\"202\"} 1 # {trace_id=\"abababababababababababababababab\"} 1.0"
        );
        assert!(
            text.contains("# UNIT billing_http_request_duration_seconds seconds"),
            "{text}"
        );
        assert!(
            text.contains("billing_http_request_duration_seconds_bucket{le=\"0.3\",api=\"usage-ingest\",route=\"/v1/usage\",method=\"POST\"} 1")
                || text.contains("billing_http_request_duration_seconds_bucket{api=\"usage-ingest\",route=\"/v1/usage\",method=\"POST\",le=\"0.3\"} 1"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"));
    }
}
