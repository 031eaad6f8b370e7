//! Proofs of textbook derivations: each snapshot is reviewed by hand, each
//! step marked `equals_previous` is evaluated against the step before it at
//! random values, and each proof's result is confirmed numerically.
//! Snapshots live in the top-level `snapshots/` folder.

use std::collections::BTreeMap;

use matcalc::confirm::{confirm, problem};
use matcalc::numeric::{draw_sample, evaluate, evaluate_expr, Bindings, CheckConfig, Loss, Value};
use matcalc::proof::{general, render_json, render_text, Proof};
use matcalc::syntax::{to_expr_string, Decls, Expr, ExprKind};
use matcalc::{derive, Derivation, DeriveConfig};

fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings
}

fn derivation(text: &str, decls: &str, wrt: &[&str]) -> Derivation {
    let mut declared = Decls::new();
    if !decls.is_empty() {
        declared.extend_from_str(decls).unwrap();
    }
    let config = DeriveConfig {
        decls: declared,
        wrt: wrt.iter().map(|w| w.to_string()).collect(),
        order: 1,
    };
    let d = derive(text, &config).unwrap();
    let reports = confirm(&d, &BTreeMap::new(), &CheckConfig::default()).unwrap();
    assert!(reports.iter().all(|r| r.ok()), "{text}: not confirmed");
    d
}

/// The argument of the single call of `L`, if any.
fn loss_argument(e: &Expr) -> Option<&Expr> {
    if let ExprKind::Apply(_, args) = &e.kind {
        return args.first();
    }
    e.children().into_iter().find_map(loss_argument)
}

fn bindings(d: &Derivation, wrt: &[String], seed: u64) -> Bindings {
    let p = problem(&d.typed, wrt, &BTreeMap::new());
    let mut b = Bindings {
        values: draw_sample(&p.vars, &p.domains, seed, 0).unwrap(),
        sizes: p.sizes,
        loss: Some(Loss::L2),
        loss_arguments: BTreeMap::new(),
    };
    if let Some(arg) = loss_argument(&d.typed.formula.body) {
        let value = evaluate_expr(arg, &b).unwrap();
        b.loss_arguments.insert("L".into(), value);
    }
    b
}

fn entries(v: Value) -> Vec<f64> {
    match v {
        Value::Matrix(m) => m.iter().copied().collect(),
        Value::Tensor(t) => t.iter().copied().collect(),
    }
}

/// Evaluates every step that claims to equal the one before it, and both;
/// returns how many equalities were checked.
fn check_equalities(d: &Derivation, proof: &Proof, wrt: &[String]) -> usize {
    let mut checked = 0;
    for seed in 1..=3 {
        let b = bindings(d, wrt, seed);
        for pair in proof.steps.windows(2) {
            if !pair[1].equals_previous {
                continue;
            }
            let [before, after] = [&pair[0], &pair[1]].map(|s| {
                evaluate(&s.formula, &b, None)
                    .unwrap_or_else(|e| panic!("{}: {e}", to_expr_string(&s.formula)))
            });
            let (x, y) = (entries(before.value), entries(after.value));
            assert_eq!(x.len(), y.len(), "{}", to_expr_string(&pair[1].formula));
            for (p, q) in x.iter().zip(&y) {
                assert!(
                    (p - q).abs() <= 1e-9 * (1.0 + p.abs()),
                    "{} ≠ {}",
                    to_expr_string(&pair[0].formula),
                    to_expr_string(&pair[1].formula)
                );
            }
            checked += 1;
        }
    }
    checked
}

fn snapshot_general(name: &str, text: &str, decls: &str, wrt: &[&str]) {
    let d = derivation(text, decls, wrt);
    let mut out = String::new();
    for (k, derivative) in d.derivatives.iter().enumerate() {
        let proof = general(&d, k).unwrap();
        assert!(check_equalities(&d, &proof, &derivative.wrt) > 0);
        assert_eq!(
            proof.steps.last().unwrap().formula,
            *derivative.formula(),
            "a proof ends with the result"
        );
        assert_eq!(
            render_json(&proof).as_array().unwrap().len(),
            proof.steps.len()
        );
        out.push_str(&format!(
            "∂/∂{}\n{}\n",
            derivative.wrt[0],
            render_text(&proof)
        ));
    }
    settings().bind(|| insta::assert_snapshot!(name, out));
}

#[test]
fn affine_layer() {
    snapshot_general("affine", "L(X*W + B)", "", &["X", "W", "B"]);
}
