//! `serve`: the SLO page on-call opens first. Server-rendered HTML with inline SVG (no
//! JavaScript needed, no external assets), read-only, reading only recorded series and
//! `ALERTS`. The list page costs a fixed number of Prometheus queries however many SLOs
//! there are ([`data::overview`]); when Prometheus fails, pages say so and the API answers
//! 503, and the next request tries again.

pub mod data;
pub mod pages;

use crate::promapi::Client;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use slo_spec::Service;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What every handler reads.
pub struct App {
    pub services: Vec<Service>,
    /// Spec file texts by path, to show an SLO's spec as written.
    pub texts: BTreeMap<String, String>,
    pub client: Client,
    pub grafana_url: String,
    /// Where the pages are mounted (`/slo`), without a trailing slash; empty at the root.
    pub prefix: String,
    /// Where the report page reads the SLIs' base series (`--layout`).
    pub source: crate::rules::sli::Source,
}

impl App {
    pub fn link(&self, path: &str) -> String {
        format!("{}{path}", self.prefix)
    }
}

type Shared = Arc<App>;

/// Runs a blocking Prometheus read off the async workers.
async fn blocking<T: Send + 'static>(
    app: &Shared,
    f: impl FnOnce(&App) -> T + Send + 'static,
) -> T {
    let app = app.clone();
    tokio::task::spawn_blocking(move || f(&app))
        .await
        .expect("a Prometheus read never panics")
}

fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        Html(body),
    )
        .into_response()
}

async fn list(State(app): State<Shared>, Query(q): Query<BTreeMap<String, String>>) -> Response {
    let rows = blocking(&app, data::overview).await;
    let status = if rows.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    html(status, pages::list(&app, rows, &q))
}

async fn api_slos(State(app): State<Shared>) -> Response {
    match blocking(&app, data::overview).await {
        Ok(rows) => Json(data::rows_json(&rows)).into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({"error": e.to_string()})),
        )
            .into_response(),
    }
}

async fn slo_page(
    State(app): State<Shared>,
    Path((service, slo)): Path<(String, String)>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    let span = match q.get("range").filter(|r| !r.is_empty()) {
        None => None,
        Some(r) => match slo_spec::names::parse_duration(r) {
            Ok(d) if d.as_secs() >= 60 => Some(d),
            _ => {
                return html(
                    StatusCode::BAD_REQUEST,
                    pages::not_found(
                        &app,
                        &format!("range `{r}` is not a duration of a minute or more, e.g. 6h"),
                    ),
                )
            }
        },
    };
    let found = app
        .services
        .iter()
        .find(|s| s.name == service)
        .and_then(|s| {
            s.slos
                .iter()
                .find(|x| x.name == slo)
                .map(|x| (s.clone(), x.clone()))
        });
    let Some((svc, s)) = found else {
        return html(
            StatusCode::NOT_FOUND,
            pages::not_found(&app, &format!("no SLO {service}/{slo}")),
        );
    };
    let (svc2, s2) = (svc.clone(), s.clone());
    let detail = blocking(&app, move |a| data::detail(a, &svc2, &s2, span)).await;
    let status = if detail.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    html(status, pages::slo(&app, &svc, &s, detail))
}

async fn report_page(
    State(app): State<Shared>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    let month = q
        .get("month")
        .cloned()
        .unwrap_or_else(|| jiff::Timestamp::now().strftime("%Y-%m").to_string());
    let range = match crate::report::Range::month(&month) {
        Ok(r) => r,
        Err(e) => return html(StatusCode::BAD_REQUEST, pages::not_found(&app, &e)),
    };
    let report = blocking(&app, move |a| {
        crate::report::build(
            (&a.client, a.source),
            &a.services,
            &range,
            (crate::report::Reads::Everything, &|_| true),
            &mut |_| {},
        )
    })
    .await;
    match report {
        Ok(r) => html(StatusCode::OK, crate::report::render::html(&r)),
        Err(e) => html(
            StatusCode::SERVICE_UNAVAILABLE,
            pages::not_found(&app, &format!("Prometheus failed: {e}")),
        ),
    }
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn fallback(State(app): State<Shared>) -> Response {
    html(
        StatusCode::NOT_FOUND,
        pages::not_found(&app, "no such page"),
    )
}

/// The router, mounted at the app's prefix.
pub fn router(app: App) -> Router {
    let prefix = app.prefix.clone();
    let app = Arc::new(app);
    let inner = Router::new()
        .route("/", get(list))
        .route("/slo/{service}/{slo}", get(slo_page))
        .route("/report", get(report_page))
        .route("/api/v1/slos", get(api_slos))
        .route("/healthz", get(healthz))
        .fallback(fallback);
    let outer: Router<Shared> = if prefix.is_empty() {
        inner
    } else {
        // `/slo/` as well as `/slo`: nesting matches only the latter.
        Router::new()
            .route(&format!("{prefix}/"), get(list))
            .nest(&prefix, inner)
            .fallback(fallback)
    };
    outer.with_state(app)
}
