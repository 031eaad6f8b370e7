//! From the DAG back to a syntax tree: shared nodes are written out again
//! wherever they occur, except those named in [`ExportOptions::named`],
//! which are written as their name ([`shared_nodes`] picks them, so that a
//! result with its named intermediates grows linearly with the DAG).

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};

use num_traits::{One, Signed};

use super::graph::{Graph, Id, Node};
use crate::algebra::{f64_of, short_decimal, Rational};
use crate::syntax::{BinOp, ConstKind, DimSpec, Expr, ExprKind};

/// How a node is written out.
#[derive(Clone, Debug, Default)]
pub struct ExportOptions {
    /// Which constant fills are written with their explicit size.
    pub fills: FillWriting,
    /// For each abstract function called at one argument only: that
    /// argument, so that its gradient is written bare (`dL`).
    pub bare_gradients: BTreeMap<String, Id>,
    /// Nodes written as a variable of this name wherever they occur below
    /// the node exported (the exported node itself is written out).
    pub named: BTreeMap<Id, String>,
}

/// Smallest written size (in nodes, a named child counting 1) of a shared
/// node worth a name.
pub const MIN_SHARED_SIZE: usize = 4;

/// How constant fills are written: `vector(c)` / `matrix(c)`, whose size a
/// reader infers from the position, or with the size spelt out (`ones(4)`,
/// `c*ones(4,3)`), which reads the same anywhere.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum FillWriting {
    /// Every fill as `vector(c)` / `matrix(c)`.
    #[default]
    Inferred,
    /// The fills at these occurrences (numbered from 0 in the preorder of
    /// the written tree, shared nodes once per use) with their size, the
    /// others as `vector(c)` / `matrix(c)`.
    Explicit(BTreeSet<usize>),
    /// Every fill with its size.
    AllExplicit,
}

impl Graph {
    /// The node as an expression tree in the input syntax, with constant
    /// fills written `vector(c)` (size inferred from context).
    pub fn to_expr(&self, id: Id) -> Expr {
        self.export(id, &ExportOptions::default())
    }

    /// The node as an expression tree, written as `options` say.
    pub fn export(&self, id: Id, options: &ExportOptions) -> Expr {
        self.write(id, options, &Cell::new(0))
    }

    /// The nodes `roots` with their shared nodes ([`shared_nodes`]) named
    /// `name(k)` (k from 0, children first): the bindings `(name, node
    /// written with the names before it)` in order, then each root written
    /// with the names. Fills are written with their size, so that every
    /// line reads the same on its own.
    pub fn listing(
        &self,
        roots: &[Id],
        options: &ExportOptions,
        name: &mut dyn FnMut(usize) -> String,
    ) -> (Vec<(String, Expr)>, Vec<Expr>) {
        let shared = shared_nodes(self, roots, options);
        let named: BTreeMap<Id, String> = shared
            .iter()
            .enumerate()
            .map(|(k, &id)| (id, name(k)))
            .collect();
        let options = ExportOptions {
            fills: FillWriting::AllExplicit,
            named,
            ..options.clone()
        };
        let bindings = shared
            .iter()
            .map(|id| (options.named[id].clone(), self.export(*id, &options)))
            .collect();
        let results = roots.iter().map(|&r| self.export(r, &options)).collect();
        (bindings, results)
    }

    /// [`Graph::export`], counting the fills written so far in `fills`.
    fn write(&self, id: Id, options: &ExportOptions, fills: &Cell<usize>) -> Expr {
        let boxed = |c: Id| Box::new(self.operand(c, options, fills));
        if let Some(product) = self.written_powers(id, options, fills) {
            return product;
        }
        Expr::new(match self.node(id) {
            Node::Num(n) => return number_expr(n.value()),
            Node::Grad(name, a) if options.bare_gradients.get(name) == Some(a) => {
                ExprKind::Grad(name.clone(), Vec::new())
            }
            Node::Hess(name, a) if options.bare_gradients.get(name) == Some(a) => {
                ExprKind::Hess(name.clone(), Vec::new())
            }
            Node::Var(name) => ExprKind::Var(name.clone()),
            Node::Tangent(name) => ExprKind::Var(format!("d{name}")),
            Node::Fill(kind, v) => {
                let occurrence = fills.get();
                fills.set(occurrence + 1);
                let explicit = match &options.fills {
                    FillWriting::Inferred => false,
                    FillWriting::Explicit(set) => set.contains(&occurrence),
                    FillWriting::AllExplicit => true,
                };
                if explicit {
                    return sized_fill(v.value(), self.dims(id));
                }
                ExprKind::Fill {
                    kind: *kind,
                    value: Box::new(number_expr(v.value())),
                    size: Some(self.dims(id).clone()),
                }
            }
            Node::Const(kind) => {
                let [r, c] = self.dims(id).clone();
                let dims = match kind {
                    ConstKind::Eye => vec![r],
                    _ if c == DimSpec::Fixed(1) => vec![r],
                    _ => vec![r, c],
                };
                ExprKind::Const(*kind, dims)
            }
            Node::Neg(a) => ExprKind::Neg(boxed(*a)),
            Node::Binary(op, a, b) => ExprKind::Binary(*op, boxed(*a), boxed(*b)),
            Node::T(a) => ExprKind::Transpose(boxed(*a)),
            Node::Call(f, a) => ExprKind::Call(*f, boxed(*a)),
            Node::Apply(name, a) => ExprKind::Apply(name.clone(), vec![*boxed(*a)]),
            Node::Grad(name, a) => ExprKind::Grad(name.clone(), vec![*boxed(*a)]),
            Node::Hess(name, a) => ExprKind::Hess(name.clone(), vec![*boxed(*a)]),
        })
    }
}

impl Graph {
    /// An operand: its name where it has one, else written out.
    fn operand(&self, c: Id, options: &ExportOptions, fills: &Cell<usize>) -> Expr {
        match options.named.get(&c) {
            Some(name) => Expr::var(name),
            None => self.write(c, options, fills),
        }
    }

    /// A matrix product with a run of equal adjacent factors, written with
    /// powers: `X·X·A` as `X²·A`, `Xᵀ·Xᵀ` as `(X²)ᵀ` (MATLAB's matrix power,
    /// which the parser writes out as the same product); `None` for any
    /// other node, which is written as it is.
    fn written_powers(&self, id: Id, options: &ExportOptions, fills: &Cell<usize>) -> Option<Expr> {
        let mut factors = Vec::new();
        self.matrix_factors(id, options, &mut factors);
        if !factors.windows(2).any(|w| w[0] == w[1]) {
            return None;
        }
        let mut runs: Vec<(Id, usize)> = Vec::new();
        for f in factors {
            match runs.last_mut() {
                Some((last, k)) if *last == f => *k += 1,
                _ => runs.push((f, 1)),
            }
        }
        let write = |c: Id| self.operand(c, options, fills);
        let power = |base: Expr, k: usize| {
            Expr::new(ExprKind::Binary(
                BinOp::Pow,
                Box::new(base),
                Box::new(Expr::num(k as f64)),
            ))
        };
        let written = runs.into_iter().map(|(f, k)| match (k, self.node(f)) {
            (1, _) => write(f),
            (_, Node::T(g)) if !options.named.contains_key(&f) => {
                Expr::new(ExprKind::Transpose(Box::new(power(write(*g), k))))
            }
            _ => power(write(f), k),
        });
        written.reduce(|acc, f| Expr::new(ExprKind::Binary(BinOp::Mul, Box::new(acc), Box::new(f))))
    }

    /// Whether `a·b` is a product with a matrix factor.
    fn is_matrix_product(&self, a: Id, b: Id) -> bool {
        !self.is_scalar(a) || !self.is_scalar(b)
    }

    /// The factors of the matrix product `id`, left to right, through its
    /// non-scalar operands that are products without a name.
    fn matrix_factors(&self, id: Id, options: &ExportOptions, out: &mut Vec<Id>) {
        match *self.node(id) {
            Node::Binary(BinOp::Mul, a, b) if self.is_matrix_product(a, b) => {
                for c in [a, b] {
                    // A scalar factor is one factor: `(xᵀ·x)·x` has no `x·x`.
                    match self.is_scalar(c) || options.named.contains_key(&c) {
                        true => out.push(c),
                        false => self.matrix_factors(c, options, out),
                    }
                }
            }
            _ => out.push(id),
        }
    }
}

/// An exact number in the input syntax: a decimal where one reads back as
/// it and is no longer than the fraction (`0.25`, `-3`), else `p/q`
/// (`1/3`); negative ones under a negation.
pub fn number_expr(r: &Rational) -> Expr {
    if r.is_negative() {
        return Expr::new(ExprKind::Neg(Box::new(number_expr(&-r))));
    }
    if let Some(v) = short_decimal(r) {
        return Expr::num(v);
    }
    let part = |n: &num_bigint::BigInt| Expr::num(f64_of(&Rational::from_integer(n.clone())));
    Expr::binary(BinOp::Div, part(r.numer()), part(r.denom()))
}

/// A fill of `value` with its size spelt out: `ones(n)`, `ones(n,m)`,
/// `c*ones(…)`, `-c*ones(…)`.
fn sized_fill(value: &Rational, dims: &[DimSpec; 2]) -> Expr {
    let [r, c] = dims.clone();
    let dims = if c == DimSpec::Fixed(1) {
        vec![r]
    } else {
        vec![r, c]
    };
    let ones = Expr::new(ExprKind::Const(ConstKind::Ones, dims));
    let magnitude = value.abs();
    let scaled = if magnitude.is_one() {
        ones
    } else {
        Expr::binary(BinOp::Mul, number_expr(&magnitude), ones)
    };
    if value.is_negative() {
        Expr::new(ExprKind::Neg(Box::new(scaled)))
    } else {
        scaled
    }
}

/// The nodes below `roots` worth a name, children before parents: those
/// used at least twice (by the nodes reachable from `roots`, a root
/// counting once more) whose written size, with the named nodes below
/// counting 1, is at least [`MIN_SHARED_SIZE`]. Leaves (numbers, variables,
/// fills, constants) and bare gradients (`dL`) are never named, nor what
/// is only below a bare gradient (its argument is not written). Two passes
/// over [`Graph::topological`].
pub fn shared_nodes(graph: &Graph, roots: &[Id], options: &ExportOptions) -> Vec<Id> {
    let order = graph.topological(roots);
    let mut uses = vec![0usize; graph.len()];
    for &r in roots {
        uses[r.index()] += 1;
    }
    let bare = |node: &Node| matches!(node, Node::Grad(name, a) | Node::Hess(name, a) if options.bare_gradients.get(name) == Some(a));
    // What is written: the roots and, parents first, the children of what is
    // written, except below a bare gradient (its argument is not printed).
    let mut written = vec![false; graph.len()];
    for &r in roots {
        written[r.index()] = true;
    }
    for &id in order.iter().rev() {
        let node = graph.node(id);
        if written[id.index()] && !bare(node) {
            for c in node.children() {
                written[c.index()] = true;
                uses[c.index()] += 1;
            }
        }
    }
    let mut size = vec![0usize; graph.len()];
    let mut named = vec![false; graph.len()];
    let mut out = Vec::new();
    for &id in &order {
        let node = graph.node(id);
        let bare = bare(node);
        size[id.index()] = if bare {
            1
        } else {
            node.children().iter().fold(1usize, |n, c| {
                n.saturating_add(if named[c.index()] { 1 } else { size[c.index()] })
            })
        };
        let leaf = node.children().is_empty();
        if written[id.index()]
            && !leaf
            && !bare
            && uses[id.index()] >= 2
            && size[id.index()] >= MIN_SHARED_SIZE
        {
            named[id.index()] = true;
            out.push(id);
        }
    }
    out
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
