//! Element-wise regions: a subexpression built from `+ − .* ./`, whole
//! `.^k`, scalings and numbers over operands of one shape is read as a
//! rational function (the `algebra` layer) over the nodes it cannot look
//! into, its atoms. There like terms collect, powers merge and common
//! factors cancel — `s .* (1 - s) .* ((1 - y) ./ (1 - s) - y ./ s)` is
//! `s - y` — and the result is written back with the factors the input had
//! (`s .* (1 - s)` stays factored).
//!
//! Entries of same-shaped matrices under `.*` form a commutative ring, and
//! a 1×1 operand broadcasts as a constant of that ring, so every identity
//! of rational functions holds entry by entry. Cancelling a factor assumes
//! it non-zero, as every computer-algebra system does.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use num_traits::{One, Signed, ToPrimitive, Zero};

use super::normal::{scale, Key, Normalizer, Poly, Term};
use crate::algebra::{
    self, split_factor, AlgebraError, Atom, Budget, Meter, Plain, RatFun, Rational,
};
use crate::index::{is_scalar, Dims, GraphError, Id, Limit, Node};
use crate::syntax::{BinOp, DimSpec, Func};

/// The most terms a region's polynomials may have, and the work one
/// region may spend; past them the region is left as written.
const REGION_BUDGET: Budget = Budget {
    max_terms: 256,
    max_work: 100_000,
};

/// The largest whole power expanded inside a region.
const MAX_REGION_POWER: i64 = 16;

/// An atom of a region: a normalised node, ordered by its structural key
/// (so that the order does not depend on construction order) and then by
/// id.
#[derive(Clone, Copy, Debug)]
pub(super) struct NodeAtom {
    key: Key,
    id: Id,
}

impl PartialEq for NodeAtom {
    fn eq(&self, other: &NodeAtom) -> bool {
        self.id == other.id
    }
}

impl Eq for NodeAtom {}

impl Hash for NodeAtom {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id.hash(state);
    }
}

impl PartialOrd for NodeAtom {
    fn partial_cmp(&self, other: &NodeAtom) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for NodeAtom {
    fn cmp(&self, other: &NodeAtom) -> Ordering {
        (self.key, self.id).cmp(&(other.key, other.id))
    }
}

impl Atom for NodeAtom {
    fn hash_word(&self) -> u64 {
        self.id.index() as u64
    }
}

type Fun = RatFun<NodeAtom>;

/// A one-term writing being assembled: factors above and below the line
/// (the columns of a matrix region among them become one row scaling
/// `diag(u)` applied last).
#[derive(Default)]
struct Parts {
    top: Vec<Id>,
    bottom: Vec<Id>,
}
type APoly = algebra::Poly<NodeAtom>;

/// Why a region could not be read: the graph refused a node, or the
/// region's algebra failed (its budget ran out, or it divides by zero);
/// then the region is left as written.
enum ReadError {
    Graph(GraphError),
    Unreadable,
}

impl From<GraphError> for ReadError {
    fn from(e: GraphError) -> ReadError {
        ReadError::Graph(e)
    }
}

impl From<AlgebraError> for ReadError {
    fn from(_: AlgebraError) -> ReadError {
        ReadError::Unreadable
    }
}

/// One region being read: its shape, the sums it was written with (the
/// candidates for factoring its result again) and the meter its algebra
/// is charged to.
struct Region<'m> {
    dims: Dims,
    /// The sums the region was written with.
    sums: Vec<InputSum>,
    meter: &'m Meter,
}

/// A sum as the input wrote it: normalised (leading coefficient 1), the
/// magnitude of the leading coefficient it was written with, and whether
/// it was written the other way round (a negative one).
#[derive(PartialEq)]
struct InputSum {
    normalized: APoly,
    scale: Rational,
    reversed: bool,
}

impl Region<'_> {
    /// The dims of a column spread over the rows of this region (`n×1` in
    /// an `n×m` region with m > 1); `None` for a vector or scalar region.
    fn column(&self) -> Option<Dims> {
        column_of(&self.dims)
    }

    /// The dims of a row spread over the columns of this region.
    fn row(&self) -> Option<Dims> {
        row_of(&self.dims)
    }
}

/// The dims of a column spread over the rows of a value of `dims`.
fn column_of(dims: &Dims) -> Option<Dims> {
    (!crate::index::is_one(&dims[1]) && !crate::index::is_one(&dims[0]))
        .then(|| [dims[0].clone(), DimSpec::Fixed(1)])
}

/// The dims of a row spread over the columns of a value of `dims`.
fn row_of(dims: &Dims) -> Option<Dims> {
    column_of(dims).map(|_| [DimSpec::Fixed(1), dims[1].clone()])
}

impl Normalizer<'_> {
    /// True when `id` is the root of an element-wise region: an operation
    /// that the region algebra reads through, with at least one operand
    /// that is element-wise itself or broadcast.
    pub(super) fn is_elementwise(&mut self, id: Id) -> bool {
        if let Some(&known) = self.elementwise_memo.get(&id) {
            return known;
        }
        let dims = self.graph.dims(id).clone();
        let fits = |me: &Self, c: Id| me.graph.dims(c) == &dims || me.graph.is_scalar(c);
        let row = row_of(&dims);
        let broadcast = |me: &Self, c: Id| fits(me, c) || Some(me.graph.dims(c)) == row.as_ref();
        let answer = match *self.graph.node(id) {
            // A row broadcast over a matrix (`X ./ s'`) multiplies or
            // divides every entry of its column.
            Node::Binary(BinOp::HadMul | BinOp::HadDiv, a, b) => {
                broadcast(self, a) && broadcast(self, b)
            }
            Node::Binary(BinOp::HadPow, a, p) => {
                fits(self, a) && self.whole_power(p).is_some() && !is_scalar(&dims)
            }
            // Scalar arithmetic is always read as a rational function, so
            // that a scalar part has one canonical writing however it was
            // nested (`2*(2 + s)*u^2` and `2*(u*u)*(s + 2)` alike).
            Node::Binary(BinOp::Add | BinOp::Sub, a, b) if is_scalar(&dims) => {
                self.graph.is_scalar(a) && self.graph.is_scalar(b)
            }
            Node::Binary(BinOp::Add | BinOp::Sub, a, b) if fits(self, a) && fits(self, b) => {
                let broadcast = self.graph.dims(a) != self.graph.dims(b);
                broadcast || self.is_elementwise(a) || self.is_elementwise(b)
            }
            Node::Binary(BinOp::Div, _, b) if is_scalar(&dims) => self.graph.is_scalar(b),
            // Between scalars (not a row times a column, which is a chain).
            Node::Binary(BinOp::Mul, a, b) if is_scalar(&dims) => {
                self.graph.is_scalar(a) && self.graph.is_scalar(b)
            }
            Node::Binary(BinOp::Pow, _, p) if is_scalar(&dims) => self.whole_power(p).is_some(),
            Node::Binary(BinOp::Mul | BinOp::Div, a, b)
                if !is_scalar(&dims) && self.graph.is_scalar(b) =>
            {
                self.graph.dims(a) == &dims && self.is_elementwise(a)
            }
            Node::Binary(BinOp::Mul, a, b) if !is_scalar(&dims) && self.graph.is_scalar(a) => {
                self.graph.dims(b) == &dims && self.is_elementwise(b)
            }
            Node::Neg(a) => self.is_elementwise(a),
            // `diag(u)·M` where M is element-wise or row-scaled itself
            // (`diag(1 ./ s)·diag(s)·E` is E), or a column (`diag(u)·v` is
            // `u ⊙ v`).
            Node::Binary(BinOp::Mul, ..) if !is_scalar(&dims) => match self.row_scaling(id) {
                Some((_, k, factors)) => {
                    let others: Vec<Id> = factors
                        .iter()
                        .enumerate()
                        .filter(|&(j, &f)| j != k && !self.graph.is_scalar(f))
                        .map(|(_, &f)| f)
                        .collect();
                    super::rules::is_column(&dims)
                        || matches!(others.first(), Some(&f) if matches!(self.graph.node(f), Node::Call(Func::Diag, _)))
                        || matches!(others.as_slice(), [m] if self.graph.dims(*m) == &dims && self.is_elementwise(*m))
                }
                None => false,
            },
            _ => false,
        };
        self.elementwise_memo.insert(id, answer);
        answer
    }

    /// `(u, rest)` when the product `id` is `diag(u)·rest` for a column
    /// `u`: its first factor other than 1×1 ones is `diag(u)`, and `rest`
    /// is the product of the others (the 1×1 ones in front).
    fn row_scaled(&mut self, id: Id) -> Result<Option<(Id, Id)>, GraphError> {
        let Some((u, k, factors)) = self.row_scaling(id) else {
            return Ok(None);
        };
        let mut rest = None;
        for (_, &f) in factors.iter().enumerate().filter(|&(j, _)| j != k) {
            rest = Some(match rest {
                None => f,
                Some(p) => self.graph.binary(BinOp::Mul, p, f)?,
            });
        }
        Ok(rest.map(|rest| (u, rest)))
    }

    /// The leaves of the product `id` in order, with `u` and the position
    /// of its factor `diag(u)` when that is the first factor other than
    /// 1×1 ones and others follow; builds no node, so that it can decide
    /// [`Normalizer::is_elementwise`] without changing the graph.
    fn row_scaling(&self, id: Id) -> Option<(Id, usize, Vec<Id>)> {
        let factors = self.product_leaves(id);
        let k = factors.iter().position(|&f| !self.graph.is_scalar(f))?;
        match *self.graph.node(factors[k]) {
            Node::Call(Func::Diag, u)
                if !self.graph.is_scalar(u)
                    && super::rules::is_column(self.graph.dims(u))
                    && k + 1 < factors.len() =>
            {
                Some((u, k, factors))
            }
            _ => None,
        }
    }

    /// The leaves of the product `id`, left to right.
    fn product_leaves(&self, id: Id) -> Vec<Id> {
        let mut factors = Vec::new();
        let mut stack = vec![id];
        while let Some(at) = stack.pop() {
            match *self.graph.node(at) {
                Node::Binary(BinOp::Mul, l, r) => stack.extend([r, l]),
                _ => factors.push(at),
            }
        }
        factors
    }

    /// `(scalars, rest)` when the matrix product `id` has 1×1 factors
    /// inside it (`(s·A)·B`): those factors, and the product of the others
    /// in order; builds the rest only then.
    fn scaled_product(&mut self, id: Id) -> Result<Option<(Vec<Id>, Id)>, GraphError> {
        if !matches!(self.graph.node(id), Node::Binary(BinOp::Mul, ..)) || self.graph.is_scalar(id)
        {
            return Ok(None);
        }
        let (scalars, matrices): (Vec<Id>, Vec<Id>) = self
            .product_leaves(id)
            .into_iter()
            .partition(|&f| self.graph.is_scalar(f));
        if scalars.is_empty() {
            return Ok(None);
        }
        let mut rest = matrices[0];
        for &f in &matrices[1..] {
            rest = self.graph.binary(BinOp::Mul, rest, f)?;
        }
        Ok(Some((scalars, rest)))
    }

    /// The exponent of a whole power `.^k`, |k| at most [`MAX_REGION_POWER`].
    fn whole_power(&self, p: Id) -> Option<i64> {
        let k = self.number(p)?;
        let k = k.is_integer().then(|| k.to_integer().to_i64())??;
        (k.abs() <= MAX_REGION_POWER).then_some(k)
    }

    /// The region rooted at `id` in canonical form, as terms. A region
    /// whose algebra runs over its budget is left as written, with its
    /// operands simplified.
    pub(super) fn elementwise(&mut self, id: Id) -> Result<Poly, GraphError> {
        let meter = Meter::new(REGION_BUDGET);
        let mut region = Region {
            dims: self.graph.dims(id).clone(),
            sums: Vec::new(),
            meter: &meter,
        };
        let read = self.read(id, &mut region);
        let written = match read {
            Ok(fun) => self.write(&fun, &mut region),
            Err(e) => Err(e),
        };
        match written {
            Ok(poly) => Ok(poly),
            Err(ReadError::Graph(e)) => Err(e),
            Err(ReadError::Unreadable) => self.atom(id),
        }
    }

    /// Reads `id` as a rational function over the region's atoms.
    fn read(&mut self, id: Id, region: &mut Region<'_>) -> Result<Fun, ReadError> {
        match self.read_operation(id, region)? {
            Some(fun) => Ok(fun),
            None => self.read_atom(id, region),
        }
    }

    /// Reads `id` when it is a number or an operation the region looks
    /// into; `None` for any other node.
    fn read_operation(
        &mut self,
        id: Id,
        region: &mut Region<'_>,
    ) -> Result<Option<Fun>, ReadError> {
        self.charge(1)?;
        let cx = Plain(region.meter);
        let (column, row) = (region.column(), region.row());
        let fits = |me: &Self, c: Id| {
            let d = me.graph.dims(c);
            d == &region.dims
                || me.graph.is_scalar(c)
                || Some(d) == column.as_ref()
                || Some(d) == row.as_ref()
        };
        if let Some(v) = self.number(id) {
            return Ok(Some(Fun::constant(v)));
        }
        // A row scaling `diag(u)·M` is `u` read in the region times M.
        if !is_scalar(&region.dims) {
            if let Some((u, rest)) = self.row_scaled(id)? {
                if self.graph.dims(rest) == &region.dims {
                    let (x, y) = (self.read(u, region)?, self.read(rest, region)?);
                    return Ok(Some(x.mul(&y, &cx)?));
                }
            }
        }
        // A 1×1 factor anywhere in a matrix product scales all of it, so
        // that `(s·A)·B` and `s·(A·B)` are read alike.
        if let Some((scalars, rest)) = self.scaled_product(id)? {
            if fits(self, rest) {
                let mut product = self.read(rest, region)?;
                for s in scalars {
                    product = product.mul(&self.read(s, region)?, &cx)?;
                }
                return Ok(Some(product));
            }
        }
        let node = self.graph.node(id).clone();
        Ok(Some(match node {
            // A column spread over the rows, `u*ones(m)'`, is the column
            // read in the region: its atoms are columns, which multiply
            // every entry of their row (and rows every entry of their
            // column).
            Node::Binary(BinOp::Mul, u, ones)
                if column.as_ref() == Some(self.graph.dims(u)) && self.is_ones_row(ones) =>
            {
                self.read(u, region)?
            }
            // A row spread over the columns, `ones(n)*w`, likewise.
            Node::Binary(BinOp::Mul, ones, w)
                if row.as_ref() == Some(self.graph.dims(w)) && self.is_ones_column(ones) =>
            {
                self.read(w, region)?
            }
            Node::Fill(_, v) if self.graph.dims(id) == &region.dims => {
                Fun::constant(v.value().clone())
            }
            Node::Neg(a) => self.read(a, region)?.neg(),
            Node::Binary(op @ (BinOp::Add | BinOp::Sub), a, b)
                if fits(self, a) && fits(self, b) =>
            {
                let (x, y) = (self.read(a, region)?, self.read(b, region)?);
                let sum = if op == BinOp::Add {
                    x.add(&y, &cx)?
                } else {
                    x.sub(&y, &cx)?
                };
                if sum.factors().is_empty() && sum.numerator().term_count() >= 2 {
                    let (lc, _, normalized) = split_factor(sum.numerator(), region.meter)?;
                    let sum = InputSum {
                        normalized,
                        scale: lc.abs(),
                        reversed: lc.is_negative(),
                    };
                    // Each writing once: a sum written both ways round (or
                    // with two scales) is decided by all its writings.
                    if !region.sums.contains(&sum) {
                        region.sums.push(sum);
                    }
                }
                sum
            }
            Node::Binary(op @ (BinOp::HadMul | BinOp::Mul), a, b)
                if fits(self, a)
                    && fits(self, b)
                    && (op == BinOp::HadMul
                        || self.graph.is_scalar(a)
                        || self.graph.is_scalar(b)) =>
            {
                let (x, y) = (self.read(a, region)?, self.read(b, region)?);
                x.mul(&y, &cx)?
            }
            Node::Binary(op @ (BinOp::HadDiv | BinOp::Div), a, b)
                if fits(self, a)
                    && fits(self, b)
                    && (op == BinOp::HadDiv || self.graph.is_scalar(b)) =>
            {
                let (x, y) = (self.read(a, region)?, self.read(b, region)?);
                x.div(&y, &cx)?
            }
            Node::Binary(op @ (BinOp::HadPow | BinOp::Pow), a, p)
                if fits(self, a)
                    && (op == BinOp::HadPow || self.graph.is_scalar(a))
                    && self.whole_power(p).is_some() =>
            {
                let k = self.whole_power(p).unwrap_or(1);
                let x = self.read(a, region)?;
                factored_power(&x, k, &cx)?
            }
            // exp(−u) is 1/exp(u), so that `exp(-v) ./ (exp(-v) + 1)`
            // cancels to `1 ./ (exp(v) + 1)`; written back as exp(−u).
            Node::Call(Func::Exp, arg) if fits(self, arg) => match *self.graph.node(arg) {
                Node::Neg(u) => {
                    let e = self.graph.call(Func::Exp, u)?;
                    self.read_atom(e, region)?.inv(&cx)?
                }
                _ => return Ok(None),
            },
            _ => return Ok(None),
        }))
    }

    /// An operand the region does not look into: its canonical form as an
    /// atom (read through when that form is itself element-wise).
    fn read_atom(&mut self, id: Id, region: &mut Region<'_>) -> Result<Fun, ReadError> {
        let n = self.normalize(id)?;
        if let Some(v) = self.number(n) {
            return Ok(Fun::constant(v));
        }
        if n != id {
            if let Some(fun) = self.read_operation(n, region)? {
                return Ok(fun);
            }
        }
        let key = self.key(n);
        Ok(Fun::atom(NodeAtom { key, id: n }))
    }

    /// Writes a region's rational function back as terms: common factors
    /// cancelled, the expanded part factored by the sums the input was
    /// written with, a plain polynomial as one term per monomial (so that
    /// they collect with the terms around the region).
    fn write(&mut self, fun: &Fun, region: &mut Region<'_>) -> Result<Poly, ReadError> {
        let fun = fun.cancel(region.meter)?;
        let dims = region.dims.clone();
        if fun.is_zero() {
            return Ok(Vec::new());
        }
        let num = fun.numerator();
        // A constant term of a matrix region is written broadcast, inside
        // the one-term writing (`1 - s`, not `vector(1) - s`).
        let broadcast_constant = !is_scalar(&dims)
            && num.terms().iter().any(|(m, _)| self.is_scalar_monomial(m))
            && num.term_count() > 1;
        let plain = fun.factors().is_empty() && !broadcast_constant;
        if plain && (num.term_count() == 1 || self.refactored(num, region)?.is_none()) {
            // A polynomial: one term per monomial.
            let mut out = Vec::new();
            for (m, c) in num.terms() {
                out.extend(self.monomial_terms(m, c, &dims)?);
            }
            return Ok(out);
        }
        // One term: coefficient · (numerator ./ denominator).
        let (coeff, parts) = self.fraction_parts(&fun, region)?;
        Ok(vec![self.assembled(coeff, parts, &dims)?])
    }

    /// `num` as `(c, content, factors, rest)` when dividing it by the sums
    /// of the input leaves something smaller: `s − s²` by `1 − s`.
    #[allow(clippy::type_complexity)]
    fn refactored(
        &self,
        num: &APoly,
        region: &Region<'_>,
    ) -> Result<Option<(Rational, algebra::Monomial<NodeAtom>, Vec<APoly>, APoly)>, AlgebraError>
    {
        if num.term_count() < 2 {
            return Ok(None);
        }
        let (lc, content, normalized) = split_factor(num, region.meter)?;
        // Only the coefficients' common content leaves the sum: `2·x − 3`
        // stays, `2·x − 4` is `2·(x − 2)`.
        let whole = normalized.scale(&lc);
        let c = written_content(&whole);
        let mut rest = whole.scale(&c.recip());
        let mut found = Vec::new();
        for sum in region.sums.iter().map(|s| &s.normalized) {
            while rest.term_count() >= 2 && sum.term_count() < rest.term_count() + 1 {
                // `rest` itself among the sums is no factoring.
                match rest.div_exact(sum, region.meter)? {
                    Some(q) if q.as_constant().is_none() || !found.is_empty() => {
                        found.push(sum.clone());
                        rest = q;
                    }
                    _ => break,
                }
            }
        }
        // A monomial content alone is pulled out only when that writes no
        // more atoms: `x.*y + x.*z` is `x .* (y + z)` and `s - s.^2` is
        // `s .* (1 - s)`, but `X./Y + A` stays (`(X + A.*Y) ./ Y` writes Y
        // twice).
        let atoms = |m: &algebra::Monomial<NodeAtom>| m.factors().len();
        let spread: usize = num.terms().iter().map(|(m, _)| atoms(m)).sum();
        let pulled = atoms(&content)
            + normalized
                .terms()
                .iter()
                .map(|(m, _)| atoms(m))
                .sum::<usize>();
        let factored = !found.is_empty() || (!content.is_one() && pulled <= spread);
        Ok(factored.then_some((c, content, found, rest)))
    }

    /// The coefficient, numerator and denominator nodes of a one-term
    /// writing of `fun`.
    fn fraction_parts(
        &mut self,
        fun: &Fun,
        region: &Region<'_>,
    ) -> Result<(Rational, Parts), ReadError> {
        let num = fun.numerator();
        let (coeff, content, found, rest) = match self.refactored(num, region)? {
            Some(parts) => parts,
            None => match num.single_term() {
                Some((m, c)) => (
                    c.clone(),
                    m.clone(),
                    Vec::new(),
                    APoly::constant(Rational::one()),
                ),
                None => {
                    let (lc, content, normalized) = split_factor(num, region.meter)?;
                    let whole = normalized.scale(&lc);
                    let c = written_content(&whole);
                    (c.clone(), content, Vec::new(), whole.scale(&c.recip()))
                }
            },
        };
        let dims = region.dims.clone();
        let mut parts = Parts::default();
        self.monomial_parts(&content, &mut parts)?;
        let mut coeff = coeff;
        for f in &found {
            let (f, flipped) = oriented(f, coeff.is_negative(), 1, &region.sums);
            if flipped {
                coeff = -coeff;
            }
            let (content, f) = as_written(&f, &region.sums);
            coeff *= content;
            parts.top.push(self.factor_node(&f, &dims)?);
        }
        let mut rest = rest;
        for (f, e) in fun.factors() {
            let (f, flipped) = oriented(f, coeff.is_negative(), *e, &region.sums);
            if flipped && e % 2 != 0 {
                coeff = -coeff;
            }
            let (content, f) = as_written(&f, &region.sums);
            coeff *= content.pow(*e);
            let node = self.factor_node(&f, &dims)?;
            let power = self.power(node, i64::from(e.abs()))?;
            if *e > 0 {
                parts.top.push(power);
            } else {
                parts.bottom.push(power);
            }
        }
        match rest.as_constant() {
            // `rest` may still carry a constant (the content of a product).
            Some(c) if !c.is_zero() => coeff *= c,
            Some(_) => {}
            None => {
                // A sum takes the sign: `(a - b) ./ d`, not `-((b - a) ./ d)`.
                if coeff.is_negative() {
                    rest = rest.neg();
                    coeff = -coeff;
                }
                parts.top.push(self.factor_node(&rest, &dims)?);
            }
        }
        Ok((coeff, parts))
    }

    /// Adds the atoms of `m` to `parts`, as powers above or below the line
    /// (a column atom of a matrix region becomes a row scaling where the
    /// term is assembled).
    fn monomial_parts(
        &mut self,
        m: &algebra::Monomial<NodeAtom>,
        parts: &mut Parts,
    ) -> Result<(), GraphError> {
        for (a, e) in m.factors() {
            let k = e.to_integer();
            // A negative power of exp(u) is written exp(−u) (as read).
            if let (true, &Node::Call(Func::Exp, u)) = (k < 0, self.graph.node(a.id)) {
                let minus = self.graph.neg(u);
                let e = self.graph.call(Func::Exp, minus)?;
                parts.top.push(self.power(e, -k)?);
                continue;
            }
            let power = self.power(a.id, k.abs())?;
            if k > 0 {
                parts.top.push(power);
            } else {
                parts.bottom.push(power);
            }
        }
        Ok(())
    }

    /// The term `coeff · diag(u)·(top ./ bottom)` of shape `dims` (a 1×1
    /// quotient broadcast), where `u` is the quotient of the column factors
    /// of a matrix region: the row scaling is a factor of its chain, so
    /// that it collects with `diag(u)*M` written elsewhere; a column alone
    /// is `u*ones(m)'`.
    fn assembled(
        &mut self,
        coeff: Rational,
        parts: Parts,
        dims: &Dims,
    ) -> Result<Term, GraphError> {
        if is_scalar(dims) {
            // A scalar monomial joins the term's scalar factors one by one
            // (`2*det(A)*det(X)^2`, not `2*(det(A)*det(X)^2)`).
            let mut scalars = parts.top;
            for b in parts.bottom {
                let one = self.graph.int(1);
                scalars.push(self.graph.binary(BinOp::Div, one, b)?);
            }
            return Ok(Term {
                coeff,
                scalars,
                chain: Vec::new(),
            });
        }
        // 1×1 factors are the term's scalar factors, as the canonical form
        // reads `s*a'`.
        let mut scalars = Vec::new();
        let column = column_of(dims);
        let mut columns: (Vec<Id>, Vec<Id>) = (Vec::new(), Vec::new());
        let mut entrywise_top = Vec::new();
        for t in parts.top {
            if self.graph.is_scalar(t) {
                scalars.push(t);
            } else if column.as_ref() == Some(self.graph.dims(t)) {
                columns.0.push(t);
            } else {
                entrywise_top.push(t);
            }
        }
        let mut entrywise_bottom = Vec::new();
        for b in parts.bottom {
            if self.graph.is_scalar(b) {
                let one = self.graph.int(1);
                scalars.push(self.graph.binary(BinOp::Div, one, b)?);
            } else if column.as_ref() == Some(self.graph.dims(b)) {
                columns.1.push(b);
            } else {
                entrywise_bottom.push(b);
            }
        }
        // The columns of a matrix region scale its rows: one `diag(u)`.
        let row_scale = self.quotient(columns.0, columns.1)?;
        let top = self.product(entrywise_top)?;
        let bottom = self.product(entrywise_bottom)?;
        if let (None, None, Some(u)) = (top, bottom, row_scale) {
            // Only a column: it is spread over the rows, `u*ones(m)'`.
            let ones = self.graph.ones([dims[1].clone(), DimSpec::Fixed(1)]);
            let row = self.graph.transpose(ones);
            return Ok(Term {
                coeff,
                scalars,
                chain: vec![u, row],
            });
        }
        let node = match (top, bottom) {
            (Some(t), None) => t,
            (t, b) => {
                let t = match t {
                    Some(t) => t,
                    None => self.graph.int(1),
                };
                match b {
                    Some(b) => self.graph.binary(BinOp::HadDiv, t, b)?,
                    None => t,
                }
            }
        };
        // A 1×1 quotient spread over the region is a scalar factor times
        // a fill, as the canonical form reads `s*vector(1)'`.
        let node = if self.graph.dims(node) == dims {
            node
        } else if row_of(dims).as_ref() == Some(self.graph.dims(node)) {
            // Only rows: spread over the columns, `ones(n)*w` (a product,
            // so that it meets the ones of the products around it).
            let ones = self.graph.ones([dims[0].clone(), DimSpec::Fixed(1)]);
            self.graph.binary(BinOp::Mul, ones, node)?
        } else if row_scale.is_none() {
            let fill = self.graph.ones(dims.clone());
            match self.number(node) {
                Some(c) if c.is_one() => fill,
                _ => {
                    scalars.push(node);
                    fill
                }
            }
        } else {
            self.broadcast(node, dims)?
        };
        let mut chain = Vec::with_capacity(2);
        if let Some(u) = row_scale {
            chain.push(self.graph.call(Func::Diag, u)?);
        }
        chain.push(node);
        Ok(Term {
            coeff,
            scalars,
            chain,
        })
    }

    /// `x` or `x.^k`.
    fn power(&mut self, x: Id, k: i64) -> Result<Id, GraphError> {
        if k == 1 {
            return Ok(x);
        }
        let p = self.graph.int(k);
        let op = if self.graph.is_scalar(x) {
            BinOp::Pow
        } else {
            BinOp::HadPow
        };
        self.graph.binary(op, x, p)
    }

    /// `top ./ bottom` as one node (`1 ./ bottom` without a top); `None`
    /// when both are empty.
    fn quotient(&mut self, top: Vec<Id>, bottom: Vec<Id>) -> Result<Option<Id>, GraphError> {
        let (t, b) = (self.product(top)?, self.product(bottom)?);
        Ok(match (t, b) {
            (t, None) => t,
            (t, Some(b)) => {
                let t = match t {
                    Some(t) => t,
                    None => self.graph.int(1),
                };
                Some(self.graph.binary(BinOp::HadDiv, t, b)?)
            }
        })
    }

    /// The product of factors: the 1×1 ones in front (`s*(a .* b)`), each
    /// group sorted by key; `None` for none.
    fn product(&mut self, mut factors: Vec<Id>) -> Result<Option<Id>, GraphError> {
        let mut keyed: Vec<(bool, Key, Id)> = factors
            .drain(..)
            .map(|f| (!self.graph.is_scalar(f), self.key(f), f))
            .collect();
        keyed.sort();
        let mut scalars: Option<Id> = None;
        let mut entries: Option<Id> = None;
        for (entrywise, _, f) in keyed {
            let (slot, op) = if entrywise {
                (&mut entries, BinOp::HadMul)
            } else {
                (&mut scalars, BinOp::Mul)
            };
            *slot = Some(match *slot {
                None => f,
                Some(prev) => self.graph.binary(op, prev, f)?,
            });
        }
        Ok(match (scalars, entries) {
            (Some(s), Some(e)) => Some(self.graph.binary(BinOp::Mul, s, e)?),
            (s, e) => s.or(e),
        })
    }

    /// A 1×1 value spread over `dims`: `c * vector(1)` / `c * matrix(1)`.
    fn broadcast(&mut self, node: Id, dims: &Dims) -> Result<Id, GraphError> {
        let ones = self.graph.ones(dims.clone());
        self.graph.binary(BinOp::Mul, node, ones)
    }

    /// The terms of one monomial `c·m` of a region of shape `dims`: a
    /// single atom is read again as terms, so that it collects with the
    /// same node elsewhere in a sum.
    fn monomial_terms(
        &mut self,
        m: &algebra::Monomial<NodeAtom>,
        c: &Rational,
        dims: &Dims,
    ) -> Result<Poly, GraphError> {
        if let [(a, e)] = m.factors() {
            if e.is_one() && self.graph.dims(a.id) == dims {
                let terms = self.poly(a.id)?;
                return Ok(scale(terms, c));
            }
        }
        if m.is_one() && is_scalar(dims) {
            return Ok(vec![Term::number(c.clone())]);
        }
        let mut parts = Parts::default();
        self.monomial_parts(m, &mut parts)?;
        Ok(vec![self.assembled(c.clone(), parts, dims)?])
    }

    /// True for a monomial of rows of dims `row` and 1×1 atoms, with one
    /// row at least: in a matrix region it is spread over every row.
    fn is_row_monomial(&self, m: &algebra::Monomial<NodeAtom>, row: &Dims) -> bool {
        let dims = |a: &NodeAtom| self.graph.dims(a.id);
        m.factors().iter().any(|(a, _)| dims(a) == row)
            && m.factors()
                .iter()
                .all(|(a, _)| dims(a) == row || self.graph.is_scalar(a.id))
    }

    /// True for a monomial of 1×1 atoms only (a number included): in a
    /// matrix region it is spread over every entry.
    fn is_scalar_monomial(&self, m: &algebra::Monomial<NodeAtom>) -> bool {
        m.factors().iter().all(|(a, _)| self.graph.is_scalar(a.id))
    }

    /// A factor of a one-term writing as one node: 1×1 when every monomial
    /// is (`(1 + s^2)*a'.^2`, not `a'.^2 .* ((1 + s^2)*vector(1)')`), so
    /// that it joins the term's scalar factors; a column when every atom
    /// is a column of a matrix region (`diag(1 + u)*E`).
    fn factor_node(&mut self, p: &APoly, dims: &Dims) -> Result<Id, GraphError> {
        if p.terms().iter().all(|(m, _)| self.is_scalar_monomial(m)) {
            return self.poly_node(p, &crate::index::scalar_dims());
        }
        if let Some(spread) = self.spread_dims(p, dims) {
            // A factor of columns (rows) only is a column (row).
            return self.poly_node(p, &spread);
        }
        self.poly_node(p, dims)
    }

    /// The dims of a column (or row) of a matrix region of `dims` when every
    /// atom of `p` is such a column (row) or 1×1, and one is.
    fn spread_dims(&self, p: &APoly, dims: &Dims) -> Option<Dims> {
        let atoms: Vec<&Dims> = p
            .terms()
            .iter()
            .flat_map(|(m, _)| m.factors().iter().map(|(a, _)| self.graph.dims(a.id)))
            .filter(|d| !is_scalar(d))
            .collect();
        [column_of(dims), row_of(dims)]
            .into_iter()
            .flatten()
            .find(|d| !atoms.is_empty() && atoms.iter().all(|a| *a == d))
    }

    /// A polynomial of the region written as one node: the sorted sum of
    /// its terms, with its 1×1 part (numbers and scalar atoms) written once
    /// and broadcast at the end (`sign(X) + 1`, `x + s`), or first when
    /// every other term is negative (`1 - s`).
    fn poly_node(&mut self, p: &APoly, dims: &Dims) -> Result<Id, GraphError> {
        if let Some(row) = row_of(dims) {
            let (row_terms, rest): (Vec<_>, Vec<_>) = p
                .terms()
                .iter()
                .cloned()
                .partition(|(m, _)| self.is_row_monomial(m, &row));
            if !row_terms.is_empty() {
                // A row adds to every row (`X*W + b'`).
                let mut rows = Vec::new();
                for (m, c) in &row_terms {
                    rows.extend(self.monomial_terms(m, c, &row)?);
                }
                let row_part = self.build_collected(rows, row)?;
                if rest.is_empty() {
                    let ones = self.graph.ones([dims[0].clone(), DimSpec::Fixed(1)]);
                    return self.graph.binary(BinOp::Mul, ones, row_part);
                }
                let rest = APoly::from_terms(rest, &Meter::new(REGION_BUDGET))
                    .map_err(|e| GraphError::Limit(Limit::Algebra(e)))?;
                let rest = self.poly_node(&rest, dims)?;
                return self.graph.binary(BinOp::Add, rest, row_part);
            }
        }
        let scalar_dims = crate::index::scalar_dims();
        let mut terms = Vec::new();
        let mut spread = Vec::new();
        for (m, c) in p.terms() {
            if is_scalar(dims) || !self.is_scalar_monomial(m) {
                terms.extend(self.monomial_terms(m, c, dims)?);
            } else {
                spread.extend(self.monomial_terms(m, c, &scalar_dims)?);
            }
        }
        if spread.is_empty() {
            return self.build_collected(terms, dims.clone());
        }
        if terms.is_empty() {
            let c = self.build_collected(spread, scalar_dims)?;
            return self.broadcast(c, dims);
        }
        let all_negative = terms.iter().all(|t| t.coeff.is_negative());
        if all_negative {
            terms = scale(terms, &-Rational::one());
        }
        let rest = self.build_collected(terms, dims.clone())?;
        let c = self.build_collected(spread, scalar_dims)?;
        if all_negative {
            self.graph.binary(BinOp::Sub, c, rest)
        } else {
            self.graph.binary(BinOp::Add, rest, c)
        }
    }
}

/// `x^k` with a sum kept as a factor: `(1 + e)^2` stays a power of
/// `1 + e` instead of being multiplied out.
fn factored_power(x: &Fun, k: i64, cx: &Plain<'_>) -> Result<Fun, AlgebraError> {
    if !x.factors().is_empty() || x.numerator().term_count() < 2 {
        return x.powi(k, cx);
    }
    let (lc, content, normalized) = split_factor(x.numerator(), cx.0)?;
    let exponent = i32::try_from(k).map_err(|_| AlgebraError::ExponentTooLarge)?;
    let front = Fun::from_poly(algebra::Poly::term(content, lc)).powi(k, cx)?;
    let power = Fun::from_parts(
        algebra::Poly::constant(Rational::one()),
        vec![(std::rc::Rc::new(normalized), exponent)],
    );
    front.mul(&power, cx)
}

/// A factor scaled as the input wrote it (`x − sum(x)/5`, not
/// `(5·x − sum(x))/5`), with the scale taken out; else [`primitive`].
///
/// Where the input wrote it with several scales, the least is taken, so
/// that the writing does not depend on the order of the operands.
fn as_written(p: &APoly, sums: &[InputSum]) -> (Rational, APoly) {
    let negated = p.neg();
    match sums
        .iter()
        .filter(|s| s.normalized == *p || s.normalized == negated)
        .map(|s| &s.scale)
        .min()
    {
        Some(scale) => (scale.recip(), p.scale(scale)),
        None => primitive(p),
    }
}

/// A factor with coprime whole coefficients, and the content taken out:
/// `a1 + 0.5*a2` is `½·(2*a1 + a2)`, so that the writing does not depend
/// on which term the factor was made monic by (the names' order).
fn primitive(p: &APoly) -> (Rational, APoly) {
    let c = rational_content(p);
    (c.clone(), p.scale(&c.recip()))
}

/// The positive scale taken out of a sum's coefficients: of its rational
/// content and the magnitudes of its coefficients, the one that leaves the
/// fewest coefficients other than ±1 (itself counted when it is not 1),
/// the content on a tie: `2·x − 4` is `2·(x − 2)`, `0.5·a + 0.5·b + 0.56·c`
/// is `0.5·(a + b + 1.12·c)` rather than `0.02·(25·a + 25·b + 28·c)`.
fn written_content(p: &APoly) -> Rational {
    let cost = |c: &Rational| {
        usize::from(!c.is_one())
            + p.terms()
                .iter()
                .filter(|(_, k)| !(k / c).abs().is_one())
                .count()
    };
    let mut best = rational_content(p);
    let mut best_cost = cost(&best);
    for candidate in std::iter::once(Rational::one()).chain(p.terms().iter().map(|(_, k)| k.abs()))
    {
        let c = cost(&candidate);
        if c < best_cost {
            (best, best_cost) = (candidate, c);
        }
    }
    best
}

/// The positive rational content of a polynomial: the gcd of its
/// coefficients' numerators over the lcm of their denominators.
fn rational_content(p: &APoly) -> Rational {
    use num_integer::Integer;
    let mut numer = num_bigint::BigInt::zero();
    let mut denom = num_bigint::BigInt::one();
    for (_, c) in p.terms() {
        numer = numer.gcd(c.numer());
        denom = denom.lcm(c.denom());
    }
    if numer.is_zero() {
        Rational::one()
    } else {
        Rational::new(numer, denom)
    }
}

/// A factor `p` (raised to `exponent`) or `−p`: the way round the input
/// wrote it, if it did (so that renaming variables does not turn factors
/// round), and `p` where it wrote it both ways (so that the order of the
/// operands does not); else the one with a positive constant term
/// (`1 − s` rather than `s − 1`), as long as turning it round does not make
/// a positive coefficient negative. True when it was negated.
fn oriented(p: &APoly, coeff_negative: bool, exponent: i32, sums: &[InputSum]) -> (APoly, bool) {
    let mut ways = sums
        .iter()
        .filter(|s| s.normalized == *p)
        .map(|s| s.reversed);
    if let Some(first) = ways.next() {
        let reversed = first && ways.all(|r| r);
        return if reversed {
            (p.neg(), true)
        } else {
            (p.clone(), false)
        };
    }
    let negative_constant = p.terms().iter().any(|(m, c)| m.is_one() && c.is_negative());
    let free = exponent % 2 == 0 || coeff_negative;
    if negative_constant && free {
        (p.neg(), true)
    } else {
        (p.clone(), false)
    }
}

/// The values a region's memo keeps per node.
pub(super) type ElementwiseMemo = HashMap<Id, bool>;
