//! Shape declarations such as `X: n x k, W: 4x3, s: scalar, f: function`,
//! parsed with nom.
//!
//! Grammar: comma-separated `NAME: DIMS`, where DIMS is `scalar`,
//! `function`, `D` (a column vector) or `D x D` (a matrix; spaces around the
//! `x` are optional), a square matrix optionally followed by `symmetric`
//! (`S: n x n symmetric`), and a dimension D is a positive integer or a
//! lowercase identifier.

use nom::{
    branch::alt,
    bytes::complete::tag,
    character::complete::{alpha1, alphanumeric1, char, digit1, multispace0, multispace1, satisfy},
    combinator::{all_consuming, map, map_res, opt, recognize},
    multi::{many0_count, separated_list1},
    sequence::{delimited, pair, preceded, separated_pair, tuple},
    IResult,
};

use super::ast::{DimSpec, Span};
use super::diagnostic::Diagnostic;

/// What a declared name stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeclKind {
    /// A value: no dims for a scalar, one for a column vector, two for a
    /// matrix.
    Value(Vec<DimSpec>),
    /// An abstract scalar function such as `f`; its gradient is `df`.
    Function,
}

/// One declaration `NAME: DIMS`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decl {
    /// The declared name.
    pub name: String,
    /// What it is.
    pub kind: DeclKind,
    /// A square matrix declared `symmetric`: its values are symmetric and
    /// it moves only symmetrically, so a derivative by it follows the
    /// convention of symmetric variables (`sym(G)`, see the README).
    pub symmetric: bool,
}

impl Decl {
    /// A value of the given dims, without structure.
    pub fn value(name: &str, dims: Vec<DimSpec>) -> Decl {
        Decl {
            name: name.to_string(),
            kind: DeclKind::Value(dims),
            symmetric: false,
        }
    }
}

/// All declarations in force, later ones overriding earlier ones.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Decls {
    list: Vec<Decl>,
}

impl Decls {
    /// No declarations.
    pub fn new() -> Decls {
        Decls::default()
    }

    /// Parses one `--let` string and adds its declarations.
    ///
    /// ```
    /// use matcalc::syntax::{Decls, DeclKind, DimSpec};
    /// let mut decls = Decls::new();
    /// decls.extend_from_str("X: n x k, b: 3, s: scalar, f: function").unwrap();
    /// assert_eq!(decls.get("b"), Some(&DeclKind::Value(vec![DimSpec::Fixed(3)])));
    /// assert_eq!(decls.get("f"), Some(&DeclKind::Function));
    /// ```
    pub fn extend_from_str(&mut self, text: &str) -> Result<(), DeclError> {
        let parsed = parse_decls(text)?;
        for decl in parsed {
            self.insert(decl);
        }
        Ok(())
    }

    /// Adds (or replaces) one declaration.
    pub fn insert(&mut self, decl: Decl) {
        self.list.retain(|d| d.name != decl.name);
        self.list.push(decl);
    }

    /// What `name` was declared as.
    pub fn get(&self, name: &str) -> Option<&DeclKind> {
        self.list.iter().find(|d| d.name == name).map(|d| &d.kind)
    }

    /// True when `name` is declared as a function.
    pub fn is_function(&self, name: &str) -> bool {
        matches!(self.get(name), Some(DeclKind::Function))
    }

    /// True when `name` is declared a symmetric matrix.
    pub fn is_symmetric(&self, name: &str) -> bool {
        self.list.iter().any(|d| d.name == name && d.symmetric)
    }

    /// True when `name` is declared as a value (scalar, vector or matrix).
    pub fn is_value(&self, name: &str) -> bool {
        matches!(self.get(name), Some(DeclKind::Value(_)))
    }

    /// True when `name` is not declared itself but is a dimension symbol of
    /// a declared value (`n` in `x: n`): a size, usable as a number.
    pub fn is_dimension(&self, name: &str) -> bool {
        self.get(name).is_none()
            && self.list.iter().any(|d| match &d.kind {
                DeclKind::Value(dims) => dims
                    .iter()
                    .any(|s| matches!(s, DimSpec::Named(n) if n == name)),
                DeclKind::Function => false,
            })
    }

    /// The declarations in the order given.
    pub fn iter(&self) -> impl Iterator<Item = &Decl> {
        self.list.iter()
    }
}

/// A malformed declaration string.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid declaration: {message}")]
pub struct DeclError {
    /// What is wrong.
    pub message: String,
    /// Where, in the declaration string.
    pub span: Span,
    /// The declaration string itself.
    pub source_text: String,
}

impl DeclError {
    /// The error as a diagnostic over the declaration string.
    pub fn diagnostic(&self) -> Diagnostic {
        Diagnostic::new(format!("invalid declaration: {}", self.message))
            .with_label(self.span, "here")
            .with_help(
                "declarations look like 'X: n x k, W: 4x3, b: m, s: scalar, f: function, \
                 S: n x n symmetric'",
            )
    }
}

fn identifier(input: &str) -> IResult<&str, &str> {
    recognize(pair(
        alt((alpha1, tag("_"))),
        many0_count(alt((alphanumeric1, tag("_")))),
    ))(input)
}

fn dim(input: &str) -> IResult<&str, DimSpec> {
    alt((
        map_res(digit1, |s: &str| match s.parse::<usize>() {
            Ok(0) | Err(_) => Err("dimension must be a positive integer"),
            Ok(n) => Ok(DimSpec::Fixed(n)),
        }),
        map(
            recognize(pair(
                satisfy(|c| c.is_ascii_lowercase()),
                many0_count(satisfy(|c| c.is_ascii_alphanumeric() || c == '_')),
            )),
            |s: &str| DimSpec::Named(s.to_string()),
        ),
    ))(input)
}

/// `D x D`, where `x` may touch the dimensions (`4x3`) or not (`n x k`).
fn matrix_dims(input: &str) -> IResult<&str, DeclKind> {
    map(
        separated_pair(
            dim_before_x,
            delimited(multispace0, char('x'), multispace0),
            dim,
        ),
        |(a, b)| DeclKind::Value(vec![a, b]),
    )(input)
}

/// A dimension that stops before an `x` separator: `nx` in `nxk` is read as
/// `n` followed by `x`, so symbolic names written without spaces work too.
fn dim_before_x(input: &str) -> IResult<&str, DimSpec> {
    let (rest, d) = dim(input)?;
    if let DimSpec::Named(name) = &d {
        if let Some(pos) = name.find('x').filter(|&p| p > 0) {
            let cut = &input[..pos];
            let rest = &input[pos..];
            return Ok((rest, DimSpec::Named(cut.to_string())));
        }
    }
    Ok((rest, d))
}

fn dims(input: &str) -> IResult<&str, DeclKind> {
    alt((
        map(tag("scalar"), |_| DeclKind::Value(Vec::new())),
        map(tag("function"), |_| DeclKind::Function),
        matrix_dims,
        map(dim, |d| DeclKind::Value(vec![d])),
    ))(input)
}

/// The structure word after a matrix's dims.
fn symmetric(input: &str) -> IResult<&str, bool> {
    map(opt(preceded(multispace1, tag("symmetric"))), |s| {
        s.is_some()
    })(input)
}

fn decl(input: &str) -> IResult<&str, Decl> {
    map(
        tuple((
            preceded(multispace0, identifier),
            preceded(multispace0, char(':')),
            preceded(multispace0, dims),
            symmetric,
        )),
        |(name, _, kind, symmetric)| Decl {
            name: name.to_string(),
            kind,
            symmetric,
        },
    )(input)
}

/// The first declaration that says `symmetric` of something that is not a
/// square matrix, with where it is.
fn misdeclared_symmetric(text: &str, decls: &[Decl]) -> Option<DeclError> {
    let d = decls.iter().find(|d| {
        d.symmetric
            && !matches!(&d.kind, DeclKind::Value(dims) if dims.len() == 2 && dims[0] == dims[1])
    })?;
    let at = text
        .find(&format!("{}:", d.name))
        .or_else(|| text.find(&d.name))?;
    let word = text[at..].find("symmetric").map_or(at, |w| at + w);
    Some(DeclError {
        message: format!(
            "only a square matrix can be symmetric; `{}` is not declared `n x n`",
            d.name
        ),
        span: Span::new(word, word + "symmetric".len()),
        source_text: text.to_string(),
    })
}

/// Parses a whole declaration string into its declarations.
pub fn parse_decls(text: &str) -> Result<Vec<Decl>, DeclError> {
    if let Some((at, c, description)) = super::invisible::find(text) {
        return Err(DeclError {
            message: format!("invisible character {description}"),
            span: Span::new(at, at + c.len_utf8()),
            source_text: text.to_string(),
        });
    }
    let list = separated_list1(preceded(multispace0, char(',')), decl);
    match all_consuming(delimited(multispace0, list, multispace0))(text) {
        Ok((_, decls)) => match misdeclared_symmetric(text, &decls) {
            Some(err) => Err(err),
            None => Ok(decls),
        },
        Err(err) => {
            let rest = match &err {
                nom::Err::Error(e) | nom::Err::Failure(e) => e.input,
                nom::Err::Incomplete(_) => "",
            };
            let start = text.len() - rest.len();
            let end = (start + rest.chars().next().map_or(0, char::len_utf8)).max(start);
            Err(DeclError {
                message: describe_decl_error(text, start),
                span: Span::new(start, end),
                source_text: text.to_string(),
            })
        }
    }
}

fn describe_decl_error(text: &str, at: usize) -> String {
    let rest = text[at..].trim_start();
    if rest.is_empty() {
        "the declaration ends too early".to_string()
    } else if rest.starts_with('0') {
        "a dimension must be a positive integer or a lowercase name".to_string()
    } else {
        format!(
            "unexpected `{}`",
            rest.chars()
                .take_while(|c| !c.is_whitespace())
                .collect::<String>()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(dims: &[&str]) -> DeclKind {
        DeclKind::Value(
            dims.iter()
                .map(|d| match d.parse() {
                    Ok(n) => DimSpec::Fixed(n),
                    Err(_) => DimSpec::Named(d.to_string()),
                })
                .collect(),
        )
    }

    #[test]
    fn parses_every_form() {
        let decls = parse_decls("X: n x k, W: 4x3, b: m, s: scalar, f: function, Y:nxk").unwrap();
        let kinds: Vec<_> = decls
            .iter()
            .map(|d| (d.name.as_str(), d.kind.clone()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("X", value(&["n", "k"])),
                ("W", value(&["4", "3"])),
                ("b", value(&["m"])),
                ("s", value(&[])),
                ("f", DeclKind::Function),
                ("Y", value(&["n", "k"])),
            ]
        );
    }

    #[test]
    fn rejects_zero_and_garbage_with_a_position() {
        let err = parse_decls("X: 0x3").unwrap_err();
        assert!(err.message.contains("positive"), "{}", err.message);
        let err = parse_decls("X: 3x3, ?").unwrap_err();
        assert_eq!(err.span.start, 6);
        assert!(parse_decls("").is_err());
    }

    #[test]
    fn a_square_matrix_may_be_declared_symmetric() {
        let decls = parse_decls("S: n x n symmetric, T: 3x3, U:2x2 symmetric").unwrap();
        let symmetric: Vec<bool> = decls.iter().map(|d| d.symmetric).collect();
        assert_eq!(symmetric, vec![true, false, true]);
        assert_eq!(decls[0].kind, value(&["n", "n"]));
        let err = parse_decls("x: n, S: n x k symmetric").unwrap_err();
        assert!(err.message.contains("square"), "{}", err.message);
        assert_eq!(err.span, Span::new(15, 24));
        assert!(parse_decls("s: scalar symmetric").is_err());
    }

    #[test]
    fn later_declarations_override() {
        let mut decls = Decls::new();
        decls.extend_from_str("x: 3").unwrap();
        decls.extend_from_str("x: scalar").unwrap();
        assert_eq!(decls.get("x"), Some(&value(&[])));
    }

    #[test]
    fn invisible_characters_are_named() {
        let err = parse_decls("X: 3x3,\u{a0}b: 3").unwrap_err();
        assert_eq!(err.message, "invisible character U+00A0 NO-BREAK SPACE");
        assert_eq!(err.span, Span::new(7, 9));
    }
}
