//! The domain's one error type. Messages are written for the person who sent the request:
//! they name the field and say what is wrong with it.

use std::fmt;

/// What went wrong when applying a domain rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// The input breaks a rule; `field` names the input field (in API spelling).
    #[error("{field}: {message}")]
    Validation { field: String, message: String },
    /// The object does not exist, or the caller may not know that it exists.
    #[error("{entity} {id} was not found")]
    NotFound { entity: &'static str, id: String },
    /// The caller is known but lacks the role, unit scope or clearance.
    #[error("{0}")]
    Forbidden(String),
    /// The request is valid but clashes with the object's current state.
    #[error("{0}")]
    Conflict(String),
    /// No valid session or credentials.
    #[error("{0}")]
    Unauthenticated(String),
    /// Too many failed sign-ins; the next attempt is refused until the time has passed.
    #[error(
        "För många misslyckade inloggningar: försök igen om {retry_after_seconds} sekunder. Too many failed sign-ins: try again in {retry_after_seconds} seconds."
    )]
    TooManyAttempts { retry_after_seconds: u64 },
}

impl DomainError {
    pub fn validation(field: impl Into<String>, message: impl fmt::Display) -> Self {
        Self::Validation {
            field: field.into(),
            message: message.to_string(),
        }
    }

    pub fn not_found(entity: &'static str, id: impl fmt::Display) -> Self {
        Self::NotFound {
            entity,
            id: id.to_string(),
        }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden(message.into())
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict(message.into())
    }
}

pub type Result<T, E = DomainError> = std::result::Result<T, E>;
