//! Cheap checks on a GraphQL document before the engine parses and validates it, so that no
//! request can exhaust the server:
//!
//! - **nesting**: the parser and the validator recurse once per level of `{`, `[` and `(`;
//!   a few kilobytes of `[[[[…` overflow a worker's stack. The raw text is scanned (strings
//!   and comments skipped) and refused beyond [`MAX_NESTING`] levels, before any parsing.
//! - **fragments**: a chain of fragments that each spread the previous one twice expands
//!   exponentially, and validation walks every expansion. The document is parsed (linear,
//!   now that nesting is bounded) and the selections it expands to are counted once per
//!   fragment (memoised); beyond [`MAX_EXPANDED_SELECTIONS`], or more than [`MAX_FRAGMENTS`]
//!   fragments, or fragments that spread each other in a cycle, it is refused.
//!
//! The same pass counts the root fields of a mutation (each alias is a separate change),
//! which the rate limit charges.

use crate::error::ApiError;
use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};
use std::collections::HashMap;
use std::sync::Arc;

/// Deepest nesting of braces, brackets and parentheses accepted. The schema's own depth
/// limit (12) and the standard introspection query stay far below it.
pub const MAX_NESTING: usize = 64;
/// Most fragments one document may define.
pub const MAX_FRAGMENTS: usize = 100;
/// Most selections a document may expand to once every fragment spread is replaced by its
/// fragment. The standard introspection query expands to a few hundred.
pub const MAX_EXPANDED_SELECTIONS: u64 = 20_000;
/// Most root fields (aliases counted one by one) a mutation request may carry: each is a
/// change, and the rate limit charges each.
pub const MAX_MUTATION_FIELDS: usize = 25;
/// Most root fields a query operation may carry: 200 aliased case lists with timelines
/// took seconds and returned megabytes.
pub const MAX_QUERY_FIELDS: usize = 30;

/// What the pre-check learned about an acceptable document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Shape {
    /// Root fields of mutation operations (aliases counted one by one).
    pub mutation_fields: usize,
    /// Selections after expanding fragments.
    pub expanded_selections: u64,
    /// Every root field of every operation is `__schema`, `__type` or `__typename`: the
    /// request only asks about the schema.
    pub introspection_only: bool,
    /// Some operation selects `__schema` or `__type` at its root (refused when introspection
    /// is off).
    pub asks_for_introspection: bool,
    /// The request selects a field whose value is a secret (client identity, a new bearer
    /// token): its answer must never be stored (see `Idempotency-Key`).
    pub selects_secret: bool,
}

/// Fields whose values are secrets.
const SECRET_FIELDS: &[&str] = &["identity", "token"];

/// Whether `set` reaches a field named in `names`. Each fragment is walked once (`seen`),
/// so doubling fragments cost linear time.
fn selects<'a>(
    doc: &'a ExecutableDocument,
    set: &'a SelectionSet,
    names: &[&str],
    seen: &mut std::collections::HashSet<&'a str>,
    level: usize,
) -> bool {
    level <= MAX_FRAGMENTS + MAX_NESTING
        && set.items.iter().any(|item| match &item.node {
            Selection::Field(f) => {
                names.contains(&f.node.name.node.as_str())
                    || selects(doc, &f.node.selection_set.node, names, seen, level + 1)
            }
            Selection::InlineFragment(f) => selects(doc, &f.node.selection_set.node, names, seen, level + 1),
            Selection::FragmentSpread(s) => {
                let name = s.node.fragment_name.node.as_str();
                seen.insert(name)
                    && doc
                        .fragments
                        .get(name)
                        .is_some_and(|d| selects(doc, &d.node.selection_set.node, names, seen, level + 1))
            }
        })
}

/// Checks `query`. `Ok(None)` when it does not parse: the engine then reports the syntax
/// error as usual (parsing is safe once the nesting is bounded).
pub fn check(query: &str) -> Result<Option<Shape>, ApiError> {
    Ok(parse_and_check(query)?.map(|(shape, _)| shape))
}

/// [`check`], and the parsed document, for the engine to run without parsing it again.
pub fn parse_and_check(query: &str) -> Result<Option<(Shape, ExecutableDocument)>, ApiError> {
    let depth = nesting(query);
    if depth > MAX_NESTING {
        return Err(ApiError::BadInput(format!(
            "the request nests {depth} levels deep; at most {MAX_NESTING} are accepted"
        )));
    }
    let Ok(doc) = async_graphql::parser::parse_query(query) else { return Ok(None) };
    Ok(Some((shape(&doc)?, doc)))
}

/// Longest document text kept by [`Documents`].
pub const MAX_KEPT_TEXT: usize = 16 << 10;
/// Most documents kept by [`Documents`]; when full, it starts over.
pub const MAX_KEPT_DOCUMENTS: usize = 512;

/// Documents that passed [`check`], by their exact text, with what the check learned:
/// clients send the same few operations again and again (the variables change, the text
/// does not), and parsing is the costliest step of a small query. The parse is reused, and
/// so is the engine's verdict on the rules that depend only on the text and the schema
/// ([`Memo::validated`]); the engine still checks every request's limits and variables,
/// and a text that fails the check is never kept.
#[derive(Default)]
pub struct Documents {
    kept: std::sync::Mutex<HashMap<String, Arc<Kept>>>,
}

/// A document kept by [`Documents`].
pub struct Kept {
    shape: Shape,
    doc: ExecutableDocument,
    /// The operations of this text (by name; `None` for a request that names none) that
    /// passed every validation rule of the strict schema at least once.
    validated: std::sync::Mutex<Vec<Option<String>>>,
}

/// Most operation names of one text remembered as validated.
const MAX_VALIDATED_OPERATIONS: usize = 16;

/// A document that passed [`check`], for the engine to run without parsing it again.
pub struct Checked {
    pub shape: Shape,
    pub doc: ExecutableDocument,
    /// What is remembered about this exact text.
    pub memo: Memo,
}

/// Where a text is kept by [`Documents`] (nowhere, for a text too long to keep).
pub struct Memo(Option<Arc<Kept>>);

impl Memo {
    /// Whether `operation` of this exact text already passed every validation rule.
    pub fn validated(&self, operation: Option<&str>) -> bool {
        self.0.as_ref().is_some_and(|k| k.validated.lock().is_ok_and(|v| v.iter().any(|o| o.as_deref() == operation)))
    }

    /// Remembers that `operation` of this text passed every validation rule.
    pub fn mark_validated(&self, operation: Option<&str>) {
        let Some(k) = &self.0 else { return };
        if let Ok(mut v) = k.validated.lock() {
            if v.len() < MAX_VALIDATED_OPERATIONS && !v.iter().any(|o| o.as_deref() == operation) {
                v.push(operation.map(str::to_string));
            }
        }
    }
}

impl Documents {
    /// [`parse_and_check`], from what was kept when this exact text was checked before.
    pub fn parse_and_check(&self, query: &str) -> Result<Option<Checked>, ApiError> {
        let keep = query.len() <= MAX_KEPT_TEXT;
        if keep {
            if let Some(hit) = self.kept.lock().ok().and_then(|m| m.get(query).cloned()) {
                return Ok(Some(Checked { shape: hit.shape, doc: hit.doc.clone(), memo: Memo(Some(hit)) }));
            }
        }
        let Some((shape, doc)) = parse_and_check(query)? else { return Ok(None) };
        let mut kept = None;
        if keep {
            if let Ok(mut m) = self.kept.lock() {
                if m.len() >= MAX_KEPT_DOCUMENTS {
                    m.clear();
                }
                let k = Arc::new(Kept { shape, doc: doc.clone(), validated: Default::default() });
                m.insert(query.to_string(), k.clone());
                kept = Some(k);
            }
        }
        Ok(Some(Checked { shape, doc, memo: Memo(kept) }))
    }
}

/// Whether every variable value is a scalar, a null or a list of them. Only such values
/// are accepted and refused alike by the validation rules and by the engine's parsing of
/// arguments when the query runs: an input object's unknown or missing fields are caught
/// by the validation alone.
pub fn variables_are_plain(variables: &async_graphql::Variables) -> bool {
    fn plain(v: &async_graphql::Value) -> bool {
        match v {
            async_graphql::Value::Object(_) => false,
            async_graphql::Value::List(items) => items.iter().all(plain),
            _ => true,
        }
    }
    variables.values().all(plain)
}

/// The deepest nesting of `{`, `[` and `(` outside strings and comments.
fn nesting(query: &str) -> usize {
    let bytes = query.as_bytes();
    let (mut depth, mut deepest, mut i) = (0usize, 0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    deepest
}

fn shape(doc: &ExecutableDocument) -> Result<Shape, ApiError> {
    if doc.fragments.len() > MAX_FRAGMENTS {
        return Err(ApiError::BadInput(format!(
            "the request defines {} fragments; at most {MAX_FRAGMENTS} are accepted",
            doc.fragments.len()
        )));
    }
    let mut memo: HashMap<&str, u64> = HashMap::new();
    let mut visiting: Vec<&str> = Vec::new();
    let mut out = Shape {
        introspection_only: true,
        asks_for_introspection: crate::graphql::asks_for_introspection(doc),
        ..Shape::default()
    };
    for (_, op) in doc.operations.iter() {
        out.introspection_only &= op.node.ty == OperationType::Query
            && op.node.selection_set.node.items.iter().all(|i| match &i.node {
                Selection::Field(f) => f.node.name.node.starts_with("__"),
                _ => false,
            });
        let n = expand(doc, &op.node.selection_set.node, &mut memo, &mut visiting)?;
        out.expanded_selections = out.expanded_selections.saturating_add(n);
        if out.expanded_selections > MAX_EXPANDED_SELECTIONS {
            return Err(ApiError::BadInput(format!(
                "the request expands to {} selections once its fragments are spread; at most {MAX_EXPANDED_SELECTIONS} are accepted",
                out.expanded_selections
            )));
        }
        // Bounded by the expansion just checked.
        let fields = root_fields(doc, &op.node.selection_set.node, 0);
        if op.node.ty == OperationType::Mutation {
            out.mutation_fields += fields;
        } else if fields > MAX_QUERY_FIELDS {
            return Err(ApiError::BadInput(format!(
                "an operation may ask for at most {MAX_QUERY_FIELDS} top-level fields (aliases count one by one); it asked for {fields}: split the request"
            )));
        }
        out.selects_secret |= selects(doc, &op.node.selection_set.node, SECRET_FIELDS, &mut Default::default(), 0);
    }
    if out.mutation_fields > MAX_MUTATION_FIELDS {
        return Err(ApiError::BadInput(format!(
            "a request may make at most {MAX_MUTATION_FIELDS} changes (mutation fields, aliases counted one by one); it has {}: send them in several requests",
            out.mutation_fields
        )));
    }
    Ok(out)
}

/// How many selections `set` stands for with every fragment spread expanded.
fn expand<'a>(
    doc: &'a ExecutableDocument,
    set: &'a SelectionSet,
    memo: &mut HashMap<&'a str, u64>,
    visiting: &mut Vec<&'a str>,
) -> Result<u64, ApiError> {
    let mut total = 0u64;
    for item in &set.items {
        let n = match &item.node {
            Selection::Field(f) => 1u64.saturating_add(expand(doc, &f.node.selection_set.node, memo, visiting)?),
            Selection::InlineFragment(f) => expand(doc, &f.node.selection_set.node, memo, visiting)?,
            Selection::FragmentSpread(s) => {
                let name = s.node.fragment_name.node.as_str();
                if let Some(n) = memo.get(name) {
                    *n
                } else if visiting.contains(&name) {
                    return Err(ApiError::BadInput(format!("fragment {name} spreads itself, directly or not")));
                } else if let Some(def) = doc.fragments.get(name) {
                    visiting.push(name);
                    let n = expand(doc, &def.node.selection_set.node, memo, visiting)?;
                    visiting.pop();
                    memo.insert(name, n);
                    n
                } else {
                    // An unknown fragment: validation names it.
                    0
                }
            }
        };
        total = total.saturating_add(n);
        if total > MAX_EXPANDED_SELECTIONS {
            // Stop counting: the answer is already "too many".
            return Ok(total);
        }
    }
    Ok(total)
}

/// The fields at the root of a mutation, through fragments (bounded: fragments are acyclic
/// and at most [`MAX_FRAGMENTS`] deep by now).
fn root_fields(doc: &ExecutableDocument, set: &SelectionSet, level: usize) -> usize {
    if level > MAX_FRAGMENTS {
        return 0;
    }
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(_) => 1,
            Selection::InlineFragment(f) => root_fields(doc, &f.node.selection_set.node, level + 1),
            Selection::FragmentSpread(s) => doc
                .fragments
                .get(s.node.fragment_name.node.as_str())
                .map_or(0, |d| root_fields(doc, &d.node.selection_set.node, level + 1)),
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_counts_brackets_outside_strings_and_comments() {
        assert_eq!(nesting("{ me { id } }"), 2);
        assert_eq!(nesting("{ a(x: [[1]]) { b } } # {{{{{{"), 4);
        assert_eq!(nesting(r#"{ a(x: "[[[[[[\"[[[") }"#), 2);
        assert_eq!(nesting("{ a(x: \"\"\"[[[[[[[[\n[[[[\"\"\") }"), 2);
    }

    #[test]
    fn a_deep_list_literal_is_refused_before_parsing() {
        let q = format!("{{ me(x: {}1{}) {{ id }} }}", "[".repeat(2_500), "]".repeat(2_500));
        let e = check(&q).unwrap_err();
        assert_eq!(e.code(), "BAD_USER_INPUT");
        assert!(e.message().contains("nests"), "{}", e.message());
        // Deep input objects likewise.
        let q = format!("{{ me(x: {}) {{ id }} }}", "{a: ".repeat(2_000) + "1" + &"}".repeat(2_000));
        assert_eq!(check(&q).unwrap_err().code(), "BAD_USER_INPUT");
    }

    #[test]
    fn doubling_fragments_are_refused_without_expanding_them() {
        let mut q = String::from("query { ...F26 }\nfragment F0 on QueryRoot { me { id } }\n");
        for i in 1..27 {
            q.push_str(&format!("fragment F{i} on QueryRoot {{ ...F{p} ...F{p} }}\n", p = i - 1));
        }
        let started = std::time::Instant::now();
        let e = check(&q).unwrap_err();
        assert!(e.message().contains("expands"), "{}", e.message());
        assert!(started.elapsed() < std::time::Duration::from_millis(200), "{:?}", started.elapsed());
    }

    #[test]
    fn cycles_and_fragment_floods_are_refused() {
        let q = "query { ...A } fragment A on QueryRoot { ...B } fragment B on QueryRoot { ...A }";
        assert!(check(q).unwrap_err().message().contains("spreads itself"));
        let mut q = String::from("query { me { id } }\n");
        for i in 0..=MAX_FRAGMENTS {
            q.push_str(&format!("fragment F{i} on QueryRoot {{ me {{ id }} }}\n"));
        }
        assert!(check(&q).unwrap_err().message().contains("fragments"));
    }

    #[test]
    fn ordinary_requests_pass_and_aliased_mutations_are_counted() {
        let s = check("{ me { id name } cases(first: 5) { edges { node { id } } } }").unwrap().unwrap();
        assert_eq!(s.mutation_fields, 0);
        assert_eq!(s.expanded_selections, 7);
        let q = "mutation { a: closeCase(input: {caseId: \"x\", reason: \"r\"}) { id } b: closeCase(input: {caseId: \"y\", reason: \"r\"}) { id } ...M } fragment M on MutationRoot { c: reopenCase(input: {caseId: \"x\", reason: \"r\"}) { id } }";
        assert_eq!(check(q).unwrap().unwrap().mutation_fields, 3);
        assert!(!check(q).unwrap().unwrap().selects_secret);
        let secret = "mutation { createAccessToken(input: {name: \"n\", role: AUDITOR}) { tokenId ...T } } fragment T on AccessTokenPayload { token }";
        assert!(check(secret).unwrap().unwrap().selects_secret);
        assert!(check("{ case(id: \"x\") { x: identity { fullName } } }").unwrap().unwrap().selects_secret);
        // A syntax error is left to the engine, which names it.
        assert_eq!(check("{ me { id ").unwrap(), None);
    }

    #[test]
    fn a_kept_document_is_what_parsing_the_text_gives() {
        let docs = Documents::default();
        let q = "query($id: ID!) { case(id: $id) { id status x: identity { fullName } } }";
        let first = docs.parse_and_check(q).unwrap().unwrap();
        let again = docs.parse_and_check(q).unwrap().unwrap();
        assert_eq!(first.shape, again.shape);
        assert!(again.shape.selects_secret);
        assert_eq!(format!("{:?}", first.doc), format!("{:?}", again.doc));
        // Refused and unparsable texts are never kept: each request is refused again.
        let deep = format!("{{ a{}{} }}", "(x: [".repeat(40), "]".repeat(40));
        assert!(docs.parse_and_check(&deep).is_err());
        assert!(docs.parse_and_check(&deep).is_err());
        assert!(docs.parse_and_check("{ me { id ").unwrap().is_none());
        assert_eq!(docs.kept.lock().unwrap().len(), 1);
    }

    #[test]
    fn the_standard_introspection_query_passes() {
        // The query GraphiQL and client libraries send (graphql-js getIntrospectionQuery).
        let s = check(INTROSPECTION).unwrap().unwrap();
        assert!(s.expanded_selections < 1_000, "{s:?}");
        assert!(s.introspection_only);
        assert!(!check("{ __typename me { id } }").unwrap().unwrap().introspection_only);
        assert!(
            !check("query A { __schema { types { name } } } mutation B { closeCase(input: {}) { id } }")
                .unwrap()
                .unwrap()
                .introspection_only
        );
    }

    #[test]
    fn a_kept_text_remembers_which_of_its_operations_passed_validation() {
        let docs = Documents::default();
        let q = "query A { me { id } } query B { me { name } }";
        let first = docs.parse_and_check(q).unwrap().unwrap();
        assert!(!first.memo.validated(Some("A")) && !first.memo.validated(None));
        first.memo.mark_validated(Some("A"));
        let again = docs.parse_and_check(q).unwrap().unwrap();
        assert!(again.memo.validated(Some("A")), "the same text, found again");
        assert!(!again.memo.validated(Some("B")) && !again.memo.validated(None), "only the operation that passed");
        assert!(
            !docs.parse_and_check("query A { me { id } }").unwrap().unwrap().memo.validated(Some("A")),
            "another text"
        );
        // A text too long to keep remembers nothing.
        let long = format!("query A {{ me {{ id }} }} # {}", "x".repeat(MAX_KEPT_TEXT));
        let kept = docs.parse_and_check(&long).unwrap().unwrap();
        kept.memo.mark_validated(Some("A"));
        assert!(!docs.parse_and_check(&long).unwrap().unwrap().memo.validated(Some("A")));
    }

    #[test]
    fn only_scalars_and_lists_of_them_are_plain_variables() {
        let vars = |v: serde_json::Value| async_graphql::Variables::from_json(v);
        assert!(variables_are_plain(&vars(serde_json::json!({}))));
        assert!(variables_are_plain(&vars(serde_json::json!({"id": "x", "n": 3, "b": null, "l": [["A"], "B"]}))));
        assert!(!variables_are_plain(&vars(serde_json::json!({"f": {"region": "BISHKEK"}}))));
        assert!(!variables_are_plain(&vars(serde_json::json!({"l": ["a", {"x": 1}]}))));
    }

    const INTROSPECTION: &str = r#"query IntrospectionQuery {
      __schema {
        queryType { name } mutationType { name } subscriptionType { name }
        types { ...FullType }
        directives { name description locations args { ...InputValue } }
      }
    }
    fragment FullType on __Type {
      kind name description
      fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
      inputFields { ...InputValue }
      interfaces { ...TypeRef }
      enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
      possibleTypes { ...TypeRef }
    }
    fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
    fragment TypeRef on __Type {
      kind name
      ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }
    }"#;
}
