use matcalc::{derive, DeriveConfig};
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut decls = matcalc::syntax::Decls::new();
    if args.len() > 3 {
        decls.extend_from_str(&args[3]).unwrap();
    }
    let cfg = DeriveConfig {
        decls,
        wrt: args[1].split(',').map(String::from).collect(),
        order: args[2].parse().unwrap(),
    };
    match derive(&args[0], &cfg) {
        Ok(d) => {
            for r in &d.derivatives {
                println!(
                    "{}   [{:?}]",
                    matcalc::syntax::to_expr_string(&r.formula),
                    r.form
                )
            }
        }
        Err(e) => println!("ERR {e}"),
    }
}
