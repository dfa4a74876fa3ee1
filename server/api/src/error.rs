//! The one place where store and domain errors become GraphQL errors with a stable
//! `extensions.code`. Internal errors reach the client as a generic message and the log
//! in full.

use async_graphql::{Error, ErrorExtensions};
use reserv_domain::DomainError;
use reserv_store::StoreError;

/// Converts a store result into a GraphQL result with the right code. Use it on every
/// store call: a bare `?` would turn the error into a message without a code.
pub(crate) trait ApiResult<T> {
    fn api(self) -> async_graphql::Result<T>;
}

impl<T> ApiResult<T> for Result<T, StoreError> {
    fn api(self) -> async_graphql::Result<T> {
        self.map_err(graphql_error)
    }
}

impl<T> ApiResult<T> for Result<T, DomainError> {
    fn api(self) -> async_graphql::Result<T> {
        self.map_err(|error| graphql_error(StoreError::Domain(error)))
    }
}

pub(crate) fn graphql_error(error: StoreError) -> Error {
    match error {
        StoreError::Domain(domain) => domain_error(domain),
        internal @ (StoreError::Database(_) | StoreError::Location(_)) => {
            tracing::error!(error = %internal, "request failed");
            Error::new("Something went wrong on the server; the error has been logged")
                .extend_with(|_, ext| ext.set("code", "INTERNAL"))
        }
    }
}

fn domain_error(error: DomainError) -> Error {
    let message = error.to_string();
    match error {
        DomainError::Validation { field, .. } => Error::new(message).extend_with(|_, ext| {
            ext.set("code", "VALIDATION");
            ext.set("field", field.as_str());
        }),
        DomainError::NotFound { .. } => coded(message, "NOT_FOUND"),
        DomainError::Forbidden(_) => coded(message, "FORBIDDEN"),
        DomainError::Conflict(_) => coded(message, "CONFLICT"),
        DomainError::Unauthenticated(_) => coded(message, "UNAUTHENTICATED"),
    }
}

fn coded(message: String, code: &'static str) -> Error {
    Error::new(message).extend_with(|_, ext| ext.set("code", code))
}

/// An input that cannot even be parsed, such as an id that is not a number.
pub(crate) fn invalid_input(field: &str, message: impl std::fmt::Display) -> Error {
    domain_error(DomainError::validation(field, message))
}
