//! Python statements for the nodes of a [`Program`]: NumPy or `jax.numpy`
//! operations, one assignment per node used more than once.
//!
//! Values inside the generated functions keep matcalc's orientation: every
//! matrix-valued node is a 2-D array (an n-vector n×1, a row 1×n), except
//! that a 1×1 value may also be a 0-d array or a Python float (they
//! broadcast alike). A node of an index form is an array with one axis per
//! free index, in the order of its [`Ty::Entries`] labels; products of such
//! nodes (with the sums over them) become one `einsum` each.
//!
//! A node used once is written inline into its parent, up to a nesting
//! depth of [`MAX_INLINE_DEPTH`]; every other node gets a temporary `tK`,
//! assigned in id order (children before parents), so each is computed
//! once and the statements grow with the number of distinct nodes. The
//! exception is a product of index-form factors: it is written into each
//! of its uses, fused with the sums there, since computing it once would
//! build a tensor over every index it has, the summed ones included.

use std::collections::{BTreeMap, BTreeSet};

use super::names::Namer;
use super::program::{is_one, uses, NodeId, Op, Program, Ty};
use super::{CodegenError, Helper, Target};
use crate::shape::Dim;
use crate::syntax::{BinOp, ConstKind, Func};

/// Deepest nesting of inline subexpressions before a temporary is named.
const MAX_INLINE_DEPTH: usize = 6;

/// Most distinct indices in one `einsum` (its subscripts are letters).
const EINSUM_LETTERS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// A node's value as Python text.
#[derive(Clone, Debug)]
enum Ref {
    /// An expression.
    Text(Text),
    /// A product of index-form factors not yet written out, so that a sum
    /// around it joins the same `einsum`.
    Product(Product),
}

#[derive(Clone, Debug)]
struct Text {
    text: String,
    /// True when the text needs no parentheses as an operand.
    atomic: bool,
    /// A name or a literal: never worth a temporary.
    leaf: bool,
    /// Nesting depth of the inline text.
    depth: usize,
}

#[derive(Clone, Debug, Default)]
struct Product {
    negative: bool,
    /// Factors without indices (0-d), written in front.
    scalars: Vec<String>,
    /// Factors with indices: atomic text and labels.
    factors: Vec<(String, Vec<String>)>,
    depth: usize,
}

impl Text {
    fn leaf(text: String) -> Text {
        Text {
            text,
            atomic: true,
            leaf: true,
            depth: 0,
        }
    }

    /// The text as an operand of an operator.
    fn operand(&self) -> String {
        if self.atomic {
            self.text.clone()
        } else {
            format!("({})", self.text)
        }
    }
}

/// Emits the statements of one Python function.
pub(super) struct Emitter<'a> {
    program: &'a Program,
    target: Target,
    /// Python names of the variables, sizes and function parameters.
    bound: &'a BTreeMap<String, String>,
    names: &'a mut Namer,
    helpers: &'a mut BTreeSet<Helper>,
    /// The statements written so far.
    pub(super) lines: Vec<String>,
}

impl<'a> Emitter<'a> {
    /// An emitter over `program`; `bound` maps matcalc names (variables,
    /// size symbols, `L`, `dL`) to their Python names.
    pub(super) fn new(
        program: &'a Program,
        target: Target,
        bound: &'a BTreeMap<String, String>,
        names: &'a mut Namer,
        helpers: &'a mut BTreeSet<Helper>,
    ) -> Emitter<'a> {
        Emitter {
            program,
            target,
            bound,
            names,
            helpers,
            lines: Vec::new(),
        }
    }

    fn xp(&self) -> &'static str {
        self.target.module()
    }

    /// A Python expression for a dimension.
    pub(super) fn dim(&self, d: &Dim) -> Result<String, CodegenError> {
        match d {
            Dim::Fixed(n) => Ok(n.to_string()),
            Dim::Named(s) => self
                .bound
                .get(s)
                .cloned()
                .ok_or_else(|| CodegenError::Unsupported {
                    what: format!("the size `{s}`"),
                    why: "it is not the size of any variable".into(),
                }),
        }
    }

    /// A Python tuple of dimensions.
    pub(super) fn tuple(&self, dims: &[Dim]) -> Result<String, CodegenError> {
        let parts: Vec<String> = dims.iter().map(|d| self.dim(d)).collect::<Result<_, _>>()?;
        Ok(match parts.as_slice() {
            [one] => format!("({one},)"),
            _ => format!("({})", parts.join(", ")),
        })
    }

    /// The layout tuple of a node's value: its dimensions other than 1.
    pub(super) fn layout(&self, id: NodeId) -> Result<String, CodegenError> {
        match &self.program.node(id).ty {
            Ty::Matrix(r, c) => {
                let dims: Vec<Dim> = [r, c].into_iter().filter(|d| !is_one(d)).cloned().collect();
                self.tuple(&dims)
            }
            Ty::Entries(labels) => {
                let dims: Vec<Dim> = labels.iter().map(|(_, d)| d.clone()).collect();
                self.tuple(&dims)
            }
        }
    }

    /// Writes the statements computing `roots` and returns, for each root,
    /// an atomic expression of its value (a name or a literal).
    pub(super) fn emit(&mut self, roots: &[NodeId]) -> Result<Vec<String>, CodegenError> {
        let uses = uses(self.program, roots);
        let mut refs: Vec<Option<Ref>> = vec![None; self.program.len()];
        for id in 0..self.program.len() {
            if uses[id] == 0 {
                continue;
            }
            let r = self.node_ref(id, &uses, &mut refs)?;
            let must_name = uses[id] > 1 || roots.contains(&id);
            refs[id] = Some(match r {
                Ref::Text(t) if t.leaf => Ref::Text(t),
                Ref::Text(t) if must_name || t.depth > MAX_INLINE_DEPTH => {
                    Ref::Text(self.assign(t.text))
                }
                // A shared product is written into each use instead, where
                // it joins that use's sums: named, it would be a tensor over
                // all its indices, summed ones included (n⁴ entries and more).
                Ref::Product(p) if roots.contains(&id) || p.depth > MAX_INLINE_DEPTH => {
                    let labels = self.program.node(id).ty.labels();
                    let t = self.materialize(p, &labels)?;
                    Ref::Text(self.assign(t.text))
                }
                other => other,
            });
        }
        roots
            .iter()
            .map(|&r| match &refs[r] {
                Some(Ref::Text(t)) => Ok(t.text.clone()),
                _ => unreachable!("roots are named"),
            })
            .collect()
    }

    fn assign(&mut self, text: String) -> Text {
        let name = self.names.temporary();
        self.lines.push(format!("{name} = {text}"));
        Text::leaf(name)
    }

    /// The value of a child: moved out when used once, else copied.
    fn take(&self, kid: NodeId, uses: &[usize], refs: &mut [Option<Ref>]) -> Ref {
        let r = if uses[kid] == 1 {
            refs[kid].take()
        } else {
            refs[kid].clone()
        };
        r.expect("children are emitted before parents")
    }

    /// The child's value as text (a pending product written out).
    fn kid_text(
        &mut self,
        kid: NodeId,
        uses: &[usize],
        refs: &mut [Option<Ref>],
    ) -> Result<Text, CodegenError> {
        match self.take(kid, uses, refs) {
            Ref::Text(t) => Ok(t),
            Ref::Product(p) => {
                let labels = self.program.node(kid).ty.labels();
                self.materialize(p, &labels)
            }
        }
    }

    fn node_ref(
        &mut self,
        id: NodeId,
        uses: &[usize],
        refs: &mut [Option<Ref>],
    ) -> Result<Ref, CodegenError> {
        let node = self.program.node(id).clone();
        let xp = self.xp();
        let kids = node.kids.clone();
        let entries = matches!(node.ty, Ty::Entries(_));
        let call = |text: String, depth: usize| {
            Ref::Text(Text {
                text,
                atomic: true,
                leaf: false,
                depth: depth + 1,
            })
        };
        let compound = |text: String, depth: usize| {
            Ref::Text(Text {
                text,
                atomic: false,
                leaf: false,
                depth: depth + 1,
            })
        };
        Ok(match &node.op {
            Op::Num(bits) => Ref::Text(Text::leaf(python_float(f64::from_bits(*bits)))),
            Op::Var(name) => Ref::Text(Text::leaf(self.bound[name].clone())),
            Op::Apply(name) | Op::Gradient(name) | Op::Hessian(name) => {
                let (helper, param) = match &node.op {
                    Op::Apply(_) => (Helper::ValueAt, name.clone()),
                    Op::Hessian(_) => (Helper::HessianAt, format!("d2{name}")),
                    _ => (Helper::GradientAt, format!("d{name}")),
                };
                self.helpers.insert(helper);
                let layout = self.layout(kids[0])?;
                let a = self.kid_text(kids[0], uses, refs)?;
                call(
                    format!(
                        "{}({}, {}, {layout})",
                        helper.name(),
                        self.bound[&param],
                        a.text
                    ),
                    a.depth,
                )
            }
            Op::Neg => match self.take(kids[0], uses, refs) {
                Ref::Product(mut p) => {
                    p.negative = !p.negative;
                    Ref::Product(p)
                }
                Ref::Text(a) => compound(format!("-{}", a.operand()), a.depth),
            },
            Op::Transpose => match (&self.program.node(kids[0]).ty, entries) {
                (ty, false) if !ty.is_scalar() => {
                    let a = self.kid_text(kids[0], uses, refs)?;
                    call(format!("{}.T", a.operand()), a.depth)
                }
                _ => self.take(kids[0], uses, refs),
            },
            Op::Binary(op) if entries => self.entries_binary(id, *op, uses, refs)?,
            Op::Binary(op) => {
                let (ta, tb) = (
                    self.program.node(kids[0]).ty.clone(),
                    self.program.node(kids[1]).ty.clone(),
                );
                let a = self.kid_text(kids[0], uses, refs)?;
                let b = self.kid_text(kids[1], uses, refs)?;
                let symbol = match op {
                    BinOp::Add => "+",
                    BinOp::Sub => "-",
                    BinOp::Mul if ta.is_scalar() || tb.is_scalar() => "*",
                    BinOp::Mul => "@",
                    BinOp::HadMul => "*",
                    BinOp::Div | BinOp::HadDiv => "/",
                    BinOp::Pow | BinOp::HadPow => "**",
                };
                compound(
                    format!("{} {symbol} {}", a.operand(), b.operand()),
                    a.depth.max(b.depth),
                )
            }
            Op::Call(func) => {
                let arg_ty = self.program.node(kids[0]).ty.clone();
                let a = self.kid_text(kids[0], uses, refs)?;
                let text = self.call(*func, &arg_ty, &a)?;
                match text {
                    Some(text) => call(text, a.depth),
                    None => Ref::Text(a),
                }
            }
            Op::Fill => {
                let Ty::Matrix(r, c) = &node.ty else {
                    unreachable!("fills are matrices")
                };
                let shape = self.tuple(&[r.clone(), c.clone()])?;
                let v = self.kid_text(kids[0], uses, refs)?;
                call(format!("{xp}.full({shape}, {})", v.text), v.depth)
            }
            Op::Const(kind) => {
                let Ty::Matrix(r, c) = &node.ty else {
                    unreachable!("constants are matrices")
                };
                let text = match kind {
                    ConstKind::Eye => format!("{xp}.eye({})", self.dim(r)?),
                    ConstKind::Ones => {
                        format!("{xp}.ones({})", self.tuple(&[r.clone(), c.clone()])?)
                    }
                    ConstKind::Zeros => {
                        format!("{xp}.zeros({})", self.tuple(&[r.clone(), c.clone()])?)
                    }
                };
                call(text, 0)
            }
            Op::Index(ixs) => {
                let a = self.kid_text(kids[0], uses, refs)?;
                let axes = node.ty.labels().len();
                match (ixs.len(), axes) {
                    (0, _) => call(format!("{xp}.reshape({}, ())", a.text), a.depth),
                    (1, _) => call(format!("{xp}.reshape({}, (-1,))", a.text), a.depth),
                    (2, 2) => Ref::Text(a),
                    _ => call(format!("{xp}.einsum(\"ii->i\", {})", a.text), a.depth),
                }
            }
            Op::Delta => {
                let Ty::Entries(labels) = &node.ty else {
                    unreachable!("deltas have entries")
                };
                let text = match labels.as_slice() {
                    [(_, d)] => format!("{xp}.ones(({},))", self.dim(d)?),
                    _ => format!(
                        "{xp}.eye({}, {})",
                        self.dim(&labels[0].1)?,
                        self.dim(&labels[1].1)?
                    ),
                };
                call(text, 0)
            }
            Op::Sum(ixs) => {
                let labels = node.ty.labels();
                match self.take(kids[0], uses, refs) {
                    Ref::Product(p) => Ref::Text(self.materialize(p, &labels)?),
                    Ref::Text(a) => {
                        let inner = self.program.node(kids[0]).ty.labels();
                        let axes: Vec<String> = inner
                            .iter()
                            .enumerate()
                            .filter(|(_, l)| ixs.contains(l))
                            .map(|(k, _)| k.to_string())
                            .collect();
                        call(
                            format!("{xp}.sum({}, axis=({},))", a.text, axes.join(", ")),
                            a.depth,
                        )
                    }
                }
            }
        })
    }

    /// A built-in function of a matrix or of index-form entries; `None`
    /// when it is the identity on this shape.
    fn call(&mut self, func: Func, arg: &Ty, a: &Text) -> Result<Option<String>, CodegenError> {
        let xp = self.xp();
        let square = |t: &Text| {
            if arg.is_scalar() {
                format!("{xp}.reshape({}, (1, 1))", t.text)
            } else {
                t.text.clone()
            }
        };
        let mut helper = |h: Helper, text: &str| {
            self.helpers.insert(h);
            format!("{}({text})", h.name())
        };
        let x = &a.text;
        Ok(Some(match func {
            Func::Tr => format!("{xp}.trace({})", square(a)),
            Func::Det => format!("{xp}.linalg.det({})", square(a)),
            Func::Logdet => helper(Helper::Logdet, &square(a)),
            Func::Inv => format!("{xp}.linalg.inv({})", square(a)),
            Func::Diag => match arg {
                Ty::Matrix(r, c) if is_one(r) && is_one(c) => return Ok(None),
                Ty::Matrix(r, c) if is_one(r) || is_one(c) => {
                    format!("{xp}.diag({xp}.reshape({x}, (-1,)))")
                }
                _ => format!("{xp}.reshape({xp}.diag({x}), (-1, 1))"),
            },
            Func::Sum => format!("{xp}.sum({x})"),
            Func::Exp => format!("{xp}.exp({x})"),
            Func::Log => format!("{xp}.log({x})"),
            Func::Sin => format!("{xp}.sin({x})"),
            Func::Cos => format!("{xp}.cos({x})"),
            Func::Tanh => format!("{xp}.tanh({x})"),
            Func::Tan => format!("{xp}.tan({x})"),
            Func::Softplus => format!("{xp}.logaddexp(0.0, {x})"),
            Func::Erf => helper(Helper::Erf, x),
            Func::Sqrt => format!("{xp}.sqrt({x})"),
            Func::Abs => format!("{xp}.abs({x})"),
            Func::Sign => format!("{xp}.sign({x})"),
            Func::Relu => format!("{xp}.maximum({x}, 0.0)"),
            Func::Sigmoid => helper(Helper::Sigmoid, x),
            Func::Norm1 => format!("{xp}.sum({xp}.abs({x}))"),
            Func::Norm2 => helper(Helper::Norm2, x),
            Func::Softmax => helper(Helper::Softmax, x),
            Func::Logsumexp => helper(Helper::Logsumexp, x),
        }))
    }

    /// A binary operation on index-form entries: products join a pending
    /// `einsum`; other operations broadcast operands aligned to the
    /// result's axes.
    fn entries_binary(
        &mut self,
        id: NodeId,
        op: BinOp,
        uses: &[usize],
        refs: &mut [Option<Ref>],
    ) -> Result<Ref, CodegenError> {
        let kids = self.program.node(id).kids.clone();
        let labels = self.program.node(id).ty.labels();
        if matches!(op, BinOp::Mul | BinOp::HadMul) {
            let mut product = Product::default();
            for &k in &kids {
                match self.take(k, uses, refs) {
                    Ref::Product(p) => {
                        product.negative ^= p.negative;
                        product.scalars.extend(p.scalars);
                        product.factors.extend(p.factors);
                        product.depth = product.depth.max(p.depth);
                    }
                    Ref::Text(t) => {
                        product.depth = product.depth.max(t.depth + 1);
                        let ty = &self.program.node(k).ty;
                        if ty.is_scalar() {
                            product.scalars.push(self.zero_d(k, &t));
                        } else {
                            product.factors.push((t.operand(), ty.labels()));
                        }
                    }
                }
            }
            return Ok(Ref::Product(product));
        }
        let mut operands = Vec::new();
        let mut depth = 0;
        for &k in &kids {
            let t = self.kid_text(k, uses, refs)?;
            depth = depth.max(t.depth);
            let own = self.program.node(k).ty.labels();
            operands.push(if own.is_empty() {
                self.zero_d(k, &t)
            } else {
                self.align(&t, &own, &labels)
            });
        }
        let symbol = match op {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Div | BinOp::HadDiv => "/",
            _ => "**",
        };
        Ok(Ref::Text(Text {
            text: format!("{} {symbol} {}", operands[0], operands[1]),
            atomic: false,
            leaf: false,
            depth: depth + 1,
        }))
    }

    /// A scalar operand as a 0-d value (a 1×1 matrix would broadcast to
    /// two axes).
    fn zero_d(&self, id: NodeId, t: &Text) -> String {
        match (&self.program.node(id).op, &self.program.node(id).ty) {
            (Op::Num(_), _) | (_, Ty::Entries(_)) => t.operand(),
            _ => format!("{}.reshape({}, ())", self.xp(), t.text),
        }
    }

    /// An operand with axes `own`, transposed and expanded to broadcast
    /// against axes `target` (a superset).
    fn align(&self, t: &Text, own: &[String], target: &[String]) -> String {
        let xp = self.xp();
        let order: Vec<&String> = target.iter().filter(|l| own.contains(l)).collect();
        let mut text = t.operand();
        if order.iter().zip(own).any(|(a, b)| *a != b) {
            let perm: Vec<String> = order
                .iter()
                .map(|l| own.iter().position(|o| o == *l).unwrap_or(0).to_string())
                .collect();
            text = format!("{xp}.transpose({text}, ({},))", perm.join(", "));
        }
        let missing: Vec<String> = target
            .iter()
            .enumerate()
            .filter(|(_, l)| !own.contains(l))
            .map(|(k, _)| k.to_string())
            .collect();
        if !missing.is_empty() {
            text = format!("{xp}.expand_dims({text}, ({},))", missing.join(", "));
        }
        text
    }

    /// A pending product written out with the axes `out` (indices of the
    /// factors not in `out` are summed).
    fn materialize(&mut self, p: Product, out: &[String]) -> Result<Text, CodegenError> {
        let xp = self.xp();
        let mut letters: BTreeMap<String, char> = BTreeMap::new();
        let mut alphabet = EINSUM_LETTERS.chars();
        let mut letter = |l: &String| -> Result<char, CodegenError> {
            if let Some(&c) = letters.get(l) {
                return Ok(c);
            }
            let c = alphabet.next().ok_or_else(|| CodegenError::Unsupported {
                what: "an index-form product".into(),
                why: format!("more than {} distinct indices", EINSUM_LETTERS.len()),
            })?;
            letters.insert(l.clone(), c);
            Ok(c)
        };
        let mut parts = p.scalars.clone();
        let single = matches!(p.factors.as_slice(), [(_, labels)] if labels == out);
        if single {
            parts.push(p.factors[0].0.clone());
        } else if !p.factors.is_empty() {
            let mut specs = Vec::new();
            let mut operands = Vec::new();
            for (text, labels) in &p.factors {
                specs.push(
                    labels
                        .iter()
                        .map(&mut letter)
                        .collect::<Result<String, _>>()?,
                );
                operands.push(text.clone());
            }
            let output: String = out.iter().map(&mut letter).collect::<Result<_, _>>()?;
            let optimize = if self.target == Target::Numpy && operands.len() > 2 {
                ", optimize=True"
            } else {
                ""
            };
            parts.push(format!(
                "{xp}.einsum(\"{}->{output}\", {}{optimize})",
                specs.join(","),
                operands.join(", ")
            ));
        }
        if parts.is_empty() {
            parts.push("1.0".into());
        }
        let product = parts.join(" * ");
        let atomic = parts.len() == 1 && !p.negative;
        Ok(Text {
            text: if p.negative {
                format!(
                    "-{}",
                    if parts.len() == 1 {
                        product
                    } else {
                        format!("({product})")
                    }
                )
            } else {
                product
            },
            atomic,
            leaf: false,
            depth: p.depth + 1,
        })
    }
}

/// A float literal Python reads back exactly.
pub(super) fn python_float(v: f64) -> String {
    if v.is_finite() {
        let s = format!("{v:?}");
        if s.contains(['.', 'e', 'E']) {
            s
        } else {
            format!("{s}.0")
        }
    } else if v.is_nan() {
        "float(\"nan\")".into()
    } else if v > 0.0 {
        "float(\"inf\")".into()
    } else {
        "-float(\"inf\")".into()
    }
}

#[cfg(test)]
mod tests {
    use super::python_float;

    #[test]
    fn floats_read_back() {
        assert_eq!(python_float(2.0), "2.0");
        assert_eq!(python_float(0.5), "0.5");
        assert_eq!(python_float(1e-5), "1e-5");
        assert_eq!(python_float(1e300), "1e300");
    }
}
