use matcalc::{derive, DeriveConfig};
use std::time::Instant;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let fam = args[1].chars().next().unwrap();
    let k: usize = args[2].parse().unwrap();
    let (expr, decls, wrt, order) = match fam {
        'a' => {
            let mut inner = "x".to_string();
            for i in 1..k {
                inner = format!("tanh(W{i}*{inner})");
            }
            let d: Vec<String> = (1..=k).map(|i| format!("W{i}: n x n")).collect();
            (
                format!("norm2(W{k}*{inner} - y)^2"),
                format!("{}, x: n, y: n", d.join(", ")),
                vec!["W1".to_string()],
                1u8,
            )
        }
        'b' => {
            let f: Vec<String> = (1..=k).map(|i| format!("A{i}*X")).collect();
            let d: Vec<String> = (1..=k).map(|i| format!("A{i}: n x n")).collect();
            (
                format!("tr({})", f.join("*")),
                format!("{}, X: n x n", d.join(", ")),
                vec!["X".to_string()],
                1,
            )
        }
        _ => {
            let f: Vec<String> = (1..=k).map(|i| format!("A{i}")).collect();
            let d: Vec<String> = (1..=k).map(|i| format!("A{i}: n x n")).collect();
            (
                format!("x'*{}*x", f.join("*")),
                format!("{}, x: n", d.join(", ")),
                vec!["x".to_string()],
                2,
            )
        }
    };
    let mut dd = matcalc::syntax::Decls::new();
    dd.extend_from_str(&decls).unwrap();
    let cfg = DeriveConfig {
        decls: dd,
        wrt,
        order,
    };
    let t = Instant::now();
    let r = std::thread::Builder::new()
        .stack_size(1 << 30)
        .spawn(move || {
            derive(&expr, &cfg).map(|d| {
                (
                    d.graph.len(),
                    matcalc::syntax::to_expr_string(&d.derivatives[0].formula).len(),
                )
            })
        })
        .unwrap()
        .join()
        .unwrap();
    println!(
        "{fam} k={k}: {:?} in {:?}",
        r.map_err(|e| e.to_string()),
        t.elapsed()
    );
}
