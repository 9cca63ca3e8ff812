//! What a global store holds of the split layout: which clusters send each SLO's local
//! recordings. `check-metrics --global` asks it once (one query for every SLO) and finds
//! the SLOs no cluster sends and the clusters that send some of an SLO's recordings but
//! not all (a local rule file out of date, a remote-write filter too narrow).

use super::split::CLUSTER_LABEL;
use super::{Options, Rule};
use std::collections::{BTreeMap, BTreeSet};

/// The query listing every local recording the store holds, by name, cluster and SLO.
pub const QUERY: &str =
    "group by (__name__, cluster, service, slo) ({__name__=~\"slo_cluster:.+\"})";

/// One SLO's senders.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Senders {
    pub service: String,
    pub slo: String,
    /// Every cluster sending any of the SLO's recordings.
    pub clusters: BTreeSet<String>,
    /// (cluster, recording) pairs missing: a cluster sends some recordings but not this one.
    pub missing: Vec<(String, String)>,
}

/// Each SLO's senders, in spec order, from the label sets the store answered [`QUERY`]
/// with.
pub fn senders(services: &[slo_spec::Service], found: &[BTreeMap<String, String>]) -> Vec<Senders> {
    // (service, slo) -> recording -> clusters
    let mut seen: BTreeMap<(&str, &str), BTreeMap<&str, BTreeSet<&str>>> = BTreeMap::new();
    for labels in found {
        let get = |k: &str| labels.get(k).map(String::as_str).unwrap_or_default();
        seen.entry((get("service"), get("slo")))
            .or_default()
            .entry(get("__name__"))
            .or_default()
            .insert(get(CLUSTER_LABEL));
    }
    let opts = Options::default();
    let mut out = Vec::new();
    for svc in services {
        for slo in &svc.slos {
            let plan = slo_eval::plan(slo);
            let groups = super::plan_groups(svc, slo, &plan, &opts);
            let split = super::split::split(svc, slo, &plan, groups, &opts);
            let expected: Vec<&str> = split
                .local
                .iter()
                .flat_map(|g| &g.rules)
                .filter_map(|r| match r {
                    Rule::Record { record, .. } => Some(record.as_str()),
                    Rule::Alert { .. } => None,
                })
                .collect();
            let empty = BTreeMap::new();
            let got = seen
                .get(&(svc.name.as_str(), slo.name.as_str()))
                .unwrap_or(&empty);
            let clusters: BTreeSet<String> =
                got.values().flatten().map(|c| c.to_string()).collect();
            let mut missing = Vec::new();
            for cluster in &clusters {
                for name in &expected {
                    if !got.get(name).is_some_and(|c| c.contains(cluster.as_str())) {
                        missing.push((cluster.clone(), name.to_string()));
                    }
                }
            }
            out.push(Senders {
                service: svc.name.clone(),
                slo: slo.name.clone(),
                clusters,
                missing,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::senders;
    use std::collections::BTreeMap;

    const SPEC: &str = "version: v1\nservice: pay\nowner: team\nslos:\n  - name: hooks\n    description: Hooks.\n    objective: 99.9\n    sli:\n      ratio:\n        errors: sum(rate(req_total{code=~\"5..\"}[{{window}}]))\n        total: sum(rate(req_total[{{window}}]))\n  - name: quiet\n    description: Quiet.\n    objective: 99\n    sli:\n      ratio:\n        errors: sum(rate(b_total{code=~\"5..\"}[{{window}}]))\n        total: sum(rate(b_total[{{window}}]))\n";

    /// An SLO, its clusters, its missing (cluster, recording) pairs.
    type Expected<'a> = (&'a str, &'a [&'a str], &'a [(&'a str, &'a str)]);

    /// `sent`: (cluster, slo, recording) label sets the store holds; `expected`: per SLO,
    /// its clusters and its missing (cluster, recording) pairs.
    fn check(sent: &[(&str, &str, &str)], expected: &[Expected]) {
        let checked = slo_spec::check(&[slo_spec::Source {
            path: "pay.yaml".into(),
            text: SPEC.into(),
        }]);
        assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
        let found: Vec<BTreeMap<String, String>> = sent
            .iter()
            .map(|(cluster, slo, name)| {
                [
                    ("cluster", *cluster),
                    ("service", "pay"),
                    ("slo", *slo),
                    ("__name__", *name),
                ]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
            })
            .collect();
        let got: Vec<_> = senders(&checked.services, &found)
            .into_iter()
            .map(|a| (a.slo, a.clusters.into_iter().collect::<Vec<_>>(), a.missing))
            .collect();
        let want: Vec<_> = expected
            .iter()
            .map(|(slo, clusters, missing)| {
                (
                    slo.to_string(),
                    clusters.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
                    missing
                        .iter()
                        .map(|(c, n)| (c.to_string(), n.to_string()))
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        assert_eq!(got, want);
    }

    const EVENTS: &str = "slo_cluster:sli_events:rate4m";
    const ERRORS: &str = "slo_cluster:sli_error_events:rate4m";
    const INPUTS: &str = "slo_cluster:sli_inputs:count";

    #[test]
    fn every_cluster_sends_every_recording() {
        let mut sent = Vec::new();
        for c in ["a", "b"] {
            for slo in ["hooks", "quiet"] {
                for n in [EVENTS, ERRORS, INPUTS] {
                    sent.push((c, slo, n));
                }
            }
        }
        check(
            &sent,
            &[("hooks", &["a", "b"], &[]), ("quiet", &["a", "b"], &[])],
        );
    }

    #[test]
    fn a_cluster_missing_a_recording_and_an_slo_no_cluster_sends() {
        let sent = [
            ("a", "hooks", EVENTS),
            ("a", "hooks", ERRORS),
            ("a", "hooks", INPUTS),
            ("b", "hooks", EVENTS),
            ("b", "hooks", INPUTS),
            // Another service's SLO of the same name is not this one.
            ("a", "elsewhere", EVENTS),
        ];
        check(
            &sent,
            &[
                ("hooks", &["a", "b"], &[("b", ERRORS)]),
                ("quiet", &[], &[]),
            ],
        );
    }
}
