//! Pretty text of scalars for proofs: `x₁₁·w₁₁ + x₁₂·w₂₁`, `∂L/∂y₁₁`,
//! `exp(x₁₁·w₁ + x₁₂·w₂)`, `√(x₁² + x₂²)`, with Unicode subscripts and
//! superscripts.
//!
//! Invariant: printing needs no context; the `exp` atoms of one monomial
//! are shown as one `exp(…)` of the sum of their exponents.

use std::fmt::{self, Write as _};

use num_rational::BigRational;
use num_traits::{One, Signed};

use super::atom::{AtomKind, AtomRef};
use super::context::subscripted;
use super::poly::{Exponent, Monomial, Poly};
use super::scalar::Scalar;

fn superscript(n: i64) -> String {
    const DIGITS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    let digits: String = n
        .unsigned_abs()
        .to_string()
        .bytes()
        .map(|b| DIGITS[usize::from(b - b'0')])
        .collect();
    if n < 0 {
        format!("⁻{digits}")
    } else {
        digits
    }
}

/// Writes one atom as it stands alone.
pub(super) fn write_atom(f: &mut fmt::Formatter<'_>, atom: &AtomRef) -> fmt::Result {
    f.write_str(&atom_text(atom))
}

fn atom_text(atom: &AtomRef) -> String {
    match atom.kind() {
        AtomKind::Entry { label, .. } => label.clone(),
        AtomKind::Apply { func, arg } => format!("{}({arg})", func.name()),
        AtomKind::Exp { arg } => format!("exp({arg})"),
        AtomKind::Root { base } => format!("√({base})"),
        AtomKind::Loss { name, label, .. } => format!("{name}({label})"),
        AtomKind::Grad { loss, row, col } => {
            let AtomKind::Loss {
                name, label, shape, ..
            } = loss.kind()
            else {
                return String::from("∂?");
            };
            let index: Vec<usize> = match shape {
                (1, 1) => vec![],
                (_, 1) => vec![*row],
                (1, _) => vec![*col],
                _ => vec![*row, *col],
            };
            format!("∂{name}/∂{}", subscripted(&label.to_lowercase(), &index))
        }
    }
}

fn rational_text(r: &BigRational) -> String {
    if r.is_integer() {
        r.numer().to_string()
    } else {
        format!("{}/{}", r.numer(), r.denom())
    }
}

/// An atom raised to an exponent (never an `exp` atom).
fn power_text(atom: &AtomRef, e: &Exponent) -> String {
    if let AtomKind::Root { base } = atom.kind() {
        return if *e == Exponent::new(1, 2) {
            format!("√({base})")
        } else {
            format!("({base})^({}/{})", e.numer(), e.denom())
        };
    }
    let base = atom_text(atom);
    if e.is_one() {
        base
    } else if e.is_integer() {
        format!("{base}{}", superscript(*e.numer()))
    } else {
        format!("{base}^({}/{})", e.numer(), e.denom())
    }
}

/// The factors of a monomial joined by `·`, with its `exp` atoms merged.
fn monomial_text(m: &Monomial) -> String {
    let mut parts = Vec::new();
    let mut exponent_terms = Vec::new();
    // Gradient entries of an abstract loss lead, as in `dL*W'`.
    let mut factors: Vec<&(AtomRef, Exponent)> = m.factors().iter().collect();
    factors
        .sort_by_key(|(a, _)| !matches!(a.kind(), AtomKind::Grad { .. } | AtomKind::Loss { .. }));
    for (atom, e) in factors {
        if let AtomKind::Exp { arg } = atom.kind() {
            let r = BigRational::new((*e.numer()).into(), (*e.denom()).into());
            exponent_terms.push(scaled_text(&r, &arg.to_string()));
        } else {
            parts.push(power_text(atom, e));
        }
    }
    if !exponent_terms.is_empty() {
        let mut sum = String::new();
        for (k, t) in exponent_terms.iter().enumerate() {
            match (k, t.strip_prefix('−')) {
                (0, _) => sum.push_str(t),
                (_, Some(rest)) => {
                    let _ = write!(sum, " − {rest}");
                }
                (_, None) => {
                    let _ = write!(sum, " + {t}");
                }
            }
        }
        parts.push(format!("exp({sum})"));
    }
    parts.join("·")
}

/// `r·text`, writing `text`, `−text` or `1/2·text`.
fn scaled_text(r: &BigRational, text: &str) -> String {
    let wrapped = if text.contains(" + ") || text.contains(" − ") {
        format!("({text})")
    } else {
        text.to_string()
    };
    if r.is_one() {
        text.to_string()
    } else if (-r).is_one() {
        format!("−{wrapped}")
    } else if r.is_negative() {
        format!("−{}·{wrapped}", rational_text(&-r))
    } else {
        format!("{}·{wrapped}", rational_text(r))
    }
}

fn poly_text(p: &Poly) -> String {
    if p.is_zero() {
        return "0".to_string();
    }
    // Largest first in the lexicographic order: x² + 2·x + 1.
    let mut terms: Vec<&(Monomial, BigRational)> = p.terms().iter().collect();
    terms.sort_by(|a, b| b.0.lex_cmp(&a.0));
    let mut out = String::new();
    for (k, (m, c)) in terms.into_iter().enumerate() {
        let magnitude = c.abs();
        let body = if m.is_one() {
            rational_text(&magnitude)
        } else if magnitude.is_one() {
            monomial_text(m)
        } else {
            format!("{}·{}", rational_text(&magnitude), monomial_text(m))
        };
        match (k, c.is_negative()) {
            (0, false) => out.push_str(&body),
            (0, true) => {
                let _ = write!(out, "−{body}");
            }
            (_, false) => {
                let _ = write!(out, " + {body}");
            }
            (_, true) => {
                let _ = write!(out, " − {body}");
            }
        }
    }
    out
}

fn grouped(text: String, several: bool) -> String {
    if several {
        format!("({text})")
    } else {
        text
    }
}

impl fmt::Display for Scalar {
    /// The expanded part times the positive factors, over the negative
    /// ones: `(x₁ + x₂)²·y/(exp(x₁) + exp(x₂))`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let power = |p: &Poly, e: i32| {
            let base = format!("({})", poly_text(p));
            if e == 1 {
                base
            } else {
                format!("{base}{}", superscript(i64::from(e)))
            }
        };
        let top: Vec<String> = self
            .factors()
            .iter()
            .filter(|(_, e)| *e > 0)
            .map(|(p, e)| power(p, *e))
            .collect();
        let bottom: Vec<String> = self
            .factors()
            .iter()
            .filter(|(_, e)| *e < 0)
            .map(|(p, e)| power(p, -e))
            .collect();
        let mut num = poly_text(self.numerator());
        if !top.is_empty() {
            let lead = grouped(num, self.numerator().term_count() > 1);
            num = match lead.as_str() {
                "1" => top.join("·"),
                "−1" => format!("−{}", top.join("·")),
                _ => format!("{lead}·{}", top.join("·")),
            };
        } else if !bottom.is_empty() {
            num = grouped(num, self.numerator().term_count() > 1);
        }
        if bottom.is_empty() {
            return f.write_str(&num);
        }
        let den = bottom.join("·");
        if bottom.len() > 1 {
            write!(f, "{num}/({den})")
        } else {
            write!(f, "{num}/{den}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exact::context::subscript;

    #[test]
    fn subscripts_and_superscripts() {
        assert_eq!(subscripted("x", &[0, 1]), "x₁₂");
        assert_eq!(subscripted("x", &[9, 0]), "x₁₀,₁");
        assert_eq!(superscript(-12), "⁻¹²");
        assert_eq!(subscript(30), "₃₀");
        assert_eq!(Scalar::zero().to_string(), "0");
    }
}
