//! SLA credits end to end on the real binary: the JSON `slo-gen report` writes is posted to
//! the admin listener; the next invoice run puts each credit on the account's invoice as
//! integer cents, once, and keeps it there as the run rewrites the period's invoice.

mod common;

use common::*;
use serde_json::Value;

const REPORT: &str = r#"{
  "range": {"label": "2026-10", "from": "2026-10-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"},
  "slos": [],
  "credits": [
    {"service": "usage-api", "slo": "availability", "group": {"account": "globex"},
     "from": "2026-10-01T00:00:00Z", "to": "2026-11-01T00:00:00Z",
     "attainment_percent": "99.798387", "sla_objective": "99.9", "tier_below": "99.9", "credit_percent": "10"},
    {"service": "usage-api", "slo": "latency", "group": {"account": "globex"},
     "from": "2026-10-01T00:00:00Z", "to": "2026-11-01T00:00:00Z",
     "attainment_percent": "98.5", "sla_objective": "99", "tier_below": "99", "credit_percent": "2.5"}
  ]
}"#;

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
    // globex pays a 50,000-cent subscription: 10% and 2.5% of it.
    let (code, body) = post(
        &format!("{}/sla-credits", e.admin),
        &[("content-type", "application/json")],
        REPORT,
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
        REPORT,
    );
    assert_eq!(code, 200);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["already"], 2);
    std::thread::sleep(std::time::Duration::from_millis(2_500));
    let again = latest_invoice(&e, "globex").unwrap();
    assert_eq!(again["total_cost"], 43_750, "{again}");
    assert_eq!(again["sla_credits"].as_array().unwrap().len(), 2);
    // Other accounts are not credited.
    let acme = latest_invoice(&e, "acme").unwrap();
    assert_eq!(acme["sla_credits"].as_array().unwrap().len(), 0, "{acme}");

    // A report the exporter cannot honour is refused, naming the field.
    for (body, field) in [
        (
            REPORT.replace("\"globex\"", "\"nobody\""),
            "credits[0].group.account",
        ),
        (
            REPORT.replace("\"2.5\"", "\"2.555\""),
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
