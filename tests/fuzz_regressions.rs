//! Every input the fuzzers (`fuzz/`, see `fuzz/README.md`) ever found
//! failing, replayed through the same checks in the default test run, plus
//! the committed seed inputs.
//!
//! The checks are the fuzz targets' own (`fuzz/src/lib.rs`, included here):
//! parsing, printing, shape checking and declarations either succeed with
//! properties that hold up, or fail with a clean error — never a panic.
//! A finding lives in `tests/fuzz_regressions/<target>/<what-it-was>`, as
//! the raw bytes the fuzzer saved.

#[path = "../fuzz/src/lib.rs"]
mod oracle;

use std::collections::BTreeMap;
use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use matcalc::shape::{self, Dim, ShapeContext};
use matcalc::syntax::{parse_formula, Decls, Expr, ExprKind};

/// A fuzz target's check, by the name of its directory.
type Check = fn(&[u8]);

const TARGETS: [(&str, Check); 3] = [
    ("parse_and_shape", oracle::parse_and_shape),
    ("declarations", oracle::declarations),
    ("decls_and_formula", oracle::decls_and_formula),
];

/// The files of `dir`, sorted; none when it does not exist.
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| Some(e.ok()?.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.is_file());
    files.sort();
    files
}

/// Runs `check` on every file and names the files that fail it.
fn failures(files: &[PathBuf], check: Check) -> Vec<String> {
    files
        .iter()
        .filter_map(|path| {
            let data = fs::read(path).expect("read a saved input");
            catch_unwind(AssertUnwindSafe(|| check(&data)))
                .err()
                .map(|_| path.display().to_string())
        })
        .collect()
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn saved_findings_pass_their_targets() {
    let mut replayed = 0;
    for (target, check) in TARGETS {
        let files = files_in(&root().join("tests/fuzz_regressions").join(target));
        replayed += files.len();
        assert_eq!(failures(&files, check), Vec::<String>::new(), "{target}");
    }
    assert!(replayed > 0, "no saved findings found");
}

#[test]
fn seed_inputs_pass_their_targets() {
    let seeds = root().join("fuzz/seeds");
    for (dir, check) in [
        ("expressions", oracle::parse_and_shape as Check),
        ("declarations", oracle::declarations),
        ("decls_and_formula", oracle::decls_and_formula),
    ] {
        let files = files_in(&seeds.join(dir));
        assert!(files.len() >= 10, "only {} seeds in {dir}", files.len());
        assert_eq!(failures(&files, check), Vec::<String>::new(), "{dir}");
    }
}

/// The sizes of the fills of `formula`, outermost first (preorder).
fn fill_sizes(expr: &Expr, out: &mut Vec<Option<[Dim; 2]>>) {
    if let ExprKind::Fill { size, .. } = &expr.kind {
        out.push(size.clone());
    }
    for child in expr.children() {
        fill_sizes(child, out);
    }
}

/// Finding: a fill inside the value of another fill got the outer fill's
/// size and the outer one the inner's, so the checked formula had no shape.
/// In `x*vector(vector(d)'*y)` the outer fill is 1×1 (it multiplies a
/// column) and the inner one has the length of `y` (its transpose times `y`).
#[test]
fn nested_fills_keep_their_own_sizes() {
    let text = "x*vector(vector(d)'*y)";
    let decls = Decls::new();
    let formula = parse_formula(text, &decls).unwrap();
    let context = ShapeContext {
        decls: &decls,
        source: text,
        gradient_shapes: BTreeMap::new(),
        expected: None,
    };
    let typed = shape::check(&formula, &context).unwrap();
    let mut sizes = Vec::new();
    fill_sizes(&typed.formula.body, &mut sizes);
    let y = &typed.vars["y"];
    let one = Dim::Fixed(1);
    assert_eq!(
        sizes,
        vec![
            Some([one.clone(), one.clone()]),
            Some([y.rows.clone(), one])
        ]
    );
    assert_eq!(
        typed.shape_of(&typed.formula.body),
        Ok(typed.vars["x"].clone())
    );
}
