//! Proofs: the derivation a textbook reader needs, step by step.
//!
//! [`general`] writes out the [`Record`] of one derivative: every local step
//! of the reverse pass (or of the forward pass, for a Jacobian, or both for
//! a Hessian) as the engine took it — the node named and written entry by
//! entry, its partial derivatives in Kronecker deltas, the chain rule, the
//! contraction of the deltas (naming the indices contracted) and the matrix
//! form the sums were recognised as — then the simplifier's rule steps,
//! then the result. Nothing is re-derived and nothing is special-cased per
//! expression. Every intermediate gets its own name (Y, Z, U, V, Y₁, …).
//! [`check`] evaluates every equality a proof states at random points.
//! Invariant: a step marked `equals_previous` states the same value as the
//! step before it; a step with `same_as` states the same value as that
//! formula; the library never prints. Uses `syntax`, `shape`, `numeric`,
//! `index`, `diff`, `simplify` and `exact`; never a later layer.

mod check;
mod concrete;
mod josa;
mod record;
mod render;
mod sentences;
mod written;

pub use check::{check, Checked, CHECK_SEEDS};
pub use concrete::{concrete, concrete_problem, MAX_CONCRETE_ENTRIES};
pub use record::{ReadOff, Record};
pub use render::{render_json, render_latex, render_markdown, render_text, Format};
pub use sentences::{sentence, Lang, Math, Say};
pub use written::{label, latex_label, IndexNames, Notation};

use std::collections::HashSet;

use crate::index::{
    bare_gradients, entry, lower, ExportOptions, Factor, Graph, Id, IndexSpace, Ix, Node,
    RaiseRule, Tensor,
};
use crate::syntax::Formula;
use written::{index_formula, matrix_formula};

/// One step of a proof.
#[derive(Clone, Debug, PartialEq)]
pub struct ProofStep {
    /// The rule applied, kebab-case (`index-expand`, `chain-rule`, …).
    pub rule: &'static str,
    /// What the step says, in any language (see [`sentence`]).
    pub say: Say,
    /// The expression after the step, in the input syntax (it evaluates).
    pub formula: Formula,
    /// The formula as the reader sees it: intermediates by their names,
    /// the given gradient as `∂L/∂Y`.
    pub shown: Math,
    /// True when `formula` is the same value as the previous step's.
    pub equals_previous: bool,
    /// A formula `formula` equals (a subterm rewritten by the simplifier:
    /// the subterm before).
    pub same_as: Option<Formula>,
    /// The step's self-check (see [`check`]).
    pub checked: Checked,
}

impl ProofStep {
    /// The step's sentence in `lang`, math in Unicode.
    pub fn text(&self, lang: Lang) -> String {
        sentence(&self.say, lang, &|m: &Math| m.unicode.clone())
    }
}

/// A derivation written out step by step.
#[derive(Clone, Debug, PartialEq)]
pub struct Proof {
    /// The steps, in order.
    pub steps: Vec<ProofStep>,
}

impl Proof {
    /// Every name the proof introduces with the node it stands for: a name
    /// is never given to two nodes.
    pub fn names(&self) -> Vec<(String, String)> {
        self.steps
            .iter()
            .filter_map(|s| match &s.say {
                Say::Name { binding } => binding
                    .unicode
                    .split_once(" = ")
                    .map(|(n, e)| (n.to_string(), e.to_string())),
                _ => None,
            })
            .collect()
    }
}

/// Why a proof cannot be written.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ProofError {
    /// There is no derivative with that number.
    #[error("there is no derivative number {0}")]
    NoDerivative(usize),
    /// Writing a node entry by entry failed.
    #[error(transparent)]
    Graph(#[from] crate::index::GraphError),
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
    /// A step's self-check found its equality false: a bug of matcalc.
    #[error("step {step} of the proof does not hold: {why}")]
    Refuted {
        /// The step, from 1.
        step: usize,
        /// What differs.
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

/// The general proof of one derivative from its record, with symbolic
/// sizes: the reverse pass for a gradient; for a Jacobian the forward
/// pass; for a second derivative the gradient's reverse pass, then the
/// forward pass over the gradient; then the simplifier's steps.
///
/// ```
/// use matcalc::{derive, DeriveConfig};
/// let config = DeriveConfig { wrt: vec!["X".into()], order: 1, ..Default::default() };
/// let d = derive("L(X*W + B)", &config).unwrap();
/// let proof = matcalc::proof::general(&d.record(0).unwrap()).unwrap();
/// assert!(proof.steps.iter().any(|s| s.rule == "delta-contract"));
/// ```
pub fn general(record: &Record<'_>) -> Result<Proof, ProofError> {
    let mut graph: Graph = record.graph.clone();
    let mut writer = Writer::new(&mut graph, record);
    let reverse: Vec<_> = record
        .steps
        .iter()
        .filter(|s| s.mode == "reverse")
        .collect();
    for step in &reverse {
        writer.block(step)?;
    }
    let symmetrized = |writer: &mut Writer<'_>, id: Id| {
        if record.unconstrained.is_some() {
            let var = record.wrt[0].clone();
            let formula = writer.export(id);
            writer.push("symmetrize", Say::Symmetrize { var }, formula, false);
        }
    };
    if let Some(gradient) = record.again {
        symmetrized(&mut writer, gradient);
        let var = record.wrt.last().cloned().unwrap_or_default();
        let formula = writer.export(gradient);
        writer.push("differentiate-again", Say::Again { var }, formula, false);
    }
    if let Some(read_off) = record.read_off {
        writer.forward(record.steps, read_off)?;
    }
    let mut last = None;
    if let Some(raw) = record.raw.filter(|_| record.read_off.is_none()) {
        let formula = writer.export(record.unconstrained.unwrap_or(raw));
        writer.push(
            "sum-contributions",
            Say::Add {
                wrt: record.wrt.to_vec(),
            },
            formula,
            false,
        );
        symmetrized(&mut writer, raw);
        last = Some(raw);
    }
    let whole = last
        .or(record
            .read_off
            .and_then(|r| r.raised.as_ref().map(|r| r.id)))
        .map(|start| writer.simplified(start, record.simplified));
    let label = label(&record.typed.formula.body, record.wrt);
    let shown_label = Math {
        latex: written::latex_label(&label),
        unicode: label,
    };
    let result = record.result.clone();
    let say = Say::Result { label: shown_label };
    match whole {
        // The result is the last whole expression, written out.
        Some((id, shown)) if result.lhs.is_none() => {
            let same = writer.export(id);
            writer.push_same("result", say, result, shown, Some(same));
        }
        _ => writer.push("result", say, result, false),
    }
    Ok(Proof {
        steps: writer.steps,
    })
}

/// Writes the recorded steps of one derivative.
struct Writer<'g> {
    graph: &'g mut Graph,
    space: IndexSpace,
    options: ExportOptions,
    notation: Notation,
    expanded: HashSet<Id>,
    steps: Vec<ProofStep>,
}

impl<'g> Writer<'g> {
    fn new(graph: &'g mut Graph, record: &Record<'_>) -> Writer<'g> {
        let written = &record.typed.formula.body;
        let options = ExportOptions {
            bare_gradients: bare_gradients(graph, record.root, written),
            ..Default::default()
        };
        let taken = record.typed.vars.keys().cloned().collect();
        let mut notation = Notation::new(taken);
        if !matches!(graph.node(record.root), Node::Apply(..)) {
            // The function itself is f, as in the label ∂f/∂X.
            notation.call(graph.export(record.root, &options), "f");
        }
        Writer {
            graph,
            space: record.space.clone(),
            options,
            notation,
            expanded: HashSet::new(),
            steps: Vec::new(),
        }
    }

    fn export(&self, id: Id) -> Formula {
        matrix_formula(self.graph.export(id, &self.options))
    }

    fn show(&self, id: Id) -> Math {
        self.notation.math(&self.export(id))
    }

    fn push(&mut self, rule: &'static str, say: Say, formula: Formula, equals_previous: bool) {
        self.push_same(rule, say, formula, equals_previous, None);
    }

    fn push_same(
        &mut self,
        rule: &'static str,
        say: Say,
        formula: Formula,
        equals_previous: bool,
        same_as: Option<Formula>,
    ) {
        let shown = self.notation.math(&formula);
        self.steps.push(ProofStep {
            rule,
            say,
            formula,
            shown,
            equals_previous,
            same_as,
            checked: Checked::Unchecked,
        });
    }

    /// Gives a compound node its own name (a step) when it has none yet.
    fn name(&mut self, id: Id) {
        if matches!(self.graph.node(id), Node::Var(..) | Node::Num(..)) {
            return;
        }
        let expr = self.graph.export(id, &self.options);
        if self.notation.name_of(&expr).is_some() {
            return;
        }
        let before = self.notation.math(&matrix_formula(expr.clone()));
        let name = self.notation.introduce(expr.clone());
        let binding = Math {
            unicode: format!("{name} = {}", before.unicode),
            latex: format!("{name} = {}", before.latex),
        };
        self.push("name", Say::Name { binding }, matrix_formula(expr), false);
        if let Some(step) = self.steps.last_mut() {
            step.shown = before;
        }
    }

    /// The node written entry by entry (a step when that says more than
    /// `Y[i,j]`): its name must be given first.
    fn expand(&mut self, node: Id) -> Result<(), ProofError> {
        let out = self.space.fresh_for(&self.graph.dims(node).clone());
        let lowered = lower(self.graph, &mut self.space, node, &out, &|id| id == node)?;
        if lowered == entry(self.graph, node, &out) {
            return Ok(());
        }
        let Some(name) = self
            .notation
            .name_of(&self.graph.export(node, &self.options))
        else {
            return Ok(());
        };
        let mut names = IndexNames::new(&out, &[]);
        let formula = index_formula(self.graph, &self.options, &mut names, &lowered, &name, &out);
        let say = Say::Expand {
            name: Math {
                unicode: name.clone(),
                latex: name.clone(),
            },
        };
        let mut shown = self.notation.math(&formula);
        if shown.unicode == name {
            // A scalar whose entry is itself: nothing to write out.
            return Ok(());
        }
        if formula.lhs.is_none() {
            shown.unicode = format!("{name} = {}", shown.unicode);
            shown.latex = format!("{name} = {}", shown.latex);
        }
        let node = self.export(node);
        self.push_same("index-expand", say, formula, false, Some(node));
        if let Some(step) = self.steps.last_mut() {
            step.shown = shown;
        }
        Ok(())
    }

    /// The steps of one recorded local derivative.
    fn block(&mut self, step: &crate::diff::Step) -> Result<(), ProofError> {
        if let Node::Apply(f, _) = self.graph.node(step.node) {
            // The gradient of an abstract function is a given, not derived.
            let f = f.clone();
            self.name(step.child);
            if let Some(arg) = self
                .notation
                .name_of(&self.graph.export(step.child, &self.options))
            {
                self.notation.given(&f, &arg);
            }
            let grad = self.show(step.result);
            let formula = self.export(step.result);
            self.push("given-gradient", Say::Given { f, grad }, formula, false);
            return Ok(());
        }
        let reverse = step.mode == "reverse";
        self.name(step.node);
        self.name(step.child);
        if self.expanded.insert(step.node) {
            self.expand(step.node)?;
        }
        let mut names = IndexNames::new(&step.out, &step.at);
        let (node, child) = (self.show(step.node), self.show(step.child));
        let both: Vec<Ix> = step.out.iter().chain(&step.at).copied().collect();
        let p = self.notation.symbol(&["P", "Q", "R"]);
        let definition = self
            .notation
            .partial(&p, &both, &node, &step.out, &child, &step.at, &mut names);
        let local = index_formula(
            self.graph,
            &self.options,
            &mut names,
            &step.local,
            &p,
            &both,
        );
        self.push(
            "differentiate-entries",
            Say::Differentiate {
                node: node.clone(),
                child: child.clone(),
                definition,
            },
            local,
            false,
        );
        let incoming = self.show(step.incoming);
        let (name, say) = if reverse {
            let name = self.notation.symbol(&["D", "G", "H"]);
            (
                name,
                Say::ChainRule {
                    incoming,
                    node,
                    child,
                    local: p,
                },
            )
        } else {
            // The differential of the node: dY for Y.
            let name = format!("d{}", node.unicode);
            (
                name,
                Say::ChainForward {
                    incoming,
                    child,
                    node,
                    local: p,
                },
            )
        };
        let chained = index_formula(
            self.graph,
            &self.options,
            &mut names,
            &step.chained,
            &name,
            &step.free,
        );
        self.push("chain-rule", say, chained, false);
        self.settle(
            &step.chained,
            &step.index_form,
            &mut names,
            &name,
            &step.free,
        )?;
        self.raised(step.result, &step.raise_rules);
        Ok(())
    }

    /// The contraction step (when there are deltas): `chained` contracted
    /// to `contracted`, naming the indices each delta sets.
    fn settle(
        &mut self,
        chained: &Tensor,
        contracted: &Tensor,
        names: &mut IndexNames,
        name: &str,
        free: &[Ix],
    ) -> Result<(), ProofError> {
        let mut sets: Vec<(String, String)> = Vec::new();
        for term in chained {
            for factor in &term.factors {
                if let Factor::Delta(a, b) = factor {
                    let pair = if term.sums.contains(a) {
                        (names.name(*a), names.name(*b))
                    } else if term.sums.contains(b) {
                        (names.name(*b), names.name(*a))
                    } else {
                        continue;
                    };
                    if !sets.contains(&pair) {
                        sets.push(pair);
                    }
                }
            }
        }
        let has_delta = chained
            .iter()
            .any(|t| t.factors.iter().any(|f| matches!(f, Factor::Delta(..))));
        if has_delta {
            let formula = index_formula(self.graph, &self.options, names, contracted, name, free);
            self.push("delta-contract", Say::Contract { sets }, formula, true);
        }
        Ok(())
    }

    /// The recorded forward pass and the read-off of the derivative.
    fn forward(
        &mut self,
        steps: &[crate::diff::Step],
        read_off: &ReadOff,
    ) -> Result<(), ProofError> {
        let forward: Vec<_> = steps.iter().filter(|s| s.mode == "forward").collect();
        let mut parts: Vec<Id> = Vec::new();
        for (k, step) in forward.iter().enumerate() {
            self.block(step)?;
            parts.push(step.result);
            if forward.get(k + 1).map(|s| s.node) != Some(step.node) {
                if parts.len() > 1 {
                    let total = self.graph.sum_all(&parts)?.unwrap_or(step.result);
                    let node = self.show(step.node);
                    let formula = self.export(total);
                    self.push(
                        "add-differentials",
                        Say::AddDifferentials { node },
                        formula,
                        false,
                    );
                }
                parts.clear();
            }
        }
        let free: Vec<Ix> = read_off.out.iter().chain(&read_off.at).copied().collect();
        let mut names = IndexNames::new(&read_off.out, &read_off.at);
        let f = self.show(read_off.f);
        let var = Math {
            unicode: read_off.var.clone(),
            latex: read_off.var.clone(),
        };
        let j = self.notation.symbol(&["J", "K", "H"]);
        let definition =
            self.notation
                .partial(&j, &free, &f, &read_off.out, &var, &read_off.at, &mut names);
        let formula = index_formula(
            self.graph,
            &self.options,
            &mut names,
            &read_off.tensor,
            &j,
            &free,
        );
        self.push(
            "read-off",
            Say::ReadOff {
                f,
                var: read_off.var.clone(),
                definition,
            },
            formula,
            false,
        );
        if let Some(raised) = &read_off.raised {
            self.raised(raised.id, &raised.rules);
        }
        Ok(())
    }

    /// The step that recognises the remaining sums as the matrix node `id`,
    /// naming the rules of raising that built it.
    fn raised(&mut self, id: Id, rules: &[RaiseRule]) {
        let formula = self.export(id);
        let say = Say::Raise {
            rules: rules.to_vec(),
        };
        self.push(raise_tag(rules), say, formula, true);
    }

    /// The simplifier's steps from `start`. Each states its own equality
    /// (the node before = the node after); a rewrite of the whole
    /// expression that follows one also shows as equal to the step before.
    /// Gives the last whole expression and whether the last step shows it.
    fn simplified(&mut self, start: Id, steps: &[crate::simplify::RuleStep]) -> (Id, bool) {
        let mut current = start;
        let mut follows = true;
        for step in steps {
            let (before, after) = (self.show(step.before), self.show(step.after));
            let equation = Math {
                unicode: format!("{} = {}", before.unicode, after.unicode),
                latex: format!("{} = {}", before.latex, after.latex),
            };
            let say = Say::Simplify {
                rule: step.rule,
                equation,
                used: step.used.clone(),
            };
            let whole = step.before == current || step.rule == crate::simplify::CANONICAL_FORM;
            let formula = self.export(step.after);
            let before = self.export(step.before);
            self.push_same("simplify", say, formula, whole && follows, Some(before));
            follows = whole;
            if whole {
                current = step.after;
            }
        }
        (current, follows)
    }
}

/// The tag of a raise step: its main rule (the last that is not an
/// orienting transpose), or `entries-to-matrix` when the entries were read
/// as the matrix itself.
fn raise_tag(rules: &[RaiseRule]) -> &'static str {
    rules
        .iter()
        .rev()
        .find(|r| **r != RaiseRule::TransposeToOrient)
        .or(rules.last())
        .map_or("entries-to-matrix", |r| r.name())
}
