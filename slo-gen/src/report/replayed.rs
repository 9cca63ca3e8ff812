//! What the rules raise when replayed over the report's range, with the low-traffic test
//! ([`slo_spec::significance`]) and without it: backtest's evaluator on the range's
//! history, per SLO and group, so a month's report shows what the test spared on-call
//! next to what `ALERTS` recorded. Only SLOs with the test (event SLIs) are replayed.

use super::Report;
use crate::backtest::{self, history, Evaluation};
use crate::promapi::{ApiError, Client};
use slo_spec::{Service, Tier};

/// Pages and tickets of one SLO and group in the replay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Replayed {
    pub pages: usize,
    pub tickets: usize,
    /// The same rules without the low-traffic test.
    pub pages_without_test: usize,
    pub tickets_without_test: usize,
}

/// Replays the SLOs with the test over the report's range and attaches the counts.
pub fn attach(
    (client, source): (&Client, crate::rules::sli::Source),
    services: &[Service],
    report: &mut Report,
    progress: &mut dyn FnMut(String),
) -> Result<(), ApiError> {
    let targets: Vec<_> = backtest::targets_from(services, source)
        .into_iter()
        .filter(|t| t.plan.tiers.iter().any(|tier| tier.z2.is_some()))
        .collect();
    if targets.is_empty() {
        return Ok(());
    }
    let (from, to) = (report.range.from, report.range.to);
    let needs: Vec<_> = targets
        .iter()
        .map(|t| t.need(from, to, Evaluation::Groups))
        .collect();
    let history = history::fetch(client, &needs, from, to, progress)?;
    // The history was fetched for exactly these targets: none can be missing from it.
    let Ok(run) = backtest::replay(&targets, &history, Evaluation::Groups) else {
        return Ok(());
    };
    for r in &mut report.slos {
        let found = run
            .slos
            .iter()
            .find(|s| s.service == r.service && s.slo == r.slo && s.group == r.group);
        r.replayed = found.and_then(|s| {
            let (pages_without_test, tickets_without_test) = s.without_low_traffic_test?;
            Some(Replayed {
                pages: s.count(Tier::Page),
                tickets: s.count(Tier::Ticket),
                pages_without_test,
                tickets_without_test,
            })
        });
    }
    Ok(())
}
