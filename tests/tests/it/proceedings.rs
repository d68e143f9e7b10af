//! The proceedings through GraphQL on both stores: hearings scheduled ahead, held and
//! postponed; appeals through the instances, where only the verdict in force counts; what is
//! due for a lawyer this week (never another lawyer's), overdue flags, ADMIN-edited deadline
//! rules; the date rules on the new facts; who started a report; a transfer.

use chrono::{Days, NaiveDate, Utc};
use serde_json::{json, Value};
use tests::fixtures::{case_mutation, represented_case, world, World};
use tests::{on_both_backends, Backend, TestApp};

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn ahead(days: u64) -> String {
    today().checked_add_days(Days::new(days)).unwrap().to_string()
}

fn code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}

async fn mutate(t: &TestApp, token: &str, name: &str, input_type: &str, input: Value) -> Value {
    let q = format!("mutation($i: {input_type}!) {{ {name}(input: $i) {{ id }} }}");
    t.gql(token, &q, json!({ "i": input })).await
}

const REPORT: &str = "id initiatedBy verdict proceedings { verdictInstance verdicts { outcome instance inForce } \
    appeals { instance decided } complaints { id against filedWith status decidedOn } \
    hearings { id on court instance held postponements { from to } } nextHearing { id on } }";

/// The case, with each report's `proceedings` merged into the report for brevity.
async fn report(t: &TestApp, token: &str, case: &str) -> Value {
    let q = format!("query($id: ID!) {{ case(id: $id) {{ overdue nextHearing {{ on }} deadlines {{ dueOn what overdue kind ruleId citation {{ article url }} }} policeReports {{ {REPORT} }} }} }}");
    let mut c = t.ok(token, &q, json!({"id": case})).await["case"].clone();
    for r in c["policeReports"].as_array_mut().unwrap() {
        let p = r["proceedings"].take();
        r.as_object_mut().unwrap().extend(p.as_object().unwrap().clone());
    }
    c
}

/// A represented case of lawyer A with a report filed on 2021-01-10; returns (case, report).
async fn reported(t: &TestApp, w: &World, initiated_by: Option<&str>) -> (String, String) {
    let case = represented_case(t, w).await;
    let c = case_mutation(
        t,
        &w.lawyer_a,
        "filePoliceReport",
        "FilePoliceReportInput",
        json!({"caseId": case, "filedOn": "2021-01-10", "policeUnit": "Osh city police", "initiatedBy": initiated_by}),
    )
    .await;
    let report = c["policeReports"][0]["id"].as_str().unwrap().to_string();
    (case, report)
}

async fn counts(t: &TestApp, w: &World) -> (i64, i64) {
    let d = t.ok(&w.coordinator, "{ outcomeStats { totals { convictions acquittals } } }", json!({})).await;
    let c = &d["outcomeStats"]["totals"];
    (c["convictions"].as_i64().unwrap(), c["acquittals"].as_i64().unwrap())
}

async fn hearing(t: &TestApp, w: &World, case: &str, report: &str, on: &str) -> Value {
    let input = json!({"caseId": case, "reportId": report, "on": on, "court": "Osh city court"});
    let body = mutate(t, &w.lawyer_a, "scheduleHearing", "ScheduleHearingInput", input).await;
    assert!(body["errors"].is_null(), "{body}");
    body
}

async fn hearings_are_scheduled_ahead_held_and_postponed_in_date_order(backend: Backend) {
    let mut t = TestApp::spawn(backend).await;
    let w = world(&t).await;
    let (case, rep) = reported(&t, &w, Some("NGO")).await;
    hearing(&t, &w, &case, &rep, &ahead(10)).await;
    hearing(&t, &w, &case, &rep, &ahead(3)).await;
    hearing(&t, &w, &case, &rep, "2021-05-04").await;
    let c = report(&t, &w.lawyer_a, &case).await;
    let r = &c["policeReports"][0];
    assert_eq!(r["initiatedBy"], "NGO");
    let days: Vec<_> =
        r["hearings"].as_array().unwrap().iter().map(|h| h["on"].as_str().unwrap().to_string()).collect();
    assert_eq!(days, ["2021-05-04".to_string(), ahead(3), ahead(10)], "in date order");
    assert_eq!(r["nextHearing"]["on"], ahead(3).as_str(), "the past one is not next");
    assert_eq!(c["nextHearing"]["on"], ahead(3).as_str());
    let id_of = |r: &Value, on: &str| {
        r["hearings"].as_array().unwrap().iter().find(|h| h["on"] == on).unwrap()["id"].as_str().unwrap().to_string()
    };
    let soon = id_of(r, &ahead(3));
    let past = id_of(r, "2021-05-04");

    // A hearing ahead cannot be recorded as held; a past one can.
    let held = |h: &str| json!({"caseId": case, "reportId": rep, "hearingId": h});
    let body = mutate(&t, &w.lawyer_a, "recordHearingHeld", "HearingRefInput", held(&soon)).await;
    assert_eq!(code(&body), Some("RULE_VIOLATION"), "{body}");
    case_mutation(&t, &w.lawyer_a, "recordHearingHeld", "HearingRefInput", held(&past)).await;
    let body = mutate(&t, &w.lawyer_a, "recordHearingHeld", "HearingRefInput", held(&past)).await;
    assert_eq!(code(&body), Some("RULE_VIOLATION"), "held twice: {body}");

    // Postponed to a later day: the next hearing is now the other one.
    let input = json!({"caseId": case, "reportId": rep, "hearingId": soon, "to": ahead(20), "reason": "judge ill"});
    case_mutation(&t, &w.lawyer_a, "postponeHearing", "PostponeHearingInput", input).await;
    let r = report(&t, &w.lawyer_a, &case).await["policeReports"][0].clone();
    assert_eq!(r["nextHearing"]["on"], ahead(10).as_str());
    let moved = r["hearings"].as_array().unwrap().iter().find(|h| h["id"] == soon.as_str()).unwrap().clone();
    assert_eq!(
        (moved["on"].as_str().unwrap(), moved["postponements"][0]["from"].as_str().unwrap()),
        (ahead(20).as_str(), ahead(3).as_str())
    );
    assert_eq!(r["hearings"].as_array().unwrap().iter().filter(|h| h["held"] == true).count(), 1);

    // A report filed without saying who started it shows none.
    let c = case_mutation(
        &t,
        &w.lawyer_a,
        "filePoliceReport",
        "FilePoliceReportInput",
        json!({"caseId": case, "filedOn": "2021-02-01", "policeUnit": "Bishkek police"}),
    )
    .await;
    let second = c["policeReports"].as_array().unwrap().iter().find(|r| r["id"] != rep.as_str()).unwrap().clone();
    let q = "query($id: ID!) { case(id: $id) { policeReports { id initiatedBy } } }".to_string();
    let d = t.ok(&w.lawyer_a, &q, json!({"id": case})).await;
    let found =
        d["case"]["policeReports"].as_array().unwrap().iter().find(|r| r["id"] == second["id"]).unwrap().clone();
    assert!(found["initiatedBy"].is_null(), "{found}");
    t.stop().await;
}

async fn an_appeal_chain_counts_only_the_verdict_in_force(backend: Backend) {
    let mut t = TestApp::spawn(backend).await;
    let w = world(&t).await;
    let (case, rep) = reported(&t, &w, Some("LAWYER")).await;
    let r = |extra: Value| {
        let mut v = json!({"caseId": case, "reportId": rep});
        v.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        v
    };
    case_mutation(
        &t,
        &w.lawyer_a,
        "recordOffenseRegistration",
        "RecordOffenseRegistrationInput",
        r(json!({"offenseCode": "2017-173", "registeredOn": "2021-01-15", "decidedBy": "POLICE"})),
    )
    .await;
    case_mutation(
        &t,
        &w.lawyer_a,
        "recordInvestigationOutcome",
        "RecordInvestigationOutcomeInput",
        r(json!({"outcome": "SENT_TO_COURT", "decidedOn": "2021-03-01", "decidedBy": "PROSECUTOR"})),
    )
    .await;
    let verdict = |outcome: &str, on: &str, instance: Option<&str>| {
        r(json!({"outcome": outcome, "decidedOn": on, "instance": instance}))
    };
    case_mutation(&t, &w.lawyer_a, "recordVerdict", "RecordVerdictInput", verdict("CONVICTED", "2021-06-01", None))
        .await;
    assert_eq!(counts(&t, &w).await, (1, 0));

    // A second verdict needs an appeal first; the appeal goes to a higher instance, and the
    // verdict that follows is that instance's, not before the appeal.
    let body =
        mutate(&t, &w.lawyer_a, "recordVerdict", "RecordVerdictInput", verdict("ACQUITTED", "2021-09-01", None)).await;
    assert_eq!(code(&body), Some("RULE_VIOLATION"), "{body}");
    let appeal = |instance: &str, on: &str| r(json!({"instance": instance, "filedOn": on}));
    let body = mutate(&t, &w.lawyer_a, "fileAppeal", "FileAppealInput", appeal("FIRST_INSTANCE", "2021-06-10")).await;
    assert_eq!(code(&body), Some("RULE_VIOLATION"), "not higher: {body}");
    let body = mutate(&t, &w.lawyer_a, "fileAppeal", "FileAppealInput", appeal("APPEAL", "2021-05-10")).await;
    assert_eq!(code(&body), Some("RULE_VIOLATION"), "before the verdict: {body}");
    case_mutation(&t, &w.lawyer_a, "fileAppeal", "FileAppealInput", appeal("APPEAL", "2021-06-10")).await;
    let body = mutate(
        &t,
        &w.lawyer_a,
        "recordVerdict",
        "RecordVerdictInput",
        verdict("ACQUITTED", "2021-09-01", Some("CASSATION")),
    )
    .await;
    assert_eq!(code(&body), Some("RULE_VIOLATION"), "the appeal is at APPEAL: {body}");
    let body = mutate(
        &t,
        &w.lawyer_a,
        "recordVerdict",
        "RecordVerdictInput",
        verdict("ACQUITTED", "2021-06-05", Some("APPEAL")),
    )
    .await;
    assert_eq!(code(&body), Some("RULE_VIOLATION"), "before the appeal: {body}");
    case_mutation(
        &t,
        &w.lawyer_a,
        "recordVerdict",
        "RecordVerdictInput",
        verdict("ACQUITTED", "2021-09-01", Some("APPEAL")),
    )
    .await;
    assert_eq!(counts(&t, &w).await, (0, 1), "the appeal court's acquittal replaced the conviction");

    // Cassation convicts again: still one verdict counted.
    case_mutation(&t, &w.lawyer_a, "fileAppeal", "FileAppealInput", appeal("CASSATION", "2021-09-20")).await;
    case_mutation(
        &t,
        &w.lawyer_a,
        "recordVerdict",
        "RecordVerdictInput",
        verdict("CONVICTED", "2022-02-01", Some("CASSATION")),
    )
    .await;
    assert_eq!(counts(&t, &w).await, (1, 0));
    let r = report(&t, &w.lawyer_a, &case).await["policeReports"][0].clone();
    assert_eq!(r["verdict"], "CONVICTED");
    assert_eq!(r["verdictInstance"], "CASSATION");
    let chain: Vec<_> =
        r["verdicts"].as_array().unwrap().iter().map(|v| (v["instance"].clone(), v["inForce"].clone())).collect();
    assert_eq!(
        chain,
        [(json!("FIRST_INSTANCE"), json!(false)), (json!("APPEAL"), json!(false)), (json!("CASSATION"), json!(true))]
    );
    assert!(r["appeals"].as_array().unwrap().iter().all(|a| a["decided"] == true));
    // The conviction counts in the year of the verdict in force.
    let d = t
        .ok(
            &w.coordinator,
            "{ outcomeStats(groupBy: [YEAR]) { groups { key { value } counts { convictions } } } }",
            json!({}),
        )
        .await;
    let in_year = |y: &str| {
        d["outcomeStats"]["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["key"][0]["value"] == y)
            .map(|g| g["counts"]["convictions"].clone())
    };
    assert_eq!(in_year("2022"), Some(json!(1)));
    assert_ne!(in_year("2021"), Some(json!(1)));
    t.stop().await;
}

async fn deadlines_this_week_are_a_lawyers_own_and_overdue_ones_are_flagged(backend: Backend) {
    let mut t = TestApp::spawn(backend).await;
    let w = world(&t).await;
    let (case, rep) = reported(&t, &w, None).await;
    hearing(&t, &w, &case, &rep, &ahead(3)).await;
    let q = "query($l: ID, $n: Int) { deadlines(lawyerId: $l, dueWithinDays: $n) { caseId dueOn what overdue kind } }";
    let due = |token: String, lawyer: Option<String>, n: Option<i32>| {
        let t = &t;
        async move { t.gql(&token, q, json!({"l": lawyer, "n": n})).await }
    };
    let week = due(w.lawyer_a.clone(), None, Some(7)).await;
    let list = week["data"]["deadlines"].as_array().unwrap().clone();
    assert_eq!(list.len(), 1, "{week}");
    assert_eq!((list[0]["caseId"].as_str(), list[0]["dueOn"].as_str()), (Some(case.as_str()), Some(ahead(3).as_str())));
    assert_eq!((list[0]["overdue"].clone(), list[0]["kind"].clone()), (json!(false), json!("HEARING")));
    let tomorrow = due(w.lawyer_a.clone(), None, Some(1)).await;
    assert_eq!(tomorrow["data"]["deadlines"], json!([]), "not due within a day");
    // Another lawyer sees nothing of it, and may not ask for lawyer A's.
    assert_eq!(due(w.lawyer_b.clone(), None, Some(7)).await["data"]["deadlines"], json!([]));
    let body = due(w.lawyer_b.clone(), Some(w.lawyer_a_id.clone()), Some(7)).await;
    assert_eq!(code(&body), Some("FORBIDDEN"), "{body}");
    // The coordinator sees lawyer A's, and none for lawyer B.
    let a = due(w.coordinator.clone(), Some(w.lawyer_a_id.clone()), Some(7)).await;
    assert_eq!(a["data"]["deadlines"].as_array().unwrap().len(), 1, "{a}");
    let b = due(w.coordinator.clone(), Some(w.lawyer_b_id.clone()), Some(7)).await;
    assert_eq!(b["data"]["deadlines"], json!([]));
    let body = due(w.lawyer_a.clone(), None, Some(-1)).await;
    assert_eq!(code(&body), Some("BAD_USER_INPUT"), "{body}");

    // An ADMIN adds a rule at run time (a test rule: the shipped file holds only verified
    // limits); a lawyer may not.
    let rule = json!({"id": "test-refusal", "after": "REGISTRATION_REFUSED", "days": 10, "what": "complaint against the refusal",
        "metBy": ["COMPLAINT_FILED"], "article": "Test article", "code": "Test fixture, not a law", "url": "https://example.org/test"});
    let set = "mutation($i: DeadlineRuleInput!) { setDeadlineRule(input: $i) { id days retired citation { url } } }";
    let body = t.gql(&w.lawyer_a, set, json!({"i": rule})).await;
    assert_eq!(code(&body), Some("FORBIDDEN"), "{body}");
    let d = t.ok(&t.admin, set, json!({"i": rule})).await;
    assert_eq!(
        (d["setDeadlineRule"]["days"].clone(), d["setDeadlineRule"]["retired"].clone()),
        (json!(10), json!(false))
    );
    let mut bad = rule.clone();
    bad["url"] = json!("no url");
    let body = t.gql(&t.admin, set, json!({"i": bad})).await;
    assert_eq!(code(&body), Some("BAD_USER_INPUT"), "a rule needs its citation: {body}");

    // A refusal on 2021-02-01: the complaint was due on 2021-02-11 and is overdue.
    case_mutation(
        &t,
        &w.lawyer_a,
        "recordRegistrationRefused",
        "RecordRegistrationRefusedInput",
        json!({"caseId": case, "reportId": rep, "decidedOn": "2021-02-01", "reason": "no crime", "decidedBy": "POLICE"}),
    )
    .await;
    let c = report(&t, &w.lawyer_a, &case).await;
    assert_eq!(c["overdue"], true, "{c}");
    let overdue: Vec<_> = c["deadlines"].as_array().unwrap().iter().filter(|d| d["overdue"] == true).cloned().collect();
    assert_eq!(overdue.len(), 1);
    assert_eq!(
        (overdue[0]["dueOn"].as_str(), overdue[0]["ruleId"].as_str()),
        (Some("2021-02-11"), Some("test-refusal"))
    );
    assert_eq!(overdue[0]["citation"]["url"], "https://example.org/test");
    let week = due(w.lawyer_a.clone(), None, Some(7)).await;
    assert_eq!(week["data"]["deadlines"].as_array().unwrap().len(), 2, "overdue ones are always listed: {week}");
    assert_eq!(due(w.lawyer_b.clone(), None, None).await["data"]["deadlines"], json!([]));

    // The complaint meets it.
    let complaint = json!({"caseId": case, "reportId": rep, "against": "REFUSAL_TO_REGISTER", "filedWith": "PROSECUTOR", "filedOn": "2021-02-15"});
    case_mutation(&t, &w.lawyer_a, "fileComplaint", "FileComplaintInput", complaint).await;
    let c = report(&t, &w.lawyer_a, &case).await;
    assert_eq!(c["overdue"], false, "{c}");
    assert_eq!(c["policeReports"][0]["complaints"][0]["status"], "PENDING");

    // Retired, a rule no longer applies; it stays listed.
    let case2 = reported(&t, &w, None).await;
    case_mutation(
        &t,
        &w.lawyer_a,
        "recordRegistrationRefused",
        "RecordRegistrationRefusedInput",
        json!({"caseId": case2.0, "reportId": case2.1, "decidedOn": "2021-02-01", "reason": "no crime"}),
    )
    .await;
    assert_eq!(report(&t, &w.lawyer_a, &case2.0).await["overdue"], true);
    let retire = "mutation { retireDeadlineRule(id: \"test-refusal\", reason: \"test over\") { retired } }";
    assert_eq!(t.ok(&t.admin, retire, json!({})).await["retireDeadlineRule"]["retired"], true);
    assert_eq!(report(&t, &w.lawyer_a, &case2.0).await["overdue"], false);
    let d = t.ok(&w.lawyer_a, "{ deadlineRules { id retired } }", json!({})).await;
    assert_eq!(d["deadlineRules"], json!([{"id": "test-refusal", "retired": true}]));
    t.stop().await;
}

async fn new_facts_keep_the_date_rules(backend: Backend) {
    let mut t = TestApp::spawn(backend).await;
    let w = world(&t).await;
    let (case, rep) = reported(&t, &w, Some("POLICE")).await;
    // A hearing may lie ahead but not before the report (nor the intake, 2020-03-02).
    let body = mutate(
        &t,
        &w.lawyer_a,
        "scheduleHearing",
        "ScheduleHearingInput",
        json!({"caseId": case, "reportId": rep, "on": "2020-01-01", "court": "c"}),
    )
    .await;
    assert_eq!(code(&body), Some("RULE_VIOLATION"), "{body}");
    // A complaint needs a decision to complain of, and not before it nor in the future.
    let complaint = |on: &str| json!({"caseId": case, "reportId": rep, "against": "REFUSAL_TO_REGISTER", "filedWith": "INVESTIGATING_JUDGE", "filedOn": on});
    let body = mutate(&t, &w.lawyer_a, "fileComplaint", "FileComplaintInput", complaint("2021-03-01")).await;
    assert_eq!(code(&body), Some("RULE_VIOLATION"), "nothing refused yet: {body}");
    case_mutation(
        &t,
        &w.lawyer_a,
        "recordRegistrationRefused",
        "RecordRegistrationRefusedInput",
        json!({"caseId": case, "reportId": rep, "decidedOn": "2021-02-01", "reason": "no crime"}),
    )
    .await;
    let body = mutate(&t, &w.lawyer_a, "fileComplaint", "FileComplaintInput", complaint("2021-01-20")).await;
    assert_eq!(code(&body), Some("RULE_VIOLATION"), "before the refusal: {body}");
    let body = mutate(&t, &w.lawyer_a, "fileComplaint", "FileComplaintInput", complaint(&ahead(2))).await;
    assert_eq!(code(&body), Some("RULE_VIOLATION"), "in the future: {body}");
    let c = case_mutation(&t, &w.lawyer_a, "fileComplaint", "FileComplaintInput", complaint("2021-02-05")).await;
    let _ = c;
    let r = report(&t, &w.lawyer_a, &case).await["policeReports"][0].clone();
    let complaint_id = r["complaints"][0]["id"].as_str().unwrap().to_string();
    let decide = |on: &str| json!({"caseId": case, "reportId": rep, "complaintId": complaint_id, "outcome": "UPHELD", "decidedOn": on});
    let body = mutate(&t, &w.lawyer_a, "decideComplaint", "DecideComplaintInput", decide("2021-02-01")).await;
    assert_eq!(code(&body), Some("RULE_VIOLATION"), "decided before it was filed: {body}");
    case_mutation(&t, &w.lawyer_a, "decideComplaint", "DecideComplaintInput", decide("2021-03-01")).await;
    let r = report(&t, &w.lawyer_a, &case).await["policeReports"][0].clone();
    assert_eq!(
        (r["complaints"][0]["status"].as_str(), r["complaints"][0]["decidedOn"].as_str()),
        (Some("UPHELD"), Some("2021-03-01"))
    );
    assert_eq!(r["initiatedBy"], "POLICE");
    // Appeals need a verdict.
    let body = mutate(
        &t,
        &w.lawyer_a,
        "fileAppeal",
        "FileAppealInput",
        json!({"caseId": case, "reportId": rep, "instance": "APPEAL", "filedOn": "2021-04-01"}),
    )
    .await;
    assert_eq!(code(&body), Some("RULE_VIOLATION"), "{body}");

    // The case moves to another organisation (the client consented to data sharing); the
    // old organisation's intake worker no longer sees it.
    let q = "mutation { registerOrganization(input: {name: \"Second NGO\", kind: NGO}) { id } }";
    let org = t.ok(&t.admin, q, json!({})).await["registerOrganization"]["id"].as_str().unwrap().to_string();
    let input = json!({"caseId": case, "organizationId": org, "reason": "client moved to Bishkek", "transferredOn": "2021-05-01"});
    let q = "mutation($i: TransferCaseInput!) { transferCase(input: $i) { organization { id } transfers { toOrganizationId transferredOn } } }";
    let body = t.gql(&w.intake, q, json!({"i": input})).await;
    assert!(matches!(code(&body), Some("FORBIDDEN") | Some("NOT_FOUND")), "intake workers do not transfer: {body}");
    let d = t.ok(&w.lawyer_a, q, json!({"i": input})).await;
    assert_eq!(d["transferCase"]["organization"]["id"], org.as_str());
    assert_eq!(d["transferCase"]["transfers"][0]["transferredOn"], "2021-05-01");
    let body = t.gql(&w.intake, "query($id: ID!) { case(id: $id) { id } }", json!({"id": case})).await;
    assert!(body["data"]["case"].is_null(), "{body}");
    t.stop().await;
}

on_both_backends!(
    hearings_are_scheduled_ahead_held_and_postponed_in_date_order,
    an_appeal_chain_counts_only_the_verdict_in_force,
    deadlines_this_week_are_a_lawyers_own_and_overdue_ones_are_flagged,
    new_facts_keep_the_date_rules,
);
