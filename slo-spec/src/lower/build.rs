//! The one place where the model's `Slo` and `Service` values are built, from the parts
//! each format read in its own words: above [`super::common`] and [`super::alerting`],
//! which it joins, so neither imports the other's caller.

use super::alerting::{self, AlertingSpec};
use super::reader::Cx;
use crate::diagnostic::{Code, Span};
use crate::model::*;

/// The parts of an SLO each format reads in its own words. A part is `None` when it was
/// missing or faulty (a diagnostic says so); [`finish_slo`] then builds nothing.
pub(crate) struct SloParts {
    pub name: Option<(String, Span)>,
    pub description: Option<String>,
    pub objective: Option<Objective>,
    pub period: Option<Window>,
    /// The formats without one pass [`default_scrape_interval`].
    pub scrape_interval: Option<Window>,
    pub labels: Labels,
    pub group_by: Option<Vec<String>>,
    pub sli: Option<Sli>,
    pub alerting: Option<AlertingSpec>,
    /// `None`: declared but faulty; `Some(None)`: no SLA.
    pub sla: Option<Option<Sla>>,
    /// The file's and the SLO's, checked together; `None` when faulty.
    pub exclusions: Option<Vec<crate::exclusion::Exclusion>>,
    /// `None`: declared but faulty; `Some(None)`: no gate of its own.
    pub deploy_gate: Option<Option<DeployGate>>,
    /// Events per second, as written, and where.
    pub expected_rate: Option<(f64, String, Span)>,
}

/// Builds the model's SLO: checks the alert windows against the period, then resolves the
/// SLO's alerting over the file's defaults and the default policy.
pub(crate) fn finish_slo(
    cx: &mut Cx,
    parts: SloParts,
    defaults: &AlertingSpec,
    service: &str,
) -> Option<Slo> {
    let (name, span) = parts.name?;
    let own = parts.alerting?;
    let period = parts.period?;
    let scrape = parts.scrape_interval?;
    alerting::check_windows(cx, &own, defaults, &period, &scrape);
    let group_by = parts.group_by?;
    let sli = parts.sli?;
    let breakdown = own.breakdown.as_ref().or(defaults.breakdown.as_ref());
    if let Some((labels, span)) = breakdown {
        super::breakdown::check(cx, labels, *span, &group_by, &sli)?;
    }
    let alerting = alerting::resolve(defaults, &own, service, &name, &period, &scrape);
    if let (Some(rate), Some(objective)) = (&parts.expected_rate, &parts.objective) {
        super::traffic::check(cx, rate, objective, &alerting, &sli);
    }
    Some(Slo {
        span,
        name,
        description: parts.description?,
        objective: parts.objective?,
        period,
        scrape_interval: scrape,
        labels: parts.labels,
        group_by,
        sli,
        alerting,
        sla: parts.sla?,
        exclusions: parts.exclusions?,
        deploy_gate: parts.deploy_gate?,
        expected_rate: parts.expected_rate.map(|(r, _, _)| r),
    })
}

/// Adds `slo` unless the service already has an SLO of that name (E010 at the second).
pub(crate) fn add_slo(cx: &mut Cx, slos: &mut Vec<Slo>, slo: Slo) {
    if let Some(first) = slos.iter().find(|s| s.name == slo.name) {
        cx.report(
            slo.span,
            Code::DuplicateSlo,
            format!("SLO `{}` is declared twice in this file", slo.name),
            format!(
                "first declared at line {}; rename one of them",
                first.span.line
            ),
        );
        return;
    }
    slos.push(slo);
}

/// Builds the model's service from its parts.
pub(crate) fn finish_service(
    cx: &Cx,
    format: Format,
    name: Option<(String, Span)>,
    owner: Option<String>,
    labels: Labels,
    slos: Vec<Slo>,
) -> Option<Service> {
    let (name, span) = name?;
    Some(Service {
        file: cx.file.to_string(),
        format,
        name,
        span,
        owner,
        labels,
        slos,
    })
}
