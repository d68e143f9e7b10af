//! The proceedings: hearings, complaints, appeals, transfer, referral outcomes, victim
//! status (mutations on a case), and deadlines with their rules.

use super::Case;
use crate::app::proceedings as up;
use crate::graphql::enums::*;
use crate::graphql::scalars::Date;
use crate::graphql::{app, caller, parse_id, Res};
use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use projections::model::case::{ComplaintView, HearingView};
use projections::model::deadlines::{Due, DueSource};

/// A court hearing; `on` is its current day (after any postponement).
#[derive(SimpleObject)]
pub struct Hearing {
    pub id: ID,
    pub on: Date,
    pub court: String,
    pub instance: CourtInstance,
    pub held: bool,
    pub postponements: Vec<Postponement>,
}

#[derive(SimpleObject)]
pub struct Postponement {
    pub from: Date,
    pub to: Date,
    pub postponed_on: Date,
}

impl From<&HearingView> for Hearing {
    fn from(h: &HearingView) -> Self {
        Hearing {
            id: ID(h.id.to_string()),
            on: Date(h.on),
            court: h.court.clone(),
            instance: h.instance.into(),
            held: h.held,
            postponements: h
                .postponements
                .iter()
                .map(|(from, to, on)| Postponement { from: Date(*from), to: Date(*to), postponed_on: Date(*on) })
                .collect(),
        }
    }
}

/// A complaint against a refusal to register, a termination or the qualification.
#[derive(SimpleObject)]
pub struct Complaint {
    pub id: ID,
    pub against: ComplaintSubject,
    pub filed_with: ComplaintAddressee,
    pub filed_on: Date,
    pub status: ComplaintStatus,
    pub decided_on: Option<Date>,
}

impl From<&ComplaintView> for Complaint {
    fn from(c: &ComplaintView) -> Self {
        let status = match c.decision.map(|d| d.0) {
            None => ComplaintStatus::Pending,
            Some(domain::values::ComplaintOutcome::Upheld) => ComplaintStatus::Upheld,
            Some(domain::values::ComplaintOutcome::Rejected) => ComplaintStatus::Rejected,
        };
        Complaint {
            id: ID(c.id.to_string()),
            against: c.against.into(),
            filed_with: c.filed_with.into(),
            filed_on: Date(c.filed_on),
            status,
            decided_on: c.decision.map(|d| Date(d.1)),
        }
    }
}

/// An appeal of a verdict to a higher instance.
#[derive(SimpleObject)]
pub struct Appeal {
    pub id: ID,
    pub instance: CourtInstance,
    pub filed_on: Date,
    /// The instance's verdict is recorded.
    pub decided: bool,
}

/// Where a time limit is written.
#[derive(SimpleObject)]
pub struct Citation {
    pub article: String,
    pub code: String,
    pub url: String,
}

/// Something due on a case: a hearing ahead, or a time limit of a rule.
#[derive(SimpleObject)]
pub struct Deadline {
    pub case_id: ID,
    pub due_on: Date,
    /// What is due, in English (`whatRu`, `whatKy` where the rule gives them).
    pub what: String,
    /// The day passed and nothing on record meets it (a hearing: not recorded as held).
    pub overdue: bool,
    pub report_id: ID,
    pub kind: DeadlineKind,
    pub what_ru: Option<String>,
    pub what_ky: Option<String>,
    /// The rule's id, for a time limit.
    pub rule_id: Option<String>,
    /// The rule's source, for a time limit.
    pub citation: Option<Citation>,
    /// The hearing, for a hearing.
    pub hearing_id: Option<ID>,
    pub court: Option<String>,
    pub instance: Option<CourtInstance>,
}

impl From<Due> for Deadline {
    fn from(d: Due) -> Self {
        let mut out = Deadline {
            case_id: ID(d.case_id.to_string()),
            due_on: Date(d.due_on),
            what: d.what,
            overdue: d.overdue,
            report_id: ID(d.report_id.to_string()),
            kind: DeadlineKind::Rule,
            what_ru: None,
            what_ky: None,
            rule_id: None,
            citation: None,
            hearing_id: None,
            court: None,
            instance: None,
        };
        match d.source {
            DueSource::Hearing { hearing_id, instance, court } => {
                out.kind = DeadlineKind::Hearing;
                out.hearing_id = Some(ID(hearing_id.to_string()));
                out.instance = Some(instance.into());
                out.court = Some(court);
            }
            DueSource::Rule { rule_id, citation, what_ru, what_ky } => {
                out.rule_id = Some(rule_id);
                out.citation = Some(Citation { article: citation.article, code: citation.code, url: citation.url });
                out.what_ru = what_ru;
                out.what_ky = what_ky;
            }
        }
        out
    }
}

/// A procedural time limit: `days` after a fact of kind `after`, `what` is due, unless a
/// fact of a kind in `metBy` came on or after it.
#[derive(SimpleObject)]
pub struct DeadlineRule {
    pub id: String,
    pub after: DeadlineEvent,
    pub days: i32,
    pub what: String,
    pub what_ru: Option<String>,
    pub what_ky: Option<String>,
    pub met_by: Vec<DeadlineEvent>,
    pub applies_from: Option<Date>,
    pub applies_until: Option<Date>,
    pub citation: Citation,
    pub retired: bool,
}

impl From<(domain::deadline::DeadlineRule, bool)> for DeadlineRule {
    fn from((r, retired): (domain::deadline::DeadlineRule, bool)) -> Self {
        DeadlineRule {
            id: r.id,
            after: r.after.into(),
            days: i32::from(r.days),
            what: r.what,
            what_ru: r.what_ru,
            what_ky: r.what_ky,
            met_by: r.met_by.into_iter().map(Into::into).collect(),
            applies_from: r.applies_from.map(Date),
            applies_until: r.applies_until.map(Date),
            citation: Citation { article: r.citation.article, code: r.citation.code, url: r.citation.url },
            retired,
        }
    }
}

#[derive(Default)]
pub struct DeadlineQuery;

#[Object]
impl DeadlineQuery {
    /// What is due on the caller's open cases (a lawyer's own; an intake worker's
    /// organisation's; every case for oversight roles), of one lawyer if `lawyerId` is
    /// given, due within `dueWithinDays` from today (0–3650; overdue ones always), earliest
    /// first. Hearings ahead are due on their day.
    async fn deadlines(
        &self,
        ctx: &Context<'_>,
        lawyer_id: Option<ID>,
        due_within_days: Option<i32>,
    ) -> Res<Vec<Deadline>> {
        let lawyer_id = crate::graphql::opt_id("lawyerId", &lawyer_id)?;
        let due = Box::pin(app(ctx)?.deadlines(caller(ctx)?, lawyer_id, due_within_days.map(i64::from))).await?;
        Ok(due.into_iter().map(Deadline::from).collect())
    }

    /// The deadline rules, retired ones included.
    async fn deadline_rules(&self, ctx: &Context<'_>) -> Res<Vec<DeadlineRule>> {
        Ok(Box::pin(app(ctx)?.deadline_rules(caller(ctx)?)).await?.into_iter().map(DeadlineRule::from).collect())
    }
}

#[derive(InputObject)]
pub struct ScheduleHearingInput {
    pub case_id: ID,
    pub report_id: ID,
    /// The day the court set: may lie ahead.
    pub on: Date,
    pub court: String,
    /// FIRST_INSTANCE when left out.
    pub instance: Option<CourtInstance>,
}

#[derive(InputObject)]
pub struct HearingRefInput {
    pub case_id: ID,
    pub report_id: ID,
    pub hearing_id: ID,
}

#[derive(InputObject)]
pub struct PostponeHearingInput {
    pub case_id: ID,
    pub report_id: ID,
    pub hearing_id: ID,
    /// The new day.
    pub to: Date,
    /// The day of the court's decision to postpone; today when left out.
    pub postponed_on: Option<Date>,
    pub reason: Option<String>,
}

#[derive(InputObject)]
pub struct FileComplaintInput {
    pub case_id: ID,
    pub report_id: ID,
    pub against: ComplaintSubject,
    pub filed_with: ComplaintAddressee,
    /// Today when left out; not before the decision complained of.
    pub filed_on: Option<Date>,
}

#[derive(InputObject)]
pub struct DecideComplaintInput {
    pub case_id: ID,
    pub report_id: ID,
    pub complaint_id: ID,
    pub outcome: ComplaintOutcome,
    pub decided_on: Option<Date>,
}

#[derive(InputObject)]
pub struct FileAppealInput {
    pub case_id: ID,
    pub report_id: ID,
    /// APPEAL or CASSATION: higher than the verdict in force.
    pub instance: CourtInstance,
    pub filed_on: Option<Date>,
}

#[derive(InputObject)]
pub struct TransferCaseInput {
    pub case_id: ID,
    pub organization_id: ID,
    pub reason: String,
    pub transferred_on: Option<Date>,
}

#[derive(InputObject)]
pub struct RecordReferralOutcomeInput {
    pub case_id: ID,
    /// The referral's position in `Case.referrals`, from 0.
    pub referral: i32,
    pub outcome: ReferralOutcome,
    pub on: Option<Date>,
}

#[derive(InputObject)]
pub struct RecordVictimStatusInput {
    pub case_id: ID,
    pub granted: bool,
    /// The body that decided.
    pub decided_by: String,
    pub decided_on: Option<Date>,
}

#[derive(InputObject)]
pub struct DeadlineRuleInput {
    /// A short stable name (letters, digits, '-', '.'); an existing id is replaced.
    pub id: String,
    pub after: DeadlineEvent,
    /// Calendar days, 1–3650.
    pub days: i32,
    pub what: String,
    pub what_ru: Option<String>,
    pub what_ky: Option<String>,
    pub met_by: Option<Vec<DeadlineEvent>>,
    pub applies_from: Option<Date>,
    pub applies_until: Option<Date>,
    /// The article (and part) of the Criminal Procedure Code.
    pub article: String,
    /// The code and its edition.
    pub code: String,
    /// The official text.
    pub url: String,
}

#[derive(Default)]
pub struct CourtMutation;

#[Object]
impl CourtMutation {
    /// A court hearing on a report: its day may lie ahead.
    async fn schedule_hearing(&self, ctx: &Context<'_>, input: ScheduleHearingInput) -> Res<Case> {
        let id = parse_id("caseId", &input.case_id)?;
        let h = up::HearingInput {
            report_id: parse_id("reportId", &input.report_id)?,
            hearing_id: None,
            on: input.on.0,
            court: input.court,
            instance: input.instance.map(Into::into).unwrap_or_default(),
        };
        Ok(Case(Box::pin(app(ctx)?.schedule_hearing(caller(ctx)?, id, h)).await?))
    }

    /// The hearing took place on its day (which must not lie ahead).
    async fn record_hearing_held(&self, ctx: &Context<'_>, input: HearingRefInput) -> Res<Case> {
        let id = parse_id("caseId", &input.case_id)?;
        let report = parse_id("reportId", &input.report_id)?;
        let hearing = parse_id("hearingId", &input.hearing_id)?;
        Ok(Case(Box::pin(app(ctx)?.record_hearing_held(caller(ctx)?, id, report, hearing)).await?))
    }

    /// The court moved the hearing to another day.
    async fn postpone_hearing(&self, ctx: &Context<'_>, input: PostponeHearingInput) -> Res<Case> {
        let id = parse_id("caseId", &input.case_id)?;
        let p = up::PostponementInput {
            report_id: parse_id("reportId", &input.report_id)?,
            hearing_id: parse_id("hearingId", &input.hearing_id)?,
            to: input.to.0,
            postponed_on: input.postponed_on.map(|d| d.0),
            reason: input.reason,
        };
        Ok(Case(Box::pin(app(ctx)?.postpone_hearing(caller(ctx)?, id, p)).await?))
    }

    async fn file_complaint(&self, ctx: &Context<'_>, input: FileComplaintInput) -> Res<Case> {
        let id = parse_id("caseId", &input.case_id)?;
        let c = up::ComplaintInput {
            report_id: parse_id("reportId", &input.report_id)?,
            complaint_id: None,
            against: input.against.into(),
            filed_with: input.filed_with.into(),
            filed_on: input.filed_on.map(|d| d.0),
        };
        Ok(Case(Box::pin(app(ctx)?.file_complaint(caller(ctx)?, id, c)).await?))
    }

    async fn decide_complaint(&self, ctx: &Context<'_>, input: DecideComplaintInput) -> Res<Case> {
        let id = parse_id("caseId", &input.case_id)?;
        let report = parse_id("reportId", &input.report_id)?;
        let complaint = parse_id("complaintId", &input.complaint_id)?;
        let on = input.decided_on.map(|d| d.0);
        Ok(Case(
            Box::pin(app(ctx)?.decide_complaint(caller(ctx)?, id, report, complaint, input.outcome.into(), on)).await?,
        ))
    }

    /// An appeal of the verdict in force to a higher instance; that instance's verdict is
    /// then recorded with `recordVerdict(instance: …)` and replaces it.
    async fn file_appeal(&self, ctx: &Context<'_>, input: FileAppealInput) -> Res<Case> {
        let id = parse_id("caseId", &input.case_id)?;
        let a = up::AppealInput {
            report_id: parse_id("reportId", &input.report_id)?,
            appeal_id: None,
            instance: input.instance.into(),
            filed_on: input.filed_on.map(|d| d.0),
        };
        Ok(Case(Box::pin(app(ctx)?.file_appeal(caller(ctx)?, id, a)).await?))
    }

    /// Moves the case to another organisation; needs the client's consent to data sharing.
    async fn transfer_case(&self, ctx: &Context<'_>, input: TransferCaseInput) -> Res<Case> {
        let id = parse_id("caseId", &input.case_id)?;
        let org = parse_id("organizationId", &input.organization_id)?;
        let on = input.transferred_on.map(|d| d.0);
        Ok(Case(Box::pin(app(ctx)?.transfer_case(caller(ctx)?, id, org, &input.reason, on)).await?))
    }

    async fn record_referral_outcome(&self, ctx: &Context<'_>, input: RecordReferralOutcomeInput) -> Res<Case> {
        let id = parse_id("caseId", &input.case_id)?;
        let on = input.on.map(|d| d.0);
        let app = app(ctx)?;
        Ok(Case(
            app.record_referral_outcome(caller(ctx)?, id, i64::from(input.referral), input.outcome.into(), on).await?,
        ))
    }

    /// The formal decision on the client's status as a victim.
    async fn record_victim_status(&self, ctx: &Context<'_>, input: RecordVictimStatusInput) -> Res<Case> {
        let id = parse_id("caseId", &input.case_id)?;
        let on = input.decided_on.map(|d| d.0);
        Ok(Case(
            Box::pin(app(ctx)?.record_victim_status(caller(ctx)?, id, input.granted, &input.decided_by, on)).await?,
        ))
    }

    /// Adds a deadline rule or replaces the one with its id (ADMIN). Enter only limits
    /// verified from the code's text, with their citation.
    async fn set_deadline_rule(&self, ctx: &Context<'_>, input: DeadlineRuleInput) -> Res<DeadlineRule> {
        let rule = up::RuleInput {
            id: input.id,
            after: input.after.into(),
            days: i64::from(input.days),
            what: input.what,
            what_ru: input.what_ru,
            what_ky: input.what_ky,
            met_by: input.met_by.unwrap_or_default().into_iter().map(Into::into).collect(),
            applies_from: input.applies_from.map(|d| d.0),
            applies_until: input.applies_until.map(|d| d.0),
            article: input.article,
            code: input.code,
            url: input.url,
        };
        Ok(Box::pin(app(ctx)?.set_deadline_rule(caller(ctx)?, rule)).await?.into())
    }

    /// Retires a deadline rule (ADMIN); it stays listed, no longer applied.
    async fn retire_deadline_rule(&self, ctx: &Context<'_>, id: String, reason: String) -> Res<DeadlineRule> {
        Ok(Box::pin(app(ctx)?.retire_deadline_rule(caller(ctx)?, &id, &reason)).await?.into())
    }
}
