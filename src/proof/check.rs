//! The self-check of a proof: every equality it states (a step equal to
//! the one before, or to the subterm it rewrote) is evaluated at random
//! points of the problem's domains and each step is marked with its
//! verdict. A step that fails is a bug of matcalc, never a proof.
//! Invariant: pure; uses `numeric` and `syntax`.

use std::collections::BTreeMap;

use super::{Proof, ProofError};
use crate::numeric::{
    draw_sample, evaluate, evaluate_expr, Bindings, EvalError, Loss, Problem, Value,
};
use crate::syntax::{to_expr_string, Formula, IndexLhs, Span};

/// How many random points each equality is evaluated at.
pub const CHECK_SEEDS: u64 = 3;

/// A step's self-check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Checked {
    /// Not checked yet.
    Unchecked,
    /// The step defines something (a name, a given, a chain rule): it
    /// states no equality with what came before.
    Defines,
    /// Its equality held at every point.
    Holds {
        /// At how many points.
        points: u64,
    },
    /// Its equality could not be evaluated (a size nothing fixes, an
    /// undefined point); the reason.
    Undecided(String),
}

impl Checked {
    /// A short mark: `✓` held, `·` a definition, `?` undecided.
    pub fn mark(&self) -> &'static str {
        match self {
            Checked::Holds { .. } => "✓",
            Checked::Defines => "·",
            Checked::Unchecked | Checked::Undecided(_) => "?",
        }
    }

    /// The mark for Markdown and LaTeX, where a definition has none.
    pub fn math_mark(&self) -> &'static str {
        match self {
            Checked::Defines => "",
            other => other.mark(),
        }
    }

    /// The verdict in one word, for JSON.
    pub fn word(&self) -> &'static str {
        match self {
            Checked::Unchecked => "unchecked",
            Checked::Defines => "defines",
            Checked::Holds { .. } => "holds",
            Checked::Undecided(_) => "undecided",
        }
    }
}

/// Checks every equality of `proof` at [`CHECK_SEEDS`] random points of
/// `problem` (with `L2` standing for every abstract function) and marks
/// each step; an equality that fails is [`ProofError::Refuted`]. Gives how
/// many equalities held.
pub fn check(proof: &mut Proof, problem: &Problem) -> Result<usize, ProofError> {
    let mut held = 0;
    let points: Vec<Bindings> = (1..=CHECK_SEEDS)
        .map(|seed| bindings(problem, seed))
        .collect::<Result<_, _>>()
        .map_err(|e| ProofError::Refuted {
            step: 0,
            why: format!("no sample point: {e}"),
        })?;
    let hints = size_hints(proof, &points[0]);
    for (n, hint) in hints.iter().enumerate() {
        let step = &proof.steps[n];
        let other = match (&step.same_as, step.equals_previous, n) {
            (Some(f), _, _) => Some(f.clone()),
            (None, true, n) if n > 0 => Some(proof.steps[n - 1].formula.clone()),
            _ => None,
        };
        let verdict = match other {
            None => Checked::Defines,
            Some(other) => match agree(&other, &step.formula, &points, hint.as_deref()) {
                Ok(()) => {
                    held += 1;
                    Checked::Holds {
                        points: CHECK_SEEDS,
                    }
                }
                Err(Disagree::Unknown(why)) => Checked::Undecided(why),
                Err(Disagree::Differs(why)) => {
                    return Err(ProofError::Refuted { step: n + 1, why })
                }
            },
        };
        proof.steps[n].checked = verdict;
    }
    Ok(held)
}

enum Disagree {
    Unknown(String),
    Differs(String),
}

/// Per step, the layout dims of its run of steps joined by
/// `equals_previous` (the first of them whose size its formula fixes).
fn size_hints(proof: &Proof, point: &Bindings) -> Vec<Option<Vec<usize>>> {
    let mut hints = vec![None; proof.steps.len()];
    let mut start = 0;
    for end in 1..=proof.steps.len() {
        if end < proof.steps.len() && proof.steps[end].equals_previous {
            continue;
        }
        let dims = proof.steps[start..end].iter().find_map(|s| {
            evaluate(&evaluable(&s.formula), point, None)
                .ok()
                .map(|e| layout_dims(&e.value))
        });
        for hint in &mut hints[start..end] {
            hint.clone_from(&dims);
        }
        start = end;
    }
    hints
}

/// Whether `a` and `b` have the same value at every point; a formula whose
/// size nothing in it fixes (`D[k,l] = 1`) takes the other's, or `hint`.
fn agree(
    a: &Formula,
    b: &Formula,
    points: &[Bindings],
    hint: Option<&[usize]>,
) -> Result<(), Disagree> {
    for point in points {
        let first = evaluate(&evaluable(a), point, None).ok();
        let second = evaluate(&evaluable(b), point, None).ok();
        let dims = first
            .iter()
            .chain(&second)
            .map(|e| layout_dims(&e.value))
            .next()
            .or_else(|| hint.map(<[usize]>::to_vec))
            .ok_or_else(|| Disagree::Unknown("no formula fixes the size".into()))?;
        let value = |f: &Formula, e: Option<crate::numeric::Evaluation>| match e {
            Some(e) => Ok(entries(e.value)),
            None => evaluate(&evaluable(f), point, Some(&dims))
                .map(|e| entries(e.value))
                .map_err(|e| Disagree::Unknown(e.to_string())),
        };
        let (p, q) = (value(a, first)?, value(b, second)?);
        let close = p.len() == q.len()
            && p.iter()
                .zip(&q)
                .all(|(x, y)| (x - y).abs() <= 1e-9 * (1.0 + x.abs().max(y.abs())));
        if !close {
            return Err(Disagree::Differs(format!(
                "{} ≠ {}",
                to_expr_string(a),
                to_expr_string(b)
            )));
        }
    }
    Ok(())
}

/// A random point of `problem`: every variable drawn from its domain, the
/// differential `dX` of each variable differentiated by a random direction,
/// and the arguments of the abstract functions evaluated.
fn bindings(problem: &Problem, seed: u64) -> Result<Bindings, EvalError> {
    let mut values = draw_sample(&problem.vars, &problem.domains, seed, 0)?;
    let directions = draw_sample(&problem.vars, &problem.domains, seed + 1000, 0)?;
    for name in &problem.wrt {
        if let Some(v) = directions.get(name) {
            values
                .entry(format!("d{name}"))
                .or_insert_with(|| v.clone());
        }
    }
    let mut b = Bindings {
        values,
        sizes: problem.sizes.clone(),
        loss: Some(Loss::L2),
        loss_arguments: BTreeMap::new(),
    };
    for (name, arg) in problem.expr.loss_arguments() {
        let value = evaluate_expr(&arg, &b)?;
        b.loss_arguments.insert(name, value);
    }
    Ok(b)
}

/// A scalar written in index notation (`sum[k](x[k]*x[k])`) is read as an
/// index form with no free index, which the syntax has no spelling for.
fn evaluable(f: &Formula) -> Formula {
    let mut f = f.clone();
    if f.lhs.is_none() && !f.is_matrix_form() {
        f.lhs = Some(IndexLhs {
            name: "s".into(),
            indices: Vec::new(),
            span: Span::NONE,
        });
    }
    f
}

fn entries(v: Value) -> Vec<f64> {
    match v {
        Value::Matrix(m) => m.iter().copied().collect(),
        Value::Tensor(t) => t.iter().copied().collect(),
    }
}

fn layout_dims(v: &Value) -> Vec<usize> {
    match v {
        Value::Matrix(m) if m.len() == 1 => Vec::new(),
        Value::Matrix(m) if m.ncols() == 1 => vec![m.nrows()],
        Value::Matrix(m) => vec![m.nrows(), m.ncols()],
        Value::Tensor(t) => t.shape().to_vec(),
    }
}
