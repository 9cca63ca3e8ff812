//! A deterministic synthetic history for every SLO of a spec set: what the README's
//! example and the backtest benchmark replay without a Prometheus. Traffic follows a
//! daily curve; errors burn the budget at 0.3x, with an hour-long spike at 30x every third
//! day, a 90-minute burn at 10x on the second day (under the page threshold at 99.9%, over
//! it at 99.95%), and a 10-hour burn at 2.5x on the fifth. Grouped SLOs get two groups,
//! the first one burning. It is base series only, as `backtest` fetches them.

use super::history::{Entry, History};
use super::{targets, Evaluation};
use crate::promapi::Series;
use slo_eval::{Millis, Timestamp};
use slo_spec::Service;
use std::collections::BTreeMap;

const MIN: Millis = 60_000;
const DAY: Millis = 1440 * MIN;

/// The budget burn rate at `t` ms after `from` (negative `t`: the warm-up, clean).
fn burn(t: Millis) -> f64 {
    if t < 0 {
        return 0.3;
    }
    let (day, in_day) = (t / DAY, t % DAY);
    if day % 3 == 0 && (14 * 60 * MIN..15 * 60 * MIN).contains(&in_day) {
        30.0
    } else if day == 1 && (9 * 60 * MIN..(10 * 60 + 30) * MIN).contains(&in_day) {
        10.0
    } else if day == 4 && (2 * 60 * MIN..12 * 60 * MIN).contains(&in_day) {
        2.5
    } else {
        0.3
    }
}

/// Events per second: 40 to 120 over the day.
fn traffic(t: Timestamp) -> f64 {
    let phase = (t.0.rem_euclid(DAY)) as f64 / DAY as f64 * std::f64::consts::TAU;
    80.0 - 40.0 * phase.cos()
}

fn group_values(label: &str) -> [&'static str; 2] {
    match label {
        "provider" => ["stripe", "adyen"],
        "target" => ["tax", "erp"],
        "region" => ["eu", "us"],
        _ => ["a", "b"],
    }
}

/// `days` of history ending at `to`, at each SLO's fast-group step, with the warm-up.
pub fn history(services: &[Service], to: Timestamp, days: i64) -> History {
    let from = to - days * DAY;
    let mut entries: Vec<Entry> = Vec::new();
    for t in targets(services) {
        let need = t.need(from, to, Evaluation::Groups);
        if entries
            .iter()
            .any(|e| e.queries == need.queries && e.step == need.step)
        {
            continue;
        }
        let budget = t.slo.objective.budget_decimal().to_f64();
        let end = to.floor(need.step);
        let groups: Vec<BTreeMap<String, String>> = match t.slo.group_by.first() {
            None => vec![BTreeMap::new()],
            Some(label) => group_values(label)
                .iter()
                .map(|v| {
                    t.slo
                        .group_by
                        .iter()
                        .map(|g| {
                            (
                                g.clone(),
                                if g == label {
                                    v.to_string()
                                } else {
                                    "x".into()
                                },
                            )
                        })
                        .collect()
                })
                .collect(),
        };
        let (mut events, mut errors, mut inputs) = (Vec::new(), Vec::new(), Vec::new());
        for (i, labels) in groups.into_iter().enumerate() {
            let (mut ev, mut er, mut inp) = (Vec::new(), Vec::new(), Vec::new());
            let mut at = need.start;
            while at <= end {
                let e = traffic(at);
                let b = if i == 0 { burn(at - from) } else { 0.3 };
                ev.push((at, e));
                er.push((at, (e * b * budget).min(e)));
                inp.push((at, 3.0));
                at += need.step;
            }
            let series = |samples| Series {
                labels: labels.clone(),
                samples,
            };
            events.push(series(ev));
            errors.push(series(er));
            if need.queries.inputs.is_some() {
                inputs.push(series(inp));
            }
        }
        entries.push(Entry {
            service: need.service,
            slo: need.slo,
            queries: need.queries,
            step: need.step,
            start: need.start,
            end,
            events,
            errors,
            inputs,
        });
    }
    History {
        prometheus: "synthetic".into(),
        from,
        to,
        entries,
    }
}
