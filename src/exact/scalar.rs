//! [`Scalar`]: an exact scalar expression, a rational function over atoms
//! ([`RatFun`] of the `algebra` layer), and its arithmetic in a
//! [`Context`].
//!
//! The algebra keeps the expanded part and the polynomial factors apart
//! (`S·x/S²` cancels to `x/S`); this module adds what is particular to the
//! exact check: root atoms carry exponents in `[0, 1)` (`u^(k+f)` is kept as
//! `u^k · root(u)^f`), `exp` splits over the terms of its argument, and
//! element-wise functions fold at rational constants and are turned around
//! by their symmetries. Two scalars are equal as functions of independent
//! atoms exactly when the expanded part of their difference is the zero
//! polynomial, which is what [`Context::equal`] decides.
//!
//! Invariant: arithmetic never panics; every polynomial product is charged
//! to the context's meter.

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};

use super::atom::{AtomKind, AtomRef};
use super::context::Context;
use super::error::ExactError;
use super::poly::{Exponent, Monomial, Poly};
use crate::algebra::{AlgebraError, Meter, RatFun, Reduce};
use crate::syntax::{Func, Span};

/// An exact scalar expression: a rational function over the atoms of one
/// [`Context`].
pub type Scalar = RatFun<AtomRef>;

/// Converts a rational to an exponent, if it fits.
pub(super) fn to_exponent(r: &BigRational) -> Result<Exponent, ExactError> {
    match (r.numer().to_i64(), r.denom().to_i64()) {
        (Some(n), Some(d)) => Ok(Exponent::new(n, d)),
        _ => Err(ExactError::Algebra(AlgebraError::ExponentTooLarge)),
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

impl Reduce<AtomRef> for Context {
    type Error = ExactError;

    fn meter(&self) -> &Meter {
        &self.meter
    }

    fn reduce(&self, p: Poly) -> Result<Scalar, ExactError> {
        self.reduce_roots(p)
    }
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

    /// The scalar with its positive factors multiplied out (denominator
    /// factors kept): the canonical form of atom arguments.
    pub fn canonical(&self, u: &Scalar) -> Result<Scalar, ExactError> {
        u.canonical(self)
    }

    /// `a + b`.
    pub fn add(&self, a: &Scalar, b: &Scalar) -> Result<Scalar, ExactError> {
        a.add(b, self)
    }

    /// `a − b`.
    pub fn sub(&self, a: &Scalar, b: &Scalar) -> Result<Scalar, ExactError> {
        a.sub(b, self)
    }

    /// `a · b`.
    pub fn mul(&self, a: &Scalar, b: &Scalar) -> Result<Scalar, ExactError> {
        a.mul(b, self)
    }

    /// `c · a` for a rational `c`.
    pub fn scale(&self, a: &Scalar, c: &BigRational) -> Scalar {
        a.scale(c)
    }

    /// `1 / a`.
    pub fn inv(&self, a: &Scalar) -> Result<Scalar, ExactError> {
        a.inv(self)
    }

    /// `a / b`.
    pub fn div(&self, a: &Scalar, b: &Scalar) -> Result<Scalar, ExactError> {
        a.div(b, self)
    }

    /// `a^k` for an integer `k`.
    pub fn powi(&self, a: &Scalar, k: i64) -> Result<Scalar, ExactError> {
        a.powi(k, self)
    }

    /// `a^b` for scalars: integer powers expand, fractional constant powers
    /// become root atoms, and other powers are `exp(b·log(a))`.
    pub fn pow(&self, a: &Scalar, b: &Scalar) -> Result<Scalar, ExactError> {
        match b.as_constant() {
            Some(r) if r.is_integer() => {
                let k = r
                    .to_integer()
                    .to_i64()
                    .ok_or(ExactError::Algebra(AlgebraError::ExponentTooLarge))?;
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
            let n = r
                .denom()
                .to_u32()
                .ok_or(ExactError::Algebra(AlgebraError::ExponentTooLarge))?;
            if let (Some(p), Some(q)) = (exact_root(c.numer(), n), exact_root(c.denom(), n)) {
                let k = r
                    .numer()
                    .to_i64()
                    .ok_or(ExactError::Algebra(AlgebraError::ExponentTooLarge))?;
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
        for (term, c) in u.numerator().terms() {
            let t = Scalar::from_parts(
                Poly::term(term.clone(), BigRational::one()),
                u.factors().to_vec(),
            );
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
        let negative = u
            .numerator()
            .leading()
            .is_some_and(|(_, c)| c.is_negative());
        if negative {
            // f(u) from f(−u), by the symmetry of f.
            let flipped = || Scalar::atom(self.apply_atom(func, &u.neg()));
            match func {
                Func::Sin | Func::Tanh | Func::Tan | Func::Erf | Func::Sign => {
                    return Ok(flipped().neg())
                }
                Func::Cos | Func::Abs => return Ok(flipped()),
                Func::Sigmoid => return self.sub(&Scalar::one(), &flipped()),
                // relu(u) = relu(−u) + u, softplus(u) = softplus(−u) + u.
                Func::Relu | Func::Softplus => return self.add(&flipped(), &u),
                _ => {}
            }
        }
        Ok(Scalar::atom(self.apply_atom(func, &u)))
    }

    /// True when `a` and `b` are equal as functions of independent atoms
    /// (the expanded part of `a − b` is the zero polynomial).
    pub fn equal(&self, a: &Scalar, b: &Scalar) -> Result<bool, ExactError> {
        a.equal(b, self)
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
        Func::Sin | Func::Tanh | Func::Tan | Func::Erf if c.is_zero() => Some(Scalar::zero()),
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
