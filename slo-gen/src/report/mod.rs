//! `report`: what each SLO delivered over a range (a calendar month, typically): events,
//! bad events, attainment against the objective, budget spent, pages and tickets from
//! `ALERTS`, the longest incident, and the SLA credit owed. [`render`] writes Markdown,
//! JSON and HTML; [`svg`] draws the budget over the range with the alerts under it.
//!
//! Counts are exact over the range: ratio and latency SLIs are read from their counters
//! over exactly `[from, to]` (the SLI's own queries with the range as the window, times its
//! length); freshness and raw SLIs, which have no counters, sum their time slices at the
//! rules' step. An SLO without events in the range is "no data", never 100%.
//!
//! Excluded time is left out of the counts as if the raw counters had not moved in it:
//! the range is cut into the parts outside every exclusion and each part read on its own,
//! so an exclusion added after a month closed changes that month's report the same way.
//! Each row shows the excluded minutes by reason and the coverage: the share of the range
//! the SLI's series were scraped in (time without data counts neither good nor bad).

mod excluded;
mod read;
pub mod render;
pub mod replayed;
pub mod statements;
pub mod svg;

use crate::backtest::history::rfc3339;
use crate::names::series;
use crate::promapi::{ApiError, Client};
use crate::rules::sli::{self, Source};
use excluded::{coverage, excluded};
use read::{counts, curves, Read};
use slo_eval::{Firing, Millis, Timestamp};
use slo_spec::decimal::Decimal;
use slo_spec::Tier;
use slo_spec::{Service, Slo};
use std::collections::BTreeMap;
use std::time::Duration;

/// The range reported on, `[from, to)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Range {
    pub from: Timestamp,
    pub to: Timestamp,
    /// `2026-10`, or `from → to`.
    pub label: String,
}

impl Range {
    /// A calendar month in UTC: from its first day to the next month's, its true length.
    pub fn month(text: &str) -> Result<Range, String> {
        let date: jiff::civil::Date = format!("{text}-01")
            .parse()
            .map_err(|_| format!("`{text}` is not a month: write YYYY-MM, e.g. 2026-10"))?;
        let next = date
            .checked_add(jiff::Span::new().months(1))
            .map_err(|e| e.to_string())?;
        let at = |d: jiff::civil::Date| {
            d.to_zoned(jiff::tz::TimeZone::UTC)
                .map(|z| Timestamp(z.timestamp().as_millisecond()))
                .map_err(|e| e.to_string())
        };
        Ok(Range {
            from: at(date)?,
            to: at(next)?,
            label: text.to_string(),
        })
    }

    pub fn between(from: Timestamp, to: Timestamp) -> Range {
        Range {
            from,
            to,
            label: format!("{} → {}", rfc3339(from), rfc3339(to)),
        }
    }

    pub fn duration(&self) -> Duration {
        Duration::from_millis((self.to - self.from).max(0) as u64)
    }
}

/// What an SLA says about the range.
#[derive(Clone, Debug, PartialEq)]
pub struct Credit {
    pub sla_objective: String,
    /// `None`: the SLA was met.
    pub tier_below: Option<String>,
    pub credit_percent: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SloReport {
    pub service: String,
    pub slo: String,
    pub objective: String,
    pub group: BTreeMap<String, String>,
    /// `events` and `bad` are counts (time slices for freshness and raw SLIs).
    pub events: Option<f64>,
    pub bad: Option<f64>,
    pub unit: &'static str,
    pub firings: Vec<Firing>,
    /// `(t, budget remaining)` from the range's start, for the chart.
    pub budget_curve: Vec<(Timestamp, f64)>,
    pub budget: f64,
    pub objective_ratio: f64,
    pub credit: Option<Credit>,
    /// Excluded time within the range, by reason, in spec order.
    pub excluded: Vec<(String, Millis)>,
    /// The share of the range with data, 0 to 1; `None` when nothing was scraped.
    pub coverage: Option<f64>,
    /// The rules replayed over the range with and without the low-traffic test.
    pub replayed: Option<replayed::Replayed>,
}

impl SloReport {
    /// Good events over all; `None` without events.
    pub fn attainment(&self) -> Option<f64> {
        match (self.events, self.bad) {
            (Some(all), Some(bad)) if all > 0.0 => Some(1.0 - (bad / all).clamp(0.0, 1.0)),
            _ => None,
        }
    }

    pub fn met(&self) -> Option<bool> {
        self.attainment().map(|a| a >= self.objective_ratio)
    }

    /// The share of the range's budget spent (1 = all of it).
    pub fn budget_spent(&self) -> Option<f64> {
        self.attainment().map(|a| (1.0 - a) / self.budget)
    }

    pub fn count(&self, tier: Tier) -> usize {
        self.firings.iter().filter(|f| f.tier == tier).count()
    }

    /// Time firing within the range (the firings never reach past it).
    pub fn firing(&self, tier: Tier) -> Millis {
        Firing::tally(&self.firings, tier, Timestamp::MIN, Timestamp::MAX).1
    }

    /// The longest time a burn-rate alert (page or ticket, overlapping ones merged) fired.
    pub fn longest_incident(&self) -> Option<(Timestamp, Timestamp)> {
        let mut spans: Vec<(Timestamp, Timestamp)> = self
            .firings
            .iter()
            .filter(|f| f.tier != Tier::Absent)
            .map(|f| (f.start, f.end.unwrap_or(f.start)))
            .collect();
        spans.sort();
        let mut merged: Vec<(Timestamp, Timestamp)> = Vec::new();
        for (s, e) in spans {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        merged.into_iter().max_by_key(|(s, e)| *e - *s)
    }

    /// `service/slo` and the group when there is one.
    pub fn name(&self) -> String {
        crate::names::slo_display(&self.service, &self.slo, &self.group)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub range: Range,
    pub slos: Vec<SloReport>,
}

/// The SLA outcome of an attainment: the measured percentage rounded to 10 decimals (far
/// below what any count can resolve, and enough that 999/1000 is exactly 99.9, not
/// 99.89999999999999), compared exactly with the tiers' decimals.
pub fn credit(slo: &Slo, attainment: Option<f64>) -> Option<Credit> {
    let sla = slo.sla.as_ref()?;
    let a = attainment?;
    let percent = Decimal::parse(&format!("{:.10}", a * 100.0))?;
    let tier = sla.tier(percent);
    Some(Credit {
        sla_objective: sla.objective_text.clone(),
        tier_below: tier.map(|t| t.below_text.clone()),
        credit_percent: tier.map(|t| t.credit_text.clone()),
    })
}

/// `ALERTS` of one SLO (`sel` is its `{service=..,slo=..}`), firing within the last
/// `window_s` seconds of each step: ALERTS is written every evaluation, so no 5-minute
/// lookback stretches an alert past its last evaluation.
pub fn firing_query(sel: &str, window_s: i64) -> String {
    format!(
        "present_over_time({}{{alertstate=\"firing\",{}}}[{window_s}s])",
        series::ALERTS,
        sel.trim_start_matches('{').trim_end_matches('}'),
    )
}

/// The runs of a series sampled every `step`: from a first sample to one step after the
/// last of consecutive samples (the last run ends at `end` at the latest).
pub fn firing_runs(
    samples: &[(Timestamp, f64)],
    step: Millis,
    end: Timestamp,
) -> Vec<(Timestamp, Timestamp)> {
    let mut out = Vec::new();
    let mut current: Option<(Timestamp, Timestamp)> = None;
    for &(t, _) in samples {
        current = match current {
            Some((a, b)) if t - b <= step => Some((a, t)),
            Some((a, b)) => {
                out.push((a, b + step));
                Some((t, t))
            }
            None => Some((t, t)),
        };
    }
    if let Some((a, b)) = current {
        out.push((a, (b + step).min(end)));
    }
    out
}

pub(crate) type Group = BTreeMap<String, String>;

/// Reads everything for one SLO: exact counts, firings and the budget curve, per group.
fn slo_report(
    (client, source): (&Client, Source),
    (svc, slo): (&Service, &Slo),
    range: &Range,
    reads: Reads,
    progress: &mut dyn FnMut(String),
) -> Result<Vec<SloReport>, ApiError> {
    let plan = slo_eval::plan(slo);
    let queries = sli::source_queries(source, &svc.name, slo, &plan);
    let read = Read {
        client,
        source,
        queries: &queries,
        plan: &plan,
    };
    let (counts, unit) = counts(&read, slo, range)?;
    let coverage = coverage(&read, slo, range)?;
    let excluded = excluded(slo, range);
    let mut firings = match reads {
        Reads::Everything => firings(client, svc, slo, range)?,
        Reads::Counts => BTreeMap::new(),
    };
    let curves = match reads {
        Reads::Everything => curves(&read, slo, range)?,
        Reads::Counts => BTreeMap::new(),
    };
    progress(format!("read {}/{}", svc.name, slo.name));
    let budget = slo.objective.budget_decimal().to_f64();
    let mut keys: Vec<Group> = counts.keys().cloned().collect();
    for k in firings.keys() {
        if !keys.contains(k) {
            keys.push(k.clone());
        }
    }
    if keys.is_empty() {
        keys.push(BTreeMap::new());
    }
    keys.sort();
    Ok(keys
        .into_iter()
        .map(|k| {
            let (events, bad) = counts.get(&k).cloned().unwrap_or_default();
            let curve = curves.get(&k).map(|[ev, er]| {
                let (mut all, mut badsum) = (0.0, 0.0);
                let mut out = vec![(range.from, 1.0)];
                for (t, v) in ev {
                    all += v;
                    badsum += er.get(t).copied().unwrap_or(0.0);
                    if all > 0.0 {
                        out.push((*t, 1.0 - badsum / all / budget));
                    }
                }
                out
            });
            let mut r = SloReport {
                service: svc.name.clone(),
                slo: slo.name.clone(),
                objective: slo.objective.text.clone(),
                group: k.clone(),
                events,
                bad: bad.or(events.map(|_| 0.0)),
                unit,
                firings: firings.remove(&k).unwrap_or_default(),
                budget_curve: curve.unwrap_or_default(),
                budget,
                objective_ratio: slo.objective.ratio_decimal().to_f64(),
                credit: None,
                excluded: excluded.clone(),
                coverage: coverage.get(&k).copied(),
                replayed: None,
            };
            r.firings.sort_by_key(|f| (f.start, f.tier));
            r.credit = credit(slo, r.attainment());
            r
        })
        .collect())
}

/// The firing alerts per group, from `ALERTS`.
fn firings(
    client: &Client,
    svc: &Service,
    slo: &Slo,
    range: &Range,
) -> Result<BTreeMap<Group, Vec<Firing>>, ApiError> {
    let sel = crate::names::selector(&svc.name, &slo.name);
    // Firing at each step: present within the step before it. ALERTS is written every
    // evaluation, so no 5-minute lookback stretches an alert past its last evaluation
    // where no staleness marker was written. A minute apart over long ranges; finer over
    // short ones (a thousand steps), at least a second.
    let secs = range.duration().as_secs_f64();
    let step_s = (secs / 1000.0).round().clamp(1.0, 60.0) as i64;
    let step = step_s * 1000;
    let alerts_q = firing_query(&sel, (step_s - 1).max(1));
    let mut firings: BTreeMap<Group, Vec<Firing>> = BTreeMap::new();
    for s in client.query_range(&alerts_q, range.from, range.to - 1, step, &mut |_, _| {})? {
        let Some(tier) = s
            .labels
            .get(crate::names::TIER_LABEL)
            .and_then(|t| Tier::from_label(t))
        else {
            continue;
        };
        let list = firings.entry(s.group(&slo.group_by)).or_default();
        list.extend(
            firing_runs(&s.samples, step, range.to)
                .into_iter()
                .map(|(start, end)| Firing {
                    tier,
                    start,
                    end: Some(end),
                    peak_burn_rate: None,
                }),
        );
    }
    Ok(firings)
}

/// What a report reads besides the counts, exclusions and coverage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reads {
    /// Firings from `ALERTS` and the budget curves too: the report.
    Everything,
    /// Counts only: statements, which show neither.
    Counts,
}

/// Reads the report of every SLO of `services` for which `wanted` holds over `range`.
pub fn build(
    (client, source): (&Client, Source),
    services: &[Service],
    range: &Range,
    (reads, wanted): (Reads, &dyn Fn(&Slo) -> bool),
    progress: &mut dyn FnMut(String),
) -> Result<Report, ApiError> {
    let mut slos = Vec::new();
    for svc in services {
        for slo in svc.slos.iter().filter(|s| wanted(s)) {
            slos.extend(slo_report(
                (client, source),
                (svc, slo),
                range,
                reads,
                progress,
            )?);
        }
    }
    Ok(Report {
        range: range.clone(),
        slos,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn firing_runs_split_at_gaps_and_end_at_the_range() {
        let at = |ts: &[i64]| ts.iter().map(|&t| (Timestamp(t), 1.0)).collect::<Vec<_>>();
        let runs = |samples: &[(Timestamp, f64)], end: i64| -> Vec<(i64, i64)> {
            firing_runs(samples, 10, Timestamp(end))
                .into_iter()
                .map(|(a, b)| (a.0, b.0))
                .collect()
        };
        assert_eq!(
            runs(&at(&[0, 10, 20, 50, 60]), 1000),
            vec![(0, 30), (50, 70)]
        );
        assert_eq!(runs(&at(&[90, 100]), 105), vec![(90, 105)]);
        assert_eq!(runs(&[], 100), vec![]);
    }

    #[test]
    fn months_have_their_true_length() {
        for (m, days) in [
            ("2026-10", 31),
            ("2026-02", 28),
            ("2028-02", 29),
            ("2026-12", 31),
        ] {
            let r = Range::month(m).unwrap();
            assert_eq!(r.to - r.from, days * 86_400_000, "{m}");
        }
        assert_eq!(
            rfc3339(Range::month("2026-12").unwrap().to),
            "2027-01-01T00:00:00Z"
        );
        assert!(Range::month("2026-13").is_err());
        assert!(Range::month("October").unwrap_err().contains("YYYY-MM"));
    }

    #[test]
    fn credits_compare_exactly_at_the_tier_edges() {
        let c = slo_spec::check(&[slo_spec::Source {
            path: "s.yaml".into(),
            text: "version: v1\nservice: s\nowner: o\nslos:\n  - name: a\n    description: d\n    objective: 99.9\n    sli:\n      ratio:\n        errors: sum(rate(x_total{code=\"500\"}[{{window}}]))\n        total: sum(rate(x_total[{{window}}]))\n    sla:\n      objective: 99.9\n      credits:\n        - {below: 99.9, credit_percent: 10}\n        - {below: 99, credit_percent: 25}\n".into(),
        }]);
        let slo = &c.services[0].slos[0];
        let at = |bad: f64, all: f64| credit(slo, Some(1.0 - bad / all)).unwrap().credit_percent;
        assert_eq!(at(1.0, 1000.0), None, "999/1000 is exactly 99.9%: met");
        assert_eq!(at(1001.0, 1_000_000.0), Some("10".into()));
        assert_eq!(at(10.0, 1000.0), Some("10".into()), "99% is not below 99");
        assert_eq!(at(10.001, 1000.0), Some("25".into()));
        assert_eq!(credit(slo, None), None, "no data, no verdict");
    }
}
