//! The billing HTTP APIs: usage ingestion, payment-provider webhooks, the customer usage
//! and cost API, health, and `/metrics`.

use super::accounts::{self, Accounts};
use super::catalogue::{Metrics, PaymentOutcome, Route, UsageOutcome};
use super::faults::{Fault, Faults};
use super::store::{Event, Store};
use crate::instrument::layer::MetricsLayer;
use crate::instrument::pipeline::unix_now;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::{Json, Router};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub const MAX_BATCH: usize = 1000;

pub struct AppState {
    pub metrics: Arc<Metrics>,
    pub store: Arc<Store>,
    pub accounts: Accounts,
    pub faults: Arc<Faults>,
    pub ready: AtomicBool,
    /// Unix time of the last successful aggregation run (bits of an f64).
    pub last_aggregation: std::sync::atomic::AtomicU64,
}

type Shared = Arc<AppState>;

fn error(status: StatusCode, message: impl Into<String>) -> Response {
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

/// The injected latency, then the injected error (if drawn) of one API.
async fn injected(faults: &Faults, latency: Fault, error_rate: Fault) -> Option<Response> {
    let delay = faults.latency(latency);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    faults.fails(error_rate).then(|| {
        error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("injected fault: {error_rate}"),
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

/// The public router, built from the route table the metrics resolve against.
pub fn router(state: Shared) -> Router {
    let layer = MetricsLayer::new(state.metrics.http.clone());
    Route::ALL
        .iter()
        .fold(Router::new(), |r, route| {
            r.route(route.as_str(), handler(*route))
        })
        .layer(layer)
        .with_state(state)
}

async fn readyz(State(s): State<Shared>) -> Response {
    if s.ready.load(Ordering::Relaxed) {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "starting\n").into_response()
    }
}

async fn metrics_handler(State(s): State<Shared>) -> Response {
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

/// Validates one event; the error says which field is wrong.
fn event(v: &Value, accounts: &Accounts, now: f64) -> Result<Event, (StatusCode, String)> {
    let bad = |m: &str| (StatusCode::BAD_REQUEST, m.to_string());
    let semantic = |m: String| (StatusCode::UNPROCESSABLE_ENTITY, m);
    let obj = v
        .as_object()
        .ok_or_else(|| bad("each event must be an object"))?;
    let text = |k: &str| {
        obj.get(k)
            .and_then(Value::as_str)
            .ok_or_else(|| bad(&format!("`{k}` must be a string")))
    };
    let id = text("id")?;
    if id.is_empty() || id.len() > 128 {
        return Err(bad("`id` must have 1 to 128 characters"));
    }
    let account = text("account")?;
    let meter = text("meter")?;
    let quantity = match obj.get("quantity") {
        Some(Value::Number(n)) => n
            .as_f64()
            .ok_or_else(|| bad("`quantity` must be a number"))?,
        Some(Value::String(s))
            if ["nan", "inf", "+inf", "-inf", "infinity", "-infinity"]
                .contains(&s.to_ascii_lowercase().as_str()) =>
        {
            f64::NAN
        }
        _ => return Err(bad("`quantity` must be a number")),
    };
    let timestamp = match obj.get("timestamp") {
        Some(t @ (Value::Number(_) | Value::String(_))) => t.clone(),
        _ => return Err(bad("`timestamp` must be a number or a string")),
    };
    if !quantity.is_finite() || quantity < 0.0 {
        return Err(semantic(format!(
            "event `{id}`: quantity must be a finite number >= 0"
        )));
    }
    if !accounts::METERS.contains(&meter) {
        return Err(semantic(format!(
            "event `{id}`: unknown meter `{meter}`; meters: {}",
            accounts::METERS.join(", ")
        )));
    }
    if accounts.get(account).is_none() {
        return Err(semantic(format!(
            "event `{id}`: unknown account `{account}`"
        )));
    }
    Ok(Event {
        id: id.into(),
        account: account.into(),
        meter: meter.into(),
        quantity,
        timestamp,
        received: now,
    })
}

async fn ingest(State(s): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let authorised = bearer(&headers)
        .is_some_and(|t| accounts::ct_eq(t.as_bytes(), s.accounts.ingest_token.as_bytes()));
    if !authorised {
        return error(StatusCode::UNAUTHORIZED, "missing or wrong ingest token");
    }
    if let Some(r) = injected(&s.faults, Fault::IngestLatency, Fault::IngestErrorRate).await {
        return r;
    }
    let doc: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) if e.to_string().contains("number out of range") => {
            s.metrics.usage(UsageOutcome::Rejected, 1);
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "quantity must be a finite number",
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
    for item in items {
        match event(item, &s.accounts, now) {
            Ok(e) => events.push(e),
            Err((status, message)) => {
                s.metrics.usage(UsageOutcome::Rejected, items.len() as u64);
                return error(status, message);
            }
        }
    }
    let store = s.store.clone();
    let result = tokio::task::spawn_blocking(move || store.ingest(&events)).await;
    match result {
        Ok(Ok((accepted, duplicates))) => {
            s.metrics.usage(UsageOutcome::Accepted, accepted);
            s.metrics.usage(UsageOutcome::Duplicate, duplicates);
            Json(json!({"accepted": accepted, "duplicates": duplicates})).into_response()
        }
        Ok(Err(e)) => {
            s.metrics
                .usage(UsageOutcome::StoreError, items.len() as u64);
            tracing::error!(error = %e, "usage batch not stored");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "could not store the events; retry",
            )
        }
        Err(e) => {
            s.metrics
                .usage(UsageOutcome::StoreError, items.len() as u64);
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("store task failed: {e}"),
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
    let Some(secret) = s.accounts.providers.get(&provider) else {
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
    if let Some(r) = injected(&s.faults, Fault::PaymentsLatency, Fault::PaymentsErrorRate).await {
        // Not recorded: the provider retries, and the retry is processed.
        s.metrics.payment(PaymentOutcome::Error);
        tracing::warn!(provider, id, "payment webhook failed (injected fault)");
        return r;
    }
    let key = format!("{provider}/{id}");
    let store = s.store.clone();
    match tokio::task::spawn_blocking(move || store.record_webhook(&key)).await {
        Ok(Ok(true)) => {
            s.metrics.payment(outcome);
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
    if let Some(r) = injected(&s.faults, Fault::UsageApiLatency, Fault::UsageApiErrorRate).await {
        return r;
    }
    let store = s.store.clone();
    let id = account.clone();
    let usage = match tokio::task::spawn_blocking(move || store.usage(&id)).await {
        Ok(Ok(u)) => u,
        Ok(Err(e)) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let (items, total) = accounts::rate(&owner.plan, &usage);
    let as_of = f64::from_bits(s.last_aggregation.load(Ordering::Relaxed));
    Json(json!({
        "account": account,
        "currency": "USD",
        "meters": items,
        "total_cost": total,
        "as_of": as_of,
    }))
    .into_response()
}
