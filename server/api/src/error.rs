//! The one place where store and domain errors become GraphQL errors with a stable
//! `extensions.code`. Internal errors reach the client as a generic message and the log
//! in full.

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextValidation,
};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{
    Error, ErrorExtensions, ParseRequestError, ServerError, ServerResult, ValidationResult,
    Variables,
};
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use reserv_domain::DomainError;
use reserv_store::StoreError;
use std::sync::Arc;

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
        internal @ (StoreError::Database(_) | StoreError::Location(_)) => internal_error(&internal),
    }
}

/// As [`graphql_error`], for an error that several waiting resolvers share (a failed
/// batch read).
pub(crate) fn shared_graphql_error(error: Arc<StoreError>) -> Error {
    match Arc::try_unwrap(error) {
        Ok(error) => graphql_error(error),
        Err(shared) => match &*shared {
            StoreError::Domain(domain) => domain_error(domain.clone()),
            internal @ (StoreError::Database(_) | StoreError::Location(_)) => {
                internal_error(internal)
            }
        },
    }
}

fn internal_error(error: &StoreError) -> Error {
    tracing::error!(%error, "request failed");
    Error::new("Something went wrong on the server; the error has been logged")
        .extend_with(|_, ext| ext.set("code", "INTERNAL"))
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
        DomainError::TooManyAttempts {
            retry_after_seconds,
        } => Error::new(message).extend_with(|_, ext| {
            ext.set("code", "TOO_MANY_ATTEMPTS");
            ext.set("retryAfterSeconds", retry_after_seconds);
        }),
    }
}

fn coded(message: String, code: &'static str) -> Error {
    Error::new(message).extend_with(|_, ext| ext.set("code", code))
}

/// An input that cannot even be parsed, such as an id that is not a number.
pub(crate) fn invalid_input(field: &str, message: impl std::fmt::Display) -> Error {
    domain_error(DomainError::validation(field, message))
}

/// Gives the errors async-graphql raises before any resolver runs a stable code:
/// `GRAPHQL_PARSE_FAILED` for a query that is not GraphQL, `GRAPHQL_VALIDATION_FAILED`
/// for one that does not fit the schema or its depth and complexity limits.
pub(crate) struct ErrorCodes;

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorCodes)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for ErrorCodes {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        next.run(ctx, query, variables)
            .await
            .map_err(|error| with_code(error, "GRAPHQL_PARSE_FAILED"))
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|errors| {
            errors
                .into_iter()
                .map(|error| with_code(error, "GRAPHQL_VALIDATION_FAILED"))
                .collect()
        })
    }
}

fn with_code(mut error: ServerError, code: &'static str) -> ServerError {
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code);
    error
}

/// The answer to an HTTP body that is not a GraphQL request at all: GraphQL's JSON error
/// shape with `BAD_REQUEST`, instead of the library's debug text.
pub(crate) struct BadRequestBody(ParseRequestError);

impl From<ParseRequestError> for BadRequestBody {
    fn from(error: ParseRequestError) -> Self {
        Self(error)
    }
}

impl IntoResponse for BadRequestBody {
    fn into_response(self) -> Response {
        let (status, message) = match self.0 {
            ParseRequestError::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "The request body is larger than this server accepts".to_owned(),
            ),
            other => (
                StatusCode::BAD_REQUEST,
                format!(
                    "The request body is not a GraphQL request (JSON with a \"query\" string): {other}"
                ),
            ),
        };
        let body = serde_json::json!({
            "errors": [{ "message": message, "extensions": { "code": "BAD_REQUEST" } }]
        });
        (status, Json(body)).into_response()
    }
}
