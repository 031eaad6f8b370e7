//! Atoms: the indeterminates of the exact scalar expressions.
//!
//! An atom is an entry symbol (`x₁₁`), an opaque function application
//! (`exp(t)`, `log(u)`, `sigmoid(u)`, a root `u^r`), the abstract loss
//! `L[e₁₁,…]` over the entries of its argument, or one of its gradient
//! entries `∂ᵢⱼL[…]`. Atoms are interned by a [`Context`](super::Context):
//! two atoms with equal keys are one atom with one id, so equality and
//! ordering are id compares. Atoms from different contexts must not be
//! mixed.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::rc::Rc;

use super::scalar::Scalar;
use crate::syntax::Func;

/// What an atom stands for.
#[derive(Debug)]
pub enum AtomKind {
    /// An entry of a variable: `index` is its layout index (empty for a
    /// scalar, one for a vector, two for a matrix), 0-based.
    Entry {
        /// The variable.
        var: String,
        /// The 0-based layout index.
        index: Vec<usize>,
        /// The display name, e.g. `x₁₂`.
        label: String,
    },
    /// An element-wise function without an algebraic normal form: `log`,
    /// `sin`, `cos`, `tanh`, `sigmoid`, `relu`, `abs`, `sign`.
    Apply {
        /// The function.
        func: Func,
        /// Its argument.
        arg: Scalar,
    },
    /// `exp(t)` of one term `t` (coefficient 1) of an exponent; a monomial
    /// may raise it to any rational power, since `exp(t)^r = exp(r·t)`.
    Exp {
        /// The term.
        arg: Scalar,
    },
    /// The positive base `u` of a fractional power: a monomial raises it to
    /// an exponent in `[0, 1)`, `u^r` for `r = k + f` being `u^k · base^f`.
    Root {
        /// The base.
        base: Scalar,
    },
    /// The abstract scalar function `name` at the entries of its argument.
    Loss {
        /// The function's name (`L`).
        name: String,
        /// The display name of its argument (`Y`).
        label: String,
        /// Rows and columns of the argument.
        shape: (usize, usize),
        /// The argument's entries, row-major.
        args: Vec<Scalar>,
    },
    /// Entry `(row, col)` of the gradient of an abstract function.
    Grad {
        /// The [`AtomKind::Loss`] atom it belongs to.
        loss: AtomRef,
        /// Row of the entry.
        row: usize,
        /// Column of the entry.
        col: usize,
    },
}

/// An interned atom.
#[derive(Debug)]
pub struct Atom {
    pub(super) id: u32,
    pub(super) kind: AtomKind,
    /// Ids of the entry atoms it depends on, sorted.
    pub(super) support: Vec<u32>,
    /// True when no algebraic relation ties it to other free atoms, so a
    /// nonzero polynomial in free atoms is a nonzero function.
    pub(super) free: bool,
    /// True when no entry of a discrete-valued variable (`pm1`, `binary`,
    /// `onehot`) occurs inside it.
    pub(super) continuous: bool,
}

/// A shared handle to an interned atom; equality, hashing and ordering go
/// by id.
#[derive(Clone, Debug)]
pub struct AtomRef(pub(super) Rc<Atom>);

impl AtomRef {
    /// The atom's id within its context.
    pub fn id(&self) -> u32 {
        self.0.id
    }

    /// What the atom stands for.
    pub fn kind(&self) -> &AtomKind {
        &self.0.kind
    }

    /// True when the atom depends on the entry atom with id `entry`.
    pub(super) fn depends_on(&self, entry: u32) -> bool {
        self.0.support.binary_search(&entry).is_ok()
    }

    /// True for a [`AtomKind::Root`] atom.
    pub(super) fn is_root(&self) -> bool {
        matches!(self.0.kind, AtomKind::Root { .. })
    }
}

impl PartialEq for AtomRef {
    fn eq(&self, other: &AtomRef) -> bool {
        self.0.id == other.0.id
    }
}

impl Eq for AtomRef {}

impl Hash for AtomRef {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.id.hash(state);
    }
}

impl PartialOrd for AtomRef {
    fn partial_cmp(&self, other: &AtomRef) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for AtomRef {
    fn cmp(&self, other: &AtomRef) -> Ordering {
        self.0.id.cmp(&other.0.id)
    }
}

impl fmt::Display for AtomRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        super::print::write_atom(f, self)
    }
}

impl crate::algebra::Atom for AtomRef {
    fn hash_word(&self) -> u64 {
        u64::from(self.0.id)
    }
}
