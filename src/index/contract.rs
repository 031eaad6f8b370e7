//! Kronecker-delta contraction: `Σ_k δ[i,k] W[k,j]` becomes `W[i,j]`.

use super::term::{Factor, IndexSpace, Tensor, Term};
use crate::syntax::DimSpec;

/// Contracts every delta that touches a summed index, folds `δ[i,i]` (1,
/// or `n` when summed over an index used nowhere else), and drops zero
/// terms.
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
            // δ[i,i] = 1 for each i; only a sum over an i used nowhere
            // else counts them: Σ_i δ[i,i] = n.
            let alone = term.occurrences(a) == 0;
            if let Some(at) = term.sums.iter().position(|&s| s == a).filter(|_| alone) {
                // Σ_i δ[i,i] = n
                match space.dim(a) {
                    DimSpec::Fixed(n) => {
                        term.sums.remove(at);
                        term.coeff *= crate::algebra::integer(*n);
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
    (!num_traits::Zero::is_zero(&term.coeff)).then_some(term)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::Graph;

    fn term(coeff: i64, factors: Vec<Factor>, sums: Vec<super::super::term::Ix>) -> Term {
        Term {
            coeff: crate::algebra::integer(coeff),
            factors,
            sums,
        }
    }

    #[test]
    fn a_summed_delta_on_its_own_counts_the_dimension() {
        let mut space = IndexSpace::default();
        let p = space.fresh(DimSpec::Fixed(3));
        let out = contract(vec![term(2, vec![Factor::Delta(p, p)], vec![p])], &space);
        assert_eq!(out, vec![term(6, Vec::new(), Vec::new())]);
    }

    #[test]
    fn a_diagonal_delta_beside_other_uses_of_its_index_is_one() {
        // Σ_p M[p,p] δ[p,p] = Σ_p M[p,p], not 3·M[p,p] with p unbound.
        let mut graph = Graph::new();
        let m = graph.var("M", [DimSpec::Fixed(3), DimSpec::Fixed(3)]);
        let mut space = IndexSpace::default();
        let p = space.fresh(DimSpec::Fixed(3));
        let entry = Factor::Entry(m, vec![p, p]);
        let out = contract(
            vec![term(1, vec![entry.clone(), Factor::Delta(p, p)], vec![p])],
            &space,
        );
        assert_eq!(out, vec![term(1, vec![entry], vec![p])]);
    }
}
