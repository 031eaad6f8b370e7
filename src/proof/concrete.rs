//! The proof for concrete sizes, the way a reader works it out on paper:
//! every matrix written entry by entry (`x₁₁ … w₂₃`), the expression
//! expanded with `exact`, the derivative of every entry by the first entry
//! of the variable, the chain rule for that entry as a sum, the whole
//! gradient, the matrix-form result expanded to the same entries, and the
//! exact verdict. Invariant: every entry shown is computed by the `exact`
//! layer, never typed in; uses `syntax`, `shape`, `exact` and `derive`.

use std::collections::BTreeMap;

use super::{Proof, ProofError, ProofStep};
use crate::derive::Derivation;
use crate::exact::{smallest_sizes, Budget, Scalar, Session, Tensor};
use crate::numeric::Problem;
use crate::shape::Dim;
use crate::syntax::{to_unicode, Expr, ExprKind, Formula};

/// The concrete proof of derivative `k` of `d` for the variable dims in
/// `sizes` (`X → [2,2]`); symbols not fixed by them get the smallest sizes
/// that fit.
///
/// ```
/// use std::collections::BTreeMap;
/// use matcalc::{derive, DeriveConfig};
/// let config = DeriveConfig { wrt: vec!["X".into()], order: 1, ..Default::default() };
/// let d = derive("L(X*W + B)", &config).unwrap();
/// let sizes = BTreeMap::from([("X".to_string(), vec![2, 2]), ("W".to_string(), vec![2, 3])]);
/// let proof = matcalc::proof::concrete(&d, 0, &sizes).unwrap();
/// assert!(proof.steps.last().unwrap().text.contains("verified exactly"));
/// ```
pub fn concrete(
    d: &Derivation,
    k: usize,
    sizes: &BTreeMap<String, Vec<usize>>,
) -> Result<Proof, ProofError> {
    let derivative = d.derivatives.get(k).ok_or(ProofError::NoDerivative(k))?;
    let problem = concrete_problem(d, &derivative.wrt, sizes)?;
    let limit = |why: String| ProofError::ConcreteLimit {
        sizes: describe_sizes(&problem),
        why,
    };
    let entries: usize = problem
        .vars
        .values()
        .map(|dims| dims.iter().try_fold(1usize, |n, &m| n.checked_mul(m)))
        .try_fold(0usize, |total, n| n.and_then(|n| total.checked_add(n)))
        .unwrap_or(usize::MAX);
    if entries > MAX_CONCRETE_ENTRIES {
        return Err(limit(format!(
            "its variables have {entries} entries, more than the {MAX_CONCRETE_ENTRIES} a \
             concrete proof writes out"
        )));
    }
    written(d, derivative, &problem).map_err(|e| match e {
        ProofError::Exact(e) if e.is_budget() => limit(e.to_string()),
        other => other,
    })
}

/// The most entries, over all variables, a concrete proof writes out: a
/// proof is read by a person, and the exact expansion of every entry grows
/// faster than the entry count.
pub const MAX_CONCRETE_ENTRIES: usize = 4_096;

/// `X: 40×40, W: 40×40, s: scalar`, in the problem's order.
fn describe_sizes(problem: &Problem) -> String {
    problem
        .vars
        .iter()
        .map(|(name, dims)| match dims.as_slice() {
            [] => format!("{name}: scalar"),
            [n] => format!("{name}: {n}"),
            _ => {
                let dims: Vec<String> = dims.iter().map(usize::to_string).collect();
                format!("{name}: {}", dims.join("×"))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The steps of the concrete proof of `derivative` for `problem`.
fn written(
    d: &Derivation,
    derivative: &crate::derive::Derivative,
    problem: &Problem,
) -> Result<Proof, ProofError> {
    let session = Session::new(problem, Budget::default())?;
    let cx = session.context();
    let body = &d.typed.formula.body;
    let mut steps = Vec::new();
    for name in appearance(body) {
        let var = Expr::var(&name);
        steps.push(step(
            "entries",
            format!("{name} = {}", matrix(&session.expand(&var)?)),
            &var,
        ));
    }
    let call = loss_call(body);
    let inner = call.map_or(body, |(_, arg)| arg);
    let inner_entries = session.expand(inner)?;
    steps.push(step(
        "expand",
        format!("Y = {} = {}", show(inner), matrix(&inner_entries)),
        inner,
    ));
    if let Some((name, _)) = call {
        let gradient = Expr::new(ExprKind::Grad(name.to_string(), Vec::new()));
        steps.push(step(
            "given-gradient",
            format!(
                "The gradient of {name} at Y is given entry by entry: d{name} = {}",
                matrix(&session.expand(&gradient)?)
            ),
            &gradient,
        ));
    }
    let wrt = &derivative.wrt[0];
    let first = vec![0; problem.vars[wrt].len()];
    let z = cx.entry(wrt, &first);
    let z_name = Scalar::atom(z.clone()).to_string();
    let by_z: Vec<Scalar> = inner_entries
        .data()
        .iter()
        .map(|s| cx.derivative(s, &z))
        .collect::<Result<_, _>>()?;
    let by_z = Tensor::new(inner_entries.shape().to_vec(), by_z).ok_or(ProofError::Shape)?;
    steps.push(step(
        "entry-derivative",
        format!("∂Y/∂{z_name} = {}", matrix(&by_z)),
        inner,
    ));
    let whole = session.expand(body)?;
    if let (Some(_), [f]) = (call, whole.data()) {
        steps.push(step(
            "chain-rule",
            format!(
                "∂f/∂{z_name} = Σ (∂f/∂y)·(∂y/∂{z_name}) over the entries y of Y = {}",
                cx.derivative(f, &z)?
            ),
            body,
        ));
    }
    let reference = session.reference()?;
    steps.push(step(
        "entry-by-entry",
        format!(
            "Repeating this for every entry: ∂f/∂{wrt} = {}",
            matrix(reference)
        ),
        body,
    ));
    let result = derivative.formula();
    let layout = reference.shape().to_vec();
    let claimed = session.expand_formula(result, Some(&layout))?;
    steps.push(ProofStep {
        rule: "factorise",
        text: format!(
            "The matrix-form result {} has these entries: {}",
            to_unicode(result),
            matrix(&claimed)
        ),
        formula: result.clone(),
        equals_previous: false,
    });
    let verdict = session.verify(result)?;
    steps.push(ProofStep {
        rule: "exact-check",
        text: format!("Compared entry by entry: {}.", verdict.sentence()),
        formula: result.clone(),
        equals_previous: false,
    });
    Ok(Proof { steps })
}

fn step(rule: &'static str, text: String, expr: &Expr) -> ProofStep {
    ProofStep {
        rule,
        text,
        formula: Formula {
            lhs: None,
            body: expr.clone(),
        },
        equals_previous: false,
    }
}

fn show(expr: &Expr) -> String {
    to_unicode(&Formula {
        lhs: None,
        body: expr.clone(),
    })
}

/// `[[a, b], [c, d]]`; a vector as one bracket, a scalar bare.
fn matrix(t: &Tensor<Scalar>) -> String {
    let cols = match t.shape() {
        [_, c] => *c,
        _ => 1,
    };
    let rows: Vec<String> = t
        .data()
        .chunks(cols.max(1))
        .map(|row| {
            let cells: Vec<String> = row.iter().map(Scalar::to_string).collect();
            format!("[{}]", cells.join(", "))
        })
        .collect();
    match (t.data().len(), cols) {
        (1, _) => t.data()[0].to_string(),
        (_, 1) => format!(
            "[{}]",
            t.data()
                .iter()
                .map(Scalar::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => format!("[{}]", rows.join(", ")),
    }
}

/// The first call of an abstract function with one argument: its name and
/// argument.
fn loss_call(e: &Expr) -> Option<(&str, &Expr)> {
    if let ExprKind::Apply(name, args) = &e.kind {
        if let [arg] = args.as_slice() {
            return Some((name, arg));
        }
    }
    e.children().into_iter().find_map(loss_call)
}

/// The variables of `e` in order of first appearance.
fn appearance(e: &Expr) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut stack = vec![e];
    while let Some(e) = stack.pop() {
        if let ExprKind::Var(name) = &e.kind {
            if !out.contains(name) {
                out.push(name.clone());
            }
        }
        stack.extend(e.children().into_iter().rev());
    }
    out
}

/// The variables' layout dims: those given, and the smallest sizes that
/// fit for the symbols they leave open.
fn concrete_problem(
    d: &Derivation,
    wrt: &[String],
    given: &BTreeMap<String, Vec<usize>>,
) -> Result<Problem, ProofError> {
    let mut bound: BTreeMap<String, usize> = BTreeMap::new();
    for (name, dims) in given {
        let shape = d
            .typed
            .vars
            .get(name)
            .ok_or_else(|| ProofError::Sizes(format!("`{name}` is not a variable")))?;
        let declared = layout_dims(&shape.rows, &shape.cols);
        if declared.len() != dims.len() {
            return Err(ProofError::Sizes(format!(
                "`{name}` has {} dims, not {}",
                declared.len(),
                dims.len()
            )));
        }
        for (dim, &n) in declared.iter().zip(dims) {
            match dim {
                Dim::Fixed(m) if *m != n => {
                    return Err(ProofError::Sizes(format!(
                        "`{name}` is fixed at {m}, not {n}"
                    )))
                }
                Dim::Named(s) => {
                    if let Some(m) = bound.insert(s.clone(), n).filter(|&m| m != n) {
                        return Err(ProofError::Sizes(format!(
                            "`{s}` cannot be both {m} and {n}"
                        )));
                    }
                }
                Dim::Fixed(_) => {}
            }
        }
    }
    let open: Vec<Dim> = d
        .typed
        .vars
        .values()
        .flat_map(|s| [s.rows.clone(), s.cols.clone()])
        .filter(|dim| !matches!(dim, Dim::Named(s) if bound.contains_key(s)))
        .chain(bound.values().map(|&n| Dim::Fixed(n)))
        .collect();
    bound.extend(smallest_sizes(&open));
    let size = |dim: &Dim| match dim {
        Dim::Fixed(n) => *n,
        Dim::Named(s) => bound[s],
    };
    let vars = d
        .typed
        .vars
        .iter()
        .map(|(name, s)| {
            let dims = layout_dims(&s.rows, &s.cols).iter().map(size).collect();
            (name.clone(), dims)
        })
        .collect();
    Ok(Problem {
        expr: d.typed.formula.body.clone(),
        vars,
        wrt: wrt.to_vec(),
        domains: BTreeMap::new(),
        sizes: bound,
    })
}

/// `[]` for a scalar, `[n]` for a column, else both dims.
fn layout_dims(rows: &Dim, cols: &Dim) -> Vec<Dim> {
    match (rows, cols) {
        (Dim::Fixed(1), Dim::Fixed(1)) => Vec::new(),
        (r, Dim::Fixed(1)) => vec![r.clone()],
        (r, c) => vec![r.clone(), c.clone()],
    }
}
