//! Snapshots of the three printers on corpus formulas, and of the rendered
//! diagnostic of every kind of parse error. Snapshots live in the top-level
//! `snapshots/` folder; review changes with `cargo insta review`.

use matcalc::syntax::{
    parse_expr, parse_formula, to_expr_string, to_latex, to_unicode, Decls, ParseError, MAX_DEPTH,
    MAX_NESTING,
};

fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings
}

/// Corpus cases whose formulas exercise most of the printers: products,
/// broadcasting, powers, inverses, `vector(1)`, the abstract loss and
/// index forms.
const CASES: &[&str] = &[
    "affine-dx",
    "affine-bias-db",
    "bc-tanh-bias",
    "quad-rayleigh",
    "tr-cookbook-126",
    "det-xtax",
    "inv-sum",
    "ew-pow-frac",
    "ew-x-pow-y",
    "loss-hinge",
    "dl-mlp-w1",
    "jac-softmax",
    "jac-normalize",
    "ho-det-hessian",
    "ho-jac-xtbx",
    "ho-jac-softmax-w",
    "ac-two-calls",
];

fn corpus_case(id: &str) -> serde_json::Value {
    include_str!("corpus/cases.jsonl")
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).expect("corpus line is JSON"))
        .find(|case| case["id"] == id)
        .unwrap_or_else(|| panic!("no corpus case `{id}`"))
}

fn render_printers(id: &str) -> String {
    let case = corpus_case(id);
    let mut out = String::new();
    for field in ["expr", "expected", "expected_index"] {
        let Some(text) = case[field].as_str() else {
            continue;
        };
        let formula = parse_formula(text, &Decls::new()).expect("corpus formulas parse");
        out.push_str(&format!(
            "{field}: {text}\n  syntax:  {}\n  unicode: {}\n  latex:   {}\n",
            to_expr_string(&formula),
            to_unicode(&formula),
            to_latex(&formula)
        ));
    }
    out
}

#[test]
fn printers_on_corpus_formulas() {
    settings().bind(|| {
        for id in CASES {
            insta::assert_snapshot!(format!("print-{id}"), render_printers(id));
        }
    });
}

fn error_of(source: &str) -> ParseError {
    parse_formula(source, &Decls::new()).expect_err("the source is invalid")
}

fn rendered(source: &str) -> String {
    error_of(source).diagnostic().render(source)
}

#[test]
fn diagnostics_of_parse_errors() {
    let cases: &[(&str, &str)] = &[
        ("empty", ""),
        ("blank", "  \t "),
        ("unclosed-paren", "L(X*W + B"),
        ("unclosed-inner-paren", "tr(A*(X + B)"),
        ("unmatched-paren", "a + b)"),
        ("mismatched-bracket", "X[i,j)"),
        ("unexpected-operator", "a + * b"),
        ("unexpected-name", "X W"),
        ("unexpected-end", "X'*"),
        ("misspelt-builtin", "sigmod(X)"),
        ("unknown-function", "foo(X)"),
        ("reserved-as-value", "exp + 1"),
        ("wrong-arity", "tr(A, B)"),
        ("bad-size-argument", "eye(x')"),
        ("delta-arity", "delta(i)"),
        ("invalid-index-capital", "G[i,j] = X[I,j]"),
        ("invalid-index-letters", "x[i1a]"),
        ("number-too-large", "2*1e999"),
        ("invisible-nbsp", "a +\u{a0}b"),
        ("invisible-nul", "tr(X)\0"),
        ("invisible-zero-width-space", "X\u{200b}*W"),
        ("invisible-bom", "\u{feff}tr(X)"),
        ("mean-bad-axis", "mean(X, 3)"),
        ("size-without-axis", "size(X)"),
        ("other-language-norm", "norm(x)"),
        ("other-language-trace", "trace(X)"),
        ("other-language-transpose", "transpose(X)"),
        ("juxtaposition-after-division", "a/XW"),
        ("juxtaposition-as-exponent", "2^XW"),
        ("missing-operator", "x' A*x"),
    ];
    settings().bind(|| {
        for (name, source) in cases {
            insta::assert_snapshot!(format!("error-{name}"), rendered(source), source);
        }
    });
}

/// A word that declared names split in two ways with as few pieces.
#[test]
fn ambiguous_juxtaposition() {
    let mut decls = Decls::new();
    decls.extend_from_str("XW: 3x3, WB: 3x3").unwrap();
    let source = "L(XWB)";
    let err = parse_formula(source, &decls).expect_err("XWB splits two ways");
    settings().bind(|| {
        insta::assert_snapshot!(
            "error-ambiguous-juxtaposition",
            err.diagnostic().render(source)
        );
    });
}

/// Invisible characters are named, never shown raw, wherever they are.
#[test]
fn every_invisible_character_is_named() {
    for c in [
        '\0', '\u{7}', '\u{a0}', '\u{ad}', '\u{200b}', '\u{200d}', '\u{2060}', '\u{feff}',
        '\u{3000}', '\u{202e}',
    ] {
        let source = format!("tr(A{c}*X)");
        let err = error_of(&source);
        let ParseError::Invisible {
            description, span, ..
        } = &err
        else {
            panic!("{c:?}: {err:?}");
        };
        assert!(
            description.starts_with(&format!("U+{:04X} ", c as u32)),
            "{description}"
        );
        assert_eq!(span.start, 4);
        assert!(err
            .diagnostic()
            .render(&source)
            .contains(description.as_str()));
    }
}

#[test]
fn index_form_where_an_expression_is_required() {
    let source = "G[i] = x[i]";
    let err = parse_expr(source, &Decls::new()).expect_err("an index form is not an expression");
    settings().bind(|| {
        insta::assert_snapshot!(
            "error-index-form-not-allowed",
            err.diagnostic().render(source)
        );
    });
}

#[test]
fn too_deeply_nested_brackets() {
    let source = format!("{}x{}", "(".repeat(3000), ")".repeat(3000));
    let err = error_of(&source);
    assert_eq!(
        err,
        ParseError::TooDeeplyNested {
            limit: MAX_NESTING,
            span: matcalc::syntax::Span::new(MAX_NESTING, MAX_NESTING + 1),
        }
    );
    settings().bind(|| {
        insta::assert_snapshot!("error-too-deeply-nested", err.diagnostic().render(&source));
    });
}

/// A 1 MB chain `a+a+…` is far deeper than [`MAX_DEPTH`]: it must give a
/// clear error, on a default-sized test thread, without overflowing the
/// stack.
#[test]
fn megabyte_expression_is_too_deep() {
    let source = vec!["a"; 500_000].join("+");
    assert!(source.len() >= 999_999);
    let err = error_of(&source);
    assert!(
        matches!(err, ParseError::TooDeep { limit, .. } if limit == MAX_DEPTH),
        "{err:?}"
    );
    // The caret sits on the operand that went over the limit.
    assert_eq!(err.span().start, 2 * MAX_DEPTH);
    settings().bind(|| {
        insta::assert_snapshot!("error-megabyte-chain", err.diagnostic().render(&source));
    });
}
