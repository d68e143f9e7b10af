//! The access matrix: every query and mutation of the committed schema, and the guarded
//! field `Case.identity`, × every role × in-scope / out-of-scope, against DESIGN.md §1.
//! An operation added to the schema without a row here fails the test: access is decided,
//! never defaulted.

use serde_json::{json, Value};
use std::collections::BTreeSet;
use tests::fixtures::{case_mutation, open_case, represented_case, token, world};
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
        "lawyers" | "outcomeStats" | "networkStats" | "compensationTotals" | "auditTrail" | "verifyAuditTrail" => {
            matches!(who, Admin | Coordinator | Auditor)
        }
        "organizations" => matches!(who, Admin | Coordinator | Auditor | IntakeIn | IntakeOut),
        "identityReads" => matches!(who, Admin | Auditor),
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
        "closeCase" | "reopenCase" => matches!(who, Coordinator | LawyerIn),
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_every_role_every_scope() {
    let mut t = TestApp::spawn(Backend::Sqlite).await;
    let w = world(&t).await;
    let other_org = t
        .ok(&t.admin, "mutation { registerOrganization(input: {name: \"Other NGO\", kind: NGO}) { id } }", json!({}))
        .await["registerOrganization"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let intake_out = token(&t, "INTAKE_WORKER", Some(&other_org), None).await;
    // The in-scope case: the organisation's, lawyer A's (accepted), with a report.
    let case = represented_case(&t, &w).await;
    let c = case_mutation(
        &t,
        &w.lawyer_a,
        "filePoliceReport",
        "FilePoliceReportInput",
        json!({"caseId": case, "filedOn": "2020-04-01", "policeUnit": "Osh"}),
    )
    .await;
    let report = c["policeReports"][0]["id"].as_str().unwrap().to_string();
    let q = "mutation($i: AddDefendantInput!) { addDefendant(input: $i) { policeReports { defendants { id } } } }";
    let i = json!({"caseId": case, "reportId": report, "gender": "MALE", "role": "RECRUITER"});
    let d = t.ok(&w.lawyer_a, q, json!({ "i": i })).await;
    let defendant = d["addDefendant"]["policeReports"][0]["defendants"][0]["id"].as_str().unwrap().to_string();
    // A case assigned to lawyer A and not yet answered, for accept/decline.
    let pending = open_case(&t, &w, true).await;
    case_mutation(
        &t,
        &w.coordinator,
        "assignLawyer",
        "AssignLawyerInput",
        json!({"caseId": pending, "lawyerId": w.lawyer_a_id}),
    )
    .await;
    let spare = t
        .ok(&t.admin, "mutation { createAccessToken(input: {name: \"spare\", role: AUDITOR}) { tokenId } }", json!({}))
        .await["createAccessToken"]["tokenId"]
        .as_str()
        .unwrap()
        .to_string();

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
    let lb = w.lawyer_b_id.clone();
    // (operation, request, variables), queries first; erasure last (it is irreversible).
    let rows: Vec<(&str, &str, Value)> = vec![
        ("me", "{ me { id role } }", json!({})),
        ("case", "query($c: ID!) { case(id: $c) { id } }", json!({"c": case})),
        ("cases", "{ cases { totalCount } }", json!({})),
        ("lawyer", "query($l: ID!) { lawyer(id: $l) { id } }", json!({"l": lb})),
        ("lawyers", "{ lawyers { id } }", json!({})),
        ("organizations", "{ organizations { id } }", json!({})),
        ("offenses", "{ offenses { code } }", json!({})),
        ("outcomeStats", "{ outcomeStats(groupBy: [YEAR]) { totals { casesOpened } } }", json!({})),
        ("compensationTotals", "{ compensationTotals { currency paid } }", json!({})),
        ("networkStats", "{ networkStats(groupBy: [STATUS]) { total } }", json!({})),
        ("auditTrail", "query($c: ID!) { auditTrail(caseId: $c) { hash } }", json!({"c": case})),
        ("verifyAuditTrail", "query($c: ID) { verifyAuditTrail(caseId: $c) { ok } }", json!({"c": case})),
        ("identityReads", "{ identityReads { role } }", json!({})),
        ("Case.identity", "query($c: ID!) { case(id: $c) { identity(purpose: \"access matrix\") { fullName } } }", json!({"c": case})),
        ("registerOrganization", "mutation { registerOrganization(input: {name: \"M NGO\", kind: NGO}) { id } }", json!({})),
        ("createAccessToken", "mutation { createAccessToken(input: {name: \"m\", role: AUDITOR}) { token } }", json!({})),
        ("revokeAccessToken", "mutation($t: ID!) { revokeAccessToken(tokenId: $t) { id } }", json!({"t": spare})),
        ("addOffense", "mutation { addOffense(input: {edition: \"1999\", article: \"1\", title: \"Test offence\", category: OTHER, source: \"access matrix\"}) { code } }", json!({})),
        ("retireOffense", "mutation { retireOffense(input: {code: \"1999-1\", reason: \"test\"}) { code } }", json!({})),
        ("registerLawyer", "mutation { registerLawyer(input: {fullName: \"M Lawyer\", gender: MALE, status: STUDENT, region: TALAS}) { id } }", json!({})),
        ("recordLawyerTraining", "mutation($l: ID!) { recordLawyerTraining(input: {lawyerId: $l, course: \"TIP\", completedOn: \"2020-01-01\"}) { id } }", json!({"l": lb})),
        ("setLawyerCapacity", "mutation($l: ID!) { setLawyerCapacity(input: {lawyerId: $l, maxActiveCases: 20}) { id } }", json!({"l": lb})),
        ("deactivateLawyer", "mutation($l: ID!) { deactivateLawyer(input: {lawyerId: $l, reason: \"leave\"}) { id } }", json!({"l": lb})),
        ("reactivateLawyer", "mutation($l: ID!) { reactivateLawyer(lawyerId: $l) { id } }", json!({"l": lb})),
        ("assignLawyer", "mutation($c: ID!, $l: ID!) { assignLawyer(input: {caseId: $c, lawyerId: $l}) { id } }", json!({"c": case, "l": w.lawyer_a_id})),
        ("openIntake", "mutation { openIntake(input: {identifiedOn: \"2020-01-01\", referralSource: HOTLINE, exploitationTypes: [SEXUAL], client: {fullName: \"Matrix Client\", gender: FEMALE}, consent: {legalAid: true, reportToPolice: true, dataSharing: false}}) { id } }", json!({})),
        ("updateClientIdentity", "mutation($c: ID!) { updateClientIdentity(input: {caseId: $c, identity: {fullName: \"Zarina Testovna Kadyrova\"}}) { id } }", json!({"c": case})),
        ("giveConsent", "mutation($c: ID!) { giveConsent(input: {caseId: $c, scopes: [DATA_SHARING], on: \"2020-03-03\"}) { id } }", json!({"c": case})),
        ("withdrawConsent", "mutation($c: ID!) { withdrawConsent(input: {caseId: $c, scopes: [LEGAL_AID], on: \"2020-03-03\"}) { id } }", json!({"c": case})),
        ("referToService", "mutation($c: ID!) { referToService(input: {caseId: $c, service: SHELTER, referredOn: \"2020-03-03\"}) { id } }", json!({"c": case})),
        ("acceptAssignment", "mutation($c: ID!) { acceptAssignment(input: {caseId: $c}) { id } }", json!({"c": pending})),
        ("declineAssignment", "mutation($c: ID!) { declineAssignment(input: {caseId: $c, reason: \"busy\"}) { id } }", json!({"c": pending})),
        ("recordLegalAction", "mutation($c: ID!) { recordLegalAction(input: {caseId: $c, kind: CONSULTATION, takenOn: \"2020-03-05\"}) { id } }", json!({"c": case})),
        ("filePoliceReport", "mutation($c: ID!) { filePoliceReport(input: {caseId: $c, filedOn: \"2020-04-02\", policeUnit: \"Osh\"}) { id } }", json!({"c": case})),
        ("recordOffenseRegistration", "mutation($c: ID!, $r: ID!) { recordOffenseRegistration(input: {caseId: $c, reportId: $r, offenseCode: \"2021-209\", registeredOn: \"2022-04-03\"}) { id } }", json!({"c": case, "r": report})),
        ("recordRegistrationRefused", "mutation($c: ID!, $r: ID!) { recordRegistrationRefused(input: {caseId: $c, reportId: $r, decidedOn: \"2020-04-03\", reason: \"none\"}) { id } }", json!({"c": case, "r": report})),
        ("reclassifyOffense", "mutation($c: ID!, $r: ID!) { reclassifyOffense(input: {caseId: $c, reportId: $r, offenseCode: \"2021-166\", decidedOn: \"2022-05-03\", decidedBy: PROSECUTOR, reason: \"review\"}) { id } }", json!({"c": case, "r": report})),
        ("recordInvestigationOutcome", "mutation($c: ID!, $r: ID!) { recordInvestigationOutcome(input: {caseId: $c, reportId: $r, outcome: SENT_TO_COURT, decidedOn: \"2020-06-03\"}) { id } }", json!({"c": case, "r": report})),
        ("addDefendant", "mutation($c: ID!, $r: ID!) { addDefendant(input: {caseId: $c, reportId: $r, gender: FEMALE, role: EXPLOITER, chargedWith: \"2021-166\", chargedOn: \"2022-06-03\"}) { id } }", json!({"c": case, "r": report})),
        ("recordDefendantVerdict", "mutation($c: ID!, $r: ID!, $d: ID!) { recordDefendantVerdict(input: {caseId: $c, reportId: $r, defendantId: $d, outcome: CONVICTED, decidedOn: \"2022-07-03\", sentenceMonths: 60}) { id } }", json!({"c": case, "r": report, "d": defendant})),
        ("claimCompensation", "mutation($c: ID!, $r: ID!) { claimCompensation(input: {caseId: $c, reportId: $r, amount: 500000, currency: \"KGS\", on: \"2020-06-04\"}) { id } }", json!({"c": case, "r": report})),
        ("recordCompensationAward", "mutation($c: ID!, $r: ID!) { recordCompensationAward(input: {caseId: $c, reportId: $r, amount: 300000, currency: \"KGS\", on: \"2020-07-04\"}) { id } }", json!({"c": case, "r": report})),
        ("recordCompensationPayment", "mutation($c: ID!, $r: ID!) { recordCompensationPayment(input: {caseId: $c, reportId: $r, amount: 1000, currency: \"KGS\", on: \"2020-07-05\"}) { id } }", json!({"c": case, "r": report})),
        ("recordVerdict", "mutation($c: ID!, $r: ID!) { recordVerdict(input: {caseId: $c, reportId: $r, outcome: CONVICTED, decidedOn: \"2020-07-03\"}) { id } }", json!({"c": case, "r": report})),
        ("closeCase", "mutation($c: ID!) { closeCase(input: {caseId: $c, reason: \"done\"}) { id } }", json!({"c": case})),
        ("reopenCase", "mutation($c: ID!) { reopenCase(input: {caseId: $c, reason: \"appeal\"}) { id } }", json!({"c": case})),
        ("eraseClientData", "mutation($c: ID!) { eraseClientData(input: {caseId: $c, reason: \"request\"}) { id } }", json!({"c": case})),
    ];

    // Every operation of the committed schema has a row (and no row is stale).
    let mut in_schema: BTreeSet<String> =
        operations("QueryRoot").into_iter().chain(operations("MutationRoot")).collect();
    assert!(in_schema.len() >= 40, "the schema parser found too few operations: {in_schema:?}");
    in_schema.insert("Case.identity".into());
    let covered: BTreeSet<String> = rows.iter().map(|r| r.0.to_string()).collect();
    let missing: Vec<_> = in_schema.difference(&covered).collect();
    assert!(missing.is_empty(), "operations without a row in the access matrix: {missing:?}");
    let stale: Vec<_> = covered.difference(&in_schema).collect();
    assert!(stale.is_empty(), "rows for operations the schema no longer has: {stale:?}");

    let mut checked = 0;
    for (op, query, vars) in &rows {
        for &who in EVERYONE {
            let body = t.gql(&token_of(who), query, vars.clone()).await;
            let code = body["errors"][0]["extensions"]["code"].as_str().map(str::to_string);
            if allowed(op, who) {
                assert!(
                    !matches!(code.as_deref(), Some("FORBIDDEN" | "UNAUTHENTICATED")),
                    "{op} must be allowed for {who:?}, got {body}"
                );
            } else {
                assert_eq!(code.as_deref(), Some("FORBIDDEN"), "{op} must be FORBIDDEN for {who:?}, got {body}");
                if *op == "Case.identity" {
                    assert!(body["data"]["case"]["identity"].is_null() || body["data"]["case"].is_null());
                }
            }
            checked += 1;
        }
    }
    assert_eq!(checked, rows.len() * EVERYONE.len());
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
