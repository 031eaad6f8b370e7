//! The `codegen` layer: a derivation as a self-contained Python module,
//! for NumPy or for JAX (`jax.numpy`, jit-compilable).
//!
//! Why: a derivative is used to compute something. The module defines
//! `derivatives(**variables)` (the value and every derivative, as arrays in
//! the layout of the README), `value(**variables)` and
//! `check_gradient(seed=0)`, which compares each derivative with central
//! finite differences of `value` along random directions at a random
//! sample. The derivatives come as a listing (their shared intermediates
//! named, see [`crate::readback::Listing`]) and are interned with the value
//! into one DAG ([`program`]), so every shared intermediate (a forward
//! value the reverse pass reuses) is computed once, and the code grows with
//! the number of distinct subexpressions, not with the printed size of the
//! results: no result is too large to generate.
//!
//! Invariant: an output layer beside `render`: it uses every layer before
//! the CLI and nothing uses it but the CLI; pure functions to strings;
//! whatever cannot be emitted faithfully is a [`CodegenError`], never
//! wrong code.

mod module;
mod names;
mod program;
mod python;
mod sample;

use std::collections::BTreeMap;

use crate::derive::Derivation;
use crate::numeric::Domain;
use crate::shape::ShapeError;
use crate::syntax::{Decls, Diagnostic};

/// The array library the module is written for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// NumPy.
    Numpy,
    /// JAX: `jax.numpy`, float64 enabled, no Python control flow on values,
    /// so `jax.jit(derivatives)` compiles.
    Jax,
}

impl Target {
    /// The module alias the array operations are called through.
    fn module(self) -> &'static str {
        match self {
            Target::Numpy => "np",
            Target::Jax => "jnp",
        }
    }

    /// The name used with `--format`.
    pub fn name(self) -> &'static str {
        match self {
            Target::Numpy => "numpy",
            Target::Jax => "jax",
        }
    }
}

/// What to generate.
#[derive(Clone, Debug)]
pub struct CodegenConfig {
    /// NumPy or JAX.
    pub target: Target,
    /// Sampling domains for `check_gradient` (`--domain`); variables not
    /// listed get a default that keeps the expression defined (see
    /// [`default_domains`]).
    pub domains: BTreeMap<String, Domain>,
    /// The declarations the derivation was made with (declared functions).
    pub decls: Decls,
    /// The command line, restated in the header when given.
    pub command: Option<String>,
}

impl CodegenConfig {
    /// NumPy or JAX with no domains, declarations or command line.
    pub fn new(target: Target) -> CodegenConfig {
        CodegenConfig {
            target,
            domains: BTreeMap::new(),
            decls: Decls::new(),
            command: None,
        }
    }
}

/// Why a module cannot be generated.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum CodegenError {
    /// An index-form result does not check again (a bug in matcalc).
    #[error(transparent)]
    Shape(#[from] ShapeError),
    /// A construct has no faithful translation.
    #[error("cannot generate code for {what}: {why}")]
    Unsupported {
        /// The construct, in the input syntax.
        what: String,
        /// Why.
        why: String,
    },
}

impl CodegenError {
    /// The error as a diagnostic.
    pub fn diagnostic(&self) -> Diagnostic {
        match self {
            CodegenError::Shape(e) => e.diagnostic(),
            CodegenError::Unsupported { .. } => Diagnostic::new(self.to_string()),
        }
    }
}

pub use sample::default_domains;

/// The Python module computing `d`'s value and derivatives.
///
/// ```
/// use matcalc::codegen::{python_module, CodegenConfig, Target};
/// use matcalc::{derive, DeriveConfig};
/// let config = DeriveConfig { wrt: vec!["x".into()], order: 1, ..Default::default() };
/// let d = derive("x'*A*x", &config).unwrap();
/// let code = python_module(&d, &CodegenConfig::new(Target::Numpy)).unwrap();
/// assert!(code.contains("def derivatives(**variables):"));
/// assert!(code.contains("def check_gradient(seed=0"));
/// ```
pub fn python_module(d: &Derivation, config: &CodegenConfig) -> Result<String, CodegenError> {
    module::python_module(d, config)
}

/// The module-level helpers a generated function may call, each emitted
/// once when used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Helper {
    Logdet,
    Sigmoid,
    Erf,
    Norm2,
    Softmax,
    Logsumexp,
    ValueAt,
    GradientAt,
    HessianAt,
}

impl Helper {
    fn name(self) -> &'static str {
        match self {
            Helper::Logdet => "_logdet",
            Helper::Sigmoid => "_sigmoid",
            Helper::Erf => "_erf",
            Helper::Norm2 => "_norm2",
            Helper::Softmax => "_softmax",
            Helper::Logsumexp => "_logsumexp",
            Helper::ValueAt => "_value_at",
            Helper::GradientAt => "_gradient_at",
            Helper::HessianAt => "_hessian_at",
        }
    }

    /// The definition, with `xp` standing for the array module.
    fn source(self) -> &'static str {
        match self {
            Helper::Logdet => {
                "def _logdet(a):\n    \"\"\"log(det(a)); NaN where det(a) <= 0.\"\"\"\n    \
                 sign, logabs = xp.linalg.slogdet(a)\n    return xp.where(sign > 0, logabs, xp.nan)\n"
            }
            Helper::Sigmoid => {
                "def _sigmoid(x):\n    \"\"\"1/(1 + exp(-x)), without overflow.\"\"\"\n    \
                 return 0.5 * (xp.tanh(0.5 * x) + 1.0)\n"
            }
            Helper::Erf => {
                "def _erf(x):\n    \"\"\"The error function, element-wise.\"\"\"\n    \
                 if xp.__name__.startswith(\"jax\"):\n        \
                 from jax.scipy.special import erf\n        return erf(x)\n    \
                 import math\n    return xp.vectorize(math.erf, otypes=[float])(x)\n"
            }
            Helper::Norm2 => {
                "def _norm2(x):\n    \"\"\"The Euclidean (Frobenius) norm.\"\"\"\n    \
                 return xp.sqrt(xp.sum(x * x))\n"
            }
            Helper::Softmax => {
                "def _softmax(x):\n    \"\"\"exp(x)/sum(exp(x)), shifted by max(x).\"\"\"\n    \
                 e = xp.exp(x - xp.max(x))\n    return e / xp.sum(e)\n"
            }
            Helper::Logsumexp => {
                "def _logsumexp(x):\n    \"\"\"log(sum(exp(x))), shifted by max(x).\"\"\"\n    \
                 m = xp.max(x)\n    return m + xp.log(xp.sum(xp.exp(x - m)))\n"
            }
            Helper::ValueAt => {
                "def _value_at(f, y, layout):\n    \
                 \"\"\"An abstract function's value at y: given, or f called on y in its layout.\"\"\"\n    \
                 if not callable(f):\n        return f\n    \
                 return xp.reshape(xp.asarray(f(xp.reshape(y, layout)), dtype=float), ())\n"
            }
            Helper::GradientAt => {
                "def _gradient_at(g, y, layout):\n    \
                 \"\"\"An abstract function's gradient at y: given, or g called on y in its layout.\"\"\"\n    \
                 if not callable(g):\n        return g\n    \
                 return xp.reshape(xp.asarray(g(xp.reshape(y, layout)), dtype=float), xp.shape(y))\n"
            }
            Helper::HessianAt => {
                "def _hessian_at(h, y, layout):\n    \
                 \"\"\"An abstract function's Hessian at the column (or scalar) y: given, or h called on y in its layout.\"\"\"\n    \
                 if not callable(h):\n        return h\n    \
                 n = xp.size(y)\n    \
                 return xp.reshape(xp.asarray(h(xp.reshape(y, layout)), dtype=float), (n, n))\n"
            }
        }
    }
}
