//! Synthetic requests for low-traffic studies: arrivals at random (a Poisson process),
//! each failing with a fixed probability or all of them inside outages, counted by two
//! counters scraped at the SLO's interval, and turned into the base series exactly as
//! Prometheus' `rate()` computes them over the base window (extrapolated to the window's
//! edges, never past the counter's zero). Deterministic for a seed (splitmix64), so the
//! README's figures can be reproduced.

use slo_eval::{GroupHistory, Millis, Plan, Samples, Timestamp};

/// The traffic of one simulated service.
#[derive(Clone, Debug)]
pub struct Traffic {
    pub per_hour: f64,
    /// The probability that a request fails outside the outages.
    pub error_share: f64,
    /// Every request inside one of these fails.
    pub outages: Vec<(Timestamp, Timestamp)>,
    pub seed: u64,
    /// Requests evenly spaced (`per_hour` of them an hour, to the millisecond) instead of
    /// at random.
    pub even: bool,
}

/// splitmix64: a uniform number in [0, 1).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A Poisson count of mean `mean` (inversion; the means here are small).
    fn poisson(&mut self, mean: f64) -> u64 {
        let (mut k, mut p, mut sum) = (0u64, (-mean).exp(), (-mean).exp());
        let u = self.next();
        while u > sum && k < 10_000 {
            k += 1;
            p *= mean / k as f64;
            sum += p;
        }
        k
    }
}

/// The base series of `traffic` from `from` to `to` for the SLO of `plan`: events and
/// errors per second at the base window, at every scrape.
pub fn history(plan: &Plan, traffic: &Traffic, from: Timestamp, to: Timestamp) -> GroupHistory {
    history_with(plan, traffic, from, to, |_| true)
}

/// [`history`] with requests failing at `traffic.error_share` only where `failing` holds
/// (a burst of errors in otherwise clean traffic).
pub fn history_with(
    plan: &Plan,
    traffic: &Traffic,
    from: Timestamp,
    to: Timestamp,
    failing: impl Fn(Timestamp) -> bool,
) -> GroupHistory {
    let scrape = plan.scrape.as_millis() as Millis;
    let mut rng = Rng(traffic.seed);
    let mean = traffic.per_hour * scrape as f64 / 3_600_000.0;
    // Counters at every scrape.
    let (mut events, mut errors) = (0.0, 0.0);
    let mut counters: Vec<(Timestamp, f64, f64)> = Vec::new();
    let mut t = from;
    let mut due = 0.0;
    while t <= to {
        let n = if traffic.even {
            due += mean;
            let n = due.floor();
            due -= n;
            n as u64
        } else {
            rng.poisson(mean)
        };
        let down = traffic.outages.iter().any(|(a, b)| *a < t && t <= *b);
        let share = if failing(t) { traffic.error_share } else { 0.0 };
        for _ in 0..n {
            events += 1.0;
            // One draw per request whatever the share, so the arrivals do not depend on it.
            let u = rng.next();
            if down || u < share {
                errors += 1.0;
            }
        }
        counters.push((t, events, errors));
        t += scrape;
    }
    // The base rates at every evaluation of the rules (their interval may be shorter than
    // the scrape), each over the samples inside `(t - base, t]`.
    let (base, step) = (
        plan.base.as_millis() as Millis,
        plan.interval.as_millis() as Millis,
    );
    let (mut ev, mut er, mut inputs) = (Vec::new(), Vec::new(), Vec::new());
    let (mut lo, mut hi) = (0, 0);
    let mut t = from + base;
    while t <= to {
        while hi < counters.len() && counters[hi].0 <= t {
            hi += 1;
        }
        while lo < hi && counters[lo].0 <= t - base {
            lo += 1;
        }
        if hi - lo >= 2 {
            let window = &counters[lo..hi];
            ev.push((t, rate(window, (t, base as f64), |c| c.1)));
            er.push((t, rate(window, (t, base as f64), |c| c.2)));
            inputs.push((t, 1.0));
        }
        t += step;
    }
    GroupHistory {
        events: Samples::new(ev),
        errors: Samples::new(er),
        inputs: Samples::new(inputs),
        ..GroupHistory::default()
    }
}

/// Prometheus' `rate()` over the samples of one window of `range` ms ending at `end`:
/// the increase, extrapolated to each edge when the sample nearest it is within 1.1
/// average intervals (else by half an interval), never before the counter's zero; per
/// second.
fn rate(
    window: &[(Timestamp, f64, f64)],
    (end, range): (Timestamp, f64),
    value: impl Fn(&(Timestamp, f64, f64)) -> f64,
) -> f64 {
    let (first, last) = (&window[0], &window[window.len() - 1]);
    let increase = value(last) - value(first);
    let sampled = (last.0 - first.0) as f64;
    if sampled <= 0.0 {
        return 0.0;
    }
    let average = sampled / (window.len() - 1) as f64;
    let mut to_start = (first.0 - (end - range as i64)) as f64;
    if increase > 0.0 && value(first) >= 0.0 {
        to_start = to_start.min(sampled * value(first) / increase);
    }
    let to_end = (end - last.0) as f64;
    let edge = |d: f64| if d < average * 1.1 { d } else { average / 2.0 };
    increase * (sampled + edge(to_start) + edge(to_end)) / sampled / (range / 1000.0)
}
