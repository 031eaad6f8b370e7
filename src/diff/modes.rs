//! Reverse and forward mode over the shared DAG.
//!
//! Reverse mode (gradients of a scalar): each node's adjoint `G` flows to a
//! child `C` as `Σ_out G[out] ∂node[out]/∂C[at]`, derived in index form by
//! [`partial`], contracted and raised back to matrix form. Forward mode
//! (Jacobians, Hessians): the tangent of a node is
//! `Σ_at ∂node[out]/∂C[at] · tangent(C)[at]`, likewise derived and raised.
//! There is no table of backward formulas; every step goes through index
//! notation. Each step is recorded for the proof.

use std::collections::HashMap;

use super::partial::{partial, DiffError};
use crate::index::{
    collect, contract, entry, lower, product, raise, Factor, Graph, Id, IndexSpace, Ix, Node,
    RaiseRule, Tensor,
};

/// One local derivation, as a proof writes it: the local derivative, the
/// chain rule before and after contracting, and the matrix node it raised to.
#[derive(Clone, Debug)]
pub struct Step {
    /// `reverse` (an adjoint contribution) or `forward` (a tangent term).
    pub mode: &'static str,
    /// The node differentiated.
    pub node: Id,
    /// The operand the derivative flows to (reverse) or from (forward).
    pub child: Id,
    /// The gradient arriving at `node` (reverse) or the differential of
    /// `child` (forward).
    pub incoming: Id,
    /// The entry of `node` (`out`) and of `child` (`at`).
    pub out: Vec<Ix>,
    /// See `out`.
    pub at: Vec<Ix>,
    /// The local derivative `∂node[out]/∂child[at]`.
    pub local: Tensor,
    /// The chain rule: `incoming` summed against `local`, not contracted.
    pub chained: Tensor,
    /// The contracted index form.
    pub index_form: Tensor,
    /// Its free indices, in order.
    pub free: Vec<Ix>,
    /// The matrix form it raised to.
    pub result: Id,
    /// The rules of raising that built `result`, in order.
    pub raise_rules: Vec<RaiseRule>,
}

/// The state of one differentiation: the graph, the index space and the
/// recorded steps.
pub struct Differentiator<'g> {
    /// The shared DAG.
    pub graph: &'g mut Graph,
    /// Index variables and their ranges.
    pub space: IndexSpace,
    /// Every local step taken, in order.
    pub steps: Vec<Step>,
    /// Per node (by [`Id::index`]), true when it is known not to depend on
    /// the variables although it is built from them (`x - x`, whose
    /// canonical form is zero): no derivative flows through it, so its
    /// local derivative is not even formed (that of `sqrt(norm2(x - x))`
    /// would divide by zero). Nodes past the end are not known constant.
    pub constant: Vec<bool>,
}

impl<'g> Differentiator<'g> {
    /// A differentiator over `graph`.
    pub fn new(graph: &'g mut Graph) -> Differentiator<'g> {
        Differentiator {
            graph,
            space: IndexSpace::new(),
            steps: Vec::new(),
            constant: Vec::new(),
        }
    }

    /// Contracts and raises one local step, `incoming` through the local
    /// derivative `local` of `node` by `child`, and records it.
    fn raise_step(
        &mut self,
        mode: &'static str,
        (node, child, incoming): (Id, Id, Id),
        (out, at): (Vec<Ix>, Vec<Ix>),
        local: Tensor,
    ) -> Result<Option<Id>, DiffError> {
        let (chained, free) = if mode == "reverse" {
            let mut t = product(&entry(self.graph, incoming, &out), &local);
            for term in &mut t {
                term.sums.extend_from_slice(&out);
            }
            (t, at.clone())
        } else {
            let mut t = product(&local, &entry(self.graph, incoming, &at));
            for term in &mut t {
                term.sums.extend_from_slice(&at);
            }
            (t, out.clone())
        };
        let tensor = collect(contract(chained.clone(), &self.space));
        if tensor.is_empty() {
            return Ok(None);
        }
        let mut raised = raise(self.graph, &self.space, &tensor, &free)?.ok_or_else(|| {
            DiffError::NoMatrixForm {
                mode,
                node: node_name(self.graph.node(node)),
            }
        })?;
        // Raising writes one free index as a column; a row operand wants a row.
        let want = if mode == "reverse" { child } else { node };
        if self.graph.dims(raised.id) != self.graph.dims(want) {
            raised.transpose(self.graph);
        }
        self.steps.push(Step {
            mode,
            node,
            child,
            incoming,
            out,
            at,
            local,
            chained,
            index_form: tensor,
            free,
            result: raised.id,
            raise_rules: raised.rules,
        });
        Ok(Some(raised.id))
    }

    /// Gradients of the scalar `root` with respect to each of `wrt` (one
    /// reverse pass); `None` where the root does not depend on it.
    pub fn gradients(&mut self, root: Id, wrt: &[Id]) -> Result<Vec<Option<Id>>, DiffError> {
        let targets: Vec<Id> = wrt.to_vec();
        let reaches = self.reaches(root, &targets);
        let order = self.graph.topological(&[root]);
        let mut adjoint: HashMap<Id, Id> = HashMap::new();
        let one = self.graph.int(1);
        adjoint.insert(root, one);
        for &node in order.iter().rev() {
            let Some(&g) = adjoint.get(&node) else {
                continue;
            };
            let mut children = self.graph.node(node).children();
            children.sort();
            children.dedup();
            for child in children {
                if !reaches[child.index()] {
                    continue;
                }
                let out = self.space.fresh_for(&self.graph.dims(node).clone());
                let at = self.space.fresh_for(&self.graph.dims(child).clone());
                let local = partial(self.graph, &mut self.space, node, child, &out, &at)?;
                if let Some(contribution) =
                    self.raise_step("reverse", (node, child, g), (out, at), local)?
                {
                    let total = match adjoint.get(&child) {
                        Some(&prev) => {
                            self.graph
                                .binary(crate::syntax::BinOp::Add, prev, contribution)?
                        }
                        None => contribution,
                    };
                    adjoint.insert(child, total);
                }
            }
        }
        Ok(targets.iter().map(|t| adjoint.get(t).copied()).collect())
    }

    /// For each node, whether it depends on one of `targets` (and is not
    /// known [`constant`](Differentiator::constant)).
    fn reaches(&self, root: Id, targets: &[Id]) -> Vec<bool> {
        let mut flags = vec![false; self.graph.len()];
        for id in self.graph.topological(&[root]) {
            let constant = self.constant.get(id.index()).copied().unwrap_or(false);
            flags[id.index()] = !constant
                && (targets.contains(&id)
                    || self
                        .graph
                        .node(id)
                        .children()
                        .iter()
                        .any(|c| flags[c.index()]));
        }
        flags
    }

    /// The tangent of `root` when `var` moves along `direction` (a tangent
    /// node of the same dims); `None` where `root` does not depend on `var`.
    pub fn tangent(&mut self, root: Id, var: Id, direction: Id) -> Result<Option<Id>, DiffError> {
        let reaches = self.reaches(root, &[var]);
        let mut tangents: HashMap<Id, Id> = HashMap::new();
        tangents.insert(var, direction);
        for node in self.graph.topological(&[root]) {
            if node == var || !reaches[node.index()] {
                continue;
            }
            let mut children = self.graph.node(node).children();
            children.sort();
            children.dedup();
            let mut parts = Vec::new();
            for child in children {
                let Some(&dc) = tangents.get(&child) else {
                    continue;
                };
                let out = self.space.fresh_for(&self.graph.dims(node).clone());
                let at = self.space.fresh_for(&self.graph.dims(child).clone());
                let local = partial(self.graph, &mut self.space, node, child, &out, &at)?;
                if let Some(part) =
                    self.raise_step("forward", (node, child, dc), (out, at), local)?
                {
                    parts.push(part);
                }
            }
            if let Some(total) = self.graph.sum_all(&parts)? {
                tangents.insert(node, total);
            }
        }
        Ok(tangents.get(&root).copied())
    }

    /// Reads `∂f[out]/∂X[at]` off a tangent of `f` that is linear in the
    /// tangent node `direction` of `X`: the index form with `direction`'s
    /// entries replaced by deltas, contracted.
    pub fn jacobian_index_form(
        &mut self,
        tangent: Id,
        direction: Id,
        out: &[Ix],
        at: &[Ix],
    ) -> Result<Tensor, DiffError> {
        let tangent = Regrouper::new(self.graph, tangent).run(tangent)?;
        let depends = self
            .graph
            .depends_on(&[tangent], &|n| matches!(n, Node::Tangent(_)));
        let lowered = lower(self.graph, &mut self.space, tangent, out, &|x| {
            depends.get(x.index()).copied().unwrap_or(false)
        })?;
        let mut tensor = Tensor::new();
        for mut term in lowered {
            let positions: Vec<usize> = term
                .factors
                .iter()
                .enumerate()
                .filter(|(_, f)| matches!(f, Factor::Entry(id, _) if *id == direction))
                .map(|(k, _)| k)
                .collect();
            let [k] = positions[..] else {
                return Err(DiffError::NonlinearInDirection);
            };
            let Factor::Entry(_, ixs) = term.factors.remove(k) else {
                unreachable!("position holds an entry")
            };
            term.factors
                .extend(ixs.iter().zip(at).map(|(&x, &y)| Factor::Delta(x, y)));
            tensor.push(term);
        }
        Ok(collect(contract(tensor, &self.space)))
    }
}

/// Rewrites a differential so that every run of factors free of the tangent
/// in a matrix product is one node: `((dX'*A1)*A2)*A3` becomes
/// `dX'*(A1*A2*A3)`. Lowering then opens only the factors that hold the
/// tangent, so a product of k matrices costs one entry, not k.
struct Regrouper<'a> {
    graph: &'a mut Graph,
    depends: Vec<bool>,
    memo: HashMap<Id, Id>,
}

impl<'a> Regrouper<'a> {
    fn new(graph: &'a mut Graph, root: Id) -> Regrouper<'a> {
        let depends = graph.depends_on(&[root], &|n| matches!(n, Node::Tangent(_)));
        Regrouper {
            graph,
            depends,
            memo: HashMap::new(),
        }
    }

    fn holds_tangent(&self, id: Id) -> bool {
        self.depends.get(id.index()).copied().unwrap_or(false)
    }

    fn is_product(&self, id: Id) -> bool {
        matches!(self.graph.node(id), Node::Binary(crate::syntax::BinOp::Mul, a, b)
            if !self.graph.is_scalar(*a) && !self.graph.is_scalar(*b))
    }

    /// The factors of a matrix product, looking through nested products and
    /// transposes of products.
    fn factors(&mut self, id: Id, out: &mut Vec<Id>) {
        match *self.graph.node(id) {
            Node::Binary(crate::syntax::BinOp::Mul, a, b) if self.is_product(id) => {
                self.factors(a, out);
                self.factors(b, out);
            }
            Node::T(inner) if self.is_product(inner) => {
                let mut inside = Vec::new();
                self.factors(inner, &mut inside);
                for f in inside.into_iter().rev() {
                    out.push(self.graph.transpose(f));
                }
            }
            _ => out.push(id),
        }
    }

    fn run(&mut self, id: Id) -> Result<Id, crate::index::GraphError> {
        if !self.holds_tangent(id) {
            return Ok(id);
        }
        if let Some(&done) = self.memo.get(&id) {
            return Ok(done);
        }
        let node = self.graph.node(id).clone();
        let out = if self.is_product(id) || matches!(node, Node::T(inner) if self.is_product(inner))
        {
            let mut flat = Vec::new();
            self.factors(id, &mut flat);
            let mut groups: Vec<Id> = Vec::new();
            let mut run: Option<Id> = None;
            for f in flat {
                // Transposing a factor made a new node: look at what it holds.
                let holds = self.holds_tangent(f)
                    || matches!(*self.graph.node(f), Node::T(x) if self.holds_tangent(x));
                if holds {
                    if let Some(r) = run.take() {
                        groups.push(r);
                    }
                    groups.push(self.run_any(f)?);
                } else {
                    run = Some(match run {
                        None => f,
                        Some(r) => self.graph.binary(crate::syntax::BinOp::Mul, r, f)?,
                    });
                }
            }
            groups.extend(run);
            let mut acc = groups[0];
            for &g in &groups[1..] {
                acc = self.graph.binary(crate::syntax::BinOp::Mul, acc, g)?;
            }
            acc
        } else {
            match node {
                Node::Neg(a) => {
                    let a = self.run(a)?;
                    self.graph.neg(a)
                }
                Node::T(a) => {
                    let a = self.run(a)?;
                    self.graph.transpose(a)
                }
                Node::Binary(op, a, b) => {
                    let (a, b) = (self.run(a)?, self.run(b)?);
                    self.graph.binary(op, a, b)?
                }
                Node::Call(f, a) => {
                    let a = self.run(a)?;
                    self.graph.call(f, a)?
                }
                _ => id,
            }
        };
        self.memo.insert(id, out);
        Ok(out)
    }

    /// Like [`Regrouper::run`], for nodes made during regrouping (whose
    /// dependence on the tangent is read through a transpose).
    fn run_any(&mut self, id: Id) -> Result<Id, crate::index::GraphError> {
        match *self.graph.node(id) {
            Node::T(x) if !self.holds_tangent(id) && self.holds_tangent(x) => {
                let x = self.run(x)?;
                Ok(self.graph.transpose(x))
            }
            _ => self.run(id),
        }
    }
}

fn node_name(node: &Node) -> String {
    match node {
        Node::Call(f, _) => f.name().to_string(),
        Node::Binary(op, ..) => op.symbol().to_string(),
        Node::T(_) => "'".to_string(),
        Node::Neg(_) => "-".to_string(),
        Node::Apply(name, _) => name.clone(),
        Node::Grad(name, _) => format!("d{name}"),
        Node::Hess(name, _) => format!("d2{name}"),
        other => format!("{other:?}"),
    }
}
