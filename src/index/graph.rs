//! The shared DAG of matrix-valued nodes: a hash-consed arena in which every
//! distinct node (kind, children, shape) has one [`Id`], so equality is an id
//! compare and shared subexpressions stay shared however deep the network.
//!
//! Constructors here normalise only what is always safe and local (`1*A`,
//! `A'' `, `-(-A)`, `0 + A`, constant folding); global canonical forms are
//! the `simplify` layer's job.

use std::collections::HashMap;

use num_traits::{One, Signed, ToPrimitive, Zero};

pub use super::error::GraphError;
use super::error::{Operation, Reason, Undefined};
use crate::algebra::{decimal_of_f64, exact_sqrt, f64_of, Rational};
use crate::shape::{binary_shape, call_shape, Shape};
use crate::syntax::{BinOp, ConstKind, DimSpec, Expr, ExprKind, FillKind, Func};

/// A node handle in a [`Graph`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(u32);

impl Id {
    /// The position of the node in its graph.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Rows and columns of a node's value (a scalar is 1×1, a column n×1).
pub type Dims = [DimSpec; 2];

/// The dims of a scalar.
pub fn scalar_dims() -> Dims {
    [DimSpec::Fixed(1), DimSpec::Fixed(1)]
}

/// True when the dimension is the literal 1.
pub fn is_one(d: &DimSpec) -> bool {
    *d == DimSpec::Fixed(1)
}

/// True for 1×1.
pub fn is_scalar(d: &Dims) -> bool {
    is_one(&d[0]) && is_one(&d[1])
}

/// An exact number: a rational, never an f64 (a literal `0.1` is 1/10).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Num(Rational);

impl Num {
    /// The exact value.
    pub fn value(&self) -> &Rational {
        &self.0
    }
    /// The f64 nearest to the value, for evaluation and printing.
    pub fn to_f64(&self) -> f64 {
        f64_of(&self.0)
    }
    /// True when the value is the integer `k`.
    pub fn is(&self, k: i64) -> bool {
        self.0 == Rational::from_integer(k.into())
    }
}

/// One node of the DAG. Children are ids of earlier nodes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Node {
    /// A number.
    Num(Num),
    /// A variable of the expression.
    Var(String),
    /// `dX`: the direction in which the variable `X` moves (forward mode).
    Tangent(String),
    /// `vector(c)` / `matrix(c)` with its size in the node's dims.
    Fill(FillKind, Num),
    /// `eye`, `ones`, `zeros` with the node's dims.
    Const(ConstKind),
    /// Negation.
    Neg(Id),
    /// A binary operation.
    Binary(BinOp, Id, Id),
    /// Transpose.
    T(Id),
    /// A built-in function.
    Call(Func, Id),
    /// An abstract scalar function applied to its argument.
    Apply(String, Id),
    /// The gradient of an abstract function at its argument.
    Grad(String, Id),
    /// The Hessian of an abstract function at its scalar or column
    /// argument (n×n for an n-vector).
    Hess(String, Id),
}

impl Node {
    /// The children, in order.
    pub fn children(&self) -> Vec<Id> {
        match self {
            Node::Num(_) | Node::Var(_) | Node::Tangent(_) | Node::Fill(..) | Node::Const(_) => {
                Vec::new()
            }
            Node::Neg(a)
            | Node::T(a)
            | Node::Call(_, a)
            | Node::Apply(_, a)
            | Node::Grad(_, a)
            | Node::Hess(_, a) => {
                vec![*a]
            }
            Node::Binary(_, a, b) => vec![*a, *b],
        }
    }
}

/// The arena of matrix nodes.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    nodes: Vec<(Node, Dims)>,
    ids: HashMap<(Node, Dims), Id>,
    /// Per node, an upper bound on the rank of its value read off the
    /// shapes, where one is known (see [`Graph::rank_bound`]).
    ranks: Vec<Option<usize>>,
}

impl Graph {
    /// An empty graph.
    pub fn new() -> Graph {
        Graph::default()
    }

    /// Number of distinct nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when no node has been made.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The node behind an id.
    pub fn node(&self, id: Id) -> &Node {
        &self.nodes[id.index()].0
    }

    /// The dims of a node's value.
    pub fn dims(&self, id: Id) -> &Dims {
        &self.nodes[id.index()].1
    }

    /// True when the node is 1×1.
    pub fn is_scalar(&self, id: Id) -> bool {
        is_scalar(self.dims(id))
    }

    /// The node's numeric value, when it is a number.
    pub fn num_value(&self, id: Id) -> Option<Rational> {
        match self.node(id) {
            Node::Num(n) => Some(n.value().clone()),
            Node::Neg(a) => self.num_value(*a).map(|v| -v),
            _ => None,
        }
    }

    /// Interns a node with the given dims (no normalisation).
    pub fn intern(&mut self, node: Node, dims: Dims) -> Id {
        let key = (node, dims);
        if let Some(&id) = self.ids.get(&key) {
            return id;
        }
        let id = Id(u32::try_from(self.nodes.len()).expect("fewer than 2^32 nodes"));
        let rank = self.rank_of(&key.0, &key.1);
        self.nodes.push(key.clone());
        self.ranks.push(rank);
        self.ids.insert(key, id);
        id
    }

    /// An upper bound on the rank of the node's value that its shapes
    /// decide, when there is one: at most its smallest fixed size; a zero
    /// has rank 0 and a constant fill rank 1; a product at most the rank of
    /// either factor and its inner size (`x*y'` is n×n of rank at most 1); a
    /// sum at most the sum of the ranks, a Hadamard product their product.
    pub fn rank_bound(&self, id: Id) -> Option<usize> {
        self.ranks[id.index()]
    }

    /// The rank bound of a node about to be interned, from those of its
    /// children (already interned), so that it costs O(1) per node.
    fn rank_of(&self, node: &Node, dims: &Dims) -> Option<usize> {
        let fixed = |d: &DimSpec| match d {
            DimSpec::Fixed(n) => Some(*n),
            DimSpec::Named(_) => None,
        };
        let of = |id: &Id| self.rank_bound(*id);
        let both = |a: &Id, b: &Id, join: fn(usize, usize) -> usize| Some(join(of(a)?, of(b)?));
        let by_node = match node {
            Node::Const(ConstKind::Zeros) => Some(0),
            Node::Fill(..) => Some(1),
            Node::Neg(a) | Node::T(a) | Node::Binary(BinOp::Div, a, _) => of(a),
            Node::Binary(BinOp::HadDiv, a, b) if self.is_scalar(*b) => of(a),
            Node::Binary(BinOp::Mul, a, b) if self.is_scalar(*a) => of(b),
            Node::Binary(BinOp::Mul, a, b) if self.is_scalar(*b) => of(a),
            Node::Binary(BinOp::Mul, a, b) => [of(a), of(b), fixed(&self.dims(*a)[1])]
                .into_iter()
                .flatten()
                .min(),
            Node::Binary(BinOp::Add | BinOp::Sub, a, b) => both(a, b, usize::saturating_add),
            Node::Binary(BinOp::HadMul, a, b) => both(a, b, usize::saturating_mul),
            _ => None,
        };
        [by_node, fixed(&dims[0]), fixed(&dims[1])]
            .into_iter()
            .flatten()
            .min()
    }

    /// True when the node is a square matrix that its shapes make singular:
    /// its rank bound is below its size. A dimension symbol stands for a
    /// size of at least 2 (a size of 1 is written `1`), so a symbolic n×n
    /// matrix of rank at most 1 is singular; against any other bound a
    /// symbolic size decides nothing.
    pub fn is_singular(&self, id: Id) -> bool {
        let [rows, cols] = self.dims(id);
        if rows != cols || is_one(rows) {
            return false;
        }
        match (self.rank_bound(id), rows) {
            (Some(r), DimSpec::Fixed(n)) => r < *n,
            (Some(r), DimSpec::Named(_)) => r <= 1,
            (None, _) => false,
        }
    }

    /// The node in the input syntax for a message: backquoted when short,
    /// else described by its shape.
    fn quoted(&self, id: Id) -> String {
        const SHORT: usize = 40;
        if self.tree_size(id) <= SHORT {
            let text = crate::syntax::expr_to_string(&self.to_expr(id));
            if text.chars().count() <= 2 * SHORT {
                return format!("`{text}`");
            }
        }
        let [r, c] = self.dims(id);
        format!("a {r}×{c} value")
    }

    /// The error for `operation` of the node `arg`, undefined because of
    /// `reason`.
    fn undefined(&self, operation: Operation, arg: Id, reason: Reason) -> GraphError {
        GraphError::Undefined(Undefined {
            operation,
            operand: self.quoted(arg),
            reason,
        })
    }

    /// Why a square matrix singular by its shapes is singular.
    fn singular_reason(&self, id: Id) -> Reason {
        Reason::Singular {
            n: self.dims(id)[0].clone(),
            rank: self.rank_bound(id).unwrap_or(0),
        }
    }

    /// The value of a fill (a column, a matrix or, transposed, a row).
    pub fn fill_value(&self, id: Id) -> Option<&Rational> {
        match self.node(id) {
            Node::Fill(_, v) => Some(v.value()),
            Node::T(inner) => match self.node(*inner) {
                Node::Fill(_, v) => Some(v.value()),
                _ => None,
            },
            _ => None,
        }
    }

    /// True when the node is the number `k` (a negation of one counts).
    pub fn is_number(&self, id: Id, k: i64) -> bool {
        self.num_value(id) == Some(Rational::from_integer(k.into()))
    }

    /// A number; a negative one is the negation of its magnitude.
    pub fn num(&mut self, v: Rational) -> Id {
        if v.is_negative() {
            let pos = self.num(-v);
            return self.intern(Node::Neg(pos), scalar_dims());
        }
        self.intern(Node::Num(Num(v)), scalar_dims())
    }

    /// The integer `k` as a number.
    pub fn int(&mut self, k: i64) -> Id {
        self.num(Rational::from_integer(k.into()))
    }

    /// A variable with its dims.
    pub fn var(&mut self, name: &str, dims: Dims) -> Id {
        self.intern(Node::Var(name.to_string()), dims)
    }

    /// The tangent `dX` of a variable with its dims.
    pub fn tangent(&mut self, name: &str, dims: Dims) -> Id {
        self.intern(Node::Tangent(name.to_string()), dims)
    }

    /// A vector or matrix of ones of the given dims.
    pub fn ones(&mut self, dims: Dims) -> Id {
        self.fill(Rational::one(), dims)
    }

    /// A constant-filled vector or matrix of the given dims.
    pub fn fill(&mut self, value: Rational, dims: Dims) -> Id {
        if value.is_zero() {
            return self.zero(dims);
        }
        if is_scalar(&dims) {
            return self.num(value);
        }
        let kind = if is_one(&dims[1]) || is_one(&dims[0]) {
            FillKind::Vector
        } else {
            FillKind::Matrix
        };
        if is_one(&dims[0]) {
            // A row of ones is the transpose of a column of ones.
            let col = self.fill(value, [dims[1].clone(), DimSpec::Fixed(1)]);
            return self.transpose(col);
        }
        self.intern(Node::Fill(kind, Num(value)), dims)
    }

    /// The identity matrix of size n.
    pub fn eye(&mut self, n: DimSpec) -> Id {
        if is_one(&n) {
            return self.int(1);
        }
        self.intern(Node::Const(ConstKind::Eye), [n.clone(), n])
    }

    /// The value 0 with the given dims.
    pub fn zero(&mut self, dims: Dims) -> Id {
        if is_scalar(&dims) {
            return self.int(0);
        }
        self.intern(Node::Const(ConstKind::Zeros), dims)
    }

    /// True when the node is a zero (scalar 0 or `zeros`).
    pub fn is_zero(&self, id: Id) -> bool {
        matches!(self.node(id), Node::Const(ConstKind::Zeros)) || self.is_number(id, 0)
    }

    /// `-a`, folding double negation and numbers.
    pub fn neg(&mut self, a: Id) -> Id {
        match self.node(a).clone() {
            Node::Neg(inner) => inner,
            Node::Num(n) if n.is(0) => a,
            Node::Const(ConstKind::Zeros) => a,
            // A fill's negation is the fill of the negated value, as it is
            // read back (`-ones(2)` is `vector(-1)`).
            Node::Fill(_, v) => {
                let dims = self.dims(a).clone();
                self.fill(-v.value().clone(), dims)
            }
            _ => {
                let dims = self.dims(a).clone();
                self.intern(Node::Neg(a), dims)
            }
        }
    }

    /// `a'`, folding double transposes and symmetric constants.
    pub fn transpose(&mut self, a: Id) -> Id {
        let dims = self.dims(a).clone();
        if is_scalar(&dims) {
            return a;
        }
        match self.node(a).clone() {
            Node::T(inner) => inner,
            Node::Const(ConstKind::Eye) => a,
            // A Hessian is symmetric.
            Node::Hess(..) => a,
            Node::Call(Func::Diag, v) if !self.is_square_matrix(v) => a,
            Node::Neg(inner) => {
                let t = self.transpose(inner);
                self.neg(t)
            }
            Node::Const(ConstKind::Zeros) => self.zero([dims[1].clone(), dims[0].clone()]),
            // (A' ± B')' = A ± B
            Node::Binary(op @ (BinOp::Add | BinOp::Sub), x, y)
                if matches!(self.node(x), Node::T(_)) && matches!(self.node(y), Node::T(_)) =>
            {
                let (tx, ty) = (self.transpose(x), self.transpose(y));
                self.binary(op, tx, ty)
                    .unwrap_or_else(|_| self.intern(Node::T(a), [dims[1].clone(), dims[0].clone()]))
            }
            _ => self.intern(Node::T(a), [dims[1].clone(), dims[0].clone()]),
        }
    }

    fn is_square_matrix(&self, id: Id) -> bool {
        let d = self.dims(id);
        !is_one(&d[0]) && !is_one(&d[1])
    }

    /// A built-in function of one argument. The matrix functions of a 1×1
    /// value are those of the number (`det(a) = tr(a) = diag(a) = a`,
    /// `inv(a) = 1/a`, `logdet(a) = log(a)`), those of the identity are
    /// folded (`inv(I) = I`, `det(I) = 1`, `logdet(I) = 0`), and the
    /// determinant of a matrix singular by its shapes is 0. A function
    /// undefined at its argument everywhere (`log` of a zero, `inv` or
    /// `logdet` of a singular matrix) is [`GraphError::Undefined`].
    pub fn call(&mut self, func: Func, a: Id) -> Result<Id, GraphError> {
        let s = call_shape(func, &shape(self.dims(a)));
        let dims = [s.rows, s.cols];
        if self.is_scalar(a) {
            match func {
                Func::Tr | Func::Det | Func::Diag => return Ok(a),
                Func::Inv => {
                    let one = self.int(1);
                    return self.binary(BinOp::Div, one, a);
                }
                Func::Logdet => return self.call(Func::Log, a),
                _ => {}
            }
        }
        if let (Func::Inv, Node::Call(Func::Inv, inner)) = (func, self.node(a).clone()) {
            return Ok(inner);
        }
        // The identity: inv(I) = I, det(I) = 1, logdet(I) = 0.
        if matches!(self.node(a), Node::Const(ConstKind::Eye)) {
            match func {
                Func::Inv => return Ok(a),
                Func::Det => return Ok(self.int(1)),
                Func::Logdet => return Ok(self.int(0)),
                _ => {}
            }
        }
        match func {
            Func::Log if self.is_zero(a) => {
                return Err(self.undefined(Operation::Log, a, Reason::Zero))
            }
            Func::Det if self.is_singular(a) => return Ok(self.int(0)),
            Func::Inv | Func::Logdet if self.is_singular(a) => {
                let why = self.singular_reason(a);
                return Err(self.undefined(Operation::Call(func), a, why));
            }
            _ => {}
        }
        // Functions of a zero matrix that are zero: sum, traces, norms, diag,
        // and the element-wise functions with f(0) = 0.
        if self.is_zero(a)
            && matches!(
                func,
                Func::Tr
                    | Func::Sum
                    | Func::Norm1
                    | Func::Norm2
                    | Func::Diag
                    | Func::Sin
                    | Func::Tanh
                    | Func::Tan
                    | Func::Erf
                    | Func::Sqrt
                    | Func::Abs
                    | Func::Sign
                    | Func::Relu
            )
        {
            return Ok(self.zero(dims));
        }
        // Linear functions commute with negation: sum(-A) = -sum(A).
        if let (Func::Tr | Func::Sum | Func::Diag, Node::Neg(inner)) = (func, self.node(a).clone())
        {
            let inner = self.call(func, inner)?;
            return Ok(self.neg(inner));
        }
        Ok(self.intern(Node::Call(func, a), dims))
    }

    /// An abstract scalar function applied to `a`.
    pub fn apply(&mut self, name: &str, a: Id) -> Id {
        self.intern(Node::Apply(name.to_string(), a), scalar_dims())
    }

    /// The gradient of an abstract function at `a` (same dims as `a`).
    pub fn grad(&mut self, name: &str, a: Id) -> Id {
        let dims = self.dims(a).clone();
        self.intern(Node::Grad(name.to_string(), a), dims)
    }

    /// The Hessian of an abstract function at the scalar or column `a`
    /// (n×n for an n×1 `a`).
    pub fn hess(&mut self, name: &str, a: Id) -> Id {
        let n = self.dims(a)[0].clone();
        self.intern(Node::Hess(name.to_string(), a), [n.clone(), n])
    }

    /// The dims of `a op b`, or an error naming both.
    pub fn binary_dims(&self, op: BinOp, a: Id, b: Id) -> Result<Dims, GraphError> {
        let (da, db) = (self.dims(a), self.dims(b));
        match binary_shape(op, &shape(da), &shape(db)) {
            Some(s) => Ok([s.rows, s.cols]),
            None => Err(GraphError::Shape(format!(
                "{} between {}×{} and {}×{}",
                op.symbol(),
                da[0],
                da[1],
                db[0],
                db[1]
            ))),
        }
    }

    /// `a op b` with local normalisation (units, zeros, number folding).
    pub fn binary(&mut self, op: BinOp, a: Id, b: Id) -> Result<Id, GraphError> {
        let dims = self.binary_dims(op, a, b)?;
        let (va, vb) = (self.num_value(a), self.num_value(b));
        if let (Some(x), Some(y)) = (&va, &vb) {
            if let Some(v) = fold(op, x, y) {
                return Ok(self.num(v));
            }
        }
        let same_dims = |g: &Graph, id: Id| g.dims(id) == &dims;
        match op {
            BinOp::Add => {
                if self.is_zero(a) && same_dims(self, b) {
                    return Ok(b);
                }
                if self.is_zero(b) && same_dims(self, a) {
                    return Ok(a);
                }
                if let Node::Neg(inner) = *self.node(b) {
                    return self.binary(BinOp::Sub, a, inner);
                }
            }
            BinOp::Sub => {
                if self.is_zero(b) && same_dims(self, a) {
                    return Ok(a);
                }
                if self.is_zero(a) && same_dims(self, b) {
                    return Ok(self.neg(b));
                }
                if let Node::Neg(inner) = *self.node(b) {
                    return self.binary(BinOp::Add, a, inner);
                }
            }
            BinOp::HadMul if self.is_scalar(a) || self.is_scalar(b) => {
                // A Hadamard product with a scalar is a scaling.
                return self.binary(BinOp::Mul, a, b);
            }
            BinOp::Mul | BinOp::HadMul => {
                let scalar_unit = |v: &Option<Rational>, g: &Graph, id: Id| {
                    v.as_ref().is_some_and(One::is_one) && (op == BinOp::Mul || g.is_scalar(id))
                };
                if scalar_unit(&va, self, a) && same_dims(self, b) {
                    return Ok(b);
                }
                if scalar_unit(&vb, self, b) && same_dims(self, a) {
                    return Ok(a);
                }
                if self.is_zero(a) || self.is_zero(b) {
                    return Ok(self.zero(dims));
                }
                // A number times a fill is the fill of the product, as a
                // negated fill is (`2*ones(2)` is `vector(2)`).
                if op == BinOp::Mul {
                    let (number, other) = if va.is_some() { (&va, b) } else { (&vb, a) };
                    if let (Some(c), Some(v)) = (number, self.fill_value(other)) {
                        return Ok(self.fill(c * v, dims));
                    }
                }
                if self.is_number(a, -1) && same_dims(self, b) {
                    return Ok(self.neg(b));
                }
                if self.is_number(b, -1) && same_dims(self, a) {
                    return Ok(self.neg(a));
                }
                if let Node::Neg(inner) = *self.node(a) {
                    let prod = self.binary(op, inner, b)?;
                    return Ok(self.neg(prod));
                }
                if let Node::Neg(inner) = *self.node(b) {
                    let prod = self.binary(op, a, inner)?;
                    return Ok(self.neg(prod));
                }
                // I*B = B and A*I = A, but s*I is not s.
                if op == BinOp::Mul
                    && matches!(self.node(a), Node::Const(ConstKind::Eye))
                    && same_dims(self, b)
                {
                    return Ok(b);
                }
                if op == BinOp::Mul
                    && matches!(self.node(b), Node::Const(ConstKind::Eye))
                    && same_dims(self, a)
                {
                    return Ok(a);
                }
            }
            BinOp::Div | BinOp::HadDiv => {
                if self.is_zero(b) {
                    return Err(self.undefined(Operation::Division, b, Reason::Zero));
                }
                if matches!(self.node(b), Node::Const(ConstKind::Eye)) {
                    return Err(self.undefined(
                        Operation::ElementwiseDivision,
                        b,
                        Reason::ZeroOffTheDiagonal,
                    ));
                }
                if self.is_number(b, 1) && same_dims(self, a) {
                    return Ok(a);
                }
                if self.is_zero(a) {
                    return Ok(self.zero(dims));
                }
                if let Node::Neg(inner) = *self.node(a) {
                    let q = self.binary(op, inner, b)?;
                    return Ok(self.neg(q));
                }
            }
            BinOp::Pow | BinOp::HadPow => {
                if self.is_number(b, 1) && same_dims(self, a) {
                    return Ok(a);
                }
                // A power of a fill is the fill of the power, where that is
                // a rational (`ones(2).^0.5` is `ones(2)`).
                if let (Some(c), Some(p)) = (self.fill_value(a), &vb) {
                    if let Some(v) = fold(op, c, p) {
                        return Ok(self.fill(v, dims));
                    }
                }
                if self.is_zero(a) && vb.as_ref().is_some_and(Signed::is_positive) {
                    return Ok(self.zero(dims));
                }
                if self.is_zero(a) && vb.as_ref().is_some_and(Signed::is_negative) {
                    return Err(self.undefined(Operation::NegativePower, a, Reason::Zero));
                }
                if vb.as_ref().is_some_and(Zero::is_zero) {
                    return Ok(self.ones(dims));
                }
            }
        }
        Ok(self.intern(Node::Binary(op, a, b), dims))
    }

    /// Sum of several nodes (all of one shape); `None` when the list is empty.
    pub fn sum_all(&mut self, items: &[Id]) -> Result<Option<Id>, GraphError> {
        let mut acc: Option<Id> = None;
        for &item in items {
            acc = Some(match acc {
                None => item,
                Some(prev) => self.binary(BinOp::Add, prev, item)?,
            });
        }
        Ok(acc)
    }

    /// Imports a shape-checked expression. `var_dims` gives each variable's
    /// dims; `fill` sizes must be resolved.
    pub fn import(
        &mut self,
        expr: &Expr,
        var_dims: &dyn Fn(&str) -> Option<Dims>,
        bare_gradient: &dyn Fn(&str) -> Option<Expr>,
    ) -> Result<Id, GraphError> {
        let unsupported = |what: &'static str| Err(GraphError::NotDifferentiable { what });
        match &expr.kind {
            ExprKind::Num(v) => {
                let exact = decimal_of_f64(*v).ok_or(GraphError::NotFinite)?;
                Ok(self.num(exact))
            }
            ExprKind::Var(name) => {
                let dims = var_dims(name)
                    .ok_or_else(|| GraphError::UnknownShape { name: name.clone() })?;
                Ok(self.var(name, dims))
            }
            ExprKind::Neg(a) => {
                let a = self.import(a, var_dims, bare_gradient)?;
                Ok(self.neg(a))
            }
            ExprKind::Binary(op, a, b) => {
                let a = self.import(a, var_dims, bare_gradient)?;
                let b = self.import(b, var_dims, bare_gradient)?;
                self.binary(*op, a, b)
            }
            ExprKind::Transpose(a) => {
                let a = self.import(a, var_dims, bare_gradient)?;
                Ok(self.transpose(a))
            }
            ExprKind::Call(func, a) => {
                let a = self.import(a, var_dims, bare_gradient)?;
                self.call(*func, a)
            }
            ExprKind::Fill { value, size, .. } => {
                let size = size.clone().ok_or(GraphError::UnsizedFill)?;
                // A number (`vector(-1)`) fills directly; any other scalar
                // value `c` is `c` times a fill of ones.
                let value = self.import(value, var_dims, bare_gradient)?;
                match self.num_value(value) {
                    Some(v) => Ok(self.fill(v, size)),
                    None => {
                        let ones = self.ones(size);
                        self.binary(BinOp::Mul, value, ones)
                    }
                }
            }
            ExprKind::Const(kind, dims) => {
                let rows = dims[0].clone();
                let cols = match kind {
                    ConstKind::Eye => rows.clone(),
                    _ => dims.get(1).cloned().unwrap_or(DimSpec::Fixed(1)),
                };
                Ok(match kind {
                    ConstKind::Eye => self.eye(rows),
                    ConstKind::Ones => self.ones([rows, cols]),
                    ConstKind::Zeros => self.zero([rows, cols]),
                })
            }
            ExprKind::Apply(name, args) => match args.as_slice() {
                [arg] => {
                    let a = self.import(arg, var_dims, bare_gradient)?;
                    Ok(self.apply(name, a))
                }
                _ => Err(GraphError::Arity { name: name.clone() }),
            },
            ExprKind::Grad(name, args) | ExprKind::Hess(name, args) => {
                let arg = match args.as_slice() {
                    [arg] => arg.clone(),
                    [] => bare_gradient(name)
                        .ok_or_else(|| GraphError::AmbiguousGradient { name: name.clone() })?,
                    _ => return unsupported("a derivative with several arguments"),
                };
                let a = self.import(&arg, var_dims, bare_gradient)?;
                Ok(match expr.kind {
                    ExprKind::Hess(..) => self.hess(name, a),
                    _ => self.grad(name, a),
                })
            }
            ExprKind::Index(..) | ExprKind::Delta(..) | ExprKind::IndexSum(..) => {
                unsupported("index notation")
            }
            // Shape checking writes every size out as a number.
            ExprKind::Size(..) => unsupported("size(…) before shape checking"),
        }
    }

    /// Ids reachable from `roots`, children before parents (iterative, so
    /// deep graphs do not overflow the stack).
    pub fn topological(&self, roots: &[Id]) -> Vec<Id> {
        let mut order = Vec::new();
        let mut seen = vec![false; self.nodes.len()];
        let mut stack: Vec<(Id, bool)> = roots.iter().rev().map(|&r| (r, false)).collect();
        while let Some((id, expanded)) = stack.pop() {
            if expanded {
                order.push(id);
                continue;
            }
            if seen[id.index()] {
                continue;
            }
            seen[id.index()] = true;
            stack.push((id, true));
            for child in self.node(id).children().into_iter().rev() {
                if !seen[child.index()] {
                    stack.push((child, false));
                }
            }
        }
        order
    }

    /// The number of nodes of `root` written out as a tree, with shared
    /// subterms repeated (saturating, so an exponential tree cannot overflow).
    pub fn tree_size(&self, root: Id) -> usize {
        let mut size = vec![0usize; self.nodes.len()];
        for id in self.topological(&[root]) {
            size[id.index()] = self
                .node(id)
                .children()
                .iter()
                .fold(1usize, |n, c| n.saturating_add(size[c.index()]));
        }
        size[root.index()]
    }

    /// For every node reachable from `roots`: does it depend on a node for
    /// which `leaf` is true?
    pub fn depends_on(&self, roots: &[Id], leaf: &dyn Fn(&Node) -> bool) -> Vec<bool> {
        let mut flags = vec![false; self.nodes.len()];
        for id in self.topological(roots) {
            let node = self.node(id);
            flags[id.index()] = leaf(node) || node.children().iter().any(|c| flags[c.index()]);
        }
        flags
    }
}

fn shape(d: &Dims) -> Shape {
    Shape::matrix(d[0].clone(), d[1].clone())
}

/// Largest exponent folded into a number (`2^64` is, `2^1000` stays).
const MAX_FOLDED_EXPONENT: u64 = 64;

/// `x op y` exactly, where the result is a rational: every sum, difference,
/// product and quotient by a non-zero; a power by an integer up to
/// [`MAX_FOLDED_EXPONENT`] in magnitude (of a non-zero base when negative)
/// or by ½ of a perfect square (`(9/4)^0.5 = 3/2`).
fn fold(op: BinOp, x: &Rational, y: &Rational) -> Option<Rational> {
    match op {
        BinOp::Add => Some(x + y),
        BinOp::Sub => Some(x - y),
        BinOp::Mul | BinOp::HadMul => Some(x * y),
        BinOp::Div | BinOp::HadDiv if !y.is_zero() => Some(x / y),
        BinOp::Pow | BinOp::HadPow if y.is_integer() => {
            let k = y.to_integer().abs().to_u64()?;
            if k > MAX_FOLDED_EXPONENT || (x.is_zero() && y.is_negative()) {
                return None;
            }
            let power = num_traits::pow(x.clone(), k as usize);
            Some(if y.is_negative() {
                power.recip()
            } else {
                power
            })
        }
        BinOp::Pow | BinOp::HadPow if *y == Rational::new(1.into(), 2.into()) => exact_sqrt(x),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(n: &str) -> DimSpec {
        DimSpec::Named(n.to_string())
    }

    #[test]
    fn rank_bounds_are_read_off_the_shapes() {
        let mut g = Graph::new();
        let n = named("n");
        let col = |g: &mut Graph, name: &str| g.var(name, [named("n"), DimSpec::Fixed(1)]);
        let (x, y) = (col(&mut g, "x"), col(&mut g, "y"));
        let yt = g.transpose(y);
        let outer = g.binary(BinOp::Mul, x, yt).unwrap();
        assert_eq!(g.rank_bound(outer), Some(1));
        assert!(g.is_singular(outer), "x*y' is n×n of rank 1");
        let twice = g.binary(BinOp::Add, outer, outer).unwrap();
        assert_eq!(g.rank_bound(twice), Some(2));
        assert!(!g.is_singular(twice), "n may be 2");
        let m = g.var("X", [n.clone(), n.clone()]);
        assert_eq!(g.rank_bound(m), None);
        assert!(!g.is_singular(m));
        let a = g.var("A", [DimSpec::Fixed(3), DimSpec::Fixed(2)]);
        let b = g.var("B", [DimSpec::Fixed(2), DimSpec::Fixed(3)]);
        let ab = g.binary(BinOp::Mul, a, b).unwrap();
        assert_eq!(g.rank_bound(ab), Some(2));
        assert!(g.is_singular(ab));
        let hadamard = g.binary(BinOp::HadMul, outer, m).unwrap();
        assert_eq!(g.rank_bound(hadamard), None);
        let squared = g.binary(BinOp::HadMul, outer, outer).unwrap();
        assert_eq!(g.rank_bound(squared), Some(1));
        assert_eq!(g.call(Func::Det, outer), Ok(g.int(0)));
        assert!(matches!(
            g.call(Func::Inv, ab),
            Err(GraphError::Undefined(_))
        ));
        assert!(g.call(Func::Inv, m).is_ok());
    }
}
