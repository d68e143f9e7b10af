//! Command line and environment. Every option has a safe default for a first run: the
//! embedded SQLite store under `./data`, a generated master key beside it, loopback only.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/probono.db";

#[derive(Debug, Parser)]
#[command(
    name = "probono",
    version,
    about = "Pro Bono Ledger: case tracker for pro bono legal aid to victims of trafficking"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Log format: human-readable lines or JSON objects.
    #[arg(long, env = "PROBONO_LOG_FORMAT", value_enum, default_value_t = LogFormat::Human, global = true)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

/// Where the ledger lives and how its secrets are found.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// `sqlite://PATH` (the embedded default) or `postgres://USER@HOST/DB`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
    /// File holding the 256-bit master key (64 hex characters). On SQLite it defaults to
    /// `master.key` beside the database and is generated on first run; on PostgreSQL it is
    /// required, and must not be stored with the database or its backups.
    #[arg(long, env = "PROBONO_MASTER_KEY_FILE")]
    pub master_key_file: Option<PathBuf>,
    /// Maximum database connections in the pool.
    #[arg(long, env = "PROBONO_DB_MAX_CONNECTIONS", default_value_t = 24)]
    pub db_max_connections: u32,
}

impl StoreArgs {
    pub fn with_url(url: &str) -> StoreArgs {
        StoreArgs { database_url: url.to_string(), master_key_file: None, db_max_connections: 24 }
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }

    /// The key file to use, and whether it may be generated when missing.
    pub fn master_key_path(&self) -> Option<(PathBuf, bool)> {
        if let Some(p) = &self.master_key_file {
            return Some((p.clone(), false));
        }
        if !self.is_sqlite() {
            return None;
        }
        let path = self.database_url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
        let path = path.split('?').next().unwrap_or(path);
        if path.is_empty() || path == ":memory:" {
            return None;
        }
        let dir = std::path::Path::new(path).parent().map(PathBuf::from).unwrap_or_default();
        Some((dir.join("master.key"), true))
    }
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Address to listen on.
    #[arg(long, env = "PROBONO_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// Allow GraphQL introspection and GraphiQL (on by default; turn off in production if
    /// clients use the committed schema instead).
    #[arg(long, env = "PROBONO_INTROSPECTION", default_value_t = true, action = clap::ArgAction::Set)]
    pub introspection: bool,
    /// Mutations per second each token may sustain (0 turns the limit off).
    #[arg(long, env = "PROBONO_MUTATION_RATE", default_value_t = 50.0)]
    pub mutation_rate: f64,
    /// Mutations a token may send in a burst above the sustained rate.
    #[arg(long, env = "PROBONO_MUTATION_BURST", default_value_t = 200.0)]
    pub mutation_burst: f64,
    /// A second address that serves `/metrics` without a token (for a Prometheus scraper on
    /// a private network). Without it, `/metrics` on the main address asks for an ADMIN's or
    /// AUDITOR's token.
    #[arg(long, env = "PROBONO_METRICS_BIND")]
    pub metrics_bind: Option<String>,
    /// Ask every web user whose role can read identity for a TOTP code at sign-in. Turn off
    /// (`false`) only for a trial installation without real cases.
    #[arg(long, env = "PROBONO_WEB_REQUIRE_TOTP", default_value_t = true, action = clap::ArgAction::Set)]
    pub web_require_totp: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Runs the GraphQL server (migrates and catches the projections up first).
    Serve(ServeArgs),
    /// Applies the database migrations and exits.
    Migrate(StoreArgs),
    /// Access tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Web app users (username and password).
    #[command(subcommand)]
    User(UserCommand),
    /// Read models.
    #[command(subcommand)]
    Projections(ProjectionsCommand),
    /// Tamper evidence: verify the hash chains, sign checkpoints of their heads.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Prints the GraphQL schema (SDL).
    Schema,
    /// Demonstration data.
    #[command(subcommand)]
    Demo(DemoCommand),
    /// Exports for publication.
    #[command(subcommand)]
    Export(ExportCommand),
    /// Imports historic cases from a CSV file (docs/import.md).
    #[command(subcommand)]
    Import(ImportCommand),
    /// The master key.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Writes a consistent copy of the ledger while the server runs (SQLite: VACUUM INTO;
    /// PostgreSQL: pg_dump -Fc). The copy holds no master key: back that up apart.
    Backup(BackupArgs),
    /// Restores a backup into a new, empty database, rebuilds the read models, opens every
    /// data key with the master key and the key-epoch file, and verifies every hash chain.
    Restore(RestoreArgs),
}

#[derive(Debug, Clone, Args)]
pub struct BackupArgs {
    /// The ledger to copy; `--master-key-file` only names the key to back up apart (it is
    /// neither read nor copied).
    #[command(flatten)]
    pub store: StoreArgs,
    /// The backup file to write (mode 0600). An existing file is never overwritten.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct RestoreArgs {
    /// The database to restore into: a SQLite path that does not exist yet, or an empty
    /// PostgreSQL database (`createdb NAME`). The master key the backed-up ledger was written
    /// with must be at `--master-key-file` (or beside a SQLite database, as `master.key`).
    #[command(flatten)]
    pub store: StoreArgs,
    /// A file written by `probono backup`.
    #[arg(long)]
    pub from: PathBuf,
    /// Replace a ledger that holds events (stop its servers first). A SQLite database is
    /// moved aside to `PATH.replaced-TIMESTAMP`; a PostgreSQL one is dropped.
    #[arg(long)]
    pub force: bool,
    /// Restore a backup taken before a later erasure: that erasure destroyed the key epoch
    /// its data keys are wrapped under, so no identity in it can be read again. Its events,
    /// statistics and audit trail are restored; its unreadable data keys are left out.
    #[arg(long)]
    pub without_identities: bool,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Writes a new random master key file (mode 0600); refuses to overwrite one.
    Generate {
        #[arg(long)]
        out: PathBuf,
    },
    /// Re-wraps every case's data key with a new master key, in one transaction. Afterwards
    /// point PROBONO_MASTER_KEY_FILE at the new file; the old one opens nothing any more.
    Rotate {
        #[command(flatten)]
        store: StoreArgs,
        /// The new master key file (see `probono keys generate`).
        #[arg(long)]
        new_master_key_file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// Loads a deterministic, fictitious data set shaped like the UNODC project report
    /// (2016–2021), with a web user of every role, and prints how to sign in. Does nothing
    /// when it is already there; refuses a database holding other cases unless `--force`.
    Seed(DemoSeedArgs),
}

#[derive(Debug, Clone, Args)]
pub struct DemoSeedArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Seed even though the database holds cases the demo did not create.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Imports cases, one a row, through the same use cases as a case entered by hand.
    /// The whole file is checked first; a file with any problem imports nothing. A second
    /// run of the same file creates nothing twice.
    Cases(ImportCasesArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ImportCasesArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// The CSV file (UTF-8, comma-separated, a header row; columns in docs/import.md).
    pub file: PathBuf,
    /// Checks every row and reports each problem (row, column, what to fix); writes nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// The COORDINATOR or ADMIN account the import is recorded under (its id); by default
    /// the command-line operator.
    #[arg(long, env = "PROBONO_IMPORT_ACCOUNT")]
    pub account: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Writes `outcomeStats` as CSV, with small-cell suppression.
    Stats(ExportStatsArgs),
    /// Writes one row per case in the columns of the IOM / CTDC data standard, without
    /// identity or free text, small groups generalised or left out (docs/htcds.md).
    Htcds(ExportHtcdsArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ExportHtcdsArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// K: every combination of the quasi-identifiers written is shared by at least K cases
    /// (rarer ones are generalised, then left out). The CTDC itself publishes with K = 11.
    /// 0 or 1 disables it (for internal use only, never for sharing).
    #[arg(long, default_value_t = 5)]
    pub suppress_below: usize,
    /// Only cases identified on or after this day (YYYY-MM-DD).
    #[arg(long)]
    pub from: Option<String>,
    /// Only cases identified on or before this day (YYYY-MM-DD).
    #[arg(long)]
    pub to: Option<String>,
    /// Write to this file instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct ExportStatsArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Dimensions to group by, comma-separated (e.g. YEAR,REGION); the StatsDimension names.
    #[arg(long, value_delimiter = ',')]
    pub group_by: Vec<String>,
    /// Counts from 1 to K-1 are shown as `<K`, with complementary suppression so that no
    /// suppressed cell can be recomputed from the published total. 0 disables suppression
    /// (for internal use only, never for publication).
    #[arg(long, default_value_t = 5)]
    pub suppress_below: i64,
    /// Only counts dated on or after this day (YYYY-MM-DD).
    #[arg(long)]
    pub from: Option<String>,
    /// Only counts dated on or before this day (YYYY-MM-DD).
    #[arg(long)]
    pub to: Option<String>,
    /// Write to this file instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Creates an account that signs in to the web app with a username and the password
    /// read from standard input (one line).
    Create {
        /// ADMIN, COORDINATOR, LAWYER, INTAKE_WORKER or AUDITOR.
        #[arg(long)]
        role: String,
        #[arg(long)]
        username: String,
        /// The person's name as others see it (the username when not given).
        #[arg(long)]
        name: Option<String>,
        /// Organisation of an INTAKE_WORKER.
        #[arg(long)]
        organization: Option<String>,
        /// Lawyer a LAWYER account acts as.
        #[arg(long)]
        lawyer: Option<String>,
        /// Read the password from standard input (the only way: never on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Creates an account with a new token and prints the token, and nothing else, on stdout.
    Create {
        #[arg(long)]
        role: String,
        #[arg(long)]
        name: String,
        /// Organisation of an INTAKE_WORKER.
        #[arg(long)]
        organization: Option<String>,
        /// Lawyer a LAWYER account acts as.
        #[arg(long)]
        lawyer: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProjectionsCommand {
    /// Replays the whole event log into fresh read models.
    Rebuild(StoreArgs),
}

/// The ledger an audit command reads. Audit commands only read: they apply no migrations
/// and need no master key, so they can run with read-only database credentials.
#[derive(Debug, Clone, Args)]
pub struct AuditStoreArgs {
    /// `sqlite://PATH` or `postgres://USER@HOST/DB`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recomputes every hash chain and names the first broken link. Exit status: 0 when
    /// every chain holds (and matches the checkpoint, when given), 1 when not, 2 when the
    /// verification could not run.
    Verify {
        #[command(flatten)]
        store: AuditStoreArgs,
        /// A checkpoint written by `probono audit checkpoint`: every stream it records must
        /// still exist with at least as many events and the same hash at its head.
        #[arg(long)]
        checkpoint: Option<PathBuf>,
        /// The Ed25519 public key (hex) the checkpoint must be signed with. Without it the
        /// signature is checked against the key written in the file, which shows the file
        /// is intact but not who signed it.
        #[arg(long, requires = "checkpoint")]
        public_key: Option<String>,
    },
    /// Verifies every chain, then writes a signed statement of every stream's head.
    Checkpoint {
        #[command(flatten)]
        store: AuditStoreArgs,
        /// The Ed25519 signing key written by `probono audit keygen`.
        #[arg(long)]
        signing_key: PathBuf,
        /// Where to write the checkpoint (a new file); standard output when omitted.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Writes a new Ed25519 signing key (hex, mode 0600) and prints its public key.
    Keygen {
        /// The new key file; an existing file is never overwritten.
        #[arg(long)]
        out: PathBuf,
    },
}

/// The longest a request may take before the server answers that it took too long (HTTP
/// 408 for GraphQL; the web app answers a second earlier with a page of its own).
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
