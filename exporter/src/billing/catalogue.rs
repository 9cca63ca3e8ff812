//! Every metric family the billing services emit, and every closed set of label values,
//! declared once. Names start with `billing_` and are exactly the ones `slos/` queries (a
//! test checks it with `slo-gen check-metrics`). Label values come from closed sets, so
//! recording never allocates and cardinality is bounded.

use crate::instrument::http::{HttpMetrics, RouteInfo};
use crate::instrument::labels::{closed_set, Outcome};
use crate::instrument::pipeline::{FloatGauge, Pipeline, PipelineMetrics};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::{Registry, Unit};
use std::sync::Arc;

closed_set! {
    /// The APIs SLOs select on (the `api` label).
    pub enum Api {
        UsageIngest => "usage-ingest",
        PaymentsWebhooks => "payments-webhooks",
        UsageApi => "usage-api",
        Ops => "ops",
    }
}

closed_set! {
    /// The routes the billing services serve; the router is built from this table.
    pub enum Route {
        UsageIngest => "/v1/usage",
        PaymentsWebhook => "/v1/webhooks/payments/{provider}",
        AccountUsage => "/v1/accounts/{account}/usage",
        Healthz => "/healthz",
        Readyz => "/readyz",
        Metrics => "/metrics",
    }
}

impl Route {
    pub const fn info(self) -> RouteInfo {
        let (api, method) = match self {
            Route::UsageIngest => (Api::UsageIngest, "POST"),
            Route::PaymentsWebhook => (Api::PaymentsWebhooks, "POST"),
            Route::AccountUsage => (Api::UsageApi, "GET"),
            Route::Healthz | Route::Readyz | Route::Metrics => (Api::Ops, "GET"),
        };
        RouteInfo {
            api: api.as_str(),
            method,
            template: self.as_str(),
        }
    }
}

/// The route table the request metrics resolve against, in [`Route::ALL`] order.
pub static ROUTES: [RouteInfo; 6] = [
    Route::UsageIngest.info(),
    Route::PaymentsWebhook.info(),
    Route::AccountUsage.info(),
    Route::Healthz.info(),
    Route::Readyz.info(),
    Route::Metrics.info(),
];

closed_set! {
    /// What became of a usage event at ingestion.
    pub enum UsageOutcome {
        Accepted => "accepted",
        /// An idempotent replay of an event already stored.
        Duplicate => "duplicate",
        /// Invalid: refused with a 4xx, never stored.
        Rejected => "rejected",
        StoreError => "store_error",
    }
}

closed_set! {
    /// A payment attempt's outcome: a decline is the card's answer, not our error.
    pub enum PaymentOutcome {
        Succeeded => "succeeded",
        Declined => "declined",
        Error => "error",
    }
}

closed_set! {
    /// Systems the sync jobs push to.
    pub enum SyncTarget {
        Tax => "tax",
        Erp => "erp",
        Crm => "crm",
        Warehouse => "warehouse",
    }
}

closed_set! {
    /// The background pipelines.
    pub enum PipelineName {
        UsageAggregation => "usage-aggregation",
        InvoiceRun => "invoice-run",
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct UsageLabels {
    pub outcome: UsageOutcome,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PaymentLabels {
    /// A configured payment provider: a closed set fixed at start.
    pub provider: &'static str,
    pub outcome: PaymentOutcome,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: Outcome,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TargetLabels {
    pub target: SyncTarget,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TargetOutcomeLabels {
    pub target: SyncTarget,
    pub outcome: Outcome,
}

/// Every family, registered once.
pub struct Metrics {
    pub registry: Registry,
    pub http: Arc<HttpMetrics>,
    pub pipelines: PipelineMetrics,
    pub usage_events: Family<UsageLabels, Counter>,
    pub rating_line_items: Family<OutcomeLabels, Counter>,
    pub invoices: Family<OutcomeLabels, Counter>,
    pub payment_attempts: Family<PaymentLabels, Counter>,
    pub sync_operations: Family<TargetOutcomeLabels, Counter>,
    pub sync_last_success: Family<TargetLabels, FloatGauge>,
    pub usage_api_data_lag: FloatGauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        Self::build(None)
    }

    /// Also counts requests through the global OpenTelemetry meter (OTLP metrics).
    pub fn with_otel() -> Self {
        let meter = opentelemetry::global::meter("billing-exporter");
        Self::build(Some(meter.u64_counter("billing.http.requests").build()))
    }

    fn build(otel: Option<opentelemetry::metrics::Counter<u64>>) -> Self {
        let mut registry = Registry::with_prefix("billing");
        let mut http = HttpMetrics::register(&mut registry, &ROUTES);
        if let Some(counter) = otel {
            http = http.with_otel(counter);
        }
        let usage_events = Family::default();
        registry.register(
            "usage_events",
            "Usage events received: accepted, duplicate (idempotent replay), rejected (invalid), store_error",
            Clone::clone(&usage_events),
        );
        let pipelines = PipelineMetrics::register(&mut registry);
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
        Metrics {
            registry,
            http: Arc::new(http),
            pipelines,
            usage_events,
            rating_line_items,
            invoices,
            payment_attempts,
            sync_operations,
            sync_last_success,
            usage_api_data_lag,
        }
    }

    /// Creates every series of the closed label sets at zero, so `rate()` over an error
    /// series is 0 rather than absent before the first error, and a contract check
    /// (`slo-gen check-metrics`) sees every series the specs read from the first scrape.
    pub fn initialise(self, providers: &[&'static str]) -> Self {
        let served = ROUTES.iter().filter(|r| r.api != Api::Ops.as_str());
        // 503 too: what an overload or a failing dependency answers (and the faults
        // inject); its first errors would otherwise be lost to `rate()`.
        self.http.initialise(served, &[200, 500, 503]);
        for &outcome in UsageOutcome::ALL {
            let _ = self.usage_events.get_or_create(&UsageLabels { outcome });
        }
        self.pipeline(PipelineName::UsageAggregation).initialise();
        for &outcome in Outcome::ALL {
            let _ = self
                .rating_line_items
                .get_or_create(&OutcomeLabels { outcome });
            let _ = self.invoices.get_or_create(&OutcomeLabels { outcome });
            for &target in SyncTarget::ALL {
                let _ = self
                    .sync_operations
                    .get_or_create(&TargetOutcomeLabels { target, outcome });
            }
        }
        for &provider in providers {
            for &outcome in PaymentOutcome::ALL {
                let _ = self
                    .payment_attempts
                    .get_or_create(&PaymentLabels { provider, outcome });
            }
        }
        self
    }

    pub fn pipeline(&self, name: PipelineName) -> Pipeline {
        self.pipelines.pipeline(name.as_str())
    }

    /// Counts `n` usage events with one outcome.
    pub fn usage(&self, outcome: UsageOutcome, n: u64) {
        if n > 0 {
            self.usage_events
                .get_or_create(&UsageLabels { outcome })
                .inc_by(n);
        }
    }

    pub fn payment(&self, provider: &'static str, outcome: PaymentOutcome) {
        self.payment_attempts
            .get_or_create(&PaymentLabels { provider, outcome })
            .inc();
    }

    /// One sync operation to `target`; a success also marks the target's last success.
    pub fn sync(&self, target: SyncTarget, ok: bool) {
        self.sync_operations
            .get_or_create(&TargetOutcomeLabels {
                target,
                outcome: Outcome::of(ok),
            })
            .inc();
        if ok {
            self.sync_last_success
                .get_or_create(&TargetLabels { target })
                .set(crate::instrument::pipeline::unix_now());
        }
    }

    /// OpenMetrics text, with exemplars.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instrument::trace::TraceLabel;

    #[test]
    fn the_route_table_follows_the_enum() {
        assert_eq!(ROUTES.len(), Route::ALL.len());
        for (info, route) in ROUTES.iter().zip(Route::ALL) {
            assert_eq!(*info, route.info());
        }
    }

    #[test]
    fn exposition_has_exemplars_units_and_buckets() {
        let m = Metrics::new();
        let trace = TraceLabel::from_bytes([0xab; 16]);
        let route = m.http.route(Some("/v1/usage"), "POST");
        m.http.observe(route, 202, 0.12, Some(trace));
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
