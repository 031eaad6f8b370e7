//! A proof as plain text, Markdown, LaTeX (KaTeX-compatible display math,
//! one block per step) and JSON. Invariant: pure string building; uses the
//! `syntax` printers only.

use super::{Proof, ProofStep};
use crate::syntax::{to_expr_string, to_latex};

/// `= ` before a matrix form that equals the previous step; an index form
/// shows its own left-hand side.
fn equals(step: &ProofStep) -> &'static str {
    if step.equals_previous && step.formula.lhs.is_none() {
        "= "
    } else {
        ""
    }
}

/// Numbered steps, each with its rule, its text and its formula (in the
/// input syntax, so that it can be pasted back).
pub fn render_text(proof: &Proof) -> String {
    let mut out = String::new();
    for (n, step) in proof.steps.iter().enumerate() {
        let eq = equals(step);
        out.push_str(&format!(
            "{}. [{}] {}\n     {eq}{}\n",
            n + 1,
            step.rule,
            step.text,
            to_expr_string(&step.formula)
        ));
    }
    out
}

/// A numbered Markdown list; formulas in code spans, in the input syntax.
pub fn render_markdown(proof: &Proof) -> String {
    let mut out = String::new();
    for (n, step) in proof.steps.iter().enumerate() {
        out.push_str(&format!(
            "{}. **{}**: {}\n\n   `{}`\n\n",
            n + 1,
            step.rule,
            step.text,
            to_expr_string(&step.formula)
        ));
    }
    out
}

/// Each step's text followed by its formula as `$$ … $$` display math.
pub fn render_latex(proof: &Proof) -> String {
    let mut out = String::new();
    for (n, step) in proof.steps.iter().enumerate() {
        let eq = equals(step);
        out.push_str(&format!(
            "{}. {} ({})\n$$ {eq}{} $$\n\n",
            n + 1,
            step.text,
            step.rule,
            to_latex(&step.formula)
        ));
    }
    out
}

/// The steps as a JSON array of `{rule, text, formula, latex,
/// equals_previous}`.
pub fn render_json(proof: &Proof) -> serde_json::Value {
    proof
        .steps
        .iter()
        .map(|step| {
            serde_json::json!({
                "rule": step.rule,
                "text": step.text,
                "formula": to_expr_string(&step.formula),
                "latex": to_latex(&step.formula),
                "equals_previous": step.equals_previous,
            })
        })
        .collect()
}
