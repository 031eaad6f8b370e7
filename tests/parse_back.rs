//! Regressions of issue 10, item 5: results of `derive` printed in the input
//! syntax that did not read back. Each derives a result, checks that its
//! printout parses back, shape-checks under the same declarations, has the
//! required shape and evaluates to the same value (`support::parse_back`),
//! and confirms it numerically against finite differences.

mod support;

use std::collections::BTreeMap;

use matcalc::confirm::confirm;
use matcalc::derive::{derive, DeriveConfig};
use matcalc::numeric::CheckConfig;
use matcalc::shape::{self, Shape, ShapeContext};
use matcalc::syntax::{parse_formula, to_expr_string, Decls};
use support::parse_back::parses_back;

/// Derives `text` by `wrt` (at `order`) under `decls`, asserts the
/// invariant and the numeric check, and gives the printed results.
fn reads_back(text: &str, decls: &str, wrt: &[&str], order: u8) -> Vec<String> {
    let mut declarations = Decls::new();
    declarations.extend_from_str(decls).expect("declarations");
    let config = DeriveConfig {
        decls: declarations.clone(),
        wrt: wrt.iter().map(|w| w.to_string()).collect(),
        order,
        ..Default::default()
    };
    let d = derive(text, &config).unwrap_or_else(|e| panic!("`{text}` derives: {e}"));
    let printed: Vec<String> = d
        .derivatives
        .iter()
        .map(|x| to_expr_string(x.formula()))
        .collect();
    if let Err(why) = parses_back(&d, &declarations) {
        panic!("derivative of `{text}`: {why}");
    }
    let reports = confirm(&d, &BTreeMap::new(), &CheckConfig::default())
        .unwrap_or_else(|e| panic!("`{printed:?}` cannot be checked: {e}"));
    for (report, shown) in reports.iter().zip(&printed) {
        assert!(report.ok(), "`{shown}` refuted: {:?}", report.note());
    }
    printed
}

#[test]
fn a_fill_that_no_position_sizes_is_written_with_its_size() {
    // Was `sum(diag(vector(0.5)'))`-like: a fill under diag, inside sum or
    // in an outer product has no size a reader can infer.
    for (text, decls, wrt) in [
        ("sum(diag(vector(0.5)'*X))", "X: 3x4", "X"),
        ("vector(1)'*X*y", "X: 3x4, y: 4", "X"),
        ("sum(X*vector(0.5))", "X: 3x4", "X"),
    ] {
        let printed = reads_back(text, decls, &[wrt], 1);
        assert!(
            printed.iter().all(|p| !p.contains("vector(")),
            "`{text}` gave {printed:?}"
        );
    }
}

#[test]
fn a_fill_beside_a_broadcast_row_is_written_with_its_size() {
    // `matrix(1) ./ b'` reads as a 1×2 row, not the 3×2 the graph holds.
    reads_back("sum(ones(3,2) ./ b')", "b: 2", &["b"], 1);
    reads_back("ones(3,2) ./ a2' .* abs(E1)", "E1: 3x2, a2: 2", &["a2"], 1);
}

#[test]
fn a_misread_fill_no_longer_changes_the_value() {
    // Was `-((matrix(1) ./ v1'.^2 .* …)'*vector(1))`: read back with a 1×5
    // row for the 3×5 fill, it is 79% off.
    reads_back("tanh(norm1(ones(3,5) ./ v1'))", "v1: 5", &["v1"], 1);
    // Was `matrix(1) ./ a2'`, read back as a 1×2 row instead of 2×2; the
    // row spread over the rows is now written as a product with its size.
    assert_eq!(
        reads_back("ones(2,2) ./ a2'*t", "a2: 2, t: scalar", &["t"], 1),
        ["ones(2)*(1 ./ a2')"]
    );
    // Was `-(dL*vector(1))` with a scalar dL: a scaled fill that is the
    // whole result has no size a reader can infer.
    assert_eq!(
        reads_back("-L(sum(b2))", "b2: 3", &["b2"], 1),
        ["-(dL*ones(3))"]
    );
    // Was `L(matrix(1) .* b1')`: misread as a row, the call of L no longer
    // matched the one in the expression, and the bare dL was ambiguous.
    reads_back("cos(L(ones(3,3) .* b1'))", "b1: 3", &["b1"], 1);
}

#[test]
fn only_the_misread_fill_is_written_with_its_size() {
    // The column sums of the broadcast quotient are counted (3 rows), so
    // no fill is left to size; a fill that stays keeps `vector(1)`.
    let printed = reads_back("sum(ones(3,2) ./ b')", "b: 2", &["b"], 1);
    assert_eq!(printed, ["-(3 ./ b.^2)"]);
    let printed = reads_back("sum(ones(3,2) ./ b' .* E)", "b: 2, E: 3x2", &["b"], 1);
    assert!(!printed[0].contains("matrix(1)"), "{printed:?}");
}

#[test]
fn a_matrix_fill_in_a_product_is_written_with_its_size() {
    // Was `R'*matrix(1)*c1`: the language sizes no matrix(c) by a product.
    let printed = reads_back("(ones(5,4)*c1)'*(R*c)", "R: 5x4, c: 4, c1: 4", &["c"], 1);
    assert_eq!(printed, ["R'*ones(5,4)*c1"]);
    reads_back("A*ones(2,5)*(u*Q)", "A: 2x2, Q: 5x3, u: scalar", &["u"], 1);
}

#[test]
fn fills_inside_an_index_form_are_sized_too() {
    // Was `H[i,j,k,l] = (vector(1)*vector(1)')[k,j]*delta(i,l)`.
    reads_back("sum(R2*N2)", "N2: 4x5, R2: 5x4", &["N2", "R2"], 2);
    reads_back("B1 ./ matrix(2)", "B1: 2x3", &["B1"], 1);
}

#[test]
fn a_bare_gradient_reads_with_the_shape_of_its_argument() {
    // Was refused on reading: `diag(dL')` with dL a 1×2 row was taken for a
    // square matrix, `dL*…*v` with a scalar dL for a matrix.
    reads_back("L(diag(A1)')", "A1: 2x2", &["A1"], 1);
    reads_back("sin(L(v'*v))", "v: 5", &["v"], 1);
}

#[test]
fn an_index_form_constant_along_an_index_reads_back() {
    // `J[i,j,k,l] = 0` was refused: "index `i` of the left-hand side is not
    // used".
    assert_eq!(
        reads_back("sign(E)", "E: 3x2", &["E"], 1),
        ["J[i,j,k,l] = 0"]
    );
    reads_back(
        "sum(G1)/(c1'*c2)",
        "G1: 3x4, c1: 4, c2: 4",
        &["c1", "G1"],
        2,
    );
}

#[test]
fn each_dummy_index_has_one_range() {
    // Both terms summed over `p`, once over 3 (the rows of A) and once over
    // 4 (the columns of B).
    let printed = reads_back(
        "sum(exp(A*X)) + sum(exp(X*B))",
        "A: 3x2, X: 2x2, B: 2x4",
        &["X"],
        2,
    );
    assert!(
        printed[0].contains("sum[p]") && printed[0].contains("sum[q]"),
        "{printed:?}"
    );
}

#[test]
fn the_shape_checker_reads_a_known_bare_gradient_as_given() {
    let decls = Decls::new();
    let text = "diag(dL')";
    let formula = parse_formula(text, &decls).expect("parses");
    let row = Shape::matrix(shape::Dim::Fixed(1), shape::Dim::Fixed(2));
    let ctx = ShapeContext {
        decls: &decls,
        source: text,
        gradient_shapes: BTreeMap::from([("L".to_string(), row)]),
        expected: None,
    };
    let typed = shape::check(&formula, &ctx).expect("shape-checks");
    assert_eq!(
        typed.result,
        shape::ResultShape::Matrix(Shape::matrix(shape::Dim::Fixed(2), shape::Dim::Fixed(2)))
    );
}
