//! matcalc: symbolic matrix calculus.
#![warn(missing_docs)]

pub mod diff;
pub mod exact;
pub mod index;
pub mod numeric;
pub mod simplify;
pub mod syntax;
