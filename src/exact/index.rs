//! Expansion of index-notation forms `G[i,j,…] = body` into tensors of
//! exact scalars, with the numeric evaluator's semantics (corpus README,
//! "Index notation"): every subexpression is a tensor with one named axis
//! per free index; a product joins its operands on shared labels and counts
//! how often each occurred; at the nearest `+`/`-`, function argument,
//! `sum[...]` body or end of the body, a label that occurred twice and is
//! neither on the left-hand side nor bound by an enclosing `sum[...]` is
//! summed (Einstein's convention).
//!
//! Invariant: index-free subexpressions are expanded by the matrix
//! evaluator; a matrix that is not indexed must be 1×1. Never panics.

use std::collections::BTreeMap;

use num_bigint::BigInt;
use num_rational::BigRational;

use super::error::ExactError;
use super::eval::Env;
use super::linalg::{scalar_op, size_of, Matrix};
use super::scalar::Scalar;
use super::tensor::{indices, Tensor};
use crate::syntax::{BinOp, Expr, ExprKind, Span};

/// A tensor whose axes are named by indices, with each index's occurrence
/// count in the current product.
#[derive(Clone, Debug)]
struct Labelled {
    data: Tensor<Scalar>,
    labels: Vec<String>,
    counts: Vec<usize>,
}

impl Labelled {
    fn scalar(x: Scalar) -> Labelled {
        Labelled {
            data: Tensor::filled(Vec::new(), x),
            labels: Vec::new(),
            counts: Vec::new(),
        }
    }
}

/// True when `e` contains indexing, `delta` or `sum[...]`.
fn uses_indices(e: &Expr) -> bool {
    matches!(
        e.kind,
        ExprKind::Index(..) | ExprKind::Delta(..) | ExprKind::IndexSum(..)
    ) || e.children().into_iter().any(uses_indices)
}

/// The axis lengths a matrix offers to `count` indices: two for a matrix,
/// one for a column or a row.
fn axes_of(value: &Matrix, count: usize, span: Span) -> Result<Vec<usize>, ExactError> {
    let (rows, cols) = (value.rows(), value.cols());
    match count {
        2 => Ok(vec![rows, cols]),
        1 if cols == 1 => Ok(vec![rows]),
        1 if rows == 1 => Ok(vec![cols]),
        _ => Err(ExactError::IndexArity {
            size: size_of(value),
            count,
            span,
        }),
    }
}

/// Expands index forms on top of a matrix environment.
pub(super) struct IndexEvaluator<'e, 'c> {
    env: &'e Env<'c>,
    dims: BTreeMap<String, usize>,
    bound: Vec<String>,
}

impl<'e, 'c> IndexEvaluator<'e, 'c> {
    pub(super) fn new(env: &'e Env<'c>) -> IndexEvaluator<'e, 'c> {
        IndexEvaluator {
            env,
            dims: BTreeMap::new(),
            bound: Vec::new(),
        }
    }

    /// Expands `lhs = body` to a tensor with one axis per `lhs` index. The
    /// indexed values fix the ranges; `result_dims` only sizes
    /// left-hand-side indices that nothing indexed determines.
    pub(super) fn formula(
        &mut self,
        lhs: &[String],
        body: &Expr,
        result_dims: Option<&[usize]>,
    ) -> Result<Tensor<Scalar>, ExactError> {
        self.collect_dims(body)?;
        if let Some(dims) = result_dims.filter(|d| d.len() == lhs.len()) {
            for (index, &n) in lhs.iter().zip(dims) {
                self.dims.entry(index.clone()).or_insert(n);
            }
        }
        let shape: Vec<usize> = lhs
            .iter()
            .map(|i| self.dim(i, body.span))
            .collect::<Result<_, _>>()?;
        self.env.cx.meter.check_size(&shape)?;
        self.bound = lhs.to_vec();
        let value = self.labelled(body)?;
        let value = self.close(value, body.span)?;
        if let Some(free) = value.labels.iter().find(|l| !lhs.contains(l)) {
            return Err(ExactError::UnboundIndex {
                index: free.clone(),
                span: body.span,
            });
        }
        Ok(arrange(&value, lhs, shape))
    }

    fn record(&mut self, index: &str, n: usize, span: Span) -> Result<(), ExactError> {
        match self.dims.get(index) {
            Some(&m) if m != n => Err(ExactError::IndexDimConflict {
                index: index.to_string(),
                first: m,
                second: n,
                span,
            }),
            _ => {
                self.dims.insert(index.to_string(), n);
                Ok(())
            }
        }
    }

    fn dim(&self, index: &str, span: Span) -> Result<usize, ExactError> {
        self.dims
            .get(index)
            .copied()
            .ok_or_else(|| ExactError::IndexDimUnknown {
                index: index.to_string(),
                span,
            })
    }

    /// Learns the range of every index from the values it indexes.
    fn collect_dims(&mut self, e: &Expr) -> Result<(), ExactError> {
        if let ExprKind::Index(base, idx) = &e.kind {
            let value = self.env.sized(base)?;
            let axes = axes_of(&value, idx.len(), e.span)?;
            for (index, n) in idx.iter().zip(axes) {
                self.record(index, n, e.span)?;
            }
            return Ok(());
        }
        e.children()
            .into_iter()
            .try_for_each(|child| self.collect_dims(child))
    }

    fn labelled(&mut self, e: &Expr) -> Result<Labelled, ExactError> {
        let span = e.span;
        let cx = self.env.cx;
        if !uses_indices(e) {
            let value = self.env.sized(e)?;
            return if value.rows() == 1 && value.cols() == 1 {
                Ok(Labelled::scalar(value.at(0, 0).clone()))
            } else {
                Err(ExactError::IndexArity {
                    size: size_of(&value),
                    count: 0,
                    span,
                })
            };
        }
        match &e.kind {
            ExprKind::Index(base, idx) => {
                let value = self.env.sized(base)?;
                let axes = axes_of(&value, idx.len(), span)?;
                let size = size_of(&value);
                let data = value.reshaped(axes).ok_or(ExactError::IndexArity {
                    size,
                    count: idx.len(),
                    span,
                })?;
                Ok(join_axes(&data, idx))
            }
            ExprKind::Delta(i, j) => {
                let n = self.dim(i, span)?;
                let m = self.dim(j, span)?;
                cx.meter.check_size(&[n, m])?;
                let eye = Tensor::try_from_fn(vec![n, m], |at| {
                    Ok::<_, ExactError>(if at[0] == at[1] {
                        Scalar::one()
                    } else {
                        Scalar::zero()
                    })
                })?;
                Ok(join_axes(&eye, &[i.clone(), j.clone()]))
            }
            ExprKind::IndexSum(summed, body) => {
                let depth = self.bound.len();
                self.bound.extend(summed.iter().cloned());
                let inner = self.labelled(body).and_then(|v| self.close(v, body.span));
                self.bound.truncate(depth);
                let mut value = inner?;
                for index in summed {
                    value = match value.labels.iter().position(|l| l == index) {
                        Some(axis) => remove_axis(self.env, value, axis)?,
                        None => {
                            let n = self.dim(index, span)?;
                            let factor = BigRational::from_integer(BigInt::from(n));
                            let data = map_tensor(&value.data, |x| Ok(cx.scale(x, &factor)))?;
                            Labelled { data, ..value }
                        }
                    };
                }
                Ok(value)
            }
            ExprKind::Neg(inner) => {
                let value = self.labelled(inner)?;
                let data = map_tensor(&value.data, |x| Ok(x.neg()))?;
                Ok(Labelled { data, ..value })
            }
            ExprKind::Binary(op, a, b) => {
                let left = self.labelled(a)?;
                let right = self.labelled(b)?;
                let f =
                    |x: &Scalar, y: &Scalar| scalar_op(cx, *op, x, y).map_err(|err| err.at(span));
                if matches!(op, BinOp::Add | BinOp::Sub) {
                    let left = self.close(left, a.span)?;
                    let right = self.close(right, b.span)?;
                    combine(self.env, &left, &right, f, usize::max)
                } else {
                    combine(self.env, &left, &right, f, |x, y| x + y)
                }
            }
            ExprKind::Call(func, arg) if func.is_elementwise() => {
                let value = self.labelled(arg)?;
                let value = self.close(value, arg.span)?;
                let data = map_tensor(&value.data, |x| {
                    cx.apply(*func, x).map_err(|err| err.at(span))
                })?;
                Ok(Labelled { data, ..value })
            }
            ExprKind::Call(func, _) => Err(ExactError::NotElementwise {
                func: func.name().to_string(),
                span,
            }),
            ExprKind::Transpose(_) => Err(ExactError::NotElementwise {
                func: "'".to_string(),
                span,
            }),
            ExprKind::Size(..) => Err(ExactError::NotElementwise {
                func: "size".to_string(),
                span,
            }),
            ExprKind::Apply(name, _) | ExprKind::Grad(name, _) | ExprKind::Hess(name, _) => {
                Err(ExactError::NotElementwise {
                    func: name.clone(),
                    span,
                })
            }
            ExprKind::Fill { .. } => Err(ExactError::NotElementwise {
                func: "vector".to_string(),
                span,
            }),
            ExprKind::Num(_) | ExprKind::Var(_) | ExprKind::Const(..) => {
                Err(ExactError::IndexOutsideIndexForm { span })
            }
        }
    }

    /// Sums every label that occurred twice and is not bound.
    fn close(&self, mut value: Labelled, span: Span) -> Result<Labelled, ExactError> {
        let mut axis = 0;
        while axis < value.labels.len() {
            let label = &value.labels[axis];
            let count = value.counts[axis];
            if count >= 2 && !self.bound.contains(label) {
                if count > 2 {
                    return Err(ExactError::IndexRepeated {
                        index: label.clone(),
                        count,
                        span,
                    });
                }
                value = remove_axis(self.env, value, axis)?;
            } else {
                axis += 1;
            }
        }
        Ok(value)
    }
}

fn map_tensor(
    t: &Tensor<Scalar>,
    mut f: impl FnMut(&Scalar) -> Result<Scalar, ExactError>,
) -> Result<Tensor<Scalar>, ExactError> {
    let data = t.data().iter().map(&mut f).collect::<Result<Vec<_>, _>>()?;
    Tensor::new(t.shape().to_vec(), data).ok_or(ExactError::BadProblem {
        message: "a tensor lost its shape".to_string(),
    })
}

/// Labels the axes of `data`; an index repeated on one value (`X[i,i]`)
/// takes the diagonal and counts twice.
fn join_axes(data: &Tensor<Scalar>, idx: &[String]) -> Labelled {
    let mut labels: Vec<String> = Vec::new();
    let mut counts = Vec::new();
    let mut position = Vec::new();
    for index in idx {
        match labels.iter().position(|l| l == index) {
            Some(p) => {
                counts[p] += 1;
                position.push(p);
            }
            None => {
                position.push(labels.len());
                labels.push(index.clone());
                counts.push(1);
            }
        }
    }
    let mut shape = vec![0; labels.len()];
    for (axis, &p) in position.iter().enumerate() {
        shape[p] = data.shape()[axis];
    }
    let data = Tensor::try_from_fn(shape, |at| {
        let source: Vec<usize> = position.iter().map(|&p| at[p]).collect();
        data.get(&source).cloned().ok_or(())
    })
    .unwrap_or_else(|()| Tensor::filled(Vec::new(), Scalar::zero()));
    Labelled {
        data,
        labels,
        counts,
    }
}

/// Combines two labelled tensors entry by entry over the union of their
/// labels, joining shared labels.
fn combine(
    env: &Env<'_>,
    left: &Labelled,
    right: &Labelled,
    f: impl Fn(&Scalar, &Scalar) -> Result<Scalar, ExactError>,
    count: fn(usize, usize) -> usize,
) -> Result<Labelled, ExactError> {
    let mut labels = left.labels.clone();
    let mut counts = left.counts.clone();
    let mut shape: Vec<usize> = left.data.shape().to_vec();
    let mut right_position = Vec::new();
    for (axis, label) in right.labels.iter().enumerate() {
        match labels.iter().position(|l| l == label) {
            Some(p) => {
                counts[p] = count(counts[p], right.counts[axis]);
                right_position.push(p);
            }
            None => {
                right_position.push(labels.len());
                labels.push(label.clone());
                counts.push(count(0, right.counts[axis]));
                shape.push(right.data.shape()[axis]);
            }
        }
    }
    env.cx.meter.check_size(&shape)?;
    let left_rank = left.labels.len();
    let data = Tensor::try_from_fn(shape, |at| {
        let l = &at[..left_rank];
        let r: Vec<usize> = right_position.iter().map(|&p| at[p]).collect();
        match (left.data.get(l), right.data.get(&r)) {
            (Some(x), Some(y)) => f(x, y),
            _ => Err(ExactError::BadProblem {
                message: "index ranges disagree".to_string(),
            }),
        }
    })?;
    Ok(Labelled {
        data,
        labels,
        counts,
    })
}

/// Sums the tensor over one axis.
fn remove_axis(env: &Env<'_>, mut value: Labelled, axis: usize) -> Result<Labelled, ExactError> {
    let shape = value.data.shape().to_vec();
    let mut kept = shape.clone();
    kept.remove(axis);
    let data = Tensor::try_from_fn(kept, |at| {
        let mut total = Scalar::zero();
        for k in 0..shape[axis] {
            let mut source = at.to_vec();
            source.insert(axis, k);
            if let Some(x) = value.data.get(&source) {
                total = env.cx.add(&total, x)?;
            }
        }
        Ok::<_, ExactError>(total)
    })?;
    value.labels.remove(axis);
    value.counts.remove(axis);
    Ok(Labelled { data, ..value })
}

/// Lays a labelled tensor out with axes in `order`, repeating it along any
/// index it does not depend on.
fn arrange(value: &Labelled, order: &[String], shape: Vec<usize>) -> Tensor<Scalar> {
    let source_axis: Vec<usize> = value
        .labels
        .iter()
        .map(|l| order.iter().position(|o| o == l).unwrap_or(0))
        .collect();
    let data = indices(&shape)
        .map(|at| {
            let source: Vec<usize> = source_axis.iter().map(|&p| at[p]).collect();
            value.data.get(&source).cloned().unwrap_or_default()
        })
        .collect();
    Tensor::new(shape.clone(), data).unwrap_or_else(|| Tensor::filled(shape, Scalar::zero()))
}
