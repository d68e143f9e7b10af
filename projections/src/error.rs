/// Errors of the read side. None of them carries row contents, so none can leak identity.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("event {position} ({event_type}) cannot be read: {reason}")]
    UnreadableEvent { position: i64, event_type: String, reason: String },
    #[error("read model row {table}/{id} cannot be read: {reason}")]
    CorruptRow { table: &'static str, id: String, reason: String },
    #[error("unsupported database url (expected sqlite:// or postgres://)")]
    UnsupportedUrl,
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    /// True when the database could not be reached (as opposed to a bad row or query).
    pub fn is_connection(&self) -> bool {
        matches!(
            self,
            Error::Database(
                sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Tls(_)
            )
        )
    }
}
