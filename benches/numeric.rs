//! Speed of the numeric checks: the directional check of the affine-layer
//! gradient at 256×256, and the full finite-difference check of corpus cases.

use std::collections::BTreeMap;

use criterion::{criterion_group, criterion_main, Criterion};
use matcalc::numeric::{check, Case, CheckConfig, Loss, Method, Problem};
use matcalc::syntax::{parse_expr, parse_formula, Decls};

const CORPUS: &str = include_str!("../tests/corpus/cases.jsonl");

fn affine(n: usize) -> Problem {
    Problem {
        expr: parse_expr("L(X*W + B)", &Decls::new()).expect("parses"),
        vars: ["X", "W", "B"]
            .into_iter()
            .map(|v| (v.to_string(), vec![n, n]))
            .collect(),
        wrt: vec!["X".to_string()],
        domains: BTreeMap::new(),
        sizes: BTreeMap::new(),
        symmetric: Default::default(),
    }
}

fn directional_affine(c: &mut Criterion) {
    let problem = affine(256);
    let claim = parse_formula("dL*W'", &Decls::new()).expect("parses");
    for loss in Loss::ALL {
        let config = CheckConfig {
            seeds: vec![1],
            losses: vec![loss],
            method: Method::Directional { directions: 3 },
            ..CheckConfig::default()
        };
        c.bench_function(
            &format!("directional affine dX 256x256, 1 seed, {}", loss.name()),
            |b| b.iter(|| assert!(check(&problem, &claim, &config).expect("checks").ok())),
        );
    }
}

fn corpus_case(id: &str) -> Case {
    CORPUS
        .lines()
        .filter_map(|l| serde_json::from_str::<Case>(l).ok())
        .find(|c| c.id == id)
        .expect("the case is in the corpus")
}

fn full_corpus_checks(c: &mut Criterion) {
    let config = CheckConfig::default();
    for id in ["affine-dx", "dl-twolayer-w1", "ho-det-hessian"] {
        let case = corpus_case(id);
        c.bench_function(&format!("full check {id} (3 seeds, both L)"), |b| {
            b.iter(|| assert!(case.verdict(&config).ok))
        });
    }
}

fn whole_corpus(c: &mut Criterion) {
    c.bench_function("check_cases, whole corpus (75 cases)", |b| {
        b.iter(|| assert!(matcalc::numeric::check_cases(CORPUS).iter().all(|v| v.ok)))
    });
}

criterion_group!(
    benches,
    directional_affine,
    full_corpus_checks,
    whole_corpus
);
criterion_main!(benches);
