//! Value literals such as `X=[[1,2],[3,4]]; w=[1,2]; s=3`, parsed with nom:
//! a `;`-separated list of `NAME=VALUE`, where VALUE is a number (a scalar),
//! `[a, b, …]` (a column vector) or `[[…], […], …]` (a matrix, row by row).
//!
//! Invariant: the values come out in the evaluator's convention (scalars
//! 1×1, vectors n×1); errors carry the byte span in the literal text.

use std::collections::BTreeMap;

use ndarray::Array2;
use nom::{
    branch::alt,
    bytes::complete::take_while1,
    character::complete::{char, multispace0},
    combinator::{all_consuming, map},
    multi::separated_list1,
    number::complete::double,
    sequence::{delimited, separated_pair},
    IResult,
};

use super::error::EvalError;
use crate::syntax::Span;

/// A parsed value before it is checked for raggedness.
enum Literal<'a> {
    Number(f64),
    Vector(Vec<f64>),
    Rows(Vec<(&'a str, Vec<f64>)>),
}

fn ws<'a, O>(
    inner: impl FnMut(&'a str) -> IResult<&'a str, O>,
) -> impl FnMut(&'a str) -> IResult<&'a str, O> {
    delimited(multispace0, inner, multispace0)
}

fn numbers(input: &str) -> IResult<&str, Vec<f64>> {
    delimited(char('['), separated_list1(char(','), ws(double)), char(']'))(input)
}

fn row(input: &str) -> IResult<&str, (&str, Vec<f64>)> {
    let (rest, values) = ws(numbers)(input)?;
    Ok((rest, (input, values)))
}

fn literal(input: &str) -> IResult<&str, Literal<'_>> {
    ws(alt((
        map(
            delimited(char('['), separated_list1(char(','), row), char(']')),
            Literal::Rows,
        ),
        map(numbers, Literal::Vector),
        map(double, Literal::Number),
    )))(input)
}

fn name(input: &str) -> IResult<&str, &str> {
    ws(take_while1(|c: char| c.is_ascii_alphanumeric() || c == '_'))(input)
}

/// Parses named values: `X=[[1,2],[3,4]]; w=[1,2]; s=3`. Vectors are
/// columns; every row of a matrix must have the same length.
///
/// ```
/// use matcalc::numeric::parse_values;
/// let v = parse_values("X=[[1,2],[3,4]]; w=[1,2]; s=3").unwrap();
/// assert_eq!(v["X"].dim(), (2, 2));
/// assert_eq!(v["w"].dim(), (2, 1));
/// assert_eq!(v["s"][[0, 0]], 3.0);
/// ```
pub fn parse_values(text: &str) -> Result<BTreeMap<String, Array2<f64>>, EvalError> {
    let entry = separated_pair(name, char('='), literal);
    let list = separated_list1(char(';'), entry);
    let parsed = all_consuming(delimited(
        multispace0,
        list,
        ws(nom::combinator::opt(char(';'))),
    ))(text);
    let pairs = match parsed {
        Ok((_, pairs)) => pairs,
        Err(err) => {
            let rest = match &err {
                nom::Err::Error(e) | nom::Err::Failure(e) => e.input,
                nom::Err::Incomplete(_) => "",
            };
            let at = text.len() - rest.len();
            return Err(EvalError::Syntax {
                message: "values look like 'X=[[1,2],[3,4]]; w=[1,2]; s=3'".to_string(),
                span: Span::new(at, (at + 1).min(text.len())),
            });
        }
    };
    let mut out = BTreeMap::new();
    for (name, value) in pairs {
        let array = match value {
            Literal::Number(x) => Array2::from_elem((1, 1), x),
            Literal::Vector(v) => {
                Array2::from_shape_vec((v.len(), 1), v).map_err(|_| EvalError::Syntax {
                    message: format!("`{name}` is not a vector"),
                    span: Span::NONE,
                })?
            }
            Literal::Rows(rows) => matrix(text, rows)?,
        };
        out.insert(name.to_string(), array);
    }
    Ok(out)
}

fn matrix(text: &str, rows: Vec<(&str, Vec<f64>)>) -> Result<Array2<f64>, EvalError> {
    let width = rows.first().map_or(0, |r| r.1.len());
    if let Some((at, bad)) = rows.iter().find(|r| r.1.len() != width) {
        let start = text.len() - at.len();
        let start = start + (at.len() - at.trim_start().len());
        return Err(EvalError::Syntax {
            message: format!(
                "every row of a matrix must have {width} entries, but this one has {}",
                bad.len()
            ),
            span: Span::new(start, start + 1),
        });
    }
    let height = rows.len();
    let entries: Vec<f64> = rows.into_iter().flat_map(|r| r.1).collect();
    Array2::from_shape_vec((height, width), entries).map_err(|_| EvalError::Syntax {
        message: "a matrix literal is malformed".to_string(),
        span: Span::NONE,
    })
}
