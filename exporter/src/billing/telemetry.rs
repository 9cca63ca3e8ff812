//! Structured logs (tracing-subscriber, JSON or pretty) and OpenTelemetry: spans always get
//! trace ids (for logs and exemplars); they are exported over OTLP/HTTP only when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set, by a batch processor on its own thread, so
//! nothing on the request path waits for the network.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Json,
    Pretty,
}

/// Keeps the providers alive; shuts them down (flushing spans) on drop.
pub struct Telemetry {
    traces: SdkTracerProvider,
    meters: Option<opentelemetry_sdk::metrics::SdkMeterProvider>,
    pub exporting: bool,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        let _ = self.traces.shutdown();
        if let Some(m) = &self.meters {
            let _ = m.shutdown();
        }
    }
}

pub fn init(format: LogFormat, service: &str) -> Result<Telemetry, String> {
    let resource = Resource::builder()
        .with_service_name(service.to_string())
        .build();
    let endpoint = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT")
        .ok()
        .filter(|e| !e.is_empty());
    let mut builder = SdkTracerProvider::builder().with_resource(resource.clone());
    let mut meters = None;
    if endpoint.is_some() {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .build()
            .map_err(|e| format!("OTLP span exporter: {e}"))?;
        builder = builder.with_batch_exporter(exporter);
        let metric_exporter = opentelemetry_otlp::MetricExporter::builder()
            .with_http()
            .build()
            .map_err(|e| format!("OTLP metric exporter: {e}"))?;
        let provider = opentelemetry_sdk::metrics::SdkMeterProvider::builder()
            .with_resource(resource)
            .with_periodic_exporter(metric_exporter)
            .build();
        opentelemetry::global::set_meter_provider(provider.clone());
        meters = Some(provider);
    }
    let traces = builder.build();
    let tracer = traces.tracer("billing-exporter");
    let otel = tracing_opentelemetry::layer().with_tracer(tracer);
    // Request spans (target `exporter::instrument::layer`, which logs nothing itself) stay enabled
    // whatever RUST_LOG says, so every request has a trace id for its exemplar.
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info"))
        .add_directive(
            "exporter::instrument::layer=info"
                .parse()
                .expect("a valid directive"),
        );
    let registry = tracing_subscriber::registry().with(filter).with(otel);
    let result = match format {
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init(),
        LogFormat::Pretty => registry
            .with(tracing_subscriber::fmt::layer().pretty())
            .try_init(),
    };
    result.map_err(|e| e.to_string())?;
    Ok(Telemetry {
        traces,
        meters,
        exporting: endpoint.is_some(),
    })
}
