//! Concrete instantiations of an abstract scalar function such as `L(Y)`, so
//! that formulas containing `L` and `dL` can be evaluated:
//!
//! - `L1(Y) = sum(sin(Y)) + 0.5*norm2(Y)^2`, gradient `cos(Y) + Y`;
//! - `L2(Y) = sum(C.*tanh(Y)) + 0.5*norm2(P*Y*Q)^2`, gradient
//!   `C.*(1-tanh(Y).^2) + P'*P*Y*Q*Q'`.
//!
//! Invariant: C, P and Q depend only on the function's name and Y's shape,
//! never on Y's values or on the sample, so a loss is one fixed function.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use ndarray::Array2;
use serde::Serialize;

use super::rng::{derive_seed, Rng};

/// Which concrete function stands for every abstract one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Loss {
    /// `sum(sin(Y)) + 0.5*norm2(Y)^2`: entry-wise.
    L1,
    /// `sum(C.*tanh(Y)) + 0.5*norm2(P*Y*Q)^2`: couples entries and depends
    /// on their positions.
    L2,
}

/// The fixed random matrices of `L2` for one function name and shape.
struct Coupling {
    c: Array2<f64>,
    p: Array2<f64>,
    q: Array2<f64>,
}

thread_local! {
    /// Couplings already drawn, by function name and shape: drawing them is
    /// as costly as a product at large sizes, and they never change.
    static COUPLINGS: RefCell<HashMap<(String, usize, usize), Rc<Coupling>>> =
        RefCell::new(HashMap::new());
}

impl Coupling {
    /// The coupling for `function` at this shape (drawn once per thread).
    fn for_shape(function: &str, rows: usize, cols: usize) -> Rc<Coupling> {
        let key = (function.to_string(), rows, cols);
        COUPLINGS.with(|cache| {
            Rc::clone(
                cache
                    .borrow_mut()
                    .entry(key)
                    .or_insert_with(|| Rc::new(Coupling::draw(function, rows, cols))),
            )
        })
    }

    fn draw(function: &str, rows: usize, cols: usize) -> Coupling {
        let mut rng = Rng::seeded(derive_seed(
            0x4C32,
            &["L2", function],
            &[rows as u64, cols as u64],
        ));
        let mut normal = |r: usize, c: usize, scale: f64| {
            Array2::from_shape_fn((r, c), |_| scale * rng.normal())
        };
        let c = normal(rows, cols, 1.0);
        let p = normal(rows, rows, 1.0 / (rows as f64).sqrt());
        let q = normal(cols, cols, 1.0 / (cols as f64).sqrt());
        Coupling { c, p, q }
    }
}

impl Loss {
    /// Both instantiations, in order.
    pub const ALL: [Loss; 2] = [Loss::L1, Loss::L2];

    /// The value of the instantiated `function` at `y`.
    pub fn value(self, function: &str, y: &Array2<f64>) -> f64 {
        match self {
            Loss::L1 => y.iter().map(|v| v.sin() + 0.5 * v * v).sum(),
            Loss::L2 => {
                let k = Coupling::for_shape(function, y.nrows(), y.ncols());
                let coupled = k.p.dot(y).dot(&k.q);
                let linear: f64 = k.c.iter().zip(y.iter()).map(|(c, v)| c * v.tanh()).sum();
                linear + 0.5 * coupled.iter().map(|v| v * v).sum::<f64>()
            }
        }
    }

    /// The gradient of the instantiated `function` at `y` (same shape as `y`).
    pub fn gradient(self, function: &str, y: &Array2<f64>) -> Array2<f64> {
        match self {
            Loss::L1 => y.mapv(|v| v.cos() + v),
            Loss::L2 => {
                let k = Coupling::for_shape(function, y.nrows(), y.ncols());
                let mut out = y.mapv(|v| 1.0 - v.tanh().powi(2));
                out.zip_mut_with(&k.c, |o, c| *o *= c);
                out + k.p.t().dot(&k.p).dot(y).dot(&k.q).dot(&k.q.t())
            }
        }
    }

    /// The Hessian of the instantiated `function` at the column (or 1×1)
    /// `y`: n×n, `H[i,j] = ∂²L/∂y[i]∂y[j]`.
    pub fn hessian(self, function: &str, y: &Array2<f64>) -> Array2<f64> {
        let n = y.nrows();
        let column: Vec<f64> = y.iter().copied().collect();
        match self {
            Loss::L1 => Array2::from_diag(&ndarray::Array1::from_iter(
                column.iter().map(|v| 1.0 - v.sin()),
            )),
            Loss::L2 => {
                let k = Coupling::for_shape(function, n, y.ncols());
                // ∂²/∂y² of c·tanh(y) is c ⊙ (−2 tanh(y) (1 − tanh²(y))) on
                // the diagonal; the coupling ½‖P y Q‖² adds PᵀP (QQᵀ).
                let curvature = column.iter().zip(k.c.iter()).map(|(v, c)| {
                    let t = v.tanh();
                    -2.0 * c * t * (1.0 - t * t)
                });
                let qq: f64 = k.q.iter().map(|v| v * v).sum();
                Array2::from_diag(&ndarray::Array1::from_iter(curvature)) + k.p.t().dot(&k.p) * qq
            }
        }
    }

    /// The dims of the largest array the instantiation builds for an
    /// argument of `rows`×`cols`, and the operations its value (or its
    /// gradient) takes: `L2` multiplies by a `rows`×`rows` and a
    /// `cols`×`cols` coupling matrix.
    pub(super) fn cost(self, rows: usize, cols: usize, gradient: bool) -> ([usize; 2], f64) {
        let (r, c) = (rows as f64, cols as f64);
        match self {
            Loss::L1 => ([rows, cols], 4.0 * r * c),
            Loss::L2 => {
                let side = rows.max(cols);
                let draw = r * r + c * c + r * c;
                let products = if gradient {
                    2.0 * r * r * r + 2.0 * r * r * c + 4.0 * r * c * c
                } else {
                    2.0 * r * r * c + 2.0 * r * c * c
                };
                ([side, side], draw + products + 4.0 * r * c)
            }
        }
    }

    /// The instantiation's name, `L1` or `L2`.
    pub fn name(self) -> &'static str {
        match self {
            Loss::L1 => "L1",
            Loss::L2 => "L2",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The gradient agrees with a central difference of the value.
    #[test]
    fn gradients_match_their_values() {
        let y = Array2::from_shape_fn((3, 2), |(i, j)| 0.3 * i as f64 - 0.7 * j as f64 + 0.1);
        for loss in Loss::ALL {
            let g = loss.gradient("L", &y);
            for i in 0..3 {
                for j in 0..2 {
                    let h = 1e-6;
                    let (mut up, mut down) = (y.clone(), y.clone());
                    up[[i, j]] += h;
                    down[[i, j]] -= h;
                    let fd = (loss.value("L", &up) - loss.value("L", &down)) / (2.0 * h);
                    assert!(
                        (fd - g[[i, j]]).abs() < 1e-6,
                        "{loss:?} ({i},{j}): {fd} vs {}",
                        g[[i, j]]
                    );
                }
            }
        }
    }

    #[test]
    fn l2_couplings_depend_on_name_and_shape_only() {
        let y = Array2::from_elem((2, 2), 0.5);
        assert_eq!(Loss::L2.value("L", &y), Loss::L2.value("L", &y));
        assert_ne!(Loss::L2.value("L", &y), Loss::L2.value("f", &y));
    }
}
