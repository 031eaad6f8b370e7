//! matcalc: symbolic matrix calculus.
#![warn(missing_docs)]

pub mod syntax;
