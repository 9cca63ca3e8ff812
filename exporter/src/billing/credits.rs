//! SLA credits from `slo-gen report --format json`: the `credits` list, one entry per SLO
//! and account owed a credit for a period. The admin listener takes the report; the next
//! invoice run of each account applies its pending credits as line items in integer cents
//! (a percentage of that invoice's charge, rounded half up), once.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
        let c = (charge as u128 * self.basis_points as u128 + 5_000) / 10_000;
        (c as u64).min(charge)
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

/// `10`, `12.5`, `0.25` → hundredths of a percent; more than two decimals, or outside
/// (0, 100], is refused rather than rounded (credits are money).
pub fn basis_points(text: &str) -> Option<u32> {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 2 {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: u32 = whole.parse().ok()?;
    let frac: u32 = format!("{frac:0<2}").parse().ok()?;
    let bp = whole.checked_mul(100)?.checked_add(frac)?;
    (bp > 0 && bp <= 10_000).then_some(bp)
}

#[derive(Deserialize)]
struct ReportCredit {
    service: String,
    slo: String,
    #[serde(default)]
    group: BTreeMap<String, String>,
    from: String,
    to: String,
    credit_percent: String,
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
            let c: ReportCredit =
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
            let basis_points = basis_points(&c.credit_percent).ok_or_else(|| {
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
    fn percentages_are_exact_or_refused() {
        assert_eq!(basis_points("10"), Some(1000));
        assert_eq!(basis_points("12.5"), Some(1250));
        assert_eq!(basis_points("0.25"), Some(25));
        assert_eq!(basis_points("100"), Some(10_000));
        for bad in ["0", "100.01", "12.345", "-5", "1e1", "", ".5", "10%", "ten"] {
            assert_eq!(basis_points(bad), None, "{bad}");
        }
    }

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
        for (body, field) in [
            (&b"{"[..], "body"),
            (&b"{}"[..], "credits"),
            (&br#"{"credits": [{"service": "s", "slo": "x", "group": {}, "from": "f", "to": "t", "credit_percent": "10"}]}"#[..], "credits[0].group.account"),
            (&br#"{"credits": [{"service": "s", "slo": "x", "group": {"account": "other"}, "from": "f", "to": "t", "credit_percent": "10"}]}"#[..], "credits[0].group.account"),
            (&br#"{"credits": [{"service": "s", "slo": "x", "group": {"account": "acme"}, "from": "f", "to": "t", "credit_percent": "10.125"}]}"#[..], "credits[0].credit_percent"),
            (&br#"{"credits": [{"service": "s", "group": {"account": "acme"}, "from": "f", "to": "t", "credit_percent": "10"}]}"#[..], "credits[0]"),
        ] {
            assert_eq!(parse(body, &known).unwrap_err().field, field);
        }
    }
}
