//! `--backprop` listings: every line evaluated in order (forward values,
//! then adjoints) gives, on the variables' lines, the gradients the engine
//! derived, themselves confirmed against finite differences.

use std::collections::BTreeMap;

use matcalc::backprop::{backprop, BackpropError};
use matcalc::confirm::problem;
use matcalc::derive::{derive, DeriveConfig};
use matcalc::numeric::{
    check, draw_sample, evaluate_expr, relative_error, Bindings, CheckConfig, Loss,
};
use matcalc::syntax::Decls;

fn derivation(expr: &str, decls: &str, wrt: &[&str]) -> matcalc::Derivation {
    let mut d = Decls::new();
    d.extend_from_str(decls).expect("declarations parse");
    let config = DeriveConfig {
        decls: d,
        wrt: wrt.iter().map(|w| w.to_string()).collect(),
        order: 1,
        ..Default::default()
    };
    derive(expr, &config).expect("derives")
}

/// Evaluates the listing of `expr` and compares each variable's line with
/// the derived gradient (confirmed by finite differences first).
fn confirm_listing(expr: &str, decls: &str, wrt: &[&str]) -> String {
    let d = derivation(expr, decls, wrt);
    let listing = backprop(&d).expect("a reverse pass");
    let text = listing.text();
    let p = problem(&d.typed, &d.derivatives[0].wrt, &BTreeMap::new());
    let values = draw_sample(&p.vars, &p.domains, 3, 0).expect("a sample");
    let mut b = Bindings {
        values,
        sizes: p.sizes.clone(),
        loss: Some(Loss::L1),
        ..Default::default()
    };
    for line in listing.forward.iter().chain(&listing.backward) {
        let v =
            evaluate_expr(&line.expr, &b).unwrap_or_else(|e| panic!("{e}: {}\n{text}", line.name));
        b.values.insert(line.name.clone(), v);
    }
    let loss = text
        .lines()
        .find_map(|l| l.trim().strip_prefix('∂').and_then(|r| r.split('/').next()))
        .expect("a backward line")
        .to_string();
    for (name, arg) in d.typed.formula.body.loss_arguments() {
        let at = evaluate_expr(&arg, &b).expect("the loss argument evaluates");
        b.loss_arguments.insert(name, at);
    }
    for x in &d.derivatives {
        let pw = problem(&d.typed, &x.wrt, &BTreeMap::new());
        let report = check(&pw, x.formula(), &CheckConfig::default()).expect("checks");
        assert!(report.ok(), "the derived gradient is refuted");
        let derived = evaluate_expr(&x.formula().body, &b).expect("evaluates");
        let key = format!("∂{loss}/∂{}", x.wrt[0]);
        let listed = b
            .values
            .get(&key)
            .unwrap_or_else(|| panic!("no line {key}\n{text}"));
        let err = relative_error(&listed.clone().into_dyn(), &derived.into_dyn());
        assert!(err < 1e-9, "{key}: relative error {err:.1e}\n{text}");
    }
    text
}

#[test]
fn an_affine_layer_reads_like_the_textbook() {
    let text = confirm_listing(
        "L(X*W + B)",
        "X: n x k, W: k x m, B: n x m",
        &["X", "W", "B"],
    );
    assert!(text.contains("∂L/∂W = Xᵀ·∂L/∂Y₂"), "{text}");
    assert!(text.contains("∂L/∂X = ∂L/∂Y₂·Wᵀ"), "{text}");
}

#[test]
fn a_two_layer_net_with_softmax_and_cross_entropy_backpropagates_layer_by_layer() {
    let text = confirm_listing(
        "-sum(t .* log(softmax(W2*sigmoid(W1*x + b1) + b2)))",
        "W1: k x m, x: m, b1: k, W2: n x k, b2: n, t: n",
        &["W1", "b1", "W2", "b2"],
    );
    // Softmax with the cross-entropy loss: y·sum(t) − t, then the layers.
    assert!(text.contains("= sum(t)·Y₆ − t"), "{text}");
    assert!(text.contains("∂f/∂W2 = ∂f/∂Y₅·Y₃ᵀ"), "{text}");
}

#[test]
fn a_deep_tanh_net_has_one_line_per_node() {
    let k = 12;
    let mut inner = "x".to_string();
    for i in 1..k {
        inner = format!("tanh(W{i}*{inner})");
    }
    let decls: Vec<String> = (1..=k).map(|i| format!("W{i}: n x n")).collect();
    let text = confirm_listing(
        &format!("norm2(W{k}*{inner} - y)^2"),
        &format!("{}, x: n, y: n", decls.join(", ")),
        &["W1"],
    );
    // 2k forward nodes (products and tanh's), then norm, square: as many
    // backward lines, each a few symbols long.
    let lines = text.lines().count();
    assert!(lines <= 4 * k + 8, "{lines} lines:\n{text}");
    assert!(text.lines().all(|l| l.chars().count() < 60), "{text}");
}

#[test]
fn a_hessian_has_no_backprop_listing() {
    let mut d = Decls::new();
    d.extend_from_str("x: n, A: n x n")
        .expect("declarations parse");
    let config = DeriveConfig {
        decls: d,
        wrt: vec!["x".into()],
        order: 2,
        ..Default::default()
    };
    let h = derive("x'*A*x", &config).expect("derives");
    assert!(matches!(backprop(&h), Err(BackpropError::NoReversePass(_))));
}
