//! The projector's writes, inside its transaction: documents, derived rows, the checkpoint.
//! Crate-private: the projector is the only writer of the read models.

use super::{decode_doc, encode_doc, instant_text, TABLES};
use crate::db::Tx;
use crate::log::Position;
use crate::model::facts::Fact;
use crate::model::{AccountView, CaseView, LawyerView, ReportView, TokenView};
use crate::{on_tx, Result};
use domain::offense::OffenseEntry;
use domain::values::OrganizationKind;
use sqlx::Row;
use uuid::Uuid;

fn now() -> String {
    instant_text(&chrono::Utc::now())
}

/// The checkpoint a batch starts from. On PostgreSQL the row stays locked until the batch
/// commits: a second instance projecting at the same time (a CLI command settling its own
/// write while a server leads) waits, then reads the moved checkpoint, instead of applying
/// the same events and failing on a duplicate row. SQLite's `BEGIN IMMEDIATE` already
/// serialises batches.
pub async fn checkpoint(tx: &mut Tx, name: &str) -> Result<Option<Position>> {
    let sql = match tx {
        Tx::Postgres(_) => "SELECT tx, position FROM rm_checkpoint WHERE name = $1 FOR UPDATE",
        Tx::Sqlite(_) => "SELECT tx, position FROM rm_checkpoint WHERE name = $1",
    };
    let row = on_tx!(tx, c => sqlx::query(sql)
        .bind(name)
        .fetch_optional(&mut **c)
        .await?
        .map(|r| Ok::<_, sqlx::Error>(Position { tx: r.try_get("tx")?, pos: r.try_get("position")? }))
        .transpose()?);
    Ok(row)
}

/// Moves the checkpoint from `from` to `to`; false when another projector moved it first.
pub async fn advance_checkpoint(tx: &mut Tx, name: &str, from: Option<Position>, to: Position) -> Result<bool> {
    let n = match from {
        None => on_tx!(tx, c => sqlx::query(
            "INSERT INTO rm_checkpoint (name, tx, position, updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING")
            .bind(name).bind(to.tx).bind(to.pos).bind(now())
            .execute(&mut **c).await?.rows_affected()),
        Some(f) => on_tx!(tx, c => sqlx::query(
            "UPDATE rm_checkpoint SET tx = $2, position = $3, updated_at = $4 WHERE name = $1 AND tx = $5 AND position = $6")
            .bind(name).bind(to.tx).bind(to.pos).bind(now()).bind(f.tx).bind(f.pos)
            .execute(&mut **c).await?.rows_affected()),
    };
    Ok(n == 1)
}

/// PostgreSQL, the live batch's first read: the checkpoint (its row locked until the batch
/// commits, as [`checkpoint`] does) and up to `$2` events after it that the batch may read
/// (the rule of [`crate::log::read_after_in_batch`]), in one statement. One row with the
/// checkpoint and no event when there is nothing to read.
fn pg_checkpoint_and_events_sql() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| {
        format!(
            "WITH cp AS MATERIALIZED (SELECT tx, position FROM rm_checkpoint WHERE name = $1 FOR UPDATE) \
             SELECT cp.tx AS cp_tx, cp.position AS cp_position, e.* \
             FROM (SELECT 1) AS one LEFT JOIN cp ON true LEFT JOIN LATERAL ( \
               SELECT {} FROM events \
               WHERE (transaction_id, position) > (coalesce(cp.tx, 0)::text::xid8, coalesce(cp.position, 0)) \
                 AND (transaction_id < pg_snapshot_xmin(pg_current_snapshot()) \
                      OR (transaction_id = pg_current_xact_id_if_assigned() \
                          AND pg_current_xact_id_if_assigned() = pg_snapshot_xmin(pg_current_snapshot()))) \
               ORDER BY transaction_id, position LIMIT $2) AS e ON true \
             ORDER BY e.tx, e.position",
            crate::log::PG_COLUMNS
        )
    })
}

/// The live batch's start on PostgreSQL: its checkpoint and up to `limit` events after it,
/// in one round trip (see [`pg_checkpoint_and_events_sql`]). SQLite, whose statements run in
/// process, reads [`checkpoint`] then [`crate::log::read_after_in_batch`].
pub async fn pg_checkpoint_and_events(
    c: &mut sqlx::PgConnection,
    name: &str,
    limit: i64,
) -> Result<(Option<Position>, Vec<crate::log::StoredEvent>)> {
    let rows = sqlx::query(pg_checkpoint_and_events_sql()).bind(name).bind(limit).fetch_all(&mut *c).await?;
    let mut from = None;
    let mut events = Vec::with_capacity(rows.len());
    for r in &rows {
        if from.is_none() {
            let (t, p): (Option<i64>, Option<i64>) = (r.try_get("cp_tx")?, r.try_get("cp_position")?);
            from = t.zip(p).map(|(tx, pos)| Position { tx, pos });
        }
        if r.try_get::<Option<i64>, _>("position")?.is_some() {
            events.push(crate::log::pg_event(r)?);
        }
    }
    Ok((from, events))
}

/// PostgreSQL, the live batch: moves the checkpoint from `from` to `to` (compare-and-set, as
/// [`advance_checkpoint`]) and deletes the old derived rows of the cases `case_ids` the batch
/// is about to write, in one statement; false when another projector moved the checkpoint
/// first (the caller then drops the transaction, deletions with it).
pub async fn advance_checkpoint_clearing(
    c: &mut sqlx::PgConnection,
    name: &str,
    from: Position,
    to: Position,
    case_ids: &[String],
) -> Result<bool> {
    const SQL: &str = "WITH k AS (UPDATE rm_checkpoint SET tx = $2, position = $3, updated_at = $4 \
                                WHERE name = $1 AND tx = $5 AND position = $6 RETURNING 1), \
         e AS (DELETE FROM rm_case_exploitation WHERE case_id = ANY($7)), \
         r AS (DELETE FROM rm_report WHERE case_id = ANY($7)), \
         f AS (DELETE FROM rm_fact WHERE case_id = ANY($7)) \
         SELECT count(*) AS moved FROM k";
    let moved: i64 = sqlx::query_scalar(SQL)
        .bind(name)
        .bind(to.tx)
        .bind(to.pos)
        .bind(now())
        .bind(from.tx)
        .bind(from.pos)
        .bind(case_ids)
        .fetch_one(&mut *c)
        .await?;
    Ok(moved == 1)
}

/// Empties every read model (inside the rebuild transaction).
pub async fn truncate(tx: &mut Tx) -> Result<()> {
    for t in TABLES {
        let sql = format!("DELETE FROM {t}");
        on_tx!(tx, c => sqlx::query(&sql).execute(&mut **c).await?.rows_affected());
    }
    Ok(())
}

/// Runs one multi-row `INSERT` per chunk of `rows` on either backend. `$push` binds one
/// row's values in column order (`$b.push_bind(..)`).
macro_rules! bulk {
    ($tx:expr, $prefix:expr, $suffix:expr, $rows:expr, $cols:expr, |$b:ident, $r:ident| $push:expr) => {{
        // Both drivers accept at least 32,766 bind parameters per statement.
        let chunk = (30_000 / $cols).max(1);
        for part in $rows.chunks(chunk) {
            match &mut *$tx {
                Tx::Postgres(c) => {
                    let mut qb = sqlx::QueryBuilder::<sqlx::Postgres>::new($prefix);
                    qb.push_values(part, |mut $b, $r| {
                        $push;
                    });
                    qb.push($suffix);
                    qb.build().execute(&mut **c).await?;
                }
                Tx::Sqlite(c) => {
                    let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new($prefix);
                    qb.push_values(part, |mut $b, $r| {
                        $push;
                    });
                    qb.push($suffix);
                    qb.build().execute(&mut **c).await?;
                }
            }
        }
    }};
}

/// Deletes the rows of `table` that belong to `ids` (column `col`).
async fn delete_for(tx: &mut Tx, table: &str, col: &str, ids: &[String]) -> Result<()> {
    for part in ids.chunks(500) {
        let marks: Vec<String> = (1..=part.len()).map(|i| format!("${i}")).collect();
        let sql = format!("DELETE FROM {table} WHERE {col} IN ({})", marks.join(", "));
        on_tx!(tx, c => {
            let mut q = sqlx::query(&sql);
            for id in part {
                q = q.bind(id);
            }
            q.execute(&mut **c).await?;
        });
    }
    Ok(())
}

pub async fn load_case(tx: &mut Tx, id: Uuid) -> Result<Option<CaseView>> {
    let id = id.to_string();
    let doc: Option<String> = on_tx!(tx, c => sqlx::query_scalar("SELECT doc FROM rm_case WHERE id = $1")
        .bind(&id).fetch_optional(&mut **c).await?);
    doc.map(|d| decode_doc("rm_case", &id, &d)).transpose()
}

/// Writes case documents and everything derived from them (exploitation types, reports,
/// statistical facts). `fresh` skips deleting old derived rows (a rebuild into empty tables).
pub async fn save_cases(tx: &mut Tx, cases: &[&CaseView], fresh: bool) -> Result<()> {
    let facts: Vec<Vec<Fact>> = cases.iter().map(|c| crate::model::facts::facts(c)).collect();
    save_cases_with_facts(tx, cases, fresh, &facts).await
}

/// [`save_cases`] with each case's statistical facts already computed (`facts[i]` are
/// `cases[i]`'s): the live projector computes them once for the table and its caches.
pub async fn save_cases_with_facts(tx: &mut Tx, cases: &[&CaseView], fresh: bool, facts: &[Vec<Fact>]) -> Result<()> {
    if cases.is_empty() {
        return Ok(());
    }
    debug_assert_eq!(cases.len(), facts.len());
    if let Tx::Postgres(c) = tx {
        for (part, facts) in cases.chunks(PG_CHUNK).zip(facts.chunks(PG_CHUNK)) {
            save_cases_pg(c, part, fresh, facts).await?;
        }
        return Ok(());
    }
    let ids: Vec<String> = cases.iter().map(|c| c.id.to_string()).collect();
    if !fresh {
        for t in ["rm_case_exploitation", "rm_report", "rm_fact"] {
            delete_for(tx, t, "case_id", &ids).await?;
        }
    }
    let rows: Vec<(&CaseView, &String, String)> =
        cases.iter().zip(&ids).map(|(c, id)| (*c, id, encode_doc(*c))).collect();
    bulk!(tx,
        "INSERT INTO rm_case (id, organization_id, lawyer_id, status, region, gender, identified_on, opened_seq, erased, doc, htcds_profile, guardian_consent) ",
        " ON CONFLICT (id) DO UPDATE SET lawyer_id = excluded.lawyer_id, status = excluded.status, erased = excluded.erased, doc = excluded.doc, \
          htcds_profile = excluded.htcds_profile, guardian_consent = excluded.guardian_consent",
        rows, 12, |b, r| {
            let (v, id, doc) = r;
            b.push_bind(*id).push_bind(v.organization_id.to_string())
                .push_bind(v.assignment.as_ref().map(|a| a.lawyer_id.to_string()))
                .push_bind(v.status().as_str()).push_bind(v.client.region.map(|r| r.as_str())).push_bind(v.client.gender.as_str())
                .push_bind(v.identified_on.to_string()).push_bind(v.opened_seq).push_bind(v.erased as i32).push_bind(doc)
                .push_bind(!v.profile.is_empty() as i32).push_bind(v.guardian_consent.map(|g| g.given_by.as_str()))
        });
    let types: Vec<(&String, &'static str)> =
        cases.iter().zip(&ids).flat_map(|(c, id)| c.exploitation_types.iter().map(move |t| (id, t.as_str()))).collect();
    bulk!(tx, "INSERT INTO rm_case_exploitation (case_id, exploitation_type) ", "", types, 2, |b, r| {
        b.push_bind(r.0).push_bind(r.1)
    });
    let reports: Vec<(&String, &ReportView)> =
        cases.iter().zip(&ids).flat_map(|(c, id)| c.reports.iter().map(move |r| (id, r))).collect();
    bulk!(tx,
        "INSERT INTO rm_report (report_id, case_id, filed_on, initial_code, initial_category, current_code, current_category, refused) ",
        "", reports, 8, |b, x| {
            let (case_id, r) = x;
            let initial = r.registration.as_ref().map(|x| &x.offense);
            b.push_bind(r.id.to_string()).push_bind(*case_id).push_bind(r.filed_on.to_string())
                .push_bind(initial.map(|o| o.code.clone())).push_bind(initial.map(|o| o.category.as_str()))
                .push_bind(r.current.as_ref().map(|o| o.code.clone())).push_bind(r.current.as_ref().map(|o| o.category.as_str()))
                .push_bind(r.refused.is_some() as i32)
        });
    let facts: Vec<&Fact> = facts.iter().flatten().collect();
    bulk!(
        tx,
        "INSERT INTO rm_fact (case_id, report_id, kind, on_date, year, gender, age_group, region, country, \
         organization_id, lawyer_id, lawyer_status, offense_category, offense_code, authority, defendant_gender, amount, currency) ",
        "",
        facts,
        18,
        |b, f| {
            b.push_bind(f.case_id.to_string())
                .push_bind(f.report_id.map(|r| r.to_string()))
                .push_bind(f.kind.as_str())
                .push_bind(f.on.to_string())
                .push_bind(f.year())
                .push_bind(f.gender)
                .push_bind(f.age_group)
                .push_bind(f.region)
                .push_bind(&f.country)
                .push_bind(f.organization_id.to_string())
                .push_bind(f.lawyer_id.map(|l| l.to_string()))
                .push_bind(f.lawyer_status)
                .push_bind(f.offense_category)
                .push_bind(&f.offense_code)
                .push_bind(f.authority)
                .push_bind(f.defendant_gender)
                .push_bind(f.amount)
                .push_bind(&f.currency)
        }
    );
    Ok(())
}

/// Cases per statement on PostgreSQL (arrays have no parameter limit; this bounds memory).
const PG_CHUNK: usize = 2_000;

/// The old derived rows of a batch's cases, in one statement.
const PG_DELETE_DERIVED: &str = "WITH e AS (DELETE FROM rm_case_exploitation WHERE case_id = ANY($1)), \
     r AS (DELETE FROM rm_report WHERE case_id = ANY($1)) \
     DELETE FROM rm_fact WHERE case_id = ANY($1)";

/// A batch's case documents and derived rows, in one statement: each table's rows as one
/// array per column (`unnest`), so the text is the same for any number of rows and every
/// connection prepares it once. The statements of a CTE run on one snapshot; each writes a
/// table of its own, and the old derived rows were deleted by the statement before.
const PG_SAVE_CASES: &str = "WITH c AS (\
       INSERT INTO rm_case (id, organization_id, lawyer_id, status, region, gender, identified_on, opened_seq, erased, doc, \
                            htcds_profile, guardian_consent) \
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], \
                            $8::bigint[], $9::integer[], $10::text[], $39::integer[], $40::text[]) \
       ON CONFLICT (id) DO UPDATE SET lawyer_id = excluded.lawyer_id, status = excluded.status, \
                                      erased = excluded.erased, doc = excluded.doc, \
                                      htcds_profile = excluded.htcds_profile, guardian_consent = excluded.guardian_consent), \
     x AS (INSERT INTO rm_case_exploitation (case_id, exploitation_type) SELECT * FROM unnest($11::text[], $12::text[])), \
     r AS (INSERT INTO rm_report (report_id, case_id, filed_on, initial_code, initial_category, current_code, current_category, refused) \
           SELECT * FROM unnest($13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[], $19::text[], $20::integer[])) \
     INSERT INTO rm_fact (case_id, report_id, kind, on_date, year, gender, age_group, region, country, \
         organization_id, lawyer_id, lawyer_status, offense_category, offense_code, authority, defendant_gender, amount, currency) \
     SELECT * FROM unnest($21::text[], $22::text[], $23::text[], $24::text[], $25::bigint[], $26::text[], $27::text[], \
         $28::text[], $29::text[], $30::text[], $31::text[], $32::text[], $33::text[], $34::text[], $35::text[], $36::text[], \
         $37::bigint[], $38::text[])";

/// [`save_cases`] on PostgreSQL: two statements of fixed text for any number of cases.
async fn save_cases_pg(
    c: &mut sqlx::PgConnection,
    cases: &[&CaseView],
    fresh: bool,
    facts: &[Vec<Fact>],
) -> Result<()> {
    let ids: Vec<String> = cases.iter().map(|c| c.id.to_string()).collect();
    if !fresh {
        sqlx::query(PG_DELETE_DERIVED).bind(&ids).execute(&mut *c).await?;
    }
    let mut q = sqlx::query(PG_SAVE_CASES)
        .bind(&ids)
        .bind(cases.iter().map(|v| v.organization_id.to_string()).collect::<Vec<_>>())
        .bind(cases.iter().map(|v| v.assignment.as_ref().map(|a| a.lawyer_id.to_string())).collect::<Vec<_>>())
        .bind(cases.iter().map(|v| v.status().as_str()).collect::<Vec<_>>())
        .bind(cases.iter().map(|v| v.client.region.map(|r| r.as_str())).collect::<Vec<_>>())
        .bind(cases.iter().map(|v| v.client.gender.as_str()).collect::<Vec<_>>())
        .bind(cases.iter().map(|v| v.identified_on.to_string()).collect::<Vec<_>>())
        .bind(cases.iter().map(|v| v.opened_seq).collect::<Vec<_>>())
        .bind(cases.iter().map(|v| v.erased as i32).collect::<Vec<_>>())
        .bind(cases.iter().map(|v| encode_doc(*v)).collect::<Vec<_>>());
    let (mut tc, mut tt) = (vec![], vec![]);
    for (v, id) in cases.iter().zip(&ids) {
        for t in &v.exploitation_types {
            tc.push(id.as_str());
            tt.push(t.as_str());
        }
    }
    q = q.bind(tc).bind(tt);
    let reports: Vec<(&String, &ReportView)> =
        cases.iter().zip(&ids).flat_map(|(c, id)| c.reports.iter().map(move |r| (id, r))).collect();
    let initial = |r: &ReportView| r.registration.as_ref().map(|x| x.offense.clone());
    q = q
        .bind(reports.iter().map(|(_, r)| r.id.to_string()).collect::<Vec<_>>())
        .bind(reports.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>())
        .bind(reports.iter().map(|(_, r)| r.filed_on.to_string()).collect::<Vec<_>>())
        .bind(reports.iter().map(|(_, r)| initial(r).map(|o| o.code)).collect::<Vec<_>>())
        .bind(reports.iter().map(|(_, r)| initial(r).map(|o| o.category.as_str())).collect::<Vec<_>>())
        .bind(reports.iter().map(|(_, r)| r.current.as_ref().map(|o| o.code.clone())).collect::<Vec<_>>())
        .bind(reports.iter().map(|(_, r)| r.current.as_ref().map(|o| o.category.as_str())).collect::<Vec<_>>())
        .bind(reports.iter().map(|(_, r)| r.refused.is_some() as i32).collect::<Vec<_>>());
    let facts: Vec<&Fact> = facts.iter().flatten().collect();
    q = q
        .bind(facts.iter().map(|f| f.case_id.to_string()).collect::<Vec<_>>())
        .bind(facts.iter().map(|f| f.report_id.map(|r| r.to_string())).collect::<Vec<_>>())
        .bind(facts.iter().map(|f| f.kind.as_str()).collect::<Vec<_>>())
        .bind(facts.iter().map(|f| f.on.to_string()).collect::<Vec<_>>())
        .bind(facts.iter().map(|f| f.year()).collect::<Vec<_>>())
        .bind(facts.iter().map(|f| f.gender).collect::<Vec<_>>())
        .bind(facts.iter().map(|f| f.age_group).collect::<Vec<_>>())
        .bind(facts.iter().map(|f| f.region).collect::<Vec<_>>())
        .bind(facts.iter().map(|f| f.country.clone()).collect::<Vec<_>>())
        .bind(facts.iter().map(|f| f.organization_id.to_string()).collect::<Vec<_>>())
        .bind(facts.iter().map(|f| f.lawyer_id.map(|l| l.to_string())).collect::<Vec<_>>())
        .bind(facts.iter().map(|f| f.lawyer_status).collect::<Vec<_>>())
        .bind(facts.iter().map(|f| f.offense_category).collect::<Vec<_>>())
        .bind(facts.iter().map(|f| f.offense_code.clone()).collect::<Vec<_>>())
        .bind(facts.iter().map(|f| f.authority).collect::<Vec<_>>())
        .bind(facts.iter().map(|f| f.defendant_gender).collect::<Vec<_>>())
        .bind(facts.iter().map(|f| f.amount).collect::<Vec<_>>())
        .bind(facts.iter().map(|f| f.currency.clone()).collect::<Vec<_>>());
    // The case columns added after the statement's first version ($39, $40).
    q = q
        .bind(cases.iter().map(|v| !v.profile.is_empty() as i32).collect::<Vec<_>>())
        .bind(cases.iter().map(|v| v.guardian_consent.map(|g| g.given_by.as_str())).collect::<Vec<_>>());
    q.execute(&mut *c).await?;
    Ok(())
}

pub async fn load_lawyer(tx: &mut Tx, id: Uuid) -> Result<Option<LawyerView>> {
    let id = id.to_string();
    let doc: Option<String> = on_tx!(tx, c => sqlx::query_scalar("SELECT doc FROM rm_lawyer WHERE id = $1")
        .bind(&id).fetch_optional(&mut **c).await?);
    doc.map(|d| decode_doc("rm_lawyer", &id, &d)).transpose()
}

pub async fn save_lawyers(tx: &mut Tx, lawyers: &[&LawyerView]) -> Result<()> {
    let rows: Vec<(&LawyerView, String)> = lawyers.iter().map(|l| (*l, encode_doc(*l))).collect();
    bulk!(
        tx,
        "INSERT INTO rm_lawyer (id, full_name, gender, status, region, active, trained, registered_seq, doc) ",
        " ON CONFLICT (id) DO UPDATE SET active = excluded.active, trained = excluded.trained, doc = excluded.doc",
        rows,
        9,
        |b, r| {
            let (v, doc) = r;
            b.push_bind(v.id.to_string())
                .push_bind(&v.full_name)
                .push_bind(v.gender.as_str())
                .push_bind(v.status.as_str())
                .push_bind(v.region.as_str())
                .push_bind(v.active as i32)
                .push_bind(!v.trainings.is_empty() as i32)
                .push_bind(v.registered_seq)
                .push_bind(doc)
        }
    );
    Ok(())
}

/// Registers an organisation (with its kind) or renames it (`kind` is `None`).
pub async fn upsert_organization(
    tx: &mut Tx,
    id: Uuid,
    name: &str,
    kind: Option<OrganizationKind>,
    seq: i64,
) -> Result<()> {
    let id = id.to_string();
    match kind {
        Some(kind) => on_tx!(tx, c => sqlx::query(
            "INSERT INTO rm_organization (id, name, kind, registered_seq) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind")
            .bind(&id).bind(name).bind(kind.as_str()).bind(seq).execute(&mut **c).await?.rows_affected()),
        None => on_tx!(tx, c => sqlx::query("UPDATE rm_organization SET name = $2 WHERE id = $1")
            .bind(&id).bind(name).execute(&mut **c).await?.rows_affected()),
    };
    Ok(())
}

pub async fn insert_account(tx: &mut Tx, a: &AccountView) -> Result<()> {
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO rm_account (id, name, role, organization_id, lawyer_id, disabled, created_at, created_by, approved) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING")
        .bind(a.id.to_string()).bind(&a.name).bind(a.role.as_str())
        .bind(a.organization_id.map(|o| o.to_string())).bind(a.lawyer_id.map(|l| l.to_string()))
        .bind(a.disabled as i32).bind(instant_text(&a.created_at))
        .bind(a.created_by.map(|c| c.to_string())).bind(a.approved as i32)
        .execute(&mut **c).await?.rows_affected());
    Ok(())
}

pub async fn approve_account(tx: &mut Tx, id: Uuid, by: Uuid, at: &chrono::DateTime<chrono::Utc>) -> Result<()> {
    on_tx!(tx, c => sqlx::query("UPDATE rm_account SET approved = 1, approved_by = $2, approved_at = $3 WHERE id = $1")
        .bind(id.to_string()).bind(by.to_string()).bind(instant_text(at)).execute(&mut **c).await?.rows_affected());
    Ok(())
}

pub async fn disable_account(tx: &mut Tx, id: Uuid) -> Result<()> {
    on_tx!(tx, c => sqlx::query("UPDATE rm_account SET disabled = 1 WHERE id = $1")
        .bind(id.to_string()).execute(&mut **c).await?.rows_affected());
    Ok(())
}

pub async fn insert_token(tx: &mut Tx, token_hash: &str, t: &TokenView) -> Result<()> {
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO rm_token (token_hash, token_id, account_id, issued_at, expires_at, revoked) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (token_hash) DO NOTHING")
        .bind(token_hash).bind(t.token_id.to_string()).bind(t.account_id.to_string())
        .bind(instant_text(&t.issued_at)).bind(t.expires_at.as_ref().map(instant_text)).bind(t.revoked as i32)
        .execute(&mut **c).await?.rows_affected());
    Ok(())
}

pub async fn revoke_token(tx: &mut Tx, token_id: Uuid) -> Result<()> {
    on_tx!(tx, c => sqlx::query("UPDATE rm_token SET revoked = 1 WHERE token_id = $1")
        .bind(token_id.to_string()).execute(&mut **c).await?.rows_affected());
    Ok(())
}

pub async fn upsert_offense(tx: &mut Tx, o: &OffenseEntry) -> Result<()> {
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO rm_offense (code, edition, article, title_en, title_ru, title_ky, category, source, retired) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0) \
         ON CONFLICT (code) DO UPDATE SET edition = excluded.edition, article = excluded.article, \
         title_en = excluded.title_en, title_ru = excluded.title_ru, title_ky = excluded.title_ky, \
         category = excluded.category, source = excluded.source")
        .bind(&o.code).bind(&o.edition).bind(&o.article).bind(&o.title.en).bind(&o.title.ru).bind(&o.title.ky)
        .bind(o.category.as_str()).bind(&o.source).execute(&mut **c).await?.rows_affected());
    Ok(())
}

pub async fn retire_offense(tx: &mut Tx, code: &str) -> Result<()> {
    on_tx!(tx, c => sqlx::query("UPDATE rm_offense SET retired = 1 WHERE code = $1").bind(code).execute(&mut **c).await?.rows_affected());
    Ok(())
}

// ---------------------------------------------------------------- the rebuild's bulk load

/// Cases encoded per chunk of the rebuild's bulk load.
const LOAD_CHUNK: usize = 4_096;

/// The rebuild's bulk load of every case document and its derived rows into the emptied
/// tables (inside the rebuild's transaction): the same rows [`save_cases`] writes. On
/// PostgreSQL, `COPY … FROM STDIN` per table and chunk, each chunk encoded on a blocking
/// thread while the one before it is sent; on SQLite, [`save_cases`]' multi-row inserts.
pub async fn load_cases(tx: &mut Tx, cases: Vec<CaseView>) -> Result<()> {
    match tx {
        Tx::Postgres(c) => copy_cases_pg(c, cases).await,
        Tx::Sqlite(_) => {
            let refs: Vec<&CaseView> = cases.iter().collect();
            save_cases(tx, &refs, true).await
        }
    }
}

const COPY_CASE: &str = "COPY rm_case (id, organization_id, lawyer_id, status, region, gender, identified_on, \
    opened_seq, erased, doc, htcds_profile, guardian_consent) FROM STDIN";
const COPY_EXPLOITATION: &str = "COPY rm_case_exploitation (case_id, exploitation_type) FROM STDIN";
const COPY_REPORT: &str =
    "COPY rm_report (report_id, case_id, filed_on, initial_code, initial_category, current_code, \
    current_category, refused) FROM STDIN";
const COPY_FACT: &str = "COPY rm_fact (case_id, report_id, kind, on_date, year, gender, age_group, region, country, \
    organization_id, lawyer_id, lawyer_status, offense_category, offense_code, authority, defendant_gender, amount, \
    currency) FROM STDIN";

fn task_failed(e: tokio::task::JoinError) -> crate::Error {
    crate::Error::Io(std::io::Error::other(format!("a bulk-load task failed: {e}")))
}

async fn copy_cases_pg(c: &mut sqlx::PgConnection, cases: Vec<CaseView>) -> Result<()> {
    let cases = std::sync::Arc::new(cases);
    let n = cases.len();
    let encode = |start: usize| {
        let cases = cases.clone();
        tokio::task::spawn_blocking(move || CopyRows::of(&cases[start..(start + LOAD_CHUNK).min(n)]))
    };
    // Two chunks encoded ahead of the one being sent.
    let mut pending = std::collections::VecDeque::new();
    let mut next = 0;
    while next < n && pending.len() < 2 {
        pending.push_back(encode(next));
        next += LOAD_CHUNK;
    }
    while let Some(job) = pending.pop_front() {
        let rows = job.await.map_err(task_failed)?;
        if next < n {
            pending.push_back(encode(next));
            next += LOAD_CHUNK;
        }
        for (sql, data) in [
            (COPY_CASE, rows.cases),
            (COPY_EXPLOITATION, rows.types),
            (COPY_REPORT, rows.reports),
            (COPY_FACT, rows.facts),
        ] {
            if data.is_empty() {
                continue;
            }
            let mut copy = c.copy_in_raw(sql).await?;
            copy.send(data).await?;
            copy.finish().await?;
        }
    }
    Ok(())
}

/// Rows in PostgreSQL's `COPY` text format: tab-separated, `\N` for NULL, backslash,
/// tab, newline and carriage return escaped.
#[derive(Default)]
struct CopyRows {
    cases: Vec<u8>,
    types: Vec<u8>,
    reports: Vec<u8>,
    facts: Vec<u8>,
}

/// One row being written into a [`CopyRows`] buffer.
struct CopyLine<'a> {
    buf: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> CopyLine<'a> {
    fn new(buf: &'a mut Vec<u8>) -> Self {
        CopyLine { buf, first: true }
    }

    fn sep(&mut self) {
        if !self.first {
            self.buf.push(b'\t');
        }
        self.first = false;
    }

    fn text(&mut self, s: &str) -> &mut Self {
        self.sep();
        if !s.bytes().any(|b| matches!(b, b'\\' | b'\t' | b'\n' | b'\r')) {
            self.buf.extend_from_slice(s.as_bytes());
            return self;
        }
        for b in s.bytes() {
            match b {
                b'\\' => self.buf.extend_from_slice(b"\\\\"),
                b'\t' => self.buf.extend_from_slice(b"\\t"),
                b'\n' => self.buf.extend_from_slice(b"\\n"),
                b'\r' => self.buf.extend_from_slice(b"\\r"),
                _ => self.buf.push(b),
            }
        }
        self
    }

    fn opt(&mut self, s: Option<&str>) -> &mut Self {
        match s {
            Some(s) => self.text(s),
            None => {
                self.sep();
                self.buf.extend_from_slice(b"\\N");
                self
            }
        }
    }

    fn uuid(&mut self, id: &Uuid) -> &mut Self {
        let mut b = Uuid::encode_buffer();
        self.text(id.hyphenated().encode_lower(&mut b))
    }

    fn opt_uuid(&mut self, id: Option<&Uuid>) -> &mut Self {
        match id {
            Some(id) => self.uuid(id),
            None => self.opt(None),
        }
    }

    /// Numbers and dates: their `Display` never needs escaping.
    fn show(&mut self, v: impl std::fmt::Display) -> &mut Self {
        use std::io::Write;
        self.sep();
        let _ = write!(self.buf, "{v}");
        self
    }

    fn opt_int(&mut self, v: Option<i64>) -> &mut Self {
        match v {
            Some(v) => self.show(v),
            None => self.opt(None),
        }
    }

    fn end(&mut self) {
        self.buf.push(b'\n');
    }
}

impl CopyRows {
    /// The rows [`save_cases`] writes for `cases`, column for column.
    fn of(cases: &[CaseView]) -> CopyRows {
        let mut out = CopyRows::default();
        for v in cases {
            CopyLine::new(&mut out.cases)
                .uuid(&v.id)
                .uuid(&v.organization_id)
                .opt_uuid(v.assignment.as_ref().map(|a| &a.lawyer_id))
                .text(v.status().as_str())
                .opt(v.client.region.map(|r| r.as_str()))
                .text(v.client.gender.as_str())
                .show(v.identified_on)
                .show(v.opened_seq)
                .show(v.erased as i32)
                .text(&encode_doc(v))
                .show(!v.profile.is_empty() as i32)
                .opt(v.guardian_consent.map(|g| g.given_by.as_str()))
                .end();
            for t in &v.exploitation_types {
                CopyLine::new(&mut out.types).uuid(&v.id).text(t.as_str()).end();
            }
            for r in &v.reports {
                let initial = r.registration.as_ref().map(|x| &x.offense);
                CopyLine::new(&mut out.reports)
                    .uuid(&r.id)
                    .uuid(&v.id)
                    .show(r.filed_on)
                    .opt(initial.map(|o| o.code.as_str()))
                    .opt(initial.map(|o| o.category.as_str()))
                    .opt(r.current.as_ref().map(|o| o.code.as_str()))
                    .opt(r.current.as_ref().map(|o| o.category.as_str()))
                    .show(r.refused.is_some() as i32)
                    .end();
            }
            for f in crate::model::facts::facts(v) {
                CopyLine::new(&mut out.facts)
                    .uuid(&f.case_id)
                    .opt_uuid(f.report_id.as_ref())
                    .text(f.kind.as_str())
                    .show(f.on)
                    .show(f.year())
                    .text(f.gender)
                    .text(f.age_group)
                    .opt(f.region)
                    .opt(f.country.as_deref())
                    .uuid(&f.organization_id)
                    .opt_uuid(f.lawyer_id.as_ref())
                    .opt(f.lawyer_status)
                    .opt(f.offense_category)
                    .opt(f.offense_code.as_deref())
                    .opt(f.authority)
                    .opt(f.defendant_gender)
                    .opt_int(f.amount)
                    .opt(f.currency.as_deref())
                    .end();
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_what_copy_reads_as_special_and_writes_null_as_backslash_n() {
        let mut buf = vec![];
        CopyLine::new(&mut buf).text("a\\b\tc\nd\re").opt(None).show(7).opt(Some("plain")).end();
        assert_eq!(buf, b"a\\\\b\\tc\\nd\\re\t\\N\t7\tplain\n".to_vec());
    }
}
