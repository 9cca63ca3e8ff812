//! The billing HTTP APIs: usage ingestion, payment-provider webhooks, the customer usage
//! and cost API, health, and `/metrics`. Every error body is JSON `{"error": ...}`: the
//! handlers' own, the framework's (404, 405, 413, ...) and a panicking handler's 500,
//! which the metrics layer counts like any other answer.

use super::accounts::{self, Accounts};
use super::catalogue::{Metrics, PaymentOutcome, PipelineName, Route, UsageOutcome};
use super::commit::Committer;
use super::faults::{self, ApiFaults, Faults};
use super::ingest::{self, MAX_BATCH};
use super::rating;
use super::store::{IngestError, Store, StoreError};
use crate::instrument::layer::MetricsLayer;
use crate::instrument::pipeline::unix_now;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::{Json, Router};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub struct AppState {
    pub metrics: Arc<Metrics>,
    pub store: Arc<Store>,
    /// Where usage batches go to be stored (group commit).
    pub ingest: Committer,
    pub accounts: Accounts,
    pub faults: Arc<Faults>,
    pub ready: AtomicBool,
    /// Why the last aggregation run failed, until one succeeds (readiness reports it).
    pub aggregation_failing: std::sync::Mutex<Option<String>>,
    /// The configured payment providers, as label values.
    pub providers: Vec<&'static str>,
}

impl AppState {
    /// How far behind what customers see is: the age of the oldest event ingested but not
    /// yet visible in the usage API, 0 when every event is. Read from the store itself,
    /// so it holds even when the aggregation job is stalled or gone.
    pub fn refresh_visibility_lag(&self) -> Result<f64, StoreError> {
        let lag = match self.store.oldest_pending()? {
            Some(received) => (unix_now() - received).max(0.0),
            None => 0.0,
        };
        self.metrics
            .pipeline(PipelineName::UsageAggregation)
            .lag(lag);
        self.metrics.usage_api_data_lag.set(lag);
        Ok(lag)
    }
}

type Shared = Arc<AppState>;

pub fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({"error": message.into()}))).into_response()
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// The injected latency, then a panic or an error (if drawn) of one API.
async fn injected(faults: &Faults, api: ApiFaults) -> Option<Response> {
    let delay = faults.latency(api.latency);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if faults.fails(api.panic) {
        panic!("injected fault: {}", api.panic);
    }
    faults.fails(api.error_rate).then(|| {
        error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("injected fault: {}", api.error_rate),
        )
    })
}

/// The handler of each route, on the route's method.
fn handler(route: Route) -> MethodRouter<Shared> {
    let method = match route.info().method {
        "POST" => MethodFilter::POST,
        _ => MethodFilter::GET,
    };
    match route {
        Route::UsageIngest => on(method, ingest),
        Route::PaymentsWebhook => on(method, webhook),
        Route::AccountUsage => on(method, usage),
        Route::Healthz => on(method, || async { "ok\n" }),
        Route::Readyz => on(method, readyz),
        Route::Metrics => on(method, metrics_handler),
    }
}

/// A panicking handler answers 500 with a JSON body; the task and the server live on.
fn panic_response(payload: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("a panic");
    tracing::error!(panic = what, "handler panicked");
    error(StatusCode::INTERNAL_SERVER_ERROR, "internal error; retry")
}

/// Gives error answers that are not JSON yet (the framework's 404, 405, 413, 415, ...) a
/// JSON body with the same status, keeping the framework's words.
pub async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let reason = status.canonical_reason().unwrap_or("error").to_lowercase();
    let message = if text.is_empty() {
        reason
    } else {
        format!("{reason}: {text}")
    };
    let body = serde_json::to_vec(&json!({ "error": message })).unwrap_or_default();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body))
}

/// Request targets longer than this get a JSON 414 from us. (hyper itself answers targets
/// over 64 KiB with a bodyless 414 before any of this code runs.)
pub const MAX_URI_BYTES: usize = 8 * 1024;

async fn limit_uri(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let len = req.uri().to_string().len();
    if len > MAX_URI_BYTES {
        return error(
            StatusCode::URI_TOO_LONG,
            format!("the request target is {len} bytes; the limit is {MAX_URI_BYTES}"),
        );
    }
    next.run(req).await
}

/// The public router, built from the route table the metrics resolve against. Inside
/// out: handlers, the panic catcher (so a panic is an answer), the URI bound, the metrics
/// layer (so every answer is counted), JSON error bodies.
pub fn router(state: Shared) -> Router {
    let layer = MetricsLayer::new(state.metrics.http.clone());
    Route::ALL
        .iter()
        .fold(Router::new(), |r, route| {
            r.route(route.as_str(), handler(*route))
        })
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            panic_response,
        ))
        .layer(axum::middleware::from_fn(limit_uri))
        .layer(layer)
        .layer(axum::middleware::map_response(json_errors))
        .with_state(state)
}

/// Ready only while it can do its job: started, the store committing, aggregation running.
async fn readyz(State(s): State<Shared>) -> Response {
    if !s.ready.load(Ordering::Relaxed) {
        return error(StatusCode::SERVICE_UNAVAILABLE, "starting");
    }
    if let Some(down) = s.store.down() {
        return unavailable(&format!(
            "the store cannot commit for {:.0}s: {}",
            down.since.elapsed().as_secs_f64(),
            down.reason
        ));
    }
    if let Some(reason) = s
        .aggregation_failing
        .lock()
        .expect("aggregation lock")
        .clone()
    {
        return unavailable(&format!("usage aggregation is failing: {reason}"));
    }
    (StatusCode::OK, "ready\n").into_response()
}

/// 503 with `Retry-After`, for a condition that clears by itself.
fn unavailable(message: &str) -> Response {
    let mut r = error(StatusCode::SERVICE_UNAVAILABLE, message);
    r.headers_mut().insert(
        axum::http::header::RETRY_AFTER,
        axum::http::HeaderValue::from_static(RETRY_AFTER_SECONDS),
    );
    r
}

/// What a refused client should wait: about two of the recovery thread's attempts.
const RETRY_AFTER_SECONDS: &str = "1";

async fn metrics_handler(State(s): State<Shared>) -> Response {
    let state = s.clone();
    // The lag is read at scrape time, so a dead job cannot freeze it.
    if let Ok(Err(e)) = tokio::task::spawn_blocking(move || state.refresh_visibility_lag()).await {
        tracing::error!(error = %e, "cannot read the aggregation backlog");
    }
    let body = s.metrics.encode();
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

// Long: the request's path in order (auth, limits, validation, store, answer), each refusal beside its check.
async fn ingest(State(s): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let authorised = bearer(&headers)
        .is_some_and(|t| accounts::ct_eq(t.as_bytes(), s.accounts.ingest_token.as_bytes()));
    if !authorised {
        return error(StatusCode::UNAUTHORIZED, "missing or wrong ingest token");
    }
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the events as `Content-Type: application/json`",
        );
    }
    if let Some(r) = injected(&s.faults, faults::INGEST).await {
        return r;
    }
    let doc: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) if e.to_string().contains("number out of range") => {
            s.metrics.usage(UsageOutcome::Rejected, 1);
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("a number in the body is out of range ({e}); quantities are whole numbers from 0 to {}", rating::MAX_EVENT_QUANTITY),
            );
        }
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("malformed JSON: {e}")),
    };
    let Some(items) = doc.get("events").and_then(Value::as_array) else {
        return error(StatusCode::BAD_REQUEST, "body must be {\"events\": [...]}");
    };
    if items.len() > MAX_BATCH {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("at most {MAX_BATCH} events per request"),
        );
    }
    let now = unix_now();
    let mut events = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match ingest::event(i, item, &s.accounts, now) {
            Ok(e) => events.push(e),
            Err((status, message)) => {
                s.metrics.usage(UsageOutcome::Rejected, items.len() as u64);
                return error(status, message);
            }
        }
    }
    // Known down: refuse without queueing a write that cannot commit.
    if let Some(down) = s.store.down() {
        s.metrics
            .usage(UsageOutcome::StoreError, items.len() as u64);
        return unavailable(&format!("the store cannot commit ({}); retry", down.reason));
    }
    match s.ingest.ingest(events).await {
        Ok((accepted, duplicates)) => {
            s.metrics.usage(UsageOutcome::Accepted, accepted);
            s.metrics.usage(UsageOutcome::Duplicate, duplicates);
            Json(json!({"accepted": accepted, "duplicates": duplicates})).into_response()
        }
        Err(IngestError::AccountLimit {
            index,
            account,
            meter,
            held,
        }) => {
            s.metrics.usage(UsageOutcome::Rejected, items.len() as u64);
            error(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("`events[{index}].quantity`: account `{account}` would hold more than {} units of `{meter}` (it holds {held}); nothing of this batch was stored", rating::MAX_ACCOUNT_QUANTITY),
            )
        }
        Err(IngestError::Store(e)) => {
            s.metrics
                .usage(UsageOutcome::StoreError, items.len() as u64);
            tracing::error!(error = %e, "usage batch not stored");
            if e.is_down() {
                return unavailable("could not store the events; retry");
            }
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "could not store the events; retry",
            )
        }
    }
}

/// The `X-Signature: sha256=<hex>` of a body, as providers sign it.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn signature_ok(secret: &str, header: Option<&str>, body: &[u8]) -> bool {
    let Some(sig) = header
        .and_then(|h| h.strip_prefix("sha256="))
        .and_then(|h| hex::decode(h).ok())
    else {
        return false;
    };
    let mut mac =
        Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    // Constant-time comparison.
    mac.verify_slice(&sig).is_ok()
}

async fn webhook(
    State(s): State<Shared>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (Some(secret), Some(&label)) = (
        s.accounts.providers.get(&provider),
        s.providers.iter().find(|p| **p == provider),
    ) else {
        return error(
            StatusCode::NOT_FOUND,
            format!("unknown payment provider `{provider}`"),
        );
    };
    let header = headers.get("x-signature").and_then(|v| v.to_str().ok());
    if !signature_ok(secret, header, &body) {
        return error(StatusCode::UNAUTHORIZED, "missing or bad X-Signature");
    }
    let doc: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("malformed JSON: {e}")),
    };
    let (Some(id), Some(kind)) = (
        doc.get("id").and_then(Value::as_str),
        doc.get("type").and_then(Value::as_str),
    ) else {
        return error(StatusCode::BAD_REQUEST, "`id` and `type` must be strings");
    };
    let outcome = match kind {
        "payment.succeeded" => PaymentOutcome::Succeeded,
        // A declined card is the payment system working: not an error of ours.
        "payment.declined" => PaymentOutcome::Declined,
        "payment.failed" => PaymentOutcome::Error,
        other => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("unknown event type `{other}`"),
            )
        }
    };
    if let Some(r) = injected(&s.faults, faults::PAYMENTS).await {
        // Not recorded: the provider retries, and the retry is processed.
        s.metrics.payment(label, PaymentOutcome::Error);
        tracing::warn!(provider, id, "payment webhook failed (injected fault)");
        return r;
    }
    let key = format!("{provider}/{id}");
    let store = s.store.clone();
    match tokio::task::spawn_blocking(move || store.record_webhook(&key)).await {
        Ok(Ok(true)) => {
            s.metrics.payment(label, outcome);
            Json(json!({"status": "accepted"})).into_response()
        }
        Ok(Ok(false)) => Json(json!({"status": "duplicate"})).into_response(),
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn usage(
    State(s): State<Shared>,
    Path(account): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(owner) = bearer(&headers).and_then(|t| s.accounts.by_token(t)) else {
        return error(StatusCode::UNAUTHORIZED, "missing or unknown account token");
    };
    if owner.id != account {
        // Another tenant's account: answer as if it did not exist.
        return error(StatusCode::NOT_FOUND, "no such account");
    }
    if let Some(r) = injected(&s.faults, faults::USAGE_API).await {
        return r;
    }
    let store = s.store.clone();
    let id = account.clone();
    let read = tokio::task::spawn_blocking(move || {
        let now = unix_now();
        // Read the backlog first: every event received before it is in the totals.
        let as_of = store.oldest_pending()?.unwrap_or(now).min(now);
        Ok::<_, StoreError>((store.usage(&id)?, as_of))
    })
    .await;
    let (usage, as_of) = match read {
        Ok(Ok(u)) => u,
        Ok(Err(e)) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let rated = match rating::rate(&owner.plan, &usage) {
        Ok(r) => r,
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    Json(json!({
        "account": account,
        "currency": "USD",
        "meters": rated.items,
        "fee": rated.fee,
        "total_cost": rated.total,
        "as_of": as_of,
    }))
    .into_response()
}
