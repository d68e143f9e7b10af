//! Guarded appends: rows that commit in the same transaction as a command's events, or not
//! at all. They decide the invariants that span aggregates atomically — today a lawyer's
//! capacity: two assignments racing for a lawyer's last free slot cannot both commit.
//!
//! The application layer states the changes with [`guarded`] around a command; the
//! repository applies them after inserting the events and before committing. A change
//! that cannot hold aborts the whole append with a [`GuardError`].

use cqrs_es::persist::PersistenceError;
use std::cell::RefCell;
use uuid::Uuid;

/// A change to the lawyers' caseloads (`lawyer_slots`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlotChange {
    /// Frees the slot the case holds, if it holds one.
    Release { case_id: Uuid },
    /// Takes a slot of `lawyer_id` for the case, while the lawyer holds fewer than
    /// `capacity` (no limit when `None`).
    Take { case_id: Uuid, lawyer_id: Uuid, capacity: Option<u16> },
}

/// Why a guarded append was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuardError {
    #[error("the lawyer already has {0} active cases, their capacity")]
    AtCapacity(u16),
}

tokio::task_local! {
    static PENDING: RefCell<Vec<SlotChange>>;
}

/// Runs `f` (one command) with `changes` to apply in the transaction of its events.
pub async fn guarded<F: std::future::Future>(changes: Vec<SlotChange>, f: F) -> F::Output {
    PENDING.scope(RefCell::new(changes), f).await
}

/// The changes stated for the command running on this task (taken: applied once).
pub(crate) fn take_pending() -> Vec<SlotChange> {
    PENDING.try_with(|p| std::mem::take(&mut *p.borrow_mut())).unwrap_or_default()
}

const RELEASE: &str = "DELETE FROM lawyer_slots WHERE case_id = $1";
/// The lowest free slot number, while fewer than `$3` are taken.
const TAKE: &str = "INSERT INTO lawyer_slots (case_id, lawyer_id, slot) \
     SELECT $1, $2, (SELECT min(s.slot + 1) FROM \
        (SELECT 0 AS slot UNION ALL SELECT slot FROM lawyer_slots WHERE lawyer_id = $2) s \
        WHERE NOT EXISTS (SELECT 1 FROM lawyer_slots t WHERE t.lawyer_id = $2 AND t.slot = s.slot + 1)) \
     WHERE (SELECT count(*) FROM lawyer_slots WHERE lawyer_id = $2) < $3";

fn refused(e: GuardError) -> PersistenceError {
    PersistenceError::UnknownError(Box::new(e))
}

macro_rules! apply_with {
    ($conn:expr, $changes:expr, $err:path) => {{
        for change in $changes {
            match change {
                SlotChange::Release { case_id } => {
                    sqlx::query(RELEASE).bind(case_id.to_string()).execute(&mut *$conn).await.map_err($err)?;
                }
                SlotChange::Take { case_id, lawyer_id, capacity } => {
                    let limit = capacity.map_or(i64::MAX, i64::from);
                    let done = sqlx::query(TAKE)
                        .bind(case_id.to_string())
                        .bind(lawyer_id.to_string())
                        .bind(limit)
                        .execute(&mut *$conn)
                        .await
                        .map_err($err)?;
                    if done.rows_affected() == 0 {
                        return Err(refused(GuardError::AtCapacity(capacity.unwrap_or(0))));
                    }
                }
            }
        }
        Ok(())
    }};
}

pub(crate) async fn apply_postgres(
    conn: &mut sqlx::PgConnection,
    changes: &[SlotChange],
    err: fn(sqlx::Error) -> PersistenceError,
) -> Result<(), PersistenceError> {
    apply_with!(conn, changes, err)
}

pub(crate) async fn apply_sqlite(
    conn: &mut sqlx::SqliteConnection,
    changes: &[SlotChange],
    err: fn(sqlx::Error) -> PersistenceError,
) -> Result<(), PersistenceError> {
    apply_with!(conn, changes, err)
}

/// The guard's refusal inside a failed command, if that is why it failed.
pub fn refusal<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a GuardError> {
    e.downcast_ref::<GuardError>()
}
