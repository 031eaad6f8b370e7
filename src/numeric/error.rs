//! [`EvalError`]: everything that can go wrong when evaluating, sampling,
//! differencing or checking. Each variant carries the span of the offending
//! text where there is one ([`Span::NONE`] otherwise).

use super::limits::Budget;
use crate::syntax::{Diagnostic, ParseError, Span};

/// Rows × columns of a matrix value, for messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size(pub usize, pub usize);

impl std::fmt::Display for Size {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}×{}", self.0, self.1)
    }
}

/// Why an expression could not be evaluated or checked.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum EvalError {
    /// A name with no value bound to it.
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
    /// `inv` of a singular matrix.
    #[error("the matrix is singular, so its inverse does not exist")]
    Singular {
        /// The call.
        span: Span,
    },
    /// `logdet` of a matrix whose determinant is not positive.
    #[error("`logdet` needs a positive determinant, but it is {det}")]
    NonPositiveDeterminant {
        /// The determinant found.
        det: f64,
        /// The call.
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
    /// An abstract function evaluated without a concrete instantiation.
    #[error("the abstract function `{name}` has no concrete instantiation here")]
    NoInstantiation {
        /// The function's name.
        name: String,
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
    #[error(
        "the abstract function `{name}` is instantiated for one argument, but was given {count}"
    )]
    AbstractArity {
        /// The function's name.
        name: String,
        /// How many arguments it was given.
        count: usize,
        /// The call.
        span: Span,
    },
    /// A sampling domain that does not fit the variable's shape.
    #[error("the domain `{domain}` does not fit `{var}`, which is {dims}")]
    DomainShape {
        /// The variable.
        var: String,
        /// The domain's name.
        domain: &'static str,
        /// The variable's dims in words.
        dims: String,
    },
    /// Every attempt to draw a usable sample failed.
    #[error("no usable sample after {attempts} attempts (seed {seed}): {reason}")]
    NoValidSample {
        /// The seed.
        seed: u64,
        /// How many samples were drawn.
        attempts: usize,
        /// Why the last one was rejected.
        reason: String,
    },
    /// A problem description that does not make sense (an unknown `wrt`, a
    /// missing variable shape, an order that does not match).
    #[error("{message}")]
    BadProblem {
        /// What is wrong.
        message: String,
    },
    /// Malformed text in a value literal or domain list.
    #[error("{message}")]
    Syntax {
        /// What is wrong.
        message: String,
        /// Where, in that text.
        span: Span,
    },
    /// An array with more entries than [`MAX_ENTRIES`](super::MAX_ENTRIES).
    #[error(
        "numeric evaluation is limited to {limit} entries per array; {what} would be {} ({} entries)",
        dims_text(dims),
        entries_text(dims)
    )]
    TooLarge {
        /// The array, in words ("this product", "the sample of `A`").
        what: String,
        /// Its dims.
        dims: Vec<usize>,
        /// The limit.
        limit: usize,
        /// The subexpression that would build it ([`Span::NONE`] for a sample).
        span: Span,
    },
    /// Estimated work beyond a budget ([`MAX_WORK`](super::MAX_WORK) for one
    /// evaluation or sample, [`MAX_CHECK_WORK`](super::MAX_CHECK_WORK) for a
    /// check).
    #[error(
        "{} is limited to {} operations (estimated); {what} would bring it to about {work:.1e}",
        budget.scope(),
        budget.limit()
    )]
    TooMuchWork {
        /// The work, in words.
        what: String,
        /// The estimated operations, counting what was spent before.
        work: f64,
        /// Which budget it goes over.
        budget: Budget,
        /// The subexpression that would do it ([`Span::NONE`] outside one).
        span: Span,
    },
    /// A formula that does not parse.
    #[error(transparent)]
    Parse(#[from] ParseError),
}

/// Dims as `30×30×30`.
fn dims_text(dims: &[usize]) -> String {
    let parts: Vec<String> = dims.iter().map(usize::to_string).collect();
    parts.join("×")
}

/// The entry count of `dims`, exact when it fits in 64 bits.
fn entries_text(dims: &[usize]) -> String {
    match super::limits::entry_count(dims) {
        Some(n) => n.to_string(),
        None => format!(
            "about {:.1e}",
            dims.iter().map(|&d| d as f64).product::<f64>()
        ),
    }
}

impl EvalError {
    /// True for the errors of [`MAX_ENTRIES`](super::MAX_ENTRIES),
    /// [`MAX_WORK`](super::MAX_WORK) and
    /// [`MAX_CHECK_WORK`](super::MAX_CHECK_WORK).
    pub fn is_limit(&self) -> bool {
        matches!(
            self,
            EvalError::TooLarge { .. } | EvalError::TooMuchWork { .. }
        )
    }

    /// The main span of the error ([`Span::NONE`] when it has none).
    pub fn span(&self) -> Span {
        match self {
            EvalError::UnknownVariable { span, .. }
            | EvalError::UnknownDimension { span, .. }
            | EvalError::ShapeMismatch { span, .. }
            | EvalError::BadArgument { span, .. }
            | EvalError::Singular { span }
            | EvalError::NonPositiveDeterminant { span, .. }
            | EvalError::SizeNotInferred { span }
            | EvalError::IndexOutsideIndexForm { span }
            | EvalError::IndexArity { span, .. }
            | EvalError::IndexDimConflict { span, .. }
            | EvalError::IndexDimUnknown { span, .. }
            | EvalError::UnboundIndex { span, .. }
            | EvalError::IndexRepeated { span, .. }
            | EvalError::NotElementwise { span, .. }
            | EvalError::NoInstantiation { span, .. }
            | EvalError::AmbiguousGradient { span, .. }
            | EvalError::AbstractArity { span, .. }
            | EvalError::Syntax { span, .. }
            | EvalError::TooLarge { span, .. }
            | EvalError::TooMuchWork { span, .. } => *span,
            EvalError::Parse(e) => e.span(),
            EvalError::DomainShape { .. }
            | EvalError::NoValidSample { .. }
            | EvalError::BadProblem { .. } => Span::NONE,
        }
    }

    /// The error as a diagnostic with a caret under the offending text.
    pub fn diagnostic(&self) -> Diagnostic {
        match self {
            EvalError::Parse(e) => e.diagnostic(),
            _ if self.span() == Span::NONE => Diagnostic::new(self.to_string()),
            _ => Diagnostic::new(self.to_string()).with_label(self.span(), ""),
        }
    }
}
