//! The application facade: the database, the command side (one cqrs-es framework per
//! aggregate), the projector, the master key and metrics. GraphQL resolvers and CLI
//! sub-commands go through it; it owns the command → events → projection round trip.

use crate::config::StoreArgs;
use crate::crypto::{self, Key, MasterKey};
use crate::error::ApiError;
use crate::ledger::{self, capture_position, Framework, Frameworks};
use crate::metrics::Metrics;
use cqrs_es::Aggregate;
use domain::offense::{CatalogueCommand, CatalogueFile, CATALOGUE_ID};
use domain::{Actor, Clock, SystemClock};
use projections::db::DbOptions;
use projections::{Db, Position, Projector};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Why the application could not start. Each message says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot open the database: {0}")]
    Database(#[from] projections::Error),
    #[error("{0}")]
    Key(#[from] crypto::CryptoError),
    #[error("PROBONO_MASTER_KEY_FILE (or --master-key-file) is required with PostgreSQL: the master key must live outside the database")]
    MissingKey,
    #[error("the shipped offence catalogue is invalid: {0}")]
    Catalogue(String),
    #[error(
        "{count} data key(s) in the database are wrapped by master key {found}, not by the configured key \
         {configured}: point PROBONO_MASTER_KEY_FILE (or --master-key-file) at the key they were wrapped with \
         (after `probono keys rotate`, the new key file)"
    )]
    KeyMismatch { count: i64, found: String, configured: String },
}

/// Who issues a command, and the request it belongs to.
#[derive(Debug, Clone)]
pub struct CommandMeta {
    pub actor: Actor,
    pub correlation_id: String,
}

impl CommandMeta {
    pub fn system(correlation_id: &str) -> Self {
        CommandMeta { actor: Actor::system(), correlation_id: correlation_id.to_string() }
    }

    fn to_map(&self) -> HashMap<String, String> {
        use projections::log::meta;
        let mut m = HashMap::new();
        m.insert(meta::ACTOR_ID.into(), self.actor.account_id.to_string());
        m.insert(meta::ACTOR_ROLE.into(), self.actor.role.as_str().into());
        if let Some(o) = self.actor.organization_id {
            m.insert(meta::ACTOR_ORGANIZATION.into(), o.to_string());
        }
        m.insert(meta::CORRELATION_ID.into(), self.correlation_id.clone());
        m.insert(meta::RECORDED_AT.into(), chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
        m
    }
}

pub struct App {
    pub db: Db,
    pub cqrs: Frameworks,
    pub projector: Arc<Projector>,
    pub master_key: MasterKey,
    pub metrics: Metrics,
    pub clock: Arc<dyn Clock>,
    /// How long a mutation waits for its own events to be projected.
    pub read_your_writes_timeout: Duration,
}

impl App {
    /// Connects, migrates, loads the master key and imports the shipped offence catalogue.
    pub async fn open(store: &StoreArgs) -> Result<Arc<App>, StartupError> {
        Self::open_with_clock(store, Arc::new(SystemClock)).await
    }

    pub async fn open_with_clock(store: &StoreArgs, clock: Arc<dyn Clock>) -> Result<Arc<App>, StartupError> {
        let (path, create) = store.master_key_path().ok_or(StartupError::MissingKey)?;
        let (master_key, created) = MasterKey::load_or_create(&path, create)?;
        if created {
            tracing::warn!(
                path = %path.display(),
                "generated a new master key; back it up apart from the database: without it no client identity can be read"
            );
        }
        let opts = DbOptions { max_connections: store.db_max_connections, ..DbOptions::default() };
        let db = Db::connect(&store.database_url, &opts).await?;
        db.migrate().await?;
        let foreign = crate::keys::foreign_keys(&db, master_key.id()).await.map_err(projections::Error::from)?;
        if let Some((count, found)) = foreign {
            return Err(StartupError::KeyMismatch { count, found, configured: master_key.id().to_string() });
        }
        let app = Arc::new(App {
            cqrs: Frameworks::new(&db, clock.clone()),
            projector: Projector::new(db.clone()),
            db,
            master_key,
            metrics: Metrics::default(),
            clock,
            read_your_writes_timeout: Duration::from_secs(5),
        });
        app.import_catalogue().await?;
        Ok(app)
    }

    async fn import_catalogue(&self) -> Result<(), StartupError> {
        let file = CatalogueFile::shipped().map_err(|e| StartupError::Catalogue(e.to_string()))?;
        let meta = CommandMeta::system("startup");
        match self
            .execute(&self.cqrs.catalogue, CATALOGUE_ID, CatalogueCommand::Import { file }, &meta, |e| {
                ApiError::Rule(e.to_string())
            })
            .await
        {
            // Another instance imported it at the same moment.
            Ok(()) | Err(ApiError::Conflict) => Ok(()),
            Err(e) => Err(StartupError::Catalogue(e.message())),
        }
    }

    /// Runs one command and waits until the read models show its events.
    pub async fn execute<A: Aggregate>(
        &self,
        framework: &Framework<A>,
        aggregate_id: &str,
        command: A::Command,
        meta: &CommandMeta,
        classify: impl FnOnce(A::Error) -> ApiError,
    ) -> Result<(), ApiError> {
        let started = Instant::now();
        let (result, position) =
            capture_position(framework.execute_with_metadata(aggregate_id, command, meta.to_map())).await;
        let outcome = match &result {
            Ok(()) => "ok",
            Err(cqrs_es::AggregateError::UserError(_)) => "rejected",
            Err(cqrs_es::AggregateError::AggregateConflict) => "conflict",
            Err(_) => "error",
        };
        self.metrics.inc("probono_commands_total", &[("aggregate", A::TYPE), ("outcome", outcome)]);
        self.metrics.observe(
            "probono_command_duration_seconds",
            &[("aggregate", A::TYPE)],
            started.elapsed().as_secs_f64(),
        );
        result.map_err(|e| ApiError::from_aggregate(e, classify))?;
        if let Some(p) = position {
            self.settle(p).await;
        }
        Ok(())
    }

    /// Waits (bounded) until the projector has applied `position`.
    pub async fn settle(&self, position: Position) {
        if !self.projector.is_running() {
            // No projector loop (a CLI command): project inline.
            if let Err(e) = self.projector.catch_up().await {
                tracing::warn!(error = %e, "projection failed");
            }
            return;
        }
        if !self.projector.wait_for(position, self.read_your_writes_timeout).await {
            tracing::warn!(%position, "read models did not catch up within the read-your-writes bound");
        }
    }

    /// Creates a case's data key; returns it for sealing the intake's identity.
    pub async fn new_data_key(&self, case_id: &str) -> Result<Key, ApiError> {
        let dk = Key::random();
        let wrapped = self.master_key.wrap(case_id, &dk);
        ledger::put_data_key(&self.db, case_id, &wrapped, self.master_key.id()).await?;
        Ok(dk)
    }

    /// A case's data key, or `None` when it was destroyed (erased client).
    pub async fn data_key(&self, case_id: &str) -> Result<Option<Key>, ApiError> {
        match ledger::get_data_key(&self.db, case_id).await? {
            None => Ok(None),
            Some(w) => self.master_key.unwrap(case_id, &w).map(Some).map_err(ApiError::internal),
        }
    }
}

/// An account just created with its first token.
#[derive(Debug, Clone)]
pub struct CreatedAccount {
    pub account_id: uuid::Uuid,
    pub token_id: uuid::Uuid,
    /// The bearer secret: shown once, stored only as a hash.
    pub token: String,
}

impl App {
    /// Creates an account and issues its first token. The organisation or lawyer it is
    /// scoped to must exist.
    pub async fn create_account(
        &self,
        meta: &CommandMeta,
        name: domain::values::Text,
        role: domain::values::Role,
        organization_id: Option<uuid::Uuid>,
        lawyer_id: Option<uuid::Uuid>,
        expires_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<CreatedAccount, ApiError> {
        use crate::graphql::mutation::classify_account;
        use domain::account::{AccountActing, AccountCommand, CreateAccount};
        if let Some(o) = organization_id {
            if projections::store::organization_by_id(&self.db, &o.to_string()).await?.is_none() {
                return Err(ApiError::NotFound(format!("no organisation {o}")));
            }
        }
        if let Some(l) = lawyer_id {
            if projections::store::lawyer_by_id(&self.db, &l.to_string()).await?.is_none() {
                return Err(ApiError::NotFound(format!("no lawyer {l}")));
            }
        }
        if let Some(e) = expires_at {
            if e <= chrono::Utc::now() {
                return Err(ApiError::BadInput("expiresAt is in the past".into()));
            }
        }
        let account_id = uuid::Uuid::new_v4();
        let id = account_id.to_string();
        let create = AccountActing {
            actor: meta.actor.clone(),
            command: AccountCommand::Create(CreateAccount { account_id, name, role, organization_id, lawyer_id }),
        };
        self.execute(&self.cqrs.accounts, &id, create, meta, classify_account).await?;
        let (token, token_hash) = crate::auth::new_token();
        let token_id = uuid::Uuid::new_v4();
        let issue = AccountActing {
            actor: meta.actor.clone(),
            command: AccountCommand::IssueToken { token_id, token_hash, expires_at },
        };
        self.execute(&self.cqrs.accounts, &id, issue, meta, classify_account).await?;
        Ok(CreatedAccount { account_id, token_id, token })
    }

    /// Revokes a token; returns the id of the account it belonged to.
    pub async fn revoke_token(&self, meta: &CommandMeta, token_id: uuid::Uuid) -> Result<String, ApiError> {
        use crate::graphql::mutation::classify_account;
        use domain::account::{AccountActing, AccountCommand};
        let account_id = projections::store::token_account(&self.db, &token_id.to_string())
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no token {token_id}")))?;
        let cmd = AccountActing { actor: meta.actor.clone(), command: AccountCommand::RevokeToken { token_id } };
        self.execute(&self.cqrs.accounts, &account_id, cmd, meta, classify_account).await?;
        Ok(account_id)
    }
}
