//! One human line per event, for case timelines and the audit trail.
//!
//! A summary is built only from enumerations, codes, dates and ids, never from free text:
//! identity is sealed anyway, but reasons, notes and provider names are typed by people and
//! may contain a name (ADR 0003), and the audit trail is read by roles that must never see
//! identity. Where an event carries sealed data the summary says so, e.g. "identity
//! recorded (sealed)". Names that appear are staff, lawyers and organisations — never clients.

use cqrs_es::Aggregate;
use domain::account::{Account, AccountEvent};
use domain::case::{Case, CaseEvent};
use domain::deadline::{DeadlineRules, RulesEvent};
use domain::erasure::{ErasureEvent, ErasureRequests};
use domain::figure::{FigureEvent, PublishedFigure};
use domain::lawyer::{Lawyer, LawyerEvent};
use domain::offense::{CatalogueEvent, OffenseCatalogue, OffenseRef};
use domain::organization::{Organization, OrganizationEvent};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use uuid::Uuid;

/// Names of the lawyers a stream mentions, looked up by the caller.
pub type LawyerNames = HashMap<Uuid, String>;

/// The lawyers a case event mentions, so the caller can look their names up.
pub fn lawyers_mentioned(aggregate_type: &str, payload: &Value) -> Vec<Uuid> {
    if aggregate_type != Case::TYPE {
        return vec![];
    }
    match serde_json::from_value::<CaseEvent>(payload.clone()) {
        Ok(CaseEvent::LawyerAssigned { lawyer_id, replaces, .. }) => {
            std::iter::once(lawyer_id).chain(replaces).collect()
        }
        Ok(
            CaseEvent::AssignmentAccepted { lawyer_id, .. }
            | CaseEvent::AssignmentDeclined { lawyer_id, .. }
            | CaseEvent::PoliceReportFiled { lawyer_id, .. },
        ) => vec![lawyer_id],
        _ => vec![],
    }
}

/// The summary of one event. Events this build cannot read (an unknown type, or a payload
/// altered by hand) get a generic line rather than an error: the audit trail must still
/// show them.
pub fn summarize(
    aggregate_type: &str,
    event_type: &str,
    event_version: &str,
    payload: &Value,
    lawyers: &LawyerNames,
) -> String {
    let known = match aggregate_type {
        // Case events of older versions read through their upcasters (ADR 0016).
        Case::TYPE if domain::case::needs_upcast(event_type, event_version) => {
            let (_, payload) = domain::case::upcast_case_payload(event_type, event_version, payload.clone());
            line::<Case>(&payload, lawyers)
        }
        Case::TYPE => line::<Case>(payload, lawyers),
        Lawyer::TYPE => line::<Lawyer>(payload, lawyers),
        Organization::TYPE => line::<Organization>(payload, lawyers),
        Account::TYPE => line::<Account>(payload, lawyers),
        OffenseCatalogue::TYPE => line::<OffenseCatalogue>(payload, lawyers),
        ErasureRequests::TYPE => line::<ErasureRequests>(payload, lawyers),
        PublishedFigure::TYPE => line::<PublishedFigure>(payload, lawyers),
        DeadlineRules::TYPE => line::<DeadlineRules>(payload, lawyers),
        _ => None,
    };
    known.unwrap_or_else(|| format!("{event_type} (content not readable by this version)"))
}

/// How one aggregate type's events read as summary lines: one impl per aggregate, chosen
/// by its stream type in [`summarize`].
trait Summarized: Aggregate {
    fn summary(event: &Self::Event, lawyers: &LawyerNames) -> String;
}

/// The line of an event of `A`, or `None` when the payload is not one of its events.
fn line<A: Summarized>(payload: &Value, lawyers: &LawyerNames) -> Option<String> {
    A::Event::deserialize(payload).ok().map(|e| A::summary(&e, lawyers))
}

impl Summarized for Case {
    fn summary(e: &CaseEvent, lawyers: &LawyerNames) -> String {
        case(e, lawyers)
    }
}

impl Summarized for Lawyer {
    fn summary(e: &LawyerEvent, _: &LawyerNames) -> String {
        lawyer(e)
    }
}

impl Summarized for Organization {
    fn summary(e: &OrganizationEvent, _: &LawyerNames) -> String {
        organization(e)
    }
}

impl Summarized for Account {
    fn summary(e: &AccountEvent, _: &LawyerNames) -> String {
        account(e)
    }
}

impl Summarized for DeadlineRules {
    fn summary(e: &RulesEvent, _: &LawyerNames) -> String {
        match e {
            RulesEvent::RulesImported { version, rules } => {
                format!("Deadline rules version {version} imported ({} rules)", rules.len())
            }
            RulesEvent::DeadlineRuleSet { rule } => format!(
                "Deadline rule {} set: {} days after {:?} ({}, {})",
                rule.id, rule.days, rule.after, rule.citation.article, rule.citation.code
            ),
            RulesEvent::DeadlineRuleRetired { id, .. } => format!("Deadline rule {id} retired (reason recorded)"),
        }
    }
}

impl Summarized for OffenseCatalogue {
    fn summary(e: &CatalogueEvent, _: &LawyerNames) -> String {
        catalogue(e)
    }
}

impl Summarized for PublishedFigure {
    fn summary(e: &FigureEvent, _: &LawyerNames) -> String {
        let FigureEvent::PublishedFigureRecorded(f) = e;
        let value = f.value.map_or_else(|| "no figure".to_string(), |v| v.to_string());
        format!("Published figure recorded: {} for {} in {}: {value}", f.source.as_str(), f.indicator.as_str(), f.year)
    }
}

fn offense(o: &OffenseRef) -> String {
    format!("{} ({})", o.code, o.category.as_str())
}

fn report(id: &Uuid) -> String {
    // The first group of the UUID tells a case's few reports apart and stays readable.
    let s = id.to_string();
    format!("report {}", &s[..8])
}

fn lawyer_name(id: &Uuid, lawyers: &LawyerNames) -> String {
    match lawyers.get(id) {
        Some(name) => format!("lawyer {name}"),
        None => format!("lawyer {id}"),
    }
}

fn list<T: Copy>(items: &[T], label: impl Fn(T) -> &'static str) -> String {
    if items.is_empty() {
        return "nothing".into();
    }
    items.iter().map(|i| label(*i)).collect::<Vec<_>>().join(", ")
}

fn case(e: &CaseEvent, lawyers: &LawyerNames) -> String {
    match e {
        CaseEvent::IntakeOpened {
            identified_on, referral_source, exploitation_types, country_of_exploitation, ..
        } => {
            let country = country_of_exploitation.as_ref().map(|c| format!(" in {}", c.as_str())).unwrap_or_default();
            format!(
                "Intake opened: identified {identified_on}, referred by {}, {}{country}; identity recorded (sealed)",
                referral_source.as_str(),
                list(exploitation_types, |t| t.as_str()),
            )
        }
        CaseEvent::VictimProfileRecorded { recorded_on, .. } => {
            format!("Profile for the IOM data standard recorded on {recorded_on}")
        }
        CaseEvent::GuardianConsentRecorded { consent } => {
            format!("Consent on the minor's behalf given by {} on {}", consent.given_by.as_str(), consent.given_on)
        }
        CaseEvent::IdentityUpdated { .. } => "Client identity updated (sealed)".into(),
        CaseEvent::ConsentGiven { scopes, given_on } => {
            format!("Consent given to {} on {given_on}", list(scopes, |s| s.as_str()))
        }
        CaseEvent::ConsentWithdrawn { scopes, withdrawn_on } => {
            format!("Consent to {} withdrawn on {withdrawn_on}", list(scopes, |s| s.as_str()))
        }
        CaseEvent::ReferredToService { service, referred_on, .. } => {
            format!("Referred to {} services on {referred_on}", service.as_str())
        }
        CaseEvent::LawyerAssigned { lawyer_id, assigned_on, replaces } => {
            let replacing = replaces.map(|r| format!(", replacing {}", lawyer_name(&r, lawyers))).unwrap_or_default();
            format!("Assigned to {} on {assigned_on}{replacing}", lawyer_name(lawyer_id, lawyers))
        }
        CaseEvent::AssignmentAccepted { lawyer_id, accepted_on } => {
            format!("Assignment accepted by {} on {accepted_on}", lawyer_name(lawyer_id, lawyers))
        }
        CaseEvent::AssignmentDeclined { lawyer_id, declined_on, .. } => {
            format!("Assignment declined by {} on {declined_on} (reason recorded)", lawyer_name(lawyer_id, lawyers))
        }
        CaseEvent::LegalActionRecorded { kind, taken_on, note } => {
            let note = if note.is_some() { "; note recorded (sealed)" } else { "" };
            format!("Legal action {} on {taken_on}{note}", kind.as_str())
        }
        CaseEvent::PoliceReportFiled { report_id, filed_on, lawyer_id, initiated_by, .. } => {
            let by = initiated_by.map(|i| format!(", started by {}", i.as_str())).unwrap_or_default();
            format!(
                "Police report filed on {filed_on} by {} ({}{by})",
                lawyer_name(lawyer_id, lawyers),
                report(report_id)
            )
        }
        CaseEvent::OffenseRegistered { report_id, offense: o, registered_on, .. } => {
            format!("Offence registered as {} on {registered_on} ({})", offense(o), report(report_id))
        }
        CaseEvent::RegistrationRefused { report_id, decided_on, .. } => {
            format!("Registration refused on {decided_on} ({}; reason recorded)", report(report_id))
        }
        CaseEvent::OffenseReclassified { report_id, from, to, decided_on, decided_by, .. } => format!(
            "Offence reclassified from {} to {} by {} on {decided_on} ({})",
            offense(from),
            offense(to),
            decided_by.as_str(),
            report(report_id)
        ),
        CaseEvent::InvestigationOutcomeRecorded { report_id, outcome, decided_on, .. } => {
            format!("Investigation outcome {} on {decided_on} ({})", outcome.as_str(), report(report_id))
        }
        CaseEvent::VerdictRecorded {
            report_id,
            outcome,
            offense: o,
            decided_on,
            sentence_months,
            compensation_awarded,
            instance,
        } => {
            let mut s = format!("Verdict {}", outcome.as_str());
            if !instance.is_first() {
                s.push_str(&format!(" on {}", instance.as_str()));
            }
            if let Some(o) = o {
                s.push_str(&format!(" under {}", offense(o)));
            }
            s.push_str(&format!(" on {decided_on} ({})", report(report_id)));
            if let Some(m) = sentence_months {
                s.push_str(&format!(", sentence {m} months"));
            }
            match compensation_awarded {
                Some(true) => s.push_str(", compensation awarded"),
                Some(false) => s.push_str(", no compensation"),
                None => {}
            }
            s
        }
        CaseEvent::DefendantAdded { report_id, gender, role, charged_with, added_on, .. } => {
            let charge = charged_with.as_ref().map(|o| format!(", charged under {}", offense(o))).unwrap_or_default();
            format!(
                "Defendant recorded on {added_on}: {}, {}{charge} ({})",
                gender.as_str(),
                role.as_str(),
                report(report_id)
            )
        }
        CaseEvent::DefendantVerdictRecorded { report_id, outcome, offense: o, decided_on, sentence_months, .. } => {
            let mut s = format!("Defendant's verdict {}", outcome.as_str());
            if let Some(o) = o {
                s.push_str(&format!(" under {}", offense(o)));
            }
            s.push_str(&format!(" on {decided_on} ({})", report(report_id)));
            if let Some(m) = sentence_months {
                s.push_str(&format!(", sentence {m} months"));
            }
            s
        }
        CaseEvent::CompensationClaimed { report_id, amount, currency, claimed_on } => {
            format!("Compensation of {amount} {} claimed on {claimed_on} ({})", currency.as_str(), report(report_id))
        }
        CaseEvent::CompensationAwarded { report_id, amount, currency, awarded_on } => {
            format!("Compensation of {amount} {} awarded on {awarded_on} ({})", currency.as_str(), report(report_id))
        }
        CaseEvent::CompensationPaid { report_id, amount, currency, paid_on } => {
            format!("Compensation of {amount} {} paid on {paid_on} ({})", currency.as_str(), report(report_id))
        }
        CaseEvent::HearingScheduled { .. }
        | CaseEvent::HearingHeld { .. }
        | CaseEvent::HearingPostponed { .. }
        | CaseEvent::ComplaintFiled { .. }
        | CaseEvent::ComplaintDecided { .. }
        | CaseEvent::AppealFiled { .. }
        | CaseEvent::CaseTransferred { .. }
        | CaseEvent::ReferralOutcomeRecorded { .. }
        | CaseEvent::VictimStatusDecided { .. } => proceedings(e),
        CaseEvent::CaseClosed { closed_on, .. } => format!("Case closed on {closed_on} (reason recorded)"),
        CaseEvent::CaseReopened { reopened_on, .. } => format!("Case reopened on {reopened_on} (reason recorded)"),
        CaseEvent::ClientDataErased { erased_on, .. } => {
            format!("Client data erased on {erased_on}: the identity key was destroyed")
        }
    }
}

impl Summarized for ErasureRequests {
    fn summary(e: &ErasureEvent, _: &LawyerNames) -> String {
        match e {
            ErasureEvent::ErasureRequested { request_id, requested_by, .. } => {
                format!("Erasure of the client's data requested by account {requested_by} (request {request_id}, reason recorded)")
            }
            ErasureEvent::ErasureApproved { request_id, approved_by } => {
                format!("Erasure request {request_id} approved by account {approved_by}")
            }
            ErasureEvent::ErasureRejected { request_id, rejected_by, .. } => {
                format!("Erasure request {request_id} turned down by account {rejected_by} (reason recorded)")
            }
        }
    }
}

/// The lines of the proceedings events (apart, so `case` stays small on the stack).
#[inline(never)]
fn proceedings(e: &CaseEvent) -> String {
    match e {
        CaseEvent::HearingScheduled { report_id, on, instance, .. } => {
            format!("Hearing ({}) scheduled for {on} ({})", instance.as_str(), report(report_id))
        }
        CaseEvent::HearingHeld { report_id, held_on, .. } => format!("Hearing held on {held_on} ({})", report(report_id)),
        CaseEvent::HearingPostponed { report_id, from, to, postponed_on, .. } => {
            format!("Hearing of {from} postponed to {to} on {postponed_on} ({})", report(report_id))
        }
        CaseEvent::ComplaintFiled { report_id, against, filed_with, filed_on, .. } => format!(
            "Complaint against {} filed with {} on {filed_on} ({})",
            against.as_str(),
            filed_with.as_str(),
            report(report_id)
        ),
        CaseEvent::ComplaintDecided { report_id, outcome, decided_on, .. } => {
            format!("Complaint {} on {decided_on} ({})", outcome.as_str(), report(report_id))
        }
        CaseEvent::AppealFiled { report_id, instance, filed_on, .. } => {
            format!("Appeal to {} filed on {filed_on} ({})", instance.as_str(), report(report_id))
        }
        CaseEvent::CaseTransferred { from_organization_id, to_organization_id, transferred_on, .. } => format!(
            "Case transferred from organisation {from_organization_id} to {to_organization_id} on {transferred_on} (reason recorded)"
        ),
        CaseEvent::ReferralOutcomeRecorded { referral, outcome, on } => {
            format!("Referral {} outcome {} on {on}", referral + 1, outcome.as_str())
        }
        CaseEvent::VictimStatusDecided { granted, decided_on, .. } => {
            let what = if *granted { "granted" } else { "refused" };
            format!("Victim status {what} on {decided_on} (deciding body recorded)")
        }
        _ => String::new(),
    }
}

fn account(e: &AccountEvent) -> String {
    match e {
        AccountEvent::AccountCreated { name, role, .. } => {
            format!("Account {} created as {}", name.as_str(), role.as_str())
        }
        AccountEvent::TokenIssued { token_id, .. } => format!("Access token {token_id} issued"),
        AccountEvent::TokenRevoked { token_id } => format!("Access token {token_id} revoked"),
        AccountEvent::AccountDisabled { .. } => "Account disabled (reason recorded)".into(),
        AccountEvent::AccountApproved { approved_by } => {
            format!("Account approved by account {approved_by}: it may now read client identity")
        }
    }
}

fn lawyer(e: &LawyerEvent) -> String {
    match e {
        LawyerEvent::LawyerRegistered { full_name, status, region, registered_on, .. } => format!(
            "Lawyer {} registered on {registered_on} ({}, {})",
            full_name.as_str(),
            status.as_str(),
            region.as_str()
        ),
        LawyerEvent::TrainingRecorded { completed_on, .. } => format!("Training completed on {completed_on}"),
        LawyerEvent::CapacitySet { max_active_cases } => format!("Capacity set to {max_active_cases} active cases"),
        LawyerEvent::LawyerDeactivated { deactivated_on, .. } => {
            format!("Lawyer deactivated on {deactivated_on} (reason recorded)")
        }
        LawyerEvent::LawyerReactivated { reactivated_on } => format!("Lawyer reactivated on {reactivated_on}"),
    }
}

fn organization(e: &OrganizationEvent) -> String {
    match e {
        OrganizationEvent::OrganizationRegistered { name, kind, .. } => {
            format!("Organisation {} registered ({})", name.as_str(), kind.as_str())
        }
        OrganizationEvent::OrganizationRenamed { name } => format!("Organisation renamed to {}", name.as_str()),
    }
}

fn catalogue(e: &CatalogueEvent) -> String {
    match e {
        CatalogueEvent::CatalogueImported { version, offenses } => {
            format!("Offence catalogue version {version} imported ({} entries)", offenses.len())
        }
        CatalogueEvent::OffenseAdded { entry } => {
            format!("Offence {} added ({})", entry.code, entry.category.as_str())
        }
        CatalogueEvent::OffenseRetired { code, .. } => format!("Offence {code} retired (reason recorded)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::case::ClientProfile;
    use domain::values::*;
    use domain::Sealed;
    use serde_json::json;

    fn date(s: &str) -> chrono::NaiveDate {
        s.parse().unwrap()
    }

    fn text(s: &str) -> Text {
        Text::parse("t", s).unwrap()
    }

    fn summary(e: &CaseEvent, lawyers: &LawyerNames) -> String {
        summarize(Case::TYPE, "X", "1.0", &serde_json::to_value(e).unwrap(), lawyers)
    }

    #[test]
    fn a_reclassification_names_both_offences_and_the_authority() {
        let e = CaseEvent::OffenseReclassified {
            report_id: Uuid::parse_str("1a2b3c4d-0000-4000-8000-000000000000").unwrap(),
            from: OffenseRef { code: "2021-209".into(), category: OffenseCategory::Fraud },
            to: OffenseRef { code: "2021-166".into(), category: OffenseCategory::Tip },
            decided_on: date("2020-09-01"),
            decided_by: Authority::Prosecutor,
            reason: text("the prosecutor's review found recruitment"),
        };
        assert_eq!(
            summary(&e, &LawyerNames::new()),
            "Offence reclassified from 2021-209 (FRAUD) to 2021-166 (TIP) by PROSECUTOR on 2020-09-01 (report 1a2b3c4d)"
        );
    }

    #[test]
    fn summaries_never_repeat_free_text_and_say_when_identity_is_sealed() {
        // Free text typed by people may contain a client's name: none of it is repeated.
        let name = "Zarina Kadyrova";
        let sealed = Sealed { alg: "A256GCM".into(), nonce: "bm9uY2U=".into(), ciphertext: "Y2lwaGVy".into() };
        let lawyer = Uuid::new_v4();
        let events = [
            CaseEvent::IntakeOpened {
                case_id: Uuid::new_v4(),
                organization_id: Uuid::new_v4(),
                identified_on: date("2020-03-02"),
                referral_source: ReferralSource::NgoOutreach,
                exploitation_types: vec![ExploitationType::ForcedLabor],
                country_of_exploitation: Some(CountryCode::parse("c", "RU").unwrap()),
                client: ClientProfile {
                    gender: Gender::Male,
                    age_at_identification: Some(34),
                    citizenship: None,
                    region: None,
                },
                identity: sealed.clone(),
                profile: Default::default(),
                guardian_consent: None,
            },
            CaseEvent::AssignmentDeclined { lawyer_id: lawyer, declined_on: date("2020-03-05"), reason: text(name) },
            CaseEvent::ReferredToService {
                service: ProtectionService::Shelter,
                referred_on: date("2020-03-05"),
                provider: Some(text(name)),
            },
            CaseEvent::LegalActionRecorded {
                kind: LegalActionKind::Consultation,
                taken_on: date("2020-03-06"),
                note: Some(sealed),
            },
            CaseEvent::CaseClosed { reason: text(name), closed_on: date("2021-01-01") },
        ];
        let names = LawyerNames::from([(lawyer, "Aida Lawyer".to_string())]);
        let lines: Vec<String> = events.iter().map(|e| summary(e, &names)).collect();
        for line in &lines {
            assert!(!line.contains("Zarina"), "{line}");
        }
        assert!(lines[0].ends_with("identity recorded (sealed)"), "{}", lines[0]);
        assert!(lines[0].contains("FORCED_LABOR in RU"), "{}", lines[0]);
        assert_eq!(lines[1], "Assignment declined by lawyer Aida Lawyer on 2020-03-05 (reason recorded)");
        assert!(lines[3].ends_with("note recorded (sealed)"), "{}", lines[3]);
    }

    #[test]
    fn an_unreadable_payload_still_gets_a_line() {
        let s = summarize(
            Case::TYPE,
            "OffenseRegistered",
            "1.0",
            &json!({"OffenseRegistered": {"tampered": true}}),
            &LawyerNames::new(),
        );
        assert_eq!(s, "OffenseRegistered (content not readable by this version)");
    }

    #[test]
    fn lawyers_mentioned_by_an_assignment_include_the_one_replaced() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let e = CaseEvent::LawyerAssigned { lawyer_id: a, assigned_on: date("2020-01-01"), replaces: Some(b) };
        assert_eq!(lawyers_mentioned(Case::TYPE, &serde_json::to_value(e).unwrap()), vec![a, b]);
    }
}
