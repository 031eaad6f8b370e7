//! Inputs that once crashed matcalc or gave an answer its own check could
//! not confirm, found by the long random run (`tests/derive_properties.rs`,
//! seeds given) or by outside testing (issue 10). Each must now be derived
//! and confirmed numerically, or refused with the reason.

use std::collections::BTreeMap;

use matcalc::batch::derive_cases;
use matcalc::confirm::{confirm, problem};
use matcalc::derive::{derive, typecheck, DeriveConfig, DeriveError};
use matcalc::diff::DiffError;
use matcalc::numeric::{evaluate_expr, CheckConfig};
use matcalc::syntax::{to_expr_string, Decls};

/// The declarations `decls` (none when empty).
fn declared(decls: &str) -> Decls {
    let mut declared = Decls::new();
    if !decls.is_empty() {
        declared.extend_from_str(decls).expect("declarations parse");
    }
    declared
}

/// Derives `text` by `wrt` at `order` and confirms every result; returns
/// the results in the input syntax.
fn derived_and_confirmed(text: &str, decls: &str, wrt: &[&str], order: u8) -> Vec<String> {
    let declared = declared(decls);
    let config = DeriveConfig {
        decls: declared,
        wrt: wrt.iter().map(|w| w.to_string()).collect(),
        order,
        ..Default::default()
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

/// Derives `text` by `wrt` at order 1 and gives the error it is refused with.
fn refusal(text: &str, decls: &str, wrt: &str, order: u8) -> DeriveError {
    let declared = declared(decls);
    let config = DeriveConfig {
        decls: declared,
        wrt: vec![wrt.to_string()],
        order,
        ..Default::default()
    };
    match derive(text, &config) {
        Ok(d) => panic!(
            "`{text}` is derived as `{}`, but it should be refused",
            to_expr_string(d.derivatives[0].formula())
        ),
        Err(e) => e,
    }
}

/// The values of `text` at three random samples (`None` where the
/// evaluation fails).
fn sampled_values(text: &str, decls: &str) -> Vec<Option<Vec<f64>>> {
    let declared = declared(decls);
    let typed = typecheck(text, &declared).expect("the expression shape-checks");
    let names: Vec<String> = typed.vars.keys().cloned().collect();
    let p = problem(&typed, &names, &BTreeMap::new());
    (1..=3)
        .map(|seed| {
            let bindings = p.sample(seed, 0, None).expect("a sample is drawn");
            evaluate_expr(&p.expr, &bindings)
                .ok()
                .map(|v| v.iter().copied().collect())
        })
        .collect()
}

/// Issue 10, item 3: `det(x*y')` is n×n of rank 1 by its shapes, so its
/// determinant is 0 everywhere and so is its gradient; `det(E)·inv(E)ᵀ·y`
/// was undefined everywhere. The rank is read off the shapes wherever it
/// is decided: an inner size of 1 against a symbolic size, a fixed inner
/// size below a fixed outer one, a sum of two rank-1 terms in 3×3.
#[test]
fn a_determinant_singular_by_its_shapes_is_zero_and_so_is_its_gradient() {
    for (text, decls, wrt) in [
        ("det(x*y')", "", "x"),
        ("det(x*y')", "x: 4, y: 4", "y"),
        ("det(A*B)", "A: 3x2, B: 2x3", "A"),
        ("det(x*y' + z*w')", "x: 3, y: 3, z: 3, w: 3", "z"),
        ("det(2*(x*y')')", "", "y"),
        ("det(X*y*z')", "", "X"),
    ] {
        let results = derived_and_confirmed(text, decls, &[wrt], 1);
        assert!(
            results[0].starts_with("zeros("),
            "`{text}` by {wrt}: `{}` is not zero",
            results[0]
        );
        for value in sampled_values(text, decls) {
            let value = value.expect("the determinant evaluates")[0];
            assert!(value.abs() < 1e-9, "`{text}` is {value}, not 0");
        }
    }
    // Where the shapes decide nothing (n may be 2), the general rule stays.
    for (text, decls) in [("det(x*y' + z*w')", ""), ("det(A*B)", "A: 3x3, B: 3x3")] {
        let results =
            derived_and_confirmed(text, decls, &[if decls.is_empty() { "x" } else { "A" }], 1);
        assert!(results[0].contains("inv("), "`{text}`: `{}`", results[0]);
    }
}

/// Issue 10, item 3: `logdet(0*X)`, `tr(inv(0*X))` and `sum(log(x - x))`
/// gave a silent zero. An expression undefined everywhere is an error that
/// says which operation is undefined and why; the numeric layer agrees
/// that it has no finite value.
#[test]
fn an_expression_undefined_everywhere_is_an_error_that_says_why() {
    for (text, decls, wrt, operation) in [
        ("logdet(0*X)", "", "X", "logdet"),
        ("tr(inv(0*X))", "", "X", "inv"),
        ("sum(log(x - x))", "", "x", "logarithm"),
        ("sum(x ./ (y - y))", "y: n", "x", "division"),
        ("a/(b - b) + a", "", "a", "division"),
        ("sum((x - x).^-1)", "", "x", "negative power"),
        ("log(tr(X - X))", "", "X", "logarithm"),
    ] {
        match refusal(text, decls, wrt, 1) {
            DeriveError::Undefined(why) => {
                let why = why.to_string();
                assert!(why.contains(operation), "`{text}`: {why}");
                assert!(why.contains("zero everywhere"), "`{text}`: {why}");
            }
            other => panic!("`{text}`: refused as {other:?}"),
        }
        for value in sampled_values(text, decls) {
            let finite = value
                .as_ref()
                .is_some_and(|v| v.iter().all(|x| x.is_finite()));
            assert!(!finite, "`{text}` has the finite value {value:?}");
        }
    }
    // logdet and inv of a matrix singular by its shapes.
    for (text, decls, operation) in [
        ("logdet(x*y')", "", "logdet"),
        ("tr(inv(x*y'))", "", "inv"),
        ("sum(inv(A*B)*x)", "A: 3x2, B: 2x3", "inv"),
    ] {
        match refusal(text, decls, "x", 1) {
            DeriveError::Undefined(why) => {
                let why = why.to_string();
                assert!(why.contains(operation), "`{text}`: {why}");
                assert!(why.contains("singular"), "`{text}`: {why}");
            }
            other => panic!("`{text}`: refused as {other:?}"),
        }
    }
    // And the same by the command line: exit code 1, error kind `evaluation`.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_matcalc"))
        .args([
            "derive",
            "sum(log(x - x))",
            "--wrt",
            "x",
            "--format",
            "json",
        ])
        .output()
        .expect("matcalc runs");
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("\"evaluation\""), "{stdout}");
    assert!(stdout.contains("undefined everywhere"), "{stdout}");
}

/// Issue 10, item 4: `det`, `inv`, `logdet`, `diag` (and `tr`) of a 1×1
/// value panicked. They are the functions of the number: `det(a) = a`,
/// `inv(a) = 1/a`, `logdet(a) = log(a)`, `diag(a) = a`.
#[test]
fn matrix_functions_of_a_1x1_value_are_those_of_the_number() {
    for (text, wrt) in [
        ("det(a)", "a"),
        ("inv(a)", "a"),
        ("logdet(a)", "a"),
        ("diag(a)", "a"),
        ("tr(inv(a))*b", "a"),
        ("det(det(X))", "X"),
        ("logdet(det(X))", "X"),
        ("inv(x'*x)*x", "x"),
        ("diag(x'*x)", "x"),
        ("logdet(x'*A*x)", "x"),
        ("sum(inv(x'*x)*diag(y'*x)*x)", "y"),
    ] {
        derived_and_confirmed(text, "A: n x n", &[wrt], 1);
    }
    for (text, wrt) in [
        ("det(a)*inv(a)", "a"),
        ("logdet(x'*x)", "x"),
        ("diag(a)^3", "a"),
    ] {
        derived_and_confirmed(text, "", &[wrt], 2);
    }
}

/// Issue 10, item 4: in `derive --cases`, every case is answered on its
/// own line, in order, whatever the others do (a case that panicked took
/// the whole file's output with it).
#[test]
fn every_case_of_a_batch_is_answered_on_its_own() {
    let cases = [
        ("one", "det(a)", r#"{"a": []}"#, "a"),
        ("two", "a'*x", r#"{"a": [3], "x": [3]}"#, "x"),
        ("three", "inv(x'*x)*x", r#"{"x": [3]}"#, "x"),
        ("four", "sum(log(x - x))", r#"{"x": [3]}"#, "x"),
        ("five", "diag(a)", r#"{"a": []}"#, "a"),
    ];
    let jsonl: String = cases
        .iter()
        .map(|(id, expr, vars, wrt)| {
            format!(
                r#"{{"id": "{id}", "expr": "{expr}", "vars": {vars}, "wrt": "{wrt}", "order": 1, "expected": "0"}}"#
            ) + "\n"
        })
        .collect::<String>()
        + "not json\n";
    let results = derive_cases(&jsonl, false);
    let ids: Vec<&str> = results.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["one", "two", "three", "four", "five", "line 6"]);
    for r in &results[..3] {
        assert!(r.result.is_some() && r.error.is_none(), "{r:?}");
    }
    assert!(results[3].result.is_none(), "{:?}", results[3]);
    assert!(
        results[3]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("undefined everywhere")),
        "{:?}",
        results[3]
    );
    assert_eq!(results[4].result.as_deref(), Some("1"));
    assert!(results[5].error.is_some());
}

/// Issue 10, item 7: every negative fill was refused as "a fill value that
/// is not a number". A fill value is any scalar: a number fills directly,
/// anything else scales a fill of ones.
#[test]
fn negative_and_computed_fill_values_are_numbers() {
    for (text, wrt) in [
        ("sum(vector(-1).*x)", "x"),
        ("x'*(matrix(-2.5).*X)*x", "X"),
        ("sum(exp(X.*matrix(-0.5)))", "X"),
        ("vector(-1)'*A*x", "x"),
        ("sum(vector(2*a).*x)", "a"),
        ("sum(vector(-a).*x)", "x"),
        ("(X + matrix(-1))*x", "x"),
    ] {
        derived_and_confirmed(text, "A: n x n", &[wrt], 1);
    }
}

/// Issue 10, item 7: `sqrt(norm2(x*(y'-y')))` was refused as "division by
/// a constant with zero entries": the derivative of `sqrt` at the constant
/// 0 was formed. A part whose canonical form does not depend on the
/// variables is constant: no derivative flows through it.
#[test]
fn a_part_constant_in_the_variables_has_no_derivative() {
    for (text, wrt, want) in [
        ("sqrt(norm2(x*(y'-y')))", "x", "zeros(n)"),
        ("sqrt(norm2(x*(y'-y')))", "y", "zeros(k)"),
        ("sqrt(norm2(x*(y'-y'))) + x'*x", "x", "2*x"),
        ("norm2(x - x) + sum(x)", "x", "ones(n)"),
        ("sum(sqrt((X - X).^2)) + tr(X)", "X", "eye(n)"),
    ] {
        let results = derived_and_confirmed(text, "", &[wrt], 1);
        assert_eq!(results[0], want, "`{text}` by {wrt}");
    }
    derived_and_confirmed("sqrt(norm2(x*(y'-y'))) + x'*x", "", &["x"], 2);
}

/// Issue 10, item 7, and issue 12, item 8: the first derivative of
/// `dL(x)'*x` needs the second derivative of `L`; with the opaque Hessian
/// `d2L` it is `dL(x) + d2L(x)*x` (confirmed numerically with known
/// Hessians). At a matrix argument the Hessian is a 4-index tensor, and a
/// derivative of `d2L` needs a third derivative: both refused, saying so.
#[test]
fn a_derivative_through_dl_uses_the_hessian_of_l() {
    assert_eq!(
        derived_and_confirmed("dL(x)'*x", "", &["x"], 1),
        vec!["d2L(x)*x + dL(x)"]
    );
    assert_eq!(
        derived_and_confirmed("sum(dL(2*x))", "", &["x"], 1),
        vec!["2*(d2L(2*x)*vector(1))"]
    );
    match refusal("sum(dL(X))", "X: 3 x 2", "X", 1) {
        DeriveError::Unsupported(why @ DiffError::SecondDerivativeOfAbstract { .. }) => {
            assert!(why.to_string().contains("4-index tensor"), "{why}");
        }
        other => panic!("refused as {other:?}"),
    }
    match refusal("x'*d2L(x)*x", "", "x", 1) {
        DeriveError::Unsupported(why @ DiffError::ThirdDerivativeOfAbstract { .. }) => {
            assert!(why.to_string().contains("third derivative of L"), "{why}");
        }
        other => panic!("refused as {other:?}"),
    }
    // By a variable outside the argument of dL, it is a first derivative.
    derived_and_confirmed("dL(x)'*y", "", &["y"], 1);
}
