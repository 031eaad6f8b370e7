//! The Unicode sub- and superscript characters matcalc prints, in one table
//! each, so that the Unicode printer and the parser (which reads that
//! output back) agree on them.

/// The letters that have a subscript form, with it.
const SUBSCRIPT_LETTERS: [(char, char); 17] = [
    ('a', 'ₐ'),
    ('e', 'ₑ'),
    ('h', 'ₕ'),
    ('i', 'ᵢ'),
    ('j', 'ⱼ'),
    ('k', 'ₖ'),
    ('l', 'ₗ'),
    ('m', 'ₘ'),
    ('n', 'ₙ'),
    ('o', 'ₒ'),
    ('p', 'ₚ'),
    ('r', 'ᵣ'),
    ('s', 'ₛ'),
    ('t', 'ₜ'),
    ('u', 'ᵤ'),
    ('v', 'ᵥ'),
    ('x', 'ₓ'),
];

/// The superscript digits `⁰`…`⁹`, in order.
const SUPERSCRIPT_DIGITS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];

/// The superscript minus.
pub const SUPERSCRIPT_MINUS: char = '⁻';

/// The subscript form of a digit or of one of the letters
/// `a e h i j k l m n o p r s t u v x`.
pub fn subscript(c: char) -> Option<char> {
    match c {
        '0'..='9' => char::from_u32('₀' as u32 + (c as u32 - '0' as u32)),
        _ => SUBSCRIPT_LETTERS
            .iter()
            .find(|(plain, _)| *plain == c)
            .map(|(_, sub)| *sub),
    }
}

/// The plain character of a subscript digit or letter.
pub fn from_subscript(c: char) -> Option<char> {
    match c {
        '₀'..='₉' => char::from_u32('0' as u32 + (c as u32 - '₀' as u32)),
        _ => SUBSCRIPT_LETTERS
            .iter()
            .find(|(_, sub)| *sub == c)
            .map(|(plain, _)| *plain),
    }
}

/// The superscript form of a digit, `-` or `+`.
pub fn superscript(c: char) -> Option<char> {
    match c {
        '0'..='9' => Some(SUPERSCRIPT_DIGITS[c as usize - '0' as usize]),
        '-' => Some(SUPERSCRIPT_MINUS),
        '+' => Some('⁺'),
        _ => None,
    }
}

/// The plain character of a superscript digit or minus.
pub fn from_superscript(c: char) -> Option<char> {
    if c == SUPERSCRIPT_MINUS {
        return Some('-');
    }
    let digit = SUPERSCRIPT_DIGITS.iter().position(|d| *d == c)?;
    char::from_digit(digit as u32, 10)
}

/// `text` with every sub- or superscript character made plain by `plain`.
pub fn plain_text(text: &str, plain: fn(char) -> Option<char>) -> Option<String> {
    text.chars().map(plain).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_invert() {
        for c in "0123456789aehijklmnoprstuvx".chars() {
            assert_eq!(subscript(c).and_then(from_subscript), Some(c));
        }
        for c in "0123456789-".chars() {
            assert_eq!(superscript(c).and_then(from_superscript), Some(c));
        }
        assert_eq!(subscript('b'), None);
        assert_eq!(
            plain_text("⁻³⁰⁰", from_superscript).as_deref(),
            Some("-300")
        );
    }
}
