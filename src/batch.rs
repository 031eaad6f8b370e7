//! Batch derivation of a corpus file (`matcalc derive --cases FILE.jsonl`):
//! one JSON record per case, in input order.
//!
//! Invariant: a malformed line or a failed derivation gives a record with an
//! error, never a panic; the batch always completes.

use std::time::Instant;

use serde::Serialize;

use crate::derive::{derive, DeriveConfig, Form};
use crate::numeric::Case;
use crate::syntax::to_expr_string;

/// The outcome of deriving one case.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CaseResult {
    /// The case's id (`line N` when the line is not a case).
    pub id: String,
    /// The derivative in the corpus syntax, or `null` when none was found.
    pub result: Option<String>,
    /// `matrix` or `index`, when there is a result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub form: Option<Form>,
    /// Why there is no result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Wall-clock seconds, when timings were asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
}

/// The derivation request a case poses.
pub fn case_config(case: &Case) -> DeriveConfig {
    let mut wrt = case.wrt_names();
    wrt.dedup();
    DeriveConfig {
        decls: case.decls(),
        wrt,
        order: u8::try_from(case.order).unwrap_or(u8::MAX),
    }
}

/// Derives one case.
pub fn derive_case(case: &Case, timings: bool) -> CaseResult {
    let start = Instant::now();
    let outcome = derive(&case.expr, &case_config(case)).and_then(|d| d.writable().map(|()| d));
    let seconds = timings.then(|| start.elapsed().as_secs_f64());
    match outcome {
        Ok(d) => {
            let first = &d.derivatives[0];
            CaseResult {
                id: case.id.clone(),
                result: Some(to_expr_string(first.formula())),
                form: Some(first.form),
                error: None,
                seconds,
            }
        }
        Err(e) => CaseResult {
            id: case.id.clone(),
            result: None,
            form: None,
            error: Some(e.to_string()),
            seconds,
        },
    }
}

/// Derives every case of a `cases.jsonl` text.
pub fn derive_cases(jsonl: &str, timings: bool) -> Vec<CaseResult> {
    jsonl
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(n, line)| match serde_json::from_str::<Case>(line) {
            Ok(case) => derive_case(&case, timings),
            Err(e) => CaseResult {
                id: format!("line {}", n + 1),
                result: None,
                form: None,
                error: Some(format!("not a case: {e}")),
                seconds: None,
            },
        })
        .collect()
}
