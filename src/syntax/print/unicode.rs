//! Unicode for people: `Xᵀ·∂L`, `A ⊙ B`, `X⁻¹`, `x²`, `Σₖ(…)`, `δᵢⱼ`.
//!
//! Choices, for readability rather than cleverness:
//! - `·` matrix product, `⊙` Hadamard product, `⊘` element-wise division,
//!   `/` division by a scalar, `−` (U+2212) for minus;
//! - `Xᵀ` transpose and `X⁻¹` inverse, parenthesizing compound operands
//!   (`(A·B)ᵀ`, `(Xᵀ)⁻¹`); `x²` when the exponent is an integer literal,
//!   else `x^y` or `x^(…)`; the element-wise power is `X^⊙2`;
//! - indices, `δ`, `Σ` and the sizes of `I`, `𝟙`, `0` as subscripts when
//!   every index is one letter that Unicode has a subscript for
//!   (`a e h i j k l m n o p r s t u v x`, and digits for sizes), else in
//!   brackets: `X[i,j1]`, `δ[b,c]`, `Σ[q](…)`;
//! - `∂L` for the gradient `dL`, `∂L(E)` for `dL(E)`;
//! - `𝟙` (double-struck one) for `vector(1)`, `𝟙₄` for `ones(4)`, `0₃ₓ₄`
//!   for `zeros(3,4)`, `Iₙ` for `eye(n)`;
//! - `|x|` for `abs`, `‖x‖₁` and `‖x‖₂` for the norms, other functions by
//!   name: `tr(X)`, `det(X)`, `exp(X)`, `sigmoid(X)`.
//!
//! The output parses back (`parse_formula` reads this notation) to an
//! equal AST, for the same trees as the input-syntax printer. For that, a
//! few marks are kept unambiguous: `⁻¹` is only the inverse (the power −1
//! is `x^(−1)`); a superscript on a bare `10` only writes a number
//! (`10⁻⁹`, while the power is `(10)²`); a subscript on `I`, `𝟙` or `0`
//! only writes a size (`Iₙ`; indexing them is `(I)ₙ`); and a size with the
//! letter `x` in it, which would read as the separator `ₓ`, is written
//! `ones(x)`.

use super::{
    carries_script, fill_name, format_number, human_lhs_needs_parens, human_prec,
    human_rhs_needs_parens, operand_precs, split_scientific, Prec, Script,
};
use crate::syntax::ast::{BinOp, ConstKind, DimSpec, Expr, ExprKind, FillKind, Formula, Func};
use crate::syntax::scripts::{subscript, superscript};

/// The formula for people, `Gᵢⱼ = …` for an index form.
///
/// ```
/// use matcalc::syntax::{parse_formula, to_unicode, Decls};
/// let f = parse_formula("G[i,j] = dL[i,k]*W[j,k]", &Decls::new()).unwrap();
/// assert_eq!(to_unicode(&f), "Gᵢⱼ = ∂Lᵢₖ·Wⱼₖ");
/// ```
pub fn to_unicode(formula: &Formula) -> String {
    let mut out = String::new();
    if let Some(lhs) = &formula.lhs {
        out.push_str(&lhs.name);
        write_indices(&mut out, &lhs.indices);
        out.push_str(" = ");
    }
    write(&mut out, &formula.body);
    out
}

/// The expression for people.
///
/// ```
/// use matcalc::syntax::{parse_expr, expr_to_unicode, Decls};
/// let e = parse_expr("inv(X)'*A .* b'^2", &Decls::new()).unwrap();
/// assert_eq!(expr_to_unicode(&e), "((X⁻¹)ᵀ·A) ⊙ (bᵀ)²");
/// ```
pub fn expr_to_unicode(expr: &Expr) -> String {
    let mut out = String::new();
    write(&mut out, expr);
    out
}

/// `text` in subscript characters, if every character has one.
fn subscript_text(text: &str) -> Option<String> {
    text.chars().map(subscript).collect()
}

fn superscript_text(text: &str) -> Option<String> {
    text.chars().map(superscript).collect()
}

/// Indices as a subscript: only when each is one letter with a subscript
/// form, so that `ᵢⱼ` cannot be misread.
fn index_subscript(indices: &[String]) -> Option<String> {
    indices
        .iter()
        .map(|i| {
            if i.chars().count() == 1 {
                subscript_text(i)
            } else {
                None
            }
        })
        .collect()
}

/// Sizes as a subscript, `ₙ` or `₃ₓ₄`; none when a size holds an `x`,
/// which would read as the separator.
fn size_subscript(dims: &[DimSpec]) -> Option<String> {
    let parts: Option<Vec<String>> = dims
        .iter()
        .map(|d| d.to_string())
        .map(|d| {
            if d.contains('x') {
                None
            } else {
                subscript_text(&d)
            }
        })
        .collect();
    Some(parts?.join("ₓ"))
}

/// An integer exponent in superscript digits (`²`, `⁻¹`).
#[inline(never)]
fn superscript_exponent(e: &Expr) -> Option<String> {
    let (sign, value) = match &e.kind {
        ExprKind::Num(v) => ("", *v),
        ExprKind::Neg(inner) => match inner.kind {
            ExprKind::Num(v) => ("-", v),
            _ => return None,
        },
        _ => return None,
    };
    let digits = format_number(value);
    // `⁻¹` is the inverse: the power −1 is written `x^(−1)`.
    if value.fract() != 0.0 || digits.contains('e') || (sign == "-" && value == 1.0) {
        return None;
    }
    superscript_text(&format!("{sign}{digits}"))
}

#[inline(never)]
fn write_indices(out: &mut String, indices: &[String]) {
    match index_subscript(indices) {
        Some(sub) => out.push_str(&sub),
        None => {
            out.push('[');
            out.push_str(&indices.join(","));
            out.push(']');
        }
    }
}

#[inline(never)]
fn write_number(out: &mut String, value: f64) {
    if value < 0.0 {
        out.push('−');
    }
    match split_scientific(value.abs()) {
        Some((mantissa, exponent)) => {
            if mantissa != "1" {
                out.push_str(&mantissa);
                out.push('·');
            }
            out.push_str("10");
            out.push_str(&superscript_text(&exponent).unwrap_or(exponent));
        }
        None => out.push_str(&format_number(value.abs())),
    }
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

/// Writes the operand of a script, bracketed unless it carries the script
/// bare; a bare `10` never takes a superscript and `I`, `𝟙`, `0` never an
/// index subscript, since those would read as a number or a size.
fn write_script_base(out: &mut String, e: &Expr, script: Script) {
    let reserved = match (&e.kind, script) {
        (ExprKind::Num(v), Script::Super) => *v == 10.0,
        (ExprKind::Num(v), Script::Sub) => *v == 0.0,
        (ExprKind::Var(name), Script::Sub) => name == "I",
        (ExprKind::Fill { kind, value, .. }, Script::Sub) => {
            *kind == FillKind::Vector && matches!(value.kind, ExprKind::Num(v) if v == 1.0)
        }
        _ => false,
    };
    write_grouped(out, e, reserved || !carries_script(e, script));
}

fn write_call(out: &mut String, name: &str, args: &[Expr]) {
    out.push_str(name);
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
        BinOp::Sub => " − ",
        BinOp::Mul => "·",
        BinOp::Div => "/",
        BinOp::HadMul => " ⊙ ",
        BinOp::HadDiv => " ⊘ ",
        BinOp::Pow => "^",
        BinOp::HadPow => "^⊙",
    }
}

#[inline(never)]
fn write_power(out: &mut String, op: BinOp, base: &Expr, exponent: &Expr) {
    write_script_base(out, base, Script::Super);
    if op == BinOp::Pow {
        if let Some(sup) = superscript_exponent(exponent) {
            out.push_str(&sup);
            return;
        }
    }
    out.push_str(operator_text(op));
    write_grouped(out, exponent, human_prec(exponent) < Prec::Atom);
}

#[inline(never)]
fn write_function(out: &mut String, func: Func, arg: &Expr) {
    match func {
        Func::Inv => {
            write_script_base(out, arg, Script::Super);
            out.push_str("⁻¹");
        }
        Func::Abs => {
            out.push('|');
            write(out, arg);
            out.push('|');
        }
        Func::Norm1 | Func::Norm2 => {
            out.push('‖');
            write(out, arg);
            out.push_str(if func == Func::Norm1 {
                "‖₁"
            } else {
                "‖₂"
            });
        }
        _ => write_call(out, func.name(), std::slice::from_ref(arg)),
    }
}

#[inline(never)]
fn write_const(out: &mut String, kind: ConstKind, dims: &[DimSpec]) {
    let symbol = match kind {
        ConstKind::Eye => "I",
        ConstKind::Ones => "𝟙",
        ConstKind::Zeros => "0",
    };
    match size_subscript(dims) {
        Some(sub) => {
            out.push_str(symbol);
            out.push_str(&sub);
        }
        None => {
            let dims: Vec<String> = dims.iter().map(ToString::to_string).collect();
            out.push_str(kind.name());
            out.push('(');
            out.push_str(&dims.join(","));
            out.push(')');
        }
    }
}

/// Writes any node. The helpers it calls are kept out of line so that its
/// own stack frame, paid once per tree level, stays small.
fn write(out: &mut String, e: &Expr) {
    match &e.kind {
        ExprKind::Num(v) => write_number(out, *v),
        ExprKind::Var(name) => out.push_str(name),
        ExprKind::Neg(inner) => {
            out.push('−');
            write_grouped(out, inner, human_prec(inner) < Prec::Postfix);
        }
        ExprKind::Binary(op @ (BinOp::Pow | BinOp::HadPow), base, exponent) => {
            write_power(out, *op, base, exponent);
        }
        ExprKind::Binary(op, lhs, rhs) => {
            let (left, right) = operand_precs(*op);
            write_grouped(
                out,
                lhs,
                human_lhs_needs_parens(lhs, human_prec(lhs), *op, left),
            );
            out.push_str(operator_text(*op));
            write_grouped(out, rhs, human_rhs_needs_parens(human_prec(rhs), right));
        }
        ExprKind::Transpose(inner) => {
            write_script_base(out, inner, Script::Super);
            out.push('ᵀ');
        }
        ExprKind::Index(base, indices) => {
            write_script_base(out, base, Script::Sub);
            write_indices(out, indices);
        }
        ExprKind::Call(func, arg) => write_function(out, *func, arg),
        ExprKind::Fill { kind, value, .. } => match (kind, &value.kind) {
            (FillKind::Vector, ExprKind::Num(v)) if *v == 1.0 => out.push('𝟙'),
            _ => write_call(out, fill_name(*kind), std::slice::from_ref(&**value)),
        },
        ExprKind::Const(kind, dims) => write_const(out, *kind, dims),
        ExprKind::Apply(name, args) => write_call(out, name, args),
        ExprKind::Size(of, axis) => write_call(
            out,
            "size",
            &[(**of).clone(), Expr::num(f64::from(axis.number()))],
        ),
        ExprKind::Grad(name, args) | ExprKind::Hess(name, args) => {
            out.push_str(if matches!(e.kind, ExprKind::Hess(..)) {
                "∂²"
            } else {
                "∂"
            });
            out.push_str(name);
            if !args.is_empty() {
                write_call(out, "", args);
            }
        }
        ExprKind::Delta(i, j) => {
            out.push('δ');
            write_indices(out, &[i.clone(), j.clone()]);
        }
        ExprKind::IndexSum(indices, body) => {
            out.push('Σ');
            write_indices(out, indices);
            write_call(out, "", std::slice::from_ref(&**body));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::{parse_formula, Decls};

    fn unicode(text: &str) -> String {
        to_unicode(&parse_formula(text, &Decls::new()).unwrap())
    }

    #[test]
    fn operators_and_scripts() {
        for (text, expected) in [
            ("X'*dL", "Xᵀ·∂L"),
            ("(A*B)'", "(A·B)ᵀ"),
            ("(-x)'", "(−x)ᵀ"),
            ("inv(X)", "X⁻¹"),
            ("inv(A*B)'", "((A·B)⁻¹)ᵀ"),
            (
                "x^2 + y^-2 + z^2.5 + w^(a+b)",
                "x² + y⁻² + z^2.5 + w^(a + b)",
            ),
            // `⁻¹` is kept for the inverse.
            ("y^-1 + inv(Y)", "y^(−1) + Y⁻¹"),
            // A superscript on a bare 10 writes a number, a subscript on
            // `I`, `𝟙` or `0` a size.
            ("10^2 + 1e20", "(10)² + 10²⁰"),
            ("I[n] + vector(1)[i] + eye(n)", "(I)ₙ + (𝟙)ᵢ + Iₙ"),
            ("ones(x) + zeros(n,m)", "ones(x) + 0ₙₓₘ"),
            ("X.^2 ./ Y", "X^⊙2 ⊘ Y"),
            ("a - -b", "a − (−b)"),
            ("a*(b*c)", "a·(b·c)"),
            ("abs(x) + norm2(x)^2 + norm1(X)", "|x| + ‖x‖₂² + ‖X‖₁"),
            ("dL(X) + dL(X')'", "∂L(X) + (∂L(Xᵀ))ᵀ"),
            ("M'*vector(1) + vector(2)", "Mᵀ·𝟙 + vector(2)"),
            ("eye(n) + ones(3,4) + zeros(q)", "Iₙ + 𝟙₃ₓ₄ + zeros(q)"),
            ("1e-300*x", "10⁻³⁰⁰·x"),
            ("1.5e-300*x", "1.5·10⁻³⁰⁰·x"),
        ] {
            assert_eq!(unicode(text), expected, "{text}");
        }
    }

    /// Mixed product-level operators are bracketed so that the text reads
    /// as the tree does, whatever binding a reader gives `·`, `⊙`, `⊘`.
    #[test]
    fn mixed_products_are_bracketed() {
        for (text, expected) in [
            ("(A .* X)*C", "(A ⊙ X)·C"),
            ("A .* (X*C)", "A ⊙ (X·C)"),
            ("A*B .* C", "(A·B) ⊙ C"),
            ("A ./ B .* C", "(A ⊘ B) ⊙ C"),
            ("A .* B ./ C", "(A ⊙ B) ⊘ C"),
            ("A .* B .* C", "A ⊙ B ⊙ C"),
            ("A*B*C", "A·B·C"),
            ("A*B/c", "A·B/c"),
            ("A/c*B", "(A/c)·B"),
            ("A .* B/c", "A ⊙ B/c"),
            ("A ./ B/c", "(A ⊘ B)/c"),
            ("a/b/c", "a/b/c"),
            ("1e-300*x .* y", "(10⁻³⁰⁰·x) ⊙ y"),
            ("1e-300 .* y", "(10⁻³⁰⁰) ⊙ y"),
            ("-A .* X*C", "(−A ⊙ X)·C"),
            ("(A + B) .* C - D*E'", "(A + B) ⊙ C − D·Eᵀ"),
        ] {
            assert_eq!(unicode(text), expected, "{text}");
        }
    }

    #[test]
    fn indices() {
        for (text, expected) in [
            ("G[i,j] = delta(i,j)*X[i,j]", "Gᵢⱼ = δᵢⱼ·Xᵢⱼ"),
            ("g[j] = sum[k](dL[k,j])", "gⱼ = Σₖ(∂Lₖⱼ)"),
            ("G[i,j1] = X[i,j1]*delta(b,c)", "G[i,j1] = X[i,j1]·δ[b,c]"),
            ("g[i] = sum[q](inv(X)[i,q])", "gᵢ = Σ[q]((X⁻¹)[i,q])"),
            ("h[i] = (X'*B)[i,k]*y[k]", "hᵢ = (Xᵀ·B)ᵢₖ·yₖ"),
        ] {
            assert_eq!(unicode(text), expected, "{text}");
        }
    }
}
