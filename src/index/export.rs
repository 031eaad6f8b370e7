//! From the DAG back to a syntax tree (shared nodes are written out again
//! wherever they occur; the `where` bindings of the text output name them).

use super::graph::{Graph, Id, Node};
use crate::syntax::{Expr, ExprKind};

impl Graph {
    /// The node as an expression tree in the input syntax, with constant
    /// fills written `vector(c)` (size inferred from context).
    pub fn to_expr(&self, id: Id) -> Expr {
        self.export(id, false)
    }

    /// The node as an expression tree in which every vector of ones is
    /// written with its explicit size (`ones(4)`, `ones(n,m)`): for places
    /// where `vector(1)` could not be sized from context.
    pub fn to_expr_explicit(&self, id: Id) -> Expr {
        self.export(id, true)
    }

    fn export(&self, id: Id, explicit: bool) -> Expr {
        let boxed = |g: &Graph, c: Id| Box::new(g.export(c, explicit));
        Expr::new(match self.node(id) {
            Node::Num(n) => return Expr::num(n.get()),
            Node::Fill(_, v) if explicit && v.get() == 1.0 => {
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
            Node::Apply(name, a) => ExprKind::Apply(name.clone(), vec![self.export(*a, explicit)]),
            Node::Grad(name, a) => ExprKind::Grad(name.clone(), vec![self.export(*a, explicit)]),
        })
    }
}
