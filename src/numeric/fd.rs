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

/// How many units of rounding (machine epsilon times the largest
/// magnitude an evaluation computes) one evaluation of the function is
/// taken to be off by: a few for each operation, with room for the sums
/// and products of the small sizes a check samples.
pub const ROUNDING_ULPS: f64 = 16.0;

/// One evaluation of the differentiated function: its value and the
/// largest magnitude it computed on the way (at least the value's own).
#[derive(Clone, Debug, PartialEq)]
pub struct Sampled {
    /// The value.
    pub value: Array2<f64>,
    /// The largest absolute entry computed (see
    /// [`Evaluation::magnitude`](super::Evaluation::magnitude)).
    pub magnitude: f64,
}

/// A finite-difference derivative with a bound on its rounding error.
#[derive(Clone, Debug, PartialEq)]
pub struct Difference {
    /// The derivative, in the layout of [`finite_difference`].
    pub value: ArrayD<f64>,
    /// A bound on the rounding error of every entry of `value`: the
    /// evaluations' rounding ([`ROUNDING_ULPS`] units of their magnitude)
    /// and the rounding of each perturbed variable (times the first
    /// derivative's size), carried through the stencil's weights over the
    /// step of each level (ε·|f|/h^order at the core).
    pub noise: f64,
    /// An estimate of the stencil's truncation error relative to the
    /// largest entry of `value`, summed over the levels: at each level the
    /// difference to the 3-point stencil on the same points (beyond the
    /// rounding bound), e₃, gives the 5-point error as about 1.2·e₃²/|f′|
    /// when the derivatives grow geometrically (e₃ ≈ h²f‴/6, e₅ ≈ h⁴f⁽⁵⁾/30),
    /// taken ten times over and never more than e₃. Large only where the function is badly
    /// conditioned at the sample (a nearly singular matrix).
    pub truncation: f64,
}

/// The factor the truncation estimate is taken with: the geometric growth
/// it assumes is rough, and nested stencils compound it.
const TRUNCATION_SAFETY: f64 = 10.0;

/// The estimated relative truncation error of one 5-point value `five`
/// from the 3-point value `three` on the same points, given the rounding
/// bound `noise` of the level.
fn truncation(five: &ArrayD<f64>, three: &ArrayD<f64>, noise: f64) -> f64 {
    let e3 = five
        .iter()
        .zip(three.iter())
        .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
    let e3 = (e3 - 2.0 * noise).max(0.0);
    let size = largest(five);
    if e3 == 0.0 {
        0.0
    } else if size > 0.0 {
        (TRUNCATION_SAFETY * 1.2 * e3 / size).min(1.0) * e3 / size
    } else {
        f64::INFINITY
    }
}

/// The largest absolute entry of an array.
fn largest<'a>(values: impl IntoIterator<Item = &'a f64>) -> f64 {
    values.into_iter().fold(0.0f64, |m, x| m.max(x.abs()))
}

/// The sum of the stencil's absolute weights.
fn stencil_weight() -> f64 {
    STENCIL.iter().map(|(_, w)| w.abs()).sum()
}

/// The rounding bound of one stencil with step `h` around `x_scale` (the
/// largest perturbed entry): the bound `inner` of each value combined,
/// the rounding of the perturbed entries times the derivative's size
/// `slope`, and the rounding of the weighted sum of values of size `size`.
fn stencil_noise(inner: f64, x_scale: f64, slope: f64, size: f64, h: f64) -> f64 {
    let eps = f64::EPSILON;
    let s = stencil_weight();
    (s * (inner + eps * x_scale * slope) + 2.0 * eps * s * size) / h
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
    let mut sampled = |b: &Bindings| f(b).map(exact_magnitude);
    Ok(bounded_difference(&mut sampled, bindings, wrt)?.value)
}

/// A value whose magnitude is taken from its own entries.
fn exact_magnitude(value: Array2<f64>) -> Sampled {
    Sampled {
        magnitude: largest(&value),
        value,
    }
}

/// [`finite_difference`] with a bound on its rounding error, for a
/// function that reports the magnitudes it computes.
pub fn bounded_difference<F>(
    f: &mut F,
    bindings: &mut Bindings,
    wrt: &[(String, Vec<usize>)],
) -> Result<Difference, EvalError>
where
    F: FnMut(&Bindings) -> Result<Sampled, EvalError>,
{
    let step = relative_step(wrt.len());
    nested(f, bindings, wrt, step)
}

/// The base of the recursions: one evaluation and its rounding.
fn evaluated<F>(f: &mut F, bindings: &Bindings) -> Result<Difference, EvalError>
where
    F: FnMut(&Bindings) -> Result<Sampled, EvalError>,
{
    let sampled = f(bindings)?;
    let magnitude = sampled.magnitude.max(largest(&sampled.value));
    Ok(Difference {
        value: to_layout(&sampled.value),
        noise: ROUNDING_ULPS * f64::EPSILON * magnitude,
        truncation: 0.0,
    })
}

fn nested<F>(
    f: &mut F,
    bindings: &mut Bindings,
    wrt: &[(String, Vec<usize>)],
    step: f64,
) -> Result<Difference, EvalError>
where
    F: FnMut(&Bindings) -> Result<Sampled, EvalError>,
{
    let Some(((var, var_dims), rest)) = wrt.split_first() else {
        return evaluated(f, bindings);
    };
    let count = entry_mut(bindings, var)?.len();
    let mut slices = Vec::with_capacity(count);
    let (mut noise, mut truncated) = (0.0f64, 0.0f64);
    for entry in 0..count {
        let x0 = *entry_mut(bindings, var)?.iter().nth(entry).unwrap_or(&0.0);
        let h = step * x0.abs().max(1.0);
        let mut stencil = Stencil::default();
        for (offset, weight) in STENCIL {
            set_entry(entry_mut(bindings, var)?, entry, x0 + offset * h);
            let value = nested(f, bindings, rest, step);
            set_entry(entry_mut(bindings, var)?, entry, x0);
            stencil.add(value?, offset, weight, h);
        }
        let (slice, level_noise, level_truncation) = stencil.finish(x0.abs() + 2.0 * h, h);
        noise = noise.max(level_noise);
        truncated = truncated.max(level_truncation);
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
    let value = ArrayD::from_shape_vec(IxDyn(&dims), data).map_err(|_| EvalError::BadProblem {
        message: format!("the values of `{var}` do not match its dims {var_dims:?}"),
    })?;
    Ok(Difference {
        value,
        noise,
        truncation: truncated,
    })
}

/// The values of one stencil as they come in: the weighted sums of the
/// 5-point and the 3-point formulas, and the largest value, rounding bound
/// and truncation estimate among them.
#[derive(Default)]
struct Stencil {
    five: Option<ArrayD<f64>>,
    three: Option<ArrayD<f64>>,
    inner: f64,
    size: f64,
    truncation: f64,
}

impl Stencil {
    /// Adds the value at `offset` (weight `weight`, step `h`).
    fn add(&mut self, value: Difference, offset: f64, weight: f64, h: f64) {
        self.inner = self.inner.max(value.noise);
        self.size = self.size.max(largest(&value.value));
        self.truncation = self.truncation.max(value.truncation);
        if offset.abs() == 1.0 {
            let term = &value.value * (offset / (2.0 * h));
            self.three = Some(match self.three.take() {
                None => term,
                Some(a) => a + term,
            });
        }
        let term = value.value * (weight / h);
        self.five = Some(match self.five.take() {
            None => term,
            Some(a) => a + term,
        });
    }

    /// The derivative, its rounding bound (the perturbed entries are at
    /// most `x_scale`) and its relative truncation estimate.
    fn finish(self, x_scale: f64, h: f64) -> (ArrayD<f64>, f64, f64) {
        let five = self.five.unwrap_or_else(|| ArrayD::zeros(IxDyn(&[])));
        let noise = stencil_noise(self.inner, x_scale, largest(&five), self.size, h);
        let three = self.three.unwrap_or_else(|| five.clone());
        let truncation = self.truncation + truncation(&five, &three, noise);
        (five, noise, truncation)
    }
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
    let mut sampled = |b: &Bindings| f(b).map(exact_magnitude);
    Ok(bounded_directional(&mut sampled, bindings, wrt)?.value)
}

/// [`directional_difference`] with a bound on its rounding error (see
/// [`Difference::noise`]; the first derivative's size per entry is taken
/// as the directional derivative over the direction's largest entry).
pub fn bounded_directional<F>(
    f: &mut F,
    bindings: &mut Bindings,
    wrt: &[(String, Array2<f64>)],
) -> Result<Difference, EvalError>
where
    F: FnMut(&Bindings) -> Result<Sampled, EvalError>,
{
    let step = relative_step(wrt.len());
    along(f, bindings, wrt, step)
}

fn along<F>(
    f: &mut F,
    bindings: &mut Bindings,
    wrt: &[(String, Array2<f64>)],
    step: f64,
) -> Result<Difference, EvalError>
where
    F: FnMut(&Bindings) -> Result<Sampled, EvalError>,
{
    let Some(((var, direction), rest)) = wrt.split_first() else {
        return evaluated(f, bindings);
    };
    let x0 = entry_mut(bindings, var)?.clone();
    let scale = x0.iter().fold(1.0f64, |m, x| m.max(x.abs()));
    let size = largest(direction);
    let h = if size > 0.0 {
        step * scale / size
    } else {
        step
    };
    let mut stencil = Stencil::default();
    for (offset, weight) in STENCIL {
        let moved = &x0 + &(direction * (offset * h));
        *entry_mut(bindings, var)? = moved;
        let value = along(f, bindings, rest, step);
        *entry_mut(bindings, var)? = x0.clone();
        stencil.add(value?, offset, weight, h);
    }
    // The perturbed entries round by up to ε·(scale + 2h·size) each; the
    // derivative along the direction over its largest entry stands for
    // the size of the derivative by one entry.
    let per_entry = if size > 0.0 { 1.0 / size } else { 0.0 };
    let (value, noise, truncation) = stencil.finish((scale + 2.0 * h * size) * per_entry, h);
    Ok(Difference {
        value,
        noise,
        truncation,
    })
}
