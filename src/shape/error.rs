//! Shape errors: what does not fit, with both operands and their shapes.

use crate::syntax::{Diagnostic, Span};

/// An expression whose shapes do not fit.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ShapeError {
    /// What is wrong, naming the operands and their shapes.
    pub message: String,
    /// The operator or expression at fault.
    pub span: Span,
    /// The operands with their shapes.
    pub operands: Vec<(Span, String)>,
    /// A hint, if there is one.
    pub help: Option<String>,
}

impl ShapeError {
    /// An error at `span`.
    pub fn new(message: impl Into<String>, span: Span) -> ShapeError {
        ShapeError {
            message: message.into(),
            span,
            operands: Vec::new(),
            help: None,
        }
    }

    /// Labels both operands with their shapes.
    pub fn with_operands(mut self, a: Span, da: String, b: Span, db: String) -> ShapeError {
        self.operands = vec![(a, da), (b, db)];
        self
    }

    /// Adds a hint.
    pub fn with_help(mut self, help: impl Into<String>) -> ShapeError {
        self.help = Some(help.into());
        self
    }

    /// The error as a diagnostic with carets under the operands.
    pub fn diagnostic(&self) -> Diagnostic {
        let mut d = Diagnostic::new(self.message.clone());
        if self.operands.is_empty() {
            d = d.with_label(self.span, "");
        }
        for (span, shape) in &self.operands {
            d = d.with_label(*span, shape.clone());
        }
        match &self.help {
            Some(h) => d.with_help(h.clone()),
            None => d,
        }
    }
}
