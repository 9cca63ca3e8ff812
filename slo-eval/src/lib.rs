//! The SLO maths every reader of SLO series shares: [`plan`] says which windows an SLO's
//! rules record, the base window raw series are read at, the rule groups' intervals and
//! the alert tiers; [`evaluate`] replays those rules over a history of the base series
//! (`backtest`, and later `report` and `serve`), so the rules and every reader of their
//! series never disagree. No I/O.

pub mod evaluate;
pub mod plan;
pub mod samples;
pub mod time;

pub use evaluate::{evaluate, warmup, Firing, GroupHistory, GroupOutcome, Schedule};
pub use plan::{plan, AbsentPlan, Plan, TierPlan};
pub use samples::{Cursor, Samples};
pub use time::{millis, Millis, Timestamp};
