//! What each step of a proof says, in English and in Korean: one table
//! keyed by the kind of step ([`Say`]), two languages per entry, with the
//! math left to the caller's notation (Unicode for text, `$…$` for
//! Markdown and LaTeX). Korean follows the terms of the Korean edition of
//! *Deep Learning from Scratch*: 편미분, 연쇄 법칙, 크로네커 델타, 전치 행렬,
//! 기울기. Invariant: pure string building.

use super::josa::Particle::{self, As, Object, Subject, Topic, With};
use crate::index::RaiseRule;
use crate::simplify::{Fact, Used};

/// The language a proof is written in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Korean.
    Ko,
}

/// A piece of math in both notations: Unicode (for text) and LaTeX (for
/// Markdown and LaTeX, rendered by KaTeX or MathJax).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Math {
    /// `Y = X·W + B`.
    pub unicode: String,
    /// `Y = X W + B`.
    pub latex: String,
}

/// What a step says; every piece of math it mentions is a [`Math`].
#[derive(Clone, Debug, PartialEq)]
pub enum Say {
    /// The gradient `grad` of the function `f` at its argument is given.
    Given {
        /// The function's name.
        f: String,
        /// Its gradient at the argument: `∂L/∂Y`.
        grad: Math,
    },
    /// A name for an intermediate node: `Let Z = X·W.`
    Name {
        /// `Z = X·W`.
        binding: Math,
    },
    /// The named node written entry by entry.
    Expand {
        /// The name.
        name: Math,
    },
    /// The partial derivatives of every entry of `node` by every entry of
    /// `child`, named `P`.
    Differentiate {
        /// `Y`.
        node: Math,
        /// `Z`.
        child: Math,
        /// `Pᵢⱼₐᵦ = ∂Yᵢⱼ/∂Zₐᵦ`.
        definition: Math,
    },
    /// The chain rule in reverse mode: `incoming` summed against `P`.
    ChainRule {
        /// The gradient arriving at `node`.
        incoming: Math,
        /// The node.
        node: Math,
        /// The operand it flows to.
        child: Math,
        /// The name of the local derivative (`P`).
        local: String,
    },
    /// The chain rule in forward mode: `P` summed against the differential
    /// of `child`.
    ChainForward {
        /// The differential of `child`.
        incoming: Math,
        /// The operand.
        child: Math,
        /// The node.
        node: Math,
        /// The name of the local derivative (`P`).
        local: String,
    },
    /// The deltas contracted: each `(summed, kept)` pair sets the summed
    /// index to the kept one.
    Contract {
        /// `(k, a)`: the sum over `k` with `δₖₐ` sets `k = a`.
        sets: Vec<(String, String)>,
    },
    /// The remaining sums recognised as matrix operations by `rules`.
    Raise {
        /// The rules of raising applied, in order (none: the entries are
        /// read as the matrix itself).
        rules: Vec<RaiseRule>,
    },
    /// The contributions to `node`'s differential added up.
    AddDifferentials {
        /// The node.
        node: Math,
    },
    /// The gradient by a symmetric `var`, symmetrized: `(G + Gᵀ)/2`.
    Symmetrize {
        /// The variable.
        var: String,
    },
    /// The gradient differentiated again by `var`.
    Again {
        /// The variable.
        var: String,
    },
    /// The derivative read off the differential of `f`.
    ReadOff {
        /// The node.
        f: Math,
        /// The variable.
        var: String,
        /// `Jᵢₐ = ∂fᵢ/∂xₐ`.
        definition: Math,
    },
    /// The simplifier rewrote `before` to `after` by `rule`.
    Simplify {
        /// The rule, kebab-case.
        rule: &'static str,
        /// `before = after`.
        equation: Math,
        /// The facts about the variables it used.
        used: Vec<Used>,
    },
    /// The contributions of the reverse pass that reach the variables,
    /// added.
    Add {
        /// The variables.
        wrt: Vec<String>,
    },
    /// The result.
    Result {
        /// `∂L/∂X`.
        label: Math,
    },
    /// Concrete proof: a variable entry by entry.
    Entries {
        /// `X = (x₁₁ x₁₂; …)`.
        binding: Math,
    },
    /// Concrete proof: the argument expanded entry by entry.
    Expanded {
        /// `Y = X·W + B = (…)`.
        binding: Math,
    },
    /// Concrete proof: the gradient of the function at `Y` is given.
    GivenEntries {
        /// The function's name.
        f: String,
        /// `∂L/∂Y = (…)`.
        binding: Math,
    },
    /// Concrete proof: every entry of `Y` differentiated by one entry.
    EntryDerivative {
        /// `∂Y/∂x₁₁ = (…)`.
        equation: Math,
    },
    /// Concrete proof: the chain rule for one entry, as a sum.
    EntryChain {
        /// `∂L/∂x₁₁ = Σ …`.
        equation: Math,
    },
    /// Concrete proof: every entry of the gradient.
    EveryEntry {
        /// `∂L/∂X = (…)`.
        equation: Math,
    },
    /// Concrete proof: the matrix-form result's entries.
    Factorise {
        /// `∂L/∂Y·Wᵀ = (…)`.
        equation: Math,
    },
    /// Concrete proof: the exact verdict.
    Verdict {
        /// True when the entries agree.
        agrees: bool,
    },
}

/// The sentence of `say` in `lang`, with each piece of math written by
/// `m`.
pub fn sentence(say: &Say, lang: Lang, m: &dyn Fn(&Math) -> String) -> String {
    let ko = lang == Lang::Ko;
    match say {
        Say::Given { f, grad } if ko => format!(
            "{f}의 기울기는 주어진 것으로 둡니다: {}.",
            m(grad)
        ),
        Say::Given { f, grad } => format!(
            "The gradient of {f} at its argument is given: {}.",
            m(grad)
        ),
        Say::Name { binding } if ko => format!("{}{} 둡니다.", m(binding), j(binding, As)),
        Say::Name { binding } => format!("Let {}.", m(binding)),
        Say::Expand { name } if ko => format!("{}{} 원소별로 씁니다.", m(name), j(name, Object)),
        Say::Expand { name } => format!("Write {} entry by entry.", m(name)),
        Say::Differentiate {
            node,
            child,
            definition,
        } if ko => format!(
            "{}의 모든 원소를 {}의 모든 원소로 편미분합니다 (변수의 원소를 그 자신으로 편미분하면 크로네커 델타가 됩니다): {}.",
            m(node),
            m(child),
            m(definition)
        ),
        Say::Differentiate {
            node,
            child,
            definition,
        } => format!(
            "Differentiate every entry of {} by every entry of {} (an entry of a variable by itself gives a Kronecker delta): {}.",
            m(node),
            m(child),
            m(definition)
        ),
        Say::ChainRule {
            incoming,
            node,
            child,
            local,
        } if ko => format!(
            "연쇄 법칙: {}에 대한 기울기 {}{} {}{} 곱해 더하면 {}에 대한 기울기에 더해지는 항이 됩니다.",
            m(node),
            m(incoming),
            j(incoming, Object),
            m(&word(local)),
            With.after(local),
            m(child)
        ),
        Say::ChainRule {
            incoming,
            node,
            child,
            local,
        } => format!(
            "Chain rule: the gradient {} with respect to {}, summed against {}, is this contribution to the gradient with respect to {}.",
            m(incoming),
            m(node),
            m(&word(local)),
            m(child)
        ),
        Say::ChainForward {
            incoming,
            child,
            node,
            local,
        } if ko => format!(
            "연쇄 법칙: {}{} {}의 미분 {}{} 곱해 더하면 {}의 미분의 한 항이 됩니다.",
            m(&word(local)),
            Object.after(local),
            m(child),
            m(incoming),
            j(incoming, With),
            m(node)
        ),
        Say::ChainForward {
            incoming,
            child,
            node,
            local,
        } => format!(
            "Chain rule: {} summed against the differential {} of {} is this term of the differential of {}.",
            m(&word(local)),
            m(incoming),
            m(child),
            m(node)
        ),
        Say::Contract { sets } => contract_sentence(sets, ko, m),
        Say::Raise { rules } => raise_sentence(rules, ko),
        Say::AddDifferentials { node } if ko => {
            format!("{}의 미분은 각 피연산자를 거친 항의 합입니다.", m(node))
        }
        Say::AddDifferentials { node } => format!(
            "The differential of {} is the sum of the terms through each operand.",
            m(node)
        ),
        Say::Symmetrize { var } if ko => format!(
            "{var}{} 대칭 행렬이라 대칭인 d{var} 방향으로만 움직이므로, 기울기는 위 기울기 G의 대칭 부분 sym(G) = (G + Gᵀ)/2입니다: 모든 대칭 d{var}에 대해 df = tr(sym(G)ᵀ·d{var})인 대칭 행렬입니다.",
            Topic.after(var)
        ),
        Say::Symmetrize { var } => format!(
            "{var} is symmetric, so it moves along symmetric d{var} only: the gradient is the symmetric part of the gradient G above, sym(G) = (G + Gᵀ)/2, the symmetric matrix with df = tr(sym(G)ᵀ·d{var}) for every symmetric d{var}."
        ),
        Say::Again { var } if ko => format!(
            "기울기를 다시 {var}{} 미분합니다: d{var}에서 시작해 모든 노드의 미분을 피연산자의 미분으로 씁니다.",
            As.after(var)
        ),
        Say::Again { var } => format!(
            "Differentiate the gradient again, now by {var}: write the differential of every node in terms of the differentials of its operands, starting from d{var}."
        ),
        Say::ReadOff { f, var, definition } if ko => format!(
            "{}의 미분에서 도함수를 읽어 냅니다: 원소별로 쓰고 d{var}의 각 원소 자리에 크로네커 델타를 넣어 축약합니다: {}.",
            m(f),
            m(definition)
        ),
        Say::ReadOff { f, var, definition } => format!(
            "Read the derivative off the differential of {}: write it entry by entry, put a Kronecker delta in place of each entry of d{var} and contract: {}.",
            m(f),
            m(definition)
        ),
        Say::Simplify {
            rule,
            equation,
            used,
        } => simplify_sentence(rule, equation, used, ko, m),
        Say::Add { wrt } if ko => format!("{}에 닿는 기여를 모두 더합니다.", wrt.join(", ")),
        Say::Add { wrt } => format!("Add the contributions that reach {}.", wrt.join(", ")),
        Say::Result { label } if ko => {
            format!("따라서 {}{} 다음과 같습니다.", m(label), j(label, Topic))
        }
        Say::Result { label } => format!("Hence {} is:", m(label)),
        Say::Entries { binding } if ko => format!("원소로 쓰면 {}.", m(binding)),
        Say::Entries { binding } => format!("Entry by entry, {}.", m(binding)),
        Say::Expanded { binding } if ko => format!("전개하면 {}.", m(binding)),
        Say::Expanded { binding } => format!("Expanded, {}.", m(binding)),
        Say::GivenEntries { f, binding } if ko => {
            format!("{f}의 기울기는 원소별로 주어집니다: {}.", m(binding))
        }
        Say::GivenEntries { f, binding } => {
            format!("The gradient of {f} is given entry by entry: {}.", m(binding))
        }
        Say::EntryDerivative { equation } if ko => {
            format!("모든 원소를 한 원소로 편미분하면 {}.", m(equation))
        }
        Say::EntryDerivative { equation } => {
            format!("Every entry differentiated by one entry: {}.", m(equation))
        }
        Say::EntryChain { equation } if ko => {
            format!("그 원소에 대한 연쇄 법칙은 합입니다: {}.", m(equation))
        }
        Say::EntryChain { equation } => {
            format!("The chain rule for that entry is a sum: {}.", m(equation))
        }
        Say::EveryEntry { equation } if ko => {
            format!("모든 원소에 대해 반복하면 {}.", m(equation))
        }
        Say::EveryEntry { equation } => {
            format!("Repeating this for every entry: {}.", m(equation))
        }
        Say::Factorise { equation } if ko => {
            format!("행렬 형태의 결과를 원소로 쓰면 {}.", m(equation))
        }
        Say::Factorise { equation } => {
            format!("The matrix-form result has these entries: {}.", m(equation))
        }
        Say::Verdict { agrees: true } if ko => {
            "원소별로 비교하면 정확히 같습니다 (exact).".to_string()
        }
        Say::Verdict { agrees: true } => "Compared entry by entry: verified exactly.".into(),
        Say::Verdict { agrees: false } if ko => "원소별로 비교하면 다릅니다.".to_string(),
        Say::Verdict { agrees: false } => "Compared entry by entry: they differ.".into(),
    }
}

/// A name, the same in both notations.
fn word(name: &str) -> Math {
    Math {
        unicode: name.to_string(),
        latex: name.to_string(),
    }
}

/// "The sum over k with δₖₐ sets k = a", naming each contracted index.
fn contract_sentence(sets: &[(String, String)], ko: bool, m: &dyn Fn(&Math) -> String) -> String {
    let delta = |k: &str, a: &str| Math {
        unicode: format!("δ{}{}", subscript(k), subscript(a)),
        latex: format!("\\delta_{{{k}{a}}}"),
    };
    let eq = |k: &str, a: &str| Math {
        unicode: format!("{k} = {a}"),
        latex: format!("{k} = {a}"),
    };
    let parts: Vec<String> = sets
        .iter()
        .map(|(k, a)| {
            if ko {
                format!(
                    "{}{} 있는 {k}에 대한 합은 {}{} 둡니다",
                    m(&delta(k, a)),
                    j(&delta(k, a), Subject),
                    m(&eq(k, a)),
                    j(&eq(k, a), As)
                )
            } else {
                format!(
                    "the sum over {k} with {} sets {}",
                    m(&delta(k, a)),
                    m(&eq(k, a))
                )
            }
        })
        .collect();
    match (ko, parts.is_empty()) {
        (true, true) => "크로네커 델타를 축약합니다.".to_string(),
        (false, true) => "Contract the Kronecker deltas.".to_string(),
        (true, false) => format!("크로네커 델타를 축약합니다: {}.", parts.join(", ")),
        (false, false) => format!("Contract the Kronecker deltas: {}.", parts.join("; ")),
    }
}

/// Names the rules of raising in the order they fired; an orienting
/// transpose is said last, as the reason a factor appears transposed.
fn raise_sentence(rules: &[RaiseRule], ko: bool) -> String {
    let transposed = rules.contains(&RaiseRule::TransposeToOrient);
    let words: Vec<&str> = rules
        .iter()
        .filter(|r| **r != RaiseRule::TransposeToOrient)
        .map(|r| raise_words(*r, ko))
        .collect();
    let list = match (words.split_last(), ko) {
        (None, _) => String::new(),
        (Some(_), true) => words.join(", "),
        (Some((last, [])), false) => (*last).to_string(),
        (Some((last, rest)), false) => format!("{} and {last}", rest.join(", ")),
    };
    match (list.is_empty(), transposed, ko) {
        (true, false, true) => "원소를 모은 것이 곧 그 행렬입니다.".to_string(),
        (true, false, false) => "Read the entries as the matrix itself.".to_string(),
        (true, true, true) => "원소를 모은 것이 곧 그 전치 행렬입니다.".to_string(),
        (true, true, false) => "Read the entries as the transposed matrix.".to_string(),
        (false, false, true) => format!("남은 합을 {list}{} 알아봅니다.", As.after(&list)),
        (false, false, false) => format!("Recognise the remaining sums as {list}."),
        (false, true, true) => format!(
            "남은 합을 {list}{} 알아봅니다. 첨자의 순서를 맞추려고 전치합니다.",
            As.after(&list)
        ),
        (false, true, false) => format!(
            "Recognise the remaining sums as {list}, transposing a factor so that its indices line up."
        ),
    }
}

/// What a rule of raising recognises, as a noun phrase (the orienting
/// transpose is said by [`raise_sentence`] itself).
fn raise_words(rule: RaiseRule, ko: bool) -> &'static str {
    use RaiseRule::*;
    match (rule, ko) {
        (Hadamard, false) => "an entrywise (Hadamard) product",
        (Hadamard, true) => "원소별 곱(아다마르 곱)",
        (DiagScale, false) => "a scaling by a diagonal matrix",
        (DiagScale, true) => "대각 행렬을 곱한 크기 조절",
        (MatmulFromSum, false) => "a matrix product",
        (MatmulFromSum, true) => "행렬 곱",
        (SumToOnes, false) => "a product with a vector of ones",
        (SumToOnes, true) => "1로 채운 벡터와의 곱",
        (SumOfEntries, false) => "a sum of all entries",
        (SumOfEntries, true) => "모든 원소의 합",
        (Trace, false) => "a trace",
        (Trace, true) => "대각합(tr)",
        (DiagExtract, false) => "a diagonal",
        (DiagExtract, true) => "대각 성분",
        (OuterProduct, false) => "an outer product",
        (OuterProduct, true) => "외적",
        (CountConstantSum, false) => "a constant summed (a count)",
        (CountConstantSum, true) => "상수의 합(개수)",
        (BroadcastOnes, false) => "a broadcast along a vector of ones",
        (BroadcastOnes, true) => "1로 채운 벡터를 따른 브로드캐스트",
        (TransposeToOrient, false) => "a transpose",
        (TransposeToOrient, true) => "전치",
    }
}

/// The particle `p` after the math `math`, chosen by how its Unicode
/// form is read.
fn j(math: &Math, p: Particle) -> &'static str {
    p.after(&math.unicode)
}

fn simplify_sentence(
    rule: &str,
    equation: &Math,
    used: &[Used],
    ko: bool,
    m: &dyn Fn(&Math) -> String,
) -> String {
    let facts: Vec<String> = used.iter().map(|u| fact(u, ko, m)).collect();
    let what = rule_words(rule, ko);
    match (ko, facts.is_empty()) {
        (true, true) => format!("정리합니다 ({what}): {}.", m(equation)),
        (false, true) => format!("Simplify ({what}): {}.", m(equation)),
        (true, false) => format!(
            "정리합니다 ({what}, 가정: {}): {}.",
            facts.join("; "),
            m(equation)
        ),
        (false, false) => format!(
            "Simplify ({what}, using: {}): {}.",
            facts.join("; "),
            m(equation)
        ),
    }
}

/// The simplifier's rule in words.
fn rule_words(rule: &str, ko: bool) -> String {
    let known = match rule {
        "canonical-form" => Some((
            "collect and cancel common factors",
            "공통 인수를 모으고 약분",
        )),
        "rows-sum-to-one" => Some(("the rows sum to 1", "행의 합이 1")),
        "sum-of-softmax" => Some(("softmax sums to 1", "소프트맥스의 합은 1")),
        "trace-cyclic" => Some(("the trace is cyclic", "대각합의 순환성")),
        "inverse-of-transpose" => Some(("inverse of a transpose", "전치 행렬의 역행렬")),
        "transpose-of-symmetric" => Some((
            "a symmetric matrix is its own transpose",
            "대칭 행렬의 전치 행렬은 자기 자신",
        )),
        _ => None,
    };
    match known {
        Some((en, ko_words)) => if ko { ko_words } else { en }.to_string(),
        None => rule.to_string(),
    }
}

/// A fact the simplifier used, in words.
fn fact(u: &Used, ko: bool, m: &dyn Fn(&Math) -> String) -> String {
    if !ko {
        return u.to_string();
    }
    let v = &u.var;
    let math = |unicode: String, latex: String| m(&Math { unicode, latex });
    match u.fact {
        Fact::Symmetric => format!(
            "{v}{} 대칭 행렬 ({})",
            Topic.after(v),
            math(format!("{v}ᵀ = {v}"), format!("{v}^\\top = {v}"))
        ),
        Fact::RowsSumToOne => format!("{v}의 각 행의 합은 1"),
        Fact::SquaresToOne => format!("{v}의 원소는 ±1"),
        Fact::SquaresToItself => format!("{v}의 원소는 0 또는 1"),
        Fact::Positive => format!("{v}의 원소는 양수"),
        Fact::Orthogonal => format!(
            "{v}{} 직교 행렬 ({})",
            Topic.after(v),
            math(format!("{v}ᵀ·{v} = I"), format!("{v}^\\top {v} = I"))
        ),
    }
}

/// `ij` as Unicode subscripts where they exist (`ᵢⱼ`).
pub fn subscript(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'a' => 'ₐ',
            'e' => 'ₑ',
            'h' => 'ₕ',
            'i' => 'ᵢ',
            'j' => 'ⱼ',
            'k' => 'ₖ',
            'l' => 'ₗ',
            'm' => 'ₘ',
            'n' => 'ₙ',
            'o' => 'ₒ',
            'p' => 'ₚ',
            'r' => 'ᵣ',
            's' => 'ₛ',
            't' => 'ₜ',
            'u' => 'ᵤ',
            'v' => 'ᵥ',
            'x' => 'ₓ',
            '0'..='9' => char::from_u32(0x2080 + c.to_digit(10).unwrap_or(0)).unwrap_or(c),
            other => other,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_raise_names_every_rule_and_says_the_transpose_last() {
        use RaiseRule::*;
        let en = raise_sentence(&[TransposeToOrient, MatmulFromSum, Hadamard], false);
        assert_eq!(
            en,
            "Recognise the remaining sums as a matrix product and an entrywise (Hadamard) \
             product, transposing a factor so that its indices line up."
        );
        let ko = raise_sentence(&[MatmulFromSum], true);
        assert_eq!(ko, "남은 합을 행렬 곱으로 알아봅니다.");
        assert_eq!(
            raise_sentence(&[], false),
            "Read the entries as the matrix itself."
        );
        assert_eq!(
            raise_sentence(&[TransposeToOrient], true),
            "원소를 모은 것이 곧 그 전치 행렬입니다."
        );
    }
}
