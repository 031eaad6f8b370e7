//! A proof as plain text (Unicode math), Markdown (a numbered list with
//! `$…$` and `$$…$$` math for KaTeX), LaTeX (a fragment with inline and
//! display math a blog can paste) and JSON, in English or Korean.
//! Invariant: pure string building; the sentences come from
//! [`sentence`](super::sentence).

use super::{sentence, Lang, Math, Proof, ProofStep};
use crate::syntax::to_expr_string;

/// The output formats of a proof.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Unicode text.
    Text,
    /// Markdown with KaTeX math.
    Markdown,
    /// A LaTeX fragment.
    Latex,
}

/// `= ` before a matrix form that equals the previous step; an index form
/// shows its own left-hand side.
fn equals(step: &ProofStep) -> &'static str {
    if step.equals_previous && step.formula.lhs.is_none() {
        "= "
    } else {
        ""
    }
}

/// The sentence of `step` with its math in `format`.
fn said(step: &ProofStep, lang: Lang, format: Format) -> String {
    let math = |m: &Math| match format {
        Format::Text => m.unicode.clone(),
        Format::Markdown | Format::Latex => format!("${}$", m.latex),
    };
    sentence(&step.say, lang, &math)
}

/// Numbered steps, each with its rule, its sentence, its self-check mark
/// and its formula in Unicode.
pub fn render_text(proof: &Proof, lang: Lang) -> String {
    let mut out = String::new();
    for (n, step) in proof.steps.iter().enumerate() {
        out.push_str(&format!(
            "{}. [{}] {} {}\n     {}{}\n",
            n + 1,
            step.rule,
            said(step, lang, Format::Text),
            step.checked.mark(),
            equals(step),
            step.shown.unicode
        ));
    }
    out
}

/// A Markdown ordered list, numbered 1…N: each item's continuation is
/// indented by the width of its marker, so that the list never breaks.
pub fn render_markdown(proof: &Proof, lang: Lang) -> String {
    let mut out = String::new();
    for (n, step) in proof.steps.iter().enumerate() {
        let marker = format!("{}. ", n + 1);
        let indent = " ".repeat(marker.len());
        out.push_str(&format!(
            "{marker}**{}** {} {}\n\n{indent}$$ {}{} $$\n\n",
            step.rule,
            said(step, lang, Format::Markdown),
            step.checked.math_mark(),
            equals(step),
            step.shown.latex
        ));
    }
    out
}

/// Numbered paragraphs with `$…$` inline math and one `$$ … $$` display
/// per step: a fragment without preamble or commands outside math, which a
/// LaTeX document and a MathJax blog both take as it is.
pub fn render_latex(proof: &Proof, lang: Lang) -> String {
    let mut out = String::new();
    for (n, step) in proof.steps.iter().enumerate() {
        out.push_str(&format!(
            "{}. {} ({}) {}\n$$ {}{} $$\n\n",
            n + 1,
            said(step, lang, Format::Latex),
            step.rule,
            step.checked.math_mark(),
            equals(step),
            step.shown.latex
        ));
    }
    out
}

/// The steps as a JSON array of `{rule, text, formula, unicode, latex,
/// equals_previous, checked}`.
pub fn render_json(proof: &Proof, lang: Lang) -> serde_json::Value {
    proof
        .steps
        .iter()
        .map(|step| {
            serde_json::json!({
                "rule": step.rule,
                "text": said(step, lang, Format::Text),
                "formula": to_expr_string(&step.formula),
                "unicode": step.shown.unicode,
                "latex": step.shown.latex,
                "equals_previous": step.equals_previous,
                "checked": step.checked.word(),
            })
        })
        .collect()
}
