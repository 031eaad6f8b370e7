//! The one error type of the CLI: what went wrong (a [`Diagnostic`]), which
//! kind of error it is, and the text its spans point into.
//!
//! Every layer's error enum is turned into a [`CliError`] here, so that
//! `output` can render any of them in every format and `exit` can map them to
//! an exit code. Nothing here prints.

use serde::Serialize;

use matcalc::derive::DeriveError;
use matcalc::numeric::EvalError;
use matcalc::shape::ShapeError;
use matcalc::syntax::{DeclError, Diagnostic, ParseError};

use super::exit::Exit;

/// The kind of an error, as named in the JSON error schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// The text does not follow the grammar (including empty text and
    /// unbalanced brackets).
    Syntax,
    /// A call of a name that is neither built in nor declared.
    UnknownName,
    /// Operand shapes that do not fit.
    Shape,
    /// The input or the result goes over one of matcalc's limits (nesting,
    /// depth, tensor order, written size, term and step budgets, numeric
    /// size and work).
    Limit,
    /// The derivation needs something matcalc does not support.
    Unsupported,
    /// A value could not be evaluated (a singular matrix, a bad literal), or
    /// the expression is undefined everywhere (`log(x - x)`).
    Evaluation,
    /// A `--let` declaration is malformed.
    Declaration,
    /// Standard input could not be read, is not UTF-8 or is too large.
    Input,
    /// The command line is wrong.
    Usage,
    /// matcalc itself failed.
    Internal,
}

impl ErrorKind {
    /// The exit code for an error of this kind.
    pub fn exit(self) -> Exit {
        match self {
            ErrorKind::Usage => Exit::Usage,
            ErrorKind::Internal => Exit::Internal,
            _ => Exit::UserError,
        }
    }
}

/// An error ready to be rendered: its kind, the report, and the source text
/// that the report's spans refer to.
#[derive(Clone, Debug)]
pub struct CliError {
    /// The kind of error.
    pub kind: ErrorKind,
    /// What is wrong, where, and what might help.
    pub diagnostic: Diagnostic,
    /// The text the spans point into (the expression, or a `--let` string).
    pub source: String,
}

impl CliError {
    /// An error about `source`.
    pub fn new(kind: ErrorKind, diagnostic: Diagnostic, source: impl Into<String>) -> CliError {
        CliError {
            kind,
            diagnostic,
            source: source.into(),
        }
    }

    /// An error that points at no text.
    pub fn plain(kind: ErrorKind, diagnostic: Diagnostic) -> CliError {
        CliError::new(kind, diagnostic, String::new())
    }

    /// A parse error in the expression `source`.
    pub fn parse(err: &ParseError, source: &str) -> CliError {
        let kind = match err {
            ParseError::UnknownFunction { .. } => ErrorKind::UnknownName,
            ParseError::TooDeeplyNested { .. }
            | ParseError::TooDeep { .. }
            | ParseError::TooManyIndices { .. } => ErrorKind::Limit,
            _ => ErrorKind::Syntax,
        };
        CliError::new(kind, err.diagnostic(), source)
    }

    /// A failed derivation of `source`.
    pub fn derive(err: &DeriveError, source: &str) -> CliError {
        match err {
            DeriveError::Parse(e) => CliError::parse(e, source),
            DeriveError::Shape(e) => CliError::shape(e, source),
            DeriveError::Request { .. } => {
                CliError::new(ErrorKind::Usage, err.diagnostic(), source)
            }
            DeriveError::Unsupported(_)
            | DeriveError::UndefinedStep(_)
            | DeriveError::IndexForm { .. } => {
                CliError::new(ErrorKind::Unsupported, err.diagnostic(), source)
            }
            DeriveError::Limit(_) => CliError::new(ErrorKind::Limit, err.diagnostic(), source),
            DeriveError::Undefined(_) => {
                CliError::new(ErrorKind::Evaluation, err.diagnostic(), source)
            }
        }
    }

    /// A failed evaluation; `source` is the text its spans point into.
    pub fn eval(err: &EvalError, source: &str) -> CliError {
        let kind = if err.is_limit() {
            ErrorKind::Limit
        } else {
            ErrorKind::Evaluation
        };
        CliError::new(kind, err.diagnostic(), source)
    }

    /// A shape error in the expression `source`.
    pub fn shape(err: &ShapeError, source: &str) -> CliError {
        CliError::new(ErrorKind::Shape, err.diagnostic(), source)
    }

    /// A malformed `--let` declaration.
    pub fn declaration(err: &DeclError) -> CliError {
        CliError::new(
            ErrorKind::Declaration,
            err.diagnostic(),
            err.source_text.as_str(),
        )
    }

    /// The error rendered for a terminal, with a caret under the offending
    /// text.
    pub fn render(&self) -> String {
        self.diagnostic.render(&self.source)
    }

    /// The exit code for this error.
    pub fn exit(&self) -> Exit {
        self.kind.exit()
    }
}
