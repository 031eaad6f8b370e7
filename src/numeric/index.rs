//! Evaluation of index-notation results `G[i,j,…] = body` to tensors.
//!
//! Inside the body every subexpression is a *labelled tensor*: an array
//! with one named axis per free index. A product joins its operands on
//! shared labels and counts how often each label occurred; at the nearest
//! `+`/`-`, function argument, `sum[...]` body or end of the body, a label
//! that occurred twice and is neither on the left-hand side nor bound by an
//! enclosing `sum[...]` is summed (Einstein's convention). Explicit
//! `sum[p](…)` sums p. So an elaborated formula (implicit sums made
//! explicit by the shape layer) and a plain one evaluate alike.
//!
//! A product is formed in full over the union of its operands' indices
//! before any index is summed, so the product of all index ranges of an
//! Einstein product is the entry count of a tensor: checking every tensor
//! against [`MAX_ENTRIES`](super::MAX_ENTRIES) before forming it, and
//! charging [`INDEX_ENTRY_WORK`] per entry to the evaluation's budget, bounds
//! both the memory and the loops.
//!
//! Invariant: index-free subexpressions are evaluated by the matrix
//! evaluator; a matrix that is not indexed must be 1×1. Never panics.

use std::collections::BTreeMap;

use ndarray::{Array2, ArrayD, IxDyn};

use super::error::{EvalError, Size};
use super::eval::{elementwise, scalar_op, Evaluator};
use super::limits::INDEX_ENTRY_WORK;
use crate::syntax::{BinOp, Expr, ExprKind, IndexLhs, Span};

/// A tensor whose axes are named by indices, with each index's occurrence
/// count in the current product.
#[derive(Clone, Debug)]
struct Labelled {
    data: ArrayD<f64>,
    labels: Vec<String>,
    counts: Vec<usize>,
}

impl Labelled {
    fn scalar(x: f64) -> Labelled {
        Labelled {
            data: ArrayD::from_elem(IxDyn(&[]), x),
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

/// Evaluates index forms on top of a matrix evaluator.
pub(super) struct IndexEvaluator<'e, 'b> {
    matrix: &'e mut Evaluator<'b>,
    dims: BTreeMap<String, usize>,
    bound: Vec<String>,
}

impl<'e, 'b> IndexEvaluator<'e, 'b> {
    pub(super) fn new(matrix: &'e mut Evaluator<'b>) -> IndexEvaluator<'e, 'b> {
        IndexEvaluator {
            matrix,
            dims: BTreeMap::new(),
            bound: Vec::new(),
        }
    }

    /// Evaluates `lhs = body` to an array with one axis per `lhs` index.
    /// The indexed values fix the ranges; `result_dims` only sizes
    /// left-hand-side indices that nothing indexed determines.
    pub(super) fn formula(
        &mut self,
        result: &IndexLhs,
        body: &Expr,
        result_dims: Option<&[usize]>,
    ) -> Result<ArrayD<f64>, EvalError> {
        let lhs = result.indices.as_slice();
        self.collect_dims(body)?;
        if let Some(dims) = result_dims.filter(|d| d.len() == lhs.len()) {
            for (index, &n) in lhs.iter().zip(dims) {
                self.dims.entry(index.clone()).or_insert(n);
            }
        }
        while self.delta_dims(body) {}
        let shape: Vec<usize> = lhs
            .iter()
            .map(|i| self.dim(i, body.span))
            .collect::<Result<_, _>>()?;
        let what = format_args!("the result {}[{}]", result.name, lhs.join(","));
        self.matrix
            .meter
            .allocate(&shape, INDEX_ENTRY_WORK, what, result.span)?;
        self.bound = lhs.to_vec();
        let value = self.labelled(body)?;
        let value = self.close(value, body.span)?;
        if let Some(free) = value.labels.iter().find(|l| !lhs.contains(l)) {
            return Err(EvalError::UnboundIndex {
                index: free.clone(),
                span: body.span,
            });
        }
        Ok(arrange(&value, lhs, &shape))
    }

    fn record(&mut self, index: &str, n: usize, span: Span) -> Result<(), EvalError> {
        match self.dims.get(index) {
            Some(&m) if m != n => Err(EvalError::IndexDimConflict {
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

    fn dim(&self, index: &str, span: Span) -> Result<usize, EvalError> {
        self.dims
            .get(index)
            .copied()
            .ok_or_else(|| EvalError::IndexDimUnknown {
                index: index.to_string(),
                span,
            })
    }

    /// Learns the range of every index from the values it indexes.
    fn collect_dims(&mut self, e: &Expr) -> Result<(), EvalError> {
        if let ExprKind::Index(base, indices) = &e.kind {
            let value = self.matrix.sized(base)?;
            let axes = axes_of(&value, indices.len(), e.span)?;
            for (index, n) in indices.iter().zip(axes) {
                self.record(index, n, e.span)?;
            }
            return Ok(());
        }
        e.children()
            .into_iter()
            .try_for_each(|child| self.collect_dims(child))
    }

    /// Gives an index of `delta(i,j)` whose range is unknown the range of
    /// the other; true when it learnt something.
    fn delta_dims(&mut self, e: &Expr) -> bool {
        if let ExprKind::Delta(i, j) = &e.kind {
            let (di, dj) = (self.dims.get(i).copied(), self.dims.get(j).copied());
            match (di, dj) {
                (Some(n), None) => self.dims.insert(j.clone(), n),
                (None, Some(n)) => self.dims.insert(i.clone(), n),
                _ => return false,
            };
            return true;
        }
        let mut learnt = false;
        for child in e.children() {
            learnt |= self.delta_dims(child);
        }
        learnt
    }

    fn labelled(&mut self, e: &Expr) -> Result<Labelled, EvalError> {
        let span = e.span;
        if !uses_indices(e) {
            let value = self.matrix.sized(e)?;
            return if value.dim() == (1, 1) {
                Ok(Labelled::scalar(value[[0, 0]]))
            } else {
                Err(EvalError::IndexArity {
                    size: Size(value.nrows(), value.ncols()),
                    count: 0,
                    span,
                })
            };
        }
        match &e.kind {
            ExprKind::Index(base, indices) => {
                let value = self.matrix.sized(base)?;
                let axes = axes_of(&value, indices.len(), span)?;
                let size = Size(value.nrows(), value.ncols());
                self.matrix
                    .meter
                    .spend(value.len() as f64, "this indexing", span)?;
                let data = ArrayD::from_shape_vec(IxDyn(&axes), value.iter().copied().collect())
                    .map_err(|_| EvalError::IndexArity {
                        size,
                        count: indices.len(),
                        span,
                    })?;
                self.join_axes(data, indices, span)
            }
            ExprKind::Delta(i, j) => {
                let n = self.dim(i, span)?;
                let m = self.dim(j, span)?;
                self.matrix
                    .meter
                    .allocate(&[n, m], 1.0, "this delta", span)?;
                let eye = Array2::from_shape_fn((n, m), |(a, b)| f64::from(u8::from(a == b)));
                self.join_axes(eye.into_dyn(), &[i.clone(), j.clone()], span)
            }
            ExprKind::IndexSum(summed, body) => {
                let depth = self.bound.len();
                self.bound.extend(summed.iter().cloned());
                let inner = self.labelled(body).and_then(|v| self.close(v, body.span));
                self.bound.truncate(depth);
                let mut value = inner?;
                for index in summed {
                    self.matrix
                        .meter
                        .spend(value.data.len() as f64, "this sum", span)?;
                    value = match value.labels.iter().position(|l| l == index) {
                        Some(axis) => remove_axis(value, axis),
                        None => {
                            let n = self.dim(index, span)? as f64;
                            Labelled {
                                data: value.data * n,
                                ..value
                            }
                        }
                    };
                }
                Ok(value)
            }
            ExprKind::Neg(inner) => {
                let value = self.labelled(inner)?;
                self.matrix
                    .meter
                    .spend(value.data.len() as f64, "this negation", span)?;
                Ok(Labelled {
                    data: -value.data,
                    ..value
                })
            }
            ExprKind::Binary(op, a, b) => {
                let left = self.labelled(a)?;
                let right = self.labelled(b)?;
                if matches!(op, BinOp::Add | BinOp::Sub) {
                    let left = self.close(left, a.span)?;
                    let right = self.close(right, b.span)?;
                    self.combine(&left, &right, scalar_op(*op), usize::max, span)
                } else {
                    self.combine(&left, &right, scalar_op(*op), |x, y| x + y, span)
                }
            }
            ExprKind::Call(func, arg) => {
                let f = elementwise(*func).ok_or_else(|| EvalError::NotElementwise {
                    func: func.name().to_string(),
                    span,
                })?;
                let value = self.labelled(arg)?;
                let value = self.close(value, arg.span)?;
                self.matrix
                    .meter
                    .spend(value.data.len() as f64, "this call", span)?;
                self.matrix.note_arguments(*func, value.data.iter());
                Ok(Labelled {
                    data: value.data.mapv(f),
                    ..value
                })
            }
            ExprKind::Transpose(_) => Err(EvalError::NotElementwise {
                func: "'".to_string(),
                span,
            }),
            ExprKind::Size(..) => Err(EvalError::NotElementwise {
                func: "size".to_string(),
                span,
            }),
            ExprKind::Apply(name, _) | ExprKind::Grad(name, _) | ExprKind::Hess(name, _) => {
                Err(EvalError::NotElementwise {
                    func: name.clone(),
                    span,
                })
            }
            ExprKind::Fill { .. } => Err(EvalError::NotElementwise {
                func: "vector".to_string(),
                span,
            }),
            ExprKind::Num(_) | ExprKind::Var(_) | ExprKind::Const(..) => {
                Err(EvalError::IndexOutsideIndexForm { span })
            }
        }
    }

    /// Labels the axes of `data`; an index repeated on one value (`X[i,i]`)
    /// takes the diagonal and counts twice.
    fn join_axes(
        &mut self,
        data: ArrayD<f64>,
        indices: &[String],
        span: Span,
    ) -> Result<Labelled, EvalError> {
        let mut labels: Vec<String> = Vec::new();
        let mut counts = Vec::new();
        let mut position = Vec::new();
        for index in indices {
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
        self.matrix
            .meter
            .allocate(&shape, INDEX_ENTRY_WORK, "this indexing", span)?;
        let data = ArrayD::from_shape_fn(IxDyn(&shape), |at| {
            let source: Vec<usize> = position.iter().map(|&p| at[p]).collect();
            data[IxDyn(&source)]
        });
        Ok(Labelled {
            data,
            labels,
            counts,
        })
    }

    /// Sums every label that occurred twice and is not bound.
    fn close(&mut self, mut value: Labelled, span: Span) -> Result<Labelled, EvalError> {
        let mut axis = 0;
        while axis < value.labels.len() {
            let label = &value.labels[axis];
            let count = value.counts[axis];
            if count >= 2 && !self.bound.contains(label) {
                if count > 2 {
                    return Err(EvalError::IndexRepeated {
                        index: label.clone(),
                        count,
                        span,
                    });
                }
                self.matrix
                    .meter
                    .spend(value.data.len() as f64, "this sum", span)?;
                value = remove_axis(value, axis);
            } else {
                axis += 1;
            }
        }
        Ok(value)
    }

    /// Combines two labelled tensors entry by entry over the union of their
    /// labels, joining shared labels; `f` combines entries and `count`
    /// occurrence counts. The union tensor is checked and charged first.
    fn combine(
        &mut self,
        left: &Labelled,
        right: &Labelled,
        f: fn(f64, f64) -> f64,
        count: fn(usize, usize) -> usize,
        span: Span,
    ) -> Result<Labelled, EvalError> {
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
        let what = format_args!(
            "this operation over the indices {} (formed in full before any is summed)",
            labels.join(", ")
        );
        self.matrix
            .meter
            .allocate(&shape, INDEX_ENTRY_WORK, what, span)?;
        let left_rank = left.labels.len();
        let data = ArrayD::from_shape_fn(IxDyn(&shape), |at| {
            let l: Vec<usize> = (0..left_rank).map(|k| at[k]).collect();
            let r: Vec<usize> = right_position.iter().map(|&p| at[p]).collect();
            f(left.data[IxDyn(&l)], right.data[IxDyn(&r)])
        });
        Ok(Labelled {
            data,
            labels,
            counts,
        })
    }
}

/// The axis lengths a matrix offers to `count` indices: two for a matrix,
/// one for a column or a row.
fn axes_of(value: &Array2<f64>, count: usize, span: Span) -> Result<Vec<usize>, EvalError> {
    let (rows, cols) = value.dim();
    match count {
        2 => Ok(vec![rows, cols]),
        1 if cols == 1 => Ok(vec![rows]),
        1 if rows == 1 => Ok(vec![cols]),
        _ => Err(EvalError::IndexArity {
            size: Size(rows, cols),
            count,
            span,
        }),
    }
}

fn remove_axis(mut value: Labelled, axis: usize) -> Labelled {
    value.labels.remove(axis);
    value.counts.remove(axis);
    Labelled {
        data: value.data.sum_axis(ndarray::Axis(axis)),
        ..value
    }
}

/// Lays a labelled tensor out with axes in `order`, repeating it along any
/// index it does not depend on.
fn arrange(value: &Labelled, order: &[String], shape: &[usize]) -> ArrayD<f64> {
    let source_axis: Vec<usize> = value
        .labels
        .iter()
        .map(|l| order.iter().position(|o| o == l).unwrap_or(0))
        .collect();
    ArrayD::from_shape_fn(IxDyn(shape), |at| {
        let source: Vec<usize> = source_axis.iter().map(|&p| at[p]).collect();
        value.data[IxDyn(&source)]
    })
}
