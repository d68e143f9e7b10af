//! The one error type of the application layer and its edges. Each aggregate's error has
//! its `From` here, so a use case returns `?` and every edge presents the same code and
//! message; `Internal` carries its detail only to the log.

use cqrs_es::AggregateError;
use domain::account::AccountError;
use domain::case::CaseError;
use domain::erasure::ErasureError;
use domain::lawyer::LawyerError;
use domain::offense::CatalogueError;
use domain::organization::OrganizationError;

/// What went wrong, as a client is told.
///
/// It deliberately implements neither `Display` nor `std::error::Error`: async-graphql
/// converts any `Display` type into an error *without* an `extensions.code`, and this way
/// the only conversion that exists is ours (in `graphql`), which always sets one.
#[derive(Debug, Clone, PartialEq, Eq)]
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

    /// A failure of the database: an outage reads as `Unavailable`, anything else as
    /// `Internal`.
    fn storage(e: &(dyn std::error::Error + 'static)) -> Self {
        if e.downcast_ref::<sqlx::Error>().is_some_and(projections::error::is_unavailable) {
            tracing::warn!(error = %e, "database connection failed");
            ApiError::Unavailable
        } else {
            ApiError::Internal(e.to_string())
        }
    }
}

/// An aggregate's outcome: its own errors through their `From`, conflicts and storage
/// failures uniformly.
impl<E: std::error::Error> From<AggregateError<E>> for ApiError
where
    ApiError: From<E>,
{
    fn from(e: AggregateError<E>) -> Self {
        match e {
            AggregateError::UserError(e) => e.into(),
            AggregateError::AggregateConflict => ApiError::Conflict,
            AggregateError::DatabaseConnectionError(e) => {
                tracing::warn!(error = %e, "database connection failed");
                ApiError::Unavailable
            }
            // postgres-es / sqlite-es report pool time-outs and a server shutting down as
            // unknown errors when they load a stream: they are an outage all the same.
            AggregateError::UnexpectedError(e) => ApiError::storage(e.as_ref()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<CaseError> for ApiError {
    fn from(e: CaseError) -> Self {
        if e.is_bad_input() {
            ApiError::BadInput(e.to_string())
        } else {
            ApiError::Rule(e.to_string())
        }
    }
}

impl From<LawyerError> for ApiError {
    fn from(e: LawyerError) -> Self {
        match e {
            LawyerError::NotRegistered => ApiError::NotFound(e.to_string()),
            other => ApiError::Rule(other.to_string()),
        }
    }
}

impl From<OrganizationError> for ApiError {
    fn from(e: OrganizationError) -> Self {
        match e {
            OrganizationError::NotRegistered => ApiError::NotFound(e.to_string()),
            other => ApiError::Rule(other.to_string()),
        }
    }
}

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::NotFound | AccountError::UnknownToken => ApiError::NotFound(e.to_string()),
            AccountError::MissingScope(..) | AccountError::UnexpectedScope(..) | AccountError::BadTokenHash => {
                ApiError::BadInput(e.to_string())
            }
            other => ApiError::Rule(other.to_string()),
        }
    }
}

impl From<ErasureError> for ApiError {
    fn from(e: ErasureError) -> Self {
        match e {
            ErasureError::NoPendingRequest => ApiError::NotFound(e.to_string()),
            other => ApiError::Rule(other.to_string()),
        }
    }
}

impl From<domain::figure::FigureError> for ApiError {
    fn from(e: domain::figure::FigureError) -> Self {
        ApiError::BadInput(e.to_string())
    }
}

impl From<CatalogueError> for ApiError {
    fn from(e: CatalogueError) -> Self {
        match e {
            CatalogueError::UnknownCode(_) => ApiError::NotFound(e.to_string()),
            CatalogueError::Invalid(_) => ApiError::BadInput(e.to_string()),
            other => ApiError::Rule(other.to_string()),
        }
    }
}

impl From<domain::deadline::RulesError> for ApiError {
    fn from(e: domain::deadline::RulesError) -> Self {
        use domain::deadline::RulesError as R;
        match e {
            R::UnknownRule(_) => ApiError::NotFound(e.to_string()),
            R::Invalid(_) => ApiError::BadInput(e.to_string()),
            R::AlreadyRetired(_) => ApiError::Rule(e.to_string()),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregate_errors_keep_their_kind() {
        let e: ApiError = AggregateError::<CaseError>::AggregateConflict.into();
        assert_eq!(e, ApiError::Conflict);
        let e: ApiError = AggregateError::UserError(LawyerError::NotRegistered).into();
        assert_eq!(e.code(), "NOT_FOUND");
        let e: ApiError = AggregateError::UserError(CatalogueError::UnknownCode("x".into())).into();
        assert_eq!(e.code(), "NOT_FOUND");
        let e: ApiError = AggregateError::UserError(AccountError::BadTokenHash).into();
        assert_eq!(e.code(), "BAD_USER_INPUT");
        let e: ApiError = AggregateError::UserError(CaseError::Closed).into();
        assert_eq!(e.code(), "RULE_VIOLATION");
    }

    #[test]
    fn internal_details_never_reach_the_message() {
        let e = ApiError::internal("secret detail");
        assert_eq!(e.message(), "internal error");
        assert_eq!(e.code(), "INTERNAL");
    }
}
