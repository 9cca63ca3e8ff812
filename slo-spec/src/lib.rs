//! The SLO spec language: loading YAML with source spans, validation with precise
//! diagnostics, and the normalised model every backend consumes.
//!
//! Data flows one way: source text -> spanned YAML tree (`yaml`) -> lowering per format
//! (`lower::{v1, sloth, openslo}`) -> repository checks (`repo`) -> [`model`]. Nothing here
//! panics on bad input; every function returns what it could build together with all
//! diagnostics.

pub mod credits;
pub mod decimal;
pub mod diagnostic;
pub mod exclusion;
pub mod files;
mod lower;
pub mod model;
pub mod names;
pub mod policy;
pub mod render;
mod repo;
pub mod schema;
pub mod selectors;
pub mod significance;
mod yaml;

pub use diagnostic::{Code, Diagnostic, Severity, Span};
pub use exclusion::{Exclusion, Weekday, When};
pub use files::{discover, read_sources, LoadError, Source};
pub use lower::promql::MAX_QUERY_BYTES;
pub use lower::{FileCheck, SUPPORTED_VERSIONS};
pub use model::*;
pub use selectors::{family as metric_family, selectors, Selector};
pub use significance::Confidence;
pub use yaml::MAX_FILE_BYTES;

use rayon::prelude::*;

/// The result of checking a set of spec files.
#[derive(Debug, Default)]
pub struct Checked {
    pub services: Vec<Service>,
    pub diagnostics: Vec<Diagnostic>,
    /// Services the files declare, valid or not.
    pub declared: usize,
}

impl Checked {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The errors, each as it is printed: what a test shows when a file should have
    /// loaded.
    pub fn errors(&self) -> Vec<String> {
        self.diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.to_string())
            .collect()
    }
}

/// Loads and validates a whole repository of specs, including checks across files.
/// Diagnostics come sorted by file and position; services in input order.
pub fn check(sources: &[Source]) -> Checked {
    let mut services: Vec<Service> = Vec::new();
    let mut declared = 0;
    // Files parse and lower independently: in parallel, gathered in the order given.
    let parsed: Vec<lower::Parsed> = sources
        .par_iter()
        .map(|source| lower::parse(&source.path, &source.text))
        .collect();
    let (catalog, mut diagnostics) = lower::catalog(&parsed);
    let files: Vec<FileCheck> = parsed
        .par_iter()
        .map(|p| lower::lower_file(p, &catalog))
        .collect();
    let mut used = std::collections::BTreeSet::new();
    let mut declared_names = std::collections::BTreeSet::new();
    for file in files {
        for svc in file.services {
            let from = svc.file.clone();
            lower::merge_into(&mut services, svc, &mut |existing, slo| {
                if let Some(first) = existing.slos.iter().find(|s| s.name == slo.name) {
                    diagnostics.push(
                        Diagnostic::new(
                            &from,
                            slo.span,
                            Code::DuplicateSlo,
                            format!(
                                "SLO `{}` of service `{}` is declared twice ({})",
                                slo.name,
                                existing.name,
                                existing.format.describe()
                            ),
                        )
                        .help(format!(
                            "first declared at {}:{}:{}; rename one of them",
                            existing.file, first.span.line, first.span.column
                        )),
                    );
                } else {
                    existing.slos.push(slo);
                }
            });
        }
        diagnostics.extend(file.diagnostics);
        // Documents of one service in several files (OpenSLO, Pyrra) count once.
        declared += file.declared_names.difference(&declared_names).count();
        declared_names.extend(file.declared_names);
        used.extend(file.used);
    }
    lower::unused(&catalog, &used, &mut diagnostics);
    let keep = repo::check(&services, &mut diagnostics);
    let mut keep = keep.into_iter();
    services.retain(|_| keep.next().unwrap_or(true));
    diagnostic::sort(&mut diagnostics);
    Checked {
        services,
        diagnostics,
        declared,
    }
}
