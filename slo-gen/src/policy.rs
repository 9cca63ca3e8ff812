//! Burn-rate policy maths (Google SRE Workbook, "Alerting on SLOs"), scaled to each SLO's
//! period so a 28d or 12h period gets proportionate windows, and the evaluation plan the
//! rules follow: which windows to record, the base window raw series are read at, and
//! the intervals of the rule groups.

use slo_spec::decimal::Decimal;
use slo_spec::{Slo, Tier, WindowPair};
use std::collections::BTreeSet;
use std::time::Duration;

/// Raw series are never read over a longer range than this.
pub const MAX_RAW_RANGE: Duration = Duration::from_secs(30 * 60);

/// The default policy as (long window = period / divisor, burn rate). The short window is
/// a twelfth of the long one. For 30d these are the workbook's 1h/6h pages and 1d/3d tickets,
/// spending 2%, 5%, 10% and 10% of the budget when they fire.
pub const DEFAULT_PAGE: &[(u64, &str)] = &[(720, "14.4"), (120, "6")];
pub const DEFAULT_TICKET: &[(u64, &str)] = &[(30, "3"), (10, "1")];

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Page,
    Ticket,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Page => "page",
            Severity::Ticket => "ticket",
        }
    }
}

/// One alert tier as it will be generated.
#[derive(Clone, Debug)]
pub struct TierPlan {
    pub severity: Severity,
    pub pairs: Vec<WindowPair>,
    pub for_: Option<Duration>,
}

/// Everything the rules of one SLO need to know about windows.
#[derive(Clone, Debug)]
pub struct Plan {
    pub period: Duration,
    /// The window raw series are read at; every other window is built from it.
    pub base: Duration,
    /// Every window recorded as an error ratio, ascending (includes base and period).
    pub windows: Vec<Duration>,
    /// Windows up to this one are recorded by the fast group; longer ones by the slow group.
    pub fast_limit: Duration,
    pub fast_interval: Duration,
    pub slow_interval: Duration,
    pub tiers: Vec<TierPlan>,
    /// The window whose burn rate is shown as "current".
    pub current: Duration,
}

fn default_pairs(period: Duration, table: &[(u64, &str)]) -> Vec<WindowPair> {
    table
        .iter()
        .map(|(divisor, burn)| {
            let long = whole_seconds(period.as_secs_f64() / *divisor as f64);
            let short = whole_seconds(long.as_secs_f64() / 12.0);
            WindowPair {
                long,
                short,
                burn_rate: Decimal::parse(burn).expect("policy constants are decimals"),
            }
        })
        .collect()
}

fn whole_seconds(secs: f64) -> Duration {
    Duration::from_secs((secs.round() as u64).max(1))
}

fn tier(severity: Severity, t: &Tier, period: Duration, table: &[(u64, &str)]) -> Option<TierPlan> {
    if t.disabled {
        return None;
    }
    Some(TierPlan {
        severity,
        pairs: t
            .windows
            .clone()
            .unwrap_or_else(|| default_pairs(period, table)),
        for_: t.for_.as_ref().map(|w| w.duration),
    })
}

pub fn plan(slo: &Slo) -> Plan {
    let period = slo.period.duration;
    let a = &slo.alerting;
    let tiers: Vec<TierPlan> = if a.disabled {
        Vec::new()
    } else {
        [
            tier(Severity::Page, &a.page, period, DEFAULT_PAGE),
            tier(Severity::Ticket, &a.ticket, period, DEFAULT_TICKET),
        ]
        .into_iter()
        .flatten()
        .collect()
    };
    // Dashboards show the default windows even when alerts are off or overridden.
    let mut windows: BTreeSet<Duration> = default_pairs(period, DEFAULT_PAGE)
        .iter()
        .chain(&default_pairs(period, DEFAULT_TICKET))
        .chain(tiers.iter().flat_map(|t| &t.pairs))
        .flat_map(|p| [p.long, p.short])
        .collect();
    windows.insert(period);
    let smallest = *windows
        .iter()
        .next()
        .expect("the period is always a window");
    let base = smallest.min(MAX_RAW_RANGE);
    windows.insert(base);
    let fast_interval = whole_seconds((base.as_secs_f64() / 10.0).min(30.0));
    let slow_interval = (fast_interval * 4).min(Duration::from_secs(120));
    let fast_limit = whole_seconds(period.as_secs_f64() / 120.0);
    let current = default_pairs(period, DEFAULT_PAGE)[0].long;
    Plan {
        period,
        base,
        windows: windows.into_iter().collect(),
        fast_limit,
        fast_interval,
        slow_interval,
        tiers,
        current,
    }
}

/// Prometheus duration text: `5m`, `1h`, `4w`, `4m40s`.
pub fn text(d: Duration) -> String {
    promql_parser::util::display_duration(&d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(period_days: u64, table: &[(u64, &str)]) -> Vec<String> {
        default_pairs(Duration::from_secs(period_days * 86400), table)
            .iter()
            .map(|p| format!("{}/{}@{}", text(p.long), text(p.short), p.burn_rate))
            .collect()
    }

    #[test]
    fn workbook_table_for_30d() {
        assert_eq!(pairs(30, DEFAULT_PAGE), ["1h/5m@14.4", "6h/30m@6"]);
        assert_eq!(pairs(30, DEFAULT_TICKET), ["1d/2h@3", "3d/6h@1"]);
    }

    #[test]
    fn windows_scale_with_the_period() {
        assert_eq!(pairs(28, DEFAULT_PAGE), ["56m/4m40s@14.4", "5h36m/28m@6"]);
        let half_day = default_pairs(Duration::from_secs(12 * 3600), DEFAULT_PAGE);
        assert_eq!(text(half_day[0].long), "1m");
        assert_eq!(text(half_day[0].short), "5s");
    }

    #[test]
    fn budget_consumed_when_firing_is_period_independent() {
        for days in [1, 7, 28, 30, 90] {
            let period = Duration::from_secs(days * 86400);
            for (table, fractions) in [(DEFAULT_PAGE, [0.02, 0.05]), (DEFAULT_TICKET, [0.1, 0.1])] {
                for (pair, want) in default_pairs(period, table).iter().zip(fractions) {
                    let consumed =
                        pair.burn_rate.to_f64() * pair.long.as_secs_f64() / period.as_secs_f64();
                    assert!(
                        (consumed - want).abs() < 1e-3,
                        "{days}d: {consumed} vs {want}"
                    );
                }
            }
        }
    }
}
