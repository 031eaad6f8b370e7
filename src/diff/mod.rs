//! The `diff` layer: differentiation in index form.
//!
//! [`partial`] gives each operation's local derivative `∂node[out]/∂child[at]`
//! in index notation (product rule on the lowered form, chain rule through
//! known derivatives); [`Differentiator`] composes them over the shared DAG in
//! reverse mode (gradients) and forward mode (Jacobians, Hessians), raising
//! each step back to matrix form. Invariant: imports only `syntax` and
//! `index`; never prints.

mod modes;
mod partial;

pub use modes::{Differentiator, Step};
pub use partial::{elementwise_derivative, partial, DiffError};
