//! `slo-gen convert`: specs of any format read here, written as v1 specs or OpenSLO
//! documents; to stdout, or one file per service under `--output` (all or nothing, never
//! over an existing file).

use super::{load_valid, Error, Outcome, Result};
use crate::cli::{ConvertArgs, ConvertTarget};
use crate::convert;
use std::io::Write;

pub fn run(args: &ConvertArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result {
    let loaded = load_valid(&args.specs.paths, "nothing was converted", err)?;
    let services = &loaded.checked.services;
    let converted = match args.to {
        ConvertTarget::V1 => convert::to_v1(services),
        ConvertTarget::Openslo => convert::to_openslo(services),
    };
    match &args.output {
        None => {
            for (i, (_, text)) in converted.files.iter().enumerate() {
                if i > 0 {
                    writeln!(out, "---")?;
                }
                out.write_all(text.as_bytes())?;
            }
        }
        Some(dir) => {
            let existing: Vec<String> = converted
                .files
                .iter()
                .map(|(name, _)| dir.join(name))
                .filter(|p| p.exists())
                .map(|p| p.display().to_string())
                .collect();
            if !existing.is_empty() {
                return Err(Error::Usage(format!(
                    "would overwrite {}; nothing was written: choose an empty --output directory",
                    existing.join(", ")
                )));
            }
            for (name, text) in &converted.files {
                let path = dir.join(name);
                crate::outputs::write_atomic(&path, text.as_bytes())?;
                writeln!(out, "{}: written", path.display())?;
            }
        }
    }
    for note in &converted.notes {
        writeln!(err, "note: {note}")?;
    }
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    writeln!(
        err,
        "{} converted into {}",
        plural(services.len(), "service"),
        plural(converted.files.len(), "file")
    )?;
    Ok(Outcome::Clean)
}
