//! In-memory copies of hot read-model data, kept exact by the projector.
//!
//! The projector invalidates what each committed batch changed before it publishes the new
//! checkpoint, so read-your-writes holds through the cache. A follower instance (another
//! server projects) cannot know what changed and clears everything whenever the published
//! checkpoint moves. A reader only fills the cache when no invalidation happened while it
//! read from the database (the generation check), so a slow reader never caches a stale row.
//!
//! Every kind of document is one [`Cached`] map; they share one generation counter.

use crate::model::facts::Fact;
use crate::model::{AccountView, CaseView, LawyerView, TokenView};
pub use crate::stats::StatsIndex;
use crate::store::{OffenseRow, OrganizationRow};
use std::borrow::Borrow;
use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// Beyond this many entries a map is cleared rather than grown.
const MAX_ENTRIES: usize = 200_000;

/// Counts invalidations. Bumped before anything is removed, and checked under a map's lock
/// before anything is put, so a put that raced an invalidation is dropped.
#[derive(Debug, Default)]
struct Generation(AtomicU64);

impl Generation {
    fn get(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }
    fn bump(&self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }
}

/// One kind of cached document, by key: the generation-checked map behind every
/// read-through.
pub struct Cached<K, V> {
    generation: Arc<Generation>,
    map: Mutex<HashMap<K, Arc<V>>>,
}

impl<K: Eq + Hash, V> Cached<K, V> {
    fn new(generation: Arc<Generation>) -> Self {
        Cached { generation, map: Mutex::new(HashMap::new()) }
    }

    pub fn get<Q>(&self, key: &Q) -> Option<Arc<V>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.lock().ok().and_then(|m| m.get(key).cloned())
    }

    /// Puts `value` unless anything was invalidated since the generation `seen` (read
    /// before the value was loaded).
    pub fn put(&self, seen: u64, key: K, value: Arc<V>) {
        if let Ok(mut m) = self.map.lock() {
            // Checked under the lock: invalidation bumps the generation before removing.
            if self.generation.get() != seen {
                return;
            }
            if m.len() >= MAX_ENTRIES {
                m.clear();
            }
            m.insert(key, value);
        }
    }

    /// The cached value, or `load` (a read of the read store) cached unless a batch was
    /// applied while it ran.
    pub async fn read_through<Q, E>(
        &self,
        key: &Q,
        load: impl Future<Output = Result<Option<V>, E>>,
    ) -> Result<Option<Arc<V>>, E>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        if let Some(v) = self.get(key) {
            return Ok(Some(v));
        }
        let seen = self.generation.get();
        let Some(v) = load.await? else { return Ok(None) };
        let v = Arc::new(v);
        self.put(seen, key.to_owned(), v.clone());
        Ok(Some(v))
    }

    fn remove_all<'a>(&self, keys: impl IntoIterator<Item = &'a K>)
    where
        K: 'a,
    {
        if let Ok(mut m) = self.map.lock() {
            for k in keys {
                m.remove(k);
            }
        }
    }

    fn clear(&self) {
        if let Ok(mut m) = self.map.lock() {
            m.clear();
        }
    }
}

/// The read cache of one instance. Its maps are public so that readers go through
/// [`Cached::read_through`]; only the projector invalidates.
pub struct ReadCache {
    generation: Arc<Generation>,
    pub cases: Cached<Uuid, CaseView>,
    pub lawyers: Cached<Uuid, LawyerView>,
    pub organizations: Cached<Uuid, OrganizationRow>,
    /// The whole catalogue, one entry.
    pub offenses: Cached<(), Vec<OffenseRow>>,
    /// Token and account, by the hash of the bearer secret.
    pub principals: Cached<String, (TokenView, AccountView)>,
    pub stats: StatsIndex,
}

impl Default for ReadCache {
    fn default() -> Self {
        let generation = Arc::new(Generation::default());
        ReadCache {
            cases: Cached::new(generation.clone()),
            lawyers: Cached::new(generation.clone()),
            organizations: Cached::new(generation.clone()),
            offenses: Cached::new(generation.clone()),
            principals: Cached::new(generation.clone()),
            generation,
            stats: StatsIndex::default(),
        }
    }
}

impl ReadCache {
    /// The generation to pass back to [`Cached::put`] or [`ReadCache::install_stats`]
    /// after a database read.
    pub fn generation(&self) -> u64 {
        self.generation.get()
    }

    /// What a committed batch changed: dropped, and the new case documents put in place.
    pub fn apply_changes(&self, changes: &Changes) {
        self.invalidate(changes);
        let seen = self.generation();
        for d in &changes.case_docs {
            self.cases.put(seen, d.id, d.clone());
        }
    }

    /// What a committed batch changed.
    pub fn invalidate(&self, changes: &Changes) {
        self.generation.bump();
        self.cases.remove_all(&changes.cases);
        self.lawyers.remove_all(&changes.lawyers);
        if changes.organizations {
            self.organizations.clear();
        }
        if changes.accounts {
            self.principals.clear();
        }
        if changes.offenses {
            self.offenses.clear();
        }
    }

    /// Installs a freshly loaded statistics index, unless anything was invalidated since
    /// `seen` (then the load may have missed a change and is dropped).
    pub fn install_stats(&self, seen: u64, index: crate::stats::Index) -> bool {
        // Checked under the index's lock: a batch bumps the generation before applying.
        self.stats.install(index, || self.generation() == seen)
    }

    /// Everything (a follower saw the checkpoint move; a rebuild).
    pub fn clear(&self) {
        self.generation.bump();
        self.cases.clear();
        self.lawyers.clear();
        self.organizations.clear();
        self.principals.clear();
        self.offenses.clear();
        self.stats.unload();
    }
}

/// What one batch changed, for invalidation.
#[derive(Debug, Default, Clone)]
pub struct Changes {
    pub cases: Vec<Uuid>,
    pub lawyers: Vec<Uuid>,
    pub organizations: bool,
    pub accounts: bool,
    pub offenses: bool,
    /// The new facts of each changed case, for the statistics index.
    pub facts: Vec<(Uuid, Vec<Fact>, Vec<&'static str>)>,
    /// The changed case documents as committed: they go straight into the cache.
    pub case_docs: Vec<Arc<CaseView>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_put_that_raced_an_invalidation_is_dropped() {
        let generation = Arc::new(Generation::default());
        let m: Cached<String, u32> = Cached::new(generation.clone());
        let seen = generation.get();
        generation.bump();
        m.put(seen, "a".into(), Arc::new(1));
        assert_eq!(m.get("a"), None, "loaded before the invalidation: may be stale");
        m.put(generation.get(), "a".into(), Arc::new(2));
        assert_eq!(m.get("a").as_deref(), Some(&2));
    }

    #[tokio::test]
    async fn read_through_caches_only_what_no_batch_changed_while_it_loaded() {
        let c = ReadCache::default();
        let racing = async {
            c.invalidate(&Changes { offenses: true, ..Changes::default() });
            Ok::<_, &str>(Some(vec![]))
        };
        assert!(c.offenses.read_through(&(), racing).await.unwrap().is_some(), "the caller still gets its read");
        assert!(c.offenses.get(&()).is_none());
        c.offenses.read_through(&(), async { Ok::<_, &str>(Some(vec![])) }).await.unwrap();
        assert!(c.offenses.get(&()).is_some());
        let hit = c.offenses.read_through(&(), async { Err("the cache answers without loading") }).await;
        assert!(hit.is_ok_and(|v| v.is_some()));
        c.invalidate(&Changes { offenses: true, ..Changes::default() });
        assert!(c.offenses.get(&()).is_none(), "a batch that changed the catalogue drops it");
    }
}
