//! The `shape` layer: dimension symbols, unification and a shape for every
//! node.
//!
//! `X*W + B` with nothing declared gives X: n×k, W: k×m, B: n×m. Defaults
//! are a–g scalar, h–z column vector, A–Z matrix; declarations override.
//! Broadcasting is exactly the corpus's: a scalar against anything, a 1×m
//! row against an n×m matrix, nothing else. `vector(c)`/`matrix(c)` take
//! their size from context. Index forms get their Einstein sums made
//! explicit. Invariant: imports only `syntax`; never prints.

mod einstein;
mod error;
mod infer;
mod rules;
mod unify;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

pub use crate::syntax::DimSpec as Dim;
use crate::syntax::{BinOp, ConstKind, Decls, Expr, ExprKind, Formula};
pub use error::ShapeError;
use infer::{Inference, Namer, VarShape};
pub use rules::{binary_shape, call_shape};

/// Rows × columns of a matrix-valued expression. A scalar is 1×1, an
/// n-vector n×1, a row 1×n.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Shape {
    /// Rows.
    pub rows: Dim,
    /// Columns.
    pub cols: Dim,
}

impl Shape {
    /// 1×1.
    pub fn scalar() -> Shape {
        Shape::matrix(Dim::Fixed(1), Dim::Fixed(1))
    }
    /// An n-vector (n×1).
    pub fn column(n: Dim) -> Shape {
        Shape::matrix(n, Dim::Fixed(1))
    }
    /// r×c.
    pub fn matrix(rows: Dim, cols: Dim) -> Shape {
        Shape { rows, cols }
    }
    /// True for 1×1.
    pub fn is_scalar(&self) -> bool {
        self.rows == Dim::Fixed(1) && self.cols == Dim::Fixed(1)
    }
    /// The transpose's shape.
    pub fn transposed(&self) -> Shape {
        Shape::matrix(self.cols.clone(), self.rows.clone())
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let one = Dim::Fixed(1);
        match (&self.rows, &self.cols) {
            (r, c) if *r == one && *c == one => f.write_str("scalar"),
            (r, c) if *c == one => write!(f, "{r}-vector"),
            (r, c) if *r == one => write!(f, "1×{c} row"),
            (r, c) => write!(f, "{r}×{c}"),
        }
    }
}

/// The shape of a whole formula's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResultShape {
    /// A matrix expression.
    Matrix(Shape),
    /// An index form: one dimension per left-hand-side index.
    Tensor(Vec<Dim>),
}

/// What the checker may know besides the formula.
#[derive(Clone, Debug)]
pub struct ShapeContext<'a> {
    /// Declarations in force.
    pub decls: &'a Decls,
    /// The source text, to name operands in errors.
    pub source: &'a str,
    /// Shape of a bare gradient (`dL`, key `L`) when the formula has no call
    /// to take it from.
    pub gradient_shapes: BTreeMap<String, Shape>,
    /// The required shape of the whole result, when known.
    pub expected: Option<Shape>,
}

/// A shape-checked formula.
#[derive(Clone, Debug)]
pub struct Typed {
    /// The formula, elaborated: fills sized, Einstein sums explicit.
    pub formula: Formula,
    /// Every variable and its shape.
    pub vars: BTreeMap<String, Shape>,
    /// Names whose shape came from the defaults, in order of appearance.
    pub assumed: Vec<String>,
    /// The shape of each abstract function's bare gradient / argument.
    pub gradients: BTreeMap<String, Shape>,
    /// The dimension of every index of an index form.
    pub index_dims: BTreeMap<String, Dim>,
    /// The shape of the whole value.
    pub result: ResultShape,
    /// The variables declared `symmetric` (`--let 'S: n x n symmetric'`):
    /// a derivative by one follows the convention of symmetric variables.
    pub symmetric: BTreeSet<String>,
}

impl Typed {
    /// Rows and columns of a variable.
    pub fn var_dims(&self, name: &str) -> Option<[Dim; 2]> {
        self.vars
            .get(name)
            .map(|s| [s.rows.clone(), s.cols.clone()])
    }

    /// "assuming a: scalar, x: n-vector, X: n×k" for the names whose shape
    /// was assumed (empty when none).
    pub fn assumptions(&self) -> String {
        if self.assumed.is_empty() {
            return String::new();
        }
        let parts: Vec<String> = self
            .assumed
            .iter()
            .filter_map(|n| self.vars.get(n).map(|s| format!("{n}: {s}")))
            .collect();
        format!("assuming {}", parts.join(", "))
    }

    /// The shape of any subexpression of the elaborated formula (or of an
    /// engine-built expression over the same variables with sized fills),
    /// bottom-up.
    pub fn shape_of(&self, e: &Expr) -> Result<Shape, ShapeError> {
        let fail = |why: &str| ShapeError::new(why.to_string(), e.span);
        let one = Dim::Fixed(1);
        Ok(match &e.kind {
            ExprKind::Num(_)
            | ExprKind::Index(..)
            | ExprKind::Delta(..)
            | ExprKind::IndexSum(..)
            | ExprKind::Size(..)
            | ExprKind::Apply(..) => Shape::scalar(),
            ExprKind::Var(name) => self
                .vars
                .get(name)
                .cloned()
                .ok_or_else(|| fail("unknown variable"))?,
            ExprKind::Neg(a) => self.shape_of(a)?,
            ExprKind::Transpose(a) => self.shape_of(a)?.transposed(),
            ExprKind::Fill { size, .. } => match size {
                Some([r, c]) => Shape::matrix(r.clone(), c.clone()),
                None => return Err(fail("the size of this fill is not known")),
            },
            ExprKind::Const(kind, dims) => {
                let r = dims[0].clone();
                let c = match kind {
                    ConstKind::Eye => r.clone(),
                    _ => dims.get(1).cloned().unwrap_or(one),
                };
                Shape::matrix(r, c)
            }
            // The gradient has the shape of its point; the Hessian at an
            // n-vector is n×n.
            ExprKind::Grad(name, args) | ExprKind::Hess(name, args) => {
                let at = match args.first() {
                    Some(a) => self.shape_of(a)?,
                    None => self
                        .gradients
                        .get(name)
                        .cloned()
                        .ok_or_else(|| fail("unknown gradient"))?,
                };
                match e.kind {
                    ExprKind::Hess(..) => Shape::matrix(at.rows.clone(), at.rows),
                    _ => at,
                }
            }
            ExprKind::Call(func, a) => call_shape(*func, &self.shape_of(a)?),
            ExprKind::Binary(op, a, b) => {
                let (sa, sb) = (self.shape_of(a)?, self.shape_of(b)?);
                binary_shape(*op, &sa, &sb).ok_or_else(|| fail("the operand shapes do not fit"))?
            }
        })
    }
}

/// Checks the shapes of `formula` and elaborates it.
///
/// ```
/// use matcalc::shape::{check, ShapeContext};
/// use matcalc::syntax::{parse_formula, Decls};
/// let decls = Decls::new();
/// let f = parse_formula("X*W + B", &decls).unwrap();
/// let ctx = ShapeContext { decls: &decls, source: "X*W + B", gradient_shapes: Default::default(), expected: None };
/// let typed = check(&f, &ctx).unwrap();
/// assert_eq!(typed.assumptions(), "assuming X: n×k, W: k×m, B: n×m");
/// ```
pub fn check(formula: &Formula, ctx: &ShapeContext<'_>) -> Result<Typed, ShapeError> {
    let mut inf = Inference::new(ctx.decls, ctx.source);
    if let Some(lhs) = &formula.lhs {
        for ix in &lhs.indices {
            if lhs.indices.iter().filter(|i| *i == ix).count() > 1 {
                return Err(ShapeError::new(
                    format!("index `{ix}` appears twice on the left-hand side"),
                    lhs.span,
                ));
            }
        }
    } else if let Some(span) = first_index_notation(&formula.body) {
        return Err(ShapeError::new(
            "indexing, delta and sum[…] belong in an index-notation result such as G[i,j] = …",
            span,
        ));
    }
    let want = ctx
        .expected
        .as_ref()
        .map(|s| inf.shape_of_spec(&s.rows, &s.cols));
    let known: BTreeMap<String, (Dim, Dim)> = ctx
        .gradient_shapes
        .iter()
        .map(|(k, s)| (k.clone(), (s.rows.clone(), s.cols.clone())))
        .collect();
    inf.known_gradients = known.clone();
    let body_shape = inf.infer_as(&formula.body, want)?;
    if let Some(w) = want {
        let (r, c) = (w.rows, w.cols);
        if inf.dims.unify(body_shape.rows, r).is_err()
            || inf.dims.unify(body_shape.cols, c).is_err()
        {
            let got = inf.describe(body_shape);
            let expected = inf.describe(w);
            return Err(ShapeError::new(
                format!("the result is {got}, but {expected} is required"),
                formula.body.span,
            ));
        }
    }
    inf.tie_gradients(&known)?;
    if formula.lhs.is_some() && !inf.is_scalar(body_shape) {
        let shown = inf.describe(body_shape);
        return Err(ShapeError::new(
            format!("the right-hand side of an index form must be a scalar per entry, but it is {shown}"),
            formula.body.span,
        ));
    }
    for k in 0..inf.fills.len() {
        let (s, span) = inf.fills[k];
        if !inf.dims.is_tied(s.rows) || !inf.dims.is_tied(s.cols) {
            return Err(ShapeError::new(
                "cannot infer the size of this vector(…)/matrix(…) here",
                span,
            )
            .with_help("write ones(n) or ones(n,m) with an explicit size"));
        }
    }
    let taken: Vec<String> = ctx
        .decls
        .iter()
        .flat_map(|d| match &d.kind {
            crate::syntax::DeclKind::Value(dims) => dims.clone(),
            _ => Vec::new(),
        })
        .filter_map(|d| match d {
            Dim::Named(n) => Some(n),
            _ => None,
        })
        .collect();
    let mut namer = Namer::new(taken);
    let mut vars = BTreeMap::new();
    for (name, s) in inf.vars.clone() {
        let shape = Shape::matrix(
            inf.resolve(s.rows, &mut namer),
            inf.resolve(s.cols, &mut namer),
        );
        vars.insert(name, shape);
    }
    let mut gradients = BTreeMap::new();
    let grads: Vec<(String, VarShape)> = inf
        .gradients
        .iter()
        .map(|(k, v)| (k.clone(), *v))
        .chain(
            inf.calls
                .iter()
                .filter_map(|(k, v)| v.first().map(|s| (k.clone(), *s))),
        )
        .collect();
    for (name, s) in grads {
        gradients.entry(name).or_insert_with(|| {
            Shape::matrix(
                inf.resolve(s.rows, &mut namer),
                inf.resolve(s.cols, &mut namer),
            )
        });
    }
    let sizes: Vec<[Dim; 2]> = inf
        .fills
        .clone()
        .into_iter()
        .map(|(s, _)| {
            [
                inf.resolve(s.rows, &mut namer),
                inf.resolve(s.cols, &mut namer),
            ]
        })
        .collect();
    let mut body = formula.body.clone();
    write_fill_sizes(&mut body, &mut sizes.into_iter());
    let counts: Vec<Dim> = inf
        .sizes
        .clone()
        .into_iter()
        .map(|d| inf.resolve(d, &mut namer))
        .collect();
    body = write_sizes(body, &mut counts.into_iter());
    let matrix_powers: Vec<bool> = inf
        .powers
        .clone()
        .into_iter()
        .map(|p| p.is_some_and(|s| !inf.is_scalar(s)))
        .collect();
    body = write_powers(body, &mut matrix_powers.into_iter());
    let mut index_dims = BTreeMap::new();
    for (ix, v) in inf.indices.clone() {
        index_dims.insert(ix, inf.resolve(v, &mut namer));
    }
    let result = match &formula.lhs {
        Some(lhs) => {
            body = einstein::elaborate(&body, &lhs.indices)?;
            let mut dims = Vec::new();
            for ix in &lhs.indices {
                // An index of the left-hand side that the body does not use
                // (`J[i,j] = 0`, `H[i,j] = x[i]`): the value is constant
                // along it, over a range only the result's layout fixes.
                let dim = match index_dims.get(ix) {
                    Some(d) => d.clone(),
                    None => {
                        let unused = inf.dims.fresh(true);
                        inf.resolve(unused, &mut namer)
                    }
                };
                index_dims.insert(ix.clone(), dim.clone());
                dims.push(dim);
            }
            ResultShape::Tensor(dims)
        }
        None => ResultShape::Matrix(Shape::matrix(
            inf.resolve(body_shape.rows, &mut namer),
            inf.resolve(body_shape.cols, &mut namer),
        )),
    };
    let symmetric = vars
        .keys()
        .filter(|name| ctx.decls.is_symmetric(name))
        .cloned()
        .collect();
    Ok(Typed {
        formula: Formula {
            lhs: formula.lhs.clone(),
            body,
        },
        vars,
        assumed: inf.assumed.clone(),
        gradients,
        index_dims,
        result,
        symmetric,
    })
}

fn first_index_notation(e: &Expr) -> Option<crate::syntax::Span> {
    let mut stack = vec![e];
    while let Some(x) = stack.pop() {
        if matches!(
            x.kind,
            ExprKind::Index(..) | ExprKind::Delta(..) | ExprKind::IndexSum(..)
        ) {
            return Some(x.span);
        }
        stack.extend(x.children());
    }
    None
}

/// Writes the inferred sizes into the fills, in the preorder the inference
/// visited them.
fn write_fill_sizes(e: &mut Expr, sizes: &mut impl Iterator<Item = [Dim; 2]>) {
    if let ExprKind::Fill { size, .. } = &mut e.kind {
        *size = sizes.next();
    }
    match &mut e.kind {
        ExprKind::Neg(a)
        | ExprKind::Transpose(a)
        | ExprKind::Call(_, a)
        | ExprKind::Index(a, _)
        | ExprKind::Size(a, _)
        | ExprKind::IndexSum(_, a) => write_fill_sizes(a, sizes),
        ExprKind::Fill { value, .. } => write_fill_sizes(value, sizes),
        ExprKind::Binary(_, a, b) => {
            write_fill_sizes(a, sizes);
            write_fill_sizes(b, sizes);
        }
        ExprKind::Apply(_, args) | ExprKind::Grad(_, args) | ExprKind::Hess(_, args) => {
            for a in args {
                write_fill_sizes(a, sizes);
            }
        }
        _ => {}
    }
}

/// Replaces each `size(E, k)` by the size it asks for (a number, or
/// `sum(ones(n))` for a dimension symbol), in the postorder the inference
/// recorded them.
fn write_sizes(e: Expr, sizes: &mut impl Iterator<Item = Dim>) -> Expr {
    let e = e.map_children(&mut |c| write_sizes(c, sizes));
    if !matches!(e.kind, ExprKind::Size(..)) {
        return e;
    }
    match sizes.next() {
        Some(d) => crate::syntax::dimension_value(d, e.span),
        None => e,
    }
}

/// Writes each matrix power `X^k` out as its product of factors, in the
/// postorder the inference recorded the powers (scalar powers stay).
fn write_powers(e: Expr, matrix: &mut impl Iterator<Item = bool>) -> Expr {
    let e = e.map_children(&mut |c| write_powers(c, matrix));
    let ExprKind::Binary(BinOp::Pow, base, exponent) = &e.kind else {
        return e;
    };
    match (matrix.next(), crate::syntax::integer_exponent(exponent)) {
        (Some(true), Some(k)) => crate::syntax::matrix_power(base, k, e.span),
        _ => e,
    }
}
