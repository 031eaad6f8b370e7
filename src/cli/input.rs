//! Reading what the user gave: the expression argument (`-` reads standard
//! input) and the `--let` declarations.
//!
//! Invariant: everything that leaves this module is valid UTF-8 text of
//! bounded size, and every failure is a [`CliError`] with a clear message.

use std::cell::RefCell;
use std::io::Read;

use matcalc::syntax::{Decls, Diagnostic};

use super::error::{CliError, ErrorKind};

/// The argument that stands for standard input.
pub const STDIN: &str = "-";

/// The largest input read from standard input, in bytes.
pub const MAX_INPUT_BYTES: usize = 16 << 20;

thread_local! {
    /// The expressions read on this thread, kept for the warnings written
    /// after the command has run.
    static READ: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// The most tokens (names, numbers, operators, brackets) an expression
/// may have. The parser takes about 300 bytes and
/// 3 µs per token, so this keeps parsing within about 400 MiB and 4 s, well
/// inside the 1 GiB and 10 s any command line may take; an expression this
/// long is not one a person derives.
pub const MAX_INPUT_TOKENS: usize = 1_250_000;

/// The expression text: the argument itself, or standard input for `-`,
/// refused before it is parsed when it has more than [`MAX_INPUT_TOKENS`]
/// tokens.
pub fn expression(arg: &str) -> Result<String, CliError> {
    let text = if arg == STDIN {
        read_stdin()?
    } else {
        arg.to_string()
    };
    READ.with(|read| read.borrow_mut().push(text.clone()));
    bound_tokens(&text, "the expression")?;
    Ok(text)
}

/// The expressions read so far on this thread, forgotten once taken.
pub fn take_expressions() -> Vec<String> {
    READ.with(|read| std::mem::take(&mut *read.borrow_mut()))
}

/// An upper bound on the tokens of `text`: each run of name characters
/// (letters, digits, `_`, `.`) counts once, every other character that is
/// not white space once. Cheap (one pass, no allocation) and never below
/// the parser's count.
pub fn token_count(text: &str) -> usize {
    let mut count = 0;
    let mut in_word = false;
    for c in text.chars() {
        let word = c.is_alphanumeric() || c == '_' || c == '.';
        if word {
            count += usize::from(!in_word);
        } else if !c.is_whitespace() {
            count += 1;
        }
        in_word = word;
    }
    count
}

/// Refuses `text` (named `what` in the message) when it has more than
/// [`MAX_INPUT_TOKENS`] tokens.
pub fn bound_tokens(text: &str, what: &str) -> Result<(), CliError> {
    let tokens = token_count(text);
    if tokens > MAX_INPUT_TOKENS {
        return Err(CliError::plain(
            ErrorKind::Limit,
            Diagnostic::new(format!(
                "{what} has about {tokens} tokens, more than the limit of {MAX_INPUT_TOKENS}"
            ))
            .with_help("split the expression, or name a subexpression with --let"),
        ));
    }
    Ok(())
}

/// All `--let` strings, later ones overriding earlier ones.
pub fn declarations(lets: &[String]) -> Result<Decls, CliError> {
    let mut decls = Decls::new();
    for text in lets {
        decls
            .extend_from_str(text)
            .map_err(|err| CliError::declaration(&err))?;
    }
    Ok(decls)
}

fn read_stdin() -> Result<String, CliError> {
    let mut bytes = Vec::new();
    let limit = u64::try_from(MAX_INPUT_BYTES).unwrap_or(u64::MAX);
    std::io::stdin()
        .lock()
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|err| {
            CliError::plain(
                ErrorKind::Input,
                Diagnostic::new(format!("cannot read standard input: {err}")),
            )
        })?;
    decode(bytes)
}

/// Checks the size and the encoding of bytes read from standard input.
fn decode(bytes: Vec<u8>) -> Result<String, CliError> {
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(CliError::plain(
            ErrorKind::Input,
            Diagnostic::new(format!(
                "standard input is larger than the limit of {} MiB",
                MAX_INPUT_BYTES >> 20
            )),
        ));
    }
    String::from_utf8(bytes).map_err(|err| {
        let at = err.utf8_error().valid_up_to();
        let byte = err.as_bytes()[at];
        CliError::plain(
            ErrorKind::Input,
            Diagnostic::new(format!(
                "standard input is not valid UTF-8: byte 0x{byte:02x} at offset {at}"
            ))
            .with_help("matcalc reads expressions as UTF-8 text"),
        )
    })
}

/// A corpus file for `--cases`, each of its lines refused before it is
/// parsed when it has more than [`MAX_INPUT_TOKENS`] tokens.
pub fn cases_file(path: &std::path::Path) -> Result<String, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        CliError::plain(
            ErrorKind::Input,
            Diagnostic::new(format!("cannot read {}: {e}", path.display())),
        )
    })?;
    for (number, line) in text.lines().enumerate() {
        bound_tokens(line, &format!("line {} of {}", number + 1, path.display()))?;
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_names_the_first_bad_byte() {
        let err = decode(b"X*W\xff".to_vec()).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Input);
        assert!(
            err.diagnostic.message.contains("0xff at offset 3"),
            "{}",
            err.diagnostic.message
        );
    }

    #[test]
    fn decode_rejects_oversized_input() {
        let err = decode(vec![b' '; MAX_INPUT_BYTES + 1]).unwrap_err();
        assert!(err.diagnostic.message.contains("limit"));
        assert_eq!(decode(b"x".to_vec()).unwrap(), "x");
    }

    #[test]
    fn tokens_are_counted_from_above_and_long_inputs_refused() {
        assert_eq!(token_count("x'*A*x"), 6);
        assert_eq!(token_count("  sum(exp(X1))  "), 7);
        assert_eq!(token_count("2.5e-3*x"), 5);
        let long = "x + ".repeat(MAX_INPUT_TOKENS / 2) + "x";
        let err = bound_tokens(&long, "the expression").unwrap_err();
        assert_eq!(err.kind, ErrorKind::Limit);
        assert!(
            err.diagnostic.message.contains("tokens"),
            "{}",
            err.diagnostic.message
        );
        assert!(bound_tokens(&"x + ".repeat(1000), "it").is_ok());
    }

    #[test]
    fn later_declarations_override_earlier_ones() {
        let decls = declarations(&["x: 3".to_string(), "x: scalar".to_string()]).unwrap();
        assert!(decls.is_value("x"));
        let err = declarations(&["X: 0x3".to_string()]).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Declaration);
        assert_eq!(err.source, "X: 0x3");
    }
}
