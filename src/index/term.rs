//! Index notation over the graph: a [`Tensor`] is a sum of [`Term`]s, each a
//! coefficient times a product of indexed factors (`X[i,k]`, `δ[i,a]`), with
//! its summed (dummy) indices listed.
//!
//! Factors are multilinear: anything non-linear (`exp(X)`, `inv(X)`) is an
//! opaque graph node whose entries are read with [`Factor::Entry`].

use std::collections::BTreeMap;

use num_traits::{One, Zero};

use super::graph::{is_one, Dims, Id};
use crate::algebra::Rational;
use crate::syntax::DimSpec;

/// An index variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ix(pub u32);

/// One indexed factor of a term.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Factor {
    /// Entry of a node: two indices for a matrix, one for a vector (column or
    /// row), none for a scalar.
    Entry(Id, Vec<Ix>),
    /// The Kronecker delta.
    Delta(Ix, Ix),
}

/// The entry `id[ixs]` read on the node under a transpose: `X'[i,j]` is
/// `X[j,i]` and `x'[i]` is `x[i]`; any other node as it is.
pub fn untransposed(graph: &super::Graph, id: Id, ixs: &[Ix]) -> (Id, Vec<Ix>) {
    match (graph.node(id), ixs) {
        (super::Node::T(inner), [a, b]) => (*inner, vec![*b, *a]),
        (super::Node::T(inner), [a]) => (*inner, vec![*a]),
        _ => (id, ixs.to_vec()),
    }
}

/// `coeff · Π factors`, summed over `sums`.
#[derive(Clone, Debug, PartialEq)]
pub struct Term {
    /// The numeric coefficient.
    pub coeff: Rational,
    /// The indexed factors.
    pub factors: Vec<Factor>,
    /// The dummy indices summed over.
    pub sums: Vec<Ix>,
}

impl Term {
    /// A term with coefficient 1 and no factor.
    pub fn one() -> Term {
        Term {
            coeff: Rational::one(),
            factors: Vec::new(),
            sums: Vec::new(),
        }
    }

    /// The product of two terms (their dummies must be distinct).
    pub fn times(&self, other: &Term) -> Term {
        Term {
            coeff: &self.coeff * &other.coeff,
            factors: self.factors.iter().chain(&other.factors).cloned().collect(),
            sums: self.sums.iter().chain(&other.sums).copied().collect(),
        }
    }

    /// Renames index `from` to `to` everywhere in the term.
    pub fn rename(&mut self, from: Ix, to: Ix) {
        let swap = |i: &mut Ix| {
            if *i == from {
                *i = to;
            }
        };
        for f in &mut self.factors {
            match f {
                Factor::Entry(_, ixs) => ixs.iter_mut().for_each(swap),
                Factor::Delta(a, b) => {
                    swap(a);
                    swap(b);
                }
            }
        }
        self.sums.iter_mut().for_each(swap);
    }

    /// How often `ix` occurs among the factors.
    pub fn occurrences(&self, ix: Ix) -> usize {
        self.factors
            .iter()
            .map(|f| match f {
                Factor::Entry(_, ixs) => ixs.iter().filter(|&&i| i == ix).count(),
                Factor::Delta(a, b) => usize::from(*a == ix) + usize::from(*b == ix),
            })
            .sum()
    }
}

/// A sum of terms.
pub type Tensor = Vec<Term>;

/// Fresh index variables and the dimension each ranges over.
#[derive(Clone, Debug, Default)]
pub struct IndexSpace {
    dims: Vec<DimSpec>,
}

impl IndexSpace {
    /// No indices yet.
    pub fn new() -> IndexSpace {
        IndexSpace::default()
    }

    /// A new index over `dim`.
    pub fn fresh(&mut self, dim: DimSpec) -> Ix {
        self.dims.push(dim);
        Ix(u32::try_from(self.dims.len() - 1).expect("fewer than 2^32 indices"))
    }

    /// The dimension an index ranges over.
    pub fn dim(&self, ix: Ix) -> &DimSpec {
        &self.dims[ix.0 as usize]
    }

    /// Fresh indices for the entries of a value of `dims` (none for 1-dims).
    pub fn fresh_for(&mut self, dims: &Dims) -> Vec<Ix> {
        dims.iter()
            .filter(|d| !is_one(d))
            .map(|d| self.fresh(d.clone()))
            .collect()
    }
}

/// Splits compact indices (one per non-1 dim) into (row, column) slots.
pub fn slots(dims: &Dims, ixs: &[Ix]) -> (Option<Ix>, Option<Ix>) {
    let mut it = ixs.iter().copied();
    let row = if is_one(&dims[0]) { None } else { it.next() };
    let col = if is_one(&dims[1]) { None } else { it.next() };
    (row, col)
}

/// Joins (row, column) slots back into compact indices for `dims`.
pub fn compact(dims: &Dims, row: Option<Ix>, col: Option<Ix>) -> Vec<Ix> {
    let mut out = Vec::new();
    if !is_one(&dims[0]) {
        out.extend(row);
    }
    if !is_one(&dims[1]) {
        out.extend(col);
    }
    out
}

/// `-t`: every coefficient negated.
pub fn negated(mut t: Tensor) -> Tensor {
    for term in &mut t {
        term.coeff = -std::mem::take(&mut term.coeff);
    }
    t
}

/// Groups equal terms (same factors and dummies, after sorting factors) and
/// adds their coefficients; drops zero terms.
pub fn collect(tensor: Tensor) -> Tensor {
    let mut groups: BTreeMap<(Vec<Factor>, Vec<Ix>), Rational> = BTreeMap::new();
    let mut order = Vec::new();
    for mut term in tensor {
        term.factors.sort();
        term.sums.sort();
        let key = (term.factors, term.sums);
        if !groups.contains_key(&key) {
            order.push(key.clone());
        }
        *groups.entry(key).or_insert_with(Rational::zero) += term.coeff;
    }
    order
        .into_iter()
        .filter_map(|key| {
            let coeff = groups.remove(&key)?;
            (!coeff.is_zero()).then_some(Term {
                coeff,
                factors: key.0,
                sums: key.1,
            })
        })
        .collect()
}
