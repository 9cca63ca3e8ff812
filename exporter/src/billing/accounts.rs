//! Accounts, their tokens and price plans, and payment providers: `--accounts FILE` or the
//! demo set.

use super::rating::Plan;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

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
                        included: [("egress_bytes".to_string(), 1_000_000_000_000)]
                            .into_iter()
                            .collect(),
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
        for a in &accounts.accounts {
            if let Some(fault) = a.plan.fault() {
                return Err(AccountsError::Invalid {
                    path: p,
                    message: format!("account `{}`: {fault}", a.id),
                });
            }
        }
        Ok(accounts)
    }

    /// The providers' names as label values. Leaked once at start: the set is fixed by the
    /// configuration, so the memory is bounded and recording a payment never allocates.
    pub fn provider_labels(&self) -> Vec<&'static str> {
        self.providers
            .keys()
            .map(|p| &*Box::leak(p.clone().into_boxed_str()))
            .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

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
