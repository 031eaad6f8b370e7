//! The `algebra` layer: exact rational coefficients, Laurent polynomials
//! and factored rational functions over interned atoms.
//!
//! One algebra serves two layers: the `exact` check builds every entry of a
//! concrete-size expression as a rational function over entry symbols, and
//! the simplifier reads element-wise regions of a matrix expression as
//! rational functions over the DAG nodes it cannot look into. Both need the
//! same things: coefficients that are exact (`0.1` is 1/10, never an f64),
//! like terms that collect, powers that merge and common factors that
//! cancel.
//!
//! Invariant: imports only `syntax` (for numbers and spans, none at
//! present); every polynomial operation is charged to a [`Meter`] and fails
//! with [`AlgebraError`] instead of growing without bound; nothing here
//! panics on any input.

mod coeff;
mod error;
mod meter;
mod poly;
mod ratfun;

use std::fmt::Debug;
use std::hash::Hash;

pub use coeff::{decimal_of_f64, exact_sqrt, f64_of, integer, short_decimal, Rational};
pub use error::AlgebraError;
pub use meter::{Budget, Meter};
pub use poly::{Exponent, Monomial, Poly};
pub use ratfun::{split_factor, Factors, Plain, RatFun, Reduce};

/// An indeterminate of the algebra: compared, ordered and hashed by a
/// stable identity. The order decides which term leads a polynomial, so it
/// must not depend on how the atoms happened to be built.
pub trait Atom: Clone + Debug + Eq + Ord + Hash {
    /// A word that identifies the atom for hashing (its id).
    fn hash_word(&self) -> u64;
}
