//! The legal process as it really runs, through GraphQL on both stores: the codes of each
//! era (an article may not be applied before its code was in force), facts entered years
//! later counting in the years of their own dates, and defendants counted as persons.

use serde_json::{json, Value};
use tests::fixtures::{case_mutation, world, World};
use tests::{on_both_backends, Backend, TestApp};

async fn auditor(t: &TestApp) -> String {
    let d = t
        .ok(&t.admin, "mutation { createAccessToken(input: {name: \"auditor\", role: AUDITOR}) { token } }", json!({}))
        .await;
    d["createAccessToken"]["token"].as_str().unwrap().to_string()
}

/// A paper case entered today with its own dates: identified, assigned and accepted on the
/// given days, with a police report filed on `filed_on`. Returns (case, report).
async fn historic_case(
    t: &TestApp,
    w: &World,
    identified_on: &str,
    assigned_on: &str,
    filed_on: &str,
) -> (String, String) {
    let q = "mutation($i: OpenIntakeInput!) { openIntake(input: $i) { id } }";
    let d = t
        .ok(
            &w.intake,
            q,
            json!({ "i": {
                "identifiedOn": identified_on, "referralSource": "HOTLINE", "exploitationTypes": ["FORCED_LABOR"],
                "countryOfExploitation": "RU",
                "client": { "fullName": "Historic Client", "gender": "FEMALE", "ageAtIdentification": 29 },
                "consent": { "legalAid": true, "reportToPolice": true, "dataSharing": false } } }),
        )
        .await;
    let case = d["openIntake"]["id"].as_str().unwrap().to_string();
    case_mutation(
        t,
        &w.coordinator,
        "assignLawyer",
        "AssignLawyerInput",
        json!({"caseId": case, "lawyerId": w.lawyer_a_id, "assignedOn": assigned_on}),
    )
    .await;
    case_mutation(
        t,
        &w.lawyer_a,
        "acceptAssignment",
        "CaseIdInput",
        json!({"caseId": case, "acceptedOn": assigned_on}),
    )
    .await;
    let c = case_mutation(
        t,
        &w.lawyer_a,
        "filePoliceReport",
        "FilePoliceReportInput",
        json!({"caseId": case, "filedOn": filed_on, "policeUnit": "Osh city police"}),
    )
    .await;
    (case, c["policeReports"][0]["id"].as_str().unwrap().to_string())
}

async fn mutate(t: &TestApp, token: &str, name: &str, input_type: &str, input: Value) -> Value {
    let q = format!("mutation($i: {input_type}!) {{ {name}(input: $i) {{ id }} }}");
    t.gql(token, &q, json!({ "i": input })).await
}

fn code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}

async fn the_era_rule_refuses_an_article_of_a_code_not_yet_in_force(backend: Backend) {
    let mut t = TestApp::spawn(backend).await;
    let w = world(&t).await;
    let (case, report) = historic_case(&t, &w, "2018-01-10", "2018-01-15", "2018-03-01").await;

    // A 2021-Code article on a 2018 registration is refused, and the answer names the code
    // that was in force.
    let register =
        |code: &str| json!({"caseId": case, "reportId": report, "offenseCode": code, "registeredOn": "2018-05-03"});
    let body =
        mutate(&t, &w.lawyer_a, "recordOffenseRegistration", "RecordOffenseRegistrationInput", register("2021-166"))
            .await;
    assert_eq!(code(&body), Some("RULE_VIOLATION"), "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("2021-166") && message.contains("1997"), "says which code was in force: {message}");
    // So is an article of the 2017 Code, in force only from 1 January 2019.
    let body =
        mutate(&t, &w.lawyer_a, "recordOffenseRegistration", "RecordOffenseRegistrationInput", register("2017-171"))
            .await;
    assert_eq!(code(&body), Some("RULE_VIOLATION"), "{body}");
    // The 1997 Code's article is accepted. (Its fraud article is not verified and so not in
    // the catalogue: docs/offense-catalogue.md; trafficking, art. 124, is.)
    let c = case_mutation(
        &t,
        &w.lawyer_a,
        "recordOffenseRegistration",
        "RecordOffenseRegistrationInput",
        register("1997-124"),
    )
    .await;
    assert_eq!(c["policeReports"][0]["initialOffense"]["code"], "1997-124");
    // A reclassification follows the same rule; a repealed code's article stays usable.
    let reclassify = |code: &str, on: &str| json!({"caseId": case, "reportId": report, "offenseCode": code, "decidedOn": on, "decidedBy": "PROSECUTOR", "reason": "review"});
    let body =
        mutate(&t, &w.lawyer_a, "reclassifyOffense", "ReclassifyOffenseInput", reclassify("2021-170", "2018-09-01"))
            .await;
    assert_eq!(code(&body), Some("RULE_VIOLATION"), "{body}");
    let c = case_mutation(
        &t,
        &w.lawyer_a,
        "reclassifyOffense",
        "ReclassifyOffenseInput",
        reclassify("1997-125", "2019-06-01"),
    )
    .await;
    assert_eq!(c["policeReports"][0]["currentOffense"]["code"], "1997-125", "a repealed code's article stays usable");

    // The catalogue says when each code was in force, and from when its articles apply.
    let d =
        t.ok(&w.lawyer_a, "{ offenses { code inForceFrom inForceUntil appliesFrom editionName } }", json!({})).await;
    let of = |code: &str| d["offenses"].as_array().unwrap().iter().find(|o| o["code"] == code).unwrap().clone();
    assert_eq!(of("2017-171")["inForceFrom"], "2019-01-01");
    assert_eq!(of("1997-124")["inForceUntil"], "2018-12-31");
    assert_eq!(of("2021-166")["appliesFrom"], "2021-10-28");
    assert!(of("2021-209")["editionName"].as_str().unwrap().contains("No. 127"));
    t.stop().await;
}

async fn a_case_entered_today_with_its_2019_dates_counts_in_2019(backend: Backend) {
    let mut t = TestApp::spawn(backend).await;
    let w = world(&t).await;
    let auditor = auditor(&t).await;
    let (case, report) = historic_case(&t, &w, "2019-02-01", "2019-02-05", "2019-03-01").await;
    // Dates are checked: not in the future, not before the intake, an answer not before
    // the assignment.
    let other = historic_case(&t, &w, "2019-04-01", "2019-04-03", "2019-04-10").await.0;
    let body = mutate(
        &t,
        &w.coordinator,
        "assignLawyer",
        "AssignLawyerInput",
        json!({"caseId": other, "lawyerId": w.lawyer_b_id, "assignedOn": "2019-03-01"}),
    )
    .await;
    assert_eq!(code(&body), Some("RULE_VIOLATION"), "before the intake: {body}");
    let body = mutate(
        &t,
        &w.coordinator,
        "assignLawyer",
        "AssignLawyerInput",
        json!({"caseId": other, "lawyerId": w.lawyer_b_id, "assignedOn": "2999-01-01"}),
    )
    .await;
    assert_eq!(code(&body), Some("RULE_VIOLATION"), "in the future: {body}");
    let body = mutate(
        &t,
        &w.lawyer_a,
        "closeCase",
        "CaseReasonInput",
        json!({"caseId": other, "reason": "done", "declinedOn": "2019-05-01"}),
    )
    .await;
    assert_eq!(code(&body), Some("BAD_USER_INPUT"), "another command's date: {body}");

    case_mutation(
        &t,
        &w.lawyer_a,
        "recordOffenseRegistration",
        "RecordOffenseRegistrationInput",
        json!({"caseId": case, "reportId": report, "offenseCode": "2017-173", "registeredOn": "2019-03-10"}),
    )
    .await;
    case_mutation(
        &t,
        &w.lawyer_a,
        "referToService",
        "ReferToServiceInput",
        json!({"caseId": case, "service": "SHELTER", "referredOn": "2019-02-03"}),
    )
    .await;
    let q = "mutation($i: CaseReasonInput!) { closeCase(input: $i) { closedOn status } }";
    let d =
        t.ok(&w.lawyer_a, q, json!({"i": {"caseId": case, "reason": "represented", "closedOn": "2019-12-20"}})).await;
    assert_eq!(d["closeCase"]["closedOn"], "2019-12-20");
    assert_eq!(d["closeCase"]["status"], "CLOSED");
    let q = "mutation($i: CaseReasonInput!) { reopenCase(input: $i) { status } }";
    let body =
        t.gql(&w.lawyer_a, q, json!({"i": {"caseId": case, "reason": "appeal", "reopenedOn": "2019-12-01"}})).await;
    assert_eq!(code(&body), Some("RULE_VIOLATION"), "reopened before it was closed: {body}");

    // Every count of the case falls in 2019; none in the year it was entered.
    let q = "{ outcomeStats(groupBy: [YEAR]) { groups { key { value } counts { casesOpened lawyersAssigned policeReportsFiled registeredAsTip } } } }";
    let d = t.ok(&auditor, q, json!({})).await;
    let groups = d["outcomeStats"]["groups"].as_array().unwrap();
    let year = |y: &str| groups.iter().find(|g| g["key"][0]["value"] == y).map(|g| g["counts"].clone());
    let y2019 = year("2019").expect("a 2019 group");
    assert_eq!(y2019["casesOpened"], 2, "both paper cases were identified in 2019");
    assert_eq!(y2019["lawyersAssigned"], 2);
    assert_eq!(y2019["policeReportsFiled"], 2);
    assert_eq!(y2019["registeredAsTip"], 1);
    assert_eq!(groups.len(), 1, "nothing counts in the year of entry: {groups:?}");
    t.stop().await;
}

async fn defendants_counted_by_gender_match_what_was_recorded(backend: Backend) {
    let mut t = TestApp::spawn(backend).await;
    let w = world(&t).await;
    let auditor = auditor(&t).await;
    let (case, report) = historic_case(&t, &w, "2019-02-01", "2019-02-05", "2019-03-01").await;
    case_mutation(
        &t,
        &w.lawyer_a,
        "recordOffenseRegistration",
        "RecordOffenseRegistrationInput",
        json!({"caseId": case, "reportId": report, "offenseCode": "2017-173", "registeredOn": "2019-03-10"}),
    )
    .await;

    // Three men and two women are accused; one man is not charged.
    let q = "mutation($i: AddDefendantInput!) { addDefendant(input: $i) { policeReports { defendants { id gender role chargedWith { code } chargedOn } } } }";
    let add = |gender: &str, role: &str, charged: bool| {
        let mut i = json!({"caseId": case, "reportId": report, "gender": gender, "role": role, "ageAtOffense": 40,
            "citizenship": "kg", "chargedOn": "2019-03-15"});
        if charged {
            i["chargedWith"] = json!("2017-173");
        }
        json!({ "i": i })
    };
    let mut ids = vec![];
    for (gender, role, charged) in [
        ("MALE", "RECRUITER", true),
        ("MALE", "TRANSPORTER", true),
        ("MALE", "HARBOURER", false),
        ("FEMALE", "RECRUITER", true),
        ("FEMALE", "EXPLOITER", true),
    ] {
        let d = t.ok(&w.lawyer_a, q, add(gender, role, charged)).await;
        let list = d["addDefendant"]["policeReports"][0]["defendants"].as_array().unwrap().clone();
        ids.push(list.last().unwrap()["id"].as_str().unwrap().to_string());
        assert_eq!(list.last().unwrap()["gender"], gender);
    }
    // A charge follows the era rule too.
    let mut bad = add("MALE", "OTHER", true);
    bad["i"]["chargedWith"] = json!("2021-166");
    assert_eq!(code(&t.gql(&w.lawyer_a, q, bad).await), Some("RULE_VIOLATION"));
    // No name is taken or kept: the type has no field for one.
    let d = t.ok(&w.lawyer_a, "{ __type(name: \"Defendant\") { fields { name } } }", json!({})).await;
    let fields: Vec<&str> =
        d["__type"]["fields"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert!(fields.iter().all(|f| !f.to_lowercase().contains("name")), "{fields:?}");

    // Verdicts need the report in court; then each defendant gets their own.
    let verdict = |i: usize, outcome: &str| json!({"caseId": case, "reportId": report, "defendantId": ids[i], "outcome": outcome, "decidedOn": "2020-02-10", "sentenceMonths": 60});
    let body =
        mutate(&t, &w.lawyer_a, "recordDefendantVerdict", "RecordDefendantVerdictInput", verdict(0, "CONVICTED")).await;
    assert_eq!(code(&body), Some("RULE_VIOLATION"), "not in court yet: {body}");
    case_mutation(
        &t,
        &w.lawyer_a,
        "recordInvestigationOutcome",
        "RecordInvestigationOutcomeInput",
        json!({"caseId": case, "reportId": report, "outcome": "SENT_TO_COURT", "decidedOn": "2019-09-01"}),
    )
    .await;
    for (i, outcome) in [(0, "CONVICTED"), (1, "ACQUITTED"), (3, "CONVICTED"), (4, "CONVICTED")] {
        let body =
            mutate(&t, &w.lawyer_a, "recordDefendantVerdict", "RecordDefendantVerdictInput", verdict(i, outcome)).await;
        assert!(body["errors"].is_null(), "{body}");
    }
    let body =
        mutate(&t, &w.lawyer_a, "recordDefendantVerdict", "RecordDefendantVerdictInput", verdict(0, "ACQUITTED")).await;
    assert_eq!(code(&body), Some("RULE_VIOLATION"), "one verdict per defendant: {body}");

    // Persons, by their own gender, in the years of the charge and of the verdict.
    let q = "{ outcomeStats(groupBy: [DEFENDANT_GENDER, YEAR]) { totals { defendantsCharged defendantsConvicted } groups { key { value } counts { defendantsCharged defendantsConvicted } } } }";
    let d = t.ok(&auditor, q, json!({})).await;
    let s = &d["outcomeStats"];
    assert_eq!(s["totals"]["defendantsCharged"], 4, "the uncharged man is not counted as charged");
    assert_eq!(s["totals"]["defendantsConvicted"], 3);
    let cell = |gender: &str, year: &str, field: &str| {
        s["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["key"][0]["value"] == gender && g["key"][1]["value"] == year)
            .map(|g| g["counts"][field].as_i64().unwrap())
            .unwrap_or(0)
    };
    assert_eq!(cell("MALE", "2019", "defendantsCharged"), 2);
    assert_eq!(cell("FEMALE", "2019", "defendantsCharged"), 2);
    assert_eq!(cell("MALE", "2020", "defendantsConvicted"), 1);
    assert_eq!(cell("FEMALE", "2020", "defendantsConvicted"), 2);
    // The client's own GENDER dimension is untouched by the defendants' genders.
    let d = t
        .ok(
            &auditor,
            "{ outcomeStats(groupBy: [GENDER]) { groups { key { value } counts { defendantsCharged } } } }",
            json!({}),
        )
        .await;
    let groups = d["outcomeStats"]["groups"].as_array().unwrap();
    assert!(groups.iter().all(|g| g["key"][0]["value"] == "FEMALE"), "the client is a woman: {groups:?}");
    // The case page lists them with their charges and verdicts.
    let d = t.ok(&w.lawyer_a, "query($c: ID!) { case(id: $c) { policeReports { defendants { gender chargedWith { code } verdict { outcome decidedOn } } } } }", json!({"c": case})).await;
    let list = d["case"]["policeReports"][0]["defendants"].as_array().unwrap();
    assert_eq!(list.len(), 5);
    assert_eq!(list[0]["verdict"]["outcome"], "CONVICTED");
    assert!(list[2]["chargedWith"].is_null() && list[2]["verdict"].is_null());
    t.stop().await;
}

/// A defendant's relationship to the client: recorded when known, null when not, kept
/// through a rebuild of the read models; a value outside the list is refused.
async fn a_defendants_relationship_to_the_client_is_recorded_when_known(backend: Backend) {
    let mut t = TestApp::spawn(backend).await;
    let w = world(&t).await;
    let (case, report) = historic_case(&t, &w, "2019-02-01", "2019-02-05", "2019-03-01").await;
    let q = "mutation($i: AddDefendantInput!) { addDefendant(input: $i) { policeReports { defendants { role relationship } } } }";
    let add = |relationship: Option<&str>| {
        let mut i = json!({"caseId": case, "reportId": report, "gender": "MALE", "role": "RECRUITER", "chargedOn": "2019-03-15"});
        if let Some(r) = relationship {
            i["relationship"] = json!(r);
        }
        json!({ "i": i })
    };
    let d = t.ok(&w.lawyer_a, q, add(Some("EMPLOYER"))).await;
    assert_eq!(d["addDefendant"]["policeReports"][0]["defendants"][0]["relationship"], "EMPLOYER");
    let d = t.ok(&w.lawyer_a, q, add(None)).await;
    assert!(d["addDefendant"]["policeReports"][0]["defendants"][1]["relationship"].is_null(), "{d}");
    let body = t.gql(&w.lawyer_a, q, add(Some("NEIGHBOUR"))).await;
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("DefendantRelationship"), "{body}");
    // Another lawyer may not add one, with or without a relationship.
    let body = t.gql(&w.lawyer_b, q, add(Some("FAMILY"))).await;
    assert!(body["errors"].is_array(), "{body}");
    t.app.rebuild_read_models().await.unwrap();
    let d = t
        .ok(
            &w.lawyer_a,
            "query($c: ID!) { case(id: $c) { policeReports { defendants { relationship } } } }",
            json!({"c": case}),
        )
        .await;
    let list = d["case"]["policeReports"][0]["defendants"].as_array().unwrap();
    assert_eq!(
        (list.len(), &list[0]["relationship"], list[1]["relationship"].is_null()),
        (2, &json!("EMPLOYER"), true)
    );
    t.stop().await;
}

async fn compensation_is_claimed_awarded_paid_and_summed_per_currency(backend: Backend) {
    let mut t = TestApp::spawn(backend).await;
    let w = world(&t).await;
    let auditor = auditor(&t).await;
    let (case, report) = historic_case(&t, &w, "2019-02-01", "2019-02-05", "2019-03-01").await;
    let step = |amount: i64, currency: &str, on: &str| json!({"caseId": case, "reportId": report, "amount": amount, "currency": currency, "on": on});
    // Nothing is awarded or paid before it is claimed.
    let body =
        mutate(&t, &w.lawyer_a, "recordCompensationAward", "CompensationInput", step(1, "KGS", "2019-05-01")).await;
    assert_eq!(code(&body), Some("RULE_VIOLATION"), "{body}");
    let q = |name: &str| {
        format!("mutation($i: CompensationInput!) {{ {name}(input: $i) {{ policeReports {{ compensation {{ currency claimed claimedOn awarded awardedOn paid lastPaidOn }} }} }} }}")
    };
    t.ok(&w.lawyer_a, &q("claimCompensation"), json!({"i": step(500_000, "kgs", "2019-04-01")})).await;
    let body =
        mutate(&t, &w.lawyer_a, "recordCompensationAward", "CompensationInput", step(300_000, "RUB", "2019-12-01"))
            .await;
    assert_eq!(code(&body), Some("RULE_VIOLATION"), "another currency than the claim's: {body}");
    t.ok(&w.lawyer_a, &q("recordCompensationAward"), json!({"i": step(300_000, "KGS", "2019-12-01")})).await;
    t.ok(&w.lawyer_a, &q("recordCompensationPayment"), json!({"i": step(100_000, "KGS", "2019-12-20")})).await;
    let d = t.ok(&w.lawyer_a, &q("recordCompensationPayment"), json!({"i": step(50_000, "KGS", "2020-03-01")})).await;
    let c = &d["recordCompensationPayment"]["policeReports"][0]["compensation"];
    assert_eq!(
        (c["currency"].as_str(), c["claimed"].as_i64(), c["awarded"].as_i64(), c["paid"].as_i64()),
        (Some("KGS"), Some(500_000), Some(300_000), Some(150_000))
    );
    assert_eq!(c["lastPaidOn"], "2020-03-01");
    let body =
        mutate(&t, &w.lawyer_a, "recordCompensationPayment", "CompensationInput", step(150_001, "KGS", "2020-04-01"))
            .await;
    assert_eq!(code(&body), Some("RULE_VIOLATION"), "payments may not exceed the award: {body}");
    let body =
        mutate(&t, &w.lawyer_a, "recordCompensationPayment", "CompensationInput", step(0, "KGS", "2020-04-01")).await;
    assert_eq!(code(&body), Some("BAD_USER_INPUT"), "{body}");

    // Sums per currency, each amount in the period of its own date; counts by year.
    let d = t
        .ok(&auditor, "{ compensationTotals { currency claimed awarded paid claims awards payments } }", json!({}))
        .await;
    assert_eq!(
        d["compensationTotals"],
        json!([{"currency": "KGS", "claimed": 500000, "awarded": 300000, "paid": 150000, "claims": 1, "awards": 1, "payments": 2}])
    );
    let d = t
        .ok(&auditor, "{ compensationTotals(filter: {from: \"2020-01-01\"}) { currency paid claimed } }", json!({}))
        .await;
    assert_eq!(d["compensationTotals"], json!([{"currency": "KGS", "paid": 50000, "claimed": 0}]));
    let d = t.ok(&auditor, "{ outcomeStats(groupBy: [YEAR]) { groups { key { value } counts { compensationClaimed compensationAwarded compensationPaid } } } }", json!({})).await;
    let groups = d["outcomeStats"]["groups"].as_array().unwrap();
    let year = |y: &str| groups.iter().find(|g| g["key"][0]["value"] == y).unwrap()["counts"].clone();
    assert_eq!(year("2019"), json!({"compensationClaimed": 1, "compensationAwarded": 1, "compensationPaid": 1}));
    assert_eq!(year("2020")["compensationPaid"], 1);
    t.stop().await;
}

on_both_backends!(
    the_era_rule_refuses_an_article_of_a_code_not_yet_in_force,
    a_case_entered_today_with_its_2019_dates_counts_in_2019,
    defendants_counted_by_gender_match_what_was_recorded,
    a_defendants_relationship_to_the_client_is_recorded_when_known,
    compensation_is_claimed_awarded_paid_and_summed_per_currency,
);
