//! SLA credits end to end on the real binary: the JSON `slo-gen report` writes is posted to
//! the admin listener; the next invoice run puts each credit on the account's invoice as
//! integer cents, once, and keeps it there as the run rewrites the period's invoice.

use crate::common::*;
use serde_json::Value;
use slo_gen::report::{credit, Range, Report, SloReport};

/// globex's October: its SLA says 99.9% availability (10% credit below it) and 99% within
/// the latency threshold (2.5% below it).
const SPEC: &str = r#"version: v1
service: usage-api
owner: billing
slos:
  - name: availability
    description: Usage API requests succeed.
    objective: 99.95
    group_by: [account]
    sli:
      ratio:
        errors: sum by (account) (rate(http_requests_total{code=~"5.."}[{{window}}]))
        total: sum by (account) (rate(http_requests_total[{{window}}]))
    sla:
      objective: 99.9
      credits:
        - {below: 99.9, credit_percent: 10}
        - {below: 99, credit_percent: 25}
  - name: latency
    description: Usage API answers fast.
    objective: 99.5
    group_by: [account]
    sli:
      ratio:
        errors: sum by (account) (rate(http_requests_total{slow="true"}[{{window}}]))
        total: sum by (account) (rate(http_requests_total[{{window}}]))
    sla:
      objective: 99
      credits:
        - {below: 99, credit_percent: 2.5}
"#;

/// The JSON `slo-gen report --format json` writes for October 2026 with globex's
/// availability at 99.798387% and its latency at 98.5%: what an operator posts.
fn report() -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("usage-api.yaml"), SPEC).unwrap();
    let loaded = slo_gen::load(&[dir.path().to_path_buf()]).unwrap();
    assert!(
        !loaded.checked.has_errors(),
        "{:?}",
        loaded.checked.diagnostics
    );
    let svc = &loaded.checked.services[0];
    let counts = [(1_000_000.0, 2_016.13), (1_000.0, 15.0)];
    let slos = svc
        .slos
        .iter()
        .zip(counts)
        .map(|(slo, (events, bad))| {
            let mut r = SloReport {
                service: svc.name.clone(),
                slo: slo.name.clone(),
                objective: slo.objective.text.clone(),
                group: [("account".to_string(), "globex".to_string())].into(),
                events: Some(events),
                bad: Some(bad),
                unit: "events",
                firings: Vec::new(),
                budget_curve: Vec::new(),
                budget: slo.objective.budget_decimal().to_f64(),
                objective_ratio: slo.objective.ratio_decimal().to_f64(),
                credit: None,
                excluded: Vec::new(),
                coverage: Some(1.0),
                replayed: None,
            };
            r.credit = credit(slo, r.attainment());
            r
        })
        .collect();
    let range = Range::month("2026-10").unwrap();
    slo_gen::report::render::json(&Report { range, slos })
}

fn latest_invoice(e: &Exporter, account: &str) -> Option<Value> {
    let (code, body) = get(&format!("{}/invoices/{account}", e.admin), None);
    assert_eq!(code, 200, "{body}");
    let list: Vec<Value> = serde_json::from_str(&body).unwrap();
    list.last().cloned()
}

#[test]
fn a_reports_credits_land_on_the_next_invoice_once() {
    let dir = tempfile::tempdir().unwrap();
    let e = Exporter::start(dir.path(), &[]);
    let report = report();
    assert!(
        report.contains(r#""attainment_percent": "99.798387""#),
        "{report}"
    );
    // globex pays a 50,000-cent subscription: 10% and 2.5% of it.
    let (code, body) = post(
        &format!("{}/sla-credits", e.admin),
        &[("content-type", "application/json")],
        &report,
    );
    assert_eq!(code, 200, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["added"], 2);
    let mut invoice = Value::Null;
    wait_until("an invoice with the credits", || {
        invoice = latest_invoice(&e, "globex").unwrap_or(Value::Null);
        invoice["sla_credits"]
            .as_array()
            .is_some_and(|c| c.len() == 2)
    });
    assert_eq!(invoice["charge_before_credits"], 50_000);
    let cents: Vec<u64> = invoice["sla_credits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["cents"].as_u64().unwrap())
        .collect();
    assert_eq!(cents, vec![5_000, 1_250]);
    assert_eq!(invoice["total_cost"], 50_000 - 6_250);

    // The same report again adds nothing; later runs keep the credits on this invoice
    // without applying them twice.
    let (code, body) = post(
        &format!("{}/sla-credits", e.admin),
        &[("content-type", "application/json")],
        &report,
    );
    assert_eq!(code, 200);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["already"], 2);
    // Two full invoice runs after it (an invoice per demo account each): the credits
    // stay on globex's invoice, applied once.
    let issued = || sample(&e.metrics(), r#"billing_invoices_total{outcome="ok"}"#).unwrap_or(0.0);
    let before = issued();
    wait_until("two more invoice runs", || issued() >= before + 2.0 * 3.0);
    let again = latest_invoice(&e, "globex").unwrap();
    assert_eq!(again["total_cost"], 43_750, "{again}");
    assert_eq!(again["sla_credits"].as_array().unwrap().len(), 2);
    // Other accounts are not credited.
    let acme = latest_invoice(&e, "acme").unwrap();
    assert_eq!(acme["sla_credits"].as_array().unwrap().len(), 0, "{acme}");

    // A report the exporter cannot honour is refused, naming the field.
    for (body, field) in [
        (
            report.replace("\"globex\"", "\"nobody\""),
            "credits[0].group.account",
        ),
        (
            report.replace("\"2.5\"", "\"2.555\""),
            "credits[1].credit_percent",
        ),
        ("{\"slos\": []}".to_string(), "credits"),
    ] {
        let (code, resp) = post(
            &format!("{}/sla-credits", e.admin),
            &[("content-type", "application/json")],
            &body,
        );
        assert_eq!(code, 422, "{resp}");
        assert_eq!(
            serde_json::from_str::<Value>(&resp).unwrap()["field"],
            field
        );
    }
}
