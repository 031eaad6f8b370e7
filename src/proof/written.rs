//! Index forms written as formulas of the input syntax, with index names
//! that stay the same through all the steps of one proof block: the entry of
//! the node is `[i,j]`, the entry differentiated by is `[k,l]`, dummies are
//! `p, r, s, …` in order of first use (every name has a Unicode subscript).
//! [`Notation`] shows formulas to the reader: intermediates by their names,
//! the given gradient as `∂L/∂Y`, in Unicode and in LaTeX.
//!
//! Invariant: every sum is written explicitly (`sum[k](…)`), so a reader
//! never has to know the summation convention. Uses `syntax` and `index`.

use std::collections::BTreeMap;

use super::sentences::{subscript, Math};
use num_traits::Signed;

use crate::index::{number_expr, ExportOptions, Factor, Graph, Ix, Tensor};
use crate::syntax::{to_latex, to_unicode, Expr, ExprKind, Formula, IndexLhs, Span};

const OUT_NAMES: [&str; 2] = ["i", "j"];
const AT_NAMES: [&str; 2] = ["k", "l"];
const DUMMY_NAMES: [&str; 8] = ["p", "r", "s", "t", "u", "v", "m", "n"];

/// Names for intermediates, in order (never P, D or J, the arrays a proof
/// writes, nor L); then `Y1`, `Y2`, ….
const NODE_NAMES: [&str; 12] = ["Y", "Z", "U", "V", "S", "T", "Q", "R", "M", "N", "K", "H"];

/// The label `∂f/∂X` of a derivative of `expr` by `wrt` (the function's
/// own name when the whole expression is `L(E)`).
pub fn label(expr: &Expr, wrt: &[String]) -> String {
    let f = match &expr.kind {
        ExprKind::Apply(name, _) => name.clone(),
        _ => "f".to_string(),
    };
    match wrt {
        [x] => format!("∂{f}/∂{x}"),
        [x, y] if x == y => format!("∂²{f}/∂{x}²"),
        [x, y] => format!("∂²{f}/∂{x}∂{y}"),
        _ => format!("∂{f}"),
    }
}

/// A label `∂L/∂X` as LaTeX: `\frac{\partial L}{\partial X}`.
pub fn latex_label(label: &str) -> String {
    let body = label.replace('∂', "\\partial ").replace('²', "^2");
    match body.split_once('/') {
        Some((num, den)) => format!("\\frac{{{num}}}{{{den}}}"),
        None => body,
    }
}

/// How one proof shows its formulas: the names it gave to intermediates
/// (never one name for two nodes) and the arguments of the given
/// gradients.
#[derive(Clone, Debug, Default)]
pub struct Notation {
    taken: Vec<String>,
    named: Vec<(Expr, String)>,
    given: BTreeMap<String, String>,
}

impl Notation {
    /// A notation whose names avoid `taken` (the variables).
    pub fn new(taken: Vec<String>) -> Notation {
        Notation {
            taken,
            ..Default::default()
        }
    }

    /// The name given to `expr`, if any.
    pub fn name_of(&self, expr: &Expr) -> Option<String> {
        self.named
            .iter()
            .find(|(e, _)| e == expr)
            .map(|(_, n)| n.clone())
    }

    /// Gives `expr` the next free name.
    pub fn introduce(&mut self, expr: Expr) -> String {
        let used =
            |n: &str| self.taken.iter().any(|t| t == n) || self.named.iter().any(|(_, m)| m == n);
        let name = NODE_NAMES
            .iter()
            .map(|s| s.to_string())
            .chain((1..).map(|k| format!("Y{k}")))
            .find(|n| !used(n))
            .unwrap_or_default();
        self.named.push((expr, name.clone()));
        name
    }

    /// The first of `candidates` that is not a variable or a name given
    /// (for the arrays a proof writes: P, D, J).
    pub fn symbol(&self, candidates: &[&str]) -> String {
        let free = candidates.iter().find(|c| {
            !self.taken.iter().any(|t| t == *c) && self.named.iter().all(|(_, n)| n != *c)
        });
        free.map_or_else(|| format!("{}0", candidates[0]), |c| c.to_string())
    }

    /// Calls `expr` by `name` without a step (the function itself: `f`).
    pub fn call(&mut self, expr: Expr, name: &str) {
        self.taken.push(name.to_string());
        self.named.push((expr, name.to_string()));
    }

    /// Records that the gradient of `f` is taken at the node named `arg`.
    pub fn given(&mut self, f: &str, arg: &str) {
        self.given.insert(f.to_string(), arg.to_string());
    }

    /// `formula` as the reader sees it, in both notations.
    pub fn math(&self, formula: &Formula) -> Math {
        let mut latex_parts = Vec::new();
        let unicode = Formula {
            lhs: formula.lhs.clone(),
            body: self.substitute(&formula.body, None),
        };
        let latex = Formula {
            lhs: formula.lhs.clone(),
            body: self.substitute(&formula.body, Some(&mut latex_parts)),
        };
        let mut latex = to_latex(&latex);
        for (k, part) in latex_parts.iter().enumerate().rev() {
            latex = latex.replace(&format!("\\mathit{{{PLACEHOLDER}{k}}}"), part);
        }
        Math {
            unicode: to_unicode(&unicode),
            latex,
        }
    }

    /// `expr` with named intermediates as their names and given gradients
    /// as `∂L/∂Y`; in LaTeX (`parts` given) each gradient is a placeholder
    /// whose LaTeX is pushed to `parts`.
    fn substitute(&self, expr: &Expr, mut parts: Option<&mut Vec<String>>) -> Expr {
        if let Some(name) = self.name_of(expr) {
            return Expr::var(&name);
        }
        let grad = |e: &Expr| match &e.kind {
            ExprKind::Grad(f, _) => self.given.get(f).map(|arg| (f.clone(), arg.clone())),
            _ => None,
        };
        let (wrapped, ixs, inner) = match &expr.kind {
            ExprKind::Transpose(inner) => (true, None, &**inner),
            ExprKind::Index(inner, ixs) => (false, Some(ixs), &**inner),
            _ => (false, None, expr),
        };
        if let Some((f, arg)) = grad(inner) {
            let plain = |e: Expr| match &expr.kind {
                ExprKind::Transpose(_) => Expr::new(ExprKind::Transpose(Box::new(e))),
                ExprKind::Index(_, ixs) => Expr::new(ExprKind::Index(Box::new(e), ixs.clone())),
                _ => e,
            };
            return match parts {
                None if wrapped => plain(Expr::var(&format!("(∂{f}/∂{arg})"))),
                None => plain(Expr::var(&format!("∂{f}/∂{arg}"))),
                Some(parts) => {
                    let fraction = match ixs {
                        Some(ixs) => format!(
                            "\\frac{{\\partial {f}}}{{\\partial {arg}_{{{}}}}}",
                            ixs.join("")
                        ),
                        None if wrapped => {
                            format!("\\left(\\frac{{\\partial {f}}}{{\\partial {arg}}}\\right)")
                        }
                        None => format!("\\frac{{\\partial {f}}}{{\\partial {arg}}}"),
                    };
                    let k = parts.len();
                    parts.push(fraction);
                    let var = Expr::var(&format!("{PLACEHOLDER}{k}"));
                    match ixs {
                        Some(_) => var,
                        None => plain(var),
                    }
                }
            };
        }
        expr.clone()
            .map_children(&mut |e| self.substitute(&e, parts.as_deref_mut()))
    }

    /// `P_{ijkl} = ∂Y_{ij}/∂Z_{kl}`: the definition of an array of partial
    /// derivatives named `name`.
    #[allow(clippy::too_many_arguments)]
    pub fn partial(
        &self,
        name: &str,
        both: &[Ix],
        node: &Math,
        out: &[Ix],
        child: &Math,
        at: &[Ix],
        names: &mut IndexNames,
    ) -> Math {
        let mut list = |ixs: &[Ix]| -> String { ixs.iter().map(|&ix| names.name(ix)).collect() };
        let (b, o, a) = (list(both), list(out), list(at));
        let group = |m: &str| {
            if m.chars().all(char::is_alphanumeric) {
                m.to_string()
            } else {
                format!("({m})")
            }
        };
        let lgroup = |m: &str| {
            if m.chars().all(char::is_alphanumeric) {
                m.to_string()
            } else {
                format!("\\left({m}\\right)")
            }
        };
        let script = |s: &str| {
            if s.is_empty() {
                String::new()
            } else {
                format!("_{{{s}}}")
            }
        };
        Math {
            unicode: format!(
                "{name}{} = ∂{}{}/∂{}{}",
                subscript(&b),
                group(&node.unicode),
                subscript(&o),
                group(&child.unicode),
                subscript(&a)
            ),
            latex: format!(
                "{name}{} = \\frac{{\\partial {}{}}}{{\\partial {}{}}}",
                script(&b),
                lgroup(&node.latex),
                script(&o),
                lgroup(&child.latex),
                script(&a)
            ),
        }
    }
}

/// The name of a gradient in LaTeX until the fraction is put in.
const PLACEHOLDER: &str = "zgradz";

/// Names of the index variables of one proof block.
#[derive(Clone, Debug, Default)]
pub struct IndexNames {
    names: BTreeMap<Ix, String>,
    dummies: usize,
}

impl IndexNames {
    /// Names for the output entry `out` (`i, j`) and the entry `at` (`a, b`).
    pub fn new(out: &[Ix], at: &[Ix]) -> IndexNames {
        let mut names = BTreeMap::new();
        for (ix, name) in out.iter().zip(OUT_NAMES) {
            names.insert(*ix, name.to_string());
        }
        for (ix, name) in at.iter().zip(AT_NAMES) {
            names.insert(*ix, name.to_string());
        }
        IndexNames { names, dummies: 0 }
    }

    /// The name of `ix`, given a new dummy name on first use.
    pub fn name(&mut self, ix: Ix) -> String {
        if let Some(n) = self.names.get(&ix) {
            return n.clone();
        }
        let n = DUMMY_NAMES
            .get(self.dummies)
            .map_or(format!("k{}", self.dummies), |s| s.to_string());
        self.dummies += 1;
        self.names.insert(ix, n.clone());
        n
    }
}

/// `name[free] = Σ terms`, or the bare body when there is no free index.
pub fn index_formula(
    graph: &Graph,
    options: &ExportOptions,
    names: &mut IndexNames,
    tensor: &Tensor,
    name: &str,
    free: &[Ix],
) -> Formula {
    let lhs = (!free.is_empty()).then(|| IndexLhs {
        name: name.to_string(),
        indices: free.iter().map(|&ix| names.name(ix)).collect(),
        span: Span::NONE,
    });
    let mut body: Option<Expr> = None;
    for term in tensor {
        let factors: Vec<Expr> = term
            .factors
            .iter()
            .map(|factor| factor_expr(graph, options, names, factor))
            .collect();
        let mut e = Expr::scaled_product(number_expr(&term.coeff.abs()), factors);
        if !term.sums.is_empty() {
            let sums = term.sums.iter().map(|&ix| names.name(ix)).collect();
            e = Expr::new(ExprKind::IndexSum(sums, Box::new(e)));
        }
        body = Some(Expr::accumulate(body, e, term.coeff.is_negative()));
    }
    Formula {
        lhs,
        body: body.unwrap_or_else(|| Expr::num(0.0)),
    }
}

fn factor_expr(
    graph: &Graph,
    options: &ExportOptions,
    names: &mut IndexNames,
    factor: &Factor,
) -> Expr {
    match factor {
        Factor::Delta(a, b) => Expr::new(ExprKind::Delta(names.name(*a), names.name(*b))),
        Factor::Entry(id, ixs) if ixs.is_empty() => graph.export(*id, options),
        Factor::Entry(id, ixs) => {
            let (base, ixs) = crate::index::untransposed(graph, *id, ixs);
            Expr::new(ExprKind::Index(
                Box::new(graph.export(base, options)),
                ixs.iter().map(|&ix| names.name(ix)).collect(),
            ))
        }
    }
}

/// A matrix expression as a formula.
pub fn matrix_formula(body: Expr) -> Formula {
    Formula { lhs: None, body }
}
