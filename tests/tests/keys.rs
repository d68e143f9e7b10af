//! Master-key operations on both stores: a generated key file is private and never
//! overwritten; rotation re-wraps every data key in one go, the server restarts on the new
//! key and reads identity as before, the old key opens nothing, a server given the old key
//! refuses to start, and a rotation from the wrong key changes nothing.

use clap::Parser;
use serde_json::json;
use tests::api::app::{App, StartupError};
use tests::api::config::{Cli, Command, KeysCommand};
use tests::api::crypto::{self, MasterKey};
use tests::api::keys::{self, KeyError};
use tests::fixtures::*;
use tests::projections::Db;
use tests::{on_both_backends, Backend, TestApp};

async fn data_keys(db: &Db) -> Vec<(String, String, String)> {
    tests::projections::on_db!(db, p => sqlx::query_as("SELECT case_id, wrapped_key, master_key_id FROM data_keys ORDER BY case_id")
        .fetch_all(p).await.unwrap())
}

async fn identity_name(t: &TestApp, token: &str, case: &str) -> serde_json::Value {
    let q = "query($id: ID!) { case(id: $id) { identity { fullName erased } } }";
    t.ok(token, q, json!({"id": case})).await["case"]["identity"].clone()
}

async fn rotation_rewraps_every_key_and_the_server_reads_on(backend: Backend) {
    let t = TestApp::spawn(backend).await;
    let w = world(&t).await;
    let kept = open_case(&t, &w, true).await;
    let erased = open_case(&t, &w, true).await;
    let other = open_case(&t, &w, false).await;
    t.ok(
        &t.admin,
        "mutation($i: CaseReasonInput!) { eraseClientData(input: $i) { id } }",
        json!({"i": {"caseId": erased, "reason": "client request"}}),
    )
    .await;
    let old = MasterKey::load(&t.db.key_file).unwrap();
    let before = data_keys(&t.app.db).await;
    assert_eq!(before.len(), 2, "one key per case not erased");
    assert!(before.iter().all(|(_, _, id)| id == old.id()));
    t.stop().await;

    // `probono keys generate --out FILE`: private, loadable, never overwritten.
    let new_file = t.db.path().join("keys").join("next.key");
    let new = keys::generate(&new_file).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&new_file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    assert_eq!(MasterKey::load(&new_file).unwrap().id(), new.id());
    assert!(keys::generate(&new_file).is_err(), "an existing key file is never overwritten");
    assert_eq!(MasterKey::load(&new_file).unwrap().id(), new.id());
    assert_ne!(new.id(), old.id());

    // Rotating to the key in use is refused.
    assert!(matches!(keys::rotate_store(&t.db.store_args(), &t.db.key_file).await, Err(KeyError::SameKey(_))));
    // `probono keys rotate --new-master-key-file FILE` (current key: --master-key-file).
    let r = keys::rotate_store(&t.db.store_args(), &new_file).await.unwrap();
    assert_eq!((r.rewrapped, r.already_new), (2, 0));
    assert_eq!((r.old_key_id.as_str(), r.new_key_id.as_str()), (old.id(), new.id()));
    let after = data_keys(&t.app.db).await;
    assert_eq!(after.len(), 2);
    for ((case, was, _), (case2, now, key_id)) in before.iter().zip(&after) {
        assert_eq!(case, case2);
        assert_ne!(was, now, "re-wrapped");
        assert_eq!(key_id, new.id());
        assert!(new.unwrap(case, now).is_ok(), "the new key opens every data key");
        assert!(old.unwrap(case, now).is_err(), "the old key opens nothing");
        // The same data key inside: what it sealed before opens with it now.
        let sealed = crypto::seal(&old.unwrap(case, was).unwrap(), case, "identity", b"probe");
        assert_eq!(crypto::open(&new.unwrap(case, now).unwrap(), case, "identity", &sealed).unwrap(), b"probe");
    }
    if backend == Backend::Sqlite {
        // The old wrappings are gone from the files, not just from the table.
        let mut files = Vec::new();
        for name in ["probono.db", "probono.db-wal"] {
            files.extend(std::fs::read(t.db.path().join(name)).unwrap_or_default());
        }
        let now = after[0].1.as_bytes();
        assert!(files.windows(now.len()).any(|w| w == now), "the new wrapping is on disk, or this proves nothing");
        for (_, was, _) in &before {
            assert!(!files.windows(was.len()).any(|w| w == was.as_bytes()), "an old wrapping survived on disk");
        }
    }
    // Run again: everything is already on the new key; nothing changes.
    let again = keys::rotate_store(&t.db.store_args(), &new_file).await.unwrap();
    assert_eq!((again.rewrapped, again.already_new), (0, 2));

    // A server still pointed at the old key refuses to start, saying what to do.
    match App::open(&t.db.store_args()).await {
        Err(e @ StartupError::KeyMismatch { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains(new.id()) && msg.contains("PROBONO_MASTER_KEY_FILE"), "{msg}");
        }
        Err(other) => panic!("expected a key mismatch, got {other}"),
        Ok(_) => panic!("a server on the old key must not start"),
    }
    // A rotation from a key that wrapped nothing here changes nothing.
    let stranger = t.db.path().join("stranger.key");
    let stranger_key = keys::generate(&stranger).unwrap();
    let mut wrong = t.db.store_args();
    wrong.master_key_file = Some(stranger.clone());
    let third = t.db.path().join("third.key");
    keys::generate(&third).unwrap();
    match keys::rotate_store(&wrong, &third).await {
        Err(KeyError::Unreadable { count, named, old: o }) => {
            assert_eq!(count, 2);
            assert!(named.contains(&kept) && named.contains(&other), "{named}");
            assert_eq!(o, stranger_key.id());
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(data_keys(&t.app.db).await, after, "nothing changed");

    // The operator points PROBONO_MASTER_KEY_FILE at the new file and restarts.
    let mut db = t.shut_down().await;
    db.key_file = new_file;
    let t = TestApp::spawn_on(db).await;
    assert_eq!(identity_name(&t, &w.intake, &kept).await, json!({"fullName": CLIENT_NAME, "erased": false}));
    assert_eq!(identity_name(&t, &w.intake, &other).await["fullName"], CLIENT_NAME);
    assert_eq!(identity_name(&t, &w.intake, &erased).await, json!({"fullName": null, "erased": true}));
    // New cases get data keys wrapped by the new key.
    let fresh = open_case(&t, &w, true).await;
    assert_eq!(identity_name(&t, &w.intake, &fresh).await["fullName"], CLIENT_NAME);
    assert!(data_keys(&t.app.db).await.iter().all(|(_, _, id)| id == new.id()));
    t.stop().await;
}

on_both_backends!(rotation_rewraps_every_key_and_the_server_reads_on);

#[test]
fn the_keys_commands_parse_as_documented() {
    let cli = Cli::try_parse_from(["probono", "keys", "generate", "--out", "/secure/next.key"]).unwrap();
    assert!(matches!(cli.command, Command::Keys(KeysCommand::Generate { out }) if out.ends_with("next.key")));
    let cli = Cli::try_parse_from([
        "probono",
        "keys",
        "rotate",
        "--new-master-key-file",
        "/secure/next.key",
        "--database-url",
        "postgres://probono@db/probono",
        "--master-key-file",
        "/secure/current.key",
    ])
    .unwrap();
    match cli.command {
        Command::Keys(KeysCommand::Rotate { new_master_key_file, store }) => {
            assert!(new_master_key_file.ends_with("next.key"));
            assert_eq!(store.database_url, "postgres://probono@db/probono");
            assert_eq!(store.master_key_file.as_deref(), Some(std::path::Path::new("/secure/current.key")));
        }
        other => panic!("parsed as {other:?}"),
    }
    assert!(Cli::try_parse_from(["probono", "keys", "rotate"]).is_err(), "the new key file is required");
}
