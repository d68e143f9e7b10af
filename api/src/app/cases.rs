//! Use cases on a case: intake, identity, consent, referrals, assignment, legal actions,
//! police reports and what became of them, closing, reopening and erasure.

use super::{App, Caller};
use crate::access::Op;
use crate::error::ApiError;
use crate::privacy::identity::{seal_identity, seal_note, IdentityPlain};
use crate::privacy::keys;
use crate::store::guard::SlotChange;
use chrono::NaiveDate;
use domain::case::{self as dc, CaseCommand, CaseError};
use domain::lawyer::Lawyer;
use domain::offense::OffenseRef;
use domain::organization::Organization;
use domain::values::{self as v, CountryCode, Role, Text};
use projections::model::{CaseStatus, CaseView};
use projections::store::{self, CaseFilter, CasePage};
use std::sync::Arc;
use uuid::Uuid;

type Res<T> = Result<T, ApiError>;

// ---------------------------------------------------------------- inputs

/// The client's identity as entered: validated and sealed by the use case.
#[derive(Clone, Default)]
pub struct IdentityInput {
    pub full_name: String,
    pub date_of_birth: Option<NaiveDate>,
    pub contact: Option<String>,
    pub document_number: Option<String>,
    pub narrative: Option<String>,
}

/// Never print what a user typed about a client.
impl std::fmt::Debug for IdentityInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdentityInput(<identity>)")
    }
}

/// The non-identifying facts about the client, kept in clear.
#[derive(Debug, Clone)]
pub struct ClientInput {
    pub gender: v::Gender,
    pub age_at_identification: Option<i64>,
    /// ISO 3166-1 alpha-2.
    pub citizenship: Option<String>,
    pub region: Option<v::Region>,
}

#[derive(Debug, Clone)]
pub struct OpenIntakeInput {
    /// The case's id; a new one when `None` (the demo seed and imports give their own).
    pub case_id: Option<Uuid>,
    /// Defaults to the intake worker's organisation (the only one allowed).
    pub organization_id: Option<Uuid>,
    pub identified_on: NaiveDate,
    pub referral_source: v::ReferralSource,
    pub exploitation_types: Vec<v::ExploitationType>,
    /// ISO 3166-1 alpha-2.
    pub country_of_exploitation: Option<String>,
    pub client: ClientInput,
    pub identity: IdentityInput,
    pub consent: dc::ConsentGrant,
    /// The HTCDS profile; all optional (docs/htcds.md).
    pub profile: ProfileInput,
    /// A guardian's or representative's consent, for a client under 18.
    pub guardian_consent: Option<dc::GuardianConsent>,
}

/// The HTCDS profile as entered; places and languages are parsed by the use case.
#[derive(Debug, Clone, Default)]
pub struct ProfileInput {
    pub recruitment: Vec<v::RecruitmentMethod>,
    pub means_of_control: Vec<v::MeansOfControl>,
    pub recruiter_relationship: Option<v::RecruiterRelationship>,
    pub industry: Option<v::IsicSection>,
    /// A region of the Kyrgyz Republic (BISHKEK, OSH, …) or an ISO 3166-1 alpha-2 code.
    pub place_of_recruitment: Option<String>,
    pub migration_status: Option<v::MigrationStatus>,
    /// ISO 639-1.
    pub primary_language: Option<String>,
}

#[derive(Debug, Clone)]
pub struct PoliceReportInput {
    /// The report's id; a new one when `None`.
    pub report_id: Option<Uuid>,
    pub filed_on: NaiveDate,
    pub police_unit: String,
    pub reference_number: Option<String>,
    /// Who started the report; not recorded when `None`.
    pub initiated_by: Option<v::ReportInitiator>,
}

#[derive(Debug, Clone)]
pub struct RegistrationInput {
    pub report_id: Uuid,
    pub offense_code: String,
    pub registered_on: NaiveDate,
    pub registry_number: Option<String>,
    /// The authority that registered it; not recorded when `None`.
    pub decided_by: Option<v::Authority>,
}

#[derive(Debug, Clone)]
pub struct RefusalInput {
    pub report_id: Uuid,
    pub decided_on: NaiveDate,
    pub reason: String,
    pub decided_by: Option<v::Authority>,
}

#[derive(Debug, Clone)]
pub struct ReclassificationInput {
    pub report_id: Uuid,
    pub offense_code: String,
    pub decided_on: NaiveDate,
    pub decided_by: v::Authority,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct InvestigationOutcomeInput {
    pub report_id: Uuid,
    pub outcome: v::InvestigationOutcome,
    pub decided_on: NaiveDate,
    pub note: Option<String>,
    pub decided_by: Option<v::Authority>,
}

#[derive(Debug, Clone)]
pub struct VerdictInput {
    pub report_id: Uuid,
    pub outcome: v::VerdictOutcome,
    pub offense_code: Option<String>,
    pub decided_on: NaiveDate,
    pub sentence_months: Option<i64>,
    pub compensation_awarded: Option<bool>,
    /// The instance that decided; the first when `None`.
    pub instance: Option<v::CourtInstance>,
}

/// An accused person on a police report. There is no name field: defendants' names are
/// personal data the ledger does not keep.
#[derive(Debug, Clone)]
pub struct DefendantInput {
    pub report_id: Uuid,
    /// The defendant's id; a new one when `None`.
    pub defendant_id: Option<Uuid>,
    pub gender: v::Gender,
    pub age_at_offense: Option<i64>,
    /// ISO 3166-1 alpha-2.
    pub citizenship: Option<String>,
    pub role: v::DefendantRole,
    /// The offence code of the charge, if charged.
    pub charged_with: Option<String>,
    /// The day of the charge; today when `None`.
    pub charged_on: Option<NaiveDate>,
    /// Who the defendant was to the client, when known.
    pub relationship: Option<v::DefendantRelationship>,
}

#[derive(Debug, Clone)]
pub struct DefendantVerdictInput {
    pub report_id: Uuid,
    pub defendant_id: Uuid,
    pub outcome: v::VerdictOutcome,
    pub offense_code: Option<String>,
    pub decided_on: NaiveDate,
    pub sentence_months: Option<i64>,
}

/// A step of a compensation claim on a report.
#[derive(Debug, Clone)]
pub struct CompensationInput {
    pub report_id: Uuid,
    pub step: v::CompensationStep,
    /// Whole units of `currency`.
    pub amount: i64,
    /// ISO 4217, e.g. KGS.
    pub currency: String,
    /// The day of the step; today when `None`.
    pub on: Option<NaiveDate>,
}

#[derive(Clone)]
pub struct LegalActionInput {
    pub kind: v::LegalActionKind,
    pub taken_on: NaiveDate,
    /// Sealed like identity: only roles with identity access can read it back.
    pub note: Option<String>,
}

impl std::fmt::Debug for LegalActionInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LegalActionInput").field("kind", &self.kind).field("taken_on", &self.taken_on).finish()
    }
}

/// Narrows the case list; callers see only cases in their scope whatever it says.
#[derive(Debug, Clone, Default)]
pub struct CaseListFilter {
    /// One of [`CaseStatus::ALL`], by its label.
    pub status: Option<String>,
    pub organization_id: Option<Uuid>,
    pub lawyer_id: Option<Uuid>,
    pub region: Option<v::Region>,
    pub exploitation_type: Option<v::ExploitationType>,
    pub offense_category: Option<v::OffenseCategory>,
    pub identified_from: Option<NaiveDate>,
    pub identified_to: Option<NaiveDate>,
}

// ---------------------------------------------------------------- parsing shared by every edge

pub(crate) fn text(field: &'static str, s: &str) -> Res<Text> {
    Ok(Text::parse(field, s)?)
}

pub(crate) fn opt_text(field: &'static str, s: &Option<String>) -> Res<Option<Text>> {
    s.as_deref().map(|s| text(field, s)).transpose()
}

fn identity_plain(i: &IdentityInput, today: NaiveDate) -> Res<IdentityPlain> {
    if let Some(d) = i.date_of_birth {
        if d > today {
            return Err(ApiError::BadInput("dateOfBirth is in the future".into()));
        }
    }
    Ok(IdentityPlain {
        full_name: Text::parse_with_max("fullName", &i.full_name, 200)?.to_string(),
        date_of_birth: i.date_of_birth.map(|d| d.to_string()),
        contact: opt_text("contact", &i.contact)?.map(String::from),
        document_number: opt_text("documentNumber", &i.document_number)?.map(String::from),
        narrative: i.narrative.as_deref().map(|n| v::parse_long_text("narrative", n, 20_000)).transpose()?,
    })
}

fn client_profile(c: &ClientInput) -> Res<dc::ClientProfile> {
    Ok(dc::ClientProfile {
        gender: c.gender,
        age_at_identification: c.age_at_identification.map(v::parse_age).transpose()?,
        citizenship: c.citizenship.as_deref().map(|s| CountryCode::parse("citizenship", s)).transpose()?,
        region: c.region,
    })
}

fn victim_profile(p: &ProfileInput) -> Res<dc::VictimProfile> {
    if p.recruitment.len() > v::RecruitmentMethod::ALL.len() || p.means_of_control.len() > v::MeansOfControl::ALL.len()
    {
        return Err(ApiError::BadInput("too many values in the profile's lists".into()));
    }
    let blank = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    Ok(dc::VictimProfile {
        recruitment: p.recruitment.clone(),
        means_of_control: p.means_of_control.clone(),
        recruiter_relationship: p.recruiter_relationship,
        industry: p.industry,
        place_of_recruitment: blank(&p.place_of_recruitment)
            .map(|s| v::PlaceOfRecruitment::parse("placeOfRecruitment", &s))
            .transpose()?,
        migration_status: p.migration_status,
        primary_language: blank(&p.primary_language)
            .map(|s| v::LanguageCode::parse("primaryLanguage", &s))
            .transpose()?,
    }
    .normalized())
}

fn erased() -> ApiError {
    ApiError::Rule(CaseError::Erased.to_string())
}

// ---------------------------------------------------------------- reads

impl App {
    /// One case, or `None` when there is none with this id.
    #[tracing::instrument(skip_all)]
    pub async fn case(&self, caller: &Caller, id: Uuid) -> Res<Option<Arc<CaseView>>> {
        match self.case_in_scope(caller, id, Op::ReadCase).await {
            Ok(v) => Ok(Some(v)),
            Err(ApiError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Cases in opening order, `first` (1–100) after the `opened_seq` cursor `after`.
    /// Lawyers see their cases, intake workers their organisation's.
    #[tracing::instrument(skip_all, fields(first))]
    pub async fn cases(&self, caller: &Caller, f: CaseListFilter, first: i64, after: Option<i64>) -> Res<CasePage> {
        caller.allow(Op::ListCases)?;
        if !(1..=100).contains(&first) {
            return Err(ApiError::BadInput("first must be between 1 and 100".into()));
        }
        let status = f.status.as_deref().map(str::parse::<CaseStatus>).transpose().map_err(|_| {
            let all: Vec<&str> = CaseStatus::ALL.iter().map(|s| s.as_str()).collect();
            ApiError::BadInput(format!("status must be one of {}", all.join(", ")))
        })?;
        let p = &caller.principal;
        let mut sf = CaseFilter {
            status,
            organization_id: f.organization_id,
            lawyer_id: f.lawyer_id,
            region: f.region,
            exploitation_type: f.exploitation_type,
            offense_category: f.offense_category,
            identified_from: f.identified_from,
            identified_to: f.identified_to,
        };
        match p.role {
            Role::Lawyer => {
                self.lawyer_in_service(caller).await?;
                let own = p.lawyer_id;
                if sf.lawyer_id.is_some() && sf.lawyer_id != own {
                    return Err(ApiError::forbidden());
                }
                sf.lawyer_id = Some(own.ok_or_else(ApiError::forbidden)?);
            }
            Role::IntakeWorker => {
                let own = p.organization_id;
                if sf.organization_id.is_some() && sf.organization_id != own {
                    return Err(ApiError::forbidden());
                }
                sf.organization_id = Some(own.ok_or_else(ApiError::forbidden)?);
            }
            _ => {}
        }
        Ok(store::list_cases(&self.db, &sf, first, after).await?)
    }
}

// ---------------------------------------------------------------- commands

impl App {
    /// Checks `op` on the case, runs `command` (with `guards` in its transaction), returns
    /// the case as the read models show it afterwards.
    async fn run_case(
        &self,
        caller: &Caller,
        view: &CaseView,
        command: CaseCommand,
        guards: Vec<SlotChange>,
    ) -> Res<Arc<CaseView>> {
        self.execute_guarded(&self.cqrs.cases, caller, &view.id.to_string(), command, guards).await?;
        self.reload(view.id).await
    }

    async fn reload(&self, case_id: Uuid) -> Res<Arc<CaseView>> {
        self.case_view(case_id)
            .await?
            .ok_or_else(|| ApiError::Internal(format!("case {case_id} not in the read models after its command")))
    }

    /// The case, if `op` is allowed on it, and the command built from it.
    pub(super) async fn on_case(
        &self,
        caller: &Caller,
        case_id: Uuid,
        op: Op,
        command: impl FnOnce(&CaseView) -> Res<CaseCommand>,
    ) -> Res<Arc<CaseView>> {
        let view = self.case_in_scope(caller, case_id, op).await?;
        let command = command(&view)?;
        self.run_case(caller, &view, command, vec![]).await
    }

    /// Resolves an offence code against the catalogue: it must exist and not be retired.
    async fn offense_ref(&self, code: &str) -> Res<OffenseRef> {
        let code = code.trim();
        let row = self.offense(code).await?.filter(|r| !r.retired).ok_or_else(|| {
            ApiError::BadInput(format!("{code:?} is not an offence code in the catalogue (see the offenses query)"))
        })?;
        Ok(OffenseRef { code: row.code, category: row.category })
    }

    /// Opens a case: makes its data key, seals the identity, records the intake. A key made
    /// for a case that was then not opened is destroyed again.
    #[tracing::instrument(skip_all)]
    pub async fn open_intake(&self, caller: &Caller, input: OpenIntakeInput) -> Res<Arc<CaseView>> {
        caller.allow(Op::OpenIntake)?;
        let own = caller.principal.organization_id.ok_or_else(ApiError::forbidden)?;
        let organization_id = input.organization_id.unwrap_or(own);
        if organization_id != own {
            return Err(ApiError::Forbidden("intake workers open cases for their own organisation only".into()));
        }
        if !self.cqrs.load::<Organization>(&organization_id.to_string()).await?.aggregate.registered {
            return Err(ApiError::NotFound(format!("no organisation {organization_id}")));
        }
        let client = client_profile(&input.client)?;
        let profile = victim_profile(&input.profile)?;
        let plain = identity_plain(&input.identity, self.clock.today())?;
        let country = input
            .country_of_exploitation
            .as_deref()
            .map(|s| CountryCode::parse("countryOfExploitation", s))
            .transpose()?;
        if input.exploitation_types.len() > v::ExploitationType::ALL.len() {
            return Err(ApiError::BadInput("too many exploitation types".into()));
        }
        let case_id = input.case_id.unwrap_or_else(Uuid::new_v4);
        let id = case_id.to_string();
        let dk = self.keyring.new_data_key(&self.db, &id).await.map_err(|e| match e {
            keys::KeyError::Database(e) => ApiError::from(e),
            other => ApiError::internal(other),
        })?;
        let cmd = CaseCommand::OpenIntake(dc::OpenIntake {
            case_id,
            organization_id,
            identified_on: input.identified_on,
            referral_source: input.referral_source,
            exploitation_types: input.exploitation_types,
            country_of_exploitation: country,
            client,
            identity: seal_identity(&dk, &id, &plain),
            consent: input.consent,
            profile,
            guardian_consent: input.guardian_consent,
        });
        if let Err(e) = self.execute(&self.cqrs.cases, caller, &id, cmd).await {
            // The key of a case that was never opened protects nothing; if it cannot be
            // removed now it is an orphan that opens no event, which the log says.
            if let Err(d) = keys::discard_unused_data_key(&self.db, &id).await {
                tracing::warn!(case_id = %id, error = %d, "could not remove the data key of a case that was not opened");
            }
            return Err(e);
        }
        self.reload(case_id).await
    }

    /// Corrects the client's identity (sealed like at intake).
    #[tracing::instrument(skip_all, fields(%case_id))]
    pub async fn update_client_identity(
        &self,
        caller: &Caller,
        case_id: Uuid,
        identity: IdentityInput,
    ) -> Res<Arc<CaseView>> {
        let plain = identity_plain(&identity, self.clock.today())?;
        let view = self.case_in_scope(caller, case_id, Op::UpdateClientIdentity).await?;
        if view.erased {
            return Err(erased());
        }
        let id = view.id.to_string();
        let dk = self.data_key(&id).await?.ok_or_else(erased)?;
        let cmd = CaseCommand::UpdateIdentity { identity: seal_identity(&dk, &id, &plain) };
        self.run_case(caller, &view, cmd, vec![]).await
    }

    #[tracing::instrument(skip_all, fields(%case_id))]
    pub async fn give_consent(
        &self,
        caller: &Caller,
        case_id: Uuid,
        scopes: Vec<v::ConsentScope>,
        on: NaiveDate,
    ) -> Res<Arc<CaseView>> {
        self.on_case(caller, case_id, Op::ManageConsent, |_| Ok(CaseCommand::GiveConsent { scopes, given_on: on }))
            .await
    }

    /// Records (or corrects) the HTCDS profile; the whole profile is replaced.
    #[tracing::instrument(skip_all, fields(%case_id))]
    pub async fn record_victim_profile(
        &self,
        caller: &Caller,
        case_id: Uuid,
        profile: ProfileInput,
        recorded_on: Option<NaiveDate>,
    ) -> Res<Arc<CaseView>> {
        let profile = victim_profile(&profile)?;
        self.on_case(caller, case_id, Op::RecordVictimProfile, |_| {
            Ok(CaseCommand::RecordVictimProfile { profile, recorded_on })
        })
        .await
    }

    /// A guardian's or representative's consent for a minor client, after the intake.
    #[tracing::instrument(skip_all, fields(%case_id))]
    pub async fn record_guardian_consent(
        &self,
        caller: &Caller,
        case_id: Uuid,
        consent: dc::GuardianConsent,
    ) -> Res<Arc<CaseView>> {
        self.on_case(caller, case_id, Op::ManageConsent, |_| Ok(CaseCommand::RecordGuardianConsent(consent))).await
    }

    /// Withdrawing REPORT_TO_POLICE blocks new police reports; DATA_SHARING limits identity
    /// to the client's organisation and lawyer.
    #[tracing::instrument(skip_all, fields(%case_id))]
    pub async fn withdraw_consent(
        &self,
        caller: &Caller,
        case_id: Uuid,
        scopes: Vec<v::ConsentScope>,
        on: NaiveDate,
    ) -> Res<Arc<CaseView>> {
        self.on_case(caller, case_id, Op::ManageConsent, |_| {
            Ok(CaseCommand::WithdrawConsent { scopes, withdrawn_on: on })
        })
        .await
    }

    /// A referral to a protection service of the National Referral Mechanism.
    #[tracing::instrument(skip_all, fields(%case_id))]
    pub async fn refer_to_service(
        &self,
        caller: &Caller,
        case_id: Uuid,
        service: v::ProtectionService,
        referred_on: NaiveDate,
        provider: Option<String>,
    ) -> Res<Arc<CaseView>> {
        let provider = opt_text("provider", &provider)?;
        self.on_case(caller, case_id, Op::ReferToService, |_| {
            Ok(CaseCommand::ReferToService(dc::ReferToService { service, referred_on, provider }))
        })
        .await
    }

    /// Assigns (or reassigns) a case to an active lawyer with spare capacity. The lawyer's
    /// state is read from their own stream and the slot is taken in the transaction of the
    /// assignment, so two assignments racing for a last free slot cannot both succeed.
    #[tracing::instrument(skip_all, fields(%case_id, %lawyer_id))]
    pub async fn assign_lawyer(
        &self,
        caller: &Caller,
        case_id: Uuid,
        lawyer_id: Uuid,
        assigned_on: Option<NaiveDate>,
    ) -> Res<Arc<CaseView>> {
        // Access first: a caller who may not assign learns nothing about the lawyer.
        let mut view = self.case_in_scope(caller, case_id, Op::AssignLawyer).await?;
        let mut attempts = 0;
        loop {
            let lawyer = self.cqrs.load::<Lawyer>(&lawyer_id.to_string()).await?.aggregate;
            if !lawyer.registered {
                return Err(ApiError::NotFound(format!("no lawyer {lawyer_id}")));
            }
            if !lawyer.active {
                return Err(ApiError::Rule("the lawyer is deactivated".into()));
            }
            let guards = vec![
                SlotChange::Release { case_id },
                SlotChange::Take { case_id, lawyer_id, capacity: lawyer.max_active_cases },
            ];
            match self.run_case(caller, &view, CaseCommand::AssignLawyer { lawyer_id, assigned_on }, guards).await {
                // Another assignment or change of this case or lawyer won: decide again on
                // the state it left (a full lawyer is then refused as such).
                Err(ApiError::Conflict) if attempts < 3 => {
                    attempts += 1;
                    view = self.case_in_scope(caller, case_id, Op::AssignLawyer).await?;
                }
                other => return other,
            }
        }
    }

    #[tracing::instrument(skip_all, fields(%case_id))]
    pub async fn accept_assignment(
        &self,
        caller: &Caller,
        case_id: Uuid,
        accepted_on: Option<NaiveDate>,
    ) -> Res<Arc<CaseView>> {
        self.on_case(caller, case_id, Op::AnswerAssignment, |_| Ok(CaseCommand::AcceptAssignment { accepted_on })).await
    }

    /// Declining frees the lawyer's slot.
    #[tracing::instrument(skip_all, fields(%case_id))]
    pub async fn decline_assignment(
        &self,
        caller: &Caller,
        case_id: Uuid,
        reason: &str,
        declined_on: Option<NaiveDate>,
    ) -> Res<Arc<CaseView>> {
        let reason = text("reason", reason)?;
        let view = self.case_in_scope(caller, case_id, Op::AnswerAssignment).await?;
        let cmd = CaseCommand::DeclineAssignment { reason, declined_on };
        self.run_case(caller, &view, cmd, vec![SlotChange::Release { case_id }]).await
    }

    #[tracing::instrument(skip_all, fields(%case_id))]
    pub async fn record_legal_action(
        &self,
        caller: &Caller,
        case_id: Uuid,
        input: LegalActionInput,
    ) -> Res<Arc<CaseView>> {
        // Access first: a caller without it must not learn whether the client was erased.
        let view = self.case_in_scope(caller, case_id, Op::LegalAction).await?;
        let note = match &input.note {
            Some(n) => {
                let n = v::parse_long_text("note", n, 20_000)?;
                let id = view.id.to_string();
                let dk = self.data_key(&id).await?.ok_or_else(erased)?;
                Some(seal_note(&dk, &id, &n))
            }
            None => None,
        };
        let cmd =
            CaseCommand::RecordLegalAction(dc::RecordLegalAction { kind: input.kind, taken_on: input.taken_on, note });
        self.run_case(caller, &view, cmd, vec![]).await
    }

    #[tracing::instrument(skip_all, fields(%case_id))]
    pub async fn file_police_report(
        &self,
        caller: &Caller,
        case_id: Uuid,
        input: PoliceReportInput,
    ) -> Res<Arc<CaseView>> {
        let police_unit = text("policeUnit", &input.police_unit)?;
        let reference_number = opt_text("referenceNumber", &input.reference_number)?;
        self.on_case(caller, case_id, Op::LegalAction, |_| {
            Ok(CaseCommand::FilePoliceReport(dc::FilePoliceReport {
                initiated_by: input.initiated_by,
                report_id: input.report_id.unwrap_or_else(Uuid::new_v4),
                filed_on: input.filed_on,
                police_unit,
                reference_number,
            }))
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(%case_id))]
    pub async fn record_offense_registration(
        &self,
        caller: &Caller,
        case_id: Uuid,
        input: RegistrationInput,
    ) -> Res<Arc<CaseView>> {
        let offense = self.offense_ref(&input.offense_code).await?;
        let registry_number = opt_text("registryNumber", &input.registry_number)?;
        self.on_case(caller, case_id, Op::LegalAction, |_| {
            Ok(CaseCommand::RecordOffenseRegistration(dc::RecordOffenseRegistration {
                decided_by: input.decided_by,
                report_id: input.report_id,
                offense,
                registered_on: input.registered_on,
                registry_number,
            }))
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(%case_id))]
    pub async fn record_registration_refused(
        &self,
        caller: &Caller,
        case_id: Uuid,
        input: RefusalInput,
    ) -> Res<Arc<CaseView>> {
        let reason = text("reason", &input.reason)?;
        self.on_case(caller, case_id, Op::LegalAction, |_| {
            Ok(CaseCommand::RecordRegistrationRefused(dc::RecordRegistrationRefused {
                decided_by: input.decided_by,
                report_id: input.report_id,
                decided_on: input.decided_on,
                reason,
            }))
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(%case_id))]
    pub async fn reclassify_offense(
        &self,
        caller: &Caller,
        case_id: Uuid,
        input: ReclassificationInput,
    ) -> Res<Arc<CaseView>> {
        let offense = self.offense_ref(&input.offense_code).await?;
        let reason = text("reason", &input.reason)?;
        self.on_case(caller, case_id, Op::LegalAction, |_| {
            Ok(CaseCommand::ReclassifyOffense(dc::ReclassifyOffense {
                report_id: input.report_id,
                offense,
                decided_on: input.decided_on,
                decided_by: input.decided_by,
                reason,
            }))
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(%case_id))]
    pub async fn record_investigation_outcome(
        &self,
        caller: &Caller,
        case_id: Uuid,
        input: InvestigationOutcomeInput,
    ) -> Res<Arc<CaseView>> {
        let note = opt_text("note", &input.note)?;
        self.on_case(caller, case_id, Op::LegalAction, |_| {
            Ok(CaseCommand::RecordInvestigationOutcome(dc::RecordInvestigationOutcome {
                decided_by: input.decided_by,
                report_id: input.report_id,
                outcome: input.outcome,
                decided_on: input.decided_on,
                note,
            }))
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(%case_id))]
    pub async fn record_verdict(&self, caller: &Caller, case_id: Uuid, input: VerdictInput) -> Res<Arc<CaseView>> {
        let offense = match &input.offense_code {
            Some(code) => Some(self.offense_ref(code).await?),
            None => None,
        };
        let sentence_months = sentence(input.sentence_months)?;
        self.on_case(caller, case_id, Op::LegalAction, |_| {
            Ok(CaseCommand::RecordVerdict(dc::RecordVerdict {
                instance: input.instance.unwrap_or_default(),
                report_id: input.report_id,
                outcome: input.outcome,
                offense,
                decided_on: input.decided_on,
                sentence_months,
                compensation_awarded: input.compensation_awarded,
            }))
        })
        .await
    }

    /// Records an accused person on a police report (no name: it is not stored).
    #[tracing::instrument(skip_all, fields(%case_id))]
    pub async fn add_defendant(&self, caller: &Caller, case_id: Uuid, input: DefendantInput) -> Res<Arc<CaseView>> {
        let age_at_offense = input
            .age_at_offense
            .map(|a| u8::try_from(a).ok().filter(|a| *a <= 120))
            .map(|a| a.ok_or_else(|| ApiError::BadInput("ageAtOffense must be between 0 and 120".into())))
            .transpose()?;
        let citizenship = input.citizenship.as_deref().map(|s| CountryCode::parse("citizenship", s)).transpose()?;
        let charged_with = match &input.charged_with {
            Some(code) => Some(self.offense_ref(code).await?),
            None => None,
        };
        self.on_case(caller, case_id, Op::RecordDefendant, |_| {
            Ok(CaseCommand::AddDefendant(dc::AddDefendant {
                report_id: input.report_id,
                defendant_id: input.defendant_id.unwrap_or_else(Uuid::new_v4),
                gender: input.gender,
                age_at_offense,
                citizenship,
                role: input.role,
                charged_with,
                charged_on: input.charged_on,
                relationship: input.relationship,
            }))
        })
        .await
    }

    /// One defendant's own court outcome.
    #[tracing::instrument(skip_all, fields(%case_id))]
    pub async fn record_defendant_verdict(
        &self,
        caller: &Caller,
        case_id: Uuid,
        input: DefendantVerdictInput,
    ) -> Res<Arc<CaseView>> {
        let offense = match &input.offense_code {
            Some(code) => Some(self.offense_ref(code).await?),
            None => None,
        };
        let sentence_months = sentence(input.sentence_months)?;
        self.on_case(caller, case_id, Op::RecordDefendant, |_| {
            Ok(CaseCommand::RecordDefendantVerdict(dc::RecordDefendantVerdict {
                report_id: input.report_id,
                defendant_id: input.defendant_id,
                outcome: input.outcome,
                offense,
                decided_on: input.decided_on,
                sentence_months,
            }))
        })
        .await
    }

    /// A step of the client's compensation claim on a report: claimed, awarded, paid.
    #[tracing::instrument(skip_all, fields(%case_id))]
    pub async fn record_compensation(
        &self,
        caller: &Caller,
        case_id: Uuid,
        input: CompensationInput,
    ) -> Res<Arc<CaseView>> {
        let amount = u64::try_from(input.amount)
            .map_err(|_| ApiError::BadInput("amount must be a positive whole number".into()))?;
        let currency = v::CurrencyCode::parse("currency", &input.currency)?;
        self.on_case(caller, case_id, Op::RecordCompensation, |_| {
            Ok(CaseCommand::RecordCompensation(dc::RecordCompensation {
                report_id: input.report_id,
                step: input.step,
                amount,
                currency,
                on: input.on.unwrap_or_else(|| self.clock.today()),
            }))
        })
        .await
    }

    /// Closing frees the lawyer's slot.
    #[tracing::instrument(skip_all, fields(%case_id))]
    pub async fn close_case(
        &self,
        caller: &Caller,
        case_id: Uuid,
        reason: &str,
        closed_on: Option<NaiveDate>,
    ) -> Res<Arc<CaseView>> {
        let reason = text("reason", reason)?;
        let view = self.case_in_scope(caller, case_id, Op::CloseCase).await?;
        let cmd = CaseCommand::CloseCase { reason, closed_on };
        self.run_case(caller, &view, cmd, vec![SlotChange::Release { case_id }]).await
    }

    /// Reopening gives the assigned lawyer the case back, over their capacity if need be:
    /// the case was theirs.
    #[tracing::instrument(skip_all, fields(%case_id))]
    pub async fn reopen_case(
        &self,
        caller: &Caller,
        case_id: Uuid,
        reason: &str,
        reopened_on: Option<NaiveDate>,
    ) -> Res<Arc<CaseView>> {
        let reason = text("reason", reason)?;
        let view = self.case_in_scope(caller, case_id, Op::ReopenCase).await?;
        let guards = match view.assignment.as_ref().map(|a| a.lawyer_id) {
            Some(lawyer_id) => vec![SlotChange::Take { case_id, lawyer_id, capacity: None }],
            None => vec![],
        };
        self.run_case(caller, &view, CaseCommand::ReopenCase { reason, reopened_on }, guards).await
    }

    /// Crypto-shredding: destroys the case's data key, so its identity can never be read
    /// again; the events and statistics stay.
    #[tracing::instrument(skip_all, fields(%case_id))]
    pub async fn erase_client_data(&self, caller: &Caller, case_id: Uuid, reason: &str) -> Res<Arc<CaseView>> {
        let view = self.case_in_scope(caller, case_id, Op::EraseClientData).await?;
        if view.erased {
            return Err(ApiError::Rule(CaseError::AlreadyErased.to_string()));
        }
        let reason = text("reason", reason)?;
        // The key goes first: once gone, nothing can bring the identity back, whatever
        // happens to the command that records it. Its row is deleted and every other data
        // key moves to a new key epoch whose KEK replaces the old one, so a copy of the row
        // (PostgreSQL heap and WAL, backups, snapshots) opens nothing (ADR 0009).
        let change = self.keyring.erase(&self.db, &view.id.to_string()).await.map_err(|e| match e {
            keys::KeyError::Database(e) => ApiError::from(e),
            other => ApiError::internal(other),
        })?;
        tracing::info!(epoch = change.epoch, rewrapped = change.rewrapped, "client data key destroyed");
        let result = self.run_case(caller, &view, CaseCommand::EraseClientData { reason }, vec![]).await;
        // Once the erasure is on record: no stale copy of the key stays in the files.
        keys::scrub_deleted_keys(&self.db).await;
        result
    }
}

/// A sentence in months, 0 to 1200.
fn sentence(months: Option<i64>) -> Res<Option<u16>> {
    months
        .map(|m| u16::try_from(m).ok().filter(|m| *m <= 1200))
        .map(|m| m.ok_or_else(|| ApiError::BadInput("sentenceMonths must be between 0 and 1200".into())))
        .transpose()
}
