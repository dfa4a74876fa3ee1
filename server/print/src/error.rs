//! The print crate's error type.

use reserv_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    /// Reading the plan, routines or contacts failed or was refused.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The unit has no approved plan to print; the message names the unit.
    #[error("{0}")]
    NothingApproved(String),
    /// The template failed to render: a bug in the template, not in the input.
    #[error("the binder template failed: {0}")]
    Template(#[from] minijinja::Error),
}

pub type Result<T, E = PrintError> = std::result::Result<T, E>;
