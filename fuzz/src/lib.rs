//! The properties the fuzz targets check, kept in one file so that the
//! default test run (`tests/fuzz_regressions.rs` includes this file with
//! `#[path]`) replays every saved finding through exactly the code that
//! found it.
//!
//! Each check panics when a property fails and returns quietly otherwise: a
//! clean error from the library is a pass. The properties:
//!
//! - parsing never panics; an error's span starts inside the text, on a
//!   character boundary, and its diagnostic renders;
//! - every node of a parsed tree spans a slice of the text;
//! - the input-syntax printer round-trips: the printed text parses, under
//!   the same declarations, to an equal formula, and prints the same again;
//!   the Unicode and LaTeX printers do not panic;
//! - shape checking never panics; its error renders; when it succeeds, the
//!   elaborated formula has a shape bottom-up (the CLI calls a failure there
//!   an internal error) equal to the result, and declaring the inferred
//!   shapes of the variables is accepted and gives the same shapes;
//! - declarations (`--let`) never panic, their errors point into the text,
//!   and what they parse to, written back, parses to the same list.
//!
//! Everything runs on a thread with the CLI's stack, because the library
//! recurses once per tree level and leaves deep trees to a large stack (see
//! `src/syntax/print/mod.rs`).

use std::collections::BTreeMap;

use matcalc::shape::{self, ResultShape, Shape, ShapeContext, Typed};
use matcalc::syntax::{
    parse_decls, parse_formula, to_expr_string, to_latex, to_unicode, Decl, DeclKind, Decls,
    Diagnostic, DimSpec, Expr, Formula, Span,
};

/// Stack of the thread each input runs on: the CLI's (`src/cli/mod.rs`).
pub const STACK_BYTES: usize = 512 << 20;

/// Runs `job` on a fresh thread with [`STACK_BYTES`] of stack and passes on
/// its panic, if any.
pub fn on_large_stack(job: impl FnOnce() + Send) {
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("fuzz-input".to_string())
            .stack_size(STACK_BYTES)
            .spawn_scoped(scope, job)
            .expect("spawn a thread for the input");
        if let Err(panic) = worker.join() {
            std::panic::resume_unwind(panic);
        }
    });
}

/// Target `parse_and_shape`: the bytes as an expression with nothing
/// declared. Bytes that are not UTF-8 cannot reach the library (the CLI
/// takes `String`s) and are skipped.
pub fn parse_and_shape(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        on_large_stack(|| check_formula(text, &Decls::new()));
    }
}

/// Target `declarations`: the bytes as a `--let` string.
pub fn declarations(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        check_declarations(text);
    }
}

/// Target `decls_and_formula`: the first line as a `--let` string, the rest
/// as an expression checked under those declarations. Without a newline the
/// whole text is the expression.
pub fn decls_and_formula(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (decl_text, expr) = text.split_once('\n').unwrap_or(("", text));
    let mut decls = Decls::new();
    if !decl_text.trim().is_empty() && decls.extend_from_str(decl_text).is_err() {
        return;
    }
    on_large_stack(|| check_formula(expr, &decls));
}

/// Parses, prints and shape-checks `text` under `decls`.
fn check_formula(text: &str, decls: &Decls) {
    let formula = match parse_formula(text, decls) {
        Ok(formula) => formula,
        Err(err) => return check_error(text, err.span(), &err.diagnostic()),
    };
    check_node_spans(text, &formula.body);
    check_round_trip(text, &formula, decls);
    check_shapes(text, &formula, decls);
}

/// An error's span starts inside `text` on a character boundary, ends no
/// earlier, and its diagnostic renders. (The end may lie one byte past the
/// text: "unexpected end of input" points just after it.)
fn check_error(text: &str, span: Span, diagnostic: &Diagnostic) {
    assert!(
        span.start <= span.end && span.end <= text.len() + 1,
        "error span {span:?} outside a text of {} bytes: {}",
        text.len(),
        diagnostic.message
    );
    assert!(
        text.is_char_boundary(span.start.min(text.len())),
        "error span {span:?} starts inside a character: {}",
        diagnostic.message
    );
    let rendered = diagnostic.render(text);
    assert!(rendered.contains(&diagnostic.message), "{rendered}");
}

/// Every node of a parsed tree spans a slice of the source text.
fn check_node_spans(text: &str, root: &Expr) {
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        let Span { start, end } = node.span;
        assert!(
            text.get(start..end).is_some(),
            "node span {start}..{end} is not a slice of a text of {} bytes: {:?}",
            text.len(),
            node.kind
        );
        stack.extend(node.children());
    }
}

/// The printed formula parses back to an equal one and prints the same.
fn check_round_trip(text: &str, formula: &Formula, decls: &Decls) {
    let printed = to_expr_string(formula);
    let reparsed = parse_formula(&printed, decls)
        .unwrap_or_else(|err| panic!("`{text}` printed as `{printed}`, which fails: {err}"));
    assert!(
        reparsed == *formula,
        "`{text}` printed as `{printed}` parses to a different formula"
    );
    assert_eq!(
        to_expr_string(&reparsed),
        printed,
        "printing `{text}` is not stable"
    );
    assert!(!to_unicode(formula).is_empty());
    assert!(!to_latex(formula).is_empty());
}

fn context<'a>(text: &'a str, decls: &'a Decls) -> ShapeContext<'a> {
    ShapeContext {
        decls,
        source: text,
        gradient_shapes: BTreeMap::new(),
        expected: None,
    }
}

/// Shape checking either fails cleanly or gives shapes that hold up.
fn check_shapes(text: &str, formula: &Formula, decls: &Decls) {
    let typed = match shape::check(formula, &context(text, decls)) {
        Ok(typed) => typed,
        Err(err) => return check_error(text, err.span, &err.diagnostic()),
    };
    let whole = typed
        .shape_of(&typed.formula.body)
        .unwrap_or_else(|err| panic!("`{text}` checked, but has no shape bottom-up: {err}"));
    if let ResultShape::Matrix(result) = &typed.result {
        assert_eq!(&whole, result, "`{text}`: bottom-up shape differs");
    }
    assert_eq!(typed.assumptions().is_empty(), typed.assumed.is_empty());
    check_declared_shapes(text, formula, decls, &typed);
}

/// Declaring every variable with the shape the checker inferred for it is
/// accepted, and gives the same shapes. Skipped when the declarations make
/// the text parse differently (a declared value is no longer a
/// juxtaposition of capitals, for instance).
fn check_declared_shapes(text: &str, formula: &Formula, decls: &Decls, typed: &Typed) {
    let mut declared = decls.clone();
    for (name, shape) in &typed.vars {
        declared.insert(Decl::value(name, written_dims(shape)));
    }
    let Ok(again) = parse_formula(text, &declared) else {
        return;
    };
    if again != *formula {
        return;
    }
    let retyped = shape::check(&again, &context(text, &declared))
        .unwrap_or_else(|err| panic!("`{text}`: declaring the inferred shapes is rejected: {err}"));
    assert_eq!(retyped.vars, typed.vars, "`{text}`: variable shapes differ");
    assert_eq!(
        retyped.result, typed.result,
        "`{text}`: result shapes differ"
    );
}

/// The dimensions a declaration would give for `shape`.
fn written_dims(shape: &Shape) -> Vec<DimSpec> {
    if shape.is_scalar() {
        Vec::new()
    } else if shape.cols == DimSpec::Fixed(1) {
        vec![shape.rows.clone()]
    } else {
        vec![shape.rows.clone(), shape.cols.clone()]
    }
}

/// Declarations parse or fail cleanly, and what they parse to round-trips.
fn check_declarations(text: &str) {
    let list = match parse_decls(text) {
        Ok(list) => list,
        Err(err) => return check_error(text, err.span, &err.diagnostic()),
    };
    let written: Vec<String> = list.iter().map(declaration_text).collect();
    let written = written.join(", ");
    assert_eq!(
        parse_decls(&written).as_ref(),
        Ok(&list),
        "`{text}` written back as `{written}` parses differently"
    );
}

/// One declaration in the `--let` syntax.
fn declaration_text(decl: &Decl) -> String {
    let dims = match &decl.kind {
        DeclKind::Function => "function".to_string(),
        DeclKind::Value(dims) if dims.is_empty() => "scalar".to_string(),
        DeclKind::Value(dims) => {
            let dims: Vec<String> = dims.iter().map(DimSpec::to_string).collect();
            dims.join(" x ")
        }
    };
    format!("{}: {dims}", decl.name)
}
