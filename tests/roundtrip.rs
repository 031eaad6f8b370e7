//! The input-syntax printer round-trips: parsing printed text gives an equal
//! AST, and the printed text has no redundant parentheses. The Unicode
//! printer's text parses back too, and juxtaposition reads exactly as the
//! same text with `*` written between its factors.

mod support;

use matcalc::syntax::{
    expr_to_string, parse_formula, to_expr_string, to_unicode, Decls, Expr, ExprKind, Formula,
    ParseError, MAX_DEPTH, MAX_NESTING,
};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use support::gen::{self, Shape};
use support::shape_oracle::shape_of;

fn parse(text: &str) -> Formula {
    parse_formula(text, &Decls::new()).unwrap_or_else(|e| panic!("`{text}`: {e}"))
}

/// Parses `text`, prints it, and checks that the print re-parses to the
/// same formula and is stable under a second round.
fn round_trip(text: &str) -> String {
    let formula = parse(text);
    let printed = to_expr_string(&formula);
    let again = parse(&printed);
    assert_eq!(
        again, formula,
        "`{text}` printed as `{printed}` parses differently"
    );
    assert_eq!(
        to_expr_string(&again),
        printed,
        "printing `{text}` is not stable"
    );
    printed
}

fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn printed_expressions_reparse(g in gen::generated(5)) {
        let text = g.text();
        let parsed = parse_formula(&text, &Decls::new());
        prop_assert_eq!(parsed, Ok(Formula { lhs: None, body: g.expr.clone() }), "{}", text);
        let declared = parse_formula(&text, &g.declarations()).unwrap();
        prop_assert_eq!(&declared.body, &g.expr, "{} with {}", text, g.decls());
    }

    #[test]
    fn printed_index_formulas_reparse(g in gen::index_formula()) {
        let text = to_expr_string(&g.formula);
        prop_assert_eq!(parse_formula(&text, &Decls::new()), Ok(g.formula.clone()), "{}", text);
        let declared = parse_formula(&text, &g.declarations()).unwrap();
        prop_assert_eq!(&declared, &g.formula, "{} with {}", text, g.decls());
    }

    #[test]
    fn numbers_reparse_exactly(value in any::<f64>().prop_filter("finite", |v| v.is_finite())) {
        let expr = Expr::num(value.abs());
        let text = expr_to_string(&expr);
        let parsed = parse(&text).body;
        let ExprKind::Num(back) = parsed.kind else {
            panic!("`{text}` is not a number");
        };
        prop_assert_eq!(back, value.abs(), "{}", text);
    }

    #[test]
    fn printed_unicode_reparses(g in gen::generated(5)) {
        let formula = Formula { lhs: None, body: g.expr.clone() };
        let text = to_unicode(&formula);
        prop_assert_eq!(parse_formula(&text, &Decls::new()), Ok(formula.clone()), "{}", text);
        let declared = parse_formula(&text, &g.declarations()).unwrap();
        prop_assert_eq!(&declared.body, &g.expr, "{} with {}", text, g.decls());
    }

    #[test]
    fn printed_unicode_index_formulas_reparse(g in gen::index_formula()) {
        let text = to_unicode(&g.formula);
        prop_assert_eq!(parse_formula(&text, &Decls::new()), Ok(g.formula.clone()), "{}", text);
    }

    #[test]
    fn juxtaposition_reads_as_explicit_products(j in juxtaposed()) {
        let (glued, explicit) = j;
        let a = parse_formula(&glued, &Decls::new());
        let b = parse_formula(&explicit, &Decls::new());
        prop_assert!(b.is_ok(), "{}: {:?}", explicit, b);
        prop_assert_eq!(a, b, "`{}` and `{}`", glued, explicit);
    }

    #[test]
    fn generated_shapes_are_as_claimed(g in gen::generated(5)) {
        prop_assert_eq!(shape_of(&g.expr, &g.vars), Ok(g.shape), "{}", g.text());
    }
}

/// A product of one-letter factors, some transposed, with a sign, a
/// postfix operator on the last factor and an operator on either side:
/// written juxtaposed (`-x'AB'C^2`) and with `*` (`-x'*A*B'*C^2`). Each word
/// between transposes holds a capital; the lowercase letters cannot spell a
/// Greek letter's name with a capital.
fn juxtaposed() -> impl Strategy<Value = (String, String)> {
    let letter = prop::sample::select(
        "ABCDEFGHJKMNPQRSTUVWXYZuvwxyz"
            .chars()
            .map(String::from)
            .collect::<Vec<_>>(),
    );
    let factors = prop::collection::vec((letter, any::<bool>()), 2..6);
    let sign = prop::sample::select(vec!["", "-", "+", "--"]);
    let last = prop::sample::select(vec!["", "'", "^2", ".^2", "[i,j]", "'[i]"]);
    let before = prop::sample::select(vec!["", "Z*", "a + ", "(", "tr("]);
    (factors, sign, last, before)
        .prop_filter("each word holds a capital", |(factors, ..)| {
            let mut word_has_capital = false;
            let mut word_len = 0;
            for (n, (letter, transposed)) in factors.iter().enumerate() {
                word_has_capital |= letter.chars().all(|c| c.is_ascii_uppercase());
                word_len += 1;
                if *transposed || n + 1 == factors.len() {
                    if word_len > 1 && !word_has_capital {
                        return false;
                    }
                    word_has_capital = false;
                    word_len = 0;
                }
            }
            true
        })
        .prop_map(|(factors, sign, last, before)| {
            let written: Vec<String> = factors
                .iter()
                .map(|(l, t)| format!("{l}{}", if *t { "'" } else { "" }))
                .collect();
            let after = if before.ends_with('(') { ")" } else { "" };
            let glued = format!("{before}{sign}{}{last}{after}", written.concat());
            let explicit = format!("{before}{sign}{}{last}{after}", written.join("*"));
            (glued, explicit)
        })
}

/// Juxtaposition as documented in `tests/corpus/README.md`.
#[test]
fn juxtaposition_rule() {
    let declared = || {
        let mut decls = Decls::new();
        decls
            .extend_from_str("XW: 3x3, WB: 3x3, Ax: 3, lam: scalar")
            .unwrap();
        decls
    };
    let same = |a: &str, b: &str, decls: &Decls| {
        assert_eq!(
            parse_formula(a, decls),
            parse_formula(b, decls),
            "`{a}` must read as `{b}`"
        );
    };
    let none = Decls::new();
    for (glued, explicit) in [
        ("tr(XX')", "tr(X*X')"),
        ("tr(AX')", "tr(A*X')"),
        ("x'*Ax", "x'*A*x"),
        ("x'Ax", "x'*A*x"),
        ("AB'C", "A*B'*C"),
        ("XW", "X*W"),
        ("-XW", "-X*W"),
        ("A*XW", "A*X*W"),
        ("XW^2", "X*W^2"),
        ("X(Y + Z)'", "X*(Y + Z)'"),
        ("Ax(y)", "A*x*(y)"),
        ("L(XW + B)", "L(X*W + B)"),
        ("dL", "dL"),
    ] {
        same(glued, explicit, &none);
    }
    // Digits, underscores, lowercase words and Greek letters' names are one
    // name each.
    for name in ["XW1", "W1", "x_1", "lam", "xy", "Sigma", "Xi"] {
        assert_eq!(
            parse_formula(name, &none).unwrap().body.kind,
            ExprKind::Var(name.to_string()),
            "{name}"
        );
    }
    // Declared names win over their letters; fewest pieces win.
    let decls = declared();
    same("XW", "XW", &decls);
    same("XWC", "XW*C", &decls);
    same("AxB", "Ax*B", &decls);
    same("lamX", "lam*X", &decls);
    // Two splits with as few pieces: refused, with both readings.
    let err = parse_formula("XWB", &decls).unwrap_err();
    let ParseError::Ambiguous { readings, .. } = &err else {
        panic!("XWB: {err:?}");
    };
    assert_eq!(readings, &["X*WB", "XW*B"]);
    // After an operator that would split the run, or as an exponent: refused.
    for text in ["a/XW", "A.*XW", "A./XW'", "2^XW", "x.^AB"] {
        assert!(
            matches!(
                parse_formula(text, &none),
                Err(ParseError::Ambiguous { .. })
            ),
            "{text}"
        );
    }
    // Side by side without a transpose before: an operator is missing.
    for text in ["X W", "x' A", "X[i,k]W[k,j]", "x^2A"] {
        assert!(
            matches!(
                parse_formula(text, &none),
                Err(ParseError::MissingOperator { .. })
            ),
            "{text}"
        );
    }
}

/// Every kind of mark the Unicode printer writes reads back.
#[test]
fn unicode_input() {
    for (unicode, ascii) in [
        ("Xᵀ·∂L", "X'*dL"),
        ("A ⊙ B ⊘ C", "A .* B ./ C"),
        ("a − −b", "a - -b"),
        ("X⁻¹ + (A·B)⁻¹ᵀ", "inv(X) + inv(A*B)'"),
        ("x² + y⁻² + y^(−1) + z^2.5", "x^2 + y^-2 + y^-1 + z^2.5"),
        ("X^⊙2", "X.^2"),
        ("|x| + ‖x‖₁ + ‖x‖₂²", "abs(x) + norm1(x) + norm2(x)^2"),
        ("||x| − 1|", "abs(abs(x) - 1)"),
        (
            "Mᵀ·𝟙 + Iₙ + 𝟙₃ₓ₄ + 0ₙₓₘ",
            "M'*vector(1) + eye(n) + ones(3,4) + zeros(n,m)",
        ),
        ("10⁻³⁰⁰·x + 1.5·10⁻⁹ + (10)²", "1e-300*x + 1.5e-9 + 10^2"),
        ("∂L(X) + ∂L(Xᵀ)ᵀ", "dL(X) + dL(X')'"),
        (
            "Gᵢⱼ = δᵢⱼ·Xᵢⱼ + Σₖ(∂Lᵢₖ·Wⱼₖ)",
            "G[i,j] = delta(i,j)*X[i,j] + sum[k](dL[i,k]*W[j,k])",
        ),
        ("G[i,j1] = X[i,j1]·δ[b,c]", "G[i,j1] = X[i,j1]*delta(b,c)"),
        ("gᵢ = Σ[q]((X⁻¹)[i,q])", "g[i] = sum[q](inv(X)[i,q])"),
        ("(I)ₙ + (𝟙)ᵢ", "I[n] + vector(1)[i]"),
    ] {
        assert_eq!(
            parse_formula(unicode, &Decls::new()),
            Ok(parse(ascii)),
            "`{unicode}` must read as `{ascii}`"
        );
    }
    // The gradient mark needs an abstract function.
    assert!(parse_formula("∂x", &Decls::new()).is_err());
}

#[test]
fn generator_names_encode_shapes() {
    for shape in [
        Shape::Scalar,
        Shape::Col(2),
        Shape::Col(5),
        Shape::Mat(2, 5),
        Shape::Mat(5, 5),
    ] {
        for variant in 0..3 {
            let name = gen::var_name(shape, variant);
            assert_eq!(gen::var_shape(&name), Some(shape), "{name}");
            let parsed = parse(&name).body;
            assert_eq!(
                parsed.kind,
                ExprKind::Var(name.clone()),
                "{name} must re-parse as itself"
            );
        }
    }
}

#[test]
fn shape_oracle_rejects_ill_shaped_expressions() {
    let vars = [
        ("A", Shape::Mat(2, 3)),
        ("a", Shape::Col(2)),
        ("b", Shape::Col(3)),
    ]
    .map(|(n, s)| (n.to_string(), s))
    .into();
    let shape = |text: &str| shape_of(&parse(text).body, &vars);
    assert_eq!(shape("A'*a + b"), Ok(Shape::Col(3)));
    assert_eq!(shape("A + b'"), Ok(Shape::Mat(2, 3)));
    assert_eq!(shape("A*vector(1)"), Ok(Shape::Col(2)));
    for bad in [
        "A*A",
        "A + a",
        "a + b'",
        "tr(A)",
        "sum(vector(1))",
        "vector(1)*b'",
        "a^2",
    ] {
        assert!(shape(bad).is_err(), "{bad} has no shape");
    }
}

/// Every construct the generator promises shows up in a few thousand
/// draws (a deterministic runner, so this cannot flake).
#[test]
fn generator_covers_the_whole_syntax() {
    use proptest::strategy::ValueTree;
    use std::collections::BTreeSet;

    fn kinds(e: &Expr, seen: &mut BTreeSet<String>) {
        let kind = match &e.kind {
            ExprKind::Call(f, _) => f.name().to_string(),
            ExprKind::Binary(op, _, _) => op.symbol().to_string(),
            ExprKind::Fill { kind, .. } => format!("{kind:?}"),
            ExprKind::Const(kind, _) => kind.name().to_string(),
            other => format!("{other:?}")
                .split(['(', ' '])
                .next()
                .unwrap_or("")
                .to_string(),
        };
        seen.insert(kind);
        for child in e.children() {
            kinds(child, seen);
        }
    }
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut seen = BTreeSet::new();
    for _ in 0..3000 {
        let tree = gen::generated(5).new_tree(&mut runner).expect("a draw");
        kinds(&tree.current().expr, &mut seen);
    }
    for _ in 0..300 {
        let tree = gen::index_formula().new_tree(&mut runner).expect("a draw");
        kinds(&tree.current().formula.body, &mut seen);
    }
    let functions = matcalc::syntax::Func::ALL.map(|f| f.name().to_string());
    let others = [
        "+",
        "-",
        "*",
        "/",
        ".*",
        "./",
        "^",
        ".^",
        "Num",
        "Var",
        "Neg",
        "Transpose",
        "Vector",
        "Matrix",
        "eye",
        "ones",
        "zeros",
        "Apply",
        "Grad",
        "Index",
        "Delta",
        "IndexSum",
    ];
    for kind in functions.iter().map(String::as_str).chain(others) {
        assert!(seen.contains(kind), "the generator never produced {kind}");
    }
}

/// (input, minimal printed text): precedence, associativity and the
/// shapes of the syntax that need care.
const CASES: &[(&str, &str)] = &[
    ("2^3^2", "2^3^2"),
    ("(2^3)^2", "2^3^2"),
    ("2^(3^2)", "2^(3^2)"),
    ("-2^2", "-2^2"),
    ("-(2^2)", "-2^2"),
    ("(-2)^2", "(-2)^2"),
    ("2^-1", "2^-1"),
    ("2^(-1)", "2^-1"),
    ("2^--1", "2^1"),
    ("2^(-(-1))", "2^-(-1)"),
    ("--x", "x"),
    ("-(-x)", "-(-x)"),
    ("a-(b-c)", "a - (b - c)"),
    ("(a-b)-c", "a - b - c"),
    ("a+(b+c)", "a + (b + c)"),
    ("(a+b)*c", "(a + b)*c"),
    ("a*(b*c)", "a*(b*c)"),
    ("(a*b)*c", "a*b*c"),
    ("a/(b/c)", "a/(b/c)"),
    ("a*(b/c)", "a*(b/c)"),
    ("a*(-b)", "a*-b"),
    ("a-(-b)", "a - -b"),
    ("(-a)*b", "-a*b"),
    ("-(a*b)", "-(a*b)"),
    ("-x'", "-x'"),
    ("-(x')", "-x'"),
    ("(-x)'", "(-x)'"),
    ("(x')'", "x''"),
    ("x.'", "x'"),
    ("2.*x", "2 .* x"),
    ("2 .^ x", "2.^x"),
    ("x.^(-1)", "x.^-1"),
    ("x.^2.5", "x.^2.5"),
    ("x'.^2", "x'.^2"),
    ("(x.^2)'", "x.^2'"),
    ("x.^(2')", "x.^(2')"),
    ("A*(B*C)", "A*(B*C)"),
    ("(A*B)'", "(A*B)'"),
    ("(A')*(B')", "A'*B'"),
    ("(X'*B)[i,k]", "(X'*B)[i,k]"),
    ("(x^2)[i]", "(x^2)[i]"),
    ("x^y[i]", "x^y[i]"),
    ("(x^y[j])[i]", "x^y[j][i]"),
    ("(x^-y[j])[i]", "x^-y[j][i]"),
    ("x^(y[i][j])", "x^(y[i])[j]"),
    ("x^-(y')[i]", "x^-(y')[i]"),
    ("(x^(a+b))[i]", "(x^(a + b))[i]"),
    ("(-x)[i]", "(-x)[i]"),
    ("inv(X)[l,i]", "inv(X)[l,i]"),
    ("exp(A*X)[p,j]", "exp(A*X)[p,j]"),
    ("XW", "X*W"),
    ("L(XW + B)", "L(X*W + B)"),
    ("dL", "dL"),
    ("dL(X')", "dL(X')"),
    ("dL(X) + dL(X')'", "dL(X) + dL(X')'"),
    ("M' * vector(1)", "M'*vector(1)"),
    ("vector(1)'*X/4", "vector(1)'*X/4"),
    ("eye(n)", "eye(n)"),
    ("ones(3, 4) + zeros(n)", "ones(3,4) + zeros(n)"),
    (
        "1.0 + .5 + 1e-5 + 1e20 + 1e-300",
        "1 + 0.5 + 0.00001 + 1e20 + 1e-300",
    ),
    ("delta(i, j)", "delta(i,j)"),
    ("sum[p, q](A[p,q])", "sum[p,q](A[p,q])"),
    ("G[i,j] = dL[i,k]*W[j,k]", "G[i,j] = dL[i,k]*W[j,k]"),
    ("J[i,j] = -(x[i])*delta(i,j)", "J[i,j] = -x[i]*delta(i,j)"),
    (
        "H[i,j,k,l] = sum[p](A[p,i]*exp(A*X)[p,j]*A[p,k])*delta(j,l)",
        "H[i,j,k,l] = sum[p](A[p,i]*exp(A*X)[p,j]*A[p,k])*delta(j,l)",
    ),
    (
        "H[i,j,k,l] = -inv(X)[j,k]*inv(X)[l,i]",
        "H[i,j,k,l] = -inv(X)[j,k]*inv(X)[l,i]",
    ),
];

#[test]
fn tricky_cases_print_minimally_and_round_trip() {
    for (input, expected) in CASES {
        assert_eq!(round_trip(input), *expected, "printing `{input}`");
    }
}

#[test]
fn every_corpus_formula_round_trips() {
    let corpus = include_str!("corpus/cases.jsonl");
    let mut count = 0;
    for line in corpus.lines().filter(|l| !l.trim().is_empty()) {
        let case: serde_json::Value = serde_json::from_str(line).expect("corpus line is JSON");
        for field in ["expr", "expected", "expected_index"] {
            if let Some(text) = case[field].as_str() {
                round_trip(text);
                count += 1;
            }
        }
    }
    assert!(count >= 150, "only {count} corpus formulas");
}

/// Printing recurses once per tree level, so a tree near [`MAX_DEPTH`]
/// needs more stack than a default 2 MiB test thread has: this test runs
/// on a thread with 256 MiB, as the CLI does.
#[test]
fn deep_expressions_print_and_round_trip() {
    let sources = [
        // A left-associated chain as deep as the parser allows.
        vec!["a"; MAX_DEPTH].join("+"),
        // A postfix chain.
        format!("x{}", "'".repeat(MAX_DEPTH - 1)),
        // Negations nested in parentheses, as deep as the nesting limit.
        format!("{}x{}", "-(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING)),
    ];
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || {
            for source in &sources {
                let formula = parse(source);
                let printed = to_expr_string(&formula);
                assert_eq!(parse(&printed), formula);
                assert!(!matcalc::syntax::to_unicode(&formula).is_empty());
                assert!(!matcalc::syntax::to_latex(&formula).is_empty());
            }
        })
        .expect("spawn a test thread")
        .join()
        .expect("deep printing does not fail");
}
