//! `slo-gen validate`: every fault of every spec, rendered for people or machines.

use super::{load, Outcome, Result};
use crate::cli::{DiagnosticFormat, ValidateArgs};
use slo_spec::render;
use std::io::Write;

pub fn run(args: &ValidateArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result {
    let loaded = load(&args.specs.paths)?;
    let checked = &loaded.checked;
    render::write(out, args.format.into(), &checked.diagnostics, &loaded.texts)?;
    if args.format == DiagnosticFormat::Human {
        let summary = render::summary(&checked.diagnostics, loaded.files, checked.declared);
        writeln!(err, "{summary}")?;
    }
    let failed = checked.has_errors() || (args.deny_warnings && !checked.diagnostics.is_empty());
    Ok(if failed {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}
