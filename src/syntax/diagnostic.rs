//! Error reports shared by every layer: a message, labelled spans and a hint,
//! rendered with the source line and a caret under the offending text.
//!
//! Each layer keeps its own error enum and turns it into a [`Diagnostic`];
//! only the CLI prints.

use serde::Serialize;

use super::ast::Span;

/// A labelled place in the source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Label {
    /// The bytes meant.
    pub span: Span,
    /// What is there.
    pub message: String,
}

/// A report about the input: what is wrong, where, and what might help.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// One sentence saying what is wrong.
    pub message: String,
    /// The places involved; the first is the main one.
    pub labels: Vec<Label>,
    /// A hint, such as "did you mean `sigmoid`?".
    pub help: Option<String>,
}

impl Serialize for Span {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Span", 2)?;
        st.serialize_field("start", &self.start)?;
        st.serialize_field("end", &self.end)?;
        st.end()
    }
}

impl Diagnostic {
    /// A report with a message and nothing else yet.
    pub fn new(message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            message: message.into(),
            labels: Vec::new(),
            help: None,
        }
    }

    /// Adds a labelled span (ignored when it is [`Span::NONE`]).
    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        if span != Span::NONE || self.labels.is_empty() {
            self.labels.push(Label {
                span,
                message: message.into(),
            });
        }
        self
    }

    /// Adds a hint.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Renders the report for a terminal: `error: …`, then each labelled
    /// source line with carets under the span, then the hint.
    ///
    /// ```
    /// use matcalc::syntax::{Diagnostic, Span};
    /// let d = Diagnostic::new("unknown function `sigmod`")
    ///     .with_label(Span::new(0, 6), "not a built-in")
    ///     .with_help("did you mean `sigmoid`?");
    /// assert_eq!(
    ///     d.render("sigmod(X)"),
    ///     "error: unknown function `sigmod`\n  |\n1 | sigmod(X)\n  | ^^^^^^ not a built-in\n  |\n  = help: did you mean `sigmoid`?\n"
    /// );
    /// ```
    pub fn render(&self, source: &str) -> String {
        self.render_as("error", source)
    }

    /// Renders the report as a warning: `warning: …`, then as [`render`](Self::render).
    pub fn render_warning(&self, source: &str) -> String {
        self.render_as("warning", source)
    }

    fn render_as(&self, severity: &str, source: &str) -> String {
        let mut out = format!("{severity}: {}\n", self.message);
        for label in &self.labels {
            out.push_str(&render_label(source, label));
        }
        if let Some(help) = &self.help {
            let pad = " ".repeat(gutter_width(source, &self.labels));
            out.push_str(&format!("{pad} = help: {help}\n"));
        }
        out
    }
}

fn line_of(source: &str, offset: usize) -> (usize, usize, &str) {
    let offset = offset.min(source.len());
    let start = source[..offset].rfind('\n').map_or(0, |p| p + 1);
    let end = source[start..]
        .find('\n')
        .map_or(source.len(), |p| start + p);
    let number = source[..start].matches('\n').count() + 1;
    (number, start, &source[start..end])
}

fn gutter_width(source: &str, labels: &[Label]) -> usize {
    labels
        .iter()
        .map(|l| line_of(source, l.span.start).0.to_string().len())
        .max()
        .unwrap_or(1)
}

/// Longest source line shown; longer lines are cut around the span.
const MAX_SHOWN: usize = 120;

fn render_label(source: &str, label: &Label) -> String {
    if source.is_empty() {
        return format!("  | (empty input) {}\n", label.message);
    }
    let (number, line_start, line) = line_of(source, label.span.start);
    let col = clamp_to_char(line, label.span.start.saturating_sub(line_start));
    let end = clamp_to_char(
        line,
        (label.span.end.max(label.span.start + 1)).saturating_sub(line_start),
    );
    // Cut very long lines (a 1 MB expression) to a window around the span.
    let window_start = clamp_to_char(line, col.saturating_sub(MAX_SHOWN / 2));
    let window_end = clamp_to_char(line, window_start + MAX_SHOWN);
    let shown = &line[window_start..window_end];
    let prefix = if window_start > 0 { "…" } else { "" };
    let suffix = if window_end < line.len() { "…" } else { "" };
    let caret_col = line[window_start..col].chars().count() + prefix.chars().count();
    let caret_len = line[col..end.min(window_end).max(col)]
        .chars()
        .count()
        .max(1);
    let num = number.to_string();
    let pad = " ".repeat(num.len());
    let mut out = format!("{pad} |\n{num} | {prefix}{shown}{suffix}\n");
    let marker = format!("{}{}", " ".repeat(caret_col), "^".repeat(caret_len));
    if label.message.is_empty() {
        out.push_str(&format!("{pad} | {marker}\n"));
    } else {
        out.push_str(&format!("{pad} | {marker} {}\n", label.message));
    }
    out.push_str(&format!("{pad} |\n"));
    out
}

/// The largest char boundary of `line` not after `at`.
fn clamp_to_char(line: &str, at: usize) -> usize {
    let mut at = at.min(line.len());
    while !line.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_on_second_line() {
        let d = Diagnostic::new("bad").with_label(Span::new(4, 5), "this");
        assert_eq!(
            d.render("a+b\nc+?"),
            "error: bad\n  |\n2 | c+?\n  | ^ this\n  |\n"
        );
    }

    #[test]
    fn long_lines_are_windowed() {
        let source = format!("{}?", "a+".repeat(100_000));
        let at = source.len() - 1;
        let out = Diagnostic::new("bad")
            .with_label(Span::new(at, at + 1), "")
            .render(&source);
        assert!(out.len() < 400, "{out}");
        assert!(out.contains("a+?"));
    }
}
