//! `derive` on random well-shaped expressions, counted case by case: it
//! never panics, and whatever it returns is confirmed — or it says honestly
//! that it cannot.
//!
//! Every case is generated from its own seed (a proptest `TestRng` seeded
//! with it): half are gradients of scalar expressions (depth 3), 30 %
//! Jacobians of 2–3-vectors or 2–3×2–3 matrices (depth 2), 20 % second
//! derivatives of scalar expressions (depth 2; a Hessian, or a mixed one
//! when there are two variables). Each lands in exactly one class:
//!
//! - **confirmed**: finite differences agree on a well-conditioned sample,
//!   or, where they are fooled, `exact::verify` proves the result equal;
//! - **unsupported**: `derive` refused with `DeriveError::Unsupported`
//!   (counted by reason; an "internal" error is a failure whatever it is
//!   called);
//! - **undefined everywhere**: `derive` refused with
//!   `DeriveError::Undefined` (`log(a - a)`, `inv(a*a1')`), and no sample
//!   of any domain plan gives the expression a finite, stable value (one
//!   that does is a failure);
//! - **not checkable**: derived, but no well-conditioned sample was found
//!   and the exact layer could not decide (kept small by the sampler, which
//!   tries several domains and seeds; a sample is well-conditioned when the
//!   expression and the result are finite and do not move when the
//!   variables are nudged, and the finite differences neither change when
//!   their step is halved nor carry a large rounding error);
//! - **failure**: a refuted result, an unexpected error, a result or
//!   expression that cannot be evaluated, a panic, or a result whose
//!   printout (`--format expr`) does not parse back, shape-check under the
//!   case's declarations and evaluate to the same value.
//!
//! The test prints a summary table to stderr (shown with `--nocapture`) and
//! asserts that there is no failure.
//!
//! Environment:
//!
//! - `MATCALC_LONG_RUN=N` runs N cases, seeds `S..S+N` (default 500). The
//!   long run (about 2 CPU-minutes):
//!   `MATCALC_LONG_RUN=100000 cargo test --release --test derive_properties -- --nocapture`.
//! - `MATCALC_FIRST_SEED=S` starts at seed S (default 1).
//! - `MATCALC_CASE_SEED=S` runs the single case of seed S and prints it in
//!   detail (expression, declarations, result, class).

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use matcalc::derive::{derive, Derivation, DeriveConfig, DeriveError};
use matcalc::exact::{expand, verify, Budget, ExactError, ExactVerdict};
use matcalc::numeric::{
    check, evaluate, finite_difference, relative_error, relative_step, Bindings, CheckConfig,
    Domain, EvalError, Loss, Method, Problem, Value, KINK_MARGIN, ZERO_SCALE,
};
use matcalc::syntax::{to_expr_string, Expr, ExprKind, Formula};
use ndarray::ArrayD;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use support::gen::{generated_of, Generated, Shape};
use support::parse_back::parses_back;

/// Cases of the default run: a few seconds in a debug build.
const DEFAULT_CASES: u64 = 500;

/// Largest relative error accepted between a result and finite differences.
const TOLERANCE: f64 = 1e-5;

/// A sample is well-conditioned when finite differences with the step
/// halved move by less than this (relative): their error is then far below
/// [`TOLERANCE`].
const CONSISTENCY: f64 = TOLERANCE / 10.0;

/// Values beyond this mean the sample is near a singularity.
const LARGE: f64 = 1e6;

/// Seeds tried per domain plan when looking for a well-conditioned sample.
const SAMPLE_SEEDS: std::ops::RangeInclusive<u64> = 1..=3;

/// What a case asks of `derive`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Gradient,
    Jacobian,
    Second,
}

impl Kind {
    const ALL: [Kind; 3] = [Kind::Gradient, Kind::Jacobian, Kind::Second];

    fn name(self) -> &'static str {
        match self {
            Kind::Gradient => "gradient",
            Kind::Jacobian => "jacobian",
            Kind::Second => "second",
        }
    }
}

/// One random case: an expression, what to differentiate it by, and how.
#[derive(Clone, Debug)]
struct Case {
    kind: Kind,
    generated: Generated,
    wrt: Vec<String>,
}

impl Case {
    /// What `derive` is asked.
    fn request(&self) -> DeriveConfig {
        DeriveConfig {
            decls: self.generated.declarations(),
            wrt: self.wrt.clone(),
            order: if self.kind == Kind::Second { 2 } else { 1 },
            ..Default::default()
        }
    }

    fn text(&self) -> String {
        self.generated.text()
    }
}

impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} of `{}` by {} (--let '{}')",
            self.kind.name(),
            self.text(),
            self.wrt.join(", "),
            self.generated.decls()
        )
    }
}

/// Picks the variables to differentiate by: one, or two distinct ones for
/// a mixed second derivative when `mixed` and there are two.
fn pick_wrt(g: &Generated, picks: (usize, usize), mixed: bool) -> Vec<String> {
    let names: Vec<&String> = g.vars.keys().collect();
    let first = names[picks.0 % names.len()].clone();
    if !mixed || names.len() < 2 {
        return vec![first];
    }
    let offset = 1 + picks.1 % (names.len() - 1);
    let second = names[(picks.0 + offset) % names.len()].clone();
    vec![first, second]
}

fn case_strategy() -> BoxedStrategy<Case> {
    let has_vars = |g: &Generated| !g.vars.is_empty();
    let picks = || (any::<usize>(), any::<usize>());
    let jacobian_shape = prop_oneof![
        (2..=3usize).prop_map(Shape::Col),
        (2..=3usize, 2..=3usize).prop_map(|(r, c)| Shape::Mat(r, c)),
    ];
    prop_oneof![
        5 => (generated_of(Shape::Scalar, 3).prop_filter("has variables", has_vars), picks())
            .prop_map(|(g, p)| Case { kind: Kind::Gradient, wrt: pick_wrt(&g, p, false), generated: g }),
        3 => (
            jacobian_shape
                .prop_flat_map(|s| generated_of(s, 2))
                .prop_filter("has variables", has_vars),
            picks(),
        )
            .prop_map(|(g, p)| Case { kind: Kind::Jacobian, wrt: pick_wrt(&g, p, false), generated: g }),
        2 => (generated_of(Shape::Scalar, 2).prop_filter("has variables", has_vars), picks(), any::<bool>())
            .prop_map(|(g, p, mixed)| Case { kind: Kind::Second, wrt: pick_wrt(&g, p, mixed), generated: g }),
    ]
    .boxed()
}

/// The case of `seed`: the same on every run and every machine.
fn case_of(seed: u64) -> Case {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    case_strategy()
        .new_tree(&mut runner)
        .expect("a case with variables is drawn")
        .current()
}

/// How a result was confirmed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum How {
    /// Finite differences agree on a well-conditioned sample.
    Numerically,
    /// No well-conditioned sample was found; the exact layer proved it.
    Exactly,
    /// Finite differences disagreed on a sample thought well-conditioned,
    /// and the exact layer proved the result right: listed, since one of
    /// the two is fooled.
    ExactlyOverDifferences,
}

/// The class of one case.
#[derive(Clone, Debug, PartialEq)]
enum Outcome {
    Confirmed(How),
    Unsupported(String),
    Undefined(String),
    NotCheckable(Rejected),
    Failure(String),
}

/// Evaluation errors that say the sample is near a singularity, not that
/// anything is wrong.
fn is_conditioning(e: &EvalError) -> bool {
    matches!(
        e,
        EvalError::Singular { .. }
            | EvalError::NonPositiveDeterminant { .. }
            | EvalError::NoValidSample { .. }
    )
}

/// Derives the case and judges the result.
fn run(case: &Case) -> Outcome {
    match derive(&case.text(), &case.request()) {
        Ok(d) if d.derivatives.len() == 1 => match reads_back(case, &d) {
            Some(failure) => failure,
            None => judge(&d, d.derivatives[0].formula()),
        },
        Ok(d) => Outcome::Failure(format!(
            "{} derivatives instead of one",
            d.derivatives.len()
        )),
        // A shape mismatch inside the engine is a bug, whatever it is called.
        Err(DeriveError::Unsupported(reason)) if reason.is_internal() => {
            Outcome::Failure(format!("internal error: {reason}"))
        }
        Err(DeriveError::Unsupported(reason)) => Outcome::Unsupported(reason.to_string()),
        Err(e @ DeriveError::UndefinedStep(_)) => Outcome::Unsupported(e.to_string()),
        Err(DeriveError::Undefined(why)) => undefined_everywhere(case, why.to_string()),
        Err(e) => Outcome::Failure(format!("unexpected error: {e}")),
    }
}

/// Judges a refusal as undefined everywhere: under no domain plan and
/// seed may the expression have a finite, stable value.
fn undefined_everywhere(case: &Case, why: String) -> Outcome {
    let typed = match matcalc::derive::typecheck(&case.text(), &case.request().decls) {
        Ok(typed) => typed,
        Err(e) => return Outcome::Failure(format!("refused as undefined ({why}): {e}")),
    };
    let p = matcalc::confirm::problem(&typed, &case.wrt, &BTreeMap::new());
    // Exactly, a singular matrix has determinant 0 (numerically, rounding
    // noise whose logarithm looks finite).
    if let Err(
        ExactError::OutsideDomain { .. }
        | ExactError::Singular { .. }
        | ExactError::DivisionByZero { .. },
    ) = expand(&p.expr, &p.vars, Budget::default())
    {
        return Outcome::Undefined(why);
    }
    let f = Formula {
        lhs: None,
        body: p.expr.clone(),
    };
    let loss = is_abstract(&p.expr).then_some(Loss::ALL[0]);
    for domains in plans(&p) {
        let candidate = Problem {
            domains,
            ..p.clone()
        };
        for seed in SAMPLE_SEEDS {
            let Ok(bindings) = candidate.sample(seed, 0, loss) else {
                continue;
            };
            let Ok(value) = evaluate(&f, &bindings, None) else {
                continue;
            };
            let size = value_size(&value.value);
            let stable =
                movement(&f, &bindings, None, &value.value).is_ok_and(|change| change <= STABILITY);
            if size < LARGE && stable {
                return Outcome::Failure(format!(
                    "refused as undefined everywhere ({why}), but its value is finite and stable \
                     (largest entry {size:e}) on seed {seed} with domains {}",
                    domains_text(&candidate.domains)
                ));
            }
        }
    }
    Outcome::Undefined(why)
}

/// The parse-back invariant ([`parses_back`]): `Some(failure)` when the
/// printed result does not parse back, shape-check under the case's
/// declarations or evaluate to the same value.
fn reads_back(case: &Case, d: &Derivation) -> Option<Outcome> {
    parses_back(d, &case.request().decls)
        .err()
        .map(|why| Outcome::Failure(format!("output outside the syntax: {why}")))
}

/// Judges `claim` as the derivative `d` asks for: numerically on a
/// well-conditioned sample, exactly where finite differences are fooled or
/// no such sample exists.
fn judge(d: &Derivation, claim: &Formula) -> Outcome {
    let p = matcalc::confirm::problem(&d.typed, &d.derivatives[0].wrt, &BTreeMap::new());
    let shown = to_expr_string(claim);
    let Sample { domains, seed } = match well_conditioned_sample(&p, claim) {
        Ok(Ok(sample)) => sample,
        Ok(Err(rejected)) => {
            return match exact_verdict(&p, &positive_plan(&p), claim) {
                Some(ExactVerdict::Equal) => Outcome::Confirmed(How::Exactly),
                Some(v @ ExactVerdict::Differs { .. }) => Outcome::Failure(format!(
                    "gave `{shown}`, refuted exactly ({}) without a well-conditioned sample",
                    exact_text(&v)
                )),
                _ => Outcome::NotCheckable(rejected),
            }
        }
        Err(Broken(why)) => return Outcome::Failure(format!("gave `{shown}`: {why}")),
    };
    let p = Problem { domains, ..p };
    let config = CheckConfig {
        seeds: vec![seed],
        tolerance: TOLERANCE,
        losses: Loss::ALL.to_vec(),
        max_attempts: 1,
        method: Method::Full,
    };
    match check(&p, claim, &config) {
        Ok(report) if report.ok() => Outcome::Confirmed(How::Numerically),
        Ok(report) => match exact_verdict(&p, &p.domains, claim) {
            Some(ExactVerdict::Equal) => Outcome::Confirmed(How::ExactlyOverDifferences),
            verdict => Outcome::Failure(format!(
                "gave `{shown}`, refuted on seed {seed} with domains {} ({}; exact: {})",
                domains_text(&p.domains),
                report.note().unwrap_or_default(),
                verdict.map_or("error".to_string(), |v| exact_text(&v)),
            )),
        },
        Err(e) => Outcome::Failure(format!("gave `{shown}`, which cannot be checked: {e}")),
    }
}

fn exact_verdict(
    p: &Problem,
    domains: &BTreeMap<String, Domain>,
    claim: &Formula,
) -> Option<ExactVerdict> {
    let p = Problem {
        domains: domains.clone(),
        ..p.clone()
    };
    verify(&p, claim, Budget::default()).ok()
}

fn exact_text(v: &ExactVerdict) -> String {
    match v {
        ExactVerdict::Equal => "equal".to_string(),
        ExactVerdict::Differs {
            entry,
            claimed,
            reference,
        } => format!("entry {entry:?} is {claimed}, should be {reference}"),
        ExactVerdict::Undecided { reason } => format!("undecided, {reason}"),
        ExactVerdict::WrongShape { claimed, expected } => {
            format!("dims {claimed:?} instead of {expected:?}")
        }
    }
}

fn domains_text(domains: &BTreeMap<String, Domain>) -> String {
    domains
        .iter()
        .map(|(v, d)| format!("{v}: {}", d.name()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Something that cannot be evaluated although the sample is fine: a
/// failure, not a conditioning problem.
struct Broken(String);

/// Why a sample is not well-conditioned, in the order a probe gets
/// further: the larger, the closer the sample came to being used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Rejection {
    /// The expression is undefined, infinite, huge or noise there.
    Expression,
    /// An argument of `abs`, `relu`, `sign` or `norm1` is near its kink.
    Kink,
    /// Finite differences change when their step is halved.
    Unstable,
    /// The result is undefined or noise there although the expression is
    /// fine.
    Result,
}

impl Rejection {
    fn text(self) -> &'static str {
        match self {
            Rejection::Expression => {
                "the expression is undefined, huge or numerical noise at every sample"
            }
            Rejection::Kink => "an argument is near a kink at every sample",
            Rejection::Unstable => "finite differences are unstable at every sample",
            Rejection::Result => {
                "the result is undefined or numerical noise where the expression is fine"
            }
        }
    }
}

/// A well-conditioned sample: the first draw of `seed` on `domains`.
struct Sample {
    domains: BTreeMap<String, Domain>,
    seed: u64,
}

/// A rejected sample: the reason, with the details of the last instance.
#[derive(Clone, Debug, PartialEq)]
struct Rejected(Rejection, String);

fn plan(p: &Problem, square: Domain, other: Domain) -> BTreeMap<String, Domain> {
    p.vars
        .iter()
        .map(|(name, dims)| {
            let is_square = matches!(dims[..], [r, c] if r == c);
            (name.clone(), if is_square { square } else { other })
        })
        .collect()
}

/// Positive entries, square matrices invertible with a positive
/// determinant (not symmetric: the exact layer would reduce by symmetry).
fn positive_plan(p: &Problem) -> BTreeMap<String, Domain> {
    plan(p, Domain::Posdet, Domain::Positive)
}

/// The domain plans, in the order tried: entries away from 0 (so 1/x and
/// log|x| are well-conditioned, and negative entries are covered), square
/// matrices with a positive determinant (logdet), positive entries (log,
/// sqrt, x.^0.5 of a square matrix), then normal ones.
fn plans(p: &Problem) -> Vec<BTreeMap<String, Domain>> {
    vec![
        plan(p, Domain::Nonzero, Domain::Nonzero),
        plan(p, Domain::Posdet, Domain::Nonzero),
        positive_plan(p),
        plan(p, Domain::Positive, Domain::Positive),
        plan(p, Domain::Normal, Domain::Normal),
    ]
}

/// The first (plan, seed) whose sample is well-conditioned for the
/// expression, its finite differences and the claim, under every
/// instantiation the check will use; or why none was, the furthest
/// rejection over all candidates.
fn well_conditioned_sample(
    p: &Problem,
    claim: &Formula,
) -> Result<Result<Sample, Rejected>, Broken> {
    let mut furthest: Option<Rejected> = None;
    for domains in plans(p) {
        let candidate = Problem {
            domains,
            ..p.clone()
        };
        for seed in SAMPLE_SEEDS {
            match conditioning(&candidate, claim, seed)? {
                Ok(()) => {
                    return Ok(Ok(Sample {
                        domains: candidate.domains,
                        seed,
                    }))
                }
                Err(why) => {
                    if furthest.as_ref().map_or(true, |f| why.0 >= f.0) {
                        furthest = Some(why);
                    }
                }
            }
        }
    }
    Ok(Err(furthest.unwrap_or(Rejected(
        Rejection::Expression,
        "no candidate".to_string(),
    ))))
}

/// True when `e` calls or differentiates an abstract function, so that the
/// check instantiates it with every [`Loss`].
fn is_abstract(e: &Expr) -> bool {
    matches!(e.kind, ExprKind::Apply(..) | ExprKind::Grad(..))
        || e.children().into_iter().any(is_abstract)
}

/// The largest magnitude, infinite if any entry is not finite.
fn largest<'a>(values: impl Iterator<Item = &'a f64>) -> f64 {
    values.fold(0.0f64, |m, v| {
        if v.is_finite() {
            m.max(v.abs())
        } else {
            f64::INFINITY
        }
    })
}

fn value_size(v: &Value) -> f64 {
    match v {
        Value::Matrix(m) => largest(m.iter()),
        Value::Tensor(t) => largest(t.iter()),
    }
}

/// Whether the sample of `seed` (first draw) is well-conditioned:
/// `Ok(Ok(()))` if so, `Ok(Err(why))` if not, `Err` when the expression or
/// the claim cannot be evaluated for another reason than conditioning.
fn conditioning(p: &Problem, claim: &Formula, seed: u64) -> Result<Result<(), Rejected>, Broken> {
    let losses: Vec<Option<Loss>> = if is_abstract(&p.expr) {
        Loss::ALL.into_iter().map(Some).collect()
    } else {
        vec![None]
    };
    let wrt: Vec<(String, Vec<usize>)> = p
        .wrt
        .iter()
        .map(|w| (w.clone(), p.vars.get(w).cloned().unwrap_or_default()))
        .collect();
    let f_formula = Formula {
        lhs: None,
        body: p.expr.clone(),
    };
    let rejected = |why: Rejection, detail: String| Ok(Err(Rejected(why, detail)));
    let evaluation_error = |why: Rejection, what: &str, e: EvalError| {
        if is_conditioning(&e) {
            rejected(why, format!("{what}: {e}"))
        } else {
            Err(Broken(format!("{what} cannot be evaluated: {e}")))
        }
    };
    for loss in losses {
        let mut bindings = match p.sample(seed, 0, loss) {
            Ok(b) => b,
            Err(e) => return evaluation_error(Rejection::Expression, "the sample", e),
        };
        let f = match evaluate(&f_formula, &bindings, None) {
            Ok(f) => f,
            Err(e) => return evaluation_error(Rejection::Expression, "the expression", e),
        };
        let size = value_size(&f.value);
        if size >= LARGE {
            return rejected(
                Rejection::Expression,
                format!("its largest entry is {size:e}"),
            );
        }
        match movement(&f_formula, &bindings, None, &f.value) {
            Ok(change) if change <= STABILITY => {}
            Ok(change) => return rejected(Rejection::Expression, moved(change)),
            Err(e) => return evaluation_error(Rejection::Expression, "the nudged expression", e),
        }
        if f.kink_distance < KINK_MARGIN {
            return rejected(Rejection::Kink, format!("distance {:.1e}", f.kink_distance));
        }
        let mut differences = |scale: f64| {
            finite_differences(p, &mut bindings, &wrt, scale)
                .map(|r| r / scale.powi(wrt.len() as i32))
        };
        let (fine, halved) = match (differences(1.0), differences(0.5)) {
            (Ok(fine), Ok(halved)) => (fine, halved),
            (Err(e), _) | (_, Err(e)) => {
                return evaluation_error(Rejection::Unstable, "the finite differences", e)
            }
        };
        let spread = relative_error(&fine, &halved);
        if spread.is_nan() || spread > CONSISTENCY || largest(fine.iter()) >= LARGE {
            return rejected(Rejection::Unstable, format!("spread {spread:.1e}"));
        }
        // Halving the step keeps the rounding of the perturbed points, so
        // the rounding error is bounded apart: at worst it may use half the
        // tolerance, against the scale the check divides by.
        let rounding = rounding_error(size, wrt.len()) / largest(fine.iter()).max(ZERO_SCALE);
        if rounding > TOLERANCE / 2.0 {
            return rejected(
                Rejection::Unstable,
                format!("rounding error up to {rounding:.1e}"),
            );
        }
        let layout: Vec<usize> = f_layout(&f.value)
            .into_iter()
            .chain(wrt.iter().flat_map(|(_, d)| d.clone()))
            .collect();
        let value = match evaluate(claim, &bindings, Some(&layout)) {
            Ok(c) if value_size(&c.value).is_finite() => c.value,
            Ok(_) => return rejected(Rejection::Result, "not finite".to_string()),
            Err(e) => return evaluation_error(Rejection::Result, "the result", e),
        };
        match movement(claim, &bindings, Some(&layout), &value) {
            Ok(change) if change <= STABILITY => {}
            Ok(change) => return rejected(Rejection::Result, moved(change)),
            Err(e) => return evaluation_error(Rejection::Result, "the nudged result", e),
        }
    }
    Ok(Ok(()))
}

/// A bound on the rounding error of the finite differences of an
/// expression of size `size` (its largest entry): machine epsilon times
/// the sum of the stencil's weights (1.5 per order) over the smallest step.
fn rounding_error(size: f64, order: usize) -> f64 {
    let order = order as i32;
    size * f64::EPSILON * 1.5f64.powi(order) / relative_step(order as usize).powi(order)
}

fn moved(change: f64) -> String {
    format!("it moves by {change:.1e} when the variables move by {NUDGE:e}")
}

/// How much (relative) `formula`, worth `value` at `bindings`, moves when
/// the variables are nudged.
fn movement(
    formula: &Formula,
    bindings: &Bindings,
    dims: Option<&[usize]>,
    value: &Value,
) -> Result<f64, EvalError> {
    let nudged = evaluate(formula, &nudge(bindings), dims)?.value;
    let change = relative_error(&flat(&nudged), &flat(value));
    Ok(if change.is_nan() {
        f64::INFINITY
    } else {
        change
    })
}

/// How far [`nudge`] moves every variable (relative).
const NUDGE: f64 = 1e-6;

/// An expression or result that moves by more than this (relative) when
/// the variables are nudged is numerical noise at the sample — say
/// det(M)·inv(M) or logdet(M) for a singular M: rounding error, amplified —
/// not a value to compare. A smooth one moves by about [`NUDGE`] times its
/// condition number.
const STABILITY: f64 = 1e-3;

/// The bindings with every entry of every variable moved by [`NUDGE`]
/// (relative to the entry, at least absolute), in alternating directions.
fn nudge(bindings: &Bindings) -> Bindings {
    let mut nudged = bindings.clone();
    let mut k = 0.0f64;
    for value in nudged.values.values_mut() {
        value.mapv_inplace(|x| {
            k += 1.0;
            let sign = if k % 2.0 == 0.0 { 1.0 } else { -1.0 };
            x + sign * NUDGE * x.abs().max(1.0)
        });
    }
    nudged
}

/// A value's entries as one array (for [`relative_error`]).
fn flat(v: &Value) -> ArrayD<f64> {
    match v {
        Value::Matrix(m) => m.clone().into_dyn(),
        Value::Tensor(t) => t.clone(),
    }
}

fn f_layout(v: &Value) -> Vec<usize> {
    match v {
        Value::Matrix(m) => matcalc::numeric::layout_dims(m),
        Value::Tensor(t) => t.shape().to_vec(),
    }
}

/// Finite differences of the expression with the step scaled by `scale`:
/// those of x ↦ f(x0 + scale·(x − x0)), which are `scale^order` times those
/// of f.
fn finite_differences(
    p: &Problem,
    bindings: &mut Bindings,
    wrt: &[(String, Vec<usize>)],
    scale: f64,
) -> Result<ArrayD<f64>, EvalError> {
    let centre = bindings.clone();
    let names: BTreeSet<&String> = wrt.iter().map(|(name, _)| name).collect();
    let mut f = |b: &Bindings| {
        let mut moved = b.clone();
        for &name in &names {
            if let (Some(x), Some(x0)) = (moved.values.get_mut(name), centre.values.get(name)) {
                *x = x0 + &((&*x - x0) * scale);
            }
        }
        matcalc::numeric::evaluate_expr(&p.expr, &moved)
    };
    finite_difference(&mut f, bindings, wrt)
}

/// The result `derive` gives for the case, as text (for a single case).
fn result_text(case: &Case) -> String {
    panic::catch_unwind(AssertUnwindSafe(|| {
        match derive(&case.text(), &case.request()) {
            Ok(d) => d
                .derivatives
                .iter()
                .map(|r| format!("`{}`", to_expr_string(r.formula())))
                .collect::<Vec<_>>()
                .join(", "),
            Err(e) => format!("error: {e}"),
        }
    }))
    .unwrap_or_else(|_| "a panic".to_string())
}

/// Runs case `seed`, catching panics (generation included).
fn outcome_of(seed: u64) -> (Option<Case>, Outcome) {
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        let case = case_of(seed);
        let outcome = run(&case);
        (case, outcome)
    }));
    match result {
        Ok((case, outcome)) => (Some(case), outcome),
        Err(payload) => {
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "a panic without a message".to_string());
            let place = PANIC_PLACE.lock().map(|p| p.clone()).unwrap_or_default();
            // The case itself is drawn again, outside the engine.
            let case = panic::catch_unwind(|| case_of(seed)).ok();
            (
                case,
                Outcome::Failure(format!("panicked at {place}: {message}")),
            )
        }
    }
}

/// Where the last panic happened, recorded by the quiet hook.
static PANIC_PLACE: Mutex<String> = Mutex::new(String::new());

/// Runs `body` with a panic hook that records the location instead of
/// printing, so that a long run's output stays a table.
fn with_quiet_panics<T>(body: impl FnOnce() -> T) -> T {
    let previous = panic::take_hook();
    panic::set_hook(Box::new(|info| {
        if let (Ok(mut place), Some(at)) = (PANIC_PLACE.lock(), info.location()) {
            *place = at.to_string();
        }
    }));
    let result = body();
    panic::set_hook(previous);
    result
}

/// Examples of not-checkable cases listed per reason; the rest are
/// counted. Results that are undefined where the expression is fine are
/// all listed: they are answers nothing confirms.
const EXAMPLES: usize = 12;

/// How many of the slowest cases are listed.
const SLOWEST: usize = 5;

/// Counts per class and kind, with the cases worth listing.
#[derive(Default)]
struct Tally {
    counts: BTreeMap<(&'static str, Kind), usize>,
    unsupported: BTreeMap<String, usize>,
    undefined: Vec<String>,
    not_checkable: BTreeMap<Rejection, Vec<String>>,
    failures: Vec<String>,
    /// Seeds confirmed exactly after finite differences disagreed.
    overruled: Vec<u64>,
    slowest: Vec<(Duration, u64)>,
}

impl Tally {
    fn add(&mut self, seed: u64, case: Option<&Case>, outcome: Outcome, took: Duration) {
        let kind = case.map_or(Kind::Gradient, |c| c.kind);
        let what = case.map_or_else(
            || "a case that could not be drawn".to_string(),
            |c| c.to_string(),
        );
        let class = match outcome {
            Outcome::Confirmed(How::Numerically) => "confirmed numerically",
            Outcome::Confirmed(How::Exactly) => "confirmed exactly",
            Outcome::Confirmed(How::ExactlyOverDifferences) => {
                self.overruled.push(seed);
                "confirmed exactly"
            }
            Outcome::Unsupported(reason) => {
                *self.unsupported.entry(reason).or_default() += 1;
                "unsupported"
            }
            Outcome::Undefined(why) => {
                self.undefined.push(format!("seed {seed}: {what}: {why}"));
                "undefined everywhere"
            }
            Outcome::NotCheckable(Rejected(why, detail)) => {
                let line = format!("seed {seed}: {what}: {detail}");
                self.not_checkable.entry(why).or_default().push(line);
                "not checkable"
            }
            Outcome::Failure(why) => {
                self.failures.push(format!("seed {seed}: {what}: {why}"));
                "failures"
            }
        };
        *self.counts.entry((class, kind)).or_default() += 1;
        self.slowest.push((took, seed));
        self.slowest.sort_by(|a, b| b.cmp(a));
        self.slowest.truncate(SLOWEST);
    }
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:<24}", "")?;
        for kind in Kind::ALL {
            write!(f, "{:>10}", kind.name())?;
        }
        writeln!(f, "{:>10}", "total")?;
        for class in [
            "confirmed numerically",
            "confirmed exactly",
            "unsupported",
            "undefined everywhere",
            "not checkable",
            "failures",
        ] {
            write!(f, "{class:<24}")?;
            let mut total = 0;
            for kind in Kind::ALL {
                let n = self.counts.get(&(class, kind)).copied().unwrap_or(0);
                total += n;
                write!(f, "{n:>10}")?;
            }
            writeln!(f, "{total:>10}")?;
        }
        if !self.overruled.is_empty() {
            let seeds: Vec<String> = self.overruled.iter().map(u64::to_string).collect();
            writeln!(
                f,
                "confirmed exactly although finite differences disagreed: seeds {}",
                seeds.join(", ")
            )?;
        }
        if !self.unsupported.is_empty() {
            writeln!(f, "unsupported, by reason:")?;
            let mut reasons: Vec<(&String, &usize)> = self.unsupported.iter().collect();
            reasons.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            for (reason, n) in reasons {
                writeln!(f, "{n:>8}  {reason}")?;
            }
        }
        if !self.undefined.is_empty() {
            writeln!(f, "undefined everywhere, for example:")?;
            for line in self.undefined.iter().take(EXAMPLES) {
                writeln!(f, "            {line}")?;
            }
            if self.undefined.len() > EXAMPLES {
                writeln!(
                    f,
                    "            … and {} more",
                    self.undefined.len() - EXAMPLES
                )?;
            }
        }
        if !self.not_checkable.is_empty() {
            writeln!(f, "not checkable, by reason:")?;
            for (why, cases) in &self.not_checkable {
                writeln!(f, "{:>8}  {}", cases.len(), why.text())?;
                let shown = if *why == Rejection::Result {
                    cases.len()
                } else {
                    EXAMPLES
                };
                for line in cases.iter().take(shown) {
                    writeln!(f, "            {line}")?;
                }
                if cases.len() > shown {
                    writeln!(f, "            … and {} more", cases.len() - shown)?;
                }
            }
        }
        if !self.failures.is_empty() {
            writeln!(f, "failures:")?;
            for line in &self.failures {
                writeln!(f, "  {line}")?;
            }
        }
        let slowest: Vec<String> = self
            .slowest
            .iter()
            .map(|(took, seed)| format!("seed {seed} {:.2} s", took.as_secs_f64()))
            .collect();
        writeln!(f, "slowest cases: {}", slowest.join(", "))
    }
}

fn env_number(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    Some(
        value
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, not `{value}`")),
    )
}

#[test]
fn derive_is_confirmed_or_refuses_honestly() {
    if let Some(seed) = env_number("MATCALC_CASE_SEED") {
        let (case, outcome) = with_quiet_panics(|| outcome_of(seed));
        eprintln!(
            "seed {seed}: {}",
            case.as_ref()
                .map_or("no case".to_string(), |c| c.to_string())
        );
        if let Some(case) = &case {
            eprintln!("  result: {}", with_quiet_panics(|| result_text(case)));
        }
        eprintln!("  {outcome:?}");
        assert!(!matches!(outcome, Outcome::Failure(_)), "{outcome:?}");
        return;
    }
    let first = env_number("MATCALC_FIRST_SEED").unwrap_or(1);
    let count = env_number("MATCALC_LONG_RUN").unwrap_or(DEFAULT_CASES);
    let start = Instant::now();
    let mut tally = Tally::default();
    with_quiet_panics(|| {
        for seed in first..first + count {
            let began = Instant::now();
            let (case, outcome) = outcome_of(seed);
            tally.add(seed, case.as_ref(), outcome, began.elapsed());
        }
    });
    eprintln!(
        "derive_properties: {count} cases, seeds {first}..{}, in {:.1} s\n{tally}",
        first + count,
        start.elapsed().as_secs_f64()
    );
    assert!(
        tally.failures.is_empty(),
        "{} failure(s); rerun one with MATCALC_CASE_SEED=<seed>:\n{}",
        tally.failures.len(),
        tally.failures.join("\n")
    );
}

/// The judge is not a rubber stamp: the transpose of a right Jacobian, and a
/// gradient off by a factor, are failures.
#[test]
fn a_wrong_result_is_a_failure() {
    let mut decls = matcalc::syntax::Decls::new();
    decls
        .extend_from_str("A: 3x3, x: 3")
        .expect("declarations parse");
    for (text, wrt, wrong) in [("A*x", "x", "A'"), ("sum(exp(x))", "x", "2*exp(x)")] {
        let config = DeriveConfig {
            decls: decls.clone(),
            wrt: vec![wrt.to_string()],
            order: 1,
            ..Default::default()
        };
        let d = derive(text, &config).expect("derives");
        assert_eq!(
            judge(&d, d.derivatives[0].formula()),
            Outcome::Confirmed(How::Numerically)
        );
        let claim = matcalc::syntax::parse_formula(wrong, &config.decls).expect("parses");
        assert!(
            matches!(judge(&d, &claim), Outcome::Failure(_)),
            "`{wrong}` as the derivative of `{text}` is not a failure"
        );
    }
}
