//! The proof for concrete sizes, the way a reader works it out on paper:
//! every matrix written entry by entry (`x₁₁ … w₂₃`), the expression
//! expanded with `exact`, the derivative of every entry by the first entry
//! of the variable, the chain rule for that entry as a sum, the whole
//! gradient, the matrix-form result expanded to the same entries, and the
//! exact verdict. Matrices are written as `pmatrix` in LaTeX. Invariant:
//! every entry shown is computed by the `exact` layer, never typed in; uses
//! `syntax`, `shape`, `numeric` and `exact`.

use std::collections::{BTreeMap, BTreeSet};

use super::{Checked, Math, Notation, Proof, ProofError, ProofStep, Record, Say};
use crate::exact::{smallest_sizes, Budget, ExactVerdict, Scalar, Session, Tensor};
use crate::numeric::Problem;
use crate::shape::{Dim, Typed};
use crate::syntax::{to_latex, to_unicode, Expr, ExprKind, Formula};

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
/// let proof = matcalc::proof::concrete(&d.record(0).unwrap(), &sizes).unwrap();
/// let last = proof.steps.last().unwrap();
/// assert_eq!(last.say, matcalc::proof::Say::Verdict { agrees: true });
/// ```
pub fn concrete(
    record: &Record<'_>,
    sizes: &BTreeMap<String, Vec<usize>>,
) -> Result<Proof, ProofError> {
    let problem = concrete_problem(record.typed, record.wrt, sizes)?;
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
    written(record, &problem).map_err(|e| match e {
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

/// The steps of the concrete proof of the recorded derivative for
/// `problem`.
fn written(record: &Record<'_>, problem: &Problem) -> Result<Proof, ProofError> {
    let session = Session::new(problem, Budget::default())?;
    let cx = session.context();
    let body = &record.typed.formula.body;
    let mut steps: Vec<ProofStep> = Vec::new();
    for name in appearance(body) {
        let var = Expr::var(&name);
        let binding = equation(&[word(&name), matrix(&session.expand(&var)?)]);
        steps.push(step("entries", Say::Entries { binding }, &var));
    }
    let call = loss_call(body);
    let inner = call.map_or(body, |(_, arg)| arg);
    let inner_entries = session.expand(inner)?;
    let binding = equation(&[word("Y"), show(inner), matrix(&inner_entries)]);
    steps.push(step("expand", Say::Expanded { binding }, inner));
    let f = call.map_or("f", |(name, _)| name);
    let mut notation = Notation::new(Vec::new());
    if call.is_some() {
        notation.given(f, "Y");
    }
    let by_y = Math {
        unicode: format!("∂{f}/∂Y"),
        latex: format!("\\frac{{\\partial {f}}}{{\\partial Y}}"),
    };
    if let Some((name, _)) = call {
        let gradient = Expr::new(ExprKind::Grad(name.to_string(), Vec::new()));
        let binding = equation(&[by_y.clone(), matrix(&session.expand(&gradient)?)]);
        let say = Say::GivenEntries {
            f: name.to_string(),
            binding,
        };
        steps.push(step("given-gradient", say, &gradient));
    }
    let wrt = &record.wrt[0];
    let first = vec![0; problem.vars[wrt].len()];
    let z = cx.entry(wrt, &first);
    let z_name = scalar(&Scalar::atom(z.clone()));
    let by_z: Vec<Scalar> = inner_entries
        .data()
        .iter()
        .map(|s| cx.derivative(s, &z))
        .collect::<Result<_, _>>()?;
    let by_z = Tensor::new(inner_entries.shape().to_vec(), by_z).ok_or(ProofError::Shape)?;
    let partial = |top: &str, top_latex: &str| Math {
        unicode: format!("∂{top}/∂{}", z_name.unicode),
        latex: format!(
            "\\frac{{\\partial {top_latex}}}{{\\partial {}}}",
            z_name.latex
        ),
    };
    let equation_z = equation(&[partial("Y", "Y"), matrix(&by_z)]);
    steps.push(step(
        "entry-derivative",
        Say::EntryDerivative {
            equation: equation_z,
        },
        inner,
    ));
    let whole = session.expand(body)?;
    if let (Some(_), [value]) = (call, whole.data()) {
        let sum = Math {
            unicode: format!("Σ (∂{f}/∂y)·(∂y/∂{})", z_name.unicode),
            latex: format!(
                "\\sum_{{y \\in Y}} \\frac{{\\partial {f}}}{{\\partial y}} \\frac{{\\partial y}}{{\\partial {}}}",
                z_name.latex
            ),
        };
        let chain = equation(&[partial(f, f), sum, scalar(&cx.derivative(value, &z)?)]);
        steps.push(step(
            "chain-rule",
            Say::EntryChain { equation: chain },
            body,
        ));
    }
    let reference = session.reference()?;
    let whole_label = Math {
        unicode: format!("∂{f}/∂{wrt}"),
        latex: format!("\\frac{{\\partial {f}}}{{\\partial {wrt}}}"),
    };
    let every = equation(&[whole_label, matrix(reference)]);
    steps.push(step(
        "entry-by-entry",
        Say::EveryEntry { equation: every },
        body,
    ));
    let result = record.result;
    let layout = reference.shape().to_vec();
    let claimed = session.expand_formula(result, Some(&layout))?;
    let shown = notation.math(result);
    let factorised = equation(&[shown, matrix(&claimed)]);
    steps.push(step(
        "factorise",
        Say::Factorise {
            equation: factorised,
        },
        &result.body,
    ));
    let verdict = session.verify(result)?;
    let agrees = matches!(verdict, ExactVerdict::Equal);
    steps.push(step("exact-check", Say::Verdict { agrees }, &result.body));
    for step in &mut steps {
        step.shown = notation.math(&step.formula);
    }
    Ok(Proof { steps })
}

fn step(rule: &'static str, say: Say, expr: &Expr) -> ProofStep {
    let formula = Formula {
        lhs: None,
        body: expr.clone(),
    };
    ProofStep {
        rule,
        say,
        shown: Math {
            unicode: to_unicode(&formula),
            latex: to_latex(&formula),
        },
        formula,
        equals_previous: false,
        same_as: None,
        checked: Checked::Defines,
    }
}

/// A name, the same in both notations.
fn word(name: &str) -> Math {
    Math {
        unicode: name.to_string(),
        latex: name.to_string(),
    }
}

/// `a = b = c`.
fn equation(parts: &[Math]) -> Math {
    let join = |f: &dyn Fn(&Math) -> &str| parts.iter().map(f).collect::<Vec<_>>().join(" = ");
    Math {
        unicode: join(&|m| &m.unicode),
        latex: join(&|m| &m.latex),
    }
}

fn show(expr: &Expr) -> Math {
    let formula = Formula {
        lhs: None,
        body: expr.clone(),
    };
    Math {
        unicode: to_unicode(&formula),
        latex: to_latex(&formula),
    }
}

/// An exact entry in both notations.
fn scalar(s: &Scalar) -> Math {
    let unicode = s.to_string();
    Math {
        latex: unicode_to_latex(&unicode),
        unicode,
    }
}

/// The exact layer's Unicode for an entry (`x₁₁·w₁₂ − ∂L/∂y₁₁`) as LaTeX.
fn unicode_to_latex(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let script = |c: char| {
            "₀₁₂₃₄₅₆₇₈₉"
                .chars()
                .position(|d| d == c)
                .map(|n| (n, '_'))
                .or_else(|| "⁰¹²³⁴⁵⁶⁷⁸⁹".chars().position(|d| d == c).map(|n| (n, '^')))
        };
        if let Some((digit, mark)) = script(c) {
            let mut run = digit.to_string();
            while let Some((d, m)) = chars.peek().and_then(|&c| script(c)) {
                if m != mark {
                    break;
                }
                run.push_str(&d.to_string());
                chars.next();
            }
            out.push_str(&format!("{mark}{{{run}}}"));
            continue;
        }
        match c {
            '·' => out.push_str(" \\cdot "),
            '−' => out.push('-'),
            '∂' => out.push_str("\\partial "),
            '⁻' => out.push_str("^{-}"),
            _ => out.push(c),
        }
    }
    out
}

/// A matrix of exact entries: `[[a, b], [c, d]]` in Unicode, `pmatrix` in
/// LaTeX; a scalar bare.
fn matrix(t: &Tensor<Scalar>) -> Math {
    let cols = match t.shape() {
        [_, c] => *c,
        _ => 1,
    };
    let cells: Vec<Math> = t.data().iter().map(scalar).collect();
    if let [only] = cells.as_slice() {
        return only.clone();
    }
    let rows: Vec<&[Math]> = cells.chunks(cols.max(1)).collect();
    let unicode_row = |row: &[Math]| {
        let cells: Vec<&str> = row.iter().map(|m| m.unicode.as_str()).collect();
        cells.join(", ")
    };
    let unicode = if cols == 1 {
        format!("[{}]", unicode_row(&cells))
    } else {
        let rows: Vec<String> = rows
            .iter()
            .map(|r| format!("[{}]", unicode_row(r)))
            .collect();
        format!("[{}]", rows.join(", "))
    };
    let latex_rows: Vec<String> = rows
        .iter()
        .map(|row| {
            let cells: Vec<&str> = row.iter().map(|m| m.latex.as_str()).collect();
            cells.join(" & ")
        })
        .collect();
    Math {
        unicode,
        latex: format!(
            "\\begin{{pmatrix}} {} \\end{{pmatrix}}",
            latex_rows.join(" \\\\ ")
        ),
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
pub fn concrete_problem(
    typed: &Typed,
    wrt: &[String],
    given: &BTreeMap<String, Vec<usize>>,
) -> Result<Problem, ProofError> {
    let mut bound: BTreeMap<String, usize> = BTreeMap::new();
    for (name, dims) in given {
        let shape = typed
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
    let open: Vec<Dim> = typed
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
    let vars = typed
        .vars
        .iter()
        .map(|(name, s)| {
            let dims = layout_dims(&s.rows, &s.cols).iter().map(size).collect();
            (name.clone(), dims)
        })
        .collect();
    Ok(Problem {
        expr: typed.formula.body.clone(),
        vars,
        wrt: wrt.to_vec(),
        domains: BTreeMap::new(),
        sizes: bound,
        symmetric: BTreeSet::new(),
    }
    .declaring_symmetric(&typed.symmetric))
}

/// `[]` for a scalar, `[n]` for a column, else both dims.
fn layout_dims(rows: &Dim, cols: &Dim) -> Vec<Dim> {
    match (rows, cols) {
        (Dim::Fixed(1), Dim::Fixed(1)) => Vec::new(),
        (r, Dim::Fixed(1)) => vec![r.clone()],
        (r, c) => vec![r.clone(), c.clone()],
    }
}
