//! One promtool test file: its scenarios (input series and checks) written as YAML, and
//! the types and small notations the suites share.

use crate::names::{self, series};
use crate::rules::emit::scalar;
use slo_spec::names::format_duration;
use std::fmt::Write;
use std::time::Duration;

/// A scenario of the base series: bad and all events per second, and the SLI's input
/// count per group label set (`""` for one aggregate; empty: present throughout).
pub(super) struct BaseScenario {
    pub name: String,
    pub errors: String,
    pub events: String,
    pub inputs: Vec<(String, String)>,
    pub checks: Vec<Check>,
}

/// What a generated suite covers, for the report.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    pub scenarios: usize,
    pub checks: usize,
    /// (tier, burn rate multiple, expected detection) per "fires" scenario.
    pub detections: Vec<(String, String, Duration)>,
    /// Tiers that cannot fire because budget × burn rate exceeds 100% errors.
    pub unreachable: Vec<String>,
}

/// One scenario: input series and the checks made on them.
pub(super) struct Scenario {
    pub name: String,
    /// `(series, values)` in promtool's expanding notation.
    pub series: Vec<(String, String)>,
    pub checks: Vec<Check>,
}

pub(super) struct Check {
    pub expr: String,
    pub at: Duration,
    /// `None` expects no series at all.
    pub value: Option<f64>,
}

/// One promtool test file.
pub(super) struct TestFile {
    pub name: String,
    /// The rule file under test.
    pub rules: String,
    /// How often promtool evaluates the rules.
    pub step: Duration,
    /// How far apart the input samples are.
    pub input_interval: Duration,
    /// The groups in the order promtool evaluates them.
    pub groups: Vec<String>,
    pub scenarios: Vec<Scenario>,
}

impl TestFile {
    /// How many times promtool evaluates the rules: each scenario runs to its last check.
    pub fn evaluations(&self) -> u64 {
        let last = |s: &Scenario| s.checks.iter().map(|c| c.at).max().unwrap_or_default();
        self.scenarios
            .iter()
            .map(|s| steps(last(s), self.step) + 1)
            .sum()
    }

    pub fn write(&self) -> String {
        let mut t = String::new();
        let _ = writeln!(t, "rule_files:\n  - {}", self.rules);
        let _ = writeln!(t, "evaluation_interval: {}", format_duration(self.step));
        // Records first, then the windows built from them, then the alerts reading both.
        t.push_str("group_eval_order:\n");
        for g in &self.groups {
            let _ = writeln!(t, "  - {}", scalar(g));
        }
        t.push_str("tests:\n");
        for s in &self.scenarios {
            let _ = writeln!(t, "  - name: {}", scalar(&s.name));
            let _ = writeln!(t, "    interval: {}", format_duration(self.input_interval));
            t.push_str("    input_series:\n");
            for (name, values) in &s.series {
                let _ = writeln!(t, "      - series: {}", scalar(name));
                let _ = writeln!(t, "        values: {}", scalar(values));
            }
            t.push_str("    promql_expr_test:\n");
            for c in &s.checks {
                let _ = writeln!(t, "      - expr: {}", scalar(&c.expr));
                let _ = writeln!(t, "        eval_time: {}", format_duration(c.at));
                match c.value {
                    Some(v) => {
                        let _ = writeln!(
                            t,
                            "        exp_samples:\n          - labels: \"{{}}\"\n            value: {}",
                            num(v)
                        );
                    }
                    None => t.push_str("        exp_samples: []\n"),
                }
            }
        }
        t
    }
}

/// Steps of `step` that cover `d`.
pub(super) fn steps(d: Duration, step: Duration) -> u64 {
    d.as_secs().div_ceil(step.as_secs().max(1))
}

/// `v` repeated over `n` steps after the first sample, in promtool's expanding notation.
pub(super) fn repeat(v: f64, n: u64) -> String {
    format!("{}x{n}", num(v))
}

pub(super) fn num(v: f64) -> String {
    let s = format!("{v:?}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

/// The firing alerts of an SLO (of one tier, or of `tiers` as a regex), counted.
pub(super) fn alerts_count(alert: &str, svc: &str, slo: &str, tier: Option<&str>) -> String {
    format!("count({})", alerts(alert, svc, slo, tier))
}

/// The `ALERTS` series of an SLO's firing alerts (of one tier, or tiers matching a regex).
pub(super) fn alerts(alert: &str, svc: &str, slo: &str, tier: Option<&str>) -> String {
    let tier = tier
        .map(|t| format!(",{}=~\"{t}\"", names::TIER_LABEL))
        .unwrap_or_default();
    format!(
        "{}{{alertname=\"{alert}\",alertstate=\"firing\",service=\"{svc}\",slo=\"{slo}\"{tier}}}",
        series::ALERTS
    )
}

/// Eight evenly spaced step numbers up to `n`.
pub(super) fn checkpoints(n: u64) -> impl Iterator<Item = u64> {
    (1..=8u64).map(move |i| (n * i / 8).max(1))
}

pub fn round_secs(d: Duration) -> Duration {
    Duration::from_secs(d.as_secs_f64().round() as u64)
}
