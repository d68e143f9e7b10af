//! Use cases on the proceedings: hearings, complaints, appeals, the transfer of a case, the
//! outcome of a referral, the victim-status decision; the deadline rules and what is due.

use super::cases::{opt_text, text};
use super::{App, Caller};
use crate::access::Op;
use crate::error::ApiError;
use chrono::NaiveDate;
use domain::case::{CaseCommand, ProceedingsCommand as P};
use domain::deadline::{Citation, DeadlineEvent, DeadlineRule, DeadlineRules, RulesCommand, RULES_ID};
use domain::organization::Organization;
use domain::values::{self as v, Role};
use projections::model::deadlines::{self, Due};
use projections::model::CaseView;
use projections::store::{self, CaseFilter};
use std::sync::Arc;
use uuid::Uuid;

type Res<T> = Result<T, ApiError>;

#[derive(Debug, Clone)]
pub struct HearingInput {
    pub report_id: Uuid,
    /// The hearing's id; a new one when `None`.
    pub hearing_id: Option<Uuid>,
    /// The day set by the court: may lie ahead.
    pub on: NaiveDate,
    pub court: String,
    pub instance: v::CourtInstance,
}

#[derive(Debug, Clone)]
pub struct PostponementInput {
    pub report_id: Uuid,
    pub hearing_id: Uuid,
    pub to: NaiveDate,
    pub postponed_on: Option<NaiveDate>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ComplaintInput {
    pub report_id: Uuid,
    pub complaint_id: Option<Uuid>,
    pub against: v::ComplaintSubject,
    pub filed_with: v::ComplaintAddressee,
    pub filed_on: Option<NaiveDate>,
}

#[derive(Debug, Clone)]
pub struct AppealInput {
    pub report_id: Uuid,
    pub appeal_id: Option<Uuid>,
    pub instance: v::CourtInstance,
    pub filed_on: Option<NaiveDate>,
}

/// A deadline rule as an ADMIN enters it.
#[derive(Debug, Clone)]
pub struct RuleInput {
    pub id: String,
    pub after: DeadlineEvent,
    pub days: i64,
    pub what: String,
    pub what_ru: Option<String>,
    pub what_ky: Option<String>,
    pub met_by: Vec<DeadlineEvent>,
    pub applies_from: Option<NaiveDate>,
    pub applies_until: Option<NaiveDate>,
    pub article: String,
    pub code: String,
    pub url: String,
}

impl App {
    async fn proceedings(&self, caller: &Caller, case_id: Uuid, op: Op, cmd: P) -> Res<Arc<CaseView>> {
        self.on_case(caller, case_id, op, |_| Ok(CaseCommand::Proceedings(cmd))).await
    }

    #[tracing::instrument(skip_all, fields(%case_id))]
    pub async fn schedule_hearing(&self, caller: &Caller, case_id: Uuid, input: HearingInput) -> Res<Arc<CaseView>> {
        let court = text("court", &input.court)?;
        let cmd = P::ScheduleHearing {
            report_id: input.report_id,
            hearing_id: input.hearing_id.unwrap_or_else(Uuid::new_v4),
            on: input.on,
            court,
            instance: input.instance,
        };
        self.proceedings(caller, case_id, Op::LegalAction, cmd).await
    }

    #[tracing::instrument(skip_all, fields(%case_id))]
    pub async fn record_hearing_held(
        &self,
        caller: &Caller,
        case_id: Uuid,
        report_id: Uuid,
        hearing_id: Uuid,
    ) -> Res<Arc<CaseView>> {
        self.proceedings(caller, case_id, Op::LegalAction, P::RecordHearingHeld { report_id, hearing_id }).await
    }

    #[tracing::instrument(skip_all, fields(%case_id))]
    pub async fn postpone_hearing(
        &self,
        caller: &Caller,
        case_id: Uuid,
        input: PostponementInput,
    ) -> Res<Arc<CaseView>> {
        let reason = opt_text("reason", &input.reason)?;
        let cmd = P::PostponeHearing {
            report_id: input.report_id,
            hearing_id: input.hearing_id,
            to: input.to,
            postponed_on: input.postponed_on,
            reason,
        };
        self.proceedings(caller, case_id, Op::LegalAction, cmd).await
    }

    #[tracing::instrument(skip_all, fields(%case_id))]
    pub async fn file_complaint(&self, caller: &Caller, case_id: Uuid, input: ComplaintInput) -> Res<Arc<CaseView>> {
        let cmd = P::FileComplaint {
            report_id: input.report_id,
            complaint_id: input.complaint_id.unwrap_or_else(Uuid::new_v4),
            against: input.against,
            filed_with: input.filed_with,
            filed_on: input.filed_on,
        };
        self.proceedings(caller, case_id, Op::LegalAction, cmd).await
    }

    #[tracing::instrument(skip_all, fields(%case_id))]
    pub async fn decide_complaint(
        &self,
        caller: &Caller,
        case_id: Uuid,
        report_id: Uuid,
        complaint_id: Uuid,
        outcome: v::ComplaintOutcome,
        decided_on: Option<NaiveDate>,
    ) -> Res<Arc<CaseView>> {
        let cmd = P::DecideComplaint { report_id, complaint_id, outcome, decided_on };
        self.proceedings(caller, case_id, Op::LegalAction, cmd).await
    }

    #[tracing::instrument(skip_all, fields(%case_id))]
    pub async fn file_appeal(&self, caller: &Caller, case_id: Uuid, input: AppealInput) -> Res<Arc<CaseView>> {
        let cmd = P::FileAppeal {
            report_id: input.report_id,
            appeal_id: input.appeal_id.unwrap_or_else(Uuid::new_v4),
            instance: input.instance,
            filed_on: input.filed_on,
        };
        self.proceedings(caller, case_id, Op::LegalAction, cmd).await
    }

    /// Moves the case to another (registered) organisation, with the client's consent to
    /// data sharing on record; its intake workers see it from then on, the old ones no more.
    #[tracing::instrument(skip_all, fields(%case_id))]
    pub async fn transfer_case(
        &self,
        caller: &Caller,
        case_id: Uuid,
        to_organization_id: Uuid,
        reason: &str,
        transferred_on: Option<NaiveDate>,
    ) -> Res<Arc<CaseView>> {
        let reason = text("reason", reason)?;
        let view = self.case_in_scope(caller, case_id, Op::TransferCase).await?;
        if !self.cqrs.load::<Organization>(&to_organization_id.to_string()).await?.aggregate.registered {
            return Err(ApiError::NotFound(format!("no organisation {to_organization_id}")));
        }
        let cmd = P::TransferCase { to_organization_id, reason, transferred_on };
        self.proceedings(caller, view.id, Op::TransferCase, cmd).await
    }

    /// The organisations a case may be transferred to: every registered one but its own.
    /// For those who may transfer it (`Op::TransferCase`: they must choose one), the
    /// assigned lawyer among them, who otherwise lists no organisations.
    #[tracing::instrument(skip_all, fields(%case_id))]
    pub async fn transfer_destinations(&self, caller: &Caller, case_id: Uuid) -> Res<Vec<store::OrganizationRow>> {
        let view = self.case_in_scope(caller, case_id, Op::TransferCase).await?;
        let all = store::list_organizations(&self.db).await?;
        Ok(all.into_iter().filter(|o| o.id != view.organization_id).collect())
    }

    /// What came of a referral, by its position in `Case.referrals` (from 0).
    #[tracing::instrument(skip_all, fields(%case_id))]
    pub async fn record_referral_outcome(
        &self,
        caller: &Caller,
        case_id: Uuid,
        referral: i64,
        outcome: v::ReferralOutcome,
        on: Option<NaiveDate>,
    ) -> Res<Arc<CaseView>> {
        let referral = u16::try_from(referral).map_err(|_| {
            ApiError::BadInput("referral is the position of a referral in Case.referrals, from 0".into())
        })?;
        self.proceedings(caller, case_id, Op::ReferToService, P::RecordReferralOutcome { referral, outcome, on }).await
    }

    /// The formal decision on the client's status as a victim: granted or refused, by
    /// which body, on which day.
    #[tracing::instrument(skip_all, fields(%case_id))]
    pub async fn record_victim_status(
        &self,
        caller: &Caller,
        case_id: Uuid,
        granted: bool,
        decided_by: &str,
        decided_on: Option<NaiveDate>,
    ) -> Res<Arc<CaseView>> {
        let decided_by = text("decidedBy", decided_by)?;
        let cmd = P::RecordVictimStatus { granted, decided_by, decided_on };
        self.proceedings(caller, case_id, Op::ReferToService, cmd).await
    }

    // ------------------------------------------------------------ deadline rules

    /// The rules as their stream leaves them, retired ones with `true`.
    pub async fn deadline_rules_state(&self) -> Res<DeadlineRules> {
        Ok(self.cqrs.load::<DeadlineRules>(RULES_ID).await?.aggregate)
    }

    /// The rules, retired ones included (with their flag).
    #[tracing::instrument(skip_all)]
    pub async fn deadline_rules(&self, caller: &Caller) -> Res<Vec<(DeadlineRule, bool)>> {
        caller.allow(Op::ReadDeadlines)?;
        Ok(self.deadline_rules_state().await?.rules.into_values().collect())
    }

    /// Adds a rule or replaces the one with its id (ADMIN; an audited event).
    #[tracing::instrument(skip_all)]
    pub async fn set_deadline_rule(&self, caller: &Caller, input: RuleInput) -> Res<(DeadlineRule, bool)> {
        caller.allow(Op::ManageDeadlineRules)?;
        let days =
            u16::try_from(input.days).map_err(|_| ApiError::BadInput("days must be between 1 and 3650".into()))?;
        let rule = DeadlineRule {
            id: input.id.trim().to_string(),
            after: input.after,
            days,
            what: text("what", &input.what)?.to_string(),
            what_ru: opt_text("whatRu", &input.what_ru)?.map(String::from),
            what_ky: opt_text("whatKy", &input.what_ky)?.map(String::from),
            met_by: input.met_by,
            applies_from: input.applies_from,
            applies_until: input.applies_until,
            citation: Citation {
                article: text("citation.article", &input.article)?.to_string(),
                code: text("citation.code", &input.code)?.to_string(),
                url: text("citation.url", &input.url)?.to_string(),
            },
        };
        let id = rule.id.clone();
        self.execute(&self.cqrs.deadline_rules, caller, RULES_ID, RulesCommand::Set { rule }).await?;
        self.rule(&id).await
    }

    #[tracing::instrument(skip_all)]
    pub async fn retire_deadline_rule(&self, caller: &Caller, id: &str, reason: &str) -> Res<(DeadlineRule, bool)> {
        caller.allow(Op::ManageDeadlineRules)?;
        let reason = text("reason", reason)?;
        let id = id.trim().to_string();
        self.execute(&self.cqrs.deadline_rules, caller, RULES_ID, RulesCommand::Retire { id: id.clone(), reason })
            .await?;
        self.rule(&id).await
    }

    async fn rule(&self, id: &str) -> Res<(DeadlineRule, bool)> {
        self.deadline_rules_state()
            .await?
            .rules
            .remove(id)
            .ok_or_else(|| ApiError::NotFound(format!("no deadline rule {id}")))
    }

    // ------------------------------------------------------------ what is due

    /// What is due on one case the caller may read.
    pub async fn case_deadlines(&self, caller: &Caller, view: &CaseView) -> Res<Vec<Due>> {
        caller.allow(Op::ReadDeadlines)?;
        self.check_case(caller, view, Op::ReadCase).await?;
        let rules = self.deadline_rules_state().await?.in_force();
        Ok(deadlines::due(view, &rules, self.clock.today()))
    }

    /// What is due on the caller's open cases (a lawyer's own, an intake worker's
    /// organisation's, every case for oversight roles), optionally of one lawyer, due within
    /// `due_within_days` from today (overdue ones always), earliest first.
    #[tracing::instrument(skip_all)]
    pub async fn deadlines(
        &self,
        caller: &Caller,
        lawyer_id: Option<Uuid>,
        due_within_days: Option<i64>,
    ) -> Res<Vec<Due>> {
        caller.allow(Op::ReadDeadlines)?;
        let today = self.clock.today();
        let horizon = match due_within_days {
            None => None,
            Some(n) if (0..=3650).contains(&n) => today.checked_add_days(chrono::Days::new(n as u64)),
            Some(_) => return Err(ApiError::BadInput("dueWithinDays must be between 0 and 3650".into())),
        };
        let p = &caller.principal;
        let mut filter = CaseFilter { lawyer_id, ..CaseFilter::default() };
        match p.role {
            Role::Lawyer => {
                self.lawyer_in_service(caller).await?;
                let own = p.lawyer_id.ok_or_else(ApiError::forbidden)?;
                if lawyer_id.is_some_and(|l| l != own) {
                    return Err(ApiError::Forbidden("a lawyer sees the deadlines of their own cases only".into()));
                }
                filter.lawyer_id = Some(own);
            }
            Role::IntakeWorker => filter.organization_id = Some(p.organization_id.ok_or_else(ApiError::forbidden)?),
            _ => {}
        }
        let rules = self.deadline_rules_state().await?.in_force();
        let mut out = Vec::new();
        let mut after = None;
        loop {
            let page = store::list_cases(&self.db, &filter, 100, after).await?;
            for c in &page.cases {
                out.extend(
                    deadlines::due(c, &rules, today)
                        .into_iter()
                        .filter(|d| d.overdue || horizon.is_none_or(|h| d.due_on <= h)),
                );
            }
            match (page.has_next, page.cases.last()) {
                (true, Some(last)) => after = Some(last.opened_seq),
                _ => break,
            }
        }
        out.sort_by(|a, b| a.due_on.cmp(&b.due_on).then_with(|| a.case_id.cmp(&b.case_id)));
        Ok(out)
    }
}
