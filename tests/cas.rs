//! The computer-algebra interface: `equal` decides by canonical form, by
//! exact entries at concrete sizes, or at random points, and says which;
//! a difference comes with a point where the two sides really differ;
//! `substitute` and `simplify` work on expressions. The binary's `equal`
//! exits 0 for equal and 3 for differs.

use std::process::Command;

use matcalc::cas::{equal, simplify, substitute, CasError, Equality, Expression, Tried};
use matcalc::numeric::parse_domains;
use matcalc::syntax::Decls;

fn expression(text: &str, decls: &str) -> Expression {
    let mut d = Decls::new();
    if !decls.is_empty() {
        d.extend_from_str(decls).expect("declarations parse");
    }
    Expression::parse(text, &d).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn verdict(a: &str, b: &str, decls: &str, domains: &str) -> Equality {
    let domains = if domains.is_empty() {
        Default::default()
    } else {
        parse_domains(domains).expect("domains parse")
    };
    equal(&expression(a, decls), &expression(b, decls), &domains)
        .unwrap_or_else(|e| panic!("{a} vs {b}: {e}"))
}

#[test]
fn laws_are_proven_by_the_canonical_form() {
    for (a, b, decls) in [
        ("tr(A*B)", "tr(B*A)", ""),
        ("sum(x .* y)", "x'*y", ""),
        ("det(X')", "det(X)", "X: n x n"),
        ("det(A*B)", "det(A)*det(B)", "A: n x n, B: n x n"),
        ("(A*B)'", "B'*A'", ""),
        ("sigmoid(-x)", "1 - sigmoid(x)", ""),
        ("0.1*A + 0.2*A", "0.3*A", ""),
    ] {
        assert!(
            matches!(verdict(a, b, decls, ""), Equality::Proven { .. }),
            "{a} = {b} should be proven"
        );
    }
}

#[test]
fn an_identity_the_canonical_form_misses_is_found_exactly_at_fixed_sizes() {
    // Cayley–Hamilton for a 2×2 matrix: no law of the simplifier, but every
    // entry is a polynomial identity in the entries of A.
    let v = verdict(
        "A*A - tr(A)*A + det(A)*eye(2)",
        "zeros(2, 2)",
        "A: 2 x 2",
        "",
    );
    assert_eq!(
        v,
        Equality::AtSizesTried {
            sizes: vec![Default::default()],
            how: Tried::Exact
        }
    );
}

#[test]
fn an_identity_between_opaque_functions_is_tried_at_points() {
    let v = verdict("tanh(x)", "2*sigmoid(2*x) - 1", "", "");
    assert!(
        matches!(
            v,
            Equality::AtSizesTried {
                how: Tried::Numeric { .. },
                ..
            }
        ),
        "{v:?}"
    );
}

#[test]
fn a_difference_comes_with_a_point_where_the_values_differ() {
    for (a, b) in [
        ("tr(A*B)", "tr(A)*tr(B)"),
        ("sqrt(x.^2)", "x"),
        ("X*W", "W*X"),
    ] {
        let Equality::Differs(w) = verdict(a, b, "", "") else {
            panic!("{a} and {b} differ");
        };
        assert_eq!(w.left.dim(), w.right.dim());
        let gap = (&w.left - &w.right)
            .iter()
            .fold(0.0f64, |m, d| m.max(d.abs()));
        assert!(gap > 1e-3, "{a} vs {b}: the witness shows no difference");
        assert!(!w.values.is_empty());
    }
}

#[test]
fn assumptions_from_domains_decide_what_is_true_only_on_them() {
    assert!(matches!(
        verdict("sqrt(x.^2)", "x", "", "x: positive"),
        Equality::Proven { ref used } if !used.is_empty()
    ));
    assert!(matches!(
        verdict("S'", "S", "", "S: symmetric"),
        Equality::Proven { .. }
    ));
    assert!(matches!(
        verdict("S'", "S", "S: n x n", ""),
        Equality::Differs(_)
    ));
}

#[test]
fn sides_of_different_shapes_are_an_error_that_names_both() {
    let err = equal(
        &expression("x", ""),
        &expression("x'", ""),
        &Default::default(),
    )
    .unwrap_err();
    assert_eq!(
        err,
        CasError::ShapesDiffer {
            left: "n-vector".into(),
            right: "1×n row".into()
        }
    );
}

#[test]
fn substitution_replaces_a_variable_by_an_expression_of_its_shape() {
    let e = expression("x'*A*x", "");
    let by = expression("B*y + b", "b: n");
    let s = substitute(&e, "x", &by).unwrap();
    assert_eq!(s.to_string(), "(B*y + b)'*A*(B*y + b)");
    // The result is an expression like any other: it simplifies and compares.
    let expanded = expression("y'*B'*A*B*y + y'*B'*A*b + b'*A*B*y + b'*A*b", "b: n");
    assert!(matches!(
        equal(&s, &expanded, &Default::default()).unwrap(),
        Equality::Proven { .. } | Equality::AtSizesTried { .. }
    ));
    let err = substitute(&e, "x", &expression("y'", "")).unwrap_err();
    assert!(matches!(err, CasError::SubstitutionShape { .. }), "{err:?}");
    // A name that does not occur leaves the expression as it is.
    assert_eq!(substitute(&e, "z", &by).unwrap().to_string(), "x'*A*x");
}

#[test]
fn simplify_works_on_expressions() {
    let e = expression("tr(A') - tr(A)", "A: n x n");
    assert_eq!(
        simplify(&e, &Default::default())
            .unwrap()
            .result
            .to_string(),
        "0"
    );
}

fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_matcalc"))
        .args(args)
        .output()
        .expect("the binary runs");
    let code = out.status.code().expect("exits normally");
    (code, String::from_utf8(out.stdout).expect("UTF-8"))
}

#[test]
fn the_binary_says_how_it_decided_and_exits_3_when_the_sides_differ() {
    let (code, out) = run(&["equal", "tr(A*B)", "tr(B*A)"]);
    assert_eq!((code, out.lines().next()), (0, Some("equal")), "{out}");
    let (code, out) = run(&["equal", "tr(A*B)", "tr(A)*tr(B)"]);
    assert_eq!(code, 3, "{out}");
    assert!(
        out.starts_with("differs") && out.contains("left = "),
        "{out}"
    );
    let (code, out) = run(&["equal", "tanh(x)", "2*sigmoid(2*x) - 1", "--format", "json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["verdict"], "equal at the sizes tried, not proven");
    assert_eq!(v["how"], "numeric");
    let (code, _) = run(&["equal", "x", "x'"]);
    assert_eq!(code, 1);
}
