//! `matcalc equal A B`: whether two matrix expressions are equal, and how
//! that was decided (canonical form, exact entries at concrete sizes, or
//! random points), with a witness point when they differ (exit 3).

use std::collections::BTreeMap;

use ndarray::Array2;

use matcalc::cas::{self, CasError, Equality, Expression, Tried, Witness};
use matcalc::simplify::Used;
use matcalc::syntax::{Decls, Diagnostic};

use super::derive::domains;
use super::error::{CliError, ErrorKind};
use super::exit::Exit;
use super::input;
use super::output::{json_text, Report};
use super::Run;

const EXAMPLES: &str = "\
Examples:
  matcalc equal 'tr(A*B)' 'tr(B*A)'                 equal
  matcalc equal \"x'*A*x\" \"x'*A'*x\"                  equal
  matcalc equal 'sigmoid(-x)' '1 - sigmoid(x)'      equal
  matcalc equal 'det(A*B)' 'det(A)*det(B)' --let 'A: n x n, B: n x n'
  matcalc equal 'inv(A)*A' 'eye(n)' --let 'A: n x n'
  matcalc equal 'tr(A*B)' 'tr(A)*tr(B)'             differs (exit 3), with a point

How it decides, strongest first: the canonical form of A − B is 0 (equal for
every size); else every entry is compared exactly, as rational functions of
the variables' entries, at small concrete sizes ('equal at the sizes tried,
not proven'); where the exact normal form cannot decide, at random points of
the domains. 'differs' always comes with a point that shows it.";

/// Arguments of `matcalc equal`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct EqualArgs {
    /// The left side; a lone '-' reads standard input.
    #[arg(value_name = "A", allow_hyphen_values = true)]
    left: String,
    /// The right side.
    #[arg(value_name = "B", allow_hyphen_values = true)]
    right: String,
    /// The variables' domains, e.g. 'S: symmetric, y: pm1': facts the
    /// canonical form may use, and where the points are drawn.
    #[arg(long = "domain", value_name = "DOMAINS")]
    domain: Option<String>,
}

impl Run for EqualArgs {
    fn run(&self, decls: &Decls) -> Result<Box<dyn Report>, CliError> {
        let left = side(&input::expression(&self.left)?, decls)?;
        let right = side(&input::expression(&self.right)?, decls)?;
        let domains = domains(self.domain.as_deref())?;
        let verdict = cas::equal(&left, &right, &domains).map_err(|e| error(&e))?;
        Ok(Box::new(Compared { verdict }))
    }
}

/// One side, parsed and shape-checked.
fn side(text: &str, decls: &Decls) -> Result<Expression, CliError> {
    Expression::parse(text, decls).map_err(|e| error(&e))
}

fn error(e: &CasError) -> CliError {
    match e {
        CasError::Input { error, text } => CliError::derive(error, text),
        CasError::Undefined(err) => CliError::eval(err, ""),
        other => CliError::plain(ErrorKind::Shape, Diagnostic::new(other.to_string())),
    }
}

struct Compared {
    verdict: Equality,
}

impl Compared {
    /// The verdict in one word or phrase.
    fn word(&self) -> &'static str {
        match &self.verdict {
            Equality::Proven { .. } => "equal",
            Equality::AtSizesTried { .. } => "equal at the sizes tried, not proven",
            Equality::Differs(_) => "differs",
        }
    }

    /// The lines that say how it was decided.
    fn details(&self) -> Vec<String> {
        match &self.verdict {
            Equality::Proven { used } => {
                let mut lines = vec!["the canonical form of left − right is 0".to_string()];
                if !used.is_empty() {
                    lines.push(format!("using: {}", using(used).join("; ")));
                }
                lines
            }
            Equality::AtSizesTried { sizes, how } => {
                let at = sizes.iter().map(sizes_text).collect::<Vec<_>>().join("; ");
                match how {
                    Tried::Exact => vec![format!("every entry agrees exactly at {at}")],
                    Tried::Numeric { points, reason } => vec![
                        format!("the values agree at {points} random points at {at}"),
                        format!("not decided exactly: {reason}"),
                    ],
                }
            }
            Equality::Differs(w) => witness_lines(w),
        }
    }
}

fn using(used: &[Used]) -> Vec<String> {
    used.iter().map(ToString::to_string).collect()
}

fn sizes_text(sizes: &BTreeMap<String, usize>) -> String {
    if sizes.is_empty() {
        return "the sizes given".to_string();
    }
    sizes
        .iter()
        .map(|(n, v)| format!("{n} = {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn matrix_text(m: &Array2<f64>) -> String {
    let row = |r: ndarray::ArrayView1<f64>| {
        let entries: Vec<String> = r.iter().map(|v| format!("{v:.6}")).collect();
        entries.join(", ")
    };
    match m.dim() {
        (1, 1) => format!("{:.6}", m[[0, 0]]),
        (_, 1) => format!("[{}]", row(m.column(0))),
        _ => {
            let rows: Vec<String> = m
                .rows()
                .into_iter()
                .map(|r| format!("[{}]", row(r)))
                .collect();
            format!("[{}]", rows.join(", "))
        }
    }
}

fn witness_lines(w: &Witness) -> Vec<String> {
    let mut lines = Vec::new();
    if !w.values.is_empty() {
        lines.push(format!("at {}:", sizes_text(&w.sizes)));
        for (name, value) in &w.values {
            lines.push(format!("  {name} = {}", matrix_text(value)));
        }
        lines.push(format!("left = {}", matrix_text(&w.left)));
        lines.push(format!("right = {}", matrix_text(&w.right)));
    }
    if let Some((entry, a, b)) = &w.exact {
        let shown: Vec<String> = entry.iter().map(ToString::to_string).collect();
        lines.push(format!(
            "exactly, at {}: entry [{}] is {a} on the left, {b} on the right",
            sizes_text(&w.sizes),
            shown.join(",")
        ));
    }
    lines
}

fn matrix_json(m: &Array2<f64>) -> serde_json::Value {
    let rows: Vec<Vec<f64>> = m.rows().into_iter().map(|r| r.to_vec()).collect();
    serde_json::json!(rows)
}

impl Report for Compared {
    fn text(&self) -> String {
        let mut out = self.word().to_string();
        for line in self.details() {
            out.push_str(&format!("\n  {line}"));
        }
        out
    }
    fn expr(&self) -> String {
        self.word().to_string()
    }
    fn latex(&self) -> String {
        format!("\\text{{{}}}", self.word())
    }
    fn markdown(&self) -> String {
        let mut out = format!("**{}**\n", self.word());
        for line in self.details() {
            out.push_str(&format!("\n- {line}"));
        }
        out
    }
    fn json(&self) -> String {
        let mut value = serde_json::json!({"verdict": self.word(), "details": self.details()});
        match &self.verdict {
            Equality::Proven { used } => value["using"] = serde_json::json!(using(used)),
            Equality::AtSizesTried { sizes, how } => {
                value["sizes"] = serde_json::json!(sizes);
                value["how"] = serde_json::json!(match how {
                    Tried::Exact => "exact",
                    Tried::Numeric { .. } => "numeric",
                });
            }
            Equality::Differs(w) => {
                let values: BTreeMap<&String, serde_json::Value> =
                    w.values.iter().map(|(n, v)| (n, matrix_json(v))).collect();
                value["witness"] = serde_json::json!({
                    "sizes": w.sizes,
                    "values": values,
                    "left": matrix_json(&w.left),
                    "right": matrix_json(&w.right),
                });
            }
        }
        json_text(&value)
    }
    fn exit(&self) -> Exit {
        match self.verdict {
            Equality::Differs(_) => Exit::Refuted,
            _ => Exit::Ok,
        }
    }
}
