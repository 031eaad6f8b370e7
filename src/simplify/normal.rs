//! The canonical sum-of-products form of a matrix expression.
//!
//! A node is read as a sum of terms; each term is a coefficient, a sorted
//! list of scalar factors and a chain of matrix factors multiplied in order.
//! Transposes are pushed into chains (`(A*B)' = B'*A'`), negations and
//! numbers go into coefficients, equal terms are collected, and a product of
//! sums is expanded only while the result stays small. Rebuilding picks, per
//! term, the writing with fewer transposes and factors out a common left or
//! right factor of several terms (`dL*X + dL'*X = (dL + dL')*X`).

use std::collections::HashMap;

use num_traits::{One, Signed, ToPrimitive, Zero};

use super::assume::{Assumptions, Used};
use crate::algebra::Rational;

use crate::index::{is_scalar, Graph, GraphError, Id, Limit, Node};
use crate::syntax::{BinOp, DimSpec, Func};

/// One term: `coeff · Π scalars · (chain[0] * chain[1] * …)`.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Term {
    /// The exact coefficient.
    pub(super) coeff: Rational,
    /// Scalar factors, sorted by key once collected.
    pub(super) scalars: Vec<Id>,
    /// Matrix factors, multiplied in order.
    pub(super) chain: Vec<Id>,
}

impl Term {
    /// `coeff · node`: the node a scalar factor or a one-factor chain.
    pub(super) fn of(coeff: Rational, node: Id, scalar: bool) -> Term {
        Term {
            coeff,
            scalars: if scalar { vec![node] } else { Vec::new() },
            chain: if scalar { Vec::new() } else { vec![node] },
        }
    }

    /// The number `c`.
    pub(super) fn number(coeff: Rational) -> Term {
        Term {
            coeff,
            scalars: Vec::new(),
            chain: Vec::new(),
        }
    }
}

pub(super) type Poly = Vec<Term>;

/// A structural sort key: tree size, then structure hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) struct Key(pub(super) u32, pub(super) u64);

/// The FNV-1a hash, fixed so that orders are the same on every run.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// Puts nodes into canonical form, memoising per node.
pub struct Normalizer<'g> {
    pub(super) graph: &'g mut Graph,
    memo: HashMap<Id, Id>,
    keys: HashMap<Id, Key>,
    /// Terms built so far, against [`MAX_NORMALIZE_STEPS`].
    steps: usize,
    /// Which nodes root an element-wise region.
    pub(super) elementwise_memo: super::elementwise::ElementwiseMemo,
    /// The facts the rules may use.
    pub(super) assumptions: Assumptions,
    /// The facts the last rule used (taken by the driver into its step).
    pub(super) used: Vec<Used>,
    /// The points of gradients `dL(p)` kept as written, because the writer
    /// recognises them as the argument of their `L(…)` and writes a bare
    /// `dL`; the point of any other gradient is simplified like any
    /// argument.
    pub(super) kept_points: Vec<Id>,
}

/// The simplifier's step budget: the most terms one [`Normalizer`] may
/// build. Within a DAG a sum can be shared many times, and reading each use
/// again could take exponential time; past the budget normalisation stops
/// with [`GraphError::Limit`].
pub const MAX_NORMALIZE_STEPS: usize = 1_000_000;

impl<'g> Normalizer<'g> {
    /// A normaliser over `graph`, with no assumptions.
    pub fn new(graph: &'g mut Graph) -> Normalizer<'g> {
        Normalizer::assuming(graph, Assumptions::none())
    }

    /// A normaliser over `graph` whose rules may use `assumptions`.
    pub fn assuming(graph: &'g mut Graph, assumptions: Assumptions) -> Normalizer<'g> {
        Normalizer {
            graph,
            memo: HashMap::new(),
            keys: HashMap::new(),
            steps: 0,
            elementwise_memo: HashMap::new(),
            assumptions,
            used: Vec::new(),
            kept_points: Vec::new(),
        }
    }

    /// Counts `terms` more terms against the step budget.
    pub(super) fn charge(&mut self, terms: usize) -> Result<(), GraphError> {
        self.steps = self.steps.saturating_add(terms);
        if self.steps > MAX_NORMALIZE_STEPS {
            return Err(GraphError::Limit(Limit::SimplifySteps {
                max: MAX_NORMALIZE_STEPS,
            }));
        }
        Ok(())
    }

    /// The canonical form of `id`.
    ///
    /// Terminates: it recurses only into children (a DAG), and each rebuild
    /// makes a bounded number of nodes.
    pub fn normalize(&mut self, id: Id) -> Result<Id, GraphError> {
        if let Some(&done) = self.memo.get(&id) {
            return Ok(done);
        }
        let poly = self.poly(id)?;
        let mut out = self.rebuild(poly, id)?;
        // Terms collected outside a region can be written as one (`a/s - s`
        // built from `a/s` and `-s`): read that writing as the region it
        // is, as a second simplification would.
        if out != id && !self.is_elementwise(id) && self.is_elementwise(out) {
            let region = self.elementwise(out)?;
            out = self.rebuild(region, out)?;
        }
        self.memo.insert(id, out);
        Ok(out)
    }

    /// A structural sort key that does not depend on construction order:
    /// the tree size, then a hash of the structure (FNV-1a).
    pub(super) fn key(&mut self, id: Id) -> Key {
        if let Some(&k) = self.keys.get(&id) {
            return k;
        }
        let node = self.graph.node(id).clone();
        let kids: Vec<Key> = node.children().into_iter().map(|c| self.key(c)).collect();
        let head = match &node {
            Node::Num(n) => format!("{}", n.value()),
            Node::Var(v) => format!("v{v}"),
            Node::Tangent(v) => format!("d{v}"),
            Node::Fill(_, v) => format!("fill{}", v.value()),
            Node::Const(k) => k.name().to_string(),
            Node::Neg(_) => "neg".into(),
            Node::Binary(op, ..) => op.symbol().into(),
            Node::T(_) => "T".into(),
            Node::Call(f, _) => f.name().into(),
            Node::Apply(n, _) => format!("a{n}"),
            Node::Grad(n, _) => format!("g{n}"),
            Node::Hess(n, _) => format!("h{n}"),
        };
        let dims = self.graph.dims(id);
        let mut hash = Fnv::default();
        hash.write(head.as_bytes());
        hash.write(format!("{}x{}", dims[0], dims[1]).as_bytes());
        let mut size: u32 = 1;
        for k in &kids {
            hash.write(&k.1.to_le_bytes());
            size = size.saturating_add(k.0);
        }
        let k = Key(size, hash.0);
        self.keys.insert(id, k);
        k
    }

    pub(super) fn atom(&mut self, id: Id) -> Result<Poly, GraphError> {
        let rebuilt = self.rebuild_children(id)?;
        if let Some(v) = self.number(rebuilt) {
            return Ok(vec![Term::number(v)]);
        }
        let scalar = is_scalar(self.graph.dims(rebuilt));
        Ok(vec![Term::of(Rational::one(), rebuilt, scalar)])
    }

    /// The node with each child normalised (the node's own kind kept).
    pub(super) fn rebuild_children(&mut self, id: Id) -> Result<Id, GraphError> {
        let node = self.graph.node(id).clone();
        Ok(match node {
            Node::Neg(a) => {
                let a = self.normalize(a)?;
                self.graph.neg(a)
            }
            Node::T(a) => {
                let a = self.normalize(a)?;
                self.graph.transpose(a)
            }
            Node::Binary(op, a, b) => {
                let (mut a, mut b) = (self.normalize(a)?, self.normalize(b)?);
                if op == BinOp::HadMul && self.key(b) < self.key(a) {
                    std::mem::swap(&mut a, &mut b);
                }
                self.graph.binary(op, a, b)?
            }
            Node::Call(f, a) => {
                let a = self.normalize(a)?;
                self.graph.call(f, a)?
            }
            Node::Apply(name, a) => {
                let a = self.normalize(a)?;
                self.graph.apply(&name, a)
            }
            Node::Grad(_, a) | Node::Hess(_, a) if self.kept_points.contains(&a) => id,
            Node::Grad(name, a) => {
                let a = self.normalize(a)?;
                self.graph.grad(&name, a)
            }
            Node::Hess(name, a) => {
                let a = self.normalize(a)?;
                self.graph.hess(&name, a)
            }
            _ => id,
        })
    }

    pub(super) fn poly(&mut self, id: Id) -> Result<Poly, GraphError> {
        self.charge(1)?;
        let node = self.graph.node(id).clone();
        let dims = self.graph.dims(id).clone();
        match node {
            Node::Num(_) => self.atom(id),
            // `matrix(c)` is c times `matrix(1)`, so that fills collect:
            // `matrix(2) + matrix(1)` is `matrix(3)`.
            Node::Fill(_, v) if !v.is(1) => {
                let one = self.graph.ones(dims);
                Ok(scale(self.atom(one)?, v.value()))
            }
            _ if self.is_elementwise(id) => self.elementwise(id),
            Node::Neg(a) => Ok(scale(self.poly(a)?, &-Rational::one())),
            Node::Binary(op @ (BinOp::Add | BinOp::Sub), a, b)
                if self.graph.dims(a) == &dims && self.graph.dims(b) == &dims =>
            {
                let mut p = self.poly(a)?;
                let q = self.poly(b)?;
                p.extend(if op == BinOp::Sub {
                    scale(q, &-Rational::one())
                } else {
                    q
                });
                Ok(p)
            }
            Node::Binary(BinOp::Mul, a, b) => {
                // A sum stays one factor of a product (distributing a matrix
                // factor over it only makes the result larger); numbers are
                // distributed.
                if let Some(c) = self.number(a) {
                    return Ok(scale(self.poly(b)?, &c));
                }
                if let Some(c) = self.number(b) {
                    return Ok(scale(self.poly(a)?, &c));
                }
                let p = self.as_factor(a)?;
                let q = self.as_factor(b)?;
                let (p, q) = (self.seal(p)?, self.seal(q)?);
                self.charge(p.len().saturating_mul(q.len()))?;
                Ok(multiply(&p, &q))
            }
            Node::Binary(BinOp::Div, a, b) => match self.number(b) {
                Some(v) if !v.is_zero() => Ok(scale(self.poly(a)?, &v.recip())),
                Some(_) => self.atom(id),
                None => {
                    // A/s is A times the scalar factor 1/s.
                    let divisor = self.normalize(b)?;
                    let one = self.graph.int(1);
                    let reciprocal = self.graph.binary(BinOp::Div, one, divisor)?;
                    let p = self.as_factor(a)?;
                    let p = self.seal(p)?;
                    let r = vec![Term::of(Rational::one(), reciprocal, true)];
                    self.charge(p.len())?;
                    Ok(multiply(&p, &r))
                }
            },
            Node::T(a) => {
                let p = self.poly(a)?;
                let mut out = Vec::new();
                for mut term in p {
                    term.chain.reverse();
                    // A symmetric factor is its own transpose, so that
                    // `(E·Xᵀ·C)ᵀ` meets `C·X·E` for symmetric C and E.
                    for f in &mut term.chain {
                        *f = super::assumed::transposed(self, *f);
                    }
                    out.push(term);
                }
                Ok(out)
            }
            _ => self.atom(id),
        }
    }

    /// True for a column of ones, `vector(1)`.
    pub(super) fn is_ones_column(&self, id: Id) -> bool {
        matches!(self.graph.node(id), Node::Fill(_, v) if v.is(1))
            && crate::index::is_one(&self.graph.dims(id)[1])
    }

    /// True for a fill of ones of any shape (a row is `vector(1)'`).
    fn is_ones(&self, id: Id) -> bool {
        let fill = match *self.graph.node(id) {
            Node::T(f) => f,
            _ => id,
        };
        matches!(self.graph.node(fill), Node::Fill(_, v) if v.is(1))
    }

    /// True for a row of ones, `vector(1)'`.
    pub(super) fn is_ones_row(&self, id: Id) -> bool {
        matches!(self.graph.node(id), Node::T(f) if matches!(self.graph.node(*f), Node::Fill(_, v) if v.is(1)))
    }

    /// The exact value of a number node: a number, its negation, or a
    /// quotient `p/q` of two.
    pub(super) fn number(&self, id: Id) -> Option<Rational> {
        match self.graph.node(id).clone() {
            Node::Num(n) => Some(n.value().clone()),
            Node::Neg(a) => self.number(a).map(|v| -v),
            Node::Binary(BinOp::Div, a, b) if self.graph.is_scalar(id) => {
                let (p, q) = (self.number(a)?, self.number(b)?);
                (!q.is_zero()).then(|| p / q)
            }
            _ => None,
        }
    }

    /// True for a non-empty chain whose product is 1×1 (such as `x'*A*y`).
    fn is_one_by_one(&self, chain: &[Id]) -> bool {
        match (chain.first(), chain.last()) {
            (Some(&first), Some(&last)) => {
                crate::index::is_one(&self.graph.dims(first)[0])
                    && crate::index::is_one(&self.graph.dims(last)[1])
            }
            _ => false,
        }
    }

    /// A 1×1 chain equals its transpose: of the two writings, the one with
    /// the smaller keys, so that `x'*y` and `y'*x` are one term.
    fn oriented(&mut self, chain: Vec<Id>) -> Vec<Id> {
        if !self.is_one_by_one(&chain) || chain.len() < 2 {
            return chain;
        }
        let flipped: Vec<Id> = chain
            .iter()
            .rev()
            .map(|&f| self.graph.transpose(f))
            .collect();
        let keys = |me: &mut Self, c: &[Id]| c.iter().map(|&f| me.key(f)).collect::<Vec<_>>();
        if keys(self, &flipped) < keys(self, &chain) {
            flipped
        } else {
            chain
        }
    }

    /// The poly of a product's operand: a sum becomes a single factor unless
    /// it is a number.
    fn as_factor(&mut self, id: Id) -> Result<Poly, GraphError> {
        // Collected first: `s + s` is the one term `2*s`, not a sum.
        let p = self.poly(id)?;
        let p = self.collect(p)?;
        if p.len() <= 1 {
            return Ok(p);
        }
        // A coefficient common to every term leaves the sum, so that
        // `2*(t + s)` and `(2*t + 2*s)` are one factor: `2 · (t + s)`.
        let content = content(&p);
        let sum = self.rebuild(scale(p, &content.recip()), id)?;
        let scalar = is_scalar(self.graph.dims(sum));
        Ok(vec![Term::of(content, sum, scalar)])
    }

    /// Turns chains whose product is 1×1 (such as `x'*y`) into scalar
    /// factors, so that concatenating chains stays well-shaped.
    fn seal(&mut self, poly: Poly) -> Result<Poly, GraphError> {
        let mut out = Vec::with_capacity(poly.len());
        for mut term in poly {
            if self.is_one_by_one(&term.chain) {
                let chain = self.oriented(std::mem::take(&mut term.chain));
                let product = self.chain_product(None, &chain)?;
                term.scalars.push(product);
            }
            out.push(term);
        }
        Ok(out)
    }

    /// A scalar factor as `(base, exponent)`: `1/d` is `(d, -1)`, `b^k` is
    /// `(b, k)`.
    fn scalar_power(&self, s: Id) -> (Id, Rational) {
        match *self.graph.node(s) {
            Node::Binary(BinOp::Div | BinOp::HadDiv, one, d) if self.graph.is_number(one, 1) => {
                let (b, k) = self.scalar_power(d);
                (b, -k)
            }
            Node::Binary(BinOp::Pow | BinOp::HadPow, b, p) => match self.graph.num_value(p) {
                Some(k) => (b, k),
                None => (s, Rational::one()),
            },
            _ => (s, Rational::one()),
        }
    }

    /// Merges powers of equal scalar factors of a term: `det(X) *
    /// (1/det(X)) = 1`, `(1/n) * (1/n^2) = 1/n^3`; a power of a number
    /// joins the coefficient (`1.5^-1` is `2/3`).
    fn cancel_scalars(&mut self, term: &mut Term) -> Result<(), GraphError> {
        let mut powers: Vec<(Id, Rational)> = Vec::new();
        for s in std::mem::take(&mut term.scalars) {
            let (b, k) = self.scalar_power(s);
            match powers.iter_mut().find(|(x, _)| *x == b) {
                Some(slot) => slot.1 += k,
                None => powers.push((b, k)),
            }
        }
        for (b, k) in powers {
            // Only a whole power of a number joins the coefficient:
            // `(-0.75)^0.5` stays as written.
            let whole = k
                .is_integer()
                .then(|| k.to_integer().to_i32())
                .flatten()
                .filter(|w| w.abs() <= 64);
            match (self.number(b), whole) {
                _ if k.is_zero() => {}
                (Some(v), Some(w)) if !v.is_zero() => {
                    term.coeff *= num_traits::pow::Pow::pow(&v, w)
                }
                _ => {
                    let factor = self.scalar_factor(b, k)?;
                    term.scalars.push(factor);
                }
            }
        }
        Ok(())
    }

    /// The scalar factor `bᵏ`, written `b`, `b^k` or `1/b^|k|`.
    fn scalar_factor(&mut self, b: Id, k: Rational) -> Result<Id, GraphError> {
        let magnitude = if k.abs().is_one() {
            b
        } else {
            let p = self.graph.num(k.abs());
            self.graph.binary(BinOp::Pow, b, p)?
        };
        if k.is_positive() {
            return Ok(magnitude);
        }
        let one = self.graph.int(1);
        self.graph.binary(BinOp::Div, one, magnitude)
    }

    /// True when `x*y` is an identity: `inv(A)*A`, `A*inv(A)`, and their
    /// transposes.
    fn inverse_pair(&self, x: Id, y: Id) -> bool {
        let inv_of = |a: Id, b: Id| matches!(*self.graph.node(a), Node::Call(Func::Inv, inner) if inner == b);
        if inv_of(x, y) || inv_of(y, x) {
            return true;
        }
        match (self.graph.node(x), self.graph.node(y)) {
            (Node::T(p), Node::T(q)) => inv_of(*p, *q) || inv_of(*q, *p),
            _ => false,
        }
    }

    /// Removes adjacent inverse pairs from a chain (`B*inv(A)*A*C = B*C`).
    /// Also drops identity factors (`I*A = A`).
    fn cancel_inverses(&mut self, chain: Vec<Id>) -> Vec<Id> {
        let mut out: Vec<Id> = Vec::with_capacity(chain.len());
        let mut identity = None;
        for f in chain {
            if matches!(
                self.graph.node(f),
                Node::Const(crate::syntax::ConstKind::Eye)
            ) {
                identity = Some(self.graph.dims(f)[0].clone());
                continue;
            }
            match out.last() {
                Some(&prev) if self.inverse_pair(prev, f) => {
                    identity = Some(self.graph.dims(prev)[0].clone());
                    out.pop();
                }
                _ => out.push(f),
            }
        }
        match (out.is_empty(), identity) {
            (true, Some(n)) => vec![self.graph.eye(n)],
            _ => out,
        }
    }

    /// Replaces each adjacent product of two fills of ones `𝟙ₙₓₖ·𝟙ₖₓₘ`
    /// (k ≠ 1) of a chain by the count k times `𝟙ₙₓₘ` (`𝟙ₙᵀ·𝟙ₙ = n`; for a
    /// symbolic k, the scalar factor `sum(𝟙ₖ)`). An outer product `𝟙ₙ·𝟙ₘᵀ`
    /// stays: its vectors are cheaper to multiply by than the n×m fill.
    fn count_ones(&mut self, term: &mut Term) -> Result<(), GraphError> {
        let mut out: Vec<Id> = Vec::with_capacity(term.chain.len());
        for f in std::mem::take(&mut term.chain) {
            match out.last() {
                Some(&prev)
                    if self.is_ones(prev)
                        && self.is_ones(f)
                        && !crate::index::is_one(&self.graph.dims(f)[0]) =>
                {
                    out.pop();
                    let (rows, cols) = (
                        self.graph.dims(prev)[0].clone(),
                        self.graph.dims(f)[1].clone(),
                    );
                    let ones = self.graph.ones([rows, cols]);
                    if !self.graph.is_scalar(ones) {
                        out.push(ones);
                    }
                    match self.graph.dims(f)[0].clone() {
                        DimSpec::Fixed(n) => term.coeff *= Rational::from_integer(n.into()),
                        n => {
                            let ones = self.graph.ones([n, DimSpec::Fixed(1)]);
                            term.scalars.push(self.graph.call(Func::Sum, ones)?);
                        }
                    }
                }
                _ => out.push(f),
            }
        }
        term.chain = out;
        Ok(())
    }

    fn collect(&mut self, poly: Poly) -> Result<Poly, GraphError> {
        let mut out: Vec<Term> = Vec::new();
        for mut term in poly {
            let chain = self.cancel_inverses(std::mem::take(&mut term.chain));
            term.chain = self.oriented(chain);
            self.count_ones(&mut term)?;
            self.cancel_scalars(&mut term)?;
            let mut keyed: Vec<(Key, Id)> =
                term.scalars.iter().map(|&s| (self.key(s), s)).collect();
            keyed.sort();
            term.scalars = keyed.into_iter().map(|(_, s)| s).collect();
            match out
                .iter_mut()
                .find(|t| t.scalars == term.scalars && t.chain == term.chain)
            {
                Some(existing) => existing.coeff += term.coeff,
                None => out.push(term),
            }
        }
        out.retain(|t| !t.coeff.is_zero());
        Ok(out)
    }

    fn rebuild(&mut self, poly: Poly, original: Id) -> Result<Id, GraphError> {
        let dims = self.graph.dims(original).clone();
        let poly = self.collect(poly)?;
        // A coefficient every term shares leaves the sum, as it does from a
        // product's operand: `2*A + 2*B` is `2*(A + B)` however it was read.
        let common = content(&poly);
        if poly.len() >= 2 && !common.abs().is_one() {
            let inner = self.rebuild(scale(poly, &common.recip()), original)?;
            return self.build_term(&Term::of(common, inner, is_scalar(&dims)));
        }
        // x' - m' is written (x - m)': a sum whose terms need fewer
        // transposes the other way round is built transposed.
        let count = |me: &Self, p: &Poly| -> usize {
            p.iter()
                .flat_map(|t| &t.chain)
                .filter(|&&f| matches!(me.graph.node(f), Node::T(_)))
                .count()
        };
        let all_chains = poly.len() > 1 && poly.iter().all(|t| !t.chain.is_empty());
        if all_chains && !is_scalar(&dims) {
            let mut flipped = poly.clone();
            for t in &mut flipped {
                t.chain.reverse();
                for f in &mut t.chain {
                    *f = self.graph.transpose(*f);
                }
            }
            if count(self, &flipped) + 1 < count(self, &poly) {
                let inner = self.build_sorted(flipped, [dims[1].clone(), dims[0].clone()])?;
                return Ok(self.graph.transpose(inner));
            }
        }
        let built = self.build_sorted(poly, dims.clone())?;
        if self.graph.dims(built) != &dims {
            // A sum of terms that lost their broadcast shape: keep the node.
            return self.rebuild_children(original);
        }
        Ok(built)
    }

    /// Collects `poly` and builds it as a sum of shape `dims`.
    pub(super) fn build_collected(
        &mut self,
        poly: Poly,
        dims: crate::index::Dims,
    ) -> Result<Id, GraphError> {
        let poly = self.collect(poly)?;
        self.build_sorted(poly, dims)
    }

    /// Writes an exact coefficient as a number node: a short decimal as
    /// itself, any other rational as `p/q`.
    pub(super) fn coefficient(&mut self, c: &Rational) -> Result<Id, GraphError> {
        Ok(self.graph.num(c.clone()))
    }

    /// Builds a collected sum in a deterministic order: by structure,
    /// positive terms first.
    fn build_sorted(&mut self, mut poly: Poly, dims: crate::index::Dims) -> Result<Id, GraphError> {
        // Deterministic order: by structure, positive terms first.
        let mut keyed = Vec::new();
        for term in poly.drain(..) {
            // Scalars commute: their keys are sorted, the chain's are not.
            // A 1×1 chain sorts as the scalar it is, as it would once read
            // back as one factor (`x'*y*s` as `(x'*y)*s`).
            let mut scalar_keys: Vec<Key> = term.scalars.iter().map(|&f| self.key(f)).collect();
            let mut chain_keys: Vec<Key> = term.chain.iter().map(|&f| self.key(f)).collect();
            if term.chain.len() > 1 && self.is_one_by_one(&term.chain) {
                let product = self.chain_product(None, &term.chain)?;
                scalar_keys.push(self.key(product));
                chain_keys.clear();
            }
            scalar_keys.sort();
            let k: Vec<Key> = chain_keys.into_iter().chain(scalar_keys).collect();
            keyed.push((term.coeff.is_negative(), k, term));
        }
        keyed.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        let terms: Vec<Term> = keyed.into_iter().map(|(_, _, t)| t).collect();
        if terms.is_empty() {
            return Ok(self.graph.zero(dims));
        }
        let terms = self.merged_diagonals(terms)?;
        self.build_sum(terms)
    }

    /// The terms with those that are a scaled `diag(u)` of a column written
    /// as one `diag` of their element-wise sum, in the place of the first:
    /// `diag(a ⊙ b) − diag(a ⊙ c)` is `diag(a ⊙ (b − c))`. The canonical
    /// form splits `diag` over a sum (`diag-of-sum`), so this is a writing
    /// only; the sum inside is normalised, as an element-wise region.
    fn merged_diagonals(&mut self, mut terms: Vec<Term>) -> Result<Vec<Term>, GraphError> {
        let column_of_diag = |g: &Graph, t: &Term| match t.chain.as_slice() {
            [only] => match *g.node(*only) {
                Node::Call(Func::Diag, u)
                    if g.dims(u)[1] == DimSpec::Fixed(1) && !g.is_scalar(u) =>
                {
                    Some(u)
                }
                _ => None,
            },
            _ => None,
        };
        let at: Vec<usize> = (0..terms.len())
            .filter(|&k| column_of_diag(self.graph, &terms[k]).is_some())
            .collect();
        if at.len() < 2 {
            return Ok(terms);
        }
        let mut columns = Vec::with_capacity(at.len());
        for &k in &at {
            let u = column_of_diag(self.graph, &terms[k]).expect("a diag term");
            columns.push(Term {
                chain: vec![u],
                ..terms[k].clone()
            });
        }
        let inner = self.build_apart(&columns)?;
        let inner = self.normalize(inner)?;
        let diag = self.graph.call(Func::Diag, inner)?;
        terms[at[0]] = Term::of(Rational::one(), diag, false);
        for &k in at[1..].iter().rev() {
            terms.remove(k);
        }
        Ok(terms)
    }

    /// Builds a sum, factoring a scalar factor shared by every term, or a
    /// chain factor shared on the right (or left) by every term.
    fn build_sum(&mut self, terms: Vec<Term>) -> Result<Id, GraphError> {
        if let Some(built) = self.factor_common(&terms)? {
            return Ok(built);
        }
        self.build_apart(&terms)
    }

    /// A sum written term by term, without factoring.
    fn build_apart(&mut self, terms: &[Term]) -> Result<Id, GraphError> {
        let mut acc: Option<Id> = None;
        for term in terms.iter().cloned() {
            let negative = term.coeff.is_negative();
            let magnitude = Term {
                coeff: term.coeff.abs(),
                ..term
            };
            let part = self.build_term(&magnitude)?;
            acc = Some(match (acc, negative) {
                (None, false) => part,
                (None, true) => self.graph.neg(part),
                (Some(prev), false) => self.graph.binary(BinOp::Add, prev, part)?,
                (Some(prev), true) => self.graph.binary(BinOp::Sub, prev, part)?,
            });
        }
        Ok(acc.expect("at least one term"))
    }

    fn factor_common(&mut self, terms: &[Term]) -> Result<Option<Id>, GraphError> {
        if terms.len() < 2 {
            return Ok(None);
        }
        // A power of a scalar that every term has goes in front, with the
        // least exponent: `det(S)*(A + B)`, `(1/d)*(A*x - c/d*x)`.
        if let Some((base, k)) = self.common_scalar_power(terms) {
            let mut rest = Vec::new();
            for t in terms {
                let mut t = t.clone();
                let at = t
                    .scalars
                    .iter()
                    .position(|&s| self.scalar_power(s).0 == base)
                    .expect("every term has the common base");
                let (_, own) = self.scalar_power(t.scalars.remove(at));
                if own != k {
                    let left = self.scalar_factor(base, own - &k)?;
                    t.scalars.push(left);
                }
                rest.push(t);
            }
            let inner = self.build_sum(rest)?;
            let inner = self.normalize(inner)?;
            // A reciprocal is written as a division: `(A*x - c*x/d)/d`.
            let factored = match k.is_negative() {
                true => {
                    let divisor = self.scalar_factor(base, -k)?;
                    self.graph.binary(BinOp::Div, inner, divisor)?
                }
                false => {
                    let factor = self.scalar_factor(base, k)?;
                    self.graph.binary(BinOp::Mul, factor, inner)?
                }
            };
            // Kept only where it writes less than the terms apart.
            let apart = self.build_apart(terms)?;
            return Ok(Some(
                match self.graph.tree_size(factored) < self.graph.tree_size(apart) {
                    true => factored,
                    false => apart,
                },
            ));
        }
        for right in [true, false] {
            let edge = |t: &Term| {
                if right {
                    t.chain.last().copied()
                } else {
                    t.chain.first().copied()
                }
            };
            // A 1×1 chain equals its transpose, so each term may be turned
            // round to share the edge (`v1'*v + v2'*v1` is `v1'*(v + v2)`),
            // whichever way the names made it be written.
            let leads = [Some(terms[0].clone()), self.turned(&terms[0])];
            for lead in leads.into_iter().flatten() {
                let Some(first) = edge(&lead) else {
                    continue;
                };
                let shares = |t: &Term| edge(t) == Some(first) && t.chain.len() >= 2;
                let mut oriented = vec![lead.clone()];
                for t in &terms[1..] {
                    if shares(t) {
                        oriented.push(t.clone());
                    } else if let Some(u) = self.turned(t).filter(|u| shares(u)) {
                        oriented.push(u);
                    } else {
                        break;
                    }
                }
                if oriented.len() < terms.len() || !shares(&lead) {
                    continue;
                }
                let rest: Vec<Term> = oriented
                    .into_iter()
                    .map(|mut t| {
                        if right {
                            t.chain.pop();
                        } else {
                            t.chain.remove(0);
                        }
                        t
                    })
                    .collect();
                // The rest is a sum in its own right: `A*(B + C) - A*B`
                // leaves `(B + C) - B`, whose terms collect only once it is
                // read again.
                let inner = self.build_sum(rest)?;
                let inner = self.normalize(inner)?;
                let id = if right {
                    self.graph.binary(BinOp::Mul, inner, first)?
                } else {
                    self.graph.binary(BinOp::Mul, first, inner)?
                };
                return Ok(Some(id));
            }
        }
        Ok(None)
    }

    /// A term whose chain is 1×1, turned round: `x'*A*y` as `y'*A'*x`.
    fn turned(&mut self, t: &Term) -> Option<Term> {
        if t.chain.len() < 2 || !self.is_one_by_one(&t.chain) {
            return None;
        }
        let chain = t
            .chain
            .iter()
            .rev()
            .map(|&f| self.graph.transpose(f))
            .collect();
        Some(Term { chain, ..t.clone() })
    }

    /// The power `bᵏ` of a scalar base that every term has as a factor,
    /// with exponents of one sign, `k` the one nearest zero.
    fn common_scalar_power(&self, terms: &[Term]) -> Option<(Id, Rational)> {
        let powers = |t: &Term| -> Vec<(Id, Rational)> {
            t.scalars.iter().map(|&s| self.scalar_power(s)).collect()
        };
        powers(&terms[0]).into_iter().find_map(|(base, k)| {
            let mut least = k.clone();
            for t in &terms[1..] {
                let (_, own) = powers(t).into_iter().find(|(b, _)| *b == base)?;
                if own.signum() != k.signum() {
                    return None;
                }
                if own.abs() < least.abs() {
                    least = own;
                }
            }
            Some((base, least))
        })
    }

    /// One term, written with fewer transposes: `A'*B'` may become `(B*A)'`.
    fn build_term(&mut self, term: &Term) -> Result<Id, GraphError> {
        // c times a fill of ones is the fill of c: `matrix(3)`.
        if let ([only], []) = (term.chain.as_slice(), term.scalars.as_slice()) {
            let ones = |g: &Graph, id: Id| matches!(g.node(id), Node::Fill(_, v) if v.is(1));
            let fill = ones(self.graph, *only)
                || matches!(*self.graph.node(*only), Node::T(f) if ones(self.graph, f));
            if fill && crate::algebra::short_decimal(&term.coeff).is_some() {
                let dims = self.graph.dims(*only).clone();
                return Ok(self.graph.fill(term.coeff.clone(), dims));
            }
        }
        // c*(1 ./ X) is written c ./ X.
        if let ([only], []) = (term.chain.as_slice(), term.scalars.as_slice()) {
            if let Node::Binary(BinOp::HadDiv, one, d) = *self.graph.node(*only) {
                if self.graph.is_number(one, 1) && !term.coeff.is_one() {
                    let c = self.coefficient(&term.coeff)?;
                    return self.graph.binary(BinOp::HadDiv, c, d);
                }
            }
        }
        // A coefficient such as 1/3 has no short decimal: write p/q.
        let (numerator, denominator) = written_fraction(&term.coeff);
        // The coefficient first, then the scalar factors left to right:
        // `2*det(A)*det(X)^2`.
        let mut prefix: Option<Id> = match numerator.is_one() {
            true => None,
            false => Some(self.coefficient(&numerator)?),
        };
        let mut divisors = Vec::new();
        for &s in &term.scalars {
            if let Node::Binary(BinOp::Div, one, d) = *self.graph.node(s) {
                if self.graph.is_number(one, 1) {
                    divisors.push(d);
                    continue;
                }
            }
            prefix = Some(match prefix {
                None => s,
                Some(prev) => self.graph.binary(BinOp::Mul, prev, s)?,
            });
        }
        let transposed = term
            .chain
            .iter()
            .filter(|&&f| matches!(self.graph.node(f), Node::T(_)))
            .count();
        let n = term.chain.len();
        // Writing the chain as one transposed product pays when it saves at
        // least two transposes.
        let mut acc = if n >= 2 && 2 + (n - transposed) < transposed {
            let flipped: Vec<Id> = term
                .chain
                .iter()
                .rev()
                .map(|&f| self.graph.transpose(f))
                .collect();
            let product = self.chain_product(None, &flipped)?;
            let t = self.graph.transpose(product);
            match prefix {
                Some(p) => self.graph.binary(BinOp::Mul, p, t)?,
                None => t,
            }
        } else if n > 0 {
            self.chain_product(prefix, &term.chain)?
        } else {
            match prefix {
                Some(p) => p,
                None => self.graph.int(1),
            }
        };
        for d in divisors {
            acc = self.graph.binary(BinOp::Div, acc, d)?;
        }
        if !denominator.is_one() {
            let q = self.coefficient(&denominator)?;
            acc = self.graph.binary(BinOp::Div, acc, q)?;
        }
        Ok(acc)
    }

    /// The product of a chain, left to right, except that a vector of ones
    /// is first multiplied with the neighbour that gives it its size
    /// (`M*vector(1)`, `vector(1)'*M`), so the printed result stays
    /// inferable.
    fn chain_product(&mut self, prefix: Option<Id>, chain: &[Id]) -> Result<Id, GraphError> {
        let mut items: Vec<Id> = prefix.into_iter().chain(chain.iter().copied()).collect();
        let mut k = 0;
        while k < items.len() {
            let is_fill = |g: &Graph, id: Id| matches!(g.node(id), Node::Fill(..));
            let is_row_fill =
                |g: &Graph, id: Id| matches!(g.node(id), Node::T(f) if is_fill(g, *f));
            if is_fill(self.graph, items[k]) && k > 0 && !is_row_fill(self.graph, items[k - 1]) {
                let merged = self.graph.binary(BinOp::Mul, items[k - 1], items[k])?;
                items.splice(k - 1..=k, [merged]);
                k -= 1;
            } else if is_row_fill(self.graph, items[k])
                && k + 1 < items.len()
                && !is_fill(self.graph, items[k + 1])
            {
                let merged = self.graph.binary(BinOp::Mul, items[k], items[k + 1])?;
                items.splice(k..=k + 1, [merged]);
            } else {
                k += 1;
            }
        }
        let mut acc = items[0];
        for &f in &items[1..] {
            acc = self.graph.binary(BinOp::Mul, acc, f)?;
        }
        Ok(acc)
    }
}

/// `c` as `(p, q)` with `c = p/q`, both written as numbers: `q = 1` when
/// `c` has a short decimal writing (`0.25`), else `p` and `q` are integers
/// (`1/3`).
fn written_fraction(c: &Rational) -> (Rational, Rational) {
    if crate::algebra::short_decimal(c).is_some() {
        return (c.clone(), Rational::one());
    }
    (
        Rational::from_integer(c.numer().clone()),
        Rational::from_integer(c.denom().clone()),
    )
}

pub(super) fn scale(mut p: Poly, by: &Rational) -> Poly {
    for t in &mut p {
        t.coeff *= by;
    }
    p
}

/// The coefficient a sum's terms share: their common magnitude (negative
/// when every term is negative), or 1 when the magnitudes differ.
fn content(poly: &Poly) -> Rational {
    let magnitude = poly.first().map_or(Rational::one(), |t| t.coeff.abs());
    if magnitude.is_zero() || poly.iter().any(|t| t.coeff.abs() != magnitude) {
        return Rational::one();
    }
    if poly.iter().all(|t| t.coeff.is_negative()) {
        -magnitude
    } else {
        magnitude
    }
}

fn multiply(p: &Poly, q: &Poly) -> Poly {
    let mut out = Vec::new();
    for a in p {
        for b in q {
            out.push(Term {
                coeff: &a.coeff * &b.coeff,
                scalars: a.scalars.iter().chain(&b.scalars).copied().collect(),
                chain: a.chain.iter().chain(&b.chain).copied().collect(),
            });
        }
    }
    out
}
