//! The `numeric` layer: evaluation of any formula in f64 on ndarray values,
//! random samples by domain, finite-difference derivatives in the corpus
//! layout, and the check of a claimed derivative against them.
//!
//! Why: every symbolic result of the later layers is confirmed here on
//! random data, so this layer must be independent of them and exact about
//! layouts. Invariant: it imports only `syntax` (formulas arrive parsed, with
//! or without elaboration by the shape layer); it never prints and never
//! panics on user input, and every array and every evaluation stays within
//! the limits of `limits` ([`MAX_ENTRIES`], [`MAX_WORK`], [`MAX_CHECK_WORK`]).
//! Inverse and determinant come from nalgebra.

mod cases;
mod check;
mod domain;
mod error;
mod eval;
mod fd;
mod index;
mod limits;
mod linalg;
mod literal;
mod loss;
mod rng;

pub use cases::{check_cases, Case, CaseVerdict, Wrt};
pub use check::{
    check, relative_error, relative_error_above, CheckConfig, CheckReport, Method, Problem,
    SampleReport, Verdict, AUTO_DIRECTIONS, KINK_MARGIN, ZERO_SCALE,
};
pub use domain::{draw_sample, parse_domains, Domain, MAX_CONDITION, REDRAW_WORK};
pub use error::{EvalError, Size};
pub use eval::{erf, evaluate, evaluate_expr, Bindings, Evaluation, Value};
pub use fd::{
    bounded_difference, bounded_directional, directional_difference, finite_difference,
    layout_dims, relative_step, to_layout, Difference, Sampled, ROUNDING_ULPS,
};
pub use limits::{Budget, INDEX_ENTRY_WORK, MAX_CHECK_WORK, MAX_ENTRIES, MAX_WORK};
pub use literal::parse_values;
pub use loss::Loss;
pub use rng::{derive_seed, Rng};
