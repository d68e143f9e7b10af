//! What the API reads from the read models.

use super::{bind_all, decode_doc, Arg, MAIN};
use crate::db::Db;
use crate::log::Position;
use crate::model::{AccountView, CaseView, LawyerView, TokenView};
use crate::{on_db, Result};
use serde::{Deserialize, Serialize};
use sqlx::Row;

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
    doc.map(|d| decode_doc("rm_case", id, &d)).transpose()
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

pub async fn lawyer_by_id(db: &Db, id: &str) -> Result<Option<LawyerView>> {
    let doc: Option<String> = on_db!(db, p => sqlx::query_scalar("SELECT doc FROM rm_lawyer WHERE id = $1").bind(id).fetch_optional(p).await?);
    doc.map(|d| decode_doc("rm_lawyer", id, &d)).transpose()
}

pub async fn list_lawyers(db: &Db) -> Result<Vec<LawyerView>> {
    let rows: Vec<(String, String)> =
        on_db!(db, p => sqlx::query_as("SELECT id, doc FROM rm_lawyer ORDER BY registered_seq").fetch_all(p).await?);
    rows.iter().map(|(id, d)| decode_doc("rm_lawyer", id, d)).collect()
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
            let v: CaseView = decode_doc("rm_case", id, doc)?;
            Ok((
                v.id.clone(),
                crate::model::facts::facts(&v),
                v.exploitation_types.iter().map(|t| t.as_str()).collect(),
            ))
        })
        .collect()
}
