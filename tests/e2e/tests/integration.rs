//! The end-to-end tests, one binary so they run at once: each starts its own stack
//! (exporter, Prometheus, Alertmanager, VictoriaMetrics on loopback) and mostly waits on it.

mod alone;
mod backtest;
mod chain;
mod demo;
mod report;
mod serve;
