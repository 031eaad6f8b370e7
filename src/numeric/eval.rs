//! Evaluation of matrix expressions in f64 on ndarray values.
//!
//! Every value is a 2-D array: a scalar is 1×1, an n-vector n×1, a row 1×n.
//! Element-wise operators broadcast only as the corpus syntax allows (a
//! scalar against anything, a 1×m row against an n×m matrix). A
//! `vector(c)` or `matrix(c)` without an inferred size stays deferred until
//! an operand or the required result shape fixes it, so formulas evaluate
//! whether or not the shape layer has elaborated them.
//!
//! Invariant: never panics on any input; every failure is an [`EvalError`]
//! with the span of the offending node. Every operation is charged to the
//! evaluation's [`MAX_WORK`](super::MAX_WORK) budget, and every new array
//! checked against [`MAX_ENTRIES`](super::MAX_ENTRIES), before it runs.
//! Uses only `syntax` and the sibling modules `limits`, `linalg` and `loss`.

use std::collections::BTreeMap;

use ndarray::{Array2, ArrayD, Zip};

use super::error::{EvalError, Size};
use super::index::IndexEvaluator;
use super::limits::{Budget, Meter};
use super::linalg;
use super::loss::Loss;
use crate::syntax::{
    integer_exponent, matrix_power, Axis, BinOp, ConstKind, DimSpec, Expr, ExprKind, FillKind,
    Formula, Func, Span,
};

/// Everything a formula is evaluated against.
#[derive(Clone, Debug, Default)]
pub struct Bindings {
    /// The value of each variable (scalars 1×1, vectors n×1).
    pub values: BTreeMap<String, Array2<f64>>,
    /// Concrete sizes of symbolic dimensions such as `n` in `eye(n)`.
    pub sizes: BTreeMap<String, usize>,
    /// The concrete function standing for every abstract one (`L`, `f`…).
    pub loss: Option<Loss>,
    /// For a bare gradient `dL`: the value of the argument of the single
    /// `L(…)` call in the differentiated expression, keyed by function name.
    pub loss_arguments: BTreeMap<String, Array2<f64>>,
}

/// The value of a formula: a matrix, or a tensor for an index form (one
/// axis per left-hand-side index, in order).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A matrix-form result (scalars 1×1, vectors n×1).
    Matrix(Array2<f64>),
    /// An index-form result.
    Tensor(ArrayD<f64>),
}

/// A value together with what was seen while computing it.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// The result.
    pub value: Value,
    /// The smallest distance of any argument of `relu`, `abs`, `sign` or
    /// `norm1` from its kink at 0 (infinite when there is none).
    pub kink_distance: f64,
    /// The estimated operations the evaluation took (see
    /// [`MAX_WORK`](super::MAX_WORK)).
    pub work: f64,
    /// The largest absolute entry of any matrix-form value computed on the
    /// way (operands, intermediate results and the result): the scale of
    /// the evaluation's rounding error, which cancellation can leave far
    /// above the result's own size.
    pub magnitude: f64,
}

/// Evaluates a formula. `result_dims` are the layout dims the result must
/// have (`[]` scalar, `[n]` vector, `[n,m]` matrix, one per left-hand-side
/// index for an index form): they size a `vector(c)` that is the whole
/// result and the free indices of an index form that no indexed value
/// determines.
///
/// ```
/// use matcalc::numeric::{evaluate, Bindings, Value};
/// use matcalc::syntax::{parse_formula, Decls};
/// use ndarray::array;
/// let mut b = Bindings::default();
/// b.values.insert("X".into(), array![[1.0, 2.0], [3.0, 4.0]]);
/// let f = parse_formula("X'*vector(1)", &Decls::new()).unwrap();
/// let v = evaluate(&f, &b, None).unwrap().value;
/// assert_eq!(v, Value::Matrix(array![[4.0], [6.0]]));
/// ```
pub fn evaluate(
    formula: &Formula,
    bindings: &Bindings,
    result_dims: Option<&[usize]>,
) -> Result<Evaluation, EvalError> {
    let mut evaluator = Evaluator::new(bindings);
    let value = match &formula.lhs {
        None => {
            let value = evaluator.matrix(&formula.body)?;
            Value::Matrix(value.into_result(
                result_dims,
                formula.body.span,
                &mut evaluator.meter,
            )?)
        }
        Some(lhs) => {
            let mut index = IndexEvaluator::new(&mut evaluator);
            Value::Tensor(index.formula(lhs, &formula.body, result_dims)?)
        }
    };
    Ok(Evaluation {
        value,
        kink_distance: evaluator.kink_distance,
        work: evaluator.meter.spent(),
        magnitude: evaluator.magnitude,
    })
}

/// Evaluates a matrix expression whose size is fully determined.
pub fn evaluate_expr(expr: &Expr, bindings: &Bindings) -> Result<Array2<f64>, EvalError> {
    Evaluator::new(bindings).sized(expr)
}

/// The orientation of a constant whose size is not yet known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Deferred {
    Column,
    Row,
    Matrix,
}

/// A matrix-mode value: a concrete array, or a constant fill of unknown size.
#[derive(Clone, Debug)]
enum Val {
    Mat(Array2<f64>),
    Fill {
        shape: Deferred,
        value: f64,
        span: Span,
    },
}

impl Val {
    /// The value as the whole result, sizing a deferred fill by the layout.
    fn into_result(
        self,
        dims: Option<&[usize]>,
        span: Span,
        meter: &mut Meter,
    ) -> Result<Array2<f64>, EvalError> {
        match self {
            Val::Mat(m) => Ok(m),
            Val::Fill { shape, value, .. } => {
                let (rows, cols) = match dims {
                    Some([]) => (1, 1),
                    Some([n]) => (*n, 1),
                    Some([r, c]) => (*r, *c),
                    _ => return Err(EvalError::SizeNotInferred { span }),
                };
                let size = if shape == Deferred::Row {
                    (cols, rows)
                } else {
                    (rows, cols)
                };
                meter.allocate(&[size.0, size.1], 1.0, "this constant", span)?;
                Ok(Array2::from_elem(size, value))
            }
        }
    }
}

fn size_of(a: &Array2<f64>) -> Size {
    Size(a.nrows(), a.ncols())
}

fn is_scalar(a: &Array2<f64>) -> bool {
    a.dim() == (1, 1)
}

fn scalar(x: f64) -> Array2<f64> {
    Array2::from_elem((1, 1), x)
}

/// The error function to about 1e-15, by the series
/// `erf(x) = 2/√π · exp(−x²) · Σₙ 2ⁿ x²ⁿ⁺¹ / (1·3·…·(2n+1))`, whose terms are
/// all of one sign (no cancellation); `|erf(x)| = 1` in double precision
/// beyond 6 (`erfc(6) < 3e-17`).
pub fn erf(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x.abs() > 6.0 {
        return x.signum();
    }
    let twice_square = 2.0 * x * x;
    let (mut term, mut total) = (x, x);
    let mut n = 0.0;
    while term.abs() > 1e-17 * total.abs() {
        n += 1.0;
        term *= twice_square / (2.0 * n + 1.0);
        total += term;
    }
    (std::f64::consts::FRAC_2_SQRT_PI * (-x * x).exp() * total).clamp(-1.0, 1.0)
}

/// The scalar function applied entry by entry by an element-wise built-in.
pub(super) fn elementwise(func: Func) -> Option<fn(f64) -> f64> {
    Some(match func {
        Func::Exp => f64::exp,
        Func::Log => f64::ln,
        Func::Sin => f64::sin,
        Func::Cos => f64::cos,
        Func::Tanh => f64::tanh,
        Func::Tan => f64::tan,
        // log(1 + exp(x)) without overflow.
        Func::Softplus => |x| x.max(0.0) + (-x.abs()).exp().ln_1p(),
        Func::Erf => erf,
        Func::Sqrt => f64::sqrt,
        Func::Sigmoid => |x| 1.0 / (1.0 + (-x).exp()),
        Func::Relu => |x| if x > 0.0 { x } else { 0.0 * x },
        Func::Abs => f64::abs,
        Func::Sign => |x| {
            if x > 0.0 {
                1.0
            } else if x < 0.0 {
                -1.0
            } else {
                x * 0.0
            }
        },
        _ => return None,
    })
}

/// True for the functions with a kink at 0 whose arguments samples avoid.
fn has_kink(func: Func) -> bool {
    matches!(func, Func::Relu | Func::Abs | Func::Sign | Func::Norm1)
}

/// The scalar operation of an element-wise operator (`*` and `/` act
/// entry-wise once one side is a scalar).
pub(super) fn scalar_op(op: BinOp) -> fn(f64, f64) -> f64 {
    match op {
        BinOp::Add => |a, b| a + b,
        BinOp::Sub => |a, b| a - b,
        BinOp::Mul | BinOp::HadMul => |a, b| a * b,
        BinOp::Div | BinOp::HadDiv => |a, b| a / b,
        BinOp::Pow | BinOp::HadPow => f64::powf,
    }
}

fn is_elementwise_op(op: BinOp) -> bool {
    matches!(
        op,
        BinOp::Add | BinOp::Sub | BinOp::HadMul | BinOp::HadDiv | BinOp::HadPow
    )
}

/// The shape two operands broadcast to, if they do.
fn broadcast_shape(a: (usize, usize), b: (usize, usize)) -> Option<(usize, usize)> {
    let row_of = |r: (usize, usize), m: (usize, usize)| r.0 == 1 && r.1 == m.1;
    if a == b || b == (1, 1) || row_of(b, a) {
        Some(a)
    } else if a == (1, 1) || row_of(a, b) {
        Some(b)
    } else {
        None
    }
}

/// The matrix-mode evaluator; it also records how close nonsmooth
/// functions came to their kinks and the largest entry it computed, and
/// meters its work.
pub(super) struct Evaluator<'b> {
    bindings: &'b Bindings,
    pub(super) kink_distance: f64,
    pub(super) meter: Meter,
    magnitude: f64,
}

impl<'b> Evaluator<'b> {
    pub(super) fn new(bindings: &'b Bindings) -> Evaluator<'b> {
        Evaluator {
            bindings,
            kink_distance: f64::INFINITY,
            meter: Meter::new(Budget::Evaluation),
            magnitude: 0.0,
        }
    }

    /// Records the arguments of a function with a kink at 0.
    pub(super) fn note_arguments<'a>(&mut self, func: Func, values: impl Iterator<Item = &'a f64>) {
        if has_kink(func) {
            for v in values {
                self.kink_distance = self.kink_distance.min(v.abs());
            }
        }
    }

    /// A concrete size for a written dimension.
    fn dim(&self, d: &DimSpec, span: Span) -> Result<usize, EvalError> {
        match d {
            DimSpec::Fixed(n) => Ok(*n),
            DimSpec::Named(name) => {
                self.bindings
                    .sizes
                    .get(name)
                    .copied()
                    .ok_or_else(|| EvalError::UnknownDimension {
                        name: name.clone(),
                        span,
                    })
            }
        }
    }

    /// Evaluates an expression whose size must be known here.
    pub(super) fn sized(&mut self, e: &Expr) -> Result<Array2<f64>, EvalError> {
        match self.matrix(e)? {
            Val::Mat(m) => Ok(m),
            Val::Fill { span, .. } => Err(EvalError::SizeNotInferred { span }),
        }
    }

    /// Evaluates an expression that must be a scalar (1×1).
    fn scalar_value(&mut self, e: &Expr, func: &'static str) -> Result<f64, EvalError> {
        let v = self.sized(e)?;
        if is_scalar(&v) {
            Ok(v[[0, 0]])
        } else {
            Err(EvalError::BadArgument {
                func,
                need: "a scalar",
                size: size_of(&v),
                span: e.span,
            })
        }
    }

    /// Evaluates `e` and records the size of its entries.
    fn matrix(&mut self, e: &Expr) -> Result<Val, EvalError> {
        let value = self.node(e)?;
        let largest = match &value {
            Val::Mat(m) => m.iter().fold(0.0f64, |acc, x| acc.max(x.abs())),
            Val::Fill { value, .. } => value.abs(),
        };
        self.magnitude = self.magnitude.max(largest);
        Ok(value)
    }

    fn node(&mut self, e: &Expr) -> Result<Val, EvalError> {
        let span = e.span;
        Ok(match &e.kind {
            ExprKind::Num(x) => Val::Mat(scalar(*x)),
            ExprKind::Var(name) => {
                let value =
                    self.bindings
                        .values
                        .get(name)
                        .ok_or_else(|| EvalError::UnknownVariable {
                            name: name.clone(),
                            span,
                        })?;
                self.meter
                    .spend(value.len() as f64, "this variable", span)?;
                Val::Mat(value.clone())
            }
            ExprKind::Neg(inner) => match self.matrix(inner)? {
                Val::Mat(m) => {
                    self.meter.spend(m.len() as f64, "this negation", span)?;
                    Val::Mat(-m)
                }
                Val::Fill { shape, value, span } => Val::Fill {
                    shape,
                    value: -value,
                    span,
                },
            },
            ExprKind::Transpose(inner) => match self.matrix(inner)? {
                Val::Mat(m) => Val::Mat(m.reversed_axes()),
                Val::Fill { shape, value, span } => Val::Fill {
                    shape: match shape {
                        Deferred::Column => Deferred::Row,
                        Deferred::Row => Deferred::Column,
                        Deferred::Matrix => Deferred::Matrix,
                    },
                    value,
                    span,
                },
            },
            ExprKind::Binary(op, a, b) => {
                let left = self.matrix(a)?;
                let right = self.matrix(b)?;
                match (op, &left, integer_exponent(b)) {
                    // MATLAB's matrix power X^k, as its product.
                    (BinOp::Pow, Val::Mat(x), Some(k)) if !is_scalar(x) && k != 0 => {
                        return self.node(&matrix_power(a, k, span));
                    }
                    _ => binary(*op, left, right, span, &mut self.meter)?,
                }
            }
            ExprKind::Call(func, arg) => {
                let x = self.sized(arg)?;
                Val::Mat(self.call(*func, x, span)?)
            }
            ExprKind::Fill { kind, value, size } => {
                let value = self.scalar_value(value, "vector")?;
                match size {
                    Some([rows, cols]) => {
                        let size = (self.dim(rows, span)?, self.dim(cols, span)?);
                        self.meter
                            .allocate(&[size.0, size.1], 1.0, "this constant", span)?;
                        Val::Mat(Array2::from_elem(size, value))
                    }
                    None => Val::Fill {
                        shape: match kind {
                            FillKind::Vector => Deferred::Column,
                            FillKind::Matrix => Deferred::Matrix,
                        },
                        value,
                        span,
                    },
                }
            }
            ExprKind::Const(kind, dims) => {
                let (rows, cols) = match dims.as_slice() {
                    [n] if *kind == ConstKind::Eye => (self.dim(n, span)?, self.dim(n, span)?),
                    [n] => (self.dim(n, span)?, 1),
                    [r, c] => (self.dim(r, span)?, self.dim(c, span)?),
                    _ => return Err(EvalError::SizeNotInferred { span }),
                };
                self.meter
                    .allocate(&[rows, cols], 1.0, "this constant", span)?;
                Val::Mat(match kind {
                    ConstKind::Eye => {
                        Array2::from_shape_fn((rows, cols), |(i, j)| f64::from(u8::from(i == j)))
                    }
                    ConstKind::Ones => Array2::ones((rows, cols)),
                    ConstKind::Zeros => Array2::zeros((rows, cols)),
                })
            }
            ExprKind::Size(of, axis) => {
                let v = self.sized(of)?;
                let n = match axis {
                    Axis::Columns => v.nrows(),
                    Axis::Rows => v.ncols(),
                };
                Val::Mat(scalar(n as f64))
            }
            ExprKind::Apply(name, args) => {
                let (loss, y) = self.abstract_argument(name, args, span)?;
                self.charge_loss(loss, &y, false, span)?;
                Val::Mat(scalar(loss.value(name, &y)))
            }
            ExprKind::Grad(name, args) | ExprKind::Hess(name, args) => {
                let (loss, y) = if args.is_empty() {
                    let loss = self.loss(name, span)?;
                    let y = self
                        .bindings
                        .loss_arguments
                        .get(name)
                        .cloned()
                        .ok_or_else(|| EvalError::AmbiguousGradient {
                            name: name.clone(),
                            span,
                        })?;
                    (loss, y)
                } else {
                    self.abstract_argument(name, args, span)?
                };
                self.charge_loss(loss, &y, true, span)?;
                Val::Mat(match e.kind {
                    ExprKind::Hess(..) => loss.hessian(name, &y),
                    _ => loss.gradient(name, &y),
                })
            }
            ExprKind::Index(..) | ExprKind::Delta(..) | ExprKind::IndexSum(..) => {
                return Err(EvalError::IndexOutsideIndexForm { span })
            }
        })
    }

    fn loss(&self, name: &str, span: Span) -> Result<Loss, EvalError> {
        self.bindings
            .loss
            .ok_or_else(|| EvalError::NoInstantiation {
                name: name.to_string(),
                span,
            })
    }

    /// Checks the arrays an instantiation builds for `y` and charges its
    /// value (or its gradient).
    fn charge_loss(
        &mut self,
        loss: Loss,
        y: &Array2<f64>,
        gradient: bool,
        span: Span,
    ) -> Result<(), EvalError> {
        let (largest, work) = loss.cost(y.nrows(), y.ncols(), gradient);
        super::limits::check_entries(&largest, "the instantiation's coupling matrix", span)?;
        self.meter.spend(work, "this abstract function", span)
    }

    /// The instantiation and the value of the single argument of `name(…)`.
    fn abstract_argument(
        &mut self,
        name: &str,
        args: &[Expr],
        span: Span,
    ) -> Result<(Loss, Array2<f64>), EvalError> {
        let loss = self.loss(name, span)?;
        match args {
            [arg] => Ok((loss, self.sized(arg)?)),
            _ => Err(EvalError::AbstractArity {
                name: name.to_string(),
                count: args.len(),
                span,
            }),
        }
    }

    /// The work of `func` on `x`, charged before it runs; a vector's `diag`
    /// is also checked as a new n×n array.
    fn charge_call(&mut self, func: Func, x: &Array2<f64>, span: Span) -> Result<(), EvalError> {
        let entries = x.len() as f64;
        let n = x.nrows() as f64;
        let what = format_args!("this call of `{}`", func.name());
        let work = match func {
            Func::Diag if x.ncols() == 1 || x.nrows() == 1 => {
                return self.meter.allocate(&[x.len(), x.len()], 1.0, what, span)
            }
            Func::Det | Func::Logdet => n * n * n,
            Func::Inv => 2.0 * n * n * n,
            Func::Softmax | Func::Logsumexp => 3.0 * entries,
            _ => entries,
        };
        self.meter.spend(work, what, span)
    }

    fn call(&mut self, func: Func, x: Array2<f64>, span: Span) -> Result<Array2<f64>, EvalError> {
        self.charge_call(func, &x, span)?;
        self.note_arguments(func, x.iter());
        if let Some(f) = elementwise(func) {
            return Ok(x.mapv(f));
        }
        let bad = |need: &'static str| EvalError::BadArgument {
            func: func.name(),
            need,
            size: size_of(&x),
            span,
        };
        let square = x.nrows() == x.ncols();
        Ok(match func {
            Func::Tr if square => scalar(x.diag().sum()),
            Func::Det if square => scalar(linalg::determinant(&x)),
            Func::Logdet if square => {
                let det = linalg::determinant(&x);
                if det > 0.0 {
                    scalar(det.ln())
                } else {
                    return Err(EvalError::NonPositiveDeterminant { det, span });
                }
            }
            Func::Inv if square => linalg::inverse(&x).ok_or(EvalError::Singular { span })?,
            Func::Tr | Func::Det | Func::Logdet | Func::Inv => return Err(bad("a square matrix")),
            Func::Diag if x.ncols() == 1 || x.nrows() == 1 => {
                let entries: Vec<f64> = x.iter().copied().collect();
                Array2::from_diag(&ndarray::Array1::from(entries))
            }
            Func::Diag if square => x.diag().to_owned().insert_axis(ndarray::Axis(1)),
            Func::Diag => return Err(bad("a vector or a square matrix")),
            Func::Sum => scalar(x.sum()),
            Func::Norm1 => scalar(x.iter().map(|v| v.abs()).sum()),
            Func::Norm2 => scalar(x.iter().map(|v| v * v).sum::<f64>().sqrt()),
            Func::Softmax if x.ncols() == 1 => {
                let max = x.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let e = x.mapv(|v| (v - max).exp());
                let total = e.sum();
                e / total
            }
            Func::Softmax => return Err(bad("a column vector")),
            Func::Logsumexp => {
                let max = x.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                if max.is_finite() {
                    scalar(max + x.iter().map(|v| (v - max).exp()).sum::<f64>().ln())
                } else {
                    scalar(x.iter().map(|v| v.exp()).sum::<f64>().ln())
                }
            }
            _ => return Err(bad("an argument it can take")),
        })
    }
}

/// Applies a binary operator, sizing a deferred fill from the other operand.
fn binary(
    op: BinOp,
    left: Val,
    right: Val,
    span: Span,
    meter: &mut Meter,
) -> Result<Val, EvalError> {
    match (left, right) {
        (Val::Mat(a), Val::Mat(b)) => Ok(Val::Mat(matrices(op, &a, &b, span, meter)?)),
        (Val::Fill { .. }, Val::Fill { .. }) => Err(EvalError::SizeNotInferred { span }),
        (
            Val::Fill {
                shape,
                value,
                span: fill_span,
            },
            Val::Mat(m),
        ) => with_fill(op, (shape, value, fill_span), m, true, span, meter),
        (
            Val::Mat(m),
            Val::Fill {
                shape,
                value,
                span: fill_span,
            },
        ) => with_fill(op, (shape, value, fill_span), m, false, span, meter),
    }
}

/// `fill op m` (or `m op fill` when `fill_left` is false).
fn with_fill(
    op: BinOp,
    (shape, value, fill_span): (Deferred, f64, Span),
    m: Array2<f64>,
    fill_left: bool,
    span: Span,
    meter: &mut Meter,
) -> Result<Val, EvalError> {
    let f = scalar_op(op);
    let ordered = |x: f64, y: f64| if fill_left { f(x, y) } else { f(y, x) };
    let keeps_deferred =
        is_elementwise_op(op) || op == BinOp::Mul || (op == BinOp::Div && fill_left);
    if is_scalar(&m) && keeps_deferred {
        return Ok(Val::Fill {
            shape,
            value: ordered(value, m[[0, 0]]),
            span: fill_span,
        });
    }
    let size = match (op, shape, fill_left) {
        _ if is_elementwise_op(op) => m.dim(),
        (BinOp::Mul, Deferred::Column, false) => (m.ncols(), 1),
        (BinOp::Mul, Deferred::Row, true) => (1, m.nrows()),
        _ => return Err(EvalError::SizeNotInferred { span: fill_span }),
    };
    meter.allocate(&[size.0, size.1], 1.0, "this constant", fill_span)?;
    let fill = Array2::from_elem(size, value);
    let (a, b) = if fill_left { (&fill, &m) } else { (&m, &fill) };
    Ok(Val::Mat(matrices(op, a, b, span, meter)?))
}

/// A binary operator on two concrete matrices; a product's result is
/// checked and its `2nkm` operations charged before it is formed.
fn matrices(
    op: BinOp,
    a: &Array2<f64>,
    b: &Array2<f64>,
    span: Span,
    meter: &mut Meter,
) -> Result<Array2<f64>, EvalError> {
    let mismatch = || EvalError::ShapeMismatch {
        op: op.symbol(),
        left: size_of(a),
        right: size_of(b),
        span,
    };
    let f = scalar_op(op);
    if op == BinOp::Mul && !is_scalar(a) && !is_scalar(b) && a.ncols() == b.nrows() {
        let per_entry = 2.0 * a.ncols() as f64;
        meter.allocate(&[a.nrows(), b.ncols()], per_entry, "this product", span)?;
    } else {
        let entries = a.len().max(b.len()) as f64;
        meter.spend(entries, format_args!("this `{}`", op.symbol()), span)?;
    }
    match op {
        BinOp::Mul if is_scalar(a) => Ok(b.mapv(|x| a[[0, 0]] * x)),
        BinOp::Mul if is_scalar(b) => Ok(a.mapv(|x| x * b[[0, 0]])),
        BinOp::Mul if a.ncols() == b.nrows() => Ok(a.dot(b)),
        BinOp::Div | BinOp::Pow if is_scalar(b) && (op == BinOp::Div || is_scalar(a)) => {
            Ok(a.mapv(|x| f(x, b[[0, 0]])))
        }
        BinOp::Mul | BinOp::Div | BinOp::Pow => Err(mismatch()),
        _ => {
            let shape = broadcast_shape(a.dim(), b.dim()).ok_or_else(mismatch)?;
            let a = a.broadcast(shape).ok_or_else(mismatch)?;
            let b = b.broadcast(shape).ok_or_else(mismatch)?;
            Ok(Zip::from(&a).and(&b).map_collect(|&x, &y| f(x, y)))
        }
    }
}
