//! Diagnostics: what went wrong, where, and how to fix it.

use std::fmt;

/// A position in a spec file. Lines and columns are 1-based and count characters;
/// `offset`/`len` are byte offsets into the source so renderers can underline exactly.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub line: u64,
    pub column: u64,
    pub offset: usize,
    pub len: usize,
}

impl Span {
    /// The start of a file, for faults that belong to the whole file.
    pub const START: Span = Span {
        line: 1,
        column: 1,
        offset: 0,
        len: 0,
    };
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

macro_rules! codes {
    ($($variant:ident = $code:literal, $sev:ident, $name:literal;)*) => {
        /// Every class of fault the validator reports. Codes are stable: CI configs and
        /// docs refer to them.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code { $($variant,)* }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];
            pub fn as_str(self) -> &'static str { match self { $(Code::$variant => $code,)* } }
            /// Short kebab-case name, used for fixture file names and docs.
            pub fn name(self) -> &'static str { match self { $(Code::$variant => $name,)* } }
            pub fn severity(self) -> Severity { match self { $(Code::$variant => Severity::$sev,)* } }
        }
    };
}

codes! {
    YamlSyntax = "E001", Error, "yaml-syntax";
    UnknownField = "E002", Error, "unknown-field";
    WrongType = "E003", Error, "wrong-type";
    MissingField = "E004", Error, "missing-field";
    UnsupportedVersion = "E005", Error, "unsupported-version";
    InvalidName = "E006", Error, "invalid-name";
    ObjectiveOutOfRange = "E007", Error, "objective-out-of-range";
    BadDuration = "E008", Error, "bad-duration";
    DuplicateService = "E009", Error, "duplicate-service";
    DuplicateSlo = "E010", Error, "duplicate-slo";
    SliKind = "E011", Error, "sli-kind";
    InvalidPromql = "E012", Error, "invalid-promql";
    MissingWindow = "E013", Error, "missing-window";
    MetricMismatch = "E014", Error, "metric-mismatch";
    InvalidLabelName = "E015", Error, "invalid-label-name";
    InvalidLabelValue = "E016", Error, "invalid-label-value";
    AlertNameCollision = "E017", Error, "alert-name-collision";
    FileTooLarge = "E018", Error, "file-too-large";
    InvalidSelector = "E019", Error, "invalid-selector";
    EmptySpec = "E020", Error, "empty-spec";
    Unsupported = "E021", Error, "unsupported";
    InvalidPolicy = "E022", Error, "invalid-policy";
    GroupByMismatch = "E023", Error, "group-by-mismatch";
    InvalidSla = "E024", Error, "invalid-sla";
    NotASpec = "E025", Error, "not-a-spec";
    InvalidExclusion = "E026", Error, "invalid-exclusion";
    OverlappingExclusions = "E027", Error, "overlapping-exclusions";
    InvalidBreakdown = "E028", Error, "invalid-breakdown";
    InvalidDeployGate = "E029", Error, "invalid-deploy-gate";
    TinyBudget = "W001", Warning, "tiny-budget";
    SharedAlertName = "W002", Warning, "shared-alert-name";
    NoRunbook = "W003", Warning, "no-runbook";
    UnusualObjective = "W004", Warning, "unusual-objective";
    QueryWrapped = "W005", Warning, "query-wrapped";
    UnusedContext = "W006", Warning, "unused-context";
    WindowBelowFloor = "W007", Warning, "window-below-floor";
    LowTraffic = "W008", Warning, "low-traffic";
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding. The core never stops at the first one: loaders return the model they
/// could build together with every diagnostic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    pub span: Span,
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(file: &str, span: Span, code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            file: file.to_string(),
            span,
            code,
            severity: code.severity(),
            message: message.into(),
            help: None,
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    /// The one-line form `file:line:col: error[E001]: message`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}[{}]: {}",
            self.file,
            self.span.line,
            self.span.column,
            self.severity.as_str(),
            self.code,
            self.message
        )
    }
}

/// Sorts diagnostics by file and position so output is deterministic.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| {
        (&a.file, a.span.line, a.span.column, a.code, &a.message).cmp(&(
            &b.file,
            b.span.line,
            b.span.column,
            b.code,
            &b.message,
        ))
    });
}
