//! The exporter's integration tests, one binary; each module holds one subject, `common`
//! the real binary's harness they share.

mod common;
mod credits;
mod faults;
mod hot_path;
mod http;
mod otlp;
