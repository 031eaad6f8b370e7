//! Exact coefficients: rationals, and the exact reading of a number that
//! arrives as an f64.
//!
//! A literal such as `0.1` is stored by the parser as the f64 nearest to
//! it. Its shortest decimal writing (what Rust prints, `0.1`) is the
//! literal the user wrote, so reading that writing back as a fraction gives
//! the exact 1/10 rather than 3602879701896397/36028797018963968.

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, ToPrimitive, Zero};

/// An exact rational coefficient.
pub type Rational = BigRational;

/// The exact value of `v`'s shortest decimal writing; `None` for NaN and
/// the infinities.
///
/// ```
/// use matcalc::algebra::{decimal_of_f64, Rational};
/// let tenth = decimal_of_f64(0.1).unwrap();
/// assert_eq!(tenth, Rational::new(1.into(), 10.into()));
/// ```
pub fn decimal_of_f64(v: f64) -> Option<Rational> {
    if !v.is_finite() {
        return None;
    }
    // `{:e}` is the shortest writing that reads back as `v`: digits and a
    // decimal exponent, e.g. `1.5e-7` or `-3e2`.
    let text = format!("{v:e}");
    let (mantissa, exponent) = text.split_once('e')?;
    let exponent: i64 = exponent.parse().ok()?;
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, mantissa),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits: BigInt = format!("{whole}{fraction}").parse().ok()?;
    let shift = exponent - fraction.len() as i64;
    let ten = BigInt::from(10);
    let magnitude = u32::try_from(shift.unsigned_abs()).ok()?;
    let value = if shift >= 0 {
        Rational::from_integer(digits * num_traits::pow(ten, magnitude as usize))
    } else {
        Rational::new(digits, num_traits::pow(ten, magnitude as usize))
    };
    Some(if negative { -value } else { value })
}

/// The f64 that writes `r` exactly as a decimal (reading back as `r`) no
/// longer than the fraction `p/q`, if there is one: `1/4` is `0.25`,
/// `0.1128379167095512` stays a decimal, `1/3` and `1/1024` have none
/// (the fraction is the shorter writing).
pub fn short_decimal(r: &Rational) -> Option<f64> {
    let million = Rational::from_integer(BigInt::from(1_000_000));
    let v = f64_of(r);
    if decimal_of_f64(v).as_ref() != Some(r) {
        return None;
    }
    let fraction = r.numer().to_string().len() + 1 + r.denom().to_string().len();
    ((r * million).is_integer() || format!("{v}").len() <= fraction).then_some(v)
}

/// The non-negative rational whose square is `r`, if there is one: `9/4`
/// gives `3/2`, `2` and negative numbers none.
///
/// ```
/// use matcalc::algebra::{exact_sqrt, Rational};
/// let r = |p: i64, q: i64| Rational::new(p.into(), q.into());
/// assert_eq!(exact_sqrt(&r(9, 4)), Some(r(3, 2)));
/// assert_eq!(exact_sqrt(&r(2, 1)), None);
/// ```
pub fn exact_sqrt(r: &Rational) -> Option<Rational> {
    if r.is_negative() {
        return None;
    }
    let root = |n: &BigInt| Some(n.sqrt()).filter(|s| s * s == *n);
    Some(Rational::new(root(r.numer())?, root(r.denom())?))
}

/// The integer `k` as a rational.
pub fn integer(k: impl Into<BigInt>) -> Rational {
    Rational::from_integer(k.into())
}

/// The f64 nearest to `r` (infinite when it is out of range).
pub fn f64_of(r: &Rational) -> f64 {
    if r.is_zero() {
        return 0.0;
    }
    match (r.numer().to_f64(), r.denom().to_f64()) {
        (Some(n), Some(d)) if n.is_finite() && d.is_finite() => n / d,
        _ => {
            // Scale both down by the same power of two first.
            let shift = r.numer().bits().max(r.denom().bits()).saturating_sub(1000);
            let n = (r.numer() >> shift).to_f64().unwrap_or(f64::INFINITY);
            let d = (r.denom() >> shift).to_f64().unwrap_or(f64::INFINITY);
            n / d
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(n: i64, d: i64) -> Rational {
        Rational::new(n.into(), d.into())
    }

    #[test]
    fn decimals_read_exactly() {
        assert_eq!(decimal_of_f64(0.1), Some(q(1, 10)));
        assert_eq!(decimal_of_f64(-2.5), Some(q(-5, 2)));
        assert_eq!(decimal_of_f64(3e17), Some(q(300_000_000_000_000_000, 1)));
        assert_eq!(decimal_of_f64(1.5e-7), Some(q(15, 100_000_000)));
        assert_eq!(decimal_of_f64(0.0), Some(q(0, 1)));
        assert_eq!(decimal_of_f64(f64::NAN), None);
        let sum = decimal_of_f64(0.1).unwrap() + decimal_of_f64(0.2).unwrap();
        assert_eq!(sum, decimal_of_f64(0.3).unwrap());
    }

    #[test]
    fn short_decimals_are_found() {
        assert_eq!(short_decimal(&q(1, 4)), Some(0.25));
        assert_eq!(short_decimal(&q(-3, 1)), Some(-3.0));
        assert_eq!(short_decimal(&q(1, 3)), None);
        assert_eq!(short_decimal(&q(1, 10_000_000)), Some(1e-7));
        // A fraction shorter than its decimal stays a fraction.
        assert_eq!(short_decimal(&q(1, 1024)), None);
        // A long decimal stays a decimal, not a fraction of 16-digit numbers.
        let long = decimal_of_f64(1.2345678901234567).unwrap();
        assert_eq!(short_decimal(&long), Some(1.2345678901234567));
    }

    #[test]
    fn rationals_convert_to_nearest_f64() {
        assert_eq!(f64_of(&q(1, 3)), 1.0 / 3.0);
        assert_eq!(f64_of(&q(-7, 2)), -3.5);
    }
}
