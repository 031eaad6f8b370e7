//! Numeric problems and claims written as text, for the numeric tests.

use std::collections::BTreeMap;

use matcalc::numeric::{parse_domains, Problem};
use matcalc::syntax::{parse_expr, parse_formula, Decls, Formula};

/// The problem of differentiating `expr` by `wrt`, with each variable's
/// layout dims and the sampling `domains` (`""` for all normal).
pub fn problem(expr: &str, vars: &[(&str, &[usize])], wrt: &[&str], domains: &str) -> Problem {
    Problem {
        expr: parse_expr(expr, &Decls::new()).expect("test expressions parse"),
        vars: vars
            .iter()
            .map(|(n, d)| (n.to_string(), d.to_vec()))
            .collect(),
        wrt: wrt.iter().map(|w| w.to_string()).collect(),
        domains: if domains.is_empty() {
            BTreeMap::new()
        } else {
            parse_domains(domains).expect("test domains parse")
        },
        sizes: BTreeMap::new(),
        symmetric: Default::default(),
    }
}

/// A claimed derivative.
pub fn claim(text: &str) -> Formula {
    parse_formula(text, &Decls::new()).expect("test claims parse")
}
