//! Certified evaluation of a scalar at a point of the sampling domain, with
//! interval arithmetic rounded outwards: when the interval of a difference
//! excludes zero, the difference is a nonzero function on the domain, even
//! if its atoms (`sigmoid`, `sign`, fractional powers, …) are tied by
//! identities the normal form does not know.
//!
//! The abstract loss is instantiated as `L(Y) = Σ sin(Y) + ½‖Y‖²` (gradient
//! `cos(Y) + Y`): a claim that must hold for every `L` fails if it fails
//! for this one. Points are deterministic: diagonally dominant matrices for
//! `spd`, `invertible` and `posdet`, one-hot and probability rows, ±1 and
//! 0/1 labels; `orthogonal` has no point (no witness is attempted).
//!
//! Invariant: an interval always contains the true value (library
//! functions are trusted to 1 ulp, and every bound is widened by 2 ulps);
//! any operation whose result is not finite, or whose argument leaves the
//! function's domain or straddles a kink, gives no interval.

use std::collections::{BTreeMap, HashMap};

use num_rational::BigRational;
use num_traits::ToPrimitive;

use super::atom::{AtomKind, AtomRef};
use super::poly::{Exponent, Poly};
use super::scalar::Scalar;
use crate::numeric::Domain;
use crate::syntax::Func;

/// The next representable number towards +∞ (towards −∞ with `down`).
fn step(x: f64, down: bool) -> f64 {
    if x.is_nan() || x.is_infinite() {
        return x;
    }
    if x == 0.0 {
        let tiny = f64::from_bits(1);
        return if down { -tiny } else { tiny };
    }
    let bits = x.to_bits();
    let away = (x > 0.0) != down;
    f64::from_bits(if away { bits + 1 } else { bits - 1 })
}

/// A closed interval containing a real value.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Interval {
    lo: f64,
    hi: f64,
}

impl Interval {
    /// `[lo, hi]` widened by two ulps on each side; `None` unless finite.
    fn widened(lo: f64, hi: f64) -> Option<Interval> {
        let lo = step(step(lo, true), true);
        let hi = step(step(hi, false), false);
        (lo.is_finite() && hi.is_finite() && lo <= hi).then_some(Interval { lo, hi })
    }

    fn point(x: f64) -> Interval {
        Interval { lo: x, hi: x }
    }

    fn rational(r: &BigRational) -> Option<Interval> {
        let x = r.to_f64()?;
        let slack = x.abs() * f64::EPSILON * 4.0;
        Interval::widened(x - slack, x + slack)
    }

    fn add(self, other: Interval) -> Option<Interval> {
        Interval::widened(self.lo + other.lo, self.hi + other.hi)
    }

    fn mul(self, other: Interval) -> Option<Interval> {
        let products = [
            self.lo * other.lo,
            self.lo * other.hi,
            self.hi * other.lo,
            self.hi * other.hi,
        ];
        let lo = products.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = products.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Interval::widened(lo, hi)
    }

    fn recip(self) -> Option<Interval> {
        if self.lo > 0.0 || self.hi < 0.0 {
            Interval::widened(1.0 / self.hi, 1.0 / self.lo)
        } else {
            None
        }
    }

    /// An integer power by repeated squaring (each product encloses).
    fn powi(self, k: i64) -> Option<Interval> {
        let mut base = if k < 0 { self.recip()? } else { self };
        let mut out = Interval::point(1.0);
        let mut e = k.unsigned_abs();
        while e > 0 {
            if e & 1 == 1 {
                out = out.mul(base)?;
            }
            e >>= 1;
            if e > 0 {
                base = base.mul(base)?;
            }
        }
        Some(out)
    }

    /// A monotonically increasing function applied to both ends.
    fn increasing(self, f: fn(f64) -> f64) -> Option<Interval> {
        Interval::widened(f(self.lo), f(self.hi))
    }

    /// A 1-Lipschitz function applied around the midpoint.
    fn lipschitz(self, f: fn(f64) -> f64) -> Option<Interval> {
        let mid = 0.5 * (self.lo + self.hi);
        let radius = 0.5 * (self.hi - self.lo);
        let y = f(mid);
        Interval::widened(y - radius, y + radius)
    }

    fn excludes_zero(self) -> bool {
        self.lo > 0.0 || self.hi < 0.0
    }
}

/// A deterministic pseudo-random number in [0, 1).
fn unit(seed: u64, salt: &[u64]) -> f64 {
    let mut z = seed ^ 0x9E37_79B9_7F4A_7C15;
    for s in salt {
        z = z.wrapping_add(*s).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z ^= z >> 31;
        z = z.wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 29;
    }
    // A multiple of 1/1024, so that every value is exact in binary.
    ((z >> 54) as f64) / 1024.0
}

fn name_salt(name: &str) -> u64 {
    name.bytes().fold(0xCBF2_9CE4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3)
    })
}

/// Values for every entry of every variable, in its domain; `None` when a
/// domain has no point here (`orthogonal`).
pub(super) fn domain_point(
    vars: &BTreeMap<String, Vec<usize>>,
    domains: &BTreeMap<String, Domain>,
    seed: u64,
) -> Option<HashMap<(String, Vec<usize>), f64>> {
    let mut point = HashMap::new();
    for (var, dims) in vars {
        let domain = domains.get(var).copied().unwrap_or(Domain::Normal);
        let salt = name_salt(var);
        let (rows, cols) = match dims.as_slice() {
            [] => (1, 1),
            [n] => (*n, 1),
            [r, c] => (*r, *c),
            _ => return None,
        };
        let index_of = |i: usize, j: usize| match dims.len() {
            0 => vec![],
            1 => vec![i],
            _ => vec![i, j],
        };
        // The hot position of each one-hot row (of the whole vector).
        let hot = |i: usize| {
            let (k, n) = if dims.len() == 2 {
                (i, cols)
            } else {
                (0, rows)
            };
            (unit(seed, &[salt, k as u64, 7]) * n as f64) as usize % n
        };
        let n = rows.max(cols) as f64;
        for i in 0..rows {
            for j in 0..cols {
                let u = unit(seed, &[salt, i as u64, j as u64]);
                let flip = unit(seed, &[salt, i as u64, j as u64, 1]) < 0.5;
                let value = match domain {
                    Domain::Normal | Domain::Symmetric => {
                        let v = 3.0 * u - 1.5;
                        if v.abs() < 0.1 {
                            v + 0.25
                        } else {
                            v
                        }
                    }
                    Domain::Positive => 0.5 + 1.5 * u,
                    Domain::Unit => 0.1 + 0.8 * u,
                    Domain::Nonzero if flip => -(0.5 + u),
                    Domain::Nonzero => 0.5 + u,
                    Domain::Pm1 if flip => -1.0,
                    Domain::Pm1 => 1.0,
                    Domain::Binary => f64::from(u8::from(flip)),
                    Domain::Onehot if dims.len() == 2 => f64::from(u8::from(j == hot(i))),
                    Domain::Onehot => f64::from(u8::from(i == hot(0))),
                    // The last entry of a row is replaced by one minus the
                    // others before evaluation; these keep it positive.
                    Domain::Prob => (0.05 + 0.5 * u) / n,
                    Domain::Spd | Domain::Invertible | Domain::Posdet if i == j => n + u,
                    Domain::Spd | Domain::Invertible | Domain::Posdet => u - 0.5,
                    Domain::Orthogonal => return None,
                };
                point.insert((var.clone(), index_of(i, j)), value);
            }
        }
    }
    Some(point)
}

/// Evaluates scalars at one point with interval arithmetic.
pub(super) struct Evaluator<'p> {
    point: &'p HashMap<(String, Vec<usize>), f64>,
    atoms: HashMap<u32, Option<Interval>>,
    arguments: HashMap<u32, Option<Interval>>,
}

impl<'p> Evaluator<'p> {
    pub(super) fn new(point: &'p HashMap<(String, Vec<usize>), f64>) -> Evaluator<'p> {
        Evaluator {
            point,
            atoms: HashMap::new(),
            arguments: HashMap::new(),
        }
    }

    /// True when the scalar is certainly nonzero at the point.
    pub(super) fn certainly_nonzero(&mut self, s: &Scalar) -> bool {
        self.scalar(s).is_some_and(Interval::excludes_zero)
    }

    fn scalar(&mut self, s: &Scalar) -> Option<Interval> {
        let mut value = self.poly(s.numerator())?;
        for (f, e) in s.factors() {
            let factor = self.poly(f)?.powi(i64::from(*e))?;
            value = value.mul(factor)?;
        }
        Some(value)
    }

    fn poly(&mut self, p: &Poly) -> Option<Interval> {
        let mut total = Interval::point(0.0);
        for (m, c) in p.terms() {
            let mut term = Interval::rational(c)?;
            for (a, e) in m.factors() {
                term = term.mul(self.power(a, *e)?)?;
            }
            total = total.add(term)?;
        }
        Some(total)
    }

    /// The interval of the argument of an `exp` or root atom (cached).
    fn argument(&mut self, a: &AtomRef, arg: &Scalar) -> Option<Interval> {
        if let Some(v) = self.arguments.get(&a.id()) {
            return *v;
        }
        let value = self.scalar(arg);
        self.arguments.insert(a.id(), value);
        value
    }

    fn power(&mut self, a: &AtomRef, e: Exponent) -> Option<Interval> {
        let r = e.to_f64()?;
        match a.kind() {
            AtomKind::Exp { arg } => {
                let t = self.argument(a, arg)?.mul(Interval::point(r))?;
                t.increasing(f64::exp)
            }
            AtomKind::Root { base } => {
                let u = self.argument(a, base)?;
                if u.lo <= 0.0 {
                    return None;
                }
                let logs = u.increasing(f64::ln)?.mul(Interval::point(r))?;
                logs.increasing(f64::exp)
            }
            _ if e.is_integer() => self.atom(a)?.powi(*e.numer()),
            _ => None,
        }
    }

    fn atom(&mut self, a: &AtomRef) -> Option<Interval> {
        if let Some(v) = self.atoms.get(&a.id()) {
            return *v;
        }
        let value = self.atom_value(a);
        self.atoms.insert(a.id(), value);
        value
    }

    fn atom_value(&mut self, a: &AtomRef) -> Option<Interval> {
        match a.kind() {
            AtomKind::Entry { var, index, .. } => self
                .point
                .get(&(var.clone(), index.clone()))
                .map(|x| Interval::point(*x)),
            AtomKind::Apply { func, arg } => {
                let u = self.scalar(arg)?;
                match func {
                    Func::Log if u.lo > 0.0 => u.increasing(f64::ln),
                    Func::Sin => u.lipschitz(f64::sin),
                    Func::Cos => u.lipschitz(f64::cos),
                    Func::Tanh => u.increasing(f64::tanh),
                    Func::Erf => u.increasing(crate::numeric::erf),
                    // Increasing between its poles at ±π/2.
                    Func::Tan
                        if u.lo > -std::f64::consts::FRAC_PI_2
                            && u.hi < std::f64::consts::FRAC_PI_2 =>
                    {
                        u.increasing(f64::tan)
                    }
                    Func::Softplus => u.increasing(|x| x.max(0.0) + (-x.abs()).exp().ln_1p()),
                    Func::Sigmoid => u.increasing(|x| 1.0 / (1.0 + (-x).exp())),
                    Func::Relu => u.increasing(|x| x.max(0.0)),
                    Func::Abs if u.lo > 0.0 => Some(u),
                    Func::Abs if u.hi < 0.0 => Interval::widened(-u.hi, -u.lo),
                    Func::Sign if u.lo > 0.0 => Some(Interval::point(1.0)),
                    Func::Sign if u.hi < 0.0 => Some(Interval::point(-1.0)),
                    _ => None,
                }
            }
            AtomKind::Loss { args, .. } => {
                let mut total = Interval::point(0.0);
                for arg in args {
                    let y = self.scalar(arg)?;
                    let square = y.mul(y)?.mul(Interval::point(0.5))?;
                    total = total.add(y.lipschitz(f64::sin)?)?.add(square)?;
                }
                Some(total)
            }
            AtomKind::Grad { loss, row, col } => {
                let AtomKind::Loss { shape, args, .. } = loss.kind() else {
                    return None;
                };
                let y = self.scalar(args.get(row * shape.1 + col)?)?;
                y.lipschitz(f64::cos)?.add(y)
            }
            AtomKind::Exp { .. } | AtomKind::Root { .. } => {
                self.power(a, Exponent::from_integer(1))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_contain_their_values() {
        let x = Interval::point(0.1);
        let y = x.mul(Interval::point(3.0)).unwrap();
        assert!(y.lo <= 0.1 * 3.0 && 0.1 * 3.0 <= y.hi);
        assert!(Interval::point(0.0).recip().is_none());
        let e = x.increasing(f64::exp).unwrap();
        assert!(e.lo < 0.1f64.exp() && 0.1f64.exp() < e.hi);
        assert!(!Interval {
            lo: -1e-300,
            hi: 1e-300
        }
        .excludes_zero());
        assert!(step(1.0, false) > 1.0 && step(-1.0, true) < -1.0);
        let cube = Interval::point(-2.0).powi(3).unwrap();
        assert!(cube.lo <= -8.0 && -8.0 <= cube.hi);
        let tiny = Interval::point(0.5).powi(-4).unwrap();
        assert!(tiny.lo <= 16.0 && 16.0 <= tiny.hi);
        assert!(Interval::point(2.0).powi(i64::MAX).is_none());
    }

    #[test]
    fn points_respect_their_domains() {
        let vars: BTreeMap<String, Vec<usize>> = [
            ("y".to_string(), vec![4]),
            ("T".to_string(), vec![3, 4]),
            ("S".to_string(), vec![3, 3]),
        ]
        .into();
        let domains: BTreeMap<String, Domain> = [
            ("y".to_string(), Domain::Onehot),
            ("T".to_string(), Domain::Onehot),
            ("S".to_string(), Domain::Spd),
        ]
        .into();
        let point = domain_point(&vars, &domains, 1).unwrap();
        let y: f64 = (0..4).map(|i| point[&("y".to_string(), vec![i])]).sum();
        assert_eq!(y, 1.0);
        for i in 0..3 {
            let row: f64 = (0..4).map(|j| point[&("T".to_string(), vec![i, j])]).sum();
            assert_eq!(row, 1.0);
            let diagonal = point[&("S".to_string(), vec![i, i])];
            let off: f64 = (0..3)
                .filter(|&j| j != i)
                .map(|j| point[&("S".to_string(), vec![i, j])].abs())
                .sum();
            assert!(diagonal > off);
        }
        let orthogonal: BTreeMap<String, Domain> = [("S".to_string(), Domain::Orthogonal)].into();
        assert!(domain_point(&vars, &orthogonal, 1).is_none());
    }
}
