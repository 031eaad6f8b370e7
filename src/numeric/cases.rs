//! Corpus cases (`cases.jsonl`): reading them and checking their `expected`
//! and `expected_index` against finite differences of `expr`.
//!
//! Invariant: a malformed line or case gives a verdict with an error, never
//! a panic; verdicts come out in input order, one per non-blank line.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::check::{check, CheckConfig, CheckReport, Problem};
use super::domain::Domain;
use super::error::EvalError;
use crate::syntax::{parse_expr, parse_formula, Decl, Decls, DimSpec, Formula};

/// `wrt` of a case: one name, or a list of names.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Wrt {
    /// A first derivative.
    One(String),
    /// Derivatives by each name in turn.
    Many(Vec<String>),
}

/// One corpus case (the fields a check needs; others are ignored).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct Case {
    /// Unique id.
    pub id: String,
    /// The expression to differentiate.
    pub expr: String,
    /// Every variable's dims: `[]`, `[n]` or `[n,m]`.
    pub vars: BTreeMap<String, Vec<usize>>,
    /// The variable(s) to differentiate by.
    pub wrt: Wrt,
    /// 1 or 2, matching `wrt`.
    pub order: usize,
    /// The derivative (matrix form, or index form above order 2).
    pub expected: String,
    /// The derivative in index notation, when given.
    #[serde(default)]
    pub expected_index: Option<String>,
    /// Sampling domains by variable name.
    #[serde(default)]
    pub domain: BTreeMap<String, String>,
    /// The square matrices declared symmetric (`--let 'S: n x n
    /// symmetric'`): a derivative by one is `sym(G)`.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub symmetric: BTreeSet<String>,
}

/// The verdict on one case: `{id, ok, max_rel_err, note}`, or
/// `{id, ok: false, error}` when it could not be checked.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CaseVerdict {
    /// The case's id (or `line N` when the line is not a case).
    pub id: String,
    /// True when `expected` and `expected_index` both agree.
    pub ok: bool,
    /// The largest relative error over both claims and all samples.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_rel_err: Option<f64>,
    /// What went wrong, when a claim disagrees.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Why the case could not be checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Case {
    /// The names to differentiate by, in order.
    pub fn wrt_names(&self) -> Vec<String> {
        match &self.wrt {
            Wrt::One(name) => vec![name.clone()],
            Wrt::Many(names) => names.clone(),
        }
    }

    /// Declarations of every variable with its concrete dims.
    pub fn decls(&self) -> Decls {
        let mut decls = Decls::new();
        for (name, dims) in &self.vars {
            decls.insert(Decl {
                symmetric: self.symmetric.contains(name),
                ..Decl::value(name, dims.iter().map(|&n| DimSpec::Fixed(n)).collect())
            });
        }
        decls
    }

    /// The case's domains, by variable name.
    pub fn domains(&self) -> Result<BTreeMap<String, Domain>, EvalError> {
        self.domain
            .iter()
            .map(|(var, name)| {
                Domain::from_name(name)
                    .map(|d| (var.clone(), d))
                    .ok_or_else(|| EvalError::BadProblem {
                        message: format!("unknown domain `{name}` for `{var}`"),
                    })
            })
            .collect()
    }

    /// The problem the case poses.
    pub fn problem(&self) -> Result<Problem, EvalError> {
        let wrt = self.wrt_names();
        if wrt.len() != self.order {
            return Err(EvalError::BadProblem {
                message: format!("order {} but {} variable(s) in wrt", self.order, wrt.len()),
            });
        }
        Ok(Problem {
            expr: parse_expr(&self.expr, &self.decls())?,
            vars: self.vars.clone(),
            wrt,
            domains: self.domains()?,
            sizes: BTreeMap::new(),
            symmetric: BTreeSet::new(),
        }
        .declaring_symmetric(&self.symmetric))
    }

    /// The claims to verify: `expected`, then `expected_index` when given
    /// and different.
    pub fn claims(&self) -> Result<Vec<Formula>, EvalError> {
        let decls = self.decls();
        let mut texts = vec![&self.expected];
        if let Some(index) = self
            .expected_index
            .as_ref()
            .filter(|i| *i != &self.expected)
        {
            texts.push(index);
        }
        texts
            .into_iter()
            .map(|t| parse_formula(t, &decls).map_err(EvalError::from))
            .collect()
    }

    /// Checks every claim of the case under `config`.
    pub fn check(&self, config: &CheckConfig) -> Result<Vec<CheckReport>, EvalError> {
        let problem = self.problem()?;
        self.claims()?
            .iter()
            .map(|claim| check(&problem, claim, config))
            .collect()
    }

    /// The case's verdict under `config`.
    pub fn verdict(&self, config: &CheckConfig) -> CaseVerdict {
        match self.check(config) {
            Ok(reports) => CaseVerdict {
                id: self.id.clone(),
                ok: reports.iter().all(CheckReport::ok),
                max_rel_err: Some(reports.iter().fold(0.0f64, |m, r| m.max(r.max_rel_err))),
                note: reports.iter().find_map(CheckReport::note),
                error: None,
            },
            Err(err) => CaseVerdict {
                id: self.id.clone(),
                ok: false,
                max_rel_err: None,
                note: None,
                error: Some(err.to_string()),
            },
        }
    }
}

/// Checks every case of a `cases.jsonl` text with the default config
/// (seeds 1–3, tolerance 1e-6, both loss instantiations).
pub fn check_cases(jsonl: &str) -> Vec<CaseVerdict> {
    let config = CheckConfig::default();
    jsonl
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(number, line)| match serde_json::from_str::<Case>(line) {
            Ok(case) => case.verdict(&config),
            Err(err) => CaseVerdict {
                id: format!("line {}", number + 1),
                ok: false,
                max_rel_err: None,
                note: None,
                error: Some(format!("not a case: {err}")),
            },
        })
        .collect()
}
