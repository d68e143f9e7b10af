//! The GraphQL edge. Names follow `API.md` exactly; every resolver translates its
//! arguments into an application use case (`crate::app`) and the result back, nothing more.
//! The schema is laid out by area: [`case`], [`lawyer`], [`account`], [`organization`],
//! [`catalogue`], [`stats`], [`audit`], [`privacy`].

pub mod account;
pub mod admin;
pub mod audit;
pub mod case;
pub mod catalogue;
pub mod enums;
pub mod figures;
pub mod lawyer;
pub mod organization;
pub mod privacy;
pub mod scalars;
pub mod stats;

use crate::app::{App, Caller};
use crate::error::ApiError;
use async_graphql::{Context, EmptySubscription, ErrorExtensions as _, MergedObject, Schema, ValidationMode};
use std::sync::Arc;
use uuid::Uuid;

// The query root: each part lives with its area. The order of the parts is the order of
// the fields in the committed schema.
#[derive(MergedObject, Default)]
pub struct QueryRoot(
    account::AccountQuery,
    admin::AdminQuery,
    case::query::CaseQuery,
    lawyer::LawyerQuery,
    organization::OrganizationQuery,
    catalogue::CatalogueQuery,
    stats::StatsQuery,
    audit::AuditQuery,
    privacy::PrivacyQuery,
    figures::FigureQuery,
    case::proceedings::DeadlineQuery,
);

// The mutation root, likewise.
#[derive(MergedObject, Default)]
pub struct MutationRoot(
    organization::OrganizationMutation,
    account::AccountMutation,
    admin::AdminMutation,
    catalogue::CatalogueMutation,
    case::mutation::ErasureMutation,
    lawyer::LawyerMutation,
    case::mutation::CaseMutation,
    case::mutation::ProceedingsMutation,
    figures::FigureMutation,
    case::proceedings::CourtMutation,
);

pub type LedgerSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Limits that keep one request from exhausting the server.
pub const MAX_DEPTH: usize = 12;
pub const MAX_COMPLEXITY: usize = 5_000;
/// The depth the standard introspection query of GraphiQL and client libraries needs (its
/// `TypeRef` fragment nests `ofType` seven times); used only for requests that ask about the
/// schema alone.
pub const MAX_INTROSPECTION_DEPTH: usize = 24;

pub fn build_schema(app: Option<Arc<App>>, introspection: bool) -> LedgerSchema {
    build_schema_with(app, introspection, MAX_DEPTH, ValidationMode::Strict)
}

/// The schema for a query whose exact text already passed every validation rule of
/// [`build_schema`]'s schema (`http::precheck::Documents`): the rules that depend only on
/// the document and the schema are not run again. The limits (depth, complexity, recursion,
/// directives) still hold, and variable values are still parsed as their types when the
/// query runs: a value of the wrong type is a typed error on the field that takes it.
pub fn build_validated_query_schema(app: Option<Arc<App>>, introspection: bool) -> LedgerSchema {
    build_schema_with(app, introspection, MAX_DEPTH, ValidationMode::Fast)
}

/// The schema for requests that only introspect (see `http::precheck`): data depth does not
/// apply there, since such a request reads no data.
pub fn build_introspection_schema(app: Option<Arc<App>>) -> LedgerSchema {
    build_schema_with(app, true, MAX_INTROSPECTION_DEPTH, ValidationMode::Strict)
}

fn build_schema_with(app: Option<Arc<App>>, introspection: bool, depth: usize, mode: ValidationMode) -> LedgerSchema {
    let mut b = Schema::build(QueryRoot::default(), MutationRoot::default(), EmptySubscription)
        .validation_mode(mode)
        .limit_depth(depth)
        .limit_complexity(MAX_COMPLEXITY)
        .limit_recursive_depth(32)
        .limit_directives(16);
    if !introspection {
        // "Did you mean …?" would describe the schema that introspection now hides.
        b = b.disable_introspection().disable_suggestions();
    }
    if let Some(app) = app {
        b = b.data(app);
    }
    b.finish()
}

/// With introspection off, a request for `__schema` or `__type` is refused with this typed
/// error, so a client learns why (async-graphql alone answers it with a bare `null`). The
/// HTTP handler refuses it from the pre-check's [`crate::http::precheck::Shape`]: an
/// extension on the schema would make the engine resolve every field of every query
/// through the extension chain (ADR 0021).
pub fn introspection_refused() -> async_graphql::ServerError {
    let refused = ApiError::BadInput("introspection is disabled on this server".into());
    let mut e = async_graphql::ServerError::new(refused.message(), None);
    e.extensions.get_or_insert_with(Default::default).set("code", refused.code());
    e
}

/// Whether any operation selects `__schema` or `__type` at its root, directly or through
/// fragments.
pub(crate) fn asks_for_introspection(doc: &async_graphql::parser::types::ExecutableDocument) -> bool {
    use async_graphql::parser::types::{Selection, SelectionSet};
    fn walk<'a>(
        doc: &'a async_graphql::parser::types::ExecutableDocument,
        set: &'a SelectionSet,
        seen: &mut Vec<&'a str>,
    ) -> bool {
        set.items.iter().any(|s| match &s.node {
            Selection::Field(f) => matches!(f.node.name.node.as_str(), "__schema" | "__type"),
            Selection::InlineFragment(f) => walk(doc, &f.node.selection_set.node, seen),
            Selection::FragmentSpread(spread) => {
                let name = &spread.node.fragment_name.node;
                if seen.contains(&name.as_str()) {
                    return false;
                }
                seen.push(name.as_str());
                doc.fragments.get(name).is_some_and(|f| walk(doc, &f.node.selection_set.node, seen))
            }
        })
    }
    doc.operations.iter().any(|(_, op)| walk(doc, &op.node.selection_set.node, &mut Vec::new()))
}

/// The SDL clients depend on; `api/schema.graphql` is this, committed.
pub fn sdl() -> String {
    build_schema(None, true).sdl()
}

pub(crate) type Res<T> = Result<T, ApiError>;

pub(crate) fn app<'a>(ctx: &Context<'a>) -> Res<&'a Arc<App>> {
    ctx.data::<Arc<App>>().map_err(|_| ApiError::Internal("application state missing".into()))
}

/// The authenticated caller of this request (the HTTP edge puts it there).
pub(crate) fn caller<'a>(ctx: &Context<'a>) -> Res<&'a Caller> {
    ctx.data::<Caller>().map_err(|_| ApiError::Unauthenticated)
}

pub(crate) fn parse_id(field: &'static str, id: &async_graphql::ID) -> Res<Uuid> {
    Uuid::parse_str(id.as_str()).map_err(|_| ApiError::BadInput(format!("{field} is not a valid ID (a UUID)")))
}

pub(crate) fn opt_id(field: &'static str, id: &Option<async_graphql::ID>) -> Res<Option<Uuid>> {
    id.as_ref().map(|i| parse_id(field, i)).transpose()
}

/// Every error a client sees carries `extensions.code`; internal details go to the log.
impl From<ApiError> for async_graphql::Error {
    fn from(e: ApiError) -> Self {
        if let ApiError::Internal(detail) = &e {
            tracing::error!(detail = %detail, "internal error");
        }
        let code = e.code();
        async_graphql::Error::new(e.message()).extend_with(|_, ext| ext.set("code", code))
    }
}
