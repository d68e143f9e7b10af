//! The `probono` command line: the server and the administration commands. Each command
//! parses its arguments and calls the application layer (`crate::app`) or, for the audit
//! commands that only read, `crate::audit`; failures are typed ([`CliError`]) and say what
//! to fix.

use crate::app::accounts::NewAccount;
use crate::app::audit as app_audit;
use crate::app::backup::{self as app_backup, BackupReport, RestoreReport};
use crate::app::{App, Caller, StartupError};
use crate::audit;
use crate::config::{
    AuditCommand, AuditStoreArgs, Cli, Command, DemoCommand, ExportCommand, ImportCommand, KeysCommand, LogFormat,
    ProjectionsCommand, TokenCommand, UserCommand,
};
use crate::error::ApiError;
use crate::privacy::crypto::{CryptoError, MasterKey};
use clap::Parser;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

/// Why a command failed, each with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Startup(#[from] StartupError),
    #[error("{}: {}", .0.code(), .0.message())]
    Api(ApiError),
    #[error("{0}")]
    Crypto(#[from] CryptoError),
    #[error("{0}")]
    Database(#[from] projections::Error),
    #[error("{0}")]
    Checkpoint(#[from] audit::CheckpointError),
    #[error("{0}")]
    Server(#[from] crate::http::ServeError),
    #[error("{0}")]
    Backup(#[from] app_backup::BackupError),
    #[error("{0}")]
    Usage(String),
    #[error("{path}: {error}")]
    File { path: String, error: std::io::Error },
}

impl From<ApiError> for CliError {
    fn from(e: ApiError) -> Self {
        CliError::Api(e)
    }
}

impl From<domain::values::InvalidInput> for CliError {
    fn from(e: domain::values::InvalidInput) -> Self {
        CliError::Usage(e.to_string())
    }
}

fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_env("PROBONO_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let b = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Human => b.init(),
        LogFormat::Json => b.json().init(),
    }
}

/// The `probono` binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("probono: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("probono: {e}");
            ExitCode::FAILURE
        }
    }
}

fn uuid_arg(name: &str, s: Option<String>) -> Result<Option<uuid::Uuid>, CliError> {
    s.map(|s| uuid::Uuid::parse_str(s.trim()).map_err(|_| CliError::Usage(format!("--{name} is not a UUID: {s:?}"))))
        .transpose()
}

fn date_arg(name: &str, s: &Option<String>) -> Result<Option<chrono::NaiveDate>, CliError> {
    s.as_deref()
        .map(|d| {
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|_| CliError::Usage(format!("--{name} is a date as YYYY-MM-DD, not {d:?}")))
        })
        .transpose()
}

async fn run(command: Command) -> Result<ExitCode, CliError> {
    match command {
        Command::Serve(args) => crate::http::serve(args).await?,
        Command::Migrate(store) => {
            App::open(&store).await?;
            eprintln!("migrations applied");
        }
        Command::Schema => println!("{}", crate::graphql::sdl()),
        Command::Token(TokenCommand::Create { role, name, organization, lawyer, store }) => {
            let role: domain::values::Role = role.trim().to_ascii_uppercase().parse().map_err(|_| {
                let roles: Vec<&str> = domain::values::Role::ALL.iter().map(|r| r.as_str()).collect();
                CliError::Usage(format!("--role {role:?} is not a role; use one of {}", roles.join(", ")))
            })?;
            let input = NewAccount {
                account_id: None,
                name,
                role,
                organization_id: uuid_arg("organization", organization)?,
                lawyer_id: uuid_arg("lawyer", lawyer)?,
                expires_at: None,
            };
            let app = App::open(&store).await?;
            // The CLI is the operator: it projects what it needs itself, server or not.
            app.projector.catch_up().await?;
            let created = app.create_account(&Caller::system("cli"), input).await?;
            println!("{}", created.token);
        }
        Command::User(UserCommand::Create { role, username, name, organization, lawyer, password_stdin: _, store }) => {
            let role: domain::values::Role = role.trim().to_ascii_uppercase().parse().map_err(|_| {
                let roles: Vec<&str> = domain::values::Role::ALL.iter().map(|r| r.as_str()).collect();
                CliError::Usage(format!("--role {role:?} is not a role; use one of {}", roles.join(", ")))
            })?;
            let mut password = String::new();
            std::io::stdin()
                .read_line(&mut password)
                .map_err(|error| CliError::File { path: "standard input".into(), error })?;
            let password = password.trim_end_matches(['\r', '\n']);
            if password.is_empty() {
                return Err(CliError::Usage(
                    "give the password on standard input, e.g. `… --password-stdin < file`".into(),
                ));
            }
            let input = NewAccount {
                account_id: None,
                name: name.unwrap_or_else(|| username.clone()),
                role,
                organization_id: uuid_arg("organization", organization)?,
                lawyer_id: uuid_arg("lawyer", lawyer)?,
                expires_at: None,
            };
            let app = App::open(&store).await?;
            app.projector.catch_up().await?;
            let account = app.create_user(&Caller::system("cli"), input, &username, password).await?;
            eprintln!("created {} {username} (account {account}); they sign in at /app/sign-in", role.as_str());
        }
        Command::Audit(cmd) => return Ok(run_audit(cmd).await),
        Command::Projections(ProjectionsCommand::Rebuild(store)) => {
            let app = App::open(&store).await?;
            let started = std::time::Instant::now();
            let n = app.rebuild_read_models().await?;
            eprintln!("rebuilt read models from {n} events in {:.2?}", started.elapsed());
        }
        Command::Demo(DemoCommand::Seed(args)) => {
            let clock = std::sync::Arc::new(domain::ManualClock::new(chrono::Utc::now().date_naive()));
            let app = App::open_with_clock(&args.store, clock.clone()).await?;
            app.projector.catch_up().await?;
            let started = std::time::Instant::now();
            let s = crate::demo::seed_with(&app, &clock, args.force).await?;
            if s.already_present {
                eprintln!("demo data already present; nothing to do (the demo users' passwords were printed by the first seed)");
            } else {
                println!("Demo users of the web app (the passwords are shown only now):");
                for (role, username, password) in &s.users {
                    println!("  {:<14} username {:<17} password {}", role.as_str(), username, password);
                }
                println!(
                    "Start the server (`probono serve`), open http://127.0.0.1:8080/ and sign in. Roles that can read \
                     identity set up a TOTP code at first sign-in; for a trial without real cases start with \
                     `probono serve --web-require-totp false`."
                );
                eprintln!(
                    "seeded {} organisations, {} lawyers, {} cases, {} police reports in {:.1?}",
                    s.organizations,
                    s.lawyers,
                    s.cases,
                    s.police_reports,
                    started.elapsed()
                );
            }
        }
        Command::Keys(KeysCommand::Generate { out }) => {
            let k = MasterKey::generate(&out)?;
            eprintln!(
                "wrote a new master key to {} (id {}); back it up apart from the database",
                out.display(),
                k.id()
            );
        }
        Command::Keys(KeysCommand::Rotate { store, new_master_key_file }) => {
            let app = App::open(&store).await?;
            let new = MasterKey::load(&new_master_key_file)?;
            let n = app.rotate_master_key(&Caller::system("cli"), &new, &new_master_key_file).await?;
            eprintln!(
                "re-wrapped {n} data keys from master key {} to {} in a new key epoch (key-epoch file {}; {} was destroyed); now set PROBONO_MASTER_KEY_FILE={} and restart, and replace the kept copies of both key files",
                app.master_key.id(),
                new.id(),
                crate::privacy::epochs::path_for(&new_master_key_file).display(),
                app.keyring.file().display(),
                new_master_key_file.display()
            );
        }
        Command::Backup(args) => print_backup(&app_backup::backup(&args.store, &args.out).await?),
        Command::Restore(args) => {
            let report = app_backup::restore(&args.store, &args.from, args.force, args.without_identities).await?;
            print_restore(&report);
            if !report.ok() {
                return Ok(ExitCode::from(TAMPERED));
            }
        }
        Command::Import(ImportCommand::Cases(args)) => return import_cases(args).await,
        Command::Export(ExportCommand::Htcds(args)) => {
            let (from, to) = (date_arg("from", &args.from)?, date_arg("to", &args.to)?);
            let app = App::open(&args.store).await?;
            app.projector.catch_up().await?;
            let (cases, with_profile) = projections::store::cases_identified_between(&app.db, from, to).await?;
            let export = crate::app::htcds::export(&cases, args.suppress_below)?;
            match &args.out {
                Some(path) => std::fs::write(path, &export.csv)
                    .map_err(|error| CliError::File { path: path.display().to_string(), error })?,
                None => print!("{}", export.csv),
            }
            eprintln!(
                "{} cases ({} with a profile): {} rows written, {} generalised, {} left out (groups under {})",
                cases.len(),
                with_profile,
                export.rows,
                export.generalised,
                export.suppressed,
                args.suppress_below
            );
        }
        Command::Export(ExportCommand::Stats(args)) => {
            let mut dims = vec![];
            for name in &args.group_by {
                let d = projections::stats::Dimension::parse(name).ok_or_else(|| {
                    let all: Vec<&str> = projections::stats::Dimension::ALL.iter().map(|d| d.name()).collect();
                    CliError::Usage(format!("--group-by {name:?} is not a dimension; use one of {}", all.join(", ")))
                })?;
                dims.push(d);
            }
            let filter = projections::stats::StatsFilter {
                from: date_arg("from", &args.from)?,
                to: date_arg("to", &args.to)?,
                ..Default::default()
            };
            let app = App::open(&args.store).await?;
            app.projector.catch_up().await?;
            let dims = crate::app::stats::distinct(&dims);
            let stats = app.outcome_stats(&Caller::system("cli"), &filter, &dims).await?;
            let names: Vec<String> = dims.iter().map(|d| d.name().to_string()).collect();
            let csv = crate::app::export::to_csv(&stats, &names, args.suppress_below)?;
            match &args.out {
                Some(path) => std::fs::write(path, csv)
                    .map_err(|error| CliError::File { path: path.display().to_string(), error })?,
                None => print!("{csv}"),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

// ---------------------------------------------------------------- import

/// Exit status of an import whose file has problems (nothing was imported).
const IMPORT_PROBLEMS: u8 = 3;

async fn import_cases(args: crate::config::ImportCasesArgs) -> Result<ExitCode, CliError> {
    let bytes =
        std::fs::read(&args.file).map_err(|error| CliError::File { path: args.file.display().to_string(), error })?;
    let app = App::open(&args.store).await?;
    app.projector.catch_up().await?;
    let caller = match uuid_arg("account", args.account)? {
        None => Caller::system("cli-import"),
        Some(id) => {
            let a = projections::store::account_by_id(&app.db, id)
                .await?
                .filter(|a| !a.disabled)
                .ok_or_else(|| CliError::Usage(format!("--account {id}: no such active account")))?;
            let principal = crate::access::Principal {
                account_id: a.id,
                name: a.name,
                role: a.role,
                organization_id: a.organization_id,
                lawyer_id: a.lawyer_id,
                token_id: uuid::Uuid::nil(),
                approved: a.approved,
            };
            Caller::new(principal, "cli-import")
        }
    };
    let report = app.import_cases(&caller, &bytes, args.dry_run).await?;
    for p in &report.problems {
        println!("{p}");
    }
    let verb = if report.dry_run { "would create" } else { "created" };
    eprintln!(
        "{}: {} rows; {verb} {} cases, completed {}, {} already imported; {} steps recorded; {} problems{}",
        args.file.display(),
        report.rows,
        report.created,
        report.completed,
        report.unchanged,
        report.steps_run,
        report.problems.len(),
        if report.ok() { "" } else { " (nothing was imported: fix them and run again)" },
    );
    Ok(if report.ok() { ExitCode::SUCCESS } else { ExitCode::from(IMPORT_PROBLEMS) })
}

// ---------------------------------------------------------------- backup and restore

fn print_backup(r: &BackupReport) {
    let c = &r.contents;
    println!(
        "backup written to {} ({}, mode 0600): {} events, {} cases, {} data keys, {} bytes, in {:.2?}",
        r.out.display(),
        r.format.name(),
        c.events,
        c.cases,
        c.data_keys,
        r.bytes,
        r.elapsed
    );
    println!("sha256 {}", r.sha256);
    if let Some(epoch) = c.key_epoch {
        println!(
            "its data keys are under key epoch {epoch}: the next erasure destroys that epoch, and with it every identity in this backup; take a new backup after every erasure"
        );
    }
    let key = match &r.master_key_file {
        Some(p) => format!(" ({})", p.display()),
        None => " (the file PROBONO_MASTER_KEY_FILE names)".into(),
    };
    println!(
        "the backup holds NO master key and no key-epoch file: the key{key} and its .epochs file are backed up apart, and without both no client identity in this backup can be read. An erasure after this backup destroys its key epoch: take a new backup after every erasure"
    );
}

fn print_restore(r: &RestoreReport) {
    println!(
        "restored {} ({}, {} bytes, sha256 {}) into {}",
        r.from.display(),
        r.format.name(),
        r.bytes,
        r.sha256,
        r.target
    );
    if let Some((events, aside)) = &r.replaced {
        match aside {
            Some(p) => println!("replaced a ledger of {events} events (--force); it was moved to {}", p.display()),
            None => println!("replaced a ledger of {events} events (--force)"),
        }
    }
    if r.integrity_checked {
        println!("the copy passed the SQLite integrity check and was put in place with mode 0600");
    }
    if r.transactions_renumbered > 0 {
        println!(
            "{} transaction ids renumbered in the restored log order (a logical restore does not carry them)",
            r.transactions_renumbered
        );
    }
    println!("copied in {:.2?}", r.copy_elapsed);
    println!(
        "data keys: all {} open with master key {} ({})",
        r.data_keys_opened,
        r.master_key_id,
        r.master_key_file.display()
    );
    if r.identities_dropped > 0 {
        println!(
            "{} data keys of the backup were under a key epoch destroyed by a later erasure: those identities are unreadable for good and show as erased (--without-identities)",
            r.identities_dropped
        );
    }
    println!("data keys are wrapped under key epoch {}; use copies of the key files for a drill: an erasure rotates the key-epoch file the restored ledger uses", r.key_epoch);
    println!("read models rebuilt from {} events; projection checkpoint reset", r.rebuilt_events);
    let v = &r.verification;
    println!("audit verify: checked {} events in {} streams ({} cases)", v.events, v.streams, r.contents.cases);
    if v.chains_hold() {
        println!("every chain holds");
    } else {
        print_broken(v);
    }
    println!("{} in {:.2?}", if r.ok() { "OK" } else { "FAILED" }, r.elapsed);
}

// ---------------------------------------------------------------- audit

/// Exit status of `audit verify` and `audit checkpoint` when a link or the checkpoint does
/// not hold (0: all holds; 2: the check could not run), so scripts can tell tampering
/// from an unreachable database.
const TAMPERED: u8 = 1;
const COULD_NOT_RUN: u8 = 2;

async fn run_audit(cmd: AuditCommand) -> ExitCode {
    let result = match cmd {
        AuditCommand::Verify { store, checkpoint, public_key } => {
            audit_verify(&store, checkpoint.as_deref(), public_key.as_deref()).await
        }
        AuditCommand::Checkpoint { store, signing_key, out } => {
            audit_checkpoint(&store, &signing_key, out.as_deref()).await
        }
        AuditCommand::Keygen { out } => audit_keygen(&out),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(TAMPERED),
        Err(e) => {
            eprintln!("probono: {e}");
            ExitCode::from(COULD_NOT_RUN)
        }
    }
}

type AuditResult = Result<bool, CliError>;

/// Connects without migrating or creating anything: verifying a mistyped SQLite path must
/// not report an empty, intact ledger.
async fn open_ledger(store: &AuditStoreArgs) -> Result<projections::Db, CliError> {
    let url = &store.database_url;
    if url.starts_with("sqlite:") {
        let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
        let path = path.split('?').next().unwrap_or(path);
        if !std::path::Path::new(path).is_file() {
            return Err(CliError::Usage(format!("no ledger at {path}: check --database-url / DATABASE_URL")));
        }
    }
    let opts = projections::db::DbOptions { max_connections: 2, ..Default::default() };
    Ok(projections::Db::connect(url, &opts).await?)
}

fn print_broken(outcome: &audit::Outcome) {
    if let Some(b) = &outcome.first_broken {
        println!("BROKEN LINK: {b}");
        if outcome.broken_links > 1 {
            println!("{} links do not hold in total", outcome.broken_links);
        }
    }
}

async fn audit_verify(
    store: &AuditStoreArgs,
    checkpoint: Option<&std::path::Path>,
    public_key: Option<&str>,
) -> AuditResult {
    let trusted = public_key.map(audit::parse_public_key).transpose()?;
    let cp = checkpoint.map(audit::read_checkpoint).transpose()?;
    let db = open_ledger(store).await?;
    let report = app_audit::verify_ledger(&db, cp.as_ref(), trusted.as_ref()).await;
    db.close().await;
    let report = report?;
    if let (Some(cp), Some(path), Some(signature)) = (&cp, checkpoint, &report.signature) {
        match (signature, &trusted) {
            (Ok(()), Some(_)) => println!(
                "checkpoint {}: signature valid, signed by the key given with --public-key ({})",
                path.display(),
                cp.public_key
            ),
            (Ok(()), None) => println!(
                "checkpoint {}: signature valid for the key written in the file ({}); this shows the file is intact, not who signed it: pass --public-key to check the signer",
                path.display(),
                cp.public_key
            ),
            (Err(e), _) => println!("CHECKPOINT REJECTED: {}: {e}", path.display()),
        }
    }
    let outcome = &report.outcome;
    println!("checked {} events in {} streams", outcome.events, outcome.streams);
    if outcome.chains_hold() {
        println!("every chain holds");
    } else {
        print_broken(outcome);
    }
    if let (Some(c), Some(cp)) = (&outcome.checkpoint, &cp) {
        let s = &cp.statement;
        if c.problem_count == 0 {
            println!(
                "the ledger contains the checkpoint of {} ({} events in {} streams)",
                s.created_at, s.event_count, c.streams
            );
        } else {
            for p in &c.problems {
                println!("CHECKPOINT MISMATCH: {p}");
            }
            if c.problem_count as usize > c.problems.len() {
                println!("{} checkpoint mismatches in total", c.problem_count);
            }
        }
    }
    let ok = report.ok();
    println!("{}", if ok { "OK" } else { "FAILED" });
    Ok(ok)
}

async fn audit_checkpoint(
    store: &AuditStoreArgs,
    key_file: &std::path::Path,
    out: Option<&std::path::Path>,
) -> AuditResult {
    let key = audit::read_signing_key(key_file)?;
    warn_if_shared(key_file);
    let db = open_ledger(store).await?;
    let signed = app_audit::checkpoint_ledger(&db, &key).await;
    db.close().await;
    let (signed, outcome) = match signed? {
        Ok(done) => done,
        Err(broken) => {
            print_broken(&broken);
            eprintln!("probono: refusing to sign a checkpoint of a ledger whose chains do not hold");
            return Ok(false);
        }
    };
    let json = serde_json::to_string_pretty(&signed).map_err(|e| CliError::Usage(e.to_string()))? + "\n";
    match out {
        Some(path) => {
            use std::io::Write;
            let file_error = |error: std::io::Error| CliError::File { path: path.display().to_string(), error };
            // Never over an older checkpoint: each one is evidence.
            let mut f =
                std::fs::OpenOptions::new().write(true).create_new(true).open(path).map_err(|e| match e.kind() {
                    std::io::ErrorKind::AlreadyExists => CliError::Usage(format!(
                        "{}: already exists; an older checkpoint is never overwritten, choose a new --out",
                        path.display()
                    )),
                    _ => file_error(e),
                })?;
            f.write_all(json.as_bytes()).map_err(file_error)?;
            f.sync_all().map_err(file_error)?;
            eprintln!(
                "checkpoint of {} events in {} streams written to {}, signed by {}",
                outcome.events,
                outcome.heads.len(),
                path.display(),
                signed.public_key
            );
        }
        None => print!("{json}"),
    }
    Ok(true)
}

fn audit_keygen(out: &std::path::Path) -> AuditResult {
    let key = audit::generate_key();
    audit::write_new_private(out, &(hex::encode(key.to_bytes()) + "\n"))?;
    println!("{}", hex::encode(key.verifying_key().as_bytes()));
    eprintln!(
        "signing key written to {} (mode 0600); keep it off the database server; give the public key above to the auditors",
        out.display()
    );
    Ok(true)
}

/// Warns when a signing key file can be read by other users.
fn warn_if_shared(path: &std::path::Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(m) = std::fs::metadata(path) {
            if m.permissions().mode() & 0o077 != 0 {
                eprintln!("probono: warning: {} is readable by other users; chmod 600 it", path.display());
            }
        }
    }
}
