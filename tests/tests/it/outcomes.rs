//! Outcomes an auditor can trust: statistics that follow API.md's counting rules, read
//! models that a rebuild reproduces exactly, a log order that survives out-of-order commits,
//! and several server instances on one PostgreSQL database.

use api::app::App;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tests::fixtures::token;
use tests::{on_both_backends, Backend, TestApp};

async fn seed_demo(t: &TestApp) -> api::demo::SeedSummary {
    let clock = Arc::new(domain::ManualClock::new(chrono::NaiveDate::from_ymd_opt(2016, 1, 1).unwrap()));
    let seeder = App::open_with_clock(&t.db.store_args(), clock.clone()).await.unwrap();
    let s = api::demo::seed(&seeder, &clock).await.unwrap();
    assert!(!s.already_present);
    let again = api::demo::seed(&seeder, &clock).await.unwrap();
    assert!(again.already_present, "the seed is idempotent");
    // The server's own projector follows what the seeder wrote.
    tests::wait_projected(&t.app).await;
    s
}

const COUNTS: &str = "casesOpened lawyersAssigned policeReportsFiled registeredAsTip registeredAsTipRelated
    registeredAsFraud registeredAsOther registrationRefused reclassifiedToTip reclassifiedFromTip
    returnedForInvestigation sentToCourt convictions acquittals dismissals";

async fn statistics_answer_the_auditors_questions(backend: Backend) {
    let mut t = TestApp::spawn(backend).await;
    let seeded = seed_demo(&t).await;
    let auditor = token(&t, "AUDITOR", None, None).await;

    // Totals agree with what was seeded.
    let q = format!("{{ outcomeStats {{ totals {{ {COUNTS} }} groups {{ key {{ value }} }} }} }}");
    let d = t.ok(&auditor, &q, json!({})).await;
    let totals = &d["outcomeStats"]["totals"];
    assert_eq!(totals["casesOpened"], seeded.cases);
    assert_eq!(totals["policeReportsFiled"], seeded.police_reports);
    assert!(d["outcomeStats"]["groups"].as_array().unwrap().is_empty());
    let registered_or_refused =
        ["registeredAsTip", "registeredAsTipRelated", "registeredAsFraud", "registeredAsOther", "registrationRefused"]
            .iter()
            .map(|k| totals[k].as_i64().unwrap())
            .sum::<i64>();
    assert_eq!(
        registered_or_refused,
        totals["policeReportsFiled"].as_i64().unwrap(),
        "every demo report is registered or refused once"
    );
    assert!(
        totals["registeredAsFraud"].as_i64().unwrap() > totals["registeredAsTip"].as_i64().unwrap(),
        "the report's pattern: fraud dominates"
    );
    assert!(totals["reclassifiedToTip"].as_i64().unwrap() > 0);

    // 1. Reports first registered as fraud, by year and region: the groups add up.
    let d = t
        .ok(&auditor, "{ outcomeStats(groupBy: [YEAR, REGION]) { totals { registeredAsFraud } groups { key { dimension value } counts { registeredAsFraud } } } }", json!({}))
        .await;
    let groups = d["outcomeStats"]["groups"].as_array().unwrap();
    let sum: i64 = groups.iter().map(|g| g["counts"]["registeredAsFraud"].as_i64().unwrap()).sum();
    assert_eq!(sum, d["outcomeStats"]["totals"]["registeredAsFraud"].as_i64().unwrap());
    assert_eq!(groups[0]["key"][0]["dimension"], "YEAR");
    assert_eq!(groups[0]["key"][1]["dimension"], "REGION");
    assert!(groups.iter().all(|g| g["key"][0]["value"].as_str().unwrap().len() == 4));

    // 2. Of those, how many are now TIP, and by which authority.
    let d = t
        .ok(&auditor, "{ outcomeStats(groupBy: [AUTHORITY]) { totals { reclassifiedToTip } groups { key { value } counts { reclassifiedToTip } } } }", json!({}))
        .await;
    let by_authority: i64 = d["outcomeStats"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["key"][0]["value"] == "PROSECUTOR")
        .map(|g| g["counts"]["reclassifiedToTip"].as_i64().unwrap())
        .sum();
    assert_eq!(
        by_authority,
        d["outcomeStats"]["totals"]["reclassifiedToTip"].as_i64().unwrap(),
        "the demo's reclassifications are the prosecutor's"
    );

    // 3. Convictions by offence code and year.
    let d = t
        .ok(&auditor, "{ outcomeStats(groupBy: [OFFENSE_CODE, YEAR]) { totals { convictions } groups { key { value } counts { convictions } } } }", json!({}))
        .await;
    let convictions: i64 = d["outcomeStats"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["counts"]["convictions"].as_i64().unwrap())
        .sum();
    assert_eq!(convictions, d["outcomeStats"]["totals"]["convictions"].as_i64().unwrap());

    // One count per exploitation type: grouping by type can only add.
    let d = t
        .ok(&auditor, "{ outcomeStats(groupBy: [EXPLOITATION_TYPE]) { totals { casesOpened } groups { key { value } counts { casesOpened } } } }", json!({}))
        .await;
    let per_type: i64 = d["outcomeStats"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["counts"]["casesOpened"].as_i64().unwrap())
        .sum();
    assert!(
        per_type > d["outcomeStats"]["totals"]["casesOpened"].as_i64().unwrap(),
        "cases with two types count under each"
    );

    // Filters: a date range counts each count by its own date.
    let d = t
        .ok(&auditor, "{ all: outcomeStats(groupBy: [YEAR]) { groups { key { value } counts { casesOpened } } }
                         y2020: outcomeStats(filter: {from: \"2020-01-01\", to: \"2020-12-31\"}) { totals { casesOpened } } }", json!({}))
        .await;
    let in_2020 = d["all"]["groups"].as_array().unwrap().iter().find(|g| g["key"][0]["value"] == "2020").unwrap()
        ["counts"]["casesOpened"]
        .clone();
    assert_eq!(d["y2020"]["totals"]["casesOpened"], in_2020);
    assert_eq!(
        t.err(
            &auditor,
            "{ outcomeStats(filter: {from: \"2021-01-01\", to: \"2020-01-01\"}) { totals { casesOpened } } }",
            json!({})
        )
        .await,
        "BAD_USER_INPUT"
    );

    // The network: 33 members, 14 professionals and 19 students, 24 women and 9 men.
    let d = t
        .ok(&auditor, "{ networkStats(groupBy: [STATUS]) { total groups { key { dimension value } count } } g: networkStats(groupBy: [GENDER, TRAINED]) { total groups { key { value } count } } }", json!({}))
        .await;
    assert_eq!(d["networkStats"]["total"], 33);
    let count = |v: &serde_json::Value, key: &str| -> i64 {
        v["groups"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|g| g["key"][0]["value"] == key)
            .map(|g| g["count"].as_i64().unwrap())
            .sum()
    };
    assert_eq!(count(&d["networkStats"], "PROFESSIONAL"), 14);
    assert_eq!(count(&d["networkStats"], "STUDENT"), 19);
    assert_eq!(count(&d["g"], "FEMALE"), 24);
    assert_eq!(count(&d["g"], "MALE"), 9);

    // Statistics are for oversight roles.
    let lawyer_id = d["networkStats"]["groups"][0]["key"][0]["value"].clone();
    let _ = lawyer_id;
    let intake_org = t
        .ok(&t.admin, "mutation { registerOrganization(input: {name: \"Other NGO\", kind: NGO}) { id } }", json!({}))
        .await;
    let intake = token(&t, "INTAKE_WORKER", intake_org["registerOrganization"]["id"].as_str(), None).await;
    assert_eq!(t.err(&intake, "{ outcomeStats { totals { casesOpened } } }", json!({})).await, "FORBIDDEN");

    // The in-memory index and the SQL fact table agree, for every dimension and filter.
    use projections::stats::{Dimension as D, StatsFilter};
    let filters = [
        StatsFilter::default(),
        StatsFilter { from: "2019-01-01".parse().ok(), to: "2021-06-30".parse().ok(), ..Default::default() },
        StatsFilter {
            offense_category: Some(domain::values::OffenseCategory::Tip),
            region: Some(domain::values::Region::Osh),
            ..Default::default()
        },
    ];
    let dim_sets: [&[D]; 5] = [
        &[],
        &[D::Year, D::Region],
        &[D::ExploitationType, D::OffenseCode],
        &[D::Authority, D::LawyerStatus, D::AgeGroup],
        &[D::Organization, D::CountryOfExploitation, D::Gender, D::OffenseCategory],
    ];
    for f in &filters {
        for dims in dim_sets {
            let sql = projections::stats::outcome_stats(&t.app.db, f, dims).await.unwrap();
            let indexed = t.app.outcome_stats(&api::app::Caller::system("test"), f, dims).await.unwrap();
            assert!(t.app.projector.cache().stats.is_loaded(), "the projecting instance answers from its index");
            assert_eq!(sql, indexed, "index and SQL differ for {dims:?} with {f:?}");
        }
    }

    // Milliseconds over the demo data (informative; the benchmark holds the target).
    let started = std::time::Instant::now();
    for _ in 0..20 {
        t.ok(
            &auditor,
            "{ outcomeStats(groupBy: [YEAR, REGION]) { groups { counts { registeredAsFraud } } } }",
            json!({}),
        )
        .await;
    }
    eprintln!(
        "outcomeStats YEAR×REGION over the demo data: {:.2} ms per request",
        started.elapsed().as_secs_f64() * 1000.0 / 20.0
    );
    t.stop().await;
}

async fn a_rebuild_equals_the_live_read_models(backend: Backend) {
    let mut t = TestApp::spawn(backend).await;
    seed_demo(&t).await;
    // Live changes after the seed, of kinds the seed never makes: an erasure, a revoked
    // token, a deactivated lawyer, one deactivated and reactivated, a retired offence.
    let auditor = token(&t, "AUDITOR", None, None).await;
    let coordinator = token(&t, "COORDINATOR", None, None).await;
    let case = t.ok(&auditor, "{ cases(first: 1) { edges { node { id } } } }", json!({})).await["cases"]["edges"][0]
        ["node"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let erased = t
        .ok(
            &t.admin,
            "mutation($c: ID!) { eraseClientData(input: {caseId: $c, reason: \"client request\"}) { erased } }",
            json!({"c": case}),
        )
        .await;
    assert_eq!(erased["eraseClientData"]["erased"], true);
    let temp = t
        .ok(
            &t.admin,
            "mutation { createAccessToken(input: {name: \"temp\", role: AUDITOR}) { token tokenId } }",
            json!({}),
        )
        .await;
    let (temp_token, temp_id) = (
        temp["createAccessToken"]["token"].as_str().unwrap().to_string(),
        temp["createAccessToken"]["tokenId"].as_str().unwrap().to_string(),
    );
    t.ok(&t.admin, "mutation($id: ID!) { revokeAccessToken(tokenId: $id) { id } }", json!({"id": temp_id})).await;
    assert_eq!(t.err(&temp_token, "{ me { id } }", json!({})).await, "UNAUTHENTICATED");
    let lawyers = t.ok(&auditor, "{ lawyers { id active } }", json!({})).await["lawyers"].clone();
    let lawyers: Vec<String> =
        lawyers.as_array().unwrap().iter().map(|l| l["id"].as_str().unwrap().to_string()).collect();
    let deactivate =
        "mutation($l: ID!) { deactivateLawyer(input: {lawyerId: $l, reason: \"left the network\"}) { active } }";
    for l in &lawyers[..2] {
        let d = t.ok(&coordinator, deactivate, json!({"l": l})).await;
        assert_eq!(d["deactivateLawyer"]["active"], false);
    }
    let d = t
        .ok(&coordinator, "mutation($l: ID!) { reactivateLawyer(lawyerId: $l) { active } }", json!({"l": lawyers[1]}))
        .await;
    assert_eq!(d["reactivateLawyer"]["active"], true);
    let d = t
        .ok(
            &t.admin,
            "mutation { retireOffense(input: {code: \"2021-209\", reason: \"superseded\"}) { retired } }",
            json!({}),
        )
        .await;
    assert_eq!(d["retireOffense"]["retired"], true);
    tests::wait_projected(&t.app).await;
    // The read models show every change before they are compared with a rebuild.
    let d = t
        .ok(
            &auditor,
            "query($c: ID!) { case(id: $c) { erased } lawyers { id active } offenses { code retired } }",
            json!({"c": case}),
        )
        .await;
    assert_eq!(d["case"]["erased"], true);
    let active = |id: &str| d["lawyers"].as_array().unwrap().iter().find(|l| l["id"] == id).unwrap()["active"].clone();
    assert_eq!((active(&lawyers[0]), active(&lawyers[1])), (json!(false), json!(true)));
    assert!(d["offenses"].as_array().unwrap().iter().any(|o| o["code"] == "2021-209" && o["retired"] == true));
    t.stop().await;
    let live = tests::read_model_rows(&t.app.db).await;
    // The replay must see every committed event (see `wait_projected`).
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while projections::log::visible_head(&t.app.db).await.unwrap()
        < projections::log::committed_head(&t.app.db).await.unwrap()
    {
        assert!(std::time::Instant::now() < deadline, "events stayed invisible");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(live["rm_case"].len() >= 100 && live["rm_fact"].len() > 500, "the comparison must cover real data");
    assert!(live["rm_token"].iter().any(|r| r.contains(&temp_id)), "the revoked token is in the comparison");
    let n = projections::projector::rebuild(&t.app.db).await.unwrap();
    assert_eq!(n as i64, projections::log::count(&t.app.db).await.unwrap());
    let rebuilt = tests::read_model_rows(&t.app.db).await;
    for (table, rows) in &live {
        assert_eq!(rows.len(), rebuilt[table].len(), "row count of {table}");
        assert!(rows == &rebuilt[table], "{table} differs after a rebuild");
    }
}

on_both_backends!(statistics_answer_the_auditors_questions, a_rebuild_equals_the_live_read_models);

// ---------------------------------------------------------------- PostgreSQL only

fn forged_organization_event(id: &str, name: &str) -> (serde_json::Value, serde_json::Value, String) {
    let payload = json!({"OrganizationRegistered": {"organization_id": id, "name": name, "kind": "NGO"}});
    let metadata = json!({"actor_id": uuid::Uuid::nil().to_string(), "actor_role": "ADMIN", "correlation_id": "test"});
    let hash = domain::chain::event_hash(
        domain::chain::GENESIS,
        &domain::chain::ChainedEvent {
            aggregate_type: "Organization",
            aggregate_id: id,
            sequence: 1,
            event_type: "OrganizationRegistered",
            event_version: "1.0",
            payload: &payload,
            metadata: &metadata,
        },
    );
    (payload, metadata, hash)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_out_of_order_commits_are_neither_skipped_nor_applied_twice() {
    let mut t = TestApp::spawn(Backend::Postgres).await;
    let projections::Db::Postgres(pool) = t.app.db.clone() else { unreachable!() };

    // A writer takes a position, then stays open while others commit after it.
    let slow_id = uuid::Uuid::new_v4().to_string();
    let (payload, metadata, hash) = forged_organization_event(&slow_id, "Slow Writer NGO");
    let mut slow = pool.begin().await.unwrap();
    let slow_pos: i64 = sqlx::query_scalar(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata, prev_hash, hash) \
         VALUES ('Organization', $1, 1, 'OrganizationRegistered', '1.0', $2, $3, $4, $5) RETURNING position",
    )
    .bind(&slow_id)
    .bind(&payload)
    .bind(&metadata)
    .bind(domain::chain::GENESIS)
    .bind(&hash)
    .fetch_one(&mut *slow)
    .await
    .unwrap();

    let mut fast = vec![];
    for i in 0..5 {
        let q = format!("mutation {{ registerOrganization(input: {{name: \"Fast NGO {i}\", kind: NGO}}) {{ id }} }}");
        let url = t.url("/graphql");
        let token = t.admin.clone();
        fast.push(tokio::spawn(async move {
            reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .json(&json!({"query": q}))
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }));
    }
    // While the slow transaction is open, the projector must not pass it.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let cp = projections::store::read_checkpoint(&t.app.db).await.unwrap();
    let later: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE position > $1")
        .bind(slow_pos)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(later >= 5, "the fast writers committed after the slow one took its position");
    let applied_later: i64 = sqlx::query_scalar("SELECT count(*) FROM rm_organization WHERE name LIKE 'Fast NGO%'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        applied_later, 0,
        "nothing from a later transaction is applied while an earlier one is open (checkpoint {cp})"
    );

    slow.commit().await.unwrap();
    for f in fast {
        let v = f.await.unwrap();
        assert!(v.get("errors").is_none(), "{v}");
    }
    tests::wait_projected(&t.app).await;
    let names: Vec<String> =
        sqlx::query_scalar("SELECT name FROM rm_organization ORDER BY name").fetch_all(&pool).await.unwrap();
    assert_eq!(names.iter().filter(|n| n.starts_with("Fast NGO")).count(), 5);
    assert_eq!(names.iter().filter(|n| *n == "Slow Writer NGO").count(), 1, "the late commit is not skipped");
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE aggregate_type = 'Organization'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(names.len() as i64, events, "each event applied exactly once");
    assert_eq!(t.app.projector.status().events_applied as i64, projections::log::count(&t.app.db).await.unwrap());
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_two_instances_share_one_projector_and_take_over() {
    let mut a = TestApp::spawn(Backend::Postgres).await;
    // A second server on the same database.
    let b_app = App::open(&a.db.store_args()).await.unwrap();
    let b_projector = tokio::spawn(b_app.projector.clone().run());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let b_url = format!("http://{}/graphql", listener.local_addr().unwrap());
    let router = api::http::router(b_app.clone(), true);
    let b_server = tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(a.app.projector.status().leader);
    assert!(!b_app.projector.status().leader, "only one instance projects");

    let admin = a.admin.clone();
    let via_b = |name: &str| {
        let q = format!("mutation {{ registerOrganization(input: {{name: \"{name}\", kind: NGO}}) {{ id name }} }}");
        let (url, token) = (b_url.clone(), admin.clone());
        async move {
            reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .json(&json!({"query": q}))
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    // A write through the follower is projected by the leader and read back by both.
    let v = via_b("Through B").await;
    assert_eq!(v["data"]["registerOrganization"]["name"], "Through B", "{v}");
    let d = a.ok(&a.admin, "{ organizations { name } }", json!({})).await;
    assert!(d["organizations"].as_array().unwrap().iter().any(|o| o["name"] == "Through B"));

    // The leader stops: the follower takes over and keeps projecting.
    a.stop().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !b_app.projector.status().leader && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(b_app.projector.status().leader, "the follower takes over");
    let v = via_b("After takeover").await;
    assert_eq!(v["data"]["registerOrganization"]["name"], "After takeover", "{v}");
    b_app.projector.stop();
    let _ = tokio::time::timeout(Duration::from_secs(5), b_projector).await;
    b_server.abort();
}

/// The statistics index, loaded at start-up (`warm_statistics`), answers what SQL answers;
/// eight requests that find it missing at once all get the same answer and leave it loaded.
async fn the_statistics_index_loads_once_and_answers_as_sql_does(backend: Backend) {
    let t = TestApp::spawn(backend).await;
    seed_demo(&t).await;
    tests::wait_projected(&t.app).await;
    let auditor = token(&t, "AUDITOR", None, None).await;
    let q = "{ outcomeStats(groupBy: [YEAR, GENDER]) { totals { casesOpened registeredAsTip registeredAsFraud } groups { key { dimension value } counts { casesOpened registeredAsFraud } } } }";
    let cache = t.app.projector.cache();
    cache.stats.unload();
    assert!(!cache.stats.is_loaded());
    // Unloaded, with no index to answer from, eight requests at once (they wait for one load).
    let asks = (0..8).map(|_| t.ok(&auditor, q, json!({})));
    let answers = futures::future::join_all(asks).await;
    assert!(cache.stats.is_loaded(), "the index was loaded by the first request");
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "every request got the same answer");
    // The same numbers from SQL (no index) and from the index loaded at start-up.
    cache.stats.unload();
    let filter = projections::stats::StatsFilter::default();
    let dims = [projections::stats::Dimension::Year, projections::stats::Dimension::Gender];
    let sql = projections::stats::outcome_stats(&t.app.db, &filter, &dims).await.unwrap();
    t.app.warm_statistics().await;
    assert!(cache.stats.is_loaded(), "warmed at start-up");
    assert_eq!(cache.stats.query(&filter, &dims), Some(sql));
    assert_eq!(t.ok(&auditor, q, json!({})).await, answers[0]);
    // Loaded in pages of one, two, three cases (every page boundary between two cases), it
    // still answers what SQL answers, dimension by dimension.
    use projections::stats::Dimension as D;
    let mut dim_sets: Vec<Vec<D>> = D::ALL.iter().map(|d| vec![*d]).collect();
    dim_sets.push(vec![D::ExploitationType, D::OffenseCode]);
    for page in [1, 2, 3] {
        let paged = projections::stats::StatsIndex::default();
        let ix = projections::store::load_stats_index_paged(&t.app.db, page).await.unwrap();
        assert!(paged.install(ix, || true));
        for dims in &dim_sets {
            let sql = projections::stats::outcome_stats(&t.app.db, &filter, dims).await.unwrap();
            assert_eq!(paged.query(&filter, dims), Some(sql), "pages of {page}: {dims:?}");
        }
    }
}

on_both_backends!(the_statistics_index_loads_once_and_answers_as_sql_does);

/// The statistics index follows the live projector's batches — new cases appended, cases
/// whose facts grow (a report filed, registered, reclassified) rewritten in place or moved —
/// and keeps answering what SQL answers, filters combined with two dimensions included.
async fn the_statistics_index_follows_batches_and_answers_filtered_groupings_as_sql_does(backend: Backend) {
    use projections::stats::{Dimension as D, StatsFilter};
    let t = TestApp::spawn(backend).await;
    seed_demo(&t).await;
    let w = tests::fixtures::world(&t).await;
    tests::wait_projected(&t.app).await;
    t.app.warm_statistics().await;
    let cache = t.app.projector.cache();
    assert!(cache.stats.is_loaded());
    for _ in 0..3 {
        let c = tests::fixtures::open_case(&t, &w, true).await;
        let vars = json!({"c": c, "l": w.lawyer_a_id});
        t.ok(
            &w.coordinator,
            "mutation($c: ID!, $l: ID!) { assignLawyer(input: {caseId: $c, lawyerId: $l}) { id } }",
            vars,
        )
        .await;
        t.ok(&w.lawyer_a, "mutation($c: ID!) { acceptAssignment(input: {caseId: $c}) { id } }", json!({"c": c})).await;
        let r = t
            .ok(&w.lawyer_a, "mutation($c: ID!) { filePoliceReport(input: {caseId: $c, filedOn: \"2020-04-01\", policeUnit: \"Osh city\"}) { policeReports { id } } }", json!({"c": c}))
            .await;
        let vars = json!({"c": c, "r": r["filePoliceReport"]["policeReports"][0]["id"]});
        t.ok(&w.lawyer_a, "mutation($c: ID!, $r: ID!) { recordOffenseRegistration(input: {caseId: $c, reportId: $r, offenseCode: \"2021-209\", registeredOn: \"2022-02-03\"}) { id } }", vars.clone())
            .await;
        t.ok(&w.lawyer_a, "mutation($c: ID!, $r: ID!) { reclassifyOffense(input: {caseId: $c, reportId: $r, offenseCode: \"2021-166\", decidedOn: \"2022-09-03\", decidedBy: PROSECUTOR, reason: \"review\"}) { id } }", vars)
            .await;
    }
    tests::wait_projected(&t.app).await;
    assert!(cache.stats.is_loaded(), "batches update the index; they do not drop it");
    let org = uuid::Uuid::parse_str(&w.org).unwrap();
    let lawyer = uuid::Uuid::parse_str(&w.lawyer_a_id).unwrap();
    let day = |s: &str| s.parse().ok();
    let filters = [
        StatsFilter::default(),
        StatsFilter { organization_id: Some(org), from: day("2020-01-01"), ..Default::default() },
        StatsFilter { lawyer_id: Some(lawyer), to: day("2022-06-30"), ..Default::default() },
        StatsFilter {
            region: Some(domain::values::Region::JalalAbad),
            offense_category: Some(domain::values::OffenseCategory::Tip),
            ..Default::default()
        },
        StatsFilter { from: day("2021-01-01"), to: day("2022-12-31"), ..Default::default() },
    ];
    let dim_sets: [&[D]; 5] = [
        &[D::Year, D::Region],
        &[D::OffenseCode, D::Gender],
        &[D::ExploitationType, D::Year],
        &[D::Organization, D::OffenseCategory],
        &[D::Authority, D::LawyerStatus],
    ];
    for f in &filters {
        for dims in dim_sets {
            let sql = projections::stats::outcome_stats(&t.app.db, f, dims).await.unwrap();
            let indexed = cache.stats.query(f, dims).expect("answered from the index");
            assert_eq!(sql, indexed, "index and SQL differ for {dims:?} with {f:?}");
        }
    }
    let mine = cache.stats.query(&filters[1], &[D::Year, D::OffenseCode]).unwrap();
    assert!(mine.groups.contains_key(&vec!["2022".to_string(), "2021-166".to_string()]), "the new cases count");
}

on_both_backends!(the_statistics_index_follows_batches_and_answers_filtered_groupings_as_sql_does);
