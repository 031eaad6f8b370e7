//! The check's tolerance near zero: right second derivatives that are zero
//! or small are confirmed (the error is judged against the finite
//! differences' own rounding bound, scaled by the function's magnitude),
//! and wrong claims, small or large, are still refuted — by full and by
//! directional differences.

mod support;

use support::numeric::{claim, problem};

use matcalc::numeric::{check, CheckConfig, Method, Problem};

fn configs() -> [CheckConfig; 2] {
    [
        CheckConfig::default(),
        CheckConfig {
            method: Method::Directional { directions: 3 },
            ..CheckConfig::default()
        },
    ]
}

fn verdicts(p: &Problem, text: &str) -> Vec<(bool, f64)> {
    configs()
        .iter()
        .map(|config| {
            let report = check(p, &claim(text), config).expect("the check runs");
            (report.ok(), report.max_rel_err)
        })
        .collect()
}

fn confirmed(p: &Problem, text: &str) {
    for (ok, err) in verdicts(p, text) {
        assert!(ok, "`{text}` should be confirmed; relative error {err:e}");
    }
}

fn refuted(p: &Problem, text: &str) {
    for (ok, err) in verdicts(p, text) {
        assert!(!ok, "`{text}` should be refuted; relative error {err:e}");
    }
}

#[test]
fn zero_hessians_are_confirmed() {
    let x: &[(&str, &[usize])] = &[("x", &[4])];
    confirmed(&problem("sum(x)", x, &["x", "x"], ""), "0*ones(4,4)");
    let a: &[(&str, &[usize])] = &[("A", &[3, 3])];
    confirmed(&problem("tr(A)", a, &["A", "A"], ""), "H[i,j,k,l] = 0");
    // Large values and cancellation leave more rounding in the differences,
    // and the bound grows with them.
    confirmed(
        &problem("1000 + 1000*sum(x)", x, &["x", "x"], ""),
        "0*ones(4,4)",
    );
    let xa: &[(&str, &[usize])] = &[("x", &[3]), ("A", &[3, 3])];
    confirmed(
        &problem("x'*A*x - x'*A'*x", xa, &["x", "x"], ""),
        "0*ones(3,3)",
    );
    let xy: &[(&str, &[usize])] = &[("x", &[3]), ("y", &[2])];
    confirmed(
        &problem("sum(x) + sum(exp(y))", xy, &["x", "y"], ""),
        "0*ones(3,2)",
    );
}

#[test]
fn small_hessians_are_confirmed() {
    let x: &[(&str, &[usize])] = &[("x", &[4])];
    confirmed(&problem("1e-6*(x'*x)", x, &["x", "x"], ""), "2e-6*eye(4)");
    confirmed(
        &problem("sum(x) + 1e-5*sum(sin(x))", x, &["x", "x"], ""),
        "-1e-5*diag(sin(x))",
    );
}

#[test]
fn badly_conditioned_samples_are_redrawn_not_refuted() {
    // With normal samples some X are nearly singular, where the 5-point
    // stencil's truncation error exceeds the tolerance.
    let x: &[(&str, &[usize])] = &[("X", &[3, 3])];
    let p = problem("logdet(X)", x, &["X", "X"], "");
    confirmed(&p, "H[i,j,k,l] = -inv(X)[l,i]*inv(X)[j,k]");
}

#[test]
fn a_transposed_gradient_is_refuted() {
    let ax: &[(&str, &[usize])] = &[("A", &[3, 3]), ("X", &[3, 3])];
    let p = problem("tr(A*X)", ax, &["X"], "");
    confirmed(&p, "A'");
    refuted(&p, "A");
}

#[test]
fn a_hessian_off_by_a_factor_of_two_is_refuted() {
    let xa: &[(&str, &[usize])] = &[("x", &[3]), ("A", &[3, 3])];
    let p = problem("x'*A*x", xa, &["x", "x"], "");
    confirmed(&p, "A + A'");
    refuted(&p, "2*(A + A')");
    refuted(&p, "0.5*(A + A')");
}

#[test]
fn a_small_nonzero_hessian_claimed_zero_is_refuted() {
    let x: &[(&str, &[usize])] = &[("x", &[4])];
    let p = problem("1e-3*(x'*x)", x, &["x", "x"], "");
    confirmed(&p, "2e-3*eye(4)");
    refuted(&p, "0*eye(4)");
    let p = problem("sum(x) + 1e-4*sum(exp(x))", x, &["x", "x"], "");
    refuted(&p, "0*eye(4)");
}

#[test]
fn a_zero_hessian_claimed_small_where_the_function_is_large_is_refuted() {
    let x: &[(&str, &[usize])] = &[("x", &[4])];
    let p = problem("1000 + 1000*sum(x)", x, &["x", "x"], "");
    refuted(&p, "1e-2*eye(4)");
    refuted(&p, "1e-3*ones(4,4)");
}
