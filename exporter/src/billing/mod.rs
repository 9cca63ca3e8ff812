//! The reference billing services the instrumentation is built for: usage ingestion with
//! idempotency and durability, aggregation, rating and invoice runs, payment webhooks,
//! sync jobs, and the customer usage-and-cost API.

pub mod accounts;
pub mod api;
pub mod app;
pub mod catalogue;
pub mod commit;
pub mod credits;
pub mod faults;
pub mod handle;
pub mod ingest;
pub mod jobs;
pub mod rating;
pub mod store;
pub mod telemetry;
pub mod traffic;
