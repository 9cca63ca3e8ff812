//! The evaluation plan of one SLO: the one raw range (four scrapes), the windows recorded
//! as error ratios, the interval the rules run at, how far the running totals reach back
//! over a gap, and the alert tiers with their resolved window pairs and detection times.
//!
//! The rules keep a running total of events and of bad events: each evaluation adds the
//! base rate times the time since the previous evaluation. A window is then the total now
//! less the total at the window's start, two samples whatever the window's length.

use slo_spec::significance;
use slo_spec::{policy, Slo, Tier, WindowPair};
use std::collections::BTreeSet;
use std::time::Duration;

/// No rule group runs more often than the scrape interval, nor less often than this.
pub const MAX_INTERVAL: Duration = Duration::from_secs(30);

/// How far back a total looks for the previous one: it carries on exactly over a gap up
/// to an hour (a Prometheus restart, an upgrade), and a window's start is found inside
/// one (from the five-minute checkpoints).
pub const REACH: Duration = Duration::from_secs(3600);

/// How often the rules copy the totals into a checkpoint (and once a day into a daily
/// one), and how often the resume group runs: where totals continue after a gap longer
/// than the probes reach.
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(300);
pub const DAY: Duration = Duration::from_secs(86_400);

/// How far the resume group reads the five-minute checkpoints; older gaps resume from the
/// daily ones.
pub const CHECKPOINT_LOOKBACK: Duration = DAY;

/// One alert tier as it will be generated.
#[derive(Clone, Debug)]
pub struct TierPlan {
    pub tier: Tier,
    pub pairs: Vec<WindowPair>,
    pub for_: Option<Duration>,
    /// `z²` of the low-traffic test ([`slo_spec::significance`]) as the rules print it;
    /// `None` for time-slice SLIs (freshness, raw), whose "events" are seconds.
    pub z2: Option<String>,
}

impl TierPlan {
    /// Events the long window of `pair` must hold for errors at exactly its threshold to
    /// pass the low-traffic test (0 without it).
    pub fn events_to_pass(&self, pair: &WindowPair, budget: f64) -> f64 {
        match &self.z2 {
            None => 0.0,
            Some(z2) => significance::events_to_pass(
                budget,
                pair.burn_rate.to_f64(),
                significance::null_burn(pair.burn_rate).to_f64(),
                z2.parse().unwrap_or(0.0),
            ),
        }
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
    /// How often the SLI's raw series are scraped (the spec's `scrape_interval`).
    pub scrape: Duration,
    /// The only range raw series are read over: four scrapes. Every window is at least
    /// this long.
    pub base: Duration,
    /// Every window recorded as an error ratio, ascending (includes base and period).
    pub windows: Vec<Duration>,
    /// The interval of the recording and alerting groups: the scrape interval, at most
    /// [`MAX_INTERVAL`].
    pub interval: Duration,
    /// The tiers that alert (not disabled), page first.
    pub tiers: Vec<TierPlan>,
    /// The window whose burn rate is shown as "current".
    pub current: Duration,
    /// The missing-data alert; `None` when it (or all alerting) is disabled.
    pub absent: Option<AbsentPlan>,
    /// How far back the resume group reads the daily checkpoints: the longest window
    /// (or calendar period) and a day.
    pub daily_lookback: Duration,
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

    /// When window `w` first holds more than a share `q` of bad events after every event
    /// turned bad, under steady traffic. The base rate ramps up over [`Plan::base`], so a
    /// window summed from it lags the raw window by half the base (by the square root of
    /// `2 x base x q x w` while the ramp is still climbing); the base window itself is the
    /// ramp.
    pub fn crossing(&self, w: Duration, q: f64) -> Duration {
        let (b, w) = (self.base.as_secs_f64(), w.as_secs_f64());
        let t = if w <= b {
            q * b
        } else if q * w <= b / 2.0 {
            (2.0 * b * q * w).sqrt()
        } else {
            q * w + b / 2.0
        };
        Duration::from_secs_f64(t)
    }

    /// When a tier fires after the error ratio steps up to `burn` times the budget, under
    /// steady traffic, not counting when the step is first scraped and evaluated (see
    /// [`Plan::latency`]): the first pair whose windows both cross its threshold, plus
    /// `for`. `None` when the burn is at or below every threshold.
    pub fn detection(&self, tier: &TierPlan, burn: f64) -> Option<Duration> {
        tier.pairs
            .iter()
            .filter(|p| p.burn_rate.to_f64() < burn)
            .map(|p| {
                let q = p.burn_rate.to_f64() / burn;
                self.crossing(p.long, q).max(self.crossing(p.short, q))
            })
            .min()
            .map(|d| d + tier.for_.unwrap_or_default())
    }

    /// Events per second at which neither `min_events` nor the low-traffic test keeps any
    /// pair from firing at its threshold, with a tenfold margin; at least ten: the traffic
    /// of the generated tests that must fire.
    pub fn firing_rate(&self, slo: &Slo) -> f64 {
        let budget = slo.objective.budget_decimal().to_f64();
        self.tiers
            .iter()
            .flat_map(|t| t.pairs.iter().map(move |p| (t, p)))
            .map(|(t, p)| {
                let need = t
                    .events_to_pass(p, budget)
                    .max(slo.alerting.min_events.unwrap_or(0) as f64);
                (10.0 * need / p.long.as_secs_f64()).ceil()
            })
            .fold(10.0, f64::max)
    }

    /// What the schedule adds to any detection at worst: the first scrape that sees the
    /// change, and the evaluation after it.
    pub fn latency(&self) -> Duration {
        self.scrape + self.interval
    }
}

pub fn plan(slo: &Slo) -> Plan {
    let period = slo.period.duration;
    let scrape = slo.scrape_interval.duration;
    let a = &slo.alerting;
    let tiers: Vec<TierPlan> = Tier::BURN_RATE
        .into_iter()
        .filter(|_| !a.disabled)
        .filter_map(|tier| Some((tier, a.tier(tier)?)))
        .filter(|(_, policy)| !policy.disabled)
        .map(|(tier, policy)| TierPlan {
            tier,
            pairs: policy.windows.clone(),
            for_: policy.for_.as_ref().map(|w| w.duration),
            z2: slo
                .sli
                .counts_events()
                .then(|| significance::z2_text(&policy.confidence)),
        })
        .collect();
    let base = policy::floor(scrape);
    // Dashboards show the default windows even when alerts are off or overridden.
    let mut windows: BTreeSet<Duration> = Tier::BURN_RATE
        .into_iter()
        .flat_map(|t| policy::default_pairs(t, period, scrape))
        .chain(tiers.iter().flat_map(|t| t.pairs.iter().cloned()))
        .flat_map(|p| [p.long, p.short])
        .collect();
    windows.insert(period);
    windows.insert(base);
    let interval = scrape.min(MAX_INTERVAL);
    // The fastest page pair: the spec's page windows, or the default policy's.
    let page = a
        .page
        .windows
        .iter()
        .min_by_key(|p| p.long)
        .cloned()
        .unwrap_or_else(|| policy::default_pairs(Tier::Page, period, scrape)[0].clone());
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
    let longest = windows.iter().max().copied().unwrap_or(period);
    let calendar = slo
        .calendar()
        .map(|_| period + period / 10)
        .unwrap_or_default();
    Plan {
        period,
        scrape,
        base,
        windows: windows.into_iter().collect(),
        interval,
        tiers,
        current: policy::current_window(period, scrape),
        absent,
        daily_lookback: longest.max(calendar) + DAY,
    }
}
