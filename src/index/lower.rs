//! Lowering: a graph node written entry by entry in index notation.
//!
//! `Y = X*W + B` at `[i,j]` becomes `Σ_k X[i,k] W[k,j] + B[i,j]`. Only
//! multilinear operations are lowered (products, sums, transposes, traces,
//! `diag`, Hadamard products, scalings, constants); anything non-linear is
//! read as an opaque entry of its node. Which nodes are opened up is the
//! caller's choice (`expand`): the node itself for a local derivative, every
//! node on a path to a tangent when a Jacobian is read off a differential.

use super::error::Limit;
use super::graph::{is_one, is_scalar, Graph, GraphError, Id, Node};
use super::term::{compact, negated, slots, Factor, IndexSpace, Ix, Tensor, Term};
use crate::syntax::{BinOp, ConstKind, Func};

/// The entry `id[ixs]` as a tensor: constants become numbers and deltas,
/// everything else an opaque [`Factor::Entry`].
pub fn entry(graph: &Graph, id: Id, ixs: &[Ix]) -> Tensor {
    match graph.node(id) {
        Node::Num(n) => vec![Term {
            coeff: n.value().clone(),
            ..Term::one()
        }],
        Node::Fill(_, v) => vec![Term {
            coeff: v.value().clone(),
            ..Term::one()
        }],
        Node::Const(ConstKind::Zeros) => Vec::new(),
        Node::Const(ConstKind::Eye) => {
            let (r, c) = slots(graph.dims(id), ixs);
            match (r, c) {
                (Some(r), Some(c)) => vec![Term {
                    factors: vec![Factor::Delta(r, c)],
                    ..Term::one()
                }],
                _ => vec![Term::one()],
            }
        }
        _ => vec![Term {
            factors: vec![Factor::Entry(id, ixs.to_vec())],
            ..Term::one()
        }],
    }
}

/// The most terms and factors one lowering may build, counted over all its
/// steps. Products of sums multiply term counts, and a differential that
/// reuses a sum many times is opened up once per use: without a budget,
/// either could take exponential time.
pub const MAX_INDEX_TERMS: usize = 2_000_000;

/// Counts `terms` more terms and factors built against [`MAX_INDEX_TERMS`].
fn charge(built: &mut usize, terms: usize) -> Result<(), GraphError> {
    *built = built.saturating_add(terms);
    if *built > MAX_INDEX_TERMS {
        return Err(GraphError::Limit(Limit::IndexTerms {
            max: MAX_INDEX_TERMS,
        }));
    }
    Ok(())
}

/// How many factors the terms of `t` hold together.
fn factors(t: &Tensor) -> usize {
    t.iter().map(|term| term.factors.len()).sum()
}

/// The product of two tensors, charged to the budget.
fn bounded_product(a: &Tensor, b: &Tensor, built: &mut usize) -> Result<Tensor, GraphError> {
    let (na, nb) = (a.len(), b.len());
    charge(
        built,
        na.saturating_mul(nb)
            .saturating_add(nb.saturating_mul(factors(a)))
            .saturating_add(na.saturating_mul(factors(b))),
    )?;
    Ok(product(a, b))
}

/// The product of two tensors (their dummy indices are distinct).
pub fn product(a: &Tensor, b: &Tensor) -> Tensor {
    a.iter()
        .flat_map(|x| b.iter().map(move |y| x.times(y)))
        .collect()
}

fn summed(mut t: Tensor, ixs: &[Ix]) -> Tensor {
    for term in &mut t {
        term.sums.extend_from_slice(ixs);
    }
    t
}

/// The error for an entry index that the shapes should have given.
fn missing_slot(what: &str) -> GraphError {
    GraphError::Shape(format!(
        "{what} is written without the index of one of its sizes"
    ))
}

/// Writes `id[out]` in index notation, opening up the nodes for which
/// `expand` is true and reading the others as entries; refused past
/// [`MAX_INDEX_TERMS`] terms built.
pub fn lower(
    graph: &mut Graph,
    space: &mut IndexSpace,
    id: Id,
    out: &[Ix],
    expand: &dyn Fn(Id) -> bool,
) -> Result<Tensor, GraphError> {
    lower_counted(graph, space, id, out, expand, &mut 0)
}

fn lower_counted(
    graph: &mut Graph,
    space: &mut IndexSpace,
    id: Id,
    out: &[Ix],
    expand: &dyn Fn(Id) -> bool,
    built: &mut usize,
) -> Result<Tensor, GraphError> {
    charge(built, 1)?;
    if !expand(id) {
        return Ok(entry(graph, id, out));
    }
    let dims = graph.dims(id).clone();
    let (row, col) = slots(&dims, out);
    let node = graph.node(id).clone();
    let at = |graph: &Graph, child: Id| compact(graph.dims(child), row, col);
    Ok(match node {
        Node::Neg(a) => {
            let ix = at(graph, a);
            negated(lower_counted(graph, space, a, &ix, expand, built)?)
        }
        Node::T(a) => {
            let ix = compact(graph.dims(a), col, row);
            lower_counted(graph, space, a, &ix, expand, built)?
        }
        Node::Binary(op @ (BinOp::Add | BinOp::Sub), a, b) => {
            let (ia, ib) = (at(graph, a), at(graph, b));
            let mut t = lower_counted(graph, space, a, &ia, expand, built)?;
            let rhs = lower_counted(graph, space, b, &ib, expand, built)?;
            charge(built, rhs.len() + factors(&rhs))?;
            t.extend(if op == BinOp::Sub { negated(rhs) } else { rhs });
            t
        }
        Node::Binary(BinOp::HadMul, a, b) => {
            let (ia, ib) = (at(graph, a), at(graph, b));
            let ta = lower_counted(graph, space, a, &ia, expand, built)?;
            let tb = lower_counted(graph, space, b, &ib, expand, built)?;
            bounded_product(&ta, &tb, built)?
        }
        Node::Binary(BinOp::Mul, a, b) => {
            if is_scalar(graph.dims(a)) || is_scalar(graph.dims(b)) {
                let (ia, ib) = (at(graph, a), at(graph, b));
                let ta = lower_counted(graph, space, a, &ia, expand, built)?;
                let tb = lower_counted(graph, space, b, &ib, expand, built)?;
                bounded_product(&ta, &tb, built)?
            } else {
                let inner = graph.dims(a)[1].clone();
                let k = (!is_one(&inner)).then(|| space.fresh(inner));
                let ia = compact(graph.dims(a), row, k);
                let ib = compact(graph.dims(b), k, col);
                let ta = lower_counted(graph, space, a, &ia, expand, built)?;
                let tb = lower_counted(graph, space, b, &ib, expand, built)?;
                summed(
                    bounded_product(&ta, &tb, built)?,
                    &k.into_iter().collect::<Vec<_>>(),
                )
            }
        }
        Node::Binary(op @ (BinOp::Div | BinOp::HadDiv), a, b) if !expand(b) => {
            let one = graph.int(1);
            let reciprocal = graph.binary(op, one, b)?;
            let (ia, ib) = (at(graph, a), at(graph, reciprocal));
            let ta = lower_counted(graph, space, a, &ia, expand, built)?;
            bounded_product(&ta, &entry(graph, reciprocal, &ib), built)?
        }
        Node::Call(Func::Tr, a) => {
            let i = space.fresh(graph.dims(a)[0].clone());
            summed(
                lower_counted(graph, space, a, &[i, i], expand, built)?,
                &[i],
            )
        }
        Node::Call(Func::Sum, a) => {
            let ixs = space.fresh_for(&graph.dims(a).clone());
            summed(lower_counted(graph, space, a, &ixs, expand, built)?, &ixs)
        }
        // The graph keeps no `diag` of a 1×1 value (it is the value), so
        // the slots below are there; an error rather than a panic if not.
        Node::Call(Func::Diag, a) if is_one(&dims[1]) => {
            // diag(M)[i] = M[i,i]
            let i = row.ok_or_else(|| missing_slot("diag(M)"))?;
            lower_counted(graph, space, a, &[i, i], expand, built)?
        }
        Node::Call(Func::Diag, a) => {
            // diag(v)[i,j] = v[i] δ[i,j]
            let (i, j) = (
                row.ok_or_else(|| missing_slot("diag(v)"))?,
                col.ok_or_else(|| missing_slot("diag(v)"))?,
            );
            let tv = lower_counted(graph, space, a, &[i], expand, built)?;
            bounded_product(
                &tv,
                &vec![Term {
                    factors: vec![Factor::Delta(i, j)],
                    ..Term::one()
                }],
                built,
            )?
        }
        _ => {
            if node.children().iter().any(|&c| expand(c)) {
                return Err(GraphError::NonlinearDifferential);
            }
            entry(graph, id, out)
        }
    })
}
