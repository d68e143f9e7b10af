//! The audit trail and its tamper evidence, on both event stores: a short case history,
//! then rows edited, deleted, forged or rewritten directly in SQL, as someone with database
//! access would, and each change seen by `verifyAuditTrail` and by `probono audit verify`
//! (the real binary), or — where the chain alone cannot see it — by a signed checkpoint.

use domain::chain::{event_hash, ChainedEvent, GENESIS};
use serde_json::{json, Value};
use tests::fixtures::*;
use tests::{on_both_backends, run_probono, Backend, CliRun, TestApp};

const ENTRY: &str = "position aggregateType aggregateId sequence eventType eventVersion recordedAt
    actor { id name role } correlationId summary prevHash hash";

/// A case registered as fraud and reclassified as trafficking by the prosecutor.
struct Ledger {
    t: TestApp,
    w: World,
    case: String,
}

async fn ledger(backend: Backend) -> Ledger {
    let t = TestApp::spawn(backend).await;
    let w = world(&t).await;
    let case = open_case(&t, &w, true).await;
    let c = json!(case);
    case_mutation(
        &t,
        &w.coordinator,
        "assignLawyer",
        "AssignLawyerInput",
        json!({"caseId": c, "lawyerId": w.lawyer_b_id}),
    )
    .await;
    case_mutation(&t, &w.lawyer_b, "acceptAssignment", "CaseIdInput", json!({"caseId": c})).await;
    let r = case_mutation(
        &t,
        &w.lawyer_b,
        "filePoliceReport",
        "FilePoliceReportInput",
        json!({"caseId": c, "filedOn": "2020-04-01", "policeUnit": "Osh city police"}),
    )
    .await;
    let report = r["policeReports"][0]["id"].clone();
    case_mutation(
        &t,
        &w.lawyer_b,
        "recordOffenseRegistration",
        "RecordOffenseRegistrationInput",
        json!({"caseId": c, "reportId": report, "offenseCode": "2021-209", "registeredOn": "2022-04-05"}),
    )
    .await;
    case_mutation(&t, &w.lawyer_b, "reclassifyOffense", "ReclassifyOffenseInput",
        json!({"caseId": c, "reportId": report, "offenseCode": "2021-166", "decidedOn": "2022-09-01", "decidedBy": "PROSECUTOR", "reason": "recruitment and exploitation"}))
        .await;
    Ledger { t, w, case }
}

impl Ledger {
    async fn trail(&self) -> Vec<Value> {
        let q = format!("query($id: ID!) {{ auditTrail(caseId: $id) {{ {ENTRY} }} }}");
        let d = self.t.ok(&self.w.auditor, &q, json!({"id": self.case})).await;
        d["auditTrail"].as_array().unwrap().clone()
    }

    /// The sequence of the case's event of type `event_type`.
    async fn seq(&self, event_type: &str) -> i64 {
        let trail = self.trail().await;
        let e = trail.iter().find(|e| e["eventType"] == event_type).unwrap_or_else(|| panic!("no {event_type}"));
        e["sequence"].as_i64().unwrap()
    }

    async fn verify(&self, case: Option<&str>) -> Value {
        let q = format!(
            "query($id: ID) {{ verifyAuditTrail(caseId: $id) {{ ok checkedEvents checkedStreams brokenLinks reason firstBrokenAt {{ {ENTRY} }} }} }}"
        );
        self.t.ok(&self.w.auditor, &q, json!({"id": case})).await["verifyAuditTrail"].clone()
    }

    async fn cli(&self, extra: &[&str]) -> CliRun {
        let mut args = vec!["audit", "verify", "--database-url", self.t.db.url.as_str()];
        args.extend_from_slice(extra);
        run_probono(&args).await
    }

    /// Runs one statement against the ledger's database; returns the rows it changed.
    async fn exec(&self, pg: &str, sqlite: &str, seq: i64) -> u64 {
        match &self.t.app.db {
            projections::Db::Postgres(p) => {
                sqlx::query(pg).bind(&self.case).bind(seq).execute(p).await.map(|r| r.rows_affected())
            }
            projections::Db::Sqlite(p) => {
                sqlx::query(sqlite).bind(&self.case).bind(seq).execute(p).await.map(|r| r.rows_affected())
            }
        }
        .expect("tampering statement")
    }

    async fn delete(&self, seq: i64) {
        let sql = "DELETE FROM events WHERE aggregate_type = 'Case' AND aggregate_id = $1 AND sequence = $2";
        assert_eq!(self.exec(sql, sql, seq).await, 1);
    }

    /// A new signing key and a checkpoint of the ledger as it is now; returns (checkpoint
    /// path, public key).
    async fn checkpoint(&self) -> (String, String) {
        let dir = self.t.db.path();
        let key = dir.join("audit.key").display().to_string();
        let cp = dir.join("checkpoint.json").display().to_string();
        let k = run_probono(&["audit", "keygen", "--out", &key]).await;
        assert_eq!(k.code, Some(0), "{k:?}");
        let public = k.stdout.trim().to_string();
        assert_eq!(public.len(), 64, "keygen prints the public key: {k:?}");
        let run = run_probono(&[
            "audit",
            "checkpoint",
            "--signing-key",
            &key,
            "--out",
            &cp,
            "--database-url",
            &self.t.db.url,
        ])
        .await;
        assert_eq!(run.code, Some(0), "{run:?}");
        let ok = self.cli(&["--checkpoint", &cp, "--public-key", &public]).await;
        assert_eq!(ok.code, Some(0), "a fresh checkpoint matches the ledger: {ok:?}");
        (cp, public)
    }
}

/// Asserts that GraphQL and the CLI both name `(sequence, event type)` of the case as the
/// first broken link, for `why`.
async fn assert_broken_at(l: &Ledger, sequence: i64, event_type: &str, why: &str) {
    for scope in [Some(l.case.as_str()), None] {
        let v = l.verify(scope).await;
        assert_eq!(v["ok"], false, "{scope:?}: {v}");
        let b = &v["firstBrokenAt"];
        assert_eq!((b["sequence"].as_i64(), b["eventType"].as_str()), (Some(sequence), Some(event_type)), "{v}");
        assert_eq!(b["aggregateId"], l.case.as_str());
        assert!(v["reason"].as_str().unwrap().contains(why), "{v}");
        assert_eq!(v["brokenLinks"], 1, "{v}");
    }
    let position = l.verify(None).await["firstBrokenAt"]["position"].as_i64().unwrap();
    let run = l.cli(&[]).await;
    assert_eq!(run.code, Some(1), "{run:?}");
    let expected =
        format!("BROKEN LINK: stream Case/{}, sequence {sequence} (position {position}, {event_type}): ", l.case);
    assert!(run.stdout.contains(&expected), "expected {expected:?} in {run:?}");
    assert!(run.stdout.contains(why), "{run:?}");
    assert!(run.stdout.trim_end().ends_with("FAILED"), "{run:?}");
}

async fn an_untouched_ledger_verifies(backend: Backend) {
    let mut l = ledger(backend).await;
    let version = l.t.ok(&l.w.auditor, "query($id: ID!) { case(id: $id) { version } }", json!({"id": l.case})).await
        ["case"]["version"]
        .as_i64()
        .unwrap();
    assert!(version >= 7, "the short lifecycle wrote the case's events");

    let v = l.verify(Some(&l.case)).await;
    assert_eq!(
        v,
        json!({"ok": true, "checkedEvents": version, "checkedStreams": 1, "brokenLinks": 0, "reason": null, "firstBrokenAt": null})
    );

    let total = projections::log::count(&l.t.app.db).await.unwrap();
    let streams: i64 = projections::on_db!(&l.t.app.db, p => sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT DISTINCT aggregate_type, aggregate_id FROM events) s").fetch_one(p).await.unwrap());
    let v = l.verify(None).await;
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!((v["checkedEvents"].as_i64(), v["checkedStreams"].as_i64()), (Some(total), Some(streams)));

    let run = l.cli(&[]).await;
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stdout.contains(&format!("checked {total} events in {streams} streams")), "{run:?}");
    assert!(run.stdout.contains("every chain holds"), "{run:?}");
    l.t.stop().await;
}

async fn the_trail_says_who_did_what_without_identity(backend: Backend) {
    let mut l = ledger(backend).await;
    let trail = l.trail().await;
    let mut prev = GENESIS.to_string();
    for (i, e) in trail.iter().enumerate() {
        assert_eq!(e["sequence"].as_i64(), Some(i as i64 + 1));
        assert_eq!(e["prevHash"].as_str(), Some(prev.as_str()), "each entry links to the one before");
        assert_eq!(e["aggregateType"], "Case");
        assert!(e["correlationId"].as_str().is_some_and(|c| !c.is_empty()));
        assert!(e["recordedAt"].as_str().is_some_and(|t| t.starts_with("20")));
        prev = e["hash"].as_str().unwrap().to_string();
    }
    let by_type = |t: &str| trail.iter().find(|e| e["eventType"] == t).unwrap().clone();
    let intake = by_type("IntakeOpened");
    assert_eq!(intake["actor"]["name"], "INTAKE_WORKER user");
    assert_eq!(intake["actor"]["role"], "INTAKE_WORKER");
    assert!(intake["summary"].as_str().unwrap().ends_with("identity recorded (sealed)"), "{intake}");
    let assigned = by_type("LawyerAssigned");
    assert_eq!(assigned["actor"]["role"], "COORDINATOR");
    assert!(assigned["summary"].as_str().unwrap().contains("Bakyt Student"), "{assigned}");
    let reclassified = by_type("OffenseReclassified");
    assert_eq!(reclassified["actor"]["role"], "LAWYER");
    assert!(
        reclassified["summary"]
            .as_str()
            .unwrap()
            .starts_with("Offence reclassified from 2021-209 (FRAUD) to 2021-166 (TIP) by PROSECUTOR"),
        "{reclassified}"
    );

    // Nothing of the client's identity, anywhere in the trail.
    let text = Value::Array(trail.clone()).to_string();
    for secret in [CLIENT_NAME, "Zarina", "Kadyrova", "+996 555 000 111", "Passport taken", "1986-01-15"] {
        assert!(!text.contains(secret), "identity {secret:?} in the audit trail");
    }

    // The case's timeline is the same history, for everyone who may read the case.
    let q = format!("query($id: ID!) {{ case(id: $id) {{ timeline {{ {ENTRY} }} }} }}");
    for tok in [&l.w.lawyer_b, &l.w.intake, &l.w.auditor] {
        let d = l.t.ok(tok, &q, json!({"id": l.case})).await;
        assert_eq!(d["case"]["timeline"], Value::Array(trail.clone()));
    }
    l.t.stop().await;
}

async fn only_oversight_roles_read_and_verify_the_trail(backend: Backend) {
    let mut l = ledger(backend).await;
    let trail = "query($id: ID!) { auditTrail(caseId: $id) { sequence } }";
    let verify = "query($id: ID) { verifyAuditTrail(caseId: $id) { ok } }";
    for tok in [&l.w.auditor, &l.w.coordinator, &l.t.admin] {
        assert!(!l.t.ok(tok, trail, json!({"id": l.case})).await["auditTrail"].as_array().unwrap().is_empty());
        assert_eq!(l.t.ok(tok, verify, json!({"id": l.case})).await["verifyAuditTrail"]["ok"], true);
        assert_eq!(l.t.ok(tok, verify, json!({"id": null})).await["verifyAuditTrail"]["ok"], true);
    }
    // The case's own lawyer and intake worker see its timeline, not the audit trail.
    for tok in [&l.w.lawyer_b, &l.w.intake] {
        assert_eq!(l.t.err(tok, trail, json!({"id": l.case})).await, "FORBIDDEN");
        assert_eq!(l.t.err(tok, verify, json!({"id": l.case})).await, "FORBIDDEN");
        assert_eq!(l.t.err(tok, verify, json!({"id": null})).await, "FORBIDDEN");
    }
    let timeline = "query($id: ID!) { case(id: $id) { timeline { sequence } } }";
    // Another lawyer's case is, to lawyer A, a case that does not exist.
    let d = l.t.ok(&l.w.lawyer_a, timeline, json!({"id": l.case})).await;
    assert!(d["case"].is_null(), "{d}");
    assert_eq!(l.t.err("", trail, json!({"id": l.case})).await, "UNAUTHENTICATED");

    let nobody = "00000000-0000-0000-0000-00000000abcd";
    assert_eq!(l.t.err(&l.w.auditor, trail, json!({"id": nobody})).await, "NOT_FOUND");
    assert_eq!(l.t.err(&l.w.auditor, verify, json!({"id": nobody})).await, "NOT_FOUND");
    assert_eq!(l.t.err(&l.w.auditor, trail, json!({"id": "nope"})).await, "BAD_USER_INPUT");
    l.t.stop().await;
}

/// (a) A payload field of a middle event edited: fraud turned into trafficking.
async fn an_edited_event_is_named(backend: Backend) {
    let mut l = ledger(backend).await;
    let seq = l.seq("OffenseRegistered").await;
    let n = l
        .exec(
            "UPDATE events SET payload = jsonb_set(payload, '{OffenseRegistered,offense,code}', '\"2021-166\"') \
             WHERE aggregate_type = 'Case' AND aggregate_id = $1 AND sequence = $2 \
               AND payload #>> '{OffenseRegistered,offense,code}' = '2021-209'",
            "UPDATE events SET payload = json_set(payload, '$.OffenseRegistered.offense.code', '2021-166') \
             WHERE aggregate_type = 'Case' AND aggregate_id = $1 AND sequence = $2 \
               AND json_extract(payload, '$.OffenseRegistered.offense.code') = '2021-209'",
            seq,
        )
        .await;
    assert_eq!(n, 1, "the registration's offence code was edited");
    assert_broken_at(&l, seq, "OffenseRegistered", "does not match the event's content").await;
    l.t.stop().await;
}

/// (b) A middle event deleted: the gap is named at the event after it.
async fn a_deleted_event_leaves_a_gap(backend: Backend) {
    let mut l = ledger(backend).await;
    let seq = l.seq("AssignmentAccepted").await;
    l.delete(seq).await;
    assert_broken_at(&l, seq + 1, "PoliceReportFiled", &format!("event {seq} of the stream is missing")).await;
    l.t.stop().await;
}

/// (c) An event appended by hand without a valid hash.
async fn a_forged_event_is_named(backend: Backend) {
    let mut l = ledger(backend).await;
    let last = l.trail().await.len() as i64;
    let forged = "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata, prev_hash, hash) \
         SELECT aggregate_type, aggregate_id, sequence + 1, event_type, event_version, payload, metadata, hash, \
                'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff' \
         FROM events WHERE aggregate_type = 'Case' AND aggregate_id = $1 AND sequence = $2";
    assert_eq!(l.exec(forged, forged, last).await, 1);
    assert_broken_at(&l, last + 1, "OffenseReclassified", "does not match the event's content").await;
    l.t.stop().await;
}

/// (d) The last event deleted: every remaining link holds, but the checkpoint sees it.
async fn a_truncated_stream_is_caught_by_the_checkpoint(backend: Backend) {
    let mut l = ledger(backend).await;
    let (cp, public) = l.checkpoint().await;
    let last = l.trail().await.len() as i64;
    l.delete(last).await;

    let v = l.verify(Some(&l.case)).await;
    assert_eq!(
        (v["ok"].as_bool(), v["checkedEvents"].as_i64()),
        (Some(true), Some(last - 1)),
        "the chain alone cannot tell: {v}"
    );
    assert_eq!(l.cli(&[]).await.code, Some(0));

    let run = l.cli(&["--checkpoint", &cp, "--public-key", &public]).await;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stdout.contains("signed by the key given with --public-key"), "{run:?}");
    let expected = format!(
        "CHECKPOINT MISMATCH: stream Case/{}: ends at event {}, the checkpoint recorded {last}",
        l.case,
        last - 1
    );
    assert!(run.stdout.contains(&expected), "expected {expected:?} in {run:?}");

    // Without --public-key the key written in the file is used, and the output says so.
    let run = l.cli(&["--checkpoint", &cp]).await;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stdout.contains("signature valid for the key written in the file"), "{run:?}");
    assert!(run.stdout.contains(&expected), "{run:?}");

    // A checkpoint edited to match the truncated ledger no longer carries a valid signature.
    let text = std::fs::read_to_string(&cp).unwrap();
    let mut doc: Value = serde_json::from_str(&text).unwrap();
    for s in doc["streams"].as_array_mut().unwrap() {
        if s["aggregate_id"] == l.case.as_str() {
            s["sequence"] = json!(last - 1);
        }
    }
    let edited = l.t.db.path().join("edited.json");
    std::fs::write(&edited, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    let run = l.cli(&["--checkpoint", edited.to_str().unwrap()]).await;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stdout.contains("CHECKPOINT REJECTED") && run.stdout.contains("signature is invalid"), "{run:?}");
    l.t.stop().await;
}

/// (e) The stream rewritten by someone with database access who recomputed every hash:
/// the chain verifies, the checkpoint does not.
async fn a_rewritten_stream_is_caught_by_the_checkpoint(backend: Backend) {
    let mut l = ledger(backend).await;
    let (cp, public) = l.checkpoint().await;
    let from = l.seq("OffenseRegistered").await;

    let db = &l.t.app.db;
    let events = projections::log::read_stream(db, "Case", &l.case).await.unwrap();
    let mut prev = events[from as usize - 2].hash.clone();
    for mut e in events.into_iter().skip(from as usize - 1) {
        if e.event_type == "OffenseRegistered" {
            e.payload["OffenseRegistered"]["offense"] = json!({"code": "2021-166", "category": "TIP"});
        }
        let hash = event_hash(
            &prev,
            &ChainedEvent {
                aggregate_type: &e.aggregate_type,
                aggregate_id: &e.aggregate_id,
                sequence: e.sequence,
                event_type: &e.event_type,
                event_version: &e.event_version,
                payload: &e.payload,
                metadata: &e.metadata,
            },
        );
        let sql = "UPDATE events SET payload = $1, prev_hash = $2, hash = $3 \
                   WHERE aggregate_type = 'Case' AND aggregate_id = $4 AND sequence = $5";
        let n = match db {
            projections::Db::Postgres(p) => sqlx::query(sql)
                .bind(&e.payload)
                .bind(&prev)
                .bind(&hash)
                .bind(&l.case)
                .bind(e.sequence)
                .execute(p)
                .await
                .map(|r| r.rows_affected()),
            projections::Db::Sqlite(p) => {
                let payload = e.payload.to_string();
                sqlx::query(sql)
                    .bind(payload)
                    .bind(&prev)
                    .bind(&hash)
                    .bind(&l.case)
                    .bind(e.sequence)
                    .execute(p)
                    .await
                    .map(|r| r.rows_affected())
            }
        };
        assert_eq!(n.unwrap(), 1);
        prev = hash;
    }

    let v = l.verify(Some(&l.case)).await;
    assert_eq!(v["ok"], true, "recomputed hashes satisfy the chain: {v}");
    let trail = l.trail().await;
    let registered = trail.iter().find(|e| e["eventType"] == "OffenseRegistered").unwrap();
    assert!(registered["summary"].as_str().unwrap().contains("2021-166 (TIP)"), "the rewrite took: {registered}");
    assert_eq!(l.cli(&[]).await.code, Some(0));

    let run = l.cli(&["--checkpoint", &cp, "--public-key", &public]).await;
    assert_eq!(run.code, Some(1), "{run:?}");
    let head = trail.len();
    let expected =
        format!("CHECKPOINT MISMATCH: stream Case/{}: event {head} no longer has the checkpointed hash", l.case);
    assert!(run.stdout.contains(&expected), "expected {expected:?} in {run:?}");
    l.t.stop().await;
}

on_both_backends!(
    an_untouched_ledger_verifies,
    the_trail_says_who_did_what_without_identity,
    only_oversight_roles_read_and_verify_the_trail,
    an_edited_event_is_named,
    a_deleted_event_leaves_a_gap,
    a_forged_event_is_named,
    a_truncated_stream_is_caught_by_the_checkpoint,
    a_rewritten_stream_is_caught_by_the_checkpoint,
);
