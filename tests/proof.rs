//! Proofs of textbook derivations: each snapshot is reviewed by hand, each
//! step marked `equals_previous` is evaluated against the step before it at
//! random values, and each proof's result is confirmed numerically.
//! Snapshots live in the top-level `snapshots/` folder.

use std::collections::BTreeMap;

use matcalc::confirm::{confirm, problem};
use matcalc::numeric::{
    draw_sample, evaluate, evaluate_expr, parse_domains, Bindings, CheckConfig, Domain, Loss, Value,
};
use matcalc::proof::{
    concrete, general, render_json, render_latex, render_markdown, render_text, Proof,
};
use matcalc::syntax::{to_expr_string, Decls, Expr, ExprKind, Formula, IndexLhs, Span};
use matcalc::{derive, Derivation, DeriveConfig};

fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings
}

fn derivation(text: &str, decls: &str, domains: &str, wrt: &[&str]) -> Derivation {
    derivation_of_order(text, decls, domains, wrt, 1)
}

fn derivation_of_order(
    text: &str,
    decls: &str,
    domains: &str,
    wrt: &[&str],
    order: u8,
) -> Derivation {
    let mut declared = Decls::new();
    if !decls.is_empty() {
        declared.extend_from_str(decls).unwrap();
    }
    let config = DeriveConfig {
        decls: declared,
        wrt: wrt.iter().map(|w| w.to_string()).collect(),
        order,
        ..Default::default()
    };
    let d = derive(text, &config).unwrap();
    let domains = if domains.is_empty() {
        BTreeMap::new()
    } else {
        parse_domains(domains).unwrap()
    };
    let reports = confirm(&d, &domains, &CheckConfig::default()).unwrap();
    assert!(reports.iter().all(|r| r.ok()), "{text}: not confirmed");
    // And exactly, where the exact layer can decide (small concrete sizes):
    // it must never find a difference.
    for x in &d.derivatives {
        let p = problem(&d.typed, &x.wrt, &domains);
        let verdict = matcalc::exact::verify(&p, x.formula(), Default::default());
        assert!(
            !matches!(verdict, Ok(matcalc::exact::ExactVerdict::Differs { .. })),
            "{text}: refuted exactly: {verdict:?}"
        );
    }
    d
}

/// The argument of the single call of `L`, if any.
fn loss_argument(e: &Expr) -> Option<&Expr> {
    if let ExprKind::Apply(_, args) = &e.kind {
        return args.first();
    }
    e.children().into_iter().find_map(loss_argument)
}

fn bindings(
    d: &Derivation,
    wrt: &[String],
    domains: &BTreeMap<String, Domain>,
    seed: u64,
) -> Bindings {
    let p = problem(&d.typed, wrt, domains);
    let mut values = draw_sample(&p.vars, &p.domains, seed, 0).unwrap();
    // The differential `dx` of a variable (forward-mode proofs) is a random
    // direction of its shape.
    let directions = draw_sample(&p.vars, &p.domains, seed + 1000, 0).unwrap();
    for name in wrt {
        if let Some(v) = directions.get(name) {
            values
                .entry(format!("d{name}"))
                .or_insert_with(|| v.clone());
        }
    }
    let mut b = Bindings {
        values,
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

/// A scalar written in index notation (`sum[k](x[k]*x[k])`) is read as an
/// index form with no free index, which the syntax has no spelling for.
fn evaluable(f: &Formula) -> Formula {
    let mut f = f.clone();
    if f.lhs.is_none() && !f.is_matrix_form() {
        f.lhs = Some(IndexLhs {
            name: "s".into(),
            indices: Vec::new(),
            span: Span::NONE,
        });
    }
    f
}

fn entries(v: Value) -> Vec<f64> {
    match v {
        Value::Matrix(m) => m.iter().copied().collect(),
        Value::Tensor(t) => t.iter().copied().collect(),
    }
}

fn layout_dims(v: &Value) -> Vec<usize> {
    match v {
        Value::Matrix(m) if m.len() == 1 => Vec::new(),
        Value::Matrix(m) if m.ncols() == 1 => vec![m.nrows()],
        Value::Matrix(m) => vec![m.nrows(), m.ncols()],
        Value::Tensor(t) => t.shape().to_vec(),
    }
}

/// Evaluates each run of steps joined by `equals_previous` and compares
/// neighbours; a formula whose size nothing in it fixes (`D[a,b] = 1`) is
/// sized like the others of its run. Returns how many equalities held.
fn check_equalities(
    d: &Derivation,
    proof: &Proof,
    wrt: &[String],
    domains: &BTreeMap<String, Domain>,
) -> usize {
    let mut runs: Vec<Vec<&Formula>> = Vec::new();
    for step in &proof.steps {
        match runs.last_mut() {
            Some(run) if step.equals_previous => run.push(&step.formula),
            _ => runs.push(vec![&step.formula]),
        }
    }
    let mut checked = 0;
    for seed in 1..=3 {
        let b = bindings(d, wrt, domains, seed);
        for run in runs.iter().filter(|r| r.len() > 1) {
            let first: Vec<_> = run
                .iter()
                .map(|f| evaluate(&evaluable(f), &b, None).ok())
                .collect();
            let dims = first
                .iter()
                .flatten()
                .map(|e| layout_dims(&e.value))
                .next()
                .unwrap_or_else(|| {
                    let run: Vec<String> = run.iter().map(|f| to_expr_string(f)).collect();
                    panic!("no formula of this run fixes its size: {run:?}")
                });
            let values: Vec<Vec<f64>> = run
                .iter()
                .zip(first)
                .map(|(f, e)| {
                    let e = e.unwrap_or_else(|| {
                        evaluate(&evaluable(f), &b, Some(&dims))
                            .unwrap_or_else(|e| panic!("{}: {e}", to_expr_string(f)))
                    });
                    entries(e.value)
                })
                .collect();
            for (k, pair) in values.windows(2).enumerate() {
                assert_eq!(
                    pair[0].len(),
                    pair[1].len(),
                    "{}",
                    to_expr_string(run[k + 1])
                );
                for (p, q) in pair[0].iter().zip(&pair[1]) {
                    assert!(
                        (p - q).abs() <= 1e-9 * (1.0 + p.abs()),
                        "{} ≠ {}",
                        to_expr_string(run[k]),
                        to_expr_string(run[k + 1])
                    );
                }
                checked += 1;
            }
        }
    }
    checked
}

fn snapshot_general(name: &str, text: &str, decls: &str, domains: &str, wrt: &[&str]) {
    snapshot_general_of_order(name, text, decls, domains, wrt, 1);
}

fn snapshot_general_of_order(
    name: &str,
    text: &str,
    decls: &str,
    domains: &str,
    wrt: &[&str],
    order: u8,
) {
    let d = derivation_of_order(text, decls, domains, wrt, order);
    let mut out = String::new();
    for (k, derivative) in d.derivatives.iter().enumerate() {
        let proof = general(&d, k).unwrap();
        let domains = if domains.is_empty() {
            BTreeMap::new()
        } else {
            parse_domains(domains).unwrap()
        };
        assert!(check_equalities(&d, &proof, &derivative.wrt, &domains) > 0);
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
            derivative.wrt.join("∂"),
            render_text(&proof)
        ));
    }
    settings().bind(|| insta::assert_snapshot!(name, out));
}

#[test]
fn hessian_of_quadratic_form() {
    snapshot_general_of_order("hessian_quadratic", "x'*A*x", "", "", &["x"], 2);
}

#[test]
fn mixed_second_derivative() {
    snapshot_general_of_order("mixed_bilinear", "x'*A*y", "", "", &["x", "y"], 2);
}

#[test]
fn jacobian_of_softmax() {
    snapshot_general("jacobian_softmax", "softmax(x)", "", "", &["x"]);
}

#[test]
fn hessian_of_least_squares() {
    snapshot_general_of_order(
        "hessian_least_squares",
        "norm2(A*x - y)^2",
        "",
        "",
        &["x"],
        2,
    );
}

#[test]
fn affine_layer() {
    snapshot_general("affine", "L(X*W + B)", "", "", &["X", "W", "B"]);
}

#[test]
fn broadcast_bias() {
    snapshot_general("broadcast_bias", "L(X*W + b')", "b: m", "", &["b"]);
}

#[test]
fn relu() {
    snapshot_general("relu", "L(relu(X))", "", "", &["X"]);
}

#[test]
fn sigmoid() {
    snapshot_general("sigmoid", "sum(sigmoid(X))", "", "", &["X"]);
}

#[test]
fn trace_of_product() {
    snapshot_general("trace_axb", "tr(A*X*B)", "", "", &["X"]);
}

#[test]
fn quadratic_form() {
    snapshot_general("quadratic", "x'*A*x", "", "", &["x"]);
}

#[test]
fn log_det() {
    snapshot_general("logdet", "log(det(X))", "", "X: posdet", &["X"]);
}

#[test]
fn softmax_with_loss() {
    // Deep Learning from Scratch ch. 5.6.3: Softmax-with-Loss.
    snapshot_general(
        "softmax_with_loss",
        "-y'*log(softmax(x))",
        "",
        "y: onehot",
        &["x"],
    );
}

/// Ten more identities of the corpus (Matrix Cookbook equation numbers as
/// its `source` fields give them), one proof each.
#[test]
fn corpus_identities() {
    let cases: [(&str, &str, &str, &str, &str); 10] = [
        ("cookbook_69_lin_atx", "a'*x", "a: 4, x: 4", "", "x"),
        (
            "cookbook_71_lin_atxtb",
            "a'*X'*b",
            "a: 4, X: 3x4, b: 3",
            "",
            "X",
        ),
        (
            "cookbook_101_tr_axb",
            "tr(A*X*B)",
            "A: 2x3, X: 3x4, B: 4x2",
            "",
            "X",
        ),
        ("cookbook_106_tr_x2", "tr(X*X)", "X: 3x3", "", "X"),
        (
            "cookbook_57_logdet",
            "log(det(X))",
            "X: 4x4",
            "X: posdet",
            "X",
        ),
        (
            "cookbook_63_inv_tr_axb",
            "tr(A*inv(X)*B)",
            "A: 2x3, X: 3x3, B: 3x2",
            "X: invertible",
            "X",
        ),
        (
            "cookbook_129_norm_l2",
            "norm2(x - a)",
            "x: 4, a: 4",
            "",
            "x",
        ),
        (
            "norm_fro_axb",
            "norm2(A*X - B)^2",
            "A: 4x3, X: 3x2, B: 4x2",
            "",
            "X",
        ),
        (
            "dl_mlp_w2",
            "L(relu(X*W1 + b1')*W2 + b2')",
            "X: 4x3, W1: 3x5, b1: 5, W2: 5x2, b2: 2",
            "",
            "W2",
        ),
        ("ac_hadamard", "L(X .* Y)", "X: 3x4, Y: 3x4", "", "X"),
    ];
    for (name, text, decls, domains, wrt) in cases {
        snapshot_general(name, text, decls, domains, &[wrt]);
    }
}

fn snapshot_concrete(
    name: &str,
    text: &str,
    decls: &str,
    domains: &str,
    wrt: &str,
    sizes: &[(&str, &[usize])],
) {
    let d = derivation(text, decls, domains, &[wrt]);
    let sizes: BTreeMap<String, Vec<usize>> = sizes
        .iter()
        .map(|(n, dims)| (n.to_string(), dims.to_vec()))
        .collect();
    let proof = concrete(&d, 0, &sizes).unwrap();
    let last = proof.steps.last().unwrap();
    assert_eq!(last.rule, "exact-check");
    assert!(
        last.text.contains("verified exactly for these sizes"),
        "{}",
        last.text
    );
    settings().bind(|| insta::assert_snapshot!(name, render_text(&proof)));
}

#[test]
fn affine_concrete() {
    snapshot_concrete(
        "affine_concrete_2x2_2x3",
        "L(X*W + B)",
        "",
        "",
        "X",
        &[("X", &[2, 2]), ("W", &[2, 3])],
    );
}

#[test]
fn trace_concrete_smallest_sizes() {
    snapshot_concrete("trace_axb_concrete", "tr(A*X*B)", "", "", "X", &[]);
}

#[test]
fn inconsistent_sizes_are_refused() {
    let d = derivation("L(X*W + B)", "", "", &["X"]);
    let sizes = BTreeMap::from([("X".to_string(), vec![2, 2]), ("W".to_string(), vec![3, 3])]);
    assert!(concrete(&d, 0, &sizes).is_err());
}

#[test]
fn cli_writes_both_proofs_in_json() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_matcalc"))
        .args(["derive", "L(X*W + B)", "--wrt", "X", "--format", "json"])
        .args(["--concrete", "X: 2x2, W: 2x3"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let proofs = doc["proofs"].as_array().unwrap();
    assert_eq!(proofs.len(), 2, "the general proof and the concrete one");
    let last = proofs[1]["steps"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert!(last["text"]
        .as_str()
        .unwrap()
        .contains("verified exactly for these sizes"));
}

#[test]
fn broadcast_bias_concrete() {
    snapshot_concrete(
        "broadcast_bias_concrete",
        "L(X*W + b')",
        "b: m",
        "",
        "b",
        &[("X", &[2, 2]), ("W", &[2, 3])],
    );
}

#[test]
fn markdown_and_latex() {
    let d = derivation("L(X*W + B)", "", "", &["X"]);
    let proof = general(&d, 0).unwrap();
    let out = format!("{}\n---\n{}", render_markdown(&proof), render_latex(&proof));
    settings().bind(|| insta::assert_snapshot!("affine_markdown_latex", out));
}

/// Every first-order corpus case that derives has a general proof that
/// ends with its result, and every equality in it holds at random values
/// from the case's domains.
#[test]
fn every_corpus_gradient_has_a_proof() {
    let (proved, equalities) = prove_corpus(1);
    assert!(proved > 50, "only {proved} proofs");
    assert!(equalities > proved, "only {equalities} equalities checked");
}

#[test]
fn every_corpus_second_derivative_has_a_proof() {
    let (proved, equalities) = prove_corpus(2);
    assert!(proved >= 4, "only {proved} proofs");
    assert!(equalities > proved, "only {equalities} equalities checked");
}

/// Proves every corpus case of `order` that derives, evaluating every
/// equality; gives how many were proved and how many equalities held.
fn prove_corpus(order: u8) -> (usize, usize) {
    let (mut proved, mut equalities) = (0, 0);
    for line in include_str!("corpus/cases.jsonl").lines() {
        let case: serde_json::Value = serde_json::from_str(line).unwrap();
        if case["order"].as_u64() != Some(u64::from(order)) {
            continue;
        }
        let wrt: Vec<String> = match &case["wrt"] {
            serde_json::Value::String(w) => vec![w.clone()],
            serde_json::Value::Array(ws) => ws
                .iter()
                .filter_map(|w| w.as_str().map(String::from))
                .collect(),
            _ => continue,
        };
        let mut decls = Decls::new();
        for (name, dims) in case["vars"].as_object().unwrap() {
            let dims: Vec<String> = dims
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.to_string())
                .collect();
            if !dims.is_empty() {
                decls
                    .extend_from_str(&format!("{name}: {}", dims.join("x")))
                    .unwrap();
            }
        }
        let config = DeriveConfig {
            decls,
            wrt,
            order,
            ..Default::default()
        };
        let Ok(d) = derive(case["expr"].as_str().unwrap(), &config) else {
            continue;
        };
        let proof = general(&d, 0).unwrap_or_else(|e| panic!("{}: {e}", case["id"]));
        let domains: BTreeMap<String, Domain> = case["domain"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(name, dom)| {
                (
                    name.clone(),
                    Domain::from_name(dom.as_str().unwrap()).unwrap(),
                )
            })
            .collect();
        equalities += check_equalities(&d, &proof, &d.derivatives[0].wrt, &domains);
        assert_eq!(
            proof.steps.last().unwrap().formula,
            *d.derivatives[0].formula()
        );
        if order == 2 {
            assert!(
                proof.steps.iter().any(|s| s.rule == "read-off"),
                "{}: the second derivative is not read off a differential",
                case["id"]
            );
        }
        proved += 1;
    }
    (proved, equalities)
}

#[test]
fn elementwise_and_determinant_concrete() {
    let square: &[(&str, &[usize])] = &[("X", &[2, 2])];
    snapshot_concrete("relu_concrete", "L(relu(X))", "", "", "X", square);
    snapshot_concrete("sigmoid_concrete", "sum(sigmoid(X))", "", "", "X", square);
    snapshot_concrete(
        "logdet_concrete",
        "log(det(X))",
        "",
        "X: posdet",
        "X",
        square,
    );
    snapshot_concrete("quadratic_concrete", "x'*A*x", "", "", "x", &[("x", &[2])]);
}
