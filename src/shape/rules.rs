//! The shape rules of every operator on concrete or symbolic shapes: one
//! place, used by the checker's bottom-up `shape_of` and by the engine's DAG.
//! (Inference with unknown sizes lives in `infer`.)

use super::{Dim, Shape};
use crate::syntax::{BinOp, Func};

fn is_one(d: &Dim) -> bool {
    *d == Dim::Fixed(1)
}

/// The shape of a built-in function's value.
pub fn call_shape(func: Func, s: &Shape) -> Shape {
    match func {
        Func::Tr
        | Func::Det
        | Func::Logdet
        | Func::Sum
        | Func::Norm1
        | Func::Norm2
        | Func::Logsumexp => Shape::scalar(),
        Func::Diag if is_one(&s.cols) && !is_one(&s.rows) => {
            Shape::matrix(s.rows.clone(), s.rows.clone())
        }
        Func::Diag if is_one(&s.rows) && !is_one(&s.cols) => {
            Shape::matrix(s.cols.clone(), s.cols.clone())
        }
        Func::Diag => Shape::column(s.rows.clone()),
        _ => s.clone(),
    }
}

/// The shape of `a op b`, or `None` when the shapes do not fit: a product
/// needs equal inner dimensions unless one side is a scalar; `/` and `^`
/// need scalars on the right (and `^` on the left); element-wise operations
/// broadcast a scalar anywhere and a 1×m row against an n×m matrix.
pub fn binary_shape(op: BinOp, a: &Shape, b: &Shape) -> Option<Shape> {
    match op {
        BinOp::Mul if a.is_scalar() => Some(b.clone()),
        BinOp::Mul if b.is_scalar() => Some(a.clone()),
        BinOp::Mul => (a.cols == b.rows).then(|| Shape::matrix(a.rows.clone(), b.cols.clone())),
        BinOp::Div => b.is_scalar().then(|| a.clone()),
        BinOp::Pow => (a.is_scalar() && b.is_scalar()).then(|| a.clone()),
        _ if a.is_scalar() => Some(b.clone()),
        _ if b.is_scalar() || a == b => Some(a.clone()),
        _ if is_one(&a.rows) && a.cols == b.cols && !is_one(&b.rows) => Some(b.clone()),
        _ if is_one(&b.rows) && a.cols == b.cols && !is_one(&a.rows) => Some(a.clone()),
        _ => None,
    }
}
