//! Why a node cannot be built: [`GraphError`], with the engine's limits
//! ([`Limit`]) and the operations undefined everywhere ([`Undefined`]) as
//! data, worded only when displayed.

use crate::algebra::AlgebraError;
use crate::syntax::{DimSpec, Func};

/// Why a node cannot be built or imported.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum GraphError {
    /// The expression holds a construct the engine does not differentiate
    /// (index notation, a gradient with several arguments).
    #[error("{what} cannot be differentiated; give a matrix expression")]
    NotDifferentiable {
        /// The construct, in words.
        what: &'static str,
    },
    /// A variable reached the engine without a shape.
    #[error("the shape of `{name}` is unknown")]
    UnknownShape {
        /// The variable.
        name: String,
    },
    /// A `vector(…)` reached the engine without a size.
    #[error("the size of vector(…) was not inferred")]
    UnsizedFill,
    /// An abstract function applied to other than one argument.
    #[error("`{name}` must be applied to exactly one argument")]
    Arity {
        /// The function.
        name: String,
    },
    /// A bare gradient `dL` whose argument cannot be told.
    #[error("`d{name}` is ambiguous here: write d{name}(E) with the argument")]
    AmbiguousGradient {
        /// The abstract function.
        name: String,
    },
    /// A differential under a non-linear operation, which has no entry-wise
    /// writing.
    #[error("a non-linear operation of a differential cannot be written entry-wise")]
    NonlinearDifferential,
    /// A literal too large to be a number (`1e999`).
    #[error("a number literal is out of range")]
    NotFinite,
    /// Operand shapes do not fit (an engine bug if the input was shape-checked).
    #[error("internal shape mismatch: {0}")]
    Shape(String),
    /// The work would go over one of the engine's limits.
    #[error("{0}")]
    Limit(Limit),
    /// The value is undefined wherever it is evaluated (the logarithm of a
    /// zero, the inverse of a matrix singular by its shapes, a division by
    /// zero).
    #[error("{0}")]
    Undefined(Undefined),
}

/// One of the engine's limits, which a piece of work would exceed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Limit {
    /// The simplifier's budget of steps.
    #[error("simplification would take more than {max} steps, the simplifier's step budget")]
    SimplifySteps {
        /// The budget.
        max: usize,
    },
    /// The index layer's budget of terms and factors.
    #[error(
        "writing the derivative in index notation would take more than {max} terms and \
         factors, the limit of the index layer"
    )]
    IndexTerms {
        /// The budget.
        max: usize,
    },
    /// The size of a written result.
    #[error(
        "the result would have {} nodes written out, more than the limit of {max} nodes on a \
         written result",
        match nodes { Some(n) => n.to_string(), None => format!("more than {}", usize::MAX) }
    )]
    WrittenNodes {
        /// The written size, `None` past `usize::MAX`.
        nodes: Option<usize>,
        /// The limit.
        max: usize,
    },
    /// The exact algebra of an element-wise region.
    #[error("{0}")]
    Algebra(AlgebraError),
}

/// An operation undefined at every point: which operation, of what, and why.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{operation} {operand} is undefined: {reason}")]
pub struct Undefined {
    /// The operation.
    pub operation: Operation,
    /// The operand, quoted as written (or described by its shape).
    pub operand: String,
    /// Why it is undefined everywhere.
    pub reason: Reason,
}

/// An operation that can be undefined everywhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// `log(u)`.
    Log,
    /// `a / b`.
    Division,
    /// `A ./ B`.
    ElementwiseDivision,
    /// `u^k` with `k < 0`.
    NegativePower,
    /// A matrix function (`inv`, `logdet`).
    Call(Func),
}

impl std::fmt::Display for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Operation::Log => write!(f, "the logarithm of"),
            Operation::Division => write!(f, "division by"),
            Operation::ElementwiseDivision => write!(f, "element-wise division by"),
            Operation::NegativePower => write!(f, "a negative power of"),
            Operation::Call(func) => write!(f, "`{}` of", func.name()),
        }
    }
}

/// Why an operand makes its operation undefined everywhere.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    /// The operand is zero.
    Zero,
    /// The identity as a divisor: its entries off the diagonal are zero.
    ZeroOffTheDiagonal,
    /// An n×n matrix of rank at most `rank < n` by its shapes.
    Singular {
        /// Its size.
        n: DimSpec,
        /// The rank bound.
        rank: usize,
    },
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::Zero | Reason::Singular { rank: 0, .. } => write!(f, "it is zero everywhere"),
            Reason::ZeroOffTheDiagonal => write!(f, "its entries off the diagonal are zero"),
            Reason::Singular { n, rank } => write!(
                f,
                "it is {n}×{n} but of rank at most {rank} by its shapes, so it is singular \
                 everywhere"
            ),
        }
    }
}
