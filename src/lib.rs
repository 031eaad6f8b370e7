//! matcalc: symbolic matrix calculus.
#![warn(missing_docs)]

pub mod numeric;
pub mod syntax;
pub mod index;
pub mod diff;
pub mod simplify;
