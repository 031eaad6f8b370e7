//! [`Scalar`]: an exact scalar expression, a Laurent polynomial over atoms
//! times a product of integer powers of polynomial factors, and its
//! arithmetic in a [`Context`].
//!
//! Normal form: the expanded part is a canonical [`Poly`]; each factor has
//! at least two terms, no monomial content and leading coefficient 1 (in
//! the lexicographic order), and factors are sorted and distinct with
//! nonzero exponents (negative in a denominator). Keeping factors apart
//! makes `S·x/S²` cancel to `x/S` and lets sums over different
//! denominators share what they have in common. Root atoms carry
//! exponents in `[0, 1)`: `u^(k+f)` is kept as `u^k · root(u)^f`. Two
//! scalars are equal as functions of independent atoms exactly when the
//! expanded part of their difference is the zero polynomial, which is what
//! [`Context::equal`] decides.
//!
//! Invariant: arithmetic never panics; every polynomial product is charged
//! to the context's meter.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::rc::Rc;

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};

use super::atom::{AtomKind, AtomRef};
use super::context::Context;
use super::error::ExactError;
use super::poly::{Exponent, Meter, Monomial, Poly};
use crate::syntax::{Func, Span};

/// The largest coefficient an integer power may create, in bits.
const MAX_COEFFICIENT_BITS: u64 = 1 << 20;

/// Polynomial factors with their (nonzero) exponents, sorted by factor.
pub type Factors = Vec<(Rc<Poly>, i32)>;

/// An exact scalar expression: `expanded · Π factorᵉ`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Scalar {
    pub(super) num: Poly,
    pub(super) factors: Factors,
}

impl Scalar {
    /// Zero.
    pub fn zero() -> Scalar {
        Scalar::default()
    }

    /// One.
    pub fn one() -> Scalar {
        Scalar::constant(BigRational::one())
    }

    /// A rational constant.
    pub fn constant(c: BigRational) -> Scalar {
        Scalar::from_poly(Poly::constant(c))
    }

    /// An integer constant.
    pub fn integer(n: i64) -> Scalar {
        Scalar::constant(BigRational::from_integer(BigInt::from(n)))
    }

    /// A polynomial with no factors.
    pub(super) fn from_poly(num: Poly) -> Scalar {
        Scalar {
            num,
            factors: Vec::new(),
        }
    }

    /// A single atom.
    pub fn atom(atom: AtomRef) -> Scalar {
        Scalar::from_poly(Poly::term(
            Monomial::atom(atom, Exponent::one()),
            BigRational::one(),
        ))
    }

    /// True for zero.
    pub fn is_zero(&self) -> bool {
        self.num.is_zero()
    }

    /// The value of a constant scalar.
    pub fn as_constant(&self) -> Option<BigRational> {
        if self.factors.is_empty() {
            self.num.as_constant()
        } else {
            None
        }
    }

    /// The expanded polynomial part.
    pub fn numerator(&self) -> &Poly {
        &self.num
    }

    /// The polynomial factors with their exponents (negative ones form the
    /// denominator).
    pub fn factors(&self) -> &[(Rc<Poly>, i32)] {
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
    pub fn atoms(&self) -> impl Iterator<Item = &AtomRef> {
        self.num
            .terms()
            .iter()
            .chain(self.factors.iter().flat_map(|(f, _)| f.terms().iter()))
            .flat_map(|(m, _)| m.factors().iter().map(|(a, _)| a))
    }

    /// The negated scalar.
    pub fn neg(&self) -> Scalar {
        Scalar {
            num: self.num.neg(),
            factors: self.factors.clone(),
        }
    }
}

/// Merges two factor lists, combining the exponents of a shared factor
/// with `combine` and dropping zero exponents.
fn merge(a: &Factors, b: &Factors, combine: fn(i32, i32) -> i32) -> Factors {
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

/// Converts a rational to an exponent, if it fits.
pub(super) fn to_exponent(r: &BigRational) -> Result<Exponent, ExactError> {
    match (r.numer().to_i64(), r.denom().to_i64()) {
        (Some(n), Some(d)) => Ok(Exponent::new(n, d)),
        _ => Err(ExactError::ExponentTooLarge),
    }
}

/// True when a root atom in `m` has an exponent outside `[0, 1)`.
fn needs_root_reduction(m: &Monomial) -> bool {
    m.factors()
        .iter()
        .any(|(a, e)| a.is_root() && (*e < Exponent::zero() || *e >= Exponent::one()))
}

/// The exact `n`-th root of a nonnegative integer, if there is one.
fn exact_root(x: &BigInt, n: u32) -> Option<BigInt> {
    let r = x.nth_root(n);
    (num_traits::pow(r.clone(), n as usize) == *x).then_some(r)
}

fn division_by_zero() -> ExactError {
    ExactError::DivisionByZero { span: Span::NONE }
}

/// `p = c · content · normalized`, where `normalized` has no monomial
/// content and leading coefficient 1. `p` has at least two terms.
pub(super) fn split_factor(
    p: &Poly,
    meter: &Meter,
) -> Result<(BigRational, Monomial, Poly), ExactError> {
    let terms = p.terms();
    let mut lowest: HashMap<AtomRef, (Exponent, usize)> = HashMap::new();
    for (m, _) in terms {
        for (a, e) in m.factors() {
            let slot = lowest.entry(a.clone()).or_insert((*e, 0));
            slot.0 = slot.0.min(*e);
            slot.1 += 1;
        }
    }
    let mut content: Vec<(AtomRef, Exponent)> = lowest
        .into_iter()
        .map(|(a, (e, count))| {
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
    let content = content
        .into_iter()
        .try_fold(Monomial::one(), |acc, (a, e)| {
            acc.mul(&Monomial::atom(a, e))
        })?;
    let lc = p
        .leading()
        .map(|(_, c)| c.clone())
        .ok_or_else(division_by_zero)?;
    let normalized = p.mul_term(&content.inverse()?, &lc.recip())?;
    meter.charge(p.term_count() as u64)?;
    Ok((lc, content, normalized))
}

impl Context {
    /// A one-term scalar `c·m`, with root exponents brought into range.
    pub(super) fn monomial(&self, m: Monomial, c: BigRational) -> Result<Scalar, ExactError> {
        self.reduce_roots(Poly::term(m, c))
    }

    /// A polynomial as a scalar, with root exponents brought into range:
    /// `root(u)^(k+f)` becomes `u^k · root(u)^f`.
    pub(super) fn reduce_roots(&self, p: Poly) -> Result<Scalar, ExactError> {
        if !p.terms().iter().any(|(m, _)| needs_root_reduction(m)) {
            return Ok(Scalar::from_poly(p));
        }
        let mut plain = Vec::new();
        let mut result = Scalar::zero();
        for (m, c) in p.terms() {
            if !needs_root_reduction(m) {
                plain.push((m.clone(), c.clone()));
                continue;
            }
            let mut rest = m.clone();
            let mut extra = Scalar::one();
            for (a, e) in m.factors() {
                let AtomKind::Root { base } = a.kind() else {
                    continue;
                };
                let whole = e.floor();
                if whole.is_zero() {
                    continue;
                }
                rest = rest.with_exponent(a, e - whole);
                let power = self.powi(base, whole.to_integer())?;
                extra = self.mul(&extra, &power)?;
            }
            let term = self.mul(&Scalar::from_poly(Poly::term(rest, c.clone())), &extra)?;
            result = self.add(&result, &term)?;
        }
        let plain = Poly::from_terms(plain, &self.meter)?;
        self.add(&Scalar::from_poly(plain), &result)
    }

    /// `p · Π fᵉ` multiplied out, for nonnegative exponents.
    fn multiply_out(&self, p: Poly, factors: &Factors) -> Result<Scalar, ExactError> {
        let mut out = Scalar::from_poly(p);
        for (f, e) in factors {
            for _ in 0..*e {
                out = self.mul(&out, &Scalar::from_poly((**f).clone()))?;
            }
        }
        Ok(out)
    }

    /// `s · Π fᵉ`; an expanded part that is one of the factors up to a
    /// constant and a monomial is folded into that factor.
    fn with_factors(&self, s: Scalar, extra: &Factors) -> Result<Scalar, ExactError> {
        if s.is_zero() {
            return Ok(Scalar::zero());
        }
        let mut factors = merge(&s.factors, extra, |a, b| a + b);
        let mut num = s.num;
        if num.term_count() >= 2
            && factors
                .iter()
                .any(|(f, _)| f.term_count() == num.term_count())
        {
            let (c, content, normalized) = split_factor(&num, &self.meter)?;
            if let Some(k) = factors.iter().position(|(f, _)| **f == normalized) {
                num = Poly::term(content, c);
                factors[k].1 += 1;
                if factors[k].1 == 0 {
                    factors.remove(k);
                }
            }
        }
        Ok(Scalar { num, factors })
    }

    /// The scalar with its positive factors multiplied out (denominator
    /// factors kept): the canonical form of atom arguments.
    pub fn canonical(&self, u: &Scalar) -> Result<Scalar, ExactError> {
        if u.factors.iter().all(|(_, e)| *e < 0) {
            return Ok(u.clone());
        }
        let (top, bottom): (Factors, Factors) =
            u.factors.iter().cloned().partition(|(_, e)| *e > 0);
        let expanded = self.multiply_out(u.num.clone(), &top)?;
        self.with_factors(expanded, &bottom)
    }

    /// `a + b`.
    pub fn add(&self, a: &Scalar, b: &Scalar) -> Result<Scalar, ExactError> {
        if a.is_zero() {
            return Ok(b.clone());
        }
        if b.is_zero() {
            return Ok(a.clone());
        }
        if a.factors == b.factors {
            let num = a.num.add(&b.num, &self.meter)?;
            return self.with_factors(Scalar::from_poly(num), &a.factors);
        }
        let common = merge(&a.factors, &b.factors, |x, y| x.min(y));
        let left = self.multiply_out(a.num.clone(), &merge(&a.factors, &common, |x, g| x - g))?;
        let right = self.multiply_out(b.num.clone(), &merge(&b.factors, &common, |x, g| x - g))?;
        let sum = if left.factors.is_empty() && right.factors.is_empty() {
            Scalar::from_poly(left.num.add(&right.num, &self.meter)?)
        } else {
            self.add(&left, &right)?
        };
        self.with_factors(sum, &common)
    }

    /// `a − b`.
    pub fn sub(&self, a: &Scalar, b: &Scalar) -> Result<Scalar, ExactError> {
        self.add(a, &b.neg())
    }

    /// `a · b`.
    pub fn mul(&self, a: &Scalar, b: &Scalar) -> Result<Scalar, ExactError> {
        if a.is_zero() || b.is_zero() {
            return Ok(Scalar::zero());
        }
        let product = self.reduce_roots(a.num.mul(&b.num, &self.meter)?)?;
        self.with_factors(product, &merge(&a.factors, &b.factors, |x, y| x + y))
    }

    /// `c · a` for a rational `c`.
    pub fn scale(&self, a: &Scalar, c: &BigRational) -> Scalar {
        if c.is_zero() {
            return Scalar::zero();
        }
        Scalar {
            num: a.num.scale(c),
            factors: a.factors.clone(),
        }
    }

    /// `1 / a`.
    pub fn inv(&self, a: &Scalar) -> Result<Scalar, ExactError> {
        if a.is_zero() {
            return Err(division_by_zero());
        }
        let inverted: Factors = a.factors.iter().map(|(f, e)| (f.clone(), -e)).collect();
        if let Some((m, c)) = a.num.single_term() {
            let front = self.monomial(m.inverse()?, c.recip())?;
            return self.with_factors(front, &inverted);
        }
        let (c, content, normalized) = split_factor(&a.num, &self.meter)?;
        let front = self.monomial(content.inverse()?, c.recip())?;
        let own = vec![(Rc::new(normalized), -1)];
        self.with_factors(front, &merge(&inverted, &own, |x, y| x + y))
    }

    /// `a / b`.
    pub fn div(&self, a: &Scalar, b: &Scalar) -> Result<Scalar, ExactError> {
        let r = self.inv(b)?;
        self.mul(a, &r)
    }

    /// `a^k` for an integer `k`.
    pub fn powi(&self, a: &Scalar, k: i64) -> Result<Scalar, ExactError> {
        if k == 0 {
            return Ok(Scalar::one());
        }
        if k < 0 {
            let r = self.inv(a)?;
            return self.powi(&r, k.checked_neg().ok_or(ExactError::ExponentTooLarge)?);
        }
        let exponent = i32::try_from(k).map_err(|_| ExactError::ExponentTooLarge)?;
        let factors: Factors = a
            .factors
            .iter()
            .map(|(f, e)| {
                e.checked_mul(exponent)
                    .map(|e| (f.clone(), e))
                    .ok_or(ExactError::ExponentTooLarge)
            })
            .collect::<Result<_, _>>()?;
        let power = if let Some((m, c)) = a.num.single_term() {
            let bits = (c.numer().bits() + c.denom().bits()).saturating_mul(k.unsigned_abs());
            if bits > MAX_COEFFICIENT_BITS {
                return Err(ExactError::ExponentTooLarge);
            }
            self.monomial(
                m.pow(Exponent::from_integer(k))?,
                num_traits::pow(c.clone(), exponent as usize),
            )?
        } else {
            let mut result = Scalar::one();
            let mut base = Scalar::from_poly(a.num.clone());
            let mut e = k;
            while e > 0 {
                if e & 1 == 1 {
                    result = self.mul(&result, &base)?;
                }
                e >>= 1;
                if e > 0 {
                    base = self.mul(&base, &base)?;
                }
            }
            result
        };
        self.with_factors(power, &factors)
    }

    /// `a^b` for scalars: integer powers expand, fractional constant powers
    /// become root atoms, and other powers are `exp(b·log(a))`.
    pub fn pow(&self, a: &Scalar, b: &Scalar) -> Result<Scalar, ExactError> {
        match b.as_constant() {
            Some(r) if r.is_integer() => {
                let k = r
                    .to_integer()
                    .to_i64()
                    .ok_or(ExactError::ExponentTooLarge)?;
                self.powi(a, k)
            }
            Some(r) => self.fractional_power(a, &r),
            None => {
                if a.as_constant().is_some_and(|c| c.is_one()) {
                    return Ok(Scalar::one());
                }
                let log = self.apply(Func::Log, a)?;
                let exponent = self.mul(b, &log)?;
                self.exp(&exponent)
            }
        }
    }

    /// `a^r` for a non-integer rational `r`.
    pub(super) fn fractional_power(
        &self,
        a: &Scalar,
        r: &BigRational,
    ) -> Result<Scalar, ExactError> {
        if a.is_zero() {
            return if r.is_positive() {
                Ok(Scalar::zero())
            } else {
                Err(division_by_zero())
            };
        }
        if let Some(c) = a.as_constant() {
            if c.is_negative() {
                return Err(ExactError::OutsideDomain {
                    func: "^",
                    span: Span::NONE,
                });
            }
            let n = r.denom().to_u32().ok_or(ExactError::ExponentTooLarge)?;
            if let (Some(p), Some(q)) = (exact_root(c.numer(), n), exact_root(c.denom(), n)) {
                let k = r.numer().to_i64().ok_or(ExactError::ExponentTooLarge)?;
                return self.powi(&Scalar::constant(BigRational::new(p, q)), k);
            }
        }
        let base = self.root_atom(&self.canonical(a)?);
        self.monomial(Monomial::atom(base, to_exponent(r)?), BigRational::one())
    }

    /// `exp(u)`, split over the terms of `u`: `exp(Σ cᵢ·tᵢ) = Π exp(tᵢ)^cᵢ`.
    pub fn exp(&self, u: &Scalar) -> Result<Scalar, ExactError> {
        let u = self.canonical(u)?;
        let mut m = Monomial::one();
        for (term, c) in u.num.terms() {
            let t = Scalar {
                num: Poly::term(term.clone(), BigRational::one()),
                factors: u.factors.clone(),
            };
            let atom = self.exp_atom(&t);
            m = m.mul(&Monomial::atom(atom, to_exponent(c)?))?;
        }
        Ok(Scalar::from_poly(Poly::term(m, BigRational::one())))
    }

    /// An element-wise function of a scalar: `exp` and `sqrt` through their
    /// normal forms, constants folded where the value is rational, and an
    /// argument with a negative leading coefficient turned around by the
    /// function's symmetry (`sin(−u) = −sin(u)`, `sigmoid(−u) = 1 −
    /// sigmoid(u)`, …) so that `f(u)` and `f(−u)` share one atom.
    pub fn apply(&self, func: Func, u: &Scalar) -> Result<Scalar, ExactError> {
        match func {
            Func::Exp => return self.exp(u),
            Func::Sqrt => return self.fractional_power(u, &BigRational::new(1.into(), 2.into())),
            _ => {}
        }
        if let Some(c) = u.as_constant() {
            if let Some(value) = fold(func, &c)? {
                return Ok(value);
            }
        }
        let u = self.canonical(u)?;
        let negative = u.num.leading().is_some_and(|(_, c)| c.is_negative());
        if negative && func != Func::Log {
            let flipped = Scalar::atom(self.apply_atom(func, &u.neg()));
            return match func {
                Func::Sin | Func::Tanh | Func::Sign => Ok(flipped.neg()),
                Func::Sigmoid => self.sub(&Scalar::one(), &flipped),
                Func::Relu => self.add(&flipped, &u),
                _ => Ok(flipped),
            };
        }
        Ok(Scalar::atom(self.apply_atom(func, &u)))
    }

    /// True when `a` and `b` are equal as functions of independent atoms
    /// (the expanded part of `a − b` is the zero polynomial).
    pub fn equal(&self, a: &Scalar, b: &Scalar) -> Result<bool, ExactError> {
        Ok(self.sub(a, b)?.is_zero())
    }
}

/// The value of `func` at a rational constant, when it is rational.
fn fold(func: Func, c: &BigRational) -> Result<Option<Scalar>, ExactError> {
    let half = || BigRational::new(1.into(), 2.into());
    Ok(match func {
        Func::Log if !c.is_positive() => {
            return Err(ExactError::OutsideDomain {
                func: "log",
                span: Span::NONE,
            })
        }
        Func::Log if c.is_one() => Some(Scalar::zero()),
        Func::Sin | Func::Tanh if c.is_zero() => Some(Scalar::zero()),
        Func::Cos if c.is_zero() => Some(Scalar::one()),
        Func::Sigmoid if c.is_zero() => Some(Scalar::constant(half())),
        Func::Relu => Some(Scalar::constant(if c.is_positive() {
            c.clone()
        } else {
            BigRational::zero()
        })),
        Func::Abs => Some(Scalar::constant(c.abs())),
        Func::Sign => Some(Scalar::constant(c.signum())),
        _ => None,
    })
}
