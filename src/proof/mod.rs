//! Proofs: the derivation a textbook reader needs, step by step.
//!
//! [`general`] replays the reverse pass of a [`Derivation`] for one variable
//! and writes every local step out: the node entry by entry (`index::lower`),
//! the chain rule through the adjoint with the local derivative in Kronecker
//! deltas (`diff::partial`), the contraction of the deltas
//! (`index::contract`) and the recognition of the remaining sums as matrix
//! operations (`index::raise`). Nothing is special-cased per expression.
//! Invariant: a step marked `equals_previous` states the same value as the
//! step before it (the tests evaluate both); the library never prints.
//! Uses `syntax`, `index`, `diff` and `derive`.

mod concrete;
mod render;
mod written;

pub use concrete::concrete;
pub use render::{render_json, render_latex, render_markdown, render_text};
pub use written::IndexNames;

use std::collections::HashMap;

use crate::derive::Derivation;
use crate::diff::{partial, DiffError, Differentiator};
use crate::index::{
    collect, contract, entry, lower, product, raise, single_call_arguments, ExportOptions, Factor,
    Graph, Id, IndexSpace, Node,
};
use crate::syntax::{to_unicode, BinOp, Formula};
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
}

/// The general proof of derivative `k` of `d`, with symbolic sizes.
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
    let root = d
        .steps
        .first()
        .filter(|s| s.mode == "reverse")
        .map(|s| s.node);
    if let (Some(root), [name]) = (root, derivative.wrt.as_slice()) {
        if let Some(dims) = d.typed.var_dims(name) {
            let mut graph: Graph = (*d.graph).clone();
            let x = graph.var(name, dims);
            let mut replay = Differentiator::new(&mut graph);
            replay.gradients(root, &[x])?;
            let recorded = std::mem::take(&mut replay.steps);
            let space = std::mem::take(&mut replay.space);
            let mut writer = Writer::new(&mut graph, space, root);
            for step in &recorded {
                writer.block(step.node, step.child, step.result, &mut steps)?;
            }
        }
    }
    let forward = root.is_none() || derivative.wrt.len() != 1;
    let text = if forward {
        format!(
            "Derived in forward mode ({}); its steps are not written out yet.",
            derivative.layout
        )
    } else {
        format!(
            "Adding the contributions that reach {}: {}",
            derivative.wrt.join(", "),
            derivative.layout
        )
    };
    steps.push(ProofStep {
        rule: "result",
        text,
        formula: derivative.formula().clone(),
        equals_previous: false,
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
    fn new(graph: &'g mut Graph, space: IndexSpace, root: Id) -> Writer<'g> {
        let options = ExportOptions {
            bare_gradients: single_call_arguments(graph, root),
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
        let has_delta = chained
            .iter()
            .any(|t| t.factors.iter().any(|f| matches!(f, Factor::Delta(..))));
        let contracted = collect(contract(chained, &self.space));
        if has_delta {
            steps.push(ProofStep {
                rule: "delta-contract",
                text: "Contract the Kronecker deltas: a sum over δ(k,a) sets k = a.".into(),
                formula: index_formula(
                    self.graph,
                    &self.options,
                    &mut names,
                    &contracted,
                    "D",
                    &at,
                ),
                equals_previous: true,
            });
        }
        if let Some(raised) =
            raise(self.graph, &self.space, &contracted, &at).map_err(DiffError::from)?
        {
            let raised = if self.graph.dims(raised) != self.graph.dims(child) {
                self.graph.transpose(raised)
            } else {
                raised
            };
            steps.push(ProofStep {
                rule: rule_of_raised(self.graph, raised),
                text: "Recognise the remaining sums as matrix operations.".into(),
                formula: matrix_formula(self.graph.export(raised, &self.options)),
                equals_previous: true,
            });
        }
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
