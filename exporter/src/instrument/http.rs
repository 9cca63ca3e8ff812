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
pub type Counter = CounterWithExemplar<TraceLabel>;

/// One in this many traces (by trace id) lends its id to the latency histogram.
pub const EXEMPLAR_RATIO: u64 = 16;

/// Status codes with a counter slot per route: 100..=599.
const CODES: usize = 500;

fn code_slot(code: u16) -> Option<usize> {
    (100..600).contains(&code).then(|| usize::from(code) - 100)
}
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
    pub requests: Family<RequestLabels, Counter>,
    pub duration: Family<RouteLabels, Histogram, HistogramCtor>,
    /// The latency histogram of each route (by `Route::id`), resolved at start-up.
    route_histograms: Vec<Histogram>,
    /// The request counter of each (route, status code), by `Route::id * CODES + code -
    /// 100`, resolved on first use: a request then does no family lookup (no hashing, no
    /// map lock), only the counter's own update. Codes outside 100..=599 take the family.
    route_counters: Vec<OnceLock<Counter>>,
    /// Request counter exported over OTLP, set only when an endpoint is configured.
    otel_requests: Option<opentelemetry::metrics::Counter<u64>>,
}

impl HttpMetrics {
    /// Registers `http_requests` and `http_request_duration_seconds` in `registry`.
    pub fn register(registry: &mut Registry, routes: &'static [RouteInfo]) -> Self {
        let requests = Family::<RequestLabels, Counter>::default();
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
            route_counters: (0..(routes.len() + 1) * CODES)
                .map(|_| OnceLock::new())
                .collect(),
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

    /// Records one served request: a counter carrying the trace id as exemplar, and a
    /// histogram observation carrying it for every 5xx and for the traces a 1-in-16
    /// trace-id-ratio sampler keeps ([`EXEMPLAR_RATIO`]). Prometheus keeps one exemplar
    /// per bucket per scrape, and the histogram's exemplar map costs a hash insert, so
    /// writing every request's would double the cost of recording it for nothing. No family
    /// lookup and no allocation once the (route, code) counter has been seen.
    pub fn observe(&self, route: Route, code: u16, seconds: f64, trace: Option<TraceLabel>) {
        let r = route.info;
        let labels = || RequestLabels {
            api: r.api,
            route: r.template,
            method: r.method,
            code,
        };
        match code_slot(code).and_then(|c| self.route_counters.get(route.id * CODES + c)) {
            Some(slot) => slot
                .get_or_init(|| self.requests.get_or_create_owned(&labels()))
                .inc_by(1, trace, None),
            None => self
                .requests
                .get_or_create(&labels())
                .inc_by(1, trace, None),
        };
        let trace = trace.filter(|t| code >= 500 || t.trace_id.in_ratio_sample(EXEMPLAR_RATIO));
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

    /// The histogram's exemplars: the traces of the exemplar's line per bucket.
    fn histogram_exemplars(registry: &Registry) -> Vec<String> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, registry).unwrap();
        text.lines()
            .filter(|l| l.contains("_bucket{") && l.contains(" # "))
            .map(|l| l.split("trace_id=\"").nth(1).unwrap()[..32].to_string())
            .collect()
    }

    #[test]
    fn histogram_exemplars_are_5xx_and_ratio_sampled_traces_counters_get_all() {
        let mut registry = Registry::default();
        let m = HttpMetrics::register(&mut registry, ROUTES);
        let r = m.route(Some("/v1/usage"), "POST");
        let sampled = TraceLabel::from_bytes([0; 16]);
        let unsampled = TraceLabel::from_bytes([0xff; 16]);
        assert!(sampled.trace_id.in_ratio_sample(EXEMPLAR_RATIO));
        assert!(!unsampled.trace_id.in_ratio_sample(EXEMPLAR_RATIO));
        // Not sampled, 200: no histogram exemplar, but the counter has it.
        m.observe(r, 200, 0.01, Some(unsampled));
        assert_eq!(histogram_exemplars(&registry), Vec::<String>::new());
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        assert!(
            text.contains(&format!(
                "code=\"200\"}} 1 # {{trace_id=\"{}\"}}",
                "ff".repeat(16)
            )),
            "{text}"
        );
        // Not sampled, 503: the histogram gets it.
        m.observe(r, 503, 2.0, Some(unsampled));
        assert_eq!(histogram_exemplars(&registry), vec!["ff".repeat(16)]);
        // Sampled, 200, another bucket: the histogram gets it too.
        m.observe(r, 200, 0.001, Some(sampled));
        let mut got = histogram_exemplars(&registry);
        got.sort();
        assert_eq!(got, vec!["00".repeat(16), "ff".repeat(16)]);
    }

    #[test]
    fn ratio_sample_keeps_about_one_in_n() {
        let kept = (0u32..4096)
            .filter(|i| {
                let mut id = [0u8; 16];
                id[8..12].copy_from_slice(&i.wrapping_mul(0x9e37_79b9).to_be_bytes());
                TraceLabel::from_bytes(id).trace_id.in_ratio_sample(16)
            })
            .count();
        assert!((200..=320).contains(&kept), "{kept} of 4096");
    }

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
