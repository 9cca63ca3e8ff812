//! SLI instrumentation ([`instrument`]) and the reference billing services it instruments
//! ([`billing`]).
//!
//! The billing metric families are declared once (`billing::catalogue`); their latency
//! buckets come from the thresholds of `slos/` at build time (`instrument::buckets`), so
//! a latency SLI can never sit between two buckets.

pub mod billing;
pub mod instrument;
