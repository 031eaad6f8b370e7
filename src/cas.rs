//! The computer-algebra interface on expressions, not strings:
//! [`Expression`] (a parsed, shape-checked matrix expression), [`simplify`],
//! [`substitute`] and [`equal`].
//!
//! [`equal`] decides in three tiers, strongest first, and says which one
//! decided:
//! 1. the canonical form of the difference is 0: equal for every size and
//!    value where both sides are defined ([`Equality::Proven`]);
//! 2. else every entry is compared exactly, as rational functions of the
//!    entries, at small concrete sizes (an identity at those sizes, not a
//!    proof for all sizes);
//! 3. where the exact normal form cannot decide (`sigmoid`, fractional
//!    powers, …), both sides are evaluated at random points of the
//!    variables' domains.
//!
//! A difference is reported only with a witness: a point where the two
//! values are apart by far more than rounding ([`Equality::Differs`]).
//!
//! ```
//! use matcalc::cas::{equal, substitute, Equality, Expression};
//! let none = Default::default();
//! let e = Expression::parse("x'*A*x", &none).unwrap();
//! let y = Expression::parse("B*y", &none).unwrap();
//! let f = substitute(&e, "x", &y).unwrap(); // (B*y)'*A*(B*y)
//! let g = Expression::parse("y'*B'*A*B*y", &none).unwrap();
//! assert!(matches!(equal(&f, &g, &Default::default()).unwrap(), Equality::Proven { .. }));
//! ```
//!
//! Invariant: pure and deterministic (fixed seeds); never prints. Uses
//! `syntax`, `shape`, `numeric`, `simplify`, `exact`, `derive` and
//! `confirm`.

use std::collections::BTreeMap;

use ndarray::Array2;

use crate::confirm;
use crate::derive::{self, DeriveError};
use crate::exact::{Budget as ExactBudget, ExactVerdict, Session};
use crate::numeric::{draw_sample, evaluate, Bindings, Domain, EvalError, Loss, Problem, Value};
use crate::shape::{Dim, ResultShape, Shape, Typed};
use crate::simplify::{Assumptions, Used};
use crate::syntax::{expr_to_string, BinOp, ConstKind, Decl, Decls, Expr, ExprKind, Formula};

/// A matrix expression, parsed and shape-checked, with the text it was read
/// from (errors about it point into that text).
#[derive(Clone, Debug)]
pub struct Expression {
    text: String,
    decls: Decls,
    typed: Typed,
}

/// Why a computer-algebra request cannot be answered.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum CasError {
    /// An expression does not parse or its shapes do not fit; `text` is
    /// the text the error's spans point into.
    #[error("{error}")]
    Input {
        /// What is wrong.
        error: DeriveError,
        /// The text the error is about.
        text: String,
    },
    /// The two sides of `equal` have different shapes.
    #[error("the two sides have different shapes: {left} and {right}")]
    ShapesDiffer {
        /// The left side's shape.
        left: String,
        /// The right side's shape.
        right: String,
    },
    /// A variable has one shape on the left and another on the right.
    #[error("`{name}` is {left} on the left but {right} on the right")]
    VariableShapes {
        /// The variable.
        name: String,
        /// Its shape on the left.
        left: String,
        /// Its shape on the right.
        right: String,
    },
    /// The replacement of a substitution does not have the shape of the
    /// variable it replaces.
    #[error("`{name}` is {expected}, but its replacement is {found}")]
    SubstitutionShape {
        /// The variable replaced.
        name: String,
        /// The variable's shape.
        expected: String,
        /// The replacement's shape.
        found: String,
    },
    /// Neither side could be evaluated at any point tried.
    #[error("the two sides could not be evaluated at any point tried: {0}")]
    Undefined(EvalError),
}

impl Expression {
    /// Parses and shape-checks a matrix expression under `decls`.
    ///
    /// ```
    /// use matcalc::cas::Expression;
    /// let e = Expression::parse("x'*A*x", &Default::default()).unwrap();
    /// assert_eq!(e.to_string(), "x'*A*x");
    /// ```
    pub fn parse(text: &str, decls: &Decls) -> Result<Expression, CasError> {
        let input = |error| CasError::Input {
            error,
            text: text.to_string(),
        };
        let typed = derive::typecheck(text, decls).map_err(input)?;
        if let Some(lhs) = &typed.formula.lhs {
            return Err(input(DeriveError::IndexForm {
                what: "used as an expression".to_string(),
                span: lhs.span,
            }));
        }
        Ok(Expression {
            text: text.to_string(),
            decls: decls.clone(),
            typed,
        })
    }

    /// The expression, elaborated (fills sized).
    pub fn expr(&self) -> &Expr {
        &self.typed.formula.body
    }

    /// The shape-checked expression with every variable's shape.
    pub fn typed(&self) -> &Typed {
        &self.typed
    }

    /// The text the expression was read from.
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl std::fmt::Display for Expression {
    /// The expression in the input syntax, as read.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// The result of [`simplify`].
#[derive(Clone, Debug)]
pub struct Simplification {
    /// The canonical form.
    pub result: Expression,
    /// The assumptions the simplifier used, each once.
    pub used: Vec<Used>,
}

/// The canonical form of an expression; the simplifier may use
/// `assumptions` and says which it used.
///
/// ```
/// use matcalc::cas::{simplify, Expression};
/// let e = Expression::parse("tr(A*B) - tr(B*A)", &Default::default()).unwrap();
/// assert_eq!(simplify(&e, &Default::default()).unwrap().result.to_string(), "0");
/// ```
pub fn simplify(e: &Expression, assumptions: &Assumptions) -> Result<Simplification, CasError> {
    let (_, formula, used) =
        derive::simplify(&e.text, &e.decls, assumptions).map_err(|error| CasError::Input {
            error,
            text: e.text.clone(),
        })?;
    Ok(Simplification {
        result: reread(&formula.body, &e.decls)?,
        used,
    })
}

/// `e` with every occurrence of the variable `name` replaced by `by`, which
/// must have the variable's shape (a variable that does not occur leaves
/// `e` as it is).
///
/// ```
/// use matcalc::cas::{substitute, Expression};
/// let e = Expression::parse("x'*A*x", &Default::default()).unwrap();
/// let mut decls = matcalc::syntax::Decls::new();
/// decls.extend_from_str("b: n").unwrap();
/// let by = Expression::parse("B*y + b", &decls).unwrap();
/// assert_eq!(substitute(&e, "x", &by).unwrap().to_string(), "(B*y + b)'*A*(B*y + b)");
/// ```
pub fn substitute(e: &Expression, name: &str, by: &Expression) -> Result<Expression, CasError> {
    let Some(expected) = e.typed.vars.get(name) else {
        return Ok(e.clone());
    };
    let found = result_shape(by);
    if *expected != found {
        return Err(CasError::SubstitutionShape {
            name: name.to_string(),
            expected: expected.to_string(),
            found: found.to_string(),
        });
    }
    let decls = declared(&e.decls, [&e.typed, &by.typed]);
    reread(&replaced(e.expr().clone(), name, by.expr()), &decls)
}

/// `e` with the variable `name` replaced by `by`.
fn replaced(e: Expr, name: &str, by: &Expr) -> Expr {
    match &e.kind {
        ExprKind::Var(v) if v == name => by.clone(),
        _ => e.map_children(&mut |child| replaced(child, name, by)),
    }
}

/// `decls` with the shape of every variable of `typed` declared, so that an
/// expression built from these parts reads its variables as they were.
fn declared<'a>(decls: &Decls, typed: impl IntoIterator<Item = &'a Typed>) -> Decls {
    let mut out = decls.clone();
    for t in typed {
        for (name, shape) in &t.vars {
            let dims = match (&shape.rows, &shape.cols) {
                (Dim::Fixed(1), Dim::Fixed(1)) => Vec::new(),
                (n, Dim::Fixed(1)) => vec![n.clone()],
                (r, c) => vec![r.clone(), c.clone()],
            };
            out.insert(Decl::value(name, dims));
        }
    }
    out
}

/// An expression written out and read again, so that its spans point into
/// its own text.
fn reread(e: &Expr, decls: &Decls) -> Result<Expression, CasError> {
    Expression::parse(&expr_to_string(e), decls)
}

/// The shape of an expression's value (an [`Expression`] is never an
/// index form).
fn result_shape(e: &Expression) -> Shape {
    match &e.typed.result {
        ResultShape::Matrix(shape) => shape.clone(),
        ResultShape::Tensor(dims) => Shape::matrix(
            dims.first().cloned().unwrap_or(Dim::Fixed(1)),
            dims.get(1).cloned().unwrap_or(Dim::Fixed(1)),
        ),
    }
}

/// Which tier of [`equal`] found two sides equal without a proof.
#[derive(Clone, Debug, PartialEq)]
pub enum Tried {
    /// Every entry agrees exactly, as a rational function of the entries.
    Exact,
    /// The values agree at this many random points (the exact normal form
    /// could not decide: `reason`).
    Numeric {
        /// How many points were compared.
        points: usize,
        /// Why the exact comparison did not decide.
        reason: String,
    },
}

/// A point where two expressions differ.
#[derive(Clone, Debug, PartialEq)]
pub struct Witness {
    /// The concrete sizes of the symbolic dimensions.
    pub sizes: BTreeMap<String, usize>,
    /// The value of every variable.
    pub values: BTreeMap<String, Array2<f64>>,
    /// The left side's value there.
    pub left: Array2<f64>,
    /// The right side's value there.
    pub right: Array2<f64>,
    /// The first entry the exact comparison showed different (1-based), with
    /// both sides' entries as exact expressions, when it decided.
    pub exact: Option<(Vec<usize>, String, String)>,
}

/// The verdict of [`equal`].
#[derive(Clone, Debug, PartialEq)]
pub enum Equality {
    /// The canonical form of the difference is 0: equal wherever both sides
    /// are defined (using these assumptions).
    Proven {
        /// The assumptions used.
        used: Vec<Used>,
    },
    /// Not proven, but equal at every size (and point) tried.
    AtSizesTried {
        /// The concrete sizes tried.
        sizes: Vec<BTreeMap<String, usize>>,
        /// How the comparison was made.
        how: Tried,
    },
    /// The two sides differ, with a point that shows it.
    Differs(Box<Witness>),
}

/// How many random points the numeric tier compares at each size.
pub const NUMERIC_POINTS: usize = 5;

/// Decides whether two expressions are equal on the variables' domains
/// (`domains` also gives the simplifier its facts); see the module
/// documentation for the three tiers.
///
/// ```
/// use matcalc::cas::{equal, Equality, Expression};
/// let a = Expression::parse("tr(A*B)", &Default::default()).unwrap();
/// let b = Expression::parse("tr(B*A)", &Default::default()).unwrap();
/// let c = Expression::parse("tr(A)*tr(B)", &Default::default()).unwrap();
/// let none = Default::default();
/// assert!(matches!(equal(&a, &b, &none).unwrap(), Equality::Proven { .. }));
/// assert!(matches!(equal(&a, &c, &none).unwrap(), Equality::Differs(_)));
/// ```
pub fn equal(
    left: &Expression,
    right: &Expression,
    domains: &BTreeMap<String, Domain>,
) -> Result<Equality, CasError> {
    let difference = difference(left, right)?;
    let facts = Assumptions::from_domains(domains);
    let canonical = simplify(&difference, &facts)?;
    if is_zero(canonical.result.expr()) {
        return Ok(Equality::Proven {
            used: canonical.used,
        });
    }
    let problem = confirm::problem(&difference.typed, &[], domains);
    let (l, r) = sides(difference.expr(), left, right);
    let exact = Session::new(&problem, ExactBudget::default())
        .and_then(|session| session.equal(l, r))
        .unwrap_or_else(|err| ExactVerdict::Undecided {
            reason: err.to_string(),
        });
    match exact {
        ExactVerdict::Equal => Ok(Equality::AtSizesTried {
            sizes: vec![problem.sizes],
            how: Tried::Exact,
        }),
        ExactVerdict::Differs {
            entry,
            claimed,
            reference,
        } => {
            let mut witness = numeric_witness(&problem, l, r)?.unwrap_or_else(|| {
                Box::new(Witness {
                    sizes: problem.sizes.clone(),
                    values: BTreeMap::new(),
                    left: Array2::zeros((0, 0)),
                    right: Array2::zeros((0, 0)),
                    exact: None,
                })
            });
            witness.exact = Some((entry.iter().map(|i| i + 1).collect(), claimed, reference));
            Ok(Equality::Differs(witness))
        }
        ExactVerdict::Undecided { reason } => match numeric_witness(&problem, l, r)? {
            Some(witness) => Ok(Equality::Differs(witness)),
            None => Ok(Equality::AtSizesTried {
                sizes: vec![problem.sizes],
                how: Tried::Numeric {
                    points: NUMERIC_POINTS,
                    reason,
                },
            }),
        },
        ExactVerdict::WrongShape { claimed, expected } => Err(CasError::ShapesDiffer {
            left: format!("{claimed:?}"),
            right: format!("{expected:?}"),
        }),
    }
}

/// `left - right` as one expression, each side in parentheses, its shapes
/// inferred jointly (`tr(A*B)` and `tr(B*A)` agree on A and B); when they do
/// not fit together, the error says which shapes disagree.
fn difference(left: &Expression, right: &Expression) -> Result<Expression, CasError> {
    let text = format!("({}) - ({})", left.text, right.text);
    let joint = Expression::parse(&text, &left.decls);
    if joint.is_ok() {
        return joint;
    }
    let (a, b) = (result_shape(left), result_shape(right));
    if a != b {
        return Err(CasError::ShapesDiffer {
            left: a.to_string(),
            right: b.to_string(),
        });
    }
    for (name, shape) in &left.typed.vars {
        if let Some(other) = right.typed.vars.get(name) {
            if shape != other {
                return Err(CasError::VariableShapes {
                    name: name.clone(),
                    left: shape.to_string(),
                    right: other.to_string(),
                });
            }
        }
    }
    joint
}

/// The two operands of the joint difference, elaborated together; the
/// sides as read on their own should the difference not be a `-` node
/// (never the difference against itself, which would be equal).
fn sides<'a>(
    difference: &'a Expr,
    left: &'a Expression,
    right: &'a Expression,
) -> (&'a Expr, &'a Expr) {
    match &difference.kind {
        ExprKind::Binary(BinOp::Sub, l, r) => (l, r),
        _ => (left.expr(), right.expr()),
    }
}

/// True for `0` and a fill of zeros.
fn is_zero(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Num(x) => *x == 0.0,
        ExprKind::Const(ConstKind::Zeros, _) => true,
        ExprKind::Fill { value, .. } => is_zero(value),
        _ => false,
    }
}

/// The point, among [`NUMERIC_POINTS`] random ones, where the two sides are
/// furthest apart relative to the values' scale, when that is clearly more
/// than rounding; `None` when they agree at every point evaluated.
fn numeric_witness(
    problem: &Problem,
    left: &Expr,
    right: &Expr,
) -> Result<Option<Box<Witness>>, CasError> {
    let mut evaluated = 0;
    let mut last_error = None;
    let mut best: Option<(f64, Box<Witness>)> = None;
    for seed in 0..NUMERIC_POINTS as u64 * 4 {
        if evaluated == NUMERIC_POINTS {
            break;
        }
        let values = match draw_sample(&problem.vars, &problem.domains, seed, 0) {
            Ok(values) => values,
            Err(err) => {
                last_error = Some(err);
                continue;
            }
        };
        let bindings = Bindings {
            values: values.clone(),
            sizes: problem.sizes.clone(),
            loss: Some(Loss::L1),
            loss_arguments: BTreeMap::new(),
        };
        let (a, b) = match (value_at(left, &bindings), value_at(right, &bindings)) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(err), _) | (_, Err(err)) => {
                last_error = Some(err);
                continue;
            }
        };
        evaluated += 1;
        let (gap, scale) = gap(&a.0, &b.0);
        let tolerance = 1e-7 * (1.0 + a.1.max(b.1).max(scale));
        if gap > tolerance && !best.as_ref().is_some_and(|(g, _)| gap / tolerance <= *g) {
            let witness = Witness {
                sizes: problem.sizes.clone(),
                values,
                left: a.0,
                right: b.0,
                exact: None,
            };
            best = Some((gap / tolerance, Box::new(witness)));
        }
    }
    match (evaluated, last_error) {
        (0, Some(err)) => Err(CasError::Undefined(err)),
        _ => Ok(best.map(|(_, w)| w)),
    }
}

/// A side's value and the largest magnitude met computing it.
fn value_at(e: &Expr, bindings: &Bindings) -> Result<(Array2<f64>, f64), EvalError> {
    let formula = Formula {
        lhs: None,
        body: e.clone(),
    };
    let evaluation = evaluate(&formula, bindings, None)?;
    match evaluation.value {
        Value::Matrix(m) => Ok((m, evaluation.magnitude)),
        Value::Tensor(t) => {
            let n = t.len();
            Ok((
                t.into_shape_with_order((n, 1)).unwrap_or_default(),
                evaluation.magnitude,
            ))
        }
    }
}

/// The largest entry-wise gap between two values, and the largest entry.
fn gap(a: &Array2<f64>, b: &Array2<f64>) -> (f64, f64) {
    if a.dim() != b.dim() {
        return (f64::INFINITY, 0.0);
    }
    a.iter().zip(b).fold((0.0, 0.0), |(g, s), (x, y)| {
        let gap = if x == y { 0.0 } else { (x - y).abs() };
        (f64::max(g, gap), f64::max(s, x.abs().max(y.abs())))
    })
}
