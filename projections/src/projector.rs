//! The checkpointed catch-up projector.
//!
//! Each step reads a batch of events after the checkpoint, folds them into the read models
//! and moves the checkpoint, all in one transaction: a crash anywhere loses nothing and
//! applies nothing twice. The checkpoint moves by compare-and-set, so two projectors can
//! never both apply a batch; on PostgreSQL an advisory lock additionally elects one leader
//! so the others do not waste work, and followers publish the checkpoint they read.

use crate::db::{Db, Tx};
use crate::log::{self, Position, StoredEvent};
use crate::model::{AccountView, CaseView, LawyerView, TokenView};
use crate::store::{self, MAIN};
use crate::{Error, Result};
use domain::account::AccountEvent;
use domain::case::CaseEvent;
use domain::lawyer::LawyerEvent;
use domain::offense::CatalogueEvent;
use domain::organization::OrganizationEvent;
use serde::de::DeserializeOwned;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{watch, Notify};

/// Arbitrary constant naming the projector's advisory lock.
const LEADER_LOCK: i64 = 0x0050_524f_424f_4e4f;

fn decode<E: DeserializeOwned>(ev: &StoredEvent) -> Result<E> {
    serde_json::from_value(ev.payload.clone()).map_err(|e| Error::UnreadableEvent {
        position: ev.position.pos,
        event_type: ev.event_type.clone(),
        reason: e.to_string(),
    })
}

/// Documents touched by a batch, written back once at the end of it.
#[derive(Default)]
struct Batch {
    /// In a rebuild the tables start empty and everything is in memory: no loads.
    rebuild: bool,
    cases: HashMap<String, CaseView>,
    lawyers: HashMap<String, LawyerView>,
    dirty_cases: BTreeMap<String, ()>,
    dirty_lawyers: BTreeMap<String, ()>,
}

impl Batch {
    async fn case(&mut self, tx: &mut Tx, id: &str) -> Result<Option<&mut CaseView>> {
        if !self.cases.contains_key(id) && !self.rebuild {
            if let Some(v) = store::load_case(tx, id).await? {
                self.cases.insert(id.to_string(), v);
            }
        }
        Ok(self.cases.get_mut(id))
    }

    async fn lawyer(&mut self, tx: &mut Tx, id: &str) -> Result<Option<&mut LawyerView>> {
        if !self.lawyers.contains_key(id) && !self.rebuild {
            if let Some(v) = store::load_lawyer(tx, id).await? {
                self.lawyers.insert(id.to_string(), v);
            }
        }
        Ok(self.lawyers.get_mut(id))
    }

    async fn apply(&mut self, tx: &mut Tx, ev: &StoredEvent) -> Result<()> {
        let id = ev.aggregate_id.as_str();
        match ev.aggregate_type.as_str() {
            "Case" => {
                let e: CaseEvent = decode(ev)?;
                if let Some(v) = CaseView::open(&e, ev.position.pos) {
                    self.cases.insert(id.to_string(), v);
                } else if let Some(v) = self.case(tx, id).await? {
                    v.apply(&e, ev.sequence);
                } else {
                    tracing::warn!(position = ev.position.pos, "case event for a case with no intake; skipped");
                    return Ok(());
                }
                self.dirty_cases.insert(id.to_string(), ());
            }
            "Lawyer" => {
                let e: LawyerEvent = decode(ev)?;
                if let Some(v) = LawyerView::open(&e, ev.position.pos) {
                    self.lawyers.insert(id.to_string(), v);
                } else if let Some(v) = self.lawyer(tx, id).await? {
                    v.apply(&e);
                } else {
                    return Ok(());
                }
                self.dirty_lawyers.insert(id.to_string(), ());
            }
            "Organization" => match decode::<OrganizationEvent>(ev)? {
                OrganizationEvent::OrganizationRegistered { name, kind, .. } => {
                    store::upsert_organization(tx, id, name.as_str(), Some(kind.as_str()), ev.position.pos).await?
                }
                OrganizationEvent::OrganizationRenamed { name } => {
                    store::upsert_organization(tx, id, name.as_str(), None, ev.position.pos).await?
                }
            },
            "Account" => match decode::<AccountEvent>(ev)? {
                AccountEvent::AccountCreated { account_id, name, role, organization_id, lawyer_id } => {
                    let a = AccountView {
                        id: account_id.to_string(),
                        name: name.to_string(),
                        role: role.as_str().to_string(),
                        organization_id: organization_id.map(|o| o.to_string()),
                        lawyer_id: lawyer_id.map(|l| l.to_string()),
                        disabled: false,
                        created_at: ev.recorded_at.clone(),
                    };
                    store::insert_account(tx, &a).await?
                }
                AccountEvent::TokenIssued { token_id, token_hash, expires_at } => {
                    let t = TokenView {
                        token_id: token_id.to_string(),
                        account_id: id.to_string(),
                        issued_at: ev.recorded_at.clone(),
                        expires_at: expires_at.map(|e| e.to_rfc3339()),
                        revoked: false,
                    };
                    store::insert_token(tx, &token_hash, &t).await?
                }
                AccountEvent::TokenRevoked { token_id } => store::revoke_token(tx, &token_id.to_string()).await?,
                AccountEvent::AccountDisabled { .. } => store::disable_account(tx, id).await?,
            },
            "OffenseCatalogue" => match decode::<CatalogueEvent>(ev)? {
                CatalogueEvent::CatalogueImported { offenses, .. } => {
                    for o in &offenses {
                        store::upsert_offense(tx, o).await?;
                    }
                }
                CatalogueEvent::OffenseAdded { entry } => store::upsert_offense(tx, &entry).await?,
                CatalogueEvent::OffenseRetired { code, .. } => store::retire_offense(tx, &code).await?,
            },
            other => tracing::warn!(aggregate_type = other, "event of an unknown aggregate type; skipped"),
        }
        Ok(())
    }

    async fn flush(&mut self, tx: &mut Tx) -> Result<()> {
        for id in std::mem::take(&mut self.dirty_cases).into_keys() {
            if let Some(v) = self.cases.get(&id) {
                store::save_case(tx, v).await?;
            }
        }
        for id in std::mem::take(&mut self.dirty_lawyers).into_keys() {
            if let Some(v) = self.lawyers.get(&id) {
                store::save_lawyer(tx, v).await?;
            }
        }
        Ok(())
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
    published: watch::Sender<Position>,
    wake: Notify,
    batch_size: i64,
    status: Mutex<ProjectorStatus>,
    leader: tokio::sync::Mutex<Option<sqlx::PgConnection>>,
    stopping: AtomicBool,
    running: AtomicBool,
    /// Time each batch took from the first read to commit, for the lag metric.
    lag: Mutex<Vec<f64>>,
}

impl Projector {
    pub fn new(db: Db) -> Arc<Projector> {
        let (published, _) = watch::channel(Position::START);
        Arc::new(Projector {
            db,
            published,
            wake: Notify::new(),
            batch_size: 500,
            status: Mutex::new(ProjectorStatus::default()),
            leader: tokio::sync::Mutex::new(None),
            stopping: AtomicBool::new(false),
            running: AtomicBool::new(false),
            lag: Mutex::new(Vec::new()),
        })
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
        self.notify();
        tokio::time::timeout(timeout, rx.wait_for(|p| *p >= pos)).await.is_ok_and(|r| r.is_ok())
    }

    /// One batch: read after the checkpoint, apply, advance. Returns the number applied.
    pub async fn step(&self) -> Result<usize> {
        let started = Instant::now();
        let mut tx = self.db.begin_write().await?;
        let from = store::checkpoint(&mut tx, MAIN).await?;
        let events = log::read_after(&mut tx, from.unwrap_or(Position::START), self.batch_size).await?;
        let Some(last) = events.last().map(|e| e.position) else {
            drop(tx);
            let cp = from.unwrap_or(Position::START);
            self.published.send_if_modified(|p| std::mem::replace(p, cp) != cp);
            return Ok(0);
        };
        let mut batch = Batch::default();
        for ev in &events {
            batch.apply(&mut tx, ev).await?;
        }
        batch.flush(&mut tx).await?;
        if !store::advance_checkpoint(&mut tx, MAIN, from, last).await? {
            // Another projector applied this batch first: ours is discarded whole.
            drop(tx);
            return Ok(0);
        }
        tx.commit().await?;
        self.published.send_replace(last);
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
        Ok(n)
    }

    /// Applies batches until none is left.
    pub async fn catch_up(&self) -> Result<u64> {
        let mut total = 0u64;
        loop {
            let n = self.step().await?;
            if n == 0 {
                self.update_status(|s| s.caught_up = true);
                return Ok(total);
            }
            total += n as u64;
        }
    }

    /// On PostgreSQL, holds the advisory lock on a dedicated connection while leader.
    async fn is_leader(&self) -> bool {
        let Db::Postgres(pool) = &self.db else {
            return true;
        };
        let mut guard = self.leader.lock().await;
        if let Some(conn) = guard.as_mut() {
            if sqlx::query("SELECT 1").execute(&mut *conn).await.is_ok() {
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
            self.update_status(|s| s.leader = leader);
            let result = if leader {
                self.catch_up().await.map(|_| ())
            } else {
                store::read_checkpoint(&self.db).await.map(|cp| {
                    self.published.send_if_modified(|p| std::mem::replace(p, cp) != cp);
                    self.update_status(|s| {
                        s.checkpoint = cp;
                        s.caught_up = true;
                    });
                })
            };
            match result {
                Ok(()) => {
                    backoff = Duration::from_millis(50);
                    let poll = if leader { Duration::from_millis(200) } else { Duration::from_millis(20) };
                    tokio::select! {
                        _ = self.wake.notified() => {}
                        _ = tokio::time::sleep(poll) => {}
                    }
                }
                Err(e) => {
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
    }

    pub fn stop(&self) {
        self.stopping.store(true, Ordering::Relaxed);
        self.running.store(false, Ordering::Relaxed);
        self.notify();
    }

    /// Gives up leadership (PostgreSQL): closes the connection that holds the advisory
    /// lock, so another instance can lead at once rather than when this one's connections
    /// finally drop. Call after [`Projector::stop`].
    pub async fn resign(&self) {
        if let Some(conn) = self.leader.lock().await.take() {
            let _ = sqlx::Connection::close(conn).await;
            self.update_status(|s| s.leader = false);
        }
    }

    /// True while [`Projector::run`] is looping in some task.
    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::Relaxed)
    }
}

/// Replays the whole log from position 0 into emptied read models, in one transaction:
/// readers keep seeing the old read models until it commits, then the new ones.
pub async fn rebuild(db: &Db) -> Result<u64> {
    let mut tx = db.begin_write().await?;
    store::truncate(&mut tx).await?;
    let mut batch = Batch { rebuild: true, ..Batch::default() };
    let mut cp = Position::START;
    let mut total = 0u64;
    loop {
        let events = log::read_after(&mut tx, cp, 10_000).await?;
        let Some(last) = events.last().map(|e| e.position) else { break };
        for ev in &events {
            batch.apply(&mut tx, ev).await?;
        }
        total += events.len() as u64;
        cp = last;
    }
    batch.flush(&mut tx).await?;
    store::advance_checkpoint(&mut tx, MAIN, None, cp).await?;
    tx.commit().await?;
    Ok(total)
}
