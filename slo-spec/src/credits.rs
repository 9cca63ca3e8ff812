//! The SLA credits document: the `credits` list `slo-gen report --format json` writes and
//! an invoicing job (the exporter's admin listener) reads. Defined once, so the writer and
//! the reader cannot disagree on a field or on how a percentage is read.

use crate::decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One SLO and group owed a credit for a period. Numbers are exact decimal text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaCredit {
    pub service: String,
    pub slo: String,
    /// The SLO's group labels; credits go to accounts (`group_by: [account]`).
    #[serde(default)]
    pub group: BTreeMap<String, String>,
    /// The period, RFC 3339.
    pub from: String,
    pub to: String,
    pub attainment_percent: String,
    pub sla_objective: String,
    /// The credit tier the attainment fell below.
    pub tier_below: String,
    pub credit_percent: String,
}

impl SlaCredit {
    /// `credit_percent` in hundredths of a percent (`12.5` → 1250), exact; `None` outside
    /// (0, 100] or with more than two decimals (credits are money: refused, not rounded).
    pub fn basis_points(&self) -> Option<u32> {
        basis_points(&self.credit_percent)
    }
}

/// `10`, `12.5`, `0.25` → hundredths of a percent, as [`SlaCredit::basis_points`]; only
/// plain decimal text (no sign, exponent or leading dot), as the report writes it.
pub fn basis_points(text: &str) -> Option<u32> {
    let plain = text.split_once('.').map_or(text, |(whole, _)| whole);
    if plain.is_empty() || !text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let hundredths = Decimal::parse(text)?.to_hundredths()?;
    (hundredths > 0 && hundredths <= 10_000).then_some(hundredths as u32)
}

/// A credit of `basis_points` on a charge, in cents, rounded half up; never more than the
/// charge. The one spelling of a credit in money: invoices and statements agree.
pub fn cents(charge: u64, basis_points: u32) -> u64 {
    let c = (charge as u128 * basis_points as u128 + 5_000) / 10_000;
    (c as u64).min(charge)
}

/// A service level agreement: what customers are owed when a period's attainment falls
/// below a tier. Exact decimals: credits are money.
#[derive(Clone, Debug, PartialEq)]
pub struct Sla {
    /// The promised attainment in percent, as written.
    pub objective: Decimal,
    pub objective_text: String,
    /// Tiers by descending `below`: the credit of the lowest tier the attainment is under.
    pub credits: Vec<CreditTier>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CreditTier {
    /// Attainment in percent under which the tier applies.
    pub below: Decimal,
    pub below_text: String,
    /// Credit as a percentage of the period's charge.
    pub credit_percent: Decimal,
    pub credit_text: String,
}

impl Sla {
    /// The tier an attainment (in percent, exact) falls under: the one with the lowest
    /// `below` still above it; `None` when the SLA was met.
    pub fn tier(&self, attainment_percent: Decimal) -> Option<&CreditTier> {
        self.credits
            .iter()
            .rev()
            .find(|t| attainment_percent.compare(t.below) == Some(std::cmp::Ordering::Less))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_are_exact_or_refused() {
        assert_eq!(basis_points("10"), Some(1000));
        assert_eq!(basis_points("12.5"), Some(1250));
        assert_eq!(basis_points("0.25"), Some(25));
        assert_eq!(basis_points("100"), Some(10_000));
        for bad in [
            "0", "100.01", "12.345", "-5", "1e1", "", ".5", "10%", "ten", "1.2.3",
        ] {
            assert_eq!(basis_points(bad), None, "{bad}");
        }
    }
}
