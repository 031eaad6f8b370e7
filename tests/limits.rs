//! matcalc's limits on what it builds: each gives an error that names the
//! limit, quickly, instead of a hang, a stack overflow or running out of
//! memory. (Nesting, depth and input size are tested in `tests/cli.rs`;
//! numeric sizes in `tests/numeric_limits.rs`.)

use std::process::Command;

use matcalc::derive::{derive, simplify, DeriveConfig, DeriveError, MAX_WRITTEN_NODES};
use matcalc::index::{Graph, GraphError, Limit, MAX_INDEX_TERMS};
use matcalc::simplify::{Normalizer, MAX_NORMALIZE_STEPS};
use matcalc::syntax::{parse_formula, BinOp, Decls, DimSpec, ParseError, MAX_TENSOR_ORDER};

fn by(wrt: &str, order: u8) -> DeriveConfig {
    DeriveConfig {
        wrt: vec![wrt.to_string()],
        order,
        ..Default::default()
    }
}

/// `f(f(…f(x)…))`, `depth` deep.
fn nested(f: &str, depth: usize, x: &str) -> String {
    format!("{}{x}{}", format!("{f}(").repeat(depth), ")".repeat(depth))
}

fn limit_message(result: Result<matcalc::Derivation, DeriveError>) -> String {
    match result {
        Err(DeriveError::Limit(limit)) => limit.to_string(),
        Err(other) => panic!("expected a limit error, got: {other}"),
        Ok(_) => panic!("expected a limit error, got a result"),
    }
}

#[test]
fn a_result_too_large_to_write_out_is_refused() {
    // The gradient of tr(X^k) written out has about k² nodes.
    let text = format!("tr({})", vec!["X"; 800].join("*"));
    // The derivation itself stays a small DAG; only writing it out is refused.
    let derivation = derive(&text, &by("X", 1)).expect("the DAG is derived");
    assert!(derivation.derivatives[0].written_size() > MAX_WRITTEN_NODES);
    let message = limit_message(derivation.writable().map(|()| derivation));
    assert!(
        message.contains(&MAX_WRITTEN_NODES.to_string()),
        "{message}"
    );
    // Well below the limit, the same shape of input is written out.
    let small = format!("tr({})", vec!["X"; 20].join("*"));
    let derivation = derive(&small, &by("X", 1)).expect("derives");
    assert!(derivation.writable().is_ok());
}

#[test]
fn an_exponentially_large_result_is_refused_without_overflow() {
    // softmax's Jacobian uses its value twice, so the written-out gradient
    // of a deep chain doubles at every level.
    let text = format!("sum({})", nested("softmax", 80, "x"));
    let derivation = derive(&text, &by("x", 1)).expect("the DAG is derived");
    let message = limit_message(derivation.writable().map(|()| derivation));
    assert!(message.contains("more than"), "{message}");
}

#[test]
fn lowering_to_index_notation_has_a_term_budget() {
    let text = format!("sum({})", nested("softmax", 50, "x"));
    let message = limit_message(derive(&text, &by("x", 2)));
    assert!(
        message.contains(&MAX_INDEX_TERMS.to_string()) && message.contains("index notation"),
        "{message}"
    );
}

#[test]
fn the_simplifier_has_a_step_budget() {
    // x₀ = A + B, xₖ₊₁ = xₖ + xₖ: 30 shared nodes, 2³⁰ terms once expanded.
    let mut graph = Graph::new();
    let dims = [DimSpec::Fixed(2), DimSpec::Fixed(2)];
    let (a, b) = (graph.var("A", dims.clone()), graph.var("B", dims));
    let mut x = graph.binary(BinOp::Add, a, b).expect("A + B fits");
    for _ in 0..30 {
        x = graph.binary(BinOp::Add, x, x).expect("x + x fits");
    }
    match Normalizer::new(&mut graph).normalize(x) {
        Err(GraphError::Limit(limit @ Limit::SimplifySteps { max })) => {
            let message = limit.to_string();
            assert_eq!(max, MAX_NORMALIZE_STEPS);
            assert!(
                message.contains(&MAX_NORMALIZE_STEPS.to_string())
                    && message.contains("step budget"),
                "{message}"
            );
        }
        other => panic!("expected the step budget to stop it, got {other:?}"),
    }
}

#[test]
fn a_small_sum_is_simplified_within_the_budget() {
    let (_, simplified, _) =
        simplify("(A + B) + (A + B)", &Decls::new(), &Default::default()).expect("simplifies");
    assert_eq!(matcalc::syntax::to_expr_string(&simplified), "2*(A + B)");
}

#[test]
fn an_index_form_of_too_high_order_is_refused() {
    let indices: Vec<String> = (0..=MAX_TENSOR_ORDER).map(|k| format!("i{k}")).collect();
    let body: Vec<String> = indices.iter().map(|i| format!("x[{i}]")).collect();
    let text = format!("G[{}] = {}", indices.join(","), body.join("*"));
    match parse_formula(&text, &Decls::new()) {
        Err(ParseError::TooManyIndices { order, limit, .. }) => {
            assert_eq!((order, limit), (MAX_TENSOR_ORDER + 1, MAX_TENSOR_ORDER));
        }
        other => panic!("expected the tensor order limit, got {other:?}"),
    }
    // At the limit itself the formula is read.
    let at_limit = format!(
        "G[{}] = {}",
        indices[..MAX_TENSOR_ORDER].join(","),
        body[..MAX_TENSOR_ORDER].join("*")
    );
    assert!(parse_formula(&at_limit, &Decls::new()).is_ok());
}

#[test]
fn the_cli_names_the_limit_and_exits_with_an_input_error() {
    let text = format!("tr({})", vec!["X"; 800].join("*"));
    let out = Command::new(env!("CARGO_BIN_EXE_matcalc"))
        .args(["--format", "json", "derive", &text, "--wrt", "X"])
        .output()
        .expect("the binary runs");
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("a JSON error document");
    let error = &doc["error"];
    assert_eq!(error["kind"], "limit", "{error}");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("limit of 500000")),
        "{error}"
    );
}

#[test]
fn a_concrete_proof_is_bounded_by_its_entries_before_anything_is_built() {
    let d = matcalc::derive("L(X*W + B)", &by("X", 1)).unwrap();
    let sizes = |x: Vec<usize>, w: Vec<usize>| {
        std::collections::BTreeMap::from([("X".to_string(), x), ("W".to_string(), w)])
    };
    let err = matcalc::proof::concrete(
        &d.record(0).unwrap(),
        &sizes(vec![1_000_000, 1], vec![1, 1]),
    )
    .unwrap_err();
    assert!(err.is_limit(), "{err}");
    let message = err.to_string();
    assert!(message.contains("X: 1000000×1"), "{message}");
    assert!(message.contains(&matcalc::proof::MAX_CONCRETE_ENTRIES.to_string()));
    assert!(
        matcalc::proof::concrete(&d.record(0).unwrap(), &sizes(vec![2, 2], vec![2, 3])).is_ok()
    );
}
