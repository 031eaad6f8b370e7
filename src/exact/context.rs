//! The [`Context`]: the atom table, the budget meter and the derivative
//! cache shared by every exact computation of one session.
//!
//! Invariant: an atom is created once per key; its support (the entry atoms
//! it depends on) and its freeness are fixed when it is created.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;

use super::atom::{Atom, AtomKind, AtomRef};
use super::poly::{Budget, Meter};
use super::scalar::Scalar;
use crate::syntax::Func;

/// What identifies an atom.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Entry(String, Vec<usize>),
    Apply(Func, Scalar),
    Exp(Scalar),
    Root(Scalar),
    Loss(String, Vec<Scalar>),
    Grad(u32, usize, usize),
}

/// Interned atoms, the budget and caches for one exact session. Scalars
/// made by one context must not be combined with another's.
#[derive(Debug)]
pub struct Context {
    pub(super) meter: Meter,
    table: RefCell<HashMap<Key, AtomRef>>,
    next_id: Cell<u32>,
    pub(super) derivatives: RefCell<HashMap<(u32, u32), Scalar>>,
    names: BTreeMap<String, String>,
    discrete: BTreeSet<String>,
    opaque: BTreeSet<String>,
    loss_labels: Cell<usize>,
}

/// Subscript digits for display names.
pub(super) fn subscript(n: usize) -> String {
    const DIGITS: [char; 10] = ['₀', '₁', '₂', '₃', '₄', '₅', '₆', '₇', '₈', '₉'];
    n.to_string()
        .bytes()
        .map(|b| DIGITS[usize::from(b - b'0')])
        .collect()
}

/// `name` with 1-based subscripts, separated by commas once any index has
/// two digits: `x₁₂`, `x₁₀,₁`.
pub(super) fn subscripted(name: &str, index: &[usize]) -> String {
    let parts: Vec<String> = index.iter().map(|i| subscript(i + 1)).collect();
    let separator = if index.iter().any(|&i| i + 1 >= 10) {
        ","
    } else {
        ""
    };
    format!("{name}{}", parts.join(separator))
}

impl Context {
    /// An empty context with the given budget.
    pub fn new(budget: Budget) -> Context {
        Context {
            meter: Meter::new(budget),
            table: RefCell::new(HashMap::new()),
            next_id: Cell::new(0),
            derivatives: RefCell::new(HashMap::new()),
            names: BTreeMap::new(),
            discrete: BTreeSet::new(),
            opaque: BTreeSet::new(),
            loss_labels: Cell::new(0),
        }
    }

    /// Names entry symbols after their variables, lower-cased (`X` → `x₁₁`)
    /// unless two variables would then look alike.
    pub(super) fn name_variables<'a>(&mut self, vars: impl Iterator<Item = &'a str> + Clone) {
        for var in vars.clone() {
            let lower = var.to_lowercase();
            let clash = vars
                .clone()
                .any(|other| other != var && other.to_lowercase() == lower);
            let base = if clash { var.to_string() } else { lower };
            self.names.insert(var.to_string(), base);
        }
    }

    /// Declares `var` discrete-valued (its entries obey reductions such as
    /// y² = 1, so atoms with it inside their arguments are not free).
    pub(super) fn mark_discrete(&mut self, var: &str) {
        self.discrete.insert(var.to_string());
    }

    /// Declares `var` constrained in a way no reduction captures (an
    /// orthogonal matrix): its entries are not free.
    pub(super) fn mark_opaque(&mut self, var: &str) {
        self.opaque.insert(var.to_string());
    }

    /// The term operations spent so far.
    pub fn work_spent(&self) -> u64 {
        self.meter.spent()
    }

    fn intern(&self, key: Key, make: impl FnOnce() -> AtomKind) -> AtomRef {
        if let Some(atom) = self.table.borrow().get(&key) {
            return atom.clone();
        }
        let kind = make();
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        let (support, free, continuous) = self.properties(id, &kind);
        let atom = AtomRef(Rc::new(Atom {
            id,
            kind,
            support,
            free,
            continuous,
        }));
        self.table.borrow_mut().insert(key, atom.clone());
        atom
    }

    /// Support, freeness and continuity of a new atom.
    fn properties(&self, id: u32, kind: &AtomKind) -> (Vec<u32>, bool, bool) {
        let inner = |scalars: &[&Scalar]| {
            let mut support = BTreeSet::new();
            let mut free = true;
            let mut continuous = true;
            for s in scalars {
                for atom in s.atoms() {
                    support.extend(atom.0.support.iter().copied());
                    free &= atom.0.free && atom.0.continuous;
                    continuous &= atom.0.continuous;
                }
            }
            (support.into_iter().collect::<Vec<u32>>(), free, continuous)
        };
        match kind {
            AtomKind::Entry { var, .. } => (
                vec![id],
                !self.opaque.contains(var),
                !self.discrete.contains(var),
            ),
            AtomKind::Exp { arg } => {
                let (support, free, continuous) = inner(&[arg]);
                let plain = arg.factors().is_empty()
                    && arg.numerator().terms().iter().all(|(m, _)| {
                        m.factors().iter().all(|(a, e)| {
                            matches!(a.kind(), AtomKind::Entry { .. }) && e.is_integer()
                        })
                    });
                (support, free && plain, continuous)
            }
            AtomKind::Apply { arg, .. } => {
                let (support, _, continuous) = inner(&[arg]);
                (support, false, continuous)
            }
            AtomKind::Root { base } => {
                let (support, _, continuous) = inner(&[base]);
                (support, false, continuous)
            }
            AtomKind::Loss { args, .. } => {
                let refs: Vec<&Scalar> = args.iter().collect();
                inner(&refs)
            }
            AtomKind::Grad { loss, .. } => (loss.0.support.clone(), loss.0.free, loss.0.continuous),
        }
    }

    /// The entry atom of `var` at the 0-based layout `index`.
    pub fn entry(&self, var: &str, index: &[usize]) -> AtomRef {
        self.intern(Key::Entry(var.to_string(), index.to_vec()), || {
            let base = self.names.get(var).map_or(var, String::as_str);
            AtomKind::Entry {
                var: var.to_string(),
                index: index.to_vec(),
                label: subscripted(base, index),
            }
        })
    }

    /// The atom `func(arg)` for a function without normal form.
    pub(super) fn apply_atom(&self, func: Func, arg: &Scalar) -> AtomRef {
        self.intern(Key::Apply(func, arg.clone()), || AtomKind::Apply {
            func,
            arg: arg.clone(),
        })
    }

    /// The atom `exp(term)`.
    pub(super) fn exp_atom(&self, term: &Scalar) -> AtomRef {
        self.intern(Key::Exp(term.clone()), || AtomKind::Exp {
            arg: term.clone(),
        })
    }

    /// The base atom of fractional powers of `base`.
    pub(super) fn root_atom(&self, base: &Scalar) -> AtomRef {
        self.intern(Key::Root(base.clone()), || AtomKind::Root {
            base: base.clone(),
        })
    }

    /// The abstract function `name` at the entries `args` (row-major) of a
    /// `shape` argument; `hint` names the argument for display when it is
    /// a variable.
    pub(super) fn loss_atom(
        &self,
        name: &str,
        hint: Option<&str>,
        shape: (usize, usize),
        args: Vec<Scalar>,
    ) -> AtomRef {
        self.intern(Key::Loss(name.to_string(), args.clone()), || {
            let label = match hint {
                Some(var) => var.to_string(),
                None => {
                    let k = self.loss_labels.get();
                    self.loss_labels.set(k + 1);
                    match k {
                        0 => "Y".to_string(),
                        1 => "Z".to_string(),
                        _ => format!("Y{}", subscript(k)),
                    }
                }
            };
            AtomKind::Loss {
                name: name.to_string(),
                label,
                shape,
                args,
            }
        })
    }

    /// Entry `(row, col)` of the gradient of the loss atom `loss`.
    pub(super) fn grad_atom(&self, loss: &AtomRef, row: usize, col: usize) -> AtomRef {
        self.intern(Key::Grad(loss.id(), row, col), || AtomKind::Grad {
            loss: loss.clone(),
            row,
            col,
        })
    }
}
