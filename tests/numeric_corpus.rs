//! Every corpus case's `expected` and `expected_index` confirmed against
//! finite differences (tolerance 1e-6, seeds 1–3, both loss
//! instantiations), and four deliberately wrong variants of each rejected.

use matcalc::numeric::{
    check, check_cases, evaluate, evaluate_expr, layout_dims, Case, CheckConfig, CheckReport, Loss,
    Method, Problem, Value, Verdict,
};
use matcalc::syntax::{BinOp, Expr, ExprKind, Formula};

const CORPUS: &str = concat!(
    include_str!("corpus/cases.jsonl"),
    "\n",
    include_str!("corpus/language.jsonl")
);

fn cases() -> Vec<Case> {
    CORPUS
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("every corpus line is a case"))
        .collect()
}

#[test]
fn every_expected_result_is_confirmed() {
    let verdicts = check_cases(CORPUS);
    assert_eq!(verdicts.len(), cases().len());
    let failures: Vec<String> = verdicts
        .iter()
        .filter(|v| !v.ok)
        .map(|v| serde_json::to_string(v).unwrap())
        .collect();
    assert!(
        failures.is_empty(),
        "{} failing:\n{}",
        failures.len(),
        failures.join("\n")
    );
    for v in &verdicts {
        let err = v.max_rel_err.expect("a checked case has an error figure");
        assert!(err <= 1e-6, "{}: {err}", v.id);
    }
}

/// The deliberately wrong variants of a claim.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Wrong {
    Transposed,
    Scaled,
    Negated,
    FactorTwoDropped,
}

const WRONG: [Wrong; 4] = [
    Wrong::Transposed,
    Wrong::Scaled,
    Wrong::Negated,
    Wrong::FactorTwoDropped,
];

/// Replaces the first literal 2 that is a factor (an operand of `*`, `/`,
/// `.*` or `./`) by 1; `None` when there is no such factor.
fn drop_factor_two(e: &Expr) -> Option<Expr> {
    let is_two = |x: &Expr| matches!(x.kind, ExprKind::Num(v) if v == 2.0);
    if let ExprKind::Binary(op @ (BinOp::Mul | BinOp::Div | BinOp::HadMul | BinOp::HadDiv), a, b) =
        &e.kind
    {
        if is_two(a) {
            return Some(Expr::binary(*op, Expr::num(1.0), (**b).clone()));
        }
        if is_two(b) {
            return Some(Expr::binary(*op, (**a).clone(), Expr::num(1.0)));
        }
    }
    let children = e.children();
    for (k, child) in children.iter().enumerate() {
        if let Some(changed) = drop_factor_two(child) {
            return Some(replace_child(e, k, changed));
        }
    }
    None
}

/// `e` with its `k`-th child (in `children()` order) replaced.
fn replace_child(e: &Expr, k: usize, new: Expr) -> Expr {
    let mut e = e.clone();
    let slot: &mut Expr = match &mut e.kind {
        ExprKind::Neg(x)
        | ExprKind::Transpose(x)
        | ExprKind::Call(_, x)
        | ExprKind::Index(x, _)
        | ExprKind::IndexSum(_, x) => x,
        ExprKind::Fill { value, .. } => value,
        ExprKind::Binary(_, a, b) => {
            if k == 0 {
                a
            } else {
                b
            }
        }
        ExprKind::Apply(_, args) | ExprKind::Grad(_, args) => &mut args[k],
        _ => unreachable!("leaves have no children"),
    };
    *slot = new;
    e
}

/// The variant, or `None` when it does not apply to this claim.
fn variant(claim: &Formula, wrong: Wrong) -> Option<Formula> {
    let with_body = |body: Expr| Formula {
        lhs: claim.lhs.clone(),
        body,
    };
    match wrong {
        Wrong::Transposed => match &claim.lhs {
            None => Some(with_body(Expr::new(ExprKind::Transpose(Box::new(
                claim.body.clone(),
            ))))),
            Some(lhs) if lhs.indices.len() >= 2 => {
                let mut lhs = lhs.clone();
                lhs.indices.swap(0, 1);
                Some(Formula {
                    lhs: Some(lhs),
                    body: claim.body.clone(),
                })
            }
            Some(_) => None,
        },
        Wrong::Scaled => Some(with_body(Expr::binary(
            BinOp::Mul,
            Expr::num(1.001),
            claim.body.clone(),
        ))),
        Wrong::Negated => Some(with_body(Expr::new(ExprKind::Neg(Box::new(
            claim.body.clone(),
        ))))),
        Wrong::FactorTwoDropped => drop_factor_two(&claim.body).map(with_body),
    }
}

fn value_at(problem: &Problem, formula: &Formula, dims: &[usize]) -> Value {
    let loss = Some(Loss::L2);
    let bindings = problem.sample(1, 0, loss).unwrap();
    evaluate(formula, &bindings, Some(dims)).unwrap().value
}

fn max_abs_difference(a: &Value, b: &Value) -> f64 {
    let (a, b) = match (a, b) {
        (Value::Matrix(a), Value::Matrix(b)) if a.dim() == b.dim() => {
            (a.clone().into_dyn(), b.clone().into_dyn())
        }
        (Value::Tensor(a), Value::Tensor(b)) if a.shape() == b.shape() => (a.clone(), b.clone()),
        _ => return f64::INFINITY,
    };
    a.iter()
        .zip(b.iter())
        .fold(0.0, |m, (x, y)| m.max((x - y).abs()))
}

#[test]
fn wrong_variants_are_rejected() {
    let config = CheckConfig::default();
    let mut rejected = [0usize; 4];
    let mut transposes_that_fit = 0;
    for case in cases() {
        let problem = case.problem().unwrap();
        for claim in case.claims().unwrap() {
            let original = check(&problem, &claim, &config).unwrap();
            assert!(original.ok(), "{}: the original claim must agree", case.id);
            let layout = layout_of(&original, &problem, &claim);
            for (k, wrong) in WRONG.into_iter().enumerate() {
                let Some(bad) = variant(&claim, wrong) else {
                    // Genuine skips only: a one-index form has nothing to
                    // swap; a claim without a literal factor 2 has none to drop.
                    match wrong {
                        Wrong::Transposed => {
                            assert_eq!(claim.lhs.as_ref().map(|l| l.indices.len()), Some(1))
                        }
                        _ => assert_eq!(wrong, Wrong::FactorTwoDropped),
                    }
                    continue;
                };
                let report = check(&problem, &bad, &config).unwrap();
                if report.ok() {
                    // Only a variant numerically equal to the original may
                    // pass (a symmetric or scalar result, transposed).
                    assert_eq!(wrong, Wrong::Transposed, "{}: {wrong:?} accepted", case.id);
                    let same = max_abs_difference(
                        &value_at(&problem, &claim, &layout),
                        &value_at(&problem, &bad, &layout),
                    );
                    assert!(
                        same < 1e-12,
                        "{}: transposed differs by {same} yet passed",
                        case.id
                    );
                    continue;
                }
                rejected[k] += 1;
                if let Verdict::WrongShape {
                    transpose_fits: true,
                    ..
                } = report.verdict
                {
                    assert_eq!(wrong, Wrong::Transposed);
                    transposes_that_fit += 1;
                }
            }
        }
    }
    // Every case has a scaled and a negated variant; the others apply to
    // many cases (vector results transposed are rows, whose transpose fits).
    let claims: usize = cases().iter().map(|c| c.claims().unwrap().len()).sum();
    assert_eq!(rejected[1], claims);
    assert_eq!(rejected[2], claims);
    assert!(
        rejected[0] > claims / 2,
        "transposed rejected {}",
        rejected[0]
    );
    assert!(
        rejected[3] >= 15,
        "factor 2 dropped rejected {}",
        rejected[3]
    );
    assert!(transposes_that_fit >= 10, "{transposes_that_fit}");
}

/// The layout dims of the derivative a case checks: f's dims ++ each wrt's.
fn layout_of(report: &CheckReport, problem: &Problem, claim: &Formula) -> Vec<usize> {
    assert!(report.ok());
    let bindings = problem.sample(1, 0, Some(Loss::L2)).unwrap();
    let f = evaluate_expr(&problem.expr, &bindings).unwrap();
    let mut dims = layout_dims(&f);
    for w in &problem.wrt {
        dims.extend(&problem.vars[w]);
    }
    if let Some(lhs) = &claim.lhs {
        assert_eq!(lhs.indices.len(), dims.len());
    }
    dims
}

#[test]
fn directional_checks_agree_with_full_ones_on_the_corpus() {
    let config = CheckConfig {
        method: Method::Directional { directions: 3 },
        ..CheckConfig::default()
    };
    for case in cases() {
        let problem = case.problem().unwrap();
        for claim in case.claims().unwrap() {
            let report = check(&problem, &claim, &config).unwrap();
            assert!(report.ok(), "{}: {:?}", case.id, report.note());
            let scaled = variant(&claim, Wrong::Scaled).unwrap();
            assert!(
                !check(&problem, &scaled, &config).unwrap().ok(),
                "{}",
                case.id
            );
        }
    }
}
