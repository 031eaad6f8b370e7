//! The `derive` layer: the whole pipeline as one call.
//!
//! parse → shapes → DAG → differentiate (reverse mode for gradients, forward
//! mode for Jacobians and Hessians, every step in index form) → simplify →
//! raise to matrix form where one exists, else an honest index form.
//! Invariant: never prints; every error carries what the user needs to fix.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};

use num_traits::{One, Zero};

use crate::algebra::Rational;
use crate::diff::{DiffError, Differentiator, Step};
use crate::index::{
    bare_gradients, collect, is_scalar, raise, untransposed, Dims, ExportOptions, Factor, Graph,
    GraphError, Id, IndexSpace, Ix, Limit, Node, Tensor, Undefined,
};
use crate::proof::{ReadOff, Record};
use crate::readback::{self, Reader};
use crate::shape::{self, ShapeContext, ShapeError, Typed};
use crate::simplify::{Assumptions, Fact, Limits, Normalizer, RuleStep, Used};
use crate::syntax::{parse_formula, BinOp, Decls, Diagnostic, Formula, ParseError, Span};

/// What to differentiate with respect to, and how often.
#[derive(Clone, Debug, Default)]
pub struct DeriveConfig {
    /// Shape declarations in force.
    pub decls: Decls,
    /// The variables: one gradient each at order 1; at order 2 one name (the
    /// Hessian) or two (the mixed second derivative).
    pub wrt: Vec<String>,
    /// 1 or 2.
    pub order: u8,
    /// Facts about the variables the simplifier may use on the results
    /// (from their domains: `T: onehot` — the rows of T sum to 1).
    pub assumptions: Assumptions,
}

/// Matrix form or index form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Form {
    /// Pure matrix operations.
    Matrix,
    /// Index notation (`J[i,j,k] = …`): no matrix form exists or was found.
    Index,
}

/// One derivative of the expression.
#[derive(Clone, Debug)]
pub struct Derivative {
    /// The variables differentiated by, in order.
    pub wrt: Vec<String>,
    /// Which form it is in.
    pub form: Form,
    /// The layout convention, in words.
    pub layout: String,
    /// The assumptions the simplifier used on this result, each once.
    pub assumptions: Vec<Used>,
    written: Written,
    recorded: Recorded,
}

/// What was done for one derivative, for its proof (see [`Record`]).
#[derive(Clone, Debug, Default)]
struct Recorded {
    /// Its local steps: a range of [`Derivation::steps`].
    steps: std::ops::Range<usize>,
    again: Option<Id>,
    read_off: Option<ReadOff>,
    raw: Option<Id>,
    unconstrained: Option<Id>,
    simplified: Vec<RuleStep>,
}

/// A result in matrix form is kept as a node of the shared DAG and written
/// out as a tree on first use: deriving stays linear in the size of the DAG,
/// while a flat printout may repeat shared subterms many times.
#[derive(Clone, Debug)]
enum Written {
    Ready(Formula),
    Node {
        graph: Arc<Graph>,
        id: Id,
        options: Arc<ExportOptions>,
        reader: Arc<Reader>,
        cache: OnceLock<Formula>,
    },
}

impl Derivative {
    /// How many nodes the result has written out as a tree (saturating):
    /// shared subterms of the DAG count once per use.
    pub fn written_size(&self) -> usize {
        match &self.written {
            Written::Ready(f) => f.body.node_count(),
            Written::Node { graph, id, .. } => graph.tree_size(*id),
        }
    }

    /// The result as a node of [`Derivation::graph`] and the options it is
    /// written with; `None` for an index-form result, kept as a formula.
    pub fn node(&self) -> Option<(Id, &ExportOptions)> {
        match &self.written {
            Written::Ready(_) => None,
            Written::Node { id, options, .. } => Some((*id, options)),
        }
    }

    /// The result in matrix or index form, as a syntax tree. A result whose
    /// [`written_size`](Derivative::written_size) is huge takes as much
    /// memory: see [`Derivation::writable`].
    pub fn formula(&self) -> &Formula {
        match &self.written {
            Written::Ready(f) => f,
            Written::Node {
                graph,
                id,
                options,
                reader,
                cache,
            } => cache.get_or_init(|| written(graph, *id, options, reader)),
        }
    }
}

/// The result of [`derive`]: the typed input, each derivative and the steps
/// taken.
#[derive(Clone, Debug)]
pub struct Derivation {
    /// The input, shape-checked.
    pub typed: Typed,
    /// One derivative per requested variable (or pair at order 2).
    pub derivatives: Vec<Derivative>,
    /// The local steps, in the order taken (for proofs).
    pub steps: Vec<Step>,
    /// The DAG the steps and the results refer to.
    pub graph: Arc<Graph>,
    /// Index ranges of the steps' index forms.
    pub space: IndexSpace,
    /// The root of the expression in `graph`.
    pub root: Id,
}

/// Why a derivation failed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum DeriveError {
    /// The text does not parse.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// The shapes do not fit.
    #[error(transparent)]
    Shape(#[from] ShapeError),
    /// The request itself is wrong (unknown variable, bad order).
    #[error("{message}")]
    Request {
        /// What is wrong.
        message: String,
        /// Where in the expression, if anywhere.
        span: Span,
    },
    /// An index-notation formula (`G[i] = …`) was given where a matrix
    /// expression is needed: it is a result, not a function to work on.
    #[error("an index-notation formula cannot be {what}; give a matrix expression")]
    IndexForm {
        /// What was to be done with it ("differentiated").
        what: String,
        /// Its left-hand side.
        span: Span,
    },
    /// The derivative needs something matcalc does not support.
    #[error("unsupported: {0}")]
    Unsupported(DiffError),
    /// A step of the derivative of an input defined somewhere is undefined
    /// everywhere: matcalc's limit, not the input's.
    #[error(
        "unsupported: a step of the derivative is undefined everywhere although the expression \
         is not: {0}"
    )]
    UndefinedStep(Undefined),
    /// The derivation would go over one of matcalc's limits.
    #[error("{0}")]
    Limit(Limit),
    /// The expression is undefined wherever it is evaluated (`log(x - x)`,
    /// `inv(x*y')`), so it has no derivative; the message says why.
    #[error("the expression is undefined everywhere: {0}")]
    Undefined(Undefined),
}

/// Results are written out as trees of at most this many nodes. The DAG of
/// a derivative stays linear in the input, but writing it out repeats
/// shared subterms: the gradient of `tr(X*X*…*X)` with k factors has k²
/// nodes, so a few kilobytes of input could otherwise ask for gigabytes.
pub const MAX_WRITTEN_NODES: usize = 500_000;

/// Refuses a result of `nodes` nodes when it is too large to write out.
fn writable(nodes: usize) -> Result<(), DeriveError> {
    if nodes > MAX_WRITTEN_NODES {
        return Err(DeriveError::Limit(Limit::WrittenNodes {
            nodes: (nodes != usize::MAX).then_some(nodes),
            max: MAX_WRITTEN_NODES,
        }));
    }
    Ok(())
}

impl From<DiffError> for DeriveError {
    fn from(e: DiffError) -> DeriveError {
        match e {
            DiffError::Graph(g) => g.into(),
            other => DeriveError::Unsupported(other),
        }
    }
}

impl From<GraphError> for DeriveError {
    fn from(e: GraphError) -> DeriveError {
        match e {
            GraphError::Limit(m) => DeriveError::Limit(m),
            GraphError::Undefined(m) => DeriveError::Undefined(m),
            other => DeriveError::Unsupported(DiffError::Graph(other)),
        }
    }
}

impl DeriveError {
    /// The error as a diagnostic.
    pub fn diagnostic(&self) -> Diagnostic {
        match self {
            DeriveError::Parse(e) => e.diagnostic(),
            DeriveError::Shape(e) => e.diagnostic(),
            DeriveError::Request { message, span } if *span == Span::NONE => {
                Diagnostic::new(message.clone())
            }
            DeriveError::Request { message, span } => {
                Diagnostic::new(message.clone()).with_label(*span, "")
            }
            DeriveError::IndexForm { span, .. } => Diagnostic::new(self.to_string())
                .with_label(*span, "an index-notation result")
                .with_help(
                    "write the function in matrix form, e.g. `A*x` rather than \
                     `G[i] = A[i,j]*x[j]`",
                ),
            DeriveError::Unsupported(_) | DeriveError::UndefinedStep(_) => {
                Diagnostic::new(self.to_string())
            }
            DeriveError::Limit(m) => Diagnostic::new(m.to_string()).with_help(
                "the result grows too fast; differentiate a smaller part of the expression",
            ),
            DeriveError::Undefined(_) => Diagnostic::new(self.to_string())
                .with_help("an expression undefined at every point has no derivative"),
        }
    }
}

impl Derivation {
    /// Refuses a derivation with a result too large to write out (more
    /// than [`MAX_WRITTEN_NODES`] nodes): the DAG stays small, but its
    /// printout would not. Call it before writing results out.
    pub fn writable(&self) -> Result<(), DeriveError> {
        self.derivatives
            .iter()
            .try_for_each(|d| writable(d.written_size()))
    }

    /// The record of derivative `k` for its proof: the steps taken, the
    /// read-off and the simplifier's steps; `None` when there is no
    /// derivative `k`.
    pub fn record(&self, k: usize) -> Option<Record<'_>> {
        let derivative = self.derivatives.get(k)?;
        let r = &derivative.recorded;
        Some(Record {
            typed: &self.typed,
            graph: &self.graph,
            space: &self.space,
            root: self.root,
            wrt: &derivative.wrt,
            layout: &derivative.layout,
            steps: &self.steps[r.steps.clone()],
            again: r.again,
            read_off: r.read_off.as_ref(),
            raw: r.raw,
            unconstrained: r.unconstrained,
            simplified: &r.simplified,
            result: derivative.formula(),
        })
    }
}

/// Differentiates `text` as `config` asks.
///
/// ```
/// use matcalc::derive::{derive, DeriveConfig};
/// let config = DeriveConfig { wrt: vec!["X".into()], order: 1, ..Default::default() };
/// let d = derive("L(X*W + B)", &config).unwrap();
/// assert_eq!(matcalc::syntax::to_expr_string(d.derivatives[0].formula()), "dL*W'");
/// ```
pub fn derive(text: &str, config: &DeriveConfig) -> Result<Derivation, DeriveError> {
    let (typed, mut graph, root) = prepare(text, &config.decls, "differentiated")?;
    let wrt = requested_pairs(config, &typed)?;
    let var_dims = |name: &str| typed.var_dims(name);
    let root_dims = graph.dims(root).clone();
    let constant = constant_nodes(&graph, root, &config.wrt)?;
    let mut diff = Differentiator::new(&mut graph);
    diff.constant = constant;
    let mut raw = Vec::new();
    for pair in &wrt {
        let first = diff.steps.len();
        let (result, mut recorded) =
            differentiate(&mut diff, root, pair, &var_dims, &typed.symmetric)
                .map_err(in_derivative)?;
        recorded.steps = first..diff.steps.len();
        raw.push((result, recorded));
    }
    let steps = std::mem::take(&mut diff.steps);
    let space = std::mem::take(&mut diff.space);
    let options = ExportOptions {
        bare_gradients: bare_gradients(&graph, root, &typed.formula.body),
        ..Default::default()
    };
    let reader = Reader::new(&typed.vars, &typed.gradients);
    let mut assumptions = config.assumptions.clone();
    for name in &typed.symmetric {
        assumptions.declare(name, Fact::Symmetric);
    }
    let mut finished = Vec::new();
    for (pair, (result, recorded)) in wrt.iter().zip(raw) {
        let writer = Writer {
            options: &options,
            reader: &reader,
            space: &space,
        };
        let mut done = finish(
            &mut graph,
            &writer,
            &root_dims,
            pair,
            (result, recorded),
            &var_dims,
            &assumptions,
        )
        .map_err(in_derivative)?;
        let gradient = pair.len() == 1 && is_scalar(&root_dims);
        done.layout
            .push_str(&symmetric_convention(pair, &typed.symmetric, gradient));
        finished.push(done);
    }
    let graph = Arc::new(graph);
    let options = Arc::new(options);
    let reader = Arc::new(reader);
    let derivatives = finished
        .into_iter()
        .map(|f| Derivative {
            form: if f.result.is_ok() {
                Form::Matrix
            } else {
                Form::Index
            },
            wrt: f.wrt,
            layout: f.layout,
            assumptions: f.used,
            recorded: f.recorded,
            written: match f.result {
                Ok(id) => Written::Node {
                    graph: Arc::clone(&graph),
                    id,
                    options: Arc::clone(&options),
                    reader: Arc::clone(&reader),
                    cache: OnceLock::new(),
                },
                Err(formula) => Written::Ready(formula),
            },
        })
        .collect();
    Ok(Derivation {
        typed,
        derivatives,
        steps,
        graph,
        space,
        root,
    })
}

/// Parses and shape-checks a formula (a matrix expression or an index form).
pub fn typecheck(text: &str, decls: &Decls) -> Result<Typed, DeriveError> {
    let formula = parse_formula(text, decls)?;
    let ctx = ShapeContext {
        decls,
        source: text,
        gradient_shapes: BTreeMap::new(),
        expected: None,
    };
    Ok(shape::check(&formula, &ctx)?)
}

/// Parses and shape-checks a matrix expression and imports it into a new
/// graph; `what` says what was to be done with it, for the error about index
/// forms.
fn prepare(text: &str, decls: &Decls, what: &str) -> Result<(Typed, Graph, Id), DeriveError> {
    let typed = typecheck(text, decls)?;
    if let Some(lhs) = &typed.formula.lhs {
        return Err(DeriveError::IndexForm {
            what: what.to_string(),
            span: lhs.span,
        });
    }
    let mut graph = Graph::new();
    let var_dims = |name: &str| typed.var_dims(name);
    let body = &typed.formula.body;
    let arguments = body.loss_arguments();
    let root = graph.import(body, &var_dims, &|name| arguments.get(name).cloned())?;
    Ok((typed, graph, root))
}

/// An error met while forming the derivative of an input checked to be
/// defined: an undefined step there is matcalc's limit, not the input's.
fn in_derivative(e: DeriveError) -> DeriveError {
    match e {
        DeriveError::Undefined(why) => DeriveError::UndefinedStep(why),
        other => other,
    }
}

/// Per node of the input (by index), true when its canonical form depends
/// on none of the variables `names`: a part such as `x - x` or
/// `norm2(x*(y' - y'))` is constant, so no derivative flows through it.
/// Putting every node in canonical form also finds an input that is
/// undefined everywhere (`log(x - x)`, `inv(0*X)`): that is an error.
/// An input of more than [`MAX_NORMALIZED_NODES`] nodes is not examined,
/// and past the simplifier's budget nothing more is known.
fn constant_nodes(graph: &Graph, root: Id, names: &[String]) -> Result<Vec<bool>, DeriveError> {
    let order = graph.topological(&[root]);
    if order.len() > MAX_NORMALIZED_NODES {
        return Ok(Vec::new());
    }
    // Canonical forms are built in a copy, so that the nodes made for them
    // do not change the ids (and so the written order) of the derivation.
    let mut scratch = graph.clone();
    let mut forms = Vec::with_capacity(order.len());
    let mut normalizer = Normalizer::new(&mut scratch);
    for &id in &order {
        match normalizer.normalize(id) {
            Ok(form) => forms.push((id, form)),
            Err(GraphError::Undefined(why)) => return Err(DeriveError::Undefined(why)),
            Err(_) => break,
        }
    }
    let roots: Vec<Id> = forms.iter().map(|&(_, form)| form).collect();
    let depends = scratch.depends_on(
        &roots,
        &|n| matches!(n, crate::index::Node::Var(v) if names.contains(v)),
    );
    let mut constant = vec![false; graph.len()];
    for (id, form) in forms {
        constant[id.index()] = !depends[form.index()];
    }
    Ok(constant)
}

fn requested_pairs(config: &DeriveConfig, typed: &Typed) -> Result<Vec<Vec<String>>, DeriveError> {
    if config.wrt.is_empty() {
        return Err(DeriveError::Request {
            message: "say which variable to differentiate by, e.g. --wrt X".into(),
            span: Span::NONE,
        });
    }
    for name in &config.wrt {
        if !typed.vars.contains_key(name) {
            let known: Vec<&str> = typed.vars.keys().map(String::as_str).collect();
            return Err(DeriveError::Request {
                message: format!(
                    "`{name}` does not occur in the expression (its variables are: {})",
                    known.join(", ")
                ),
                span: Span::NONE,
            });
        }
    }
    match config.order {
        1 => Ok(config.wrt.iter().map(|w| vec![w.clone()]).collect()),
        2 => match config.wrt.as_slice() {
            [x] => Ok(vec![vec![x.clone(), x.clone()]]),
            [x, y] => Ok(vec![vec![x.clone(), y.clone()]]),
            _ => Err(DeriveError::Request {
                message: "--order 2 takes one variable (the Hessian) or two (the mixed derivative)"
                    .into(),
                span: Span::NONE,
            }),
        },
        n => Err(DeriveError::Request {
            message: format!("--order must be 1 or 2, not {n}"),
            span: Span::NONE,
        }),
    }
}

/// A derivative before simplification: a matrix node, or an index form with
/// its free indices.
enum Raw {
    Matrix(Id),
    Index(Tensor, Vec<Ix>),
}

fn var_node(
    graph: &mut Graph,
    name: &str,
    var_dims: &dyn Fn(&str) -> Option<Dims>,
) -> Result<(Id, Dims), DeriveError> {
    let dims = var_dims(name).ok_or_else(|| DeriveError::Request {
        message: format!("the shape of `{name}` is unknown"),
        span: Span::NONE,
    })?;
    Ok((graph.var(name, dims.clone()), dims))
}

/// The derivative of `root` by `wrt` and the record of how it was taken
/// (all but its range of steps). A variable in `symmetric` moves only
/// symmetrically: its gradient is `sym(G) = (G + Gᵀ)/2`, the symmetric
/// matrix with `df = tr(sym(G)ᵀ·dS)` for every symmetric `dS`, and its
/// tangent is symmetric.
fn differentiate(
    diff: &mut Differentiator<'_>,
    root: Id,
    wrt: &[String],
    var_dims: &dyn Fn(&str) -> Option<Dims>,
    symmetric: &BTreeSet<String>,
) -> Result<(Raw, Recorded), DeriveError> {
    let (x, x_dims) = var_node(diff.graph, &wrt[0], var_dims)?;
    let scalar_root = is_scalar(diff.graph.dims(root));
    if wrt.len() == 2 && !scalar_root {
        return Err(DeriveError::Request {
            message: "second derivatives are taken of scalar expressions only".into(),
            span: Span::NONE,
        });
    }
    if scalar_root {
        let mut unconstrained = None;
        let gradient = match diff.gradients(root, &[x])?[0] {
            Some(g) if symmetric.contains(&wrt[0]) => {
                unconstrained = Some(g);
                symmetrized(diff.graph, g)?
            }
            Some(g) => g,
            None => diff.graph.zero(x_dims),
        };
        if wrt.len() == 1 {
            let recorded = Recorded {
                unconstrained,
                ..Recorded::default()
            };
            return Ok((Raw::Matrix(gradient), recorded));
        }
        let (y, y_dims) = var_node(diff.graph, &wrt[1], var_dims)?;
        let y_symmetric = symmetric.contains(&wrt[1]);
        let (raw, read_off) = jacobian(diff, gradient, (y, y_dims, y_symmetric), &wrt[1])?;
        return Ok((
            raw,
            Recorded {
                again: Some(gradient),
                read_off: Some(read_off),
                unconstrained,
                ..Recorded::default()
            },
        ));
    }
    let x_symmetric = symmetric.contains(&wrt[0]);
    let (raw, read_off) = jacobian(diff, root, (x, x_dims, x_symmetric), &wrt[0])?;
    Ok((
        raw,
        Recorded {
            read_off: Some(read_off),
            ..Recorded::default()
        },
    ))
}

/// A node as `c · rest` with `c` the product of its numeric scalings
/// (`-(0.7*X)` is `(-0.7, X)`), so that an entry's number joins its term's
/// coefficient: `(0.7·X)ₗᵢ` is `0.7·Xₗᵢ`.
fn numeric_scale(graph: &mut Graph, id: Id) -> (Rational, Id) {
    match *graph.node(id) {
        Node::Neg(a) => {
            let (c, rest) = numeric_scale(graph, a);
            (-c, rest)
        }
        Node::Binary(BinOp::Mul | BinOp::HadMul, c, a) if !graph.is_scalar(a) => {
            match graph.num_value(c) {
                Some(v) => {
                    let (inner, rest) = numeric_scale(graph, a);
                    (v * inner, rest)
                }
                None => (Rational::one(), id),
            }
        }
        Node::Fill(_, ref v) if !v.is(1) => {
            let value = v.value().clone();
            let dims = graph.dims(id).clone();
            (value, graph.ones(dims))
        }
        _ => (Rational::one(), id),
    }
}

/// `(g + gᵀ)/2`.
fn symmetrized(graph: &mut Graph, g: Id) -> Result<Id, DeriveError> {
    let t = graph.transpose(g);
    let sum = graph.binary(BinOp::Add, g, t)?;
    let half = graph.num(Rational::new(1.into(), 2.into()));
    Ok(graph.binary(BinOp::Mul, half, sum)?)
}

/// `∂f[out]/∂x[at]` by forward mode, raised when it has at most two
/// indices, and how it was read off; `x` is the variable's node, its dims
/// and whether it moves only symmetrically (then along `(dX + dXᵀ)/2`).
fn jacobian(
    diff: &mut Differentiator<'_>,
    f: Id,
    (x, x_dims, symmetric): (Id, Dims, bool),
    name: &str,
) -> Result<(Raw, ReadOff), DeriveError> {
    let direction = diff.graph.tangent(name, x_dims.clone());
    let moved = if symmetric {
        symmetrized(diff.graph, direction)?
    } else {
        direction
    };
    let f_dims = diff.graph.dims(f).clone();
    let out = diff.space.fresh_for(&f_dims);
    let at = diff.space.fresh_for(&x_dims);
    let free: Vec<Ix> = out.iter().chain(&at).copied().collect();
    let tensor = match diff.tangent(f, x, moved)? {
        Some(t) => diff.jacobian_index_form(t, direction, &out, &at)?,
        None => Tensor::new(),
    };
    let raised = if free.len() <= 2 {
        raise(diff.graph, &diff.space, &tensor, &free)?
    } else {
        None
    };
    let read_off = ReadOff {
        f,
        var: name.to_string(),
        out,
        at,
        tensor: tensor.clone(),
        raised: raised.clone(),
    };
    Ok(match raised {
        Some(r) => (Raw::Matrix(r.id), read_off),
        None => (Raw::Index(tensor, free), read_off),
    })
}

fn layout(body_dims: &Dims, wrt: &[String], var_dims: &dyn Fn(&str) -> Option<Dims>) -> String {
    let shape = |d: &Dims| format!("{}×{}", d[0], d[1]);
    // The entries of a value: `[i,j]` for a matrix, `[i]` for a vector,
    // nothing for a scalar, with index names drawn from `names`.
    let entries = |d: &Dims, names: &mut dyn Iterator<Item = char>| -> String {
        let ixs: Vec<String> = d
            .iter()
            .filter(|x| !crate::index::is_one(x))
            .filter_map(|_| names.next().map(String::from))
            .collect();
        if ixs.is_empty() {
            String::new()
        } else {
            format!("[{}]", ixs.join(","))
        }
    };
    let x_dims = var_dims(&wrt[0]).unwrap_or_else(crate::index::scalar_dims);
    let x = shape(&x_dims);
    if wrt.len() == 2 {
        let y_dims = var_dims(&wrt[1]).unwrap_or_else(crate::index::scalar_dims);
        let mut names = "ijkl".chars();
        let (ex, ey) = (entries(&x_dims, &mut names), entries(&y_dims, &mut names));
        let all: String = format!("{ex}{ey}").replace("][", ",");
        return format!(
            "second derivative: H{all} = ∂²f/∂{}{ex}∂{}{ey} (entries of {} first)",
            wrt[0], wrt[1], wrt[0]
        );
    }
    if is_scalar(body_dims) {
        let ex = entries(&x_dims, &mut "ij".chars());
        format!(
            "gradient of a scalar: the shape of {} ({x}), G{ex} = ∂f/∂{}{ex}",
            wrt[0], wrt[0]
        )
    } else {
        let mut names = "ijkl".chars();
        let (ef, ex) = (entries(body_dims, &mut names), entries(&x_dims, &mut names));
        let all: String = format!("{ef}{ex}").replace("][", ",");
        format!(
            "Jacobian: J{all} = ∂f{ef}/∂{}{ex}, the entries of f ({}) first, then those of {} ({x})",
            wrt[0],
            shape(body_dims),
            wrt[0]
        )
    }
}

/// The layout's sentence on the variables of `wrt` declared symmetric
/// (empty when there are none); `gradient` when `f` is a scalar and
/// differentiated once.
fn symmetric_convention(wrt: &[String], symmetric: &BTreeSet<String>, gradient: bool) -> String {
    let mut names: Vec<&str> = wrt
        .iter()
        .filter(|w| symmetric.contains(*w))
        .map(String::as_str)
        .collect();
    names.dedup();
    match names.as_slice() {
        [] => String::new(),
        [s] if gradient => format!(
            "; {s} is symmetric, so it moves along symmetric d{s} only: \
             G = sym(∂f/∂{s}) = (∂f/∂{s} + (∂f/∂{s})ᵀ)/2, the symmetric G with \
             df = tr(Gᵀ·d{s}) for every symmetric d{s}"
        ),
        [s] => format!(
            "; {s} is symmetric, so it moves along symmetric d{s} only: each entry by \
             {s}[p,q] is the average of those by {s}[p,q] and {s}[q,p] unconstrained"
        ),
        all => format!(
            "; {} are symmetric, so they move along symmetric directions only: each \
             entry by one of them at [p,q] is the average of those at [p,q] and [q,p] \
             unconstrained",
            all.join(" and ")
        ),
    }
}

/// A derivative before its graph is shared: a normalised node, or a
/// finished index form.
struct Finished {
    wrt: Vec<String>,
    layout: String,
    result: Result<Id, Formula>,
    used: Vec<Used>,
    recorded: Recorded,
}

/// How index forms are written: the export options, what a reader knows,
/// and the ranges of the indices.
struct Writer<'a> {
    options: &'a ExportOptions,
    reader: &'a Reader,
    space: &'a IndexSpace,
}

impl Writer<'_> {
    /// The points of the gradients written bare, which the simplifier
    /// keeps as written.
    fn kept_points(&self) -> Vec<Id> {
        self.options.bare_gradients.values().copied().collect()
    }
}

fn finish(
    graph: &mut Graph,
    writer: &Writer<'_>,
    body_dims: &Dims,
    wrt: &[String],
    (raw, mut recorded): (Raw, Recorded),
    var_dims: &dyn Fn(&str) -> Option<Dims>,
    assumptions: &Assumptions,
) -> Result<Finished, DeriveError> {
    let layout = layout(body_dims, wrt, var_dims);
    let kept = writer.kept_points();
    let mut used = Vec::new();
    let result = match raw {
        // Kept as a DAG node: its written size is checked where it is
        // written ([`Derivation::writable`]).
        Raw::Matrix(id) => {
            recorded.raw = Some(id);
            let (id, steps) = canonical(graph, id, &kept, assumptions, &mut used)?;
            recorded.simplified = steps;
            Ok(id)
        }
        Raw::Index(tensor, free) => {
            writable(tensor.iter().fold(0usize, |n, term| {
                term.factors.iter().fold(n, |n, f| match f {
                    Factor::Entry(id, ixs) => n
                        .saturating_add(graph.tree_size(*id))
                        .saturating_add(ixs.len() + 1),
                    Factor::Delta(..) => n.saturating_add(3),
                })
            }))?;
            let mut normalized = Tensor::new();
            for mut term in tensor {
                // The scalar factors of a term are one product, so that
                // `det(S)·(1/det(S))` cancels and a number joins the
                // coefficient.
                let (scalars, mut factors): (Vec<Factor>, Vec<Factor>) =
                    term.factors.into_iter().partition(
                        |f| matches!(f, Factor::Entry(id, ixs) if ixs.is_empty() && graph.is_scalar(*id)),
                    );
                for f in &mut factors {
                    if let Factor::Entry(id, ixs) = f {
                        let simplified = canonical(graph, *id, &kept, assumptions, &mut used)?.0;
                        let (scale, rest) = numeric_scale(graph, simplified);
                        term.coeff *= scale;
                        (*id, *ixs) = untransposed(graph, rest, ixs);
                    }
                }
                // An entry of a fill of ones is 1.
                factors.retain(|f| !matches!(f, Factor::Entry(id, _) if matches!(graph.node(*id), Node::Fill(_, v) if v.is(1))));
                let mut product = None;
                for f in scalars {
                    if let Factor::Entry(id, _) = f {
                        product = Some(match product {
                            None => id,
                            Some(p) => graph.binary(BinOp::Mul, p, id)?,
                        });
                    }
                }
                if let Some(p) = product {
                    let p = canonical(graph, p, &kept, assumptions, &mut used)?.0;
                    match graph.num_value(p) {
                        Some(v) => term.coeff *= v,
                        None => factors.insert(0, Factor::Entry(p, Vec::new())),
                    }
                }
                term.factors = factors;
                if !term.coeff.is_zero() {
                    normalized.push(term);
                }
            }
            let normalized = collect(normalized);
            let name = if wrt.len() == 2 { "H" } else { "J" };
            Err(readback::index_formula(
                graph,
                writer.options,
                writer.reader,
                writer.space,
                &normalized,
                &free,
                name,
            ))
        }
    };
    used.sort();
    used.dedup();
    Ok(Finished {
        wrt: wrt.to_vec(),
        layout,
        result,
        used,
        recorded,
    })
}

/// Results with more distinct nodes than this are not put in canonical form
/// (which would multiply them out); they keep the sharing of the DAG.
const MAX_NORMALIZED_NODES: usize = 400;

/// The canonical form of a node of at most [`MAX_NORMALIZED_NODES`]
/// distinct nodes whose normalisation stays within the simplifier's step
/// budget; any other as it is. Canonical forms flatten products,
/// which un-shares subterms; a large result keeps the shared DAG of the
/// reverse pass instead. The assumptions used are added to `used`; the
/// simplifier's steps are returned with the result. The points of bare
/// gradients (`kept_points`) stay as written.
fn canonical(
    graph: &mut Graph,
    id: Id,
    kept_points: &[Id],
    assumptions: &Assumptions,
    used: &mut Vec<Used>,
) -> Result<(Id, Vec<RuleStep>), DeriveError> {
    if graph.topological(&[id]).len() > MAX_NORMALIZED_NODES {
        return Ok((id, Vec::new()));
    }
    match crate::simplify::simplify(graph, id, &Limits::default(), assumptions, kept_points) {
        // Past the simplifier's step budget the result stays as derived:
        // correct, only not in canonical form.
        Err(GraphError::Limit(_)) => Ok((id, Vec::new())),
        other => {
            let done = other?;
            used.extend(done.used());
            Ok((done.id, done.steps))
        }
    }
}

/// The node as a matrix formula that reads back (see [`readback`]).
fn written(graph: &Graph, id: Id, options: &ExportOptions, reader: &Reader) -> Formula {
    Formula {
        lhs: None,
        body: readback::written(graph, id, options, reader),
    }
}

/// Simplifies any matrix expression: the CAS task behind `matcalc simplify`.
///
/// ```
/// use matcalc::derive::simplify;
/// let f = simplify("(A*B)' + B'*A'", &Default::default(), &Default::default()).unwrap();
/// assert_eq!(matcalc::syntax::to_expr_string(&f.1), "2*B'*A'");
/// ```
///
/// The simplifier may use `assumptions`; the ones it used are returned
/// with the result.
pub fn simplify(
    text: &str,
    decls: &Decls,
    assumptions: &Assumptions,
) -> Result<(Typed, Formula, Vec<Used>), DeriveError> {
    let (typed, mut graph, root) = prepare(text, decls, "simplified")?;
    let options = ExportOptions {
        bare_gradients: bare_gradients(&graph, root, &typed.formula.body),
        ..Default::default()
    };
    let kept_points: Vec<Id> = options.bare_gradients.values().copied().collect();
    let done = crate::simplify::simplify(
        &mut graph,
        root,
        &Limits::default(),
        assumptions,
        &kept_points,
    )?;
    let (simplified, used) = (done.id, done.used());
    writable(graph.tree_size(simplified))?;
    let reader = Reader::new(&typed.vars, &typed.gradients);
    let result = written(&graph, simplified, &options, &reader);
    Ok((typed, result, used))
}
