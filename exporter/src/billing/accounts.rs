//! Accounts, tokens, price plans and payment providers: `--accounts FILE` or the demo set.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

pub const METERS: &[&str] = &[
    "storage_byte_hours",
    "egress_bytes",
    "class_b_transactions",
    "class_c_transactions",
];

/// Prices in micro-cents (millionths of a cent) per unit; money is integer cents.
pub fn unit_price_microcents(meter: &str) -> f64 {
    match meter {
        // $0.023 per GB-month of 730 hours.
        "storage_byte_hours" => 0.0000031_5,
        // $0.09 per GB.
        "egress_bytes" => 0.009,
        // $0.36 and $4.50 per million operations.
        "class_b_transactions" => 36.0,
        "class_c_transactions" => 450.0,
        _ => 0.0,
    }
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case")]
pub enum Plan {
    /// Every unit is billed.
    #[default]
    Usage,
    /// A flat monthly fee, usage included.
    Subscription { fee_cents: i64 },
    /// A flat fee including an allowance per meter; usage beyond it is billed.
    Hybrid {
        fee_cents: i64,
        included: BTreeMap<String, f64>,
    },
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    pub id: String,
    pub token: String,
    #[serde(default)]
    pub plan: Plan,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Accounts {
    pub ingest_token: String,
    pub accounts: Vec<Account>,
    /// Webhook signing secrets per payment provider.
    #[serde(default = "default_providers")]
    pub providers: BTreeMap<String, String>,
}

fn default_providers() -> BTreeMap<String, String> {
    [
        ("stripe", "whsec_demo_stripe"),
        ("adyen", "whsec_demo_adyen"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

impl Accounts {
    /// The documented demo set (README): ingest token `demo-ingest-token`, accounts
    /// `acme` (usage plan), `globex` (subscription) and `initech` (hybrid).
    pub fn demo() -> Self {
        Accounts {
            ingest_token: "demo-ingest-token".into(),
            accounts: vec![
                Account {
                    id: "acme".into(),
                    token: "acme-token".into(),
                    plan: Plan::Usage,
                },
                Account {
                    id: "globex".into(),
                    token: "globex-token".into(),
                    plan: Plan::Subscription { fee_cents: 50_000 },
                },
                Account {
                    id: "initech".into(),
                    token: "initech-token".into(),
                    plan: Plan::Hybrid {
                        fee_cents: 10_000,
                        included: [("egress_bytes".to_string(), 1e12)].into_iter().collect(),
                    },
                },
            ],
            providers: default_providers(),
        }
    }

    pub fn load(path: &Path) -> Result<Self, AccountsError> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| AccountsError::Io {
            path: p.clone(),
            source,
        })?;
        let accounts: Accounts =
            serde_saphyr::from_str(&text).map_err(|e| AccountsError::Invalid {
                path: p.clone(),
                message: e.to_string(),
            })?;
        if accounts.ingest_token.is_empty()
            || accounts
                .accounts
                .iter()
                .any(|a| a.token.is_empty() || a.id.is_empty())
        {
            return Err(AccountsError::Invalid {
                path: p,
                message: "tokens and ids must not be empty".into(),
            });
        }
        Ok(accounts)
    }

    pub fn get(&self, id: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.id == id)
    }

    /// The account a bearer token belongs to (compared in constant time).
    pub fn by_token(&self, token: &str) -> Option<&Account> {
        self.accounts
            .iter()
            .find(|a| ct_eq(a.token.as_bytes(), token.as_bytes()))
    }
}

/// Constant-time equality for secrets of equal length.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// One rated line item.
#[derive(Clone, Debug, serde::Serialize, PartialEq)]
pub struct LineItem {
    pub meter: String,
    pub quantity: f64,
    /// Integer cents.
    pub cost: i64,
}

/// Rates usage under a plan: line items per meter plus the plan fee, in integer cents.
pub fn rate(plan: &Plan, usage: &BTreeMap<String, f64>) -> (Vec<LineItem>, i64) {
    let mut items = Vec::new();
    let mut total = 0i64;
    let fee = match plan {
        Plan::Usage => 0,
        Plan::Subscription { fee_cents } | Plan::Hybrid { fee_cents, .. } => *fee_cents,
    };
    for meter in METERS {
        let quantity = usage.get(*meter).copied().unwrap_or(0.0);
        let billable = match plan {
            Plan::Usage => quantity,
            Plan::Subscription { .. } => 0.0,
            Plan::Hybrid { included, .. } => {
                (quantity - included.get(*meter).copied().unwrap_or(0.0)).max(0.0)
            }
        };
        let cost = (billable * unit_price_microcents(meter) / 1e6).round() as i64;
        total += cost;
        items.push(LineItem {
            meter: meter.to_string(),
            quantity,
            cost,
        });
    }
    (items, total + fee)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_rate_in_integer_cents() {
        let usage: BTreeMap<String, f64> = [
            ("egress_bytes".to_string(), 2e12),
            ("class_b_transactions".to_string(), 1e6),
        ]
        .into();
        let (items, total) = rate(&Plan::Usage, &usage);
        assert_eq!(
            items
                .iter()
                .find(|i| i.meter == "egress_bytes")
                .unwrap()
                .cost,
            18_000
        ); // 2 TB at $0.09/GB
        assert_eq!(total, 18_000 + 36);
        let (_, total) = rate(&Plan::Subscription { fee_cents: 50_000 }, &usage);
        assert_eq!(total, 50_000);
        let hybrid = Plan::Hybrid {
            fee_cents: 10_000,
            included: [("egress_bytes".to_string(), 1e12)].into(),
        };
        assert_eq!(rate(&hybrid, &usage).1, 10_000 + 9_000 + 36);
    }

    #[test]
    fn tokens() {
        let a = Accounts::demo();
        assert_eq!(
            a.by_token("acme-token").map(|a| a.id.as_str()),
            Some("acme")
        );
        assert!(a.by_token("acme-token2").is_none() && a.by_token("").is_none());
    }
}
