//! The language ML users write, with symbolic sizes: each addition derives
//! and every result is confirmed numerically against finite differences
//! (symbolic sizes get small distinct values). The corpus-format cases at
//! fixed sizes are in tests/corpus/language.jsonl.

use std::collections::BTreeMap;

use matcalc::confirm::{confirm, problem};
use matcalc::derive::{derive, Derivation, DeriveConfig};
use matcalc::exact::{verify, ExactVerdict};
use matcalc::numeric::{CheckConfig, CheckReport};
use matcalc::proof::general;
use matcalc::syntax::{to_expr_string, Decls};

/// Derives `expr` by `wrt` (order 1, or 2 for a Hessian) under `lets`.
fn derived(expr: &str, lets: &str, wrt: &[&str], order: u8) -> Derivation {
    let mut decls = Decls::new();
    if !lets.is_empty() {
        decls.extend_from_str(lets).expect("declarations parse");
    }
    let config = DeriveConfig {
        decls,
        wrt: wrt.iter().map(|s| s.to_string()).collect(),
        order,
        ..Default::default()
    };
    derive(expr, &config).unwrap_or_else(|e| panic!("`{expr}` does not derive: {e}"))
}

/// Derives and confirms every result numerically, never refuted exactly
/// (the exact layer may be undecided, never wrong), each with a proof that
/// ends in it; returns the results.
fn confirmed(expr: &str, lets: &str, wrt: &[&str], order: u8) -> Vec<String> {
    let d = derived(expr, lets, wrt, order);
    for (k, x) in d.derivatives.iter().enumerate() {
        let verdict = verify(
            &problem(&d.typed, &x.wrt, &BTreeMap::new()),
            x.formula(),
            Default::default(),
        );
        assert!(
            !matches!(verdict, Ok(ExactVerdict::Differs { .. })),
            "`{expr}`: refuted exactly: {verdict:?}"
        );
        let record = d.record(k).expect("each derivative has a record");
        let proof = general(&record).unwrap_or_else(|e| panic!("`{expr}`: no proof: {e}"));
        assert_eq!(proof.steps.last().map(|s| &s.formula), Some(x.formula()));
    }
    let reports = confirm(&d, &BTreeMap::new(), &CheckConfig::default())
        .unwrap_or_else(|e| panic!("`{expr}`: {e}"));
    assert!(!reports.is_empty());
    for (r, x) in reports.iter().zip(&d.derivatives) {
        assert!(
            CheckReport::ok(r),
            "`{expr}` by {:?}: `{}` refuted ({:.3e})",
            x.wrt,
            to_expr_string(x.formula()),
            r.max_rel_err
        );
    }
    d.derivatives
        .iter()
        .map(|x| to_expr_string(x.formula()))
        .collect()
}

#[test]
fn means_and_sizes_with_symbolic_sizes() {
    let grad = confirmed("mean(x)", "x: n", &["x"], 1);
    assert_eq!(grad, ["ones(n)/sum(ones(n))"]);
    // At fixed sizes the exact layer decides.
    let d = derived("mean(X, 1)*v", "X: 4x3", &["X"], 1);
    let x = &d.derivatives[0];
    let verdict = verify(
        &problem(&d.typed, &x.wrt, &BTreeMap::new()),
        x.formula(),
        Default::default(),
    );
    assert!(matches!(verdict, Ok(ExactVerdict::Equal)), "{verdict:?}");
    confirmed("sum(x)/n + n*x'*x", "x: n", &["x"], 1);
    confirmed("mean(X, 1)*v + u'*mean(X, 2)", "X: n x k", &["X"], 1);
    confirmed(
        "sum(X)/size(X, 1) + size(A*X, 2)*tr(X'*X)",
        "X: n x k",
        &["X"],
        1,
    );
    // The sizes are constants: no derivative flows into them.
    confirmed("mean(X*W)", "X: n x k, W: k x m", &["X", "W"], 1);
}

#[test]
fn layer_norm_of_a_vector_and_of_each_row() {
    let mean_centred = "(x - mean(x))/sqrt(mean((x - mean(x)).^2) + 0.01)";
    confirmed(&format!("L({mean_centred})"), "x: n", &["x"], 1);
    confirmed(&format!("sum(sin({mean_centred}))"), "x: n", &["x"], 2);
    let centred = "(X - mean(X, 2)*ones(d)')";
    confirmed(
        &format!("L(diag(1 ./ sqrt(mean({centred}.^2, 2) + 0.01))*{centred})"),
        "X: n x d",
        &["X"],
        1,
    );
}

#[test]
fn tan_softplus_erf_and_gelu_derive() {
    assert_eq!(
        confirmed("sum(tan(x/4))", "x: n", &["x"], 1),
        ["0.25*(tan(0.25*x).^2 + 1)"]
    );
    assert_eq!(
        confirmed("w'*softplus(A*x)", "A: m x n", &["x"], 1),
        ["A'*(w .* sigmoid(A*x))"]
    );
    confirmed("sum(erf(x))", "x: n", &["x"], 1);
    confirmed("sum(erf(X*w))", "X: m x n", &["w"], 2);
    confirmed("sum(softplus(x))", "x: n", &["x"], 2);
    confirmed("L(gelu(X*W))", "X: m x n, W: n x k", &["X", "W"], 1);
    confirmed("sum(gelu(x))", "x: n", &["x"], 2);
}

#[test]
fn the_exact_layer_decides_tan_and_softplus_and_leaves_erf_undecided() {
    let verdict = |expr: &str| {
        let d = derived(expr, "x: 3", &["x"], 1);
        let x = &d.derivatives[0];
        verify(
            &problem(&d.typed, &x.wrt, &BTreeMap::new()),
            x.formula(),
            Default::default(),
        )
        .unwrap()
    };
    assert!(matches!(verdict("sum(tan(x))"), ExactVerdict::Equal));
    assert!(matches!(verdict("sum(softplus(x))"), ExactVerdict::Equal));
    match verdict("sum(erf(x))") {
        ExactVerdict::Undecided { reason } => assert!(reason.contains("erf"), "{reason}"),
        other => panic!("erf′ needs π, which the exact layer does not have: {other:?}"),
    }
}

#[test]
fn matrix_powers_are_products_of_a_square_matrix() {
    // The result is written in power form, as a person writes it (`X^2'`
    // is `(X^2)'`: `^` and `'` read left to right, as in MATLAB).
    assert_eq!(confirmed("tr(X^3)", "X: n x n", &["X"], 1), ["3*X^2'"]);
    assert_eq!(confirmed("tr(X^4)", "X: n x n", &["X"], 1), ["4*X^3'"]);
    confirmed("det(X^2) + tr(X^-1)", "X: n x n", &["X"], 1);
    confirmed("L(X^3*w)", "", &["X", "w"], 1);
    confirmed("x'*X^2*x", "X: 3x3", &["X"], 2);
    // A scalar power stays a power.
    assert_eq!(confirmed("a^3", "", &["a"], 1), ["3*a^2"]);
}

/// The symmetric-variable convention: `G = sym(∂f/∂S)`, the symmetric
/// matrix with `df = tr(Gᵀ·dS)` for every symmetric dS.
#[test]
fn a_symmetric_variable_has_the_symmetric_gradient() {
    let lets = "S: n x n symmetric, A: n x n, x: n, m: n";
    assert_eq!(confirmed("tr(A*S)", lets, &["S"], 1), ["0.5*(A + A')"]);
    assert_eq!(confirmed("x'*S*x", lets, &["S"], 1), ["x*x'"]);
    assert_eq!(confirmed("log(det(S))", lets, &["S"], 1), ["inv(S)"]);
    // The Gaussian negative log-likelihood by its covariance.
    let nll = "0.5*log(det(S)) + 0.5*(x - m)'*inv(S)*(x - m)";
    assert_eq!(
        confirmed(nll, lets, &["S"], 1),
        ["0.5*(inv(S) - inv(S)*(x - m)*(x - m)'*inv(S))"]
    );
    // Its mean, by a vector: no convention is involved.
    assert_eq!(confirmed(nll, lets, &["m"], 1), ["-(inv(S)*(x - m))"]);
    // Second derivatives and Jacobians are symmetrized in S's entries.
    confirmed("tr(S*A*S*x*x')", lets, &["S"], 2);
    confirmed("S*x", lets, &["S"], 1);
    let d = derived("tr(A*S)", lets, &["S"], 1);
    assert!(d.derivatives[0].layout.contains("sym(∂f/∂S)"));
}

/// The unconstrained gradient is refuted for a symmetric variable, by
/// finite differences and exactly: its antisymmetric part shows.
#[test]
fn the_unconstrained_gradient_is_refuted_for_a_symmetric_variable() {
    let d = derived("tr(A*S)", "S: 3x3 symmetric, A: 3x3", &["S"], 1);
    let p = problem(&d.typed, &d.derivatives[0].wrt, &BTreeMap::new());
    assert!(p.symmetric.contains("S"));
    let claim = matcalc::syntax::parse_formula("A'", &Decls::new()).unwrap();
    let report = matcalc::numeric::check(&p, &claim, &CheckConfig::default()).unwrap();
    assert!(!report.ok(), "A' passed the check of a symmetric S");
    let directional = CheckConfig {
        method: matcalc::numeric::Method::Directional { directions: 3 },
        ..CheckConfig::default()
    };
    assert!(!matcalc::numeric::check(&p, &claim, &directional)
        .unwrap()
        .ok());
    assert!(
        matcalc::numeric::check(&p, d.derivatives[0].formula(), &directional)
            .unwrap()
            .ok()
    );
    let verdict = verify(&p, &claim, Default::default());
    assert!(
        matches!(verdict, Ok(ExactVerdict::Differs { .. })),
        "{verdict:?}"
    );
    let verdict = verify(&p, d.derivatives[0].formula(), Default::default());
    assert!(matches!(verdict, Ok(ExactVerdict::Equal)), "{verdict:?}");
}

#[test]
fn only_a_square_matrix_can_be_declared_symmetric() {
    let err = Decls::new()
        .extend_from_str("S: n x k symmetric")
        .unwrap_err();
    assert!(err.message.contains("square"), "{}", err.message);
}

/// The opaque Hessian `d2L` of an abstract function at a scalar or a
/// column: second derivatives through `L` derive (confirmed numerically
/// with the known Hessians of the test losses, each with a proof), `d2L`
/// reads back bare and as `∂²L` in the Unicode printout, and what has no
/// matrix form is refused with the reason.
#[test]
fn the_hessian_of_an_abstract_function_is_an_opaque_matrix() {
    assert_eq!(confirmed("L(X*w)", "", &["w", "w"], 2), ["X'*d2L*X"]);
    assert_eq!(
        confirmed("L(a*x)", "a: scalar", &["a", "a"], 2),
        ["x'*d2L*x"]
    );
    assert_eq!(confirmed("L(x)", "", &["x", "x"], 2), ["d2L"]);
    assert_eq!(confirmed("dL(x)'*x", "", &["x"], 1), ["d2L(x)*x + dL(x)"]);
    // Shapes: d2L at an n-vector is n×n, so X'*d2L*X is k×k.
    let mut decls = Decls::new();
    decls.extend_from_str("X: 5 x 3, w: 3").unwrap();
    let typed = matcalc::derive::typecheck("L(X*w) + sum(X'*d2L*X)", &decls).unwrap();
    assert!(to_expr_string(&typed.formula).contains("d2L"));
    for unicode in ["∂²L(X*w)", "X'*∂²L(X*w)*X"] {
        let parsed = matcalc::parse(unicode, &decls).unwrap();
        assert!(to_expr_string(&parsed).contains("d2L(X*w)"), "{unicode}");
    }
    // At a matrix argument d2L would be a 4-index tensor.
    let err = matcalc::derive::typecheck("sum(d2L(X))", &decls).unwrap_err();
    assert!(err.to_string().contains("4-index tensor"), "{err}");
    let config = DeriveConfig {
        decls: decls.clone(),
        wrt: vec!["X".into(), "X".into()],
        order: 2,
        ..Default::default()
    };
    let err = derive("L(X)", &config).unwrap_err();
    assert!(err.to_string().contains("4-index tensor"), "{err}");
}
