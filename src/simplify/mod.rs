//! The `simplify` layer: canonical forms of matrix expressions and the
//! laws of matrix algebra a person uses.
//!
//! Three parts. The canonical form ([`Normalizer`]) reads a node as a sum
//! of terms with exact rational coefficients: transposes pushed into
//! products, like terms collected, common left and right factors pulled
//! out, per term the writing with fewer transposes; element-wise regions
//! (`+ − .* ./ .^k` over one shape) are read as rational functions of the
//! `algebra` layer, where powers merge and common factors cancel. The rule
//! table ([`RULES`]) holds the laws that are not about sums and products
//! (`tr(A·B) = tr(B·A)`, `det(Aᵀ) = det(A)`, `log(exp(u)) = u`, …), each
//! named and with its termination argument. The driver ([`simplify`])
//! alternates the two to a fixed point under explicit [`Limits`], says why
//! it stopped ([`StopReason`]) and records every change ([`RuleStep`]).
//!
//! Assumptions ([`Assumptions`]) are facts read off the variables'
//! declared domains (`T: onehot` — its rows sum to 1); rules that use one
//! record it in their step, and the output says which were used.
//!
//! Invariant: imports only `syntax`, `algebra`, `numeric` (the domains'
//! names) and `index`; every rewrite is an identity of matrix algebra, or
//! of the value on the declared domains when it records an assumption (the
//! numeric tests check each one); cancelling a factor assumes it non-zero,
//! as every computer-algebra system does.

mod assume;
mod assumed;
mod driver;
mod elementwise;
mod normal;
mod rules;

pub use assume::{Assumptions, Fact, Used};
pub use driver::{simplify, Limits, RuleStep, Simplified, StopReason, CANONICAL_FORM};
pub use normal::{Normalizer, MAX_NORMALIZE_STEPS};
pub use rules::{rule, Rule, RULES};
