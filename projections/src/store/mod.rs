//! Read-model persistence, in two halves: [`write`], the writes the projector makes inside
//! its transaction (nothing else in the workspace may call them), and [`query`], what the
//! API reads, decoded once into the typed read models of [`crate::model`]. The
//! identity-read log, the one table the API writes itself, is [`identity_log`]. Same SQL on
//! both backends (see [`crate::db`]).
//!
//! Ids, dates and instants are stored as text (`Uuid` hyphenated, `YYYY-MM-DD`, RFC 3339)
//! and labels as their domain names; a stored value that does not decode is a
//! [`Error::CorruptRow`], never a panic.

pub mod erasure;
pub mod figures;
pub mod identity_log;
pub mod query;
pub(crate) mod write;

pub use erasure::{erasure_request, erasure_requests, ErasureRequestRow, ErasureStatus};
pub use figures::{published_figures, FigureRow};
pub use identity_log::{identity_reads, record_identity_read, IdentityRead};
pub use query::*;

use crate::{Error, Result};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::str::FromStr;
use uuid::Uuid;

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
    "rm_erasure_request",
    "rm_published_figure",
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

/// How instants are stored: RFC 3339 in UTC with microseconds, so text order is time order.
pub(crate) fn instant_text(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Decodes the text columns of one stored row; errors name the table, the row and the
/// column, never the value (a row may hold anything).
struct Row<'a> {
    table: &'static str,
    id: &'a str,
}

impl Row<'_> {
    fn corrupt(&self, column: &str, expected: &str) -> Error {
        Error::CorruptRow { table: self.table, id: self.id.to_string(), reason: format!("{column} is not {expected}") }
    }

    fn uuid(&self, column: &str, s: &str) -> Result<Uuid> {
        Uuid::parse_str(s).map_err(|_| self.corrupt(column, "a UUID"))
    }

    fn opt_uuid(&self, column: &str, s: Option<&str>) -> Result<Option<Uuid>> {
        s.map(|s| self.uuid(column, s)).transpose()
    }

    fn instant(&self, column: &str, s: &str) -> Result<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| self.corrupt(column, "an RFC 3339 date-time"))
    }

    /// A label of a domain enumeration (`Role`, `OrganizationKind`, …).
    fn label<T: FromStr>(&self, column: &str, s: &str) -> Result<T> {
        s.parse().map_err(|_| self.corrupt(column, &format!("a valid {}", short_type_name::<T>())))
    }

    /// A 0/1 flag column.
    fn flag(&self, column: &str, n: i32) -> Result<bool> {
        match n {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(self.corrupt(column, "0 or 1")),
        }
    }
}

fn short_type_name<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    full.rsplit("::").next().unwrap_or(full)
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::values::Role;

    #[test]
    fn a_malformed_stored_value_is_a_typed_error_naming_the_column_but_not_the_value() {
        let row = Row { table: "rm_account", id: "a1" };
        let secret = "Zarina Kadyrova";
        for e in [
            row.uuid("id", secret).unwrap_err(),
            row.instant("created_at", secret).unwrap_err(),
            row.label::<Role>("role", secret).unwrap_err(),
            row.flag("disabled", 7).unwrap_err(),
        ] {
            assert!(matches!(&e, Error::CorruptRow { table: "rm_account", id, .. } if id == "a1"), "{e}");
            assert!(!e.to_string().contains("Zarina"), "{e}");
        }
        assert_eq!(row.label::<Role>("role", "AUDITOR").unwrap(), Role::Auditor);
        assert!(row.label::<Role>("role", "x").unwrap_err().to_string().contains("role is not a valid Role"));
    }

    #[test]
    fn instants_are_stored_so_that_text_order_is_time_order() {
        let row = Row { table: "t", id: "i" };
        let a = row.instant("at", "2024-01-01T12:00:00.5Z").unwrap();
        let b = row.instant("at", "2024-01-01T12:00:00.123456+00:00").unwrap();
        assert_eq!(instant_text(&a), "2024-01-01T12:00:00.500000Z");
        assert!(instant_text(&b) < instant_text(&a));
        assert_eq!(row.instant("at", &instant_text(&b)).unwrap(), b);
    }
}
