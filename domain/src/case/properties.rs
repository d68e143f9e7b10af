//! Model-based property tests of the case aggregate.
//!
//! Random sequences of commands, drawn from a small world of people, police reports, dates
//! and offences, go through `Case::decide` + `Aggregate::apply` exactly as the command
//! handler runs them. A separate, deliberately naive model of DESIGN.md §2 predicts whether
//! each command must be accepted and what the case then looks like. After every command:
//! the aggregate agrees with the model on acceptance and on state, the headline invariants
//! hold on the events it produced, and replaying every accepted event (after a round trip
//! through the stored JSON form) from `Case::default()` gives the incrementally built state.

use super::*;
use crate::actor::Actor;
use crate::offense::OffenseRef;
use crate::sealed::Sealed;
use crate::values::*;
use chrono::NaiveDate;
use cqrs_es::Aggregate;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

const ORG: Uuid = Uuid::from_u128(0x0A515);
const LAWYERS: [Uuid; 2] = [Uuid::from_u128(0xA), Uuid::from_u128(0xB)];
const REPORTS: [Uuid; 3] = [Uuid::from_u128(0x1001), Uuid::from_u128(0x1002), Uuid::from_u128(0x1003)];
const CODES: [(&str, OffenseCategory); 3] =
    [("2021-209", OffenseCategory::Fraud), ("2021-166", OffenseCategory::Tip), ("2021-167", OffenseCategory::Tip)];

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid calendar date in a test")
}

fn today() -> NaiveDate {
    day(2024, 6, 15)
}

/// Dates a command may carry: around the usual intake day, today and tomorrow.
fn dates() -> [NaiveDate; 7] {
    [day(2024, 2, 29), day(2024, 3, 1), day(2024, 3, 20), day(2024, 4, 1), day(2024, 5, 1), today(), day(2024, 6, 16)]
}

fn text(s: &str) -> Text {
    Text::parse("test", s).expect("valid test text")
}

fn sealed(ok: bool) -> Sealed {
    Sealed {
        alg: "AES-256-GCM".into(),
        nonce: "bm9uY2U=".into(),
        ciphertext: if ok { "Y2lwaGVy".into() } else { "".into() },
    }
}

fn offense(i: usize) -> OffenseRef {
    OffenseRef { code: CODES[i].0.into(), category: CODES[i].1 }
}

/// The people who may issue commands: 0 and 1 are the two lawyers.
fn actor(i: usize) -> Actor {
    let id = |n: u128| Uuid::from_u128(0x1_0000 + n);
    match i {
        0 | 1 => {
            Actor { account_id: id(i as u128), role: Role::Lawyer, organization_id: None, lawyer_id: Some(LAWYERS[i]) }
        }
        2 => Actor { account_id: id(2), role: Role::Coordinator, organization_id: None, lawyer_id: None },
        3 => Actor { account_id: id(3), role: Role::IntakeWorker, organization_id: Some(ORG), lawyer_id: None },
        _ => Actor::system(),
    }
}

const SCOPES: [ConsentScope; 3] = [ConsentScope::LegalAid, ConsentScope::ReportToPolice, ConsentScope::DataSharing];

fn scopes(mask: u8) -> Vec<ConsentScope> {
    SCOPES.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, s)| *s).collect()
}

/// A command as drawn: indices into the small world above.
#[derive(Debug, Clone)]
enum Spec {
    Open {
        date: usize,
        consent: u8,
        no_types: bool,
        bad_identity: bool,
    },
    UpdateIdentity {
        bad: bool,
    },
    GiveConsent {
        mask: u8,
        date: usize,
    },
    WithdrawConsent {
        mask: u8,
        date: usize,
    },
    Refer {
        date: usize,
    },
    Assign {
        lawyer: usize,
    },
    Accept,
    Decline,
    LegalAction {
        note: bool,
        date: usize,
    },
    File {
        report: usize,
        date: usize,
    },
    Register {
        report: usize,
        code: usize,
        date: usize,
    },
    Refuse {
        report: usize,
        date: usize,
    },
    Reclassify {
        report: usize,
        code: usize,
        date: usize,
    },
    Outcome {
        report: usize,
        outcome: usize,
        date: usize,
    },
    Verdict {
        report: usize,
        date: usize,
    },
    Close,
    Reopen,
    Erase,
    /// Whatever moves this case on, as the model sees it (see [`Model::progress`]): keeps
    /// random sequences from stalling before police reports, registrations and verdicts.
    Progress {
        report: usize,
        code: usize,
        outcome: usize,
    },
}

const OUTCOMES: [InvestigationOutcome; 3] = [
    InvestigationOutcome::Terminated,
    InvestigationOutcome::ReturnedForInvestigation,
    InvestigationOutcome::SentToCourt,
];

impl Spec {
    fn kind(&self) -> &'static str {
        match self {
            Spec::Open { .. } => "OpenIntake",
            Spec::UpdateIdentity { .. } => "UpdateIdentity",
            Spec::GiveConsent { .. } => "GiveConsent",
            Spec::WithdrawConsent { .. } => "WithdrawConsent",
            Spec::Refer { .. } => "ReferToService",
            Spec::Assign { .. } => "AssignLawyer",
            Spec::Accept => "AcceptAssignment",
            Spec::Decline => "DeclineAssignment",
            Spec::LegalAction { .. } => "RecordLegalAction",
            Spec::File { .. } => "FilePoliceReport",
            Spec::Register { .. } => "RecordOffenseRegistration",
            Spec::Refuse { .. } => "RecordRegistrationRefused",
            Spec::Reclassify { .. } => "ReclassifyOffense",
            Spec::Outcome { .. } => "RecordInvestigationOutcome",
            Spec::Verdict { .. } => "RecordVerdict",
            Spec::Close => "CloseCase",
            Spec::Reopen => "ReopenCase",
            Spec::Erase => "EraseClientData",
            Spec::Progress { .. } => "Progress",
        }
    }

    fn command(&self) -> CaseCommand {
        use CaseCommand as C;
        let d = |i: usize| dates()[i];
        match *self {
            Spec::Open { date, consent, no_types, bad_identity } => C::OpenIntake(OpenIntake {
                case_id: Uuid::from_u128(0xCA5E),
                organization_id: ORG,
                identified_on: d(date),
                referral_source: ReferralSource::Hotline,
                exploitation_types: if no_types { vec![] } else { vec![ExploitationType::ForcedLabor] },
                country_of_exploitation: None,
                client: ClientProfile {
                    gender: Gender::Female,
                    age_at_identification: Some(17),
                    citizenship: None,
                    region: None,
                },
                identity: sealed(!bad_identity),
                consent: ConsentGrant {
                    legal_aid: consent & 1 != 0,
                    report_to_police: consent & 2 != 0,
                    data_sharing: consent & 4 != 0,
                },
                profile: VictimProfile::default(),
                // The client is 17: a parent consents, so legal-aid consent is effective.
                guardian_consent: Some(GuardianConsent { given_by: GuardianKind::Parent, given_on: d(date) }),
            }),
            Spec::UpdateIdentity { bad } => C::UpdateIdentity { identity: sealed(!bad) },
            Spec::GiveConsent { mask, date } => C::GiveConsent { scopes: scopes(mask), given_on: d(date) },
            Spec::WithdrawConsent { mask, date } => C::WithdrawConsent { scopes: scopes(mask), withdrawn_on: d(date) },
            Spec::Refer { date } => C::ReferToService(ReferToService {
                service: ProtectionService::Shelter,
                referred_on: d(date),
                provider: None,
            }),
            Spec::Assign { lawyer } => C::AssignLawyer { lawyer_id: LAWYERS[lawyer], assigned_on: None },
            Spec::Accept => C::AcceptAssignment { accepted_on: None },
            Spec::Decline => C::DeclineAssignment { reason: text("no capacity"), declined_on: None },
            Spec::LegalAction { note, date } => C::RecordLegalAction(RecordLegalAction {
                kind: LegalActionKind::Consultation,
                taken_on: d(date),
                note: note.then(|| sealed(true)),
            }),
            Spec::File { report, date } => C::FilePoliceReport(FilePoliceReport {
                initiated_by: Default::default(),
                report_id: REPORTS[report],
                filed_on: d(date),
                police_unit: text("Osh city police"),
                reference_number: None,
            }),
            Spec::Register { report, code, date } => C::RecordOffenseRegistration(RecordOffenseRegistration {
                decided_by: Default::default(),
                report_id: REPORTS[report],
                offense: offense(code),
                registered_on: d(date),
                registry_number: None,
            }),
            Spec::Refuse { report, date } => C::RecordRegistrationRefused(RecordRegistrationRefused {
                decided_by: Default::default(),
                report_id: REPORTS[report],
                decided_on: d(date),
                reason: text("no elements of a crime"),
            }),
            Spec::Reclassify { report, code, date } => C::ReclassifyOffense(ReclassifyOffense {
                report_id: REPORTS[report],
                offense: offense(code),
                decided_on: d(date),
                decided_by: Authority::Prosecutor,
                reason: text("review"),
            }),
            Spec::Outcome { report, outcome, date } => C::RecordInvestigationOutcome(RecordInvestigationOutcome {
                decided_by: Default::default(),
                report_id: REPORTS[report],
                outcome: OUTCOMES[outcome],
                decided_on: d(date),
                note: None,
            }),
            Spec::Verdict { report, date } => C::RecordVerdict(RecordVerdict {
                instance: Default::default(),
                report_id: REPORTS[report],
                outcome: VerdictOutcome::Convicted,
                offense: None,
                decided_on: d(date),
                sentence_months: Some(60),
                compensation_awarded: None,
            }),
            Spec::Close => C::CloseCase { reason: text("done"), closed_on: None },
            Spec::Reopen => C::ReopenCase { reason: text("new facts"), reopened_on: None },
            Spec::Erase => C::EraseClientData { reason: text("client asked") },
            Spec::Progress { .. } => unreachable!("resolved by the model before it becomes a command"),
        }
    }
}

fn spec() -> impl Strategy<Value = Spec> {
    // Mostly dates a rule accepts, so that sequences get far; some that it must refuse.
    let date = prop_oneof![1 => Just(0usize), 1 => Just(1usize), 1 => Just(2usize), 2 => Just(3usize),
        2 => Just(4usize), 5 => Just(5usize), 1 => Just(6usize)];
    let report = prop_oneof![3 => Just(0usize), 2 => Just(1usize), 1 => Just(2usize)];
    prop_oneof![
        1 => (date.clone(), 0u8..8, prop::bool::weighted(0.1), prop::bool::weighted(0.1))
            .prop_map(|(date, consent, no_types, bad_identity)| Spec::Open { date, consent, no_types, bad_identity }),
        1 => prop::bool::weighted(0.2).prop_map(|bad| Spec::UpdateIdentity { bad }),
        2 => (0u8..8, date.clone()).prop_map(|(mask, date)| Spec::GiveConsent { mask, date }),
        1 => (0u8..8, date.clone()).prop_map(|(mask, date)| Spec::WithdrawConsent { mask, date }),
        1 => date.clone().prop_map(|date| Spec::Refer { date }),
        1 => prop_oneof![6 => Just(0usize), 1 => Just(1usize)].prop_map(|lawyer| Spec::Assign { lawyer }),
        4 => Just(Spec::Accept),
        2 => Just(Spec::Decline),
        1 => (any::<bool>(), date.clone()).prop_map(|(note, date)| Spec::LegalAction { note, date }),
        4 => (report.clone(), date.clone()).prop_map(|(report, date)| Spec::File { report, date }),
        4 => (report.clone(), 0..CODES.len(), date.clone())
            .prop_map(|(report, code, date)| Spec::Register { report, code, date }),
        3 => (report.clone(), date.clone()).prop_map(|(report, date)| Spec::Refuse { report, date }),
        3 => (report.clone(), 0..CODES.len(), date.clone())
            .prop_map(|(report, code, date)| Spec::Reclassify { report, code, date }),
        4 => (report.clone(), 0..OUTCOMES.len(), date.clone())
            .prop_map(|(report, outcome, date)| Spec::Outcome { report, outcome, date }),
        3 => (report, date).prop_map(|(report, date)| Spec::Verdict { report, date }),
        1 => Just(Spec::Close),
        2 => Just(Spec::Reopen),
        1 => Just(Spec::Erase),
        16 => (0usize..REPORTS.len(), 0..CODES.len(), 0..OUTCOMES.len())
            .prop_map(|(report, code, outcome)| Spec::Progress { report, code, outcome }),
    ]
}

/// Who issues a command: mostly the person who usually would (lawyer A for a lawyer's act,
/// the coordinator for an assignment, the intake worker otherwise), sometimes anyone.
fn who(spec: &Spec) -> impl Strategy<Value = usize> {
    let usual = match spec {
        Spec::Assign { .. } => 2,
        Spec::Open { .. } | Spec::GiveConsent { .. } | Spec::WithdrawConsent { .. } | Spec::Refer { .. } => 3,
        Spec::UpdateIdentity { .. } | Spec::Erase => 4,
        _ => 0,
    };
    prop_oneof![5 => Just(usual), 2 => 0usize..5]
}

/// A case's history as drawn: an intake attempt, then up to 39 more commands.
fn sequence() -> impl Strategy<Value = Vec<(usize, Spec)>> {
    let first = (0usize..5, prop_oneof![4 => Just(3u8), 1 => 0u8..8])
        .prop_map(|(date, consent)| (3usize, Spec::Open { date, consent, no_types: false, bad_identity: false }));
    let step = spec().prop_flat_map(|s| (who(&s), Just(s)));
    (first, prop::collection::vec(step, 10..40)).prop_map(|(f, mut rest)| {
        rest.insert(0, f);
        rest
    })
}

#[derive(Debug, Clone, PartialEq)]
struct ModelReport {
    id: Uuid,
    filed_on: NaiveDate,
    current: Option<String>,
    sent_to_court: bool,
    verdict: bool,
}

/// DESIGN.md §2, written down again without looking at how the aggregate does it.
#[derive(Debug, Clone, Default)]
struct Model {
    opened: bool,
    closed: bool,
    erased: bool,
    identified_on: Option<NaiveDate>,
    consent: BTreeSet<ConsentScope>,
    /// The assigned lawyer and whether they accepted.
    lawyer: Option<(Uuid, bool)>,
    reports: Vec<ModelReport>,
}

impl Model {
    fn date_ok(&self, d: NaiveDate, not_before: Option<NaiveDate>) -> bool {
        d <= today() && self.identified_on.is_none_or(|i| d >= i) && not_before.is_none_or(|n| d >= n)
    }

    /// The actor is the assigned lawyer, who accepted.
    fn is_acting_lawyer(&self, a: &Actor) -> bool {
        a.role == Role::Lawyer && matches!(self.lawyer, Some((l, true)) if a.lawyer_id == Some(l))
    }

    /// Lawyers act only on their own case; other roles are scoped by the edge.
    fn in_scope(&self, a: &Actor) -> bool {
        a.role != Role::Lawyer || self.is_acting_lawyer(a)
    }

    fn report(&self, i: usize) -> Option<&ModelReport> {
        self.reports.iter().find(|r| r.id == REPORTS[i])
    }

    /// The next natural step of the case, by the person who would take it.
    fn progress(&self, report: usize, code: usize, outcome: usize) -> (usize, Spec) {
        const TODAY: usize = 5;
        let lawyer_index = |l: Uuid| LAWYERS.iter().position(|x| *x == l).unwrap_or(0);
        if !self.opened {
            return (3, Spec::Open { date: 1, consent: 3, no_types: false, bad_identity: false });
        }
        if self.closed {
            return (3, Spec::Reopen);
        }
        if !self.consent.contains(&ConsentScope::LegalAid) {
            return (3, Spec::GiveConsent { mask: 1, date: TODAY });
        }
        let lawyer = match self.lawyer {
            None => return (2, Spec::Assign { lawyer: 0 }),
            Some((l, false)) => return (lawyer_index(l), Spec::Accept),
            Some((l, true)) => lawyer_index(l),
        };
        let spec = match self.report(report) {
            None if !self.consent.contains(&ConsentScope::ReportToPolice) => {
                return (3, Spec::GiveConsent { mask: 2, date: TODAY })
            }
            None => Spec::File { report, date: TODAY },
            Some(r) if r.current.is_none() => Spec::Register { report, code, date: TODAY },
            Some(r) if r.verdict => {
                let other = (0..CODES.len()).find(|c| Some(CODES[*c].0) != r.current.as_deref()).unwrap_or(0);
                Spec::Reclassify { report, code: other, date: TODAY }
            }
            Some(r) if r.sent_to_court => Spec::Verdict { report, date: TODAY },
            Some(_) => Spec::Outcome { report, outcome, date: TODAY },
        };
        (lawyer, spec)
    }

    /// Whether the command must be accepted.
    fn accepts(&self, a: &Actor, s: &Spec) -> bool {
        let d = |i: usize| dates()[i];
        let live = self.opened && !self.closed;
        let by_lawyer_on_report = |i: usize, date: usize, pred: &dyn Fn(&ModelReport) -> bool| {
            live && self.is_acting_lawyer(a)
                && self.report(i).is_some_and(|r| pred(r) && self.date_ok(d(date), Some(r.filed_on)))
        };
        match *s {
            Spec::Open { date, no_types, bad_identity, .. } => {
                !self.opened && d(date) <= today() && !no_types && !bad_identity
            }
            Spec::UpdateIdentity { bad } => live && !self.erased && self.in_scope(a) && !bad,
            Spec::GiveConsent { mask, date } => {
                live && self.in_scope(a)
                    && self.date_ok(d(date), None)
                    && scopes(mask).iter().any(|s| !self.consent.contains(s))
            }
            Spec::WithdrawConsent { mask, date } => {
                live && self.in_scope(a)
                    && self.date_ok(d(date), None)
                    && scopes(mask).iter().any(|s| self.consent.contains(s))
            }
            Spec::Refer { date } => live && self.in_scope(a) && self.date_ok(d(date), None),
            Spec::Assign { lawyer } => {
                // Who may assign is the access policy's (api::access::policy), not the case's.
                live && self.consent.contains(&ConsentScope::LegalAid)
                    && self.lawyer.is_none_or(|(l, _)| l != LAWYERS[lawyer])
            }
            Spec::Accept | Spec::Decline => {
                live && a.role == Role::Lawyer && matches!(self.lawyer, Some((l, false)) if a.lawyer_id == Some(l))
            }
            Spec::LegalAction { note, date } => {
                live && self.is_acting_lawyer(a) && !(self.erased && note) && self.date_ok(d(date), None)
            }
            Spec::File { report, date } => {
                live && self.is_acting_lawyer(a)
                    && self.consent.contains(&ConsentScope::ReportToPolice)
                    && self.report(report).is_none()
                    && self.date_ok(d(date), None)
            }
            Spec::Register { report, date, .. } | Spec::Refuse { report, date } => {
                by_lawyer_on_report(report, date, &|r| r.current.is_none())
            }
            Spec::Reclassify { report, code, date } => {
                by_lawyer_on_report(report, date, &|r| r.current.as_deref().is_some_and(|c| c != CODES[code].0))
            }
            Spec::Outcome { report, date, .. } => {
                by_lawyer_on_report(report, date, &|r| r.current.is_some() && !r.verdict)
            }
            Spec::Verdict { report, date } => by_lawyer_on_report(report, date, &|r| r.sent_to_court && !r.verdict),
            Spec::Close => live && self.in_scope(a),
            Spec::Reopen => self.opened && self.closed && self.in_scope(a),
            Spec::Erase => self.opened && !self.erased,
            Spec::Progress { .. } => unreachable!("resolved by the model before it is judged"),
        }
    }

    /// Records an accepted command.
    fn accept(&mut self, s: &Spec) {
        let d = |i: usize| dates()[i];
        fn report(m: &mut Model, i: usize) -> Option<&mut ModelReport> {
            m.reports.iter_mut().find(|r| r.id == REPORTS[i])
        }
        match *s {
            Spec::Open { date, consent, .. } => {
                self.opened = true;
                self.identified_on = Some(d(date));
                self.consent = scopes(consent).into_iter().collect();
            }
            Spec::GiveConsent { mask, .. } => self.consent.extend(scopes(mask)),
            Spec::WithdrawConsent { mask, .. } => {
                for s in scopes(mask) {
                    self.consent.remove(&s);
                }
            }
            Spec::Assign { lawyer } => self.lawyer = Some((LAWYERS[lawyer], false)),
            Spec::Accept => self.lawyer = self.lawyer.map(|(l, _)| (l, true)),
            Spec::Decline => self.lawyer = None,
            Spec::File { report, date } => self.reports.push(ModelReport {
                id: REPORTS[report],
                filed_on: d(date),
                current: None,
                sent_to_court: false,
                verdict: false,
            }),
            Spec::Register { report: i, code, .. } | Spec::Reclassify { report: i, code, .. } => {
                if let Some(r) = report(self, i) {
                    r.current = Some(CODES[code].0.to_string());
                }
            }
            Spec::Outcome { report: i, outcome, .. } => {
                if let Some(r) = report(self, i) {
                    r.sent_to_court = OUTCOMES[outcome] == InvestigationOutcome::SentToCourt;
                }
            }
            Spec::Verdict { report: i, .. } => {
                if let Some(r) = report(self, i) {
                    r.verdict = true;
                }
            }
            Spec::Close => self.closed = true,
            Spec::Reopen => self.closed = false,
            Spec::Erase => self.erased = true,
            Spec::UpdateIdentity { .. }
            | Spec::Refer { .. }
            | Spec::LegalAction { .. }
            | Spec::Refuse { .. }
            | Spec::Progress { .. } => {}
        }
    }

    /// The aggregate's state says what the model says.
    fn check(&self, case: &Case) -> Result<(), TestCaseError> {
        let state = match (self.opened, self.closed) {
            (false, _) => CaseState::NotOpened,
            (true, false) => CaseState::Open,
            (true, true) => CaseState::Closed,
        };
        prop_assert_eq!(case.state, state);
        prop_assert_eq!(case.erased, self.erased);
        prop_assert_eq!(case.identified_on, self.identified_on);
        prop_assert_eq!(&case.consent, &self.consent);
        prop_assert_eq!(case.assignment.as_ref().map(|a| (a.lawyer_id, a.accepted)), self.lawyer);
        let reports: Vec<ModelReport> = case
            .reports
            .iter()
            .map(|r| ModelReport {
                id: r.report_id,
                filed_on: r.filed_on,
                current: r.current.as_ref().map(|o| o.code.clone()),
                sent_to_court: r.sent_to_court,
                verdict: r.verdict,
            })
            .collect();
        prop_assert_eq!(&reports, &self.reports);
        Ok(())
    }
}

/// The rules of DESIGN.md §2 checked on what an accepted command produced, against the case
/// as it was before the command.
fn check_invariants(
    before: &Case,
    actor: &Actor,
    command: &CaseCommand,
    events: &[CaseEvent],
) -> Result<(), TestCaseError> {
    prop_assert!(!events.is_empty(), "an accepted command records something");
    if before.state == CaseState::Closed {
        prop_assert!(
            matches!(command, CaseCommand::ReopenCase { .. } | CaseCommand::EraseClientData { .. }),
            "a closed case accepted {:?}",
            command
        );
    }
    let acting_lawyer = || {
        actor.role == Role::Lawyer
            && before.assignment.as_ref().is_some_and(|a| a.accepted && actor.lawyer_id == Some(a.lawyer_id))
    };
    for e in events {
        match e {
            CaseEvent::IntakeOpened { identified_on, .. } => prop_assert!(*identified_on <= today()),
            CaseEvent::IdentityUpdated { .. } => prop_assert!(!before.erased, "identity written after erasure"),
            CaseEvent::LegalActionRecorded { note, .. } => {
                prop_assert!(acting_lawyer());
                prop_assert!(!(before.erased && note.is_some()), "a sealed note written after erasure");
            }
            CaseEvent::PoliceReportFiled { report_id, lawyer_id, filed_on, .. } => {
                prop_assert!(acting_lawyer(), "a report filed without an accepted lawyer acting");
                prop_assert_eq!(before.assignment.as_ref().map(|a| a.lawyer_id), Some(*lawyer_id));
                prop_assert!(before.consent.contains(&ConsentScope::ReportToPolice), "a report filed without consent");
                prop_assert!(before.reports.iter().all(|r| r.report_id != *report_id));
                prop_assert!(*filed_on <= today() && before.identified_on.is_some_and(|i| *filed_on >= i));
            }
            CaseEvent::OffenseRegistered { report_id, registered_on: on, .. }
            | CaseEvent::RegistrationRefused { report_id, decided_on: on, .. }
            | CaseEvent::InvestigationOutcomeRecorded { report_id, decided_on: on, .. }
            | CaseEvent::VerdictRecorded { report_id, decided_on: on, .. } => {
                prop_assert!(acting_lawyer());
                let r = before.reports.iter().find(|r| r.report_id == *report_id);
                prop_assert!(r.is_some(), "refers to a report that does not exist");
                prop_assert!(*on <= today() && r.is_some_and(|r| *on >= r.filed_on));
                if matches!(e, CaseEvent::VerdictRecorded { .. }) {
                    prop_assert!(r.is_some_and(|r| r.sent_to_court && !r.verdict));
                }
            }
            CaseEvent::OffenseReclassified { report_id, from, to, .. } => {
                prop_assert!(acting_lawyer());
                prop_assert_ne!(&from.code, &to.code, "a reclassification must change the offence");
                let r = before.reports.iter().find(|r| r.report_id == *report_id);
                prop_assert_eq!(r.and_then(|r| r.current.as_ref()), Some(from));
            }
            CaseEvent::CaseReopened { .. } => prop_assert_eq!(before.state, CaseState::Closed),
            CaseEvent::ClientDataErased { .. } => prop_assert!(!before.erased),
            _ => {}
        }
    }
    Ok(())
}

#[test]
fn random_command_sequences_keep_the_case_invariants_and_replay_to_the_same_state() {
    let accepted: RefCell<BTreeMap<&'static str, usize>> = RefCell::new(BTreeMap::new());
    let mut runner = TestRunner::new(Config { cases: 256, failure_persistence: None, ..Config::default() });
    let result = runner.run(&sequence(), |steps| {
        let mut case = Case::default();
        let mut model = Model::default();
        let mut log: Vec<serde_json::Value> = vec![];
        for (who, drawn) in &steps {
            let (who, spec) = match *drawn {
                Spec::Progress { report, code, outcome } => model.progress(report, code, outcome),
                ref other => (*who, other.clone()),
            };
            let spec = &spec;
            let actor = actor(who);
            let command = spec.command();
            let expected = model.accepts(&actor, spec);
            match case.decide(&actor, command.clone(), today()) {
                Ok(events) => {
                    prop_assert!(expected, "{:?} by {:?} was accepted; the rules refuse it", spec, actor.role);
                    check_invariants(&case, &actor, &command, &events)?;
                    for e in events {
                        log.push(serde_json::to_value(&e).map_err(|e| TestCaseError::fail(e.to_string()))?);
                        case.apply(e);
                    }
                    model.accept(spec);
                    *accepted.borrow_mut().entry(spec.kind()).or_default() += 1;
                }
                Err(e) => {
                    prop_assert!(!expected, "{:?} by {:?} was refused ({}); the rules allow it", spec, actor.role, e)
                }
            }
            model.check(&case)?;
        }
        // The stored form of the events, replayed from nothing, is the same case.
        let mut replayed = Case::default();
        for v in log {
            let e: CaseEvent = serde_json::from_value(v).map_err(|e| TestCaseError::fail(e.to_string()))?;
            replayed.apply(e);
        }
        prop_assert_eq!(replayed, case);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // A generator that never reaches the later stages of a case would prove little.
    let accepted = accepted.into_inner();
    for spec in [
        Spec::Open { date: 0, consent: 0, no_types: false, bad_identity: false },
        Spec::UpdateIdentity { bad: false },
        Spec::GiveConsent { mask: 0, date: 0 },
        Spec::WithdrawConsent { mask: 0, date: 0 },
        Spec::Refer { date: 0 },
        Spec::Assign { lawyer: 0 },
        Spec::Accept,
        Spec::Decline,
        Spec::LegalAction { note: false, date: 0 },
        Spec::File { report: 0, date: 0 },
        Spec::Register { report: 0, code: 0, date: 0 },
        Spec::Refuse { report: 0, date: 0 },
        Spec::Reclassify { report: 0, code: 0, date: 0 },
        Spec::Outcome { report: 0, outcome: 0, date: 0 },
        Spec::Verdict { report: 0, date: 0 },
        Spec::Close,
        Spec::Reopen,
        Spec::Erase,
    ] {
        assert!(
            accepted.get(spec.kind()).copied().unwrap_or(0) >= 3,
            "{} was accepted too rarely: {accepted:?}",
            spec.kind()
        );
    }
}
