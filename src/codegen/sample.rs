//! Sampling for `check_gradient`: the domain of each variable and the
//! Python that draws from it (the corpus README's table of domains).
//!
//! A variable without a `--domain` gets a default from how the expression
//! uses it directly (through transposes only): under `log`, `sqrt`, a
//! non-integer power or as a divisor it is `positive`; under `logdet` or
//! `log(det(…))` it is `spd`; under `inv` it is `invertible`; else
//! `normal`. A variable declared symmetric is drawn `spd` where it would
//! be `spd` or `invertible`, else `symmetric`. Samples where the value is
//! not finite are redrawn.

use std::collections::{BTreeMap, BTreeSet};

use crate::numeric::Domain;
use crate::shape::Shape;
use crate::syntax::{BinOp, Expr, ExprKind, Func};

/// Every variable's sampling domain: the given one, else the default that
/// its direct uses in `expr` call for (made symmetric for the variables in
/// `symmetric`).
///
/// ```
/// use matcalc::codegen::default_domains;
/// use matcalc::numeric::Domain;
/// use matcalc::shape::{Dim, Shape};
/// use matcalc::syntax::{parse_expr, Decls};
/// let e = parse_expr("sum(log(x)) + logdet(X)", &Decls::new()).unwrap();
/// let n = Dim::Named("n".into());
/// let vars = [("x".to_string(), Shape::column(n.clone())), ("X".to_string(), Shape::matrix(n.clone(), n))]
///     .into_iter().collect();
/// let d = default_domains(&e, &vars, &Default::default(), &Default::default());
/// assert_eq!((d["x"], d["X"]), (Domain::Positive, Domain::Spd));
/// ```
pub fn default_domains(
    expr: &Expr,
    vars: &BTreeMap<String, Shape>,
    given: &BTreeMap<String, Domain>,
    symmetric: &BTreeSet<String>,
) -> BTreeMap<String, Domain> {
    let mut wanted: BTreeMap<String, Domain> = BTreeMap::new();
    let mut stack = vec![expr];
    while let Some(e) = stack.pop() {
        let mut want = |arg: &Expr, domain: Domain| {
            if let Some(name) = variable(arg) {
                let slot = wanted.entry(name.to_string()).or_insert(domain);
                // A square matrix that one use wants spd and another
                // invertible is sampled spd (which is invertible).
                if rank(domain) > rank(*slot) {
                    *slot = domain;
                }
            }
        };
        match &e.kind {
            ExprKind::Call(Func::Log | Func::Sqrt, a) => match &a.kind {
                ExprKind::Call(Func::Det, inner) => want(inner, Domain::Spd),
                _ => want(a, Domain::Positive),
            },
            ExprKind::Call(Func::Logdet, a) => want(a, Domain::Spd),
            ExprKind::Call(Func::Inv, a) => want(a, Domain::Invertible),
            ExprKind::Binary(BinOp::Div | BinOp::HadDiv, _, b) => want(b, Domain::Nonzero),
            ExprKind::Binary(BinOp::Pow | BinOp::HadPow, a, b) if !is_integer(b) => {
                want(a, Domain::Positive)
            }
            _ => {}
        }
        stack.extend(e.children());
    }
    vars.keys()
        .map(|name| {
            let wanted = wanted.get(name).copied().unwrap_or(Domain::Normal);
            let wanted = match wanted {
                Domain::Spd | Domain::Invertible | Domain::Posdet if symmetric.contains(name) => {
                    Domain::Spd
                }
                _ if symmetric.contains(name) => Domain::Symmetric,
                other => other,
            };
            (name.clone(), given.get(name).copied().unwrap_or(wanted))
        })
        .collect()
}

/// How strongly a default constrains: a stronger one wins.
fn rank(d: Domain) -> u8 {
    match d {
        Domain::Spd => 3,
        Domain::Positive => 2,
        Domain::Invertible => 1,
        _ => 0,
    }
}

fn variable(e: &Expr) -> Option<&str> {
    match &e.kind {
        ExprKind::Var(name) => Some(name),
        ExprKind::Transpose(a) => variable(a),
        _ => None,
    }
}

fn is_integer(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Num(v) => v.fract() == 0.0,
        ExprKind::Neg(a) => is_integer(a),
        _ => false,
    }
}

/// The Python sampler: `_sample(rng, domain, shape)` draws a NumPy array
/// of the layout `shape` from a domain named as in the corpus README.
pub(super) const SAMPLER: &str = r#"def _sample(rng, domain, shape):
    """A random array of the layout `shape` from a sampling domain (matcalc's table)."""
    if domain == "normal":
        return rng.standard_normal(shape)
    if domain == "positive":
        return rng.uniform(0.5, 2.0, shape)
    if domain == "unit":
        return rng.uniform(0.1, 0.9, shape)
    if domain == "nonzero":
        return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 1.5, shape)
    if domain == "pm1":
        return rng.choice([-1.0, 1.0], shape)
    if domain == "binary":
        return rng.choice([0.0, 1.0], shape)
    if domain in ("onehot", "prob"):
        rows = np.reshape(np.zeros(shape), (1, -1) if len(shape) < 2 else shape)
        if domain == "onehot":
            rows[np.arange(rows.shape[0]), rng.integers(rows.shape[1], size=rows.shape[0])] = 1.0
        else:
            rows = rng.uniform(0.5, 2.0, rows.shape)
            rows = rows / np.sum(rows, axis=1, keepdims=True)
        return np.reshape(rows, shape)
    if domain == "orthogonal":
        rows, cols = (shape + (1, 1))[:2]
        side = max(rows, cols)
        q = np.linalg.qr(rng.standard_normal((side, side)))[0]
        return np.reshape(q[:rows, :cols] if rows >= cols else q[:cols, :rows].T, shape)
    n = shape[0] if shape else 1
    if len(shape) != 2 or shape[0] != shape[1]:
        raise ValueError(f"the domain {domain} needs a square matrix, not shape {shape}")
    g = rng.standard_normal((n, n))
    if domain == "symmetric":
        return (g + g.T) / 2.0
    if domain == "spd":
        return g @ g.T / n + 0.5 * np.eye(n)
    if domain in ("invertible", "posdet"):
        for _ in range(100):
            if np.linalg.cond(g) < 30.0:
                break
            g = rng.standard_normal((n, n))
        else:
            u, s, vt = np.linalg.svd(g)
            g = (u * np.maximum(s, s[0] / 27.0)) @ vt
        if domain == "posdet" and np.linalg.det(g) < 0.0:
            g[0, :] = -g[0, :]
        return g
    raise ValueError(f"unknown sampling domain {domain}")
"#;
