//! `billing-load`: a bounded ingest burst against a running `billing-exporter`, and what
//! customers see afterwards. N clients post batches of unique usage events for a fixed
//! time (and at most a fixed number of requests); the tool samples how far the usage API
//! is behind while the burst runs, then waits until every accepted event is visible.
//! Prints ingest and aggregation rates, the backlog and lag at the end of the burst, the
//! catch-up time and, given `--pid`, the server's peak RSS. Loopback only.

use clap::Parser;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Prints a line; a closed stdout (`billing-load | head -1`) ends the run quietly.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if writeln!(std::io::stdout().lock(), $($arg)*).is_err() {
            std::process::exit(0);
        }
    }};
}

#[derive(Parser)]
#[command(
    name = "billing-load",
    about = "Bounded ingest burst against billing-exporter"
)]
struct Cli {
    /// The exporter's public listener (loopback).
    #[arg(long, default_value = "http://127.0.0.1:9464")]
    url: String,
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Events per request.
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// How long the burst lasts.
    #[arg(long, default_value_t = 20.0)]
    seconds: f64,
    /// Requests per client at most.
    #[arg(long, default_value_t = 100_000)]
    max_requests: u64,
    /// How long to wait for the backlog to drain after the burst.
    #[arg(long, default_value_t = 600.0)]
    drain_seconds: f64,
    #[arg(long, default_value = "demo-ingest-token")]
    ingest_token: String,
    #[arg(long, default_value = "acme")]
    account: String,
    #[arg(long, default_value = "acme-token")]
    account_token: String,
    /// The exporter's process id, to read its peak RSS from /proc.
    #[arg(long)]
    pid: Option<u32>,
}

/// Quantity of `egress_bytes` the usage API shows for the account.
async fn visible(client: &reqwest::Client, cli: &Cli) -> Result<u64, String> {
    let v: Value = client
        .get(format!("{}/v1/accounts/{}/usage", cli.url, cli.account))
        .bearer_auth(&cli.account_token)
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    v["meters"]
        .as_array()
        .and_then(|m| m.iter().find(|i| i["meter"] == "egress_bytes"))
        .and_then(|i| i["quantity"].as_f64())
        .map(|q| q as u64)
        .ok_or_else(|| format!("no egress_bytes in {v}"))
}

/// The exporter's own aggregation lag gauge.
async fn lag_gauge(client: &reqwest::Client, cli: &Cli) -> Option<f64> {
    let text = client
        .get(format!("{}/metrics", cli.url))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    let prefix = "billing_pipeline_lag_seconds{pipeline=\"usage-aggregation\"} ";
    text.lines()
        .find_map(|l| l.strip_prefix(prefix))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

fn peak_rss_mib(pid: u32) -> Option<(f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib = |key: &str| -> Option<f64> {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    };
    Some((kib("VmHWM:")? / 1024.0, kib("VmRSS:")? / 1024.0))
}

#[tokio::main]
// Long: the load run in order (arguments, accounts, bounded bursts, percentiles), one screen of a script.
async fn main() -> Result<(), String> {
    let cli = Arc::new(Cli::parse());
    let host = cli
        .url
        .trim_start_matches("http://")
        .split([':', '/'])
        .next()
        .unwrap_or("");
    if !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
        return Err(format!("{} is not a loopback address", cli.url));
    }
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())?;
    let before = visible(&client, &cli).await?;
    let run = std::process::id();
    let accepted = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let until = start + Duration::from_secs_f64(cli.seconds);
    let mut tasks = Vec::new();
    for c in 0..cli.clients {
        let (cli, client) = (cli.clone(), client.clone());
        let (accepted, failed) = (accepted.clone(), failed.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            for seq in 0..cli.max_requests {
                if Instant::now() >= until {
                    break;
                }
                let now = jiff::Timestamp::now().to_string();
                let events: Vec<Value> = (0..cli.batch)
                    .map(|i| {
                        json!({"id": format!("load-{run}-{c}-{seq}-{i}"), "account": cli.account,
                               "meter": "egress_bytes", "quantity": 1, "timestamp": now})
                    })
                    .collect();
                let sent = Instant::now();
                let r = client
                    .post(format!("{}/v1/usage", cli.url))
                    .bearer_auth(&cli.ingest_token)
                    .json(&json!({ "events": events }))
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status().is_success() => {
                        let n = r
                            .json::<Value>()
                            .await
                            .ok()
                            .and_then(|v| v["accepted"].as_u64())
                            .unwrap_or(0);
                        accepted.fetch_add(n, Ordering::Relaxed);
                        latencies.push(sent.elapsed().as_secs_f64());
                    }
                    _ => {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            latencies
        }));
    }
    // Sample the lag while the burst runs.
    let mut max_lag: f64 = 0.0;
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(500)).await;
        if let Some(l) = lag_gauge(&client, &cli).await {
            max_lag = max_lag.max(l);
        }
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.unwrap_or_default());
    }
    let burst = start.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let quantile = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q).ceil() as usize).saturating_sub(1))
            .map(|s| s * 1000.0)
            .unwrap_or(f64::NAN)
    };
    let total = accepted.load(Ordering::Relaxed);
    let seen = visible(&client, &cli).await?.saturating_sub(before);
    let lag = lag_gauge(&client, &cli).await;
    say!(
        "load: {} clients x {} events/request for {:.1}s: {total} events accepted ({:.0}/s), {} requests failed; acknowledged in p50 {:.1} ms, p99 {:.1} ms",
        cli.clients,
        cli.batch,
        burst,
        total as f64 / burst,
        failed.load(Ordering::Relaxed),
        quantile(0.5),
        quantile(0.99),
    );
    say!(
        "load: at the end of the burst {seen} of {total} events visible in the usage API; lag gauge {}; highest lag during the burst {max_lag:.1}s",
        lag.map(|l| format!("{l:.1}s")).unwrap_or_else(|| "n/a".into())
    );
    let drain_start = Instant::now();
    let deadline = drain_start + Duration::from_secs_f64(cli.drain_seconds);
    loop {
        let seen = visible(&client, &cli).await?.saturating_sub(before);
        if seen >= total {
            let caught_up = start.elapsed().as_secs_f64();
            say!(
                "load: all {total} events visible {:.1}s after the burst ended; aggregation averaged {:.0} events/s over the run",
                drain_start.elapsed().as_secs_f64(),
                total as f64 / caught_up
            );
            break;
        }
        if Instant::now() >= deadline {
            say!(
                "load: after {:.0}s of draining only {seen} of {total} events visible",
                cli.drain_seconds
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    if let Some((peak, now)) = cli.pid.and_then(peak_rss_mib) {
        say!("load: exporter RSS peak {peak:.0} MiB, now {now:.0} MiB");
    }
    Ok(())
}
