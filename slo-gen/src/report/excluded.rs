//! Excluded time and data coverage in a report: the parts of the range outside every
//! exclusion (each read on its own), the excluded time by reason, and the share of the
//! range the SLI's series were scraped in.

use super::{Group, Range};
use crate::promapi::ApiError;
use crate::rules::sli;
use slo_eval::Millis;
use slo_spec::Slo;
use std::collections::BTreeMap;

/// The parts of the range outside every exclusion, in whole Unix seconds.
pub(super) fn included_parts(slo: &Slo, range: &Range) -> Vec<(i64, i64)> {
    let (from, to) = (range.from.0.div_euclid(1000), range.to.0.div_euclid(1000));
    slo_spec::exclusion::included(&slo.exclusions, from, to)
}

/// Excluded time within the range by reason (reasons in spec order, each once).
pub fn excluded(slo: &Slo, range: &Range) -> Vec<(String, Millis)> {
    let (from, to) = (range.from.0.div_euclid(1000), range.to.0.div_euclid(1000));
    let mut out: Vec<(String, Millis)> = Vec::new();
    for e in &slo.exclusions {
        let ms: Millis = e
            .when
            .intervals(from, to)
            .iter()
            .map(|(a, b)| (b - a) * 1000)
            .sum();
        match out.iter_mut().find(|(r, _)| *r == e.reason) {
            Some((_, total)) => *total += ms,
            None => out.push((e.reason.clone(), ms)),
        }
    }
    out
}

/// The share of the range the SLI's series were scraped in, per group: the samples of its
/// best-covered series over the samples one every scrape interval would give.
pub(super) fn coverage(
    read: &super::Read,
    slo: &Slo,
    range: &Range,
) -> Result<BTreeMap<Group, f64>, ApiError> {
    let g = &slo.group_by;
    let secs = range.duration().as_secs().max(1);
    // Raw series come at the scrape interval; recorded ones at the rules' interval.
    let (selectors, every) = match read.source {
        sli::Source::Raw => (sli::input_selectors(&slo.sli), slo.scrape_interval.duration),
        sli::Source::Recorded => (
            vec![read
                .queries
                .inputs
                .clone()
                .unwrap_or_else(|| read.queries.events.clone())],
            read.plan.interval,
        ),
    };
    let expected = secs as f64 / every.as_secs_f64().max(1.0);
    let by = if g.is_empty() {
        String::new()
    } else {
        format!(" by ({})", g.join(", "))
    };
    let mut out = BTreeMap::new();
    for selector in selectors {
        let q = format!("max{by}(count_over_time({selector}[{secs}s]))");
        for s in read.client.query(&q, range.to)? {
            if let Some(&(_, n)) = s.samples.first() {
                let share = (n / expected).min(1.0);
                let e = out.entry(s.group(g)).or_insert(0.0_f64);
                *e = e.max(share);
            }
        }
    }
    Ok(out)
}
