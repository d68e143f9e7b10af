//! Output types. Each wraps a read-model document; fields that need more (another
//! document, a decryption) resolve through the context.

use super::enums::*;
use super::scalars::{Date, DateTime};
use super::{app, principal, scope_of};
use crate::authz::{self, Op};
use crate::crypto;
use crate::error::ApiError;
use crate::privacy;
use async_graphql::{ComplexObject, Context, Object, SimpleObject, ID};
use domain::offense::OffenseRef;
use projections::model::{AccountView, CaseView, LawyerView, ReportView};
use projections::store::{self, OffenseRow, OrganizationRow};
use serde::{Deserialize, Serialize};

type Res<T> = Result<T, ApiError>;

fn date(s: &str) -> Res<Date> {
    Date::from_stored(s).ok_or_else(|| ApiError::Internal(format!("stored date {s:?} is malformed")))
}

#[allow(dead_code)]
fn opt_date(s: &Option<String>) -> Option<Date> {
    s.as_deref().and_then(Date::from_stored)
}

// ---------------------------------------------------------------- organisations, accounts

#[derive(SimpleObject, Clone)]
pub struct Organization {
    pub id: ID,
    pub name: String,
    pub kind: OrganizationKind,
}

impl Organization {
    pub fn from_row(r: OrganizationRow) -> Res<Organization> {
        let kind: domain::values::OrganizationKind = r.kind.parse().map_err(ApiError::internal)?;
        Ok(Organization { id: ID(r.id), name: r.name, kind: kind.into() })
    }
}

pub(crate) async fn organization(ctx: &Context<'_>, id: &str) -> Res<Option<Organization>> {
    store::organization_by_id(&app(ctx)?.db, id).await?.map(Organization::from_row).transpose()
}

pub(crate) async fn lawyer(ctx: &Context<'_>, id: &str) -> Res<Option<Lawyer>> {
    Ok(store::lawyer_by_id(&app(ctx)?.db, id).await?.map(Lawyer))
}

pub struct Account(pub AccountView);

#[Object]
impl Account {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn role(&self) -> Res<Role> {
        let r: domain::values::Role = self.0.role.parse().map_err(ApiError::internal)?;
        Ok(r.into())
    }
    /// The organisation an intake worker's scope is limited to.
    async fn organization(&self, ctx: &Context<'_>) -> Res<Option<Organization>> {
        match &self.0.organization_id {
            Some(id) => organization(ctx, id).await,
            None => Ok(None),
        }
    }
    /// The lawyer a LAWYER account acts as.
    async fn lawyer(&self, ctx: &Context<'_>) -> Res<Option<Lawyer>> {
        match &self.0.lawyer_id {
            Some(id) => lawyer(ctx, id).await,
            None => Ok(None),
        }
    }
    async fn disabled(&self) -> bool {
        self.0.disabled
    }
    async fn created_at(&self) -> DateTime {
        DateTime(self.0.created_at.clone())
    }
}

/// A new token: shown once, never again.
#[derive(SimpleObject)]
pub struct AccessTokenPayload {
    pub token: String,
    pub token_id: ID,
    pub expires_at: Option<DateTime>,
    pub account: Account,
}

// ---------------------------------------------------------------- lawyers

#[derive(SimpleObject, Clone)]
pub struct Training {
    pub course: String,
    pub completed_on: Date,
}

pub struct Lawyer(pub LawyerView);

#[Object]
impl Lawyer {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn full_name(&self) -> &str {
        &self.0.full_name
    }
    async fn gender(&self) -> Gender {
        self.0.gender.into()
    }
    async fn status(&self) -> LawyerStatus {
        self.0.status.into()
    }
    async fn region(&self) -> Region {
        self.0.region.into()
    }
    async fn languages(&self) -> &[String] {
        &self.0.languages
    }
    async fn license_number(&self) -> Option<&str> {
        self.0.license_number.as_deref()
    }
    async fn registered_on(&self) -> Option<Date> {
        Date::from_stored(&self.0.registered_on)
    }
    async fn trained(&self) -> bool {
        !self.0.trainings.is_empty()
    }
    async fn trainings(&self) -> Vec<Training> {
        self.0
            .trainings
            .iter()
            .filter_map(|t| {
                Date::from_stored(&t.completed_on).map(|d| Training { course: t.course.clone(), completed_on: d })
            })
            .collect()
    }
    async fn max_active_cases(&self) -> Option<i32> {
        self.0.max_active_cases.map(i32::from)
    }
    async fn active(&self) -> bool {
        self.0.active
    }
    /// Open cases assigned to this lawyer.
    async fn active_caseload(&self, ctx: &Context<'_>) -> Res<i32> {
        Ok(store::active_caseload(&app(ctx)?.db, &self.0.id).await? as i32)
    }
}

// ---------------------------------------------------------------- offences

#[derive(SimpleObject, Clone)]
pub struct Offense {
    /// `<edition>-<article>`, e.g. `2021-166`.
    pub code: String,
    pub edition: String,
    pub article: String,
    /// English title.
    pub title: String,
    pub title_ru: Option<String>,
    pub title_ky: Option<String>,
    pub category: OffenseCategory,
    pub retired: bool,
    pub source: Option<String>,
}

impl Offense {
    pub fn from_row(r: OffenseRow) -> Res<Offense> {
        let category: domain::values::OffenseCategory = r.category.parse().map_err(ApiError::internal)?;
        Ok(Offense {
            code: r.code,
            edition: r.edition,
            article: r.article,
            title: r.title_en,
            title_ru: r.title_ru,
            title_ky: r.title_ky,
            category: category.into(),
            retired: r.retired != 0,
            source: r.source,
        })
    }
}

/// The catalogue entry behind a recorded offence; the category is the one recorded with
/// the event (the catalogue may have changed since).
async fn offense_of(ctx: &Context<'_>, r: &OffenseRef) -> Res<Offense> {
    let row = store::offense_by_code(&app(ctx)?.db, &r.code).await?;
    Ok(match row {
        Some(row) => Offense { category: r.category.into(), ..Offense::from_row(row)? },
        None => {
            let (edition, article) = r.code.split_once('-').unwrap_or(("", r.code.as_str()));
            Offense {
                code: r.code.clone(),
                edition: edition.into(),
                article: article.into(),
                title: r.code.clone(),
                title_ru: None,
                title_ky: None,
                category: r.category.into(),
                retired: true,
                source: None,
            }
        }
    })
}

// ---------------------------------------------------------------- cases

#[derive(SimpleObject)]
pub struct ClientProfile {
    pub gender: Gender,
    pub age_group: AgeGroup,
    pub age_at_identification: Option<i32>,
    pub region: Option<Region>,
    /// ISO 3166-1 alpha-2.
    pub citizenship: Option<String>,
}

/// The sealed part of a client's record, as stored encrypted.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IdentityPlain {
    pub full_name: String,
    pub date_of_birth: Option<String>,
    pub contact: Option<String>,
    pub document_number: Option<String>,
    pub narrative: Option<String>,
}

/// Who the client is. Only for roles with identity access; every read is logged.
#[derive(SimpleObject, Default)]
pub struct ClientIdentity {
    pub full_name: Option<String>,
    pub date_of_birth: Option<Date>,
    pub contact: Option<String>,
    pub document_number: Option<String>,
    pub narrative: Option<String>,
    /// The client's data was erased: identity is gone for good.
    pub erased: bool,
}

#[derive(SimpleObject)]
pub struct Consent {
    pub legal_aid: bool,
    pub report_to_police: bool,
    pub data_sharing: bool,
}

#[derive(SimpleObject)]
pub struct Referral {
    pub service: ProtectionService,
    pub referred_on: Option<Date>,
    pub provider: Option<String>,
}

#[derive(SimpleObject)]
pub struct LegalAction {
    pub kind: LegalActionKind,
    pub taken_on: Option<Date>,
    pub has_note: bool,
}

pub struct Case(pub CaseView);

#[Object]
impl Case {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// INTAKE, AWAITING_LAWYER, LAWYER_ASSIGNED, REPRESENTED, REPORTED, IN_COURT, DECIDED or CLOSED.
    async fn status(&self) -> &'static str {
        self.0.status()
    }
    async fn organization(&self, ctx: &Context<'_>) -> Res<Organization> {
        organization(ctx, &self.0.organization_id)
            .await?
            .ok_or_else(|| ApiError::Internal(format!("organisation {} missing", self.0.organization_id)))
    }
    async fn identified_on(&self) -> Res<Date> {
        date(&self.0.identified_on)
    }
    async fn referral_source(&self) -> ReferralSource {
        self.0.referral_source.into()
    }
    async fn exploitation_types(&self) -> Vec<ExploitationType> {
        self.0.exploitation_types.iter().map(|t| (*t).into()).collect()
    }
    async fn country_of_exploitation(&self) -> Option<&str> {
        self.0.country_of_exploitation.as_deref()
    }
    /// Non-identifying facts about the client, for every role that sees the case.
    async fn client(&self) -> ClientProfile {
        let c = &self.0.client;
        ClientProfile {
            gender: c.gender.into(),
            age_group: c.age_group.into(),
            age_at_identification: c.age_at_identification.map(i32::from),
            region: c.region.map(Into::into),
            citizenship: c.citizenship.clone(),
        }
    }
    /// The client's identity, decrypted for roles that may see it (FORBIDDEN otherwise).
    /// Every decryption is recorded in the identity-read log (`identityReads`) with the
    /// reader, the fields asked for and `purpose`.
    async fn identity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Why you need the identity; recorded in the identity-read log and required of \
                          coordinators. Never write identity here.")]
        purpose: Option<String>,
    ) -> Res<Option<ClientIdentity>> {
        let p = principal(ctx)?;
        authz::check(p, Op::ReadIdentity, Some(&scope_of(&self.0)?))?;
        let purpose = purpose
            .as_deref()
            .map(|s| domain::values::Text::parse_with_max("purpose", s, privacy::PURPOSE_MAX))
            .transpose()?;
        if p.role == domain::values::Role::Coordinator && purpose.is_none() {
            return Err(ApiError::BadInput(
                "a coordinator must state why they read a client's identity: identity(purpose: \"…\")".into(),
            ));
        }
        let app = app(ctx)?;
        let erased = || Ok(Some(ClientIdentity { erased: true, ..Default::default() }));
        let Some(sealed) = self.0.identity.as_ref().filter(|_| !self.0.erased) else { return erased() };
        // Only what the request selected is decrypted and logged; `erased` alone needs no
        // decryption. (@skip/@include are not evaluated here: the log may over-state, never
        // under-state, what was read.)
        let selected: Vec<String> = ctx.field().selection_set().map(|f| f.name().to_string()).collect();
        let fields: Vec<&str> =
            privacy::IDENTITY_FIELDS.iter().copied().filter(|f| selected.iter().any(|s| s == f)).collect();
        let Some(dk) = app.data_key(&self.0.id).await? else { return erased() };
        if fields.is_empty() {
            return Ok(Some(ClientIdentity { erased: false, ..Default::default() }));
        }
        let plain = crypto::open(&dk, &self.0.id, "identity", sealed).map_err(ApiError::internal)?;
        let id: IdentityPlain = serde_json::from_slice(&plain).map_err(ApiError::internal)?;
        // Recorded before the identity leaves the server; if it cannot be recorded, it
        // does not leave.
        let request_id = super::request_id(ctx);
        privacy::record(
            &app.db,
            &p.account_id.to_string(),
            p.role.as_str(),
            &self.0.id,
            &fields,
            purpose.as_ref().map(|t| t.as_str()),
            &request_id,
        )
        .await?;
        tracing::info!(case_id = %self.0.id, account_id = %p.account_id, role = %p.role, fields = %fields.join(","), "identity read");
        app.metrics.inc("probono_identity_reads_total", &[("role", p.role.as_str())]);
        let wanted = |f: &str| fields.contains(&f);
        Ok(Some(ClientIdentity {
            full_name: Some(id.full_name).filter(|_| wanted("fullName")),
            date_of_birth: id.date_of_birth.as_deref().and_then(Date::from_stored).filter(|_| wanted("dateOfBirth")),
            contact: id.contact.filter(|_| wanted("contact")),
            document_number: id.document_number.filter(|_| wanted("documentNumber")),
            narrative: id.narrative.filter(|_| wanted("narrative")),
            erased: false,
        }))
    }
    async fn erased(&self) -> bool {
        self.0.erased
    }
    async fn consent(&self) -> Consent {
        let c = &self.0.consent;
        Consent { legal_aid: c.legal_aid, report_to_police: c.report_to_police, data_sharing: c.data_sharing }
    }
    async fn referrals(&self) -> Vec<Referral> {
        self.0
            .referrals
            .iter()
            .map(|r| Referral {
                service: r.service.into(),
                referred_on: Date::from_stored(&r.referred_on),
                provider: r.provider.clone(),
            })
            .collect()
    }
    async fn assigned_lawyer(&self, ctx: &Context<'_>) -> Res<Option<Lawyer>> {
        match &self.0.assignment {
            Some(a) => lawyer(ctx, &a.lawyer_id).await,
            None => Ok(None),
        }
    }
    /// The assigned lawyer accepted the case.
    async fn assignment_accepted(&self) -> bool {
        self.0.assignment.as_ref().is_some_and(|a| a.accepted_on.is_some())
    }
    async fn legal_actions(&self) -> Vec<LegalAction> {
        self.0
            .legal_actions
            .iter()
            .map(|a| LegalAction {
                kind: a.kind.into(),
                taken_on: Date::from_stored(&a.taken_on),
                has_note: a.has_note,
            })
            .collect()
    }
    async fn police_reports(&self) -> Vec<PoliceReport> {
        self.0.reports.iter().cloned().map(PoliceReport).collect()
    }
    async fn closed_on(&self) -> Option<Date> {
        self.0.closed.as_ref().and_then(|(d, _)| Date::from_stored(d))
    }
    async fn close_reason(&self) -> Option<&str> {
        self.0.closed.as_ref().map(|(_, r)| r.as_str())
    }
    /// Number of events in the case's stream.
    async fn version(&self) -> i32 {
        self.0.version as i32
    }
}

#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Reclassification {
    #[graphql(skip)]
    pub from_ref: OffenseRef,
    #[graphql(skip)]
    pub to_ref: OffenseRef,
    pub decided_on: Option<Date>,
    pub decided_by: Authority,
    pub reason: String,
}

#[ComplexObject]
impl Reclassification {
    async fn from(&self, ctx: &Context<'_>) -> Res<Offense> {
        offense_of(ctx, &self.from_ref).await
    }
    async fn to(&self, ctx: &Context<'_>) -> Res<Offense> {
        offense_of(ctx, &self.to_ref).await
    }
}

#[derive(SimpleObject)]
pub struct InvestigationStep {
    pub outcome: InvestigationOutcome,
    pub decided_on: Option<Date>,
    pub note: Option<String>,
}

#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Verdict {
    pub outcome: VerdictOutcome,
    #[graphql(skip)]
    pub offense_ref: Option<OffenseRef>,
    pub decided_on: Option<Date>,
    pub sentence_months: Option<i32>,
    pub compensation_awarded: Option<bool>,
}

#[ComplexObject]
impl Verdict {
    /// The offence the court decided on, when recorded.
    async fn offense(&self, ctx: &Context<'_>) -> Res<Option<Offense>> {
        match &self.offense_ref {
            Some(r) => offense_of(ctx, r).await.map(Some),
            None => Ok(None),
        }
    }
}

pub struct PoliceReport(pub ReportView);

#[Object]
impl PoliceReport {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn filed_on(&self) -> Res<Date> {
        date(&self.0.filed_on)
    }
    async fn police_unit(&self) -> &str {
        &self.0.police_unit
    }
    async fn reference_number(&self) -> Option<&str> {
        self.0.reference_number.as_deref()
    }
    /// The offence the police first registered.
    async fn initial_offense(&self, ctx: &Context<'_>) -> Res<Option<Offense>> {
        match &self.0.registration {
            Some(r) => offense_of(ctx, &r.offense).await.map(Some),
            None => Ok(None),
        }
    }
    async fn registered_on(&self) -> Option<Date> {
        self.0.registration.as_ref().and_then(|r| Date::from_stored(&r.registered_on))
    }
    async fn registry_number(&self) -> Option<&str> {
        self.0.registration.as_ref().and_then(|r| r.registry_number.as_deref())
    }
    /// The offence after every reclassification.
    async fn current_offense(&self, ctx: &Context<'_>) -> Res<Option<Offense>> {
        match &self.0.current {
            Some(r) => offense_of(ctx, r).await.map(Some),
            None => Ok(None),
        }
    }
    async fn current_category(&self) -> Option<OffenseCategory> {
        self.0.current.as_ref().map(|r| r.category.into())
    }
    async fn registration_refused(&self) -> bool {
        self.0.refused.is_some()
    }
    async fn refused_on(&self) -> Option<Date> {
        self.0.refused.as_ref().and_then(|(d, _)| Date::from_stored(d))
    }
    async fn refusal_reason(&self) -> Option<&str> {
        self.0.refused.as_ref().map(|(_, r)| r.as_str())
    }
    async fn reclassifications(&self) -> Vec<Reclassification> {
        self.0
            .reclassifications
            .iter()
            .map(|r| Reclassification {
                from_ref: r.from.clone(),
                to_ref: r.to.clone(),
                decided_on: Date::from_stored(&r.decided_on),
                decided_by: r.decided_by.into(),
                reason: r.reason.clone(),
            })
            .collect()
    }
    /// The latest investigation outcome.
    async fn investigation_outcome(&self) -> Option<InvestigationOutcome> {
        self.0.investigation_outcome().map(Into::into)
    }
    /// Every investigation outcome, oldest first (a terminated case may be returned).
    async fn investigation_history(&self) -> Vec<InvestigationStep> {
        self.0
            .outcomes
            .iter()
            .map(|o| InvestigationStep {
                outcome: o.outcome.into(),
                decided_on: Date::from_stored(&o.decided_on),
                note: o.note.clone(),
            })
            .collect()
    }
    async fn verdict(&self) -> Option<VerdictOutcome> {
        self.0.verdict.as_ref().map(|v| v.outcome.into())
    }
    async fn verdict_detail(&self) -> Option<Verdict> {
        self.0.verdict.as_ref().map(|v| Verdict {
            outcome: v.outcome.into(),
            offense_ref: v.offense.clone(),
            decided_on: Date::from_stored(&v.decided_on),
            sentence_months: v.sentence_months.map(i32::from),
            compensation_awarded: v.compensation_awarded,
        })
    }
}

// ---------------------------------------------------------------- pagination

#[derive(SimpleObject)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub end_cursor: Option<String>,
}

#[derive(SimpleObject)]
pub struct CaseEdge {
    pub node: Case,
    pub cursor: String,
}

#[derive(SimpleObject)]
pub struct CaseConnection {
    pub edges: Vec<CaseEdge>,
    pub page_info: PageInfo,
    pub total_count: i32,
}

pub fn encode_cursor(seq: i64) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("case:{seq}"))
}

pub fn decode_cursor(cursor: &str) -> Res<i64> {
    use base64::Engine;
    let bad = || ApiError::BadInput("after is not a cursor returned by this API".into());
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let s = String::from_utf8(raw).map_err(|_| bad())?;
    s.strip_prefix("case:").and_then(|n| n.parse().ok()).ok_or_else(bad)
}
