//! What a name means: a value, an abstract function, its gradient, a
//! textbook juxtaposition (`XW` for `X*W`), or a reserved word; and the
//! nearest known function for "did you mean …?".

use super::ast::Func;
use super::decls::Decls;

/// The abstract loss, known without a declaration.
pub const LOSS: &str = "L";

/// Names that are built in but are not one-argument functions.
const SPECIAL_FUNCTIONS: [&str; 7] = ["vector", "matrix", "eye", "ones", "zeros", "delta", "sum"];

/// How a name is to be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NameRole {
    /// A scalar, vector or matrix variable.
    Value,
    /// An abstract scalar function (`L`, or one declared `f: function`).
    Function,
    /// The gradient of the named abstract function (`dL` → `L`).
    Gradient(String),
    /// An undeclared run of capitals, read as the product of its letters.
    Juxtaposition(Vec<String>),
    /// A built-in used as a value; the text says how it is meant to be used.
    Reserved(String),
}

fn is_function_name(name: &str, decls: &Decls) -> bool {
    decls.is_function(name) || (name == LOSS && !decls.is_value(name))
}

/// Classifies `name` under the declarations in force.
pub fn classify(name: &str, decls: &Decls) -> NameRole {
    if Func::from_name(name).is_some() || SPECIAL_FUNCTIONS.contains(&name) {
        return NameRole::Reserved(format!(
            "`{name}` is a built-in function; call it as {name}(…)"
        ));
    }
    if decls.is_value(name) {
        return NameRole::Value;
    }
    if is_function_name(name, decls) {
        return NameRole::Function;
    }
    if let Some(function) = name.strip_prefix('d') {
        if is_function_name(function, decls) {
            return NameRole::Gradient(function.to_string());
        }
    }
    if name.len() >= 2 && name.chars().all(|c| c.is_ascii_uppercase()) {
        return NameRole::Juxtaposition(name.chars().map(String::from).collect());
    }
    NameRole::Value
}

/// True when `name(…)` is a product: `name` is a declared value, or a capital
/// letter (or run of capitals) that is not declared as anything else.
pub fn may_juxtapose(name: &str, decls: &Decls) -> bool {
    decls.is_value(name)
        || (decls.get(name).is_none() && name.chars().all(|c| c.is_ascii_uppercase()))
}

/// The known function nearest to `name` by edit distance, when it is close.
pub fn nearest_function(name: &str, decls: &Decls) -> Option<String> {
    let declared = decls
        .iter()
        .filter(|d| decls.is_function(&d.name))
        .map(|d| d.name.clone());
    let known = Func::ALL
        .iter()
        .map(|f| f.name().to_string())
        .chain(SPECIAL_FUNCTIONS.iter().map(|s| s.to_string()))
        .chain(declared);
    let limit = if name.len() <= 3 { 1 } else { 2 };
    known
        .map(|candidate| (edit_distance(name, &candidate), candidate))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

/// Levenshtein distance with transpositions counted as one edit.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles() {
        let mut decls = Decls::new();
        decls.extend_from_str("f: function, XW: 3x3").unwrap();
        assert_eq!(classify("L", &decls), NameRole::Function);
        assert_eq!(classify("dL", &decls), NameRole::Gradient("L".into()));
        assert_eq!(classify("df", &decls), NameRole::Gradient("f".into()));
        assert_eq!(classify("XW", &decls), NameRole::Value);
        assert_eq!(
            classify("AB", &decls),
            NameRole::Juxtaposition(vec!["A".into(), "B".into()])
        );
        assert_eq!(classify("W1", &decls), NameRole::Value);
        assert!(matches!(classify("exp", &decls), NameRole::Reserved(_)));
    }

    #[test]
    fn suggestions() {
        let decls = Decls::new();
        assert_eq!(
            nearest_function("sigmod", &decls).as_deref(),
            Some("sigmoid")
        );
        assert_eq!(nearest_function("expp", &decls).as_deref(), Some("exp"));
        assert_eq!(nearest_function("lgo", &decls).as_deref(), Some("log"));
        assert_eq!(
            nearest_function("softmx", &decls).as_deref(),
            Some("softmax")
        );
        assert_eq!(nearest_function("banana", &decls), None);
    }
}
