//! Meters, prices, plans and rating: money is exact, end to end.
//!
//! Quantities are whole numbers of a meter's unit (`u64`), prices exact fractions (so many
//! cents per so many units), and every amount integer cents computed with checked
//! arithmetic on `u128`. The bounds below are enforced at ingest, so no total can grow
//! past what the arithmetic holds; a line item that would still not fit is an error,
//! never a wrapped number.

use crate::instrument::labels::closed_set;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The largest quantity one usage event may carry (10^15 units: a petabyte of egress).
pub const MAX_EVENT_QUANTITY: u64 = 1_000_000_000_000_000;

/// The largest total one account may accumulate on one meter (10^18 units). With the
/// dearest price (450 cents per million) that is 4.5 × 10^14 cents, so every total stays
/// below 2^53 and reads exactly even as a JSON double.
pub const MAX_ACCOUNT_QUANTITY: u64 = 1_000_000_000_000_000_000;

/// The largest flat fee a plan may charge, in cents ($10 billion).
pub const MAX_FEE_CENTS: u64 = 1_000_000_000_000;

closed_set! {
    /// What usage is metered.
    pub enum Meter {
        StorageByteHours => "storage_byte_hours",
        EgressBytes => "egress_bytes",
        ClassBTransactions => "class_b_transactions",
        ClassCTransactions => "class_c_transactions",
    }
}

/// How an account is charged.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case")]
pub enum Plan {
    /// Every unit is billed.
    #[default]
    Usage,
    /// A flat monthly fee in cents, usage included.
    Subscription { fee_cents: u64 },
    /// A flat fee in cents including an allowance per meter (in the meter's unit); usage
    /// beyond it is billed.
    Hybrid {
        fee_cents: u64,
        included: BTreeMap<String, u64>,
    },
}

impl Plan {
    pub fn fee_cents(&self) -> u64 {
        match self {
            Plan::Usage => 0,
            Plan::Subscription { fee_cents } | Plan::Hybrid { fee_cents, .. } => *fee_cents,
        }
    }

    /// The part of `quantity` the plan bills.
    pub fn billable(&self, meter: Meter, quantity: u64) -> u64 {
        match self {
            Plan::Usage => quantity,
            Plan::Subscription { .. } => 0,
            Plan::Hybrid { included, .. } => {
                quantity.saturating_sub(included.get(meter.as_str()).copied().unwrap_or(0))
            }
        }
    }

    /// What is wrong with the plan, if anything: a fee over the bound, an allowance for a
    /// meter that does not exist.
    pub(super) fn fault(&self) -> Option<String> {
        if self.fee_cents() > MAX_FEE_CENTS {
            return Some(format!(
                "fee_cents {} is over the limit of {MAX_FEE_CENTS}",
                self.fee_cents()
            ));
        }
        if let Plan::Hybrid { included, .. } = self {
            if let Some(name) = included.keys().find(|m| Meter::parse(m).is_none()) {
                let meters: Vec<&str> = Meter::ALL.iter().map(|m| m.as_str()).collect();
                return Some(format!(
                    "unknown meter `{name}` in `included`; meters: {}",
                    meters.join(", ")
                ));
            }
        }
        None
    }
}

/// An exact price: `cents` for every `per` units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Price {
    pub cents: u64,
    pub per: u64,
}

impl Meter {
    /// The unit one quantity counts.
    pub fn unit(self) -> &'static str {
        match self {
            Meter::StorageByteHours => "byte-hours",
            Meter::EgressBytes => "bytes",
            Meter::ClassBTransactions | Meter::ClassCTransactions => "transactions",
        }
    }

    pub fn price(self) -> Price {
        match self {
            // $0.023 per GB-month of 730 hours: 2.3 cents per 730 × 10^9 byte-hours.
            Meter::StorageByteHours => Price {
                cents: 23,
                per: 7_300_000_000_000,
            },
            // $0.09 per GB.
            Meter::EgressBytes => Price {
                cents: 9,
                per: 1_000_000_000,
            },
            // $0.36 and $4.50 per million operations.
            Meter::ClassBTransactions => Price {
                cents: 36,
                per: 1_000_000,
            },
            Meter::ClassCTransactions => Price {
                cents: 450,
                per: 1_000_000,
            },
        }
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("{meter}: {quantity} {unit} cost more than integer cents can hold")]
    LineOverflow {
        meter: Meter,
        quantity: u64,
        unit: &'static str,
    },
    #[error("the invoice total overflows integer cents")]
    TotalOverflow,
}

/// The cost of `quantity` units at `price`, in cents, rounded half up (half a cent and
/// more is a cent). Exact: the product is formed in `u128`, which holds any `u64` times
/// any `u64`.
pub fn cost(price: Price, quantity: u64) -> Option<u64> {
    let numerator = u128::from(quantity) * u128::from(price.cents);
    let per = u128::from(price.per.max(1));
    let cents = (numerator + per / 2) / per;
    u64::try_from(cents).ok()
}

/// One rated line item.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct LineItem {
    pub meter: &'static str,
    pub unit: &'static str,
    pub quantity: u64,
    /// Quantity beyond the plan's allowance.
    pub billable: u64,
    /// Integer cents.
    pub cost: u64,
}

/// A rated account: line items per meter, the plan's fee and the total, in cents.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Rated {
    pub items: Vec<LineItem>,
    pub fee: u64,
    pub total: u64,
}

/// Rates usage (quantity per meter name) under a plan.
pub fn rate(plan: &Plan, usage: &BTreeMap<String, u64>) -> Result<Rated, MoneyError> {
    let fee = plan.fee_cents();
    let mut total = fee;
    let mut items = Vec::with_capacity(Meter::ALL.len());
    for &meter in Meter::ALL {
        let quantity = usage.get(meter.as_str()).copied().unwrap_or(0);
        let billable = plan.billable(meter, quantity);
        let cost = cost(meter.price(), billable).ok_or(MoneyError::LineOverflow {
            meter,
            quantity,
            unit: meter.unit(),
        })?;
        total = total.checked_add(cost).ok_or(MoneyError::TotalOverflow)?;
        items.push(LineItem {
            meter: meter.as_str(),
            unit: meter.unit(),
            quantity,
            billable,
            cost,
        });
    }
    Ok(Rated { items, fee, total })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn usage(pairs: &[(Meter, u64)]) -> BTreeMap<String, u64> {
        pairs
            .iter()
            .map(|(m, q)| (m.as_str().to_string(), *q))
            .collect()
    }

    #[test]
    fn plans_rate_in_integer_cents() {
        let u = usage(&[
            (Meter::EgressBytes, 2_000_000_000_000),
            (Meter::ClassBTransactions, 1_000_000),
        ]);
        let rated = rate(&Plan::Usage, &u).unwrap();
        let egress = rated
            .items
            .iter()
            .find(|i| i.meter == "egress_bytes")
            .unwrap();
        assert_eq!(egress.cost, 18_000, "2 TB at $0.09/GB");
        assert_eq!(rated.total, 18_000 + 36);
        let sub = Plan::Subscription { fee_cents: 50_000 };
        assert_eq!(rate(&sub, &u).unwrap().total, 50_000);
        let hybrid = Plan::Hybrid {
            fee_cents: 10_000,
            included: [("egress_bytes".to_string(), 1_000_000_000_000)].into(),
        };
        assert_eq!(rate(&hybrid, &u).unwrap().total, 10_000 + 9_000 + 36);
    }

    #[test]
    fn half_a_cent_rounds_up() {
        let p = Price { cents: 1, per: 2 };
        assert_eq!(
            (cost(p, 1), cost(p, 2), cost(p, 3)),
            (Some(1), Some(1), Some(2))
        );
        let egress = Meter::EgressBytes.price();
        assert_eq!(cost(egress, 55_555_555), Some(0), "0.499999995 cents");
        assert_eq!(cost(egress, 55_555_556), Some(1), "0.500000004 cents");
        assert_eq!(cost(egress, 55_555_555 * 3), Some(1), "1.499999985 cents");
        assert_eq!(cost(egress, 166_666_667), Some(2), "1.500000003 cents");
    }

    #[test]
    fn the_bounds_cannot_overflow() {
        let most = usage(
            &Meter::ALL
                .iter()
                .map(|m| (*m, MAX_ACCOUNT_QUANTITY))
                .collect::<Vec<_>>(),
        );
        let plan = Plan::Hybrid {
            fee_cents: MAX_FEE_CENTS,
            included: BTreeMap::new(),
        };
        let rated = rate(&plan, &most).unwrap();
        assert!(rated.total < 1 << 53, "{}", rated.total);
        // Past the bounds the arithmetic still never wraps: it reports.
        let dear = Price {
            cents: u64::MAX,
            per: 1,
        };
        assert_eq!(cost(dear, 2), None);
    }

    /// `a × b / c`, rounded half up, by schoolbook arithmetic on decimal digits: an
    /// implementation that shares nothing with `cost`.
    fn reference(a: u64, b: u64, c: u64) -> String {
        fn mul(x: &[u8], y: u64) -> Vec<u8> {
            // Little-endian decimal digits of x × y.
            let mut out = Vec::new();
            let mut carry: u128 = 0;
            for &d in x {
                let v = u128::from(d) * u128::from(y) + carry;
                out.push((v % 10) as u8);
                carry = v / 10;
            }
            while carry > 0 {
                out.push((carry % 10) as u8);
                carry /= 10;
            }
            out
        }
        let digits: Vec<u8> = a.to_string().bytes().rev().map(|b| b - b'0').collect();
        // 2ab + c, then divided by 2c: round half up.
        let mut n = mul(&mul(&digits, b), 2);
        let mut add = c;
        let mut i = 0;
        while add > 0 || i < n.len() {
            if i == n.len() {
                n.push(0);
            }
            let v = u64::from(n[i]) + add % 10;
            n[i] = (v % 10) as u8;
            add = add / 10 + v / 10;
            i += 1;
        }
        let divisor = u128::from(c) * 2;
        let mut quotient = String::new();
        let mut rest: u128 = 0;
        for &d in n.iter().rev() {
            rest = rest * 10 + u128::from(d);
            let q = rest / divisor;
            rest %= divisor;
            if !(quotient.is_empty() && q == 0) {
                quotient.push_str(&q.to_string());
            }
        }
        if quotient.is_empty() {
            "0".into()
        } else {
            quotient
        }
    }

    proptest! {
        #[test]
        fn rating_matches_an_exact_reference(
            quantities in proptest::collection::vec(0..=MAX_ACCOUNT_QUANTITY, 4),
            included in 0..=MAX_ACCOUNT_QUANTITY,
            fee in 0..=MAX_FEE_CENTS,
        ) {
            let u = usage(&Meter::ALL.iter().copied().zip(quantities.iter().copied()).collect::<Vec<_>>());
            let plan = Plan::Hybrid { fee_cents: fee, included: [("egress_bytes".to_string(), included)].into() };
            let rated = rate(&plan, &u).unwrap();
            let mut total = fee;
            for (item, meter) in rated.items.iter().zip(Meter::ALL) {
                let billable = if *meter == Meter::EgressBytes {
                    item.quantity.saturating_sub(included)
                } else {
                    item.quantity
                };
                prop_assert_eq!(item.billable, billable);
                let p = meter.price();
                prop_assert_eq!(item.cost.to_string(), reference(billable, p.cents, p.per));
                total += item.cost;
            }
            prop_assert_eq!(rated.total, total);
        }

        #[test]
        fn cost_is_monotonic_and_nearly_additive(a in 0..=MAX_EVENT_QUANTITY, b in 0..=MAX_EVENT_QUANTITY) {
            for &meter in Meter::ALL {
                let p = meter.price();
                let (ca, cb, cab) = (cost(p, a).unwrap(), cost(p, b).unwrap(), cost(p, a + b).unwrap());
                prop_assert!(cost(p, a.max(b)).unwrap() >= ca.max(cb));
                // Rounding each part moves the sum by at most one cent either way.
                prop_assert!((cab as i128 - (ca + cb) as i128).abs() <= 1);
            }
        }
    }
}
