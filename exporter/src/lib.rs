//! SLI instrumentation for the billing services. Metric families are shared with the
//! specs: the latency histogram's buckets come from the thresholds the specs declare, so
//! a latency SLI can never sit between two buckets.

pub mod buckets;
