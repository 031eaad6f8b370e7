//! The `syntax` layer: the matrix language as text.
//!
//! The pest grammar (`grammar/matcalc.pest`), the AST with byte spans,
//! declarations (`--let`, parsed with nom), name resolution, printers and
//! diagnostics. Invariant: this layer imports no other layer of matcalc.

mod ast;
mod decls;
mod diagnostic;
mod invisible;
mod names;
mod parser;
mod print;
mod scripts;
mod sharing;
mod sugar;
mod warnings;

pub use ast::{
    Axis, BinOp, ConstKind, DimSpec, Expr, ExprKind, FillKind, Formula, Func, IndexLhs, Span,
};
pub use decls::{parse_decls, Decl, DeclError, DeclKind, Decls};
pub use diagnostic::{Diagnostic, Label};
pub use names::{classify, NameRole, LOSS};
pub use parser::{parse_expr, parse_formula, ParseError, MAX_DEPTH, MAX_NESTING, MAX_TENSOR_ORDER};
pub use print::{
    expr_to_latex, expr_to_string, expr_to_unicode, to_expr_string, to_latex, to_unicode,
};
pub use sharing::name_repeated;
pub use sugar::{dimension_value, integer_exponent, matrix_power, MAX_MATRIX_POWER};
pub use warnings::{defaults_to_scalar, warnings, Warning};
