//! What is due on a case: each hearing ahead, and each time limit of the deadline rules
//! whose starting fact is on a report and which no later fact has met yet. Derived purely
//! from a case document, the rules in force and today's date, so a changed rule applies at
//! once to every case.

use super::case::{CaseView, ReportView};
use chrono::{Days, NaiveDate};
use domain::deadline::{Citation, DeadlineEvent, DeadlineRule};
use domain::values::{CourtInstance, InvestigationOutcome};
use uuid::Uuid;

/// Where something due comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DueSource {
    /// A hearing set by a court (its id, instance and court).
    Hearing { hearing_id: Uuid, instance: CourtInstance, court: String },
    /// A time limit of a rule.
    Rule { rule_id: String, citation: Citation, what_ru: Option<String>, what_ky: Option<String> },
}

/// One thing due on a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub case_id: Uuid,
    pub report_id: Uuid,
    pub due_on: NaiveDate,
    /// What is due, in English.
    pub what: String,
    /// The day passed and nothing on record meets it.
    pub overdue: bool,
    pub source: DueSource,
}

/// The dated facts of a report, by the kinds rules speak of.
fn report_facts(r: &ReportView) -> Vec<(DeadlineEvent, NaiveDate)> {
    use DeadlineEvent as K;
    let mut out = vec![(K::PoliceReportFiled, r.filed_on)];
    out.extend(r.registration.iter().map(|x| (K::OffenseRegistered, x.registered_on)));
    out.extend(r.refused.iter().map(|x| (K::RegistrationRefused, x.0)));
    out.extend(r.reclassifications.iter().map(|x| (K::OffenseReclassified, x.decided_on)));
    out.extend(r.outcomes.iter().map(|o| {
        let kind = match o.outcome {
            InvestigationOutcome::Terminated => K::InvestigationTerminated,
            InvestigationOutcome::ReturnedForInvestigation => K::ReturnedForInvestigation,
            InvestigationOutcome::SentToCourt => K::SentToCourt,
        };
        (kind, o.decided_on)
    }));
    // Reports recorded before the verdict history was kept have only the verdict in force.
    if r.verdicts.is_empty() {
        out.extend(r.verdict.iter().map(|v| (K::Verdict, v.decided_on)));
    } else {
        out.extend(r.verdicts.iter().map(|v| (K::Verdict, v.decided_on)));
    }
    out.extend(r.complaints.iter().map(|c| (K::ComplaintFiled, c.filed_on)));
    out.extend(r.complaints.iter().filter_map(|c| c.decision.map(|d| (K::ComplaintDecided, d.1))));
    out.extend(r.appeals.iter().map(|a| (K::AppealFiled, a.filed_on)));
    out
}

/// Everything due on `case` (closed cases have nothing due), earliest first.
pub fn due(case: &CaseView, rules: &[DeadlineRule], today: NaiveDate) -> Vec<Due> {
    if case.closed.is_some() {
        return vec![];
    }
    let mut out = Vec::new();
    for r in &case.reports {
        for h in r.hearings.iter().filter(|h| !h.held) {
            out.push(Due {
                case_id: case.id,
                report_id: r.id,
                due_on: h.on,
                what: format!("Court hearing ({})", h.instance.as_str()),
                overdue: h.on < today,
                source: DueSource::Hearing { hearing_id: h.id, instance: h.instance, court: h.court.clone() },
            });
        }
        let facts = report_facts(r);
        for rule in rules {
            for (_, start) in facts.iter().filter(|(k, on)| *k == rule.after && rule.applies_on(*on)) {
                let met = facts.iter().any(|(k, on)| rule.met_by.contains(k) && on >= start);
                if met {
                    continue;
                }
                let Some(due_on) = start.checked_add_days(Days::new(u64::from(rule.days))) else {
                    continue;
                };
                out.push(Due {
                    case_id: case.id,
                    report_id: r.id,
                    due_on,
                    what: rule.what.clone(),
                    overdue: due_on < today,
                    source: DueSource::Rule {
                        rule_id: rule.id.clone(),
                        citation: rule.citation.clone(),
                        what_ru: rule.what_ru.clone(),
                        what_ky: rule.what_ky.clone(),
                    },
                });
            }
        }
    }
    out.sort_by(|a, b| a.due_on.cmp(&b.due_on).then_with(|| a.what.cmp(&b.what)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::case::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn rule(after: DeadlineEvent, days: u16, met_by: Vec<DeadlineEvent>) -> DeadlineRule {
        DeadlineRule {
            id: "r".into(),
            after,
            days,
            what: "something".into(),
            what_ru: None,
            what_ky: None,
            met_by,
            applies_from: None,
            applies_until: None,
            citation: Citation { article: "a".into(), code: "c".into(), url: "https://example.org".into() },
        }
    }

    fn case_with_refusal(on: &str) -> CaseView {
        let open = domain::case::CaseEvent::IntakeOpened {
            case_id: Uuid::from_u128(1),
            organization_id: Uuid::from_u128(2),
            identified_on: d("2024-01-01"),
            referral_source: domain::values::ReferralSource::Hotline,
            exploitation_types: vec![domain::values::ExploitationType::ForcedLabor],
            country_of_exploitation: None,
            client: domain::case::ClientProfile {
                gender: domain::values::Gender::Female,
                age_at_identification: None,
                citizenship: None,
                region: None,
            },
            identity: domain::Sealed { alg: "A256GCM".into(), nonce: "n".into(), ciphertext: "c".into() },
            profile: Default::default(),
            guardian_consent: None,
        };
        let mut c = CaseView::open(&open, 1).unwrap();
        let text = |s: &str| domain::values::Text::parse("t", s).unwrap();
        c.apply(
            &domain::case::CaseEvent::PoliceReportFiled {
                report_id: Uuid::from_u128(3),
                filed_on: d("2024-01-02"),
                police_unit: text("u"),
                reference_number: None,
                lawyer_id: Uuid::from_u128(4),
                initiated_by: None,
            },
            2,
        );
        c.apply(
            &domain::case::CaseEvent::RegistrationRefused {
                report_id: Uuid::from_u128(3),
                decided_on: d(on),
                reason: text("r"),
                decided_by: None,
            },
            3,
        );
        c
    }

    #[test]
    fn a_limit_runs_from_its_fact_and_is_overdue_after_its_day() {
        let c = case_with_refusal("2024-02-01");
        let rules = [rule(DeadlineEvent::RegistrationRefused, 10, vec![DeadlineEvent::ComplaintFiled])];
        let due_now = due(&c, &rules, d("2024-02-05"));
        assert_eq!(due_now.len(), 1);
        assert_eq!((due_now[0].due_on, due_now[0].overdue), (d("2024-02-11"), false));
        assert!(due(&c, &rules, d("2024-02-12"))[0].overdue);
        assert!(due(&c, &[], d("2024-02-12")).is_empty(), "no rule, nothing due");
    }

    #[test]
    fn a_limit_met_by_a_later_fact_is_no_longer_due_and_a_closed_case_has_nothing_due() {
        let mut c = case_with_refusal("2024-02-01");
        c.reports[0].complaints.push(ComplaintView {
            id: Uuid::from_u128(9),
            against: domain::values::ComplaintSubject::RefusalToRegister,
            filed_with: domain::values::ComplaintAddressee::Prosecutor,
            filed_on: d("2024-02-03"),
            decision: None,
        });
        let rules = [rule(DeadlineEvent::RegistrationRefused, 10, vec![DeadlineEvent::ComplaintFiled])];
        assert!(due(&c, &rules, d("2024-02-20")).is_empty());
        let mut closed = case_with_refusal("2024-02-01");
        closed.closed = Some((d("2024-03-01"), "done".into()));
        assert!(due(&closed, &rules, d("2024-02-05")).is_empty());
    }

    #[test]
    fn a_rule_outside_its_era_does_not_apply() {
        let c = case_with_refusal("2024-02-01");
        let mut r = rule(DeadlineEvent::RegistrationRefused, 3, vec![]);
        r.applies_until = Some(d("2018-12-31"));
        assert!(due(&c, &[r], d("2024-02-02")).is_empty());
    }

    #[test]
    fn hearings_not_held_are_due_on_their_day() {
        let mut c = case_with_refusal("2024-02-01");
        c.reports[0].hearings.push(HearingView {
            id: Uuid::from_u128(7),
            on: d("2024-03-01"),
            court: "District court".into(),
            instance: CourtInstance::FirstInstance,
            held: false,
            postponements: vec![],
        });
        let due_now = due(&c, &[], d("2024-02-20"));
        assert_eq!((due_now.len(), due_now[0].due_on, due_now[0].overdue), (1, d("2024-03-01"), false));
        assert!(due(&c, &[], d("2024-03-02"))[0].overdue, "a hearing passed and not recorded as held");
        c.reports[0].hearings[0].held = true;
        assert!(due(&c, &[], d("2024-03-02")).is_empty());
    }
}
