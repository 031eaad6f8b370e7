//! The `exact` layer: derivative formulas confirmed entry by entry in
//! exact rational arithmetic, for small concrete sizes (DESIGN.md, layer 7).
//!
//! Every entry of an expression becomes an exact [`Scalar`]: a rational
//! function with rational coefficients over atoms — the entry symbols
//! (`x₁₁`, `w₂₃`), opaque element-wise functions (`log`, `sin`, `tanh`,
//! `sigmoid`, `relu`, …) whose derivatives are again atoms, `exp` of single
//! terms (so `exp(a)·exp(−a) = 1`), fractional powers, and the abstract
//! loss `L[…]` with its partials `∂ᵢⱼL[…]`. `inv` and `det` expand by
//! cofactors, so they fit. The expression is differentiated entry-wise and
//! compared exactly with the claimed derivative evaluated entry-wise.
//!
//! Why: a numeric check can be fooled by a tolerance; an exact check for
//! small sizes is the blog-style proof ("X is 2×2, W is 2×3, ∂Y/∂x₁₁ = …")
//! made rigorous. Invariant: it uses only `syntax` and `numeric` (for the
//! problem description and sampling domains); it never prints and never
//! panics on user input; where the normal form cannot decide, or the term
//! budget runs out, it says so instead of guessing or running away.

mod atom;
mod context;
mod diff;
mod domain;
mod error;
mod eval;
mod index;
mod linalg;
mod poly;
mod print;
mod scalar;
mod sizes;
mod tensor;
mod verify;
mod witness;

pub use atom::{AtomKind, AtomRef};
pub use context::Context;
pub use error::ExactError;
pub use poly::{Budget, Exponent, Monomial, Poly};
pub use scalar::Scalar;
pub use sizes::{concrete_vars, shrink_sizes, smallest_sizes};
pub use tensor::Tensor;
pub use verify::{expand, verify, ExactVerdict, Session};
