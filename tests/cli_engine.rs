//! The engine's commands through the binary: `derive`, `simplify`, `check`
//! and `eval`, their exit codes and their batch modes.

use std::process::Command;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn matcalc(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_matcalc"))
        .args(args)
        .output()
        .expect("the binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn derive_the_affine_layer_for_people_and_programs() {
    let run = matcalc(&["derive", "L(X*W + B)", "--wrt", "X"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .starts_with("∂L/∂X = ∂L/∂Y·Wᵀ   where Y = X·W + B"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("assuming X: n×k, W: k×m, B: n×m"),
        "{}",
        run.stdout
    );
    let run = matcalc(&["derive", "L(X*W + B)", "--wrt", "X,W,B", "--format", "expr"]);
    assert_eq!(run.stdout, "dL*W'\nX'*dL\ndL\n");
    let run = matcalc(&["derive", "L(X*W + B)", "--wrt", "X", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["derivatives"][0]["result"], "dL*W'");
    assert_eq!(doc["derivatives"][0]["form"], "matrix");
}

#[test]
fn derive_check_confirms_and_hessians_work() {
    let run = matcalc(&["derive", "x'*A*x", "--wrt", "x", "--order", "2", "--check"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("A + Aᵀ"), "{}", run.stdout);
    assert!(
        run.stdout.contains("confirmed by finite differences"),
        "{}",
        run.stdout
    );
    let run = matcalc(&[
        "derive",
        "log(det(X))",
        "--wrt",
        "X",
        "--domain",
        "X: posdet",
        "--check",
        "--format",
        "expr",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "inv(X)'\n");
}

#[test]
fn a_tensor_is_given_in_index_form_and_labelled() {
    let run = matcalc(&["derive", "X*A", "--wrt", "X", "--let", "X: 2x3, A: 3x4"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("index form"), "{}", run.stdout);
    let run = matcalc(&[
        "derive",
        "X*A",
        "--wrt",
        "X",
        "--let",
        "X: 2x3, A: 3x4",
        "--format",
        "expr",
    ]);
    assert_eq!(run.stdout, "J[i,j,k,l] = A[l,j]*delta(i,k)\n");
}

#[test]
fn derive_errors_are_clear() {
    let run = matcalc(&["derive", "L(X*W + B)", "--wrt", "Q"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("`Q` does not occur"), "{}", run.stderr);
    let run = matcalc(&["derive", "X*b", "--wrt", "X", "--let", "X: 4x3, b: 5"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("inner dimensions 3 and 5 differ"),
        "{}",
        run.stderr
    );
    let run = matcalc(&["derive", "L(dL)", "--wrt", "X"]);
    assert_ne!(run.code, 0);
    let run = matcalc(&["derive", "x'*x"]);
    assert_eq!(run.code, 2, "--wrt is required: {}", run.stderr);
}

#[test]
fn simplify_collects_like_terms() {
    let run = matcalc(&["simplify", "(A*B)' + B'*A'", "--format", "expr"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "2*B'*A'\n");
}

#[test]
fn check_exits_three_on_a_refuted_claim() {
    let ok = matcalc(&["check", "L(X*W + B)", "--wrt", "X", "--claim", "dL*W'"]);
    assert_eq!(ok.code, 0, "{}{}", ok.stdout, ok.stderr);
    assert!(ok.stdout.starts_with("confirmed"), "{}", ok.stdout);
    let wrong = matcalc(&["check", "L(X*W + B)", "--wrt", "X", "--claim", "W*dL'"]);
    assert_eq!(wrong.code, 3, "{}", wrong.stdout);
    assert!(
        wrong.stdout.contains("transpose would be right"),
        "{}",
        wrong.stdout
    );
    let scaled = matcalc(&["check", "tr(A*X)", "--wrt", "X", "--claim", "1.001*A'"]);
    assert_eq!(scaled.code, 3, "{}", scaled.stdout);
}

#[test]
fn batch_modes_print_one_json_line_per_case() {
    let cases = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus/cases.jsonl");
    let total = include_str!("corpus/cases.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count();
    let derived = matcalc(&["derive", "--cases", cases]);
    assert_eq!(derived.code, 0, "{}", derived.stderr);
    let lines: Vec<serde_json::Value> = derived
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(lines.len(), total);
    assert!(
        lines.iter().all(|l| l["result"].is_string()),
        "every public case is derived"
    );
    let checked = matcalc(&["check", "--cases", cases]);
    assert_eq!(checked.code, 0);
    assert!(checked
        .stdout
        .lines()
        .all(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["ok"] == true));
}

#[test]
fn eval_on_given_and_random_values() {
    let run = matcalc(&[
        "eval",
        "tr(A*B)",
        "--at",
        "A=[[1,2],[3,4]]; B=[[0,1],[1,0]]",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.trim(), "5");
    let a = matcalc(&["eval", "x'*x", "--let", "x: 3", "--random", "--seed", "7"]);
    let b = matcalc(&["eval", "x'*x", "--let", "x: 3", "--random", "--seed", "7"]);
    assert_eq!(a.code, 0, "{}", a.stderr);
    assert_eq!(a.stdout, b.stdout, "the same seed gives the same value");
    let missing = matcalc(&["eval", "x'*x", "--let", "x: 3"]);
    assert_ne!(missing.code, 0);
    assert!(
        missing.stderr.contains("no value for `x`"),
        "{}",
        missing.stderr
    );
}

#[test]
fn a_result_too_large_to_write_flat_is_written_with_named_intermediates() {
    // The gradient of tr(A1*X*…*A1024*X) has millions of nodes written out
    // flat, but its DAG is linear in the depth.
    let k = 1024;
    let factors: Vec<String> = (1..=k).map(|i| format!("A{i}*X")).collect();
    let decls: Vec<String> = (1..=k).map(|i| format!("A{i}: n x n")).collect();
    let expr = format!("tr({})", factors.join("*"));
    let decls = format!("{}, X: n x n", decls.join(", "));
    let args = |extra: &[&'static str]| {
        let mut a = vec![
            "derive",
            expr.as_str(),
            "--let",
            decls.as_str(),
            "--wrt",
            "X",
        ];
        a.extend_from_slice(extra);
        matcalc(&a)
    };
    for format in ["text", "expr", "numpy", "jax"] {
        let run = args(&["--format", format]);
        assert_eq!(run.code, 0, "--format {format}: {}", run.stderr);
        // Linear: a few hundred bytes per level at most.
        assert!(
            run.stdout.len() < 400 * k,
            "--format {format}: {} bytes",
            run.stdout.len()
        );
    }
    let run = args(&["--format", "expr"]);
    assert!(run.stdout.starts_with("E1 = "), "{}", &run.stdout[..200]);
    for extra in [&["--flat"][..], &["--format", "json"], &["--check"]] {
        let run = args(extra);
        assert_eq!(run.code, 1, "{extra:?}: {}", run.stdout);
        assert!(
            run.stderr.contains("nodes written out") || run.stdout.contains("nodes written out"),
            "{extra:?}: {}",
            run.stderr
        );
    }
}

#[test]
fn flat_keeps_the_single_expression() {
    let expr = "sum(log(1 + exp(-y .* (X*w))))";
    let hessian = [
        "derive", expr, "--wrt", "w", "--order", "2", "--format", "expr",
    ];
    let shared = matcalc(&hessian);
    let flat = matcalc(&[&hessian[..], &["--flat"]].concat());
    assert_eq!(shared.code, 0, "{}", shared.stderr);
    assert_eq!(flat.code, 0, "{}", flat.stderr);
    // The Hessian's exp(y .* (X*w)) occurs twice: bound once in the listing.
    assert_eq!(shared.stdout.lines().count(), 2, "{}", shared.stdout);
    assert!(shared.stdout.starts_with("E1 = exp("), "{}", shared.stdout);
    assert_eq!(flat.stdout.lines().count(), 1, "{}", flat.stdout);
    assert_eq!(flat.stdout.matches("exp(").count(), 2, "{}", flat.stdout);
}
