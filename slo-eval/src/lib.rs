//! The SLO maths every reader of SLO series shares: [`plan`] says which windows an SLO's
//! rules record, the base window raw series are read at, the rule groups' intervals and
//! the alert tiers. The generated rules follow it, and so will the offline evaluator that
//! `backtest`, `report` and `serve` use, so the two never disagree. No I/O.

pub mod plan;

pub use plan::{plan, AbsentPlan, Plan, TierPlan};
