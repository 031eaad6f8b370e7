//! Batch derivation of a corpus file (`matcalc derive --cases FILE.jsonl`):
//! one JSON record per case, in input order.
//!
//! Invariant: a malformed line or a failed derivation gives a record with an
//! error, never a panic; the batch always completes. Each case stands
//! alone: should one panic (a bug), that case gets an `internal error`
//! record and the rest of the file is still answered.

use std::panic::{self, AssertUnwindSafe};
use std::time::Instant;

use serde::Serialize;

use crate::derive::{derive, DeriveConfig, Form};
use crate::numeric::Case;
use crate::simplify::Assumptions;
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
        // An unknown domain name is reported by the case's check.
        assumptions: case
            .domains()
            .map(|d| Assumptions::from_domains(&d))
            .unwrap_or_default(),
    }
}

/// Derives one case; a panic inside is caught and reported as the case's
/// error.
pub fn derive_case(case: &Case, timings: bool) -> CaseResult {
    let start = Instant::now();
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        let d = derive(&case.expr, &case_config(case)).and_then(|d| d.writable().map(|()| d));
        d.map(|d| {
            let first = &d.derivatives[0];
            (to_expr_string(first.formula()), first.form)
        })
        .map_err(|e| e.to_string())
    }))
    .unwrap_or_else(|payload| Err(format!("internal error: {}", panic_message(&*payload))));
    let seconds = timings.then(|| start.elapsed().as_secs_f64());
    let (result, form, error) = match outcome {
        Ok((text, form)) => (Some(text), Some(form), None),
        Err(e) => (None, None, Some(e)),
    };
    CaseResult {
        id: case.id.clone(),
        result,
        form,
        error,
        seconds,
    }
}

/// The message a panic was raised with.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "a panic without a message".to_string())
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
