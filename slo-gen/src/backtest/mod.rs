//! `backtest`: what the generated alerts would have done over a history of the base
//! series. [`history`] fetches and saves that history; [`replay`] runs `slo_eval`'s
//! evaluator per SLO and group and names each firing as the rules name it; [`compare`]
//! diffs two replays (a spec change) and scores one against known incidents; [`render`]
//! writes text, JSON or Markdown.

pub mod arrivals;
pub mod compare;
pub mod history;
pub mod render;
pub mod synthetic;

use crate::rules::alerts;
use crate::rules::sli::{source_queries, BaseQueries, Source};
use history::{History, Need};
use slo_eval::{evaluate, Firing, Millis, Plan, Schedule, Timestamp};
use slo_spec::Tier;
use slo_spec::{Service, Slo};
use std::collections::BTreeMap;
use std::time::Duration;

/// How the rule groups are evaluated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Evaluation {
    /// Each group at its own interval, as Prometheus runs the generated rules.
    Groups,
    /// Every group at one interval, as `promtool test rules` does.
    Every(Duration),
}

/// One SLO with what its rules need.
pub struct Target<'a> {
    pub service: &'a Service,
    pub slo: &'a Slo,
    pub plan: Plan,
    pub queries: BaseQueries,
}

impl Target<'_> {
    pub fn schedule(&self, from: Timestamp, to: Timestamp, evaluation: Evaluation) -> Schedule {
        match evaluation {
            Evaluation::Groups => Schedule::of(&self.plan, from, to),
            Evaluation::Every(d) => Schedule::uniform(&self.plan, from, to, d),
        }
    }

    pub fn need(&self, from: Timestamp, to: Timestamp, evaluation: Evaluation) -> Need {
        let s = self.schedule(from, to, evaluation);
        Need {
            service: self.service.name.clone(),
            slo: self.slo.name.clone(),
            queries: self.queries.clone(),
            step: s.step,
            start: s.start,
        }
    }
}

pub fn targets(services: &[Service]) -> Vec<Target<'_>> {
    targets_from(services, Source::Raw)
}

/// The targets, their base series read from `source`.
pub fn targets_from(services: &[Service], source: Source) -> Vec<Target<'_>> {
    services
        .iter()
        .flat_map(|svc| {
            svc.slos.iter().map(move |slo| {
                let plan = slo_eval::plan(slo);
                let queries = source_queries(source, &svc.name, slo, &plan);
                Target {
                    service: svc,
                    slo,
                    plan,
                    queries,
                }
            })
        })
        .collect()
}

/// One firing of one alert, named as the rules name it.
#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    pub alert: String,
    pub severity: String,
    pub firing: Firing,
}

/// One SLO (one group of it) over the backtest.
#[derive(Clone, Debug, PartialEq)]
pub struct SloResult {
    pub service: String,
    pub slo: String,
    pub objective: String,
    pub group: BTreeMap<String, String>,
    pub alerts: Vec<Alert>,
    pub attainment: Option<f64>,
    pub attainment_since: Option<Timestamp>,
    pub budget_remaining: Option<f64>,
    pub budget_consumed_at_first_page: Option<f64>,
    /// Pages and tickets the rules before the low-traffic test raise on the same history
    /// (`None` for SLIs without the test).
    pub without_low_traffic_test: Option<(usize, usize)>,
}

impl SloResult {
    pub fn count(&self, tier: Tier) -> usize {
        self.alerts.iter().filter(|a| a.firing.tier == tier).count()
    }

    /// Time firing within `[from, to]`.
    pub fn firing(&self, tier: Tier, from: Timestamp, to: Timestamp) -> Millis {
        Firing::tally(self.alerts.iter().map(|a| &a.firing), tier, from, to).1
    }

    /// `service/slo` and the group when there is one.
    pub fn name(&self) -> String {
        crate::names::slo_display(&self.service, &self.slo, &self.group)
    }
}

/// A whole replay.
#[derive(Clone, Debug, PartialEq)]
pub struct Backtest {
    pub from: Timestamp,
    pub to: Timestamp,
    pub slos: Vec<SloResult>,
}

/// An SLO the history holds nothing for.
#[derive(Debug, thiserror::Error)]
#[error("the history has no series for {service}/{slo} as these specs query it (at {step}s steps); it was fetched for other queries: fetch it again with --prometheus")]
pub struct NotInHistory {
    pub service: String,
    pub slo: String,
    pub step: f64,
}

/// The outcomes of the rules as they were before the low-traffic test, for comparison;
/// `None` when no tier of the SLO has the test.
fn before_low_traffic_test(
    t: &Target<'_>,
    groups: &[slo_eval::GroupHistory],
    sched: &Schedule,
) -> Option<Vec<slo_eval::GroupOutcome>> {
    t.plan.tiers.iter().any(|tier| tier.z2.is_some()).then(|| {
        let mut plan = t.plan.clone();
        for tier in &mut plan.tiers {
            tier.z2 = None;
        }
        evaluate(t.slo, &plan, groups, sched)
    })
}

/// Replays every target over the history.
pub fn replay(
    targets: &[Target<'_>],
    history: &History,
    evaluation: Evaluation,
) -> Result<Backtest, NotInHistory> {
    let mut slos = Vec::new();
    for t in targets {
        let sched = t.schedule(history.from, history.to, evaluation);
        let entry = history
            .find(&t.queries, sched.step)
            .ok_or_else(|| NotInHistory {
                service: t.service.name.clone(),
                slo: t.slo.name.clone(),
                step: sched.step as f64 / 1000.0,
            })?;
        let groups = entry.groups(&t.slo.group_by);
        let before = before_low_traffic_test(t, &groups, &sched);
        for outcome in evaluate(t.slo, &t.plan, &groups, &sched) {
            let without_low_traffic_test = before.as_ref().map(|b| {
                let count = |tier| {
                    b.iter()
                        .filter(|o| o.labels == outcome.labels)
                        .flat_map(|o| &o.firings)
                        .filter(|f| f.tier == tier)
                        .count()
                };
                (count(Tier::Page), count(Tier::Ticket))
            });
            slos.push(SloResult {
                service: t.service.name.clone(),
                slo: t.slo.name.clone(),
                objective: t.slo.objective.text.clone(),
                group: outcome.labels,
                alerts: outcome
                    .firings
                    .into_iter()
                    .map(|firing| Alert {
                        alert: alerts::name(t.slo, firing.tier),
                        severity: alerts::severity(t.slo, firing.tier),
                        firing,
                    })
                    .collect(),
                attainment: outcome.attainment,
                attainment_since: outcome.attainment_since,
                budget_remaining: outcome.budget_remaining,
                budget_consumed_at_first_page: outcome.budget_consumed_at_first_page,
                without_low_traffic_test,
            });
        }
    }
    Ok(Backtest {
        from: history.from,
        to: history.to,
        slos,
    })
}
