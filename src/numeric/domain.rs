//! Sampling domains (corpus README, "Sampling domains"): how each variable's
//! random value is drawn, and the `X: spd, y: pm1` list that names them.
//!
//! Invariant: a sample is a pure function of (seed, variable name, domain,
//! dims), so the same seed gives the same bits forever and adding a
//! variable does not change the others. A sample is checked against
//! [`MAX_ENTRIES`](super::MAX_ENTRIES) and its work against
//! [`MAX_WORK`](super::MAX_WORK) before anything is drawn. The redraws of
//! an `invertible` sample are as many as fit in [`REDRAW_WORK`]: all of
//! them up to 69×69, none from 323×323, where a normal matrix is
//! never well conditioned anyway and its singular values are lifted at
//! once.

use std::collections::BTreeMap;

use ndarray::Array2;
use nom::{
    bytes::complete::take_while1,
    character::complete::{char, multispace0},
    combinator::all_consuming,
    multi::separated_list1,
    sequence::{delimited, separated_pair},
    IResult,
};

use super::error::EvalError;
use super::limits::{check_entries, Budget, MAX_WORK};
use super::linalg;
use super::rng::{derive_seed, Rng};
use crate::syntax::Span;

/// Largest condition number of an `invertible` or `posdet` sample.
pub const MAX_CONDITION: f64 = 30.0;

/// Most redraws of an `invertible` or `posdet` sample before its small
/// singular values are lifted.
const DRAWS: usize = 100;

/// The most estimated operations the redraws of one `invertible` or
/// `posdet` sample may take (2^27).
pub const REDRAW_WORK: u64 = 1 << 27;

/// How a variable's entries are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Domain {
    /// N(0,1) entries (the default).
    Normal,
    /// Entries in U(0.5, 2).
    Positive,
    /// Entries in U(0.1, 0.9).
    Unit,
    /// Entries ±U(0.5, 1.5).
    Nonzero,
    /// ±1 labels.
    Pm1,
    /// 0/1 labels.
    Binary,
    /// A one-hot vector, or a one-hot row for each row of a matrix.
    Onehot,
    /// Positive entries summing to 1 (each row of a matrix).
    Prob,
    /// (G+G')/2 with G normal.
    Symmetric,
    /// GG'/n + 0.5 I.
    Spd,
    /// N(0,1) entries with condition number below [`MAX_CONDITION`].
    Invertible,
    /// Invertible with a positive determinant.
    Posdet,
    /// The orthogonal factor Q of a QR factorization.
    Orthogonal,
}

impl Domain {
    /// Every domain, in the order of the corpus table.
    pub const ALL: [Domain; 13] = [
        Domain::Normal,
        Domain::Positive,
        Domain::Unit,
        Domain::Nonzero,
        Domain::Pm1,
        Domain::Binary,
        Domain::Onehot,
        Domain::Prob,
        Domain::Symmetric,
        Domain::Spd,
        Domain::Invertible,
        Domain::Posdet,
        Domain::Orthogonal,
    ];

    /// The domain's name as written in a case's `domain` field.
    pub fn name(self) -> &'static str {
        match self {
            Domain::Normal => "normal",
            Domain::Positive => "positive",
            Domain::Unit => "unit",
            Domain::Nonzero => "nonzero",
            Domain::Pm1 => "pm1",
            Domain::Binary => "binary",
            Domain::Onehot => "onehot",
            Domain::Prob => "prob",
            Domain::Symmetric => "symmetric",
            Domain::Spd => "spd",
            Domain::Invertible => "invertible",
            Domain::Posdet => "posdet",
            Domain::Orthogonal => "orthogonal",
        }
    }

    /// The domain called `name`, if there is one.
    pub fn from_name(name: &str) -> Option<Domain> {
        Domain::ALL.into_iter().find(|d| d.name() == name)
    }

    /// Draws a value of layout `dims` (`[]`, `[n]` or `[n,m]`; vectors are
    /// n×1 columns) for the variable `var`.
    pub fn sample(
        self,
        var: &str,
        dims: &[usize],
        rng: &mut Rng,
    ) -> Result<Array2<f64>, EvalError> {
        let (rows, cols) = match dims {
            [] => (1, 1),
            [n] => (*n, 1),
            [r, c] => (*r, *c),
            _ => return Err(self.misfit(var, dims)),
        };
        let what = format_args!("the sample of `{var}`");
        let side = rows.max(cols);
        let largest = if self == Domain::Orthogonal {
            [side, side]
        } else {
            [rows, cols]
        };
        check_entries(&largest, what, Span::NONE)?;
        let cost = self.cost(rows, cols);
        if cost.fixed > MAX_WORK as f64 {
            return Err(EvalError::TooMuchWork {
                what: format!("drawing the {} sample of `{var}`", self.name()),
                work: cost.fixed,
                budget: Budget::Evaluation,
                span: Span::NONE,
            });
        }
        let mut entries =
            |f: &mut dyn FnMut(&mut Rng) -> f64| Array2::from_shape_fn((rows, cols), |_| f(rng));
        Ok(match self {
            Domain::Normal => entries(&mut |r| r.normal()),
            Domain::Positive => entries(&mut |r| r.uniform_in(0.5, 2.0)),
            Domain::Unit => entries(&mut |r| r.uniform_in(0.1, 0.9)),
            Domain::Nonzero => entries(&mut |r| r.sign() * r.uniform_in(0.5, 1.5)),
            Domain::Pm1 => entries(&mut |r| r.sign()),
            Domain::Binary => entries(&mut |r| if r.sign() > 0.0 { 1.0 } else { 0.0 }),
            Domain::Onehot | Domain::Prob => distribution_rows(self, rows, cols, rng),
            Domain::Orthogonal => {
                let tall = rows >= cols;
                let (r, c) = if tall { (rows, cols) } else { (cols, rows) };
                let g = Array2::from_shape_fn((r, r), |_| rng.normal());
                let q = linalg::orthogonal_factor(&g);
                let q = q.slice(ndarray::s![.., ..c]).to_owned();
                if tall {
                    q
                } else {
                    q.reversed_axes()
                }
            }
            Domain::Symmetric | Domain::Spd | Domain::Invertible | Domain::Posdet => {
                if rows != cols {
                    return Err(self.misfit(var, dims));
                }
                square_sample(self, rows, cost.redraws(), rng)
            }
        })
    }

    /// The estimated operations of drawing a sample of `dims` (layout dims
    /// `[]`, `[n]` or `[n,m]`), including every redraw it may take.
    pub(super) fn work(self, dims: &[usize]) -> f64 {
        let (rows, cols) = match dims {
            [] => (1, 1),
            [n] => (*n, 1),
            [r, c] => (*r, *c),
            _ => return 0.0,
        };
        let cost = self.cost(rows, cols);
        cost.fixed + cost.redraws() as f64 * cost.per_redraw
    }

    /// What drawing a `rows`×`cols` sample costs.
    fn cost(self, rows: usize, cols: usize) -> SampleCost {
        let entries = rows as f64 * cols as f64;
        let n = rows.max(cols) as f64;
        let (fixed, per_redraw) = match self {
            Domain::Orthogonal => (n * n + 3.0 * n * n * n, 0.0),
            Domain::Symmetric => (3.0 * entries, 0.0),
            Domain::Spd => (3.0 * entries + 2.0 * n * n * n, 0.0),
            // One full SVD to lift the singular values, a determinant, and
            // singular values (4n³) per redraw.
            Domain::Invertible | Domain::Posdet => {
                (entries + 16.0 * n * n * n, entries + 4.0 * n * n * n)
            }
            _ => (2.0 * entries, 0.0),
        };
        SampleCost { fixed, per_redraw }
    }

    fn misfit(self, var: &str, dims: &[usize]) -> EvalError {
        EvalError::DomainShape {
            var: var.to_string(),
            domain: self.name(),
            dims: format!("{dims:?}"),
        }
    }
}

/// The estimated operations of one sample: those always spent, and those of
/// each redraw.
struct SampleCost {
    fixed: f64,
    per_redraw: f64,
}

impl SampleCost {
    /// How many redraws fit in [`REDRAW_WORK`] (at most [`DRAWS`]).
    fn redraws(&self) -> usize {
        if self.per_redraw <= 0.0 {
            return 0;
        }
        // Truncation is the intent: whole redraws only.
        ((REDRAW_WORK as f64 / self.per_redraw) as usize).min(DRAWS)
    }
}

/// One-hot or probability rows; a column vector is one distribution.
fn distribution_rows(domain: Domain, rows: usize, cols: usize, rng: &mut Rng) -> Array2<f64> {
    let vector = cols == 1;
    let (groups, width) = if vector { (1, rows) } else { (rows, cols) };
    let mut out = Array2::zeros((groups, width));
    for mut row in out.rows_mut() {
        if width == 0 {
            break;
        }
        if domain == Domain::Onehot {
            row[rng.below(width)] = 1.0;
        } else {
            row.mapv_inplace(|_| rng.uniform_in(0.5, 2.0));
            let total = row.sum();
            row.mapv_inplace(|x| x / total);
        }
    }
    if vector {
        out.reversed_axes()
    } else {
        out
    }
}

fn square_sample(domain: Domain, n: usize, draws: usize, rng: &mut Rng) -> Array2<f64> {
    let g = Array2::from_shape_fn((n, n), |_| rng.normal());
    match domain {
        Domain::Symmetric => (&g + &g.t()) / 2.0,
        Domain::Spd => g.dot(&g.t()) / n as f64 + Array2::<f64>::eye(n) * 0.5,
        _ => {
            let mut a = well_conditioned(g, draws, rng);
            if domain == Domain::Posdet && linalg::determinant(&a) < 0.0 {
                a.row_mut(0).mapv_inplace(|x| -x);
            }
            a
        }
    }
}

/// Redraws until the condition number is below the limit; after `draws`
/// failures (large n) lifts the small singular values of the last draw.
fn well_conditioned(mut g: Array2<f64>, draws: usize, rng: &mut Rng) -> Array2<f64> {
    for _ in 0..draws {
        if linalg::condition_number(&g) < MAX_CONDITION {
            return g;
        }
        g.mapv_inplace(|_| rng.normal());
    }
    linalg::limit_condition(&g, MAX_CONDITION * 0.9)
}

/// Draws every variable of `vars` (name → layout dims) for one seed and
/// attempt; variables without a domain are `normal`.
pub fn draw_sample(
    vars: &BTreeMap<String, Vec<usize>>,
    domains: &BTreeMap<String, Domain>,
    seed: u64,
    attempt: u64,
) -> Result<BTreeMap<String, Array2<f64>>, EvalError> {
    vars.iter()
        .map(|(name, dims)| {
            let domain = domains.get(name).copied().unwrap_or(Domain::Normal);
            let mut rng = Rng::seeded(derive_seed(seed, &["sample", name], &[attempt]));
            Ok((name.clone(), domain.sample(name, dims, &mut rng)?))
        })
        .collect()
}

fn word(input: &str) -> IResult<&str, &str> {
    delimited(
        multispace0,
        take_while1(|c: char| c.is_ascii_alphanumeric() || c == '_'),
        multispace0,
    )(input)
}

/// Parses a domain list such as `X: spd, y: pm1`.
///
/// ```
/// use matcalc::numeric::{parse_domains, Domain};
/// let d = parse_domains("X: spd, y: pm1").unwrap();
/// assert_eq!(d["X"], Domain::Spd);
/// assert_eq!(d["y"], Domain::Pm1);
/// ```
pub fn parse_domains(text: &str) -> Result<BTreeMap<String, Domain>, EvalError> {
    let list = separated_list1(char(','), separated_pair(word, char(':'), word));
    let pairs = match all_consuming(list)(text) {
        Ok((_, pairs)) => pairs,
        Err(err) => {
            let rest = match &err {
                nom::Err::Error(e) | nom::Err::Failure(e) => e.input,
                nom::Err::Incomplete(_) => "",
            };
            let at = text.len() - rest.len();
            return Err(EvalError::Syntax {
                message: "a domain list looks like 'X: spd, y: pm1'".to_string(),
                span: Span::new(at, (at + 1).min(text.len()).max(at)),
            });
        }
    };
    let mut out = BTreeMap::new();
    for (name, domain) in pairs {
        let Some(d) = Domain::from_name(domain) else {
            let at = domain.as_ptr() as usize - text.as_ptr() as usize;
            let known: Vec<&str> = Domain::ALL.iter().map(|d| d.name()).collect();
            return Err(EvalError::Syntax {
                message: format!("unknown domain `{domain}`; known: {}", known.join(", ")),
                span: Span::new(at, at + domain.len()),
            });
        };
        out.insert(name.to_string(), d);
    }
    Ok(out)
}
