//! The articles of each era through GraphQL, on both stores: the era rule refuses an
//! article of the 2021 Code (fraud, art. 209) on a 2018 registration and of the 2017 Code
//! before 2019, and accepts a 1997-Code fraud entry on a 2016 registration (the 1997 Code's
//! fraud article is not verified, so the catalogue does not ship it: the ADMIN adds it, as
//! docs/offense-catalogue.md says); the verified 2017-Code entries are in the catalogue.

use api::access::Principal;
use api::app::Caller;
use serde_json::{json, Value};
use tests::fixtures::{world, World};
use tests::{on_both_backends, Backend, TestApp};

/// A historic case with an accepted lawyer and a report filed on `filed_on`, entered with
/// the CSV import. Returns (case, report).
async fn historic_case(t: &TestApp, w: &World, reference: &str, year: i32) -> (String, String) {
    let file = format!(
        "externalRef,organizationId,identifiedOn,referralSource,exploitationTypes,gender,fullName,legalAid,reportToPolice,dataSharing,lawyerId,assignedOn,acceptedOn,filedOn,policeUnit\n\
         {reference},{org},{year}-01-10,HOTLINE,FORCED_LABOR,FEMALE,Era Client,true,true,false,{lawyer},{year}-01-15,{year}-01-16,{year}-03-01,Bishkek police\n",
        org = w.org,
        lawyer = w.lawyer_a_id,
    );
    let principal = Principal { role: domain::values::Role::Coordinator, ..Principal::system() };
    let report = t.app.import_cases(&Caller::new(principal, "era-test"), file.as_bytes(), false).await.expect("import");
    assert!(report.ok(), "{:?}", report.problems);
    let case = api::app::import::case_id_for(w.org.parse().unwrap(), reference).to_string();
    let d = t.ok(&w.lawyer_a, "query($c: ID!) { case(id: $c) { policeReports { id } } }", json!({"c": case})).await;
    (case, d["case"]["policeReports"][0]["id"].as_str().unwrap().to_string())
}

fn code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}

async fn register(t: &TestApp, w: &World, case: &str, report: &str, offense: &str, on: &str) -> Value {
    let q = "mutation($i: RecordOffenseRegistrationInput!) { recordOffenseRegistration(input: $i) { policeReports { initialOffense { code } currentCategory } } }";
    t.gql(
        &w.lawyer_a,
        q,
        json!({"i": {"caseId": case, "reportId": report, "offenseCode": offense, "registeredOn": on}}),
    )
    .await
}

async fn the_era_rule_applies_to_the_fraud_articles_of_each_code(backend: Backend) {
    let t = TestApp::spawn(backend).await;
    let w = world(&t).await;

    // A 2021-Code article (fraud, 209) on a 2018 registration: refused, naming the code
    // in force then.
    let (case, report) = historic_case(&t, &w, "ERA-2018", 2018).await;
    let body = register(&t, &w, &case, &report, "2021-209", "2018-05-03").await;
    assert_eq!(code(&body), Some("RULE_VIOLATION"), "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("2021-209") && message.contains("1 October 1997 No. 68"), "{message}");
    // So is a 2017-Code article before 1 January 2019.
    let body = register(&t, &w, &case, &report, "2017-175", "2018-05-03").await;
    assert_eq!(code(&body), Some("RULE_VIOLATION"), "{body}");

    // The 1997 Code's fraud article, added by the ADMIN (the shipped file has none: its
    // number is not verified), is accepted on a 2016 registration and counts as fraud.
    let d = t
        .ok(
            &t.admin,
            "mutation($i: AddOffenseInput!) { addOffense(input: $i) { code edition category } }",
            json!({"i": {"edition": "1997", "article": "FRAUD", "title": "Fraud (article number not verified)",
                         "titleRu": "Мошенничество", "category": "FRAUD", "source": "test: an ADMIN's entry"}}),
        )
        .await;
    assert_eq!(d["addOffense"]["code"], "1997-FRAUD");
    let (case, report) = historic_case(&t, &w, "ERA-2016", 2016).await;
    let body = register(&t, &w, &case, &report, "1997-FRAUD", "2016-05-03").await;
    assert!(body["errors"].is_null(), "{body}");
    let r = &body["data"]["recordOffenseRegistration"]["policeReports"][0];
    assert_eq!(r["initialOffense"]["code"], "1997-FRAUD");
    assert_eq!(r["currentCategory"], "FRAUD");
    // The 2021 fraud article on a 2016 registration is refused too.
    let (case, report) = historic_case(&t, &w, "ERA-2016-B", 2016).await;
    let body = register(&t, &w, &case, &report, "2021-209", "2016-05-03").await;
    assert_eq!(code(&body), Some("RULE_VIOLATION"), "{body}");

    // The verified 2017-Code entries: accepted from 2019, with their category.
    let (case, report) = historic_case(&t, &w, "ERA-2019", 2019).await;
    let body = register(&t, &w, &case, &report, "2017-175", "2019-05-03").await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(body["data"]["recordOffenseRegistration"]["policeReports"][0]["currentCategory"], "TIP_RELATED");
    let d = t.ok(&w.auditor, "{ offenses { code title category } }", json!({})).await;
    let offenses = d["offenses"].as_array().unwrap();
    let find = |c: &str| offenses.iter().find(|o| o["code"] == c).cloned().unwrap_or(Value::Null);
    assert_eq!(find("2017-171")["title"], "Trafficking in persons");
    assert_eq!(find("2017-176")["category"], "TIP_RELATED");
    assert_eq!(find("2021-209")["category"], "FRAUD");
    // No fraud article of the 1997 or 2017 Code is shipped under a guessed number.
    for guessed in ["1997-166", "2017-209"] {
        assert!(find(guessed).is_null(), "{guessed} is not verified and must not be shipped");
    }
}

on_both_backends!(the_era_rule_applies_to_the_fraud_articles_of_each_code);
