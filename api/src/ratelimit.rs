//! A per-token limit on mutations: a token bucket in memory for each bearer token. Each
//! mutation field of a request takes one unit; the bucket refills at `rate` units a second
//! up to `burst`. Queries are not limited here (the depth, complexity, body and time limits
//! bound them). The buckets live in one server process: behind a load balancer each
//! instance limits on its own (docs/adr/0005-rate-limit-errors.md).

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Above this many tracked tokens, buckets that have refilled completely are forgotten
/// (a full bucket is the same as no bucket).
const PRUNE_ABOVE: usize = 4096;

/// Most selections [`mutation_fields`] looks at in one document.
const SELECTION_BUDGET: u32 = 10_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

#[derive(Debug)]
pub struct MutationLimiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<Uuid, Bucket>>,
}

/// Why a request may not run now.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Refusal {
    /// Retry after this long.
    Wait(Duration),
    /// The request alone asks for more than a full bucket: it can never run.
    TooLarge { burst: u32 },
}

impl MutationLimiter {
    /// `None` when `rate` is not positive: no limit.
    pub fn new(rate: f64, burst: u32) -> Option<MutationLimiter> {
        (rate > 0.0 && rate.is_finite()).then(|| MutationLimiter {
            rate,
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        })
    }

    /// Takes `n` units from `token`'s bucket, or says how long to wait.
    pub fn try_take(&self, token: Uuid, n: u32, now: Instant) -> Result<(), Refusal> {
        let n = f64::from(n);
        if n > self.burst {
            return Err(Refusal::TooLarge { burst: self.burst as u32 });
        }
        // A poisoned lock only means another request panicked mid-update; the counts are
        // still usable.
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > PRUNE_ABOVE {
            let (rate, burst) = (self.rate, self.burst);
            buckets.retain(|_, b| b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * rate < burst);
        }
        let b = buckets.entry(token).or_insert(Bucket { tokens: self.burst, at: now });
        b.tokens = (b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * self.rate).min(self.burst);
        b.at = now;
        if b.tokens >= n {
            b.tokens -= n;
            Ok(())
        } else {
            Err(Refusal::Wait(Duration::from_secs_f64((n - b.tokens) / self.rate)))
        }
    }
}

/// How many mutation fields the operation a request runs has (0 for a query, or when the
/// document does not parse — the schema then reports the error).
pub fn mutation_fields(query: &str, operation_name: Option<&str>) -> u32 {
    // Cheap pre-check: a document without the keyword holds no mutation.
    if !query.contains("mutation") {
        return 0;
    }
    let Ok(doc) = async_graphql::parser::parse_query(query) else { return 0 };
    let op = match (&doc.operations, operation_name) {
        (DocumentOperations::Single(op), _) => Some(op),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next(),
        _ => None,
    };
    match op {
        Some(op) if op.node.ty == OperationType::Mutation => {
            let mut budget = SELECTION_BUDGET;
            count_fields(&doc, &op.node.selection_set.node, &mut budget)
        }
        _ => 0,
    }
}

/// Root fields of a selection set, looking through fragments. Fragment cycles and
/// fragment "bombs" are only rejected later by validation, so the walk has a budget of
/// selections; a document that exhausts it counts as more than any bucket holds.
fn count_fields(doc: &ExecutableDocument, set: &SelectionSet, budget: &mut u32) -> u32 {
    let mut n = 0u32;
    for s in &set.items {
        if *budget == 0 {
            return u32::MAX;
        }
        *budget -= 1;
        let k = match &s.node {
            Selection::Field(_) => 1,
            Selection::InlineFragment(f) => count_fields(doc, &f.node.selection_set.node, budget),
            Selection::FragmentSpread(f) => doc
                .fragments
                .get(&f.node.fragment_name.node)
                .map_or(0, |d| count_fields(doc, &d.node.selection_set.node, budget)),
        };
        n = n.saturating_add(k);
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_refills_at_the_rate() {
        let l = MutationLimiter::new(2.0, 3).unwrap();
        let (t, other) = (Uuid::new_v4(), Uuid::new_v4());
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(l.try_take(t, 1, t0), Ok(()));
        }
        match l.try_take(t, 1, t0) {
            Err(Refusal::Wait(d)) => assert!((d.as_secs_f64() - 0.5).abs() < 1e-6, "{d:?}"),
            other => panic!("expected a wait, got {other:?}"),
        }
        assert_eq!(l.try_take(other, 1, t0), Ok(()), "each token has its own bucket");
        assert_eq!(l.try_take(t, 1, t0 + Duration::from_millis(500)), Ok(()));
        assert!(l.try_take(t, 1, t0 + Duration::from_millis(500)).is_err());
        assert_eq!(l.try_take(t, 3, t0 + Duration::from_secs(60)), Ok(()), "refills up to the burst only");
        assert!(l.try_take(t, 1, t0 + Duration::from_secs(60)).is_err());
        assert_eq!(l.try_take(t, 4, t0), Err(Refusal::TooLarge { burst: 3 }));
        assert!(MutationLimiter::new(0.0, 10).is_none(), "rate 0 turns the limit off");
    }

    #[test]
    fn full_buckets_are_forgotten_when_many_tokens_are_tracked() {
        let l = MutationLimiter::new(1.0, 1).unwrap();
        let t0 = Instant::now();
        for _ in 0..=PRUNE_ABOVE {
            l.try_take(Uuid::new_v4(), 1, t0).unwrap();
        }
        l.try_take(Uuid::new_v4(), 1, t0 + Duration::from_secs(5)).unwrap();
        assert_eq!(l.buckets.lock().unwrap().len(), 1);
    }

    #[test]
    fn counts_the_mutation_fields_of_the_operation_that_runs() {
        assert_eq!(mutation_fields("{ me { id } }", None), 0);
        assert_eq!(mutation_fields("query { mutationCount }", None), 0);
        assert_eq!(mutation_fields("mutation { a { id } b: a { id } }", None), 2);
        let doc = "query Q { me { id } } mutation M { a { id } ...F ... on MutationRoot { c } } \
                   fragment F on MutationRoot { b d }";
        assert_eq!(mutation_fields(doc, Some("M")), 4);
        assert_eq!(mutation_fields(doc, Some("Q")), 0);
        assert_eq!(mutation_fields(doc, None), 0, "ambiguous: the schema refuses it");
        assert_eq!(mutation_fields("mutation {", None), 0, "unparsable: the schema refuses it");
        let cycle = "mutation { ...F } fragment F on MutationRoot { a ...F }";
        assert_eq!(mutation_fields(cycle, None), u32::MAX, "a cycle counts as too many");
        let spreads = " ...B".repeat(50);
        let bomb = format!(
            "mutation {{ ...A }} fragment A on MutationRoot {{ {spreads} }} fragment B on MutationRoot {{ {} }}",
            " ...C".repeat(50)
        ) + &format!(" fragment C on MutationRoot {{ {} }}", " x".repeat(50));
        assert_eq!(mutation_fields(&bomb, None), u32::MAX, "the walk stops at its budget");
    }
}
