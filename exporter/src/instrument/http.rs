//! Request metrics for an HTTP service with a closed route table: a counter by API, route
//! template, method and status code, and a latency histogram by route, each observation
//! carrying the trace id as exemplar. Unknown routes fold into `other`, so a scanner
//! cannot grow the series count.

use super::buckets;
use super::trace::TraceLabel;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::exemplar::{CounterWithExemplar, HistogramWithExemplars};
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::{Registry, Unit};
use std::sync::OnceLock;

/// A route a service serves: the API it belongs to (what SLOs select on), its method and
/// its path template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RouteInfo {
    pub api: &'static str,
    pub method: &'static str,
    pub template: &'static str,
}

/// Where requests to unknown routes (or methods) are counted.
pub const OTHER: RouteInfo = RouteInfo {
    api: "other",
    method: "other",
    template: "other",
};

/// A route resolved against the table: its position (the table's length for `other`),
/// which indexes the per-route histogram cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    pub id: usize,
    pub info: RouteInfo,
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

impl From<RouteInfo> for RouteLabels {
    fn from(r: RouteInfo) -> Self {
        RouteLabels {
            api: r.api,
            route: r.template,
            method: r.method,
        }
    }
}

pub type Histogram = HistogramWithExemplars<TraceLabel>;
type HistogramCtor = fn() -> Histogram;

fn request_histogram() -> Histogram {
    static BUCKETS: OnceLock<Vec<f64>> = OnceLock::new();
    HistogramWithExemplars::new(
        BUCKETS
            .get_or_init(buckets::request_buckets)
            .iter()
            .copied(),
    )
}

/// The request families of one service and its route table.
pub struct HttpMetrics {
    routes: &'static [RouteInfo],
    pub requests: Family<RequestLabels, CounterWithExemplar<TraceLabel>>,
    pub duration: Family<RouteLabels, Histogram, HistogramCtor>,
    /// The latency histogram of each route (by `Route::id`), so recording a request does
    /// one family lookup (the counter's, whose label set includes the status) instead of two.
    route_histograms: Vec<Histogram>,
    /// Request counter exported over OTLP, set only when an endpoint is configured.
    otel_requests: Option<opentelemetry::metrics::Counter<u64>>,
}

impl HttpMetrics {
    /// Registers `http_requests` and `http_request_duration_seconds` in `registry`.
    pub fn register(registry: &mut Registry, routes: &'static [RouteInfo]) -> Self {
        let requests = Family::<RequestLabels, CounterWithExemplar<TraceLabel>>::default();
        // prometheus-client adds `_total` to counters itself.
        registry.register(
            "http_requests",
            "HTTP requests served, by API, route template, method and status code",
            requests.clone(),
        );
        let duration = Family::<RouteLabels, Histogram, HistogramCtor>::new_with_constructor(
            request_histogram,
        );
        registry.register_with_unit(
            "http_request_duration",
            "HTTP request latency; buckets include every latency threshold of slos/",
            Unit::Seconds,
            duration.clone(),
        );
        let route_histograms = routes
            .iter()
            .chain(std::iter::once(&OTHER))
            .map(|r| duration.get_or_create_owned(&RouteLabels::from(*r)))
            .collect();
        HttpMetrics {
            routes,
            requests,
            duration,
            route_histograms,
            otel_requests: None,
        }
    }

    /// Starts the series of `routes` at zero for each of `codes`, so `rate()` over an
    /// error series is 0 rather than absent before the first error.
    pub fn initialise<'r>(&self, routes: impl IntoIterator<Item = &'r RouteInfo>, codes: &[u16]) {
        for r in routes {
            for &code in codes {
                let _ = self.requests.get_or_create(&RequestLabels {
                    api: r.api,
                    route: r.template,
                    method: r.method,
                    code,
                });
            }
            let _ = self.duration.get_or_create(&RouteLabels::from(*r));
        }
    }

    /// Also counts requests with an OpenTelemetry counter (exported over OTLP).
    pub fn with_otel(mut self, counter: opentelemetry::metrics::Counter<u64>) -> Self {
        self.otel_requests = Some(counter);
        self
    }

    /// The route for a matched path template and method; unknown ones fold into `other`.
    pub fn route(&self, template: Option<&str>, method: &str) -> Route {
        template
            .and_then(|t| {
                self.routes
                    .iter()
                    .position(|r| r.template == t && r.method == method)
            })
            .map(|id| Route {
                id,
                info: self.routes[id],
            })
            .unwrap_or(Route {
                id: self.routes.len(),
                info: OTHER,
            })
    }

    /// Records one served request: a counter and a histogram observation, each carrying
    /// the trace id as exemplar. A few atomic operations and two uncontended locks; no
    /// allocation once the label set has been seen.
    pub fn observe(&self, route: Route, code: u16, seconds: f64, trace: Option<TraceLabel>) {
        let r = route.info;
        let labels = RequestLabels {
            api: r.api,
            route: r.template,
            method: r.method,
            code,
        };
        self.requests
            .get_or_create(&labels)
            .inc_by(1, trace.clone(), None);
        match self.route_histograms.get(route.id) {
            Some(h) => h.observe(seconds, trace, None),
            None => self
                .duration
                .get_or_create(&RouteLabels::from(r))
                .observe(seconds, trace, None),
        }
        if let Some(c) = &self.otel_requests {
            use opentelemetry::KeyValue;
            c.add(
                1,
                &[
                    KeyValue::new("api", r.api),
                    KeyValue::new("http.route", r.template),
                    KeyValue::new("http.response.status_code", code as i64),
                ],
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROUTES: &[RouteInfo] = &[RouteInfo {
        api: "ingest",
        method: "POST",
        template: "/v1/usage",
    }];

    #[test]
    fn unknown_routes_fold_into_other() {
        let m = HttpMetrics::register(&mut Registry::default(), ROUTES);
        assert_eq!(m.route(Some("/v1/usage"), "POST").info.api, "ingest");
        assert_eq!(m.route(Some("/v1/usage"), "POST").id, 0);
        for (template, method) in [
            (Some("/v1/usage"), "DELETE"),
            (Some("/wp-admin.php"), "GET"),
            (None, "GET"),
        ] {
            assert_eq!(m.route(template, method), Route { id: 1, info: OTHER });
        }
    }
}
