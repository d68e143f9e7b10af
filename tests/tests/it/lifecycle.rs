//! A case through its whole life over GraphQL, on both event stores, with every kind of
//! refusal a client can meet.

use serde_json::{json, Value};
use tests::fixtures::*;
use tests::{on_both_backends, Backend, TestApp};

async fn whole_lifecycle(backend: Backend) {
    let mut t = TestApp::spawn(backend).await;
    let w = world(&t).await;
    let case = open_case(&t, &w, true).await;

    // Assigned to A, who declines; reassigned to B, who accepts.
    let c = case_mutation(
        &t,
        &w.coordinator,
        "assignLawyer",
        "AssignLawyerInput",
        json!({"caseId": case, "lawyerId": w.lawyer_a_id}),
    )
    .await;
    assert_eq!(c["status"], "LAWYER_ASSIGNED");
    let c = case_mutation(
        &t,
        &w.lawyer_a,
        "declineAssignment",
        "CaseReasonInput",
        json!({"caseId": case, "reason": "conflict of interest"}),
    )
    .await;
    assert_eq!(c["status"], "AWAITING_LAWYER");
    assert!(c["assignedLawyer"].is_null());
    case_mutation(
        &t,
        &w.coordinator,
        "assignLawyer",
        "AssignLawyerInput",
        json!({"caseId": case, "lawyerId": w.lawyer_b_id}),
    )
    .await;
    let c = case_mutation(&t, &w.lawyer_b, "acceptAssignment", "CaseIdInput", json!({"caseId": case})).await;
    assert_eq!(c["status"], "REPRESENTED");
    assert_eq!(c["assignmentAccepted"], true);
    assert_eq!(c["assignedLawyer"]["id"], w.lawyer_b_id.as_str());

    // The report: registered as fraud, reclassified by the prosecutor as trafficking,
    // terminated, returned for investigation, sent to court, decided.
    let c = case_mutation(&t, &w.lawyer_b, "filePoliceReport", "FilePoliceReportInput",
        json!({"caseId": case, "filedOn": "2020-04-01", "policeUnit": "Osh city police, 2nd unit", "referenceNumber": "R-17"})).await;
    assert_eq!(c["status"], "REPORTED");
    let report = c["policeReports"][0]["id"].as_str().unwrap().to_string();
    let c = case_mutation(
        &t,
        &w.lawyer_b,
        "recordOffenseRegistration",
        "RecordOffenseRegistrationInput",
        json!({"caseId": case, "reportId": report, "offenseCode": "2021-209", "registeredOn": "2022-04-05"}),
    )
    .await;
    assert_eq!(c["policeReports"][0]["initialOffense"]["category"], "FRAUD");
    let c = case_mutation(&t, &w.lawyer_b, "reclassifyOffense", "ReclassifyOffenseInput",
        json!({"caseId": case, "reportId": report, "offenseCode": "2021-166", "decidedOn": "2022-09-01", "decidedBy": "PROSECUTOR", "reason": "review found recruitment and exploitation"})).await;
    let r = &c["policeReports"][0];
    assert_eq!(r["initialOffense"]["code"], "2021-209");
    assert_eq!(r["currentOffense"]["code"], "2021-166");
    assert_eq!(r["currentCategory"], "TIP");
    assert_eq!(r["reclassifications"][0]["decidedBy"], "PROSECUTOR");
    assert_eq!(r["reclassifications"][0]["from"]["code"], "2021-209");
    for (outcome, on) in
        [("TERMINATED", "2020-10-01"), ("RETURNED_FOR_INVESTIGATION", "2020-12-01"), ("SENT_TO_COURT", "2021-02-01")]
    {
        let c = case_mutation(
            &t,
            &w.lawyer_b,
            "recordInvestigationOutcome",
            "RecordInvestigationOutcomeInput",
            json!({"caseId": case, "reportId": report, "outcome": outcome, "decidedOn": on}),
        )
        .await;
        assert_eq!(c["policeReports"][0]["investigationOutcome"], outcome);
    }
    let c = case_mutation(&t, &w.lawyer_b, "recordVerdict", "RecordVerdictInput",
        json!({"caseId": case, "reportId": report, "outcome": "CONVICTED", "decidedOn": "2021-06-01", "sentenceMonths": 96, "compensationAwarded": true})).await;
    assert_eq!(c["status"], "DECIDED");
    assert_eq!(c["policeReports"][0]["verdict"], "CONVICTED");
    let c = case_mutation(
        &t,
        &w.lawyer_b,
        "closeCase",
        "CaseReasonInput",
        json!({"caseId": case, "reason": "verdict in force"}),
    )
    .await;
    assert_eq!(c["status"], "CLOSED");

    // A closed case accepts nothing but reopening.
    let code = case_mutation_err(
        &t,
        &w.lawyer_b,
        "filePoliceReport",
        "FilePoliceReportInput",
        json!({"caseId": case, "filedOn": "2021-07-01", "policeUnit": "Osh"}),
    )
    .await;
    assert_eq!(code, "RULE_VIOLATION");
    let c =
        case_mutation(&t, &w.coordinator, "reopenCase", "CaseReasonInput", json!({"caseId": case, "reason": "appeal"}))
            .await;
    assert_eq!(c["status"], "DECIDED");

    // Queries see the same case; the auditor sees it without identity.
    let q = format!("query($id: ID!) {{ case(id: $id) {{ {CASE_FIELDS} }} }}");
    let by_auditor = t.ok(&w.auditor, &q, json!({"id": case})).await;
    assert_eq!(by_auditor["case"]["policeReports"][0]["currentCategory"], "TIP");
    assert_eq!(by_auditor["case"]["version"], c["version"]);
    let list = t
        .ok(&w.auditor, "{ cases(filter: {offenseCategory: TIP}) { totalCount edges { node { id } cursor } pageInfo { hasNextPage } } }", json!({}))
        .await;
    assert_eq!(list["cases"]["totalCount"], 1);
    assert_eq!(list["cases"]["edges"][0]["node"]["id"], case.as_str());

    // Identity: the organisation's intake worker and the assigned lawyer read it.
    let iq = "query($id: ID!) { case(id: $id) { identity(purpose: \"case review\") { fullName dateOfBirth contact narrative erased } } }";
    for tok in [&w.intake, &w.lawyer_b, &w.coordinator] {
        let d = t.ok(tok, iq, json!({"id": case})).await;
        assert_eq!(d["case"]["identity"]["fullName"], CLIENT_NAME);
        assert_eq!(d["case"]["identity"]["dateOfBirth"], "1986-01-15");
        assert_eq!(d["case"]["identity"]["erased"], false);
    }
    // ... the auditor never; the lawyer who declined cannot see the case at all.
    let body = t.gql(&w.auditor, iq, json!({"id": case})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN");
    assert!(body["data"]["case"]["identity"].is_null());
    let d = t.ok(&w.lawyer_a, iq, json!({"id": case})).await;
    assert!(d["case"].is_null(), "to the lawyer who declined, the case is as if it did not exist: {d}");

    // The lawyer's caseload counts the open case.
    let d = t
        .ok(&w.auditor, "query($id: ID!) { lawyer(id: $id) { activeCaseload trained } }", json!({"id": w.lawyer_b_id}))
        .await;
    assert_eq!(d["lawyer"]["activeCaseload"], 1);

    // No plaintext identity anywhere in the database.
    let dump = tests::dump_database(&t.app.db).await;
    assert!(dump.contains(&case), "the dump must contain the case, or it proves nothing");
    for secret in [CLIENT_NAME, "Zarina", "+996 555 000 111", "Passport taken", "1986-01-15"] {
        assert!(!dump.contains(secret), "plaintext identity {secret:?} found in the database");
    }
    t.stop().await;
}

async fn refusals(backend: Backend) {
    let mut t = TestApp::spawn(backend).await;
    let w = world(&t).await;
    let case = open_case(&t, &w, false).await;

    // No token, a bad token, a revoked token.
    assert_eq!(t.err("", "{ me { id } }", json!({})).await, "UNAUTHENTICATED");
    assert_eq!(t.err("pbl_not-a-real-token", "{ me { id } }", json!({})).await, "UNAUTHENTICATED");
    let d = t
        .ok(
            &t.admin,
            "mutation { createAccessToken(input: {name: \"temp\", role: AUDITOR}) { token tokenId } }",
            json!({}),
        )
        .await;
    let temp = d["createAccessToken"]["token"].as_str().unwrap().to_string();
    let temp_id = d["createAccessToken"]["tokenId"].as_str().unwrap().to_string();
    let me = t.ok(&temp, "{ me { name role organization { id } lawyer { id } } }", json!({})).await;
    assert_eq!(me["me"]["role"], "AUDITOR");
    t.ok(&t.admin, "mutation($id: ID!) { revokeAccessToken(tokenId: $id) { id } }", json!({"id": temp_id})).await;
    assert_eq!(t.err(&temp, "{ me { id } }", json!({})).await, "UNAUTHENTICATED");

    // Wrong role.
    assert_eq!(
        t.err(&w.auditor, "mutation { registerOrganization(input: {name: \"X\", kind: NGO}) { id } }", json!({})).await,
        "FORBIDDEN"
    );
    assert_eq!(
        case_mutation_err(
            &t,
            &w.intake,
            "assignLawyer",
            "AssignLawyerInput",
            json!({"caseId": case, "lawyerId": w.lawyer_a_id})
        )
        .await,
        "FORBIDDEN"
    );
    // Out of scope: a lawyer not assigned to the case.
    assert_eq!(
        case_mutation_err(
            &t,
            &w.lawyer_a,
            "filePoliceReport",
            "FilePoliceReportInput",
            json!({"caseId": case, "filedOn": "2020-04-01", "policeUnit": "Osh"})
        )
        .await,
        "NOT_FOUND",
        "a case outside the caller's scope is answered as one that does not exist"
    );
    let list = t.ok(&w.lawyer_a, "{ cases { totalCount } }", json!({})).await;
    assert_eq!(list["cases"]["totalCount"], 0, "a lawyer lists only their own cases");
    // An intake worker of another organisation.
    let d = t
        .ok(
            &t.admin,
            "mutation { registerOrganization(input: {name: \"Crisis Centre\", kind: CRISIS_CENTER}) { id } }",
            json!({}),
        )
        .await;
    let other = token(&t, "INTAKE_WORKER", d["registerOrganization"]["id"].as_str(), None).await;
    let d = t.ok(&other, "query($id: ID!) { case(id: $id) { id } }", json!({"id": case})).await;
    assert!(d["case"].is_null(), "another organisation's case reads as none: {d}");

    // Not found.
    let d = t.ok(&w.auditor, "{ case(id: \"00000000-0000-0000-0000-000000000000\") { id } }", json!({})).await;
    assert!(d["case"].is_null());
    assert_eq!(
        case_mutation_err(
            &t,
            &w.coordinator,
            "assignLawyer",
            "AssignLawyerInput",
            json!({"caseId": case, "lawyerId": "00000000-0000-0000-0000-000000000000"})
        )
        .await,
        "NOT_FOUND"
    );

    // Bad input: malformed ids, dates, codes, limits.
    assert_eq!(t.err(&w.auditor, "{ case(id: \"nope\") { id } }", json!({})).await, "BAD_USER_INPUT");
    assert_eq!(t.err(&w.auditor, "{ cases(first: 1000) { totalCount } }", json!({})).await, "BAD_USER_INPUT");
    assert_eq!(t.err(&w.auditor, "{ cases(after: \"garbage\") { totalCount } }", json!({})).await, "BAD_USER_INPUT");
    assert_eq!(t.err(&w.auditor, "{ nosuchfield }", json!({})).await, "BAD_USER_INPUT");
    let code = t
        .err(&w.intake, "mutation($i: OpenIntakeInput!) { openIntake(input: $i) { id } }",
            json!({"i": {"identifiedOn": "31/12/2020", "referralSource": "HOTLINE", "exploitationTypes": ["SEXUAL"],
                          "client": {"fullName": "X", "gender": "FEMALE"}, "consent": {"legalAid": true, "reportToPolice": true, "dataSharing": false}}}))
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
    let code = t
        .err(&w.intake, "mutation($i: OpenIntakeInput!) { openIntake(input: $i) { id } }",
            json!({"i": {"identifiedOn": "2020-01-01", "referralSource": "HOTLINE", "exploitationTypes": ["SEXUAL"], "countryOfExploitation": "Russia",
                          "client": {"fullName": "X", "gender": "FEMALE"}, "consent": {"legalAid": true, "reportToPolice": true, "dataSharing": false}}}))
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
    let code = t
        .err(&w.intake, "mutation($i: OpenIntakeInput!) { openIntake(input: $i) { id } }",
            json!({"i": {"identifiedOn": "2099-01-01", "referralSource": "HOTLINE", "exploitationTypes": ["SEXUAL"],
                          "client": {"fullName": "X", "gender": "FEMALE"}, "consent": {"legalAid": true, "reportToPolice": true, "dataSharing": false}}}))
        .await;
    assert_eq!(code, "RULE_VIOLATION", "a future identification date breaks a domain rule");

    // Broken invariants: no report without an accepted lawyer and consent to report.
    case_mutation(
        &t,
        &w.coordinator,
        "assignLawyer",
        "AssignLawyerInput",
        json!({"caseId": case, "lawyerId": w.lawyer_a_id}),
    )
    .await;
    assert_eq!(
        case_mutation_err(
            &t,
            &w.lawyer_a,
            "filePoliceReport",
            "FilePoliceReportInput",
            json!({"caseId": case, "filedOn": "2020-04-01", "policeUnit": "Osh"})
        )
        .await,
        "RULE_VIOLATION",
        "not accepted yet"
    );
    case_mutation(&t, &w.lawyer_a, "acceptAssignment", "CaseIdInput", json!({"caseId": case})).await;
    assert_eq!(
        case_mutation_err(
            &t,
            &w.lawyer_a,
            "filePoliceReport",
            "FilePoliceReportInput",
            json!({"caseId": case, "filedOn": "2020-04-01", "policeUnit": "Osh"})
        )
        .await,
        "RULE_VIOLATION",
        "no consent to report"
    );
    let c = case_mutation(
        &t,
        &w.intake,
        "giveConsent",
        "ConsentChangeInput",
        json!({"caseId": case, "scopes": ["REPORT_TO_POLICE"], "on": "2020-03-10"}),
    )
    .await;
    assert_eq!(c["consent"]["reportToPolice"], true);
    let c = case_mutation(
        &t,
        &w.lawyer_a,
        "filePoliceReport",
        "FilePoliceReportInput",
        json!({"caseId": case, "filedOn": "2020-04-01", "policeUnit": "Osh"}),
    )
    .await;
    let report = c["policeReports"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        case_mutation_err(
            &t,
            &w.lawyer_a,
            "recordOffenseRegistration",
            "RecordOffenseRegistrationInput",
            json!({"caseId": case, "reportId": report, "offenseCode": "9999-1", "registeredOn": "2020-04-02"})
        )
        .await,
        "BAD_USER_INPUT",
        "unknown offence code"
    );
    assert_eq!(
        case_mutation_err(&t, &w.lawyer_a, "recordOffenseRegistration", "RecordOffenseRegistrationInput",
            json!({"caseId": case, "reportId": "00000000-0000-0000-0000-000000000001", "offenseCode": "2021-209", "registeredOn": "2020-04-02"})).await,
        "RULE_VIOLATION",
        "no such report in this case"
    );
    assert_eq!(
        case_mutation_err(
            &t,
            &w.lawyer_a,
            "recordOffenseRegistration",
            "RecordOffenseRegistrationInput",
            json!({"caseId": case, "reportId": report, "offenseCode": "2021-209", "registeredOn": "2020-03-01"})
        )
        .await,
        "RULE_VIOLATION",
        "registered before the report was filed"
    );
    case_mutation(
        &t,
        &w.lawyer_a,
        "recordOffenseRegistration",
        "RecordOffenseRegistrationInput",
        json!({"caseId": case, "reportId": report, "offenseCode": "2021-209", "registeredOn": "2022-04-02"}),
    )
    .await;
    assert_eq!(
        case_mutation_err(&t, &w.lawyer_a, "reclassifyOffense", "ReclassifyOffenseInput",
            json!({"caseId": case, "reportId": report, "offenseCode": "2021-209", "decidedOn": "2020-05-01", "decidedBy": "POLICE", "reason": "none"})).await,
        "RULE_VIOLATION",
        "a reclassification must change the offence"
    );
    // Withdrawing consent to report blocks new reports.
    case_mutation(
        &t,
        &w.intake,
        "withdrawConsent",
        "ConsentChangeInput",
        json!({"caseId": case, "scopes": ["REPORT_TO_POLICE"], "on": "2020-05-01"}),
    )
    .await;
    assert_eq!(
        case_mutation_err(
            &t,
            &w.lawyer_a,
            "filePoliceReport",
            "FilePoliceReportInput",
            json!({"caseId": case, "filedOn": "2020-05-02", "policeUnit": "Osh"})
        )
        .await,
        "RULE_VIOLATION"
    );
    // Withdrawing consent to data sharing takes identity away from the coordinator.
    let iq = "query($id: ID!) { case(id: $id) { identity(purpose: \"case review\") { fullName } } }";
    t.ok(&w.coordinator, iq, json!({"id": case})).await;
    case_mutation(
        &t,
        &w.intake,
        "withdrawConsent",
        "ConsentChangeInput",
        json!({"caseId": case, "scopes": ["DATA_SHARING"], "on": "2020-05-01"}),
    )
    .await;
    assert_eq!(t.err(&w.coordinator, iq, json!({"id": case})).await, "FORBIDDEN");
    assert_eq!(t.ok(&w.lawyer_a, iq, json!({"id": case})).await["case"]["identity"]["fullName"], lifecycle_client());
    t.stop().await;
}

fn lifecycle_client() -> &'static str {
    CLIENT_NAME
}

async fn concurrent_writers_conflict_and_lose_nothing(backend: Backend) {
    use sqlx::Connection as _;
    let mut t = TestApp::spawn(backend).await;
    let w = world(&t).await;
    let case = represented_case(&t, &w).await;
    let before = t.ok(&w.auditor, "query($id: ID!) { case(id: $id) { version } }", json!({"id": case})).await["case"]
        ["version"]
        .as_i64()
        .unwrap();

    // Writes to the event log wait behind a lock this test holds, reads do not: every writer
    // below loads the case at the same version, and all but one must then lose the race.
    let (mut pg, mut lite) = (None, None);
    match backend {
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&t.db.url).await.unwrap();
            sqlx::query("BEGIN").execute(&mut c).await.unwrap();
            sqlx::query("LOCK TABLE events IN EXCLUSIVE MODE").execute(&mut c).await.unwrap();
            pg = Some(c);
        }
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&t.db.url).await.unwrap();
            sqlx::query("BEGIN IMMEDIATE").execute(&mut c).await.unwrap();
            lite = Some(c);
        }
    }

    let q = "mutation($i: FilePoliceReportInput!) { filePoliceReport(input: $i) { id } }";
    let unit = |i: usize| format!("unit {i}");
    let mut tasks = vec![];
    for i in 0..8 {
        let body = json!({"i": {"caseId": case, "filedOn": "2020-04-01", "policeUnit": unit(i)}});
        let tok = w.lawyer_a.clone();
        let url = t.url("/graphql");
        tasks.push(tokio::spawn(async move {
            let r = reqwest::Client::new()
                .post(url)
                .bearer_auth(tok)
                .json(&json!({"query": q, "variables": body}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 200);
            r.json::<Value>().await.unwrap()
        }));
    }
    // Release the lock once at least two writers wait on it (they loaded the same version).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(4);
    let mut held_long_enough = 0;
    loop {
        // Commands that handed their event to the projector's batch wait at the lock with
        // that batch (ADR 0019).
        let handed = t.app.projector.appends_waiting() as i64;
        let waiting = handed
            + if let Some(c) = pg.as_mut() {
                sqlx::query_scalar::<_, i64>(
                    "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'events'::regclass \
                 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                )
                .fetch_one(c)
                .await
                .unwrap()
            } else {
                // SQLite shows no lock waits: the server's writers queue at its in-process write
                // gate (one of them may be the projector's batch, hence the one subtracted).
                let gate = t.app.db.write_gate().expect("a SQLite database has a write gate");
                gate.writers() as i64 - 1
            };
        held_long_enough = if waiting >= 2 { held_long_enough + 1 } else { 0 };
        if (pg.is_some() && held_long_enough >= 1) || held_long_enough >= 10 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the writers never queued behind the lock ({waiting})");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    if let Some(mut c) = pg.take() {
        sqlx::query("ROLLBACK").execute(&mut c).await.unwrap();
    }
    if let Some(mut c) = lite.take() {
        sqlx::query("ROLLBACK").execute(&mut c).await.unwrap();
    }

    let (mut acked, mut conflicted) = (vec![], vec![]);
    for (i, task) in tasks.into_iter().enumerate() {
        let v = task.await.unwrap();
        match v["errors"][0]["extensions"]["code"].as_str() {
            None => acked.push(unit(i)),
            Some("CONFLICT") => conflicted.push(i),
            Some(other) => panic!("a concurrent writer got {other}: {v}"),
        }
    }
    assert_eq!(acked.len() + conflicted.len(), 8);
    assert!(!acked.is_empty(), "one writer wins");
    assert!(!conflicted.is_empty(), "writers that loaded the same version conflict ({} acknowledged)", acked.len());

    // Nothing acknowledged is lost, and nothing refused was written.
    let rq = "query($id: ID!) { case(id: $id) { version policeReports { policeUnit } } }";
    let after = t.ok(&w.auditor, rq, json!({"id": case})).await;
    assert_eq!(
        after["case"]["version"].as_i64().unwrap(),
        before + acked.len() as i64,
        "exactly the acknowledged events"
    );
    let mut units: Vec<String> = after["case"]["policeReports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["policeUnit"].as_str().unwrap().to_string())
        .collect();
    units.sort();
    acked.sort();
    assert_eq!(units, acked, "the reports are exactly the acknowledged ones");

    // A refused writer reloads and retries, as the error tells it to, and then succeeds.
    for i in conflicted {
        let body = json!({"i": {"caseId": case, "filedOn": "2020-04-01", "policeUnit": unit(i)}});
        t.ok(&w.lawyer_a, q, body).await;
    }
    let after = t.ok(&w.auditor, rq, json!({"id": case})).await;
    assert_eq!(after["case"]["version"].as_i64().unwrap(), before + 8);
    assert_eq!(after["case"]["policeReports"].as_array().unwrap().len(), 8);
    t.stop().await;
}

on_both_backends!(whole_lifecycle, refusals, concurrent_writers_conflict_and_lose_nothing);
