//! Wiring: store, state, HTTP listeners (public and loopback admin), jobs, traffic, and a
//! graceful shutdown on SIGTERM/SIGINT.

use super::accounts::Accounts;
use super::api::{self, AppState};
use super::catalogue::Metrics;
use super::commit::{self, Committer};
use super::credits;
use super::faults::{self, Faults};
use super::jobs::{self, Schedule};
use super::store::Store;
use super::traffic;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use tokio::sync::watch;

pub struct Config {
    pub listen: SocketAddr,
    pub admin: SocketAddr,
    pub data_dir: PathBuf,
    /// The store's page cache.
    pub cache_bytes: usize,
    pub accounts: Accounts,
    pub traffic: f64,
    pub faults: Vec<(faults::Fault, faults::Value)>,
    pub schedule: Schedule,
    pub otel_metrics: bool,
    pub commit: commit::Mode,
    /// How long in-flight requests may take to finish after SIGTERM.
    pub shutdown_timeout: std::time::Duration,
    /// Where to write the addresses bound (so `--listen 127.0.0.1:0` can be found).
    pub addresses_file: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Store(#[from] super::store::StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the admin listener must be on a loopback address, not {0}")]
    AdminNotLoopback(SocketAddr),
    #[error("cannot write the addresses to {path}: {source}")]
    AddressesFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("requests still in flight {0:?} after the shutdown signal; their batches were not acknowledged")]
    DrainTimeout(std::time::Duration),
}

fn admin_router(faults: Arc<Faults>) -> Router {
    async fn list(State(f): State<Arc<Faults>>) -> Response {
        Json(f.snapshot()).into_response()
    }
    async fn put(State(f): State<Arc<Faults>>, Path(name): Path<String>, body: String) -> Response {
        match faults::parse(&name, &body) {
            Ok((fault, v)) => {
                f.set(fault, v);
                tracing::warn!(fault = %name, value = %body.trim(), "fault injected");
                (StatusCode::OK, Json(f.snapshot())).into_response()
            }
            Err(e) => api::error(StatusCode::BAD_REQUEST, e.to_string()),
        }
    }
    async fn delete(State(f): State<Arc<Faults>>, Path(name): Path<String>) -> Response {
        if faults::Fault::parse(&name).is_some_and(|fault| f.clear(fault)) {
            tracing::info!(fault = %name, "fault removed");
            (StatusCode::OK, Json(f.snapshot())).into_response()
        } else {
            api::error(StatusCode::NOT_FOUND, format!("fault `{name}` is not set"))
        }
    }
    async fn clear(State(f): State<Arc<Faults>>) -> Response {
        f.clear_all();
        (StatusCode::OK, Json(f.snapshot())).into_response()
    }
    Router::new()
        .route("/faults", get(list).delete(clear))
        .route("/faults/{name}", axum::routing::put(put).delete(delete))
        .layer(axum::middleware::map_response(api::json_errors))
        .with_state(faults)
}

/// SLA credits in (the JSON of `slo-gen report`), invoices out: the loopback admin side of
/// billing.
fn billing_admin_router(state: Arc<AppState>) -> Router {
    async fn post_credits(State(s): State<Arc<AppState>>, body: axum::body::Bytes) -> Response {
        let known = |a: &str| s.accounts.accounts.iter().any(|x| x.id == a);
        match credits::parse(&body, &known) {
            Ok(list) => match s.store.add_credits(&list) {
                Ok((added, already)) => {
                    tracing::info!(added, already, "SLA credits received");
                    Json(serde_json::json!({"added": added, "already": already})).into_response()
                }
                Err(e) => api::error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
            },
            Err(e) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(serde_json::json!({"error": e.message, "field": e.field})),
            )
                .into_response(),
        }
    }
    async fn invoices(State(s): State<Arc<AppState>>, Path(account): Path<String>) -> Response {
        match s.store.invoices(&account) {
            Ok(list) => Json(list).into_response(),
            Err(e) => api::error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        }
    }
    Router::new()
        .route("/sla-credits", axum::routing::post(post_credits))
        .route("/invoices/{account}", get(invoices))
        .layer(axum::middleware::map_response(api::json_errors))
        .with_state(state)
}

async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener, AppError> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| AppError::Listen { addr, source })
}

async fn shutdown_signal(mut stop: watch::Receiver<bool>) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
        _ = stop.changed() => {}
    }
}

/// Runs until SIGTERM/SIGINT (or `stop` turns true), then drains in-flight requests.
// Long: the wiring of every listener, job and thread in start order, and their shutdown in reverse.
pub async fn run(config: Config, stop: watch::Receiver<bool>) -> Result<(), AppError> {
    if !config.admin.ip().is_loopback() {
        return Err(AppError::AdminNotLoopback(config.admin));
    }
    let store = Arc::new(Store::open(&config.data_dir, config.cache_bytes)?);
    let faults = Arc::new(Faults::default());
    for (fault, value) in &config.faults {
        faults.set(*fault, *value);
    }
    store.attach_faults(faults.clone());
    let recovery_stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let recovery = {
        let (store, stop) = (store.clone(), recovery_stop.clone());
        std::thread::Builder::new()
            .name("store-recovery".into())
            .spawn(move || store.recover_forever(&stop))
            .map_err(|e| {
                super::store::StoreError::from_message(&format!(
                    "cannot start the store recovery thread: {e}"
                ))
            })?
    };
    let providers = config.accounts.provider_labels();
    let metrics = if config.otel_metrics {
        Metrics::with_otel()
    } else {
        Metrics::new()
    }
    .initialise(&providers);
    let ingest = Committer::start(store.clone(), config.commit).map_err(|e| {
        super::store::StoreError::from_message(&format!("cannot start the ingest writer: {e}"))
    })?;
    let state = Arc::new(AppState {
        metrics: Arc::new(metrics),
        store,
        ingest,
        accounts: config.accounts.clone(),
        faults: faults.clone(),
        ready: AtomicBool::new(false),
        aggregation_failing: std::sync::Mutex::new(None),
        providers,
    });
    let listener = bind(config.listen).await?;
    let admin = bind(config.admin).await?;
    let local = listener.local_addr().map_err(|source| AppError::Listen {
        addr: config.listen,
        source,
    })?;
    let admin_local = admin.local_addr().map_err(|source| AppError::Listen {
        addr: config.admin,
        source,
    })?;
    tracing::info!(listen = %local, admin = %admin_local, data_dir = %config.data_dir.display(), traffic = config.traffic, "billing-exporter started");
    if let Some(path) = &config.addresses_file {
        // Written whole (temp file + rename): a reader never sees half of it.
        let text =
            serde_json::json!({"listen": local.to_string(), "admin": admin_local.to_string()})
                .to_string();
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text)
            .and_then(|_| std::fs::rename(&tmp, path))
            .map_err(|source| AppError::AddressesFile {
                path: path.clone(),
                source,
            })?;
    }

    let (jobs_stop_tx, jobs_stop) = watch::channel(false);
    let tasks = jobs::spawn(state.clone(), config.schedule.clone(), jobs_stop.clone());
    let generator = tokio::spawn(traffic::run(
        local,
        config.accounts.clone(),
        config.traffic,
        jobs_stop,
    ));
    state
        .ready
        .store(true, std::sync::atomic::Ordering::Relaxed);

    let admin_server = axum::serve(
        admin,
        admin_router(faults).merge(billing_admin_router(state.clone())),
    )
    .with_graceful_shutdown(shutdown_signal(stop.clone()));
    let server = axum::serve(listener, api::router(state.clone()))
        .with_graceful_shutdown(shutdown_signal(stop.clone()));
    // The drain deadline runs from the signal: a request still in flight then is dropped
    // unanswered (never acknowledged), and the exit says so.
    let deadline = async {
        shutdown_signal(stop).await;
        tracing::info!(timeout = ?config.shutdown_timeout, "shutting down: no new connections, draining");
        tokio::time::sleep(config.shutdown_timeout).await;
    };
    let drained = tokio::select! {
        (a, b) = async { tokio::join!(server, admin_server) } => {
            if let Err(e) = a.and(b) {
                tracing::error!(error = %e, "server error");
            }
            true
        }
        () = deadline => false,
    };
    let _ = jobs_stop_tx.send(true);
    let _ = generator.await;
    for t in tasks {
        let _ = t.await;
    }
    recovery_stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = recovery.join();
    if !drained {
        return Err(AppError::DrainTimeout(config.shutdown_timeout));
    }
    tracing::info!("billing-exporter stopped");
    Ok(())
}
