//! `slo-gen backtest`: fetch (or read) the history, replay the specs and the baseline's,
//! score incidents, write the report. Exit 0 when it ran, 1 when --fail-on-new-pages
//! finds added pages, 2 on usage, I/O and Prometheus errors.

use super::{load_valid, Error, Outcome, Result};
use crate::backtest::history::{self, History};
use crate::backtest::render::{self, Report};
use crate::backtest::{compare, replay, targets, Evaluation, Target};
use crate::cli::{BacktestArgs, BacktestFormat};
use crate::outputs;
use crate::promapi::Client;
use slo_eval::Timestamp;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn run(args: &BacktestArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result {
    let evaluation = evaluation(args)?;
    let loaded = load_valid(&args.specs.paths, "nothing was replayed", err)?;
    let current = targets(&loaded.checked.services);
    // The baseline's specs, kept alive for the targets that borrow them.
    let (baseline_loaded, _tmp) = match &args.baseline {
        None => (None, None),
        Some(spec) => {
            let (loaded, tmp) = load_baseline(spec, &args.specs.paths, err)?;
            (Some(loaded), tmp)
        }
    };
    let baseline_name = args.baseline.clone();
    let baseline = baseline_loaded
        .as_ref()
        .map(|l| targets(&l.checked.services));
    let wanted: Vec<&Target> = current.iter().chain(baseline.iter().flatten()).collect();
    let history = read_history(args, &wanted, evaluation, err)?;
    if let Some(path) = &args.save_history {
        outputs::write_atomic(path, history.to_json().as_bytes())
            .map_err(|e| Error::Usage(format!("{}: {e}", path.display())))?;
        writeln!(err, "backtest: history saved to {}", path.display())?;
    }

    let run = replay(&current, &history, evaluation).map_err(|e| Error::Usage(e.to_string()))?;
    let base_run = match &baseline {
        Some(b) => Some(
            replay(b, &history, evaluation).map_err(|e| Error::Usage(format!("baseline: {e}")))?,
        ),
        None => None,
    };
    let scores = match &args.incidents {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Error::Usage(format!("{}: {e}", path.display())))?;
            let incidents = compare::parse_incidents(&text)
                .map_err(|e| Error::Usage(format!("{}: {e}", path.display())))?;
            Some(compare::score(&run, &incidents))
        }
        None => None,
    };
    let diffs = base_run.as_ref().map(|b| compare::diff(b, &run));
    let adds_pages = diffs.as_deref().is_some_and(compare::adds_pages);
    let report = Report {
        run: &run,
        baseline: match (baseline_name, &base_run, diffs) {
            (Some(n), Some(b), Some(d)) => Some((n, b, d)),
            _ => None,
        },
        scores,
    };
    let text = match args.format {
        BacktestFormat::Text => render::text(&report),
        BacktestFormat::Json => render::json(&report),
        BacktestFormat::Markdown => render::markdown(&report),
    };
    out.write_all(text.as_bytes())?;
    if args.fail_on_new_pages && adds_pages {
        writeln!(err, "backtest: the change adds pages")?;
        return Ok(Outcome::Findings);
    }
    Ok(Outcome::Clean)
}

/// `--evaluation-interval`: the groups' own intervals, or one between 1s and 1d.
fn evaluation(args: &BacktestArgs) -> std::result::Result<Evaluation, Error> {
    let Some(text) = &args.evaluation_interval else {
        return Ok(Evaluation::Groups);
    };
    slo_spec::names::parse_duration(text)
        .ok()
        .filter(|d| d.as_secs() >= 1 && d.as_secs() <= 86_400)
        .map(Evaluation::Every)
        .ok_or_else(|| {
            Error::Usage(format!(
                "--evaluation-interval `{text}` is not between 1s and 1d (e.g. 30s)"
            ))
        })
}

/// The baseline's specs (a path or a git revision), which must load without errors.
fn load_baseline(
    spec: &str,
    paths: &[PathBuf],
    err: &mut dyn Write,
) -> std::result::Result<(super::Loaded, Option<tempfile::TempDir>), Error> {
    let (paths, tmp) = baseline_paths(spec, paths)?;
    let loaded = super::load(&paths)?;
    slo_spec::render::write(
        err,
        slo_spec::render::Format::Human,
        &loaded.checked.diagnostics,
        &loaded.texts,
    )?;
    if loaded.checked.has_errors() {
        return Err(Error::Usage(format!(
            "the baseline specs ({spec}) have errors; nothing was replayed"
        )));
    }
    Ok((loaded, tmp))
}

/// The history: read from `--history`, or fetched from `--prometheus` for every target.
fn read_history(
    args: &BacktestArgs,
    wanted: &[&Target],
    evaluation: Evaluation,
    err: &mut dyn Write,
) -> std::result::Result<History, Error> {
    let url = match (&args.history, &args.prometheus) {
        (Some(path), _) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Error::Usage(format!("{}: {e}", path.display())))?;
            return History::from_json(&text)
                .map_err(|e| Error::Usage(format!("{}: {e}", path.display())));
        }
        (None, Some(url)) => url,
        (None, None) => {
            return Err(Error::Usage(
                "give --prometheus URL or --history FILE".into(),
            ))
        }
    };
    let now = history::now();
    let from = parse_time(&args.from, now).map_err(|e| Error::Usage(format!("--from: {e}")))?;
    let to = parse_time(&args.to, now).map_err(|e| Error::Usage(format!("--to: {e}")))?;
    if to <= from {
        return Err(Error::Usage(format!(
            "--from {} is not before --to {}",
            args.from, args.to
        )));
    }
    if to - from > history::MAX_SPAN {
        return Err(Error::Usage(format!(
            "--from {} to --to {} is more than {} days; backtest at most a year and a day",
            args.from,
            args.to,
            history::MAX_SPAN / 86_400_000
        )));
    }
    let client = Client::new(url).map_err(|e| Error::Usage(e.to_string()))?;
    let mut needs: Vec<_> = wanted
        .iter()
        .map(|t| t.need(from, to, evaluation))
        .collect();
    // The longest warm-up first, so shared queries are fetched once.
    needs.sort_by_key(|n| n.start);
    history::fetch(&client, &needs, from, to, &mut |line| {
        let _ = writeln!(err, "backtest: {line}");
    })
    .map_err(|e| Error::Usage(e.to_string()))
}

/// `now`, `-30d` or `now-30d` (relative to `now`), or RFC 3339.
pub fn parse_time(text: &str, now: Timestamp) -> std::result::Result<Timestamp, String> {
    let t = text.trim();
    if t == "now" {
        return Ok(now);
    }
    if let Some(ago) = t.strip_prefix("now-").or_else(|| t.strip_prefix('-')) {
        let d = slo_spec::names::parse_duration(ago)?;
        return Ok(now - slo_eval::millis(d));
    }
    history::parse_rfc3339(t).map_err(|e| {
        format!("`{text}` is not a time: {e} (write RFC 3339 like 2026-11-01T00:00:00Z, `now`, or -30d)")
    })
}

/// The baseline's spec paths: a directory as given, or `git:REV`, the same paths as the
/// specs' at that revision, copied into a temporary directory.
fn baseline_paths(
    spec: &str,
    paths: &[PathBuf],
) -> Result<(Vec<PathBuf>, Option<tempfile::TempDir>)> {
    let Some(rev) = spec.strip_prefix("git:") else {
        return Ok((vec![PathBuf::from(spec)], None));
    };
    let tmp = tempfile::tempdir()?;
    let git = |args: &[&str]| -> Result<Vec<u8>> {
        let o = Command::new("git")
            .args(args)
            .output()
            .map_err(|e| Error::Usage(format!("--baseline {spec}: cannot run git: {e}")))?;
        if !o.status.success() {
            return Err(Error::Usage(format!(
                "--baseline {spec}: git {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&o.stderr).trim()
            )));
        }
        Ok(o.stdout)
    };
    let mut out = Vec::new();
    for p in paths {
        let p_text = p.to_string_lossy();
        let listed = git(&["ls-tree", "-r", "--name-only", rev, "--", &p_text])?;
        let files: Vec<String> = String::from_utf8_lossy(&listed)
            .lines()
            .map(str::to_string)
            .collect();
        if files.is_empty() {
            return Err(Error::Usage(format!(
                "--baseline {spec}: `{p_text}` does not exist at {rev}"
            )));
        }
        for f in files {
            let text = git(&["show", &format!("{rev}:./{f}")])?;
            let dest = tmp.path().join(&f);
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&dest, text)?;
        }
        out.push(tmp.path().join(relative(p)));
    }
    Ok((out, Some(tmp)))
}

fn relative(p: &Path) -> PathBuf {
    p.components()
        .filter(|c| matches!(c, std::path::Component::Normal(_)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_absolute_and_relative() {
        let now = Timestamp(1_800_000_000_000);
        assert_eq!(parse_time("now", now), Ok(now));
        assert_eq!(parse_time("-30d", now), Ok(now - 30 * 86_400_000));
        assert_eq!(parse_time("now-1h30m", now), Ok(now - 5_400_000));
        assert_eq!(
            parse_time("2026-11-01T00:00:00Z", now),
            Ok(Timestamp(1_793_491_200_000))
        );
        let e = parse_time("yesterday", now).unwrap_err();
        assert!(e.contains("RFC 3339"), "{e}");
        assert!(parse_time("-30 days", now).is_err());
    }
}
