//! SLA credits from `slo-gen report --format json`: the `credits` list, one entry per SLO
//! and account owed a credit for a period. The admin listener takes the report; the next
//! invoice run of each account applies its pending credits as line items in integer cents
//! (a percentage of that invoice's charge, rounded half up), once.

use serde::{Deserialize, Serialize};
use slo_spec::credits::SlaCredit;

/// One credit as the report states it, and as the store keeps it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Credit {
    pub account: String,
    pub service: String,
    pub slo: String,
    pub from: String,
    pub to: String,
    /// The report's exact decimal text, e.g. `10` or `12.5`.
    pub credit_percent: String,
    /// The same in hundredths of a percent (`12.5` → 1250).
    pub basis_points: u32,
}

impl Credit {
    /// One credit per account, SLO and period: posting the same report twice adds nothing.
    pub fn key(&self) -> String {
        format!(
            "{}/{}/{}/{}",
            self.account, self.service, self.slo, self.from
        )
    }

    /// This credit on a charge, in cents, rounded half up; never more than the charge.
    pub fn cents(&self, charge: u64) -> u64 {
        slo_spec::credits::cents(charge, self.basis_points)
    }
}

/// A report the exporter cannot honour; `field` is where.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct CreditError {
    pub field: String,
    pub message: String,
}

fn err(field: impl Into<String>, message: impl Into<String>) -> CreditError {
    CreditError {
        field: field.into(),
        message: message.into(),
    }
}

/// Reads the `credits` of a report; every entry must name a known account.
pub fn parse(body: &[u8], known: &dyn Fn(&str) -> bool) -> Result<Vec<Credit>, CreditError> {
    let doc: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| err("body", format!("not JSON: {e}")))?;
    let list = doc
        .get("credits")
        .and_then(|c| c.as_array())
        .ok_or_else(|| {
            err(
                "credits",
                "missing: post the JSON of `slo-gen report --format json`",
            )
        })?;
    list.iter()
        .enumerate()
        .map(|(i, v)| {
            let at = format!("credits[{i}]");
            let c: SlaCredit =
                serde_json::from_value(v.clone()).map_err(|e| err(at.clone(), e.to_string()))?;
            let account = c.group.get("account").cloned().ok_or_else(|| {
                err(
                    format!("{at}.group.account"),
                    "missing: credits go to accounts (an SLO with `group_by: [account]`)",
                )
            })?;
            if !known(&account) {
                return Err(err(
                    format!("{at}.group.account"),
                    format!("no account `{account}`"),
                ));
            }
            let basis_points = c.basis_points().ok_or_else(|| {
                err(
                    format!("{at}.credit_percent"),
                    format!(
                        "`{}` is not a percentage in (0, 100] with at most two decimals",
                        c.credit_percent
                    ),
                )
            })?;
            Ok(Credit {
                account,
                service: c.service,
                slo: c.slo,
                from: c.from,
                to: c.to,
                credit_percent: c.credit_percent,
                basis_points,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cents_round_half_up_and_never_exceed_the_charge() {
        let c = |bp| Credit {
            account: "a".into(),
            service: "s".into(),
            slo: "x".into(),
            from: "f".into(),
            to: "t".into(),
            credit_percent: String::new(),
            basis_points: bp,
        };
        assert_eq!(c(1000).cents(12_345), 1_235, "1234.5 rounds up");
        assert_eq!(c(1000).cents(12_344), 1_234);
        assert_eq!(c(2500).cents(1), 0);
        assert_eq!(c(10_000).cents(999), 999);
        assert_eq!(c(10_000).cents(u64::MAX), u64::MAX, "no overflow");
    }

    #[test]
    fn reports_are_checked_with_the_field_named() {
        let known = |a: &str| a == "acme";
        let ok = br#"{"credits": [{"service": "usage-api", "slo": "availability", "group": {"account": "acme"}, "from": "2026-10-01T00:00:00Z", "to": "2026-11-01T00:00:00Z", "attainment_percent": "99.5", "sla_objective": "99.9", "tier_below": "99.9", "credit_percent": "10"}]}"#;
        let c = parse(ok, &known).unwrap();
        assert_eq!(c[0].basis_points, 1000);
        assert_eq!(
            c[0].key(),
            "acme/usage-api/availability/2026-10-01T00:00:00Z"
        );
        // A whole entry as the report writes it, with `group` and `credit_percent` given.
        let entry = |group: &str, percent: &str| {
            format!(
                r#"{{"credits": [{{"service": "s", "slo": "x", "group": {group}, "from": "f", "to": "t", "attainment_percent": "99", "sla_objective": "99.9", "tier_below": "99.9", "credit_percent": "{percent}"}}]}}"#
            )
        };
        let without_slo = entry(r#"{"account": "acme"}"#, "10").replace(r#""slo": "x", "#, "");
        for (body, field) in [
            ("{".to_string(), "body"),
            ("{}".to_string(), "credits"),
            (entry("{}", "10"), "credits[0].group.account"),
            (
                entry(r#"{"account": "other"}"#, "10"),
                "credits[0].group.account",
            ),
            (
                entry(r#"{"account": "acme"}"#, "10.125"),
                "credits[0].credit_percent",
            ),
            (without_slo, "credits[0]"),
        ] {
            assert_eq!(parse(body.as_bytes(), &known).unwrap_err().field, field);
        }
    }
}
