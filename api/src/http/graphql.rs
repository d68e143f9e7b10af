//! `POST /graphql`: authenticates the bearer token, applies the mutation rate limit, and
//! runs the request as the caller.

use super::limits::error_response;
use super::{precheck, AppState, RequestId};
use crate::app::idempotency::{parse_key, Claim};
use crate::app::Caller;
use crate::error::ApiError;
use async_graphql_axum::GraphQLRequest;
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
    // GraphQL over HTTP: a POST carries JSON.
    if !is_json(&headers) {
        return error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::BadInput("send the request as JSON (Content-Type: application/json)".into()),
        );
    }
    let graphql_response_json = accepts_graphql_response_json(&headers);
    let authz = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let principal = match state.app.authenticate(authz).await {
        Ok(p) => p,
        Err(e @ ApiError::Unauthenticated) => {
            let mut resp = error_response(StatusCode::UNAUTHORIZED, e);
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"probono\""));
            return resp;
        }
        Err(e @ ApiError::Unavailable) => return error_response(StatusCode::SERVICE_UNAVAILABLE, e),
        Err(e) => return error_response(StatusCode::INTERNAL_SERVER_ERROR, e),
    };
    let mut req = match req {
        Ok(r) => r.into_inner(),
        Err(_) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                ApiError::BadInput("the request is not a valid GraphQL request".into()),
            )
        }
    };
    // Before the engine parses or validates anything: bounded nesting and expansion.
    let (shape, memo) = match state.documents.parse_and_check(&req.query) {
        Ok(Some(checked)) => {
            // The engine runs the document checked here instead of parsing the text again.
            req.set_parsed_query(checked.doc);
            (Some(checked.shape), Some(checked.memo))
        }
        Ok(None) => (None, None),
        Err(e) => return error_response(StatusCode::BAD_REQUEST, e),
    };
    // Every mutation field is a change: the limit charges aliases one by one.
    let changes = shape.map_or(0, |s| s.mutation_fields);
    if let Some(limiter) = state.limiter.as_ref().filter(|_| changes > 0) {
        if let Err(wait) = limiter.take_n(principal.token_id, changes) {
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
    let span = tracing::info_span!("graphql", account_id = %principal.account_id, role = %principal.role);
    let caller = Caller::new(principal, rid.id).with_client_request_id(rid.client);
    // Idempotency-Key: for changes only (a query changes nothing to repeat).
    let idempotency = match headers.get("idempotency-key").map(|v| v.to_str().unwrap_or("\u{0}")) {
        Some(raw) if shape.is_some_and(|s| s.mutation_fields > 0) => match parse_key(raw) {
            Ok(key) => Some(key),
            Err(e) => return error_response(StatusCode::BAD_REQUEST, e),
        },
        _ => None,
    };
    if let Some(key) = &idempotency {
        match state.app.claim_idempotent(&caller, key, &request_hash(&req)).await {
            Ok(Claim::New) => {}
            Ok(Claim::Replay { status, response: Some(body) }) => {
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
                let media =
                    if graphql_response_json { "application/graphql-response+json" } else { "application/json" };
                let mut resp = (status, [(header::CONTENT_TYPE, media)], body).into_response();
                resp.headers_mut().insert(IDEMPOTENT_REPLAY, HeaderValue::from_static("true"));
                return resp;
            }
            Ok(Claim::Replay { response: None, .. }) => {
                let e = ApiError::Rule(
                    "this change was already made with this Idempotency-Key; its answer held a secret and was not kept: read the record again".into(),
                );
                let mut resp = error_response(StatusCode::OK, e);
                resp.headers_mut().insert(IDEMPOTENT_REPLAY, HeaderValue::from_static("true"));
                return resp;
            }
            Ok(Claim::Mismatch) => {
                let e = ApiError::BadInput(
                    "this Idempotency-Key was already used for a different request; send a new key with each new change".into(),
                );
                return error_response(StatusCode::UNPROCESSABLE_ENTITY, e);
            }
            Ok(Claim::InFlight) => {
                return error_response(StatusCode::CONFLICT, ApiError::Conflict);
            }
            Err(e) => return error_response(StatusCode::SERVICE_UNAVAILABLE, e),
        }
    }
    // A query (never a change) whose text already passed every validation rule skips the
    // rules that depend only on the text; see `build_validated_query_schema`.
    let query_only = shape.is_some_and(|s| s.mutation_fields == 0 && !s.introspection_only);
    let operation = req.operation_name.clone();
    let validated_before = query_only
        && precheck::variables_are_plain(&req.variables)
        && memo.as_ref().is_some_and(|m| m.validated(operation.as_deref()));
    let schema = match (&state.introspection_schema, shape) {
        (Some(introspection), Some(s)) if s.introspection_only => introspection,
        _ if validated_before => {
            state.app.metrics.validation_reused();
            &state.validated_query_schema
        }
        _ => &state.schema,
    };
    let mut resp = if state.introspection_schema.is_none() && shape.is_some_and(|s| s.asks_for_introspection) {
        async_graphql::Response::from_errors(vec![crate::graphql::introspection_refused()])
    } else {
        schema.execute(req.data(caller.clone())).instrument(span).await
    };
    // A request that failed validation has no data; one with data passed every rule.
    if query_only && !validated_before && resp.data != async_graphql::Value::Null {
        if let Some(m) = &memo {
            m.mark_validated(operation.as_deref());
        }
    }
    // Errors raised by the GraphQL engine itself (parse, validation, limits) carry no code
    // of ours; they are all the client's input.
    let mut engine_errors = 0;
    for e in &mut resp.errors {
        let has_code = e.extensions.as_ref().is_some_and(|x| x.get("code").is_some());
        if !has_code {
            engine_errors += 1;
            e.extensions.get_or_insert_with(Default::default).set("code", "BAD_USER_INPUT");
        }
    }
    // A request that could not run at all (it did not parse or validate) has no data.
    let request_error =
        resp.data == async_graphql::Value::Null && !resp.errors.is_empty() && engine_errors == resp.errors.len();
    let (status, mut bytes) = respond(&resp, request_error, graphql_response_json);
    if bytes.len() > MAX_RESPONSE_BYTES {
        let changed = shape.is_some_and(|s| s.mutation_fields > 0);
        let e = ApiError::BadInput(if changed {
            format!(
                "the change was made, but its answer is larger than {} MB: read the record back with fewer fields",
                MAX_RESPONSE_BYTES >> 20
            )
        } else {
            format!(
                "the answer is larger than {} MB: ask for fewer fields or a smaller page (`first`)",
                MAX_RESPONSE_BYTES >> 20
            )
        });
        tracing::warn!(bytes = bytes.len(), "answer too large, refused");
        let body = serde_json::json!({ "data": null, "errors": [{ "message": e.message(), "extensions": { "code": e.code() } }] });
        bytes = serde_json::to_vec(&body).unwrap_or_default();
    }
    if let Some(key) = &idempotency {
        // An answer that holds a secret is never stored; a replay then says the change was made.
        let keep = (!shape.is_some_and(|s| s.selects_secret)).then(|| String::from_utf8_lossy(&bytes).into_owned());
        // Only a change with a key reads its answer back (to know whether it may be retried).
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        // Released for a retry only when nothing was changed and the failure was not the
        // request's fault (a conflict, the store unavailable).
        let nothing_changed = match &body["data"] {
            serde_json::Value::Object(fields) => fields.values().all(serde_json::Value::is_null),
            _ => true,
        };
        let retryable = nothing_changed
            && body["errors"].as_array().is_some_and(|errors| {
                errors
                    .iter()
                    .any(|e| matches!(e["extensions"]["code"].as_str(), Some("CONFLICT" | "UNAVAILABLE" | "INTERNAL")))
            });
        let recorded = if retryable {
            state.app.release_idempotent(&caller, key).await
        } else {
            state.app.finish_idempotent(&caller, key, status.as_u16(), keep.as_deref()).await
        };
        if let Err(e) = recorded {
            tracing::warn!(code = e.code(), "could not record the answer of an idempotent request");
        }
    }
    let media = if graphql_response_json { "application/graphql-response+json" } else { "application/json" };
    (status, [(header::CONTENT_TYPE, media)], bytes).into_response()
}

/// Largest answer sent: beyond it, the client is asked for less.
pub const MAX_RESPONSE_BYTES: usize = 4 << 20;

/// Set on an answer that repeats the first answer to the same Idempotency-Key.
const IDEMPOTENT_REPLAY: &str = "idempotent-replayed";

/// What identifies "the same request" for an Idempotency-Key: the document, the operation
/// and the variables.
fn request_hash(req: &async_graphql::Request) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(req.query.as_bytes());
    h.update([0]);
    h.update(req.operation_name.as_deref().unwrap_or("").as_bytes());
    h.update([0]);
    h.update(serde_json::to_vec(&req.variables).unwrap_or_default());
    hex::encode(h.finalize())
}

/// The answer in the media type the client accepts (GraphQL over HTTP):
/// `application/graphql-response+json`, where a request error is a 400 without `data`; or
/// plain `application/json`, always 200, for clients that accept only that. Serialised
/// straight from the engine's response, fields in the order the query asked for them.
fn respond(resp: &async_graphql::Response, request_error: bool, graphql_response_json: bool) -> (StatusCode, Vec<u8>) {
    /// A response without `data`: what `async_graphql::Response` serialises, less `data`.
    #[derive(serde::Serialize)]
    struct WithoutData<'a> {
        #[serde(skip_serializing_if = "no_extensions")]
        extensions: &'a std::collections::BTreeMap<String, async_graphql::Value>,
        #[serde(skip_serializing_if = "no_errors")]
        errors: &'a [async_graphql::ServerError],
    }
    fn no_extensions(x: &&std::collections::BTreeMap<String, async_graphql::Value>) -> bool {
        x.is_empty()
    }
    fn no_errors(x: &&[async_graphql::ServerError]) -> bool {
        x.is_empty()
    }
    let without_data = graphql_response_json && request_error;
    let written = if without_data {
        serde_json::to_vec(&WithoutData { extensions: &resp.extensions, errors: &resp.errors })
    } else {
        serde_json::to_vec(resp)
    };
    match written {
        Ok(bytes) => (if without_data { StatusCode::BAD_REQUEST } else { StatusCode::OK }, bytes),
        Err(e) => {
            tracing::error!(error = %e, "could not serialise a GraphQL response");
            let e = ApiError::internal(e);
            let error = serde_json::json!({ "message": e.message(), "extensions": { "code": e.code() } });
            let body = serde_json::json!({ "data": null, "errors": [error] });
            (StatusCode::INTERNAL_SERVER_ERROR, serde_json::to_vec(&body).unwrap_or_default())
        }
    }
}

/// The body is JSON (`application/json`, any parameters).
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

/// The client accepts `application/graphql-response+json`; otherwise (`application/json`,
/// `*/*` or no `Accept`) the answer is plain `application/json`.
fn accepts_graphql_response_json(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT).iter().filter_map(|v| v.to_str().ok()).any(|v| {
        v.split(',').any(|m| {
            let mut parts = m.split(';');
            let media = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| p.trim().replace(' ', "") == "q=0");
            media.eq_ignore_ascii_case("application/graphql-response+json") && !refused
        })
    })
}
