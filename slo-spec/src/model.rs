//! The validated, normalised model every backend consumes. It holds no YAML types: all
//! three spec formats (v1, Sloth `prometheus/v1`, OpenSLO v1) lower into it, and it is
//! fully resolved (default alert windows are filled in), so every backend reads the same
//! windows.

use crate::decimal::Decimal;
use crate::diagnostic::Span;
use std::collections::BTreeMap;
use std::time::Duration;

pub type Labels = BTreeMap<String, String>;

/// Which spec language a service was written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    V1,
    /// Sloth's `version: prometheus/v1` files.
    SlothV1,
    /// Sloth's Kubernetes CRD (`sloth.slok.dev/v1` `PrometheusServiceLevel`): the same body
    /// with camelCase names.
    SlothK8s,
    /// Pyrra's `pyrra.dev/v1alpha1` `ServiceLevelObjective`.
    Pyrra,
    OpenSloV1,
    /// OpenSLO `v1alpha`, the version Sloth reads.
    OpenSloV1Alpha,
}

impl Format {
    /// The format as messages name it.
    pub fn describe(self) -> &'static str {
        match self {
            Format::V1 => "v1 spec",
            Format::SlothV1 => "Sloth prometheus/v1 spec",
            Format::SlothK8s => "Sloth PrometheusServiceLevel",
            Format::Pyrra => "Pyrra ServiceLevelObjective",
            Format::OpenSloV1 => "OpenSLO v1 SLO",
            Format::OpenSloV1Alpha => "OpenSLO v1alpha SLO",
        }
    }

    /// Formats with one SLO per document: documents naming the same service, in any
    /// files, form one service.
    pub fn one_slo_per_document(self) -> bool {
        matches!(
            self,
            Format::Pyrra | Format::OpenSloV1 | Format::OpenSloV1Alpha
        )
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Service {
    pub file: String,
    pub format: Format,
    pub name: String,
    /// Where `service:` was declared, for cross-file diagnostics.
    pub span: Span,
    pub owner: Option<String>,
    pub labels: Labels,
    pub slos: Vec<Slo>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Slo {
    pub name: String,
    pub span: Span,
    pub description: String,
    pub objective: Objective,
    /// The period the objective holds over: rolling, or aligned to the calendar (see
    /// [`Slo::calendar`]; then `duration` is the nominal length).
    pub period: Window,
    /// How often Prometheus scrapes the series the SLI reads (`scrape_interval`, default
    /// `1m`, Prometheus's own default). Raw series are never read over less than four of
    /// them, so no window of the plan is shorter than that (see [`crate::policy::floor`]).
    pub scrape_interval: Window,
    /// SLO-level labels (Sloth has them; v1 puts labels on the file and the alerts).
    pub labels: Labels,
    /// Label names the SLO is split by: one SLO (ratio, budget, alerts) per combination of
    /// their values. Empty: one aggregate SLO.
    pub group_by: Vec<String>,
    pub sli: Sli,
    pub alerting: Alerting,
    /// The contract with customers over each period: credits when attainment falls short.
    pub sla: Option<Sla>,
    /// Time that counts neither good nor bad: the file's exclusions, then the SLO's own
    /// (checked not to overlap).
    pub exclusions: Vec<crate::exclusion::Exclusion>,
    /// When a deploy pipeline must stop (`slo-gen gate`); `None`: the gate's default.
    pub deploy_gate: Option<DeployGate>,
    /// Events per second the SLO usually sees, as the spec says (`expected_rate`).
    pub expected_rate: Option<f64>,
}

/// A deploy gate: ship only while at least `min_budget` percent of the error budget is
/// left. Exact decimal, as written.
#[derive(Clone, Debug, PartialEq)]
pub struct DeployGate {
    pub min_budget: crate::decimal::Decimal,
    pub text: String,
}

pub use crate::credits::{CreditTier, Sla};

impl Slo {
    /// The calendar period, when the period is one (`period: calendar-month`).
    pub fn calendar(&self) -> Option<Calendar> {
        Calendar::parse(&self.period.text)
    }
}

/// The objective in percent, kept with the text the user wrote so generated files print
/// `99.9`, never float noise.
#[derive(Clone, Debug, PartialEq)]
pub struct Objective {
    pub percent: f64,
    pub text: String,
    pub span: Span,
}

impl Objective {
    /// The objective as an exact decimal ratio (`99.9` -> `0.999`).
    pub fn ratio_decimal(&self) -> Decimal {
        Decimal::parse(&self.text)
            .or_else(|| Decimal::from_f64(self.percent))
            .and_then(|d| d.shift(2))
            .unwrap_or(Decimal::ONE)
    }

    /// The error budget as an exact decimal ratio (`99.9` -> `0.001`).
    pub fn budget_decimal(&self) -> Decimal {
        Decimal::ONE
            .checked_sub(self.ratio_decimal())
            .unwrap_or(Decimal::ONE)
    }

    /// The objective as a ratio (`99.9` -> `0.999`).
    pub fn ratio(&self) -> f64 {
        self.percent / 100.0
    }

    /// The error budget as a ratio of events (`99.9` -> `0.001`).
    pub fn error_budget(&self) -> f64 {
        (100.0 - self.percent) / 100.0
    }
}

pub const DEFAULT_PERIOD_TEXT: &str = "30d";
/// Prometheus's default `scrape_interval`.
pub const DEFAULT_SCRAPE_INTERVAL_TEXT: &str = "1m";

/// A period aligned to the calendar (UTC; ISO weeks start on Monday): what customers are
/// billed and credited on. Written `calendar-week`, `calendar-month`, `calendar-quarter`;
/// the period's `duration` is the nominal length alert windows scale from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Calendar {
    Week,
    Month,
    Quarter,
}

impl Calendar {
    pub const ALL: [Calendar; 3] = [Calendar::Week, Calendar::Month, Calendar::Quarter];

    pub fn as_str(self) -> &'static str {
        match self {
            Calendar::Week => "calendar-week",
            Calendar::Month => "calendar-month",
            Calendar::Quarter => "calendar-quarter",
        }
    }

    pub fn parse(text: &str) -> Option<Calendar> {
        Calendar::ALL.into_iter().find(|c| c.as_str() == text)
    }

    /// 7d, 30d, 90d: the length alert windows scale from.
    pub fn nominal(self) -> std::time::Duration {
        let days = match self {
            Calendar::Week => 7,
            Calendar::Month => 30,
            Calendar::Quarter => 90,
        };
        std::time::Duration::from_secs(days * 86_400)
    }
}

/// A PromQL expression with a `{{window}}` placeholder (Sloth's `{{.window}}` is
/// normalised to this spelling).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowQuery {
    pub template: String,
    /// Whether the query is a plain `sum(...)` (no `by`/`without`), so the rules use it
    /// as one aggregate without wrapping it again.
    pub plain_sum: bool,
    /// Its distinct vector selectors, `name{matchers}` without ranges or offsets, in
    /// order: what the missing-data alert counts.
    pub selectors: Vec<String>,
}

impl WindowQuery {
    pub const PLACEHOLDER: &'static str = "{{window}}";

    /// The query for one window, e.g. `render("5m")`.
    pub fn render(&self, window: &str) -> String {
        self.template.replace(Self::PLACEHOLDER, window)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Sli {
    Ratio(RatioSli),
    Latency(LatencySli),
    Freshness(FreshnessSli),
    Raw(RawSli),
}

impl Sli {
    /// Whether the SLI counts events (requests, jobs) rather than slices of time: only
    /// events are tested for significance at low traffic.
    pub fn counts_events(&self) -> bool {
        matches!(self, Sli::Ratio(_) | Sli::Latency(_))
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Sli::Ratio(_) => "ratio",
            Sli::Latency(_) => "latency",
            Sli::Freshness(_) => "freshness",
            Sli::Raw(_) => "raw",
        }
    }
}

/// Which events the numerator counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Numerator {
    Errors(WindowQuery),
    Good(WindowQuery),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RatioSli {
    pub numerator: Numerator,
    pub total: WindowQuery,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LatencySli {
    /// Histogram base name: `<histogram>_bucket` and `<histogram>_count` are read.
    pub histogram: String,
    /// Label matchers without braces, e.g. `route="/v1/usage",method="POST"`; may be empty.
    pub matchers: String,
    pub threshold: Duration,
    pub threshold_text: String,
}

impl LatencySli {
    /// The `le` label value of the bucket that counts good events, as Prometheus client
    /// libraries print bucket bounds (`0.3`, `1`, `2.5`).
    pub fn le(&self) -> String {
        seconds_text(self.threshold)
    }
}

/// What a freshness SLI's gauge holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FreshnessGauge {
    /// The unix time (seconds) of the last success (`metric:`): the data is `time() - value`
    /// old. Right for jobs whose success is the freshness.
    LastSuccess,
    /// How old the data is, in seconds (`age:`), e.g. the age of the oldest input not yet
    /// visible to users. Right where a job can succeed and still fall behind.
    Age,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FreshnessSli {
    pub gauge: FreshnessGauge,
    /// The gauge's metric name.
    pub metric: String,
    pub matchers: String,
    pub max_age: Duration,
    pub max_age_text: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawSli {
    pub error_ratio: WindowQuery,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Alerting {
    pub name: String,
    pub disabled: bool,
    /// Events in a tier's long window below which the tier cannot fire.
    pub min_events: Option<u64>,
    /// Labels whose top values by errors a burn alert's notification lists (an account,
    /// a route): who is burning the budget. Empty: none.
    pub breakdown: Vec<String>,
    pub labels: Labels,
    pub annotations: Labels,
    pub page: TierPolicy,
    pub ticket: TierPolicy,
    /// The missing-data alert.
    pub absent: AbsentPolicy,
}

/// The alert that fires when the raw series an SLI reads have been absent for `for_`:
/// without it an SLO goes quiet exactly when its data is gone.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct AbsentPolicy {
    pub disabled: bool,
    /// `None`: derived from the policy (the fastest page's short window, at least the
    /// base window).
    pub for_: Option<Window>,
    /// The `severity` label (default `ticket`).
    pub severity: String,
    pub labels: Labels,
    pub annotations: Labels,
}

impl Alerting {
    /// The policy of a burn-rate tier; `None` for [`Tier::Absent`], which has its own
    /// [`AbsentPolicy`] and no window pairs.
    pub fn tier(&self, tier: Tier) -> Option<&TierPolicy> {
        match tier {
            Tier::Page => Some(&self.page),
            Tier::Ticket => Some(&self.ticket),
            Tier::Absent => None,
        }
    }
}

/// The alerts an SLO's rules raise, as their `slo_tier` label names them: the two tiers of
/// the multi-window burn-rate policy (the spec's `page` and `ticket`) and the missing-data
/// alert. Every crate ranks, names and parses tiers through this one type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    Page,
    Ticket,
    Absent,
}

impl Tier {
    pub const ALL: [Tier; 3] = [Tier::Page, Tier::Ticket, Tier::Absent];
    /// The tiers with window pairs and burn-rate thresholds.
    pub const BURN_RATE: [Tier; 2] = [Tier::Page, Tier::Ticket];

    /// The `slo_tier` label's value (and the spec's key of a burn-rate tier).
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Page => "page",
            Tier::Ticket => "ticket",
            Tier::Absent => "absent",
        }
    }

    /// The tier a `slo_tier` label names, if any.
    pub fn from_label(label: &str) -> Option<Tier> {
        Self::ALL.into_iter().find(|t| t.as_str() == label)
    }

    /// How urgent: a page over a ticket over missing data.
    pub fn severity(self) -> u8 {
        match self {
            Tier::Page => 3,
            Tier::Ticket => 2,
            Tier::Absent => 1,
        }
    }
}

/// One tier as resolved for an SLO: the spec's settings over the file's defaults over the
/// default policy.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct TierPolicy {
    pub disabled: bool,
    pub labels: Labels,
    pub annotations: Labels,
    /// How long the condition must hold before the alert fires (Prometheus `for`).
    pub for_: Option<Window>,
    /// The window pairs, never empty: the spec's, or the default policy for the period.
    pub windows: Vec<WindowPair>,
    /// How sure the low-traffic test must be before the tier fires (event SLIs).
    pub confidence: crate::significance::Confidence,
}

/// A duration with the text it was written as (`30d`, `5m`), so generated files print
/// what the user wrote. Periods, `for` and windows are all of this type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    pub duration: Duration,
    pub text: String,
}

/// One multi-window condition: both windows burn faster than `burn_rate`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowPair {
    pub long: Duration,
    pub short: Duration,
    pub burn_rate: Decimal,
}

/// Seconds as the shortest decimal text (`300ms` -> `0.3`, `2s` -> `2`).
pub fn seconds_text(d: Duration) -> String {
    let nanos = d.as_nanos();
    let whole = nanos / 1_000_000_000;
    let frac = nanos % 1_000_000_000;
    if frac == 0 {
        return whole.to_string();
    }
    let digits = format!("{frac:09}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_printed_like_client_libraries() {
        for (ms, want) in [
            (300, "0.3"),
            (2000, "2"),
            (2500, "2.5"),
            (5, "0.005"),
            (60_000, "60"),
        ] {
            assert_eq!(seconds_text(Duration::from_millis(ms)), want);
        }
    }

    #[test]
    fn window_queries_render() {
        let q = WindowQuery {
            template: "sum(rate(a[{{window}}])) / sum(rate(b[{{window}}]))".into(),
            plain_sum: false,
            selectors: vec!["a{}".into(), "b{}".into()],
        };
        assert_eq!(q.render("5m"), "sum(rate(a[5m])) / sum(rate(b[5m]))");
    }
}
