//! Backups that restore (docs/operations.md "Backups and restores"): a restore drill on
//! both stores — `probono backup` of a running server while an intake worker keeps opening
//! cases, `probono restore` into a new database, and proof that what came back is whole —
//! and the refusals that keep a backup or a ledger from being overwritten.

use api::app::App;
use projections::Db;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tests::fixtures::{self, CLIENT_NAME};
use tests::{on_both_backends, run_probono, Backend, CliRun, TestApp, TestDb};

/// The write load is bounded in count and in time, whatever happens.
const LOAD_MAX_CASES: usize = 300;
const LOAD_MAX_TIME: Duration = Duration::from_secs(20);

const COUNTS: &str = "casesOpened lawyersAssigned policeReportsFiled registeredAsTip registeredAsTipRelated
    registeredAsFraud registeredAsOther registrationRefused reclassifiedToTip reclassifiedFromTip
    returnedForInvestigation sentToCourt convictions acquittals dismissals";

/// A server over the demo data (seeded before it starts: one projector at a time).
async fn seeded_app(backend: Backend) -> (TestApp, api::demo::SeedSummary) {
    let db = TestDb::new(backend).await;
    db.ensure_key();
    let clock = Arc::new(domain::ManualClock::new(chrono::NaiveDate::from_ymd_opt(2016, 1, 1).unwrap()));
    let seeder = App::open_with_clock(&db.store_args(), clock.clone()).await.unwrap();
    let s = api::demo::seed(&seeder, &clock).await.unwrap();
    assert!(!s.already_present);
    seeder.db.close().await;
    drop(seeder);
    (TestApp::spawn_on(db).await, s)
}

async fn totals(t: &TestApp, auditor: &str) -> Value {
    let d = t.ok(auditor, &format!("{{ outcomeStats {{ totals {{ {COUNTS} }} }} }}"), json!({})).await;
    d["outcomeStats"]["totals"].clone()
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn assert_ok(what: &str, run: &CliRun) {
    assert_eq!(run.code, Some(0), "{what} failed:\n{}\n{}", run.stdout, run.stderr);
}

/// The case streams and the events in a backup file, counted in the file itself.
async fn cases_in_backup(backend: Backend, file: &Path) -> (BTreeSet<String>, usize) {
    match backend {
        Backend::Sqlite => {
            let o = sqlx::sqlite::SqliteConnectOptions::new().filename(file).read_only(true);
            let mut c = <sqlx::SqliteConnection as sqlx::Connection>::connect_with(&o).await.unwrap();
            let rows: Vec<(String, String)> =
                sqlx::query_as("SELECT aggregate_type, aggregate_id FROM events").fetch_all(&mut c).await.unwrap();
            let events = rows.len();
            (rows.into_iter().filter(|(t, _)| t == "Case").map(|(_, id)| id).collect(), events)
        }
        Backend::Postgres => {
            // What pg_restore would load into the events table, printed instead.
            let tool = api::store::backup::pg_tool("pg_restore").expect("pg_restore is installed with PostgreSQL");
            let out = tokio::process::Command::new(tool)
                .args(["--data-only", "--table=events", "--file=-"])
                .arg(file)
                .output()
                .await
                .unwrap();
            assert!(out.status.success(), "pg_restore --file=-: {}", String::from_utf8_lossy(&out.stderr));
            let text = String::from_utf8(out.stdout).unwrap();
            let mut lines = text.lines();
            let header = lines.by_ref().find(|l| l.starts_with("COPY ") && l.contains("events")).expect("COPY events");
            let cols: Vec<&str> = header.split_once('(').unwrap().1.split_once(')').unwrap().0.split(", ").collect();
            let ty = cols.iter().position(|c| *c == "aggregate_type").unwrap();
            let id = cols.iter().position(|c| *c == "aggregate_id").unwrap();
            let rows: Vec<Vec<&str>> = lines.take_while(|l| *l != "\\.").map(|l| l.split('\t').collect()).collect();
            let events = rows.len();
            (rows.into_iter().filter(|r| r[ty] == "Case").map(|r| r[id].to_string()).collect(), events)
        }
    }
}

/// Copies a ledger's key files (the master key and its key-epoch file), as an operator
/// brings them from where they are kept apart from the backups.
fn copy_key_files(from: &TestDb, to: &TestDb) {
    use api::privacy::epochs::path_for;
    std::fs::copy(&from.key_file, &to.key_file).unwrap();
    std::fs::copy(path_for(&from.key_file), path_for(&to.key_file))
        .expect("the key-epoch file is beside the master key");
}

/// An intake worker opening cases over HTTP until told to stop (or a bound is reached);
/// the ids of the acknowledged ones, in order.
struct Load {
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<Vec<String>>>,
    count: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

fn start_load(t: &TestApp, token: &str) -> Load {
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(vec![]));
    let count = Arc::new(AtomicUsize::new(0));
    let (url, token) = (t.url("/graphql"), token.to_string());
    let (s, a, n) = (stop.clone(), acked.clone(), count.clone());
    let task = tokio::spawn(async move {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
        let started = Instant::now();
        for i in 0..LOAD_MAX_CASES {
            if s.load(Ordering::SeqCst) || started.elapsed() > LOAD_MAX_TIME {
                break;
            }
            let body: Value = http
                .post(&url)
                .bearer_auth(&token)
                .json(&json!({
                    "query": "mutation($i: OpenIntakeInput!) { openIntake(input: $i) { id } }",
                    "variables": { "i": {
                        "identifiedOn": "2024-05-02", "referralSource": "NGO_OUTREACH",
                        "exploitationTypes": ["FORCED_LABOR"], "countryOfExploitation": "ru",
                        "client": { "fullName": format!("Load Client {i}"), "gender": "FEMALE", "region": "OSH" },
                        "consent": { "legalAid": true, "reportToPolice": false, "dataSharing": false } } }
                }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let id = body["data"]["openIntake"]["id"].as_str().unwrap_or_else(|| panic!("openIntake failed: {body}"));
            a.lock().unwrap().push(id.to_string());
            n.fetch_add(1, Ordering::SeqCst);
        }
    });
    Load { stop, acked, count, task }
}

async fn restore_drill(backend: Backend) {
    let (mut src, seeded) = seeded_app(backend).await;
    let w = fixtures::world(&src).await;
    let known = fixtures::open_case(&src, &w, true).await;
    tests::wait_projected(&src.app).await;
    let before = totals(&src, &w.auditor).await;
    assert_eq!(before["casesOpened"], seeded.cases + 1);

    // The backup runs while an intake worker keeps writing.
    let load = start_load(&src, &w.intake);
    let deadline = Instant::now() + Duration::from_secs(15);
    while load.count.load(Ordering::SeqCst) < 3 {
        assert!(!load.task.is_finished() && Instant::now() < deadline, "the load did not get going");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let file = src.db.path().join("ledger.backup");
    let file_s = file.to_str().unwrap();
    let acked_before = load.count.load(Ordering::SeqCst);
    let started = Instant::now();
    let backup = run_probono(&["backup", "--database-url", &src.db.url, "--out", file_s]).await;
    let backup_time = started.elapsed();
    let acked_after = load.count.load(Ordering::SeqCst);
    assert!(!load.task.is_finished(), "the write load was still running when the backup finished");
    assert_ok("probono backup", &backup);
    assert!(backup.stdout.contains("NO master key"), "the backup says the key is not in it: {}", backup.stdout);
    assert_eq!(mode(&file), 0o600, "a backup is readable by its owner only");
    // Neither key file is in it: not the master key, not the sealed key-epoch file.
    let bytes = std::fs::read(&file).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    let master_hex = std::fs::read_to_string(&src.db.key_file).unwrap();
    let epochs_file = std::fs::read_to_string(api::privacy::epochs::path_for(&src.db.key_file)).unwrap();
    let sealed: Value = serde_json::from_str(&epochs_file).unwrap();
    assert!(!text.contains(master_hex.trim()), "the master key is not in the backup");
    assert!(!text.contains(sealed["sealed"].as_str().unwrap()), "the key-epoch file is not in the backup");
    // Some writes after the backup, which the restored ledger must not have.
    let until = load.count.load(Ordering::SeqCst) + 3;
    let deadline = Instant::now() + Duration::from_secs(15);
    while load.count.load(Ordering::SeqCst) < until && !load.task.is_finished() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    load.stop.store(true, Ordering::SeqCst);
    load.task.await.expect("the load task");
    let acked = load.acked.lock().unwrap().clone();
    tests::wait_projected(&src.app).await;
    let source_after = totals(&src, &w.auditor).await;
    assert_eq!(source_after["casesOpened"].as_u64().unwrap() as usize, seeded.cases + 1 + acked.len());

    // What the backup holds, counted in the file: everything acknowledged before it started,
    // nothing acknowledged after it ended (but for one command in flight).
    let (cases, events) = cases_in_backup(backend, &file).await;
    let base = seeded.cases + 1;
    assert!(cases.contains(&known) && acked[..acked_before].iter().all(|id| cases.contains(id)));
    assert!(
        cases.len() >= base + acked_before && cases.len() <= base + acked_after + 1,
        "{} cases in the backup; {} acknowledged before it started, {} when it ended",
        cases.len(),
        base + acked_before,
        base + acked_after
    );
    let after_backup: Vec<&String> = acked.iter().filter(|id| !cases.contains(*id)).collect();
    assert!(!after_backup.is_empty(), "some cases were opened after the backup");
    assert!(backup.stdout.contains(&format!("{events} events, {} cases", cases.len())), "{}", backup.stdout);

    // Restore into a new database, with the master key (backed up apart) beside it.
    let target = TestDb::new(backend).await;
    copy_key_files(&src.db, &target);
    let key = target.key_file.to_str().unwrap().to_string();
    let started = Instant::now();
    let restore_started = chrono::Utc::now();
    let restore =
        run_probono(&["restore", "--database-url", &target.url, "--master-key-file", &key, "--from", file_s]).await;
    let restore_time = started.elapsed();
    assert_ok("probono restore", &restore);
    for said in [
        format!("read models rebuilt from {events} events"),
        format!("checked {events} events"),
        "every chain holds".into(),
        "data keys: all".into(),
    ] {
        assert!(restore.stdout.contains(&said), "the restore says {said:?}:\n{}", restore.stdout);
    }
    if backend == Backend::Sqlite {
        let restored_file = api::store::backup::sqlite_file(&target.url).unwrap();
        assert_eq!(mode(&restored_file), 0o600);
    }
    eprintln!(
        "{backend:?}: backup of {events} events ({} cases) in {backup_time:.2?} under load ({} cases acknowledged during it); restore in {restore_time:.2?}",
        cases.len(),
        acked_after - acked_before
    );
    // The read-model checkpoint was reset by the restore: it is the restored log's end, in
    // the restored ledger's own transaction ids, and was written by the restore.
    {
        let opts = projections::db::DbOptions { max_connections: 1, ..Default::default() };
        let db = Db::connect(&target.url, &opts).await.unwrap();
        let checkpoint = projections::store::query::read_checkpoint(&db).await.unwrap();
        let head = projections::log::committed_head(&db).await.unwrap();
        assert_eq!(checkpoint, head, "the checkpoint is the restored log's end");
        let written: String = projections::on_db!(&db, p => sqlx::query_scalar(
            "SELECT updated_at FROM rm_checkpoint").fetch_one(p).await.unwrap());
        let written = chrono::DateTime::parse_from_rfc3339(&written).unwrap();
        assert!(written >= restore_started, "the checkpoint was written by the restore, not copied: {written}");
        db.close().await;
    }
    let verify = run_probono(&["audit", "verify", "--database-url", &target.url]).await;
    assert_ok("probono audit verify on the restored ledger", &verify);
    src.stop().await;

    // The restored ledger as a server sees it (App::open refuses a master key that does not
    // open its data keys, so starting at all shows the key still fits).
    let mut restored = TestApp::spawn_on(target).await;
    tests::wait_projected(&restored.app).await;
    let mut expected = before.clone();
    expected["casesOpened"] = json!(cases.len());
    assert_eq!(totals(&restored, &w.auditor).await, expected, "statistics as of the backup");
    // The identity of a restored case opens with the same master key, for the same token.
    let iq = "query($id: ID!) { case(id: $id) { id identity { fullName erased } } }";
    let d = restored.ok(&w.intake, iq, json!({"id": known})).await;
    assert_eq!(d["case"]["identity"]["fullName"], CLIENT_NAME);
    let d = restored.ok(&w.intake, iq, json!({"id": acked[0]})).await;
    assert_eq!(d["case"]["identity"]["fullName"], "Load Client 0");
    // A case opened after the backup is not there.
    let missing = restored.gql(&w.intake, iq, json!({"id": after_backup.last().unwrap()})).await;
    assert!(missing["data"]["case"].is_null(), "{missing}");
    // New writes follow the restored log (on PostgreSQL: after its renumbered transactions).
    let new = fixtures::open_case(&restored, &w, true).await;
    let d = restored.ok(&w.intake, iq, json!({"id": new})).await;
    assert_eq!(d["case"]["id"], new.as_str());
    assert_eq!(totals(&restored, &w.auditor).await["casesOpened"], json!(cases.len() + 1));

    // A rebuild of the restored ledger equals its live read models.
    restored.stop().await;
    let db = &restored.app.db;
    let deadline = Instant::now() + Duration::from_secs(20);
    while projections::log::visible_head(db).await.unwrap() < projections::log::committed_head(db).await.unwrap() {
        assert!(Instant::now() < deadline, "events stayed invisible");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let live = tests::read_model_rows(db).await;
    assert!(live["rm_case"].len() > seeded.cases, "the comparison covers the restored cases");
    projections::projector::rebuild(db).await.unwrap();
    let rebuilt = tests::read_model_rows(db).await;
    for (table, rows) in &live {
        assert!(rows == &rebuilt[table], "{table} differs after a rebuild of the restored ledger");
    }
}

async fn backups_and_ledgers_are_never_overwritten(backend: Backend) {
    let mut t = TestApp::spawn(backend).await;
    let w = fixtures::world(&t).await;
    fixtures::open_case(&t, &w, true).await;
    let dir = t.db.path().to_path_buf();
    let url = t.db.url.clone();
    let key = t.db.key_file.to_str().unwrap().to_string();

    // backup --out never replaces a file.
    let existing = dir.join("older.backup");
    std::fs::write(&existing, "an older backup").unwrap();
    let run = run_probono(&["backup", "--database-url", &url, "--out", existing.to_str().unwrap()]).await;
    assert_ne!(run.code, Some(0));
    assert!(run.stderr.contains("already exists"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "an older backup");
    let file = dir.join("new.backup");
    let file_s = file.to_str().unwrap();
    assert_ok("backup", &run_probono(&["backup", "--database-url", &url, "--out", file_s]).await);
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".partial-"))
        .collect();
    assert!(leftovers.is_empty(), "no partial files stay behind");

    // restore never replaces a ledger that holds events without --force.
    let events = projections::log::count(&t.app.db).await.unwrap();
    let run = run_probono(&["restore", "--database-url", &url, "--master-key-file", &key, "--from", file_s]).await;
    assert_ne!(run.code, Some(0));
    assert!(run.stderr.contains("already holds a ledger") && run.stderr.contains("--force"), "{}", run.stderr);
    assert_eq!(projections::log::count(&t.app.db).await.unwrap(), events, "nothing changed");

    // Neither with a master key that does not open the backup's data keys.
    let other = TestDb::new(backend).await;
    other.ensure_key();
    let other_key = other.key_file.to_str().unwrap();
    let run =
        run_probono(&["restore", "--database-url", &other.url, "--master-key-file", other_key, "--from", file_s]).await;
    assert_ne!(run.code, Some(0));
    assert!(run.stderr.contains("does not open the data key") && run.stderr.contains("nothing was changed"));
    // Nor into the other store.
    let elsewhere = TestDb::new(if backend == Backend::Sqlite { Backend::Postgres } else { Backend::Sqlite }).await;
    let run =
        run_probono(&["restore", "--database-url", &elsewhere.url, "--master-key-file", &key, "--from", file_s]).await;
    assert_ne!(run.code, Some(0));
    assert!(run.stderr.contains("it restores only into a"), "{}", run.stderr);
    // Nor without one: a backup holds no key.
    let missing = dir.join("no-such.key");
    let run = run_probono(&[
        "restore",
        "--database-url",
        &other.url,
        "--master-key-file",
        missing.to_str().unwrap(),
        "--from",
        file_s,
    ])
    .await;
    assert_ne!(run.code, Some(0));
    assert!(run.stderr.contains("holds no master key"), "{}", run.stderr);
    // Nor from a file that is not a backup.
    let run = run_probono(&[
        "restore",
        "--database-url",
        &other.url,
        "--master-key-file",
        &key,
        "--from",
        existing.to_str().unwrap(),
    ])
    .await;
    assert_ne!(run.code, Some(0));
    assert!(run.stderr.contains("not a usable ledger copy"), "{}", run.stderr);
    match backend {
        Backend::Sqlite => assert!(!api::store::backup::sqlite_file(&other.url).unwrap().exists()),
        Backend::Postgres => {
            let mut c = <sqlx::PgConnection as sqlx::Connection>::connect(&other.url).await.unwrap();
            let n: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
                .fetch_one(&mut c)
                .await
                .unwrap();
            assert_eq!(n, 0, "the refused restores left the target empty");
        }
    }

    // With --force (servers stopped), the ledger is replaced; on SQLite the old one is kept aside.
    t.stop().await;
    t.app.db.close().await;
    let run =
        run_probono(&["restore", "--database-url", &url, "--master-key-file", &key, "--from", file_s, "--force"]).await;
    assert_ok("restore --force", &run);
    assert!(run.stdout.contains("replaced a ledger of"), "{}", run.stdout);
    if backend == Backend::Sqlite {
        let aside = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .find(|e| e.file_name().to_string_lossy().starts_with("probono.db.replaced-"));
        assert!(aside.is_some(), "the replaced ledger was moved aside:\n{}", run.stdout);
    }
    assert_ok("audit verify", &run_probono(&["audit", "verify", "--database-url", &url]).await);
}

on_both_backends!(restore_drill, backups_and_ledgers_are_never_overwritten);

/// A dump taken on a server whose transaction ids are far ahead of the one it is restored
/// to: without renumbering, readers would see none of its events (they read below the
/// oldest running transaction); renumbered, a rebuild sees all, in the same order, and new
/// events sort after them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restored_transaction_ids_are_renumbered_below_the_new_servers() {
    let mut t = TestApp::spawn(Backend::Postgres).await;
    let w = fixtures::world(&t).await;
    for _ in 0..3 {
        fixtures::open_case(&t, &w, true).await;
    }
    t.stop().await;
    let db = t.app.db.clone();
    let Db::Postgres(pool) = &db else { unreachable!() };
    let order = |pool: sqlx::PgPool| async move {
        sqlx::query_scalar::<_, i64>("SELECT position FROM events ORDER BY transaction_id, position")
            .fetch_all(&pool)
            .await
            .unwrap()
    };
    let before = order(pool.clone()).await;
    // As pg_restore leaves them when the source server had run a trillion more transactions.
    sqlx::query("UPDATE events SET transaction_id = (transaction_id::text::bigint + 1000000000000)::text::xid8")
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(projections::projector::rebuild(&db).await.unwrap(), 0, "the readers see none of them");
    let n = api::store::backup::renumber_restored_transactions(&db).await.unwrap();
    assert!(n > 0);
    let max: i64 =
        sqlx::query_scalar("SELECT max(transaction_id::text::bigint) FROM events").fetch_one(pool).await.unwrap();
    assert_eq!(max, n, "the ids are the transactions' ranks");
    assert_eq!(order(pool.clone()).await, before, "the log order is the same");
    let events = projections::log::count(&db).await.unwrap();
    assert_eq!(projections::projector::rebuild(&db).await.unwrap() as i64, events, "a rebuild sees every event");
    // A server on it writes after the restored events, and projects what it writes.
    let again = TestApp::spawn_on(t.db).await;
    let case = fixtures::open_case(&again, &w, true).await;
    let d = again.ok(&w.intake, "query($id: ID!) { case(id: $id) { id } }", json!({"id": case})).await;
    assert_eq!(d["case"]["id"], case.as_str());
}
