//! Instants and durations as distinct types. A sample's time is an instant
//! ([`Timestamp`]: milliseconds since the Unix epoch, as Prometheus stores them); the
//! distance between two is a duration ([`Millis`]). An instant less an instant is a
//! duration and an instant plus a duration an instant; two instants do not add.

use std::ops::{Add, AddAssign, Sub};
use std::time::Duration;

/// A duration in milliseconds: a window, a step, how long an alert fired. Negative only
/// as the difference of two instants in the wrong order.
pub type Millis = i64;

/// An instant: milliseconds since the Unix epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub const MIN: Timestamp = Timestamp(i64::MIN);
    pub const MAX: Timestamp = Timestamp(i64::MAX);

    /// The instant `secs` seconds after the epoch, to the millisecond (Prometheus's API
    /// writes times as float seconds).
    pub fn from_secs_f64(secs: f64) -> Timestamp {
        Timestamp((secs * 1000.0).round() as i64)
    }

    /// The latest instant at or before this one on a grid of `step` aligned to the epoch.
    pub fn floor(self, step: Millis) -> Timestamp {
        let step = step.max(1);
        Timestamp(self.0.div_euclid(step) * step)
    }
}

impl Add<Millis> for Timestamp {
    type Output = Timestamp;
    fn add(self, d: Millis) -> Timestamp {
        Timestamp(self.0.saturating_add(d))
    }
}

impl Sub<Millis> for Timestamp {
    type Output = Timestamp;
    fn sub(self, d: Millis) -> Timestamp {
        Timestamp(self.0.saturating_sub(d))
    }
}

impl Sub for Timestamp {
    type Output = Millis;
    fn sub(self, earlier: Timestamp) -> Millis {
        self.0.saturating_sub(earlier.0)
    }
}

impl AddAssign<Millis> for Timestamp {
    fn add_assign(&mut self, d: Millis) {
        *self = *self + d;
    }
}

/// A [`Duration`] in milliseconds, saturating at the largest.
pub fn millis(d: Duration) -> Millis {
    d.as_millis().min(i64::MAX as u128) as Millis
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_and_durations_combine_as_time_does() {
        let t = Timestamp(90_500);
        assert_eq!(t + 500 - Timestamp(1_000), 90_000);
        assert_eq!(t.floor(60_000), Timestamp(60_000));
        assert_eq!(Timestamp(-1).floor(1_000), Timestamp(-1_000));
        assert_eq!(Timestamp::from_secs_f64(1.2345), Timestamp(1_235));
        assert_eq!(Timestamp::MAX + 1, Timestamp::MAX);
        assert_eq!(Timestamp::MAX - Timestamp::MIN, i64::MAX);
    }
}
