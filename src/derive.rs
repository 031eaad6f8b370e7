//! The `derive` layer: the whole pipeline as one call.
//!
//! parse → shapes → DAG → differentiate (reverse mode for gradients, forward
//! mode for Jacobians and Hessians, every step in index form) → simplify →
//! raise to matrix form where one exists, else an honest index form.
//! Invariant: never prints; every error carries what the user needs to fix.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use crate::diff::{DiffError, Differentiator, Step};
use crate::index::{
    bare_gradients, collect, is_scalar, raise, Dims, ExportOptions, Factor, Graph, GraphError, Id,
    IndexSpace, Ix, Tensor,
};
use crate::shape::{self, Shape, ShapeContext, ShapeError, Typed};
use crate::simplify::Normalizer;
use crate::syntax::{
    parse_formula, Decls, Diagnostic, Expr, ExprKind, Formula, IndexLhs, ParseError, Span,
};

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
    written: Written,
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
        vars: Arc<BTreeMap<String, Shape>>,
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
                vars,
                cache,
            } => cache.get_or_init(|| written(graph, *id, options, vars)),
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
    Unsupported(String),
    /// The derivation would go over one of matcalc's limits; the message
    /// names it.
    #[error("{0}")]
    Limit(String),
}

/// Results are written out as trees of at most this many nodes. The DAG of
/// a derivative stays linear in the input, but writing it out repeats
/// shared subterms: the gradient of `tr(X*X*…*X)` with k factors has k²
/// nodes, so a few kilobytes of input could otherwise ask for gigabytes.
pub const MAX_WRITTEN_NODES: usize = 500_000;

/// Refuses a result of `nodes` nodes when it is too large to write out.
fn writable(nodes: usize) -> Result<(), DeriveError> {
    if nodes > MAX_WRITTEN_NODES {
        let nodes = match nodes {
            usize::MAX => format!("more than {}", usize::MAX),
            n => n.to_string(),
        };
        return Err(DeriveError::Limit(format!(
            "the result would have {nodes} nodes written out, more than the limit of \
             {MAX_WRITTEN_NODES} nodes on a written result"
        )));
    }
    Ok(())
}

impl From<DiffError> for DeriveError {
    fn from(e: DiffError) -> DeriveError {
        match e {
            DiffError::Graph(g) => g.into(),
            other => DeriveError::Unsupported(other.to_string()),
        }
    }
}

impl From<GraphError> for DeriveError {
    fn from(e: GraphError) -> DeriveError {
        match e {
            GraphError::Limit(m) => DeriveError::Limit(m),
            other => DeriveError::Unsupported(other.to_string()),
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
            DeriveError::Unsupported(m) => Diagnostic::new(format!("unsupported: {m}")),
            DeriveError::Limit(m) => Diagnostic::new(m.clone()).with_help(
                "the result grows too fast; differentiate a smaller part of the expression",
            ),
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
    let mut diff = Differentiator::new(&mut graph);
    let mut raw = Vec::new();
    for pair in &wrt {
        raw.push(differentiate(&mut diff, root, pair, &var_dims)?);
    }
    let steps = std::mem::take(&mut diff.steps);
    let space = std::mem::take(&mut diff.space);
    let options = ExportOptions {
        bare_gradients: bare_gradients(&graph, root, &typed.formula.body),
        ..Default::default()
    };
    let mut finished = Vec::new();
    for (pair, result) in wrt.iter().zip(raw) {
        finished.push(finish(
            &mut graph, &options, &root_dims, pair, result, &var_dims,
        )?);
    }
    let graph = Arc::new(graph);
    let options = Arc::new(options);
    let vars = Arc::new(typed.vars.clone());
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
            written: match f.result {
                Ok(id) => Written::Node {
                    graph: Arc::clone(&graph),
                    id,
                    options: Arc::clone(&options),
                    vars: Arc::clone(&vars),
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

fn differentiate(
    diff: &mut Differentiator<'_>,
    root: Id,
    wrt: &[String],
    var_dims: &dyn Fn(&str) -> Option<Dims>,
) -> Result<Raw, DeriveError> {
    let (x, x_dims) = var_node(diff.graph, &wrt[0], var_dims)?;
    let scalar_root = is_scalar(diff.graph.dims(root));
    if wrt.len() == 2 && !scalar_root {
        return Err(DeriveError::Request {
            message: "second derivatives are taken of scalar expressions only".into(),
            span: Span::NONE,
        });
    }
    if scalar_root {
        let gradient = match diff.gradients(root, &[x])?[0] {
            Some(g) => g,
            None => diff.graph.zero(x_dims),
        };
        if wrt.len() == 1 {
            return Ok(Raw::Matrix(gradient));
        }
        let (y, y_dims) = var_node(diff.graph, &wrt[1], var_dims)?;
        return jacobian(diff, gradient, y, &wrt[1], y_dims);
    }
    jacobian(diff, root, x, &wrt[0], x_dims)
}

/// `∂f[out]/∂x[at]` by forward mode, raised when it has at most two indices.
fn jacobian(
    diff: &mut Differentiator<'_>,
    f: Id,
    x: Id,
    name: &str,
    x_dims: Dims,
) -> Result<Raw, DeriveError> {
    let direction = diff.graph.tangent(name, x_dims.clone());
    let f_dims = diff.graph.dims(f).clone();
    let out = diff.space.fresh_for(&f_dims);
    let at = diff.space.fresh_for(&x_dims);
    let free: Vec<Ix> = out.iter().chain(&at).copied().collect();
    let tensor = match diff.tangent(f, x, direction)? {
        Some(t) => diff.jacobian_index_form(t, direction, &out, &at)?,
        None => Tensor::new(),
    };
    if free.len() <= 2 {
        if let Some(id) = raise(diff.graph, &diff.space, &tensor, &free)? {
            return Ok(Raw::Matrix(id));
        }
    }
    Ok(Raw::Index(tensor, free))
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

/// A derivative before its graph is shared: a normalised node, or a
/// finished index form.
struct Finished {
    wrt: Vec<String>,
    layout: String,
    result: Result<Id, Formula>,
}

fn finish(
    graph: &mut Graph,
    options: &ExportOptions,
    body_dims: &Dims,
    wrt: &[String],
    raw: Raw,
    var_dims: &dyn Fn(&str) -> Option<Dims>,
) -> Result<Finished, DeriveError> {
    let layout = layout(body_dims, wrt, var_dims);
    let result = match raw {
        // Kept as a DAG node: its written size is checked where it is
        // written ([`Derivation::writable`]).
        Raw::Matrix(id) => Ok(canonical(graph, id)?),
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
                for f in &mut term.factors {
                    if let Factor::Entry(id, _) = f {
                        *id = canonical(graph, *id)?;
                    }
                }
                normalized.push(term);
            }
            let normalized = collect(normalized);
            let name = if wrt.len() == 2 { "H" } else { "J" };
            Err(index_formula(graph, options, &normalized, &free, name))
        }
    };
    Ok(Finished {
        wrt: wrt.to_vec(),
        layout,
        result,
    })
}

/// Results with more distinct nodes than this are not put in canonical form
/// (which would multiply them out); they keep the sharing of the DAG.
const MAX_NORMALIZED_NODES: usize = 400;

/// The canonical form of a node of at most [`MAX_NORMALIZED_NODES`]
/// distinct nodes whose normalisation stays within the simplifier's step
/// budget; any other as it is. Canonical forms flatten products,
/// which un-shares subterms; a large result keeps the shared DAG of the
/// reverse pass instead.
fn canonical(graph: &mut Graph, id: Id) -> Result<Id, DeriveError> {
    if graph.topological(&[id]).len() > MAX_NORMALIZED_NODES {
        return Ok(id);
    }
    match Normalizer::new(graph).normalize(id) {
        // Past the simplifier's step budget the result stays as derived:
        // correct, only not in canonical form.
        Err(GraphError::Limit(_)) => Ok(id),
        other => Ok(other?),
    }
}

/// The node as a formula whose `vector(1)`s can be sized when read back;
/// where they cannot, they are written `ones(n)` with their size.
fn written(
    graph: &Graph,
    id: Id,
    options: &ExportOptions,
    vars: &BTreeMap<String, Shape>,
) -> Formula {
    let mut formula = Formula {
        lhs: None,
        body: graph.export(id, options),
    };
    if has_fill(graph, id) && !fills_inferable(&formula, vars) {
        let explicit = ExportOptions {
            explicit_fills: true,
            ..options.clone()
        };
        formula.body = graph.export(id, &explicit);
    }
    formula
}

fn has_fill(graph: &Graph, id: Id) -> bool {
    graph
        .topological(&[id])
        .iter()
        .any(|&n| matches!(graph.node(n), crate::index::Node::Fill(..)))
}

/// True when every `vector(c)` of the printed result can be sized from its
/// context when read back (as a grader reads it).
fn fills_inferable(formula: &Formula, vars: &BTreeMap<String, Shape>) -> bool {
    let mut decls = Decls::new();
    for (name, s) in vars {
        let dims = match (&s.rows, &s.cols) {
            (r, c) if s.is_scalar() => {
                let _ = (r, c);
                Vec::new()
            }
            (r, c) if *c == crate::syntax::DimSpec::Fixed(1) => vec![r.clone()],
            (r, c) => vec![r.clone(), c.clone()],
        };
        decls.insert(crate::syntax::Decl {
            name: name.clone(),
            kind: crate::syntax::DeclKind::Value(dims),
        });
    }
    let text = crate::syntax::to_expr_string(formula);
    let Ok(reparsed) = parse_formula(&text, &decls) else {
        return false;
    };
    let ctx = ShapeContext {
        decls: &decls,
        source: &text,
        gradient_shapes: BTreeMap::new(),
        expected: None,
    };
    shape::check(&reparsed, &ctx).is_ok()
}

const FREE_NAMES: [&str; 6] = ["i", "j", "k", "l", "m", "n"];
const DUMMY_NAMES: [&str; 8] = ["p", "q", "r", "s", "t", "u", "v", "w"];

/// An index form `NAME[i,j,…] = Σ terms` in the input syntax, with Einstein
/// summation where a dummy occurs exactly twice and explicit `sum[…]` else.
fn index_formula(
    graph: &Graph,
    options: &ExportOptions,
    tensor: &Tensor,
    free: &[Ix],
    name: &str,
) -> Formula {
    let mut names: BTreeMap<Ix, String> = BTreeMap::new();
    for (k, ix) in free.iter().enumerate() {
        names.insert(
            *ix,
            FREE_NAMES.get(k).map_or(format!("i{k}"), |s| s.to_string()),
        );
    }
    let mut body: Option<Expr> = None;
    for term in tensor {
        let mut local = names.clone();
        for (k, s) in term.sums.iter().enumerate() {
            local.insert(
                *s,
                DUMMY_NAMES
                    .get(k)
                    .map_or(format!("p{k}"), |n| n.to_string()),
            );
        }
        let name_of = |ix: &Ix| local[ix].clone();
        let mut factors = Vec::new();
        for f in &term.factors {
            factors.push(match f {
                Factor::Entry(id, ixs) if ixs.is_empty() => graph.export(*id, options),
                Factor::Entry(id, ixs) => {
                    let (base, ixs) = match (graph.node(*id), ixs.as_slice()) {
                        (crate::index::Node::T(inner), [a, b]) => (*inner, vec![*b, *a]),
                        _ => (*id, ixs.clone()),
                    };
                    Expr::new(ExprKind::Index(
                        Box::new(graph.export(base, options)),
                        ixs.iter().map(name_of).collect(),
                    ))
                }
                Factor::Delta(a, b) => Expr::new(ExprKind::Delta(name_of(a), name_of(b))),
            });
        }
        let mut e = Expr::scaled_product(term.coeff.abs(), factors);
        let explicit: Vec<String> = term
            .sums
            .iter()
            .filter(|&&s| term.occurrences(s) != 2)
            .map(name_of)
            .collect();
        let negative_first = body.is_none() && term.coeff < 0.0;
        let sums: Vec<String> = if negative_first {
            term.sums.iter().map(name_of).collect()
        } else {
            explicit
        };
        if !sums.is_empty() {
            e = Expr::new(ExprKind::IndexSum(sums, Box::new(e)));
        }
        body = Some(Expr::accumulate(body, e, term.coeff < 0.0));
    }
    Formula {
        lhs: Some(IndexLhs {
            name: name.to_string(),
            indices: free.iter().map(|ix| names[ix].clone()).collect(),
            span: Span::NONE,
        }),
        body: body.unwrap_or_else(|| Expr::num(0.0)),
    }
}

/// Simplifies any matrix expression: the CAS task behind `matcalc simplify`.
///
/// ```
/// use matcalc::derive::simplify;
/// let f = simplify("(A*B)' + B'*A'", &Default::default()).unwrap();
/// assert_eq!(matcalc::syntax::to_expr_string(&f.1), "2*B'*A'");
/// ```
pub fn simplify(text: &str, decls: &Decls) -> Result<(Typed, Formula), DeriveError> {
    let (typed, mut graph, root) = prepare(text, decls, "simplified")?;
    let simplified = Normalizer::new(&mut graph).normalize(root)?;
    writable(graph.tree_size(simplified))?;
    let options = ExportOptions {
        bare_gradients: bare_gradients(&graph, root, &typed.formula.body),
        ..Default::default()
    };
    let result = written(&graph, simplified, &options, &typed.vars);
    Ok((typed, result))
}
