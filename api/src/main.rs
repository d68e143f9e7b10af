//! `probono`: the Pro Bono Ledger server and its administration commands.

use api::app::{App, CommandMeta};
use api::config::{Cli, Command, KeysCommand, LogFormat, ProjectionsCommand, TokenCommand};
use clap::Parser;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_env("PROBONO_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let b = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Human => b.init(),
        LogFormat::Json => b.json().init(),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    match run(cli.command).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("probono: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> Result<ExitCode, Box<dyn std::error::Error>> {
    match command {
        Command::Serve(args) => api::http::serve(args).await?,
        Command::Migrate(store) => {
            App::open(&store).await?;
            eprintln!("migrations applied");
        }
        Command::Schema => println!("{}", api::graphql::sdl()),
        Command::Token(TokenCommand::Create { role, name, organization, lawyer, store }) => {
            let role: domain::values::Role = role.to_ascii_uppercase().parse()?;
            let name = domain::values::Text::parse_with_max("name", &name, 200)?;
            let parse = |s: Option<String>| s.map(|s| uuid::Uuid::parse_str(&s)).transpose();
            let app = App::open(&store).await?;
            // The CLI is the operator: it projects what it needs itself, server or not.
            app.projector.catch_up().await?;
            let created = app
                .create_account(&CommandMeta::system("cli"), name, role, parse(organization)?, parse(lawyer)?, None)
                .await
                .map_err(|e| e.message())?;
            println!("{}", created.token);
        }
        Command::Keys(KeysCommand::Generate { out }) => {
            let key = api::keys::generate(&out)?;
            eprintln!(
                "wrote master key {} to {} (mode 0600); back it up apart from the database and its backups",
                key.id(),
                out.display()
            );
            println!("{}", key.id());
        }
        Command::Keys(KeysCommand::Rotate { new_master_key_file, store }) => {
            let r = api::keys::rotate_store(&store, &new_master_key_file).await?;
            eprintln!(
                "re-wrapped {} data key(s) from master key {} to {} ({} already on the new key).\n\
                 Now set PROBONO_MASTER_KEY_FILE={} and start the servers. Keep the old key only as \
                 long as backups taken before this rotation must stay readable.",
                r.rewrapped,
                r.old_key_id,
                r.new_key_id,
                r.already_new,
                new_master_key_file.display()
            );
        }
        Command::Projections(ProjectionsCommand::Rebuild(store)) => {
            let app = App::open(&store).await?;
            let started = std::time::Instant::now();
            let n = projections::projector::rebuild(&app.db).await?;
            eprintln!("rebuilt read models from {n} events in {:.2?}", started.elapsed());
        }
    }
    Ok(ExitCode::SUCCESS)
}
