//! The end-to-end scenarios, one binary so they run at once: each starts its own stack
//! (exporter, Prometheus, Alertmanager on free loopback ports) and mostly waits on it.

mod absent;
mod engines;
mod freshness;
mod inhibition;
mod payments;
mod victoriametrics;
