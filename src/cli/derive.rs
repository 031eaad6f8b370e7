//! `matcalc derive EXPR --wrt X`: gradients, Jacobians and Hessians in
//! matrix form (index form where none exists), optionally confirmed
//! numerically; `--cases FILE.jsonl` derives a corpus file.

use std::collections::BTreeMap;
use std::path::PathBuf;

use matcalc::backprop::{backprop, Backprop};
use matcalc::batch::derive_cases;
use matcalc::codegen::{python_module, CodegenConfig, Target};
use matcalc::confirm::{confirm, problem};
use matcalc::derive::{derive, Derivation, DeriveConfig};
use matcalc::numeric::{parse_domains, CheckConfig, CheckReport, Domain};
use matcalc::proof::{
    check, concrete, general, render_json, render_latex, render_markdown, render_text, Lang, Proof,
    ProofError,
};
use matcalc::readback::Listing;
use matcalc::render;
use matcalc::simplify::Assumptions;
use matcalc::syntax::{parse_decls, DeclKind, Decls, Diagnostic, DimSpec};

use super::error::{CliError, ErrorKind};
use super::exit::Exit;
use super::input;
use super::output::{json_text, Format, Report, Warned};
use super::Run;

const EXAMPLES: &str = "\
Examples:
  matcalc derive 'L(X*W + B)' --wrt X            ∂L/∂X = ∂L/∂Y·Wᵀ where Y = X·W + B
  matcalc derive 'L(X*W + B)' --wrt X,W,B        all three gradients, one reverse pass
  matcalc derive \"x'*A*x\" --wrt x --order 2     the Hessian A + Aᵀ
  matcalc derive 'log(det(X))' --wrt X --domain 'X: posdet' --check
  matcalc derive 'softmax(W*x)' --wrt W          a third-order tensor, in index form
  matcalc derive --cases tests/corpus/cases.jsonl --timings

Layout: the gradient of a scalar has the shape of the variable (G[i,j] =
∂f/∂X[i,j]); the Jacobian of an m-vector by an n-vector is m×n; tensors
list f's indices first, then the variable's.";

/// Arguments of `matcalc derive`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct DeriveArgs {
    /// The expression, e.g. 'L(X*W + B)'; it may begin with '-'. A lone '-'
    /// reads it from standard input.
    #[arg(
        value_name = "EXPR",
        allow_hyphen_values = true,
        required_unless_present = "cases"
    )]
    expr: Option<String>,

    /// The variable(s) to differentiate by: one gradient each, or with
    /// --order 2 one name (the Hessian) or two (the mixed derivative).
    #[arg(long, value_delimiter = ',', required_unless_present = "cases")]
    wrt: Vec<String>,

    /// 1 (gradients, Jacobians) or 2 (Hessians).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=2))]
    order: u8,

    /// The variables' domains, e.g. 'T: onehot, S: spd, y: pm1': facts the
    /// simplifier may use (the rows of a onehot T sum to 1, a symmetric S
    /// equals its transpose; the output says which it used), and where
    /// --check and generated code draw their values.
    #[arg(long, value_name = "DOMAINS")]
    domain: Option<String>,

    /// Confirm each result against finite differences; exit 3 if refuted.
    #[arg(long)]
    check: bool,

    /// Derive every case of a corpus file; one JSON line per case.
    #[arg(long, value_name = "FILE.jsonl", conflicts_with_all = ["expr", "wrt"])]
    cases: Option<PathBuf>,

    /// Also write each derivation out step by step: the expression in index
    /// notation, the chain rule with Kronecker deltas, their contraction and
    /// the matrix form recognised.
    #[arg(long, conflicts_with = "cases")]
    proof: bool,

    /// Also write each proof for these concrete sizes, entry by entry, e.g.
    /// 'X: 2x2, W: 2x3' (implies --proof; names left out get the smallest
    /// sizes that fit).
    #[arg(long, value_name = "DECLS", conflicts_with = "cases")]
    concrete: Option<String>,

    /// Write each result as one flat expression (text, expr) instead of
    /// naming its shared intermediates; refused for a result too large to
    /// write out flat.
    #[arg(long, conflicts_with = "cases")]
    flat: bool,

    /// Write the gradients as a backpropagation listing (text): the forward
    /// pass as named assignments, then the reverse pass one line per node
    /// (`∂L/∂Y₁ = …`, `∂L/∂W = Xᵀ·∂L/∂Y₁`), before simplification.
    #[arg(long, conflicts_with_all = ["cases", "order"])]
    backprop: bool,

    /// The language of the proofs: en (English) or ko (Korean, 한국어).
    #[arg(long, value_enum, default_value_t = ProofLang::En)]
    lang: ProofLang,

    /// With --cases: add the seconds each case took.
    #[arg(long)]
    timings: bool,
}

/// The languages of `--lang`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ProofLang {
    /// English.
    En,
    /// Korean (한국어).
    Ko,
}

impl From<ProofLang> for Lang {
    fn from(lang: ProofLang) -> Lang {
        match lang {
            ProofLang::En => Lang::En,
            ProofLang::Ko => Lang::Ko,
        }
    }
}

impl Run for DeriveArgs {
    fn run(&self, decls: &Decls) -> Result<Box<dyn Report>, CliError> {
        let warnings = self.unused_options();
        if let Some(path) = &self.cases {
            return Ok(Warned::wrap(batch(path, self.timings)?, warnings));
        }
        let source = input::expression(self.expr.as_deref().unwrap_or(input::STDIN))?;
        let config = DeriveConfig {
            decls: decls.clone(),
            wrt: self.wrt.clone(),
            order: self.order,
            assumptions: Assumptions::from_domains(&domains(self.domain.as_deref())?),
        };
        let derivation = derive(&source, &config).map_err(|e| CliError::derive(&e, &source))?;
        // The shared forms (text, expr, code) grow with the DAG; the flat
        // ones, and checks and proofs, write every result out as a tree.
        let too_large = derivation
            .writable()
            .err()
            .map(|e| CliError::derive(&e, &source));
        if let Some(err) = too_large
            .as_ref()
            .filter(|_| self.flat || self.check || self.proof || self.concrete.is_some())
        {
            return Err(err.clone());
        }
        let checks = if self.check {
            let domains = domains(self.domain.as_deref())?;
            let reports = confirm(&derivation, &domains, &CheckConfig::default())
                .map_err(|e| CliError::eval(&e, &source))?;
            Some(reports)
        } else {
            None
        };
        let (proofs, failure) = self.proofs(&derivation, &source)?;
        let backprop = if self.backprop {
            let listing = backprop(&derivation).map_err(|e| {
                CliError::new(
                    ErrorKind::Unsupported,
                    Diagnostic::new(e.to_string()),
                    &source,
                )
            })?;
            Some(listing)
        } else {
            None
        };
        let codegen = CodegenConfig {
            domains: domains(self.domain.as_deref())?,
            decls: decls.clone(),
            command: Some(self.command_line(&source)),
            ..CodegenConfig::new(Target::Numpy)
        };
        let derived = Box::new(Derived {
            derivation,
            checks,
            proofs,
            lang: self.lang.into(),
            failure,
            codegen,
            source,
            flat: self.flat,
            too_large,
            backprop,
        });
        Ok(Warned::wrap(derived, warnings))
    }
}

/// Each derivative's proofs, labelled.
type Proofs = Vec<(String, Proof)>;

impl DeriveArgs {
    /// The command, restated in the header of generated code.
    fn command_line(&self, source: &str) -> String {
        let mut line = format!("matcalc derive {source:?} --wrt {}", self.wrt.join(","));
        if self.order != 1 {
            line.push_str(&format!(" --order {}", self.order));
        }
        if let Some(d) = &self.domain {
            line.push_str(&format!(" --domain {d:?}"));
        }
        line
    }

    /// A warning for each option given where it does nothing.
    fn unused_options(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.domain.is_some() && self.cases.is_some() {
            warnings.push(
                "--domain does nothing with --cases (each case has its own domains); it was \
                 ignored"
                    .to_string(),
            );
        }
        if self.check && self.cases.is_some() {
            warnings.push("--check does nothing with --cases; it was ignored".to_string());
        }
        if self.timings && self.cases.is_none() {
            warnings.push("--timings does nothing without --cases; it was ignored".to_string());
        }
        warnings
    }

    /// With --proof or --concrete: each derivative's proofs, labelled by the
    /// variables (and the sizes, for a concrete one). A concrete proof that
    /// goes over a limit ends the list with that error, keeping the rest.
    fn proofs(
        &self,
        derivation: &Derivation,
        source: &str,
    ) -> Result<(Option<Proofs>, Option<CliError>), CliError> {
        if !self.proof && self.concrete.is_none() {
            return Ok((None, None));
        }
        let sizes = self.concrete.as_deref().map(concrete_sizes).transpose()?;
        let failed = |e: ProofError| {
            let kind = match e {
                // A step that does not hold is a bug, never a proof.
                ProofError::Refuted { .. } => ErrorKind::Internal,
                _ => ErrorKind::Unsupported,
            };
            CliError::new(kind, Diagnostic::new(e.to_string()), source)
        };
        let domains = domains(self.domain.as_deref())?;
        let mut proofs = Vec::new();
        for (k, d) in derivation.derivatives.iter().enumerate() {
            let wrt = d.wrt.join(", ");
            let record = derivation
                .record(k)
                .ok_or(ProofError::NoDerivative(k))
                .map_err(failed)?;
            let mut proof = general(&record).map_err(failed)?;
            check(&mut proof, &problem(&derivation.typed, &d.wrt, &domains)).map_err(failed)?;
            proofs.push((wrt.clone(), proof));
            if let (Some(sizes), Some(text)) = (&sizes, &self.concrete) {
                match concrete(&record, sizes) {
                    Ok(proof) => proofs.push((format!("{wrt}; {text}"), proof)),
                    Err(e) if e.is_limit() => {
                        let diagnostic = Diagnostic::new(e.to_string()).with_help(
                            "the symbolic result and its general proof are above; \
                             give smaller sizes with --concrete",
                        );
                        let error = CliError::new(ErrorKind::Limit, diagnostic, text.as_str());
                        return Ok((Some(proofs), Some(error)));
                    }
                    Err(e) => return Err(failed(e)),
                }
            }
        }
        Ok((Some(proofs), None))
    }
}

/// Parses `--concrete 'X: 2x2, W: 2x3'` into layout dims.
fn concrete_sizes(text: &str) -> Result<BTreeMap<String, Vec<usize>>, CliError> {
    let decls = parse_decls(text).map_err(|e| CliError::declaration(&e))?;
    let mut sizes = BTreeMap::new();
    for decl in decls {
        let numbers: Option<Vec<usize>> = match &decl.kind {
            DeclKind::Value(dims) => dims
                .iter()
                .map(|d| match d {
                    DimSpec::Fixed(n) => Some(*n),
                    DimSpec::Named(_) => None,
                })
                .collect(),
            DeclKind::Function => None,
        };
        let dims = numbers.ok_or_else(|| {
            CliError::plain(
                ErrorKind::Usage,
                Diagnostic::new(format!(
                    "--concrete needs numbers, e.g. '{}: 2x3'",
                    decl.name
                )),
            )
        })?;
        sizes.insert(decl.name, dims);
    }
    Ok(sizes)
}

/// Parses `--domain`.
pub fn domains(text: Option<&str>) -> Result<BTreeMap<String, Domain>, CliError> {
    match text {
        None => Ok(BTreeMap::new()),
        Some(t) => parse_domains(t).map_err(|e| CliError::eval(&e, t)),
    }
}

fn batch(path: &std::path::Path, timings: bool) -> Result<Box<dyn Report>, CliError> {
    let text = input::cases_file(path)?;
    let lines = derive_cases(&text, timings)
        .iter()
        .map(|r| serde_json::to_string(r).unwrap_or_default())
        .collect();
    Ok(Box::new(JsonLines(lines)))
}

/// One JSON document per line, in every format.
pub struct JsonLines(pub Vec<String>);

impl Report for JsonLines {
    fn text(&self) -> String {
        self.0.join("\n")
    }
    fn expr(&self) -> String {
        self.text()
    }
    fn latex(&self) -> String {
        self.text()
    }
    fn markdown(&self) -> String {
        self.text()
    }
    fn json(&self) -> String {
        json_text(&self.json_value())
    }
}

/// A derivation and, with --check, its numeric verdicts; with --proof, one
/// proof per derivative; the limit a concrete proof went over, if one did.
struct Derived {
    derivation: Derivation,
    checks: Option<Vec<CheckReport>>,
    proofs: Option<Vec<(String, Proof)>>,
    /// The language of the proofs.
    lang: Lang,
    /// Domains, declarations and command line for `--format numpy|jax`.
    codegen: CodegenConfig,
    source: String,
    failure: Option<CliError>,
    /// `--flat`: results as single expressions.
    flat: bool,
    /// Why the results cannot be written out flat, when they cannot.
    too_large: Option<CliError>,
    /// `--backprop`: the listing that replaces the results in text.
    backprop: Option<Backprop>,
}

impl Derived {
    /// Each proof under a heading, rendered by `render`.
    fn proofs(
        &self,
        heading: &dyn Fn(&str) -> String,
        render: &dyn Fn(&Proof, Lang) -> String,
    ) -> String {
        let Some(proofs) = &self.proofs else {
            return String::new();
        };
        let mut out = String::new();
        for (label, p) in proofs {
            out.push_str(&format!("\n\n{}\n{}", heading(label), render(p, self.lang)));
        }
        out.trim_end().to_string()
    }

    fn verdicts(&self) -> String {
        let Some(reports) = &self.checks else {
            return String::new();
        };
        let mut out = String::new();
        for (d, r) in self.derivation.derivatives.iter().zip(reports) {
            let what = d.wrt.join(", ");
            if r.ok() {
                out.push_str(&format!(
                    "\n  check ({what}): confirmed by {}, max relative error {:.1e} over {} samples",
                    r.method.describe(),
                    r.max_rel_err,
                    r.samples.len()
                ));
            } else {
                out.push_str(&format!(
                    "\n  check ({what}): REFUTED, max relative error {:.1e}{}",
                    r.max_rel_err,
                    r.note().map(|n| format!(" ({n})")).unwrap_or_default()
                ));
            }
        }
        out
    }
}

impl Report for Derived {
    fn text(&self) -> String {
        if let Some(listing) = &self.backprop {
            return listing.text() + &self.verdicts();
        }
        render::derivation_text(&self.derivation, self.flat)
            + &self.verdicts()
            + &self.proofs(&|w| format!("Proof ({w}):"), &render_text)
    }
    fn expr(&self) -> String {
        let results = if self.flat {
            render::derivation_expr(&self.derivation)
        } else {
            let d = &self.derivation;
            let taken: Vec<String> = d.typed.vars.keys().cloned().collect();
            let all: Vec<usize> = (0..d.derivatives.len()).collect();
            Listing::of(d, &all, &taken, &|k| format!("E{}", k + 1)).to_expr_string()
        };
        results + &self.proofs(&|w| format!("# proof ({w})"), &render_text)
    }
    fn latex(&self) -> String {
        render::derivation_latex(&self.derivation)
            + &self.proofs(&|w| format!("% proof ({w})"), &render_latex)
    }
    fn markdown(&self) -> String {
        render::derivation_markdown(&self.derivation)
            + &self.verdicts()
            + &self.proofs(&|w| format!("### Proof ({w})"), &render_markdown)
    }
    fn json(&self) -> String {
        json_text(&self.json_value())
    }
    fn code(&self, target: Target) -> Result<String, CliError> {
        let config = CodegenConfig {
            target,
            ..self.codegen.clone()
        };
        python_module(&self.derivation, &config).map_err(|e| {
            CliError::new(ErrorKind::Unsupported, e.diagnostic(), self.source.as_str())
        })
    }

    fn refused(&self, format: Format) -> Option<CliError> {
        if self.backprop.is_some() && format != Format::Text {
            return Some(CliError::plain(
                ErrorKind::Usage,
                Diagnostic::new("--backprop is written in --format text only"),
            ));
        }
        let flat_only = matches!(format, Format::Latex | Format::Markdown | Format::Json);
        self.too_large.clone().filter(|_| flat_only)
    }

    fn exit(&self) -> Exit {
        match (&self.failure, &self.checks) {
            (Some(err), _) => err.exit(),
            (None, Some(reports)) if !reports.iter().all(CheckReport::ok) => Exit::Refuted,
            _ => Exit::Ok,
        }
    }

    fn error(&self) -> Option<&CliError> {
        self.failure.as_ref()
    }
}

impl JsonLines {
    fn json_value(&self) -> serde_json::Value {
        serde_json::Value::Array(
            self.0
                .iter()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect(),
        )
    }
}

impl Derived {
    fn json_value(&self) -> serde_json::Value {
        let mut doc = render::derivation_json(&self.derivation);
        if let Some(reports) = &self.checks {
            doc["checks"] = serde_json::to_value(reports).unwrap_or_default();
        }
        if let Some(proofs) = &self.proofs {
            doc["proofs"] = proofs
                .iter()
                .map(|(label, p)| serde_json::json!({"of": label, "steps": render_json(p, self.lang)}))
                .collect();
        }
        doc
    }
}
