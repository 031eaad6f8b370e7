//! Rendering derivations for people and programs: Unicode text with `where`
//! bindings, Markdown, LaTeX, the input syntax, and JSON.
//!
//! Invariant: pure functions from results to strings; only the CLI prints.

use serde::Serialize;

use crate::derive::{Derivation, Derivative, Form};
pub use crate::proof::label;
use crate::proof::latex_label;
use crate::readback::Listing;
use crate::syntax::{name_repeated, to_expr_string, to_latex, to_unicode, Expr, ExprKind, Formula};

/// Smallest subexpression (in nodes) worth a `where` name.
const MIN_SHARED_NODES: usize = 4;

/// A derivative prepared for display: the left-hand side label, the result
/// with the gradient of the loss and repeated subexpressions named, and the
/// bindings.
#[derive(Clone, Debug)]
pub struct Presented {
    /// `∂L/∂X`, `∂f/∂x`, `∂²f/∂x∂y`.
    pub label: String,
    /// The result with names substituted.
    pub formula: Formula,
    /// `(name, expression)` pairs, in order of first use.
    pub bindings: Vec<(String, Expr)>,
}

/// Prepares the derivative `k` of `d` for text display: a matrix-form
/// result with its shared intermediates named `E₁, E₂, …` in one pass over
/// the DAG (children first, so the bindings read top-down and grow
/// linearly with the DAG), an index-form one with its repeated
/// subexpressions named. With `flat`, every result is a tree with its
/// repeated subexpressions named (the printout may grow quadratically).
pub fn display(d: &Derivation, k: usize, taken: &[String], flat: bool) -> Presented {
    let expr = &d.typed.formula.body;
    let derivative = &d.derivatives[k];
    let mut bindings = Vec::new();
    let mut used: Vec<String> = taken.to_vec();
    let mut shown_gradients = Vec::new();
    // The gradient of each abstract function at a compound argument: ∂L/∂Y
    // (and its Hessian ∂²L/∂Y²).
    for (name, arg) in expr.loss_arguments() {
        let at = match &arg.kind {
            ExprKind::Var(v) => v.clone(),
            _ => {
                let y = fresh_name(&["Y", "Z", "U", "V"], &used);
                used.push(y.clone());
                bindings.push((y.clone(), arg.clone()));
                y
            }
        };
        let shown = [format!("∂{name}/∂{at}"), format!("∂²{name}/∂{at}²")];
        shown_gradients.push((name, shown));
    }
    let listing = if flat {
        Listing {
            bindings: Vec::new(),
            results: vec![derivative.formula().clone()],
        }
    } else {
        Listing::of(d, &[k], &used, &|k| format!("E{}", subscript(k + 1)))
    };
    let mut body = listing.results[0].body.clone();
    let mut shared = listing.bindings;
    if shared.is_empty() {
        // Repeated subexpressions of a tree (an index form): E₁, E₂, …
        let (named, repeated) =
            name_repeated(body, MIN_SHARED_NODES, |k| format!("E{}", subscript(k + 1)));
        body = named;
        shared = repeated;
    }
    bindings.extend(shared);
    for (name, shown) in &shown_gradients {
        body = replace_bare_gradient(body, name, shown);
        for (_, e) in bindings.iter_mut() {
            *e = replace_bare_gradient(e.clone(), name, shown);
        }
    }
    Presented {
        label: label(expr, &derivative.wrt),
        formula: Formula {
            lhs: listing.results[0].lhs.clone(),
            body,
        },
        bindings,
    }
}

fn fresh_name(candidates: &[&str], used: &[String]) -> String {
    candidates
        .iter()
        .find(|c| !used.iter().any(|u| u == *c))
        .map_or_else(|| "Y₀".to_string(), |c| c.to_string())
}

fn subscript(n: usize) -> String {
    n.to_string()
        .chars()
        .map(|c| char::from_u32(0x2080 + c.to_digit(10).unwrap_or(0)).unwrap_or(c))
        .collect()
}

/// `expr` with the bare gradient `dL` of `name` shown as `shown[0]` (∂L/∂Y)
/// and its bare Hessian `d2L` as `shown[1]` (∂²L/∂Y²).
fn replace_bare_gradient(expr: Expr, name: &str, shown: &[String; 2]) -> Expr {
    let bare = |e: &Expr| match &e.kind {
        ExprKind::Grad(n, args) if n == name && args.is_empty() => Some(&shown[0]),
        ExprKind::Hess(n, args) if n == name && args.is_empty() => Some(&shown[1]),
        _ => None,
    };
    match &expr.kind {
        // A transposed ∂L/∂Y keeps its parentheses: (∂L/∂Y)ᵀ.
        ExprKind::Transpose(inner) if bare(inner).is_some() => {
            let text = format!("({})", bare(inner).map_or("", String::as_str));
            Expr::new(ExprKind::Transpose(Box::new(Expr::var(&text))))
        }
        _ => match bare(&expr) {
            Some(text) => Expr::var(text),
            None => expr.map_children(&mut |e| replace_bare_gradient(e, name, shown)),
        },
    }
}

/// Widest `where` list kept on the result's line; a longer one is written
/// one binding per line.
const INLINE_WIDTH: usize = 100;

/// The derivative `k` of `d` as text for people: `∂L/∂X = ∂L/∂Y · Wᵀ
/// where Y = X·W + B`, the bindings on the result's line when they fit,
/// else one per line.
pub fn derivative_text(d: &Derivation, k: usize, variables: &[String], flat: bool) -> String {
    let shown = display(d, k, variables, flat);
    let mut out = format!("{} = {}", shown.label, to_unicode(&shown.formula));
    let written: Vec<String> = shown
        .bindings
        .iter()
        .map(|(name, e)| {
            let body = to_unicode(&Formula {
                lhs: None,
                body: e.clone(),
            });
            format!("{name} = {body}")
        })
        .collect();
    if !written.is_empty() {
        let inline = format!("{out}   where {}", written.join(", "));
        if inline.chars().count() <= INLINE_WIDTH {
            out = inline;
        } else {
            out.push_str(&format!("\n  where {}", written.join("\n        ")));
        }
    }
    if d.derivatives[k].form == Form::Index {
        out.push_str("\n  (index form: this derivative has no matrix form)");
    }
    out
}

/// The JSON record of one derivative.
#[derive(Serialize)]
pub struct DerivativeJson {
    /// The variables differentiated by.
    pub wrt: Vec<String>,
    /// The result in the input syntax.
    pub result: String,
    /// `matrix` or `index`.
    pub form: Form,
    /// The result in Unicode.
    pub unicode: String,
    /// The result in LaTeX.
    pub latex: String,
    /// The layout convention.
    pub layout: String,
    /// The facts about the variables the result relies on, in words.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub using: Vec<String>,
}

impl DerivativeJson {
    /// The record of `d`.
    pub fn new(d: &Derivative) -> DerivativeJson {
        DerivativeJson {
            wrt: d.wrt.clone(),
            result: to_expr_string(d.formula()),
            form: d.form,
            unicode: to_unicode(d.formula()),
            latex: to_latex(d.formula()),
            layout: d.layout.clone(),
            using: d.assumptions.iter().map(|u| u.to_string()).collect(),
        }
    }
}

/// The derivatives in the input syntax, one per line.
pub fn derivation_expr(d: &Derivation) -> String {
    d.derivatives
        .iter()
        .map(|x| to_expr_string(x.formula()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The derivation for people: each derivative with its `where` bindings and
/// layout, then the assumed shapes; with `flat`, each result as one tree
/// (see [`display`]).
pub fn derivation_text(d: &Derivation, flat: bool) -> String {
    let vars: Vec<String> = d.typed.vars.keys().cloned().collect();
    let mut out = String::new();
    for (k, x) in d.derivatives.iter().enumerate() {
        out.push_str(&derivative_text(d, k, &vars, flat));
        out.push('\n');
        out.push_str(&format!("  layout: {}\n", x.layout));
        if let Some(using) = using(x) {
            out.push_str(&format!("  {using}\n"));
        }
    }
    let assumptions = d.typed.assumptions();
    if !assumptions.is_empty() {
        out.push_str(&format!("  {assumptions}\n"));
    }
    out.trim_end().to_string()
}

/// The derivatives as LaTeX equations, one per line: the gradient of a
/// function at a compound argument as `\frac{\partial L}{\partial Y}`,
/// with `Y` bound after the result.
pub fn derivation_latex(d: &Derivation) -> String {
    let expr = &d.typed.formula.body;
    let vars: Vec<String> = d.typed.vars.keys().cloned().collect();
    d.derivatives
        .iter()
        .enumerate()
        .map(|(k, x)| {
            let (shown, bindings) = gradient_math(d, k, &vars);
            let mut line = format!("{} = {}", latex_label(&label(expr, &x.wrt)), shown.latex);
            for (name, e) in &bindings {
                line.push_str(&format!(
                    ", \\quad {name} = {}",
                    to_latex(&Formula {
                        lhs: None,
                        body: e.clone()
                    })
                ));
            }
            line
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The result of `derivative` with the gradient of each abstract function
/// written `∂L/∂Y` (the proof's notation), and the arguments named.
fn gradient_math(
    d: &Derivation,
    k: usize,
    taken: &[String],
) -> (crate::proof::Math, Vec<(String, Expr)>) {
    let expr = &d.typed.formula.body;
    let derivative = &d.derivatives[k];
    let shown = display(d, k, taken, true);
    let bindings: Vec<(String, Expr)> = shown
        .bindings
        .into_iter()
        .filter(|(_, e)| expr.loss_arguments().values().any(|a| a == e))
        .collect();
    let mut notation = crate::proof::Notation::new(taken.to_vec());
    for (f, arg) in expr.loss_arguments() {
        let name = match &arg.kind {
            ExprKind::Var(v) => Some(v.clone()),
            _ => bindings
                .iter()
                .find(|(_, e)| *e == arg)
                .map(|(n, _)| n.clone()),
        };
        if let Some(name) = name {
            notation.given(&f, &name);
        }
    }
    (notation.math(derivative.formula()), bindings)
}

/// The derivation as Markdown: the result in code, as display math, and the
/// layout.
pub fn derivation_markdown(d: &Derivation) -> String {
    let expr = &d.typed.formula.body;
    let mut out = String::new();
    for x in &d.derivatives {
        let name = label(expr, &x.wrt);
        out.push_str(&format!(
            "**{name}** = `{}`\n\n$$ {} = {} $$\n\n*Layout:* {}\n\n",
            to_expr_string(x.formula()),
            latex_label(&name),
            to_latex(x.formula()),
            x.layout
        ));
        if let Some(using) = using(x) {
            out.push_str(&format!("*{using}*\n\n"));
        }
    }
    let assumptions = d.typed.assumptions();
    if !assumptions.is_empty() {
        out.push_str(&format!("*{assumptions}*\n"));
    }
    out.trim_end().to_string()
}

/// The derivation as JSON: `{"expr", "assumed", "derivatives": [{"wrt",
/// "result", "form", "unicode", "latex", "layout"}]}`.
pub fn derivation_json(d: &Derivation) -> serde_json::Value {
    let records: Vec<DerivativeJson> = d.derivatives.iter().map(DerivativeJson::new).collect();
    serde_json::json!({
        "expr": to_expr_string(&d.typed.formula),
        "assumed": d.typed.assumptions(),
        "derivatives": records,
    })
}

/// `using: the rows of T sum to 1`: the assumptions a result relies on.
fn using(d: &Derivative) -> Option<String> {
    let words: Vec<String> = d.assumptions.iter().map(|u| u.to_string()).collect();
    (!words.is_empty()).then(|| format!("using: {}", words.join("; ")))
}
