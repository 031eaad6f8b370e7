//! `matcalc check EXPR --wrt X --claim CLAIM`: is the claim the derivative?
//! Exit 0 when finite differences confirm it, 3 when they refute it.
//! `--cases FILE.jsonl` checks the `expected` answers of a corpus file.

use std::path::PathBuf;

use matcalc::confirm::problem;
use matcalc::derive::typecheck;
use matcalc::numeric::{check, check_cases, CheckConfig, CheckReport};
use matcalc::syntax::{parse_formula, Decls};

use super::derive::{domains, JsonLines};
use super::error::CliError;
use super::exit::Exit;
use super::input;
use super::output::{json_text, Report};
use super::Run;

const EXAMPLES: &str = "\
Examples:
  matcalc check 'L(X*W + B)' --wrt X --claim \"dL*W'\"           confirmed, exit 0
  matcalc check 'L(X*W + B)' --wrt X --claim \"W*dL'\"           refuted, exit 3
  matcalc check \"x'*A*x\" --wrt x --order 2 --claim \"A + A'\"
  matcalc check --cases tests/corpus/cases.jsonl";

/// Arguments of `matcalc check`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct CheckArgs {
    /// The expression differentiated; it may begin with '-'.
    #[arg(
        value_name = "EXPR",
        allow_hyphen_values = true,
        required_unless_present = "cases"
    )]
    expr: Option<String>,

    /// The variable(s): one, or with --order 2 one or two.
    #[arg(long, value_delimiter = ',', required_unless_present = "cases")]
    wrt: Vec<String>,

    /// 1 or 2.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=2))]
    order: u8,

    /// The claimed derivative (matrix or index form).
    #[arg(long, allow_hyphen_values = true, required_unless_present = "cases")]
    claim: Option<String>,

    /// Sampling domains, e.g. 'X: spd, y: pm1'.
    #[arg(long, value_name = "DOMAINS")]
    domain: Option<String>,

    /// First seed (three consecutive seeds are used).
    #[arg(long, default_value_t = 1)]
    seed: u64,

    /// Largest relative error accepted: a finite positive number.
    #[arg(long, default_value_t = 1e-6, value_parser = tolerance)]
    tol: f64,

    /// Check every case of a corpus file; one JSON line per case.
    #[arg(long, value_name = "FILE.jsonl", conflicts_with_all = ["expr", "wrt", "claim"])]
    cases: Option<PathBuf>,
}

/// Parses `--tol`: a finite number above zero (NaN, infinities, numbers
/// too large for f64 such as 1e400, zero and negatives would make every
/// claim pass or every claim fail).
fn tolerance(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    if !value.is_finite() {
        Err(format!(
            "`{text}` is not a finite number; give a relative error such as 1e-6"
        ))
    } else if value <= 0.0 {
        Err(format!(
            "`{text}` is not above zero; give a relative error such as 1e-6"
        ))
    } else {
        Ok(value)
    }
}

impl Run for CheckArgs {
    fn run(&self, decls: &Decls) -> Result<Box<dyn Report>, CliError> {
        if let Some(path) = &self.cases {
            let text = input::cases_file(path)?;
            let lines = check_cases(&text)
                .iter()
                .map(|v| serde_json::to_string(v).unwrap_or_default())
                .collect();
            return Ok(Box::new(JsonLines(lines)));
        }
        let source = input::expression(self.expr.as_deref().unwrap_or(input::STDIN))?;
        let typed = typecheck(&source, decls).map_err(|e| CliError::derive(&e, &source))?;
        let claim_text = self.claim.clone().unwrap_or_default();
        let claim =
            parse_formula(&claim_text, decls).map_err(|e| CliError::parse(&e, &claim_text))?;
        let mut wrt = self.wrt.clone();
        if self.order == 2 && wrt.len() == 1 {
            wrt.push(wrt[0].clone());
        }
        let numeric = problem(&typed, &wrt, &domains(self.domain.as_deref())?);
        let config = CheckConfig {
            seeds: vec![self.seed, self.seed + 1, self.seed + 2],
            tolerance: self.tol,
            ..CheckConfig::default()
        };
        let report =
            check(&numeric, &claim, &config).map_err(|e| CliError::eval(&e, &claim_text))?;
        let symmetric = wrt.iter().find(|w| typed.symmetric.contains(*w)).cloned();
        Ok(Box::new(Checked {
            report,
            claim: claim_text,
            symmetric,
        }))
    }
}

struct Checked {
    report: CheckReport,
    claim: String,
    /// A variable differentiated by that is declared symmetric.
    symmetric: Option<String>,
}

impl Report for Checked {
    fn text(&self) -> String {
        let r = &self.report;
        if r.ok() {
            format!(
                "confirmed: `{}` agrees with {} (max relative error {:.1e} over {} samples)",
                self.claim,
                r.method.describe(),
                r.max_rel_err,
                r.samples.len()
            )
        } else {
            format!(
                "refuted: `{}` is not the derivative (max relative error {:.3e}){}{}",
                self.claim,
                r.max_rel_err,
                r.note().map(|n| format!(": {n}")).unwrap_or_default(),
                self.symmetric
                    .as_ref()
                    .map(|s| format!(
                        "\n  note: {s} is declared symmetric, so it moves along symmetric \
                         d{s} only and the derivative by it is sym(G) = (G + Gᵀ)/2 of the \
                         unconstrained G"
                    ))
                    .unwrap_or_default()
            )
        }
    }
    fn expr(&self) -> String {
        self.text()
    }
    fn latex(&self) -> String {
        self.text()
    }
    fn markdown(&self) -> String {
        self.text()
    }
    fn json(&self) -> String {
        json_text(&self.json_value())
    }

    fn exit(&self) -> Exit {
        if self.report.ok() {
            Exit::Ok
        } else {
            Exit::Refuted
        }
    }
}

impl Checked {
    fn json_value(&self) -> serde_json::Value {
        serde_json::json!({"claim": self.claim, "ok": self.report.ok(), "report": self.report})
    }
}
