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
