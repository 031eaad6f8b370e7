//! Numeric confirmation of a derivation: every derivative is evaluated on
//! random samples and compared with finite differences of the expression.
//!
//! Symbolic sizes (`n`, `k`) are given small distinct concrete values, so
//! that a misplaced transpose shows up. Invariant: pure; never prints.

use std::collections::{BTreeMap, BTreeSet};

use crate::derive::Derivation;
use crate::numeric::{check, CheckConfig, CheckReport, Domain, EvalError, Problem};
use crate::shape::{Dim, Shape, Typed};

/// Concrete sizes for the symbolic dimensions of the variables: 2, 3, 4, …,
/// one per symbol, in the order of the variables' names.
pub fn concrete_sizes(vars: &BTreeMap<String, Shape>) -> BTreeMap<String, usize> {
    let mut sizes = BTreeMap::new();
    for shape in vars.values() {
        for d in [&shape.rows, &shape.cols] {
            if let Dim::Named(name) = d {
                let next = 2 + sizes.len();
                sizes.entry(name.clone()).or_insert(next);
            }
        }
    }
    sizes
}

fn concrete(d: &Dim, sizes: &BTreeMap<String, usize>) -> usize {
    match d {
        Dim::Fixed(n) => *n,
        Dim::Named(name) => sizes.get(name).copied().unwrap_or(2),
    }
}

/// The numeric problem of differentiating a typed expression: concrete
/// variable sizes and domains.
pub fn problem(typed: &Typed, wrt: &[String], domains: &BTreeMap<String, Domain>) -> Problem {
    let sizes = concrete_sizes(&typed.vars);
    let vars = typed
        .vars
        .iter()
        .map(|(name, s)| {
            let (r, c) = (concrete(&s.rows, &sizes), concrete(&s.cols, &sizes));
            let dims = match (s.rows == Dim::Fixed(1), s.cols == Dim::Fixed(1)) {
                (true, true) => Vec::new(),
                (false, true) => vec![r],
                _ => vec![r, c],
            };
            (name.clone(), dims)
        })
        .collect();
    Problem {
        expr: typed.formula.body.clone(),
        vars,
        wrt: wrt.to_vec(),
        domains: domains.clone(),
        sizes,
        symmetric: BTreeSet::new(),
    }
    .declaring_symmetric(&typed.symmetric)
}

/// Checks every derivative of `d` against finite differences.
pub fn confirm(
    d: &Derivation,
    domains: &BTreeMap<String, Domain>,
    config: &CheckConfig,
) -> Result<Vec<CheckReport>, EvalError> {
    d.derivatives
        .iter()
        .map(|x| check(&problem(&d.typed, &x.wrt, domains), x.formula(), config))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::derive::{derive, DeriveConfig};

    #[test]
    fn symbolic_sizes_are_distinct() {
        let config = DeriveConfig {
            wrt: vec!["X".into()],
            order: 1,
            ..Default::default()
        };
        let d = derive("L(X*W + B)", &config).unwrap();
        let sizes = concrete_sizes(&d.typed.vars);
        let mut values: Vec<usize> = sizes.values().copied().collect();
        values.sort_unstable();
        values.dedup();
        assert_eq!(values.len(), sizes.len());
        let reports = confirm(&d, &BTreeMap::new(), &CheckConfig::default()).unwrap();
        assert!(reports.iter().all(CheckReport::ok));
    }

    #[test]
    fn a_wrong_result_is_refuted() {
        let config = DeriveConfig {
            wrt: vec!["X".into()],
            order: 1,
            ..Default::default()
        };
        let d = derive("tr(A*X)", &config).unwrap();
        // tr(A*X) has gradient A'; the problem refutes the claim A.
        let claim = crate::syntax::parse_formula("A", &Default::default()).unwrap();
        let p = problem(&d.typed, &d.derivatives[0].wrt, &BTreeMap::new());
        assert!(!check(&p, &claim, &CheckConfig::default()).unwrap().ok());
        assert!(
            check(&p, d.derivatives[0].formula(), &CheckConfig::default())
                .unwrap()
                .ok()
        );
    }
}
