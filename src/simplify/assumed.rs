//! The rules that read facts about values: symmetry (of a declared
//! variable, or of a product such as `Xᵀ·S·X`), rows that sum to one,
//! discrete entries (±1, 0/1), positive entries and orthogonality.
//!
//! A fact about a declared variable comes from [`Assumptions`] and is
//! recorded in the rule's step ([`Normalizer::used`]); a fact that holds
//! by structure (`Xᵀ·X` is symmetric, `exp(u)` is positive) needs none.
//!
//! [`Assumptions`]: super::assume::Assumptions

use num_integer::Integer;
use num_traits::{One, Signed};

use super::assume::{Fact, Used};
use super::normal::Normalizer;
use super::rules::{call_arg, chain_factors, is_column, Rewrite};
use crate::algebra::Rational;
use crate::index::{GraphError, Id, Node};
use crate::syntax::{BinOp, Func};

/// How deep the structural readings ([`symmetric`], [`positive`]) look.
const MAX_DEPTH: usize = 24;

/// The assumption `fact` about `id` when `id` is a declared variable that
/// has it.
fn declared(n: &Normalizer<'_>, id: Id, fact: Fact) -> Option<Used> {
    match n.graph.node(id) {
        Node::Var(name) => n.assumptions.lookup(name, fact),
        _ => None,
    }
}

/// A structural reading of `id` at `depth`: the assumptions it needs, or
/// `None` when it is not known.
type Reading = fn(&Normalizer<'_>, Id, usize) -> Option<Vec<Used>>;

/// The assumptions under which `reading` holds of both operands.
fn both(
    n: &Normalizer<'_>,
    operands: [Id; 2],
    depth: usize,
    reading: Reading,
) -> Option<Vec<Used>> {
    let mut used = reading(n, operands[0], depth + 1)?;
    used.extend(reading(n, operands[1], depth + 1)?);
    Some(used)
}

/// The assumptions under which the square matrix `id` is symmetric, or
/// `None` when that is not known.
fn symmetric(n: &Normalizer<'_>, id: Id, depth: usize) -> Option<Vec<Used>> {
    let dims = n.graph.dims(id);
    if depth > MAX_DEPTH || dims[0] != dims[1] {
        return None;
    }
    if let Some(u) = declared(n, id, Fact::Symmetric) {
        return Some(vec![u]);
    }
    let both = |a: Id, b: Id| both(n, [a, b], depth, symmetric);
    match *n.graph.node(id) {
        Node::Const(_) | Node::Fill(..) | Node::Num(_) => Some(Vec::new()),
        Node::Call(Func::Diag, v) if is_column(n.graph.dims(v)) => Some(Vec::new()),
        Node::Neg(a) | Node::T(a) => symmetric(n, a, depth + 1),
        Node::Call(Func::Inv, a) => symmetric(n, a, depth + 1),
        Node::Call(f, a) if f.is_elementwise() => symmetric(n, a, depth + 1),
        Node::Binary(BinOp::Add | BinOp::Sub | BinOp::HadMul | BinOp::HadDiv, a, b) => {
            let (sa, sb) = (n.graph.is_scalar(a), n.graph.is_scalar(b));
            match (sa, sb) {
                (true, _) => symmetric(n, b, depth + 1),
                (_, true) => symmetric(n, a, depth + 1),
                _ => both(a, b),
            }
        }
        Node::Binary(BinOp::HadPow, a, _) => symmetric(n, a, depth + 1),
        Node::Binary(BinOp::Mul | BinOp::Div, a, b) if n.graph.is_scalar(a) => {
            symmetric(n, b, depth + 1)
        }
        Node::Binary(BinOp::Mul | BinOp::Div, a, b) if n.graph.is_scalar(b) => {
            symmetric(n, a, depth + 1)
        }
        Node::Binary(BinOp::Mul, ..) => palindrome(n, id, depth),
        _ => None,
    }
}

/// A product `F₁·…·Fₖ` with `Fₖ₊₁₋ᵢ = Fᵢᵀ` and a symmetric middle factor
/// (`A·Aᵀ`, `Xᵀ·S·X`) is symmetric.
fn palindrome(n: &Normalizer<'_>, id: Id, depth: usize) -> Option<Vec<Used>> {
    let mut chain = Vec::new();
    chain_factors(n, id, &mut chain);
    let k = chain.len();
    for i in 0..k / 2 {
        if !transposes(n, chain[i], chain[k - 1 - i]) {
            return None;
        }
    }
    match k % 2 {
        0 => Some(Vec::new()),
        _ => symmetric(n, chain[k / 2], depth + 1),
    }
}

/// True when `b` is `aᵀ` as nodes (either way round).
fn transposes(n: &Normalizer<'_>, a: Id, b: Id) -> bool {
    matches!(*n.graph.node(b), Node::T(x) if x == a)
        || matches!(*n.graph.node(a), Node::T(x) if x == b)
}

/// The transpose of `f`: `f` itself when it is known to be symmetric (the
/// assumptions used are recorded), else `fᵀ`.
pub(super) fn transposed(n: &mut Normalizer<'_>, f: Id) -> Id {
    match symmetric(n, f, 0) {
        Some(used) => {
            n.used.extend(used);
            f
        }
        None => n.graph.transpose(f),
    }
}

/// `Sᵀ = S` for a symmetric S.
pub(super) fn transpose_of_symmetric(n: &mut Normalizer<'_>, id: Id) -> Rewrite {
    let Node::T(s) = *n.graph.node(id) else {
        return Ok(None);
    };
    match symmetric(n, s, 0) {
        Some(used) => {
            n.used.extend(used);
            Ok(Some(s))
        }
        None => Ok(None),
    }
}

/// The variable `y` of `y` or `yᵀ` when its rows (or a vector's entries)
/// sum to one.
fn summing_to_one(n: &Normalizer<'_>, id: Id) -> Option<(Used, bool)> {
    match *n.graph.node(id) {
        Node::T(v) => declared(n, v, Fact::RowsSumToOne).map(|u| (u, true)),
        _ => declared(n, id, Fact::RowsSumToOne).map(|u| (u, false)),
    }
}

/// True for a column of ones.
fn is_ones_column(n: &Normalizer<'_>, id: Id) -> bool {
    matches!(n.graph.node(id), Node::Fill(_, v) if v.is(1)) && is_column(n.graph.dims(id))
}

/// `T·𝟙 = 𝟙` and `𝟙ᵀ·Tᵀ = 𝟙ᵀ` for a matrix whose rows sum to one;
/// `yᵀ·𝟙 = 𝟙ᵀ·y = sum(y) = 1` for such a vector.
pub(super) fn rows_sum_to_one(n: &mut Normalizer<'_>, id: Id) -> Rewrite {
    if let Some(y) = call_arg(n, id, Func::Sum) {
        if is_column(n.graph.dims(y)) {
            if let Some((u, false)) = summing_to_one(n, y) {
                n.used.push(u);
                return Ok(Some(n.graph.int(1)));
            }
        }
        return Ok(None);
    }
    adjacent_pair(n, id, |n, a, b| {
        let found = if let (Some((u, false)), true) = (summing_to_one(n, a), is_ones_column(n, b)) {
            Some((u, a, false))
        } else if let (true, Some((u, true))) = (n.is_ones_row(a), summing_to_one(n, b)) {
            Some((u, b, true))
        } else {
            None
        };
        Ok(found.map(|(u, y, row)| {
            let rows = n.graph.dims(y)[usize::from(row)].clone();
            let ones = n.graph.ones([rows, crate::syntax::DimSpec::Fixed(1)]);
            (u, if row { n.graph.transpose(ones) } else { ones })
        }))
    })
}

/// The product `id` with its first pair of adjacent factors that `pair`
/// replaces, replaced (the assumption recorded).
fn adjacent_pair(
    n: &mut Normalizer<'_>,
    id: Id,
    pair: impl Fn(&mut Normalizer<'_>, Id, Id) -> Result<Option<(Used, Id)>, GraphError>,
) -> Rewrite {
    let Node::Binary(BinOp::Mul, ..) = *n.graph.node(id) else {
        return Ok(None);
    };
    let mut chain = Vec::new();
    chain_factors(n, id, &mut chain);
    for i in 0..chain.len().saturating_sub(1) {
        let Some((u, replacement)) = pair(n, chain[i], chain[i + 1])? else {
            continue;
        };
        n.used.push(u);
        let mut rebuilt: Vec<Id> = chain[..i].to_vec();
        rebuilt.push(replacement);
        rebuilt.extend_from_slice(&chain[i + 2..]);
        return Ok(Some(product(n, &rebuilt)?));
    }
    Ok(None)
}

/// The product of a chain of factors, left to right.
fn product(n: &mut Normalizer<'_>, chain: &[Id]) -> Result<Id, GraphError> {
    let mut out = chain[0];
    for &f in &chain[1..] {
        out = n.graph.binary(BinOp::Mul, out, f)?;
    }
    Ok(out)
}

/// `y.^k`, `|y|` and `sign(y)` for entries that are ±1 (`y.^2 = 1`) or
/// 0 and 1 (`y.^k = y`).
pub(super) fn discrete_entries(n: &mut Normalizer<'_>, id: Id) -> Rewrite {
    let (y, power) = match *n.graph.node(id) {
        Node::Binary(BinOp::HadPow | BinOp::Pow, y, p) => match n.graph.num_value(p) {
            Some(k) if k.is_integer() && k >= Rational::one() => (y, Some(k)),
            _ => return Ok(None),
        },
        Node::Call(Func::Abs | Func::Sign, y) => (y, None),
        _ => return Ok(None),
    };
    let is_abs = matches!(*n.graph.node(id), Node::Call(Func::Abs, _));
    let ones = |n: &mut Normalizer<'_>| {
        let dims = n.graph.dims(y).clone();
        n.graph.ones(dims)
    };
    if let Some(u) = declared(n, y, Fact::SquaresToOne) {
        n.used.push(u);
        let odd = power.map_or(!is_abs, |k| k.to_integer().is_odd());
        return Ok(Some(if odd { y } else { ones(n) }));
    }
    if let Some(u) = declared(n, y, Fact::SquaresToItself) {
        n.used.push(u);
        return Ok(Some(y));
    }
    Ok(None)
}

/// The assumptions under which every entry of `id` is positive, or `None`
/// when that is not known.
fn positive(n: &Normalizer<'_>, id: Id, depth: usize) -> Option<Vec<Used>> {
    if depth > MAX_DEPTH {
        return None;
    }
    if let Some(u) = declared(n, id, Fact::Positive) {
        return Some(vec![u]);
    }
    let both = |a: Id, b: Id| both(n, [a, b], depth, positive);
    match n.graph.node(id).clone() {
        Node::Num(v) | Node::Fill(_, v) if v.value().is_positive() => Some(Vec::new()),
        Node::Call(Func::Exp | Func::Sigmoid | Func::Softmax, _) => Some(Vec::new()),
        Node::Call(Func::Sqrt, a) | Node::T(a) => positive(n, a, depth + 1),
        Node::Binary(BinOp::HadPow | BinOp::Pow, a, _) => positive(n, a, depth + 1),
        Node::Binary(BinOp::Add | BinOp::HadMul | BinOp::HadDiv, a, b) => both(a, b),
        Node::Binary(BinOp::Mul | BinOp::Div, a, b)
            if n.graph.is_scalar(a) || n.graph.is_scalar(b) =>
        {
            both(a, b)
        }
        _ => None,
    }
}

/// `|x| = x`, `relu(x) = x`, `sign(x) = 𝟙` and `sqrt(x.^2) = x` for
/// positive entries.
pub(super) fn positive_entries(n: &mut Normalizer<'_>, id: Id) -> Rewrite {
    let (x, to_ones) = match *n.graph.node(id) {
        Node::Call(Func::Abs | Func::Relu, x) => (x, false),
        Node::Call(Func::Sign, x) => (x, true),
        Node::Call(Func::Sqrt, sq) => match *n.graph.node(sq) {
            Node::Binary(BinOp::HadPow | BinOp::Pow, x, p) if n.graph.is_number(p, 2) => (x, false),
            _ => return Ok(None),
        },
        _ => return Ok(None),
    };
    let Some(used) = positive(n, x, 0) else {
        return Ok(None);
    };
    n.used.extend(used);
    if to_ones {
        let dims = n.graph.dims(x).clone();
        return Ok(Some(n.graph.ones(dims)));
    }
    Ok(Some(x))
}

/// `Qᵀ·Q = Q·Qᵀ = I` and `Q⁻¹ = Qᵀ` for an orthogonal Q.
pub(super) fn orthogonal(n: &mut Normalizer<'_>, id: Id) -> Rewrite {
    if let Some(q) = call_arg(n, id, Func::Inv) {
        if let Some(u) = declared(n, q, Fact::Orthogonal) {
            n.used.push(u);
            return Ok(Some(n.graph.transpose(q)));
        }
        return Ok(None);
    }
    adjacent_pair(n, id, |n, a, b| {
        if !transposes(n, a, b) {
            return Ok(None);
        }
        let q = match *n.graph.node(a) {
            Node::T(q) => q,
            _ => a,
        };
        let Some(u) = declared(n, q, Fact::Orthogonal) else {
            return Ok(None);
        };
        let size = n.graph.dims(a)[0].clone();
        Ok(Some((u, n.graph.eye(size))))
    })
}
