//! Alertmanager configuration to merge into `alertmanager.yml`: while an SLO's page fires,
//! the ticket of the same SLO (and group) is inhibited, so one problem notifies once.

use crate::names::{self, MARKER};
use crate::rules::emit::scalar;
use slo_spec::{Service, Tier};
use std::fmt::Write;

/// `inhibit_rules.yaml`: one rule. Alertmanager compares `equal` labels that are absent on
/// both alerts as equal, so listing every group label of every SLO inhibits per group where
/// an SLO is grouped and per SLO where it is not.
pub fn inhibit_rules(services: &[Service]) -> String {
    let mut equal = vec!["service".to_string(), "slo".to_string()];
    let mut groups: Vec<&String> = services
        .iter()
        .flat_map(|s| &s.slos)
        .flat_map(|s| &s.group_by)
        .collect();
    groups.sort();
    groups.dedup();
    equal.extend(groups.into_iter().cloned());
    let mut out = format!(
        "{MARKER} from the specs. DO NOT EDIT: change the specs and run `slo-gen generate`.\n\
         # Merge `inhibit_rules` into alertmanager.yml (see the README): while an SLO's page\n\
         # fires, the ticket for the same SLO and group is not sent.\n\
         inhibit_rules:\n"
    );
    let tier = |t: Tier| scalar(&format!("{}=\"{}\"", names::TIER_LABEL, t.as_str())).into_owned();
    let _ = writeln!(out, "  - source_matchers:\n      - {}", tier(Tier::Page));
    let _ = writeln!(out, "    target_matchers:\n      - {}", tier(Tier::Ticket));
    let _ = writeln!(
        out,
        "    equal: [{}]",
        equal
            .iter()
            .map(|e| scalar(e))
            .collect::<Vec<_>>()
            .join(", ")
    );
    out
}
