//! `POST /graphql`: authenticates the bearer token, applies the mutation rate limit, and
//! runs the request as the caller.

use super::limits::error_response;
use super::{AppState, RequestId};
use crate::app::Caller;
use crate::error::ApiError;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use tracing::Instrument;

pub(super) async fn graphql(
    State(state): State<AppState>,
    axum::Extension(rid): axum::Extension<RequestId>,
    headers: HeaderMap,
    req: Result<GraphQLRequest, async_graphql_axum::rejection::GraphQLRejection>,
) -> Response {
    let authz = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let principal = match state.app.authenticate(authz).await {
        Ok(p) => p,
        Err(e @ ApiError::Unauthenticated) => return error_response(StatusCode::UNAUTHORIZED, e),
        Err(e @ ApiError::Unavailable) => return error_response(StatusCode::SERVICE_UNAVAILABLE, e),
        Err(e) => return error_response(StatusCode::INTERNAL_SERVER_ERROR, e),
    };
    let req = match req {
        Ok(r) => r.into_inner(),
        Err(_) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                ApiError::BadInput("the request is not a valid GraphQL request".into()),
            )
        }
    };
    if let Some(limiter) = &state.limiter {
        let is_mutation = async_graphql::parser::parse_query(&req.query).is_ok_and(|doc| {
            doc.operations.iter().any(|(_, op)| op.node.ty == async_graphql::parser::types::OperationType::Mutation)
        });
        if is_mutation {
            if let Err(wait) = limiter.take(principal.token_id) {
                let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
                state.app.metrics.rate_limited();
                let body = serde_json::json!({
                    "data": null,
                    "errors": [{
                        "message": format!("too many changes from this token; retry in {secs} s"),
                        "extensions": { "code": "FORBIDDEN", "retryAfterSeconds": secs }
                    }]
                });
                let mut resp = (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
                if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                    resp.headers_mut().insert(header::RETRY_AFTER, v);
                }
                return resp;
            }
        }
    }
    let span = tracing::info_span!("graphql", account_id = %principal.account_id, role = %principal.role);
    let caller = Caller::new(principal, rid.0);
    let mut resp = state.schema.execute(req.data(caller)).instrument(span).await;
    // Errors raised by the GraphQL engine itself (parse, validation, limits) carry no code
    // of ours; they are all the client's input.
    for e in &mut resp.errors {
        let has_code = e.extensions.as_ref().is_some_and(|x| x.get("code").is_some());
        if !has_code {
            e.extensions.get_or_insert_with(Default::default).set("code", "BAD_USER_INPUT");
        }
    }
    GraphQLResponse::from(resp).into_response()
}
