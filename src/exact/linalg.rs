//! Matrix operations on matrices of scalars: products, transposes,
//! broadcasting element-wise operations, and the determinant by cofactor
//! (Laplace) expansion, whence the inverse as adjugate over determinant.
//!
//! Invariant: a matrix is a 2-D [`Tensor`]; scalars are 1×1 and vectors
//! n×1. Expansion of an n×n determinant costs O(n·2ⁿ) scalar products
//! (memoised minors), charged to the meter before it starts.

use super::context::Context;
use super::error::ExactError;
use super::scalar::Scalar;
use super::tensor::Tensor;
use crate::numeric::Size;
use crate::syntax::{BinOp, Span};

/// A 2-D tensor of scalars.
pub type Matrix = Tensor<Scalar>;

/// A `rows × cols` matrix from a function of `(i, j)`, within the
/// context's size budget.
pub(super) fn matrix_from_fn(
    cx: &Context,
    rows: usize,
    cols: usize,
    mut f: impl FnMut(usize, usize) -> Result<Scalar, ExactError>,
) -> Result<Matrix, ExactError> {
    cx.meter.check_size(&[rows, cols])?;
    Tensor::try_from_fn(vec![rows, cols], |index| f(index[0], index[1]))
}

/// A 1×1 matrix.
pub(super) fn scalar_matrix(s: Scalar) -> Matrix {
    Tensor::filled(vec![1, 1], s)
}

/// The size of a matrix, for messages.
pub(super) fn size_of(m: &Matrix) -> Size {
    Size(m.rows(), m.cols())
}

/// True for a 1×1 matrix.
pub(super) fn is_scalar(m: &Matrix) -> bool {
    m.rows() == 1 && m.cols() == 1
}

/// The transpose.
pub(super) fn transpose(m: &Matrix) -> Matrix {
    let (rows, cols) = (m.rows(), m.cols());
    let data = (0..cols)
        .flat_map(|j| (0..rows).map(move |i| (i, j)))
        .map(|(i, j)| m.at(i, j).clone())
        .collect();
    Tensor::new(vec![cols, rows], data)
        .unwrap_or_else(|| Tensor::filled(vec![cols, rows], Scalar::zero()))
}

/// Every entry mapped by `f`.
pub(super) fn map(
    cx: &Context,
    m: &Matrix,
    mut f: impl FnMut(&Scalar) -> Result<Scalar, ExactError>,
) -> Result<Matrix, ExactError> {
    matrix_from_fn(cx, m.rows(), m.cols(), |i, j| f(m.at(i, j)))
}

/// The scalar operation of an element-wise operator (`*` and `/` act
/// entry-wise once one side is a scalar).
pub(super) fn scalar_op(
    cx: &Context,
    op: BinOp,
    a: &Scalar,
    b: &Scalar,
) -> Result<Scalar, ExactError> {
    match op {
        BinOp::Add => cx.add(a, b),
        BinOp::Sub => cx.sub(a, b),
        BinOp::Mul | BinOp::HadMul => cx.mul(a, b),
        BinOp::Div | BinOp::HadDiv => cx.div(a, b),
        BinOp::Pow | BinOp::HadPow => cx.pow(a, b),
    }
}

/// The shape two operands broadcast to, if they do: equal shapes, a
/// scalar against anything, a 1×m row against an n×m matrix.
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

/// A binary operator on two concrete matrices.
pub(super) fn matrices(
    cx: &Context,
    op: BinOp,
    a: &Matrix,
    b: &Matrix,
    span: Span,
) -> Result<Matrix, ExactError> {
    let mismatch = || ExactError::ShapeMismatch {
        op: op.symbol(),
        left: size_of(a),
        right: size_of(b),
        span,
    };
    let at = |e: ExactError| e.at(span);
    match op {
        BinOp::Mul if is_scalar(a) => map(cx, b, |x| cx.mul(a.at(0, 0), x)),
        BinOp::Mul if is_scalar(b) => map(cx, a, |x| cx.mul(x, b.at(0, 0))),
        BinOp::Mul if a.cols() == b.rows() => product(cx, a, b),
        BinOp::Div | BinOp::Pow if is_scalar(b) && (op == BinOp::Div || is_scalar(a)) => {
            map(cx, a, |x| scalar_op(cx, op, x, b.at(0, 0))).map_err(at)
        }
        BinOp::Mul | BinOp::Div | BinOp::Pow => Err(mismatch()),
        _ => {
            let (rows, cols) =
                broadcast_shape((a.rows(), a.cols()), (b.rows(), b.cols())).ok_or_else(mismatch)?;
            let pick = |m: &Matrix, i: usize, j: usize| {
                m.at(
                    if m.rows() == 1 { 0 } else { i },
                    if m.cols() == 1 { 0 } else { j },
                )
                .clone()
            };
            matrix_from_fn(cx, rows, cols, |i, j| {
                scalar_op(cx, op, &pick(a, i, j), &pick(b, i, j))
            })
            .map_err(at)
        }
    }
}

/// The matrix product.
fn product(cx: &Context, a: &Matrix, b: &Matrix) -> Result<Matrix, ExactError> {
    matrix_from_fn(cx, a.rows(), b.cols(), |i, j| {
        let mut sum = Scalar::zero();
        for k in 0..a.cols() {
            let term = cx.mul(a.at(i, k), b.at(k, j))?;
            sum = cx.add(&sum, &term)?;
        }
        Ok(sum)
    })
}

/// The sum of all entries.
pub(super) fn sum(cx: &Context, m: &Matrix) -> Result<Scalar, ExactError> {
    m.data()
        .iter()
        .try_fold(Scalar::zero(), |acc, x| cx.add(&acc, x))
}

/// The determinant by Laplace expansion along the top row, memoising the
/// minors of the bottom rows by their column set.
pub(super) fn determinant(cx: &Context, m: &Matrix) -> Result<Scalar, ExactError> {
    let n = m.rows();
    if n >= 32 {
        return Err(ExactError::Algebra(
            crate::algebra::AlgebraError::WorkBudget { limit: 0 },
        ));
    }
    cx.meter.charge((n as u64) << n)?;
    let full = (1usize << n) - 1;
    let mut minors: Vec<Scalar> = Vec::with_capacity(full + 1);
    minors.push(Scalar::one());
    for mask in 1..=full {
        let row = n - mask.count_ones() as usize;
        let mut total = Scalar::zero();
        let mut position = 0;
        for col in 0..n {
            if mask & (1 << col) == 0 {
                continue;
            }
            let entry = m.at(row, col);
            if !entry.is_zero() {
                let minor = &minors[mask ^ (1 << col)];
                let term = cx.mul(entry, minor)?;
                total = if position % 2 == 0 {
                    cx.add(&total, &term)?
                } else {
                    cx.sub(&total, &term)?
                };
            }
            position += 1;
        }
        minors.push(total);
    }
    Ok(minors.swap_remove(full))
}

/// The matrix without row `r` and column `c`.
fn minor_matrix(m: &Matrix, r: usize, c: usize) -> Matrix {
    let n = m.rows();
    let data = (0..n)
        .filter(|&i| i != r)
        .flat_map(|i| (0..n).filter(move |&j| j != c).map(move |j| (i, j)))
        .map(|(i, j)| m.at(i, j).clone())
        .collect();
    Tensor::new(vec![n - 1, n - 1], data)
        .unwrap_or_else(|| Tensor::filled(vec![0, 0], Scalar::zero()))
}

/// The inverse as adjugate over determinant.
pub(super) fn inverse(cx: &Context, m: &Matrix, span: Span) -> Result<Matrix, ExactError> {
    let det = determinant(cx, m)?;
    if det.is_zero() {
        return Err(ExactError::Singular { span });
    }
    let scale = cx.inv(&det)?;
    let n = m.rows();
    matrix_from_fn(cx, n, n, |i, j| {
        // inv[i][j] = cofactor(j, i) / det
        let minor = determinant(cx, &minor_matrix(m, j, i))?;
        let signed = if (i + j) % 2 == 0 { minor } else { minor.neg() };
        cx.mul(&signed, &scale)
    })
}
