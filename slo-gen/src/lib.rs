//! `slo-gen`: compiles SLO specs into Prometheus rules and Grafana dashboards, and
//! validates them. The binary is a thin shell over [`run`].

pub mod render;

use clap::{Parser, Subcommand};
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit codes, as ripgrep uses them.
pub const EXIT_OK: u8 = 0;
pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_USAGE: u8 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "slo-gen",
    version,
    about = "Compile SLO specs into Prometheus rules and Grafana dashboards"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Validate specs; exit 1 when any has an error.
    Validate {
        /// Spec files or directories (walked for *.yaml and *.yml).
        #[arg(default_value = "slos")]
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = render::Format::Human)]
        format: render::Format,
        /// Fail on warnings too.
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Print the JSON Schema of the v1 spec language.
    Schema,
}

/// Runs the CLI with already-parsed arguments, writing to `out` and `err`.
pub fn run(cli: Cli, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<u8> {
    match cli.command {
        Command::Validate {
            paths,
            format,
            deny_warnings,
        } => validate(&paths, format, deny_warnings, out, err),
        Command::Schema => {
            out.write_all(slo_spec::schema::json().as_bytes())?;
            Ok(EXIT_OK)
        }
    }
}

fn validate(
    paths: &[PathBuf],
    format: render::Format,
    deny_warnings: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<u8> {
    let loaded = match load(paths) {
        Ok(l) => l,
        Err(e) => {
            writeln!(err, "slo-gen: {e}")?;
            return Ok(EXIT_USAGE);
        }
    };
    render::write(out, format, &loaded.checked.diagnostics, &loaded.texts)?;
    if format == render::Format::Human {
        writeln!(
            err,
            "{}",
            render::summary(
                &loaded.checked.diagnostics,
                loaded.files,
                loaded.checked.services.len()
            )
        )?;
    }
    let failed =
        loaded.checked.has_errors() || (deny_warnings && !loaded.checked.diagnostics.is_empty());
    Ok(if failed { EXIT_FINDINGS } else { EXIT_OK })
}

/// Specs read and checked, with their texts for rendering snippets.
pub struct Loaded {
    pub checked: slo_spec::Checked,
    pub texts: BTreeMap<String, String>,
    pub files: usize,
}

/// Finds, reads and checks specs; I/O failures are the only error.
pub fn load(paths: &[PathBuf]) -> Result<Loaded, slo_spec::LoadError> {
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

/// Parses arguments and runs; a closed stdout pipe is a normal exit.
pub fn main_with_args(args: impl IntoIterator<Item = std::ffi::OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { EXIT_OK });
        }
    };
    let stdout = io::stdout();
    let stderr = io::stderr();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut err = stderr.lock();
    let result = run(cli, &mut out, &mut err).and_then(|code| out.flush().map(|_| code));
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::from(EXIT_OK),
        Err(e) => {
            let _ = writeln!(err, "slo-gen: {e}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}
