//! `billing-exporter`: the reference billing services, instrumented with exactly the SLIs
//! the specs in `slos/` query. See the README for the demo accounts and faults.

use clap::Parser;
use exporter::billing::{accounts::Accounts, app, commit, faults, jobs::Schedule, telemetry};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "billing-exporter",
    version,
    about = "Billing services with SLI instrumentation: /metrics and OTLP"
)]
struct Cli {
    /// Public listener: billing APIs, /metrics, /healthz, /readyz.
    #[arg(long, default_value = "127.0.0.1:9464")]
    listen: SocketAddr,
    /// Admin listener for run-time faults (loopback only).
    #[arg(long, default_value = "127.0.0.1:9465")]
    admin_listen: SocketAddr,
    /// Where the durable store lives.
    #[arg(long, default_value = "billing-data")]
    data_dir: PathBuf,
    /// The store's page cache in MiB (redb's own default is 1 GiB).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=65536))]
    cache_size: u64,
    /// Accounts YAML: {ingest_token, accounts: [{id, token, plan?}], providers?}. Default: demo accounts.
    #[arg(long)]
    accounts: Option<PathBuf>,
    /// Built-in traffic generator, requests per second (0: off).
    #[arg(long, default_value_t = 0.0)]
    traffic: f64,
    /// Inject a fault at start, e.g. `payments.error_rate=0.2` or `ingest.latency=500ms`.
    #[arg(long = "fault", value_name = "NAME=VALUE", value_parser = parse_fault)]
    faults: Vec<(faults::Fault, faults::Value)>,
    #[arg(long, value_enum, default_value_t = telemetry::LogFormat::Json)]
    log_format: telemetry::LogFormat,
    /// Seconds between usage aggregation runs.
    #[arg(long, default_value_t = 2.0)]
    aggregation_interval: f64,
    /// Seconds between invoice runs.
    #[arg(long, default_value_t = 10.0)]
    invoice_interval: f64,
    /// How acknowledged usage batches reach the disk: `group` (batches arriving while a
    /// commit syncs share the next one) or `per-batch` (one fsync each, to measure against).
    #[arg(long, value_enum, default_value_t = CommitMode::Group)]
    commit: CommitMode,
    /// How long requests in flight at SIGTERM may take to finish before the exporter
    /// gives up on them (unacknowledged) and exits 1.
    #[arg(long, default_value = "10s", value_parser = parse_timeout)]
    shutdown_timeout: std::time::Duration,
    /// Once listening, write `{"listen": ADDR, "admin": ADDR}` here: with port 0 in
    /// `--listen` or `--admin-listen`, the ports the system gave.
    #[arg(long, value_name = "FILE")]
    addresses_file: Option<PathBuf>,
}

fn parse_timeout(s: &str) -> Result<std::time::Duration, String> {
    slo_spec::names::parse_duration(s).map_err(|e| e.to_string())
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum CommitMode {
    Group,
    PerBatch,
}

fn parse_fault(s: &str) -> Result<(faults::Fault, faults::Value), String> {
    faults::parse_assignment(s).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let accounts = match &cli.accounts {
        Some(path) => match Accounts::load(path) {
            Ok(a) => a,
            Err(e) => {
                eprintln!("billing-exporter: {e}");
                return ExitCode::from(2);
            }
        },
        None => Accounts::demo(),
    };
    let secs = |v: f64| std::time::Duration::from_secs_f64(v.clamp(0.1, 3600.0));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("billing-exporter: {e}");
            return ExitCode::from(2);
        }
    };
    runtime.block_on(async {
        let telemetry = match telemetry::init(cli.log_format, "billing-exporter") {
            Ok(t) => t,
            Err(e) => {
                eprintln!("billing-exporter: {e}");
                return ExitCode::from(2);
            }
        };
        let config = app::Config {
            listen: cli.listen,
            admin: cli.admin_listen,
            data_dir: cli.data_dir,
            cache_bytes: (cli.cache_size as usize) << 20,
            accounts,
            traffic: cli.traffic,
            faults: cli.faults,
            schedule: Schedule {
                aggregation: secs(cli.aggregation_interval),
                invoice: secs(cli.invoice_interval),
                ..Schedule::default()
            },
            otel_metrics: telemetry.exporting,
            commit: match cli.commit {
                CommitMode::Group => commit::Mode::Group,
                CommitMode::PerBatch => commit::Mode::PerBatch,
            },
            shutdown_timeout: cli.shutdown_timeout,
            addresses_file: cli.addresses_file,
        };
        let (_stop_tx, stop) = tokio::sync::watch::channel(false);
        let result = app::run(config, stop).await;
        drop(telemetry);
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("billing-exporter: {e}");
                ExitCode::from(1)
            }
        }
    })
}
