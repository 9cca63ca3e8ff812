//! The SLO spec language: loading YAML with source spans, validation with precise
//! diagnostics, and the normalised model every backend consumes.
//!
//! Data flows one way: source text -> spanned YAML tree ([`yaml`]) -> lowering per format
//! (`v1`, `sloth`) -> repository checks -> [`model`]. Nothing here panics on bad input;
//! every function returns what it could build together with all diagnostics.

pub mod decimal;
pub mod diagnostic;
pub mod files;
pub mod model;
pub mod names;
mod openslo;
mod promql;
mod reader;
mod repo;
pub mod schema;
mod sloth;
mod v1;
pub mod yaml;

pub use diagnostic::{Code, Diagnostic, Severity, Span};
pub use files::{discover, read_sources, LoadError, Source};
pub use model::*;
pub use promql::family as metric_family;
pub use promql::{selectors, Selector};

/// Versions a document may declare, in the words of the error message.
pub const SUPPORTED_VERSIONS: &[&str] = &["v1", "prometheus/v1", "openslo/v1 (apiVersion)"];

/// Field lists per object of the v1 language, for the schema and docs to stay in step.
pub mod fields {
    pub use crate::v1::{
        ALERTING_FIELDS, DEFAULT_ALERTING_FIELDS, FRESHNESS_FIELDS, LATENCY_FIELDS, RATIO_FIELDS,
        RAW_FIELDS, SLI_FIELDS, SLO_FIELDS, TIER_FIELDS, TOP_FIELDS, WINDOW_FIELDS,
    };
}

/// Loads every service of one file. Services with errors are left out; the diagnostics
/// say why.
pub fn load_file(file: &str, src: &str) -> (Vec<Service>, Vec<Diagnostic>) {
    let docs = match yaml::parse(file, src) {
        Ok(docs) => docs,
        Err(d) => return (Vec::new(), vec![d]),
    };
    let mut cx = reader::Cx::new(file, src);
    if docs.is_empty() {
        cx.report(
            Span::START,
            Code::EmptySpec,
            "the file holds no spec",
            "start it with `version: v1` and `service: <name>`, or delete it",
        );
    }
    let mut services = Vec::new();
    for doc in &docs {
        let errors_before = cx.diags.len();
        let service = match version(&mut cx, &doc.root) {
            Some(Version::V1) => v1::lower(&mut cx, &doc.root),
            Some(Version::Sloth) => sloth::lower(&mut cx, &doc.root),
            Some(Version::OpenSlo) => openslo::lower(&mut cx, &doc.root),
            None => None,
        };
        let clean = cx.diags[errors_before..].iter().all(|d| !d.is_error());
        if let Some(service) = service.filter(|_| clean) {
            // OpenSLO has one SLO per document: documents of one service form one service.
            let same = services.iter_mut().find(|s: &&mut Service| {
                s.format == Format::OpenSloV1
                    && service.format == Format::OpenSloV1
                    && s.name == service.name
            });
            match same {
                Some(existing) => {
                    for slo in service.slos {
                        v1::add_slo(&mut cx, &mut existing.slos, slo);
                    }
                }
                None => services.push(service),
            }
        }
    }
    (services, cx.diags)
}

enum Version {
    V1,
    Sloth,
    OpenSlo,
}

fn version(cx: &mut reader::Cx, root: &yaml::Node) -> Option<Version> {
    let yaml::Value::Map(entries) = &root.value else {
        cx.wrong_type(
            root,
            "the spec",
            "a mapping",
            "start the file with `version: v1`",
        );
        return None;
    };
    if let Some((_, node)) = entries.iter().find(|(k, _)| k.name == "apiVersion") {
        let text = reader::string(cx, node, "apiVersion")?;
        if text == "openslo/v1" {
            return Some(Version::OpenSlo);
        }
        cx.report(
            node.span,
            Code::UnsupportedVersion,
            format!("unsupported apiVersion `{text}`"),
            format!("supported versions: {}", SUPPORTED_VERSIONS.join(", ")),
        );
        return None;
    }
    let Some((_, node)) = entries.iter().find(|(k, _)| k.name == "version") else {
        cx.report(
            root.span,
            Code::MissingField,
            "missing required field `version`",
            "add `version: v1` as the first line",
        );
        return None;
    };
    let text = reader::lenient_string(cx, node, "version")?;
    match text.as_str() {
        "v1" => Some(Version::V1),
        "prometheus/v1" => Some(Version::Sloth),
        other => {
            cx.report(
                node.span,
                Code::UnsupportedVersion,
                format!("unsupported version `{other}`"),
                format!("supported versions: {}", SUPPORTED_VERSIONS.join(", ")),
            );
            None
        }
    }
}

/// The result of checking a set of spec files.
#[derive(Debug, Default)]
pub struct Checked {
    pub services: Vec<Service>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Loads and validates a whole repository of specs, including checks across files.
/// Diagnostics come sorted by file and position; services in input order.
pub fn check(sources: &[Source]) -> Checked {
    let mut services = Vec::new();
    let mut diagnostics = Vec::new();
    for source in sources {
        let (s, d) = load_file(&source.path, &source.text);
        services.extend(s);
        diagnostics.extend(d);
    }
    let keep = repo::check(&services, &mut diagnostics);
    let mut keep = keep.into_iter();
    services.retain(|_| keep.next().unwrap_or(true));
    diagnostic::sort(&mut diagnostics);
    Checked {
        services,
        diagnostics,
    }
}
