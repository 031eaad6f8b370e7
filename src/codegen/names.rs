//! Python identifiers for the generated code: a variable keeps its own name
//! unless Python reserves it or the module already uses it, in which case
//! it gets trailing underscores.

use std::collections::BTreeSet;

/// Python's keywords and the names the generated module itself defines or
/// calls; a matcalc name equal to one of them is renamed.
const RESERVED: [&str; 52] = [
    "False",
    "None",
    "True",
    "and",
    "as",
    "assert",
    "async",
    "await",
    "break",
    "class",
    "continue",
    "def",
    "del",
    "elif",
    "else",
    "except",
    "finally",
    "for",
    "from",
    "global",
    "if",
    "import",
    "in",
    "is",
    "lambda",
    "nonlocal",
    "not",
    "or",
    "pass",
    "raise",
    "return",
    "try",
    "while",
    "with",
    "yield",
    "np",
    "jnp",
    "jax",
    "variables",
    "sizes",
    "callable",
    "float",
    "dict",
    "tuple",
    "range",
    "isinstance",
    "str",
    "len",
    "max",
    "abs",
    "print",
    "ValueError",
];

/// Allocates distinct identifiers.
#[derive(Clone, Debug, Default)]
pub(super) struct Namer {
    used: BTreeSet<String>,
    temporaries: usize,
}

impl Namer {
    /// A namer with nothing allocated.
    pub(super) fn new() -> Namer {
        Namer::default()
    }

    /// An identifier for `wanted`: itself when free and not reserved, else
    /// with underscores appended (a leading underscore is reserved for the
    /// module's helpers, so such a name gets a `v` in front).
    pub(super) fn name(&mut self, wanted: &str) -> String {
        let mut name = if wanted.starts_with('_') {
            format!("v{wanted}")
        } else {
            wanted.to_string()
        };
        while RESERVED.contains(&name.as_str()) || self.used.contains(&name) {
            name.push('_');
        }
        self.used.insert(name.clone());
        name
    }

    /// A fresh temporary: `t1`, `t2`, … skipping any name already used.
    pub(super) fn temporary(&mut self) -> String {
        loop {
            self.temporaries += 1;
            let name = format!("t{}", self.temporaries);
            if !self.used.contains(&name) {
                self.used.insert(name.clone());
                return name;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_and_clashes_are_renamed() {
        let mut n = Namer::new();
        assert_eq!(n.name("X"), "X");
        assert_eq!(n.name("X"), "X_");
        assert_eq!(n.name("lambda"), "lambda_");
        assert_eq!(n.name("np"), "np_");
        assert_eq!(n.name("_w"), "v_w");
        let t = n.temporary();
        assert!(t.starts_with('t'));
        assert_ne!(n.temporary(), t);
    }
}
