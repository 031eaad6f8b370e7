//! Random, well-shaped expressions of the matcalc syntax, as proptest
//! strategies. Used by the printer round trip and, later, by derivation and
//! numeric tests.
//!
//! # API
//!
//! - [`Shape`]: `Scalar`, `Col(n)` (an n×1 vector), `Row(n)` (1×n, only as
//!   `x'` or a product) or `Mat(r, c)` with `r, c ≥ 2`.
//! - [`shape()`]: a random target shape, sizes 2–5.
//! - [`expr_of(shape, depth)`](expr_of): an [`Expr`] of exactly that shape,
//!   at most `depth` operators deep. It is *typed*: a matrix product picks an
//!   inner size and builds both factors to fit, element-wise operations
//!   build operands of the target shape or broadcast a scalar or a row `b'`
//!   against a matrix, and so on. It covers every built-in function of the
//!   corpus table, `'`, `.^` with constant exponents, scalars, `L(E)`,
//!   `dL(E)`, `vector(1)` where its size is inferable (`M*vector(1)`,
//!   `vector(1)'*M`, element-wise beside a sized operand), `matrix(c)`,
//!   `eye(n)`, `ones`, `zeros`. Bare `dL` is not generated: its meaning
//!   depends on the single `L(…)` of the differentiated expression.
//!   Classes that once broke the engine are drawn on purpose: the matrix
//!   functions `det`, `logdet`, `inv`, `tr`, `diag` of 1×1 arguments
//!   (`det(s)`, `inv(a'*a1)`), negative fill values (`vector(-1)`,
//!   `matrix(-2.5)`), and products singular by their shapes (`a*a1'`, an
//!   n×k times k×n product with k < n) under `det`, `logdet` and `inv`.
//! - [`generated(depth)`](generated) / [`generated_of`]: the expression
//!   together with its shape and the variables it uses, as a [`Generated`];
//!   [`Generated::decls`] gives the `--let` string (`A: 2x2, a: 2, s: scalar`),
//!   [`Generated::declarations`] the parsed [`Decls`] and [`Generated::text`]
//!   the input syntax.
//! - [`index_formula()`]: a simple, well-formed index-notation formula
//!   `G[i,j] = …` (Einstein convention: each dummy index occurs exactly twice
//!   in its product (dummies are named `p q r m`, suffixed by the term number) or is bound by `sum[…]`), as a [`GeneratedIndex`].
//!
//! Variable names encode their shape ([`var_name`], [`var_shape`]), so the
//! same name always has the same shape: a matrix r×c is a capital letter
//! (from `ABCDEFGHJKMNPQRS`, never `L` or `I`), possibly followed by `1` or
//! `2`; a vector of length 2–5 is `a`, `b`, `c` or `v` with the same
//! suffixes; a scalar is `s`, `t` or `u`. Every name re-parses as itself
//! without declarations.
//!
//! Expressions are well-shaped, not well-conditioned: `log` of a negative
//! entry or a singular `inv` can occur, so numeric tests must pick domains
//! or skip non-finite samples.

use std::collections::BTreeMap;

use matcalc::syntax::{
    expr_to_string, BinOp, ConstKind, Decls, DimSpec, Expr, ExprKind, FillKind, Formula, Func,
    IndexLhs, Span,
};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::Union;

/// The shape of a value: scalars are 1×1, vectors are columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Shape {
    /// 1×1.
    Scalar,
    /// n×1, n ≥ 2.
    Col(usize),
    /// 1×n, n ≥ 2.
    Row(usize),
    /// r×c, both ≥ 2.
    Mat(usize, usize),
}

impl Shape {
    /// The shape of an r×c value (1×1 is a scalar, n×1 a column, 1×n a row).
    pub fn from_dims(rows: usize, cols: usize) -> Shape {
        match (rows, cols) {
            (1, 1) => Shape::Scalar,
            (n, 1) => Shape::Col(n),
            (1, n) => Shape::Row(n),
            (r, c) => Shape::Mat(r, c),
        }
    }

    /// Number of rows.
    pub fn rows(self) -> usize {
        match self {
            Shape::Scalar | Shape::Row(_) => 1,
            Shape::Col(n) => n,
            Shape::Mat(r, _) => r,
        }
    }

    /// Number of columns.
    pub fn cols(self) -> usize {
        match self {
            Shape::Scalar | Shape::Col(_) => 1,
            Shape::Row(n) => n,
            Shape::Mat(_, c) => c,
        }
    }

    /// The shape of the transpose.
    pub fn transposed(self) -> Shape {
        Shape::from_dims(self.cols(), self.rows())
    }

    /// The shape as written in a declaration (`scalar`, `4`, `3x4`); `None`
    /// for a row, which cannot be declared.
    pub fn decl(self) -> Option<String> {
        match self {
            Shape::Scalar => Some("scalar".to_string()),
            Shape::Col(n) => Some(n.to_string()),
            Shape::Row(_) => None,
            Shape::Mat(r, c) => Some(format!("{r}x{c}")),
        }
    }
}

const MATRIX_LETTERS: &str = "ABCDEFGHJKMNPQRS";
const VECTOR_LETTERS: &str = "abcv";
const SCALAR_NAMES: [&str; 3] = ["s", "t", "u"];
const SUFFIXES: [&str; 3] = ["", "1", "2"];
/// Sizes used for every dimension.
pub const SIZES: std::ops::RangeInclusive<usize> = 2..=5;

/// The name of variable number `variant` (0–2) of a declarable shape.
///
/// Panics for a row or a size outside [`SIZES`]: a generator bug.
pub fn var_name(shape: Shape, variant: usize) -> String {
    let pick = |letters: &str, at: usize| letters.chars().nth(at).expect("size within SIZES");
    match shape {
        Shape::Scalar => SCALAR_NAMES[variant].to_string(),
        Shape::Col(n) => format!("{}{}", pick(VECTOR_LETTERS, n - 2), SUFFIXES[variant]),
        Shape::Mat(r, c) => format!(
            "{}{}",
            pick(MATRIX_LETTERS, (r - 2) * 4 + (c - 2)),
            SUFFIXES[variant]
        ),
        Shape::Row(_) => panic!("a row cannot be a variable"),
    }
}

/// The shape of a variable named by [`var_name`].
pub fn var_shape(name: &str) -> Option<Shape> {
    if SCALAR_NAMES.contains(&name) {
        return Some(Shape::Scalar);
    }
    let mut chars = name.chars();
    let letter = chars.next()?;
    if !SUFFIXES.contains(&chars.as_str()) {
        return None;
    }
    if let Some(at) = MATRIX_LETTERS.find(letter) {
        return Some(Shape::Mat(at / 4 + 2, at % 4 + 2));
    }
    VECTOR_LETTERS.find(letter).map(|at| Shape::Col(at + 2))
}

/// The variables used in `expr` (including inside indexing), by name.
pub fn vars_of(expr: &Expr) -> BTreeMap<String, Shape> {
    fn walk(e: &Expr, out: &mut BTreeMap<String, Shape>) {
        if let ExprKind::Var(name) = &e.kind {
            let shape = var_shape(name).unwrap_or_else(|| panic!("`{name}` is not generated"));
            out.insert(name.clone(), shape);
        }
        for child in e.children() {
            walk(child, out);
        }
    }
    let mut out = BTreeMap::new();
    walk(expr, &mut out);
    out
}

/// The `--let` string declaring `vars`: `A: 2x2, a: 2, s: scalar`.
pub fn decls_string(vars: &BTreeMap<String, Shape>) -> String {
    vars.iter()
        .map(|(name, shape)| {
            format!(
                "{name}: {}",
                shape.decl().expect("variables are declarable")
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `vars` as parsed declarations.
pub fn declarations(vars: &BTreeMap<String, Shape>) -> Decls {
    let mut decls = Decls::new();
    if !vars.is_empty() {
        decls
            .extend_from_str(&decls_string(vars))
            .expect("generated declarations parse");
    }
    decls
}

/// A generated expression with its shape and variables.
#[derive(Clone, Debug)]
pub struct Generated {
    /// The expression.
    pub expr: Expr,
    /// Its shape.
    pub shape: Shape,
    /// Every variable it uses, with its shape.
    pub vars: BTreeMap<String, Shape>,
}

impl Generated {
    /// Wraps an expression of a known shape.
    pub fn new(expr: Expr, shape: Shape) -> Generated {
        let vars = vars_of(&expr);
        Generated { expr, shape, vars }
    }

    /// The `--let` declarations of its variables (empty when it has none).
    pub fn decls(&self) -> String {
        decls_string(&self.vars)
    }

    /// Its variables as parsed declarations.
    pub fn declarations(&self) -> Decls {
        declarations(&self.vars)
    }

    /// The expression in the input syntax.
    pub fn text(&self) -> String {
        expr_to_string(&self.expr)
    }
}

/// A generated index-notation formula and its variables.
#[derive(Clone, Debug)]
pub struct GeneratedIndex {
    /// `G[i,…] = body`.
    pub formula: Formula,
    /// Every variable it uses, with its shape.
    pub vars: BTreeMap<String, Shape>,
}

impl GeneratedIndex {
    /// The `--let` declarations of its variables (empty when it has none).
    pub fn decls(&self) -> String {
        decls_string(&self.vars)
    }

    /// Its variables as parsed declarations.
    pub fn declarations(&self) -> Decls {
        declarations(&self.vars)
    }
}

type Gen = BoxedStrategy<Expr>;

/// A random shape: scalar, column, row or matrix, sizes in [`SIZES`].
pub fn shape() -> BoxedStrategy<Shape> {
    prop_oneof![
        Just(Shape::Scalar),
        SIZES.prop_map(Shape::Col),
        SIZES.prop_map(Shape::Row),
        (SIZES, SIZES).prop_map(|(r, c)| Shape::Mat(r, c)),
        SIZES.prop_map(|n| Shape::Mat(n, n)),
    ]
    .boxed()
}

/// A random expression of a random shape, at most `depth` deep.
pub fn generated(depth: u32) -> BoxedStrategy<Generated> {
    shape()
        .prop_flat_map(move |s| generated_of(s, depth))
        .boxed()
}

/// A random expression of shape `shape`, at most `depth` deep.
pub fn generated_of(shape: Shape, depth: u32) -> BoxedStrategy<Generated> {
    expr_of(shape, depth)
        .prop_map(move |e| Generated::new(e, shape))
        .boxed()
}

/// Builds the strategy only when a value is drawn, so that a union of many
/// recursive alternatives costs nothing until one is chosen.
fn lazy(make: impl Fn() -> Gen + 'static) -> Gen {
    Just(()).prop_flat_map(move |()| make()).boxed()
}

fn binary(ops: &[BinOp], lhs: Gen, rhs: Gen) -> Gen {
    (select(ops.to_vec()), lhs, rhs)
        .prop_map(|(op, a, b)| Expr::binary(op, a, b))
        .boxed()
}

fn unary(inner: Gen, make: fn(Expr) -> Expr) -> Gen {
    inner.prop_map(make).boxed()
}

fn transpose(e: Expr) -> Expr {
    Expr::new(ExprKind::Transpose(Box::new(e)))
}

fn neg(e: Expr) -> Expr {
    Expr::new(ExprKind::Neg(Box::new(e)))
}

fn fill(kind: FillKind, value: f64) -> Expr {
    Expr::new(ExprKind::Fill {
        kind,
        value: Box::new(Expr::num(value)),
        size: None,
    })
}

fn constant(kind: ConstKind, dims: &[usize]) -> Expr {
    Expr::new(ExprKind::Const(
        kind,
        dims.iter().map(|&d| DimSpec::Fixed(d)).collect(),
    ))
}

/// A positive constant.
fn number() -> Gen {
    select(vec![1.0, 2.0, 3.0, 0.5, 1.5, 0.25, 10.0])
        .prop_map(Expr::num)
        .boxed()
}

/// A constant exponent for `.^` or `^`, possibly negative (`x.^-1`).
fn exponent() -> Gen {
    select(vec![2.0, 3.0, 0.5, 1.5, -1.0, -2.0, -0.5])
        .prop_map(Expr::num)
        .boxed()
}

/// The value of a `vector(c)` or `matrix(c)`: a positive constant or its
/// negation (`vector(-1)`, written as the parser reads it).
fn fill_value() -> Gen {
    prop_oneof![
        2 => number(),
        1 => number().prop_map(neg),
    ]
    .boxed()
}

/// `vector(c)` or `matrix(c)` of deferred size.
fn filled(kind: FillKind) -> Gen {
    fill_value()
        .prop_map(move |c| {
            Expr::new(ExprKind::Fill {
                kind,
                value: Box::new(c),
                size: None,
            })
        })
        .boxed()
}

/// `vector(1)`, `vector(c)` or `2*vector(1)`: a column of deferred size.
fn ones_column() -> Gen {
    prop_oneof![
        3 => Just(fill(FillKind::Vector, 1.0)),
        1 => filled(FillKind::Vector),
        1 => number().prop_map(|c| Expr::binary(BinOp::Mul, c, fill(FillKind::Vector, 1.0))),
    ]
    .boxed()
}

/// An n×n product through an inner size k < n (k = 1 gives an outer
/// product `a*a1'`): singular by its shapes.
fn rank_deficient(n: usize, d: u32) -> Gen {
    (1..n)
        .prop_flat_map(move |k| {
            binary(
                &[BinOp::Mul],
                expr_of(Shape::from_dims(n, k), d),
                expr_of(Shape::from_dims(k, n), d),
            )
        })
        .boxed()
}

/// A square n×n argument for `det`, `logdet`, `inv` and `tr`: mostly any
/// expression, sometimes a product singular by its shapes.
fn square(n: usize, d: u32) -> Gen {
    prop_oneof![
        4 => expr_of(Shape::Mat(n, n), d),
        1 => rank_deficient(n, d),
    ]
    .boxed()
}

fn var(shape: Shape) -> Gen {
    (0..SUFFIXES.len())
        .prop_map(move |v| Expr::var(&var_name(shape, v)))
        .boxed()
}

/// An expression with no operator (a row is a transposed column).
fn leaf(shape: Shape) -> Gen {
    match shape {
        Shape::Scalar => prop_oneof![2 => var(shape), 1 => number()].boxed(),
        Shape::Col(n) => prop_oneof![
            6 => var(shape),
            1 => Just(constant(ConstKind::Ones, &[n])),
            1 => Just(constant(ConstKind::Zeros, &[n])),
        ]
        .boxed(),
        Shape::Row(n) => var(Shape::Col(n)).prop_map(transpose).boxed(),
        Shape::Mat(r, c) => {
            let mut options: Vec<(u32, Gen)> = vec![
                (8, var(shape)),
                (1, Just(constant(ConstKind::Ones, &[r, c])).boxed()),
                (1, Just(constant(ConstKind::Zeros, &[r, c])).boxed()),
            ];
            if r == c {
                options.push((2, Just(constant(ConstKind::Eye, &[r])).boxed()));
            }
            Union::new_weighted(options).boxed()
        }
    }
}

const ELEMENTWISE: [BinOp; 4] = [BinOp::Add, BinOp::Sub, BinOp::HadMul, BinOp::HadDiv];

/// An expression of exactly `shape`, at most `depth` operators deep.
pub fn expr_of(shape: Shape, depth: u32) -> Gen {
    if depth == 0 {
        return leaf(shape);
    }
    let d = depth - 1;
    let sub = move |s: Shape| expr_of(s, d);
    let mut options: Vec<(u32, Gen)> = vec![
        // Few leaves near the root, more further down.
        (if depth >= 3 { 1 } else { 5 }, leaf(shape)),
        (
            3,
            lazy(move || binary(&ELEMENTWISE, sub(shape), sub(shape))),
        ),
        (
            4,
            lazy(move || {
                (1..=5usize)
                    .prop_flat_map(move |k| {
                        let lhs = sub(Shape::from_dims(shape.rows(), k));
                        let rhs = sub(Shape::from_dims(k, shape.cols()));
                        binary(&[BinOp::Mul], lhs, rhs)
                    })
                    .boxed()
            }),
        ),
        (
            1,
            lazy(move || binary(&[BinOp::Div], sub(shape), sub(Shape::Scalar))),
        ),
        (1, lazy(move || unary(sub(shape), neg))),
        (2, lazy(move || unary(sub(shape.transposed()), transpose))),
        (
            2,
            lazy(move || {
                let funcs: Vec<Func> = Func::ALL
                    .into_iter()
                    .filter(|f| f.is_elementwise())
                    .collect();
                (select(funcs), sub(shape))
                    .prop_map(|(f, e)| Expr::call(f, e))
                    .boxed()
            }),
        ),
        (
            1,
            lazy(move || {
                (sub(shape), exponent())
                    .prop_map(|(b, e)| Expr::binary(BinOp::HadPow, b, e))
                    .boxed()
            }),
        ),
        (
            1,
            lazy(move || {
                sub(shape)
                    .prop_map(|e| Expr::new(ExprKind::Grad("L".to_string(), vec![e])))
                    .boxed()
            }),
        ),
    ];
    if shape != Shape::Scalar {
        options.push((
            2,
            lazy(move || {
                prop_oneof![
                    binary(&ELEMENTWISE, sub(shape), sub(Shape::Scalar)),
                    binary(&ELEMENTWISE, sub(Shape::Scalar), sub(shape)),
                    binary(&[BinOp::Mul], sub(Shape::Scalar), sub(shape)),
                    binary(&[BinOp::Mul], sub(shape), sub(Shape::Scalar)),
                ]
                .boxed()
            }),
        ));
    }
    options.extend(shape_specific(shape, d));
    Union::new_weighted(options).boxed()
}

/// Alternatives that exist only for some shapes.
fn shape_specific(target: Shape, d: u32) -> Vec<(u32, Gen)> {
    let sub = move |s: Shape| expr_of(s, d);
    let any_shape = move || self::shape().prop_flat_map(move |s| expr_of(s, d)).boxed();
    match target {
        Shape::Scalar => vec![
            (
                2,
                lazy(move || {
                    let funcs = vec![Func::Sum, Func::Norm1, Func::Norm2, Func::Logsumexp];
                    (select(funcs), any_shape())
                        .prop_map(|(f, e)| Expr::call(f, e))
                        .boxed()
                }),
            ),
            (
                2,
                lazy(move || {
                    (select(vec![Func::Tr, Func::Det, Func::Logdet]), SIZES)
                        .prop_flat_map(move |(f, n)| {
                            square(n, d).prop_map(move |e| Expr::call(f, e))
                        })
                        .boxed()
                }),
            ),
            (
                1,
                lazy(move || {
                    let funcs = vec![Func::Det, Func::Logdet, Func::Inv, Func::Tr, Func::Diag];
                    (select(funcs), sub(Shape::Scalar))
                        .prop_map(|(f, e)| Expr::call(f, e))
                        .boxed()
                }),
            ),
            (
                1,
                lazy(move || {
                    any_shape()
                        .prop_map(|e| Expr::new(ExprKind::Apply("L".to_string(), vec![e])))
                        .boxed()
                }),
            ),
            (
                1,
                lazy(move || {
                    let power = prop_oneof![exponent(), sub(Shape::Scalar)];
                    (sub(Shape::Scalar), power)
                        .prop_map(|(b, e)| Expr::binary(BinOp::Pow, b, e))
                        .boxed()
                }),
            ),
        ],
        Shape::Col(n) => vec![
            (
                1,
                lazy(move || unary(sub(Shape::Mat(n, n)), |e| Expr::call(Func::Diag, e))),
            ),
            (
                1,
                lazy(move || unary(sub(target), |e| Expr::call(Func::Softmax, e))),
            ),
            (
                1,
                lazy(move || {
                    SIZES
                        .prop_flat_map(move |k| {
                            binary(&[BinOp::Mul], sub(Shape::Mat(n, k)), ones_column())
                        })
                        .boxed()
                }),
            ),
            (
                1,
                lazy(move || binary(&ELEMENTWISE, sub(target), ones_column())),
            ),
        ],
        Shape::Row(n) => vec![(
            1,
            lazy(move || {
                SIZES
                    .prop_flat_map(move |k| {
                        binary(
                            &[BinOp::Mul],
                            ones_column().prop_map(transpose).boxed(),
                            sub(Shape::Mat(k, n)),
                        )
                    })
                    .boxed()
            }),
        )],
        Shape::Mat(r, c) => {
            let mut options = vec![
                (
                    1,
                    lazy(move || {
                        prop_oneof![
                            binary(&ELEMENTWISE, sub(target), sub(Shape::Row(c))),
                            binary(&ELEMENTWISE, sub(Shape::Row(c)), sub(target)),
                        ]
                        .boxed()
                    }),
                ),
                (
                    1,
                    lazy(move || binary(&ELEMENTWISE, sub(target), filled(FillKind::Matrix))),
                ),
            ];
            if r == c {
                options.push((
                    1,
                    lazy(move || unary(square(r, d), |e| Expr::call(Func::Inv, e))),
                ));
                options.push((
                    1,
                    lazy(move || {
                        let vector = prop_oneof![sub(Shape::Col(r)), sub(Shape::Row(r))];
                        unary(vector.boxed(), |e| Expr::call(Func::Diag, e))
                    }),
                ));
            }
            options
        }
    }
}

/// Where an index of the generated formula ranges.
#[derive(Clone, Debug)]
struct Index {
    name: String,
    size: usize,
}

fn indexed(base: Expr, indices: &[&Index]) -> Expr {
    Expr::new(ExprKind::Index(
        Box::new(base),
        indices.iter().map(|i| i.name.clone()).collect(),
    ))
}

fn product(factors: Vec<Expr>) -> Expr {
    factors
        .into_iter()
        .reduce(|a, b| Expr::binary(BinOp::Mul, a, b))
        .expect("a product has a factor")
}

/// A factor carrying the free index `a`, with `q` as its dummy if needed.
fn single_factor(a: Index, q: Index) -> Gen {
    let column = Shape::Col(a.size);
    let (a2, q2) = (a.clone(), q.clone());
    let (a3, a4) = (a.clone(), a.clone());
    prop_oneof![
        var(column).prop_map(move |x| indexed(x, &[&a])),
        (var(Shape::Mat(a2.size, q2.size)), var(Shape::Col(q2.size)))
            .prop_map(move |(m, y)| product(vec![indexed(m, &[&a2, &q2]), indexed(y, &[&q2])])),
        expr_of(column, 1).prop_map(move |e| indexed(e, &[&a3])),
        var(column).prop_map(move |x| Expr::call(Func::Exp, indexed(x, &[&a4]))),
    ]
    .boxed()
}

/// A factor carrying the free indices `a` and `b`, with `q` as its dummy.
fn pair_factor(a: Index, b: Index, q: Index) -> Gen {
    let mat = Shape::Mat(a.size, b.size);
    let mut options: Vec<Gen> = Vec::new();
    {
        let (a, b) = (a.clone(), b.clone());
        options.push(
            expr_of(mat, 1)
                .prop_map(move |e| indexed(e, &[&a, &b]))
                .boxed(),
        );
    }
    {
        let (a, b, q) = (a.clone(), b.clone(), q.clone());
        options.push(
            (
                var(Shape::Mat(a.size, q.size)),
                var(Shape::Mat(q.size, b.size)),
            )
                .prop_map(move |(m, n)| product(vec![indexed(m, &[&a, &q]), indexed(n, &[&q, &b])]))
                .boxed(),
        );
    }
    {
        let (a, b, q) = (a.clone(), b.clone(), q.clone());
        options.push(
            (
                var(Shape::Mat(q.size, a.size)),
                var(Shape::Mat(q.size, b.size)),
            )
                .prop_map(move |(m, n)| {
                    let body = product(vec![indexed(m, &[&q, &a]), indexed(n, &[&q, &b])]);
                    Expr::new(ExprKind::IndexSum(vec![q.name.clone()], Box::new(body)))
                })
                .boxed(),
        );
    }
    {
        let (a, b) = (a.clone(), b.clone());
        options.push(
            (var(Shape::Col(a.size)), var(Shape::Col(b.size)))
                .prop_map(move |(x, y)| product(vec![indexed(x, &[&a]), indexed(y, &[&b])]))
                .boxed(),
        );
    }
    {
        let (a, b) = (a.clone(), b.clone());
        options.push(
            var(mat)
                .prop_map(move |m| Expr::call(Func::Tanh, indexed(m, &[&a, &b])))
                .boxed(),
        );
    }
    if a.size == b.size {
        options.push(Just(Expr::new(ExprKind::Delta(a.name.clone(), b.name.clone()))).boxed());
    }
    Union::new(options).boxed()
}

/// The dummy index of factor `factor` in term `term`: `p q r m`, with the
/// term number appended after the first term (`p1`), so that no dummy is
/// shared between factors.
fn dummy_name(factor: usize, term: usize) -> String {
    let letter = ["p", "q", "r", "m"][factor];
    if term == 0 {
        letter.to_string()
    } else {
        format!("{letter}{term}")
    }
}

/// One term of an index formula: a product of factors that together carry
/// every free index once. `term` numbers the term, to name its dummies.
fn index_term(free: Vec<Index>, term: usize) -> Gen {
    let pairing = proptest::collection::vec(any::<bool>(), free.len());
    let dummy_sizes = proptest::collection::vec(SIZES, free.len());
    (pairing, dummy_sizes)
        .prop_flat_map(move |(pair_with_next, sizes)| {
            let mut factors: Vec<Gen> = Vec::new();
            let mut at = 0;
            while at < free.len() {
                let dummy = Index {
                    name: dummy_name(factors.len(), term),
                    size: sizes[at],
                };
                if at + 1 < free.len() && pair_with_next[at] {
                    factors.push(pair_factor(free[at].clone(), free[at + 1].clone(), dummy));
                    at += 2;
                } else {
                    factors.push(single_factor(free[at].clone(), dummy));
                    at += 1;
                }
            }
            let scale = prop_oneof![
                3 => Just(None),
                1 => number().prop_map(Some),
                1 => var(Shape::Scalar).prop_map(Some),
            ];
            (factors, scale, any::<bool>()).prop_map(|(factors, scale, negate)| {
                let mut all: Vec<Expr> = scale.into_iter().collect();
                all.extend(factors);
                let term = product(all);
                if negate {
                    neg(term)
                } else {
                    term
                }
            })
        })
        .boxed()
}

/// A simple, well-formed index-notation formula `G[i,…] = …` with one to
/// four free indices (`i j k l`) and one to three terms.
pub fn index_formula() -> BoxedStrategy<GeneratedIndex> {
    (1..=4usize, proptest::collection::vec(SIZES, 4), 1..=3usize)
        .prop_flat_map(|(order, sizes, terms)| {
            let free: Vec<Index> = ["i", "j", "k", "l"][..order]
                .iter()
                .zip(sizes)
                .map(|(name, size)| Index {
                    name: name.to_string(),
                    size,
                })
                .collect();
            let names: Vec<String> = free.iter().map(|i| i.name.clone()).collect();
            let terms: Vec<Gen> = (0..terms).map(|t| index_term(free.clone(), t)).collect();
            let signs = proptest::collection::vec(select(vec![BinOp::Add, BinOp::Sub]), 3);
            (terms, signs).prop_map(move |(terms, signs)| {
                let body = terms
                    .into_iter()
                    .zip(signs)
                    .map(|(term, sign)| (sign, term))
                    .reduce(|(_, acc), (sign, term)| (sign, Expr::binary(sign, acc, term)))
                    .map(|(_, body)| body)
                    .expect("at least one term");
                let vars = vars_of(&body);
                GeneratedIndex {
                    formula: Formula {
                        lhs: Some(IndexLhs {
                            name: "G".to_string(),
                            indices: names.clone(),
                            span: Span::NONE,
                        }),
                        body,
                    },
                    vars,
                }
            })
        })
        .boxed()
}
