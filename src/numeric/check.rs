//! The check API: does a claimed derivative equal the finite-difference
//! derivative of an expression, on seeded random samples and under every
//! instantiation of the abstract functions it uses?
//!
//! Relative error is the corpus README's: max |claimed − reference| over
//! the whole array divided by max |reference|, or, when the reference is
//! smaller, by the bound on its rounding error over the tolerance (see
//! [`relative_error_above`]): a zero or small derivative is accepted within
//! what the differences can resolve, and no closer, so a wrong claim still
//! fails as soon as it differs by more than that. A matrix-form claim must have
//! exactly the layout shape (`[n]` ↔ n×1, `[]` ↔ 1×1, `[n,m]` ↔ n×m); an
//! index-form claim has one axis per layout dim.
//!
//! The work of a check is bounded by
//! [`MAX_CHECK_WORK`](super::MAX_CHECK_WORK): every draw, every evaluation
//! of the expression by finite differences and every evaluation of the
//! claim is charged, the differences before they run. The default
//! [`Method::Auto`] differences every entry when that fits (the work and a
//! derivative within [`MAX_ENTRIES`](super::MAX_ENTRIES)) and otherwise
//! along random directions; the report names the method used.
//!
//! Invariant: a verdict is reproducible: it depends only on the problem,
//! the claim and the config.

use std::collections::{BTreeMap, BTreeSet};

use ndarray::{Array2, ArrayD, IxDyn};
use serde::Serialize;

use super::domain::{draw_sample, Domain};
use super::error::EvalError;
use super::eval::{evaluate, evaluate_expr, Bindings, Value};
use super::fd::{
    bounded_difference, bounded_directional, layout_dims, to_layout, Sampled, ROUNDING_ULPS,
};
use super::limits::{check_entries, entry_count, Budget, Meter, MAX_ENTRIES};
use super::loss::Loss;
use super::rng::{derive_seed, Rng};
use crate::syntax::{Expr, ExprKind, Formula, Span};

/// Samples whose nonsmooth arguments come closer than this to a kink are
/// redrawn.
pub const KINK_MARGIN: f64 = 1e-2;

/// What is differentiated: an expression, the shapes and domains of its
/// variables, and the variable(s) to differentiate by.
#[derive(Clone, Debug)]
pub struct Problem {
    /// The function (matrix form).
    pub expr: Expr,
    /// Every variable's layout dims: `[]`, `[n]` or `[n,m]`.
    pub vars: BTreeMap<String, Vec<usize>>,
    /// One name for a first derivative, two for a second, …
    pub wrt: Vec<String>,
    /// Sampling domains; unlisted variables are `normal`.
    pub domains: BTreeMap<String, Domain>,
    /// Concrete sizes of symbolic dimensions used in the formulas.
    pub sizes: BTreeMap<String, usize>,
    /// The variables declared symmetric: each moves only along symmetric
    /// directions, so the derivative by one is `sym(G) = (G + Gᵀ)/2` in its
    /// two axes (the differences of every entry are averaged with those of
    /// its mirror entry: the derivative along `(eᵢⱼ + eⱼᵢ)/2`; random
    /// directions are symmetrized before differencing, while the claim is
    /// contracted with the raw direction, so that a claim with an
    /// antisymmetric part fails).
    pub symmetric: BTreeSet<String>,
}

/// How the reference derivative is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Method {
    /// [`Method::Full`] when its work fits
    /// [`MAX_CHECK_WORK`](super::MAX_CHECK_WORK) and the derivative fits
    /// [`MAX_ENTRIES`](super::MAX_ENTRIES), otherwise
    /// [`Method::Directional`] with this many directions.
    Auto {
        /// How many directions, when differencing along directions.
        directions: usize,
    },
    /// Every entry by finite differences.
    Full,
    /// Along this many random directions per variable, compared with the
    /// claim contracted with the directions.
    Directional {
        /// How many directions.
        directions: usize,
    },
}

impl Method {
    /// How the reference is computed, in words: "finite differences", or
    /// "finite differences along 3 random directions".
    pub fn describe(self) -> String {
        match self {
            Method::Full => "finite differences".to_string(),
            Method::Directional { directions } | Method::Auto { directions } => {
                format!("finite differences along {directions} random direction(s)")
            }
        }
    }
}

/// Seeds, tolerance, instantiations and method of a check.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckConfig {
    /// One sample per seed (each redrawn as needed).
    pub seeds: Vec<u64>,
    /// Largest relative error accepted.
    pub tolerance: f64,
    /// Instantiations of the abstract functions, when the expression has any.
    pub losses: Vec<Loss>,
    /// How many draws per seed before giving up.
    pub max_attempts: usize,
    /// Full or directional differences, or the first that fits.
    pub method: Method,
}

/// The directions of the default [`Method::Auto`].
pub const AUTO_DIRECTIONS: usize = 3;

impl Default for CheckConfig {
    /// Seeds 1, 2, 3; tolerance 1e-6; both losses; 50 attempts; full
    /// differences when they fit, else along [`AUTO_DIRECTIONS`] directions.
    fn default() -> CheckConfig {
        CheckConfig {
            seeds: vec![1, 2, 3],
            tolerance: 1e-6,
            losses: Loss::ALL.to_vec(),
            max_attempts: 50,
            method: Method::Auto {
                directions: AUTO_DIRECTIONS,
            },
        }
    }
}

/// The outcome on one sample.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SampleReport {
    /// The seed.
    pub seed: u64,
    /// The instantiation used, if the expression has abstract functions.
    pub loss: Option<Loss>,
    /// How many draws it took to get a usable sample (1 = the first).
    pub attempts: usize,
    /// The relative error of the claim on this sample.
    pub rel_err: f64,
}

/// The verdict of a check.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Verdict {
    /// Every sample within tolerance.
    Agrees,
    /// Some sample beyond tolerance.
    Disagrees,
    /// The claim does not have the layout shape.
    WrongShape {
        /// The claim's dims (rows, columns for a matrix form).
        claimed: Vec<usize>,
        /// The layout dims of the derivative.
        expected: Vec<usize>,
        /// True when the claim's transpose would have been right.
        transpose_fits: bool,
    },
}

/// The report of a check.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CheckReport {
    /// One entry per (seed, instantiation) checked.
    pub samples: Vec<SampleReport>,
    /// The largest relative error over all samples.
    pub max_rel_err: f64,
    /// The verdict.
    pub verdict: Verdict,
    /// Index into `samples` of the first failing sample, if any.
    pub failed: Option<usize>,
    /// How the reference was computed ([`Method::Full`] or
    /// [`Method::Directional`]; the configured method when no sample was
    /// checked).
    pub method: Method,
}

impl CheckReport {
    /// True when the claim agrees on every sample.
    pub fn ok(&self) -> bool {
        self.verdict == Verdict::Agrees
    }

    /// A sentence explaining a failure, if there is one.
    pub fn note(&self) -> Option<String> {
        match &self.verdict {
            Verdict::Agrees => None,
            Verdict::Disagrees => self.failed.and_then(|i| self.samples.get(i)).map(|s| {
                let loss = s
                    .loss
                    .map_or(String::new(), |l| format!(" with {}", l.name()));
                format!("relative error {:.3e} on seed {}{loss}", s.rel_err, s.seed)
            }),
            Verdict::WrongShape {
                claimed,
                expected,
                transpose_fits,
            } => Some(format!(
                "the claim has dims {claimed:?}, but the derivative's layout is {expected:?}{}",
                if *transpose_fits {
                    "; its transpose would be right"
                } else {
                    ""
                }
            )),
        }
    }
}

/// The scale [`relative_error`] divides by when the reference is
/// smaller: a fixed floor for comparing arrays whose errors are not known.
/// The check itself does not use it: it divides by a scale sound for its
/// finite differences (see [`relative_error_above`]).
pub const ZERO_SCALE: f64 = 1e-4;

/// The relative error of `claim` against `reference` (same shape): the
/// largest entry-wise difference over the largest reference entry (or over
/// [`ZERO_SCALE`] when the reference is smaller).
pub fn relative_error(claim: &ArrayD<f64>, reference: &ArrayD<f64>) -> f64 {
    relative_error_above(claim, reference, ZERO_SCALE)
}

/// The largest entry-wise difference of `claim` and `reference` (a NaN
/// counts as infinite) over the largest reference entry, or over `floor`
/// when that is larger (and over the smallest positive number when both
/// are zero).
///
/// The check takes `floor` = (bound on the finite differences' rounding
/// error) / tolerance, so a claim is accepted exactly when its difference
/// is within the tolerance relative to the reference or within the
/// rounding error of the reference: a zero or small derivative is judged
/// by how precisely the differences can know it, scaled by the function's
/// own magnitude, never by an absolute size.
pub fn relative_error_above(claim: &ArrayD<f64>, reference: &ArrayD<f64>, floor: f64) -> f64 {
    let scale = reference
        .iter()
        .fold(0.0f64, |m, x| m.max(x.abs()))
        .max(floor)
        .max(f64::MIN_POSITIVE);
    let diff = claim
        .iter()
        .zip(reference.iter())
        .fold(0.0f64, |m, (a, b)| {
            let d = (a - b).abs();
            if d.is_nan() {
                f64::INFINITY
            } else {
                m.max(d)
            }
        });
    diff / scale
}

/// Checks a claimed derivative of `problem.expr` against finite differences.
///
/// ```
/// use matcalc::numeric::{check, CheckConfig, Problem};
/// use matcalc::syntax::{parse_expr, parse_formula, Decls};
/// let problem = Problem {
///     expr: parse_expr("L(X*W + B)", &Decls::new()).unwrap(),
///     vars: [("X", vec![4, 3]), ("W", vec![3, 5]), ("B", vec![4, 5])]
///         .into_iter().map(|(n, d)| (n.to_string(), d)).collect(),
///     wrt: vec!["X".into()],
///     domains: Default::default(),
///     sizes: Default::default(),
///     symmetric: Default::default(),
/// };
/// let right = parse_formula("dL*W'", &Decls::new()).unwrap();
/// assert!(check(&problem, &right, &CheckConfig::default()).unwrap().ok());
/// let wrong = parse_formula("W*dL'", &Decls::new()).unwrap();
/// assert!(!check(&problem, &wrong, &CheckConfig::default()).unwrap().ok());
/// ```
pub fn check(
    problem: &Problem,
    claim: &Formula,
    config: &CheckConfig,
) -> Result<CheckReport, EvalError> {
    let wrt = problem.wrt_dims()?;
    problem.check_sizes()?;
    let calls = abstract_calls(&problem.expr);
    let losses: Vec<Option<Loss>> = if calls.is_empty() && !mentions_gradient(&problem.expr) {
        vec![None]
    } else {
        config.losses.iter().copied().map(Some).collect()
    };
    let mut run = Run {
        meter: Meter::new(Budget::Check),
        method: None,
        samples_left: config.seeds.len() * losses.len(),
        sample_work: problem.sample_work(),
    };
    run.meter.ensure(
        run.sample_work * run.samples_left as f64,
        format_args!("drawing {} sample(s)", run.samples_left),
        Span::NONE,
    )?;
    let mut samples = Vec::new();
    for &seed in &config.seeds {
        for &loss in &losses {
            let outcome = check_sample(problem, claim, config, &wrt, (seed, loss), &mut run)?;
            run.samples_left -= 1;
            match outcome {
                Outcome::Error { attempts, rel_err } => samples.push(SampleReport {
                    seed,
                    loss,
                    attempts,
                    rel_err,
                }),
                Outcome::WrongShape(verdict) => {
                    return Ok(CheckReport {
                        samples,
                        max_rel_err: f64::INFINITY,
                        verdict,
                        failed: None,
                        method: run.method.unwrap_or(config.method),
                    })
                }
            }
        }
    }
    let max_rel_err = samples.iter().fold(0.0f64, |m, s| m.max(s.rel_err));
    let failed = samples
        .iter()
        .position(|s| s.rel_err.is_nan() || s.rel_err > config.tolerance);
    Ok(CheckReport {
        samples,
        max_rel_err,
        verdict: if failed.is_some() {
            Verdict::Disagrees
        } else {
            Verdict::Agrees
        },
        failed,
        method: run.method.unwrap_or(config.method),
    })
}

impl Problem {
    /// The problem with the variables `names` declared symmetric (see
    /// [`Problem::symmetric`]); those without a domain are drawn from
    /// `symmetric`.
    pub fn declaring_symmetric(mut self, names: &BTreeSet<String>) -> Problem {
        for name in names {
            self.domains
                .entry(name.clone())
                .or_insert(Domain::Symmetric);
        }
        self.symmetric.extend(names.iter().cloned());
        self
    }

    /// The `wrt` variables with their layout dims.
    fn wrt_dims(&self) -> Result<Vec<(String, Vec<usize>)>, EvalError> {
        if self.wrt.is_empty() {
            return Err(EvalError::BadProblem {
                message: "nothing to differentiate by".to_string(),
            });
        }
        self.wrt
            .iter()
            .map(|w| {
                self.vars
                    .get(w)
                    .map(|d| (w.clone(), d.clone()))
                    .ok_or_else(|| EvalError::BadProblem {
                        message: format!("`{w}` is not a variable of the expression"),
                    })
            })
            .collect()
    }

    /// Checks every variable's sample against [`MAX_ENTRIES`], pointing at
    /// its first use in the expression.
    fn check_sizes(&self) -> Result<(), EvalError> {
        for (name, dims) in &self.vars {
            let what = format_args!("the sample of `{name}`");
            check_entries(dims, what, first_use(&self.expr, name))?;
        }
        Ok(())
    }

    /// The most estimated work one draw of every variable takes.
    fn sample_work(&self) -> f64 {
        self.vars
            .iter()
            .map(|(name, dims)| {
                let domain = self.domains.get(name).copied().unwrap_or(Domain::Normal);
                domain.work(dims)
            })
            .sum()
    }

    /// Bindings for one draw (`attempt`) of the sample for `seed`, under the
    /// instantiation `loss`, with the argument of each abstract function
    /// bound for a bare `dL` (when the expression calls it with one
    /// argument only).
    pub fn sample(
        &self,
        seed: u64,
        attempt: u64,
        loss: Option<Loss>,
    ) -> Result<Bindings, EvalError> {
        let mut bindings = Bindings {
            values: draw_sample(&self.vars, &self.domains, seed, attempt)?,
            sizes: self.sizes.clone(),
            loss,
            loss_arguments: BTreeMap::new(),
        };
        if loss.is_some() {
            bind_loss_arguments(&mut bindings, &abstract_calls(&self.expr))?;
        }
        Ok(bindings)
    }
}

/// The span of the first use of the variable `name` in `e`
/// ([`Span::NONE`] when it is not used).
fn first_use(e: &Expr, name: &str) -> Span {
    match &e.kind {
        ExprKind::Var(v) if v == name => e.span,
        _ => e
            .children()
            .into_iter()
            .map(|child| first_use(child, name))
            .find(|&span| span != Span::NONE)
            .unwrap_or(Span::NONE),
    }
}

/// True when the expression uses the gradient of an abstract function
/// (`dL(E)`), which needs an instantiation even without a call of `L`.
fn mentions_gradient(e: &Expr) -> bool {
    matches!(e.kind, ExprKind::Grad(..)) || e.children().into_iter().any(mentions_gradient)
}

/// Every abstract-function call in `e`: name and argument list.
fn abstract_calls(e: &Expr) -> Vec<(String, Vec<Expr>)> {
    let mut out = Vec::new();
    collect_calls(e, &mut out);
    out
}

fn collect_calls(e: &Expr, out: &mut Vec<(String, Vec<Expr>)>) {
    if let ExprKind::Apply(name, args) = &e.kind {
        if !out.iter().any(|(n, a)| n == name && a == args) {
            out.push((name.clone(), args.clone()));
        }
    }
    for child in e.children() {
        collect_calls(child, out);
    }
}

/// Binds the argument of each abstract function called with exactly one
/// distinct argument, for bare gradients such as `dL`.
fn bind_loss_arguments(
    bindings: &mut Bindings,
    calls: &[(String, Vec<Expr>)],
) -> Result<(), EvalError> {
    for (name, args) in calls {
        let distinct = calls.iter().filter(|(n, _)| n == name).count();
        if let ([arg], 1) = (args.as_slice(), distinct) {
            let value = evaluate_expr(arg, bindings)?;
            bindings.loss_arguments.insert(name.clone(), value);
        }
    }
    Ok(())
}

enum Outcome {
    Error { attempts: usize, rel_err: f64 },
    WrongShape(Verdict),
}

/// The layout dims of the expression at a usable sample and the work of
/// evaluating it, or why the sample is not used.
fn usable(
    bindings: &Bindings,
    expr: &Expr,
) -> Result<Result<(Vec<usize>, f64), String>, EvalError> {
    let formula = Formula {
        lhs: None,
        body: expr.clone(),
    };
    match evaluate(&formula, bindings, None) {
        Err(err @ (EvalError::Singular { .. } | EvalError::NonPositiveDeterminant { .. })) => {
            Ok(Err(err.to_string()))
        }
        Err(err) => Err(err),
        Ok(ev) => {
            let Value::Matrix(v) = ev.value else {
                return Ok(Err("the expression is not a matrix".to_string()));
            };
            if v.iter().any(|x| !x.is_finite()) {
                Ok(Err("the expression is not finite".to_string()))
            } else if ev.kink_distance < KINK_MARGIN {
                Ok(Err(format!(
                    "a nonsmooth function's argument is {:.2e} from its kink",
                    ev.kink_distance
                )))
            } else {
                Ok(Ok((layout_dims(&v), ev.work)))
            }
        }
    }
}

/// The state of one check across its samples: the work spent, the method
/// chosen at the first usable sample, and what is left to do.
struct Run {
    meter: Meter,
    method: Option<Method>,
    samples_left: usize,
    sample_work: f64,
}

/// How many evaluations of the expression finite differences take on one
/// sample: 4 per stencil, nested once per variable; `directions` sets of
/// them, or one per entry of each variable.
fn evaluations(wrt: &[(String, Vec<usize>)], directions: Option<usize>) -> f64 {
    let stencils = 4f64.powi(wrt.len() as i32);
    match directions {
        Some(d) => d.max(1) as f64 * stencils,
        None => {
            wrt.iter()
                .map(|(_, dims)| dims.iter().map(|&d| d as f64).product::<f64>())
                .product::<f64>()
                * stencils
        }
    }
}

impl Run {
    /// The method of this check, chosen at its first usable sample from
    /// the work `per_evaluation` of one evaluation (with its perturbation):
    /// `None` differences every entry, `Some(d)` along `d` directions.
    fn directions(
        &mut self,
        configured: Method,
        wrt: &[(String, Vec<usize>)],
        f_dims: &[usize],
        per_evaluation: f64,
    ) -> Option<usize> {
        let method = *self.method.get_or_insert_with(|| match configured {
            Method::Auto { directions } => {
                let mut layout = f_dims.to_vec();
                wrt.iter().for_each(|(_, dims)| layout.extend(dims));
                let fits_memory = entry_count(&layout).is_some_and(|n| n <= MAX_ENTRIES);
                let full = self.samples_left as f64 * evaluations(wrt, None) * per_evaluation;
                if fits_memory && self.meter.fits(full) {
                    Method::Full
                } else {
                    Method::Directional { directions }
                }
            }
            other => other,
        });
        match method {
            Method::Auto { directions } | Method::Directional { directions } => Some(directions),
            Method::Full => None,
        }
    }
}

fn check_sample(
    problem: &Problem,
    claim: &Formula,
    config: &CheckConfig,
    wrt: &[(String, Vec<usize>)],
    (seed, loss): (u64, Option<Loss>),
    run: &mut Run,
) -> Result<Outcome, EvalError> {
    let mut reason = String::from("no attempt was made");
    for attempt in 0..config.max_attempts {
        run.meter
            .spend(run.sample_work, "drawing the samples", Span::NONE)?;
        let draw = problem.sample(seed, attempt as u64, loss);
        let mut bindings = match draw {
            Ok(b) => b,
            Err(err @ (EvalError::Singular { .. } | EvalError::NonPositiveDeterminant { .. })) => {
                reason = err.to_string();
                continue;
            }
            Err(err) => return Err(err),
        };
        let (f_dims, work) = match usable(&bindings, &problem.expr)? {
            Ok(usable) => usable,
            Err(why) => {
                reason = why;
                continue;
            }
        };
        run.meter
            .spend(work, "evaluating the expression", Span::NONE)?;
        // Each evaluation also copies or perturbs the variables.
        let moved: f64 = wrt
            .iter()
            .map(|(_, d)| entry_count(d).unwrap_or(usize::MAX) as f64)
            .sum();
        let per_evaluation = work + moved;
        let directions = run.directions(config.method, wrt, &f_dims, per_evaluation);
        let differences = evaluations(wrt, directions) * per_evaluation;
        let what = match directions {
            None => format!(
                "finite differences of every entry on each of {} sample(s)",
                run.samples_left
            ),
            Some(d) => format!(
                "finite differences along {d} direction(s) on each of {} sample(s)",
                run.samples_left
            ),
        };
        run.meter
            .ensure(differences * run.samples_left as f64, &what, Span::NONE)?;
        run.meter.spend(differences, &what, Span::NONE)?;
        let reference = match reference(wrt, directions, f_dims, &mut bindings, (problem, seed)) {
            Ok(r) if !(r.noise.is_finite() && r.reference.iter().all(|x| x.is_finite())) => {
                reason = "the finite differences are not finite".to_string();
                continue;
            }
            Ok(r) if r.truncation.is_nan() || r.truncation > config.tolerance / 2.0 => {
                reason = format!(
                    "the finite differences are not accurate enough here (estimated truncation \
                     error {:.1e}: the function is badly conditioned at the sample)",
                    r.truncation
                );
                continue;
            }
            Ok(r) => r,
            Err(err @ (EvalError::Singular { .. } | EvalError::NonPositiveDeterminant { .. })) => {
                reason = err.to_string();
                continue;
            }
            Err(err) => return Err(err),
        };
        let evaluation = evaluate(claim, &bindings, Some(&reference.layout))?;
        run.meter
            .spend(evaluation.work, "evaluating the claim", Span::NONE)?;
        let claim_noise = ROUNDING_ULPS * f64::EPSILON * evaluation.magnitude;
        let value = evaluation.value;
        let claimed = match fit_layout(&value, &reference.layout) {
            Ok(c) => c,
            Err(claimed) => {
                let transpose_fits =
                    transpose_fits(&value, &reference, claim_noise, config.tolerance);
                return Ok(Outcome::WrongShape(Verdict::WrongShape {
                    claimed,
                    expected: reference.layout.clone(),
                    transpose_fits,
                }));
            }
        };
        let rel_err = reference.error(&claimed, claim_noise, config.tolerance);
        return Ok(Outcome::Error {
            attempts: attempt + 1,
            rel_err,
        });
    }
    Err(EvalError::NoValidSample {
        seed,
        attempts: config.max_attempts,
        reason,
    })
}

/// A reference derivative: the full array, or the derivatives along
/// directions stacked on a leading axis.
struct Reference {
    f_dims: Vec<usize>,
    layout: Vec<usize>,
    reference: ArrayD<f64>,
    /// A bound on the rounding error of each entry of `reference`.
    noise: f64,
    /// The estimated truncation error, relative to the reference.
    truncation: f64,
    directions: Option<Vec<Vec<Array2<f64>>>>,
}

impl Reference {
    /// The relative error of a claim (laid out like the reference), with
    /// `claim_noise` the rounding bound of the claim's own evaluation.
    fn error(&self, claim: &ArrayD<f64>, claim_noise: f64, tolerance: f64) -> f64 {
        let floor = (self.noise + claim_noise) / tolerance;
        match &self.directions {
            None => relative_error_above(claim, &self.reference, floor),
            Some(directions) => {
                let contracted = contract(claim, directions, &self.f_dims);
                relative_error_above(&contracted, &self.reference, floor)
            }
        }
    }
}

/// The reference derivative of the problem's expression at `bindings`: of
/// every entry (`directions` is `None`) or along directions drawn from
/// `seed`.
fn reference(
    wrt: &[(String, Vec<usize>)],
    directions: Option<usize>,
    f_dims: Vec<usize>,
    bindings: &mut Bindings,
    (problem, seed): (&Problem, u64),
) -> Result<Reference, EvalError> {
    let formula = Formula {
        lhs: None,
        body: problem.expr.clone(),
    };
    let mut f = |b: &Bindings| {
        let evaluation = evaluate(&formula, b, None)?;
        match evaluation.value {
            Value::Matrix(value) => Ok(Sampled {
                value,
                magnitude: evaluation.magnitude,
            }),
            Value::Tensor(_) => Err(EvalError::BadProblem {
                message: "the expression is not a matrix".to_string(),
            }),
        }
    };
    let mut layout = f_dims.clone();
    for (_, dims) in wrt {
        layout.extend(dims);
    }
    match directions {
        None => {
            check_entries(&layout, "the finite-difference derivative", Span::NONE)?;
            let difference = bounded_difference(&mut f, bindings, wrt)?;
            Ok(Reference {
                reference: symmetrized_axes(
                    difference.value,
                    f_dims.len(),
                    wrt,
                    &problem.symmetric,
                ),
                noise: difference.noise,
                truncation: difference.truncation,
                f_dims,
                layout,
                directions: None,
            })
        }
        Some(directions) => {
            let mut all = Vec::new();
            let mut values = Vec::new();
            let (mut noise, mut truncation) = (0.0f64, 0.0f64);
            for k in 0..directions.max(1) {
                let along: Vec<(String, Array2<f64>)> = wrt
                    .iter()
                    .enumerate()
                    .map(|(slot, (name, _))| {
                        let shape = bindings.values.get(name).map_or((1, 1), |v| v.dim());
                        let mut rng = Rng::seeded(derive_seed(
                            seed,
                            &["direction", name],
                            &[k as u64, slot as u64],
                        ));
                        (name.clone(), Array2::from_shape_fn(shape, |_| rng.normal()))
                    })
                    .collect();
                let moved: Vec<(String, Array2<f64>)> = along
                    .iter()
                    .map(|(name, d)| match problem.symmetric.contains(name) {
                        true => (name.clone(), (d + &d.t()) * 0.5),
                        false => (name.clone(), d.clone()),
                    })
                    .collect();
                let difference = bounded_directional(&mut f, bindings, &moved)?;
                noise = noise.max(difference.noise);
                truncation = truncation.max(difference.truncation);
                values.push(difference.value);
                all.push(along.into_iter().map(|(_, d)| d).collect());
            }
            let views: Vec<_> = values.iter().map(|v| v.view()).collect();
            let reference =
                ndarray::stack(ndarray::Axis(0), &views).map_err(|_| EvalError::BadProblem {
                    message: "directional derivatives of different shapes".to_string(),
                })?;
            Ok(Reference {
                f_dims,
                layout,
                reference,
                noise,
                truncation,
                directions: Some(all),
            })
        }
    }
}

/// `reference` (dims `f ++ wrt…`, `f` of rank `f_rank`) averaged with its
/// transpose in the two axes of each variable of `wrt` in `symmetric`.
fn symmetrized_axes(
    mut reference: ArrayD<f64>,
    f_rank: usize,
    wrt: &[(String, Vec<usize>)],
    symmetric: &BTreeSet<String>,
) -> ArrayD<f64> {
    let mut axis = f_rank;
    for (name, dims) in wrt {
        if symmetric.contains(name) && dims.len() == 2 {
            let mut mirror = reference.view();
            mirror.swap_axes(axis, axis + 1);
            reference = (&reference + &mirror) * 0.5;
        }
        axis += dims.len();
    }
    reference
}

/// The claim laid out in the derivative's dims, or the claim's own dims
/// when it does not fit.
fn fit_layout(value: &Value, layout: &[usize]) -> Result<ArrayD<f64>, Vec<usize>> {
    match value {
        Value::Matrix(m) => {
            let required = match layout {
                [] => Some((1, 1)),
                [n] => Some((*n, 1)),
                [r, c] => Some((*r, *c)),
                _ => None,
            };
            if required == Some(m.dim()) {
                Ok(to_layout(m)
                    .into_shape_with_order(IxDyn(layout))
                    .map_err(|_| vec![m.nrows(), m.ncols()])?)
            } else {
                Err(vec![m.nrows(), m.ncols()])
            }
        }
        Value::Tensor(t) if t.shape() == layout => Ok(t.clone()),
        Value::Tensor(t) => Err(t.shape().to_vec()),
    }
}

/// True when the transpose of a misshapen matrix claim matches.
fn transpose_fits(value: &Value, reference: &Reference, claim_noise: f64, tolerance: f64) -> bool {
    let Value::Matrix(m) = value else {
        return false;
    };
    let transposed = Value::Matrix(m.t().to_owned());
    match fit_layout(&transposed, &reference.layout) {
        Ok(t) => reference.error(&t, claim_noise, tolerance) <= tolerance,
        Err(_) => false,
    }
}

/// The claim contracted with each set of directions (the trailing axes
/// against the last variable first), stacked on a leading axis: dims
/// `[directions] ++ f_dims`. Directions are flattened in row-major order,
/// like the claim's axes, so each contraction is over contiguous chunks.
fn contract(claim: &ArrayD<f64>, directions: &[Vec<Array2<f64>>], f_dims: &[usize]) -> ArrayD<f64> {
    let results: Vec<f64> = directions
        .iter()
        .flat_map(|set| {
            let mut acc: Vec<f64> = claim.iter().copied().collect();
            for d in set.iter().rev() {
                let dir: Vec<f64> = d.iter().copied().collect();
                acc = acc
                    .chunks(dir.len().max(1))
                    .map(|chunk| chunk.iter().zip(&dir).map(|(c, x)| c * x).sum())
                    .collect();
            }
            acc
        })
        .collect();
    let mut dims = vec![directions.len()];
    dims.extend(f_dims);
    ArrayD::from_shape_vec(IxDyn(&dims), results).unwrap_or_else(|_| ArrayD::zeros(IxDyn(&[0])))
}
