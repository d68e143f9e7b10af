//! The access matrix (DESIGN §5): every query and mutation of the committed schema, and the
//! guarded field `Case.identity`, asked by every role — intake workers and lawyers both in
//! and out of the case's scope — with the outcome the policy (DESIGN §1, `api::authz`)
//! promises: allowed, or exactly `FORBIDDEN`. An allowed request may still meet a domain
//! rule (`RULE_VIOLATION`, `NOT_FOUND`, `CONFLICT`), never `FORBIDDEN`/`UNAUTHENTICATED`,
//! and never `BAD_USER_INPUT` (which would mean this table's request is malformed).
//!
//! The test fails when the schema has an operation without a row here: a new operation
//! cannot ship without someone deciding who may use it. Also here: token expiry,
//! revocation, and `me` showing the caller's role and scope. SQLite only: access control
//! does not depend on the store.

use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::Duration;
use tests::fixtures::*;
use tests::{Backend, TestApp};

/// Who asks. `…In` are in the case's scope (the case's organisation, its assigned lawyer);
/// `…Out` are the same roles without that relation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    Admin,
    Coordinator,
    Auditor,
    IntakeIn,
    IntakeOut,
    LawyerIn,
    LawyerOut,
}

use Who::*;

const EVERYONE: &[Who] = &[Admin, Coordinator, Auditor, IntakeIn, IntakeOut, LawyerIn, LawyerOut];
const ADMIN: &[Who] = &[Admin];
const COORDINATOR: &[Who] = &[Coordinator];
const OVERSIGHT: &[Who] = &[Admin, Coordinator, Auditor];
const IN_SCOPE: &[Who] = &[IntakeIn, LawyerIn];
const ASSIGNED_LAWYER: &[Who] = &[LawyerIn];

/// Everything the requests refer to.
struct Fx {
    tokens: Vec<(Who, String)>,
    org_a: String,
    /// Org A's case, lawyer A assigned and accepted, client consents to everything; one
    /// police report registered as fraud.
    case: String,
    report: String,
    /// Like `case`, but the client did not consent to data sharing.
    private_case: String,
    /// Cases for the operations that end something: erasure, closing.
    erase_case: String,
    close_case: String,
    lawyer_a: String,
    /// A lawyer whom network management may change freely.
    lawyer_c: String,
    /// A token that revocation may revoke.
    spare_token_id: String,
}

impl Fx {
    fn token(&self, who: Who) -> &str {
        &self.tokens.iter().find(|(w, _)| *w == who).expect("a token for every subject").1
    }
}

type Build = fn(&Fx) -> (String, Value);

struct Row {
    /// `QueryRoot.field`, `MutationRoot.field` or `Type.field` (a guarded field).
    op: &'static str,
    allowed: &'static [Who],
    build: Build,
    /// Added on another branch: checked once it is in the schema, skipped until then.
    pending: bool,
}

fn row(op: &'static str, allowed: &'static [Who], build: Build) -> Row {
    Row { op, allowed, build, pending: false }
}

fn pending(op: &'static str, allowed: &'static [Who], build: Build) -> Row {
    Row { op, allowed, build, pending: true }
}

fn q(query: &str, vars: Value) -> (String, Value) {
    (query.to_string(), vars)
}

/// A mutation `name(input: $i)` returning something with an `id`.
fn m(name: &str, input_type: &str, input: Value) -> (String, Value) {
    (format!("mutation($i: {input_type}!) {{ {name}(input: $i) {{ id }} }}"), json!({ "i": input }))
}

fn rows() -> Vec<Row> {
    vec![
        // ------------------------------------------------------------ queries
        row("QueryRoot.me", EVERYONE, |_| q("{ me { id role } }", json!({}))),
        row("QueryRoot.case", &[Admin, Coordinator, Auditor, IntakeIn, LawyerIn], |f| {
            q("query($id: ID!) { case(id: $id) { id status } }", json!({"id": f.case}))
        }),
        // Everyone may list; the list itself is narrowed to the caller's scope.
        row("QueryRoot.cases", EVERYONE, |_| q("{ cases { totalCount } }", json!({}))),
        row("QueryRoot.lawyer", EVERYONE, |f| {
            q("query($id: ID!) { lawyer(id: $id) { id fullName } }", json!({"id": f.lawyer_a}))
        }),
        row("QueryRoot.lawyers", OVERSIGHT, |_| q("{ lawyers { id } }", json!({}))),
        row("QueryRoot.organizations", &[Admin, Coordinator, Auditor, IntakeIn, IntakeOut], |_| {
            q("{ organizations { id } }", json!({}))
        }),
        row("QueryRoot.offenses", EVERYONE, |_| q("{ offenses { code } }", json!({}))),
        row("QueryRoot.identityReads", &[Admin, Auditor], |f| {
            q("query($c: ID) { identityReads(caseId: $c) { totalCount } }", json!({"c": f.case}))
        }),
        pending("QueryRoot.outcomeStats", OVERSIGHT, |_| {
            q("{ outcomeStats(groupBy: [YEAR]) { totals { casesOpened } } }", json!({}))
        }),
        pending("QueryRoot.networkStats", OVERSIGHT, |_| q("{ networkStats(groupBy: [GENDER]) { total } }", json!({}))),
        pending("QueryRoot.auditTrail", OVERSIGHT, |f| {
            q("query($c: ID!) { auditTrail(caseId: $c) { sequence hash } }", json!({"c": f.case}))
        }),
        pending("QueryRoot.verifyAuditTrail", OVERSIGHT, |f| {
            q("query($c: ID) { verifyAuditTrail(caseId: $c) { ok checkedEvents } }", json!({"c": f.case}))
        }),
        // ------------------------------------------------------------ guarded fields
        // Identity: the client's organisation and assigned lawyer; a coordinator only with
        // the client's consent to data sharing; auditors and admins never.
        row("Case.identity", &[Coordinator, IntakeIn, LawyerIn], |f| {
            q(
                "query($id: ID!) { case(id: $id) { identity(purpose: \"access matrix\") { fullName } } }",
                json!({"id": f.case}),
            )
        }),
        row("Case.identity (no data-sharing consent)", IN_SCOPE, |f| {
            q(
                "query($id: ID!) { case(id: $id) { identity(purpose: \"access matrix\") { fullName } } }",
                json!({"id": f.private_case}),
            )
        }),
        // ------------------------------------------------------------ administration
        row("MutationRoot.registerOrganization", ADMIN, |_| {
            m(
                "registerOrganization",
                "RegisterOrganizationInput",
                json!({"name": "Legal Clinic", "kind": "LEGAL_CLINIC"}),
            )
        }),
        row("MutationRoot.createAccessToken", ADMIN, |_| {
            (
                "mutation($i: CreateAccessTokenInput!) { createAccessToken(input: $i) { tokenId } }".into(),
                json!({"i": {"name": "matrix auditor", "role": "AUDITOR"}}),
            )
        }),
        row("MutationRoot.revokeAccessToken", ADMIN, |f| {
            q("mutation($t: ID!) { revokeAccessToken(tokenId: $t) { id } }", json!({"t": f.spare_token_id}))
        }),
        row("MutationRoot.addOffense", ADMIN, |_| {
            (
                "mutation($i: AddOffenseInput!) { addOffense(input: $i) { code } }".into(),
                json!({"i": {"edition": "2021", "article": "999", "title": "Matrix test offence", "category": "OTHER", "source": "access matrix test"}}),
            )
        }),
        row("MutationRoot.retireOffense", ADMIN, |_| {
            (
                "mutation($i: RetireOffenseInput!) { retireOffense(input: $i) { code } }".into(),
                json!({"i": {"code": "2021-999", "reason": "added by the matrix test"}}),
            )
        }),
        row("MutationRoot.eraseClientData", ADMIN, |f| {
            m("eraseClientData", "CaseReasonInput", json!({"caseId": f.erase_case, "reason": "client request"}))
        }),
        // ------------------------------------------------------------ the lawyer network
        row("MutationRoot.registerLawyer", COORDINATOR, |_| {
            m(
                "registerLawyer",
                "RegisterLawyerInput",
                json!({"fullName": "Nurlan New", "gender": "MALE", "status": "STUDENT", "region": "NARYN"}),
            )
        }),
        row("MutationRoot.recordLawyerTraining", COORDINATOR, |f| {
            m(
                "recordLawyerTraining",
                "LawyerTrainingInput",
                json!({"lawyerId": f.lawyer_c, "course": "TIP law", "completedOn": "2020-01-10"}),
            )
        }),
        row("MutationRoot.setLawyerCapacity", COORDINATOR, |f| {
            m("setLawyerCapacity", "LawyerCapacityInput", json!({"lawyerId": f.lawyer_c, "maxActiveCases": 5}))
        }),
        row("MutationRoot.deactivateLawyer", COORDINATOR, |f| {
            m("deactivateLawyer", "LawyerReasonInput", json!({"lawyerId": f.lawyer_c, "reason": "on leave"}))
        }),
        row("MutationRoot.reactivateLawyer", COORDINATOR, |f| {
            q("mutation($l: ID!) { reactivateLawyer(lawyerId: $l) { id } }", json!({"l": f.lawyer_c}))
        }),
        // Assigning the lawyer already assigned breaks a rule but leaves the scope as it is.
        row("MutationRoot.assignLawyer", COORDINATOR, |f| {
            m("assignLawyer", "AssignLawyerInput", json!({"caseId": f.case, "lawyerId": f.lawyer_a}))
        }),
        // ------------------------------------------------------------ cases
        // For the case's own organisation only (the others are refused, not redirected).
        row("MutationRoot.openIntake", &[IntakeIn], |f| {
            m(
                "openIntake",
                "OpenIntakeInput",
                json!({"organizationId": f.org_a, "identifiedOn": "2020-05-01", "referralSource": "HOTLINE",
                       "exploitationTypes": ["SEXUAL"], "client": {"fullName": "Matrix Client", "gender": "FEMALE"},
                       "consent": {"legalAid": true, "reportToPolice": false, "dataSharing": false}}),
            )
        }),
        row("MutationRoot.updateClientIdentity", IN_SCOPE, |f| {
            m(
                "updateClientIdentity",
                "UpdateClientIdentityInput",
                json!({"caseId": f.case, "identity": {"fullName": CLIENT_NAME, "contact": CLIENT_CONTACT}}),
            )
        }),
        row("MutationRoot.giveConsent", IN_SCOPE, |f| {
            m(
                "giveConsent",
                "ConsentChangeInput",
                json!({"caseId": f.case, "scopes": ["LEGAL_AID"], "on": "2020-06-01"}),
            )
        }),
        row("MutationRoot.withdrawConsent", IN_SCOPE, |f| {
            m(
                "withdrawConsent",
                "ConsentChangeInput",
                json!({"caseId": f.case, "scopes": ["LEGAL_AID"], "on": "2020-06-02"}),
            )
        }),
        row("MutationRoot.referToService", IN_SCOPE, |f| {
            m(
                "referToService",
                "ReferToServiceInput",
                json!({"caseId": f.case, "service": "SHELTER", "referredOn": "2020-06-03"}),
            )
        }),
        row("MutationRoot.acceptAssignment", ASSIGNED_LAWYER, |f| {
            m("acceptAssignment", "CaseIdInput", json!({"caseId": f.case}))
        }),
        row("MutationRoot.declineAssignment", ASSIGNED_LAWYER, |f| {
            m("declineAssignment", "CaseReasonInput", json!({"caseId": f.case, "reason": "too late to decline"}))
        }),
        row("MutationRoot.recordLegalAction", ASSIGNED_LAWYER, |f| {
            (
                "mutation($i: RecordLegalActionInput!) { recordLegalAction(input: $i) { id } }".into(),
                json!({"i": {"caseId": f.case, "kind": "CONSULTATION", "takenOn": "2020-06-04", "note": LEGAL_NOTE}}),
            )
        }),
        row("MutationRoot.filePoliceReport", ASSIGNED_LAWYER, |f| {
            m(
                "filePoliceReport",
                "FilePoliceReportInput",
                json!({"caseId": f.case, "filedOn": "2020-06-05", "policeUnit": "Bishkek, Sverdlovsky district"}),
            )
        }),
        row("MutationRoot.recordOffenseRegistration", ASSIGNED_LAWYER, |f| {
            m(
                "recordOffenseRegistration",
                "RecordOffenseRegistrationInput",
                json!({"caseId": f.case, "reportId": f.report, "offenseCode": "2021-209", "registeredOn": "2020-04-05"}),
            )
        }),
        row("MutationRoot.recordRegistrationRefused", ASSIGNED_LAWYER, |f| {
            m(
                "recordRegistrationRefused",
                "RecordRegistrationRefusedInput",
                json!({"caseId": f.case, "reportId": f.report, "decidedOn": "2020-04-06", "reason": "no grounds"}),
            )
        }),
        row("MutationRoot.reclassifyOffense", ASSIGNED_LAWYER, |f| {
            m(
                "reclassifyOffense",
                "ReclassifyOffenseInput",
                json!({"caseId": f.case, "reportId": f.report, "offenseCode": "2021-166", "decidedOn": "2020-07-01",
                       "decidedBy": "PROSECUTOR", "reason": "review"}),
            )
        }),
        row("MutationRoot.recordInvestigationOutcome", ASSIGNED_LAWYER, |f| {
            m(
                "recordInvestigationOutcome",
                "RecordInvestigationOutcomeInput",
                json!({"caseId": f.case, "reportId": f.report, "outcome": "SENT_TO_COURT", "decidedOn": "2020-08-01"}),
            )
        }),
        row("MutationRoot.recordVerdict", ASSIGNED_LAWYER, |f| {
            m(
                "recordVerdict",
                "RecordVerdictInput",
                json!({"caseId": f.case, "reportId": f.report, "outcome": "CONVICTED", "decidedOn": "2020-12-01"}),
            )
        }),
        row("MutationRoot.closeCase", &[Coordinator, LawyerIn], |f| {
            m("closeCase", "CaseReasonInput", json!({"caseId": f.close_case, "reason": "client moved abroad"}))
        }),
        row("MutationRoot.reopenCase", &[Coordinator, LawyerIn], |f| {
            m("reopenCase", "CaseReasonInput", json!({"caseId": f.close_case, "reason": "client returned"}))
        }),
    ]
}

/// The fields of `type <name> { … }` in an SDL text (doc strings and the lines of
/// multi-line argument lists skipped).
fn root_fields(sdl: &str, type_name: &str) -> BTreeSet<String> {
    let header = format!("type {type_name} {{");
    let start = sdl.find(&header).unwrap_or_else(|| panic!("no `{header}` in the schema"));
    let mut fields = BTreeSet::new();
    let mut in_doc = false;
    let mut parens = 0i32;
    for line in sdl[start + header.len()..].lines() {
        let l = line.trim();
        if let Some(rest) = l.strip_prefix("\"\"\"") {
            // A one-line doc string opens and closes on the same line.
            if !(rest.len() >= 3 && rest.ends_with("\"\"\"")) {
                in_doc = !in_doc;
            }
            continue;
        }
        if in_doc || l.is_empty() {
            continue;
        }
        if parens == 0 {
            if l == "}" {
                break;
            }
            let name: String = l.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            assert!(!name.is_empty(), "cannot read a field from {l:?}");
            fields.insert(name);
        }
        parens += l.matches('(').count() as i32 - l.matches(')').count() as i32;
    }
    fields
}

/// The root operation types the schema declares (`schema { query: … mutation: … }`).
fn root_types(sdl: &str) -> Vec<String> {
    let start = sdl.find("schema {").expect("a schema block");
    let block = &sdl[start..start + sdl[start..].find('}').expect("the end of the schema block")];
    block
        .lines()
        .filter_map(|l| l.trim().split_once(':'))
        .filter(|(kind, _)| matches!(kind.trim(), "query" | "mutation" | "subscription"))
        .map(|(_, name)| name.trim().to_string())
        .collect()
}

/// Every operation of the schema, as `Root.field`.
fn operations(sdl: &str) -> BTreeSet<String> {
    let roots = root_types(sdl);
    assert_eq!(roots, ["QueryRoot", "MutationRoot"], "the rows below name these root types");
    roots.iter().flat_map(|root| root_fields(sdl, root).into_iter().map(move |f| format!("{root}.{f}"))).collect()
}

fn committed_schema() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../api/schema.graphql"))
        .expect("api/schema.graphql is committed")
}

#[test]
fn every_operation_of_the_committed_schema_has_a_row() {
    let sdl = committed_schema();
    let ops = operations(&sdl);
    assert!(ops.len() > 30, "the schema parser found only {ops:?}");
    let rows = rows();
    let covered: BTreeSet<&str> = rows.iter().map(|r| r.op).collect();
    let missing: Vec<&String> = ops.iter().filter(|o| !covered.contains(o.as_str())).collect();
    assert!(missing.is_empty(), "operations without a row in the access matrix (decide who may use them): {missing:?}");
    // A row for an operation that is gone is stale, unless it is still to be merged.
    for r in &rows {
        let root = r.op.split('.').next().unwrap_or_default();
        if (root == "QueryRoot" || root == "MutationRoot") && !r.pending {
            assert!(ops.contains(r.op), "the matrix has a row for {}, which the schema lacks", r.op);
        }
    }
    assert!(root_fields(&sdl, "Case").contains("identity"), "the guarded field Case.identity has its rows");
}

async fn fixture(t: &TestApp) -> Fx {
    let w = world(t).await;
    let org_b = organization(t, "Crisis Centre").await;
    let intake_out = token(t, "INTAKE_WORKER", Some(&org_b), None).await;
    let lawyer_c = lawyer(t, &w.coordinator, "Cholpon Spare", "PROFESSIONAL").await;
    let case = open_case(t, &w, true).await;
    let report = represent_and_report(t, &w, &case).await;
    let mut others = Vec::new();
    for data_sharing in [false, true, true] {
        let c = open_case_with(t, &w.intake, true, data_sharing).await["id"].as_str().unwrap().to_string();
        case_mutation(
            t,
            &w.coordinator,
            "assignLawyer",
            "AssignLawyerInput",
            json!({"caseId": c, "lawyerId": w.lawyer_a_id}),
        )
        .await;
        case_mutation(t, &w.lawyer_a, "acceptAssignment", "CaseIdInput", json!({"caseId": c})).await;
        others.push(c);
    }
    let spare = t
        .ok(&t.admin, "mutation { createAccessToken(input: {name: \"spare\", role: AUDITOR}) { tokenId } }", json!({}))
        .await["createAccessToken"]["tokenId"]
        .as_str()
        .unwrap()
        .to_string();
    Fx {
        tokens: vec![
            (Admin, t.admin.clone()),
            (Coordinator, w.coordinator.clone()),
            (Auditor, w.auditor.clone()),
            (IntakeIn, w.intake.clone()),
            (IntakeOut, intake_out),
            (LawyerIn, w.lawyer_a.clone()),
            (LawyerOut, w.lawyer_b.clone()),
        ],
        org_a: w.org.clone(),
        case,
        report,
        private_case: others[0].clone(),
        erase_case: others[1].clone(),
        close_case: others[2].clone(),
        lawyer_a: w.lawyer_a_id.clone(),
        lawyer_c,
        spare_token_id: spare,
    }
}

/// The outcome codes of a response: every error's `extensions.code`.
fn codes(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|es| es.iter().map(|e| e["extensions"]["code"].as_str().unwrap_or("<none>").to_string()).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_by_every_role_in_and_out_of_scope() {
    let t = TestApp::spawn(Backend::Sqlite).await;
    let f = fixture(&t).await;
    let present = operations(&committed_schema());
    let mut failures = Vec::new();
    let mut checked = 0;
    for r in rows() {
        if r.pending && !present.contains(r.op) {
            eprintln!("access matrix: {} is not in this schema yet; its row is skipped", r.op);
            continue;
        }
        let (query, vars) = (r.build)(&f);
        for &who in EVERYONE {
            let body = t.gql(f.token(who), &query, vars.clone()).await;
            let codes = codes(&body);
            checked += 1;
            if r.allowed.contains(&who) {
                let refused = codes.iter().any(|c| !matches!(c.as_str(), "RULE_VIOLATION" | "NOT_FOUND" | "CONFLICT"));
                if refused {
                    failures.push(format!("{} by {who:?}: expected allowed, got {codes:?}: {body}", r.op));
                }
            } else if codes.first().map(String::as_str) != Some("FORBIDDEN") || codes.len() != 1 {
                failures.push(format!("{} by {who:?}: expected exactly FORBIDDEN, got {codes:?}: {body}", r.op));
            } else if !body["data"].is_null() {
                // Whatever part of the data came back, the refused field is not in it.
                let text = body["data"].to_string();
                if text.contains(CLIENT_NAME) || text.contains("\"identity\":{") {
                    failures.push(format!("{} by {who:?}: refused, yet data came back: {body}", r.op));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of {checked} access checks failed:\n{}", failures.len(), failures.join("\n"));
    // Allowed means the operation really ran for someone: spot checks on the effects.
    let d = t.ok(f.token(Auditor), "query($id: ID!) { case(id: $id) { erased } }", json!({"id": f.erase_case})).await;
    assert_eq!(d["case"]["erased"], true);
    let d = t.ok(f.token(Auditor), "query($id: ID!) { case(id: $id) { status } }", json!({"id": f.close_case})).await;
    assert_ne!(d["case"]["status"], "CLOSED", "closed by the coordinator, then reopened");
    let d = t
        .ok(f.token(Auditor), "query($id: ID!) { case(id: $id) { policeReports { id } } }", json!({"id": f.case}))
        .await;
    assert_eq!(d["case"]["policeReports"].as_array().unwrap().len(), 2);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deactivated_lawyer_no_longer_reaches_the_cases_still_assigned() {
    let t = TestApp::spawn(Backend::Sqlite).await;
    let w = world(&t).await;
    let case = open_case(&t, &w, true).await;
    represent_and_report(&t, &w, &case).await;
    let read = "query($id: ID!) { case(id: $id) { identity { fullName } } }";
    let legal = "mutation($i: RecordLegalActionInput!) { recordLegalAction(input: $i) { id } }";
    let action = json!({"i": {"caseId": case, "kind": "CONSULTATION", "takenOn": "2021-01-10"}});
    assert_eq!(t.ok(&w.lawyer_a, read, json!({"id": case})).await["case"]["identity"]["fullName"], CLIENT_NAME);

    let lawyer_q = "mutation($i: LawyerReasonInput!) { deactivateLawyer(input: $i) { active } }";
    let d =
        t.ok(&w.coordinator, lawyer_q, json!({"i": {"lawyerId": w.lawyer_a_id, "reason": "left the network"}})).await;
    assert_eq!(d["deactivateLawyer"]["active"], false);
    assert_eq!(t.err(&w.lawyer_a, read, json!({"id": case})).await, "FORBIDDEN");
    assert_eq!(t.err(&w.lawyer_a, legal, action.clone()).await, "FORBIDDEN");
    assert_eq!(t.err(&w.lawyer_a, "{ cases { totalCount } }", json!({})).await, "FORBIDDEN");
    assert_eq!(t.ok(&w.lawyer_a, "{ me { role } }", json!({})).await["me"]["role"], "LAWYER");
    // The client's organisation still reaches the case, to have it reassigned.
    assert_eq!(t.ok(&w.intake, read, json!({"id": case})).await["case"]["identity"]["fullName"], CLIENT_NAME);

    t.ok(
        &w.coordinator,
        "mutation($l: ID!) { reactivateLawyer(lawyerId: $l) { active } }",
        json!({"l": w.lawyer_a_id}),
    )
    .await;
    t.ok(&w.lawyer_a, legal, action).await;
    assert_eq!(t.ok(&w.lawyer_a, "{ cases { totalCount } }", json!({})).await["cases"]["totalCount"], 1);
    t.stop().await;
}

// ---------------------------------------------------------------- tokens

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_stops_working_when_it_expires() {
    let t = TestApp::spawn(Backend::Sqlite).await;
    let expires = chrono::Utc::now() + chrono::Duration::milliseconds(1500);
    let d = t
        .ok(
            &t.admin,
            "mutation($e: DateTime) { createAccessToken(input: {name: \"short\", role: AUDITOR, expiresAt: $e}) { token expiresAt } }",
            json!({"e": expires.to_rfc3339()}),
        )
        .await;
    let token = d["createAccessToken"]["token"].as_str().unwrap().to_string();
    assert!(d["createAccessToken"]["expiresAt"].is_string());
    assert_eq!(t.ok(&token, "{ me { role } }", json!({})).await["me"]["role"], "AUDITOR");
    let wait = (expires - chrono::Utc::now()).to_std().unwrap_or_default() + Duration::from_millis(300);
    tokio::time::sleep(wait).await;
    let (status, body) = t.gql_full(&token, "{ me { role } }", json!({}), None).await;
    assert_eq!(status, 401);
    assert_eq!(codes(&body), ["UNAUTHENTICATED"]);
    // A token cannot be issued already expired.
    let code = t
        .err(
            &t.admin,
            "mutation { createAccessToken(input: {name: \"late\", role: AUDITOR, expiresAt: \"2001-01-01T00:00:00Z\"}) { token } }",
            json!({}),
        )
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_is_refused_at_once_and_others_keep_working() {
    let t = TestApp::spawn(Backend::Sqlite).await;
    let create = "mutation($n: String!) { createAccessToken(input: {name: $n, role: COORDINATOR}) { token tokenId } }";
    let a = t.ok(&t.admin, create, json!({"n": "a"})).await["createAccessToken"].clone();
    let b = t.ok(&t.admin, create, json!({"n": "b"})).await["createAccessToken"].clone();
    let (a_token, b_token) = (a["token"].as_str().unwrap(), b["token"].as_str().unwrap());
    t.ok(a_token, "{ me { id } }", json!({})).await;
    let revoke = "mutation($id: ID!) { revokeAccessToken(tokenId: $id) { name } }";
    let d = t.ok(&t.admin, revoke, json!({"id": a["tokenId"]})).await;
    assert_eq!(d["revokeAccessToken"]["name"], "a");
    assert_eq!(t.err(a_token, "{ me { id } }", json!({})).await, "UNAUTHENTICATED");
    assert_eq!(t.ok(b_token, "{ me { name } }", json!({})).await["me"]["name"], "b");
    assert_eq!(
        t.err(&t.admin, revoke, json!({"id": "00000000-0000-0000-0000-000000000000"})).await,
        "NOT_FOUND",
        "an unknown token id"
    );
    // A revoked token cannot even revoke (or do) anything else.
    assert_eq!(t.err(a_token, revoke, json!({"id": b["tokenId"]})).await, "UNAUTHENTICATED");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn me_shows_the_callers_role_and_scope() {
    let t = TestApp::spawn(Backend::Sqlite).await;
    let w = world(&t).await;
    let me = "{ me { name role organization { id name } lawyer { id fullName } } }";
    let cases = [
        (&t.admin, "ADMIN", None, None),
        (&w.coordinator, "COORDINATOR", None, None),
        (&w.auditor, "AUDITOR", None, None),
        (&w.intake, "INTAKE_WORKER", Some(w.org.as_str()), None),
        (&w.lawyer_a, "LAWYER", None, Some(w.lawyer_a_id.as_str())),
        (&w.lawyer_b, "LAWYER", None, Some(w.lawyer_b_id.as_str())),
    ];
    for (token, role, org, lawyer) in cases {
        let d = t.ok(token, me, json!({})).await["me"].clone();
        assert_eq!(d["role"], role);
        assert_eq!(d["organization"]["id"].as_str(), org, "{d}");
        assert_eq!(d["lawyer"]["id"].as_str(), lawyer, "{d}");
    }
    let d = t.ok(&w.lawyer_a, me, json!({})).await;
    assert_eq!(d["me"]["lawyer"]["fullName"], "Aida Lawyer");
    assert_eq!(t.ok(&w.intake, me, json!({})).await["me"]["organization"]["name"], "Oasis");
    t.stop().await;
}
