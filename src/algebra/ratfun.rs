//! [`RatFun`]: a rational function over atoms, `expanded · Π factorᵉ`.
//!
//! Normal form: the expanded part is a canonical [`Poly`]; each factor has
//! at least two terms, no monomial content and leading coefficient 1 (in
//! the lexicographic order), and factors are sorted and distinct with
//! nonzero exponents (negative in a denominator). Keeping factors apart
//! makes `S·x/S²` cancel to `x/S` and lets sums over different
//! denominators share what they have in common. Two rational functions are
//! equal as functions of independent atoms exactly when the expanded part
//! of their difference is the zero polynomial.
//!
//! The arithmetic takes a [`Reduce`] context: the meter that bounds it, and
//! a hook that brings a freshly multiplied polynomial into the caller's
//! normal form (the exact layer keeps root exponents in `[0, 1)`; the
//! simplifier needs nothing, [`Plain`]).
//!
//! Invariant: arithmetic never panics; every polynomial product is charged
//! to the context's meter.

use std::cmp::Ordering;
use std::rc::Rc;

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Zero};

use super::{AlgebraError, Atom, Exponent, Meter, Monomial, Poly};

/// The largest coefficient an integer power may create, in bits.
const MAX_COEFFICIENT_BITS: u64 = 1 << 20;

/// Polynomial factors with their (nonzero) exponents, sorted by factor.
pub type Factors<A> = Vec<(Rc<Poly<A>>, i32)>;

/// An exact rational function: `expanded · Π factorᵉ`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RatFun<A: Atom> {
    num: Poly<A>,
    factors: Factors<A>,
}

impl<A: Atom> Default for RatFun<A> {
    fn default() -> RatFun<A> {
        RatFun::zero()
    }
}

/// The context of the arithmetic: a meter, and the normal form of a
/// product's expanded part.
pub trait Reduce<A: Atom> {
    /// The error of the caller's layer; every [`AlgebraError`] converts.
    type Error: From<AlgebraError>;
    /// The meter every polynomial operation is charged to.
    fn meter(&self) -> &Meter;
    /// A polynomial just built by a product, in the caller's normal form.
    fn reduce(&self, p: Poly<A>) -> Result<RatFun<A>, Self::Error> {
        Ok(RatFun::from_poly(p))
    }
}

/// The plain context: a meter and no extra normal form.
#[derive(Debug)]
pub struct Plain<'m>(pub &'m Meter);

impl<A: Atom> Reduce<A> for Plain<'_> {
    type Error = AlgebraError;
    fn meter(&self) -> &Meter {
        self.0
    }
}

/// Merges two factor lists, combining the exponents of a shared factor
/// with `combine` and dropping zero exponents.
fn merge<A: Atom>(a: &Factors<A>, b: &Factors<A>, combine: fn(i32, i32) -> i32) -> Factors<A> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let order = match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) => x.0.cmp(&y.0),
            (Some(_), None) => Ordering::Less,
            _ => Ordering::Greater,
        };
        let (factor, e) = match order {
            Ordering::Less => {
                i += 1;
                (a[i - 1].0.clone(), combine(a[i - 1].1, 0))
            }
            Ordering::Greater => {
                j += 1;
                (b[j - 1].0.clone(), combine(0, b[j - 1].1))
            }
            Ordering::Equal => {
                i += 1;
                j += 1;
                (a[i - 1].0.clone(), combine(a[i - 1].1, b[j - 1].1))
            }
        };
        if e != 0 {
            out.push((factor, e));
        }
    }
    out
}

/// `p = c · content · normalized`, where `normalized` has no monomial
/// content and leading coefficient 1. `p` has at least two terms.
pub fn split_factor<A: Atom>(
    p: &Poly<A>,
    meter: &Meter,
) -> Result<(BigRational, Monomial<A>, Poly<A>), AlgebraError> {
    let terms = p.terms();
    let mut lowest: Vec<(A, Exponent, usize)> = Vec::new();
    for (m, _) in terms {
        for (a, e) in m.factors() {
            match lowest.iter_mut().find(|(b, ..)| b == a) {
                Some(slot) => {
                    slot.1 = slot.1.min(*e);
                    slot.2 += 1;
                }
                None => lowest.push((a.clone(), *e, 1)),
            }
        }
    }
    let mut content: Vec<(A, Exponent)> = lowest
        .into_iter()
        .map(|(a, e, count)| {
            let e = if count < terms.len() {
                e.min(Exponent::zero())
            } else {
                e
            };
            (a, e)
        })
        .filter(|(_, e)| !e.is_zero())
        .collect();
    content.sort_by(|a, b| a.0.cmp(&b.0));
    let content = Monomial::from_sorted(content);
    let lc = p
        .leading()
        .map(|(_, c)| c.clone())
        .ok_or(AlgebraError::DivisionByZero)?;
    let normalized = p.mul_term(&content.inverse()?, &lc.recip())?;
    meter.charge(p.term_count() as u64)?;
    Ok((lc, content, normalized))
}

impl<A: Atom> RatFun<A> {
    /// Zero.
    pub fn zero() -> RatFun<A> {
        RatFun::from_poly(Poly::zero())
    }

    /// One.
    pub fn one() -> RatFun<A> {
        RatFun::constant(BigRational::one())
    }

    /// A rational constant.
    pub fn constant(c: BigRational) -> RatFun<A> {
        RatFun::from_poly(Poly::constant(c))
    }

    /// An integer constant.
    pub fn integer(n: i64) -> RatFun<A> {
        RatFun::constant(BigRational::from_integer(BigInt::from(n)))
    }

    /// A polynomial with no factors.
    pub fn from_poly(num: Poly<A>) -> RatFun<A> {
        RatFun {
            num,
            factors: Vec::new(),
        }
    }

    /// `num · Π factorᵉ` from parts already in normal form (factors sorted,
    /// normalised, with nonzero exponents).
    pub fn from_parts(num: Poly<A>, factors: Factors<A>) -> RatFun<A> {
        RatFun { num, factors }
    }

    /// A single atom.
    pub fn atom(atom: A) -> RatFun<A> {
        RatFun::from_poly(Poly::term(
            Monomial::atom(atom, Exponent::one()),
            BigRational::one(),
        ))
    }

    /// True for zero.
    pub fn is_zero(&self) -> bool {
        self.num.is_zero()
    }

    /// The value of a constant.
    pub fn as_constant(&self) -> Option<BigRational> {
        if self.factors.is_empty() {
            self.num.as_constant()
        } else {
            None
        }
    }

    /// The expanded polynomial part.
    pub fn numerator(&self) -> &Poly<A> {
        &self.num
    }

    /// The polynomial factors with their exponents (negative ones form the
    /// denominator).
    pub fn factors(&self) -> &[(Rc<Poly<A>>, i32)] {
        &self.factors
    }

    /// Number of terms in the expanded part and the factors.
    pub fn term_count(&self) -> usize {
        self.num.term_count()
            + self
                .factors
                .iter()
                .map(|(f, _)| f.term_count())
                .sum::<usize>()
    }

    /// Every atom occurring in the expanded part or a factor (repetitions
    /// possible).
    pub fn atoms(&self) -> impl Iterator<Item = &A> {
        self.num
            .terms()
            .iter()
            .chain(self.factors.iter().flat_map(|(f, _)| f.terms().iter()))
            .flat_map(|(m, _)| m.factors().iter().map(|(a, _)| a))
    }

    /// The negated function.
    pub fn neg(&self) -> RatFun<A> {
        RatFun {
            num: self.num.neg(),
            factors: self.factors.clone(),
        }
    }

    /// `c · self` for a rational `c`.
    pub fn scale(&self, c: &BigRational) -> RatFun<A> {
        if c.is_zero() {
            return RatFun::zero();
        }
        RatFun {
            num: self.num.scale(c),
            factors: self.factors.clone(),
        }
    }

    /// `self + b`.
    pub fn add<R: Reduce<A>>(&self, b: &RatFun<A>, cx: &R) -> Result<RatFun<A>, R::Error> {
        if self.is_zero() {
            return Ok(b.clone());
        }
        if b.is_zero() {
            return Ok(self.clone());
        }
        if self.factors == b.factors {
            let num = self.num.add(&b.num, cx.meter())?;
            return Ok(RatFun::from_poly(num).with_factors(&self.factors, cx.meter())?);
        }
        let common = merge(&self.factors, &b.factors, |x, y| x.min(y));
        let left = multiply_out(
            self.num.clone(),
            &merge(&self.factors, &common, |x, g| x - g),
            cx,
        )?;
        let right = multiply_out(b.num.clone(), &merge(&b.factors, &common, |x, g| x - g), cx)?;
        let sum = if left.factors.is_empty() && right.factors.is_empty() {
            RatFun::from_poly(left.num.add(&right.num, cx.meter())?)
        } else {
            left.add(&right, cx)?
        };
        Ok(sum.with_factors(&common, cx.meter())?)
    }

    /// `self − b`.
    pub fn sub<R: Reduce<A>>(&self, b: &RatFun<A>, cx: &R) -> Result<RatFun<A>, R::Error> {
        self.add(&b.neg(), cx)
    }

    /// `self · b`.
    pub fn mul<R: Reduce<A>>(&self, b: &RatFun<A>, cx: &R) -> Result<RatFun<A>, R::Error> {
        if self.is_zero() || b.is_zero() {
            return Ok(RatFun::zero());
        }
        let product = cx.reduce(self.num.mul(&b.num, cx.meter())?)?;
        Ok(product.with_factors(&merge(&self.factors, &b.factors, |x, y| x + y), cx.meter())?)
    }

    /// `1 / self`.
    pub fn inv<R: Reduce<A>>(&self, cx: &R) -> Result<RatFun<A>, R::Error> {
        if self.is_zero() {
            return Err(AlgebraError::DivisionByZero.into());
        }
        let inverted: Factors<A> = self.factors.iter().map(|(f, e)| (f.clone(), -e)).collect();
        if let Some((m, c)) = self.num.single_term() {
            let front = cx.reduce(Poly::term(m.inverse()?, c.recip()))?;
            return Ok(front.with_factors(&inverted, cx.meter())?);
        }
        let (c, content, normalized) = split_factor(&self.num, cx.meter())?;
        let front = cx.reduce(Poly::term(content.inverse()?, c.recip()))?;
        let own = vec![(Rc::new(normalized), -1)];
        Ok(front.with_factors(&merge(&inverted, &own, |x, y| x + y), cx.meter())?)
    }

    /// `self / b`.
    pub fn div<R: Reduce<A>>(&self, b: &RatFun<A>, cx: &R) -> Result<RatFun<A>, R::Error> {
        let r = b.inv(cx)?;
        self.mul(&r, cx)
    }

    /// `self^k` for an integer `k`.
    pub fn powi<R: Reduce<A>>(&self, k: i64, cx: &R) -> Result<RatFun<A>, R::Error> {
        if k == 0 {
            return Ok(RatFun::one());
        }
        if k < 0 {
            let r = self.inv(cx)?;
            return r.powi(k.checked_neg().ok_or(AlgebraError::ExponentTooLarge)?, cx);
        }
        let exponent = i32::try_from(k).map_err(|_| AlgebraError::ExponentTooLarge)?;
        let factors: Factors<A> = self
            .factors
            .iter()
            .map(|(f, e)| {
                e.checked_mul(exponent)
                    .map(|e| (f.clone(), e))
                    .ok_or(AlgebraError::ExponentTooLarge)
            })
            .collect::<Result<_, _>>()?;
        let power = if let Some((m, c)) = self.num.single_term() {
            let bits = (c.numer().bits() + c.denom().bits()).saturating_mul(k.unsigned_abs());
            if bits > MAX_COEFFICIENT_BITS {
                return Err(AlgebraError::ExponentTooLarge.into());
            }
            cx.reduce(Poly::term(
                m.pow(Exponent::from_integer(k))?,
                num_traits::pow(c.clone(), exponent as usize),
            ))?
        } else {
            let mut result = RatFun::one();
            let mut base = RatFun::from_poly(self.num.clone());
            let mut e = k;
            while e > 0 {
                if e & 1 == 1 {
                    result = result.mul(&base, cx)?;
                }
                e >>= 1;
                if e > 0 {
                    base = base.mul(&base, cx)?;
                }
            }
            result
        };
        Ok(power.with_factors(&factors, cx.meter())?)
    }

    /// The function with its positive factors multiplied out (denominator
    /// factors kept): a canonical form, as atom arguments need.
    pub fn canonical<R: Reduce<A>>(&self, cx: &R) -> Result<RatFun<A>, R::Error> {
        if self.factors.iter().all(|(_, e)| *e < 0) {
            return Ok(self.clone());
        }
        let (top, bottom): (Factors<A>, Factors<A>) =
            self.factors.iter().cloned().partition(|(_, e)| *e > 0);
        let expanded = multiply_out(self.num.clone(), &top, cx)?;
        Ok(expanded.with_factors(&bottom, cx.meter())?)
    }

    /// True when `self` and `b` are equal as functions of independent atoms
    /// (the expanded part of `self − b` is the zero polynomial).
    pub fn equal<R: Reduce<A>>(&self, b: &RatFun<A>, cx: &R) -> Result<bool, R::Error> {
        Ok(self.sub(b, cx)?.is_zero())
    }

    /// The function with every denominator factor that divides the expanded
    /// part cancelled: `(s − s² − y + y·s)/(1 − s)` becomes `s − y`.
    ///
    /// Terminates: each cancellation removes one power of a denominator
    /// factor, of which there are finitely many.
    pub fn cancel(&self, meter: &Meter) -> Result<RatFun<A>, AlgebraError> {
        let mut num = self.num.clone();
        let mut factors = self.factors.clone();
        for slot in factors.iter_mut() {
            while slot.1 < 0 && num.term_count() >= 2 {
                match num.div_exact(&slot.0, meter)? {
                    Some(q) => {
                        num = q;
                        slot.1 += 1;
                    }
                    None => break,
                }
            }
        }
        factors.retain(|(_, e)| *e != 0);
        Ok(RatFun { num, factors })
    }

    /// `self · Π extraᵉ`; an expanded part that is one of the factors up to
    /// a constant and a monomial is folded into that factor.
    fn with_factors(self, extra: &Factors<A>, meter: &Meter) -> Result<RatFun<A>, AlgebraError> {
        if self.is_zero() {
            return Ok(RatFun::zero());
        }
        let mut factors = merge(&self.factors, extra, |a, b| a + b);
        let mut num = self.num;
        if num.term_count() >= 2
            && factors
                .iter()
                .any(|(f, _)| f.term_count() == num.term_count())
        {
            let (c, content, normalized) = split_factor(&num, meter)?;
            if let Some(k) = factors.iter().position(|(f, _)| **f == normalized) {
                num = Poly::term(content, c);
                factors[k].1 += 1;
                if factors[k].1 == 0 {
                    factors.remove(k);
                }
            }
        }
        Ok(RatFun { num, factors })
    }
}

/// `p · Π fᵉ` multiplied out, for nonnegative exponents.
fn multiply_out<A: Atom, R: Reduce<A>>(
    p: Poly<A>,
    factors: &Factors<A>,
    cx: &R,
) -> Result<RatFun<A>, R::Error> {
    let mut out = RatFun::from_poly(p);
    for (f, e) in factors {
        for _ in 0..*e {
            out = out.mul(&RatFun::from_poly((**f).clone()), cx)?;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algebra::Budget;

    #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
    struct Sym(u32);

    impl Atom for Sym {
        fn hash_word(&self) -> u64 {
            u64::from(self.0)
        }
    }

    fn s(n: u32) -> RatFun<Sym> {
        RatFun::atom(Sym(n))
    }

    #[test]
    fn logistic_residual_cancels() {
        // s·(1−s)·((1−y)/(1−s) − y/s) = s − y.
        let meter = Meter::new(Budget::default());
        let cx = Plain(&meter);
        let (sig, y, one) = (s(0), s(1), RatFun::<Sym>::one());
        let one_minus_s = one.sub(&sig, &cx).unwrap();
        let one_minus_y = one.sub(&y, &cx).unwrap();
        let inner = one_minus_y
            .div(&one_minus_s, &cx)
            .unwrap()
            .sub(&y.div(&sig, &cx).unwrap(), &cx)
            .unwrap();
        let whole = sig
            .mul(&one_minus_s, &cx)
            .unwrap()
            .mul(&inner, &cx)
            .unwrap();
        let cancelled = whole.cancel(&meter).unwrap();
        let expected = sig.sub(&y, &cx).unwrap();
        assert_eq!(cancelled, expected);
    }

    #[test]
    fn exact_division_refuses_a_remainder() {
        let meter = Meter::new(Budget::default());
        let cx = Plain(&meter);
        let p = s(0)
            .mul(&s(0), &cx)
            .unwrap()
            .add(&RatFun::one(), &cx)
            .unwrap();
        let d = s(0).add(&RatFun::one(), &cx).unwrap();
        assert_eq!(
            p.numerator().div_exact(d.numerator(), &meter).unwrap(),
            None
        );
        let square = d.mul(&d, &cx).unwrap();
        let q = square.numerator().div_exact(d.numerator(), &meter).unwrap();
        assert_eq!(q.as_ref(), Some(d.numerator()));
    }
}
