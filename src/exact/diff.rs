//! Differentiation of scalars by an entry atom.
//!
//! Each atom kind keeps its derivative rule here, beside the others:
//! an entry differentiates to 1 or 0; `exp(t)^r` to `r·exp(t)^r·t′`;
//! `root(u)^r` to `r·root(u)^r·u′/u`; `log′ = 1/u`, `sin′ = cos`,
//! `cos′ = −sin`, `tanh′ = 1 − tanh²`, `sigmoid′ = s(1 − s)`,
//! `relu′ = (sign(u) + 1)/2`, `abs′ = sign(u)`, `sign′ = 0`; the abstract
//! loss `L[…]` has the partials `∂ᵢⱼL[…]`, and differentiating those is a
//! typed error (it would need a second-order `d2L`).
//!
//! Invariant: derivatives of atoms are cached per (atom, entry), so shared
//! subexpressions are differentiated once.

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::One;

use super::atom::{AtomKind, AtomRef};
use super::context::Context;
use super::error::ExactError;
use super::poly::{Exponent, Monomial, Poly};
use super::scalar::Scalar;
use crate::syntax::Func;

impl Context {
    /// `∂s/∂z` for an entry atom `z`: for `s = p · Π fᵉ`,
    /// `p′ · Π fᵉ + s · Σ e·f′/f`.
    pub fn derivative(&self, s: &Scalar, z: &AtomRef) -> Result<Scalar, ExactError> {
        let dp = self.poly_derivative(s.numerator(), z)?;
        let rest = Scalar::from_parts(Poly::constant(BigRational::one()), s.factors().to_vec());
        let mut result = self.mul(&dp, &rest)?;
        for (f, e) in s.factors() {
            let df = self.poly_derivative(f, z)?;
            if df.is_zero() {
                continue;
            }
            let term = self.mul(s, &df)?;
            let term = self.scale(&term, &BigRational::from_integer(BigInt::from(*e)));
            let term = self.div(&term, &Scalar::from_poly((**f).clone()))?;
            result = self.add(&result, &term)?;
        }
        Ok(result)
    }

    /// `∂p/∂z` of a polynomial: entry factors directly, other atoms through
    /// their cached derivatives, one product per atom.
    fn poly_derivative(&self, p: &Poly, z: &AtomRef) -> Result<Scalar, ExactError> {
        let mut direct = Vec::new();
        let mut through: Vec<(AtomRef, Vec<(Monomial, BigRational)>)> = Vec::new();
        for (m, c) in p.terms() {
            for (a, e) in m.factors() {
                if !a.depends_on(z.id()) {
                    continue;
                }
                let coefficient = c * BigRational::new((*e.numer()).into(), (*e.denom()).into());
                let lowered = m.mul(&Monomial::atom(a.clone(), -Exponent::one()))?;
                if a == z {
                    direct.push((lowered, coefficient));
                } else {
                    match through.iter_mut().find(|(b, _)| b == a) {
                        Some((_, terms)) => terms.push((lowered, coefficient)),
                        None => through.push((a.clone(), vec![(lowered, coefficient)])),
                    }
                }
            }
        }
        let mut result = Scalar::from_poly(Poly::from_terms(direct, &self.meter)?);
        for (a, terms) in through {
            let da = self.atom_derivative(&a, z)?;
            if da.is_zero() {
                continue;
            }
            let outer = Scalar::from_poly(Poly::from_terms(terms, &self.meter)?);
            let term = self.mul(&outer, &da)?;
            result = self.add(&result, &term)?;
        }
        Ok(result)
    }

    /// `∂a/∂z` for an atom that is not `z` itself, cached.
    fn atom_derivative(&self, a: &AtomRef, z: &AtomRef) -> Result<Scalar, ExactError> {
        let key = (a.id(), z.id());
        if let Some(d) = self.derivatives.borrow().get(&key) {
            return Ok(d.clone());
        }
        let d = self.atom_rule(a, z)?;
        self.derivatives.borrow_mut().insert(key, d.clone());
        Ok(d)
    }

    /// The derivative rule of each atom kind.
    fn atom_rule(&self, a: &AtomRef, z: &AtomRef) -> Result<Scalar, ExactError> {
        let itself = Scalar::atom(a.clone());
        match a.kind() {
            AtomKind::Entry { .. } => Ok(if a == z {
                Scalar::one()
            } else {
                Scalar::zero()
            }),
            AtomKind::Exp { arg } => {
                let dt = self.derivative(arg, z)?;
                self.mul(&itself, &dt)
            }
            AtomKind::Root { base } => {
                let du = self.derivative(base, z)?;
                let ratio = self.div(&du, base)?;
                self.mul(&itself, &ratio)
            }
            AtomKind::Apply { func, arg } => {
                let du = self.derivative(arg, z)?;
                if du.is_zero() {
                    return Ok(du);
                }
                let outer = self.outer_derivative(*func, arg, &itself)?;
                self.mul(&outer, &du)
            }
            AtomKind::Loss { shape, args, .. } => {
                let mut result = Scalar::zero();
                for (k, arg) in args.iter().enumerate() {
                    let da = self.derivative(arg, z)?;
                    if da.is_zero() {
                        continue;
                    }
                    let partial = self.grad_atom(a, k / shape.1, k % shape.1);
                    let term = self.mul(&Scalar::atom(partial), &da)?;
                    result = self.add(&result, &term)?;
                }
                Ok(result)
            }
            AtomKind::Grad { loss, .. } => {
                let AtomKind::Loss { name, .. } = loss.kind() else {
                    return Err(ExactError::SecondDerivative {
                        name: String::new(),
                    });
                };
                Err(ExactError::SecondDerivative { name: name.clone() })
            }
        }
    }

    /// `f′(u)` for a function kept as an atom; `value` is `f(u)`.
    fn outer_derivative(
        &self,
        func: Func,
        u: &Scalar,
        value: &Scalar,
    ) -> Result<Scalar, ExactError> {
        let one = Scalar::one();
        let half = BigRational::new(1.into(), 2.into());
        match func {
            Func::Log => self.inv(u),
            Func::Sin => self.apply(Func::Cos, u),
            Func::Cos => Ok(self.apply(Func::Sin, u)?.neg()),
            Func::Tanh => {
                let square = self.mul(value, value)?;
                self.sub(&one, &square)
            }
            Func::Sigmoid => {
                let rest = self.sub(&one, value)?;
                self.mul(value, &rest)
            }
            Func::Relu => {
                let sign = self.apply(Func::Sign, u)?;
                let shifted = self.add(&sign, &one)?;
                Ok(self.scale(&shifted, &half))
            }
            Func::Abs => self.apply(Func::Sign, u),
            Func::Tan => {
                let square = self.mul(value, value)?;
                self.add(&one, &square)
            }
            Func::Softplus => self.apply(Func::Sigmoid, u),
            // 2/√π·exp(−u²): π is not a number of the normal form.
            Func::Erf => Err(ExactError::NoExactForm {
                what: "the derivative of erf, 2/√π·exp(−u²)",
            }),
            Func::Sign => Ok(Scalar::zero()),
            other => Err(ExactError::NoExactForm { what: other.name() }),
        }
    }
}
