//! The offline evaluator: what the generated rules of one SLO would have done over a
//! history of its base series, evaluation by evaluation.
//!
//! The semantics are the rules', in the same order (`slo_gen::rules` writes them from the
//! same [`Plan`]): base rates recorded at each evaluation; running totals of events and bad
//! events that add each rate times the time since the previous evaluation (the rules'
//! interval for the very first), from a group's first base sample (after an hour without
//! one, from the evaluation after: the resume group continues them); a window is the
//! total now less the total at the latest evaluation at or before its start (zero before
//! the totals began), the base
//! window the base rates themselves, no ratio without events; a tier is active when any of
//! its pairs has both windows above the threshold and `min_events` events in the long
//! window, and fires once it has been active for `for`; the missing-data alert is active
//! while the SLI has no input series (per group: while a group seen within the lookback
//! has none). Absent data is absent, never zero. Inside an exclusion the base rates
//! count zero and no alert is active (`slo_gen::rules::exclusions`).
//! Long: every rule's semantics in one file, read in the order the rule groups evaluate them.

use crate::plan::{Plan, REACH};
use crate::samples::{Cursor, Samples};
use crate::time::{millis, Millis, Timestamp};
use slo_spec::exclusion::{excluded, Exclusion};
use slo_spec::significance;
use slo_spec::{Slo, Tier};
use std::collections::BTreeMap;
use std::time::Duration;

/// The base series of one group of an SLO (the one aggregate when it is not grouped).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GroupHistory {
    /// The group labels' values; empty for an SLO without `group_by`.
    pub labels: BTreeMap<String, String>,
    /// Events per second at the base window (`slo:sli_events:rate<base>`).
    pub events: Samples,
    /// Bad events per second at the base window (`slo:sli_error_events:rate<base>`).
    pub errors: Samples,
    /// How many raw series the SLI reads (`slo:sli_inputs:count`).
    pub inputs: Samples,
}

/// When the rules are evaluated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// The first evaluation: `from` less the warm-up, so windows are full at `from`.
    pub start: Timestamp,
    /// Alerts that ended before this are not reported.
    pub from: Timestamp,
    /// The last evaluation.
    pub to: Timestamp,
    /// The interval of the rules (the base series' step).
    pub step: Millis,
}

impl Schedule {
    /// The rules' own interval, on a grid aligned to the Unix epoch, from `from` less the
    /// warm-up to `to`.
    pub fn of(plan: &Plan, from: Timestamp, to: Timestamp) -> Schedule {
        Schedule::every(plan, from, to, millis(plan.interval))
    }

    /// Every group at one interval, as `promtool test rules` evaluates them.
    pub fn uniform(plan: &Plan, from: Timestamp, to: Timestamp, interval: Duration) -> Schedule {
        Schedule::every(plan, from, to, millis(interval))
    }

    fn every(plan: &Plan, from: Timestamp, to: Timestamp, step: Millis) -> Schedule {
        let step = step.max(1);
        let from = from.floor(step);
        let to = to.floor(step);
        let start = (from - millis(warmup(plan))).floor(step);
        Schedule {
            start,
            from,
            to: to.max(from),
            step,
        }
    }

    /// The evaluation times, ascending.
    pub fn times(&self) -> impl Iterator<Item = Timestamp> {
        let Schedule {
            start, step, to, ..
        } = *self;
        (0..)
            .map(move |k| start + k * step)
            .take_while(move |t| *t <= to)
    }
}

/// How much history before `from` the alerts read: their longest window, or the
/// missing-data alert's lookback, whichever is longer.
pub fn warmup(plan: &Plan) -> Duration {
    let windows = plan
        .tiers
        .iter()
        .flat_map(|t| t.pairs.iter().map(|p| p.long + t.for_.unwrap_or_default()));
    let absent = plan.absent.iter().map(|a| a.lookback + a.for_);
    windows.chain(absent).max().unwrap_or(plan.base)
}

/// One firing of one alert: from the evaluation it fired at to the one it resolved at.
#[derive(Clone, Debug, PartialEq)]
pub struct Firing {
    pub tier: Tier,
    pub start: Timestamp,
    /// `None`: still firing at the last evaluation.
    pub end: Option<Timestamp>,
    /// The highest value of the alert's expression while it fired (the burn rate of the
    /// first pair that held); `None` for the missing-data alert.
    pub peak_burn_rate: Option<f64>,
}

impl Firing {
    /// How long it fired within `[from, to]` (still firing counts up to `to`).
    pub fn within(&self, from: Timestamp, to: Timestamp) -> Millis {
        (self.end.unwrap_or(to).min(to) - self.start.max(from)).max(0)
    }

    /// How many firings of `tier`, and how long they fired within `[from, to]`.
    pub fn tally<'a>(
        firings: impl IntoIterator<Item = &'a Firing>,
        tier: Tier,
        from: Timestamp,
        to: Timestamp,
    ) -> (usize, Millis) {
        firings
            .into_iter()
            .filter(|f| f.tier == tier)
            .fold((0, 0), |(n, t), f| (n + 1, t + f.within(from, to)))
    }
}

/// What the rules did for one group of an SLO.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GroupOutcome {
    pub labels: BTreeMap<String, String>,
    /// Firings that were active at or after `from`, by start time.
    pub firings: Vec<Firing>,
    /// The share of good events over the period ending at `to` (or since the history's
    /// first sample when it is shorter); `None` without events.
    pub attainment: Option<f64>,
    /// `1 - error ratio / budget` over the same window.
    pub budget_remaining: Option<f64>,
    /// Where that window starts.
    pub attainment_since: Option<Timestamp>,
    /// The share of the budget spent over the period when the first page fired in range.
    pub budget_consumed_at_first_page: Option<f64>,
}

/// The error ratio over `(from, to]`, with the time of its first sample.
pub fn error_ratio(g: &GroupHistory, from: Timestamp, to: Timestamp) -> Option<(f64, Timestamp)> {
    let (bad, n_bad) = g.errors.sum_between(from + 1, to);
    let (all, n_all) = g.events.sum_between(from + 1, to);
    let first = g.events.points().find(|p| p.0 > from)?.0;
    (n_bad > 0 && n_all > 0 && all > 0.0).then_some((bad / all, first))
}

/// The alerts one tier (or the missing-data alert) raised, as a state machine over the
/// evaluations: inactive, pending for `for`, firing.
struct AlertState {
    tier: Tier,
    hold: Millis,
    active_since: Option<Timestamp>,
    firing: Option<Firing>,
    done: Vec<Firing>,
}

impl AlertState {
    fn new(tier: Tier, hold: Duration) -> AlertState {
        AlertState {
            tier,
            hold: millis(hold),
            active_since: None,
            firing: None,
            done: Vec::new(),
        }
    }

    /// One evaluation at `t`: `value` is the expression's value, `None` when it returned
    /// nothing. `Some(NaN)` marks an active alert without a burn rate.
    fn step(&mut self, t: Timestamp, value: Option<f64>) {
        match value {
            None => {
                self.active_since = None;
                if let Some(mut f) = self.firing.take() {
                    f.end = Some(t);
                    self.done.push(f);
                }
            }
            Some(v) => {
                let since = *self.active_since.get_or_insert(t);
                let burn = (!v.is_nan()).then_some(v);
                match &mut self.firing {
                    Some(f) => {
                        f.peak_burn_rate = match (f.peak_burn_rate, burn) {
                            (Some(a), Some(b)) => Some(a.max(b)),
                            (a, b) => a.or(b),
                        }
                    }
                    None if t - since >= self.hold => {
                        self.firing = Some(Firing {
                            tier: self.tier,
                            start: t,
                            end: None,
                            peak_burn_rate: burn,
                        })
                    }
                    None => {}
                }
            }
        }
    }

    fn finish(mut self, from: Timestamp) -> Vec<Firing> {
        self.done.extend(self.firing.take());
        self.done.retain(|f| f.end.is_none_or(|e| e > from));
        self.done
    }
}

/// The running totals of one group as the rules record them: `(time, bad, all)` at each
/// evaluation that recorded them.
#[derive(Default)]
struct Totals {
    points: Vec<(Timestamp, f64, f64)>,
    /// Totals not seen within the probes' reach wait one evaluation for the resume group.
    resumable: bool,
}

impl Totals {
    /// One evaluation at `t`: adds the base rates times the time since the previous
    /// evaluation (`first`: the rules' interval, for the very first).
    fn step(&mut self, t: Timestamp, base: Option<(f64, f64)>, dt: Millis) {
        let Some((bad, all)) = base else { return };
        let reach = millis(REACH);
        let (prev_bad, prev_all) = match self.points.last() {
            None => (0.0, 0.0),
            Some(&(at, b, a)) if t - at <= reach || self.resumable => (b, a),
            Some(_) => {
                self.resumable = true;
                return;
            }
        };
        self.resumable = false;
        let dt = dt as f64 / 1000.0;
        self.points
            .push((t, prev_bad + bad * dt, prev_all + all * dt));
    }

    /// `(bad, all)` events over `(t - window, t]`: the totals now less the totals at the
    /// latest evaluation at or before the window's start (none before the first: zero).
    fn window(&self, t: Timestamp, window: Millis) -> Option<(f64, f64)> {
        let &(at, bad, all) = self.points.last()?;
        if at != t {
            return None;
        }
        let i = self.points.partition_point(|p| p.0 <= t - window);
        let (b0, a0) = i
            .checked_sub(1)
            .map(|j| (self.points[j].1, self.points[j].2))
            .unwrap_or((0.0, 0.0));
        Some((bad - b0, all - a0))
    }
}

/// A window pair as indices into the recorded windows: long, short, threshold, and its
/// low-traffic test.
type Pair = (usize, usize, f64, Option<Test>);

/// A pair's low-traffic test: the null hypothesis' share of errors and `z²`.
#[derive(Clone, Copy, Debug)]
struct Test {
    null_ratio: f64,
    z2: f64,
}

/// Replays the SLO's rules over its groups' histories.
pub fn evaluate(
    slo: &Slo,
    plan: &Plan,
    groups: &[GroupHistory],
    sched: &Schedule,
) -> Vec<GroupOutcome> {
    let zeroed: Vec<GroupHistory>;
    let groups = if slo.exclusions.is_empty() {
        groups
    } else {
        zeroed = groups
            .iter()
            .map(|g| zero_excluded(g, &slo.exclusions))
            .collect();
        &zeroed
    };
    let mut out: Vec<GroupOutcome> = groups
        .iter()
        .map(|g| evaluate_group(slo, plan, g, sched))
        .collect();
    if let Some(absent) = &plan.absent {
        if !slo.group_by.is_empty() {
            // `absent(...)` of a grouped SLO: no group has any input series.
            let mut state = AlertState::new(Tier::Absent, absent.for_);
            let mut cursors: Vec<Cursor> = vec![Cursor::default(); groups.len()];
            for t in sched.times() {
                let any = groups
                    .iter()
                    .zip(&mut cursors)
                    .any(|(g, c)| c.at(&g.inputs, t, sched.step).is_some());
                let active = !any && !excluded(&slo.exclusions, t.0);
                state.step(t, active.then_some(f64::NAN));
            }
            let firings = state.finish(sched.from);
            if !firings.is_empty() {
                out.push(GroupOutcome {
                    firings,
                    ..GroupOutcome::default()
                });
            }
        }
    }
    for o in &mut out {
        o.firings.sort_by_key(|f| (f.start, f.tier));
    }
    out
}

/// The group's base rates as the rules record them: zero at evaluations inside an
/// exclusion.
fn zero_excluded(g: &GroupHistory, exclusions: &[Exclusion]) -> GroupHistory {
    let zero = |s: &Samples| {
        Samples::new(
            s.points()
                .map(|(t, v)| (t, if excluded(exclusions, t.0) { 0.0 } else { v }))
                .collect(),
        )
    };
    GroupHistory {
        events: zero(&g.events),
        errors: zero(&g.errors),
        ..g.clone()
    }
}

// Long: the rules of one group in evaluation order, sharing the per-step state; split, the order would hide.
fn evaluate_group(slo: &Slo, plan: &Plan, g: &GroupHistory, sched: &Schedule) -> GroupOutcome {
    let budget = slo.objective.budget_decimal().to_f64();
    let base = millis(plan.base);
    let windows: Vec<Millis> = plan.windows.iter().map(|&w| millis(w)).collect();
    let index = |w: Duration| {
        windows
            .iter()
            .position(|&s| s == millis(w))
            .expect("every alert window is a recorded window")
    };
    // Per tier: (long, short, threshold, low-traffic test) per pair.
    let mut tiers: Vec<(AlertState, Vec<Pair>)> = plan
        .tiers
        .iter()
        .map(|t| {
            let pairs = t
                .pairs
                .iter()
                .map(|p| {
                    let test = t.z2.as_ref().map(|z2| Test {
                        null_ratio: slo
                            .objective
                            .budget_decimal()
                            .checked_mul(significance::null_burn(p.burn_rate))
                            .map(|d| d.to_f64())
                            .unwrap_or(budget),
                        z2: z2.parse().unwrap_or(0.0),
                    });
                    (index(p.long), index(p.short), p.burn_rate.to_f64(), test)
                })
                .collect();
            (AlertState::new(t.tier, t.for_.unwrap_or_default()), pairs)
        })
        .collect();
    let mut absent = plan
        .absent
        .as_ref()
        .map(|a| (AlertState::new(Tier::Absent, a.for_), millis(a.lookback)));
    let (mut at_errors, mut at_events, mut at_inputs) =
        (Cursor::default(), Cursor::default(), Cursor::default());
    let mut lookback = Cursor::default();
    let mut totals = Totals::default();
    // `(ratio, events, errors)` per window at the current evaluation.
    let mut counts: Vec<Option<(f64, f64, f64)>> = vec![None; windows.len()];

    for (k, t) in sched.times().enumerate() {
        let inside = excluded(&slo.exclusions, t.0);
        let bad = at_errors.at(&g.errors, t, sched.step);
        let all = at_events.at(&g.events, t, sched.step);
        let dt = if k == 0 {
            millis(plan.interval)
        } else {
            sched.step
        };
        totals.step(t, bad.zip(all), dt);
        for (i, &w) in windows.iter().enumerate() {
            // The base window's events: its rate times its length, as the rules count them.
            let (b, a) = if w == base {
                match (bad, all) {
                    (Some(b), Some(a)) => (b * w as f64 / 1000.0, a * w as f64 / 1000.0),
                    _ => {
                        counts[i] = None;
                        continue;
                    }
                }
            } else {
                match totals.window(t, w) {
                    Some(ba) => ba,
                    None => {
                        counts[i] = None;
                        continue;
                    }
                }
            };
            counts[i] = (a > 0.0).then(|| (b / a, a, b));
        }
        for (state, pairs) in &mut tiers {
            let value = pairs.iter().find_map(|&(long, short, burn, test)| {
                let (l, events, errors) = counts[long]?;
                let (s, _, _) = counts[short]?;
                let (l, s) = (l / budget, s / budget);
                if !(l > burn && s > burn) {
                    return None;
                }
                if let Some(n) = slo.alerting.min_events {
                    if events < n as f64 {
                        return None;
                    }
                }
                if let Some(t) = test {
                    // As the rule computes it, operation by operation.
                    let mean = events * t.null_ratio;
                    let g = 2.0 * (errors * (errors / mean).ln() - (errors - mean));
                    // NaN (no errors) fails the test, as PromQL's `>` does.
                    if g.partial_cmp(&t.z2) != Some(std::cmp::Ordering::Greater) {
                        return None;
                    }
                }
                Some(l)
            });
            state.step(t, value.filter(|_| !inside));
        }
        if let Some((state, lookback_ms)) = &mut absent {
            let now = at_inputs.at(&g.inputs, t, sched.step);
            let active = if slo.group_by.is_empty() {
                now.is_none()
            } else {
                // `last_over_time(inputs[lookback]) unless inputs`.
                let (_, seen) = lookback.window(&g.inputs, t, *lookback_ms);
                seen > 0 && now.is_none()
            };
            state.step(t, (active && !inside).then_some(f64::NAN));
        }
    }

    let mut firings: Vec<Firing> = Vec::new();
    for (state, _) in tiers {
        firings.extend(state.finish(sched.from));
    }
    if let Some((state, _)) = absent {
        firings.extend(state.finish(sched.from));
    }
    let period = millis(plan.period);
    let first_page = firings
        .iter()
        .filter(|f| f.tier == Tier::Page && f.start >= sched.from)
        .map(|f| f.start)
        .min();
    let budget_consumed_at_first_page = first_page
        .and_then(|t| error_ratio(g, t - period, t))
        .map(|(r, _)| r / budget);
    let at_to = error_ratio(g, sched.to - period, sched.to);
    GroupOutcome {
        labels: g.labels.clone(),
        firings,
        attainment: at_to.map(|(r, _)| 1.0 - r),
        budget_remaining: at_to.map(|(r, _)| 1.0 - r / budget),
        attainment_since: at_to.map(|(_, since)| since),
        budget_consumed_at_first_page,
    }
}
