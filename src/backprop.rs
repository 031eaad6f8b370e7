//! A backpropagation listing (`matcalc derive --backprop`): the forward
//! pass as named assignments, then the reverse pass one line per node, in
//! the notation of the deep-learning textbooks: `Y₁ = X·W + B`, then
//! `∂L/∂Y₁ = …`, `∂L/∂W = Xᵀ·∂L/∂Y₁`.
//!
//! The reverse pass is the one the engine took (the reverse steps recorded
//! in [`Derivation::steps`]), before the simplifier ran on its results:
//! each node's adjoint is the sum of the contributions of its parents, and
//! every forward value and every adjoint is written by name, so the listing
//! grows linearly with the expression.
//!
//! Invariant: pure; an output layer beside `render`; the graph is cloned
//! once to replay the accumulation of the adjoints (which interns no new
//! node: every sum was built by the pass itself).

use std::collections::{BTreeMap, HashMap};

use crate::derive::Derivation;
use crate::index::{Dims, ExportOptions, FillWriting, Graph, Id, Node};
use crate::simplify::{simplify, Assumptions, Limits};
use crate::syntax::{to_unicode, BinOp, Expr, Formula};

/// One line of a listing: `name = expr`.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    /// `Y₁`, `∂L/∂W`.
    pub name: String,
    /// The right-hand side, with forward values and adjoints by name.
    pub expr: Expr,
}

/// The forward and the reverse pass of a gradient.
#[derive(Clone, Debug, PartialEq)]
pub struct Backprop {
    /// Each compound forward value once, children first.
    pub forward: Vec<Line>,
    /// Each adjoint once, parents first; the variables' adjoints are the
    /// gradients (before simplification).
    pub backward: Vec<Line>,
}

/// Why there is no backpropagation listing.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum BackpropError {
    /// The derivation has no reverse pass (a Jacobian or a Hessian).
    #[error("--backprop lists the reverse pass of a gradient of a scalar; {0} has none")]
    NoReversePass(String),
}

/// `Y₁, Y₂, …` with subscripts.
fn subscript(n: usize) -> String {
    n.to_string()
        .chars()
        .map(|c| char::from_u32(0x2080 + c.to_digit(10).unwrap_or(0)).unwrap_or(c))
        .collect()
}

/// The backpropagation listing of `d`'s gradients (all of them, from one
/// replay of the reverse steps).
pub fn backprop(d: &Derivation) -> Result<Backprop, BackpropError> {
    let steps: Vec<_> = d.steps.iter().filter(|s| s.mode == "reverse").collect();
    if steps.is_empty() || d.derivatives.iter().any(|x| x.wrt.len() != 1) {
        return Err(BackpropError::NoReversePass("this derivative".to_string()));
    }
    if d.derivatives.iter().any(|x| x.node().is_none()) {
        return Err(BackpropError::NoReversePass("an index-form result".into()));
    }
    let mut graph: Graph = (*d.graph).clone();
    // The root: the node every step descends from (the one no step enters).
    let children: Vec<Id> = steps.iter().map(|s| s.child).collect();
    let Some(root) = steps.iter().map(|s| s.node).find(|n| !children.contains(n)) else {
        return Err(BackpropError::NoReversePass("a cyclic pass".into()));
    };
    let order = graph.topological(&[root]);
    let position: HashMap<Id, usize> = order.iter().enumerate().map(|(k, &id)| (id, k)).collect();
    // Each (node, child) step once (one pass per variable repeats them),
    // parents first and children in id order, as the pass accumulated them.
    let mut unique: BTreeMap<(std::cmp::Reverse<usize>, Id), Id> = BTreeMap::new();
    for s in &steps {
        let Some(&p) = position.get(&s.node) else {
            continue;
        };
        unique
            .entry((std::cmp::Reverse(p), s.child))
            .or_insert(s.result);
    }
    let loss = match graph.node(root) {
        Node::Apply(name, _) => name.clone(),
        _ => "f".to_string(),
    };
    // Forward names: every compound node of the expression; variables keep
    // theirs.
    let mut forward_name: HashMap<Id, String> = HashMap::new();
    let mut forward_order = Vec::new();
    for &id in &order {
        match graph.node(id) {
            Node::Var(v) => {
                forward_name.insert(id, v.clone());
            }
            n if n.children().is_empty() => {}
            _ if id == root => {
                forward_name.insert(id, loss.clone());
                forward_order.push(id);
            }
            _ => {
                let name = format!("Y{}", subscript(forward_order.len() + 1));
                forward_name.insert(id, name);
                forward_order.push(id);
            }
        }
    }
    // Replay the accumulation: adjoint[child] = prev + contribution.
    let mut adjoint: HashMap<Id, Id> = HashMap::new();
    let mut contributions: BTreeMap<usize, Vec<Id>> = BTreeMap::new();
    for (&(_, child), &result) in &unique {
        let total = match adjoint.get(&child) {
            Some(&prev) => graph.binary(BinOp::Add, prev, result).unwrap_or(result),
            None => result,
        };
        adjoint.insert(child, total);
        contributions
            .entry(position[&child])
            .or_default()
            .push(result);
    }
    let mut named: BTreeMap<Id, String> = forward_order
        .iter()
        .filter(|&&id| id != root)
        .map(|id| (*id, forward_name[id].clone()))
        .collect();
    // Adjoints by name (the node nearest the root among those sharing
    // one), unless the adjoint is itself a named forward value.
    for &p in contributions.keys().rev() {
        let child = order[p];
        if let (Some(name), Some(&total)) = (forward_name.get(&child), adjoint.get(&child)) {
            named
                .entry(total)
                .or_insert_with(|| format!("∂{loss}/∂{name}"));
        }
    }
    // The gradient of an abstract function is written at its argument
    // (`dL(Y₁)`), since its bare name `dL` is what the line defines.
    let options = ExportOptions {
        named,
        bare_gradients: BTreeMap::new(),
        fills: FillWriting::AllExplicit,
    };
    let write = |id: Id, itself: &str| match options.named.get(&id) {
        Some(name) if name != itself => Expr::var(name),
        _ => graph.export(id, &options),
    };
    let forward = forward_order
        .iter()
        .map(|&id| Line {
            name: forward_name[&id].clone(),
            expr: write(id, &forward_name[&id]),
        })
        .collect();
    let mut lines = Vec::new();
    for (&p, parts) in contributions.iter().rev() {
        let child = order[p];
        let Some(name) = forward_name.get(&child) else {
            continue;
        };
        let label = format!("∂{loss}/∂{name}");
        let terms: Vec<Expr> = parts.iter().map(|&c| write(c, &label)).collect();
        let expr = terms
            .into_iter()
            .reduce(|a, b| Expr::binary(BinOp::Add, a, b))
            .unwrap_or_else(|| Expr::num(0.0));
        lines.push((label, expr));
    }
    // Each line simplified with the names as opaque values of their dims.
    let mut dims: HashMap<String, Dims> = HashMap::new();
    for (id, name) in forward_name.iter().chain(&options.named) {
        dims.insert(name.clone(), graph.dims(*id).clone());
    }
    let backward = lines
        .into_iter()
        .map(|(name, expr)| Line {
            expr: simplified(&mut graph, &expr, &dims, &options).unwrap_or(expr),
            name,
        })
        .collect();
    Ok(Backprop { forward, backward })
}

/// `expr` (whose names stand for values of the dims in `dims`) through the
/// simplifier; `None` when it does not import or simplify.
fn simplified(
    graph: &mut Graph,
    expr: &Expr,
    dims: &HashMap<String, Dims>,
    options: &ExportOptions,
) -> Option<Expr> {
    let id = graph
        .import(expr, &|name| dims.get(name).cloned(), &|_| None)
        .ok()?;
    let done = simplify(graph, id, &Limits::default(), &Assumptions::default(), &[]).ok()?;
    Some(graph.export(done.id, options))
}

impl Backprop {
    /// The listing as text: `forward:` then `backward:`, one line each.
    pub fn text(&self) -> String {
        let line = |l: &Line| {
            format!(
                "  {} = {}",
                l.name,
                to_unicode(&Formula {
                    lhs: None,
                    body: l.expr.clone()
                })
            )
        };
        let mut out = vec!["forward:".to_string()];
        out.extend(self.forward.iter().map(line));
        out.push("backward:".to_string());
        out.extend(self.backward.iter().map(line));
        out.join("\n")
    }
}
