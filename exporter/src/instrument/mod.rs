//! Generic SLI instrumentation, with no knowledge of the billing services: request
//! metrics over a closed route table ([`http`]) recorded by a tower layer ([`layer`]),
//! pipeline metrics ([`pipeline`]), trace ids as exemplars ([`trace`]), latency buckets
//! that hold every threshold of the specs ([`buckets`]) and closed label sets
//! ([`labels`]).
//!
//! Architecture invariant: nothing here imports `crate::billing`.

pub mod buckets;
pub mod http;
pub mod labels;
pub mod layer;
pub mod pipeline;
pub mod trace;
