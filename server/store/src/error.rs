//! The store's error type: a broken domain rule, or the database failing underneath.

use reserv_domain::DomainError;
use sea_orm::{DbErr, SqlErr};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A rule, permission or lookup failed; the message is for the user.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The database URL cannot be served.
    #[error("{0}")]
    Location(String),
    /// The database failed; the detail is for the log, not the user.
    #[error("database error: {0}")]
    Database(#[from] DbErr),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl StoreError {
    /// Whether the database refused a row that repeats a unique key.
    pub(crate) fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Database(db)
            if matches!(db.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))))
    }

    /// Turns a unique-constraint violation into a conflict the user can act on.
    pub(crate) fn on_duplicate(self, message: impl FnOnce() -> String) -> Self {
        if self.is_unique_violation() {
            StoreError::Domain(DomainError::conflict(message()))
        } else {
            self
        }
    }
}
