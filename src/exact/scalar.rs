//! [`Scalar`]: an exact scalar expression, a Laurent polynomial over atoms
//! divided by a product of powers of polynomial factors, and its
//! arithmetic in a [`Context`].
//!
//! Normal form: the numerator is a canonical [`Poly`]; each denominator
//! factor has at least two terms, no monomial content and leading
//! coefficient 1 (in the lexicographic order), and factors are sorted and
//! distinct. Root atoms carry exponents in `[0, 1)`: `u^(k+f)` is kept as
//! `u^k · root(u)^f`. Two scalars are equal as rational functions in the
//! atoms exactly when the numerator of their difference is the zero
//! polynomial, which is what [`Context::equal`] decides.
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
use super::poly::{Exponent, Monomial, Poly};
use crate::syntax::Func;

/// Denominator factors with their multiplicities, sorted by factor.
pub type Factors = Vec<(Rc<Poly>, u32)>;

/// An exact scalar expression: `numerator / Π factorᵉ`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Scalar {
    pub(super) num: Poly,
    pub(super) den: Factors,
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

    /// A polynomial with no denominator.
    pub(super) fn from_poly(num: Poly) -> Scalar {
        Scalar {
            num,
            den: Vec::new(),
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
        if self.den.is_empty() {
            self.num.as_constant()
        } else {
            None
        }
    }

    /// The numerator polynomial.
    pub fn numerator(&self) -> &Poly {
        &self.num
    }

    /// The denominator factors with their multiplicities.
    pub fn denominator(&self) -> &[(Rc<Poly>, u32)] {
        &self.den
    }

    /// Number of terms in the numerator and the denominator factors.
    pub fn term_count(&self) -> usize {
        self.num.len() + self.den.iter().map(|(f, _)| f.len()).sum::<usize>()
    }

    /// Every atom occurring in the numerator or a denominator factor
    /// (repetitions possible).
    pub fn atoms(&self) -> impl Iterator<Item = &AtomRef> {
        self.num
            .terms()
            .iter()
            .chain(self.den.iter().flat_map(|(f, _)| f.terms().iter()))
            .flat_map(|(m, _)| m.factors().iter().map(|(a, _)| a))
    }

    /// The negated scalar.
    pub fn neg(&self) -> Scalar {
        Scalar {
            num: self.num.neg(),
            den: self.den.clone(),
        }
    }
}

/// Merges two factor lists, combining the multiplicities of a shared
/// factor with `combine`.
fn merge(a: &Factors, b: &Factors, combine: fn(u32, u32) -> u32) -> Factors {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            Ordering::Less => {
                out.push(a[i].clone());
                i += 1;
            }
            Ordering::Greater => {
                out.push(b[j].clone());
                j += 1;
            }
            Ordering::Equal => {
                out.push((a[i].0.clone(), combine(a[i].1, b[j].1)));
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// The multiplicities by which `lcm` exceeds `part`.
fn quotient(lcm: &Factors, part: &Factors) -> Factors {
    lcm.iter()
        .filter_map(|(f, e)| {
            let have = part
                .binary_search_by(|(g, _)| g.cmp(f))
                .map_or(0, |k| part[k].1);
            (*e > have).then(|| (f.clone(), e - have))
        })
        .collect()
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

/// `p = c · content · normalized`, where `normalized` has no monomial
/// content and leading coefficient 1. `p` has at least two terms.
pub(super) fn split_factor(
    p: &Poly,
    meter: &super::poly::Meter,
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
    let lead =
        p.leading()
            .map(|(m, c)| (m.clone(), c.clone()))
            .ok_or(ExactError::DivisionByZero {
                span: crate::syntax::Span::NONE,
            })?;
    let lc = lead.1;
    let normalized = p.mul_term(&content.inverse()?, &lc.recip())?;
    meter.charge(p.len() as u64)?;
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

    /// `p · Π fᵉ`, expanded.
    fn times_factors(&self, p: Poly, factors: &Factors) -> Result<Scalar, ExactError> {
        let mut out = Scalar::from_poly(p);
        for (f, e) in factors {
            for _ in 0..*e {
                out = self.mul(&out, &Scalar::from_poly((**f).clone()))?;
            }
        }
        Ok(out)
    }

    /// `num / Π fᵉ`, cancelling the numerator against a factor when it is
    /// that factor up to a constant and a monomial.
    fn over(&self, num: Scalar, den: &Factors) -> Result<Scalar, ExactError> {
        if num.is_zero() {
            return Ok(Scalar::zero());
        }
        let mut den = merge(&num.den, den, |a, b| a + b);
        let mut top = num.num;
        if top.len() >= 2 {
            if let Some(k) = den.iter().position(|(f, _)| f.len() == top.len()) {
                let (c, content, normalized) = split_factor(&top, &self.meter)?;
                if *den[k].0 == normalized {
                    top = Poly::term(content, c);
                    den[k].1 -= 1;
                    if den[k].1 == 0 {
                        den.remove(k);
                    }
                }
            }
        }
        Ok(Scalar { num: top, den })
    }

    /// `a + b`.
    pub fn add(&self, a: &Scalar, b: &Scalar) -> Result<Scalar, ExactError> {
        if a.is_zero() {
            return Ok(b.clone());
        }
        if b.is_zero() {
            return Ok(a.clone());
        }
        if a.den == b.den {
            let num = a.num.add(&b.num, &self.meter)?;
            return self.over(Scalar::from_poly(num), &a.den);
        }
        let lcm = merge(&a.den, &b.den, u32::max);
        let left = self.times_factors(a.num.clone(), &quotient(&lcm, &a.den))?;
        let right = self.times_factors(b.num.clone(), &quotient(&lcm, &b.den))?;
        let sum = if left.den.is_empty() && right.den.is_empty() {
            Scalar::from_poly(left.num.add(&right.num, &self.meter)?)
        } else {
            self.add(&left, &right)?
        };
        self.over(sum, &lcm)
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
        self.over(product, &merge(&a.den, &b.den, |x, y| x + y))
    }

    /// `c · a` for a rational `c`.
    pub fn scale(&self, a: &Scalar, c: &BigRational) -> Scalar {
        if c.is_zero() {
            return Scalar::zero();
        }
        Scalar {
            num: a.num.scale(c),
            den: a.den.clone(),
        }
    }

    /// `1 / a`.
    pub fn inv(&self, a: &Scalar) -> Result<Scalar, ExactError> {
        let zero = || ExactError::DivisionByZero {
            span: crate::syntax::Span::NONE,
        };
        if a.is_zero() {
            return Err(zero());
        }
        if let Some((m, c)) = a.num.single_term() {
            let front = self.monomial(m.inverse()?, c.recip())?;
            let rest = self.times_factors(Poly::constant(BigRational::one()), &a.den)?;
            return self.mul(&front, &rest);
        }
        let (c, content, normalized) = split_factor(&a.num, &self.meter)?;
        let front = self.monomial(content.inverse()?, c.recip())?;
        let mut den = a.den.clone();
        if let Some(k) = den.iter().position(|(f, _)| **f == normalized) {
            den[k].1 -= 1;
            let rest = self.times_factors(Poly::constant(BigRational::one()), &den)?;
            return self.mul(&front, &rest);
        }
        let rest = self.times_factors(Poly::constant(BigRational::one()), &den)?;
        let top = self.mul(&front, &rest)?;
        self.over(top, &vec![(Rc::new(normalized), 1)])
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
        if a.den.is_empty() {
            if let Some((m, c)) = a.num.single_term() {
                let power = u32::try_from(k).map_err(|_| ExactError::ExponentTooLarge)?;
                return self.monomial(
                    m.pow(Exponent::from_integer(k))?,
                    num_traits::pow(c.clone(), power as usize),
                );
            }
        }
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
        let den: Factors = a
            .den
            .iter()
            .map(|(f, m)| {
                u32::try_from(i64::from(*m) * k)
                    .map(|m| (f.clone(), m))
                    .map_err(|_| ExactError::ExponentTooLarge)
            })
            .collect::<Result<_, _>>()?;
        self.over(result, &den)
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
        let outside = ExactError::OutsideDomain {
            func: "^",
            span: crate::syntax::Span::NONE,
        };
        if a.is_zero() {
            return if r.is_positive() {
                Ok(Scalar::zero())
            } else {
                Err(ExactError::DivisionByZero {
                    span: crate::syntax::Span::NONE,
                })
            };
        }
        if let Some(c) = a.as_constant() {
            if c.is_negative() {
                return Err(outside);
            }
            let n = r.denom().to_u32().ok_or(ExactError::ExponentTooLarge)?;
            if let (Some(p), Some(q)) = (exact_root(c.numer(), n), exact_root(c.denom(), n)) {
                let k = r.numer().to_i64().ok_or(ExactError::ExponentTooLarge)?;
                return self.powi(&Scalar::constant(BigRational::new(p, q)), k);
            }
        }
        let base = self.root_atom(a);
        self.monomial(Monomial::atom(base, to_exponent(r)?), BigRational::one())
    }

    /// `exp(u)`, split over the terms of `u`: `exp(Σ cᵢ·tᵢ) = Π exp(tᵢ)^cᵢ`.
    pub fn exp(&self, u: &Scalar) -> Result<Scalar, ExactError> {
        let mut m = Monomial::one();
        for (term, c) in u.num.terms() {
            let t = Scalar {
                num: Poly::term(term.clone(), BigRational::one()),
                den: u.den.clone(),
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
        let negative = u.num.leading().is_some_and(|(_, c)| c.is_negative());
        if negative && func != Func::Log {
            let flipped = Scalar::atom(self.apply_atom(func, &u.neg()));
            return match func {
                Func::Sin | Func::Tanh | Func::Sign => Ok(flipped.neg()),
                Func::Sigmoid => self.sub(&Scalar::one(), &flipped),
                Func::Relu => self.add(&flipped, u),
                _ => Ok(flipped),
            };
        }
        Ok(Scalar::atom(self.apply_atom(func, u)))
    }

    /// True when `a` and `b` are equal as rational functions of the atoms
    /// (the numerator of `a − b` is the zero polynomial).
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
                span: crate::syntax::Span::NONE,
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
