//! How a report reads an SLO's base series: counts over the range and budget curves,
//! from raw series (exact, from the counters) or from the recorded base series (the split
//! layout's global store, which holds no raw series).

use super::excluded::included_parts;
use super::{Group, Range};
use crate::promapi::{ApiError, Client};
use crate::rules::sli::{self, Source};
use slo_eval::{millis, Timestamp};
use slo_spec::Sli;
use slo_spec::Slo;
use std::collections::BTreeMap;
use std::time::Duration;

/// How one SLO's base series are read: from raw series or from the recorded ones.
pub(crate) struct Read<'a> {
    pub client: &'a Client,
    pub source: Source,
    /// The base series as `source` holds them.
    pub queries: &'a sli::BaseQueries,
    pub plan: &'a slo_eval::Plan,
}

impl Read<'_> {
    /// `(events, errors)` per second over `window` for a ratio or latency SLI: the SLI's
    /// own queries over raw series, or the recorded base rates averaged over it.
    fn rates(&self, slo: &Slo, window: Duration) -> (String, String) {
        match self.source {
            Source::Raw => {
                let g = &slo.group_by;
                let (_, events) = sli::base_exprs(&slo.sli, window, "", g);
                let (errors, _) = sli::base_exprs(&slo.sli, window, &format!("({events})"), g);
                (events, errors)
            }
            Source::Recorded => {
                let w = slo_spec::names::format_duration(window);
                (
                    format!("avg_over_time({}[{w}])", self.queries.events),
                    format!("avg_over_time({}[{w}])", self.queries.errors),
                )
            }
        }
    }
}

/// Events and bad events over the range per group, and what they count: exact from raw
/// counters; from recorded base series, as exact as their rates sampled at each evaluation.
#[allow(clippy::type_complexity)]
pub(super) fn counts(
    read: &Read,
    slo: &Slo,
    range: &Range,
) -> Result<(BTreeMap<Group, (Option<f64>, Option<f64>)>, &'static str), ApiError> {
    let (client, g) = (read.client, &slo.group_by);
    let mut counts: BTreeMap<Group, (Option<f64>, Option<f64>)> = BTreeMap::new();
    if let Sli::Ratio(_) | Sli::Latency(_) = &slo.sli {
        // Rates over exactly each part outside the exclusions, times its length.
        for (a, b) in included_parts(slo, range) {
            let window = Duration::from_secs((b - a).max(1) as u64);
            let (events, errors) = read.rates(slo, window);
            for (i, query) in [&events, &errors].into_iter().enumerate() {
                for s in client.query(query, Timestamp(b * 1000))? {
                    if let Some(&(_, v)) = s.samples.first() {
                        let e = counts.entry(s.group(g)).or_default();
                        let c = if i == 0 { &mut e.0 } else { &mut e.1 };
                        *c = Some(c.unwrap_or(0.0) + v * window.as_secs_f64());
                    }
                }
            }
        }
        return Ok((counts, "events"));
    }
    let q = read.queries;
    let step = millis(read.plan.interval);
    let (from, to) = (range.from.floor(step), (range.to - 1).floor(step));
    for (i, query) in [&q.events, &q.errors].into_iter().enumerate() {
        for s in client.query_range(query, from, to, step, &mut |_, _| {})? {
            let sum: f64 = s
                .samples
                .iter()
                .filter(|p| !slo_spec::exclusion::excluded(&slo.exclusions, p.0 .0))
                .map(|p| p.1)
                .filter(|v| v.is_finite())
                .sum();
            let e = counts.entry(s.group(g)).or_default();
            *(if i == 0 { &mut e.0 } else { &mut e.1 }) = Some(sum);
        }
    }
    Ok((counts, "time slices"))
}

/// Events and bad events per chart step (about 240 over the range), per group.
pub(super) fn curves(
    read: &Read,
    slo: &Slo,
    range: &Range,
) -> Result<BTreeMap<Group, [BTreeMap<Timestamp, f64>; 2]>, ApiError> {
    let (client, g) = (read.client, &slo.group_by);
    let secs = range.duration().as_secs_f64();
    let chart_step = Duration::from_secs(((secs / 240.0).max(300.0) / 60.0).round() as u64 * 60);
    let (c_events, c_errors) = match &slo.sli {
        Sli::Ratio(_) | Sli::Latency(_) => read.rates(slo, chart_step),
        _ => (read.queries.events.clone(), read.queries.errors.clone()),
    };
    let cs = millis(chart_step);
    let first = range.from + cs;
    let mut curves: BTreeMap<Group, [BTreeMap<Timestamp, f64>; 2]> = BTreeMap::new();
    if first <= range.to {
        for (i, q) in [&c_events, &c_errors].into_iter().enumerate() {
            for s in client.query_range(q, first, range.to, cs, &mut |_, _| {})? {
                let m = &mut curves.entry(s.group(g)).or_default()[i];
                for &(t, v) in &s.samples {
                    m.insert(t, if v.is_finite() { v } else { 0.0 });
                }
            }
        }
    }
    Ok(curves)
}
