//! OpenSLO v1 `kind: SLO` documents load into the same model; what has no equivalent is
//! refused with a position.

use slo_spec::{check, Format, Numerator, Sli, Source};

fn load(text: &str) -> slo_spec::Checked {
    check(&[Source {
        path: "o.yaml".into(),
        text: text.into(),
    }])
}

#[test]
fn slo_documents_of_one_service_become_one_service() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/conformance/openslo/checkout.yaml"
    ))
    .unwrap();
    let checked = load(&text);
    let errors = checked.errors();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(checked.services.len(), 1);
    let svc = &checked.services[0];
    assert_eq!(
        (svc.name.as_str(), svc.format, svc.owner.as_deref()),
        ("checkout", Format::OpenSloV1, Some("team-checkout"))
    );
    assert_eq!(svc.labels.get("tier").map(String::as_str), Some("1"));
    let [a, l] = svc.slos.as_slice() else {
        panic!("two SLOs")
    };
    assert_eq!(
        (
            a.name.as_str(),
            a.objective.text.as_str(),
            a.period.text.as_str()
        ),
        ("checkout-availability", "99.9", "28d")
    );
    assert_eq!(
        (
            l.name.as_str(),
            l.objective.text.as_str(),
            l.period.text.as_str()
        ),
        ("checkout-latency", "99", "30d")
    );
    let Sli::Ratio(r) = &a.sli else { panic!() };
    let Numerator::Errors(e) = &r.numerator else {
        panic!()
    };
    assert_eq!(
        e.render("5m"),
        r#"sum(rate(http_requests_total{job="checkout",code=~"5.."}[5m]))"#
    );
    let Sli::Ratio(r) = &l.sli else { panic!() };
    assert!(matches!(r.numerator, Numerator::Good(_)));
    assert_eq!(a.alerting.name, "CheckoutCheckoutAvailability");
}

fn doc(spec: &str) -> String {
    format!(
        "apiVersion: openslo/v1\nkind: SLO\nmetadata:\n  name: s\nspec:\n  service: svc\n{spec}"
    )
}

const INDICATOR: &str = "  indicator:\n    spec:\n      ratioMetric:\n        bad: {metricSource: {type: Prometheus, spec: {query: 'e_total'}}}\n        total: {metricSource: {type: Prometheus, spec: {query: 'e_total'}}}\n";

#[test]
fn calendar_windows_become_calendar_periods() {
    for (window, period) in [
        (
            "{duration: 1M, calendar: {startTime: '2024-01-01 00:00:00', timeZone: UTC}}",
            "calendar-month",
        ),
        ("{duration: 1w, isRolling: false}", "calendar-week"),
        (
            "{duration: 1Q, calendar: {startTime: '2024-01-01'}}",
            "calendar-quarter",
        ),
    ] {
        let c = load(&doc(&format!(
            "{INDICATOR}  objectives: [{{target: 0.99}}]\n  timeWindow: [{window}]\n"
        )));
        assert!(!c.has_errors(), "{window}: {:?}", c.diagnostics);
        let slo = &c.services[0].slos[0];
        assert_eq!(slo.period.text, period);
        assert!(slo.calendar().is_some());
    }
}

#[test]
fn what_has_no_equivalent_is_refused_with_a_position() {
    let cases = [
        ("apiVersion: openslo/v2\nkind: SLO\n".to_string(), "1:13 E005 unsupported apiVersion `openslo/v2`"),
        ("apiVersion: openslo/v1\nkind: AlertPolicy\nmetadata: {name: x}\nspec: {}\n".to_string(), "2:7 E021 OpenSLO kind `AlertPolicy` is not supported (openslo/v1)"),
        (doc(&format!("{INDICATOR}  objectives: [{{target: 0.99}}]\n  timeWindow: [{{duration: 2M, calendar: {{startTime: '2024-01-01'}}}}]\n")), "13:27 E021 a calendar window of `2M` is not supported (OpenSLO v1 SLO)"),
        (doc(&format!("{INDICATOR}  objectives: [{{target: 0.99}}]\n  timeWindow: [{{duration: 1M, calendar: {{startTime: '2024-01-01', timeZone: Europe/Paris}}}}]\n")), "13:77 E021 a calendar in time zone `Europe/Paris` is not supported (OpenSLO v1 SLO)"),
        (doc(&format!("{INDICATOR}  objectives: [{{target: 0.99}}]\n  budgetingMethod: Timeslices\n")), "13:20 E021 a budgeting method other than `Occurrences` is not supported (OpenSLO v1 SLO)"),
        (doc(&format!("{INDICATOR}  objectives: [{{target: 1.5}}]\n")), "12:25 E007 objective must be between 0% and 100% (exclusive), got 150% (OpenSLO v1 SLO)"),
        (doc(&INDICATOR.replace("type: Prometheus, spec: {query: 'e_total'}}}\n        total", "type: Datadog, spec: {query: 'e_total'}}}\n        total")), "10:36 E021 metric source type `Datadog` is not supported (OpenSLO v1 SLO)"),
        (doc(&format!("{}  objectives: [{{target: 0.99}}]\n", INDICATOR.replace("query: 'e_total'}}}\n        total", "query: 'rate(e_total[5m])'}}}\n        total"))), "10:62 E013 `ratioMetric.bad.query` has no `{{window}}` placeholder and is not a counter (OpenSLO v1 SLO)"),
    ];
    for (text, want) in cases {
        let got: Vec<String> = load(&text)
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| format!("{}:{} {} {}", d.span.line, d.span.column, d.code, d.message))
            .collect();
        assert!(
            got.iter().any(|g| g == want),
            "want {want}\ngot {got:#?}\n{text}"
        );
    }
}

#[test]
fn a_repeated_slo_document_is_a_duplicate() {
    let one = doc(&format!("{INDICATOR}  objectives: [{{target: 0.99}}]\n"));
    let got: Vec<String> = load(&format!("{one}---\n{one}"))
        .diagnostics
        .iter()
        .map(|d| format!("{}:{} {} {}", d.span.line, d.span.column, d.code, d.message))
        .collect();
    assert_eq!(
        got,
        ["17:9 E010 SLO `s` is declared twice in this file (OpenSLO v1 SLO)"]
    );
}

/// OpenSLO queries are bounded like every other query before the PromQL parser sees them:
/// the largest query a spec file can hold and the deepest nesting get a positioned
/// diagnostic, not a stack overflow or minutes of parsing.
#[test]
fn huge_and_deep_queries_are_refused_before_parsing() {
    let nested = |n: usize| format!("{}x{}", "(".repeat(n), ")".repeat(n));
    // As large as the file limit allows.
    let room = slo_spec::MAX_FILE_BYTES - doc(INDICATOR).len() - 64;
    let huge = format!("x{}", " or x".repeat(room / 5));
    for (query, want) in [
        (nested(100_000), "is 200001 bytes long; the limit is 16384"),
        // Within the length bound, the nesting bound holds.
        (nested(8_000), "nests brackets 8000 deep; the limit is 64"),
        (huge, "bytes long; the limit is 16384"),
    ] {
        let text = doc(&INDICATOR.replacen("query: 'e_total'", &format!("query: '{query}'"), 1));
        assert!(text.len() <= slo_spec::MAX_FILE_BYTES, "{}", text.len());
        let got: Vec<String> = load(&text)
            .diagnostics
            .iter()
            .map(|d| format!("{}:{} {} {}", d.span.line, d.span.column, d.code, d.message))
            .collect();
        assert!(
            got.iter()
                .any(|g| g.starts_with("10:62 E012 `ratioMetric.bad.query`") && g.contains(want)),
            "want {want} at 10:62, got {got:#?}"
        );
    }
}
