//! Read-model persistence: the writes the projector makes inside its transaction, and the
//! queries the API answers from. Same SQL on both backends (see [`crate::db`]).

use crate::db::{Db, Tx};
use crate::log::Position;
use crate::model::{AccountView, CaseView, LawyerView, TokenView};
use crate::{on_db, on_tx, Error, Result};
use domain::offense::OffenseEntry;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sqlx::Row;

/// The projector's checkpoint row name.
pub const MAIN: &str = "main";

/// Every read-model table, in the order a rebuild empties them.
pub const TABLES: &[&str] = &[
    "rm_case",
    "rm_case_exploitation",
    "rm_report",
    "rm_fact",
    "rm_lawyer",
    "rm_organization",
    "rm_account",
    "rm_token",
    "rm_offense",
    "rm_checkpoint",
];

fn decode<T: DeserializeOwned>(table: &'static str, id: &str, doc: &str) -> Result<T> {
    serde_json::from_str(doc).map_err(|e| Error::CorruptRow { table, id: id.to_string(), reason: e.to_string() })
}

fn encode<T: Serialize>(v: &T) -> String {
    // Serialising our own plain structs cannot fail (no maps with non-string keys).
    serde_json::to_string(v).unwrap_or_default()
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// A bind value for dynamically built queries.
#[derive(Debug, Clone)]
pub enum Arg {
    Text(String),
    Int(i64),
}

// ---------------------------------------------------------------- projector writes

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

/// Empties every read model (inside the rebuild transaction).
pub async fn truncate(tx: &mut Tx) -> Result<()> {
    for t in TABLES {
        let sql = format!("DELETE FROM {t}");
        on_tx!(tx, c => sqlx::query(&sql).execute(&mut **c).await?.rows_affected());
    }
    Ok(())
}

pub async fn load_case(tx: &mut Tx, id: &str) -> Result<Option<CaseView>> {
    let doc: Option<String> = on_tx!(tx, c => sqlx::query_scalar("SELECT doc FROM rm_case WHERE id = $1")
        .bind(id).fetch_optional(&mut **c).await?);
    doc.map(|d| decode("rm_case", id, &d)).transpose()
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
async fn delete_for(tx: &mut Tx, table: &str, col: &str, ids: &[&str]) -> Result<()> {
    for part in ids.chunks(500) {
        let marks: Vec<String> = (1..=part.len()).map(|i| format!("${i}")).collect();
        let sql = format!("DELETE FROM {table} WHERE {col} IN ({})", marks.join(", "));
        on_tx!(tx, c => {
            let mut q = sqlx::query(&sql);
            for id in part {
                q = q.bind(*id);
            }
            q.execute(&mut **c).await?;
        });
    }
    Ok(())
}

/// Writes case documents and everything derived from them (exploitation types, reports,
/// statistical facts). `fresh` skips deleting old derived rows (a rebuild into empty tables).
pub async fn save_cases(tx: &mut Tx, cases: &[&CaseView], fresh: bool) -> Result<()> {
    if cases.is_empty() {
        return Ok(());
    }
    if !fresh {
        let ids: Vec<&str> = cases.iter().map(|c| c.id.as_str()).collect();
        for t in ["rm_case_exploitation", "rm_report", "rm_fact"] {
            delete_for(tx, t, "case_id", &ids).await?;
        }
    }
    let rows: Vec<(&CaseView, String)> = cases.iter().map(|c| (*c, encode(*c))).collect();
    bulk!(tx,
        "INSERT INTO rm_case (id, organization_id, lawyer_id, status, region, gender, identified_on, opened_seq, erased, doc) ",
        " ON CONFLICT (id) DO UPDATE SET lawyer_id = excluded.lawyer_id, status = excluded.status, erased = excluded.erased, doc = excluded.doc",
        rows, 10, |b, r| {
            let (v, doc) = r;
            b.push_bind(&v.id).push_bind(&v.organization_id).push_bind(v.assignment.as_ref().map(|a| a.lawyer_id.clone()))
                .push_bind(v.status()).push_bind(v.client.region.map(|r| r.as_str())).push_bind(v.client.gender.as_str())
                .push_bind(&v.identified_on).push_bind(v.opened_seq).push_bind(v.erased as i32).push_bind(doc)
        });
    let types: Vec<(&str, &'static str)> =
        cases.iter().flat_map(|c| c.exploitation_types.iter().map(move |t| (c.id.as_str(), t.as_str()))).collect();
    bulk!(tx, "INSERT INTO rm_case_exploitation (case_id, exploitation_type) ", "", types, 2, |b, r| {
        b.push_bind(r.0).push_bind(r.1)
    });
    let reports: Vec<(&str, &crate::model::ReportView)> =
        cases.iter().flat_map(|c| c.reports.iter().map(move |r| (c.id.as_str(), r))).collect();
    bulk!(tx,
        "INSERT INTO rm_report (report_id, case_id, filed_on, initial_code, initial_category, current_code, current_category, refused) ",
        "", reports, 8, |b, x| {
            let (case_id, r) = x;
            let initial = r.registration.as_ref().map(|x| &x.offense);
            b.push_bind(&r.id).push_bind(*case_id).push_bind(&r.filed_on)
                .push_bind(initial.map(|o| o.code.clone())).push_bind(initial.map(|o| o.category.as_str()))
                .push_bind(r.current.as_ref().map(|o| o.code.clone())).push_bind(r.current.as_ref().map(|o| o.category.as_str()))
                .push_bind(r.refused.is_some() as i32)
        });
    let facts: Vec<crate::model::facts::Fact> = cases.iter().flat_map(|c| crate::model::facts::facts(c)).collect();
    bulk!(
        tx,
        "INSERT INTO rm_fact (case_id, report_id, kind, on_date, year, gender, age_group, region, country, \
         organization_id, lawyer_id, lawyer_status, offense_category, offense_code, authority) ",
        "",
        facts,
        15,
        |b, f| {
            b.push_bind(&f.case_id)
                .push_bind(&f.report_id)
                .push_bind(f.kind.as_str())
                .push_bind(&f.on)
                .push_bind(f.year())
                .push_bind(f.gender)
                .push_bind(f.age_group)
                .push_bind(f.region)
                .push_bind(&f.country)
                .push_bind(&f.organization_id)
                .push_bind(&f.lawyer_id)
                .push_bind(f.lawyer_status)
                .push_bind(f.offense_category)
                .push_bind(&f.offense_code)
                .push_bind(f.authority)
        }
    );
    Ok(())
}

pub async fn load_lawyer(tx: &mut Tx, id: &str) -> Result<Option<LawyerView>> {
    let doc: Option<String> = on_tx!(tx, c => sqlx::query_scalar("SELECT doc FROM rm_lawyer WHERE id = $1")
        .bind(id).fetch_optional(&mut **c).await?);
    doc.map(|d| decode("rm_lawyer", id, &d)).transpose()
}

pub async fn save_lawyers(tx: &mut Tx, lawyers: &[&LawyerView]) -> Result<()> {
    let rows: Vec<(&LawyerView, String)> = lawyers.iter().map(|l| (*l, encode(*l))).collect();
    bulk!(
        tx,
        "INSERT INTO rm_lawyer (id, full_name, gender, status, region, active, trained, registered_seq, doc) ",
        " ON CONFLICT (id) DO UPDATE SET active = excluded.active, trained = excluded.trained, doc = excluded.doc",
        rows,
        9,
        |b, r| {
            let (v, doc) = r;
            b.push_bind(&v.id)
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

pub async fn upsert_organization(tx: &mut Tx, id: &str, name: &str, kind: Option<&str>, seq: i64) -> Result<()> {
    match kind {
        Some(kind) => on_tx!(tx, c => sqlx::query(
            "INSERT INTO rm_organization (id, name, kind, registered_seq) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind")
            .bind(id).bind(name).bind(kind).bind(seq).execute(&mut **c).await?.rows_affected()),
        None => on_tx!(tx, c => sqlx::query("UPDATE rm_organization SET name = $2 WHERE id = $1")
            .bind(id).bind(name).execute(&mut **c).await?.rows_affected()),
    };
    Ok(())
}

pub async fn insert_account(tx: &mut Tx, a: &AccountView) -> Result<()> {
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO rm_account (id, name, role, organization_id, lawyer_id, disabled, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING")
        .bind(&a.id).bind(&a.name).bind(&a.role).bind(&a.organization_id).bind(&a.lawyer_id)
        .bind(a.disabled as i32).bind(&a.created_at).execute(&mut **c).await?.rows_affected());
    Ok(())
}

pub async fn disable_account(tx: &mut Tx, id: &str) -> Result<()> {
    on_tx!(tx, c => sqlx::query("UPDATE rm_account SET disabled = 1 WHERE id = $1").bind(id).execute(&mut **c).await?.rows_affected());
    Ok(())
}

pub async fn insert_token(tx: &mut Tx, token_hash: &str, t: &TokenView) -> Result<()> {
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO rm_token (token_hash, token_id, account_id, issued_at, expires_at, revoked) \
         VALUES ($1, $2, $3, $4, $5, 0) ON CONFLICT (token_hash) DO NOTHING")
        .bind(token_hash).bind(&t.token_id).bind(&t.account_id).bind(&t.issued_at).bind(&t.expires_at)
        .execute(&mut **c).await?.rows_affected());
    Ok(())
}

pub async fn revoke_token(tx: &mut Tx, token_id: &str) -> Result<()> {
    on_tx!(tx, c => sqlx::query("UPDATE rm_token SET revoked = 1 WHERE token_id = $1").bind(token_id).execute(&mut **c).await?.rows_affected());
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

// ---------------------------------------------------------------- queries

/// The checkpoint as any reader sees it (followers publish this).
pub async fn read_checkpoint(db: &Db) -> Result<Position> {
    let row = on_db!(db, p => sqlx::query("SELECT tx, position FROM rm_checkpoint WHERE name = $1")
        .bind(MAIN).fetch_optional(p).await?
        .map(|r| Ok::<_, sqlx::Error>(Position { tx: r.try_get("tx")?, pos: r.try_get("position")? }))
        .transpose()?);
    Ok(row.unwrap_or(Position::START))
}

pub async fn case_by_id(db: &Db, id: &str) -> Result<Option<CaseView>> {
    let doc: Option<String> =
        on_db!(db, p => sqlx::query_scalar("SELECT doc FROM rm_case WHERE id = $1").bind(id).fetch_optional(p).await?);
    doc.map(|d| decode("rm_case", id, &d)).transpose()
}

/// Filters of the case list. Every field narrows; `None` means any.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CaseFilter {
    pub status: Option<String>,
    pub organization_id: Option<String>,
    pub lawyer_id: Option<String>,
    pub region: Option<String>,
    pub exploitation_type: Option<String>,
    pub offense_category: Option<String>,
    pub identified_from: Option<String>,
    pub identified_to: Option<String>,
}

/// A page of cases in opening order, after the cursor `after` (an `opened_seq`).
pub struct CasePage {
    pub cases: Vec<CaseView>,
    pub has_next: bool,
    pub total: i64,
}

fn case_where(f: &CaseFilter, args: &mut Vec<Arg>) -> String {
    let mut clauses: Vec<String> = vec!["1 = 1".into()];
    let mut push = |clause: &str, v: &str, args: &mut Vec<Arg>| {
        args.push(Arg::Text(v.to_string()));
        clauses.push(clause.replace('?', &format!("${}", args.len())));
    };
    if let Some(v) = &f.status {
        push("status = ?", v, args);
    }
    if let Some(v) = &f.organization_id {
        push("organization_id = ?", v, args);
    }
    if let Some(v) = &f.lawyer_id {
        push("lawyer_id = ?", v, args);
    }
    if let Some(v) = &f.region {
        push("region = ?", v, args);
    }
    if let Some(v) = &f.exploitation_type {
        push("id IN (SELECT case_id FROM rm_case_exploitation WHERE exploitation_type = ?)", v, args);
    }
    if let Some(v) = &f.offense_category {
        push("id IN (SELECT case_id FROM rm_report WHERE current_category = ?)", v, args);
    }
    if let Some(v) = &f.identified_from {
        push("identified_on >= ?", v, args);
    }
    if let Some(v) = &f.identified_to {
        push("identified_on <= ?", v, args);
    }
    clauses.join(" AND ")
}

macro_rules! bind_all {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                Arg::Text(s) => q.bind(s.clone()),
                Arg::Int(i) => q.bind(*i),
            };
        }
        q
    }};
}

pub async fn list_cases(db: &Db, filter: &CaseFilter, first: i64, after: Option<i64>) -> Result<CasePage> {
    let mut args = Vec::new();
    let wh = case_where(filter, &mut args);
    let count_sql = format!("SELECT count(*) FROM rm_case WHERE {wh}");
    let total: i64 = on_db!(db, p => bind_all!(sqlx::query_scalar(&count_sql), &args).fetch_one(p).await?);
    let mut page_args = args.clone();
    page_args.push(Arg::Int(after.unwrap_or(i64::MIN)));
    page_args.push(Arg::Int(first + 1));
    let n = page_args.len();
    let sql =
        format!("SELECT id, doc FROM rm_case WHERE {wh} AND opened_seq > ${} ORDER BY opened_seq LIMIT ${}", n - 1, n);
    let rows: Vec<(String, String)> = on_db!(db, p => bind_all!(sqlx::query_as(&sql), &page_args).fetch_all(p).await?);
    let has_next = rows.len() as i64 > first;
    let cases = rows
        .iter()
        .take(first as usize)
        .map(|(id, doc)| decode("rm_case", id, doc))
        .collect::<Result<Vec<CaseView>>>()?;
    Ok(CasePage { cases, has_next, total })
}

pub async fn lawyer_by_id(db: &Db, id: &str) -> Result<Option<LawyerView>> {
    let doc: Option<String> = on_db!(db, p => sqlx::query_scalar("SELECT doc FROM rm_lawyer WHERE id = $1").bind(id).fetch_optional(p).await?);
    doc.map(|d| decode("rm_lawyer", id, &d)).transpose()
}

pub async fn list_lawyers(db: &Db) -> Result<Vec<LawyerView>> {
    let rows: Vec<(String, String)> =
        on_db!(db, p => sqlx::query_as("SELECT id, doc FROM rm_lawyer ORDER BY registered_seq").fetch_all(p).await?);
    rows.iter().map(|(id, d)| decode("rm_lawyer", id, d)).collect()
}

/// Open cases a lawyer is assigned to.
pub async fn active_caseload(db: &Db, lawyer_id: &str) -> Result<i64> {
    let n: i64 = on_db!(db, p => sqlx::query_scalar("SELECT count(*) FROM rm_case WHERE lawyer_id = $1 AND status <> 'CLOSED'")
        .bind(lawyer_id).fetch_one(p).await?);
    Ok(n)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct OrganizationRow {
    pub id: String,
    pub name: String,
    pub kind: String,
}

pub async fn organization_by_id(db: &Db, id: &str) -> Result<Option<OrganizationRow>> {
    Ok(
        on_db!(db, p => sqlx::query_as("SELECT id, name, kind FROM rm_organization WHERE id = $1").bind(id).fetch_optional(p).await?),
    )
}

pub async fn list_organizations(db: &Db) -> Result<Vec<OrganizationRow>> {
    Ok(
        on_db!(db, p => sqlx::query_as("SELECT id, name, kind FROM rm_organization ORDER BY registered_seq").fetch_all(p).await?),
    )
}

type AccountRow = (String, String, String, Option<String>, Option<String>, i32, String);

pub async fn account_by_id(db: &Db, id: &str) -> Result<Option<AccountView>> {
    let row: Option<AccountRow> = on_db!(db, p => sqlx::query_as(
        "SELECT id, name, role, organization_id, lawyer_id, disabled, created_at FROM rm_account WHERE id = $1")
        .bind(id).fetch_optional(p).await?);
    Ok(row.map(|(id, name, role, organization_id, lawyer_id, disabled, created_at)| AccountView {
        id,
        name,
        role,
        organization_id,
        lawyer_id,
        disabled: disabled != 0,
        created_at,
    }))
}

pub async fn token_by_hash(db: &Db, hash: &str) -> Result<Option<TokenView>> {
    let row: Option<(String, String, String, Option<String>, i32)> = on_db!(db, p => sqlx::query_as(
        "SELECT token_id, account_id, issued_at, expires_at, revoked FROM rm_token WHERE token_hash = $1")
        .bind(hash).fetch_optional(p).await?);
    Ok(row.map(|(token_id, account_id, issued_at, expires_at, revoked)| TokenView {
        token_id,
        account_id,
        issued_at,
        expires_at,
        revoked: revoked != 0,
    }))
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct OffenseRow {
    pub code: String,
    pub edition: String,
    pub article: String,
    pub title_en: String,
    pub title_ru: Option<String>,
    pub title_ky: Option<String>,
    pub category: String,
    pub source: Option<String>,
    pub retired: i32,
}

const OFFENSE_COLUMNS: &str = "code, edition, article, title_en, title_ru, title_ky, category, source, retired";

pub async fn offenses(db: &Db) -> Result<Vec<OffenseRow>> {
    let sql = format!("SELECT {OFFENSE_COLUMNS} FROM rm_offense ORDER BY edition, code");
    Ok(on_db!(db, p => sqlx::query_as(&sql).fetch_all(p).await?))
}

pub async fn offense_by_code(db: &Db, code: &str) -> Result<Option<OffenseRow>> {
    let sql = format!("SELECT {OFFENSE_COLUMNS} FROM rm_offense WHERE code = $1");
    Ok(on_db!(db, p => sqlx::query_as(&sql).bind(code).fetch_optional(p).await?))
}

/// The account a token belongs to.
pub async fn token_account(db: &Db, token_id: &str) -> Result<Option<String>> {
    Ok(on_db!(db, p => sqlx::query_scalar("SELECT account_id FROM rm_token WHERE token_id = $1")
        .bind(token_id).fetch_optional(p).await?))
}

/// Every case's statistical facts and exploitation types, for loading the stats index.
pub async fn all_case_facts(db: &Db) -> Result<Vec<(String, Vec<crate::model::facts::Fact>, Vec<&'static str>)>> {
    let rows: Vec<(String, String)> =
        on_db!(db, p => sqlx::query_as("SELECT id, doc FROM rm_case").fetch_all(p).await?);
    rows.iter()
        .map(|(id, doc)| {
            let v: CaseView = decode("rm_case", id, doc)?;
            Ok((
                v.id.clone(),
                crate::model::facts::facts(&v),
                v.exploitation_types.iter().map(|t| t.as_str()).collect(),
            ))
        })
        .collect()
}

/// One decryption of a client's identity for a response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct IdentityRead {
    pub id: String,
    pub read_at: String,
    pub case_id: String,
    pub account_id: String,
    pub role: String,
    pub fields: String,
    pub purpose: Option<String>,
    pub correlation_id: Option<String>,
}

pub async fn record_identity_read(db: &Db, r: &IdentityRead) -> Result<()> {
    on_db!(db, p => sqlx::query(
        "INSERT INTO identity_reads (id, read_at, case_id, account_id, role, fields, purpose, correlation_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(&r.id).bind(&r.read_at).bind(&r.case_id).bind(&r.account_id).bind(&r.role).bind(&r.fields)
        .bind(&r.purpose).bind(&r.correlation_id).execute(p).await?.rows_affected());
    Ok(())
}

/// Identity reads, newest first, optionally for one case and/or one account.
pub async fn identity_reads(
    db: &Db,
    case_id: Option<&str>,
    account_id: Option<&str>,
    limit: i64,
) -> Result<Vec<IdentityRead>> {
    let mut sql = "SELECT id, read_at, case_id, account_id, role, fields, purpose, correlation_id FROM identity_reads WHERE 1 = 1".to_string();
    let mut args: Vec<Arg> = vec![];
    if let Some(c) = case_id {
        args.push(Arg::Text(c.to_string()));
        sql.push_str(&format!(" AND case_id = ${}", args.len()));
    }
    if let Some(a) = account_id {
        args.push(Arg::Text(a.to_string()));
        sql.push_str(&format!(" AND account_id = ${}", args.len()));
    }
    args.push(Arg::Int(limit));
    sql.push_str(&format!(" ORDER BY read_at DESC, id LIMIT ${}", args.len()));
    Ok(on_db!(db, p => bind_all!(sqlx::query_as(&sql), &args).fetch_all(p).await?))
}
