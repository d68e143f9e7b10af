//! The one error type of the edge. It knows how to present itself to GraphQL clients and
//! never shows internals: `Internal` carries its detail only to the log.

use async_graphql::ErrorExtensions as _;
use cqrs_es::AggregateError;

///
/// It deliberately implements neither `Display` nor `std::error::Error`: async-graphql
/// converts any `Display` type into an error *without* an `extensions.code`, and this way
/// the only conversion that exists is ours, which always sets one.
#[derive(Debug, Clone)]
pub enum ApiError {
    Unauthenticated,
    Forbidden(String),
    NotFound(String),
    BadInput(String),
    Rule(String),
    Conflict,
    Unavailable,
    /// The detail is logged with the correlation id and never returned.
    Internal(String),
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthenticated => "UNAUTHENTICATED",
            ApiError::Forbidden(_) => "FORBIDDEN",
            ApiError::NotFound(_) => "NOT_FOUND",
            ApiError::BadInput(_) => "BAD_USER_INPUT",
            ApiError::Rule(_) => "RULE_VIOLATION",
            ApiError::Conflict => "CONFLICT",
            ApiError::Unavailable | ApiError::Internal(_) => "INTERNAL",
        }
    }

    /// The message a client sees.
    pub fn message(&self) -> String {
        match self {
            ApiError::Unauthenticated => "a valid bearer token is required".into(),
            ApiError::Forbidden(m) | ApiError::NotFound(m) | ApiError::BadInput(m) | ApiError::Rule(m) => m.clone(),
            ApiError::Conflict => "another change to this record was saved first; reload and retry".into(),
            ApiError::Unavailable => "the database is unavailable; retry shortly".into(),
            ApiError::Internal(_) => "internal error".into(),
        }
    }

    pub fn forbidden() -> Self {
        ApiError::Forbidden("your role or scope does not allow this".into())
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        ApiError::Internal(e.to_string())
    }

    /// Maps an aggregate's outcome: its own errors by `classify`, conflicts and storage
    /// failures uniformly.
    pub fn from_aggregate<E: std::error::Error>(e: AggregateError<E>, classify: impl FnOnce(E) -> ApiError) -> Self {
        match e {
            AggregateError::UserError(e) => classify(e),
            AggregateError::AggregateConflict => ApiError::Conflict,
            AggregateError::DatabaseConnectionError(e) => {
                tracing::warn!(error = %e, "database connection failed");
                ApiError::Unavailable
            }
            // postgres-es / sqlite-es report pool time-outs and a server shutting down as
            // unknown errors when they load a stream: they are an outage all the same.
            AggregateError::UnexpectedError(e)
                if e.downcast_ref::<sqlx::Error>().is_some_and(projections::error::is_unavailable) =>
            {
                tracing::warn!(error = %e, "database connection failed");
                ApiError::Unavailable
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<projections::Error> for ApiError {
    fn from(e: projections::Error) -> Self {
        if e.is_connection() {
            tracing::warn!(error = %e, "database connection failed");
            ApiError::Unavailable
        } else {
            ApiError::Internal(e.to_string())
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        projections::Error::from(e).into()
    }
}

impl From<domain::values::InvalidInput> for ApiError {
    fn from(e: domain::values::InvalidInput) -> Self {
        ApiError::BadInput(e.to_string())
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(e: ApiError) -> Self {
        if let ApiError::Internal(detail) = &e {
            tracing::error!(detail = %detail, "internal error");
        }
        let code = e.code();
        async_graphql::Error::new(e.message()).extend_with(|_, ext| ext.set("code", code))
    }
}
