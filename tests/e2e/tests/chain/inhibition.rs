//! The generated inhibit rules, merged into a real Alertmanager's configuration: while a
//! page fires for an SLO and group, the ticket for the same SLO and group is not sent; a
//! ticket of another group is.

use e2e::{alerts, wait, Stack};
use std::path::Path;
use std::time::{Duration, Instant};

#[test]
fn a_page_inhibits_the_ticket_of_its_slo_and_group() {
    let slos = Path::new(env!("CARGO_MANIFEST_DIR")).join("slos");
    let stack = Stack::start(&slos, 0.0, false).unwrap_or_else(|e| panic!("{e}"));
    let alert = |tier: &'static str, provider: &'static str| -> Vec<(&'static str, &'static str)> {
        vec![
            ("alertname", "PaymentsPaymentProcessing"),
            ("service", "payments"),
            ("slo", "payment-processing"),
            ("provider", provider),
            ("severity", tier),
            ("slo_tier", tier),
        ]
    };
    let seen = |tier: &str, provider: &str, since: Instant| {
        alerts(&stack.notifications.lock().unwrap())
            .into_iter()
            .any(|(t, a)| {
                t > since && a["labels"]["slo_tier"] == tier && a["labels"]["provider"] == provider
            })
    };
    let start = Instant::now();
    stack.post_alerts(&[&alert("page", "stripe")]).unwrap();
    wait(
        "the page at the receiver",
        Duration::from_secs(30),
        &stack,
        || seen("page", "stripe", start).then_some(()),
    );
    stack
        .post_alerts(&[&alert("ticket", "stripe"), &alert("ticket", "adyen")])
        .unwrap();
    // The other group's ticket arrives; by then the inhibited one would have too.
    wait(
        "the other group's ticket",
        Duration::from_secs(30),
        &stack,
        || seen("ticket", "adyen", start).then_some(()),
    );
    // Three seconds after the other ticket arrived, still no ticket for the paging group:
    // the time is what is checked.
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        !seen("ticket", "stripe", start),
        "the ticket of the paging SLO and group was sent"
    );
    println!(
        "e2e: inhibition: ticket suppressed while page fires (the other group's ticket was sent)"
    );
}
