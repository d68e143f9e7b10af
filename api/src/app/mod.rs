//! The application layer: one function per use case. Each takes the [`Caller`] and typed,
//! already-parsed input, and does the whole use case — authorises it (the one policy,
//! `access::policy`), loads what it needs, seals or opens identity, executes the command,
//! compensates on failure, waits until the read models show its own events, and returns
//! the view. GraphQL, the CLI and the demo seed only translate to and from it.
//!
//! The use cases live by area: [`cases`], [`lawyers`], [`accounts`], [`organizations`],
//! [`catalogue`], [`stats`], [`audit`], [`privacy`], [`backup`] (backups and restores);
//! [`export`] formats statistics for publication.

pub mod accounts;
pub mod admin;
pub mod audit;
pub mod backup;
pub mod cases;
pub mod catalogue;
pub mod dashboard;
pub mod export;
pub mod figures;
pub mod htcds;
pub mod idempotency;
pub mod import;
pub mod lawyers;
pub mod organizations;
pub mod privacy;
pub mod proceedings;
pub mod sign_in;
pub mod stats;

use crate::access::{policy, CaseScope, Op, Principal};
use crate::config::StoreArgs;
use crate::error::ApiError;
use crate::metrics::{CommandOutcome, Metrics};
use crate::privacy::crypto::{CryptoError, Key, MasterKey};
use crate::privacy::keys::{self, KeyRing};
use crate::store::guard::{self, SlotChange};
use crate::store::{capture_position, Framework, Frameworks};
use cqrs_es::{Aggregate, AggregateError};
use domain::actor::Acting;
use domain::offense::{CatalogueCommand, CatalogueFile, CATALOGUE_ID};
use domain::{Clock, SystemClock};
use projections::db::DbOptions;
use projections::model::CaseView;
use projections::{Db, Position, Projector};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Why the application could not start. Each message says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("{}", database_message(.0))]
    Database(#[from] projections::Error),
    #[error("{0}")]
    Key(#[from] CryptoError),
    #[error("PROBONO_MASTER_KEY_FILE (or --master-key-file) is required with PostgreSQL: the master key must live outside the database")]
    MissingKey,
    #[error("the shipped offence catalogue is invalid: {0}")]
    Catalogue(String),
    #[error("the master key file {path} is missing, but the database holds {count} data keys that only the original key opens: restore {path} from its backup (a new key would make every client identity unreadable, so none was made)")]
    LostKey { path: String, count: i64 },
    #[error("the master key in {path} does not open the data keys stored in the database: point PROBONO_MASTER_KEY_FILE (or --master-key-file) at the key this database was written with")]
    WrongKey { path: String },
    #[error("{0}")]
    Keys(String),
}

fn database_message(e: &projections::Error) -> String {
    match e {
        // These say all there is to say.
        projections::Error::UnsupportedUrl(_)
        | projections::Error::Unreachable { .. }
        | projections::Error::NoDatabase { .. } => e.to_string(),
        other => format!("cannot open the database: {other}"),
    }
}

/// Who calls a use case, and the request it belongs to (the correlation id written into
/// event metadata, the identity-read log and the logs).
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    /// The server's id of the request.
    pub correlation_id: String,
    /// The id the client gave its request (`x-request-id`), kept apart: a client can choose
    /// it, so it never stands for the server's.
    pub client_request_id: Option<String>,
}

impl Caller {
    pub fn new(principal: Principal, correlation_id: impl Into<String>) -> Caller {
        Caller { principal, correlation_id: correlation_id.into(), client_request_id: None }
    }

    pub fn with_client_request_id(mut self, id: Option<String>) -> Caller {
        self.client_request_id = id;
        self
    }

    /// The command-line operator and start-up tasks.
    pub fn system(correlation_id: &str) -> Caller {
        Caller::new(Principal::system(), correlation_id)
    }

    /// The metadata every event of this caller's commands carries (and the hash covers).
    fn metadata(&self) -> HashMap<String, String> {
        use projections::log::meta;
        let p = &self.principal;
        let mut m = HashMap::new();
        m.insert(meta::ACTOR_ID.into(), p.account_id.to_string());
        m.insert(meta::ACTOR_ROLE.into(), p.role.as_str().into());
        if let Some(o) = p.organization_id {
            m.insert(meta::ACTOR_ORGANIZATION.into(), o.to_string());
        }
        m.insert(meta::CORRELATION_ID.into(), self.correlation_id.clone());
        if let Some(c) = &self.client_request_id {
            m.insert(meta::CLIENT_REQUEST_ID.into(), c.clone());
        }
        m.insert(meta::RECORDED_AT.into(), chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
        m
    }

    /// Allows or refuses an operation that concerns no particular case.
    pub fn allow(&self, op: Op) -> Result<(), ApiError> {
        policy::check(&self.principal, op, None)
    }
}

pub struct App {
    pub db: Db,
    pub cqrs: Frameworks,
    pub projector: Arc<Projector>,
    pub master_key: MasterKey,
    /// The master key with the KEKs of the key epochs: what opens data keys.
    pub keyring: KeyRing,
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
        // A URL of a database we do not run on is named before a key is asked for.
        projections::db::check_url(&store.database_url)?;
        let (path, create) = store.master_key_path().ok_or(StartupError::MissingKey)?;
        let opts = DbOptions { max_connections: store.db_max_connections, ..DbOptions::default() };
        let db = Db::connect(&store.database_url, &opts).await?;
        db.migrate().await?;
        // A key is generated only for a ledger that has no data keys yet, and a key that does
        // not open the stored ones is refused: either would seal new intakes under the wrong
        // key and make every identity read fail.
        let stored = keys::stored_keys(&db).await.map_err(projections::Error::from)?;
        if stored > 0 && !path.exists() {
            return Err(StartupError::LostKey { path: path.display().to_string(), count: stored });
        }
        let (master_key, created) = MasterKey::load_or_create(&path, create && stored == 0)?;
        // The key-epoch file beside the master key must open the stored data keys (one of
        // each epoch is tried); an interrupted epoch change is finished here.
        let keyring = KeyRing::open(&db, master_key.clone(), &path).await.map_err(|e| match e {
            keys::KeyError::Database(e) => StartupError::Database(e),
            keys::KeyError::WrongMasterKey(_) => StartupError::WrongKey { path: path.display().to_string() },
            other => StartupError::Keys(other.to_string()),
        })?;
        if created {
            tracing::warn!(
                path = %path.display(),
                "generated a new master key; back it up apart from the database: without it no client identity can be read"
            );
        }
        let projector = Projector::new(db.clone());
        let app = Arc::new(App {
            cqrs: Frameworks::with_projector(&db, clock.clone(), &projector),
            projector,
            db,
            master_key,
            keyring,
            metrics: Metrics::default(),
            clock,
            read_your_writes_timeout: Duration::from_secs(5),
        });
        app.import_catalogue().await?;
        app.import_deadline_rules().await?;
        Ok(app)
    }

    async fn import_deadline_rules(&self) -> Result<(), StartupError> {
        use domain::deadline::{RulesCommand, RulesFile, RULES_ID};
        let file = RulesFile::shipped().map_err(|e| StartupError::Catalogue(format!("deadline rules: {e}")))?;
        let caller = Caller::system("startup");
        match self.execute(&self.cqrs.deadline_rules, &caller, RULES_ID, RulesCommand::Import { file }).await {
            Ok(()) | Err(ApiError::Conflict) => Ok(()),
            Err(e) => Err(StartupError::Catalogue(format!("deadline rules: {}", e.message()))),
        }
    }

    async fn import_catalogue(&self) -> Result<(), StartupError> {
        let file = CatalogueFile::shipped().map_err(|e| StartupError::Catalogue(e.to_string()))?;
        let caller = Caller::system("startup");
        match self.execute(&self.cqrs.catalogue, &caller, CATALOGUE_ID, CatalogueCommand::Import { file }).await {
            // Another instance imported it at the same moment.
            Ok(()) | Err(ApiError::Conflict) => Ok(()),
            Err(e) => Err(StartupError::Catalogue(e.message())),
        }
    }

    /// Runs one command as `caller` and waits until the read models show its events. The
    /// actor is given here, once: into the command and into the event metadata.
    pub(crate) async fn execute<A, C>(
        &self,
        framework: &Framework<A>,
        caller: &Caller,
        aggregate_id: &str,
        command: C,
    ) -> Result<(), ApiError>
    where
        A: Aggregate<Command = Acting<C>>,
        ApiError: From<A::Error>,
    {
        self.execute_guarded(framework, caller, aggregate_id, command, vec![]).await
    }

    /// [`App::execute`], with rows that must commit in the same transaction as the events
    /// (see `store::guard`).
    #[tracing::instrument(skip_all, fields(aggregate = A::TYPE, aggregate_id, correlation_id = %caller.correlation_id))]
    pub(crate) async fn execute_guarded<A, C>(
        &self,
        framework: &Framework<A>,
        caller: &Caller,
        aggregate_id: &str,
        command: C,
        guards: Vec<SlotChange>,
    ) -> Result<(), ApiError>
    where
        A: Aggregate<Command = Acting<C>>,
        ApiError: From<A::Error>,
    {
        let started = Instant::now();
        let acting = Acting::new(caller.principal.actor(), command);
        let run = framework.execute_with_metadata(aggregate_id, acting, caller.metadata());
        let (result, position) = guard::guarded(guards, capture_position(run)).await;
        let outcome = match &result {
            Ok(()) => CommandOutcome::Ok,
            Err(AggregateError::UserError(_)) => CommandOutcome::Rejected,
            Err(AggregateError::AggregateConflict) => CommandOutcome::Conflict,
            Err(AggregateError::UnexpectedError(e)) if guard::refusal(e.as_ref()).is_some() => CommandOutcome::Rejected,
            Err(_) => CommandOutcome::Error,
        };
        self.metrics.command(A::TYPE, outcome, started.elapsed());
        if let Err(AggregateError::UnexpectedError(e)) = &result {
            if let Some(refused) = guard::refusal(e.as_ref()) {
                return Err(ApiError::Rule(refused.to_string()));
            }
        }
        result?;
        if let Some(p) = position {
            self.settle(p).await;
        }
        Ok(())
    }

    /// Waits (bounded) until the projector has applied `position`.
    pub async fn settle(&self, position: Position) {
        if !self.projector.is_running() {
            // No projector loop (a CLI command): project inline. On PostgreSQL the event may
            // not be readable yet (an older transaction anywhere holds the log's visible head
            // back), or another instance may be projecting it: try again until it shows.
            let deadline = Instant::now() + self.read_your_writes_timeout;
            loop {
                match self.projector.catch_up().await {
                    Ok(_) if self.projector.checkpoint() >= position => return,
                    Ok(_) => {}
                    Err(e) if e.is_connection() => {
                        tracing::warn!(error = %e, "projection failed");
                        return;
                    }
                    // Another instance projecting the same batch at the same moment makes
                    // ours fail on its rows (e.g. a duplicate key); the next step finds the
                    // checkpoint moved. Giving up here would read a stale document.
                    Err(e) => tracing::debug!(error = %e, "inline projection failed; retrying"),
                }
                if Instant::now() >= deadline {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            tracing::warn!(%position, "read models did not catch up within the read-your-writes bound");
            return;
        }
        if !self.projector.wait_for(position, self.read_your_writes_timeout).await {
            tracing::warn!(%position, "read models did not catch up within the read-your-writes bound");
        }
    }

    /// A case's data key, or `None` when it was destroyed (erased client).
    pub(crate) async fn data_key(&self, case_id: &str) -> Result<Option<Key>, ApiError> {
        self.keyring.data_key(&self.db, case_id).await.map_err(|e| match e {
            keys::KeyError::Database(e) => e.into(),
            other => ApiError::internal(other),
        })
    }

    /// Loads a case and checks `op` on it: `NOT_FOUND` when it does not exist, `FORBIDDEN`
    /// when the caller's role or scope does not reach it.
    pub(crate) async fn case_in_scope(
        &self,
        caller: &Caller,
        id: uuid::Uuid,
        op: Op,
    ) -> Result<Arc<CaseView>, ApiError> {
        let view = self.case_view(id).await?.ok_or_else(|| ApiError::NotFound(format!("no case {id}")))?;
        self.check_case(caller, &view, op).await?;
        Ok(view)
    }

    /// Checks `op` on a case already loaded.
    /// A caller who may not even read the case is told what a caller is told about a case
    /// that does not exist: `NOT_FOUND`, with the same message, so refusals reveal nothing
    /// about other organisations' cases.
    pub(crate) async fn check_case(&self, caller: &Caller, view: &CaseView, op: Op) -> Result<(), ApiError> {
        let scope = scope_of(view);
        if !policy::allowed(&caller.principal, op, Some(&scope))
            && !policy::allowed(&caller.principal, Op::ReadCase, Some(&scope))
        {
            return Err(ApiError::NotFound(format!("no case {}", view.id)));
        }
        policy::check(&caller.principal, op, Some(&scope))?;
        self.lawyer_in_service(caller).await
    }

    /// A LAWYER whose membership of the network was deactivated no longer reaches the cases
    /// (and client identities) still assigned to them; the coordinator reassigns them.
    pub(crate) async fn lawyer_in_service(&self, caller: &Caller) -> Result<(), ApiError> {
        let p = &caller.principal;
        if p.role != domain::values::Role::Lawyer {
            return Ok(());
        }
        let id = p.lawyer_id.ok_or_else(ApiError::forbidden)?;
        match self.lawyer_view(id).await? {
            Some(l) if l.active => Ok(()),
            _ => Err(ApiError::Forbidden("your membership of the lawyer network is deactivated".into())),
        }
    }
}

/// Operating the ledger: read models and keys.
impl App {
    /// Replays the whole event log into fresh read models (one transaction); returns how
    /// many events it applied.
    #[tracing::instrument(skip_all)]
    pub async fn rebuild_read_models(&self) -> Result<u64, ApiError> {
        let n = projections::projector::rebuild(&self.db).await?;
        self.projector.cache().clear();
        Ok(n)
    }

    /// Re-wraps every case's data key under `new` (sealing a new key epoch in the
    /// key-epoch file beside `new_file`) and destroys the old key-epoch file; afterwards the
    /// old master key opens nothing. Refuses the current key, and changes nothing if any
    /// data key does not open with the current one.
    #[tracing::instrument(skip_all)]
    pub async fn rotate_master_key(
        &self,
        caller: &Caller,
        new: &MasterKey,
        new_file: &Path,
    ) -> Result<usize, ApiError> {
        caller.allow(Op::RotateMasterKey)?;
        if new.id() == self.master_key.id() {
            return Err(ApiError::BadInput(
                "the new master key is the current one; make a new one with `probono keys generate`".into(),
            ));
        }
        let changed = self.keyring.rotate_master_key(&self.db, new, new_file).await.map_err(|e| match e {
            keys::KeyError::Database(e) => ApiError::from(e),
            other => ApiError::Rule(other.to_string()),
        })?;
        Ok(changed.rewrapped)
    }
}

/// What the policy needs to know about a case.
pub(crate) fn scope_of(view: &CaseView) -> CaseScope {
    CaseScope {
        organization_id: view.organization_id,
        lawyer_id: view.assignment.as_ref().map(|a| a.lawyer_id),
        data_sharing: view.consent.data_sharing,
        accepted: view.assignment.as_ref().is_some_and(|a| a.accepted_on.is_some()),
        closed: view.closed.is_some(),
    }
}

/// Reads through the projector's cache (see `projections::cache`): documents are read far
/// more often than written, and the projector invalidates what its batches change. Each
/// kind is one `Cached` map; `read_through` puts what it loads unless a batch was applied
/// meanwhile.
impl App {
    /// A case document, shared.
    pub async fn case_view(&self, id: Uuid) -> Result<Option<Arc<CaseView>>, ApiError> {
        let load = projections::store::case_by_id(&self.db, id);
        Ok(self.projector.cache().cases.read_through(&id, load).await?)
    }

    pub async fn lawyer_view(&self, id: Uuid) -> Result<Option<Arc<projections::model::LawyerView>>, ApiError> {
        let load = projections::store::lawyer_by_id(&self.db, id);
        Ok(self.projector.cache().lawyers.read_through(&id, load).await?)
    }

    pub async fn organization(&self, id: Uuid) -> Result<Option<Arc<projections::store::OrganizationRow>>, ApiError> {
        let load = projections::store::organization_by_id(&self.db, id);
        Ok(self.projector.cache().organizations.read_through(&id, load).await?)
    }

    /// The whole catalogue, retired entries included.
    pub async fn offenses(&self) -> Result<Arc<Vec<projections::store::OffenseRow>>, ApiError> {
        let load = async { Ok::<_, projections::Error>(Some(projections::store::offenses(&self.db).await?)) };
        Ok(self.projector.cache().offenses.read_through(&(), load).await?.unwrap_or_default())
    }

    pub async fn offense(&self, code: &str) -> Result<Option<projections::store::OffenseRow>, ApiError> {
        Ok(self.offenses().await?.iter().find(|o| o.code == code).cloned())
    }

    /// The token and account behind a token hash.
    pub(crate) async fn principal_rows(
        &self,
        token_hash: &str,
    ) -> Result<Option<Arc<(projections::model::TokenView, projections::model::AccountView)>>, ApiError> {
        let load = async {
            let Some(t) = projections::store::token_by_hash(&self.db, token_hash).await? else { return Ok(None) };
            let a = projections::store::account_by_id(&self.db, t.account_id).await?;
            Ok::<_, projections::Error>(a.map(|a| (t, a)))
        };
        Ok(self.projector.cache().principals.read_through(token_hash, load).await?)
    }
}
