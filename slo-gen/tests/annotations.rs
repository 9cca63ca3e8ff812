//! What a burn alert's notification says, rendered by the real promtool: the time left
//! until the budget is exhausted at the current burn rate (computed by the generated
//! `slo:error_budget_exhaustion:seconds` rule), "exhausted" once it is, and the top values
//! of `alerting.breakdown` by share of errors, per group for a grouped SLO.
//!
//! The windows' error ratios, the budget left and the current burn rate are fed as input
//! series (their own rules are tested elsewhere), so every expected number is exact; the
//! breakdown reads raw counters, as it does in production.

use slo_gen::names::series;
use slo_gen::rules::{Group, Rule};
use std::fmt::Write;

const SPEC: &str = r#"version: v1
service: api
owner: team-api
period: 30d
slos:
  - name: availability
    description: Requests succeed.
    objective: 99.9
    sli:
      ratio:
        errors: sum(rate(http_requests_total{code=~"5.."}[{{window}}]))
        total: sum(rate(http_requests_total[{{window}}]))
    alerting:
      name: ApiAvailability
      breakdown: [account]
      annotations: {runbook_url: https://runbooks.example.com/api}
  - name: payments
    description: Payments succeed.
    objective: 99.9
    group_by: [provider]
    sli:
      ratio:
        errors: sum by (provider) (rate(payments_total{outcome="error"}[{{window}}]))
        total: sum by (provider) (rate(payments_total[{{window}}]))
    alerting:
      name: ApiPayments
      breakdown: [account]
      annotations: {runbook_url: https://runbooks.example.com/payments}
"#;

/// Raw counters over two hours at 1m: `availability` errors from account a at 3/s and b
/// at 1/s (c's requests succeed); `payments` errors at provider x from a (3/s) and b (1/s),
/// at provider y from c alone.
const RAW: &[(&str, &str)] = &[
    (
        r#"http_requests_total{account="a",code="500"}"#,
        "0+180x120",
    ),
    (r#"http_requests_total{account="b",code="503"}"#, "0+60x120"),
    (
        r#"http_requests_total{account="c",code="200"}"#,
        "0+5760x120",
    ),
    (
        r#"payments_total{provider="x",account="a",outcome="error"}"#,
        "0+180x120",
    ),
    (
        r#"payments_total{provider="x",account="b",outcome="error"}"#,
        "0+60x120",
    ),
    (
        r#"payments_total{provider="x",account="c",outcome="ok"}"#,
        "0+5760x120",
    ),
    (
        r#"payments_total{provider="y",account="c",outcome="error"}"#,
        "0+120x120",
    ),
    (
        r#"payments_total{provider="y",account="a",outcome="ok"}"#,
        "0+5880x120",
    ),
];

/// The rules under test: every generated group with only the exhaustion rule left among
/// the records, so the series it and the alerts read come from the inputs.
fn rules() -> (Vec<Group>, String) {
    let (mut groups, _) = crate::support::compiled("api.yaml", SPEC);
    for g in &mut groups {
        g.rules.retain(|r| match r {
            Rule::Record { record, .. } => record == series::BUDGET_EXHAUSTION,
            Rule::Alert { .. } => true,
        });
    }
    groups.retain(|g| !g.rules.is_empty());
    let mut text = String::new();
    slo_gen::rules::emit::groups(&mut text, 0, &groups);
    (groups, text)
}

/// The recorded series an SLO's alerts read, for one group's label text (`""` or
/// `,provider="x"`): every window at `ratio`, the budget left and the current burn.
fn recorded(slo: &slo_spec::Slo, group: &str, ratio: f64, left: f64) -> Vec<(String, String)> {
    let sel = format!("{{service=\"api\",slo=\"{}\"{group}}}", slo.name);
    let plan = slo_eval::plan(slo);
    let mut out: Vec<(String, String)> = plan
        .windows
        .iter()
        .map(|w| {
            (
                format!("{}{sel}", series::error_ratio(*w)),
                format!("{ratio}x120"),
            )
        })
        .collect();
    // Plenty of events in every window: the low-traffic test passes.
    for w in &plan.windows {
        let events = 100_000.0;
        out.push((
            format!("{}{sel}", series::increase(series::Count::Events, *w)),
            format!("{events}x120"),
        ));
        out.push((
            format!("{}{sel}", series::increase(series::Count::Errors, *w)),
            format!("{}x120", events * ratio),
        ));
    }
    out.push((
        format!("{}{sel}", series::BUDGET_REMAINING),
        format!("{left}x120"),
    ));
    out.push((
        format!("{}{sel}", series::CURRENT_BURN_RATE),
        format!("{}x120", ratio / 0.001),
    ));
    out
}

/// The summary promtool must render for a tier burning at `burn` with `tail` after the
/// budget left.
fn summary(who: &str, tier: &slo_eval::TierPlan, burn: &str, tail: &str) -> String {
    let thresholds: Vec<String> = tier
        .pairs
        .iter()
        .map(|p| {
            format!(
                "{}x over {}",
                p.burn_rate,
                slo_spec::names::format_duration(p.long)
            )
        })
        .collect();
    format!(
        "{who} is burning its error budget {burn}x as fast as sustainable ({} threshold: {}); {tail}",
        tier.tier.as_str(),
        thresholds.join(" or "),
    )
}

fn breakdown(tier: &slo_eval::TierPlan, rows: &[(&str, &str)]) -> String {
    let window = tier.pairs.iter().map(|p| p.short).min().unwrap();
    let mut out = format!(
        "Top account by share of errors over the last {}:",
        slo_spec::names::format_duration(window)
    );
    for (account, share) in rows {
        let _ = write!(out, "\n- account={account}: {share} of errors");
    }
    out
}

#[test]
// Long: one promtool file: the inputs, then every expected alert with its annotations.
fn notifications_say_how_long_and_who() {
    let checked = slo_spec::check(&[slo_spec::Source {
        path: "api.yaml".into(),
        text: SPEC.into(),
    }]);
    let svc = &checked.services[0];
    let (avail, pay) = (&svc.slos[0], &svc.slos[1]);
    let (groups, rules) = rules();
    let mut inputs: Vec<(String, String)> = RAW
        .iter()
        .map(|(s, v)| (s.to_string(), v.to_string()))
        .collect();
    // availability burns 20x with half the budget left: 0.5 × 30d / 20 = 18h.
    inputs.extend(recorded(avail, "", 0.02, 0.5));
    // payments: x burns 20x with half left; y 40x with nothing left.
    inputs.extend(recorded(pay, ",provider=\"x\"", 0.02, 0.5));
    inputs.extend(recorded(pay, ",provider=\"y\"", 0.04, -0.2));

    let mut t =
        String::from("rule_files: [rules.yaml]\nevaluation_interval: 1m\ngroup_eval_order:\n");
    for g in &groups {
        let _ = writeln!(t, "  - {}", g.name);
    }
    t.push_str("tests:\n  - interval: 1m\n    input_series:\n");
    for (s, v) in &inputs {
        let _ = writeln!(
            t,
            "      - series: {}\n        values: {}",
            json(s),
            json(v)
        );
    }
    t.push_str("    alert_rule_test:\n");
    let at = "100m";
    let base = |slo: &slo_spec::Slo, tier: &slo_eval::TierPlan, group: Option<&str>| {
        let mut labels = vec![
            ("service".to_string(), "api".to_string()),
            ("slo".to_string(), slo.name.clone()),
            ("owner".to_string(), "team-api".to_string()),
            ("severity".to_string(), tier.tier.as_str().to_string()),
            ("slo_tier".to_string(), tier.tier.as_str().to_string()),
        ];
        if let Some(p) = group {
            labels.push(("provider".into(), p.into()));
        }
        labels
    };
    // (alertname, [(labels, annotations)]) for every tier and group.
    let mut expected: Vec<(String, Vec<Expected>)> = vec![];
    let avail_plan = slo_eval::plan(avail);
    let mut alerts = vec![];
    for tier in &avail_plan.tiers {
        let s = summary(
            "api/availability",
            tier,
            "20.0",
            "50% of the budget left, gone in 18h 0m 0s at the current burn rate",
        );
        alerts.push((
            base(avail, tier, None),
            vec![
                ("summary".into(), s),
                (
                    "breakdown".into(),
                    breakdown(tier, &[("a", "75%"), ("b", "25%")]),
                ),
                ("description".into(), "Requests succeed.".into()),
                (
                    "dashboard_url".into(),
                    "http://localhost:3000/d/slo-api".into(),
                ),
                (
                    "runbook_url".into(),
                    "https://runbooks.example.com/api".into(),
                ),
            ],
        ));
    }
    expected.push(("ApiAvailability".into(), alerts));
    let pay_plan = slo_eval::plan(pay);
    let mut alerts = vec![];
    for tier in &pay_plan.tiers {
        for (provider, burn, tail, rows) in [
            (
                "x",
                "20.0",
                "50% of the budget left, gone in 18h 0m 0s at the current burn rate",
                vec![("a", "75%"), ("b", "25%")],
            ),
            (
                "y",
                "40.0",
                "-20% of the budget left: the budget is exhausted",
                vec![("c", "100%")],
            ),
        ] {
            let who = format!("api/payments for provider={provider}");
            alerts.push((
                base(pay, tier, Some(provider)),
                vec![
                    ("summary".into(), summary(&who, tier, burn, tail)),
                    ("breakdown".into(), breakdown(tier, &rows)),
                    ("description".into(), "Payments succeed.".into()),
                    (
                        "dashboard_url".into(),
                        "http://localhost:3000/d/slo-api".into(),
                    ),
                    (
                        "runbook_url".into(),
                        "https://runbooks.example.com/payments".into(),
                    ),
                ],
            ));
        }
    }
    expected.push(("ApiPayments".into(), alerts));
    for (name, alerts) in &expected {
        let _ = writeln!(
            t,
            "      - eval_time: {at}\n        alertname: {name}\n        exp_alerts:"
        );
        for (labels, annotations) in alerts {
            t.push_str("          - exp_labels:\n");
            for (k, v) in labels {
                let _ = writeln!(t, "              {k}: {}", json(v));
            }
            t.push_str("            exp_annotations:\n");
            for (k, v) in annotations {
                let _ = writeln!(t, "              {k}: {}", json(v));
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.yaml"), &rules).unwrap();
    std::fs::write(dir.path().join("test.yaml"), &t).unwrap();
    let (ok, out) = crate::support::promtool(dir.path(), &["test", "rules", "test.yaml"]);
    assert!(ok, "{out}\n{t}");
}

/// One expected alert: its labels and annotations.
type Expected = (Vec<(String, String)>, Vec<(String, String)>);

fn json(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}
