//! The GraphQL schema. Names follow `API.md` exactly; resolvers check access through
//! [`crate::authz`] and go through [`crate::App`] for everything else.

pub mod enums;
pub mod mutation;
pub mod objects;
pub mod privacy;
pub mod query;
pub mod scalars;

use crate::app::App;
use crate::auth::Principal;
use crate::authz::{self, CaseScope, Op};
use crate::error::ApiError;
use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Context, EmptySubscription, Schema, ServerError, ServerResult, Variables};
use projections::model::CaseView;
use std::sync::Arc;
use uuid::Uuid;

pub type LedgerSchema = Schema<query::QueryRoot, mutation::MutationRoot, EmptySubscription>;

/// The request's correlation id, also written into event metadata and logs.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Limits that keep one request from exhausting the server. The deepest useful query
/// (`cases → edges → node → policeReports → reclassifications → from → code`) has depth 7.
pub const MAX_DEPTH: usize = 12;
/// Each field costs 1, and a paged list costs its page size times its selection
/// ([`page_complexity`]): a page of 100 cases with ~90 fields each fits, a hundred aliased
/// copies of it do not.
pub const MAX_COMPLEXITY: usize = 10_000;

/// The complexity of a paged field: its selection, once per item of the largest page the
/// request may receive (`first`, clamped as the resolvers do; 20 by default).
pub(crate) fn page_complexity(first: Option<i32>, child_complexity: usize) -> usize {
    let items = first.unwrap_or(20).clamp(1, 100) as usize;
    items.saturating_mul(child_complexity).saturating_add(1)
}

pub fn build_schema(app: Option<Arc<App>>, introspection: bool) -> LedgerSchema {
    let mut b = Schema::build(query::QueryRoot::default(), mutation::MutationRoot::default(), EmptySubscription)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .limit_recursive_depth(32)
        .limit_directives(16);
    if !introspection {
        // async-graphql alone answers `__schema` with null when introspection is off; we
        // refuse it outright so that a client knows it was refused.
        b = b.disable_introspection().extension(NoIntrospection);
    }
    if let Some(app) = app {
        b = b.data(app);
    }
    b.finish()
}

/// Refuses documents that ask for `__schema` or `__type` (`BAD_USER_INPUT`).
struct NoIntrospection;

impl ExtensionFactory for NoIntrospection {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(NoIntrospection)
    }
}

#[async_trait::async_trait]
impl Extension for NoIntrospection {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        let mut budget = 10_000;
        let asks =
            doc.operations.iter().any(|(_, op)| root_fields_include(&doc, &op.node.selection_set.node, &mut budget));
        if asks {
            let mut e = ServerError::new("introspection is disabled on this server", None);
            e.extensions.get_or_insert_with(Default::default).set("code", "BAD_USER_INPUT");
            return Err(e);
        }
        Ok(doc)
    }
}

/// Whether a root selection set (through its fragments) names `__schema` or `__type`.
/// Fragment cycles and fragment "bombs" are only rejected by validation later, so the
/// walk has a budget of selections; a document that exhausts it is refused too.
fn root_fields_include(doc: &ExecutableDocument, set: &SelectionSet, budget: &mut u32) -> bool {
    for s in &set.items {
        if *budget == 0 {
            return true;
        }
        *budget -= 1;
        let found = match &s.node {
            Selection::Field(f) => matches!(f.node.name.node.as_str(), "__schema" | "__type"),
            Selection::InlineFragment(f) => root_fields_include(doc, &f.node.selection_set.node, budget),
            Selection::FragmentSpread(f) => doc
                .fragments
                .get(&f.node.fragment_name.node)
                .is_some_and(|d| root_fields_include(doc, &d.node.selection_set.node, budget)),
        };
        if found {
            return true;
        }
    }
    false
}

/// The SDL clients depend on; `api/schema.graphql` is this, committed.
pub fn sdl() -> String {
    build_schema(None, true).sdl()
}

pub(crate) fn app<'a>(ctx: &Context<'a>) -> Result<&'a Arc<App>, ApiError> {
    ctx.data::<Arc<App>>().map_err(|_| ApiError::Internal("application state missing".into()))
}

pub(crate) fn principal<'a>(ctx: &Context<'a>) -> Result<&'a Principal, ApiError> {
    ctx.data::<Principal>().map_err(|_| ApiError::Unauthenticated)
}

pub(crate) fn request_id(ctx: &Context<'_>) -> String {
    ctx.data::<RequestId>().map(|r| r.0.clone()).unwrap_or_else(|_| Uuid::new_v4().to_string())
}

/// Checks an operation that concerns no particular case.
pub(crate) fn allow(ctx: &Context<'_>, op: Op) -> Result<(), ApiError> {
    authz::check(principal(ctx)?, op, None)
}

pub(crate) fn scope_of(view: &CaseView) -> Result<CaseScope, ApiError> {
    Ok(CaseScope {
        organization_id: Uuid::parse_str(&view.organization_id).map_err(ApiError::internal)?,
        lawyer_id: view.assignment.as_ref().and_then(|a| Uuid::parse_str(&a.lawyer_id).ok()),
        data_sharing: view.consent.data_sharing,
    })
}

pub(crate) fn parse_id(field: &'static str, id: &async_graphql::ID) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id.as_str()).map_err(|_| ApiError::BadInput(format!("{field} is not a valid ID (a UUID)")))
}

/// Loads a case and checks `op` on it: `NOT_FOUND` when it does not exist, `FORBIDDEN` when
/// the caller's role or scope does not reach it.
pub(crate) async fn case_for(ctx: &Context<'_>, id: Uuid, op: Op) -> Result<CaseView, ApiError> {
    let app = app(ctx)?;
    let view = projections::store::case_by_id(&app.db, &id.to_string())
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no case {id}")))?;
    authz::check(principal(ctx)?, op, Some(&scope_of(&view)?))?;
    Ok(view)
}
