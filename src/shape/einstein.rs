//! The Einstein convention of index forms made explicit.
//!
//! An index that is not on the left-hand side and occurs twice in a product
//! is summed at the nearest `+`/`-`, function argument or the end of the
//! expression; the left-hand side's indices are never summed; inside
//! `sum[p](…)` the index `p` may occur any number of times. The result
//! wraps every implicit sum in an explicit `IndexSum`, so evaluators need
//! only explicit sums.

use std::collections::BTreeMap;

use super::error::ShapeError;
use crate::syntax::{BinOp, Expr, ExprKind, Span};

/// Occurrences of not-yet-summed indices in a product scope.
type Counts = BTreeMap<String, (usize, Span)>;

/// Makes every implicit sum of `body` explicit; `lhs` holds the free
/// indices.
pub fn elaborate(body: &Expr, lhs: &[String]) -> Result<Expr, ShapeError> {
    let (expr, counts) = scope(body, lhs, &[])?;
    finish_scope(expr, counts, true)
}

/// Wraps the indices that occur twice; at the top, any left over is an
/// error.
fn finish_scope(expr: Expr, counts: Counts, top: bool) -> Result<Expr, ShapeError> {
    let mut summed = Vec::new();
    for (ix, (n, span)) in &counts {
        if *n == 2 {
            summed.push(ix.clone());
        } else if top {
            return Err(ShapeError::new(
                format!(
                    "index `{ix}` is neither on the left-hand side nor summed (it occurs once; an implicit sum needs exactly two occurrences)"
                ),
                *span,
            )
            .with_help(format!("add `{ix}` to the left-hand side, or write sum[{ix}](…)")));
        }
    }
    if summed.is_empty() {
        return Ok(expr);
    }
    Ok(Expr {
        span: expr.span,
        kind: ExprKind::IndexSum(summed, Box::new(expr)),
    })
}

/// Elaborates a subexpression that is itself a scope boundary (a sum's
/// operand, a function argument): twice-occurring indices are summed there,
/// once-occurring ones are passed up.
fn boundary(e: &Expr, lhs: &[String], bound: &[String]) -> Result<(Expr, Counts), ShapeError> {
    let (expr, counts) = scope(e, lhs, bound)?;
    let (pass, local): (Counts, Counts) = counts.into_iter().partition(|(_, (n, _))| *n == 1);
    let expr = finish_scope(expr, local, false)?;
    Ok((expr, pass))
}

fn merge(into: &mut Counts, from: Counts) -> Result<(), ShapeError> {
    for (ix, (n, span)) in from {
        let slot = into.entry(ix.clone()).or_insert((0, span));
        slot.0 += n;
        if slot.0 > 2 {
            return Err(ShapeError::new(
                format!("index `{ix}` occurs more than twice in one product; use sum[{ix}](…)"),
                span,
            ));
        }
    }
    Ok(())
}

fn scope(e: &Expr, lhs: &[String], bound: &[String]) -> Result<(Expr, Counts), ShapeError> {
    let rebuild = |kind| Expr { kind, span: e.span };
    let mut counts = Counts::new();
    let count = |ixs: &[String], counts: &mut Counts| -> Result<(), ShapeError> {
        let mut local = Counts::new();
        for ix in ixs {
            if !lhs.contains(ix) && !bound.contains(ix) {
                local.entry(ix.clone()).or_insert((0, e.span)).0 += 1;
            }
        }
        merge(counts, local)
    };
    let expr = match &e.kind {
        ExprKind::Index(base, ixs) => {
            count(ixs, &mut counts)?;
            let (base, inner) = boundary(base, lhs, bound)?;
            merge(&mut counts, inner)?;
            rebuild(ExprKind::Index(Box::new(base), ixs.clone()))
        }
        ExprKind::Delta(i, j) => {
            count(&[i.clone(), j.clone()], &mut counts)?;
            e.clone()
        }
        ExprKind::IndexSum(ixs, body) => {
            let mut inner_bound = bound.to_vec();
            inner_bound.extend(ixs.iter().cloned());
            let (body, inner) = boundary(body, lhs, &inner_bound)?;
            merge(&mut counts, inner)?;
            rebuild(ExprKind::IndexSum(ixs.clone(), Box::new(body)))
        }
        ExprKind::Binary(op @ (BinOp::Add | BinOp::Sub), a, b) => {
            let (a, ca) = boundary(a, lhs, bound)?;
            let (b, cb) = boundary(b, lhs, bound)?;
            merge(&mut counts, ca)?;
            merge(&mut counts, cb)?;
            rebuild(ExprKind::Binary(*op, Box::new(a), Box::new(b)))
        }
        ExprKind::Binary(op, a, b) => {
            let (a, ca) = scope(a, lhs, bound)?;
            let (b, cb) = scope(b, lhs, bound)?;
            merge(&mut counts, ca)?;
            merge(&mut counts, cb)?;
            rebuild(ExprKind::Binary(*op, Box::new(a), Box::new(b)))
        }
        ExprKind::Neg(a) => {
            let (a, ca) = scope(a, lhs, bound)?;
            merge(&mut counts, ca)?;
            rebuild(ExprKind::Neg(Box::new(a)))
        }
        ExprKind::Transpose(a) => {
            let (a, ca) = scope(a, lhs, bound)?;
            merge(&mut counts, ca)?;
            rebuild(ExprKind::Transpose(Box::new(a)))
        }
        ExprKind::Call(f, a) => {
            let (a, ca) = boundary(a, lhs, bound)?;
            merge(&mut counts, ca)?;
            rebuild(ExprKind::Call(*f, Box::new(a)))
        }
        ExprKind::Apply(name, args) | ExprKind::Grad(name, args) => {
            let mut out = Vec::new();
            for arg in args {
                let (a, ca) = boundary(arg, lhs, bound)?;
                merge(&mut counts, ca)?;
                out.push(a);
            }
            rebuild(match &e.kind {
                ExprKind::Apply(..) => ExprKind::Apply(name.clone(), out),
                _ => ExprKind::Grad(name.clone(), out),
            })
        }
        _ => e.clone(),
    };
    Ok((expr, counts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::{parse_formula, to_expr_string, Decls, Formula};

    fn explicit(text: &str) -> Result<String, ShapeError> {
        let f = parse_formula(text, &Decls::new()).unwrap();
        let lhs = f.lhs.as_ref().unwrap();
        let body = elaborate(&f.body, &lhs.indices)?;
        Ok(to_expr_string(&Formula {
            lhs: f.lhs.clone(),
            body,
        }))
    }

    #[test]
    fn implicit_sums_become_explicit() {
        assert_eq!(
            explicit("G[i,j] = dL[i,k]*W[j,k]").unwrap(),
            "G[i,j] = sum[k](dL[i,k]*W[j,k])"
        );
        assert_eq!(
            explicit("J[i,k,l] = exp(X[i,q]*w[q])*delta(i,k)*w[l]").unwrap(),
            "J[i,k,l] = exp(sum[q](X[i,q]*w[q]))*delta(i,k)*w[l]"
        );
        assert_eq!(
            explicit("G[i,j] = a[i]*B[i,j]*b[j]").unwrap(),
            "G[i,j] = a[i]*B[i,j]*b[j]"
        );
    }

    #[test]
    fn bad_indices_are_errors() {
        assert!(explicit("G[i] = A[i,k]")
            .unwrap_err()
            .message
            .contains("neither"));
        assert!(explicit("G[i] = A[i,k]*B[k,k]")
            .unwrap_err()
            .message
            .contains("more than twice"));
    }
}
