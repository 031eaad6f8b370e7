//! Proofs of textbook derivations: each snapshot is reviewed by hand, each
//! proof's self-check must pass on every step (every equality evaluated at
//! random values), no proof names two nodes alike, and each proof's result
//! is confirmed numerically.
//! Snapshots live in the top-level `snapshots/` folder.

use std::collections::BTreeMap;

use matcalc::confirm::{confirm, problem};
use matcalc::numeric::{parse_domains, CheckConfig, Domain};
use matcalc::proof::{
    check, concrete, general, render_json, render_latex, render_markdown, render_text, Checked,
    Lang, Proof, Say,
};
use matcalc::simplify::Assumptions;
use matcalc::syntax::{to_expr_string, Decls};
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
    let domains = parsed(domains);
    let config = DeriveConfig {
        decls: declared,
        wrt: wrt.iter().map(|w| w.to_string()).collect(),
        order,
        assumptions: Assumptions::from_domains(&domains),
    };
    let d = derive(text, &config).unwrap();
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

/// Runs the proof's own self-check at the derivation's sample points and
/// asserts every step passed: each equality held, every other step is a
/// definition. Gives how many equalities held.
fn self_check(
    d: &Derivation,
    proof: &mut Proof,
    wrt: &[String],
    domains: &BTreeMap<String, Domain>,
) -> usize {
    let p = problem(&d.typed, wrt, domains);
    let held =
        check(proof, &p).unwrap_or_else(|e| panic!("{}: {e}", to_expr_string(&d.typed.formula)));
    for (n, step) in proof.steps.iter().enumerate() {
        assert!(
            matches!(step.checked, Checked::Holds { .. } | Checked::Defines),
            "{}: step {} ({}) is {:?}",
            to_expr_string(&d.typed.formula),
            n + 1,
            step.rule,
            step.checked
        );
    }
    held
}

/// No proof gives one name to two nodes, nor two names to one node.
fn assert_distinct_names(proof: &Proof) {
    let names = proof.names();
    for (k, (name, node)) in names.iter().enumerate() {
        for (other, other_node) in &names[k + 1..] {
            assert_ne!(name, other, "{name} names both {node} and {other_node}");
            assert_ne!(node, other_node, "{node} is named both {name} and {other}");
        }
    }
}

/// The proof in every format and language.
fn every_rendering(proof: &Proof) -> String {
    let mut out = String::new();
    for lang in [Lang::En, Lang::Ko] {
        out.push_str(&format!(
            "--- text {lang:?}\n{}--- markdown {lang:?}\n{}--- latex {lang:?}\n{}",
            render_text(proof, lang),
            render_markdown(proof, lang),
            render_latex(proof, lang)
        ));
    }
    out
}

fn snapshot_general(name: &str, text: &str, decls: &str, domains: &str, wrt: &[&str]) {
    snapshot_general_of_order(name, text, decls, domains, wrt, 1);
}

/// Like [`snapshot_general`], in English and Korean, text, Markdown and
/// LaTeX.
fn snapshot_all(name: &str, text: &str, domains: &str, wrt: &[&str]) {
    let d = derivation(text, "", domains, wrt);
    let domains = parsed(domains);
    let mut out = String::new();
    for (k, derivative) in d.derivatives.iter().enumerate() {
        let mut proof = general(&d.record(k).unwrap()).unwrap();
        assert!(self_check(&d, &mut proof, &derivative.wrt, &domains) > 0);
        assert_distinct_names(&proof);
        out.push_str(&format!(
            "∂/∂{}\n{}\n",
            derivative.wrt.join("∂"),
            every_rendering(&proof)
        ));
    }
    settings().bind(|| insta::assert_snapshot!(name, out));
}

fn parsed(domains: &str) -> BTreeMap<String, Domain> {
    if domains.is_empty() {
        BTreeMap::new()
    } else {
        parse_domains(domains).unwrap()
    }
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
        let mut proof = general(&d.record(k).unwrap()).unwrap();
        assert!(self_check(&d, &mut proof, &derivative.wrt, &parsed(domains)) > 0);
        assert_distinct_names(&proof);
        assert_eq!(
            proof.steps.last().unwrap().formula,
            *derivative.formula(),
            "a proof ends with the result"
        );
        assert_eq!(
            render_json(&proof, Lang::En).as_array().unwrap().len(),
            proof.steps.len()
        );
        out.push_str(&format!(
            "∂/∂{}\n{}\n",
            derivative.wrt.join("∂"),
            render_text(&proof, Lang::En)
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
    snapshot_all("affine", "L(X*W + B)", "", &["X", "W", "B"]);
}

#[test]
fn broadcast_bias() {
    snapshot_general("broadcast_bias", "L(X*W + b')", "b: m", "", &["b"]);
}

#[test]
fn relu() {
    snapshot_all("relu", "L(relu(X))", "", &["X"]);
}

#[test]
fn sigmoid() {
    snapshot_all("sigmoid", "sum(sigmoid(X))", "", &["X"]);
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
    snapshot_all(
        "softmax_with_loss",
        "-y'*log(softmax(x))",
        "y: onehot",
        &["x"],
    );
}

#[test]
fn two_layer_net() {
    // Deep Learning from Scratch ch. 5.7: Affine-ReLU-Affine.
    snapshot_all(
        "two_layer_net",
        "L(relu(X*W1 + b1')*W2 + b2')",
        "",
        &["W1", "W2"],
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
    let proof = concrete(&d.record(0).unwrap(), &sizes).unwrap();
    let last = proof.steps.last().unwrap();
    assert_eq!(last.rule, "exact-check");
    assert_eq!(last.say, Say::Verdict { agrees: true });
    settings().bind(|| insta::assert_snapshot!(name, every_rendering(&proof)));
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
fn affine_concrete_w() {
    snapshot_concrete(
        "affine_concrete_w_2x2_2x3",
        "L(X*W + B)",
        "",
        "",
        "W",
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
    assert!(concrete(&d.record(0).unwrap(), &sizes).is_err());
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
    assert!(last["text"].as_str().unwrap().contains("verified exactly"));
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
        let mut proof =
            general(&d.record(0).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", case["id"]));
        assert_distinct_names(&proof);
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
        equalities += self_check(&d, &mut proof, &d.derivatives[0].wrt, &domains);
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
