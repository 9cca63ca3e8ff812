//! A tower layer that records every request's outcome and latency for axum routers:
//! route template (never the raw path), method and status code, with the trace id as
//! exemplar. It opens the request's tracing span, so logs and exemplars share the id.

use super::http::{HttpMetrics, Route};
use super::trace::TraceLabel;
use axum::extract::MatchedPath;
use axum::http::{Request, Response};
use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;
use tower::{Layer, Service};
use tracing::instrument::Instrumented;
use tracing::Instrument;

#[derive(Clone)]
pub struct MetricsLayer {
    metrics: Arc<HttpMetrics>,
}

impl MetricsLayer {
    pub fn new(metrics: Arc<HttpMetrics>) -> Self {
        MetricsLayer { metrics }
    }
}

impl<S> Layer<S> for MetricsLayer {
    type Service = MetricsService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        MetricsService {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

#[derive(Clone)]
pub struct MetricsService<S> {
    inner: S,
    metrics: Arc<HttpMetrics>,
}

impl<S, B, RB> Service<Request<B>> for MetricsService<S>
where
    S: Service<Request<B>, Response = Response<RB>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = MetricsFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let route = self.metrics.route(
            req.extensions()
                .get::<MatchedPath>()
                .map(MatchedPath::as_str),
            req.method().as_str(),
        );
        let r = route.info;
        let span = tracing::info_span!(
            "request",
            otel.name = %format_args!("{} {}", r.method, r.template),
            http.request.method = r.method,
            http.route = r.template,
            api = r.api,
            trace_id = tracing::field::Empty,
        );
        let trace = span.in_scope(TraceLabel::current);
        if let Some(t) = &trace {
            // Logs inside the request carry the same id as the exemplar.
            span.record("trace_id", tracing::field::display(t.trace_id));
        }
        let inner = span.in_scope(|| self.inner.call(req));
        MetricsFuture {
            inner: inner.instrument(span),
            metrics: self.metrics.clone(),
            route,
            trace,
            start: Instant::now(),
        }
    }
}

pin_project! {
    pub struct MetricsFuture<F> {
        #[pin]
        inner: Instrumented<F>,
        metrics: Arc<HttpMetrics>,
        route: Route,
        trace: Option<TraceLabel>,
        start: Instant,
    }
}

impl<F, RB, E> Future for MetricsFuture<F>
where
    F: Future<Output = Result<Response<RB>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = std::task::ready!(this.inner.poll(cx));
        // Errors never reach here with axum (its services are infallible); count them as 500.
        let code = result.as_ref().map(|r| r.status().as_u16()).unwrap_or(500);
        this.metrics.observe(
            *this.route,
            code,
            this.start.elapsed().as_secs_f64(),
            this.trace.take(),
        );
        Poll::Ready(result)
    }
}
