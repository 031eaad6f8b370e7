//! The matrix AST: what the parser produces and every later layer consumes.
//!
//! Every node carries the byte [`Span`] of the text it came from (engine-made
//! nodes carry [`Span::NONE`]). Equality ignores spans, so that
//! `parse(print(e)) == e` is the round-trip property of the printers.

use std::collections::BTreeMap;
use std::fmt;

/// A byte range `start..end` in the source text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// The span of a node that did not come from source text.
    pub const NONE: Span = Span { start: 0, end: 0 };

    /// A span from `start` to `end`.
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn join(self, other: Span) -> Span {
        if self == Span::NONE {
            return other;
        }
        if other == Span::NONE {
            return self;
        }
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

/// A dimension as written by a user: an integer or a symbol such as `n`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DimSpec {
    /// A concrete size.
    Fixed(usize),
    /// A symbolic size (a lowercase identifier).
    Named(String),
}

impl fmt::Display for DimSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DimSpec::Fixed(n) => write!(f, "{n}"),
            DimSpec::Named(s) => f.write_str(s),
        }
    }
}

/// Binary operators, all left-associative.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BinOp {
    /// `+`, element-wise with broadcasting.
    Add,
    /// `-`, element-wise with broadcasting.
    Sub,
    /// `*`, the matrix product (a scaling when one side is a scalar).
    Mul,
    /// `/`, division by a scalar.
    Div,
    /// `.*`, the Hadamard product.
    HadMul,
    /// `./`, element-wise division.
    HadDiv,
    /// `^`, a scalar raised to a scalar power.
    Pow,
    /// `.^`, element-wise power.
    HadPow,
}

impl BinOp {
    /// The operator as written in the input syntax.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::HadMul => ".*",
            BinOp::HadDiv => "./",
            BinOp::Pow => "^",
            BinOp::HadPow => ".^",
        }
    }

    /// Binding strength: 1 for `+ -`, 2 for `* / .* ./`, 4 for `^ .^`
    /// (unary minus sits at 3).
    pub fn precedence(self) -> u8 {
        match self {
            BinOp::Add | BinOp::Sub => 1,
            BinOp::Mul | BinOp::Div | BinOp::HadMul | BinOp::HadDiv => 2,
            BinOp::Pow | BinOp::HadPow => 4,
        }
    }
}

/// Built-in functions of one matrix argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Func {
    /// Trace of a square matrix.
    Tr,
    /// Determinant of a square matrix.
    Det,
    /// `log(det(X))`.
    Logdet,
    /// Inverse of a square matrix.
    Inv,
    /// Vector → diagonal matrix, or square matrix → its diagonal.
    Diag,
    /// Sum of all entries.
    Sum,
    /// Element-wise exponential.
    Exp,
    /// Element-wise natural logarithm.
    Log,
    /// Element-wise sine.
    Sin,
    /// Element-wise cosine.
    Cos,
    /// Element-wise hyperbolic tangent.
    Tanh,
    /// Element-wise tangent.
    Tan,
    /// Element-wise `log(1 + exp(x))`.
    Softplus,
    /// Element-wise error function `2/√π ∫₀ˣ exp(−t²) dt`.
    Erf,
    /// Element-wise square root.
    Sqrt,
    /// Element-wise logistic function.
    Sigmoid,
    /// Element-wise `max(x, 0)`.
    Relu,
    /// Element-wise absolute value.
    Abs,
    /// Element-wise sign.
    Sign,
    /// Sum of absolute values of all entries.
    Norm1,
    /// Euclidean / Frobenius norm.
    Norm2,
    /// Softmax of a column vector.
    Softmax,
    /// `log(sum(exp(x)))` over all entries.
    Logsumexp,
}

impl Func {
    /// Every built-in function, in the order of the corpus table.
    pub const ALL: [Func; 23] = [
        Func::Tr,
        Func::Det,
        Func::Logdet,
        Func::Inv,
        Func::Diag,
        Func::Sum,
        Func::Exp,
        Func::Log,
        Func::Sin,
        Func::Cos,
        Func::Tanh,
        Func::Sqrt,
        Func::Sigmoid,
        Func::Tan,
        Func::Softplus,
        Func::Erf,
        Func::Relu,
        Func::Abs,
        Func::Sign,
        Func::Norm1,
        Func::Norm2,
        Func::Softmax,
        Func::Logsumexp,
    ];

    /// The function's name in the input syntax.
    pub fn name(self) -> &'static str {
        match self {
            Func::Tr => "tr",
            Func::Det => "det",
            Func::Logdet => "logdet",
            Func::Inv => "inv",
            Func::Diag => "diag",
            Func::Sum => "sum",
            Func::Exp => "exp",
            Func::Log => "log",
            Func::Sin => "sin",
            Func::Cos => "cos",
            Func::Tanh => "tanh",
            Func::Tan => "tan",
            Func::Softplus => "softplus",
            Func::Erf => "erf",
            Func::Sqrt => "sqrt",
            Func::Sigmoid => "sigmoid",
            Func::Relu => "relu",
            Func::Abs => "abs",
            Func::Sign => "sign",
            Func::Norm1 => "norm1",
            Func::Norm2 => "norm2",
            Func::Softmax => "softmax",
            Func::Logsumexp => "logsumexp",
        }
    }

    /// The function named `name`, if it is built in.
    pub fn from_name(name: &str) -> Option<Func> {
        Func::ALL.into_iter().find(|f| f.name() == name)
    }

    /// True for functions applied entry by entry (`exp`, `relu`, …).
    pub fn is_elementwise(self) -> bool {
        matches!(
            self,
            Func::Exp
                | Func::Log
                | Func::Sin
                | Func::Cos
                | Func::Tanh
                | Func::Tan
                | Func::Softplus
                | Func::Erf
                | Func::Sqrt
                | Func::Sigmoid
                | Func::Relu
                | Func::Abs
                | Func::Sign
        )
    }
}

/// Constant-filled values whose size is inferred from context.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FillKind {
    /// `vector(c)`: a column (or, transposed, a row).
    Vector,
    /// `matrix(c)`: a matrix.
    Matrix,
}

/// Constants of explicit size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConstKind {
    /// `eye(n)`.
    Eye,
    /// `ones(n)` or `ones(n, m)`.
    Ones,
    /// `zeros(n)` or `zeros(n, m)`.
    Zeros,
}

impl ConstKind {
    /// The constant's name in the input syntax.
    pub fn name(self) -> &'static str {
        match self {
            ConstKind::Eye => "eye",
            ConstKind::Ones => "ones",
            ConstKind::Zeros => "zeros",
        }
    }
}

/// An expression node: its kind and where it came from.
#[derive(Clone, Debug)]
pub struct Expr {
    /// What the node is.
    pub kind: ExprKind,
    /// Where it was written ([`Span::NONE`] when made by the engine).
    pub span: Span,
}

impl PartialEq for Expr {
    fn eq(&self, other: &Expr) -> bool {
        self.kind == other.kind
    }
}

/// The kinds of expression node.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// A non-negative number literal (negation is [`ExprKind::Neg`]).
    Num(f64),
    /// A variable: a scalar, vector or matrix.
    Var(String),
    /// Unary minus.
    Neg(Box<Expr>),
    /// A binary operation.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `'` or `.'`: the plain transpose.
    Transpose(Box<Expr>),
    /// A built-in function applied to its argument.
    Call(Func, Box<Expr>),
    /// `vector(c)` / `matrix(c)`; `size` is filled in by shape inference.
    Fill {
        /// Vector or matrix.
        kind: FillKind,
        /// The constant (a scalar expression).
        value: Box<Expr>,
        /// Rows and columns once inferred.
        size: Option<[DimSpec; 2]>,
    },
    /// `eye(n)`, `ones(n, m)`, `zeros(n)`.
    Const(ConstKind, Vec<DimSpec>),
    /// An abstract scalar function such as `L(E)` or a declared `f(E, F)`.
    Apply(String, Vec<Expr>),
    /// The gradient of an abstract function: `dL` (no arguments) or `dL(E)`.
    Grad(String, Vec<Expr>),
    /// The Hessian of an abstract function at a scalar or column argument:
    /// `d2L` (no arguments) or `d2L(E)`, an n×n matrix for an n-vector E.
    Hess(String, Vec<Expr>),
    /// Indexing of any subexpression: `X[i,j]`, `inv(X)[l,i]`.
    Index(Box<Expr>, Vec<String>),
    /// The Kronecker delta `delta(i,j)`.
    Delta(String, String),
    /// An explicit sum `sum[p,q](body)`.
    IndexSum(Vec<String>, Box<Expr>),
    /// `size(E, 1)` or `size(E, 2)`: the number of rows or columns of E,
    /// a scalar. Shape checking replaces it by the size itself (a number,
    /// or `sum(ones(n))` for a dimension symbol); evaluators read it off
    /// the value of E.
    Size(Box<Expr>, Axis),
}

/// The axis of a reduction or a size: 1 runs down each column (a row
/// results; the number of rows), 2 along each row (a column results; the
/// number of columns), as in MATLAB.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Axis {
    /// Axis 1: down each column.
    Columns,
    /// Axis 2: along each row.
    Rows,
}

impl Axis {
    /// The axis as MATLAB numbers it: 1 or 2.
    pub fn number(self) -> u8 {
        match self {
            Axis::Columns => 1,
            Axis::Rows => 2,
        }
    }
}

/// The left-hand side of an index-notation result: `G[i,j] =`.
#[derive(Clone, Debug)]
pub struct IndexLhs {
    /// The result's name (arbitrary).
    pub name: String,
    /// The free indices, in layout order.
    pub indices: Vec<String>,
    /// Where it was written.
    pub span: Span,
}

impl PartialEq for IndexLhs {
    fn eq(&self, other: &IndexLhs) -> bool {
        self.name == other.name && self.indices == other.indices
    }
}

/// A whole input: an expression, or an index-notation result `G[i,j] = body`.
#[derive(Clone, Debug, PartialEq)]
pub struct Formula {
    /// `Some` for an index form.
    pub lhs: Option<IndexLhs>,
    /// The expression (the right-hand side of an index form).
    pub body: Expr,
}

impl Expr {
    /// A node made by the engine (no source span).
    pub fn new(kind: ExprKind) -> Expr {
        Expr {
            kind,
            span: Span::NONE,
        }
    }

    /// A number; negative values become `Neg` of a literal.
    pub fn num(value: f64) -> Expr {
        if value < 0.0 {
            Expr::new(ExprKind::Neg(Box::new(Expr::num(-value))))
        } else {
            Expr::new(ExprKind::Num(value))
        }
    }

    /// A variable.
    pub fn var(name: &str) -> Expr {
        Expr::new(ExprKind::Var(name.to_string()))
    }

    /// A binary operation.
    pub fn binary(op: BinOp, lhs: Expr, rhs: Expr) -> Expr {
        Expr::new(ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)))
    }

    /// A built-in call.
    pub fn call(func: Func, arg: Expr) -> Expr {
        Expr::new(ExprKind::Call(func, Box::new(arg)))
    }

    /// `magnitude * f1 * f2 * …` (left-associated); the bare number when
    /// there is no factor, and no `1*` in front.
    pub fn scaled_product(magnitude: Expr, factors: impl IntoIterator<Item = Expr>) -> Expr {
        let product = factors
            .into_iter()
            .reduce(|p, e| Expr::binary(BinOp::Mul, p, e));
        match product {
            None => magnitude,
            Some(p) if matches!(magnitude.kind, ExprKind::Num(v) if v == 1.0) => p,
            Some(p) => Expr::binary(BinOp::Mul, magnitude, p),
        }
    }

    /// Adds (or, when `negative`, subtracts) `term` to a running sum that
    /// starts as `None`.
    pub fn accumulate(sum: Option<Expr>, term: Expr, negative: bool) -> Expr {
        match (sum, negative) {
            (None, false) => term,
            (None, true) => Expr::new(ExprKind::Neg(Box::new(term))),
            (Some(b), false) => Expr::binary(BinOp::Add, b, term),
            (Some(b), true) => Expr::binary(BinOp::Sub, b, term),
        }
    }

    /// The immediate subexpressions, in source order.
    pub fn children(&self) -> Vec<&Expr> {
        match &self.kind {
            ExprKind::Num(_) | ExprKind::Var(_) | ExprKind::Const(..) | ExprKind::Delta(..) => {
                Vec::new()
            }
            ExprKind::Neg(e)
            | ExprKind::Transpose(e)
            | ExprKind::Call(_, e)
            | ExprKind::Index(e, _)
            | ExprKind::Size(e, _)
            | ExprKind::IndexSum(_, e) => vec![e],
            ExprKind::Fill { value, .. } => vec![value],
            ExprKind::Binary(_, a, b) => vec![a, b],
            ExprKind::Apply(_, args) | ExprKind::Grad(_, args) | ExprKind::Hess(_, args) => {
                args.iter().collect()
            }
        }
    }

    /// The expression with each immediate subexpression replaced by `f` of
    /// it, in source order (the order of [`Expr::children`]).
    pub fn map_children(self, f: &mut dyn FnMut(Expr) -> Expr) -> Expr {
        let Expr { kind, span } = self;
        let mut b = |e: Box<Expr>| Box::new(f(*e));
        let kind = match kind {
            ExprKind::Neg(a) => ExprKind::Neg(b(a)),
            ExprKind::Transpose(a) => ExprKind::Transpose(b(a)),
            ExprKind::Call(func, a) => ExprKind::Call(func, b(a)),
            ExprKind::Binary(op, x, y) => {
                let x = b(x);
                ExprKind::Binary(op, x, b(y))
            }
            ExprKind::Index(a, ixs) => ExprKind::Index(b(a), ixs),
            ExprKind::IndexSum(ixs, a) => ExprKind::IndexSum(ixs, b(a)),
            ExprKind::Size(a, axis) => ExprKind::Size(b(a), axis),
            ExprKind::Fill { kind, value, size } => ExprKind::Fill {
                kind,
                value: b(value),
                size,
            },
            ExprKind::Apply(name, args) => {
                ExprKind::Apply(name, args.into_iter().map(&mut *f).collect())
            }
            ExprKind::Hess(name, args) => {
                ExprKind::Hess(name, args.into_iter().map(&mut *f).collect())
            }
            ExprKind::Grad(name, args) => {
                ExprKind::Grad(name, args.into_iter().map(&mut *f).collect())
            }
            other => other,
        };
        Expr { kind, span }
    }

    /// Each abstract function called with one argument throughout, and at
    /// one argument as written, with that argument: where a bare `dL` means
    /// the gradient at it.
    pub fn loss_arguments(&self) -> BTreeMap<String, Expr> {
        let mut seen: BTreeMap<String, Vec<Expr>> = BTreeMap::new();
        let mut stack = vec![self];
        while let Some(e) = stack.pop() {
            if let ExprKind::Apply(name, args) = &e.kind {
                if let [arg] = args.as_slice() {
                    let list = seen.entry(name.clone()).or_default();
                    if !list.contains(arg) {
                        list.push(arg.clone());
                    }
                }
            }
            stack.extend(e.children());
        }
        seen.into_iter()
            .filter_map(|(name, mut args)| (args.len() == 1).then(|| (name, args.remove(0))))
            .collect()
    }

    /// Number of nodes in the tree (the corpus's size measure).
    pub fn node_count(&self) -> usize {
        1 + self
            .children()
            .iter()
            .map(|c| c.node_count())
            .sum::<usize>()
    }
}

impl Formula {
    /// True when the formula is in pure matrix form: no indexing, `delta`,
    /// `sum[...]` or `NAME[...] =`.
    pub fn is_matrix_form(&self) -> bool {
        fn pure(e: &Expr) -> bool {
            !matches!(
                e.kind,
                ExprKind::Index(..) | ExprKind::Delta(..) | ExprKind::IndexSum(..)
            ) && e.children().into_iter().all(pure)
        }
        self.lhs.is_none() && pure(&self.body)
    }
}
