//! Mutations. Each parses its input into domain values (`BAD_USER_INPUT` on failure), checks
//! access through `authz`, runs one command and returns the changed object as the read
//! models show it after the command's own events.

use super::enums::*;
use super::objects::*;
use super::scalars::{Date, DateTime};
use super::{allow, app, case_for, parse_id, principal, request_id};
use crate::app::{App, CommandMeta};
use crate::authz::Op;
use crate::crypto;
use crate::error::ApiError;
use async_graphql::{Context, InputObject, MergedObject, Object, ID};
use domain::account::AccountError;
use domain::case::{self as dc, Acting, CaseCommand, CaseError};
use domain::lawyer::{LawyerActing, LawyerCommand, LawyerError, RegisterLawyer};
use domain::offense::{CatalogueCommand, CatalogueError, OffenseEntry, OffenseRef, Titles, CATALOGUE_ID};
use domain::organization::{OrganizationCommand, OrganizationError};
use domain::values::{self as v, CountryCode, InvalidInput, Text};
use projections::store;
use std::sync::Arc;
use uuid::Uuid;

type Res<T> = Result<T, ApiError>;

fn meta(ctx: &Context<'_>) -> Res<CommandMeta> {
    Ok(CommandMeta { actor: principal(ctx)?.actor(), correlation_id: request_id(ctx) })
}

fn classify_case(e: CaseError) -> ApiError {
    if e.is_bad_input() {
        ApiError::BadInput(e.to_string())
    } else {
        ApiError::Rule(e.to_string())
    }
}

fn classify_lawyer(e: LawyerError) -> ApiError {
    match e {
        LawyerError::NotRegistered => ApiError::NotFound(e.to_string()),
        LawyerError::NotCoordinator => ApiError::forbidden(),
        other => ApiError::Rule(other.to_string()),
    }
}

fn classify_organization(e: OrganizationError) -> ApiError {
    match e {
        OrganizationError::NotAdmin => ApiError::forbidden(),
        OrganizationError::NotRegistered => ApiError::NotFound(e.to_string()),
        other => ApiError::Rule(other.to_string()),
    }
}

pub(crate) fn classify_account(e: AccountError) -> ApiError {
    match e {
        AccountError::NotAdmin => ApiError::forbidden(),
        AccountError::NotFound | AccountError::UnknownToken => ApiError::NotFound(e.to_string()),
        AccountError::MissingScope(..) | AccountError::UnexpectedScope(..) | AccountError::BadTokenHash => {
            ApiError::BadInput(e.to_string())
        }
        other => ApiError::Rule(other.to_string()),
    }
}

fn classify_catalogue(e: CatalogueError) -> ApiError {
    match e {
        CatalogueError::NotAdmin => ApiError::forbidden(),
        CatalogueError::UnknownCode(_) => ApiError::NotFound(e.to_string()),
        CatalogueError::Invalid(_) => ApiError::BadInput(e.to_string()),
        other => ApiError::Rule(other.to_string()),
    }
}

fn text(field: &'static str, s: &str) -> Res<Text> {
    Ok(Text::parse(field, s)?)
}

fn opt_text(field: &'static str, s: &Option<String>) -> Res<Option<Text>> {
    s.as_deref().map(|s| text(field, s)).transpose()
}

/// Free text that may span lines (a narrative): tabs and newlines allowed, other control
/// characters not.
fn long_text(field: &'static str, s: &str, max: usize) -> Res<String> {
    let t = s.trim();
    if t.chars().count() > max {
        return Err(InvalidInput::TooLong { field, max }.into());
    }
    if t.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(InvalidInput::ControlCharacters { field }.into());
    }
    Ok(t.to_string())
}

async fn reload(app: &App, case_id: Uuid) -> Res<Case> {
    store::case_by_id(&app.db, &case_id.to_string())
        .await?
        .map(Case)
        .ok_or_else(|| ApiError::Internal(format!("case {case_id} not in the read models after its command")))
}

/// Checks `op` on the case, runs `command` as the caller, returns the case.
async fn run_case(ctx: &Context<'_>, case_id: &ID, op: Op, command: impl FnOnce() -> Res<CaseCommand>) -> Res<Case> {
    let id = parse_id("caseId", case_id)?;
    case_for(ctx, id, op).await?;
    run_authorized(ctx, id, command()?).await
}

/// Runs `command` on a case whose access the caller already passed, returns the case.
async fn run_authorized(ctx: &Context<'_>, id: Uuid, command: CaseCommand) -> Res<Case> {
    let app = app(ctx)?;
    let acting = Acting::new(principal(ctx)?.actor(), command);
    app.execute(&app.cqrs.cases, &id.to_string(), acting, &meta(ctx)?, classify_case).await?;
    reload(app, id).await
}

/// Resolves an offence code against the catalogue: it must exist and not be retired.
async fn offense_ref(app: &App, code: &str) -> Res<OffenseRef> {
    let code = code.trim();
    let row = store::offense_by_code(&app.db, code).await?.filter(|r| r.retired == 0).ok_or_else(|| {
        ApiError::BadInput(format!("{code:?} is not an offence code in the catalogue (see the offenses query)"))
    })?;
    let category = row.category.parse().map_err(ApiError::internal)?;
    Ok(OffenseRef { code: row.code, category })
}

// ---------------------------------------------------------------- inputs

#[derive(InputObject)]
pub struct RegisterOrganizationInput {
    pub name: String,
    pub kind: OrganizationKind,
}

#[derive(InputObject)]
pub struct CreateAccessTokenInput {
    pub name: String,
    pub role: Role,
    pub organization_id: Option<ID>,
    pub lawyer_id: Option<ID>,
    /// When the token stops working; never when omitted.
    pub expires_at: Option<DateTime>,
}

#[derive(InputObject)]
pub struct RegisterLawyerInput {
    pub full_name: String,
    pub gender: Gender,
    pub status: LawyerStatus,
    pub region: Region,
    pub languages: Option<Vec<String>>,
    pub license_number: Option<String>,
}

#[derive(InputObject)]
pub struct ClientInput {
    pub full_name: String,
    pub gender: Gender,
    pub age_at_identification: Option<i32>,
    pub date_of_birth: Option<Date>,
    /// ISO 3166-1 alpha-2.
    pub citizenship: Option<String>,
    pub region: Option<Region>,
    pub contact: Option<String>,
    pub document_number: Option<String>,
    pub narrative: Option<String>,
}

#[derive(InputObject)]
pub struct ConsentInput {
    pub legal_aid: bool,
    pub report_to_police: bool,
    pub data_sharing: bool,
}

#[derive(InputObject)]
pub struct OpenIntakeInput {
    /// Defaults to the intake worker's organisation (the only one allowed).
    pub organization_id: Option<ID>,
    pub identified_on: Date,
    pub referral_source: ReferralSource,
    pub exploitation_types: Vec<ExploitationType>,
    /// ISO 3166-1 alpha-2.
    pub country_of_exploitation: Option<String>,
    pub client: ClientInput,
    pub consent: ConsentInput,
}

#[derive(InputObject)]
pub struct IdentityInput {
    pub full_name: String,
    pub date_of_birth: Option<Date>,
    pub contact: Option<String>,
    pub document_number: Option<String>,
    pub narrative: Option<String>,
}

#[derive(InputObject)]
pub struct UpdateClientIdentityInput {
    pub case_id: ID,
    pub identity: IdentityInput,
}

#[derive(InputObject)]
pub struct ConsentChangeInput {
    pub case_id: ID,
    pub scopes: Vec<ConsentScope>,
    pub on: Date,
}

#[derive(InputObject)]
pub struct ReferToServiceInput {
    pub case_id: ID,
    pub service: ProtectionService,
    pub referred_on: Date,
    pub provider: Option<String>,
}

#[derive(InputObject)]
pub struct AssignLawyerInput {
    pub case_id: ID,
    pub lawyer_id: ID,
}

#[derive(InputObject)]
pub struct CaseIdInput {
    pub case_id: ID,
}

#[derive(InputObject)]
pub struct CaseReasonInput {
    pub case_id: ID,
    pub reason: String,
}

#[derive(InputObject)]
pub struct RecordLegalActionInput {
    pub case_id: ID,
    pub kind: LegalActionKind,
    pub taken_on: Date,
    /// Sealed like identity: only roles with identity access can read it back.
    pub note: Option<String>,
}

#[derive(InputObject)]
pub struct FilePoliceReportInput {
    pub case_id: ID,
    pub filed_on: Date,
    pub police_unit: String,
    pub reference_number: Option<String>,
}

#[derive(InputObject)]
pub struct RecordOffenseRegistrationInput {
    pub case_id: ID,
    pub report_id: ID,
    pub offense_code: String,
    pub registered_on: Date,
    pub registry_number: Option<String>,
}

#[derive(InputObject)]
pub struct RecordRegistrationRefusedInput {
    pub case_id: ID,
    pub report_id: ID,
    pub decided_on: Date,
    pub reason: String,
}

#[derive(InputObject)]
pub struct ReclassifyOffenseInput {
    pub case_id: ID,
    pub report_id: ID,
    pub offense_code: String,
    pub decided_on: Date,
    pub decided_by: Authority,
    pub reason: String,
}

#[derive(InputObject)]
pub struct RecordInvestigationOutcomeInput {
    pub case_id: ID,
    pub report_id: ID,
    pub outcome: InvestigationOutcome,
    pub decided_on: Date,
    pub note: Option<String>,
}

#[derive(InputObject)]
pub struct RecordVerdictInput {
    pub case_id: ID,
    pub report_id: ID,
    pub outcome: VerdictOutcome,
    pub offense_code: Option<String>,
    pub decided_on: Date,
    pub sentence_months: Option<i32>,
    pub compensation_awarded: Option<bool>,
}

#[derive(InputObject)]
pub struct LawyerTrainingInput {
    pub lawyer_id: ID,
    pub course: String,
    pub completed_on: Date,
}

#[derive(InputObject)]
pub struct LawyerCapacityInput {
    pub lawyer_id: ID,
    pub max_active_cases: i32,
}

#[derive(InputObject)]
pub struct LawyerReasonInput {
    pub lawyer_id: ID,
    pub reason: String,
}

#[derive(InputObject)]
pub struct AddOffenseInput {
    pub edition: String,
    pub article: String,
    pub title: String,
    pub title_ru: Option<String>,
    pub title_ky: Option<String>,
    pub category: OffenseCategory,
    /// Where the article number was verified.
    pub source: String,
}

#[derive(InputObject)]
pub struct RetireOffenseInput {
    pub code: String,
    pub reason: String,
}

fn client_profile(c: &ClientInput) -> Res<dc::ClientProfile> {
    Ok(dc::ClientProfile {
        gender: c.gender.into(),
        age_at_identification: c.age_at_identification.map(|a| v::parse_age(a.into())).transpose()?,
        citizenship: c.citizenship.as_deref().map(|s| CountryCode::parse("citizenship", s)).transpose()?,
        region: c.region.map(Into::into),
    })
}

fn identity_plain(
    full_name: &str,
    dob: Option<Date>,
    contact: &Option<String>,
    doc: &Option<String>,
    narrative: &Option<String>,
    today: chrono::NaiveDate,
) -> Res<IdentityPlain> {
    if let Some(d) = dob {
        if d.0 > today {
            return Err(ApiError::BadInput("dateOfBirth is in the future".into()));
        }
    }
    Ok(IdentityPlain {
        full_name: Text::parse_with_max("fullName", full_name, 200)?.to_string(),
        date_of_birth: dob.map(|d| d.0.to_string()),
        contact: opt_text("contact", contact)?.map(String::from),
        document_number: opt_text("documentNumber", doc)?.map(String::from),
        narrative: narrative.as_deref().map(|n| long_text("narrative", n, 20_000)).transpose()?,
    })
}

fn seal_identity(dk: &crypto::Key, case_id: &str, id: &IdentityPlain) -> Res<domain::Sealed> {
    let bytes = serde_json::to_vec(id).map_err(ApiError::internal)?;
    Ok(crypto::seal(dk, case_id, "identity", &bytes))
}

async fn lawyer_command(ctx: &Context<'_>, lawyer_id: &ID, command: LawyerCommand) -> Res<Lawyer> {
    allow(ctx, Op::ManageLawyer)?;
    let id = parse_id("lawyerId", lawyer_id)?;
    let app = app(ctx)?;
    let acting = LawyerActing { actor: principal(ctx)?.actor(), command };
    app.execute(&app.cqrs.lawyers, &id.to_string(), acting, &meta(ctx)?, classify_lawyer).await?;
    lawyer(ctx, &id.to_string()).await?.ok_or_else(|| ApiError::NotFound(format!("no lawyer {id}")))
}

/// Mutations on cases, the lawyer network, accounts and the catalogue.
#[derive(Default)]
pub struct CoreMutation;

#[Object]
impl CoreMutation {
    // ------------------------------------------------------------ administration

    async fn register_organization(&self, ctx: &Context<'_>, input: RegisterOrganizationInput) -> Res<Organization> {
        allow(ctx, Op::RegisterOrganization)?;
        let app = app(ctx)?;
        let id = Uuid::new_v4();
        let cmd = OrganizationCommand::Register {
            actor: principal(ctx)?.actor(),
            organization_id: id,
            name: Text::parse_with_max("name", &input.name, 200)?,
            kind: input.kind.into(),
        };
        app.execute(&app.cqrs.organizations, &id.to_string(), cmd, &meta(ctx)?, classify_organization).await?;
        organization(ctx, &id.to_string()).await?.ok_or_else(|| ApiError::Internal("organisation not projected".into()))
    }

    /// Creates an account with one role and scope, and its first token (shown once).
    async fn create_access_token(&self, ctx: &Context<'_>, input: CreateAccessTokenInput) -> Res<AccessTokenPayload> {
        allow(ctx, Op::CreateAccessToken)?;
        let app = app(ctx)?;
        let org = input.organization_id.as_ref().map(|i| parse_id("organizationId", i)).transpose()?;
        let lawyer_id = input.lawyer_id.as_ref().map(|i| parse_id("lawyerId", i)).transpose()?;
        let expires_at = input
            .expires_at
            .as_ref()
            .map(|d| chrono::DateTime::parse_from_rfc3339(&d.0).map(|d| d.with_timezone(&chrono::Utc)))
            .transpose()
            .map_err(|_| ApiError::BadInput("expiresAt is not an RFC 3339 date-time".into()))?;
        let created = app
            .create_account(
                &meta(ctx)?,
                Text::parse_with_max("name", &input.name, 200)?,
                input.role.into(),
                org,
                lawyer_id,
                expires_at,
            )
            .await?;
        let account = store::account_by_id(&app.db, &created.account_id.to_string())
            .await?
            .ok_or_else(|| ApiError::Internal("account not projected".into()))?;
        Ok(AccessTokenPayload {
            token: created.token,
            token_id: ID(created.token_id.to_string()),
            expires_at: expires_at.map(|e| DateTime(e.to_rfc3339())),
            account: Account(account),
        })
    }

    /// Revokes a token at once; requests bearing it are refused from then on.
    async fn revoke_access_token(&self, ctx: &Context<'_>, token_id: ID) -> Res<Account> {
        allow(ctx, Op::RevokeAccessToken)?;
        let app = app(ctx)?;
        let token_id = parse_id("tokenId", &token_id)?;
        let account_id = app.revoke_token(&meta(ctx)?, token_id).await?;
        let a = store::account_by_id(&app.db, &account_id)
            .await?
            .ok_or_else(|| ApiError::NotFound("no such account".into()))?;
        Ok(Account(a))
    }

    async fn add_offense(&self, ctx: &Context<'_>, input: AddOffenseInput) -> Res<Offense> {
        allow(ctx, Op::AddOffense)?;
        let app = app(ctx)?;
        let edition = input.edition.trim().to_string();
        let article = input.article.trim().to_string();
        let entry = OffenseEntry {
            code: format!("{edition}-{article}"),
            edition,
            article,
            title: Titles {
                en: text("title", &input.title)?.to_string(),
                ru: opt_text("titleRu", &input.title_ru)?.map(String::from),
                ky: opt_text("titleKy", &input.title_ky)?.map(String::from),
            },
            category: input.category.into(),
            source: Some(text("source", &input.source)?.to_string()),
        };
        let code = entry.code.clone();
        let cmd = CatalogueCommand::Add { actor: principal(ctx)?.actor(), entry };
        app.execute(&app.cqrs.catalogue, CATALOGUE_ID, cmd, &meta(ctx)?, classify_catalogue).await?;
        Offense::from_row(
            store::offense_by_code(&app.db, &code)
                .await?
                .ok_or_else(|| ApiError::Internal("offence not projected".into()))?,
        )
    }

    async fn retire_offense(&self, ctx: &Context<'_>, input: RetireOffenseInput) -> Res<Offense> {
        allow(ctx, Op::RetireOffense)?;
        let app = app(ctx)?;
        let code = input.code.trim().to_string();
        let cmd = CatalogueCommand::Retire {
            actor: principal(ctx)?.actor(),
            code: code.clone(),
            reason: text("reason", &input.reason)?,
        };
        app.execute(&app.cqrs.catalogue, CATALOGUE_ID, cmd, &meta(ctx)?, classify_catalogue).await?;
        Offense::from_row(
            store::offense_by_code(&app.db, &code)
                .await?
                .ok_or_else(|| ApiError::NotFound(format!("no offence {code}")))?,
        )
    }

    /// Crypto-shredding: destroys the case's data key, so its identity can never be read
    /// again; the events and statistics stay.
    async fn erase_client_data(&self, ctx: &Context<'_>, input: CaseReasonInput) -> Res<Case> {
        let id = parse_id("caseId", &input.case_id)?;
        let view = case_for(ctx, id, Op::EraseClientData).await?;
        if view.erased {
            return Err(ApiError::Rule(CaseError::AlreadyErased.to_string()));
        }
        let reason = text("reason", &input.reason)?;
        let app = app(ctx)?;
        // The key goes first: once gone, nothing can bring the identity back, whatever
        // happens to the command that records it.
        crate::ledger::destroy_data_key(&app.db, &id.to_string()).await?;
        let acting = Acting::new(principal(ctx)?.actor(), CaseCommand::EraseClientData { reason });
        app.execute(&app.cqrs.cases, &id.to_string(), acting, &meta(ctx)?, classify_case).await?;
        // Once the erasure is on record: remove stale copies of the key from the files.
        crate::ledger::scrub_deleted_keys(&app.db).await;
        reload(app, id).await
    }

    // ------------------------------------------------------------ the lawyer network

    async fn register_lawyer(&self, ctx: &Context<'_>, input: RegisterLawyerInput) -> Res<Lawyer> {
        allow(ctx, Op::RegisterLawyer)?;
        let app = app(ctx)?;
        let id = Uuid::new_v4();
        let languages = input
            .languages
            .unwrap_or_default()
            .iter()
            .map(|l| Text::parse_with_max("languages", l, 40))
            .collect::<Result<Vec<_>, _>>()?;
        if languages.len() > 20 {
            return Err(ApiError::BadInput("at most 20 languages".into()));
        }
        let cmd = LawyerCommand::Register(RegisterLawyer {
            lawyer_id: id,
            full_name: Text::parse_with_max("fullName", &input.full_name, 200)?,
            gender: input.gender.into(),
            status: input.status.into(),
            region: input.region.into(),
            languages,
            license_number: opt_text("licenseNumber", &input.license_number)?,
        });
        let acting = LawyerActing { actor: principal(ctx)?.actor(), command: cmd };
        app.execute(&app.cqrs.lawyers, &id.to_string(), acting, &meta(ctx)?, classify_lawyer).await?;
        lawyer(ctx, &id.to_string()).await?.ok_or_else(|| ApiError::Internal("lawyer not projected".into()))
    }

    async fn record_lawyer_training(&self, ctx: &Context<'_>, input: LawyerTrainingInput) -> Res<Lawyer> {
        let cmd = LawyerCommand::RecordTraining {
            course: text("course", &input.course)?,
            completed_on: input.completed_on.0,
        };
        lawyer_command(ctx, &input.lawyer_id, cmd).await
    }

    async fn set_lawyer_capacity(&self, ctx: &Context<'_>, input: LawyerCapacityInput) -> Res<Lawyer> {
        let n = u16::try_from(input.max_active_cases)
            .map_err(|_| ApiError::BadInput("maxActiveCases must be between 1 and 200".into()))?;
        lawyer_command(ctx, &input.lawyer_id, LawyerCommand::SetCapacity { max_active_cases: n }).await
    }

    async fn deactivate_lawyer(&self, ctx: &Context<'_>, input: LawyerReasonInput) -> Res<Lawyer> {
        lawyer_command(ctx, &input.lawyer_id, LawyerCommand::Deactivate { reason: text("reason", &input.reason)? })
            .await
    }

    async fn reactivate_lawyer(&self, ctx: &Context<'_>, lawyer_id: ID) -> Res<Lawyer> {
        lawyer_command(ctx, &lawyer_id, LawyerCommand::Reactivate).await
    }

    /// Assigns (or reassigns) a case to an active lawyer with spare capacity.
    async fn assign_lawyer(&self, ctx: &Context<'_>, input: AssignLawyerInput) -> Res<Case> {
        let case_id = parse_id("caseId", &input.case_id)?;
        let lawyer_id = parse_id("lawyerId", &input.lawyer_id)?;
        // Access first: a caller who may not assign learns nothing about the lawyer's
        // status or caseload from the answer.
        case_for(ctx, case_id, Op::AssignLawyer).await?;
        let app: &Arc<App> = app(ctx)?;
        let l = store::lawyer_by_id(&app.db, &lawyer_id.to_string())
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no lawyer {lawyer_id}")))?;
        if !l.active {
            return Err(ApiError::Rule("the lawyer is deactivated".into()));
        }
        if let Some(max) = l.max_active_cases {
            if store::active_caseload(&app.db, &l.id).await? >= i64::from(max) {
                return Err(ApiError::Rule(format!("the lawyer already has {max} active cases, their capacity")));
            }
        }
        run_authorized(ctx, case_id, CaseCommand::AssignLawyer { lawyer_id }).await
    }

    // ------------------------------------------------------------ cases

    async fn open_intake(&self, ctx: &Context<'_>, input: OpenIntakeInput) -> Res<Case> {
        allow(ctx, Op::OpenIntake)?;
        let p = principal(ctx)?;
        let app = app(ctx)?;
        let own = p.organization_id.ok_or_else(ApiError::forbidden)?;
        let organization_id = match &input.organization_id {
            Some(id) => parse_id("organizationId", id)?,
            None => own,
        };
        if organization_id != own {
            return Err(ApiError::Forbidden("intake workers open cases for their own organisation only".into()));
        }
        if store::organization_by_id(&app.db, &organization_id.to_string()).await?.is_none() {
            return Err(ApiError::NotFound(format!("no organisation {organization_id}")));
        }
        let today = app.clock.today();
        let c = &input.client;
        let client = client_profile(c)?;
        let plain = identity_plain(&c.full_name, c.date_of_birth, &c.contact, &c.document_number, &c.narrative, today)?;
        let country = input
            .country_of_exploitation
            .as_deref()
            .map(|s| CountryCode::parse("countryOfExploitation", s))
            .transpose()?;
        if input.exploitation_types.len() > v::ExploitationType::ALL.len() {
            return Err(ApiError::BadInput("too many exploitation types".into()));
        }
        let case_id = Uuid::new_v4();
        let dk = app.new_data_key(&case_id.to_string()).await?;
        let identity = seal_identity(&dk, &case_id.to_string(), &plain)?;
        let cmd = CaseCommand::OpenIntake(dc::OpenIntake {
            case_id,
            organization_id,
            identified_on: input.identified_on.0,
            referral_source: input.referral_source.into(),
            exploitation_types: input.exploitation_types.iter().map(|t| (*t).into()).collect(),
            country_of_exploitation: country,
            client,
            identity,
            consent: dc::ConsentGrant {
                legal_aid: input.consent.legal_aid,
                report_to_police: input.consent.report_to_police,
                data_sharing: input.consent.data_sharing,
            },
        });
        let acting = Acting::new(p.actor(), cmd);
        let result = app.execute(&app.cqrs.cases, &case_id.to_string(), acting, &meta(ctx)?, classify_case).await;
        if let Err(e) = result {
            // The key of a case that was never opened protects nothing.
            let _ = crate::ledger::destroy_data_key(&app.db, &case_id.to_string()).await;
            return Err(e);
        }
        reload(app, case_id).await
    }

    /// Corrects the client's identity (sealed like at intake).
    async fn update_client_identity(&self, ctx: &Context<'_>, input: UpdateClientIdentityInput) -> Res<Case> {
        let app = app(ctx)?;
        let id = parse_id("caseId", &input.case_id)?;
        let i = &input.identity;
        let plain = identity_plain(
            &i.full_name,
            i.date_of_birth,
            &i.contact,
            &i.document_number,
            &i.narrative,
            app.clock.today(),
        )?;
        let view = case_for(ctx, id, Op::UpdateClientIdentity).await?;
        if view.erased {
            return Err(ApiError::Rule(CaseError::Erased.to_string()));
        }
        let dk = app.data_key(&id.to_string()).await?.ok_or_else(|| ApiError::Rule(CaseError::Erased.to_string()))?;
        let sealed = seal_identity(&dk, &id.to_string(), &plain)?;
        run_authorized(ctx, id, CaseCommand::UpdateIdentity { identity: sealed }).await
    }

    async fn give_consent(&self, ctx: &Context<'_>, input: ConsentChangeInput) -> Res<Case> {
        let scopes = input.scopes.iter().map(|s| (*s).into()).collect();
        run_case(ctx, &input.case_id, Op::ManageConsent, || {
            Ok(CaseCommand::GiveConsent { scopes, given_on: input.on.0 })
        })
        .await
    }

    /// Withdrawing REPORT_TO_POLICE blocks new police reports; DATA_SHARING limits identity
    /// to the client's organisation and lawyer.
    async fn withdraw_consent(&self, ctx: &Context<'_>, input: ConsentChangeInput) -> Res<Case> {
        let scopes = input.scopes.iter().map(|s| (*s).into()).collect();
        run_case(ctx, &input.case_id, Op::ManageConsent, || {
            Ok(CaseCommand::WithdrawConsent { scopes, withdrawn_on: input.on.0 })
        })
        .await
    }

    /// A referral to a protection service of the National Referral Mechanism.
    async fn refer_to_service(&self, ctx: &Context<'_>, input: ReferToServiceInput) -> Res<Case> {
        let provider = opt_text("provider", &input.provider)?;
        run_case(ctx, &input.case_id, Op::ReferToService, || {
            Ok(CaseCommand::ReferToService(dc::ReferToService {
                service: input.service.into(),
                referred_on: input.referred_on.0,
                provider,
            }))
        })
        .await
    }

    async fn accept_assignment(&self, ctx: &Context<'_>, input: CaseIdInput) -> Res<Case> {
        run_case(ctx, &input.case_id, Op::AnswerAssignment, || Ok(CaseCommand::AcceptAssignment)).await
    }

    async fn decline_assignment(&self, ctx: &Context<'_>, input: CaseReasonInput) -> Res<Case> {
        let reason = text("reason", &input.reason)?;
        run_case(ctx, &input.case_id, Op::AnswerAssignment, || Ok(CaseCommand::DeclineAssignment { reason })).await
    }

    async fn record_legal_action(&self, ctx: &Context<'_>, input: RecordLegalActionInput) -> Res<Case> {
        let app = app(ctx)?;
        let id = parse_id("caseId", &input.case_id)?;
        let note = input.note.as_deref().map(|n| long_text("note", n, 20_000)).transpose()?;
        // Access before the data key: only the assigned lawyer may make the key seal
        // anything, and a caller without access must not learn that a client was erased.
        case_for(ctx, id, Op::LegalAction).await?;
        let note = match note {
            Some(n) => {
                let dk = app
                    .data_key(&id.to_string())
                    .await?
                    .ok_or_else(|| ApiError::Rule(CaseError::Erased.to_string()))?;
                Some(crypto::seal(&dk, &id.to_string(), "note", n.as_bytes()))
            }
            None => None,
        };
        let command = CaseCommand::RecordLegalAction(dc::RecordLegalAction {
            kind: input.kind.into(),
            taken_on: input.taken_on.0,
            note,
        });
        run_authorized(ctx, id, command).await
    }

    async fn file_police_report(&self, ctx: &Context<'_>, input: FilePoliceReportInput) -> Res<Case> {
        let police_unit = text("policeUnit", &input.police_unit)?;
        let reference_number = opt_text("referenceNumber", &input.reference_number)?;
        run_case(ctx, &input.case_id, Op::LegalAction, || {
            Ok(CaseCommand::FilePoliceReport(dc::FilePoliceReport {
                report_id: Uuid::new_v4(),
                filed_on: input.filed_on.0,
                police_unit,
                reference_number,
            }))
        })
        .await
    }

    async fn record_offense_registration(&self, ctx: &Context<'_>, input: RecordOffenseRegistrationInput) -> Res<Case> {
        let report_id = parse_id("reportId", &input.report_id)?;
        let offense = offense_ref(app(ctx)?, &input.offense_code).await?;
        let registry_number = opt_text("registryNumber", &input.registry_number)?;
        run_case(ctx, &input.case_id, Op::LegalAction, || {
            Ok(CaseCommand::RecordOffenseRegistration(dc::RecordOffenseRegistration {
                report_id,
                offense,
                registered_on: input.registered_on.0,
                registry_number,
            }))
        })
        .await
    }

    async fn record_registration_refused(&self, ctx: &Context<'_>, input: RecordRegistrationRefusedInput) -> Res<Case> {
        let report_id = parse_id("reportId", &input.report_id)?;
        let reason = text("reason", &input.reason)?;
        run_case(ctx, &input.case_id, Op::LegalAction, || {
            Ok(CaseCommand::RecordRegistrationRefused(dc::RecordRegistrationRefused {
                report_id,
                decided_on: input.decided_on.0,
                reason,
            }))
        })
        .await
    }

    async fn reclassify_offense(&self, ctx: &Context<'_>, input: ReclassifyOffenseInput) -> Res<Case> {
        let report_id = parse_id("reportId", &input.report_id)?;
        let offense = offense_ref(app(ctx)?, &input.offense_code).await?;
        let reason = text("reason", &input.reason)?;
        run_case(ctx, &input.case_id, Op::LegalAction, || {
            Ok(CaseCommand::ReclassifyOffense(dc::ReclassifyOffense {
                report_id,
                offense,
                decided_on: input.decided_on.0,
                decided_by: input.decided_by.into(),
                reason,
            }))
        })
        .await
    }

    async fn record_investigation_outcome(
        &self,
        ctx: &Context<'_>,
        input: RecordInvestigationOutcomeInput,
    ) -> Res<Case> {
        let report_id = parse_id("reportId", &input.report_id)?;
        let note = opt_text("note", &input.note)?;
        run_case(ctx, &input.case_id, Op::LegalAction, || {
            Ok(CaseCommand::RecordInvestigationOutcome(dc::RecordInvestigationOutcome {
                report_id,
                outcome: input.outcome.into(),
                decided_on: input.decided_on.0,
                note,
            }))
        })
        .await
    }

    async fn record_verdict(&self, ctx: &Context<'_>, input: RecordVerdictInput) -> Res<Case> {
        let report_id = parse_id("reportId", &input.report_id)?;
        let offense = match &input.offense_code {
            Some(code) => Some(offense_ref(app(ctx)?, code).await?),
            None => None,
        };
        let sentence_months = input
            .sentence_months
            .map(|m| u16::try_from(m).ok().filter(|m| *m <= 1200))
            .map(|m| m.ok_or_else(|| ApiError::BadInput("sentenceMonths must be between 0 and 1200".into())))
            .transpose()?;
        run_case(ctx, &input.case_id, Op::LegalAction, || {
            Ok(CaseCommand::RecordVerdict(dc::RecordVerdict {
                report_id,
                outcome: input.outcome.into(),
                offense,
                decided_on: input.decided_on.0,
                sentence_months,
                compensation_awarded: input.compensation_awarded,
            }))
        })
        .await
    }

    async fn close_case(&self, ctx: &Context<'_>, input: CaseReasonInput) -> Res<Case> {
        let reason = text("reason", &input.reason)?;
        run_case(ctx, &input.case_id, Op::CloseCase, || Ok(CaseCommand::CloseCase { reason })).await
    }

    async fn reopen_case(&self, ctx: &Context<'_>, input: CaseReasonInput) -> Res<Case> {
        let reason = text("reason", &input.reason)?;
        run_case(ctx, &input.case_id, Op::ReopenCase, || Ok(CaseCommand::ReopenCase { reason })).await
    }
}

// The mutation root: each part lives in its own module.
#[derive(MergedObject, Default)]
pub struct MutationRoot(CoreMutation);
