//! `matcalc simplify EXPR`: the canonical form of any matrix expression.

use matcalc::derive::simplify;
use matcalc::syntax::{to_expr_string, to_latex, to_unicode, Decls, Formula};

use super::error::CliError;
use super::input;
use super::output::{json_text, Report};
use super::Run;

const EXAMPLES: &str = "\
Examples:
  matcalc simplify \"(A*B)' + B'*A'\"       2·Bᵀ·Aᵀ
  matcalc simplify \"x'*y + y'*x\"          2·yᵀ·x
  matcalc simplify '2*(A - B) - A'        A − 2·B";

/// Arguments of `matcalc simplify`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct SimplifyArgs {
    /// The expression; it may begin with '-'. A lone '-' reads standard input.
    #[arg(value_name = "EXPR", allow_hyphen_values = true)]
    expr: String,
}

impl Run for SimplifyArgs {
    fn run(&self, decls: &Decls) -> Result<Box<dyn Report>, CliError> {
        let source = input::expression(&self.expr)?;
        let (typed, result) =
            simplify(&source, decls).map_err(|e| CliError::derive(&e, &source))?;
        Ok(Box::new(Simplified {
            result,
            assumptions: typed.assumptions(),
        }))
    }
}

struct Simplified {
    result: Formula,
    assumptions: String,
}

impl Report for Simplified {
    fn text(&self) -> String {
        let mut out = to_unicode(&self.result);
        if !self.assumptions.is_empty() {
            out.push_str(&format!("\n  {}", self.assumptions));
        }
        out
    }
    fn expr(&self) -> String {
        to_expr_string(&self.result)
    }
    fn latex(&self) -> String {
        to_latex(&self.result)
    }
    fn markdown(&self) -> String {
        format!(
            "`{}`\n\n$$ {} $$",
            to_expr_string(&self.result),
            to_latex(&self.result)
        )
    }
    fn json(&self) -> String {
        json_text(&self.json_value())
    }
}

impl Simplified {
    fn json_value(&self) -> serde_json::Value {
        serde_json::json!({
            "result": to_expr_string(&self.result),
            "unicode": to_unicode(&self.result),
            "latex": to_latex(&self.result),
            "assumed": self.assumptions,
        })
    }
}
