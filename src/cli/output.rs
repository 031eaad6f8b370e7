//! The five output formats shared by every command, and the rendering of a
//! command's result or error in each of them.
//!
//! A command returns a [`Report`]; this module picks the format. Errors go to
//! standard error as text with a caret under the offending text, except with
//! `--format json`, where they are a JSON document on standard output.
//! Nothing here prints: the result is a [`Rendered`] that `main` writes.

use matcalc::codegen::Target;
use matcalc::syntax::Diagnostic;
use serde::Serialize;

use super::error::{CliError, ErrorKind};
use super::exit::Exit;

/// An output format, chosen with `--format`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Unicode for people.
    #[default]
    Text,
    /// The input syntax; it parses back to the same expression.
    Expr,
    /// LaTeX.
    Latex,
    /// Markdown.
    Markdown,
    /// JSON (errors are JSON too).
    Json,
    /// A Python module for NumPy (`matcalc derive` only).
    Numpy,
    /// A Python module for JAX, jit-compilable (`matcalc derive` only).
    Jax,
}

impl Format {
    /// The code generator's target, for the code formats.
    fn target(self) -> Option<Target> {
        match self {
            Format::Numpy => Some(Target::Numpy),
            Format::Jax => Some(Target::Jax),
            _ => None,
        }
    }
}

/// A command's result, renderable in every format.
pub trait Report {
    /// Unicode text for people.
    fn text(&self) -> String;
    /// The input syntax.
    fn expr(&self) -> String;
    /// LaTeX.
    fn latex(&self) -> String;
    /// Markdown.
    fn markdown(&self) -> String;
    /// A JSON document, made with [`json_text`].
    fn json(&self) -> String;
    /// Generated code (`--format numpy|jax`); only `derive` has it.
    fn code(&self, target: Target) -> Result<String, CliError> {
        Err(CliError::plain(
            ErrorKind::Usage,
            Diagnostic::new(format!(
                "--format {} is for `matcalc derive EXPR --wrt X`",
                target.name()
            )),
        ))
    }
    /// Why this report cannot be written in `format` (a result too large
    /// for its flat printout), if it cannot.
    fn refused(&self, _format: Format) -> Option<CliError> {
        None
    }
    /// The exit code of a run that produced this report.
    fn exit(&self) -> Exit {
        Exit::Ok
    }
    /// Warnings for standard error (in every format), one sentence each:
    /// options given where they do nothing, and the like.
    fn warnings(&self) -> Vec<String> {
        Vec::new()
    }
    /// An error that ended the run after this (partial) report was made:
    /// rendered after it, on standard error (in the document for JSON).
    fn error(&self) -> Option<&CliError> {
        None
    }
}

/// A report with warnings added to its own.
pub struct Warned {
    /// The report.
    pub report: Box<dyn Report>,
    /// The added warnings.
    pub warnings: Vec<String>,
}

impl Warned {
    /// `report`, or a [`Warned`] one when there are `warnings`.
    pub fn wrap(report: Box<dyn Report>, warnings: Vec<String>) -> Box<dyn Report> {
        if warnings.is_empty() {
            report
        } else {
            Box::new(Warned { report, warnings })
        }
    }
}

impl Report for Warned {
    fn text(&self) -> String {
        self.report.text()
    }
    fn expr(&self) -> String {
        self.report.expr()
    }
    fn latex(&self) -> String {
        self.report.latex()
    }
    fn markdown(&self) -> String {
        self.report.markdown()
    }
    fn json(&self) -> String {
        self.report.json()
    }
    fn refused(&self, format: Format) -> Option<CliError> {
        self.report.refused(format)
    }
    fn exit(&self) -> Exit {
        self.report.exit()
    }
    fn error(&self) -> Option<&CliError> {
        self.report.error()
    }
    fn warnings(&self) -> Vec<String> {
        let mut all = self.warnings.clone();
        all.extend(self.report.warnings());
        all
    }
}

/// What a run writes, ready for the process to print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    /// Text for standard output.
    pub stdout: String,
    /// Text for standard error.
    pub stderr: String,
    /// The exit code.
    pub exit: Exit,
}

/// Renders a command's result.
pub fn report(report: &dyn Report, format: Format) -> Rendered {
    if let Some(err) = report.refused(format) {
        return error(&err, format);
    }
    let mut body = match format {
        Format::Text => report.text(),
        Format::Expr => report.expr(),
        Format::Latex => report.latex(),
        Format::Markdown => report.markdown(),
        Format::Json => report.json(),
        Format::Numpy | Format::Jax => {
            let target = format.target().unwrap_or(Target::Numpy);
            match report.code(target) {
                Ok(code) => code,
                Err(err) => return error(&err, format),
            }
        }
    };
    let mut stderr: String = report
        .warnings()
        .iter()
        .map(|w| format!("warning: {w}\n"))
        .collect();
    if let Some(err) = report.error() {
        let failed = error(err, format);
        match format {
            Format::Json => {
                let mut doc: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
                let err_doc: serde_json::Value =
                    serde_json::from_str(&failed.stdout).unwrap_or_default();
                doc["error"] = err_doc["error"].clone();
                body = json_text(&doc);
            }
            _ => stderr.push_str(&failed.stderr),
        }
    }
    Rendered {
        stdout: with_newline(body),
        stderr,
        exit: report.exit(),
    }
}

/// Renders an error: JSON on standard output for `--format json`, else the
/// caret rendering on standard error.
pub fn error(err: &CliError, format: Format) -> Rendered {
    let rendered = err.render();
    let diagnostic = &err.diagnostic;
    let document = ErrorDocument {
        error: ErrorBody {
            kind: err.kind,
            message: &diagnostic.message,
            labels: diagnostic
                .labels
                .iter()
                .map(|l| LabelBody {
                    start: l.span.start,
                    end: l.span.end,
                    message: &l.message,
                })
                .collect(),
            help: diagnostic.help.as_deref(),
            rendered: &rendered,
        },
    };
    failure(&document, rendered.clone(), format, err.exit())
}

/// Renders a command-line error reported by clap, whose own rendering
/// (`error: …`, the usage line and a tip) is kept as it is.
pub fn usage_error(clap_rendered: &str, format: Format) -> Rendered {
    let rendered = with_newline(clap_rendered.trim_end().to_string());
    // clap writes `error: MESSAGE` (possibly over several lines), a blank
    // line, then the usage and a tip.
    let (head, rest) = rendered.split_once("\n\n").unwrap_or((&rendered, ""));
    let head = head.strip_prefix("error: ").unwrap_or(head);
    let message = head.split_whitespace().collect::<Vec<_>>().join(" ");
    let help = rest.trim();
    let document = ErrorDocument {
        error: ErrorBody {
            kind: ErrorKind::Usage,
            message: &message,
            labels: Vec::new(),
            help: (!help.is_empty()).then_some(help),
            rendered: &rendered,
        },
    };
    failure(&document, rendered.clone(), format, Exit::Usage)
}

fn failure(document: &ErrorDocument<'_>, rendered: String, format: Format, exit: Exit) -> Rendered {
    if format == Format::Json {
        Rendered {
            stdout: with_newline(json_text(document)),
            stderr: String::new(),
            exit,
        }
    } else {
        Rendered {
            stdout: String::new(),
            stderr: rendered,
            exit,
        }
    }
}

/// `{"error": {...}}`, the JSON error schema.
#[derive(Serialize)]
struct ErrorDocument<'a> {
    error: ErrorBody<'a>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    kind: ErrorKind,
    message: &'a str,
    labels: Vec<LabelBody<'a>>,
    help: Option<&'a str>,
    rendered: &'a str,
}

#[derive(Serialize)]
struct LabelBody<'a> {
    start: usize,
    end: usize,
    message: &'a str,
}

/// Pretty JSON, fields in declaration order. Serializing plain structs
/// cannot fail; if it ever did, the output is still a JSON error document
/// rather than a panic.
pub fn json_text<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|err| {
        serde_json::json!({"error": {"kind": "internal", "message": err.to_string()}}).to_string()
    })
}

fn with_newline(mut text: String) -> String {
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}
