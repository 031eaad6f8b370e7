//! Laurent polynomials with exact rational coefficients over atoms.
//!
//! A [`Monomial`] is a sorted list of `(atom, exponent)` pairs with nonzero
//! rational exponents. A [`Poly`] is a sorted list of distinct monomials
//! with nonzero coefficients, so structural equality is equality of
//! polynomials.
//!
//! Invariant: every product and sum is charged to a [`Meter`] before it is
//! computed and fails with a budget error instead of growing without bound.

use std::cmp::Ordering;
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

use num_rational::{BigRational, Ratio};
use num_traits::{CheckedAdd, CheckedMul, One, Zero};

use super::{AlgebraError, Atom, Meter};

/// An exponent of an atom in a monomial.
pub type Exponent = Ratio<i64>;

/// A fast multiplicative hasher for monomial keys (not for untrusted
/// input: the keys are atom ids and small exponents).
#[derive(Clone, Copy, Debug, Default)]
struct WordHasher {
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
type MonomialMap<A, V> = HashMap<Monomial<A>, V, BuildHasherDefault<WordHasher>>;

fn add_exponents(a: &Exponent, b: &Exponent) -> Result<Exponent, AlgebraError> {
    a.checked_add(b).ok_or(AlgebraError::ExponentTooLarge)
}

/// A product of atoms raised to nonzero exponents, sorted by atom.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Monomial<A>(Vec<(A, Exponent)>);

impl<A: Atom> Hash for Monomial<A> {
    /// Exponents are kept in lowest terms, so hashing their numerator and
    /// denominator is consistent with equality.
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_usize(self.0.len());
        for (a, e) in &self.0 {
            state.write_u64(a.hash_word());
            state.write_i64(*e.numer());
            state.write_i64(*e.denom());
        }
    }
}

impl<A> Default for Monomial<A> {
    fn default() -> Monomial<A> {
        Monomial(Vec::new())
    }
}

impl<A> Default for Poly<A> {
    fn default() -> Poly<A> {
        Poly(Vec::new())
    }
}

impl<A: Atom> Hash for Poly<A> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_usize(self.0.len());
        for (m, c) in &self.0 {
            m.hash(state);
            c.hash(state);
        }
    }
}

impl<A: Atom> Monomial<A> {
    /// The empty product.
    pub fn one() -> Monomial<A> {
        Monomial(Vec::new())
    }

    /// `atom^exponent` (the empty product when the exponent is 0).
    pub fn atom(atom: A, exponent: Exponent) -> Monomial<A> {
        if exponent.is_zero() {
            Monomial::one()
        } else {
            Monomial(vec![(atom, exponent)])
        }
    }

    /// A monomial from factors already sorted by atom, with nonzero
    /// exponents and no atom twice.
    pub fn from_sorted(factors: Vec<(A, Exponent)>) -> Monomial<A> {
        Monomial(factors)
    }

    /// True for the empty product.
    pub fn is_one(&self) -> bool {
        self.0.is_empty()
    }

    /// The factors, sorted by atom.
    pub fn factors(&self) -> &[(A, Exponent)] {
        &self.0
    }

    /// The product of two monomials.
    pub fn mul(&self, other: &Monomial<A>) -> Result<Monomial<A>, AlgebraError> {
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
    pub fn pow(&self, k: Exponent) -> Result<Monomial<A>, AlgebraError> {
        if k.is_zero() {
            return Ok(Monomial::one());
        }
        let factors = self
            .0
            .iter()
            .map(|(a, e)| {
                e.checked_mul(&k)
                    .map(|e| (a.clone(), e))
                    .ok_or(AlgebraError::ExponentTooLarge)
            })
            .collect::<Result<_, _>>()?;
        Ok(Monomial(factors))
    }

    /// The reciprocal monomial.
    pub fn inverse(&self) -> Result<Monomial<A>, AlgebraError> {
        self.pow(-Exponent::one())
    }

    /// The monomial with `atom`'s exponent replaced by `exponent`.
    pub fn with_exponent(&self, atom: &A, exponent: Exponent) -> Monomial<A> {
        let mut factors: Vec<_> = self.0.iter().filter(|(a, _)| a != atom).cloned().collect();
        if !exponent.is_zero() {
            let at = factors.partition_point(|(a, _)| a < atom);
            factors.insert(at, (atom.clone(), exponent));
        }
        Monomial(factors)
    }

    /// The lexicographic monomial order (the atom with the smallest id is
    /// the most significant): compatible with multiplication.
    pub fn lex_cmp(&self, other: &Monomial<A>) -> Ordering {
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
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Poly<A>(Vec<(Monomial<A>, BigRational)>);

impl<A: Atom> Poly<A> {
    /// The zero polynomial.
    pub fn zero() -> Poly<A> {
        Poly(Vec::new())
    }

    /// A constant.
    pub fn constant(c: BigRational) -> Poly<A> {
        Poly::term(Monomial::one(), c)
    }

    /// One term `c·m`.
    pub fn term(m: Monomial<A>, c: BigRational) -> Poly<A> {
        if c.is_zero() {
            Poly::zero()
        } else {
            Poly(vec![(m, c)])
        }
    }

    /// The sum of arbitrary terms (like terms combined, zeros dropped).
    pub fn from_terms(
        terms: impl IntoIterator<Item = (Monomial<A>, BigRational)>,
        meter: &Meter,
    ) -> Result<Poly<A>, AlgebraError> {
        let mut acc: MonomialMap<A, BigRational> = MonomialMap::default();
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

    fn from_map(acc: MonomialMap<A, BigRational>, meter: &Meter) -> Result<Poly<A>, AlgebraError> {
        let mut terms: Vec<_> = acc.into_iter().filter(|(_, c)| !c.is_zero()).collect();
        meter.check_terms(terms.len())?;
        terms.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Ok(Poly(terms))
    }

    /// The terms, sorted by monomial.
    pub fn terms(&self) -> &[(Monomial<A>, BigRational)] {
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
    pub fn single_term(&self) -> Option<(&Monomial<A>, &BigRational)> {
        match self.0.as_slice() {
            [(m, c)] => Some((m, c)),
            _ => None,
        }
    }

    /// The term that is largest in the lexicographic monomial order.
    pub fn leading(&self) -> Option<&(Monomial<A>, BigRational)> {
        self.0.iter().max_by(|a, b| a.0.lex_cmp(&b.0))
    }

    /// The sum of two polynomials.
    pub fn add(&self, other: &Poly<A>, meter: &Meter) -> Result<Poly<A>, AlgebraError> {
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
    pub fn scale(&self, c: &BigRational) -> Poly<A> {
        if c.is_zero() {
            return Poly::zero();
        }
        Poly(self.0.iter().map(|(m, d)| (m.clone(), d * c)).collect())
    }

    /// The negated polynomial.
    pub fn neg(&self) -> Poly<A> {
        Poly(self.0.iter().map(|(m, c)| (m.clone(), -c)).collect())
    }

    /// Every term multiplied by `c·m` (order is kept: multiplying by one
    /// monomial is injective, but may change the sort order, so it sorts).
    pub fn mul_term(&self, m: &Monomial<A>, c: &BigRational) -> Result<Poly<A>, AlgebraError> {
        if c.is_zero() {
            return Ok(Poly::zero());
        }
        let mut terms = self
            .0
            .iter()
            .map(|(n, d)| Ok((n.mul(m)?, d * c)))
            .collect::<Result<Vec<_>, AlgebraError>>()?;
        terms.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Ok(Poly(terms))
    }

    /// The product of two polynomials.
    pub fn mul(&self, other: &Poly<A>, meter: &Meter) -> Result<Poly<A>, AlgebraError> {
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
        let mut acc: MonomialMap<A, BigRational> = MonomialMap::with_capacity_and_hasher(
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

impl<A: Atom> Poly<A> {
    /// The monomial `c` such that `self / c` has only nonnegative exponents
    /// and no atom common to every term: each atom to its smallest exponent
    /// over the terms, an absent atom counting as exponent 0.
    fn shift(&self) -> Monomial<A> {
        let mut atoms: Vec<&A> = self
            .0
            .iter()
            .flat_map(|(m, _)| m.0.iter().map(|(a, _)| a))
            .collect();
        atoms.sort();
        atoms.dedup();
        let exponent_in = |m: &Monomial<A>, a: &A| {
            m.0.iter()
                .find(|(b, _)| b == a)
                .map_or(Exponent::zero(), |(_, e)| *e)
        };
        let lowest = atoms
            .into_iter()
            .map(|a| {
                let e = self
                    .0
                    .iter()
                    .map(|(m, _)| exponent_in(m, a))
                    .min()
                    .unwrap_or_else(Exponent::zero);
                (a.clone(), e)
            })
            .filter(|(_, e)| !e.is_zero())
            .collect();
        Monomial::from_sorted(lowest)
    }

    /// True when every exponent of `m` is at least that of `d`.
    fn divisible_by(m: &Monomial<A>, d: &Monomial<A>) -> bool {
        d.0.iter().all(|(a, e)| {
            m.0.iter()
                .find(|(b, _)| b == a)
                .is_some_and(|(_, f)| f >= e)
        })
    }

    /// `self / d` when `d` divides `self` exactly (as polynomials, up to a
    /// monomial), else `None`.
    ///
    /// Terminates: every round removes the leading term of the remainder,
    /// and the remainder's leading monomial strictly decreases; each round
    /// is charged to the meter.
    pub fn div_exact(&self, d: &Poly<A>, meter: &Meter) -> Result<Option<Poly<A>>, AlgebraError> {
        if d.is_zero() {
            return Err(AlgebraError::DivisionByZero);
        }
        if self.is_zero() {
            return Ok(Some(Poly::zero()));
        }
        let (shift_p, shift_d) = (self.shift(), d.shift());
        let mut rest = self.mul_term(&shift_p.inverse()?, &BigRational::one())?;
        let divisor = d.mul_term(&shift_d.inverse()?, &BigRational::one())?;
        let Some((lead_m, lead_c)) = divisor.leading().cloned() else {
            return Err(AlgebraError::DivisionByZero);
        };
        let lead_inverse = lead_m.inverse()?;
        let mut quotient = Poly::zero();
        while let Some((m, c)) = rest.leading().cloned() {
            meter.charge(divisor.term_count() as u64)?;
            if !Poly::divisible_by(&m, &lead_m) {
                return Ok(None);
            }
            let t_m = m.mul(&lead_inverse)?;
            let t_c = &c / &lead_c;
            quotient = quotient.add(&Poly::term(t_m.clone(), t_c.clone()), meter)?;
            rest = rest.add(&divisor.mul_term(&t_m, &-t_c)?, meter)?;
        }
        let back = shift_p.mul(&shift_d.inverse()?)?;
        Ok(Some(quotient.mul_term(&back, &BigRational::one())?))
    }
}
