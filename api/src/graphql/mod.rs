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
use async_graphql::{Context, EmptySubscription, Schema};
use projections::model::CaseView;
use std::sync::Arc;
use uuid::Uuid;

pub type LedgerSchema = Schema<query::QueryRoot, mutation::MutationRoot, EmptySubscription>;

/// The request's correlation id, also written into event metadata and logs.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Limits that keep one request from exhausting the server.
pub const MAX_DEPTH: usize = 12;
pub const MAX_COMPLEXITY: usize = 5_000;

pub fn build_schema(app: Option<Arc<App>>, introspection: bool) -> LedgerSchema {
    let mut b = Schema::build(query::QueryRoot::default(), mutation::MutationRoot::default(), EmptySubscription)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .limit_recursive_depth(32)
        .limit_directives(16);
    if !introspection {
        b = b.disable_introspection();
    }
    if let Some(app) = app {
        b = b.data(app);
    }
    b.finish()
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
