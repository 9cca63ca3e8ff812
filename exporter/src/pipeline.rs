//! Helpers for event-driven pipelines: events by outcome, last-success timestamps, lag.

use crate::catalogue::{
    Metrics, PipelineLabels, PipelineOutcomeLabels, TargetLabels, TargetOutcomeLabels,
};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

pub fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// One named pipeline (usage aggregation, invoice runs).
#[derive(Clone)]
pub struct Pipeline {
    metrics: Arc<Metrics>,
    name: &'static str,
}

impl Pipeline {
    pub fn new(metrics: Arc<Metrics>, name: &'static str) -> Self {
        Pipeline { metrics, name }
    }

    /// Counts `n` processed events; `ok` false counts them as errors.
    pub fn processed(&self, n: u64, ok: bool) {
        let outcome = if ok { "ok" } else { "error" };
        self.metrics
            .pipeline_events
            .get_or_create(&PipelineOutcomeLabels {
                pipeline: self.name,
                outcome,
            })
            .inc_by(n);
    }

    /// Marks a successful run now.
    pub fn succeeded(&self) {
        self.metrics
            .pipeline_last_success
            .get_or_create(&PipelineLabels {
                pipeline: self.name,
            })
            .set(unix_now());
    }

    /// Age in seconds of the oldest input not yet processed.
    pub fn lag(&self, seconds: f64) {
        self.metrics
            .pipeline_lag
            .get_or_create(&PipelineLabels {
                pipeline: self.name,
            })
            .set(seconds);
    }
}

/// One sync target (tax, erp, crm, warehouse).
#[derive(Clone)]
pub struct SyncTarget {
    metrics: Arc<Metrics>,
    pub name: &'static str,
}

impl SyncTarget {
    pub fn new(metrics: Arc<Metrics>, name: &'static str) -> Self {
        SyncTarget { metrics, name }
    }

    pub fn operation(&self, ok: bool) {
        let outcome = if ok { "ok" } else { "error" };
        self.metrics
            .sync_operations
            .get_or_create(&TargetOutcomeLabels {
                target: self.name,
                outcome,
            })
            .inc();
        if ok {
            self.metrics
                .sync_last_success
                .get_or_create(&TargetLabels { target: self.name })
                .set(unix_now());
        }
    }
}
