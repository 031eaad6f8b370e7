//! Expansion of matrix expressions into matrices of exact scalars, with
//! the semantics of the numeric evaluator (corpus README): scalars are
//! 1×1, vectors n×1; element-wise operators broadcast a scalar against
//! anything and a 1×m row against an n×m matrix; a `vector(c)` or
//! `matrix(c)` without a known size stays deferred until an operand or the
//! required result shape fixes it.
//!
//! Invariant: never panics on any input; every failure is an
//! [`ExactError`] with the span of the offending node.

use std::collections::BTreeMap;

use num_bigint::BigInt;
use num_rational::BigRational;

use super::atom::AtomRef;
use super::context::Context;
use super::error::ExactError;
use super::linalg::{
    determinant, inverse, is_scalar, map, matrices, matrix_from_fn, scalar_matrix, size_of, sum,
    transpose, Matrix,
};
use super::scalar::Scalar;
use super::tensor::Tensor;
use crate::syntax::{
    integer_exponent, matrix_power, Axis, BinOp, ConstKind, DimSpec, Expr, ExprKind, FillKind,
    Func, Span,
};

/// What an expression is expanded against.
pub(super) struct Env<'c> {
    /// The atoms, budget and caches.
    pub cx: &'c Context,
    /// The entries of each variable (scalars 1×1, vectors n×1).
    pub values: &'c BTreeMap<String, Matrix>,
    /// Concrete sizes of symbolic dimensions such as `n` in `eye(n)`.
    pub sizes: &'c BTreeMap<String, usize>,
    /// For a bare gradient `dL`: the loss atom of the single `L(…)` call
    /// of the differentiated expression, by function name.
    pub losses: &'c BTreeMap<String, AtomRef>,
}

/// The exact rational value of a literal, read from its shortest decimal
/// text (so `0.1` is 1/10, not the nearest binary fraction).
pub(super) fn literal(x: f64, span: Span) -> Result<BigRational, ExactError> {
    if !x.is_finite() {
        return Err(ExactError::BadNumber { value: x, span });
    }
    let text = format!("{x}");
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.as_str()),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let numer: BigInt = format!("{whole}{fraction}")
        .parse()
        .map_err(|_| ExactError::BadNumber { value: x, span })?;
    let denom = num_traits::pow(BigInt::from(10), fraction.len());
    let value = BigRational::new(numer, denom);
    Ok(if negative { -value } else { value })
}

/// The orientation of a constant whose size is not yet known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Deferred {
    Column,
    Row,
    Matrix,
}

/// A value: a concrete matrix, or a constant fill of unknown size.
#[derive(Clone, Debug)]
pub(super) enum Val {
    Mat(Matrix),
    Fill {
        shape: Deferred,
        value: Scalar,
        span: Span,
    },
}

impl Val {
    /// The value as the whole result, sizing a deferred fill by the layout
    /// dims (`[]`, `[n]` or `[r, c]`).
    pub(super) fn into_result(
        self,
        cx: &Context,
        dims: Option<&[usize]>,
        span: Span,
    ) -> Result<Matrix, ExactError> {
        match self {
            Val::Mat(m) => Ok(m),
            Val::Fill { shape, value, .. } => {
                let (rows, cols) = match dims {
                    Some([]) => (1, 1),
                    Some([n]) => (*n, 1),
                    Some([r, c]) => (*r, *c),
                    _ => return Err(ExactError::SizeNotInferred { span }),
                };
                let (rows, cols) = if shape == Deferred::Row {
                    (cols, rows)
                } else {
                    (rows, cols)
                };
                cx.meter.check_size(&[rows, cols])?;
                Ok(Tensor::filled(vec![rows, cols], value))
            }
        }
    }
}

fn is_elementwise_op(op: BinOp) -> bool {
    matches!(
        op,
        BinOp::Add | BinOp::Sub | BinOp::HadMul | BinOp::HadDiv | BinOp::HadPow
    )
}

impl Env<'_> {
    /// A concrete size for a written dimension.
    fn dim(&self, d: &DimSpec, span: Span) -> Result<usize, ExactError> {
        match d {
            DimSpec::Fixed(n) => Ok(*n),
            DimSpec::Named(name) => {
                self.sizes
                    .get(name)
                    .copied()
                    .ok_or_else(|| ExactError::UnknownDimension {
                        name: name.clone(),
                        span,
                    })
            }
        }
    }

    /// Expands an expression whose size must be known here.
    pub(super) fn sized(&self, e: &Expr) -> Result<Matrix, ExactError> {
        match self.value(e)? {
            Val::Mat(m) => Ok(m),
            Val::Fill { span, .. } => Err(ExactError::SizeNotInferred { span }),
        }
    }

    /// Expands an expression that must be a scalar.
    fn scalar_value(&self, e: &Expr, func: &'static str) -> Result<Scalar, ExactError> {
        let v = self.sized(e)?;
        if is_scalar(&v) {
            Ok(v.at(0, 0).clone())
        } else {
            Err(ExactError::BadArgument {
                func,
                need: "a scalar",
                size: size_of(&v),
                span: e.span,
            })
        }
    }

    /// Expands an expression, keeping a fill of unknown size deferred.
    pub(super) fn value(&self, e: &Expr) -> Result<Val, ExactError> {
        let span = e.span;
        Ok(match &e.kind {
            ExprKind::Num(x) => Val::Mat(scalar_matrix(Scalar::constant(literal(*x, span)?))),
            ExprKind::Var(name) => Val::Mat(self.values.get(name).cloned().ok_or_else(|| {
                ExactError::UnknownVariable {
                    name: name.clone(),
                    span,
                }
            })?),
            ExprKind::Neg(inner) => match self.value(inner)? {
                Val::Mat(m) => Val::Mat(map(self.cx, &m, |x| Ok(x.neg()))?),
                Val::Fill { shape, value, span } => Val::Fill {
                    shape,
                    value: value.neg(),
                    span,
                },
            },
            ExprKind::Transpose(inner) => match self.value(inner)? {
                Val::Mat(m) => Val::Mat(transpose(&m)),
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
                let left = self.value(a)?;
                let right = self.value(b)?;
                match (op, &left, integer_exponent(b)) {
                    // MATLAB's matrix power X^k, as its product.
                    (BinOp::Pow, Val::Mat(x), Some(k)) if !is_scalar(x) && k != 0 => {
                        return self.value(&matrix_power(a, k, span));
                    }
                    _ => self.binary(*op, left, right, span)?,
                }
            }
            ExprKind::Call(func, arg) => {
                let x = self.sized(arg)?;
                Val::Mat(self.call(*func, &x, span)?)
            }
            ExprKind::Fill { kind, value, size } => {
                let value = self.scalar_value(value, "vector")?;
                match size {
                    Some([rows, cols]) => {
                        let shape = vec![self.dim(rows, span)?, self.dim(cols, span)?];
                        self.cx.meter.check_size(&shape)?;
                        Val::Mat(Tensor::filled(shape, value))
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
                    _ => return Err(ExactError::SizeNotInferred { span }),
                };
                Val::Mat(matrix_from_fn(self.cx, rows, cols, |i, j| {
                    Ok(match kind {
                        ConstKind::Eye if i == j => Scalar::one(),
                        ConstKind::Ones => Scalar::one(),
                        _ => Scalar::zero(),
                    })
                })?)
            }
            ExprKind::Size(of, axis) => {
                let v = self.sized(of)?;
                let n = match axis {
                    Axis::Columns => v.rows(),
                    Axis::Rows => v.cols(),
                };
                Val::Mat(scalar_matrix(Scalar::constant(literal(n as f64, span)?)))
            }
            ExprKind::Apply(name, args) => {
                let loss = self.loss_of(name, args, span)?;
                Val::Mat(scalar_matrix(Scalar::atom(loss)))
            }
            ExprKind::Grad(name, args) => {
                let loss = if args.is_empty() {
                    self.losses
                        .get(name)
                        .cloned()
                        .ok_or_else(|| ExactError::AmbiguousGradient {
                            name: name.clone(),
                            span,
                        })?
                } else {
                    self.loss_of(name, args, span)?
                };
                Val::Mat(self.gradient(&loss))
            }
            ExprKind::Hess(..) => {
                return Err(ExactError::NoExactForm {
                    what: "the Hessian d2L of an abstract function",
                })
            }
            ExprKind::Index(..) | ExprKind::Delta(..) | ExprKind::IndexSum(..) => {
                return Err(ExactError::IndexOutsideIndexForm { span })
            }
        })
    }

    /// The loss atom of `name(arg)`.
    pub(super) fn loss_of(
        &self,
        name: &str,
        args: &[Expr],
        span: Span,
    ) -> Result<AtomRef, ExactError> {
        let [arg] = args else {
            return Err(ExactError::AbstractArity {
                name: name.to_string(),
                count: args.len(),
                span,
            });
        };
        let value = self.sized(arg)?;
        let hint = match &arg.kind {
            ExprKind::Var(var) => Some(var.as_str()),
            _ => None,
        };
        let shape = (value.rows(), value.cols());
        Ok(self.cx.loss_atom(name, hint, shape, value.into_data()))
    }

    /// The matrix of gradient atoms of a loss atom (the argument's shape).
    fn gradient(&self, loss: &AtomRef) -> Matrix {
        let (rows, cols) = match loss.kind() {
            super::atom::AtomKind::Loss { shape, .. } => *shape,
            _ => (1, 1),
        };
        let data = (0..rows)
            .flat_map(|i| (0..cols).map(move |j| (i, j)))
            .map(|(i, j)| Scalar::atom(self.cx.grad_atom(loss, i, j)))
            .collect();
        Tensor::new(vec![rows, cols], data)
            .unwrap_or_else(|| Tensor::filled(vec![1, 1], Scalar::zero()))
    }

    fn call(&self, func: Func, x: &Matrix, span: Span) -> Result<Matrix, ExactError> {
        let cx = self.cx;
        let at = |e: ExactError| e.at(span);
        if func.is_elementwise() {
            return map(cx, x, |v| cx.apply(func, v)).map_err(at);
        }
        let bad = |need: &'static str| ExactError::BadArgument {
            func: func.name(),
            need,
            size: size_of(x),
            span,
        };
        let square = x.rows() == x.cols();
        let scalar = |s: Result<Scalar, ExactError>| s.map(scalar_matrix).map_err(at);
        match func {
            Func::Tr if square => {
                let diagonal = (0..x.rows()).map(|i| x.at(i, i).clone());
                scalar(
                    diagonal
                        .into_iter()
                        .try_fold(Scalar::zero(), |acc, d| cx.add(&acc, &d)),
                )
            }
            Func::Det if square => scalar(determinant(cx, x)),
            Func::Logdet if square => {
                let det = determinant(cx, x)?;
                scalar(cx.apply(Func::Log, &det))
            }
            Func::Inv if square => inverse(cx, x, span),
            Func::Tr | Func::Det | Func::Logdet | Func::Inv => Err(bad("a square matrix")),
            Func::Diag if x.cols() == 1 || x.rows() == 1 => {
                let entries = x.data();
                let n = entries.len();
                matrix_from_fn(cx, n, n, |i, j| {
                    Ok(if i == j {
                        entries[i].clone()
                    } else {
                        Scalar::zero()
                    })
                })
            }
            Func::Diag if square => matrix_from_fn(cx, x.rows(), 1, |i, _| Ok(x.at(i, i).clone())),
            Func::Diag => Err(bad("a vector or a square matrix")),
            Func::Sum => scalar(sum(cx, x)),
            Func::Norm1 => {
                let abs = map(cx, x, |v| cx.apply(Func::Abs, v))?;
                scalar(sum(cx, &abs))
            }
            Func::Norm2 => {
                let squares = map(cx, x, |v| cx.mul(v, v))?;
                let total = sum(cx, &squares)?;
                scalar(cx.apply(Func::Sqrt, &total))
            }
            Func::Softmax if x.cols() == 1 => {
                let exps = map(cx, x, |v| cx.exp(v))?;
                let total = sum(cx, &exps)?;
                let scale = cx.inv(&total)?;
                map(cx, &exps, |e| cx.mul(e, &scale))
            }
            Func::Softmax => Err(bad("a column vector")),
            Func::Logsumexp => {
                let exps = map(cx, x, |v| cx.exp(v))?;
                let total = sum(cx, &exps)?;
                scalar(cx.apply(Func::Log, &total))
            }
            _ => Err(bad("an argument it can take")),
        }
    }

    /// Applies a binary operator, sizing a deferred fill from the other
    /// operand.
    fn binary(&self, op: BinOp, left: Val, right: Val, span: Span) -> Result<Val, ExactError> {
        match (left, right) {
            (Val::Mat(a), Val::Mat(b)) => Ok(Val::Mat(matrices(self.cx, op, &a, &b, span)?)),
            (Val::Fill { .. }, Val::Fill { .. }) => Err(ExactError::SizeNotInferred { span }),
            (
                Val::Fill {
                    shape,
                    value,
                    span: fill_span,
                },
                Val::Mat(m),
            ) => self.with_fill(op, (shape, value, fill_span), m, true, span),
            (
                Val::Mat(m),
                Val::Fill {
                    shape,
                    value,
                    span: fill_span,
                },
            ) => self.with_fill(op, (shape, value, fill_span), m, false, span),
        }
    }

    /// `fill op m` (or `m op fill` when `fill_left` is false).
    fn with_fill(
        &self,
        op: BinOp,
        (shape, value, fill_span): (Deferred, Scalar, Span),
        m: Matrix,
        fill_left: bool,
        span: Span,
    ) -> Result<Val, ExactError> {
        let keeps_deferred =
            is_elementwise_op(op) || op == BinOp::Mul || (op == BinOp::Div && fill_left);
        if is_scalar(&m) && keeps_deferred {
            let other = m.at(0, 0);
            let value = if fill_left {
                super::linalg::scalar_op(self.cx, op, &value, other)
            } else {
                super::linalg::scalar_op(self.cx, op, other, &value)
            }
            .map_err(|e| e.at(span))?;
            return Ok(Val::Fill {
                shape,
                value,
                span: fill_span,
            });
        }
        let size = match (op, shape, fill_left) {
            _ if is_elementwise_op(op) => (m.rows(), m.cols()),
            (BinOp::Mul, Deferred::Column, false) => (m.cols(), 1),
            (BinOp::Mul, Deferred::Row, true) => (1, m.rows()),
            _ => return Err(ExactError::SizeNotInferred { span: fill_span }),
        };
        let fill = Tensor::filled(vec![size.0, size.1], value);
        let (a, b) = if fill_left { (&fill, &m) } else { (&m, &fill) };
        Ok(Val::Mat(matrices(self.cx, op, a, b, span)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_traits::{One, Zero};

    #[test]
    fn literals_are_read_from_their_decimal_text() {
        let tenth = literal(0.1, Span::NONE).unwrap();
        assert_eq!(tenth, BigRational::new(1.into(), 10.into()));
        assert_eq!(
            literal(2.5, Span::NONE).unwrap(),
            BigRational::new(5.into(), 2.into())
        );
        assert_eq!(
            literal(1e-5, Span::NONE).unwrap(),
            BigRational::new(1.into(), 100_000.into())
        );
        assert!(literal(3.0, Span::NONE).unwrap().is_integer());
        assert!(literal(0.0, Span::NONE).unwrap().is_zero());
        assert!(literal(1.0, Span::NONE).unwrap().is_one());
        assert!(literal(f64::NAN, Span::NONE).is_err());
    }
}
