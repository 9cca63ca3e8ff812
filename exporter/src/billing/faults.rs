//! Fault injection: error rates, latencies, panics and stalls per component, set at start with
//! `--fault NAME=VALUE` or at run time through the loopback admin listener.

use super::catalogue::SyncTarget;
use crate::instrument::labels::closed_set;
use std::collections::BTreeMap;
use std::sync::{Mutex, RwLock};
use std::time::Duration;

closed_set! {
    /// Every fault the services consult, so typos are refused instead of silently ignored.
    pub enum Fault {
        IngestErrorRate => "ingest.error_rate",
        IngestLatency => "ingest.latency",
        IngestPanic => "ingest.panic",
        PaymentsErrorRate => "payments.error_rate",
        PaymentsLatency => "payments.latency",
        PaymentsPanic => "payments.panic",
        UsageApiErrorRate => "usage_api.error_rate",
        UsageApiLatency => "usage_api.latency",
        UsageApiPanic => "usage_api.panic",
        AggregationErrorRate => "aggregation.error_rate",
        AggregationLatency => "aggregation.latency",
        AggregationStall => "aggregation.stall",
        RatingErrorRate => "rating.error_rate",
        InvoiceErrorRate => "invoice.error_rate",
        InvoiceStall => "invoice.stall",
        SyncTaxErrorRate => "sync.tax.error_rate",
        SyncTaxStall => "sync.tax.stall",
        SyncErpErrorRate => "sync.erp.error_rate",
        SyncErpStall => "sync.erp.stall",
        SyncCrmErrorRate => "sync.crm.error_rate",
        SyncCrmStall => "sync.crm.stall",
        SyncWarehouseErrorRate => "sync.warehouse.error_rate",
        SyncWarehouseStall => "sync.warehouse.stall",
        StoreEnospc => "store.enospc",
    }
}

impl Fault {
    /// Latency faults take a duration; every other fault a probability.
    pub fn is_latency(self) -> bool {
        self.as_str().ends_with(".latency")
    }

    /// The error-rate and stall faults of a sync target.
    pub fn sync(target: SyncTarget) -> (Fault, Fault) {
        match target {
            SyncTarget::Tax => (Fault::SyncTaxErrorRate, Fault::SyncTaxStall),
            SyncTarget::Erp => (Fault::SyncErpErrorRate, Fault::SyncErpStall),
            SyncTarget::Crm => (Fault::SyncCrmErrorRate, Fault::SyncCrmStall),
            SyncTarget::Warehouse => (Fault::SyncWarehouseErrorRate, Fault::SyncWarehouseStall),
        }
    }
}

/// The faults of one HTTP API: a delay, a share of 503s, a share of handler panics.
#[derive(Clone, Copy, Debug)]
pub struct ApiFaults {
    pub latency: Fault,
    pub error_rate: Fault,
    pub panic: Fault,
}

pub const INGEST: ApiFaults = ApiFaults {
    latency: Fault::IngestLatency,
    error_rate: Fault::IngestErrorRate,
    panic: Fault::IngestPanic,
};
pub const PAYMENTS: ApiFaults = ApiFaults {
    latency: Fault::PaymentsLatency,
    error_rate: Fault::PaymentsErrorRate,
    panic: Fault::PaymentsPanic,
};
pub const USAGE_API: ApiFaults = ApiFaults {
    latency: Fault::UsageApiLatency,
    error_rate: Fault::UsageApiErrorRate,
    panic: Fault::UsageApiPanic,
};

fn known() -> String {
    Fault::ALL
        .iter()
        .map(|f| f.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    /// A probability in [0, 1] (error rates; stalls are 0 or 1).
    Rate(f64),
    Latency(Duration),
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FaultError {
    #[error("unknown fault `{0}`; known faults: {known}", known = known())]
    Unknown(String),
    #[error("`{name}` needs {expected}, got `{value}`")]
    BadValue {
        name: String,
        expected: &'static str,
        value: String,
    },
    #[error("expected NAME=VALUE, got `{0}`")]
    Syntax(String),
}

/// Parses one fault's name and value.
pub fn parse(name: &str, value: &str) -> Result<(Fault, Value), FaultError> {
    let fault = Fault::parse(name).ok_or_else(|| FaultError::Unknown(name.to_string()))?;
    parse_value(fault, value).map(|v| (fault, v))
}

fn parse_value(fault: Fault, value: &str) -> Result<Value, FaultError> {
    let name = fault.as_str();
    let value = value.trim();
    if fault.is_latency() {
        return slo_spec::names::parse_duration(value)
            .map(Value::Latency)
            .map_err(|_| FaultError::BadValue {
                name: name.into(),
                expected: "a duration such as 500ms",
                value: value.into(),
            });
    }
    let on_off = match value {
        "on" => Some(1.0),
        "off" => Some(0.0),
        _ => None,
    };
    match on_off.map_or_else(|| value.parse::<f64>(), Ok) {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(Value::Rate(v)),
        _ => Err(FaultError::BadValue {
            name: name.into(),
            expected: "a number from 0 to 1 (or on, off)",
            value: value.into(),
        }),
    }
}

/// Parses `NAME=VALUE`.
pub fn parse_assignment(text: &str) -> Result<(Fault, Value), FaultError> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| FaultError::Syntax(text.into()))?;
    parse(name.trim(), value)
}

#[derive(Default, Debug)]
pub struct Faults {
    values: RwLock<BTreeMap<Fault, Value>>,
    /// Calls consulted per fault, for [`Faults::fails`].
    calls: Mutex<BTreeMap<Fault, u64>>,
}

impl Faults {
    pub fn set(&self, fault: Fault, value: Value) {
        self.values
            .write()
            .expect("faults lock")
            .insert(fault, value);
    }

    pub fn clear(&self, fault: Fault) -> bool {
        self.values
            .write()
            .expect("faults lock")
            .remove(&fault)
            .is_some()
    }

    pub fn clear_all(&self) {
        self.values.write().expect("faults lock").clear();
    }

    pub fn snapshot(&self) -> BTreeMap<String, String> {
        self.values
            .read()
            .expect("faults lock")
            .iter()
            .map(|(k, v)| {
                let text = match v {
                    Value::Rate(r) => r.to_string(),
                    Value::Latency(d) => format!("{}ms", d.as_millis()),
                };
                (k.as_str().to_string(), text)
            })
            .collect()
    }

    pub fn rate(&self, fault: Fault) -> f64 {
        match self.values.read().expect("faults lock").get(&fault) {
            Some(Value::Rate(r)) => *r,
            _ => 0.0,
        }
    }

    pub fn latency(&self, fault: Fault) -> Duration {
        match self.values.read().expect("faults lock").get(&fault) {
            Some(Value::Latency(d)) => *d,
            _ => Duration::ZERO,
        }
    }

    /// Whether this call should fail: exactly the fault's share of calls, spread evenly
    /// (the n-th fails when `n × rate` passes a whole number), so the error ratio of any
    /// span of calls is the rate, whichever calls a window of a test happens to hold.
    pub fn fails(&self, fault: Fault) -> bool {
        let rate = self.rate(fault);
        if rate <= 0.0 {
            return false;
        }
        let mut calls = self.calls.lock().expect("fault calls lock");
        let n = calls.entry(fault).or_default();
        *n += 1;
        (*n as f64 * rate).floor() > ((*n - 1) as f64 * rate).floor()
    }

    pub fn stalled(&self, fault: Fault) -> bool {
        self.rate(fault) >= 0.5
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_rates_fail_exactly_their_share_of_any_span_of_calls() {
        let f = Faults::default();
        for (rate, calls) in [(0.5, 10u32), (0.2, 100), (0.001, 5000), (1.0, 7), (0.0, 50)] {
            f.set(Fault::PaymentsErrorRate, Value::Rate(rate));
            let failed: Vec<bool> = (0..calls)
                .map(|_| f.fails(Fault::PaymentsErrorRate))
                .collect();
            let n = failed.iter().filter(|x| **x).count() as f64;
            assert!(
                (n - rate * f64::from(calls)).abs() <= 1.0,
                "{rate}: {n} of {calls}"
            );
            // Any run of 1/rate calls holds one failure, give or take the run's edges.
            if rate > 0.0 {
                let w = (1.0 / rate).round() as usize;
                for run in failed.windows(w) {
                    assert!(run.iter().filter(|x| **x).count() <= 2, "{rate}");
                }
            }
        }
        assert!(
            !f.fails(Fault::IngestErrorRate),
            "a fault not set never fails"
        );
    }

    #[test]
    fn parsing() {
        assert_eq!(
            parse_assignment("payments.error_rate=0.2"),
            Ok((Fault::PaymentsErrorRate, Value::Rate(0.2)))
        );
        assert_eq!(
            parse_assignment("ingest.latency=500ms"),
            Ok((
                Fault::IngestLatency,
                Value::Latency(Duration::from_millis(500))
            ))
        );
        assert!(matches!(
            parse_assignment("payment.error_rate=0.2"),
            Err(FaultError::Unknown(_))
        ));
        assert!(matches!(
            parse_assignment("payments.error_rate=2"),
            Err(FaultError::BadValue { .. })
        ));
        assert!(matches!(
            parse_assignment("ingest.latency=fast"),
            Err(FaultError::BadValue { .. })
        ));
        assert_eq!(
            parse_assignment("store.enospc=on"),
            Ok((Fault::StoreEnospc, Value::Rate(1.0)))
        );
        assert_eq!(
            parse_assignment("store.enospc=off"),
            Ok((Fault::StoreEnospc, Value::Rate(0.0)))
        );
        assert!(matches!(
            parse_assignment("nonsense"),
            Err(FaultError::Syntax(_))
        ));
    }
}
