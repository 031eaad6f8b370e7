//! Every expression of the project's corpus copy parses and type-checks:
//! `expr`, `expected` and `expected_index` of each case, with the case's
//! `vars` declared and, for a bare `dL`, the shape of the argument of `L` in
//! `expr`.

use matcalc::shape::{check, ShapeContext, Typed};
use matcalc::syntax::{parse_formula, Decl, Decls, DimSpec};

const CORPUS: &str = concat!(
    include_str!("corpus/cases.jsonl"),
    "\n",
    include_str!("corpus/language.jsonl")
);

/// The case's `vars` as declarations: `[]` scalar, `[n]` vector, `[n,m]`
/// matrix.
fn declarations(vars: &serde_json::Value) -> Decls {
    let mut decls = Decls::new();
    for (name, dims) in vars.as_object().expect("vars is an object") {
        let dims = dims
            .as_array()
            .expect("a shape is a list")
            .iter()
            .map(|d| DimSpec::Fixed(d.as_u64().expect("a size is an integer") as usize))
            .collect();
        decls.insert(Decl::value(name, dims));
    }
    decls
}

/// Parses and checks `text`, or says why not.
fn typed(text: &str, decls: &Decls, base: Option<&Typed>) -> Result<Typed, String> {
    let formula = parse_formula(text, decls).map_err(|e| e.diagnostic().render(text))?;
    let context = ShapeContext {
        decls,
        source: text,
        gradient_shapes: base.map(|t| t.gradients.clone()).unwrap_or_default(),
        expected: None,
    };
    check(&formula, &context).map_err(|e| e.diagnostic().render(text))
}

#[test]
fn every_corpus_expression_parses_and_type_checks() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for line in CORPUS.lines().filter(|l| !l.trim().is_empty()) {
        let case: serde_json::Value = serde_json::from_str(line).expect("a case is JSON");
        let id = case["id"].as_str().expect("a case has an id");
        let decls = declarations(&case["vars"]);
        let expr = case["expr"].as_str().expect("a case has an expr");
        let base = match typed(expr, &decls, None) {
            Ok(t) => t,
            Err(why) => {
                failures.push(format!("{id} expr `{expr}`:\n{why}"));
                continue;
            }
        };
        checked += 1;
        for field in ["expected", "expected_index"] {
            let Some(text) = case[field].as_str() else {
                continue;
            };
            match typed(text, &decls, Some(&base)) {
                Ok(_) => checked += 1,
                Err(why) => failures.push(format!("{id} {field} `{text}`:\n{why}")),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let cases = CORPUS.lines().filter(|l| !l.trim().is_empty()).count();
    assert!(
        checked >= 2 * cases,
        "only {checked} expressions for {cases} cases"
    );
}
