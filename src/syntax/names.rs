//! What a name means: a value, an abstract function, its gradient, a
//! textbook juxtaposition (`XW` for `X*W`), or a reserved word; and the
//! nearest known function for "did you mean …?".
//!
//! The juxtaposition rule, in one place: a word of letters only that holds
//! a capital, is not declared, is not a Greek letter's name and is not a
//! function's, is a product of its pieces. Its pieces are declared value
//! names and single letters; of all ways to split the word, the one with
//! fewest pieces wins (declared names win over their letters), and when two
//! splits tie the word is ambiguous and refused. A word with a digit or an
//! underscore (`W1`, `x_1`, `XW1`) and a word of lowercase letters (`lam`)
//! is always one name.

use super::ast::Func;
use super::decls::Decls;

/// The abstract loss, known without a declaration.
pub const LOSS: &str = "L";

/// Names that are built in but are not one-argument functions.
const SPECIAL_FUNCTIONS: [&str; 9] = [
    "vector", "matrix", "eye", "ones", "zeros", "delta", "sum", "max", "min",
];

/// How a name is to be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NameRole {
    /// A scalar, vector or matrix variable.
    Value,
    /// An abstract scalar function (`L`, or one declared `f: function`).
    Function,
    /// The gradient of the named abstract function (`dL` → `L`).
    Gradient(String),
    /// The Hessian of the named abstract function (`d2L` → `L`).
    Hessian(String),
    /// An undeclared word read as the product of its pieces (`XW`, `Ax`).
    Juxtaposition(Vec<String>),
    /// An undeclared word that splits into declared names and letters in
    /// more than one way with equally few pieces; two of the splits.
    Ambiguous(Vec<Vec<String>>),
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
    if let Some(function) = name.strip_prefix("d2") {
        if is_function_name(function, decls) {
            return NameRole::Hessian(function.to_string());
        }
    }
    if let Some(function) = name.strip_prefix('d') {
        if is_function_name(function, decls) {
            return NameRole::Gradient(function.to_string());
        }
    }
    let juxtaposed = name.len() >= 2
        && name.chars().all(|c| c.is_ascii_alphabetic())
        && name.chars().any(|c| c.is_ascii_uppercase())
        && decls.get(name).is_none()
        && !GREEK.contains(&name);
    if juxtaposed {
        let mut splits = splits(name, decls);
        return match splits.len() {
            0 => NameRole::Value,
            1 => NameRole::Juxtaposition(splits.remove(0)),
            _ => NameRole::Ambiguous(splits),
        };
    }
    NameRole::Value
}

/// The names of the Greek letters, read as one name each (`lambda`, `Sigma`)
/// and written as the letter in LaTeX.
pub const GREEK: [&str; 35] = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "zeta",
    "eta",
    "theta",
    "iota",
    "kappa",
    "lambda",
    "mu",
    "nu",
    "xi",
    "pi",
    "rho",
    "sigma",
    "tau",
    "upsilon",
    "phi",
    "chi",
    "psi",
    "omega",
    "Gamma",
    "Delta",
    "Theta",
    "Lambda",
    "Xi",
    "Pi",
    "Sigma",
    "Upsilon",
    "Phi",
    "Psi",
    "Omega",
    "varepsilon",
];

/// True when `piece` may be a factor of a juxtaposition: a declared value,
/// or a single letter that names no function.
fn is_piece(piece: &str, decls: &Decls) -> bool {
    if piece.len() == 1 {
        !is_function_name(piece, decls) && decls.get(piece).map_or(true, |_| decls.is_value(piece))
    } else {
        decls.is_value(piece)
    }
}

/// The splits of `word` into the fewest pieces ([`is_piece`]); at most two
/// of them, which is enough to tell one from many.
fn splits(word: &str, decls: &Decls) -> Vec<Vec<String>> {
    let n = word.len();
    let declared: Vec<&str> = decls
        .iter()
        .map(|d| d.name.as_str())
        .filter(|d| d.len() >= 2 && decls.is_value(d) && word.contains(*d))
        .collect();
    // The lengths of the pieces that start at each byte.
    let starts: Vec<Vec<usize>> = (0..n)
        .map(|at| {
            let mut lengths: Vec<usize> = declared
                .iter()
                .filter(|d| word[at..].starts_with(**d))
                .map(|d| d.len())
                .collect();
            if is_piece(&word[at..=at], decls) {
                lengths.push(1);
            }
            lengths.sort_unstable();
            lengths.dedup();
            lengths
        })
        .collect();
    // fewest[at]: the fewest pieces the rest of the word from `at` splits into.
    let mut fewest = vec![None; n + 1];
    fewest[n] = Some(0usize);
    for at in (0..n).rev() {
        fewest[at] = starts[at]
            .iter()
            .filter_map(|len| fewest[at + len].map(|f| f + 1))
            .min();
    }
    let mut found = Vec::new();
    if fewest[0].is_some() {
        collect_splits(word, &starts, &fewest, 0, &mut Vec::new(), &mut found);
    }
    found
}

/// Depth-first over the splits of fewest pieces, stopping at two.
fn collect_splits(
    word: &str,
    starts: &[Vec<usize>],
    fewest: &[Option<usize>],
    at: usize,
    pieces: &mut Vec<String>,
    found: &mut Vec<Vec<String>>,
) {
    if at == word.len() {
        found.push(pieces.clone());
        return;
    }
    for len in &starts[at] {
        if found.len() == 2 {
            return;
        }
        if fewest[at + len].map(|f| f + 1) == fewest[at] {
            pieces.push(word[at..at + len].to_string());
            collect_splits(word, starts, fewest, at + len, pieces, found);
            pieces.pop();
        }
    }
}

/// True when `name(…)` is a product: `name` is a declared value, a capital
/// letter that is not declared as anything else, or a juxtaposition.
pub fn may_juxtapose(name: &str, decls: &Decls) -> bool {
    decls.is_value(name)
        || (decls.get(name).is_none() && name.chars().all(|c| c.is_ascii_uppercase()))
        || matches!(classify(name, decls), NameRole::Juxtaposition(_))
}

/// What to write instead of a function name that other languages and
/// libraries use but matcalc spells differently or does not have.
const OTHER_LANGUAGES: [(&str, &str); 15] = [
    (
        "norm",
        "matcalc has `norm2(x)` (the Euclidean norm) and `norm1(x)`",
    ),
    ("trace", "the trace is `tr(X)`"),
    ("Tr", "the trace is `tr(X)`"),
    ("transpose", "transpose with a postfix `'`: `X'`"),
    ("t", "transpose with a postfix `'`: `X'`"),
    ("inverse", "the inverse is `inv(X)`"),
    ("determinant", "the determinant is `det(X)`"),
    ("ln", "the natural logarithm is `log(x)`"),
    ("dot", "write the inner product as a product: `x'*y`"),
    ("outer", "write the outer product as a product: `x*y'`"),
    ("logistic", "the logistic function is `sigmoid(x)`"),
    ("square", "square element-wise with `x.^2`"),
    (
        "pow",
        "write powers with `^` (scalars) or `.^` (element-wise): `x.^3`",
    ),
    (
        "power",
        "write powers with `^` (scalars) or `.^` (element-wise): `x.^3`",
    ),
    ("diagonal", "the diagonal is `diag(X)`"),
];

/// What to write instead of `name`, when other languages call a function
/// that way (`trace` → `tr`, `mean` → a sum over the length).
pub fn other_language(name: &str) -> Option<&'static str> {
    OTHER_LANGUAGES
        .iter()
        .find(|(other, _)| *other == name)
        .map(|(_, advice)| *advice)
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
