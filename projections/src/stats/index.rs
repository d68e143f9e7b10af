//! The statistics index: the fact table in memory, one column per dimension, each value a
//! small integer code from a dictionary of the dimension's values.
//!
//! `outcomeStats` is a linear scan of the columns a question needs. Each grouped fact's key
//! is its dimension codes in mixed radix (`code₀ · stride₀ + code₁ · stride₁ + …`), an index
//! into a dense array of counters — no hashing — unless the key space is too large for one,
//! and the scan is split across the machine's cores. The answer equals what a SQL `GROUP BY`
//! over `rm_fact` gives (`stats::outcome_stats`); the integration tests compare the two.
//!
//! A case's facts are a run of rows with room to spare. When a batch changes a case its run is
//! overwritten in place if the new facts fit, else the old run is marked dead and the facts
//! appended; dead rows are skipped by the scan and squeezed out once they are a fair share
//! of the table. The index is loaded on first use and kept exact by the leader projector
//! (`ReadCache::install_stats`, `StatsIndex::apply`).

use super::{Counts, Dimension, OutcomeStats, StatsFilter};
use crate::cache::Changes;
use crate::model::facts::{Fact, FactKind};
use chrono::Datelike;
use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::sync::{OnceLock, RwLock};
use uuid::Uuid;

/// The number of kinds of fact: the width of one group's counters.
const KINDS: usize = FactKind::ALL.len();

/// The kind of a row that holds no fact (a case's spare room, or a superseded fact).
const DEAD: u8 = u8::MAX;

/// Rows scanned at a time: the chunk's keys and kinds stay in the L1 cache.
const CHUNK: usize = 2048;

/// Largest dense counter array (counters, per thread): beyond it a hash map of the groups
/// that occur.
const DENSE_MAX: usize = 1 << 20;

/// Fewest rows worth a thread of their own (fewer in unit tests, so that they split too).
const ROWS_PER_THREAD: usize = if cfg!(test) { 1 << 12 } else { 1 << 16 };

/// Spare rows given to a case that outgrew its run, so that its next facts fit in place.
const SLACK: u32 = 4;

/// What the index keeps of one fact, borrowed from a [`Fact`] (or any row that holds the
/// same columns as `rm_fact`).
#[derive(Debug, Clone, Copy)]
pub struct FactRow<'a> {
    pub kind: FactKind,
    pub on: chrono::NaiveDate,
    pub gender: &'a str,
    pub age_group: &'a str,
    pub region: Option<&'a str>,
    pub country: Option<&'a str>,
    pub organization_id: Uuid,
    pub lawyer_id: Option<Uuid>,
    pub lawyer_status: Option<&'a str>,
    pub offense_category: Option<&'a str>,
    pub offense_code: Option<&'a str>,
    pub authority: Option<&'a str>,
    pub defendant_gender: Option<&'a str>,
}

impl<'a> From<&'a Fact> for FactRow<'a> {
    fn from(f: &'a Fact) -> Self {
        FactRow {
            kind: f.kind,
            on: f.on,
            gender: f.gender,
            age_group: f.age_group,
            region: f.region,
            country: f.country.as_deref(),
            organization_id: f.organization_id,
            lawyer_id: f.lawyer_id,
            lawyer_status: f.lawyer_status,
            offense_category: f.offense_category,
            offense_code: f.offense_code.as_deref(),
            authority: f.authority,
            defendant_gender: f.defendant_gender,
        }
    }
}

/// One dimension's values: code → name, value → code.
struct Dict<K> {
    codes: HashMap<K, u32>,
    names: Vec<String>,
}

impl<K> Default for Dict<K> {
    fn default() -> Self {
        Dict { codes: HashMap::new(), names: Vec::new() }
    }
}

impl<K: Hash + Eq> Dict<K> {
    fn code<Q>(&mut self, value: &Q, name: impl FnOnce(&Q) -> String) -> u32
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        if let Some(c) = self.codes.get(value) {
            return *c;
        }
        let c = self.names.len() as u32;
        self.names.push(name(value));
        self.codes.insert(value.to_owned(), c);
        c
    }

    fn find<Q>(&self, value: &Q) -> Option<u32>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.codes.get(value).copied()
    }

    fn len(&self) -> usize {
        self.names.len()
    }
}

impl Dict<String> {
    fn label(&mut self, value: &str) -> u32 {
        self.code(value, text)
    }
}

impl<K: Hash + Eq> Dict<K> {
    fn bytes(&self) -> usize {
        let entry = std::mem::size_of::<(K, u32)>() + 1;
        self.codes.capacity() * entry
            + self.names.capacity() * std::mem::size_of::<String>()
            + self.names.iter().map(String::capacity).sum::<usize>()
    }
}

/// Every dimension's dictionary.
#[derive(Default)]
struct Dicts {
    year: Dict<i32>,
    gender: Dict<String>,
    age_group: Dict<String>,
    types: Dict<String>,
    country: Dict<String>,
    region: Dict<String>,
    organization: Dict<Uuid>,
    lawyer_status: Dict<String>,
    offense_category: Dict<String>,
    offense_code: Dict<String>,
    authority: Dict<String>,
    defendant_gender: Dict<String>,
    lawyer: Dict<Uuid>,
}

fn text(s: &str) -> String {
    s.to_string()
}

/// One fact, encoded.
#[derive(Clone, Copy, Default)]
struct Row {
    kind: u8,
    on: i32,
    year: u16,
    gender: u8,
    age_group: u8,
    country: u16,
    region: u8,
    organization: u32,
    lawyer_status: u8,
    offense_category: u8,
    offense_code: u16,
    authority: u8,
    defendant_gender: u8,
    /// `u32::MAX` when the fact names no lawyer.
    lawyer: u32,
    /// The case's exploitation types, one bit per code of `Dicts::types`.
    types: u16,
}

const DEAD_ROW: Row = Row {
    kind: DEAD,
    on: 0,
    year: 0,
    gender: 0,
    age_group: 0,
    country: 0,
    region: 0,
    organization: 0,
    lawyer_status: 0,
    offense_category: 0,
    offense_code: 0,
    authority: 0,
    defendant_gender: 0,
    lawyer: u32::MAX,
    types: 0,
};

/// The rows, column by column.
#[derive(Default)]
struct Columns {
    kind: Vec<u8>,
    /// Days from the common era: the order of dates.
    on: Vec<i32>,
    year: Vec<u16>,
    gender: Vec<u8>,
    age_group: Vec<u8>,
    country: Vec<u16>,
    region: Vec<u8>,
    organization: Vec<u32>,
    lawyer_status: Vec<u8>,
    offense_category: Vec<u8>,
    offense_code: Vec<u16>,
    authority: Vec<u8>,
    defendant_gender: Vec<u8>,
    lawyer: Vec<u32>,
    types: Vec<u16>,
}

/// Bytes of one row across the columns.
const ROW_BYTES: usize = 1 + 4 + 2 + 1 + 1 + 2 + 1 + 4 + 1 + 1 + 2 + 1 + 1 + 4 + 2;

impl Columns {
    fn len(&self) -> usize {
        self.kind.len()
    }

    fn push(&mut self, r: &Row) {
        self.kind.push(r.kind);
        self.on.push(r.on);
        self.year.push(r.year);
        self.gender.push(r.gender);
        self.age_group.push(r.age_group);
        self.country.push(r.country);
        self.region.push(r.region);
        self.organization.push(r.organization);
        self.lawyer_status.push(r.lawyer_status);
        self.offense_category.push(r.offense_category);
        self.offense_code.push(r.offense_code);
        self.authority.push(r.authority);
        self.defendant_gender.push(r.defendant_gender);
        self.lawyer.push(r.lawyer);
        self.types.push(r.types);
    }

    fn set(&mut self, i: usize, r: &Row) {
        self.kind[i] = r.kind;
        self.on[i] = r.on;
        self.year[i] = r.year;
        self.gender[i] = r.gender;
        self.age_group[i] = r.age_group;
        self.country[i] = r.country;
        self.region[i] = r.region;
        self.organization[i] = r.organization;
        self.lawyer_status[i] = r.lawyer_status;
        self.offense_category[i] = r.offense_category;
        self.offense_code[i] = r.offense_code;
        self.authority[i] = r.authority;
        self.defendant_gender[i] = r.defendant_gender;
        self.lawyer[i] = r.lawyer;
        self.types[i] = r.types;
    }

    fn get(&self, i: usize) -> Row {
        Row {
            kind: self.kind[i],
            on: self.on[i],
            year: self.year[i],
            gender: self.gender[i],
            age_group: self.age_group[i],
            country: self.country[i],
            region: self.region[i],
            organization: self.organization[i],
            lawyer_status: self.lawyer_status[i],
            offense_category: self.offense_category[i],
            offense_code: self.offense_code[i],
            authority: self.authority[i],
            defendant_gender: self.defendant_gender[i],
            lawyer: self.lawyer[i],
            types: self.types[i],
        }
    }

    fn reserve(&mut self, n: usize) {
        self.kind.reserve(n);
        self.on.reserve(n);
        self.year.reserve(n);
        self.gender.reserve(n);
        self.age_group.reserve(n);
        self.country.reserve(n);
        self.region.reserve(n);
        self.organization.reserve(n);
        self.lawyer_status.reserve(n);
        self.offense_category.reserve(n);
        self.offense_code.reserve(n);
        self.authority.reserve(n);
        self.defendant_gender.reserve(n);
        self.lawyer.reserve(n);
        self.types.reserve(n);
    }

    fn capacity_bytes(&self) -> usize {
        // Every column grows together: the kind column's capacity is every column's.
        self.kind.capacity() * ROW_BYTES
    }

    /// A column of codes, for grouping and filtering.
    fn codes(&self, d: Dimension) -> Codes<'_> {
        match d {
            Dimension::Year => Codes::U16(&self.year),
            Dimension::Gender => Codes::U8(&self.gender),
            Dimension::AgeGroup => Codes::U8(&self.age_group),
            // Several values per row: grouped through the type bits instead.
            Dimension::ExploitationType => Codes::U16(&self.types),
            Dimension::CountryOfExploitation => Codes::U16(&self.country),
            Dimension::Region => Codes::U8(&self.region),
            Dimension::Organization => Codes::U32(&self.organization),
            Dimension::LawyerStatus => Codes::U8(&self.lawyer_status),
            Dimension::OffenseCategory => Codes::U8(&self.offense_category),
            Dimension::OffenseCode => Codes::U16(&self.offense_code),
            Dimension::Authority => Codes::U8(&self.authority),
            Dimension::DefendantGender => Codes::U8(&self.defendant_gender),
        }
    }
}

/// A column of codes of any width.
#[derive(Clone, Copy)]
enum Codes<'a> {
    U8(&'a [u8]),
    U16(&'a [u16]),
    U32(&'a [u32]),
}

impl Codes<'_> {
    /// `keys[i] += code(from + i) · stride`, for the chunk starting at `from`.
    fn add_to(self, keys: &mut [u64], from: usize, stride: u64) {
        let n = keys.len();
        match self {
            Codes::U8(c) => keys.iter_mut().zip(&c[from..from + n]).for_each(|(k, c)| *k += u64::from(*c) * stride),
            Codes::U16(c) => keys.iter_mut().zip(&c[from..from + n]).for_each(|(k, c)| *k += u64::from(*c) * stride),
            Codes::U32(c) => keys.iter_mut().zip(&c[from..from + n]).for_each(|(k, c)| *k += u64::from(*c) * stride),
        }
    }

    /// Marks dead, in the chunk starting at `from`, every row whose code is not `want`.
    fn keep_equal(self, kinds: &mut [u8], from: usize, want: u32) {
        let n = kinds.len();
        fn keep<T: Copy + Into<u32>>(kinds: &mut [u8], codes: &[T], want: u32) {
            for (k, c) in kinds.iter_mut().zip(codes) {
                if (*c).into() != want {
                    *k = DEAD;
                }
            }
        }
        match self {
            Codes::U8(c) => keep(kinds, &c[from..from + n], want),
            Codes::U16(c) => keep(kinds, &c[from..from + n], want),
            Codes::U32(c) => keep(kinds, &c[from..from + n], want),
        }
    }
}

/// Where a case's facts are: rows `start .. start + len`, and dead rows up to `start + cap`.
#[derive(Clone, Copy)]
struct Run {
    start: u32,
    len: u32,
    cap: u32,
}

/// The loaded index.
#[derive(Default)]
pub struct Index {
    dicts: Dicts,
    rows: Columns,
    cases: HashMap<Uuid, Run>,
    /// Rows that hold a fact.
    live: usize,
    /// A dictionary outgrew its column's width: the index cannot answer (SQL does).
    overflow: bool,
}

/// How much memory the index takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexSize {
    /// Facts held.
    pub facts: usize,
    /// Rows, dead ones (spare room, superseded facts) included.
    pub rows: usize,
    pub cases: usize,
    /// Bytes of the columns, the case map and the dictionaries (allocated capacity).
    pub bytes: usize,
}

impl Index {
    /// An index of these cases' facts and exploitation types.
    pub fn build(cases: &[(Uuid, Vec<Fact>, Vec<&'static str>)]) -> Index {
        let mut ix = Index::with_capacity(cases.iter().map(|c| c.1.len()).sum(), cases.len());
        for (id, facts, types) in cases {
            let facts: Vec<FactRow<'_>> = facts.iter().map(FactRow::from).collect();
            ix.load_case(*id, &facts, types);
        }
        ix
    }

    /// An empty index with room for `facts` facts of `cases` cases, to be filled case by
    /// case with [`Index::load_case`].
    pub fn with_capacity(facts: usize, cases: usize) -> Index {
        let mut ix = Index::default();
        ix.rows.reserve(facts);
        ix.cases.reserve(cases);
        ix
    }

    /// Adds (or replaces) one case's facts and exploitation types while loading.
    pub fn load_case(&mut self, id: Uuid, facts: &[FactRow<'_>], types: &[&str]) {
        self.set_case(id, facts, types, 0);
    }

    pub fn size(&self) -> IndexSize {
        let d = &self.dicts;
        let dicts = d.year.bytes()
            + d.gender.bytes()
            + d.age_group.bytes()
            + d.types.bytes()
            + d.country.bytes()
            + d.region.bytes()
            + d.organization.bytes()
            + d.lawyer_status.bytes()
            + d.offense_category.bytes()
            + d.offense_code.bytes()
            + d.authority.bytes()
            + d.defendant_gender.bytes()
            + d.lawyer.bytes();
        let cases = self.cases.capacity() * (std::mem::size_of::<(Uuid, Run)>() + 1);
        IndexSize {
            facts: self.live,
            rows: self.rows.len(),
            cases: self.cases.len(),
            bytes: self.rows.capacity_bytes() + cases + dicts + std::mem::size_of::<Index>(),
        }
    }

    /// A code that fits its column, or 0 and the index marked unusable.
    fn narrow<T: TryFrom<u32> + Default>(overflow: &mut bool, code: u32) -> T {
        T::try_from(code).unwrap_or_else(|_| {
            *overflow = true;
            T::default()
        })
    }

    fn encode(&mut self, f: &FactRow<'_>, types: u16) -> Row {
        let d = &mut self.dicts;
        let o = &mut self.overflow;
        let year = f.on.year();
        Row {
            kind: f.kind as u8,
            on: f.on.num_days_from_ce(),
            year: Self::narrow(o, d.year.code(&year, |y| y.to_string())),
            gender: Self::narrow(o, d.gender.label(f.gender)),
            age_group: Self::narrow(o, d.age_group.label(f.age_group)),
            country: Self::narrow(o, d.country.code(f.country.unwrap_or("UNKNOWN"), text)),
            region: Self::narrow(o, d.region.label(f.region.unwrap_or("UNKNOWN"))),
            organization: d.organization.code(&f.organization_id, Uuid::to_string),
            lawyer_status: Self::narrow(o, d.lawyer_status.label(f.lawyer_status.unwrap_or("NONE"))),
            offense_category: Self::narrow(o, d.offense_category.label(f.offense_category.unwrap_or("NONE"))),
            offense_code: Self::narrow(o, d.offense_code.code(f.offense_code.unwrap_or("NONE"), text)),
            authority: Self::narrow(o, d.authority.label(f.authority.unwrap_or("NONE"))),
            defendant_gender: Self::narrow(o, d.defendant_gender.label(f.defendant_gender.unwrap_or("NONE"))),
            lawyer: f.lawyer_id.map(|l| d.lawyer.code(&l, Uuid::to_string)).unwrap_or(u32::MAX),
            types,
        }
    }

    /// Replaces a case's facts (`slack` spare rows when they move to the end).
    fn set_case(&mut self, id: Uuid, facts: &[FactRow<'_>], types: &[&str], slack: u32) {
        let mut mask = 0u16;
        for t in types {
            let code = self.dicts.types.label(t);
            match 1u16.checked_shl(code) {
                Some(bit) if code < 16 => mask |= bit,
                _ => self.overflow = true,
            }
        }
        let rows: Vec<Row> = facts.iter().map(|f| self.encode(f, mask)).collect();
        let n = rows.len() as u32;
        let old = self.cases.get(&id).copied();
        self.live = self.live - old.map_or(0, |r| r.len as usize) + rows.len();
        match old {
            Some(run) if n <= run.cap => {
                let start = run.start as usize;
                for (i, r) in rows.iter().enumerate() {
                    self.rows.set(start + i, r);
                }
                for i in n..run.len {
                    self.rows.set(start + i as usize, &DEAD_ROW);
                }
                self.cases.insert(id, Run { len: n, ..run });
            }
            _ => {
                if let Some(run) = old {
                    for i in run.start..run.start + run.len {
                        self.rows.set(i as usize, &DEAD_ROW);
                    }
                }
                if rows.is_empty() {
                    self.cases.remove(&id);
                    return;
                }
                let start = self.rows.len();
                for r in &rows {
                    self.rows.push(r);
                }
                for _ in 0..slack {
                    self.rows.push(&DEAD_ROW);
                }
                let start = u32::try_from(start).unwrap_or_else(|_| {
                    self.overflow = true;
                    0
                });
                self.cases.insert(id, Run { start, len: n, cap: n + slack });
            }
        }
    }

    /// Squeezes out the dead rows once they are a quarter of the live ones.
    fn compact_if_sparse(&mut self) {
        let dead = self.rows.len() - self.live;
        if dead <= self.live / 4 + CHUNK {
            return;
        }
        let mut rows = Columns::default();
        rows.reserve(self.live);
        for run in self.cases.values_mut() {
            let start = rows.len() as u32;
            for i in run.start..run.start + run.len {
                rows.push(&self.rows.get(i as usize));
            }
            *run = Run { start, len: run.len, cap: run.len };
        }
        self.rows = rows;
    }

    /// `outcomeStats` by a scan; `None` when the index cannot answer (SQL does).
    fn query(&self, filter: &StatsFilter, dims: &[Dimension]) -> Option<OutcomeStats> {
        if self.overflow {
            return None;
        }
        let mut dims: Vec<Dimension> = dims.to_vec();
        let mut seen = Vec::new();
        dims.retain(|d| {
            let new = !seen.contains(d);
            seen.push(*d);
            new
        });
        let Some(plan) = Plan::new(self, filter, &dims) else {
            // A filter value that no fact has: nothing matches.
            return Some(OutcomeStats::default());
        };
        let plan = plan?;
        let total = self.rows.len();
        let threads = threads().min(total / ROWS_PER_THREAD).max(1);
        let per = total.div_ceil(threads).div_ceil(CHUNK) * CHUNK;
        let acc = if threads == 1 {
            plan.scan(&self.rows, 0, total)
        } else {
            std::thread::scope(|s| {
                let plan = &plan;
                let rows = &self.rows;
                let others: Vec<_> = (1..threads)
                    .map(|t| s.spawn(move || plan.scan(rows, (t * per).min(total), ((t + 1) * per).min(total))))
                    .collect();
                let mut acc = plan.scan(rows, 0, per.min(total));
                for o in others {
                    match o.join() {
                        Ok(a) => acc.merge(a),
                        Err(p) => std::panic::resume_unwind(p),
                    }
                }
                acc
            })
        };
        Some(plan.answer(self, acc))
    }
}

fn threads() -> usize {
    static N: OnceLock<usize> = OnceLock::new();
    *N.get_or_init(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1))
}

/// What a question asks of the columns.
struct Plan<'a> {
    dims: Vec<Dimension>,
    /// Per dimension, in order: how many values it has and its weight in the key.
    cards: Vec<u64>,
    strides: Vec<u64>,
    /// The grouping columns other than the exploitation type.
    keyed: Vec<(Codes<'a>, u64)>,
    /// The exploitation type's weight in the key, when grouped by it.
    types: Option<u64>,
    /// Distinct keys (the product of the cards).
    keys: u64,
    dense: bool,
    /// Days from the common era, inclusive.
    from: Option<i32>,
    to: Option<i32>,
    equal: Vec<(Codes<'a>, u32)>,
}

/// Counters of one part of the scan.
struct Acc {
    totals: [u64; KINDS],
    dense: Vec<u32>,
    sparse: HashMap<u64, [u32; KINDS], FastHash>,
}

impl Acc {
    fn merge(&mut self, other: Acc) {
        for (a, b) in self.totals.iter_mut().zip(other.totals) {
            *a += b;
        }
        for (a, b) in self.dense.iter_mut().zip(other.dense) {
            *a += b;
        }
        for (k, c) in other.sparse {
            let mine = self.sparse.entry(k).or_insert([0; KINDS]);
            for (a, b) in mine.iter_mut().zip(c) {
                *a += b;
            }
        }
    }
}

impl<'a> Plan<'a> {
    /// `None` when a filter names a value no fact has; `Some(None)` when the key space does
    /// not fit 64 bits (the index cannot answer).
    fn new(ix: &'a Index, f: &StatsFilter, dims: &[Dimension]) -> Option<Option<Plan<'a>>> {
        let d = &ix.dicts;
        let cols = &ix.rows;
        let mut equal = Vec::new();
        if let Some(o) = f.organization_id {
            equal.push((Codes::U32(&cols.organization), d.organization.find(&o)?));
        }
        if let Some(r) = f.region {
            equal.push((Codes::U8(&cols.region), d.region.find(r.as_str())?));
        }
        if let Some(l) = f.lawyer_id {
            equal.push((Codes::U32(&cols.lawyer), d.lawyer.find(&l)?));
        }
        if let Some(c) = f.offense_category {
            equal.push((Codes::U8(&cols.offense_category), d.offense_category.find(c.as_str())?));
        }
        let cards: Vec<u64> = dims.iter().map(|dim| ix.card(*dim) as u64).collect();
        let mut strides = vec![0u64; dims.len()];
        let mut keys: u64 = 1;
        for i in (0..dims.len()).rev() {
            strides[i] = keys;
            let Some(k) = keys.checked_mul(cards[i]) else { return Some(None) };
            keys = k;
        }
        let keyed = dims
            .iter()
            .zip(&strides)
            .filter(|(dim, _)| **dim != Dimension::ExploitationType)
            .map(|(dim, s)| (cols.codes(*dim), *s))
            .collect();
        let types = dims.iter().position(|d| *d == Dimension::ExploitationType).map(|i| strides[i]);
        let dense = usize::try_from(keys).is_ok_and(|k| k.saturating_mul(KINDS) <= DENSE_MAX);
        Some(Some(Plan {
            dims: dims.to_vec(),
            cards,
            strides,
            keyed,
            types,
            keys,
            dense,
            from: f.from.map(|d| d.num_days_from_ce()),
            to: f.to.map(|d| d.num_days_from_ce()),
            equal,
        }))
    }

    /// Counts rows `from .. to` (`from` a multiple of [`CHUNK`]).
    fn scan(&self, cols: &Columns, from: usize, to: usize) -> Acc {
        let grouped = !self.dims.is_empty() && self.keys > 0;
        let mut acc = Acc {
            totals: [0; KINDS],
            dense: if grouped && self.dense { vec![0; self.keys as usize * KINDS] } else { Vec::new() },
            sparse: HashMap::default(),
        };
        let mut keys = [0u64; CHUNK];
        let mut kinds = [0u8; CHUNK];
        let mut at = from;
        while at < to {
            let n = CHUNK.min(to - at);
            let (keys, kinds) = (&mut keys[..n], &mut kinds[..n]);
            kinds.copy_from_slice(&cols.kind[at..at + n]);
            if self.from.is_some() || self.to.is_some() {
                let (lo, hi) = (self.from.unwrap_or(i32::MIN), self.to.unwrap_or(i32::MAX));
                for (k, on) in kinds.iter_mut().zip(&cols.on[at..at + n]) {
                    if *on < lo || *on > hi {
                        *k = DEAD;
                    }
                }
            }
            for (codes, want) in &self.equal {
                codes.keep_equal(kinds, at, *want);
            }
            for k in kinds.iter() {
                if *k != DEAD {
                    acc.totals[*k as usize] += 1;
                }
            }
            if grouped {
                keys.fill(0);
                for (codes, stride) in &self.keyed {
                    codes.add_to(keys, at, *stride);
                }
                let types = &cols.types[at..at + n];
                let mut count = |key: u64, kind: u8| {
                    if self.dense {
                        acc.dense[key as usize * KINDS + kind as usize] += 1;
                    } else {
                        acc.sparse.entry(key).or_insert([0; KINDS])[kind as usize] += 1;
                    }
                };
                match self.types {
                    None => {
                        for (key, kind) in keys.iter().zip(kinds.iter()) {
                            if *kind != DEAD {
                                count(*key, *kind);
                            }
                        }
                    }
                    Some(stride) => {
                        for ((key, kind), mask) in keys.iter().zip(kinds.iter()).zip(types) {
                            if *kind == DEAD {
                                continue;
                            }
                            let mut m = *mask;
                            while m != 0 {
                                count(*key + u64::from(m.trailing_zeros()) * stride, *kind);
                                m &= m - 1;
                            }
                        }
                    }
                }
            }
            at += n;
        }
        acc
    }

    /// The counters as `outcomeStats`' answer.
    fn answer(&self, ix: &Index, acc: Acc) -> OutcomeStats {
        let counts = |c: &[u32]| -> Counts {
            c.iter().enumerate().filter(|(_, n)| **n > 0).map(|(i, n)| (FactKind::ALL[i], i64::from(*n))).collect()
        };
        let totals: Counts = acc
            .totals
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(i, n)| (FactKind::ALL[i], i64::try_from(*n).unwrap_or(i64::MAX)))
            .collect();
        let mut groups = BTreeMap::new();
        let key_of = |key: u64| -> Vec<String> {
            self.dims
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    let code = (key / self.strides[i]) % self.cards[i];
                    ix.name(*d, code as usize).to_string()
                })
                .collect()
        };
        if self.dense {
            for (key, c) in acc.dense.chunks_exact(KINDS).enumerate() {
                if c.iter().any(|n| *n > 0) {
                    groups.insert(key_of(key as u64), counts(c));
                }
            }
        } else {
            for (key, c) in &acc.sparse {
                groups.insert(key_of(*key), counts(c));
            }
        }
        OutcomeStats { totals, groups }
    }
}

impl Index {
    /// How many values a dimension has.
    fn card(&self, d: Dimension) -> usize {
        let x = &self.dicts;
        match d {
            Dimension::Year => x.year.len(),
            Dimension::Gender => x.gender.len(),
            Dimension::AgeGroup => x.age_group.len(),
            Dimension::ExploitationType => x.types.len(),
            Dimension::CountryOfExploitation => x.country.len(),
            Dimension::Region => x.region.len(),
            Dimension::Organization => x.organization.len(),
            Dimension::LawyerStatus => x.lawyer_status.len(),
            Dimension::OffenseCategory => x.offense_category.len(),
            Dimension::OffenseCode => x.offense_code.len(),
            Dimension::Authority => x.authority.len(),
            Dimension::DefendantGender => x.defendant_gender.len(),
        }
    }

    /// The value a code stands for.
    fn name(&self, d: Dimension, code: usize) -> &str {
        let x = &self.dicts;
        let names = match d {
            Dimension::Year => &x.year.names,
            Dimension::Gender => &x.gender.names,
            Dimension::AgeGroup => &x.age_group.names,
            Dimension::ExploitationType => &x.types.names,
            Dimension::CountryOfExploitation => &x.country.names,
            Dimension::Region => &x.region.names,
            Dimension::Organization => &x.organization.names,
            Dimension::LawyerStatus => &x.lawyer_status.names,
            Dimension::OffenseCategory => &x.offense_category.names,
            Dimension::OffenseCode => &x.offense_code.names,
            Dimension::Authority => &x.authority.names,
            Dimension::DefendantGender => &x.defendant_gender.names,
        };
        names.get(code).map_or("", String::as_str)
    }
}

/// The fact table in memory: `outcomeStats` answered by a scan instead of a SQL GROUP BY.
/// Loaded on first use; maintained by the leader projector.
#[derive(Default)]
pub struct StatsIndex {
    inner: RwLock<Option<Index>>,
    /// Held while the index is loaded from the database: one load at a time, however many
    /// requests find it missing at once.
    pub loading: tokio::sync::Mutex<()>,
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

    /// Puts `index` in place if `still_valid` (asked under the write lock) says so.
    pub fn install(&self, index: Index, still_valid: impl FnOnce() -> bool) -> bool {
        let Ok(mut g) = self.inner.write() else { return false };
        if !still_valid() {
            return false;
        }
        *g = Some(index);
        true
    }

    /// Applies a batch's changes when loaded.
    pub fn apply(&self, changes: &Changes) {
        if changes.facts.is_empty() {
            return;
        }
        if let Ok(mut g) = self.inner.write() {
            if let Some(ix) = g.as_mut() {
                for (id, facts, types) in &changes.facts {
                    let facts: Vec<FactRow<'_>> = facts.iter().map(FactRow::from).collect();
                    ix.set_case(*id, &facts, types, SLACK);
                }
                ix.compact_if_sparse();
            }
        }
    }

    /// Answers `outcomeStats` from memory; `None` when not loaded (or it cannot answer).
    pub fn query(&self, filter: &StatsFilter, dims: &[Dimension]) -> Option<OutcomeStats> {
        let g = self.inner.read().ok()?;
        g.as_ref()?.query(filter, dims)
    }

    /// The index's size, when loaded.
    pub fn size(&self) -> Option<IndexSize> {
        self.inner.read().ok()?.as_ref().map(Index::size)
    }
}

/// A multiplicative hasher for the integer keys of the sparse scan (SipHash's DoS
/// resistance buys nothing for keys we make ourselves).
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
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

type FastHash = std::hash::BuildHasherDefault<Fast>;

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use domain::values::{OffenseCategory, Region};

    /// A small deterministic generator (xorshift), so that failures reproduce.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
            xs[self.below(xs.len())]
        }
    }

    const GENDERS: &[&str] = &["FEMALE", "MALE", "OTHER", "UNKNOWN"];
    const AGES: &[&str] = &["MINOR", "ADULT", "UNKNOWN"];
    const REGIONS: &[Option<&str>] = &[Some("OSH"), Some("BISHKEK"), Some("NARYN"), None];
    const STATUS: &[Option<&str>] = &[Some("PROFESSIONAL"), Some("STUDENT"), None];
    const CATEGORIES: &[Option<&str>] = &[Some("TIP"), Some("TIP_RELATED"), Some("FRAUD"), Some("OTHER"), None];
    const AUTHORITIES: &[Option<&str>] = &[Some("POLICE"), Some("PROSECUTOR"), Some("COURT"), None];
    const TYPES: &[&str] = &["FORCED_LABOR", "SEXUAL", "FORCED_MARRIAGE", "OTHER"];

    /// A case of random facts over wide value sets (hundreds of offence codes, dozens of
    /// countries and organisations, so that some groupings take the sparse path).
    fn case(rng: &mut Rng, id: Uuid, orgs: &[Uuid], lawyers: &[Uuid]) -> (Uuid, Vec<Fact>, Vec<&'static str>) {
        let n = 1 + rng.below(20);
        let gender = rng.pick(GENDERS);
        let age_group = rng.pick(AGES);
        let region = rng.pick(REGIONS);
        let country = (rng.below(5) > 0).then(|| format!("C{}", rng.below(40)));
        let organization_id = rng.pick(orgs);
        let facts = (0..n)
            .map(|_| {
                let on = NaiveDate::from_ymd_opt(2000 + rng.below(25) as i32, 1, 1).unwrap()
                    + chrono::Duration::days(rng.below(365) as i64);
                let category = rng.pick(CATEGORIES);
                Fact {
                    case_id: id,
                    report_id: None,
                    kind: rng.pick(FactKind::ALL),
                    on,
                    gender,
                    age_group,
                    region,
                    country: country.clone(),
                    organization_id,
                    lawyer_id: (rng.below(4) > 0).then(|| rng.pick(lawyers)),
                    lawyer_status: rng.pick(STATUS),
                    offense_category: category,
                    offense_code: category.map(|_| format!("2021-{}", rng.below(400))),
                    authority: rng.pick(AUTHORITIES),
                    defendant_gender: (rng.below(3) == 0).then(|| rng.pick(GENDERS)),
                    amount: None,
                    currency: None,
                }
            })
            .collect();
        let types: Vec<&'static str> = TYPES.iter().copied().filter(|_| rng.below(3) == 0).collect();
        (id, facts, types)
    }

    /// The answer as SQL's GROUP BY gives it, fact by fact.
    fn reference(
        cases: &HashMap<Uuid, (Vec<Fact>, Vec<&'static str>)>,
        f: &StatsFilter,
        dims: &[Dimension],
    ) -> OutcomeStats {
        let mut out = OutcomeStats::default();
        for (facts, types) in cases.values() {
            for x in facts {
                let keep = f.from.is_none_or(|d| x.on >= d)
                    && f.to.is_none_or(|d| x.on <= d)
                    && f.organization_id.is_none_or(|o| x.organization_id == o)
                    && f.region.is_none_or(|r| x.region == Some(r.as_str()))
                    && f.lawyer_id.is_none_or(|l| x.lawyer_id == Some(l))
                    && f.offense_category.is_none_or(|c| x.offense_category == Some(c.as_str()));
                if !keep {
                    continue;
                }
                *out.totals.entry(x.kind).or_default() += 1;
                if dims.is_empty() {
                    continue;
                }
                let values = |t: &str| -> Vec<String> {
                    dims.iter()
                        .map(|d| match d {
                            Dimension::Year => x.year().to_string(),
                            Dimension::Gender => x.gender.to_string(),
                            Dimension::AgeGroup => x.age_group.to_string(),
                            Dimension::ExploitationType => t.to_string(),
                            Dimension::CountryOfExploitation => x.country.clone().unwrap_or("UNKNOWN".into()),
                            Dimension::Region => x.region.unwrap_or("UNKNOWN").to_string(),
                            Dimension::Organization => x.organization_id.to_string(),
                            Dimension::LawyerStatus => x.lawyer_status.unwrap_or("NONE").to_string(),
                            Dimension::OffenseCategory => x.offense_category.unwrap_or("NONE").to_string(),
                            Dimension::OffenseCode => x.offense_code.clone().unwrap_or("NONE".into()),
                            Dimension::Authority => x.authority.unwrap_or("NONE").to_string(),
                            Dimension::DefendantGender => x.defendant_gender.unwrap_or("NONE").to_string(),
                        })
                        .collect()
                };
                if dims.contains(&Dimension::ExploitationType) {
                    for t in types {
                        *out.groups.entry(values(t)).or_default().entry(x.kind).or_default() += 1;
                    }
                } else {
                    *out.groups.entry(values("")).or_default().entry(x.kind).or_default() += 1;
                }
            }
        }
        out
    }

    #[test]
    fn fact_kinds_are_numbered_in_declaration_order() {
        for (i, k) in FactKind::ALL.iter().enumerate() {
            assert_eq!(*k as usize, i);
        }
    }

    #[test]
    fn the_scan_answers_as_a_group_by_does_through_batches_and_compaction() {
        use Dimension as D;
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let orgs: Vec<Uuid> = (0..30).map(|i| Uuid::from_u128(1000 + i)).collect();
        let lawyers: Vec<Uuid> = (0..50).map(|i| Uuid::from_u128(2000 + i)).collect();
        // Enough facts for the scan to be split across threads.
        let ids: Vec<Uuid> = (0..3_000).map(|i| Uuid::from_u128(10_000 + i)).collect();
        let mut all: HashMap<Uuid, (Vec<Fact>, Vec<&'static str>)> = HashMap::new();
        let loaded: Vec<_> = ids.iter().map(|id| case(&mut rng, *id, &orgs, &lawyers)).collect();
        for (id, f, t) in &loaded {
            all.insert(*id, (f.clone(), t.clone()));
        }
        let index = StatsIndex::default();
        assert!(index.install(Index::build(&loaded), || true));
        let d = |s: &str| s.parse::<NaiveDate>().ok();
        let filters = [
            StatsFilter::default(),
            StatsFilter { from: d("2005-03-01"), to: d("2019-06-30"), ..Default::default() },
            StatsFilter {
                region: Some(Region::Osh),
                offense_category: Some(OffenseCategory::Tip),
                organization_id: Some(orgs[3]),
                ..Default::default()
            },
            StatsFilter { lawyer_id: Some(lawyers[7]), from: d("2010-01-01"), ..Default::default() },
            // Values no fact has: nothing matches.
            StatsFilter { organization_id: Some(Uuid::from_u128(7)), ..Default::default() },
            StatsFilter { region: Some(Region::Talas), ..Default::default() },
        ];
        let dim_sets: &[&[D]] = &[
            &[],
            &[D::Year, D::Region],
            &[D::OffenseCode, D::Gender],
            &[D::ExploitationType],
            &[D::Year, D::ExploitationType, D::AgeGroup],
            &[D::Authority, D::LawyerStatus, D::DefendantGender, D::OffenseCategory],
            // Wide enough for the sparse path.
            &[D::OffenseCode, D::CountryOfExploitation, D::Year],
            &[D::Organization, D::OffenseCode, D::ExploitationType],
            &[D::Year, D::Year, D::Gender],
        ];
        let check = |all: &HashMap<Uuid, (Vec<Fact>, Vec<&'static str>)>, round: usize| {
            for f in &filters {
                for dims in dim_sets {
                    let mut distinct = dims.to_vec();
                    distinct.dedup();
                    let got = index.query(f, dims).expect("loaded");
                    assert_eq!(got, reference(all, f, &distinct), "round {round}: {dims:?} with {f:?}");
                }
            }
        };
        check(&all, 0);
        // Batches: cases that shrink, grow (moved to the end), are new, change types.
        for round in 1..=4 {
            let mut changes = Changes::default();
            for _ in 0..800 {
                let id = if rng.below(10) == 0 {
                    Uuid::from_u128(100_000 + rng.next() as u128 % 1_000)
                } else {
                    rng.pick(&ids)
                };
                let c = case(&mut rng, id, &orgs, &lawyers);
                all.insert(id, (c.1.clone(), c.2.clone()));
                changes.facts.push(c);
            }
            index.apply(&changes);
            check(&all, round);
        }
        let size = index.size().expect("loaded");
        assert_eq!(size.facts, all.values().map(|c| c.0.len()).sum::<usize>());
        assert!(size.rows <= size.facts + size.facts / 4 + CHUNK, "dead rows are squeezed out: {size:?}");
    }
}
