//! Kronecker-delta contraction: `Σ_k δ[i,k] W[k,j]` becomes `W[i,j]`.

use super::term::{Factor, IndexSpace, Tensor, Term};
use crate::syntax::DimSpec;

/// Contracts every delta that touches a summed index, folds `δ[i,i]`, and
/// drops zero terms.
///
/// Terminates: each step removes one delta factor.
pub fn contract(tensor: Tensor, space: &IndexSpace) -> Tensor {
    tensor
        .into_iter()
        .filter_map(|t| contract_term(t, space))
        .collect()
}

fn contract_term(mut term: Term, space: &IndexSpace) -> Option<Term> {
    let contractible = |f: &Factor, sums: &[super::term::Ix]| matches!(f, Factor::Delta(a, b) if a == b || sums.contains(a) || sums.contains(b));
    while let Some(pos) = term
        .factors
        .iter()
        .position(|f| contractible(f, &term.sums))
    {
        let Factor::Delta(a, b) = term.factors.remove(pos) else {
            unreachable!("position found a delta")
        };
        if a == b {
            if let Some(at) = term.sums.iter().position(|&s| s == a) {
                // Σ_i δ[i,i] = n
                match space.dim(a) {
                    DimSpec::Fixed(n) => {
                        term.sums.remove(at);
                        term.coeff *= *n as f64;
                    }
                    DimSpec::Named(_) => {
                        // Keep it as a delta over distinct names: it raises
                        // to tr(eye(n)), which stays honest.
                        term.factors.push(Factor::Delta(a, a));
                        break;
                    }
                }
            }
            continue;
        }
        let (gone, kept) = if term.sums.contains(&b) {
            (b, a)
        } else {
            (a, b)
        };
        term.sums.retain(|&s| s != gone);
        term.rename(gone, kept);
    }
    (term.coeff != 0.0).then_some(term)
}
