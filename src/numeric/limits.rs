//! Limits on the size and the work of numeric evaluation, so that no input
//! can make the numeric layer run out of memory or run for minutes.
//!
//! - [`MAX_ENTRIES`] bounds every array the layer allocates: sampled and
//!   constant values, products, `diag`, the coupling matrices of a loss,
//!   index-form tensors and finite-difference derivatives. The entry count
//!   is computed with checked multiplication and compared *before* the
//!   array is allocated. Results of element-wise operations and broadcasts
//!   are no larger than their larger operand, and value literals no larger
//!   than their text, so those need no check of their own.
//! - [`MAX_WORK`] bounds the estimated work of one evaluation of a formula
//!   and of drawing one sample. Each operation is charged before it runs:
//!   one operation per entry it writes, `2nkm` for an n×k by k×m product,
//!   `2n³` for an inverse, `n³` for a determinant, `4n³` for singular values,
//!   `12n³` for a full SVD, `3n³` for a QR factorization, and
//!   [`INDEX_ENTRY_WORK`] per entry of an index-form tensor (those entries are
//!   built through index vectors, far slower than a dense kernel). Drawing
//!   an `invertible` sample spends at most
//!   [`REDRAW_WORK`](super::REDRAW_WORK) on redraws. The
//!   product of all index ranges of an Einstein product is exactly the entry
//!   count of the tensor the evaluator forms before summing, so both limits
//!   bound index-form loops too.
//! - [`MAX_CHECK_WORK`] bounds a whole check: every sample drawn, every
//!   evaluation of the expression by finite differences and of the claim.
//!   Full finite differences cost (entries of the `wrt` variables) ×
//!   4^order evaluations per sample; when that does not fit (or the
//!   derivative would go over [`MAX_ENTRIES`]), the default method
//!   (`Method::Auto`) differences along 3 random directions instead
//!   (4^order evaluations each) and the report's `method` says so. When
//!   even that does not fit, the check stops with an error naming this
//!   limit, before the differences run.
//!
//! Why these values: 2^22 entries (32 MiB of f64: a 2048×2048 matrix, a
//! 4-million vector, a 45⁴ tensor) leaves room for the several arrays that
//! live together (operands, result, perturbed copies) within a few hundred
//! MiB. The costs are estimates, in the operations of a dense kernel:
//! 2^33 of them take about a second in a dense product and a few seconds
//! in nalgebra's factorizations or (at [`INDEX_ENTRY_WORK`] per entry,
//! about 100 ns) in the index-form evaluator; 2^35 lets a check run a few
//! such evaluations, so `--check` answers within seconds or says why it
//! cannot.
//!
//! Invariant: a limit is checked before the memory or time it guards is
//! spent; exceeding one is an [`EvalError`] naming it, never a panic.

use std::fmt::Display;

use super::error::EvalError;
use crate::syntax::Span;

/// The most entries any one array of the numeric layer may have (2^22).
pub const MAX_ENTRIES: usize = 1 << 22;

/// The most estimated operations one evaluation or one sample may take
/// (2^33).
pub const MAX_WORK: u64 = 1 << 33;

/// The most estimated operations one check may take over all its samples
/// and evaluations (2^35).
pub const MAX_CHECK_WORK: u64 = 1 << 35;

/// The work charged per entry of an index-form tensor, in dense-kernel
/// operations (each entry is built through index vectors).
pub const INDEX_ENTRY_WORK: f64 = 256.0;

/// What a piece of work is charged to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Budget {
    /// One evaluation of a formula, or drawing one sample: [`MAX_WORK`].
    Evaluation,
    /// One check with all its samples: [`MAX_CHECK_WORK`].
    Check,
}

impl Budget {
    /// The most operations the budget allows.
    pub fn limit(self) -> u64 {
        match self {
            Budget::Evaluation => MAX_WORK,
            Budget::Check => MAX_CHECK_WORK,
        }
    }

    /// What the budget is for, in words.
    pub fn scope(self) -> &'static str {
        match self {
            Budget::Evaluation => "one numeric evaluation",
            Budget::Check => "one numeric check",
        }
    }
}

/// The entry count of an array of `dims`, if it fits in a `usize`.
pub(super) fn entry_count(dims: &[usize]) -> Option<usize> {
    dims.iter().try_fold(1usize, |n, &d| n.checked_mul(d))
}

/// Checks that an array of `dims` may be allocated; `what` names it in the
/// error ("this product", "the sample of `A`").
pub(super) fn check_entries(
    dims: &[usize],
    what: impl Display,
    span: Span,
) -> Result<usize, EvalError> {
    match entry_count(dims) {
        Some(n) if n <= MAX_ENTRIES => Ok(n),
        _ => Err(EvalError::TooLarge {
            what: what.to_string(),
            dims: dims.to_vec(),
            limit: MAX_ENTRIES,
            span,
        }),
    }
}

/// The work spent so far against one budget.
#[derive(Clone, Debug)]
pub(super) struct Meter {
    budget: Budget,
    spent: f64,
}

impl Meter {
    pub(super) fn new(budget: Budget) -> Meter {
        Meter { budget, spent: 0.0 }
    }

    /// The work charged so far.
    pub(super) fn spent(&self) -> f64 {
        self.spent
    }

    /// True when `work` more would still be within the budget.
    pub(super) fn fits(&self, work: f64) -> bool {
        self.spent + work <= self.budget.limit() as f64
    }

    /// Fails, naming `what`, when `work` more would go over the budget.
    pub(super) fn ensure(
        &self,
        work: f64,
        what: impl Display,
        span: Span,
    ) -> Result<(), EvalError> {
        if self.fits(work) {
            Ok(())
        } else {
            Err(EvalError::TooMuchWork {
                what: what.to_string(),
                work: self.spent + work,
                budget: self.budget,
                span,
            })
        }
    }

    /// Charges `work` for `what`, or fails without charging when it would
    /// go over the budget.
    pub(super) fn spend(
        &mut self,
        work: f64,
        what: impl Display,
        span: Span,
    ) -> Result<(), EvalError> {
        self.ensure(work, what, span)?;
        self.spent += work;
        Ok(())
    }

    /// Checks a new array of `dims` against [`MAX_ENTRIES`] and charges
    /// `per_entry` for each of its entries.
    pub(super) fn allocate(
        &mut self,
        dims: &[usize],
        per_entry: f64,
        what: impl Display,
        span: Span,
    ) -> Result<(), EvalError> {
        let entries = check_entries(dims, &what, span)?;
        self.spend(entries as f64 * per_entry, what, span)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_counts_never_overflow() {
        assert_eq!(entry_count(&[]), Some(1));
        assert_eq!(entry_count(&[3, 4]), Some(12));
        assert_eq!(entry_count(&[usize::MAX, 2]), None);
        let err = check_entries(&[1 << 40, 1 << 40], "this", Span::NONE).unwrap_err();
        assert!(matches!(err, EvalError::TooLarge { .. }), "{err}");
        assert_eq!(
            check_entries(&[1 << 11, 1 << 11], "this", Span::NONE),
            Ok(MAX_ENTRIES)
        );
        assert!(check_entries(&[MAX_ENTRIES + 1], "this", Span::NONE).is_err());
    }

    #[test]
    fn a_meter_refuses_work_beyond_its_budget_without_charging_it() {
        let mut meter = Meter::new(Budget::Evaluation);
        meter
            .spend(MAX_WORK as f64 - 10.0, "most", Span::NONE)
            .unwrap();
        let err = meter.spend(11.0, "one more", Span::NONE).unwrap_err();
        assert!(
            matches!(
                err,
                EvalError::TooMuchWork {
                    budget: Budget::Evaluation,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(meter.spent(), MAX_WORK as f64 - 10.0);
        meter.spend(10.0, "the rest", Span::NONE).unwrap();
        assert!(!meter.fits(1.0));
    }
}
