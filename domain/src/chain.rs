//! The tamper-evident hash chain over each event stream.
//!
//! `hash = SHA-256(prev_hash ‖ canonical(event))`, per stream, starting from [`GENESIS`].
//! The canonical form is computed from the parsed JSON, not from stored bytes, because
//! PostgreSQL's jsonb reorders keys and re-spaces text: keys are sorted, there is no
//! insignificant white space, and strings use serde_json's escaping. Every value in our
//! payloads is a string, an integer, a boolean, null, an array or an object, all of which
//! survive a jsonb round trip unchanged in this form.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first event of every stream.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The fields of a stored event that the chain covers.
#[derive(Debug, Clone, Copy)]
pub struct ChainedEvent<'a> {
    pub aggregate_type: &'a str,
    pub aggregate_id: &'a str,
    pub sequence: i64,
    pub event_type: &'a str,
    pub event_version: &'a str,
    pub payload: &'a Value,
    pub metadata: &'a Value,
}

/// Writes `v` in canonical form: sorted keys, no white space.
pub fn canonical_json(v: &Value) -> String {
    let mut out = String::with_capacity(256);
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(k, out);
                out.push(':');
                write_canonical(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::String(s) => write_string(s, out),
        other => out.push_str(&other.to_string()),
    }
}

fn write_string(s: &str, out: &mut String) {
    // serde_json's escaping of a lone string is deterministic.
    out.push_str(&Value::String(s.to_owned()).to_string());
}

/// The chain hash of `event` following `prev_hash` (hex), as lower-case hex.
pub fn event_hash(prev_hash: &str, event: &ChainedEvent<'_>) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(b"\n");
    h.update(event.aggregate_type.as_bytes());
    h.update(b"\n");
    h.update(event.aggregate_id.as_bytes());
    h.update(b"\n");
    h.update(event.sequence.to_string().as_bytes());
    h.update(b"\n");
    h.update(event.event_type.as_bytes());
    h.update(b"\n");
    h.update(event.event_version.as_bytes());
    h.update(b"\n");
    h.update(canonical_json(event.payload).as_bytes());
    h.update(b"\n");
    h.update(canonical_json(event.metadata).as_bytes());
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev<'a>(payload: &'a Value, metadata: &'a Value) -> ChainedEvent<'a> {
        ChainedEvent {
            aggregate_type: "Case",
            aggregate_id: "c1",
            sequence: 1,
            event_type: "IntakeOpened",
            event_version: "1.0",
            payload,
            metadata,
        }
    }

    #[test]
    fn canonical_form_ignores_key_order_and_spacing() {
        let a: Value = serde_json::from_str(r#"{"b": 1, "a": {"y": [1, 2], "x": "é\"q"}}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"a":{"x":"é\"q","y":[1,2]},"b":1}"#).unwrap();
        assert_eq!(canonical_json(&a), canonical_json(&b));
        assert_eq!(canonical_json(&a), r#"{"a":{"x":"é\"q","y":[1,2]},"b":1}"#);
    }

    /// A known answer: two fixed events of one stream pinned to literal hashes, so a change
    /// of the canonical form (key order, escaping, separators, field order, number or
    /// literal spelling) fails here instead of silently breaking every stored ledger.
    ///
    /// The bytes hashed are, each field followed by one `\n` except the last:
    /// `prev_hash` (64 lower-case hex digits, [`GENESIS`] for the first event),
    /// `aggregate_type`, `aggregate_id`, `sequence` (decimal), `event_type`, `event_version`,
    /// the payload and the metadata in canonical JSON: object keys sorted by their UTF-8
    /// bytes, no white space, strings escaped as serde_json does (`\"`, `\\`, `\n` and the
    /// other control characters; non-ASCII text such as `—` left as raw UTF-8), integers in
    /// decimal, `true`/`false`/`null` as such. The hash is SHA-256 of those bytes, in hex.
    ///
    /// The literals were not taken from this code: they were computed by hand-writing the
    /// canonical bytes below and hashing them with coreutils, e.g. for the first event
    /// `printf '%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s' "$GENESIS" Case <id> 1 OffenseReclassified 1.0
    /// "$PAYLOAD" "$METADATA" | sha256sum`, and the code agrees with them.
    #[test]
    fn known_answer_pins_the_canonical_form() {
        let id = "00000000-0000-0000-0000-000000000001";
        // Written out of order and spaced, as PostgreSQL's jsonb might hand them back.
        let p1: Value = serde_json::from_str(
            r#"{"OffenseReclassified": {"report_id": "00000000-0000-0000-0000-000000000004",
                "to": {"code": "2021-166", "category": "TIP"}, "from": {"code": "2021-209", "category": "FRAUD"},
                "reason": "review — \"recruitment\"\nand exploitation", "decided_on": "2020-11-01", "decided_by": "PROSECUTOR"}}"#,
        )
        .unwrap();
        let m1: Value = serde_json::from_str(
            r#"{"recorded_at": "2020-11-01T10:00:00Z", "correlation_id": "req-7", "actor_role": "COORDINATOR",
                "actor_id": "00000000-0000-0000-0000-0000000000aa"}"#,
        )
        .unwrap();
        let p2: Value = serde_json::from_str(
            r#"{"VerdictRecorded": {"sentence_months": 96, "report_id": "00000000-0000-0000-0000-000000000004",
                "outcome": "CONVICTED", "offense": null, "decided_on": "2021-06-01", "compensation_awarded": true}}"#,
        )
        .unwrap();
        let m2: Value = serde_json::from_str(
            r#"{"actor_id": "00000000-0000-0000-0000-0000000000aa", "actor_role": "COORDINATOR",
                "correlation_id": "req-8", "recorded_at": "2021-06-01T09:30:00Z"}"#,
        )
        .unwrap();
        // The canonical texts, byte for byte (the `\"` and `\n` are JSON escapes).
        assert_eq!(
            canonical_json(&p1),
            r#"{"OffenseReclassified":{"decided_by":"PROSECUTOR","decided_on":"2020-11-01","from":{"category":"FRAUD","code":"2021-209"},"reason":"review — \"recruitment\"\nand exploitation","report_id":"00000000-0000-0000-0000-000000000004","to":{"category":"TIP","code":"2021-166"}}}"#
        );
        assert_eq!(
            canonical_json(&m1),
            r#"{"actor_id":"00000000-0000-0000-0000-0000000000aa","actor_role":"COORDINATOR","correlation_id":"req-7","recorded_at":"2020-11-01T10:00:00Z"}"#
        );
        assert_eq!(
            canonical_json(&p2),
            r#"{"VerdictRecorded":{"compensation_awarded":true,"decided_on":"2021-06-01","offense":null,"outcome":"CONVICTED","report_id":"00000000-0000-0000-0000-000000000004","sentence_months":96}}"#
        );
        let first = ChainedEvent {
            aggregate_type: "Case",
            aggregate_id: id,
            sequence: 1,
            event_type: "OffenseReclassified",
            event_version: "1.0",
            payload: &p1,
            metadata: &m1,
        };
        let h1 = event_hash(GENESIS, &first);
        assert_eq!(h1, "9dde5fca8c889f4c4d70921913d933a53ed667c9c77955a0b90eaa4ea8cf8354");
        let second = ChainedEvent {
            aggregate_type: "Case",
            aggregate_id: id,
            sequence: 2,
            event_type: "VerdictRecorded",
            event_version: "1.0",
            payload: &p2,
            metadata: &m2,
        };
        assert_eq!(event_hash(&h1, &second), "fad417d3e37ef7e30e2415038ea4404f0d3273c806fc50e55e8792f34e4def5e");
    }

    #[test]
    fn any_change_changes_the_hash() {
        let p = json!({"k": "v"});
        let m = json!({"actor": "a"});
        let base = event_hash(GENESIS, &ev(&p, &m));
        let p2 = json!({"k": "w"});
        assert_ne!(base, event_hash(GENESIS, &ev(&p2, &m)));
        let m2 = json!({"actor": "b"});
        assert_ne!(base, event_hash(GENESIS, &ev(&p, &m2)));
        assert_ne!(base, event_hash(&base, &ev(&p, &m)));
        let mut e = ev(&p, &m);
        e.sequence = 2;
        assert_ne!(base, event_hash(GENESIS, &e));
        assert_eq!(base.len(), 64);
    }
}
