//! Case mutations: each translates its input into the application's use case.

use super::Case;
use crate::app::cases as uc;
use crate::graphql::enums::*;
use crate::graphql::scalars::Date;
use crate::graphql::{app, caller, opt_id, parse_id, Res};
use async_graphql::{Context, InputObject, Object, ID};

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
    /// Details for the IOM Human Trafficking Case Data Standard; all optional.
    pub profile: Option<HtcdsProfileInput>,
    /// For a client under 18: who consented on their behalf, and when. Legal-aid consent
    /// of a minor needs it.
    pub guardian_consent: Option<GuardianConsentInput>,
}

/// The HTCDS profile (docs/htcds.md): nothing here identifies the client.
#[derive(InputObject, Default)]
pub struct HtcdsProfileInput {
    #[graphql(default)]
    pub recruitment: Vec<RecruitmentMethod>,
    #[graphql(default)]
    pub means_of_control: Vec<MeansOfControl>,
    pub recruiter_relationship: Option<RecruiterRelationship>,
    /// ISIC Rev.4 section of the industry of forced labour.
    pub industry: Option<IsicSection>,
    /// A region of the Kyrgyz Republic (BISHKEK, OSH, …) or an ISO 3166-1 alpha-2 code.
    pub place_of_recruitment: Option<String>,
    pub migration_status: Option<MigrationStatus>,
    /// ISO 639-1 (ky, ru, uz, …).
    pub primary_language: Option<String>,
}

impl HtcdsProfileInput {
    fn into_app(self) -> uc::ProfileInput {
        uc::ProfileInput {
            recruitment: self.recruitment.into_iter().map(Into::into).collect(),
            means_of_control: self.means_of_control.into_iter().map(Into::into).collect(),
            recruiter_relationship: self.recruiter_relationship.map(Into::into),
            industry: self.industry.map(Into::into),
            place_of_recruitment: self.place_of_recruitment,
            migration_status: self.migration_status.map(Into::into),
            primary_language: self.primary_language,
        }
    }
}

/// Consent given on a minor's behalf. No name is asked: who (the kind) and when.
#[derive(InputObject)]
pub struct GuardianConsentInput {
    pub given_by: GuardianKind,
    pub given_on: Date,
}

impl GuardianConsentInput {
    fn into_domain(self) -> domain::case::GuardianConsent {
        domain::case::GuardianConsent { given_by: self.given_by.into(), given_on: self.given_on.0 }
    }
}

#[derive(InputObject)]
pub struct RecordVictimProfileInput {
    pub case_id: ID,
    /// The whole profile: it replaces the one recorded before.
    pub profile: HtcdsProfileInput,
    /// Today when omitted.
    pub recorded_on: Option<Date>,
}

#[derive(InputObject)]
pub struct RecordGuardianConsentInput {
    pub case_id: ID,
    pub given_by: GuardianKind,
    pub given_on: Date,
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
    /// The day of the change; today when omitted.
    pub on: Option<Date>,
}

#[derive(InputObject)]
pub struct ReferToServiceInput {
    pub case_id: ID,
    pub service: ProtectionService,
    /// Today when omitted.
    pub referred_on: Option<Date>,
    pub provider: Option<String>,
}

/// `acceptAssignment`'s input.
#[derive(InputObject)]
pub struct CaseIdInput {
    pub case_id: ID,
    /// The day the lawyer accepted; today when omitted. Not before the assignment.
    pub accepted_on: Option<Date>,
}

/// The input of `declineAssignment`, `closeCase`, `reopenCase` and `eraseClientData`; each
/// takes only its own date (today when omitted).
#[derive(InputObject)]
pub struct CaseReasonInput {
    pub case_id: ID,
    pub reason: String,
    /// `declineAssignment` only.
    pub declined_on: Option<Date>,
    /// `closeCase` only.
    pub closed_on: Option<Date>,
    /// `reopenCase` only: not before the case was closed.
    pub reopened_on: Option<Date>,
}

impl CaseReasonInput {
    /// The date field meant for `op` (named `field`); any other date given is refused.
    fn date_for(&self, op: &str, field: &str) -> Res<Option<chrono::NaiveDate>> {
        let dates = [("declinedOn", self.declined_on), ("closedOn", self.closed_on), ("reopenedOn", self.reopened_on)];
        let mut mine = None;
        for (name, date) in dates {
            match date {
                Some(d) if name == field => mine = Some(d.0),
                Some(_) => {
                    return Err(crate::error::ApiError::BadInput(format!(
                        "{name} does not apply to {op}; give {}",
                        if field.is_empty() { "no date".to_string() } else { field.to_string() }
                    )))
                }
                None => {}
            }
        }
        Ok(mine)
    }
}

/// A step of the client's compensation claim on a report.
#[derive(InputObject)]
pub struct CompensationInput {
    pub case_id: ID,
    pub report_id: ID,
    /// Whole units of `currency`.
    pub amount: i64,
    /// ISO 4217, e.g. KGS.
    pub currency: String,
    /// The day of the claim, award or payment; today when omitted.
    pub on: Option<Date>,
}

#[derive(InputObject)]
pub struct AddDefendantInput {
    pub case_id: ID,
    pub report_id: ID,
    pub gender: Gender,
    pub age_at_offense: Option<i32>,
    /// ISO 3166-1 alpha-2.
    pub citizenship: Option<String>,
    pub role: DefendantRole,
    /// The offence code of the charge (see `offenses`), if charged.
    pub charged_with: Option<String>,
    /// The day of the charge; today when omitted. Counts fall in its year.
    pub charged_on: Option<Date>,
    /// Who the defendant was to the client, when known.
    pub relationship: Option<DefendantRelationship>,
}

#[derive(InputObject)]
pub struct RecordDefendantVerdictInput {
    pub case_id: ID,
    pub report_id: ID,
    pub defendant_id: ID,
    pub outcome: VerdictOutcome,
    /// The article the court decided on, when it differs from the charge.
    pub offense_code: Option<String>,
    pub decided_on: Date,
    pub sentence_months: Option<i32>,
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
    /// Who started the report: the lawyer, the NGO on the victim's behalf, or the police on
    /// their own initiative; not recorded when left out.
    pub initiated_by: Option<ReportInitiator>,
}

#[derive(InputObject)]
pub struct RecordOffenseRegistrationInput {
    pub case_id: ID,
    pub report_id: ID,
    pub offense_code: String,
    pub registered_on: Date,
    pub registry_number: Option<String>,
    /// The authority that registered it (as a rule the police).
    pub decided_by: Option<Authority>,
}

#[derive(InputObject)]
pub struct RecordRegistrationRefusedInput {
    pub case_id: ID,
    pub report_id: ID,
    pub decided_on: Date,
    pub reason: String,
    /// The authority that refused.
    pub decided_by: Option<Authority>,
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
    /// The authority that decided (the investigator's police, the prosecutor, a court).
    pub decided_by: Option<Authority>,
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
    /// The instance that decided: FIRST_INSTANCE when left out; APPEAL or CASSATION only
    /// after an appeal to it (fileAppeal). The last verdict is the one in force.
    pub instance: Option<CourtInstance>,
}

impl IdentityInput {
    fn into_app(self) -> uc::IdentityInput {
        uc::IdentityInput {
            full_name: self.full_name,
            date_of_birth: self.date_of_birth.map(|d| d.0),
            contact: self.contact,
            document_number: self.document_number,
            narrative: self.narrative,
        }
    }
}

/// `eraseClientData`, on its own so that the mutation root keeps the committed order.
#[derive(Default)]
pub struct ErasureMutation;

#[Object]
impl ErasureMutation {
    /// Crypto-shredding: destroys the case's data key, so its identity can never be read
    /// again; the events and statistics stay.
    async fn erase_client_data(&self, ctx: &Context<'_>, input: CaseReasonInput) -> Res<Case> {
        let id = parse_id("caseId", &input.case_id)?;
        input.date_for("eraseClientData", "")?;
        Ok(Case(Box::pin(app(ctx)?.erase_client_data(caller(ctx)?, id, &input.reason)).await?))
    }
}

/// Mutations on cases.
#[derive(Default)]
pub struct CaseMutation;

#[Object]
impl CaseMutation {
    async fn open_intake(&self, ctx: &Context<'_>, input: OpenIntakeInput) -> Res<Case> {
        let c = input.client;
        let input = uc::OpenIntakeInput {
            case_id: None,
            organization_id: opt_id("organizationId", &input.organization_id)?,
            identified_on: input.identified_on.0,
            referral_source: input.referral_source.into(),
            exploitation_types: input.exploitation_types.into_iter().map(Into::into).collect(),
            country_of_exploitation: input.country_of_exploitation,
            client: uc::ClientInput {
                gender: c.gender.into(),
                age_at_identification: c.age_at_identification.map(i64::from),
                citizenship: c.citizenship,
                region: c.region.map(Into::into),
            },
            identity: uc::IdentityInput {
                full_name: c.full_name,
                date_of_birth: c.date_of_birth.map(|d| d.0),
                contact: c.contact,
                document_number: c.document_number,
                narrative: c.narrative,
            },
            consent: domain::case::ConsentGrant {
                legal_aid: input.consent.legal_aid,
                report_to_police: input.consent.report_to_police,
                data_sharing: input.consent.data_sharing,
            },
            profile: input.profile.unwrap_or_default().into_app(),
            guardian_consent: input.guardian_consent.map(GuardianConsentInput::into_domain),
        };
        Ok(Case(Box::pin(app(ctx)?.open_intake(caller(ctx)?, input)).await?))
    }

    /// Records or corrects the case's profile for the IOM data standard (replaces it whole).
    async fn record_victim_profile(&self, ctx: &Context<'_>, input: RecordVictimProfileInput) -> Res<Case> {
        let id = parse_id("caseId", &input.case_id)?;
        let on = input.recorded_on.map(|d| d.0);
        Ok(Case(app(ctx)?.record_victim_profile(caller(ctx)?, id, input.profile.into_app(), on).await?))
    }

    /// A guardian's or representative's consent for a client under 18, after the intake.
    async fn record_guardian_consent(&self, ctx: &Context<'_>, input: RecordGuardianConsentInput) -> Res<Case> {
        let id = parse_id("caseId", &input.case_id)?;
        let g = domain::case::GuardianConsent { given_by: input.given_by.into(), given_on: input.given_on.0 };
        Ok(Case(app(ctx)?.record_guardian_consent(caller(ctx)?, id, g).await?))
    }

    /// Corrects the client's identity (sealed like at intake).
    async fn update_client_identity(&self, ctx: &Context<'_>, input: UpdateClientIdentityInput) -> Res<Case> {
        let id = parse_id("caseId", &input.case_id)?;
        Ok(Case(Box::pin(app(ctx)?.update_client_identity(caller(ctx)?, id, input.identity.into_app())).await?))
    }

    async fn give_consent(&self, ctx: &Context<'_>, input: ConsentChangeInput) -> Res<Case> {
        let id = parse_id("caseId", &input.case_id)?;
        let scopes = input.scopes.into_iter().map(Into::into).collect();
        let app = app(ctx)?;
        let on = input.on.map(|d| d.0).unwrap_or_else(|| app.clock.today());
        Ok(Case(app.give_consent(caller(ctx)?, id, scopes, on).await?))
    }

    /// Withdrawing REPORT_TO_POLICE blocks new police reports; DATA_SHARING limits identity
    /// to the client's organisation and lawyer.
    async fn withdraw_consent(&self, ctx: &Context<'_>, input: ConsentChangeInput) -> Res<Case> {
        let id = parse_id("caseId", &input.case_id)?;
        let scopes = input.scopes.into_iter().map(Into::into).collect();
        let app = app(ctx)?;
        let on = input.on.map(|d| d.0).unwrap_or_else(|| app.clock.today());
        Ok(Case(app.withdraw_consent(caller(ctx)?, id, scopes, on).await?))
    }

    /// A referral to a protection service of the National Referral Mechanism.
    async fn refer_to_service(&self, ctx: &Context<'_>, input: ReferToServiceInput) -> Res<Case> {
        let id = parse_id("caseId", &input.case_id)?;
        let app = app(ctx)?;
        let on = input.referred_on.map(|d| d.0).unwrap_or_else(|| app.clock.today());
        let case = app.refer_to_service(caller(ctx)?, id, input.service.into(), on, input.provider).await?;
        Ok(Case(case))
    }

    async fn accept_assignment(&self, ctx: &Context<'_>, input: CaseIdInput) -> Res<Case> {
        let id = parse_id("caseId", &input.case_id)?;
        let on = input.accepted_on.map(|d| d.0);
        Ok(Case(Box::pin(app(ctx)?.accept_assignment(caller(ctx)?, id, on)).await?))
    }

    async fn decline_assignment(&self, ctx: &Context<'_>, input: CaseReasonInput) -> Res<Case> {
        let id = parse_id("caseId", &input.case_id)?;
        let on = input.date_for("declineAssignment", "declinedOn")?;
        Ok(Case(Box::pin(app(ctx)?.decline_assignment(caller(ctx)?, id, &input.reason, on)).await?))
    }

    async fn record_legal_action(&self, ctx: &Context<'_>, input: RecordLegalActionInput) -> Res<Case> {
        let id = parse_id("caseId", &input.case_id)?;
        let action = uc::LegalActionInput { kind: input.kind.into(), taken_on: input.taken_on.0, note: input.note };
        Ok(Case(Box::pin(app(ctx)?.record_legal_action(caller(ctx)?, id, action)).await?))
    }

    async fn file_police_report(&self, ctx: &Context<'_>, input: FilePoliceReportInput) -> Res<Case> {
        let id = parse_id("caseId", &input.case_id)?;
        let report = uc::PoliceReportInput {
            initiated_by: input.initiated_by.map(Into::into),
            report_id: None,
            filed_on: input.filed_on.0,
            police_unit: input.police_unit,
            reference_number: input.reference_number,
        };
        Ok(Case(Box::pin(app(ctx)?.file_police_report(caller(ctx)?, id, report)).await?))
    }

    async fn record_offense_registration(&self, ctx: &Context<'_>, input: RecordOffenseRegistrationInput) -> Res<Case> {
        let id = parse_id("caseId", &input.case_id)?;
        let registration = uc::RegistrationInput {
            decided_by: input.decided_by.map(Into::into),
            report_id: parse_id("reportId", &input.report_id)?,
            offense_code: input.offense_code,
            registered_on: input.registered_on.0,
            registry_number: input.registry_number,
        };
        Ok(Case(Box::pin(app(ctx)?.record_offense_registration(caller(ctx)?, id, registration)).await?))
    }

    async fn record_registration_refused(&self, ctx: &Context<'_>, input: RecordRegistrationRefusedInput) -> Res<Case> {
        let id = parse_id("caseId", &input.case_id)?;
        let refusal = uc::RefusalInput {
            decided_by: input.decided_by.map(Into::into),
            report_id: parse_id("reportId", &input.report_id)?,
            decided_on: input.decided_on.0,
            reason: input.reason,
        };
        Ok(Case(Box::pin(app(ctx)?.record_registration_refused(caller(ctx)?, id, refusal)).await?))
    }

    async fn reclassify_offense(&self, ctx: &Context<'_>, input: ReclassifyOffenseInput) -> Res<Case> {
        let id = parse_id("caseId", &input.case_id)?;
        let change = uc::ReclassificationInput {
            report_id: parse_id("reportId", &input.report_id)?,
            offense_code: input.offense_code,
            decided_on: input.decided_on.0,
            decided_by: input.decided_by.into(),
            reason: input.reason,
        };
        Ok(Case(Box::pin(app(ctx)?.reclassify_offense(caller(ctx)?, id, change)).await?))
    }

    async fn record_investigation_outcome(
        &self,
        ctx: &Context<'_>,
        input: RecordInvestigationOutcomeInput,
    ) -> Res<Case> {
        let id = parse_id("caseId", &input.case_id)?;
        let outcome = uc::InvestigationOutcomeInput {
            decided_by: input.decided_by.map(Into::into),
            report_id: parse_id("reportId", &input.report_id)?,
            outcome: input.outcome.into(),
            decided_on: input.decided_on.0,
            note: input.note,
        };
        Ok(Case(Box::pin(app(ctx)?.record_investigation_outcome(caller(ctx)?, id, outcome)).await?))
    }

    async fn record_verdict(&self, ctx: &Context<'_>, input: RecordVerdictInput) -> Res<Case> {
        let id = parse_id("caseId", &input.case_id)?;
        let verdict = uc::VerdictInput {
            instance: input.instance.map(Into::into),
            report_id: parse_id("reportId", &input.report_id)?,
            outcome: input.outcome.into(),
            offense_code: input.offense_code,
            decided_on: input.decided_on.0,
            sentence_months: input.sentence_months.map(i64::from),
            compensation_awarded: input.compensation_awarded,
        };
        Ok(Case(Box::pin(app(ctx)?.record_verdict(caller(ctx)?, id, verdict)).await?))
    }

    async fn close_case(&self, ctx: &Context<'_>, input: CaseReasonInput) -> Res<Case> {
        let id = parse_id("caseId", &input.case_id)?;
        let on = input.date_for("closeCase", "closedOn")?;
        Ok(Case(Box::pin(app(ctx)?.close_case(caller(ctx)?, id, &input.reason, on)).await?))
    }

    async fn reopen_case(&self, ctx: &Context<'_>, input: CaseReasonInput) -> Res<Case> {
        let id = parse_id("caseId", &input.case_id)?;
        let on = input.date_for("reopenCase", "reopenedOn")?;
        Ok(Case(Box::pin(app(ctx)?.reopen_case(caller(ctx)?, id, &input.reason, on)).await?))
    }
}

/// Mutations on the proceedings of a report: defendants and compensation. Apart from
/// [`CaseMutation`] so that neither resolver's stack frame grows past what a debug build's
/// 2 MiB test threads hold.
#[derive(Default)]
pub struct ProceedingsMutation;

#[Object]
impl ProceedingsMutation {
    /// An accused person on a police report: gender, age, citizenship, role and charge.
    /// No name is taken or stored.
    async fn add_defendant(&self, ctx: &Context<'_>, input: AddDefendantInput) -> Res<Case> {
        let id = parse_id("caseId", &input.case_id)?;
        let defendant = uc::DefendantInput {
            report_id: parse_id("reportId", &input.report_id)?,
            defendant_id: None,
            gender: input.gender.into(),
            age_at_offense: input.age_at_offense.map(i64::from),
            citizenship: input.citizenship,
            role: input.role.into(),
            charged_with: input.charged_with,
            charged_on: input.charged_on.map(|d| d.0),
            relationship: input.relationship.map(Into::into),
        };
        Ok(Case(Box::pin(app(ctx)?.add_defendant(caller(ctx)?, id, defendant)).await?))
    }

    /// The client claims compensation on a report (amount, currency, day).
    async fn claim_compensation(&self, ctx: &Context<'_>, input: CompensationInput) -> Res<Case> {
        compensation(ctx, input, domain::values::CompensationStep::Claimed).await
    }

    /// The court awards compensation on a claimed report (same currency as the claim).
    async fn record_compensation_award(&self, ctx: &Context<'_>, input: CompensationInput) -> Res<Case> {
        compensation(ctx, input, domain::values::CompensationStep::Awarded).await
    }

    /// A payment of awarded compensation; payments may not exceed the award.
    async fn record_compensation_payment(&self, ctx: &Context<'_>, input: CompensationInput) -> Res<Case> {
        compensation(ctx, input, domain::values::CompensationStep::Paid).await
    }

    /// One defendant's own court outcome (the report must have been sent to court).
    async fn record_defendant_verdict(&self, ctx: &Context<'_>, input: RecordDefendantVerdictInput) -> Res<Case> {
        let id = parse_id("caseId", &input.case_id)?;
        let verdict = uc::DefendantVerdictInput {
            report_id: parse_id("reportId", &input.report_id)?,
            defendant_id: parse_id("defendantId", &input.defendant_id)?,
            outcome: input.outcome.into(),
            offense_code: input.offense_code,
            decided_on: input.decided_on.0,
            sentence_months: input.sentence_months.map(i64::from),
        };
        Ok(Case(Box::pin(app(ctx)?.record_defendant_verdict(caller(ctx)?, id, verdict)).await?))
    }
}

/// The three compensation mutations differ only by their step.
async fn compensation(
    ctx: &Context<'_>,
    input: CompensationInput,
    step: domain::values::CompensationStep,
) -> Res<Case> {
    let id = parse_id("caseId", &input.case_id)?;
    let step_input = uc::CompensationInput {
        report_id: parse_id("reportId", &input.report_id)?,
        step,
        amount: input.amount,
        currency: input.currency,
        on: input.on.map(|d| d.0),
    };
    Ok(Case(Box::pin(app(ctx)?.record_compensation(caller(ctx)?, id, step_input)).await?))
}
