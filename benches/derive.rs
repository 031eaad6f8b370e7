//! Derivation speed: each public corpus case, the whole corpus in one
//! process, and three scaling families of depth k (whole derivation,
//! including the collapse to matrix form):
//!
//! - (a) `norm2(W_k*tanh(W_{k-1}*…tanh(W_1*x)) - y)^2` w.r.t. `W_1`;
//! - (b) `tr(A_1*X*A_2*X*…*A_k*X)` w.r.t. `X`;
//! - (c) the Hessian of `x'*A_1*…*A_k*x`.
//!
//! Run with `cargo bench --bench derive`; `MATCALC_BENCH_MAX_K` caps k
//! (default 1024).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use matcalc::derive::{derive, DeriveConfig};
use matcalc::numeric::Case;
use matcalc::syntax::Decls;

const CASES: &str = include_str!("../tests/corpus/cases.jsonl");

/// The expression, declarations and variable of family `family` at depth k.
pub fn family(family: char, k: usize) -> (String, String, Vec<String>, u8) {
    match family {
        'a' => {
            let mut inner = "x".to_string();
            for i in 1..k {
                inner = format!("tanh(W{i}*{inner})");
            }
            let expr = format!("norm2(W{k}*{inner} - y)^2");
            let decls: Vec<String> = (1..=k).map(|i| format!("W{i}: n x n")).collect();
            (
                expr,
                format!("{}, x: n, y: n", decls.join(", ")),
                vec!["W1".into()],
                1,
            )
        }
        'b' => {
            let factors: Vec<String> = (1..=k).map(|i| format!("A{i}*X")).collect();
            let decls: Vec<String> = (1..=k).map(|i| format!("A{i}: n x n")).collect();
            (
                format!("tr({})", factors.join("*")),
                format!("{}, X: n x n", decls.join(", ")),
                vec!["X".into()],
                1,
            )
        }
        _ => {
            let factors: Vec<String> = (1..=k).map(|i| format!("A{i}")).collect();
            let decls: Vec<String> = (1..=k).map(|i| format!("A{i}: n x n")).collect();
            (
                format!("x'*{}*x", factors.join("*")),
                format!("{}, x: n", decls.join(", ")),
                vec!["x".into()],
                2,
            )
        }
    }
}

fn config(decls: &str, wrt: Vec<String>, order: u8) -> DeriveConfig {
    let mut d = Decls::new();
    d.extend_from_str(decls)
        .expect("benchmark declarations parse");
    DeriveConfig {
        decls: d,
        wrt,
        order,
        ..Default::default()
    }
}

fn corpus(c: &mut Criterion) {
    let cases: Vec<Case> = CASES
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("corpus line"))
        .collect();
    let configs: Vec<(String, DeriveConfig)> = cases
        .iter()
        .map(|case| (case.expr.clone(), matcalc::batch::case_config(case)))
        .collect();
    let mut group = c.benchmark_group("corpus");
    for (case, (expr, cfg)) in cases.iter().zip(&configs) {
        group.bench_function(case.id.as_str(), |b| b.iter(|| derive(expr, cfg)));
    }
    group.bench_function("whole-corpus", |b| {
        b.iter(|| {
            for (expr, cfg) in &configs {
                let _ = derive(expr, cfg);
            }
        })
    });
    group.finish();
}

fn scaling(c: &mut Criterion) {
    let max_k: usize = std::env::var("MATCALC_BENCH_MAX_K")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    for fam in ['a', 'b', 'c'] {
        let mut group = c.benchmark_group(format!("scaling-{fam}"));
        group.sample_size(10);
        let mut k = 1;
        while k <= max_k {
            let (expr, decls, wrt, order) = family(fam, k);
            let cfg = config(&decls, wrt, order);
            group.bench_with_input(BenchmarkId::from_parameter(k), &k, |b, _| {
                b.iter(|| derive(&expr, &cfg).expect("scaling family derives"))
            });
            k *= 2;
        }
        group.finish();
    }
}

criterion_group!(benches, corpus, scaling);
criterion_main!(benches);
