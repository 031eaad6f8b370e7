//! Korean particles (조사) after math: whether a particle takes its
//! consonant form (`을`, `은`, `이`, `과`, `으로`) depends on how the word
//! before it is read aloud. A formula is read by its last symbol: a Hangul
//! syllable by its final consonant, a digit in Sino-Korean (일, 이, 삼, …),
//! a Latin letter by its Korean letter name (엘, 엠, 엔, 알 end in a
//! consonant; 에이, 비, 와이, … do not), sub- and superscripts as the
//! letters and digits they are; closing brackets and spaces are skipped.
//! Invariant: pure; imports nothing.

/// A particle that has a form after a vowel and one after a consonant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Particle {
    /// The object marker 를/을.
    Object,
    /// The topic marker 는/은.
    Topic,
    /// The subject marker 가/이.
    Subject,
    /// "and, with" 와/과.
    With,
    /// "as, to" 로/으로 (로 also after ㄹ).
    As,
}

/// How a word's reading ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ending {
    Vowel,
    /// The final consonant ㄹ, which takes 로 but 을, 은, 이, 과.
    Rieul,
    Consonant,
}

impl Particle {
    /// The form of the particle that follows `text`.
    pub fn after(self, text: &str) -> &'static str {
        let ending = ending(text);
        let consonant = ending != Ending::Vowel;
        match self {
            Particle::Object if consonant => "을",
            Particle::Object => "를",
            Particle::Topic if consonant => "은",
            Particle::Topic => "는",
            Particle::Subject if consonant => "이",
            Particle::Subject => "가",
            Particle::With if consonant => "과",
            Particle::With => "와",
            Particle::As if ending == Ending::Consonant => "으로",
            Particle::As => "로",
        }
    }
}

/// How the reading of `text` ends, decided by its last symbol read aloud;
/// a gloss in parentheses after a Hangul word (`대각합(tr)`) is not read.
fn ending(text: &str) -> Ending {
    let text = without_gloss(text);
    let last = text
        .chars()
        .rev()
        .find(|c| !matches!(c, ')' | ']' | '}' | ' ' | '.' | ',' | '\''));
    match last.map(plain) {
        Some(c) if ('가'..='힣').contains(&c) => match (u32::from(c) - u32::from('가')) % 28 {
            0 => Ending::Vowel,
            8 => Ending::Rieul,
            _ => Ending::Consonant,
        },
        // 영, 삼, 육 end in a consonant; 일, 칠, 팔 in ㄹ; 이, 사, 오, 구 in a vowel.
        Some('0' | '3' | '6') => Ending::Consonant,
        Some('1' | '7' | '8') => Ending::Rieul,
        // 엘, 알; 엠, 엔.
        Some('l' | 'L' | 'r' | 'R') => Ending::Rieul,
        Some('m' | 'M' | 'n' | 'N') => Ending::Consonant,
        _ => Ending::Vowel,
    }
}

/// `text` without a final parenthesised gloss that follows a Hangul
/// syllable; any other text as it is.
fn without_gloss(text: &str) -> &str {
    let Some(inner) = text.strip_suffix(')') else {
        return text;
    };
    let mut depth = 1;
    for (at, c) in inner.char_indices().rev() {
        depth += match c {
            ')' => 1,
            '(' => -1,
            _ => 0,
        };
        if depth == 0 {
            let before = &inner[..at];
            return match before.chars().next_back() {
                Some(h) if ('가'..='힣').contains(&h) => before,
                _ => text,
            };
        }
    }
    text
}

/// A sub- or superscript letter or digit as the plain symbol it writes.
fn plain(c: char) -> char {
    match c {
        '₀' | '⁰' => '0',
        '₁' | '¹' => '1',
        '₃' | '³' => '3',
        '₆' | '⁶' => '6',
        '₇' | '⁷' => '7',
        '₈' | '⁸' => '8',
        'ₗ' => 'l',
        'ₘ' => 'm',
        'ₙ' | 'ⁿ' => 'n',
        'ᵣ' => 'r',
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::Particle::*;

    #[test]
    fn the_particle_follows_the_reading_of_the_last_symbol() {
        assert_eq!(Object.after("Y"), "를");
        assert_eq!(Object.after("1"), "을");
        assert_eq!(Object.after("−1"), "을");
        assert_eq!(Object.after("2"), "를");
        assert_eq!(Object.after("∂L/∂Y"), "를");
        assert_eq!(Object.after("−(y ⊙ (1 ⊘ U))"), "를");
        assert_eq!(Topic.after("∂L/∂X"), "는");
        assert_eq!(Topic.after("M"), "은");
        assert_eq!(Subject.after("δᵢₖ"), "가");
        assert_eq!(Subject.after("δₚₗ"), "이");
        assert_eq!(With.after("P"), "와");
        assert_eq!(With.after("X⁻¹"), "과");
        assert_eq!(As.after("i = k"), "로");
        assert_eq!(As.after("j = l"), "로");
        assert_eq!(As.after("i = m"), "으로");
        assert_eq!(As.after("행렬 곱"), "으로");
        assert_eq!(As.after("전치"), "로");
        assert_eq!(As.after("대각합(tr)"), "으로");
        assert_eq!(As.after("행렬"), "로");
    }
}
