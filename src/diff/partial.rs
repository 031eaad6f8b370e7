//! Local derivatives in index form: `∂node[out]/∂child[at]`.
//!
//! Multilinear operations (products, sums, transposes, traces, `diag`,
//! Hadamard products) are lowered to index notation and differentiated by
//! the product rule, `∂X[i,k]/∂X[a,b] = δ[i,a] δ[k,b]` for each occurrence.
//! Non-linear operations contribute their known derivative as an opaque
//! factor (`exp′ = exp`, `∂ det X/∂X[a,b] = det X · inv(X)[b,a]`,
//! `∂ inv(X)[i,j]/∂X[a,b] = −inv(X)[i,a] inv(X)[b,j]`, …) times the deltas
//! that tie the entries together: the chain rule.

use num_traits::One;

use crate::algebra::{decimal_of_f64, Rational};
use crate::index::{
    compact, entry, lower, negated, product, slots, Factor, Graph, GraphError, Id, IndexSpace, Ix,
    Node, Tensor, Term,
};
use crate::syntax::{BinOp, Func};

/// Why a derivative cannot be taken.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum DiffError {
    /// A node could not be built or lowered.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// A rule met an entry with the wrong number of indices: a bug of
    /// matcalc, reported rather than a panic.
    #[error("internal: {what} needs an entry of a {wanted}, got {got} indices")]
    IndexCount {
        /// The rule.
        what: &'static str,
        /// `matrix` or `vector`.
        wanted: &'static str,
        /// How many indices it got.
        got: usize,
    },
    /// The derivative of an abstract gradient `dL(E)` at a matrix E: the
    /// Hessian of L there is a 4-index tensor.
    #[error(
        "the derivative of d{name}(…) at a matrix argument needs the Hessian of {name} as a \
         4-index tensor, which matcalc does not have (it has d2{name} at a scalar or a column \
         argument)"
    )]
    SecondDerivativeOfAbstract {
        /// The abstract function.
        name: String,
    },
    /// The derivative of an abstract Hessian `d2L(E)` needs the third
    /// derivative of L.
    #[error(
        "the derivative of d2{name}(…) needs the third derivative of {name}, which matcalc \
         does not have; d2{name} may only be applied to arguments that do not depend on the \
         variable"
    )]
    ThirdDerivativeOfAbstract {
        /// The abstract function.
        name: String,
    },
    /// An element-wise derivative was asked of a function that is not.
    #[error("internal: `{func}` is not element-wise")]
    NotElementwise {
        /// The function.
        func: &'static str,
    },
    /// A step of the reverse or forward pass has no matrix form.
    #[error("the {mode} step through `{node}` has no matrix form")]
    NoMatrixForm {
        /// `reverse` or `forward`.
        mode: &'static str,
        /// The node, in words.
        node: String,
    },
    /// The differential of a Jacobian is not linear in the direction.
    #[error("the differential is not linear in the variable")]
    NonlinearInDirection,
}

impl DiffError {
    /// True for an error that is a bug of matcalc rather than a limit of
    /// what it differentiates.
    pub fn is_internal(&self) -> bool {
        matches!(
            self,
            DiffError::IndexCount { .. }
                | DiffError::NotElementwise { .. }
                | DiffError::Graph(GraphError::Shape(_))
        )
    }
}

fn deltas(a: &[Ix], b: &[Ix]) -> Tensor {
    vec![Term {
        factors: a
            .iter()
            .zip(b)
            .map(|(&x, &y)| Factor::Delta(x, y))
            .collect(),
        ..Term::one()
    }]
}

/// The two indices of a matrix entry. Shapes guarantee them wherever a
/// rule asks (the matrix functions of a 1×1 value are numbers in the
/// graph); an error rather than a panic where they are missing.
fn pair(ixs: &[Ix], what: &'static str) -> Result<(Ix, Ix), DiffError> {
    match ixs {
        [i, j] => Ok((*i, *j)),
        _ => Err(DiffError::IndexCount {
            what,
            wanted: "matrix",
            got: ixs.len(),
        }),
    }
}

/// The one index of a vector entry (see [`pair`]).
fn single(ixs: &[Ix], what: &'static str) -> Result<Ix, DiffError> {
    match ixs {
        [i] => Ok(*i),
        _ => Err(DiffError::IndexCount {
            what,
            wanted: "vector",
            got: ixs.len(),
        }),
    }
}

/// `∂node[out]/∂child[at]`, summing over every position where `child`
/// occurs among the node's operands.
pub fn partial(
    graph: &mut Graph,
    space: &mut IndexSpace,
    node: Id,
    child: Id,
    out: &[Ix],
    at: &[Ix],
) -> Result<Tensor, DiffError> {
    let kind = graph.node(node).clone();
    let dims = graph.dims(node).clone();
    let (row, col) = slots(&dims, out);
    // Indices of operand `c` that line up with the output entry (broadcasting
    // drops the indices of 1-dims).
    let aligned = |graph: &Graph, c: Id| compact(graph.dims(c), row, col);
    let mut total = Tensor::new();
    match kind {
        Node::Call(func, a) if func.is_elementwise() => {
            if let Some(derivative) = elementwise_derivative(graph, func, a)? {
                let ia = aligned(graph, a);
                total = product(&entry(graph, derivative, out), &deltas(&ia, at));
            }
        }
        Node::Call(Func::Det, a) => {
            // ∂ det A / ∂A[p,q] = det(A) inv(A)[q,p]
            let inv = graph.call(Func::Inv, a)?;
            let (p, q) = pair(at, "the derivative of det")?;
            total = product(&entry(graph, node, &[]), &entry(graph, inv, &[q, p]));
        }
        Node::Call(Func::Logdet, a) => {
            let inv = graph.call(Func::Inv, a)?;
            let (p, q) = pair(at, "the derivative of logdet")?;
            total = entry(graph, inv, &[q, p]);
        }
        Node::Call(Func::Inv, _) => {
            // ∂ inv(A)[i,j] / ∂A[p,q] = −inv(A)[i,p] inv(A)[q,j]
            let (i, j) = pair(out, "the derivative of inv")?;
            let (p, q) = pair(at, "the derivative of inv")?;
            total = negated(product(
                &entry(graph, node, &[i, p]),
                &entry(graph, node, &[q, j]),
            ));
        }
        Node::Call(Func::Norm2, a) => {
            // ∂‖A‖/∂A[p,q] = A[p,q] / ‖A‖
            let one = graph.int(1);
            let reciprocal = graph.binary(BinOp::Div, one, node)?;
            total = product(&entry(graph, a, at), &entry(graph, reciprocal, &[]));
        }
        Node::Call(Func::Norm1, a) => {
            let sign = graph.call(Func::Sign, a)?;
            total = entry(graph, sign, at);
        }
        Node::Call(Func::Logsumexp, a) => {
            // ∂ log Σ exp(A) / ∂A[p,q] = exp(A)[p,q] / Σ exp(A)
            let weights = if graph.is_scalar(a) {
                graph.int(1)
            } else if graph.dims(a)[1] == crate::syntax::DimSpec::Fixed(1) {
                graph.call(Func::Softmax, a)?
            } else {
                let e = graph.call(Func::Exp, a)?;
                let s = graph.call(Func::Sum, e)?;
                graph.binary(BinOp::Div, e, s)?
            };
            total = entry(graph, weights, at);
        }
        Node::Call(Func::Softmax, _) => {
            // ∂s[i]/∂a[p] = s[i] δ[i,p] − s[i] s[p]
            let what = "the derivative of softmax";
            let (i, p) = (single(out, what)?, single(at, what)?);
            let si = entry(graph, node, &[i]);
            let mut t = product(&si, &deltas(&[i], &[p]));
            t.extend(negated(product(&si, &entry(graph, node, &[p]))));
            total = t;
        }
        Node::Binary(op @ (BinOp::Div | BinOp::HadDiv), a, b) => {
            if a == child {
                // ∂(a/b)/∂a = 1/b
                let one = graph.int(1);
                let reciprocal = graph.binary(op, one, b)?;
                let ir = aligned(graph, reciprocal);
                let ia = aligned(graph, a);
                total.extend(product(&entry(graph, reciprocal, &ir), &deltas(&ia, at)));
            }
            if b == child {
                // ∂(a/b)/∂b = −a/b²
                let two = graph.int(2);
                let power = if op == BinOp::Div {
                    BinOp::Pow
                } else {
                    BinOp::HadPow
                };
                let square = graph.binary(power, b, two)?;
                let quotient = graph.binary(op, a, square)?;
                let ib = aligned(graph, b);
                total.extend(negated(product(
                    &entry(graph, quotient, out),
                    &deltas(&ib, at),
                )));
            }
        }
        Node::Binary(op @ (BinOp::Pow | BinOp::HadPow), a, b) => {
            let times = if op == BinOp::Pow {
                BinOp::Mul
            } else {
                BinOp::HadMul
            };
            if a == child {
                // ∂ a^b / ∂a = b a^(b−1)
                let one = graph.int(1);
                let lowered = graph.binary(BinOp::Sub, b, one)?;
                let power = graph.binary(op, a, lowered)?;
                let derivative = graph.binary(times, b, power)?;
                let ia = aligned(graph, a);
                total.extend(product(&entry(graph, derivative, out), &deltas(&ia, at)));
            }
            // ∂ a^b / ∂b = a^b log(a); for a zero base, 0^b is 0 wherever it
            // is differentiable (b > 0), so the derivative is 0 there.
            if b == child && !graph.is_zero(a) {
                let log = graph.call(Func::Log, a)?;
                let derivative = graph.binary(times, node, log)?;
                let ib = aligned(graph, b);
                total.extend(product(&entry(graph, derivative, out), &deltas(&ib, at)));
            }
        }
        Node::Apply(name, a) => {
            let gradient = graph.grad(&name, a);
            total = entry(graph, gradient, at);
        }
        Node::Grad(name, a) => {
            // ∂ dL(a)[i] / ∂a[p] = d2L(a)[i,p] at a scalar or a column.
            if graph.dims(a)[1] != crate::syntax::DimSpec::Fixed(1) {
                return Err(DiffError::SecondDerivativeOfAbstract { name });
            }
            let hessian = graph.hess(&name, a);
            let ixs: Vec<Ix> = out.iter().chain(at).copied().collect();
            total = entry(graph, hessian, &ixs);
        }
        Node::Hess(name, _) => {
            // Reached only when the argument of `d2L` depends on the
            // variable.
            return Err(DiffError::ThirdDerivativeOfAbstract { name });
        }
        _ => {
            // Multilinear: lower one level and apply the product rule.
            let lowered = lower(graph, space, node, out, &|x| x == node)?;
            for term in &lowered {
                for (k, factor) in term.factors.iter().enumerate() {
                    let Factor::Entry(id, ixs) = factor else {
                        continue;
                    };
                    if *id != child {
                        continue;
                    }
                    let mut rest = term.clone();
                    rest.factors.remove(k);
                    total.extend(product(&vec![rest], &deltas(ixs, at)));
                }
            }
        }
    }
    Ok(total)
}

/// The derivative of an element-wise function as a node of the same shape
/// (`None` where it is zero: `sign`).
pub fn elementwise_derivative(
    graph: &mut Graph,
    func: Func,
    a: Id,
) -> Result<Option<Id>, DiffError> {
    let node = graph.call(func, a)?;
    let one = graph.int(1);
    let two = graph.int(2);
    let derivative = match func {
        Func::Exp => node,
        Func::Log if graph.is_scalar(a) => graph.binary(BinOp::Div, one, a)?,
        Func::Log => graph.binary(BinOp::HadDiv, one, a)?,
        Func::Sin => graph.call(Func::Cos, a)?,
        Func::Cos => {
            let s = graph.call(Func::Sin, a)?;
            graph.neg(s)
        }
        Func::Tanh => {
            let sq = graph.binary(BinOp::HadPow, node, two)?;
            graph.binary(BinOp::Sub, one, sq)?
        }
        Func::Tan => {
            let sq = graph.binary(BinOp::HadPow, node, two)?;
            graph.binary(BinOp::Add, one, sq)?
        }
        Func::Softplus => graph.call(Func::Sigmoid, a)?,
        Func::Erf => {
            // 2/√π · exp(−x²), the constant as the exact rational of its
            // double-precision decimal (π has no rational value).
            let sq = graph.binary(BinOp::HadPow, a, two)?;
            let minus = graph.neg(sq);
            let e = graph.call(Func::Exp, minus)?;
            let c = graph.num(
                decimal_of_f64(std::f64::consts::FRAC_2_SQRT_PI).unwrap_or_else(Rational::one),
            );
            graph.binary(BinOp::Mul, c, e)?
        }
        Func::Sqrt => {
            let twice = graph.binary(BinOp::Mul, two, node)?;
            graph.binary(BinOp::HadDiv, one, twice)?
        }
        Func::Sigmoid => {
            let rest = graph.binary(BinOp::Sub, one, node)?;
            graph.binary(BinOp::HadMul, node, rest)?
        }
        Func::Relu => {
            // (sign(x) + 1)/2, valid away from the kink at 0.
            let s = graph.call(Func::Sign, a)?;
            let shifted = graph.binary(BinOp::Add, s, one)?;
            graph.binary(BinOp::Div, shifted, two)?
        }
        Func::Abs => graph.call(Func::Sign, a)?,
        Func::Sign => return Ok(None),
        other => return Err(DiffError::NotElementwise { func: other.name() }),
    };
    Ok(Some(derivative))
}
