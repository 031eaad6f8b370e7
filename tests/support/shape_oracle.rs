//! A small, independent shape checker for matrix-form expressions, used to
//! test that the generator keeps its promise of well-shaped output. It
//! follows the corpus rules (tests/corpus/README.md): scalar and row
//! broadcasting, `*` scaling by a scalar, and the inferred size of
//! `vector(c)` / `matrix(c)`. It is a test oracle, not the engine's shape
//! layer.

use std::collections::BTreeMap;

use matcalc::syntax::{BinOp, ConstKind, DimSpec, Expr, ExprKind, FillKind, Func};

use super::gen::Shape;

/// A shape, or a constant fill whose size is still to be inferred.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Extent {
    /// rows × cols.
    Dims(usize, usize),
    /// `vector(c)` (a column) or, transposed, a row.
    DeferredVector { row: bool },
    /// `matrix(c)`.
    DeferredMatrix,
}

use Extent::{DeferredMatrix, DeferredVector, Dims};

const SCALAR: Extent = Dims(1, 1);

/// The shape of `expr` given the shapes of its variables, or why it has none.
pub fn shape_of(expr: &Expr, vars: &BTreeMap<String, Shape>) -> Result<Shape, String> {
    match check(expr, vars)? {
        Dims(r, c) => Ok(Shape::from_dims(r, c)),
        deferred => Err(format!("the size of {deferred:?} is never inferred")),
    }
}

fn fixed(dim: &DimSpec) -> Result<usize, String> {
    match dim {
        DimSpec::Fixed(n) => Ok(*n),
        DimSpec::Named(name) => Err(format!("symbolic size `{name}`")),
    }
}

fn elementwise(a: Extent, b: Extent) -> Result<Extent, String> {
    match (a, b) {
        (x, y) if x == y => Ok(x),
        (SCALAR, x @ Dims(..)) | (x @ Dims(..), SCALAR) => Ok(x),
        (Dims(1, m), x @ Dims(_, m2)) | (x @ Dims(_, m2), Dims(1, m)) if m == m2 => Ok(x),
        (x @ Dims(..), DeferredVector { .. } | DeferredMatrix)
        | (DeferredVector { .. } | DeferredMatrix, x @ Dims(..))
            if x != SCALAR =>
        {
            Ok(x)
        }
        _ => Err(format!("element-wise operation on {a:?} and {b:?}")),
    }
}

fn product(a: Extent, b: Extent) -> Result<Extent, String> {
    match (a, b) {
        (SCALAR, x) | (x, SCALAR) => Ok(x),
        (Dims(r, k), Dims(k2, c)) if k == k2 => Ok(Dims(r, c)),
        (Dims(r, _), DeferredVector { row: false }) => Ok(Dims(r, 1)),
        (DeferredVector { row: true }, Dims(_, c)) => Ok(Dims(1, c)),
        _ => Err(format!("matrix product of {a:?} and {b:?}")),
    }
}

fn function(func: Func, arg: Extent) -> Result<Extent, String> {
    let Dims(r, c) = arg else {
        return Err(format!("`{}` of a value of unknown size", func.name()));
    };
    match func {
        f if f.is_elementwise() => Ok(arg),
        Func::Tr | Func::Det | Func::Logdet if r == c => Ok(SCALAR),
        Func::Inv if r == c => Ok(arg),
        Func::Diag if r == 1 || c == 1 => Ok(Dims(r.max(c), r.max(c))),
        Func::Diag if r == c => Ok(Dims(r, 1)),
        Func::Sum | Func::Norm1 | Func::Norm2 | Func::Logsumexp => Ok(SCALAR),
        Func::Softmax if c == 1 => Ok(arg),
        _ => Err(format!("`{}` of a {r}x{c} value", func.name())),
    }
}

fn check(e: &Expr, vars: &BTreeMap<String, Shape>) -> Result<Extent, String> {
    match &e.kind {
        ExprKind::Num(_) => Ok(SCALAR),
        ExprKind::Var(name) => vars
            .get(name)
            .map(|s| Dims(s.rows(), s.cols()))
            .ok_or_else(|| format!("undeclared `{name}`")),
        ExprKind::Neg(inner) => check(inner, vars),
        ExprKind::Transpose(inner) => Ok(match check(inner, vars)? {
            Dims(r, c) => Dims(c, r),
            DeferredVector { row } => DeferredVector { row: !row },
            DeferredMatrix => DeferredMatrix,
        }),
        ExprKind::Binary(op, a, b) => {
            let (a, b) = (check(a, vars)?, check(b, vars)?);
            match op {
                BinOp::Add | BinOp::Sub | BinOp::HadMul | BinOp::HadDiv | BinOp::HadPow => {
                    elementwise(a, b)
                }
                BinOp::Mul => product(a, b),
                BinOp::Div if b == SCALAR => Ok(a),
                BinOp::Pow if a == SCALAR && b == SCALAR => Ok(SCALAR),
                // A matrix power of a square matrix (as the results write
                // `M^2`).
                BinOp::Pow if b == SCALAR && matches!(a, Dims(r, c) if r == c) => Ok(a),
                _ => Err(format!("`{}` of {a:?} and {b:?}", op.symbol())),
            }
        }
        ExprKind::Call(func, arg) => function(*func, check(arg, vars)?),
        ExprKind::Fill { kind, value, .. } => {
            if check(value, vars)? != SCALAR {
                return Err("a fill value must be a scalar".to_string());
            }
            Ok(match kind {
                FillKind::Vector => DeferredVector { row: false },
                FillKind::Matrix => DeferredMatrix,
            })
        }
        ExprKind::Const(kind, dims) => {
            let dims = dims.iter().map(fixed).collect::<Result<Vec<_>, _>>()?;
            match (kind, dims.as_slice()) {
                (ConstKind::Eye, [n]) => Ok(Dims(*n, *n)),
                (ConstKind::Ones | ConstKind::Zeros, [n]) => Ok(Dims(*n, 1)),
                (ConstKind::Ones | ConstKind::Zeros, [r, c]) => Ok(Dims(*r, *c)),
                _ => Err(format!("`{}` with sizes {dims:?}", kind.name())),
            }
        }
        ExprKind::Size(of, _) => match check(of, vars)? {
            Dims(..) => Ok(SCALAR),
            _ => Err("the size of a value of unknown size".to_string()),
        },
        ExprKind::Apply(_, args) | ExprKind::Grad(_, args) => {
            let [arg] = args.as_slice() else {
                return Err("an abstract function takes one argument here".to_string());
            };
            let arg = check(arg, vars)?;
            match (&e.kind, arg) {
                (_, DeferredVector { .. } | DeferredMatrix) => {
                    Err("an abstract function of a value of unknown size".to_string())
                }
                (ExprKind::Apply(..), _) => Ok(SCALAR),
                _ => Ok(arg),
            }
        }
        ExprKind::Hess(..) => Err("the generator does not write d2L".to_string()),
        ExprKind::Index(..) | ExprKind::Delta(..) | ExprKind::IndexSum(..) => {
            Err("index notation is not a matrix form".to_string())
        }
    }
}
