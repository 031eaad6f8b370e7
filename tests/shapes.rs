//! The shape layer: every corpus formula checks and has the layout shape of
//! the corpus README; default shapes and their assumptions; the two
//! broadcasting rules and their rejections (diagnostics snapshotted);
//! the size inference of `vector(c)`; the Einstein convention; rigid
//! declared dimensions; `diag` both ways; `softmax` of a matrix.

use std::collections::BTreeMap;

use matcalc::numeric::Case;
use matcalc::shape::{check, Dim, ResultShape, Shape, ShapeContext, ShapeError, Typed};
use matcalc::syntax::{parse_formula, to_expr_string, Decls, Formula};

fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings
}

fn decls(text: &str) -> Decls {
    let mut d = Decls::new();
    if !text.is_empty() {
        d.extend_from_str(text)
            .unwrap_or_else(|e| panic!("declarations `{text}`: {e}"));
    }
    d
}

fn parsed(text: &str, decls: &Decls) -> Formula {
    parse_formula(text, decls).unwrap_or_else(|e| panic!("`{text}` does not parse: {e}"))
}

/// Checks `text` under `decls`, with the gradient shapes and required
/// result shape given.
fn checked_with(
    text: &str,
    decls: &Decls,
    gradient_shapes: BTreeMap<String, Shape>,
    expected: Option<Shape>,
) -> Result<Typed, ShapeError> {
    let ctx = ShapeContext {
        decls,
        source: text,
        gradient_shapes,
        expected,
    };
    check(&parsed(text, decls), &ctx)
}

fn checked(text: &str, decls_text: &str) -> Result<Typed, ShapeError> {
    checked_with(text, &decls(decls_text), BTreeMap::new(), None)
}

fn ok(text: &str, decls_text: &str) -> Typed {
    checked(text, decls_text).unwrap_or_else(|e| panic!("`{text}`: {e}"))
}

/// The rendered diagnostic of a formula that must not check.
fn rejected(text: &str, decls_text: &str) -> String {
    match checked(text, decls_text) {
        Ok(t) => panic!("`{text}` checks as {:?}", t.result),
        Err(e) => e.diagnostic().render(text),
    }
}

fn fixed(rows: usize, cols: usize) -> Shape {
    Shape::matrix(Dim::Fixed(rows), Dim::Fixed(cols))
}

fn named(rows: &str, cols: &str) -> Shape {
    let dim = |d: &str| match d.parse() {
        Ok(n) => Dim::Fixed(n),
        Err(_) => Dim::Named(d.to_string()),
    };
    Shape::matrix(dim(rows), dim(cols))
}

fn matrix_result(t: &Typed) -> &Shape {
    match &t.result {
        ResultShape::Matrix(s) => s,
        other => panic!("not a matrix result: {other:?}"),
    }
}

// --- The corpus ----------------------------------------------------------------

const CORPUS: &str = include_str!("corpus/cases.jsonl");

fn corpus() -> Vec<Case> {
    CORPUS
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("corpus line is a case"))
        .collect()
}

/// The shape of a `vars` entry: `[]` scalar, `[n]` column, `[n,m]` matrix.
fn shape_of_dims(dims: &[usize]) -> Shape {
    match dims {
        [] => fixed(1, 1),
        [n] => fixed(*n, 1),
        [r, c] => fixed(*r, *c),
        _ => panic!("a variable has at most two dims"),
    }
}

/// Layout dims of a value (`[]`, `[n]` for a column or a row, `[r,c]`).
fn layout_dims(s: &Shape) -> Vec<Dim> {
    let one = Dim::Fixed(1);
    match (&s.rows, &s.cols) {
        (r, c) if *r == one && *c == one => Vec::new(),
        (r, c) if *c == one => vec![r.clone()],
        (r, c) if *r == one => vec![c.clone()],
        (r, c) => vec![r.clone(), c.clone()],
    }
}

/// The layout of the derivative (corpus README): the dims of f, then those
/// of each variable differentiated by.
fn derivative_layout(f: &Shape, wrt: &[Shape]) -> Vec<Dim> {
    let mut dims = layout_dims(f);
    for x in wrt {
        dims.extend(layout_dims(x));
    }
    dims
}

/// A matrix-form result of layout `dims`: `[]` 1×1, `[n]` n×1, `[r,c]` r×c.
fn matrix_of_layout(dims: &[Dim]) -> Option<Shape> {
    let one = Dim::Fixed(1);
    match dims {
        [] => Some(Shape::matrix(one.clone(), one)),
        [n] => Some(Shape::matrix(n.clone(), one)),
        [r, c] => Some(Shape::matrix(r.clone(), c.clone())),
        _ => None,
    }
}

/// True when the index-form dims `got` are the `layout` dims, up to giving
/// the symbols the formula leaves open (`delta(i,k)` alone does not size
/// `i`) one size each.
fn tensor_fits(got: &[Dim], layout: &[Dim]) -> bool {
    let mut symbols: BTreeMap<&str, &Dim> = BTreeMap::new();
    got.len() == layout.len()
        && got.iter().zip(layout).all(|(g, l)| match g {
            Dim::Named(s) => *symbols.entry(s.as_str()).or_insert(l) == l,
            fixed => fixed == l,
        })
}

/// Checks one corpus case: `expr`, `expected` and `expected_index`.
fn check_case(case: &Case) -> Result<(), String> {
    let decls = case.decls();
    let typed = checked_with(&case.expr, &decls, BTreeMap::new(), None)
        .map_err(|e| format!("expr `{}`: {e}", case.expr))?;
    if !typed.assumed.is_empty() {
        return Err(format!(
            "assumed {:?} although all is declared",
            typed.assumed
        ));
    }
    for (name, dims) in &case.vars {
        let want = shape_of_dims(dims);
        if typed.vars.get(name) != Some(&want) {
            return Err(format!(
                "`{name}` is {:?}, declared {want}",
                typed.vars.get(name)
            ));
        }
    }
    let ResultShape::Matrix(f) = &typed.result else {
        return Err("expr is not a matrix expression".into());
    };
    let wrt: Vec<Shape> = case
        .wrt_names()
        .iter()
        .map(|w| shape_of_dims(&case.vars[w]))
        .collect();
    let layout = derivative_layout(f, &wrt);
    let mut gradient_shapes = BTreeMap::new();
    if let Some(arg) = typed.gradients.get("L") {
        gradient_shapes.insert("L".to_string(), arg.clone());
    }
    let mut claims = vec![("expected", &case.expected)];
    if let Some(index) = &case.expected_index {
        claims.push(("expected_index", index));
    }
    for (field, text) in claims {
        let result = checked_with(text, &decls, gradient_shapes.clone(), None)
            .map_err(|e| format!("{field} `{text}`: {e}"))?
            .result;
        let want = match &result {
            ResultShape::Tensor(_) => ResultShape::Tensor(layout.clone()),
            ResultShape::Matrix(_) => ResultShape::Matrix(
                matrix_of_layout(&layout)
                    .ok_or_else(|| format!("{field} `{text}` is a matrix, layout {layout:?}"))?,
            ),
        };
        let fits = match (&result, &want) {
            (ResultShape::Tensor(got), ResultShape::Tensor(layout)) => tensor_fits(got, layout),
            _ => result == want,
        };
        if !fits {
            return Err(format!(
                "{field} `{text}` has shape {result:?}, layout {want:?}"
            ));
        }
        // Read with the required shape, as a grader does, it checks too.
        if let ResultShape::Matrix(required) = want {
            checked_with(text, &decls, gradient_shapes.clone(), Some(required))
                .map_err(|e| format!("{field} `{text}` with its layout required: {e}"))?;
        }
    }
    Ok(())
}

#[test]
fn every_corpus_formula_has_its_layout_shape() {
    let cases = corpus();
    assert!(cases.len() >= 75, "the corpus has {} cases", cases.len());
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| check_case(c).err().map(|e| format!("{}: {e}", c.id)))
        .collect();
    assert!(
        failures.is_empty(),
        "{} case(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn a_claim_of_the_wrong_layout_is_caught() {
    let case = corpus()
        .into_iter()
        .find(|c| c.id == "affine-dx")
        .expect("affine-dx is in the corpus");
    assert_eq!(check_case(&case), Ok(()));
    let transposed = Case {
        expected: "W*dL'".into(),
        ..case.clone()
    };
    let error = check_case(&transposed).expect_err("W*dL' is 3×4, not 4×3");
    assert!(error.contains("W*dL'"), "{error}");
    let reordered = Case {
        expected_index: Some("G[j,i] = dL[i,k]*W[j,k]".into()),
        ..case
    };
    let error = check_case(&reordered).expect_err("G[j,i] is 3×4, not 4×3");
    assert!(error.contains("G[j,i]"), "{error}");
}

// --- Default shapes --------------------------------------------------------------

#[test]
fn undeclared_names_get_default_shapes_and_say_so() {
    let typed = ok("X*W + B", "");
    assert_eq!(typed.assumptions(), "assuming X: n×k, W: k×m, B: n×m");
    assert_eq!(matrix_result(&typed), &named("n", "m"));
    let typed = ok("a*x + y", "");
    assert_eq!(
        typed.assumptions(),
        "assuming a: scalar, x: n-vector, y: n-vector"
    );
}

#[test]
fn declared_names_are_not_assumed() {
    let typed = ok("X*W + B", "X: 4x3, W: 3x5, B: 4x5");
    assert_eq!(typed.assumptions(), "");
    assert_eq!(matrix_result(&typed), &fixed(4, 5));
}

// --- Broadcasting ----------------------------------------------------------------

#[test]
fn a_row_broadcasts_against_a_matrix() {
    let typed = ok("X + b'", "X: n x m, b: m");
    assert_eq!(matrix_result(&typed), &named("n", "m"));
    let typed = ok("b' .* X", "X: 3x4, b: 4");
    assert_eq!(matrix_result(&typed), &fixed(3, 4));
}

#[test]
fn a_scalar_broadcasts_against_anything() {
    let typed = ok("s + X", "s: scalar");
    assert_eq!(typed.vars["s"], fixed(1, 1));
    assert_eq!(matrix_result(&typed), &named("n", "k"));
    assert_eq!(matrix_result(&ok("x - a", "")), &named("n", "1"));
    assert_eq!(matrix_result(&ok("a ./ x'", "")), &named("1", "n"));
}

#[test]
fn a_column_does_not_broadcast_against_a_matrix() {
    let shown = rejected("X + b", "X: 3x4, b: 3");
    assert!(
        shown.contains("X (3×4)") && shown.contains("b (3×1)"),
        "{shown}"
    );
    settings().bind(|| insta::assert_snapshot!("shape-column-against-matrix", shown));
}

#[test]
fn a_row_does_not_broadcast_against_a_column() {
    let shown = rejected("x + y'", "x: n, y: n");
    assert!(
        shown.contains("x (n×1)") && shown.contains("y' (1×n)"),
        "{shown}"
    );
    settings().bind(|| insta::assert_snapshot!("shape-row-against-column", shown));
}

#[test]
fn a_product_with_different_inner_dimensions_is_rejected() {
    let shown = rejected("A*B", "A: 3x4, B: 3x4");
    assert!(
        shown.contains("A (3×4)") && shown.contains("B (3×4)"),
        "{shown}"
    );
    settings().bind(|| insta::assert_snapshot!("shape-inner-dimensions", shown));
}

// --- Sizes of vector(c) ------------------------------------------------------------

#[test]
fn a_vector_of_ones_takes_its_size_from_its_context() {
    // M*vector(c): the column count of M.
    let typed = ok("M*vector(1)", "M: 3x4");
    assert_eq!(matrix_result(&typed), &fixed(3, 1));
    assert_eq!(to_expr_string(&typed.formula), "M*vector(1)");
    assert_sizes(&typed, &[fixed(4, 1)]);
    // vector(c)'*M: the row count of M.
    let typed = ok("vector(1)'*M", "M: 3x4");
    assert_eq!(matrix_result(&typed), &fixed(1, 4));
    assert_sizes(&typed, &[fixed(3, 1)]);
    // Element-wise beside a sized operand: its shape.
    let typed = ok("x + vector(1)", "x: 5");
    assert_sizes(&typed, &[fixed(5, 1)]);
    let typed = ok("X .* matrix(2)", "X: 2x3");
    assert_sizes(&typed, &[fixed(2, 3)]);
    // Symbolic sizes too.
    let typed = ok("M*vector(1)", "");
    assert_sizes(&typed, &[named("k", "1")]);
}

#[test]
fn a_vector_of_ones_as_the_whole_result_takes_the_required_shape() {
    let decls = Decls::new();
    let typed = checked_with("vector(1)", &decls, BTreeMap::new(), Some(fixed(3, 1))).unwrap();
    assert_sizes(&typed, &[fixed(3, 1)]);
    let typed = checked_with("matrix(0.5)", &decls, BTreeMap::new(), Some(fixed(2, 4))).unwrap();
    assert_sizes(&typed, &[fixed(2, 4)]);
}

#[test]
fn a_scaled_vector_of_ones_keeps_its_size_deferred() {
    let typed = ok("M*(4*vector(1))", "M: 3x4");
    assert_sizes(&typed, &[fixed(4, 1)]);
    let decls = Decls::new();
    let typed = checked_with("4*vector(1)", &decls, BTreeMap::new(), Some(fixed(3, 1))).unwrap();
    assert_sizes(&typed, &[fixed(3, 1)]);
    let shown = rejected("4*vector(1)", "");
    settings().bind(|| insta::assert_snapshot!("shape-fill-unsized-result", shown));
}

#[test]
fn a_vector_of_ones_is_rejected_where_nothing_sizes_it() {
    let sum = rejected("sum(vector(1))", "");
    assert!(sum.contains("ones(n)"), "{sum}");
    let outer = rejected("vector(1)*x'", "x: 3");
    assert!(outer.contains("ones(n)"), "{outer}");
    settings().bind(|| {
        insta::assert_snapshot!("shape-fill-in-sum", sum);
        insta::assert_snapshot!("shape-fill-in-outer-product", outer);
    });
}

/// The sizes written into the fills of the elaborated formula, in order.
fn assert_sizes(typed: &Typed, want: &[Shape]) {
    let mut sizes = Vec::new();
    let mut stack = vec![&typed.formula.body];
    while let Some(e) = stack.pop() {
        if let matcalc::syntax::ExprKind::Fill { size, .. } = &e.kind {
            let [r, c] = size.clone().expect("every fill is sized");
            sizes.push(Shape::matrix(r, c));
        }
        stack.extend(e.children().into_iter().rev());
    }
    assert_eq!(sizes, want, "{}", to_expr_string(&typed.formula));
}

// --- Einstein convention --------------------------------------------------------------

#[test]
fn implicit_sums_become_explicit() {
    let typed = ok("G[i,j] = A[i,k]*B[k,j]", "A: 3x4, B: 4x5");
    assert_eq!(
        to_expr_string(&typed.formula),
        "G[i,j] = sum[k](A[i,k]*B[k,j])"
    );
    assert_eq!(
        typed.result,
        ResultShape::Tensor(vec![Dim::Fixed(3), Dim::Fixed(5)])
    );
    assert_eq!(typed.index_dims["k"], Dim::Fixed(4));
}

#[test]
fn an_implicit_sum_closes_at_the_nearest_function_argument() {
    let typed = ok("G[i,j] = exp(X[i,q]*w[q])*delta(i,j)", "");
    assert_eq!(
        to_expr_string(&typed.formula),
        "G[i,j] = exp(sum[q](X[i,q]*w[q]))*delta(i,j)"
    );
    assert_eq!(
        typed.result,
        ResultShape::Tensor(vec![Dim::Named("n".into()), Dim::Named("n".into())])
    );
}

#[test]
fn left_hand_side_indices_are_never_summed() {
    let typed = ok("G[i,j] = a[i]*B[i,j]*b[j]", "a: 3, B: 3x4, b: 4");
    assert_eq!(to_expr_string(&typed.formula), "G[i,j] = a[i]*B[i,j]*b[j]");
}

#[test]
fn an_index_neither_free_nor_summed_is_an_error() {
    let shown = rejected("G[i] = A[i,k]*B[k,j]", "");
    assert!(shown.contains("index `j`"), "{shown}");
    settings().bind(|| insta::assert_snapshot!("shape-index-not-summed", shown));
}

#[test]
fn an_index_three_times_in_a_product_is_an_error() {
    let shown = rejected("G[i,j] = A[i,k]*B[k,j]*C[k,j]", "");
    assert!(shown.contains("index `k`"), "{shown}");
    settings().bind(|| insta::assert_snapshot!("shape-index-three-times", shown));
    // Inside sum[k](…) it may occur any number of times.
    let typed = ok("G[i,j] = sum[k](A[i,k]*B[k,j]*C[k,j])", "");
    assert_eq!(
        typed.result,
        ResultShape::Tensor(vec![Dim::Named("n".into()), Dim::Named("m".into())])
    );
}

// --- Declared dimensions --------------------------------------------------------------

#[test]
fn declared_symbolic_dimensions_are_rigid() {
    let shown = rejected("X + Y", "X: n x k, Y: k x k");
    assert!(
        shown.contains("X (n×k)") && shown.contains("Y (k×k)"),
        "{shown}"
    );
    settings().bind(|| insta::assert_snapshot!("shape-rigid-dimensions", shown));
    // The same dimensions where they fit.
    assert_eq!(
        matrix_result(&ok("X*Y", "X: n x k, Y: k x k")),
        &named("n", "k")
    );
}

// --- Functions ----------------------------------------------------------------------

#[test]
fn diag_builds_a_matrix_from_a_vector_and_extracts_a_diagonal() {
    assert_eq!(matrix_result(&ok("diag(x)", "x: 3")), &fixed(3, 3));
    assert_eq!(matrix_result(&ok("diag(x')", "x: 3")), &fixed(3, 3));
    assert_eq!(matrix_result(&ok("diag(X)", "X: 3x3")), &fixed(3, 1));
    // Undeclared: diag(X) makes X square.
    let typed = ok("diag(X)", "");
    assert_eq!(typed.vars["X"], named("n", "n"));
    let shown = rejected("diag(X)", "X: 3x4");
    settings().bind(|| insta::assert_snapshot!("shape-diag-of-non-square", shown));
}

#[test]
fn softmax_of_a_matrix_is_an_error_with_a_hint() {
    assert_eq!(matrix_result(&ok("softmax(x)", "x: 4")), &fixed(4, 1));
    let error = checked("softmax(X)", "X: 3x4").expect_err("softmax takes a column");
    let help = error.help.clone().expect("a hint");
    assert!(
        help.contains("diag(1 ./ (exp(X)*vector(1)))*exp(X)"),
        "{help}"
    );
    settings().bind(|| {
        insta::assert_snapshot!(
            "shape-softmax-of-matrix",
            error.diagnostic().render("softmax(X)")
        )
    });
}

#[test]
fn sizes_are_written_out_as_numbers_or_dimension_symbols() {
    let body = |text: &str, decls: &str| to_expr_string(&checked(text, decls).unwrap().formula);
    assert_eq!(body("size(X, 1) + size(X, 2)", "X: 4x3"), "4 + 3");
    assert_eq!(body("size(A*B, 2)", "A: n x k, B: k x m"), "sum(ones(m))");
    assert_eq!(body("mean(x)", "x: n"), "sum(x)/(sum(ones(n))*1)");
    assert_eq!(body("mean(X, 1)", "X: 4x3"), "vector(1)'*X/4");
    assert_eq!(body("mean(X, 2)", "X: 4x3"), "X*vector(1)/3");
    // Undeclared: the size is the dimension symbol the defaults give.
    assert_eq!(body("size(X, 1)", ""), "sum(ones(n))");
    // Sizes inside the argument of a size, and fills around them, keep
    // their order.
    assert_eq!(
        body("size(X*vector(size(X, 2)), 1)*vector(1)'*X", "X: 4x3"),
        "4*vector(1)'*X"
    );
    let mean_shape = |text: &str| checked(text, "X: 4x3").unwrap().result;
    assert_eq!(
        mean_shape("mean(X, 1)"),
        ResultShape::Matrix(Shape::matrix(Dim::Fixed(1), Dim::Fixed(3)))
    );
    assert_eq!(
        mean_shape("mean(X, 2)"),
        ResultShape::Matrix(Shape::column(Dim::Fixed(4)))
    );
    assert_eq!(mean_shape("mean(X)"), ResultShape::Matrix(Shape::scalar()));
    // A fill has no size of its own to give.
    assert!(checked("size(vector(1), 1)", "").is_err());
}

#[test]
fn a_matrix_power_needs_a_square_matrix_and_an_integer_literal() {
    let body = |text: &str, decls: &str| to_expr_string(&checked(text, decls).unwrap().formula);
    assert_eq!(body("X^3", "X: 4x4"), "X*X*X");
    assert_eq!(body("X^-2", ""), "inv(X)*inv(X)");
    assert_eq!(body("a^2 + tr(X^2)", ""), "a^2 + tr(X*X)");
    // The default shape becomes square.
    assert_eq!(
        ok("tr(X^2)", "").vars["X"],
        Shape::matrix(Dim::Named("n".into()), Dim::Named("n".into()))
    );
    for (text, decls, why) in [
        ("X^2", "X: 3x4", "needs a square matrix"),
        ("x^2", "x: n", "needs a square matrix"),
        ("X^k", "X: 3x3", "integer literal"),
        ("X^0.5", "X: 3x3", "integer literal"),
        ("X^0", "X: 3x3", "identity"),
        ("X^99", "X: 3x3", "up to X^32"),
    ] {
        let err = checked(text, decls).unwrap_err();
        assert!(err.to_string().contains(why), "{text}: {err}");
    }
}

/// A bare gradient after the one call of its function has the shape of
/// that call's argument: `L(t)/dL` divides by a scalar.
#[test]
fn a_bare_gradient_has_the_shape_of_the_one_call() {
    let typed = ok("s + L(t)/dL", "s: scalar, t: scalar, L: function");
    assert_eq!(typed.gradients["L"], Shape::scalar());
}
