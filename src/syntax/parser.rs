//! From text to [`Formula`]: the pest grammar in `grammar/matcalc.pest`, then
//! a builder that resolves names (built-ins, abstract functions, textbook
//! juxtaposition such as `XW`) against the declarations in force.
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
use super::names::{self, NameRole};

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
    },
    /// A function called with the wrong number or kind of arguments.
    #[error("{message}")]
    BadArguments {
        /// What is wrong.
        message: String,
        /// Where.
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
                name, suggestion, ..
            } => {
                let d = d.with_label(self.span(), "not a built-in or declared function");
                match suggestion {
                    Some(s) => d.with_help(format!("did you mean `{s}`?")),
                    None => d.with_help(format!(
                        "to multiply, write `{name}*(…)`; to declare an abstract scalar function, use --let '{name}: function'"
                    )),
                }
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
    check_brackets(text)?;
    let mut pairs = Grammar::parse(Rule::formula, text).map_err(|err| syntax_error(&err, text))?;
    let formula = pairs
        .next()
        .expect("the formula rule always yields one pair");
    let builder = Builder { decls };
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
    for (at, c) in text.char_indices() {
        match c {
            '(' | '[' => {
                if open.len() == MAX_NESTING {
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
        | Rule::sign
        | Rule::postfix
        | Rule::powarg
        | Rule::primary
        | Rule::paren
        | Rule::call
        | Rule::name
        | Rule::number
        | Rule::index_sum
        | Rule::delta => "an expression",
        Rule::add_op
        | Rule::mul_op
        | Rule::transpose
        | Rule::postfix_op
        | Rule::power
        | Rule::pow_op
        | Rule::indexing => "an operator",
        Rule::index_list | Rule::index => {
            "an index (a lowercase letter, optionally followed by digits)"
        }
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
                    let indices = index_list(parts.next().expect("index_lhs has indices"));
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

    fn term(&self, pair: Pair<'_, Rule>) -> BuildResult {
        let mut parts = pair.into_inner();
        let mut acc = self.unary(parts.next().expect("term starts with a unary"))?;
        while let Some(op) = parts.next() {
            let op = match op.as_str() {
                "*" => BinOp::Mul,
                "/" => BinOp::Div,
                ".*" => BinOp::HadMul,
                _ => BinOp::HadDiv,
            };
            let rhs = self.unary(parts.next().expect("an operator is followed by an operand"))?;
            acc = self.binary(op, acc, rhs)?;
        }
        Ok(acc)
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

    fn unary(&self, pair: Pair<'_, Rule>) -> BuildResult {
        let start = pair.as_span().start();
        let mut negations = 0;
        let mut operand = None;
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::sign => negations += usize::from(inner.as_str() == "-"),
                _ => operand = Some(self.postfix(inner)?),
            }
        }
        self.signed(negations, start, operand.expect("unary has an operand"))
    }

    fn postfix(&self, pair: Pair<'_, Rule>) -> BuildResult {
        let mut parts = pair.into_inner();
        let mut acc = self.primary(parts.next().expect("postfix starts with a primary"))?;
        for op in parts {
            let span = Span::new(acc.expr.span.start, op.as_span().end());
            acc = match op.as_rule() {
                Rule::transpose => self.unary_node(ExprKind::Transpose, acc, span)?,
                Rule::indexing => self.indexed(acc, op)?,
                _ => {
                    let mut power = op.into_inner();
                    let sym = power.next().expect("power has an operator").as_str();
                    let op = if sym == "^" {
                        BinOp::Pow
                    } else {
                        BinOp::HadPow
                    };
                    let arg = self.powarg(power.next().expect("power has an exponent"))?;
                    self.binary(op, acc, arg)?
                }
            };
        }
        Ok(acc)
    }

    fn indexed(&self, base: Built, pair: Pair<'_, Rule>) -> BuildResult {
        let span = Span::new(base.expr.span.start, pair.as_span().end());
        let list = pair.into_inner().next().expect("indexing has indices");
        let indices = index_list(list);
        let depth = base.depth + 1;
        self.node(ExprKind::Index(Box::new(base.expr), indices), span, depth)
    }

    fn powarg(&self, pair: Pair<'_, Rule>) -> BuildResult {
        let start = pair.as_span().start();
        let mut negations = 0;
        let mut operand: Option<Built> = None;
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::sign => negations += usize::from(inner.as_str() == "-"),
                Rule::indexing => {
                    let base = operand.take().expect("indexing follows its operand");
                    operand = Some(self.indexed(base, inner)?);
                }
                _ => operand = Some(self.primary(inner)?),
            }
        }
        self.signed(negations, start, operand.expect("powarg has an operand"))
    }

    fn primary(&self, pair: Pair<'_, Rule>) -> BuildResult {
        let span = span_of(&pair);
        match pair.as_rule() {
            Rule::number => {
                let value: f64 = pair.as_str().parse().map_err(|_| ParseError::Syntax {
                    message: format!("`{}` is not a valid number", pair.as_str()),
                    span,
                })?;
                if !value.is_finite() {
                    return Err(ParseError::Syntax {
                        message: format!("`{}` is too large for a number", pair.as_str()),
                        span,
                    });
                }
                Ok(Built::leaf(ExprKind::Num(value), span))
            }
            Rule::paren => {
                let inner = pair.into_inner().next().expect("paren holds an expression");
                self.expr(inner)
            }
            Rule::delta => {
                let mut parts = pair.into_inner();
                let i = parts
                    .next()
                    .expect("delta has two indices")
                    .as_str()
                    .to_string();
                let j = parts
                    .next()
                    .expect("delta has two indices")
                    .as_str()
                    .to_string();
                Ok(Built::leaf(ExprKind::Delta(i, j), span))
            }
            Rule::index_sum => {
                let mut parts = pair.into_inner();
                let indices = index_list(parts.next().expect("sum has indices"));
                let body = self.expr(parts.next().expect("sum has a body"))?;
                let depth = body.depth + 1;
                self.node(
                    ExprKind::IndexSum(indices, Box::new(body.expr)),
                    span,
                    depth,
                )
            }
            Rule::call => self.call(pair),
            Rule::name => self.name(pair.as_str(), span),
            other => unreachable!("primary cannot be {other:?}"),
        }
    }

    fn name(&self, name: &str, span: Span) -> BuildResult {
        match names::classify(name, self.decls) {
            NameRole::Gradient(function) => {
                Ok(Built::leaf(ExprKind::Grad(function, Vec::new()), span))
            }
            NameRole::Juxtaposition(letters) => self.juxtaposition(&letters, span),
            NameRole::Reserved(reason) => Err(ParseError::Reserved {
                name: name.to_string(),
                reason,
                span,
            }),
            NameRole::Value | NameRole::Function => {
                Ok(Built::leaf(ExprKind::Var(name.to_string()), span))
            }
        }
    }

    /// `XW` read as `X*W`: a left-associated product of one-letter variables.
    fn juxtaposition(&self, letters: &[String], span: Span) -> BuildResult {
        let mut acc: Option<Built> = None;
        for (offset, letter) in letters.iter().enumerate() {
            let at = span.start + offset;
            let leaf = Built::leaf(ExprKind::Var(letter.clone()), Span::new(at, at + 1));
            acc = Some(match acc {
                None => leaf,
                Some(lhs) => self.binary(BinOp::Mul, lhs, leaf)?,
            });
        }
        Ok(acc.expect("juxtaposition has at least two letters"))
    }

    fn call(&self, pair: Pair<'_, Rule>) -> BuildResult {
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

        if let Some(func) = Func::from_name(name) {
            if args.len() != 1 {
                return Err(arity_error("one argument"));
            }
            let arg = args.into_iter().next().expect("one argument");
            return self.node(ExprKind::Call(func, Box::new(arg.expr)), span, depth);
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
                return self.node(
                    ExprKind::Fill {
                        kind,
                        value: Box::new(value.expr),
                        size: None,
                    },
                    span,
                    depth,
                );
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
                return Ok(Built::leaf(ExprKind::Const(kind, dims), span));
            }
            _ => {}
        }
        match names::classify(name, self.decls) {
            NameRole::Function => {
                let args = args.into_iter().map(|a| a.expr).collect();
                self.node(ExprKind::Apply(name.to_string(), args), span, depth)
            }
            NameRole::Gradient(function) => {
                let args = args.into_iter().map(|a| a.expr).collect();
                self.node(ExprKind::Grad(function, args), span, depth)
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
                let lhs = self.name(name, name_span)?;
                let rhs = args.into_iter().next().expect("one argument");
                self.binary(BinOp::Mul, lhs, rhs)
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
            }),
        }
    }
}

fn index_list(pair: Pair<'_, Rule>) -> Vec<String> {
    pair.into_inner().map(|p| p.as_str().to_string()).collect()
}

fn dim_argument(function: &str, arg: &Expr) -> Result<DimSpec, ParseError> {
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
