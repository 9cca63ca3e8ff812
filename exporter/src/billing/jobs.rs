//! Background work: usage aggregation, rating and invoice runs, and sync to tax, ERP, CRM
//! and the warehouse (simulated targets that fail or stall under `--fault`).

use super::accounts;
use super::api::AppState;
use crate::catalogue::OutcomeLabels;
use crate::pipeline::{unix_now, Pipeline, SyncTarget};
use serde_json::json;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How often each job runs.
#[derive(Clone, Debug)]
pub struct Schedule {
    pub aggregation: Duration,
    pub invoice: Duration,
    pub sync: Duration,
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            aggregation: Duration::from_secs(2),
            invoice: Duration::from_secs(10),
            sync: Duration::from_secs(5),
        }
    }
}

/// Runs `tick` every `period` until `stop`. Ticks touch the store (fsync), so they run on
/// the blocking pool, never on a runtime worker.
async fn every(
    period: Duration,
    mut stop: watch::Receiver<bool>,
    tick: impl Fn() + Send + Sync + 'static,
) {
    let tick = Arc::new(tick);
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = interval.tick() => {
                let t = tick.clone();
                if let Err(e) = tokio::task::spawn_blocking(move || t()).await {
                    tracing::error!(error = %e, "background job panicked");
                }
            }
            _ = stop.changed() => return,
        }
    }
}

/// Starts every job; they stop when `stop` turns true.
pub fn spawn(
    state: Arc<AppState>,
    schedule: Schedule,
    stop: watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = Vec::new();

    let s = state.clone();
    let aggregation = Pipeline::new(s.metrics.clone(), "usage-aggregation");
    tasks.push(tokio::spawn(every(
        schedule.aggregation,
        stop.clone(),
        move || {
            let now = unix_now();
            if let Ok(Some(oldest)) = s.store.oldest_pending() {
                aggregation.lag(now - oldest);
            } else {
                aggregation.lag(0.0);
            }
            let last = f64::from_bits(s.last_aggregation.load(Ordering::Relaxed));
            if last > 0.0 {
                s.metrics.usage_api_data_lag.set(now - last);
            }
            if s.faults.stalled("aggregation.stall") {
                return;
            }
            if s.faults.fails("aggregation.error_rate") {
                aggregation.processed(1, false);
                tracing::warn!("usage aggregation run failed (injected fault)");
                return;
            }
            match s.store.aggregate(10_000) {
                Ok(n) => {
                    aggregation.processed(n, true);
                    aggregation.succeeded();
                    s.last_aggregation.store(now.to_bits(), Ordering::Relaxed);
                    s.metrics.usage_api_data_lag.set(0.0);
                }
                Err(e) => {
                    aggregation.processed(1, false);
                    tracing::error!(error = %e, "usage aggregation failed");
                }
            }
        },
    )));

    let s = state.clone();
    let invoice_run = Pipeline::new(s.metrics.clone(), "invoice-run");
    tasks.push(tokio::spawn(every(schedule.invoice, stop.clone(), move || {
        if s.faults.stalled("invoice.stall") {
            return;
        }
        let period = (unix_now() / (30.0 * 86400.0)).floor() as u64;
        let mut ok = true;
        for account in &s.accounts.accounts {
            let usage = s.store.usage(&account.id).unwrap_or_default();
            let (items, total) = accounts::rate(&account.plan, &usage);
            let rating_failed = s.faults.fails("rating.error_rate");
            let outcome = if rating_failed { "error" } else { "ok" };
            s.metrics
                .rating_line_items
                .get_or_create(&OutcomeLabels { outcome })
                .inc_by(items.len() as u64);
            let failed = rating_failed
                || s.faults.fails("invoice.error_rate")
                || s.store
                    .store_invoice(
                        &format!("{}/{period}", account.id),
                        &json!({"account": account.id, "period": period, "items": items, "total_cost": total}),
                    )
                    .is_err();
            let outcome = if failed { "error" } else { "ok" };
            s.metrics.invoices.get_or_create(&OutcomeLabels { outcome }).inc();
            ok &= !failed;
        }
        if ok {
            invoice_run.succeeded();
        }
    })));

    for (target, period) in [
        ("tax", schedule.sync),
        ("erp", schedule.sync * 2),
        ("crm", schedule.sync),
        ("warehouse", schedule.sync * 6),
    ] {
        let s = state.clone();
        let t = SyncTarget::new(s.metrics.clone(), target);
        tasks.push(tokio::spawn(every(period, stop.clone(), move || {
            if s.faults.stalled(&format!("sync.{target}.stall")) {
                return;
            }
            t.operation(!s.faults.fails(&format!("sync.{target}.error_rate")));
        })));
    }
    tasks
}
