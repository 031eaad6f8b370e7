//! The `matcalc` command line: clap definitions, the dispatch to one module
//! per subcommand, and the process edge (a big-stack worker thread, printing,
//! exit codes).
//!
//! Invariant: this is the only place that prints. Each subcommand is one file
//! that implements [`Run`] and one variant of [`Command`]; the options every
//! command shares (`--format`, `--let`) live on [`Cli`].

mod check;
mod derive;
mod equal;
mod error;
mod eval;
mod exit;
mod input;
mod output;
mod parse;
mod simplify;

use std::ffi::OsString;
use std::io::Write;
use std::sync::Mutex;

use clap::{Parser, Subcommand, ValueEnum};

use matcalc::syntax::{Decls, Diagnostic};

use error::{CliError, ErrorKind};
use exit::Exit;
use output::{Format, Rendered, Report};

/// Stack of the thread that runs a command. The parser's limits keep
/// recursion far below this; it is reserved address space, not memory used.
const STACK_BYTES: usize = 512 << 20;

const ABOUT: &str =
    "Symbolic matrix calculus: parse, shape-check and differentiate matrix expressions.";

const EXAMPLES: &str = "\
Examples:
  matcalc derive 'L(X*W + B)' --wrt X          ∂L/∂X = ∂L/∂Y·Wᵀ
  matcalc derive \"x'*A*x\" --wrt x --order 2    the Hessian
  matcalc derive 'log(det(X))' --wrt X --check
  matcalc simplify \"(A*B)' + B'*A'\"
  matcalc equal 'tr(A*B)' 'tr(B*A)'
  matcalc check 'tr(A*X)' --wrt X --claim \"A'\"
  matcalc eval 'tr(A*B)' --at 'A=[[1,2],[3,4]]; B=[[0,1],[1,0]]'
  matcalc parse 'L(X*W + B)' --format json
  echo 'tr(A*X)' | matcalc derive - --wrt X";

/// `matcalc`: symbolic matrix calculus.
#[derive(Debug, Parser)]
#[command(
    name = "matcalc",
    version,
    about = ABOUT,
    after_help = format!("{EXAMPLES}\n\n{}", Exit::help_section()),
    propagate_version = true,
)]
struct Cli {
    #[command(subcommand)]
    command: Command,

    /// Output format; with json, errors are JSON too.
    #[arg(long, value_enum, global = true, default_value_t = Format::Text)]
    format: Format,

    /// Shape declarations, e.g. 'X: n x k, W: 4x3, b: m, s: scalar, f:
    /// function'. Repeatable; later ones override earlier ones. Undeclared
    /// names default to a–g scalar, h–z column vector, A–Z matrix.
    #[arg(long = "let", value_name = "DECLS", global = true)]
    lets: Vec<String>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Differentiate: gradients, Jacobians, Hessians (the main job).
    Derive(derive::DeriveArgs),
    /// Simplify any matrix expression to its canonical form.
    Simplify(simplify::SimplifyArgs),
    /// Decide whether two expressions are equal (exit 3 if they differ).
    Equal(equal::EqualArgs),
    /// Parse an expression and show the shape of every subexpression.
    Parse(parse::ParseArgs),
    /// Evaluate an expression on given or random values.
    Eval(eval::EvalArgs),
    /// Check a claimed derivative against finite differences (exit 3 if refuted).
    Check(check::CheckArgs),
}

/// A subcommand: runs on the parsed declarations and returns its report.
trait Run {
    /// Does the command's work; printing is left to the caller.
    fn run(&self, decls: &Decls) -> Result<Box<dyn Report>, CliError>;
}

impl Command {
    fn runner(&self) -> &dyn Run {
        match self {
            Command::Derive(args) => args,
            Command::Simplify(args) => args,
            Command::Equal(args) => args,
            Command::Parse(args) => args,
            Command::Eval(args) => args,
            Command::Check(args) => args,
        }
    }
}

/// Runs `matcalc` with the process's arguments and returns its exit code.
pub fn main() -> std::process::ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let rendered = match Cli::try_parse_from(&args) {
        Ok(cli) => {
            let format = cli.format;
            on_big_stack(move || execute(&cli), format)
        }
        Err(err) => command_line_error(&err, &args),
    };
    print(&rendered).into()
}

/// Runs a parsed command line to its rendered output.
fn execute(cli: &Cli) -> Rendered {
    let decls = input::declarations(&cli.lets);
    let result = decls
        .as_ref()
        .map_err(Clone::clone)
        .and_then(|decls| cli.command.runner().run(decls));
    let mut rendered = match result {
        Ok(report) => output::report(report.as_ref(), cli.format),
        Err(err) => output::error(&err, cli.format),
    };
    if let Ok(decls) = &decls {
        rendered.stderr.insert_str(0, &warnings(decls));
    }
    rendered
}

/// The warnings about the expressions the command read, rendered for
/// standard error (they come before any error message).
fn warnings(decls: &Decls) -> String {
    let mut out = String::new();
    for source in input::take_expressions() {
        let Ok(formula) = matcalc::syntax::parse_formula(&source, decls) else {
            continue;
        };
        for warning in matcalc::syntax::warnings(&formula, decls) {
            out.push_str(&warning.diagnostic().render_warning(&source));
        }
    }
    out
}

/// `--help` and `--version` go to standard output with exit code 0; other
/// clap errors are usage errors, in JSON when `--format json` was given.
fn command_line_error(err: &clap::Error, args: &[OsString]) -> Rendered {
    let text = err.render().to_string();
    if !err.use_stderr() {
        return Rendered {
            stdout: text,
            stderr: String::new(),
            exit: Exit::Ok,
        };
    }
    output::usage_error(&text, requested_format(args))
}

/// The `--format` asked for on a command line that clap rejected.
fn requested_format(args: &[OsString]) -> Format {
    let args: Vec<&str> = args.iter().filter_map(|a| a.to_str()).collect();
    args.iter()
        .enumerate()
        .find_map(|(i, arg)| match arg.strip_prefix("--format") {
            Some(rest) if rest.starts_with('=') => Some(&rest[1..]),
            Some("") => args.get(i + 1).copied(),
            _ => None,
        })
        .and_then(|name| Format::from_str(name, true).ok())
        .unwrap_or_default()
}

/// The message of the last panic, kept by the panic hook for the report.
static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

/// Runs `job` on a thread with a large stack. A panic (a bug) becomes an
/// internal error rather than a crash.
fn on_big_stack(job: impl FnOnce() -> Rendered + Send + 'static, format: Format) -> Rendered {
    std::panic::set_hook(Box::new(|info| {
        if let Ok(mut last) = LAST_PANIC.lock() {
            *last = Some(info.to_string());
        }
    }));
    let worker = std::thread::Builder::new()
        .name("matcalc".to_string())
        .stack_size(STACK_BYTES)
        .spawn(job);
    let outcome = match worker {
        Ok(handle) => handle.join().map_err(|_| {
            let last = LAST_PANIC.lock().ok().and_then(|mut l| l.take());
            last.unwrap_or_else(|| "a command panicked".to_string())
        }),
        Err(err) => Err(format!("cannot start the worker thread: {err}")),
    };
    outcome.unwrap_or_else(|message| {
        let diagnostic = Diagnostic::new(format!("internal error: {message}"))
            .with_help("this is a bug in matcalc; please report it with the command line");
        output::error(&CliError::plain(ErrorKind::Internal, diagnostic), format)
    })
}

/// Writes the output. A closed pipe (`matcalc … | head`) is not an error.
fn print(rendered: &Rendered) -> Exit {
    let written = std::io::stdout()
        .lock()
        .write_all(rendered.stdout.as_bytes())
        .and_then(|()| std::io::stdout().flush());
    // Nothing useful can be done when standard error itself is gone.
    let _ = std::io::stderr()
        .lock()
        .write_all(rendered.stderr.as_bytes());
    match written {
        Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => {
            let _ = writeln!(std::io::stderr(), "error: cannot write the output: {err}");
            Exit::UserError
        }
        _ => rendered.exit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn format_is_found_on_a_rejected_command_line() {
        let args = |list: &[&str]| list.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(
            requested_format(&args(&["matcalc", "--format", "json", "nope"])),
            Format::Json
        );
        assert_eq!(
            requested_format(&args(&["matcalc", "parse", "--format=latex"])),
            Format::Latex
        );
        assert_eq!(
            requested_format(&args(&["matcalc", "--format"])),
            Format::Text
        );
    }
}
