//! Inputs that once crashed matcalc or gave an answer its own check could
//! not confirm, found by the long random run (`tests/derive_properties.rs`,
//! seeds given). Each must now be derived and confirmed numerically.

use std::collections::BTreeMap;

use matcalc::confirm::confirm;
use matcalc::derive::{derive, DeriveConfig};
use matcalc::numeric::CheckConfig;
use matcalc::syntax::{to_expr_string, Decls};

/// Derives `text` by `wrt` at `order` and confirms every result; returns
/// the results in the input syntax.
fn derived_and_confirmed(text: &str, decls: &str, wrt: &[&str], order: u8) -> Vec<String> {
    let mut declared = Decls::new();
    declared.extend_from_str(decls).expect("declarations parse");
    let config = DeriveConfig {
        decls: declared,
        wrt: wrt.iter().map(|w| w.to_string()).collect(),
        order,
    };
    let d = derive(text, &config).unwrap_or_else(|e| panic!("`{text}` derives: {e}"));
    let reports = confirm(&d, &BTreeMap::new(), &CheckConfig::default())
        .unwrap_or_else(|e| panic!("`{text}`: its result can be evaluated: {e}"));
    for (report, derivative) in reports.iter().zip(&d.derivatives) {
        assert!(
            report.ok(),
            "`{text}`: `{}` is refuted: {report:?}",
            to_expr_string(derivative.formula())
        );
    }
    d.derivatives
        .iter()
        .map(|x| to_expr_string(x.formula()))
        .collect()
}

/// Seed 27613: `δ[p,p]` beside another use of `p` was counted as the
/// dimension, leaving `p` unbound, and writing the result panicked.
#[test]
fn a_diagonal_delta_inside_a_trace_is_one_not_the_dimension() {
    for text in [
        "sum(exp(eye(2)*t))",
        "tr(exp(eye(2)*t))",
        "sum(sin(t*eye(2)))",
    ] {
        derived_and_confirmed(text, "t: scalar", &["t"], 2);
    }
}

/// Seed 57543: `L(b) + L(b'')` is one call in the graph, so the result was
/// written with a bare `dL`, which means nothing beside two written calls.
#[test]
fn a_loss_called_twice_as_written_gets_its_argument_spelt_out() {
    for text in ["L(b) + L(b'')", "L(b) + L(1*b)"] {
        let results = derived_and_confirmed(text, "b: 3", &["b"], 1);
        assert_eq!(results, vec!["2*dL(b)"], "`{text}`");
    }
}
