//! Dense linear algebra on ndarray values, delegated to nalgebra: inverse,
//! determinant, singular values and the orthogonal factor of a QR
//! factorization. Nothing here is written by hand beyond the conversions.
//!
//! Invariant: every function takes and returns ndarray `Array2<f64>` values
//! and never panics; callers check squareness first.

use nalgebra::DMatrix;
use ndarray::Array2;

fn to_nalgebra(a: &Array2<f64>) -> DMatrix<f64> {
    DMatrix::from_fn(a.nrows(), a.ncols(), |i, j| a[[i, j]])
}

fn from_nalgebra(m: &DMatrix<f64>) -> Array2<f64> {
    Array2::from_shape_fn((m.nrows(), m.ncols()), |(i, j)| m[(i, j)])
}

/// The inverse of a square matrix, or `None` when it is singular.
pub fn inverse(a: &Array2<f64>) -> Option<Array2<f64>> {
    to_nalgebra(a).try_inverse().map(|m| from_nalgebra(&m))
}

/// The determinant of a square matrix (by LU decomposition).
pub fn determinant(a: &Array2<f64>) -> f64 {
    to_nalgebra(a).determinant()
}

/// The 2-norm condition number: largest over smallest singular value
/// (infinite for a singular matrix).
pub fn condition_number(a: &Array2<f64>) -> f64 {
    let sv = to_nalgebra(a).singular_values();
    let max = sv.iter().cloned().fold(0.0, f64::max);
    let min = sv.iter().cloned().fold(f64::INFINITY, f64::min);
    if min > 0.0 {
        max / min
    } else {
        f64::INFINITY
    }
}

/// Rebuilds `a` with its singular values raised to at least
/// `largest / max_condition`, so its condition number is at most
/// `max_condition`.
pub fn limit_condition(a: &Array2<f64>, max_condition: f64) -> Array2<f64> {
    let svd = to_nalgebra(a).svd(true, true);
    let largest = svd
        .singular_values
        .iter()
        .cloned()
        .fold(0.0, f64::max)
        .max(1.0);
    let floor = largest / max_condition;
    let (Some(u), Some(v_t)) = (svd.u, svd.v_t) else {
        return a.clone();
    };
    let s = DMatrix::from_diagonal(&svd.singular_values.map(|x| x.max(floor)));
    from_nalgebra(&(u * s * v_t))
}

/// The orthogonal factor Q of a QR factorization of a tall or square
/// matrix: its columns are orthonormal.
pub fn orthogonal_factor(a: &Array2<f64>) -> Array2<f64> {
    from_nalgebra(&to_nalgebra(a).qr().q())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn inverse_and_determinant_of_a_small_matrix() {
        let a = array![[4.0, 7.0], [2.0, 6.0]];
        assert!((determinant(&a) - 10.0).abs() < 1e-12);
        let inv = inverse(&a).unwrap();
        let id = a.dot(&inv);
        assert!((id[[0, 0]] - 1.0).abs() < 1e-12 && id[[0, 1]].abs() < 1e-12);
        assert!(inverse(&array![[1.0, 2.0], [2.0, 4.0]]).is_none());
    }

    #[test]
    fn conditioning_is_limited() {
        let a = array![[1.0, 0.0], [0.0, 1e-6]];
        assert!(condition_number(&a) > 1e5);
        let b = limit_condition(&a, 10.0);
        assert!(condition_number(&b) <= 10.0 + 1e-9);
    }
}
