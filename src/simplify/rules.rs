//! The simplifier's rewrite rules: laws of matrix algebra a person uses,
//! each a named item of [`RULES`].
//!
//! A rule looks at one node whose operands are already simplified and
//! returns the node it rewrites to, or `None` when it does not apply. The
//! name is what a proof prints; the `terminates` line names the measure
//! that every application strictly decreases, so that the driver reaches
//! a fixed point. There are no commutativity or associativity rules: order
//! comes from the canonical form's sorting.

use num_traits::One;

use super::assumed;
use super::normal::{Key, Normalizer};
use crate::algebra::integer;
use crate::index::{Dims, GraphError, Id, Node};
use crate::syntax::{BinOp, DimSpec, Func};

/// One rewrite rule.
pub struct Rule {
    /// Its kebab-case name, as proofs print it.
    pub name: &'static str,
    /// The law, in one line.
    pub doc: &'static str,
    /// Why applying it repeatedly stops: the measure it decreases.
    pub terminates: &'static str,
    /// The rewrite of one node, or `None` where it does not apply.
    pub(super) apply: fn(&mut Normalizer<'_>, Id) -> Result<Option<Id>, GraphError>,
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// Every rule, in the order the driver tries them on a node.
pub static RULES: &[Rule] = &[
    Rule {
        name: "trace-of-transpose",
        doc: "tr(Aᵀ) = tr(A)",
        terminates: "removes one transpose",
        apply: trace_of_transpose,
    },
    Rule {
        name: "trace-linear",
        doc: "tr(A + B) = tr(A) + tr(B), tr(c·A) = c·tr(A), tr(−A) = −tr(A), and the trace of an n×n fill of c is c·n",
        terminates: "the sums and scalings under a trace get fewer",
        apply: trace_linear,
    },
    Rule {
        name: "trace-cyclic",
        doc: "tr(A·B·C) = tr(B·C·A) = tr(Cᵀ·Bᵀ·Aᵀ): a rotation with a 1×1 product needs no trace (tr(a·bᵀ) = bᵀ·a), else the least keys; the scalings of the factors leave the trace",
        terminates: "picks the least of finitely many writings; the least one does not fire again",
        apply: trace_cyclic,
    },
    Rule {
        name: "transpose-into-elementwise",
        doc: "(A ⊙ B)ᵀ = Aᵀ ⊙ Bᵀ (and ⊘, +, −, element-wise functions) for same-shaped or 1×1 operands, where that leaves fewer transposes: (1 ⊘ sᵀ)ᵀ = 1 ⊘ s",
        terminates: "the number of transposes decreases",
        apply: transpose_into_elementwise,
    },
    Rule {
        name: "sum-linear",
        doc: "sum(A + B) = sum(A) + sum(B), sum(c·A) = c·sum(A), sum(−A) = −sum(A), and the sum of an n×m fill of c is c·n·m",
        terminates: "the sums and scalings under a sum get fewer",
        apply: sum_linear,
    },
    Rule {
        name: "sum-of-transpose",
        doc: "sum(Aᵀ) = sum(A)",
        terminates: "removes one transpose",
        apply: sum_of_transpose,
    },
    Rule {
        name: "sum-of-hadamard",
        doc: "sum(x ⊙ y) = xᵀ·y for column vectors",
        terminates: "removes one sum",
        apply: sum_of_hadamard,
    },
    Rule {
        name: "det-of-transpose",
        doc: "det(Aᵀ) = det(A), logdet(Aᵀ) = logdet(A)",
        terminates: "removes one transpose",
        apply: det_of_transpose,
    },
    Rule {
        name: "det-of-inverse",
        doc: "det(A⁻¹) = 1/det(A), logdet(A⁻¹) = −logdet(A)",
        terminates: "removes one inverse",
        apply: det_of_inverse,
    },
    Rule {
        name: "det-of-product",
        doc: "det(A·B) = det(A)·det(B) for square A and B",
        terminates: "the arguments of det get smaller",
        apply: det_of_product,
    },
    Rule {
        name: "det-of-scaled",
        doc: "det(c·A) = cⁿ·det(A) for an n×n A with n fixed",
        terminates: "removes one scaling under det",
        apply: det_of_scaled,
    },
    Rule {
        name: "inverse-of-transpose",
        doc: "(Aᵀ)⁻¹ = (A⁻¹)ᵀ",
        terminates: "the transposes under inv get fewer",
        apply: inverse_of_transpose,
    },
    Rule {
        name: "inverse-of-inverse",
        doc: "(A⁻¹)⁻¹ = A",
        terminates: "removes two inverses",
        apply: inverse_of_inverse,
    },
    Rule {
        name: "inverse-of-product",
        doc: "(A·B)⁻¹ = B⁻¹·A⁻¹ for square A and B",
        terminates: "the arguments of inv get smaller",
        apply: inverse_of_product,
    },
    Rule {
        name: "log-of-exp",
        doc: "log(exp(u)) = u",
        terminates: "removes two calls",
        apply: log_of_exp,
    },
    Rule {
        name: "square-of-root",
        doc: "sqrt(u)^2 = u and sqrt(u).^2 = u, wherever sqrt(u) is defined",
        terminates: "removes a call and a power",
        apply: square_of_root,
    },
    Rule {
        name: "root-of-square-number",
        doc: "sqrt(c) = r for a number c = r² with r a non-negative rational (sqrt(9/4) = 3/2)",
        terminates: "removes a call",
        apply: root_of_square_number,
    },
    Rule {
        name: "logsumexp",
        doc: "log(sum(exp(x))) = logsumexp(x)",
        terminates: "three calls become one",
        apply: logsumexp,
    },
    Rule {
        name: "softmax",
        doc: "exp(x)/sum(exp(x)) = softmax(x) for a column vector x",
        terminates: "a quotient of three calls becomes one call",
        apply: softmax,
    },
    Rule {
        name: "sum-of-softmax",
        doc: "sum(softmax(x)) = 1",
        terminates: "two calls become a number",
        apply: sum_of_softmax,
    },
    Rule {
        name: "sigmoid-of-negation",
        doc: "sigmoid(−u) = 1 − sigmoid(u)",
        terminates: "removes one negation under sigmoid",
        apply: sigmoid_of_negation,
    },
    Rule {
        name: "diag-of-sum",
        doc: "diag(a) ± diag(b) = diag(a ± b) for vectors a and b",
        terminates: "removes one diag",
        apply: diag_of_sum,
    },
    Rule {
        name: "diag-of-row",
        doc: "diag(r) = diag(rᵀ) for a row r: the diagonal matrix of a vector does not depend on its orientation",
        terminates: "the argument of diag becomes a column, on which it does not fire",
        apply: diag_of_row,
    },
    Rule {
        name: "diag-linear",
        doc: "diag(c·u) = c·diag(u) and diag(c ⊘ u) = c·diag(1 ⊘ u) for a 1×1 c",
        terminates: "removes one scaling under a diag",
        apply: diag_linear,
    },
    Rule {
        name: "diag-of-product",
        doc: "diag(A·Bᵀ) = (A ⊙ B)·𝟙: the diagonal of a product is the row sums of a Hadamard product (as long, and n·k flops instead of n²·k)",
        terminates: "removes one diagonal of a matrix",
        apply: diag_of_product,
    },
    Rule {
        name: "diag-of-constant",
        doc: "diag(c·𝟙ₙ) = c·Iₙ, and the diagonal of an n×n fill of c is c·𝟙ₙ",
        terminates: "removes one diag",
        apply: diag_of_constant,
    },
    Rule {
        name: "norm-squared",
        doc: "norm2(x)² = xᵀ·x for a column vector x",
        terminates: "a power of a call becomes one product",
        apply: norm_squared,
    },
    Rule {
        name: "transpose-of-symmetric",
        doc: "Sᵀ = S for a symmetric S: a variable declared symmetric, or by structure (Xᵀ·S·X, A·Aᵀ, S⁻¹, diag(v))",
        terminates: "removes one transpose",
        apply: assumed::transpose_of_symmetric,
    },
    Rule {
        name: "rows-sum-to-one",
        doc: "T·𝟙 = 𝟙 for a matrix whose rows sum to 1 (onehot, prob); sum(y) = 1 for such a vector",
        terminates: "removes one variable from a product or a sum",
        apply: assumed::rows_sum_to_one,
    },
    Rule {
        name: "discrete-entries",
        doc: "y.^2 = 1, |y| = 1, sign(y) = y for ±1 entries (pm1); y.^k = y for 0/1 entries (binary, onehot)",
        terminates: "removes one power or call",
        apply: assumed::discrete_entries,
    },
    Rule {
        name: "positive-entries",
        doc: "|x| = relu(x) = sqrt(x.^2) = x and sign(x) = 𝟙 for positive entries",
        terminates: "removes one call",
        apply: assumed::positive_entries,
    },
    Rule {
        name: "orthogonal",
        doc: "Qᵀ·Q = Q·Qᵀ = I and Q⁻¹ = Qᵀ for an orthogonal Q",
        terminates: "removes two factors or one inverse",
        apply: assumed::orthogonal,
    },
];

/// The rule with this name.
pub fn rule(name: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.name == name)
}

pub(super) type Rewrite = Result<Option<Id>, GraphError>;

pub(super) fn call_arg(n: &Normalizer<'_>, id: Id, func: Func) -> Option<Id> {
    match *n.graph.node(id) {
        Node::Call(f, a) if f == func => Some(a),
        _ => None,
    }
}

fn is_square(dims: &Dims) -> bool {
    dims[0] == dims[1]
}

pub(super) fn is_column(dims: &Dims) -> bool {
    crate::index::is_one(&dims[1]) && !crate::index::is_one(&dims[0])
}

fn trace_of_transpose(n: &mut Normalizer<'_>, id: Id) -> Rewrite {
    let Some(a) = call_arg(n, id, Func::Tr) else {
        return Ok(None);
    };
    match *n.graph.node(a) {
        Node::T(inner) => Ok(Some(n.graph.call(Func::Tr, inner)?)),
        _ => Ok(None),
    }
}

fn transpose_into_elementwise(n: &mut Normalizer<'_>, id: Id) -> Rewrite {
    let Node::T(inner) = *n.graph.node(id) else {
        return Ok(None);
    };
    if transposes_left(n, inner) > 0 {
        return Ok(None);
    }
    Ok(Some(match n.graph.node(inner).clone() {
        Node::Binary(op, a, b) if op != BinOp::HadPow => {
            let (a, b) = (n.graph.transpose(a), n.graph.transpose(b));
            n.graph.binary(op, a, b)?
        }
        Node::Binary(BinOp::HadPow, a, p) => {
            let a = n.graph.transpose(a);
            n.graph.binary(BinOp::HadPow, a, p)?
        }
        Node::Call(f, a) => {
            let a = n.graph.transpose(a);
            n.graph.call(f, a)?
        }
        _ => return Ok(None),
    }))
}

/// How many transposes pushing a transpose of `id` down through its
/// element-wise operations (same-shaped or 1×1 operands) would leave: 0
/// when every matrix leaf is itself a transpose, which cancels.
fn transposes_left(n: &Normalizer<'_>, id: Id) -> usize {
    let fits = |c: Id| n.graph.is_scalar(c) || n.graph.dims(c) == n.graph.dims(id);
    match *n.graph.node(id) {
        _ if n.graph.is_scalar(id) => 0,
        Node::T(_) => 0,
        Node::Binary(BinOp::HadMul | BinOp::HadDiv | BinOp::Add | BinOp::Sub, a, b)
            if fits(a) && fits(b) =>
        {
            transposes_left(n, a) + transposes_left(n, b)
        }
        Node::Binary(BinOp::HadPow, a, p) if n.graph.is_scalar(p) => transposes_left(n, a),
        Node::Call(f, a) if f.is_elementwise() => transposes_left(n, a),
        _ => 1,
    }
}

fn trace_linear(n: &mut Normalizer<'_>, id: Id) -> Rewrite {
    linear_reduction(n, id, Func::Tr)
}

fn sum_linear(n: &mut Normalizer<'_>, id: Id) -> Rewrite {
    linear_reduction(n, id, Func::Sum)
}

/// `f(A ± B) = f(A) ± f(B)`, `f(c·A) = c·f(A)`, `f(A/c) = f(A)/c`,
/// `f(−A) = −f(A)` for the linear reductions `tr` and `sum`, and, where the
/// sizes are numbers, the value of `f` on a fill and on a broadcast scalar:
/// `tr` of an n×n fill of c is c·n, `sum` of an n×m one c·n·m, and
/// `sum(A + s) = sum(A) + n·m·s`.
fn linear_reduction(n: &mut Normalizer<'_>, id: Id, func: Func) -> Rewrite {
    let Some(a) = call_arg(n, id, func) else {
        return Ok(None);
    };
    // How many entries of `a` the reduction adds up: n for tr, n·m for sum,
    // where the sizes are numbers.
    let count = match (func, n.graph.dims(a)) {
        (Func::Tr, [DimSpec::Fixed(r), _]) => Some(integer(*r)),
        (Func::Sum, [DimSpec::Fixed(r), DimSpec::Fixed(c)]) => Some(integer(*r) * integer(*c)),
        _ => None,
    };
    match *n.graph.node(a) {
        Node::Binary(op @ (BinOp::Add | BinOp::Sub), x, y)
            if n.graph.dims(x) == n.graph.dims(y) =>
        {
            let (fx, fy) = (n.graph.call(func, x)?, n.graph.call(func, y)?);
            Ok(Some(n.graph.binary(op, fx, fy)?))
        }
        // A scalar broadcast over the entries adds itself once per entry.
        Node::Binary(op @ (BinOp::Add | BinOp::Sub), x, y)
            if count.is_some() && (n.graph.is_scalar(x) != n.graph.is_scalar(y)) =>
        {
            let k = n.graph.num(count.unwrap_or_default());
            let counted = |n: &mut Normalizer<'_>, v: Id| -> Result<Id, GraphError> {
                match n.graph.is_scalar(v) {
                    true => n.graph.binary(BinOp::Mul, k, v),
                    false => n.graph.call(func, v),
                }
            };
            let (fx, fy) = (counted(n, x)?, counted(n, y)?);
            Ok(Some(n.graph.binary(op, fx, fy)?))
        }
        Node::Neg(x) => {
            let f = n.graph.call(func, x)?;
            Ok(Some(n.graph.neg(f)))
        }
        Node::Binary(op @ (BinOp::Mul | BinOp::Div), x, c)
            if n.graph.is_scalar(c) && !n.graph.is_scalar(x) =>
        {
            let f = n.graph.call(func, x)?;
            Ok(Some(n.graph.binary(op, f, c)?))
        }
        Node::Binary(BinOp::Mul, c, x) if n.graph.is_scalar(c) && !n.graph.is_scalar(x) => {
            let f = n.graph.call(func, x)?;
            Ok(Some(n.graph.binary(BinOp::Mul, c, f)?))
        }
        Node::Fill(_, ref v) => match count {
            Some(count) => {
                let value = v.value() * count;
                Ok(Some(n.graph.num(value)))
            }
            None => Ok(None),
        },
        _ => Ok(None),
    }
}

/// The matrix factors of a product chain, left to right.
pub(super) fn chain_factors(n: &Normalizer<'_>, id: Id, out: &mut Vec<Id>) {
    match *n.graph.node(id) {
        Node::Binary(BinOp::Mul, a, b) if !n.graph.is_scalar(a) && !n.graph.is_scalar(b) => {
            chain_factors(n, a, out);
            chain_factors(n, b, out);
        }
        _ => out.push(id),
    }
}

/// The matrix factors of a product as [`chain_factors`], looking through
/// the 1×1 scalings of its factors (`F·(2·(G·H))`), which go to `scalars`.
fn scaled_chain_factors(n: &mut Normalizer<'_>, id: Id, out: &mut Vec<Id>, scalars: &mut Vec<Id>) {
    // A fill of c is c times the fill of ones.
    if let Some(c) = n.graph.fill_value(id).filter(|c| !c.is_one()).cloned() {
        let dims = n.graph.dims(id).clone();
        scalars.push(n.graph.num(c));
        out.push(n.graph.ones(dims));
        return;
    }
    match *n.graph.node(id) {
        Node::Binary(BinOp::Mul, a, b) if n.graph.is_scalar(a) != n.graph.is_scalar(b) => {
            let (s, m) = if n.graph.is_scalar(a) { (a, b) } else { (b, a) };
            scalars.push(s);
            scaled_chain_factors(n, m, out, scalars);
        }
        Node::Binary(BinOp::Mul, a, b) if !n.graph.is_scalar(a) => {
            scaled_chain_factors(n, a, out, scalars);
            scaled_chain_factors(n, b, out, scalars);
        }
        _ => out.push(id),
    }
}

/// How a writing of a trace ranks: whether it still needs the trace, then
/// the keys of its factors.
type Ranked = (bool, Vec<Key>);

fn trace_cyclic(n: &mut Normalizer<'_>, id: Id) -> Rewrite {
    let Some(a) = call_arg(n, id, Func::Tr) else {
        return Ok(None);
    };
    let (mut factors, mut scalars) = (Vec::new(), Vec::new());
    scaled_chain_factors(n, a, &mut factors, &mut scalars);
    if factors.len() < 2 {
        return Ok(None);
    }
    let transposed: Vec<Id> = factors
        .iter()
        .rev()
        .map(|&f| n.graph.transpose(f))
        .collect();
    // Cheapest first: a rotation whose product is 1×1 needs no trace at
    // all (`tr(a*b') = b'*a`); then the least keys.
    let mut best: Option<(Ranked, Vec<Id>)> = None;
    for base in [&factors, &transposed] {
        for start in 0..base.len() {
            let rotation: Vec<Id> = base[start..]
                .iter()
                .chain(&base[..start])
                .copied()
                .collect();
            let scalar = crate::index::is_one(&n.graph.dims(rotation[0])[0])
                && crate::index::is_one(&n.graph.dims(rotation[rotation.len() - 1])[1]);
            let keys = (
                !scalar,
                rotation.iter().map(|&f| n.key(f)).collect::<Vec<Key>>(),
            );
            let better = match &best {
                None => true,
                Some((k, _)) => keys < *k,
            };
            if better {
                best = Some((keys, rotation));
            }
        }
    }
    let Some(((needs_trace, _), chain)) = best else {
        return Ok(None);
    };
    if chain == factors && needs_trace && scalars.is_empty() {
        return Ok(None);
    }
    let mut product = chain[0];
    for &f in &chain[1..] {
        product = n.graph.binary(BinOp::Mul, product, f)?;
    }
    let mut rewritten = match needs_trace {
        true => n.graph.call(Func::Tr, product)?,
        false => product,
    };
    // The scalings of the factors leave the trace: tr(c·A) = c·tr(A).
    for s in scalars {
        rewritten = n.graph.binary(BinOp::Mul, s, rewritten)?;
    }
    Ok((rewritten != id).then_some(rewritten))
}

fn sum_of_transpose(n: &mut Normalizer<'_>, id: Id) -> Rewrite {
    let Some(a) = call_arg(n, id, Func::Sum) else {
        return Ok(None);
    };
    match *n.graph.node(a) {
        Node::T(inner) => Ok(Some(n.graph.call(Func::Sum, inner)?)),
        _ => Ok(None),
    }
}

fn sum_of_hadamard(n: &mut Normalizer<'_>, id: Id) -> Rewrite {
    let Some(a) = call_arg(n, id, Func::Sum) else {
        return Ok(None);
    };
    match *n.graph.node(a) {
        Node::Binary(BinOp::HadMul, x, y)
            if is_column(n.graph.dims(x)) && n.graph.dims(x) == n.graph.dims(y) =>
        {
            let xt = n.graph.transpose(x);
            Ok(Some(n.graph.binary(BinOp::Mul, xt, y)?))
        }
        _ => Ok(None),
    }
}

fn det_of_transpose(n: &mut Normalizer<'_>, id: Id) -> Rewrite {
    for func in [Func::Det, Func::Logdet] {
        if let Some(a) = call_arg(n, id, func) {
            if let Node::T(inner) = *n.graph.node(a) {
                return Ok(Some(n.graph.call(func, inner)?));
            }
        }
    }
    Ok(None)
}

fn det_of_inverse(n: &mut Normalizer<'_>, id: Id) -> Rewrite {
    if let Some(inner) = call_arg(n, id, Func::Det).and_then(|a| call_arg(n, a, Func::Inv)) {
        let d = n.graph.call(Func::Det, inner)?;
        let one = n.graph.int(1);
        return Ok(Some(n.graph.binary(BinOp::Div, one, d)?));
    }
    if let Some(inner) = call_arg(n, id, Func::Logdet).and_then(|a| call_arg(n, a, Func::Inv)) {
        let d = n.graph.call(Func::Logdet, inner)?;
        return Ok(Some(n.graph.neg(d)));
    }
    Ok(None)
}

/// The factors `(x, y)` of `func(x*y)` when both are square matrices.
fn square_factors(n: &Normalizer<'_>, id: Id, func: Func) -> Option<(Id, Id)> {
    match *n.graph.node(call_arg(n, id, func)?) {
        Node::Binary(BinOp::Mul, x, y)
            if !n.graph.is_scalar(x)
                && is_square(n.graph.dims(x))
                && is_square(n.graph.dims(y)) =>
        {
            Some((x, y))
        }
        _ => None,
    }
}

fn det_of_product(n: &mut Normalizer<'_>, id: Id) -> Rewrite {
    let Some((x, y)) = square_factors(n, id, Func::Det) else {
        return Ok(None);
    };
    let (dx, dy) = (n.graph.call(Func::Det, x)?, n.graph.call(Func::Det, y)?);
    Ok(Some(n.graph.binary(BinOp::Mul, dx, dy)?))
}

fn det_of_scaled(n: &mut Normalizer<'_>, id: Id) -> Rewrite {
    let Some(a) = call_arg(n, id, Func::Det) else {
        return Ok(None);
    };
    let (c, m) = match *n.graph.node(a) {
        Node::Binary(BinOp::Mul, c, m) if n.graph.is_scalar(c) && !n.graph.is_scalar(m) => (c, m),
        Node::Binary(BinOp::Mul, m, c) if n.graph.is_scalar(c) && !n.graph.is_scalar(m) => (c, m),
        Node::Neg(m) if !n.graph.is_scalar(m) => {
            let minus = n.graph.int(-1);
            (minus, m)
        }
        _ => return Ok(None),
    };
    let DimSpec::Fixed(size) = n.graph.dims(m)[0] else {
        return Ok(None);
    };
    let d = n.graph.call(Func::Det, m)?;
    let k = n.graph.num(integer(size));
    let power = n.graph.binary(BinOp::Pow, c, k)?;
    Ok(Some(n.graph.binary(BinOp::Mul, power, d)?))
}

fn inverse_of_transpose(n: &mut Normalizer<'_>, id: Id) -> Rewrite {
    let Some(a) = call_arg(n, id, Func::Inv) else {
        return Ok(None);
    };
    match *n.graph.node(a) {
        Node::T(inner) => {
            let i = n.graph.call(Func::Inv, inner)?;
            Ok(Some(n.graph.transpose(i)))
        }
        _ => Ok(None),
    }
}

fn inverse_of_inverse(n: &mut Normalizer<'_>, id: Id) -> Rewrite {
    Ok(call_arg(n, id, Func::Inv).and_then(|a| call_arg(n, a, Func::Inv)))
}

fn inverse_of_product(n: &mut Normalizer<'_>, id: Id) -> Rewrite {
    let Some((x, y)) = square_factors(n, id, Func::Inv) else {
        return Ok(None);
    };
    let (ix, iy) = (n.graph.call(Func::Inv, x)?, n.graph.call(Func::Inv, y)?);
    Ok(Some(n.graph.binary(BinOp::Mul, iy, ix)?))
}

fn log_of_exp(n: &mut Normalizer<'_>, id: Id) -> Rewrite {
    Ok(call_arg(n, id, Func::Log).and_then(|a| call_arg(n, a, Func::Exp)))
}

fn square_of_root(n: &mut Normalizer<'_>, id: Id) -> Rewrite {
    match *n.graph.node(id) {
        Node::Binary(BinOp::Pow | BinOp::HadPow, base, p) if n.graph.is_number(p, 2) => {
            Ok(call_arg(n, base, Func::Sqrt).filter(|&u| n.graph.dims(u) == n.graph.dims(id)))
        }
        _ => Ok(None),
    }
}

fn root_of_square_number(n: &mut Normalizer<'_>, id: Id) -> Rewrite {
    let root = call_arg(n, id, Func::Sqrt)
        .and_then(|c| n.number(c))
        .and_then(|c| crate::algebra::exact_sqrt(&c));
    match root {
        Some(r) => Ok(Some(n.coefficient(&r)?)),
        None => Ok(None),
    }
}

fn logsumexp(n: &mut Normalizer<'_>, id: Id) -> Rewrite {
    let inner = call_arg(n, id, Func::Log)
        .and_then(|a| call_arg(n, a, Func::Sum))
        .and_then(|s| call_arg(n, s, Func::Exp));
    match inner {
        Some(x) if is_column(n.graph.dims(x)) => Ok(Some(n.graph.call(Func::Logsumexp, x)?)),
        _ => Ok(None),
    }
}

fn softmax(n: &mut Normalizer<'_>, id: Id) -> Rewrite {
    let Node::Binary(BinOp::Div | BinOp::HadDiv, e, s) = *n.graph.node(id) else {
        return Ok(None);
    };
    match (call_arg(n, e, Func::Exp), call_arg(n, s, Func::Sum)) {
        (Some(x), Some(summed)) if summed == e && is_column(n.graph.dims(x)) => {
            Ok(Some(n.graph.call(Func::Softmax, x)?))
        }
        _ => Ok(None),
    }
}

fn sum_of_softmax(n: &mut Normalizer<'_>, id: Id) -> Rewrite {
    match call_arg(n, id, Func::Sum).and_then(|a| call_arg(n, a, Func::Softmax)) {
        Some(_) => Ok(Some(n.graph.int(1))),
        None => Ok(None),
    }
}

fn sigmoid_of_negation(n: &mut Normalizer<'_>, id: Id) -> Rewrite {
    let Some(a) = call_arg(n, id, Func::Sigmoid) else {
        return Ok(None);
    };
    let Node::Neg(u) = *n.graph.node(a) else {
        return Ok(None);
    };
    let s = n.graph.call(Func::Sigmoid, u)?;
    let one = n.graph.int(1);
    Ok(Some(n.graph.binary(BinOp::Sub, one, s)?))
}

/// The vector `v` of `diag(v)` (not of the diagonal of a square matrix).
fn diag_vector(n: &Normalizer<'_>, id: Id) -> Option<Id> {
    call_arg(n, id, Func::Diag).filter(|&v| is_column(n.graph.dims(v)))
}

fn diag_of_sum(n: &mut Normalizer<'_>, id: Id) -> Rewrite {
    let Node::Binary(op @ (BinOp::Add | BinOp::Sub), x, y) = *n.graph.node(id) else {
        return Ok(None);
    };
    match (diag_vector(n, x), diag_vector(n, y)) {
        (Some(a), Some(b)) if n.graph.dims(a) == n.graph.dims(b) => {
            let sum = n.graph.binary(op, a, b)?;
            Ok(Some(n.graph.call(Func::Diag, sum)?))
        }
        _ => Ok(None),
    }
}

fn diag_of_row(n: &mut Normalizer<'_>, id: Id) -> Rewrite {
    let Some(r) = call_arg(n, id, Func::Diag) else {
        return Ok(None);
    };
    let dims = n.graph.dims(r);
    if !crate::index::is_one(&dims[0]) || crate::index::is_one(&dims[1]) {
        return Ok(None);
    }
    let column = n.graph.transpose(r);
    Ok(Some(n.graph.call(Func::Diag, column)?))
}

fn diag_linear(n: &mut Normalizer<'_>, id: Id) -> Rewrite {
    let Some(u) = call_arg(n, id, Func::Diag) else {
        return Ok(None);
    };
    let (c, rest) = match *n.graph.node(u) {
        Node::Binary(BinOp::Mul, c, v) if n.graph.is_scalar(c) && !n.graph.is_scalar(v) => (c, v),
        Node::Binary(BinOp::HadDiv, c, v)
            if n.graph.is_scalar(c) && !n.graph.is_scalar(v) && !n.graph.is_number(c, 1) =>
        {
            let one = n.graph.int(1);
            (c, n.graph.binary(BinOp::HadDiv, one, v)?)
        }
        _ => return Ok(None),
    };
    let diag = n.graph.call(Func::Diag, rest)?;
    Ok(Some(n.graph.binary(BinOp::Mul, c, diag)?))
}

fn diag_of_product(n: &mut Normalizer<'_>, id: Id) -> Rewrite {
    let Some(p) = call_arg(n, id, Func::Diag) else {
        return Ok(None);
    };
    let dims = n.graph.dims(p).clone();
    if !is_square(&dims) || crate::index::is_one(&dims[0]) {
        return Ok(None);
    }
    let Node::Binary(BinOp::Mul, a, t) = *n.graph.node(p) else {
        return Ok(None);
    };
    let Node::T(b) = *n.graph.node(t) else {
        return Ok(None);
    };
    if n.graph.dims(a) != n.graph.dims(b) {
        return Ok(None);
    }
    let columns = n.graph.dims(b)[1].clone();
    let hadamard = n.graph.binary(BinOp::HadMul, a, b)?;
    let ones = n.graph.ones([columns, DimSpec::Fixed(1)]);
    Ok(Some(n.graph.binary(BinOp::Mul, hadamard, ones)?))
}

fn diag_of_constant(n: &mut Normalizer<'_>, id: Id) -> Rewrite {
    // The diagonal of an n×n fill of c is the column c·𝟙ₙ.
    if let Some(m) = call_arg(n, id, Func::Diag) {
        let dims = n.graph.dims(m).clone();
        if is_square(&dims) && !crate::index::is_one(&dims[0]) {
            return match n.graph.fill_value(m).cloned() {
                Some(c) => Ok(Some(n.graph.fill(c, [dims[0].clone(), DimSpec::Fixed(1)]))),
                None => Ok(None),
            };
        }
    }
    let Some(v) = diag_vector(n, id) else {
        return Ok(None);
    };
    let size = n.graph.dims(v)[0].clone();
    let (c, fill) = match *n.graph.node(v) {
        Node::Binary(BinOp::Mul, c, f) if n.graph.is_scalar(c) => (Some(c), f),
        _ => (None, v),
    };
    let Node::Fill(_, value) = n.graph.node(fill).clone() else {
        return Ok(None);
    };
    let eye = n.graph.eye(size);
    let scaled = match value.is(1) {
        true => eye,
        false => {
            let k = n.graph.num(value.value().clone());
            n.graph.binary(BinOp::Mul, k, eye)?
        }
    };
    Ok(Some(match c {
        Some(c) => n.graph.binary(BinOp::Mul, c, scaled)?,
        None => scaled,
    }))
}

fn norm_squared(n: &mut Normalizer<'_>, id: Id) -> Rewrite {
    let Node::Binary(BinOp::Pow | BinOp::HadPow, base, p) = *n.graph.node(id) else {
        return Ok(None);
    };
    if !n.graph.is_number(p, 2) {
        return Ok(None);
    }
    match call_arg(n, base, Func::Norm2) {
        Some(x) if is_column(n.graph.dims(x)) => {
            let xt = n.graph.transpose(x);
            Ok(Some(n.graph.binary(BinOp::Mul, xt, x)?))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_are_named_once_and_documented() {
        for (i, r) in RULES.iter().enumerate() {
            assert!(
                r.name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{} is not kebab-case",
                r.name
            );
            assert!(!r.doc.is_empty() && !r.terminates.is_empty(), "{}", r.name);
            assert!(
                RULES[..i].iter().all(|q| q.name != r.name),
                "{} twice",
                r.name
            );
            assert!(rule(r.name).is_some());
        }
    }
}
