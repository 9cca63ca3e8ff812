//! slo-spec's integration tests, one binary; each module holds one subject.

mod calendar;
mod exclusions;
mod openslo;
mod peer_formats;
mod rules;
mod schema;
mod sla;
mod sloth_conformance;
mod support;
