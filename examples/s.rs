fn main() {
    for a in std::env::args().skip(1) {
        match matcalc::derive::simplify(&a, &Default::default()) {
            Ok((_, f)) => println!("{}", matcalc::syntax::to_expr_string(&f)),
            Err(e) => println!("ERR {e}"),
        }
    }
}
