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
    /// Mutations a token may run per second, on average (a token bucket per token, in
    /// this process). 0 turns the limit off.
    #[arg(long, env = "PROBONO_MUTATION_RATE", default_value_t = 50.0)]
    pub mutation_rate: f64,
    /// Mutations a token may run at once before the rate applies.
    #[arg(long, env = "PROBONO_MUTATION_BURST", default_value_t = 200)]
    pub mutation_burst: u32,
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
    /// Read models.
    #[command(subcommand)]
    Projections(ProjectionsCommand),
    /// Prints the GraphQL schema (SDL).
    Schema,
    /// The master key that wraps every client's data key (docs/operations.md, "Keys").
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Writes a new random master key to a file (mode 0600; never overwrites) and prints
    /// its id.
    Generate {
        #[arg(long)]
        out: PathBuf,
    },
    /// Re-wraps every data key with a new master key, in one transaction. Stop the servers
    /// first; afterwards point PROBONO_MASTER_KEY_FILE at the new file and start them.
    Rotate {
        /// The new key (from `probono keys generate`).
        #[arg(long)]
        new_master_key_file: PathBuf,
        /// The database and its current key (`--master-key-file`).
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
