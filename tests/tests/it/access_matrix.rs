//! The access matrix: every query and mutation of the committed schema, and the guarded
//! field `Case.identity`, × every role × in-scope / out-of-scope, against DESIGN.md §1.
//! An operation added to the schema without a row here fails the test: access is decided,
//! never defaulted.

use serde_json::{json, Value};
use std::collections::BTreeSet;
use tests::fixtures::{case_mutation, open_case, represented_case, token, world, World};
use tests::{Backend, TestApp};

/// Who is asking, and whether the case concerned is theirs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Admin,
    Coordinator,
    Auditor,
    IntakeIn,
    IntakeOut,
    LawyerIn,
    LawyerOut,
}

const EVERYONE: &[Who] =
    &[Who::Admin, Who::Coordinator, Who::Auditor, Who::IntakeIn, Who::IntakeOut, Who::LawyerIn, Who::LawyerOut];

fn allowed(op: &str, who: Who) -> bool {
    use Who::*;
    match op {
        "me" | "cases" | "lawyer" | "offenses" => true,
        "case" => !matches!(who, IntakeOut | LawyerOut),
        "lawyers" | "outcomeStats" | "networkStats" | "compensationTotals" | "auditTrail" | "verifyAuditTrail"
        | "publishedFigures" => {
            matches!(who, Admin | Coordinator | Auditor)
        }
        "organizations" => matches!(who, Admin | Coordinator | Auditor | IntakeIn | IntakeOut),
        "identityReads"
        | "accounts"
        | "accessTokens"
        | "signInHistory"
        | "accountActivity"
        | "erasureRequests"
        | "recordPublishedFigure" => {
            matches!(who, Admin | Auditor)
        }
        "keyStatus"
        | "deactivateAccount"
        | "revokeAccountAccess"
        | "approveErasureRequest"
        | "rejectErasureRequest" => who == Admin,
        // Those who work for the client, and an ADMIN; another ADMIN decides.
        "requestErasure" => matches!(who, Admin | IntakeIn | LawyerIn),
        "accountAuditTrail" => matches!(who, Admin | Coordinator | Auditor),
        // The row's account is a lawyer's: the COORDINATOR approves those.
        "approveAccount" => who == Coordinator,
        // The client's organisation and lawyer; a coordinator where the client consented
        // to data sharing (this case: yes). Never auditors or admins.
        "Case.identity" => matches!(who, IntakeIn | LawyerIn | Coordinator),
        "registerOrganization"
        | "createAccessToken"
        | "revokeAccessToken"
        | "addOffense"
        | "retireOffense"
        | "eraseClientData" => who == Admin,
        "registerLawyer"
        | "recordLawyerTraining"
        | "setLawyerCapacity"
        | "deactivateLawyer"
        | "reactivateLawyer"
        | "assignLawyer" => who == Coordinator,
        "openIntake" => matches!(who, IntakeIn | IntakeOut),
        "updateClientIdentity" | "giveConsent" | "withdrawConsent" | "referToService" => {
            matches!(who, IntakeIn | LawyerIn)
        }
        // The profile for the IOM data standard and a guardian's consent: like consent.
        "recordVictimProfile" | "recordGuardianConsent" => matches!(who, IntakeIn | LawyerIn),
        "acceptAssignment"
        | "declineAssignment"
        | "recordLegalAction"
        | "filePoliceReport"
        | "recordOffenseRegistration"
        | "recordRegistrationRefused"
        | "reclassifyOffense"
        | "recordInvestigationOutcome"
        | "recordVerdict"
        | "addDefendant"
        | "recordDefendantVerdict"
        | "claimCompensation"
        | "recordCompensationAward"
        | "recordCompensationPayment" => who == LawyerIn,
        "closeCase" | "reopenCase" | "transferCase" => matches!(who, Coordinator | LawyerIn),
        // Scoped by the use case to the caller's cases; the rules are public data.
        "deadlines" | "deadlineRules" => true,
        "scheduleHearing" | "recordHearingHeld" | "postponeHearing" | "fileComplaint" | "decideComplaint"
        | "fileAppeal" => who == LawyerIn,
        "recordReferralOutcome" | "recordVictimStatus" => matches!(who, IntakeIn | LawyerIn),
        "setDeadlineRule" | "retireDeadlineRule" => who == Admin,
        other => panic!("no row in the access matrix for {other}: decide who may use it (DESIGN.md §1) and add it"),
    }
}

/// The fields of a root type in the committed SDL.
fn operations(root: &str) -> Vec<String> {
    let sdl = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../api/schema.graphql"))
        .expect("committed schema");
    let mut inside = false;
    let mut out = vec![];
    for line in sdl.lines() {
        if line.starts_with(&format!("type {root} ")) {
            inside = true;
            continue;
        }
        if inside && line.starts_with('}') {
            break;
        }
        let l = line.trim_start();
        if inside && line.starts_with('\t') || inside && line.starts_with("  ") && !l.starts_with('"') && !l.is_empty()
        {
            if let Some(name) = l.split(['(', ':']).next() {
                if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()) {
                    out.push(name.to_string());
                }
            }
        }
    }
    out
}

/// Whether `op` on the row's case is refused to `who` as if the case did not exist: callers
/// who may not read the case at all (another organisation's intake worker, a lawyer not
/// assigned to it), on operations that name it. The audit trail is for oversight roles
/// only, whatever the case, and refuses by role.
fn hidden_from(op: &str, who: Who, state: State, vars: &Value) -> bool {
    // Lawyer A is assigned to every fixture case but an open one.
    let outside = matches!(who, Who::IntakeOut | Who::LawyerOut) || (who == Who::LawyerIn && state == State::Open);
    outside && vars.get("c").is_some_and(|c| c == "{case}") && !matches!(op, "auditTrail" | "verifyAuditTrail")
}

/// The state of a case an operation is valid in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum State {
    /// Opened with every consent, no lawyer yet.
    Open,
    /// Assigned to lawyer A, not yet answered.
    Pending,
    /// Lawyer A accepted.
    Represented,
    /// Represented, and the client withdrew consent to data sharing.
    NoDataSharing,
    /// Represented, with a police report filed.
    Reported,
    /// Reported, the offence registered.
    Registered,
    /// Registered, the investigation sent it to court.
    InCourt,
    /// In court, with one defendant charged.
    WithDefendant,
    /// In court, with compensation claimed.
    Claimed,
    /// Claimed, and compensation awarded.
    Awarded,
    /// Represented, then closed.
    Closed,
    /// In court, with a hearing (past) scheduled.
    WithHearing,
    /// In court, with a first-instance verdict.
    Decided,
    /// Reported, and registration refused.
    Refused,
    /// Refused, and a complaint filed against the refusal.
    WithComplaint,
    /// Represented, and referred to a shelter.
    WithReferral,
    /// A client of 16 with a parent's consent, represented by lawyer A.
    MinorRepresented,
}

/// A case in some state, and its report (when it has one).
#[derive(Clone)]
struct Fixture {
    case: String,
    report: String,
    defendant: String,
    hearing: String,
    complaint: String,
}

/// A minor's case opened with a parent's consent, then accepted by lawyer A.
async fn minor_represented_case(t: &TestApp, w: &World) -> String {
    let input = json!({
        "identifiedOn": "2020-03-02", "referralSource": "HOTLINE", "exploitationTypes": ["FORCED_LABOR"],
        "client": {"fullName": "Matrix Minor", "gender": "FEMALE", "ageAtIdentification": 16},
        "consent": {"legalAid": true, "reportToPolice": true, "dataSharing": true},
        "guardianConsent": {"givenBy": "PARENT", "givenOn": "2020-03-02"}});
    let c = case_mutation(t, &w.intake, "openIntake", "OpenIntakeInput", input).await;
    let case = c["id"].as_str().expect("a case id").to_string();
    let assign = json!({"caseId": case, "lawyerId": w.lawyer_a_id});
    case_mutation(t, &w.coordinator, "assignLawyer", "AssignLawyerInput", assign).await;
    case_mutation(t, &w.lawyer_a, "acceptAssignment", "CaseIdInput", json!({"caseId": case})).await;
    case
}

/// A new case of the organisation in `state`, built through the API as a client would.
async fn fixture(t: &TestApp, w: &World, state: State) -> Fixture {
    use State::*;
    let case = match state {
        Open | Pending => open_case(t, w, true).await,
        MinorRepresented => minor_represented_case(t, w).await,
        _ => represented_case(t, w).await,
    };
    let mut report = String::new();
    let lawyer_a = w.lawyer_a.as_str();
    let run = |token: &str, name: &'static str, input_type: &'static str, input: Value| {
        let token = token.to_string();
        async move { case_mutation(t, &token, name, input_type, input).await }
    };
    if state == Pending {
        let input = json!({"caseId": case, "lawyerId": w.lawyer_a_id});
        run(&w.coordinator, "assignLawyer", "AssignLawyerInput", input).await;
    }
    if state == NoDataSharing {
        let input = json!({"caseId": case, "scopes": ["DATA_SHARING"], "on": "2020-03-03"});
        run(&w.intake, "withdrawConsent", "ConsentChangeInput", input).await;
    }
    let court = matches!(state, InCourt | WithDefendant | Claimed | Awarded | WithHearing | Decided);
    if matches!(state, Reported | Registered | Refused | WithComplaint) || court {
        let input = json!({"caseId": case, "filedOn": "2022-04-01", "policeUnit": "Osh"});
        let c = run(lawyer_a, "filePoliceReport", "FilePoliceReportInput", input).await;
        report = c["policeReports"][0]["id"].as_str().expect("a report id").to_string();
    }
    if state == Registered || court {
        let input =
            json!({"caseId": case, "reportId": report, "offenseCode": "2021-209", "registeredOn": "2022-04-03"});
        run(lawyer_a, "recordOffenseRegistration", "RecordOffenseRegistrationInput", input).await;
    }
    if court {
        let input = json!({"caseId": case, "reportId": report, "outcome": "SENT_TO_COURT", "decidedOn": "2022-06-03"});
        run(lawyer_a, "recordInvestigationOutcome", "RecordInvestigationOutcomeInput", input).await;
    }
    let mut defendant = String::new();
    if state == WithDefendant {
        let input = json!({"caseId": case, "reportId": report, "gender": "MALE", "role": "RECRUITER"});
        run(lawyer_a, "addDefendant", "AddDefendantInput", input).await;
        let q = "query($c: ID!) { case(id: $c) { policeReports { defendants { id } } } }";
        let d = t.ok(lawyer_a, q, json!({"c": case})).await;
        defendant = d["case"]["policeReports"][0]["defendants"][0]["id"].as_str().expect("a defendant id").to_string();
    }
    if matches!(state, Claimed | Awarded) {
        let input =
            json!({"caseId": case, "reportId": report, "amount": 500000, "currency": "KGS", "on": "2022-06-04"});
        run(lawyer_a, "claimCompensation", "CompensationInput", input).await;
    }
    if state == Awarded {
        let input =
            json!({"caseId": case, "reportId": report, "amount": 300000, "currency": "KGS", "on": "2022-07-04"});
        run(lawyer_a, "recordCompensationAward", "CompensationInput", input).await;
    }
    if state == Closed {
        run(&w.coordinator, "closeCase", "CaseReasonInput", json!({"caseId": case, "reason": "done"})).await;
    }
    let (mut hearing, mut complaint) = (String::new(), String::new());
    if state == WithHearing {
        let input = json!({"caseId": case, "reportId": report, "on": "2022-06-10", "court": "Osh city court"});
        run(lawyer_a, "scheduleHearing", "ScheduleHearingInput", input).await;
        let q = "query($c: ID!) { case(id: $c) { policeReports { proceedings { hearings { id } } } } }";
        let d = t.ok(lawyer_a, q, json!({"c": case})).await;
        hearing =
            d["case"]["policeReports"][0]["proceedings"]["hearings"][0]["id"].as_str().expect("a hearing").to_string();
    }
    if state == Decided {
        let input = json!({"caseId": case, "reportId": report, "outcome": "CONVICTED", "decidedOn": "2022-07-03"});
        run(lawyer_a, "recordVerdict", "RecordVerdictInput", input).await;
    }
    if matches!(state, Refused | WithComplaint) {
        let input = json!({"caseId": case, "reportId": report, "decidedOn": "2022-04-05", "reason": "no crime"});
        run(lawyer_a, "recordRegistrationRefused", "RecordRegistrationRefusedInput", input).await;
    }
    if state == WithComplaint {
        let input = json!({"caseId": case, "reportId": report, "against": "REFUSAL_TO_REGISTER", "filedWith": "PROSECUTOR", "filedOn": "2022-04-06"});
        run(lawyer_a, "fileComplaint", "FileComplaintInput", input).await;
        let q = "query($c: ID!) { case(id: $c) { policeReports { proceedings { complaints { id } } } } }";
        let d = t.ok(lawyer_a, q, json!({"c": case})).await;
        complaint = d["case"]["policeReports"][0]["proceedings"]["complaints"][0]["id"]
            .as_str()
            .expect("a complaint")
            .to_string();
    }
    if state == WithReferral {
        let input = json!({"caseId": case, "service": "SHELTER", "referredOn": "2020-03-04"});
        run(&w.intake, "referToService", "ReferToServiceInput", input).await;
    }
    Fixture { case, report, defendant, hearing, complaint }
}

/// Replaces the strings "{case}" and "{report}" in `vars` with the fixture's ids.
fn with_fixture(vars: &Value, f: &Fixture) -> Value {
    match vars {
        Value::String(s) if s == "{case}" => json!(f.case),
        Value::String(s) if s == "{report}" => json!(f.report),
        Value::String(s) if s == "{defendant}" => json!(f.defendant),
        Value::String(s) if s == "{hearing}" => json!(f.hearing),
        Value::String(s) if s == "{complaint}" => json!(f.complaint),
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), with_fixture(v, f))).collect()),
        other => other.clone(),
    }
}

/// The names of the root fields of the schema the server serves (by introspection).
async fn served_operations(t: &TestApp) -> BTreeSet<String> {
    let d = t
        .ok(&t.admin, "{ __schema { queryType { fields { name } } mutationType { fields { name } } } }", json!({}))
        .await;
    let mut out = BTreeSet::new();
    for root in ["queryType", "mutationType"] {
        for f in d["__schema"][root]["fields"].as_array().expect("root fields") {
            assert!(out.insert(f["name"].as_str().expect("a field name").to_string()), "{f} twice");
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_every_role_every_scope() {
    let mut t = TestApp::spawn(Backend::Sqlite).await;
    let w = world(&t).await;
    // Lawyer A takes on many cases here: no capacity refusal may get in the way.
    t.ok(
        &w.coordinator,
        "mutation($l: ID!) { setLawyerCapacity(input: {lawyerId: $l, maxActiveCases: 200}) { id } }",
        json!({"l": w.lawyer_a_id}),
    )
    .await;
    let other_org = t
        .ok(&t.admin, "mutation { registerOrganization(input: {name: \"Other NGO\", kind: NGO}) { id } }", json!({}))
        .await["registerOrganization"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let intake_out = token(&t, "INTAKE_WORKER", Some(&other_org), None).await;
    let spare = t
        .ok(&t.admin, "mutation { createAccessToken(input: {name: \"spare\", role: AUDITOR}) { tokenId } }", json!({}))
        .await["createAccessToken"]["tokenId"]
        .as_str()
        .unwrap()
        .to_string();
    // A lawyer's second account, not yet approved.
    let unapproved = t
        .ok(
            &t.admin,
            "mutation($l: ID!) { createAccessToken(input: {name: \"second login\", role: LAWYER, lawyerId: $l}) { account { id } } }",
            json!({"l": w.lawyer_b_id}),
        )
        .await["createAccessToken"]["account"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    // An account to deactivate and revoke, and two erasure requests an intake worker made
    // (one to approve, one to turn down).
    let target = t
        .ok(
            &t.admin,
            "mutation { createAccessToken(input: {name: \"leaver\", role: AUDITOR}) { account { id } } }",
            json!({}),
        )
        .await["createAccessToken"]["account"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut requests = vec![];
    for _ in 0..2 {
        let case = represented_case(&t, &w).await;
        let d = t
            .ok(
                &w.intake,
                "mutation($c: ID!) { requestErasure(input: {caseId: $c, reason: \"the client asked\"}) { id } }",
                json!({"c": case}),
            )
            .await;
        requests.push(d["requestErasure"]["id"].as_str().unwrap().to_string());
    }

    let token_of = |who: Who| -> String {
        match who {
            Who::Admin => t.admin.clone(),
            Who::Coordinator => w.coordinator.clone(),
            Who::Auditor => w.auditor.clone(),
            Who::IntakeIn => w.intake.clone(),
            Who::IntakeOut => intake_out.clone(),
            Who::LawyerIn => w.lawyer_a.clone(),
            Who::LawyerOut => w.lawyer_b.clone(),
        }
    };
    let (la, lb) = (w.lawyer_a_id.clone(), w.lawyer_b_id.clone());
    use State::*;
    // (operation, the case state it is valid in, whether a call changes that case, request,
    // variables); "{case}" and "{report}" stand for the case's ids. Queries first; the
    // lawyer, catalogue and token rows follow each other (retire after add, reactivate
    // after deactivate).
    #[rustfmt::skip]
    // A deadline rule for the retirement row to retire.
    t.ok(
        &t.admin,
        "mutation { setDeadlineRule(input: {id: \"matrix-rule\", after: VERDICT, days: 5, what: \"test\", article: \"Test\", code: \"Test fixture\", url: \"https://example.org\"}) { id } }",
        json!({}),
    )
    .await;
    let rows: Vec<(&str, State, bool, &str, Value)> = vec![
        ("me", Reported, false, "{ me { id role } }", json!({})),
        ("case", Reported, false, "query($c: ID!) { case(id: $c) { id } }", json!({"c": "{case}"})),
        ("cases", Reported, false, "{ cases { totalCount } }", json!({})),
        ("lawyer", Reported, false, "query($l: ID!) { lawyer(id: $l) { id } }", json!({"l": lb})),
        ("lawyers", Reported, false, "{ lawyers { id } }", json!({})),
        ("organizations", Reported, false, "{ organizations { id } }", json!({})),
        ("offenses", Reported, false, "{ offenses { code } }", json!({})),
        ("outcomeStats", Reported, false, "{ outcomeStats(groupBy: [YEAR]) { totals { casesOpened } } }", json!({})),
        ("compensationTotals", Reported, false, "{ compensationTotals { currency paid } }", json!({})),
        ("publishedFigures", Reported, false, "{ publishedFigures { source value ledgerValue } }", json!({})),
        ("networkStats", Reported, false, "{ networkStats(groupBy: [STATUS]) { total } }", json!({})),
        ("auditTrail", Reported, false, "query($c: ID!) { auditTrail(caseId: $c) { hash } }", json!({"c": "{case}"})),
        ("verifyAuditTrail", Reported, false, "query($c: ID) { verifyAuditTrail(caseId: $c) { ok } }", json!({"c": "{case}"})),
        ("identityReads", Reported, false, "{ identityReads { role } }", json!({})),
        ("accounts", Reported, false, "{ accounts { id } }", json!({})),
        ("accountAuditTrail", Reported, false, "query($a: ID!) { accountAuditTrail(accountId: $a) { hash } }", json!({"a": unapproved})),
        ("accessTokens", Reported, false, "query($a: ID!) { accessTokens(accountId: $a) { id revoked } }", json!({"a": unapproved})),
        ("signInHistory", Reported, false, "{ signInHistory { outcome } }", json!({})),
        ("accountActivity", Reported, false, "query($a: ID!) { accountActivity(accountId: $a) { hash } }", json!({"a": unapproved})),
        ("erasureRequests", Reported, false, "{ erasureRequests { id status } }", json!({})),
        ("keyStatus", Reported, false, "{ keyStatus { currentEpoch wrappedKeys } }", json!({})),
        ("deactivateAccount", Reported, false, "mutation($a: ID!) { deactivateAccount(input: {accountId: $a, reason: \"left\"}) { disabled } }", json!({"a": target})),
        ("revokeAccountAccess", Reported, false, "mutation($a: ID!) { revokeAccountAccess(accountId: $a) { revokedTokens } }", json!({"a": target})),
        ("requestErasure", Represented, true, "mutation($c: ID!) { requestErasure(input: {caseId: $c, reason: \"the client asked\"}) { id } }", json!({"c": "{case}"})),
        ("approveErasureRequest", Reported, false, "mutation($r: ID!) { approveErasureRequest(requestId: $r) { request { status } } }", json!({"r": requests[0]})),
        ("rejectErasureRequest", Reported, false, "mutation($r: ID!) { rejectErasureRequest(input: {requestId: $r, reason: \"not asked by the client\"}) { status } }", json!({"r": requests[1]})),
        ("approveAccount", Reported, false, "mutation($a: ID!) { approveAccount(accountId: $a) { id } }", json!({"a": unapproved})),
        ("Case.identity", Reported, false, "query($c: ID!) { case(id: $c) { identity(purpose: \"access matrix\") { fullName } } }", json!({"c": "{case}"})),
        ("recordPublishedFigure", Reported, false, "mutation { recordPublishedFigure(input: {source: \"NSC\", citation: \"access matrix\", indicator: \"registered TIP cases\", year: 2020, value: 8}) { value ledgerValue } }", json!({})),
        ("registerOrganization", Reported, false, "mutation { registerOrganization(input: {name: \"M NGO\", kind: NGO}) { id } }", json!({})),
        ("createAccessToken", Reported, false, "mutation { createAccessToken(input: {name: \"m\", role: AUDITOR}) { token } }", json!({})),
        ("revokeAccessToken", Reported, false, "mutation($t: ID!) { revokeAccessToken(tokenId: $t) { id } }", json!({"t": spare})),
        ("addOffense", Reported, false, "mutation { addOffense(input: {edition: \"1999\", article: \"1\", title: \"Test offence\", category: OTHER, source: \"access matrix\"}) { code } }", json!({})),
        ("retireOffense", Reported, false, "mutation { retireOffense(input: {code: \"1999-1\", reason: \"test\"}) { code } }", json!({})),
        ("registerLawyer", Reported, false, "mutation { registerLawyer(input: {fullName: \"M Lawyer\", gender: MALE, status: STUDENT, region: TALAS}) { id } }", json!({})),
        ("recordLawyerTraining", Reported, false, "mutation($l: ID!) { recordLawyerTraining(input: {lawyerId: $l, course: \"TIP\", completedOn: \"2020-01-01\"}) { id } }", json!({"l": lb})),
        ("setLawyerCapacity", Reported, false, "mutation($l: ID!) { setLawyerCapacity(input: {lawyerId: $l, maxActiveCases: 20}) { id } }", json!({"l": lb})),
        ("deactivateLawyer", Reported, false, "mutation($l: ID!) { deactivateLawyer(input: {lawyerId: $l, reason: \"leave\"}) { id } }", json!({"l": lb})),
        ("reactivateLawyer", Reported, false, "mutation($l: ID!) { reactivateLawyer(lawyerId: $l) { id } }", json!({"l": lb})),
        ("assignLawyer", Open, true, "mutation($c: ID!, $l: ID!) { assignLawyer(input: {caseId: $c, lawyerId: $l}) { id } }", json!({"c": "{case}", "l": la})),
        ("openIntake", Open, false, "mutation { openIntake(input: {identifiedOn: \"2020-01-01\", referralSource: HOTLINE, exploitationTypes: [SEXUAL], client: {fullName: \"Matrix Client\", gender: FEMALE}, consent: {legalAid: true, reportToPolice: true, dataSharing: false}}) { id } }", json!({})),
        ("updateClientIdentity", Represented, true, "mutation($c: ID!) { updateClientIdentity(input: {caseId: $c, identity: {fullName: \"Zarina Testovna Kadyrova\"}}) { id } }", json!({"c": "{case}"})),
        ("giveConsent", NoDataSharing, true, "mutation($c: ID!) { giveConsent(input: {caseId: $c, scopes: [DATA_SHARING], on: \"2020-03-04\"}) { id } }", json!({"c": "{case}"})),
        ("withdrawConsent", Represented, true, "mutation($c: ID!) { withdrawConsent(input: {caseId: $c, scopes: [LEGAL_AID], on: \"2020-03-03\"}) { id } }", json!({"c": "{case}"})),
        ("recordVictimProfile", Represented, true, "mutation($c: ID!) { recordVictimProfile(input: {caseId: $c, profile: {meansOfControl: [THREATS], industry: F, placeOfRecruitment: \"OSH\"}}) { id profile { industry } } }", json!({"c": "{case}"})),
        ("recordGuardianConsent", MinorRepresented, true, "mutation($c: ID!) { recordGuardianConsent(input: {caseId: $c, givenBy: GUARDIANSHIP_AUTHORITY, givenOn: \"2020-03-05\"}) { id guardianConsent { givenBy } } }", json!({"c": "{case}"})),
        ("referToService", Represented, true, "mutation($c: ID!) { referToService(input: {caseId: $c, service: SHELTER, referredOn: \"2020-03-03\"}) { id } }", json!({"c": "{case}"})),
        ("acceptAssignment", Pending, true, "mutation($c: ID!) { acceptAssignment(input: {caseId: $c}) { id } }", json!({"c": "{case}"})),
        ("declineAssignment", Pending, true, "mutation($c: ID!) { declineAssignment(input: {caseId: $c, reason: \"busy\"}) { id } }", json!({"c": "{case}"})),
        ("recordLegalAction", Represented, true, "mutation($c: ID!) { recordLegalAction(input: {caseId: $c, kind: CONSULTATION, takenOn: \"2020-03-05\"}) { id } }", json!({"c": "{case}"})),
        ("filePoliceReport", Represented, true, "mutation($c: ID!) { filePoliceReport(input: {caseId: $c, filedOn: \"2022-04-02\", policeUnit: \"Osh\"}) { id } }", json!({"c": "{case}"})),
        ("recordOffenseRegistration", Reported, true, "mutation($c: ID!, $r: ID!) { recordOffenseRegistration(input: {caseId: $c, reportId: $r, offenseCode: \"2021-209\", registeredOn: \"2022-04-03\"}) { id } }", json!({"c": "{case}", "r": "{report}"})),
        ("recordRegistrationRefused", Reported, true, "mutation($c: ID!, $r: ID!) { recordRegistrationRefused(input: {caseId: $c, reportId: $r, decidedOn: \"2022-04-03\", reason: \"none\"}) { id } }", json!({"c": "{case}", "r": "{report}"})),
        ("reclassifyOffense", Registered, true, "mutation($c: ID!, $r: ID!) { reclassifyOffense(input: {caseId: $c, reportId: $r, offenseCode: \"2021-166\", decidedOn: \"2022-05-03\", decidedBy: PROSECUTOR, reason: \"review\"}) { id } }", json!({"c": "{case}", "r": "{report}"})),
        ("recordInvestigationOutcome", Registered, true, "mutation($c: ID!, $r: ID!) { recordInvestigationOutcome(input: {caseId: $c, reportId: $r, outcome: SENT_TO_COURT, decidedOn: \"2022-06-03\"}) { id } }", json!({"c": "{case}", "r": "{report}"})),
        ("addDefendant", InCourt, true, "mutation($c: ID!, $r: ID!) { addDefendant(input: {caseId: $c, reportId: $r, gender: FEMALE, role: EXPLOITER, chargedWith: \"2021-166\", chargedOn: \"2022-06-03\"}) { id } }", json!({"c": "{case}", "r": "{report}"})),
        ("recordDefendantVerdict", WithDefendant, true, "mutation($c: ID!, $r: ID!, $d: ID!) { recordDefendantVerdict(input: {caseId: $c, reportId: $r, defendantId: $d, outcome: CONVICTED, decidedOn: \"2022-07-03\", sentenceMonths: 60}) { id } }", json!({"c": "{case}", "r": "{report}", "d": "{defendant}"})),
        ("claimCompensation", InCourt, true, "mutation($c: ID!, $r: ID!) { claimCompensation(input: {caseId: $c, reportId: $r, amount: 500000, currency: \"KGS\", on: \"2022-06-04\"}) { id } }", json!({"c": "{case}", "r": "{report}"})),
        ("recordCompensationAward", Claimed, true, "mutation($c: ID!, $r: ID!) { recordCompensationAward(input: {caseId: $c, reportId: $r, amount: 300000, currency: \"KGS\", on: \"2022-07-04\"}) { id } }", json!({"c": "{case}", "r": "{report}"})),
        ("recordCompensationPayment", Awarded, true, "mutation($c: ID!, $r: ID!) { recordCompensationPayment(input: {caseId: $c, reportId: $r, amount: 1000, currency: \"KGS\", on: \"2022-07-05\"}) { id } }", json!({"c": "{case}", "r": "{report}"})),
        ("recordVerdict", InCourt, true, "mutation($c: ID!, $r: ID!) { recordVerdict(input: {caseId: $c, reportId: $r, outcome: CONVICTED, decidedOn: \"2022-07-03\"}) { id } }", json!({"c": "{case}", "r": "{report}"})),
        ("closeCase", Represented, true, "mutation($c: ID!) { closeCase(input: {caseId: $c, reason: \"done\"}) { id } }", json!({"c": "{case}"})),
        ("reopenCase", Closed, true, "mutation($c: ID!) { reopenCase(input: {caseId: $c, reason: \"appeal\"}) { id } }", json!({"c": "{case}"})),
        ("deadlines", Reported, false, "{ deadlines(dueWithinDays: 30) { caseId dueOn } }", json!({})),
        ("deadlineRules", Reported, false, "{ deadlineRules { id } }", json!({})),
        ("scheduleHearing", InCourt, true, "mutation($c: ID!, $r: ID!) { scheduleHearing(input: {caseId: $c, reportId: $r, on: \"2099-01-10\", court: \"Osh city court\", instance: FIRST_INSTANCE}) { id } }", json!({"c": "{case}", "r": "{report}"})),
        ("recordHearingHeld", WithHearing, true, "mutation($c: ID!, $r: ID!, $h: ID!) { recordHearingHeld(input: {caseId: $c, reportId: $r, hearingId: $h}) { id } }", json!({"c": "{case}", "r": "{report}", "h": "{hearing}"})),
        ("postponeHearing", WithHearing, true, "mutation($c: ID!, $r: ID!, $h: ID!) { postponeHearing(input: {caseId: $c, reportId: $r, hearingId: $h, to: \"2022-06-20\", postponedOn: \"2022-06-05\"}) { id } }", json!({"c": "{case}", "r": "{report}", "h": "{hearing}"})),
        ("fileComplaint", Refused, true, "mutation($c: ID!, $r: ID!) { fileComplaint(input: {caseId: $c, reportId: $r, against: REFUSAL_TO_REGISTER, filedWith: PROSECUTOR, filedOn: \"2022-04-07\"}) { id } }", json!({"c": "{case}", "r": "{report}"})),
        ("decideComplaint", WithComplaint, true, "mutation($c: ID!, $r: ID!, $k: ID!) { decideComplaint(input: {caseId: $c, reportId: $r, complaintId: $k, outcome: UPHELD, decidedOn: \"2022-05-01\"}) { id } }", json!({"c": "{case}", "r": "{report}", "k": "{complaint}"})),
        ("fileAppeal", Decided, true, "mutation($c: ID!, $r: ID!) { fileAppeal(input: {caseId: $c, reportId: $r, instance: APPEAL, filedOn: \"2022-07-10\"}) { id } }", json!({"c": "{case}", "r": "{report}"})),
        ("transferCase", Represented, true, "mutation($c: ID!, $o: ID!) { transferCase(input: {caseId: $c, organizationId: $o, reason: \"client moved\"}) { id } }", json!({"c": "{case}", "o": other_org.clone()})),
        ("recordReferralOutcome", WithReferral, true, "mutation($c: ID!) { recordReferralOutcome(input: {caseId: $c, referral: 0, outcome: SERVICE_PROVIDED, on: \"2020-03-10\"}) { id } }", json!({"c": "{case}"})),
        ("recordVictimStatus", Represented, true, "mutation($c: ID!) { recordVictimStatus(input: {caseId: $c, granted: true, decidedBy: \"Commission\", decidedOn: \"2020-04-01\"}) { id } }", json!({"c": "{case}"})),
        ("setDeadlineRule", Reported, false, "mutation { setDeadlineRule(input: {id: \"matrix-set\", after: VERDICT, days: 5, what: \"test\", article: \"Test\", code: \"Test fixture\", url: \"https://example.org\"}) { id } }", json!({})),
        ("retireDeadlineRule", Reported, false, "mutation { retireDeadlineRule(id: \"matrix-rule\", reason: \"test\") { id } }", json!({})),
        ("eraseClientData", Represented, true, "mutation($c: ID!) { eraseClientData(input: {caseId: $c, reason: \"request\"}) { id } }", json!({"c": "{case}"})),
    ];

    // Every operation the server serves has a row, and no row is stale; the committed SDL
    // says the same.
    let mut served = served_operations(&t).await;
    let committed: BTreeSet<String> = operations("QueryRoot").into_iter().chain(operations("MutationRoot")).collect();
    assert_eq!(served, committed, "the served schema's operations differ from api/schema.graphql's");
    served.insert("Case.identity".into());
    let covered: BTreeSet<String> = rows.iter().map(|r| r.0.to_string()).collect();
    let missing: Vec<_> = served.difference(&covered).collect();
    assert!(missing.is_empty(), "operations without a row in the access matrix: {missing:?}");
    let stale: Vec<_> = covered.difference(&served).collect();
    assert!(stale.is_empty(), "rows for operations the schema no longer has: {stale:?}");

    // One case per state that refused calls (and calls that change nothing) use; an allowed
    // call that changes its case gets a new case in the right state, so that it is valid.
    let mut shared = std::collections::BTreeMap::new();
    for (_, state, _, _, _) in &rows {
        if !shared.contains_key(state) {
            shared.insert(*state, fixture(&t, &w, *state).await);
        }
    }
    let (mut checked, mut allowed_calls, mut forbidden_calls) = (BTreeSet::new(), 0, 0);
    for (op, state, changes_case, query, vars) in &rows {
        for &who in EVERYONE {
            let allowed = allowed(op, who);
            let f = if allowed && *changes_case { fixture(&t, &w, *state).await } else { shared[state].clone() };
            let body = t.gql(&token_of(who), query, with_fixture(vars, &f)).await;
            if allowed {
                assert!(body.get("errors").is_none(), "{op} must succeed for {who:?} (in state {state:?}), got {body}");
                assert!(body["data"].as_object().is_some_and(|d| !d.is_empty()), "{op}: no data for {who:?}: {body}");
                allowed_calls += 1;
            } else if hidden_from(op, who, *state, vars) {
                // A case outside the caller's scope is answered as one that does not exist.
                if matches!(*op, "case" | "Case.identity") {
                    assert!(body.get("errors").is_none() && body["data"]["case"].is_null(), "{op} for {who:?}: {body}");
                } else {
                    let code = body["errors"][0]["extensions"]["code"].as_str();
                    assert_eq!(code, Some("NOT_FOUND"), "{op} must be NOT_FOUND for {who:?}, got {body}");
                    let message = body["errors"][0]["message"].as_str().unwrap_or("");
                    assert_eq!(message, format!("no case {}", f.case), "the same words as for an unknown case");
                }
                forbidden_calls += 1;
            } else {
                let code = body["errors"][0]["extensions"]["code"].as_str();
                assert_eq!(code, Some("FORBIDDEN"), "{op} must be FORBIDDEN for {who:?}, got {body}");
                if *op == "Case.identity" {
                    assert!(body["data"]["case"]["identity"].is_null() || body["data"]["case"].is_null());
                }
                forbidden_calls += 1;
            }
            assert!(checked.insert((op.to_string(), format!("{who:?}"))), "{op} for {who:?} checked twice");
        }
    }
    eprintln!("access matrix: {allowed_calls} allowed calls succeeded, {forbidden_calls} refused");
    // Every operation of the served schema (and the guarded field), for every caller.
    assert_eq!(checked.len(), served.len() * EVERYONE.len(), "not every operation was checked for every caller");
    assert_eq!(checked.len(), allowed_calls + forbidden_calls);
    assert!(allowed_calls >= 60 && forbidden_calls >= 150, "{allowed_calls} allowed, {forbidden_calls} refused");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deactivated_lawyer_no_longer_reaches_their_cases() {
    let mut t = TestApp::spawn(Backend::Sqlite).await;
    let w = world(&t).await;
    let case = represented_case(&t, &w).await;
    let iq = "query($c: ID!) { case(id: $c) { identity { fullName } } }";
    t.ok(&w.lawyer_a, iq, json!({"c": case})).await;
    t.ok(
        &w.coordinator,
        "mutation($l: ID!) { deactivateLawyer(input: {lawyerId: $l, reason: \"suspended\"}) { active } }",
        json!({"l": w.lawyer_a_id}),
    )
    .await;
    assert_eq!(t.err(&w.lawyer_a, iq, json!({"c": case})).await, "FORBIDDEN");
    assert_eq!(t.err(&w.lawyer_a, "{ cases { totalCount } }", json!({})).await, "FORBIDDEN");
    assert_eq!(
        t.err(&w.lawyer_a, "mutation($c: ID!) { recordLegalAction(input: {caseId: $c, kind: CONSULTATION, takenOn: \"2020-03-05\"}) { id } }", json!({"c": case})).await,
        "FORBIDDEN"
    );
    // The client's organisation still sees the case, so it can be reassigned.
    t.ok(&w.intake, iq, json!({"c": case})).await;
    t.ok(
        &w.coordinator,
        "mutation($l: ID!) { reactivateLawyer(lawyerId: $l) { active } }",
        json!({"l": w.lawyer_a_id}),
    )
    .await;
    t.ok(&w.lawyer_a, iq, json!({"c": case})).await;
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_expire_and_me_shows_the_scope() {
    let mut t = TestApp::spawn(Backend::Sqlite).await;
    let w = world(&t).await;
    let me = t.ok(&w.intake, "{ me { role organization { id } lawyer { id } } }", json!({})).await;
    assert_eq!(me["me"]["role"], "INTAKE_WORKER");
    assert_eq!(me["me"]["organization"]["id"], w.org.as_str());
    let me = t.ok(&w.lawyer_a, "{ me { role organization { id } lawyer { id } } }", json!({})).await;
    assert_eq!(me["me"]["lawyer"]["id"], w.lawyer_a_id.as_str());
    assert!(me["me"]["organization"].is_null());

    let expires = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
    let d = t
        .ok(&t.admin, "mutation($e: DateTime) { createAccessToken(input: {name: \"short\", role: AUDITOR, expiresAt: $e}) { token expiresAt } }", json!({"e": expires}))
        .await;
    let short = d["createAccessToken"]["token"].as_str().unwrap().to_string();
    t.ok(&short, "{ me { id } }", json!({})).await;
    tokio::time::sleep(std::time::Duration::from_millis(2200)).await;
    assert_eq!(t.err(&short, "{ me { id } }", json!({})).await, "UNAUTHENTICATED", "an expired token is refused");
    let past = (chrono::Utc::now() - chrono::Duration::seconds(5)).to_rfc3339();
    assert_eq!(
        t.err(&t.admin, "mutation($e: DateTime) { createAccessToken(input: {name: \"x\", role: AUDITOR, expiresAt: $e}) { token } }", json!({"e": past})).await,
        "BAD_USER_INPUT"
    );
    t.stop().await;
}
