//! Erasure against every copy (DESIGN.md §12, docs/adr/0009-key-epochs.md), on both stores.
//! An erased client's wrapped data key outlives its row — in a PostgreSQL heap page until
//! VACUUM, in the WAL and its archives, in backups and disk snapshots. Each test captures
//! such a copy before the erasure (the row's bytes, or a whole backup) and shows that the
//! key files on disk afterwards open nothing in it, while every surviving client still reads.

use api::privacy::epochs;
use api::privacy::keys::{self, WrappedRow};
use api::privacy::MasterKey;
use serde_json::{json, Value};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tests::fixtures::{self, World};
use tests::{on_both_backends, run_probono, Backend, CliRun, TestApp, TestDb};

const IDENTITY: &str = "query($id: ID!) { case(id: $id) { id identity { fullName erased } } }";

async fn open_named(t: &TestApp, w: &World, name: &str) -> String {
    let d = t
        .ok(
            &w.intake,
            "mutation($i: OpenIntakeInput!) { openIntake(input: $i) { id } }",
            json!({ "i": {
                "identifiedOn": "2021-06-01", "referralSource": "NGO_OUTREACH",
                "exploitationTypes": ["FORCED_LABOR"], "countryOfExploitation": "kz",
                "client": { "fullName": name, "gender": "FEMALE", "region": "OSH" },
                "consent": { "legalAid": true, "reportToPolice": false, "dataSharing": true } } }),
        )
        .await;
    d["openIntake"]["id"].as_str().unwrap().to_string()
}

async fn erase(t: &TestApp, case: &str) {
    let d = t
        .ok(
            &t.admin,
            "mutation($c: ID!) { eraseClientData(input: {caseId: $c, reason: \"client request under the data protection law\"}) { erased } }",
            json!({"c": case}),
        )
        .await;
    assert_eq!(d["eraseClientData"]["erased"], true);
}

async fn identity(t: &TestApp, token: &str, case: &str) -> Value {
    t.ok(token, IDENTITY, json!({"id": case})).await["case"]["identity"].clone()
}

async fn row(t: &TestApp, case: &str) -> WrappedRow {
    keys::get_data_key_row(&t.app.db, case).await.unwrap().expect("a data key")
}

/// The epochs the key-epoch file beside `master_key_file` holds.
fn epochs_on_disk(master_key_file: &Path) -> Vec<i64> {
    let master = MasterKey::load(master_key_file).unwrap();
    epochs::read(&epochs::path_for(master_key_file), &master)
        .unwrap()
        .expect("a key-epoch file")
        .keys()
        .copied()
        .collect()
}

fn assert_ok(what: &str, run: &CliRun) {
    assert_eq!(run.code, Some(0), "{what} failed:\n{}\n{}", run.stdout, run.stderr);
}

/// A row captured before the erasure — the erased client's, and a survivor's old copy —
/// opens nothing with the key files on disk afterwards, nor with the master key alone;
/// the survivor's current row opens, before and after a restart.
async fn a_data_key_copied_before_erasure_opens_nothing_afterwards(backend: Backend) {
    let mut t = TestApp::spawn(backend).await;
    let w = fixtures::world(&t).await;
    let erased = open_named(&t, &w, "Aigerim Erased-Client").await;
    let survivor = open_named(&t, &w, "Bermet Surviving-Client").await;
    let key_file = t.db.key_file.clone();
    // The copies an attacker would find in the heap, the WAL or a snapshot.
    let erased_copy = row(&t, &erased).await;
    let survivor_copy = row(&t, &survivor).await;
    assert!(erased_copy.kek_epoch.is_some(), "keys are wrapped under an epoch");
    assert!(keys::opens_with_key_files(&key_file, &erased_copy), "before erasure the copy opens");
    let master = MasterKey::load(&key_file).unwrap();
    assert!(master.unwrap(&erased, &erased_copy.wrapped_key).is_err(), "the master key alone never opened a data key");
    let before = epochs_on_disk(&key_file);
    assert_eq!(before.len(), 1);

    erase(&t, &erased).await;

    assert!(!keys::opens_with_key_files(&key_file, &erased_copy), "the erased client's old row opens nothing");
    assert!(!keys::opens_with_key_files(&key_file, &survivor_copy), "no old row opens: its epoch is destroyed");
    let after = epochs_on_disk(&key_file);
    assert_eq!(after.len(), 1, "only the new epoch is on disk: {after:?}");
    assert!(after[0] > before[0]);
    let current = row(&t, &survivor).await;
    assert_eq!(current.kek_epoch, Some(after[0]), "the survivor's key moved to the new epoch");
    assert_ne!(current.wrapped_key, survivor_copy.wrapped_key);
    assert!(keys::opens_with_key_files(&key_file, &current));
    assert!(keys::get_data_key_row(&t.app.db, &erased).await.unwrap().is_none());
    // No file beside the keys holds an old epoch (the replaced file is not left behind).
    let names: Vec<String> = std::fs::read_dir(t.db.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("epochs"))
        .collect();
    assert_eq!(names, vec!["master.key.epochs".to_string()]);

    assert_eq!(identity(&t, &w.intake, &survivor).await["fullName"], "Bermet Surviving-Client");
    assert_eq!(identity(&t, &w.intake, &erased).await, json!({"fullName": null, "erased": true}));
    // Intakes after the erasure are sealed under the new epoch.
    let later = open_named(&t, &w, "Cholpon Later-Client").await;
    assert_eq!(row(&t, &later).await.kek_epoch, Some(after[0]));

    // A restart opens everything (the start-up check tries a key of each epoch).
    t.stop().await;
    let t = TestApp::spawn_on(t.db).await;
    assert_eq!(identity(&t, &w.intake, &survivor).await["fullName"], "Bermet Surviving-Client");
    assert_eq!(identity(&t, &w.intake, &later).await["fullName"], "Cholpon Later-Client");
    assert_eq!(identity(&t, &w.intake, &erased).await["erased"], true);
}

/// A crash inside an epoch change leaves two KEKs in the file: after the database moved
/// (the old one is still there) or before (a new one no key uses). Start-up destroys the
/// one no data key needs, and the copy captured before the erasure opens nothing again.
async fn start_up_finishes_an_interrupted_epoch_change(backend: Backend) {
    let mut t = TestApp::spawn(backend).await;
    let w = fixtures::world(&t).await;
    let erased = open_named(&t, &w, "Aigerim Erased-Client").await;
    let survivor = open_named(&t, &w, "Bermet Surviving-Client").await;
    let key_file = t.db.key_file.clone();
    let file = epochs::path_for(&key_file);
    let master = MasterKey::load(&key_file).unwrap();
    let old_keks = epochs::read(&file, &master).unwrap().unwrap();
    let erased_copy = row(&t, &erased).await;
    erase(&t, &erased).await;
    t.stop().await;

    // As if the process died after the commit, before the old KEK was destroyed.
    let mut both = epochs::read(&file, &master).unwrap().unwrap();
    let current = *both.keys().next_back().unwrap();
    both.extend(old_keks.iter().map(|(e, k)| (*e, k.clone())));
    epochs::write(&file, &master, &both).unwrap();
    assert!(keys::opens_with_key_files(&key_file, &erased_copy), "the simulated crash left the old KEK");
    let t = TestApp::spawn_on(t.db).await;
    assert_eq!(epochs_on_disk(&key_file), vec![current], "start-up destroyed the old epoch");
    assert!(!keys::opens_with_key_files(&key_file, &erased_copy));
    assert_eq!(identity(&t, &w.intake, &survivor).await["fullName"], "Bermet Surviving-Client");

    // As if it died after writing the new KEK, before the database moved to it.
    let mut t = t;
    t.stop().await;
    let mut both = epochs::read(&file, &master).unwrap().unwrap();
    both.insert(current + 1, api::privacy::Key::random());
    epochs::write(&file, &master, &both).unwrap();
    let t = TestApp::spawn_on(t.db).await;
    assert_eq!(epochs_on_disk(&key_file), vec![current], "start-up destroyed the unused epoch");
    assert_eq!(identity(&t, &w.intake, &survivor).await["fullName"], "Bermet Surviving-Client");
    let later = open_named(&t, &w, "Cholpon Later-Client").await;
    assert_eq!(row(&t, &later).await.kek_epoch, Some(current));

    // A key-epoch file that is gone is never replaced while data keys need it.
    let mut t = t;
    t.stop().await;
    let saved = std::fs::read(&file).unwrap();
    std::fs::remove_file(&file).unwrap();
    let err = api::App::open(&t.db.store_args()).await.err().expect("refused to start");
    let msg = err.to_string();
    assert!(msg.contains("master.key.epochs") && msg.contains("missing") && msg.contains("Restore"), "{msg}");
    assert!(!file.exists(), "no new key-epoch file was made");
    std::fs::write(&file, saved).unwrap();
    assert!(api::App::open(&t.db.store_args()).await.is_ok());
}

/// Intakes keep coming while clients are erased: no intake's key is stored under an epoch
/// that an erasure is about to destroy, so every acknowledged case reads, then and after a
/// restart.
async fn intakes_during_erasures_keep_their_keys(backend: Backend) {
    let mut t = TestApp::spawn(backend).await;
    let w = fixtures::world(&t).await;
    let mut to_erase = vec![];
    for i in 0..4 {
        to_erase.push(open_named(&t, &w, &format!("Erased Client {i}")).await);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = vec![];
    for writer in 0..3 {
        let (url, token, stop) = (t.url("/graphql"), w.intake.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut acked = vec![];
            for i in 0..200 {
                if stop.load(Ordering::SeqCst) && i >= 3 {
                    break;
                }
                let name = format!("Load Client {writer}-{i}");
                let body: Value = http
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({
                        "query": "mutation($i: OpenIntakeInput!) { openIntake(input: $i) { id } }",
                        "variables": { "i": {
                            "identifiedOn": "2024-05-02", "referralSource": "NGO_OUTREACH",
                            "exploitationTypes": ["FORCED_LABOR"], "countryOfExploitation": "ru",
                            "client": { "fullName": name, "gender": "FEMALE", "region": "OSH" },
                            "consent": { "legalAid": true, "reportToPolice": false, "dataSharing": false } } }
                    }))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                let id = body["data"]["openIntake"]["id"].as_str().unwrap_or_else(|| panic!("openIntake: {body}"));
                acked.push((id.to_string(), name));
            }
            acked
        }));
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    for case in &to_erase {
        erase(&t, case).await;
    }
    stop.store(true, Ordering::SeqCst);
    let mut acked = vec![];
    for wr in writers {
        acked.extend(wr.await.unwrap());
    }
    assert!(acked.len() >= 9);
    let epoch = epochs_on_disk(&t.db.key_file);
    assert_eq!(epoch.len(), 1);
    read_all(&t, &w.intake, &acked).await;
    let rows = keys::stored_rows(&t.app.db).await.unwrap();
    assert!(rows.iter().all(|r| r.kek_epoch == Some(epoch[0])), "every stored key is under the current epoch");
    t.stop().await;
    let t = TestApp::spawn_on(t.db).await;
    read_all(&t, &w.intake, &acked).await;
    for case in &to_erase {
        assert_eq!(identity(&t, &w.intake, case).await["erased"], true);
    }
}

async fn read_all(t: &TestApp, intake: &str, acked: &[(String, String)]) {
    for (id, name) in acked {
        assert_eq!(identity(t, intake, id).await["fullName"], name.as_str(), "case {id}");
    }
}

/// The wrapped data keys in a backup file.
async fn rows_in_backup(backend: Backend, file: &Path) -> Vec<WrappedRow> {
    match backend {
        Backend::Sqlite => {
            let o = sqlx::sqlite::SqliteConnectOptions::new().filename(file).read_only(true);
            let mut c = <sqlx::SqliteConnection as sqlx::Connection>::connect_with(&o).await.unwrap();
            sqlx::query_as("SELECT case_id, wrapped_key, kek_epoch FROM data_keys").fetch_all(&mut c).await.unwrap()
        }
        Backend::Postgres => api::store::backup::pg_dump_data_keys(file)
            .await
            .unwrap()
            .into_iter()
            .map(|(case_id, wrapped_key, kek_epoch)| WrappedRow { case_id, wrapped_key, kek_epoch })
            .collect(),
    }
}

fn copy_key_files(from: &TestDb, to: &TestDb) {
    std::fs::copy(&from.key_file, &to.key_file).unwrap();
    std::fs::copy(epochs::path_for(&from.key_file), epochs::path_for(&to.key_file)).unwrap();
}

/// A backup taken before an erasure, restored after it with the ledger's key files,
/// reveals nothing: the restore refuses it (nothing changed), or with
/// `--without-identities` restores the rest with every identity of it unreadable. A backup
/// taken after the erasure restores the survivors' identities and not the erased one's.
async fn an_old_backup_restored_after_erasure_reveals_no_identity(backend: Backend) {
    let mut t = TestApp::spawn(backend).await;
    let w = fixtures::world(&t).await;
    let erased = open_named(&t, &w, "Aigerim Erased-Client").await;
    let survivor = open_named(&t, &w, "Bermet Surviving-Client").await;
    tests::wait_projected(&t.app).await;
    let old_backup = t.db.path().join("before-erasure.backup");
    let old_s = old_backup.to_str().unwrap();
    let run = run_probono(&["backup", "--database-url", &t.db.url, "--out", old_s]).await;
    assert_ok("backup", &run);
    let epoch = epochs_on_disk(&t.db.key_file)[0];
    assert!(run.stdout.contains(&format!("under key epoch {epoch}: the next erasure destroys")), "{}", run.stdout);
    let in_old = rows_in_backup(backend, &old_backup).await;
    let erased_in_old = in_old.iter().find(|r| r.case_id == erased).expect("the old backup holds the key").clone();
    assert!(keys::opens_with_key_files(&t.db.key_file, &erased_in_old), "before the erasure the backup opens");

    erase(&t, &erased).await;
    let after = t.db.path().join("after-erasure.backup");
    let after_s = after.to_str().unwrap();
    assert_ok("backup", &run_probono(&["backup", "--database-url", &t.db.url, "--out", after_s]).await);
    t.stop().await;

    // Every key in the old backup is under the destroyed epoch.
    for r in &in_old {
        assert!(!keys::opens_with_key_files(&t.db.key_file, r), "a key of the old backup opens: {}", r.case_id);
    }
    // Restored as it is: refused, and the target is left as it was.
    let target = TestDb::new(backend).await;
    copy_key_files(&t.db, &target);
    let key = target.key_file.to_str().unwrap().to_string();
    let refused =
        run_probono(&["restore", "--database-url", &target.url, "--master-key-file", &key, "--from", old_s]).await;
    assert_ne!(refused.code, Some(0));
    assert!(
        refused.stderr.contains("destroyed that epoch") && refused.stderr.contains("--without-identities"),
        "{}",
        refused.stderr
    );
    // With --without-identities: the rest comes back; no identity of it does.
    let run = run_probono(&[
        "restore",
        "--database-url",
        &target.url,
        "--master-key-file",
        &key,
        "--from",
        old_s,
        "--without-identities",
    ])
    .await;
    assert_ok("restore --without-identities", &run);
    assert!(run.stdout.contains("2 data keys of the backup were under a key epoch destroyed"), "{}", run.stdout);
    let restored = TestApp::spawn_on(target).await;
    assert!(keys::stored_rows(&restored.app.db).await.unwrap().is_empty(), "no unopenable key was restored");
    assert_eq!(identity(&restored, &w.intake, &erased).await, json!({"fullName": null, "erased": true}));
    assert_eq!(identity(&restored, &w.intake, &survivor).await, json!({"fullName": null, "erased": true}));
    let dump = tests::dump_database(&restored.app.db).await;
    assert!(!dump.contains("Aigerim"), "no plaintext in the restored ledger");
    // The restored ledger takes new intakes under the current epoch.
    let new = open_named(&restored, &w, "Dinara New-Client").await;
    assert_eq!(identity(&restored, &w.intake, &new).await["fullName"], "Dinara New-Client");

    // The backup taken after the erasure restores the survivor, not the erased client.
    let target = TestDb::new(backend).await;
    copy_key_files(&t.db, &target);
    let key = target.key_file.to_str().unwrap().to_string();
    let run =
        run_probono(&["restore", "--database-url", &target.url, "--master-key-file", &key, "--from", after_s]).await;
    assert_ok("restore of the backup after the erasure", &run);
    let restored = TestApp::spawn_on(target).await;
    assert_eq!(identity(&restored, &w.intake, &survivor).await["fullName"], "Bermet Surviving-Client");
    assert_eq!(identity(&restored, &w.intake, &erased).await, json!({"fullName": null, "erased": true}));
}

/// A ledger from before key epochs (data keys wrapped directly under the master key, no
/// key-epoch file) is moved into the first epoch at its first start, and reads as before.
async fn a_ledger_from_before_key_epochs_moves_into_the_first_epoch(backend: Backend) {
    let mut t = TestApp::spawn(backend).await;
    let w = fixtures::world(&t).await;
    let case = open_named(&t, &w, "Aigerim Older-Client").await;
    t.stop().await;
    // As an older version left it.
    let dk = t.app.keyring.data_key(&t.app.db, &case).await.unwrap().unwrap();
    let master = MasterKey::load(&t.db.key_file).unwrap();
    let legacy = master.wrap(&case, &dk);
    projections::on_db!(&t.app.db, p => {
        sqlx::query("UPDATE data_keys SET wrapped_key = $1, kek_epoch = NULL WHERE case_id = $2")
            .bind(&legacy).bind(&case).execute(p).await.unwrap();
        sqlx::query("DELETE FROM key_epochs").execute(p).await.unwrap();
    });
    std::fs::remove_file(epochs::path_for(&t.db.key_file)).unwrap();

    let t = TestApp::spawn_on(t.db).await;
    let moved = row(&t, &case).await;
    assert!(moved.kek_epoch.is_some(), "re-wrapped into an epoch");
    assert_ne!(moved.wrapped_key, legacy);
    assert!(keys::opens_with_key_files(&t.db.key_file, &moved));
    assert_eq!(identity(&t, &w.intake, &case).await["fullName"], "Aigerim Older-Client");
    assert_eq!(epochs_on_disk(&t.db.key_file).len(), 1);
}

on_both_backends!(
    a_ledger_from_before_key_epochs_moves_into_the_first_epoch,
    a_data_key_copied_before_erasure_opens_nothing_afterwards,
    start_up_finishes_an_interrupted_epoch_change,
    intakes_during_erasures_keep_their_keys,
    an_old_backup_restored_after_erasure_reveals_no_identity
);
