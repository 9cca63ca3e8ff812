//! How numbers read in what people see (reports, backtests, the web pages): one spelling
//! of a percentage and of a span of time everywhere.

use slo_eval::Millis;
use slo_spec::names::format_duration;
use std::time::Duration;

/// `99.900%` (with `decimals` places) for a ratio, or `missing` when there is none.
pub fn percent(x: Option<f64>, decimals: usize, missing: &str) -> String {
    x.map(|x| format!("{:.*}%", decimals, x * 100.0))
        .unwrap_or_else(|| missing.into())
}

/// `1h30m` for a span of milliseconds, rounded up to the second; `0s` for none.
pub fn span(ms: Millis) -> String {
    if ms <= 0 {
        return "0s".into();
    }
    format_duration(Duration::from_secs((ms as u64).div_ceil(1000)))
}
