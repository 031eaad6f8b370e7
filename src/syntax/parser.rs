//! From text to [`Formula`]: the pest grammar in `grammar/matcalc.pest`, then
//! a builder that resolves names (built-ins, abstract functions, textbook
//! juxtaposition such as `XW`, by the rule stated in `names.rs`) against the
//! declarations in force. The Unicode the printers write is read as well.
//!
//! Invariant: nothing here recurses deeper than the bracket nesting of the
//! input, which is checked against [`MAX_NESTING`] before pest runs, and no
//! tree deeper than [`MAX_DEPTH`] is ever built, so later passes may recurse.

use pest::iterators::Pair;
use pest::Parser as _;

use super::ast::{
    BinOp, ConstKind, DimSpec, Expr, ExprKind, FillKind, Formula, Func, IndexLhs, Span,
};
use super::decls::Decls;
use super::diagnostic::Diagnostic;
use super::invisible;
use super::names::{self, NameRole};
use super::scripts::{self, from_subscript, from_superscript};
use super::sugar;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/matcalc.pest"]
struct Grammar;

/// Deepest bracket nesting accepted (checked before the recursive parser).
pub const MAX_NESTING: usize = 2_500;

/// Deepest syntax tree accepted; long operator chains count as depth.
pub const MAX_DEPTH: usize = 10_000;

/// The most free indices an index-notation result `G[i,j,…] = …` may
/// have: its tensor order. Derivatives themselves have order at most 4 (a
/// second derivative by a matrix); a hand-written tensor of order above 8
/// has more entries than any numeric check could evaluate.
pub const MAX_TENSOR_ORDER: usize = 8;

/// Why a text is not a valid formula.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ParseError {
    /// The text does not follow the grammar.
    #[error("syntax error: {message}")]
    Syntax {
        /// What was found and what was expected.
        message: String,
        /// Where.
        span: Span,
    },
    /// The text is empty or only white space.
    #[error("empty expression")]
    Empty {
        /// The whole (blank) text.
        span: Span,
    },
    /// An opening bracket that is never closed.
    #[error("missing `{close}`: the `{open}` at byte {} is never closed", span.start)]
    Unclosed {
        /// The opening bracket, `(` or `[`.
        open: char,
        /// The bracket that would close it.
        close: char,
        /// Where the opening bracket is.
        span: Span,
    },
    /// A closing bracket with no opening bracket before it.
    #[error("unmatched `{found}`")]
    Unmatched {
        /// The closing bracket, `)` or `]`.
        found: char,
        /// Where it is.
        span: Span,
    },
    /// A closing bracket of the wrong kind, as in `(a]`.
    #[error("`{found}` cannot close the `{open}` at byte {}", open_span.start)]
    Mismatched {
        /// The closing bracket found.
        found: char,
        /// Where it is.
        span: Span,
        /// The opening bracket still waiting to be closed.
        open: char,
        /// Where that is.
        open_span: Span,
    },
    /// Brackets nest deeper than [`MAX_NESTING`].
    #[error("brackets nest deeper than the limit of {limit}")]
    TooDeeplyNested {
        /// The limit.
        limit: usize,
        /// The bracket that went over it.
        span: Span,
    },
    /// The syntax tree would be deeper than [`MAX_DEPTH`].
    #[error("the expression is too deep: its syntax tree exceeds the depth limit of {limit}")]
    TooDeep {
        /// The limit.
        limit: usize,
        /// The part that went over it.
        span: Span,
    },
    /// An index-notation result with more than [`MAX_TENSOR_ORDER`] free
    /// indices.
    #[error("the result has {order} free indices, more than the tensor order limit of {limit}")]
    TooManyIndices {
        /// How many it has.
        order: usize,
        /// The limit.
        limit: usize,
        /// The left-hand side.
        span: Span,
    },
    /// A call of a name that is neither built in nor declared as a function.
    #[error("unknown function `{name}`")]
    UnknownFunction {
        /// The name called.
        name: String,
        /// Where.
        span: Span,
        /// The nearest known name, if any is close.
        suggestion: Option<String>,
        /// What to write instead, for a name that other languages use.
        advice: Option<&'static str>,
    },
    /// A function called with the wrong number or kind of arguments.
    #[error("{message}")]
    BadArguments {
        /// What is wrong.
        message: String,
        /// Where.
        span: Span,
    },
    /// A juxtaposition that can be read in more than one way.
    #[error("`{text}` can be read in more than one way")]
    Ambiguous {
        /// The juxtaposed text.
        text: String,
        /// Two readings, with the products written out.
        readings: Vec<String>,
        /// Why it is ambiguous.
        reason: String,
        /// Where.
        span: Span,
    },
    /// A character that does not show: a control character, a non-ASCII
    /// space or a format character such as a zero-width space.
    #[error("invisible character {description} in the input")]
    Invisible {
        /// `U+00A0 NO-BREAK SPACE`.
        description: String,
        /// True for a space character, which a plain space may replace.
        space: bool,
        /// Where.
        span: Span,
    },
    /// Two operands side by side with no operator, where juxtaposition is
    /// not read as a product.
    #[error("missing operator between `{left}` and `{right}`")]
    MissingOperator {
        /// The operand before.
        left: String,
        /// The operand after.
        right: String,
        /// Where the second begins.
        span: Span,
    },
    /// A reserved name used as a value.
    #[error("`{name}` is reserved: {reason}")]
    Reserved {
        /// The name.
        name: String,
        /// How it is meant to be used.
        reason: String,
        /// Where.
        span: Span,
    },
}

impl ParseError {
    /// The main span of the error.
    pub fn span(&self) -> Span {
        match self {
            ParseError::Syntax { span, .. }
            | ParseError::Empty { span }
            | ParseError::Unclosed { span, .. }
            | ParseError::Unmatched { span, .. }
            | ParseError::Mismatched { span, .. }
            | ParseError::TooDeeplyNested { span, .. }
            | ParseError::TooManyIndices { span, .. }
            | ParseError::TooDeep { span, .. }
            | ParseError::UnknownFunction { span, .. }
            | ParseError::BadArguments { span, .. }
            | ParseError::Ambiguous { span, .. }
            | ParseError::Invisible { span, .. }
            | ParseError::MissingOperator { span, .. }
            | ParseError::Reserved { span, .. } => *span,
        }
    }

    /// The error as a diagnostic with a caret and, where possible, a hint.
    pub fn diagnostic(&self) -> Diagnostic {
        let d = Diagnostic::new(self.to_string());
        match self {
            ParseError::Syntax { .. } => d.with_label(self.span(), ""),
            ParseError::Empty { .. } => d
                .with_label(self.span(), "expected an expression")
                .with_help("write a matrix expression such as `tr(A*X)`"),
            ParseError::Unclosed { open, close, .. } => d
                .with_label(self.span(), format!("this `{open}` is never closed"))
                .with_help(format!("add the missing `{close}`")),
            ParseError::Unmatched { found, .. } => {
                d.with_label(self.span(), format!("this `{found}` closes nothing"))
            }
            ParseError::Mismatched {
                open, open_span, ..
            } => d
                .with_label(self.span(), format!("expected `{}` here", closing(*open)))
                .with_label(*open_span, format!("`{open}` opened here")),
            ParseError::TooDeeplyNested { .. } | ParseError::TooDeep { .. } => d
                .with_label(self.span(), "limit reached here")
                .with_help("split the expression, or name a subexpression with --let"),
            ParseError::TooManyIndices { .. } => d.with_label(self.span(), "limit reached here"),
            ParseError::UnknownFunction {
                name,
                suggestion,
                advice,
                ..
            } => {
                let d = d.with_label(self.span(), "not a built-in or declared function");
                match (advice, suggestion) {
                    (Some(advice), _) => d.with_help(*advice),
                    (None, Some(s)) => d.with_help(format!("did you mean `{s}`?")),
                    (None, None) => d.with_help(format!(
                        "to multiply, write `{name}*(…)`; to declare an abstract scalar function, use --let '{name}: function'"
                    )),
                }
            }
            ParseError::Ambiguous {
                readings, reason, ..
            } => d.with_label(self.span(), reason.clone()).with_help(format!(
                "write the product with `*`: {}",
                readings
                    .iter()
                    .map(|r| format!("`{r}`"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            )),
            ParseError::MissingOperator { left, right, .. } => d
                .with_label(self.span(), "expected an operator before this")
                .with_help(format!(
                    "write `{left}*{right}` for a product; without `*`, operands are multiplied only inside one word (`XW`) and straight after a transpose (`x'Ax`)"
                )),
            ParseError::Invisible { space, .. } => {
                d.with_label(self.span(), "here").with_help(if *space {
                    "replace it with a plain space, or delete it"
                } else {
                    "delete it (it was probably pasted along with the text)"
                })
            }
            ParseError::BadArguments { .. } | ParseError::Reserved { .. } => {
                d.with_label(self.span(), "")
            }
        }
    }
}

/// Parses a formula (an expression or an index-notation result), resolving
/// names against `decls`.
///
/// ```
/// use matcalc::syntax::{parse_formula, Decls};
/// let f = parse_formula("L(XW + B)", &Decls::new()).unwrap();
/// let g = parse_formula("L(X*W + B)", &Decls::new()).unwrap();
/// assert_eq!(f, g);
/// ```
pub fn parse_formula(text: &str, decls: &Decls) -> Result<Formula, ParseError> {
    if text.chars().all(|c| matches!(c, ' ' | '\t' | '\r' | '\n')) {
        return Err(ParseError::Empty {
            span: Span::new(0, text.len()),
        });
    }
    if let Some((at, c, description)) = invisible::find(text) {
        return Err(ParseError::Invisible {
            description,
            space: c.is_whitespace(),
            span: Span::new(at, at + c.len_utf8()),
        });
    }
    check_brackets(text)?;
    let mut pairs = Grammar::parse(Rule::formula, text).map_err(|err| syntax_error(&err, text))?;
    let formula = pairs
        .next()
        .expect("the formula rule always yields one pair");
    let builder = Builder { decls, text };
    builder.formula(formula)
}

/// Parses a plain expression (no `NAME[...] =` prefix).
pub fn parse_expr(text: &str, decls: &Decls) -> Result<Expr, ParseError> {
    let formula = parse_formula(text, decls)?;
    match formula.lhs {
        None => Ok(formula.body),
        Some(lhs) => Err(ParseError::Syntax {
            message: "an index-notation result is not allowed here; give a matrix expression"
                .to_string(),
            span: lhs.span,
        }),
    }
}

/// The bracket that closes `open`.
fn closing(open: char) -> char {
    if open == '(' {
        ')'
    } else {
        ']'
    }
}

/// Checks that brackets balance and nest at most [`MAX_NESTING`] deep, so
/// that pest's recursion is bounded and unbalanced brackets get a message
/// that names the bracket at fault.
fn check_brackets(text: &str) -> Result<(), ParseError> {
    let mut open: Vec<(char, usize)> = Vec::new();
    // `|x|` and `‖x‖` nest too; each pair counts as one level wherever it
    // is, which over-counts side-by-side pairs but bounds the recursion.
    let mut bars = 0;
    for (at, c) in text.char_indices() {
        match c {
            '|' | '‖' => {
                bars += 1;
                if open.len() + bars / 2 > MAX_NESTING {
                    return Err(ParseError::TooDeeplyNested {
                        limit: MAX_NESTING,
                        span: Span::new(at, at + c.len_utf8()),
                    });
                }
            }
            '(' | '[' => {
                if open.len() + bars / 2 == MAX_NESTING {
                    return Err(ParseError::TooDeeplyNested {
                        limit: MAX_NESTING,
                        span: Span::new(at, at + 1),
                    });
                }
                open.push((c, at));
            }
            ')' | ']' => match open.pop() {
                None => {
                    return Err(ParseError::Unmatched {
                        found: c,
                        span: Span::new(at, at + 1),
                    })
                }
                Some((o, start)) if closing(o) != c => {
                    return Err(ParseError::Mismatched {
                        found: c,
                        span: Span::new(at, at + 1),
                        open: o,
                        open_span: Span::new(start, start + 1),
                    })
                }
                Some(_) => {}
            },
            _ => {}
        }
    }
    match open.pop() {
        Some((o, at)) => Err(ParseError::Unclosed {
            open: o,
            close: closing(o),
            span: Span::new(at, at + 1),
        }),
        None => Ok(()),
    }
}

/// What the parser was looking for, in words. Rules that start an operand
/// all read "an expression", and every postfix or infix operator "an
/// operator", so that the list stays short.
fn describe_rule(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::EOI => "end of input",
        Rule::formula
        | Rule::index_lhs
        | Rule::expr
        | Rule::term
        | Rule::unary
        | Rule::glued
        | Rule::sign
        | Rule::postfix
        | Rule::powarg
        | Rule::primary
        | Rule::paren
        | Rule::call
        | Rule::name
        | Rule::number
        | Rule::index_sum
        | Rule::delta
        | Rule::sci_number
        | Rule::sized
        | Rule::sized_kind
        | Rule::ones_vector
        | Rule::gradient
        | Rule::second
        | Rule::abs
        | Rule::norm => "an expression",
        Rule::add_op
        | Rule::mul_op
        | Rule::transpose
        | Rule::inverse
        | Rule::sup_power
        | Rule::sup_digit
        | Rule::postfix_op
        | Rule::power
        | Rule::pow_op
        | Rule::indexing => "an operator",
        Rule::norm_end => "`‖₁` or `‖₂`",
        Rule::index_list | Rule::index | Rule::sub_indices | Rule::sub_letter => {
            "an index (a lowercase letter, optionally followed by digits)"
        }
        Rule::size_sub | Rule::size_part | Rule::size_letter | Rule::sub_digit => "a size",
        Rule::WHITESPACE => return None,
    })
}

fn syntax_error(err: &pest::error::Error<Rule>, text: &str) -> ParseError {
    use pest::error::{ErrorVariant, InputLocation};
    let at = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let mut expected: Vec<&str> = match &err.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            positives.iter().filter_map(|r| describe_rule(*r)).collect()
        }
        ErrorVariant::CustomError { .. } => Vec::new(),
    };
    expected.sort_unstable();
    expected.dedup();
    let token = token_at(text, at);
    let at_end = token.start == token.end;
    let found = if at_end {
        "end of input".to_string()
    } else {
        format!("`{}`", &text[token.start..token.end])
    };
    let wanted = match expected.as_slice() {
        [] => String::new(),
        [one] => format!("; expected {one}"),
        [init @ .., last] => format!("; expected {} or {last}", init.join(", ")),
    };
    ParseError::Syntax {
        message: format!("unexpected {found}{wanted}"),
        span: if at_end { Span::new(at, at + 1) } else { token },
    }
}

/// The token starting at byte `at`: a run of letters, digits and
/// underscores, a two-character operator (`.*`, `./`, `.^`, `.'`) or one
/// character; empty at the end of the text.
fn token_at(text: &str, at: usize) -> Span {
    let rest = &text[at.min(text.len())..];
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let len = match rest.chars().next() {
        None => 0,
        Some(c) if word(c) => rest.find(|c: char| !word(c)).unwrap_or(rest.len()),
        Some('.') if rest[1..].starts_with(['*', '/', '^', '\'']) => 2,
        Some(c) => c.len_utf8(),
    };
    Span::new(at, at + len)
}

fn span_of(pair: &Pair<'_, Rule>) -> Span {
    let s = pair.as_span();
    Span::new(s.start(), s.end())
}

/// An expression being built, with the depth of its tree.
struct Built {
    expr: Expr,
    depth: usize,
}

impl Built {
    fn leaf(kind: ExprKind, span: Span) -> Built {
        Built {
            expr: Expr { kind, span },
            depth: 1,
        }
    }
}

struct Builder<'a> {
    decls: &'a Decls,
    /// The source, for the texts quoted in messages.
    text: &'a str,
}

type BuildResult = Result<Built, ParseError>;

impl Builder<'_> {
    fn formula(&self, pair: Pair<'_, Rule>) -> Result<Formula, ParseError> {
        let mut lhs = None;
        let mut body = None;
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::index_lhs => {
                    let span = span_of(&inner);
                    let mut parts = inner.into_inner();
                    let name = parts
                        .next()
                        .expect("index_lhs has a name")
                        .as_str()
                        .to_string();
                    let indices = pair_indices(parts.next().expect("index_lhs has indices"));
                    if indices.len() > MAX_TENSOR_ORDER {
                        return Err(ParseError::TooManyIndices {
                            order: indices.len(),
                            limit: MAX_TENSOR_ORDER,
                            span,
                        });
                    }
                    lhs = Some(IndexLhs {
                        name,
                        indices,
                        span,
                    });
                }
                Rule::expr => body = Some(self.expr(inner)?.expr),
                _ => {}
            }
        }
        Ok(Formula {
            lhs,
            body: body.expect("formula has an expression"),
        })
    }

    fn node(&self, kind: ExprKind, span: Span, depth: usize) -> BuildResult {
        if depth > MAX_DEPTH {
            // Point at the end of the node that went over the limit (the
            // operand that made a long chain too deep), not at all of it.
            let last = span.end.saturating_sub(1).max(span.start);
            return Err(ParseError::TooDeep {
                limit: MAX_DEPTH,
                span: Span::new(last, span.end),
            });
        }
        Ok(Built {
            expr: Expr { kind, span },
            depth,
        })
    }

    fn binary(&self, op: BinOp, lhs: Built, rhs: Built) -> BuildResult {
        let span = lhs.expr.span.join(rhs.expr.span);
        let depth = lhs.depth.max(rhs.depth) + 1;
        self.node(
            ExprKind::Binary(op, Box::new(lhs.expr), Box::new(rhs.expr)),
            span,
            depth,
        )
    }

    fn unary_node(&self, make: fn(Box<Expr>) -> ExprKind, inner: Built, span: Span) -> BuildResult {
        let depth = inner.depth + 1;
        self.node(make(Box::new(inner.expr)), span, depth)
    }

    fn expr(&self, pair: Pair<'_, Rule>) -> BuildResult {
        let mut parts = pair.into_inner();
        let mut acc = self.term(parts.next().expect("expr starts with a term"))?;
        while let Some(op) = parts.next() {
            let op = if op.as_str() == "+" {
                BinOp::Add
            } else {
                BinOp::Sub
            };
            let rhs = self.term(parts.next().expect("an operator is followed by a term"))?;
            acc = self.binary(op, acc, rhs)?;
        }
        Ok(acc)
    }

    /// A product chain. Each operand may stand for several factors (a
    /// juxtaposition `XW'` is `X*W'`), joined with `*` as if it had been
    /// written between them.
    fn term(&self, pair: Pair<'_, Rule>) -> BuildResult {
        let mut parts = pair.into_inner();
        let first = self.factors(parts.next().expect("term starts with a unary"))?;
        let mut acc = self.product(None, first)?;
        while let Some(op_pair) = parts.next() {
            if op_pair.as_rule() == Rule::glued {
                let factors = self.glued(op_pair, &acc)?;
                acc = self.product(Some(acc), factors)?;
                continue;
            }
            let op = match op_pair.as_str() {
                "*" | "@" | "·" => BinOp::Mul,
                "/" => BinOp::Div,
                ".*" | "⊙" => BinOp::HadMul,
                _ => BinOp::HadDiv,
            };
            let factors =
                self.factors(parts.next().expect("an operator is followed by an operand"))?;
            if op != BinOp::Mul && factors.len() > 1 {
                return Err(self.split_by(op_pair.as_str(), &factors));
            }
            let mut factors = factors.into_iter();
            let head = factors.next().expect("an operand has a factor");
            acc = self.binary(op, acc, head)?;
            acc = self.product(Some(acc), factors.collect())?;
        }
        Ok(acc)
    }

    /// The factors of an operand written with no operator after `before`:
    /// a product when it follows a transpose with nothing between
    /// (`x'Ax` is `x'*A*x`), refused otherwise.
    fn glued(&self, pair: Pair<'_, Rule>, before: &Built) -> Result<Vec<Built>, ParseError> {
        let span = span_of(&pair);
        let previous = &self.text[before.expr.span.start..before.expr.span.end];
        let adjacent = before.expr.span.end == span.start;
        if !(adjacent && (previous.ends_with('\'') || previous.ends_with('ᵀ'))) {
            return Err(ParseError::MissingOperator {
                left: previous.to_string(),
                right: self.text[span.start..span.end].to_string(),
                span,
            });
        }
        let postfix = pair.into_inner().next().expect("glued holds an operand");
        let start = postfix.as_span().start();
        self.postfix_factors(postfix, 0, start)
    }

    /// `acc * f1 * f2 * …`, left-associated.
    fn product(&self, acc: Option<Built>, factors: Vec<Built>) -> BuildResult {
        let mut acc = acc;
        for factor in factors {
            acc = Some(match acc {
                None => factor,
                Some(lhs) => self.binary(BinOp::Mul, lhs, factor)?,
            });
        }
        Ok(acc.expect("a product has a factor"))
    }

    /// The refusal of a juxtaposition after an operator that would split it
    /// (`a/XW` is `a/X*W` by the rule, but reads as `a/(X*W)`).
    fn split_by(&self, op: &str, factors: &[Built]) -> ParseError {
        let text: Vec<&str> = factors
            .iter()
            .map(|f| &self.text[f.expr.span.start..f.expr.span.end])
            .collect();
        let span = factors[0]
            .expr
            .span
            .join(factors[factors.len() - 1].expr.span);
        let product = text.join("*");
        ParseError::Ambiguous {
            text: text.concat(),
            readings: vec![format!("{op}({product})"), format!("{op}{product}")],
            reason: format!("a juxtaposition after `{op}`"),
            span,
        }
    }

    /// Applies a run of signs: an odd number of `-` is one negation.
    fn signed(&self, negations: usize, start: usize, inner: Built) -> BuildResult {
        if negations % 2 == 1 {
            let span = Span::new(start, inner.expr.span.end);
            self.unary_node(ExprKind::Neg, inner, span)
        } else {
            Ok(inner)
        }
    }

    /// The factors of one operand of a product: the signs go to the first,
    /// the postfix operators to the last (`-XW'` is `-X*W'`).
    fn factors(&self, pair: Pair<'_, Rule>) -> Result<Vec<Built>, ParseError> {
        let start = pair.as_span().start();
        let mut negations = 0;
        let mut postfix = None;
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::sign => negations += usize::from(inner.as_str() != "+"),
                _ => postfix = Some(inner),
            }
        }
        self.postfix_factors(postfix.expect("unary has an operand"), negations, start)
    }

    /// The factors of a `postfix` pair, after `negations` signs from `start`.
    fn postfix_factors(
        &self,
        pair: Pair<'_, Rule>,
        negations: usize,
        start: usize,
    ) -> Result<Vec<Built>, ParseError> {
        let mut parts = pair.into_inner();
        let mut factors = self.primary(parts.next().expect("postfix starts with a primary"))?;
        let mut last = factors.pop().expect("a primary has a factor");
        for op in parts {
            last = self.postfix_op(last, op)?;
        }
        factors.push(last);
        let first = factors.remove(0);
        factors.insert(0, self.signed(negations, start, first)?);
        Ok(factors)
    }

    fn postfix_op(&self, acc: Built, op: Pair<'_, Rule>) -> BuildResult {
        let span = Span::new(acc.expr.span.start, op.as_span().end());
        match op.as_rule() {
            Rule::transpose => self.unary_node(ExprKind::Transpose, acc, span),
            Rule::inverse => {
                let depth = acc.depth + 1;
                self.node(ExprKind::Call(Func::Inv, Box::new(acc.expr)), span, depth)
            }
            Rule::indexing => {
                let list = op.into_inner().next().expect("indexing has indices");
                self.indexed(acc, index_list(list), span)
            }
            Rule::sub_indices => self.indexed(acc, sub_indices(&op), span),
            Rule::sup_power => {
                let op_span = span_of(&op);
                let exponent = scripts::plain_text(op.as_str(), from_superscript)
                    .expect("a superscript power is superscript digits");
                let digits = exponent.trim_start_matches('-');
                let value = self.number(digits, op_span)?;
                let exponent =
                    self.signed(usize::from(exponent.starts_with('-')), op_span.start, value)?;
                self.binary(BinOp::Pow, acc, exponent)
            }
            _ => {
                let mut power = op.into_inner();
                let sym = power.next().expect("power has an operator").as_str();
                let op = if sym == "^" {
                    BinOp::Pow
                } else {
                    BinOp::HadPow
                };
                let arg = self.powarg(power.next().expect("power has an exponent"))?;
                self.binary(op, acc, arg)
            }
        }
    }

    fn indexed(&self, base: Built, indices: Vec<String>, span: Span) -> BuildResult {
        let depth = base.depth + 1;
        self.node(ExprKind::Index(Box::new(base.expr), indices), span, depth)
    }

    fn powarg(&self, pair: Pair<'_, Rule>) -> BuildResult {
        let start = pair.as_span().start();
        let mut negations = 0;
        let mut operand: Option<Built> = None;
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::sign => negations += usize::from(inner.as_str() != "+"),
                Rule::indexing => {
                    let base = operand.take().expect("indexing follows its operand");
                    let span = Span::new(base.expr.span.start, inner.as_span().end());
                    let list = inner.into_inner().next().expect("indexing has indices");
                    operand = Some(self.indexed(base, index_list(list), span)?);
                }
                _ => {
                    let span = span_of(&inner);
                    let mut factors = self.primary(inner)?;
                    if factors.len() > 1 {
                        let text = &self.text[span.start..span.end];
                        return Err(ParseError::Ambiguous {
                            text: text.to_string(),
                            readings: vec![
                                format!("^({})", self.joined(&factors)),
                                format!("^{}", self.joined(&factors)),
                            ],
                            reason: "a juxtaposition as an exponent".to_string(),
                            span,
                        });
                    }
                    operand = factors.pop();
                }
            }
        }
        self.signed(negations, start, operand.expect("powarg has an operand"))
    }

    /// The source texts of `factors` joined by `*`.
    fn joined(&self, factors: &[Built]) -> String {
        factors
            .iter()
            .map(|f| &self.text[f.expr.span.start..f.expr.span.end])
            .collect::<Vec<_>>()
            .join("*")
    }

    fn number(&self, text: &str, span: Span) -> BuildResult {
        let value: f64 = text.parse().map_err(|_| ParseError::Syntax {
            message: format!("`{text}` is not a valid number"),
            span,
        })?;
        if !value.is_finite() {
            return Err(ParseError::Syntax {
                message: format!(
                    "`{}` is too large for a number",
                    &self.text[span.start..span.end]
                ),
                span,
            });
        }
        Ok(Built::leaf(ExprKind::Num(value), span))
    }

    /// A primary: one factor, or the factors of a juxtaposition.
    fn primary(&self, pair: Pair<'_, Rule>) -> Result<Vec<Built>, ParseError> {
        let span = span_of(&pair);
        let one = match pair.as_rule() {
            Rule::number => self.number(pair.as_str(), span)?,
            Rule::sci_number => {
                // `1.5·10⁻⁹`: mantissa, then the power of ten.
                let text = pair.as_str();
                let (mantissa, power) = text.split_once('·').unwrap_or(("1", text));
                let exponent = scripts::plain_text(&power["10".len()..], from_superscript)
                    .expect("the exponent is superscript digits");
                self.number(&format!("{mantissa}e{exponent}"), span)?
            }
            Rule::paren => {
                let inner = pair.into_inner().next().expect("paren holds an expression");
                self.expr(inner)?
            }
            Rule::abs | Rule::norm => {
                let rule = pair.as_rule();
                let mut parts = pair.into_inner();
                let arg = self.expr(parts.next().expect("a bar holds an expression"))?;
                let func = match (rule, parts.next().map(|p| p.as_str().to_string())) {
                    (Rule::abs, _) => Func::Abs,
                    (_, Some(end)) if end == "‖₁" => Func::Norm1,
                    _ => Func::Norm2,
                };
                let depth = arg.depth + 1;
                self.node(ExprKind::Call(func, Box::new(arg.expr)), span, depth)?
            }
            Rule::delta => {
                let indices = pair_indices(pair);
                let [i, j] =
                    <[String; 2]>::try_from(indices).map_err(|got| ParseError::BadArguments {
                        message: format!(
                            "`δ` takes two indices, as in `δᵢⱼ`, but was given {}",
                            got.len()
                        ),
                        span,
                    })?;
                Built::leaf(ExprKind::Delta(i, j), span)
            }
            Rule::index_sum => {
                let mut parts = pair.into_inner();
                let list = parts.next().expect("sum has indices");
                let indices = if list.as_rule() == Rule::sub_indices {
                    sub_indices(&list)
                } else {
                    index_list(list)
                };
                let body = self.expr(parts.next().expect("sum has a body"))?;
                let depth = body.depth + 1;
                self.node(
                    ExprKind::IndexSum(indices, Box::new(body.expr)),
                    span,
                    depth,
                )?
            }
            Rule::sized => sized(pair, span)?,
            Rule::ones_vector => Built::leaf(
                ExprKind::Fill {
                    kind: FillKind::Vector,
                    value: Box::new(Expr::num(1.0)),
                    size: None,
                },
                span,
            ),
            Rule::gradient => self.gradient(pair, span)?,
            Rule::call => return self.call(pair),
            Rule::name => return self.name(pair.as_str(), span),
            other => unreachable!("primary cannot be {other:?}"),
        };
        Ok(vec![one])
    }

    /// `∂L`, `∂L(E)`, `∂²L` or `∂²L(E)`, as the Unicode printer writes
    /// `dL`, `dL(E)`, `d2L` and `d2L(E)`.
    fn gradient(&self, pair: Pair<'_, Rule>, span: Span) -> BuildResult {
        let mut parts = pair.into_inner().peekable();
        let second = parts.next_if(|p| p.as_rule() == Rule::second).is_some();
        let name = parts.next().expect("a gradient names its function");
        let args: Vec<Built> = parts.map(|p| self.expr(p)).collect::<Result<_, _>>()?;
        let function = name.as_str();
        let (what, prefix) = if second {
            ("Hessian", "∂²")
        } else {
            ("gradient", "∂")
        };
        match names::classify(&format!("d{function}"), self.decls) {
            NameRole::Gradient(f) if f == function => {}
            _ => {
                return Err(ParseError::BadArguments {
                    message: format!(
                        "`{prefix}{function}` is the {what} of a function, but `{function}` is not an abstract function"
                    ),
                    span: span_of(&name),
                })
            }
        }
        let depth = args.iter().map(|a| a.depth).max().unwrap_or(0) + 1;
        let args = args.into_iter().map(|a| a.expr).collect();
        let kind = if second {
            ExprKind::Hess(function.to_string(), args)
        } else {
            ExprKind::Grad(function.to_string(), args)
        };
        self.node(kind, span, depth)
    }

    fn name(&self, name: &str, span: Span) -> Result<Vec<Built>, ParseError> {
        let leaf = |kind| Ok(vec![Built::leaf(kind, span)]);
        match names::classify(name, self.decls) {
            NameRole::Gradient(function) => leaf(ExprKind::Grad(function, Vec::new())),
            NameRole::Hessian(function) => leaf(ExprKind::Hess(function, Vec::new())),
            NameRole::Juxtaposition(pieces) => {
                let mut at = span.start;
                Ok(pieces
                    .into_iter()
                    .map(|piece| {
                        let piece_span = Span::new(at, at + piece.len());
                        at = piece_span.end;
                        Built::leaf(ExprKind::Var(piece), piece_span)
                    })
                    .collect())
            }
            NameRole::Ambiguous(splits) => Err(ParseError::Ambiguous {
                text: name.to_string(),
                readings: splits.iter().map(|s| s.join("*")).collect(),
                reason: "declared names split this word in more than one way".to_string(),
                span,
            }),
            NameRole::Reserved(reason) => Err(ParseError::Reserved {
                name: name.to_string(),
                reason,
                span,
            }),
            NameRole::Value if self.decls.is_dimension(name) => Ok(vec![Built::leaf(
                sugar::dimension_value(DimSpec::Named(name.to_string()), span).kind,
                span,
            )]),
            NameRole::Value | NameRole::Function => leaf(ExprKind::Var(name.to_string())),
        }
    }

    /// A call: a built-in, an abstract function, a gradient, or a value
    /// times a parenthesized factor (`X(Y + Z)` is `X*(Y + Z)`).
    fn call(&self, pair: Pair<'_, Rule>) -> Result<Vec<Built>, ParseError> {
        let span = span_of(&pair);
        let mut parts = pair.into_inner();
        let name_pair = parts.next().expect("call has a name");
        let name = name_pair.as_str();
        let name_span = span_of(&name_pair);
        let args: Vec<Built> = parts.map(|p| self.expr(p)).collect::<Result<_, _>>()?;
        let depth = args.iter().map(|a| a.depth).max().unwrap_or(0) + 1;
        let arity_error = |expected: &str| ParseError::BadArguments {
            message: format!("`{name}` takes {expected}, but was given {}", args.len()),
            span,
        };

        if sugar::is_sugar(name, args.len()) && (name == "size" || !self.decls.is_function(name)) {
            let exprs = args.into_iter().map(|a| a.expr).collect();
            let e = sugar::desugar(name, exprs, span).map_err(|e| ParseError::BadArguments {
                message: e.message,
                span: e.span,
            })?;
            return Ok(vec![self.node(e.kind, span, depth + 4)?]);
        }
        if let Some(func) = Func::from_name(name) {
            if args.len() != 1 {
                return Err(arity_error("one argument"));
            }
            let arg = args.into_iter().next().expect("one argument");
            return Ok(vec![self.node(
                ExprKind::Call(func, Box::new(arg.expr)),
                span,
                depth,
            )?]);
        }
        match name {
            "vector" | "matrix" => {
                if args.len() != 1 {
                    return Err(arity_error("one argument (the fill value)"));
                }
                let kind = if name == "vector" {
                    FillKind::Vector
                } else {
                    FillKind::Matrix
                };
                let value = args.into_iter().next().expect("one argument");
                return Ok(vec![self.node(
                    ExprKind::Fill {
                        kind,
                        value: Box::new(value.expr),
                        size: None,
                    },
                    span,
                    depth,
                )?]);
            }
            "delta" => {
                return Err(ParseError::BadArguments {
                    message: "`delta` takes two indices, as in `delta(i,j)`".to_string(),
                    span,
                })
            }
            "eye" | "ones" | "zeros" => {
                let kind = match name {
                    "eye" => ConstKind::Eye,
                    "ones" => ConstKind::Ones,
                    _ => ConstKind::Zeros,
                };
                let allowed = if kind == ConstKind::Eye { 1..=1 } else { 1..=2 };
                if !allowed.contains(&args.len()) {
                    return Err(arity_error(if kind == ConstKind::Eye {
                        "one size"
                    } else {
                        "one or two sizes"
                    }));
                }
                let dims = args
                    .iter()
                    .map(|a| dim_argument(name, &a.expr))
                    .collect::<Result<_, _>>()?;
                return Ok(vec![Built::leaf(ExprKind::Const(kind, dims), span)]);
            }
            _ => {}
        }
        match names::classify(name, self.decls) {
            NameRole::Function => {
                let args = args.into_iter().map(|a| a.expr).collect();
                Ok(vec![self.node(
                    ExprKind::Apply(name.to_string(), args),
                    span,
                    depth,
                )?])
            }
            role @ (NameRole::Gradient(_) | NameRole::Hessian(_)) => {
                let args = args.into_iter().map(|a| a.expr).collect();
                let kind = match role {
                    NameRole::Hessian(function) => ExprKind::Hess(function, args),
                    NameRole::Gradient(function) => ExprKind::Grad(function, args),
                    _ => unreachable!("matched a derivative role"),
                };
                Ok(vec![self.node(kind, span, depth)?])
            }
            NameRole::Value | NameRole::Juxtaposition(_)
                if names::may_juxtapose(name, self.decls) =>
            {
                if args.len() != 1 {
                    return Err(ParseError::BadArguments {
                        message: format!(
                            "`{name}` is a value, so `{name}(…)` is read as a product and needs exactly one factor in the parentheses"
                        ),
                        span,
                    });
                }
                let mut factors = self.name(name, name_span)?;
                factors.extend(args);
                Ok(factors)
            }
            NameRole::Reserved(reason) => Err(ParseError::Reserved {
                name: name.to_string(),
                reason,
                span: name_span,
            }),
            _ => Err(ParseError::UnknownFunction {
                name: name.to_string(),
                span: name_span,
                suggestion: names::nearest_function(name, self.decls),
                advice: names::other_language(name),
            }),
        }
    }
}

fn index_list(pair: Pair<'_, Rule>) -> Vec<String> {
    pair.into_inner().map(|p| p.as_str().to_string()).collect()
}

/// `ᵢⱼ` as the indices `i`, `j`.
fn sub_indices(pair: &Pair<'_, Rule>) -> Vec<String> {
    pair.as_str()
        .chars()
        .map(|c| {
            from_subscript(c)
                .expect("sub_indices holds subscript letters")
                .to_string()
        })
        .collect()
}

/// The indices of a pair that holds them as subscripts, as an
/// `index_list`, or as `index` children.
fn pair_indices(pair: Pair<'_, Rule>) -> Vec<String> {
    match pair.as_rule() {
        Rule::sub_indices => sub_indices(&pair),
        Rule::index_list => index_list(pair),
        _ => pair
            .into_inner()
            .flat_map(|p| match p.as_rule() {
                Rule::sub_indices => sub_indices(&p),
                _ => vec![p.as_str().to_string()],
            })
            .collect(),
    }
}

/// `Iₙ`, `𝟙₃ₓ₄`, `0ₙ`: `eye(n)`, `ones(3,4)`, `zeros(n)`.
fn sized(pair: Pair<'_, Rule>, span: Span) -> BuildResult {
    let mut parts = pair.into_inner();
    let kind = match parts
        .next()
        .expect("a sized constant has a symbol")
        .as_str()
    {
        "I" => ConstKind::Eye,
        "𝟙" => ConstKind::Ones,
        _ => ConstKind::Zeros,
    };
    let dims = parts
        .next()
        .expect("a sized constant has a size")
        .into_inner()
        .map(|part| {
            let text = scripts::plain_text(part.as_str(), from_subscript)
                .expect("a size is subscript characters");
            match text.parse::<usize>() {
                Ok(0) => Err(ParseError::BadArguments {
                    message: "a size must be a positive integer or a dimension name such as `n`"
                        .to_string(),
                    span,
                }),
                Ok(n) => Ok(DimSpec::Fixed(n)),
                Err(_) => Ok(DimSpec::Named(text)),
            }
        })
        .collect::<Result<_, _>>()?;
    Ok(Built::leaf(ExprKind::Const(kind, dims), span))
}

fn dim_argument(function: &str, arg: &Expr) -> Result<DimSpec, ParseError> {
    // A declared dimension symbol, already read as its size.
    if let Some(dim) = sugar::as_dimension(arg) {
        return Ok(dim);
    }
    match &arg.kind {
        ExprKind::Num(v) if *v >= 1.0 && v.fract() == 0.0 && *v < 1e9 => {
            Ok(DimSpec::Fixed(*v as usize))
        }
        ExprKind::Var(name) if name.starts_with(|c: char| c.is_ascii_lowercase()) => {
            Ok(DimSpec::Named(name.clone()))
        }
        _ => Err(ParseError::BadArguments {
            message: format!(
                "the sizes of `{function}` must be positive integers or dimension names such as `n`"
            ),
            span: arg.span,
        }),
    }
}
