//! Printers: the AST back to text, in three notations.
//!
//! - [`to_expr_string`] / [`expr_to_string`] write the input syntax with no
//!   redundant parentheses. Invariant: re-parsing the text with
//!   `parse_formula(text, &Decls::new())` gives an equal AST, for every tree
//!   the parser can produce from undeclared names (see `expr.rs` for the
//!   names that cannot round-trip).
//! - [`to_unicode`] / [`expr_to_unicode`] write for people in a terminal:
//!   `Xᵀ·∂L`, `A ⊙ B`, `Σₖ(…)`; the parser reads this text back to an equal
//!   AST too.
//! - [`to_latex`] / [`expr_to_latex`] write KaTeX-valid LaTeX.
//!
//! The three share one precedence ladder ([`Prec`]), one number format, and
//! one bracket rule for mixed products in the human notations
//! ([`human_lhs_needs_parens`]).
//! The printers recurse once per tree level, with small frames (helpers are
//! kept out of line): with the test profile a tree of depth
//! [`MAX_DEPTH`](super::MAX_DEPTH) prints within a 2 MiB thread stack, but
//! frame sizes depend on the build, so print trees that deep on a thread
//! with a large stack (the CLI does). This module uses only the AST of the
//! `syntax` layer.

mod expr;
mod latex;
mod unicode;

pub use expr::{expr_to_string, to_expr_string};
pub use latex::{expr_to_latex, to_latex};
pub use unicode::{expr_to_unicode, to_unicode};

use super::ast::{BinOp, Expr, ExprKind, FillKind, Func};

/// How tightly a printed node binds, loosest first. A node printed where a
/// tighter level is required gets parentheses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Prec {
    /// `a + b`, `a - b`.
    Sum,
    /// `a*b`, `a/b`, `a .* b`, `a ./ b`.
    Product,
    /// `-a`.
    Unary,
    /// `a'`, `a^b`, `a.^b`, `a[i]`.
    Postfix,
    /// Numbers, names, calls and anything self-delimiting.
    Atom,
}

/// The name of a constant-filled value in the input syntax.
fn fill_name(kind: FillKind) -> &'static str {
    match kind {
        FillKind::Vector => "vector",
        FillKind::Matrix => "matrix",
    }
}

/// The level of a binary operation.
fn binary_prec(op: BinOp) -> Prec {
    match op {
        BinOp::Add | BinOp::Sub => Prec::Sum,
        BinOp::Mul | BinOp::Div | BinOp::HadMul | BinOp::HadDiv => Prec::Product,
        BinOp::Pow | BinOp::HadPow => Prec::Postfix,
    }
}

/// The least levels an operator's left and right operands must have to be
/// printed bare. All operators are left-associative, so the right operand
/// must bind strictly tighter than the operator; the exponent of `^` and
/// `.^` has rules of its own in each notation.
fn operand_precs(op: BinOp) -> (Prec, Prec) {
    match op {
        BinOp::Add | BinOp::Sub => (Prec::Sum, Prec::Product),
        BinOp::Mul | BinOp::Div | BinOp::HadMul | BinOp::HadDiv => (Prec::Product, Prec::Unary),
        BinOp::Pow | BinOp::HadPow => (Prec::Postfix, Prec::Atom),
    }
}

/// The level of a node in the input syntax (and, unless a notation says
/// otherwise, in the human notations).
fn syntax_prec(e: &Expr) -> Prec {
    match &e.kind {
        ExprKind::Num(v) if *v < 0.0 => Prec::Unary,
        ExprKind::Neg(_) => Prec::Unary,
        ExprKind::Binary(op, _, _) => binary_prec(*op),
        ExprKind::Transpose(_) | ExprKind::Index(..) => Prec::Postfix,
        ExprKind::Num(_)
        | ExprKind::Var(_)
        | ExprKind::Call(..)
        | ExprKind::Fill { .. }
        | ExprKind::Const(..)
        | ExprKind::Apply(..)
        | ExprKind::Size(..)
        | ExprKind::Grad(..)
        | ExprKind::Hess(..)
        | ExprKind::Delta(..)
        | ExprKind::IndexSum(..) => Prec::Atom,
    }
}

/// The level of a node in the human notations, where `inv(X)` is the
/// postfix `X⁻¹` and a number in exponent form is a product `1.5·10⁻⁹`.
fn human_prec(e: &Expr) -> Prec {
    match &e.kind {
        ExprKind::Num(v) if *v >= 0.0 && is_scientific(*v) => Prec::Product,
        ExprKind::Call(Func::Inv, _) => Prec::Postfix,
        _ => syntax_prec(e),
    }
}

/// In the human notations a negation is parenthesized on the right of any
/// operator (`a·(−b)` rather than `a·−b`).
fn human_rhs_needs_parens(prec: Prec, least: Prec) -> bool {
    prec < least || prec == Prec::Unary
}

/// The product-level operator a node shows in the human notations: its own
/// for `·`, `/`, `⊙`, `⊘`, and `·` for a number in exponent form (`1.5·10⁻⁹`).
fn shown_product(e: &Expr) -> Option<BinOp> {
    match &e.kind {
        ExprKind::Binary(op @ (BinOp::Mul | BinOp::Div | BinOp::HadMul | BinOp::HadDiv), _, _) => {
            Some(*op)
        }
        ExprKind::Num(v) if *v >= 0.0 && is_scientific(*v) => Some(BinOp::Mul),
        _ => None,
    }
}

/// The bracket rule of the human notations for the left operand `lhs`
/// (printed at level `prec`) of `op`, which needs at least `least`.
///
/// The input syntax reads `*`, `/`, `.*` and `./` at one level from left to
/// right, but a reader of `A ⊙ X·C` binds `·` first and sees `A ⊙ (X·C)`.
/// So a product-level left operand is bare only under the same operator
/// (`A·B·C`, `A ⊙ B ⊙ C`), or when it is a `·` or `⊙` under `/`, where both
/// readings agree because `/` divides by a scalar (`A·B/c`, `A ⊙ B/c`);
/// any other mix is bracketed: `(A ⊙ X)·C`, `(A·B) ⊙ C`, `(A/c)·B`,
/// `(A ⊘ B)/c`. Right operands at
/// product level are always bracketed ([`operand_precs`]).
fn human_lhs_needs_parens(lhs: &Expr, prec: Prec, op: BinOp, least: Prec) -> bool {
    if prec < least {
        return true;
    }
    match shown_product(lhs) {
        Some(inner) if prec == Prec::Product && binary_prec(op) == Prec::Product => {
            let divides_alike = op == BinOp::Div && matches!(inner, BinOp::Mul | BinOp::HadMul);
            !(inner == op || divides_alike)
        }
        _ => false,
    }
}

/// Where a postfix operator of the human notations puts its mark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Script {
    /// `Xᵀ`, `X⁻¹`, `x²`, `X^\top`.
    Super,
    /// `Xᵢⱼ`, `X_{ij}`.
    Sub,
}

/// True when `e` can carry a script in the human notations without
/// parentheses: `Xᵀ`, `exp(X)ᵢⱼ`, `δᵢⱼ` but `(Xᵀ)ᵀ`, `(X⁻¹)ₗᵢ`, `(A·B)ᵀ`.
/// A node that already carries a subscript may take a superscript
/// (`Xᵢⱼ²`), never a second subscript; a superscript is never stacked.
fn carries_script(e: &Expr, script: Script) -> bool {
    match &e.kind {
        ExprKind::Num(v) => *v >= 0.0 && !is_scientific(*v),
        ExprKind::Var(_) | ExprKind::Fill { .. } | ExprKind::Apply(..) | ExprKind::Size(..) => true,
        ExprKind::Call(Func::Inv, _) => false,
        ExprKind::Call(Func::Norm1 | Func::Norm2, _) => script == Script::Super,
        ExprKind::Call(..) => true,
        ExprKind::Grad(_, args) | ExprKind::Hess(_, args) => {
            args.is_empty() && script == Script::Sub
        }
        ExprKind::Delta(..) | ExprKind::Const(..) | ExprKind::Index(..) => script == Script::Super,
        ExprKind::Neg(_)
        | ExprKind::Binary(..)
        | ExprKind::Transpose(_)
        | ExprKind::IndexSum(..) => false,
    }
}

/// The number as written in the input syntax: an integer without a decimal
/// point (`2`), otherwise Rust's shortest round-trip form (`0.1`), switching
/// to exponent form (`1e-300`) when that is more than four characters
/// shorter. Parsing the text gives back exactly `value`.
fn format_number(value: f64) -> String {
    if value == 0.0 {
        return "0".to_string();
    }
    let plain = format!("{value}");
    let scientific = format!("{value:e}");
    if scientific.len() + 4 < plain.len() {
        scientific
    } else {
        plain
    }
}

/// True when [`format_number`] writes `value` in exponent form.
fn is_scientific(value: f64) -> bool {
    format_number(value).contains('e')
}

/// Splits a number in exponent form into mantissa and exponent
/// (`1.5e-9` → `("1.5", "-9")`); `None` for plain numbers.
fn split_scientific(value: f64) -> Option<(String, String)> {
    let text = format_number(value);
    let (mantissa, exponent) = text.split_once('e')?;
    Some((mantissa.to_string(), exponent.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short_and_exact() {
        for (value, text) in [
            (2.0, "2"),
            (0.5, "0.5"),
            (1000.0, "1000"),
            (1e-300, "1e-300"),
            (1e22, "1e22"),
            (123456789.0, "123456789"),
            (0.1 + 0.2, "0.30000000000000004"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e308"),
            (-0.0, "0"),
        ] {
            assert_eq!(format_number(value), text);
            assert_eq!(text.parse::<f64>().unwrap(), value);
        }
    }

    #[test]
    fn scientific_parts() {
        assert_eq!(split_scientific(1.5e-9), Some(("1.5".into(), "-9".into())));
        assert_eq!(split_scientific(2.0), None);
    }
}
