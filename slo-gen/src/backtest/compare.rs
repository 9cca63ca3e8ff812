//! Two readings of a replay: against a baseline (what a spec change does to the alerts)
//! and against known incidents (when each tier detected them, and what fired outside).

use super::{Alert, Backtest, SloResult};
use serde::Deserialize;
use slo_eval::{Firing, Millis, Timestamp};
use slo_spec::Tier;
use std::collections::{BTreeMap, BTreeSet};

/// How one firing changed between the baseline and the change.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    Added(Alert),
    Removed(Alert),
    /// Overlapping firings whose start or end moved.
    Moved {
        before: Alert,
        after: Alert,
    },
}

/// One SLO (and group) and tier whose alerts changed.
#[derive(Clone, Debug, PartialEq)]
pub struct TierDiff {
    /// `service/slo {group}`.
    pub slo: String,
    pub tier: Tier,
    pub before: usize,
    pub after: usize,
    pub firing_before: Millis,
    pub firing_after: Millis,
    pub changes: Vec<Change>,
}

fn overlaps(a: &Firing, b: &Firing, to: Timestamp) -> bool {
    a.start < b.end.unwrap_or(to + 1) && b.start < a.end.unwrap_or(to + 1)
}

/// Per SLO and tier, the firings added, removed and moved; SLOs and tiers without any
/// change are left out.
pub fn diff(baseline: &Backtest, change: &Backtest) -> Vec<TierDiff> {
    let index = |b: &Backtest| -> BTreeMap<String, SloResult> {
        b.slos.iter().map(|s| (s.name(), s.clone())).collect()
    };
    let (old, new) = (index(baseline), index(change));
    let names: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let (from, to) = (change.from, change.to);
    let mut out = Vec::new();
    for name in names {
        for tier in Tier::ALL {
            let of = |m: &BTreeMap<String, SloResult>| -> Vec<Alert> {
                m.get(name)
                    .map(|s| {
                        s.alerts
                            .iter()
                            .filter(|a| a.firing.tier == tier)
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let (before, after) = (of(&old), of(&new));
            let mut changes = Vec::new();
            for a in &after {
                match before.iter().find(|b| overlaps(&a.firing, &b.firing, to)) {
                    None => changes.push(Change::Added(a.clone())),
                    Some(b) if b.firing.start != a.firing.start || b.firing.end != a.firing.end => {
                        changes.push(Change::Moved {
                            before: b.clone(),
                            after: a.clone(),
                        })
                    }
                    Some(_) => {}
                }
            }
            for b in &before {
                if !after.iter().any(|a| overlaps(&a.firing, &b.firing, to)) {
                    changes.push(Change::Removed(b.clone()));
                }
            }
            if changes.is_empty() {
                continue;
            }
            let firing = |m: &BTreeMap<String, SloResult>| {
                m.get(name).map(|s| s.firing(tier, from, to)).unwrap_or(0)
            };
            out.push(TierDiff {
                slo: name.clone(),
                tier,
                before: before.len(),
                after: after.len(),
                firing_before: firing(&old),
                firing_after: firing(&new),
                changes,
            });
        }
    }
    out
}

/// Whether the change adds a page anywhere.
pub fn adds_pages(diffs: &[TierDiff]) -> bool {
    diffs
        .iter()
        .any(|d| d.tier == Tier::Page && d.changes.iter().any(|c| matches!(c, Change::Added(_))))
}

/// A known incident of one SLO, from `--incidents FILE`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct IncidentSpec {
    pub service: String,
    pub slo: String,
    pub start: String,
    pub end: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Incident {
    pub service: String,
    pub slo: String,
    pub start: Timestamp,
    pub end: Timestamp,
}

/// Reads the incidents file: a YAML list of `{service, slo, start, end}` (RFC 3339).
pub fn parse_incidents(text: &str) -> Result<Vec<Incident>, String> {
    let specs: Vec<IncidentSpec> = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
    specs
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let time = |t: &str, what: &str| {
                super::history::parse_rfc3339(t)
                    .map_err(|e| format!("incident {} `{what}: {t}`: {e} (write RFC 3339, e.g. 2026-11-03T10:00:00Z)", i + 1))
            };
            let (start, end) = (time(&s.start, "start")?, time(&s.end, "end")?);
            if end < start {
                return Err(format!("incident {} ends before it starts", i + 1));
            }
            Ok(Incident {
                service: s.service,
                slo: s.slo,
                start,
                end,
            })
        })
        .collect()
}

/// When one tier saw one incident.
#[derive(Clone, Debug, PartialEq)]
pub struct Detection {
    pub incident: Incident,
    /// Per tier: milliseconds from the incident's start to the first firing overlapping
    /// it (0 when already firing), `None` when missed.
    pub tiers: Vec<(Tier, Option<Millis>)>,
}

/// Incidents against alerts: detection per incident and tier, the firings outside any
/// incident, and per tier precision (firings in an incident / all firings) and recall
/// (incidents detected / incidents).
#[derive(Clone, Debug, PartialEq)]
pub struct Scores {
    pub detections: Vec<Detection>,
    pub outside: Vec<(String, Alert)>,
    pub tiers: Vec<TierScore>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TierScore {
    pub tier: Tier,
    pub firings: usize,
    pub in_incidents: usize,
    pub incidents: usize,
    pub detected: usize,
}

pub fn score(b: &Backtest, incidents: &[Incident]) -> Scores {
    let tiers = Tier::BURN_RATE;
    let window = |i: &Incident| Firing {
        tier: Tier::Page,
        start: i.start,
        end: Some(i.end),
        peak_burn_rate: None,
    };
    fn of<'a>(b: &'a Backtest, i: &'a Incident) -> impl Iterator<Item = &'a SloResult> {
        b.slos
            .iter()
            .filter(move |s| s.service == i.service && s.slo == i.slo)
    }
    let detections: Vec<Detection> = incidents
        .iter()
        .map(|i| Detection {
            incident: i.clone(),
            tiers: tiers
                .iter()
                .map(|&tier| {
                    let first = of(b, i)
                        .flat_map(|s| &s.alerts)
                        .filter(|a| a.firing.tier == tier && overlaps(&a.firing, &window(i), b.to))
                        .map(|a| (a.firing.start - i.start).max(0))
                        .min();
                    (tier, first)
                })
                .collect(),
        })
        .collect();
    let mut outside = Vec::new();
    let mut scores: Vec<TierScore> = tiers
        .iter()
        .map(|&tier| TierScore {
            tier,
            firings: 0,
            in_incidents: 0,
            incidents: incidents.len(),
            detected: detections
                .iter()
                .filter(|d| d.tiers.iter().any(|(t, f)| *t == tier && f.is_some()))
                .count(),
        })
        .collect();
    for s in &b.slos {
        for a in &s.alerts {
            let inside = incidents.iter().any(|i| {
                i.service == s.service && i.slo == s.slo && overlaps(&a.firing, &window(i), b.to)
            });
            if let Some(t) = scores.iter_mut().find(|t| t.tier == a.firing.tier) {
                t.firings += 1;
                t.in_incidents += inside as usize;
            }
            if !inside {
                outside.push((s.name(), a.clone()));
            }
        }
    }
    Scores {
        detections,
        outside,
        tiers: scores,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(tier: Tier, start: i64, end: Option<i64>) -> Alert {
        Alert {
            alert: "A".into(),
            severity: tier.as_str().into(),
            firing: Firing {
                tier,
                start: Timestamp(start),
                end: end.map(Timestamp),
                peak_burn_rate: None,
            },
        }
    }

    fn run(alerts: Vec<Alert>) -> Backtest {
        Backtest {
            from: Timestamp(0),
            to: Timestamp(1000),
            slos: vec![SloResult {
                without_low_traffic_test: None,
                service: "s".into(),
                slo: "a".into(),
                objective: "99.9".into(),
                group: BTreeMap::new(),
                alerts,
                attainment: None,
                attainment_since: None,
                budget_remaining: None,
                budget_consumed_at_first_page: None,
            }],
        }
    }

    #[test]
    fn diff_names_added_removed_and_moved_firings() {
        let before = run(vec![
            alert(Tier::Page, 100, Some(200)),
            alert(Tier::Page, 500, Some(600)),
            alert(Tier::Ticket, 100, None),
        ]);
        let after = run(vec![
            alert(Tier::Page, 90, Some(210)),
            alert(Tier::Page, 800, None),
            alert(Tier::Ticket, 100, None),
        ]);
        let d = diff(&before, &after);
        assert_eq!(d.len(), 1, "the ticket did not change: {d:?}");
        assert_eq!((d[0].before, d[0].after), (2, 2));
        assert_eq!((d[0].firing_before, d[0].firing_after), (200, 320));
        let kinds: Vec<&str> = d[0]
            .changes
            .iter()
            .map(|c| match c {
                Change::Added(_) => "added",
                Change::Removed(_) => "removed",
                Change::Moved { .. } => "moved",
            })
            .collect();
        assert_eq!(kinds, vec!["moved", "added", "removed"]);
        assert!(adds_pages(&d));
        assert!(!adds_pages(&diff(
            &after,
            &run(vec![alert(Tier::Page, 90, Some(210))])
        )));
    }

    #[test]
    fn incidents_score_detection_precision_and_recall() {
        let b = run(vec![
            alert(Tier::Page, 150, Some(300)),
            alert(Tier::Page, 700, Some(720)),
            alert(Tier::Ticket, 50, None),
        ]);
        let incidents = vec![
            Incident {
                service: "s".into(),
                slo: "a".into(),
                start: Timestamp(100),
                end: Timestamp(400),
            },
            Incident {
                service: "s".into(),
                slo: "a".into(),
                start: Timestamp(900),
                end: Timestamp(950),
            },
        ];
        let s = score(&b, &incidents);
        assert_eq!(
            s.detections[0].tiers,
            vec![(Tier::Page, Some(50)), (Tier::Ticket, Some(0))]
        );
        assert_eq!(
            s.detections[1].tiers,
            vec![(Tier::Page, None), (Tier::Ticket, Some(0))]
        );
        assert_eq!(s.outside.len(), 1, "the page at 700");
        assert_eq!(s.outside[0].1.firing.start, Timestamp(700));
        let page = &s.tiers[0];
        assert_eq!(
            (
                page.firings,
                page.in_incidents,
                page.detected,
                page.incidents
            ),
            (2, 1, 1, 2)
        );
    }

    #[test]
    fn incident_files_are_checked() {
        let ok = parse_incidents(
            "- {service: s, slo: a, start: '2026-11-03T10:00:00Z', end: '2026-11-03T11:00:00Z'}\n",
        )
        .unwrap();
        assert_eq!(ok[0].end - ok[0].start, 3_600_000);
        let e = parse_incidents(
            "- {service: s, slo: a, start: yesterday, end: '2026-11-03T11:00:00Z'}\n",
        )
        .unwrap_err();
        assert!(e.contains("incident 1 `start: yesterday`"), "{e}");
        let e = parse_incidents("- {service: s, slo: a, start: '2026-11-03T10:00:00Z', end: '2026-11-03T11:00:00Z', owner: x}\n").unwrap_err();
        assert!(e.contains("owner"), "{e}");
    }
}
