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
    #[error("unsupported database URL (scheme {0:?}): use sqlite://PATH (the embedded default, e.g. sqlite://data/probono.db) or postgres://USER@HOST:PORT/DATABASE")]
    UnsupportedUrl(String),
    #[error("cannot reach PostgreSQL at {host}:{port} ({reason}): check that the server runs there and that the host and port in the database URL are right")]
    Unreachable { host: String, port: u16, reason: String },
    #[error("PostgreSQL at {host}:{port} has no database {database:?}: create it (createdb -h {host} -p {port} {database}) or fix the name in the database URL")]
    NoDatabase { host: String, port: u16, database: String },
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    /// True when the database could not be reached (as opposed to a bad row or query).
    pub fn is_connection(&self) -> bool {
        matches!(self, Error::Unreachable { .. }) || matches!(self, Error::Database(e) if is_unavailable(e))
    }
}

/// True when `e` means the database is unreachable or going away rather than that a query
/// was wrong: I/O, pool time-outs, and PostgreSQL's connection exceptions (class 08) and
/// operator interventions (57P01–57P03: shut down, crashed, starting up). A server keeps
/// running through these and reports them as "unavailable".
pub fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(db) => {
            db.code().is_some_and(|c| c.starts_with("08") || matches!(c.as_ref(), "57P01" | "57P02" | "57P03"))
        }
        _ => false,
    }
}
