//! `slo-gen`: compiles SLO specs into Prometheus rules and Grafana dashboards, and
//! validates them. The binary is a thin shell over [`run`].

pub mod dashboards;
pub mod emit;
pub mod generate;
pub mod metrics_check;
pub mod policy;
pub mod promtool;
pub mod render;
pub mod rules;
pub mod unittest;

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
    /// Compile specs into rule files and Grafana dashboards (one of each per service, plus
    /// an overview); nothing is written when any spec has an error.
    Generate {
        /// Spec files or directories (walked for *.yaml and *.yml).
        #[arg(default_value = "slos")]
        paths: Vec<PathBuf>,
        #[arg(long, default_value = "rules")]
        rules_dir: PathBuf,
        #[arg(long, default_value = "dashboards")]
        dashboards_dir: PathBuf,
        #[arg(long, value_enum, default_value_t = emit::RulesFormat::Prometheus)]
        format: emit::RulesFormat,
        /// Write nothing; exit 1 naming every missing, stale or orphaned file.
        #[arg(long)]
        check: bool,
        /// Grafana base URL for the `dashboard_url` annotation.
        #[arg(long, default_value = "http://localhost:3000")]
        grafana_url: String,
    },
    /// Check that a service exposes every series the specs read, and every latency
    /// threshold as an exact bucket boundary; exit 1 naming what is missing.
    CheckMetrics {
        #[arg(default_value = "slos")]
        paths: Vec<PathBuf>,
        /// Scrape this URL (http://…/metrics).
        #[arg(
            long,
            conflicts_with = "metrics_file",
            required_unless_present = "metrics_file"
        )]
        metrics_url: Option<String>,
        /// Read an exposition saved to a file.
        #[arg(long)]
        metrics_file: Option<PathBuf>,
    },
    /// Write promtool unit tests proving every SLO's alerts fire (and only when they
    /// should), run `promtool test rules` on them, and report per SLO.
    Test {
        #[arg(default_value = "slos")]
        paths: Vec<PathBuf>,
        /// The promtool binary.
        #[arg(long, default_value = "promtool")]
        promtool: String,
        /// Keep the generated tests in this directory (default: a temporary one, removed).
        #[arg(long)]
        keep: Option<PathBuf>,
    },
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
        Command::Generate {
            paths,
            rules_dir,
            dashboards_dir,
            format,
            check,
            grafana_url,
        } => {
            let opts = rules::Options { grafana_url };
            generate_cmd(
                &paths,
                &rules_dir,
                &dashboards_dir,
                format,
                check,
                &opts,
                out,
                err,
            )
        }
        Command::Test {
            paths,
            promtool,
            keep,
        } => test_cmd(&paths, &promtool, keep, out, err),
        Command::CheckMetrics {
            paths,
            metrics_url,
            metrics_file,
        } => check_metrics_cmd(&paths, metrics_url, metrics_file, out, err),
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

#[allow(clippy::too_many_arguments)]
fn generate_cmd(
    paths: &[PathBuf],
    rules_dir: &std::path::Path,
    dashboards_dir: &std::path::Path,
    format: emit::RulesFormat,
    check: bool,
    opts: &rules::Options,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<u8> {
    let loaded = match load_valid(paths, "nothing was written", err)? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let outputs = generate::outputs(
        &loaded.checked.services,
        rules_dir,
        dashboards_dir,
        format,
        opts,
    );
    let dirs = [rules_dir, dashboards_dir];
    if check {
        let drift = match generate::drift(&outputs, &dirs) {
            Ok(d) => d,
            Err(e) => {
                writeln!(err, "slo-gen: {e}")?;
                return Ok(EXIT_USAGE);
            }
        };
        for d in &drift {
            writeln!(out, "{d}")?;
        }
        if drift.is_empty() {
            writeln!(err, "{} generated files are up to date", outputs.len())?;
            return Ok(EXIT_OK);
        }
        writeln!(
            err,
            "slo-gen: generated files are out of date; run `slo-gen generate` and commit"
        )?;
        return Ok(EXIT_FINDINGS);
    }
    match generate::write(&outputs, &dirs) {
        Ok(changed) => {
            for d in &changed {
                writeln!(
                    out,
                    "{}",
                    d.to_string()
                        .replace(": missing", ": written")
                        .replace(": stale", ": updated")
                )?;
            }
            writeln!(
                err,
                "{} files generated, {} changed",
                outputs.len(),
                changed.len()
            )?;
            Ok(EXIT_OK)
        }
        Err(e) => {
            writeln!(err, "slo-gen: {e}")?;
            Ok(EXIT_USAGE)
        }
    }
}

fn test_cmd(
    paths: &[PathBuf],
    promtool: &str,
    keep: Option<PathBuf>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<u8> {
    let loaded = match load_valid(paths, "fix them first", err)? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let mut temp = None;
    let dir = match &keep {
        Some(d) => d.clone(),
        None => match tempfile::Builder::new().prefix("slo-gen-test-").tempdir() {
            Ok(t) => temp.insert(t).path().to_path_buf(),
            Err(e) => {
                writeln!(err, "slo-gen: cannot create a temporary directory: {e}")?;
                return Ok(EXIT_USAGE);
            }
        },
    };
    let outcomes = match promtool::run(
        &loaded.checked.services,
        &dir,
        promtool,
        &rules::Options::default(),
    ) {
        Ok(o) => o,
        Err(e) => {
            writeln!(err, "slo-gen: {e}")?;
            return Ok(EXIT_USAGE);
        }
    };
    let mut failed = 0;
    for o in &outcomes {
        let s = &o.summary;
        let fastest: Vec<String> = s
            .detections
            .iter()
            .map(|(tier, burn, d)| {
                format!(
                    "{tier} {burn} in {}",
                    policy::text(unittest::round_secs(*d))
                )
            })
            .collect();
        let status = if o.passed { "ok" } else { "FAILED" };
        writeln!(
            out,
            "{status:6} {}/{}: {} scenarios, {} checks; detects {}",
            o.service,
            o.slo,
            s.scenarios,
            s.checks,
            if fastest.is_empty() {
                "nothing (alerts off)".to_string()
            } else {
                fastest.join(", ")
            }
        )?;
        for u in &s.unreachable {
            writeln!(
                out,
                "       note: {u} cannot fire: the burn needs more than 100% errors"
            )?;
        }
        if !o.passed {
            failed += 1;
            writeln!(out, "       tests in {}", o.dir.display())?;
            for line in o.output.lines() {
                writeln!(out, "       | {line}")?;
            }
        }
    }
    writeln!(
        err,
        "{} SLOs tested with promtool, {} failed",
        outcomes.len(),
        failed
    )?;
    if let Some(t) = temp.filter(|_| failed > 0) {
        // Keep failing suites for inspection.
        writeln!(err, "slo-gen: failing tests kept in {}", t.keep().display())?;
    }
    Ok(if failed > 0 { EXIT_FINDINGS } else { EXIT_OK })
}

fn check_metrics_cmd(
    paths: &[PathBuf],
    url: Option<String>,
    file: Option<PathBuf>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<u8> {
    let loaded = match load_valid(paths, "fix them first", err)? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let (source, text) = match (url, file) {
        (Some(url), _) => {
            let fetched = ureq::get(&url)
                .call()
                .map_err(|e| e.to_string())
                .and_then(|mut r| r.body_mut().read_to_string().map_err(|e| e.to_string()));
            match fetched {
                Ok(t) => (url, t),
                Err(e) => {
                    writeln!(err, "slo-gen: cannot scrape {url}: {e}")?;
                    return Ok(EXIT_USAGE);
                }
            }
        }
        (None, Some(path)) => match std::fs::read_to_string(&path) {
            Ok(t) => (path.display().to_string(), t),
            Err(e) => {
                writeln!(err, "slo-gen: {}: {e}", path.display())?;
                return Ok(EXIT_USAGE);
            }
        },
        (None, None) => unreachable!("clap requires one of --metrics-url, --metrics-file"),
    };
    let series = match metrics_check::parse_exposition(&text) {
        Ok(s) => s,
        Err(e) => {
            writeln!(err, "slo-gen: {source}: {e}")?;
            return Ok(EXIT_USAGE);
        }
    };
    let needs = metrics_check::needs(&loaded.checked.services);
    let mut missing = 0;
    for need in &needs {
        if !metrics_check::satisfied(need, &series) {
            missing += 1;
            let what = if need.bucket.is_some() {
                "no bucket at the latency threshold"
            } else {
                "no series"
            };
            writeln!(
                out,
                "{}/{}: {what}: {}",
                need.service,
                need.slo,
                need.describe()
            )?;
        }
    }
    writeln!(
        err,
        "{} of {} selectors matched in {} series from {source}",
        needs.len() - missing,
        needs.len(),
        series.len()
    )?;
    Ok(if missing > 0 { EXIT_FINDINGS } else { EXIT_OK })
}

/// Loads specs for a command that needs them all valid: diagnostics go to `err`, and an
/// exit code comes back when the command must stop.
fn load_valid(
    paths: &[PathBuf],
    consequence: &str,
    err: &mut dyn Write,
) -> io::Result<Result<Loaded, u8>> {
    let loaded = match load(paths) {
        Ok(l) => l,
        Err(e) => {
            writeln!(err, "slo-gen: {e}")?;
            return Ok(Err(EXIT_USAGE));
        }
    };
    render::write(
        err,
        render::Format::Human,
        &loaded.checked.diagnostics,
        &loaded.texts,
    )?;
    if loaded.checked.has_errors() {
        writeln!(err, "slo-gen: the specs have errors; {consequence}")?;
        return Ok(Err(EXIT_FINDINGS));
    }
    Ok(Ok(loaded))
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
    // Line-buffered, so findings and the summary on stderr appear in the order written.
    let mut out = stdout.lock();
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
