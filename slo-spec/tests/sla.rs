//! `sla:` as a contract an invoicing job can trust: each fault positioned and explained,
//! and the tier an attainment falls under decided exactly.

use slo_spec::decimal::Decimal;
use slo_spec::{check, Source};

fn load(sla: &str) -> slo_spec::Checked {
    check(&[Source {
        path: "s.yaml".into(),
        text: format!(
            "version: v1\nservice: s\nowner: o\nslos:\n  - name: a\n    description: d\n    objective: 99.9\n    sli:\n      ratio:\n        errors: sum(rate(x_total{{code=\"500\"}}[{{{{window}}}}]))\n        total: sum(rate(x_total[{{{{window}}}}]))\n    sla:\n{sla}"
        ),
    }])
}

/// `(line, column, message part)` of every diagnostic, in order.
fn check_sla(sla: &str, expected: &[(u64, u64, &str)]) {
    let c = load(sla);
    let got: Vec<(u64, u64, String)> = c
        .diagnostics
        .iter()
        .map(|d| {
            (
                d.span.line,
                d.span.column,
                format!("{}: {}", d.code.as_str(), d.message),
            )
        })
        .collect();
    assert_eq!(got.len(), expected.len(), "{got:#?}");
    for ((l, col, m), (el, ecol, em)) in got.iter().zip(expected) {
        assert_eq!((*l, *col), (*el, *ecol), "{m}");
        assert!(m.contains(em), "{m} lacks {em}");
    }
}

#[test]
fn faults_are_positioned() {
    check_sla(
        "      objective: 99.95\n      credits: [{below: 99.9, credit_percent: 10}]\n",
        &[(
            13,
            18,
            "E024: `sla.objective` 99.95 is above the SLO's own objective 99.9",
        )],
    );
    check_sla(
        "      objective: 99.5\n      credits: [{below: 99.9, credit_percent: 10}]\n",
        &[(
            14,
            25,
            "E024: `sla.credits[0].below` 99.9 is above the SLA objective 99.5",
        )],
    );
    check_sla(
        "      objective: 99.9\n      credits:\n        - {below: 99.9, credit_percent: 10}\n        - {below: 95, credit_percent: 5}\n        - {below: 90, credit_percent: 120}\n",
        &[
            (16, 39, "E024: `sla.credits[1].credit_percent` 5 is less than the tier above it (10)"),
            (17, 39, "E024: `sla.credits[2].credit_percent` must be above 0 and at most 100"),
        ],
    );
    check_sla(
        "      objective: 99.9\n      credits: []\n",
        &[(14, 16, "E024: `sla.credits` lists no tier")],
    );
    check_sla(
        "      objective: 99.9\n      credits: [{below: 99, credit: 10}]\n",
        &[
            (14, 17, "E004: missing required field `credit_percent`"),
            (14, 29, "E002: unknown field `credit`"),
        ],
    );
    check_sla(
        "      objective: '99.9'\n      credits: [{below: 99, credit_percent: 10}]\n",
        &[(13, 18, "E003")],
    );
}

#[test]
fn the_tier_is_the_lowest_below_the_attainment_is_under() {
    let c = load("      objective: 99.9\n      credits:\n        - {below: 99.9, credit_percent: 10}\n        - {below: 99, credit_percent: 25}\n        - {below: 95, credit_percent: 100}\n");
    assert!(!c.has_errors(), "{:?}", c.diagnostics);
    let sla = c.services[0].slos[0].sla.clone().unwrap();
    let tier = |a: &str| {
        sla.tier(Decimal::parse(a).unwrap())
            .map(|t| t.credit_text.clone())
    };
    assert_eq!(tier("99.9"), None, "exactly the objective is met");
    assert_eq!(tier("99.95"), None);
    assert_eq!(tier("99.8999999999"), Some("10".into()));
    assert_eq!(tier("99"), Some("10".into()), "99 is not below 99");
    assert_eq!(tier("98.99"), Some("25".into()));
    assert_eq!(tier("94.999"), Some("100".into()));
    assert_eq!(tier("0"), Some("100".into()));
}
