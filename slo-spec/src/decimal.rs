//! Exact decimal numbers for objectives, budgets and thresholds, so generated files print
//! `0.001` where float arithmetic would print `0.0009999999999999432`.

use std::fmt;

/// `units × 10^-scale`. Enough for every objective, burn rate and threshold a spec can
/// hold; operations return `None` rather than overflow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decimal {
    units: i128,
    scale: u32,
}

const MAX_SCALE: u32 = 30;

impl Decimal {
    pub const ONE: Decimal = Decimal { units: 1, scale: 0 };

    pub fn from_int(v: i64) -> Decimal {
        Decimal {
            units: v as i128,
            scale: 0,
        }
    }

    /// Parses plain decimal text (`99.95`, `-1`, `.5`, `1e-3`), as YAML numbers are written.
    pub fn parse(text: &str) -> Option<Decimal> {
        let t = text.trim();
        let (mantissa, exp) = match t.find(['e', 'E']) {
            Some(i) => (&t[..i], t[i + 1..].parse::<i32>().ok()?),
            None => (t, 0),
        };
        let (neg, digits) = match mantissa.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, mantissa.strip_prefix('+').unwrap_or(mantissa)),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        if int.is_empty() && frac.is_empty()
            || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let mut units: i128 = 0;
        for b in int.bytes().chain(frac.bytes()) {
            units = units.checked_mul(10)?.checked_add((b - b'0') as i128)?;
        }
        let mut scale = frac.len() as i64 - exp as i64;
        while scale < 0 {
            units = units.checked_mul(10)?;
            scale += 1;
        }
        if scale > MAX_SCALE as i64 {
            return None;
        }
        let d = Decimal {
            units: if neg { -units } else { units },
            scale: scale as u32,
        };
        Some(d.normalised())
    }

    /// The closest decimal to a float, via its shortest round-trip text.
    pub fn from_f64(v: f64) -> Option<Decimal> {
        if !v.is_finite() {
            return None;
        }
        Decimal::parse(&format!("{v:?}"))
    }

    fn normalised(mut self) -> Decimal {
        while self.scale > 0 && self.units % 10 == 0 {
            self.units /= 10;
            self.scale -= 1;
        }
        self
    }

    fn aligned(self, other: Decimal) -> Option<(i128, i128, u32)> {
        let scale = self.scale.max(other.scale);
        let a = self
            .units
            .checked_mul(10i128.checked_pow(scale - self.scale)?)?;
        let b = other
            .units
            .checked_mul(10i128.checked_pow(scale - other.scale)?)?;
        Some((a, b, scale))
    }

    pub fn checked_sub(self, other: Decimal) -> Option<Decimal> {
        let (a, b, scale) = self.aligned(other)?;
        Some(
            Decimal {
                units: a.checked_sub(b)?,
                scale,
            }
            .normalised(),
        )
    }

    pub fn checked_mul(self, other: Decimal) -> Option<Decimal> {
        let scale = self.scale + other.scale;
        if scale > MAX_SCALE {
            return None;
        }
        Some(
            Decimal {
                units: self.units.checked_mul(other.units)?,
                scale,
            }
            .normalised(),
        )
    }

    /// Divides by a power of ten (`percent → ratio` is `shift(2)`).
    pub fn shift(self, places: u32) -> Option<Decimal> {
        let scale = self.scale + places;
        (scale <= MAX_SCALE).then_some(
            Decimal {
                units: self.units,
                scale,
            }
            .normalised(),
        )
    }

    /// The value in hundredths, when it has at most two decimals.
    pub fn to_hundredths(self) -> Option<i128> {
        match self.scale {
            0 => self.units.checked_mul(100),
            1 => self.units.checked_mul(10),
            2 => Some(self.units),
            _ => None,
        }
    }

    pub fn to_f64(self) -> f64 {
        // Parsing the text gives the float closest to the exact value.
        self.to_string().parse().unwrap_or(f64::NAN)
    }

    pub fn is_positive(self) -> bool {
        self.units > 0
    }

    /// Exact comparison; `None` only when aligning the scales would overflow.
    pub fn compare(self, other: Decimal) -> Option<std::cmp::Ordering> {
        let (a, b, _) = self.aligned(other)?;
        Some(a.cmp(&b))
    }
}

impl fmt::Display for Decimal {
    // Digits on the stack, 64-bit arithmetic where the units fit: rule files print tens of
    // thousands of objectives and thresholds, and `u128::to_string` divides in software.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.units < 0 {
            f.write_str("-")?;
        }
        let mut buf = [b'0'; 40];
        let digits = ascii_digits(self.units.unsigned_abs(), &mut buf);
        let scale = self.scale as usize;
        if scale == 0 {
            return f.write_str(digits);
        }
        let zeros = "000000000000000000000000000000";
        match digits.len().checked_sub(scale) {
            Some(int) if int > 0 => {
                f.write_str(&digits[..int])?;
                f.write_str(".")?;
                f.write_str(&digits[int..])
            }
            _ => {
                f.write_str("0.")?;
                f.write_str(&zeros[..scale - digits.len()])?;
                f.write_str(digits)
            }
        }
    }
}

/// `n` in decimal, written at the end of `buf` (40 bytes hold every `u128`).
fn ascii_digits(n: u128, buf: &mut [u8; 40]) -> &str {
    let mut i = buf.len();
    match u64::try_from(n) {
        Ok(mut small) => loop {
            i -= 1;
            buf[i] = b'0' + (small % 10) as u8;
            small /= 10;
            if small == 0 {
                break;
            }
        },
        Err(_) => {
            let mut big = n;
            loop {
                i -= 1;
                buf[i] = b'0' + (big % 10) as u8;
                big /= 10;
                if big == 0 {
                    break;
                }
            }
        }
    }
    std::str::from_utf8(&buf[i..]).expect("ASCII digits")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).unwrap()
    }

    #[test]
    fn parse_and_print() {
        for (text, printed) in [
            ("99.9", "99.9"),
            ("99.950", "99.95"),
            ("100", "100"),
            (".5", "0.5"),
            ("1e-3", "0.001"),
            ("9.99e1", "99.9"),
            ("-2.50", "-2.5"),
            ("0.0", "0"),
            ("0.25", "0.25"),
            ("-0.0001", "-0.0001"),
            // Past u64: printed through the 128-bit path.
            ("123456789012345678901234.5", "123456789012345678901234.5"),
            (
                "0.000000000000000000000000000001",
                "0.000000000000000000000000000001",
            ),
        ] {
            assert_eq!(d(text).to_string(), printed, "{text}");
        }
        for bad in ["", "abc", "1.2.3", "1e", "--1", "1e99", "."] {
            assert!(Decimal::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn budget_arithmetic_is_exact() {
        let objective = d("99.9").shift(2).unwrap();
        assert_eq!(objective.to_string(), "0.999");
        let budget = Decimal::ONE.checked_sub(objective).unwrap();
        assert_eq!(budget.to_string(), "0.001");
        assert_eq!(d("14.4").checked_mul(budget).unwrap().to_string(), "0.0144");
        assert_eq!(
            Decimal::ONE
                .checked_sub(d("99.95").shift(2).unwrap())
                .unwrap()
                .to_string(),
            "0.0005"
        );
        assert_eq!(
            Decimal::from_f64(0.1 + 0.2).unwrap().to_string(),
            "0.30000000000000004"
        );
    }
}
