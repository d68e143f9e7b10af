//! The fact table behind the statistics: one row per countable occurrence, derived purely
//! from a case document. API.md's counting rules live here:
//!
//! - `registeredAs*` count reports by their *first* registration;
//! - every count falls in the year of its own date (intake `identifiedOn`, report `filedOn`,
//!   registration `registeredOn`, reclassification and outcome `decidedOn`);
//! - a case with several exploitation types counts once under each type (the statistics
//!   query joins `rm_case_exploitation` only when that dimension is asked for);
//! - for verdict counts, the offence is the verdict's when given, else the report's current.

use super::case::{CaseView, ReportView};
use chrono::{Datelike, NaiveDate};
use domain::offense::OffenseRef;
use domain::values::{InvestigationOutcome, OffenseCategory, VerdictOutcome};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What a fact counts; each is one field of `OutcomeCounts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum FactKind {
    CasesOpened,
    LawyersAssigned,
    PoliceReportsFiled,
    RegisteredAsTip,
    RegisteredAsTipRelated,
    RegisteredAsFraud,
    RegisteredAsOther,
    RegistrationRefused,
    ReclassifiedToTip,
    ReclassifiedFromTip,
    ReturnedForInvestigation,
    SentToCourt,
    Convictions,
    Acquittals,
    Dismissals,
    DefendantsCharged,
    DefendantsConvicted,
    CompensationClaimed,
    CompensationAwarded,
    CompensationPaid,
}

impl FactKind {
    pub const ALL: &'static [FactKind] = &[
        FactKind::CasesOpened,
        FactKind::LawyersAssigned,
        FactKind::PoliceReportsFiled,
        FactKind::RegisteredAsTip,
        FactKind::RegisteredAsTipRelated,
        FactKind::RegisteredAsFraud,
        FactKind::RegisteredAsOther,
        FactKind::RegistrationRefused,
        FactKind::ReclassifiedToTip,
        FactKind::ReclassifiedFromTip,
        FactKind::ReturnedForInvestigation,
        FactKind::SentToCourt,
        FactKind::Convictions,
        FactKind::Acquittals,
        FactKind::Dismissals,
        FactKind::DefendantsCharged,
        FactKind::DefendantsConvicted,
        FactKind::CompensationClaimed,
        FactKind::CompensationAwarded,
        FactKind::CompensationPaid,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FactKind::CasesOpened => "CASES_OPENED",
            FactKind::LawyersAssigned => "LAWYERS_ASSIGNED",
            FactKind::PoliceReportsFiled => "POLICE_REPORTS_FILED",
            FactKind::RegisteredAsTip => "REGISTERED_AS_TIP",
            FactKind::RegisteredAsTipRelated => "REGISTERED_AS_TIP_RELATED",
            FactKind::RegisteredAsFraud => "REGISTERED_AS_FRAUD",
            FactKind::RegisteredAsOther => "REGISTERED_AS_OTHER",
            FactKind::RegistrationRefused => "REGISTRATION_REFUSED",
            FactKind::ReclassifiedToTip => "RECLASSIFIED_TO_TIP",
            FactKind::ReclassifiedFromTip => "RECLASSIFIED_FROM_TIP",
            FactKind::ReturnedForInvestigation => "RETURNED_FOR_INVESTIGATION",
            FactKind::SentToCourt => "SENT_TO_COURT",
            FactKind::Convictions => "CONVICTIONS",
            FactKind::Acquittals => "ACQUITTALS",
            FactKind::Dismissals => "DISMISSALS",
            FactKind::DefendantsCharged => "DEFENDANTS_CHARGED",
            FactKind::DefendantsConvicted => "DEFENDANTS_CONVICTED",
            FactKind::CompensationClaimed => "COMPENSATION_CLAIMED",
            FactKind::CompensationAwarded => "COMPENSATION_AWARDED",
            FactKind::CompensationPaid => "COMPENSATION_PAID",
        }
    }

    pub fn parse(s: &str) -> Option<FactKind> {
        FactKind::ALL.iter().copied().find(|k| k.as_str() == s)
    }

    fn registered_as(category: OffenseCategory) -> FactKind {
        match category {
            OffenseCategory::Tip => FactKind::RegisteredAsTip,
            OffenseCategory::TipRelated => FactKind::RegisteredAsTipRelated,
            OffenseCategory::Fraud => FactKind::RegisteredAsFraud,
            OffenseCategory::Other => FactKind::RegisteredAsOther,
        }
    }
}

/// One counted occurrence with every dimension it can be grouped by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fact {
    pub case_id: Uuid,
    pub report_id: Option<Uuid>,
    pub kind: FactKind,
    /// The count's own date.
    pub on: NaiveDate,
    pub gender: &'static str,
    pub age_group: &'static str,
    pub region: Option<&'static str>,
    pub country: Option<String>,
    pub organization_id: Uuid,
    pub lawyer_id: Option<Uuid>,
    pub lawyer_status: Option<&'static str>,
    pub offense_category: Option<&'static str>,
    pub offense_code: Option<String>,
    /// The authority that decided a reclassification.
    pub authority: Option<&'static str>,
    /// A count of defendants falls under the defendant's own gender.
    pub defendant_gender: Option<&'static str>,
    /// The amount of a compensation fact, in whole units of `currency`.
    pub amount: Option<i64>,
    pub currency: Option<String>,
}

impl Fact {
    pub fn year(&self) -> i64 {
        i64::from(self.on.year())
    }
}

/// Every fact of a case.
pub fn facts(case: &CaseView) -> Vec<Fact> {
    let base = |kind: FactKind, on: &NaiveDate, offense: Option<&OffenseRef>, report: Option<&ReportView>| Fact {
        case_id: case.id,
        report_id: report.map(|r| r.id),
        kind,
        on: *on,
        gender: case.client.gender.as_str(),
        age_group: case.client.age_group.as_str(),
        region: case.client.region.map(|r| r.as_str()),
        country: case.country_of_exploitation.as_ref().map(|c| c.as_str().to_string()),
        organization_id: case.organization_id,
        lawyer_id: report.map(|r| r.lawyer_id).or(case.last_lawyer_id),
        lawyer_status: case.lawyer_status.map(|s| s.as_str()),
        offense_category: offense.map(|o| o.category.as_str()),
        offense_code: offense.map(|o| o.code.clone()),
        authority: None,
        defendant_gender: None,
        amount: None,
        currency: None,
    };
    let mut out = vec![base(FactKind::CasesOpened, &case.identified_on, None, None)];
    if let Some(on) = &case.first_assigned_on {
        out.push(base(FactKind::LawyersAssigned, on, None, None));
    }
    for r in &case.reports {
        let initial = r.registration.as_ref().map(|x| &x.offense);
        out.push(base(FactKind::PoliceReportsFiled, &r.filed_on, initial, Some(r)));
        if let Some(reg) = &r.registration {
            out.push(base(
                FactKind::registered_as(reg.offense.category),
                &reg.registered_on,
                Some(&reg.offense),
                Some(r),
            ));
        }
        if let Some((on, _)) = &r.refused {
            out.push(base(FactKind::RegistrationRefused, on, None, Some(r)));
        }
        if let (Some(reg), Some(current), Some(last)) = (&r.registration, &r.current, r.reclassifications.last()) {
            let was_tip = reg.offense.category == OffenseCategory::Tip;
            let is_tip = current.category == OffenseCategory::Tip;
            let kind = match (was_tip, is_tip) {
                (false, true) => Some(FactKind::ReclassifiedToTip),
                (true, false) => Some(FactKind::ReclassifiedFromTip),
                _ => None,
            };
            if let Some(kind) = kind {
                let mut f = base(kind, &last.decided_on, Some(current), Some(r));
                f.authority = Some(last.decided_by.as_str());
                out.push(f);
            }
        }
        let first = |o: InvestigationOutcome| r.outcomes.iter().find(|x| x.outcome == o);
        if let Some(x) = first(InvestigationOutcome::ReturnedForInvestigation) {
            out.push(base(FactKind::ReturnedForInvestigation, &x.decided_on, r.current.as_ref(), Some(r)));
        }
        if let Some(x) = first(InvestigationOutcome::SentToCourt) {
            out.push(base(FactKind::SentToCourt, &x.decided_on, r.current.as_ref(), Some(r)));
        }
        if let Some(v) = &r.verdict {
            let kind = match v.outcome {
                VerdictOutcome::Convicted => FactKind::Convictions,
                VerdictOutcome::Acquitted => FactKind::Acquittals,
                VerdictOutcome::Dismissed => FactKind::Dismissals,
            };
            out.push(base(kind, &v.decided_on, v.offense.as_ref().or(r.current.as_ref()), Some(r)));
        }
        // Compensation: the claim, the award and each payment, on their own days, with
        // their amounts (summed per currency by `compensationTotals`).
        if let Some(c) = &r.compensation {
            let mut money = |kind: FactKind, amount: u64, on: &NaiveDate| {
                let mut f = base(kind, on, r.current.as_ref(), Some(r));
                f.amount = Some(i64::try_from(amount).unwrap_or(i64::MAX));
                f.currency = Some(c.currency.as_str().to_string());
                out.push(f);
            };
            money(FactKind::CompensationClaimed, c.claimed, &c.claimed_on);
            if let Some((amount, on)) = &c.awarded {
                money(FactKind::CompensationAwarded, *amount, on);
            }
            for (amount, on) in &c.payments {
                money(FactKind::CompensationPaid, *amount, on);
            }
        }
        // Defendants count as persons: charged on the day of the charge, convicted on the
        // day of their own verdict, each under their own gender.
        for d in &r.defendants {
            if let Some(charge) = &d.charged_with {
                let mut f = base(FactKind::DefendantsCharged, &d.charged_on, Some(charge), Some(r));
                f.defendant_gender = Some(d.gender.as_str());
                out.push(f);
            }
            if let Some(v) = d.verdict.as_ref().filter(|v| v.outcome == VerdictOutcome::Convicted) {
                let offense = v.offense.as_ref().or(d.charged_with.as_ref()).or(r.current.as_ref());
                let mut f = base(FactKind::DefendantsConvicted, &v.decided_on, offense, Some(r));
                f.defendant_gender = Some(d.gender.as_str());
                out.push(f);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::case::*;
    use domain::values::*;

    fn off(code: &str, category: OffenseCategory) -> OffenseRef {
        OffenseRef { code: code.into(), category }
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn case() -> CaseView {
        CaseView {
            transfers: Default::default(),
            victim_status: Default::default(),
            profile: Default::default(),
            profile_recorded_on: None,
            guardian_consent: None,
            id: Uuid::from_u128(1),
            opened_seq: 1,
            organization_id: Uuid::from_u128(2),
            identified_on: d("2019-12-30"),
            referral_source: ReferralSource::Hotline,
            exploitation_types: vec![ExploitationType::ForcedLabor, ExploitationType::Sexual],
            country_of_exploitation: Some(CountryCode::parse("c", "RU").unwrap()),
            client: ClientView {
                gender: Gender::Female,
                age_at_identification: Some(16),
                age_group: AgeGroup::Minor,
                citizenship: None,
                region: Some(Region::Osh),
            },
            identity: None,
            erased: false,
            consent: ConsentView::default(),
            referrals: vec![],
            assignment: None,
            legal_actions: vec![],
            reports: vec![ReportView {
                initiated_by: Default::default(),
                refused_by: Default::default(),
                verdicts: Default::default(),
                appeals: Default::default(),
                complaints: Default::default(),
                hearings: Default::default(),
                id: Uuid::from_u128(3),
                filed_on: d("2020-01-10"),
                police_unit: "u".into(),
                reference_number: None,
                lawyer_id: Uuid::from_u128(4),
                registration: Some(RegistrationView {
                    decided_by: Default::default(),
                    offense: off("2021-209", OffenseCategory::Fraud),
                    registered_on: d("2020-01-15"),
                    registry_number: None,
                }),
                current: Some(off("2021-166", OffenseCategory::Tip)),
                refused: None,
                reclassifications: vec![ReclassificationView {
                    from: off("2021-209", OffenseCategory::Fraud),
                    to: off("2021-166", OffenseCategory::Tip),
                    decided_on: d("2021-03-01"),
                    decided_by: Authority::Prosecutor,
                    reason: "review".into(),
                }],
                outcomes: vec![
                    OutcomeView {
                        decided_by: Default::default(),
                        outcome: InvestigationOutcome::Terminated,
                        decided_on: d("2020-06-01"),
                        note: None,
                    },
                    OutcomeView {
                        decided_by: Default::default(),
                        outcome: InvestigationOutcome::ReturnedForInvestigation,
                        decided_on: d("2021-02-01"),
                        note: None,
                    },
                    OutcomeView {
                        decided_by: Default::default(),
                        outcome: InvestigationOutcome::SentToCourt,
                        decided_on: d("2021-04-01"),
                        note: None,
                    },
                ],
                verdict: Some(VerdictView {
                    instance: Default::default(),
                    outcome: VerdictOutcome::Convicted,
                    offense: Some(off("2021-167", OffenseCategory::Tip)),
                    decided_on: d("2022-01-20"),
                    sentence_months: Some(60),
                    compensation_awarded: None,
                }),
                defendants: vec![
                    DefendantView {
                        id: Uuid::from_u128(10),
                        gender: Gender::Male,
                        age_at_offense: Some(38),
                        citizenship: None,
                        role: DefendantRole::Recruiter,
                        charged_with: Some(off("2021-166", OffenseCategory::Tip)),
                        charged_on: d("2021-03-05"),
                        verdict: Some(DefendantVerdictView {
                            outcome: VerdictOutcome::Convicted,
                            offense: None,
                            decided_on: d("2022-01-20"),
                            sentence_months: Some(60),
                        }),
                        relationship: Some(DefendantRelationship::Acquaintance),
                    },
                    DefendantView {
                        id: Uuid::from_u128(11),
                        gender: Gender::Female,
                        age_at_offense: None,
                        citizenship: None,
                        role: DefendantRole::Transporter,
                        charged_with: None,
                        charged_on: d("2021-03-05"),
                        verdict: None,
                        relationship: None,
                    },
                ],
                compensation: Some(CompensationView {
                    currency: CurrencyCode::parse("c", "KGS").unwrap(),
                    claimed: 500_000,
                    claimed_on: d("2021-04-02"),
                    awarded: Some((300_000, d("2022-01-20"))),
                    payments: vec![(100_000, d("2022-03-01")), (50_000, d("2023-02-01"))],
                }),
            }],
            closed: None,
            version: 9,
            first_assigned_on: Some(d("2020-01-02")),
            lawyer_status: Some(LawyerStatus::Student),
            last_lawyer_id: Some(Uuid::from_u128(4)),
        }
    }

    fn find(f: &[Fact], k: FactKind) -> &Fact {
        f.iter().find(|x| x.kind == k).unwrap_or_else(|| panic!("no {k:?}"))
    }

    #[test]
    fn each_count_falls_in_the_year_of_its_own_date() {
        let f = facts(&case());
        assert_eq!(find(&f, FactKind::CasesOpened).year(), 2019);
        assert_eq!(find(&f, FactKind::LawyersAssigned).year(), 2020);
        assert_eq!(find(&f, FactKind::RegisteredAsFraud).year(), 2020);
        assert_eq!(find(&f, FactKind::ReclassifiedToTip).year(), 2021);
        assert_eq!(find(&f, FactKind::Convictions).year(), 2022);
    }

    #[test]
    fn registrations_count_by_the_first_offence_and_verdicts_by_the_verdicts() {
        let f = facts(&case());
        assert_eq!(find(&f, FactKind::RegisteredAsFraud).offense_code.as_deref(), Some("2021-209"));
        assert!(f.iter().all(|x| x.kind != FactKind::RegisteredAsTip));
        let re = find(&f, FactKind::ReclassifiedToTip);
        assert_eq!((re.offense_category, re.authority), (Some("TIP"), Some("PROSECUTOR")));
        assert_eq!(find(&f, FactKind::Convictions).offense_code.as_deref(), Some("2021-167"));
        assert_eq!(find(&f, FactKind::SentToCourt).offense_code.as_deref(), Some("2021-166"));
        assert_eq!(find(&f, FactKind::ReturnedForInvestigation).on, d("2021-02-01"));
        assert_eq!(f.iter().filter(|x| x.kind == FactKind::CasesOpened).count(), 1, "once per case, not per type");
        assert_eq!(find(&f, FactKind::CasesOpened).lawyer_status, Some("STUDENT"));
    }

    #[test]
    fn compensation_counts_and_amounts_fall_on_their_own_days() {
        let f = facts(&case());
        let claim = find(&f, FactKind::CompensationClaimed);
        assert_eq!((claim.amount, claim.currency.as_deref(), claim.year()), (Some(500_000), Some("KGS"), 2021));
        assert_eq!(find(&f, FactKind::CompensationAwarded).amount, Some(300_000));
        let paid: Vec<_> = f.iter().filter(|x| x.kind == FactKind::CompensationPaid).collect();
        assert_eq!(
            paid.iter().map(|p| (p.amount.unwrap(), p.year())).collect::<Vec<_>>(),
            [(100_000, 2022), (50_000, 2023)]
        );
        assert!(f.iter().filter(|x| x.amount.is_some()).all(|x| x.currency.is_some()));
    }

    #[test]
    fn defendants_count_as_persons_under_their_own_gender() {
        let f = facts(&case());
        let charged: Vec<_> = f.iter().filter(|x| x.kind == FactKind::DefendantsCharged).collect();
        assert_eq!(charged.len(), 1, "the uncharged transporter is not counted as charged");
        assert_eq!((charged[0].defendant_gender, charged[0].year()), (Some("MALE"), 2021));
        assert_eq!(charged[0].gender, "FEMALE", "the client's gender stays the client's");
        let convicted = find(&f, FactKind::DefendantsConvicted);
        assert_eq!((convicted.defendant_gender, convicted.year()), (Some("MALE"), 2022));
        assert_eq!(convicted.offense_code.as_deref(), Some("2021-166"), "the charge, the verdict naming none");
        assert!(f
            .iter()
            .filter(|x| x.defendant_gender.is_some())
            .all(|x| matches!(x.kind, FactKind::DefendantsCharged | FactKind::DefendantsConvicted)));
    }

    #[test]
    fn a_report_reclassified_back_to_its_first_category_is_not_counted_as_reclassified() {
        let mut c = case();
        c.reports[0].current = Some(off("2021-210", OffenseCategory::Fraud));
        let f = facts(&c);
        assert!(f.iter().all(|x| !matches!(x.kind, FactKind::ReclassifiedToTip | FactKind::ReclassifiedFromTip)));
        let mut c = case();
        c.reports[0].registration.as_mut().unwrap().offense = off("2021-166", OffenseCategory::Tip);
        c.reports[0].current = Some(off("2021-209", OffenseCategory::Fraud));
        assert_eq!(find(&facts(&c), FactKind::ReclassifiedFromTip).offense_category, Some("FRAUD"));
    }
}
