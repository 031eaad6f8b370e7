//! The parse-back invariant of `derive`: every result, printed in the input
//! syntax (`--format expr`), parses back, shape-checks under the
//! declarations it was derived under, has the shape its layout requires and
//! evaluates to the value of the result it was printed from.
//!
//! The shape check is the one a reader of the text can do: it knows the
//! declarations and the shape of the argument of each abstract function
//! (from the expression), not the required shape of the result, so a
//! `vector(c)` must be sized by its position in the text alone.

use std::collections::BTreeMap;

use matcalc::derive::Derivation;
use matcalc::numeric::{
    evaluate, evaluate_expr, layout_dims, relative_error, Domain, Loss, Problem, Value,
};
use matcalc::shape::{self, Dim, ResultShape, ShapeContext};
use matcalc::syntax::{parse_formula, to_expr_string, DeclKind, Decls, Expr, ExprKind, Formula};
use ndarray::ArrayD;

/// Largest relative difference between a result and its reprint: the two
/// differ only by the rounding of printed numbers.
const REPRINT_TOLERANCE: f64 = 1e-9;

/// Seeds tried for a sample where the result is finite.
const SEEDS: std::ops::RangeInclusive<u64> = 1..=4;

/// Checks the invariant for every derivative of `d`, derived under `decls`;
/// the error says which part failed and shows the text.
pub fn parses_back(d: &Derivation, decls: &Decls) -> Result<(), String> {
    for derivative in &d.derivatives {
        let claim = derivative.formula();
        let text = to_expr_string(claim);
        let fail = |why: String| format!("the printed result `{text}` {why}");
        let reparsed =
            parse_formula(&text, decls).map_err(|e| fail(format!("does not parse: {e}")))?;
        let ctx = ShapeContext {
            decls,
            source: &text,
            gradient_shapes: d.typed.gradients.clone(),
            expected: None,
        };
        let typed = shape::check(&reparsed, &ctx)
            .map_err(|e| fail(format!("does not shape-check: {}", e.diagnostic().message)))?;
        let problem = matcalc::confirm::problem(&d.typed, &derivative.wrt, &BTreeMap::new());
        let (original, reprint) = match values(&problem, claim, &reparsed) {
            Ok(Some(pair)) => pair,
            Ok(None) => continue,
            Err(e) => return Err(fail(e)),
        };
        if !fits(&typed.result, original.shape(), decls, &problem.sizes) {
            return Err(fail(format!(
                "shape-checks as {:?}, but the result is {:?}",
                typed.result,
                original.shape()
            )));
        }
        if reprint.shape() != original.shape() {
            return Err(fail(format!(
                "evaluates to dims {:?} instead of {:?}",
                reprint.shape(),
                original.shape()
            )));
        }
        let difference = relative_error(&reprint, &original);
        if difference.is_nan() || difference > REPRINT_TOLERANCE {
            return Err(fail(format!(
                "evaluates to another value (relative difference {difference:.1e})"
            )));
        }
    }
    Ok(())
}

/// Whether a shape-checked result of `result` can have the dims `want`:
/// a concrete size must be it, a declared symbol must have it (as the
/// problem sizes it), and a symbol the reader made up for a size that only
/// the layout fixes (`J[i,j] = delta(i,j)`) must stand for one size.
fn fits(
    result: &ResultShape,
    want: &[usize],
    decls: &Decls,
    sizes: &BTreeMap<String, usize>,
) -> bool {
    let dims: Vec<&Dim> = match result {
        ResultShape::Matrix(s) => vec![&s.rows, &s.cols],
        ResultShape::Tensor(dims) => dims.iter().collect(),
    };
    let declared: Vec<String> = decls
        .iter()
        .flat_map(|d| match &d.kind {
            DeclKind::Value(dims) => dims.clone(),
            _ => Vec::new(),
        })
        .filter_map(|d| match d {
            Dim::Named(n) => Some(n),
            Dim::Fixed(_) => None,
        })
        .collect();
    let mut free: BTreeMap<&str, usize> = BTreeMap::new();
    dims.len() == want.len()
        && dims.iter().zip(want).all(|(d, &w)| match d {
            Dim::Fixed(n) => *n == w,
            Dim::Named(name) if declared.contains(name) => sizes.get(name) == Some(&w),
            Dim::Named(name) => *free.entry(name).or_insert(w) == w,
        })
}

/// The original result's and the reprint's values at the first sample
/// (seeds [`SEEDS`], every instantiation of an abstract function) where the
/// original is finite; `None` when there is none, `Err` when the reprint
/// cannot be evaluated there.
#[allow(clippy::type_complexity)]
fn values(
    p: &Problem,
    claim: &Formula,
    reparsed: &Formula,
) -> Result<Option<(ArrayD<f64>, ArrayD<f64>)>, String> {
    let p = Problem {
        domains: p
            .vars
            .iter()
            .map(|(name, dims)| {
                let square = matches!(dims[..], [r, c] if r == c);
                let domain = if square {
                    Domain::Posdet
                } else {
                    Domain::Nonzero
                };
                (name.clone(), domain)
            })
            .collect(),
        ..p.clone()
    };
    let losses: Vec<Option<Loss>> = if is_abstract(&p.expr) {
        Loss::ALL.into_iter().map(Some).collect()
    } else {
        vec![None]
    };
    for seed in SEEDS {
        for &loss in &losses {
            let Ok(bindings) = p.sample(seed, 0, loss) else {
                continue;
            };
            let Ok(f) = evaluate_expr(&p.expr, &bindings) else {
                continue;
            };
            let layout: Vec<usize> = layout_dims(&f)
                .into_iter()
                .chain(p.wrt.iter().flat_map(|w| p.vars[w].clone()))
                .collect();
            let original = match evaluate(claim, &bindings, Some(&layout)) {
                Ok(e) => flat(&e.value),
                Err(_) => continue,
            };
            if !original.iter().all(|v| v.is_finite()) {
                continue;
            }
            let reprint = evaluate(reparsed, &bindings, Some(&layout))
                .map_err(|e| format!("cannot be evaluated: {e}"))?;
            return Ok(Some((original, flat(&reprint.value))));
        }
    }
    Ok(None)
}

/// True when `e` calls or differentiates an abstract function.
fn is_abstract(e: &Expr) -> bool {
    matches!(e.kind, ExprKind::Apply(..) | ExprKind::Grad(..))
        || e.children().into_iter().any(is_abstract)
}

fn flat(v: &Value) -> ArrayD<f64> {
    match v {
        Value::Matrix(m) => m.clone().into_dyn(),
        Value::Tensor(t) => t.clone(),
    }
}
