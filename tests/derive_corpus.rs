//! Conformance: derive every case of the project's copy of the corpus and
//! confirm each result against finite differences of `expr` (tolerance 1e-6,
//! three seeds, both instantiations of L), through the printed text as a
//! grader would read it: the text must parse back, shape-check under the
//! case's declarations and evaluate to the value of the derived result.

mod support;

use matcalc::derive::{derive, Form};
use matcalc::numeric::{check, Case, CheckConfig};
use matcalc::syntax::{parse_formula, to_expr_string};
use support::parse_back::parses_back;

const CASES: &str = concat!(
    include_str!("corpus/cases.jsonl"),
    "\n",
    include_str!("corpus/language.jsonl")
);

struct Outcome {
    id: String,
    correct: bool,
    matrix_form: bool,
    expected_matrix: bool,
    size_ratio: f64,
    detail: String,
}

fn run(case: &Case) -> Outcome {
    let mut outcome = Outcome {
        id: case.id.clone(),
        correct: false,
        matrix_form: false,
        expected_matrix: parse_formula(&case.expected, &case.decls())
            .map(|f| f.is_matrix_form())
            .unwrap_or(false),
        size_ratio: f64::NAN,
        detail: String::new(),
    };
    // The case's domains are facts the simplifier may use, as with
    // `derive --cases`.
    let config = matcalc::batch::case_config(case);
    let derivation = match derive(&case.expr, &config) {
        Ok(d) => d,
        Err(e) => {
            outcome.detail = format!("derive failed: {e}");
            return outcome;
        }
    };
    if let Err(why) = parses_back(&derivation, &case.decls()) {
        outcome.detail = why;
        return outcome;
    }
    let result = &derivation.derivatives[0];
    let text = to_expr_string(result.formula());
    let claim = match parse_formula(&text, &case.decls()) {
        Ok(f) => f,
        Err(e) => {
            outcome.detail = format!("printed result `{text}` does not parse: {e}");
            return outcome;
        }
    };
    outcome.matrix_form = result.form == Form::Matrix && claim.is_matrix_form();
    if let Ok(expected) = parse_formula(&case.expected, &case.decls()) {
        outcome.size_ratio = claim.body.node_count() as f64 / expected.body.node_count() as f64;
    }
    let problem = case.problem().expect("corpus cases pose valid problems");
    match check(&problem, &claim, &CheckConfig::default()) {
        Ok(report) if report.ok() => outcome.correct = true,
        Ok(report) => {
            outcome.detail = format!(
                "`{text}` refuted: max relative error {:.3e}{}",
                report.max_rel_err,
                report.note().map(|n| format!(" ({n})")).unwrap_or_default()
            )
        }
        Err(e) => outcome.detail = format!("`{text}` could not be evaluated: {e}"),
    }
    outcome
}

#[test]
fn every_public_case_is_derived_correctly() {
    let cases: Vec<Case> = CASES
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("corpus line is a case"))
        .collect();
    let outcomes: Vec<Outcome> = cases.iter().map(run).collect();
    let correct = outcomes.iter().filter(|o| o.correct).count();
    let matrix = outcomes
        .iter()
        .filter(|o| o.correct && o.matrix_form)
        .count();
    let mut ratios: Vec<f64> = outcomes
        .iter()
        .filter(|o| o.correct && o.size_ratio.is_finite())
        .map(|o| o.size_ratio)
        .collect();
    ratios.sort_by(f64::total_cmp);
    let median = ratios.get(ratios.len() / 2).copied().unwrap_or(f64::NAN);
    let no_larger = ratios.iter().filter(|&&r| r <= 1.0).count();
    println!(
        "corpus: {correct}/{} correct, {matrix} in pure matrix form, median size ratio {median:.2}, {no_larger} no larger than expected",
        cases.len()
    );
    let failures: Vec<String> = outcomes
        .iter()
        .filter(|o| !o.correct)
        .map(|o| format!("{}: {}", o.id, o.detail))
        .collect();
    let lost_matrix: Vec<&str> = outcomes
        .iter()
        .filter(|o| o.correct && o.expected_matrix && !o.matrix_form)
        .map(|o| o.id.as_str())
        .collect();
    assert!(
        failures.is_empty(),
        "{} case(s) wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        lost_matrix.is_empty(),
        "answered in index form although a matrix form is expected: {lost_matrix:?}"
    );
}
