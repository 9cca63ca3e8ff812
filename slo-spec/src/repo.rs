//! Checks across every spec of a repository: names that must be unique, and warnings
//! that need the whole model.

use crate::diagnostic::{Code, Diagnostic};
use crate::model::{Format, Service};
use std::collections::BTreeMap;

/// Error budgets shorter than this cannot be defended by humans: the warning says so.
const MIN_BUDGET_SECONDS: f64 = 60.0;

/// A message about a service read from a peer's format names the format, as every
/// diagnostic of its document does.
fn named(svc: &Service, message: String) -> String {
    if svc.format == Format::V1 {
        message
    } else {
        format!("{message} ({})", svc.format.describe())
    }
}

// Long: the cross-file checks in one pass over the indexes they share.
pub(crate) fn check(services: &[Service], diags: &mut Vec<Diagnostic>) -> Vec<bool> {
    let mut keep = vec![true; services.len()];
    let mut seen: BTreeMap<&str, &Service> = BTreeMap::new();
    for (i, svc) in services.iter().enumerate() {
        if let Some(first) = seen.get(svc.name.as_str()) {
            keep[i] = false;
            diags.push(
                Diagnostic::new(
                    &svc.file,
                    svc.span,
                    Code::DuplicateService,
                    named(svc, format!("service `{}` is declared twice", svc.name)),
                )
                .help(format!(
                    "first declared at {}:{}:{}; each service is declared once, in one file",
                    first.file, first.span.line, first.span.column
                )),
            );
        } else {
            seen.insert(&svc.name, svc);
        }
    }

    let mut alerts: BTreeMap<&str, (&Service, &crate::model::Slo)> = BTreeMap::new();
    for (svc, _) in services.iter().zip(&keep).filter(|(_, k)| **k) {
        for slo in &svc.slos {
            let a = &slo.alerting;
            if a.disabled || (a.page.disabled && a.ticket.disabled) {
                continue;
            }
            match alerts.get(a.name.as_str()) {
                Some((other_svc, other)) => {
                    let sloth = |f: Format| matches!(f, Format::SlothV1 | Format::SlothK8s);
                    let both_sloth = sloth(svc.format) && sloth(other_svc.format);
                    let code = if both_sloth {
                        Code::SharedAlertName
                    } else {
                        Code::AlertNameCollision
                    };
                    diags.push(
                        Diagnostic::new(
                            &svc.file,
                            slo.span,
                            code,
                            named(
                                svc,
                                format!(
                                    "alert name `{}` of SLO `{}/{}` is also used by `{}/{}`",
                                    a.name, svc.name, slo.name, other_svc.name, other.name
                                ),
                            ),
                        )
                        .help(format!(
                            "give one of them its own `alerting.name` (the other is at {}:{}:{})",
                            other_svc.file, other.span.line, other.span.column
                        )),
                    );
                }
                None => {
                    alerts.insert(&a.name, (svc, slo));
                }
            }
        }
    }

    for svc in services {
        for slo in &svc.slos {
            let budget = slo.period.duration.as_secs_f64() * slo.objective.error_budget();
            if budget < MIN_BUDGET_SECONDS {
                diags.push(
                    Diagnostic::new(
                        &svc.file,
                        slo.objective.span,
                        Code::TinyBudget,
                        named(
                            svc,
                            format!(
                                "objective {}% leaves an error budget of {:.1}s over {}",
                                slo.objective.text, budget, slo.period.text
                            ),
                        ),
                    )
                    .help("nobody can respond within that budget; lower the objective or lengthen the period"),
                );
            }
            let alerting = &slo.alerting;
            if svc.format == Format::V1
                && !alerting.disabled
                && !alerting.annotations.contains_key("runbook_url")
            {
                diags.push(
                    Diagnostic::new(&svc.file, slo.span, Code::NoRunbook, format!("SLO `{}` has no runbook", slo.name))
                        .help("add `alerting.annotations.runbook_url` so on-call knows what to do when it pages"),
                );
            }
        }
    }
    keep
}
