//! Choosing small concrete sizes for exact checks: distinct sizes 2, 3,
//! 4, … for symbolic dimensions, and a consistent shrink of given sizes.
//!
//! Why distinct: with equal sizes a misplaced transpose can go unnoticed.
//! Invariant: sizes that are equal stay equal, distinct sizes stay
//! distinct, and their order is kept.

use std::collections::{BTreeMap, BTreeSet};

use crate::syntax::DimSpec;

/// Distinct small sizes (2, 3, 4, …, skipping sizes already written as
/// integers) for the symbolic dimensions, in order of first appearance.
///
/// ```
/// use matcalc::exact::smallest_sizes;
/// use matcalc::syntax::DimSpec;
/// let dims = [DimSpec::Named("n".into()), DimSpec::Fixed(2), DimSpec::Named("k".into())];
/// let sizes = smallest_sizes(&dims);
/// assert_eq!(sizes["n"], 3);
/// assert_eq!(sizes["k"], 4);
/// ```
pub fn smallest_sizes(dims: &[DimSpec]) -> BTreeMap<String, usize> {
    let taken: BTreeSet<usize> = dims
        .iter()
        .filter_map(|d| match d {
            DimSpec::Fixed(n) => Some(*n),
            DimSpec::Named(_) => None,
        })
        .collect();
    let mut candidates = (2..).filter(|n| !taken.contains(n));
    let mut sizes = BTreeMap::new();
    for d in dims {
        if let DimSpec::Named(name) = d {
            if !sizes.contains_key(name) {
                sizes.insert(name.clone(), candidates.next().unwrap_or(2));
            }
        }
    }
    sizes
}

/// Concrete layout dims for variables declared with possibly symbolic
/// dims, and the sizes chosen for the symbols (for `eye(n)`).
pub fn concrete_vars(
    vars: &BTreeMap<String, Vec<DimSpec>>,
) -> (BTreeMap<String, Vec<usize>>, BTreeMap<String, usize>) {
    let all: Vec<DimSpec> = vars.values().flatten().cloned().collect();
    let sizes = smallest_sizes(&all);
    let concrete = vars
        .iter()
        .map(|(name, dims)| {
            let dims = dims
                .iter()
                .map(|d| match d {
                    DimSpec::Fixed(n) => *n,
                    DimSpec::Named(s) => sizes.get(s).copied().unwrap_or(2),
                })
                .collect();
            (name.clone(), dims)
        })
        .collect();
    (concrete, sizes)
}

/// The same variables with their sizes shrunk consistently: the distinct
/// sizes above 1, in increasing order, become 2, 3, 4, …
///
/// ```
/// use std::collections::BTreeMap;
/// use matcalc::exact::shrink_sizes;
/// let vars: BTreeMap<String, Vec<usize>> =
///     [("X".to_string(), vec![4, 3]), ("w".to_string(), vec![3])].into();
/// let small = shrink_sizes(&vars);
/// assert_eq!(small["X"], vec![3, 2]);
/// assert_eq!(small["w"], vec![2]);
/// ```
pub fn shrink_sizes(vars: &BTreeMap<String, Vec<usize>>) -> BTreeMap<String, Vec<usize>> {
    let distinct: BTreeSet<usize> = vars
        .values()
        .flatten()
        .copied()
        .filter(|&n| n > 1)
        .collect();
    let rank: BTreeMap<usize, usize> = distinct
        .into_iter()
        .enumerate()
        .map(|(k, n)| (n, k + 2))
        .collect();
    vars.iter()
        .map(|(name, dims)| {
            let dims = dims
                .iter()
                .map(|n| rank.get(n).copied().unwrap_or(*n))
                .collect();
            (name.clone(), dims)
        })
        .collect()
}
