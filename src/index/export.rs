//! From the DAG back to a syntax tree (shared nodes are written out again
//! wherever they occur; the `where` bindings of the text output name them).

use std::collections::BTreeMap;

use super::graph::{Graph, Id, Node};
use crate::syntax::{Expr, ExprKind};

/// How a node is written out.
#[derive(Clone, Debug, Default)]
pub struct ExportOptions {
    /// Write vectors of ones with their explicit size (`ones(4)`) instead of
    /// `vector(1)`.
    pub explicit_fills: bool,
    /// For each abstract function called at one argument only: that
    /// argument, so that its gradient is written bare (`dL`).
    pub bare_gradients: BTreeMap<String, Id>,
}

impl Graph {
    /// The node as an expression tree in the input syntax, with constant
    /// fills written `vector(c)` (size inferred from context).
    pub fn to_expr(&self, id: Id) -> Expr {
        self.export(id, &ExportOptions::default())
    }

    /// The node as an expression tree, written as `options` say.
    pub fn export(&self, id: Id, options: &ExportOptions) -> Expr {
        let boxed = |g: &Graph, c: Id| Box::new(g.export(c, options));
        Expr::new(match self.node(id) {
            Node::Num(n) => return Expr::num(n.get()),
            Node::Grad(name, a) if options.bare_gradients.get(name) == Some(a) => {
                ExprKind::Grad(name.clone(), Vec::new())
            }
            Node::Fill(_, v) if options.explicit_fills && v.get() == 1.0 => {
                let [r, c] = self.dims(id).clone();
                let dims = if c == crate::syntax::DimSpec::Fixed(1) {
                    vec![r]
                } else {
                    vec![r, c]
                };
                ExprKind::Const(crate::syntax::ConstKind::Ones, dims)
            }
            Node::Var(name) => ExprKind::Var(name.clone()),
            Node::Tangent(name) => ExprKind::Var(format!("d{name}")),
            Node::Fill(kind, v) => ExprKind::Fill {
                kind: *kind,
                value: Box::new(Expr::num(v.get())),
                size: Some(self.dims(id).clone()),
            },
            Node::Const(kind) => {
                let [r, c] = self.dims(id).clone();
                let dims = match kind {
                    crate::syntax::ConstKind::Eye => vec![r],
                    _ if c == crate::syntax::DimSpec::Fixed(1) => vec![r],
                    _ => vec![r, c],
                };
                ExprKind::Const(*kind, dims)
            }
            Node::Neg(a) => ExprKind::Neg(boxed(self, *a)),
            Node::Binary(op, a, b) => ExprKind::Binary(*op, boxed(self, *a), boxed(self, *b)),
            Node::T(a) => ExprKind::Transpose(boxed(self, *a)),
            Node::Call(f, a) => ExprKind::Call(*f, boxed(self, *a)),
            Node::Apply(name, a) => ExprKind::Apply(name.clone(), vec![self.export(*a, options)]),
            Node::Grad(name, a) => ExprKind::Grad(name.clone(), vec![self.export(*a, options)]),
        })
    }
}

/// The abstract functions whose gradient may be written bare (`dL`), with
/// the node it is taken at: those applied at exactly one argument in the
/// graph below `root` and, as `written`, at one argument too, so that `dL`
/// reads back as the gradient at it (`L(b) + L(b'')` is one call in the
/// graph but two as written).
pub fn bare_gradients(graph: &Graph, root: Id, written: &Expr) -> BTreeMap<String, Id> {
    let as_written = written.loss_arguments();
    let mut seen: BTreeMap<String, Vec<Id>> = BTreeMap::new();
    for id in graph.topological(&[root]) {
        if let Node::Apply(name, a) = graph.node(id) {
            let list = seen.entry(name.clone()).or_default();
            if !list.contains(a) {
                list.push(*a);
            }
        }
    }
    seen.into_iter()
        .filter_map(|(name, args)| match args[..] {
            [only] if as_written.contains_key(&name) => Some((name, only)),
            _ => None,
        })
        .collect()
}
