//! Importing historic cases from CSV (`probono import cases`, docs/import.md), on both
//! stores: a file imported twice creates its cases once; every fact counts in the year of
//! its own date, not the year it was entered; a dry run reports each row's problems by row
//! and column and writes nothing; the identities in the file are sealed like a hand-entered
//! one's and appear nowhere in the database in plaintext.

use api::access::Principal;
use api::app::import::ImportReport;
use api::app::Caller;
use serde_json::json;
use std::collections::BTreeMap;
use tests::fixtures::{world, World};
use tests::{on_both_backends, Backend, TestApp};

const HEADER: &str = "externalRef,organizationId,identifiedOn,referralSource,exploitationTypes,countryOfExploitation,gender,ageAtIdentification,citizenship,region,fullName,dateOfBirth,contact,legalAid,reportToPolice,dataSharing,guardianGivenBy,guardianGivenOn,lawyerId,assignedOn,acceptedOn,filedOn,policeUnit,offenseCode,registeredOn,refusedOn,refusalReason,reclassifiedTo,reclassifiedOn,reclassifiedBy,reclassificationReason,investigationOutcome,investigationDecidedOn,closedOn,closeReason";

/// The client's name in row `i`: unusual enough that finding it in a dump means a leak.
fn client_name(i: usize) -> String {
    format!("Zhyldyzkan Importova-{i:03}")
}

/// What the generated file holds, year by year, for the assertions.
#[derive(Default, Debug, PartialEq)]
struct Expected {
    opened: BTreeMap<String, i64>,
    filed: BTreeMap<String, i64>,
    registered_tip: BTreeMap<String, i64>,
    refused: BTreeMap<String, i64>,
    reclassified_to_tip: BTreeMap<String, i64>,
}

/// `n` historic cases of 2016–2021 (the row's year is 2016 + i mod 6): every fact dated in
/// its own year, the articles of the code in force on each date.
fn historic_file(w: &World, n: usize) -> (String, Expected) {
    let mut out = String::from(HEADER);
    out.push('\n');
    let mut e = Expected::default();
    for i in 0..n {
        let year = 2016 + (i % 6) as i32;
        let y = year.to_string();
        let lawyer = if i % 2 == 0 { &w.lawyer_a_id } else { &w.lawyer_b_id };
        *e.opened.entry(y.clone()).or_default() += 1;
        // Every fourth case never reached the police.
        let reported = i % 4 != 3;
        // Trafficking under the code in force: the 1997 Code to 2018, the 2017 Code from 2019
        // (the 2021 Code applies only from 28 October 2021). Forced labour under the 1997
        // Code throughout: a repealed code's article stays usable for acts of its time.
        let tip = if year < 2019 { "1997-124" } else { "2017-171" };
        let related = "1997-125";
        let mut cols: Vec<String> = vec![
            format!("HIST-{i:04}"),
            w.org.clone(),
            format!("{y}-02-{:02}", 1 + i % 27),
            "NGO_OUTREACH".into(),
            if i % 3 == 0 { "FORCED_LABOR;SEXUAL".into() } else { "FORCED_LABOR".into() },
            "RU".into(),
            if i % 2 == 0 { "FEMALE".into() } else { "MALE".into() },
            (16 + i % 30).to_string(),
            "KG".into(),
            "OSH".into(),
            client_name(i),
            format!("{}-06-15", 1970 + i % 30),
            format!("+996 555 {i:06}"),
            "true".into(),
            "true".into(),
            "false".into(),
            // The minors (16 and 17) have a parent's consent, as legal aid for a minor needs.
            if 16 + i % 30 < 18 { "PARENT".into() } else { String::new() },
            String::new(),
            lawyer.clone(),
            format!("{y}-03-01"),
            format!("{y}-03-02"),
        ];
        if reported {
            *e.filed.entry(y.clone()).or_default() += 1;
            cols.push(format!("{y}-04-01"));
            cols.push("Osh city police".into());
            match i % 4 {
                // Registered as trafficking.
                0 => {
                    *e.registered_tip.entry(y.clone()).or_default() += 1;
                    cols.extend([tip.into(), format!("{y}-05-01"), String::new(), String::new()]);
                    cols.extend([String::new(), String::new(), String::new(), String::new()]);
                }
                // Registered as forced labour, then reclassified to trafficking by the
                // prosecutor the same year.
                1 => {
                    *e.reclassified_to_tip.entry(y.clone()).or_default() += 1;
                    cols.extend([related.into(), format!("{y}-05-01"), String::new(), String::new()]);
                    cols.extend([tip.into(), format!("{y}-09-01"), "PROSECUTOR".into(), "review".into()]);
                }
                // Refused.
                _ => {
                    *e.refused.entry(y.clone()).or_default() += 1;
                    cols.extend([String::new(), String::new(), format!("{y}-05-01"), "no grounds".into()]);
                    cols.extend([String::new(), String::new(), String::new(), String::new()]);
                }
            }
            if i % 4 == 0 {
                cols.extend(["SENT_TO_COURT".into(), format!("{y}-10-01")]);
            } else {
                cols.extend([String::new(), String::new()]);
            }
        } else {
            cols.extend(std::iter::repeat_n(String::new(), 12));
        }
        if i % 5 != 0 {
            cols.extend([format!("{y}-12-01"), "legal aid completed".into()]);
        } else {
            cols.extend([String::new(), String::new()]);
        }
        assert_eq!(cols.len(), HEADER.split(',').count(), "row {i}");
        out.push_str(&cols.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    (out, e)
}

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A COORDINATOR's caller: the role that imports a register of historic cases.
async fn coordinator(t: &TestApp) -> Caller {
    let d = t
        .ok(
            &t.admin,
            "mutation { createAccessToken(input: {name: \"importing coordinator\", role: COORDINATOR}) { account { id name } } }",
            json!({}),
        )
        .await;
    let id = d["createAccessToken"]["account"]["id"].as_str().unwrap().parse().unwrap();
    let principal = Principal {
        account_id: id,
        name: "importing coordinator".into(),
        role: domain::values::Role::Coordinator,
        organization_id: None,
        lawyer_id: None,
        token_id: uuid::Uuid::nil(),
        approved: true,
    };
    Caller::new(principal, "import-test")
}

async fn event_count(t: &TestApp) -> i64 {
    match &t.app.db {
        projections::Db::Postgres(p) => sqlx::query_scalar("SELECT COUNT(*) FROM events").fetch_one(p).await.unwrap(),
        projections::Db::Sqlite(p) => sqlx::query_scalar("SELECT COUNT(*) FROM events").fetch_one(p).await.unwrap(),
    }
}

fn by_year(d: &serde_json::Value, field: &str) -> BTreeMap<String, i64> {
    let mut m = BTreeMap::new();
    for g in d["outcomeStats"]["groups"].as_array().unwrap() {
        let n = g["counts"][field].as_i64().unwrap();
        if n > 0 {
            m.insert(g["key"][0]["value"].as_str().unwrap().to_string(), n);
        }
    }
    m
}

fn summary(r: &ImportReport) -> String {
    let problems: Vec<String> = r.problems.iter().take(10).map(|p| p.to_string()).collect();
    format!("{r:?}: {}", problems.join("; "))
}

async fn a_file_imported_twice_creates_its_cases_once_in_their_own_years(backend: Backend) {
    let t = TestApp::spawn(backend).await;
    let w = world(&t).await;
    let importer = coordinator(&t).await;
    let (file, expected) = historic_file(&w, 200);
    let before = event_count(&t).await;

    let first = t.app.import_cases(&importer, file.as_bytes(), false).await.expect("import");
    assert!(first.ok(), "{}", summary(&first));
    assert_eq!((first.rows, first.created, first.unchanged), (200, 200, 0), "{}", summary(&first));
    let after_first = event_count(&t).await;
    assert!(after_first - before >= first.steps_run as i64, "at least one event per step");
    assert!(first.steps_run > 200 * 4);

    // The same file again: nothing is created twice.
    let second = t.app.import_cases(&importer, file.as_bytes(), false).await.expect("re-import");
    assert!(second.ok(), "{}", summary(&second));
    assert_eq!((second.created, second.unchanged, second.steps_run), (0, 200, 0), "{}", summary(&second));
    assert_eq!(event_count(&t).await, after_first, "the second run wrote no event");
    let d = t.ok(&w.coordinator, "{ cases(first: 1) { totalCount } }", json!({})).await;
    assert_eq!(d["cases"]["totalCount"], 200);

    // Every fact in the year of its own date: nothing counts in the year it was entered.
    tests::wait_projected(&t.app).await;
    let q = "{ outcomeStats(groupBy: [YEAR]) { groups { key { value } counts { casesOpened policeReportsFiled registeredAsTip registrationRefused reclassifiedToTip sentToCourt } } } }";
    let d = t.ok(&w.auditor, q, json!({})).await;
    assert_eq!(by_year(&d, "casesOpened"), expected.opened);
    assert_eq!(by_year(&d, "policeReportsFiled"), expected.filed);
    assert_eq!(by_year(&d, "registeredAsTip"), expected.registered_tip);
    assert_eq!(by_year(&d, "registrationRefused"), expected.refused);
    assert_eq!(by_year(&d, "reclassifiedToTip"), expected.reclassified_to_tip);
    assert_eq!(by_year(&d, "sentToCourt"), expected.registered_tip, "every TIP registration was sent to court");
    let today = chrono::Utc::now().format("%Y").to_string();
    assert!(!by_year(&d, "casesOpened").contains_key(&today), "nothing counts in the year of entry");

    // The chain verifies; the intake was recorded as an intake (the organisation's role).
    let d = t.ok(&w.auditor, "{ verifyAuditTrail { ok checkedEvents } }", json!({})).await;
    assert_eq!(d["verifyAuditTrail"]["ok"], true, "{d}");
    let case = api::app::import::case_id_for(w.org.parse().unwrap(), "HIST-0007").to_string();
    let d = t
        .ok(&w.auditor, "query($c: ID!) { auditTrail(caseId: $c) { eventType actor { id role } } }", json!({"c": case}))
        .await;
    let trail = d["auditTrail"].as_array().unwrap();
    assert_eq!(trail[0]["eventType"], "IntakeOpened");
    assert_eq!(trail[0]["actor"]["role"], "INTAKE_WORKER");
    assert_eq!(trail[0]["actor"]["id"], importer.principal.account_id.to_string(), "the importing account");

    // The identity is sealed like a hand-entered one: the organisation's intake worker
    // reads it back; nowhere in the database is it in plaintext.
    let d = t.ok(&w.intake, "query($c: ID!) { case(id: $c) { identity { fullName } } }", json!({"c": case})).await;
    assert_eq!(d["case"]["identity"]["fullName"], client_name(7));
    let dump = tests::dump_database(&t.app.db).await;
    for i in [0, 7, 99, 199] {
        assert!(!dump.contains(&client_name(i)), "row {i}'s name in plaintext in the database");
        assert!(!dump.contains(&format!("555 {i:06}")), "row {i}'s contact in plaintext in the database");
    }
    assert!(!dump.contains("Zhyldyzkan"), "a client's name in plaintext in the database");
}

async fn a_dry_run_reports_every_problem_by_row_and_column_and_writes_nothing(backend: Backend) {
    let t = TestApp::spawn(backend).await;
    let w = world(&t).await;
    let importer = coordinator(&t).await;
    let (good, _) = historic_file(&w, 6);
    let mut lines: Vec<String> = good.lines().map(str::to_string).collect();
    let cols = |line: &str| line.split(',').map(str::to_string).collect::<Vec<_>>();
    let col = |name: &str| HEADER.split(',').position(|c| c == name).unwrap();
    // Row 2 (the first case): a date that is no date and an unknown gender.
    let mut r = cols(&lines[1]);
    r[col("identifiedOn")] = "14.03.2019".into();
    r[col("gender")] = "F".into();
    lines[1] = r.join(",");
    // Row 3: no name.
    let mut r = cols(&lines[2]);
    r[col("fullName")] = String::new();
    lines[2] = r.join(",");
    // Row 4 (a 2018 case): an article of the 2021 Code on a 2018 registration.
    let mut r = cols(&lines[3]);
    assert!(r[col("identifiedOn")].starts_with("2018"));
    r[col("offenseCode")] = "2021-166".into();
    r[col("registeredOn")] = "2018-05-01".into();
    r[col("refusedOn")] = String::new();
    r[col("refusalReason")] = String::new();
    lines[3] = r.join(",");
    // Row 6: a report without a lawyer.
    let mut r = cols(&lines[5]);
    r[col("lawyerId")] = String::new();
    r[col("assignedOn")] = String::new();
    r[col("acceptedOn")] = String::new();
    lines[5] = r.join(",");
    // Row 7: a reclassification to an offence code the catalogue does not have.
    let mut r = cols(&lines[6]);
    assert!(!r[col("reclassifiedTo")].is_empty());
    r[col("reclassifiedTo")] = "1997-999".into();
    lines[6] = r.join(",");
    let file = lines.join("\n") + "\n";

    let before = event_count(&t).await;
    let report = t.app.import_cases(&importer, file.as_bytes(), true).await.expect("dry run");
    let found: Vec<(usize, Option<&str>)> = report.problems.iter().map(|p| (p.row, p.column.as_deref())).collect();
    for (row, column) in [
        (2, "identifiedOn"),
        (2, "gender"),
        (3, "fullName"),
        (4, "registeredOn"),
        (6, "filedOn"),
        (7, "reclassifiedTo"),
    ] {
        assert!(found.contains(&(row, Some(column))), "no problem at row {row}, column {column}: {}", summary(&report));
    }
    // Row 5 is fine; no problem names it.
    assert!(found.iter().all(|(row, _)| *row != 5), "{}", summary(&report));
    let era = report.problems.iter().find(|p| p.row == 4).unwrap();
    assert!(era.message.contains("2021-166") && era.message.contains("1997"), "{}", era.message);
    // No problem message repeats a client's name.
    assert!(report.problems.iter().all(|p| !p.message.contains("Zhyldyzkan")));
    assert_eq!(event_count(&t).await, before, "a dry run writes nothing");

    // A file with problems is not imported even without --dry-run.
    let report = t.app.import_cases(&importer, file.as_bytes(), false).await.expect("import");
    assert!(!report.ok());
    assert_eq!(report.steps_run, 0);
    assert_eq!(event_count(&t).await, before, "a file with problems imports nothing");

    // A clean file's dry run says what it would create, and creates nothing.
    let report = t.app.import_cases(&importer, good.as_bytes(), true).await.expect("dry run");
    assert!(report.ok(), "{}", summary(&report));
    assert_eq!((report.created, report.steps_run), (6, 0));
    assert_eq!(event_count(&t).await, before);
    let d = t.ok(&w.coordinator, "{ cases(first: 1) { totalCount } }", json!({})).await;
    assert_eq!(d["cases"]["totalCount"], 0);

    // A wrong header is named column by column.
    let bad = good.replacen("externalRef", "externalReference", 1);
    let report = t.app.import_cases(&importer, bad.as_bytes(), true).await.expect("dry run");
    let found: Vec<(usize, Option<&str>)> = report.problems.iter().map(|p| (p.row, p.column.as_deref())).collect();
    assert!(found.contains(&(1, Some("externalReference"))), "{}", summary(&report));
    assert!(found.contains(&(1, Some("externalRef"))), "{}", summary(&report));
}

/// The command line: `probono import cases FILE --dry-run` prints each problem with its
/// row and column and exits with 3; the import itself then succeeds on a clean file.
async fn the_command_line_imports_and_dry_runs(backend: Backend) {
    let mut t = TestApp::spawn(backend).await;
    let w = world(&t).await;
    t.stop().await;
    let (good, _) = historic_file(&w, 3);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cases.csv");
    let bad = good.replacen(",FEMALE,", ",WOMAN,", 1);
    std::fs::write(&path, &bad).unwrap();
    let key = t.db.key_file.display().to_string();
    let url = t.db.url.clone();
    let file = path.display().to_string();
    let args = |dry: bool| {
        let mut a =
            vec!["import", "cases", file.as_str(), "--database-url", url.as_str(), "--master-key-file", key.as_str()];
        if dry {
            a.push("--dry-run");
        }
        a.into_iter().map(str::to_string).collect::<Vec<_>>()
    };
    let run = |a: Vec<String>| async move {
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        tests::run_probono(&refs).await
    };
    let out = run(args(true)).await;
    assert_eq!(out.code, Some(3), "{} {}", out.stdout, out.stderr);
    assert!(out.stdout.contains("row 2, column gender: must be one of FEMALE"), "{}", out.stdout);
    std::fs::write(&path, &good).unwrap();
    let out = run(args(false)).await;
    assert_eq!(out.code, Some(0), "{} {}", out.stdout, out.stderr);
    assert!(out.stderr.contains("created 3 cases"), "{}", out.stderr);
    let out = run(args(false)).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stderr.contains("created 0 cases") && out.stderr.contains("3 already imported"), "{}", out.stderr);
}

on_both_backends!(
    a_file_imported_twice_creates_its_cases_once_in_their_own_years,
    a_dry_run_reports_every_problem_by_row_and_column_and_writes_nothing,
    the_command_line_imports_and_dry_runs,
);
