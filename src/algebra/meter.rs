//! The budget meter that keeps polynomial arithmetic bounded.

use std::cell::Cell;

use super::AlgebraError;

/// Limits on the size of exact expansions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Most terms any one polynomial may have.
    pub max_terms: usize,
    /// Most term operations (products of two terms, terms merged) in one
    /// computation, so that nothing runs away.
    pub max_work: u64,
}

impl Default for Budget {
    /// 20,000 terms per polynomial and 5 million term operations (a few
    /// seconds at most).
    fn default() -> Budget {
        Budget {
            max_terms: 20_000,
            max_work: 5_000_000,
        }
    }
}

/// Counts the work done against a [`Budget`].
#[derive(Debug)]
pub struct Meter {
    budget: Budget,
    work: Cell<u64>,
}

impl Meter {
    /// A meter with nothing spent.
    pub fn new(budget: Budget) -> Meter {
        Meter {
            budget,
            work: Cell::new(0),
        }
    }

    /// Spends `amount` term operations.
    pub fn charge(&self, amount: u64) -> Result<(), AlgebraError> {
        let spent = self.work.get().saturating_add(amount);
        self.work.set(spent);
        if spent > self.budget.max_work {
            Err(AlgebraError::WorkBudget {
                limit: self.budget.max_work,
            })
        } else {
            Ok(())
        }
    }

    /// Fails when a polynomial of `terms` terms is over budget.
    pub fn check_terms(&self, terms: usize) -> Result<(), AlgebraError> {
        if terms > self.budget.max_terms {
            Err(AlgebraError::TermBudget {
                limit: self.budget.max_terms,
            })
        } else {
            Ok(())
        }
    }

    /// Fails when a value of this shape has more entries than fifty times
    /// the term budget; otherwise charges one operation per entry.
    pub fn check_size(&self, shape: &[usize]) -> Result<(), AlgebraError> {
        let limit = self.budget.max_terms.saturating_mul(50);
        let entries = shape
            .iter()
            .try_fold(1usize, |acc, &n| acc.checked_mul(n))
            .filter(|&n| n <= limit)
            .ok_or(AlgebraError::EntryBudget { limit })?;
        self.charge(entries as u64)
    }

    /// The term operations spent so far.
    pub fn spent(&self) -> u64 {
        self.work.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_meter_stops() {
        let meter = Meter::new(Budget {
            max_terms: 2,
            max_work: 10,
        });
        assert!(meter.check_terms(2).is_ok());
        assert_eq!(
            meter.check_terms(3),
            Err(AlgebraError::TermBudget { limit: 2 })
        );
        assert!(meter.charge(10).is_ok());
        assert_eq!(meter.charge(1), Err(AlgebraError::WorkBudget { limit: 10 }));
    }
}
