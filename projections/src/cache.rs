//! In-memory copies of hot read-model data, kept exact by the projector.
//!
//! The projector invalidates what each committed batch changed before it publishes the new
//! checkpoint, so read-your-writes holds through the cache. A follower instance (another
//! server projects) cannot know what changed and clears everything whenever the published
//! checkpoint moves. A reader only fills the cache when no invalidation happened while it
//! read from the database (the generation check), so a slow reader never caches a stale row.
//!
//! Every kind of document is one [`Cached`] map; they share one generation counter.

use crate::model::facts::{Fact, FactKind};
use crate::model::{AccountView, CaseView, LawyerView, TokenView};
use crate::stats::{Counts, Dimension, OutcomeStats, StatsFilter};
use crate::store::{OffenseRow, OrganizationRow};
use chrono::Datelike;
use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
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
    pub fn install_stats(&self, seen: u64, cases: Vec<(Uuid, Vec<Fact>, Vec<&'static str>)>) -> bool {
        let mut l = Loaded::default();
        for (id, facts, types) in &cases {
            l.set_case(*id, facts, types);
        }
        let Ok(mut g) = self.stats.inner.write() else { return false };
        if self.generation() != seen {
            return false;
        }
        *g = Some(l);
        true
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

/// Dictionary encoding of dimension values.
#[derive(Default)]
struct Interner {
    ids: HashMap<String, u32>,
    names: Vec<String>,
}

impl Interner {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(i) = self.ids.get(s) {
            return *i;
        }
        let i = self.names.len() as u32;
        self.names.push(s.to_string());
        self.ids.insert(s.to_string(), i);
        i
    }
    fn find(&self, s: &str) -> Option<u32> {
        self.ids.get(s).copied()
    }
}

const DIMS: usize = 12;

/// The number of kinds of fact: the width of a counts row.
const KINDS: usize = FactKind::ALL.len();

/// A fact with every dimension as an interned value; `on` is `YYYYMMDD`.
#[derive(Clone, Copy)]
struct Packed {
    kind: u8,
    on: u32,
    /// Year, gender, age group, (exploitation: per case), country, region, organisation,
    /// lawyer status, offence category, offence code, authority; and the lawyer for filters.
    dims: [u32; DIMS],
    lawyer: u32,
}

#[derive(Default)]
struct Loaded {
    strings: Interner,
    by_case: HashMap<Uuid, (Vec<Packed>, Vec<u32>)>,
}

/// The fact table in memory: `outcomeStats` answered by a scan in microseconds per thousand
/// facts instead of a SQL GROUP BY. Loaded on first use; maintained by the leader projector.
#[derive(Default)]
pub struct StatsIndex {
    inner: RwLock<Option<Loaded>>,
    /// Held while the index is loaded from the database: one load at a time, however many
    /// requests find it missing at once.
    pub loading: tokio::sync::Mutex<()>,
}

/// `YYYYMMDD`, so that number order is date order.
fn date_num(d: chrono::NaiveDate) -> u32 {
    u32::try_from(d.year()).unwrap_or(0) * 10_000 + d.month() * 100 + d.day()
}

fn dim_index(d: Dimension) -> usize {
    match d {
        Dimension::Year => 0,
        Dimension::Gender => 1,
        Dimension::AgeGroup => 2,
        Dimension::ExploitationType => 3,
        Dimension::CountryOfExploitation => 4,
        Dimension::Region => 5,
        Dimension::Organization => 6,
        Dimension::LawyerStatus => 7,
        Dimension::OffenseCategory => 8,
        Dimension::OffenseCode => 9,
        Dimension::Authority => 10,
        Dimension::DefendantGender => 11,
    }
}

impl Loaded {
    fn pack(&mut self, f: &Fact) -> Packed {
        let s = &mut self.strings;
        let year = f.year().to_string();
        Packed {
            kind: FactKind::ALL.iter().position(|k| *k == f.kind).unwrap_or(0) as u8,
            on: date_num(f.on),
            dims: [
                s.id(&year),
                s.id(f.gender),
                s.id(f.age_group),
                0,
                s.id(f.country.as_deref().unwrap_or("UNKNOWN")),
                s.id(f.region.unwrap_or("UNKNOWN")),
                s.id(&f.organization_id.to_string()),
                s.id(f.lawyer_status.unwrap_or("NONE")),
                s.id(f.offense_category.unwrap_or("NONE")),
                s.id(f.offense_code.as_deref().unwrap_or("NONE")),
                s.id(f.authority.unwrap_or("NONE")),
                s.id(f.defendant_gender.unwrap_or("NONE")),
            ],
            lawyer: f.lawyer_id.map(|l| s.id(&l.to_string())).unwrap_or(u32::MAX),
        }
    }

    fn set_case(&mut self, case_id: Uuid, facts: &[Fact], types: &[&str]) {
        let packed: Vec<Packed> = facts.iter().map(|f| self.pack(f)).collect();
        let types: Vec<u32> = types.iter().map(|t| self.strings.id(t)).collect();
        self.by_case.insert(case_id, (packed, types));
    }
}

impl StatsIndex {
    pub fn is_loaded(&self) -> bool {
        self.inner.read().map(|g| g.is_some()).unwrap_or(false)
    }

    pub fn unload(&self) {
        if let Ok(mut g) = self.inner.write() {
            *g = None;
        }
    }

    /// Applies a batch's changes when loaded.
    pub fn apply(&self, changes: &Changes) {
        if let Ok(mut g) = self.inner.write() {
            if let Some(l) = g.as_mut() {
                for (id, facts, types) in &changes.facts {
                    l.set_case(*id, facts, types);
                }
            }
        }
    }

    /// Answers `outcomeStats` from memory; `None` when not loaded.
    pub fn query(&self, filter: &StatsFilter, dims: &[Dimension]) -> Option<OutcomeStats> {
        let g = self.inner.read().ok()?;
        let l = g.as_ref()?;
        let s = &l.strings;
        // A filter value never seen matches nothing.
        let want = |v: Option<String>| v.map(|x| s.find(&x).unwrap_or(u32::MAX - 1));
        let [_, _, org, region, lawyer, category] = filter.as_text().map(want);
        let from = filter.from.map(date_num).unwrap_or(0);
        let to = filter.to.map(date_num).unwrap_or(u32::MAX);
        let idx: Vec<usize> = dims.iter().map(|d| dim_index(*d)).collect();
        let with_types = dims.contains(&Dimension::ExploitationType);
        let mut totals = [0i64; KINDS];
        // Up to four dimensions pack into one u128 key (32 bits each) hashed cheaply; more
        // take the general path.
        let packed = idx.len() <= 4;
        let mut small: HashMap<u128, [i64; KINDS], FastHash> = HashMap::default();
        let mut groups: HashMap<Vec<u32>, [i64; KINDS]> = HashMap::new();
        let mut key = vec![0u32; idx.len()];
        for (facts, types) in l.by_case.values() {
            for f in facts {
                if f.on < from || f.on > to {
                    continue;
                }
                if org.is_some_and(|o| f.dims[6] != o)
                    || region.is_some_and(|r| f.dims[5] != r)
                    || lawyer.is_some_and(|x| f.lawyer != x)
                    || category.is_some_and(|c| f.dims[8] != c)
                {
                    continue;
                }
                totals[f.kind as usize] += 1;
                if idx.is_empty() {
                    continue;
                }
                let type_values: &[u32] = if with_types { types } else { &[0] };
                for t in type_values {
                    if packed {
                        let mut k: u128 = 0;
                        for i in &idx {
                            k = (k << 32) | u128::from(if *i == 3 { *t } else { f.dims[*i] });
                        }
                        small.entry(k).or_insert([0; KINDS])[f.kind as usize] += 1;
                        continue;
                    }
                    for (slot, i) in key.iter_mut().zip(&idx) {
                        *slot = if *i == 3 { *t } else { f.dims[*i] };
                    }
                    match groups.get_mut(&key) {
                        Some(c) => c[f.kind as usize] += 1,
                        None => {
                            let mut c = [0i64; KINDS];
                            c[f.kind as usize] = 1;
                            groups.insert(key.clone(), c);
                        }
                    }
                }
            }
        }
        for (k, c) in small {
            let n = idx.len();
            let key: Vec<u32> = (0..n).map(|j| (k >> (32 * (n - 1 - j))) as u32).collect();
            groups.insert(key, c);
        }
        let counts = |c: &[i64; KINDS]| -> Counts {
            FactKind::ALL.iter().enumerate().filter(|(i, _)| c[*i] > 0).map(|(i, k)| (*k, c[i])).collect()
        };
        let mut out = OutcomeStats { totals: counts(&totals), groups: BTreeMap::new() };
        for (k, c) in &groups {
            let key: Vec<String> = k.iter().map(|i| s.names.get(*i as usize).cloned().unwrap_or_default()).collect();
            out.groups.insert(key, counts(c));
        }
        Some(out)
    }
}

/// A multiplicative hasher for the small integer keys of the statistics scan (SipHash's
/// DoS resistance buys nothing for keys we make ourselves).
#[derive(Default, Clone, Copy)]
struct Fast(u64);

impl std::hash::Hasher for Fast {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(*b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_u128(&mut self, v: u128) {
        self.0 = (self.0.rotate_left(5) ^ (v as u64) ^ ((v >> 64) as u64).rotate_left(29))
            .wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

type FastHash = std::hash::BuildHasherDefault<Fast>;

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
