//! The command line, as clap types: every flag and its default lives here, and nowhere
//! else. Commands (`cmd`) take these arguments; engine modules never see clap.

use crate::rules::emit::RulesFormat;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

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
    Validate(ValidateArgs),
    /// Print the JSON Schema of the v1 spec language.
    Schema,
    /// Compile specs into rule files and Grafana dashboards (one of each per service, plus
    /// an overview); nothing is written when any spec has an error.
    Generate(GenerateArgs),
    /// Check that a service exposes every series the specs read, and every latency
    /// threshold as an exact bucket boundary; exit 1 naming what is missing.
    CheckMetrics(CheckMetricsArgs),
    /// Write promtool unit tests proving every SLO's alerts fire (and only when they
    /// should), run `promtool test rules` on them, and report per SLO.
    Test(TestArgs),
    /// Replay the generated alerts over real history (from Prometheus, or a saved
    /// history): when each tier would have fired, for how long, and, with --baseline,
    /// what a spec change does to them. Exit 1 only with --fail-on-new-pages.
    Backtest(BacktestArgs),
    /// Report what each SLO delivered over a calendar month or a range: events,
    /// attainment, met or missed, budget spent, pages and tickets, the longest incident,
    /// and SLA credits owed.
    Report(ReportArgs),
    /// Serve the SLO pages on-call opens first: every SLO's budget, burn rate and alert
    /// state, each SLO's history, the month's report; read-only, from Prometheus.
    Serve(ServeArgs),
    /// Compare the rules a Prometheus or vmalert has loaded with what `generate` writes
    /// for the specs: missing, changed, orphaned, failing or never evaluated rules. Exit 1
    /// on drift, 2 when the server cannot be read.
    Drift(DriftArgs),
    /// May we deploy? Read every selected SLO's error budget left from Prometheus: exit 1
    /// naming the SLOs below their deploy gate (or exhausted), 2 when one has no data or
    /// the server cannot be reached, 0 otherwise.
    Gate(GateArgs),
    /// Write the specs (Sloth, Pyrra, OpenSLO or v1) as v1 specs, the migration path:
    /// convert once, then edit; or as OpenSLO v1 documents for tools that read OpenSLO.
    /// Notes on stderr name every field the target cannot hold.
    Convert(ConvertArgs),
}

#[derive(Args, Debug)]
pub struct GateArgs {
    #[command(flatten)]
    pub specs: Specs,
    /// The Prometheus (or VictoriaMetrics) holding the recorded budgets (http://host:9090).
    #[arg(long)]
    pub prometheus: String,
    /// Only SLOs of these services (repeat the flag for several).
    #[arg(long)]
    pub service: Vec<String>,
    /// Only SLOs of these names (repeat the flag for several).
    #[arg(long)]
    pub slo: Vec<String>,
    /// Percent of the budget that must be left, for SLOs without their own `deploy_gate`
    /// (0: only an exhausted budget blocks).
    #[arg(long, default_value = "0")]
    pub min_budget: String,
    #[arg(long, value_enum, default_value_t = FindingsFormat::Text)]
    pub format: FindingsFormat,
}

#[derive(Args, Debug)]
pub struct DriftArgs {
    #[command(flatten)]
    pub specs: Specs,
    /// A Prometheus whose loaded rules to compare (http://host:9090).
    #[arg(long, conflicts_with = "vmalert", required_unless_present = "vmalert")]
    pub prometheus: Option<String>,
    /// A vmalert whose loaded rules to compare (http://host:8880).
    #[arg(long)]
    pub vmalert: Option<String>,
    /// The Grafana base URL the rules were generated with (their `dashboard_url`).
    #[arg(long, default_value = "http://localhost:3000")]
    pub grafana_url: String,
    #[arg(long, value_enum, default_value_t = FindingsFormat::Text)]
    pub format: FindingsFormat,
}

/// How `drift` and `gate` print what they found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FindingsFormat {
    /// One line per finding.
    Text,
    /// Stable JSON.
    Json,
    /// GitHub Actions workflow commands (`::error file=...`), one per finding.
    Github,
}

#[derive(Args, Debug)]
pub struct ConvertArgs {
    #[command(flatten)]
    pub specs: Specs,
    #[arg(long, value_enum, default_value_t = ConvertTarget::V1)]
    pub to: ConvertTarget,
    /// Write one file per service here (never over an existing file) instead of printing
    /// the documents to stdout.
    #[arg(long)]
    pub output: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ConvertTarget {
    /// This toolkit's spec language.
    V1,
    /// OpenSLO v1 `SLO` documents with inline Prometheus indicators.
    Openslo,
}

/// Spec files or directories (walked for *.yaml and *.yml).
#[derive(Args, Debug)]
pub struct Specs {
    #[arg(default_value = "slos")]
    pub paths: Vec<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub specs: Specs,
    #[arg(long, value_enum, default_value_t = DiagnosticFormat::Human)]
    pub format: DiagnosticFormat,
    /// Fail on warnings too.
    #[arg(long)]
    pub deny_warnings: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DiagnosticFormat {
    /// `file:line:col: error[CODE]: message`, the source line with a caret, and help.
    Human,
    /// A JSON array of `{file, line, column, code, severity, message, help}`.
    Json,
    /// GitHub Actions workflow commands (`::error file=...`).
    Github,
}

impl From<DiagnosticFormat> for slo_spec::render::Format {
    fn from(f: DiagnosticFormat) -> Self {
        match f {
            DiagnosticFormat::Human => Self::Human,
            DiagnosticFormat::Json => Self::Json,
            DiagnosticFormat::Github => Self::Github,
        }
    }
}

#[derive(Args, Debug)]
pub struct GenerateArgs {
    #[command(flatten)]
    pub specs: Specs,
    /// Write `rules/`, `dashboards/` and `alertmanager/` under DIR (default: the current
    /// directory, the repository's layout).
    #[arg(long, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// The rule files' directory [default: <output>/rules].
    #[arg(long, value_name = "DIR")]
    pub rules_dir: Option<PathBuf>,
    /// The dashboards' directory [default: <output>/dashboards, or beside --rules-dir].
    #[arg(long, value_name = "DIR")]
    pub dashboards_dir: Option<PathBuf>,
    /// Where the Alertmanager inhibit rules go (merge them into alertmanager.yml)
    /// [default: <output>/alertmanager, or beside --rules-dir].
    #[arg(long, value_name = "DIR")]
    pub alertmanager_dir: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = RulesFormatArg::Prometheus)]
    pub format: RulesFormatArg,
    /// Write nothing; exit 1 naming every missing, stale or orphaned file.
    #[arg(long)]
    pub check: bool,
    /// Grafana base URL for the `dashboard_url` annotation.
    #[arg(long, default_value = "http://localhost:3000")]
    pub grafana_url: String,
    /// `split`: per service a local rule set for every cluster's Prometheus (under
    /// `<rules>/local/`) and a global one for the ruler (under `<rules>/global/`).
    #[arg(long, value_enum, default_value_t = Layout::Single)]
    pub layout: Layout,
    /// With `--layout split`: how late a cluster's recordings may reach the global ruler
    /// (remote write plus the store's read delay) and still be counted.
    #[arg(long, value_name = "DURATION", default_value = "1m", value_parser = slo_spec::names::parse_duration)]
    pub remote_write_delay: std::time::Duration,
}

/// Where an SLO's rules are evaluated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Layout {
    /// Every rule in one Prometheus (or ruler) that scrapes the raw series.
    Single,
    /// The base series in each cluster, everything else in a global ruler.
    Split,
}

impl Layout {
    /// Where the commands that read Prometheus find an SLO's base series: the raw series
    /// in a single layout, the merged recordings in the split layout's global store.
    pub fn source(self) -> crate::rules::sli::Source {
        match self {
            Layout::Single => crate::rules::sli::Source::Raw,
            Layout::Split => crate::rules::sli::Source::Recorded,
        }
    }
}

impl GenerateArgs {
    /// The rules, dashboards and Alertmanager directories. A directory not named goes under
    /// `--output`, or else beside the first one named (so `--rules-dir ../x/rules` never
    /// writes into the current directory), or else into the current directory.
    pub fn dirs(&self) -> [PathBuf; 3] {
        let named = [
            &self.rules_dir,
            &self.dashboards_dir,
            &self.alertmanager_dir,
        ];
        let base = self.output.clone().unwrap_or_else(|| {
            named
                .iter()
                .find_map(|d| d.as_ref()?.parent().map(PathBuf::from))
                .unwrap_or_default()
        });
        let pick = |given: &Option<PathBuf>, default: &str| {
            given.clone().unwrap_or_else(|| base.join(default))
        };
        [
            pick(&self.rules_dir, "rules"),
            pick(&self.dashboards_dir, "dashboards"),
            pick(&self.alertmanager_dir, "alertmanager"),
        ]
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RulesFormatArg {
    /// Plain rule files for Prometheus, Thanos Ruler and the Mimir/Cortex ruler.
    Prometheus,
    /// `monitoring.coreos.com/v1` `PrometheusRule` manifests.
    PrometheusOperator,
}

impl From<RulesFormatArg> for RulesFormat {
    fn from(f: RulesFormatArg) -> Self {
        match f {
            RulesFormatArg::Prometheus => Self::Prometheus,
            RulesFormatArg::PrometheusOperator => Self::PrometheusOperator,
        }
    }
}

#[derive(Args, Debug)]
pub struct CheckMetricsArgs {
    #[command(flatten)]
    pub specs: Specs,
    /// Scrape this URL (http://…/metrics).
    #[arg(
        long,
        conflicts_with_all = ["metrics_file", "global"],
        required_unless_present_any = ["metrics_file", "global"]
    )]
    pub metrics_url: Option<String>,
    /// Read an exposition saved to a file.
    #[arg(long, conflicts_with = "global")]
    pub metrics_file: Option<PathBuf>,
    /// The split layout: ask the global store (http://host:port, a Prometheus query API:
    /// VictoriaMetrics, Thanos, Mimir) which clusters send each SLO's local recordings.
    #[arg(long, value_name = "URL")]
    pub global: Option<String>,
}

#[derive(Args, Debug)]
pub struct TestArgs {
    #[command(flatten)]
    pub specs: Specs,
    /// The promtool binary.
    #[arg(long, default_value = "promtool")]
    pub promtool: String,
    /// Keep the generated tests in this directory (default: a temporary one, removed).
    #[arg(long)]
    pub keep: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct BacktestArgs {
    #[command(flatten)]
    pub specs: Specs,
    /// Fetch the base series from this Prometheus (http://host:9090).
    #[arg(long, conflicts_with = "history", required_unless_present = "history")]
    pub prometheus: Option<String>,
    /// Start: RFC 3339 (2026-11-01T00:00:00Z), `now`, or relative (-30d, now-12h).
    #[arg(long, default_value = "-7d", allow_hyphen_values = true)]
    pub from: String,
    /// End, as --from.
    #[arg(long, default_value = "now", allow_hyphen_values = true)]
    pub to: String,
    /// Replay a history saved with --save-history instead of asking Prometheus.
    #[arg(long)]
    pub history: Option<PathBuf>,
    /// Save what was fetched (JSON), to replay it offline later.
    #[arg(long)]
    pub save_history: Option<PathBuf>,
    /// Compare with other specs over the same history: a directory, or `git:REV` for the
    /// same paths at a git revision.
    #[arg(long)]
    pub baseline: Option<String>,
    /// Exit 1 when the change adds a page against --baseline.
    #[arg(long, requires = "baseline")]
    pub fail_on_new_pages: bool,
    /// Known incidents (YAML list of {service, slo, start, end}): detection time per tier,
    /// and the alerts outside any incident.
    #[arg(long)]
    pub incidents: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = BacktestFormat::Text)]
    pub format: BacktestFormat,
    /// Evaluate every rule group at this interval, as `promtool test rules` does (default:
    /// each group at its own interval, as Prometheus runs them).
    #[arg(long)]
    pub evaluation_interval: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BacktestFormat {
    Text,
    /// Stable JSON: {from, to, slos: [{service, slo, group, alerts, pages, tickets, ...}]}.
    Json,
    /// A pull-request comment.
    Markdown,
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    #[command(flatten)]
    pub specs: Specs,
    /// The Prometheus holding the SLIs and `ALERTS` (http://host:9090).
    #[arg(long)]
    pub prometheus: String,
    /// `split`: the server is the split layout's global store, which holds the recorded
    /// base series and no raw ones; counts are read from those.
    #[arg(long, value_enum, default_value_t = Layout::Single)]
    pub layout: Layout,
    /// A calendar month in UTC (YYYY-MM).
    #[arg(long, conflicts_with_all = ["from", "to"], required_unless_present = "from")]
    pub month: Option<String>,
    /// Start: RFC 3339, `now`, or relative (-30d).
    #[arg(long, requires = "to", allow_hyphen_values = true)]
    pub from: Option<String>,
    /// End, as --from.
    #[arg(long, requires = "from", allow_hyphen_values = true)]
    pub to: Option<String>,
    #[arg(long, value_enum, default_value_t = ReportFormat::Markdown)]
    pub format: ReportFormat,
    /// Write here instead of stdout (Markdown writes its charts beside it as SVG files).
    #[arg(long, conflicts_with = "statements")]
    pub output: Option<PathBuf>,
    /// Instead of the report, write per-customer SLA statements here: for every SLO with
    /// an `sla` and a `group_by`, `<DIR>/<period>/<account>.json` and `.html` per account
    /// and `statements.csv` with a row per account and SLO.
    #[arg(long, value_name = "DIR")]
    pub statements: Option<PathBuf>,
    /// Charges before credits for the period, in cents, by account:
    /// `{"acme": 1250000, ...}` (the invoicing system's figures); statements then show
    /// each credit in money.
    #[arg(long, value_name = "FILE", requires = "statements")]
    pub charges: Option<PathBuf>,
    /// Skip the replay of the rules over the range with and without the low-traffic test
    /// (it reads the SLIs' base series over the range, as `backtest` does).
    #[arg(long)]
    pub no_replay: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Markdown,
    /// Stable JSON; its `credits` list is what an invoicing job reads.
    Json,
    /// One self-contained file with inline SVG charts.
    Html,
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    pub specs: Specs,
    /// The Prometheus the generated rules run in (http://host:9090).
    #[arg(long)]
    pub prometheus: String,
    /// `split`: the server is the split layout's global store, which holds the recorded
    /// base series and no raw ones; counts are read from those.
    #[arg(long, value_enum, default_value_t = Layout::Single)]
    pub layout: Layout,
    #[arg(long, default_value = "127.0.0.1:9099")]
    pub listen: std::net::SocketAddr,
    /// Grafana base URL, for dashboard links.
    #[arg(long, default_value = "http://localhost:3000")]
    pub grafana_url: String,
    /// Serve under this path (`/slo`) behind a reverse proxy.
    #[arg(long, default_value = "")]
    pub route_prefix: String,
}
