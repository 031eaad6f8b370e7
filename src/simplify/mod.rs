//! The `simplify` layer: canonical forms of matrix expressions.
//!
//! Transposes pushed into products, numbers folded into coefficients, like
//! terms collected, common factors pulled out, and per term the writing with
//! fewer transposes. Invariant: imports only `syntax` and `index`; every
//! rewrite is an identity of matrix algebra (the numeric tests check it).

mod normal;

pub use normal::{Normalizer, MAX_NORMALIZE_STEPS};
