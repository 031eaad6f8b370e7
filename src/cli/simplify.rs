//! `matcalc simplify EXPR`: the canonical form of any matrix expression.

use matcalc::derive::simplify;
use matcalc::simplify::{Assumptions, Used};
use matcalc::syntax::{to_expr_string, to_latex, to_unicode, Decls, Formula};

use super::derive::domains;
use super::error::CliError;
use super::input;
use super::output::{json_text, Report};
use super::Run;

const EXAMPLES: &str = "\
Examples:
  matcalc simplify \"(A*B)' + B'*A'\"       2·Bᵀ·Aᵀ
  matcalc simplify \"x'*y + y'*x\"          2·yᵀ·x
  matcalc simplify '2*(A - B) - A'        A − 2·B
  matcalc simplify 'S - S'\'' --domain 'S: symmetric'   0 (using: S is symmetric)";

/// Arguments of `matcalc simplify`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct SimplifyArgs {
    /// The expression; it may begin with '-'. A lone '-' reads standard input.
    #[arg(value_name = "EXPR", allow_hyphen_values = true)]
    expr: String,
    /// The variables' domains, e.g. 'S: symmetric, y: pm1': facts the
    /// simplifier may use; the output says which it used.
    #[arg(long = "domain", value_name = "DOMAINS")]
    domain: Option<String>,
}

impl Run for SimplifyArgs {
    fn run(&self, decls: &Decls) -> Result<Box<dyn Report>, CliError> {
        let source = input::expression(&self.expr)?;
        let facts = Assumptions::from_domains(&domains(self.domain.as_deref())?);
        let (typed, result, used) =
            simplify(&source, decls, &facts).map_err(|e| CliError::derive(&e, &source))?;
        Ok(Box::new(Simplified {
            result,
            assumptions: typed.assumptions(),
            used,
        }))
    }
}

struct Simplified {
    result: Formula,
    assumptions: String,
    used: Vec<Used>,
}

impl Report for Simplified {
    fn text(&self) -> String {
        let mut out = to_unicode(&self.result);
        if !self.assumptions.is_empty() {
            out.push_str(&format!("\n  {}", self.assumptions));
        }
        if !self.used.is_empty() {
            out.push_str(&format!("\n  using: {}", self.using().join("; ")));
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
            "using": self.using(),
        })
    }

    /// The assumptions used, in words.
    fn using(&self) -> Vec<String> {
        self.used.iter().map(|u| u.to_string()).collect()
    }
}
