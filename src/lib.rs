//! matcalc: symbolic matrix calculus.
//!
//! A student reads the affine layer `Y = X·W + B` and wants ∂L/∂X derived,
//! not asserted. matcalc writes every entry in index notation,
//! differentiates entry by entry, contracts the Kronecker deltas and
//! recognises the remaining sums as matrix products again:
//!
//! ```
//! use matcalc::{derive, DeriveConfig, syntax::to_expr_string};
//! let config = DeriveConfig { wrt: vec!["X".into(), "W".into(), "B".into()], order: 1, ..Default::default() };
//! let d = derive("L(X*W + B)", &config).unwrap();
//! let results: Vec<String> = d.derivatives.iter().map(|r| to_expr_string(r.formula())).collect();
//! assert_eq!(results, ["dL*W'", "X'*dL", "dL"]);
//! ```
//!
//! The layers, each importing only those before it: [`syntax`] (grammar,
//! AST, printers, diagnostics), [`shape`] (dimensions and broadcasting),
//! [`numeric`] (evaluation and finite-difference checks), [`index`] (the
//! index-notation IR over a shared DAG), [`diff`] (differentiation in index
//! form), [`simplify`] (canonical forms), [`derive`] (the pipeline),
//! [`render`] and [`batch`] (output).
#![warn(missing_docs)]

pub mod algebra;
pub mod backprop;
pub mod batch;
pub mod cas;
pub mod codegen;
pub mod confirm;
pub mod derive;
pub mod diff;
pub mod exact;
pub mod index;
pub mod numeric;
pub mod proof;
pub mod readback;
pub mod render;
pub mod shape;
pub mod simplify;
pub mod syntax;

pub use derive::{derive, Derivation, DeriveConfig, Form};
pub use syntax::{parse_formula as parse, Formula};
