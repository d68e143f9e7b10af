//! The outcomes dashboard over plain HTTP, on the demo ledger plus one planted case: its
//! numbers are `outcomeStats`' numbers for the same filters, each links to the cases behind
//! it, its CSV suppresses small cells with the export's own code, the official figures stand
//! beside the ledger's (no figure is not zero), and an auditor sees no identity anywhere.

use crate::web::{serve_web, user, Agent};
use api::app::App;
use domain::values::Role;
use serde_json::{json, Value};
use std::sync::Arc;
use tests::fixtures::{case_mutation, represented_case, world, CLIENT_NAME};
use tests::{on_both_backends, Backend, TestApp};

pub async fn seed_demo(t: &TestApp) {
    let clock = Arc::new(domain::ManualClock::new(chrono::NaiveDate::from_ymd_opt(2016, 1, 1).unwrap()));
    let seeder = App::open_with_clock(&t.db.store_args(), clock.clone()).await.unwrap();
    let s = api::demo::seed(&seeder, &clock).await.unwrap();
    assert_eq!(s.published_figures, 36, "three sources, two indicators, six years");
    tests::wait_projected(&t.app).await;
}

/// The number a funnel row of the page links with (`…kind=KIND">N</a>`).
fn funnel_number(html: &str, kind: &str) -> i64 {
    let pat = format!("kind={kind}\">");
    let i = html.find(&pat).unwrap_or_else(|| panic!("no funnel cell for {kind}"));
    let rest = &html[i + pat.len()..];
    rest[..rest.find('<').unwrap()].parse().unwrap()
}

const FUNNEL: &[(&str, &str)] = &[
    ("CASES_OPENED", "casesOpened"),
    ("LAWYERS_ASSIGNED", "lawyersAssigned"),
    ("POLICE_REPORTS_FILED", "policeReportsFiled"),
    ("REGISTERED_AS_TIP", "registeredAsTip"),
    ("REGISTERED_AS_TIP_RELATED", "registeredAsTipRelated"),
    ("REGISTERED_AS_FRAUD", "registeredAsFraud"),
    ("REGISTERED_AS_OTHER", "registeredAsOther"),
    ("REGISTRATION_REFUSED", "registrationRefused"),
    ("RECLASSIFIED_TO_TIP", "reclassifiedToTip"),
    ("SENT_TO_COURT", "sentToCourt"),
    ("CONVICTIONS", "convictions"),
    ("ACQUITTALS", "acquittals"),
];

fn counts_fields() -> String {
    FUNNEL.iter().map(|(_, f)| *f).collect::<Vec<_>>().join(" ")
}

async fn the_dashboard_shows_outcome_stats_and_publishes_them_safely(backend: Backend) {
    let t = TestApp::spawn(backend).await;
    seed_demo(&t).await;
    // A planted client of an organisation of its own: a report registered as fraud.
    let w = world(&t).await;
    let case = represented_case(&t, &w).await;
    let c = case_mutation(
        &t,
        &w.lawyer_a,
        "filePoliceReport",
        "FilePoliceReportInput",
        json!({"caseId": case, "filedOn": "2022-04-01", "policeUnit": "Osh"}),
    )
    .await;
    let report = c["policeReports"][0]["id"].as_str().unwrap().to_string();
    case_mutation(
        &t,
        &w.lawyer_a,
        "recordOffenseRegistration",
        "RecordOffenseRegistrationInput",
        json!({"caseId": case, "reportId": report, "offenseCode": "2021-209", "registeredOn": "2022-04-03"}),
    )
    .await;
    user(&t, "auditor", Role::Auditor, None, None).await;
    let base = serve_web(&t, false).await;
    let mut a = Agent::new(&base, "ky");
    let r = a.sign_in("auditor").await;
    assert_eq!(r.status, 303, "{}", r.body);

    // 1. The page's numbers are outcomeStats' for the same filters, the picked dimensions
    //    (gender, age group, exploitation type) read as outcomeStats groups them.
    let page = a.get("/app/dashboard?from=2017-01-01&to=2020-12-31&gender=FEMALE&ageGroup=ADULT").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<html lang=\"ky\">") && page.body.contains("Алдамчылык катары катталды"));
    assert!(page.body.contains("<svg role=\"img\""), "charts drawn on the server");
    let q = format!(
        "{{ outcomeStats(filter: {{from: \"2017-01-01\", to: \"2020-12-31\"}}, groupBy: [GENDER, AGE_GROUP]) {{ groups {{ key {{ value }} counts {{ {} }} }} }} }}",
        counts_fields()
    );
    let d = t.ok(&w.auditor, &q, json!({})).await;
    let group = d["outcomeStats"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"][0]["value"] == "FEMALE" && g["key"][1]["value"] == "ADULT")
        .expect("adult women in the demo")
        .clone();
    for (kind, field) in FUNNEL {
        assert_eq!(funnel_number(&page.body, kind), group["counts"][field].as_i64().unwrap(), "{kind}");
    }
    assert!(funnel_number(&page.body, "REGISTERED_AS_FRAUD") > funnel_number(&page.body, "REGISTERED_AS_TIP"));
    // Unfiltered, and by region: the totals of outcomeStats.
    for (path, filter) in [("/app/dashboard", "{}"), ("/app/dashboard?region=OSH", "{region: OSH}")] {
        let page = a.get(path).await;
        let q = format!("{{ outcomeStats(filter: {filter}) {{ totals {{ {} }} }} }}", counts_fields());
        let totals = t.ok(&w.auditor, &q, json!({})).await["outcomeStats"]["totals"].clone();
        for (kind, field) in FUNNEL {
            assert_eq!(funnel_number(&page.body, kind), totals[field].as_i64().unwrap(), "{path} {kind}");
        }
    }

    // 2. Every number links to the cases behind it: the planted organisation's one fraud.
    let page = a.get(&format!("/app/dashboard?organizationId={}", w.org)).await;
    assert_eq!(funnel_number(&page.body, "REGISTERED_AS_FRAUD"), 1);
    let link = format!("/app/dashboard/cases?organizationId={}&kind=REGISTERED_AS_FRAUD", w.org);
    assert!(page.body.contains(&link.replace('&', "&amp;")), "the number links to its cases");
    let cases = a.get(&link).await;
    assert_eq!(cases.status, 200, "{}", cases.body);
    let reference = case.replace('-', "")[..8].to_uppercase();
    assert!(cases.body.contains(&reference) && cases.body.contains(&format!("/app/cases/{case}")));
    let all_fraud = a.get("/app/dashboard/cases?kind=REGISTERED_AS_FRAUD&year=2022").await;
    assert!(all_fraud.body.contains(&reference), "the year's cases include the planted one");
    let none =
        a.get(&format!("/app/dashboard/cases?kind=REGISTERED_AS_FRAUD&year=2016&organizationId={}", w.org)).await;
    assert!(!none.body.contains(&reference), "a filter that excludes the case excludes it");

    // 3. The CSV: the export's suppression, cells from 1 to 4 never printed.
    let csv = a.get(&format!("/app/dashboard/export.csv?view=funnel&organizationId={}", w.org)).await;
    assert_eq!(csv.status, 200);
    assert!(csv.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(csv.headers["content-disposition"].to_str().unwrap().starts_with("attachment"));
    let total: Vec<&str> = csv.body.lines().last().unwrap().split(',').collect();
    let header: Vec<&str> = csv.body.lines().next().unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == "registered_as_fraud").unwrap();
    assert_eq!(total[col], "<5", "the planted organisation's single fraud is suppressed: {}", csv.body);
    let years = a.get("/app/dashboard/export.csv?view=years").await;
    let q =
        "{ outcomeStats(groupBy: [YEAR]) { groups { key { value } counts { registeredAsTip registeredAsFraud } } } }";
    let d = t.ok(&w.auditor, q, json!({})).await;
    let mut rows = years.body.lines();
    let header: Vec<&str> = rows.next().unwrap().split(',').collect();
    let (tip, fraud) = (
        header.iter().position(|h| *h == "registered_as_tip").unwrap(),
        header.iter().position(|h| *h == "registered_as_fraud").unwrap(),
    );
    let mut suppressed = 0;
    for row in rows {
        let cells: Vec<&str> = row.split(',').collect();
        if cells[0] == "TOTAL" {
            continue;
        }
        let g =
            d["outcomeStats"]["groups"].as_array().unwrap().iter().find(|g| g["key"][0]["value"] == cells[0]).unwrap();
        for (i, field) in [(tip, "registeredAsTip"), (fraud, "registeredAsFraud")] {
            let n = g["counts"][field].as_i64().unwrap();
            if (1..5).contains(&n) {
                assert_eq!(cells[i], "<5", "{} {field} = {n} must be suppressed", cells[0]);
            }
            if cells[i] == "<5" {
                suppressed += 1;
            } else {
                assert_eq!(cells[i].parse::<i64>().unwrap(), n, "{} {field}", cells[0]);
                assert!(n == 0 || n >= 5);
            }
        }
    }
    assert!(suppressed > 0, "the demo has small cells by year: {}", years.body);
    // The publication view shows the page as the CSV shows it.
    let published = a.get(&format!("/app/dashboard?organizationId={}&publish=on", w.org)).await;
    assert!(!published.body.contains("kind=REGISTERED_AS_FRAUD\">1<"), "no count under 5 in the publication view");
    assert!(published.body.contains("&lt;5"));

    // 4. Official figures beside the ledger's count: the seed report's three series.
    let q = "{ publishedFigures(indicator: \"registered TIP cases\") { source citation year value ledgerValue } }";
    let figures = t.ok(&w.auditor, q, json!({})).await["publishedFigures"].as_array().unwrap().clone();
    assert_eq!(figures.len(), 18);
    let series = |source: &str| -> Vec<i64> {
        figures.iter().filter(|f| f["source"] == source).map(|f| f["value"].as_i64().unwrap()).collect()
    };
    assert_eq!(series("National Statistics Committee"), [7, 2, 8, 11, 8, 6]);
    assert_eq!(series("MOI/GPO"), [7, 4, 8, 9, 7, 9]);
    assert_eq!(series("US TIP Report"), [8, 4, 10, 8, 40, 6]);
    let by_year = t
        .ok(
            &w.auditor,
            "{ outcomeStats(groupBy: [YEAR]) { groups { key { value } counts { registeredAsTip } } } }",
            json!({}),
        )
        .await;
    for f in &figures {
        let year = f["year"].as_i64().unwrap().to_string();
        let ledger = by_year["outcomeStats"]["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["key"][0]["value"] == year.as_str())
            .map_or(0, |g| g["counts"]["registeredAsTip"].as_i64().unwrap());
        assert_eq!(f["ledgerValue"].as_i64().unwrap(), ledger, "{year}");
    }
    // No figure is not zero.
    let record = "mutation($i: RecordPublishedFigureInput!) { recordPublishedFigure(input: $i) { source year value ledgerValue } }";
    let input = |value: Value| json!({"i": {"source": "Test source", "citation": "p. 1", "indicator": "registered TIP cases", "year": 2019, "value": value}});
    let none = t.ok(&w.auditor, record, input(Value::Null)).await;
    assert_eq!(none["recordPublishedFigure"]["value"], Value::Null);
    let q = "{ publishedFigures(indicator: \"REGISTERED TIP CASES\") { source value } }";
    let stored = t.ok(&w.auditor, q, json!({})).await;
    let test_row =
        |d: &Value| d["publishedFigures"].as_array().unwrap().iter().find(|f| f["source"] == "Test source").cloned();
    assert_eq!(test_row(&stored).unwrap()["value"], Value::Null, "stored as no figure, not 0");
    t.ok(&w.auditor, record, input(json!(0))).await;
    let stored = t.ok(&w.auditor, q, json!({})).await;
    assert_eq!(test_row(&stored).unwrap()["value"], 0, "a correction to zero is a zero");
    let other = t
        .ok(
            &w.auditor,
            "{ publishedFigures(indicator: \"prosecuted cases\") { source year value ledgerValue } }",
            json!({}),
        )
        .await;
    let moi_2016 = other["publishedFigures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["source"] == "MOI/GPO" && f["year"] == 2016)
        .unwrap()
        .clone();
    assert_eq!((moi_2016["value"].clone(), moi_2016["ledgerValue"].clone()), (Value::Null, Value::Null));
    let bad = t
        .err(
            &w.auditor,
            record,
            json!({"i": {"source": "S", "citation": "c", "indicator": "i", "year": 2019, "value": -1}}),
        )
        .await;
    assert_eq!(bad, "BAD_USER_INPUT");
    let refused = t.err(&w.coordinator, record, input(json!(3))).await;
    assert_eq!(refused, "FORBIDDEN");
    // On the page: one table per indicator, sources and ledger side by side, "no figure" shown.
    let page = a.get("/app/dashboard").await;
    for s in ["National Statistics Committee", "MOI/GPO", "US TIP Report", "registered TIP cases", "prosecuted cases"] {
        assert!(page.body.contains(s), "{s}");
    }
    assert!(page.body.contains("реестрден айырмаланат"), "differences are said in words");
    assert!(page.body.contains("маалымат жарыяланган эмес"), "no figure is said in words");
    // Recorded through the dashboard's form; a wrong year is explained, nothing recorded.
    let fields = [
        ("source", "Form source"),
        ("citation", "p. 2"),
        ("indicator", "registered TIP cases"),
        ("year", "3000"),
        ("value", ""),
    ];
    let r = a.submit("/app/dashboard", "/app/dashboard/figures", &fields).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("1990"));
    let fields = [
        ("source", "Form source"),
        ("citation", "p. 2"),
        ("indicator", "registered TIP cases"),
        ("year", "2020"),
        ("value", ""),
    ];
    let r = a.submit("/app/dashboard", "/app/dashboard/figures", &fields).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let stored = t.ok(&w.auditor, q, json!({})).await;
    let row = stored["publishedFigures"].as_array().unwrap().iter().find(|f| f["source"] == "Form source").cloned();
    assert_eq!(row.unwrap()["value"], Value::Null);
    // The figures' events are on the audited, hash-chained log like every other.
    let verified = t.ok(&t.admin, "{ verifyAuditTrail { ok checkedEvents } }", json!({})).await;
    assert_eq!(verified["verifyAuditTrail"]["ok"], true);

    // 5. No identity on any of these pages, in any form, for an auditor.
    for path in [
        "/app/dashboard".to_string(),
        format!("/app/dashboard?organizationId={}", w.org),
        link.clone(),
        "/app/dashboard/cases?kind=CASES_OPENED&year=2020".to_string(),
        format!("/app/cases/{case}"),
        "/app/dashboard/export.csv?view=funnel".to_string(),
        "/app/dashboard/export.csv?view=years".to_string(),
        "/app/dashboard/export.csv?view=authorities".to_string(),
    ] {
        let r = a.get(&path).await;
        assert_eq!(r.status, 200, "{path}");
        for secret in [CLIENT_NAME, "Kadyrova", "+996 555 000 111", "Passport taken"] {
            assert!(!r.body.contains(secret), "{path} shows {secret}");
        }
    }
    // Other roles: a coordinator sees the dashboard without the form; an intake worker not at all.
    user(&t, "coordinator", Role::Coordinator, None, None).await;
    user(&t, "intake", Role::IntakeWorker, Some(&w.org), None).await;
    let mut c = Agent::new(&base, "ru");
    c.sign_in("coordinator").await;
    let p = c.get("/app/dashboard").await;
    assert_eq!(p.status, 200);
    assert!(!p.body.contains("/app/dashboard/figures"));
    let mut i = Agent::new(&base, "ru");
    i.sign_in("intake").await;
    assert_eq!(i.get("/app/dashboard").await.status, 404);
    assert_eq!(i.get("/app/dashboard/export.csv").await.status, 404);
}

on_both_backends!(the_dashboard_shows_outcome_stats_and_publishes_them_safely);
