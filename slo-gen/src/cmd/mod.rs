//! One module per command. Each takes its clap arguments and the output streams and
//! returns how it ended; [`crate::run`] turns that into the exit code, in one place.

pub mod backtest;
pub mod check_metrics;
pub mod convert;
pub mod drift;
pub mod gate;
pub mod generate;
pub mod report;
pub mod serve;
pub mod statements;
pub mod test;
pub mod validate;

use slo_spec::render;
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::PathBuf;

/// How a command that ran to the end came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0.
    Clean,
    /// Exit 1: the command found faults and said which.
    Findings,
    /// Exit 2: the command could not answer for everything it was asked about (a gate
    /// without data for an SLO) and said which.
    Undecided,
}

/// Why a command stopped. [`Error::exit_code`] is the only place exit codes are decided.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The specs have errors (already reported); `consequence` says what did not happen.
    #[error("the specs have errors; {consequence}")]
    InvalidSpecs { consequence: &'static str },
    #[error(transparent)]
    Load(#[from] slo_spec::LoadError),
    #[error(transparent)]
    Promtool(#[from] crate::promtool::PromtoolError),
    /// Bad input the user can fix: an unreachable URL, an unreadable file.
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Every exit code `slo-gen` returns is decided here: 0 clean (also `--help`, `--version`
/// and a closed stdout: `| head` is a normal end), 1 findings or specs with errors, 2 usage
/// and I/O errors.
pub fn exit_code(result: &Result) -> u8 {
    match result {
        Ok(Outcome::Clean) => 0,
        Ok(Outcome::Findings) | Err(Error::InvalidSpecs { .. }) => 1,
        Ok(Outcome::Undecided) => 2,
        Err(Error::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => 0,
        Err(_) => 2,
    }
}

/// The exit code of a command line clap refused (2), or of `--help` and `--version` (0).
pub fn parse_exit_code(e: &clap::Error) -> u8 {
    if e.use_stderr() {
        2
    } else {
        0
    }
}

pub type Result<T = Outcome> = std::result::Result<T, Error>;

/// `doc` as pretty JSON on a line of its own: the `--format json` of `drift` and `gate`.
pub fn write_json(out: &mut dyn Write, doc: &serde_json::Value) -> io::Result<()> {
    let text = serde_json::to_string_pretty(doc).expect("a JSON value always serialises");
    writeln!(out, "{text}")
}

/// Specs read and checked, with their texts for rendering snippets.
pub struct Loaded {
    pub checked: slo_spec::Checked,
    pub texts: BTreeMap<String, String>,
    pub files: usize,
}

/// Finds, reads and checks specs; I/O failures are the only error.
pub fn load(paths: &[PathBuf]) -> std::result::Result<Loaded, slo_spec::LoadError> {
    let files = slo_spec::discover(paths)?;
    let (sources, read_diags) = slo_spec::read_sources(&files)?;
    let mut checked = slo_spec::check(&sources);
    if !read_diags.is_empty() {
        checked.diagnostics.extend(read_diags);
        slo_spec::diagnostic::sort(&mut checked.diagnostics);
    }
    let texts = sources.into_iter().map(|s| (s.path, s.text)).collect();
    Ok(Loaded {
        checked,
        texts,
        files: files.len(),
    })
}

/// Loads specs for a command that needs them all valid: diagnostics go to `err`; any
/// error stops the command with `consequence`.
pub fn load_valid(
    paths: &[PathBuf],
    consequence: &'static str,
    err: &mut dyn Write,
) -> Result<Loaded> {
    let loaded = load(paths)?;
    render::write(
        err,
        render::Format::Human,
        &loaded.checked.diagnostics,
        &loaded.texts,
    )?;
    if loaded.checked.has_errors() {
        return Err(Error::InvalidSpecs { consequence });
    }
    Ok(loaded)
}
