//! Index forms written as formulas of the input syntax, with index names
//! that stay the same through all the steps of one proof block: the entry of
//! the node is `[i,j]`, the entry differentiated by is `[a,b]`, dummies are
//! `k, l, p, q, …` in order of first use.
//!
//! Invariant: every sum is written explicitly (`sum[k](…)`), so a reader
//! never has to know the summation convention. Uses `syntax` and `index`.

use std::collections::BTreeMap;

use crate::index::{ExportOptions, Factor, Graph, Ix, Node, Tensor};
use crate::syntax::{Expr, ExprKind, Formula, IndexLhs, Span};

const OUT_NAMES: [&str; 2] = ["i", "j"];
const AT_NAMES: [&str; 2] = ["a", "b"];
const DUMMY_NAMES: [&str; 8] = ["k", "l", "p", "q", "r", "s", "t", "u"];

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
        let mut e = Expr::scaled_product(term.coeff.abs(), factors);
        if !term.sums.is_empty() {
            let sums = term.sums.iter().map(|&ix| names.name(ix)).collect();
            e = Expr::new(ExprKind::IndexSum(sums, Box::new(e)));
        }
        body = Some(Expr::accumulate(body, e, term.coeff < 0.0));
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
            // X'[i,j] is written X[j,i].
            let (base, ixs) = match (graph.node(*id), ixs.as_slice()) {
                (Node::T(inner), [a, b]) => (*inner, vec![*b, *a]),
                (Node::T(inner), [a]) => (*inner, vec![*a]),
                _ => (*id, ixs.clone()),
            };
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
