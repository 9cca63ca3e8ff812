//! The evaluation plan of one SLO: the windows recorded as error ratios, the base window
//! raw series are read at (every other window is built from it), the intervals of the
//! rule groups, and the alert tiers with their resolved window pairs.

use slo_spec::{policy, Slo, Tier, WindowPair};
use std::collections::BTreeSet;
use std::time::Duration;

/// Raw series are never read over a longer range than this.
pub const MAX_RAW_RANGE: Duration = Duration::from_secs(30 * 60);

/// The fast group runs at most this often apart, the slow one at most this.
const MAX_FAST_INTERVAL: Duration = Duration::from_secs(30);
const MAX_SLOW_INTERVAL: Duration = Duration::from_secs(120);

/// One alert tier as it will be generated.
#[derive(Clone, Debug)]
pub struct TierPlan {
    pub tier: Tier,
    pub pairs: Vec<WindowPair>,
    pub for_: Option<Duration>,
}

impl TierPlan {
    /// When the tier fires under a constant burn after a clean history: the first pair
    /// whose long window crosses its threshold (the short one crosses earlier), plus `for`.
    /// `None` when the burn is at or below every threshold.
    pub fn detection(&self, burn: f64) -> Option<Duration> {
        self.pairs
            .iter()
            .filter(|p| p.burn_rate.to_f64() < burn)
            .map(|p| Duration::from_secs_f64(p.long.as_secs_f64() * p.burn_rate.to_f64() / burn))
            .min()
            .map(|d| d + self.for_.unwrap_or_default())
    }

    /// The highest threshold of the tier.
    pub fn highest_burn(&self) -> f64 {
        self.pairs
            .iter()
            .map(|p| p.burn_rate.to_f64())
            .fold(f64::NAN, f64::max)
    }
}

/// The missing-data alert of an SLO.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AbsentPlan {
    /// How long the SLI's raw series must be absent before the alert fires.
    pub for_: Duration,
    /// How far back a group counts as one that should be there (grouped SLOs): `for_`
    /// plus the fastest page's long window, so a vanished group fires before it is
    /// forgotten.
    pub lookback: Duration,
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
    /// The tiers that alert (not disabled), page first.
    pub tiers: Vec<TierPlan>,
    /// The window whose burn rate is shown as "current".
    pub current: Duration,
    /// The missing-data alert; `None` when it (or all alerting) is disabled.
    pub absent: Option<AbsentPlan>,
}

impl Plan {
    /// The line displays draw for "pages above": the highest threshold of any tier, or the
    /// default policy's fastest page when alerts are off.
    pub fn page_line(&self) -> f64 {
        let highest = self
            .tiers
            .iter()
            .map(TierPlan::highest_burn)
            .fold(f64::NAN, f64::max);
        if highest.is_nan() {
            policy::fastest_page_burn().to_f64()
        } else {
            highest
        }
    }
}

pub fn plan(slo: &Slo) -> Plan {
    let period = slo.period.duration;
    let a = &slo.alerting;
    let tiers: Vec<TierPlan> = Tier::ALL
        .into_iter()
        .filter(|_| !a.disabled)
        .filter(|t| !a.tier(*t).disabled)
        .map(|tier| TierPlan {
            tier,
            pairs: a.tier(tier).windows.clone(),
            for_: a.tier(tier).for_.as_ref().map(|w| w.duration),
        })
        .collect();
    // Dashboards show the default windows even when alerts are off or overridden.
    let mut windows: BTreeSet<Duration> = Tier::ALL
        .into_iter()
        .flat_map(|t| policy::default_pairs(t, period))
        .chain(tiers.iter().flat_map(|t| t.pairs.iter().cloned()))
        .flat_map(|p| [p.long, p.short])
        .collect();
    windows.insert(period);
    let smallest = *windows
        .iter()
        .next()
        .expect("the period is always a window");
    let base = smallest.min(MAX_RAW_RANGE);
    windows.insert(base);
    let fast_interval =
        policy::whole_seconds((base.as_secs_f64() / 10.0).min(MAX_FAST_INTERVAL.as_secs_f64()));
    let slow_interval = (fast_interval * 4).min(MAX_SLOW_INTERVAL);
    let fast_limit = policy::whole_seconds(period.as_secs_f64() / 120.0);
    // The fastest page pair: the spec's page windows, or the default policy's.
    let page = a
        .page
        .windows
        .iter()
        .min_by_key(|p| p.long)
        .cloned()
        .unwrap_or_else(|| policy::default_pairs(Tier::Page, period)[0].clone());
    let absent = (!a.disabled && !a.absent.disabled).then(|| {
        let for_ = a
            .absent
            .for_
            .as_ref()
            .map(|w| w.duration)
            .unwrap_or_else(|| page.short.max(base));
        AbsentPlan {
            for_,
            lookback: for_ + page.long,
        }
    });
    Plan {
        period,
        base,
        windows: windows.into_iter().collect(),
        fast_limit,
        fast_interval,
        slow_interval,
        tiers,
        current: policy::current_window(period),
        absent,
    }
}
