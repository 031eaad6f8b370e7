//! Generated Python, executed: for every public corpus case the NumPy and
//! the JAX module are generated, run at random inputs drawn here (sizes
//! from the case's `vars`, domains from its `domain`), and their results
//! compared with finite differences computed here by matcalc's numeric
//! layer (independent of the generated code); each module's own
//! `check_gradient(seed=0)` runs too (for JAX under `jax.jit`).
//!
//! The interpreter is `$MATCALC_PYTHON` (then numpy and jax must be there:
//! CI sets it after `.ci/run` made the venv), else `.venv/bin/python` in the
//! project; without either the Python parts print
//! `codegen tests skipped: no Python with numpy` and pass. All cases go to
//! three Python processes (NumPy, and JAX in two halves) running at once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use matcalc::codegen::{python_module, CodegenConfig, Target};
use matcalc::numeric::{
    draw_sample, evaluate, evaluate_expr, finite_difference, relative_error, to_layout, Bindings,
    Case, Loss, Value, KINK_MARGIN,
};
use matcalc::syntax::Formula;
use matcalc::{derive, DeriveConfig};
use ndarray::{ArrayD, IxDyn};
use serde_json::Value as Json;

/// Largest relative error accepted against the finite differences.
const TOLERANCE: f64 = 1e-6;

/// The Python to run generated code with.
struct Python {
    exe: PathBuf,
    jax: bool,
}

fn python() -> Option<Python> {
    let (exe, required) = match std::env::var_os("MATCALC_PYTHON") {
        Some(p) => (PathBuf::from(p), true),
        None => {
            let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
            if !venv.exists() {
                println!("codegen tests skipped: no Python with numpy (set MATCALC_PYTHON, or run .ci/run to make .venv)");
                return None;
            }
            (venv, false)
        }
    };
    let has = |module: &str| {
        Command::new(&exe)
            .args(["-c", &format!("import {module}")])
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    };
    if !has("numpy") {
        assert!(!required, "MATCALC_PYTHON={} has no numpy", exe.display());
        println!(
            "codegen tests skipped: no Python with numpy ({})",
            exe.display()
        );
        return None;
    }
    let jax = has("jax");
    assert!(
        jax || !required,
        "MATCALC_PYTHON={} has no jax",
        exe.display()
    );
    if !jax {
        println!(
            "codegen tests: {} has no jax, JAX modules not run",
            exe.display()
        );
    }
    Some(Python { exe, jax })
}

/// A value in the layout as nested JSON lists.
fn nested(a: &ArrayD<f64>) -> Json {
    fn level(data: &[f64], shape: &[usize]) -> Json {
        match shape.split_first() {
            None => Json::from(data[0]),
            Some((&n, rest)) => {
                let step: usize = rest.iter().product();
                Json::Array(
                    (0..n)
                        .map(|k| level(&data[k * step..(k + 1) * step], rest))
                        .collect(),
                )
            }
        }
    }
    let data: Vec<f64> = a.iter().copied().collect();
    level(&data, a.shape())
}

/// Nested JSON lists back to an array (`None` when ragged or not numbers).
fn from_nested(v: &Json) -> Option<ArrayD<f64>> {
    let mut shape = Vec::new();
    let mut probe = v;
    while let Json::Array(items) = probe {
        shape.push(items.len());
        probe = items.first()?;
    }
    let mut data = Vec::new();
    fn flatten(v: &Json, out: &mut Vec<f64>) -> Option<()> {
        match v {
            Json::Array(items) => items.iter().try_for_each(|i| flatten(i, out)),
            other => {
                out.push(other.as_f64()?);
                Some(())
            }
        }
    }
    flatten(v, &mut data)?;
    ArrayD::from_shape_vec(IxDyn(&shape), data).ok()
}

/// A case ready to run: its modules, inputs and the references.
struct Prepared {
    id: String,
    modules: BTreeMap<&'static str, String>,
    inputs: Json,
    key: String,
    reference: ArrayD<f64>,
    value: ArrayD<f64>,
}

fn prepare(case: &Case) -> Result<Prepared, String> {
    let problem = case.problem().map_err(|e| e.to_string())?;
    let config = DeriveConfig {
        decls: case.decls(),
        wrt: case.wrt_names(),
        order: case.order as u8,
        assumptions: matcalc::simplify::Assumptions::from_domains(&problem.domains),
    };
    let d = derive(&case.expr, &config).map_err(|e| format!("derive: {e}"))?;
    let mut modules = BTreeMap::new();
    for target in [Target::Numpy, Target::Jax] {
        let codegen = CodegenConfig {
            domains: problem.domains.clone(),
            decls: case.decls(),
            ..CodegenConfig::new(target)
        };
        let code = python_module(&d, &codegen).map_err(|e| format!("codegen: {e}"))?;
        modules.insert(target.name(), code);
    }
    let formula = Formula {
        lhs: None,
        body: problem.expr.clone(),
    };
    let mut bindings = None;
    for attempt in 0..50 {
        let values =
            draw_sample(&problem.vars, &problem.domains, 7, attempt).map_err(|e| e.to_string())?;
        let b = Bindings {
            values,
            loss: Some(Loss::L1),
            ..Default::default()
        };
        let Ok(eval) = evaluate(&formula, &b, None) else {
            continue;
        };
        let finite = match &eval.value {
            Value::Matrix(m) => m.iter().all(|x| x.is_finite()),
            Value::Tensor(t) => t.iter().all(|x| x.is_finite()),
        };
        if finite && eval.kink_distance >= KINK_MARGIN {
            bindings = Some(b);
            break;
        }
    }
    let mut bindings = bindings.ok_or("no usable sample")?;
    let wrt: Vec<(String, Vec<usize>)> = problem
        .wrt
        .iter()
        .map(|w| (w.clone(), problem.vars[w].clone()))
        .collect();
    let mut f = |b: &Bindings| evaluate_expr(&problem.expr, b);
    let reference = finite_difference(&mut f, &mut bindings, &wrt).map_err(|e| e.to_string())?;
    let value = to_layout(&f(&bindings).map_err(|e| e.to_string())?);
    let inputs = bindings
        .values
        .iter()
        .map(|(name, a)| (name.clone(), nested(&to_layout(a))))
        .collect::<serde_json::Map<_, _>>();
    Ok(Prepared {
        id: case.id.clone(),
        modules,
        inputs: Json::Object(inputs),
        key: problem.wrt.join(","),
        reference,
        value,
    })
}

/// Runs the driver on each batch at once; returns every output line
/// parsed, by case id, per batch.
fn run_batches(python: &Python, batches: &[(String, Vec<Json>)]) -> Vec<BTreeMap<String, Json>> {
    let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/codegen_driver.py");
    let dir = std::env::temp_dir();
    let children: Vec<_> = batches
        .iter()
        .map(|(name, cases)| {
            let path = dir.join(format!(
                "matcalc-codegen-{}-{name}.json",
                std::process::id()
            ));
            std::fs::write(&path, Json::Array(cases.clone()).to_string()).expect("temp file");
            let child = Command::new(&python.exe)
                .arg(&driver)
                .arg(&path)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("python starts");
            (path, child)
        })
        .collect();
    children
        .into_iter()
        .map(|(path, child)| {
            let out = child.wait_with_output().expect("python runs");
            let _ = std::fs::remove_file(path);
            assert!(
                out.status.success(),
                "the driver failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter_map(|l| serde_json::from_str::<Json>(l).ok())
                .filter_map(|j| Some((j["id"].as_str()?.to_string(), j)))
                .collect()
        })
        .collect()
}

/// The failures of one case's run under one backend.
fn judge(p: &Prepared, backend: &str, out: Option<&Json>) -> Vec<String> {
    let Some(out) = out else {
        return vec![format!("{} ({backend}): no output", p.id)];
    };
    if let Some(err) = out.get("error") {
        return vec![format!(
            "{} ({backend}): {}",
            p.id,
            err.as_str().unwrap_or("")
        )];
    }
    let mut failures = Vec::new();
    let mut compare = |what: &str, got: &Json, want: &ArrayD<f64>, tol: f64| match from_nested(got)
    {
        Some(a) if a.shape() == want.shape() => {
            let err = relative_error(&a, want);
            if err.is_nan() || err > tol {
                failures.push(format!(
                    "{} ({backend}) {what}: relative error {err:.2e}",
                    p.id
                ));
            }
        }
        Some(a) => failures.push(format!(
            "{} ({backend}) {what}: shape {:?}, expected {:?}",
            p.id,
            a.shape(),
            want.shape()
        )),
        None => failures.push(format!("{} ({backend}) {what}: not an array", p.id)),
    };
    compare(
        "derivative",
        &out["results"][&p.key],
        &p.reference,
        TOLERANCE,
    );
    compare("value", &out["value"], &p.value, 1e-9);
    if let Some(v) = out["results"].get("value") {
        compare("derivatives()[\"value\"]", v, &p.value, 1e-9);
    }
    failures
}

#[test]
fn every_corpus_case_runs_in_numpy_and_jax_and_agrees_with_finite_differences() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/cases.jsonl");
    let text = std::fs::read_to_string(path).expect("corpus");
    let cases: Vec<Case> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("corpus lines are cases"))
        .collect();
    let mut failures = Vec::new();
    let prepared: Vec<Prepared> = cases
        .iter()
        .filter_map(|c| {
            prepare(c)
                .map_err(|e| failures.push(format!("{}: {e}", c.id)))
                .ok()
        })
        .collect();
    // Generating the modules needs no Python: every case must get both.
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let Some(python) = python() else {
        return;
    };
    let job = |p: &Prepared, backend: &str| serde_json::json!({"id": p.id, "code": p.modules[backend], "inputs": p.inputs});
    let mut batches = vec![(
        "numpy".to_string(),
        prepared.iter().map(|p| job(p, "numpy")).collect::<Vec<_>>(),
    )];
    if python.jax {
        let half = prepared.len().div_ceil(2);
        for (k, chunk) in prepared.chunks(half).enumerate() {
            batches.push((
                format!("jax{k}"),
                chunk.iter().map(|p| job(p, "jax")).collect(),
            ));
        }
    }
    let started = std::time::Instant::now();
    let outputs = run_batches(&python, &batches);
    let seconds = started.elapsed().as_secs_f64();
    let mut jax_outputs = BTreeMap::new();
    for out in &outputs[1..] {
        jax_outputs.extend(out.clone());
    }
    for p in &prepared {
        failures.extend(judge(p, "numpy", outputs[0].get(&p.id)));
        if python.jax {
            failures.extend(judge(p, "jax", jax_outputs.get(&p.id)));
        }
    }
    println!(
        "codegen: {} cases run with {} ({}) in {seconds:.1} s",
        prepared.len(),
        python.exe.display(),
        if python.jax { "numpy, jax" } else { "numpy" }
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn matcalc(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_matcalc"))
        .args(args)
        .output()
        .expect("matcalc runs")
}

#[test]
fn derive_writes_numpy_and_jax_modules() {
    for (format, import) in [
        ("numpy", "import numpy as np"),
        ("jax", "import jax.numpy as jnp"),
    ] {
        let out = matcalc(&["derive", "L(X*W + b')", "--wrt", "W,b", "--format", format]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let code = String::from_utf8_lossy(&out.stdout);
        assert!(code.contains(import), "{code}");
        assert!(code.contains("#     f = L(X*W + b')"), "{code}");
        assert!(code.contains("#     \"W\": ∂L/∂W"), "{code}");
        assert!(code.contains("def derivatives(**variables):"));
        assert!(code.contains("def check_gradient(seed=0"));
        assert!(
            code.contains("_take(variables, \"X\", \"n\", \"k\", sizes)"),
            "{code}"
        );
    }
}

#[test]
fn code_formats_are_for_derive_only() {
    let out = matcalc(&["parse", "X", "--format", "numpy"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--format numpy is for `matcalc derive"));
}

/// The generated statements, without the header and the helpers.
fn derivatives_body(code: &str) -> &str {
    let start = code
        .find("def derivatives(")
        .expect("derivatives is defined");
    let end = code[start..]
        .find("\ndef value(")
        .map_or(code.len(), |e| start + e);
    &code[start..end]
}

fn module(expr: &str, wrt: &[&str], order: u8, target: Target) -> String {
    let config = DeriveConfig {
        wrt: wrt.iter().map(|w| w.to_string()).collect(),
        order,
        ..Default::default()
    };
    let d = derive(expr, &config).expect("derives");
    python_module(&d, &CodegenConfig::new(target)).expect("generates")
}

#[test]
fn a_shared_intermediate_is_computed_once() {
    // X*w occurs in the value twice and in the gradient again.
    let code = module("sum(exp(X*w) - y.*(X*w))", &["w"], 1, Target::Numpy);
    let body = derivatives_body(&code);
    assert_eq!(body.matches("X @ w").count(), 1, "{body}");
}

#[test]
fn generated_code_grows_linearly_with_depth() {
    // The gradient of tr(A1*X*A2*X*…*Ak*X) written out has about k² nodes;
    // its DAG (kept shared by the engine at these depths) has about k.
    let chain = |k: usize| {
        let factors: Vec<String> = (1..=k).map(|i| format!("A{i}*X")).collect();
        format!("tr({})", factors.join("*"))
    };
    let lines = |k: usize| {
        derivatives_body(&module(&chain(k), &["X"], 1, Target::Numpy))
            .lines()
            .count()
    };
    let (l64, l128) = (lines(64), lines(128));
    assert!(
        l128 * 10 <= l64 * 22,
        "doubling the depth from 64 to 128 took the code from {l64} to {l128} lines"
    );
}

#[test]
fn arguments_are_checked_against_their_layout() {
    let Some(python) = python() else {
        return;
    };
    let code = module("x'*A*x + c*sum(B)", &["x"], 1, Target::Numpy);
    let script = format!(
        r#"{code}
import numpy as np
ok = derivatives(x=np.ones(3), A=np.ones((3, 3)), B=np.ones((2, 4)), c=2.0)
assert ok["x"].shape == (3,), ok["x"].shape
assert np.allclose(ok["x"], 6.0), ok["x"]
assert np.ndim(ok["value"]) == 0
for bad, needle in [
    (dict(x=np.ones((3, 1)), A=np.ones((3, 3)), B=np.ones((2, 4)), c=2.0), "x must have shape (n,)"),
    (dict(x=np.ones(3), A=np.ones((4, 4)), B=np.ones((2, 4)), c=2.0), "from an earlier argument"),
    (dict(x=np.ones(3), A=np.ones((3, 3)), B=np.ones((2, 4))), "missing argument 'c'"),
    (dict(x=np.ones(3), A=np.ones((3, 3)), B=np.ones((2, 4)), c=2.0, t=1.0), "unexpected argument"),
]:
    try:
        derivatives(**bad)
    except (TypeError, ValueError) as e:
        assert needle in str(e), (needle, str(e))
    else:
        raise AssertionError("accepted " + needle)
print("checked")
"#
    );
    runs_and_prints_checked(&python, &script);
}

/// Runs `script` and asserts that it succeeded and printed `checked`.
fn runs_and_prints_checked(python: &Python, script: &str) {
    let out = Command::new(&python.exe)
        .args(["-c", script])
        .output()
        .expect("python runs");
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("checked"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The opaque Hessian `d2L` is a keyword of the generated functions (a
/// callable or its n×n value): for `L(X*w)` by (w, w) and `dL(x)'*x` by x,
/// NumPy and JAX modules agree with a known Hessian passed in and pass their
/// own `check_gradient`, which instantiates it.
#[test]
fn the_hessian_of_an_abstract_function_is_passed_as_d2l() {
    let Some(python) = python() else {
        return;
    };
    let mut targets = vec![Target::Numpy];
    if python.jax {
        targets.push(Target::Jax);
    }
    for target in targets {
        let hessian = module("L(X*w)", &["w"], 2, target);
        let through = module("dL(x)'*x", &["x"], 1, target);
        assert!(hessian.contains("d2L="), "{hessian}");
        let script = format!(
            r#"
import numpy as np
import types
spaces = []
for code in [{hessian:?}, {through:?}]:
    space = types.ModuleType("generated")
    exec(code, space.__dict__)
    space.check_gradient()
    spaces.append(space)
rng = np.random.default_rng(1)
X, w, x = rng.standard_normal((4, 3)), rng.standard_normal(3), rng.standard_normal(3)
h = lambda y: np.diag(1.0 - np.sin(y))
g = lambda y: np.cos(y) + y
got = np.asarray(spaces[0].derivatives(X=X, w=w, d2L=h)["w,w"])
assert np.allclose(got, X.T @ h(X @ w) @ X), got
fixed = np.asarray(spaces[0].derivatives(X=X, w=w, d2L=h(X @ w))["w,w"])
assert np.allclose(fixed, got)
got = np.asarray(spaces[1].derivatives(x=x, dL=g, d2L=h)["x"])
assert np.allclose(got, h(x) @ x + g(x)), got
print("checked")
"#
        );
        runs_and_prints_checked(&python, &script);
    }
}
