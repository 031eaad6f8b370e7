//! Characters that do not show, or show as a plain space, in a terminal:
//! control characters, non-ASCII spaces and Unicode format characters. The
//! parser refuses them by code point and name, since printing them raw in
//! an error message shows nothing the reader could find.

/// Names of the invisible characters that text pasted from documents, web
/// pages and chat most often carries.
const NAMED: [(u32, &str); 45] = [
    (0x00, "NULL"),
    (0x07, "BELL"),
    (0x08, "BACKSPACE"),
    (0x0B, "LINE TABULATION"),
    (0x0C, "FORM FEED"),
    (0x1B, "ESCAPE"),
    (0x7F, "DELETE"),
    (0x85, "NEXT LINE"),
    (0xA0, "NO-BREAK SPACE"),
    (0xAD, "SOFT HYPHEN"),
    (0x034F, "COMBINING GRAPHEME JOINER"),
    (0x061C, "ARABIC LETTER MARK"),
    (0x1680, "OGHAM SPACE MARK"),
    (0x180E, "MONGOLIAN VOWEL SEPARATOR"),
    (0x2000, "EN QUAD"),
    (0x2001, "EM QUAD"),
    (0x2002, "EN SPACE"),
    (0x2003, "EM SPACE"),
    (0x2004, "THREE-PER-EM SPACE"),
    (0x2005, "FOUR-PER-EM SPACE"),
    (0x2006, "SIX-PER-EM SPACE"),
    (0x2007, "FIGURE SPACE"),
    (0x2008, "PUNCTUATION SPACE"),
    (0x2009, "THIN SPACE"),
    (0x200A, "HAIR SPACE"),
    (0x200B, "ZERO WIDTH SPACE"),
    (0x200C, "ZERO WIDTH NON-JOINER"),
    (0x200D, "ZERO WIDTH JOINER"),
    (0x200E, "LEFT-TO-RIGHT MARK"),
    (0x200F, "RIGHT-TO-LEFT MARK"),
    (0x2028, "LINE SEPARATOR"),
    (0x2029, "PARAGRAPH SEPARATOR"),
    (0x202A, "LEFT-TO-RIGHT EMBEDDING"),
    (0x202B, "RIGHT-TO-LEFT EMBEDDING"),
    (0x202C, "POP DIRECTIONAL FORMATTING"),
    (0x202D, "LEFT-TO-RIGHT OVERRIDE"),
    (0x202E, "RIGHT-TO-LEFT OVERRIDE"),
    (0x202F, "NARROW NO-BREAK SPACE"),
    (0x205F, "MEDIUM MATHEMATICAL SPACE"),
    (0x2060, "WORD JOINER"),
    (0x2061, "FUNCTION APPLICATION"),
    (0x2062, "INVISIBLE TIMES"),
    (0x2063, "INVISIBLE SEPARATOR"),
    (0x3000, "IDEOGRAPHIC SPACE"),
    (0xFEFF, "ZERO WIDTH NO-BREAK SPACE (BYTE ORDER MARK)"),
];

/// How an invisible character is described: `U+00A0 NO-BREAK SPACE`, or
/// the code point and its kind for one without a name in the table. `None`
/// for a visible character and for the plain white space the grammar
/// allows (space, tab, carriage return, line feed).
pub fn describe(c: char) -> Option<String> {
    if matches!(c, ' ' | '\t' | '\r' | '\n') {
        return None;
    }
    let code = c as u32;
    let named = NAMED.iter().find(|(at, _)| *at == code).map(|(_, n)| *n);
    let kind = if let Some(name) = named {
        name
    } else if c.is_control() {
        "a control character"
    } else if c.is_whitespace() {
        "a space character"
    } else if is_format(code) {
        "an invisible format character"
    } else {
        return None;
    };
    Some(format!("U+{code:04X} {kind}"))
}

/// True for the format characters (general category Cf) outside the table:
/// bidirectional isolates, invisible operators, interlinear annotation,
/// tags and variation selectors.
fn is_format(code: u32) -> bool {
    matches!(code,
        0x2064..=0x206F | 0xFE00..=0xFE0F | 0xFFF9..=0xFFFB | 0x1D173..=0x1D17A
        | 0xE0000..=0xE007F | 0xE0100..=0xE01EF)
}

/// The first invisible character of `text`: its byte offset and description.
pub fn find(text: &str) -> Option<(usize, char, String)> {
    text.char_indices()
        .find_map(|(at, c)| describe(c).map(|d| (at, c, d)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_kinds() {
        assert_eq!(describe('\u{a0}').as_deref(), Some("U+00A0 NO-BREAK SPACE"));
        assert_eq!(describe('\0').as_deref(), Some("U+0000 NULL"));
        assert_eq!(
            describe('\u{200b}').as_deref(),
            Some("U+200B ZERO WIDTH SPACE")
        );
        assert_eq!(
            describe('\u{1}').as_deref(),
            Some("U+0001 a control character")
        );
        assert_eq!(
            describe('\u{2066}').as_deref(),
            Some("U+2066 an invisible format character")
        );
        for visible in [' ', '\t', '\n', 'x', '·', 'ᵀ', '𝟙', 'é'] {
            assert_eq!(describe(visible), None, "{visible:?}");
        }
        assert_eq!(find("a +\u{feff}b").map(|(at, _, _)| at), Some(3));
    }
}
