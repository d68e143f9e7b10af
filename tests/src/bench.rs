//! The benchmark's bookkeeping: what counts as a real answer, and the verdict over the
//! sections of one run. `probono-bench` exits non-zero unless the verdict passes, so a run
//! that measured errors, or measured nothing, cannot pass for a working instrument.

pub mod dashboard;

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fmt::Display;

/// Answers that were not real answers, counted by kind (the GraphQL error's
/// `extensions.code`, `HTTP 503`, `not JSON`, `unexpected data`, …), with the first one
/// kept to show why.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Errors {
    pub by_kind: BTreeMap<String, u64>,
    pub first: Option<String>,
}

impl Errors {
    pub fn add(&mut self, kind: impl Into<String>, detail: impl Display) {
        let kind = kind.into();
        if self.first.is_none() {
            self.first = Some(format!("{kind}: {}", clip(&detail.to_string(), 300)));
        }
        *self.by_kind.entry(kind).or_default() += 1;
    }

    pub fn total(&self) -> u64 {
        self.by_kind.values().sum()
    }

    /// Adds `other`'s counts, each kind prefixed (e.g. `baseline`), or as they are for "".
    pub fn merge(&mut self, prefix: &str, other: Errors) {
        let name = |k: &str| if prefix.is_empty() { k.to_string() } else { format!("{prefix} {k}") };
        if self.first.is_none() {
            self.first = other.first.map(|f| name(&f));
        }
        for (k, n) in other.by_kind {
            *self.by_kind.entry(name(&k)).or_default() += n;
        }
    }

    /// "3 RATE_LIMITED, 1 HTTP 500"
    pub fn summary(&self) -> String {
        self.by_kind.iter().map(|(k, n)| format!("{n} {k}")).collect::<Vec<_>>().join(", ")
    }
}

/// At most `max` characters of `s`, marked when cut.
pub fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// The `data` of one GraphQL answer, or the kind of failure and why. A real answer is an
/// HTTP 200 with a JSON body that has an object `data` and no `errors`.
pub fn graphql_data(status: u16, body: &[u8]) -> Result<Value, (String, String)> {
    let Ok(mut v) = serde_json::from_slice::<Value>(body) else {
        return Err((format!("HTTP {status}, not JSON"), clip(&String::from_utf8_lossy(body), 200)));
    };
    let errors = v.get("errors").filter(|e| match e {
        Value::Null => false,
        Value::Array(a) => !a.is_empty(),
        _ => true,
    });
    if let Some(errors) = errors {
        let first = &errors[0];
        let code = first["extensions"]["code"].as_str().unwrap_or("error without a code");
        let kind = if status == 200 { code.to_string() } else { format!("HTTP {status} {code}") };
        return Err((kind, first["message"].as_str().map(str::to_string).unwrap_or_else(|| first.to_string())));
    }
    if status != 200 {
        return Err((format!("HTTP {status}"), clip(&v.to_string(), 200)));
    }
    match v.get_mut("data").map(Value::take) {
        Some(d) if d.is_object() => Ok(d),
        _ => Err(("no data".into(), clip(&v.to_string(), 200))),
    }
}

/// What one section of the benchmark measured, for one backend.
#[derive(Debug, Clone)]
pub struct Section {
    /// "commands (postgres)", "startup (sqlite)", …
    pub name: String,
    /// Real, checked answers of the system under test.
    pub answers: u64,
    /// What `answers` counts, for the message when there are none.
    pub answers_are: &'static str,
    /// Failures of the system and of its baseline (kinds prefixed `baseline`).
    pub errors: Errors,
    /// Operations the same-run baseline completed; `None` when the section has no baseline.
    pub baseline_ops: Option<u64>,
    /// Every ratio and figure the section reports; each must be finite and positive.
    pub figures: Vec<(&'static str, f64)>,
    /// The section could not measure at all, and why.
    pub failure: Option<String>,
}

impl Section {
    pub fn new(name: impl Into<String>, answers_are: &'static str) -> Section {
        Section {
            name: name.into(),
            answers: 0,
            answers_are,
            errors: Errors::default(),
            baseline_ops: None,
            figures: vec![],
            failure: None,
        }
    }

    pub fn failed(name: impl Into<String>, answers_are: &'static str, why: impl Into<String>) -> Section {
        Section { failure: Some(why.into()), ..Section::new(name, answers_are) }
    }

    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "answers": self.answers,
            "answers_are": self.answers_are,
            "errors": self.errors.total(),
            "errors_by_kind": self.errors.by_kind,
            "first_error": self.errors.first,
            "baseline_ops": self.baseline_ops,
            "figures": self.figures.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "failure": self.failure,
        })
    }
}

/// The section names a run is expected to produce: `section (backend)`.
pub fn section_name(section: &str, backend: &str) -> String {
    format!("{section} ({backend})")
}

/// Why the run does not count; empty when every expected section measured real,
/// error-free answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub failures: Vec<String>,
}

impl Verdict {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Passes only when every section in `expected` is present and each section has no
/// failure, no errors, at least one real answer, a baseline that did work (where it has
/// one), and only finite, positive figures.
pub fn verdict(expected: &[String], sections: &[Section]) -> Verdict {
    let mut failures = vec![];
    if expected.is_empty() {
        failures.push("no section was selected to run".to_string());
    }
    for name in expected {
        if !sections.iter().any(|s| &s.name == name) {
            failures.push(format!("{name}: not measured"));
        }
    }
    for s in sections {
        if let Some(why) = &s.failure {
            failures.push(format!("{}: {why}", s.name));
            continue;
        }
        let n = s.errors.total();
        if n > 0 {
            let first = s.errors.first.as_deref().unwrap_or("");
            failures.push(format!("{}: {n} errors ({}); first: {first}", s.name, s.errors.summary()));
        }
        if s.answers == 0 {
            failures.push(format!("{}: no {} (0)", s.name, s.answers_are));
        }
        if s.baseline_ops == Some(0) {
            failures.push(format!("{}: the baseline completed no operations", s.name));
        }
        if s.figures.is_empty() {
            failures.push(format!("{}: reported no figure", s.name));
        }
        for (k, v) in &s.figures {
            if !(v.is_finite() && *v > 0.0) {
                failures.push(format!("{}: {k} = {v} (must be finite and positive)", s.name));
            }
        }
    }
    Verdict { failures }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good(name: &str) -> Section {
        Section {
            answers: 1200,
            baseline_ops: Some(3000),
            figures: vec![("ratio", 0.4), ("p99_ms", 12.5)],
            ..Section::new(name, "acknowledged commands")
        }
    }

    fn expected() -> Vec<String> {
        vec!["commands (sqlite)".into(), "startup (sqlite)".into()]
    }

    fn startup() -> Section {
        Section { answers: 3, figures: vec![("startup_ms", 16.0)], ..Section::new("startup (sqlite)", "start-ups") }
    }

    fn fails_with(sections: &[Section], needle: &str) {
        let v = verdict(&expected(), sections);
        assert!(!v.passed(), "must fail ({needle})");
        assert!(v.failures.iter().any(|f| f.contains(needle)), "{needle:?} not in {:?}", v.failures);
    }

    #[test]
    fn all_good_passes() {
        let v = verdict(&expected(), &[good("commands (sqlite)"), startup()]);
        assert!(v.passed(), "{:?}", v.failures);
    }

    #[test]
    fn errors_fail_and_are_named_by_code() {
        let mut s = good("commands (sqlite)");
        s.errors.add("CONFLICT", "version mismatch");
        s.errors.add("CONFLICT", "version mismatch");
        s.errors.add("HTTP 500", "boom");
        fails_with(&[s, startup()], "3 errors (2 CONFLICT, 1 HTTP 500); first: CONFLICT: version mismatch");
    }

    #[test]
    fn baseline_errors_fail_too() {
        let mut s = good("commands (sqlite)");
        let mut b = Errors::default();
        b.add("database is locked", "SQLITE_BUSY");
        s.errors.merge("baseline", b);
        fails_with(&[s, startup()], "1 baseline database is locked");
    }

    #[test]
    fn no_answers_fail() {
        let s = Section { answers: 0, ..good("commands (sqlite)") };
        fails_with(&[s, startup()], "no acknowledged commands");
    }

    #[test]
    fn an_idle_baseline_fails() {
        let s = Section { baseline_ops: Some(0), ..good("commands (sqlite)") };
        fails_with(&[s, startup()], "baseline completed no operations");
    }

    #[test]
    fn non_finite_or_non_positive_figures_fail() {
        for bad in [f64::NAN, f64::INFINITY, 0.0, -1.0] {
            let s = Section { figures: vec![("ratio", bad)], ..good("commands (sqlite)") };
            fails_with(&[s, startup()], "ratio = ");
        }
        let s = Section { figures: vec![], ..good("commands (sqlite)") };
        fails_with(&[s, startup()], "reported no figure");
    }

    #[test]
    fn a_missing_or_failed_startup_fails() {
        fails_with(&[good("commands (sqlite)")], "startup (sqlite): not measured");
        let failed = Section::failed("startup (sqlite)", "start-ups", "the probono binary was not found at /x");
        fails_with(&[good("commands (sqlite)"), failed], "startup (sqlite): the probono binary was not found at /x");
    }

    #[test]
    fn nothing_selected_fails() {
        assert!(!verdict(&[], &[]).passed());
    }

    #[test]
    fn only_real_graphql_answers_are_data() {
        assert_eq!(graphql_data(200, br#"{"data":{"hello":"world"}}"#), Ok(json!({"hello": "world"})));
        let err = |status, body: &[u8]| graphql_data(status, body).unwrap_err().0;
        assert_eq!(
            err(200, br#"{"data":null,"errors":[{"message":"no","extensions":{"code":"FORBIDDEN"}}]}"#),
            "FORBIDDEN"
        );
        assert_eq!(
            err(429, br#"{"data":null,"errors":[{"message":"slow","extensions":{"code":"FORBIDDEN"}}]}"#),
            "HTTP 429 FORBIDDEN"
        );
        assert_eq!(err(200, br#"{"data":{"x":1},"errors":[{"message":"partial"}]}"#), "error without a code");
        assert_eq!(err(502, b"<html>bad gateway</html>"), "HTTP 502, not JSON");
        assert_eq!(err(503, br#"{"data":{"x":1}}"#), "HTTP 503");
        assert_eq!(err(200, br#"{"data":null}"#), "no data");
        assert_eq!(err(200, br#"{}"#), "no data");
    }
}
