//! The checkpointed catch-up projector.
//!
//! Each step reads a batch of events after the checkpoint, folds them into the read models
//! and moves the checkpoint, all in one transaction: a crash anywhere loses nothing and
//! applies nothing twice. The checkpoint moves by compare-and-set, so two projectors can
//! never both apply a batch; on PostgreSQL an advisory lock additionally elects one leader
//! so the others do not waste work, and followers publish the checkpoint they read.

use crate::append::{self, Append, Appended, Queue, Replies};
use crate::cache::{Changes, ReadCache};
use crate::db::{Db, Tx, WriteGate};
use crate::log::{self, Position, StoredEvent};
use crate::model::{AccountView, CaseView, LawyerView, TokenView};
use crate::store::{self, write, MAIN};
use crate::{Error, Result};
use cqrs_es::Aggregate;
use domain::account::{Account, AccountEvent};
use domain::case::{Case, CaseEvent};
use domain::erasure::{ErasureEvent, ErasureRequests};
use domain::figure::{FigureEvent, PublishedFigure};
use domain::lawyer::{Lawyer, LawyerEvent};
use domain::offense::{CatalogueEvent, OffenseCatalogue};
use domain::organization::{Organization, OrganizationEvent};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{watch, Notify};
use uuid::Uuid;

/// Arbitrary constant naming the projector's advisory lock.
const LEADER_LOCK: i64 = 0x0050_524f_424f_4e4f;

/// How often the leader probes the connection that holds its lock.
const LEADER_PROBE: Duration = Duration::from_secs(1);

fn unreadable(ev: &StoredEvent, reason: String) -> Error {
    Error::UnreadableEvent { position: ev.position.pos, event_type: ev.event_type.clone(), reason }
}

/// The event's payload as an event of `A`, case events through their upcasters (ADR 0016).
fn decode<A: Aggregate>(ev: &StoredEvent) -> Result<A::Event> {
    if A::TYPE == Case::TYPE && domain::case::needs_upcast(&ev.event_type, &ev.event_version) {
        let (_, payload) = domain::case::upcast_case_payload(&ev.event_type, &ev.event_version, ev.payload.clone());
        return serde::Deserialize::deserialize(&payload).map_err(|e| unreadable(ev, e.to_string()));
    }
    serde::Deserialize::deserialize(&ev.payload).map_err(|e| unreadable(ev, e.to_string()))
}

/// The stream's id, for the aggregates whose ids are UUIDs.
fn stream_uuid(ev: &StoredEvent) -> Result<Uuid> {
    Uuid::parse_str(&ev.aggregate_id).map_err(|_| unreadable(ev, "the aggregate id is not a UUID".into()))
}

/// When the event was recorded (the event store's column).
fn recorded_at(ev: &StoredEvent) -> Result<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(&ev.recorded_at)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|_| unreadable(ev, "recorded_at is not an RFC 3339 date-time".into()))
}

/// Documents touched by a batch, written back once at the end of it.
#[derive(Default)]
struct Batch {
    /// In a rebuild the tables start empty and everything is in memory: no loads.
    rebuild: bool,
    cases: HashMap<Uuid, CaseView>,
    lawyers: HashMap<Uuid, LawyerView>,
    dirty_cases: BTreeMap<Uuid, ()>,
    dirty_lawyers: BTreeMap<Uuid, ()>,
    changes: Changes,
    cache: Option<Arc<ReadCache>>,
}

/// What one aggregate type's events do to the read models: one impl per aggregate, chosen
/// by its stream type (`A::TYPE`) in [`Batch::apply`]. Adding an aggregate is adding one.
trait Handler: Aggregate {
    async fn project(batch: &mut Batch, tx: &mut Tx, ev: &StoredEvent, event: Self::Event) -> Result<()>;
}

impl Batch {
    async fn case(&mut self, tx: &mut Tx, id: Uuid) -> Result<Option<&mut CaseView>> {
        if !self.cases.contains_key(&id) && !self.rebuild {
            // The cache holds exactly the committed document (see `cache`), so it can
            // stand in for the read; a batch that loses its checkpoint race is discarded.
            if let Some(v) = self.cache.as_ref().and_then(|c| c.cases.get(&id)) {
                self.cases.insert(id, (*v).clone());
            } else if let Some(v) = write::load_case(tx, id).await? {
                self.cases.insert(id, v);
            }
        }
        Ok(self.cases.get_mut(&id))
    }

    async fn lawyer(&mut self, tx: &mut Tx, id: Uuid) -> Result<Option<&mut LawyerView>> {
        if !self.lawyers.contains_key(&id) && !self.rebuild {
            if let Some(v) = write::load_lawyer(tx, id).await? {
                self.lawyers.insert(id, v);
            }
        }
        Ok(self.lawyers.get_mut(&id))
    }

    /// Folds one event into the batch, by its aggregate's [`Handler`].
    async fn apply(&mut self, tx: &mut Tx, ev: &StoredEvent) -> Result<()> {
        match ev.aggregate_type.as_str() {
            Case::TYPE => self.handle::<Case>(tx, ev).await,
            Lawyer::TYPE => self.handle::<Lawyer>(tx, ev).await,
            Organization::TYPE => self.handle::<Organization>(tx, ev).await,
            Account::TYPE => self.handle::<Account>(tx, ev).await,
            OffenseCatalogue::TYPE => self.handle::<OffenseCatalogue>(tx, ev).await,
            ErasureRequests::TYPE => self.handle::<ErasureRequests>(tx, ev).await,
            PublishedFigure::TYPE => self.handle::<PublishedFigure>(tx, ev).await,
            // Read from their own stream when asked (`deadlines`): no read model to fold.
            domain::deadline::DeadlineRules::TYPE => Ok(()),
            other => {
                tracing::warn!(aggregate_type = other, "event of an unknown aggregate type; skipped");
                Ok(())
            }
        }
    }

    /// Folds one event the rebuild decoded ahead ([`decode_any`]), by its aggregate's [`Handler`].
    async fn fold(&mut self, tx: &mut Tx, ev: &StoredEvent, event: Decoded) -> Result<()> {
        match event {
            Decoded::Case(e) => Case::project(self, tx, ev, e).await,
            Decoded::Lawyer(e) => Lawyer::project(self, tx, ev, e).await,
            Decoded::Organization(e) => Organization::project(self, tx, ev, e).await,
            Decoded::Account(e) => Account::project(self, tx, ev, e).await,
            Decoded::Catalogue(e) => OffenseCatalogue::project(self, tx, ev, e).await,
            Decoded::Erasure(e) => ErasureRequests::project(self, tx, ev, e).await,
            Decoded::Figure(e) => PublishedFigure::project(self, tx, ev, e).await,
            Decoded::Nothing => Ok(()),
        }
    }

    async fn handle<A: Handler>(&mut self, tx: &mut Tx, ev: &StoredEvent) -> Result<()> {
        let event = decode::<A>(ev)?;
        A::project(self, tx, ev, event).await
    }

    /// The live batch's writes and its checkpoint's move from `from` to `last`; the changes
    /// (for the caches), or `None` when another projector moved the checkpoint first (the
    /// caller then drops the transaction). Each case's facts are computed once, for the
    /// table and the statistics index. On PostgreSQL the compare-and-set goes first, in one
    /// statement with the deletion of the batch's cases' old derived rows.
    async fn flush_live(&mut self, tx: &mut Tx, from: Option<Position>, last: Position) -> Result<Option<Changes>> {
        let dirty = std::mem::take(&mut self.dirty_cases);
        let cases: Vec<&CaseView> = dirty.keys().filter_map(|id| self.cases.get(id)).collect();
        let facts: Vec<Vec<crate::model::facts::Fact>> = cases.iter().map(|c| crate::model::facts::facts(c)).collect();
        let cleared = match (&mut *tx, from) {
            (Tx::Postgres(c), Some(from)) => {
                let ids: Vec<String> = cases.iter().map(|c| c.id.to_string()).collect();
                if !write::advance_checkpoint_clearing(c, MAIN, from, last, &ids).await? {
                    return Ok(None);
                }
                true
            }
            _ => false,
        };
        write::save_cases_with_facts(tx, &cases, cleared, &facts).await?;
        let mut changes = std::mem::take(&mut self.changes);
        changes.facts = cases
            .iter()
            .zip(facts)
            .map(|(c, facts)| (c.id, facts, c.exploitation_types.iter().map(|t| t.as_str()).collect()))
            .collect();
        drop(cases);
        // The documents go to the cache as they are: the batch ends with this flush.
        changes.case_docs = dirty.keys().filter_map(|id| self.cases.remove(id)).map(Arc::new).collect();
        changes.cases = dirty.into_keys().collect();
        changes.lawyers = self.save_dirty_lawyers(tx).await?;
        if !cleared && !write::advance_checkpoint(tx, MAIN, from, last).await? {
            return Ok(None);
        }
        Ok(Some(changes))
    }

    /// Writes the lawyer documents the batch changed; returns their ids (for the caches).
    async fn save_dirty_lawyers(&mut self, tx: &mut Tx) -> Result<Vec<Uuid>> {
        let dirty = std::mem::take(&mut self.dirty_lawyers);
        let lawyers: Vec<&LawyerView> = dirty.keys().filter_map(|id| self.lawyers.get(id)).collect();
        write::save_lawyers(tx, &lawyers).await?;
        Ok(dirty.into_keys().collect())
    }
}

impl Handler for Case {
    async fn project(batch: &mut Batch, tx: &mut Tx, ev: &StoredEvent, e: CaseEvent) -> Result<()> {
        let id = stream_uuid(ev)?;
        // The statistics count by the assigned lawyer's status: look it up once.
        let lawyer_status = match &e {
            CaseEvent::LawyerAssigned { lawyer_id, .. } => batch.lawyer(tx, *lawyer_id).await?.map(|l| l.status),
            _ => None,
        };
        if let Some(v) = CaseView::open(&e, ev.position.pos) {
            batch.cases.insert(id, v);
        } else if let Some(v) = batch.case(tx, id).await? {
            v.apply(&e, ev.sequence);
            if lawyer_status.is_some() {
                v.lawyer_status = lawyer_status;
            }
        } else {
            tracing::warn!(position = ev.position.pos, "case event for a case with no intake; skipped");
            return Ok(());
        }
        batch.dirty_cases.insert(id, ());
        Ok(())
    }
}

impl Handler for Lawyer {
    async fn project(batch: &mut Batch, tx: &mut Tx, ev: &StoredEvent, e: LawyerEvent) -> Result<()> {
        let id = stream_uuid(ev)?;
        if let Some(v) = LawyerView::open(&e, ev.position.pos) {
            batch.lawyers.insert(id, v);
        } else if let Some(v) = batch.lawyer(tx, id).await? {
            v.apply(&e);
        } else {
            return Ok(());
        }
        batch.dirty_lawyers.insert(id, ());
        Ok(())
    }
}

impl Handler for Organization {
    async fn project(batch: &mut Batch, tx: &mut Tx, ev: &StoredEvent, e: OrganizationEvent) -> Result<()> {
        let id = stream_uuid(ev)?;
        batch.changes.organizations = true;
        match e {
            OrganizationEvent::OrganizationRegistered { name, kind, .. } => {
                write::upsert_organization(tx, id, name.as_str(), Some(kind), ev.position.pos).await
            }
            OrganizationEvent::OrganizationRenamed { name } => {
                write::upsert_organization(tx, id, name.as_str(), None, ev.position.pos).await
            }
        }
    }
}

impl Handler for Account {
    async fn project(batch: &mut Batch, tx: &mut Tx, ev: &StoredEvent, e: AccountEvent) -> Result<()> {
        let id = stream_uuid(ev)?;
        batch.changes.accounts = true;
        match e {
            AccountEvent::AccountCreated { account_id, name, role, organization_id, lawyer_id, created_by } => {
                let a = AccountView {
                    id: account_id,
                    name: name.to_string(),
                    role,
                    organization_id,
                    lawyer_id,
                    disabled: false,
                    created_at: recorded_at(ev)?,
                    created_by,
                    // The same rule as the aggregate's.
                    approved: created_by.is_none() || !role.reads_identity(),
                    approved_by: None,
                    approved_at: None,
                };
                write::insert_account(tx, &a).await
            }
            AccountEvent::AccountApproved { approved_by } => {
                write::approve_account(tx, id, approved_by, &recorded_at(ev)?).await
            }
            AccountEvent::TokenIssued { token_id, token_hash, expires_at } => {
                let t = TokenView { token_id, account_id: id, issued_at: recorded_at(ev)?, expires_at, revoked: false };
                write::insert_token(tx, &token_hash, &t).await
            }
            AccountEvent::TokenRevoked { token_id } => write::revoke_token(tx, token_id).await,
            AccountEvent::AccountDisabled { .. } => write::disable_account(tx, id).await,
        }
    }
}

impl Handler for OffenseCatalogue {
    async fn project(batch: &mut Batch, tx: &mut Tx, _: &StoredEvent, e: CatalogueEvent) -> Result<()> {
        batch.changes.offenses = true;
        match e {
            CatalogueEvent::CatalogueImported { offenses, .. } => {
                for o in &offenses {
                    write::upsert_offense(tx, o).await?;
                }
                Ok(())
            }
            CatalogueEvent::OffenseAdded { entry } => write::upsert_offense(tx, &entry).await,
            CatalogueEvent::OffenseRetired { code, .. } => write::retire_offense(tx, &code).await,
        }
    }
}

impl Handler for ErasureRequests {
    async fn project(_: &mut Batch, tx: &mut Tx, ev: &StoredEvent, e: ErasureEvent) -> Result<()> {
        use crate::store::erasure::{decide_request, insert_request, ErasureStatus};
        let at = recorded_at(ev)?;
        match e {
            ErasureEvent::ErasureRequested { request_id, case_id, reason, requested_by } => {
                insert_request(tx, request_id, case_id, reason.as_str(), requested_by, &at).await
            }
            ErasureEvent::ErasureApproved { request_id, approved_by } => {
                decide_request(tx, request_id, ErasureStatus::Approved, approved_by, &at, None).await
            }
            ErasureEvent::ErasureRejected { request_id, rejected_by, reason } => {
                decide_request(tx, request_id, ErasureStatus::Rejected, rejected_by, &at, Some(reason.as_str())).await
            }
        }
    }
}

impl Handler for PublishedFigure {
    async fn project(_: &mut Batch, tx: &mut Tx, ev: &StoredEvent, e: FigureEvent) -> Result<()> {
        let FigureEvent::PublishedFigureRecorded(f) = e;
        store::figures::upsert_figure(tx, &f, ev.position.pos).await
    }
}

/// What the projector last did, for `/readyz` and `/metrics`.
#[derive(Debug, Clone, Default)]
pub struct ProjectorStatus {
    pub checkpoint: Position,
    pub caught_up: bool,
    pub leader: bool,
    pub last_error: Option<String>,
    pub events_applied: u64,
}

pub struct Projector {
    db: Db,
    /// On PostgreSQL, while the loop runs on its own thread: the pool whose connections that
    /// thread's runtime drives (see [`Projector::spawn_on_own_thread`]).
    own_db: Mutex<Option<Db>>,
    published: watch::Sender<Position>,
    wake: Notify,
    batch_size: i64,
    status: Mutex<ProjectorStatus>,
    leader: tokio::sync::Mutex<Option<sqlx::PgConnection>>,
    /// When the leader lock's connection last answered.
    leader_checked: Mutex<Option<Instant>>,
    stopping: AtomicBool,
    running: AtomicBool,
    /// Time each batch took from the first read to commit, for the lag metric.
    lag: Mutex<Vec<f64>>,
    /// Per event: seconds from the command recording it to its batch committing.
    event_lag: Mutex<Vec<f64>>,
    cache: Arc<ReadCache>,
    /// SQLite's in-process writer gate (see [`Db::write_gate`]).
    gate: Option<WriteGate>,
    /// Events handed over by commands, appended by the next batch (ADR 0019).
    appends: Queue,
    /// Commands waiting for a batch to append their events (queued or in a batch).
    appends_waiting: std::sync::atomic::AtomicUsize,
    /// Whether the leading loop takes commands' events at all: on by default on both
    /// stores (ADRs 0019 and 0020).
    hand_over: AtomicBool,
}

impl Projector {
    pub fn new(db: Db) -> Arc<Projector> {
        let (published, _) = watch::channel(Position::START);
        Arc::new(Projector {
            db: db.clone(),
            own_db: Mutex::new(None),
            published,
            wake: Notify::new(),
            batch_size: 500,
            status: Mutex::new(ProjectorStatus::default()),
            leader: tokio::sync::Mutex::new(None),
            leader_checked: Mutex::new(None),
            stopping: AtomicBool::new(false),
            running: AtomicBool::new(false),
            lag: Mutex::new(Vec::new()),
            event_lag: Mutex::new(Vec::new()),
            cache: Arc::new(ReadCache::default()),
            gate: db.write_gate(),
            appends: Queue::default(),
            appends_waiting: Default::default(),
            hand_over: AtomicBool::new(true),
        })
    }

    /// The pool batches run on: the loop's own while it runs on its own thread, else the
    /// application's.
    fn db(&self) -> Db {
        self.own_db.lock().ok().and_then(|d| d.clone()).unwrap_or_else(|| self.db.clone())
    }

    /// Starts [`Projector::run`] on a thread of its own, with a single-threaded runtime and,
    /// on PostgreSQL, two connections of its own (one for batches, one holding the leader
    /// lock). Every command waits for the projector's next batch, and a batch is a chain of
    /// round trips: on the request runtime each of its wake-ups queued behind the request
    /// tasks and each reply waited for a busy worker to poll the socket, so a batch took
    /// several times its work under load. On its own thread the operating system schedules
    /// it as soon as a reply arrives. The handle ends when the loop does (after
    /// [`Projector::stop`]).
    pub fn spawn_on_own_thread(self: Arc<Self>) -> std::io::Result<tokio::task::JoinHandle<()>> {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let (done, ended) = tokio::sync::oneshot::channel::<()>();
        let projector = self;
        std::thread::Builder::new().name("probono-projector".into()).spawn(move || {
            rt.block_on(async {
                // Made inside this runtime: its connections are driven by this thread.
                let own = projector.db.sibling_pool(2);
                if let Ok(mut d) = projector.own_db.lock() {
                    d.clone_from(&own);
                }
                projector.clone().run().await;
                if let Ok(mut d) = projector.own_db.lock() {
                    *d = None;
                }
                if let Some(own) = own {
                    own.close().await;
                }
            });
            drop(rt);
            let _ = done.send(());
        })?;
        Ok(tokio::spawn(async move {
            let _ = ended.await;
        }))
    }

    pub fn status(&self) -> ProjectorStatus {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }

    fn update_status(&self, f: impl FnOnce(&mut ProjectorStatus)) {
        if let Ok(mut s) = self.status.lock() {
            f(&mut s);
        }
    }

    /// Takes and clears the batch durations (seconds) recorded since the last call.
    pub fn drain_batch_seconds(&self) -> Vec<f64> {
        self.lag.lock().map(|mut l| std::mem::take(&mut *l)).unwrap_or_default()
    }

    /// Takes and clears the per-event projection lags (seconds) recorded since the last call:
    /// from the time a command recorded the event to the commit that made it visible.
    pub fn drain_event_lag_seconds(&self) -> Vec<f64> {
        self.event_lag.lock().map(|mut l| std::mem::take(&mut *l)).unwrap_or_default()
    }

    /// The read cache this projector keeps exact.
    pub fn cache(&self) -> &Arc<ReadCache> {
        &self.cache
    }

    /// Asks the projector to look for new events now.
    pub fn notify(&self) {
        self.wake.notify_one();
    }

    /// The checkpoint this instance has published.
    pub fn checkpoint(&self) -> Position {
        *self.published.borrow()
    }

    /// Waits until the read models include `pos` (read-your-writes). False on time-out.
    pub async fn wait_for(&self, pos: Position, timeout: Duration) -> bool {
        let mut rx = self.published.subscribe();
        if *rx.borrow_and_update() >= pos {
            // Projected by the batch that appended it: nothing to wake the projector for.
            return true;
        }
        self.notify();
        tokio::time::timeout(timeout, rx.wait_for(|p| *p >= pos)).await.is_ok_and(|r| r.is_ok())
    }

    /// Appends `ev` in the projector's next batch, which also projects it when it can
    /// (ADR 0019): the command that waits for its events then finds them projected when the
    /// batch answers. [`Appended::NotQueued`] when no projector loop leads here (or its batch
    /// failed before committing): the caller appends by itself.
    pub async fn append(&self, ev: Append) -> Appended {
        struct Waiting<'a>(&'a std::sync::atomic::AtomicUsize);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::Relaxed);
            }
        }
        self.appends_waiting.fetch_add(1, Ordering::Relaxed);
        let _waiting = Waiting(&self.appends_waiting);
        match self.appends.push(ev) {
            Some(rx) => {
                self.notify();
                // A batch answers in milliseconds; this bound only keeps a command from
                // waiting forever on a projector task that was torn down mid-batch.
                match tokio::time::timeout(Duration::from_secs(30), rx).await {
                    Ok(answer) => answer.unwrap_or(Appended::NotQueued),
                    Err(_) => Appended::Unknown,
                }
            }
            None => Appended::NotQueued,
        }
    }

    /// Turns the hand-over of commands' events to this projector's batches on or off (ADR
    /// 0019); it takes effect at the loop's next pass. Off, commands append by themselves.
    pub fn hand_over_appends(&self, on: bool) {
        self.hand_over.store(on, Ordering::Relaxed);
        if !on {
            self.appends.set_open(false);
        }
    }

    /// How many commands wait for a batch to append their events (for tests and diagnostics).
    pub fn appends_waiting(&self) -> usize {
        self.appends_waiting.load(Ordering::Relaxed)
    }

    /// One batch: append what commands handed over, read after the checkpoint, apply,
    /// advance. Returns the number applied.
    pub async fn step(&self) -> Result<usize> {
        let started = Instant::now();
        let _gate = match &self.gate {
            Some(g) => Some(g.enter().await),
            None => None,
        };
        let (handed, replies): (Vec<Append>, Vec<_>) =
            self.appends.take(self.batch_size as usize).into_iter().map(|q| (q.ev, q.reply)).unzip();
        // Answers `NotQueued` if this batch ends before its commit: nothing it appended stays.
        let mut replies = Replies::new(replies);
        // A batch with events of record commits them durably (synchronously); one of derived
        // data only does not wait for the disk (ADR 0015).
        let db = self.db();
        let mut tx = if handed.is_empty() { db.begin_derived().await? } else { db.begin_write().await? };
        let appended = if handed.is_empty() {
            vec![]
        } else {
            append::insert(&mut tx, &handed.iter().collect::<Vec<_>>()).await?
        };
        // PostgreSQL reads the checkpoint and the events in one round trip; SQLite, whose
        // statements run in process, in two (one fewer nested future for the commands'
        // inline settle path, whose future layout is close to the compiler's depth limit).
        let (from, events) = if let Tx::Postgres(c) = &mut tx {
            write::pg_checkpoint_and_events(c, MAIN, self.batch_size).await?
        } else {
            let from = write::checkpoint(&mut tx, MAIN).await?;
            (from, log::read_after_in_batch(&mut tx, from.unwrap_or(Position::START), self.batch_size).await?)
        };
        if from.unwrap_or(Position::START) > *self.published.borrow() {
            // Someone else (another process) projected events this instance never saw.
            self.cache.clear();
        }
        let Some(last) = events.last().map(|e| e.position) else {
            if !handed.is_empty() {
                // Appended, not yet projectable (PostgreSQL: an older transaction is open).
                replies.committing = true;
                tx.commit().await?;
                replies.answer(appended);
            } else {
                drop(tx);
            }
            let cp = from.unwrap_or(Position::START);
            self.published.send_if_modified(|p| std::mem::replace(p, cp) != cp);
            return Ok(0);
        };
        let mut batch = Batch { cache: Some(self.cache.clone()), ..Batch::default() };
        for ev in &events {
            batch.apply(&mut tx, ev).await?;
        }
        let Some(changes) = batch.flush_live(&mut tx, from, last).await? else {
            // Another projector applied this batch first: ours is discarded whole (with the
            // appends, which their commands then make themselves).
            drop(tx);
            self.cache.clear();
            return Ok(0);
        };
        replies.committing = true;
        tx.commit().await?;
        // Caches first, then the checkpoint: whoever waits for it reads fresh data.
        self.cache.apply_changes(&changes);
        self.cache.stats.apply(&changes);
        self.published.send_replace(last);
        // Then the commands that handed their events over: each finds them projected.
        replies.answer(appended);
        let n = events.len();
        self.update_status(|s| {
            s.checkpoint = last;
            s.events_applied += n as u64;
            s.last_error = None;
        });
        if let Ok(mut l) = self.lag.lock() {
            if l.len() < 100_000 {
                l.push(started.elapsed().as_secs_f64());
            }
        }
        let now = chrono::Utc::now();
        if let Ok(mut l) = self.event_lag.lock() {
            for ev in events.iter().take(1_000_000usize.saturating_sub(l.len())) {
                if let Some(at) =
                    ev.meta(crate::log::meta::RECORDED_AT).and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                {
                    l.push((now - at.with_timezone(&chrono::Utc)).num_microseconds().unwrap_or(0) as f64 / 1e6);
                }
            }
        }
        Ok(n)
    }

    /// Applies batches until none is left.
    pub async fn catch_up(&self) -> Result<u64> {
        let mut total = 0u64;
        loop {
            let n = self.step().await?;
            if n == 0 {
                // A clean pass also ends any earlier failure (e.g. the database was restarted):
                // without this, /readyz would stay 503 until the next event arrived.
                self.update_status(|s| {
                    s.caught_up = true;
                    s.last_error = None;
                });
                return Ok(total);
            }
            total += n as u64;
        }
    }

    /// The live loop's catch-up: batches until one comes back short. A short batch took
    /// everything visible; whatever commits after it wakes the projector again (every
    /// command notifies it, a wake that finds it busy is kept), so the extra empty
    /// transaction [`Projector::catch_up`] ends with is saved on every wake-up — under a
    /// command load, one transaction in two.
    async fn catch_up_live(&self) -> Result<()> {
        loop {
            let n = self.step().await?;
            if n < self.batch_size as usize {
                self.update_status(|s| {
                    s.caught_up = true;
                    s.last_error = None;
                });
                return Ok(());
            }
        }
    }

    /// On PostgreSQL, holds the advisory lock on a dedicated connection while leader.
    async fn is_leader(&self) -> bool {
        let Db::Postgres(pool) = self.db() else {
            return true;
        };
        let mut guard = self.leader.lock().await;
        if let Some(conn) = guard.as_mut() {
            // The lock's connection is probed at most once a second, not before every batch
            // (under a command load that was one round trip per batch): were it lost in
            // between, the checkpoint's compare-and-set still keeps a second projector from
            // applying the same batch.
            let recent = self.leader_checked.lock().ok().and_then(|t| *t).is_some_and(|t| t.elapsed() < LEADER_PROBE);
            if recent {
                return true;
            }
            if sqlx::query("SELECT 1").execute(&mut *conn).await.is_ok() {
                if let Ok(mut t) = self.leader_checked.lock() {
                    *t = Some(Instant::now());
                }
                return true;
            }
            *guard = None;
        }
        let acquired = async {
            let mut conn = pool.acquire().await?.detach();
            let got: bool =
                sqlx::query_scalar("SELECT pg_try_advisory_lock($1)").bind(LEADER_LOCK).fetch_one(&mut conn).await?;
            Ok::<_, sqlx::Error>(got.then_some(conn))
        }
        .await;
        match acquired {
            Ok(Some(conn)) => {
                *guard = Some(conn);
                if let Ok(mut t) = self.leader_checked.lock() {
                    *t = Some(Instant::now());
                }
                tracing::info!("projector: this instance is the leader");
                true
            }
            _ => false,
        }
    }

    /// Runs until [`Projector::stop`]: leads when it can, follows otherwise.
    pub async fn run(self: Arc<Self>) {
        self.running.store(true, Ordering::Relaxed);
        let mut backoff = Duration::from_millis(50);
        while !self.stopping.load(Ordering::Relaxed) {
            let leader = self.is_leader().await;
            if !leader {
                // Only the leading projector appends for commands.
                self.appends.set_open(false);
            }
            if leader != self.status().leader {
                // What this instance cached as a follower may be stale by now.
                self.cache.clear();
            }
            self.update_status(|s| s.leader = leader);
            let result = if leader {
                self.catch_up_live().await
            } else {
                store::read_checkpoint(&self.db()).await.map(|cp| {
                    if *self.published.borrow() != cp {
                        self.cache.clear();
                    }
                    self.published.send_if_modified(|p| std::mem::replace(p, cp) != cp);
                    self.update_status(|s| {
                        s.checkpoint = cp;
                        s.caught_up = true;
                        s.last_error = None;
                    });
                })
            };
            match result {
                Ok(()) => {
                    if leader && self.hand_over.load(Ordering::Relaxed) && !self.stopping.load(Ordering::Relaxed) {
                        self.appends.set_open(true);
                    }
                    backoff = Duration::from_millis(50);
                    let poll = if leader { Duration::from_millis(200) } else { Duration::from_millis(20) };
                    tokio::select! {
                        _ = self.wake.notified() => {}
                        _ = tokio::time::sleep(poll) => {}
                    }
                }
                Err(e) => {
                    // Until a batch succeeds again, commands append by themselves.
                    self.appends.set_open(false);
                    tracing::warn!(error = %e, "projector step failed; retrying");
                    self.update_status(|s| {
                        s.last_error = Some(e.to_string());
                        s.caught_up = false;
                    });
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                }
            }
        }
        self.appends.set_open(false);
        // Closing the connection releases the advisory lock: another instance takes over.
        *self.leader.lock().await = None;
        self.update_status(|s| s.leader = false);
    }

    pub fn stop(&self) {
        self.stopping.store(true, Ordering::Relaxed);
        self.running.store(false, Ordering::Relaxed);
        self.appends.set_open(false);
        self.notify();
    }

    /// True while [`Projector::run`] is looping in some task.
    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::Relaxed)
    }
}

/// An event decoded for the rebuild, ahead of folding, by its aggregate type.
enum Decoded {
    Case(CaseEvent),
    Lawyer(LawyerEvent),
    Organization(OrganizationEvent),
    Account(AccountEvent),
    Catalogue(CatalogueEvent),
    Erasure(ErasureEvent),
    Figure(FigureEvent),
    /// Deadline rules (read from their own stream) and aggregate types this build does not know.
    Nothing,
}

/// A stored payload (JSON text) as an event of `A`, in one pass; case events of an older
/// version through their upcasters (ADR 0016), as [`decode`] does.
fn decode_text<A: Aggregate>(ev: &StoredEvent, payload: &[u8]) -> Result<A::Event> {
    if A::TYPE == Case::TYPE && domain::case::needs_upcast(&ev.event_type, &ev.event_version) {
        let value: serde_json::Value = serde_json::from_slice(payload).map_err(|e| unreadable(ev, e.to_string()))?;
        let (_, payload) = domain::case::upcast_case_payload(&ev.event_type, &ev.event_version, value);
        return serde::Deserialize::deserialize(&payload).map_err(|e| unreadable(ev, e.to_string()));
    }
    serde_json::from_slice(payload).map_err(|e| unreadable(ev, e.to_string()))
}

/// Decodes one event for the rebuild: the same choice of handler as [`Batch::apply`].
fn decode_any(ev: &StoredEvent, payload: &[u8]) -> Result<Decoded> {
    Ok(match ev.aggregate_type.as_str() {
        Case::TYPE => Decoded::Case(decode_text::<Case>(ev, payload)?),
        Lawyer::TYPE => Decoded::Lawyer(decode_text::<Lawyer>(ev, payload)?),
        Organization::TYPE => Decoded::Organization(decode_text::<Organization>(ev, payload)?),
        Account::TYPE => Decoded::Account(decode_text::<Account>(ev, payload)?),
        OffenseCatalogue::TYPE => Decoded::Catalogue(decode_text::<OffenseCatalogue>(ev, payload)?),
        ErasureRequests::TYPE => Decoded::Erasure(decode_text::<ErasureRequests>(ev, payload)?),
        PublishedFigure::TYPE => Decoded::Figure(decode_text::<PublishedFigure>(ev, payload)?),
        domain::deadline::DeadlineRules::TYPE => Decoded::Nothing,
        other => {
            tracing::warn!(aggregate_type = other, "event of an unknown aggregate type; skipped");
            Decoded::Nothing
        }
    })
}

/// A page of the log, decoded (on a blocking thread).
fn decode_page(page: log::ReplayPage) -> Result<Vec<(StoredEvent, Decoded)>> {
    let mut out = Vec::with_capacity(page.len());
    page.events(|ev, payload| {
        let d = decode_any(&ev, payload)?;
        out.push((ev, d));
        Ok(())
    })?;
    Ok(out)
}

/// Events per page the rebuild reads.
const REPLAY_PAGE: i64 = 5_000;
/// Pages read and being decoded ahead of the fold.
const DECODED_AHEAD: usize = 3;

type DecodedPage = tokio::task::JoinHandle<Result<Vec<(StoredEvent, Decoded)>>>;

/// The rebuild's reader: pages of the log in order, each handed to a blocking thread to
/// decode while the next is read; the receiver folds them in the order sent.
async fn read_ahead(db: Db, out: tokio::sync::mpsc::Sender<DecodedPage>) -> Result<()> {
    let mut after = Position::START;
    loop {
        let page = log::replay_page(&db, after, REPLAY_PAGE).await?;
        let Some(last) = page.last()? else { return Ok(()) };
        after = last;
        if out.send(tokio::task::spawn_blocking(move || decode_page(page))).await.is_err() {
            // The fold stopped (it failed): nothing more to read.
            return Ok(());
        }
    }
}

/// Aborts a task when dropped (the rebuild's reader, when the rebuild fails).
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn task_failed(e: tokio::task::JoinError) -> Error {
    Error::Io(std::io::Error::other(format!("a rebuild task failed: {e}")))
}

/// Replays the whole log from position 0 into emptied read models, in one transaction:
/// readers keep seeing the old read models until it commits, then the new ones.
///
/// Pages of the log are read on another connection (the events are committed; the same
/// order and visibility as the live projector's reads) and decoded on blocking threads,
/// straight from their stored JSON text into the event types, while the pages before them
/// are folded in log order by the same handlers as the live projector's. The case
/// documents and their derived rows are bulk-loaded at the end (`COPY` on PostgreSQL).
pub async fn rebuild(db: &Db) -> Result<u64> {
    let gate = db.write_gate();
    let _gate = match &gate {
        Some(g) => Some(g.enter().await),
        None => None,
    };
    let mut tx = db.begin_derived().await?;
    write::truncate(&mut tx).await?;
    let (pages, mut decoded) = tokio::sync::mpsc::channel::<DecodedPage>(DECODED_AHEAD);
    let mut reader = AbortOnDrop(tokio::spawn(read_ahead(db.clone(), pages)));
    let mut batch = Batch { rebuild: true, ..Batch::default() };
    let mut cp = Position::START;
    let mut total = 0u64;
    while let Some(page) = decoded.recv().await {
        for (ev, event) in page.await.map_err(task_failed)?? {
            batch.fold(&mut tx, &ev, event).await?;
            cp = ev.position;
            total += 1;
        }
    }
    // The reader's own failure (the channel closes either way).
    (&mut reader.0).await.map_err(task_failed)??;
    let cases: Vec<CaseView> = {
        let dirty = std::mem::take(&mut batch.dirty_cases);
        let mut all = std::mem::take(&mut batch.cases);
        dirty.keys().filter_map(|id| all.remove(id)).collect()
    };
    write::load_cases(&mut tx, cases).await?;
    // The rebuild's cases went in bulk above; its lawyers are written here.
    batch.save_dirty_lawyers(&mut tx).await?;
    write::advance_checkpoint(&mut tx, MAIN, None, cp).await?;
    tx.commit().await?;
    let head = log::committed_head(db).await?;
    if head > cp {
        // A transaction somewhere in the cluster was open, hiding later commits from the
        // replay; the live projector applies them from the checkpoint on.
        tracing::warn!(%head, checkpoint = %cp, "some committed events were not yet visible to the rebuild");
    }
    Ok(total)
}
