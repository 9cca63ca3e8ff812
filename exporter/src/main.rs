//! `billing-exporter`: for now prints the latency buckets it derives from the specs;
//! the billing services and `/metrics` arrive with issue 5.

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "billing-exporter",
    version,
    about = "SLI instrumentation for the billing services"
)]
struct Cli {
    /// Spec files or directories whose latency thresholds become histogram buckets.
    #[arg(long, default_value = "slos")]
    slos: PathBuf,
    /// Print the histogram buckets derived from the specs and exit.
    #[arg(long)]
    print_buckets: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let loaded = slo_spec::discover(std::slice::from_ref(&cli.slos))
        .and_then(|f| slo_spec::read_sources(&f));
    let (sources, _) = match loaded {
        Ok(l) => l,
        Err(e) => {
            eprintln!("billing-exporter: {e}");
            return ExitCode::from(2);
        }
    };
    let checked = slo_spec::check(&sources);
    if checked.has_errors() {
        eprintln!("billing-exporter: the specs have errors; run `slo-gen validate`");
        return ExitCode::from(1);
    }
    let buckets = exporter::buckets::latency_buckets(&checked.services);
    if cli.print_buckets {
        let text: Vec<String> = buckets.iter().map(|b| b.to_string()).collect();
        println!("{}", text.join(" "));
    }
    ExitCode::SUCCESS
}
