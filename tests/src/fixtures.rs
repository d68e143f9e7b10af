//! Fixtures shared by the black-box tests: an organisation with its accounts and lawyers,
//! and a case opened for a client whose identity must never leak. They work on any
//! [`Server`]: the in-process [`crate::TestApp`] or a `probono serve` process ([`crate::Remote`]).

use crate::Server;
use serde_json::{json, Value};

pub const CASE_FIELDS: &str = "id status version identifiedOn exploitationTypes countryOfExploitation
    organization { id name }
    client { gender ageGroup region citizenship }
    consent { legalAid reportToPolice dataSharing }
    assignedLawyer { id fullName } assignmentAccepted
    policeReports { id filedOn policeUnit registrationRefused currentCategory investigationOutcome verdict
        initialOffense { code category } currentOffense { code category }
        reclassifications { from { code } to { code category } decidedBy reason } }";

pub const CLIENT_NAME: &str = "Zarina Testovna Kadyrova";

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

pub async fn token(t: &impl Server, role: &str, org: Option<&str>, lawyer: Option<&str>) -> String {
    let d = t
        .client()
        .ok(
            t.admin(),
            "mutation($i: CreateAccessTokenInput!) { createAccessToken(input: $i) { token account { id role approved } } }",
            json!({ "i": { "name": format!("{role} user"), "role": role, "organizationId": org, "lawyerId": lawyer } }),
        )
        .await;
    let account = &d["createAccessToken"]["account"];
    assert_eq!(account["role"], role);
    if account["approved"] == false {
        approve(t, account["id"].as_str().unwrap(), role).await;
    }
    d["createAccessToken"]["token"].as_str().unwrap().to_string()
}

/// Approves an account as a second person, as the rules ask: a COORDINATOR a lawyer's
/// account, a second ADMIN (made here by the first) the others.
pub async fn approve(t: &impl Server, account_id: &str, role: &str) {
    let approver_role = if role == "LAWYER" { "COORDINATOR" } else { "ADMIN" };
    let d = t
        .client()
        .ok(
            t.admin(),
            "mutation($i: CreateAccessTokenInput!) { createAccessToken(input: $i) { token } }",
            json!({ "i": { "name": format!("approving {approver_role}"), "role": approver_role } }),
        )
        .await;
    let approver = d["createAccessToken"]["token"].as_str().unwrap().to_string();
    let d = t
        .client()
        .ok(&approver, "mutation($a: ID!) { approveAccount(accountId: $a) { approved } }", json!({ "a": account_id }))
        .await;
    assert_eq!(d["approveAccount"]["approved"], true);
}

pub async fn world(t: &impl Server) -> World {
    let d = t
        .client()
        .ok(
            t.admin(),
            "mutation { registerOrganization(input: {name: \"Oasis\", kind: NGO}) { id name kind } }",
            json!({}),
        )
        .await;
    let org = d["registerOrganization"]["id"].as_str().unwrap().to_string();
    let intake = token(t, "INTAKE_WORKER", Some(&org), None).await;
    let coordinator = token(t, "COORDINATOR", None, None).await;
    let auditor = token(t, "AUDITOR", None, None).await;
    let mut ids = vec![];
    for (name, status) in [("Aida Lawyer", "PROFESSIONAL"), ("Bakyt Student", "STUDENT")] {
        let d = t
            .client()
            .ok(
                &coordinator,
                "mutation($i: RegisterLawyerInput!) { registerLawyer(input: $i) { id fullName status activeCaseload } }",
                json!({ "i": { "fullName": name, "gender": "FEMALE", "status": status, "region": "OSH", "languages": ["ky", "ru"] } }),
            )
            .await;
        assert_eq!(d["registerLawyer"]["activeCaseload"], 0);
        ids.push(d["registerLawyer"]["id"].as_str().unwrap().to_string());
    }
    let lawyer_a = token(t, "LAWYER", None, Some(&ids[0])).await;
    let lawyer_b = token(t, "LAWYER", None, Some(&ids[1])).await;
    World {
        org,
        intake,
        coordinator,
        auditor,
        lawyer_a,
        lawyer_a_id: ids[0].clone(),
        lawyer_b,
        lawyer_b_id: ids[1].clone(),
    }
}

pub async fn open_case(t: &impl Server, w: &World, report_consent: bool) -> String {
    let q = format!("mutation($i: OpenIntakeInput!) {{ openIntake(input: $i) {{ {CASE_FIELDS} }} }}");
    let d = t
        .client()
        .ok(
            &w.intake,
            &q,
            json!({ "i": {
                "identifiedOn": "2020-03-02", "referralSource": "NGO_OUTREACH",
                "exploitationTypes": ["FORCED_LABOR"], "countryOfExploitation": "ru",
                "client": { "fullName": CLIENT_NAME, "gender": "MALE", "ageAtIdentification": 34,
                            "dateOfBirth": "1986-01-15", "citizenship": "KG", "region": "JALAL_ABAD",
                            "contact": "+996 555 000 111", "narrative": "Recruited in Osh for construction work.\nPassport taken." },
                "consent": { "legalAid": true, "reportToPolice": report_consent, "dataSharing": true } } }),
        )
        .await;
    let c = &d["openIntake"];
    assert_eq!(c["status"], "AWAITING_LAWYER");
    assert_eq!(c["countryOfExploitation"], "RU");
    assert_eq!(c["client"]["ageGroup"], "ADULT");
    assert_eq!(c["organization"]["id"], w.org.as_str());
    c["id"].as_str().unwrap().to_string()
}

pub async fn case_mutation(t: &impl Server, token: &str, name: &str, input_type: &str, input: Value) -> Value {
    let q = format!("mutation($i: {input_type}!) {{ {name}(input: $i) {{ {CASE_FIELDS} }} }}");
    t.client().ok(token, &q, json!({ "i": input })).await[name].clone()
}

pub async fn case_mutation_err(t: &impl Server, token: &str, name: &str, input_type: &str, input: Value) -> String {
    let q = format!("mutation($i: {input_type}!) {{ {name}(input: $i) {{ id }} }}");
    t.client().err(token, &q, json!({ "i": input })).await
}

/// A case of the organisation (consent to report given) assigned to lawyer A, who accepted.
pub async fn represented_case(t: &impl Server, w: &World) -> String {
    let case = open_case(t, w, true).await;
    case_mutation(
        t,
        &w.coordinator,
        "assignLawyer",
        "AssignLawyerInput",
        json!({"caseId": case, "lawyerId": w.lawyer_a_id}),
    )
    .await;
    case_mutation(t, &w.lawyer_a, "acceptAssignment", "CaseIdInput", json!({"caseId": case})).await;
    case
}
