//! Snapshots of derivations as people read them (`derivation_text`) and as
//! programs read them (`derivation_expr`): the affine layer of a neural
//! network and the Matrix Cookbook identities (Petersen & Pedersen, Nov 2012
//! edition) of the corpus, by equation number. Before a snapshot is
//! compared, every derivative is read back from its printed text and
//! confirmed against finite differences, so a snapshot never holds an
//! unconfirmed formula. Snapshots live in the top-level `snapshots/` folder.

use std::collections::BTreeMap;

use matcalc::confirm::problem;
use matcalc::derive::{derive, Derivation, DeriveConfig};
use matcalc::numeric::{check, Case, CheckConfig, Domain};
use matcalc::render::{derivation_expr, derivation_text};
use matcalc::syntax::{parse_formula, to_expr_string, Decls};

fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings
}

/// Derives `text` and confirms every derivative, as printed and read back,
/// against finite differences.
fn confirmed(
    text: &str,
    decls: &Decls,
    wrt: &[String],
    order: u8,
    domains: &BTreeMap<String, Domain>,
) -> Derivation {
    let config = DeriveConfig {
        decls: decls.clone(),
        wrt: wrt.to_vec(),
        order,
        assumptions: matcalc::simplify::Assumptions::from_domains(domains),
    };
    let d = derive(text, &config).unwrap_or_else(|e| panic!("`{text}` does not derive: {e}"));
    // Each result is read back from its printed text, as a grader reads it,
    // and that text is what finite differences confirm.
    for x in &d.derivatives {
        let printed = to_expr_string(x.formula());
        let claim = parse_formula(&printed, decls)
            .unwrap_or_else(|e| panic!("`{text}` → `{printed}` does not parse: {e}"));
        let report = check(
            &problem(&d.typed, &x.wrt, domains),
            &claim,
            &CheckConfig::default(),
        )
        .unwrap_or_else(|e| panic!("`{text}` cannot be checked: {e}"));
        assert!(
            report.ok(),
            "`{text}` → `{printed}` is refuted: {}",
            report.note().unwrap_or_default()
        );
    }
    d
}

/// The snapshot body: what was asked, the text rendering and the
/// input-syntax rendering.
fn rendered(heading: &str, text: &str, d: &Derivation) -> String {
    format!(
        "{heading}\nexpr: {text}\n\n{}\n\nexpr form:\n{}\n",
        derivation_text(d, false),
        derivation_expr(d)
    )
}

fn decls(text: &str) -> Decls {
    let mut d = Decls::new();
    if !text.is_empty() {
        d.extend_from_str(text)
            .unwrap_or_else(|e| panic!("declarations `{text}`: {e}"));
    }
    d
}

fn affine(name: &str, text: &str, decls_text: &str, wrt: &str) {
    let d = confirmed(
        text,
        &decls(decls_text),
        &[wrt.to_string()],
        1,
        &BTreeMap::new(),
    );
    let heading = if decls_text.is_empty() {
        format!("affine layer, ∂/∂{wrt}")
    } else {
        format!("affine layer, ∂/∂{wrt}, --let '{decls_text}'")
    };
    settings().bind(|| insta::assert_snapshot!(name, rendered(&heading, text, &d)));
}

#[test]
fn affine_layer_dx() {
    affine("affine-dx", "L(X*W + B)", "", "X");
}

#[test]
fn affine_layer_dw() {
    affine("affine-dw", "L(X*W + B)", "", "W");
}

#[test]
fn affine_layer_db() {
    affine("affine-db", "L(X*W + B)", "", "B");
}

#[test]
fn affine_layer_broadcast_bias() {
    affine("affine-bias-db", "L(X*W + b')", "b: m", "b");
}

const CORPUS: &str = include_str!("corpus/cases.jsonl");

/// The corpus case `id` and its `source` field.
fn corpus_case(id: &str) -> (Case, String) {
    for line in CORPUS.lines().filter(|l| !l.trim().is_empty()) {
        let value: serde_json::Value = serde_json::from_str(line).expect("corpus line is JSON");
        if value["id"] == id {
            let source = value["source"].as_str().unwrap_or_default().to_string();
            let case = serde_json::from_value(value).expect("corpus line is a case");
            return (case, source);
        }
    }
    panic!("no corpus case `{id}`")
}

/// Derives the corpus case `id`, which the corpus attributes to Matrix
/// Cookbook equation `equation`, and snapshots it.
fn cookbook(equation: &str, id: &str) {
    let (case, source) = corpus_case(id);
    assert!(
        source.contains("Matrix Cookbook") && source.contains(&format!("({equation}")),
        "corpus case `{id}` cites `{source}`, not Cookbook ({equation})"
    );
    let domains = case
        .problem()
        .expect("corpus cases pose valid problems")
        .domains;
    let mut wrt = case.wrt_names();
    wrt.dedup();
    let d = confirmed(&case.expr, &case.decls(), &wrt, case.order as u8, &domains);
    let heading = format!("Matrix Cookbook (Nov 2012) eq. ({equation}), corpus case {id}");
    settings().bind(|| {
        insta::assert_snapshot!(
            format!("cookbook-{}-{id}", equation.replace(", ", "-")),
            rendered(&heading, &case.expr, &d)
        )
    });
}

/// (69) ∂a'x/∂x = a.
#[test]
fn cookbook_69_linear_form() {
    cookbook("69", "lin-atx");
}

/// (71) ∂a'X'b/∂X = b a'.
#[test]
fn cookbook_71_bilinear_form_transposed() {
    cookbook("71", "lin-atxtb");
}

/// (74) ∂(XA)ij/∂Xkl = δik Alj: a fourth-order tensor, in index form.
#[test]
fn cookbook_74_jacobian_of_xa() {
    cookbook("74", "ho-jac-xa");
}

/// (79) ∂(X'BX)/∂X: a fourth-order tensor, in index form.
#[test]
fn cookbook_79_jacobian_of_xtbx() {
    cookbook("79", "ho-jac-xtbx");
}

/// (82) ∂b'X'DXc/∂X = D'Xbc' + DXcb'.
#[test]
fn cookbook_82_quadratic_form() {
    cookbook("82", "quad-btxtdxc");
}

/// (83) ∂(Xb + c)'D(Xb + c)/∂X = (D + D')(Xb + c)b'.
#[test]
fn cookbook_83_affine_quadratic_form() {
    cookbook("83", "quad-xbc");
}

/// (84) ∂(x - As)'W(x - As)/∂s = -2A'W(x - As) for symmetric W.
#[test]
fn cookbook_84_weighted_least_squares() {
    cookbook("84", "quad-w-as-s");
}

/// (101) ∂tr(AXB)/∂X = A'B'.
#[test]
fn cookbook_101_trace_of_axb() {
    cookbook("101", "tr-axb");
}

/// (106) ∂tr(X²)/∂X = 2X'.
#[test]
fn cookbook_106_trace_of_square() {
    cookbook("106", "tr-x2");
}

/// (107) ∂tr(X²B)/∂X = (XB + BX)'.
#[test]
fn cookbook_107_trace_of_square_times_b() {
    cookbook("107", "tr-x2b");
}

/// (114) ∂tr(AXBX)/∂X = A'X'B' + B'X'A'.
#[test]
fn cookbook_114_trace_of_axbx() {
    cookbook("114", "tr-axbx");
}

/// (122) ∂tr(AX³)/∂X, the k = 3 case of the power rule.
#[test]
fn cookbook_122_trace_of_cube() {
    cookbook("122", "tr-ax3");
}

/// (126) ∂tr((X'CX)⁻¹(X'BX))/∂X.
#[test]
fn cookbook_126_trace_of_ratio() {
    cookbook("126", "tr-cookbook-126");
}

/// (51) ∂det(AXB)/∂X = det(AXB) X⁻ᵀ.
#[test]
fn cookbook_51_determinant_of_axb() {
    cookbook("51", "det-axb");
}

/// (52) ∂det(X'AX)/∂X = 2 det(X'AX) X⁻ᵀ for square X.
#[test]
fn cookbook_52_determinant_of_xtax_square() {
    cookbook("52", "det-xtax-square");
}

/// (54) ∂det(X'AX)/∂X for a non-square X.
#[test]
fn cookbook_54_determinant_of_xtax() {
    cookbook("54", "det-xtax");
}

/// (57) ∂log det X/∂X = X⁻ᵀ.
#[test]
fn cookbook_57_log_determinant() {
    cookbook("57", "det-logdet");
}

/// (61) ∂a'X⁻¹b/∂X = -X⁻ᵀab'X⁻ᵀ, as a Mahalanobis distance.
#[test]
fn cookbook_61_inverse_bilinear_form() {
    cookbook("61", "inv-mahal-s");
}

/// (63) ∂tr(AX⁻¹B)/∂X = -(X⁻¹BAX⁻¹)'.
#[test]
fn cookbook_63_trace_with_inverse() {
    cookbook("63", "inv-tr-axb");
}

/// (49, 60) The Hessian of det X: a fourth-order tensor, in index form.
#[test]
fn cookbook_49_60_hessian_of_determinant() {
    cookbook("49, 60", "ho-det-hessian");
}

/// (129) ∂‖x - a‖₂/∂x = (x - a)/‖x - a‖₂.
#[test]
fn cookbook_129_euclidean_norm() {
    cookbook("129", "norm-l2");
}

/// (130) the Jacobian of (x - a)/‖x - a‖₂.
#[test]
fn cookbook_130_normalized_vector() {
    cookbook("130", "jac-normalize");
}

/// (132) ∂‖X‖²_F/∂X = 2X.
#[test]
fn cookbook_132_frobenius_norm() {
    cookbook("132", "norm-fro-sq");
}
