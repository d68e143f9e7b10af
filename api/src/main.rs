//! `probono`: the Pro Bono Ledger server and its administration commands.

use api::app::{App, CommandMeta};
use api::config::{Cli, Command, DemoCommand, ExportCommand, LogFormat, ProjectionsCommand, TokenCommand};
use clap::Parser;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

// The server allocates many short-lived buffers per request; glibc malloc showed up at
// ~17% of CPU in the benchmark profile (docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
        Command::Projections(ProjectionsCommand::Rebuild(store)) => {
            let app = App::open(&store).await?;
            let started = std::time::Instant::now();
            let n = projections::projector::rebuild(&app.db).await?;
            eprintln!("rebuilt read models from {n} events in {:.2?}", started.elapsed());
        }
        Command::Demo(DemoCommand::Seed(store)) => {
            let clock = std::sync::Arc::new(domain::ManualClock::new(chrono::Utc::now().date_naive()));
            let app = App::open_with_clock(&store, clock.clone()).await?;
            app.projector.catch_up().await?;
            let started = std::time::Instant::now();
            let s = api::demo::seed(&app, &clock).await.map_err(|e| e.message())?;
            if s.already_present {
                eprintln!("demo data already present; nothing to do");
            } else {
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
        Command::Export(ExportCommand::Stats(args)) => {
            use async_graphql::{InputType, Value};
            let app = App::open(&args.store).await?;
            app.projector.catch_up().await?;
            let mut dims = vec![];
            for name in &args.group_by {
                let d = api::graphql::stats::StatsDimension::parse(Some(Value::Enum(async_graphql::Name::new(
                    name.trim().to_ascii_uppercase(),
                ))))
                .map_err(|_| format!("unknown dimension {name:?}"))?;
                dims.push(d);
            }
            let date = |s: &Option<String>| {
                s.as_deref()
                    .map(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").map(|d| d.to_string()))
                    .transpose()
                    .map_err(|_| "dates are YYYY-MM-DD".to_string())
            };
            let filter =
                projections::stats::StatsFilter { from: date(&args.from)?, to: date(&args.to)?, ..Default::default() };
            let stats = api::graphql::stats::outcome_stats(&app, &filter, &dims).await.map_err(|e| e.message())?;
            let names: Vec<String> = args.group_by.iter().map(|n| n.trim().to_ascii_uppercase()).collect();
            let csv = api::export::to_csv(&stats, &names, args.suppress_below).map_err(|e| e.message())?;
            match &args.out {
                Some(path) => std::fs::write(path, csv)?,
                None => print!("{csv}"),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
