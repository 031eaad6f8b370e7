use matcalc::diff::Differentiator;
use matcalc::index::Graph;
use matcalc::syntax::{BinOp, DimSpec};

fn d(n: usize) -> DimSpec {
    DimSpec::Fixed(n)
}

#[test]
fn affine() {
    let mut g = Graph::new();
    let x = g.var("X", [d(4), d(3)]);
    let w = g.var("W", [d(3), d(5)]);
    let b = g.var("B", [d(4), d(5)]);
    let xw = g.binary(BinOp::Mul, x, w).unwrap();
    let y = g.binary(BinOp::Add, xw, b).unwrap();
    let l = g.apply("L", y);
    let mut diff = Differentiator::new(&mut g);
    let grads = diff.gradients(l, &[x, w, b]).unwrap();
    for gr in grads {
        println!("{:?}", g.to_expr(gr.unwrap()));
    }
}
