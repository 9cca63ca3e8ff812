//! Lowering: from the spanned YAML trees of the files given to the model, one module per
//! format. `v1`, `sloth`, `pyrra` and `openslo` read their own field names and share
//! everything else through `reader` (typed values with diagnostics), `common` (names,
//! labels, objectives, periods, and building `Slo`/`Service`), `sli` (ratio and raw
//! queries) and `alerting`; they never import from each other.
//!
//! Two passes: OpenSLO documents that others refer to (`kind: SLI`, `Service`,
//! `DataSource`, in any file given) go into a [`Catalog`] first; then every file lowers
//! its specs with the catalog at hand.

pub(crate) mod alerting;
pub(crate) mod breakdown;
pub(crate) mod build;
pub(crate) mod common;
mod confidence;
pub(crate) mod exclusions;
mod gate;
mod openslo;
pub(crate) mod promql;
mod pyrra;
pub(crate) mod reader;
pub(crate) mod sla;
mod sli;
mod sloth;
mod traffic;
mod v1;
pub(crate) mod windows;

use crate::diagnostic::{Code, Diagnostic, Span};
use crate::model::{Format, Labels, Service, Sli};
use crate::yaml;
use std::collections::{BTreeMap, BTreeSet};

/// Versions a document may declare, in the words of the error message.
pub const SUPPORTED_VERSIONS: &[&str] = &[
    "v1",
    "prometheus/v1 (Sloth)",
    "sloth.slok.dev/v1 PrometheusServiceLevel",
    "pyrra.dev/v1alpha1 ServiceLevelObjective",
    "openslo/v1",
    "openslo/v1alpha",
];

/// What one file holds: the services that are valid, every diagnostic, how many services
/// it declares (valid or not), and the OpenSLO context documents its SLOs use.
#[derive(Debug, Default)]
pub struct FileCheck {
    pub services: Vec<Service>,
    pub diagnostics: Vec<Diagnostic>,
    pub declared: usize,
    /// The names of the services counted in `declared`.
    pub(crate) declared_names: BTreeSet<String>,
    pub(crate) used: BTreeSet<String>,
}

/// One file parsed into documents (or the syntax error that stopped it).
pub(crate) struct Parsed<'a> {
    file: &'a str,
    src: &'a str,
    docs: Result<Vec<yaml::Document>, Diagnostic>,
}

pub(crate) fn parse<'a>(file: &'a str, src: &'a str) -> Parsed<'a> {
    Parsed {
        file,
        src,
        docs: yaml::parse(file, src),
    }
}

/// The documents of a file: a top-level list of `apiVersion` mappings (what OpenSLO tools
/// such as `oslo fmt` and the go-sdk write) is one document per item.
fn documents(docs: &[yaml::Document]) -> Vec<&yaml::Node> {
    let mut out = Vec::new();
    for doc in docs {
        match &doc.root.value {
            yaml::Value::Seq(items)
                if !items.is_empty() && items.iter().all(|i| field(i, "apiVersion").is_some()) =>
            {
                out.extend(items.iter())
            }
            _ => out.push(&doc.root),
        }
    }
    out
}

/// The string value of `key` in a mapping node.
fn field<'n>(node: &'n yaml::Node, key: &str) -> Option<&'n str> {
    let yaml::Value::Map(entries) = &node.value else {
        return None;
    };
    match entries.iter().find(|(k, _)| k.name == key) {
        Some((
            _,
            yaml::Node {
                value: yaml::Value::Str(s),
                ..
            },
        )) => Some(s),
        _ => None,
    }
}

/// An OpenSLO document other documents refer to by name.
#[derive(Debug)]
pub(crate) struct ContextDoc {
    pub file: String,
    pub span: Span,
    /// `OpenSLO v1 Service`, for messages.
    pub what: String,
    /// A Service's owner and labels (a DataSource has none).
    pub owner: Option<String>,
    pub labels: Labels,
    /// A DataSource's `spec.type` (empty for a Service).
    pub kind: String,
}

/// An OpenSLO `kind: SLI` document, lowered once: `None` when it has errors (reported at
/// its own position).
#[derive(Debug)]
pub(crate) struct CatalogSli {
    pub sli: Option<(Sli, Vec<String>)>,
}

/// The OpenSLO documents of every file given that SLOs refer to by name.
#[derive(Debug, Default)]
pub(crate) struct Catalog {
    pub services: BTreeMap<String, ContextDoc>,
    pub sources: BTreeMap<String, ContextDoc>,
    pub slis: BTreeMap<String, CatalogSli>,
    /// The context the SLI documents use (`DataSource/<name>`), as [`FileCheck::used`].
    pub used: BTreeSet<String>,
}

/// OpenSLO's `apiVersion` and `kind` of a document, when it is one.
fn openslo_kind(root: &yaml::Node) -> Option<(bool, &str)> {
    let alpha = match field(root, "apiVersion")? {
        "openslo/v1" => false,
        "openslo/v1alpha" => true,
        _ => return None,
    };
    Some((alpha, field(root, "kind")?))
}

/// The first pass: context documents, then SLI documents (which may use DataSources of
/// any file). Diagnostics are those of the documents read here.
pub(crate) fn catalog(files: &[Parsed]) -> (Catalog, Vec<Diagnostic>) {
    let mut catalog = Catalog::default();
    let mut diags = Vec::new();
    for pass in ["context", "SLI"] {
        for p in files {
            let Ok(docs) = &p.docs else { continue };
            let mut cx = reader::Cx::new(p.file, p.src);
            for root in documents(docs) {
                match (openslo_kind(root), pass) {
                    (Some((alpha, kind @ ("Service" | "DataSource"))), "context") => {
                        if alpha && kind == "DataSource" {
                            continue;
                        }
                        openslo::context_doc(&mut cx, root, alpha, kind, &mut catalog);
                    }
                    (Some((false, "SLI")), "SLI") => openslo::sli_doc(&mut cx, root, &mut catalog),
                    _ => {}
                }
                cx.doc = None;
            }
            diags.extend(cx.diags);
        }
    }
    (catalog, diags)
}

/// The second pass: every service of one file. Services with errors are left out; the
/// diagnostics say why.
pub(crate) fn lower_file(p: &Parsed, catalog: &Catalog) -> FileCheck {
    let docs = match &p.docs {
        Ok(docs) => docs,
        Err(d) => {
            return FileCheck {
                diagnostics: vec![d.clone()],
                ..FileCheck::default()
            }
        }
    };
    let mut cx = reader::Cx::new(p.file, p.src);
    let roots = documents(docs);
    if roots.is_empty() {
        cx.report(
            Span::START,
            Code::EmptySpec,
            "the file holds no spec",
            "start it with `version: v1` and `service: <name>`, or delete it",
        );
    }
    let mut services = Vec::new();
    let mut used = BTreeSet::new();
    for root in roots {
        let errors_before = cx.diags.len();
        let service = match detect(&mut cx, root) {
            Some(Detected::Spec(format)) => {
                if format != Format::V1 {
                    cx.doc = Some(format.describe().to_string());
                }
                match format {
                    Format::V1 => v1::lower(&mut cx, root),
                    Format::SlothV1 => sloth::lower(&mut cx, root),
                    Format::SlothK8s => sloth::lower_crd(&mut cx, root),
                    Format::Pyrra => pyrra::lower(&mut cx, root),
                    Format::OpenSloV1 | Format::OpenSloV1Alpha => {
                        openslo::lower(&mut cx, root, catalog, &mut used, format)
                    }
                }
            }
            Some(Detected::Context) | None => None,
        };
        let clean = cx.diags[errors_before..].iter().all(|d| !d.is_error());
        if let Some(service) = service.filter(|_| clean) {
            merge_into(&mut services, service, &mut |svc, slo| {
                build::add_slo(&mut cx, &mut svc.slos, slo)
            });
        }
        cx.doc = None;
    }
    FileCheck {
        services,
        declared: cx.declared.len(),
        declared_names: cx.declared,
        diagnostics: cx.diags,
        used,
    }
}

/// Adds `service` to `services`: documents of the one-SLO-per-document formats naming
/// the same service join it (`add` adds each SLO, reporting duplicates).
pub(crate) fn merge_into(
    services: &mut Vec<Service>,
    service: Service,
    add: &mut dyn FnMut(&mut Service, crate::model::Slo),
) {
    let same = services.iter_mut().find(|s| {
        s.format.one_slo_per_document()
            && service.format.one_slo_per_document()
            && s.name == service.name
    });
    match same {
        Some(existing) => {
            for slo in service.slos {
                add(existing, slo);
            }
        }
        None => services.push(service),
    }
}

enum Detected {
    Spec(Format),
    /// An OpenSLO document read in the first pass (SLI, Service, DataSource).
    Context,
}

// Long: one match over every format's identifying keys, so the detection order is visible in one place.
fn detect(cx: &mut reader::Cx, root: &yaml::Node) -> Option<Detected> {
    let yaml::Value::Map(entries) = &root.value else {
        cx.wrong_type(
            root,
            "the spec",
            "a mapping",
            "start the file with `version: v1`",
        );
        return None;
    };
    let has = |key: &str| entries.iter().any(|(k, _)| k.name == key);
    if let Some((_, node)) = entries.iter().find(|(k, _)| k.name == "apiVersion") {
        let text = reader::string(cx, node, "apiVersion")?;
        let kind = field(root, "kind").unwrap_or("");
        let kind_span = entries
            .iter()
            .find(|(k, _)| k.name == "kind")
            .map(|(_, v)| v.span)
            .unwrap_or(root.span);
        let expect = |cx: &mut reader::Cx, want: &str, format: Format| {
            if kind == want {
                return Some(Detected::Spec(format));
            }
            cx.report(
                kind_span,
                Code::Unsupported,
                format!("`{text}` kind `{kind}` is not a spec"),
                format!("the SLO documents of `{text}` are `kind: {want}`"),
            );
            None
        };
        return match text.as_str() {
            "pyrra.dev/v1alpha1" => expect(cx, "ServiceLevelObjective", Format::Pyrra),
            "sloth.slok.dev/v1" => expect(cx, "PrometheusServiceLevel", Format::SlothK8s),
            "openslo/v1" | "openslo/v1alpha" => {
                let alpha = text == "openslo/v1alpha";
                match (kind, alpha) {
                    ("SLO", false) => Some(Detected::Spec(Format::OpenSloV1)),
                    ("SLO", true) => Some(Detected::Spec(Format::OpenSloV1Alpha)),
                    ("SLI" | "Service" | "DataSource", false) | ("Service", true) => {
                        Some(Detected::Context)
                    }
                    _ => {
                        let help = if kind.starts_with("Alert") {
                            "remove it: alerts follow this toolkit's multi-window burn-rate policy, set per SLO in a v1 spec".to_string()
                        } else {
                            format!("`{text}` documents read here are `SLO`, `SLI`, `Service` and `DataSource`")
                        };
                        cx.report(
                            kind_span,
                            Code::Unsupported,
                            format!("OpenSLO kind `{kind}` is not supported ({text})"),
                            help,
                        );
                        None
                    }
                }
            }
            v if v.starts_with("sre.google.com/") => {
                cx.report(
                    node.span,
                    Code::UnsupportedVersion,
                    format!("slo-generator's `{text}` {kind} is not read here"),
                    "write it as a v1 spec: its PromQL with `[{{window}}]` for `[window]` becomes `sli.ratio` (`good`/`bad` over `valid`) or `sli.raw` (`expression`); `goal` × 100 is the objective",
                );
                None
            }
            "monitoring.coreos.com/v1" if kind == "PrometheusRule" => {
                not_a_spec(cx, kind_span, "a prometheus-operator PrometheusRule");
                None
            }
            _ => {
                let help = if text.starts_with("openslo/") {
                    "OpenSLO is read in versions `openslo/v1` and `openslo/v1alpha`".to_string()
                } else {
                    format!("supported versions: {}", SUPPORTED_VERSIONS.join(", "))
                };
                cx.report(
                    node.span,
                    Code::UnsupportedVersion,
                    format!("unsupported apiVersion `{text}`"),
                    help,
                );
                None
            }
        };
    }
    if has("groups") && !has("version") {
        not_a_spec(cx, root.span, "a Prometheus rule file");
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
        "v1" => Some(Detected::Spec(Format::V1)),
        "prometheus/v1" => Some(Detected::Spec(Format::SlothV1)),
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

/// E025: a file of generated rules given where specs are read.
fn not_a_spec(cx: &mut reader::Cx, span: Span, what: &str) {
    cx.report(
        span,
        Code::NotASpec,
        format!("this is {what}, not an SLO spec"),
        "check rule files with `promtool check rules <file>`; specs are the files `slo-gen generate` reads (`slos/`)",
    );
}

/// W006 for each OpenSLO Service or DataSource that nothing uses.
pub(crate) fn unused(catalog: &Catalog, used: &BTreeSet<String>, diags: &mut Vec<Diagnostic>) {
    for (name, doc) in &catalog.services {
        let (message, help) = if !used.contains(&format!("Service/{name}")) {
            (
                format!("`{name}` is the service of no SLO in the files given; nothing in it is used ({})", doc.what),
                "validate it together with its SLOs, or delete it",
            )
        } else if doc.owner.is_none() && doc.labels.is_empty() {
            (
                format!("`{name}` carries nothing this toolkit uses: only its name, description and display name ({})", doc.what),
                "give it `metadata.labels` (`owner` names the owning team; the others label its rules), or delete it",
            )
        } else {
            continue;
        };
        diags.push(Diagnostic::new(&doc.file, doc.span, Code::UnusedContext, message).help(help));
    }
    for (name, doc) in &catalog.sources {
        let key = format!("DataSource/{name}");
        if used.contains(&key) || catalog.used.contains(&key) {
            continue;
        }
        diags.push(
            Diagnostic::new(
                &doc.file,
                doc.span,
                Code::UnusedContext,
                format!(
                    "no metric source in the files given refers to `{name}`; nothing in it is used ({})",
                    doc.what
                ),
            )
            .help("validate it together with the SLIs that use it, or delete it"),
        );
    }
}

/// Field lists of the v1 language, for the JSON Schema test to keep the two in step.
#[cfg(test)]
pub(crate) mod fields {
    pub(crate) use super::alerting::ABSENT_FIELDS;
    pub(crate) use super::exclusions::{EXCLUSION_FIELDS, WEEKLY_FIELDS};
    pub(crate) use super::gate::DEPLOY_GATE_FIELDS;
    pub(crate) use super::v1::{
        ALERTING_FIELDS, DEFAULT_ALERTING_FIELDS, FRESHNESS_FIELDS, LATENCY_FIELDS, RATIO_FIELDS,
        RAW_FIELDS, SLI_FIELDS, SLO_FIELDS, TIER_FIELDS, TOP_FIELDS,
    };
    pub(crate) use super::windows::WINDOW_FIELDS;
}
