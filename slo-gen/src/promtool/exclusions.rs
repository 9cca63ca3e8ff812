//! Exclusions, both sides of the boundary, from raw counters at the spec's scrape
//! interval: a full outage pages before an exclusion starts; inside it the page resolves,
//! nothing fires and the running totals do not move (the base records zero events and zero
//! bad events); after it the outage pages again, within five scrapes, a minute and `for`.
//!
//! Promtool's clock starts at the Unix epoch, so each kind of exclusion the SLO declares
//! (weekly, one-off) is tested as the same kind moved onto that clock, at most two hours
//! long: the rules are the SLO's own with that one exclusion (the indicator has the same
//! form, only its constants move).

use super::behaviour::{self, fastest_page_pair, fmt, on_grid, Behaviour};
use super::file::{num, steps, Check, Scenario, Summary, TestFile};
use crate::names::series::Count;
use crate::names::{self, series};
use crate::rules::{self, Options};
use slo_eval::Plan;
use slo_spec::exclusion::{Exclusion, Weekday, When};
use slo_spec::{Service, Slo};
use std::time::Duration;

/// The longest exclusion a test spends evaluations on.
const LONGEST: Duration = Duration::from_secs(7200);

/// `e` moved to start at `start` (a whole minute) on promtool's clock, as long as it is
/// (two hours at most). 1970-01-01 was a Thursday.
fn moved(e: &Exclusion, start: Duration) -> Exclusion {
    let len = e.when.length().min(LONGEST).as_secs().max(60) / 60 * 60;
    let s = start.as_secs() as i64;
    let when = match e.when {
        When::Weekly { .. } => When::Weekly {
            day: Weekday::Thursday,
            from: (s / 60) as u32,
            to: ((s + len as i64) / 60) as u32,
        },
        When::Once { .. } => When::Once {
            from: s,
            to: s + len as i64,
            from_text: String::new(),
            to_text: String::new(),
        },
    };
    Exclusion { when, ..e.clone() }
}

// Long: one scenario per kind of exclusion, its checks in time order.
pub(super) fn suite(
    svc: &Service,
    slo: &Slo,
    plan: &Plan,
    opts: &Options,
    summary: &mut Summary,
) -> Option<Behaviour> {
    let budget = slo.objective.budget_decimal().to_f64();
    let (pair, for_) = fastest_page_pair(plan, budget)?;
    let mut kinds: Vec<&Exclusion> = Vec::new();
    for e in &slo.exclusions {
        if !kinds
            .iter()
            .any(|k| std::mem::discriminant(&k.when) == std::mem::discriminant(&e.when))
        {
            kinds.push(e);
        }
    }
    let (s, step) = (plan.scrape, plan.interval);
    let (events, errors) = behaviour::test_series(slo);
    let sel = names::selector(&svc.name, &slo.name);
    let page = format!(
        "count({})",
        super::file::alerts(&slo.alerting.name, &svc.name, &slo.name, Some("page"))
    );
    let any = super::file::alerts(&slo.alerting.name, &svc.name, &slo.name, None);
    let per_scrape = behaviour::per_scrape(slo, plan, s);
    let warm = steps(pair.long, s);
    let t0 = s * warm as u32;
    let fired = on_grid(
        t0 + behaviour::outage_deadline(&pair, for_, budget, s),
        step,
    );
    // The exclusion starts on a whole minute after the page fired.
    let start = Duration::from_secs((fired + step).as_secs().div_ceil(60) * 60);
    let mut out = Behaviour {
        rules: Vec::new(),
        files: Vec::new(),
    };
    for e in kinds {
        let e = moved(e, start);
        let end = start + e.when.length();
        let kind = match e.when {
            When::Weekly { .. } => "weekly",
            When::Once { .. } => "one-off",
        };
        let mut test_slo = behaviour::scraped(slo);
        test_slo.alerting.page.windows = vec![pair.clone()];
        test_slo.exclusions = vec![e.clone()];
        let groups = rules::slo_groups(svc, &test_slo, opts);
        let rules_name = format!("rules-exclusion-{kind}.yaml");
        let order = groups.iter().map(|g| g.name.clone()).collect();
        out.rules.push((rules_name.clone(), groups));
        let again = on_grid(end + s * 5 + Duration::from_secs(60) + for_, step);
        let n = steps(again, s) + 1;
        let inside = end - on_grid(start + step, step);
        let moved_total = |c| {
            let t = format!("{}{sel}", series::total(c));
            format!(
                "sum({t} - {t} offset {})",
                slo_spec::names::format_duration(inside)
            )
        };
        let flag = format!("sum({}{sel})", series::EXCLUDED);
        let checks = vec![
            Check {
                expr: page.clone(),
                at: on_grid(start, step) - step,
                value: Some(1.0),
            },
            Check {
                expr: flag.clone(),
                at: on_grid(start, step) - step,
                value: Some(0.0),
            },
            Check {
                expr: flag,
                at: end,
                value: Some(1.0),
            },
            Check {
                expr: page.clone(),
                at: on_grid(start + step, step),
                value: None,
            },
            Check {
                expr: format!("sum(count_over_time({any}[{}]))", fmt(inside)),
                at: end,
                value: None,
            },
            Check {
                expr: moved_total(Count::Events),
                at: end,
                value: Some(0.0),
            },
            Check {
                expr: moved_total(Count::Errors),
                at: end,
                value: Some(0.0),
            },
            Check {
                expr: page.clone(),
                at: again,
                value: Some(1.0),
            },
        ];
        out.files.push(TestFile {
            name: format!("exclusion-{kind}.yaml"),
            rules: rules_name,
            step,
            input_interval: s,
            groups: order,
            scenarios: vec![Scenario {
                name: format!(
                    "a full outage pages before a {kind} exclusion of {}, nothing fires and the totals stand still inside it, and it pages again within {} after",
                    fmt(e.when.length()),
                    fmt(again - end)
                ),
                series: vec![
                    (events.clone(), format!("0+{}x{n}", num(per_scrape))),
                    (
                        errors.clone(),
                        format!("0x{warm} {p}+{p}x{}", n - warm - 1, p = num(per_scrape)),
                    ),
                ],
                checks,
            }],
        });
    }
    for f in &out.files {
        summary.scenarios += f.scenarios.len();
        summary.checks += f.scenarios.iter().map(|s| s.checks.len()).sum::<usize>();
    }
    (!out.files.is_empty()).then_some(out)
}
