//! The program to emit: every distinct subexpression of the outputs once.
//!
//! The value and the derivatives are syntax trees that repeat shared
//! subterms (a forward value reappears in every reverse step that uses it).
//! [`Program::add`] interns them bottom-up into one DAG, so that equal
//! subtrees, within one output or across outputs, become one node; emitted
//! in id order (children first), each node is computed once and the code
//! grows with the number of distinct nodes, not with the printed size.
//!
//! Every node has a [`Ty`]: a matrix of known dims (scalars 1×1, vectors
//! n×1 or 1×n), or, inside an index form, a scalar per entry of its free
//! indices (one labelled axis per index).

use std::collections::{BTreeMap, HashMap};

use super::CodegenError;
use crate::shape::{binary_shape, call_shape, Dim, Shape};
use crate::syntax::{BinOp, ConstKind, Expr, ExprKind, Func};

/// A node's position in its [`Program`].
pub(super) type NodeId = usize;

/// What a node computes from its children.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) enum Op {
    /// A number, by its bits.
    Num(u64),
    /// A variable of the expression.
    Var(String),
    /// The value of an abstract function at its child.
    Apply(String),
    /// The gradient of an abstract function at its child.
    Gradient(String),
    /// The Hessian of an abstract function at its (scalar or column) child.
    Hessian(String),
    /// Negation.
    Neg,
    /// A binary operation.
    Binary(BinOp),
    /// Transpose.
    Transpose,
    /// A built-in function.
    Call(Func),
    /// A constant-filled array (its child is the constant, its dims the ty).
    Fill,
    /// `eye`, `ones`, `zeros` of the node's dims.
    Const(ConstKind),
    /// The entries of the child matrix, indexed as written.
    Index(Vec<String>),
    /// The Kronecker delta of the node's two labels.
    Delta,
    /// The child summed over these indices.
    Sum(Vec<String>),
}

/// The type of a node's value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) enum Ty {
    /// A matrix: rows and columns.
    Matrix(Dim, Dim),
    /// A scalar for each entry of these indices (with their ranges), in
    /// the order of the array's axes.
    Entries(Vec<(String, Dim)>),
}

impl Ty {
    /// True for a 1×1 matrix or an index-free entry.
    pub(super) fn is_scalar(&self) -> bool {
        match self {
            Ty::Matrix(r, c) => is_one(r) && is_one(c),
            Ty::Entries(labels) => labels.is_empty(),
        }
    }

    /// The labels of an index-form value (none for a matrix).
    pub(super) fn labels(&self) -> Vec<String> {
        match self {
            Ty::Matrix(..) => Vec::new(),
            Ty::Entries(labels) => labels.iter().map(|(l, _)| l.clone()).collect(),
        }
    }
}

/// True when the dimension is the literal 1.
pub(super) fn is_one(d: &Dim) -> bool {
    *d == Dim::Fixed(1)
}

/// One node: its operation, children and type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct Node {
    /// The operation.
    pub(super) op: Op,
    /// The children, in order.
    pub(super) kids: Vec<NodeId>,
    /// The value's type.
    pub(super) ty: Ty,
}

/// What the names in an expression stand for.
pub(super) struct Scope<'a> {
    /// Every variable's shape.
    pub(super) vars: &'a BTreeMap<String, Shape>,
    /// The shape of each abstract function's gradient.
    pub(super) gradients: &'a BTreeMap<String, Shape>,
    /// The argument at which a bare `dL` is taken, by function name.
    pub(super) arguments: &'a BTreeMap<String, Expr>,
    /// The range of every index of an index form.
    pub(super) index_dims: &'a BTreeMap<String, Dim>,
    /// The nodes of the named intermediates of a listing, by name (a name
    /// here stands for its node, before any variable).
    pub(super) bound: &'a BTreeMap<String, NodeId>,
}

/// The hash-consed DAG of all outputs.
#[derive(Clone, Debug, Default)]
pub(super) struct Program {
    nodes: Vec<Node>,
    ids: HashMap<Node, NodeId>,
}

fn unsupported(what: &str, why: impl Into<String>) -> CodegenError {
    CodegenError::Unsupported {
        what: what.to_string(),
        why: why.into(),
    }
}

impl Program {
    /// An empty program.
    pub(super) fn new() -> Program {
        Program::default()
    }

    /// The node behind an id.
    pub(super) fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }

    /// Number of distinct nodes.
    pub(super) fn len(&self) -> usize {
        self.nodes.len()
    }

    fn intern(&mut self, op: Op, kids: Vec<NodeId>, ty: Ty) -> NodeId {
        let node = Node { op, kids, ty };
        if let Some(&id) = self.ids.get(&node) {
            return id;
        }
        let id = self.nodes.len();
        self.nodes.push(node.clone());
        self.ids.insert(node, id);
        id
    }

    fn ty(&self, id: NodeId) -> &Ty {
        &self.nodes[id].ty
    }

    /// Adds `e` (and every subexpression) and returns its node.
    pub(super) fn add(&mut self, e: &Expr, scope: &Scope<'_>) -> Result<NodeId, CodegenError> {
        let text = || crate::syntax::expr_to_string(e);
        match &e.kind {
            ExprKind::Num(v) => Ok(self.intern(
                Op::Num(v.to_bits()),
                Vec::new(),
                Ty::Matrix(Dim::Fixed(1), Dim::Fixed(1)),
            )),
            ExprKind::Var(name) if scope.bound.contains_key(name) => Ok(scope.bound[name]),
            ExprKind::Var(name) => {
                let s = scope
                    .vars
                    .get(name)
                    .ok_or_else(|| unsupported(&text(), "the variable has no known shape"))?;
                Ok(self.intern(Op::Var(name.clone()), Vec::new(), matrix(s)))
            }
            ExprKind::Neg(a) => self.unary(Op::Neg, a, scope, |t| Ok(t.clone())),
            ExprKind::Transpose(a) => self.unary(Op::Transpose, a, scope, |t| {
                Ok(match t {
                    Ty::Matrix(r, c) => Ty::Matrix(c.clone(), r.clone()),
                    entries => entries.clone(),
                })
            }),
            ExprKind::Call(func, a) => self.unary(Op::Call(*func), a, scope, |t| match t {
                Ty::Matrix(r, c) => Ok(matrix(&call_shape(
                    *func,
                    &Shape::matrix(r.clone(), c.clone()),
                ))),
                entries if func.is_elementwise() => Ok(entries.clone()),
                _ => Err(unsupported(
                    &text(),
                    format!("`{}` of an index-notation entry", func.name()),
                )),
            }),
            ExprKind::Binary(BinOp::Pow, base, exponent) => {
                let k = crate::syntax::integer_exponent(exponent);
                let a = self.add(base, scope)?;
                match k {
                    // A matrix power is its product of factors (MATLAB's
                    // meaning, as the parser reads it); each product is one
                    // node, so the factors are computed once.
                    Some(k) if k != 0 && !self.ty(a).is_scalar() => {
                        self.add(&crate::syntax::matrix_power(base, k, e.span), scope)
                    }
                    _ => {
                        let b = self.add(exponent, scope)?;
                        self.binary(BinOp::Pow, a, b)
                            .map_err(|why| unsupported(&text(), why))
                    }
                }
            }
            ExprKind::Binary(op, a, b) => {
                let (a, b) = (self.add(a, scope)?, self.add(b, scope)?);
                match op {
                    BinOp::Mul => self.product(a, b),
                    _ => self.binary(*op, a, b),
                }
                .map_err(|why| unsupported(&text(), why))
            }
            ExprKind::Fill { value, size, .. } => {
                let [r, c] = size
                    .clone()
                    .ok_or_else(|| unsupported(&text(), "the size of the fill is not known"))?;
                let v = self.add(value, scope)?;
                if !self.ty(v).is_scalar() {
                    return Err(unsupported(&text(), "a fill needs a scalar constant"));
                }
                Ok(self.intern(Op::Fill, vec![v], Ty::Matrix(r, c)))
            }
            ExprKind::Const(kind, dims) => {
                let r = dims
                    .first()
                    .cloned()
                    .ok_or_else(|| unsupported(&text(), "a constant without a size"))?;
                let c = match kind {
                    ConstKind::Eye => r.clone(),
                    _ => dims.get(1).cloned().unwrap_or(Dim::Fixed(1)),
                };
                Ok(self.intern(Op::Const(*kind), Vec::new(), Ty::Matrix(r, c)))
            }
            ExprKind::Apply(name, args) => {
                let [arg] = args.as_slice() else {
                    return Err(unsupported(
                        &text(),
                        "an abstract function of several arguments",
                    ));
                };
                let a = self.matrix_operand(arg, scope, &text)?;
                Ok(self.intern(
                    Op::Apply(name.clone()),
                    vec![a],
                    Ty::Matrix(Dim::Fixed(1), Dim::Fixed(1)),
                ))
            }
            ExprKind::Grad(name, args) | ExprKind::Hess(name, args) => {
                let arg = match args.as_slice() {
                    [] => scope.arguments.get(name).ok_or_else(|| {
                        unsupported(&text(), format!("the argument of `{name}` is not known"))
                    })?,
                    [arg] => arg,
                    _ => {
                        return Err(unsupported(
                            &text(),
                            "the gradient of a function of several arguments",
                        ))
                    }
                };
                let a = self.matrix_operand(arg, scope, &text)?;
                let ty = match (args.is_empty(), scope.gradients.get(name)) {
                    (true, Some(s)) => matrix(s),
                    _ => self.ty(a).clone(),
                };
                if let ExprKind::Hess(..) = e.kind {
                    // n×n at an n-vector (or 1×1 at a scalar).
                    let Ty::Matrix(n, _) = ty else {
                        return Err(unsupported(&text(), "the Hessian at an indexed argument"));
                    };
                    let square = Ty::Matrix(n.clone(), n);
                    return Ok(self.intern(Op::Hessian(name.clone()), vec![a], square));
                }
                Ok(self.intern(Op::Gradient(name.clone()), vec![a], ty))
            }
            ExprKind::Index(base, ixs) => {
                let b = self.matrix_operand(base, scope, &text)?;
                let Ty::Matrix(r, c) = self.ty(b).clone() else {
                    unreachable!("matrix_operand returns matrices")
                };
                let axes: Vec<Dim> = [r, c].into_iter().filter(|d| !is_one(d)).collect();
                if axes.len() != ixs.len() {
                    return Err(unsupported(
                        &text(),
                        format!(
                            "{} indices on a value with {} non-unit dimensions",
                            ixs.len(),
                            axes.len()
                        ),
                    ));
                }
                let mut labels: Vec<(String, Dim)> = Vec::new();
                for (ix, d) in ixs.iter().zip(axes) {
                    match labels.iter().find(|(l, _)| l == ix) {
                        Some((_, seen)) if *seen != d => {
                            return Err(unsupported(
                                &text(),
                                format!("index `{ix}` runs over two different ranges"),
                            ))
                        }
                        Some(_) => {}
                        None => labels.push((ix.clone(), d)),
                    }
                }
                Ok(self.intern(Op::Index(ixs.clone()), vec![b], Ty::Entries(labels)))
            }
            // Shape checking writes every size out as a number.
            ExprKind::Size(..) => Err(unsupported(&text(), "size(…) before shape checking")),
            ExprKind::Delta(i, j) => {
                let range = |ix: &String| {
                    scope.index_dims.get(ix).cloned().ok_or_else(|| {
                        unsupported(&text(), format!("the range of index `{ix}` is not known"))
                    })
                };
                let mut labels = vec![(i.clone(), range(i)?)];
                if i != j {
                    labels.push((j.clone(), range(j)?));
                }
                Ok(self.intern(Op::Delta, Vec::new(), Ty::Entries(labels)))
            }
            ExprKind::IndexSum(ixs, body) => {
                let b = self.add(body, scope)?;
                let Ty::Entries(labels) = self.ty(b).clone() else {
                    return Err(unsupported(&text(), "a sum over a value without indices"));
                };
                if let Some(ix) = ixs.iter().find(|ix| !labels.iter().any(|(l, _)| l == *ix)) {
                    return Err(unsupported(
                        &text(),
                        format!("the summed index `{ix}` does not occur in the sum"),
                    ));
                }
                let kept = labels.into_iter().filter(|(l, _)| !ixs.contains(l));
                Ok(self.intern(Op::Sum(ixs.clone()), vec![b], Ty::Entries(kept.collect())))
            }
        }
    }

    fn unary(
        &mut self,
        op: Op,
        a: &Expr,
        scope: &Scope<'_>,
        ty: impl FnOnce(&Ty) -> Result<Ty, CodegenError>,
    ) -> Result<NodeId, CodegenError> {
        let a = self.add(a, scope)?;
        let ty = ty(self.ty(a))?;
        Ok(self.intern(op, vec![a], ty))
    }

    /// Adds an operand that must be a matrix (no free indices).
    fn matrix_operand(
        &mut self,
        e: &Expr,
        scope: &Scope<'_>,
        text: &dyn Fn() -> String,
    ) -> Result<NodeId, CodegenError> {
        let id = self.add(e, scope)?;
        match self.ty(id) {
            Ty::Matrix(..) => Ok(id),
            Ty::Entries(_) => Err(unsupported(
                &text(),
                "an index-notation entry where a matrix is needed",
            )),
        }
    }

    fn binary(&mut self, op: BinOp, a: NodeId, b: NodeId) -> Result<NodeId, String> {
        let ty = self.binary_ty(op, a, b)?;
        Ok(self.intern(Op::Binary(op), vec![a, b], ty))
    }

    fn transpose(&mut self, a: NodeId) -> NodeId {
        match (&self.nodes[a].op, self.ty(a).clone()) {
            (Op::Transpose, _) => self.nodes[a].kids[0],
            (_, Ty::Matrix(r, c)) => self.intern(Op::Transpose, vec![a], Ty::Matrix(c, r)),
            (_, entries) => self.intern(Op::Transpose, vec![a], entries),
        }
    }

    /// The vector `v` of a node `diag(v)` that builds a diagonal matrix.
    fn diagonal_of(&self, id: NodeId) -> Option<NodeId> {
        let node = &self.nodes[id];
        let v = *node.kids.first()?;
        match (&node.op, self.ty(v)) {
            (Op::Call(Func::Diag), Ty::Matrix(r, c)) if is_one(r) != is_one(c) => Some(v),
            _ => None,
        }
    }

    /// `v` as a row.
    fn row(&mut self, v: NodeId) -> NodeId {
        match self.ty(v) {
            Ty::Matrix(r, _) if is_one(r) => v,
            _ => self.transpose(v),
        }
    }

    /// The matrix sum or difference `P ± Q` behind a node, when both terms
    /// have the sum's own type (no broadcasting).
    fn matrix_sum(&self, id: NodeId) -> Option<(BinOp, NodeId, NodeId)> {
        let node = &self.nodes[id];
        match node.op {
            Op::Binary(op @ (BinOp::Add | BinOp::Sub))
                if node.kids.iter().all(|&k| self.nodes[k].ty == node.ty) =>
            {
                Some((op, node.kids[0], node.kids[1]))
            }
            _ => None,
        }
    }

    /// The matrix product `a*b`, computed the same but cheaper where a
    /// factor allows: `M*diag(v)` scales the columns of M (`M .* v'`) and
    /// `diag(v)*M` its rows, without the n×n diagonal matrix; `(P ± Q)*v`
    /// with a vector v is `P*v ± Q*v` (and `v'*(P ± Q)` likewise), two
    /// matrix-vector products instead of a matrix sum and one.
    fn product(&mut self, a: NodeId, b: NodeId) -> Result<NodeId, String> {
        let (ta, tb) = (self.ty(a).clone(), self.ty(b).clone());
        let matrices = matches!((&ta, &tb), (Ty::Matrix(..), Ty::Matrix(..)));
        if !matrices || ta.is_scalar() || tb.is_scalar() {
            return self.binary(BinOp::Mul, a, b);
        }
        if let Some(v) = self.diagonal_of(b) {
            let row = self.row(v);
            return self.binary(BinOp::HadMul, a, row);
        }
        if let Some(v) = self.diagonal_of(a) {
            let (bt, row) = (self.transpose(b), self.row(v));
            let scaled = self.binary(BinOp::HadMul, bt, row)?;
            return Ok(self.transpose(scaled));
        }
        let column = |t: &Ty| matches!(t, Ty::Matrix(_, c) if is_one(c));
        let row = |t: &Ty| matches!(t, Ty::Matrix(r, _) if is_one(r));
        if column(&tb) && !column(&ta) {
            if let Some((op, p, q)) = self.matrix_sum(a) {
                let (pv, qv) = (self.product(p, b)?, self.product(q, b)?);
                return self.binary(op, pv, qv);
            }
        }
        if row(&ta) && !row(&tb) {
            if let Some((op, p, q)) = self.matrix_sum(b) {
                let (vp, vq) = (self.product(a, p)?, self.product(a, q)?);
                return self.binary(op, vp, vq);
            }
        }
        self.binary(BinOp::Mul, a, b)
    }

    fn binary_ty(&self, op: BinOp, a: NodeId, b: NodeId) -> Result<Ty, String> {
        match (self.ty(a), self.ty(b)) {
            (Ty::Matrix(ra, ca), Ty::Matrix(rb, cb)) => binary_shape(
                op,
                &Shape::matrix(ra.clone(), ca.clone()),
                &Shape::matrix(rb.clone(), cb.clone()),
            )
            .map(|s| matrix(&s))
            .ok_or_else(|| "the operand shapes do not fit".to_string()),
            (ta, tb) => {
                if !matches!(ta, Ty::Entries(_)) && !ta.is_scalar()
                    || !matches!(tb, Ty::Entries(_)) && !tb.is_scalar()
                {
                    return Err("a matrix where an index-notation entry is needed".into());
                }
                let mut labels = match ta {
                    Ty::Entries(l) => l.clone(),
                    Ty::Matrix(..) => Vec::new(),
                };
                if let Ty::Entries(more) = tb {
                    for (l, d) in more {
                        match labels.iter().find(|(m, _)| m == l) {
                            Some((_, seen)) if seen != d => {
                                return Err(format!("index `{l}` runs over two different ranges"))
                            }
                            Some(_) => {}
                            None => labels.push((l.clone(), d.clone())),
                        }
                    }
                }
                Ok(Ty::Entries(labels))
            }
        }
    }
}

fn matrix(s: &Shape) -> Ty {
    Ty::Matrix(s.rows.clone(), s.cols.clone())
}

/// How often each node is used by the nodes reachable from `roots` (a root
/// counts once more), and which nodes are reachable.
pub(super) fn uses(program: &Program, roots: &[NodeId]) -> Vec<usize> {
    let mut uses = vec![0usize; program.len()];
    let mut reachable = vec![false; program.len()];
    let mut stack: Vec<NodeId> = roots.to_vec();
    for &r in roots {
        uses[r] += 1;
    }
    while let Some(id) = stack.pop() {
        if reachable[id] {
            continue;
        }
        reachable[id] = true;
        for &k in &program.node(id).kids {
            uses[k] += 1;
            stack.push(k);
        }
    }
    uses
}
