//! Metrics for event-driven pipelines and background jobs: events processed by outcome,
//! the time of the last successful run, and lag (the age of the oldest input not yet
//! processed). Pipelines are named by the caller from its own closed set.

use super::labels::Outcome;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};
use std::sync::atomic::AtomicU64;
use std::time::{SystemTime, UNIX_EPOCH};

pub type FloatGauge = Gauge<f64, AtomicU64>;

/// Unix time in seconds, as last-success gauges hold it.
pub fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PipelineLabels {
    pub pipeline: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PipelineOutcomeLabels {
    pub pipeline: &'static str,
    pub outcome: Outcome,
}

/// The pipeline families of a service.
#[derive(Clone)]
pub struct PipelineMetrics {
    pub events: Family<PipelineOutcomeLabels, Counter>,
    pub last_success: Family<PipelineLabels, FloatGauge>,
    pub lag: Family<PipelineLabels, FloatGauge>,
}

impl PipelineMetrics {
    /// Registers `pipeline_events`, `pipeline_last_success_timestamp_seconds` and
    /// `pipeline_lag_seconds` in `registry`.
    pub fn register(registry: &mut Registry) -> Self {
        let m = PipelineMetrics {
            events: Family::default(),
            last_success: Family::default(),
            lag: Family::default(),
        };
        registry.register(
            "pipeline_events",
            "Events processed by background pipelines, by outcome (ok, error)",
            m.events.clone(),
        );
        registry.register_with_unit(
            "pipeline_last_success_timestamp",
            "Unix time of the last successful pipeline run",
            Unit::Seconds,
            m.last_success.clone(),
        );
        registry.register_with_unit(
            "pipeline_lag",
            "Age of the oldest unprocessed input of a pipeline",
            Unit::Seconds,
            m.lag.clone(),
        );
        m
    }

    /// One named pipeline.
    pub fn pipeline(&self, name: &'static str) -> Pipeline {
        Pipeline {
            metrics: self.clone(),
            name,
        }
    }
}

/// One named pipeline (usage aggregation, invoice runs).
#[derive(Clone)]
pub struct Pipeline {
    metrics: PipelineMetrics,
    name: &'static str,
}

impl Pipeline {
    /// Starts the event series at zero, for pipelines an SLO reads.
    pub fn initialise(&self) {
        for &outcome in Outcome::ALL {
            let _ = self.metrics.events.get_or_create(&PipelineOutcomeLabels {
                pipeline: self.name,
                outcome,
            });
        }
    }

    /// Counts `n` processed events; `ok` false counts them as errors.
    pub fn processed(&self, n: u64, ok: bool) {
        self.metrics
            .events
            .get_or_create(&PipelineOutcomeLabels {
                pipeline: self.name,
                outcome: Outcome::of(ok),
            })
            .inc_by(n);
    }

    /// Marks a successful run now.
    pub fn succeeded(&self) {
        self.metrics
            .last_success
            .get_or_create(&PipelineLabels {
                pipeline: self.name,
            })
            .set(unix_now());
    }

    /// Age in seconds of the oldest input not yet processed.
    pub fn lag(&self, seconds: f64) {
        self.metrics
            .lag
            .get_or_create(&PipelineLabels {
                pipeline: self.name,
            })
            .set(seconds);
    }
}
