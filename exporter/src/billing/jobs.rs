//! Background work: usage aggregation, rating and invoice runs, and sync to tax, ERP, CRM
//! and the warehouse (simulated targets that fail or stall under `--fault`).

use super::api::AppState;
use super::catalogue::{OutcomeLabels, PipelineName, SyncTarget};
use super::faults::Fault;
use super::rating;
use crate::instrument::labels::Outcome;
use crate::instrument::pipeline::unix_now;
use serde_json::json;
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

/// Events folded per aggregation transaction: bounded work per commit.
pub const AGGREGATION_BATCH: u64 = 10_000;
/// How long one aggregation run may drain before it lets the next run continue.
const AGGREGATION_BUDGET: Duration = Duration::from_secs(2);

/// One aggregation run: drains the backlog in transactions of [`AGGREGATION_BATCH`]
/// events until it is caught up (or the run's time budget is spent), so aggregation keeps
/// up with ingest instead of folding a fixed amount per interval.
fn aggregate(s: &AppState) {
    let aggregation = s.metrics.pipeline(PipelineName::UsageAggregation);
    if s.faults.stalled(Fault::AggregationStall) {
        let _ = s.refresh_visibility_lag();
        return;
    }
    if s.faults.fails(Fault::AggregationErrorRate) {
        aggregation.processed(1, false);
        tracing::warn!("usage aggregation run failed (injected fault)");
        *s.aggregation_failing.lock().expect("aggregation lock") =
            Some("injected fault aggregation.error_rate".into());
        let _ = s.refresh_visibility_lag();
        return;
    }
    let started = std::time::Instant::now();
    loop {
        let delay = s.faults.latency(Fault::AggregationLatency);
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
        match s.store.aggregate(AGGREGATION_BATCH) {
            Ok(n) => {
                aggregation.processed(n, true);
                *s.aggregation_failing.lock().expect("aggregation lock") = None;
                if n < AGGREGATION_BATCH || started.elapsed() >= AGGREGATION_BUDGET {
                    aggregation.succeeded();
                    break;
                }
            }
            Err(e) => {
                aggregation.processed(1, false);
                tracing::error!(error = %e, "usage aggregation failed");
                *s.aggregation_failing.lock().expect("aggregation lock") = Some(e.to_string());
                break;
            }
        }
    }
    if let Err(e) = s.refresh_visibility_lag() {
        tracing::error!(error = %e, "cannot read the aggregation backlog");
    }
}

/// Starts every job; they stop when `stop` turns true.
// Long: every job's thread and schedule in one list.
pub fn spawn(
    state: Arc<AppState>,
    schedule: Schedule,
    stop: watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = Vec::new();

    let s = state.clone();
    tasks.push(tokio::spawn(every(
        schedule.aggregation,
        stop.clone(),
        move || aggregate(&s),
    )));

    let s = state.clone();
    let invoice_run = s.metrics.pipeline(PipelineName::InvoiceRun);
    tasks.push(tokio::spawn(every(schedule.invoice, stop.clone(), move || {
        if s.faults.stalled(Fault::InvoiceStall) {
            return;
        }
        let period = (unix_now() / (30.0 * 86400.0)).floor() as u64;
        let mut ok = true;
        for account in &s.accounts.accounts {
            let rated = s
                .store
                .usage(&account.id)
                .map_err(|e| e.to_string())
                .and_then(|usage| rating::rate(&account.plan, &usage).map_err(|e| e.to_string()));
            let rated = match rated {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!(account = %account.id, error = %e, "rating failed");
                    s.metrics.rating_line_items.get_or_create(&OutcomeLabels { outcome: Outcome::Error }).inc();
                    s.metrics.invoices.get_or_create(&OutcomeLabels { outcome: Outcome::Error }).inc();
                    ok = false;
                    continue;
                }
            };
            let rating_failed = s.faults.fails(Fault::RatingErrorRate);
            let outcome = Outcome::of(!rating_failed);
            s.metrics
                .rating_line_items
                .get_or_create(&OutcomeLabels { outcome })
                .inc_by(rated.items.len() as u64);
            // SLA credits owed to the account go on this invoice, once.
            let invoice_key = format!("{}/{period}", account.id);
            let credits = s.store.credits_for_invoice(&account.id, &invoice_key).unwrap_or_else(|e| {
                tracing::error!(account = %account.id, error = %e, "reading SLA credits failed");
                Vec::new()
            });
            let mut credited = 0u64;
            let credit_items: Vec<serde_json::Value> = credits
                .iter()
                .map(|c| {
                    // A share of the charge before credits; together never above it.
                    let cents = c.cents(rated.total).min(rated.total - credited);
                    credited += cents;
                    json!({"service": c.service, "slo": c.slo, "from": c.from, "to": c.to, "credit_percent": c.credit_percent, "cents": cents})
                })
                .collect();
            let failed = rating_failed
                || s.faults.fails(Fault::InvoiceErrorRate)
                || s.store
                    .store_invoice_with_credits(
                        &invoice_key,
                        &json!({"account": account.id, "period": period, "items": rated.items, "fee": rated.fee, "sla_credits": credit_items, "charge_before_credits": rated.total, "total_cost": rated.total - credited}),
                        &credits,
                    )
                    .is_err();
            let outcome = Outcome::of(!failed);
            s.metrics.invoices.get_or_create(&OutcomeLabels { outcome }).inc();
            ok &= !failed;
        }
        if ok {
            invoice_run.succeeded();
        }
    })));

    for &target in SyncTarget::ALL {
        let period = match target {
            SyncTarget::Tax | SyncTarget::Crm => schedule.sync,
            SyncTarget::Erp => schedule.sync * 2,
            SyncTarget::Warehouse => schedule.sync * 6,
        };
        let (error_rate, stall) = Fault::sync(target);
        let s = state.clone();
        tasks.push(tokio::spawn(every(period, stop.clone(), move || {
            if s.faults.stalled(stall) {
                return;
            }
            s.metrics.sync(target, !s.faults.fails(error_rate));
        })));
    }
    tasks
}
