//! `matcalc parse EXPR`: parses an expression, checks its shapes, and shows
//! it with the shape of every subexpression and the shapes it assumed.
//!
//! Subexpressions are listed innermost first (post-order), as a person
//! builds the expression up. At most [`MAX_LISTED`] are listed: a node at
//! post-order position p has at most p + 1 nodes, so the listing costs
//! O(MAX_LISTED²) whatever the size of the input.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::json;

use matcalc::shape::{self, Dim, ResultShape, Shape, ShapeContext, Typed};
use matcalc::syntax::{
    expr_to_latex, expr_to_string, expr_to_unicode, parse_formula, to_expr_string, to_latex,
    to_unicode, Decls, Diagnostic, Expr,
};

use super::error::{CliError, ErrorKind};
use super::input;
use super::output::{json_text, Report};
use super::Run;

/// The most subexpressions listed; the rest are counted.
pub const MAX_LISTED: usize = 500;

/// Widest expression column in the text table; longer rows are not padded.
const MAX_COLUMN: usize = 40;

const EXAMPLES: &str = "\
Examples:
  matcalc parse 'L(X*W + B)'
  matcalc parse \"-inv(X)'\"          (or: matcalc parse -- \"-inv(X)'\")
  matcalc parse \"X*W + b'\" --let 'X: n x k, b: m'
  echo \"x'*A*x\" | matcalc parse - --format json";

/// Arguments of `matcalc parse`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct ParseArgs {
    /// The expression, e.g. 'L(X*W + B)'; it may begin with '-'. A lone '-'
    /// reads it from standard input.
    #[arg(value_name = "EXPR", allow_hyphen_values = true)]
    expr: String,
}

impl Run for ParseArgs {
    fn run(&self, decls: &Decls) -> Result<Box<dyn Report>, CliError> {
        let source = input::expression(&self.expr)?;
        let formula =
            parse_formula(&source, decls).map_err(|err| CliError::parse(&err, &source))?;
        let context = ShapeContext {
            decls,
            source: &source,
            gradient_shapes: BTreeMap::new(),
            expected: None,
        };
        let typed =
            shape::check(&formula, &context).map_err(|err| CliError::shape(&err, &source))?;
        let (rows, omitted) = subexpressions(&typed)?;
        Ok(Box::new(Parsed {
            expr: to_expr_string(&formula),
            unicode: to_unicode(&formula),
            latex: to_latex(&formula),
            shape: ShapeText::of_result(&typed.result),
            assumptions: typed.assumptions(),
            assumed: typed
                .assumed
                .iter()
                .filter_map(|name| {
                    typed
                        .vars
                        .get(name)
                        .map(|s| (name.clone(), ShapeText::of(s)))
                })
                .collect(),
            result_row: formula.lhs.as_ref().map(|lhs| Row {
                expr: lhs.name.clone(),
                unicode: lhs.name.clone(),
                latex: lhs.name.clone(),
                shape: ShapeText::of_result(&typed.result),
                span: Some((lhs.span.start, lhs.span.end)),
            }),
            rows,
            omitted,
        }))
    }
}

/// The first [`MAX_LISTED`] subexpressions of the checked formula in
/// post-order, and how many more there are.
fn subexpressions(typed: &Typed) -> Result<(Vec<Row>, usize), CliError> {
    let order = post_order(&typed.formula.body);
    let rows = order
        .iter()
        .take(MAX_LISTED)
        .map(|e| {
            // The checker gave every node a shape; failing here is a bug.
            let shape = typed.shape_of(e).map_err(|err| {
                CliError::plain(
                    ErrorKind::Internal,
                    Diagnostic::new(format!("no shape for a checked subexpression: {err}")),
                )
            })?;
            Ok(Row {
                expr: expr_to_string(e),
                unicode: expr_to_unicode(e),
                latex: expr_to_latex(e),
                shape: ShapeText::of(&shape),
                span: (e.span.end > e.span.start).then_some((e.span.start, e.span.end)),
            })
        })
        .collect::<Result<Vec<Row>, CliError>>()?;
    Ok((rows, order.len().saturating_sub(MAX_LISTED)))
}

/// Every node, children before parents, left to right; iterative, so the
/// depth of the tree does not matter.
fn post_order(root: &Expr) -> Vec<&Expr> {
    let mut order = Vec::new();
    let mut stack = vec![(root, false)];
    while let Some((node, children_done)) = stack.pop() {
        if children_done {
            order.push(node);
        } else {
            stack.push((node, true));
            for child in node.children().into_iter().rev() {
                stack.push((child, false));
            }
        }
    }
    order
}

/// A shape written for people, for LaTeX and as a list of dimensions.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ShapeText {
    /// `scalar`, `n-vector`, `1×n row`, `n×k`.
    text: String,
    /// `\mathbb{R}^{n \times k}`.
    latex: String,
    /// The dimensions, rows first.
    dims: Vec<Dim>,
}

impl ShapeText {
    fn of(shape: &Shape) -> ShapeText {
        let dims = vec![shape.rows.clone(), shape.cols.clone()];
        ShapeText {
            text: shape.to_string(),
            latex: if shape.is_scalar() {
                r"\mathbb{R}".to_string()
            } else if shape.cols == Dim::Fixed(1) {
                format!(r"\mathbb{{R}}^{{{}}}", shape.rows)
            } else {
                format!(r"\mathbb{{R}}^{{{} \times {}}}", shape.rows, shape.cols)
            },
            dims,
        }
    }

    fn of_result(result: &ResultShape) -> ShapeText {
        match result {
            ResultShape::Matrix(shape) => ShapeText::of(shape),
            ResultShape::Tensor(dims) => {
                let names: Vec<String> = dims.iter().map(Dim::to_string).collect();
                ShapeText {
                    text: match names.as_slice() {
                        [one] => format!("{one}-vector"),
                        _ => names.join("×"),
                    },
                    latex: format!(r"\mathbb{{R}}^{{{}}}", names.join(r" \times ")),
                    dims: dims.clone(),
                }
            }
        }
    }

    /// The dimensions as JSON: numbers for fixed sizes, strings for symbols.
    fn dims_json(&self) -> serde_json::Value {
        self.dims
            .iter()
            .map(|d| match d {
                Dim::Fixed(n) => json!(n),
                Dim::Named(name) => json!(name),
            })
            .collect()
    }
}

/// One listed subexpression.
struct Row {
    expr: String,
    unicode: String,
    latex: String,
    shape: ShapeText,
    /// Byte offsets in the input; `None` for a node the checker made (the
    /// explicit sums of an index form).
    span: Option<(usize, usize)>,
}

/// The parsed and checked expression, ready to be shown.
struct Parsed {
    expr: String,
    unicode: String,
    latex: String,
    shape: ShapeText,
    /// "assuming X: n×k, …", or empty when every name was declared.
    assumptions: String,
    assumed: Vec<(String, ShapeText)>,
    rows: Vec<Row>,
    omitted: usize,
    /// For an index form `G[i,j] = …`, the result `G` with its shape.
    result_row: Option<Row>,
}

impl Parsed {
    /// The rows for people: each (expression, shape) pair once, then the
    /// result of an index form.
    fn distinct_rows(&self) -> Vec<&Row> {
        let mut seen = std::collections::HashSet::new();
        self.rows
            .iter()
            .filter(|r| seen.insert((&r.expr, &r.shape.text)))
            .chain(&self.result_row)
            .collect()
    }

    fn omitted_note(&self) -> Option<String> {
        (self.omitted > 0).then(|| {
            format!(
                "… and {} more subexpressions, up to the whole expression ({})",
                self.omitted, self.shape.text
            )
        })
    }
}

impl Report for Parsed {
    fn text(&self) -> String {
        let rows = self.distinct_rows();
        let width = rows
            .iter()
            .map(|r| r.unicode.chars().count())
            .filter(|&w| w <= MAX_COLUMN)
            .max()
            .unwrap_or(0);
        let mut out = format!("{}\n\n", self.unicode);
        for row in rows {
            let pad = width.saturating_sub(row.unicode.chars().count());
            out.push_str(&format!(
                "{}{} : {}\n",
                row.unicode,
                " ".repeat(pad),
                row.shape.text
            ));
        }
        if let Some(note) = self.omitted_note() {
            out.push_str(&format!("{note}\n"));
        }
        if !self.assumptions.is_empty() {
            out.push_str(&format!("\n{}\n", self.assumptions));
        }
        out
    }

    fn expr(&self) -> String {
        self.expr.clone()
    }

    fn latex(&self) -> String {
        let mut out = format!("\\[ {} \\]\n\n\\begin{{tabular}}{{ll}}\n", self.latex);
        for row in self.distinct_rows() {
            out.push_str(&format!("${}$ & ${}$ \\\\\n", row.latex, row.shape.latex));
        }
        out.push_str("\\end{tabular}\n");
        if let Some(note) = self.omitted_note() {
            out.push_str(&format!("\n{}\n", note.replace('…', r"\ldots{}")));
        }
        if !self.assumed.is_empty() {
            let parts: Vec<String> = self
                .assumed
                .iter()
                .map(|(name, shape)| format!("${name} \\in {}$", shape.latex))
                .collect();
            out.push_str(&format!("\nAssuming {}.\n", parts.join(", ")));
        }
        out
    }

    fn markdown(&self) -> String {
        let mut out = format!(
            "`{}`\n\n| subexpression | shape |\n| --- | --- |\n",
            self.unicode
        );
        for row in self.distinct_rows() {
            out.push_str(&format!("| `{}` | {} |\n", row.unicode, row.shape.text));
        }
        if let Some(note) = self.omitted_note() {
            out.push_str(&format!("\n{note}\n"));
        }
        if !self.assumptions.is_empty() {
            out.push_str(&format!("\n{}.\n", capitalized(&self.assumptions)));
        }
        out
    }

    fn json(&self) -> String {
        let document = ParsedJson {
            expr: &self.expr,
            unicode: &self.unicode,
            latex: &self.latex,
            shape: &self.shape.text,
            dims: self.shape.dims_json(),
            assumed: AssumedJson(&self.assumed),
            subexpressions: self
                .rows
                .iter()
                .map(|r| SubexpressionJson {
                    expr: &r.expr,
                    unicode: &r.unicode,
                    shape: &r.shape.text,
                    dims: r.shape.dims_json(),
                    start: r.span.map(|s| s.0),
                    end: r.span.map(|s| s.1),
                })
                .collect(),
            omitted: self.omitted,
        };
        json_text(&document)
    }
}

/// The JSON output of `parse` (documented in the README).
#[derive(Serialize)]
struct ParsedJson<'a> {
    expr: &'a str,
    unicode: &'a str,
    latex: &'a str,
    shape: &'a str,
    dims: serde_json::Value,
    assumed: AssumedJson<'a>,
    subexpressions: Vec<SubexpressionJson<'a>>,
    omitted: usize,
}

/// `{"X": "n×k", …}` in order of first appearance.
struct AssumedJson<'a>(&'a [(String, ShapeText)]);

impl Serialize for AssumedJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, shape) in self.0 {
            map.serialize_entry(name, &shape.text)?;
        }
        map.end()
    }
}

/// One entry of `"subexpressions"` in the JSON output.
#[derive(Serialize)]
struct SubexpressionJson<'a> {
    expr: &'a str,
    unicode: &'a str,
    shape: &'a str,
    dims: serde_json::Value,
    start: Option<usize>,
    end: Option<usize>,
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
