//! The driver: canonical form and the rule table, alternated to a fixed
//! point under explicit limits, with every change recorded.
//!
//! One pass puts the expression in canonical form ([`Normalizer`]), then
//! rewrites it bottom-up with the first rule of [`RULES`] that applies at
//! each node. The run stops when a pass changes nothing (saturated), or at
//! a limit, and says which. Every change is recorded as a [`RuleStep`]
//! (rule name, node before, node after) when it happens, for the proof
//! layer to render.

use std::collections::HashMap;

use super::assume::{Assumptions, Used};
use super::normal::Normalizer;
use super::rules::RULES;
use crate::index::{Graph, GraphError, Id, Node};

/// Limits of one simplification run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most passes (canonical form, then rules).
    pub max_passes: usize,
    /// Most nodes the expression may have written out; a pass that grows
    /// it past this stops the run with the last result within it.
    pub max_size: usize,
}

impl Default for Limits {
    /// 16 passes and 500,000 written nodes.
    fn default() -> Limits {
        Limits {
            max_passes: 16,
            max_size: 500_000,
        }
    }
}

/// Why a run stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// A pass changed nothing: the result is a fixed point of the
    /// canonical form and of every rule.
    Saturated,
    /// [`Limits::max_passes`] passes ran and the last still changed
    /// something.
    PassLimit,
    /// A pass grew the expression past [`Limits::max_size`].
    SizeLimit,
}

/// One recorded change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleStep {
    /// The rule's name (`canonical-form` for the canonical form).
    pub rule: &'static str,
    /// The node before.
    pub before: Id,
    /// The node after.
    pub after: Id,
    /// The assumptions the change used (empty for a law that always holds).
    pub used: Vec<Used>,
}

/// The result of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Simplified {
    /// The simplified node.
    pub id: Id,
    /// Why the run stopped.
    pub stop: StopReason,
    /// Every change, in order.
    pub steps: Vec<RuleStep>,
}

impl Simplified {
    /// Every assumption some step used, each once, in order.
    pub fn used(&self) -> Vec<Used> {
        let mut all: Vec<Used> = self.steps.iter().flat_map(|s| s.used.clone()).collect();
        all.sort();
        all.dedup();
        all
    }
}

/// The name under which the canonical form is recorded.
pub const CANONICAL_FORM: &str = "canonical-form";

/// Simplifies `root` to a fixed point of the canonical form and the rules,
/// which may use `assumptions`; the points of gradients in `kept_points`
/// stay as written (see [`Normalizer`]).
///
/// Terminates: at most [`Limits::max_passes`] passes, each of which visits
/// every node once (memoised) and applies each rule at most once per node.
pub fn simplify(
    graph: &mut Graph,
    root: Id,
    limits: &Limits,
    assumptions: &Assumptions,
    kept_points: &[Id],
) -> Result<Simplified, GraphError> {
    let mut steps = Vec::new();
    let mut current = root;
    for _ in 0..limits.max_passes {
        let mut normalizer = Normalizer::assuming(graph, assumptions.clone());
        normalizer.kept_points = kept_points.to_vec();
        let normal = normalizer.normalize(current)?;
        // The canonical form uses assumptions too: a symmetric factor is
        // its own transpose.
        let used = std::mem::take(&mut normalizer.used);
        if normal != current {
            steps.push(RuleStep {
                rule: CANONICAL_FORM,
                before: current,
                after: normal,
                used,
            });
        }
        let mut memo = HashMap::new();
        let rewritten = rewrite(&mut normalizer, normal, &mut memo, &mut steps)?;
        // A fixed point of both: the canonical form of a canonical form is
        // itself only once a pass no longer changes it.
        if rewritten == normal && normal == current {
            return Ok(Simplified {
                id: normal,
                stop: StopReason::Saturated,
                steps,
            });
        }
        if graph.tree_size(rewritten) > limits.max_size {
            return Ok(Simplified {
                id: normal,
                stop: StopReason::SizeLimit,
                steps,
            });
        }
        current = rewritten;
    }
    Ok(Simplified {
        id: current,
        stop: StopReason::PassLimit,
        steps,
    })
}

/// `id` with its children rewritten first, then the first rule that
/// applies to it (repeated while one applies, at most once per rule).
fn rewrite(
    n: &mut Normalizer<'_>,
    id: Id,
    memo: &mut HashMap<Id, Id>,
    steps: &mut Vec<RuleStep>,
) -> Result<Id, GraphError> {
    if let Some(&done) = memo.get(&id) {
        return Ok(done);
    }
    let node = n.graph.node(id).clone();
    if matches!(node, Node::Grad(_, a) | Node::Hess(_, a) if n.kept_points.contains(&a)) {
        memo.insert(id, id);
        return Ok(id);
    }
    let mut kids = Vec::new();
    for c in node.children() {
        kids.push(rewrite(n, c, memo, steps)?);
    }
    let mut current = if kids == node.children() {
        id
    } else {
        rebuilt(n.graph, &node, &kids, id)?
    };
    for rule in RULES {
        n.used.clear();
        if let Some(next) = (rule.apply)(n, current)? {
            if next != current {
                steps.push(RuleStep {
                    rule: rule.name,
                    before: current,
                    after: next,
                    used: std::mem::take(&mut n.used),
                });
                current = next;
            }
        }
    }
    memo.insert(id, current);
    Ok(current)
}

/// `node` with new children, through the graph's constructors.
fn rebuilt(graph: &mut Graph, node: &Node, kids: &[Id], id: Id) -> Result<Id, GraphError> {
    Ok(match *node {
        Node::Neg(_) => graph.neg(kids[0]),
        Node::T(_) => graph.transpose(kids[0]),
        Node::Call(f, _) => graph.call(f, kids[0])?,
        Node::Apply(ref name, _) => graph.apply(name, kids[0]),
        Node::Grad(ref name, _) => graph.grad(name, kids[0]),
        Node::Hess(ref name, _) => graph.hess(name, kids[0]),
        Node::Binary(op, ..) => graph.binary(op, kids[0], kids[1])?,
        _ => id,
    })
}
