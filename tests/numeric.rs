//! The numeric layer through its public API: evaluator identities on random
//! shapes, sampling domains, value and domain parsers, kink redraws,
//! determinism, typed errors and the directional check.

mod support;

use std::collections::BTreeMap;

use support::numeric::{claim, problem};

use matcalc::numeric::{
    check, draw_sample, evaluate, parse_domains, parse_values, Bindings, CheckConfig, Domain,
    EvalError, Method, Rng, Value, Verdict, MAX_CONDITION,
};
use matcalc::syntax::{parse_formula, Decls};
use nalgebra::DMatrix;
use ndarray::{Array2, ArrayD};
use proptest::prelude::*;

fn random(rows: usize, cols: usize, rng: &mut Rng) -> Array2<f64> {
    Array2::from_shape_fn((rows, cols), |_| rng.normal())
}

fn bind(values: &[(&str, Array2<f64>)]) -> Bindings {
    Bindings {
        values: values
            .iter()
            .map(|(n, v)| (n.to_string(), v.clone()))
            .collect(),
        ..Bindings::default()
    }
}

fn eval(text: &str, bindings: &Bindings) -> Result<Value, EvalError> {
    let formula = parse_formula(text, &Decls::new()).expect("test formulas parse");
    evaluate(&formula, bindings, None).map(|e| e.value)
}

fn as_array(v: Value) -> ArrayD<f64> {
    match v {
        Value::Matrix(m) => m.into_dyn(),
        Value::Tensor(t) => t,
    }
}

/// Asserts two formulas evaluate to the same array (relative 1e-9); axes
/// of length 1 are ignored, so an n×1 matrix equals a tensor `g[i]`.
fn same(left: &str, right: &str, bindings: &Bindings) {
    let a = as_array(eval(left, bindings).unwrap());
    let b = as_array(eval(right, bindings).unwrap());
    let squeezed = |s: &[usize]| s.iter().copied().filter(|&d| d != 1).collect::<Vec<_>>();
    assert_eq!(
        squeezed(a.shape()),
        squeezed(b.shape()),
        "{left} vs {right}"
    );
    let scale = b.iter().fold(1.0f64, |m, x| m.max(x.abs()));
    for (x, y) in a.iter().zip(b.iter()) {
        assert!(
            (x - y).abs() <= 1e-9 * scale,
            "{left} = {x} but {right} = {y}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn products_transposes_and_traces(n in 1usize..5, k in 1usize..5, m in 1usize..5, seed in any::<u64>()) {
        let mut rng = Rng::seeded(seed);
        let b = bind(&[
            ("A", random(n, k, &mut rng)),
            ("B", random(k, m, &mut rng)),
            ("C", random(m, n, &mut rng)),
            ("X", random(n, k, &mut rng)),
            ("r", random(k, 1, &mut rng)),
        ]);
        same("(A*B)'", "B'*A'", &b);
        same("tr(A*B*C)", "tr(C*A*B)", &b);
        same("sum(A .* X)", "tr(A'*X)", &b);
        same("norm2(A)^2", "sum(A.^2)", &b);
        same("A + r'", &format!("A + ones({n})*r'"), &b);
        same("relu(A)", "(A + abs(A))/2", &b);
        same("abs(A)", "sign(A) .* A", &b);
        same("sigmoid(A)", "1 ./ (1 + exp(-A))", &b);
        if (n, k) != (1, 1) {
            // A 1×1 A is a scalar factor, which leaves the size open.
            same("A*vector(1)", &format!("A*ones({k})"), &b);
        }
        same("G[i,j] = A[i,p]*B[p,j]", "A*B", &b);
        same("G[i,j] = sum[p](A[i,p]*B[p,j])", "A*B", &b);
        same("G[i,j] = delta(i,q)*A[q,j]", "A", &b);
        same("G[j,i] = A[i,j]", "A'", &b);
        same("g[i] = exp(A[i,p]*r[p])", "exp(A*r)", &b);
    }

    #[test]
    fn square_matrix_identities(n in 1usize..6, seed in any::<u64>()) {
        let mut rng = Rng::seeded(seed);
        let a = Domain::Invertible.sample("A", &[n, n], &mut rng).unwrap();
        let s = Domain::Spd.sample("S", &[n, n], &mut rng).unwrap();
        let b = bind(&[("A", a), ("B", random(n, n, &mut rng)), ("S", s), ("v", random(n, 1, &mut rng))]);
        same("det(A*B)", "det(A)*det(B)", &b);
        same("det(A')", "det(A)", &b);
        same("inv(A)*A", &format!("eye({n})"), &b);
        same("inv(A')", "inv(A)'", &b);
        same("logdet(S)", "log(det(S))", &b);
        same("tr(A)", "sum(diag(A))", &b);
        same("diag(diag(v))", "v", &b);
        same(&format!("diag(v')*ones({n})"), "v", &b);
        same("sum(softmax(v))", "1", &b);
        same("logsumexp(v)", "log(sum(exp(v)))", &b);
        same("softmax(v)", "exp(v) / sum(exp(v))", &b);
    }
}

#[test]
fn every_domain_has_its_defining_property() {
    let ident = |n: usize| DMatrix::<f64>::identity(n, n);
    let close = |a: &DMatrix<f64>, b: &DMatrix<f64>| (a - b).abs().max() < 1e-10;
    for seed in 1..=20u64 {
        let mut rng = Rng::seeded(seed);
        let mut draw = |d: Domain, dims: &[usize]| {
            let a = d.sample("V", dims, &mut rng).unwrap();
            DMatrix::from_fn(a.nrows(), a.ncols(), |i, j| a[[i, j]])
        };
        assert!(draw(Domain::Normal, &[3, 4]).iter().all(|x| x.is_finite()));
        assert!(draw(Domain::Positive, &[3, 4])
            .iter()
            .all(|&x| (0.5..2.0).contains(&x)));
        assert!(draw(Domain::Unit, &[3, 4])
            .iter()
            .all(|&x| (0.1..0.9).contains(&x)));
        assert!(draw(Domain::Nonzero, &[3, 4])
            .iter()
            .all(|&x| (0.5..1.5).contains(&x.abs())));
        assert!(draw(Domain::Pm1, &[5])
            .iter()
            .all(|&x| x == 1.0 || x == -1.0));
        assert!(draw(Domain::Binary, &[5])
            .iter()
            .all(|&x| x == 0.0 || x == 1.0));
        let onehot = draw(Domain::Onehot, &[4, 3]);
        for row in onehot.row_iter() {
            assert_eq!(row.iter().filter(|&&x| x == 1.0).count(), 1);
            assert_eq!(row.iter().filter(|&&x| x == 0.0).count(), 2);
        }
        let onehot = draw(Domain::Onehot, &[4]);
        assert_eq!((onehot.ncols(), onehot.sum()), (1, 1.0));
        assert!(onehot.iter().all(|&x| x == 0.0 || x == 1.0));
        let prob = draw(Domain::Prob, &[3, 4]);
        for row in prob.row_iter() {
            assert!((row.sum() - 1.0).abs() < 1e-12 && row.iter().all(|&x| x > 0.0));
        }
        assert!((draw(Domain::Prob, &[4]).sum() - 1.0).abs() < 1e-12);
        let sym = draw(Domain::Symmetric, &[4, 4]);
        assert!(close(&sym, &sym.transpose()));
        let spd = draw(Domain::Spd, &[4, 4]);
        assert!(close(&spd, &spd.transpose()));
        assert!(spd
            .clone()
            .symmetric_eigenvalues()
            .iter()
            .all(|&l| l >= 0.5 - 1e-12));
        for d in [Domain::Invertible, Domain::Posdet] {
            let a = draw(d, &[4, 4]);
            let sv = a.singular_values();
            assert!(sv.max() / sv.min() < MAX_CONDITION, "{d:?}");
            if d == Domain::Posdet {
                assert!(a.determinant() > 0.0);
            }
        }
        let q = draw(Domain::Orthogonal, &[4, 4]);
        assert!(close(&(q.transpose() * &q), &ident(4)));
        let tall = draw(Domain::Orthogonal, &[5, 3]);
        assert!(close(&(tall.transpose() * &tall), &ident(3)));
        let wide = draw(Domain::Orthogonal, &[2, 4]);
        assert!(close(&(&wide * wide.transpose()), &ident(2)));
    }
    let mut rng = Rng::seeded(1);
    for d in [
        Domain::Symmetric,
        Domain::Spd,
        Domain::Invertible,
        Domain::Posdet,
    ] {
        let err = d.sample("V", &[3, 4], &mut rng).unwrap_err();
        assert!(matches!(err, EvalError::DomainShape { .. }), "{d:?}: {err}");
    }
}

#[test]
fn invertible_samples_stay_well_conditioned_at_large_sizes() {
    let mut rng = Rng::seeded(5);
    let a = Domain::Invertible.sample("A", &[40, 40], &mut rng).unwrap();
    let m = DMatrix::from_fn(40, 40, |i, j| a[[i, j]]);
    let sv = m.singular_values();
    assert!(sv.max() / sv.min() < MAX_CONDITION);
}

#[test]
fn same_seed_gives_the_same_bits() {
    let vars: BTreeMap<String, Vec<usize>> = [("X", vec![3, 3]), ("y", vec![4]), ("s", vec![])]
        .into_iter()
        .map(|(n, d)| (n.to_string(), d))
        .collect();
    let domains = parse_domains("X: posdet, y: prob").unwrap();
    let bits = |seed, attempt| -> Vec<u64> {
        draw_sample(&vars, &domains, seed, attempt)
            .unwrap()
            .values()
            .flat_map(|a| a.iter().map(|x| x.to_bits()).collect::<Vec<_>>())
            .collect()
    };
    assert_eq!(bits(7, 0), bits(7, 0));
    assert_ne!(bits(7, 0), bits(8, 0));
    assert_ne!(bits(7, 0), bits(7, 1));
    // Adding a variable leaves the others' samples unchanged.
    let mut more = vars.clone();
    more.insert("Z".to_string(), vec![2, 2]);
    let x_before = &draw_sample(&vars, &domains, 7, 0).unwrap()["X"];
    let x_after = &draw_sample(&more, &domains, 7, 0).unwrap()["X"];
    assert_eq!(x_before, x_after);
}

#[test]
fn value_literals_parse_and_errors_point_at_the_text() {
    let v = parse_values(" X=[[1,2],[3,4.5]]; w=[1, -2e-1]; s=3 ;").unwrap();
    assert_eq!(v["X"], ndarray::array![[1.0, 2.0], [3.0, 4.5]]);
    assert_eq!(v["w"], ndarray::array![[1.0], [-0.2]]);
    assert_eq!(v["s"], ndarray::array![[3.0]]);
    let text = "X=[[1,2],[3]]";
    let err = parse_values(text).unwrap_err();
    assert!(err.to_string().contains("2 entries"), "{err}");
    assert_eq!(&text[err.span().start..err.span().end], "[");
    assert_eq!(err.span().start, 9);
    let err = parse_values("X=[1,2; y=3").unwrap_err();
    assert!(matches!(err, EvalError::Syntax { .. }));
    assert!(parse_values("").is_err());
}

#[test]
fn domain_lists_parse_and_unknown_domains_are_named() {
    let d = parse_domains("X: spd, y:pm1 ,T: onehot").unwrap();
    assert_eq!(d.len(), 3);
    assert_eq!(
        (d["X"], d["y"], d["T"]),
        (Domain::Spd, Domain::Pm1, Domain::Onehot)
    );
    for domain in Domain::ALL {
        let parsed = parse_domains(&format!("v: {}", domain.name())).unwrap();
        assert_eq!(parsed["v"], domain);
    }
    let text = "X: spd, y: pmone";
    let err = parse_domains(text).unwrap_err();
    assert_eq!(&text[err.span().start..err.span().end], "pmone");
    assert!(err.to_string().contains("pm1"), "{err}");
    assert!(parse_domains("X spd").is_err());
}

#[test]
fn samples_near_a_kink_are_redrawn() {
    // y is 0/1: any zero puts abs(x .* y) on its kink, so draws are rejected
    // until every entry of y is 1.
    let p = problem(
        "sum(abs(x .* y))",
        &[("x", &[3]), ("y", &[3])],
        &["x"],
        "y: binary",
    );
    let report = check(&p, &claim("sign(x .* y) .* y"), &CheckConfig::default()).unwrap();
    assert!(report.ok(), "{report:?}");
    assert!(report.samples.iter().any(|s| s.attempts > 1), "{report:?}");
    // Every draw of an all-zero argument sits on the kink: no sample at all.
    let p = problem("sum(relu(0 .* x))", &[("x", &[3])], &["x"], "");
    let err = check(&p, &claim("0 .* x"), &CheckConfig::default()).unwrap_err();
    assert!(
        matches!(&err, EvalError::NoValidSample { reason, .. } if reason.contains("kink")),
        "{err}"
    );
}

#[test]
fn evaluation_reports_the_distance_to_a_kink() {
    let b = bind(&[("x", ndarray::array![[0.3], [-0.05], [2.0]])]);
    let f = claim("relu(x) + abs(x - 1)");
    let e = evaluate(&f, &b, None).unwrap();
    assert!((e.kink_distance - 0.05).abs() < 1e-15);
    let smooth = evaluate(&claim("exp(x)"), &b, None).unwrap();
    assert_eq!(smooth.kink_distance, f64::INFINITY);
}

/// Recognises one kind of error.
type IsKind = fn(&EvalError) -> bool;

#[test]
fn failures_are_typed_errors_with_spans() {
    let b = bind(&[
        ("A", ndarray::array![[1.0, 2.0], [2.0, 4.0]]),
        ("N", ndarray::array![[0.0, 1.0], [1.0, 0.0]]),
        ("C", Array2::ones((3, 2))),
        ("x", Array2::ones((2, 1))),
        ("y", Array2::ones((3, 1))),
    ]);
    let cases: [(&str, &str, IsKind); 11] = [
        ("1 + inv(A)", "inv(A)", |e| {
            matches!(e, EvalError::Singular { .. })
        }),
        ("logdet(N)", "logdet(N)", |e| {
            matches!(e, EvalError::NonPositiveDeterminant { .. })
        }),
        ("A*C", "A*C", |e| {
            matches!(e, EvalError::ShapeMismatch { .. })
        }),
        ("C + y", "C + y", |e| {
            matches!(e, EvalError::ShapeMismatch { .. })
        }),
        ("x + y'", "x + y'", |e| {
            matches!(e, EvalError::ShapeMismatch { .. })
        }),
        ("det(C)", "det(C)", |e| {
            matches!(e, EvalError::BadArgument { .. })
        }),
        ("2*Z", "Z", |e| {
            matches!(e, EvalError::UnknownVariable { .. })
        }),
        ("sum(vector(1))", "vector(1)", |e| {
            matches!(e, EvalError::SizeNotInferred { .. })
        }),
        ("x[i]", "x[i]", |e| {
            matches!(e, EvalError::IndexOutsideIndexForm { .. })
        }),
        ("L(x)", "L(x)", |e| {
            matches!(e, EvalError::NoInstantiation { .. })
        }),
        ("softmax(C)", "softmax(C)", |e| {
            matches!(e, EvalError::BadArgument { .. })
        }),
    ];
    for (text, culprit, expected) in cases {
        let err = eval(text, &b).unwrap_err();
        assert!(expected(&err), "{text}: {err:?}");
        let span = err.span();
        assert_eq!(&text[span.start..span.end], culprit, "{text}: {err}");
    }
    let index_errors: [(&str, IsKind); 4] = [
        ("g[i] = C[i,k]", |e| {
            matches!(e, EvalError::UnboundIndex { .. })
        }),
        ("g[i] = x[k]*x[k]*x[k]*x[i]", |e| {
            matches!(e, EvalError::IndexRepeated { .. })
        }),
        ("G[i,j] = C[i,j]*A[i,j]", |e| {
            matches!(e, EvalError::IndexDimConflict { .. })
        }),
        ("g[i] = x[i]*C", |e| {
            matches!(e, EvalError::IndexArity { .. })
        }),
    ];
    for (text, expected) in index_errors {
        let err = eval(text, &b).unwrap_err();
        assert!(expected(&err), "{text}: {err:?}");
    }
}

#[test]
fn abstract_functions_use_the_chosen_loss() {
    let mut b = bind(&[("X", ndarray::array![[0.5, -1.0], [2.0, 0.25]])]);
    b.loss = Some(matcalc::numeric::Loss::L1);
    let value = as_array(eval("L(X)", &b).unwrap());
    let expected: f64 = [0.5f64, -1.0, 2.0, 0.25]
        .iter()
        .map(|v| v.sin() + 0.5 * v * v)
        .sum();
    assert!((value[[0, 0]] - expected).abs() < 1e-14);
    same("dL(X)", "cos(X) + X", &b);
    // A bare dL needs the argument of the single L(…) call bound.
    assert!(matches!(
        eval("dL", &b),
        Err(EvalError::AmbiguousGradient { .. })
    ));
    b.loss_arguments.insert("L".into(), b.values["X"].clone());
    same("dL", "cos(X) + X", &b);
}

#[test]
fn directional_checks_accept_right_and_reject_wrong_claims() {
    let config = CheckConfig {
        method: Method::Directional { directions: 3 },
        ..CheckConfig::default()
    };
    let affine = problem(
        "L(X*W + B)",
        &[("X", &[20, 30]), ("W", &[30, 25]), ("B", &[20, 25])],
        &["X"],
        "",
    );
    assert!(check(&affine, &claim("dL*W'"), &config).unwrap().ok());
    assert!(!check(&affine, &claim("1.001*dL*W'"), &config).unwrap().ok());
    let hessian = problem(
        "norm2(A*x - y)^2",
        &[("A", &[6, 4]), ("x", &[4]), ("y", &[6])],
        &["x", "x"],
        "",
    );
    assert!(check(&hessian, &claim("2*A'*A"), &config).unwrap().ok());
    assert!(!check(&hessian, &claim("A'*A"), &config).unwrap().ok());
    // A vector-valued f against a third-order index-form claim.
    let jacobian = problem("softmax(W*x)", &[("W", &[3, 4]), ("x", &[4])], &["W"], "");
    let right = "J[i,k,l] = (delta(i,k)*softmax(W*x)[i] - softmax(W*x)[i]*softmax(W*x)[k])*x[l]";
    let term_dropped = "J[i,k,l] = delta(i,k)*softmax(W*x)[i]*x[l]";
    assert!(check(&jacobian, &claim(right), &config).unwrap().ok());
    assert!(!check(&jacobian, &claim(term_dropped), &config)
        .unwrap()
        .ok());
    // A variable declared as a one-column matrix keeps its two axes.
    let column = problem("sum(A*c)", &[("A", &[3, 4]), ("c", &[4, 1])], &["c"], "");
    for method in [Method::Full, Method::Directional { directions: 2 }] {
        let config = CheckConfig {
            method,
            ..CheckConfig::default()
        };
        assert!(check(&column, &claim("A'*vector(1)"), &config)
            .unwrap()
            .ok());
        assert!(!check(&column, &claim("2*A'*vector(1)"), &config)
            .unwrap()
            .ok());
    }
}

#[test]
fn a_row_where_a_column_is_expected_is_wrong_and_says_so() {
    let p = problem("a'*x", &[("a", &[4]), ("x", &[4])], &["x"], "");
    let report = check(&p, &claim("a'"), &CheckConfig::default()).unwrap();
    assert_eq!(
        report.verdict,
        Verdict::WrongShape {
            claimed: vec![1, 4],
            expected: vec![4],
            transpose_fits: true
        }
    );
    assert!(report.note().unwrap().contains("transpose would be right"));
    let report = check(&p, &claim("2*a'"), &CheckConfig::default()).unwrap();
    assert!(matches!(
        report.verdict,
        Verdict::WrongShape {
            transpose_fits: false,
            ..
        }
    ));
}

#[test]
fn check_cases_reports_each_line() {
    let good = r#"{"id": "a", "expr": "a'*x", "vars": {"a": [4], "x": [4]}, "wrt": "x", "order": 1, "expected": "a", "expected_index": "g[i] = a[i]", "domain": {}}"#;
    let wrong_index = good
        .replace(r#""id": "a""#, r#""id": "b""#)
        .replace("g[i] = a[i]", "g[i] = 2*a[i]");
    let bad_claim = good
        .replace(r#""id": "a""#, r#""id": "c""#)
        .replace(r#""expected": "a""#, r#""expected": "a +""#);
    let text = format!("{good}\n\n{wrong_index}\nnot json\n{bad_claim}\n");
    let verdicts = matcalc::numeric::check_cases(&text);
    let json: Vec<serde_json::Value> = verdicts
        .iter()
        .map(|v| serde_json::to_value(v).unwrap())
        .collect();
    assert_eq!(json.len(), 4);
    assert_eq!(json[0]["id"], "a");
    assert_eq!(json[0]["ok"], true);
    assert!(json[0]["max_rel_err"].as_f64().unwrap() < 1e-9);
    assert!(json[0].get("error").is_none() && json[0].get("note").is_none());
    assert_eq!(
        (json[1]["id"].as_str(), json[1]["ok"].as_bool()),
        (Some("b"), Some(false))
    );
    assert!(json[1]["note"].as_str().unwrap().contains("relative error"));
    assert_eq!(json[2]["id"], "line 4");
    assert_eq!(json[2]["ok"], false);
    assert!(json[2]["error"].as_str().unwrap().starts_with("not a case"));
    assert_eq!(
        (json[3]["id"].as_str(), json[3]["ok"].as_bool()),
        (Some("c"), Some(false))
    );
    assert!(json[3].get("error").is_some() && json[3].get("max_rel_err").is_none());
}

#[test]
fn erf_matches_reference_values_to_double_precision() {
    // Values of erf to 16 digits (Abramowitz & Stegun table 7.1, extended).
    for (x, expected) in [
        (0.0, 0.0),
        (1e-8, 1.128_379_167_095_512_6e-8),
        (0.5, 0.520_499_877_813_046_5),
        (1.0, 0.842_700_792_949_714_9),
        (-1.5, -0.966_105_146_475_310_7),
        (2.0, 0.995_322_265_018_952_7),
        (3.0, 0.999_977_909_503_001_4),
        (5.5, 0.999_999_999_999_992_6),
        (7.0, 1.0),
        (-40.0, -1.0),
    ] {
        let got = matcalc::numeric::erf(x);
        assert!(
            (got - expected).abs() <= 2e-16 * (1.0 + expected.abs()),
            "erf({x}) = {got}, expected {expected}"
        );
    }
    assert!(matcalc::numeric::erf(f64::NAN).is_nan());
}

#[test]
fn softplus_does_not_overflow() {
    let b = bind(&[(
        "x",
        Array2::from_shape_vec((3, 1), vec![-800.0, 0.0, 800.0]).unwrap(),
    )]);
    let v = as_array(eval("softplus(x)", &b).unwrap());
    assert_eq!(v[[0, 0]], 0.0);
    assert!((v[[1, 0]] - std::f64::consts::LN_2).abs() < 1e-16);
    assert_eq!(v[[2, 0]], 800.0);
}
