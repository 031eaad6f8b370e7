//! The limits of the numeric layer (`MAX_ENTRIES`, `MAX_WORK`,
//! `MAX_CHECK_WORK`): each one is hit by an input that used to exhaust
//! memory or run for minutes, and each gives an error naming the limit and
//! the sizes that went over it. Every limit here fires before the array or
//! the work it guards is allocated or done, so these tests are fast.

mod support;

use std::collections::BTreeMap;
use std::process::Command;

use support::numeric::{claim, problem};

use matcalc::numeric::{
    check, draw_sample, evaluate, Bindings, Budget, CheckConfig, Domain, EvalError, Loss, Method,
    Rng, MAX_CHECK_WORK, MAX_ENTRIES, MAX_WORK,
};
use matcalc::syntax::{parse_formula, Decls, Span};
use ndarray::Array2;

fn bind(values: &[(&str, (usize, usize))]) -> Bindings {
    let mut rng = Rng::seeded(7);
    Bindings {
        values: values
            .iter()
            .map(|(name, shape)| {
                let value = Array2::from_shape_fn(*shape, |_| rng.normal());
                (name.to_string(), value)
            })
            .collect(),
        ..Bindings::default()
    }
}

/// Evaluates `text` and returns its error, which must be a limit error.
fn limit_error(text: &str, bindings: &Bindings) -> EvalError {
    let formula = parse_formula(text, &Decls::new()).expect("test formulas parse");
    let err = evaluate(&formula, bindings, None).expect_err("the limit is hit");
    assert!(err.is_limit(), "{text}: {err}");
    err
}

/// Asserts a `TooLarge` error for the array of `dims`, pointing at
/// `pointed` in `text`.
fn assert_too_large(err: &EvalError, text: &str, dims: &[usize], pointed: &str) {
    let EvalError::TooLarge {
        dims: got,
        limit,
        span,
        ..
    } = err
    else {
        panic!("{text}: not TooLarge but {err}");
    };
    assert_eq!(got, dims, "{text}");
    assert_eq!(*limit, MAX_ENTRIES);
    assert_eq!(&text[span.start..span.end], pointed, "{text}");
    let message = err.to_string();
    assert!(message.contains(&MAX_ENTRIES.to_string()), "{message}");
    let shown: Vec<String> = dims.iter().map(usize::to_string).collect();
    assert!(message.contains(&shown.join("×")), "{message}");
}

#[test]
fn constants_diag_and_products_are_refused_before_they_are_allocated() {
    let b = bind(&[("x", (3000, 1)), ("A", (3, 3))]);
    let text = "sum(eye(100000))";
    assert_too_large(
        &limit_error(text, &b),
        text,
        &[100000, 100000],
        "eye(100000)",
    );
    let text = "sum(A) + sum(ones(3000, 3000))";
    let err = limit_error(text, &b);
    assert_too_large(&err, text, &[3000, 3000], "ones(3000, 3000)");
    let text = "zeros(5000000)";
    assert_too_large(&limit_error(text, &b), text, &[5000000, 1], text);
    let text = "sum(diag(x))";
    assert_too_large(&limit_error(text, &b), text, &[3000, 3000], "diag(x)");
    let text = "sum(x*x')";
    assert_too_large(&limit_error(text, &b), text, &[3000, 3000], "x*x'");
    // Sizes whose product overflows 64 bits are refused too, not wrapped.
    let mut huge = Bindings::default();
    huge.sizes.insert("n".into(), usize::MAX / 2);
    let text = "sum(ones(n, n))";
    assert_too_large(
        &limit_error(text, &huge),
        text,
        &[usize::MAX / 2, usize::MAX / 2],
        "ones(n, n)",
    );
    // A constant sized only by the required result.
    let formula = parse_formula("vector(1)", &Decls::new()).unwrap();
    let err = evaluate(&formula, &b, Some(&[1 << 20, 1 << 20])).unwrap_err();
    assert!(matches!(err, EvalError::TooLarge { .. }), "{err}");
    // Just within the limit is fine.
    assert!(evaluate(
        &parse_formula("sum(x*x')", &Decls::new()).unwrap(),
        &bind(&[("x", (2048, 1))]),
        None
    )
    .is_ok());
}

#[test]
fn index_form_tensors_and_einstein_products_are_bounded() {
    let b = bind(&[
        ("x", (30, 1)),
        ("A", (200, 200)),
        ("B", (200, 200)),
        ("C", (200, 200)),
    ]);
    let text = "G[i,j,k,l,m,n,o,p] = x[i]*x[j]*x[k]*x[l]*x[m]*x[n]*x[o]*x[p]";
    let err = limit_error(text, &b);
    assert_too_large(&err, text, &[30; 8], "G[i,j,k,l,m,n,o,p]");
    // A small result whose Einstein product over i, k, l is formed in full
    // before k and l are summed.
    let text = "G[i,j] = A[i,k]*B[k,l]*C[l,j]";
    let err = limit_error(text, &b);
    assert_too_large(&err, text, &[200, 200, 200], "A[i,k]*B[k,l]");
    assert!(err.to_string().contains("i, k, l"), "{err}");
    let text = "G[i,j,k,l] = x[i]*x[j]*x[k]*x[l] + delta(i,j)";
    assert!(evaluate(&parse_formula(text, &Decls::new()).unwrap(), &b, None).is_ok());
}

#[test]
fn the_work_of_one_evaluation_is_bounded() {
    // The gradient of the coupled instantiation multiplies two 1700×1700
    // coupling matrices: 2·1700³ operations for a 1700-vector.
    let mut b = bind(&[("x", (1700, 1))]);
    b.loss = Some(Loss::L2);
    let text = "dL(x)";
    let err = limit_error(text, &b);
    let EvalError::TooMuchWork {
        work, budget, span, ..
    } = &err
    else {
        panic!("not TooMuchWork: {err}");
    };
    assert_eq!(*budget, Budget::Evaluation);
    assert!(*work > MAX_WORK as f64);
    assert_eq!(*span, Span::new(0, text.len()));
    assert!(err.to_string().contains(&MAX_WORK.to_string()), "{err}");
}

#[test]
fn samples_are_bounded_before_anything_is_drawn() {
    let mut rng = Rng::seeded(1);
    let err = Domain::Normal
        .sample("A", &[100000, 100000], &mut rng)
        .unwrap_err();
    assert!(
        matches!(&err, EvalError::TooLarge { dims, .. } if dims == &[100000, 100000]),
        "{err}"
    );
    assert!(err.to_string().contains("the sample of `A`"), "{err}");
    // An orthogonal 1×n row is the first row of an n×n factor.
    let err = Domain::Orthogonal
        .sample("q", &[1, 3000], &mut rng)
        .unwrap_err();
    assert!(
        matches!(&err, EvalError::TooLarge { dims, .. } if dims == &[3000, 3000]),
        "{err}"
    );
    // 2·1700³ operations for G·Gᵀ.
    let err = Domain::Spd
        .sample("S", &[1700, 1700], &mut rng)
        .unwrap_err();
    assert!(
        matches!(
            err,
            EvalError::TooMuchWork {
                budget: Budget::Evaluation,
                ..
            }
        ),
        "{err}"
    );
    let vars: BTreeMap<String, Vec<usize>> = [("v".to_string(), vec![MAX_ENTRIES + 1])].into();
    let err = draw_sample(&vars, &BTreeMap::new(), 1, 0).unwrap_err();
    assert!(matches!(err, EvalError::TooLarge { .. }), "{err}");
}

#[test]
fn a_check_refuses_samples_beyond_the_entry_limit_and_points_at_the_variable() {
    let p = problem(
        "tr(A*X)",
        &[("A", &[100000, 100000]), ("X", &[100000, 100000])],
        &["X"],
        "x: normal",
    );
    let err = check(&p, &claim("A'"), &CheckConfig::default()).unwrap_err();
    assert!(
        matches!(&err, EvalError::TooLarge { span, .. } if *span == Span::new(3, 4)),
        "{err}"
    );
}

#[test]
fn a_check_too_costly_in_full_differences_along_directions_and_says_so() {
    // The Hessian of a 1000-vector by full differences takes 16·10⁶
    // evaluations per sample, over MAX_CHECK_WORK.
    let p = problem("norm2(x)^2", &[("x", &[1000])], &["x", "x"], "x: normal");
    let config = CheckConfig::default();
    let report = check(&p, &claim("2*eye(1000)"), &config).unwrap();
    assert!(report.ok(), "{:?}", report.note());
    assert_eq!(report.method, Method::Directional { directions: 3 });
    let wrong = check(&p, &claim("2.001*eye(1000)"), &config).unwrap();
    assert!(!wrong.ok());
    // Asked for explicitly, full differences are refused before they run.
    let full = CheckConfig {
        method: Method::Full,
        ..CheckConfig::default()
    };
    let err = check(&p, &claim("2*eye(1000)"), &full).unwrap_err();
    let EvalError::TooMuchWork { budget, work, .. } = &err else {
        panic!("not TooMuchWork: {err}");
    };
    assert_eq!(*budget, Budget::Check);
    assert!(*work > MAX_CHECK_WORK as f64);
    assert!(err.to_string().contains("every entry"), "{err}");
    // A small problem is still checked entry by entry.
    let small = problem("norm2(x)^2", &[("x", &[4])], &["x", "x"], "x: normal");
    let report = check(&small, &claim("2*eye(4)"), &config).unwrap();
    assert!(report.ok());
    assert_eq!(report.method, Method::Full);
}

#[test]
fn a_check_whose_directions_do_not_fit_either_is_refused() {
    let p = problem("norm2(x)^2", &[("x", &[1000])], &["x", "x"], "x: normal");
    for method in [
        Method::Auto {
            directions: 10_000_000,
        },
        Method::Directional {
            directions: 10_000_000,
        },
    ] {
        let config = CheckConfig {
            method,
            ..CheckConfig::default()
        };
        let err = check(&p, &claim("2*eye(1000)"), &config).unwrap_err();
        assert!(
            matches!(
                &err,
                EvalError::TooMuchWork {
                    budget: Budget::Check,
                    ..
                }
            ),
            "{method:?}: {err}"
        );
        assert!(err.to_string().contains("10000000 direction"), "{err}");
    }
}

/// Runs the binary; returns (exit code, stdout, stderr).
fn matcalc(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_matcalc"))
        .args(args)
        .env("COLUMNS", "100")
        .output()
        .expect("the binary runs");
    (
        output.status.code().expect("the binary exits normally"),
        String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    )
}

/// Asserts a run failed with a `limit` error, in text and in JSON.
fn assert_cli_limit(args: &[&str], expected: &[&str]) {
    let (code, _, stderr) = matcalc(args);
    assert_eq!(code, 1, "{stderr}");
    for part in expected {
        assert!(stderr.contains(part), "{part} not in {stderr}");
    }
    let mut json_args = args.to_vec();
    json_args.extend(["--format", "json"]);
    let (code, stdout, _) = matcalc(&json_args);
    assert_eq!(code, 1);
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(doc["error"]["kind"], "limit", "{stdout}");
}

#[test]
fn cli_check_of_a_huge_variable_is_a_limit_error_not_an_abort() {
    assert_cli_limit(
        &[
            "derive",
            "tr(A*X)",
            "--wrt",
            "X",
            "--let",
            "A: 100000x100000",
            "--check",
        ],
        &[
            "4194304 entries",
            "the sample of `A` would be 100000×100000",
        ],
    );
    assert_cli_limit(
        &[
            "check",
            "tr(A*X)",
            "--wrt",
            "X",
            "--claim",
            "A'",
            "--let",
            "A: 3000x3000",
        ],
        &["4194304 entries", "3000×3000"],
    );
}

#[test]
fn cli_index_form_of_thirty_to_the_eighth_is_a_limit_error_not_a_hang() {
    assert_cli_limit(
        &[
            "eval",
            "G[i,j,k,l,m,n,o,p] = x[i]*x[j]*x[k]*x[l]*x[m]*x[n]*x[o]*x[p]",
            "--random",
            "--let",
            "x: 30",
        ],
        &["4194304 entries", "30×30×30×30×30×30×30×30"],
    );
    assert_cli_limit(
        &["eval", "sum(eye(100000))"],
        &["this constant would be 100000×100000"],
    );
}

#[test]
fn cli_check_says_when_it_differentiates_along_directions() {
    let (code, stdout, stderr) = matcalc(&[
        "derive",
        "norm2(x)^2",
        "--wrt",
        "x",
        "--order",
        "2",
        "--let",
        "x: 1000",
        "--check",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("confirmed by finite differences along 3 random direction(s)"),
        "{stdout}"
    );
}
