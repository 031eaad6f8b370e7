//! Raising: index notation back to matrix form.
//!
//! Each factor of a term becomes an *item*: a matrix node with a row slot and
//! a column slot, each holding an index or nothing (a column vector has no
//! column index). Items are merged by the rules of [`RaiseRule`] until one is
//! left, and every rule that fires is recorded, in order, in the [`Raised`]
//! result, so that a proof names what was recognised instead of guessing it
//! from the shape of the result.
//!
//! Terminates: every rule removes at least one item or one dummy index.
//! When no rule applies, the term has no matrix form (for instance a
//! third-order tensor) and raising reports `None`; nothing is guessed.

use num_traits::One;

use super::graph::{is_one, Graph, GraphError, Id, Node};
use super::term::{slots, Factor, IndexSpace, Ix, Tensor, Term};
use crate::algebra::{integer, Rational};
use crate::syntax::{BinOp, DimSpec, Func};

/// A rule of raising, recorded when it fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RaiseRule {
    /// Two items over the same indices: `A[i,j]·B[i,j]` → `(A .* B)[i,j]`
    /// (transposing one if its indices come swapped).
    Hadamard,
    /// A vector sharing an index with a matrix, where the index is free or
    /// occurs elsewhere too: `v[i]·M[i,j]` → `(diag(v)*M)[i,j]`.
    DiagScale,
    /// A dummy index shared by exactly two items:
    /// `Σ_k A[i,k]·B[k,j]` → `(A*B)[i,j]`.
    MatmulFromSum,
    /// A dummy index in one matrix item only: `Σ_k M[i,k]` → `(M*𝟙)[i]`.
    SumToOnes,
    /// Every index of one item summed: `Σ_ij M[i,j]` → `sum(M)`.
    SumOfEntries,
    /// A diagonal summed alone: `Σ_i M[i,i]` → `tr(M)`.
    Trace,
    /// A diagonal entry used elsewhere: `M[i,i]` → `diag(M)[i]`.
    DiagExtract,
    /// Two vectors over different indices: `u[i]·v[j]` → `(u*vᵀ)[i,j]`.
    OuterProduct,
    /// A dummy index that no factor uses: `Σ_k c` → `n·c`.
    CountConstantSum,
    /// A result constant along one of its indices: `u[i]` over `[i,j]` →
    /// `(u*𝟙ᵀ)[i,j]`, or no factor at all → a matrix of ones.
    BroadcastOnes,
    /// An item transposed so that its indices line up: `A[k,i]` used as
    /// the row `i` → `(Aᵀ)[i,k]`.
    TransposeToOrient,
}

impl RaiseRule {
    /// The rule's kebab-case name, as proofs show it.
    pub fn name(self) -> &'static str {
        match self {
            RaiseRule::Hadamard => "hadamard-from-entries",
            RaiseRule::DiagScale => "diag-scale",
            RaiseRule::MatmulFromSum => "matmul-from-sum",
            RaiseRule::SumToOnes => "sum-to-ones",
            RaiseRule::SumOfEntries => "sum-of-entries",
            RaiseRule::Trace => "trace",
            RaiseRule::DiagExtract => "diag-extract",
            RaiseRule::OuterProduct => "outer-product",
            RaiseRule::CountConstantSum => "count-constant-sum",
            RaiseRule::BroadcastOnes => "broadcast-ones",
            RaiseRule::TransposeToOrient => "transpose-to-orient",
        }
    }
}

/// A tensor raised to a matrix node, with the rules that built it, each
/// once, in the order they first fired.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Raised {
    /// The matrix node.
    pub id: Id,
    /// The rules applied.
    pub rules: Vec<RaiseRule>,
}

impl Raised {
    /// Transposes the result (to orient a vector as its operand is), recording
    /// the transpose.
    pub fn transpose(&mut self, graph: &mut Graph) {
        self.id = transpose_noted(graph, self.id, &mut self.rules);
    }
}

fn note(rules: &mut Vec<RaiseRule>, rule: RaiseRule) {
    if !rules.contains(&rule) {
        rules.push(rule);
    }
}

/// `idᵀ`, recorded as [`RaiseRule::TransposeToOrient`] when a transpose
/// remains (a transpose of a transpose cancels).
fn transpose_noted(graph: &mut Graph, id: Id, rules: &mut Vec<RaiseRule>) -> Id {
    let t = graph.transpose(id);
    if matches!(graph.node(t), Node::T(_)) {
        note(rules, RaiseRule::TransposeToOrient);
    }
    t
}

#[derive(Clone, Copy, Debug)]
struct Item {
    id: Id,
    row: Option<Ix>,
    col: Option<Ix>,
}

impl Item {
    fn has(&self, ix: Ix) -> bool {
        self.row == Some(ix) || self.col == Some(ix)
    }
    fn slot_count(&self) -> usize {
        usize::from(self.row.is_some()) + usize::from(self.col.is_some())
    }
    fn single(&self) -> Option<Ix> {
        match (self.row, self.col) {
            (Some(i), None) | (None, Some(i)) => Some(i),
            _ => None,
        }
    }
}

struct Raiser<'a> {
    graph: &'a mut Graph,
    space: &'a IndexSpace,
    items: Vec<Item>,
    scalars: Vec<Id>,
    sums: Vec<Ix>,
    free: Vec<Ix>,
    rules: &'a mut Vec<RaiseRule>,
}

/// Raises a sum of terms to one matrix node whose row and column are the
/// `free` indices (none: a scalar; one: a column; two: a matrix).
/// `Ok(None)` when some term has no matrix form.
pub fn raise(
    graph: &mut Graph,
    space: &IndexSpace,
    tensor: &Tensor,
    free: &[Ix],
) -> Result<Option<Raised>, GraphError> {
    let mut parts = Vec::new();
    let mut rules = Vec::new();
    for term in tensor {
        match raise_term(graph, space, term, free, &mut rules)? {
            Some(id) => parts.push(id),
            None => return Ok(None),
        }
    }
    let dims = [
        free.first()
            .map_or(DimSpec::Fixed(1), |&i| space.dim(i).clone()),
        free.get(1)
            .map_or(DimSpec::Fixed(1), |&i| space.dim(i).clone()),
    ];
    let id = match graph.sum_all(&parts)? {
        Some(id) => id,
        None => graph.zero(dims),
    };
    Ok(Some(Raised { id, rules }))
}

/// Raises one term, adding the rules applied to `rules`.
fn raise_term(
    graph: &mut Graph,
    space: &IndexSpace,
    term: &Term,
    free: &[Ix],
    rules: &mut Vec<RaiseRule>,
) -> Result<Option<Id>, GraphError> {
    if free.len() > 2 {
        return Ok(None);
    }
    let mut r = Raiser {
        graph,
        space,
        items: Vec::new(),
        scalars: Vec::new(),
        sums: term.sums.clone(),
        free: free.to_vec(),
        rules,
    };
    for factor in &term.factors {
        let item = match factor {
            Factor::Entry(id, ixs) => {
                let (row, col) = slots(r.graph.dims(*id), ixs);
                Item { id: *id, row, col }
            }
            Factor::Delta(a, b) => {
                let eye = r.graph.eye(space.dim(*a).clone());
                Item {
                    id: eye,
                    row: Some(*a),
                    col: Some(*b),
                }
            }
        };
        if item.slot_count() == 0 {
            r.scalars.push(item.id);
        } else {
            r.items.push(item);
        }
    }
    // Items indexed [i,i] become traces or diagonals once all are present.
    while let Some(k) = r
        .items
        .iter()
        .position(|it| it.row.is_some() && it.row == it.col)
    {
        let item = r.items.remove(k);
        r.push(item)?;
    }
    if !r.run()? {
        return Ok(None);
    }
    r.finish(term.coeff.clone(), free)
}

impl Raiser<'_> {
    fn note(&mut self, rule: RaiseRule) {
        note(self.rules, rule);
    }

    fn occurrences(&self, ix: Ix) -> usize {
        self.items
            .iter()
            .map(|it| usize::from(it.row == Some(ix)) + usize::from(it.col == Some(ix)))
            .sum()
    }

    fn is_summed(&self, ix: Ix) -> bool {
        self.sums.contains(&ix)
    }

    /// Adds an item, turning `[i,i]` into a trace or a diagonal and slot-free
    /// items into scalars.
    fn push(&mut self, item: Item) -> Result<(), GraphError> {
        if let (Some(i), Some(j)) = (item.row, item.col) {
            if i == j {
                let alone = self.is_summed(i) && self.occurrences(i) == 0;
                if alone {
                    // trace: Σ_i M[i,i]
                    self.note(RaiseRule::Trace);
                    let tr = self.graph.call(Func::Tr, item.id)?;
                    self.sums.retain(|&s| s != i);
                    self.scalars.push(tr);
                } else {
                    // diag-extract: M[i,i] = diag(M)[i]
                    self.note(RaiseRule::DiagExtract);
                    let d = self.graph.call(Func::Diag, item.id)?;
                    self.items.push(Item {
                        id: d,
                        row: Some(i),
                        col: None,
                    });
                }
                return Ok(());
            }
        }
        if item.slot_count() == 0 {
            self.scalars.push(item.id);
        } else {
            self.items.push(item);
        }
        Ok(())
    }

    fn take(&mut self, a: usize, b: usize) -> (Item, Item) {
        let (hi, lo) = if a > b { (a, b) } else { (b, a) };
        let x = self.items.remove(hi);
        let y = self.items.remove(lo);
        if a > b {
            (x, y)
        } else {
            (y, x)
        }
    }

    fn transposed(&mut self, item: Item) -> Item {
        Item {
            id: transpose_noted(self.graph, item.id, self.rules),
            row: item.col,
            col: item.row,
        }
    }

    /// Orients a vector or matrix item so that `ix` is its column index.
    fn with_col(&mut self, item: Item, ix: Ix) -> Item {
        if item.col == Some(ix) {
            item
        } else {
            self.transposed(item)
        }
    }

    /// Orients an item so that `ix` is its row index.
    fn with_row(&mut self, item: Item, ix: Ix) -> Item {
        if item.row == Some(ix) {
            item
        } else {
            self.transposed(item)
        }
    }

    /// Applies rules until one item is left or none applies.
    fn run(&mut self) -> Result<bool, GraphError> {
        loop {
            if self.items.len() <= 1 && self.sums.iter().all(|&s| self.occurrences(s) == 0) {
                return Ok(self.sums.is_empty() || self.drop_unused_sums());
            }
            if self.hadamard()? || self.diag_scale()? || self.matmul()? || self.sum_to_ones()? {
                continue;
            }
            if self.outer_product()? {
                continue;
            }
            return Ok(false);
        }
    }

    /// A dummy index that no factor uses sums a constant: multiply by its size.
    fn drop_unused_sums(&mut self) -> bool {
        let mut factor = Rational::one();
        for &s in &self.sums {
            match self.space.dim(s) {
                DimSpec::Fixed(n) => factor *= integer(*n),
                DimSpec::Named(_) => return false,
            }
        }
        self.sums.clear();
        self.note(RaiseRule::CountConstantSum);
        let f = self.graph.num(factor);
        self.scalars.push(f);
        true
    }

    /// `hadamard`: two items over the same set of indices.
    fn hadamard(&mut self) -> Result<bool, GraphError> {
        for a in 0..self.items.len() {
            for b in a + 1..self.items.len() {
                let (x, y) = (self.items[a], self.items[b]);
                let same = (x.row, x.col) == (y.row, y.col);
                let swapped = (x.row, x.col) == (y.col, y.row);
                if !(same || swapped) {
                    continue;
                }
                let (x, y) = self.take(a, b);
                let y = if same { y } else { self.transposed(y) };
                self.note(RaiseRule::Hadamard);
                let id = self.graph.binary(BinOp::HadMul, x.id, y.id)?;
                self.push(Item { id, ..x })?;
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// `diag-scale`: a vector `v[i]` and a matrix `M[i,j]` where `i` is free
    /// or shared by more than these two.
    fn diag_scale(&mut self) -> Result<bool, GraphError> {
        for a in 0..self.items.len() {
            let Some(i) = self.items[a].single() else {
                continue;
            };
            if self.is_summed(i) && self.occurrences(i) <= 2 {
                continue;
            }
            let Some(b) = (0..self.items.len())
                .find(|&b| b != a && self.items[b].slot_count() == 2 && self.items[b].has(i))
            else {
                continue;
            };
            let (v, m) = self.take(a, b);
            self.note(RaiseRule::DiagScale);
            let d = self.graph.call(Func::Diag, v.id)?;
            let id = if m.row == Some(i) {
                self.graph.binary(BinOp::Mul, d, m.id)?
            } else {
                self.graph.binary(BinOp::Mul, m.id, d)?
            };
            self.push(Item { id, ..m })?;
            return Ok(true);
        }
        Ok(false)
    }

    /// `matmul-from-sum`: a dummy index in exactly two different items.
    fn matmul(&mut self) -> Result<bool, GraphError> {
        for s in self.sums.clone() {
            if self.occurrences(s) != 2 {
                continue;
            }
            let holders: Vec<usize> = (0..self.items.len())
                .filter(|&k| self.items[k].has(s))
                .collect();
            let [a, b] = holders[..] else { continue };
            let (x, y) = self.take(a, b);
            let (x, y) = if self.order_cost(&x, &y, s) <= self.order_cost(&y, &x, s) {
                (x, y)
            } else {
                (y, x)
            };
            let x = self.with_col(x, s);
            let y = self.with_row(y, s);
            self.note(RaiseRule::MatmulFromSum);
            let id = self.graph.binary(BinOp::Mul, x.id, y.id)?;
            self.sums.retain(|&k| k != s);
            self.push(Item {
                id,
                row: x.row,
                col: y.col,
            })?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Transposes needed to write `left*right` contracting `s`, plus one if
    /// the product would come out against the order of the free indices.
    fn order_cost(&self, left: &Item, right: &Item, s: Ix) -> usize {
        let row = if left.col == Some(s) {
            left.row
        } else {
            left.col
        };
        let col = if right.row == Some(s) {
            right.col
        } else {
            right.row
        };
        let against = (self.free.len() == 2
            && (row == Some(self.free[1]) || col == Some(self.free[0])))
            || (self.free.len() == 1 && col == Some(self.free[0]) && row.is_none());
        usize::from(left.col != Some(s)) + usize::from(right.row != Some(s)) + usize::from(against)
    }

    /// `sum-to-ones`: a dummy index that only one item carries.
    fn sum_to_ones(&mut self) -> Result<bool, GraphError> {
        for s in self.sums.clone() {
            if self.occurrences(s) != 1 {
                continue;
            }
            let k = (0..self.items.len())
                .find(|&k| self.items[k].has(s))
                .expect("an index that occurs is held by an item");
            let item = self.items.remove(k);
            self.sums.retain(|&x| x != s);
            let other = if item.row == Some(s) {
                item.col
            } else {
                item.row
            };
            let whole = other.is_some_and(|o| self.is_summed(o) && self.occurrences(o) == 0);
            if whole {
                // Σ_ij M[i,j] = sum(M)
                let o = other.expect("checked");
                self.sums.retain(|&x| x != o);
                self.note(RaiseRule::SumOfEntries);
                let total = self.graph.call(Func::Sum, item.id)?;
                self.scalars.push(total);
                return Ok(true);
            }
            if item.slot_count() == 1 {
                self.note(RaiseRule::SumOfEntries);
                let total = self.graph.call(Func::Sum, item.id)?;
                self.scalars.push(total);
                return Ok(true);
            }
            // Σ_s M[i,s] = (M*1)[i]; the sum over a row index transposes first.
            let m = self.with_col(item, s);
            self.note(RaiseRule::SumToOnes);
            let ones = self
                .graph
                .ones([self.space.dim(s).clone(), DimSpec::Fixed(1)]);
            let id = self.graph.binary(BinOp::Mul, m.id, ones)?;
            self.push(Item {
                id,
                row: m.row,
                col: None,
            })?;
            return Ok(true);
        }
        Ok(false)
    }

    /// `outer-product`: two one-index items with different indices.
    fn outer_product(&mut self) -> Result<bool, GraphError> {
        let vectors: Vec<usize> = (0..self.items.len())
            .filter(|&k| self.items[k].slot_count() == 1)
            .collect();
        let [a, b, ..] = vectors[..] else {
            return Ok(false);
        };
        let (x, y) = self.take(a, b);
        let rank = |ix: Ix| {
            self.free
                .iter()
                .position(|&f| f == ix)
                .unwrap_or(usize::MAX)
        };
        let (x, y) = if rank(y.single().expect("vector")) < rank(x.single().expect("vector")) {
            (y, x)
        } else {
            (x, y)
        };
        let (i, j) = (x.single().expect("vector"), y.single().expect("vector"));
        let u = self.with_row(x, i);
        let v = self.with_col(y, j);
        self.note(RaiseRule::OuterProduct);
        let id = self.graph.binary(BinOp::Mul, u.id, v.id)?;
        self.push(Item {
            id,
            row: Some(i),
            col: Some(j),
        })?;
        Ok(true)
    }

    /// Orients the last item to the free indices and applies the scalars.
    fn finish(mut self, coeff: Rational, free: &[Ix]) -> Result<Option<Id>, GraphError> {
        let body = match self.items.pop() {
            None => None,
            Some(item) => {
                let used = [item.row, item.col];
                if used.iter().flatten().any(|ix| !free.contains(ix)) {
                    return Ok(None);
                }
                Some(item)
            }
        };
        let base = match (free, body) {
            ([], None) => None,
            ([], Some(_)) => return Ok(None),
            ([a], Some(item)) => Some(self.with_row(item, *a).id),
            ([a], None) => {
                self.note(RaiseRule::BroadcastOnes);
                Some(self.ones(&[*a]))
            }
            ([a, b], Some(item)) if item.slot_count() == 2 => Some(self.with_row(item, *a).id),
            ([a, b], Some(item)) => {
                // A vector over one free index, constant along the other:
                // an outer product with a vector of ones.
                let ix = item.single().expect("one slot");
                self.note(RaiseRule::BroadcastOnes);
                if ix == *a {
                    let u = self.with_row(item, *a).id;
                    let ones = self.ones(&[*b]);
                    let ones_t = self.graph.transpose(ones);
                    Some(self.graph.binary(BinOp::Mul, u, ones_t)?)
                } else {
                    let v = self.with_col(item, *b).id;
                    let ones = self.ones(&[*a]);
                    Some(self.graph.binary(BinOp::Mul, ones, v)?)
                }
            }
            ([a, b], None) => {
                self.note(RaiseRule::BroadcastOnes);
                Some(self.ones(&[*a, *b]))
            }
            _ => return Ok(None),
        };
        let mut scalar: Option<Id> = None;
        for s in std::mem::take(&mut self.scalars) {
            scalar = Some(match scalar {
                None => s,
                Some(prev) => self.graph.binary(BinOp::Mul, prev, s)?,
            });
        }
        let c = self.graph.num(coeff);
        let mut out = match (scalar, base) {
            (None, None) => c,
            (Some(s), None) => self.graph.binary(BinOp::Mul, c, s)?,
            (None, Some(b)) => self.graph.binary(BinOp::Mul, c, b)?,
            (Some(s), Some(b)) => {
                let cs = self.graph.binary(BinOp::Mul, c, s)?;
                self.graph.binary(BinOp::Mul, cs, b)?
            }
        };
        if free.is_empty() && !self.graph.is_scalar(out) {
            return Ok(None);
        }
        if free.len() == 1 && is_one(&self.graph.dims(out)[0]) && !self.graph.is_scalar(out) {
            out = transpose_noted(self.graph, out, self.rules);
        }
        Ok(Some(out))
    }

    fn ones(&mut self, ixs: &[Ix]) -> Id {
        let rows = self.space.dim(ixs[0]).clone();
        let cols = ixs
            .get(1)
            .map_or(DimSpec::Fixed(1), |&i| self.space.dim(i).clone());
        self.graph.ones([rows, cols])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(n: usize) -> DimSpec {
        DimSpec::Fixed(n)
    }

    struct Fixture {
        graph: Graph,
        space: IndexSpace,
    }

    impl Fixture {
        fn new() -> Fixture {
            Fixture {
                graph: Graph::new(),
                space: IndexSpace::new(),
            }
        }
        fn ix(&mut self, n: usize) -> Ix {
            self.space.fresh(d(n))
        }
        fn var(&mut self, name: &str, r: usize, c: usize) -> Id {
            self.graph.var(name, [d(r), d(c)])
        }
        fn raised(&mut self, factors: Vec<Factor>, sums: Vec<Ix>, free: &[Ix]) -> Option<Raised> {
            let term = Term {
                factors,
                sums,
                ..Term::one()
            };
            raise(&mut self.graph, &self.space, &vec![term], free).unwrap()
        }
        fn raise(&mut self, factors: Vec<Factor>, sums: Vec<Ix>, free: &[Ix]) -> Option<Id> {
            self.raised(factors, sums, free).map(|r| r.id)
        }
    }

    #[test]
    fn matmul_from_sum() {
        let mut f = Fixture::new();
        let (x, w) = (f.var("X", 4, 3), f.var("W", 3, 5));
        let (i, k, j) = (f.ix(4), f.ix(3), f.ix(5));
        let got = f.raise(
            vec![Factor::Entry(x, vec![i, k]), Factor::Entry(w, vec![k, j])],
            vec![k],
            &[i, j],
        );
        let want = f.graph.binary(BinOp::Mul, x, w).unwrap();
        assert_eq!(got, Some(want));
    }

    #[test]
    fn matmul_orients_with_fewest_transposes() {
        // Σ_j G[a,j] W[b,j] = (G*W')[a,b]
        let mut f = Fixture::new();
        let (g, w) = (f.var("G", 4, 5), f.var("W", 3, 5));
        let (a, b, j) = (f.ix(4), f.ix(3), f.ix(5));
        let got = f.raise(
            vec![Factor::Entry(w, vec![b, j]), Factor::Entry(g, vec![a, j])],
            vec![j],
            &[a, b],
        );
        let wt = f.graph.transpose(w);
        let want = f.graph.binary(BinOp::Mul, g, wt).unwrap();
        assert_eq!(got, Some(want));
    }

    #[test]
    fn hadamard_with_and_without_transpose() {
        let mut f = Fixture::new();
        let (a, b) = (f.var("A", 3, 4), f.var("B", 4, 3));
        let (i, j) = (f.ix(3), f.ix(4));
        let got = f.raise(
            vec![Factor::Entry(a, vec![i, j]), Factor::Entry(b, vec![j, i])],
            vec![],
            &[i, j],
        );
        let bt = f.graph.transpose(b);
        let want = f.graph.binary(BinOp::HadMul, a, bt).unwrap();
        assert_eq!(got, Some(want));
    }

    #[test]
    fn diag_scale_of_rows() {
        let mut f = Fixture::new();
        let (v, m) = (f.var("v", 3, 1), f.var("M", 3, 4));
        let (i, j) = (f.ix(3), f.ix(4));
        let got = f.raise(
            vec![Factor::Entry(v, vec![i]), Factor::Entry(m, vec![i, j])],
            vec![],
            &[i, j],
        );
        let dv = f.graph.call(Func::Diag, v).unwrap();
        let want = f.graph.binary(BinOp::Mul, dv, m).unwrap();
        assert_eq!(got, Some(want));
    }

    #[test]
    fn sum_to_ones_over_rows() {
        // Σ_i G[i,j] = (G'*1)[j]
        let mut f = Fixture::new();
        let g = f.var("G", 4, 5);
        let (i, j) = (f.ix(4), f.ix(5));
        let got = f.raise(vec![Factor::Entry(g, vec![i, j])], vec![i], &[j]);
        let gt = f.graph.transpose(g);
        let ones = f.graph.ones([d(4), d(1)]);
        let want = f.graph.binary(BinOp::Mul, gt, ones).unwrap();
        assert_eq!(got, Some(want));
    }

    #[test]
    fn trace_and_diagonal() {
        let mut f = Fixture::new();
        let m = f.var("M", 3, 3);
        let i = f.ix(3);
        let tr = f.raise(vec![Factor::Entry(m, vec![i, i])], vec![i], &[]);
        assert_eq!(tr, Some(f.graph.call(Func::Tr, m).unwrap()));
        let diag = f.raise(vec![Factor::Entry(m, vec![i, i])], vec![], &[i]);
        assert_eq!(diag, Some(f.graph.call(Func::Diag, m).unwrap()));
    }

    #[test]
    fn outer_product_and_eye() {
        let mut f = Fixture::new();
        let (u, v) = (f.var("u", 3, 1), f.var("v", 4, 1));
        let (i, j) = (f.ix(3), f.ix(4));
        let got = f.raise(
            vec![Factor::Entry(v, vec![j]), Factor::Entry(u, vec![i])],
            vec![],
            &[i, j],
        );
        let vt = f.graph.transpose(v);
        assert_eq!(got, Some(f.graph.binary(BinOp::Mul, u, vt).unwrap()));
        let k = f.ix(3);
        let eye = f.raise(vec![Factor::Delta(i, k)], vec![], &[i, k]);
        assert_eq!(eye, Some(f.graph.eye(d(3))));
    }

    #[test]
    fn unaccounted_index_has_no_matrix_form() {
        let mut f = Fixture::new();
        let m = f.var("M", 3, 4);
        let (i, j) = (f.ix(3), f.ix(4));
        assert_eq!(
            f.raise(vec![Factor::Entry(m, vec![i, j])], vec![], &[i]),
            None
        );
        let k = f.ix(5);
        assert_eq!(
            f.raise(vec![Factor::Entry(m, vec![i, j])], vec![], &[i, j, k]),
            None
        );
    }

    #[test]
    fn each_merge_records_its_rules_in_order() {
        use RaiseRule::*;
        let mut f = Fixture::new();
        let (g, w) = (f.var("G", 4, 5), f.var("W", 3, 5));
        let (a, b, j) = (f.ix(4), f.ix(3), f.ix(5));
        let rules = |r: Option<Raised>| r.expect("a matrix form").rules;
        let product = f.raised(
            vec![Factor::Entry(g, vec![a, j]), Factor::Entry(w, vec![b, j])],
            vec![j],
            &[a, b],
        );
        assert_eq!(rules(product), [TransposeToOrient, MatmulFromSum]);
        let column_sums = f.raised(vec![Factor::Entry(g, vec![a, j])], vec![a], &[j]);
        assert_eq!(rules(column_sums), [TransposeToOrient, SumToOnes]);
        let entries = f.raised(vec![Factor::Entry(g, vec![a, j])], vec![], &[a, j]);
        assert_eq!(rules(entries), []);
        let m = f.var("M", 3, 3);
        let i = f.ix(3);
        let trace = f.raised(vec![Factor::Entry(m, vec![i, i])], vec![i], &[]);
        assert_eq!(rules(trace), [Trace]);
        let diagonal_twice = f.raised(
            vec![Factor::Entry(m, vec![i, i]), Factor::Entry(m, vec![i, i])],
            vec![],
            &[i],
        );
        assert_eq!(rules(diagonal_twice), [DiagExtract, Hadamard]);
    }
}
