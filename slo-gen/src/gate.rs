//! `slo-gen gate`: may we deploy? Each selected SLO's recorded budget left
//! (`slo:error_budget_remaining:ratio`, per group for a grouped SLO) against its gate: the
//! spec's `deploy_gate.min_budget`, else the command's default. An exhausted budget always
//! blocks; an SLO without data is undecided, never passed.

use crate::names::series;
use crate::promapi::Series;
use slo_spec::decimal::Decimal;
use slo_spec::{Service, Slo};
use std::collections::BTreeMap;

/// What one SLO (or one group of a grouped SLO) says about deploying.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Pass,
    Block,
    NoData,
}

/// Where a gate's threshold comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GateSource {
    /// The SLO's `deploy_gate`.
    Spec,
    /// The command's `--min-budget`.
    Default,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Verdict {
    pub service: String,
    pub slo: String,
    /// The spec file and the SLO's line, for annotations.
    pub file: String,
    pub line: u64,
    /// The group's label values (empty for one aggregate, or when there is no data).
    pub group: BTreeMap<String, String>,
    /// The share of the budget left (1 = all of it; negative when overspent).
    pub budget_remaining: Option<f64>,
    /// Percent of the budget that must be left, as written.
    pub min_budget: String,
    pub gate: GateSource,
    pub status: Status,
}

/// The instant query that reads every budget left at once.
pub fn query() -> String {
    series::BUDGET_REMAINING.to_string()
}

/// The verdicts of the selected SLOs from the budgets read (`budgets`: the result of
/// [`query`]), in spec order, groups in label order.
pub fn decide(
    services: &[Service],
    selected: &dyn Fn(&Service, &Slo) -> bool,
    default: (&Decimal, &str),
    budgets: &[Series],
) -> Vec<Verdict> {
    let mut by_slo: BTreeMap<(&str, &str), Vec<&Series>> = BTreeMap::new();
    for s in budgets {
        if let (Some(svc), Some(slo)) = (s.labels.get("service"), s.labels.get("slo")) {
            by_slo.entry((svc, slo)).or_default().push(s);
        }
    }
    let mut out = Vec::new();
    for svc in services {
        for slo in svc.slos.iter().filter(|s| selected(svc, s)) {
            let (min, text, gate) = match &slo.deploy_gate {
                Some(g) => (g.min_budget.to_f64(), g.text.clone(), GateSource::Spec),
                None => (
                    default.0.to_f64(),
                    default.1.to_string(),
                    GateSource::Default,
                ),
            };
            let verdict = |group, remaining: Option<f64>| Verdict {
                service: svc.name.clone(),
                slo: slo.name.clone(),
                file: svc.file.clone(),
                line: slo.span.line,
                group,
                budget_remaining: remaining,
                min_budget: text.clone(),
                gate,
                status: match remaining {
                    None => Status::NoData,
                    Some(r) if r.is_nan() => Status::NoData,
                    Some(r) if r <= 0.0 || r * 100.0 < min => Status::Block,
                    Some(_) => Status::Pass,
                },
            };
            let found = by_slo
                .get(&(svc.name.as_str(), slo.name.as_str()))
                .cloned()
                .unwrap_or_default();
            if found.is_empty() {
                out.push(verdict(BTreeMap::new(), None));
            }
            let mut verdicts: Vec<Verdict> = found
                .iter()
                .map(|s| verdict(s.group(&slo.group_by), s.samples.last().map(|p| p.1)))
                .collect();
            verdicts.sort_by(|a, b| a.group.cmp(&b.group));
            out.extend(verdicts);
        }
    }
    out
}

/// A verdict in words: `payments/webhook-availability: 12.5% of the error budget left,
/// under its deploy gate of 25% (deploy_gate)`.
pub fn describe(v: &Verdict) -> String {
    let mut who = format!("{}/{}", v.service, v.slo);
    if !v.group.is_empty() {
        let g: Vec<String> = v.group.iter().map(|(k, x)| format!("{k}={x}")).collect();
        who.push_str(&format!(" for {}", g.join(",")));
    }
    let from = match v.gate {
        GateSource::Spec => "its deploy_gate",
        GateSource::Default => "--min-budget",
    };
    let left = |r: f64| crate::text::percent(Some(r), 1, "");
    match (v.status, v.budget_remaining) {
        (Status::NoData, _) => format!(
            "{who}: no budget recorded ({} has no series for it): are its rules loaded and its SLI scraped?",
            series::BUDGET_REMAINING
        ),
        (Status::Block, Some(r)) if r <= 0.0 => {
            format!("{who}: the error budget is exhausted ({} left)", left(r))
        }
        (_, Some(r)) => format!(
            "{who}: {} of the error budget left; {from} requires {}%",
            left(r),
            v.min_budget
        ),
        (_, None) => who,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use slo_eval::Timestamp;

    const SPEC: &str = r#"version: v1
service: s
owner: o
slos:
  - name: gated
    description: d
    objective: 99
    deploy_gate: {min_budget: 25}
    sli:
      ratio:
        errors: sum(rate(t_total{code="5"}[{{window}}]))
        total: sum(rate(t_total[{{window}}]))
    alerting: {disabled: true}
  - name: per-provider
    description: d
    objective: 99
    group_by: [provider]
    sli:
      ratio:
        errors: sum by (provider) (rate(t_total{code="5"}[{{window}}]))
        total: sum by (provider) (rate(t_total[{{window}}]))
    alerting: {disabled: true}
"#;

    fn budget(slo: &str, group: Option<&str>, v: f64) -> Series {
        let mut labels: BTreeMap<String, String> = [("service", "s"), ("slo", slo)]
            .map(|(k, v)| (k.into(), v.into()))
            .into();
        if let Some(p) = group {
            labels.insert("provider".into(), p.into());
        }
        Series {
            labels,
            samples: vec![(Timestamp(0), v)],
        }
    }

    /// The statuses for these budgets with `--min-budget 10`.
    #[track_caller]
    fn check(budgets: &[Series], expected: &[(&str, Status)]) {
        let checked = slo_spec::check(&[slo_spec::Source {
            path: "s.yaml".into(),
            text: SPEC.into(),
        }]);
        assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
        let ten = Decimal::parse("10").unwrap();
        let got = decide(&checked.services, &|_, _| true, (&ten, "10"), budgets);
        let got: Vec<(String, Status)> = got
            .iter()
            .map(|v| {
                let g: Vec<&str> = v.group.values().map(|s| s.as_str()).collect();
                (format!("{}{}", v.slo, g.join(",")), v.status)
            })
            .collect();
        let expected: Vec<(String, Status)> =
            expected.iter().map(|(n, s)| (n.to_string(), *s)).collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn the_spec_gate_wins_exhaustion_blocks_and_no_data_is_undecided() {
        use Status::*;
        // 25% exactly passes the spec's 25% gate; 10% passes --min-budget 10.
        check(
            &[
                budget("gated", None, 0.25),
                budget("per-provider", Some("a"), 0.10),
            ],
            &[("gated", Pass), ("per-providera", Pass)],
        );
        // Under the spec's gate; one group of two exhausted.
        check(
            &[
                budget("gated", None, 0.2499),
                budget("per-provider", Some("b"), 0.0),
                budget("per-provider", Some("a"), 0.5),
            ],
            &[
                ("gated", Block),
                ("per-providera", Pass),
                ("per-providerb", Block),
            ],
        );
        // Nothing recorded for one SLO, NaN for the other.
        check(
            &[budget("gated", None, f64::NAN)],
            &[("gated", NoData), ("per-provider", NoData)],
        );
    }
}
