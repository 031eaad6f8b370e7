//! Exact consequences of sampling domains, applied to derivatives after
//! they are taken (derivatives are unconstrained; the claim only has to
//! hold on the domain):
//!
//! - `symmetric`, `spd`: `x_ji` is replaced by `x_ij` for i < j;
//! - `prob`, `onehot`: the last entry of each row (of the vector) is one
//!   minus the others;
//! - `pm1`: `y² = 1`; `binary`: `y² = y`; `onehot`: `yᵢ² = yᵢ` and
//!   `yᵢ·yⱼ = 0` within a row.
//!
//! These are normal forms: a nonzero reduced polynomial is a nonzero
//! function on the domain. `orthogonal` (`XᵀX = I`) has no such reduction;
//! its entries are marked not free, so a difference involving them is
//! undecided rather than reported as a difference.
//!
//! Invariant: reduction is applied to whole scalars, atoms' arguments
//! included, and is idempotent.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use num_rational::BigRational;
use num_traits::{One, Zero};

use super::atom::{AtomKind, AtomRef};
use super::context::Context;
use super::error::ExactError;
use super::poly::{Exponent, Monomial, Poly};
use super::scalar::Scalar;
use crate::numeric::Domain;

/// How a discrete-valued entry reduces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Discrete {
    Pm1,
    Binary,
    /// One-hot within the group (variable's row) it belongs to.
    Onehot(usize),
}

/// Reduces scalars by the exact consequences of the sampling domains.
pub(super) struct Reduction<'c> {
    cx: &'c Context,
    substitutions: HashMap<u32, Scalar>,
    discrete: HashMap<u32, Discrete>,
    memo: RefCell<HashMap<u32, Scalar>>,
    powers: RefCell<HashMap<(u32, Exponent), Scalar>>,
    affected: RefCell<HashMap<u32, bool>>,
}

/// The layout indices of a variable's rows: each row of a matrix, or the
/// whole of a vector or scalar.
fn rows_of(dims: &[usize]) -> Vec<Vec<Vec<usize>>> {
    match dims {
        [] => vec![vec![vec![]]],
        [n] => vec![(0..*n).map(|i| vec![i]).collect()],
        [r, c] => (0..*r)
            .map(|i| (0..*c).map(|j| vec![i, j]).collect())
            .collect(),
        _ => Vec::new(),
    }
}

impl<'c> Reduction<'c> {
    /// The reduction for the given variables and domains. The context must
    /// already know which variables are discrete ([`mark_domains`]).
    pub(super) fn new(
        cx: &'c Context,
        vars: &BTreeMap<String, Vec<usize>>,
        domains: &BTreeMap<String, Domain>,
    ) -> Result<Reduction<'c>, ExactError> {
        let mut substitutions = HashMap::new();
        let mut discrete = HashMap::new();
        let mut groups = 0;
        for (var, domain) in domains {
            let Some(dims) = vars.get(var) else {
                continue;
            };
            match domain {
                Domain::Symmetric | Domain::Spd => {
                    if let [n, m] = dims.as_slice() {
                        if n == m {
                            for i in 0..*n {
                                for j in 0..i {
                                    let upper = Scalar::atom(cx.entry(var, &[j, i]));
                                    substitutions.insert(cx.entry(var, &[i, j]).id(), upper);
                                }
                            }
                        }
                    }
                }
                Domain::Prob | Domain::Onehot => {
                    for row in rows_of(dims) {
                        let Some((last, rest)) = row.split_last() else {
                            continue;
                        };
                        let others = Poly::from_terms(
                            rest.iter().map(|index| {
                                (
                                    Monomial::atom(cx.entry(var, index), Exponent::one()),
                                    -BigRational::one(),
                                )
                            }),
                            &cx.meter,
                        )?;
                        let one = Poly::constant(BigRational::one());
                        let value = one.add(&others, &cx.meter)?;
                        substitutions.insert(cx.entry(var, last).id(), Scalar::from_poly(value));
                        if *domain == Domain::Onehot {
                            for index in rest {
                                discrete
                                    .insert(cx.entry(var, index).id(), Discrete::Onehot(groups));
                            }
                            groups += 1;
                        }
                    }
                }
                Domain::Pm1 | Domain::Binary => {
                    for row in rows_of(dims) {
                        for index in row {
                            let rule = if *domain == Domain::Pm1 {
                                Discrete::Pm1
                            } else {
                                Discrete::Binary
                            };
                            discrete.insert(cx.entry(var, &index).id(), rule);
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(Reduction {
            cx,
            substitutions,
            discrete,
            memo: RefCell::new(HashMap::new()),
            powers: RefCell::new(HashMap::new()),
            affected: RefCell::new(HashMap::new()),
        })
    }

    /// True when reduction may change the atom (cached per atom).
    fn affects(&self, atom: &AtomRef) -> bool {
        if let Some(known) = self.affected.borrow().get(&atom.id()) {
            return *known;
        }
        let touched = atom
            .0
            .support
            .iter()
            .any(|id| self.substitutions.contains_key(id) || self.discrete.contains_key(id));
        self.affected.borrow_mut().insert(atom.id(), touched);
        touched
    }

    /// The scalar reduced on the domain, with its positive factors
    /// multiplied out so that the discrete rules see whole monomials.
    pub(super) fn reduce(&self, s: &Scalar) -> Result<Scalar, ExactError> {
        if self.substitutions.is_empty() && self.discrete.is_empty() {
            return Ok(s.clone());
        }
        let mut result = self.reduce_poly(s.numerator())?;
        for (f, e) in s.factors() {
            let factor = self.reduce_poly(f)?;
            let power = self.cx.powi(&factor, i64::from(*e))?;
            result = self.cx.mul(&result, &power)?;
        }
        self.discrete_scalar(&result)
    }

    /// The scalar with positive factors multiplied out and the discrete
    /// rules applied to its expanded part.
    fn discrete_scalar(&self, s: &Scalar) -> Result<Scalar, ExactError> {
        let s = self.cx.canonical(s)?;
        Ok(Scalar::from_parts(
            self.discrete_poly(s.numerator())?,
            s.factors().to_vec(),
        ))
    }

    fn reduce_poly(&self, p: &Poly) -> Result<Scalar, ExactError> {
        let cx = self.cx;
        let mut plain = Vec::new();
        let mut rest = Scalar::zero();
        for (m, c) in p.terms() {
            if !m.factors().iter().any(|(a, _)| self.affects(a)) {
                plain.push((m.clone(), c.clone()));
                continue;
            }
            let mut term = Scalar::constant(c.clone());
            let mut kept = Monomial::one();
            for (a, e) in m.factors() {
                match self.reduce_power(a, *e)? {
                    None => kept = kept.mul(&Monomial::atom(a.clone(), *e))?,
                    Some(value) => term = cx.mul(&term, &value)?,
                }
            }
            let term = cx.mul(&term, &cx.monomial(kept, BigRational::one())?)?;
            if term.factors().is_empty() {
                plain.extend(term.numerator().terms().iter().cloned());
            } else {
                rest = cx.add(&rest, &term)?;
            }
        }
        let plain = Scalar::from_poly(Poly::from_terms(plain, &cx.meter)?);
        let sum = cx.add(&plain, &rest)?;
        self.discrete_scalar(&sum)
    }

    /// `atom^e` reduced, or `None` when the atom is unaffected (cached).
    fn reduce_power(&self, atom: &AtomRef, e: Exponent) -> Result<Option<Scalar>, ExactError> {
        if !self.affects(atom) {
            return Ok(None);
        }
        if let AtomKind::Entry { .. } = atom.kind() {
            if !e.is_integer() || !self.substitutions.contains_key(&atom.id()) {
                return Ok(None);
            }
        }
        if let Some(s) = self.powers.borrow().get(&(atom.id(), e)) {
            return Ok(Some(s.clone()));
        }
        let cx = self.cx;
        let power = BigRational::new((*e.numer()).into(), (*e.denom()).into());
        let base = self.reduce_atom(atom)?;
        let value = match atom.kind() {
            AtomKind::Exp { .. } => cx.exp(&cx.scale(&base, &power))?,
            _ => cx.pow(&base, &Scalar::constant(power))?,
        };
        self.powers
            .borrow_mut()
            .insert((atom.id(), e), value.clone());
        Ok(Some(value))
    }

    /// The reduced value of an atom, except that for `exp(t)` it is the
    /// reduced exponent `t` and for a root base the reduced base (cached).
    fn reduce_atom(&self, atom: &AtomRef) -> Result<Scalar, ExactError> {
        if let Some(s) = self.memo.borrow().get(&atom.id()) {
            return Ok(s.clone());
        }
        let cx = self.cx;
        let value = match atom.kind() {
            AtomKind::Apply { func, arg } => cx.apply(*func, &self.reduce(arg)?)?,
            AtomKind::Loss {
                name,
                label,
                shape,
                args,
            } => {
                let args = args
                    .iter()
                    .map(|a| self.reduce(a))
                    .collect::<Result<Vec<_>, _>>()?;
                Scalar::atom(cx.loss_atom(name, Some(label), *shape, args))
            }
            AtomKind::Grad { loss, row, col } => {
                let reduced = self.reduce_atom(loss)?;
                let loss = reduced
                    .numerator()
                    .single_term()
                    .and_then(|(m, _)| m.factors().first().map(|(a, _)| a.clone()))
                    .unwrap_or_else(|| loss.clone());
                Scalar::atom(cx.grad_atom(&loss, *row, *col))
            }
            AtomKind::Exp { arg } => self.reduce(arg)?,
            AtomKind::Root { base } => self.reduce(base)?,
            AtomKind::Entry { .. } => self
                .substitutions
                .get(&atom.id())
                .cloned()
                .unwrap_or_else(|| Scalar::atom(atom.clone())),
        };
        self.memo.borrow_mut().insert(atom.id(), value.clone());
        Ok(value)
    }

    /// The discrete rules applied to every monomial.
    fn discrete_poly(&self, p: &Poly) -> Result<Poly, ExactError> {
        let touched = |m: &Monomial| {
            m.factors()
                .iter()
                .any(|(a, _)| self.discrete.contains_key(&a.id()))
        };
        if !p.terms().iter().any(|(m, _)| touched(m)) {
            return Ok(p.clone());
        }
        let terms = p
            .terms()
            .iter()
            .filter_map(|(m, c)| self.discrete_monomial(m).map(|m| (m, c.clone())));
        Ok(Poly::from_terms(terms, &self.cx.meter)?)
    }

    /// A monomial under the discrete rules; `None` when it vanishes.
    fn discrete_monomial(&self, m: &Monomial) -> Option<Monomial> {
        let mut factors = Vec::new();
        let mut groups = Vec::new();
        for (a, e) in m.factors() {
            let reduced = match self.discrete.get(&a.id()) {
                Some(Discrete::Pm1) if e.is_integer() => {
                    Exponent::from_integer(e.numer().rem_euclid(2))
                }
                Some(Discrete::Binary) if *e >= Exponent::one() => Exponent::one(),
                Some(Discrete::Onehot(group)) if *e >= Exponent::one() => {
                    if groups.contains(group) {
                        return None;
                    }
                    groups.push(*group);
                    Exponent::one()
                }
                _ => *e,
            };
            if !reduced.is_zero() {
                factors.push((a.clone(), reduced));
            }
        }
        Some(Monomial::from_sorted(factors))
    }
}

/// Tells the context which variables are discrete-valued or opaque, before
/// any of their atoms exist.
pub(super) fn mark_domains(cx: &mut Context, domains: &BTreeMap<String, Domain>) {
    for (var, domain) in domains {
        match domain {
            Domain::Pm1 | Domain::Binary | Domain::Onehot => cx.mark_discrete(var),
            Domain::Orthogonal => cx.mark_opaque(var),
            _ => {}
        }
    }
}
