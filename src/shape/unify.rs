//! Dimension variables and their unification (union–find).
//!
//! A variable is bound to a concrete size, to a declared symbol (rigid: `n`
//! never equals `k` or `3`), or nothing yet. Unbound variables stand for
//! sizes of at least 2 unless unified with 1. Each class remembers whether
//! anything other than a `vector(c)`/`matrix(c)` fill constrains it, so that
//! fills whose size nothing fixes are reported.

use crate::syntax::DimSpec;

/// A dimension variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DimVar(pub u32);

#[derive(Clone, Debug)]
struct Class {
    parent: u32,
    binding: Option<DimSpec>,
    tied: bool,
    at_least_two: bool,
}

/// The dimension variables of one inference.
#[derive(Clone, Debug, Default)]
pub struct Dims {
    classes: Vec<Class>,
}

/// Two dimensions that cannot be equal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clash {
    /// The left dimension as written.
    pub left: DimSpec,
    /// The right dimension as written.
    pub right: DimSpec,
}

impl Dims {
    /// A fresh variable; `tied` is false only for the sizes of fills.
    pub fn fresh(&mut self, tied: bool) -> DimVar {
        let id = u32::try_from(self.classes.len()).expect("fewer than 2^32 dimensions");
        self.classes.push(Class {
            parent: id,
            binding: None,
            tied,
            at_least_two: false,
        });
        DimVar(id)
    }

    /// A fresh variable for a size that a default shape leaves open: it is at
    /// least 2 (a default vector is never 1×1), so it never unifies with 1.
    pub fn fresh_size(&mut self) -> DimVar {
        let v = self.fresh(true);
        self.classes[v.0 as usize].at_least_two = true;
        v
    }

    /// A variable bound to `spec`.
    pub fn bound(&mut self, spec: DimSpec) -> DimVar {
        let v = self.fresh(true);
        self.classes[v.0 as usize].binding = Some(spec);
        v
    }

    fn root(&mut self, v: DimVar) -> u32 {
        let mut r = v.0;
        while self.classes[r as usize].parent != r {
            r = self.classes[r as usize].parent;
        }
        // Path compression.
        let mut x = v.0;
        while self.classes[x as usize].parent != r {
            let next = self.classes[x as usize].parent;
            self.classes[x as usize].parent = r;
            x = next;
        }
        r
    }

    /// What the variable is bound to, if anything.
    pub fn binding(&mut self, v: DimVar) -> Option<DimSpec> {
        let r = self.root(v);
        self.classes[r as usize].binding.clone()
    }

    /// True when the variable is known to be 1.
    pub fn is_one(&mut self, v: DimVar) -> bool {
        self.binding(v) == Some(DimSpec::Fixed(1))
    }

    /// True unless the variable is bound to a size other than 1 or known to
    /// be at least 2.
    pub fn may_be_one(&mut self, v: DimVar) -> bool {
        let r = self.root(v) as usize;
        let class = &self.classes[r];
        !class.at_least_two
            && class
                .binding
                .as_ref()
                .map_or(true, |b| *b == DimSpec::Fixed(1))
    }

    /// True when something other than a fill constrains the variable.
    pub fn is_tied(&mut self, v: DimVar) -> bool {
        let r = self.root(v);
        self.classes[r as usize].tied || self.classes[r as usize].binding.is_some()
    }

    /// The class representative (equal for unified variables).
    pub fn representative(&mut self, v: DimVar) -> u32 {
        self.root(v)
    }

    /// Makes `a` and `b` the same size.
    pub fn unify(&mut self, a: DimVar, b: DimVar) -> Result<(), Clash> {
        let (ra, rb) = (self.root(a), self.root(b));
        if ra == rb {
            return Ok(());
        }
        let (ba, bb) = (
            self.classes[ra as usize].binding.clone(),
            self.classes[rb as usize].binding.clone(),
        );
        let binding = match (ba, bb) {
            (Some(x), Some(y)) if x != y => return Err(Clash { left: x, right: y }),
            (x, y) => x.or(y),
        };
        let at_least_two =
            self.classes[ra as usize].at_least_two || self.classes[rb as usize].at_least_two;
        if at_least_two && binding == Some(DimSpec::Fixed(1)) {
            return Err(Clash {
                left: DimSpec::Fixed(1),
                right: DimSpec::Named("a size of at least 2".into()),
            });
        }
        let tied = self.classes[ra as usize].tied || self.classes[rb as usize].tied;
        self.classes[rb as usize].parent = ra;
        self.classes[ra as usize].binding = binding;
        self.classes[ra as usize].tied = tied;
        self.classes[ra as usize].at_least_two = at_least_two;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unify_binds_and_clashes() {
        let mut d = Dims::default();
        let (a, b) = (d.fresh(true), d.fresh(true));
        let three = d.bound(DimSpec::Fixed(3));
        d.unify(a, b).unwrap();
        d.unify(b, three).unwrap();
        assert_eq!(d.binding(a), Some(DimSpec::Fixed(3)));
        let n = d.bound(DimSpec::Named("n".into()));
        assert!(d.unify(a, n).is_err());
    }

    #[test]
    fn fills_are_untied_until_unified_with_a_value() {
        let mut d = Dims::default();
        let fill = d.fresh(false);
        assert!(!d.is_tied(fill));
        let var = d.fresh(true);
        d.unify(fill, var).unwrap();
        assert!(d.is_tied(fill));
    }
}
