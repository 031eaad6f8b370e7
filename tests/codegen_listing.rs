//! The shared-subexpression output (`--format expr` listings): every public
//! corpus case written as a listing reads back, and the results with the
//! bindings substituted are confirmed against finite differences; the
//! written size of the three scaling families grows linearly with their
//! depth, where the flat printout is refused.

use std::collections::BTreeMap;

use matcalc::confirm::problem;
use matcalc::derive::{derive, DeriveConfig};
use matcalc::numeric::{check, Case, CheckConfig};
use matcalc::readback::{Listing, ListingError, Reader};
use matcalc::syntax::Decls;
use matcalc::Derivation;

const CASES: &str = include_str!("corpus/cases.jsonl");

/// Every derivative of `d` as a listing in the input syntax, with names
/// `E1, E2, …`.
fn listing_text(d: &Derivation) -> String {
    let taken: Vec<String> = d.typed.vars.keys().cloned().collect();
    let all: Vec<usize> = (0..d.derivatives.len()).collect();
    Listing::of(d, &all, &taken, &|k| format!("E{}", k + 1)).to_expr_string()
}

fn reader(d: &Derivation) -> Reader {
    Reader::new(&d.typed.vars, &d.typed.gradients)
}

/// Writes `d` as a listing, reads it back, substitutes the bindings and
/// confirms each result numerically; returns the listing's text.
fn round_trip(d: &Derivation, domains: &BTreeMap<String, matcalc::numeric::Domain>) -> String {
    let text = listing_text(d);
    let read = Listing::read(&text, &reader(d)).unwrap_or_else(|e| panic!("{e}:\n{text}"));
    let flat = read.substituted();
    assert_eq!(flat.len(), d.derivatives.len(), "{text}");
    for (x, formula) in d.derivatives.iter().zip(&flat) {
        let report = check(
            &problem(&d.typed, &x.wrt, domains),
            formula,
            &CheckConfig::default(),
        )
        .unwrap_or_else(|e| panic!("{e}:\n{text}"));
        assert!(
            report.ok(),
            "refuted (max relative error {:.1e}):\n{text}",
            report.max_rel_err
        );
    }
    text
}

#[test]
fn every_corpus_case_reads_back_as_a_listing_and_is_confirmed() {
    let mut with_bindings = 0;
    for line in CASES.lines().filter(|l| !l.trim().is_empty()) {
        let case: Case = serde_json::from_str(line).expect("corpus line");
        let Ok(d) = derive(&case.expr, &matcalc::batch::case_config(&case)) else {
            continue;
        };
        let domains = case.domains().expect("corpus domains parse");
        let text = round_trip(&d, &domains);
        if text.lines().count() > d.derivatives.len() {
            with_bindings += 1;
        }
    }
    assert!(
        with_bindings > 0,
        "no corpus case has a shared intermediate"
    );
}

/// The expression, declarations, variable and order of scaling family
/// `family` at depth k (the families of `benches/derive.rs`).
fn family(family: char, k: usize) -> (String, String, &'static str, u8) {
    match family {
        'a' => {
            let mut inner = "x".to_string();
            for i in 1..k {
                inner = format!("tanh(W{i}*{inner})");
            }
            let decls: Vec<String> = (1..=k).map(|i| format!("W{i}: n x n")).collect();
            (
                format!("norm2(W{k}*{inner} - y)^2"),
                format!("{}, x: n, y: n", decls.join(", ")),
                "W1",
                1,
            )
        }
        'b' => {
            let factors: Vec<String> = (1..=k).map(|i| format!("A{i}*X")).collect();
            let decls: Vec<String> = (1..=k).map(|i| format!("A{i}: n x n")).collect();
            (
                format!("tr({})", factors.join("*")),
                format!("{}, X: n x n", decls.join(", ")),
                "X",
                1,
            )
        }
        _ => {
            let factors: Vec<String> = (1..=k).map(|i| format!("A{i}")).collect();
            let decls: Vec<String> = (1..=k).map(|i| format!("A{i}: n x n")).collect();
            (
                format!("x'*{}*x", factors.join("*")),
                format!("{}, x: n", decls.join(", ")),
                "x",
                2,
            )
        }
    }
}

fn derive_family(f: char, k: usize) -> Derivation {
    let (expr, decls, wrt, order) = family(f, k);
    let mut d = Decls::new();
    d.extend_from_str(&decls).expect("declarations parse");
    let config = DeriveConfig {
        decls: d,
        wrt: vec![wrt.to_string()],
        order,
        ..Default::default()
    };
    derive(&expr, &config).expect("the family derives")
}

#[test]
fn the_scaling_families_are_confirmed_through_their_listings() {
    for f in ['a', 'b', 'c'] {
        for k in [3, 8, 24] {
            round_trip(&derive_family(f, k), &BTreeMap::new());
        }
    }
}

/// Runs `job` on a thread with the CLI's big stack (the parser and the
/// engine recurse on deep expressions).
fn on_big_stack(job: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(512 << 20)
        .spawn(job)
        .expect("the thread starts")
        .join()
        .expect("the job succeeds");
}

#[test]
fn listings_grow_linearly_where_the_flat_printout_is_refused() {
    on_big_stack(listings_grow_linearly);
}

fn listings_grow_linearly() {
    for f in ['a', 'b', 'c'] {
        let d512 = derive_family(f, 512);
        let d1024 = derive_family(f, 1024);
        let (l512, l1024) = (listing_text(&d512), listing_text(&d1024));
        assert!(
            l1024.len() * 10 <= l512.len() * 22,
            "family {f}: doubling the depth took the listing from {} to {} bytes",
            l512.len(),
            l1024.len()
        );
        // The listing reads back even where the flat form is refused.
        let read = Listing::read(&l1024, &reader(&d1024)).expect("the listing reads back");
        assert_eq!(read.results.len(), 1);
        if f != 'c' {
            assert!(d1024.writable().is_err(), "family {f} is written out flat");
        }
    }
}

#[test]
fn a_listing_with_an_unbound_or_rebound_name_is_an_error() {
    let d = derive_family('a', 3);
    let r = reader(&d);
    assert!(matches!(
        Listing::read("E1 = tanh(W1*x)\nE2 + W2", &r),
        Err(ListingError::Unbound { line: 2, .. })
    ));
    assert!(matches!(
        Listing::read("E1 = tanh(W1*x)\nE1 = W2*E1", &r),
        Err(ListingError::Rebound { line: 2, .. })
    ));
    assert!(matches!(
        Listing::read("x = W1*x", &r),
        Err(ListingError::Rebound { line: 1, .. })
    ));
    assert!(matches!(
        Listing::read("E1 = tanh(W1*x\n", &r),
        Err(ListingError::Parse { line: 1, .. })
    ));
    assert!(matches!(
        Listing::read("E1 = W1*x'", &r),
        Err(ListingError::Shape { line: 1, .. })
    ));
}
