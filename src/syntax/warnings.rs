//! Warnings about input that parses but probably does not say what was
//! meant. A warning is data (a [`Warning`] with a span); only the CLI prints
//! it, on standard error, and the result is still computed.
//!
//! One kind so far: a transposed name that defaulted to a scalar. By the
//! default shapes (names starting with a–g are scalars), the bias `b` in
//! `L(X*W + b')` is a scalar, and `b'` transposes nothing; the user almost
//! always meant a vector.

use super::ast::{Expr, ExprKind, Formula, Span};
use super::decls::Decls;
use super::diagnostic::Diagnostic;

/// Something in the input that is probably not what was meant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Warning {
    /// `b'` where `b` is a scalar by default.
    TransposedScalar {
        /// The name.
        name: String,
        /// Where the transpose is.
        span: Span,
    },
}

impl Warning {
    /// The warning as a diagnostic, rendered with
    /// [`Diagnostic::render_warning`].
    pub fn diagnostic(&self) -> Diagnostic {
        match self {
            Warning::TransposedScalar { name, span } => Diagnostic::new(format!(
                "`{name}` is a scalar by default (names starting with a–g are scalars), so `{name}'` transposes nothing"
            ))
            .with_label(*span, "a transposed scalar")
            .with_help(format!(
                "for a bias vector, declare its length: --let '{name}: m' (a vector of m entries; `{name}'` is then a row added to every row)"
            )),
        }
    }
}

/// True when an undeclared `name` has a scalar shape by default: it starts
/// with a letter from a to g.
pub fn defaults_to_scalar(name: &str) -> bool {
    matches!(name.chars().next(), Some('a'..='g'))
}

/// The warnings about `formula` under `decls`, in source order.
///
/// ```
/// use matcalc::syntax::{parse_formula, warnings, Decls};
/// let decls = Decls::new();
/// let f = parse_formula("L(X*W + b')", &decls).unwrap();
/// assert_eq!(warnings(&f, &decls).len(), 1);
/// ```
pub fn warnings(formula: &Formula, decls: &Decls) -> Vec<Warning> {
    let mut found = Vec::new();
    // An explicit stack: the tree may be as deep as the parser allows.
    let mut stack: Vec<&Expr> = vec![&formula.body];
    while let Some(e) = stack.pop() {
        if let ExprKind::Transpose(inner) = &e.kind {
            if let ExprKind::Var(name) = &inner.kind {
                if decls.get(name).is_none() && defaults_to_scalar(name) {
                    found.push(Warning::TransposedScalar {
                        name: name.clone(),
                        span: e.span,
                    });
                }
            }
        }
        stack.extend(e.children().into_iter().rev());
    }
    found.sort_by_key(|w| match w {
        Warning::TransposedScalar { span, .. } => span.start,
    });
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::parse_formula;

    fn warned(text: &str, declared: &str) -> Vec<String> {
        let mut decls = Decls::new();
        if !declared.is_empty() {
            decls.extend_from_str(declared).unwrap();
        }
        let formula = parse_formula(text, &decls).unwrap();
        warnings(&formula, &decls)
            .into_iter()
            .map(|w| match w {
                Warning::TransposedScalar { name, .. } => name,
            })
            .collect()
    }

    #[test]
    fn transposed_default_scalars() {
        assert_eq!(warned("L(X*W + b')", ""), ["b"]);
        assert_eq!(warned("c'*x + b1' + (a*x)'", ""), ["c", "b1"]);
        assert_eq!(warned("L(X*W + b')", "b: m"), Vec::<String>::new());
        assert_eq!(warned("x' + W' + b", ""), Vec::<String>::new());
    }
}
