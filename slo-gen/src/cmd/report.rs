//! `slo-gen report`: read the range from Prometheus and write the report. Exit 0 when it
//! was written (whatever the SLOs delivered), 2 on usage, I/O and Prometheus errors (the
//! query and the server's message); nothing is written after an error.

use super::backtest::parse_time;
use super::{load_valid, Error, Outcome, Result};
use crate::cli::{ReportArgs, ReportFormat};
use crate::outputs;
use crate::promapi::Client;
use crate::report::{self, render, Range};
use std::io::Write;

/// The range the arguments name: a month, or `--from` and `--to`.
fn range(args: &ReportArgs) -> Result<Range> {
    Ok(match (&args.month, &args.from, &args.to) {
        (Some(m), _, _) => Range::month(m).map_err(|e| Error::Usage(format!("--month: {e}")))?,
        (None, Some(f), Some(t)) => {
            let now = crate::backtest::history::now();
            let from = parse_time(f, now).map_err(|e| Error::Usage(format!("--from: {e}")))?;
            let to = parse_time(t, now).map_err(|e| Error::Usage(format!("--to: {e}")))?;
            if to <= from {
                return Err(Error::Usage(format!("--from {f} is not before --to {t}")));
            }
            Range::between(from, to)
        }
        _ => {
            return Err(Error::Usage(
                "give --month YYYY-MM or --from and --to".into(),
            ))
        }
    })
}

pub fn run(args: &ReportArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result {
    let loaded = load_valid(&args.specs.paths, "no report was written", err)?;
    let range = range(args)?;
    let client = Client::new(&args.prometheus).map_err(|e| Error::Usage(e.to_string()))?;
    if let Some(dir) = &args.statements {
        super::statements::run(args, dir, (&loaded, &range, &client), err)?;
        return Ok(Outcome::Clean);
    }
    let mut report = report::build(
        (&client, args.layout.source()),
        &loaded.checked.services,
        &range,
        (report::Reads::Everything, &|_| true),
        &mut |line| {
            let _ = writeln!(err, "report: {line}");
        },
    )
    .map_err(|e| Error::Usage(e.to_string()))?;
    if !args.no_replay {
        report::replayed::attach(
            (&client, args.layout.source()),
            &loaded.checked.services,
            &mut report,
            &mut |line| {
                let _ = writeln!(err, "report: replay: {line}");
            },
        )
        .map_err(|e| Error::Usage(e.to_string()))?;
    }
    match (args.format, &args.output) {
        (ReportFormat::Markdown, Some(path)) => {
            // Charts beside the file, named after it.
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "report".into());
            let dir = path.parent().map(|p| p.to_path_buf()).unwrap_or_default();
            let mut names = Vec::new();
            for (i, r) in report.slos.iter().enumerate() {
                let name = format!("{stem}-{:02}-{}-{}.svg", i + 1, r.service, r.slo);
                let svg = report::svg::chart(r, range.from, range.to).into_string();
                outputs::write_atomic(&dir.join(&name), svg.as_bytes())?;
                names.push(name);
            }
            outputs::write_atomic(path, render::markdown(&report, Some(&names)).as_bytes())?;
            writeln!(
                err,
                "report: wrote {} and {} charts",
                path.display(),
                names.len()
            )?;
        }
        (format, path) => {
            let text = match format {
                ReportFormat::Markdown => render::markdown(&report, None),
                ReportFormat::Json => render::json(&report),
                ReportFormat::Html => render::html(&report),
            };
            match path {
                Some(p) => {
                    outputs::write_atomic(p, text.as_bytes())?;
                    writeln!(err, "report: wrote {}", p.display())?;
                }
                None => out.write_all(text.as_bytes())?,
            }
        }
    }
    Ok(Outcome::Clean)
}
