//! The input syntax, with no redundant parentheses.
//!
//! Invariant: `parse_formula(&to_expr_string(f), &Decls::new()) == Ok(f)`
//! for every formula the parser builds from undeclared names. Names that
//! the parser would read differently cannot round-trip and are printed as
//! they are: an undeclared all-capitals name such as `XW` (read as the
//! product `X*W`), `d` followed by a function name (`dL` is a gradient), and
//! the built-in names (`exp`, `sum`, …). The same holds for what the parser
//! never produces: a negative or non-finite [`ExprKind::Num`], and the
//! inferred `size` of a `vector(c)` (the syntax has no place for it).
//!
//! Spacing follows the corpus: `X*W + b'`, `1 ./ x`, `y.*v` → `y .* v`.

use super::{fill_name, format_number, operand_precs, syntax_prec, Prec};
use crate::syntax::ast::{BinOp, Expr, ExprKind, Formula};

/// The formula in the input syntax, `G[i,j] = …` for an index form.
///
/// ```
/// use matcalc::syntax::{parse_formula, to_expr_string, Decls};
/// let f = parse_formula("((2^3)^2) - (a - (b - c))", &Decls::new()).unwrap();
/// assert_eq!(to_expr_string(&f), "2^3^2 - (a - (b - c))");
/// ```
pub fn to_expr_string(formula: &Formula) -> String {
    let mut out = String::new();
    if let Some(lhs) = &formula.lhs {
        out.push_str(&lhs.name);
        write_indices(&mut out, &lhs.indices);
        out.push_str(" = ");
    }
    write(&mut out, &formula.body);
    out
}

/// The expression in the input syntax.
///
/// ```
/// use matcalc::syntax::{parse_expr, expr_to_string, Decls};
/// let e = parse_expr("-(x')+(-x)'", &Decls::new()).unwrap();
/// assert_eq!(expr_to_string(&e), "-x' + (-x)'");
/// ```
pub fn expr_to_string(expr: &Expr) -> String {
    let mut out = String::new();
    write(&mut out, expr);
    out
}

/// The exponent of `^` or `.^` without its sign, if it has one: the
/// grammar's `powarg` is a run of signs, a primary and at most one indexing.
fn unsigned_exponent(e: &Expr) -> (bool, &Expr) {
    match &e.kind {
        ExprKind::Neg(inner) => (true, inner),
        _ => (false, e),
    }
}

/// True when the exponent is written with its own indexing (`x^y[i]`), so
/// that a later `[j]` indexes the power rather than the exponent.
fn exponent_is_indexed(e: &Expr) -> bool {
    matches!(unsigned_exponent(e).1.kind, ExprKind::Index(..))
}

/// Writes an exponent as a `powarg`: `2`, `-1`, `-(-1)`, `y[i]`,
/// `(y')[i]`, `(a + b)`.
fn write_exponent(out: &mut String, e: &Expr) {
    let (negated, unsigned) = unsigned_exponent(e);
    if negated {
        out.push('-');
    }
    match &unsigned.kind {
        ExprKind::Index(base, indices) => {
            write_at(out, base, Prec::Atom);
            write_indices(out, indices);
        }
        _ => write_at(out, unsigned, Prec::Atom),
    }
}

/// True when `base[…]` must be written `(base)[…]`: `a^b[i]` would index
/// the exponent.
fn index_base_needs_parens(base: &Expr) -> bool {
    match &base.kind {
        ExprKind::Binary(BinOp::Pow | BinOp::HadPow, _, exponent) => !exponent_is_indexed(exponent),
        _ => syntax_prec(base) < Prec::Postfix,
    }
}

fn write_at(out: &mut String, e: &Expr, least: Prec) {
    write_grouped(out, e, syntax_prec(e) < least);
}

fn write_grouped(out: &mut String, e: &Expr, parens: bool) {
    if parens {
        out.push('(');
        write(out, e);
        out.push(')');
    } else {
        write(out, e);
    }
}

fn write_indices(out: &mut String, indices: &[String]) {
    out.push('[');
    out.push_str(&indices.join(","));
    out.push(']');
}

fn write_args(out: &mut String, args: &[Expr]) {
    out.push('(');
    for (n, arg) in args.iter().enumerate() {
        if n > 0 {
            out.push_str(", ");
        }
        write(out, arg);
    }
    out.push(')');
}

fn operator_text(op: BinOp) -> &'static str {
    match op {
        BinOp::Add => " + ",
        BinOp::Sub => " - ",
        BinOp::HadMul => " .* ",
        BinOp::HadDiv => " ./ ",
        BinOp::Mul | BinOp::Div | BinOp::Pow | BinOp::HadPow => op.symbol(),
    }
}

fn write(out: &mut String, e: &Expr) {
    match &e.kind {
        ExprKind::Num(v) if *v < 0.0 => {
            out.push('-');
            out.push_str(&format_number(-v));
        }
        ExprKind::Num(v) => out.push_str(&format_number(*v)),
        ExprKind::Var(name) => out.push_str(name),
        ExprKind::Neg(inner) => {
            out.push('-');
            write_at(out, inner, Prec::Postfix);
        }
        ExprKind::Binary(op @ (BinOp::Pow | BinOp::HadPow), base, exponent) => {
            write_at(out, base, Prec::Postfix);
            out.push_str(op.symbol());
            write_exponent(out, exponent);
        }
        ExprKind::Binary(op, lhs, rhs) => {
            let (left, right) = operand_precs(*op);
            write_at(out, lhs, left);
            out.push_str(operator_text(*op));
            write_at(out, rhs, right);
        }
        ExprKind::Transpose(inner) => {
            write_at(out, inner, Prec::Postfix);
            out.push('\'');
        }
        ExprKind::Index(base, indices) => {
            write_grouped(out, base, index_base_needs_parens(base));
            write_indices(out, indices);
        }
        ExprKind::Call(func, arg) => {
            out.push_str(func.name());
            write_args(out, std::slice::from_ref(&**arg));
        }
        ExprKind::Fill { kind, value, .. } => {
            out.push_str(fill_name(*kind));
            write_args(out, std::slice::from_ref(&**value));
        }
        ExprKind::Const(kind, dims) => {
            out.push_str(kind.name());
            let dims: Vec<String> = dims.iter().map(ToString::to_string).collect();
            out.push('(');
            out.push_str(&dims.join(","));
            out.push(')');
        }
        ExprKind::Apply(name, args) => {
            out.push_str(name);
            write_args(out, args);
        }
        ExprKind::Size(of, axis) => {
            out.push_str("size(");
            write(out, of);
            out.push_str(&format!(", {})", axis.number()));
        }
        ExprKind::Grad(name, args) | ExprKind::Hess(name, args) => {
            out.push_str(if matches!(e.kind, ExprKind::Hess(..)) {
                "d2"
            } else {
                "d"
            });
            out.push_str(name);
            if !args.is_empty() {
                write_args(out, args);
            }
        }
        ExprKind::Delta(i, j) => {
            out.push_str("delta(");
            out.push_str(i);
            out.push(',');
            out.push_str(j);
            out.push(')');
        }
        ExprKind::IndexSum(indices, body) => {
            out.push_str("sum");
            write_indices(out, indices);
            write_args(out, std::slice::from_ref(&**body));
        }
    }
}
