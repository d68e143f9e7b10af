//! Scenario fixtures shared by the test binaries: an organisation with its accounts and two
//! lawyers ([`world`]), a case opened with a full identity ([`open_case`]) and the helpers
//! that drive case mutations over GraphQL.

use crate::TestApp;
use serde_json::{json, Value};

/// The case fields most scenarios look at after a mutation.
pub const CASE_FIELDS: &str = "id status version identifiedOn exploitationTypes countryOfExploitation
    organization { id name }
    client { gender ageGroup region citizenship }
    consent { legalAid reportToPolice dataSharing }
    assignedLawyer { id fullName } assignmentAccepted
    policeReports { id filedOn policeUnit registrationRefused currentCategory investigationOutcome verdict
        initialOffense { code category } currentOffense { code category }
        reclassifications { from { code } to { code category } decidedBy reason } }";

/// The identity every fixture case is opened with. Tests search databases, logs and
/// metrics for these strings: none of them may appear in clear anywhere.
pub const CLIENT_NAME: &str = "Zarina Testovna Kadyrova";
pub const CLIENT_CONTACT: &str = "+996 555 000 111";
pub const CLIENT_DOB: &str = "1986-01-15";
pub const CLIENT_DOCUMENT: &str = "AN 7040312";
pub const CLIENT_NARRATIVE: &str = "Recruited in Osh for construction work.\nPassport taken.";

/// Distinctive fragments of the identity above (a leak of any part is a leak).
pub const IDENTITY_SECRETS: &[&str] =
    &[CLIENT_NAME, "Zarina", "Kadyrova", CLIENT_CONTACT, "555 000 111", CLIENT_DOB, CLIENT_DOCUMENT, "Passport taken"];

/// Organisation, accounts and lawyers that every scenario needs.
pub struct World {
    pub org: String,
    pub intake: String,
    pub coordinator: String,
    pub auditor: String,
    pub lawyer_a: String,
    pub lawyer_a_id: String,
    pub lawyer_b: String,
    pub lawyer_b_id: String,
}

/// Creates an account with `role` (and scope) and returns its bearer token.
pub async fn token(t: &TestApp, role: &str, org: Option<&str>, lawyer: Option<&str>) -> String {
    let d = t
        .ok(
            &t.admin,
            "mutation($i: CreateAccessTokenInput!) { createAccessToken(input: $i) { token account { role } } }",
            json!({ "i": { "name": format!("{role} user"), "role": role, "organizationId": org, "lawyerId": lawyer } }),
        )
        .await;
    assert_eq!(d["createAccessToken"]["account"]["role"], role);
    d["createAccessToken"]["token"].as_str().unwrap().to_string()
}

/// Registers an organisation and returns its id.
pub async fn organization(t: &TestApp, name: &str) -> String {
    let d = t
        .ok(
            &t.admin,
            "mutation($n: String!) { registerOrganization(input: {name: $n, kind: NGO}) { id } }",
            json!({ "n": name }),
        )
        .await;
    d["registerOrganization"]["id"].as_str().unwrap().to_string()
}

/// Registers a lawyer (as `coordinator`) and returns its id.
pub async fn lawyer(t: &TestApp, coordinator: &str, name: &str, status: &str) -> String {
    let d = t
        .ok(
            coordinator,
            "mutation($i: RegisterLawyerInput!) { registerLawyer(input: $i) { id fullName status activeCaseload } }",
            json!({ "i": { "fullName": name, "gender": "FEMALE", "status": status, "region": "OSH", "languages": ["ky", "ru"] } }),
        )
        .await;
    assert_eq!(d["registerLawyer"]["activeCaseload"], 0);
    d["registerLawyer"]["id"].as_str().unwrap().to_string()
}

pub async fn world(t: &TestApp) -> World {
    let org = organization(t, "Oasis").await;
    let intake = token(t, "INTAKE_WORKER", Some(&org), None).await;
    let coordinator = token(t, "COORDINATOR", None, None).await;
    let auditor = token(t, "AUDITOR", None, None).await;
    let lawyer_a_id = lawyer(t, &coordinator, "Aida Lawyer", "PROFESSIONAL").await;
    let lawyer_b_id = lawyer(t, &coordinator, "Bakyt Student", "STUDENT").await;
    let lawyer_a = token(t, "LAWYER", None, Some(&lawyer_a_id)).await;
    let lawyer_b = token(t, "LAWYER", None, Some(&lawyer_b_id)).await;
    World { org, intake, coordinator, auditor, lawyer_a, lawyer_a_id, lawyer_b, lawyer_b_id }
}

/// Opens a case for the world's organisation with the full fixture identity. The client
/// consents to legal aid and data sharing, and to reporting when `report_consent`.
pub async fn open_case(t: &TestApp, w: &World, report_consent: bool) -> String {
    let c = open_case_with(t, &w.intake, report_consent, true).await;
    assert_eq!(c["organization"]["id"], w.org.as_str());
    c["id"].as_str().unwrap().to_string()
}

/// Opens a case as `intake` (for that worker's organisation); returns the case.
pub async fn open_case_with(t: &TestApp, intake: &str, report_consent: bool, data_sharing: bool) -> Value {
    let q = format!("mutation($i: OpenIntakeInput!) {{ openIntake(input: $i) {{ {CASE_FIELDS} }} }}");
    let d = t
        .ok(
            intake,
            &q,
            json!({ "i": {
                "identifiedOn": "2020-03-02", "referralSource": "NGO_OUTREACH",
                "exploitationTypes": ["FORCED_LABOR"], "countryOfExploitation": "ru",
                "client": { "fullName": CLIENT_NAME, "gender": "MALE", "ageAtIdentification": 34,
                            "dateOfBirth": CLIENT_DOB, "citizenship": "KG", "region": "JALAL_ABAD",
                            "contact": CLIENT_CONTACT, "documentNumber": CLIENT_DOCUMENT, "narrative": CLIENT_NARRATIVE },
                "consent": { "legalAid": true, "reportToPolice": report_consent, "dataSharing": data_sharing } } }),
        )
        .await;
    let c = &d["openIntake"];
    assert_eq!(c["status"], "AWAITING_LAWYER");
    assert_eq!(c["countryOfExploitation"], "RU");
    assert_eq!(c["client"]["ageGroup"], "ADULT");
    c.clone()
}

/// Runs a case mutation `name(input: $i)` that must succeed; returns the case.
pub async fn case_mutation(t: &TestApp, token: &str, name: &str, input_type: &str, input: Value) -> Value {
    let q = format!("mutation($i: {input_type}!) {{ {name}(input: $i) {{ {CASE_FIELDS} }} }}");
    t.ok(token, &q, json!({ "i": input })).await[name].clone()
}

/// Runs a case mutation that must fail; returns the error code.
pub async fn case_mutation_err(t: &TestApp, token: &str, name: &str, input_type: &str, input: Value) -> String {
    let q = format!("mutation($i: {input_type}!) {{ {name}(input: $i) {{ id }} }}");
    t.err(token, &q, json!({ "i": input })).await
}

/// A legal-action note that, like identity, must only ever be stored sealed.
pub const LEGAL_NOTE: &str = "Client fears the recruiter Bolot, who still holds her passport";

/// Drives `case` through a lawyer's work: lawyer A assigned and accepting, a consultation
/// with a sealed note, a police report registered as fraud and reclassified as
/// trafficking, sent to court. Returns the report id.
pub async fn represent_and_report(t: &TestApp, w: &World, case: &str) -> String {
    case_mutation(
        t,
        &w.coordinator,
        "assignLawyer",
        "AssignLawyerInput",
        json!({"caseId": case, "lawyerId": w.lawyer_a_id}),
    )
    .await;
    let c = case_mutation(t, &w.lawyer_a, "acceptAssignment", "CaseIdInput", json!({"caseId": case})).await;
    assert_eq!(c["status"], "REPRESENTED");
    let d = t
        .ok(
            &w.lawyer_a,
            "mutation($i: RecordLegalActionInput!) { recordLegalAction(input: $i) { legalActions { kind hasNote } } }",
            json!({"i": {"caseId": case, "kind": "CONSULTATION", "takenOn": "2020-03-20", "note": LEGAL_NOTE}}),
        )
        .await;
    assert_eq!(d["recordLegalAction"]["legalActions"][0]["hasNote"], true);
    let c = case_mutation(
        t,
        &w.lawyer_a,
        "filePoliceReport",
        "FilePoliceReportInput",
        json!({"caseId": case, "filedOn": "2020-04-01", "policeUnit": "Osh city police", "referenceNumber": "R-17"}),
    )
    .await;
    let report = c["policeReports"][0]["id"].as_str().unwrap().to_string();
    case_mutation(
        t,
        &w.lawyer_a,
        "recordOffenseRegistration",
        "RecordOffenseRegistrationInput",
        json!({"caseId": case, "reportId": report, "offenseCode": "2021-209", "registeredOn": "2020-04-05"}),
    )
    .await;
    case_mutation(t, &w.lawyer_a, "reclassifyOffense", "ReclassifyOffenseInput",
        json!({"caseId": case, "reportId": report, "offenseCode": "2021-166", "decidedOn": "2020-09-01", "decidedBy": "PROSECUTOR", "reason": "review found recruitment and exploitation"})).await;
    let c = case_mutation(
        t,
        &w.lawyer_a,
        "recordInvestigationOutcome",
        "RecordInvestigationOutcomeInput",
        json!({"caseId": case, "reportId": report, "outcome": "SENT_TO_COURT", "decidedOn": "2021-02-01"}),
    )
    .await;
    assert_eq!(c["policeReports"][0]["currentCategory"], "TIP");
    report
}
