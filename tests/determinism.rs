//! The `matcalc` binary's output is deterministic, byte for byte: the same
//! command run twice, in two processes (so hash maps are seeded
//! differently), writes the same standard output and standard error and
//! exits with the same code. Timings (`--timings`) are the one thing left
//! out.
//!
//! The commands cover the corpus in every output format, proofs (symbolic
//! and concrete), numeric checks, `simplify`, `parse`, errors, and a batch
//! of random expressions from the generator (gradients, Jacobians and
//! second derivatives), which reach far more of the engine than the corpus.

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use support::gen::{generated_of, Generated, Shape};

/// What one run of the binary wrote.
#[derive(Debug, PartialEq, Eq)]
struct Run {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    code: Option<i32>,
}

fn matcalc(args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_matcalc"))
        .args(args)
        .env("COLUMNS", "100")
        .output()
        .expect("the binary runs");
    Run {
        stdout: output.stdout,
        stderr: output.stderr,
        code: output.status.code(),
    }
}

/// Runs `args` twice and asserts that both runs wrote the same bytes; the
/// first run is returned, so that callers can check it did something.
fn twice_the_same(args: &[&str]) -> Run {
    let first = matcalc(args);
    let second = matcalc(args);
    assert!(
        first == second,
        "`matcalc {}` is not deterministic:\n--- first run (exit {:?}) ---\n{}{}\n--- second run (exit {:?}) ---\n{}{}",
        args.join(" "),
        first.code,
        String::from_utf8_lossy(&first.stdout),
        String::from_utf8_lossy(&first.stderr),
        second.code,
        String::from_utf8_lossy(&second.stdout),
        String::from_utf8_lossy(&second.stderr),
    );
    first
}

const FORMATS: [&str; 5] = ["text", "expr", "latex", "markdown", "json"];

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus/cases.jsonl");

#[test]
fn the_corpus_is_derived_the_same_in_every_format() {
    for format in FORMATS {
        let run = twice_the_same(&["derive", "--cases", CORPUS, "--format", format]);
        assert_eq!(
            run.code,
            Some(0),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let lines = String::from_utf8_lossy(&run.stdout)
            .matches("\"id\"")
            .count();
        assert!(lines >= 70, "only {lines} cases derived in {format}");
    }
}

#[test]
fn proofs_checks_and_other_commands_are_the_same() {
    let commands: &[&[&str]] = &[
        &["derive", "L(X*W + B)", "--wrt", "X,W,B", "--proof"],
        &["derive", "x'*A*x", "--wrt", "x", "--order", "2", "--proof"],
        &["derive", "softmax(W*x)", "--wrt", "W", "--proof"],
        &[
            "derive",
            "tr(A*X*B*X')",
            "--wrt",
            "X",
            "--concrete",
            "X: 2x2, A: 2x2, B: 2x2",
        ],
        &[
            "derive",
            "L(X*W + B)",
            "--wrt",
            "W",
            "--concrete",
            "X: 2x2, W: 2x3",
        ],
        &[
            "derive",
            "x'*A*y",
            "--wrt",
            "x,y",
            "--order",
            "2",
            "--concrete",
            "x: 2, y: 3",
        ],
        &[
            "derive",
            "log(det(X))",
            "--wrt",
            "X",
            "--domain",
            "X: posdet",
            "--check",
        ],
        &[
            "derive",
            "sum(exp(A*x))",
            "--wrt",
            "x",
            "--order",
            "2",
            "--check",
        ],
        &["derive", "L(tanh(X*W + b'))", "--wrt", "X,W,b", "--check"],
        &["simplify", "(A*B)' + B'*A' + 2*A*B - A*B"],
        &["parse", "L(X*W + B)"],
        &["parse", "G[i,j] = sum[k](A[i,k]*B[k,j]) + delta(i,j)"],
        &["check", "tr(A*X)", "--wrt", "X", "--claim", "A"],
        &["derive", "A*x + B", "--wrt", "x"],
        &["derive", "x'*A*x", "--wrt", "y"],
    ];
    for args in commands {
        for format in FORMATS {
            let mut with_format = args.to_vec();
            with_format.extend(["--format", format]);
            let run = twice_the_same(&with_format);
            assert!(
                !run.stdout.is_empty() || !run.stderr.is_empty(),
                "`matcalc {}` wrote nothing",
                with_format.join(" ")
            );
        }
    }
}

/// Random expressions as a corpus file: gradients, Jacobians and second
/// derivatives, all drawn from one fixed seed.
fn random_corpus(count: usize) -> String {
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    let mut lines = Vec::new();
    for n in 0..count {
        let (shape, depth, order) = match n % 4 {
            0 | 1 => (Shape::Scalar, 3, 1),
            2 => (Shape::Mat(2, 3), 2, 1),
            _ => (Shape::Scalar, 2, 2),
        };
        let g: Generated = generated_of(shape, depth)
            .prop_filter("has variables", |g| !g.vars.is_empty())
            .new_tree(&mut runner)
            .expect("an expression is drawn")
            .current();
        let vars: BTreeMap<&String, Vec<usize>> = g
            .vars
            .iter()
            .map(|(name, s)| {
                let dims = match s {
                    Shape::Scalar => vec![],
                    Shape::Col(n) => vec![*n],
                    _ => vec![s.rows(), s.cols()],
                };
                (name, dims)
            })
            .collect();
        // A Hessian when there is one variable, else a mixed derivative.
        let names: Vec<&String> = g.vars.keys().collect();
        let wrt: Vec<&String> = (0..order).map(|k| names[k % names.len()]).collect();
        let case = serde_json::json!({
            "id": format!("random-{n}"),
            "expr": g.text(),
            "vars": vars,
            "wrt": if order == 1 { serde_json::json!(wrt[0]) } else { serde_json::json!(wrt) },
            "order": order,
            // Not used by `derive --cases`.
            "expected": "0",
        });
        lines.push(case.to_string());
    }
    lines.join("\n") + "\n"
}

#[test]
fn random_expressions_are_derived_the_same() {
    let path: PathBuf = [env!("CARGO_TARGET_TMPDIR"), "determinism-random.jsonl"]
        .iter()
        .collect();
    std::fs::write(&path, random_corpus(120)).expect("the corpus is written");
    let path = path.to_str().expect("a UTF-8 path");
    let run = twice_the_same(&["derive", "--cases", path, "--format", "json"]);
    assert_eq!(
        run.code,
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = String::from_utf8_lossy(&run.stdout);
    let derived = text.matches("\"result\": \"").count();
    assert!(
        derived >= 60,
        "only {derived} of 120 random cases derived:\n{text}"
    );
}
