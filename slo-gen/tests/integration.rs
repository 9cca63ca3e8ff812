//! slo-gen's integration tests, one binary (one link, one process running them all at
//! once); each module holds one subject. Slow ones (real promtool over every period and
//! scrape interval, the peers' rule sets, long histories) are `#[ignore]`d with a reason:
//! `scripts/test --quick` leaves them out, `scripts/test` and CI run them with
//! `--include-ignored`.

mod accuracy;
mod annotations;
mod backtest;
mod check_metrics;
mod ci_recipes;
mod cli;
mod cost;
mod dashboards;
mod diagnostics;
mod exclusions;
mod freshness_burst;
mod fuzz_corpus;
mod generate;
mod grouped;
mod imports;
mod low_traffic;
mod peers;
mod scrape_intervals;
mod sli_kinds;
mod split;
mod support;
mod tidy;
mod totals;
