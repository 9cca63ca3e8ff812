//! SLI instrumentation for the billing services, and the reference services themselves.
//!
//! The metric families are declared once ([`catalogue`]); their latency buckets come from
//! the thresholds of `slos/` at build time ([`buckets`]), so a latency SLI can never sit
//! between two buckets. [`layer`] records requests for axum routers; [`pipeline`] records
//! background work.

pub mod billing;
pub mod buckets;
pub mod catalogue;
pub mod layer;
pub mod pipeline;
pub mod trace;
