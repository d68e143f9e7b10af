//! What the API reads from the read models, decoded once into typed values.

use super::{bind_all, decode_doc, Arg, Row, MAIN};
use crate::db::Db;
use crate::log::Position;
use crate::model::{AccountView, CaseStatus, CaseView, LawyerView, TokenView};
use crate::{on_db, Result};
use chrono::NaiveDate;
use domain::values::{ExploitationType, OffenseCategory, OrganizationKind, Region};
use sqlx::Row as _;
use uuid::Uuid;

/// The checkpoint as any reader sees it (followers publish this).
pub async fn read_checkpoint(db: &Db) -> Result<Position> {
    let row = on_db!(db, p => sqlx::query("SELECT tx, position FROM rm_checkpoint WHERE name = $1")
        .bind(MAIN).fetch_optional(p).await?
        .map(|r| Ok::<_, sqlx::Error>(Position { tx: r.try_get("tx")?, pos: r.try_get("position")? }))
        .transpose()?);
    Ok(row.unwrap_or(Position::START))
}

// ---------------------------------------------------------------- cases

pub async fn case_by_id(db: &Db, id: Uuid) -> Result<Option<CaseView>> {
    let id = id.to_string();
    let doc: Option<String> =
        on_db!(db, p => sqlx::query_scalar("SELECT doc FROM rm_case WHERE id = $1").bind(&id).fetch_optional(p).await?);
    doc.map(|d| decode_doc("rm_case", &id, &d)).transpose()
}

/// Filters of the case list. Every field narrows; `None` means any.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaseFilter {
    pub status: Option<CaseStatus>,
    pub organization_id: Option<Uuid>,
    pub lawyer_id: Option<Uuid>,
    pub region: Option<Region>,
    pub exploitation_type: Option<ExploitationType>,
    /// Cases with a police report currently classed in this category.
    pub offense_category: Option<OffenseCategory>,
    pub identified_from: Option<NaiveDate>,
    pub identified_to: Option<NaiveDate>,
}

/// A page of cases in opening order, after the cursor `after` (an `opened_seq`).
pub struct CasePage {
    pub cases: Vec<CaseView>,
    pub has_next: bool,
    pub total: i64,
}

fn case_where(f: &CaseFilter, args: &mut Vec<Arg>) -> String {
    let conditions: [(&str, Option<String>); 8] = [
        ("status = ?", f.status.map(|v| v.as_str().to_string())),
        ("organization_id = ?", f.organization_id.map(|v| v.to_string())),
        ("lawyer_id = ?", f.lawyer_id.map(|v| v.to_string())),
        ("region = ?", f.region.map(|v| v.as_str().to_string())),
        (
            "id IN (SELECT case_id FROM rm_case_exploitation WHERE exploitation_type = ?)",
            f.exploitation_type.map(|v| v.as_str().to_string()),
        ),
        (
            "id IN (SELECT case_id FROM rm_report WHERE current_category = ?)",
            f.offense_category.map(|v| v.as_str().to_string()),
        ),
        ("identified_on >= ?", f.identified_from.map(|v| v.to_string())),
        ("identified_on <= ?", f.identified_to.map(|v| v.to_string())),
    ];
    let mut clauses: Vec<String> = vec!["1 = 1".into()];
    for (clause, v) in conditions {
        if let Some(v) = v {
            args.push(Arg::Text(v));
            clauses.push(clause.replace('?', &format!("${}", args.len())));
        }
    }
    clauses.join(" AND ")
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
        .map(|(id, doc)| decode_doc("rm_case", id, doc))
        .collect::<Result<Vec<CaseView>>>()?;
    Ok(CasePage { cases, has_next, total })
}

/// Cases per page when the statistics index is loaded: each page's documents are read,
/// their facts put into the index, and dropped before the next page is read.
const STATS_PAGE: i64 = 4096;

/// The statistics index, loaded from the case documents in pages of [`STATS_PAGE`] cases
/// in id order (keyset pagination): memory holds the index and one page, never the whole
/// table. Each case's facts are those the projector writes to `rm_fact`
/// (`model::facts::facts`).
///
/// The pages are separate reads: a batch committed between two of them may be seen by some
/// pages and not others. The caller detects that (the cache's generation moved during the
/// load, `ReadCache::install_stats`) and drops such an index.
pub async fn load_stats_index(db: &Db) -> Result<crate::stats::Index> {
    load_stats_index_paged(db, STATS_PAGE).await
}

/// [`load_stats_index`] with `cases_per_page` cases per page (at least one).
pub async fn load_stats_index_paged(db: &Db, cases_per_page: i64) -> Result<crate::stats::Index> {
    use crate::stats::FactRow;
    let (facts, cases): (i64, i64) = on_db!(db, p => sqlx::query_as(
        "SELECT (SELECT count(*) FROM rm_fact), (SELECT count(*) FROM rm_case)").fetch_one(p).await?);
    let mut ix =
        crate::stats::Index::with_capacity(usize::try_from(facts).unwrap_or(0), usize::try_from(cases).unwrap_or(0));
    // Ids are hyphenated UUIDs: the empty text is below every one of them.
    let mut after = String::new();
    loop {
        let rows: Vec<(String, String)> = on_db!(db, p => sqlx::query_as(
            "SELECT id, doc FROM rm_case WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(&after).bind(cases_per_page.max(1)).fetch_all(p).await?);
        for (id, doc) in &rows {
            let v: CaseView = decode_doc("rm_case", id, doc)?;
            let facts = crate::model::facts::facts(&v);
            let facts: Vec<FactRow<'_>> = facts.iter().map(FactRow::from).collect();
            let types: Vec<&str> = v.exploitation_types.iter().map(|t| t.as_str()).collect();
            ix.load_case(v.id, &facts, &types);
        }
        match rows.last() {
            Some((id, _)) if rows.len() as i64 >= cases_per_page.max(1) => after = id.clone(),
            _ => break,
        }
    }
    Ok(ix)
}

/// The case documents identified between `from` and `to` (inclusive), for the HTCDS
/// export, and how many of them have a profile recorded (the `htcds_profile` column).
pub async fn cases_identified_between(
    db: &Db,
    from: Option<chrono::NaiveDate>,
    to: Option<chrono::NaiveDate>,
) -> Result<(Vec<CaseView>, i64)> {
    let from = from.map(|d| d.to_string()).unwrap_or_else(|| "0000-01-01".into());
    let to = to.map(|d| d.to_string()).unwrap_or_else(|| "9999-12-31".into());
    let rows: Vec<(String, String, i64)> = on_db!(db, p => sqlx::query_as(
        "SELECT id, doc, CAST(htcds_profile AS bigint) FROM rm_case WHERE identified_on >= $1 AND identified_on <= $2")
        .bind(&from).bind(&to).fetch_all(p).await?);
    let with_profile = rows.iter().filter(|r| r.2 != 0).count() as i64;
    let cases = rows.iter().map(|(id, doc, _)| decode_doc("rm_case", id, doc)).collect::<Result<Vec<CaseView>>>()?;
    Ok((cases, with_profile))
}

// ---------------------------------------------------------------- lawyers

pub async fn lawyer_by_id(db: &Db, id: Uuid) -> Result<Option<LawyerView>> {
    let id = id.to_string();
    let doc: Option<String> = on_db!(db, p => sqlx::query_scalar("SELECT doc FROM rm_lawyer WHERE id = $1").bind(&id).fetch_optional(p).await?);
    doc.map(|d| decode_doc("rm_lawyer", &id, &d)).transpose()
}

pub async fn list_lawyers(db: &Db) -> Result<Vec<LawyerView>> {
    let rows: Vec<(String, String)> =
        on_db!(db, p => sqlx::query_as("SELECT id, doc FROM rm_lawyer ORDER BY registered_seq").fetch_all(p).await?);
    rows.iter().map(|(id, d)| decode_doc("rm_lawyer", id, d)).collect()
}

/// Open cases a lawyer is assigned to.
pub async fn active_caseload(db: &Db, lawyer_id: Uuid) -> Result<i64> {
    let n: i64 = on_db!(db, p => sqlx::query_scalar("SELECT count(*) FROM rm_case WHERE lawyer_id = $1 AND status <> 'CLOSED'")
        .bind(lawyer_id.to_string()).fetch_one(p).await?);
    Ok(n)
}

// ---------------------------------------------------------------- organisations

#[derive(Debug, Clone, PartialEq)]
pub struct OrganizationRow {
    pub id: Uuid,
    pub name: String,
    pub kind: OrganizationKind,
}

fn organization((id, name, kind): (String, String, String)) -> Result<OrganizationRow> {
    let row = Row { table: "rm_organization", id: &id };
    Ok(OrganizationRow { id: row.uuid("id", &id)?, kind: row.label("kind", &kind)?, name })
}

pub async fn organization_by_id(db: &Db, id: Uuid) -> Result<Option<OrganizationRow>> {
    let row: Option<(String, String, String)> = on_db!(db, p => sqlx::query_as("SELECT id, name, kind FROM rm_organization WHERE id = $1")
        .bind(id.to_string()).fetch_optional(p).await?);
    row.map(organization).transpose()
}

pub async fn list_organizations(db: &Db) -> Result<Vec<OrganizationRow>> {
    let rows: Vec<(String, String, String)> = on_db!(db, p => sqlx::query_as("SELECT id, name, kind FROM rm_organization ORDER BY registered_seq")
        .fetch_all(p).await?);
    rows.into_iter().map(organization).collect()
}

// ---------------------------------------------------------------- accounts and tokens

#[derive(sqlx::FromRow)]
struct AccountColumns {
    id: String,
    name: String,
    role: String,
    organization_id: Option<String>,
    lawyer_id: Option<String>,
    disabled: i32,
    created_at: String,
    created_by: Option<String>,
    approved: i32,
    approved_by: Option<String>,
    approved_at: Option<String>,
}

const ACCOUNT_COLUMNS: &str =
    "id, name, role, organization_id, lawyer_id, disabled, created_at, created_by, approved, approved_by, approved_at";

fn account_view(a: AccountColumns) -> Result<AccountView> {
    let row = Row { table: "rm_account", id: &a.id };
    Ok(AccountView {
        id: row.uuid("id", &a.id)?,
        role: row.label("role", &a.role)?,
        organization_id: row.opt_uuid("organization_id", a.organization_id.as_deref())?,
        lawyer_id: row.opt_uuid("lawyer_id", a.lawyer_id.as_deref())?,
        disabled: row.flag("disabled", a.disabled)?,
        created_at: row.instant("created_at", &a.created_at)?,
        created_by: row.opt_uuid("created_by", a.created_by.as_deref())?,
        approved: row.flag("approved", a.approved)?,
        approved_by: row.opt_uuid("approved_by", a.approved_by.as_deref())?,
        approved_at: a.approved_at.map(|t| row.instant("approved_at", &t)).transpose()?,
        name: a.name,
    })
}

pub async fn account_by_id(db: &Db, id: Uuid) -> Result<Option<AccountView>> {
    let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM rm_account WHERE id = $1");
    let row: Option<AccountColumns> =
        on_db!(db, p => sqlx::query_as(&sql).bind(id.to_string()).fetch_optional(p).await?);
    row.map(account_view).transpose()
}

/// Every account, oldest first (administration and oversight).
pub async fn accounts(db: &Db) -> Result<Vec<AccountView>> {
    let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM rm_account ORDER BY created_at, id");
    let rows: Vec<AccountColumns> = on_db!(db, p => sqlx::query_as(&sql).fetch_all(p).await?);
    rows.into_iter().map(account_view).collect()
}

pub async fn token_by_hash(db: &Db, hash: &str) -> Result<Option<TokenView>> {
    let row: Option<(String, String, String, Option<String>, i32)> = on_db!(db, p => sqlx::query_as(
        "SELECT token_id, account_id, issued_at, expires_at, revoked FROM rm_token WHERE token_hash = $1")
        .bind(hash).fetch_optional(p).await?);
    let Some((token_id, account_id, issued_at, expires_at, revoked)) = row else { return Ok(None) };
    // Named by its token id: the hash stands in for the bearer secret.
    let row = Row { table: "rm_token", id: &token_id };
    Ok(Some(TokenView {
        token_id: row.uuid("token_id", &token_id)?,
        account_id: row.uuid("account_id", &account_id)?,
        issued_at: row.instant("issued_at", &issued_at)?,
        expires_at: expires_at.map(|e| row.instant("expires_at", &e)).transpose()?,
        revoked: row.flag("revoked", revoked)?,
    }))
}

/// Every token of an account, newest first (never the hash).
pub async fn tokens_of_account(db: &Db, account_id: Uuid) -> Result<Vec<TokenView>> {
    let id = account_id.to_string();
    let rows: Vec<(String, String, String, Option<String>, i32)> = on_db!(db, p => sqlx::query_as(
        "SELECT token_id, account_id, issued_at, expires_at, revoked FROM rm_token WHERE account_id = $1 \
         ORDER BY issued_at DESC, token_id")
        .bind(&id).fetch_all(p).await?);
    rows.into_iter()
        .map(|(token_id, account_id, issued_at, expires_at, revoked)| {
            let row = Row { table: "rm_token", id: &token_id };
            Ok(TokenView {
                token_id: row.uuid("token_id", &token_id)?,
                account_id: row.uuid("account_id", &account_id)?,
                issued_at: row.instant("issued_at", &issued_at)?,
                expires_at: expires_at.map(|e| row.instant("expires_at", &e)).transpose()?,
                revoked: row.flag("revoked", revoked)?,
            })
        })
        .collect()
}

/// The account a token belongs to.
pub async fn token_account(db: &Db, token_id: Uuid) -> Result<Option<Uuid>> {
    let token_id = token_id.to_string();
    let account: Option<String> = on_db!(db, p => sqlx::query_scalar("SELECT account_id FROM rm_token WHERE token_id = $1")
        .bind(&token_id).fetch_optional(p).await?);
    account.map(|a| Row { table: "rm_token", id: &token_id }.uuid("account_id", &a)).transpose()
}

// ---------------------------------------------------------------- the offence catalogue

#[derive(Debug, Clone, PartialEq)]
pub struct OffenseRow {
    pub code: String,
    pub edition: String,
    pub article: String,
    pub title_en: String,
    pub title_ru: Option<String>,
    pub title_ky: Option<String>,
    pub category: OffenseCategory,
    pub source: Option<String>,
    pub retired: bool,
}

const OFFENSE_COLUMNS: &str = "code, edition, article, title_en, title_ru, title_ky, category, source, retired";

type OffenseColumns = (String, String, String, String, Option<String>, Option<String>, String, Option<String>, i32);

fn offense(columns: OffenseColumns) -> Result<OffenseRow> {
    let (code, edition, article, title_en, title_ru, title_ky, category, source, retired) = columns;
    let row = Row { table: "rm_offense", id: &code };
    Ok(OffenseRow {
        category: row.label("category", &category)?,
        retired: row.flag("retired", retired)?,
        code,
        edition,
        article,
        title_en,
        title_ru,
        title_ky,
        source,
    })
}

pub async fn offenses(db: &Db) -> Result<Vec<OffenseRow>> {
    let sql = format!("SELECT {OFFENSE_COLUMNS} FROM rm_offense ORDER BY edition, code");
    let rows: Vec<OffenseColumns> = on_db!(db, p => sqlx::query_as(&sql).fetch_all(p).await?);
    rows.into_iter().map(offense).collect()
}

pub async fn offense_by_code(db: &Db, code: &str) -> Result<Option<OffenseRow>> {
    let sql = format!("SELECT {OFFENSE_COLUMNS} FROM rm_offense WHERE code = $1");
    let row: Option<OffenseColumns> = on_db!(db, p => sqlx::query_as(&sql).bind(code).fetch_optional(p).await?);
    row.map(offense).transpose()
}
