//! Fault injection: error rates, latencies and stalls per component, set at start with
//! `--fault NAME=VALUE` or at run time through the loopback admin listener.

use std::collections::BTreeMap;
use std::sync::RwLock;
use std::time::Duration;

/// Every fault the services consult, so typos are refused instead of silently ignored.
pub const KNOWN: &[&str] = &[
    "ingest.error_rate",
    "ingest.latency",
    "payments.error_rate",
    "payments.latency",
    "usage_api.error_rate",
    "usage_api.latency",
    "aggregation.error_rate",
    "aggregation.stall",
    "rating.error_rate",
    "invoice.error_rate",
    "invoice.stall",
    "sync.tax.error_rate",
    "sync.tax.stall",
    "sync.erp.error_rate",
    "sync.erp.stall",
    "sync.crm.error_rate",
    "sync.crm.stall",
    "sync.warehouse.error_rate",
    "sync.warehouse.stall",
];

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    /// A probability in [0, 1] (error rates; stalls are 0 or 1).
    Rate(f64),
    Latency(Duration),
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FaultError {
    #[error("unknown fault `{0}`; known faults: {known}", known = KNOWN.join(", "))]
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

/// Parses one fault value for `name`.
pub fn parse(name: &str, value: &str) -> Result<Value, FaultError> {
    if !KNOWN.contains(&name) {
        return Err(FaultError::Unknown(name.to_string()));
    }
    let value = value.trim();
    if name.ends_with(".latency") {
        return slo_spec::names::parse_duration(value)
            .map(Value::Latency)
            .map_err(|_| FaultError::BadValue {
                name: name.into(),
                expected: "a duration such as 500ms",
                value: value.into(),
            });
    }
    match value.parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(Value::Rate(v)),
        _ => Err(FaultError::BadValue {
            name: name.into(),
            expected: "a number from 0 to 1",
            value: value.into(),
        }),
    }
}

/// Parses `NAME=VALUE`.
pub fn parse_assignment(text: &str) -> Result<(String, Value), FaultError> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| FaultError::Syntax(text.into()))?;
    let name = name.trim();
    Ok((name.to_string(), parse(name, value)?))
}

#[derive(Default, Debug)]
pub struct Faults {
    values: RwLock<BTreeMap<String, Value>>,
}

impl Faults {
    pub fn set(&self, name: &str, value: Value) {
        self.values
            .write()
            .expect("faults lock")
            .insert(name.to_string(), value);
    }

    pub fn clear(&self, name: &str) -> bool {
        self.values
            .write()
            .expect("faults lock")
            .remove(name)
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
                (k.clone(), text)
            })
            .collect()
    }

    pub fn rate(&self, name: &str) -> f64 {
        match self.values.read().expect("faults lock").get(name) {
            Some(Value::Rate(r)) => *r,
            _ => 0.0,
        }
    }

    pub fn latency(&self, name: &str) -> Duration {
        match self.values.read().expect("faults lock").get(name) {
            Some(Value::Latency(d)) => *d,
            _ => Duration::ZERO,
        }
    }

    /// Whether this call should fail, drawn at the fault's rate.
    pub fn fails(&self, name: &str) -> bool {
        let rate = self.rate(name);
        rate > 0.0 && rand::random::<f64>() < rate
    }

    pub fn stalled(&self, name: &str) -> bool {
        self.rate(name) >= 0.5
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing() {
        assert_eq!(
            parse_assignment("payments.error_rate=0.2"),
            Ok(("payments.error_rate".into(), Value::Rate(0.2)))
        );
        assert_eq!(
            parse_assignment("ingest.latency=500ms"),
            Ok((
                "ingest.latency".into(),
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
        assert!(matches!(
            parse_assignment("nonsense"),
            Err(FaultError::Syntax(_))
        ));
    }
}
