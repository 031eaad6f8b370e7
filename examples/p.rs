fn main() {
    let d = matcalc::syntax::Decls::new();
    for s in std::env::args().skip(1) {
        match matcalc::syntax::parse_formula(&s, &d) {
            Ok(f) => println!(
                "{}   |   {}   |   {}",
                matcalc::syntax::to_expr_string(&f),
                matcalc::syntax::to_unicode(&f),
                matcalc::syntax::to_latex(&f)
            ),
            Err(e) => print!("{}", e.diagnostic().render(&s)),
        }
    }
}
