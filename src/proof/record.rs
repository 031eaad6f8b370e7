//! What the engine did for one derivative, handed to the proof writer: the
//! reverse- and forward-mode steps `diff` recorded, the read-off of a
//! Jacobian, and the simplifier's rule steps. A plain record: the `derive`
//! layer fills it in, the proof only reads it (and so imports no later
//! layer). Uses `index`, `diff`, `simplify` and `shape`.

use crate::diff::Step;
use crate::index::{Graph, Id, IndexSpace, Ix, Raised, Tensor};
use crate::shape::Typed;
use crate::simplify::RuleStep;
use crate::syntax::Formula;

/// How a derivative taken in forward mode was read off the differential of
/// `f`: `∂f[out]/∂var[at]`, in index form and, when one exists, as a
/// matrix node.
#[derive(Clone, Debug)]
pub struct ReadOff {
    /// The node whose differential was taken.
    pub f: Id,
    /// The variable differentiated by.
    pub var: String,
    /// The entry of `f`.
    pub out: Vec<Ix>,
    /// The entry of the variable.
    pub at: Vec<Ix>,
    /// The derivative in index form, contracted.
    pub tensor: Tensor,
    /// Its matrix form, when one was found, with the rules that built it.
    pub raised: Option<Raised>,
}

/// The record of one derivative.
#[derive(Clone, Copy, Debug)]
pub struct Record<'a> {
    /// The input, shape-checked.
    pub typed: &'a Typed,
    /// The DAG every id refers to.
    pub graph: &'a Graph,
    /// The index ranges of the steps.
    pub space: &'a IndexSpace,
    /// The root of the expression.
    pub root: Id,
    /// The variables differentiated by.
    pub wrt: &'a [String],
    /// The layout convention, in words.
    pub layout: &'a str,
    /// This derivative's local steps, in the order taken.
    pub steps: &'a [Step],
    /// For a second derivative, the gradient that was differentiated again.
    pub again: Option<Id>,
    /// For a derivative taken in forward mode, how it was read off.
    pub read_off: Option<&'a ReadOff>,
    /// The derivative as the differentiation left it (before simplifying),
    /// when it is a matrix node.
    pub raw: Option<Id>,
    /// For a gradient by a variable declared symmetric, the gradient before
    /// it was symmetrized (the derivative is `(G + Gᵀ)/2` of it).
    pub unconstrained: Option<Id>,
    /// The simplifier's steps from `raw` to the result.
    pub simplified: &'a [RuleStep],
    /// The result as written.
    pub result: &'a Formula,
}
