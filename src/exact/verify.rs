//! Exact verification of a claimed derivative: expand every entry of the
//! expression for the problem's concrete sizes, differentiate entry-wise,
//! lay the reference out in the corpus layout (f's dims, then each `wrt`
//! variable's dims), expand the claim entry-wise, reduce both by the
//! sampling domains, and compare exactly.
//!
//! Honesty: a difference is reported only when it is provably a nonzero
//! function on the domain — a nonzero polynomial in free atoms, or a value
//! whose certified interval at a point of the domain excludes zero;
//! otherwise the verdict is undecided with the reason. Running out of
//! budget is undecided too, never a hang.

use num_rational::BigRational;
use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet};

use super::atom::{AtomKind, AtomRef};
use super::context::Context;
use super::domain::{mark_domains, Reduction};
use super::error::ExactError;
use super::eval::Env;
use super::index::IndexEvaluator;
use super::linalg::{size_of, Matrix};
use super::poly::Budget;
use super::scalar::Scalar;
use super::tensor::Tensor;
use super::witness::{domain_point, Evaluator};
use crate::numeric::Problem;
use crate::syntax::{Expr, ExprKind, Formula};

/// The verdict of an exact comparison.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExactVerdict {
    /// Every entry of the claim equals the reference exactly.
    Equal,
    /// The claim differs from the reference at `entry` (0-based layout
    /// index), as functions on the sampling domain.
    Differs {
        /// The first entry shown to differ.
        entry: Vec<usize>,
        /// The claim's entry, reduced.
        claimed: String,
        /// The reference entry, reduced.
        reference: String,
    },
    /// The normal form could not decide, or the budget ran out.
    Undecided {
        /// Why, in words.
        reason: String,
    },
    /// The claim does not have the layout's shape.
    WrongShape {
        /// The claim's dims (rows and columns for a matrix form).
        claimed: Vec<usize>,
        /// The layout dims of the derivative.
        expected: Vec<usize>,
    },
}

impl ExactVerdict {
    /// The closing sentence of an exact check in a proof.
    pub fn sentence(&self) -> String {
        match self {
            ExactVerdict::Equal => "verified exactly for these sizes".to_string(),
            ExactVerdict::Differs { entry, .. } => {
                let shown: Vec<String> = entry.iter().map(|i| (i + 1).to_string()).collect();
                format!("differs exactly at entry [{}]", shown.join(","))
            }
            ExactVerdict::Undecided { reason } => format!("not checked exactly: {reason}"),
            ExactVerdict::WrongShape { claimed, expected } => {
                format!("not checked exactly: the claim has dims {claimed:?}, the layout is {expected:?}")
            }
        }
    }
}

/// The layout dims of a matrix value: `[]` for 1×1, `[n]` for n×1 or 1×n.
fn layout_dims(rows: usize, cols: usize) -> Vec<usize> {
    match (rows, cols) {
        (1, 1) => vec![],
        (n, 1) | (1, n) => vec![n],
        (r, c) => vec![r, c],
    }
}

/// Variable names in order of first appearance in `e`.
fn appearance(e: &Expr, out: &mut Vec<String>) {
    if let ExprKind::Var(name) = &e.kind {
        if !out.contains(name) {
            out.push(name.clone());
        }
    }
    for child in e.children() {
        appearance(child, out);
    }
}

/// Every abstract-function call in `e`: name and argument list, distinct.
fn abstract_calls(e: &Expr, out: &mut Vec<(String, Vec<Expr>)>) {
    if let ExprKind::Apply(name, args) = &e.kind {
        if !out.iter().any(|(n, a)| n == name && a == args) {
            out.push((name.clone(), args.clone()));
        }
    }
    for child in e.children() {
        abstract_calls(child, out);
    }
}

/// One exact session: the entries of every variable of a problem, with
/// the context that owns their atoms.
#[derive(Debug)]
pub struct Session {
    cx: Context,
    problem: Problem,
    entries: BTreeMap<String, Vec<AtomRef>>,
    values: BTreeMap<String, Matrix>,
    losses: BTreeMap<String, AtomRef>,
    reference: OnceCell<Tensor<Scalar>>,
}

/// A budget error as an honest verdict; other errors stay errors.
fn budget_as_verdict(
    outcome: Result<ExactVerdict, ExactError>,
) -> Result<ExactVerdict, ExactError> {
    match outcome {
        Err(err) if err.is_budget() => Ok(ExactVerdict::Undecided {
            reason: err.to_string(),
        }),
        other => other,
    }
}

impl Session {
    /// Sets up the entry atoms of every variable of `problem` (named after
    /// their variables, lower-cased: `x₁₂`) and the argument of each
    /// abstract function called once, for a bare `dL`.
    pub fn new(problem: &Problem, budget: Budget) -> Result<Session, ExactError> {
        let mut cx = Context::new(budget);
        let mut order = Vec::new();
        appearance(&problem.expr, &mut order);
        for name in problem.vars.keys() {
            if !order.contains(name) {
                order.push(name.clone());
            }
        }
        cx.name_variables(order.iter().map(String::as_str));
        mark_domains(&mut cx, &problem.domains);
        let mut entries = BTreeMap::new();
        let mut values = BTreeMap::new();
        for name in &order {
            let Some(dims) = problem.vars.get(name) else {
                continue;
            };
            let (rows, cols) = match dims.as_slice() {
                [] => (1, 1),
                [n] => (*n, 1),
                [r, c] => (*r, *c),
                _ => {
                    return Err(ExactError::BadProblem {
                        message: format!("`{name}` has dims {dims:?}; at most two are allowed"),
                    })
                }
            };
            cx.meter.check_size(&[rows, cols])?;
            let atoms: Vec<AtomRef> = super::tensor::indices(dims)
                .map(|index| cx.entry(name, &index))
                .collect();
            let data = atoms.iter().cloned().map(Scalar::atom).collect();
            let matrix = Tensor::new(vec![rows, cols], data).ok_or(ExactError::BadProblem {
                message: format!("`{name}` has inconsistent dims"),
            })?;
            entries.insert(name.clone(), atoms);
            values.insert(name.clone(), matrix);
        }
        let mut session = Session {
            cx,
            problem: problem.clone(),
            entries,
            values,
            losses: BTreeMap::new(),
            reference: OnceCell::new(),
        };
        let mut calls = Vec::new();
        abstract_calls(&problem.expr, &mut calls);
        let mut losses = BTreeMap::new();
        for (name, args) in &calls {
            if calls.iter().filter(|(n, _)| n == name).count() == 1 {
                let loss = session.env().loss_of(name, args, problem.expr.span)?;
                losses.insert(name.clone(), loss);
            }
        }
        session.losses = losses;
        Ok(session)
    }

    fn env(&self) -> Env<'_> {
        Env {
            cx: &self.cx,
            values: &self.values,
            sizes: &self.problem.sizes,
            losses: &self.losses,
        }
    }

    /// The context owning every scalar of this session.
    pub fn context(&self) -> &Context {
        &self.cx
    }

    /// Every entry of a matrix expression (scalars 1×1, vectors n×1).
    pub fn expand(&self, expr: &Expr) -> Result<Tensor<Scalar>, ExactError> {
        self.env().sized(expr)
    }

    /// Every entry of a formula: a matrix form sized by `result_dims` where
    /// it has a deferred `vector(c)`, or an index form with one axis per
    /// left-hand-side index.
    pub fn expand_formula(
        &self,
        formula: &Formula,
        result_dims: Option<&[usize]>,
    ) -> Result<Tensor<Scalar>, ExactError> {
        let env = self.env();
        match &formula.lhs {
            None => env
                .value(&formula.body)?
                .into_result(&self.cx, result_dims, formula.body.span),
            Some(lhs) => {
                IndexEvaluator::new(&env).formula(&lhs.indices, &formula.body, result_dims)
            }
        }
    }

    /// The derivative of the problem's expression by its `wrt` variables,
    /// entry by entry, in the corpus layout (f's dims, then each
    /// variable's); computed once per session.
    pub fn reference(&self) -> Result<&Tensor<Scalar>, ExactError> {
        if let Some(r) = self.reference.get() {
            return Ok(r);
        }
        let r = self.differentiate()?;
        Ok(self.reference.get_or_init(|| r))
    }

    fn differentiate(&self) -> Result<Tensor<Scalar>, ExactError> {
        if self.problem.wrt.is_empty() {
            return Err(ExactError::BadProblem {
                message: "nothing to differentiate by".to_string(),
            });
        }
        let f = self.expand(&self.problem.expr)?;
        let mut layout = layout_dims(f.rows(), f.cols());
        let mut by = Vec::new();
        for w in &self.problem.wrt {
            let atoms = self.entries.get(w).ok_or_else(|| ExactError::BadProblem {
                message: format!("`{w}` is not a variable of the expression"),
            })?;
            let dims = self.problem.vars.get(w).cloned().unwrap_or_default();
            let side = match dims.as_slice() {
                [n, m] if n == m && self.problem.symmetric.contains(w) => Some(*n),
                _ => None,
            };
            layout.extend(dims);
            by.push((atoms, side));
        }
        self.cx.meter.check_size(&layout)?;
        let half = BigRational::new(1.into(), 2.into());
        let mut current: Vec<Scalar> = f.into_data();
        for (atoms, side) in by {
            let mut next = Vec::with_capacity(current.len() * atoms.len());
            for s in &current {
                for (k, z) in atoms.iter().enumerate() {
                    let d = self.cx.derivative(s, z)?;
                    // A symmetric variable moves along (eᵢⱼ + eⱼᵢ)/2.
                    next.push(match side {
                        Some(n) => {
                            let mirror = self.cx.derivative(s, &atoms[(k % n) * n + k / n])?;
                            self.cx.scale(&self.cx.add(&d, &mirror)?, &half)
                        }
                        None => d,
                    });
                }
            }
            current = next;
        }
        Tensor::new(layout, current).ok_or(ExactError::BadProblem {
            message: "the derivative does not fit its layout".to_string(),
        })
    }

    /// True when two scalars of this session are equal on the problem's
    /// sampling domain (after its exact reductions, such as symmetry).
    pub fn equal_on_domain(&self, a: &Scalar, b: &Scalar) -> Result<bool, ExactError> {
        let reduction = Reduction::new(&self.cx, &self.problem.vars, &self.problem.domains)?;
        let difference = self.cx.sub(a, b)?;
        Ok(reduction.reduce(&difference)?.is_zero())
    }

    /// Compares a claimed derivative with the reference exactly; running
    /// out of budget gives [`ExactVerdict::Undecided`].
    pub fn verify(&self, claim: &Formula) -> Result<ExactVerdict, ExactError> {
        budget_as_verdict(self.compare(claim))
    }

    fn compare(&self, claim: &Formula) -> Result<ExactVerdict, ExactError> {
        let reference = self.reference()?;
        let layout = reference.shape().to_vec();
        let value = self.expand_formula(claim, Some(&layout))?;
        let claimed = match fit_layout(value, &layout) {
            Ok(c) => c,
            Err(dims) => {
                return Ok(ExactVerdict::WrongShape {
                    claimed: dims,
                    expected: layout,
                })
            }
        };
        self.compare_entries(&claimed, reference)
    }

    /// Compares two expressions of this session's problem entry by entry
    /// (the question of `matcalc equal`): [`ExactVerdict::Equal`] when
    /// every entry agrees exactly on the sampling domain at these sizes;
    /// running out of budget gives [`ExactVerdict::Undecided`].
    pub fn equal(&self, left: &Expr, right: &Expr) -> Result<ExactVerdict, ExactError> {
        budget_as_verdict(self.compare_exprs(left, right))
    }

    fn compare_exprs(&self, left: &Expr, right: &Expr) -> Result<ExactVerdict, ExactError> {
        let (a, b) = (self.expand(left)?, self.expand(right)?);
        if a.shape() != b.shape() {
            return Ok(ExactVerdict::WrongShape {
                claimed: a.shape().to_vec(),
                expected: b.shape().to_vec(),
            });
        }
        self.compare_entries(&a, &b)
    }

    /// The entry-wise verdict on two tensors of one shape: a difference
    /// counts only when provably nonzero on the domain.
    fn compare_entries(
        &self,
        claimed: &Tensor<Scalar>,
        reference: &Tensor<Scalar>,
    ) -> Result<ExactVerdict, ExactError> {
        let reduction = Reduction::new(&self.cx, &self.problem.vars, &self.problem.domains)?;
        let points: Vec<_> = (1..=3)
            .filter_map(|seed| domain_point(&self.problem.vars, &self.problem.domains, seed))
            .collect();
        let mut witnesses: Vec<Evaluator<'_>> = points.iter().map(Evaluator::new).collect();
        let mut undecided: Option<(Vec<usize>, BTreeSet<String>)> = None;
        for ((index, a), b) in claimed.entries().zip(reference.data()) {
            // Reduction is a ring homomorphism: reduce the difference once.
            let raw = self.cx.sub(a, b)?;
            if raw.is_zero() {
                continue;
            }
            let difference = reduction.reduce(&raw)?;
            if difference.is_zero() {
                continue;
            }
            let tied = tied_atoms(&difference);
            if tied.is_empty()
                || witnesses
                    .iter_mut()
                    .any(|w| w.certainly_nonzero(&difference))
            {
                return Ok(ExactVerdict::Differs {
                    entry: index,
                    claimed: reduction.reduce(a)?.to_string(),
                    reference: reduction.reduce(b)?.to_string(),
                });
            }
            if undecided.is_none() {
                undecided = Some((index, tied));
            }
        }
        Ok(match undecided {
            None => ExactVerdict::Equal,
            Some((index, tied)) => {
                let shown: Vec<String> = index.iter().map(|i| (i + 1).to_string()).collect();
                let names: Vec<String> = tied.into_iter().collect();
                ExactVerdict::Undecided {
                    reason: format!(
                        "at entry [{}] the difference is not zero in the normal form, but it involves {}, whose identities the normal form does not decide",
                        shown.join(","),
                        names.join(", ")
                    ),
                }
            }
        })
    }
}

/// The claim laid out in the layout dims, or its own dims when it does not
/// fit.
fn fit_layout(value: Tensor<Scalar>, layout: &[usize]) -> Result<Tensor<Scalar>, Vec<usize>> {
    if value.shape().len() == 2 && layout.len() <= 2 {
        let required = match layout {
            [] => (1, 1),
            [n] => (*n, 1),
            [r, c] => (*r, *c),
            _ => (0, 0),
        };
        let size = size_of(&value);
        if (size.0, size.1) == required {
            return value.reshaped(layout.to_vec()).ok_or(vec![size.0, size.1]);
        }
        return Err(vec![size.0, size.1]);
    }
    if value.shape() == layout {
        Ok(value)
    } else {
        Err(value.shape().to_vec())
    }
}

/// Descriptions of the atoms of a difference that are tied to others by
/// identities the normal form does not know; empty when the difference is
/// provably a nonzero function.
fn tied_atoms(difference: &Scalar) -> BTreeSet<String> {
    let mut tied = BTreeSet::new();
    let numerator = difference
        .numerator()
        .terms()
        .iter()
        .flat_map(|(m, _)| m.factors().iter().map(|(a, _)| (a, false)));
    let factors = difference.factors().iter().flat_map(|(f, e)| {
        f.terms()
            .iter()
            .flat_map(move |(m, _)| m.factors().iter().map(move |(a, _)| (a, *e < 0)))
    });
    for (atom, in_denominator) in numerator.chain(factors) {
        if atom.0.free && (atom.0.continuous || !in_denominator) {
            continue;
        }
        tied.insert(match atom.kind() {
            AtomKind::Entry { var, .. } => format!("entries of {var}"),
            AtomKind::Apply { func, .. } => format!("{}(…)", func.name()),
            AtomKind::Exp { .. } => "exp(…)".to_string(),
            AtomKind::Root { .. } => "fractional powers".to_string(),
            AtomKind::Loss { .. } | AtomKind::Grad { .. } if !atom.0.continuous => {
                "an abstract function of discrete values".to_string()
            }
            AtomKind::Loss { .. } | AtomKind::Grad { .. } => {
                "an abstract function of such arguments".to_string()
            }
        });
    }
    tied
}

/// Verifies `claim` as the derivative of `problem.expr` by `problem.wrt`,
/// exactly, within `budget`. Running out of budget gives
/// [`ExactVerdict::Undecided`]; malformed input gives an error.
///
/// ```
/// use matcalc::exact::{verify, Budget, ExactVerdict};
/// use matcalc::numeric::Problem;
/// use matcalc::syntax::{parse_expr, parse_formula, Decls};
/// let problem = Problem {
///     expr: parse_expr("L(X*W + B)", &Decls::new()).unwrap(),
///     vars: [("X", vec![2, 3]), ("W", vec![3, 4]), ("B", vec![2, 4])]
///         .into_iter().map(|(n, d)| (n.to_string(), d)).collect(),
///     wrt: vec!["X".into()],
///     domains: Default::default(),
///     sizes: Default::default(),
///     symmetric: Default::default(),
/// };
/// let right = parse_formula("dL*W'", &Decls::new()).unwrap();
/// assert_eq!(verify(&problem, &right, Budget::default()).unwrap(), ExactVerdict::Equal);
/// let wrong = parse_formula("2*dL*W'", &Decls::new()).unwrap();
/// assert!(matches!(verify(&problem, &wrong, Budget::default()).unwrap(), ExactVerdict::Differs { .. }));
/// ```
pub fn verify(
    problem: &Problem,
    claim: &Formula,
    budget: Budget,
) -> Result<ExactVerdict, ExactError> {
    budget_as_verdict(Session::new(problem, budget).and_then(|session| session.verify(claim)))
}

/// Every entry of `expr` for the given variable dims (`[]`, `[n]`,
/// `[n,m]`): a matrix of exact scalars (scalars 1×1, vectors n×1).
///
/// ```
/// use matcalc::exact::{expand, Budget};
/// use matcalc::syntax::{parse_expr, Decls};
/// let vars = [("X", vec![2, 2]), ("W", vec![2, 3])]
///     .into_iter().map(|(n, d)| (n.to_string(), d)).collect();
/// let y = expand(&parse_expr("X*W", &Decls::new()).unwrap(), &vars, Budget::default()).unwrap();
/// assert_eq!(y.get(&[0, 0]).unwrap().to_string(), "x₁₁·w₁₁ + x₁₂·w₂₁");
/// ```
pub fn expand(
    expr: &Expr,
    vars: &BTreeMap<String, Vec<usize>>,
    budget: Budget,
) -> Result<Tensor<Scalar>, ExactError> {
    let problem = Problem {
        expr: expr.clone(),
        vars: vars.clone(),
        wrt: Vec::new(),
        domains: BTreeMap::new(),
        sizes: BTreeMap::new(),
        symmetric: BTreeSet::new(),
    };
    Session::new(&problem, budget)?.expand(expr)
}
