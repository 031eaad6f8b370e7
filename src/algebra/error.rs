//! [`AlgebraError`]: why an algebraic operation could not be carried out.

use thiserror::Error;

/// Why an operation of the algebra failed. Every variant is a limit or an
/// undefined operation, never a bug.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum AlgebraError {
    /// A polynomial grew beyond the term budget.
    #[error("term budget exceeded (more than {limit} terms in one polynomial)")]
    TermBudget {
        /// The budget.
        limit: usize,
    },
    /// The arithmetic grew beyond the work budget.
    #[error("term budget exceeded (more than {limit} term operations in all)")]
    WorkBudget {
        /// The budget.
        limit: u64,
    },
    /// A matrix or tensor with too many entries.
    #[error("term budget exceeded (a value with more than {limit} entries)")]
    EntryBudget {
        /// The most entries allowed.
        limit: usize,
    },
    /// An exponent that does not fit 64-bit integers, or a power whose
    /// exact value would be too large.
    #[error("an exponent is too large for exact expansion")]
    ExponentTooLarge,
    /// A division by the zero polynomial.
    #[error("division by zero")]
    DivisionByZero,
}
