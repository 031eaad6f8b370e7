//! Laurent polynomials with exact rational coefficients over atoms, and the
//! budget meter that keeps their arithmetic bounded.
//!
//! A [`Monomial`] is a sorted list of `(atom, exponent)` pairs with nonzero
//! rational exponents (integers for most atoms; any rational for `exp`
//! atoms and the bases of fractional powers). A [`Poly`] is a sorted list
//! of distinct monomials with nonzero coefficients, so structural equality
//! is equality of polynomials.
//!
//! Invariant: every product and sum is charged to a [`Meter`] before it is
//! computed and fails with a budget error instead of growing without bound.

use std::cell::Cell;
use std::cmp::Ordering;
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

use num_rational::{BigRational, Ratio};
use num_traits::{CheckedAdd, CheckedMul, One, Zero};

use super::atom::AtomRef;
use super::error::ExactError;

/// An exponent of an atom in a monomial.
pub type Exponent = Ratio<i64>;

/// Limits on the size of exact expansions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Most terms any one polynomial may have.
    pub max_terms: usize,
    /// Most term operations (products of two terms, terms merged) in one
    /// verification, so that nothing runs away.
    pub max_work: u64,
}

impl Default for Budget {
    /// 20,000 terms per polynomial and 5 million term operations (a few
    /// seconds at most).
    fn default() -> Budget {
        Budget {
            max_terms: 20_000,
            max_work: 5_000_000,
        }
    }
}

/// Counts the work done against a [`Budget`].
#[derive(Debug)]
pub(super) struct Meter {
    budget: Budget,
    work: Cell<u64>,
}

impl Meter {
    /// A meter with nothing spent.
    pub(super) fn new(budget: Budget) -> Meter {
        Meter {
            budget,
            work: Cell::new(0),
        }
    }

    /// Spends `amount` term operations.
    pub(super) fn charge(&self, amount: u64) -> Result<(), ExactError> {
        let spent = self.work.get().saturating_add(amount);
        self.work.set(spent);
        if spent > self.budget.max_work {
            Err(ExactError::WorkBudget {
                limit: self.budget.max_work,
            })
        } else {
            Ok(())
        }
    }

    /// Fails when a polynomial of `terms` terms is over budget.
    pub(super) fn check_terms(&self, terms: usize) -> Result<(), ExactError> {
        if terms > self.budget.max_terms {
            Err(ExactError::TermBudget {
                limit: self.budget.max_terms,
            })
        } else {
            Ok(())
        }
    }

    /// Fails when a value of this shape has more entries than fifty times
    /// the term budget; otherwise charges one operation per entry.
    pub(super) fn check_size(&self, shape: &[usize]) -> Result<(), ExactError> {
        let limit = self.budget.max_terms.saturating_mul(50);
        let entries = shape
            .iter()
            .try_fold(1usize, |acc, &n| acc.checked_mul(n))
            .filter(|&n| n <= limit)
            .ok_or(ExactError::EntryBudget { limit })?;
        self.charge(entries as u64)
    }

    /// The term operations spent so far.
    pub(super) fn spent(&self) -> u64 {
        self.work.get()
    }
}

/// A fast multiplicative hasher for monomial keys (not for untrusted
/// input: the keys are atom ids and small exponents).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct WordHasher {
    hash: u64,
}

impl WordHasher {
    fn mix(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(0x51_7C_C1_B7_27_22_0A_95);
    }
}

impl Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.mix(u64::from_le_bytes(word));
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.mix(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.mix(n);
    }

    fn write_i64(&mut self, n: i64) {
        self.mix(n as u64);
    }

    fn write_usize(&mut self, n: usize) {
        self.mix(n as u64);
    }

    fn finish(&self) -> u64 {
        self.hash
    }
}

/// A hash map keyed by monomials.
type MonomialMap<V> = HashMap<Monomial, V, BuildHasherDefault<WordHasher>>;

fn add_exponents(a: &Exponent, b: &Exponent) -> Result<Exponent, ExactError> {
    a.checked_add(b).ok_or(ExactError::ExponentTooLarge)
}

/// A product of atoms raised to nonzero exponents, sorted by atom.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Monomial(Vec<(AtomRef, Exponent)>);

impl Hash for Monomial {
    /// Exponents are kept in lowest terms, so hashing their numerator and
    /// denominator is consistent with equality.
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_usize(self.0.len());
        for (a, e) in &self.0 {
            state.write_u32(a.id());
            state.write_i64(*e.numer());
            state.write_i64(*e.denom());
        }
    }
}

impl Monomial {
    /// The empty product.
    pub(super) fn one() -> Monomial {
        Monomial(Vec::new())
    }

    /// `atom^exponent` (the empty product when the exponent is 0).
    pub(super) fn atom(atom: AtomRef, exponent: Exponent) -> Monomial {
        if exponent.is_zero() {
            Monomial::one()
        } else {
            Monomial(vec![(atom, exponent)])
        }
    }

    /// A monomial from factors already sorted by atom, with nonzero
    /// exponents and no atom twice.
    pub(super) fn from_sorted(factors: Vec<(AtomRef, Exponent)>) -> Monomial {
        Monomial(factors)
    }

    /// True for the empty product.
    pub fn is_one(&self) -> bool {
        self.0.is_empty()
    }

    /// The factors, sorted by atom.
    pub fn factors(&self) -> &[(AtomRef, Exponent)] {
        &self.0
    }

    /// The product of two monomials.
    pub(super) fn mul(&self, other: &Monomial) -> Result<Monomial, ExactError> {
        let (a, b) = (&self.0, &other.0);
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
                    let e = add_exponents(&a[i].1, &b[j].1)?;
                    if !e.is_zero() {
                        out.push((a[i].0.clone(), e));
                    }
                    i += 1;
                    j += 1;
                }
            }
        }
        out.extend_from_slice(&a[i..]);
        out.extend_from_slice(&b[j..]);
        Ok(Monomial(out))
    }

    /// The monomial raised to `k`.
    pub(super) fn pow(&self, k: Exponent) -> Result<Monomial, ExactError> {
        if k.is_zero() {
            return Ok(Monomial::one());
        }
        let factors = self
            .0
            .iter()
            .map(|(a, e)| {
                e.checked_mul(&k)
                    .map(|e| (a.clone(), e))
                    .ok_or(ExactError::ExponentTooLarge)
            })
            .collect::<Result<_, _>>()?;
        Ok(Monomial(factors))
    }

    /// The reciprocal monomial.
    pub(super) fn inverse(&self) -> Result<Monomial, ExactError> {
        self.pow(-Exponent::one())
    }

    /// The monomial with `atom`'s exponent replaced by `exponent`.
    pub(super) fn with_exponent(&self, atom: &AtomRef, exponent: Exponent) -> Monomial {
        let mut factors: Vec<_> = self.0.iter().filter(|(a, _)| a != atom).cloned().collect();
        if !exponent.is_zero() {
            let at = factors.partition_point(|(a, _)| a < atom);
            factors.insert(at, (atom.clone(), exponent));
        }
        Monomial(factors)
    }

    /// The lexicographic monomial order (the atom with the smallest id is
    /// the most significant): compatible with multiplication.
    pub fn lex_cmp(&self, other: &Monomial) -> Ordering {
        let (a, b) = (&self.0, &other.0);
        let zero = Exponent::zero();
        let (mut i, mut j) = (0, 0);
        loop {
            let order = match (a.get(i), b.get(j)) {
                (None, None) => return Ordering::Equal,
                (Some((_, e)), None) => {
                    i += 1;
                    e.cmp(&zero)
                }
                (None, Some((_, f))) => {
                    j += 1;
                    zero.cmp(f)
                }
                (Some((x, e)), Some((y, f))) => match x.cmp(y) {
                    Ordering::Less => {
                        i += 1;
                        e.cmp(&zero)
                    }
                    Ordering::Greater => {
                        j += 1;
                        zero.cmp(f)
                    }
                    Ordering::Equal => {
                        i += 1;
                        j += 1;
                        e.cmp(f)
                    }
                },
            };
            if order != Ordering::Equal {
                return order;
            }
        }
    }
}

/// A Laurent polynomial: distinct monomials with nonzero rational
/// coefficients, sorted by monomial.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Poly(Vec<(Monomial, BigRational)>);

impl Poly {
    /// The zero polynomial.
    pub(super) fn zero() -> Poly {
        Poly(Vec::new())
    }

    /// A constant.
    pub(super) fn constant(c: BigRational) -> Poly {
        Poly::term(Monomial::one(), c)
    }

    /// One term `c·m`.
    pub(super) fn term(m: Monomial, c: BigRational) -> Poly {
        if c.is_zero() {
            Poly::zero()
        } else {
            Poly(vec![(m, c)])
        }
    }

    /// The sum of arbitrary terms (like terms combined, zeros dropped).
    pub(super) fn from_terms(
        terms: impl IntoIterator<Item = (Monomial, BigRational)>,
        meter: &Meter,
    ) -> Result<Poly, ExactError> {
        let mut acc: MonomialMap<BigRational> = MonomialMap::default();
        for (m, c) in terms {
            match acc.entry(m) {
                Entry::Occupied(mut e) => *e.get_mut() += c,
                Entry::Vacant(e) => {
                    e.insert(c);
                }
            }
        }
        meter.charge(acc.len() as u64)?;
        Poly::from_map(acc, meter)
    }

    fn from_map(acc: MonomialMap<BigRational>, meter: &Meter) -> Result<Poly, ExactError> {
        let mut terms: Vec<_> = acc.into_iter().filter(|(_, c)| !c.is_zero()).collect();
        meter.check_terms(terms.len())?;
        terms.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Ok(Poly(terms))
    }

    /// The terms, sorted by monomial.
    pub fn terms(&self) -> &[(Monomial, BigRational)] {
        &self.0
    }

    /// Number of terms.
    pub fn term_count(&self) -> usize {
        self.0.len()
    }

    /// True for the zero polynomial.
    pub fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    /// The value of a constant polynomial.
    pub fn as_constant(&self) -> Option<BigRational> {
        match self.0.as_slice() {
            [] => Some(BigRational::zero()),
            [(m, c)] if m.is_one() => Some(c.clone()),
            _ => None,
        }
    }

    /// The only term of a one-term polynomial.
    pub fn single_term(&self) -> Option<(&Monomial, &BigRational)> {
        match self.0.as_slice() {
            [(m, c)] => Some((m, c)),
            _ => None,
        }
    }

    /// The term that is largest in the lexicographic monomial order.
    pub fn leading(&self) -> Option<&(Monomial, BigRational)> {
        self.0.iter().max_by(|a, b| a.0.lex_cmp(&b.0))
    }

    /// The sum of two polynomials.
    pub(super) fn add(&self, other: &Poly, meter: &Meter) -> Result<Poly, ExactError> {
        meter.charge((self.term_count() + other.term_count()) as u64)?;
        let (a, b) = (&self.0, &other.0);
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
                    let c = &a[i].1 + &b[j].1;
                    if !c.is_zero() {
                        out.push((a[i].0.clone(), c));
                    }
                    i += 1;
                    j += 1;
                }
            }
        }
        out.extend_from_slice(&a[i..]);
        out.extend_from_slice(&b[j..]);
        meter.check_terms(out.len())?;
        Ok(Poly(out))
    }

    /// Every coefficient multiplied by `c`.
    pub(super) fn scale(&self, c: &BigRational) -> Poly {
        if c.is_zero() {
            return Poly::zero();
        }
        Poly(self.0.iter().map(|(m, d)| (m.clone(), d * c)).collect())
    }

    /// The negated polynomial.
    pub(super) fn neg(&self) -> Poly {
        Poly(self.0.iter().map(|(m, c)| (m.clone(), -c)).collect())
    }

    /// Every term multiplied by `c·m` (order is kept: multiplying by one
    /// monomial is injective, but may change the sort order, so it sorts).
    pub(super) fn mul_term(&self, m: &Monomial, c: &BigRational) -> Result<Poly, ExactError> {
        if c.is_zero() {
            return Ok(Poly::zero());
        }
        let mut terms = self
            .0
            .iter()
            .map(|(n, d)| Ok((n.mul(m)?, d * c)))
            .collect::<Result<Vec<_>, ExactError>>()?;
        terms.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Ok(Poly(terms))
    }

    /// The product of two polynomials.
    pub(super) fn mul(&self, other: &Poly, meter: &Meter) -> Result<Poly, ExactError> {
        if self.is_zero() || other.is_zero() {
            return Ok(Poly::zero());
        }
        if let Some((m, c)) = other.single_term() {
            return self.mul_term(m, c);
        }
        if let Some((m, c)) = self.single_term() {
            return other.mul_term(m, c);
        }
        meter.charge((self.term_count() as u64).saturating_mul(other.term_count() as u64))?;
        let mut acc: MonomialMap<BigRational> = MonomialMap::with_capacity_and_hasher(
            self.term_count().max(other.term_count()),
            Default::default(),
        );
        for (m1, c1) in &self.0 {
            for (m2, c2) in &other.0 {
                let c = c1 * c2;
                match acc.entry(m1.mul(m2)?) {
                    Entry::Occupied(mut e) => *e.get_mut() += c,
                    Entry::Vacant(e) => {
                        e.insert(c);
                    }
                }
            }
            meter.check_terms(acc.len())?;
        }
        Poly::from_map(acc, meter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_meter_stops() {
        let meter = Meter::new(Budget {
            max_terms: 2,
            max_work: 10,
        });
        assert!(meter.check_terms(2).is_ok());
        assert!(matches!(
            meter.check_terms(3),
            Err(ExactError::TermBudget { limit: 2 })
        ));
        assert!(meter.charge(10).is_ok());
        assert!(matches!(
            meter.charge(1),
            Err(ExactError::WorkBudget { limit: 10 })
        ));
    }
}
