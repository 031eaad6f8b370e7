//! The generated module as a whole: header, imports, helpers,
//! `derivatives`, `value` and `check_gradient`.
//!
//! Layout of arguments and results (the README's): a scalar is a 0-d array
//! (or a float), an n-vector (column or row) a 1-D array of shape `(n,)`,
//! an n×k matrix a 2-D array; a derivative has the axes of f first, then
//! those of each variable differentiated by (unit dimensions dropped).

use std::collections::{BTreeMap, BTreeSet};

use super::names::Namer;
use super::program::{is_one, uses, NodeId, Op, Program, Scope, Ty};
use super::python::Emitter;
use super::sample::{default_domains, SAMPLER};
use super::{CodegenConfig, CodegenError, Helper, Target};
use crate::confirm::concrete_sizes;
use crate::derive::Derivation;
use crate::readback::Listing;
use crate::shape::{self, Dim, Shape, ShapeContext, Typed};
use crate::syntax::{to_expr_string, Decl, Decls, Formula};

/// One entry of the dict `derivatives` returns.
struct Output {
    key: String,
    root: NodeId,
    /// The axes of the result, in layout order.
    dims: Vec<Dim>,
    /// For an index form: the left-hand side's indices, in order.
    lhs: Option<Vec<String>>,
    /// What the entry is, for the header.
    about: String,
}

/// A keyword argument standing for an abstract function (`L`) or its
/// gradient (`dL`).
#[derive(Clone, Debug)]
struct Param {
    /// What the keyword stands for.
    kind: ParamKind,
    /// The layout `(rows, cols)` of the value it stands for when it is
    /// taken at one argument only; `None` when taken at several, so that
    /// only a callable fits.
    at: Option<(Dim, Dim)>,
}

/// What a keyword argument of an abstract function stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ParamKind {
    /// Its value (`L`).
    Value,
    /// Its gradient (`dL`), of its argument's shape.
    Gradient,
    /// Its Hessian (`d2L`), n×n at an n-vector.
    Hessian,
}

impl ParamKind {
    /// The name `check_gradient` knows its instantiation by.
    fn name(self) -> &'static str {
        match self {
            ParamKind::Value => "value",
            ParamKind::Gradient => "gradient",
            ParamKind::Hessian => "hessian",
        }
    }
}

/// The keyword arguments of one generated function, by keyword.
type FunctionParams = BTreeMap<String, Param>;

pub(super) fn python_module(
    d: &Derivation,
    config: &CodegenConfig,
) -> Result<String, CodegenError> {
    let typed = &d.typed;
    let arguments = typed.formula.body.loss_arguments();
    let no_indices = BTreeMap::new();
    // The results with their shared intermediates named, each binding
    // added once: the program grows with the DAG, not the printout.
    let taken: Vec<String> = typed.vars.keys().cloned().collect();
    let all: Vec<usize> = (0..d.derivatives.len()).collect();
    let listing = Listing::of(d, &all, &taken, &|k| format!("E{}", k + 1));
    let mut bound = BTreeMap::new();
    let mut program = Program::new();
    for (name, e) in &listing.bindings {
        let scope = Scope {
            vars: &typed.vars,
            gradients: &typed.gradients,
            arguments: &arguments,
            index_dims: &no_indices,
            bound: &bound,
        };
        let id = program.add(e, &scope)?;
        bound.insert(name.clone(), id);
    }
    let scope = Scope {
        vars: &typed.vars,
        gradients: &typed.gradients,
        arguments: &arguments,
        index_dims: &no_indices,
        bound: &bound,
    };
    let value = program.add(&typed.formula.body, &scope)?;
    let value_dims = layout_dims(&program.node(value).ty);
    let mut outputs = Vec::new();
    for (x, formula) in d.derivatives.iter().zip(&listing.results) {
        let mut dims = value_dims.clone();
        for w in &x.wrt {
            dims.extend(typed.vars.get(w).map(shape_layout).unwrap_or_default());
        }
        let (root, lhs) = match &formula.lhs {
            None => (program.add(&formula.body, &scope)?, None),
            Some(lhs) => {
                let elaborated = elaborate(formula, typed, &config.decls)?;
                // The left-hand side's ranges are the layout's (an index
                // that occurs only in deltas gets no range from them).
                let mut index_dims = elaborated.index_dims.clone();
                index_dims.extend(lhs.indices.iter().cloned().zip(dims.iter().cloned()));
                let indexed = Scope {
                    index_dims: &index_dims,
                    ..scope
                };
                let root = program.add(&elaborated.formula.body, &indexed)?;
                (root, Some(lhs.indices.clone()))
            }
        };
        outputs.push(Output {
            key: x.wrt.join(","),
            root,
            dims,
            lhs,
            about: format!(
                "{} — {}",
                crate::render::label(&typed.formula.body, &x.wrt),
                x.layout
            ),
        });
    }
    let below_value = uses(&program, &[value]);
    let has_abstract = (0..program.len())
        .any(|id| below_value[id] > 0 && matches!(program.node(id).op, Op::Apply(_)));
    let mut helpers = BTreeSet::new();
    let mut derivative_roots: Vec<NodeId> = outputs.iter().map(|o| o.root).collect();
    if !has_abstract {
        derivative_roots.insert(0, value);
    }
    let derivative_params = function_params(&program, &derivative_roots);
    let value_params = function_params(&program, &[value]);
    let variables = Variables::new(typed)?;
    let derivatives_fn = derivatives_function(
        &program,
        config.target,
        &variables,
        &derivative_params,
        &outputs,
        (!has_abstract).then_some((value, &value_dims)),
        &mut helpers,
    )?;
    let value_fn = value_function(
        &program,
        config.target,
        &variables,
        &value_params,
        value,
        &value_dims,
        &mut helpers,
    )?;
    let domains = default_domains(
        &typed.formula.body,
        &typed.vars,
        &config.domains,
        &typed.symmetric,
    );
    let mut out = header(
        d,
        config,
        &outputs,
        &derivative_params,
        &domains,
        has_abstract,
    );
    out.push_str(&imports(config.target));
    out.push_str(&helper_sources(config.target, &helpers));
    out.push_str(&derivatives_fn);
    out.push_str(&value_fn);
    out.push_str(&check_gradient(
        config.target,
        &variables,
        &domains,
        &outputs,
        &derivative_params,
        &value_params,
        typed,
    ));
    Ok(out)
}

/// An index-form result checked again, for its Einstein sums made explicit
/// and the ranges of its indices.
fn elaborate(formula: &Formula, typed: &Typed, decls: &Decls) -> Result<Typed, CodegenError> {
    let mut all = decls.clone();
    for (name, s) in &typed.vars {
        all.insert(Decl::value(name, shape_layout(s)));
    }
    let text = to_expr_string(formula);
    let ctx = ShapeContext {
        decls: &all,
        source: &text,
        gradient_shapes: typed.gradients.clone(),
        expected: None,
    };
    Ok(shape::check(formula, &ctx)?)
}

/// The dimensions of a shape other than 1 (the layout axes).
fn shape_layout(s: &Shape) -> Vec<Dim> {
    [&s.rows, &s.cols]
        .into_iter()
        .filter(|d| !is_one(d))
        .cloned()
        .collect()
}

fn layout_dims(ty: &Ty) -> Vec<Dim> {
    match ty {
        Ty::Matrix(r, c) => shape_layout(&Shape::matrix(r.clone(), c.clone())),
        Ty::Entries(labels) => labels.iter().map(|(_, d)| d.clone()).collect(),
    }
}

/// The abstract functions (`L`) and gradients (`dL`) the nodes below
/// `roots` use, each with the argument it is taken at when unique.
fn function_params(program: &Program, roots: &[NodeId]) -> FunctionParams {
    let used = uses(program, roots);
    let mut args: BTreeMap<String, (ParamKind, BTreeSet<NodeId>)> = BTreeMap::new();
    for (id, &count) in used.iter().enumerate() {
        let node = program.node(id);
        let (keyword, kind) = match &node.op {
            Op::Apply(name) => (name.clone(), ParamKind::Value),
            Op::Gradient(name) => (format!("d{name}"), ParamKind::Gradient),
            Op::Hessian(name) => (format!("d2{name}"), ParamKind::Hessian),
            _ => continue,
        };
        if count > 0 {
            let entry = args.entry(keyword).or_insert((kind, BTreeSet::new()));
            entry.1.insert(node.kids[0]);
        }
    }
    args.into_iter()
        .map(|(keyword, (kind, at))| {
            let single = match at.iter().collect::<Vec<_>>().as_slice() {
                [only] => match (&program.node(**only).ty, kind) {
                    // A value is a scalar; a gradient has its argument's
                    // shape; a Hessian is n×n at an n-vector.
                    (Ty::Matrix(..), ParamKind::Value) => Some((Dim::Fixed(1), Dim::Fixed(1))),
                    (Ty::Matrix(r, c), ParamKind::Gradient) => Some((r.clone(), c.clone())),
                    (Ty::Matrix(r, _), ParamKind::Hessian) => Some((r.clone(), r.clone())),
                    (Ty::Entries(_), _) => None,
                },
                _ => None,
            };
            (keyword, Param { kind, at: single })
        })
        .collect()
}

/// The variables in argument order, with their shapes.
struct Variables<'t> {
    typed: &'t Typed,
    /// Symbolic sizes, in order of first appearance.
    sizes: Vec<String>,
}

impl<'t> Variables<'t> {
    fn new(typed: &'t Typed) -> Result<Variables<'t>, CodegenError> {
        let mut sizes: Vec<String> = Vec::new();
        for s in typed.vars.values() {
            for d in [&s.rows, &s.cols] {
                if let Dim::Named(n) = d {
                    if !sizes.contains(n) {
                        sizes.push(n.clone());
                    }
                }
            }
        }
        for name in typed.vars.keys() {
            if name.starts_with('d') && typed.gradients.contains_key(&name[1..]) {
                return Err(CodegenError::Unsupported {
                    what: format!("the variable `{name}`"),
                    why: format!(
                        "its name is the keyword of the gradient of `{}`",
                        &name[1..]
                    ),
                });
            }
        }
        Ok(Variables { typed, sizes })
    }

    /// The start of a function: arguments taken and checked, sizes bound.
    /// Fills `bound` with the Python names.
    fn prologue(
        &self,
        params: &FunctionParams,
        names: &mut Namer,
        bound: &mut BTreeMap<String, String>,
    ) -> Vec<String> {
        let mut lines = vec!["sizes = {}".to_string()];
        for (name, s) in &self.typed.vars {
            let local = names.name(name);
            lines.push(format!(
                "{local} = _take(variables, \"{name}\", {}, {}, sizes)",
                dim_literal(&s.rows),
                dim_literal(&s.cols)
            ));
            bound.insert(name.clone(), local);
        }
        for size in &self.sizes {
            let local = names.name(size);
            lines.push(format!("{local} = sizes[\"{size}\"]"));
            bound.insert(size.clone(), local);
        }
        for (param, p) in params {
            let local = names.name(param);
            let (r, c) = match &p.at {
                Some((r, c)) => (dim_literal(r), dim_literal(c)),
                None => ("None".to_string(), "None".to_string()),
            };
            lines.push(format!(
                "{local} = _function(variables, \"{param}\", {r}, {c}, sizes)"
            ));
            bound.insert(param.clone(), local);
        }
        lines.push("_no_more(variables)".to_string());
        lines
    }
}

/// A dimension as a Python literal for `_take`: an int, or the size's name.
fn dim_literal(d: &Dim) -> String {
    match d {
        Dim::Fixed(n) => n.to_string(),
        Dim::Named(s) => format!("\"{s}\""),
    }
}

fn indent(lines: &[String]) -> String {
    lines.iter().map(|l| format!("    {l}\n")).collect()
}

/// A root's value in its layout: reshaped, broadcast from a scalar, or (for
/// an index form) transposed to the left-hand side's order.
fn result_text(
    emitter: &Emitter<'_>,
    program: &Program,
    root: NodeId,
    text: &str,
    dims: &[Dim],
    lhs: Option<&[String]>,
    xp: &str,
) -> Result<String, CodegenError> {
    let shape = emitter.tuple(dims)?;
    let ty = &program.node(root).ty;
    let mismatch = |why: &str| CodegenError::Unsupported {
        what: "a result".into(),
        why: why.into(),
    };
    match (ty, lhs) {
        (Ty::Matrix(..), _) if ty.is_scalar() && !dims.is_empty() => {
            Ok(format!("{xp}.full({shape}, {text})"))
        }
        (Ty::Matrix(..), _) => {
            if layout_dims(ty) != dims {
                return Err(mismatch("its dimensions differ from its layout"));
            }
            Ok(format!("{xp}.reshape({text}, {shape})"))
        }
        (Ty::Entries(labels), Some(lhs)) => {
            let own: Vec<String> = labels.iter().map(|(l, _)| l.clone()).collect();
            if own.iter().any(|l| !lhs.contains(l)) || lhs.len() != dims.len() {
                return Err(mismatch("its indices differ from its left-hand side"));
            }
            let order: Vec<&String> = lhs.iter().filter(|l| own.contains(l)).collect();
            let mut out = text.to_string();
            if order.iter().zip(&own).any(|(a, b)| *a != b) {
                let perm: Vec<String> = order
                    .iter()
                    .map(|l| own.iter().position(|o| o == *l).unwrap_or(0).to_string())
                    .collect();
                out = format!("{xp}.transpose({out}, ({},))", perm.join(", "));
            }
            let missing: Vec<String> = lhs
                .iter()
                .enumerate()
                .filter(|(_, l)| !own.contains(l))
                .map(|(k, _)| k.to_string())
                .collect();
            if missing.is_empty() {
                Ok(out)
            } else {
                Ok(format!(
                    "{xp}.expand_dims({out}, ({},)) + {xp}.zeros({shape})",
                    missing.join(", ")
                ))
            }
        }
        (Ty::Entries(_), None) => Err(mismatch("an index form without a left-hand side")),
    }
}

fn derivatives_function(
    program: &Program,
    target: Target,
    variables: &Variables<'_>,
    params: &FunctionParams,
    outputs: &[Output],
    value: Option<(NodeId, &Vec<Dim>)>,
    helpers: &mut BTreeSet<Helper>,
) -> Result<String, CodegenError> {
    let mut names = Namer::new();
    let mut bound = BTreeMap::new();
    let prologue = variables.prologue(params, &mut names, &mut bound);
    let mut emitter = Emitter::new(program, target, &bound, &mut names, helpers);
    let mut roots: Vec<NodeId> = value.iter().map(|(v, _)| *v).collect();
    roots.extend(outputs.iter().map(|o| o.root));
    let texts = emitter.emit(&roots)?;
    let xp = target.module();
    let mut entries = Vec::new();
    let mut texts = texts.into_iter();
    if let Some((v, dims)) = value {
        let t = texts.next().unwrap_or_default();
        let r = result_text(&emitter, program, v, &t, dims, None, xp)?;
        entries.push(format!("    \"value\": {r},"));
    }
    for (o, t) in outputs.iter().zip(texts) {
        let r = result_text(&emitter, program, o.root, &t, &o.dims, o.lhs.as_deref(), xp)?;
        entries.push(format!("    \"{}\": {r},", o.key));
    }
    let mut body = prologue;
    body.append(&mut emitter.lines);
    body.push("return {".into());
    body.extend(entries);
    body.push("}".into());
    let doc = "\"\"\"The value (unless the expression has an abstract function) and every \
               derivative at the given variables, in the layout of the header.\"\"\"";
    Ok(format!(
        "\n\ndef derivatives(**variables):\n    {doc}\n{}",
        indent(&body)
    ))
}

fn value_function(
    program: &Program,
    target: Target,
    variables: &Variables<'_>,
    params: &FunctionParams,
    value: NodeId,
    dims: &[Dim],
    helpers: &mut BTreeSet<Helper>,
) -> Result<String, CodegenError> {
    let mut names = Namer::new();
    let mut bound = BTreeMap::new();
    let prologue = variables.prologue(params, &mut names, &mut bound);
    let mut emitter = Emitter::new(program, target, &bound, &mut names, helpers);
    let texts = emitter.emit(&[value])?;
    let r = result_text(
        &emitter,
        program,
        value,
        &texts[0],
        dims,
        None,
        target.module(),
    )?;
    let mut body = prologue;
    body.append(&mut emitter.lines);
    body.push(format!("return {r}"));
    let doc = "\"\"\"The expression's value at the given variables (abstract functions as \
               callables).\"\"\"";
    Ok(format!(
        "\n\ndef value(**variables):\n    {doc}\n{}",
        indent(&body)
    ))
}

fn header(
    d: &Derivation,
    config: &CodegenConfig,
    outputs: &[Output],
    params: &FunctionParams,
    domains: &BTreeMap<String, crate::numeric::Domain>,
    has_abstract: bool,
) -> String {
    let typed = &d.typed;
    let library = match config.target {
        Target::Numpy => "NumPy",
        Target::Jax => "JAX (jax.numpy, float64; jax.jit(derivatives) compiles)",
    };
    let mut h = vec![format!(
        "Generated by matcalc {} for {library}.",
        env!("CARGO_PKG_VERSION")
    )];
    if let Some(command) = &config.command {
        h.push(format!("Command: {command}"));
    }
    h.push(String::new());
    h.push(format!("    f = {}", to_expr_string(&typed.formula)));
    let shapes: Vec<String> = typed
        .vars
        .iter()
        .map(|(n, s)| format!("{n}: {s}"))
        .collect();
    h.push(format!("    {}", shapes.join(", ")));
    h.push(String::new());
    h.push(
        "Layout: float64 arrays; a scalar is a 0-d array (or a float), an n-vector (column or \
         row) a 1-D array of shape (n,), an n×k matrix a 2-D array of shape (n, k). Symbolic \
         sizes are bound from the arguments' shapes and checked for consistency."
            .into(),
    );
    h.push(String::new());
    h.push("derivatives(**variables) returns a dict:".into());
    if !has_abstract {
        h.push("    \"value\": f".into());
    }
    for o in outputs {
        h.push(format!("    \"{}\": {}", o.key, o.about));
    }
    h.push(
        "A derivative has the axes of f first, then those of each variable it is taken by.".into(),
    );
    for (name, arg) in typed.formula.body.loss_arguments() {
        let at = crate::syntax::expr_to_string(&arg);
        let mut how = Vec::new();
        for (keyword, what, shape) in [
            (format!("d{name}"), "gradient", "an array of that shape"),
            (format!("d2{name}"), "Hessian", "n×n at an n-vector"),
        ] {
            match params.get(&keyword).map(|p| &p.at) {
                Some(Some(_)) => how.push(format!(
                    "pass {keyword}= its {what} at {at} ({shape}) or a callable Y -> {what}"
                )),
                Some(None) => how.push(format!(
                    "pass {keyword}= a callable Y -> {what} of {name} at Y"
                )),
                None => {}
            }
        }
        if how.is_empty() {
            continue;
        }
        h.push(format!(
            "{name} is an abstract function: {}.",
            how.join("; ")
        ));
    }
    if has_abstract {
        h.push(
            "value(**variables) takes each abstract function as a callable (L=lambda Y: …).".into(),
        );
    }
    let sampled: Vec<String> = domains
        .iter()
        .map(|(n, dm)| format!("{n}: {}", dm.name()))
        .collect();
    h.push(format!(
        "check_gradient(seed=0) compares every derivative with central finite differences of \
         value() along random directions, at samples drawn from {}{}.",
        sampled.join(", "),
        if has_abstract {
            ", with each abstract function instantiated as L(Y) = sum(sin(Y)) + 0.5*norm2(Y)^2"
        } else {
            ""
        }
    ));
    let mut out = String::new();
    for line in h {
        if line.is_empty() {
            out.push_str("#\n");
        } else {
            for wrapped in wrap(&line, 78) {
                out.push_str(&format!("# {wrapped}\n"));
            }
        }
    }
    out
}

/// Words of `line` in lines of at most `width` characters (leading spaces
/// kept on the first).
fn wrap(line: &str, width: usize) -> Vec<String> {
    let lead = line.len() - line.trim_start().len();
    let mut out = Vec::new();
    let mut current = line[..lead].to_string();
    for word in line.split_whitespace() {
        if current.trim().is_empty() {
            current.push_str(word);
        } else if current.chars().count() + 1 + word.chars().count() > width {
            out.push(std::mem::take(&mut current));
            current = format!("  {word}");
        } else {
            current.push(' ');
            current.push_str(word);
        }
    }
    out.push(current);
    out
}

fn imports(target: Target) -> String {
    match target {
        Target::Numpy => "\nimport itertools\n\nimport numpy as np\n".into(),
        Target::Jax => "\nimport itertools\n\nimport jax\nimport numpy as np\n\n\
                        jax.config.update(\"jax_enable_x64\", True)\n\n\
                        import jax.numpy as jnp  # noqa: E402\n"
            .into(),
    }
}

/// The argument helpers (always) and the used operation helpers.
fn helper_sources(target: Target, helpers: &BTreeSet<Helper>) -> String {
    let xp = target.module();
    let mut out = String::new();
    let mut sources: Vec<&str> = vec![TAKE];
    sources.extend(helpers.iter().map(|h| h.source()));
    for s in sources {
        out.push_str("\n\n");
        out.push_str(&s.replace("xp.", &format!("{xp}.")));
    }
    out
}

/// `_take`, `_function`, `_no_more`: the arguments checked against their
/// layout.
const TAKE: &str = r#"def _shape_text(layout):
    return "(" + ", ".join(str(d) for d in layout) + ("," if len(layout) == 1 else "") + ")"


def _take(variables, name, rows, cols, sizes):
    """The argument `name` as a 2-D (rows, cols) array, after checking its shape
    against the layout (rows and cols other than 1); binds symbolic sizes."""
    if name not in variables:
        raise TypeError(f"missing argument {name!r}")
    value = xp.asarray(variables.pop(name), dtype=float)
    layout = tuple(d for d in (rows, cols) if d != 1)
    if value.ndim != len(layout):
        raise ValueError(f"{name} must have shape {_shape_text(layout)}, not {tuple(value.shape)}")
    for want, got in zip(layout, value.shape):
        if isinstance(want, str):
            if sizes.setdefault(want, got) != got:
                raise ValueError(
                    f"{name} has shape {tuple(value.shape)}, but {want} = {sizes[want]} from an earlier argument"
                )
        elif want != got:
            raise ValueError(f"{name} must have shape {_shape_text(layout)}, not {tuple(value.shape)}")
    return xp.reshape(value, tuple(sizes[d] if isinstance(d, str) else d for d in (rows, cols)))


def _function(variables, name, rows, cols, sizes):
    """An abstract function (or its gradient): a callable, or, when it is taken at
    one argument only, its value (gradient) there, checked like a variable."""
    if name not in variables:
        raise TypeError(f"missing argument {name!r}")
    if callable(variables[name]):
        return variables.pop(name)
    if rows is None:
        raise TypeError(f"{name} is taken at several arguments: pass a callable")
    return _take(variables, name, rows, cols, sizes)


def _no_more(variables):
    if variables:
        raise TypeError(f"unexpected argument(s) {sorted(variables)}")
"#;

/// The Python tables `check_gradient` reads, and the function.
fn check_gradient(
    target: Target,
    variables: &Variables<'_>,
    domains: &BTreeMap<String, crate::numeric::Domain>,
    outputs: &[Output],
    derivative_params: &FunctionParams,
    value_params: &FunctionParams,
    typed: &Typed,
) -> String {
    let vars = &typed.vars;
    let xp = target.module();
    let symmetric: Vec<String> = typed.symmetric.iter().map(|n| format!("\"{n}\"")).collect();
    let layouts: Vec<String> = vars
        .iter()
        .map(|(n, s)| {
            let dims: Vec<String> = shape_layout(s).iter().map(dim_literal).collect();
            let tuple = match dims.as_slice() {
                [one] => format!("({one},)"),
                _ => format!("({})", dims.join(", ")),
            };
            format!("\"{n}\": {tuple}")
        })
        .collect();
    let sizes: Vec<String> = concrete_sizes(vars)
        .iter()
        .filter(|(n, _)| variables.sizes.contains(n))
        .map(|(n, v)| format!("\"{n}\": {v}"))
        .collect();
    let domain_list: Vec<String> = domains
        .iter()
        .map(|(n, d)| format!("\"{n}\": \"{}\"", d.name()))
        .collect();
    let derivative_list: Vec<String> = outputs
        .iter()
        .map(|o| {
            let names: Vec<String> = o.key.split(',').map(|w| format!("\"{w}\"")).collect();
            format!("\"{}\": ({},)", o.key, names.join(", "))
        })
        .collect();
    // Each keyword of an abstract function and what it is.
    let kinds = |params: &FunctionParams| -> String {
        let items: Vec<String> = params
            .iter()
            .map(|(p, param)| {
                let kind = param.kind.name();
                format!("\"{p}\": \"{kind}\"")
            })
            .collect();
        format!("{{{}}}", items.join(", "))
    };
    // JAX compiles each function once; run op by op, every operation
    // would be compiled for its shapes on first use instead.
    let (evaluate, evaluate_value, compile_value) = match target {
        Target::Numpy => (
            "derivatives(**point, **for_derivatives)",
            "value(**args, **for_value)",
            "",
        ),
        Target::Jax => (
            "jax.jit(lambda args: derivatives(**args, **for_derivatives))(point)",
            "fast_value(args)",
            "    fast_value = jax.jit(lambda args: value(**args, **for_value))\n",
        ),
    };
    format!(
        r#"

_LAYOUTS = {{{layouts}}}
_CHECK_SIZES = {{{sizes}}}
_DOMAINS = {{{domains}}}
_SYMMETRIC = {{{symmetric}}}
_DERIVATIVES = {{{derivatives}}}
_FOR_DERIVATIVES = {for_derivatives}
_FOR_VALUE = {for_value}


def _instance_value(y):
    """The instantiation of an abstract function in check_gradient."""
    return {xp}.sum({xp}.sin(y)) + 0.5 * {xp}.sum(y * y)


def _instance_gradient(y):
    """The gradient of _instance_value."""
    return {xp}.cos(y) + y


def _instance_hessian(y):
    """The Hessian of _instance_value at a column (or scalar) y."""
    return {xp}.diag(1.0 - {xp}.sin({xp}.ravel(y)))


{SAMPLER}

def _difference(f, point, moves):
    """The derivative of f at point along moves (one direction per variable
    differentiated by; two make a second derivative): central differences
    with one Richardson extrapolation."""
    order = len(moves)
    scale = max([1.0] + [float(np.max(np.abs(point[name]), initial=0.0)) for name, _ in moves])
    size = max(float(np.max(np.abs(u), initial=0.0)) for _, u in moves) or 1.0
    h = (1e-5 if order == 1 else 1e-3) * scale / size

    def at(h):
        total = 0.0
        for signs in itertools.product((1.0, -1.0), repeat=order):
            moved = dict(point)
            for (name, u), s in zip(moves, signs):
                moved[name] = moved[name] + s * h * u
            total = total + np.prod(signs) * f(moved)
        return total / (2.0 * h) ** order

    return (4.0 * at(h / 2.0) - at(h)) / 3.0


def check_gradient(seed=0, tol=1e-6, directions=3, sizes=None):
    """Compares every derivative with finite differences of value() along
    `directions` random directions at a random sample (symbolic sizes from
    `sizes`, else small distinct ones). Returns the relative error of each
    derivative; raises AssertionError when one exceeds `tol`."""
    rng = np.random.default_rng(seed)
    sizes = dict(_CHECK_SIZES, **(sizes or {{}}))
    instances = {{"value": _instance_value, "gradient": _instance_gradient, "hessian": _instance_hessian}}
    for_value = {{name: instances[kind] for name, kind in _FOR_VALUE.items()}}
    for_derivatives = {{name: instances[kind] for name, kind in _FOR_DERIVATIVES.items()}}
{compile_value}
    def f(args):
        return np.asarray({evaluate_value}, dtype=float)

    for _ in range(50):
        point = {{
            name: _sample(rng, _DOMAINS[name], tuple(sizes[d] if isinstance(d, str) else d for d in layout))
            for name, layout in _LAYOUTS.items()
        }}
        if np.all(np.isfinite(f(point))):
            break
    else:
        raise AssertionError("no sample where the expression is finite")
    got = {evaluate}
    errors = {{}}
    for key, wrt in _DERIVATIVES.items():
        claimed = np.asarray(got[key], dtype=float)
        worst, scale = 0.0, 0.0
        for _ in range(directions):
            moves = [(name, rng.standard_normal(np.shape(point[name]))) for name in wrt]
            # A symmetric variable moves along symmetric directions; the
            # claim is contracted with the raw ones, so an antisymmetric
            # part of it shows.
            along = [(name, (u + u.T) / 2.0 if name in _SYMMETRIC else u) for name, u in moves]
            reference = _difference(f, point, along)
            contracted = claimed
            for _, u in reversed(moves):
                contracted = np.tensordot(contracted, u, axes=np.ndim(u))
            worst = max(worst, float(np.max(np.abs(contracted - reference), initial=0.0)))
            scale = max(scale, float(np.max(np.abs(reference), initial=0.0)))
        errors[key] = worst / max(scale, 1e-4)
    failed = {{key: e for key, e in errors.items() if not e <= tol}}
    if failed:
        raise AssertionError(f"derivatives disagree with finite differences: {{failed}}")
    return errors
"#,
        layouts = layouts.join(", "),
        sizes = sizes.join(", "),
        domains = domain_list.join(", "),
        symmetric = symmetric.join(", "),
        derivatives = derivative_list.join(", "),
        for_value = kinds(value_params),
        for_derivatives = kinds(derivative_params),
    )
}
