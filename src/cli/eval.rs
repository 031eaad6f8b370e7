//! `matcalc eval EXPR --at 'X=[[1,2],[3,4]]'`: the value of an expression on
//! given or random values.

use std::collections::BTreeMap;

use matcalc::confirm::{concrete_sizes, problem};
use matcalc::derive::typecheck;
use matcalc::numeric::{draw_sample, evaluate, parse_values, Bindings, Loss, Value};
use matcalc::syntax::{Decls, Diagnostic};

use super::derive::domains;
use super::error::{CliError, ErrorKind};
use super::input;
use super::output::{json_text, Report, Warned};
use super::Run;

const EXAMPLES: &str = "\
Examples:
  matcalc eval 'tr(A*B)' --at 'A=[[1,2],[3,4]]; B=[[0,1],[1,0]]'
  matcalc eval \"x'*A*x\" --let 'x: 3, A: 3x3' --random --seed 7 --domain 'A: spd'
  matcalc eval 'L(X)' --let 'X: 2x2' --random --loss 2

Values: a scalar 3, a vector [1,2] (a column), a matrix [[1,2],[3,4]]
(rows); names not given in --at are drawn at random with --random.";

/// Arguments of `matcalc eval`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct EvalArgs {
    /// The expression; it may begin with '-'. A lone '-' reads standard input.
    #[arg(value_name = "EXPR", allow_hyphen_values = true)]
    expr: String,

    /// Values, e.g. 'X=[[1,2],[3,4]]; w=[1,2]; s=3'.
    #[arg(long, value_name = "VALUES")]
    at: Option<String>,

    /// Draw the values --at does not give at random.
    #[arg(long)]
    random: bool,

    /// Seed of the random values.
    #[arg(long, default_value_t = 1)]
    seed: u64,

    /// Sampling domains of random values, e.g. 'X: spd, y: pm1'.
    #[arg(long, value_name = "DOMAINS")]
    domain: Option<String>,

    /// Which concrete function stands for an abstract L: 1 is
    /// sum(sin(Y)) + 0.5*norm2(Y)^2, 2 couples entries (see README).
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=2))]
    loss: Option<u8>,
}

impl Run for EvalArgs {
    fn run(&self, decls: &Decls) -> Result<Box<dyn Report>, CliError> {
        let source = input::expression(&self.expr)?;
        let typed = typecheck(&source, decls).map_err(|e| CliError::derive(&e, &source))?;
        let given = match &self.at {
            Some(text) => parse_values(text).map_err(|e| CliError::eval(&e, text))?,
            None => BTreeMap::new(),
        };
        let domains = domains(self.domain.as_deref())?;
        let numeric = problem(&typed, &[], &domains);
        let mut values = if self.random {
            draw_sample(&numeric.vars, &domains, self.seed, 0)
                .map_err(|e| CliError::eval(&e, &source))?
        } else {
            BTreeMap::new()
        };
        values.extend(given);
        if let Some(missing) = typed.vars.keys().find(|v| !values.contains_key(*v)) {
            return Err(CliError::plain(
                ErrorKind::Usage,
                Diagnostic::new(format!("no value for `{missing}`"))
                    .with_help("give it with --at, or add --random"),
            ));
        }
        let loss = match self.loss {
            Some(1) => Some(Loss::L1),
            Some(_) => Some(Loss::L2),
            None => None,
        };
        let bindings = Bindings {
            values,
            sizes: concrete_sizes(&typed.vars),
            loss,
            loss_arguments: BTreeMap::new(),
        };
        let evaluation =
            evaluate(&typed.formula, &bindings, None).map_err(|e| CliError::eval(&e, &source))?;
        let warnings = if self.domain.is_some() && !self.random {
            vec!["--domain does nothing without --random; it was ignored".to_string()]
        } else {
            Vec::new()
        };
        Ok(Warned::wrap(
            Box::new(Evaluated(evaluation.value)),
            warnings,
        ))
    }
}

struct Evaluated(Value);

impl Evaluated {
    fn rows(&self) -> Vec<Vec<f64>> {
        match &self.0 {
            Value::Matrix(m) => m.rows().into_iter().map(|r| r.to_vec()).collect(),
            Value::Tensor(t) => vec![t.iter().copied().collect()],
        }
    }
}

impl Report for Evaluated {
    fn text(&self) -> String {
        match &self.0 {
            Value::Matrix(m) if m.len() == 1 => format!("{}", m[[0, 0]]),
            Value::Matrix(_) => self
                .rows()
                .iter()
                .map(|r| {
                    r.iter()
                        .map(|v| format!("{v:>12.6}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect::<Vec<_>>()
                .join("\n"),
            Value::Tensor(t) => format!(
                "tensor of shape {:?}: {:?}",
                t.shape(),
                t.iter().collect::<Vec<_>>()
            ),
        }
    }
    fn expr(&self) -> String {
        self.json().to_string()
    }
    fn latex(&self) -> String {
        let rows: Vec<String> = self
            .rows()
            .iter()
            .map(|r| {
                r.iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join(" & ")
            })
            .collect();
        format!(
            "\\begin{{bmatrix}} {} \\end{{bmatrix}}",
            rows.join(" \\\\ ")
        )
    }
    fn markdown(&self) -> String {
        format!("```\n{}\n```", self.text())
    }
    fn json(&self) -> String {
        json_text(&self.json_value())
    }
}

impl Evaluated {
    fn json_value(&self) -> serde_json::Value {
        match &self.0 {
            Value::Matrix(m) if m.len() == 1 => serde_json::json!(m[[0, 0]]),
            Value::Matrix(_) => serde_json::json!(self.rows()),
            Value::Tensor(t) => {
                serde_json::json!({"shape": t.shape(), "values": t.iter().collect::<Vec<_>>()})
            }
        }
    }
}
