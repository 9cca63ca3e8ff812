//! The stacks that take the cores alone (`e2e::all_cores`): seven servers of two clusters
//! and a global ruler, and a timed rule evaluation over 10,000 groups. Beside other stacks
//! they pushed each other past deadlines on 2 cores. libtest starts tests in name order, so
//! this module's name puts them first: they run before the shared stacks queue up, rather
//! than waiting for a shared hold (engines' takes six minutes) while the tests queued
//! behind their write lock wait too (one CI run's e2e took 990 s that way, 658 s alone).

mod clusters;
mod statements;
