//! Shape inference over the AST: every node gets rows × columns in
//! dimension variables, unified as the operators demand, with the corpus's
//! broadcasting rules and the size inference of `vector(c)`/`matrix(c)`.

use std::collections::{BTreeMap, BTreeSet};

use super::error::ShapeError;
use super::unify::{DimVar, Dims};
use crate::syntax::{
    expr_to_string, integer_exponent, Axis, BinOp, ConstKind, DeclKind, Decls, DimSpec, Expr,
    ExprKind, FillKind, Func, Span, MAX_MATRIX_POWER,
};

/// Rows × columns as dimension variables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VarShape {
    /// Rows.
    pub rows: DimVar,
    /// Columns.
    pub cols: DimVar,
}

impl VarShape {
    fn transposed(self) -> VarShape {
        VarShape {
            rows: self.cols,
            cols: self.rows,
        }
    }
}

/// A node's shape, and whether it is a fill whose size is still open
/// (`vector(1)`, `4*vector(1)`, `vector(1)'`).
#[derive(Clone, Copy, Debug)]
struct Inferred {
    shape: VarShape,
    deferred: Option<Deferred>,
}

#[derive(Clone, Copy, Debug)]
struct Deferred {
    fill: usize,
    transposed: bool,
}

/// The state of one inference.
pub struct Inference<'a> {
    /// Dimension variables.
    pub dims: Dims,
    decls: &'a Decls,
    source: &'a str,
    one: DimVar,
    symbols: BTreeMap<String, DimVar>,
    /// Each variable's shape, in order of first appearance.
    pub vars: Vec<(String, VarShape)>,
    /// Names whose shape came from the defaults.
    pub assumed: Vec<String>,
    /// Each fill's shape, in preorder.
    pub fills: Vec<(VarShape, Span)>,
    /// The dimension each `size(E, k)` asks for, in postorder.
    pub sizes: Vec<DimVar>,
    /// For each `^`, in postorder, the base's shape when it may be a
    /// matrix (a matrix power).
    pub powers: Vec<Option<VarShape>>,
    /// Argument shapes of each abstract function's calls.
    pub calls: BTreeMap<String, Vec<VarShape>>,
    /// Shapes of bare gradients by function name.
    pub gradients: BTreeMap<String, VarShape>,
    /// Dimension of each index of an index form.
    pub indices: BTreeMap<String, DimVar>,
    /// The known shape of each abstract function's bare gradient (the
    /// shape of its argument in the expression it was derived from).
    pub known_gradients: BTreeMap<String, (DimSpec, DimSpec)>,
    /// Provisional names of unknown sizes in error messages.
    message_names: Option<Namer>,
}

impl<'a> Inference<'a> {
    /// A new inference under `decls`; `source` names operands in errors.
    pub fn new(decls: &'a Decls, source: &'a str) -> Inference<'a> {
        let mut dims = Dims::default();
        let one = dims.bound(DimSpec::Fixed(1));
        Inference {
            dims,
            decls,
            source,
            one,
            symbols: BTreeMap::new(),
            vars: Vec::new(),
            assumed: Vec::new(),
            fills: Vec::new(),
            sizes: Vec::new(),
            powers: Vec::new(),
            calls: BTreeMap::new(),
            gradients: BTreeMap::new(),
            indices: BTreeMap::new(),
            known_gradients: BTreeMap::new(),
            message_names: None,
        }
    }

    /// A variable for a written dimension (`3` or `n`).
    pub fn dim_of(&mut self, spec: &DimSpec) -> DimVar {
        match spec {
            DimSpec::Fixed(1) => self.one,
            DimSpec::Fixed(_) => self.dims.bound(spec.clone()),
            DimSpec::Named(name) => {
                if let Some(&v) = self.symbols.get(name) {
                    return v;
                }
                let v = self.dims.bound(spec.clone());
                self.symbols.insert(name.clone(), v);
                v
            }
        }
    }

    /// A shape from written dimensions.
    pub fn shape_of_spec(&mut self, rows: &DimSpec, cols: &DimSpec) -> VarShape {
        VarShape {
            rows: self.dim_of(rows),
            cols: self.dim_of(cols),
        }
    }

    fn scalar(&self) -> VarShape {
        VarShape {
            rows: self.one,
            cols: self.one,
        }
    }

    /// Makes `s` 1×1; fails, binding nothing, where a dimension is known not
    /// to be 1.
    fn unify_scalar(&mut self, s: VarShape) -> Result<(), ()> {
        if !self.dims.may_be_one(s.rows) || !self.dims.may_be_one(s.cols) {
            return Err(());
        }
        let one = self.one;
        let fail = |_: &mut Self| ShapeError::new("not a scalar", Span::NONE);
        self.unify(s.rows, one, fail).map_err(|_| ())?;
        self.unify(s.cols, one, fail).map_err(|_| ())
    }

    /// True when the shape is 1×1.
    pub fn is_scalar(&mut self, s: VarShape) -> bool {
        self.dims.is_one(s.rows) && self.dims.is_one(s.cols)
    }

    fn text(&self, e: &Expr) -> String {
        let span = e.span;
        if span != Span::NONE
            && span.end <= self.source.len()
            && self.source.is_char_boundary(span.start)
            && self.source.is_char_boundary(span.end)
        {
            self.source[span.start..span.end].to_string()
        } else {
            expr_to_string(e)
        }
    }

    /// A dimension for messages: its size, its symbol, or a provisional
    /// name for a size not yet known.
    fn show_dim(&mut self, v: DimVar) -> Option<DimSpec> {
        let taken: Vec<String> = self.symbols.keys().cloned().collect();
        let namer = self.message_names.get_or_insert_with(|| Namer::new(taken));
        Some(match self.dims.binding(v) {
            Some(d) => d,
            None => namer.name(self.dims.representative(v)),
        })
    }

    /// "4×3", "n-vector", "scalar" for messages.
    pub fn describe(&mut self, s: VarShape) -> String {
        let r = self.show_dim(s.rows);
        let c = self.show_dim(s.cols);
        let show = |d: Option<DimSpec>| d.map_or("?".to_string(), |d| d.to_string());
        match (&r, &c) {
            (Some(DimSpec::Fixed(1)), Some(DimSpec::Fixed(1))) => "scalar".to_string(),
            (_, Some(DimSpec::Fixed(1))) => format!("{}×1", show(r)),
            _ => format!("{}×{}", show(r), show(c)),
        }
    }

    fn unify(
        &mut self,
        a: DimVar,
        b: DimVar,
        fail: impl FnOnce(&mut Self) -> ShapeError,
    ) -> Result<(), ShapeError> {
        if self.dims.unify(a, b).is_err() {
            return Err(fail(self));
        }
        Ok(())
    }

    fn variable(&mut self, name: &str) -> VarShape {
        if let Some((_, s)) = self.vars.iter().find(|(n, _)| n == name) {
            return *s;
        }
        let shape = match self.decls.get(name) {
            Some(DeclKind::Value(dims)) => match dims.as_slice() {
                [] => self.scalar(),
                [n] => {
                    let n = self.dim_of(n);
                    VarShape {
                        rows: n,
                        cols: self.one,
                    }
                }
                [r, c, ..] => self.shape_of_spec(r, c),
            },
            _ => {
                self.assumed.push(name.to_string());
                match name.chars().next() {
                    _ if crate::syntax::defaults_to_scalar(name) => self.scalar(),
                    Some(c) if c.is_ascii_uppercase() => VarShape {
                        rows: self.dims.fresh_size(),
                        cols: self.dims.fresh_size(),
                    },
                    _ => VarShape {
                        rows: self.dims.fresh_size(),
                        cols: self.one,
                    },
                }
            }
        };
        self.vars.push((name.to_string(), shape));
        shape
    }

    fn settled(shape: VarShape) -> Inferred {
        Inferred {
            shape,
            deferred: None,
        }
    }

    /// Infers the shape of `e`, which must not be a fill still waiting for
    /// its size.
    pub fn infer(&mut self, e: &Expr) -> Result<VarShape, ShapeError> {
        let inferred = self.node(e)?;
        if let Some(d) = inferred.deferred {
            return Err(self.unsized_fill(d));
        }
        Ok(inferred.shape)
    }

    fn unsized_fill(&self, d: Deferred) -> ShapeError {
        ShapeError::new(
            "cannot infer the size of this vector(…)/matrix(…) here",
            self.fills[d.fill].1,
        )
        .with_help("its size comes from M*vector(c), vector(c)'*M, an element-wise operation with a sized operand, or the whole result; elsewhere write ones(n) or ones(n,m)")
    }

    /// Infers `e` and, if it is a fill whose size is still open, gives it
    /// `want`.
    pub fn infer_as(&mut self, e: &Expr, want: Option<VarShape>) -> Result<VarShape, ShapeError> {
        let inferred = self.node(e)?;
        match (inferred.deferred, want) {
            (Some(d), Some(w)) => {
                self.settle(d, w);
                Ok(w)
            }
            _ => Ok(inferred.shape),
        }
    }

    /// True when the deferred fill is a `matrix(c)`, not a `vector(c)`.
    fn is_matrix_fill(&mut self, d: Deferred) -> bool {
        let cols = self.fills[d.fill].0.cols;
        !self.dims.is_one(cols)
    }

    fn settle(&mut self, d: Deferred, to: VarShape) {
        let shape = if d.transposed { to.transposed() } else { to };
        self.fills[d.fill].0 = shape;
    }

    fn node(&mut self, e: &Expr) -> Result<Inferred, ShapeError> {
        match &e.kind {
            ExprKind::Num(_) => Ok(Self::settled(self.scalar())),
            ExprKind::Var(name) => Ok(Self::settled(self.variable(name))),
            ExprKind::Neg(a) => self.node(a),
            ExprKind::Transpose(a) => {
                let i = self.node(a)?;
                Ok(Inferred {
                    shape: i.shape.transposed(),
                    deferred: i.deferred.map(|d| Deferred {
                        transposed: !d.transposed,
                        ..d
                    }),
                })
            }
            ExprKind::Binary(op, a, b) => self.binary(e, *op, a, b),
            ExprKind::Call(func, a) => self.call(e, *func, a).map(Self::settled),
            ExprKind::Fill { kind, value, .. } => {
                // Take this fill's slot before the fills inside its value,
                // so that `fills` is in preorder, the order in which
                // `write_fill_sizes` hands the sizes out (fuzz finding:
                // `x*vector(vector(d)'*y)` swapped the two sizes).
                let slot = self.fills.len();
                self.fills.push((self.scalar(), e.span));
                let v = self.infer(value)?;
                if !self.is_scalar(v) {
                    return Err(ShapeError::new(
                        format!("the fill value of `{}` must be a scalar", self.text(e)),
                        value.span,
                    ));
                }
                let rows = self.dims.fresh(false);
                let cols = match kind {
                    FillKind::Vector => self.one,
                    FillKind::Matrix => self.dims.fresh(false),
                };
                let shape = VarShape { rows, cols };
                self.fills[slot].0 = shape;
                Ok(Inferred {
                    shape,
                    deferred: Some(Deferred {
                        fill: slot,
                        transposed: false,
                    }),
                })
            }
            ExprKind::Const(kind, dims) => {
                let rows = self.dim_of(&dims[0]);
                let cols = match (kind, dims.get(1)) {
                    (ConstKind::Eye, _) => rows,
                    (_, Some(c)) => self.dim_of(c),
                    (_, None) => self.one,
                };
                Ok(Self::settled(VarShape { rows, cols }))
            }
            ExprKind::Size(of, axis) => {
                let s = self.infer(of)?;
                self.sizes.push(match axis {
                    Axis::Columns => s.rows,
                    Axis::Rows => s.cols,
                });
                Ok(Self::settled(self.scalar()))
            }
            ExprKind::Apply(name, args) => {
                let [arg] = args.as_slice() else {
                    return Err(ShapeError::new(
                        format!("the abstract function `{name}` takes exactly one argument"),
                        e.span,
                    ));
                };
                let s = self.infer(arg)?;
                self.calls.entry(name.clone()).or_default().push(s);
                Ok(Self::settled(self.scalar()))
            }
            ExprKind::Grad(name, args) => Ok(Self::settled(self.gradient_shape(name, args, e)?)),
            ExprKind::Hess(name, args) => {
                let at = self.gradient_shape(name, args, e)?;
                let one = self.one;
                self.unify(at.cols, one, |_| {
                    ShapeError::new(
                        format!("`d2{name}` is the Hessian at a scalar or a column; at a matrix it is a 4-index tensor, which has no matrix form"),
                        e.span,
                    )
                })?;
                Ok(Self::settled(VarShape {
                    rows: at.rows,
                    cols: at.rows,
                }))
            }
            ExprKind::Index(base, ixs) => {
                let s = self.infer(base)?;
                let mut slots = Vec::new();
                if !self.dims.is_one(s.rows) {
                    slots.push(s.rows);
                }
                if !self.dims.is_one(s.cols) {
                    slots.push(s.cols);
                }
                if slots.len() != ixs.len() {
                    return Err(ShapeError::new(
                        format!(
                            "`{}` is {} and takes {} ind{}, not {}",
                            self.text(base),
                            self.describe(s),
                            slots.len(),
                            if slots.len() == 1 { "ex" } else { "ices" },
                            ixs.len()
                        ),
                        e.span,
                    ));
                }
                for (ix, dim) in ixs.iter().zip(slots) {
                    self.index(ix, dim, e.span)?;
                }
                Ok(Self::settled(self.scalar()))
            }
            ExprKind::Delta(i, j) => {
                let d = self.dims.fresh(true);
                self.index(i, d, e.span)?;
                self.index(j, d, e.span)?;
                Ok(Self::settled(self.scalar()))
            }
            ExprKind::IndexSum(_, body) => {
                let s = self.infer(body)?;
                self.require_scalar(s, body, "the body of sum[…]")?;
                Ok(Self::settled(self.scalar()))
            }
        }
    }

    fn index(&mut self, name: &str, dim: DimVar, span: Span) -> Result<(), ShapeError> {
        match self.indices.get(name) {
            None => {
                self.indices.insert(name.to_string(), dim);
                Ok(())
            }
            Some(&prev) => self.unify(prev, dim, |_| {
                ShapeError::new(
                    format!("index `{name}` ranges over two different sizes"),
                    span,
                )
            }),
        }
    }

    fn require_scalar(&mut self, s: VarShape, e: &Expr, what: &str) -> Result<(), ShapeError> {
        if self.is_scalar(s) {
            return Ok(());
        }
        let shown = self.describe(s);
        Err(ShapeError::new(
            format!("{what} must be a scalar, but `{}` is {shown}", self.text(e)),
            e.span,
        ))
    }

    fn binary(&mut self, e: &Expr, op: BinOp, a: &Expr, b: &Expr) -> Result<Inferred, ShapeError> {
        let (ia, ib) = (self.node(a)?, self.node(b)?);
        let (sa, sb) = (ia.shape, ib.shape);
        match op {
            BinOp::Mul => {
                // A fill is sized by a product only as M*vector(c) or
                // vector(c)'*M: never a matrix(c), never beside another fill.
                match (ia.deferred, ib.deferred) {
                    (Some(d), _) if self.is_matrix_fill(d) && !self.is_scalar(sb) => {
                        return Err(self.unsized_fill(d))
                    }
                    (_, Some(d)) if self.is_matrix_fill(d) && !self.is_scalar(sa) => {
                        return Err(self.unsized_fill(d))
                    }
                    (Some(d), _) if !d.transposed && !self.is_scalar(sb) => {
                        return Err(self.unsized_fill(d))
                    }
                    (_, Some(d)) if d.transposed && !self.is_scalar(sa) => {
                        return Err(self.unsized_fill(d))
                    }
                    (Some(d), Some(_)) => return Err(self.unsized_fill(d)),
                    _ => {}
                }
                if self.is_scalar(sa) {
                    return Ok(Inferred {
                        shape: sb,
                        deferred: ib.deferred,
                    });
                }
                if self.is_scalar(sb) {
                    return Ok(Inferred {
                        shape: sa,
                        deferred: ia.deferred,
                    });
                }
                self.unify(sa.cols, sb.rows, |me| {
                    let (da, db) = (me.describe(sa), me.describe(sb));
                    let show = |d: Option<DimSpec>| d.map_or("?".to_string(), |d| d.to_string());
                    let (ka, kb) = (show(me.show_dim(sa.cols)), show(me.show_dim(sb.rows)));
                    ShapeError::new(
                        format!(
                            "cannot multiply {} ({da}) by {} ({db}): inner dimensions {ka} and {kb} differ",
                            me.text(a),
                            me.text(b)
                        ),
                        e.span,
                    )
                    .with_operands(a.span, da, b.span, db)
                })?;
                Ok(Self::settled(VarShape {
                    rows: sa.rows,
                    cols: sb.cols,
                }))
            }
            BinOp::Div => {
                if let Some(d) = ib.deferred {
                    return Err(self.unsized_fill(d));
                }
                self.require_scalar(
                    sb,
                    b,
                    "the divisor of `/` (use ./ for element-wise division)",
                )?;
                Ok(ia)
            }
            // Only a scalar has a symbolic or fractional power, so a base
            // whose shape nothing has fixed yet (a bare `dL` before the call
            // of L) is one.
            BinOp::Pow
                if integer_exponent(b).is_none()
                    && self.dims.binding(sa.rows).is_none()
                    && self.dims.binding(sa.cols).is_none()
                    && self.unify_scalar(sa).is_ok() =>
            {
                self.require_scalar(sb, b, "the exponent of `^`")?;
                self.powers.push(None);
                Ok(Self::settled(sa))
            }
            BinOp::Pow if !self.is_scalar(sa) => {
                self.matrix_power(e, a, b, sa)?;
                self.powers.push(Some(sa));
                Ok(Self::settled(sa))
            }
            BinOp::Pow => {
                self.require_scalar(sb, b, "the exponent of `^`")?;
                self.powers.push(None);
                Ok(Self::settled(sa))
            }
            _ => self.elementwise(e, op, a, b, ia, ib),
        }
    }

    /// `X^k` for a matrix X: MATLAB's matrix power, for a square X and an
    /// integer literal k.
    fn matrix_power(
        &mut self,
        e: &Expr,
        a: &Expr,
        b: &Expr,
        sa: VarShape,
    ) -> Result<(), ShapeError> {
        let help = "use .^ for element-wise powers";
        match integer_exponent(b) {
            Some(0) => {
                return Err(ShapeError::new(
                    "the matrix power X^0 is the identity: write eye(n)",
                    b.span,
                ))
            }
            Some(k) if k.abs() <= MAX_MATRIX_POWER => {}
            Some(_) => {
                return Err(ShapeError::new(
                    format!("a matrix power is written out as a product, up to X^{MAX_MATRIX_POWER}"),
                    b.span,
                ))
            }
            None => {
                return Err(ShapeError::new(
                    format!(
                        "the exponent of the matrix power `{}` must be an integer literal such as 3: a symbolic or fractional power of a matrix has no closed form here",
                        self.text(e)
                    ),
                    b.span,
                )
                .with_help(help))
            }
        }
        let not_square = |me: &mut Self| {
            ShapeError::new(
                format!(
                    "the matrix power `{}` needs a square matrix, but `{}` is {}",
                    me.text(e),
                    me.text(a),
                    me.describe(sa)
                ),
                a.span,
            )
            .with_help(help)
        };
        // A vector or a row is never made 1×1 by a power.
        if self.dims.is_one(sa.rows) || self.dims.is_one(sa.cols) {
            return Err(not_square(self));
        }
        self.unify(sa.rows, sa.cols, not_square)
    }

    fn elementwise(
        &mut self,
        e: &Expr,
        op: BinOp,
        a: &Expr,
        b: &Expr,
        ia: Inferred,
        ib: Inferred,
    ) -> Result<Inferred, ShapeError> {
        let (sa, sb) = (ia.shape, ib.shape);
        // A fill takes the shape of a sized operand.
        match (ia.deferred, ib.deferred) {
            (Some(d), None) if !self.is_scalar(sb) => {
                self.settle(d, sb);
                return Ok(Self::settled(sb));
            }
            (None, Some(d)) if !self.is_scalar(sa) => {
                self.settle(d, sa);
                return Ok(Self::settled(sa));
            }
            _ => {}
        }
        if self.is_scalar(sa) {
            return Ok(ib);
        }
        if self.is_scalar(sb) {
            return Ok(ia);
        }
        let verb = match op {
            BinOp::Add => "add",
            BinOp::Sub => "subtract",
            BinOp::HadMul => "multiply element-wise",
            BinOp::HadDiv => "divide element-wise",
            _ => "raise element-wise",
        };
        let fail = |me: &mut Self, why: &str| {
            let (da, db) = (me.describe(sa), me.describe(sb));
            ShapeError::new(
                format!(
                    "cannot {verb} {} ({da}) and {} ({db}){why}",
                    me.text(a),
                    me.text(b)
                ),
                e.span,
            )
            .with_operands(a.span, da, b.span, db)
        };
        let (a_row, b_row) = (self.dims.is_one(sa.rows), self.dims.is_one(sb.rows));
        let (a_col, b_col) = (self.dims.is_one(sa.cols), self.dims.is_one(sb.cols));
        // A 1×m row broadcasts against an n×m matrix, either side.
        if a_row != b_row && !(a_col || b_col) {
            self.unify(sa.cols, sb.cols, |me| fail(me, ": the columns differ"))?;
            let shape = if a_row { sb } else { sa };
            return Ok(Self::settled(shape));
        }
        if a_col != b_col || a_row != b_row {
            let why = if a_col != b_col && !(a_row || b_row) {
                ": a column does not broadcast against a matrix (only a 1×m row does)"
            } else {
                ": a row and a column do not broadcast"
            };
            return Err(fail(self, why));
        }
        self.unify(sa.rows, sb.rows, |me| fail(me, ": the shapes differ"))?;
        self.unify(sa.cols, sb.cols, |me| fail(me, ": the shapes differ"))?;
        Ok(Self::settled(sa))
    }

    fn call(&mut self, e: &Expr, func: Func, a: &Expr) -> Result<VarShape, ShapeError> {
        let s = self.infer(a)?;
        let square = |me: &mut Self| {
            me.unify(s.rows, s.cols, |me| {
                let shown = me.describe(s);
                ShapeError::new(
                    format!(
                        "`{}` needs a square matrix, but `{}` is {shown}",
                        func.name(),
                        me.text(a)
                    ),
                    e.span,
                )
            })
        };
        match func {
            Func::Tr | Func::Det | Func::Logdet => {
                square(self)?;
                Ok(self.scalar())
            }
            Func::Inv => {
                square(self)?;
                Ok(s)
            }
            Func::Sum | Func::Norm1 | Func::Norm2 | Func::Logsumexp => Ok(self.scalar()),
            Func::Softmax => {
                if !self.dims.is_one(s.cols) || self.dims.is_one(s.rows) {
                    let shown = self.describe(s);
                    return Err(ShapeError::new(
                        format!(
                            "`softmax` takes a column vector, but `{}` is {shown}",
                            self.text(a)
                        ),
                        e.span,
                    )
                    .with_help(
                        "for the rows of a matrix write diag(1 ./ (exp(X)*vector(1)))*exp(X)",
                    ));
                }
                Ok(s)
            }
            Func::Diag => {
                if self.dims.is_one(s.cols) && !self.dims.is_one(s.rows) {
                    Ok(VarShape {
                        rows: s.rows,
                        cols: s.rows,
                    })
                } else if self.dims.is_one(s.rows) && !self.dims.is_one(s.cols) {
                    Ok(VarShape {
                        rows: s.cols,
                        cols: s.cols,
                    })
                } else {
                    square(self)?;
                    Ok(VarShape {
                        rows: s.rows,
                        cols: self.one,
                    })
                }
            }
            _ => Ok(s),
        }
    }

    /// The shape of the gradient `dL` or `dL(E)` (also the point of `d2L`).
    fn gradient_shape(
        &mut self,
        name: &str,
        args: &[Expr],
        e: &Expr,
    ) -> Result<VarShape, ShapeError> {
        match args {
            [arg] => self.infer(arg),
            [] => {
                if let Some(&s) = self.gradients.get(name) {
                    return Ok(s);
                }
                // Known from the start, so that `diag(dL')` or
                // `dL*x` read dL as it is, not as its use suggests.
                // Else the shape of the argument of the one call of the
                // function met so far (`L(t)/dL`: dL has t's shape).
                let called = match self.calls.get(name).map(Vec::as_slice) {
                    Some(&[s]) => Some(s),
                    _ => None,
                };
                let s = match (self.known_gradients.get(name).cloned(), called) {
                    (Some((r, c)), _) => self.shape_of_spec(&r, &c),
                    (None, Some(s)) => s,
                    (None, None) => VarShape {
                        rows: self.dims.fresh(true),
                        cols: self.dims.fresh(true),
                    },
                };
                self.gradients.insert(name.to_string(), s);
                Ok(s)
            }
            _ => Err(ShapeError::new(
                format!("`d{name}` takes one argument: the point where the derivative is taken"),
                e.span,
            )),
        }
    }

    /// Unifies the shapes of every call of each abstract function, so that a
    /// bare gradient has one shape.
    pub fn tie_gradients(
        &mut self,
        known: &BTreeMap<String, (DimSpec, DimSpec)>,
    ) -> Result<(), ShapeError> {
        let names: Vec<String> = self.gradients.keys().cloned().collect();
        for name in names {
            let g = self.gradients[&name];
            let calls = self.calls.get(&name).cloned().unwrap_or_default();
            if let Some((r, c)) = known.get(&name) {
                let s = self.shape_of_spec(r, c);
                self.unify(g.rows, s.rows, |_| {
                    ShapeError::new(
                        format!("`d{name}` does not have the given shape"),
                        Span::NONE,
                    )
                })?;
                self.unify(g.cols, s.cols, |_| {
                    ShapeError::new(
                        format!("`d{name}` does not have the given shape"),
                        Span::NONE,
                    )
                })?;
            }
            for s in calls {
                let clash = |_: &mut Self| {
                    ShapeError::new(
                        format!("`{name}` is applied to arguments of different shapes, so a bare `d{name}` is ambiguous"),
                        Span::NONE,
                    )
                    .with_help(format!("write d{name}(E) with the argument E"))
                };
                self.unify(g.rows, s.rows, clash)?;
                self.unify(g.cols, s.cols, clash)?;
            }
        }
        Ok(())
    }

    /// The concrete or symbolic dimension of a variable; unbound ones get
    /// names from `namer`.
    pub fn resolve(&mut self, v: DimVar, namer: &mut Namer) -> DimSpec {
        match self.dims.binding(v) {
            Some(d) => d,
            None => {
                let root = self.dims.representative(v);
                namer.name(root)
            }
        }
    }
}

/// Names unbound dimension classes `n, k, m, p, q, …` in order of first use.
pub struct Namer {
    names: BTreeMap<u32, String>,
    taken: BTreeSet<String>,
    /// The next candidate name to try, as a position in the sequence.
    next: usize,
}

const DIM_NAMES: [&str; 12] = ["n", "k", "m", "p", "q", "r", "s", "t", "u", "v", "w", "z"];

impl Namer {
    /// A namer that avoids `taken`.
    pub fn new(taken: Vec<String>) -> Namer {
        Namer {
            names: BTreeMap::new(),
            taken: taken.into_iter().collect(),
            next: 0,
        }
    }

    /// The name of an unbound dimension class.
    pub fn name(&mut self, class: u32) -> DimSpec {
        if let Some(n) = self.names.get(&class) {
            return DimSpec::Named(n.clone());
        }
        // Names are never given back, so every candidate before `next` is
        // taken and the search resumes there: linear in all, not cubic.
        let name = loop {
            let candidate = match DIM_NAMES.get(self.next) {
                Some(s) => s.to_string(),
                None => format!("d{}", self.next + 1 - DIM_NAMES.len()),
            };
            self.next += 1;
            if !self.taken.contains(&candidate) {
                break candidate;
            }
        };
        self.names.insert(class, name.clone());
        DimSpec::Named(name)
    }
}
