//! Writing results so that they read back: the printed result of `derive`
//! (`--format expr`) parses, shape-checks under the same declarations and
//! means the same value.
//!
//! Two places need care. A constant fill may be written `vector(c)` /
//! `matrix(c)` only where a reader infers its size from its position (the
//! shape checker decides, the same one that reads the input): everywhere
//! else it is written with its size, `ones(n)` or `c*ones(n,m)`. And an
//! index form names its dummies so that each name has one range, and turns
//! a sum over an index that no factor uses into a factor of its size.
//!
//! A result may also be written as a [`Listing`]: its shared intermediates
//! named, one binding `NAME = EXPR` per line, then the result(s), so that
//! the written size grows with the DAG, not with the tree. [`Listing::read`]
//! parses such a text back.
//!
//! Invariant: pure; uses `syntax`, `shape`, `index` and the results of
//! `derive`; never prints.

use std::collections::{BTreeMap, BTreeSet};

use crate::derive::Derivation;
use num_traits::Signed;

use crate::index::{
    number_expr, ExportOptions, Factor, FillWriting, Graph, Id, IndexSpace, Ix, Tensor, Term,
};
use crate::shape::ShapeError;
use crate::shape::{self, Dim, Shape, ShapeContext};
use crate::syntax::{
    parse_formula, to_expr_string, ConstKind, Decl, Decls, Expr, ExprKind, Formula, Func, IndexLhs,
    ParseError, Span,
};

/// Rounds of re-reading a result to find the fills a reader cannot size,
/// each writing one more with its size; past them, or for a large result,
/// every fill is written with its size.
const MAX_ROUNDS: usize = 16;

/// A result larger than this (in nodes) is read back once only.
const LARGE_RESULT: usize = 10_000;

/// What a reader of a result knows: the shape of every variable and of the
/// argument of every abstract function.
#[derive(Clone, Debug)]
pub struct Reader {
    decls: Decls,
    gradients: BTreeMap<String, Shape>,
}

impl Reader {
    /// A reader who knows these variables' and gradients' shapes.
    pub fn new(vars: &BTreeMap<String, Shape>, gradients: &BTreeMap<String, Shape>) -> Reader {
        let mut decls = Decls::new();
        for (name, s) in vars {
            decls.insert(value_decl(name, s));
        }
        Reader {
            decls,
            gradients: gradients.clone(),
        }
    }

    /// The position (in preorder, among the fills of `expr`) of the first
    /// fill this reader would not size as `sizes` says: one the shape
    /// checker cannot size from its position, or sizes differently (a fill
    /// beside a broadcast row takes the row's shape).
    fn first_misread(&self, expr: &Expr, sizes: &[Option<[Dim; 2]>]) -> Option<usize> {
        let text = to_expr_string(&Formula {
            lhs: None,
            body: expr.clone(),
        });
        let Ok(reparsed) = parse_formula(&text, &self.decls) else {
            return Some(0);
        };
        let ctx = ShapeContext {
            decls: &self.decls,
            source: &text,
            gradient_shapes: self.gradients.clone(),
            expected: None,
        };
        match shape::check(&reparsed, &ctx) {
            Ok(typed) => {
                let read = fills(&typed.formula.body, &fill_size);
                if read.len() != sizes.len() {
                    return Some(0);
                }
                (0..sizes.len()).find(|&k| read[k] != sizes[k])
            }
            // The fill the error points at, else the first.
            Err(e) => Some(
                fills(&reparsed.body, &|e| e.span)
                    .iter()
                    .position(|&span| span == e.span)
                    .unwrap_or(0),
            ),
        }
    }
}

/// The declaration of a value of shape `s`.
fn value_decl(name: &str, s: &Shape) -> Decl {
    let dims = if s.is_scalar() {
        Vec::new()
    } else if s.cols == Dim::Fixed(1) {
        vec![s.rows.clone()]
    } else {
        vec![s.rows.clone(), s.cols.clone()]
    };
    Decl::value(name, dims)
}

/// Results written with their shared intermediates named: each binding
/// uses the variables and the names bound before it, each result all of
/// them.
///
/// As text (`--format expr`) a listing is one line per binding,
/// `NAME = EXPR`, then one line per result in the input syntax; with no
/// bindings it is just the results, as a flat printout.
#[derive(Clone, Debug, PartialEq)]
pub struct Listing {
    /// `(name, expression)`, in order of definition.
    pub bindings: Vec<(String, Expr)>,
    /// The results.
    pub results: Vec<Formula>,
}

/// Why a listing does not read back.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ListingError {
    /// A line does not parse.
    #[error("line {line}: {error}")]
    Parse {
        /// The line, from 1.
        line: usize,
        /// The parse error within the line.
        error: ParseError,
    },
    /// A line does not shape-check.
    #[error("line {line}: {error}")]
    Shape {
        /// The line, from 1.
        line: usize,
        /// The shape error within the line.
        error: ShapeError,
    },
    /// A line uses a name that is neither a variable nor bound before it.
    #[error("line {line}: `{name}` is neither a variable nor bound above")]
    Unbound {
        /// The line, from 1.
        line: usize,
        /// The name.
        name: String,
    },
    /// A binding is an index form (`E[i] = …`), which names no matrix.
    #[error("line {line}: a binding names a matrix expression, not an index form")]
    IndexBinding {
        /// The line, from 1.
        line: usize,
    },
    /// A name is bound twice, or a binding shadows a variable.
    #[error("line {line}: `{name}` is already defined")]
    Rebound {
        /// The line, from 1.
        line: usize,
        /// The name.
        name: String,
    },
}

impl Listing {
    /// The derivatives of `d` at positions `which`, with the shared nodes
    /// of the matrix-form ones named by `name(k)` (k = 0, 1, …; names equal
    /// to one in `taken` are skipped). An index-form result is written as
    /// it is.
    pub fn of(
        d: &Derivation,
        which: &[usize],
        taken: &[String],
        name: &dyn Fn(usize) -> String,
    ) -> Listing {
        let mut roots = Vec::new();
        let mut options = None;
        for &k in which {
            if let Some((id, o)) = d.derivatives[k].node() {
                roots.push(id);
                options.get_or_insert(o);
            }
        }
        let Some(options) = options else {
            return Listing {
                bindings: Vec::new(),
                results: which
                    .iter()
                    .map(|&k| d.derivatives[k].formula().clone())
                    .collect(),
            };
        };
        let mut next = 0;
        let mut fresh = |_| loop {
            let candidate = name(next);
            next += 1;
            if !taken.contains(&candidate) {
                return candidate;
            }
        };
        let (bindings, written) = d.graph.listing(&roots, options, &mut fresh);
        if bindings.is_empty() {
            // Nothing shared: the flat printout, fills sized from context.
            return Listing {
                bindings,
                results: which
                    .iter()
                    .map(|&k| d.derivatives[k].formula().clone())
                    .collect(),
            };
        }
        let mut written = written.into_iter();
        let results = which
            .iter()
            .map(|&k| match d.derivatives[k].node() {
                Some(_) => Formula {
                    lhs: None,
                    body: written.next().unwrap_or_else(|| Expr::num(0.0)),
                },
                None => d.derivatives[k].formula().clone(),
            })
            .collect();
        Listing { bindings, results }
    }

    /// The listing in the input syntax: `NAME = EXPR` lines, then the
    /// results, one per line.
    pub fn to_expr_string(&self) -> String {
        let bindings = self.bindings.iter().map(|(name, e)| {
            let body = to_expr_string(&Formula {
                lhs: None,
                body: e.clone(),
            });
            format!("{name} = {body}")
        });
        bindings
            .chain(self.results.iter().map(to_expr_string))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Reads a listing back: each binding line parsed and shape-checked
    /// with `reader`'s variables and the names bound above it, then each
    /// result line. Blank lines are skipped.
    pub fn read(text: &str, reader: &Reader) -> Result<Listing, ListingError> {
        let mut decls = reader.decls.clone();
        let mut listing = Listing {
            bindings: Vec::new(),
            results: Vec::new(),
        };
        for (k, line) in text.lines().enumerate() {
            let line_no = k + 1;
            if line.trim().is_empty() {
                continue;
            }
            let (name, body) = match binding_name(line) {
                Some((name, body)) => (Some(name), body),
                None => (None, line),
            };
            let parsed = parse_formula(body, &decls).map_err(|error| ListingError::Parse {
                line: line_no,
                error,
            })?;
            let ctx = ShapeContext {
                decls: &decls,
                source: body,
                gradient_shapes: reader.gradients.clone(),
                expected: None,
            };
            let typed = shape::check(&parsed, &ctx).map_err(|error| ListingError::Shape {
                line: line_no,
                error,
            })?;
            if let Some(unbound) = typed.assumed.first() {
                return Err(ListingError::Unbound {
                    line: line_no,
                    name: unbound.clone(),
                });
            }
            match name {
                Some(name) => {
                    let shape::ResultShape::Matrix(s) = &typed.result else {
                        return Err(ListingError::IndexBinding { line: line_no });
                    };
                    if decls.get(name).is_some() {
                        return Err(ListingError::Rebound {
                            line: line_no,
                            name: name.to_string(),
                        });
                    }
                    decls.insert(value_decl(name, s));
                    listing
                        .bindings
                        .push((name.to_string(), typed.formula.body));
                }
                None => listing.results.push(typed.formula),
            }
        }
        Ok(listing)
    }

    /// The results with every bound name replaced by its expression (a
    /// flat printout: its size may grow quadratically with the listing's).
    pub fn substituted(&self) -> Vec<Formula> {
        let mut values: BTreeMap<&str, Expr> = BTreeMap::new();
        for (name, e) in &self.bindings {
            let flat = substitute(e, &values);
            values.insert(name, flat);
        }
        self.results
            .iter()
            .map(|f| Formula {
                lhs: f.lhs.clone(),
                body: substitute(&f.body, &values),
            })
            .collect()
    }
}

/// `e` with the names in `values` replaced by their expressions.
fn substitute(e: &Expr, values: &BTreeMap<&str, Expr>) -> Expr {
    match &e.kind {
        ExprKind::Var(name) if values.contains_key(name.as_str()) => values[name.as_str()].clone(),
        _ => e.clone().map_children(&mut |c| substitute(&c, values)),
    }
}

/// `(NAME, EXPR)` of a line `NAME = EXPR` (an identifier, then `=`).
fn binding_name(line: &str) -> Option<(&str, &str)> {
    let (head, body) = line.split_once('=')?;
    let name = head.trim();
    let mut chars = name.chars();
    let first = chars.next()?;
    let identifier = (first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    identifier.then_some((name, body))
}

fn fill_size(e: &Expr) -> Option<[Dim; 2]> {
    match &e.kind {
        ExprKind::Fill { size, .. } => size.clone(),
        _ => None,
    }
}

/// `what` of every fill of `e`, in preorder (the order in which the shape
/// checker sizes them).
fn fills<T>(e: &Expr, what: &dyn Fn(&Expr) -> T) -> Vec<T> {
    let mut out = Vec::new();
    let mut stack = vec![e];
    while let Some(x) = stack.pop() {
        if matches!(x.kind, ExprKind::Fill { .. }) {
            out.push(what(x));
        }
        stack.extend(x.children().into_iter().rev());
    }
    out
}

/// The node as an expression whose fills `reader` sizes as the graph does:
/// `vector(c)` where it can, the size spelt out where it cannot.
pub fn written(graph: &Graph, id: Id, options: &ExportOptions, reader: &Reader) -> Expr {
    let mut explicit = BTreeSet::new();
    for _ in 0..MAX_ROUNDS {
        let expr = graph.export(
            id,
            &ExportOptions {
                fills: FillWriting::Explicit(explicit.clone()),
                ..options.clone()
            },
        );
        let sizes = fills(&expr, &fill_size);
        if sizes.is_empty() {
            return expr;
        }
        // The first fill misread only: a later one may be misread only
        // because of it (`(matrix(1) ./ b')'*vector(1)`).
        let Some(first) = reader.first_misread(&expr, &sizes) else {
            return expr;
        };
        if expr.node_count() > LARGE_RESULT {
            break;
        }
        // The k-th fill still written bare is the k-th occurrence not yet
        // explicit.
        let bare: Vec<usize> = (0..)
            .filter(|o| !explicit.contains(o))
            .take(sizes.len())
            .collect();
        explicit.insert(bare[first]);
    }
    graph.export(
        id,
        &ExportOptions {
            fills: FillWriting::AllExplicit,
            ..options.clone()
        },
    )
}

const FREE_NAMES: [&str; 6] = ["i", "j", "k", "l", "m", "n"];
const DUMMY_NAMES: [&str; 8] = ["p", "q", "r", "s", "t", "u", "v", "w"];

/// Dummy names of one index form: a name stands for one range throughout
/// (the reader unifies the ranges of an index name over the whole formula).
#[derive(Default)]
struct Dummies {
    ranges: BTreeMap<String, Dim>,
}

impl Dummies {
    /// The first dummy name over `dim` not in `taken`.
    fn name(&mut self, dim: &Dim, taken: &BTreeMap<Ix, String>) -> String {
        let candidates = (0..).map(|k| {
            DUMMY_NAMES
                .get(k)
                .map_or(format!("p{k}"), |n| n.to_string())
        });
        for name in candidates {
            if taken.values().any(|n| *n == name) {
                continue;
            }
            match self.ranges.get(&name) {
                Some(range) if range != dim => continue,
                _ => {
                    self.ranges.insert(name.clone(), dim.clone());
                    return name;
                }
            }
        }
        unreachable!("the candidate names are endless")
    }
}

/// A term with every sum over an index that no factor uses taken out, and
/// the factors that stand for the symbolic sizes: a concrete size joins the
/// coefficient, a symbolic one `n` is the factor `tr(eye(n))`.
fn without_unused_sums(term: &Term, space: &IndexSpace) -> (Term, Vec<Expr>) {
    let mut term = term.clone();
    let mut sizes = Vec::new();
    for s in term.sums.clone() {
        if term.occurrences(s) > 0 {
            continue;
        }
        term.sums.retain(|&x| x != s);
        match space.dim(s) {
            Dim::Fixed(n) => term.coeff *= crate::algebra::integer(*n),
            n @ Dim::Named(_) => sizes.push(Expr::call(
                Func::Tr,
                Expr::new(ExprKind::Const(ConstKind::Eye, vec![n.clone()])),
            )),
        }
    }
    (term, sizes)
}

/// The factors every term of `tensor` shares (entries of free indices
/// only, so that taking them out of the sum keeps its meaning), and the
/// terms without them; nothing is shared by a single term.
fn factored(tensor: &Tensor, free: &[Ix]) -> (Vec<Factor>, Tensor) {
    let mut rest = tensor.clone();
    let mut common = Vec::new();
    let Some(first) = tensor.first().filter(|_| tensor.len() > 1) else {
        return (common, rest);
    };
    let bound = |f: &Factor| match f {
        Factor::Entry(_, ixs) => ixs.iter().all(|i| free.contains(i)),
        Factor::Delta(a, b) => free.contains(a) && free.contains(b),
    };
    for f in first.factors.iter().filter(|f| bound(f)) {
        if rest.iter().all(|t| t.factors.contains(f)) {
            for t in &mut rest {
                if let Some(at) = t.factors.iter().position(|g| g == f) {
                    t.factors.remove(at);
                }
            }
            common.push(f.clone());
        }
    }
    (common, rest)
}

/// An index form `NAME[i,j,…] = common · Σ terms` in the input syntax, the
/// factors every term shares written once in front, with Einstein
/// summation where a dummy occurs exactly twice and explicit `sum[…]` else;
/// the ranges of the indices are those of `space`.
pub fn index_formula(
    graph: &Graph,
    options: &ExportOptions,
    reader: &Reader,
    space: &IndexSpace,
    tensor: &Tensor,
    free: &[Ix],
    name: &str,
) -> Formula {
    let mut names: BTreeMap<Ix, String> = BTreeMap::new();
    for (k, ix) in free.iter().enumerate() {
        names.insert(
            *ix,
            FREE_NAMES.get(k).map_or(format!("i{k}"), |s| s.to_string()),
        );
    }
    let (common, rest) = factored(tensor, free);
    let write = |f: &Factor, name_of: &dyn Fn(&Ix) -> String| match f {
        Factor::Entry(id, ixs) if ixs.is_empty() => written(graph, *id, options, reader),
        Factor::Entry(id, ixs) => {
            let (base, ixs) = crate::index::untransposed(graph, *id, ixs);
            Expr::new(ExprKind::Index(
                Box::new(written(graph, base, options, reader)),
                ixs.iter().map(name_of).collect(),
            ))
        }
        Factor::Delta(a, b) => Expr::new(ExprKind::Delta(name_of(a), name_of(b))),
    };
    let mut dummies = Dummies::default();
    let mut body: Option<Expr> = None;
    for term in &rest {
        let (term, sizes) = without_unused_sums(term, space);
        let mut local = names.clone();
        for s in &term.sums {
            let name = dummies.name(space.dim(*s), &local);
            local.insert(*s, name);
        }
        let name_of = |ix: &Ix| local[ix].clone();
        let mut factors: Vec<Expr> = term.factors.iter().map(|f| write(f, &name_of)).collect();
        factors.extend(sizes);
        let mut e = Expr::scaled_product(number_expr(&term.coeff.abs()), factors);
        let negative_first = body.is_none() && term.coeff.is_negative();
        let sums: Vec<String> = term
            .sums
            .iter()
            .filter(|&&s| negative_first || term.occurrences(s) != 2)
            .map(name_of)
            .collect();
        if !sums.is_empty() {
            e = Expr::new(ExprKind::IndexSum(sums, Box::new(e)));
        }
        body = Some(Expr::accumulate(body, e, term.coeff.is_negative()));
    }
    let name_of = |ix: &Ix| names[ix].clone();
    let body = body.map(|b| {
        let mut factors: Vec<Expr> = common.iter().map(|f| write(f, &name_of)).collect();
        factors.push(b);
        Expr::scaled_product(Expr::num(1.0), factors)
    });
    Formula {
        lhs: Some(IndexLhs {
            name: name.to_string(),
            indices: free.iter().map(|ix| names[ix].clone()).collect(),
            span: Span::NONE,
        }),
        body: body.unwrap_or_else(|| Expr::num(0.0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written_form(space: &IndexSpace, tensor: &Tensor, free: &[Ix]) -> String {
        let graph = Graph::new();
        let reader = Reader::new(&BTreeMap::new(), &BTreeMap::new());
        let f = index_formula(
            &graph,
            &ExportOptions::default(),
            &reader,
            space,
            tensor,
            free,
            "J",
        );
        to_expr_string(&f)
    }

    #[test]
    fn a_sum_over_an_index_no_factor_uses_is_its_size() {
        let mut space = IndexSpace::new();
        let (i, j) = (space.fresh(Dim::Fixed(3)), space.fresh(Dim::Fixed(3)));
        let (p, q) = (
            space.fresh(Dim::Fixed(4)),
            space.fresh(Dim::Named("n".into())),
        );
        let term = |sums| Term {
            coeff: crate::algebra::integer(2),
            factors: vec![Factor::Delta(i, j)],
            sums,
        };
        assert_eq!(
            written_form(&space, &vec![term(vec![p])], &[i, j]),
            "J[i,j] = 8*delta(i,j)"
        );
        // A symbolic size n: Σ_q 1 = n = tr(eye(n)).
        assert_eq!(
            written_form(&space, &vec![term(vec![q])], &[i, j]),
            "J[i,j] = 2*(delta(i,j)*tr(eye(n)))"
        );
    }

    #[test]
    fn a_dummy_name_keeps_one_range_across_terms() {
        let mut space = IndexSpace::new();
        let i = space.fresh(Dim::Fixed(2));
        let (p3, p4) = (space.fresh(Dim::Fixed(3)), space.fresh(Dim::Fixed(4)));
        let (q3, r3) = (space.fresh(Dim::Fixed(3)), space.fresh(Dim::Fixed(3)));
        let term = |sums: Vec<Ix>| Term {
            factors: sums.iter().map(|&s| Factor::Delta(s, i)).collect(),
            sums,
            ..Term::one()
        };
        let tensor = vec![term(vec![p3]), term(vec![p4]), term(vec![q3, r3])];
        assert_eq!(
            written_form(&space, &tensor, &[i]),
            "J[i] = sum[p](delta(p,i)) + sum[q](delta(q,i)) + sum[p,r](delta(p,i)*delta(r,i))"
        );
    }
}
