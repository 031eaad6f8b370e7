//! Reference derivatives by central finite differences (5-point stencil),
//! in the corpus layout: the derivative of f with respect to v1, v2, … has
//! dims f-dims ++ v1-dims ++ v2-dims, where a scalar has dims `[]`, an
//! n-vector (column or row) `[n]` and an n×m matrix `[n,m]`.
//!
//! Higher orders nest the stencil (25 evaluations per mixed second
//! derivative). The directional variant differentiates along given
//! directions instead of along every entry: cheap for large sizes.
//!
//! Invariant: the bindings are perturbed in place and restored before
//! returning, also on error. A full derivative is checked against
//! [`MAX_ENTRIES`](super::MAX_ENTRIES) as soon as its first slice shows its
//! size, before the other slices are computed.

use ndarray::{Array2, ArrayD, IxDyn};

use super::error::EvalError;
use super::eval::Bindings;
use super::limits::check_entries;
use crate::syntax::Span;

/// Offsets and weights of the 5-point central stencil for a first
/// derivative (divide by the step).
const STENCIL: [(f64, f64); 4] = [
    (-2.0, 1.0 / 12.0),
    (-1.0, -8.0 / 12.0),
    (1.0, 8.0 / 12.0),
    (2.0, -1.0 / 12.0),
];

/// The step, relative to `max(1, |x|)`: small for first derivatives (so a
/// stencil stays on one side of a kink), larger when differences nest.
pub fn relative_step(order: usize) -> f64 {
    if order <= 1 {
        1e-4
    } else {
        1e-3
    }
}

/// The layout dims of a value: `[]` for 1×1, `[n]` for n×1 or 1×n,
/// `[n,m]` otherwise.
pub fn layout_dims(a: &Array2<f64>) -> Vec<usize> {
    match a.dim() {
        (1, 1) => vec![],
        (n, 1) | (1, n) => vec![n],
        (r, c) => vec![r, c],
    }
}

/// A value laid out by its layout dims (entries in row-major order).
pub fn to_layout(a: &Array2<f64>) -> ArrayD<f64> {
    let dims = layout_dims(a);
    ArrayD::from_shape_vec(IxDyn(&dims), a.iter().copied().collect())
        .unwrap_or_else(|_| ArrayD::zeros(IxDyn(&dims)))
}

fn entry_mut<'a>(bindings: &'a mut Bindings, var: &str) -> Result<&'a mut Array2<f64>, EvalError> {
    bindings
        .values
        .get_mut(var)
        .ok_or_else(|| EvalError::BadProblem {
            message: format!("no value for the variable `{var}`"),
        })
}

/// The full finite-difference derivative of `f` with respect to `wrt` (in
/// order; one name for a gradient or Jacobian, two for a Hessian, …), each
/// variable with its layout dims.
pub fn finite_difference<F>(
    f: &mut F,
    bindings: &mut Bindings,
    wrt: &[(String, Vec<usize>)],
) -> Result<ArrayD<f64>, EvalError>
where
    F: FnMut(&Bindings) -> Result<Array2<f64>, EvalError>,
{
    let step = relative_step(wrt.len());
    nested(f, bindings, wrt, step)
}

fn nested<F>(
    f: &mut F,
    bindings: &mut Bindings,
    wrt: &[(String, Vec<usize>)],
    step: f64,
) -> Result<ArrayD<f64>, EvalError>
where
    F: FnMut(&Bindings) -> Result<Array2<f64>, EvalError>,
{
    let Some(((var, var_dims), rest)) = wrt.split_first() else {
        return Ok(to_layout(&f(bindings)?));
    };
    let count = entry_mut(bindings, var)?.len();
    let mut slices = Vec::with_capacity(count);
    for entry in 0..count {
        let x0 = *entry_mut(bindings, var)?.iter().nth(entry).unwrap_or(&0.0);
        let h = step * x0.abs().max(1.0);
        let mut acc: Option<ArrayD<f64>> = None;
        for (offset, weight) in STENCIL {
            set_entry(entry_mut(bindings, var)?, entry, x0 + offset * h);
            let value = nested(f, bindings, rest, step);
            set_entry(entry_mut(bindings, var)?, entry, x0);
            let term = value? * (weight / h);
            acc = Some(match acc {
                None => term,
                Some(a) => a + term,
            });
        }
        let slice = acc.unwrap_or_else(|| ArrayD::zeros(IxDyn(&[])));
        if entry == 0 {
            let what = format_args!("the finite-difference derivative by `{var}`");
            check_entries(&[slice.len(), count], what, Span::NONE)?;
        }
        slices.push(slice);
    }
    // Each slice has dims f ++ rest; the variable's axes go between them.
    let rest_rank: usize = rest.iter().map(|(_, d)| d.len()).sum();
    let slice_dims = slices
        .first()
        .map(|s| s.shape().to_vec())
        .unwrap_or_default();
    let split = slice_dims.len().saturating_sub(rest_rank);
    let mut dims = slice_dims[..split].to_vec();
    dims.extend(var_dims);
    dims.extend(&slice_dims[split..]);
    let outer: usize = slice_dims[..split].iter().product();
    let inner: usize = slice_dims[split..].iter().product();
    let flat: Vec<Vec<f64>> = slices.iter().map(|s| s.iter().copied().collect()).collect();
    let mut data = Vec::with_capacity(outer * count * inner);
    for o in 0..outer {
        for slice in &flat {
            data.extend_from_slice(&slice[o * inner..(o + 1) * inner]);
        }
    }
    ArrayD::from_shape_vec(IxDyn(&dims), data).map_err(|_| EvalError::BadProblem {
        message: format!("the values of `{var}` do not match its dims {var_dims:?}"),
    })
}

fn set_entry(a: &mut Array2<f64>, entry: usize, value: f64) {
    if let Some(x) = a.iter_mut().nth(entry) {
        *x = value;
    }
}

/// The derivative of `f` along one direction per variable of `wrt` (each
/// direction has the variable's shape): a value of f's layout dims.
pub fn directional_difference<F>(
    f: &mut F,
    bindings: &mut Bindings,
    wrt: &[(String, Array2<f64>)],
) -> Result<ArrayD<f64>, EvalError>
where
    F: FnMut(&Bindings) -> Result<Array2<f64>, EvalError>,
{
    let step = relative_step(wrt.len());
    along(f, bindings, wrt, step)
}

fn along<F>(
    f: &mut F,
    bindings: &mut Bindings,
    wrt: &[(String, Array2<f64>)],
    step: f64,
) -> Result<ArrayD<f64>, EvalError>
where
    F: FnMut(&Bindings) -> Result<Array2<f64>, EvalError>,
{
    let Some(((var, direction), rest)) = wrt.split_first() else {
        return Ok(to_layout(&f(bindings)?));
    };
    let x0 = entry_mut(bindings, var)?.clone();
    let scale = x0.iter().fold(1.0f64, |m, x| m.max(x.abs()));
    let size = direction.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let h = if size > 0.0 {
        step * scale / size
    } else {
        step
    };
    let mut acc: Option<ArrayD<f64>> = None;
    for (offset, weight) in STENCIL {
        let moved = &x0 + &(direction * (offset * h));
        *entry_mut(bindings, var)? = moved;
        let value = along(f, bindings, rest, step);
        *entry_mut(bindings, var)? = x0.clone();
        let term = value? * (weight / h);
        acc = Some(match acc {
            None => term,
            Some(a) => a + term,
        });
    }
    Ok(acc.unwrap_or_else(|| ArrayD::zeros(IxDyn(&[]))))
}
