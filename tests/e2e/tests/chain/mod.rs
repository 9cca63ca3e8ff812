//! The chain scenarios: each starts its own stack (exporter, Prometheus, Alertmanager on
//! loopback ports it got from port 0 or probed free) and mostly waits on it.

mod absent;
mod drift;
mod engines;
mod freshness;
mod inhibition;
mod payments;
mod victoriametrics;
