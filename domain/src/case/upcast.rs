//! Reading stored case events of older versions: every `IntakeOpened` written before the
//! HTCDS profile and the guardian's consent existed (version 1.0) is upcast to version 2.0
//! when it is read, never rewritten in the store (ADR 0016). The hash chain covers the
//! stored payload; only readers that fold events into state see the upcast one.

use super::command::VictimProfile;
use cqrs_es::persist::{EventUpcaster, SemanticVersionEventUpcaster, SerializedEvent};
use serde_json::{Map, Value};
use std::sync::OnceLock;

/// The version `IntakeOpened` is written with today.
pub const INTAKE_OPENED_VERSION: &str = "2.0";

/// `IntakeOpened` 1.0 → 2.0: the profile was not asked (an empty profile) and no guardian's
/// consent was recorded (`null`). A payload that already has the fields keeps them.
pub fn intake_opened_1_to_2(payload: Value) -> Value {
    match payload {
        Value::Object(mut outer) => {
            if let Some(Value::Object(inner)) = outer.get_mut("IntakeOpened") {
                let empty =
                    serde_json::to_value(VictimProfile::default()).unwrap_or_else(|_| Value::Object(Map::new()));
                inner.entry("profile").or_insert(empty);
                inner.entry("guardian_consent").or_insert(Value::Null);
            }
            Value::Object(outer)
        }
        other => other,
    }
}

/// The case aggregate's upcasters, oldest first, for `PersistedEventStore::with_upcasters`.
pub fn case_upcasters() -> Vec<Box<dyn EventUpcaster>> {
    vec![Box::new(SemanticVersionEventUpcaster::new(
        "IntakeOpened",
        INTAKE_OPENED_VERSION,
        Box::new(intake_opened_1_to_2),
    ))]
}

fn upcasters() -> &'static [Box<dyn EventUpcaster>] {
    static U: OnceLock<Vec<Box<dyn EventUpcaster>>> = OnceLock::new();
    U.get_or_init(case_upcasters)
}

/// Whether a stored case event of this type and version is older than today's shape, so
/// that readers can skip copying the payloads of everything else.
pub fn needs_upcast(event_type: &str, event_version: &str) -> bool {
    upcasters().iter().any(|u| u.can_upcast(event_type, event_version))
}

/// A stored case event's payload in today's shape, for readers outside cqrs-es's event store
/// (the projector, timelines, replays): the same upcasters, applied in the same order.
/// Returns the version the payload now has, and the payload.
pub fn upcast_case_payload(event_type: &str, event_version: &str, payload: Value) -> (String, Value) {
    let mut e = SerializedEvent::new(
        String::new(),
        0,
        String::new(),
        event_type.to_string(),
        event_version.to_string(),
        payload,
        Value::Null,
    );
    for u in upcasters() {
        if u.can_upcast(&e.event_type, &e.event_version) {
            e = u.upcast(e);
        }
    }
    (e.event_version, e.payload)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_version_1_intake_gains_an_empty_profile_and_no_guardian_consent() {
        let v1 = json!({"IntakeOpened": {"case_id": "x"}});
        let (version, v2) = upcast_case_payload("IntakeOpened", "1.0", v1);
        assert_eq!(version, "2.0.0");
        assert_eq!(v2["IntakeOpened"]["guardian_consent"], Value::Null);
        assert_eq!(v2["IntakeOpened"]["profile"]["means_of_control"], json!([]));
    }

    #[test]
    fn only_version_1_intakes_need_upcasting() {
        assert!(needs_upcast("IntakeOpened", "1.0"));
        assert!(!needs_upcast("IntakeOpened", "2.0"));
        assert!(!needs_upcast("ConsentGiven", "1.0"));
    }

    #[test]
    fn version_2_and_other_events_pass_unchanged() {
        let v2 = json!({"IntakeOpened": {"profile": {"industry": "F"}, "guardian_consent": null}});
        assert_eq!(upcast_case_payload("IntakeOpened", "2.0", v2.clone()).1, v2);
        let other = json!({"ConsentGiven": {"scopes": [], "given_on": "2020-01-01"}});
        assert_eq!(upcast_case_payload("ConsentGiven", "1.0", other.clone()).1, other);
    }

    #[test]
    fn an_upcast_keeps_fields_a_payload_already_has() {
        let odd = json!({"IntakeOpened": {"profile": {"industry": "A"}}});
        let (_, out) = upcast_case_payload("IntakeOpened", "1.0", odd);
        assert_eq!(out["IntakeOpened"]["profile"], json!({"industry": "A"}));
    }
}
