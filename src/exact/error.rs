//! [`ExactError`]: everything that can stop an exact expansion or
//! verification. Each variant carries the span of the offending text where
//! there is one ([`Span::NONE`] otherwise). Running out of the term or work
//! budget is an error here; [`verify`](super::verify) turns it into an
//! honest "not checked exactly" verdict.

use crate::algebra::AlgebraError;
use crate::numeric::Size;
use crate::syntax::{Diagnostic, Span};

/// Why an exact expansion or verification could not be carried out.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ExactError {
    /// A name with no entries bound to it.
    #[error("unknown variable `{name}`")]
    UnknownVariable {
        /// The name.
        name: String,
        /// Where it is used.
        span: Span,
    },
    /// A symbolic dimension such as `n` with no concrete size.
    #[error("the dimension `{name}` has no concrete size")]
    UnknownDimension {
        /// The dimension's name.
        name: String,
        /// Where it is used.
        span: Span,
    },
    /// Two operands whose shapes do not fit the operator.
    #[error("`{op}` cannot combine a {left} value with a {right} value")]
    ShapeMismatch {
        /// The operator as written.
        op: &'static str,
        /// The left operand's size.
        left: Size,
        /// The right operand's size.
        right: Size,
        /// The whole operation.
        span: Span,
    },
    /// A function applied to an argument of the wrong shape.
    #[error("`{func}` needs {need}, but its argument is {size}")]
    BadArgument {
        /// The function's name.
        func: &'static str,
        /// What it needs, in words.
        need: &'static str,
        /// What it got.
        size: Size,
        /// The call.
        span: Span,
    },
    /// A function applied to a constant outside its domain (`log(0)`,
    /// `sqrt(-1)`, a negative base with a fractional power).
    #[error("`{func}` is not real-valued at this constant argument")]
    OutsideDomain {
        /// The function's name.
        func: &'static str,
        /// The call.
        span: Span,
    },
    /// `inv` of a matrix whose determinant is exactly zero.
    #[error("the determinant is exactly zero, so the inverse does not exist")]
    Singular {
        /// The call.
        span: Span,
    },
    /// A division by an expression that is exactly zero.
    #[error("division by an expression that is exactly zero")]
    DivisionByZero {
        /// The division.
        span: Span,
    },
    /// A number literal that is not finite.
    #[error("the number {value} is not finite")]
    BadNumber {
        /// The literal's value.
        value: f64,
        /// The literal.
        span: Span,
    },
    /// A `vector(c)` or `matrix(c)` whose size the context does not fix.
    #[error("the size of this constant cannot be inferred here; write ones(n) or ones(n, m)")]
    SizeNotInferred {
        /// The constant.
        span: Span,
    },
    /// Index notation used in a plain matrix expression.
    #[error("index notation is only allowed in an index form `G[i,j] = …`")]
    IndexOutsideIndexForm {
        /// The indexing, `delta` or `sum[...]`.
        span: Span,
    },
    /// Indexing with the wrong number of indices for the value.
    #[error("a {size} value cannot be indexed with {count} index(es)")]
    IndexArity {
        /// The value's size.
        size: Size,
        /// How many indices were given.
        count: usize,
        /// The indexing.
        span: Span,
    },
    /// One index used for axes of different lengths.
    #[error("the index `{index}` runs over {first} values in one place and {second} in another")]
    IndexDimConflict {
        /// The index.
        index: String,
        /// One length.
        first: usize,
        /// The other length.
        second: usize,
        /// Where the second was found.
        span: Span,
    },
    /// An index whose range nothing determines.
    #[error("the range of the index `{index}` is not determined by any indexed value")]
    IndexDimUnknown {
        /// The index.
        index: String,
        /// Where it occurs.
        span: Span,
    },
    /// An index that is neither on the left-hand side nor summed.
    #[error("the index `{index}` is neither on the left-hand side nor summed")]
    UnboundIndex {
        /// The index.
        index: String,
        /// The index form's body.
        span: Span,
    },
    /// An index occurring three or more times in a product outside `sum[...]`.
    #[error("the index `{index}` occurs {count} times in one product; use sum[{index}](…)")]
    IndexRepeated {
        /// The index.
        index: String,
        /// How often it occurs.
        count: usize,
        /// The product.
        span: Span,
    },
    /// A function that is not element-wise applied to index notation.
    #[error("`{func}` applies to whole matrices, not to indexed entries")]
    NotElementwise {
        /// The function or operator.
        func: String,
        /// The call.
        span: Span,
    },
    /// A bare `dL` whose argument is not known or not unique.
    #[error("the bare gradient `d{name}` needs exactly one `{name}(…)` call in the differentiated expression; write d{name}(E)")]
    AmbiguousGradient {
        /// The function's name.
        name: String,
        /// The gradient.
        span: Span,
    },
    /// An abstract function called with other than one argument.
    #[error("the abstract function `{name}` takes one argument, but was given {count}")]
    AbstractArity {
        /// The function's name.
        name: String,
        /// How many arguments it was given.
        count: usize,
        /// The call.
        span: Span,
    },
    /// A derivative of a gradient entry of an abstract function: it would
    /// need the opaque second derivative (`d2L`), which the exact layer
    /// does not have (the numeric check confirms such results).
    #[error("the derivative of a gradient entry of `{name}` needs its second derivative d2{name}, which the exact check does not have")]
    SecondDerivative {
        /// The abstract function's name.
        name: String,
    },
    /// A value the exact normal form cannot write (a transcendental
    /// constant such as π): the exact check cannot decide, and says so.
    #[error("{what} has no exact form here")]
    NoExactForm {
        /// What it is.
        what: &'static str,
    },
    /// A problem description that does not make sense (an unknown `wrt`,
    /// a variable without dims).
    #[error("{message}")]
    BadProblem {
        /// What is wrong.
        message: String,
    },
    /// The exact algebra went over a budget or an exponent grew too large
    /// (a division by zero is [`ExactError::DivisionByZero`]).
    #[error(transparent)]
    Algebra(AlgebraError),
}

impl ExactError {
    /// The main span of the error ([`Span::NONE`] when it has none).
    pub fn span(&self) -> Span {
        match self {
            ExactError::UnknownVariable { span, .. }
            | ExactError::UnknownDimension { span, .. }
            | ExactError::ShapeMismatch { span, .. }
            | ExactError::BadArgument { span, .. }
            | ExactError::OutsideDomain { span, .. }
            | ExactError::Singular { span }
            | ExactError::DivisionByZero { span }
            | ExactError::BadNumber { span, .. }
            | ExactError::SizeNotInferred { span }
            | ExactError::IndexOutsideIndexForm { span }
            | ExactError::IndexArity { span, .. }
            | ExactError::IndexDimConflict { span, .. }
            | ExactError::IndexDimUnknown { span, .. }
            | ExactError::UnboundIndex { span, .. }
            | ExactError::IndexRepeated { span, .. }
            | ExactError::NotElementwise { span, .. }
            | ExactError::AmbiguousGradient { span, .. }
            | ExactError::AbstractArity { span, .. } => *span,
            ExactError::SecondDerivative { .. }
            | ExactError::NoExactForm { .. }
            | ExactError::BadProblem { .. }
            | ExactError::Algebra(_) => Span::NONE,
        }
    }

    /// True when the error only says that the expansion grew too large,
    /// that the normal form cannot write a value, or that it would need the
    /// second derivative of an abstract function: the exact check is
    /// undecided, not failed.
    pub fn is_budget(&self) -> bool {
        matches!(
            self,
            ExactError::Algebra(_)
                | ExactError::NoExactForm { .. }
                | ExactError::SecondDerivative { .. }
        )
    }

    /// The error with `span` filled in where arithmetic left it empty.
    pub(super) fn at(self, span: Span) -> ExactError {
        match self {
            ExactError::DivisionByZero { span: s } if s == Span::NONE => {
                ExactError::DivisionByZero { span }
            }
            ExactError::OutsideDomain { func, span: s } if s == Span::NONE => {
                ExactError::OutsideDomain { func, span }
            }
            other => other,
        }
    }

    /// The error as a diagnostic with a caret under the offending text.
    pub fn diagnostic(&self) -> Diagnostic {
        Diagnostic::new(self.to_string()).with_label(self.span(), "")
    }
}

impl From<AlgebraError> for ExactError {
    fn from(e: AlgebraError) -> ExactError {
        match e {
            AlgebraError::DivisionByZero => ExactError::DivisionByZero { span: Span::NONE },
            other => ExactError::Algebra(other),
        }
    }
}
