//! `slo-gen`: compiles SLO specs into Prometheus rules, promtool tests and Grafana
//! dashboards, and validates them. The binary is a thin shell over [`main_with_args`].
//!
//! The command line ([`cli`]) is apart from the commands ([`cmd`], one module each), and
//! both from the engine: [`names`] (every generated name), [`rules`], [`dashboards`],
//! [`promtool`], [`outputs`] and [`metrics_check`]. The maths of windows and burn rates is
//! `slo_eval`'s; the spec language is `slo_spec`'s.

pub mod alertmanager;
pub mod backtest;
pub mod cli;
pub mod cmd;
pub mod convert;
pub mod dashboards;
pub mod drift;
pub mod gate;
pub mod metrics_check;
pub mod names;
pub mod outputs;
pub mod promapi;
pub mod promtool;
pub mod report;
pub mod rules;
pub mod serve;
pub mod text;

pub use cli::Cli;
pub use cmd::{load, Loaded};

use clap::Parser;
use cli::Command;
use cmd::{Error, Outcome};
use std::io::{self, Write};
use std::process::ExitCode;

/// Runs one command with already-parsed arguments, writing to `out` and `err`, and returns
/// the exit code: 0 clean, 1 findings, 2 usage or I/O error.
pub fn run(cli: Cli, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let result = match &cli.command {
        Command::Validate(args) => cmd::validate::run(args, out, err),
        Command::Schema => out
            .write_all(slo_spec::schema::json().as_bytes())
            .map(|_| Outcome::Clean)
            .map_err(Error::from),
        Command::Generate(args) => cmd::generate::run(args, out, err),
        Command::CheckMetrics(args) => cmd::check_metrics::run(args, out, err),
        Command::Test(args) => cmd::test::run(args, out, err),
        Command::Backtest(args) => cmd::backtest::run(args, out, err),
        Command::Report(args) => cmd::report::run(args, out, err),
        Command::Serve(args) => cmd::serve::run(args, out, err),
        Command::Convert(args) => cmd::convert::run(args, out, err),
        Command::Drift(args) => cmd::drift::run(args, out, err),
        Command::Gate(args) => cmd::gate::run(args, out, err),
    };
    let result = result.and_then(|o| out.flush().map(|_| o).map_err(Error::from));
    let code = cmd::exit_code(&result);
    if let Err(e) = &result {
        if code != 0 {
            let _ = writeln!(err, "slo-gen: {e}");
        }
    }
    code
}

/// Parses arguments and runs; a closed stdout pipe is a normal exit.
pub fn main_with_args(args: impl IntoIterator<Item = std::ffi::OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(cmd::parse_exit_code(&e));
        }
    };
    let stdout = io::stdout();
    let stderr = io::stderr();
    // Line-buffered, so findings and the summary on stderr appear in the order written.
    let mut out = stdout.lock();
    let mut err = stderr.lock();
    ExitCode::from(run(cli, &mut out, &mut err))
}
