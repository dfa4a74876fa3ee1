//! The fallback crate's error type.

use reserv_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum FallbackError {
    /// Reading the notices failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A template failed to render: a bug in the templates, not in the input.
    #[error("the status page template failed: {0}")]
    Template(#[from] minijinja::Error),
    #[error("status.json could not be written: {0}")]
    Json(#[from] serde_json::Error),
    /// Writing the static site failed; the message names the path.
    #[error("{0}")]
    Io(String),
    /// Delivering the site to a bucket or through a command failed; the message names
    /// the target.
    #[error("{0}")]
    Publish(String),
}

pub type Result<T, E = FallbackError> = std::result::Result<T, E>;
