//! Importing historic cases from a CSV file (`probono import cases`, docs/import.md).
//!
//! Every row becomes the same sequence of use cases a case entered by hand goes through —
//! `open_intake`, `assign_lawyer`, `accept_assignment`, `file_police_report`,
//! `record_offense_registration` or `record_registration_refused`, `reclassify_offense`,
//! `record_investigation_outcome`, `record_verdict`, `close_case` — each with the row's own
//! dates, so the events, the hash chain, the sealed identity and the statistics are exactly
//! those of a hand-entered case.
//!
//! The whole file is checked first, every row and column, without writing anything: each
//! row's commands are decided against an in-memory case (`Case::decide`, the same rules the
//! store applies), and the organisations, lawyers and offence codes it names are looked up.
//! A file with any problem imports nothing. `--dry-run` stops after the check.
//!
//! A row's case id is derived from its organisation and `externalRef`, and its report id
//! from the case id, so a second run of the same file finds what the first made and does
//! only the steps still missing (an interrupted run resumes; a finished one creates
//! nothing).

use super::cases::{
    ClientInput, IdentityInput, InvestigationOutcomeInput, OpenIntakeInput, PoliceReportInput, ReclassificationInput,
    RefusalInput, RegistrationInput, VerdictInput,
};
use super::{App, Caller};
use crate::access::{Op, Principal};
use crate::error::ApiError;
use chrono::NaiveDate;
use cqrs_es::Aggregate;
use domain::case::{self as dc, Case, CaseCommand};
use domain::offense::OffenseRef;
use domain::organization::Organization;
use domain::values::{self as v, CountryCode, Role, Text};
use projections::model::CaseView;
use sha2::{Digest, Sha256};
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::str::FromStr;
use uuid::Uuid;

/// The columns of the file, in the order of docs/import.md. `true`: required.
pub const COLUMNS: &[(&str, bool)] = &[
    ("externalRef", true),
    ("organizationId", true),
    ("identifiedOn", true),
    ("referralSource", true),
    ("exploitationTypes", true),
    ("countryOfExploitation", false),
    ("gender", true),
    ("ageAtIdentification", false),
    ("citizenship", false),
    ("region", false),
    ("fullName", true),
    ("dateOfBirth", false),
    ("contact", false),
    ("documentNumber", false),
    ("legalAid", true),
    ("reportToPolice", true),
    ("dataSharing", true),
    ("guardianGivenBy", false),
    ("guardianGivenOn", false),
    ("lawyerId", false),
    ("assignedOn", false),
    ("acceptedOn", false),
    ("filedOn", false),
    ("policeUnit", false),
    ("referenceNumber", false),
    ("offenseCode", false),
    ("registeredOn", false),
    ("registryNumber", false),
    ("refusedOn", false),
    ("refusalReason", false),
    ("reclassifiedTo", false),
    ("reclassifiedOn", false),
    ("reclassifiedBy", false),
    ("reclassificationReason", false),
    ("investigationOutcome", false),
    ("investigationDecidedOn", false),
    ("verdict", false),
    ("verdictOn", false),
    ("verdictOffenseCode", false),
    ("sentenceMonths", false),
    ("closedOn", false),
    ("closeReason", false),
];

/// Columns whose values are the client's identity: never echoed in a problem.
const IDENTITY_COLUMNS: &[&str] = &["fullName", "dateOfBirth", "contact", "documentNumber"];

/// The most rows one file may hold (a larger register is split into several files).
pub const MAX_ROWS: usize = 10_000;

/// One thing to fix in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The spreadsheet row: the header is row 1, the first case row 2.
    pub row: usize,
    /// The column's header, or `None` for the row as a whole.
    pub column: Option<String>,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.column {
            Some(c) => write!(f, "row {}, column {}: {}", self.row, c, self.message),
            None => write!(f, "row {}: {}", self.row, self.message),
        }
    }
}

/// What an import (or its dry run) found and did.
#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    pub dry_run: bool,
    /// Case rows in the file.
    pub rows: usize,
    /// Rows whose case did not exist before (in a dry run: would not).
    pub created: usize,
    /// Rows whose case existed and needed nothing more.
    pub unchanged: usize,
    /// Rows whose case existed but missed steps, which were added (a resumed run).
    pub completed: usize,
    /// Use cases run, each one command (0 in a dry run; an intake writes two events).
    pub steps_run: usize,
    /// Every problem found; when there is any, nothing was imported.
    pub problems: Vec<Problem>,
}

impl ImportReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// One step of a row, with the column a refusal of it points at.
#[derive(Debug, Clone)]
enum Step {
    Assign { lawyer_id: Uuid, on: NaiveDate },
    Accept { on: NaiveDate },
    Report(PoliceReportInput),
    Register(RegistrationInput),
    Refuse(RefusalInput),
    Reclassify(ReclassificationInput),
    Outcome(InvestigationOutcomeInput),
    Verdict(VerdictInput),
    Close { reason: String, on: NaiveDate },
}

impl Step {
    /// The column a refusal of this step is about.
    fn column(&self) -> &'static str {
        match self {
            Step::Assign { .. } => "assignedOn",
            Step::Accept { .. } => "acceptedOn",
            Step::Report(_) => "filedOn",
            Step::Register(_) => "registeredOn",
            Step::Refuse(_) => "refusedOn",
            Step::Reclassify(_) => "reclassifiedOn",
            Step::Outcome(_) => "investigationDecidedOn",
            Step::Verdict(_) => "verdictOn",
            Step::Close { .. } => "closedOn",
        }
    }

    /// Whether the case already shows this step (a re-run skips it).
    fn done(&self, view: &CaseView) -> bool {
        let report = |id: Uuid| view.reports.iter().find(|r| r.id == id);
        match self {
            Step::Assign { lawyer_id, .. } => view.assignment.as_ref().is_some_and(|a| a.lawyer_id == *lawyer_id),
            Step::Accept { .. } => view.assignment.as_ref().is_some_and(|a| a.accepted_on.is_some()),
            Step::Report(r) => r.report_id.and_then(report).is_some(),
            Step::Register(r) => report(r.report_id).is_some_and(|r| r.registration.is_some()),
            Step::Refuse(r) => report(r.report_id).is_some_and(|r| r.refused.is_some()),
            Step::Reclassify(r) => report(r.report_id).is_some_and(|r| !r.reclassifications.is_empty()),
            Step::Outcome(r) => report(r.report_id).is_some_and(|r| !r.outcomes.is_empty()),
            Step::Verdict(r) => report(r.report_id).is_some_and(|r| r.verdict.is_some()),
            Step::Close { .. } => view.closed.is_some(),
        }
    }
}

/// A row, parsed.
#[derive(Debug, Clone)]
struct Row {
    row: usize,
    external_ref: String,
    case_id: Uuid,
    intake: OpenIntakeInput,
    lawyer_id: Option<Uuid>,
    steps: Vec<Step>,
    /// The offence codes the row names, with their columns.
    codes: Vec<(&'static str, String)>,
}

/// The case id of a row: the same organisation and reference give the same id, on every
/// run and every installation. (A UUID of version 8 from SHA-256.)
pub fn case_id_for(organization_id: Uuid, external_ref: &str) -> Uuid {
    derived_id(&format!("probono import case\0{organization_id}\0{external_ref}"))
}

fn report_id_for(case_id: Uuid) -> Uuid {
    derived_id(&format!("probono import report\0{case_id}\0{}", 1))
}

fn derived_id(key: &str) -> Uuid {
    let digest = Sha256::digest(key.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// The values of one record by column, and the problems found so far.
struct Cells<'a> {
    row: usize,
    values: HashMap<&'a str, &'a str>,
    problems: Vec<Problem>,
}

impl<'a> Cells<'a> {
    fn problem(&mut self, column: &str, message: impl Into<String>) {
        self.problems.push(Problem { row: self.row, column: Some(column.into()), message: message.into() });
    }

    fn get(&self, column: &str) -> Option<&'a str> {
        self.values.get(column).copied().map(str::trim).filter(|s| !s.is_empty())
    }

    fn required(&mut self, column: &str) -> Option<&'a str> {
        let v = self.get(column);
        if v.is_none() {
            self.problem(column, "is required; give a value");
        }
        v
    }

    fn echo(column: &str, raw: &str) -> String {
        if IDENTITY_COLUMNS.contains(&column) {
            String::new()
        } else {
            let shown: String = raw.chars().take(40).collect();
            format!(" (found {shown:?})")
        }
    }

    fn date(&mut self, column: &str, raw: Option<&str>) -> Option<NaiveDate> {
        let raw = raw?;
        match NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                let e = Self::echo(column, raw);
                self.problem(column, format!("must be a date as YYYY-MM-DD, e.g. 2019-03-14{e}"));
                None
            }
        }
    }

    fn opt_date(&mut self, column: &str) -> Option<NaiveDate> {
        let raw = self.get(column);
        self.date(column, raw)
    }

    fn uuid(&mut self, column: &str, raw: Option<&str>) -> Option<Uuid> {
        let raw = raw?;
        match Uuid::parse_str(raw) {
            Ok(u) => Some(u),
            Err(_) => {
                let e = Self::echo(column, raw);
                self.problem(column, format!("must be an id (a UUID such as 0f8c…), as the API shows it{e}"));
                None
            }
        }
    }

    fn label<T: FromStr>(&mut self, column: &str, raw: Option<&str>, all: &[&str]) -> Option<T> {
        let raw = raw?;
        match raw.to_ascii_uppercase().parse::<T>() {
            Ok(t) => Some(t),
            Err(_) => {
                let e = Self::echo(column, raw);
                self.problem(column, format!("must be one of {}{e}", all.join(", ")));
                None
            }
        }
    }

    fn boolean(&mut self, column: &str) -> Option<bool> {
        let raw = self.required(column)?;
        match raw.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Some(true),
            "false" | "no" | "0" => Some(false),
            _ => {
                let e = Self::echo(column, raw);
                self.problem(column, format!("must be true or false{e}"));
                None
            }
        }
    }

    fn number(&mut self, column: &str) -> Option<i64> {
        let raw = self.get(column)?;
        match raw.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                let e = Self::echo(column, raw);
                self.problem(column, format!("must be a whole number{e}"));
                None
            }
        }
    }

    /// A text column checked as the API checks it (`field` names it in the message).
    fn text(&mut self, column: &'static str, raw: Option<&str>) -> Option<String> {
        let raw = raw?;
        match Text::parse(column, raw) {
            Ok(t) => Some(t.to_string()),
            Err(e) => {
                self.problem(column, e.to_string());
                None
            }
        }
    }

    fn country(&mut self, column: &'static str) -> Option<String> {
        let raw = self.get(column)?;
        match CountryCode::parse(column, raw) {
            Ok(c) => Some(c.as_str().to_string()),
            Err(e) => {
                self.problem(column, e.to_string());
                None
            }
        }
    }

    /// Columns that only make sense with another: each given one without `needs` is a
    /// problem.
    fn needs(&mut self, columns: &[&str], needs: &str, why: &str) {
        if self.get(needs).is_none() {
            for c in columns {
                if self.get(c).is_some() {
                    self.problem(c, format!("needs {needs} ({why})"));
                }
            }
        }
    }

    /// Columns that go together: if any is given, each of `all` must be.
    fn together(&mut self, all: &[&str], what: &str) {
        if all.iter().any(|c| self.get(c).is_some()) {
            for c in all {
                if self.get(c).is_none() {
                    self.problem(c, format!("is required when the row records {what}"));
                }
            }
        }
    }
}

fn labels<T: Copy>(all: &[T], f: impl Fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|t| f(*t)).collect()
}

/// Parses one record; every problem of the row is collected, none stops the others.
fn parse_row(row: usize, headers: &[String], record: &csv::StringRecord) -> Result<Row, Vec<Problem>> {
    let values: HashMap<&str, &str> = headers.iter().map(String::as_str).zip(record.iter()).collect();
    let mut c = Cells { row, values, problems: vec![] };

    let external_ref = c.required("externalRef").and_then(|r| {
        let r = c.text("externalRef", Some(r))?;
        if r.chars().count() > 100 {
            c.problem("externalRef", "must be at most 100 characters");
            return None;
        }
        Some(r)
    });
    let organization_id = {
        let raw = c.required("organizationId");
        c.uuid("organizationId", raw)
    };
    let identified_on = {
        let raw = c.required("identifiedOn");
        c.date("identifiedOn", raw)
    };
    let referral_source = {
        let raw = c.required("referralSource");
        c.label::<v::ReferralSource>("referralSource", raw, &labels(v::ReferralSource::ALL, |t| t.as_str()))
    };
    let exploitation_types = c.required("exploitationTypes").map(|raw| {
        let all = labels(v::ExploitationType::ALL, |t| t.as_str());
        let mut types = vec![];
        for part in raw.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            if let Some(t) = c.label::<v::ExploitationType>("exploitationTypes", Some(part), &all) {
                if !types.contains(&t) {
                    types.push(t);
                }
            }
        }
        types
    });
    let country_of_exploitation = c.country("countryOfExploitation");
    let gender = {
        let raw = c.required("gender");
        c.label::<v::Gender>("gender", raw, &labels(v::Gender::ALL, |t| t.as_str()))
    };
    let age = c.number("ageAtIdentification");
    if let Some(a) = age {
        if let Err(e) = v::parse_age(a) {
            c.problem("ageAtIdentification", e.to_string());
        }
    }
    let citizenship = c.country("citizenship");
    let region = {
        let raw = c.get("region");
        c.label::<v::Region>("region", raw, &labels(v::Region::ALL, |t| t.as_str()))
    };
    let full_name = c.required("fullName").and_then(|raw| match Text::parse_with_max("fullName", raw, 200) {
        Ok(t) => Some(t.to_string()),
        Err(e) => {
            c.problem("fullName", e.to_string());
            None
        }
    });
    let date_of_birth = c.opt_date("dateOfBirth");
    let contact = {
        let raw = c.get("contact");
        c.text("contact", raw)
    };
    let document_number = {
        let raw = c.get("documentNumber");
        c.text("documentNumber", raw)
    };
    let legal_aid = c.boolean("legalAid");
    let report_to_police = c.boolean("reportToPolice");
    let data_sharing = c.boolean("dataSharing");
    // A minor's consent on their behalf: who (never a name) and when (the intake's day
    // when not given).
    c.needs(&["guardianGivenOn"], "guardianGivenBy", "it is the day of that person's consent");
    let guardian_by = {
        let raw = c.get("guardianGivenBy");
        c.label::<v::GuardianKind>("guardianGivenBy", raw, &labels(v::GuardianKind::ALL, |t| t.as_str()))
    };
    let guardian_on = c.opt_date("guardianGivenOn");

    // The lawyer and what the lawyer did.
    c.needs(&["assignedOn", "acceptedOn", "filedOn"], "lawyerId", "only a case's accepted lawyer files reports");
    let lawyer_id = {
        let raw = c.get("lawyerId");
        c.uuid("lawyerId", raw)
    };
    if lawyer_id.is_some() && c.get("assignedOn").is_none() {
        c.problem("assignedOn", "is required with lawyerId: the day the lawyer was assigned");
    }
    let assigned_on = c.opt_date("assignedOn");
    let accepted_on = c.opt_date("acceptedOn");
    c.needs(&["filedOn"], "acceptedOn", "only a lawyer who accepted the case files reports");

    // The report and what became of it.
    let report_columns = [
        "policeUnit",
        "referenceNumber",
        "offenseCode",
        "registeredOn",
        "registryNumber",
        "refusedOn",
        "refusalReason",
        "reclassifiedTo",
        "reclassifiedOn",
        "reclassifiedBy",
        "reclassificationReason",
        "investigationOutcome",
        "investigationDecidedOn",
        "verdict",
        "verdictOn",
        "verdictOffenseCode",
        "sentenceMonths",
    ];
    c.needs(&report_columns, "filedOn", "it is about the police report");
    if c.get("filedOn").is_some() && c.get("policeUnit").is_none() {
        c.problem("policeUnit", "is required with filedOn: the police unit the report was filed with");
    }
    let filed_on = c.opt_date("filedOn");
    let police_unit = {
        let raw = c.get("policeUnit");
        c.text("policeUnit", raw)
    };
    let reference_number = {
        let raw = c.get("referenceNumber");
        c.text("referenceNumber", raw)
    };
    c.together(&["offenseCode", "registeredOn"], "a registration");
    c.together(&["refusedOn", "refusalReason"], "a refusal to register");
    if c.get("offenseCode").is_some() && c.get("refusedOn").is_some() {
        c.problem("refusedOn", "a report is either registered (offenseCode) or refused (refusedOn), not both");
    }
    c.needs(&["reclassifiedTo"], "offenseCode", "only a registered offence can be reclassified");
    c.together(&["reclassifiedTo", "reclassifiedOn", "reclassifiedBy", "reclassificationReason"], "a reclassification");
    c.together(&["investigationOutcome", "investigationDecidedOn"], "an investigation outcome");
    c.together(&["verdict", "verdictOn"], "a verdict");
    c.needs(&["verdictOffenseCode", "sentenceMonths"], "verdict", "they are part of the verdict");
    c.together(&["closedOn", "closeReason"], "the closing of the case");

    let code = |c: &mut Cells, col: &'static str| c.get(col).map(|s| s.trim().to_string());
    let offense_code = code(&mut c, "offenseCode");
    let registered_on = c.opt_date("registeredOn");
    let registry_number = {
        let raw = c.get("registryNumber");
        c.text("registryNumber", raw)
    };
    let refused_on = c.opt_date("refusedOn");
    let refusal_reason = {
        let raw = c.get("refusalReason");
        c.text("refusalReason", raw)
    };
    let reclassified_to = code(&mut c, "reclassifiedTo");
    let reclassified_on = c.opt_date("reclassifiedOn");
    let reclassified_by = {
        let raw = c.get("reclassifiedBy");
        c.label::<v::Authority>("reclassifiedBy", raw, &labels(v::Authority::ALL, |t| t.as_str()))
    };
    let reclassification_reason = {
        let raw = c.get("reclassificationReason");
        c.text("reclassificationReason", raw)
    };
    let outcome = {
        let raw = c.get("investigationOutcome");
        c.label::<v::InvestigationOutcome>(
            "investigationOutcome",
            raw,
            &labels(v::InvestigationOutcome::ALL, |t| t.as_str()),
        )
    };
    let outcome_on = c.opt_date("investigationDecidedOn");
    let verdict = {
        let raw = c.get("verdict");
        c.label::<v::VerdictOutcome>("verdict", raw, &labels(v::VerdictOutcome::ALL, |t| t.as_str()))
    };
    let verdict_on = c.opt_date("verdictOn");
    let verdict_code = code(&mut c, "verdictOffenseCode");
    let sentence_months = c.number("sentenceMonths");
    if sentence_months.is_some_and(|m| !(0..=1200).contains(&m)) {
        c.problem("sentenceMonths", "must be between 0 and 1200");
    }
    let closed_on = c.opt_date("closedOn");
    let close_reason = {
        let raw = c.get("closeReason");
        c.text("closeReason", raw)
    };

    if !c.problems.is_empty() {
        return Err(c.problems);
    }
    // Every required value parsed, or there would be a problem above.
    let (Some(external_ref), Some(organization_id), Some(identified_on), Some(referral_source)) =
        (external_ref, organization_id, identified_on, referral_source)
    else {
        return Err(vec![Problem { row, column: None, message: "the row could not be read".into() }]);
    };
    let (Some(exploitation_types), Some(gender), Some(full_name)) = (exploitation_types, gender, full_name) else {
        return Err(vec![Problem { row, column: None, message: "the row could not be read".into() }]);
    };
    let (Some(legal_aid), Some(report_to_police), Some(data_sharing)) = (legal_aid, report_to_police, data_sharing)
    else {
        return Err(vec![Problem { row, column: None, message: "the row could not be read".into() }]);
    };
    if exploitation_types.is_empty() {
        return Err(vec![Problem {
            row,
            column: Some("exploitationTypes".into()),
            message: "name at least one type of exploitation, several separated by ;".into(),
        }]);
    }

    let case_id = case_id_for(organization_id, &external_ref);
    let intake = OpenIntakeInput {
        case_id: Some(case_id),
        organization_id: Some(organization_id),
        identified_on,
        referral_source,
        exploitation_types,
        country_of_exploitation,
        client: ClientInput { gender, age_at_identification: age, citizenship, region },
        identity: IdentityInput { full_name, date_of_birth, contact, document_number, narrative: None },
        consent: dc::ConsentGrant { legal_aid, report_to_police, data_sharing },
        profile: Default::default(),
        guardian_consent: guardian_by
            .map(|given_by| dc::GuardianConsent { given_by, given_on: guardian_on.unwrap_or(identified_on) }),
    };
    let mut steps = vec![];
    let mut codes = vec![];
    if let (Some(lawyer_id), Some(on)) = (lawyer_id, assigned_on) {
        steps.push(Step::Assign { lawyer_id, on });
        if let Some(on) = accepted_on {
            steps.push(Step::Accept { on });
        }
    }
    if let (Some(filed_on), Some(police_unit)) = (filed_on, police_unit) {
        let report_id = report_id_for(case_id);
        steps.push(Step::Report(PoliceReportInput {
            report_id: Some(report_id),
            filed_on,
            police_unit,
            reference_number,
            initiated_by: None,
        }));
        if let (Some(code), Some(on)) = (offense_code, registered_on) {
            codes.push(("offenseCode", code.clone()));
            steps.push(Step::Register(RegistrationInput {
                report_id,
                offense_code: code,
                registered_on: on,
                registry_number,
                decided_by: None,
            }));
        }
        if let (Some(on), Some(reason)) = (refused_on, refusal_reason) {
            steps.push(Step::Refuse(RefusalInput { report_id, decided_on: on, reason, decided_by: None }));
        }
        if let (Some(code), Some(on), Some(by), Some(reason)) =
            (reclassified_to, reclassified_on, reclassified_by, reclassification_reason)
        {
            codes.push(("reclassifiedTo", code.clone()));
            steps.push(Step::Reclassify(ReclassificationInput {
                report_id,
                offense_code: code,
                decided_on: on,
                decided_by: by,
                reason,
            }));
        }
        if let (Some(outcome), Some(on)) = (outcome, outcome_on) {
            steps.push(Step::Outcome(InvestigationOutcomeInput {
                report_id,
                outcome,
                decided_on: on,
                note: None,
                decided_by: None,
            }));
        }
        if let (Some(outcome), Some(on)) = (verdict, verdict_on) {
            if let Some(code) = &verdict_code {
                codes.push(("verdictOffenseCode", code.clone()));
            }
            steps.push(Step::Verdict(VerdictInput {
                report_id,
                outcome,
                offense_code: verdict_code,
                decided_on: on,
                sentence_months,
                compensation_awarded: None,
                instance: None,
            }));
        }
    }
    if let (Some(on), Some(reason)) = (closed_on, close_reason) {
        steps.push(Step::Close { reason, on });
    }
    Ok(Row { row, external_ref, case_id, intake, lawyer_id, steps, codes })
}

/// Reads the file: the header, then every record. Problems of the header stop there (the
/// columns cannot be trusted); problems of rows are all collected.
fn parse_file(bytes: &[u8]) -> (Vec<Row>, Vec<Problem>, usize) {
    let mut problems = vec![];
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t.strip_prefix('\u{feff}').unwrap_or(t),
        Err(e) => {
            problems.push(Problem {
                row: 1,
                column: None,
                message: format!(
                    "the file is not UTF-8 text (first bad byte at offset {}); save it as CSV UTF-8",
                    e.valid_up_to()
                ),
            });
            return (vec![], problems, 0);
        }
    };
    let mut reader = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::Headers).from_reader(text.as_bytes());
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(str::to_string).collect(),
        Err(e) => {
            problems.push(Problem { row: 1, column: None, message: format!("the header cannot be read: {e}") });
            return (vec![], problems, 0);
        }
    };
    let known: HashSet<&str> = COLUMNS.iter().map(|(c, _)| *c).collect();
    let mut seen = HashSet::new();
    for h in &headers {
        if !known.contains(h.as_str()) {
            problems.push(Problem {
                row: 1,
                column: Some(h.clone()),
                message: "is not a column of the import (see docs/import.md; names are case-sensitive)".into(),
            });
        } else if !seen.insert(h.as_str()) {
            problems.push(Problem { row: 1, column: Some(h.clone()), message: "appears twice in the header".into() });
        }
    }
    for (c, required) in COLUMNS {
        if *required && !headers.iter().any(|h| h == c) {
            problems.push(Problem { row: 1, column: Some((*c).into()), message: "required column is missing".into() });
        }
    }
    if !problems.is_empty() {
        return (vec![], problems, 0);
    }
    let mut rows = vec![];
    let mut count = 0;
    for (i, record) in reader.records().enumerate() {
        let row = i + 2;
        count += 1;
        if count > MAX_ROWS {
            problems.push(Problem {
                row,
                column: None,
                message: format!("the file has more than {MAX_ROWS} cases; split it into several files"),
            });
            break;
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                problems.push(Problem { row, column: None, message: format!("cannot be read as CSV: {e}") });
                continue;
            }
        };
        if record.iter().all(|f| f.trim().is_empty()) {
            count -= 1;
            continue;
        }
        if record.len() != headers.len() {
            problems.push(Problem {
                row,
                column: None,
                message: format!("has {} fields, the header {}", record.len(), headers.len()),
            });
            continue;
        }
        match parse_row(row, &headers, &record) {
            Ok(r) => rows.push(r),
            Err(p) => problems.extend(p),
        }
    }
    // One reference, one case.
    let mut first: HashMap<(Uuid, String), usize> = HashMap::new();
    for r in &rows {
        let key = (r.intake.organization_id.unwrap_or_default(), r.external_ref.clone());
        if let Some(earlier) = first.get(&key) {
            problems.push(Problem {
                row: r.row,
                column: Some("externalRef".into()),
                message: format!("the same reference as row {earlier} of the same organisation; each case once"),
            });
        } else {
            first.insert(key, r.row);
        }
    }
    (rows, problems, count)
}

/// The caller each step runs as: the importing account, in the role (and scope) of the
/// person whose fact it is — the organisation's intake worker for the intake, the
/// coordinator for the assignment, the case's lawyer for the lawyer's facts.
fn acting(importer: &Principal, role: Role, organization_id: Option<Uuid>, lawyer_id: Option<Uuid>) -> Principal {
    Principal { role, organization_id, lawyer_id, approved: true, ..importer.clone() }
}

struct Actors {
    intake: Caller,
    coordinator: Caller,
    lawyer: Option<Caller>,
}

impl Actors {
    fn for_row(importer: &Caller, batch: &str, row: &Row) -> Actors {
        let p = &importer.principal;
        // The correlation id names the file and the row: an auditor finds every event of an
        // import, and each event's source row.
        let correlation = format!("import:{batch}:row:{}", row.row);
        let caller = |p: Principal| Caller::new(p, correlation.clone());
        Actors {
            intake: caller(acting(p, Role::IntakeWorker, row.intake.organization_id, None)),
            coordinator: caller(acting(p, Role::Coordinator, None, None)),
            lawyer: row.lawyer_id.map(|l| caller(acting(p, Role::Lawyer, None, Some(l)))),
        }
    }

    fn for_step(&self, step: &Step) -> &Caller {
        match step {
            Step::Assign { .. } | Step::Close { .. } => &self.coordinator,
            _ => self.lawyer.as_ref().unwrap_or(&self.coordinator),
        }
    }
}

impl App {
    /// Checks a CSV file of historic cases (docs/import.md) and, unless `dry_run` or a
    /// problem was found, imports it. For COORDINATOR and ADMIN callers.
    #[tracing::instrument(skip_all, fields(dry_run, bytes = bytes.len()))]
    pub async fn import_cases(&self, caller: &Caller, bytes: &[u8], dry_run: bool) -> Result<ImportReport, ApiError> {
        caller.allow(Op::ImportCases)?;
        let batch = hex::encode(&Sha256::digest(bytes)[..6]);
        let (rows, mut problems, count) = parse_file(bytes);
        let mut report = ImportReport { dry_run, rows: count, ..Default::default() };
        let codes = self.catalogue_refs().await?;
        let mut existing = BTreeMap::new();
        let mut known_orgs: HashMap<Uuid, bool> = HashMap::new();
        let mut known_lawyers: HashMap<Uuid, Option<String>> = HashMap::new();
        for row in &rows {
            let mut row_problems = vec![];
            let mut problem = |column: &str, message: String| {
                row_problems.push(Problem { row: row.row, column: Some(column.into()), message })
            };
            let org = row.intake.organization_id.unwrap_or_default();
            if let Entry::Vacant(e) = known_orgs.entry(org) {
                let registered = self.cqrs.load::<Organization>(&org.to_string()).await?.aggregate.registered;
                e.insert(registered);
            }
            if known_orgs.get(&org) != Some(&true) {
                problem("organizationId", format!("no organisation {org} is registered"));
            }
            if let Some(l) = row.lawyer_id {
                if let Entry::Vacant(e) = known_lawyers.entry(l) {
                    let lawyer = self.cqrs.load::<domain::lawyer::Lawyer>(&l.to_string()).await?.aggregate;
                    let state = if !lawyer.registered {
                        Some(format!("no lawyer {l} is registered"))
                    } else if !lawyer.active {
                        Some(format!("lawyer {l} is deactivated; reactivate them first or name another"))
                    } else {
                        None
                    };
                    e.insert(state);
                }
                if let Some(Some(m)) = known_lawyers.get(&l) {
                    problem("lawyerId", m.clone());
                }
            }
            for (column, code) in &row.codes {
                if !codes.contains_key(code.as_str()) {
                    problem(
                        column,
                        format!("{code:?} is not an offence code in the catalogue (see the offenses query)"),
                    );
                }
            }
            let view = self.case_view(row.case_id).await?;
            if let Some(view) = &view {
                if view.organization_id != org || view.identified_on != row.intake.identified_on {
                    problem(
                        "externalRef",
                        format!(
                            "was imported before with other data (identified on {}); give a new case a new reference",
                            view.identified_on
                        ),
                    );
                }
            }
            if row_problems.is_empty() {
                row_problems.extend(self.simulate(row, &codes, caller));
            }
            problems.extend(row_problems);
            existing.insert(row.row, view);
        }
        problems.sort_by_key(|p| p.row);
        if !problems.is_empty() {
            report.problems = problems;
            return Ok(report);
        }
        for row in &rows {
            let view = existing.get(&row.row).cloned().flatten();
            let pending = row.steps.iter().filter(|s| view.as_ref().is_none_or(|v| !s.done(v))).count();
            match (&view, pending) {
                (None, _) => report.created += 1,
                (Some(_), 0) => report.unchanged += 1,
                (Some(_), _) => report.completed += 1,
            }
            if dry_run {
                continue;
            }
            match self.import_row(caller, &batch, row, view.is_some()).await {
                Ok(n) => report.steps_run += n,
                // A refusal the check could not foresee (a lawyer at capacity, a change by
                // someone else meanwhile): what was written stays, a re-run resumes.
                Err(e) => {
                    report.problems.push(Problem { row: row.row, column: None, message: e.message() });
                    return Ok(report);
                }
            }
        }
        Ok(report)
    }

    /// The catalogue's usable codes.
    async fn catalogue_refs(&self) -> Result<HashMap<String, OffenseRef>, ApiError> {
        Ok(self
            .offenses()
            .await?
            .iter()
            .filter(|o| !o.retired)
            .map(|o| (o.code.clone(), OffenseRef { code: o.code.clone(), category: o.category }))
            .collect())
    }

    /// Decides the row's commands against a new in-memory case, as the store would: dates,
    /// order, consent, the era rule.
    fn simulate(&self, row: &Row, codes: &HashMap<String, OffenseRef>, importer: &Caller) -> Vec<Problem> {
        let today = self.clock.today();
        let actors = Actors::for_row(importer, "check", row);
        let problem = |column: &str, message: String| Problem { row: row.row, column: Some(column.into()), message };
        let mut case = Case::default();
        // The client's date of birth is checked as the intake checks it.
        if row.intake.identity.date_of_birth.is_some_and(|d| d > today) {
            return vec![problem("dateOfBirth", "is in the future".into())];
        }
        let intake = match intake_command(row) {
            Ok(c) => c,
            Err(e) => return vec![problem("identifiedOn", e.message())],
        };
        match case.decide(&actors.intake.principal.actor(), intake, today) {
            Ok(events) => events.into_iter().for_each(|e| case.apply(e)),
            Err(e) => return vec![problem("identifiedOn", e.to_string())],
        }
        for step in &row.steps {
            let actor = actors.for_step(step).principal.actor();
            let command = match step_command(step, codes) {
                Ok(c) => c,
                Err(e) => return vec![problem(step.column(), e.message())],
            };
            match case.decide(&actor, command, today) {
                Ok(events) => events.into_iter().for_each(|e| case.apply(e)),
                Err(e) => return vec![problem(step.column(), e.to_string())],
            }
        }
        vec![]
    }

    /// Runs the row's missing steps through the use cases; returns how many ran.
    async fn import_row(&self, importer: &Caller, batch: &str, row: &Row, exists: bool) -> Result<usize, ApiError> {
        let actors = Actors::for_row(importer, batch, row);
        let mut ran = 0;
        let mut view = if exists {
            self.case_view(row.case_id).await?.ok_or_else(|| ApiError::NotFound(format!("no case {}", row.case_id)))?
        } else {
            ran += 1;
            self.open_intake(&actors.intake, row.intake.clone()).await?
        };
        let case_id = row.case_id;
        for step in &row.steps {
            if step.done(&view) {
                continue;
            }
            let c = actors.for_step(step);
            view = match step.clone() {
                Step::Assign { lawyer_id, on } => self.assign_lawyer(c, case_id, lawyer_id, Some(on)).await?,
                Step::Accept { on } => self.accept_assignment(c, case_id, Some(on)).await?,
                Step::Report(i) => self.file_police_report(c, case_id, i).await?,
                Step::Register(i) => self.record_offense_registration(c, case_id, i).await?,
                Step::Refuse(i) => self.record_registration_refused(c, case_id, i).await?,
                Step::Reclassify(i) => self.reclassify_offense(c, case_id, i).await?,
                Step::Outcome(i) => self.record_investigation_outcome(c, case_id, i).await?,
                Step::Verdict(i) => self.record_verdict(c, case_id, i).await?,
                Step::Close { reason, on } => self.close_case(c, case_id, &reason, Some(on)).await?,
            };
            ran += 1;
        }
        Ok(ran)
    }
}

/// The intake as a domain command, for the check (identity is not sealed for a check:
/// nothing is written).
fn intake_command(row: &Row) -> Result<CaseCommand, ApiError> {
    let i = &row.intake;
    let client = dc::ClientProfile {
        gender: i.client.gender,
        age_at_identification: i.client.age_at_identification.map(v::parse_age).transpose()?,
        citizenship: i.client.citizenship.as_deref().map(|s| CountryCode::parse("citizenship", s)).transpose()?,
        region: i.client.region,
    };
    Ok(CaseCommand::OpenIntake(dc::OpenIntake {
        case_id: row.case_id,
        organization_id: i.organization_id.unwrap_or_default(),
        identified_on: i.identified_on,
        referral_source: i.referral_source,
        exploitation_types: i.exploitation_types.clone(),
        country_of_exploitation: i
            .country_of_exploitation
            .as_deref()
            .map(|s| CountryCode::parse("countryOfExploitation", s))
            .transpose()?,
        client,
        identity: domain::sealed::Sealed { alg: "check".into(), nonce: "-".into(), ciphertext: "-".into() },
        consent: i.consent,
        profile: Default::default(),
        guardian_consent: i.guardian_consent,
    }))
}

fn step_command(step: &Step, codes: &HashMap<String, OffenseRef>) -> Result<CaseCommand, ApiError> {
    let code = |c: &str| {
        codes
            .get(c)
            .cloned()
            .ok_or_else(|| ApiError::BadInput(format!("{c:?} is not an offence code in the catalogue")))
    };
    let text = |f: &'static str, s: &str| Text::parse(f, s).map_err(ApiError::from);
    let opt = |f: &'static str, s: &Option<String>| s.as_deref().map(|s| text(f, s)).transpose();
    Ok(match step {
        Step::Assign { lawyer_id, on } => CaseCommand::AssignLawyer { lawyer_id: *lawyer_id, assigned_on: Some(*on) },
        Step::Accept { on } => CaseCommand::AcceptAssignment { accepted_on: Some(*on) },
        Step::Report(r) => CaseCommand::FilePoliceReport(dc::FilePoliceReport {
            report_id: r.report_id.unwrap_or_default(),
            filed_on: r.filed_on,
            police_unit: text("policeUnit", &r.police_unit)?,
            reference_number: opt("referenceNumber", &r.reference_number)?,
            initiated_by: r.initiated_by,
        }),
        Step::Register(r) => CaseCommand::RecordOffenseRegistration(dc::RecordOffenseRegistration {
            report_id: r.report_id,
            offense: code(&r.offense_code)?,
            registered_on: r.registered_on,
            registry_number: opt("registryNumber", &r.registry_number)?,
            decided_by: r.decided_by,
        }),
        Step::Refuse(r) => CaseCommand::RecordRegistrationRefused(dc::RecordRegistrationRefused {
            report_id: r.report_id,
            decided_on: r.decided_on,
            reason: text("refusalReason", &r.reason)?,
            decided_by: r.decided_by,
        }),
        Step::Reclassify(r) => CaseCommand::ReclassifyOffense(dc::ReclassifyOffense {
            report_id: r.report_id,
            offense: code(&r.offense_code)?,
            decided_on: r.decided_on,
            decided_by: r.decided_by,
            reason: text("reclassificationReason", &r.reason)?,
        }),
        Step::Outcome(r) => CaseCommand::RecordInvestigationOutcome(dc::RecordInvestigationOutcome {
            report_id: r.report_id,
            outcome: r.outcome,
            decided_on: r.decided_on,
            note: None,
            decided_by: r.decided_by,
        }),
        Step::Verdict(r) => CaseCommand::RecordVerdict(dc::RecordVerdict {
            report_id: r.report_id,
            outcome: r.outcome,
            offense: r.offense_code.as_deref().map(code).transpose()?,
            decided_on: r.decided_on,
            sentence_months: r.sentence_months.map(|m| m as u16),
            compensation_awarded: None,
            instance: r.instance.unwrap_or_default(),
        }),
        Step::Close { reason, on } => {
            CaseCommand::CloseCase { reason: text("closeReason", reason)?, closed_on: Some(*on) }
        }
    })
}
