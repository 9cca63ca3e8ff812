//! The built-in traffic generator (`--traffic RPS`): exercises every service over loopback
//! HTTP so every SLI has data, including the client errors SLIs must not count.

use super::accounts::Accounts;
use super::api::sign;
use super::rating::Meter;
use rand::Rng;
use serde_json::json;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::watch;

/// Requests the generator lets wait at once (e.g. under a latency fault).
const MAX_IN_FLIGHT: usize = 256;

pub async fn run(addr: SocketAddr, accounts: Accounts, rps: f64, mut stop: watch::Receiver<bool>) {
    if rps <= 0.0 {
        return;
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .no_proxy()
        .build()
        .expect("a plain HTTP client builds");
    let base = format!("http://{addr}");
    let mut interval = tokio::time::interval(Duration::from_secs_f64(1.0 / rps));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut n: u64 = 0;
    let in_flight = std::sync::Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT));
    let mut recent: Vec<String> = Vec::new();
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = stop.changed() => return,
        }
        n += 1;
        // Fire and forget, so a slow answer does not slow the generator down; at most
        // MAX_IN_FLIGHT requests wait at once, the rest of a burst is skipped.
        let Ok(permit) = in_flight.clone().try_acquire_owned() else {
            continue;
        };
        let req = request(&client, &base, &accounts, n, &mut recent);
        tokio::spawn(async move {
            let _ = req.send().await;
            drop(permit);
        });
    }
}

// Long: one match over the generated request kinds, each arm one request.
fn request(
    client: &reqwest::Client,
    base: &str,
    accounts: &Accounts,
    n: u64,
    recent: &mut Vec<String>,
) -> reqwest::RequestBuilder {
    let mut rng = rand::rng();
    let account = &accounts.accounts[rng.random_range(0..accounts.accounts.len())];
    let roll: f64 = rng.random();
    match n % 4 {
        0 | 1 => {
            let mut events = Vec::new();
            for i in 0..rng.random_range(1..=5) {
                let id = if roll < 0.05 && !recent.is_empty() {
                    recent[rng.random_range(0..recent.len())].clone()
                } else {
                    format!("evt-{n}-{i}-{}", rng.random::<u32>())
                };
                if recent.len() < 256 {
                    recent.push(id.clone());
                } else {
                    let k = rng.random_range(0..recent.len());
                    recent[k] = id.clone();
                }
                let meter = if roll > 0.98 {
                    "bogus_meter"
                } else {
                    Meter::ALL[rng.random_range(0..Meter::ALL.len())].as_str()
                };
                events.push(json!({
                    "id": id,
                    "account": account.id,
                    "meter": meter,
                    "quantity": rng.random_range(1..1_000_000u64),
                    "timestamp": jiff::Timestamp::now().to_string(),
                }));
            }
            let token = if roll > 0.97 && roll <= 0.98 {
                "wrong"
            } else {
                accounts.ingest_token.as_str()
            };
            client
                .post(format!("{base}/v1/usage"))
                .bearer_auth(token)
                .json(&json!({"events": events}))
        }
        2 => {
            // Mostly the owner's token; sometimes another tenant's (must be refused).
            let other = &accounts.accounts[rng.random_range(0..accounts.accounts.len())];
            let token = if roll < 0.05 {
                &other.token
            } else {
                &account.token
            };
            client
                .get(format!("{base}/v1/accounts/{}/usage", account.id))
                .bearer_auth(token)
        }
        _ => {
            let providers: Vec<(&String, &String)> = accounts.providers.iter().collect();
            // In turn, so each provider's share of the traffic is steady (and the
            // cluster e2e test's per-provider ratios are not sampling noise).
            let (provider, secret) = providers[(n / 4) as usize % providers.len()];
            let kind = if roll < 0.03 {
                "payment.declined"
            } else {
                "payment.succeeded"
            };
            let id = if roll > 0.95 {
                format!("pay-{}", n.saturating_sub(4))
            } else {
                format!("pay-{n}")
            };
            let body = serde_json::to_vec(&json!({"id": id, "type": kind, "account": account.id, "amount": rng.random_range(100..100_000)}))
                .expect("JSON serialises");
            let signature = if (0.93..0.95).contains(&roll) {
                "sha256=00".to_string()
            } else {
                sign(secret, &body)
            };
            client
                .post(format!("{base}/v1/webhooks/payments/{provider}"))
                .header("x-signature", signature)
                .header("content-type", "application/json")
                .body(body)
        }
    }
}
