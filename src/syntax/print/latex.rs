//! LaTeX that KaTeX renders: `X^\top`, `X^{-1}`, `A \odot B`,
//! `\frac{a}{b}`, `\sum_{k}`, `\delta_{ij}`, `X_{ij}`, `\partial L`.
//!
//! Choices:
//! - the matrix product is juxtaposition (`A B`), with `\cdot` before a
//!   number (`X \cdot 2`); `/` is `\frac`; `.^` is the Hadamard power
//!   `X^{\odot 2}`;
//! - a script never stacks on a script of the same kind (KaTeX rejects
//!   `X^\top^{2}`): such operands are parenthesized, `\left(X^\top\right)^{2}`;
//! - indices are joined without commas when each is one character
//!   (`X_{ij}`), with commas otherwise (`X_{i,j1}`);
//! - names: one letter as is, Greek names as Greek letters (`\lambda`), a
//!   letter and digits as a subscripted letter (`W_{1}`), anything else in
//!   `\mathit{…}`;
//! - `\mathbf{1}` for `vector(1)`, `\mathbf{1}_{3 \times 4}` for `ones(3,4)`,
//!   `I_{n}` for `eye(n)`; functions with a LaTeX command use it (`\exp`,
//!   `\log`, `\det`, `\sqrt{…}`), the others `\operatorname{…}`.

use super::{
    carries_script, fill_name, format_number, human_lhs_needs_parens, human_prec,
    human_rhs_needs_parens, operand_precs, split_scientific, Prec, Script,
};
use crate::syntax::ast::{BinOp, ConstKind, DimSpec, Expr, ExprKind, FillKind, Formula, Func};
use crate::syntax::names::GREEK;

/// The formula in LaTeX, `G_{ij} = …` for an index form.
///
/// ```
/// use matcalc::syntax::{parse_formula, to_latex, Decls};
/// let f = parse_formula("G[i,j] = dL[i,k]*W[j,k]", &Decls::new()).unwrap();
/// assert_eq!(to_latex(&f), r"G_{ij} = \partial L_{ik} W_{jk}");
/// ```
pub fn to_latex(formula: &Formula) -> String {
    let mut out = String::new();
    if let Some(lhs) = &formula.lhs {
        out.push_str(&latex_name(&lhs.name));
        write_subscript(&mut out, &lhs.indices);
        out.push_str(" = ");
    }
    write(&mut out, &formula.body);
    out
}

/// The expression in LaTeX.
///
/// ```
/// use matcalc::syntax::{parse_expr, expr_to_latex, Decls};
/// let e = parse_expr("inv(X)'*A/2", &Decls::new()).unwrap();
/// assert_eq!(expr_to_latex(&e), r"\frac{\left(X^{-1}\right)^\top A}{2}");
/// ```
pub fn expr_to_latex(expr: &Expr) -> String {
    let mut out = String::new();
    write(&mut out, expr);
    out
}

/// A variable or function name in LaTeX.
#[inline(never)]
fn latex_name(name: &str) -> String {
    let mut chars = name.chars();
    let first = chars.next();
    let rest = chars.as_str();
    if GREEK.contains(&name) {
        return format!("\\{name}");
    }
    match first {
        Some(c) if c.is_ascii_alphabetic() && rest.is_empty() => name.to_string(),
        Some(c) if c.is_ascii_alphabetic() && rest.chars().all(|d| d.is_ascii_digit()) => {
            format!("{c}_{{{rest}}}")
        }
        _ => format!("\\mathit{{{}}}", name.replace('_', "\\_")),
    }
}

/// The command for a function with its own LaTeX form.
fn function_command(func: Func) -> String {
    match func {
        Func::Det => "\\det".to_string(),
        Func::Logdet => "\\log\\det".to_string(),
        Func::Exp => "\\exp".to_string(),
        Func::Log => "\\log".to_string(),
        Func::Sin => "\\sin".to_string(),
        Func::Cos => "\\cos".to_string(),
        Func::Tanh => "\\tanh".to_string(),
        Func::Tan => "\\tan".to_string(),
        _ => format!("\\operatorname{{{}}}", func.name()),
    }
}

#[inline(never)]
fn write_subscript(out: &mut String, indices: &[String]) {
    let separator = if indices.iter().all(|i| i.chars().count() == 1) {
        ""
    } else {
        ","
    };
    out.push_str("_{");
    out.push_str(&indices.join(separator));
    out.push('}');
}

#[inline(never)]
fn write_size(out: &mut String, dims: &[DimSpec]) {
    let dims: Vec<String> = dims.iter().map(ToString::to_string).collect();
    out.push_str("_{");
    out.push_str(&dims.join(" \\times "));
    out.push('}');
}

#[inline(never)]
fn write_number(out: &mut String, value: f64) {
    if value < 0.0 {
        out.push('-');
    }
    match split_scientific(value.abs()) {
        Some((mantissa, exponent)) => {
            if mantissa != "1" {
                out.push_str(&mantissa);
                out.push_str(" \\cdot ");
            }
            out.push_str("10^{");
            out.push_str(&exponent);
            out.push('}');
        }
        None => out.push_str(&format_number(value.abs())),
    }
}

/// The level of a node in LaTeX: a `\frac` delimits itself.
fn prec(e: &Expr) -> Prec {
    match &e.kind {
        ExprKind::Binary(BinOp::Div, _, _) => Prec::Atom,
        _ => human_prec(e),
    }
}

fn write_grouped(out: &mut String, e: &Expr, parens: bool) {
    if parens {
        out.push_str("\\left(");
        write(out, e);
        out.push_str("\\right)");
    } else {
        write(out, e);
    }
}

/// Writes the operand of a script; a name that already has a subscript
/// (`W_{1}`) is braced before a second one (`{W_{1}}_{ij}`).
fn write_script_base(out: &mut String, e: &Expr, script: Script) {
    if !carries_script(e, script) {
        write_grouped(out, e, true);
    } else if script == Script::Sub && has_subscript(e) {
        out.push('{');
        write(out, e);
        out.push('}');
    } else {
        write(out, e);
    }
}

/// True for a name written with a subscript (`W_{1}`).
#[inline(never)]
fn has_subscript(e: &Expr) -> bool {
    matches!(&e.kind, ExprKind::Var(name) if latex_name(name).contains('_'))
}

fn write_args(out: &mut String, args: &[Expr]) {
    out.push_str("\\left(");
    for (n, arg) in args.iter().enumerate() {
        if n > 0 {
            out.push_str(", ");
        }
        write(out, arg);
    }
    out.push_str("\\right)");
}

#[inline(never)]
fn write_binary(out: &mut String, op: BinOp, lhs: &Expr, rhs: &Expr) {
    match op {
        BinOp::Div => {
            out.push_str("\\frac{");
            write(out, lhs);
            out.push_str("}{");
            write(out, rhs);
            out.push('}');
            return;
        }
        BinOp::Pow | BinOp::HadPow => {
            write_script_base(out, lhs, Script::Super);
            out.push_str(if op == BinOp::Pow { "^{" } else { "^{\\odot " });
            write(out, rhs);
            out.push('}');
            return;
        }
        _ => {}
    }
    let (left, right) = operand_precs(op);
    write_grouped(out, lhs, human_lhs_needs_parens(lhs, prec(lhs), op, left));
    let at = out.len();
    write_grouped(out, rhs, human_rhs_needs_parens(prec(rhs), right));
    let separator = match op {
        BinOp::Add => " + ",
        BinOp::Sub => " - ",
        BinOp::HadMul => " \\odot ",
        BinOp::HadDiv => " \\oslash ",
        _ if out[at..].starts_with(|c: char| c.is_ascii_digit()) => " \\cdot ",
        _ => " ",
    };
    out.insert_str(at, separator);
}

#[inline(never)]
fn write_function(out: &mut String, func: Func, arg: &Expr) {
    match func {
        Func::Inv => {
            write_script_base(out, arg, Script::Super);
            out.push_str("^{-1}");
        }
        Func::Sqrt => {
            out.push_str("\\sqrt{");
            write(out, arg);
            out.push('}');
        }
        Func::Abs => {
            out.push_str("\\left|");
            write(out, arg);
            out.push_str("\\right|");
        }
        Func::Norm1 | Func::Norm2 => {
            out.push_str("\\left\\lVert ");
            write(out, arg);
            out.push_str(if func == Func::Norm1 {
                "\\right\\rVert_1"
            } else {
                "\\right\\rVert_2"
            });
        }
        _ => {
            out.push_str(&function_command(func));
            write_args(out, std::slice::from_ref(arg));
        }
    }
}

#[inline(never)]
fn write_fill(out: &mut String, kind: FillKind, value: &Expr) {
    match (kind, &value.kind) {
        (FillKind::Vector, ExprKind::Num(v)) if *v == 1.0 => out.push_str("\\mathbf{1}"),
        _ => {
            out.push_str("\\operatorname{");
            out.push_str(fill_name(kind));
            out.push('}');
            write_args(out, std::slice::from_ref(value));
        }
    }
}

/// Writes any node. The helpers it calls are kept out of line so that its
/// own stack frame, paid once per tree level, stays small.
fn write(out: &mut String, e: &Expr) {
    match &e.kind {
        ExprKind::Num(v) => write_number(out, *v),
        ExprKind::Var(name) => out.push_str(&latex_name(name)),
        ExprKind::Neg(inner) => {
            out.push('-');
            write_grouped(out, inner, prec(inner) < Prec::Postfix);
        }
        ExprKind::Binary(op, lhs, rhs) => write_binary(out, *op, lhs, rhs),
        ExprKind::Transpose(inner) => {
            write_script_base(out, inner, Script::Super);
            out.push_str("^\\top");
        }
        ExprKind::Index(base, indices) => {
            write_script_base(out, base, Script::Sub);
            write_subscript(out, indices);
        }
        ExprKind::Call(func, arg) => write_function(out, *func, arg),
        ExprKind::Fill { kind, value, .. } => write_fill(out, *kind, value),
        ExprKind::Const(kind, dims) => {
            out.push_str(match kind {
                ConstKind::Eye => "I",
                ConstKind::Ones => "\\mathbf{1}",
                ConstKind::Zeros => "\\mathbf{0}",
            });
            write_size(out, dims);
        }
        ExprKind::Apply(name, args) => {
            out.push_str(&latex_name(name));
            write_args(out, args);
        }
        ExprKind::Size(of, axis) => {
            out.push_str("\\operatorname{size}");
            write_args(out, &[(**of).clone(), Expr::num(f64::from(axis.number()))]);
        }
        ExprKind::Grad(name, args) | ExprKind::Hess(name, args) => {
            out.push_str(if matches!(e.kind, ExprKind::Hess(..)) {
                "\\partial^2 "
            } else {
                "\\partial "
            });
            out.push_str(&latex_name(name));
            if !args.is_empty() {
                write_args(out, args);
            }
        }
        ExprKind::Delta(i, j) => {
            out.push_str("\\delta");
            write_subscript(out, &[i.clone(), j.clone()]);
        }
        ExprKind::IndexSum(indices, body) => {
            out.push_str("\\sum_{");
            out.push_str(&indices.join(","));
            out.push_str("} ");
            write_grouped(out, body, true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::{parse_formula, Decls};

    fn latex(text: &str) -> String {
        to_latex(&parse_formula(text, &Decls::new()).unwrap())
    }

    #[test]
    fn operators_and_scripts() {
        for (text, expected) in [
            ("X'*dL", r"X^\top \partial L"),
            ("(A*B)'", r"\left(A B\right)^\top"),
            ("x'^2", r"\left(x^\top\right)^{2}"),
            ("inv(X)'", r"\left(X^{-1}\right)^\top"),
            ("X.^2 ./ Y", r"X^{\odot 2} \oslash Y"),
            ("(a + b)/(c*d)", r"\frac{a + b}{c d}"),
            ("(a/b)'", r"\left(\frac{a}{b}\right)^\top"),
            ("X*2 + 2*X", r"X \cdot 2 + 2 X"),
            ("a - -b", r"a - \left(-b\right)"),
            (
                "tr(X) + det(X) + logdet(X)",
                r"\operatorname{tr}\left(X\right) + \det\left(X\right) + \log\det\left(X\right)",
            ),
            (
                "sqrt(x) + abs(x) + norm2(x)^2",
                r"\sqrt{x} + \left|x\right| + \left\lVert x\right\rVert_2^{2}",
            ),
            (
                "sigmoid(X) + relu(X)",
                r"\operatorname{sigmoid}\left(X\right) + \operatorname{relu}\left(X\right)",
            ),
            (
                "M'*vector(1) + eye(n) + ones(3,4)",
                r"M^\top \mathbf{1} + I_{n} + \mathbf{1}_{3 \times 4}",
            ),
            (
                "lambda*W1 + lam*x_1",
                r"\lambda W_{1} + \mathit{lam} \mathit{x\_1}",
            ),
            ("1.5e-300*x", r"1.5 \cdot 10^{-300} x"),
            ("dL(X')", r"\partial L\left(X^\top\right)"),
            // Mixed product-level operators are bracketed (see the rule in
            // `print/mod.rs`); `/` is a fraction and delimits itself.
            ("(A .* X)*C", r"\left(A \odot X\right) C"),
            ("A*B .* C", r"\left(A B\right) \odot C"),
            ("A ./ B .* C", r"\left(A \oslash B\right) \odot C"),
            ("A .* B .* C", r"A \odot B \odot C"),
            ("A/c*B", r"\frac{A}{c} B"),
        ] {
            assert_eq!(latex(text), expected, "{text}");
        }
    }

    #[test]
    fn indices() {
        for (text, expected) in [
            ("G[i,j] = delta(i,j)*X[i,j]", r"G_{ij} = \delta_{ij} X_{ij}"),
            ("G[i,j1] = W1[i,j1]", r"G_{i,j1} = {W_{1}}_{i,j1}"),
            (
                "g[j] = sum[k,p](dL[k,j])",
                r"g_{j} = \sum_{k,p} \left(\partial L_{kj}\right)",
            ),
            (
                "h[i] = (X'*B)[i,k]*inv(X)[k,i]",
                r"h_{i} = \left(X^\top B\right)_{ik} \left(X^{-1}\right)_{ki}",
            ),
        ] {
            assert_eq!(latex(text), expected, "{text}");
        }
    }
}
