//! Read-model persistence, in two halves: [`write`], the writes the projector makes inside
//! its transaction (nothing else in the workspace may call them), and [`query`], what the
//! API reads. The identity-read log, the one table the API writes itself, is
//! [`identity_log`]. Same SQL on both backends (see [`crate::db`]).

pub mod identity_log;
pub mod query;
pub(crate) mod write;

pub use identity_log::{identity_reads, record_identity_read, IdentityRead};
pub use query::*;

use crate::{Error, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The projector's checkpoint row name.
pub const MAIN: &str = "main";

/// Every read-model table, in the order a rebuild empties them.
pub const TABLES: &[&str] = &[
    "rm_case",
    "rm_case_exploitation",
    "rm_report",
    "rm_fact",
    "rm_lawyer",
    "rm_organization",
    "rm_account",
    "rm_token",
    "rm_offense",
    "rm_checkpoint",
];

/// A bind value for dynamically built queries.
#[derive(Debug, Clone)]
pub enum Arg {
    Text(String),
    Int(i64),
}

/// Binds every [`Arg`] in order.
macro_rules! bind_all {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                $crate::store::Arg::Text(s) => q.bind(s.clone()),
                $crate::store::Arg::Int(i) => q.bind(*i),
            };
        }
        q
    }};
}
pub(crate) use bind_all;

/// A JSON document column (`rm_case.doc`, `rm_lawyer.doc`) as its read model.
fn decode_doc<T: DeserializeOwned>(table: &'static str, id: &str, doc: &str) -> Result<T> {
    serde_json::from_str(doc).map_err(|e| Error::CorruptRow { table, id: id.to_string(), reason: e.to_string() })
}

fn encode_doc<T: Serialize>(v: &T) -> String {
    // Serialising our own plain structs cannot fail (no maps with non-string keys).
    serde_json::to_string(v).unwrap_or_default()
}
