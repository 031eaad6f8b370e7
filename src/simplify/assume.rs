//! Assumptions: facts about variables, read off their declared domains,
//! that the simplifier may use, and the record of which it used.
//!
//! A derivative is taken without constraints; the facts are applied to the
//! result, where they are identities of its value on the domain (`Wᵀ = W`
//! for a symmetric W holds at every point the caller means). Without a
//! fact the answer stays general: `sum(y)·softmax(x) − y` is right for any
//! `y`, and becomes `softmax(x) − y` only when `y` is declared one-hot.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::numeric::Domain;

/// One fact about a variable's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fact {
    /// `Xᵀ = X` (`symmetric`, `spd`).
    Symmetric,
    /// Each row sums to 1, or the entries of a vector do (`onehot`, `prob`).
    RowsSumToOne,
    /// Every entry is ±1, so `y.^2 = 1` and `|y| = 1` (`pm1`).
    SquaresToOne,
    /// Every entry is 0 or 1, so `y.^k = y` for k ≥ 1 (`binary`, `onehot`).
    SquaresToItself,
    /// Every entry is positive, so `|x| = x`, `relu(x) = x`, `sqrt(x.^2) = x`
    /// (`positive`, `unit`, `prob`).
    Positive,
    /// `XᵀX = XXᵀ = I` and `X⁻¹ = Xᵀ` (`orthogonal`).
    Orthogonal,
}

impl Fact {
    /// The facts a sampling domain implies.
    pub fn of_domain(domain: Domain) -> &'static [Fact] {
        match domain {
            Domain::Symmetric | Domain::Spd => &[Fact::Symmetric],
            Domain::Onehot => &[Fact::RowsSumToOne, Fact::SquaresToItself],
            Domain::Prob => &[Fact::RowsSumToOne, Fact::Positive],
            Domain::Pm1 => &[Fact::SquaresToOne],
            Domain::Binary => &[Fact::SquaresToItself],
            Domain::Positive | Domain::Unit => &[Fact::Positive],
            Domain::Orthogonal => &[Fact::Orthogonal],
            Domain::Normal | Domain::Nonzero | Domain::Invertible | Domain::Posdet => &[],
        }
    }
}

/// One fact used about one variable, as the output names it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Used {
    /// The variable.
    pub var: String,
    /// The fact.
    pub fact: Fact,
}

impl fmt::Display for Used {
    /// The fact in words: `rows of T sum to 1`, `W is symmetric`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = &self.var;
        match self.fact {
            Fact::Symmetric => write!(f, "{v} is symmetric ({v}ᵀ = {v})"),
            Fact::RowsSumToOne => write!(f, "the rows of {v} sum to 1"),
            Fact::SquaresToOne => write!(f, "the entries of {v} are ±1 ({v}.^2 = 1)"),
            Fact::SquaresToItself => write!(f, "the entries of {v} are 0 or 1 ({v}.^2 = {v})"),
            Fact::Positive => write!(f, "the entries of {v} are positive"),
            Fact::Orthogonal => write!(f, "{v} is orthogonal ({v}ᵀ·{v} = I)"),
        }
    }
}

/// The facts in force, per variable.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Assumptions {
    facts: BTreeMap<String, BTreeSet<Fact>>,
}

impl Assumptions {
    /// No facts: every result stays general.
    pub fn none() -> Assumptions {
        Assumptions::default()
    }

    /// The facts implied by each variable's declared domain.
    pub fn from_domains(domains: &BTreeMap<String, Domain>) -> Assumptions {
        let facts = domains
            .iter()
            .map(|(var, &d)| (var.clone(), Fact::of_domain(d).iter().copied().collect()))
            .filter(|(_, f): &(String, BTreeSet<Fact>)| !f.is_empty())
            .collect();
        Assumptions { facts }
    }

    /// Adds a fact about `var` (a variable declared `symmetric`).
    pub fn declare(&mut self, var: &str, fact: Fact) {
        self.facts.entry(var.to_string()).or_default().insert(fact);
    }

    /// True when no fact is in force.
    pub fn is_empty(&self) -> bool {
        self.facts.is_empty()
    }

    /// The use of `fact` about `var`, when it holds.
    pub fn lookup(&self, var: &str, fact: Fact) -> Option<Used> {
        self.facts
            .get(var)
            .filter(|f| f.contains(&fact))
            .map(|_| Used {
                var: var.to_string(),
                fact,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_give_their_facts_and_no_others() {
        let domains = BTreeMap::from([
            ("T".to_string(), Domain::Onehot),
            ("S".to_string(), Domain::Spd),
            ("X".to_string(), Domain::Invertible),
        ]);
        let a = Assumptions::from_domains(&domains);
        assert!(a.lookup("T", Fact::RowsSumToOne).is_some());
        assert!(a.lookup("T", Fact::Symmetric).is_none());
        assert!(a.lookup("S", Fact::Symmetric).is_some());
        assert!(a.lookup("X", Fact::Symmetric).is_none());
        assert_eq!(
            a.lookup("T", Fact::RowsSumToOne).unwrap().to_string(),
            "the rows of T sum to 1"
        );
    }
}
