//! Samples of one base series and the sums over windows the rules take of them.
//!
//! A window ending at `t` holds the samples with `t - w <= ts <= t`, as Prometheus 2's
//! range selectors do (Prometheus 3 leaves the start out; on a grid whose step divides the
//! window that is one sample of several hundred). Sums use prefix sums, and a [`Cursor`]
//! moves through times in ascending order, so a replay is linear in the samples.

use crate::time::{Millis, Timestamp};

/// The samples of one series, sorted by time, with prefix sums for window sums.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Samples {
    ts: Vec<Timestamp>,
    values: Vec<f64>,
    /// `prefix[i]` is the sum of the first `i` values.
    prefix: Vec<f64>,
}

impl Samples {
    /// Samples in any order; a later duplicate timestamp replaces an earlier one.
    pub fn new(mut points: Vec<(Timestamp, f64)>) -> Samples {
        points.sort_by_key(|p| p.0);
        points.dedup_by(|later, earlier| {
            if later.0 == earlier.0 {
                earlier.1 = later.1;
                true
            } else {
                false
            }
        });
        let mut prefix = Vec::with_capacity(points.len() + 1);
        prefix.push(0.0);
        let mut sum = 0.0;
        for p in &points {
            sum += p.1;
            prefix.push(sum);
        }
        Samples {
            ts: points.iter().map(|p| p.0).collect(),
            values: points.iter().map(|p| p.1).collect(),
            prefix,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.ts.is_empty()
    }

    pub fn len(&self) -> usize {
        self.ts.len()
    }

    pub fn first_time(&self) -> Option<Timestamp> {
        self.ts.first().copied()
    }

    /// Every sample, in time order.
    pub fn points(&self) -> impl Iterator<Item = (Timestamp, f64)> + '_ {
        self.ts.iter().copied().zip(self.values.iter().copied())
    }

    /// The sum and number of samples in `[from, to]`, by binary search.
    pub fn sum_between(&self, from: Timestamp, to: Timestamp) -> (f64, usize) {
        let lo = self.ts.partition_point(|&t| t < from);
        let hi = self.ts.partition_point(|&t| t <= to);
        self.sum_of(lo, hi)
    }

    fn sum_of(&self, lo: usize, hi: usize) -> (f64, usize) {
        if hi <= lo {
            (0.0, 0)
        } else {
            (self.prefix[hi] - self.prefix[lo], hi - lo)
        }
    }
}

/// Window sums at ascending times: each call moves two indices forward, never back.
#[derive(Clone, Debug, Default)]
pub struct Cursor {
    lo: usize,
    hi: usize,
}

impl Cursor {
    /// The sum and number of samples of `s` in `[t - window, t]`; `t` must not decrease
    /// between calls on the same cursor and series.
    pub fn window(&mut self, s: &Samples, t: Timestamp, window: Millis) -> (f64, usize) {
        while self.hi < s.ts.len() && s.ts[self.hi] <= t {
            self.hi += 1;
        }
        while self.lo < self.hi && s.ts[self.lo] < t - window {
            self.lo += 1;
        }
        s.sum_of(self.lo, self.hi)
    }

    /// The newest sample in `(t - step, t]`: what a rule evaluated at `t` recorded.
    pub fn at(&mut self, s: &Samples, t: Timestamp, step: Millis) -> Option<f64> {
        while self.hi < s.ts.len() && s.ts[self.hi] <= t {
            self.hi += 1;
        }
        let i = self.hi.checked_sub(1)?;
        (s.ts[i] > t - step).then(|| s.values[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(points: &[(i64, f64)]) -> Samples {
        Samples::new(points.iter().map(|&(t, v)| (Timestamp(t), v)).collect())
    }

    fn check(points: &[(i64, f64)], at: &[i64], window: Millis, expected: &[(f64, usize)]) {
        let s = samples(points);
        let mut c = Cursor::default();
        let at: Vec<Timestamp> = at.iter().map(|&t| Timestamp(t)).collect();
        let got: Vec<(f64, usize)> = at.iter().map(|&t| c.window(&s, t, window)).collect();
        assert_eq!(got, expected);
        let searched: Vec<(f64, usize)> =
            at.iter().map(|&t| s.sum_between(t - window, t)).collect();
        assert_eq!(searched, expected, "cursor and binary search agree");
    }

    #[test]
    fn windows_include_both_ends() {
        check(
            &[(0, 1.0), (10, 2.0), (20, 4.0), (30, 8.0)],
            &[0, 10, 20, 30, 40, 50, 60],
            10,
            &[
                (1.0, 1),
                (3.0, 2),
                (6.0, 2),
                (12.0, 2),
                (8.0, 1),
                (0.0, 0),
                (0.0, 0),
            ],
        );
    }

    #[test]
    fn windows_over_irregular_samples_and_gaps() {
        check(
            &[(3, 1.0), (4, 1.0), (17, 5.0), (90, 2.0), (91, 2.0)],
            &[5, 17, 20, 50, 95, 200],
            15,
            &[(2.0, 2), (7.0, 3), (5.0, 1), (0.0, 0), (4.0, 2), (0.0, 0)],
        );
    }

    #[test]
    fn unsorted_input_and_duplicates_keep_the_later_sample() {
        let s = samples(&[(20, 1.0), (10, 5.0), (20, 3.0)]);
        let points: Vec<(i64, f64)> = s.points().map(|(t, v)| (t.0, v)).collect();
        assert_eq!(points, vec![(10, 5.0), (20, 3.0)]);
        assert_eq!(s.sum_between(Timestamp(0), Timestamp(100)), (8.0, 2));
    }

    #[test]
    fn the_recorded_value_is_the_newest_within_one_step() {
        let s = samples(&[(0, 1.0), (28, 2.0), (100, 3.0)]);
        let mut c = Cursor::default();
        let got: Vec<Option<f64>> = [0, 27, 28, 55, 56, 99, 100]
            .iter()
            .map(|&t| c.at(&s, Timestamp(t), 28))
            .collect();
        assert_eq!(
            got,
            vec![
                Some(1.0),
                Some(1.0),
                Some(2.0),
                Some(2.0),
                None,
                None,
                Some(3.0)
            ]
        );
    }
}
