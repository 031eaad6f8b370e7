//! The polynomials of the exact layer: the `algebra` layer's Laurent
//! polynomials over this layer's atoms.

use super::atom::AtomRef;
use crate::algebra;

pub use crate::algebra::{Budget, Exponent, Meter};

/// A product of atoms raised to nonzero exponents, sorted by atom.
pub type Monomial = algebra::Monomial<AtomRef>;

/// A Laurent polynomial with exact rational coefficients over atoms.
pub type Poly = algebra::Poly<AtomRef>;
