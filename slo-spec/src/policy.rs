//! The default multi-window, multi-burn-rate policy (Google SRE Workbook, "Alerting on
//! SLOs"), scaled to each SLO's period so a 28d or 12h period gets proportionate windows,
//! and raised where that would put a window below what the scrape interval can see. The
//! loader fills it in wherever a spec gives no windows, so every backend reads the same
//! resolved windows from the model.

use crate::decimal::Decimal;
use crate::model::{Tier, WindowPair};
use std::time::Duration;

/// The default policy of a tier as (long window = period / divisor, burn rate). The short
/// window is a twelfth of the long one. For 30d these are the workbook's 1h/6h pages and
/// 1d/3d tickets, spending 2%, 5%, 10% and 10% of the budget when they fire. The
/// missing-data alert has no pairs.
pub fn default_table(tier: Tier) -> &'static [(u64, &'static str)] {
    match tier {
        Tier::Page => &[(720, "14.4"), (120, "6")],
        Tier::Ticket => &[(30, "3"), (10, "1")],
        Tier::Absent => &[],
    }
}

/// The short window of a default pair is the long one divided by this.
pub const SHORT_DIVISOR: u64 = 12;

/// Raw series are read over this many scrape intervals: fewer leave `rate` with one
/// sample, or none, and the SLO blind (Prometheus's own advice is four).
pub const RAW_RANGE_SCRAPES: u32 = 4;

/// The shortest window any SLO scraped every `scrape` can have: the raw range the rules
/// read ([`RAW_RANGE_SCRAPES`] scrapes). Every window is built from rates over it, so a
/// shorter one would only pretend to be shorter.
pub fn floor(scrape: Duration) -> Duration {
    scrape * RAW_RANGE_SCRAPES
}

/// The default window pairs of `tier` for a period, at a scrape interval: scaled from the
/// period, then raised to the [`floor`] where they fall below it (a 1d period's 10s page
/// window becomes 4m at a 1m scrape).
pub fn default_pairs(tier: Tier, period: Duration, scrape: Duration) -> Vec<WindowPair> {
    let floor = floor(scrape);
    default_table(tier)
        .iter()
        .map(|(divisor, burn)| {
            let long = whole_seconds(period.as_secs_f64() / *divisor as f64).max(floor);
            let short = whole_seconds(long.as_secs_f64() / SHORT_DIVISOR as f64).max(floor);
            WindowPair {
                long,
                short,
                burn_rate: Decimal::parse(burn).expect("policy constants are decimals"),
            }
        })
        .collect()
}

/// The fastest default page's threshold (14.4): the line displays draw for an SLO whose
/// own tiers say nothing (alerts off).
pub fn fastest_page_burn() -> Decimal {
    Decimal::parse(default_table(Tier::Page)[0].1).expect("policy constants are decimals")
}

/// The fastest default page's long window for a period (1h for 30d): the window whose
/// burn rate is shown as "current".
pub fn current_window(period: Duration, scrape: Duration) -> Duration {
    default_pairs(Tier::Page, period, scrape)[0].long
}

/// Rounds to whole seconds, at least one: Prometheus prints and parses these exactly.
pub fn whole_seconds(secs: f64) -> Duration {
    Duration::from_secs((secs.round() as u64).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::format_duration as text;

    const MINUTE: Duration = Duration::from_secs(60);

    fn pairs(period_days: u64, tier: Tier) -> Vec<String> {
        default_pairs(tier, Duration::from_secs(period_days * 86400), MINUTE)
            .iter()
            .map(|p| format!("{}/{}@{}", text(p.long), text(p.short), p.burn_rate))
            .collect()
    }

    #[test]
    fn workbook_table_for_30d() {
        assert_eq!(pairs(30, Tier::Page), ["1h/5m@14.4", "6h/30m@6"]);
        assert_eq!(pairs(30, Tier::Ticket), ["1d/2h@3", "3d/6h@1"]);
        assert_eq!(fastest_page_burn().to_string(), "14.4");
    }

    #[test]
    fn windows_scale_with_the_period() {
        assert_eq!(pairs(28, Tier::Page), ["56m/4m40s@14.4", "5h36m/28m@6"]);
        let half_day = default_pairs(
            Tier::Page,
            Duration::from_secs(12 * 3600),
            Duration::from_secs(1),
        );
        assert_eq!(text(half_day[0].long), "1m");
        assert_eq!(text(half_day[0].short), "5s");
    }

    #[test]
    fn windows_below_four_scrapes_are_raised() {
        // 1d at a 1m scrape: 2m/10s and 12m/1m pages become 4m/4m and 12m/4m.
        assert_eq!(pairs(1, Tier::Page), ["4m/4m@14.4", "12m/4m@6"]);
        assert_eq!(pairs(1, Tier::Ticket), ["48m/4m@3", "2h24m/12m@1"]);
        let half_day = Duration::from_secs(12 * 3600);
        let at_15s = default_pairs(Tier::Page, half_day, Duration::from_secs(15));
        assert_eq!(
            (text(at_15s[0].long), text(at_15s[0].short)),
            ("1m".into(), "1m".into())
        );
        for days in [1, 7, 28, 30, 90, 366] {
            for scrape in [10, 15, 30, 60, 120] {
                let floor = floor(Duration::from_secs(scrape));
                for tier in Tier::BURN_RATE {
                    let period = Duration::from_secs(days * 86400);
                    for p in default_pairs(tier, period, Duration::from_secs(scrape)) {
                        assert!(p.short >= floor && p.long >= p.short, "{days}d {scrape}s");
                    }
                }
            }
        }
    }

    #[test]
    fn budget_consumed_when_firing_is_period_independent() {
        for days in [7, 28, 30, 90] {
            let period = Duration::from_secs(days * 86400);
            for (tier, fractions) in [(Tier::Page, [0.02, 0.05]), (Tier::Ticket, [0.1, 0.1])] {
                for (pair, want) in default_pairs(tier, period, MINUTE).iter().zip(fractions) {
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
