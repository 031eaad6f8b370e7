//! Functions read as their definitions in the core language.
//!
//! `sum(X, 1)`, `softmax(X, 2)`, `max(X, Y)` and the other calls here are
//! not new operations of the engine: the parser writes each as the matrix
//! expression that defines it (`sum(X, 2)` is `X*vector(1)`), so every later
//! layer — shapes, derivatives, the exact and numeric checks — treats them
//! with the rules it already has, and nothing new can go wrong there. The
//! results are printed in the core language. Invariant: pure AST building,
//! no shapes are known here.

use super::ast::{Axis, BinOp, ConstKind, DimSpec, Expr, ExprKind, FillKind, Func, Span};

/// Why a call of a function of this module cannot be read.
#[derive(Clone, Debug, PartialEq)]
pub struct SugarError {
    /// What is wrong.
    pub message: String,
    /// Where.
    pub span: Span,
}

/// True for the names this module reads with two arguments.
pub fn is_sugar(name: &str, arity: usize) -> bool {
    match name {
        "sum" | "softmax" | "logsumexp" => arity == 2,
        "max" | "min" | "mean" | "size" | "gelu" => true,
        _ => false,
    }
}

/// The definition of `name(args)` over nodes spanning `span`.
pub fn desugar(name: &str, args: Vec<Expr>, span: Span) -> Result<Expr, SugarError> {
    let mk = |kind: ExprKind| Expr { kind, span };
    let call = |f: Func, a: Expr| mk(ExprKind::Call(f, Box::new(a)));
    let bin = |op: BinOp, a: Expr, b: Expr| mk(ExprKind::Binary(op, Box::new(a), Box::new(b)));
    let ones = || {
        mk(ExprKind::Fill {
            kind: FillKind::Vector,
            value: Box::new(mk(ExprKind::Num(1.0))),
            size: None,
        })
    };
    let ones_row = || mk(ExprKind::Transpose(Box::new(ones())));
    // Σ along the axis: 𝟙ᵀX for the columns, X𝟙 for the rows.
    let reduce = |axis: Axis, x: Expr| match axis {
        Axis::Columns => bin(BinOp::Mul, ones_row(), x),
        Axis::Rows => bin(BinOp::Mul, x, ones()),
    };
    let size = |x: Expr, axis: Axis| mk(ExprKind::Size(Box::new(x), axis));
    let mut args = args.into_iter();
    let (first, second) = match (args.next(), args.next(), args.next()) {
        (Some(a), Some(b), None) if name != "gelu" => (a, b),
        // gelu(X) = X .* Φ(X), Φ(x) = (1 + erf(x/√2))/2 the normal CDF.
        (Some(x), None, None) if name == "gelu" => {
            let root_two = call(Func::Sqrt, mk(ExprKind::Num(2.0)));
            let cdf = bin(
                BinOp::Add,
                mk(ExprKind::Num(1.0)),
                call(Func::Erf, bin(BinOp::Div, x.clone(), root_two)),
            );
            let half = bin(BinOp::Mul, mk(ExprKind::Num(0.5)), x);
            return Ok(bin(BinOp::HadMul, half, cdf));
        }
        // mean(X): over all entries, as `sum(X)` is.
        (Some(x), None, None) if name == "mean" => {
            let count = bin(
                BinOp::Mul,
                size(x.clone(), Axis::Columns),
                size(x.clone(), Axis::Rows),
            );
            return Ok(bin(BinOp::Div, call(Func::Sum, x), count));
        }
        _ => {
            let expected = match name {
                "mean" => "one or two arguments: `mean(X)`, `mean(X, 1)` or `mean(X, 2)`",
                "size" => "two arguments: `size(X, 1)` (rows) or `size(X, 2)` (columns)",
                "gelu" => "one argument",
                _ => "two arguments here",
            };
            return Err(SugarError {
                message: format!("`{name}` takes {expected}"),
                span,
            });
        }
    };
    Ok(match name {
        "size" => size(first, axis(name, &second)?),
        "mean" => {
            let axis = axis(name, &second)?;
            // The mean down each column divides by the number of rows.
            bin(BinOp::Div, reduce(axis, first.clone()), size(first, axis))
        }
        "sum" => reduce(axis(name, &second)?, first),
        "logsumexp" => {
            let axis = axis(name, &second)?;
            call(Func::Log, reduce(axis, call(Func::Exp, first)))
        }
        "softmax" => {
            let e = call(Func::Exp, first);
            match axis(name, &second)? {
                // exp(X) ./ (𝟙ᵀexp(X)): the row of column sums broadcasts.
                Axis::Columns => bin(BinOp::HadDiv, e.clone(), reduce(Axis::Columns, e)),
                // diag(1 ./ (exp(X)𝟙)) exp(X): each row divided by its sum.
                Axis::Rows => {
                    let sums = reduce(Axis::Rows, e.clone());
                    let inv = bin(BinOp::HadDiv, mk(ExprKind::Num(1.0)), sums);
                    bin(BinOp::Mul, call(Func::Diag, inv), e)
                }
            }
        }
        _ => extremum(name == "max", first, second, span),
    })
}

/// `max(X, Y) = (X + Y + |X − Y|)/2` and `min(X, Y) = (X + Y − |X − Y|)/2`,
/// with `max(X, 0) = relu(X)`. At a tie the derivative of `|·|` is
/// `sign(0) = 0` (and `relu′(0) = 1/2`): each argument gets half.
fn extremum(is_max: bool, x: Expr, y: Expr, span: Span) -> Expr {
    let mk = |kind: ExprKind| Expr { kind, span };
    let is_zero = |e: &Expr| matches!(e.kind, ExprKind::Num(v) if v == 0.0);
    let relu = |e: Expr| mk(ExprKind::Call(Func::Relu, Box::new(e)));
    let neg = |e: Expr| mk(ExprKind::Neg(Box::new(e)));
    match (is_max, is_zero(&x), is_zero(&y)) {
        (true, _, true) => return relu(x),
        (true, true, _) => return relu(y),
        // min(X, 0) = -relu(-X)
        (false, _, true) => return neg(relu(neg(x))),
        (false, true, _) => return neg(relu(neg(y))),
        _ => {}
    }
    let bin = |op: BinOp, a: Expr, b: Expr| mk(ExprKind::Binary(op, Box::new(a), Box::new(b)));
    let gap = mk(ExprKind::Call(
        Func::Abs,
        Box::new(bin(BinOp::Sub, x.clone(), y.clone())),
    ));
    let total = bin(BinOp::Add, x, y);
    let op = if is_max { BinOp::Add } else { BinOp::Sub };
    bin(BinOp::Mul, mk(ExprKind::Num(0.5)), bin(op, total, gap))
}

/// The largest `|k|` of a matrix power `X^k`, which is written out as a
/// product of `|k|` factors.
pub const MAX_MATRIX_POWER: i64 = 32;

/// The exponent of `X^k` when it is an integer literal (`3`, `-2`).
pub fn integer_exponent(e: &Expr) -> Option<i64> {
    let magnitude = |e: &Expr| match e.kind {
        ExprKind::Num(v) if v.fract() == 0.0 && v.abs() <= 1e9 => Some(v as i64),
        _ => None,
    };
    match &e.kind {
        ExprKind::Neg(inner) => magnitude(inner).map(|k| -k),
        _ => magnitude(e),
    }
}

/// The matrix power `X^k` of a square X (MATLAB's meaning) as the product
/// of `|k|` factors `X`, or `inv(X)` when `k < 0`; `k ≠ 0`.
pub fn matrix_power(base: &Expr, k: i64, span: Span) -> Expr {
    let factor = if k < 0 {
        Expr {
            kind: ExprKind::Call(Func::Inv, Box::new(base.clone())),
            span,
        }
    } else {
        base.clone()
    };
    (1..k.abs()).fold(factor.clone(), |product, _| Expr {
        kind: ExprKind::Binary(BinOp::Mul, Box::new(product), Box::new(factor.clone())),
        span,
    })
}

/// A dimension used as a number: the literal for a fixed size,
/// `sum(ones(n))` for a dimension symbol `n`.
pub fn dimension_value(dim: DimSpec, span: Span) -> Expr {
    let mk = |kind: ExprKind| Expr { kind, span };
    match dim {
        DimSpec::Fixed(k) => mk(ExprKind::Num(k as f64)),
        named => mk(ExprKind::Call(
            Func::Sum,
            Box::new(mk(ExprKind::Const(ConstKind::Ones, vec![named]))),
        )),
    }
}

/// The dimension symbol `n` of `sum(ones(n))`, the reading of a bare `n`
/// (the inverse of [`dimension_value`] for symbols).
pub fn as_dimension(e: &Expr) -> Option<DimSpec> {
    match &e.kind {
        ExprKind::Call(Func::Sum, inner) => match &inner.kind {
            ExprKind::Const(ConstKind::Ones, dims) => match dims.as_slice() {
                [d @ DimSpec::Named(_)] => Some(d.clone()),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    }
}

/// The axis argument: the literal 1 or 2.
fn axis(name: &str, arg: &Expr) -> Result<Axis, SugarError> {
    match arg.kind {
        ExprKind::Num(1.0) => Ok(Axis::Columns),
        ExprKind::Num(2.0) => Ok(Axis::Rows),
        _ if name == "size" => Err(SugarError {
            message: "the second argument of `size` is the axis: 1 (the number of rows) or 2 (the number of columns)".to_string(),
            span: arg.span,
        }),
        _ => Err(SugarError {
            message: format!(
                "the second argument of `{name}` is the axis: 1 (down each column) or 2 (along each row)"
            ),
            span: arg.span,
        }),
    }
}

#[cfg(test)]
mod tests {

    use crate::syntax::{expr_to_string, parse_expr, Decls};

    fn read(text: &str) -> String {
        expr_to_string(&parse_expr(text, &Decls::new()).unwrap())
    }

    #[test]
    fn reductions_are_products_with_ones() {
        assert_eq!(read("sum(X, 1)"), "vector(1)'*X");
        assert_eq!(read("sum(X, 2)"), "X*vector(1)");
        assert_eq!(read("logsumexp(X, 2)"), "log(exp(X)*vector(1))");
        assert_eq!(read("softmax(X, 1)"), "exp(X) ./ (vector(1)'*exp(X))");
        assert_eq!(
            read("softmax(X, 2)"),
            "diag(1 ./ (exp(X)*vector(1)))*exp(X)"
        );
    }

    #[test]
    fn extrema_are_halves_of_sums() {
        assert_eq!(read("max(X, 0)"), "relu(X)");
        assert_eq!(read("max(0, X)"), "relu(X)");
        assert_eq!(read("min(X, 0)"), "-relu(-X)");
        assert_eq!(read("max(X, Y)"), "0.5*(X + Y + abs(X - Y))");
        assert_eq!(read("min(X, Y)"), "0.5*(X + Y - abs(X - Y))");
    }

    #[test]
    fn numpy_spellings_are_read_as_the_matcalc_ones() {
        assert_eq!(read("A @ B.T"), "A*B'");
        assert_eq!(read("(A @ B).T"), "(A*B)'");
        assert!(parse_expr("A.Tx", &Decls::new()).is_err());
    }

    #[test]
    fn gelu_is_x_times_the_normal_cdf() {
        assert_eq!(read("gelu(X)"), "0.5*X .* (1 + erf(X/sqrt(2)))");
        assert!(parse_expr("gelu(X, 1)", &Decls::new()).is_err());
    }

    #[test]
    fn means_divide_by_sizes() {
        assert_eq!(read("mean(X)"), "sum(X)/(size(X, 1)*size(X, 2))");
        assert_eq!(read("mean(X, 1)"), "vector(1)'*X/size(X, 1)");
        assert_eq!(read("mean(X, 2)"), "X*vector(1)/size(X, 2)");
        assert_eq!(read("size(A*B, 2)"), "size(A*B, 2)");
    }

    #[test]
    fn a_declared_dimension_is_a_number() {
        let mut decls = Decls::new();
        decls.extend_from_str("x: n, y: 3").unwrap();
        let read = |text: &str| expr_to_string(&parse_expr(text, &decls).unwrap());
        assert_eq!(read("sum(x)/n"), "sum(x)/sum(ones(n))");
        // As a size it stays a size.
        assert_eq!(read("ones(n) + x"), "ones(n) + x");
        // A declared value of that name is the value.
        decls.extend_from_str("n: scalar").unwrap();
        assert_eq!(expr_to_string(&parse_expr("n*x", &decls).unwrap()), "n*x");
    }

    #[test]
    fn a_bad_axis_is_refused_at_the_axis() {
        let err = parse_expr("sum(X, 3)", &Decls::new()).unwrap_err();
        assert!(err.to_string().contains("axis"), "{err}");
        assert!(parse_expr("sum(X, k)", &Decls::new()).is_err());
        assert!(parse_expr("max(X)", &Decls::new()).is_err());
        let err = parse_expr("size(X, 3)", &Decls::new()).unwrap_err();
        assert!(err.to_string().contains("number of rows"), "{err}");
        assert_eq!(err.span().start, 8);
        assert!(parse_expr("size(X)", &Decls::new()).is_err());
        assert!(parse_expr("mean(X, 1, 2)", &Decls::new()).is_err());
    }
}
