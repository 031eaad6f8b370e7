//! Naming repeated subexpressions: `E₁ = …` bindings for a long result.
//!
//! Rule: repeatedly, the largest subexpression (at least `min_nodes` nodes,
//! without index notation) that occurs at least twice in what is left is
//! named, and every occurrence replaced by the name; among equally large
//! ones, the last in printed order goes first. A binding keeps its own
//! text whole.
//!
//! Invariant: linear in the tree apart from the bookkeeping per name.
//! Equal subtrees are interned once, bottom-up; naming a subtree only
//! lowers the counts of the subtrees inside it (a larger one occurs at most
//! once, or it would have been named first), so the counts are updated from
//! the interned graph instead of re-scanning the tree.

use std::collections::{BTreeMap, HashMap};

use super::ast::{Expr, ExprKind};
use super::print::expr_to_string;

/// `expr` with its repeated subexpressions replaced by names, and the
/// `(name, subexpression)` bindings in the order they were chosen;
/// `name(k)` names the k-th (from 0).
pub fn name_repeated(
    expr: Expr,
    min_nodes: usize,
    name: impl Fn(usize) -> String,
) -> (Expr, Vec<(String, Expr)>) {
    let subtrees = Subtrees::of(&expr);
    let chosen = subtrees.repeated(min_nodes);
    if chosen.is_empty() {
        return (expr, Vec::new());
    }
    let names: HashMap<usize, String> = chosen
        .iter()
        .enumerate()
        .map(|(k, &id)| (id, name(k)))
        .collect();
    let bindings = chosen
        .iter()
        .map(|id| (names[id].clone(), subtrees.first[*id].clone()))
        .collect();
    let (named, _) = subtrees.substitute(expr.clone(), &names);
    (named, bindings)
}

/// Every subtree of an expression, interned bottom-up so that equal
/// subtrees share one id; children get smaller ids than their parents.
struct Subtrees<'e> {
    ids: HashMap<(String, Vec<usize>), usize>,
    /// The first occurrence of each subtree.
    first: Vec<&'e Expr>,
    /// The ids of its children.
    kids: Vec<Vec<usize>>,
    /// Its size in nodes.
    size: Vec<usize>,
    /// How often it occurs.
    count: Vec<usize>,
    /// Whether it uses index notation.
    indexed: Vec<bool>,
}

impl<'e> Subtrees<'e> {
    fn of(expr: &'e Expr) -> Subtrees<'e> {
        let mut s = Subtrees {
            ids: HashMap::new(),
            first: Vec::new(),
            kids: Vec::new(),
            size: Vec::new(),
            count: Vec::new(),
            indexed: Vec::new(),
        };
        s.intern(expr);
        s
    }

    fn intern(&mut self, e: &'e Expr) -> usize {
        let kids: Vec<usize> = e.children().into_iter().map(|c| self.intern(c)).collect();
        let key = (head(e), kids);
        if let Some(&id) = self.ids.get(&key) {
            self.count[id] += 1;
            return id;
        }
        let id = self.first.len();
        let kids = key.1.clone();
        self.size
            .push(1 + kids.iter().map(|&k| self.size[k]).sum::<usize>());
        self.indexed.push(
            matches!(
                e.kind,
                ExprKind::Index(..) | ExprKind::Delta(..) | ExprKind::IndexSum(..)
            ) || kids.iter().any(|&k| self.indexed[k]),
        );
        self.first.push(e);
        self.kids.push(kids);
        self.count.push(1);
        self.ids.insert(key, id);
        id
    }

    /// The ids to name, in the order of the rule in the module doc.
    fn repeated(&self, min_nodes: usize) -> Vec<usize> {
        let mut count = self.count.clone();
        let mut candidates: Vec<usize> = (0..self.first.len())
            .filter(|&id| count[id] >= 2 && self.size[id] >= min_nodes && !self.indexed[id])
            .collect();
        self.sort_largest_first(&mut candidates);
        // Counts only fall, so the first candidate still repeated is always
        // the largest repeated one.
        let mut chosen = Vec::new();
        for id in candidates {
            if count[id] < 2 {
                continue;
            }
            let copies = count[id];
            for (inner, k) in self.occurrences_within(id) {
                count[inner] -= copies * k;
            }
            chosen.push(id);
        }
        chosen
    }

    /// Largest first; equal sizes by printed text, last first.
    fn sort_largest_first(&self, ids: &mut [usize]) {
        ids.sort_by(|a, b| self.size[*b].cmp(&self.size[*a]));
        for group in ids.chunk_by_mut(|a, b| self.size[*a] == self.size[*b]) {
            if group.len() > 1 {
                group.sort_by_cached_key(|id| std::cmp::Reverse(expr_to_string(self.first[*id])));
            }
        }
    }

    /// How often each subtree occurs in one copy of `root` (itself once).
    fn occurrences_within(&self, root: usize) -> BTreeMap<usize, usize> {
        let mut pending = BTreeMap::from([(root, 1)]);
        let mut done = BTreeMap::new();
        // Parents have larger ids, so the largest pending id has all its
        // occurrences counted.
        while let Some((id, k)) = pending.pop_last() {
            for &kid in &self.kids[id] {
                *pending.entry(kid).or_insert(0) += k;
            }
            done.insert(id, k);
        }
        done
    }

    /// `e` (whose subtrees were interned) with the named ones replaced,
    /// and its id.
    fn substitute(&self, e: Expr, names: &HashMap<usize, String>) -> (Expr, usize) {
        let head = head(&e);
        let mut kids = Vec::new();
        let e = e.map_children(&mut |c| {
            let (c, id) = self.substitute(c, names);
            kids.push(id);
            c
        });
        let id = self.ids[&(head, kids)];
        match names.get(&id) {
            Some(name) => (Expr::var(name), id),
            None => (e, id),
        }
    }
}

/// What tells a node apart from others with the same children.
fn head(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Num(x) => format!("#{x:?}"),
        ExprKind::Var(v) => format!("${v}"),
        ExprKind::Neg(_) => "neg".to_string(),
        ExprKind::Transpose(_) => "'".to_string(),
        ExprKind::Binary(op, ..) => format!("{op:?}"),
        ExprKind::Call(func, _) => format!("{func:?}"),
        ExprKind::Fill { kind, size, .. } => format!("{kind:?}{size:?}"),
        ExprKind::Const(kind, dims) => format!("{kind:?}{dims:?}"),
        ExprKind::Apply(name, _) => format!("apply {name}"),
        ExprKind::Grad(name, _) => format!("grad {name}"),
        ExprKind::Hess(name, _) => format!("hess {name}"),
        ExprKind::Index(_, ixs) => format!("[{ixs:?}]"),
        ExprKind::Delta(i, j) => format!("delta {i} {j}"),
        ExprKind::IndexSum(ixs, _) => format!("sum {ixs:?}"),
        ExprKind::Size(_, axis) => format!("size {axis:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::{parse_expr, Decls};

    fn named(text: &str) -> (String, Vec<(String, String)>) {
        let e = parse_expr(text, &Decls::new()).expect("parses");
        let (body, bindings) = name_repeated(e, 4, |k| format!("E{k}"));
        (
            expr_to_string(&body),
            bindings
                .into_iter()
                .map(|(n, e)| (n, expr_to_string(&e)))
                .collect(),
        )
    }

    #[test]
    fn the_largest_repeated_subexpression_is_named_first() {
        let (body, bindings) = named("exp(A*B+C)*D + exp(A*B+C)*F + A*B*G");
        assert_eq!(body, "E0*D + E0*F + A*B*G");
        assert_eq!(bindings, vec![("E0".into(), "exp(A*B + C)".into())]);
    }

    #[test]
    fn a_subexpression_repeated_only_inside_a_named_one_is_not_named() {
        let (body, bindings) = named("tr(inv(X'*X)) + tr(inv(X'*X))");
        assert_eq!(body, "E0 + E0");
        assert_eq!(bindings.len(), 1);
    }

    #[test]
    fn a_subexpression_also_repeated_outside_is_named_after() {
        let (body, bindings) = named(
            "exp(tanh(log(x+y))) + exp(tanh(log(x+y))) + s*tanh(log(x+y)) + t*tanh(log(x+y))",
        );
        assert_eq!(body, "E0 + E0 + s*E1 + t*E1");
        assert_eq!(bindings[1], ("E1".into(), "tanh(log(x + y))".into()));
    }

    #[test]
    fn small_or_unrepeated_subexpressions_stay() {
        let (body, bindings) = named("A*B + B*A");
        assert_eq!(body, "A*B + B*A");
        assert!(bindings.is_empty());
    }
}
