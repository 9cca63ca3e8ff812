//! Lowering: from the spanned YAML tree of one file to the model, one module per format.
//! `v1`, `sloth` and `openslo` read their own field names and share everything else through
//! `reader` (typed values with diagnostics), `common` (names, labels, objectives, periods,
//! and building `Slo`/`Service`), `sli` (ratio and raw queries) and `alerting`; they never
//! import from each other.

pub(crate) mod alerting;
pub(crate) mod common;
mod openslo;
pub(crate) mod reader;
pub(crate) mod sla;
mod sli;
mod sloth;
mod v1;

use crate::diagnostic::{Code, Diagnostic, Span};
use crate::model::{Format, Service};
use crate::yaml;

/// Versions a document may declare, in the words of the error message.
pub const SUPPORTED_VERSIONS: &[&str] = &["v1", "prometheus/v1", "openslo/v1 (apiVersion)"];

/// What one file holds: the services that are valid, every diagnostic, and how many
/// services it declares (valid or not).
#[derive(Debug, Default)]
pub struct FileCheck {
    pub services: Vec<Service>,
    pub diagnostics: Vec<Diagnostic>,
    pub declared: usize,
}

/// Loads every service of one file. Services with errors are left out; the diagnostics
/// say why.
pub fn load_file(file: &str, src: &str) -> FileCheck {
    let docs = match yaml::parse(file, src) {
        Ok(docs) => docs,
        Err(d) => {
            return FileCheck {
                diagnostics: vec![d],
                ..FileCheck::default()
            }
        }
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
            Some(Format::V1) => v1::lower(&mut cx, &doc.root),
            Some(Format::SlothV1) => sloth::lower(&mut cx, &doc.root),
            Some(Format::OpenSloV1) => openslo::lower(&mut cx, &doc.root),
            None => None,
        };
        let clean = cx.diags[errors_before..].iter().all(|d| !d.is_error());
        if let Some(service) = service.filter(|_| clean) {
            merge(&mut cx, &mut services, service);
        }
    }
    FileCheck {
        services,
        declared: cx.declared.len(),
        diagnostics: cx.diags,
    }
}

/// OpenSLO has one SLO per document: the documents of one service form one service.
fn merge(cx: &mut reader::Cx, services: &mut Vec<Service>, service: Service) {
    let same = services.iter_mut().find(|s| {
        s.format == Format::OpenSloV1
            && service.format == Format::OpenSloV1
            && s.name == service.name
    });
    match same {
        Some(existing) => {
            for slo in service.slos {
                common::add_slo(cx, &mut existing.slos, slo);
            }
        }
        None => services.push(service),
    }
}

fn version(cx: &mut reader::Cx, root: &yaml::Node) -> Option<Format> {
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
            return Some(Format::OpenSloV1);
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
        "v1" => Some(Format::V1),
        "prometheus/v1" => Some(Format::SlothV1),
        other => {
            let help = if other.to_ascii_lowercase().starts_with("openslo") {
                "OpenSLO files use `apiVersion: openslo/v1` (with `kind: SLO`), not `version:`"
                    .to_string()
            } else {
                format!("supported versions: {}", SUPPORTED_VERSIONS.join(", "))
            };
            cx.report(
                node.span,
                Code::UnsupportedVersion,
                format!("unsupported version `{other}`"),
                help,
            );
            None
        }
    }
}

/// Field lists of the v1 language, for the JSON Schema test to keep the two in step.
#[cfg(test)]
pub(crate) mod fields {
    pub(crate) use super::alerting::{ABSENT_FIELDS, WINDOW_FIELDS};
    pub(crate) use super::v1::{
        ALERTING_FIELDS, DEFAULT_ALERTING_FIELDS, FRESHNESS_FIELDS, LATENCY_FIELDS, RATIO_FIELDS,
        RAW_FIELDS, SLI_FIELDS, SLO_FIELDS, TIER_FIELDS, TOP_FIELDS,
    };
}
