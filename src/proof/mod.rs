//! Proofs: the derivation a textbook reader needs, step by step.
//!
//! [`general`] replays the reverse pass of a [`Derivation`] for one variable
//! and writes every local step out: the node entry by entry (`index::lower`),
//! the chain rule through the adjoint with the local derivative in Kronecker
//! deltas (`diff::partial`), the contraction of the deltas
//! (`index::contract`) and the recognition of the remaining sums as matrix
//! operations (`index::raise`). A derivative taken in forward mode (a
//! Jacobian, or a Hessian: the gradient's proof, then the gradient
//! differentiated again) replays `Differentiator::tangent`: the differential
//! of every node in terms of its operands' differentials, each raised to
//! matrix form, then the derivative read off the last differential
//! (`Differentiator::jacobian_index_form`). Nothing is special-cased per
//! expression.
//! Invariant: a step marked `equals_previous` states the same value as the
//! step before it (the tests evaluate both); the library never prints.
//! Uses `syntax`, `index`, `diff` and `derive`.

mod concrete;
mod render;
mod written;

pub use concrete::{concrete, MAX_CONCRETE_ENTRIES};
pub use render::{render_json, render_latex, render_markdown, render_text};
pub use written::IndexNames;

use std::collections::HashMap;

use crate::derive::Derivation;
use crate::diff::{partial, DiffError, Differentiator};
use crate::index::{
    bare_gradients, collect, contract, entry, lower, product, raise, ExportOptions, Factor, Graph,
    Id, IndexSpace, Ix, Node, Tensor,
};
use crate::syntax::{to_unicode, BinOp, Expr, Formula};
use written::{index_formula, matrix_formula};

/// One step of a proof.
#[derive(Clone, Debug, PartialEq)]
pub struct ProofStep {
    /// The rule applied, kebab-case (`index-expand`, `chain-rule`, …).
    pub rule: &'static str,
    /// What was done, for a human.
    pub text: String,
    /// The expression after the step, in the input syntax.
    pub formula: Formula,
    /// True when `formula` is the same value as the previous step's.
    pub equals_previous: bool,
}

/// A derivation written out step by step.
#[derive(Clone, Debug, PartialEq)]
pub struct Proof {
    /// The steps, in order.
    pub steps: Vec<ProofStep>,
}

/// Why a proof cannot be written.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ProofError {
    /// There is no derivative with that number.
    #[error("there is no derivative number {0}")]
    NoDerivative(usize),
    /// Replaying a step failed.
    #[error(transparent)]
    Diff(#[from] DiffError),
    /// The exact expansion failed.
    #[error(transparent)]
    Exact(#[from] crate::exact::ExactError),
    /// The concrete sizes do not fit the variables.
    #[error("{0}")]
    Sizes(String),
    /// An expansion did not have the shape it should.
    #[error("an expansion does not have the shape of its expression")]
    Shape,
    /// The concrete proof for these sizes would go over a limit: too many
    /// entries, or the exact layer's term budget.
    #[error("the concrete proof for {sizes} goes over a limit: {why}")]
    ConcreteLimit {
        /// The sizes of every variable, e.g. `X: 40×40, W: 40×40`.
        sizes: String,
        /// Which limit, in words.
        why: String,
    },
}

impl ProofError {
    /// True when the error is a limit (the proof is too large to write),
    /// not a failure of the derivation.
    pub fn is_limit(&self) -> bool {
        matches!(self, ProofError::ConcreteLimit { .. })
    }
}

/// The general proof of derivative `k` of `d`, with symbolic sizes: the
/// reverse pass for a gradient; for a Jacobian the forward pass; for a
/// second derivative the gradient's reverse pass, then the forward pass
/// over the gradient.
///
/// ```
/// use matcalc::{derive, DeriveConfig};
/// let config = DeriveConfig { wrt: vec!["X".into()], order: 1, ..Default::default() };
/// let d = derive("L(X*W + B)", &config).unwrap();
/// let proof = matcalc::proof::general(&d, 0).unwrap();
/// assert!(proof.steps.iter().any(|s| s.rule == "delta-contract"));
/// ```
pub fn general(d: &Derivation, k: usize) -> Result<Proof, ProofError> {
    let derivative = d.derivatives.get(k).ok_or(ProofError::NoDerivative(k))?;
    let mut steps = Vec::new();
    let reverse_root = d
        .steps
        .first()
        .filter(|s| s.mode == "reverse")
        .map(|s| s.node);
    // The last forward step of a Jacobian is the one through its root.
    let forward_root = d
        .steps
        .last()
        .filter(|s| s.mode == "forward")
        .map(|s| s.node);
    let wrt = derivative.wrt.as_slice();
    let mut graph: Graph = (*d.graph).clone();
    let mut written_forward = false;
    match (reverse_root, wrt) {
        (Some(root), [x, rest @ ..]) if rest.len() <= 1 => {
            if let Some(dims) = d.typed.var_dims(x) {
                let var = graph.var(x, dims.clone());
                let mut replay = Differentiator::new(&mut graph);
                let gradient = replay.gradients(root, &[var])?[0];
                let recorded = std::mem::take(&mut replay.steps);
                let space = std::mem::take(&mut replay.space);
                let mut writer = Writer::new(&mut graph, space, root, &d.typed.formula.body);
                for step in &recorded {
                    writer.block(step.node, step.child, step.result, &mut steps)?;
                }
                if let [y] = rest {
                    let gradient = match gradient {
                        Some(g) => g,
                        None => writer.graph.zero(dims),
                    };
                    steps.push(ProofStep {
                        rule: "differentiate-again",
                        text: format!(
                            "Differentiate the gradient again, now by {y}: write the differential of every node in terms of the differentials of its operands, starting from d{y}."
                        ),
                        formula: matrix_formula(writer.graph.export(gradient, &writer.options)),
                        equals_previous: false,
                    });
                    written_forward = writer.forward(gradient, y, d, &mut steps)?;
                }
            }
        }
        (None, [x]) => {
            if let Some(root) = forward_root {
                let mut writer =
                    Writer::new(&mut graph, IndexSpace::new(), root, &d.typed.formula.body);
                written_forward = writer.forward(root, x, d, &mut steps)?;
            }
        }
        _ => {}
    }
    let forward = reverse_root.is_none() || wrt.len() != 1;
    let text = if !forward {
        format!(
            "Adding the contributions that reach {}: {}",
            wrt.join(", "),
            derivative.layout
        )
    } else if written_forward {
        format!("In canonical form: {}", derivative.layout)
    } else {
        format!(
            "Derived in forward mode ({}); its steps are not written out yet.",
            derivative.layout
        )
    };
    steps.push(ProofStep {
        rule: "result",
        text,
        formula: derivative.formula().clone(),
        equals_previous: written_forward && derivative.formula().lhs.is_none(),
    });
    Ok(Proof { steps })
}

/// Writes the blocks of one replayed reverse pass.
struct Writer<'g> {
    graph: &'g mut Graph,
    space: IndexSpace,
    options: ExportOptions,
    adjoints: HashMap<Id, Id>,
}

impl<'g> Writer<'g> {
    fn new(graph: &'g mut Graph, space: IndexSpace, root: Id, written: &Expr) -> Writer<'g> {
        let options = ExportOptions {
            bare_gradients: bare_gradients(graph, root, written),
            ..Default::default()
        };
        let one = graph.num(1.0);
        Writer {
            graph,
            space,
            options,
            adjoints: HashMap::from([(root, one)]),
        }
    }

    fn show(&self, id: Id) -> String {
        to_unicode(&matrix_formula(self.graph.export(id, &self.options)))
    }

    /// The first steps of a local derivative of `node` by `child`: the node
    /// named and written entry by entry (when that says more than `Y[i]`),
    /// then differentiated entry by entry. Gives the entry of the node, the
    /// entry of the child, their names and the local derivative.
    fn expand(
        &mut self,
        node: Id,
        child: Id,
        steps: &mut Vec<ProofStep>,
    ) -> Result<(Vec<Ix>, Vec<Ix>, IndexNames, Tensor), ProofError> {
        let out = self.space.fresh_for(&self.graph.dims(node).clone());
        let at = self.space.fresh_for(&self.graph.dims(child).clone());
        let mut names = IndexNames::new(&out, &at);
        let (y, c) = (self.show(node), self.show(child));
        let lowered = lower(self.graph, &mut self.space, node, &out, &|id| id == node)
            .map_err(DiffError::from)?;
        if lowered != entry(self.graph, node, &out) {
            steps.push(ProofStep {
                rule: "name",
                text: format!("Let Y = {y}."),
                formula: matrix_formula(self.graph.export(node, &self.options)),
                equals_previous: false,
            });
            steps.push(ProofStep {
                rule: "index-expand",
                text: "Write Y entry by entry.".into(),
                formula: index_formula(self.graph, &self.options, &mut names, &lowered, "Y", &out),
                equals_previous: true,
            });
        }
        let local = partial(self.graph, &mut self.space, node, child, &out, &at)?;
        let both: Vec<_> = out.iter().chain(&at).copied().collect();
        steps.push(ProofStep {
            rule: "differentiate-entries",
            text: format!(
                "Differentiate every entry of {y} by every entry of {c} (each entry of a variable by itself gives Kronecker deltas): P{p} = ∂({y}){o}/∂({c}){a}.",
                p = bracket(&mut names, &both),
                o = bracket(&mut names, &out),
                a = bracket(&mut names, &at),
            ),
            formula: index_formula(self.graph, &self.options, &mut names, &local, "P", &both),
            equals_previous: false,
        });
        Ok((out, at, names, local))
    }

    /// The steps of one local derivative: the adjoint of `node` flows to
    /// `child` and raises to `result`.
    fn block(
        &mut self,
        node: Id,
        child: Id,
        result: Id,
        steps: &mut Vec<ProofStep>,
    ) -> Result<(), ProofError> {
        let adjoint = self.adjoints.get(&node).copied().unwrap_or(result);
        if let Node::Apply(name, _) = self.graph.node(node) {
            // The gradient of an abstract function is a given, not derived.
            steps.push(ProofStep {
                rule: "given-gradient",
                text: format!(
                    "The gradient of {name} at its argument {} is given: call it d{name}.",
                    self.show(child)
                ),
                formula: matrix_formula(self.graph.export(result, &self.options)),
                equals_previous: false,
            });
            self.adjoints.insert(child, result);
            return Ok(());
        }
        let (out, at, mut names, local) = self.expand(node, child, steps)?;
        let y = self.show(node);
        let c = self.show(child);
        let mut chained = product(&entry(self.graph, adjoint, &out), &local);
        for term in &mut chained {
            term.sums.extend_from_slice(&out);
        }
        steps.push(ProofStep {
            rule: "chain-rule",
            text: format!(
                "Chain rule: the gradient {} of f with respect to {y}, summed against P, is this contribution to ∂f/∂({c}).",
                self.show(adjoint)
            ),
            formula: index_formula(self.graph, &self.options, &mut names, &chained, "D", &at),
            equals_previous: false,
        });
        self.settle(chained, &mut names, "D", &at, child, steps)?;
        let total = match self.adjoints.get(&child) {
            Some(&prev) => self
                .graph
                .binary(BinOp::Add, prev, result)
                .map_err(DiffError::from)?,
            None => result,
        };
        self.adjoints.insert(child, total);
        Ok(())
    }

    /// Contracts the deltas of `chained` (a step when there are any) and
    /// raises the rest to matrix form, transposed to the dims of `like`
    /// (a step when a matrix form exists). Gives the contracted form and the
    /// matrix form.
    fn settle(
        &mut self,
        chained: Tensor,
        names: &mut IndexNames,
        name: &str,
        free: &[Ix],
        like: Id,
        steps: &mut Vec<ProofStep>,
    ) -> Result<(Tensor, Option<Id>), ProofError> {
        let has_delta = chained
            .iter()
            .any(|t| t.factors.iter().any(|f| matches!(f, Factor::Delta(..))));
        let contracted = collect(contract(chained, &self.space));
        if has_delta {
            steps.push(ProofStep {
                rule: "delta-contract",
                text: "Contract the Kronecker deltas: a sum over δ(k,a) sets k = a.".into(),
                formula: index_formula(self.graph, &self.options, names, &contracted, name, free),
                equals_previous: true,
            });
        }
        let raised = self.raise_like(&contracted, free, like)?;
        if let Some(raised) = raised {
            steps.push(ProofStep {
                rule: rule_of_raised(self.graph, raised),
                text: "Recognise the remaining sums as matrix operations.".into(),
                formula: matrix_formula(self.graph.export(raised, &self.options)),
                equals_previous: true,
            });
        }
        Ok((contracted, raised))
    }

    /// The matrix form of `tensor`, transposed to the dims of `like`.
    fn raise_like(
        &mut self,
        tensor: &Tensor,
        free: &[Ix],
        like: Id,
    ) -> Result<Option<Id>, ProofError> {
        let Some(raised) = raise(self.graph, &self.space, tensor, free).map_err(DiffError::from)?
        else {
            return Ok(None);
        };
        Ok(Some(if self.graph.dims(raised) != self.graph.dims(like) {
            self.graph.transpose(raised)
        } else {
            raised
        }))
    }

    /// The forward pass that differentiates `f` by the variable `name`,
    /// replayed with the engine's own [`Differentiator::tangent`] and
    /// [`Differentiator::jacobian_index_form`] and written out: the
    /// differential of every node in terms of its operands' differentials,
    /// then the derivative read off the last differential. False when the
    /// variable's shape is unknown (nothing is written).
    fn forward(
        &mut self,
        f: Id,
        name: &str,
        d: &Derivation,
        steps: &mut Vec<ProofStep>,
    ) -> Result<bool, ProofError> {
        let Some(dims) = d.typed.var_dims(name) else {
            return Ok(false);
        };
        let var = self.graph.var(name, dims.clone());
        let direction = self.graph.tangent(name, dims);
        let mut replay = Differentiator::new(self.graph);
        replay.space = std::mem::take(&mut self.space);
        let tangent = replay.tangent(f, var, direction)?;
        let recorded = std::mem::take(&mut replay.steps);
        self.space = std::mem::take(&mut replay.space);
        let mut tangents = HashMap::from([(var, direction)]);
        let mut parts: Vec<Id> = Vec::new();
        for (k, step) in recorded.iter().enumerate() {
            let dc = tangents.get(&step.child).copied().unwrap_or(direction);
            self.differential(step.node, step.child, dc, steps)?;
            parts.push(step.result);
            if recorded.get(k + 1).map(|s| s.node) != Some(step.node) {
                let total = self
                    .graph
                    .sum_all(&parts)
                    .map_err(DiffError::from)?
                    .unwrap_or(step.result);
                if parts.len() > 1 {
                    steps.push(ProofStep {
                        rule: "add-differentials",
                        text: format!(
                            "The differential of {} is the sum of the terms through each operand.",
                            self.show(step.node)
                        ),
                        formula: matrix_formula(self.graph.export(total, &self.options)),
                        equals_previous: false,
                    });
                }
                tangents.insert(step.node, total);
                parts.clear();
            }
        }
        let f_dims = self.graph.dims(f).clone();
        let var_dims = self.graph.dims(var).clone();
        let out = self.space.fresh_for(&f_dims);
        let at = self.space.fresh_for(&var_dims);
        let free: Vec<Ix> = out.iter().chain(&at).copied().collect();
        let mut replay = Differentiator::new(self.graph);
        replay.space = std::mem::take(&mut self.space);
        let tensor = match tangent {
            Some(t) => replay.jacobian_index_form(t, direction, &out, &at)?,
            None => Tensor::new(),
        };
        self.space = std::mem::take(&mut replay.space);
        let mut names = IndexNames::new(&out, &at);
        let both = bracket(&mut names, &free);
        steps.push(ProofStep {
            rule: "read-off",
            text: format!(
                "Read the derivative off the differential of {f}: write it entry by entry, put a Kronecker delta in place of each entry of d{name} and contract: J{both} = ∂({f}){o}/∂{name}{a}.",
                f = self.show(f),
                o = bracket(&mut names, &out),
                a = bracket(&mut names, &at),
            ),
            formula: index_formula(self.graph, &self.options, &mut names, &tensor, "J", &free),
            equals_previous: false,
        });
        if free.len() <= 2 {
            if let Some(raised) =
                raise(self.graph, &self.space, &tensor, &free).map_err(DiffError::from)?
            {
                steps.push(ProofStep {
                    rule: rule_of_raised(self.graph, raised),
                    text: "Recognise the remaining sums as matrix operations.".into(),
                    formula: matrix_formula(self.graph.export(raised, &self.options)),
                    equals_previous: true,
                });
            }
        }
        Ok(true)
    }

    /// The steps of one forward term: the differential `dc` of `child`
    /// flows through `node`.
    fn differential(
        &mut self,
        node: Id,
        child: Id,
        dc: Id,
        steps: &mut Vec<ProofStep>,
    ) -> Result<(), ProofError> {
        let (out, at, mut names, local) = self.expand(node, child, steps)?;
        let mut chained = product(&local, &entry(self.graph, dc, &at));
        for term in &mut chained {
            term.sums.extend_from_slice(&at);
        }
        steps.push(ProofStep {
            rule: "chain-rule",
            text: format!(
                "Chain rule: P summed against the differential {} of {} is this term of the differential dY of {}.",
                self.show(dc),
                self.show(child),
                self.show(node)
            ),
            formula: index_formula(self.graph, &self.options, &mut names, &chained, "dY", &out),
            equals_previous: false,
        });
        self.settle(chained, &mut names, "dY", &out, node, steps)?;
        Ok(())
    }
}

/// The rule that names the matrix form recognised: a transposed product,
/// a product, a Hadamard product, or another matrix operation.
fn rule_of_raised(graph: &Graph, id: Id) -> &'static str {
    match graph.node(id) {
        Node::T(inner) if matches!(graph.node(*inner), Node::Binary(BinOp::Mul, ..)) => {
            "transpose-of-product"
        }
        Node::Binary(BinOp::Mul, ..) => "matmul-from-sum",
        Node::Binary(BinOp::HadMul, ..) => "hadamard-from-entries",
        _ => "matrix-form",
    }
}

/// `[i,j]`, or nothing for a scalar.
fn bracket(names: &mut IndexNames, ixs: &[crate::index::Ix]) -> String {
    if ixs.is_empty() {
        return String::new();
    }
    let list: Vec<String> = ixs.iter().map(|&ix| names.name(ix)).collect();
    format!("[{}]", list.join(","))
}
