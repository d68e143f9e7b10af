//! Reading a client's identity, and the log of who read it.

use super::{App, Caller};
use crate::access::Op;
use crate::error::ApiError;
use crate::privacy::identity::{open_identity, IdentityPlain};
use domain::values::{Role, Text};
use projections::model::CaseView;
use uuid::Uuid;

type Res<T> = Result<T, ApiError>;

/// Purposes a reader may name by code; any other purpose must be a sentence of at least
/// [`MIN_PURPOSE_CHARS`] characters. The log shows either as given.
pub const PURPOSES: &[&str] = &[
    "LEGAL_REPRESENTATION",
    "CONTACT_CLIENT",
    "POLICE_REPORT",
    "COURT_FILING",
    "REFERRAL",
    "SAFETY_CHECK",
    "DATA_CORRECTION",
    "CLIENT_REQUEST",
];
pub const MIN_PURPOSE_CHARS: usize = 10;

/// A stated purpose, checked: a code of [`PURPOSES`] (any case) or a sentence.
pub fn parse_purpose(raw: &str) -> Res<String> {
    let t = raw.trim();
    let code = t.to_ascii_uppercase().replace([' ', '-'], "_");
    if let Some(p) = PURPOSES.iter().find(|p| **p == code) {
        return Ok(p.to_string());
    }
    let text = Text::parse("purpose", t)?;
    let letters = text.as_str().chars().filter(|c| c.is_alphabetic()).count();
    if text.as_str().chars().count() < MIN_PURPOSE_CHARS || letters < MIN_PURPOSE_CHARS / 2 {
        return Err(ApiError::BadInput(format!(
            "purpose must be one of {} or a sentence of at least {MIN_PURPOSE_CHARS} characters saying why",
            PURPOSES.join(", ")
        )));
    }
    Ok(text.to_string())
}

/// What a permitted identity read finds.
#[derive(Debug, Clone)]
pub enum IdentityRead {
    /// The client's data was erased: identity is gone for good.
    Erased,
    Identity(IdentityPlain),
}

/// One entry of the identity-read log (it never contains the identity itself).
#[derive(Debug, Clone)]
pub struct IdentityReadEntry {
    pub read: projections::store::IdentityRead,
    /// The reader's account name, when the account is known.
    pub account_name: Option<String>,
    /// Who created the reading account (nil: the command-line operator), and who approved
    /// it for identity, as the accounts read model says.
    pub account_created_by: Option<Uuid>,
    pub account_approved_by: Option<Uuid>,
}

impl App {
    /// Decrypts a case's identity for a role that may see it (FORBIDDEN otherwise). The
    /// read — who, when, which `fields`, `purpose` — is on record before the identity is
    /// returned; a COORDINATOR must state the purpose.
    #[tracing::instrument(skip_all, fields(case_id = %view.id))]
    pub async fn read_identity(
        &self,
        caller: &Caller,
        view: &CaseView,
        fields: &[String],
        purpose: Option<&str>,
    ) -> Res<IdentityRead> {
        let p = &caller.principal;
        // A lawyer offered the case (not yet accepted) may read the name only, for a
        // conflict-of-interest check; everyone else needs the full right.
        let conflict_check = self.check_case(caller, view, Op::ReadIdentityForConflictCheck).await.is_ok();
        if !conflict_check {
            self.check_case(caller, view, Op::ReadIdentity).await?;
        }
        let fields: Vec<String> = if conflict_check {
            fields.iter().filter(|f| f.as_str() == "fullName").cloned().collect()
        } else {
            fields.to_vec()
        };
        // Invisible characters alone are no purpose either.
        let purpose = match purpose.map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => Some(parse_purpose(s)?),
            None if p.role == Role::Coordinator => {
                return Err(ApiError::BadInput(
                    "a coordinator must state the purpose of reading a client's identity".into(),
                ))
            }
            None => None,
        };
        let Some(sealed) = view.identity.as_ref().filter(|_| !view.erased) else { return Ok(IdentityRead::Erased) };
        let case_id = view.id.to_string();
        let Some(dk) = self.data_key(&case_id).await? else { return Ok(IdentityRead::Erased) };
        let mut identity = open_identity(&dk, &case_id, sealed).map_err(ApiError::internal)?;
        if conflict_check {
            identity = IdentityPlain { full_name: identity.full_name, ..Default::default() };
        }
        let read = projections::store::IdentityRead {
            id: Uuid::new_v4(),
            read_at: chrono::Utc::now(),
            case_id: view.id,
            account_id: p.account_id,
            role: p.role,
            fields: fields.to_vec(),
            purpose,
            correlation_id: Some(caller.correlation_id.clone()),
        };
        projections::store::record_identity_read(&self.db, &read).await?;
        tracing::info!(case_id = %view.id, account_id = %p.account_id, role = %p.role, "identity read");
        self.metrics.identity_read(p.role.as_str());
        Ok(IdentityRead::Identity(identity))
    }

    /// Identity reads, newest first (at most `first`, 1–1000), for one case and/or one
    /// account. AUDITOR and ADMIN.
    #[tracing::instrument(skip_all, fields(?case_id, ?account_id))]
    pub async fn identity_reads(
        &self,
        caller: &Caller,
        case_id: Option<Uuid>,
        account_id: Option<Uuid>,
        first: i64,
    ) -> Res<Vec<IdentityReadEntry>> {
        caller.allow(Op::ReadIdentityLog)?;
        if !(1..=1000).contains(&first) {
            return Err(ApiError::BadInput("first must be between 1 and 1000".into()));
        }
        let rows = projections::store::identity_reads(&self.db, case_id, account_id, first).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let account = self.account(r.account_id).await?;
            out.push(IdentityReadEntry {
                account_name: account.as_ref().map(|a| a.name.clone()),
                account_created_by: account.as_ref().and_then(|a| a.created_by),
                account_approved_by: account.as_ref().and_then(|a| a.approved_by),
                read: r,
            });
        }
        Ok(out)
    }
}
