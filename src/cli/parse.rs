//! `matcalc parse EXPR`: parses an expression and shows it with the shape of
//! every subexpression.

use matcalc::syntax::{parse_formula, Decls};

use super::error::CliError;
use super::input;
use super::output::Report;
use super::Run;

const EXAMPLES: &str = "\
Examples:
  matcalc parse 'L(X*W + B)'
  matcalc parse \"-inv(X)'\"          (or: matcalc parse -- \"-inv(X)'\")
  matcalc parse \"X*W + b'\" --let 'X: n x k, W: k x m'
  echo \"x'*A*x\" | matcalc parse - --format json";

/// Arguments of `matcalc parse`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct ParseArgs {
    /// The expression, e.g. 'L(X*W + B)'; it may begin with '-'. A lone '-'
    /// reads it from standard input.
    #[arg(value_name = "EXPR", allow_hyphen_values = true)]
    expr: String,
}

impl Run for ParseArgs {
    fn run(&self, decls: &Decls) -> Result<Box<dyn Report>, CliError> {
        let source = input::expression(&self.expr)?;
        parse_formula(&source, decls).map_err(|err| CliError::parse(&err, &source))?;
        Ok(Box::new(Parsed { source }))
    }
}

/// The parsed expression, ready to be shown.
struct Parsed {
    source: String,
}

impl Report for Parsed {
    fn text(&self) -> String {
        self.source.clone()
    }

    fn expr(&self) -> String {
        self.source.clone()
    }

    fn latex(&self) -> String {
        self.source.clone()
    }

    fn markdown(&self) -> String {
        self.source.clone()
    }

    fn json(&self) -> serde_json::Value {
        serde_json::json!({ "expr": self.source })
    }
}
